"""EOAL: closed-set and open-set entropies with a diverse batch (Safaei et al. 2024)."""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import pairwise_distances
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval

from .._informativeness import entropy_informativeness
from .._model_scores import (
    class_codes,
    labelled_in_and_ood,
    model_embedding,
    n_classes,
)
from .._typing import IntLike, RandomStateLike, RealLike
from .._warn import ignored, warn_once
from ._base import QueryStrategy, extreme_scale_removed, top_scores

# Embedding widths from which a query warns: its heads and k-means clusters
# take time that grows faster than the width (benchmarks/results/
# slow_warnings.md, one thread of a shared 2-core machine, 2,000 pool rows:
# 1.2 CPU s at 5,000 features, 3.1 at 10,000; wall time there was 2-4x that).
_SLOW_FEATURES = 10_000


class EOALQuery(QueryStrategy):
    """Query examples the one-vs-all heads are sure of and no OOD cluster claims.

    In the classifier's embedding (standardised on the labelled set):

    - *closed-set entropy* ``H_c``: one-vs-all heads (one logistic
      regression per known class, that class against every other labelled
      example, labelled OOD included) give each example ``p_c``, the
      probability of being of class ``c``; ``H_c`` is the mean over classes
      of the binary entropy of ``p_c``, in bits. Low for an example one head
      claims and the others reject: a known-class example.
    - *open-set entropy* ``H_o``: the labelled OOD examples are clustered
      (k-means, `n_unknown_clusters` clusters); ``H_o`` is the entropy of
      ``softmax(-distance to each centre)``, divided by its maximum
      ``log(n_clusters)``. Low for an example near one OOD cluster, high for
      one about as far from each (the softmax reads only differences in
      distance).

    The score is ``H_o - H_c`` (the paper queries the lowest ``H_c - H_o``);
    with no labelled OOD it is ``-H_c``. Diversity: examples that every head
    rejects (``max_c p_c < 0.5``, predicted unknown) are set aside; the rest
    are clustered by k-means into ``min(K, n_instances)`` groups, which take
    turns giving their best remaining example until the batch is full; if
    they run out, the rejected examples follow by score.

    Parameters
    ----------
    n_unknown_clusters : int or None, default=None
        Clusters of labelled OOD examples; None uses K (the paper's default,
        ``w_unk_cls = 1``). At most the number of labelled OOD examples.
    C : float in [1e-10, 1e10], default=1.0
        Inverse regularisation strength of the one-vs-all heads. Their
        liblinear solver never returns for extreme values (1e100 on 1,000
        standardised digits, 1e-170 on all of them); beyond this range the
        heads are all but unregularised, or all but constant, anyway.
    diversity : bool, default=True
        Cluster the candidates and take turns (the paper); False ranks the
        accepted examples by score alone.
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means runs and breaks ties.

    Notes
    -----
    EOAL trains a ResNet-18 (K+1 classes, temperature 0.5) jointly with its
    one-vs-all heads under entropic losses and a regulariser that pulls
    labelled OOD features to FINCH cluster centres, each round for 300
    epochs. A library strategy cannot train that at every query, so here
    the heads are linear, fitted on the classifier's fixed embedding in
    milliseconds; the labelled OOD clusters come from k-means instead of
    FINCH; the detector's "predicted unknown" filter becomes the heads'
    rejection; and the diversity clusters are k-means with K groups instead
    of the finest FINCH partition with at most `n_instances` clusters. The
    official query code (``bardisafa/EOAL``, ``query_strategies.py``) ranks
    by ``H_c - H_o`` as here, and by ``H_c`` alone in the first round,
    before any OOD cluster exists; with no labelled OOD, this strategy does
    the same.

    The embedding is standardised with the labelled rows' means and
    standard deviations. A column constant among the labelled rows (a 0/1
    feature that is 0 in every one, a ReLU unit that none activates) has no
    spread there to divide by, so it is divided by its standard deviation
    over the labelled and pool rows instead (a column constant on every row
    is left as it is). The heads give such a column next to no weight, but
    the diversity clusters and the distances to the OOD centres use it;
    unscaled, its units would change the batch, so that a 0/1 column
    multiplied by 1000 changed several of the rows queried.

    The heads and the clusters take time that grows faster than the
    embedding's width: from 10,000 features (a classifier without an
    embedding of its own, on a wide table) a UserWarning says to reduce the
    embedding first, once per strategy and width (not at every round).

    References
    ----------
    .. [1] B. Safaei, V. S. Vibashan, C. M. de Melo and V. M. Patel,
       "Entropic Open-set Active Learning", AAAI 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import ActiveLearner, EOALQuery, load_digits_dataset
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> strategy = EOALQuery(random_state=0)
    >>> learner = ActiveLearner(LogisticRegression(), strategy).fit(X[:100], y[:100])
    >>> indices, X_query = learner.query(X[100:], n_instances=5)
    >>> X_query.shape
    (5, 64)
    """

    _parameter_constraints: dict = {
        **QueryStrategy._parameter_constraints,
        "n_unknown_clusters": [Interval(Integral, 1, None, closed="left"), None],
        # liblinear hangs far outside (see the docstring).
        "C": [Interval(Real, 1e-10, 1e10, closed="both")],
        "diversity": ["boolean"],
    }

    def __init__(
        self,
        n_unknown_clusters: IntLike | None = None,
        C: RealLike = 1.0,
        diversity: bool = True,
        random_state: RandomStateLike = None,
    ) -> None:
        self.n_unknown_clusters = n_unknown_clusters
        self.C = C
        self.diversity = diversity
        self.random_state = random_state

    def _select(self, learner, X_pool, n_instances, rng):
        X_in, y_in, X_ood = labelled_in_and_ood(learner)
        codes_in = class_codes(learner, y_in)
        n_known = n_classes(learner)
        labelled = np.concatenate([X_in, X_ood]) if len(X_ood) else X_in
        emb_labelled = model_embedding(learner, labelled)
        pool = model_embedding(learner, X_pool)
        if pool.shape[1] >= _SLOW_FEATURES:
            warn_once(  # once per strategy, not at every round of a campaign
                self,
                "_warned_of_wide_embedding",
                pool.shape[1],
                f"EOALQuery fits a logistic regression per class and k-means "
                f"clusters on the embedding's {pool.shape[1]} features, in "
                f"seconds a query from about {_SLOW_FEATURES:,} features, more "
                "in a wider one. Give it a smaller embedding (ActiveLearner(embedding="
                "PCA(100)), or a pipeline's reduction step).",
            )
        # StandardScaler's variance of values near 1e300 overflowed (its error
        # blamed X for NaN), and that of values near 1e-180 underflowed (every
        # column taken as constant, the batch a tie-break).
        emb_labelled, pool = extreme_scale_removed(emb_labelled, pool)
        # Arrays whatever scikit-learn's transform_output: they are indexed.
        scaler = StandardScaler().set_output(transform="default").fit(emb_labelled)
        # StandardScaler leaves the columns it finds constant at scale 1, so
        # the pool's values in them kept their raw units in every distance;
        # they take the spread over all rows instead (1 if none there either).
        flat = scaler.scale_ != np.sqrt(scaler.var_)
        emb_labelled, pool = scaler.transform(emb_labelled), scaler.transform(pool)
        if flat.any():
            every_row = np.concatenate([emb_labelled[:, flat], pool[:, flat]])
            spread = StandardScaler().fit(every_row).scale_
            # Their scale was 1: dividing now is dividing in transform, bit for bit.
            emb_labelled[:, flat] /= spread
            pool[:, flat] /= spread
        emb_in = emb_labelled[: len(X_in)]
        emb_ood = emb_labelled[len(X_in) :] if len(X_ood) else None

        in_class = self._one_vs_all(emb_in, codes_in, emb_ood, pool)
        score = -entropy_informativeness(
            np.stack([in_class, 1.0 - in_class], axis=-1).reshape(-1, 2)
        ).reshape(in_class.shape).mean(axis=1) / np.log(2)
        if emb_ood is not None:
            score += self._open_entropy(emb_ood, pool, n_known, rng)
        accepted = in_class.max(axis=1) >= 0.5
        order, _ = top_scores(score, len(score), rng)
        first = order[accepted[order]]
        if self.diversity and len(first) > 1:
            n_groups = min(n_known, n_instances, len(first))
            first = _take_turns(pool[first], first, n_groups, rng)
        indices = np.concatenate([first, order[~accepted[order]]])[:n_instances]
        return indices, score[indices]

    def _one_vs_all(self, emb_in, codes_in, emb_ood, pool):
        """``p_c`` of each pool row for every labelled class with a rival."""
        X = emb_in if emb_ood is None else np.concatenate([emb_in, emb_ood])
        codes = np.concatenate([codes_in, np.full(len(X) - len(emb_in), -1)])
        # Unseeded, liblinear draws a seed from NumPy's global RNG; its primal
        # solver never uses it, so a fixed one changes no head, only stops a
        # query with a fixed random_state from advancing the caller's RNG.
        head = LogisticRegression(C=self.C, solver="liblinear", random_state=0)
        columns = [
            clone(head).fit(X, codes == c).predict_proba(pool)[:, 1]
            for c in np.unique(codes_in)
            if np.any(codes != c)
        ]
        if not columns:  # one class and nothing else labelled: no head can learn
            return np.ones((len(pool), 1))
        return np.column_stack(columns)

    def _open_entropy(self, emb_ood, pool, n_known, rng):
        n_clusters = min(self.n_unknown_clusters or n_known, len(emb_ood))
        if n_clusters < 2:
            return 0.0  # one centre: the softmax is constant
        centres = _kmeans(emb_ood, n_clusters, rng).cluster_centers_
        closeness = softmax(-pairwise_distances(pool, centres), axis=1)
        return entropy_informativeness(closeness) / np.log(n_clusters)


def _take_turns(embedding, ranked, n_clusters, rng):
    """`ranked` re-ordered so that k-means clusters take turns giving their best."""
    labels = _kmeans(embedding, n_clusters, rng).labels_
    # Rank of each row within its cluster; rows with the same rank form a turn.
    turn = np.zeros(len(labels), dtype=int)
    for cluster in np.unique(labels):
        members = labels == cluster
        turn[members] = np.arange(members.sum())
    return ranked[np.lexsort((np.arange(len(ranked)), turn))]


def _kmeans(X, n_clusters, rng):
    kmeans = KMeans(n_clusters, n_init=1, random_state=rng.randint(2**31 - 1))
    with ignored(ConvergenceWarning):  # duplicate rows
        return kmeans.fit(np.asarray(X, dtype=np.float64))
