"""ActiveLearner: the modAL-style loop that keeps OOD examples out of training.

Most tests use a tiny sklearn spy classifier and a spy strategy that write
every call into one shared log, so the order of events and exactly what the
classifier was trained on can be checked; a few use the real skorch nets.
"""

import copy
import functools
import pickle
import re
import threading
import warnings

import numpy as np
import pytest
import sklearn
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import randint
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier
from sklearn.cluster import KMeans
from sklearn.datasets import load_diabetes, load_iris
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import RadiusNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import SelfTrainingClassifier
from sklearn.svm import SVC
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_classifier_data_not_an_array,
    check_classifiers_regression_target,
    check_fit2d_predict1d,
    check_n_features_in_after_fitting,
)

from _ctrl_c import ctrl_c_at_epoch
from _random_states import (
    assert_global_random_states_are,
    drawing_then_interrupted,
    global_random_states,
)
from skal_openset import (
    ActiveLearner,
    CoreSetQuery,
    EOALQuery,
    LfOSAQuery,
    MetaQueryNetSelector,
    MQNetQuery,
    OpenSetOracle,
    PurityInformativenessQuery,
    QueryStrategy,
    RandomQuery,
    UncertaintyQuery,
    _atomic,
    _learner,
    _model_scores,
    make_mlp_classifier,
    make_open_set_split,
)
from skal_openset._strategies._base import called_strategy, top_scores

K = 4


