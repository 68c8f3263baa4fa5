"""Query strategies: one shared template of the modAL contract, then each
strategy's own behaviour, every score checked against an independent
computation from the learner's net."""

import copy
import dataclasses
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import joblib
import numpy as np
import pytest
import sklearn
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp, xlogy
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, clone
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import pairwise_distances, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer, normalize
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from threadpoolctl import threadpool_info, threadpool_limits

from _float_events import assert_same_under_raising_errstate
from _learners import N_POOL, K, _fitted_learner, _net
from skal_openset import (
    ActiveLearner,
    BadgeQuery,
    CCALQuery,
    CoreSetQuery,
    LearningLossQuery,
    LfOSAQuery,
    MetaInputTransformer,
    MetaQueryNetSelector,
    MQNetQuery,
    PurityAUROC,
    PurityInformativenessQuery,
    RandomQuery,
    UncertaintyQuery,
    _purity,
    _threads,
    cosine_purity,
    embed,
    energy_purity,
    entropy_informativeness,
    gradient_embedding,
    knn_contrast_purity,
    knn_purity,
    learning_loss_or_confidence,
    least_confidence,
    mahalanobis_purity,
    margin_informativeness,
    msp_purity,
    predict_logits,
)
from skal_openset._model_scores import PURITY_SCORES, SCORE_NEEDS, resolve_score
from skal_openset._purity import TooFewLabelsError
from skal_openset._strategies import _badge, _base, _coreset, _meta_query

# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def ll_learner(split):
    return _fitted_learner(split, learning_loss=True)


@pytest.fixture(scope="module")
def paper_updated(split, unlabelled, pool, ll_learner):
    """MQNetQuery.paper() after one query of 40 and its update: its selector
    trains for 100 epochs of 100 steps, seconds that two tests share."""
    learner = copy.deepcopy(ll_learner)
    learner.query_strategy_ = strategy = MQNetQuery.paper(random_state=0)
    indices, _ = strategy(learner, pool, n_instances=40)
    strategy.update(learner, pool[indices], split.y_pool[unlabelled[indices]])
    return dict(learner=learner, strategy=strategy)


# The warning of a purity score alike for every pool row.
CONSTANT_PURITY = "ignore:purity .* is the same for every pool row:UserWarning"
LEARNT = dict(rule_weight=0.0)  # the learnt selector ranks, not the rule P + I
EXP_Z_LATEST_TOP_K = dict(
    LEARNT, meta_input="exp_zscore", accumulate=False, diversity_pool=None
)


def _taught(split, unlabelled, pool, strategy, kind="mlp"):
    """An MQ-Net learner after one query and teach, and the model that chose it."""
    mq_learner = _fitted_learner(split, strategy, kind=kind)
    idx, X_query = mq_learner.query(pool, n_instances=30)
    y_query = split.y_pool[unlabelled[idx]]
    if kind == "mlp":  # the MQ-Net-specific tests below need both in the query
        assert 0 < np.sum(y_query == -1) < len(y_query), "need IN and OOD"
    chooser = copy.deepcopy(mq_learner.estimator_)
    names = strategy.purity, strategy.informativeness
    raw_pool = raw_scores(mq_learner, pool, *names)
    raw_query = raw_scores(mq_learner, X_query, *names)
    mq_learner.teach(X_query, y_query)
    return dict(
        learner=mq_learner,
        chooser=chooser,
        X_query=X_query,
        y_query=y_query,
        raw_pool=raw_pool,
        raw_query=raw_query,
    )


@pytest.fixture(scope="module")
def taught(split, unlabelled, pool):
    """The learnt MQ-Net (``rule_weight=0``) after one query and teach."""
    return _taught(split, unlabelled, pool, MQNetQuery(random_state=0, **LEARNT))


@pytest.fixture(scope="module")
def taught_paper(split, unlabelled, pool):
    return _taught(
        split, unlabelled, pool, MQNetQuery(random_state=0, **EXP_Z_LATEST_TOP_K)
    )


@pytest.fixture(scope="module")
def any_taught(split, unlabelled, pool, estimator_kind):
    """Taught learners of every classifier kind, for three MQ-Net configurations."""
    return {
        name: _taught(
            split,
            unlabelled,
            pool,
            MQNetQuery(random_state=0, **config),
            estimator_kind,
        )
        for name, config in (
            ("taught_default", {}),
            ("taught", LEARNT),
            ("taught_paper", EXP_Z_LATEST_TOP_K),
        )
    }


def zeroed(learner, modules=("stages", "head")):
    """A copy of `learner` whose net has the named submodules' parameters zeroed."""
    learner = copy.deepcopy(learner)
    with torch.no_grad():
        for name in modules:
            for param in getattr(learner.estimator_.module_, name).parameters():
                param.zero_()
    return learner


# ------------------------------------------------- independent computations


def expected_proba(learner, X):
    """The classifier's probabilities, a column per known class (0 if unseen)."""
    estimator = learner.estimator_
    proba = np.zeros((len(X), K))
    proba[:, estimator.classes_] = estimator.predict_proba(X)
    return proba


def expected_embedding(learner, X):
    """A net's penultimate layer after the preprocessing steps; else their output."""
    estimator = learner.estimator_
    if isinstance(estimator, Pipeline):
        X, estimator = estimator[:-1].transform(X), estimator[-1]
    if isinstance(estimator, NeuralNet):
        return embed(estimator, X)
    return np.asarray(X)


def informativeness(name, learner, X):
    if name == "learning_loss":
        module = copy.deepcopy(learner.estimator_.module_).eval()
        with torch.no_grad():
            return module(torch.from_numpy(X))[1].numpy().astype(np.float64)
    proba = expected_proba(learner, X)
    top = np.sort(proba, axis=1)
    if name == "least_confidence":
        return 1.0 - top[:, -1]
    if name == "margin":
        return top[:, -2] - top[:, -1]
    assert name == "entropy"
    return -xlogy(proba, proba).sum(axis=1)


def purity(name, learner, X):
    if name == "msp":
        return expected_proba(learner, X).max(axis=1)
    if name == "energy":
        logits = predict_logits(learner.estimator_, X).astype(np.float64)
        return logsumexp(logits, axis=1)
    is_in = learner.y_labelled_ != learner.ood_label
    emb = expected_embedding(learner, X)
    emb_in = expected_embedding(learner, learner.X_labelled_[is_in])
    if name == "mahalanobis":
        return mahalanobis_purity(emb, emb_in, learner.y_labelled_[is_in])
    if name == "cosine":
        return (normalize(emb) @ normalize(emb_in).T).max(axis=1)
    dist_in = pairwise_distances(normalize(emb), normalize(emb_in)).min(axis=1)
    if name == "knn":
        return -dist_in
    assert name == "knn_contrast"
    emb_ood = expected_embedding(learner, learner.X_labelled_[~is_in])
    return pairwise_distances(normalize(emb), normalize(emb_ood)).min(axis=1) - dist_in


def raw_scores(learner, X, purity_name, informativeness_name):
    return np.column_stack(
        [
            purity(purity_name, learner, X),
            informativeness(informativeness_name, learner, X),
        ]
    )


def exp_z(raw, reference):
    """exp of the z-score of `raw` under the mean and population std of `reference`.

    A constant column has z-score 0 (a degenerate classifier's scores can be).
    """
    std = reference.std(axis=0)
    return np.exp((raw - reference.mean(axis=0)) / np.where(std > 1e-12, std, 1.0))


def empirical_cdf(raw, reference):
    """Each column of `raw` on the empirical CDF of `reference`.

    scikit-learn's quantile transform with one quantile per reference row:
    tied values share the middle of their positions (up to its floating-point
    rounding, which a hand-written mid-rank does not reproduce).
    """
    cdf = QuantileTransformer(n_quantiles=len(reference), subsample=None)
    return cdf.fit(reference).transform(raw)


def meta_input(raw, reference, scaling):
    return (exp_z if scaling == "exp_zscore" else empirical_cdf)(raw, reference)


def gradient_norms(learner, X):
    """||p - onehot(argmax p)|| * ||h||: the norm of BADGE's gradient embedding."""
    proba = expected_proba(learner, X)
    residual = proba - np.eye(proba.shape[1])[proba.argmax(axis=1)]
    embedding = expected_embedding(learner, X)
    return np.linalg.norm(residual, axis=1) * np.linalg.norm(embedding, axis=1)


# ------------------------------------------------------------------ template


@dataclass
class Case:
    make: Callable  # random_state -> a fresh strategy
    learner: ActiveLearner


def assert_contract(indices, scores, n_pool, k):
    assert isinstance(indices, np.ndarray) and isinstance(scores, np.ndarray)
    assert indices.shape == (k,) and scores.shape == (k,)
    assert np.issubdtype(indices.dtype, np.integer)
    assert len(np.unique(indices)) == k
    assert indices.min() >= 0 and indices.max() < n_pool
    assert np.all(np.isfinite(scores))


def net_state(learner):
    """Everything a strategy could change: the model, its training log, the data."""
    return (
        joblib.hash(learner.estimator_),
        learner.X_labelled_.copy(),
        learner.y_labelled_.copy(),
    )


