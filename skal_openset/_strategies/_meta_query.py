"""Strategies that balance purity and informativeness: P+I, P*I and MQ-Net."""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)

from .._atomic import draws_globally, global_random_states_kept, restored_on_error
from .._frames import check_columns
from .._hashing import SameObject
from .._meta_input import MetaInputTransformer
from .._model_scores import (
    INFORMATIVENESS_SCORES,
    PURITY_SCORES,
    SCORE_NEEDS,
    _looked_through,
    check_estimator_supports,
    check_rows,
    class_codes,
    class_probabilities,
    compute_score,
    embedding_hook,
    fitted_estimator,
    labelled_in_and_ood,
    model_embedding,
    n_classes,
    ood_label_of,
    per_example_loss,
    resolve_score,
    unframed,
)
from .._models import LearningLossNet
from .._purity import TooFewLabelsError
from .._rows import legacy_row_keys, row_keys
from .._selector import (
    MetaQueryNetSelector,
    NoPairToRank,
    no_pair_raised,
    pairwise_ranking_accuracy,
)
from .._threads import one_blas_thread
from .._typing import IntLike, RandomStateLike, RealLike
from .._validation import is_one_of
from .._warn import ignored, noted_on, warn, warn_once
from ._base import QueryStrategy, extreme_scale_removed, top_scores


class _MetaInputQuery(QueryStrategy):
    """Scores the pool by a function of its meta-input ``[P(x), I(x)]``.

    The meta-input is ``exp(z(score))`` (or the empirical CDF) of the raw
    purity and informativeness scores, with the statistics of the pool being
    queried (kept in ``meta_input_`` for later sets of the same round).
    With ``purity="auto"`` the purity score of each round is the one of
    ``"mahalanobis"``, ``"knn"``, ``"knn_contrast"`` and ``"cosine"`` with
    the best cross-validated AUROC on the labelled set (``purity_``).
    """

    _parameter_constraints: dict = {
        **QueryStrategy._parameter_constraints,
        "purity": [StrOptions(set(PURITY_SCORES) | {"auto"}), callable],
        "informativeness": [StrOptions(set(INFORMATIVENESS_SCORES)), callable],
        "meta_input": [StrOptions({"exp_zscore", "quantile"})],
    }

    def _validate_params(self):
        super()._validate_params()
        # The names are checked above; a callable that is one of the package's
        # array-level functions (e.g. msp_purity) is refused here, before
        # labels are bought, not at the first query.
        for kind, score, registry in self._score_params():
            if isinstance(score, QueryStrategy):  # callable, as a modAL strategy
                raise InvalidParameterError(
                    f"The {kind!r} parameter of {type(self).__name__} is the query "
                    f"strategy {type(score).__name__}, which chooses rows rather "
                    f"than scoring them: pass one of {sorted(registry)}, or a "
                    "callable score(learner, X) -> array of shape (n_samples,), "
                    "e.g. LfOSAQuery(...).in_probability for purity."
                )
            if callable(score):
                resolve_score(score, registry, kind)

    def _score_params(self):
        return (
            ("purity", self.purity, PURITY_SCORES),
            ("informativeness", self.informativeness, INFORMATIVENESS_SCORES),
        )

    def _check_estimator(self, estimator):
        for kind, score, _ in self._score_params():
            if isinstance(score, str):
                check_estimator_supports(
                    estimator, SCORE_NEEDS.get(score, set()), f"{kind}={score!r}"
                )

    def _scores(self):
        """The purity and informativeness scores of a query now."""
        purity = self.purity_ if is_one_of(self.purity, "auto") else self.purity
        return purity, self.informativeness

    def _raw_scores(self, learner, X, scores=None):
        purity, informativeness = scores or self._scores()
        return np.column_stack(
            [
                compute_score(purity, PURITY_SCORES, "purity", learner, X),
                compute_score(
                    informativeness,
                    INFORMATIVENESS_SCORES,
                    "informativeness",
                    learner,
                    X,
                ),
            ]
        )

    def _select(self, learner, X_pool, n_instances, rng):
        return top_scores(self._meta_scores(learner, X_pool), n_instances, rng)

    def _meta_scores(self, learner, X_pool):
        """The score of every pool row, from its meta-input."""
        if is_one_of(self.purity, "auto"):
            self.purity_auroc_ = _purity_auroc(learner)
            self.purity_ = (
                max(self.purity_auroc_, key=self.purity_auroc_.get)
                if self.purity_auroc_
                else _AUTO_FALLBACK
            )
        try:
            raw = self._raw_scores(learner, X_pool)
        except TooFewLabelsError as error:
            # The folds can score where the whole set cannot: they are
            # embedded apart, and a net's rows of one input can differ in
            # their last bits there while they repeat exactly here.
            if not is_one_of(self.purity, "auto") or self.purity_ == _AUTO_FALLBACK:
                raise
            warn(
                f"purity='auto' chose {self.purity_!r} by its cross-validated "
                f"AUROC, but it cannot score against the whole labelled set "
                f"({error}); using {_AUTO_FALLBACK!r} for this query."
            )
            self.purity_ = _AUTO_FALLBACK
            raw = self._raw_scores(learner, X_pool)
        purity = self._scores()[0]
        if len(raw) > 1 and np.ptp(raw[:, 0]) == 0:
            why = "Pass another purity score."
            if is_one_of(purity, "knn", "knn_contrast", "cosine"):
                why = (
                    "The kNN and cosine scores compare L2-normalised rows, all "
                    "alike for rows of one feature: give the classifier more "
                    "features or an embedding, or pass purity='mahalanobis'."
                )
            elif is_one_of(purity, "msp", "energy"):
                why = (
                    f"The classifier's outputs give every pool row the same "
                    f"{purity} (e.g. a tree or a 1-NN, whose largest probability "
                    "is always 1): pass purity='knn_contrast'."
                )
            warn_once(  # once per score, not at every round of a campaign
                self,
                "_warned_of_constant_purity",
                # A callable by identity, not by its own __eq__ (is_one_of).
                purity if isinstance(purity, str) else SameObject(purity),
                f"purity {purity!r} is the same for every pool row: this query "
                f"cannot tell IN from OOD rows. {why}",
            )
        # Arrays whatever scikit-learn's transform_output (pool_meta_input_ is
        # one, and the selector trains on them).
        self.meta_input_ = (
            MetaInputTransformer(scaling=self.meta_input)
            .set_output(transform="default")
            .fit(raw)
        )
        self.pool_meta_input_ = self.meta_input_.transform(raw)
        return self._combine(self.pool_meta_input_)