class Log(list):
    """Event log shared by the spies; survives sklearn.clone (deepcopy)."""

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        # Pickled (as the learner hashes its strategy's parameters) without
        # its events: else every event logged "changed" the spy strategy.
        return Log, ()

    def kinds(self):
        return [event[0] for event in self]


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression that logs every fit/partial_fit call."""

    def __init__(self, log=None):
        self.log = log

    def _record(self, kind, X, y):
        self.log.append((kind, id(self), hasattr(self, "model_"), X.copy(), y.copy()))

    def fit(self, X, y):
        self._record("fit", X, y)
        self.model_ = LogisticRegression(max_iter=200).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def partial_fit(self, X, y):
        self._record("partial_fit", X, y)
        self.model_ = LogisticRegression(max_iter=200).fit(X, y)
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


class SpyStrategy(QueryStrategy):
    """Random queries; logs what `update` sees of the learner."""

    def __init__(self, log=None, random_state=None):
        self.log = log
        self.random_state = random_state

    def _select(self, learner, X_pool, n_instances, rng):
        return top_scores(rng.uniform(size=len(X_pool)), n_instances, rng)

    def update(self, learner, X_query, y_query):
        self.log.append(
            (
                "update",
                id(learner.estimator_),
                len(learner.y_labelled_),
                np.array(X_query),
                np.array(y_query),
            )
        )
        self.n_updates_ = getattr(self, "n_updates_", 0) + 1
        return self


@pytest.fixture(scope="module")
def initial(split):
    return split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]


@pytest.fixture(scope="module")
def batches(split):
    """Two labelled batches from outside the initial set, each with IN and OOD."""
    rest = np.setdiff1d(np.arange(len(split.y_pool)), split.initial_idx)
    out = []
    for rows in (rest[:20], rest[20:35]):
        y = split.y_pool[rows]
        assert 0 < np.sum(y == -1) < len(y)
        out.append((split.X_pool[rows], y))
    return out


@pytest.fixture
def log():
    return Log()


def _linear_net(callback, **kwargs):
    """A plain skorch net (no random_state) on the digits, with `callback`."""
    import torch
    from skorch import NeuralNetClassifier

    return NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=64,
        module__out_features=K,
        criterion=torch.nn.CrossEntropyLoss,
        train_split=None,
        verbose=0,
        callbacks=[callback],
        **kwargs,
    )


def spy_learner(log, initial=None, **kwargs):
    X, y = (None, None) if initial is None else initial
    return ActiveLearner(
        SpyClassifier(log), SpyStrategy(log, random_state=0), X, y, **kwargs
    )


def lr_learner(X=None, y=None, **kwargs):
    return ActiveLearner(LogisticRegression(max_iter=300), None, X, y, **kwargs)


def mlp(max_epochs=5, **kwargs):
    return make_mlp_classifier(
        64,
        K,
        hidden_sizes=(32, 16),
        max_epochs=max_epochs,
        lr=1e-2,
        batch_size=16,
        random_state=0,
        **kwargs,
    )


# ------------------------------------------------------- sklearn estimator


def test_init_only_stores_its_arguments(log, initial):
    estimator, strategy = SpyClassifier(log), SpyStrategy(log)
    learner = ActiveLearner(
        estimator, strategy, *initial, ood_label=-1, warm_start=True
    )
    params = learner.get_params(deep=False)
    assert params["estimator"] is estimator and params["query_strategy"] is strategy
    assert params["X_training"] is initial[0] and params["y_training"] is initial[1]
    assert params["warm_start"] is True and params["classes"] is None
    assert not [name for name in vars(learner) if name.endswith("_")]
    assert log == []  # nothing trained


def test_clone_of_a_used_learner_is_unfitted(log, initial, batches):
    learner = spy_learner(log, initial)
    learner.teach(*batches[0])
    twin = clone(learner)
    assert not [name for name in vars(twin) if name.endswith("_")]
    assert twin.get_params(deep=False).keys() == learner.get_params(deep=False).keys()
    np.testing.assert_array_equal(twin.X_training, initial[0])
    twin.fit(*initial)  # usable on its own
    assert len(twin.y_labelled_) == len(initial[1])


# ---------------------------------------------------------- training data


def test_first_query_fits_lazily_on_the_initial_set(log, initial, split):
    learner = spy_learner(log, initial)
    assert log == []
    learner.query(split.X_pool[:50], n_instances=3)
    assert log.kinds() == ["fit"]
    np.testing.assert_array_equal(learner.X_labelled_, initial[0])
    np.testing.assert_array_equal(learner.y_labelled_, initial[1])
    learner.query(split.X_pool[:50], n_instances=3)
    assert log.kinds() == ["fit"]  # fitted once


def test_ood_rows_never_reach_the_classifier(log, initial, batches):
    learner = spy_learner(log, initial)
    learner.fit(*initial)
    for X, y in batches:
        learner.teach(X, y)
    fits = [event for event in log if event[0] == "fit"]
    assert len(fits) == 3
    X_all = np.concatenate([initial[0]] + [X for X, _ in batches])
    y_all = np.concatenate([initial[1]] + [y for _, y in batches])
    # Labelled OOD stay in the labelled set, in order.
    np.testing.assert_array_equal(learner.X_labelled_, X_all)
    np.testing.assert_array_equal(learner.y_labelled_, y_all)
    sizes = np.cumsum([len(initial[1])] + [len(y) for _, y in batches])
    for (_, _, _, X_fit, y_fit), n in zip(fits, sizes):
        assert not np.any(y_fit == -1)
        keep = y_all[:n] != -1
        np.testing.assert_array_equal(X_fit, X_all[:n][keep])
        np.testing.assert_array_equal(y_fit, y_all[:n][keep])


def test_skorch_net_is_trained_on_in_rows_only(initial, monkeypatch):
    seen = []
    net = mlp(max_epochs=1)
    original_fit = type(net).fit

    def recording_fit(self, X, y, **kwargs):
        seen.append(np.array(y))
        return original_fit(self, X, y, **kwargs)

    monkeypatch.setattr(type(net), "fit", recording_fit)
    ActiveLearner(net).fit(*initial)
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], initial[1][initial[1] != -1])


# ------------------------------------------------------------------ teach


def test_teach_updates_the_strategy_before_retraining(log, initial, batches):
    learner = spy_learner(log, initial)
    learner.fit(*initial)
    chooser = learner.estimator_
    X, y = batches[0]
    learner.teach(X, y)
    assert log.kinds() == ["fit", "update", "fit"]
    _, estimator_id, n_labelled, X_seen, y_seen = log[1]
    assert estimator_id == id(chooser)  # the classifier that chose the query
    assert n_labelled == len(initial[1])  # before the query joined
    np.testing.assert_array_equal(X_seen, X)
    np.testing.assert_array_equal(y_seen, y)


def test_teach_retrains_a_fresh_clone_by_default(log, initial, batches):
    learner = spy_learner(log, initial)
    learner.fit(*initial)
    previous = learner.estimator_
    learner.teach(*batches[0])
    assert learner.estimator_ is not previous
    kind, fitted_id, was_fitted, _, _ = log[-1]
    assert kind == "fit" and fitted_id == id(learner.estimator_) and not was_fitted
    assert "partial_fit" not in log.kinds()


@pytest.mark.parametrize(
    "strategy, estimator, match",
    [
        (
            lambda: MQNetQuery(random_state=0),
            lambda: SVC(),
            "needs class probabilities, but SVC has no predict_proba",
        ),
        (
            lambda: RandomQuery(random_state=0),
            lambda: make_mlp_classifier(4, 2, max_epochs=1),
            "The net is 2-way but the learner has 3 classes",
        ),
    ],
    ids=["strategy-check", "learner-check"],
)
def test_an_estimator_set_after_fit_is_checked_at_teach(strategy, estimator, match):
    # Its change takes effect at the next teach, which skipped fit's checks:
    # the teach went through and every later query failed (a bare
    # AttributeError), or the net failed with advice to use this learner.
    X, y = _iris_with_ood()
    order = np.random.RandomState(0).permutation(len(y))
    X, y = X[order].astype(np.float32), y[order]
    learner = ActiveLearner(
        RandomForestClassifier(random_state=0), strategy(), X[:40], y[:40]
    )
    indices, X_query = learner.query(X[40:], n_instances=5)
    before = pickle.dumps(learner)
    learner.set_params(estimator=estimator())
    with pytest.raises(ValueError, match=match):
        learner.teach(X_query, y[40:][indices])
    learner.set_params(estimator=RandomForestClassifier(random_state=0))
    assert pickle.dumps(learner) == before  # nothing changed
    learner.teach(X_query, y[40:][indices])
    assert len(learner.y_labelled_) == 45


def test_warm_start_continues_with_partial_fit(log, initial, batches):
    learner = spy_learner(log, initial, warm_start=True)
    learner.fit(*initial)
    previous = learner.estimator_
    learner.teach(*batches[0])
    assert log.kinds() == ["fit", "update", "partial_fit"]
    kind, fitted_id, was_fitted, _, y_fit = log[-1]
    # Continued on a copy of the fitted classifier, committed once it succeeded.
    assert fitted_id == id(learner.estimator_) != id(previous) and was_fitted
    np.testing.assert_array_equal(y_fit, learner.y_labelled_[learner.y_labelled_ != -1])


def test_an_estimator_parameter_takes_effect_when_the_docstring_says(batches):
    # The docstring said "at the next training", but a warm-started teach
    # goes on training a copy of the current classifier: only a fit takes it.
    from sklearn.linear_model import SGDClassifier

    for warm_start, teach_takes_it in [(False, True), (True, False)]:
        learner = ActiveLearner(
            SGDClassifier(loss="log_loss", random_state=0), warm_start=warm_start
        ).fit(*batches[0])
        learner.set_params(estimator__alpha=10.0)
        learner.teach(*batches[1])
        assert (learner.estimator_.alpha == 10.0) is teach_takes_it
        learner.fit(learner.X_labelled_, learner.y_labelled_)
        assert learner.estimator_.alpha == 10.0


def test_warm_start_with_a_skorch_net_keeps_training(initial, batches):
    cold = ActiveLearner(mlp(max_epochs=3)).fit(*initial).teach(*batches[0])
    warm = ActiveLearner(mlp(max_epochs=3), warm_start=True).fit(*initial)
    net = warm.estimator_
    warm.teach(*batches[0])
    assert len(warm.estimator_.history) == 6
    assert len(net.history) == 3  # the previous net is left as it was
    assert len(cold.estimator_.history) == 3


def test_a_warm_started_teach_does_not_copy_the_epochs_recorded_before(
    initial, batches
):
    # Each teach deep-copied the whole history, an entry per epoch: a long
    # campaign's teaches grew slower with every round (0.7 s at 9,000 epochs).
    learner = ActiveLearner(mlp(max_epochs=3), warm_start=True).fit(*initial)
    net = learner.estimator_
    recorded = [dict(epoch) for epoch in net.history]
    learner.teach(*batches[0])
    shared = learner.estimator_.history[:3]
    assert all(new is old for new, old in zip(shared, net.history))
    assert list(net.history) == recorded  # the previous net is left as it was


@pytest.mark.parametrize("own_handler", [False, True])
def test_ctrl_c_while_a_plain_skorch_net_trains_stops_the_teach(
    initial, batches, own_handler
):
    # skorch's fit loop swallows KeyboardInterrupt and returns a half-trained
    # net; the learner must stop instead, leaving the previous round in place.
    # Under an application's own handler that raised it, teach returned.
    import signal

    epochs, handled = [], []

    def application_handler(signum, frame):
        handled.append(signum)
        raise KeyboardInterrupt

    handler = application_handler if own_handler else signal.default_int_handler
    ctrl_c = ctrl_c_at_epoch(5, epochs)  # the 2nd epoch of the teach
    learner = ActiveLearner(_linear_net(ctrl_c, max_epochs=3)).fit(*initial)
    fitted, labelled = learner.estimator_, len(learner.y_labelled_)
    found = signal.signal(signal.SIGINT, handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            learner.teach(*batches[0])
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, found)
    assert epochs == [1, 2, 3, 1, 2] and len(handled) == own_handler
    assert learner.estimator_ is fitted and len(learner.y_labelled_) == labelled


def test_teach_without_data_acts_like_fit(log, initial):
    taught = spy_learner(log).teach(*initial)
    assert log.kinds() == ["fit"]  # no strategy update: nothing was queried
    fitted = spy_learner(Log()).fit(*initial)
    np.testing.assert_array_equal(taught.X_labelled_, fitted.X_labelled_)
    np.testing.assert_array_equal(
        taught.predict(initial[0]), fitted.predict(initial[0])
    )
    assert isinstance(taught.query_strategy_, SpyStrategy)


def test_teach_before_query_fits_the_initial_set_first(log, initial, batches):
    learner = spy_learner(log, initial).teach(*batches[0])
    assert log.kinds() == ["fit", "update", "fit"]
    assert len(learner.y_labelled_) == len(initial[1]) + len(batches[0][1])


# ------------------------------------------------------------- bad labels


@pytest.mark.parametrize("method", ["fit", "teach"])
def test_unknown_labels_are_named(log, initial, method):
    learner = spy_learner(log, initial, classes=np.arange(K))
    learner.fit(*initial)
    n_events = len(log)
    y = initial[1].copy()
    y[[0, 3]] = [7, 11]
    with pytest.raises(ValueError, match=r"\[7, 11\].*ood_label=-1"):
        getattr(learner, method)(initial[0], y)
    if method == "teach":  # rejected before anything changed
        assert len(log) == n_events and len(learner.y_labelled_) == len(y)


def test_known_classes_come_from_the_skorch_net(initial):
    learner = ActiveLearner(mlp(max_epochs=1))
    X, y = initial
    keep = y != 3  # class 3 absent from the labelled set, still known
    learner.fit(X[keep], y[keep])
    np.testing.assert_array_equal(learner.classes_, np.arange(K))
    learner.teach(X[~keep], y[~keep])
    assert learner.predict_proba(X).shape == (len(X), K)


@pytest.mark.parametrize(
    "classes, ood_label, labels, advice",
    [
        ([0, 1], -1, ["0", "1"], r"strings but the classes are numbers; .*\(int\)"),
        (["a", "b"], "other", [0, 1], r"numbers but the classes are strings; give"),
    ],
)
def test_labels_of_another_kind_than_the_classes_are_named_so(
    classes, ood_label, labels, advice
):
    # The error suggested set_params(classes=[0, 1, '0', '1']), a mix of kinds
    # that fit refuses.
    X = np.random.default_rng(0).random((20, 3))
    y = np.asarray(classes)[np.arange(20) % 2]
    learner = ActiveLearner(LogisticRegression(), classes=classes, ood_label=ood_label)
    learner.fit(X, y)
    with pytest.raises(ValueError, match=advice):
        learner.teach(X[:2], np.array(labels))


@pytest.mark.parametrize(
    "classes, fitted, taught, message",
    [
        (
            [0, 1],
            [0, 1],
            [True, False],
            r"booleans \[True, False\] but the classes \[0, 1\] are num",
        ),
        (None, [False, True], [1, 0], r"classes are booleans \[False, True\] but"),
    ],
)
def test_booleans_are_not_taken_for_numeric_classes_nor_numbers_for_boolean_ones(
    classes, fitted, taught, message
):
    # True == 1 and False == 0: a mask taught to classes 0 and 1 was stored
    # as labels 1 and 0, and 1 and 0 taught to classes False and True as
    # True and False.
    X = np.random.default_rng(0).random((20, 3))
    y = np.asarray(fitted)[np.arange(20) % 2]
    learner = ActiveLearner(LogisticRegression(), classes=classes).fit(X, y)
    before = learner.y_labelled_.copy()
    with pytest.raises(ValueError, match=message):
        learner.teach(X[:2], np.array(taught))
    np.testing.assert_array_equal(learner.y_labelled_, before)
    with pytest.raises(ValueError, match=message):
        relabelled = np.asarray(taught)[y.astype(int)]
        clone(learner).set_params(classes=fitted).fit(X, relabelled)
    # Boolean classes beside a numeric OOD label still work.
    learner.set_params(classes=None, ood_label=-1)
    learner.fit(X, np.array([True, False, -1, True] * 5, dtype=object))
    assert learner.classes_.tolist() == [False, True]


def test_booleans_among_numeric_labels_are_refused_where_not_all_are_booleans():
    # Only labels that were all booleans were refused: a mask's True beside
    # numbers (an object array keeps both) was taught as class 1.
    X = np.random.default_rng(0).random((20, 3))
    learner = ActiveLearner(LogisticRegression(), classes=[0, 1])
    learner.fit(X, np.arange(20) % 2)
    before = learner.y_labelled_.copy()
    with pytest.raises(ValueError, match=r"The labels hold booleans \[True\] but"):
        learner.teach(X[:2], np.array([True, 0], dtype=object))
    np.testing.assert_array_equal(learner.y_labelled_, before)


@pytest.mark.parametrize("classes", [list(range(500)), [False, True]])
def test_mixed_booleans_and_numbers_show_the_first_20_and_count_them(classes):
    # Booleans beside 500 numeric classes listed every class (2.6 KB); 30
    # numbers beside boolean classes showed the first 5, with no sign of the
    # others.
    X = np.arange(1000.0).reshape(-1, 1)
    y = np.array(classes * (1000 // len(classes)), dtype=object)
    learner = ActiveLearner(DummyClassifier(), classes=classes).fit(X, y)
    odd = [True, False] if len(classes) > 2 else list(range(30)) * 3
    with pytest.raises(ValueError) as error:
        learner.teach(X[: len(odd)], np.array(odd, dtype=object))
    message = str(error.value)
    shown = "(500 classes) are numbers" if len(classes) > 2 else "(30 labels)"
    assert shown in message and len(message) < 1000


def test_a_cast_is_suggested_only_where_it_works_on_every_label():
    # y.astype(int) was suggested for ['0', '1', 'unknown'], and fails on
    # 'unknown': the classes in the labels' kind work.
    X = np.random.default_rng(0).random((20, 3))
    y = np.array(["0", "1", "unknown", "1"] * 5)
    learner = ActiveLearner(LogisticRegression(), classes=[0, 1], ood_label="unknown")
    with pytest.raises(ValueError, match=r"kind, e\.g\. classes=\['0', '1'\]\.$"):
        learner.fit(X, y)
    learner.set_params(classes=["0", "1"]).fit(X, y)
    # Taught, where every label, the OOD one included, casts to an allowed one.
    learner = ActiveLearner(LogisticRegression(), classes=[0, 1], ood_label=-1)
    learner.fit(X, np.array([0, 1, -1, 1] * 5))
    with pytest.raises(ValueError, match=r"e\.g\. with y\.astype\(int\)\.$"):
        learner.teach(X[:3], np.array(["0", "1", "-1"]))
    learner.teach(X[:3], np.array(["0", "1", "-1"]).astype(int))
    with pytest.raises(ValueError, match=r"give labels of the classes' kind"):
        learner.teach(X[:3], np.array(["0", "1", "x"]))


@pytest.mark.parametrize(
    "classes, y, advice",
    [
        # 0.0 as '0.0' is no label given ('0'): no classes to suggest.
        ([0.0, 1.0], ["0", "1", "x", "1"], r"kind\.$"),
        # bytes as text decoded, not "b'a'".
        ([b"a", b"b"], ["a", "b", "x", "a"], r"e\.g\. classes=\['a', 'b'\]\.$"),
    ],
)
def test_the_classes_suggested_are_labels_given(classes, y, advice):
    X = np.random.default_rng(0).random((8, 3))
    learner = ActiveLearner(LogisticRegression(), classes=classes, ood_label="x")
    with pytest.raises(ValueError, match=advice):
        learner.fit(X, np.array(y * 2))


def test_a_class_first_taught_after_fit_is_added_by_the_refit_its_error_names(split):
    # The error said "pass classes=[...]", but classes is read at fit: set
    # afterwards it changed nothing, without a word, and teach refused again.
    is_3 = split.y_pool == 3
    initial = split.initial_idx[~is_3[split.initial_idx]]
    rows = np.setdiff1d(np.arange(300), split.initial_idx)
    learner = ActiveLearner(
        LogisticRegression(max_iter=300),
        MQNetQuery(random_state=0),
        split.X_pool[initial],
        split.y_pool[initial],
    )
    chosen, X = learner.query(split.X_pool[rows], n_instances=20)
    y = split.y_pool[rows[chosen]]
    assert 3 in y
    remedy = (
        r"Labels \[3\] are neither .* fit again on every label, these rows "
        r"included .*afresh\): learner.set_params\(classes=\[0, 1, 2, 3\]\)"
        r"\.fit\(np.concatenate\(\[learner.X_labelled_, X\]\), "
        r"np.concatenate\(\[learner.y_labelled_, y\]\)\)\.$"
    )
    with pytest.raises(ValueError, match=remedy):
        learner.teach(X, y)
    learner.set_params(classes=[0, 1, 2, 3])
    with pytest.warns(UserWarning, match="classes changed since fit.*classes_"):
        with pytest.raises(ValueError, match=remedy):
            learner.teach(X, y)
    learner.fit(
        np.concatenate([learner.X_labelled_, X]),
        np.concatenate([learner.y_labelled_, y]),
    )
    np.testing.assert_array_equal(learner.classes_, [0, 1, 2, 3])
    assert len(learner.y_labelled_) == len(initial) + len(y)
    rows = np.delete(rows, chosen)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen, X = learner.query(split.X_pool[rows], n_instances=5)
        learner.teach(X, split.y_pool[rows[chosen]])
    assert learner.predict_proba(X).shape == (5, 4)


@pytest.mark.parametrize("method", ["fit", "teach"])
def test_non_finite_labels_are_rejected(log, initial, method):
    learner = spy_learner(log, initial)
    y = initial[1].astype(float)
    y[3] = np.nan
    with pytest.raises(ValueError, match=r"y contains NaN.*: pass only the rows"):
        getattr(learner, method)(initial[0], y)
    with pytest.raises(ValueError, match=r"keep = ~pd.isna\(y\); X\[keep\]"):
        getattr(learner, method)(initial[0], y.astype(object))


def test_all_ood_initial_set_is_a_clear_error(log, initial):
    X, y = initial
    learner = spy_learner(log)
    with pytest.raises(
        ValueError, match="no in-distribution example.*: add at least one row"
    ):
        learner.fit(X[y == -1], y[y == -1])
    # A failed fit leaves no half-fitted state behind.
    assert not [name for name in vars(learner) if name.endswith("_")]


def test_ood_label_among_the_known_classes_is_rejected(initial):
    X, y = initial
    learner = ActiveLearner(mlp(max_epochs=1), ood_label=0)  # classes 0..3 from the net
    with pytest.raises(
        ValueError,
        match=r"ood_label=0 is one of the known classes.*: leave 0 out of "
        r"estimator\.classes,",
    ):
        learner.fit(X[y != -1], y[y != -1])
    learner = ActiveLearner(mlp(max_epochs=1), classes=[0, 1, 1, 2])
    with pytest.raises(ValueError, match="classes lists 1 more than once: list each"):
        learner.fit(X, y)


@pytest.mark.parametrize(
    "classes, ood_label, named",
    [
        (["a", "a\x00", "b"], "?", r"'a' and 'a\\x00', which numpy holds as one"),
        ([b"b", b"a", b"a\x00"], b"?", r"b'a' and b'a\\x00', which numpy holds"),
        ([1, 2, 1.0], -1, r"1 more than once: list each class once\.$"),
    ],
)
def test_classes_that_numpy_holds_as_one_are_named_as_given(classes, ood_label, named):
    # numpy's array of classes drops trailing NULs and makes 1 a float: the
    # refusal named 'a' listed twice, a value not given, and 1.0.
    y = np.array(classes[:2] * 2, dtype=object)
    learner = ActiveLearner(DummyClassifier(), classes=classes, ood_label=ood_label)
    with pytest.raises(ValueError, match=f"^classes lists {named}"):
        learner.fit(np.zeros((4, 2)), y)


@pytest.mark.parametrize("labels", [["a\x00", "b"], ["a", "b"]])
def test_a_class_that_numpy_holds_as_another_is_named_as_given(labels):
    # classes=['a\x00', 'b'] were held as ['a', 'b']: labels 'a\x00' were
    # refused as "neither known classes ['a', 'b']", classes not given, and
    # labels 'a' taken for the class 'a\x00', silently.
    y = np.array(labels * 2, dtype=object)
    learner = ActiveLearner(DummyClassifier(), classes=["a\x00", "b"], ood_label="?")
    with pytest.raises(ValueError) as error:
        learner.fit(np.zeros((4, 2)), y)
    assert str(error.value) == (
        "classes lists 'a\\x00', which numpy holds as 'a' (its strings drop "
        "trailing NUL characters): give classes without trailing NULs, and the "
        "labels alike."
    )


@pytest.mark.parametrize("ood_label", [None, [-1], np.array([-1, -2])])
def test_ood_label_that_is_no_single_label_is_rejected(log, initial, ood_label):
    with pytest.raises(ValueError, match="ood_label must be a single label"):
        spy_learner(log, ood_label=ood_label).fit(*initial)


@pytest.mark.parametrize("given", ["labels", "classes"])
def test_in_classes_of_mixed_kinds_are_refused(log, initial, given):
    # np.unique used to fail on the labels with "'<' not supported", and
    # classes=[1, "a"] became the strings ["1", "a"], which matched no label.
    X, y = initial
    y = np.where(y == 1, "one", y.astype(object))
    kwargs = {"classes": [0, "one", 2, 3]} if given == "classes" else {}
    with pytest.raises(ValueError, match="mix strings, bytes or numbers .*'one'"):
        spy_learner(log, **kwargs).fit(X, y)


@pytest.mark.parametrize("ood_label", ["unknown", "1"])
def test_labels_of_mixed_kinds_without_an_ood_row_are_refused_by_name(ood_label):
    # With no row labelled ood_label, np.unique sorted them first and failed
    # with "'<' not supported between instances of 'str' and 'int'".
    X = np.random.RandomState(0).rand(4, 3)
    y = np.array([2, "a", 2, "a"], dtype=object)
    with pytest.raises(ValueError, match=r"mix strings, bytes or numbers \(\[2, 'a'\]"):
        ActiveLearner(LogisticRegression(), ood_label=ood_label).fit(X, y)
    with pytest.raises(ValueError, match="The labels are bytes and numbers but"):
        OpenSetOracle(np.array([2, b"a"], dtype=object), ood_label=ood_label)


@pytest.mark.parametrize("as_frame", [False, True])
def test_one_in_class_in_an_object_array_gets_the_one_class_message(as_frame):
    # Object-array classes give Python labels, which have no .tolist():
    # AttributeError: 'str' object has no attribute 'tolist'.
    X = np.random.RandomState(0).rand(40, 3)
    y = np.array(["cat"] * 30 + ["unknown"] * 10, dtype=object)
    if as_frame:
        y = pytest.importorskip("pandas").Series(y)
    learner = ActiveLearner(LogisticRegression(), ood_label="unknown")
    with warnings.catch_warnings():
        # Nor a warning, before it, that the classifier predicts 'cat'
        # everywhere: it failed to train.
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="every labelled IN example is 'cat'"):
            learner.fit(X, y)


@pytest.mark.parametrize("missing", [None, np.nan])
def test_missing_labels_are_named_as_missing(log, initial, missing):
    # They used to be reported as labels of mixed kinds.
    X, y = initial
    y = np.array(["a", "b", "c", "d", "unknown"], dtype=object)[y + 1]
    y[3] = missing
    with pytest.raises(ValueError, match="y contains None or NaN; every example"):
        spy_learner(log, ood_label="unknown").fit(X, y)


@pytest.mark.parametrize("missing", [None, np.nan, "pandas.NA"])
def test_a_missing_value_in_classes_is_named_as_missing(log, initial, missing):
    # It was reported as classes of mixed kinds, to be given as one kind;
    # pandas.NA, with no row labelled ood_label, failed with "boolean value
    # of NA is ambiguous", which named neither the classes nor the remedy.
    if missing == "pandas.NA":
        missing = pytest.importorskip("pandas").NA
    X, y = initial
    X, y = X[y != -1], np.array(["a", "b", "c", "d"], dtype=object)[y[y != -1]]
    classes = ["a", "b", missing, "c", "d"]
    match = r"classes has no label at position 2 \((None|nan|<NA>); 1 missing in all\)"
    with pytest.raises(ValueError, match=match + ": a missing value is no class"):
        spy_learner(log, ood_label="unknown", classes=classes).fit(X, y)


@settings(max_examples=25, deadline=None)
@given(
    st.one_of(
        st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=5, unique=True),
        # numpy's strings drop trailing NULs, so its 0-d arrays hold none.
        st.lists(
            st.text(min_size=1).filter(lambda s: not s.endswith("\x00")),
            min_size=1,
            max_size=5,
            unique=True,
        ),
    )
)
def test_classes_given_as_0d_arrays_are_read_as_the_values_they_hold(classes):
    # [np.array('a'), np.array('b')] failed with "unhashable type:
    # 'numpy.ndarray'"; numpy and scikit-learn's LabelEncoder read each 0-d
    # array as the value it holds.
    X = np.arange(len(classes), dtype=float).reshape(-1, 1)
    y = np.array(classes + [-1], dtype=object)[:-1]
    as_arrays = ActiveLearner(
        DummyClassifier(), classes=[np.array(c) for c in classes]
    ).fit(X, y)
    as_values = ActiveLearner(DummyClassifier(), classes=classes).fit(X, y)
    assert as_arrays.classes_.tolist() == as_values.classes_.tolist()


@pytest.mark.parametrize("values", [[1, 2, 3], ["a", "b", "c"]], ids=["int", "str"])
@pytest.mark.parametrize("container", ["array", "Series"])
def test_labels_given_as_0d_arrays_are_read_alike_by_fit_the_oracle_and_split(
    values, container
):
    # Objects holding 0-d arrays: fit refused np.array(1) as no label and the
    # oracle failed with "unhashable type", where make_open_set_split took it
    # (in_classes=[np.array(1), ...] too) and kept the arrays as its classes.
    y = np.empty(12, dtype=object)
    y[:] = [np.array(v) for v in values] * 4
    if container == "Series":
        y = pytest.importorskip("pandas").Series(y, dtype=object)
    X = np.arange(12, dtype=float).reshape(-1, 1)
    learner = ActiveLearner(DummyClassifier(), ood_label=values[2]).fit(X, y)
    assert learner.classes_.tolist() == values[:2]
    assert OpenSetOracle(y, ood_label=values[2]).y_true.tolist() == values * 4
    in_classes = [np.array(v) for v in values[:2]]
    split = make_open_set_split(X, y, in_classes=in_classes, random_state=0)
    assert [type(c) for c in split.in_classes.tolist()] == [type(values[0])] * 2
    assert split.in_classes.tolist() == values[:2]


@pytest.mark.parametrize(
    "classes, shown",
    [
        ([True, 2], "True"),
        ([np.True_, 2], repr(np.True_)),  # 'True' before numpy 2
        ([True, 2.5], "True"),
        ([np.False_, np.float32(2)], repr(np.False_)),
    ],
    ids=["bool-int", "numpy-bool", "bool-float", "numpy-bool-numpy-float"],
)
def test_classes_that_mix_booleans_with_numbers_are_refused(classes, shown):
    # numpy's array of [True, 2] is [1, 2]: True was taken for class 1
    # without a word, as make_open_set_split's in_classes no longer are. A
    # numpy bool is a bool, a float or a numpy number a number.
    X = np.arange(4.0).reshape(-1, 1)  # distinct rows: none under two labels
    refused = (
        rf"^classes mix booleans \[{re.escape(shown)}\] with numbers, which numpy reads"
    )
    with pytest.raises(ValueError, match=refused):
        ActiveLearner(DummyClassifier(), classes=classes).fit(X, [1, 2] * 2)
    learner = ActiveLearner(DummyClassifier(), classes=[False, True])
    assert learner.fit(X, [True, False] * 2).classes_.tolist() == [False, True]


@pytest.mark.parametrize("container", ["list", "array", "array-with-0d"])
def test_a_label_in_an_array_of_shape_1_is_refused_naming_its_row(container):
    # numpy reads a 0-d array as the value it holds but refuses one of shape
    # (1,) beside other labels: an object array's was read as its value,
    # where the same labels in a list were refused. Beside a 0-d array, which
    # is read as its value, it is refused all the same.
    y = [0, 1, np.array([1]), 0]
    if container != "list":
        labels, y = y, np.empty(4, dtype=object)
        y[:] = [np.array(0) if container == "array-with-0d" else 0, *labels[1:]]
    refused = r"^y holds array\(\[1\]\) at row 2, of type ndarray"
    with pytest.raises(ValueError, match=refused):
        ActiveLearner(LogisticRegression()).fit(np.zeros((4, 1)), y)
    with pytest.raises(ValueError, match=refused.replace("y", "y_true", 1)):
        OpenSetOracle(y, ood_label=-1)


def test_bool_labels_beside_a_float_ood_label_stay_bools():
    # numpy's array of [True, False, 0.5] is floats: the classes were 0.0 and
    # 1.0, and the oracle's labels numbers, where bools beside an integer
    # OOD label stay bools.
    y = [True, False, 0.5, True, False, 0.5]
    X = np.arange(6.0).reshape(-1, 1)
    classes = ActiveLearner(DummyClassifier(), ood_label=0.5).fit(X, y).classes_
    assert [type(c) for c in classes.tolist()] == [bool, bool]
    assert [type(v) for v in OpenSetOracle(y, ood_label=0.5).y_true.tolist()] == [
        type(v) for v in y
    ]


def test_classes_a_numpy_string_numpy_holds_as_another_is_named_whole():
    # np.str_('a\x00').item() is 'a': beside 'a' the message said "classes
    # lists 'a' more than once", of two classes that differ.
    learner = ActiveLearner(DummyClassifier(), classes=[np.str_("a\x00"), "a"])
    with pytest.raises(ValueError, match=r"^classes lists 'a\\x00' and 'a', which"):
        learner.fit(np.zeros((2, 1)), ["a", "a"])


@pytest.mark.parametrize(
    "classes",
    [
        {0, 1, 2, 3},
        "0123",
        [[0, 1], [2, 3]],
        [[0, 1], [2, 3, 4]],
        [],
        np.array([np.array([0, 1]), np.array([2, 3, 4])], dtype=object),
        [{0, 1}, {2, 3}],
        [[0], [1], [2], [3]],
        [np.array([0]), np.array([1]), np.array([2]), np.array([3])],
        [bytearray(b"a"), bytearray(b"b")],
    ],
    ids=[
        "set",
        "string",
        "2-d",
        "ragged",
        "empty",
        "arrays-in-cells",
        "sets",
        "column",
        "arrays-of-one",
        "bytearrays",
    ],
)
def test_classes_that_are_no_list_of_labels_are_named_so(log, initial, classes):
    # scikit-learn's column_or_1d said "y should be a 1d array" (numpy, for
    # the ragged lists, "inhomogeneous shape"), and [] read as boolean classes.
    # An object array's arrays, or sets, failed the check of repeated classes
    # with "unhashable type". A column, or arrays of one label, were read as
    # classes [0, 1, 2, 3], and bytearrays as numpy's bytes [97, 98], where
    # in_classes and scikit-learn's unique_labels refuse them.
    with pytest.raises(
        ValueError, match=r"^classes must list the in-distribution classes, as a"
    ):
        spy_learner(log, classes=classes).fit(*initial)


def test_labels_of_a_class_in_another_unicode_form_are_named_so(initial):
    # 'Labels ['café'] are neither known classes ['café', ...]' named no
    # difference, and teach's remedy added the label as a class of its own.
    X, y = initial
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    names = np.array([composed, "tea", "milk", "water", "unknown"])[y]  # -1: unknown
    written = np.where(names == composed, decomposed, names)
    match = r"'cafe\\u0301' is the class 'caf\\xe9' written in another Unicode form"
    learner = lr_learner(
        ood_label="unknown", classes=[composed, "tea", "milk", "water"]
    )
    with pytest.raises(ValueError, match=match):
        learner.fit(X, written)
    learner.fit(X, names)
    with pytest.raises(ValueError, match=match):
        learner.teach(X[names == composed], written[names == composed])
    is_in = names != "unknown"
    with pytest.raises(ValueError, match=match):
        learner.score(X[is_in], written[is_in])


@pytest.mark.parametrize(
    "cls, label, remedy",
    [
        ("caf\u00e9", "cafe\u0301", "normalize('NFC', label) for label in y"),
        ("cafe\u0301", "caf\u00e9", "normalize('NFD', label) for label in y"),
        # No form writes the Ohm sign, nor a class of both forms: both are
        # normalised (the remedy said NFD, which gave neither).
        ("10k\u2126", "10k\u03a9", "the classes and the labels in one form"),
        ("e\u0301\u00e9", "\u00e9\u00e9", "the classes and the labels in one form"),
    ],
)
def test_the_unicode_form_remedy_writes_the_label_as_the_class(cls, label, remedy):
    X = np.arange(6.0).reshape(-1, 1)
    learner = ActiveLearner(LogisticRegression(), classes=[cls, "x"])
    with pytest.raises(ValueError, match=re.escape(remedy)):
        learner.fit(X, [cls, cls, label, "x", "x", -1])


def test_in_classes_of_one_kind_and_an_ood_label_of_another_work(log, initial):
    X, y = initial
    y = np.where(y == -1, "unknown", y.astype(object))
    learner = spy_learner(log, ood_label="unknown").fit(X, y)
    assert learner.classes_.tolist() == [0, 1, 2, 3]


def test_declared_classes_take_in_rows_alone_beside_an_ood_label_of_another_kind(
    initial,
):
    # Integer classes and ood_label="unknown": an initial set without OOD
    # rows was refused ("no example could ever be OOD"), one with an OOD row
    # taken. Declared, the classes tell IN rows from a forgotten OOD label.
    X, y = initial
    is_in = y != -1
    mixed = np.where(is_in, y.astype(object), "unknown")
    learner = lr_learner(ood_label="unknown", classes=[0, 1, 2, 3])
    assert learner.fit(X[is_in], mixed[is_in]).classes_.tolist() == [0, 1, 2, 3]
    # String labels with ood_label left at -1 are still the mistake named.
    names = np.array(["zero", "one", "two", "three", "unknown"])[y]  # -1: unknown
    learner = lr_learner(classes=["zero", "one", "two", "three"])
    with pytest.raises(ValueError, match="labels are strings but ood_label=-1"):
        learner.fit(X, names)
    learner.fit(X[is_in], names[is_in])  # declared, and no OOD row: no mistake
    with pytest.raises(ValueError, match="labels are strings but ood_label=-1"):
        lr_learner().fit(X[is_in], names[is_in])  # inferred: no telling


def test_in_rows_alone_beside_an_ood_label_of_another_kind_suggest_declaring(
    initial,
):
    # Integer IN rows alone with ood_label="unknown" and no classes declared
    # cannot be told from a forgotten OOD label: the refusal named only
    # ood_label, not the declaration that makes the documented pairing work.
    X, y = initial
    is_in = y != -1
    learner = lr_learner(ood_label="unknown")
    with pytest.raises(
        ValueError, match=r"declare their classes \(classes=\[\.\.\.\]\)"
    ):
        learner.fit(X[is_in], y[is_in])
    with pytest.raises(ValueError) as declared:  # declared: the hint has no place
        lr_learner(ood_label="unknown", classes=[0, 1]).fit(X[is_in], y[is_in])
    assert "declare" not in str(declared.value)


def test_other_ood_label(log, initial):
    X, y = initial
    y = np.where(y == -1, 99, y)
    learner = spy_learner(log, ood_label=99).fit(X, y)
    assert not np.any(log[0][4] == 99)
    np.testing.assert_array_equal(learner.y_labelled_, y)


def test_a_negative_label_besides_ood_label_is_refused_as_the_oracle_does(initial):
    # OOD marked -2, ood_label left at -1: fit trained on -2 as a fifth class,
    # and MQ-Net saw no OOD row, where OpenSetOracle refuses these labels.
    X, y = initial
    y = np.where(y == -1, -2, y)
    match = r"negative labels \[-2\] besides ood_label=-1; .*pass ood_label=-2"
    with pytest.raises(ValueError, match=match):
        OpenSetOracle(y)
    with pytest.raises(ValueError, match=match):
        lr_learner().fit(X, y)
    learner = lr_learner(X, y)  # fitted at the first query
    with pytest.raises(ValueError, match=match):
        learner.query(X)
    # Declared classes are the user's; labels outside them were refused already.
    learner = lr_learner(classes=[-2, 0, 1, 2, 3]).fit(X, y)
    assert learner.classes_.tolist() == [-2, 0, 1, 2, 3]
    with pytest.raises(ValueError, match=r"Labels \[-2\] are neither known classes"):
        lr_learner(classes=[0, 1, 2, 3]).fit(X, y)
    # teach: the classes fit inferred hold no -2, which is refused there too.
    learner = lr_learner().fit(X, np.where(y == -2, -1, y))
    with pytest.raises(ValueError, match=r"Labels \[-2\] are neither known classes"):
        learner.teach(X[:5], y[:5])


def test_a_label_that_is_the_string_ood_label_but_for_case_is_warned_of(initial):
    # "Unknown" or " unknown" beside ood_label="unknown" became classes without
    # a word, while the CLI warns of labels that differ in case only.
    X, y = initial
    y = np.array(["a", "b", "c", "d", "unknown"], dtype=object)[y]
    ood = np.flatnonzero(y == "unknown")
    y[ood[:2]], y[ood[2:4]] = "Unknown", " unknown"
    with pytest.warns(UserWarning, match=r"\[' unknown', 'Unknown'\] that differ "):
        learner = lr_learner(ood_label="unknown").fit(X, y)
    assert "Unknown" in learner.classes_.tolist()
    # teach takes labels of the classes fit inferred, and refuses others.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.teach(X[ood[:1]], y[ood[:1]])
        declared = [" unknown", "Unknown", "a", "b", "c", "d"]
        lr_learner(ood_label="unknown", classes=declared).fit(X, y)
        y[ood[:4]] = "unknown"
        learner = lr_learner(ood_label="unknown").fit(X, y)
    with pytest.raises(ValueError, match=r"Labels \['Unknown'\] are neither"):
        learner.teach(X[:1], ["Unknown"])


def _relabelling_warnings(call):
    """The messages of the warnings `call` gives of rows labelled otherwise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [
        str(w.message)
        for w in caught
        if "with a row of another label" in str(w.message)
    ]


