"""SIMILAR: greedy facility-location conditional mutual information (Kothawade 2021)."""

import heapq
from numbers import Real

import numpy as np
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval

from .._model_scores import labelled_in_and_ood, model_embedding
from .._typing import RandomStateLike
from ._base import QueryStrategy

# Pool-to-pool similarities are computed this many entries at a time.
_CHUNK_ENTRIES = 2**22


def _similarity(unit_A, unit_B):
    """Cosine similarity of unit rows, mapped to [0, 1]: ``(1 + cos) / 2``."""
    return (1.0 + unit_A @ unit_B.T) / 2.0


class SimilarQuery(QueryStrategy):
    """SIMILAR (FLCMI): cover the pool where it resembles labelled IN, not labelled OOD.

    Greedily maximises the facility-location conditional mutual information
    of the batch ``A`` with the labelled IN set ``Q`` (the query set),
    conditioned on the labelled OOD set ``P`` (the private set), over the
    pool ``V`` as ground set:

    .. math::
        I(A; Q | P) = \\sum_{i \\in V} \\max\\big(\\min(\\max_{j \\in A} s_{ij},
        \\eta \\max_{q \\in Q} s_{iq}) - \\nu \\max_{p \\in P} s_{ip}, 0\\big)

    with ``s = (1 + cos) / 2`` in the classifier's embedding. A pool region
    counts only as far as it resembles labelled IN examples more than
    labelled OOD ones, and one chosen example covers its neighbours, so the
    batch is both pure and diverse. Maximised by lazy greedy (exact greedy
    result); the score of a chosen example is its marginal gain when chosen,
    so scores do not increase along the returned order.

    Parameters
    ----------
    eta : float, default=1.0
        Query relevance (``magnificationEta``): larger favours examples close
        to labelled IN over coverage of the pool.
    nu : float, default=1.0
        Privacy hardness (``privacyHardness``): weight of the similarity to
        labelled OOD that is subtracted.
    random_state : int, RandomState instance or None, default=None
        Breaks ties between equal gains.

    Notes
    -----
    Differences from SIMILAR's code (``decile-team/distil``
    ``SCMI`` with ``scmi_function="flcmi"`` on ``submodlib``): the
    embedding is the classifier's (its penultimate layer for a net, see
    :func:`model_embedding`) rather than last-layer gradients; the kernel is
    cosine similarity shifted to [0, 1] so that the facility-location
    function is monotone; the greedy is our own vectorised lazy greedy
    (``submodlib-py`` needs a C++ build). Time grows as the square of the
    pool, memory only linearly. With no labelled OOD example the conditioning
    term is 0 (FLQMI).

    References
    ----------
    .. [1] S. Kothawade, N. Beck, K. Killamsetty and R. Iyer, "SIMILAR:
       Submodular Information Measures Based Active Learning In Realistic
       Scenarios", NeurIPS 2021.
    """

    _parameter_constraints = {
        **QueryStrategy._parameter_constraints,
        "eta": [Interval(Real, 0, None, closed="left")],
        "nu": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self, eta: float = 1.0, nu: float = 1.0, random_state: RandomStateLike = None
    ) -> None:
        self.eta = eta
        self.nu = nu
        self.random_state = random_state

    def _select(self, learner, X_pool, n_instances, rng):
        pool = normalize(model_embedding(learner, X_pool).astype(np.float64))
        X_in, _, X_ood = labelled_in_and_ood(learner)
        query_cap = self.eta * self._max_similarity(learner, pool, X_in)
        private = np.zeros(len(pool))
        if len(X_ood):
            private = self.nu * self._max_similarity(learner, pool, X_ood)
        return lazy_greedy_flcmi(pool, query_cap, private, n_instances, rng)

    @staticmethod
    def _max_similarity(learner, unit_pool, X):
        unit = normalize(model_embedding(learner, X).astype(np.float64))
        return _similarity(unit_pool, unit).max(axis=1)


def lazy_greedy_flcmi(pool, query_cap, private, n_select, rng):
    """Lazy greedy maximisation of FLCMI over the pool; ``(indices, gains)``.

    `pool` holds unit rows; `query_cap` and `private` are each ground row's
    ``eta max_q s_iq`` and ``nu max_p s_ip``.
    """
    n = len(pool)
    cover = np.zeros(n)  # max similarity of each ground row to the batch

    def gains(columns):
        S = _similarity(pool, pool[columns])
        covered = np.minimum(np.maximum(cover[:, None], S), query_cap[:, None])
        now = np.maximum(np.minimum(cover, query_cap) - private, 0.0).sum()
        return np.maximum(covered - private[:, None], 0.0).sum(axis=0) - now, S

    step = max(1, _CHUNK_ENTRIES // n)
    upper = np.concatenate(
        [gains(np.arange(s, min(s + step, n)))[0] for s in range(0, n, step)]
    )
    tie_break = rng.permutation(n)
    heap = [(-upper[i], tie_break[i], i) for i in range(n)]
    heapq.heapify(heap)
    indices, chosen_gains = [], []
    while len(indices) < n_select:
        _, rank, i = heapq.heappop(heap)
        gain, S = gains([i])
        # Gains only shrink (submodularity): a fresh gain that still beats
        # every stale upper bound is the greedy choice.
        if not heap or gain[0] >= -heap[0][0] - 1e-12 * max(1.0, abs(gain[0])):
            indices.append(i)
            chosen_gains.append(max(gain[0], 0.0))
            np.maximum(cover, S[:, 0], out=cover)
        else:
            heapq.heappush(heap, (-gain[0], rank, i))
    return np.asarray(indices), np.asarray(chosen_gains)