class PurityInformativenessQuery(_MetaInputQuery):
    """Heuristic balance of purity and informativeness: P+I or P*I.

    The two fixed balancing rules of the paper's Table 5. ``"sum"`` is the
    rule by which :class:`MQNetQuery` ranks before its first selector is
    fitted (and always with ``rule_weight=1``), but MQ-Net's defaults apply
    it differently: to the ``"quantile"`` meta-input rather than
    ``"exp_zscore"``, with the batch spread over k-means clusters
    (``diversity_pool=3``) rather than the top scores. So
    ``PurityInformativenessQuery()`` queries as an untrained
    ``MQNetQuery(informativeness="least_confidence", meta_input="exp_zscore",
    diversity_pool=None)`` (the same purity and informativeness), not as an
    untrained ``MQNetQuery()``, whose queries are those of
    ``MQNetQuery(rule_weight=1)``.

    Parameters
    ----------
    purity : str or callable, default="knn_contrast"
        One of ``"msp"``, ``"energy"``, ``"mahalanobis"``, ``"knn"``,
        ``"knn_contrast"``, ``"cosine"``, or ``score(learner, X) -> (n,)``
        with higher meaning more likely in-distribution (the array-level
        functions behind the names, such as :func:`msp_purity`, take arrays
        and are refused: pass the name). ``"auto"`` picks,
        at every query, among the scores that compare an example with the
        labelled ones (``"mahalanobis"``, ``"knn"``, ``"knn_contrast"``,
        ``"cosine"``), the one whose held-out AUROC of labelled IN versus
        labelled OOD examples is best (3-fold cross-validation, each fold
        scored against the labelled set of the other folds; the classifier
        is the current one, which has seen the IN examples of every fold).
        ``"msp"`` and ``"energy"`` read the classifier's outputs alone,
        which are in-sample on every labelled IN example and would win
        whatever their worth. With fewer than 6 labelled OOD or IN examples
        it uses ``"knn_contrast"``, as it does, with a warning, when the
        score chosen cannot score against the whole labelled set though it
        could in the folds (``TooFewLabelsError``).
    informativeness : str or callable, default="least_confidence"
        One of ``"least_confidence"``, ``"margin"``, ``"entropy"``,
        ``"learning_loss"``, or ``score(learner, X) -> (n,)`` with higher
        meaning more informative (as for `purity`, pass ``"least_confidence"``,
        not the array-level :func:`least_confidence`).
    combine : {"sum", "product"}, default="sum"
        ``P(x) + I(x)`` or ``P(x) * I(x)`` of the meta-input. A score the
        same on every row of the pool is left out of the product (the
        quantile meta-input maps it to 0, which would tie every row).
    meta_input : {"exp_zscore", "quantile"}, default="exp_zscore"
        Conversion of the raw scores to the meta-input; see
        :class:`MetaInputTransformer`.
    random_state : int, RandomState instance or None, default=None
        Breaks ties.

    Attributes
    ----------
    meta_input_ : MetaInputTransformer
        Fitted on the raw scores of the last pool queried; it gives ndarrays,
        whatever scikit-learn's ``transform_output``.
    pool_meta_input_ : ndarray of shape (n_pool, 2)
        Meta-input ``[P, I]`` of the last pool queried.
    purity_ : str
        With ``purity="auto"``, the score used at the last query.
    purity_auroc_ : dict
        With ``purity="auto"``, the cross-validated AUROC of each score it
        compares (``"mahalanobis"``, ``"knn"``, ``"knn_contrast"``,
        ``"cosine"``) at the last query (empty when it fell back).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import (ActiveLearner, PurityInformativenessQuery,
    ...                           load_digits_dataset)
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 4, y, -1)  # digits 4-9 are out of distribution: label -1
    >>> strategy = PurityInformativenessQuery(combine="product", random_state=0)
    >>> learner = ActiveLearner(LogisticRegression(), strategy).fit(X[:100], y[:100])
    >>> indices, X_query = learner.query(X[100:], n_instances=5)
    >>> learner.query_strategy_.pool_meta_input_.shape  # [P, I] of every pool row
    (1697, 2)
    """

    _parameter_constraints: dict = {
        **_MetaInputQuery._parameter_constraints,
        "combine": [StrOptions({"sum", "product"})],
    }

    def __init__(
        self,
        purity: str | Callable[..., np.ndarray] = "knn_contrast",
        informativeness: str | Callable[..., np.ndarray] = "least_confidence",
        combine: str = "sum",
        meta_input: str = "exp_zscore",
        random_state: RandomStateLike = None,
    ) -> None:
        self.purity = purity
        self.informativeness = informativeness
        self.combine = combine
        self.meta_input = meta_input
        self.random_state = random_state

    def _combine(self, Z):
        if self.combine == "sum":
            return Z.sum(axis=1)
        # A score the same on every row ranks nothing: a factor 1, as its
        # exp-z meta-input is, not the quantile one's 0 that ties every row.
        return np.where(np.ptp(Z, axis=0) == 0, 1.0, Z).prod(axis=1)