def test_a_row_labelled_otherwise_again_is_warned_of_once_per_call(initial, batches):
    # Kept under both labels without a word: the classifier trained on each,
    # and kNN purity counted a row labelled a class and OOD as IN and OOD.
    X, y = initial
    first_in = np.flatnonzero(y != -1)[0]
    label = int(y[first_in])
    X_twice, y_twice = np.r_[X, X[[first_in]]], np.r_[y, -1]
    (message,) = _relabelling_warnings(lambda: lr_learner().fit(X_twice, y_twice))
    assert message.startswith(
        f"2 of the 41 labelled rows share their features with a row of another "
        f"label (e.g. one row labelled [{label}, -1])."
    )
    assert message.endswith(
        "If this corrects a label, keep the row once, under the right label, in "
        "learner.X_labelled_ and learner.y_labelled_ (replace its label there and "
        "drop the other copies) and fit the learner again on them; if identical "
        "inputs truly have different labels, ignore this warning."
    )
    learner = lr_learner().fit(X, y)
    X_new, y_new = batches[0]
    # In one batch, with a copy of a labelled row, and both.
    X_batch, y_batch = np.r_[X_new, X_new[:1]], np.r_[y_new, 1 - y_new[0]]
    (message,) = _relabelling_warnings(lambda: learner.teach(X_batch, y_batch))
    assert message.startswith("2 of the 21 rows taught share their features")
    assert f"[{y_new[0]}, {1 - y_new[0]}]" in message
    (message,) = _relabelling_warnings(lambda: learner.teach(X[[first_in]], [-1]))
    assert message.startswith("1 of the 1 rows taught share their features")
    assert f"[{label}, -1]" in message
    relabelled = np.r_[X[[first_in]], X_new[:2]]
    (message,) = _relabelling_warnings(lambda: learner.teach(relabelled, [3, 3, 3]))
    assert message.startswith("3 of the 3 rows taught")
    # The learner keeps every label.
    assert len(learner.y_labelled_) == 40 + 21 + 1 + 3
    # Copies under the same label are no news.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lr_learner().fit(np.r_[X, X[:5]], np.r_[y, y[:5]])
        lr_learner().fit(X, y).teach(np.r_[X[:2], X[:2]], np.r_[y[:2], y[:2]])