class StrategyTemplate:
    """What every query strategy satisfies; subclasses provide a `case` fixture.

    ``ordered``: scores are non-increasing along the returned order.
    ``top_k``: the indices are the k best of ``expected_scores``.
    ``score_atol``: absolute tolerance of the scores against them.
    """

    ordered = True
    top_k = True
    score_atol = 1e-6

    def expected_scores(self, strategy, learner, X_pool):
        """Each pool row's score, computed independently; None if not per row."""
        return None

    @pytest.mark.parametrize("k", [1, 7, N_POOL])
    def test_modal_contract(self, case, pool, k):
        indices, scores = case.make(0)(case.learner, pool, n_instances=k)
        assert_contract(indices, scores, len(pool), k)

    def test_scores_match_an_independent_computation(self, case, pool):
        strategy = case.make(0)
        indices, scores = strategy(case.learner, pool, n_instances=20)
        expected = self.expected_scores(strategy, case.learner, pool)
        if expected is None:
            pytest.skip("the score of a row depends on the rest of the batch")
        np.testing.assert_allclose(
            scores, expected[indices], rtol=1e-4, atol=self.score_atol
        )
        if self.top_k:
            rest = np.delete(expected, indices)
            assert scores.min() >= rest.max() - 1e-4 * (1 + abs(rest.max()))

    def test_scores_non_increasing(self, case, pool):
        if not self.ordered:
            pytest.skip("scores of this strategy carry no order")
        _, scores = case.make(0)(case.learner, pool, n_instances=30)
        assert np.all(np.diff(scores) <= 1e-9 * (1 + np.abs(scores[:-1])))

    def test_reproducible_with_an_int_seed(self, case, pool):
        strategy = case.make(3)
        first = strategy(case.learner, pool, n_instances=15)
        again = strategy(case.learner, pool, n_instances=15)
        other = case.make(3)(case.learner, pool, n_instances=15)
        for result in (again, other):
            np.testing.assert_array_equal(result[0], first[0])
            np.testing.assert_array_equal(result[1], first[1])

    def test_does_not_mutate_the_learner(self, case, pool):
        state, X_lab, y_lab = net_state(case.learner)
        proba = case.learner.predict_proba(pool)
        case.make(0)(case.learner, pool, n_instances=10)
        new_state, new_X, new_y = net_state(case.learner)
        assert new_state == state
        np.testing.assert_array_equal(case.learner.predict_proba(pool), proba)
        np.testing.assert_array_equal(new_X, X_lab)
        np.testing.assert_array_equal(new_y, y_lab)

    def test_more_instances_than_pool_returns_all_with_warning(self, case, pool):
        small = pool[:6]
        with pytest.warns(UserWarning, match="larger than the pool"):
            indices, scores = case.make(0)(case.learner, small, n_instances=9)
        assert_contract(indices, scores, len(small), len(small))

    def test_the_whole_pool_requested_is_returned_without_a_warning(self, case, pool):
        # Only a pool smaller than n_instances is warned of, not one as large.
        small = pool[:6]
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            indices, scores = case.make(0)(case.learner, small, n_instances=6)
        assert not [w for w in record if "larger than the pool" in str(w.message)]
        assert_contract(indices, scores, len(small), len(small))

    @pytest.mark.parametrize("n_instances", [0, -2, 2.5, 3.0, "3", None, True, False])
    def test_rejects_a_bad_n_instances(self, case, pool, n_instances):
        with pytest.raises(ValueError, match="n_instances"):
            case.make(0)(case.learner, pool, n_instances=n_instances)

    # Under assume_finite=True, inf went on: "the net diverged" for finite
    # rows, CoreSet's empty argmin, BADGE's OverflowError.
    @pytest.mark.parametrize("assume_finite", [False, True])
    def test_rejects_an_infinite_pool(self, case, pool, assume_finite):
        X = pool[:20].copy()
        X[3, 5] = np.inf
        with sklearn.config_context(assume_finite=assume_finite):
            with pytest.raises(ValueError, match="X_pool contains inf"):
                case.make(0)(case.learner, X, n_instances=2)

    def test_missing_values_are_ranked_or_refused_with_the_remedy(self, case, pool):
        # A bare net is refused up front. Elsewhere NaN goes on to the steps
        # that may take it, and whatever cannot says how to impute; no
        # strategy ranks by a NaN score.
        X = pool[:20].copy()
        X[3, 5] = np.nan
        strategy = case.make(0)
        if isinstance(case.learner.estimator, NeuralNet):
            with pytest.raises(
                ValueError, match="X_pool contains NaN, which .* cannot"
            ):
                strategy(case.learner, X, n_instances=2)
            return
        try:
            indices, scores = strategy(case.learner, X, n_instances=2)
        except ValueError as error:
            assert "NaN" in str(error) and "imput" in str(error).lower(), error
        else:
            assert_contract(indices, scores, len(X), 2)

    def test_rejects_an_empty_pool(self, case, pool):
        with pytest.raises(ValueError, match="0 sample"):
            case.make(0)(case.learner, pool[:0], n_instances=1)

    @settings(
        max_examples=5,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    # A drawn sub-pool may get one purity for every row (a forest certain of
    # each): warned of (tested apart), within the contract.
    @pytest.mark.filterwarnings(CONSTANT_PURITY)
    @given(data=st.data())
    def test_contract_on_any_sub_pool(self, case, pool, data):
        rows = data.draw(
            st.lists(
                st.integers(0, len(pool) - 1), min_size=2, max_size=40, unique=True
            )
        )
        k = data.draw(st.integers(1, len(rows)))
        indices, scores = case.make(0)(case.learner, pool[rows], n_instances=k)
        assert_contract(indices, scores, len(rows), k)


# ---------------------------------------------------------------- strategies


class TestRandomQuery(StrategyTemplate):
    top_k = False

    @pytest.fixture
    def case(self, any_learner):
        return Case(lambda seed: RandomQuery(random_state=seed), any_learner)

    def test_different_seeds_differ(self, learner, pool):
        picks = {
            tuple(RandomQuery(seed)(learner, pool, n_instances=10)[0])
            for seed in range(5)
        }
        assert len(picks) == 5

    def test_ignores_the_model(self, learner, ll_learner, pool):
        a = RandomQuery(7)(learner, pool, n_instances=10)
        b = RandomQuery(7)(ll_learner, pool, n_instances=10)
        np.testing.assert_array_equal(a[0], b[0])

    def test_shared_random_state_instance_advances(self, learner, pool):
        strategy = RandomQuery(np.random.RandomState(0))
        first = strategy(learner, pool, n_instances=10)[0]
        second = strategy(learner, pool, n_instances=10)[0]
        assert not np.array_equal(first, second)


class TestUncertaintyQuery(StrategyTemplate):
    @pytest.fixture(params=["least_confidence", "margin", "entropy"])
    def case(self, request, any_learner):
        return Case(
            lambda seed: UncertaintyQuery(request.param, random_state=seed),
            any_learner,
        )

    def expected_scores(self, strategy, learner, X_pool):
        return informativeness(strategy.measure, learner, X_pool)

    def test_unknown_measure_is_rejected(self, learner, pool):
        with pytest.raises(ValueError, match="measure"):
            UncertaintyQuery("variance")(learner, pool, n_instances=1)

    def test_ties_are_broken_at_random(self, learner, pool):
        flat = zeroed(learner)  # every row gets the uniform distribution
        picks = [
            UncertaintyQuery(random_state=s)(flat, pool, n_instances=5)[0]
            for s in range(3)
        ]
        assert not np.array_equal(picks[0], np.arange(5))
        assert len({tuple(p) for p in picks}) == 3


def _rows_below_an_outlier(dtype, factor):
    """20 labelled rows, then a pool of 4 rows 10 times each, 20 other rows
    and one row `factor` times larger (in `dtype`), with their labels."""
    rng = np.random.RandomState(0)
    copies = np.repeat(rng.normal(size=(4, 3)), 10, axis=0)
    X = np.vstack([rng.normal(size=(20, 3)), copies, rng.normal(size=(21, 3))])
    X[-1] = [factor, 0.0, 0.0]
    return X.astype(dtype), (X[:, 1] > 0).astype(int)


def _as_in_the_textbook(X, y, n_labelled, rtol):
    """CoreSetQuery's 10 picks and scores on rows ``n_labelled:`` of `X` are
    textbook k-center greedy's, the first `n_labelled` rows labelled."""
    learner = ActiveLearner(LogisticRegression()).fit(X[:n_labelled], y[:n_labelled])
    indices, scores = CoreSetQuery(0)(learner, X[n_labelled:], n_instances=10)
    expected, distances = textbook_k_center(X[n_labelled:], X[:n_labelled], 10)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, distances, rtol=rtol)


def textbook_k_center(X_pool, X_labelled, n_instances):
    """Greedy k-center from pairwise distances (float64): picks and their distances."""
    X_pool, X_labelled = X_pool.astype(np.float64), X_labelled.astype(np.float64)
    nearest = pairwise_distances(X_pool, X_labelled).min(axis=1)
    indices, distances = [], []
    for _ in range(n_instances):
        indices.append(int(np.argmax(nearest)))
        distances.append(nearest[indices[-1]])
        to_chosen = pairwise_distances(X_pool, X_pool[[indices[-1]]]).ravel()
        nearest = np.minimum(nearest, to_chosen)
    return indices, distances


