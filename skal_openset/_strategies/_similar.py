"""SIMILAR: greedy facility-location conditional mutual information (Kothawade 2021)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from .._model_scores import labelled_in_and_ood, model_embedding
from .._purity import _unit_rows
from .._threads import one_blas_thread
from .._typing import IntLike, RandomStateLike, RealLike
from .._warn import warn_once
from ._base import QueryStrategy

# Similarities of pool rows to the pool or to a labelled set are computed
# this many entries at a time.
_CHUNK_ENTRIES = 2**22
# A query of a whole pool of this many rows is warned of, with the remedy, as
# nothing shows: benchmarks/results/slow_warnings.md (one thread, a shared
# 2-core machine) gives 9 CPU s in 50 features, 79 before any OOD label and
# 43 in 512 (a net's penultimate layer); wall time there was 2-4x that.
_SLOW_POOL = 50_000


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
    eta : float > 0, default=1.0
        Query relevance (``magnificationEta``): a pool row counts as covered
        at most ``eta`` times its similarity to the nearest labelled IN
        example. The batch keeps closest to labelled IN near 1; larger values
        loosen this cap, until the labelled IN set no longer matters and the
        batch only covers the pool (plain facility location); smaller values
        let the rows near labelled IN saturate early, which spreads the batch.
        At 0 no row could count: the objective would be 0 for every batch.
    nu : float, default=1.0
        Privacy hardness (``privacyHardness``): weight of the similarity to
        labelled OOD that is subtracted. Where no pool row is more similar
        to labelled IN (times `eta`) than to labelled OOD (times `nu`), as
        with a huge `nu`, the objective is 0 for every batch: the batch is
        then random, with a warning.
    subsample : int or None, default=None
        If the pool is larger, maximise over a uniformly random subset of
        this many pool examples (ground set and candidates; at least
        ``n_instances``), as the LL4AL and MQ-Net code query a random subset
        of the unlabelled pool each round. Time then grows as the square of
        `subsample`, not of the pool. None: the whole pool.
    random_state : int, RandomState instance or None, default=None
        Draws the subsample and breaks ties between equal gains.

    Notes
    -----
    Differences from SIMILAR's code (``decile-team/distil``
    ``SCMI`` with ``scmi_function="flcmi"`` on ``submodlib``): the
    embedding is the classifier's (its penultimate layer for a net, or the
    learner's ``embedding``) rather than last-layer gradients; the kernel is
    cosine similarity shifted to [0, 1] so that the facility-location
    function is monotone; the greedy is our own vectorised lazy greedy
    (``submodlib-py`` needs a C++ build). As in distil, the ground set is
    the whole pool, but pool rows that cannot add to the function (no more
    similar to labelled IN than to labelled OOD, or already covered up to
    their cap) are dropped from the sums, which changes nothing in the
    result. Time grows as the square of the pool; memory only linearly in
    the pool and the labelled sets, as every similarity matrix (pool to
    pool, pool to labelled) is computed a block of about four million
    entries at a time. With no labelled OOD example the conditioning term is
    0 (FLQMI).

    References
    ----------
    .. [1] S. Kothawade, N. Beck, K. Killamsetty and R. Iyer, "SIMILAR:
       Submodular Information Measures Based Active Learning In Realistic
       Scenarios", NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import ActiveLearner, SimilarQuery, load_digits_dataset
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> strategy = SimilarQuery(subsample=300, random_state=0)
    >>> learner = ActiveLearner(LogisticRegression(), strategy).fit(X[:100], y[:100])
    >>> indices, X_query = learner.query(X[100:], n_instances=5)
    >>> X_query.shape
    (5, 64)
    """

    _parameter_constraints: dict = {
        **QueryStrategy._parameter_constraints,
        "eta": [Interval(Real, 0, None, closed="neither")],
        "nu": [Interval(Real, 0, None, closed="left")],
        "subsample": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        eta: RealLike = 1.0,
        nu: RealLike = 1.0,
        subsample: IntLike | None = None,
        random_state: RandomStateLike = None,
    ) -> None:
        self.eta = eta
        self.nu = nu
        self.subsample = subsample
        self.random_state = random_state

    def _select(self, learner, X_pool, n_instances, rng):
        size = len(X_pool)
        if self.subsample is not None and size > max(self.subsample, n_instances):
            rows = np.sort(
                rng.choice(size, max(self.subsample, n_instances), replace=False)
            )
            indices, gains = self._flcmi(learner, X_pool[rows], n_instances, rng)
            return rows[indices], gains
        if self.subsample is None and size >= _SLOW_POOL:
            warn_once(  # once per strategy, not at every round of a campaign
                self,
                "_warned_of_slow_pool",
                True,
                f"SimilarQuery compares every pair of the pool's {size} rows, in "
                "time that grows as the square of the pool: from about "
                f"{_SLOW_POOL} rows a query takes ten seconds or more, about a "
                "minute before any OOD label or in a wide embedding (a net's). "
                "Set subsample (e.g. subsample=10000) to maximise over a random "
                "subset of the pool each query.",
            )
        return self._flcmi(learner, X_pool, n_instances, rng)

    def _flcmi(self, learner, X_pool, n_instances, rng):
        pool = _unit_rows(model_embedding(learner, X_pool).astype(np.float64))
        X_in, _, X_ood = labelled_in_and_ood(learner)
        query_cap = self.eta * self._max_similarity(learner, pool, X_in)
        private = np.zeros(len(pool))
        if len(X_ood):
            private = self.nu * self._max_similarity(learner, pool, X_ood)
        # A row can add to the objective only below its cap (see
        # lazy_greedy_flcmi): with none, every batch gains 0.
        if not np.any(query_cap > private):
            warn_once(  # once per (eta, nu), not at every round of a campaign
                self,
                "_warned_of_zero_objective",
                (self.eta, self.nu),
                "SimilarQuery's objective is 0 for every batch: no pool row is "
                f"more similar to labelled IN (times eta={self.eta:.3g}) than to "
                f"labelled OOD (times nu={self.nu:.3g}), so the batch is drawn at "
                "random. Raise eta or lower nu to rank the rows.",
            )
        return lazy_greedy_flcmi(pool, query_cap, private, n_instances, rng)

    @staticmethod
    def _max_similarity(learner, unit_pool, X):
        unit = _unit_rows(model_embedding(learner, X).astype(np.float64))
        step = max(1, _CHUNK_ENTRIES // max(len(unit), 1))
        return np.concatenate(
            [
                _similarity(unit_pool[s : s + step], unit).max(axis=1)
                for s in range(0, len(unit_pool), step)
            ]
        )


def lazy_greedy_flcmi(pool, query_cap, private, n_select, rng):
    """Lazy greedy maximisation of FLCMI over the pool; ``(indices, gains)``.

    `pool` holds unit rows; `query_cap` and `private` are each ground row's
    ``eta max_q s_iq`` and ``nu max_p s_ip``. Row ``i`` adds
    ``f_i(c) = max(min(c, query_cap_i) - private_i, 0)`` for its cover ``c``,
    so a candidate ``j`` gains ``clip(s_ij, low_i, query_cap_i) - low_i``
    from it, with ``low_i = max(cover_i, private_i)``. Rows with
    ``low_i >= query_cap_i`` (no more like labelled IN than labelled OOD, or
    covered up to their cap) can gain nothing and leave the ground set: an
    exact restriction. Stale upper bounds are refreshed for the best ones a
    block at a time, one matrix product per block.
    """
    n = len(pool)
    ground = np.flatnonzero(query_cap > private)
    low, cap = private[ground], query_cap[ground]
    # The ground rows, gathered again only when the ground set shrinks: a
    # gather per product cost as much as the product.
    pool_ground = pool[ground]

    def gains(columns):
        # s = (1 + cos) / 2, so clip the cosines to 2 low - 1 and 2 cap - 1.
        cos = pool_ground @ pool[columns].T
        np.clip(cos, 2 * low[:, None] - 1, 2 * cap[:, None] - 1, out=cos)
        return (cos.sum(axis=0) - (2 * low - 1).sum()) / 2

    step = max(1, _CHUNK_ENTRIES // max(len(ground), 1))
    upper = np.concatenate(
        [gains(np.arange(s, min(s + step, n))) for s in range(0, n, step)]
    )
    tie_break = rng.permutation(n)
    available = np.ones(n, dtype=bool)
    indices, chosen_gains = [], []
    block = 16
    with one_blas_thread():  # mostly small products, a few a pick
        while len(indices) < n_select:
            fresh = np.zeros(n, dtype=bool)
            while True:
                # Gains only shrink (submodularity): a fresh gain that still
                # beats every stale upper bound is the greedy choice.
                order = np.flatnonzero(available)
                order = order[np.lexsort((tie_break[order], -upper[order]))]
                if fresh[order[0]]:
                    break
                stale = order[~fresh[order]][:block]
                upper[stale] = gains(stale)
                fresh[stale] = True
                block = min(2 * block, step)  # many refreshes: larger blocks
            i = order[0]
            indices.append(i)
            chosen_gains.append(max(upper[i], 0.0))
            available[i] = False
            np.maximum(low, _similarity(pool_ground, pool[[i]])[:, 0], out=low)
            keep = low < cap
            if not keep.all():
                low, cap, pool_ground = low[keep], cap[keep], pool_ground[keep]
            block = max(16, block // 2)
    return np.asarray(indices), np.asarray(chosen_gains)
