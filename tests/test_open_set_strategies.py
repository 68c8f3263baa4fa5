"""The open-set baselines (LfOSA, SIMILAR, CCAL, EOAL): the shared strategy
template, then each one's scores against an independent computation."""

import warnings

import numpy as np
import pytest
import sklearn
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp, softmax, xlogy
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, normalize
from sklearn.tree import DecisionTreeClassifier

from _learners import K, _fitted_learner, _net
from skal_openset import (
    ActiveLearner,
    CCALQuery,
    EOALQuery,
    LfOSAQuery,
    MQNetQuery,
    SimilarQuery,
    load_digits_dataset,
    make_mlp_classifier,
)
from skal_openset._strategies import _ccal, _eoal, _similar
from skal_openset._strategies._lfosa import TemperatureCrossEntropy
from skal_openset._strategies._similar import lazy_greedy_flcmi
from test_strategies import (
    CONSTANT_PURITY,
    Case,
    StrategyTemplate,
    empirical_cdf,
    expected_embedding,
)


def _labelled(learner):
    is_in = learner.y_labelled_ != learner.ood_label
    return (
        learner.X_labelled_[is_in],
        learner.y_labelled_[is_in],
        learner.X_labelled_[~is_in],
    )


# --------------------------------------------------------------------- LfOSA


def lfosa_posterior(strategy, X):
    """IN probability from the detector's logits and the mixtures' parameters."""
    module = strategy.detector_.module_.eval()
    with torch.no_grad():
        logits = module(torch.from_numpy(np.asarray(X, np.float32))).numpy()
    values, predicted = logits.max(axis=1).astype(np.float64), logits.argmax(axis=1)
    probability = np.zeros(len(X))
    for c, mixture in strategy.mixtures_.items():
        rows = predicted == c
        mean = mixture.means_.ravel()
        var = mixture.covariances_.ravel()
        v = values[rows, None]
        log_density = (
            np.log(mixture.weights_)
            - 0.5 * np.log(2 * np.pi * var)
            - (v - mean) ** 2 / (2 * var)
        )
        posterior = np.exp(log_density - logsumexp(log_density, axis=1, keepdims=True))
        probability[rows] = posterior[:, np.argmax(mean)]
    return probability, predicted


