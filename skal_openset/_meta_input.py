"""Meta-input conversion: raw purity and informativeness scores to MQ-Net inputs."""

from numbers import Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data


class MetaInputTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Convert raw scores to the positive meta-input of MQ-Net: ``exp(z(score))``.

    Each column is standardised with the mean and population standard
    deviation learnt in `fit` and then exponentiated, so the result is
    strictly positive, as the skyline guarantee of
    :class:`MetaQueryNetSelector` requires. Fit it on the **unlabelled pool**
    of the round and apply the same transform to every set scored in that
    round (the pool and the query set that later trains the selector), so
    that training and querying see one scale.

    Columns must be oriented "higher is preferred": pass purity scores
    (e.g. ``-O(x)`` for an OOD score ``O``) and informativeness scores as
    they are.

    Parameters
    ----------
    clip : float, default=20.0
        Standardised scores are clipped to ``[-clip, clip]`` before the
        exponential, so that extreme outliers cannot overflow.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Column means of the fitted scores.
    scale_ : ndarray of shape (n_features,)
        Column population standard deviations; 1 for constant columns, so
        that a constant score maps to ``exp(0) = 1`` rather than NaN.
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
           [3.4  , 1.   ]])
    """

    _parameter_constraints = {"clip": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, clip=20.0):
        self.clip = clip

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn each column's mean and standard deviation.

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
        X = validate_data(self, X, dtype=np.float64)
        scaler = StandardScaler().fit(X)
        self.mean_, self.scale_ = scaler.mean_, scaler.scale_
        return self

    def transform(self, X):
        """Map raw scores to ``exp(clip((X - mean_) / scale_))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Raw scores.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features)
            Strictly positive meta-input.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        z = (X - self.mean_) / self.scale_
        return np.exp(np.clip(z, -self.clip, self.clip))
