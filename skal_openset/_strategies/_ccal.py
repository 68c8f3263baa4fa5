"""CCAL-style query: semantic plus distinctive scores (Du et al. 2021)."""

from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from .._model_scores import class_codes, labelled_in_and_ood, model_embedding
from .._purity import _near_one
from .._typing import RandomStateLike, RealLike
from .._validation import check_finite_array
from ._base import QueryStrategy

# Pool-to-labelled similarities are computed about this many at a time (128 MiB
# of float64): enough for every benchmark's pool and labelled IN set in one
# block (fewer rows per block could change the last bits of a product).
_CHUNK_ENTRIES = 2**24


class CCALQuery(QueryStrategy):
    """Query examples semantically like labelled IN and distinct from them.

    In a feature space (a contrastive encoder's, or the classifier's
    embedding):

    - the *semantic* score of a pool example is its largest cosine
      similarity to a labelled IN example, min-max scaled over the pool to
      ``x`` in [0, 1] and squashed by ``(1 - exp(-k (x - t))) / (1 + exp(-k
      (x - t)))``, which is near -1 below the threshold `t` and near +1
      above it;
    - the *distinctive* score for known class ``c`` is ``1 - d`` with ``d``
      the min-max scaled ``2 v_1 - v_2 + cos(a_1, a_2)``, where ``v_1 >= v_2``
      are the example's two largest cosine similarities to labelled examples
      of class ``c`` and ``a_1, a_2`` those two examples (a class with one
      labelled example uses it twice).

    Each known class ranks the pool by ``semantic + distinctive_c``; the
    classes take turns (in class order), each adding its best
    ``ceil(n_instances / K)`` examples not yet chosen until the batch is
    full, as the official code does: where `n_instances` is not a multiple
    of K, the last classes add fewer, and none where the first classes
    fill it (e.g. 2, 2, 1 and 0 for 5 examples of 4 classes). The batch
    comes back rank by rank: every class's best example (in class order),
    then every class's second best, and so on, so that any first part of it
    (what a budget buys when labels differ in cost) holds examples of every
    class that added one.
    The score of a chosen example is its ``semantic + distinctive_c`` for the
    class that chose it.

    Parameters
    ----------
    features : callable, transformer or None, default=None
        The feature space. None: the classifier's embedding (its
        penultimate layer for a net, or the learner's ``embedding``). A
        fitted transformer (anything with ``transform``):
        ``features.transform(X)``. A callable:
        ``features(X)``, e.g. a fitted contrastive encoder's ``transform``
        method. Either must return one row per example. A learner
        (:class:`ActiveLearner`) clones its strategy, which unfits a
        transformer given as such; its bound ``transform`` method is copied
        fitted.
    k : float, default=100.0
        Steepness of the semantic squashing (the reference code's ``--k``).
    t : float, default=0.9
        Threshold of the semantic squashing (the reference code's ``--t``).
    random_state : int, RandomState instance or None, default=None
        Breaks ties.

    Notes
    -----
    CCAL trains two contrastive encoders: a SimCLR one for the semantic
    score and a CSI one (with shifting transformations) for the distinctive
    score. Here one feature space serves both, with no augmentations
    averaged and no CSI shift weights: on tables the classifier's
    embedding, on images whatever encoder `features` provides. The scores
    follow the reference implementation (``ccal_eval.py`` in the MQ-Net and
    ALScope code). Labelled OOD examples are not used, as in CCAL. The
    similarities of the pool to the labelled IN examples are computed a
    block of pool rows at a time (about 16 million at once), so memory grows
    linearly in the pool.

    References
    ----------
    .. [1] P. Du, S. Zhao, H. Chen, S. Chai, H. Chen and C. Li, "Contrastive
       Coding for Active Learning under Class Distribution Mismatch",
       ICCV 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import ActiveLearner, CCALQuery, load_digits_dataset
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> pca = PCA(n_components=16, random_state=0).fit(X)  # the pool's own features
    >>> strategy = CCALQuery(features=pca.transform, random_state=0)
    >>> learner = ActiveLearner(LogisticRegression(), strategy).fit(X[:100], y[:100])
    >>> indices, X_query = learner.query(X[100:], n_instances=5)
    >>> X_query.shape
    (5, 64)
    """

    _parameter_constraints: dict = {
        **QueryStrategy._parameter_constraints,
        "features": [None, HasMethods("transform"), callable],
        "k": [Interval(Real, 0, None, closed="neither")],
        "t": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        features: Any = None,
        k: RealLike = 100.0,
        t: RealLike = 0.9,
        random_state: RandomStateLike = None,
    ) -> None:
        self.features = features
        self.k = k
        self.t = t
        self.random_state = random_state

    def _features(self, learner, X):
        if self.features is None:
            return model_embedding(learner, X)
        if hasattr(self.features, "transform"):
            try:
                values = self.features.transform(X)
            except AttributeError as error:  # NotFittedError is one
                # Another AttributeError is the unfitted one's only where it
                # names a fitted attribute ("components_") of an unfitted one.
                fitted_attribute = str(getattr(error, "name", None) or "")[-1:] == "_"
                if not isinstance(error, NotFittedError) and not (
                    fitted_attribute and _unfitted(self.features)
                ):
                    raise
                raise ValueError(
                    f"features={type(self.features).__name__}(...) is not fitted. A "
                    "learner clones its strategy, and cloning unfits an estimator "
                    "parameter: pass the fitted transformer's method instead, "
                    "features=transformer.transform."
                ) from error
        else:
            values = self.features(X)
        values = check_finite_array(values, input_name="features(X)")
        if len(values) != len(X):
            raise ValueError(
                f"features returned {len(values)} rows for {len(X)} examples; it "
                "must return one feature row per example."
            )
        return values

    def _select(self, learner, X_pool, n_instances, rng):
        X_in, y_in, _ = labelled_in_and_ood(learner)
        codes_in = class_codes(learner, y_in)
        # float64: the steep squashing magnifies float32 rounding. Rows near
        # 1: normalising squares them, which over- or underflows far from it.
        pool = _near_one(self._features(learner, X_pool).astype(np.float64))
        labelled = _near_one(self._features(learner, X_in).astype(np.float64))
        in_class = [codes_in == c for c in np.unique(codes_in)]
        anchor_similarity = [cosine_similarity(labelled[mask]) for mask in in_class]
        nearest = np.empty(len(pool))
        distinctive = np.empty((len(in_class), len(pool)))
        # A block of pool rows at a time: all n_pool x n_in similarities at
        # once would grow as the product of the two sets.
        step = max(1, _CHUNK_ENTRIES // max(len(labelled), 1))
        for rows in gen_batches(len(pool), step):
            similarity = cosine_similarity(pool[rows], labelled)
            nearest[rows] = similarity.max(axis=1)
            for i, mask in enumerate(in_class):
                distinctive[i, rows] = _distinctive(
                    similarity[:, mask], anchor_similarity[i]
                )
        x = _min_max(nearest)
        semantic = np.tanh(self.k * (x - self.t) / 2.0)  # = (1 - e^-z) / (1 + e^-z)
        class_scores = [semantic + 1.0 - _min_max(scores) for scores in distinctive]
        return _take_turns(class_scores, n_instances, rng)


def _unfitted(transformer):
    """Whether scikit-learn's `transformer` is unfitted, by its fitted attributes.

    Its transform need not say so: up to scikit-learn 1.7.0, an unfitted PCA
    raised AttributeError on ``components_``. Anything else, and a stateless
    estimator (its ``requires_fit`` tag False), is not called unfitted.
    """
    if not isinstance(transformer, BaseEstimator):
        return False
    try:
        check_is_fitted(transformer)
    except NotFittedError:
        return True
    return False


def _min_max(values):
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def _distinctive(similarity, anchor_similarity):
    """``2 v1 - v2 + cos(a1, a2)`` of each row, from its two nearest anchors."""
    order = _two_nearest(similarity)
    rows = np.arange(len(similarity))
    v1, v2 = similarity[rows, order[:, 0]], similarity[rows, order[:, 1]]
    return 2.0 * v1 - v2 + anchor_similarity[order[:, 0], order[:, 1]]


def _two_nearest(similarity):
    """The first two columns of ``argsort(-similarity)``, without sorting whole rows.

    A single column is taken twice. A row whose two largest values are
    distinct and above the rest has one answer, from a partial sort; a row
    with a tie among its three largest is sorted, so that argsort's order
    among the tied columns picks the anchors, as it always did.
    """
    if similarity.shape[1] < 3:
        order = np.argsort(-similarity, axis=1)
        return order if order.shape[1] == 2 else np.repeat(order, 2, axis=1)
    # kth -3 and -2 in place, so the last three columns hold the three
    # largest in increasing order.
    order = np.argpartition(similarity, (-3, -2), axis=1)[:, :-4:-1]
    top = np.take_along_axis(similarity, order, axis=1)
    tied = (top[:, 0] == top[:, 1]) | (top[:, 1] == top[:, 2])
    order = order[:, :2].copy()
    order[tied] = np.argsort(-similarity[tied], axis=1)[:, :2]
    return order


def _take_turns(class_scores, n_instances, rng):
    """Each class in turn adds its best ``ceil(n / K)`` rows not yet chosen,
    until there are `n_instances`.

    The rows come back rank by rank (every class's best, then every class's
    second best, ...), not class by class: a budget that buys only the first
    rows of the batch then buys from every class that added one.
    """
    per_class = -(-n_instances // len(class_scores))
    tie_break = rng.permutation(len(class_scores[0]))
    chosen, scores, ranks = [], [], []
    taken = np.zeros(len(tie_break), dtype=bool)
    for score in class_scores:  # per_class * K >= n: one turn each is enough
        order = np.lexsort((tie_break, -score))
        new = order[~taken[order]][: min(per_class, n_instances - len(chosen))]
        taken[new] = True
        chosen.extend(new)
        scores.extend(score[new])
        ranks.extend(range(len(new)))
    # A stable sort by rank keeps the classes in class order within a rank.
    by_rank = np.argsort(ranks, kind="stable")
    return np.asarray(chosen)[by_rank], np.asarray(scores)[by_rank]
