"""Strategies that balance purity and informativeness: P+I, P*I and MQ-Net."""

import warnings
from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._meta_input import MetaInputTransformer
from .._model_scores import (
    INFORMATIVENESS_SCORES,
    PURITY_SCORES,
    SCORE_NEEDS,
    check_estimator_supports,
    class_probabilities,
    compute_score,
    model_embedding,
    per_example_loss,
)
from .._selector import MetaQueryNetSelector
from ._base import QueryStrategy, top_scores


class _MetaInputQuery(QueryStrategy):
    """Scores the pool by a function of its meta-input ``[P(x), I(x)]``.

    The meta-input is ``exp(z(score))`` (or the empirical CDF) of the raw
    purity and informativeness scores, with the statistics of the pool being
    queried (kept in ``meta_input_`` for later sets of the same round).
    """

    _parameter_constraints = {
        **QueryStrategy._parameter_constraints,
        "purity": [StrOptions(set(PURITY_SCORES)), callable],
        "informativeness": [StrOptions(set(INFORMATIVENESS_SCORES)), callable],
        "meta_input": [StrOptions({"exp_zscore", "quantile"})],
    }

    def _check_estimator(self, estimator):
        for kind, score in (
            ("purity", self.purity),
            ("informativeness", self.informativeness),
        ):
            if isinstance(score, str):
                check_estimator_supports(
                    estimator, SCORE_NEEDS.get(score, set()), f"{kind}={score!r}"
                )

    def _raw_scores(self, learner, X):
        return np.column_stack(
            [
                compute_score(self.purity, PURITY_SCORES, "purity", learner, X),
                compute_score(
                    self.informativeness,
                    INFORMATIVENESS_SCORES,
                    "informativeness",
                    learner,
                    X,
                ),
            ]
        )

    def _select(self, learner, X_pool, n_instances, rng):
        raw = self._raw_scores(learner, X_pool)
        self.meta_input_ = MetaInputTransformer(scaling=self.meta_input).fit(raw)
        self.pool_meta_input_ = self.meta_input_.transform(raw)
        return top_scores(self._combine(self.pool_meta_input_), n_instances, rng)


class PurityInformativenessQuery(_MetaInputQuery):
    """Heuristic balance of purity and informativeness: P+I or P*I.

    The two fixed balancing rules of the paper's Table 5; ``"sum"`` is also
    what MQ-Net uses before it has been trained.

    Parameters
    ----------
    purity : str or callable, default="knn_contrast"
        One of ``"msp"``, ``"energy"``, ``"mahalanobis"``, ``"knn"``,
        ``"knn_contrast"``, or ``score(learner, X) -> (n,)`` with higher
        meaning more likely in-distribution.
    informativeness : str or callable, default="least_confidence"
        One of ``"least_confidence"``, ``"margin"``, ``"entropy"``,
        ``"learning_loss"``, or ``score(learner, X) -> (n,)`` with higher
        meaning more informative.
    combine : {"sum", "product"}, default="sum"
        ``P(x) + I(x)`` or ``P(x) * I(x)`` of the meta-input.
    meta_input : {"exp_zscore", "quantile"}, default="exp_zscore"
        Conversion of the raw scores to the meta-input; see
        :class:`MetaInputTransformer`.
    random_state : int, RandomState instance or None, default=None
        Breaks ties.

    Attributes
    ----------
    meta_input_ : MetaInputTransformer
        Fitted on the raw scores of the last pool queried.
    pool_meta_input_ : ndarray of shape (n_pool, 2)
        Meta-input ``[P, I]`` of the last pool queried.
    """

    _parameter_constraints = {
        **_MetaInputQuery._parameter_constraints,
        "combine": [StrOptions({"sum", "product"})],
    }

    def __init__(
        self,
        purity="knn_contrast",
        informativeness="least_confidence",
        combine="sum",
        meta_input="exp_zscore",
        random_state=None,
    ):
        self.purity = purity
        self.informativeness = informativeness
        self.combine = combine
        self.meta_input = meta_input
        self.random_state = random_state

    def _combine(self, Z):
        return Z.sum(axis=1) if self.combine == "sum" else Z.prod(axis=1)


