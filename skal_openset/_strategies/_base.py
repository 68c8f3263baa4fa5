"""The base class every query strategy derives from."""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from .._atomic import (
    held_objects_restored_on_error,
    random_state_restored_on_error,
    restored_on_error,
)
from .._frames import check_columns
from .._model_scores import (
    check_fitted_rows,
    check_label_kind,
    check_no_ood_in_training,
    check_rows,
    framed,
    ood_label_of,
    query_scope,
    strategy_running,
    unframed,
)
from .._typing import IntLike, RandomStateLike
from .._validation import is_int, reject_bool_numbers, reject_classes
from .._warn import noted_on, warn

# The strategies (their ids) whose state a running call keeps on error.
_KEPT: ContextVar[frozenset[int]] = ContextVar("kept_strategies", default=frozenset())


class QueryStrategy(BaseEstimator):
    """Base class of query strategies, callable with modAL's contract.

    ``strategy(learner, X_pool, n_instances=1)`` returns ``(indices,
    scores)``: the positions in `X_pool` to label, in priority order
    (highest first), and a score for each, aligned with `indices`. The
    learner gives the strategy its current classifier (``estimator_``, or
    modAL's ``estimator``) and its labelled set.

    Subclasses implement ``_select(learner, X_pool, n_instances, rng)``.
    Strategies that learn from the labels of their own queries (MQ-Net)
    also override :meth:`update`, which the learner calls in ``teach``
    before it retrains its classifier.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Used wherever the strategy draws at random (including ties). An int
        makes every call reproducible: each query restarts the same stream,
        so the draws of successive queries are not independent (on a pool
        one row shorter each pick, the same positions fall next to earlier
        picks). A shuffled pool, as :func:`make_open_set_split` gives, hides
        this; on a pool kept in file order, pass a RandomState instance,
        which advances from query to query. :class:`ActiveLearner` clones the
        strategy at every `fit`, as scikit-learn's meta-estimators clone
        theirs, and with it a RandomState instance: each fit's strategy
        draws from a copy of it as it was given, so queries after a refit
        repeat the draws of those after the last fit, two learners given
        the same instance draw alike, and the instance itself never
        advances.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import ActiveLearner, QueryStrategy
    >>> class LeastConfident(QueryStrategy):
    ...     def _select(self, learner, X_pool, n_instances, rng):
    ...         scores = 1 - learner.predict_proba(X_pool).max(axis=1)
    ...         indices = np.argsort(-scores)[:n_instances]
    ...         return indices, scores[indices]
    >>> learner = ActiveLearner(LogisticRegression(), LeastConfident()).fit(
    ...     [[0.0], [1.0], [3.0], [4.0], [9.0]], [0, 0, 1, 1, -1])
    >>> indices, X_query = learner.query([[0.0], [2.1], [4.0]], n_instances=1)
    >>> X_query
    array([[2.1]])
    """

    _parameter_constraints: dict = {"random_state": ["random_state"]}

    def __init__(self, random_state: RandomStateLike = None) -> None:
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        reject_bool_numbers(self)
        reject_classes(self)

    def __call__(
        self,
        learner: Any,
        X_pool: ArrayLike,
        n_instances: IntLike = 1,
        **kwargs: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Choose the examples of `X_pool` to label next.

        Parameters
        ----------
        learner : ActiveLearner or modAL learner
            Holds the current classifier and the labelled set. A modAL
            learner whose ``y_training`` holds its OOD label
            (``learner.ood_label``, else -1), or labels of another kind (e.g.
            strings where it is -1), is refused (a ValueError): modAL trained
            its classifier on those rows as a class.
        X_pool : array-like of shape (n_pool, ...)
            Unlabelled candidates, rows of the shape the learner's labelled
            rows have (a modAL learner's ``X_training``), else a ValueError.
        n_instances : int, default=1
            How many to choose. If the pool is smaller, all of it is chosen
            (in priority order) with a warning.
        **kwargs
            None is taken: a keyword other than `n_instances` (e.g.
            scikit-activeml's ``batch_size``) raises a TypeError rather than
            being ignored.

        Returns
        -------
        indices : ndarray of shape (n_instances,)
            Distinct positions in `X_pool`, highest priority first.
        scores : ndarray of shape (n_instances,)
            The strategy's score of each chosen example.
        """
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got the unexpected keyword argument(s) "
                f"{', '.join(sorted(kwargs))}; the number of examples to choose "
                "is n_instances (modAL's name), e.g. n_instances=10."
            )
        self._validate_params()
        from .._learner import ActiveLearner  # which imports this module

        if isinstance(learner, ActiveLearner) and not hasattr(learner, "estimator_"):
            # Called directly, as learner.query does: fit on the initial set
            # first, undone if the query fails (its random draws too).
            with learner._atomic(querying=True):
                return self(learner, X_pool, n_instances)
        modal = not hasattr(learner, "X_labelled_")
        if modal:
            # A modAL learner, whose classifier trained on every row of its
            # y_training: refused by every strategy, RandomQuery included,
            # as the loop's classifier is wrong whatever chooses the rows.
            _check_modal_training(learner)
        check_columns(X_pool, learner, "X_pool")  # as ActiveLearner.query does
        given, learner = X_pool, framed(learner, X_pool)
        # Missing values only where the learner's classifier takes them.
        X_pool = check_rows(X_pool, getattr(learner, "estimator", learner), "X_pool")
        check_fitted_rows(given, X_pool, "X_pool", unframed(learner))
        estimator = getattr(unframed(learner), "estimator", None)
        if modal and estimator is not None:
            # Our ActiveLearner checks this at fit; a modAL learner has none.
            self._check_estimator(estimator)
        if not is_int(n_instances, min_val=1):
            raise ValueError(
                f"n_instances must be a positive integer, got {n_instances!r}."
            )
        if n_instances > len(X_pool):
            warn(
                f"n_instances={n_instances} is larger than the pool "
                f"({len(X_pool)} examples); the whole pool is returned.",
                UserWarning,
            )
            n_instances = len(X_pool)
        with (
            self._kept_on_error() as rng,
            query_scope(),
            strategy_running(learner),
            noted_on(self),  # the scores it calls warn once per strategy
        ):
            indices, scores = self._select(learner, X_pool, n_instances, rng)
        return np.asarray(indices, dtype=np.intp), np.asarray(scores, dtype=float)

    @contextmanager
    def _kept_on_error(self):
        """A context that a failure (or interrupt) leaves the strategy as it
        was in: its attributes, a RandomState it was given (or NumPy's global
        one), and the objects its parameters hold; it yields the random state
        to draw from. Inside one already kept (the learner's query keeps it
        around the call), nothing is copied again."""
        kept = _KEPT.get()
        if id(self) in kept:
            yield check_random_state(self.random_state)
            return
        token = _KEPT.set(kept | {id(self)})
        try:
            with (
                random_state_restored_on_error(self.random_state) as rng,
                restored_on_error(self),
                held_objects_restored_on_error(self),
            ):
                yield rng
        finally:
            _KEPT.reset(token)

    def _select(self, learner, X_pool, n_instances, rng):
        raise NotImplementedError(
            f"{type(self).__name__} defines no _select(self, learner, X_pool, "
            "n_instances, rng), which a QueryStrategy subclass implements: "
            "return the positions in X_pool to label, highest priority first, "
            "and their scores (see the QueryStrategy example)."
        )

    def _check_estimator(self, estimator):
        """Raise a ValueError naming the remedy if `estimator` cannot serve.

        Called by :meth:`ActiveLearner.fit` with the learner's (unfitted)
        classifier, so that a strategy that cannot work with it fails at once
        rather than at the first query, and at every query of a modAL learner
        (which has no fit of ours) with its classifier. Every strategy here
        works with any classifier unless it overrides this.
        """

    def update(
        self, learner: Any, X_query: ArrayLike, y_query: ArrayLike
    ) -> QueryStrategy:
        """Learn from the labelled query set (no-op unless overridden).

        Called by :meth:`ActiveLearner.teach` with the newly labelled
        examples, while the learner still holds the classifier that chose
        them.

        Parameters
        ----------
        learner : ActiveLearner or modAL learner
        X_query : array-like of shape (n_query, ...)
        y_query : array-like of shape (n_query,)
            Class labels, or the learner's ``ood_label``.

        Returns
        -------
        self : object
        """
        return self


def called_strategy(strategy: Any) -> Any:
    """The object a query strategy calls: a ``functools.partial``'s function
    (modAL presets ``n_instances`` with one), else `strategy` itself."""
    while isinstance(strategy, partial):
        strategy = strategy.func
    return strategy


def _check_modal_training(learner):
    """Refuse a modAL learner whose ``y_training`` holds its OOD label, or,
    where ``learner.ood_label`` was never set (-1 then), labels of another
    kind (strings): OOD rows there would be a class of the classifier, told
    apart by no check. A set OOD label may be of another kind than the IN
    labels (``"unknown"`` beside numbers), as in our ActiveLearner."""
    ood_label = ood_label_of(learner)
    check_no_ood_in_training(learner, ood_label)
    y = getattr(learner, "y_training", None)
    if y is None or hasattr(learner, "ood_label"):
        return
    try:
        check_label_kind(np.asarray(y), ood_label)
    except ValueError as exc:
        raise ValueError(
            f"{exc} Here the labels are the modAL learner's y_training, and "
            "the strategies read its OOD label from learner.ood_label: set it "
            "there before the first query (teach_open_set(..., ood_label=...) "
            "stores it there too)."
        ) from None


def top_scores(scores, n_instances, rng):
    """Indices of the `n_instances` highest scores, highest first.

    Ties are broken at random, so that a constant score (e.g. an untrained
    model) does not always pick the first rows of the pool.
    """
    scores = np.asarray(scores, dtype=float)
    tie_break = rng.permutation(len(scores))
    # Only rows not below the n-th highest score (ties and NaN, which sorts
    # last, included) can make the cut: sorting them alone gives the same
    # order as sorting the whole pool.
    nth = np.partition(-scores, n_instances - 1)[n_instances - 1]
    rows = np.flatnonzero(~(-scores > nth))
    order = rows[np.lexsort((tie_break[rows], -scores[rows]))][:n_instances]
    return order, scores[order]


# Relative size of float32 rounding in squared distances taken from norms.
_ROUNDING = 1e-5


def sq_distances_to(sq_norms, c, inner):
    """``||x_i - x_c||^2`` from squared norms and the inner products ``<x_i, x_c>``.

    For rows known only through inner products (BADGE's gradient embeddings,
    never formed): one pass, no pairwise matrix. Copies of ``x_c`` come out as
    exactly 0 (float32 inner products would leave rounding there), so a
    strategy never takes a copy of a chosen row for a distant one. The price:
    distinct rows closer than ``_ROUNDING`` of the squared norms are zeroed
    too. That is harmless in a draw weighted by distance (k-means++), where
    their weight was that small anyway, but not where the largest distance
    wins: k-center greedy takes its distances from differences instead.
    """
    sq_dist = sq_norms + sq_norms[c] - 2 * inner
    sq_dist[sq_dist < _ROUNDING * (sq_norms + sq_norms[c])] = 0
    return sq_dist


def unit_scaled(embedding):
    """``(embedding / s, s)`` with ``s`` its largest absolute value (1 if 0).

    Distance-based choices do not change under one common scale, and the
    squared norms of moderate values cannot overflow (an input-space
    embedding may hold values near the float limit). `embedding` is a float
    array (float64 or float32), as ``model_embedding`` gives it.
    """
    embedding = np.asarray(embedding)
    scale = float(np.abs(embedding).max(initial=0.0)) or 1.0
    # The embedding's own float type: float32 keeps large pools light.
    return embedding / embedding.dtype.type(scale), scale


def power_of_two_scaled(*embeddings):
    """The embeddings divided by ``s``, then ``s``: the power of 2 that
    brings their largest absolute value into [1, 2) (1 if all are 0).

    Dividing by a power of 2 rounds nothing, short of values more than
    2**126 (float32, about 1e38) or 2**1022 (float64) times smaller than the
    largest, which leave the normal range and round, down to 0: distances
    come out divided by ``s``, and standardised values unchanged, exactly.
    Yet no square or sum of squares overflows, whatever the embeddings' scale
    (float32 matrix products overflow from values near 1e19, float64 squares
    from 1e154). Products of values far smaller than the largest still
    underflow: see :func:`underflow_guarded`.
    """
    largest = max(float(np.abs(e).max(initial=0.0)) for e in embeddings)
    scale = 2.0 ** (math.frexp(largest)[1] - 1) if largest > 0 else 1.0
    if scale == 1.0:
        return (*embeddings, scale)
    return (*(e / scale for e in embeddings), scale)


def underflow_guarded(*embeddings):
    """The embeddings, in float64 where float32 products of their rows would
    underflow; refused where float64 ones would.

    For embeddings scaled so that their largest value is about 1 (as
    :func:`unit_scaled` and :func:`power_of_two_scaled` scale them). Rows
    many orders of magnitude smaller (where one outlier set the scale) have
    inner products with each other below the float range, which round to 0
    while float64 squared norms of float32 rows do not: a copy of a chosen
    row would look as far from it as an unrelated row (and in float64, where
    the norms go to 0 too, distinct rows like copies).

    A non-zero row whose largest absolute value is at least
    ``sqrt(tiny / eps)`` of its float type (``_SMALLEST_SAFE_ROW``: 3e-16 in
    float32, 1e-146 in float64) is safe: its squared norm is at least
    ``tiny / eps``, so the less than ``tiny`` that underflow takes from each
    product stays within the float's own rounding of the norms (``eps``),
    which the strategies' thresholds allow for. So is a single smaller row:
    beside a larger row's norm, its products lose nothing that counts. No
    float32 value is small enough to be unsafe in float64.

    Ordinary embeddings come back as they are, bit for bit.

    Raises
    ------
    ValueError
        If two or more non-zero float64 rows are below ``_SMALLEST_SAFE_ROW``.
    """
    if _n_unsafe_rows(embeddings) < 2:
        return embeddings
    embeddings = tuple(e.astype(np.float64) for e in embeddings)
    if _n_unsafe_rows(embeddings) >= 2:
        raise ValueError(
            "Rows of the embedding that distance-based strategies work in "
            "(of X_pool, or of the labelled examples) are more than "
            f"{1 / _SMALLEST_SAFE_ROW[np.float64]:.0e} times smaller than its "
            "largest values (an outlier, or an overflowing step, sets its "
            "scale): float64 products of such rows underflow, so their "
            "distances to each other are lost. Clip or remove the extreme "
            "rows, or rescale the embedding (e.g. a log transform), before "
            "querying."
        )
    return embeddings


# Below this largest absolute value, a non-zero row's float products with
# other such rows underflow by more than the float's rounding: sqrt(tiny / eps).
_SMALLEST_SAFE_ROW = {
    dtype: math.sqrt(float(np.finfo(dtype).tiny) / float(np.finfo(dtype).eps))
    for dtype in (np.float32, np.float64)
}


def _n_unsafe_rows(embeddings):
    """How many non-zero rows of the `embeddings` (float32 or float64) are
    below ``_SMALLEST_SAFE_ROW`` in absolute value."""
    n_unsafe = 0
    for embedding in embeddings:
        # Row maxima of both signs: no array of absolute values beside it.
        sizes = np.maximum(
            embedding.max(axis=1, initial=0.0), -embedding.min(axis=1, initial=0.0)
        )
        smallest_safe = _SMALLEST_SAFE_ROW[embedding.dtype.type]
        n_unsafe += np.count_nonzero((sizes > 0) & (sizes < smallest_safe))
    return n_unsafe


# Squares of values from 1 / _HUGE to _HUGE, summed over any number of rows,
# neither overflow float64 (2**1024) nor underflow it (2**-1022).
_HUGE = 2.0**256


def extreme_scale_removed(*embeddings):
    """The embeddings as :func:`power_of_two_scaled` scales them, if their
    largest absolute value is at least 2**256 or below 2**-256; else as
    they are.

    Ordinary embeddings come back untouched, bit for bit: steps that the
    scaling changes at all (StandardScaler leaves columns of zero variance
    unscaled, so they would move) keep their results at ordinary scales.
    """
    # As Python floats: float32 cannot hold _HUGE (NumPy warns of the cast).
    largest = max(float(np.abs(e).max(initial=0.0)) for e in embeddings)
    if largest >= _HUGE or 0 < largest < 1 / _HUGE:
        return power_of_two_scaled(*embeddings)[:-1]
    return embeddings