class TestLfOSAQuery(StrategyTemplate):
    @pytest.fixture
    def case(self, learner):
        return Case(lambda seed: LfOSAQuery(random_state=seed), learner)

    def expected_scores(self, strategy, learner, X_pool):
        return lfosa_posterior(strategy, X_pool)[0]

    def test_detector_has_an_ood_class_and_learns_it(self, learner, pool):
        strategy = LfOSAQuery(random_state=0)
        strategy(learner, pool, n_instances=5)
        assert strategy.detector_.module_.head.out_features == K + 1
        _, _, X_ood = _labelled(learner)
        _, predicted = lfosa_posterior(strategy, X_ood)
        assert np.mean(predicted == K) > 0.5
        # its predict_proba gives probabilities (it gave the logits)
        proba = strategy.detector_.predict_proba(pool)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)

    def test_rows_predicted_ood_score_zero(self, learner, pool):
        strategy = LfOSAQuery(random_state=0)
        strategy(learner, pool, n_instances=5)
        probability, predicted = lfosa_posterior(strategy, pool)
        assert np.any(predicted == K)
        np.testing.assert_array_equal(
            strategy.in_probability(learner, pool)[predicted == K], 0.0
        )
        assert K not in strategy.mixtures_

    def test_rows_of_one_predicted_class_score_as_they_do_in_the_pool(
        self, learner, pool
    ):
        # The mixtures of the other classes have no row to score here.
        strategy = LfOSAQuery(random_state=0)
        strategy(learner, pool, n_instances=5)
        _, predicted = lfosa_posterior(strategy, pool)
        assert len(strategy.mixtures_) > 1
        rows = predicted == min(strategy.mixtures_)
        np.testing.assert_allclose(
            strategy.in_probability(learner, pool[rows]),
            strategy.in_probability(learner, pool)[rows],
            rtol=1e-6,
        )

    def test_a_predicted_class_of_two_rows_gets_its_mixture(self, learner, pool):
        # Fewer than 2 rows score 0 (no mixture); 2 are enough for one.
        strategy = LfOSAQuery(random_state=0)
        strategy(learner, pool, n_instances=5)
        _, predicted = lfosa_posterior(strategy, pool)
        c = min(strategy.mixtures_)
        X = np.concatenate([pool[predicted != c], pool[predicted == c][:2]])
        strategy(learner, X, n_instances=5)  # the same detector, new mixtures
        assert c in strategy.mixtures_
        assert strategy.in_probability(learner, X)[-2:].max() > 0

    def test_a_net_with_criterion_parameters_gets_a_detector(self, split, pool):
        # The detector kept the learner's criterion__weight, which its
        # temperature criterion does not take (nor would a K-class weight
        # fit its K+1 outputs): every query failed.
        net = _net().set_params(criterion__weight=torch.ones(K))
        X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
        learner = ActiveLearner(net, LfOSAQuery(random_state=0)).fit(X0, y0)
        indices, _ = learner.query(pool, n_instances=5)
        assert len(set(indices.tolist())) == 5

    def test_new_temperatures_retrain_the_detector(self, learner, pool):
        # What the learner's warning advises: set_params on query_strategy_.
        strategy = LfOSAQuery(random_state=0)
        strategy(learner, pool, n_instances=5)
        first = strategy.detector_
        strategy(learner, pool, n_instances=5)
        assert strategy.detector_ is first  # one labelled set, one detector
        strategy.set_params(known_T=0.05, unknown_T=20.0)
        indices, scores = strategy(learner, pool, n_instances=10)
        assert strategy.detector_.criterion__known_T == 0.05
        fresh = LfOSAQuery(known_T=0.05, unknown_T=20.0, random_state=0)
        expected_indices, expected_scores = fresh(learner, pool, n_instances=10)
        np.testing.assert_array_equal(indices, expected_indices)
        np.testing.assert_allclose(scores, expected_scores)

    def test_another_learner_on_the_same_labelled_set_gets_its_own_detector(
        self, split, learner, pool
    ):
        # One strategy called, modAL's way, for two learners.
        X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
        net = make_mlp_classifier(
            64, K, hidden_sizes=(8,), max_epochs=5, random_state=1
        )
        other = ActiveLearner(net).fit(X0, y0)
        strategy = LfOSAQuery(random_state=0)
        strategy(learner, pool, n_instances=5)
        strategy(other, pool, n_instances=5)
        assert strategy.detector_.module__hidden_sizes == (8,)

    def test_a_classifier_that_cannot_be_hashed_is_told_apart_by_identity(
        self, split, pool
    ):
        X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]

        def fitted():  # a lambda does not pickle, so no hash of the classifier
            net = make_pipeline(FunctionTransformer(lambda X: X), _net())
            return ActiveLearner(net).fit(X0, y0)

        a, b = fitted(), fitted()
        strategy = LfOSAQuery(random_state=0)
        strategy(a, pool, n_instances=5)
        first = strategy.detector_
        strategy(a, pool, n_instances=5)
        assert strategy.detector_ is first
        strategy(b, pool, n_instances=5)
        assert strategy.detector_ is not first

    def test_the_seed_trains_the_detector(self, learner, pool):
        # random_state seeds the detector's training, not only the mixtures.
        detectors = []
        for seed in (0, 0, 1):
            strategy = LfOSAQuery(random_state=seed)
            strategy(learner, pool, n_instances=5)
            weight = strategy.detector_.module_.head.weight.detach().numpy()
            detectors.append(weight.copy())
        np.testing.assert_array_equal(detectors[0], detectors[1])
        assert not np.array_equal(detectors[0], detectors[2])

    def test_a_detector_diverged_at_its_temperatures_names_them(self, learner, pool):
        # Its NaN logits reached GaussianMixture, which blamed missing values
        # in X and advised imputing them.
        strategy = LfOSAQuery(unknown_T=1e-30, random_state=0)
        with pytest.raises(ValueError, match="unknown_T=1e-30 in training.*diverged"):
            strategy(learner, pool, n_instances=5)

    def test_a_detector_of_a_diverged_net_names_the_net(self, split, pool):
        net = _net().set_params(optimizer=torch.optim.SGD, lr=1e10)
        X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
        learner = ActiveLearner(net, LfOSAQuery(random_state=0)).fit(X0, y0)
        with pytest.raises(ValueError, match="a net that diverged"):
            learner.query(pool, n_instances=5)

    def test_temperature_cross_entropy(self):
        rng = np.random.RandomState(0)
        logits, target = rng.randn(6, K + 1), np.array([0, K, 2, K, 1, 3])
        T = np.where(target == K, 2.0, 0.5)[:, None]
        scaled = logits / T
        expected = np.mean(logsumexp(scaled, axis=1) - scaled[np.arange(6), target])
        loss = TemperatureCrossEntropy(K, known_T=0.5, unknown_T=2.0)(
            torch.from_numpy(logits), torch.from_numpy(target)
        )
        assert loss.item() == pytest.approx(expected, rel=1e-10)

    @pytest.mark.parametrize(
        "estimator",
        [
            lambda: RandomForestClassifier(n_estimators=5),
            lambda: _net(learning_loss=True),
        ],
    )
    def test_rejects_a_classifier_without_a_resizable_net_at_fit(
        self, split, estimator
    ):
        X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
        with pytest.raises(ValueError, match="LfOSAQuery trains a \\(K\\+1\\)-class"):
            ActiveLearner(estimator(), LfOSAQuery()).fit(X0, y0)

    def test_lfosa_score_as_mqnet_purity(self, split, unlabelled, pool):
        mq = MQNetQuery(purity=LfOSAQuery(random_state=0).in_probability, rule_weight=0)
        mq_learner = _fitted_learner(split, mq.set_params(random_state=0))
        idx, X_query = mq_learner.query(pool, n_instances=30)
        mq = mq_learner.query_strategy_  # the learner's clone, with its state
        purity = mq.purity.__self__.in_probability(mq_learner, pool)
        np.testing.assert_allclose(
            mq.pool_meta_input_[:, 0],
            empirical_cdf(purity[:, None], purity[:, None]).ravel(),
        )
        y_query = split.y_pool[unlabelled[idx]]
        assert 0 < np.sum(y_query == -1) < len(y_query)
        mq_learner.teach(X_query, y_query)  # update reuses the pool's mixtures
        assert hasattr(mq_learner.query_strategy_, "selector_")
        rest = np.setdiff1d(np.arange(len(pool)), idx)
        indices, _ = mq_learner.query(pool[rest], n_instances=10)
        assert len(np.unique(indices)) == 10

    def test_a_query_retried_after_a_failed_mixture_fit_equals_a_clean_one(
        self, split, pool, monkeypatch
    ):
        # As MQ-Net's purity, LfOSA is called outside the query's rollback of
        # its own state: a mixture fit that failed left the new detector's
        # settings with only some classes' mixtures, which the retry reused
        # (purity 0 for the other classes).
        def mq_learner():
            lfosa = LfOSAQuery(random_state=0)
            mq = MQNetQuery(purity=lfosa.in_probability, random_state=0)
            return _fitted_learner(split, mq)

        expected, _ = mq_learner().query(pool, n_instances=20)
        learner = mq_learner()
        fit, calls = GaussianMixture.fit, []

        def second_fit_interrupted(mixture, *args):
            calls.append(mixture)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return fit(mixture, *args)

        monkeypatch.setattr(GaussianMixture, "fit", second_fit_interrupted)
        with pytest.raises(KeyboardInterrupt):
            learner.query(pool, n_instances=20)
        monkeypatch.undo()
        assert not hasattr(learner.query_strategy_.purity.__self__, "mixtures_")
        np.testing.assert_array_equal(learner.query(pool, n_instances=20)[0], expected)