class TestCoreSetQuery(StrategyTemplate):
    @pytest.fixture
    def case(self, any_learner):
        return Case(lambda seed: CoreSetQuery(random_state=seed), any_learner)

    def test_greedy_k_center_against_pairwise_distances(self, learner, pool):
        indices, scores = CoreSetQuery(0)(learner, pool, n_instances=12)
        net = learner.estimator_
        emb = embed(net, pool).astype(np.float64)
        labelled = embed(net, learner.X_labelled_).astype(np.float64)  # OOD included
        nearest = pairwise_distances(emb, labelled).min(axis=1)
        # First pick: the pool point farthest from every labelled example.
        assert indices[0] == np.argmax(nearest)
        for chosen, score in zip(indices, scores):
            assert score == pytest.approx(nearest[chosen], rel=1e-4, abs=1e-6)
            assert nearest[chosen] >= nearest.max() - 1e-5
            to_chosen = pairwise_distances(emb, emb[[chosen]]).ravel()
            nearest = np.minimum(nearest, to_chosen)

    def test_features_far_from_the_origin_are_not_taken_for_copies(self):
        # A year-like column: norms near 2000, distances of a few units.
        rng = np.random.RandomState(0)
        X = np.column_stack([rng.uniform(1990, 2020, 300), rng.normal(size=300)])
        y = np.where(X[:, 1] > 0, 1, 0)
        learner = ActiveLearner(LogisticRegression()).fit(X[:40], y[:40])
        indices, _ = CoreSetQuery(0)(learner, X[40:], n_instances=8)
        expected, _ = textbook_k_center(X[40:], X[:40], 8)
        np.testing.assert_array_equal(indices, expected)

    @pytest.mark.parametrize("dtype", [np.float64, np.float32])
    def test_rows_far_from_the_pool_mean_are_not_taken_for_copies(self, dtype):
        # An unscaled amount column, near 0 in half the pool and near 10000
        # in the other half: rows of one half lie a few units apart, 1e-4 of
        # their distance to the pool mean. Distances from norms minus inner
        # products, with a threshold against their rounding, gave them 0.
        rng = np.random.RandomState(0)
        X = rng.normal(size=(220, 5))
        X[120:, 0] += 10000.0
        X = X.astype(dtype)
        y = (X[:, 1] > 0).astype(int)
        _as_in_the_textbook(X, y, n_labelled=20, rtol=1e-5)

    def test_an_outlier_does_not_turn_the_other_rows_into_copies(self):
        # One corrupted row (pixel values x 1e5) sets the scale of the pool.
        rng = np.random.RandomState(0)
        X = rng.uniform(0, 16, size=(260, 16))
        X[100] *= 1e5
        y = (X[:, 0] > 8).astype(int)
        _as_in_the_textbook(X, y, n_labelled=60, rtol=1e-6)

    @pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
    @pytest.mark.parametrize("dtype, factor", [(np.float32, 1e30), (np.float64, 1e300)])
    def test_finite_values_near_the_float_limit_keep_their_distances(
        self, dtype, factor
    ):
        # float32 matrix products overflow from 1.8e19 (inf - inf: NaN
        # distances, then argmin of an empty sequence): an unscaled input
        # reaches a net's float32 penultimate layer so.
        rng = np.random.RandomState(0)
        X = rng.normal(size=(220, 5))
        big = (X * factor).astype(dtype)
        y = (X[:, 1] > 0).astype(int)
        learner = ActiveLearner(LogisticRegression()).fit(big[:20], y[:20])
        indices, scores = CoreSetQuery(0)(learner, big[20:], n_instances=10)
        unit = big.astype(np.float64) / factor
        expected, distances = textbook_k_center(unit[20:], unit[:20], 10)
        np.testing.assert_array_equal(indices, expected)
        np.testing.assert_allclose(scores / factor, distances, rtol=1e-5)

    def test_rows_taken_a_chunk_at_a_time_keep_their_distances(self, monkeypatch):
        # Large pools go through the exact distances a chunk of rows at a
        # time; chunks of 3 rows here, so every boundary is crossed.
        rng = np.random.RandomState(0)
        X = rng.normal(size=(120, 4))
        y = (X[:, 1] > 0).astype(int)
        monkeypatch.setattr(_coreset, "_CHUNK", 3 * X.shape[1])
        _as_in_the_textbook(X, y, n_labelled=20, rtol=1e-6)

    def test_copies_below_a_float32_outlier_stay_at_distance_0(self):
        # One corrupted row (x 1e25) sets the scale: the other rows' float32
        # inner products (near 1e-50) underflowed to 0, their float64 norms
        # did not, so copies of a chosen row were picked again.
        X, y = _rows_below_an_outlier(np.float32, 1e25)
        learner = ActiveLearner(LogisticRegression()).fit(X[:20], y[:20])
        indices, scores = CoreSetQuery(0)(learner, X[20:], n_instances=10)
        expected, distances = textbook_k_center(X[20:], X[:20], 10)
        # Copies tie: any one of them is the textbook's pick.
        np.testing.assert_array_equal(X[20:][indices], X[20:][expected])
        np.testing.assert_allclose(scores, distances, rtol=1e-5)

    def test_without_labelled_rows_the_first_pick_is_random(self, learner, pool):
        empty = copy.copy(learner)
        empty.X_labelled_ = learner.X_labelled_[:0]
        empty.y_labelled_ = learner.y_labelled_[:0]
        firsts = {
            CoreSetQuery(seed)(empty, pool, n_instances=2)[0][0] for seed in range(6)
        }
        assert len(firsts) > 1  # was always row 0: argmax found an inf before the pick

    def test_labelled_rows_are_not_picked_before_new_ones(self, learner, pool):
        X = np.vstack([learner.X_labelled_[:10], pool[:10]])
        indices, scores = CoreSetQuery(0)(learner, X, n_instances=10)
        assert indices.min() >= 10
        assert np.all(scores > 0)

    @pytest.mark.parametrize("n_instances", [5, 12])
    def test_duplicate_rows_give_distinct_indices(self, learner, pool, n_instances):
        X = np.repeat(pool[:3], 4, axis=0)
        indices, scores = CoreSetQuery(0)(learner, X, n_instances=n_instances)
        assert_contract(indices, scores, len(X), n_instances)
        # The three distinct rows come first, then zero-distance copies.
        assert len(np.unique(indices[:3] // 4)) == 3
        np.testing.assert_array_equal(scores[3:], 0.0)

    def test_a_pool_of_labelled_rows_gives_distinct_indices(self, learner):
        indices, scores = CoreSetQuery(0)(learner, learner.X_labelled_, n_instances=8)
        assert_contract(indices, scores, len(learner.X_labelled_), 8)

    def test_ties_are_broken_at_random(self, learner):
        # Every row of a pool of labelled rows is at distance 0: argmax took
        # the pool's first rows, whatever the seed.
        picks = [
            CoreSetQuery(s)(learner, learner.X_labelled_, n_instances=5)[0]
            for s in range(3)
        ]
        assert not np.array_equal(picks[0], np.arange(5))
        assert len({tuple(p) for p in picks}) == 3


def kmeans_pp_written_out(G, n_centres, seed):
    """BADGE's draws on the materialised gradients G: D^2 sampling, plainly."""
    rng = np.random.RandomState(seed)
    chosen = [int(np.argmax((G**2).sum(1)))]
    min_sq_dist = np.full(len(G), np.inf)
    for _ in range(n_centres - 1):
        min_sq_dist = np.minimum(min_sq_dist, ((G - G[chosen[-1]]) ** 2).sum(1))
        p = min_sq_dist / min_sq_dist.sum()
        chosen.append(int(np.searchsorted(np.cumsum(p), rng.uniform(0, 1))))
    return chosen


class _LowestDraws(np.random.RandomState):
    """A RandomState whose uniform draws are all `low`, which it can return."""

    def uniform(self, low=0.0, high=1.0, size=None):
        return low if size is None else np.full(size, low)


class TestBadgeQuery(StrategyTemplate):
    ordered = False
    top_k = False

    @pytest.fixture
    def case(self, any_learner):
        return Case(lambda seed: BadgeQuery(random_state=seed), any_learner)

    def expected_scores(self, strategy, learner, X_pool):
        return gradient_norms(learner, X_pool)

    def test_first_pick_is_the_largest_gradient(self, learner, pool):
        largest = np.argmax(gradient_norms(learner, pool))
        for seed in range(3):
            assert BadgeQuery(seed)(learner, pool, n_instances=5)[0][0] == largest

    def test_a_tie_for_the_largest_gradient_goes_to_the_first(self, learner, pool):
        # As BADGE's argmax; documented, since random_state breaks other ties.
        largest = np.argmax(gradient_norms(learner, pool))
        X = np.vstack([np.repeat(pool[[largest]], 6, axis=0), pool])
        firsts = {int(BadgeQuery(s)(learner, X, n_instances=1)[0][0]) for s in range(5)}
        assert firsts == {0}

    def test_draws_like_kmeans_pp_on_the_materialised_gradients(self, learner, pool):
        net = learner.estimator_
        G = gradient_embedding(net.predict_proba(pool), embed(net, pool))
        G = G.astype(np.float64)
        for seed in range(3):
            chosen = kmeans_pp_written_out(G, 10, seed)
            indices, _ = BadgeQuery(seed)(learner, pool, n_instances=10)
            assert indices.tolist() == chosen

    def test_a_very_confident_model_draws_distinct_rows_by_true_distance(self):
        # GaussianNB on far-apart blobs: class probabilities near 1e-30, whose
        # float32 products underflow while the float64 norms do not.
        X, y = make_blobs(300, centers=[[0, 0], [8, 0], [0, 8]], random_state=0)
        y = np.where(y == 2, -1, y)
        learner = ActiveLearner(GaussianNB(), BadgeQuery()).fit(X[:30], y[:30])
        proba = learner.predict_proba(X[30:])
        pool = X[30:][(proba.min(1) > 1e-37) & (proba.min(1) < 1e-24)]
        proba = learner.predict_proba(pool)
        G = gradient_embedding(proba, pool / np.abs(pool).max()).astype(np.float64)
        for seed in range(5):
            chosen = kmeans_pp_written_out(G, 10, seed)
            learner.set_params(query_strategy__random_state=seed).fit(X[:30], y[:30])
            indices, _ = learner.query(pool, n_instances=10)  # refuses duplicates
            assert indices.tolist() == chosen

    def test_copies_below_a_float32_outlier_lose_their_weight(self):
        # One corrupted row (x 1e25) sets the scale: the other rows' float32
        # inner products (near 1e-50) underflowed to 0, their float64 norms
        # did not, so copies of a chosen row kept their weight in the draws.
        X, y = _rows_below_an_outlier(np.float32, 1e25)
        learner = ActiveLearner(LogisticRegression()).fit(X[:20], y[:20])
        pool = X[20:]
        G = gradient_embedding(learner.predict_proba(pool), pool / np.abs(pool).max())
        for seed in range(5):
            chosen = kmeans_pp_written_out(G.astype(np.float64), 10, seed)
            indices, _ = BadgeQuery(seed)(learner, pool, n_instances=10)
            assert indices.tolist() == chosen
            assert len(np.unique(pool[indices], axis=0)) == 10

    def test_never_picks_a_copy_while_a_new_row_remains(self, learner, pool):
        X = np.repeat(pool[:3], 4, axis=0)
        for seed in range(5):
            indices, _ = BadgeQuery(seed)(learner, X, n_instances=3)
            assert sorted(indices // 4) == [0, 1, 2]

    def test_more_picks_than_distinct_rows_stay_distinct(self, learner, pool):
        X = np.repeat(pool[:3], 4, axis=0)
        for seed in range(5):
            indices, scores = BadgeQuery(seed)(learner, X, n_instances=6)
            assert_contract(indices, scores, len(X), 6)

    def test_negative_features_near_the_float_limit_draw_as_scaled_down(self):
        # The embedding is scaled by its largest absolute value: squares of
        # values near -1e200 overflowed where only the largest value counted.
        rng = np.random.RandomState(0)
        X = -np.abs(rng.normal(size=(200, 3)))
        y = (X[:, 1] > -0.7).astype(int)
        results = []
        for factor in (1.0, 1e200):
            knn = KNeighborsClassifier(7, metric="manhattan")  # takes any scale
            learner = ActiveLearner(knn).fit(X[:40] * factor, y[:40])
            results.append(BadgeQuery(0)(learner, X[40:] * factor, n_instances=8))
        np.testing.assert_array_equal(results[1][0], results[0][0])
        np.testing.assert_allclose(results[1][1] / 1e200, results[0][1], rtol=1e-12)

    def test_a_draw_of_exactly_0_takes_a_row_of_some_weight(self, learner, pool):
        # The first rows of the cumulative weights may hold 0 (centres): a
        # draw of 0 falls past them, never on a centre again.
        indices, scores = BadgeQuery(_LowestDraws(0))(learner, pool, n_instances=5)
        assert_contract(indices, scores, len(pool), 5)

    def test_picks_past_the_distinct_rows_are_the_largest_norms_left(
        self, learner, pool
    ):
        # Once every row is a centre's copy, the batch fills up by largest norm.
        X = np.repeat(pool[:3], 4, axis=0)
        norms = gradient_norms(learner, X)
        # Three distinct norms, each of 4 copies (equal up to the float step
        # a row's place in the net's batch may make).
        copies = norms.reshape(3, 4)
        np.testing.assert_allclose(copies, copies[:, :1].repeat(4, axis=1), rtol=1e-6)
        assert len(np.unique(copies[:, 0])) == 3
        for seed in range(3):
            indices, scores = BadgeQuery(seed)(learner, X, n_instances=6)
            rest = np.delete(norms, indices[:3])
            np.testing.assert_allclose(scores[3:], np.sort(rest)[::-1][:3], rtol=1e-4)

    def test_zero_gradients_fall_back_to_distinct_top_norms(self, learner, pool):
        dead = zeroed(learner, modules=("stages",))  # zero embedding everywhere
        indices, scores = BadgeQuery(0)(dead, pool, n_instances=10)
        assert_contract(indices, scores, len(pool), 10)
        np.testing.assert_array_equal(scores, 0.0)

    def test_few_nonzero_gradients_come_first_by_norm(self, learner, pool):
        # Without stage biases a zero input has a zero embedding, hence no gradient.
        dead = copy.deepcopy(learner)
        with torch.no_grad():
            for stage in dead.estimator_.module_.stages:
                stage[0].bias.zero_()
        X = np.vstack([np.zeros((8, pool.shape[1]), np.float32), pool[:3]])
        norms = gradient_norms(dead, X)
        assert np.count_nonzero(norms) == 3
        indices, scores = BadgeQuery(0)(dead, X, n_instances=6)
        np.testing.assert_array_equal(indices[:3], 8 + np.argsort(-norms[8:]))
        np.testing.assert_allclose(scores, norms[indices], rtol=1e-4)
        np.testing.assert_array_equal(scores[3:], 0.0)

    def test_as_many_nonzero_gradients_as_picks_still_draw_by_kmeans_pp(
        self, learner, pool
    ):
        # The fallback to the largest norms is for fewer nonzero gradients than
        # picks; with exactly as many, BADGE's D^2 draws may take a row of no
        # gradient (at distance ||g_c|| from every centre) over one of some.
        dead = copy.deepcopy(learner)
        with torch.no_grad():
            for stage in dead.estimator_.module_.stages:
                stage[0].bias.zero_()
        X = np.vstack([np.zeros((8, pool.shape[1]), np.float32), pool[:3]])
        assert np.count_nonzero(gradient_norms(dead, X)) == 3
        proba = expected_proba(dead, X)
        residual = proba - np.eye(proba.shape[1])[proba.argmax(axis=1)]
        G = np.einsum("nk,nd->nkd", residual, expected_embedding(dead, X))
        G = G.reshape(len(X), -1)
        batches = []
        for seed in range(5):
            indices, _ = BadgeQuery(seed)(dead, X, n_instances=3)
            assert indices.tolist() == kmeans_pp_written_out(G, 3, seed)
            batches.append(indices)
        assert any((batch < 8).any() for batch in batches)  # not the top norms

    def test_draws_on_one_blas_thread_and_restores_the_limit(
        self, learner, pool, monkeypatch
    ):
        # Each centre's two tiny products lost more to BLAS thread hand-offs
        # than they computed.
        def blas_threads():
            return {
                i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
            }

        seen = []
        distances = _badge.sq_distances_to

        def recording(*args):
            seen.append(blas_threads())
            return distances(*args)

        monkeypatch.setattr(_badge, "sq_distances_to", recording)
        with threadpool_limits(2, user_api="blas"):
            BadgeQuery(0)(learner, pool, n_instances=5)
            assert blas_threads() == {2}
        assert seen and all(threads == {1} for threads in seen)


@pytest.mark.parametrize("strategy", [CoreSetQuery, BadgeQuery])
def test_float64_rows_whose_products_underflow_are_refused(strategy):
    # Rows 1e200 below the largest: their float64 products and norms went
    # to 0, and the picks among them were random, copies included.
    X, y = _rows_below_an_outlier(np.float64, 1e200)
    learner = ActiveLearner(LogisticRegression()).fit(X[:20], y[:20])
    with pytest.raises(
        ValueError, match="of X_pool, or of the labelled examples.* times smaller"
    ):
        strategy(random_state=0)(learner, X[20:], n_instances=10)


def test_underflow_guard_refuses_two_small_float64_rows():
    # Two are enough: their product underflows, and the distance between
    # them is lost.
    embedding = np.zeros((5, 3))
    embedding[0] = 1.0
    embedding[1, 0], embedding[2, 1] = 1e-200, -1e-200
    with pytest.raises(ValueError, match="float64 products of such rows underflow"):
        _base.underflow_guarded(embedding)
    embedding[2] = 0.0  # one alone is safe
    assert _base.underflow_guarded(embedding)[0] is embedding


def test_squared_distances_from_norms_are_exactly_0_for_copies():
    # float32 norms and inner products round apart: a copy of the centre
    # came out a small distance away, so it could be taken as a new row.
    rng = np.random.RandomState(0)
    rows = rng.normal(size=(40, 16)).astype(np.float32) * 3
    embedding = np.concatenate([rows, rows[:20]])  # 20 copies
    sq_norms = np.einsum("ij,ij->i", embedding, embedding)
    for c in range(20):
        sq = _base.sq_distances_to(sq_norms, c, embedding @ embedding[c])
        assert sq[c] == 0 and sq[40 + c] == 0
        direct = ((embedding - embedding[c]) ** 2).sum(axis=1)
        np.testing.assert_allclose(sq, direct, rtol=1e-4, atol=1e-3)


def test_underflow_guard_leaves_ordinary_embeddings_and_one_small_row_alone():
    rng = np.random.RandomState(0)
    embedding = rng.normal(size=(30, 4)).astype(np.float32)
    embedding[3] = 0.0  # zero rows have exact products
    embedding[5] = [1e-30, 0.0, 0.0, 0.0]  # products with larger rows are safe
    guarded = _base.underflow_guarded(embedding, embedding[:2])
    assert guarded[0] is embedding and guarded[1].dtype == np.float32
    embedding[7] = [0.0, -1e-30, 0.0, 0.0]  # two: their products underflow
    guarded = _base.underflow_guarded(embedding, embedding[:2])
    assert [e.dtype for e in guarded] == [np.float64, np.float64]
    np.testing.assert_array_equal(guarded[0], embedding)


def _confident_gaussian_nb():
    """GaussianNB on far-apart blobs, with its pool: probabilities down to
    below float32's range."""
    X, y = make_blobs(300, centers=[[0, 0], [8, 0], [0, 8]], random_state=0)
    y = np.where(y == 2, -1, y)
    return ActiveLearner(GaussianNB()).fit(X[:30], y[:30]), X[30:]


@pytest.mark.parametrize(
    "strategy, model",
    [
        # Probabilities below float32's range go to 0 in BADGE's residuals.
        (BadgeQuery, lambda learner, pool: _confident_gaussian_nb()),
        # Unstandardised rows: the net's logits thousands apart, whose
        # softmax gives 0, and activations far apart for LfOSA's mixtures.
        (BadgeQuery, lambda learner, pool: (learner, pool * 1000)),
        (LfOSAQuery, lambda learner, pool: (learner, pool * 1000)),
    ],
    ids=["badge-gaussian_nb", "badge-mlp", "lfosa-mlp"],
)
def test_query_under_a_raising_errstate(learner, pool, strategy, model):
    # The defaults' underflow to 0 is handled; np.seterr(all="raise") made
    # these queries fail.
    learner, X = model(learner, pool)
    assert_same_under_raising_errstate(
        lambda: strategy(random_state=0)(learner, X, n_instances=5)
    )


class TestLearningLossQuery(StrategyTemplate):
    @pytest.fixture
    def case(self, ll_learner):
        return Case(lambda seed: LearningLossQuery(random_state=seed), ll_learner)

    def expected_scores(self, strategy, learner, X_pool):
        return informativeness("learning_loss", learner, X_pool)

    def test_needs_a_learning_loss_net(self, learner, pool):
        with pytest.raises(ValueError, match="learning_loss=True"):
            LearningLossQuery()(learner, pool, n_instances=1)

    def test_ties_are_broken_at_random(self, ll_learner, pool):
        flat = zeroed(ll_learner, modules=("loss_head",))  # one loss for every row
        picks = [
            LearningLossQuery(random_state=s)(flat, pool, n_instances=5)[0]
            for s in range(3)
        ]
        assert not np.array_equal(picks[0], np.arange(5))
        assert len({tuple(p) for p in picks}) == 3


PI_CASES = [
    ("msp", "least_confidence", "sum"),
    ("mahalanobis", "entropy", "sum"),
    ("knn", "least_confidence", "product"),
    ("cosine", "margin", "sum"),
    ("knn_contrast", "least_confidence", "sum"),
    ("knn_contrast", "entropy", "product"),
]
# Scores that read a net's logits or loss head, with the learner they need.
NET_PI_CASES = [
    ("energy", "margin", "product", "learner"),
    ("energy", "learning_loss", "sum", "ll_learner"),
]


class TestPurityInformativenessQuery(StrategyTemplate):
    @pytest.fixture(params=PI_CASES, ids=["-".join(c) for c in PI_CASES])
    def case(self, request, any_learner):
        p, i, combine = request.param
        return Case(
            lambda seed: PurityInformativenessQuery(p, i, combine, random_state=seed),
            any_learner,
        )

    def expected_scores(self, strategy, learner, X_pool):
        raw = raw_scores(learner, X_pool, strategy.purity, strategy.informativeness)
        Z = exp_z(raw, raw)
        return Z.sum(axis=1) if strategy.combine == "sum" else Z.prod(axis=1)

    def test_meta_input_is_fitted_on_the_queried_pool(self, learner, pool):
        strategy = PurityInformativenessQuery("msp", random_state=0)
        strategy(learner, pool, n_instances=3)
        raw = raw_scores(learner, pool, "msp", "least_confidence")
        fitted = strategy.meta_input_
        np.testing.assert_allclose(fitted.mean_, raw.mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(fitted.scale_, raw.std(axis=0), rtol=1e-4)

    def test_callable_scores(self, learner, pool):
        first_feature = lambda lrn, X: np.asarray(X)[:, 10].astype(float)  # noqa: E731
        row_sum = lambda lrn, X: np.asarray(X).sum(axis=1).astype(float)  # noqa: E731
        strategy = PurityInformativenessQuery(first_feature, row_sum, random_state=0)
        indices, scores = strategy(learner, pool, n_instances=10)
        raw = np.column_stack([first_feature(None, pool), row_sum(None, pool)])
        expected = exp_z(raw, raw).sum(axis=1)
        np.testing.assert_allclose(scores, expected[indices], rtol=1e-5)

    @pytest.mark.parametrize("meta_input", ["exp_zscore", "quantile"])
    def test_a_score_the_same_on_every_row_leaves_the_product_to_the_other(
        self, learner, pool, meta_input
    ):
        # The quantile meta-input maps such a score to 0: every product was 0
        # and the batch a random tie-break.
        first_feature = lambda lrn, X: np.asarray(X)[:, 10].astype(float)  # noqa: E731
        constant = lambda lrn, X: np.ones(len(X))  # noqa: E731
        strategy = PurityInformativenessQuery(
            first_feature, constant, "product", meta_input, random_state=0
        )
        indices, _ = strategy(learner, pool, n_instances=5)
        assert (
            strategy.pool_meta_input_[:, 0][indices].tolist()
            == sorted(strategy.pool_meta_input_[:, 0], reverse=True)[:5]
        )

    @pytest.mark.parametrize(
        "output",
        [
            lambda X: np.ones(len(X) + 1),
            lambda X: np.full(len(X), np.nan),
            lambda X: np.full(len(X), "high"),  # NumPy's bare message before
            lambda X: [None] * len(X),
        ],
    )
    def test_callable_with_a_bad_output_is_rejected(self, learner, pool, output):
        strategy = PurityInformativenessQuery(lambda lrn, X: output(X))
        with pytest.raises(ValueError, match="purity score must return"):
            strategy(learner, pool, n_instances=1)

    @pytest.mark.parametrize(
        "params",
        [dict(purity="csi"), dict(informativeness="badge"), dict(combine="max")],
    )
    def test_unknown_option_is_rejected(self, learner, pool, params):
        with pytest.raises(ValueError, match=list(params)[0]):
            PurityInformativenessQuery(**params)(learner, pool, n_instances=1)


ARRAY_LEVEL_SCORES = [
    ("purity", msp_purity, "msp"),
    ("purity", energy_purity, "energy"),
    ("purity", mahalanobis_purity, "mahalanobis"),
    ("purity", knn_purity, "knn"),
    ("purity", knn_contrast_purity, "knn_contrast"),
    ("purity", cosine_purity, "cosine"),
    ("informativeness", least_confidence, "least_confidence"),
    ("informativeness", margin_informativeness, "margin"),
    ("informativeness", entropy_informativeness, "entropy"),
]


@pytest.mark.parametrize("strategy", [PurityInformativenessQuery, MQNetQuery])
@pytest.mark.parametrize(
    "kind, function, remedy",
    [
        *(
            pytest.param(kind, f, f"pass {kind}={name!r} (the name)", id=f.__name__)
            for kind, f, name in ARRAY_LEVEL_SCORES
        ),
        pytest.param(
            "informativeness",
            msp_purity,
            "it is the purity score 'msp'",
            id="msp_purity-as-informativeness",
        ),
    ],
)
def test_array_level_function_is_refused_at_fit(
    split, strategy, kind, function, remedy
):
    # They score arrays, not (learner, X): refused before any label is
    # bought, where they failed with a TypeError at the first query.
    learner = ActiveLearner(LogisticRegression(), strategy(**{kind: function}))
    idx = split.initial_idx
    with pytest.raises(ValueError, match=re.escape(remedy)):
        learner.fit(split.X_pool[idx], split.y_pool[idx])


@pytest.mark.parametrize(
    "strategy, message",
    [
        (
            lambda: CCALQuery(features=PCA),
            "'features' parameter of CCALQuery is the class PCA, not an instance",
        ),
        (
            lambda: PurityInformativenessQuery(purity=PurityAUROC),
            "'purity' parameter of PurityInformativenessQuery is the class PurityAU",
        ),
        (
            lambda: MQNetQuery(purity=LfOSAQuery(random_state=0)),
            "is the query strategy LfOSAQuery, which chooses rows rather than",
        ),
        (
            lambda: MQNetQuery(informativeness=UncertaintyQuery),
            "'informativeness' parameter of MQNetQuery is the class Uncertainty",
        ),
    ],
)
def test_a_class_or_a_strategy_for_a_score_or_features_is_refused_at_fit(
    split, strategy, message
):
    # A class is callable and has its methods, as a strategy is callable: the
    # constraints took them, and the first query failed with another object's
    # error ("missing 1 required positional argument: 'X'", "shape (2, 1)").
    learner = ActiveLearner(LogisticRegression(), strategy())
    idx = split.initial_idx
    with pytest.raises(ValueError, match=re.escape(message)):
        learner.fit(split.X_pool[idx], split.y_pool[idx])


class _Misnamed(_base.QueryStrategy):
    def select(self, learner, X_pool, n_instances, rng):  # not _select
        return np.arange(n_instances), np.zeros(n_instances)


@pytest.mark.parametrize("strategy", [_base.QueryStrategy(), _Misnamed()])
def test_a_strategy_without_select_names_the_method_to_define(learner, strategy):
    # A bare NotImplementedError, with no message, told nothing.
    match = r"^_?\w+ defines no _select\(self, learner, X_pool, n_instances, rng\)"
    with pytest.raises(NotImplementedError, match=match):
        strategy(learner, np.zeros((5, 64)), n_instances=2)


def test_an_unhashable_callable_score_is_taken(split):
    # Looked up among the array-level functions by hashing: a frozen
    # dataclass holding a list raised "unhashable type: 'list'" at fit.
    @dataclasses.dataclass(frozen=True)
    class ColumnPurity:
        columns: list = dataclasses.field(default_factory=lambda: [0, 1])

        def __call__(self, learner, X):
            return np.asarray(X)[:, self.columns].sum(axis=1)

    idx = split.initial_idx
    learner = ActiveLearner(
        LogisticRegression(), PurityInformativenessQuery(purity=ColumnPurity())
    ).fit(split.X_pool[idx], split.y_pool[idx])
    assert len(learner.query(split.X_pool[:50], n_instances=5)[0]) == 5


class _ArrayEqualPurity:
    """A purity score whose own __eq__ answers with an array; its column 0 of
    the digits is 0 everywhere."""

    __hash__ = object.__hash__

    def __init__(self, column=1):
        self.column = column

    def __eq__(self, other):
        return np.array([True, False])

    def __call__(self, learner, X):
        return np.asarray(X)[:, self.column]


def test_a_callable_score_that_compares_as_an_array_is_taken():
    # Looked up among the array-level functions by identity: == asks the
    # callable's own __eq__, whose array has an ambiguous truth.
    score = _ArrayEqualPurity()
    assert resolve_score(score, PURITY_SCORES, "purity") is score


@pytest.mark.parametrize("strategy", [PurityInformativenessQuery, MQNetQuery])
@pytest.mark.parametrize("column", [1, 0], ids=["varying", "constant"])
def test_a_purity_that_compares_as_an_array_is_queried_with(split, strategy, column):
    # The query asked whether purity == "auto", and a constant one's advice
    # whether it is in ("knn", ...): "The truth value of an array with more
    # than one element is ambiguous".
    idx = split.initial_idx
    purity = _ArrayEqualPurity(column)
    learner = ActiveLearner(
        LogisticRegression(), strategy(purity=purity, random_state=0)
    ).fit(split.X_pool[idx], split.y_pool[idx])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):  # the second asks whether it warned of this score
            assert len(learner.query(split.X_pool[:50], n_instances=5)[0]) == 5
    constant = [w for w in caught if "is the same for every pool row" in str(w.message)]
    assert len(constant) == (column == 0), [str(w.message) for w in caught]


class TestPurityInformativenessQueryOnNets(TestPurityInformativenessQuery):
    @pytest.fixture(params=NET_PI_CASES, ids=["-".join(c[:3]) for c in NET_PI_CASES])
    def case(self, request):
        p, i, combine, learner_name = request.param
        return Case(
            lambda seed: PurityInformativenessQuery(p, i, combine, random_state=seed),
            request.getfixturevalue(learner_name),
        )


class TestMQNetQuery(StrategyTemplate):
    """Learnt; exp(z) meta-input, latest query set only, the top meta-scores."""

    config = EXP_Z_LATEST_TOP_K
    taught_fixture = "taught_paper"

    @pytest.fixture(params=["before_update", "after_update"])
    def case(self, request, any_learner):
        if request.param == "before_update":
            return Case(
                lambda seed: MQNetQuery(random_state=seed, **self.config), any_learner
            )
        taught = request.getfixturevalue("any_taught")[self.taught_fixture]
        fitted = taught["learner"].query_strategy_
        assert hasattr(fitted, "selector_") == (fitted.rule_weight_ < 1)
        return Case(
            lambda seed: copy.deepcopy(fitted).set_params(
                random_state=seed, **self.config
            ),
            taught["learner"],
        )

    def expected_scores(self, strategy, learner, X_pool):
        raw = raw_scores(learner, X_pool, strategy.purity, strategy.informativeness)
        Z = meta_input(raw, raw, strategy.meta_input)
        if not hasattr(strategy, "selector_"):
            return Z.sum(axis=1)
        # The weight in use: "auto" (the default) decides it at the first query.
        learnt, weight = strategy.selector_.predict(Z), strategy.rule_weight_
        if weight == 0:
            return learnt
        return weight * rankdata(Z.sum(axis=1)) + (1 - weight) * rankdata(learnt)

    def test_reproducible_with_an_int_seed(self, case, pool):
        # The template queries one strategy twice with no update between.
        with pytest.warns(
            UserWarning,
            match=r"^MQNetQuery was queried again without an update .* Call "
            r"strategy\.update\(learner, X_query, y_query\)",
        ):
            super().test_reproducible_with_an_int_seed(case, pool)


class TestLearntMQNetQuery(TestMQNetQuery):
    """Learnt; quantile meta-input, accumulated validation, diverse batch."""

    config = LEARNT
    taught_fixture = "taught"
    top_k = False  # the batch is chosen among the top 3 x n_instances
    # Float noise on a near-tie of raw scores moves a quantile by 1 / n_pool
    # (margins of confident rows tie within 1e-7).
    score_atol = 0.01


class TestBlendedMQNetQuery(TestLearntMQNetQuery):
    """Half rule, half the learnt selector."""

    config = dict(rule_weight=0.5)
    score_atol = 1.0  # ranks: float noise can break a near-tie either way


class TestDefaultMQNetQuery(TestLearntMQNetQuery):
    """The defaults: the learnt selector ranks alone while under half the
    labelled set is OOD, the rule from there."""

    config = {}
    taught_fixture = "taught_default"


# --------------------------------------------------------- MQ-Net specifics


@pytest.mark.parametrize("scaling", ["quantile", "exp_zscore"])
@pytest.mark.parametrize("purity_name", ["msp", "knn_contrast"])
def test_mqnet_first_query_is_the_sum_heuristic(learner, pool, purity_name, scaling):
    mq = MQNetQuery(
        purity_name,
        "entropy",
        meta_input=scaling,
        diversity_pool=None,
        random_state=4,
    )(learner, pool, n_instances=25)
    pi = PurityInformativenessQuery(
        purity_name, "entropy", "sum", meta_input=scaling, random_state=4
    )(learner, pool, n_instances=25)
    np.testing.assert_array_equal(mq[0], pi[0])
    np.testing.assert_array_equal(mq[1], pi[1])


class _StubSelector:
    """Records what it is asked to score; prefers low informativeness."""

    def predict(self, Z):
        self.seen = np.array(Z)
        return -Z[:, 1]


@pytest.mark.parametrize("taught_name", ["taught", "taught_paper"])
def test_mqnet_after_update_ranks_by_the_selector(request, taught_name, pool):
    taught = request.getfixturevalue(taught_name)
    strategy = copy.deepcopy(taught["learner"].query_strategy_)
    strategy.set_params(diversity_pool=None)
    strategy.selector_ = stub = _StubSelector()
    indices, scores = strategy(taught["learner"], pool, n_instances=10)
    raw = raw_scores(taught["learner"], pool, strategy.purity, strategy.informativeness)
    expected = meta_input(raw, raw, strategy.meta_input)
    np.testing.assert_allclose(stub.seen, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(indices, np.argsort(-stub.predict(stub.seen))[:10])
    np.testing.assert_array_equal(scores, -stub.seen[indices, 1])


def test_a_seeded_strategy_seeds_a_given_selector_without_a_seed(
    split, unlabelled, pool
):
    # Only the default selector was seeded: MQNetQuery(selector=
    # MetaQueryNetSelector(device="cuda"), random_state=0), as the README
    # advises on a GPU, drew its selector's start from NumPy's global RNG.
    def selector(template, global_seed):
        np.random.seed(global_seed)  # noqa: NPY002 (what must not matter)
        strategy = MQNetQuery(selector=template, random_state=0)
        fitted = _taught(split, unlabelled, pool, strategy)["learner"].query_strategy_
        return fitted.selector_

    unseeded = MetaQueryNetSelector(init="rule")
    first = selector(unseeded, 0)
    assert first.random_state == 0 and unseeded.random_state is None
    Z = np.random.RandomState(1).rand(50, 2)
    np.testing.assert_array_equal(first.predict(Z), selector(unseeded, 1).predict(Z))
    # A selector's own seed wins.
    assert selector(MetaQueryNetSelector(random_state=7), 0).random_state == 7


def test_the_paper_preset_is_reseeded_by_set_params(split, unlabelled, pool):
    # paper(random_state=0) gave its selector a seed of its own, which won over
    # a later set_params(random_state=...): a seed sweep the scikit-learn way
    # trained every seed's meta-model from seed 0.
    short = dict(selector__max_epochs=2, selector__lr_decay_epoch=1)

    def selector(strategy):
        learner = _fitted_learner(split, strategy.set_params(**short))
        idx, X_query = learner.query(pool, n_instances=30)
        learner.teach(X_query, split.y_pool[unlabelled[idx]])
        return learner.query_strategy_.selector_

    reseeded = selector(
        clone(MQNetQuery.paper(random_state=0)).set_params(random_state=1)
    )
    direct = selector(MQNetQuery.paper(random_state=1))
    assert reseeded.random_state == direct.random_state == 1
    Z = np.random.RandomState(2).rand(50, 2)
    np.testing.assert_array_equal(reseeded.predict(Z), direct.predict(Z))


def test_a_nested_selector_parameter_without_a_selector_names_the_remedy():
    # selector=None had no set_params: a bare AttributeError from scikit-learn.
    with pytest.raises(ValueError, match=r"selector=MetaQueryNetSelector\(init="):
        MQNetQuery().set_params(selector__max_epochs=5)
    learner = ActiveLearner(RandomForestClassifier(), MQNetQuery())
    with pytest.raises(ValueError, match="selector__max_epochs"):
        learner.set_params(query_strategy__selector__max_epochs=5)
    # Given the selector, in the same call or before, it is set.
    strategy = MQNetQuery().set_params(
        selector=MetaQueryNetSelector(), selector__max_epochs=5
    )
    assert strategy.selector.max_epochs == 5
    assert strategy.set_params(selector__lr=0.1).selector.lr == 0.1


def test_rule_alone_fits_no_selector_and_ranks_by_the_rule(split, unlabelled, pool):
    taught = _taught(split, unlabelled, pool, MQNetQuery(rule_weight=1, random_state=0))
    strategy = copy.deepcopy(taught["learner"].query_strategy_)
    assert len(strategy.validation_target_) == len(taught["y_query"])
    assert not hasattr(strategy, "selector_")
    strategy.set_params(diversity_pool=None)
    rule = PurityInformativenessQuery(
        informativeness=strategy.informativeness, meta_input="quantile", random_state=0
    )
    for got, expected in zip(
        strategy(taught["learner"], pool, n_instances=10),
        rule(taught["learner"], pool, n_instances=10),
    ):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("weight", [0.25, 0.75])
def test_blend_weighs_the_rule_by_rule_weight(weight):
    # A selector that ranks the rows in the opposite order to the rule: the
    # rule's rank r of n = 10 rows blends to w r + (1 - w) (n + 1 - r).
    strategy = MQNetQuery()
    strategy.rule_weight_, strategy.selector_ = weight, _FirstColumnSelector()
    i = np.random.RandomState(0).permutation(10)
    Z = np.c_[-i, 3 * i].astype(float)  # rule: 2 i, selector: -i
    expected = weight * (i + 1) + (1 - weight) * (10 - i)
    np.testing.assert_allclose(strategy._combine(Z), expected)


@settings(max_examples=25, deadline=None)
@given(weight=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_blend_of_rule_and_selector_is_monotone(taught, weight, seed):
    strategy = copy.deepcopy(taught["learner"].query_strategy_)
    strategy.rule_weight_ = weight  # what a query with rule_weight=weight sets
    Z = np.random.RandomState(seed).rand(60, 2).round(1)  # ties included
    scores = strategy._combine(Z)
    dominates = (Z[:, None] >= Z[None]).all(axis=2)  # [a, b]: Z[a] >= Z[b]
    assert (scores[:, None] >= scores[None] - 1e-9)[dominates].all()
    for endpoint, ranking in (
        (1.0, Z.sum(axis=1)),
        (0.0, strategy.selector_.predict(Z)),
    ):
        if weight == endpoint:
            np.testing.assert_array_equal(rankdata(scores), rankdata(ranking))


@pytest.mark.parametrize(
    "n_ood, learnt", [(0, True), (9, True), (19, True), (20, False), (30, False)]
)
def test_default_rule_weight_switches_to_the_rule_at_half_labelled_ood(
    split, unlabelled, pool, n_ood, learnt
):
    # rule_weight="auto" by default: the learnt selector under one half OOD
    # (19 of 39 labelled), the rule from one half (20 of 40).
    y_pool = split.y_pool[unlabelled]
    in_rows, ood_rows = np.flatnonzero(y_pool != -1), np.flatnonzero(y_pool == -1)
    rows = np.r_[in_rows[:20], ood_rows[:n_ood]]
    assert MQNetQuery().rule_weight == "auto"
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), MQNetQuery(random_state=0)
    ).fit(pool[rows], y_pool[rows])
    rest = np.setdiff1d(np.arange(len(pool)), rows)
    for _ in range(2):  # decided at the first query, kept at the second
        indices, X_query = learner.query(pool[rest], n_instances=30)
        y_query = y_pool[rest][indices]
        assert 0 < np.sum(y_query == -1) < len(y_query), "need IN and OOD"
        learner.teach(X_query, y_query)
        rest = np.delete(rest, indices)
        strategy = learner.query_strategy_
        assert strategy.labelled_ood_share_ == n_ood / (20 + n_ood)
        assert strategy.rule_weight_ == (0.0 if learnt else 1.0)
        assert hasattr(strategy, "selector_") == learnt


def test_default_selector_starts_from_the_rule_and_the_paper_preset_does_not(
    split, unlabelled, pool, learner, paper_updated
):
    learner = copy.deepcopy(learner)
    learner.query_strategy_ = default = MQNetQuery(random_state=0)
    indices, _ = default(learner, pool, n_instances=40)
    default.update(learner, pool[indices], split.y_pool[unlabelled[indices]])
    for strategy, init in ((default, "rule"), (paper_updated["strategy"], "random")):
        assert strategy.selector_.get_params()["init"] == init
        assert strategy.selector_.random_state == 0


def test_paper_preset_learns_with_the_official_schedule(pool, paper_updated):
    learner, strategy = paper_updated["learner"], paper_updated["strategy"]
    assert strategy.selector_.n_iter_ == 100
    raw = np.column_stack(
        [
            purity("cosine", learner, pool),
            informativeness("learning_loss", learner, pool),
        ]
    )
    np.testing.assert_allclose(
        strategy.pool_meta_input_, exp_z(raw, raw), rtol=1e-4, atol=1e-6
    )


def test_validation_target_is_the_loss_of_the_choosing_classifier(taught):
    strategy = taught["learner"].query_strategy_
    X_query, y_query = taught["X_query"], taught["y_query"]
    is_in = y_query != -1

    def cross_entropy(net):
        proba = net.predict_proba(X_query[is_in]).astype(np.float64)
        return -np.log(proba[np.arange(is_in.sum()), y_query[is_in]])

    expected = np.zeros(len(y_query))
    expected[is_in] = cross_entropy(taught["chooser"])
    np.testing.assert_allclose(
        strategy.validation_target_, expected, rtol=1e-4, atol=1e-6
    )
    # In float64, as the loss is: float32 ties losses a few ulps apart.
    assert strategy.validation_target_.dtype == np.float64
    # The retrained classifier has seen the query: its loss is another target.
    after = cross_entropy(taught["learner"].estimator_)
    assert not np.allclose(after, expected[is_in], rtol=1e-2)
    assert after.mean() < expected[is_in].mean()


@pytest.mark.parametrize("taught_name", ["taught", "taught_paper"])
def test_query_set_meta_input_uses_the_pool_statistics(request, taught_name):
    taught = request.getfixturevalue(taught_name)
    strategy = taught["learner"].query_strategy_
    expected = meta_input(taught["raw_query"], taught["raw_pool"], strategy.meta_input)
    np.testing.assert_allclose(
        strategy.validation_meta_input_, expected, rtol=1e-4, atol=1e-6
    )
    own_scale = MetaInputTransformer(scaling=strategy.meta_input).fit_transform(
        taught["raw_query"]
    )
    assert not np.allclose(strategy.validation_meta_input_, own_scale, rtol=1e-2)


def _ood_rows(split, unlabelled, n):
    ood = unlabelled[split.y_pool[unlabelled] == -1][:n]
    return split.X_pool[ood], split.y_pool[ood]


def test_all_ood_update_without_selector_stays_on_the_sum(
    learner, pool, split, unlabelled
):
    before = MQNetQuery(random_state=0, **LEARNT)(learner, pool, n_instances=10)
    strategy = MQNetQuery(random_state=0, **LEARNT)
    strategy(learner, pool, n_instances=len(pool))  # every row was queried
    with pytest.warns(UserWarning, match="no pair to rank"):
        strategy.update(learner, *_ood_rows(split, unlabelled, 8))
    assert not hasattr(strategy, "selector_")
    np.testing.assert_array_equal(strategy.validation_target_, np.zeros(8))
    after = strategy(learner, pool, n_instances=10)
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])


def test_all_ood_update_keeps_the_previous_selector(
    taught_paper, pool, split, unlabelled
):
    taught = taught_paper  # without accumulation: the update alone has no pair
    strategy = copy.deepcopy(taught["learner"].query_strategy_)
    selector = strategy.selector_
    before = copy.deepcopy(strategy)(taught["learner"], pool, n_instances=10)
    strategy(taught["learner"], pool, n_instances=len(pool))
    with pytest.warns(UserWarning, match="no pair to rank"):
        strategy.update(taught["learner"], *_ood_rows(split, unlabelled, 8))
    assert strategy.selector_ is selector
    after = strategy(taught["learner"], pool, n_instances=10)
    np.testing.assert_array_equal(after[0], before[0])


def _in_rows(split, unlabelled, n):
    known = unlabelled[split.y_pool[unlabelled] != -1][:n]
    return split.X_pool[known], split.y_pool[known]


@pytest.mark.parametrize(
    "params, batches, remedy",
    [
        (dict(accumulate=False), ["ood"], "Query more rows at a time"),
        ({}, ["ood"], "It fits at the first update that brings one."),
        (dict(pairs="within_round"), ["in", "in"], "Set pairs='all' to rank"),
        # all OOD: a later in-distribution row pairs with them across rounds too
        (dict(pairs="within_round"), ["ood"], "It fits at the first update"),
    ],
    ids=["latest", "accumulated", "within_round", "within_round_all_ood"],
)
def test_an_update_without_a_pair_to_rank_names_the_remedy_for_its_settings(
    learner, pool, split, unlabelled, params, batches, remedy
):
    # The selector's own warning ("the target offers no pair") named none: a
    # learner's user could not tell what to change.
    strategy = MQNetQuery(random_state=0, **LEARNT, **params)
    for i, kind in enumerate(batches):
        strategy(learner, pool, n_instances=len(pool))
        X, y = (_ood_rows if kind == "ood" else _in_rows)(split, unlabelled, i + 1)
        with pytest.warns(UserWarning, match="no pair to rank") as record:
            strategy.update(learner, X[i:], y[i:])  # a row of its own each round
    [warning] = record
    assert str(warning.message).startswith("MQNetQuery cannot fit its selector")
    assert remedy in str(warning.message)
    assert not hasattr(strategy, "selector_")


def test_update_converts_the_scores_its_query_was_scaled_on(
    learner, pool, split, unlabelled
):
    # Scores changed between a query and its update were converted on the
    # scale of the old ones (purity 0.96-1.0 for every row); 'auto' crashed.
    y_pool = split.y_pool[unlabelled]
    for later in ("msp", "auto"):
        strategy = MQNetQuery(rule_weight=1, random_state=0)
        indices, _ = strategy(learner, pool, n_instances=10)
        expected = strategy.meta_input_.transform(
            strategy._raw_scores(learner, pool[indices])
        )
        strategy.set_params(purity=later)
        strategy.update(learner, pool[indices], y_pool[indices])
        np.testing.assert_allclose(strategy.validation_meta_input_, expected)


def test_update_uses_the_meta_input_of_the_query_that_chose_the_rows(
    learner, pool, split, unlabelled
):
    # Rows of an earlier query are converted on its pool's scale, not on that
    # of the latest query, whose pool is another.
    y_pool = split.y_pool[unlabelled]
    half = len(pool) // 2
    strategy = MQNetQuery(rule_weight=1, random_state=0)
    first, _ = strategy(learner, pool[:half], n_instances=10)
    expected = strategy.meta_input_.transform(
        strategy._raw_scores(learner, pool[first])
    )
    with pytest.warns(UserWarning, match="without an update"):
        strategy(learner, pool[half:], n_instances=10)
    strategy.update(learner, pool[first], y_pool[first])
    np.testing.assert_allclose(strategy.validation_meta_input_, expected)


def test_update_fits_a_clone_of_the_selector_and_leaves_the_given_one_unfitted(
    learner, pool, split, unlabelled
):
    # scikit-learn's convention: an estimator given as a parameter is a
    # template its owner never fits nor changes.
    template = MetaQueryNetSelector(max_epochs=5, random_state=7)
    params = template.get_params()
    strategy = MQNetQuery(selector=template, random_state=0, **LEARNT)
    _two_query_sets(strategy, learner, pool, split, unlabelled)
    assert hasattr(strategy, "selector_") and strategy.selector_ is not template
    with pytest.raises(NotFittedError):
        check_is_fitted(template)
    assert template.get_params() == params


def test_update_before_any_query_is_an_error(learner, pool):
    with pytest.raises(ValueError, match="call the strategy on the pool"):
        MQNetQuery().update(learner, pool[:4], np.array([0, 1, -1, 2]))


def test_a_query_made_with_the_original_strategy_names_the_learners_clone(split, pool):
    strategy = MQNetQuery(random_state=0)
    learner = _fitted_learner(split, strategy)
    indices, _ = strategy(learner, pool, n_instances=4)  # not learner.query
    with pytest.raises(ValueError, match=r"learner\.query\(\.\.\.\).*clone"):
        learner.teach(pool[indices], np.array([0, 1, -1, 2]))


def test_rows_taught_before_the_first_query_are_named_with_the_remedy(split, pool):
    # The message told to query through learner.query, as if a query had
    # been made with the original strategy; none was.
    X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    learner = ActiveLearner(LogisticRegression(max_iter=300), MQNetQuery(), X0, y0)
    message = "no query of the learner chose these rows.*fit the learner again"
    with pytest.raises(ValueError, match=message):
        learner.teach(pool[:4], np.array([0, 1, -1, 2]))


def test_update_with_mismatched_lengths_is_an_error(learner, pool):
    strategy = MQNetQuery(random_state=0)
    chosen, _ = strategy(learner, pool, n_instances=4)
    # The rows it chose, so that only the lengths are wrong.
    with pytest.raises(ValueError, match="X_query has 4 rows but y_query has 3"):
        strategy.update(learner, pool[chosen], np.array([0, 1, -1]))


@pytest.mark.parametrize("accumulate", [False, True])
def test_accumulate_grows_the_validation_set(
    learner, pool, split, unlabelled, accumulate
):
    y_pool = split.y_pool[unlabelled]
    in_rows, ood_rows = np.flatnonzero(y_pool != -1), np.flatnonzero(y_pool == -1)
    query_sets = [
        np.r_[in_rows[:6], ood_rows[:6]],
        np.r_[in_rows[6:11], ood_rows[6:10]],
    ]
    strategy = MQNetQuery("msp", random_state=0, accumulate=accumulate, **LEARNT)
    sizes, metas = [], []
    for rows in query_sets:
        strategy(learner, pool, n_instances=len(pool))
        strategy.update(learner, pool[rows], y_pool[rows])
        sizes.append(len(strategy.validation_target_))
        metas.append(strategy.validation_meta_input_.copy())
        assert metas[-1].shape == (sizes[-1], 2)
        assert hasattr(strategy, "selector_")
    if accumulate:
        assert sizes == [12, 21]
        np.testing.assert_array_equal(metas[1][:12], metas[0])
    else:
        assert sizes == [12, 9]


def test_mqnet_diverse_batch_is_drawn_from_the_top_meta_scores(taught, pool):
    learner = taught["learner"]
    diverse = copy.deepcopy(learner.query_strategy_)
    top, _ = copy.deepcopy(diverse).set_params(diversity_pool=None)(
        learner, pool, n_instances=30
    )
    indices, scores = diverse(learner, pool, n_instances=10)
    assert len(np.unique(indices)) == 10 and set(indices) <= set(top)
    np.testing.assert_allclose(
        scores, diverse.selector_.predict(diverse.pool_meta_input_)[indices]
    )
    # Returned in meta-score order, and more spread out than the top 10.
    rank = {row: position for position, row in enumerate(top)}
    assert [rank[row] for row in indices] == sorted(rank[row] for row in indices)

    def spread(rows):
        return pairwise_distances(embed(learner.estimator_, pool[rows])).mean()

    assert spread(indices) > spread(top[:10])


def test_mqnet_diverse_batch_covers_every_distinct_candidate(taught, pool):
    """Copies of three rows fill the top 3k: top-k would take copies of one."""
    learner = taught["learner"]
    strategy = copy.deepcopy(learner.query_strategy_)
    scores = strategy.selector_.predict(strategy.pool_meta_input_)
    distinct = pool[np.argsort(-scores)[[0, 40, 80]]]
    copies = np.repeat(distinct, 10, axis=0)
    indices, _ = strategy(learner, copies, n_instances=10)
    assert len(np.unique(indices)) == 10
    assert set(indices // 10) == {0, 1, 2}
    top_k = copy.deepcopy(learner.query_strategy_).set_params(diversity_pool=None)
    top, _ = top_k(learner, copies, n_instances=10)
    assert len(set(top // 10)) == 1


def _top_row_copied(learner, pool, n_copies):
    """The learner's strategy, it with the top-k batch, and `pool` after
    `n_copies` copies of its top row."""
    strategy = copy.deepcopy(learner.query_strategy_)
    top_k = copy.deepcopy(strategy).set_params(diversity_pool=None)
    first, _ = copy.deepcopy(top_k)(learner, pool, n_instances=1)
    return strategy, top_k, np.concatenate([np.repeat(pool[first], n_copies, 0), pool])


def test_mqnet_diverse_batch_goes_down_the_ranking_past_copies_of_one_row(taught, pool):
    """Copies of the top row filled the top 3k: the batch was k copies of it,
    though the pool holds many distinct rows."""
    learner = taught["learner"]
    strategy, top_k, copies = _top_row_copied(learner, pool, 40)
    top, _ = top_k(learner, copies, n_instances=30)
    assert len(np.unique(copies[top], axis=0)) == 1
    indices, batch_scores = strategy(learner, copies, n_instances=10)
    assert len(np.unique(copies[indices], axis=0)) == 10
    assert indices[0] == top[0]  # the top row, then the best distinct others
    assert np.all(np.diff(batch_scores) <= 0)
    # A pool of too few distinct rows: every one of them, and copies.
    few = copies[: 40 + 6]
    indices, _ = copy.deepcopy(learner.query_strategy_)(learner, few, n_instances=10)
    assert len(np.unique(indices)) == 10
    assert len(np.unique(few[indices], axis=0)) == len(np.unique(few, axis=0))


def test_mqnet_diverse_batch_looks_further_down_until_it_finds_enough_rows(
    taught, pool
):
    """100 copies of the top row: the first look down the ranking (60 rows)
    finds that row alone, the next (120 rows) enough others."""
    learner = taught["learner"]
    strategy, top_k, copies = _top_row_copied(learner, pool, 100)
    top, _ = top_k(learner, copies, n_instances=1)
    indices, batch_scores = strategy(learner, copies, n_instances=10)
    assert len(np.unique(copies[indices], axis=0)) == 10
    assert indices[0] == top[0]  # the top row, then the best distinct others
    assert np.all(np.diff(batch_scores) <= 0)


def test_mqnet_diverse_batch_looks_down_when_the_top_3k_hold_one_row_too_few(
    taught, pool
):
    """The top 30 candidates for a batch of 10 hold 9 distinct rows, the best
    8 three times each, the ninth six times: k-means cannot find 10 clusters."""
    learner = taught["learner"]
    strategy = copy.deepcopy(learner.query_strategy_)
    top_k = copy.deepcopy(strategy).set_params(diversity_pool=None)
    best, _ = copy.deepcopy(top_k)(learner, pool, n_instances=9)
    copies = np.concatenate([pool[np.repeat(best, [2] * 8 + [5])], pool])
    top, _ = top_k(learner, copies, n_instances=30)
    assert len(np.unique(copies[top], axis=0)) == 9
    indices, _ = strategy(learner, copies, n_instances=10)
    assert len(np.unique(copies[indices], axis=0)) == 10


@pytest.mark.parametrize("batch_skyline", [False, True])
def test_mqnet_diverse_batch_of_enough_distinct_candidates_is_the_top_3k_one(
    taught, pool, batch_skyline
):
    """Copies among the top 3k that leave k distinct rows: the batch is drawn
    from those 3k as ever (the committed benchmark cells depend on it)."""
    learner = taught["learner"]
    strategy = copy.deepcopy(learner.query_strategy_)
    strategy.set_params(batch_skyline=batch_skyline)
    scores = strategy.selector_.predict(strategy.pool_meta_input_)
    best = pool[np.argsort(-scores)[:5]]
    copies = np.concatenate([np.repeat(best, 4, axis=0), pool])
    top_k = copy.deepcopy(strategy).set_params(diversity_pool=None)
    top, _ = top_k(learner, copies, n_instances=30)
    assert 10 <= len(np.unique(copies[top], axis=0)) < 30
    rng = np.random.RandomState(0)
    rng.permutation(len(copies))  # the draw that broke the ties of the top 3k
    chosen = _meta_query._diverse_batch(
        _meta_query.model_embedding(learner, copies[top]),
        top_k.pool_meta_input_[top] if batch_skyline else None,
        10,
        rng,
    )
    indices, _ = strategy(learner, copies, n_instances=10)
    np.testing.assert_array_equal(indices, top[chosen])


def test_mqnet_numpy_diversity_pool_past_int64_products_takes_the_whole_pool(
    learner, pool
):
    # n_instances * np.int64(2**62) overflowed, negative: "kth out of bounds".
    strategy = MQNetQuery(diversity_pool=np.int64(2**62), random_state=0)
    indices, _ = strategy(learner, pool, n_instances=10)
    expected, _ = MQNetQuery(diversity_pool=len(pool), random_state=0)(
        learner, pool, n_instances=10
    )
    np.testing.assert_array_equal(indices, expected)


class _SlottedModalLearner:
    """modAL's learner as the strategies read it, which takes no weak reference."""

    __slots__ = ("estimator", "X_training", "y_training")


def test_mqnet_serves_a_modal_learner_that_takes_no_weak_reference(
    split, unlabelled, pool
):
    # Such a learner goes untracked: the strategy serves it all the same.
    X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    learner = _SlottedModalLearner()
    learner.X_training, learner.y_training = X0[y0 != -1], y0[y0 != -1]
    learner.estimator = LogisticRegression(max_iter=500)
    learner.estimator.fit(learner.X_training, learner.y_training)
    strategy = MQNetQuery(random_state=0, **LEARNT)
    # Taught before any query: modAL's own advice, not ActiveLearner's.
    with pytest.raises(ValueError, match="not queried yet. Give a modAL learner"):
        strategy.update(learner, X0[:2], y0[:2])
    indices, _ = strategy(learner, pool, n_instances=20)
    strategy.update(learner, pool[indices], split.y_pool[unlabelled[indices]])
    assert len(strategy.validation_target_) == 20


# ------------------------------------------------------ paper preset, pairs


def test_paper_preset_is_a_plain_configuration():
    strategy = MQNetQuery.paper(random_state=3)
    params = strategy.get_params()
    assert params["purity"] == "cosine"
    assert params["informativeness"] is learning_loss_or_confidence
    assert (params["meta_input"], params["accumulate"]) == ("exp_zscore", False)
    assert params["diversity_pool"] is None and not params["validate_selector"]
    assert params["rule_weight"] == 0.0  # the selector alone ranks, at any OOD share
    selector = params["selector"].get_params()
    assert (selector["optimizer"], selector["lr"]) == ("sgd", 1e-3)
    assert (selector["batch_size"], selector["max_epochs"]) == (32, 100)
    assert selector["steps_per_epoch"] == 100  # the authors' steps_per_epoch
    assert selector["lr_decay_epoch"] == 50 and params["random_state"] == 3
    # seeded by the strategy's random_state at each update, so set_params reseeds it
    assert selector["random_state"] is None
    cloned = clone(strategy)
    assert cloned.get_params()["selector"].get_params() == selector
    assert type(cloned) is MQNetQuery


@pytest.mark.parametrize("learner_name", ["learner", "ll_learner"])
def test_paper_informativeness_is_ll_with_a_loss_head_else_conf(
    request, learner_name, pool
):
    learner = request.getfixturevalue(learner_name)
    name = "learning_loss" if learner_name == "ll_learner" else "least_confidence"
    np.testing.assert_allclose(
        learning_loss_or_confidence(learner, pool),
        informativeness(name, learner, pool),
        rtol=1e-5,
        atol=1e-6,
    )


def _two_query_sets(strategy, learner, pool, split, unlabelled):
    y_pool = split.y_pool[unlabelled]
    in_rows, ood_rows = np.flatnonzero(y_pool != -1), np.flatnonzero(y_pool == -1)
    query_sets = (
        np.r_[in_rows[:6], ood_rows[:6]],
        np.r_[in_rows[6:11], ood_rows[6:10]],
    )
    for rows in query_sets:
        strategy(learner, pool, n_instances=len(pool))  # every row was queried
        strategy.update(learner, pool[rows], y_pool[rows])
    return strategy


@pytest.mark.parametrize("pairs", ["within_round", "all", None])
def test_accumulated_in_pairs_are_ranked_within_their_round(
    learner, pool, split, unlabelled, pairs
):
    # None: the default, which ranks pairs across rounds (meta_signal.md).
    kwargs = {} if pairs is None else dict(pairs=pairs)
    strategy = MQNetQuery("msp", random_state=0, **kwargs, **LEARNT)
    _two_query_sets(strategy, learner, pool, split, unlabelled)
    np.testing.assert_array_equal(strategy.validation_round_, [0] * 12 + [1] * 9)
    groups = strategy.validation_round_ if pairs == "within_round" else None
    expected = clone(strategy.selector_).fit(
        strategy.validation_meta_input_, strategy.validation_target_, groups=groups
    )
    np.testing.assert_allclose(
        strategy.selector_.predict(strategy.pool_meta_input_),
        expected.predict(strategy.pool_meta_input_),
    )


def test_cross_validation_keeps_the_rule_when_it_ranks_better():
    rng = np.random.RandomState(0)
    Z = rng.uniform(0, 1, size=(90, 2))
    selector = MetaQueryNetSelector(max_epochs=30, random_state=0)
    # Targets ordered by P + I: the rule is perfect, the selector cannot beat it.
    target = Z.sum(axis=1)
    scores = _meta_query._cross_validated_scores(selector, Z, target, None)
    assert scores["rule"] == 1.0 and scores["selector"] < 1.0
    # Targets set by purity alone, against informativeness: the rule is poor.
    target = np.where(Z[:, 0] > 0.5, 1.0 + Z[:, 0] - 0.9 * Z[:, 1], 0.0)
    scores = _meta_query._cross_validated_scores(selector, Z, target, None)
    assert scores["selector"] > scores["rule"] + 0.1


class _FirstColumnSelector(BaseEstimator):
    """A fitted selector that ranks by the first meta-input column."""

    def fit(self, Z, target, groups=None):
        self.module_ = None
        return self

    def predict(self, Z):
        return Z[:, 0]


def test_cross_validation_stratifies_and_counts_pairs_by_their_target_gap():
    # Six IN rows (targets 10, 10.1, ..., 10.5) and three OOD ones (0), in
    # three folds stratified by IN versus OOD: each held-out fold is IN rows
    # a < b and one OOD row. The rule (the sum) puts IN first but orders a, b
    # wrongly: the pairs of gaps a and b right, that of gap b - a (0.5 at most)
    # wrong, it scores (a + b) / 2b > 0.95; the selector (the first column),
    # the other way round, (b - a) / 2b < 0.05. Counted alike, 2/3 and 1/3.
    i = np.arange(6)
    Z = np.r_[np.c_[i, 50 - 2 * i], np.tile([100, -200], (3, 1))].astype(float)
    target = np.r_[10 + 0.1 * i, np.zeros(3)]
    scores = _meta_query._cross_validated_scores(
        _FirstColumnSelector(), Z, target, None
    )
    assert scores["rule"] > 0.95 and scores["selector"] < 0.05


@pytest.mark.parametrize("winner", ["selector", "rule"])
def test_validated_update_ranks_by_the_winner(
    learner, pool, split, unlabelled, monkeypatch, winner
):
    monkeypatch.setattr(
        _meta_query,
        "_cross_validated_scores",
        lambda *args: {"selector": 0.7, "rule": 0.6 if winner == "selector" else 0.8},
    )
    strategy = _two_query_sets(
        MQNetQuery(
            "msp", validate_selector=True, diversity_pool=None, random_state=0, **LEARNT
        ),
        learner,
        pool,
        split,
        unlabelled,
    )
    assert hasattr(strategy, "selector_") == (winner == "selector")
    indices, scores = strategy(learner, pool, n_instances=10)
    if winner == "rule":
        np.testing.assert_allclose(scores, strategy.pool_meta_input_[indices].sum(1))


class _RuleRankingSelector(MetaQueryNetSelector):
    """A selector that, once fitted, ranks as the rule ``P + I`` does."""

    def predict(self, X):
        return np.asarray(X).sum(axis=1)


def test_a_selector_that_ties_the_rule_on_held_out_pairs_leaves_the_rule(
    learner, pool, split, unlabelled
):
    # P + I is kept unless the selector wins the held-out pairs (the
    # docstring of validate_selector): ranking as the rule, it ties there.
    strategy = _two_query_sets(
        MQNetQuery(
            "msp",
            selector=_RuleRankingSelector(max_epochs=5),
            validate_selector=True,
            diversity_pool=None,
            random_state=0,
            **LEARNT,
        ),
        learner,
        pool,
        split,
        unlabelled,
    )
    assert strategy.cv_scores_["selector"] == strategy.cv_scores_["rule"]
    assert not hasattr(strategy, "selector_")


def test_a_fit_in_another_thread_warns_of_no_pair_while_an_update_validates(
    learner, pool, split, unlabelled, monkeypatch
):
    # The cross-validation ignored UserWarning for its folds without a pair,
    # and an ignored block's filter is the process's: the warning of a fit
    # without a pair in another thread, with no remedy of its own, was lost.
    # conftest's one-thread block, held by this thread, would keep the update waiting
    monkeypatch.setattr(_threads, "_TORCH_PIN", threading.RLock())
    fits, validating, done = [], threading.Event(), threading.Event()

    class HeldUpSelector(MetaQueryNetSelector):
        def fit(self, X, y, sample_weight=None, groups=None):
            fits.append(len(X))
            if len(fits) == 2:  # the first fold's, after the update's own
                validating.set()
                done.wait(30)
            return super().fit(X, y, sample_weight, groups)

    strategy = MQNetQuery(
        "msp",
        selector=HeldUpSelector(max_epochs=5),
        validate_selector=True,
        diversity_pool=None,
        random_state=0,
        **LEARNT,
    )
    update = threading.Thread(
        target=_two_query_sets, args=(strategy, learner, pool, split, unlabelled)
    )
    with pytest.warns(UserWarning, match="offers no pair to rank"):
        update.start()
        try:
            assert validating.wait(30)
            MetaQueryNetSelector().fit(np.ones((3, 2)), np.zeros(3))
        finally:
            done.set()
            update.join(30)
    assert fits[:2] == [12, 8] and hasattr(strategy, "cv_scores_")


def test_a_validation_the_rule_wins_drops_the_earlier_selector(
    learner, pool, split, unlabelled, monkeypatch
):
    outcomes = iter([{"selector": 0.7, "rule": 0.6}, {"selector": 0.7, "rule": 0.8}])
    monkeypatch.setattr(
        _meta_query, "_cross_validated_scores", lambda *args: next(outcomes)
    )
    strategy = MQNetQuery(
        "msp", validate_selector=True, diversity_pool=None, random_state=0, **LEARNT
    )
    _two_query_sets(strategy, learner, pool, split, unlabelled)
    assert not hasattr(strategy, "selector_")
    indices, scores = strategy(learner, pool, n_instances=10)
    np.testing.assert_allclose(scores, strategy.pool_meta_input_[indices].sum(1))


@pytest.mark.parametrize("n_ood", [2, 1])
@pytest.mark.parametrize("before", ["selector", "rule"])
def test_update_too_small_to_validate_keeps_the_ranking(
    learner, pool, split, unlabelled, monkeypatch, before, n_ood
):
    # The held-out folds of 3 rows hold no pair: NaN scores counted as the
    # selector losing, which silently dropped the selector of an earlier update.
    # Of 2 rows, one of each kind, not even two folds can be made.
    validated = {"selector": 0.7, "rule": 0.6 if before == "selector" else 0.8}
    real = _meta_query._cross_validated_scores
    monkeypatch.setattr(
        _meta_query,
        "_cross_validated_scores",
        lambda selector, Z, *args: (
            validated if len(Z) > 3 else real(selector, Z, *args)
        ),
    )
    strategy = MQNetQuery(
        "msp",
        validate_selector=True,
        accumulate=False,
        diversity_pool=None,
        random_state=0,
        **LEARNT,
    )
    y_pool = split.y_pool[unlabelled]
    in_rows, ood_rows = np.flatnonzero(y_pool != -1), np.flatnonzero(y_pool == -1)
    first = np.r_[in_rows[:6], ood_rows[:6]]
    small = np.r_[in_rows[6], ood_rows[6 : 6 + n_ood]]
    strategy(learner, pool, n_instances=len(pool))
    strategy.update(learner, pool[first], y_pool[first])
    selector = getattr(strategy, "selector_", None)
    strategy(learner, pool, n_instances=len(pool))
    with pytest.warns(
        UserWarning, match=f"cannot validate the selector on {len(small)} rows"
    ):
        strategy.update(learner, pool[small], y_pool[small])
    assert getattr(strategy, "selector_", None) is selector
    assert (selector is not None) == (before == "selector")
    assert strategy.cv_scores_ == validated


def test_diverse_batch_with_the_skyline_takes_dominators_first():
    # Ranked rows: two in cluster A, then two in cluster B, each dominated
    # by every row above it.
    embedding = np.array([[0.0], [0.1], [10.0], [10.1]])
    Z = np.array([[3.0, 3.0], [2.0, 2.0], [1.0, 1.0], [0.5, 0.5]])
    rng = np.random.RandomState(0)
    free = _meta_query._diverse_batch(embedding, None, 2, rng)
    np.testing.assert_array_equal(free, [0, 2])  # row 2 is dominated by row 1
    skyline = _meta_query._diverse_batch(embedding, Z, 2, rng)
    np.testing.assert_array_equal(skyline, [0, 1])


@pytest.mark.parametrize("scale", [2.0**520, 2.0**-600])
def test_diverse_batch_is_the_same_at_extreme_scales(scale):
    # k-means on the raw embedding: its squared distances overflowed (or
    # underflowed to 0), one cluster held every row, and the batch was the
    # top of the ranking, as without diversity.
    embedding = np.random.RandomState(0).normal(size=(40, 3))
    batches = [
        _meta_query._diverse_batch(E, None, 8, np.random.RandomState(0))
        for E in (embedding, embedding * scale)
    ]
    assert not np.array_equal(batches[0], np.arange(8))  # diversity at work
    np.testing.assert_array_equal(batches[1], batches[0])


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(st.integers(0, 5), min_size=2, max_size=40),
    n=st.integers(1, 10),
    seed=st.integers(0, 3),
)
def test_diverse_batch_without_the_skyline_equals_its_general_loop(rows, n, seed):
    # Repeated values make k-means find fewer distinct clusters than asked.
    embedding = np.array(rows, dtype=float)[:, None]
    n = min(n, len(rows))
    direct = _meta_query._diverse_batch(embedding, None, n, np.random.RandomState(seed))
    # A constant Z dominates nothing: the general loop with every row eligible.
    loop = _meta_query._diverse_batch(
        embedding, np.zeros((len(rows), 2)), n, np.random.RandomState(seed)
    )
    np.testing.assert_array_equal(direct, loop)


def _skyline_batch_by_definition(labels, Z, n):
    """The skyline batch as the docstring defines it, from the full matrix."""
    dominates = (Z[:, None] >= Z[None]).all(axis=2) & (Z[:, None] > Z[None]).any(axis=2)
    chosen, covered = np.zeros(len(Z), dtype=bool), set()
    for _ in range(n):
        eligible = np.flatnonzero(~chosen & ~dominates[~chosen].any(axis=0))
        fresh = [i for i in eligible if labels[i] not in covered]
        pick = fresh[0] if fresh else eligible[0]
        chosen[pick] = True
        covered.add(labels[pick])
    return np.flatnonzero(chosen)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 3)),
        min_size=2,
        max_size=60,
    ),
    n=st.integers(1, 12),
    seed=st.integers(0, 3),
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_diverse_batch_with_the_skyline_equals_its_definition(rows, n, seed):
    rows = np.array(rows, dtype=float)  # small values: many ties and duplicates
    embedding, Z = rows[:, :1], rows[:, 1:]
    n = min(n, len(rows))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_meta_query, "_DOMINANCE_CHUNK", 7)  # several chunks
        batch = _meta_query._diverse_batch(embedding, Z, n, np.random.RandomState(seed))
    labels = KMeans(
        n, n_init=1, random_state=np.random.RandomState(seed).randint(2**31 - 1)
    ).fit_predict(embedding)
    np.testing.assert_array_equal(batch, _skyline_batch_by_definition(labels, Z, n))