class MQNetQuery(_MetaInputQuery):
    """Meta-Query-Net: a learnt, monotone balance of purity and informativeness.

    Before any update the pool is ranked by ``P(x) + I(x)`` of the
    meta-input. Each :meth:`update` (called by the learner's ``teach`` with
    the freshly labelled query set, the *self-validation set*) fits a
    :class:`MetaQueryNetSelector` that ranks that set by its masked
    cross-entropy (the current classifier's loss for in-distribution
    examples, 0 for OOD ones); later queries rank the pool by the
    selector's meta-score.

    Parameters
    ----------
    purity : str or callable, default="knn_contrast"
        Purity score; see :class:`PurityInformativenessQuery`.
    informativeness : str or callable, default="least_confidence"
        Informativeness score; see :class:`PurityInformativenessQuery`.
    selector : MetaQueryNetSelector or None, default=None
        Template of the meta-model, cloned at every update. None uses
        ``MetaQueryNetSelector(random_state=random_state)``.
    meta_input : {"quantile", "exp_zscore"}, default="quantile"
        Conversion of the raw scores to the meta-input; see
        :class:`MetaInputTransformer`. The paper uses ``"exp_zscore"``,
        under which the heavier-tailed score dominates ``P + I``.
    accumulate : bool, default=True
        If True, each update trains on every query set seen so far, each
        with the meta-input scale of its own round; if False (the paper), on
        the latest query set only, which is small and noisy when the
        budget is.
    diversity_pool : int or None, default=3
        If an int ``m``, take the ``m * n_instances`` top meta-scores,
        cluster them into ``n_instances`` groups by k-means in the
        classifier's embedding space and query the best of each group, so
        a batch does not pile up in one region. Returned in meta-score
        order. If None (the paper), query the top meta-scores.
    random_state : int, RandomState instance or None, default=None
        Breaks ties and seeds the default selector.

    Attributes
    ----------
    meta_input_ : MetaInputTransformer
        Fitted on the raw scores of the last pool queried; the query set is
        converted with the same statistics, so training and querying share
        one scale.
    pool_meta_input_ : ndarray of shape (n_pool, 2)
        Meta-input ``[P, I]`` of the last pool queried.
    selector_ : MetaQueryNetSelector
        The meta-model of the last update that had a pair to rank. Absent
        until then (the strategy ranks by ``P + I``).
    validation_meta_input_ : ndarray of shape (n_validation, 2)
        Meta-input of the self-validation set of the last update (all query
        sets so far when ``accumulate=True``).
    validation_target_ : ndarray of shape (n_validation,)
        Its masked cross-entropy.

    Notes
    -----
    The defaults differ from the paper in three ways that each won on our
    benchmarks (``benchmarks/results/FINDINGS.md``): the scale-free
    meta-input, the accumulated self-validation set and the diverse batch.
    ``MQNetQuery(meta_input="exp_zscore", accumulate=False,
    diversity_pool=None)`` is the paper's method.

    An update whose query set holds no pair with different targets (e.g. all
    OOD) keeps the previous selector, with the selector's warning.

    The masked loss is the cross-entropy of the classifier's
    ``predict_proba`` (a net's logits), so any probabilistic classifier
    works; see :func:`class_probabilities` in ``_model_scores``.

    References
    ----------
    .. [1] D. Park, Y. Shin, J. Bang, Y. Lee, H. Song and J.-G. Lee,
       "Meta-Query-Net: Resolving Purity-Informativeness Dilemma in Open-set
       Active Learning", NeurIPS 2022.
    """

    _parameter_constraints = {
        **_MetaInputQuery._parameter_constraints,
        "selector": [MetaQueryNetSelector, None],
        "diversity_pool": [Interval(Integral, 1, None, closed="left"), None],
        "accumulate": ["boolean"],
    }

    def __init__(
        self,
        purity="knn_contrast",
        informativeness="least_confidence",
        selector=None,
        meta_input="quantile",
        accumulate=True,
        diversity_pool=3,
        random_state=None,
    ):
        self.purity = purity
        self.informativeness = informativeness
        self.selector = selector
        self.meta_input = meta_input
        self.diversity_pool = diversity_pool
        self.accumulate = accumulate
        self.random_state = random_state

    def _check_estimator(self, estimator):
        super()._check_estimator(estimator)
        # The masked loss of the self-validation set.
        check_estimator_supports(estimator, {"proba"}, "MQNetQuery")

    def _combine(self, Z):
        if hasattr(self, "selector_"):
            return self.selector_.predict(Z)
        return Z.sum(axis=1)

    def _select(self, learner, X_pool, n_instances, rng):
        if getattr(self, "_recent_queries", None) and not self._updated_since_query:
            warnings.warn(
                "MQNetQuery was queried again without an update since its last "
                "query, so it has not learnt from that query's labels (without "
                "updates it stays the fixed P+I rule). Call "
                "strategy.update(learner, X_query, y_query) before the learner "
                "retrains on a query (skal_openset.ActiveLearner.teach and "
                "teach_open_set do).",
                UserWarning,
            )
        indices, scores = super()._select(
            learner,
            X_pool,
            min(len(X_pool), n_instances * (self.diversity_pool or 1)),
            rng,
        )
        if self.diversity_pool is not None and len(indices) > n_instances:
            chosen = _best_per_cluster(
                model_embedding(learner, X_pool[indices]), n_instances, rng
            )
            indices, scores = indices[chosen], scores[chosen]
        self._remember_query(learner, X_pool[indices])
        return indices, scores

    def _remember_query(self, learner, X_chosen):
        """Keep what `update` needs to tie labelled rows to the query that chose them.

        The meta-input scale of that query's pool, and the classifier's
        probabilities on a few of its rows (to detect a retrained classifier).
        """
        probe = X_chosen[:_N_PROBE_ROWS]
        query = _RememberedQuery(
            {_row_key(row) for row in X_chosen},
            self.meta_input_,
            probe,
            class_probabilities(learner, probe),
        )
        self._recent_queries = [query, *getattr(self, "_recent_queries", [])][
            :_N_REMEMBERED_QUERIES
        ]
        self._updated_since_query = False

    def _query_of(self, X_query):
        """The most recent remembered query that returned every row of `X_query`."""
        keys = {_row_key(row) for row in X_query}
        for query in getattr(self, "_recent_queries", []):
            if keys <= query.row_keys:
                return query
        raise ValueError(
            "X_query holds rows that none of the last "
            f"{_N_REMEMBERED_QUERIES} queries of this strategy returned. MQ-Net "
            "converts their scores on the scale of the pool they were chosen "
            "from: update with (part of) what a query returned."
        )

    def _meta_input_for(self, X_query):
        """The meta-input scale of the query set: that of the query that chose it."""
        return self._query_of(X_query).meta_input

    def update(self, learner, X_query, y_query):
        """Fit the meta-model on the labelled query set (the self-validation set).

        Must be called before the learner retrains on the query: the masked
        loss has to come from the classifier that chose it.

        Parameters
        ----------
        learner : ActiveLearner or modAL learner
            Still holding the classifier that chose the query.
        X_query : array-like of shape (n_query, ...)
            The labelled query set.
        y_query : array-like of shape (n_query,)
            Its labels: classes ``0..k-1`` or the learner's ``ood_label``.

        Returns
        -------
        self : object
        """
        if not getattr(self, "_recent_queries", None):
            raise ValueError(
                "MQNetQuery.update needs the meta-input scale of a queried "
                "pool: call the strategy on the pool before updating it."
            )
        y_query = np.asarray(y_query)
        if len(y_query) != len(X_query):
            raise ValueError(
                f"X_query has {len(X_query)} rows but y_query has {len(y_query)}."
            )
        is_in = y_query != getattr(learner, "ood_label", -1)
        target = np.zeros(len(y_query))
        if is_in.any():
            target[is_in] = per_example_loss(learner, X_query[is_in], y_query[is_in])
        meta_input = self._meta_input_for(X_query)
        last = self._recent_queries[0]
        if not np.allclose(class_probabilities(learner, last.probe), last.proba):
            raise ValueError(
                "The learner's classifier changed since the last query: call "
                "strategy.update(learner, X_query, y_query) before the learner "
                "retrains on the query, since MQ-Net's target is the loss of "
                "the classifier that chose it."
            )
        Z = meta_input.transform(self._raw_scores(learner, X_query))
        if self.accumulate and hasattr(self, "validation_target_"):
            Z = np.vstack([self.validation_meta_input_, Z])
            target = np.concatenate([self.validation_target_, target])

        selector = clone(
            MetaQueryNetSelector(random_state=self.random_state)
            if self.selector is None
            else self.selector
        )
        self.validation_meta_input_, self.validation_target_ = Z, target
        selector.fit(Z, target)  # warns and stays unfitted if there is no pair
        self._updated_since_query = True
        if hasattr(selector, "module_"):
            self.selector_ = selector
        return self


# Rows whose probabilities are compared to detect a retrained classifier, and
# how many queries are remembered to find the one that chose a query set.
_N_PROBE_ROWS = 16
_N_REMEMBERED_QUERIES = 5


class _RememberedQuery(NamedTuple):
    row_keys: set
    meta_input: MetaInputTransformer
    probe: np.ndarray
    proba: np.ndarray


def _row_key(row):
    return np.ascontiguousarray(row).tobytes()


def _best_per_cluster(embedding, n_clusters, rng):
    """Sorted positions of the first row of each k-means cluster.

    Rows come ranked by meta-score, so the first row of a cluster is its
    best. If k-means finds fewer distinct clusters (duplicate rows), the
    best remaining rows fill the batch.
    """
    # float64: scikit-learn's k-means++ seeding is much slower on float32.
    kmeans = KMeans(n_clusters, n_init=1, random_state=rng.randint(2**31 - 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # duplicate rows
        labels = kmeans.fit_predict(np.asarray(embedding, dtype=np.float64))
    _, first = np.unique(labels, return_index=True)
    rest = np.setdiff1d(np.arange(len(labels)), first)
    return np.sort(np.concatenate([first, rest[: n_clusters - len(first)]]))
