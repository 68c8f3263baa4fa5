"""BADGE: k-means++ seeding on gradient embeddings (Ash et al. 2020)."""

import numpy as np

from .._informativeness import probability_residual
from .._model_scores import (
    check_estimator_supports,
    class_probabilities,
    model_embedding,
)
from .._threads import one_blas_thread
from ._base import (
    QueryStrategy,
    sq_distances_to,
    top_scores,
    underflow_guarded,
    unit_scaled,
)


class BadgeQuery(QueryStrategy):
    """Query a diverse, uncertain batch by k-means++ on gradient embeddings.

    Each pool example is represented by the gradient of the cross-entropy
    at its predicted label with respect to the last layer's weights; its
    norm grows with uncertainty and its direction encodes what the example
    would teach. As in BADGE, the first pick is the largest gradient (the
    first in pool order among equal ones, as BADGE's ``argmax``), each
    later one is drawn with probability proportional to its squared distance
    to the nearest pick so far (k-means++ seeding, one trial per step), so
    the batch is both large and spread out. The score of a chosen example is
    its gradient-embedding norm.

    The gradient embedding (``n_classes * embedding_dim`` columns, see
    :func:`gradient_embedding`) is never formed: the gradient of row ``i`` is
    the outer product ``r_i h_i^T`` of its probability residual and its
    embedding, so ``<g_i, g_j> = <r_i, r_j> <h_i, h_j>``, and each step costs
    one pass over the embeddings, in memory linear in the pool.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means++ draws.

    References
    ----------
    .. [1] J. T. Ash, C. Zhang, A. Krishnamurthy, J. Langford and A. Agarwal,
       "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
       Bounds", ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import ActiveLearner, BadgeQuery, load_digits_dataset
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> strategy = BadgeQuery(random_state=0)
    >>> learner = ActiveLearner(LogisticRegression(), strategy).fit(X[:100], y[:100])
    >>> indices, X_query = learner.query(X[100:], n_instances=5)
    >>> X_query.shape
    (5, 64)
    """

    def _check_estimator(self, estimator):
        check_estimator_supports(estimator, {"proba"}, "BADGE")

    def _select(self, learner, X_pool, n_instances, rng):
        # The embedding first: within the query, its pass also yields the logits.
        embedding, scale = unit_scaled(model_embedding(learner, X_pool))
        # Rows far smaller than the largest: float64, where their products hold.
        (embedding,) = underflow_guarded(embedding)
        residual = probability_residual(class_probabilities(learner, X_pool))
        sq_norms = np.einsum("nk,nk->n", residual, residual, dtype=np.float64)
        sq_norms *= np.einsum("nd,nd->n", embedding, embedding, dtype=np.float64)
        norms = np.sqrt(sq_norms) * scale
        if np.count_nonzero(norms) < n_instances:
            # A confident model sees few or no gradients: k-means++ cannot
            # draw from zero mass, and with some could leave a row that has
            # one for a zero one. Take every row with a gradient, then ties.
            return top_scores(norms, n_instances, rng)
        indices = _kmeans_pp_outer(residual, embedding, sq_norms, n_instances, rng)
        # Once every row coincides with a centre (duplicate rows), nothing is
        # left to draw: fill up by largest norm.
        if len(indices) < n_instances:
            rest = np.setdiff1d(np.arange(len(norms)), indices)
            extra, _ = top_scores(norms[rest], n_instances - len(indices), rng)
            indices = np.concatenate([indices, rest[extra]])
        return indices, norms[indices]


def _kmeans_pp_outer(R, H, sq_norms, n_centres, rng):
    """k-means++ seeding on the rows ``g_i = r_i h_i^T``, given only R and H.

    The first centre is the row of largest norm, the first of equal ones
    (BADGE's choice and tie-break: drawing one would change the benchmark's
    committed BADGE runs, whose pools hold copies), each next one is drawn
    with probability proportional to ``min_c ||g_i - g_c||^2``,
    with ``||g_i - g_c||^2 = ||g_i||^2 + ||g_c||^2 - 2 <r_i, r_c> <h_i, h_c>``.
    Stops early when every row coincides with a centre.
    """
    # In float64, as sq_norms: float32 products of a confident model's
    # residuals (near 1e-25) underflow to 0 while their norms do not, so a
    # chosen centre would keep its weight and be drawn again.
    R = R.astype(np.float64)
    chosen = [int(np.argmax(sq_norms))]
    min_sq_dist = np.full(len(sq_norms), np.inf)
    with one_blas_thread():  # two matrix-vector products a centre
        while True:
            c = chosen[-1]
            inner = (R @ R[c]) * (H @ H[c])
            np.minimum(
                min_sq_dist, sq_distances_to(sq_norms, c, inner), out=min_sq_dist
            )
            min_sq_dist[c] = 0  # never drawn twice, whatever the rounding
            cumulative = np.cumsum(min_sq_dist)
            if len(chosen) == n_centres or cumulative[-1] <= 0:
                return np.asarray(chosen)
            draw = np.searchsorted(cumulative, rng.uniform(0, cumulative[-1]), "right")
            chosen.append(int(min(draw, len(cumulative) - 1)))