def test_batch_skyline_leaves_out_no_dominating_example(taught, pool):
    learner = taught["learner"]
    strategy = copy.deepcopy(learner.query_strategy_).set_params(batch_skyline=True)
    indices, _ = strategy(learner, pool, n_instances=10)
    Z = strategy.pool_meta_input_
    left_out = np.setdiff1d(np.arange(len(pool)), indices)
    dominated = [
        ((Z[left_out] >= Z[i]).all(axis=1) & (Z[left_out] > Z[i]).any(axis=1)).any()
        for i in indices
    ]
    assert not any(dominated)


# ------------------------------------------------------------ purity="auto"


def test_auto_purity_takes_the_score_with_the_best_held_out_auroc(learner, pool):
    strategy = PurityInformativenessQuery("auto", random_state=0)
    strategy(learner, pool, n_instances=5)
    auroc = strategy.purity_auroc_
    assert set(auroc) == {"mahalanobis", "knn", "knn_contrast", "cosine"}
    assert strategy.purity_ == max(auroc, key=auroc.get)
    assert all(0.0 <= value <= 1.0 for value in auroc.values())
    fixed = PurityInformativenessQuery(strategy.purity_, random_state=0)
    fixed(learner, pool, n_instances=5)
    np.testing.assert_allclose(strategy.pool_meta_input_, fixed.pool_meta_input_)