# ------------------------------------------------------------------- SIMILAR


def flcmi(S_pool_batch, query_cap, private):
    cover = S_pool_batch.max(axis=1) if S_pool_batch.shape[1] else 0.0 * query_cap
    return np.maximum(np.minimum(cover, query_cap) - private, 0.0).sum()


def kernel(A, B):
    return (1.0 + normalize(A) @ normalize(B).T) / 2.0


def assert_plain_greedy(indices, gains, S, q, p, tol):
    """Each choice has the largest brute-force FLCMI gain, and that gain."""
    chosen = []
    for index, gain in zip(indices, gains):
        base = flcmi(S[:, chosen], q, p)
        brute = np.array(
            [flcmi(S[:, chosen + [j]], q, p) - base for j in range(len(S))]
        )
        brute[chosen] = -np.inf
        assert gain == pytest.approx(max(brute[index], 0.0), rel=tol, abs=tol)
        assert brute[index] >= brute.max() - tol
        chosen.append(int(index))


class TestSimilarQuery(StrategyTemplate):
    top_k = False

    @pytest.fixture
    def case(self, any_learner):
        return Case(lambda seed: SimilarQuery(random_state=seed), any_learner)

    # A drawn sub-pool may hold only rows nearer labelled OOD than IN: the
    # batch is then random and warned of (tested below), within the contract.
    @pytest.mark.filterwarnings("ignore:SimilarQuery's objective is 0:UserWarning")
    @pytest.mark.filterwarnings(CONSTANT_PURITY)
    def test_contract_on_any_sub_pool(self, case, pool):
        super().test_contract_on_any_sub_pool(case, pool)

    def test_ties_are_broken_at_random(self, learner, pool):
        # Copies of one row: every candidate gains as much as every other,
        # above 0 for the first pick (nu=0: no OOD term to cancel the gain),
        # 0 once a copy covers the rest.
        X = np.repeat(pool[:1], 12, axis=0)
        results = [
            SimilarQuery(nu=0.0, random_state=s)(learner, X, n_instances=4)
            for s in range(3)
        ]
        assert all(gains[0] > 0 for _, gains in results)
        picks = [indices for indices, _ in results]
        assert not np.array_equal(picks[0], np.arange(4))
        assert len({tuple(p) for p in picks}) == 3

    @pytest.mark.parametrize("eta, nu", [(1.0, 1.0), (0.8, 0.5)])
    def test_greedy_against_brute_force(self, learner, pool, eta, nu):
        X = pool[:14]
        indices, gains = SimilarQuery(eta=eta, nu=nu, random_state=0)(
            learner, X, n_instances=6
        )
        X_in, _, X_ood = _labelled(learner)
        emb = expected_embedding(learner, X).astype(np.float64)
        S = kernel(emb, emb)
        q = eta * kernel(emb, expected_embedding(learner, X_in)).max(axis=1)
        p = nu * kernel(emb, expected_embedding(learner, X_ood)).max(axis=1)
        assert_plain_greedy(indices, gains, S, q, p, tol=1e-5)

    @settings(max_examples=25, deadline=None)
    @given(seed=st.integers(0, 2**31 - 1), nu=st.sampled_from([0.0, 0.9, 1.0]))
    def test_lazy_greedy_is_the_plain_greedy(self, seed, nu):
        # Enough rows for several refresh blocks; with nu near 1 many rows
        # have query_cap <= private and leave the ground set, and clustered
        # rows saturate their cap.
        rng = np.random.RandomState(seed)
        centres = rng.randn(4, 3)
        X = centres[rng.randint(4, size=90)] + 0.3 * rng.randn(90, 3)
        unit = normalize(X)
        S = kernel(X, X)
        q = kernel(X, X[:6]).max(axis=1)
        p = nu * kernel(X, X[6:12]).max(axis=1)
        indices, gains = lazy_greedy_flcmi(unit, q, p, 25, np.random.RandomState(0))
        assert_plain_greedy(indices, gains, S, q, p, tol=1e-9)

    def test_lazy_greedy_gathers_the_ground_rows_once_while_they_stay(self):
        # It gathered them on every refresh and every pick: a copy as costly
        # as the product it fed. Caps beyond any similarity: no row is ever
        # covered up to its cap, so the ground set (every row) never shrinks.
        class CountingRows(np.ndarray):
            all_rows_gathered = 0

            def __getitem__(self, key):
                if isinstance(key, np.ndarray) and len(key) == len(self):
                    CountingRows.all_rows_gathered += 1
                return super().__getitem__(key)

        rng = np.random.RandomState(0)
        unit = normalize(rng.randn(200, 3)).view(CountingRows)
        indices, _ = lazy_greedy_flcmi(
            unit, np.full(200, 2.0), np.zeros(200), 20, np.random.RandomState(0)
        )
        assert len(indices) == 20
        # The ground rows, and the first block of candidates: every row here.
        assert CountingRows.all_rows_gathered == 2

    def test_subsample_maximises_over_a_random_subset(self, learner, pool):
        indices, gains = SimilarQuery(subsample=40, random_state=0)(
            learner, pool, n_instances=6
        )
        rows = np.sort(np.random.RandomState(0).choice(len(pool), 40, replace=False))
        assert set(indices) <= set(rows)
        _, subset_gains = SimilarQuery(random_state=0)(learner, pool[rows], 6)
        np.testing.assert_allclose(gains, subset_gains, rtol=1e-9)
        # A subsample as large as the pool changes nothing.
        whole = SimilarQuery(random_state=0)(learner, pool, n_instances=6)
        full = SimilarQuery(subsample=len(pool), random_state=0)(learner, pool, 6)
        np.testing.assert_array_equal(whole[0], full[0])

    def test_similarity_to_labelled_comes_a_block_of_pool_rows_at_a_time(
        self, learner, pool, monkeypatch
    ):
        # It was one n_pool x n_labelled matrix, while the pool-to-pool
        # similarities came a block at a time.
        whole = SimilarQuery(random_state=0)(learner, pool, n_instances=6)
        budget = 10 * len(learner.y_labelled_)
        monkeypatch.setattr(_similar, "_CHUNK_ENTRIES", budget)
        similarity, sizes = _similar._similarity, []

        def recording_similarity(unit_A, unit_B):
            if len(unit_B) > 1:  # not a greedy step's column of one chosen row
                sizes.append(len(unit_A) * len(unit_B))
            return similarity(unit_A, unit_B)

        monkeypatch.setattr(_similar, "_similarity", recording_similarity)
        indices, gains = SimilarQuery(random_state=0)(learner, pool, n_instances=6)
        assert max(sizes) <= budget and len(sizes) > 2
        np.testing.assert_array_equal(indices, whole[0])
        np.testing.assert_allclose(gains, whole[1], rtol=1e-12)

    def test_eta_zero_is_refused(self, split):
        # Every row's cap was 0: the objective was 0 for every batch, which
        # came out random, every score 0, without a word.
        X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
        learner = ActiveLearner(LogisticRegression(), SimilarQuery(eta=0.0))
        with pytest.raises(ValueError, match="'eta' parameter of SimilarQuery"):
            learner.fit(X0, y0)

    def test_an_objective_of_zero_for_every_batch_warns(self, learner, pool):
        # nu=1e300 puts every row's OOD term above its cap: a silent random batch.
        strategy = SimilarQuery(nu=1e300, random_state=0)
        with pytest.warns(UserWarning, match=r"objective is 0.*nu=1e\+300"):
            _, gains = strategy(learner, pool, n_instances=5)
        np.testing.assert_array_equal(gains, 0.0)
        # Once per setting: each round of a campaign repeated it (the
        # once-per-line registry is reset by every catch_warnings block).
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("default")
            for nu in (1e300, 1e300, 1e299):
                strategy.set_params(nu=nu)(learner, pool, n_instances=5)
        assert ["nu=1e+299" in str(w.message) for w in record] == [True]

    def test_a_whole_pool_slow_to_query_warns_once_with_the_remedy(
        self, learner, pool, monkeypatch
    ):
        # 100,000 rows took 110 s a query with nothing shown.
        monkeypatch.setattr(_similar, "_SLOW_POOL", len(pool))
        strategy = SimilarQuery(random_state=0)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            for _ in range(2):  # once per strategy, not at every round
                strategy(learner, pool, n_instances=5)
            SimilarQuery(subsample=len(pool), random_state=0)(learner, pool, 5)
            SimilarQuery(random_state=0)(learner, pool[:-1], n_instances=5)
        messages = [str(w.message) for w in record]
        assert len(messages) == 1
        assert f"pool's {len(pool)} rows" in messages[0]
        assert "Set subsample (e.g. subsample=10000)" in messages[0]

    def test_prefers_copies_of_labelled_in_over_copies_of_labelled_ood(self, learner):
        X_in, _, X_ood = _labelled(learner)
        X = np.concatenate([X_ood[:5], X_in[:1]])
        indices, _ = SimilarQuery(random_state=0)(learner, X, n_instances=1)
        assert indices[0] == 5