class MQNetQuery(_MetaInputQuery):
    """Meta-Query-Net: a learnt, monotone balance of purity and informativeness.

    Each :meth:`update` (called by the learner's ``teach`` with the freshly
    labelled query set, the *self-validation set*) can fit a
    :class:`MetaQueryNetSelector` that ranks that set by its masked
    cross-entropy (the current classifier's loss for in-distribution
    examples, 0 for OOD ones); later queries rank the pool by a blend of
    the selector's meta-score and the fixed rule ``P(x) + I(x)`` of the
    meta-input, set by `rule_weight`.

    By default (``rule_weight="auto"``) the learnt selector alone ranks, as
    in the paper, unless at least half of the labelled set is OOD at the
    first query; then the rule ranks, with no selector fitted. Each fit
    starts from the rule: the network is first
    trained to rank by ``P + I``, then on the masked loss from there
    (``MetaQueryNetSelector(init="rule")``). On seeds and class splits the
    benchmark never reports, that start beat the paper's random one by 0.13
    points on the tables (523 paired runs, 10-60% noise) and 0.08 on
    Fashion-MNIST (64 runs), and tied with it on CPU runs of CIFAR-10 (21
    noisy runs of three presets). With least confidence (the default
    informativeness then) it beat the rule at 10-20% noise on the tables, tied
    with it at 40% and lost to it by 0.34 points at 60%, where no fixed balance
    ``w P + (1 - w) I`` beats the rule either; on Fashion-MNIST, where a
    balance leaning to informativeness beats the rule by 1.3-2 points, it
    gained 0.9. With margin, the default since, it tied the rule at 40% and
    lost to it by 0.58 points at 60% on the tables. The
    switch at one half OOD gained 0.60 points [0.17, 1.03] at 60% over the
    selector alone on fresh seeds of the tables, and was 0.26 points behind
    it [-1.34, 0.83] on Fashion-MNIST at 60%, where the selector won 16 of 23
    seeds; those runs' initial sets held exactly the noise ratio's OOD share
    (``benchmarks/results/FINDINGS.md``).

    Parameters
    ----------
    purity : str or callable, default="knn_contrast"
        Purity score, or ``"auto"``; see :class:`PurityInformativenessQuery`.
    informativeness : str or callable, default="margin"
        Informativeness score; see :class:`PurityInformativenessQuery`.
        Margin (minus the gap between the two largest class probabilities)
        ranks as least confidence, the paper's CONF, does with two classes;
        with more, it beat least confidence by 0.37 points [0.03, 0.72] at
        60% noise on the tables, on seeds and class splits the benchmark
        never reports and that did not choose it
        (``benchmarks/results/FINDINGS.md``).
    selector : MetaQueryNetSelector or None, default=None
        Template of the meta-model, cloned at every update. None uses
        ``MetaQueryNetSelector(init="rule", random_state=random_state)``,
        which starts each fit from the rule ``P + I``;
        ``MetaQueryNetSelector(random_state=random_state)`` starts from
        random weights, as the paper does.
    meta_input : {"quantile", "exp_zscore"}, default="quantile"
        Conversion of the raw scores to the meta-input; see
        :class:`MetaInputTransformer`. The paper uses ``"exp_zscore"``,
        under which the heavier-tailed score dominates ``P + I``.
    accumulate : bool, default=True
        If True, each update trains on every query set seen so far, each
        with the meta-input scale of its own round; if False (the paper), on
        the latest query set only, which is small and noisy when the
        budget is. With True the selector is refitted at each update on all
        the rows queried so far and ranks every pair of them, so an update
        takes time that grows with the square of those rows, the more so
        past 5,792 rows, where the selector recomputes the pairs every epoch
        (see `pair_chunk_size` of :class:`MetaQueryNetSelector`); False
        bounds it by the size of one query set.
    pairs : {"all", "within_round"}, default="all"
        With ``accumulate=True``, which pairs of in-distribution examples
        are ranked: all of them, or only those queried in the same round
        (their losses come from one classifier and their meta-inputs share
        one scale). Pairs from different rounds mostly say that older
        rounds had larger losses, which moves the learnt ranking towards
        informativeness; on seeds the benchmark never reports, that gave
        higher accuracy than within-round pairs at every noise ratio
        measured (``benchmarks/results/meta_signal.md``). Pairs of an
        in-distribution and an OOD example are ranked across rounds in
        both cases.
    validate_selector : bool, default=False
        If True, each update first compares, by 3-fold cross-validation on
        the self-validation set, the held-out pairwise ranking accuracy
        (pairs weighted by their target gap) of the learnt selector with that
        of the fixed rule ``P + I``, and keeps ranking by ``P + I`` unless
        the selector wins. An update whose held-out folds hold no pair to
        rank (a query set of a few rows, with ``accumulate=False``) cannot
        compare them: it warns and the strategy ranks as before it (by the
        previous selector, or by ``P + I``).
    rule_weight : float in [0, 1] or "auto", default="auto"
        Weight of the rule ``P + I`` in the meta-score; the learnt selector
        has ``1 - rule_weight``. The two are blended as ranks over the pool,
        so their scales do not matter and the blend stays monotone in purity
        and informativeness. With 1 no selector is fitted; with 0 the
        selector alone ranks (the paper). ``"auto"`` takes 0 if under half
        of the learner's labelled set is OOD at the first query, and 1
        otherwise (the initial set should be a random sample of the pool for
        this to estimate its OOD share); it also saves the selector's fits
        where OOD is that common.
    diversity_pool : int or None, default=3
        If an int ``m``, take the ``m * n_instances`` top meta-scores,
        cluster them into ``n_instances`` groups by k-means in the
        classifier's embedding space and query the best of each group, so
        a batch does not pile up in one region. Returned in meta-score
        order. Where those rows hold fewer than ``n_instances`` distinct
        embeddings (copies of a row), the candidates go on down the ranking
        until they hold that many, so the batch repeats a row only if the
        pool has too few distinct ones (or, with `batch_skyline`, where the
        copies of a row must all be in before any row they dominate). If
        None (the paper), query the top meta-scores. The clustering's cost
        grows with the square of ``n_instances`` (its k-means++ start takes
        one pass over the ``m * n_instances`` rows per cluster), not with
        the pool: for batches of thousands of rows, a smaller ``m`` or None
        is much faster.
    batch_skyline : bool, default=False
        With a `diversity_pool`, take an example into the batch only once
        every candidate that dominates it (at least as high in purity and
        informativeness, higher in one) is in it, so that no example left
        out dominates a chosen one: the skyline holds for the batch as a
        set, at the cost of most of the diversity (in two dimensions the
        batches that respect it are close to the top meta-scores). If False,
        the best example of each cluster is taken even when a better one of
        the same cluster dominates it.
    random_state : int, RandomState instance or None, default=None
        Breaks ties and seeds the selector, unless the ``selector`` given has
        a ``random_state`` of its own.

    Attributes
    ----------
    meta_input_ : MetaInputTransformer
        Fitted on the raw scores of the last pool queried; the query set is
        converted with the same statistics, so training and querying share
        one scale. It gives ndarrays, whatever scikit-learn's
        ``transform_output``.
    pool_meta_input_ : ndarray of shape (n_pool, 2)
        Meta-input ``[P, I]`` of the last pool queried.
    purity_ : str
        With ``purity="auto"``, the score used at the last query; see
        :class:`PurityInformativenessQuery`.
    purity_auroc_ : dict
        With ``purity="auto"``, the cross-validated AUROC of each score it
        compares (``"mahalanobis"``, ``"knn"``, ``"knn_contrast"``,
        ``"cosine"``) at the last query (empty when it fell back).
    rule_weight_ : float
        The rule's weight in use, `rule_weight` or what ``"auto"`` chose.
    labelled_ood_share_ : float
        With ``rule_weight="auto"``, the OOD share of the labelled set at the
        first query (0 if it had no labelled example).
    selector_ : MetaQueryNetSelector
        With ``rule_weight_ < 1``, the meta-model of the last update that had
        a pair to rank (with ``validate_selector=True``, of the last that
        could be validated, if it beat ``P + I`` there). Absent until then,
        or after a validation it lost, and the strategy ranks by ``P + I``.
    validation_meta_input_ : ndarray of shape (n_validation, 2)
        Meta-input of the self-validation set of the last update (all query
        sets so far when ``accumulate=True``).
    validation_target_ : ndarray of shape (n_validation,)
        Its masked cross-entropy.
    validation_round_ : ndarray of shape (n_validation,)
        The update (0, 1, ...) in which each row was queried, counted among
        the updates whose rows are stored: all 0 with ``accumulate=False``.
    cv_scores_ : dict
        With ``validate_selector=True``, the mean held-out pairwise ranking
        accuracy of ``"selector"`` and ``"rule"`` at the last update that
        could be validated (whose held-out folds had a pair to rank); absent
        until one could.

    See Also
    --------
    MQNetQuery.paper : The paper's configuration.

    Notes
    -----
    The defaults differ from the paper in the selector's start from the rule
    and its optimiser (full-batch Adam; the paper's schedule is SGD on
    batches of 32, as :meth:`paper` sets it), the rule in its place where
    OOD is common (`rule_weight`), the informativeness (margin; the paper's
    is LL, or CONF), the scale-free meta-input, the accumulated
    self-validation set with pairs across rounds, the diverse batch
    (``benchmarks/results/FINDINGS.md``) and the purity score (kNN contrast;
    the paper's CSI needs a contrastive encoder).

    An update whose self-validation set (every query set so far with
    ``accumulate=True``, the latest one otherwise) holds no pair with
    different targets (e.g. a query set all OOD, when it is the first or
    ``accumulate=False``) keeps the previous selector, with a warning that
    names the remedy for the strategy's settings.

    Its state is that of one learner's queries: while the learner that made
    them is in use, another is refused (a ValueError), unless it continues
    their campaign, holding in its labelled set the in-distribution rows
    last taught (a learner rebuilt each round around the same strategy);
    then it takes over. Give each campaign its own instance,
    ``sklearn.base.clone(strategy)``, as :class:`ActiveLearner` does; a modAL
    learner uses the object it is given.

    The masked loss is the cross-entropy of the classifier's
    ``predict_proba`` (a net's logits), so any probabilistic classifier
    works.

    References
    ----------
    .. [1] D. Park, Y. Shin, J. Bang, Y. Lee, H. Song and J.-G. Lee,
       "Meta-Query-Net: Resolving Purity-Informativeness Dilemma in Open-set
       Active Learning", NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import ActiveLearner, MQNetQuery, load_digits_dataset
    >>> X, y = load_digits_dataset()
    >>> y = np.where(y < 7, y, -1)  # digits 7-9 are out of distribution: label -1
    >>> learner = ActiveLearner(LogisticRegression(), MQNetQuery(random_state=0))
    >>> learner = learner.fit(X[:100], y[:100])
    >>> X_pool, y_pool = X[100:], y[100:]
    >>> indices, X_query = learner.query(X_pool, n_instances=20)
    >>> learner = learner.teach(X_query, y_pool[indices])  # the meta-model learns too
    >>> learner.query_strategy_.rule_weight_  # under half of the labelled set is OOD
    0.0
    >>> learner.query_strategy_.selector_
    MetaQueryNetSelector(init='rule', random_state=0)
    """

    # With rule_weight="auto", the labelled OOD share from which the rule
    # ranks. With margin the rule beat the learnt selector at 60% noise and lost
    # to it at 40% on the tables (seeds 100-183); a switch at 30% took the rule
    # at both.
    _auto_rule_ood_share = 0.5

    _parameter_constraints: dict = {
        **_MetaInputQuery._parameter_constraints,
        "selector": [MetaQueryNetSelector, None],
        "diversity_pool": [Interval(Integral, 1, None, closed="left"), None],
        "accumulate": ["boolean"],
        "pairs": [StrOptions({"within_round", "all"})],
        "validate_selector": ["boolean"],
        "rule_weight": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
        "batch_skyline": ["boolean"],
    }

    # The learner whose queries the state holds, weakly: None before the first
    # query, and after a pickle or deep copy, which cannot hold a weak reference.
    _learner_ref: weakref.ref | None = None

    def __init__(
        self,
        purity: str | Callable[..., np.ndarray] = "knn_contrast",
        informativeness: str | Callable[..., np.ndarray] = "margin",
        selector: MetaQueryNetSelector | None = None,
        meta_input: str = "quantile",
        accumulate: bool = True,
        pairs: str = "all",
        validate_selector: bool = False,
        rule_weight: RealLike | str = "auto",
        diversity_pool: IntLike | None = 3,
        batch_skyline: bool = False,
        random_state: RandomStateLike = None,
    ) -> None:
        self.purity = purity
        self.informativeness = informativeness
        self.selector = selector
        self.meta_input = meta_input
        self.accumulate = accumulate
        self.pairs = pairs
        self.validate_selector = validate_selector
        self.rule_weight = rule_weight
        self.diversity_pool = diversity_pool
        self.batch_skyline = batch_skyline
        self.random_state = random_state

    def set_params(self, **params: Any) -> MQNetQuery:
        """Set the parameters of this strategy, as scikit-learn does.

        ``selector__<name>`` sets a parameter of `selector`, which must then
        be a :class:`MetaQueryNetSelector` (given before or in the same call).

        Parameters
        ----------
        **params : dict
            Strategy parameters, and ``selector__<name>`` ones.

        Returns
        -------
        self : MQNetQuery
            This strategy.
        """
        # The default selector, None, is built at each update: no parameters.
        nested = {
            key.removeprefix("selector__"): value
            for key, value in params.items()
            if key.startswith("selector__")
        }
        if nested and params.get("selector", self.selector) is None:
            settings = ", ".join(f"{key}={value!r}" for key, value in nested.items())
            raise ValueError(
                f"Cannot set {', '.join('selector__' + key for key in nested)}: "
                "selector is None, which builds the default meta-model at each "
                "update. Pass the selector itself instead, "
                f'selector=MetaQueryNetSelector(init="rule", {settings}) '
                '(init="rule" is what None uses).'
            )
        return super().set_params(**params)

    def __getstate__(self):
        # A copy: the state may be this strategy's own __dict__. A loaded
        # strategy (a reloaded learner's) belongs to the first learner using it.
        state = super().__getstate__()
        return {name: value for name, value in state.items() if name != "_learner_ref"}

    def _check_learner(self, learner):
        """Refuse a learner other than the live one whose queries it holds,
        unless it continues that one's campaign (then it takes over)."""
        owner = None if self._learner_ref is None else self._learner_ref()
        if owner is None or owner is unframed(learner):
            return
        if self._continues_campaign(learner):
            self._claim(learner)
            return
        raise ValueError(
            "This MQNetQuery holds the queries of another learner, which is "
            "still in use: one strategy shared by two learners would train "
            "one meta-model on both learners' query sets. For a campaign of "
            "its own, give this learner its own strategy, "
            "sklearn.base.clone(strategy) (modAL's ActiveLearner uses the "
            "object it is given; ours clones it). To continue the other "
            "learner's campaign, this learner must hold the rows taught so far "
            "in its labelled set (X_training for modAL), or the other learner "
            "must be dropped (del it, and any list that holds it)."
        )

    def _continues_campaign(self, learner):
        """Whether `learner` holds the in-distribution rows last taught.

        A loop may rebuild its learner each round around the same strategy
        while the old one stays referenced (a history list, IPython's Out).
        The OOD rows are not asked for: modAL keeps them apart, in X_ood_,
        which a rebuilt learner may not carry.
        """
        taught = getattr(self, "_taught_in_keys", None)
        if hasattr(learner, "X_labelled_"):
            labelled = learner.X_labelled_
        else:
            labelled = getattr(learner, "X_training", None)
        if not taught or labelled is None:
            return False
        # As update reads the query rows, so that equal rows have equal keys.
        labelled = check_rows(
            labelled, getattr(learner, "estimator", learner), "X_training"
        )
        return taught <= set(row_keys(labelled)) or (
            labelled.dtype.kind == "O" and taught <= set(legacy_row_keys(labelled))
        )

    def _claim(self, learner):
        """Record `learner` as the one whose queries the state holds."""
        try:
            self._learner_ref = weakref.ref(unframed(learner))
        except TypeError:  # an object without weak references goes untracked
            self._learner_ref = None

    def _check_estimator(self, estimator):
        super()._check_estimator(estimator)
        # The masked loss of the self-validation set.
        check_estimator_supports(estimator, {"proba"}, "MQNetQuery")

    def _validate_params(self):
        super()._validate_params()
        # The selector template is first fitted after labels have been bought.
        if self.selector is not None:
            self.selector._validate_params()
            self.selector._check_param_combinations()
            if self.selector.warm_start:
                raise ValueError(
                    "MQNetQuery clones its selector at every update, so "
                    "warm_start=True would have no effect; leave it False (the "
                    "default init='rule' starts each fit from the rule P + I)."
                )

    @classmethod
    def paper(cls, random_state: RandomStateLike = None) -> MQNetQuery:
        """MQ-Net as the paper configures it, as closely as the target model allows.

        Purity: the CSI-lite score of the authors' code (largest cosine
        similarity to a labelled in-distribution example,
        :func:`cosine_purity`), on the classifier's embedding; with a fitted
        :class:`ContrastiveEncoder`, ``.set_params(purity=ContrastivePurity(
        encoder))`` gives the same score on its features, closer to the
        paper's CSI (not with ``use_ood=True``, a distance contrast).
        Informativeness: the learning-loss head's predicted loss (LL) when
        the classifier has one (e.g.
        ``make_mlp_classifier(learning_loss=True)``), least confidence
        (CONF, the paper's Table 2 variant) otherwise. ``exp(z)``
        meta-input; the selector retrained on the latest query set only,
        with the official schedule (SGD at lr 1e-3 without momentum, 100
        epochs of at least 100 batch-32 steps, lr x0.1 at epoch 50, weights
        drawn uniformly from [0, 1)); the selector alone ranks
        (``rule_weight=0``); the top meta-scores as the batch.

        Parameters
        ----------
        random_state : int, RandomState instance or None, default=None
            Breaks ties and seeds the selector, which has no seed of its own:
            ``set_params(random_state=...)`` reseeds both.

        Returns
        -------
        strategy : MQNetQuery
            A plain instance whose parameters hold this configuration, so
            ``get_params``, ``set_params`` and ``clone`` work as usual.

        Notes
        -----
        The schedule is the authors', but not every detail of their network
        and loss:

        - the weights are softplus-parametrised, not ReLU-wrapped, so an SGD
          step at lr 1e-3 moves the effective weights only about 0.15-0.17
          times as far (the softplus's slope ``1 - exp(-w)``, squared, is
          small for the weights in [0, 1) the net starts from);
        - each step ranks every pair of its batch of 32 whose targets
          differ, not the 16 pairs of the batch and its reverse, which also
          order tied targets;
        - the output layer has no bias (the ranking loss cannot see one);
        - the meta-input clips ``z`` to [-20, 20] before the exponential
          (:class:`MetaInputTransformer`'s ``clip``).

        Examples
        --------
        >>> from skal_openset import MQNetQuery
        >>> MQNetQuery.paper().get_params()["purity"]
        'cosine'
        """
        return cls(
            purity="cosine",
            informativeness=learning_loss_or_confidence,
            selector=MetaQueryNetSelector(
                optimizer="sgd",
                lr=1e-3,
                batch_size=32,
                steps_per_epoch=100,
                lr_decay_epoch=50,
                max_epochs=100,
            ),  # unseeded: seeded from the strategy's random_state at each update
            meta_input="exp_zscore",
            accumulate=False,
            rule_weight=0.0,
            diversity_pool=None,
            random_state=random_state,
        )

    def _combine(self, Z):
        rule = Z.sum(axis=1)
        if not hasattr(self, "selector_"):
            return rule
        if self.rule_weight_ == 0:
            return self.selector_.predict(Z)
        # Ranks make the two scales comparable; a weighted sum of two rankings
        # that are monotone in (P, I) is monotone too, so the skyline holds.
        return self.rule_weight_ * rankdata(rule) + (1 - self.rule_weight_) * rankdata(
            self.selector_.predict(Z)
        )

    def _select(self, learner, X_pool, n_instances, rng):
        self._check_learner(learner)
        if getattr(self, "_recent_queries", None) and not self._updated_since_query:
            warn_once(  # once until the next update, not at every query
                self,
                "_warned_of_no_update",
                True,
                "MQNetQuery was queried again without an update since its last "
                "query, so it has not learnt from that query's labels (without "
                "updates it stays the fixed rule P + I of its meta-input). Call "
                "strategy.update(learner, X_query, y_query) before the learner "
                "retrains on a query (skal_openset.ActiveLearner.teach and "
                "teach_open_set do).",
            )
        self.rule_weight_ = self._current_rule_weight(learner)
        meta_scores = self._meta_scores(learner, X_pool)
        indices, scores = top_scores(
            meta_scores,
            # Python ints: NumPy's (np.int64(2**62)) overflow in the product.
            min(len(X_pool), int(n_instances) * int(self.diversity_pool or 1)),
            rng,
        )
        if self.diversity_pool is not None and len(indices) > n_instances:
            embedding = model_embedding(learner, X_pool[indices])
            too_few = len(np.unique(embedding, axis=0)) < n_instances
            if too_few and len(indices) < len(X_pool):
                # Copies among the candidates: k-means would find fewer
                # clusters than the batch and fill it with copies of one row.
                indices, embedding = _with_distinct_rows(
                    learner, X_pool, meta_scores, indices, n_instances, rng
                )
                scores = meta_scores[indices]
            chosen = _diverse_batch(
                embedding,
                self.pool_meta_input_[indices] if self.batch_skyline else None,
                n_instances,
                rng,
            )
            indices, scores = indices[chosen], scores[chosen]
        self._remember_query(learner, X_pool[indices])
        return indices, scores

    def _current_rule_weight(self, learner):
        if self.rule_weight != "auto":
            return float(self.rule_weight)
        # Decided once: later labelled sets are biased by the queries.
        if not hasattr(self, "labelled_ood_share_"):
            X_in, _, X_ood = labelled_in_and_ood(learner)
            self.labelled_ood_share_ = len(X_ood) / max(len(X_in) + len(X_ood), 1)
        return float(self.labelled_ood_share_ >= self._auto_rule_ood_share)

    def _remember_query(self, learner, X_chosen):
        """Keep what `update` needs to tie labelled rows to the query that chose them.

        The meta-input scale of that query's pool and the scores it was
        fitted on, and the classifier's probabilities on a few of its rows (to
        detect a retrained classifier).
        """
        probe = X_chosen[:_N_PROBE_ROWS]
        query = _RememberedQuery(
            Counter(row_keys(X_chosen)),
            self.meta_input_,
            self._scores(),
            probe,
            class_probabilities(learner, probe),
            Counter(),
        )
        self._recent_queries = [query, *getattr(self, "_recent_queries", [])][
            :_N_REMEMBERED_QUERIES
        ]
        self._updated_since_query = False
        self._claim(learner)

    def _query_of(self, X_query, modal=False):
        """The keys of the rows of `X_query`, and the most recent remembered
        query that returned every one of them."""
        query_keys = row_keys(X_query)
        query = self._latest_query_of(query_keys)
        if query is None and X_query.dtype.kind == "O":
            # A strategy saved before object rows of numbers were keyed as
            # numbers holds their former keys.
            query_keys = legacy_row_keys(X_query)
            query = self._latest_query_of(query_keys)
        if query is not None:
            return query_keys, query
        raise ValueError(
            "X_query holds rows that none of the last "
            f"{_N_REMEMBERED_QUERIES} queries of this strategy returned. MQ-Net "
            "converts their scores on the scale of the pool they were chosen "
            "from: update with (part of) what a query returned. "
            + (_MODAL_ADVICE if modal else _EXTRA_LABELS_ADVICE)
        )

    def _latest_query_of(self, keys):
        """The most recent remembered query that returned every row of
        `keys`, or None."""
        keys = set(keys)
        for query in getattr(self, "_recent_queries", []):
            if keys.issubset(query.row_keys):
                return query
        return None

    def update(
        self, learner: Any, X_query: ArrayLike, y_query: ArrayLike
    ) -> MQNetQuery:
        """Fit the meta-model on the labelled query set (the self-validation set).

        Must be called before the learner retrains on the query: the masked
        loss has to come from the classifier that chose it.

        Parameters
        ----------
        learner : ActiveLearner or modAL learner
            The one that made the query, still holding the classifier that
            chose it.
        X_query : array-like of shape (n_query, ...)
            The labelled query set.
        y_query : array-like of shape (n_query,)
            Its labels as the annotator gave them: the learner's known
            classes, or its ``ood_label``.

        Returns
        -------
        self : object
        """
        self._check_learner(learner)
        modal = not hasattr(learner, "X_labelled_")
        if not getattr(self, "_recent_queries", None):
            raise ValueError(_not_queried_message(self, learner, modal))
        check_columns(X_query, learner, "X_query")
        X_query = check_rows(X_query, getattr(learner, "estimator", learner), "X_query")
        y_query = np.asarray(y_query)
        if len(y_query) != len(X_query):
            raise ValueError(
                f"X_query has {len(X_query)} rows but y_query has {len(y_query)}."
            )
        # The query that chose these rows: its pool's meta-input scale and
        # scores (a later set_params of the scores must not change them).
        query_keys, query = self._query_of(X_query, modal)
        counts = Counter(query_keys)
        # Rows are known by their values: a query may return copies of a row,
        # each of which teaches once, in one update or in several.
        learnt = Counter(query.learnt)
        if isinstance(query.row_keys, (set, frozenset)):
            # Remembered by an earlier version, which kept each key once: the
            # copies it returned are unknown, so only relearning is refused.
            excess = Counter({key: n for key, n in counts.items() if key in learnt})
        else:
            excess = counts - (Counter(query.row_keys) - learnt)
        if excess:
            relearnt = sum((excess & learnt).values())
            if relearnt:
                # Taught twice: appending them again, as for rows no query
                # chose, would train on them twice.
                others = len(X_query) - relearnt
                problem = (
                    f"MQNetQuery has already learnt from {relearnt} of these "
                    f"{len(X_query)} rows: they were taught before and the "
                    "learner holds them (each labelled query row teaches once, "
                    "copies of a row as often as the query returned them), so "
                    "teaching them again adds nothing; ActiveLearner.teach and "
                    "teach_open_set call update themselves, so do not call it "
                    "before them."
                )
                advice = _CORRECTION_ADVICE
                if others:
                    advice = (
                        f"To add the other {others}, fit the learner again on "
                        "learner.X_labelled_ and learner.y_labelled_ with those "
                        f"rows alone appended. {advice}"
                    )
            else:
                problem = (
                    f"X_query holds {sum(excess.values())} more copies of a row "
                    "than the query that chose it returned: each labelled query "
                    "row teaches MQNetQuery once. Give each row as often as the "
                    "query returned it."
                )
                advice = _EXTRA_LABELS_ADVICE
            raise ValueError(f"{problem} {_MODAL_ADVICE if modal else advice}")
        if not np.allclose(class_probabilities(learner, query.probe), query.proba):
            raise ValueError(
                "The learner's classifier was retrained (modAL's teach or fit) "
                "after the query that chose these rows, and MQ-Net's target is "
                "the loss of the classifier that chose them: query again, and "
                f"teach with teach_open_set. {_MODAL_ADVICE}"
                if modal
                else "The learner's classifier changed since the query that chose "
                "these rows, and MQ-Net's target is the loss of the classifier "
                "that chose them: query again and teach what it returns. In a "
                "loop of your own, call strategy.update(learner, X_query, "
                "y_query) before the learner retrains on the query. "
                + _EXTRA_LABELS_ADVICE
            )
        # The masked loss, once the rows are known to be learnable from.
        is_in = y_query != ood_label_of(learner)
        target = np.zeros(len(y_query))
        if is_in.any():
            target[is_in] = self._in_target(learner, X_query[is_in], y_query[is_in])
        # Atomic, as a query and ActiveLearner.teach are: a failure or Ctrl-C
        # while the selector trains must not leave this query set stored, nor
        # the global random states an unseeded one draws from.
        with (
            global_random_states_kept(draws_globally(self), []),
            restored_on_error(self),
        ):
            self._claim(learner)  # a loaded strategy's first learner
            self._updated_since_query = True
            self._warned_of_no_update = None
            self._recent_queries = [
                q._replace(learnt=learnt + counts) if q is query else q
                for q in self._recent_queries
            ]
            if is_in.any():  # what a learner continuing this campaign holds
                self._taught_in_keys = {
                    key for key, row_in in zip(query_keys, is_in) if row_in
                }
            with noted_on(self):  # a score's warnings, as at its queries
                raw = self._raw_scores(learner, X_query, query.scores)
            Z = query.meta_input.transform(raw)
            rounds = np.zeros(len(Z), dtype=int)
            if self.accumulate and hasattr(self, "validation_target_"):
                Z = np.vstack([self.validation_meta_input_, Z])
                target = np.concatenate([self.validation_target_, target])
                rounds = np.concatenate(
                    [self.validation_round_, rounds + self.validation_round_.max() + 1]
                )
            self.validation_meta_input_: np.ndarray = Z
            self.validation_target_: np.ndarray = target
            self.validation_round_: np.ndarray = rounds
            groups = rounds if self.pairs == "within_round" else None
            if self.rule_weight_ == 1:
                return self  # the rule alone ranks: no selector to fit

            template = self.selector
            if template is None:
                template = MetaQueryNetSelector(init="rule")
            # A seeded strategy must not draw its selector's start from NumPy's
            # global RNG; a selector's own seed wins (one without the
            # parameter, e.g. a subclass with a fixed ranking, has none).
            if template.get_params(deep=False).get("random_state", 0) is None:
                template = clone(template).set_params(random_state=self.random_state)
            selector = clone(template)  # a copy of a RandomState, as of any param
            try:
                with no_pair_raised():
                    selector.fit(Z, target, groups=groups)
            except NoPairToRank:
                warn(self._no_pair_message(target))
                return self
            if self.validate_selector:
                cv_scores = _cross_validated_scores(selector, Z, target, groups)
                if np.isnan(list(cv_scores.values())).any():
                    warn(
                        f"MQNetQuery cannot validate the selector on {len(Z)} "
                        "rows: no held-out fold of them has a pair to rank, so "
                        "it keeps ranking as before this update. Query more "
                        "rows at a time, or set accumulate=True."
                    )
                    return self
                self.cv_scores_ = cv_scores
                if not cv_scores["selector"] > cv_scores["rule"]:
                    self.__dict__.pop("selector_", None)  # back to the fixed rule
                    return self
            self.selector_ = selector
            return self

    def _no_pair_message(self, target):
        """The warning of an update whose self-validation set has no pair to
        rank, with the remedy that fits this strategy's settings."""
        n_in = int(np.count_nonzero(target))
        if not self.accumulate:
            rows = f"this update's {len(target)} rows"
            remedy = (
                "Query more rows at a time, or set accumulate=True to train on "
                "every query set so far."
            )
        else:
            rows = f"the {len(target)} rows queried so far"
            remedy = (
                "Set pairs='all' to rank in-distribution examples of different "
                "rounds too."
                if self.pairs == "within_round" and n_in > 1
                else "It fits at the first update that brings one."
            )
        return (
            f"MQNetQuery cannot fit its selector: {rows} ({n_in} "
            "in-distribution) hold no pair to rank (an in-distribution and an "
            "OOD example, or two in-distribution ones of different losses), so "
            f"it keeps ranking as before this update. {remedy}"
        )

    def _in_target(self, learner, X_in, y_in):
        """The target of the query's in-distribution rows, each positive (the
        OOD rows' is 0): their loss under the classifier that chose them."""
        return per_example_loss(learner, X_in, y_in)


