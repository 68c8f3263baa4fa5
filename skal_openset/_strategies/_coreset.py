"""CORESET: k-center greedy in the classifier's embedding space (Sener 2018)."""

import numpy as np
from sklearn.metrics import pairwise_distances_argmin

from .._model_scores import labelled_in_and_ood, model_embedding
from .._threads import one_blas_thread
from ._base import QueryStrategy, power_of_two_scaled, underflow_guarded


class CoreSetQuery(QueryStrategy):
    """Query the pool examples farthest from everything chosen so far.

    Greedy k-center: starting from the labelled examples as centres, each
    step adds the pool example whose distance to its nearest centre is
    largest. The score of a chosen example is that distance at the time it
    was chosen, so scores decrease along the returned order. Labelled OOD
    examples count as centres too: the region they cover is already known.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Picks the first centre when nothing is labelled yet, and orders
        examples at the same distance (e.g. copies of labelled ones).

    References
    ----------
    .. [1] O. Sener and S. Savarese, "Active Learning for Convolutional
       Neural Networks: A Core-Set Approach", ICLR 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import ActiveLearner, CoreSetQuery, load_digits_dataset
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> strategy = CoreSetQuery(random_state=0)
    >>> learner = ActiveLearner(LogisticRegression(), strategy).fit(X[:100], y[:100])
    >>> indices, scores = strategy(learner, X[100:], n_instances=5)
    >>> bool((scores[:-1] >= scores[1:]).all())  # distances to the nearest centre
    True
    """

    def _select(self, learner, X_pool, n_instances, rng):
        return k_center_greedy(learner, X_pool, n_instances, rng)


def k_center_greedy(learner, X_pool, n_instances, rng):
    """Greedy k-center in the embedding space, labelled examples as centres.

    Returns the chosen positions in `X_pool` in the order they were chosen
    and, for each, its distance to the nearest centre when it was chosen.
    Each step is one pass over the embeddings, so memory stays linear in the
    pool: squared distances from norms and one matrix-vector product, except
    where the norms' rounding could decide (copies and near-copies of a
    centre, rows far from the origin), which are taken from the difference
    in float64. So copies come out exactly 0 and distinct rows above 0,
    however far from the origin they lie.
    """
    X_in, _, X_ood = labelled_in_and_ood(learner)
    X_labelled = np.concatenate([X_in, X_ood])
    pool = model_embedding(learner, X_pool)
    labelled = model_embedding(learner, X_labelled) if len(X_labelled) else pool[:0]
    # One scale for both: centres far beyond the pool would overflow too.
    pool, labelled, scale = power_of_two_scaled(pool, labelled)
    centred, centred_labelled = _centred_on_pool(pool, labelled)
    sq_norms = np.einsum("nd,nd->n", centred, centred, dtype=np.float64)
    if len(labelled):
        # The nearest labelled row comes from norms (one matrix product); its
        # distance from the difference.
        nearest_row = pairwise_distances_argmin(centred, centred_labelled)
        nearest = np.empty(len(pool))
        for rows in _chunks(len(pool), pool.shape[1]):
            nearest[rows] = _sq_distances(pool[rows], labelled[nearest_row[rows]])
    else:  # the first centre is a random row
        nearest = np.full(len(pool), np.finfo(float).max)
        nearest[rng.randint(len(pool))] = np.inf
    # Equal distances (copies of a centre, or of each other) go in a random
    # order, not the pool's: a pool sorted by class would give one class.
    tie_break = rng.permutation(len(pool))
    indices, scores = [], []
    with one_blas_thread():  # one matrix-vector product a pick
        for _ in range(n_instances):
            ties = np.flatnonzero(nearest == nearest.max())
            chosen = int(ties[np.argmin(tie_break[ties])])
            indices.append(chosen)
            scores.append(np.sqrt(nearest[chosen]) * scale)
            norms = sq_norms + sq_norms[chosen]
            to_chosen = norms - 2 * (centred @ centred[chosen])
            unsure = np.flatnonzero(to_chosen < _EXACT_BELOW * norms)
            for part in _chunks(len(unsure), pool.shape[1]):
                rows = unsure[part]
                to_chosen[rows] = _sq_distances(pool[rows], pool[chosen])
            np.minimum(nearest, to_chosen, out=nearest)
            # Copies of a centre are also at 0: never pick the same row twice.
            nearest[chosen] = -np.inf
    return np.asarray(indices), np.asarray(scores)


def _centred_on_pool(pool, labelled):
    """`pool` and `labelled` less a point amid the pool, for distances taken
    from norms: distances do not change, and the norms lose little to rounding.

    The point is the median, which an outlier cannot drag away as it would
    the mean, of at most 2000 rows. The pool comes back in its dtype (a copy),
    in float64 where float32 products of its rows would underflow (see
    :func:`underflow_guarded`).
    """
    center = np.median(pool[:: max(1, len(pool) // 1000)], axis=0)
    centred = (pool - center).astype(pool.dtype, copy=False)
    # Rows far smaller than the largest: float64, where their products hold.
    return underflow_guarded(centred, labelled - center)


# Squared distances under this share of the two squared norms are taken from
# the difference: float32 inner products leave up to about 1e-6 of the norms
# in rounding, which would decide there (and zero a near-copy's distance).
_EXACT_BELOW = 1e-3

# Values per chunk of rows: the float64 differences of a chunk stay small.
_CHUNK = 2**18


def _chunks(n_rows, n_columns):
    """Slices of `n_rows` rows, ``_CHUNK`` values each."""
    step = max(1, _CHUNK // max(1, n_columns))
    return (slice(start, start + step) for start in range(0, n_rows, step))


def _sq_distances(rows, centres):
    """``||rows_i - centres_i||^2`` (or to a single centre), in float64.

    In float64 the differences of float32 rows are exact (short of values
    2**29 times apart), and their squares neither overflow nor underflow.
    """
    diff = np.subtract(rows, centres, dtype=np.float64)
    return np.einsum("nd,nd->n", diff, diff)