def test_similar_without_labelled_ood_ranks_by_the_in_rows_alone():
    # No OOD row to keep away from: nu, which weighs them, changes nothing.
    X, y = load_digits_dataset()
    in_rows = np.flatnonzero(y[:300] < 4)[:80]
    learner = ActiveLearner(LogisticRegression(max_iter=300))
    learner.fit(X[in_rows], y[in_rows])
    pool = X[300:400]
    indices, gains = SimilarQuery(random_state=0)(learner, pool, n_instances=5)
    other = SimilarQuery(nu=100.0, random_state=0)(learner, pool, n_instances=5)
    np.testing.assert_array_equal(other[0], indices)
    np.testing.assert_array_equal(other[1], gains)
    assert (gains > 0).all()


# ---------------------------------------------------------------------- CCAL


def ccal_class_scores(F_pool, F_in, codes, k=100.0, t=0.9):
    """CCAL's per-class scores, row by row."""

    def min_max(v):
        return (v - v.min()) / (v.max() - v.min())

    F_pool, F_in = F_pool.astype(np.float64), F_in.astype(np.float64)
    cos = normalize(F_pool) @ normalize(F_in).T
    semantic = min_max(cos.max(axis=1))
    semantic = (1 - np.exp(-k * (semantic - t))) / (1 + np.exp(-k * (semantic - t)))
    scores = []
    for c in np.unique(codes):
        anchors = normalize(F_in[codes == c])
        raw = []
        for row in normalize(F_pool):
            sims = anchors @ row
            a, b = np.argsort(-sims)[:2]
            raw.append(2 * sims[a] - sims[b] + anchors[a] @ anchors[b])
        scores.append(semantic + 1 - min_max(np.array(raw)))
    return scores