# Rows whose probabilities are compared to detect a retrained classifier, and
# how many queries are remembered to find the one that chose a query set.
_N_PROBE_ROWS = 16
_N_REMEMBERED_QUERIES = 5
_EXTRA_LABELS_ADVICE = (
    "To add labels that no query chose, fit the learner again on the whole "
    "labelled set: learner.X_labelled_ and learner.y_labelled_ with these "
    "rows appended (as a DataFrame of the same columns if it was fitted on "
    "one), or, to correct the label of a row labelled already, with its "
    "label replaced in learner.y_labelled_ instead (appended, the row would "
    "keep both labels); MQ-Net then learns afresh."
)
_CORRECTION_ADVICE = (
    "To correct the label of a row labelled already, fit the learner again on "
    "learner.X_labelled_ and learner.y_labelled_ with its label replaced in "
    "learner.y_labelled_ (appended, the row would keep both labels); MQ-Net "
    "then learns afresh."
)
# The same for a modAL learner, which has no X_labelled_.
_MODAL_ADVICE = (
    "Give a modAL learner its initial labelled set when constructing it "
    "(X_training, y_training: the in-distribution rows; then learner.X_ood_ = "
    "the OOD rows), and teach rows that no query chose with modAL's own "
    "learner.teach (in-distribution rows only; append OOD rows to "
    "learner.X_ood_)."
)


