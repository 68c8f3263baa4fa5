"""CORESET: k-center greedy in the classifier's embedding space (Sener 2018)."""

import numpy as np
from sklearn.metrics import pairwise_distances_argmin_min

from .._model_scores import labelled_in_and_ood, model_embedding
from ._base import QueryStrategy, sq_distances_to, unit_scaled


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
    Each step is one pass over the float32 embeddings (distances from norms
    and one matrix-vector product), so memory stays linear in the pool.
    """
    embedding = model_embedding(learner, X_pool)
    # Centred on the pool: distances do not change, but squared distances taken
    # from norms lose the rounding of large norms (features far from 0, such
    # as a year column), which would zero the distances of distinct rows.
    center = embedding.mean(axis=0)
    pool, scale = unit_scaled(embedding - center)
    sq_norms = np.einsum("nd,nd->n", pool, pool, dtype=np.float64)
    X_in, _, X_ood = labelled_in_and_ood(learner)
    X_labelled = np.concatenate([X_in, X_ood])
    if len(X_labelled):
        _, nearest = pairwise_distances_argmin_min(
            pool, (model_embedding(learner, X_labelled) - center) / scale
        )
        nearest = nearest.astype(np.float64) ** 2  # squared from here on
    else:  # the first centre is a random row
        nearest = np.full(len(pool), np.finfo(float).max)
        nearest[rng.randint(len(pool))] = np.inf
    # Equal distances (copies of a centre, or of each other) go in a random
    # order, not the pool's: a pool sorted by class would give one class.
    tie_break = rng.permutation(len(pool))
    indices, scores = [], []
    for _ in range(n_instances):
        ties = np.flatnonzero(nearest == nearest.max())
        chosen = int(ties[np.argmin(tie_break[ties])])
        indices.append(chosen)
        scores.append(np.sqrt(nearest[chosen]) * scale)
        inner = pool @ pool[chosen]
        np.minimum(nearest, sq_distances_to(sq_norms, chosen, inner), out=nearest)
        # Copies of a centre are also at 0: never pick the same row twice.
        nearest[chosen] = -np.inf
    return np.asarray(indices), np.asarray(scores)
