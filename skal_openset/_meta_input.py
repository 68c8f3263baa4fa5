"""Meta-input conversion: raw purity and informativeness scores to MQ-Net inputs."""

from __future__ import annotations

import copy
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
)
from sklearn.preprocessing import QuantileTransformer, StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._float_events import flushing_underflow
from ._typing import RealLike, fit_context
from ._validation import (
    finite_inputs,
    refuse_no_columns,
    refuse_sparse,
    reject_bool_numbers,
)


class MetaInputTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Convert raw scores to the non-negative meta-input of MQ-Net.

    With ``scaling="exp_zscore"`` (the paper's conversion) each column is
    standardised with the mean and population standard deviation learnt in
    `fit` and then exponentiated, so the result is strictly positive, as the
    paper's skyline theorem asks. With
    ``scaling="quantile"`` each column is mapped to its empirical CDF over
    the fitted scores (values in [0, 1], interpolated between the fitted
    values, or between 1000 of their quantiles for more rows, as
    :class:`~sklearn.preprocessing.QuantileTransformer` does; a constant
    column, e.g. every column of a one-row fit, maps to 0 up to its value,
    that value included, and to 1 above it); this keeps the order but
    ignores the scale, so a heavy-tailed score (e.g. the uncertainty of a
    confident model, whose few large values become ``exp(5)`` or more)
    cannot drown the other one in a sum. Ignores it up to rounding: the
    interpolation's rounding errors (~1e-16) depend on the scale, and they
    order rows whose sum of the two columns would tie exactly (sums of
    ranks tie often), so scaling a score by other than a power of 2 can
    change which of such rows rank first. Fit it on the **unlabelled pool**
    of the round and apply the same transform to every set scored in that
    round (the pool and the query set that later trains the selector), so
    that training and querying see one scale.

    Columns must be oriented "higher is preferred": pass purity scores
    (e.g. ``-O(x)`` for an OOD score ``O``) and informativeness scores as
    they are.

    Parameters
    ----------
    scaling : {"exp_zscore", "quantile"}, default="exp_zscore"
        The conversion; see above.
    clip : float, default=20.0
        With ``"exp_zscore"``, standardised scores are clipped to
        ``[-clip, clip]`` before the exponential, so that extreme outliers
        cannot overflow; at most 700 (``exp(710)`` is infinite).

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means of the fitted scores (``"exp_zscore"``).
    scale_ : ndarray of shape (n_features,)
        Column population standard deviations (``"exp_zscore"``). A constant
        column has its largest magnitude instead (1 if it is all zeros), so
        that its score maps to ``exp(0) = 1`` rather than NaN. As in
        :class:`~sklearn.preprocessing.StandardScaler`, a column whose values
        differ by float rounding only counts as constant: they map to 1 up to
        rounding. With ``"quantile"``: the largest power of 2 up to each
        column's largest magnitude (1 for a column of zeros), by which scores
        are divided before their CDF, so that tiny scores cannot overflow its
        interpolation.
    quantile_transformer_ : QuantileTransformer
        The fitted empirical CDFs (``"quantile"``), of the scores divided by
        `scale_`.
    n_features_in_ : int
        Number of score columns seen in `fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from skal_openset import MetaInputTransformer
    >>> pool_scores = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> MetaInputTransformer().fit_transform(pool_scores).round(3)
    array([[0.294, 1.   ],
           [1.   , 1.   ],
           [3.403, 1.   ]])
    """

    _parameter_constraints: dict = {
        "scaling": [StrOptions({"exp_zscore", "quantile"})],
        # exp(700) is finite in float64, exp(710) is not.
        "clip": [Interval(Real, 0, 700, closed="right")],
    }

    def __init__(self, scaling: str = "exp_zscore", clip: RealLike = 20.0) -> None:
        self.scaling = scaling
        self.clip = clip

    def _validate_params(self) -> None:
        super()._validate_params()
        reject_bool_numbers(self)

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: Any = None) -> MetaInputTransformer:
        """Learn each column's statistics (mean and std, or quantiles).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Raw scores of the unlabelled pool.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        refuse_sparse(X, "X")
        refuse_no_columns(X, self)
        with finite_inputs():
            X = validate_data(self, X, dtype=np.float64)
        # A refit with the other scaling must not leave this one's statistics.
        for name in ("quantile_transformer_", "mean_", "scale_"):
            self.__dict__.pop(name, None)
        if self.scaling == "quantile":
            # subsample=None: the CDF of the whole pool; the default draws an
            # unseeded 10,000-row subsample, so large pools were not reproducible.
            # Arrays out whatever scikit-learn's transform_output: transform
            # indexes them (this transformer's own output still follows it).
            # Scores in units of a power of 2 near their column's peak (exact,
            # so the CDF is unchanged): between tiny fitted values, e.g.
            # subnormal ones, the interpolation's slopes overflowed to NaN.
            self.scale_ = _power_of_2_scale(X)
            # Its interpolation of subnormal scores underflows, to the same
            # result as under numpy's defaults.
            with flushing_underflow():
                self.quantile_transformer_ = (
                    QuantileTransformer(n_quantiles=min(1000, len(X)), subsample=None)
                    .set_output(transform="default")
                    .fit(X / self.scale_)
                )
        else:
            # Statistics of X / max|X|, scaled back: StandardScaler's sums
            # overflow to inf (then NaN) for values near the float64 limit.
            peak = _column_peaks(X)
            # Values far below their column's peak, and statistics of
            # subnormal columns scaled back, go to 0 (handled below).
            with flushing_underflow():
                scaler = StandardScaler().fit(X / peak)
                self.mean_ = scaler.mean_ * peak
                # StandardScaler's scale_ is the std except for the columns its
                # test (a variance within rounding error) finds constant: 1
                # there, scaled back to the column's peak, so that their
                # rounding differences stay ~0 (a scale of 1 in raw units
                # turned those of values near 1e16 into exp(+-20)).
                scale = scaler.scale_ * peak
            # 1 where scaling back underflows (subnormal columns).
            self.scale_ = np.where(scale == 0, 1.0, scale)
        return self

    def __setstate__(self, state):
        # Fitted before the quantile scaling divided scores by scale_
        # (2026-12-03), a state had none (an AttributeError at the next
        # query of a saved MQ-Net learner). Its quantiles, of the raw scores,
        # hold their extremes: scaled as fit now scales the scores (by powers
        # of 2, exactly), they give the CDF it gave, which transform's clip
        # of the scaled scores keeps.
        quantile = state.get("quantile_transformer_")
        if quantile is not None and "scale_" not in state:
            state["scale_"] = _power_of_2_scale(quantile.quantiles_)
            # A copy: another object of the same pickle may hold it too.
            quantile = state["quantile_transformer_"] = copy.copy(quantile)
            quantile.quantiles_ = quantile.quantiles_ / state["scale_"]
        super().__setstate__(state)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Map raw scores to ``exp(clip((X - mean_) / scale_))`` or their CDF.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Raw scores.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features)
            Non-negative meta-input.
        """
        check_is_fitted(self)
        refuse_sparse(X, "X")
        refuse_no_columns(X, self)
        with finite_inputs():
            X = validate_data(self, X, dtype=np.float64, reset=False)
        # The scaling it was fitted with, as scikit-learn's transformers use
        # their fitted state (a set_params since then takes effect at fit).
        if hasattr(self, "quantile_transformer_"):
            # A score beyond the float64 range in units of scale_ is beyond
            # every fitted one (below 2 in magnitude): clipped to 4, it maps
            # to 0 or 1 as it would.
            with np.errstate(over="ignore"), flushing_underflow():
                X = np.clip(X / self.scale_, -4.0, 4.0)
            quantiles = self.quantile_transformer_.quantiles_
            with flushing_underflow(), np.errstate(invalid="ignore"):
                Z = self.quantile_transformer_.transform(X)
            # Where fitted values lie closer than the slope's ratio allows
            # (e.g. subnormals beside a peak of 1), np.interp's slope
            # overflows: those values are interpolated again, dividing first.
            for column in np.flatnonzero(~np.isfinite(Z).all(axis=0)):
                rows = ~np.isfinite(Z[:, column])
                Z[rows, column] = _interpolated(
                    X[rows, column],
                    quantiles[:, column],
                    self.quantile_transformer_.references_,
                )
            # Interpolation rounding can leave -1e-17: the meta-input is
            # documented non-negative (the paper's skyline theorem asks it).
            Z = np.clip(Z, 0.0, 1.0)
            # A constant column steps from 0 (up to its value) to 1 (above),
            # as QuantileTransformer maps it when fitted on two rows or more;
            # on one row, its single quantile maps every value to 0.
            constant = quantiles[0] == quantiles[-1]
            Z[:, constant] = X[:, constant] > quantiles[0, constant]
            return Z
        # A score beyond the float64 range in units of scale_ overflows to
        # +-inf, which the clip maps to +-clip as it would the finite value.
        with np.errstate(over="ignore"):
            z = (X - self.mean_) / self.scale_
        return np.exp(np.clip(z, -self.clip, self.clip))


def _power_of_2_scale(X):
    """A power of 2 near each column's peak, which the quantile scaling
    divides scores by (exactly)."""
    return np.ldexp(1.0, np.frexp(_column_peaks(X))[1] - 1)


def _column_peaks(X):
    """Each column's largest magnitude, 1 for a column of zeros."""
    peak = np.abs(X).max(axis=0)
    peak[peak == 0] = 1.0
    return peak


def _interpolated(x, quantiles, references):
    """QuantileTransformer's CDF of values `x` within the fitted `quantiles`,
    with no slope to overflow.

    Only values equal to no fitted quantile come here (transform passes the
    rows whose CDF was not finite, and np.interp gives a value equal to a
    quantile that quantile's reference exactly), so none lies in a run of
    equal quantiles.
    """
    upper = np.clip(np.searchsorted(quantiles, x), 1, len(quantiles) - 1)
    lower = upper - 1
    with flushing_underflow():
        fraction = (x - quantiles[lower]) / (quantiles[upper] - quantiles[lower])
    return references[lower] + fraction * (references[upper] - references[lower])