def _not_queried_message(strategy, learner, modal):
    """Why `strategy`, which has not queried, cannot learn from the rows."""
    if modal:
        return (
            "MQNetQuery learns only from rows its queries returned, and it has "
            f"not queried yet. {_MODAL_ADVICE}"
        )
    given = getattr(learner, "query_strategy", None)
    own = getattr(learner, "query_strategy_", None)
    # The learner's own MQ-Net (teach updates a copy of it), and neither it
    # nor the one given has queried: rows taught before the first query.
    if (
        strategy is not given
        and type(own) is type(strategy)
        and not getattr(own, "_recent_queries", None)
        and not getattr(given, "_recent_queries", None)
    ):
        return (
            "MQNetQuery learns only from rows its queries returned, and no query "
            "of the learner chose these rows: it has not queried yet (before the "
            "first query, the labelled set is X_training, y_training). "
            f"{_EXTRA_LABELS_ADVICE}"
        )
    return (
        "MQNetQuery.update needs the meta-input scale of a queried pool: call "
        "the strategy on the pool before updating it. With "
        "skal_openset.ActiveLearner, query through learner.query(...): the "
        "learner works on a clone of the strategy it was given "
        "(learner.query_strategy_), which knows nothing of a query made with "
        "the original."
    )


class _RememberedQuery(NamedTuple):
    # Keys of the rows a query returned and of those `update` has learnt from,
    # with their counts (copies of a row). Earlier pickles hold sets, each key
    # once (`update` then allows any number of copies of a row not yet learnt),
    # and those of 0.1 lack `learnt`: Counter(...) reads all of them.
    row_keys: Counter | set
    meta_input: MetaInputTransformer
    scores: tuple
    probe: np.ndarray
    proba: np.ndarray
    learnt: Counter | frozenset = frozenset()