class _UncheckedTransformer(TransformerMixin, BaseEstimator):
    """Reads its fitted attribute unchecked, as PCA did up to scikit-learn 1.7.0."""

    def fit(self, X, y=None):
        self.components_ = np.eye(X.shape[1])[:4]
        return self

    def transform(self, X):
        return X @ self.components_.T


class _BuggyObject:
    def transform(self, X):
        raise AttributeError("a bug")


class _BuggyTransformer(_BuggyObject, _UncheckedTransformer):
    pass


class _StatelessBuggy(_BuggyObject, TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class _BuggyWithoutFittedAttributes(_BuggyObject, TransformerMixin, BaseEstimator):
    """Fitted, but keeps no fitted attribute: check_is_fitted calls it unfitted."""

    def fit(self, X, y=None):
        return self


class _ReadsAnUnsetAttribute:
    """A bug: transform reads a fitted-looking attribute that fit never sets."""

    def transform(self, X):
        return X @ self.scale_


class _FittedReadsAnUnsetAttribute(_ReadsAnUnsetAttribute, _UncheckedTransformer):
    pass


class TestCCALQuery(StrategyTemplate):
    ordered = False
    top_k = False

    @pytest.fixture
    def case(self, any_learner):
        return Case(lambda seed: CCALQuery(random_state=seed), any_learner)

    @pytest.mark.parametrize("n_instances", [4, 8, 9])
    def test_classes_take_turns_by_their_scores(self, learner, pool, n_instances):
        X_in, y_in, _ = _labelled(learner)
        strategy = CCALQuery(features=lambda X: X * 2.0, random_state=0)
        indices, scores = strategy(learner, pool, n_instances=n_instances)
        expected = ccal_class_scores(pool, X_in, y_in)
        per_class = -(-n_instances // K)
        taken, picks = [], []  # picks: (rank in its class's turn, class, row)
        for c, score in enumerate(expected):
            order = [i for i in np.argsort(-score, kind="stable") if i not in taken]
            turn = order[: min(per_class, n_instances - len(taken))]
            taken += turn
            picks += [(rank, c, i) for rank, i in enumerate(turn)]
        # Every class's best first, then every class's second best, ...: a
        # budget that buys the first rows only still buys from every class
        # that added one (as the official code, the last may add none).
        picks.sort()
        np.testing.assert_array_equal(indices, [i for _, _, i in picks])
        np.testing.assert_allclose(
            scores, [expected[c][i] for _, c, i in picks], rtol=1e-6
        )

    def test_ties_are_broken_at_random(self, learner, pool):
        # One feature row for every example: every score ties, in every class.
        # Exactly: 0.5 * 0.5 summed 4 times is 1 in any order, where a float
        # step between two similarities would span the min-max scaled scores.
        strategy = CCALQuery(features=lambda X: np.ones((len(X), 4)))
        picks = [
            strategy.set_params(random_state=s)(learner, pool, n_instances=8)[0]
            for s in range(3)
        ]
        assert not np.array_equal(np.sort(picks[0]), np.arange(8))
        assert len({tuple(p) for p in picks}) == 3

    def test_similarities_come_a_block_of_pool_rows_at_a_time(
        self, learner, pool, monkeypatch
    ):
        # They were one n_pool x n_in matrix, its per-class copies and their
        # whole argsorts at once.
        strategy = CCALQuery(features=lambda X: X * 2.0, random_state=0)
        whole = strategy(learner, pool, n_instances=8)
        budget = 10 * len(_labelled(learner)[0])
        monkeypatch.setattr(_ccal, "_CHUNK_ENTRIES", budget, raising=False)
        sizes = []

        def recording_cosine_similarity(X, Y=None):
            if Y is not None:  # not an anchor set's similarities to itself
                sizes.append(len(X) * len(Y))
            return cosine_similarity(X, Y)

        monkeypatch.setattr(_ccal, "cosine_similarity", recording_cosine_similarity)
        indices, scores = strategy(learner, pool, n_instances=8)
        assert max(sizes) <= budget and len(sizes) > 2
        np.testing.assert_array_equal(indices, whole[0])
        np.testing.assert_allclose(scores, whole[1], rtol=1e-12)

    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_non_finite_features_are_refused_under_assume_finite(
        self, learner, pool, bad
    ):
        # Under sklearn.set_config(assume_finite=True) the query went on,
        # ranking by similarities of NaN, silently.
        def features(X):
            values = X * 2.0
            values[0, 0] = bad
            return values

        strategy = CCALQuery(features=features, random_state=0)
        with sklearn.config_context(assume_finite=True):
            with pytest.raises(ValueError, match=r"Input features\(X\) contains"):
                strategy(learner, pool, n_instances=4)

    def test_a_fitted_transformer_serves_as_features(self, learner, pool):
        pca = PCA(8, random_state=0).fit(pool)
        a = CCALQuery(features=pca, random_state=0)(learner, pool, n_instances=8)
        b = CCALQuery(features=pca.transform, random_state=0)(
            learner, pool, n_instances=8
        )
        np.testing.assert_array_equal(a[0], b[0])

    def test_a_learner_keeps_a_fitted_transform_method_fitted(self, split, pool):
        pca = PCA(8, random_state=0).fit(pool)
        in_learner = _fitted_learner(split, CCALQuery(features=pca.transform))
        indices, _ = in_learner.query(pool, n_instances=8)
        direct = CCALQuery(features=pca.transform)(in_learner, pool, n_instances=8)
        np.testing.assert_array_equal(indices, direct[0])

    def test_a_transformer_unfitted_by_the_learner_is_named(self, split, pool):
        pca = PCA(8, random_state=0).fit(pool)
        in_learner = _fitted_learner(split, CCALQuery(features=pca))
        with pytest.raises(ValueError, match="features=PCA.*not fitted.*transform"):
            in_learner.query(pool, n_instances=8)

    def test_a_transformer_unfitted_without_saying_so_is_named(self, split, pool):
        # Up to scikit-learn 1.7.0 an unfitted PCA raised AttributeError on
        # components_, which went to the user as it was.
        in_learner = _fitted_learner(
            split, CCALQuery(features=_UncheckedTransformer().fit(pool))
        )
        with pytest.raises(ValueError, match="Unchecked.*not fitted.*transform") as e:
            in_learner.query(pool, n_instances=8)
        assert isinstance(e.value.__cause__, AttributeError)  # its own traceback

    @pytest.mark.parametrize(
        "features",
        [
            _BuggyTransformer().fit(np.ones((2, 2))),
            _StatelessBuggy(),
            _BuggyObject(),
            _BuggyWithoutFittedAttributes().fit(np.ones((2, 2))),
        ],
        ids=["fitted", "stateless", "no-estimator", "no-fitted-attributes"],
    )
    def test_an_attribute_error_of_no_unfitted_transformer_stays(
        self, learner, pool, features
    ):
        with pytest.raises(AttributeError, match="a bug"):
            CCALQuery(features=features)(learner, pool, n_instances=2)

    @pytest.mark.parametrize(
        "features",
        [_FittedReadsAnUnsetAttribute().fit(np.ones((2, 2))), _ReadsAnUnsetAttribute()],
        ids=["fitted", "no-estimator"],
    )
    def test_an_unset_attribute_of_no_unfitted_transformer_stays(
        self, learner, pool, features
    ):
        # It reads like an unfitted one's (a name ending in "_"), but the
        # transformer is fitted, or no scikit-learn one: its own error.
        with pytest.raises(AttributeError, match="no attribute 'scale_'"):
            CCALQuery(features=features)(learner, pool, n_instances=2)

    def test_features_with_wrong_rows_are_rejected(self, learner, pool):
        with pytest.raises(ValueError, match="one feature row per example"):
            CCALQuery(features=lambda X: X[:3])(learner, pool, n_instances=2)


@pytest.mark.parametrize("n_columns", [1, 2, 3, 7])
def test_two_nearest_is_the_head_of_argsort(n_columns):
    # The anchors of the old full argsort, ties among the three largest too
    # (argsort's order among tied columns picks them), and -0.0 beside 0.0.
    rng = np.random.RandomState(0)
    similarity = np.concatenate(
        [rng.randint(-1, 3, size=(300, n_columns)) / 3.0, rng.rand(300, n_columns)]
    )
    similarity[similarity == 0] = rng.choice([0.0, -0.0], (similarity == 0).sum())
    expected = np.argsort(-similarity, axis=1)[:, :2]
    if n_columns == 1:
        expected = np.repeat(expected, 2, axis=1)
    np.testing.assert_array_equal(_ccal._two_nearest(similarity), expected)


# ---------------------------------------------------------------------- EOAL


def eoal_scores(learner, X, open_set):
    """-H_c (mean binary entropy of the heads, bits) + H_o (every OOD row a centre),
    in the embedding standardised on the labelled rows, a column constant there
    scaled by its spread over the labelled and pool rows."""
    X_in, y_in, X_ood = _labelled(learner)
    labelled = expected_embedding(learner, np.concatenate([X_in, X_ood]))
    E = expected_embedding(learner, X)
    scale = labelled.std(axis=0)
    flat = scale == 0
    scale[flat] = np.concatenate([labelled, E]).std(axis=0)[flat]
    scale[scale == 0] = 1.0
    labelled, E = ((A - labelled.mean(axis=0)) / scale for A in (labelled, E))
    E_in, E_ood = labelled[: len(X_in)], labelled[len(X_in) :]
    train = np.concatenate([E_in, E_ood])
    target = np.concatenate([y_in, np.full(len(E_ood), -1)])
    p = np.column_stack(
        [
            LogisticRegression(solver="liblinear")
            .fit(train, target == c)
            .predict_proba(E)[:, 1]
            for c in range(K)
        ]
    )
    closed = -(xlogy(p, p) + xlogy(1 - p, 1 - p)).mean(axis=1) / np.log(2)
    score = -closed
    if open_set:
        d = np.linalg.norm(E[:, None, :] - E_ood[None, :, :], axis=2)
        w = softmax(-d, axis=1)
        score += -xlogy(w, w).sum(axis=1) / np.log(len(E_ood))
    return score, p.max(axis=1) >= 0.5


class TestEOALQuery(StrategyTemplate):
    ordered = False
    top_k = False

    @pytest.fixture
    def case(self, any_learner):
        return Case(lambda seed: EOALQuery(random_state=seed), any_learner)

    @pytest.mark.parametrize("clusters, open_set", [(1, False), (10_000, True)])
    def test_entropies_against_an_independent_computation(
        self, learner, pool, clusters, open_set
    ):
        strategy = EOALQuery(
            n_unknown_clusters=clusters, diversity=False, random_state=0
        )
        indices, scores = strategy(learner, pool, n_instances=len(pool))
        expected, accepted = eoal_scores(learner, pool, open_set)
        np.testing.assert_allclose(scores, expected[indices], rtol=1e-4, atol=1e-6)
        # The accepted rows first, each group by score.
        n_accepted = accepted.sum()
        assert 0 < n_accepted < len(pool)
        assert accepted[indices[:n_accepted]].all()
        for group in (scores[:n_accepted], scores[n_accepted:]):
            assert np.all(np.diff(group) <= 1e-9)

    def test_diversity_changes_the_batch_but_not_its_best_row(self, learner, pool):
        plain = EOALQuery(diversity=False, random_state=0)(learner, pool, n_instances=K)
        diverse = EOALQuery(random_state=0)(learner, pool, n_instances=K)
        # The best row leads either way; the rest come from other clusters.
        assert diverse[0][0] == plain[0][0]
        assert not np.array_equal(np.sort(plain[0]), np.sort(diverse[0]))


@pytest.mark.parametrize("n_instances", [2, 10])
def test_eoal_diversity_takes_min_of_k_and_the_batch_clusters(
    learner, pool, monkeypatch, n_instances
):
    kmeans, n_clusters = _eoal._kmeans, []

    def recorded(X, n, rng):
        n_clusters.append(n)
        return kmeans(X, n, rng)

    monkeypatch.setattr(_eoal, "_kmeans", recorded)
    EOALQuery(random_state=0)(learner, pool, n_instances=n_instances)
    # The last k-means is the diversity one (the OOD clusters come first).
    assert n_clusters[-1] == min(K, n_instances)


def test_eoal_seeds_its_diversity_clusters(learner, pool):
    # Scores are continuous (no ties to break): the seed orders the diverse
    # batch through its k-means clusters alone.
    batches = {
        tuple(EOALQuery(random_state=seed)(learner, pool, n_instances=8)[0])
        for seed in range(5)
    }
    assert len(batches) > 1


def test_eoal_without_labelled_ood_scores_by_its_heads_alone():
    # No OOD centre to be near: the open-set entropy is left out.
    X, y = load_digits_dataset()
    y = np.where(y < 4, y, -1)
    in_rows = np.flatnonzero(y[:300] >= 0)[:80]
    learner = ActiveLearner(LogisticRegression(max_iter=300))
    learner.fit(X[in_rows], y[in_rows])
    pool = X[300:400]
    strategy = EOALQuery(diversity=False, random_state=0)
    indices, scores = strategy(learner, pool, n_instances=len(pool))
    expected, accepted = eoal_scores(learner, pool, open_set=False)
    np.testing.assert_allclose(scores, expected[indices], rtol=1e-4, atol=1e-6)
    assert accepted[indices[: accepted.sum()]].all()


def test_eoal_with_one_class_labelled_and_no_ood_draws_at_random():
    # No head has a rival to learn from: every row is accepted, with score 0,
    # and the seed alone orders them.
    X, y = load_digits_dataset()
    ones = np.flatnonzero(y[:300] == 1)[:20]
    learner = ActiveLearner(DecisionTreeClassifier(random_state=0), classes=range(4))
    learner.fit(X[ones], y[ones])
    batches = [
        EOALQuery(random_state=seed)(learner, X[300:340], n_instances=5)
        for seed in (0, 0, 1)
    ]
    for indices, scores in batches:
        assert len(set(indices)) == 5
        np.testing.assert_array_equal(scores, 0.0)
    np.testing.assert_array_equal(batches[0][0], batches[1][0])
    assert not np.array_equal(batches[0][0], batches[2][0])


@pytest.mark.parametrize("C", [1e-200, 1e200])
def test_eoal_refuses_a_C_its_heads_solver_never_returns_from(split, C):
    # The learner's fit validates the strategy before any query, which on
    # these values looped forever in liblinear (so this test cannot hang).
    X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    learner = ActiveLearner(LogisticRegression(), EOALQuery(C=C))
    with pytest.raises(ValueError, match="'C' parameter of EOALQuery"):
        learner.fit(X0, y0)


def test_eoal_with_a_fixed_seed_leaves_numpys_global_rng_alone():
    # Its one-vs-all heads (liblinear) used to draw an unused seed from
    # np.random, so a seeded query changed the caller's later random draws.
    X, y = load_digits_dataset()
    y = np.where(y < 4, y, -1)
    learner = ActiveLearner(LogisticRegression(max_iter=300), EOALQuery(random_state=0))
    learner.fit(X[:100], y[:100])
    # NumPy's legacy global RNG, on purpose: it is the caller's.
    np.random.seed(7)  # noqa: NPY002
    expected = np.random.random_sample()  # noqa: NPY002
    np.random.seed(7)  # noqa: NPY002
    learner.query(X[100:300], n_instances=5)
    assert np.random.random_sample() == expected  # noqa: NPY002


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_eoal_queries_extreme_features_as_it_does_them_scaled_down():
    # StandardScaler's variance of features near 1e300 overflowed, and the
    # error blamed X for NaN; that of features near 1e-180 underflowed, and
    # the batch was the tie-break's. Divided by 2**1004 or 2**-596, they are
    # X / 16 exactly (the logistic fits differ in rounding).
    X, y = load_digits_dataset()
    X, y = X.astype(np.float64), np.where(y < 4, y, -1)
    queries = []
    for X_scaled in (X / 16, X * 2.0**1000, X * 2.0**-600):
        learner = ActiveLearner(LogisticRegression(max_iter=300))
        learner.fit(X_scaled[:100], y[:100])
        queries.append(EOALQuery(random_state=0)(learner, X_scaled[100:400], 5))
    for indices, scores in queries[1:]:
        np.testing.assert_array_equal(indices, queries[0][0])
        np.testing.assert_allclose(scores, queries[0][1], rtol=1e-5)


def test_eoal_query_does_not_depend_on_the_units_of_a_column_unseen_in_labels():
    # A column constant among the labelled rows was left unscaled by the
    # labelled rows' StandardScaler, so its units entered the distances to
    # the OOD centres and the diversity clusters, and changed the batch.
    X, y = load_digits_dataset()
    X, y = X.astype(np.float64), np.where(y < 4, y, -1)
    flat = (X[:100].std(axis=0) == 0) & (X[100:400].std(axis=0) > 0)
    assert flat.any()
    queries = []
    for factor in (1.0, 1e6):
        X_scaled = X.copy()
        X_scaled[:, flat] *= factor
        learner = ActiveLearner(LogisticRegression(max_iter=300))
        learner.fit(X_scaled[:100], y[:100])
        queries.append(EOALQuery(random_state=0)(learner, X_scaled[100:400], 10))
    np.testing.assert_array_equal(queries[1][0], queries[0][0])
    np.testing.assert_allclose(queries[1][1], queries[0][1], rtol=1e-6)


@pytest.mark.parametrize("strategy", [SimilarQuery, CCALQuery])
@pytest.mark.parametrize("scale", [2.0**-60, 2.0**520])
def test_cosine_strategies_query_any_scale_as_scale_one(strategy, scale):
    # Normalising squares the rows: below about 2e-15 scikit-learn's
    # normalize left them unscaled, above 1e154 their squares overflowed, and
    # every cosine collapsed, so the batch was the tie-break's.
    X, y = load_digits_dataset()
    X, y = X.astype(np.float64), np.where(y < 4, y, -1)
    queries = []
    for factor in (1.0, scale):
        scaled = FunctionTransformer(lambda Z, f=factor: Z * f)
        learner = ActiveLearner(LogisticRegression(max_iter=300), embedding=scaled)
        learner.fit(X[:100], y[:100])
        queries.append(strategy(random_state=0)(learner, X[100:400], 5))
    np.testing.assert_array_equal(queries[1][0], queries[0][0])
    np.testing.assert_allclose(queries[1][1], queries[0][1], rtol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_eoal_on_a_float32_embedding_warns_of_no_overflow():
    # The check for huge values compared float32 with 2**256, which NumPy
    # cast to float32 (inf), warning of an overflow at every query.
    X, y = load_digits_dataset()
    X, y = X.astype(np.float32), np.where(y < 4, y, -1)
    learner = ActiveLearner(LogisticRegression(max_iter=300)).fit(X[:100], y[:100])
    EOALQuery(random_state=0)(learner, X[100:400], 5)


def test_eoal_warns_of_a_wide_embedding_before_its_heads():
    # 16,000 input features (a classifier without an embedding of its own)
    # took 35 s a query without a word; PCA(100) takes 0.2 s.
    X = np.random.default_rng(0).normal(size=(30, 10_000))
    y = np.repeat([0, 1, -1], 10)
    learner = ActiveLearner(DecisionTreeClassifier(random_state=0)).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stop before the slow heads
        with pytest.raises(UserWarning, match=r"10000 features.*PCA\(100\)"):
            EOALQuery(random_state=0)(learner, X, n_instances=2)
    narrow = ActiveLearner(DecisionTreeClassifier(random_state=0)).fit(X[:, :50], y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a narrow one, as a net's, is quiet
        EOALQuery(random_state=0)(narrow, X[:, :50], n_instances=2)