def test_rows_are_labelled_otherwise_only_where_their_values_are_equal():
    from sklearn.preprocessing import FunctionTransformer

    # Keyed at float32 precision, as a strategy finds queried pool rows
    # again, the 60 distinct float64 rows (1e8 + i, 0.5) were one row of 3
    # labels, and rows 0.25 away from them copies of them.
    X = np.c_[1e8 + np.arange(60.0), np.full(60, 0.5)]
    y = np.arange(60) % 3 - 1
    assert _relabelling_warnings(lambda: lr_learner().fit(X, y)) == []
    learner = lr_learner().fit(X, y)
    shifted = X[:3] + [0.25, 0.0]
    assert _relabelling_warnings(lambda: learner.teach(shifted, y[1:4])) == []
    # Equal values are: -0.0 and 0.0, NaN and NaN, float32 and float64.
    Z = np.array([[0.0, np.nan], [1.5, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
    learner = ActiveLearner(HistGradientBoostingClassifier(max_iter=2))
    learner.fit(Z, [0, 1, 0, 1])
    (message,) = _relabelling_warnings(
        lambda: learner.teach(np.array([[-0.0, np.nan], [1.5, 2.0]]), [1, 0])
    )
    assert message.startswith("2 of the 2 rows taught share their features")
    # So in object rows: of arrays in cells, which have no hash, beside
    # missing values (None and NaN are one) and text,
    cells = np.empty((4, 2), object)
    cells[:, 0] = [np.zeros(2), np.zeros(2), np.ones(2), np.ones(2)]
    cells[:, 1] = [None, np.nan, "a", "b"]
    stacked = make_pipeline(
        FunctionTransformer(lambda X: np.stack(X[:, 0])), LogisticRegression()
    )
    learner = ActiveLearner(stacked)
    (message,) = _relabelling_warnings(lambda: learner.fit(cells, [0, 1, 0, 1]))
    assert message.startswith("2 of the 4 labelled rows share their features")
    # and of numbers and text, as a DataFrame's.
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.DataFrame({"x": X[:, 0], "colour": np.where(y == 0, "a", "b")})
    frame.loc[:3] = [[np.nan, "a"], [np.nan, "a"], [-0.0, "a"], [0.0, "a"]]
    estimator = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
        HistGradientBoostingClassifier(max_iter=2),
    )
    learner = ActiveLearner(estimator)
    assert _relabelling_warnings(lambda: learner.fit(frame[4:], y[4:])) == []
    (message,) = _relabelling_warnings(lambda: learner.fit(frame, y))
    assert message.startswith("4 of the 60 labelled rows share their features")


def test_a_nan_of_any_sign_or_payload_is_one_value_to_the_relabelling_check():
    # 0/0 sets a NaN's sign bit, a NaN read from a file does not; other
    # NaNs carry a payload: each is the one missing value, as the classifier
    # reads it, so these rows are the labelled row [NaN, 1] labelled otherwise.
    nans = np.array([0x7FC00000, 0xFFC00000, 0x7FC00001], np.uint32).view(np.float32)
    assert np.isnan(nans).all()
    Z = np.array([[nans[0], 1.0], [1.5, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
    learner = ActiveLearner(HistGradientBoostingClassifier(max_iter=2))
    learner.fit(Z, [0, 1, 0, 1])
    taught = np.c_[nans[1:], np.ones(2, np.float32)]
    (message,) = _relabelling_warnings(lambda: learner.teach(taught, [1, 1]))
    assert message.startswith("2 of the 2 rows taught share their features")


@pytest.mark.parametrize("bad", ["nan", "length"])
def test_bad_training_data_is_rejected(log, initial, bad):
    X, y = initial[0].copy(), initial[1]
    if bad == "nan":
        X[2, 2] = np.nan
    else:
        y = y[:-1]
    match = "NaN" if bad == "nan" else "X has 40 rows but y has 39 labels: give one"
    with pytest.raises(ValueError, match=match):
        spy_learner(log).fit(X, y)


def test_rows_of_different_lengths_are_named_with_the_remedy(initial):
    # numpy's "setting an array element with a sequence. The requested array
    # has an inhomogeneous shape" named neither the argument nor a remedy.
    X, y = initial[0].tolist(), initial[1]
    X[3] = X[3][:-1]
    message = "^X holds rows of different lengths: give every row the same number"
    with pytest.raises(ValueError, match=message):
        lr_learner().fit(X, y)
    learner = lr_learner().fit(initial[0], y)
    with pytest.raises(ValueError, match="^X_pool holds rows of different lengths"):
        learner.query(X)
    # Rows of one length, a cell of which is a list: numpy's same message.
    X = initial[0].tolist()
    X[3][0] = [X[3][0], 1.0]
    with pytest.raises(ValueError, match="^X_pool holds a list or array in a cell"):
        learner.query(X)


# ---------------------------------------------------------- query, predict


def test_query_before_any_data_is_not_fitted(log, split):
    learner = spy_learner(log)
    with pytest.raises(NotFittedError, match="no labelled data"):
        learner.query(split.X_pool[:10])
    with pytest.raises(NotFittedError):
        learner.predict(split.X_pool[:10])


def test_query_returns_indices_and_rows(log, initial, split):
    learner = spy_learner(log, initial)
    X_pool = split.X_pool[:60]
    indices, X_query = learner.query(X_pool.tolist(), n_instances=7)
    assert indices.shape == (7,) and len(np.unique(indices)) == 7
    np.testing.assert_array_equal(X_query, X_pool[indices])
    expected, _ = SpyStrategy(random_state=0)(learner, X_pool, n_instances=7)
    np.testing.assert_array_equal(indices, expected)


@pytest.mark.parametrize("keyword", ["batch_size", "n_instance"])
def test_an_unknown_query_keyword_is_refused(log, initial, split, keyword):
    # It was ignored: scikit-activeml's batch_size=10, or a typo, chose 1 row.
    learner = spy_learner(log, initial)
    message = f"unexpected keyword argument\\(s\\) {keyword}; .* is n_instances"
    with pytest.raises(TypeError, match=message):
        learner.query(split.X_pool[:60], **{keyword: 10})
    with pytest.raises(TypeError, match=message):
        RandomQuery(random_state=0)(learner, split.X_pool[:60], **{keyword: 10})


def test_predict_proba_and_score_delegate(initial, split):
    learner = ActiveLearner(mlp(), X_training=initial[0], y_training=initial[1])
    X, y = split.X_test, split.y_test
    proba = learner.predict_proba(X)  # lazily fits
    net = learner.estimator_
    # float64 softmax of the logits: the net's float32 probabilities, refined
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, net.predict_proba(X), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(learner.predict(X), net.predict(X))
    assert learner.score(X, y) == pytest.approx(np.mean(net.predict(X) == y))
    # OOD rows would count as errors: the classifier never predicts ood_label.
    with pytest.raises(ValueError, match="ood_label=-1 in 2 rows.*IN rows"):
        learner.score(X[:5], np.r_[y[:3], -1, -1])


# ----------------------------------------------------------------- strategy


def test_default_strategy_is_uncertainty(log, initial):
    learner = ActiveLearner(SpyClassifier(log)).fit(*initial)
    assert isinstance(learner.query_strategy_, UncertaintyQuery)


def test_strategy_is_cloned_at_fit(initial, batches, split):
    user_strategy = MQNetQuery("msp", random_state=0)
    params = user_strategy.get_params()
    learner = ActiveLearner(mlp(), user_strategy, *initial)
    indices, X_query = learner.query(split.X_pool[200:400], n_instances=20)
    learner.teach(X_query, split.y_pool[200:400][indices])
    assert learner.query_strategy_ is not user_strategy
    assert hasattr(learner.query_strategy_, "meta_input_")
    assert not [name for name in vars(user_strategy) if name.endswith("_")]
    assert user_strategy.get_params() == params
    # A new fit starts over with a fresh clone.
    learner.fit(*initial)
    assert not hasattr(learner.query_strategy_, "meta_input_")


def test_plain_callable_strategy_is_used_as_is(log, initial, batches, split):
    calls = []

    def first_rows(learner, X_pool, n_instances=1):
        calls.append(learner)
        return np.arange(n_instances), np.zeros(n_instances)

    learner = ActiveLearner(SpyClassifier(log), first_rows, *initial)
    indices, _ = learner.query(split.X_pool[:30], n_instances=4)
    np.testing.assert_array_equal(indices, np.arange(4))
    assert learner.query_strategy_ is first_rows and calls == [learner]
    learner.teach(*batches[0])  # no update method: just retrains
    assert log.kinds() == ["fit", "fit"]


@pytest.mark.parametrize("n_instances", [1, 2, 3])
@pytest.mark.parametrize(
    "answer",
    [
        lambda idx, X: idx,  # modAL's newer contract: the indices alone
        lambda idx, X: idx.tolist(),
        lambda idx, X: (idx, X[idx]),  # modAL's older (indices, instances)
    ],
    ids=["indices", "list", "indices-and-rows"],
)
def test_callable_strategy_may_return_modal_answers(
    log, initial, split, n_instances, answer
):
    # Indices alone used to be unpacked as (indices, scores): with two of
    # them the first position was taken for all the indices.
    X_pool = split.X_pool[:30]

    def last_rows(learner, X, n_instances=1):
        return answer(np.arange(len(X) - n_instances, len(X)), X)

    indices, X_query = ActiveLearner(SpyClassifier(log), last_rows, *initial).query(
        X_pool, n_instances=n_instances
    )
    expected = np.arange(30 - n_instances, 30)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(X_query, X_pool[expected])


@pytest.mark.parametrize(
    "answer, error, message",
    [
        (np.array([0.5, 1.5]), TypeError, "1-D integer array"),
        (np.array([[0, 1]]), TypeError, "1-D integer array"),
        (np.array([3, 30]), ValueError, "outside the pool of 30 rows"),
        (np.array([-1]), ValueError, "outside the pool"),
        (np.array([4, 7, 4]), ValueError, "position 4 more than once"),
    ],
)
def test_callable_strategy_answer_is_checked(
    log, initial, split, answer, error, message
):
    learner = ActiveLearner(
        SpyClassifier(log), lambda lr, X, n_instances: answer, *initial
    )
    with pytest.raises(error, match=message):
        learner.query(split.X_pool[:30], n_instances=2)


# --------------------------------------------------------------- full loop


def test_three_rounds_of_mqnet_with_the_oracle(split):
    oracle = OpenSetOracle(split.y_pool)
    y_initial = oracle.label(split.initial_idx)
    learner = ActiveLearner(
        mlp(max_epochs=10),
        MQNetQuery(rule_weight=0, random_state=0),
        split.X_pool[split.initial_idx],
        y_initial,
    )
    budget, labelled = 25, list(split.initial_idx)
    for round_ in range(3):
        unlabelled = np.flatnonzero(~oracle.queried_)
        indices, _ = learner.query(split.X_pool[unlabelled], n_instances=budget)
        kept, cost = oracle.fill_budget(unlabelled[indices], budget)
        assert cost == budget and len(kept) == budget
        y = oracle.label(kept)
        learner.teach(split.X_pool[kept], y)
        labelled.extend(kept)
        np.testing.assert_array_equal(learner.y_labelled_, split.y_pool[labelled])
        strategy = learner.query_strategy_
        # Every query set so far (accumulate=True), the latest one last.
        assert len(strategy.validation_target_) == (round_ + 1) * budget
        np.testing.assert_array_equal(
            strategy.validation_target_[-budget:] == 0, y == -1
        )
    assert hasattr(strategy, "selector_")
    assert oracle.spent_ == len(split.initial_idx) + 3 * budget
    assert len(np.unique(labelled)) == len(labelled)
    assert learner.score(split.X_test, split.y_test) > 1.5 / K


def mqnet_round(split):
    """Fit, query, teach and query again with MQ-Net on a small pool: both
    queries' rows, the second one's scores and the final probabilities."""
    X, y = split.X_pool, split.y_pool
    pool = np.setdiff1d(np.arange(len(y)), split.initial_idx)[:150]
    learner = ActiveLearner(mlp(max_epochs=2), MQNetQuery(random_state=0))
    learner.fit(X[split.initial_idx], y[split.initial_idx])
    first, _ = learner.query(X[pool], n_instances=10)
    learner.teach(X[pool[first]], y[pool[first]])
    second, scores = learner.query(X[pool], n_instances=10)
    return first, second, scores, learner.predict_proba(split.X_test[:20])


def test_a_round_runs_alike_whatever_torchs_default_dtype(split, keep_default_dtype):
    # Under a float64 default, the net refused its float32 rows.
    expected = mqnet_round(split)
    torch.set_default_dtype(torch.float64)
    for got, want in zip(mqnet_round(split), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert torch.get_default_dtype() == torch.float64  # the caller's, kept


def test_a_round_runs_alike_inside_no_grad_and_inference_mode(split, grad_off):
    # MQ-Net's selector trained at the teach without gradients ("does not
    # require grad"), and under inference_mode so did the net.
    expected = mqnet_round(split)
    with grad_off():
        got = mqnet_round(split)
    for got_part, want in zip(got, expected, strict=True):
        np.testing.assert_array_equal(got_part, want)


def test_a_plain_skorch_net_trains_inside_inference_mode(initial, batches):
    # skorch's step survives no_grad, not inference_mode: the learner trains
    # whatever classifier it has with gradients.
    from skorch.callbacks import Callback

    with torch.inference_mode():
        learner = ActiveLearner(_linear_net(Callback(), max_epochs=2)).fit(*initial)
        learner.teach(*batches[0])
    net = learner.estimator_
    assert len(net.history) == 2 and not net.module_.weight.is_inference()


def test_a_continuous_target_is_refused_as_by_scikit_learn():
    # load_diabetes's targets were taken as 75 classes.
    X, y = load_diabetes(return_X_y=True)
    y = np.r_[y[:99] + 0.5, -1]  # an OOD row does not make them classes
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        ActiveLearner(LogisticRegression()).fit(X[:100], y)
    whole = ActiveLearner(LogisticRegression(), ood_label="unknown")
    whole.fit(X[:4], np.array([3.0, 5.0, 3, "unknown"], dtype=object))
    assert whole.classes_.tolist() == [3, 5]


def test_a_continuous_target_with_negatives_is_refused_as_continuous():
    # Its negative values were taken for mistyped OOD labels, its values for
    # labels outside classes=[...], and all of them listed, instead.
    X, y = load_diabetes(return_X_y=True)
    y = y[:100] - y[:100].mean() + 0.5
    for params in ({}, {"classes": [0, 1]}):
        with pytest.raises(ValueError, match="Unknown label type: continuous"):
            ActiveLearner(LogisticRegression(), **params).fit(X[:100], y)
    learner = ActiveLearner(LogisticRegression()).fit(X[:4], [0, 1, 0, -1])
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        learner.teach(X[4:100], y[4:])


def test_a_taught_batch_of_many_classes_is_not_warned_of_as_a_regression_target():
    # The check of the labels, scikit-learn's, warned of any batch of over 20
    # rows of more than half as many classes that y "could represent a
    # regression problem", though the classifier trains on the labelled set.
    X = np.random.RandomState(0).rand(60, 3)
    y = np.arange(60) % 30
    learner = ActiveLearner(DummyClassifier()).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.teach(X[:21], y[:21])
    assert len(learner.y_labelled_) == 81


@pytest.mark.parametrize(
    "check",
    [
        check_classifier_data_not_an_array,
        check_classifiers_regression_target,
        check_fit2d_predict1d,
        check_n_features_in_after_fitting,
    ],
)
def test_input_errors_pass_scikit_learns_checks(check):
    # np.ndim failed on array-likes without __array_function__, the wrong
    # feature count and 1-D rows had messages of their own, and a regression
    # target with negative values was blamed on ood_label.
    check("ActiveLearner", ActiveLearner(LogisticRegression()))


def _iris_with_ood():
    """Iris as classes 1, 2, 3, every fifth row OOD (-1)."""
    X, t = load_iris(return_X_y=True)
    y = np.where(np.arange(len(t)) % 5 == 0, -1, t + 1)
    return X, y


@pytest.mark.parametrize("kind", ["numbers", "strings"])
@pytest.mark.parametrize(
    "where", ["estimator", "pipeline", "search", "search_candidate"]
)
def test_a_class_weight_dict_weighs_the_classes_its_keys_name(kind, where):
    # The classifier trains on class positions 0..k-1: the dict weighed the
    # class at position 2 (3), and string keys failed naming positions; a
    # pipeline step's or a search grid's alike.
    X, y = _iris_with_ood()
    if kind == "strings":  # -1 picks the last name
        y = np.array(["", "setosa", "versicolor", "virginica", "ood"])[y]
    ood_label, heavy = (-1, 2) if kind == "numbers" else ("ood", "versicolor")
    weights = {heavy: 100.0}

    def classifier(class_weight):
        if where == "estimator":
            return LogisticRegression(class_weight=class_weight, max_iter=1000)
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        if where == "pipeline":
            return pipeline.set_params(logisticregression__class_weight=class_weight)
        if where == "search":
            grid = {"logisticregression__class_weight": [class_weight]}
        else:  # an estimator among the grid's candidates holds it
            candidate = LogisticRegression(class_weight=class_weight, max_iter=1000)
            grid = {"logisticregression": [candidate]}
        return GridSearchCV(pipeline, grid, cv=2)

    is_in = y != ood_label
    expected = classifier(weights).fit(X[is_in], y[is_in]).predict(X)
    unweighted = classifier(None).fit(X[is_in], y[is_in]).predict(X)
    assert not np.array_equal(expected, unweighted)  # the weight matters
    learner = ActiveLearner(classifier(weights), ood_label=ood_label).fit(X, y)
    np.testing.assert_array_equal(learner.predict(X), expected)


def test_a_class_weight_of_balanced_weighs_the_classes_labelled():
    # "balanced" names no class: it goes to the classifier as it is.
    X, y = _iris_with_ood()
    y[(y == 1) & (np.arange(len(y)) % 4 > 0)] = -1  # few of class 1
    is_in = y != -1
    expected = LogisticRegression(class_weight="balanced", max_iter=1000)
    expected = expected.fit(X[is_in], y[is_in]).predict_proba(X)
    unweighted = LogisticRegression(max_iter=1000).fit(X[is_in], y[is_in])
    assert not np.allclose(expected, unweighted.predict_proba(X))
    learner = ActiveLearner(LogisticRegression(class_weight="balanced", max_iter=1000))
    np.testing.assert_allclose(learner.fit(X, y).predict_proba(X), expected)


def test_a_class_weight_dict_may_name_a_class_not_labelled_yet():
    # scikit-learn refuses a dict naming a class the rows lack (beside one
    # it does not name): early in a campaign the labelled set lacks some.
    X, y = _iris_with_ood()
    rows = np.isin(y, [1, 2])
    weights = {2: 100.0, 3: 1.0}
    learner = ActiveLearner(
        LogisticRegression(class_weight=weights, max_iter=1000), classes=[1, 2, 3]
    ).fit(X[rows], y[rows])
    expected = LogisticRegression(class_weight={2: 100.0}, max_iter=1000)
    np.testing.assert_array_equal(
        learner.predict(X), expected.fit(X[rows], y[rows]).predict(X)
    )


@pytest.mark.parametrize(
    "class_weight, match",
    [
        (
            {-1: 2.0},
            r"class_weight has keys \[-1\] that are no known class \[1, 2, 3\]",
        ),
        ({"2": 2.0}, r"keys \['2'\] that are no known class"),
        ([{1: 2.0}, {2: 1.0}], "list of dicts, one per output"),
    ],
)
def test_a_class_weight_the_learner_cannot_key_by_its_classes_is_refused(
    class_weight, match
):
    X, y = _iris_with_ood()
    learner = ActiveLearner(LogisticRegression(class_weight=class_weight))
    with pytest.raises(ValueError, match=match):
        learner.fit(X, y)


@pytest.mark.parametrize("kind", ["numbers", "strings"])
@pytest.mark.parametrize(
    "classifier",
    [
        lambda label: DummyClassifier(strategy="constant", constant=label),
        lambda label: GridSearchCV(
            DummyClassifier(strategy="constant"), {"constant": [label]}, cv=2
        ),
        # a grid's values as a 1-D array, which scikit-learn takes as a list
        lambda label: GridSearchCV(
            DummyClassifier(strategy="constant"), {"constant": np.array([label])}, cv=2
        ),
        # A radius that leaves some rows without neighbours: outliers.
        lambda label: RadiusNeighborsClassifier(radius=0.3, outlier_label=label),
        # a label read from an array, as a 0-d one
        lambda label: DummyClassifier(strategy="constant", constant=np.array(label)),
    ],
    ids=["constant", "constant-in-grid", "array-grid", "outlier_label", "0-d-array"],
)
def test_a_parameter_that_is_a_label_names_the_class_it_names(kind, classifier):
    # The classifier trains on class positions: a constant or outlier label 2
    # was read as position 2, and the learner predicted class 3; a string
    # failed naming positions.
    X, y = _iris_with_ood()
    if kind == "strings":
        y = np.array(["", "setosa", "versicolor", "virginica", "ood"])[y]
    ood_label, label = (-1, 2) if kind == "numbers" else ("ood", "versicolor")
    is_in = y != ood_label
    rows = X + np.random.RandomState(0).normal(scale=0.5, size=X.shape)
    expected = classifier(label).fit(X[is_in], y[is_in]).predict(rows)
    assert (expected == label).any()  # the parameter shows in the predictions
    learner = ActiveLearner(classifier(label), ood_label=ood_label).fit(X, y)
    np.testing.assert_array_equal(learner.predict(rows), expected)


def test_priors_are_given_for_the_classes_labelled_so_far():
    # A value per class of classes_; scikit-learn refused four priors for
    # the three classes labelled ("Number of priors must match number of
    # classes"). Those of the classes labelled are scaled to sum to 1.
    X, y = _iris_with_ood()
    rows = np.isin(y, [1, 2, 3])
    priors = [0.05, 0.6, 0.15, 0.2]
    learner = ActiveLearner(GaussianNB(priors=priors), classes=[1, 2, 3, 4])
    learner.fit(X[rows], y[rows])
    expected = GaussianNB(priors=[0.0625, 0.75, 0.1875]).fit(X[rows], y[rows])
    np.testing.assert_allclose(
        learner.predict_proba(X)[:, :3], expected.predict_proba(X), atol=1e-12
    )
    assert (learner.predict_proba(X)[:, 3] == 0).all()
    # A classifier told every class (warm_start's partial_fit(classes=...))
    # takes them all, those not labelled yet too.
    learner = ActiveLearner(
        GaussianNB(priors=priors), classes=[1, 2, 3, 4], warm_start=True
    ).fit(X[rows], y[rows])
    np.testing.assert_array_equal(learner.estimator_.class_prior_, priors)
    # All classes labelled: the priors as given.
    full = GaussianNB(priors=[0.05, 0.6, 0.35])
    learner = ActiveLearner(clone(full)).fit(X, y)
    is_in = y != -1
    np.testing.assert_allclose(
        learner.predict_proba(X), full.fit(X[is_in], y[is_in]).predict_proba(X)
    )


@pytest.mark.parametrize(
    "classifier, match",
    [
        (
            DummyClassifier(strategy="constant", constant=4),
            r"constant=4 is no known class \[1, 2, 3\]",
        ),
        (
            RadiusNeighborsClassifier(outlier_label=-1),
            r"outlier_label=-1 is no known class .* \(never the OOD label\)",
        ),
        (
            RadiusNeighborsClassifier(outlier_label=[1, 2]),
            "one label per output",
        ),
        (
            GaussianNB(priors=[0.5, 0.5]),
            r"priors has shape \(2,\), but the learner has 3 classes",
        ),
        (
            RandomizedSearchCV(
                DummyClassifier(strategy="constant"), {"constant": randint(1, 4)}
            ),
            "draws constant from rv_discrete_frozen, whose values the learner "
            "cannot give by its class positions: give the values as a list",
        ),
        (
            GridSearchCV(
                DummyClassifier(strategy="constant"), {"constant": np.array([[1]])}
            ),
            "param_grid gives constant as a 2-D array: give its values as a list or "
            "a 1-D array",
        ),
    ],
    ids=[
        "unknown-constant",
        "ood-outlier-label",
        "per-output",
        "priors-length",
        "drawn-constant",
        "2-d-grid",
    ],
)
def test_a_parameter_naming_no_known_class_is_refused(classifier, match):
    X, y = _iris_with_ood()
    with pytest.raises(ValueError, match=match):
        ActiveLearner(classifier).fit(X, y)


def test_a_constant_of_a_class_not_labelled_yet_is_refused_by_its_label():
    # scikit-learn's message named positions ("Possible values are: [0, 1]").
    X, y = _iris_with_ood()
    rows = np.isin(y, [1, 2])
    learner = ActiveLearner(
        DummyClassifier(strategy="constant", constant=3), classes=[1, 2, 3]
    )
    with pytest.raises(ValueError, match="constant=3 names a class with no labelled"):
        learner.fit(X[rows], y[rows])


def test_score_with_bytes_labels():
    # fit, query and teach accept bytes labels, but score raised scikit-learn's
    # "labels represented as bytes is not supported".
    X = np.array([[0.0], [1.0], [3.0], [4.0], [9.0]])
    y = np.array([b"a", b"a", b"b", b"b", b"unknown"])
    learner = ActiveLearner(LogisticRegression(), ood_label=b"unknown").fit(X, y)
    assert learner.score(X[:4], y[:4]) == 1.0
    assert learner.score([[0.0], [4.0]], [b"b", b"b"]) == 0.5
    with pytest.raises(ValueError, match="no prediction could match"):
        learner.score(X[:4], ["a", "a", "b", "b"])


def test_score_refuses_labels_that_are_no_class():
    # OOD rows spelt otherwise ("Unknown") or a misspelt class counted as
    # errors without a word: 0.36 where the IN rows scored 0.90.
    X = np.array([[0.0], [1.0], [3.0], [4.0], [9.0]])
    y = np.array(["a", "a", "b", "b", "unknown"])
    learner = ActiveLearner(LogisticRegression(), ood_label="unknown").fit(X, y)
    for wrong in ("Unknown", " a"):
        with pytest.raises(ValueError, match=rf"labels \['{wrong}'\] in 1 rows"):
            learner.score(X, ["a", "a", "b", "b", wrong])
    assert learner.score(X[:4], y[:4]) == 1.0


@pytest.mark.parametrize(
    "labels, wrong, ood_label",
    [
        (["a", "b"], "a\x00", "?"),
        ([b"a", b"b"], b"a\x00", b"?"),
        ([1.0, 2.0**53], 2**53 + 1, -1),
    ],
    ids=["str", "bytes", "int-beyond-float"],
)
def test_score_refuses_a_label_that_numpy_would_take_for_a_class(
    labels, wrong, ood_label
):
    # `label in classes_` compared as numpy does: 'a\x00' was the class 'a'
    # (numpy's strings drop trailing NULs) and 2**53 + 1 the class 2.0**53,
    # so their rows counted as errors without a word (0.75 here), where teach
    # refuses such labels as no class.
    X = np.array([[0.0], [1.0], [3.0], [4.0]])
    y = np.array(labels * 2)[[0, 2, 1, 3]]
    learner = ActiveLearner(LogisticRegression(), ood_label=ood_label).fit(X, y)
    assert learner.score(X, y) == 1.0
    shown = re.escape(repr([wrong]))
    with pytest.raises(ValueError, match=f"^y holds labels {shown} in 1 rows that"):
        learner.score(X, [*y.tolist()[:3], wrong])
    with pytest.raises(ValueError, match=f"^Labels {shown} are neither known"):
        learner.teach(X[3:], [wrong])


def test_score_takes_dates_held_as_numpy_scalars_or_as_dates():
    # A column of objects keeps np.datetime64('2020-01-01'), which an array of
    # dates lists as datetime.date(2020, 1, 1): equal, but hashed apart, so
    # score's lookup in a set refused the classes' own dates, "in 0 rows".
    pd = pytest.importorskip("pandas")
    days = [np.datetime64("2020-01-01"), np.datetime64("2020-01-02")]
    X = np.array([[0.0], [1.0], [3.0], [4.0]])
    y = pd.Series([days[0], days[0], days[1], days[1]], dtype=object)
    ood_label = np.datetime64("1970-01-01")
    learner = ActiveLearner(LogisticRegression(), ood_label=ood_label).fit(X, y)
    assert learner.score(X, y) == learner.score(X, y.tolist()) == 1.0
    with pytest.raises(ValueError, match=r"^y holds labels .* in 2 rows that"):
        learner.score(X, [*days, *[np.datetime64("2020-01-03")] * 2])


@pytest.mark.parametrize(
    "y, wrong, refused",
    [
        ([0, 0, 1, 1], [True, False, 1, 1], "^The labels hold booleans"),
        ([0, 0, 1, 1], [np.True_, 0, 1, 1], "^The labels hold booleans"),
        (
            [True, True, False, False],
            [1, 1, False, False],
            r"^The classes are booleans \[False, True\] but the labels hold numbers",
        ),
    ],
    ids=["bool-for-int", "numpy-bool-for-int", "int-for-bool"],
)
def test_score_refuses_booleans_for_numbers_as_teach_does(y, wrong, refused):
    # True equals 1: score took it for class 1 (and 1 for True), where teach
    # refuses it as no label of numeric classes.
    X = np.array([[0.0], [1.0], [3.0], [4.0]])
    learner = ActiveLearner(LogisticRegression()).fit(X, y)
    assert learner.score(X, y) == 1.0
    for call in (learner.score, learner.teach):
        with pytest.raises(ValueError, match=refused):
            call(X, wrong)


@pytest.mark.parametrize("missing", [None, float("nan"), "pandas.NA"])
@pytest.mark.parametrize("labels", [[0, 1], ["a", "b"]], ids=["numbers", "strings"])
def test_score_refuses_a_missing_label_as_teach_does(labels, missing):
    # None among strings was "y holds numbers but the classes are strings",
    # and among numbers a label "neither known class nor ood_label", as NaN
    # was, listed once per row: "y holds labels [nan, nan] in 2 rows".
    if missing == "pandas.NA":
        missing = pytest.importorskip("pandas").NA
    X = np.array([[0.0], [1.0], [3.0], [4.0]])
    y = [labels[0], labels[0], labels[1], labels[1]]
    ood_label = -1 if labels[0] == 0 else "unknown"
    learner = ActiveLearner(LogisticRegression(), ood_label=ood_label).fit(X, y)
    wrong = [missing, missing, *y[2:]]
    for call in (learner.score, learner.teach):
        with pytest.raises(ValueError, match=r"^y contains (None or )?NaN.*pass only"):
            call(X, wrong)


@pytest.mark.parametrize("labels", [[0, 1], ["a", "b"]], ids=["numbers", "strings"])
@pytest.mark.parametrize("cell", [{0}, {"a": 0}, [0]], ids=["set", "dict", "list"])
def test_score_and_teach_refuse_an_unhashable_label_naming_its_row(labels, cell):
    # score failed its look-up with a bare "unhashable type: 'set'" among
    # numbers and said "y holds numbers" among strings; teach gave
    # scikit-learn's "Unknown label type: unknown", which names no row. A
    # list in y failed in numpy: "setting an array element with a sequence".
    X = np.array([[0.0], [1.0], [3.0], [4.0]])
    y = [labels[0], labels[0], labels[1], labels[1]]
    ood_label = -1 if labels[0] == 0 else "unknown"
    learner = ActiveLearner(LogisticRegression(), ood_label=ood_label).fit(X, y)
    shown = re.escape(repr(cell))
    refused = rf"^y holds {shown} at row 1, of type {type(cell).__name__}, which is no"
    fit = ActiveLearner(LogisticRegression(), ood_label=ood_label).fit
    for call in (learner.score, learner.teach, fit):
        with pytest.raises(ValueError, match=refused):
            call(X, [y[0], cell, *y[2:]])


def _with_tuples(labels, given_as):
    """`labels` with a tuple at rows 1 and 3, as a list or an object array."""
    labels = [labels[0], (1, 2), labels[1], (1, 2)]
    if given_as == "list":
        return labels
    return np.fromiter(labels, dtype=object, count=len(labels))


@pytest.mark.parametrize("labels", [[0, 1], ["a", "b"]], ids=["numbers", "strings"])
@pytest.mark.parametrize("given_as", ["list", "object-array"])
def test_a_tuple_label_is_refused_naming_its_row_wherever_labels_are_read(
    labels, given_as
):
    # numpy and scikit-learn read a tuple as a row of labels: beside other
    # labels, fit, teach, the oracle and the split failed with numpy's
    # "setting an array element with a sequence" (a list) or took it as a
    # class (an object array; score said "y holds numbers" among strings).
    X = np.array([[0.0], [1.0], [3.0], [4.0]])
    ood_label = -1 if labels[0] == 0 else "unknown"
    learner = ActiveLearner(LogisticRegression(), ood_label=ood_label)
    learner.fit(X, [labels[0], labels[0], labels[1], labels[1]])
    y = _with_tuples(labels, given_as)
    refused = r"^y(_true)? holds \(1, 2\) at row 1, a tuple, which numpy and"
    calls = [
        learner.score,
        learner.teach,
        clone(learner).fit,
        lambda X, y: OpenSetOracle(y, ood_label=ood_label),
        lambda X, y: make_open_set_split(X, y, in_classes=labels),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=refused):
            call(X, y)


def test_a_list_of_tuples_alone_is_refused_as_tuples_not_as_a_table():
    # numpy reads it as a table: scikit-learn's "y should be a 1d array, got
    # an array of shape (2, 2)" named neither the tuples nor what to give.
    with pytest.raises(ValueError, match=r"^y holds \(1, 2\) at row 0, a tuple"):
        ActiveLearner(LogisticRegression()).fit(np.zeros((2, 1)), [(1, 2), (3, 4)])


@pytest.mark.parametrize(
    ("y", "odd"),
    [
        ([[0], [1], [0, 1], [1]], 2),
        ([[0], [1], [1], [0, 1]], 3),
        ([[0], [1], [], [1]], 2),
        ([[0], [1], 1, [0]], 2),
        ([(0,), (1,), (0, 1), (1,)], 2),
        ([[0], [1], [[1]], [0]], 2),
        ([[0], 2, [0, 1], [1]], 2),
        ([[0], [1], 1, [1], [0, 1]], 4),
        ([[0], [1], np.array([[1]]), [0]], 2),
        ([[0], [1], [np.array([1])], [0]], 2),
    ],
    ids=[
        "two-labels",
        "two-labels-last",
        "none",
        "a-label-alone",
        "tuples",
        "a-list-in-one",
        "half-and-two-labels",
        "two-labels-after-a-label-alone",
        "an-array-of-a-row",
        "an-array-in-one",
    ],
)
def test_a_column_y_names_its_odd_row(y, odd):
    # Rows in lists of one are a column (scikit-learn's column_or_1d reads
    # it): the refusal named row 0, whose list is no mistake there.
    # A row that is neither one label nor a list of one is named first: it
    # is odd in either reading.
    refused = rf"^y gives its labels in lists of one, a column .* but row {odd} "
    with pytest.raises(ValueError, match=refused):
        ActiveLearner(LogisticRegression()).fit(np.zeros((len(y), 1)), y)


@pytest.mark.parametrize(
    ("y", "in_one", "alone"),
    [
        ([[0], 1], r"\[0\] at row 0", "1 at row 1"),
        ([[0], 1, [1], 0], r"\[0\] at row 0", "1 at row 1"),
        ([0, 1, (1,), (0,)], r"\(1,\) at row 2", "0 at row 0"),
    ],
    ids=["two", "four", "tuples-last"],
)
def test_a_y_half_in_lists_of_one_names_a_row_of_each_form(y, in_one, alone):
    # Neither form is the odd one: the refusal named row 0 as no label
    # (its list, or its label alone beside lists?), as if the other form
    # were right.
    refused = (
        rf"^y mixes labels in lists of one \({in_one}\) and labels alone "
        rf"\({alone}\), as many of each: give every label alone, or every one "
        r"in a list of one"
    )
    with pytest.raises(ValueError, match=refused):
        ActiveLearner(LogisticRegression()).fit(np.zeros((len(y), 1)), y)


def _labels_read_by(entry, y):
    """What the reader of labels `entry` makes of `y`, labels 1, 2 and 3,
    one per row of 8 rows."""
    from skal_openset import SkactivemlQuery

    X = np.arange(16.0).reshape(8, 2)
    fitted = ActiveLearner(LogisticRegression()).fit(X, [1, 2, 3, 1, 2, 3, 1, 2])
    if entry == "fit":
        return ActiveLearner(LogisticRegression()).fit(X, y).classes_
    if entry == "teach":
        return fitted.teach(X, y).classes_
    if entry == "score":
        return fitted.score(X, y)
    if entry == "y_true":
        return OpenSetOracle(y).y_true
    if entry == "y":
        return make_open_set_split(X, y, in_classes=[1, 2], random_state=0).y_pool
    if entry == "y_test":
        split = make_open_set_split(
            X,
            [1, 2, 3, 4] * 2,
            X_test=X,
            y_test=y,
            in_classes=[1, 2, 3],
            random_state=0,
        )
        return split.y_test
    pool = np.array(y, dtype=float)
    pool[4:] = np.nan  # scikit-activeml's unlabelled rows
    strategy = SkactivemlQuery(RandomQuery(random_state=0))
    return strategy.query(X, pool.tolist(), LogisticRegression(), batch_size=2)


@pytest.mark.parametrize(
    "entry", ["fit", "teach", "score", "y_true", "y", "y_test", "skactiveml"]
)
@pytest.mark.parametrize("row", [tuple, list], ids=["tuples", "lists"])
def test_every_reader_of_labels_reads_a_column_alike_and_warns(entry, row):
    # As column_or_1d reads it, the warning scikit-learn's fit gives: only
    # fit and teach gave it, with its words on y, at a line of this package;
    # score, the oracle, the split and SkactivemlQuery read it silently.
    if entry == "skactiveml":
        pytest.importorskip("skactiveml")
    y = [1, 2, 3, 1, 2, 3, 1, 2]
    expected = _labels_read_by(entry, y)
    name = "y" if entry in ("skactiveml", "fit", "teach", "score") else entry
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np.testing.assert_array_equal(
            _labels_read_by(entry, [row([label]) for label in y]), expected
        )
    column = [w for w in caught if issubclass(w.category, DataConversionWarning)]
    assert len(column) == 1, [str(w.message) for w in column]
    assert str(column[0].message).startswith(
        f"A column-vector {name} was passed when a 1d array was expected "
        "(shape (n, 1), or lists or tuples of one label), and is read as one "
        f"label per row: give {name} 1-d, e.g. np.ravel({name})."
    )
    assert column[0].filename == __file__  # the caller's line


def test_a_column_of_labels_scikit_learn_refuses_is_refused_for_its_labels():
    # Each row's list was said to be no label ("y holds [1j] at row 0, of
    # type list"), where a column of labels is taken: its labels are refused,
    # as they are given alone.
    with pytest.raises(ValueError, match="^Complex data not supported"):
        ActiveLearner(LogisticRegression()).fit(np.zeros((2, 1)), [[1j], [2j]])


@pytest.mark.parametrize("entry", ["fit", "teach", "score", "y_true", "y", "y_test"])
@pytest.mark.parametrize("first", [b"a", b"ab"], ids=["one byte", "two bytes"])
def test_every_reader_of_labels_refuses_bytearrays(entry, first):
    # numpy reads a bytearray as a row of its bytes: bytearrays of one byte
    # were read as a column of numbers, 97 and 98, with the column's warning;
    # one of more bytes was "no label", with no remedy.
    y = [bytearray(first), bytearray(b"b")] * 4
    name = entry if entry in ("y_true", "y_test") else "y"
    refused = (
        rf"^{name} holds bytearray\({first!r}\) at row 0, a bytearray, which numpy "
        rf"reads as a row of numbers, its bytes: give each label as bytes, e.g. "
        rf"\[bytes\(label\) for label in {name}\]\.$"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)
        with pytest.raises(ValueError, match=refused):
            _labels_read_by(entry, y)


def test_score_checks_one_label_per_row_before_the_labels():
    # A label short, y's OOD row was blamed ("y holds ood_label"): the rows
    # and labels are misaligned, whatever the labels hold.
    X = np.array([[0.0], [1.0], [3.0], [4.0], [9.0]])
    y = np.array([0, 0, 1, 1, -1])
    learner = ActiveLearner(LogisticRegression()).fit(X, y)
    with pytest.raises(
        ValueError, match="X has 5 rows but y has 4 labels: give one label per row"
    ):
        learner.score(X, y[1:])
    # A label too many misaligns them as much.
    with pytest.raises(
        ValueError, match="X has 4 rows but y has 5 labels: give one label per row"
    ):
        learner.score(X[1:], y)


def test_score_takes_sample_weight_as_scikit_learn_classifiers_do():
    # It took no sample_weight (a TypeError), unlike ClassifierMixin.score.
    X = np.array([[0.0], [1.0], [3.0], [4.0], [9.0]])
    y = np.array([0, 0, 1, 1, -1])
    learner = ActiveLearner(LogisticRegression()).fit(X, y)
    X_test, y_test = [[0.0], [4.0], [0.5]], [1, 1, 0]  # the first one is wrong
    assert learner.score(X_test, y_test, sample_weight=[1, 1, 2]) == 0.75
    assert learner.score(X_test, y_test, sample_weight=[2, 1, 1]) == 0.5
    assert learner.score(X_test, y_test) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="sample_weight"):
        learner.score(X_test, y_test, sample_weight=[1, 1])
    # Negative weights scored -1/-1 = 100%, and [1, 1, -2] divided by zero.
    for weights in ([-1, 0, 0], [1, 1, -2]):
        with pytest.raises(ValueError, match="Negative values in data passed to"):
            learner.score(X_test, y_test, sample_weight=weights)


def test_score_refuses_all_zero_sample_weight_whatever_scikit_learn():
    # scikit-learn 1.9's check refuses them; under its 1.6 to 1.8 (which
    # setup.cfg allows) the score divided by their sum, a ZeroDivisionError.
    # The same words, with the remedy, under either: 1.9's own were without.
    X = np.array([[0.0], [1.0], [3.0], [4.0], [9.0]])
    learner = ActiveLearner(LogisticRegression()).fit(X, [0, 0, 1, 1, -1])
    with pytest.raises(ValueError, match="give the rows to count a positive weight"):
        learner.score([[0.0], [4.0]], [0, 1], sample_weight=[0.0, 0.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_score_refuses_non_finite_sample_weight_under_assume_finite(bad):
    # scikit-learn's check skips them there: the score came out NaN, silently.
    X = np.array([[0.0], [1.0], [3.0], [4.0], [9.0]])
    learner = ActiveLearner(LogisticRegression()).fit(X, [0, 0, 1, 1, -1])
    with sklearn.config_context(assume_finite=True):
        with pytest.raises(ValueError, match="sample_weight contains (NaN|infinity)"):
            learner.score([[0.0], [4.0]], [0, 1], sample_weight=[1.0, bad])


def _lr_learner(split, strategy):
    """A LogisticRegression learner on the split's initial set (fitted lazily)."""
    return ActiveLearner(
        LogisticRegression(max_iter=300),
        strategy,
        split.X_pool[split.initial_idx],
        split.y_pool[split.initial_idx],
    )


def test_an_interrupted_update_leaves_the_strategy_as_it_was(split, monkeypatch):
    # Called directly (a custom loop), MQNetQuery.update stored the query set
    # before its selector trained; Ctrl-C there and a retry held it twice.
    learner = _lr_learner(split, MQNetQuery(random_state=0))
    rows = np.setdiff1d(np.arange(120), split.initial_idx)
    indices, X_query = learner.query(split.X_pool[rows], n_instances=8)
    strategy = learner.query_strategy_
    before = {name: id(value) for name, value in vars(strategy).items()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(MetaQueryNetSelector, "fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        strategy.update(learner, X_query, split.y_pool[rows[indices]])
    assert {name: id(value) for name, value in vars(strategy).items()} == before
    monkeypatch.undo()
    strategy.update(learner, X_query, split.y_pool[rows[indices]])
    assert len(strategy.validation_target_) == 8


def test_an_interrupted_query_leaves_the_strategy_as_it_was(split, monkeypatch):
    # MQ-Net stores the pool's scores and meta-input scale before it picks the
    # batch; Ctrl-C there left the strategy with a half-done query's state.
    from skal_openset._strategies import _meta_query

    learner = _lr_learner(split, MQNetQuery(random_state=0))
    rows = np.setdiff1d(np.arange(120), split.initial_idx)
    pool = split.X_pool[rows]
    indices, X_query = learner.query(pool, n_instances=5)
    learner.teach(X_query, split.y_pool[rows[indices]])
    strategy = learner.query_strategy_
    before = {name: id(value) for name, value in vars(strategy).items()}

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(_meta_query, "_diverse_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        learner.query(pool[10:], n_instances=5)
    assert {name: id(value) for name, value in vars(strategy).items()} == before


@pytest.mark.parametrize("random_state", [np.random.RandomState(0), None])
def test_an_interrupted_query_leaves_its_random_state_as_it_was(
    split, monkeypatch, random_state
):
    # The strategy's attributes were put back, but a RandomState it was given
    # (or NumPy's global one) stayed advanced: the retry chose other rows.
    learner = _lr_learner(split, RandomQuery(random_state=random_state)).fit(
        split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    )
    pool = split.X_pool[:100]
    np.random.seed(0)  # noqa: NPY002 (random_state=None draws from it)
    uninterrupted, _ = copy.deepcopy(learner).query(pool, n_instances=5)
    select = RandomQuery._select

    def drawn_then_interrupted(*args):
        select(*args)
        raise KeyboardInterrupt

    np.random.seed(0)  # noqa: NPY002
    monkeypatch.setattr(RandomQuery, "_select", drawn_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        learner.query(pool, n_instances=5)
    monkeypatch.setattr(RandomQuery, "_select", select)
    np.testing.assert_array_equal(learner.query(pool, n_instances=5)[0], uninterrupted)


def test_a_failed_teach_leaves_the_global_random_state_as_it_was(split, monkeypatch):
    # MQ-Net's update (random_state=None) trained its selector from NumPy's
    # global random state before the classifier's retraining failed: the
    # retry trained another selector than a teach that never failed.
    learner = _lr_learner(split, MQNetQuery())
    rows = np.setdiff1d(np.arange(120), split.initial_idx)
    indices, X_query = learner.query(split.X_pool[rows], n_instances=8)
    np.random.seed(0)  # noqa: NPY002 (random_state=None draws from it)
    drawn = np.random.get_state()  # noqa: NPY002

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(LogisticRegression, "fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        learner.teach(X_query, split.y_pool[rows[indices]])
    after = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(after[1], drawn[1])
    assert after[2] == drawn[2]
    # A seeded strategy and classifier draw nothing from it: it is left
    # alone, since another thread's draws since would be drawn again.
    monkeypatch.undo()
    learner = _lr_learner(split, MQNetQuery(random_state=0))
    learner.set_params(estimator=LogisticRegression(max_iter=300, random_state=0))
    indices, X_query = learner.query(split.X_pool[rows], n_instances=8)

    def drawing_then_interrupted(*args, **kwargs):
        np.random.rand()  # noqa: NPY002 (as another thread may)
        raise KeyboardInterrupt

    monkeypatch.setattr(LogisticRegression, "fit", drawing_then_interrupted)
    drawn = np.random.get_state()  # noqa: NPY002
    with pytest.raises(KeyboardInterrupt):
        learner.teach(X_query, split.y_pool[rows[indices]])
    after = np.random.get_state()  # noqa: NPY002
    assert not (np.array_equal(after[1], drawn[1]) and after[2] == drawn[2])


def test_an_interrupted_update_called_directly_rewinds_the_global_state(
    split, monkeypatch
):
    # Only teach rewound it: a custom loop's (or modAL's) retried update
    # trained another selector than an update that never failed.
    learner = _lr_learner(split, MQNetQuery())
    rows = np.setdiff1d(np.arange(120), split.initial_idx)
    indices, X_query = learner.query(split.X_pool[rows], n_instances=8)
    monkeypatch.setattr(MetaQueryNetSelector, "fit", drawing_then_interrupted)
    drawn = global_random_states()
    with pytest.raises(KeyboardInterrupt):
        learner.query_strategy_.update(learner, X_query, split.y_pool[rows[indices]])
    assert_global_random_states_are(drawn)


def test_a_failed_teach_rewinds_the_global_state_for_the_strategy_in_use(
    split, monkeypatch
):
    # The template's seed decided: query_strategy_ set to random_state=None,
    # as the learner's docstring says to change the strategy in use, drew
    # from the global state in its update, which a failed teach left drawn.
    learner = _lr_learner(split, MQNetQuery(random_state=0))
    learner.set_params(estimator=LogisticRegression(max_iter=300, random_state=0))
    rows = np.setdiff1d(np.arange(120), split.initial_idx)
    indices, X_query = learner.query(split.X_pool[rows], n_instances=8)
    learner.query_strategy_.set_params(random_state=None)
    monkeypatch.setattr(LogisticRegression, "fit", drawing_then_interrupted)
    drawn = global_random_states()
    with pytest.raises(KeyboardInterrupt):
        learner.teach(X_query, split.y_pool[rows[indices]])
    assert_global_random_states_are(drawn)


def test_a_failed_fit_rewinds_the_global_state(split, monkeypatch):
    # Only the fit deferred to query or teach rewound it: a retried fit of an
    # unseeded classifier trained another one than a fit that never failed.
    learner = _lr_learner(split, MQNetQuery(random_state=0))
    monkeypatch.setattr(LogisticRegression, "fit", drawing_then_interrupted)
    drawn = global_random_states()
    with pytest.raises(KeyboardInterrupt):
        learner.fit(split.X_pool[split.initial_idx], split.y_pool[split.initial_idx])
    assert_global_random_states_are(drawn)
    assert not hasattr(learner, "estimator_")


def test_a_failed_fit_rewinds_the_cuda_random_states_too(split, monkeypatch):
    # An unseeded net on a GPU draws from torch's CUDA states as well.
    restored, drawn = [], [torch.full((4,), 7, dtype=torch.uint8)]
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)  # as on a GPU
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: drawn)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.append)
    learner = _lr_learner(split, MQNetQuery(random_state=0))
    monkeypatch.setattr(LogisticRegression, "fit", drawing_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        learner.fit(split.X_pool[split.initial_idx], split.y_pool[split.initial_idx])
    assert restored == [drawn]


def _net_failing_in_its_second_fit(unseeded):
    """An unseeded skorch net on the split whose second fit fails after an
    epoch, having drawn its weights and batches from torch's global state."""
    from skorch.callbacks import Callback

    fits = []

    class FailsInSecondFit(Callback):
        def on_train_begin(self, net, **kwargs):
            fits.append(net)

        def on_epoch_end(self, net, **kwargs):
            if len(fits) == 2:
                raise RuntimeError("the disk is full")

    if unseeded == "TargetNet":
        return make_mlp_classifier(
            64, K, hidden_sizes=(8,), max_epochs=2, callbacks=[FailsInSecondFit()]
        )
    return _linear_net(FailsInSecondFit(), max_epochs=2, iterator_train__shuffle=True)


@pytest.mark.parametrize("unseeded", ["TargetNet", "skorch net"])
def test_a_failed_teach_leaves_torch_global_random_state_as_it_was(split, unseeded):
    # Only NumPy's global random state was rewound: the failed retraining
    # had drawn the net's weights and batches from torch's, so a retry
    # trained another net than a teach that never failed.
    import torch

    learner = ActiveLearner(
        _net_failing_in_its_second_fit(unseeded),
        RandomQuery(random_state=0),
        split.X_pool[split.initial_idx],
        split.y_pool[split.initial_idx],
    )
    rows = np.setdiff1d(np.arange(120), split.initial_idx)
    indices, X_query = learner.query(split.X_pool[rows], n_instances=8)
    torch.manual_seed(0)
    drawn = torch.get_rng_state()
    with pytest.raises(RuntimeError, match="disk is full"):
        learner.teach(X_query, split.y_pool[rows[indices]])
    assert torch.equal(torch.get_rng_state(), drawn)


@pytest.mark.parametrize(
    "strategy",
    [
        MQNetQuery(purity="knn_contrat"),
        MQNetQuery(rule_weight=2),
        MQNetQuery(diversity_pool=True),  # True would silently mean 1
        MQNetQuery(random_state=False),  # seed 0
        MQNetQuery(selector=MetaQueryNetSelector(lr=-1)),
        MQNetQuery(selector=MetaQueryNetSelector(hidden_size=True)),  # torch error
        MQNetQuery(selector=MetaQueryNetSelector(max_epochs=True)),  # 1 epoch
        EOALQuery(n_unknown_clusters=True),  # 1 cluster
        MQNetQuery(selector=MetaQueryNetSelector(steps_per_epoch=5)),
        MQNetQuery(selector=MetaQueryNetSelector(warm_start=True)),  # no effect
    ],
)
def test_a_bad_strategy_parameter_fails_at_fit_before_any_label_is_bought(
    split, strategy
):
    # These passed fit (which trains the classifier); the selector's failed
    # only at the first teach, after the labels had been bought.
    with pytest.raises(ValueError, match="parameter|steps_per_epoch|warm_start"):
        _lr_learner(split, strategy).fit(
            split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
        )


@pytest.mark.filterwarnings("error")
def test_the_default_strategy_queries_and_a_new_one_is_warned_of(split):
    learner = _lr_learner(split, None)
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    indices, _ = learner.query(split.X_pool[rows], n_instances=5)
    assert isinstance(learner.query_strategy_, UncertaintyQuery)
    learner.set_params(query_strategy=MQNetQuery())
    with pytest.warns(UserWarning, match="set them there to change it now"):
        learner.query(split.X_pool[rows], n_instances=5)


@pytest.mark.filterwarnings("ignore:MQNetQuery was queried again")
def test_a_strategy_parameter_set_after_fit_is_warned_of(split):
    # learner.set_params(query_strategy__...) changed get_params only: the
    # strategy in use, query_strategy_, went on as before without a word.
    learner = _lr_learner(split, MQNetQuery(random_state=0))
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    learner.query(split.X_pool[rows], n_instances=5)
    learner.set_params(query_strategy__rule_weight=1.0)
    with pytest.warns(UserWarning, match="set them there to change it now"):
        learner.query(split.X_pool[rows], n_instances=5)
    learner.fit(learner.X_labelled_, learner.y_labelled_)  # takes it up
    assert learner.query_strategy_.rule_weight == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.query(split.X_pool[rows], n_instances=5)


class _CachingEmbedder:
    def __init__(self):
        self.calls = 0

    def embed(self, estimator, X):
        self.calls += 1
        return estimator.predict_proba(X)


@pytest.mark.filterwarnings("error")
def test_a_stateful_bound_method_embedding_is_no_parameter_change(split):
    # Hashed with its object's state, it "changed since fit" at every call.
    embedder = _CachingEmbedder()
    learner = _lr_learner(split, CoreSetQuery(random_state=0))
    learner.set_params(embedding=embedder.embed)
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    for _ in range(2):
        chosen, _ = learner.query(split.X_pool[rows], n_instances=5)
        learner.teach(split.X_pool[rows[chosen]], split.y_pool[rows[chosen]])
        rows = np.delete(rows, chosen)
    assert embedder.calls >= 2
    pickle.loads(pickle.dumps(learner)).query(split.X_pool[rows], n_instances=5)
    learner.set_params(embedding=_CachingEmbedder().embed)  # another object
    with pytest.raises(UserWarning, match="embedding changed since fit"):
        learner.query(split.X_pool[rows], n_instances=5)


def test_ood_label_and_embedding_set_after_fit_take_effect_at_the_next_fit(split):
    # They took effect half-way: another ood_label changed the queries (the
    # labelled OOD rows read as IN), then teach named the old one; a PCA
    # embedding failed ("'PCA' object is not callable"), a callable one was
    # ignored.
    X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    rows = np.setdiff1d(np.arange(300), split.initial_idx)
    X, y = split.X_pool[rows], split.y_pool[rows]
    learner = ActiveLearner(
        LogisticRegression(max_iter=300), CoreSetQuery(random_state=0)
    ).fit(X0, y0)
    expected, _ = learner.query(X, n_instances=5)
    learner.set_params(ood_label=99, embedding=PCA(2))
    message = "ood_label and embedding changed since fit.*ood_label_ and embedding_"
    with pytest.warns(UserWarning, match=message):
        indices, _ = learner.query(X, n_instances=5)
    np.testing.assert_array_equal(indices, expected)
    learner.teach(X[indices], y[indices])  # labelled as at fit
    assert learner.ood_label_ == -1 and learner.embedding_ is None
    relabelled = np.where(learner.y_labelled_ == -1, 99, learner.y_labelled_)
    learner.fit(learner.X_labelled_, relabelled)
    assert learner.ood_label_ == 99 and isinstance(learner.embedding_, PCA)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.query(X, n_instances=5)


def test_a_setting_changed_since_fit_is_warned_of_once_per_change(split):
    # It was warned of at every query and teach (41 times in 20 rounds): the
    # default filter's once-per-line registry is reset by every catch_warnings
    # block, check_array's included.
    learner = _lr_learner(split, UncertaintyQuery(random_state=0))
    rows = np.setdiff1d(np.arange(300), split.initial_idx)
    learner.query(split.X_pool[rows], n_instances=5)

    def warned_in_rounds(n_rounds):
        nonlocal rows
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            for _ in range(n_rounds):
                chosen, X = learner.query(split.X_pool[rows], n_instances=5)
                learner.teach(X, split.y_pool[rows[chosen]])
                rows = np.delete(rows, chosen)
        return [str(w.message) for w in record if "since fit" in str(w.message)]

    learner.set_params(query_strategy__random_state=1)
    assert len(warned_in_rounds(3)) == 1
    # Loaded (in another process, as a resumed campaign is), warned again
    # once: the note is the process's, as Python's registry is.
    learner = pickle.loads(pickle.dumps(learner))
    assert len(warned_in_rounds(2)) == 1
    learner.set_params(ood_label=99)  # another change: news
    [message] = warned_in_rounds(2)
    assert "query_strategy's parameters" in message and "ood_label changed" in message
    learner.set_params(query_strategy__random_state=0, ood_label=-1)  # as at fit
    assert warned_in_rounds(1) == []
    learner.set_params(ood_label=99)  # the same change made again
    assert len(warned_in_rounds(2)) == 1
    learner.set_params(ood_label=-1)  # as at fit again
    assert warned_in_rounds(1) == []
    learner.set_params(ood_label=99)  # the very change last warned of: news again
    assert len(warned_in_rounds(2)) == 1
    learner.set_params(ood_label=-1).fit(learner.X_labelled_, learner.y_labelled_)
    learner.set_params(ood_label=99)  # warned of before, but new since this fit
    assert len(warned_in_rounds(1)) == 1


@pytest.mark.filterwarnings("error")
def test_a_pickled_learner_queries_without_a_false_parameter_warning(split):
    # The check compared reprs, and a RandomState's (or a function's) holds its
    # address: any copy (pickle, save/load in another process) "had changed".
    strategy = UncertaintyQuery(random_state=np.random.RandomState(0))
    learner = _lr_learner(split, strategy)
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    learner.query(split.X_pool[rows], n_instances=5)
    pickle.loads(pickle.dumps(learner)).query(split.X_pool[rows], n_instances=5)
    learner.set_params(query_strategy__random_state=np.random.RandomState(1))
    with pytest.warns(UserWarning, match="set them there to change it now"):
        learner.query(split.X_pool[rows], n_instances=5)


def _first_columns(estimator, X):
    return X[:, :5]


@pytest.mark.parametrize("embedding", [None, PCA(5), _first_columns])
def test_a_learner_pickled_before_ood_label_and_embedding_were_fitted_goes_on(
    split, embedding
):
    # A state of the interactive campaign (or any learner saved before fit set
    # ood_label_ and embedding_) failed at its next teach: AttributeError.
    learner = _lr_learner(split, UncertaintyQuery(random_state=0))
    learner.set_params(embedding=embedding)
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    chosen, _ = learner.query(split.X_pool[rows], n_instances=5)
    state = learner.__getstate__()
    del state["ood_label_"]
    if not hasattr(embedding, "transform"):  # the old code kept only those
        del state["embedding_"]
    fitted = state.get("embedding_", embedding)  # a transformer: its clone
    old = ActiveLearner.__new__(ActiveLearner)
    old.__setstate__(state)
    X, y = split.X_pool[rows[chosen]], split.y_pool[rows[chosen]]
    assert old.teach(X, y).ood_label_ == -1 and old.embedding_ is fitted
    expected = copy.deepcopy(learner).teach(X, y)
    np.testing.assert_array_equal(
        old.query(split.X_pool[rows], n_instances=5)[0],
        expected.query(split.X_pool[rows], n_instances=5)[0],
    )


def test_a_learner_fitted_before_classes_were_sorted_is_warned_of_on_loading():
    # Saved before 2026-12-04 with classes=[5, 3], a learner loaded silently
    # with classes_ [5, 3]: scikit-learn's roc_auc scorer then gave 0.0003
    # for 0.9997, the misreading sorting classes_ had fixed.
    from sklearn.datasets import load_digits
    from sklearn.metrics import get_scorer

    X, digits = load_digits(return_X_y=True)
    X, y = X[np.isin(digits, [3, 5])], digits[np.isin(digits, [3, 5])]
    learner = ActiveLearner(LogisticRegression(max_iter=500), classes=[5, 3])
    learner.fit(X[:60], y[:60])
    state = learner.__getstate__()
    assert state["classes_"].tolist() == [3, 5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(learner))  # sorted: no word
    # As the old code fitted it: positions of the classes in the order given.
    state["classes_"] = np.array([5, 3])
    state["estimator_"] = LogisticRegression(max_iter=500).fit(X[:60], y[:60] == 3)
    old = ActiveLearner.__new__(ActiveLearner)
    with pytest.warns(UserWarning, match=r"classes_ in the order given \(\[5, 3\]\)"):
        old.__setstate__(state)
    assert get_scorer("roc_auc")(old, X, y) < 0.01  # what it warns of
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        old.fit(old.X_labelled_, old.y_labelled_)  # the remedy it gives
    assert old.classes_.tolist() == [3, 5]
    assert get_scorer("roc_auc")(old, X, y) > 0.99


def test_labels_encoded_by_cross_val_predict_are_named_with_the_remedy():
    # cross_val_predict(method="predict_proba") encodes y as 0..n-1 before
    # fitting: strings met ood_label="unknown" as numbers, "The labels are
    # numbers", where the user gave strings.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_predict

    X, digits = load_digits(return_X_y=True)
    names = np.array(["zero", "one", "two", "unknown"])
    y = names[np.minimum(digits[:300], 3)]
    learner = ActiveLearner(LogisticRegression(max_iter=300), ood_label="unknown")
    with pytest.raises(ValueError, match="a tool encoded them as 0..n-1.*IN rows only"):
        cross_val_predict(learner, X[:300], y, cv=3, method="predict_proba")
    is_in = y != "unknown"
    learner.set_params(ood_label=-1)
    proba = cross_val_predict(
        learner, X[:300][is_in], y[is_in], cv=3, method="predict_proba"
    )
    assert proba.shape == (is_in.sum(), 3)


def _random_batch(learner, X_pool, n_instances=1, random_state=None):
    idx = random_state.choice(len(X_pool), n_instances, replace=False)
    return idx, X_pool[idx]


@pytest.mark.filterwarnings("error")
def test_drawing_from_a_generator_bound_by_partial_is_no_parameter_change(split):
    # A partial was hashed whole, its RandomState by its state: every query
    # after the first "changed since fit".
    rng = np.random.RandomState(0)
    learner = _lr_learner(split, functools.partial(_random_batch, random_state=rng))
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    for _ in range(3):
        learner.query(split.X_pool[rows], n_instances=5)
    other = functools.partial(_random_batch, random_state=np.random.RandomState(0))
    learner.set_params(query_strategy=other)
    with pytest.raises(UserWarning, match="query_strategy's parameters changed"):
        learner.query(split.X_pool[rows], n_instances=5)


def test_a_learner_pickled_before_it_noted_its_warnings_warns_once_of_a_change(
    split,
):
    # Saved before _settings_warned_of was set at fit, it has none: read as
    # None, as the class default that stood for it did, not an AttributeError.
    learner = _lr_learner(split, UncertaintyQuery(random_state=0))
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    learner.query(split.X_pool[rows], n_instances=5)
    del learner.__dict__["_settings_warned_of"]
    learner = pickle.loads(pickle.dumps(learner))
    learner.set_params(ood_label=-2)
    with pytest.warns(UserWarning, match="ood_label changed since fit"):
        learner.query(split.X_pool[rows], n_instances=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.query(split.X_pool[rows], n_instances=5)


def _lazy_pca_embedding(pca, memo, estimator, X):
    """The rows' principal components, the PCA fitted on its first call."""
    key = X.tobytes()
    if key not in memo:
        fitted = hasattr(pca, "components_")
        memo[key] = pca.transform(X) if fitted else pca.fit_transform(X)
    return memo[key]


@pytest.mark.filterwarnings("error")
def test_a_partial_whose_objects_change_as_it_is_called_is_no_parameter_change(
    split,
):
    # Its arguments were hashed by content: a PCA fitted on the first call, or
    # a memo dict filled as it was used, "changed since fit" at every query.
    embedding = functools.partial(_lazy_pca_embedding, PCA(5, random_state=0), {})
    learner = _lr_learner(split, CoreSetQuery(random_state=0))
    learner.set_params(embedding=embedding)
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    for _ in range(2):
        chosen, _ = learner.query(split.X_pool[rows], n_instances=5)
        learner.teach(split.X_pool[rows[chosen]], split.y_pool[rows[chosen]])
        rows = np.delete(rows, chosen)
    pickle.loads(pickle.dumps(learner)).query(split.X_pool[rows], n_instances=5)
    learner.set_params(embedding=functools.partial(_lazy_pca_embedding, PCA(5), {}))
    with pytest.raises(UserWarning, match="embedding changed since fit"):
        learner.query(split.X_pool[rows], n_instances=5)


@pytest.mark.parametrize(
    "name, forgotten", [("embedding", PCA), ("query_strategy", UncertaintyQuery)]
)
def test_a_class_set_after_fit_is_a_parameter_change(split, name, forgotten):
    # Its fingerprint called the class's get_params: every query and teach
    # failed with "get_params() missing 1 required positional argument".
    learner = _lr_learner(split, UncertaintyQuery(random_state=0))
    learner.set_params(embedding=PCA(5))
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    learner.query(split.X_pool[rows], n_instances=5)
    learner.set_params(**{name: forgotten})
    with pytest.warns(UserWarning, match="changed since fit"):
        chosen, _ = learner.query(split.X_pool[rows], n_instances=5)
    with pytest.raises(TypeError, match=rf"{name} is the class .*\(\), with its"):
        learner.fit(split.X_pool[rows[chosen]], split.y_pool[rows[chosen]])


@pytest.mark.filterwarnings("error")
def test_drawing_from_the_strategys_random_state_is_no_parameter_change(split):
    # The RandomState was fingerprinted by its state: the user's own draws
    # from it warned at every query that the parameters had changed.
    rng = np.random.RandomState(0)
    learner = _lr_learner(split, UncertaintyQuery(random_state=rng))
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    for _ in range(2):
        rng.choice(rows, 10)
        learner.query(split.X_pool[rows], n_instances=5)


def test_a_failed_query_undoes_the_deferred_fit_on_the_initial_set(split):
    # The fit on X_training survived a failed query, so corrected
    # X_training and y_training were then silently ignored.
    learner = _lr_learner(split, UncertaintyQuery(random_state=0))
    with pytest.raises(ValueError, match="features"):
        learner.query(split.X_pool[:, :10], n_instances=5)
    assert not hasattr(learner, "estimator_")
    fewer = split.initial_idx[:-1]
    learner.set_params(X_training=split.X_pool[fewer], y_training=split.y_pool[fewer])
    learner.query(split.X_pool, n_instances=5)
    assert len(learner.y_labelled_) == len(fewer)


@pytest.mark.parametrize("seed", [0, None], ids=["seeded", "unseeded"])
@pytest.mark.parametrize("method", ["query", "teach", "strategy called directly"])
def test_a_call_that_failed_after_the_deferred_fit_is_retried_as_a_first_call(
    split, method, seed
):
    # The deferred fit of an unseeded forest drew from NumPy's global random
    # state, left advanced by a failed query (or teach, with a seeded
    # strategy): the retry fitted another forest and chose other rows.
    rows = np.setdiff1d(np.arange(300), split.initial_idx)
    pool = split.X_pool[rows]
    X_new, y_new = split.X_pool[rows[:10]], split.y_pool[rows[:10]]

    def new_learner():
        return ActiveLearner(
            RandomForestClassifier(n_estimators=5),
            UncertaintyQuery(random_state=seed),
            split.X_pool[split.initial_idx],
            split.y_pool[split.initial_idx],
        )

    def call(learner, fail=False):
        if method == "teach":
            learner.teach(X_new, np.full(10, 99) if fail else y_new)
            return learner.predict_proba(pool)
        X = pool[:, :10] if fail else pool  # a pool of other features
        if method == "query":
            return learner.query(X, n_instances=5)[0]
        return learner.query_strategy(learner, X, n_instances=5)[0]

    np.random.seed(0)  # noqa: NPY002 (the forest draws from it)
    first = call(new_learner())
    learner = new_learner()
    np.random.seed(0)  # noqa: NPY002
    with pytest.raises(ValueError, match="neither known classes|features"):
        call(learner, fail=True)
    assert not hasattr(learner, "estimator_")
    np.testing.assert_array_equal(call(learner), first)


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "decision_function", "score"]
)
def test_a_failed_prediction_undoes_the_deferred_fit_on_the_initial_set(split, method):
    # query and teach undid it, these did not: the learner stayed fitted, so
    # classes declared after the failure were ignored (with a warning only).
    learner = _lr_learner(split, UncertaintyQuery(random_state=0))
    other_features = split.X_pool[:20, :10]
    args = (np.zeros(20, int),) if method == "score" else ()
    with pytest.raises(ValueError, match="features"):
        getattr(learner, method)(other_features, *args)
    assert not hasattr(learner, "estimator_")
    X_test, y_test = split.X_test[:20], split.y_test[:20]
    assert learner.score(X_test, y_test) == _lr_learner(
        split, UncertaintyQuery(random_state=0)
    ).score(X_test, y_test)


@pytest.mark.parametrize("given", ["X_training", "y_training"])
def test_one_half_of_the_initial_set_is_named(split, given):
    # A lone y_training was dropped without a word by teach; a lone
    # X_training gave "call fit or teach first" from a teach.
    initial = {
        "X_training": split.X_pool[split.initial_idx],
        "y_training": split.y_pool[split.initial_idx],
    }
    learner = ActiveLearner(LogisticRegression(max_iter=300), **{given: initial[given]})
    missing = ({"X_training", "y_training"} - {given}).pop()
    for call in (
        lambda: learner.teach(split.X_pool[:10], split.y_pool[:10]),
        lambda: learner.query(split.X_pool, n_instances=5),
        lambda: learner.predict(split.X_pool),
    ):
        with pytest.raises(ValueError, match=f"{given} is given without {missing}"):
            call()


def test_scoring_a_class_the_initial_set_lacks_names_classes(split):
    learner = _lr_learner(split, UncertaintyQuery(random_state=0))
    in_rows = split.initial_idx[split.y_pool[split.initial_idx] != -1]
    learner.set_params(
        X_training=split.X_pool[in_rows][split.y_pool[in_rows] != 0],
        y_training=split.y_pool[in_rows][split.y_pool[in_rows] != 0],
    )
    with pytest.raises(ValueError, match=r"classes=\[\.\.\.\]"):
        learner.score(split.X_test, split.y_test)
    learner.set_params(classes=np.arange(split.n_classes))
    assert learner.score(split.X_test, split.y_test) > 0
    np.testing.assert_array_equal(learner.classes_, np.arange(split.n_classes))


@pytest.mark.parametrize(
    "strategy",
    [
        UncertaintyQuery(random_state=0),
        MQNetQuery(random_state=0),
        PurityInformativenessQuery(random_state=0),
    ],
    ids=lambda strategy: type(strategy).__name__,
)
def test_a_strategy_called_directly_fits_on_the_initial_set_as_query_does(
    split, strategy
):
    # It read X_training as a modAL learner's: refused for the OOD rows in
    # y_training with a modAL remedy, or NotFittedError.
    learner = _lr_learner(split, strategy)
    assert np.any(learner.y_training == -1)
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    with pytest.raises(ValueError, match="features"):
        strategy(learner, split.X_pool[rows][:, :10], n_instances=5)
    assert not hasattr(learner, "estimator_")  # the fit is undone, as by query
    expected, _ = copy.deepcopy(learner).query(split.X_pool[rows], n_instances=5)
    chosen, _ = strategy(learner, split.X_pool[rows], n_instances=5)
    np.testing.assert_array_equal(chosen, expected)
    assert len(learner.y_labelled_) == len(split.initial_idx)


def test_the_learner_is_a_classifier_to_scikit_learn():
    # Without the tag, cross_val_score split iris (sorted by class) into plain
    # folds, each holding a class its training part never saw: accuracy 0.
    X, y = load_iris(return_X_y=True)
    learner = ActiveLearner(LogisticRegression(max_iter=500))
    assert is_classifier(learner)
    assert cross_val_score(learner, X, y, cv=3).min() > 0.9
    takes_nan = ActiveLearner(HistGradientBoostingClassifier())
    assert get_tags(takes_nan).input_tags.allow_nan
    assert not get_tags(learner).input_tags.allow_nan


def test_a_refit_leaves_no_fitted_attribute_of_the_last_fit(split, initial):
    X, y = initial
    learner = ActiveLearner(LogisticRegression(max_iter=300), embedding=PCA(2))
    learner.fit(X, y)
    assert learner.n_features_in_ == X.shape[1]
    learner.set_params(embedding=None).fit(X, y)
    # The old PCA went on embedding the rows for distance-based strategies.
    assert learner.embedding_ is None


def test_a_refit_on_an_array_forgets_the_column_names_of_the_last_fit(initial):
    # Fitted on a DataFrame, then again on an array, the learner kept the
    # frame's feature_names_in_: a later DataFrame of other columns was
    # refused as not those the learner had been fitted on.
    pd = pytest.importorskip("pandas")
    X, y = initial
    names = [f"pixel_{i}" for i in range(X.shape[1])]
    learner = lr_learner().fit(pd.DataFrame(X, columns=names), y)
    assert list(learner.feature_names_in_) == names
    learner.fit(X, y)
    assert not hasattr(learner, "feature_names_in_")
    other = pd.DataFrame(X, columns=[f"other_{i}" for i in range(X.shape[1])])
    # scikit-learn's warning, as for any classifier fitted on an array.
    with pytest.warns(UserWarning, match="fitted without feature names"):
        indices, X_query = learner.query(other, n_instances=3)
    assert len(indices) == 3 and list(X_query.columns) == list(other.columns)


def test_a_learner_saved_with_setting_reprs_does_not_warn(split):
    # Learners saved the day before stored reprs: every query of theirs
    # warned that the parameters had changed (advising a refit, which throws
    # MQ-Net's state away).
    learner = _lr_learner(split, UncertaintyQuery(random_state=0))
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    learner.query(split.X_pool[rows], n_instances=5)
    learner._strategy_settings = {"random_state": "0", "score": "'least_confidence'"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.query(split.X_pool[rows], n_instances=5)


class _DrawingStrategy:
    """A callable strategy of one's own whose state changes as it queries."""

    def __init__(self):
        self.rng = np.random.RandomState(0)

    def __call__(self, learner, X_pool, n_instances=1):
        return self.rng.choice(len(X_pool), n_instances, replace=False)


@pytest.mark.filterwarnings("error")
def test_a_callable_strategy_drawing_from_its_own_state_is_no_change(split):
    learner = _lr_learner(split, _DrawingStrategy())
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    learner.query(split.X_pool[rows], n_instances=5)
    learner.query(split.X_pool[rows], n_instances=5)


class _Untagged:
    """A classifier of one's own: fit, predict_proba, get_params, no tags."""

    def __init__(self):
        self.model = LogisticRegression(max_iter=300)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y):
        self.model.fit(X, y)
        self.classes_ = self.model.classes_
        return self

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        return self.model.predict_proba(X)


def test_a_classifier_without_scikit_learn_tags_is_still_a_classifier():
    learner = ActiveLearner(_Untagged())
    assert is_classifier(learner)
    assert not get_tags(learner).input_tags.allow_nan
    assert "ActiveLearner" in learner._repr_html_()


def _take_first(learner, X_pool, n_instances=1, reverse=False):
    order = np.arange(len(X_pool))
    return order[::-1][:n_instances] if reverse else order[:n_instances]


def _take_rows(learner, X_pool, n_instances=1, rows=()):
    """The pool's rows `rows`, a tuple of indices."""
    return np.array(rows[:n_instances])


@pytest.mark.filterwarnings("error")
def test_a_partials_tuple_of_values_is_compared_by_its_values(split):
    # Plain data, as numbers and arrays are: an equal tuple set again is no
    # change; the function may not fill it, as it may a list (a memo).
    learner = _lr_learner(split, functools.partial(_take_rows, rows=(0, 1, 2)))
    pool = split.X_pool[np.setdiff1d(np.arange(200), split.initial_idx)]
    learner.query(pool, n_instances=3)
    learner.set_params(query_strategy=functools.partial(_take_rows, rows=(0, 1, 2)))
    learner.query(pool, n_instances=3)
    learner.set_params(query_strategy=functools.partial(_take_rows, rows=(2, 1, 0)))
    with pytest.raises(UserWarning, match="query_strategy's parameters changed"):
        learner.query(pool, n_instances=3)


def test_a_new_partial_strategy_is_warned_of(split):
    # Every callable without get_params was known by its type, so one
    # functools.partial replacing another went unnoticed.
    learner = _lr_learner(split, functools.partial(_take_first, reverse=False))
    rows = np.setdiff1d(np.arange(200), split.initial_idx)
    learner.query(split.X_pool[rows], n_instances=3)
    learner.set_params(query_strategy=functools.partial(_take_first, reverse=True))
    with pytest.warns(UserWarning, match="set them there to change it now"):
        learner.query(split.X_pool[rows], n_instances=3)


@pytest.mark.parametrize(
    "estimator, message",
    [
        (Ridge(), "Ridge is a regressor, whose predictions are no classes"),
        (make_pipeline(StandardScaler(), Ridge()), "Pipeline is a regressor"),
        (KMeans(3, n_init=1), "KMeans is a clusterer"),
        (IsolationForest(random_state=0), "IsolationForest is an outlier detector"),
        (StandardScaler(), "with fit and predict .*; got StandardScaler"),
    ],
)
def test_an_estimator_that_is_no_classifier_is_refused_at_fit(
    split, estimator, message
):
    # A regressor's outputs were read as class positions (2.7 the third
    # class), a clusterer's cluster ids as classes: predict and score gave
    # numbers without a word; a scaler failed at predict with AttributeError.
    learner = ActiveLearner(estimator, RandomQuery(random_state=0))
    X, y = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    with pytest.raises(TypeError, match=message):
        learner.fit(X, y)


def test_a_meta_classifier_without_its_estimator_is_told_to_pass_one(split):
    # scikit-learn >= 1.7 shows its predict only once given an estimator, so
    # it was refused as "no classifier with fit and predict", naming no
    # cause; 1.6 shows predict, and its fit says so itself.
    learner = ActiveLearner(SelfTrainingClassifier(), RandomQuery(random_state=0))
    X, y = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    message = (
        r"Its estimator is None.*SelfTrainingClassifier\(estimator=Logistic"
        "|You must pass an estimator to SelfTrainingClassifier"
    )
    with pytest.raises((TypeError, ValueError), match=message):
        learner.fit(X, y)


def test_a_classifier_without_scikit_learns_tags_is_taken_at_its_word(split):
    class Majority:  # duck-typed, with no BaseEstimator and so no tags
        def get_params(self, deep=True):
            return {}

        def set_params(self, **params):
            return self

        def fit(self, X, y):
            self.n_ = int(np.max(y)) + 1
            return self

        def predict(self, X):
            return np.zeros(len(X), dtype=int)

        def predict_proba(self, X):
            return np.full((len(X), self.n_), 1 / self.n_)

    learner = ActiveLearner(Majority(), RandomQuery(random_state=0))
    learner.fit(split.X_pool[split.initial_idx], split.y_pool[split.initial_idx])
    assert set(learner.predict(split.X_pool[:5])) == {learner.classes_[0]}


@pytest.mark.parametrize(
    "labels, ood_label, mistaken",
    [
        ([True, False, 0, True], 0, "[False], which are booleans"),
        ([1, 0, False, 2], False, "[0], which are numbers"),
        # Named as the user writes them, not as np.False_.
        ([np.True_, np.False_, np.float32(0)], np.float32(0), "[False], which are"),
    ],
)
def test_an_ood_label_equal_to_labels_of_the_other_kind_is_refused(
    labels, ood_label, mistaken
):
    # False == 0: with boolean classes and ood_label=0, every False row was
    # silently dropped as OOD (and with ood_label=False, every class 0 row).
    y = np.array(labels * 5, dtype=object)
    X = np.arange(len(y) * 2, dtype=float).reshape(-1, 2)
    learner = ActiveLearner(RandomForestClassifier(random_state=0), RandomQuery())
    learner.set_params(ood_label=ood_label)
    shown = ood_label.item() if isinstance(ood_label, np.generic) else ood_label
    with pytest.raises(ValueError, match=rf"ood_label={shown!r} equals the labels"):
        learner.fit(X, y)
    with pytest.raises(ValueError, match=re.escape(mistaken)):
        learner.fit(X, y)


def test_a_list_of_classes_and_the_ood_label_keeps_each_labels_kind(initial):
    # numpy read [2, 'unknown'] as ['2', 'unknown']: the classes became the
    # strings '0'..'3', and the integer labels of the test set matched none.
    X, y = initial
    labels = [int(v) if v != -1 else "unknown" for v in y]
    learner = ActiveLearner(
        LogisticRegression(max_iter=300),
        RandomQuery(random_state=0),
        ood_label="unknown",
    ).fit(X, labels)
    assert learner.classes_.tolist() == sorted(set(y.tolist()) - {-1})
    assert learner.score(X[y != -1], y[y != -1]) > 0.5


def test_a_list_of_bool_classes_and_a_numeric_ood_label_keeps_the_bools():
    # numpy read [True, False, -1] as [1, 0, -1]: the classes became 0 and 1,
    # and the learner predicted numbers, not the labels given.
    X = np.random.RandomState(0).rand(30, 2)
    learner = ActiveLearner(LogisticRegression()).fit(X, [True, False, -1] * 10)
    assert learner.classes_.tolist() == [False, True]
    assert all(isinstance(v, bool) for v in learner.predict(X).tolist())


def test_a_strategy_in_a_partial_is_cloned_and_learns_from_teach(split, batches):
    # The partial has no update, so MQ-Net's was skipped without a word; and
    # the strategy inside was used, not cloned, so fit left it as it was.
    strategy = MQNetQuery(random_state=0)
    learner = _lr_learner(split, functools.partial(strategy, n_instances=5))
    rest = np.setdiff1d(np.arange(len(split.y_pool)), split.initial_idx)
    indices, _ = learner.query(split.X_pool[rest], n_instances=20)
    learner.teach(split.X_pool[rest][indices], split.y_pool[rest][indices])
    assert hasattr(learner.query_strategy_.func, "validation_target_")
    assert not hasattr(strategy, "validation_target_")


def test_the_strategy_inside_a_partial_of_a_partial_is_the_one_called():
    # functools.partial merges a partial into a new one, unless it has
    # attributes of its own: then one wraps the other.
    strategy = RandomQuery(random_state=0)
    inner = functools.partial(strategy, n_instances=5)
    inner.label = "five at a time"
    outer = functools.partial(inner)
    assert outer.func is inner
    assert called_strategy(outer) is strategy


def test_a_partials_preset_n_instances_is_what_a_query_chooses(split):
    # query passed its own default of 1 over the preset (modAL's way).
    strategy = functools.partial(RandomQuery(random_state=0), n_instances=5)
    learner = _lr_learner(split, strategy)
    rest = np.setdiff1d(np.arange(len(split.y_pool)), split.initial_idx)
    assert len(learner.query(split.X_pool[rest])[0]) == 5
    assert len(learner.query(split.X_pool[rest], n_instances=2)[0]) == 2
    learner.set_params(query_strategy=RandomQuery(random_state=0)).fit(
        split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    )
    assert len(learner.query(split.X_pool[rest])[0]) == 1
    # A partial that presets something else: the query's default, as for
    # its function, over the function's own.
    learner.set_params(query_strategy=functools.partial(_take_three, reverse=True)).fit(
        split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    )
    assert len(learner.query(split.X_pool[rest])[0]) == 1


def _take_three(learner, X_pool, n_instances=3, reverse=False):
    order = np.arange(len(X_pool))
    return order[::-1][:n_instances] if reverse else order[:n_instances]


class _UnreadableSignature:
    """A strategy whose signature inspect cannot read, as some compiled
    callables' (inspect.signature raises)."""

    __signature__ = "unreadable"

    def __call__(self, learner, X_pool, n_instances=1):
        return np.arange(n_instances)


def test_a_strategy_whose_signature_cannot_be_read_is_given_n_instances(split):
    learner = _lr_learner(split, _UnreadableSignature())
    rest = np.setdiff1d(np.arange(len(split.y_pool)), split.initial_idx)
    assert len(learner.query(split.X_pool[rest])[0]) == 1
    assert len(learner.query(split.X_pool[rest], n_instances=3)[0]) == 3


def _first_row(classifier, X_pool):
    """The custom strategy of modAL's "Extending modAL", made deterministic:
    it takes no n_instances."""
    return np.array([0]), X_pool[:1]


def test_a_strategy_function_without_n_instances_is_given_none(split):
    # query passed n_instances=1 whatever the function took: modAL's own
    # example strategy failed with a TypeError from inside the user's code.
    learner = _lr_learner(split, _first_row)
    rest = np.setdiff1d(np.arange(len(split.y_pool)), split.initial_idx)
    indices, _ = learner.query(split.X_pool[rest])
    np.testing.assert_array_equal(indices, [0])
    with pytest.raises(TypeError, match="n_instances"):  # asked for: passed
        learner.query(split.X_pool[rest], n_instances=2)


def test_a_list_of_zero_dimensional_label_arrays_is_read_as_their_values(initial):
    # Reading a mixed list as objects kept np.array('a') an array: unhashable.
    X, y = initial
    names = np.array(["unknown", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
    labels = [np.array(v) for v in names[y + 1]]
    learner = ActiveLearner(
        LogisticRegression(max_iter=300),
        RandomQuery(random_state=0),
        ood_label="unknown",
    ).fit(X, labels)
    assert learner.classes_.tolist() == sorted(set(names[y + 1].tolist()) - {"unknown"})


SCORES = {**_model_scores.PURITY_SCORES, **_model_scores.INFORMATIVENESS_SCORES}


@pytest.mark.parametrize("name", SCORES)
def test_a_score_of_a_learner_not_fitted_yet_says_to_fit_it(name):
    # It read the learner as a modAL one: "The modAL learner's y_training
    # holds 6 rows labelled ood_label=-1", though ours may hold them, or gave
    # skorch's "not initialized" of the classifier template.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = np.where(np.arange(40) % 5 == 0, -1, np.arange(40) % 3)
    learner = ActiveLearner(
        make_mlp_classifier(3, 3, max_epochs=1), X_training=X[:30], y_training=y[:30]
    )
    with pytest.raises(NotFittedError, match=r"learner\.fit\(learner\.X_training"):
        SCORES[name](learner, X[30:])


def test_check_is_fitted_answers_as_the_methods_and_attributes_do(split, initial):
    # The contract, object by object (no old code failed it): scikit-learn's
    # tools read fitted attributes once check_is_fitted passes, so a learner
    # whose deferred fit has not run is not fitted, though its predict would
    # fit it first; to say fitted would turn partial_dependence's and
    # FrozenEstimator's NotFittedError into "no attribute 'classes_'".
    from sklearn.utils.validation import check_is_fitted

    from skal_openset import MetaInputTransformer, PurityAUROC, SkactivemlQuery

    learner = ActiveLearner(
        LogisticRegression(), X_training=initial[0], y_training=initial[1]
    )
    with pytest.raises(NotFittedError):
        check_is_fitted(learner)
    assert not hasattr(learner, "classes_")
    learner.predict(split.X_pool[:2])
    check_is_fitted(learner)
    assert hasattr(learner, "classes_")
    # Nothing to fit: they work as they are, and are no estimators to it.
    not_fitted = [
        RandomQuery(),
        MQNetQuery(),
        SkactivemlQuery(object()),
        OpenSetOracle(split.y_pool),
        PurityAUROC(split, {"msp": "msp"}, random_state=0),
    ]
    for obj in not_fitted:
        with pytest.raises(TypeError, match="is not an estimator instance"):
            check_is_fitted(obj)
    # Fitted by fit alone, as their methods need.
    rng = np.random.RandomState(0)
    X, y = rng.rand(12, 2), rng.rand(12)
    for estimator, method in [
        (MetaQueryNetSelector(max_epochs=1, random_state=0), "predict"),
        (MetaInputTransformer(), "transform"),
    ]:
        with pytest.raises(NotFittedError):
            check_is_fitted(estimator)
        with pytest.raises(NotFittedError):
            getattr(estimator, method)(X)
        check_is_fitted(estimator.fit(X, y))


def test_a_query_interrupted_after_its_strategy_returned_leaves_the_strategy_as_it_was(
    monkeypatch,
):
    # The strategy's own rollback had closed, and the learner's is shallow:
    # the RandomState it was given stayed drawn from, so the retry chose
    # other rows than a query that was never interrupted.
    X, y = load_iris(return_X_y=True)

    def learner():
        strategy = RandomQuery(random_state=np.random.RandomState(0))
        return ActiveLearner(LogisticRegression(), strategy).fit(X[::3], y[::3])

    interrupted, uninterrupted = learner(), learner()
    drawn = interrupted.query_strategy_.random_state.get_state()[2]
    checked = _learner._chosen_positions

    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(_learner, "_chosen_positions", interrupt)
    with pytest.raises(KeyboardInterrupt):
        interrupted.query(X, n_instances=5)
    monkeypatch.setattr(_learner, "_chosen_positions", checked)
    assert interrupted.query_strategy_.random_state.get_state()[2] == drawn
    np.testing.assert_array_equal(
        interrupted.query(X, n_instances=5)[0], uninterrupted.query(X, n_instances=5)[0]
    )


def test_a_strategy_holding_an_object_that_cannot_be_copied_still_queries():
    # Called directly (modAL's way), with a scorer that holds a lock: the
    # strategy's copy of what its parameters hold, to put back after a
    # failure, cannot copy it, and leaves it to itself.
    X, y = load_iris(return_X_y=True)
    y = np.where(y < 2, y, -1)

    class Scorer:
        def __init__(self):
            self.lock, self.calls = threading.Lock(), 0

        def least_confident(self, learner, X):
            with self.lock:
                self.calls += 1
            return 1 - learner.predict_proba(X).max(axis=1)

    scorer = Scorer()
    strategy = MQNetQuery(informativeness=scorer.least_confident, random_state=0)
    learner = ActiveLearner(LogisticRegression(max_iter=300), RandomQuery())
    learner.fit(X[::5], y[::5])
    indices, _ = strategy(learner, X[1::2], n_instances=5)
    assert len(set(indices.tolist())) == 5 and scorer.calls == 1


def test_a_seeded_strategy_object_without_parameters_queries_and_teaches(split):
    # A callable object keeping its own seed, modAL-style, has no get_params
    # to look into for an unseeded estimator: it draws nothing globally.
    class Seeded:
        random_state = 0

        def __call__(self, learner, X_pool, n_instances=1):
            rng = np.random.RandomState(self.random_state)
            rows = rng.choice(len(X_pool), n_instances, replace=False)
            return rows, X_pool[rows]

    learner = _lr_learner(split, Seeded())
    rows = np.setdiff1d(np.arange(120), split.initial_idx)
    indices, X_query = learner.query(split.X_pool[rows], n_instances=5)
    learner.teach(X_query, split.y_pool[rows[indices]])
    assert learner.y_labelled_.size == split.initial_idx.size + 5
    assert not _atomic.draws_globally(Seeded())


def test_a_failed_query_leaves_the_objects_its_strategy_holds_as_they_were():
    # MQNetQuery(purity=LfOSAQuery().in_probability): the failed query left
    # the LfOSA detector and mixtures fitted on its pool, which the retry on
    # another pool reused, and its unseeded draws moved NumPy's global state.
    X, y = load_iris(return_X_y=True)
    y = np.where(y < 2, y, -1)
    failing = [False]

    def informativeness(learner, X):
        if failing[0]:
            raise KeyboardInterrupt
        return 1 - learner.predict_proba(X).max(axis=1)

    def learner():
        strategy = MQNetQuery(
            purity=LfOSAQuery().in_probability,
            informativeness=informativeness,
            random_state=0,
        )
        net = make_mlp_classifier(4, 2, hidden_sizes=(8,), max_epochs=2, random_state=0)
        return ActiveLearner(net, strategy).fit(X[::5], y[::5])

    interrupted, uninterrupted = learner(), learner()
    lfosa = interrupted.query_strategy_.purity.__self__
    unfitted = sorted(vars(lfosa))
    states = global_random_states()
    failing[0] = True
    with pytest.raises(KeyboardInterrupt):
        interrupted.query(X[1::2], n_instances=5)
    failing[0] = False
    assert sorted(vars(lfosa)) == unfitted
    assert_global_random_states_are(states)
    retried = interrupted.query(X[::2], n_instances=5)[0]
    np.random.set_state(states[0])  # noqa: NPY002 (where the retry started)
    torch.set_rng_state(states[1])
    np.testing.assert_array_equal(
        retried, uninterrupted.query(X[::2], n_instances=5)[0]
    )


class _PoolsSeen:
    """A purity score's object that keeps, in place, the size of each pool
    it scores (as a cache of an encoder fitted on the pool)."""

    def __init__(self):
        self.pools = []
        self.failing = False

    def purity(self, learner, X):
        self.pools.append(len(X))
        if self.failing:
            raise KeyboardInterrupt
        return learner.predict_proba(X).max(axis=1)


def test_a_failed_query_puts_back_what_it_changed_in_place_in_an_object_held():
    # The held object's attributes were copied shallow: a list (or an
    # encoder) the failed query changed in place stayed changed.
    X, y = load_iris(return_X_y=True)
    y = np.where(y < 2, y, -1)
    seen = _PoolsSeen()
    strategy = MQNetQuery(purity=seen.purity, random_state=0)
    net = make_mlp_classifier(4, 2, hidden_sizes=(8,), max_epochs=2, random_state=0)
    learner = ActiveLearner(net, strategy).fit(X[::5], y[::5])
    held = learner.query_strategy_.purity.__self__
    before = list(held.pools)
    held.failing = True
    with pytest.raises(KeyboardInterrupt):
        learner.query(X[1::2], n_instances=5)
    assert held.pools == before


@pytest.mark.filterwarnings("ignore:lbfgs failed to converge")
def test_errors_of_many_classes_show_the_first_and_count_them():
    # Each listed every known class: 500 of them made messages of 4-8 KB.
    names = [f"c{i:03d}" for i in range(500)]
    X, y = np.arange(1000.0).reshape(-1, 1), np.array(names * 2)
    shown = r"\['c000', 'c001', .*, 'c019', \.\.\.\] \(500 classes\)"

    def learner(**params):
        return ActiveLearner(LogisticRegression(max_iter=5), **params)

    with pytest.raises(ValueError, match=f"is one of the known classes {shown};"):
        learner(classes=names, ood_label="c000").fit(X, y)
    weights = {f"d{i}": 1.0 for i in range(30)}
    with pytest.raises(
        ValueError, match=rf"\(30 keys\) that are no known class {shown}:"
    ):
        learner(classes=names, ood_label="-").set_params(
            estimator__class_weight=weights
        ).fit(X, y)
    fitted = learner(ood_label="-").fit(X, y)
    with pytest.raises(
        ValueError, match=f"in 2 rows that are neither known classes {shown} nor"
    ):
        fitted.score(X[:2], ["a", "b"])
    with pytest.raises(ValueError) as error:
        fitted.teach(X[:2], ["a", "b"])
    message = str(error.value)
    assert re.search(f"neither known classes {shown} nor", message)
    # The code to paste names the classes by the attribute that holds them.
    assert "set_params(classes=list(learner.classes_) + ['a', 'b'])" in message
    assert len(message) < 1000


@pytest.mark.filterwarnings("ignore:lbfgs failed to converge")
def test_teaching_many_new_labels_names_them_by_y_in_the_code_to_paste():
    # The message showed the first 20 new labels, then listed every one in
    # the code to paste: 5,000 of them made a message of 50 KB.
    X, y = np.arange(60.0).reshape(-1, 1), np.arange(60) % 3
    learner = ActiveLearner(LogisticRegression(max_iter=5)).fit(X, y)
    new = np.arange(5000) + 10
    with pytest.raises(ValueError) as error:
        learner.teach(np.arange(5000.0).reshape(-1, 1), new)
    message = str(error.value)
    assert "(5000 labels) are neither known classes [0, 1, 2]" in message
    code = "sorted(set(learner.classes_) | set(y) - {-1})"
    assert f"set_params(classes={code}).fit(" in message
    assert len(message) < 1000
    # As pasted, it lists every class.
    assert eval(code, {"learner": learner, "y": new}) == [0, 1, 2, *new.tolist()]


@pytest.mark.parametrize("length", [58, 59])
def test_a_new_label_the_message_shortens_is_named_by_y_in_the_code_to_paste(length):
    # Listed only where the message shows it whole: a name whose repr runs
    # over 60 characters is shown cut, and pasted cut it would name no label.
    X, y = np.arange(60.0).reshape(-1, 1), np.array(["a", "b", "c"] * 20)
    learner = ActiveLearner(LogisticRegression(), ood_label="-").fit(X, y)
    new = "n" * length
    with pytest.raises(ValueError) as error:
        learner.teach(X[:1], [new])
    code = re.search(r"set_params\(classes=(.*)\)\.fit\(", str(error.value)).group(1)
    if length == 58:
        assert code == str(["a", "b", "c", new])
    else:
        assert code == "sorted(set(learner.classes_) | set(y) - {'-'})"
    assert eval(code, {"learner": learner, "y": [new]}) == ["a", "b", "c", new]


def test_score_counts_the_unknown_labels_it_shows():
    # It showed the first 5 of 30 unknown labels with no sign of the others,
    # as if those 5 were the labels of the 30 rows.
    X, y = np.arange(60.0).reshape(-1, 1), np.arange(60) % 3
    learner = ActiveLearner(LogisticRegression()).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"^y holds labels \[10, 11, .*, 29, \.\.\.\] \(30 labels\) in 30 rows",
    ):
        learner.score(X[:30], np.arange(30) + 10)


def test_many_unsorted_classes_of_a_frozen_classifier_show_the_first_20():
    # The refusal listed every class three times: 500 made 12 KB.
    from sklearn.frozen import FrozenEstimator
    from sklearn.tree import DecisionTreeClassifier

    names = [f"c{i:03d}" for i in range(500)]
    X, y = np.arange(1000.0).reshape(-1, 1), np.array(names * 2)
    frozen = FrozenEstimator(DecisionTreeClassifier().fit(X, np.arange(1000) % 500))
    learner = ActiveLearner(frozen, classes=names[::-1], ood_label="-")
    with pytest.raises(ValueError) as error:
        learner.fit(X, y)
    message = str(error.value)
    assert re.match(r"classes=\['c499', 'c498', .*\] \(500 classes\) are not", message)
    # The code to paste names the classes by the parameter that holds them.
    code = "sorted(learner.classes)"
    assert f"Pass classes={code}, with the classifier fitted on " in message
    assert f"LabelEncoder().fit({code}).transform(y_in)" in message
    assert len(message) < 1000


def test_a_classifier_fitted_on_many_labels_shows_them_the_first_20():
    # The refusal listed every class three times: 500 made 9 KB.
    from sklearn.frozen import FrozenEstimator
    from sklearn.tree import DecisionTreeClassifier

    X, y = np.arange(1000.0).reshape(-1, 1), np.arange(1000) % 500 + 1000
    frozen = FrozenEstimator(DecisionTreeClassifier().fit(X, y))
    with pytest.raises(ValueError) as error:
        ActiveLearner(frozen).fit(X, y)
    message = str(error.value)
    first = str(list(range(1000, 1020)))[:-1]
    assert f"has classes_ {first}, ...] (500 classes), but" in message
    assert f"in its classes {first}, ...] (500 classes), and" in message
    # The code to paste names them by the labels of y, which they were
    # inferred from: it listed all 500.
    code = "sorted(set(y) - {learner.ood_label})"
    assert f"LabelEncoder().fit({code}).transform(y_in)" in message
    assert len(message) < 1000


class _ClassesEcho(ClassifierMixin, BaseEstimator):
    """A classifier, not a skorch net, whose classes_ echo its classes."""

    def __init__(self, classes=None):
        self.classes = classes

    def fit(self, X, y):
        self.classes_ = np.asarray(self.classes)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


@pytest.mark.parametrize(
    "source", ["declared", "inferred", "parameter", "parameter_unpiped", "taught"]
)
def test_the_code_to_paste_for_a_classifier_fitted_on_labels_names_the_classes(
    source,
):
    # Shortened in the message, 240 classes were listed in full in the code
    # to paste, which now names them by where they came from.
    from sklearn.frozen import FrozenEstimator
    from sklearn.tree import DecisionTreeClassifier

    X, y = np.arange(960.0).reshape(-1, 1), np.arange(960) % 240 * 10
    on_labels = FrozenEstimator(DecisionTreeClassifier().fit(X, y))
    if source.startswith("parameter"):
        echo = _ClassesEcho(np.unique(y).tolist())
        # learner.estimator[-1].classes in a Pipeline, learner.estimator.classes out
        learner = ActiveLearner(echo if "unpiped" in source else make_pipeline(echo))
    elif source == "taught":
        learner = ActiveLearner(DecisionTreeClassifier()).fit(X, y)
        learner.set_params(estimator=on_labels)
    else:
        learner = ActiveLearner(on_labels)
        learner.set_params(classes=np.unique(y) if source == "declared" else None)
    y[::7] = -1  # OOD rows, which the classifier is not fitted on
    with pytest.raises(ValueError, match="fitted on those positions") as error:
        learner.teach(X, y) if source == "taught" else learner.fit(X, y)
    message = str(error.value)
    assert len(message) < 1000
    code = re.search(r"on those positions, (.*\))(?:, not| for the)", message)[1]
    # As pasted, with y the learner's labels and y_in its IN rows' labels, it
    # gives their positions in the classes.
    in_labels = y[y != -1]
    pasted = {"np": np, "sklearn": sklearn, "learner": learner, "y": y}
    positions = eval(code, pasted | {"y_in": in_labels})
    np.testing.assert_array_equal(positions, in_labels // 10)
    # Pasted with OOD rows left in, it refuses them: np.searchsorted(classes,
    # y) took each for the class at position 0.
    with pytest.raises(ValueError, match="previously unseen labels"):
        eval(code, pasted | {"y_in": y})


def test_the_code_to_paste_for_a_classifier_fitted_on_a_few_labels_lists_them():
    # Shown whole in the message, the classes are listed in the code too,
    # which then runs as it is, whatever the user named the learner.
    from sklearn.frozen import FrozenEstimator
    from sklearn.tree import DecisionTreeClassifier

    X, y = np.arange(8.0).reshape(-1, 1), np.array(["cat", "dog"] * 4)
    frozen = FrozenEstimator(DecisionTreeClassifier().fit(X, y))
    learner = ActiveLearner(frozen, ood_label="unknown")
    with pytest.raises(ValueError, match="fitted on those positions") as error:
        learner.fit(X, y)
    code = re.search(r"on those positions, (.*\)) for the", str(error.value))[1]
    assert "['cat', 'dog']" in code
    # Pasted where no name "learner" is bound: it runs as it is.
    positions = eval(code, {"np": np, "sklearn": sklearn, "y_in": y})
    np.testing.assert_array_equal(positions, [0, 1] * 4)


@pytest.mark.filterwarnings("ignore:lbfgs failed to converge")
def test_other_errors_of_many_classes_show_the_first_and_count_them():
    # The same lists of every class in the errors the first fix left.
    names = [f"c{i:03d}" for i in range(500)]
    X, y = np.arange(1000.0).reshape(-1, 1), np.array(names * 2)
    shown = r"\['c000', 'c001', .*, 'c019', \.\.\.\] \(500 classes\)"
    with pytest.raises(ValueError, match=f"has 500 classes {shown}: give one"):
        ActiveLearner(GaussianNB(priors=[0.5, 0.5]), ood_label="-").fit(X, y)
    with pytest.raises(ValueError, match=f"is no known class {shown}: the"):
        ActiveLearner(
            DummyClassifier(strategy="constant", constant="x"), ood_label="-"
        ).fit(X, y)
    fitted = ActiveLearner(LogisticRegression(max_iter=5), ood_label="-").fit(X, y)
    with pytest.raises(ValueError, match=f"but the classes {shown} are"):
        fitted.score(X[:2], [1, 2])
    with pytest.raises(ValueError, match=f"among the known classes {shown}."):
        _model_scores.encode_labels(np.array(names), np.array(["a", "c001"]))