_AUTO_FALLBACK = "knn_contrast"
# The scores that compare a row with labelled examples, so that a fold can be
# held out; msp and energy see only the classifier, trained on every IN row.
_AUTO_CANDIDATES = ("mahalanobis", "knn", "knn_contrast", "cosine")
_AUTO_MIN_LABELS = 6  # of each kind, so that each of 3 folds holds two


def _purity_auroc(learner):
    """3-fold cross-validated AUROC of each of `_AUTO_CANDIDATES`, or {}.

    Each held-out fold is scored by a stand-in learner that holds the
    current classifier and the labelled examples of the other folds. The
    candidates compare embeddings, which any classifier gives (none needs
    probabilities, logits or a loss head). A score that has too few labels
    there (Mahalanobis with too few examples per class) is left out; any
    other error is raised.
    """
    X_in, y_in, X_ood = labelled_in_and_ood(learner)
    if min(len(X_in), len(X_ood)) < _AUTO_MIN_LABELS:
        return {}
    codes = class_codes(learner, y_in)
    X = np.concatenate([X_in, X_ood])
    y = np.concatenate([codes, np.full(len(X_ood), -1)])  # class positions, -1 OOD
    is_in = y >= 0
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, is_in))
    auroc = {}
    for name in _AUTO_CANDIDATES:
        score = PURITY_SCORES[name]
        try:
            values = [
                roc_auc_score(
                    is_in[test], score(_StandIn(learner, X, y, train), X[test])
                )
                for train, test in folds
            ]
        except TooFewLabelsError:
            continue
        auroc[name] = float(np.mean(values))
    return auroc