def test_auto_purity_warns_of_a_wide_embedding_once_a_query(learner, pool, monkeypatch):
    # Each of the 3 held-out folds warned, the same words 3 or 4 times a
    # query: Python's once-per-line registry is reset by every
    # catch_warnings block, scikit-learn's included.
    monkeypatch.setattr(_purity, "_SLOW_COVARIANCE_FEATURES", 1)
    strategy = PurityInformativenessQuery("auto", random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        strategy(learner, pool, n_instances=5)
    wide = [w for w in caught if "inverts a covariance" in str(w.message)]
    assert "mahalanobis" in strategy.purity_auroc_
    assert len(wide) == 1


def test_auto_purity_auroc_is_cross_validated(learner):
    """knn_contrast of a labelled example against itself would give AUROC 1."""
    auroc = _meta_query._purity_auroc(learner)
    is_ood = learner.y_labelled_ == -1  # in-distribution rows first, then OOD
    X = np.concatenate([learner.X_labelled_[~is_ood], learner.X_labelled_[is_ood]])
    y = np.concatenate([learner.y_labelled_[~is_ood], learner.y_labelled_[is_ood]])
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(X, y != -1)
    expected = []
    for train, test in folds:
        emb = embed(learner.estimator_, X)
        is_in = y[train] != -1
        purity = knn_contrast_purity(emb[test], emb[train][is_in], emb[train][~is_in])
        expected.append(roc_auc_score(y[test] != -1, purity))
    assert auroc["knn_contrast"] == pytest.approx(np.mean(expected))


def test_auto_purity_leaves_out_scores_that_cannot_be_held_out(split, pool):
    # A forest is certain on the IN rows it was trained on: msp's "held-out"
    # AUROC was ~1 and won every round, though on the pool it separates IN
    # from OOD worst.
    X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    forest = ActiveLearner(RandomForestClassifier(random_state=0)).fit(X0, y0)
    strategy = MQNetQuery("auto", random_state=0)
    strategy(forest, pool, n_instances=5)
    assert strategy.purity_ in {"mahalanobis", "knn", "knn_contrast", "cosine"}
    assert not {"msp", "energy"} & set(strategy.purity_auroc_)


def test_auto_purity_candidates_need_nothing_of_the_classifier():
    # _purity_auroc scores each candidate with any classifier, unchecked: none
    # may need probabilities, logits or a loss head (as msp and energy do).
    assert not set(_meta_query._AUTO_CANDIDATES) & set(SCORE_NEEDS)


@pytest.mark.parametrize("purity_name", ["energy", "msp"])
def test_purity_of_a_diverged_net_names_the_divergence(split, pool, purity_name):
    # Energy gave energy_purity's bare "Input logits contains NaN.", where
    # msp (through the class probabilities) named the diverged net.
    learner = _fitted_learner(split)
    with torch.no_grad():
        learner.estimator_.module_.head.weight[0, 0] = float("nan")
    strategy = MQNetQuery(purity_name, random_state=0)
    with pytest.raises(ValueError, match="finite rows of X: a net that diverged"):
        strategy(learner, pool, n_instances=5)


def _repeated_prototypes_learner():
    """A learner whose IN classes each hold one row, three times (8 features,
    the embedding of a logistic regression), and 8 distinct OOD rows; and a
    pool."""
    rng = np.random.RandomState(0)
    prototypes, ood, pool = rng.rand(3, 8), rng.rand(8, 8), rng.rand(20, 8)
    X = np.vstack([np.repeat(prototypes, 3, axis=0), ood])
    y = np.r_[np.repeat(np.arange(3), 3), np.full(8, -1)]
    return ActiveLearner(LogisticRegression(max_iter=500)).fit(X, y), pool


def test_auto_purity_leaves_out_mahalanobis_without_within_class_variation():
    # The folds' residuals were the rounding of the class means, whose
    # covariance scored noise: Mahalanobis tied the best AUROC and was chosen.
    learner, pool = _repeated_prototypes_learner()
    strategy = PurityInformativenessQuery("auto", random_state=0)
    strategy(learner, pool, n_instances=5)
    assert set(strategy.purity_auroc_) == {"knn", "knn_contrast", "cosine"}
    assert strategy.purity_ in strategy.purity_auroc_


def test_auto_purity_falls_back_when_its_choice_cannot_score_the_labelled_set(
    monkeypatch,
):
    # Folds embedded apart from the whole set can score where it cannot: the
    # query raised TooFewLabelsError.
    learner, pool = _repeated_prototypes_learner()
    monkeypatch.setattr(
        _meta_query, "_purity_auroc", lambda learner: {"mahalanobis": 1.0, "knn": 0.9}
    )
    strategy = PurityInformativenessQuery("auto", random_state=0)
    with pytest.warns(UserWarning, match="chose 'mahalanobis'.*using 'knn_contrast'"):
        strategy(learner, pool, n_instances=5)
    assert strategy.purity_ == "knn_contrast"
    fixed = PurityInformativenessQuery("knn_contrast", random_state=0)
    fixed(learner, pool, n_instances=5)
    np.testing.assert_array_equal(strategy.pool_meta_input_, fixed.pool_meta_input_)


def test_a_purity_named_by_the_user_that_cannot_score_is_not_replaced():
    # Only purity='auto' falls back to another score: a named one is kept,
    # and its error (with its remedy) is raised.
    learner, pool = _repeated_prototypes_learner()
    strategy = PurityInformativenessQuery("mahalanobis", random_state=0)
    with pytest.raises(TooFewLabelsError, match="variation.*another purity score"):
        strategy(learner, pool, n_instances=5)


def test_auto_purity_falls_back_with_few_ood_labels(split, pool):
    X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    keep = np.flatnonzero(y0 != -1).tolist() + np.flatnonzero(y0 == -1)[:5].tolist()
    few = ActiveLearner(_net()).fit(X0[keep], y0[keep])
    strategy = MQNetQuery("auto", random_state=0)
    strategy(few, pool, n_instances=5)
    assert strategy.purity_ == "knn_contrast" and strategy.purity_auroc_ == {}


def test_a_purity_the_same_for_every_pool_row_is_named():
    # One-feature rows are all alike once L2-normalised: kNN contrast gave every
    # pool row one purity, and MQ-Net bought OOD rows 25 times as far away
    # without a word.
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(1, 0.1, 40), rng.normal(2, 0.1, 40), rng.normal(50, 1, 40)]
    X, y = X[:, None], np.repeat([0, 1, -1], 40)
    initial = rng.choice(120, 30, replace=False)
    pool = np.delete(X, initial, axis=0)

    def query(purity, rows=pool):
        learner = ActiveLearner(
            RandomForestClassifier(random_state=0),
            MQNetQuery(purity=purity, random_state=0),
        ).fit(X[initial], y[initial])
        return learner.query(rows, n_instances=min(10, len(rows)))

    with pytest.warns(UserWarning, match="'knn_contrast' is the same.*mahalanobis"):
        query("knn_contrast")
    # A forest's largest probability differs between rows; a tree's is 1.
    learner = ActiveLearner(
        DecisionTreeClassifier(random_state=0), MQNetQuery("msp", random_state=0)
    ).fit(X[initial], y[initial])
    with pytest.warns(UserWarning, match="'msp' is the same.*e.g. a tree or a 1-NN"):
        learner.query(pool, n_instances=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        query("mahalanobis")
        query("knn_contrast", pool[:1])  # one row is alike no other

    def flat(learner, X):
        return np.ones(len(X))

    # A score of one's own: no advice of the library's scores applies.
    with pytest.warns(UserWarning, match=r"flat at .* same.*Pass another purity s"):
        query(flat)