class _StandIn:
    """The learner's classifier with only some of its labelled examples.

    Labels are class positions ``0..k-1`` and -1 for OOD.
    """

    def __init__(self, learner, X, y, rows):
        self.estimator_ = fitted_estimator(learner)
        self.classes_ = np.arange(n_classes(learner))
        self.X_labelled_, self.y_labelled_ = X[rows], y[rows]
        self.ood_label_ = -1
        self.embedding_ = embedding_hook(learner)
        self.feature_dtypes_ = getattr(learner, "feature_dtypes_", None)


def learning_loss_or_confidence(learner: Any, X: ArrayLike) -> np.ndarray:
    """Informativeness of the paper: LL if the classifier has a loss head, else CONF.

    Parameters
    ----------
    learner : ActiveLearner or modAL learner
        Holds the fitted classifier.
    X : array-like of shape (n_samples, ...)
        Examples to score.

    Returns
    -------
    informativeness : ndarray of shape (n_samples,)
        The predicted loss of a :class:`LearningLossNet` (also of one that
        a fitted search or ``CalibratedClassifierCV`` wraps), otherwise one
        minus the largest class probability.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal_openset import (ActiveLearner, MQNetQuery,
    ...                           learning_loss_or_confidence, load_digits_dataset)
    >>> strategy = MQNetQuery(informativeness=learning_loss_or_confidence)
    >>> X, y = load_digits_dataset()
    >>> learner = ActiveLearner(LogisticRegression()).fit(X[:100], y[:100])
    >>> scores = learning_loss_or_confidence(learner, X[100:105])  # no loss head: CONF
    >>> bool(np.allclose(scores, 1 - learner.predict_proba(X[100:105]).max(axis=1)))
    True
    """
    name = (
        "learning_loss"
        if isinstance(_looked_through(fitted_estimator(learner))[1], LearningLossNet)
        else "least_confidence"
    )
    return INFORMATIVENESS_SCORES[name](learner, X)


def _cross_validated_scores(selector, Z, target, groups, n_splits=3):
    """Held-out pairwise ranking accuracy of a refitted selector and of ``P + I``.

    Pairs count in proportion to their target gap: what matters is how much
    of the loss the ranking puts first, not how many pairs it orders. Folds
    are stratified by in-distribution versus OOD, so that every held-out
    fold has pairs of both kinds when the set has them; a fold
    without a pair to rank (or without one to train on) is left out.
    """
    is_in = target > 0
    n_splits = min(n_splits, np.bincount(is_in, minlength=2).max())
    scores = {"selector": [], "rule": []}
    if n_splits < 2:
        return {name: float("nan") for name in scores}
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=0)
    with ignored(UserWarning):  # StratifiedKFold's: fewer IN or OOD rows than folds
        splits = list(folds.split(Z, is_in))
    # The folds' fits raise where they have no pair: a UserWarning ignored
    # while they ran (the filter is the process's) hid other threads' too. A
    # fold's fit may repeat the selector's own ConvergenceWarning.
    with ignored(ConvergenceWarning), no_pair_raised():
        for train, test in splits:
            try:
                fold = clone(selector).fit(
                    Z[train], target[train], groups=_subset(groups, train)
                )
            except NoPairToRank:
                continue
            held_out = dict(groups=_subset(groups, test), pair_weight="target_gap")
            rule = pairwise_ranking_accuracy(
                target[test], Z[test].sum(axis=1), **held_out
            )
            if np.isnan(rule):
                continue
            scores["rule"].append(rule)
            scores["selector"].append(
                pairwise_ranking_accuracy(
                    target[test], fold.predict(Z[test]), **held_out
                )
            )
    return {
        name: float(np.mean(values)) if values else float("nan")
        for name, values in scores.items()
    }


def _subset(groups, rows):
    return None if groups is None else groups[rows]


# Rows of the dominance matrix computed at once, so that memory grows linearly
# with the candidates.
_DOMINANCE_CHUNK = 256


def _dominance(Z_rows, Z):
    """``[j, i]``: row j of `Z_rows` dominates row i of `Z` (>= on all, > on one)."""
    at_least = (Z_rows[:, None] >= Z[None]).all(axis=2)
    return at_least & (Z_rows[:, None] > Z[None]).any(axis=2)


def _with_distinct_rows(learner, X_pool, meta_scores, candidates, n_instances, rng):
    """The ranking's top rows down to its `n_instances`-th distinct embedding.

    `candidates`, the top rows, hold fewer distinct rows than the batch: the
    ranking is extended below them (ties broken at random), embedded in
    doubling prefixes until one holds `n_instances` distinct rows (or the
    whole pool is), and cut after the first occurrence of the last of them.
    Returns the rows and their embedding.
    """
    rest = np.setdiff1d(np.arange(len(X_pool)), candidates)
    below, _ = top_scores(meta_scores[rest], len(rest), rng)
    ranking = np.r_[candidates, rest[below]]
    size = len(candidates)
    while True:
        size = min(2 * size, len(ranking))
        embedding = model_embedding(learner, X_pool[ranking[:size]])
        firsts = np.sort(np.unique(embedding, axis=0, return_index=True)[1])
        if len(firsts) >= n_instances or size == len(ranking):
            break
    end = firsts[n_instances - 1] + 1 if len(firsts) >= n_instances else size
    return ranking[:end], embedding[:end]


def _diverse_batch(embedding, Z, n_instances, rng):
    """Sorted positions of the best rows of distinct k-means clusters.

    Rows come ranked by meta-score. k-means groups them into `n_instances`
    clusters in the embedding. The batch is built one row at a time: the
    best eligible row of a cluster not yet represented, else (k-means found
    fewer distinct clusters, e.g. duplicate rows) the best eligible row.
    Every row is eligible if `Z` is None; otherwise a row is eligible once
    every row that dominates it in `Z` (at least as good on every
    meta-input and better on one) is in the batch, so that no row left out
    dominates a chosen one.
    """
    # float64: scikit-learn's k-means++ seeding is much slower on float32.
    kmeans = KMeans(n_instances, n_init=1, random_state=rng.randint(2**31 - 1))
    # Squared distances of values beyond 1e154 overflow, those of values near
    # 1e-170 underflow to 0: either way k-means found a single cluster.
    (embedding,) = extreme_scale_removed(np.asarray(embedding, dtype=np.float64))
    # One BLAS thread: the seeding makes n_instances tiny products.
    with ignored(ConvergenceWarning), one_blas_thread():
        labels = kmeans.fit_predict(embedding)
    if Z is None:
        # Every row eligible: the loop below takes the best row of each cluster,
        # then the best others; here without its quadratic bookkeeping.
        firsts = np.unique(labels, return_index=True)[1]
        others = np.setdiff1d(np.arange(len(labels)), firsts)
        return np.sort(np.r_[firsts, others[: n_instances - len(firsts)]])
    # Each row's count of unchosen rows that dominate it, kept up to date as
    # rows are chosen: memory and time per step linear in the rows.
    blockers = np.zeros(len(Z), dtype=np.int64)
    for start in range(0, len(Z), _DOMINANCE_CHUNK):
        blockers += _dominance(Z[start : start + _DOMINANCE_CHUNK], Z).sum(axis=0)
    chosen = np.zeros(len(labels), dtype=bool)
    covered = np.zeros(labels.max() + 1, dtype=bool)
    for _ in range(n_instances):
        candidates = np.flatnonzero(~chosen & (blockers == 0))
        fresh = candidates[~covered[labels[candidates]]]
        pick = fresh[0] if len(fresh) else candidates[0]
        chosen[pick] = True
        covered[labels[pick]] = True
        blockers -= _dominance(Z[pick : pick + 1], Z)[0]
    return np.flatnonzero(chosen)
