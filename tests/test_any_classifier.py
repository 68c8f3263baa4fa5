"""What a scikit-learn user brings: any classifier, their own labels, pipelines,
DataFrames, image layouts, and the modAL / scikit-activeml loops.

The strategy template in test_strategies.py runs every strategy on five
classifier kinds; these tests cover the learner around them.
"""

import copy
import dataclasses
import functools
import pickle
import re
import warnings
from typing import Any

import numpy as np
import pytest
import sklearn
import torch
from numpy.random import RandomState
from packaging.version import Version
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import make_column_transformer
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
)
from sklearn.exceptions import DataConversionWarning
from sklearn.feature_selection import SelectKBest
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import GridSearchCV, ParameterGrid, RandomizedSearchCV
from sklearn.model_selection._search import BaseSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    LabelEncoder,
    OneHotEncoder,
    StandardScaler,
)
from sklearn.svm import SVC, LinearSVC
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit

import skal_openset
from _ctrl_c import ctrl_c_at_epoch
from _random_states import (
    assert_global_random_states_are,
    drawing_then_interrupted,
    global_random_states,
)
from skal_openset import (
    ActiveLearner,
    BadgeQuery,
    CCALQuery,
    CoreSetQuery,
    EOALQuery,
    LearningLossQuery,
    LfOSAQuery,
    MQNetQuery,
    OpenSetOracle,
    PurityInformativenessQuery,
    QueryStrategy,
    RandomQuery,
    SimilarQuery,
    SkactivemlQuery,
    UncertaintyQuery,
    embed,
    knn_contrast_purity,
    learning_loss_or_confidence,
    load_digits_dataset,
    make_cnn_classifier,
    make_mlp_classifier,
    make_open_set_split,
    predict_logits,
    predicted_loss,
    teach_open_set,
)
from skal_openset._labels import label_array
from skal_openset._model_scores import (
    PURITY_SCORES,
    class_logits,
    class_probabilities,
    compute_score,
    model_embedding,
    per_example_loss,
)

NAMES = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                  "eight", "nine"])  # fmt: skip


def user_data(kind):
    """Digits with the user's own labels: 3, 5, 7, 9 and -1, or names and 'unknown'."""
    X, y = load_digits_dataset()
    keep = np.isin(y, [3, 5, 7, 9])
    if kind == "ints":
        return X, np.where(keep, y, -1), -1, [3, 5, 7, 9]
    return X, np.where(keep, NAMES[y], "unknown"), "unknown", list(NAMES[[3, 5, 7, 9]])


def mlp(n_classes=4, **kwargs):
    return make_mlp_classifier(
        64, n_classes, hidden_sizes=(32,), max_epochs=10, random_state=0, **kwargs
    )


def image_net():
    """A net for the digits as 8x8 images, given flat: it reads uint8 as pixels."""
    return make_cnn_classifier(4, input_shape=(1, 8, 8), max_epochs=10, random_state=0)


def run_loop(estimator, strategy, kind, n_rounds=2, budget=20, **learner_kwargs):
    """The README's quick start on the user's labels; returns the learner, oracle."""
    X, y, ood_label, _ = user_data(kind)
    rng = np.random.RandomState(0)
    pool = rng.permutation(len(y))[:600]
    X_pool, y_pool = X[pool], y[pool]
    oracle = OpenSetOracle(y_pool, ood_label=ood_label)
    initial = rng.choice(len(pool), 40, replace=False)
    learner = ActiveLearner(
        estimator,
        strategy,
        X_pool[initial],
        oracle.label(initial),
        ood_label=ood_label,
        **learner_kwargs,
    )
    for _ in range(n_rounds):
        unlabelled = np.flatnonzero(~oracle.queried_)
        ranked, _ = learner.query(X_pool[unlabelled], n_instances=budget)
        bought, _ = oracle.fill_budget(unlabelled[ranked], budget=budget)
        learner.teach(X_pool[bought], oracle.label(bought))
    return learner, oracle


# --------------------------------------------------- any classifier, any labels

STRATEGIES = [
    MQNetQuery(random_state=0),
    MQNetQuery(purity="msp", diversity_pool=None, random_state=0),
    PurityInformativenessQuery(combine="product", random_state=0),
    BadgeQuery(random_state=0),
    CoreSetQuery(random_state=0),
    UncertaintyQuery(random_state=0),
    RandomQuery(random_state=0),
]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("kind", ["ints", "strings"])
def test_random_forest_with_the_users_labels(strategy, kind):
    learner, oracle = run_loop(
        RandomForestClassifier(n_estimators=20, random_state=0), strategy, kind
    )
    X, y, ood_label, classes = user_data(kind)
    assert sorted(learner.classes_.tolist()) == sorted(classes)
    predicted = learner.predict(X[:50])
    assert set(predicted.tolist()) <= set(classes)
    assert learner.predict_proba(X[:5]).shape == (5, 4)
    is_in = y != ood_label
    assert learner.score(X[is_in], y[is_in]) > 0.5  # chance is 0.25
    # OOD rows are kept for the strategy but never reach the classifier.
    n_ood = int(np.sum(learner.y_labelled_ == ood_label))
    assert n_ood == oracle.n_queried_ood_ and n_ood > 0
    assert learner.estimator_.n_features_in_ == 64
    assert set(learner.estimator_.classes_) <= {0, 1, 2, 3}


def test_mqnet_learns_with_a_random_forest():
    learner, _ = run_loop(
        RandomForestClassifier(n_estimators=20, random_state=0),
        MQNetQuery(rule_weight=0, random_state=0),
        "strings",
    )
    strategy = learner.query_strategy_
    assert hasattr(strategy, "selector_")
    target = strategy.validation_target_
    assert np.all(np.isfinite(target)) and np.any(target > 0)


@pytest.mark.parametrize(
    "estimator",
    [
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
        make_pipeline(StandardScaler(), mlp()),
    ],
    ids=["logreg-pipeline", "hist-gradient-boosting", "mlp-pipeline"],
)
def test_other_classifiers_drive_mqnet(estimator):
    learner, _ = run_loop(estimator, MQNetQuery(rule_weight=0, random_state=0), "ints")
    assert hasattr(learner.query_strategy_, "selector_")


def test_non_contiguous_class_labels_with_a_skorch_net():
    X, y, _, _ = user_data("ints")
    rows = np.flatnonzero(np.isin(y, [3, 5, 7]) | (y == -1))[:90]
    learner = ActiveLearner(mlp(3), classes=[3, 5, 7]).fit(X[rows], y[rows])
    np.testing.assert_array_equal(learner.classes_, [3, 5, 7])
    assert set(learner.predict(X[:40]).tolist()) <= {3, 5, 7}


class _SoftmaxModule(torch.nn.Module):
    """skorch's README module: ends in a softmax, for the NLLLoss default."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(64, 4)

    def forward(self, X):
        return torch.softmax(self.linear(X), dim=-1)


def test_a_net_that_outputs_probabilities_is_not_softmaxed_twice():
    X, y, _, classes = user_data("ints")
    net = NeuralNetClassifier(
        _SoftmaxModule, max_epochs=5, lr=0.5, train_split=None, verbose=0
    )
    learner = ActiveLearner(net, UncertaintyQuery(), classes=classes)
    learner.fit(X[:200].astype(np.float32), y[:200])
    proba = learner.predict_proba(X[200:260].astype(np.float32))
    expected = learner.estimator_.predict_proba(X[200:260].astype(np.float32))
    np.testing.assert_allclose(proba, expected, rtol=1e-6)
    assert proba.max() > 0.5  # a softmax of probabilities stays near 1/4
    with pytest.raises(ValueError, match="criterion=torch.nn.CrossEntropyLoss"):
        ActiveLearner(net, MQNetQuery(purity="energy"), classes=classes).fit(
            X[:200].astype(np.float32), y[:200]
        )


class _Brier(torch.nn.Module):
    """A criterion on probabilities that is no NLLLoss."""

    def forward(self, proba, y):
        target = torch.nn.functional.one_hot(y, proba.shape[1]).float()
        return ((proba - target) ** 2).sum(1).mean()


def test_a_net_under_another_criterion_gives_its_own_probabilities():
    # Any criterion but NLLLoss was taken to train on logits: a softmax
    # module under a Brier loss was softmaxed twice.
    X, y, _, classes = user_data("ints")
    net = NeuralNetClassifier(
        _SoftmaxModule, criterion=_Brier, max_epochs=5, lr=0.5, train_split=None
    )
    learner = ActiveLearner(net.set_params(verbose=0), classes=classes)
    learner.fit(X[:200].astype(np.float32), y[:200])
    rows = X[200:260].astype(np.float32)
    np.testing.assert_allclose(
        learner.predict_proba(rows), learner.estimator_.predict_proba(rows), rtol=1e-6
    )


def test_a_binary_skorch_net_is_refused_naming_the_remedy():
    # It failed deep in training: float targets for BCE, int64 given.
    from skorch import NeuralNetBinaryClassifier

    X, y, _, classes = user_data("ints")
    net = NeuralNetBinaryClassifier(torch.nn.Linear, module__in_features=64)
    with pytest.raises(TypeError, match="2 outputs and CrossEntropyLoss"):
        ActiveLearner(net, classes=classes).fit(X[:100], y[:100])


class _EmbeddingModule(torch.nn.Module):
    """A user's module with an embed method of its own (no BackboneModule)."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(64, 8)
        self.head = torch.nn.Linear(8, 4)

    def embed(self, X):
        return torch.relu(self.body(X))

    def forward(self, X):
        return self.head(self.embed(X))


def test_a_users_net_with_an_embed_method_is_embedded_by_it():
    X, y, _, classes = user_data("ints")
    X = X.astype(np.float32)
    net = NeuralNetClassifier(
        _EmbeddingModule,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=2,
        train_split=None,
        verbose=0,
    )
    learner = ActiveLearner(net, CoreSetQuery(random_state=0), classes=classes)
    learner.fit(X[:80], y[:80])
    with torch.no_grad():
        expected = learner.estimator_.module_.embed(torch.from_numpy(X[200:210]))
    np.testing.assert_allclose(model_embedding(learner, X[200:210]), expected.numpy())
    indices, _ = learner.query(X[200:400], n_instances=5)
    assert len(set(indices.tolist())) == 5


def _users_net(**kwargs):
    """A plain skorch net on the digits, as a user builds one."""
    return NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=64,
        module__out_features=4,
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=1,
        verbose=0,
        **kwargs,
    )


no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is here")


@pytest.mark.parametrize("device", [pytest.param("cuda", marks=no_cuda), "cuda:99"])
@pytest.mark.parametrize(
    "wrap",
    [
        lambda net: net,
        lambda net: make_pipeline(StandardScaler(), net),
        lambda net: GridSearchCV(net, {"lr": [0.1]}, cv=2),
    ],
    ids=["net", "pipeline", "search"],
)
def test_a_users_net_on_a_cuda_device_this_machine_lacks_is_refused_up_front(
    device, wrap
):
    # The library's nets said so; a user's gave torch's bare AssertionError
    # ("Torch not compiled with CUDA enabled") from skorch's initialize.
    X, y, _, classes = user_data("ints")
    net = wrap(_users_net(train_split=None, device=device))
    with pytest.raises(ValueError, match=f"device='{device}': .* this machine lacks"):
        ActiveLearner(net, classes=classes).fit(X[:80], y[:80])


@pytest.mark.parametrize(
    "classes, labels, named",
    [
        (["a", "a\x00", "b"], ["a", "b"], r"lists 'a' and 'a\\x00', which numpy"),
        ([1, 2, 1.0], [1, 2], r"lists 1 more than once: list each class once\.$"),
        (["a", b"b"], ["a", "b"], r"mix strings, bytes or numbers \(\['a', b'b'\]\)"),
        ([2**53, 2**53 + 1, 0.5], [2**53, 2**53 + 1], r"lists 9007199254740992 and"),
    ],
    ids=["nul", "int-and-float", "str-and-bytes", "int-beyond-float"],
)
def test_a_nets_classes_that_numpy_would_change_are_refused_as_given(
    classes, labels, named
):
    # Read by np.asarray, a skorch net's classes made the learner's classes_
    # ['a', 'a', 'b'] and [1.0, 1.0, 2.0], a class listed twice, and ['a',
    # 'b'] of 'a' and b'b': the labels fitted silently, as the learner's own
    # classes=[...] with the same values was refused; 2**53 + 1 became 2.0**53,
    # which no label matched, and the net was refused as 3-way for 2 classes.
    X, y = np.random.RandomState(0).rand(8, 2).astype(np.float32), labels * 4
    net = NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=2,
        module__out_features=len(classes),
        criterion=torch.nn.CrossEntropyLoss,
        classes=classes,
        max_epochs=1,
        train_split=None,
        verbose=0,
    )
    ood_label = "?" if isinstance(y[0], str) else -1
    with pytest.raises(ValueError, match=f"^estimator.classes {named}"):
        ActiveLearner(net, ood_label=ood_label).fit(X, y)
    # In a Pipeline, named by its last step's.
    piped = make_pipeline(StandardScaler(), net)
    with pytest.raises(ValueError, match=rf"^estimator\[-1\].classes {named}"):
        ActiveLearner(piped, ood_label=ood_label).fit(X, y)


@pytest.mark.parametrize("classes", [[0, 1, "unknown"], ["a", "b", "unknown"]])
def test_the_ood_label_among_a_nets_classes_is_named_as_such(classes):
    # [0, 1, 'unknown'] was refused as classes that mix kinds, whose remedy
    # (one kind, e.g. all strings) kept the OOD label a class; the net's
    # ['a', 'b', 'unknown'] was "one of the known classes", to be left out of
    # classes, the learner's, which the user had not set.
    X = np.random.RandomState(0).rand(12, 2).astype(np.float32)
    net = NeuralNetClassifier(
        torch.nn.Linear,
        module__in_features=2,
        module__out_features=3,
        criterion=torch.nn.CrossEntropyLoss,
        classes=classes,
        max_epochs=1,
        train_split=None,
        verbose=0,
    )
    shown = re.escape(repr(classes))
    with pytest.raises(
        ValueError,
        match=rf"^ood_label='unknown' is one of the known classes {shown}; .*: "
        r"leave 'unknown' out of estimator\.classes, which lists",
    ):
        ActiveLearner(net, ood_label="unknown").fit(X, classes * 4)
    # The learner's own classes alike.
    with pytest.raises(ValueError, match=r": leave 'unknown' out of classes, "):
        ActiveLearner(LogisticRegression(), ood_label="unknown", classes=classes).fit(
            X, classes * 4
        )


def test_a_nets_classes_may_list_the_ood_label_where_they_are_not_taken():
    # make_mlp_classifier's classes 0..k-1 beside labels 1..k, 0 marking OOD
    # examples: the learner infers its classes, and the net's are no classes.
    X = np.random.RandomState(0).rand(20, 4).astype(np.float32)
    y = np.array([1, 2, 3, 4, 0] * 4)
    net = make_mlp_classifier(4, 4, hidden_sizes=(8,), max_epochs=1)
    learner = ActiveLearner(net, ood_label=0).fit(X, y)
    assert learner.classes_.tolist() == [1, 2, 3, 4]


def _labelled(per_class, n_ood=10):
    """Digits with `per_class` rows of each IN class (3, 5, 7, 9) and OOD rows."""
    X, y, _, classes = user_data("ints")
    counts = {**dict(zip(classes, per_class)), -1: n_ood}
    rows = np.concatenate([np.flatnonzero(y == c)[:n] for c, n in counts.items()])
    return X[rows], y[rows], classes


@pytest.mark.parametrize(
    "train_split, per_class, match",
    [
        (None, [1, 1, 1, 0], r"ValidSplit\(5, stratified=True\).* 3 in-distribution "
         "rows, at most 1 of any class, too few for 5 folds"),
        (None, [4, 4, 0, 0], "8 in-distribution rows, at most 4 of any class,"),
        (ValidSplit(5), [1, 1, 1, 1], r"ValidSplit\(5\).* 4 in-distribution rows too"),
    ],
    ids=["skorch-default", "stratified-classes", "unstratified"],
)  # fmt: skip
def test_a_validation_split_too_fine_for_the_labelled_set_names_the_remedy(
    train_split, per_class, match
):
    # scikit-learn's "Cannot have number of splits n_splits=5 greater than
    # the number of samples" (or "... than the number of members in each
    # class") named no remedy; OOD rows are not trained on.
    X, y, classes = _labelled(per_class)
    kwargs = {} if train_split is None else {"train_split": train_split}
    learner = ActiveLearner(_users_net(**kwargs), classes=classes)
    with pytest.raises(ValueError, match=match + ".* train_split=None"):
        learner.fit(X, y)
    # Enough rows for the folds: as before (a warning of the small class).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        learner.fit(*_labelled([5, 1, 1, 1])[:2])


@pytest.mark.parametrize(
    "search",
    [
        lambda: GridSearchCV(_users_net(), {"train_split": [None], "lr": [0.1]}, cv=2),
        lambda: GridSearchCV(
            _users_net(), [{"lr": [0.1], "train_split": [None]}], cv=2
        ),
        lambda: RandomizedSearchCV(
            _users_net(), {"train_split": [None]}, n_iter=1, cv=2
        ),
        lambda: GridSearchCV(
            make_pipeline(StandardScaler(), _users_net()),
            {"neuralnetclassifier__train_split": [None]},
            cv=2,
        ),
        # the grid replaces the net, its train_split with it
        lambda: GridSearchCV(
            make_pipeline(StandardScaler(), _users_net()),
            {"neuralnetclassifier": [_users_net(train_split=None)]},
            cv=2,
        ),
        lambda: GridSearchCV(
            _users_net(train_split=None, device="cuda:99"), {"device": ["cpu"]}, cv=2
        ),
        # candidates held otherwise than in a grid: any setting may change
        lambda: _SpacesSearchCV(_users_net(), {"train_split": [None]}, cv=2),
    ],
    ids=["grid", "grids", "distributions", "pipeline", "step", "device", "spaces"],
)
def test_a_search_is_not_refused_for_a_setting_its_candidates_replace(search):
    # The template's ValidSplit(5) (or device) was checked, though every
    # candidate the search trains has the grid's.
    X, y, classes = _labelled([4, 4, 4, 4])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ActiveLearner(search(), classes=classes).fit(X, y)
    # a search that leaves it as it is: the template's is theirs
    from scipy.stats import loguniform

    for template in (
        GridSearchCV(_users_net(), {"lr": [0.1]}, cv=2),
        RandomizedSearchCV(_users_net(), {"lr": loguniform(0.01, 0.1)}, n_iter=1),
    ):
        with pytest.raises(ValueError, match="Build the net with train_split=None"):
            ActiveLearner(template, classes=classes).fit(X, y)


class _SpacesSearchCV(BaseSearchCV):
    """A search whose candidates are in search_spaces, as those of
    scikit-optimize's BayesSearchCV are."""

    def __init__(self, estimator, search_spaces, *, cv=None):
        super().__init__(estimator, cv=cv)
        self.search_spaces = search_spaces

    def _run_search(self, evaluate_candidates):
        evaluate_candidates(ParameterGrid(self.search_spaces))


def test_a_net_without_its_predict_nonlinearity_gives_probabilities():
    # predict_proba then returns logits, which were taken for probabilities.
    X, y, _, classes = user_data("ints")
    net = mlp(predict_nonlinearity=None)
    learner = ActiveLearner(net, UncertaintyQuery(), classes=classes)
    learner.fit(X[:200], y[:200])
    reference = ActiveLearner(mlp(), UncertaintyQuery(), classes=classes)
    reference.fit(X[:200], y[:200])
    np.testing.assert_allclose(
        learner.predict_proba(X[200:260]), reference.predict_proba(X[200:260])
    )


def test_a_net_of_the_wrong_width_is_a_clear_error():
    X, y, _, _ = user_data("ints")
    with pytest.raises(ValueError, match="net is 5-way but the learner has 4"):
        ActiveLearner(mlp(5)).fit(X[:80], y[:80])


def test_pipeline_embedding_goes_through_the_preprocessing():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(make_pipeline(StandardScaler(), mlp())).fit(X[:80], y[:80])
    pipeline = learner.estimator_
    expected = embed(pipeline[-1], pipeline[0].transform(X[:10]))
    np.testing.assert_allclose(model_embedding(learner, X[:10]), expected, rtol=1e-6)
    linear = ActiveLearner(make_pipeline(StandardScaler(), LogisticRegression()))
    linear.fit(X[:80], y[:80])
    np.testing.assert_allclose(
        model_embedding(linear, X[:10]), linear.estimator_[0].transform(X[:10])
    )


@pytest.mark.parametrize("wrapper", ["search", "ensemble", "one_fit", "frozen"])
def test_the_embedding_looks_into_a_search_or_a_calibration(wrapper):
    # A pipeline inside them lost its preprocessing: every distance-based
    # strategy worked in the raw input, silently.
    X, y, _, _ = user_data("ints")
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    if wrapper == "search":
        estimator = GridSearchCV(pipeline, {"logisticregression__C": [0.1, 1]}, cv=2)
    elif wrapper == "frozen":  # prefitted on the class positions
        in_rows = y[:80] != -1
        codes = np.unique(y[:80][in_rows], return_inverse=True)[1]
        fitted = clone(pipeline).fit(X[:80][in_rows], codes)
        estimator = CalibratedClassifierCV(FrozenEstimator(fitted))
    else:
        estimator = CalibratedClassifierCV(
            pipeline, cv=2, ensemble=wrapper == "ensemble"
        )
    learner = ActiveLearner(estimator, CoreSetQuery()).fit(X[:80], y[:80])
    if wrapper == "search":
        inner = learner.estimator_.best_estimator_
    else:
        inner = learner.estimator_.calibrated_classifiers_[0].estimator
    inner = getattr(inner, "estimator", inner)  # the frozen one's
    np.testing.assert_allclose(
        model_embedding(learner, X[:10]), inner[0].transform(X[:10])
    )


@pytest.mark.parametrize("kind", ["ints", "strings"])
def test_a_classifier_prefitted_on_the_labels_is_refused_saying_on_what_to_fit_it(
    kind,
):
    # It queried, then predict raised an IndexError (or int()'s ValueError
    # for strings): the learner maps predictions back from class positions.
    X, y, ood, classes = user_data(kind)
    in_rows = np.flatnonzero(y != ood)[:150]
    prefitted = LogisticRegression(max_iter=1000).fit(X[in_rows], y[in_rows])
    learner = ActiveLearner(FrozenEstimator(prefitted), ood_label=ood)
    with pytest.raises(
        ValueError,
        match=r"fitted on those positions, sklearn\.preprocessing\.LabelEncoder\(\)",
    ):
        learner.fit(X[:100], y[:100])
    # As the message says, with y_in the labels of the IN rows.
    codes = LabelEncoder().fit(sorted(classes)).transform(y[in_rows])
    on_codes = LogisticRegression(max_iter=1000).fit(X[in_rows], codes)
    learner.set_params(estimator=FrozenEstimator(on_codes)).fit(X[:100], y[:100])
    np.testing.assert_array_equal(learner.predict(X[:50]), prefitted.predict(X[:50]))


def test_unsorted_classes_with_a_prefitted_classifier_are_refused():
    # Fitted on positions in the order given, as documented before classes_
    # was sorted, its predictions were silently read as other classes.
    X, y, ood, _ = user_data("strings")
    in_rows = np.flatnonzero(y != ood)[:150]
    given = NAMES[[9, 7, 5, 3]]
    codes = [given.tolist().index(label) for label in y[in_rows]]
    frozen = FrozenEstimator(LogisticRegression(max_iter=1000).fit(X[in_rows], codes))
    learner = ActiveLearner(frozen, ood_label=ood, classes=given)
    listed = sorted(given.tolist())
    remedy = (
        f"Pass classes={listed}, with the classifier fitted on "
        "sklearn.preprocessing.LabelEncoder()"
    )
    with pytest.raises(ValueError, match="not sorted, and the classifier comes fitted"):
        learner.fit(X[:100], y[:100])
    with pytest.raises(ValueError, match=re.escape(remedy)):
        learner.fit(X[:100], y[:100])
    sorted_codes = LabelEncoder().fit(listed).transform(y[in_rows])
    refitted = LogisticRegression(max_iter=1000).fit(X[in_rows], sorted_codes)
    learner.set_params(estimator=FrozenEstimator(refitted), classes=listed)
    learner.fit(X[:100], y[:100])
    assert learner.score(X[in_rows], y[in_rows]) > 0.9


def _wrapped_net(wrapper, **kwargs):
    """A net behind a scaler, in a search or a calibration."""
    pipeline = make_pipeline(StandardScaler(), mlp(**kwargs))
    if wrapper == "search":
        net_name = pipeline.steps[-1][0]
        return GridSearchCV(pipeline, {f"{net_name}__lr": [1e-3, 1e-2]}, cv=2)
    return CalibratedClassifierCV(pipeline, cv=2)


def _inner(estimator):
    """The fitted pipeline a fitted search or calibration wraps."""
    best = getattr(estimator, "best_estimator_", None)
    return best if best is not None else estimator.calibrated_classifiers_[0].estimator


@pytest.mark.parametrize("wrapper", ["search", "calibration"])
def test_logits_and_the_loss_head_are_read_through_a_search_or_a_calibration(
    wrapper,
):
    # As the embedding is: LL, energy and MQ-Net's LL-or-CONF refused the
    # search over a net ("use a skorch net") or silently fell back to CONF.
    X, y, _, _ = user_data("ints")
    estimator = _wrapped_net(wrapper, learning_loss=True)
    for strategy in (LearningLossQuery(), PurityInformativenessQuery(purity="energy")):
        learner = ActiveLearner(clone(estimator), strategy).fit(X[:80], y[:80])
        assert len(learner.query(X[80:200], n_instances=3)[0]) == 3
    inner = _inner(learner.estimator_)
    X_inner = inner[0].transform(X[:10])
    np.testing.assert_allclose(
        learning_loss_or_confidence(learner, X[:10]),
        predicted_loss(inner[-1], X_inner),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        class_logits(learner, X[:10]), predict_logits(inner[-1], X_inner), rtol=1e-6
    )


@pytest.mark.parametrize("wrapper", ["search", "calibration"])
def test_lfosa_refuses_a_meta_estimator_around_the_net_saying_what_to_do(wrapper):
    # It retrains a (K+1)-class copy of the net: it cannot look through.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(_wrapped_net(wrapper), LfOSAQuery())
    name = "GridSearchCV" if wrapper == "search" else "CalibratedClassifierCV"
    with pytest.raises(ValueError, match=f"through the {name} around the net; pass"):
        learner.fit(X[:80], y[:80])


class _ArrayEqualOneVsRest(OneVsRestClassifier):
    """A classifier whose own __eq__ answers with an array."""

    __hash__ = object.__hash__

    def __eq__(self, other):
        return np.array([True, False])


@pytest.mark.parametrize("meta", [OneVsRestClassifier, _ArrayEqualOneVsRest])
def test_a_pipeline_in_another_meta_estimator_is_warned_of_once(meta):
    # The classifiers warned of are found by identity: a WeakSet asked the
    # classifier's own __eq__, here an array, whose truth is ambiguous.
    X, y, _, _ = user_data("ints")
    estimator = meta(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)))
    learner = ActiveLearner(estimator, CoreSetQuery()).fit(X[:80], y[:80])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learner.query(X[80:200], n_instances=3)
        learner.query(X[80:200], n_instances=3)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert re.search(f"{meta.__name__} wraps a pipeline.*embedding=", messages[0])
    assert caught[0].filename == __file__


@pytest.mark.parametrize("hook", ["transformer", "callable"])
def test_embedding_hook(hook):
    X, y, _, _ = user_data("ints")
    if hook == "transformer":
        embedding = PCA(5, random_state=0)
    else:

        def embedding(estimator, X):
            return np.asarray(X)[:, :7]

    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        CoreSetQuery(),
        embedding=embedding,
    ).fit(X[:80], y[:80])
    values = model_embedding(learner, X[:10])
    assert values.shape == (10, 5 if hook == "transformer" else 7)
    if hook == "transformer":
        assert learner.embedding is embedding and not hasattr(embedding, "components_")
        np.testing.assert_allclose(values, learner.embedding_.transform(X[:10]))
    indices, _ = learner.query(X[80:200], n_instances=5)
    assert len(set(indices)) == 5


@pytest.mark.parametrize("hook", ["transformer", "callable"])
def test_a_sparse_embedding_hook_is_made_dense(hook, monkeypatch):
    # As a pipeline's one-hot step's output is: distances need dense rows
    # (scikit-learn's "Use '.toarray()'" was no advice for a transformer).
    from scipy import sparse

    X, y, _, _ = user_data("ints")
    if hook == "transformer":
        embedding = OneHotEncoder(handle_unknown="ignore")
    else:

        def embedding(estimator, X):
            return sparse.csr_matrix(np.asarray(X, dtype=float))

    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        CoreSetQuery(),
        embedding=embedding,
    ).fit(X[:80], y[:80])
    expected = (
        learner.embedding_.transform(X[:10])
        if hook == "transformer"
        else embedding(None, X[:10])
    ).toarray()
    np.testing.assert_array_equal(model_embedding(learner, X[:10]), expected)
    indices, _ = learner.query(X[80:200], n_instances=5)
    assert len(set(indices)) == 5
    monkeypatch.setattr(skal_openset._model_scores, "DENSE_EMBEDDING_WARN_BYTES", 1)
    with pytest.warns(UserWarning, match=r"embedding hook, a sparse 10 x \d+ matrix"):
        model_embedding(learner, X[:10])


def _sparse_rows(estimator, X):
    from scipy import sparse

    return sparse.csr_matrix(np.asarray(X, dtype=float))


def test_a_large_sparse_embedding_is_warned_of_once_per_learner_and_embedding(
    monkeypatch,
):
    # It was warned of twice a query (the pool, the labelled set), its shape
    # in the text changing every round: no filter kept it from repeating.
    X, y, _, _ = user_data("ints")
    monkeypatch.setattr(skal_openset._model_scores, "DENSE_EMBEDDING_WARN_BYTES", 1)
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        CoreSetQuery(random_state=0),
        embedding=_sparse_rows,
    ).fit(X[:80], y[:80])
    pool = np.arange(80, 300)

    def warned_in_rounds(learner, n_rounds):
        nonlocal pool
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            for _ in range(n_rounds):
                chosen, X_query = learner.query(X[pool], n_instances=5)
                learner.teach(X_query, y[pool[chosen]])
                pool = np.delete(pool, chosen)
        return [w for w in record if "a sparse" in str(w.message)]

    assert len(warned_in_rounds(learner, 3)) == 1
    assert len(warned_in_rounds(clone(learner).fit(X[:80], y[:80]), 2)) == 1
    learner.set_params(embedding=OneHotEncoder(handle_unknown="ignore"))
    assert len(warned_in_rounds(learner.fit(X[:80], y[:80]), 2)) == 1


# inf was called "not numeric", with advice for categorical columns.
@pytest.mark.parametrize("bad, what", [(np.nan, "NaN"), (np.inf, "inf")])
def test_an_embedding_hook_that_returns_nan_or_inf_is_named(bad, what):
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(
        LogisticRegression(max_iter=500),
        CoreSetQuery(),
        embedding=lambda estimator, X: np.full((len(X), 2), bad),
    ).fit(X[:80], y[:80])
    match = f"learner's embedding hook\\) holds {what}.*finite rows of X"
    with pytest.raises(ValueError, match=match):
        learner.query(X[80:200], n_instances=3)


def test_a_bad_embedding_hook_is_a_clear_error():
    X, y, _, _ = user_data("ints")
    with pytest.raises(TypeError, match="embedding must be a transformer"):
        ActiveLearner(LogisticRegression(), embedding="pca").fit(X[:80], y[:80])


@pytest.mark.parametrize(
    "embedding",
    [
        LinearDiscriminantAnalysis(n_components=2),
        make_pipeline(StandardScaler(), SelectKBest(k=2)),
    ],
    ids=["missing-y-argument", "requires-y"],
)
def test_a_supervised_embedding_is_refused_by_name(embedding):
    # Its fit without labels failed deep inside scikit-learn ("fit() missing
    # 1 required positional argument: 'y'", "requires y to be passed").
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(LogisticRegression(), embedding=embedding)
    with pytest.raises(TypeError, match=r"needs labels to fit .*\(e\.g\. PCA"):
        learner.fit(X[:80], y[:80])


def test_an_embedding_that_fails_otherwise_keeps_its_own_error():
    # Only a fit that wants labels is told so: another failure is its own.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(LogisticRegression(), embedding=PCA(100))
    with pytest.raises(ValueError, match="n_components=100 must be between"):
        learner.fit(X[:80], y[:80])


def test_an_embedding_hook_of_one_value_per_row_names_the_shape():
    # It was called "not numeric", with advice for categorical columns.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(
        LogisticRegression(max_iter=300),
        CoreSetQuery(random_state=0),
        embedding=lambda estimator, X: estimator.decision_function(X).max(axis=1),
    ).fit(X[:80], y[:80])
    with pytest.raises(ValueError, match=r"gave shape \(100,\).*reshape\(-1, 1\)"):
        learner.query(X[200:300], n_instances=5)


def test_an_embedding_hook_of_other_rows_names_the_hook_and_the_remedy():
    # "The embedding has 50 rows for 100 examples." named neither the hook
    # nor what it must return.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(
        LogisticRegression(max_iter=300),
        CoreSetQuery(random_state=0),
        embedding=lambda estimator, X: X[::2],
    ).fit(X[:80], y[:80])
    with pytest.raises(
        ValueError,
        match=r"here the learner's embedding hook, which must give one row per "
        r"example; it gave 50 rows for 100 examples\. Return a row for each row",
    ):
        learner.query(X[200:300], n_instances=5)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log1p")
def test_nan_that_a_preprocessing_step_makes_is_blamed_on_the_step():
    # The rows are finite: the step (a log of a negative value) makes them.
    X, y, _, _ = user_data("ints")
    estimator = make_pipeline(
        FunctionTransformer(np.log1p), HistGradientBoostingClassifier(max_iter=5)
    )
    learner = ActiveLearner(estimator, CoreSetQuery(random_state=0)).fit(X[:80], y[:80])
    with pytest.raises(
        ValueError,
        match=r"The embedding \(the output of the pipeline's preprocessing steps\) "
        r"holds NaN for finite rows of X: a step makes them \(e\.g\. a log",
    ):
        learner.query(X[200:300] - X.max() - 2, n_instances=5)


def test_nan_that_a_diverged_net_makes_is_blamed_on_the_net():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), CoreSetQuery(random_state=0))
    learner.fit(X[:80], y[:80])
    with torch.no_grad():  # as the weights of a net that diverged
        for parameter in learner.estimator_.module_.parameters():
            parameter.fill_(np.nan)
    with pytest.raises(
        ValueError,
        match=r"The embedding \(the net's penultimate layer\) holds NaN for finite "
        r"rows of X: the net has diverged; retrain it, e\.g\. with a lower",
    ):
        learner.query(X[200:300], n_instances=5)


@pytest.mark.parametrize(
    "strategy, match",
    [
        (LearningLossQuery(), "loss-prediction head.*learning_loss=True"),
        (PurityInformativenessQuery("energy"), "logits.*purity='msp'"),
        (MQNetQuery(informativeness="learning_loss"), "loss-prediction head"),
    ],
)
def test_impossible_strategies_fail_at_fit_naming_the_remedy(strategy, match):
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(RandomForestClassifier(n_estimators=5), strategy)
    with pytest.raises(ValueError, match=match):
        learner.fit(X[:80], y[:80])
    assert not hasattr(learner, "estimator_")


def test_a_classifier_without_predict_proba_fails_at_fit():
    X, y, _, _ = user_data("ints")
    # SVC(probability=True) is offered only where scikit-learn (< 1.9) does not
    # deprecate it: its default says so, whatever the instance is set to.
    deprecated = SVC().get_params()["probability"] == "deprecated"
    for svc in (SVC(), SVC(probability=False)):
        with pytest.raises(ValueError, match="predict_proba") as error:
            ActiveLearner(svc, MQNetQuery()).fit(X[:80], y[:80])
        assert ("SVC(probability=True)" in str(error.value)) is not deprecated
    # SVC's remedy used to be offered for every classifier, LinearSVC too.
    with pytest.raises(
        ValueError, match=r"CalibratedClassifierCV\(LinearSVC\(...\)\)\),"
    ):
        ActiveLearner(LinearSVC(), MQNetQuery()).fit(X[:80], y[:80])
    # Strategies that read no probabilities work with it.
    ActiveLearner(SVC(), RandomQuery()).fit(X[:80], y[:80])
    # In a pipeline, its final step is wrapped: the preprocessing stays seen.
    with pytest.raises(
        ValueError,
        match=r"final step \(e\.g\. make_pipeline\(StandardScaler\(\), "
        r"CalibratedClassifierCV\(SVC\(...\)\)\)\)",
    ):
        ActiveLearner(make_pipeline(StandardScaler(), SVC()), MQNetQuery()).fit(
            X[:80], y[:80]
        )


def test_a_stack_has_predict_proba_when_its_final_estimator_does():
    # An unfitted StackingClassifier shows no predict_proba, so a default
    # stack (a LogisticRegression on top) was refused.
    X, y, _, _ = user_data("ints")
    members = [("lr", LogisticRegression(max_iter=500)), ("nb", GaussianNB())]
    learner = ActiveLearner(StackingClassifier(members, cv=2), MQNetQuery())
    assert hasattr(learner, "predict_proba")  # so does the learner's
    learner.fit(X[:80], y[:80]).query(X[80:300], n_instances=3)
    stack = make_pipeline(
        StandardScaler(), StackingClassifier(members, final_estimator=LinearSVC())
    )
    with pytest.raises(ValueError, match="StackingClassifier has no predict_proba"):
        ActiveLearner(stack, MQNetQuery()).fit(X[:80], y[:80])


@pytest.mark.parametrize(
    "estimator, proba, decision",
    [
        (LinearSVC(), False, True),
        (SVC(), False, True),
        (LogisticRegression(max_iter=500), True, True),
        (RidgeClassifier(), False, True),
        (RandomForestClassifier(n_estimators=5), True, False),
        (make_pipeline(StandardScaler(), LinearSVC()), False, True),
    ],
    ids=lambda v: type(v).__name__ if hasattr(v, "fit") else str(v),
)
def test_the_learner_has_the_prediction_methods_its_classifier_has(
    estimator, proba, decision
):
    # predict_proba was always there, and failed inside for a classifier
    # without it; scikit-learn's tools pick the method by hasattr.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(estimator, RandomQuery(0))
    assert hasattr(learner, "predict_proba") == proba
    assert hasattr(learner, "decision_function") == decision
    learner.fit(X[:80], y[:80])
    assert hasattr(learner, "predict_proba") == proba
    assert hasattr(learner, "decision_function") == decision


def test_scikit_learn_tools_use_the_decision_function_of_a_linear_svc():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import cross_val_score

    X, y = load_breast_cancer(return_X_y=True)
    X, y = StandardScaler().fit_transform(X[:200]), y[:200]
    learner = ActiveLearner(LinearSVC(), RandomQuery(0))
    np.testing.assert_allclose(
        cross_val_score(learner, X, y, cv=3, scoring="roc_auc", error_score="raise"),
        cross_val_score(LinearSVC(), X, y, cv=3, scoring="roc_auc"),
    )
    calibrated = CalibratedClassifierCV(learner, cv=3).fit(X, y)
    assert calibrated.predict_proba(X[:5]).shape == (5, 2)
    stack = StackingClassifier([("al", learner)], LogisticRegression()).fit(X, y)
    assert stack.score(X, y) > 0.9


@pytest.mark.parametrize("n_seen", [4, 3, 2])
def test_decision_function_has_a_column_per_class_in_classes_order(n_seen):
    X, y, ood, _ = user_data("strings")
    classes = NAMES[[9, 7, 5, 3]]  # not sorted: columns follow classes_, sorted
    keep = np.isin(y, classes[:n_seen])
    learner = ActiveLearner(LinearSVC(), RandomQuery(0), ood_label=ood, classes=classes)
    learner.fit(X[keep][:150], y[keep][:150])
    np.testing.assert_array_equal(learner.classes_, np.sort(classes))
    scores = learner.decision_function(X[:300])
    assert scores.shape == (300, 4)
    seen = np.isin(learner.classes_, classes[:n_seen])
    assert np.all(scores[:, ~seen] == -np.inf)  # never predicted
    assert np.isfinite(scores[:, seen]).all()
    np.testing.assert_array_equal(
        learner.classes_[scores.argmax(axis=1)], learner.predict(X[:300])
    )


def test_decision_function_of_two_classes_scores_the_second_as_scikit_learns():
    X, y, ood, _ = user_data("strings")
    classes = NAMES[[9, 7]]
    two = np.isin(y, classes)
    binary = ActiveLearner(LinearSVC(), RandomQuery(0), ood_label=ood, classes=classes)
    scores = binary.fit(X[two][:150], y[two][:150]).decision_function(X[:300])
    assert scores.shape == (300,)
    np.testing.assert_array_equal(
        np.where(scores > 0, binary.classes_[1], binary.classes_[0]),
        binary.predict(X[:300]),
    )


@pytest.mark.parametrize("scoring", ["roc_auc", "neg_log_loss"])
def test_classes_given_in_any_order_score_as_scikit_learns_classifier(scoring):
    # classes_ kept the order given: scikit-learn's scorers, which read the
    # columns in the labels' sorted order, gave roc_auc 0.001 for 0.999 and
    # neg_log_loss -10.5 for -0.05 with classes=[5, 3], without a word.
    from sklearn.model_selection import cross_val_score

    X, y, _, _ = user_data("ints")
    X, y = X[np.isin(y, [3, 5])], y[np.isin(y, [3, 5])]
    expected = cross_val_score(LogisticRegression(max_iter=1000), X, y, scoring=scoring)
    for classes in ([3, 5], [5, 3]):
        learner = ActiveLearner(LogisticRegression(max_iter=1000), classes=classes)
        got = cross_val_score(learner, X, y, scoring=scoring, error_score="raise")
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_decision_function_of_one_vs_one_scores_passes_them_on():
    # Not one score per class: placing them by classes_ was a numpy
    # broadcast error; they come as SVC gives them, as before.
    from sklearn.svm import SVC

    X, y, ood, _ = user_data("strings")
    classes = NAMES[[9, 7, 5, 3]]
    keep = np.isin(y, classes)
    svc = SVC(decision_function_shape="ovo")
    learner = ActiveLearner(svc, RandomQuery(0), ood_label=ood, classes=classes)
    scores = learner.fit(X[keep][:150], y[keep][:150]).decision_function(X[:30])
    assert scores.shape == (30, 6)  # one per pair of the 4 classes


class _FirstSeenOrder(ClassifierMixin, BaseEstimator):
    """Logistic regression that keeps its classes in first-seen order, as a
    classifier of one's own may: its columns follow that ``classes_``."""

    def fit(self, X, y):
        _, first = np.unique(y, return_index=True)
        self.classes_ = np.asarray(y)[np.sort(first)]
        self.model_ = LogisticRegression(max_iter=1000).fit(X, y)
        self.columns_ = np.searchsorted(self.model_.classes_, self.classes_)
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)[:, self.columns_]

    def decision_function(self, X):
        scores = self.model_.decision_function(X)
        if scores.ndim == 1:  # for model_.classes_[1]: flip if ours is the other
            return scores if self.columns_[1] == 1 else -scores
        return scores[:, self.columns_]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.mark.parametrize("n_seen", [4, 3, 2])
def test_columns_follow_classes_in_a_classifier_that_keeps_first_seen_order(n_seen):
    # A classifier that had seen every class got its columns passed on as
    # they came: predict_proba and decision_function disagreed with predict,
    # and MQ-Net's target read another class's probability.
    X, y, _, classes = user_data("ints")
    rows = np.flatnonzero(np.isin(y, classes[:n_seen]))[:150]
    rows = rows[np.argsort(-y[rows], kind="stable")]  # 9s first: classes_ reversed
    learner = ActiveLearner(_FirstSeenOrder(), classes=classes)
    learner.fit(X[rows], y[rows])
    assert not np.all(np.diff(learner.estimator_.classes_) > 0)
    predicted = learner.predict(X[:300])
    proba = learner.predict_proba(X[:300])
    assert proba.shape == (300, 4) and np.all(proba[:, n_seen:] == 0)
    np.testing.assert_array_equal(learner.classes_[proba.argmax(axis=1)], predicted)
    scores = learner.decision_function(X[:300])
    assert scores.shape == (300, 4) and np.all(scores[:, n_seen:] == -np.inf)
    np.testing.assert_array_equal(learner.classes_[scores.argmax(axis=1)], predicted)
    X_in, y_in = X[rows][:20], y[rows][:20]
    # The model's columns are the codes it has seen, 0..n_seen-1, sorted.
    right = learner.estimator_.model_.predict_proba(X_in)[
        np.arange(20), np.searchsorted(classes, y_in)
    ]
    # float32 probabilities: -log in float32 is within a few of its ulps.
    np.testing.assert_allclose(
        per_example_loss(learner, X_in, y_in), -np.log(right), rtol=1e-6
    )


def test_the_decision_function_of_two_classes_in_first_seen_order_scores_the_second():
    X, y, _, classes = user_data("ints")
    rows = np.flatnonzero(np.isin(y, classes[:2]))[:150]
    rows = rows[np.argsort(-y[rows], kind="stable")]  # classes_ [1, 0]
    binary = ActiveLearner(_FirstSeenOrder(), classes=classes[:2])
    scores = binary.fit(X[rows], y[rows]).decision_function(X[:300])
    assert scores.shape == (300,)
    np.testing.assert_array_equal(
        np.where(scores > 0, classes[1], classes[0]), binary.predict(X[:300])
    )


class _NoClasses(ClassifierMixin, BaseEstimator):
    """A classifier of one's own without classes_: its columns are positions."""

    def fit(self, X, y):
        self.model_ = LogisticRegression(max_iter=1000).fit(X, y)
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def test_a_classifier_without_classes_gives_its_columns_as_positions():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(_NoClasses(), MQNetQuery(random_state=0))
    learner.fit(X[:100], y[:100])
    assert len(learner.query(X[100:400], n_instances=3)[0]) == 3
    np.testing.assert_array_equal(
        learner.classes_[learner.predict_proba(X[:50]).argmax(axis=1)],
        learner.predict(X[:50]),
    )


def test_decision_function_of_a_classifier_trained_on_one_class_names_the_remedy():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(RidgeClassifier(), RandomQuery(0), classes=[3, 5, 7, 9])
    learner.fit(X[y == 3], y[y == 3])
    with pytest.raises(ValueError, match=r"trained on one, \[3\]: teach an example"):
        learner.decision_function(X[:5])


def test_ood_label_is_never_a_known_class_of_another_kind():
    X, y, _, _ = user_data("strings")
    with pytest.raises(ValueError, match="labels are strings but ood_label=-1"):
        ActiveLearner(LogisticRegression()).fit(X[:80], y[:80])
    with pytest.raises(ValueError, match="ood_label='unknown'"):
        OpenSetOracle(y)


def test_a_numpy_ood_label_is_named_as_users_write_it():
    # numpy 2's repr read "ood_label=np.str_('unknown')".
    X, y, _, _ = user_data("strings")
    with pytest.raises(ValueError, match=r"strings but ood_label=-1 is not"):
        OpenSetOracle(y, ood_label=np.int64(-1))
    spelt = np.where(y == "unknown", "Unknown", y)
    with pytest.raises(ValueError, match=r"^ood_label='unknown' labels no"):
        OpenSetOracle(spelt, ood_label=np.str_("unknown"))


@pytest.mark.parametrize("spelt", [" unknown", "Unknown"])
def test_an_ood_label_the_labels_spell_otherwise_is_refused(spelt):
    # A CSV's "x, label" leaves a space before each label: the OOD examples
    # became a class, and the oracle charged them the IN cost.
    X, y, _, _ = user_data("strings")
    y = np.where(y == "unknown", spelt, y)
    message = f"ood_label='unknown' labels no example, but \\['{spelt}'\\]"
    with pytest.raises(ValueError, match=message):
        ActiveLearner(LogisticRegression(), ood_label="unknown").fit(X[:80], y[:80])
    with pytest.raises(ValueError, match=message):
        OpenSetOracle(y, ood_label="unknown", cost_ood=2.0)
    OpenSetOracle(y, ood_label=spelt)  # as the labels spell it


def test_an_ood_label_the_labels_write_in_another_unicode_form_is_refused():
    # "étranger" typed as one character, the labels' with e and its accent
    # apart (as macOS saves names): every OOD example silently became a
    # class, and the oracle counted none.
    composed, decomposed = "\u00e9tranger", "e\u0301tranger"
    X, y, _, _ = user_data("strings")
    y = np.where(y == "unknown", decomposed, y)
    message = r"^ood_label='étranger' labels no example, .* or Unicode form"
    with pytest.raises(ValueError, match=message):
        ActiveLearner(LogisticRegression(), ood_label=composed).fit(X[:80], y[:80])
    with pytest.raises(ValueError, match=message):
        OpenSetOracle(y, ood_label=composed)
    # Beside labels that spell it as given, such labels are warned of.
    y[np.flatnonzero(y == decomposed)[0]] = composed
    with pytest.warns(UserWarning, match="differ from ood_label=.* or Unicode form"):
        OpenSetOracle(y, ood_label=composed)
    # and so are they beside an ood_label typed with the accent apart
    with pytest.warns(UserWarning, match="differ from ood_label=.* or Unicode form"):
        OpenSetOracle(y, ood_label=decomposed)


def test_bytes_labels_need_a_bytes_ood_label():
    # As h5py or np.loadtxt(dtype="S") give them: b"unknown" != "unknown".
    X = np.arange(12.0).reshape(6, 2)
    y = np.array([b"cat", b"dog", b"unknown", b"cat", b"dog", b"unknown"])
    with pytest.raises(ValueError, match="labels are bytes but ood_label='unknown'"):
        OpenSetOracle(y, ood_label="unknown")
    with pytest.raises(ValueError, match="labels are bytes"):
        ActiveLearner(LogisticRegression(), ood_label="unknown").fit(X, y)
    oracle = OpenSetOracle(y, ood_label=b"unknown", cost_ood=5.0)
    oracle.label(np.arange(6))
    assert (oracle.n_queried_ood_, oracle.spent_) == (2, 14.0)
    learner = ActiveLearner(LogisticRegression(), ood_label=b"unknown").fit(X, y)
    assert learner.classes_.tolist() == [b"cat", b"dog"]


# ------------------------------------------------------------- DataFrames


@pytest.mark.parametrize(
    "strategy",
    [
        MQNetQuery(random_state=0),
        MQNetQuery(meta_input="exp_zscore", random_state=0),
        PurityInformativenessQuery(meta_input="quantile", random_state=0),
        EOALQuery(random_state=0),
    ],
    ids=["mqnet", "mqnet_exp_zscore", "purity_informativeness", "eoal"],
)
def test_pandas_transform_output_changes_no_query(strategy):
    # Under sklearn.set_config(transform_output="pandas") the strategies'
    # own transformers gave DataFrames: MQ-Net's quantile meta-input and
    # EOAL's scaled embeddings failed on array indexing, and pool_meta_input_
    # became a DataFrame.
    X, y, _, _ = user_data("ints")
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))

    def queries():
        learner = ActiveLearner(pipeline, clone(strategy), X[:100], y[:100])
        first, X_query = learner.query(X[100:400], n_instances=10)
        learner.teach(X_query, y[100:400][first])
        second, _ = learner.query(X[100:400], n_instances=10)
        meta_input = getattr(learner.query_strategy_, "pool_meta_input_", None)
        return first.tolist(), second.tolist(), meta_input

    expected = queries()
    with sklearn.config_context(transform_output="pandas"):
        *indices, meta_input = queries()
    assert indices == list(expected[:2])
    if meta_input is not None:
        assert isinstance(meta_input, np.ndarray)
        np.testing.assert_array_equal(meta_input, expected[2])


def test_dataframes_in_positions_and_rows_out():
    pd = pytest.importorskip("pandas")
    X, y, ood_label, _ = user_data("strings")
    frame = pd.DataFrame(X, index=np.arange(len(X)) * 10 + 7)
    labels = pd.Series(y, index=frame.index)
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=10, random_state=0),
        MQNetQuery(random_state=0),
        frame.iloc[:60],
        labels.iloc[:60],
        ood_label=ood_label,
    )
    pool = frame.iloc[60:300]
    indices, X_query = learner.query(pool, n_instances=8)
    assert isinstance(X_query, pd.DataFrame)
    pd.testing.assert_frame_equal(X_query, pool.iloc[indices])
    learner.teach(X_query, labels.loc[X_query.index])
    assert len(learner.y_labelled_) == 68


class _LeastConfident(QueryStrategy):
    """A strategy of one's own, which reads the learner's predict_proba."""

    def _select(self, learner, X_pool, n_instances, rng):
        scores = 1 - learner.predict_proba(X_pool).max(axis=1)
        indices = np.argsort(-scores)[:n_instances]
        return indices, scores[indices]


def test_arrays_after_named_columns_warn_once_a_call_as_in_scikit_learn():
    # They were taken silently. The rows the learner hands its strategy, an
    # array, are not warned of when the strategy passes them back.
    pd = pytest.importorskip("pandas")
    X, y, _, _ = user_data("ints")
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    learner = ActiveLearner(LogisticRegression(max_iter=1000), _LeastConfident())
    learner.fit(frame.iloc[:80], y[:80])
    message = (
        "X does not have valid feature names, but ActiveLearner was fitted "
        "with feature names"
    )
    calls = [
        lambda: learner.query(X[80:200], n_instances=3),
        lambda: learner.predict(X[80:90]),
        lambda: learner.teach(X[80:82], y[80:82]),
    ]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert [str(w.message) for w in caught] == [message]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        indices, X_query = learner.query(frame.iloc[80:200], n_instances=3)
        learner.teach(X_query, y[80:200][indices])


def _named_frame(pd):
    """Digits' first 8 pixels as named columns and a text column, with labels."""
    X, y, ood_label, _ = user_data("strings")
    frame = pd.DataFrame(X[:, :8], columns=[f"px{i}" for i in range(8)])
    frame["shade"] = np.where(X[:, 9] > 0.3, "dark", "light")
    return frame, y, ood_label


@pytest.mark.parametrize("strategy", [MQNetQuery, UncertaintyQuery])
def test_a_pipeline_selects_dataframe_columns_by_name(strategy):
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    frame, y, ood_label = _named_frame(pd)
    estimator = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(), ["shade"]), (StandardScaler(), ["px2", "px5"])
        ),
        LogisticRegression(max_iter=500),
    )
    learner = ActiveLearner(estimator, strategy(random_state=0), ood_label=ood_label)
    learner.fit(frame.iloc[:80], y[:80])
    indices, X_query = learner.query(frame.iloc[80:400], n_instances=10)
    learner.teach(X_query, y[80:400][indices])
    assert list(learner.feature_names_in_) == list(frame.columns)
    assert learner.predict(frame.iloc[400:410]).shape == (10,)
    with pytest.raises(ValueError, match="same columns in the same order"):
        learner.query(frame.iloc[400:500, ::-1], n_instances=3)
    with pytest.raises(ValueError, match="same columns in the same order"):
        learner.teach(frame.iloc[500:503, ::-1], y[500:503])
    assert len(learner.y_labelled_) == 90


def _numeric_frame_and_pipeline():
    """`_named_frame`'s numeric columns, labels, OOD label, and a pipeline
    whose ColumnTransformer selects two of them by name."""
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    frame, y, ood_label = _named_frame(pd)
    pipeline = make_pipeline(
        make_column_transformer((StandardScaler(), ["px2", "px5"])),
        LogisticRegression(max_iter=500),
    )
    return frame.drop(columns="shade"), y, ood_label, pipeline


def test_a_search_over_a_pipeline_selects_dataframe_columns_by_name():
    # Only a pipeline, or any estimator beside a non-numeric column, got its
    # rows back as a DataFrame: a search failed in every fit ("Specifying the
    # columns using strings is only supported for dataframes").
    frame, y, ood_label, pipeline = _numeric_frame_and_pipeline()
    search = GridSearchCV(pipeline, {"logisticregression__C": [0.1, 1]}, cv=2)
    learner = ActiveLearner(search, CoreSetQuery(), ood_label=ood_label)
    learner.fit(frame.iloc[:80], y[:80])
    indices, X_query = learner.query(frame.iloc[80:400], n_instances=5)
    learner.teach(X_query, y[80:400][indices])
    assert learner.predict(frame.iloc[400:410]).shape == (10,)
    # Distances after the search's column selection.
    assert model_embedding(learner, frame.iloc[400:410].to_numpy()).shape == (10, 2)


def test_a_pipeline_among_a_search_grids_candidates_gets_dataframe_columns():
    # Only pipelines among the parameters were seen, not among a grid's
    # candidates: the search's fits got arrays and failed on column names.
    from sklearn.ensemble import VotingClassifier

    frame, y, ood_label, candidate = _numeric_frame_and_pipeline()
    vote = VotingClassifier([("v", LogisticRegression())], voting="soft")
    search = GridSearchCV(vote, {"v": [candidate]}, cv=2)
    learner = ActiveLearner(search, RandomQuery(random_state=0), ood_label=ood_label)
    learner.fit(frame.iloc[:80], y[:80])
    assert learner.predict(frame.iloc[400:410]).shape == (10,)


def test_a_bare_classifier_on_numeric_columns_keeps_its_type_and_arrays():
    # Every estimator but a skorch net got the rows back as a DataFrame, so
    # a LogisticRegression's estimator_ became a pipeline (estimator_.coef_
    # gone) and every prediction paid for a DataFrame.
    pd = pytest.importorskip("pandas")
    frame, y, ood_label = _named_frame(pd)
    frame = frame.drop(columns="shade")
    learner = ActiveLearner(LogisticRegression(max_iter=500), ood_label=ood_label)
    learner.fit(frame.iloc[:80], y[:80])
    assert isinstance(learner.estimator_, LogisticRegression)
    # So does a search over one, its grid of no pipeline.
    search = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1]}, cv=2)
    learner = ActiveLearner(search, ood_label=ood_label).fit(frame.iloc[:80], y[:80])
    assert isinstance(learner.estimator_, GridSearchCV)


def test_an_embedding_selects_dataframe_columns_by_name():
    # It used to be given the rows as an array ("Specifying the columns using
    # strings is only supported for dataframes"), though the user gave a frame.
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    frame, y, ood_label = _named_frame(pd)
    embedding = make_column_transformer(
        (OneHotEncoder(sparse_output=False), ["shade"]), (StandardScaler(), ["px2"])
    )
    learner = ActiveLearner(
        make_pipeline(clone(embedding), LogisticRegression(max_iter=500)),
        CoreSetQuery(),
        ood_label=ood_label,
        embedding=embedding,
    ).fit(frame.iloc[:80], y[:80])
    np.testing.assert_allclose(
        model_embedding(learner, frame.iloc[80:90].to_numpy()),
        learner.embedding_.transform(frame.iloc[80:90]),
    )
    indices, X_query = learner.query(frame.iloc[80:400], n_instances=5)
    assert len(set(indices)) == 5


def test_auto_purity_compares_every_score_on_named_dataframe_columns():
    # Its cross-validation stand-in handed the embedding an array, which a
    # column selector refused, and every embedding score was silently left out.
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    frame, y, ood_label = _named_frame(pd)
    frame = frame.drop(columns="shade")
    learner = ActiveLearner(
        LogisticRegression(max_iter=500),
        PurityInformativenessQuery("auto", random_state=0),
        ood_label=ood_label,
        embedding=make_column_transformer(
            (PCA(2, random_state=0), ["px2", "px3", "px5"])
        ),
    ).fit(frame.iloc[:150], y[:150])
    learner.query(frame.iloc[150:400], n_instances=5)
    # msp and energy are never compared (they cannot be held out).
    assert set(learner.query_strategy_.purity_auroc_) == {
        "mahalanobis",
        "knn",
        "knn_contrast",
        "cosine",
    }


def test_auto_purity_raises_what_is_not_a_lack_of_labels():
    X, y, ood_label, _ = user_data("strings")

    def broken_embedding(estimator, X):
        raise ValueError("the embedding hook failed")

    learner = ActiveLearner(
        LogisticRegression(max_iter=500),
        PurityInformativenessQuery("auto", random_state=0),
        ood_label=ood_label,
        embedding=broken_embedding,
    ).fit(X[:150], y[:150])
    with pytest.raises(ValueError, match="the embedding hook failed"):
        learner.query(X[150:400], n_instances=5)


def _categorical_learner(frame=None):
    """`_named_frame` (or `frame`, of its rows) with a categorical column,
    labels, and a learner fitted on its first 80 rows by a classifier that
    reads the dtypes."""
    pd = pytest.importorskip("pandas")
    named, y, ood_label = _named_frame(pd)
    frame = named if frame is None else frame
    frame["shade"] = frame["shade"].astype("category")
    learner = ActiveLearner(
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
        UncertaintyQuery(),
        ood_label=ood_label,
    ).fit(frame.iloc[:80], y[:80])
    return frame, y, learner


def _queried_and_taught(frame, y, learner):
    """`learner` after one query of `frame`'s rows 80-400 and its teach."""
    indices, X_query = learner.query(frame.iloc[80:400], n_instances=5)
    return learner.teach(X_query, y[80:400][indices])


def test_a_classifier_reads_categories_from_the_dataframe_dtypes():
    # A bare estimator got the rows as an object array ("could not convert
    # string to float"), though HistGradientBoostingClassifier takes the frame.
    frame, y, learner = _categorical_learner()
    _queried_and_taught(frame, y, learner)
    assert learner.estimator_[-1].is_categorical_.tolist() == [False] * 8 + [True]
    assert learner.predict(frame.iloc[400:410]).shape == (10,)


@pytest.mark.parametrize("dtype", ["bool", "boolean", "Int64"])
def test_categories_beside_a_bool_or_nullable_column_are_read(dtype):
    # check_array cast such a frame to float64 before anything else, which
    # the string categories could not be ("Cannot cast str dtype to float64").
    pd = pytest.importorskip("pandas")
    frame, _, _ = _named_frame(pd)
    frame.insert(0, "bright", pd.array(frame["px2"] > 4, dtype=dtype))
    if dtype != "bool":
        frame.loc[[3, 90], "bright"] = pd.NA
    frame, y, learner = _categorical_learner(frame)
    _queried_and_taught(frame, y, learner)
    categorical = [False] * 9 + [True]
    assert learner.estimator_[-1].is_categorical_.tolist() == categorical
    taught = learner.estimator_[0].transform(learner.X_labelled_)
    assert taught.dtypes.equals(frame.dtypes)
    assert taught["bright"].isna().any() == (dtype != "bool")
    # pandas.NA beside text in the input as embedding raised a bare TypeError.
    learner.set_params(query_strategy=CoreSetQuery()).fit(frame.iloc[:80], y[:80])
    with pytest.raises(ValueError, match=r"the input itself.*not numeric.*embedding="):
        learner.query(frame.iloc[80:400], n_instances=5)


def test_categories_of_a_dataframe_without_string_column_names_are_read():
    # With names such as pd.DataFrame(array)'s 0, 1, ..., the dtypes were
    # dropped: string categories were refused ("could not convert string to
    # float"), integer ones trained on as numbers.
    pd = pytest.importorskip("pandas")
    frame, y, ood_label = _named_frame(pd)
    frame = frame.astype({"shade": "category"}).set_axis(range(9), axis=1)
    learner = ActiveLearner(
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
        UncertaintyQuery(),
        ood_label=ood_label,
    ).fit(frame.iloc[:80], y[:80])
    _queried_and_taught(frame, y, learner)
    assert learner.estimator_[-1].is_categorical_.tolist() == [False] * 8 + [True]
    assert learner.feature_dtypes_.equals(frame.dtypes)
    # As scikit-learn's, only string names are feature names.
    assert not hasattr(learner, "feature_names_in_")


@pytest.mark.parametrize(
    "names, big",
    [(["px", "px", "shade"], False), ([0, 0, 1], False), ([0, 0, 1], True)],
)
def test_a_dataframe_with_repeated_column_names_is_refused(names, big):
    # Given back to the classifier as a DataFrame, such columns failed with
    # "The truth value of a Series is ambiguous" (in other layouts they were
    # trained on, then refused by scikit-learn at predict).
    pd = pytest.importorskip("pandas")
    frame, y, ood_label = _named_frame(pd)
    frame = frame[["shade", "px2", "px5"]].astype({"shade": "category"})
    if big:  # integers that float64 would round, kept in a DataFrame
        frame = frame.assign(shade=2**60 + np.arange(len(y)))
    frame = frame.set_axis(names, axis=1)
    learner = ActiveLearner(
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
        UncertaintyQuery(),
        ood_label=ood_label,
    )
    with pytest.raises(
        ValueError,
        match="^" + re.escape(f"Column names repeat in the DataFrame ({names[:1]})"),
    ):
        learner.fit(frame.iloc[:80], y[:80])


def test_errors_of_a_dataframe_show_its_long_lists_the_first_20_and_count():
    # They listed every repeated name (the first 5, with no sign of others),
    # every column twice, and every category and unlisted value.
    pd = pytest.importorskip("pandas")
    names = [f"col{i}" for i in range(25)]
    values = np.random.RandomState(0).rand(60, 25)
    with pytest.raises(ValueError) as repeated:
        ActiveLearner(LogisticRegression()).fit(
            pd.DataFrame(np.hstack([values, values]), columns=names * 2),
            np.arange(60) % 2,
        )
    assert re.match(
        r"Column names repeat in the DataFrame \(\['col0', .*, \.\.\.\] "
        r"\(25 names\)\): ",
        str(repeated.value),
    )
    frame = pd.DataFrame(values, columns=names)
    learner = ActiveLearner(LogisticRegression()).fit(frame, np.arange(60) % 2)
    with pytest.raises(ValueError) as reordered:
        learner.predict(frame[names[::-1]])
    assert re.match(
        r"X has the columns \['col24', .*, \.\.\.\] \(25 columns\), but the "
        r"learner was fitted on \['col0', .*, \.\.\.\] \(25 columns\): ",
        str(reordered.value),
    )
    assert "differ at" not in str(reordered.value)
    swapped = [*names[:21], names[22], names[21], *names[23:]]
    with pytest.raises(ValueError, match=r"\(they first differ at column 21\): "):
        learner.predict(frame[swapped])
    categories = pd.CategoricalDtype([f"k{i}" for i in range(25)])
    coded = pd.DataFrame(
        {
            "a": np.arange(60.0),
            "k": pd.Series(categories.categories[np.arange(60) % 25]).astype(
                categories
            ),
        }
    )
    learner = ActiveLearner(
        HistGradientBoostingClassifier(max_iter=2, random_state=0)
    ).fit(coded, np.arange(60) % 2)
    unseen = pd.DataFrame({"a": np.arange(25.0), "k": [f"new{i}" for i in range(25)]})
    with pytest.raises(ValueError) as unlisted:
        learner.teach(unseen, np.arange(25) % 2)
    assert re.match(
        r"Column 'k' of X holds \['new0', .*, \.\.\.\] \(25 values\), which "
        r"its categorical dtype at fit does not list \(\['k0', .*, \.\.\.\] "
        r"\(25 categories\)\)",
        str(unlisted.value),
    )
    for error in (repeated, reordered, unlisted):
        assert len(str(error.value)) < 800


@pytest.mark.parametrize(
    "columns, at",
    [
        (lambda n: [*n[:20], n[21], n[20], *n[22:]], 20),  # the first not shown
        (lambda n: n[:24], 24),  # the last column left out
        (lambda n: [*n, "extra"], 25),  # a column added at the end
    ],
    ids=["swapped-at-20", "one-fewer", "one-more"],
)
def test_columns_that_differ_past_the_20_shown_are_told_where(columns, at):
    # From column 20 on the two lists shown look alike: the message says
    # where they first differ, where one list ends before the other too.
    pd = pytest.importorskip("pandas")
    names = [f"col{i}" for i in range(25)]
    values = np.random.RandomState(0).rand(60, 26)
    learner = ActiveLearner(LogisticRegression()).fit(
        pd.DataFrame(values[:, :25], columns=names), np.arange(60) % 2
    )
    given = columns(names)
    with pytest.raises(ValueError, match=rf"\(they first differ at column {at}\): "):
        learner.predict(pd.DataFrame(values[:, : len(given)], columns=given))


@pytest.mark.parametrize("dtype", [None, "Float64", object])
def test_inf_beside_categories_is_refused(dtype):
    # check_array refuses inf in arrays of numbers, not in the object array of
    # a DataFrame with a categorical or text column: the classifier took it.
    # A column of floats is checked as such, one of objects cell by cell.
    frame, y, learner = _categorical_learner()
    pool = frame.iloc[80:120].copy()
    if dtype is not None:
        pool[pool.columns[0]] = pool[pool.columns[0]].astype(dtype)
        pool.iloc[1, 0] = None  # a missing value beside the inf
    pool.iloc[2, 0] = -np.inf
    with pytest.raises(ValueError, match="X_pool contains infinity: give finite"):
        learner.query(pool, n_instances=5)
    with pytest.raises(ValueError, match="X contains infinity"):
        learner.teach(pool, y[80:120])
    assert len(learner.y_labelled_) == 80


def test_a_category_the_fitted_dtype_lacks_is_refused_at_teach_only():
    # Cast to the fitted dtype, taught rows of a new category became NaN, so
    # the classifier trained on them without their category, silently.
    frame, y, learner = _categorical_learner()
    pool = frame.iloc[80:120].copy()
    pool["shade"] = pool["shade"].cat.add_categories("grey")
    pool.iloc[:5, pool.columns.get_loc("shade")] = "grey"
    # Queried or predicted, a new category is a missing value (not left to
    # pandas' cast, which warns that it will refuse it).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        indices, X_query = learner.query(pool, n_instances=40)
        assert learner.predict(pool).shape == (40,)
    with pytest.raises(
        ValueError, match=r"Column 'shade' of X holds \['grey'\].*CategoricalDtype"
    ):
        learner.teach(X_query, y[80:120][indices])
    assert len(learner.y_labelled_) == 80
    # Declared up front, it is learnt from.
    shades = pytest.importorskip("pandas").CategoricalDtype(["dark", "grey", "light"])
    learner.fit(frame.iloc[:80].astype({"shade": shades}), y[:80])
    learner.teach(pool.astype({"shade": shades}), y[80:120])
    taught = learner.estimator_[0].transform(learner.X_labelled_)
    assert taught["shade"].notna().all()


def test_a_missing_category_is_taught_as_missing_not_refused():
    # A blank categorical cell is no category the dtype lacks: it is a
    # missing value, which the classifier reads as such, not a row to refuse.
    frame, y, learner = _categorical_learner()
    pool = frame.iloc[80:120].copy()
    pool.iloc[:5, pool.columns.get_loc("shade")] = np.nan
    learner.teach(pool, y[80:120])
    assert len(learner.y_labelled_) == 120
    taught = learner.estimator_[0].transform(learner.X_labelled_)
    assert taught["shade"].isna().tolist() == [False] * 80 + [True] * 5 + [False] * 35


def test_distances_in_a_non_numeric_input_name_the_embedding_remedy():
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    frame, y, ood_label = _named_frame(pd)
    frame["shade"] = frame["shade"].astype("category")
    estimator = HistGradientBoostingClassifier(max_iter=10, random_state=0)
    learner = ActiveLearner(estimator, CoreSetQuery(), ood_label=ood_label)
    learner.fit(frame.iloc[:80], y[:80])
    with pytest.raises(ValueError, match=r"the input itself.*not numeric.*embedding="):
        learner.query(frame.iloc[80:400], n_instances=5)
    learner.set_params(
        embedding=make_column_transformer(
            (OneHotEncoder(), ["shade"]), remainder="passthrough"
        )
    ).fit(frame.iloc[:80], y[:80])
    indices, _ = learner.query(frame.iloc[80:400], n_instances=5)
    assert len(set(indices)) == 5


def test_raw_texts_go_in_as_one_column_for_a_vectorizer():
    # A 1-D array of texts got scikit-learn's "reshape(-1, 1)" advice, after
    # which a TfidfVectorizer first in the pipeline fails on 2-D rows.
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer

    rng = np.random.RandomState(0)
    words = {0: "cat dog pet", 1: "car road wheel", -1: "stock market bond"}
    y = rng.choice([0, 1, -1], size=120)
    texts = np.array([" ".join(rng.choice(words[c].split(), 4)) for c in y], object)
    estimator = make_pipeline(
        make_column_transformer((TfidfVectorizer(), 0)), LogisticRegression()
    )
    # The column transformer first: reshaped alone, the texts fail in a plain
    # make_pipeline(TfidfVectorizer(), ...).
    with pytest.raises(
        ValueError, match=r"X\.reshape\(-1, 1\), to a pipeline.*TfidfVectorizer\(\), 0"
    ) as raised:
        ActiveLearner(estimator, MQNetQuery(random_state=0)).fit(texts[:40], y[:40])
    assert "Reshape your data" not in str(raised.value)
    learner = ActiveLearner(estimator, MQNetQuery(random_state=0))
    learner.fit(texts[:40, None], y[:40])
    with pytest.raises(ValueError, match=r"X: Expected 2D array, got 1D"):
        learner.predict(texts[0, None])
    indices, X_query = learner.query(texts[40:, None], n_instances=5)
    learner.teach(X_query, y[40:][indices])
    assert learner.score(texts[y != -1, None], y[y != -1]) > 0.9


def test_one_dimensional_rows_get_a_short_message_naming_the_argument():
    # 900 long texts gave a 712,945-character message (scikit-learn's
    # array=[...] repr), and a Series lost its name and .to_frame() advice.
    import pandas as pd

    texts = np.array([f"word{i} " * 100 for i in range(900)], dtype=object)
    y = np.arange(900) % 2
    learner = ActiveLearner(LogisticRegression(), RandomQuery(0))
    with pytest.raises(ValueError) as raised:
        learner.fit(texts, y)
    message = str(raised.value)
    assert len(message) < 600
    assert message.startswith("X: ") and "X.reshape(-1, 1)" in message
    assert "TfidfVectorizer(), 0" in message
    # A list is reshaped by np.reshape.
    with pytest.raises(ValueError, match=r"^X: .*np\.reshape\(X, \(-1, 1\)\)"):
        learner.fit(list(range(900)), y)
    learner.fit(np.c_[np.arange(900.0)], y)
    with pytest.raises(ValueError, match=r"^X_pool: .*X_pool\.to_frame\(\)"):
        learner.query(pd.Series(np.arange(10.0)))


class _FirstColumnVectorizer(TransformerMixin, BaseEstimator):
    """A vectorizer of a column of texts, with an analyzer but none of
    scikit-learn's vectorizer settings."""

    def build_analyzer(self):
        return str.split

    def fit(self, X, y=None):
        from sklearn.feature_extraction.text import CountVectorizer

        self.counts_ = CountVectorizer().fit(X[:, 0])
        return self

    def transform(self, X):
        return self.counts_.transform(X[:, 0])


def test_a_vectorizer_first_in_a_plain_pipeline_is_refused_at_fit():
    # The texts reshaped as the learner asks, make_pipeline(TfidfVectorizer(),
    # ...) read each row, an array, as a text: scikit-learn's AttributeError
    # "'numpy.ndarray' object has no attribute 'lower'", at query or fit.
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import (
        CountVectorizer,
        HashingVectorizer,
        TfidfVectorizer,
    )

    rng = np.random.RandomState(0)
    words = {0: "cat dog pet", 1: "car road wheel", -1: "stock market bond"}
    y = rng.choice([0, 1, -1], size=60)
    texts = np.array([" ".join(rng.choice(words[c].split(), 4)) for c in y], object)
    for vectorizer in (TfidfVectorizer(), HashingVectorizer()):
        plain = ActiveLearner(make_pipeline(vectorizer, LogisticRegression()))
        name = type(vectorizer).__name__
        with pytest.raises(
            ValueError,
            match=rf"first step, {name}, reads a 1-D.*make_column_transformer"
            rf"\(\({name}\(\.\.\.\), 0\)\)",
        ):
            plain.fit(texts[:40, None], y[:40])
    # So does a callable tokenizer after lowercasing, a step that takes a
    # string, as scikit-learn's own error says.
    lowered = CountVectorizer(tokenizer=lambda row: row[0].split(), token_pattern=None)
    with pytest.raises(ValueError, match="first step, CountVectorizer, reads a 1-D"):
        ActiveLearner(make_pipeline(lowered, LogisticRegression())).fit(
            texts[:40, None], y[:40]
        )
    with pytest.raises(AttributeError, match="no attribute 'lower'"):
        make_pipeline(lowered, LogisticRegression()).fit(texts[:40, None], y[:40])
    # And stripping accents by name, where nothing lowercases first.
    stripped = CountVectorizer(lowercase=False, strip_accents="ascii")
    with pytest.raises(ValueError, match="first step, CountVectorizer, reads a 1-D"):
        ActiveLearner(make_pipeline(stripped, LogisticRegression())).fit(
            texts[:40, None], y[:40]
        )
    # A callable that reads each item first may read the rows: an analyzer, a
    # preprocessor, or a tokenizer where nothing lowercases before it; and a
    # vectorizer without scikit-learn's settings is left to its own errors.
    for vectorizer in (
        TfidfVectorizer(analyzer=lambda row: row[0].split()),
        TfidfVectorizer(preprocessor=lambda row: row[0].lower()),
        CountVectorizer(
            lowercase=False, tokenizer=lambda row: row[0].split(), token_pattern=None
        ),
        CountVectorizer(lowercase=False, strip_accents=lambda row: row[0]),
        _FirstColumnVectorizer(),
    ):
        ActiveLearner(make_pipeline(vectorizer, LogisticRegression())).fit(
            texts[:40, None], y[:40]
        )
    # The column transformer is the remedy, and picks what an unwrapped
    # vectorizer fitted on 1-D texts would.
    wrapped = ActiveLearner(
        make_pipeline(
            make_column_transformer((TfidfVectorizer(), 0)), LogisticRegression()
        ),
        UncertaintyQuery(),
    ).fit(texts[:40, None], y[:40])
    indices, _ = wrapped.query(texts[40:, None], n_instances=5)
    unwrapped = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(
        texts[:40][y[:40] != -1], y[:40][y[:40] != -1]
    )
    margins = np.diff(np.sort(unwrapped.predict_proba(texts[40:]), axis=1)[:, -2:])
    np.testing.assert_array_equal(
        np.sort(indices), np.sort(np.argsort(margins[:, 0])[:5])
    )


def _sparse_entry_points():
    """(name, call(X)) of each entry point that takes rows or scores, for a
    sparse X of 40 rows and 4 columns (scores: probabilities)."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(40, 4), np.arange(40) % 3 - 1

    def fitted():
        return ActiveLearner(LogisticRegression(), UncertaintyQuery()).fit(X, y)

    def skactiveml(S):
        labels = np.where(np.arange(40) < 20, y, np.nan)
        return SkactivemlQuery(UncertaintyQuery()).query(
            S, labels, LogisticRegression()
        )

    return {
        "fit": lambda S: ActiveLearner(LogisticRegression()).fit(S, y),
        "X_training": lambda S: ActiveLearner(
            LogisticRegression(), X_training=S, y_training=y
        ).query(X),
        "query": lambda S: fitted().query(S),
        "teach": lambda S: fitted().teach(S, y),
        "predict": lambda S: fitted().predict(S),
        "predict_proba": lambda S: fitted().predict_proba(S),
        "decision_function": lambda S: fitted().decision_function(S),
        "score": lambda S: fitted().score(S, np.abs(y)),
        "make_open_set_split": lambda S: skal_openset.make_open_set_split(
            S, y + 1, in_classes=[1, 2], initial_size=10, random_state=0
        ),
        "SkactivemlQuery": skactiveml,
        "MetaInputTransformer": lambda S: skal_openset.MetaInputTransformer().fit(S),
        "MetaInputTransformer.transform": lambda S: (
            skal_openset.MetaInputTransformer().fit(X).transform(S)
        ),
        "knn_purity": lambda S: skal_openset.knn_purity(S, X),
        "msp_purity": lambda S: skal_openset.msp_purity(S),
        "margin_informativeness": lambda S: skal_openset.margin_informativeness(S),
        "energy_purity": lambda S: skal_openset.energy_purity(S),
        "gradient_embedding": lambda S: skal_openset.gradient_embedding(
            np.full((40, 4), 0.25), S
        ),
    }


@pytest.mark.parametrize("entry", list(_sparse_entry_points()))
def test_a_sparse_matrix_is_refused_with_its_dense_size_and_the_remedies(entry):
    # scikit-learn's own error advised ".toarray()" first, which for a hashed
    # matrix of 10,000 texts is 78 GiB; X_training was taken at construction.
    from scipy import sparse

    call = _sparse_entry_points()[entry]
    X = sparse.csr_matrix(np.random.RandomState(1).dirichlet(np.ones(4), 40))
    with pytest.raises(TypeError) as raised:
        call(X)
    message = str(raised.value)
    assert re.match(r"\w+ is a scipy\.sparse matrix of shape 40 x 4, which would "
                    r"take 0\.00 MiB dense", message)  # fmt: skip
    assert "Use '.toarray()'" not in message
    # Probabilities and logits, one column per class, reduced would be neither.
    if entry in {"msp_purity", "margin_informativeness", "energy_purity"}:
        assert "TruncatedSVD" not in message
        assert message.endswith(
            "pass them dense, " + message.split()[0] + ".toarray()."
        )
        return
    assert message.index("TruncatedSVD(n_components=100)") < message.index(".toarray()")
    rows = entry not in {
        "MetaInputTransformer",
        "MetaInputTransformer.transform",
        "knn_purity",
        "gradient_embedding",
    }
    assert ("make_column_transformer((TfidfVectorizer(), 0))" in message) == rows
    if entry == "X_training":
        assert message.startswith("X_training is")


@pytest.mark.parametrize("fill_value", [0.0, np.nan])
@pytest.mark.parametrize("entry", list(_sparse_entry_points()))
def test_a_dataframe_of_sparse_columns_is_refused_with_its_own_remedy(
    entry, fill_value
):
    # scikit-learn makes it a sparse matrix, and its error advised
    # ".toarray()", which a DataFrame lacks. NaN, a float SparseArray's
    # default fill value, failed in to_coo: "fill value must be 0".
    pd = pytest.importorskip("pandas")
    values = np.random.RandomState(1).dirichlet(np.ones(4), 40)
    frame = pd.DataFrame(values).astype(pd.SparseDtype(float, fill_value))
    with pytest.raises(TypeError) as raised:
        _sparse_entry_points()[entry](frame)
    message = str(raised.value)
    assert re.match(r"\w+ is a DataFrame of sparse columns of shape 40 x 4", message)
    assert message.endswith(message.split()[0] + ".sparse.to_dense().")
    assert "toarray" not in message


@pytest.mark.parametrize("entry", list(_sparse_entry_points()))
def test_a_dataframe_with_no_columns_is_refused_as_an_array_of_none_is(entry):
    # make_open_set_split made a pool of shape (26, 0) of it, and fit failed
    # with NumPy's "at least one array or dtype is required".
    pd = pytest.importorskip("pandas")
    call = _sparse_entry_points()[entry]
    with pytest.raises(
        ValueError, match=r"^Found array with 0 feature\(s\)"
    ) as refused:
        call(np.empty((40, 0)))
    with pytest.raises(ValueError) as raised:
        call(pd.DataFrame(index=range(40)))
    assert str(raised.value) == str(refused.value)


def test_a_dataframe_of_sparse_columns_is_sized_by_its_widest_dtype():
    # float64 beside float32: 8 bytes a value dense, as to_dense makes it.
    pd = pytest.importorskip("pandas")
    n = 2**17
    frame = pd.DataFrame(
        {
            "a": pd.arrays.SparseArray(np.zeros(n)),
            "b": pd.arrays.SparseArray(np.zeros(n, dtype=np.float32)),
        }
    )
    message = f"shape {n} x 2, which would take 2.00 MiB dense"
    with pytest.raises(TypeError, match=message):
        make_open_set_split(frame, np.arange(n) % 3)


def test_a_one_dimensional_sparse_array_is_refused_as_sparse():
    # It was given the 1-D advice, np.reshape, which fails on a sparse array.
    pytest.importorskip("scipy", minversion="1.13")  # 1-D sparse arrays
    from scipy import sparse

    column = sparse.coo_array(np.random.RandomState(1).rand(40))
    for call in _sparse_entry_points().values():
        with pytest.raises(
            TypeError, match=r"^\w+ is a scipy\.sparse matrix of shape 40,"
        ):
            call(column)


class _ForeignFrame:
    """A DataFrame of another library, as polars' looks to the package: names
    and dtypes of its columns, but not pandas' (no ``kind``, no ``iloc``)."""

    __module__ = "polars.dataframe.frame"

    def __init__(self, values):
        self.values, self.shape = values, values.shape
        self.columns = [f"x{j}" for j in range(values.shape[1])]
        self.dtypes = [object()] * values.shape[1]

    def __len__(self):
        return len(self.values)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.values, columns=self.columns)

    def to_numpy(self):
        return self.values


class _ArrowTable:
    """A pyarrow Table as the package sees it: ``columns`` are its arrays,
    no dtypes, and to_pandas but no to_numpy."""

    __module__ = "pyarrow.lib"

    def __init__(self, values):
        self.values, self.shape = values, values.shape
        self.columns = list(values.T)

    def __len__(self):
        return len(self.values)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.values)


_FRAME_ENTRY_POINTS = [
    "fit",
    "X_training",
    "query",
    "teach",
    "predict",
    "predict_proba",
    "decision_function",
    "score",
    "make_open_set_split",
]


@pytest.mark.parametrize("entry", _FRAME_ENTRY_POINTS)
def test_a_dataframe_of_another_library_is_refused_with_the_remedy(entry):
    # A polars DataFrame failed with "'Float64' object has no attribute 'kind'".
    call = _sparse_entry_points()[entry]
    frame = _ForeignFrame(np.random.RandomState(1).rand(40, 4))
    name = "X_pool" if entry == "query" else "X"
    with pytest.raises(
        TypeError,
        match=rf"^{name} is a polars \w+, but this package takes pandas "
        rf"DataFrames or arrays: pass {name}\.to_pandas\(\)",
    ):
        call(frame)


@pytest.mark.parametrize("entry", _FRAME_ENTRY_POINTS)
def test_a_pyarrow_table_is_refused_naming_the_conversion_it_has(entry):
    # Its columns, arrays not names, were read as such: fit failed with "no
    # attribute 'dtypes'", query and predict printed every value as a column
    # name; the remedy named to_numpy, which a Table lacks.
    call = _sparse_entry_points()[entry]
    name = "X_pool" if entry == "query" else "X"
    with pytest.raises(TypeError) as raised:
        call(_ArrowTable(np.random.RandomState(1).rand(40, 4)))
    assert str(raised.value) == (
        f"{name} is a pyarrow _ArrowTable, but this package takes pandas "
        f"DataFrames or arrays: pass {name}.to_pandas() (which keeps the column "
        "names and dtypes; it may need pyarrow)."
    )


def test_a_large_sparse_matrix_is_refused_in_gib():
    from scipy import sparse

    learner = ActiveLearner(LogisticRegression())
    with pytest.raises(TypeError, match=r"^X is .* 10000 x 1048576, which would take "
                       r"78\.1 GiB dense"):  # fmt: skip
        learner.fit(sparse.csr_matrix((10_000, 2**20)), np.arange(10_000) % 2)


def test_a_large_sparse_embedding_warns_and_names_truncated_svd(monkeypatch):
    # A text pipeline's embedding is its TF-IDF matrix, densified for the
    # distances: with a large vocabulary that is gigabytes, which the README's
    # TruncatedSVD embedding saves. The threshold is made small to keep it tiny.
    from sklearn.compose import make_column_transformer
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    rng = np.random.RandomState(0)
    y = rng.choice([0, 1, -1], size=120)
    words = rng.randint(0, 100, size=(120, 5)) + 100 * (y[:, None] + 1)
    texts = np.array([" ".join(f"w{i}" for i in row) for row in words], object)[:, None]
    vectorizer = make_column_transformer((TfidfVectorizer(), 0))
    estimator = make_pipeline(vectorizer, LogisticRegression())
    learner = ActiveLearner(estimator, MQNetQuery(random_state=0))
    learner.fit(texts[:40], y[:40])
    n, d = learner.estimator_[0].transform(texts[40:]).shape
    monkeypatch.setattr(
        skal_openset._model_scores, "DENSE_EMBEDDING_WARN_BYTES", n * d * 8
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model_embedding(learner, texts[40:])  # at the threshold: no warning
    monkeypatch.setattr(
        skal_openset._model_scores, "DENSE_EMBEDDING_WARN_BYTES", n * d * 8 - 1
    )
    with pytest.warns(UserWarning, match=rf"{n} x {d} matrix.*TruncatedSVD") as record:
        learner.query(texts[40:], n_instances=5)
    assert record[0].filename == __file__
    embedding = make_pipeline(vectorizer, TruncatedSVD(n_components=5, random_state=0))
    learner.set_params(embedding=embedding).fit(texts[:40], y[:40])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        indices, _ = learner.query(texts[40:], n_instances=5)
    assert len(set(indices.tolist())) == 5
    assert model_embedding(learner, texts[40:]).shape == (80, 5)


# ---------------------------------------------------------- missing values


def _with_missing_values(X, share=0.05):
    X = X.copy()
    X[np.random.RandomState(0).uniform(size=X.shape) < share] = np.nan
    return X


@pytest.mark.parametrize(
    "estimator, strategy",
    [
        (
            lambda: make_pipeline(
                SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=500)
            ),
            MQNetQuery,
        ),
        (
            lambda: make_pipeline(
                make_pipeline(SimpleImputer(), StandardScaler()),
                LogisticRegression(max_iter=500),
            ),
            MQNetQuery,
        ),
        (lambda: HistGradientBoostingClassifier(max_iter=10), UncertaintyQuery),
    ],
    ids=["imputing-pipeline", "nested-imputing-pipeline", "hist-gradient-boosting"],
)
def test_missing_values_go_to_a_classifier_that_takes_them(estimator, strategy):
    # Every NaN used to be refused by the learner and the strategies, though
    # the README promises any classifier or pipeline.
    X, y, _, _ = user_data("ints")
    X = _with_missing_values(X)
    learner = ActiveLearner(estimator(), strategy(random_state=0)).fit(X[:80], y[:80])
    indices, X_query = learner.query(X[80:400], n_instances=10)
    assert np.isnan(X_query).any() and len(set(indices)) == 10
    learner.teach(X_query, y[80:400][indices])
    assert np.isnan(learner.X_labelled_).any() and len(learner.y_labelled_) == 90
    assert learner.predict(X[400:420]).shape == (20,)


def test_a_queried_nan_taught_back_from_a_file_is_the_queried_row():
    # 0/0 gives a NaN with its sign bit set, a NaN read from a CSV file does
    # not: MQNetQuery refused its own query's rows as rows no query returned.
    X, y, _, _ = user_data("ints")
    X = _with_missing_values(X)
    X[np.isnan(X)] = -np.float64(np.nan)
    assert np.signbit(X[np.isnan(X)]).all()
    estimator = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500))
    learner = ActiveLearner(estimator, MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    indices, X_query = learner.query(X[80:400], n_instances=10)
    assert np.isnan(X_query).any()
    read_back = np.where(np.isnan(X_query), np.nan, X_query)  # as pandas reads it
    assert not np.signbit(read_back[np.isnan(read_back)]).any()
    learner.teach(read_back, y[80:400][indices])
    assert len(learner.y_labelled_) == 90


def test_a_value_beyond_float32_is_keyed_without_a_warning():
    # row_keys compares at float32 precision: the cast warned of an overflow
    # at every query and teach of a float64 pool with such values.
    rng = np.random.RandomState(0)
    X = 1e39 + rng.rand(100, 3) * 1e40  # float32 ends at 3.4e38
    y = np.where(rng.rand(100) < 0.3, -1, rng.randint(0, 3, 100))
    learner = ActiveLearner(GaussianNB(), MQNetQuery(random_state=0)).fit(
        X[:60], y[:60]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        indices, X_query = learner.query(X[60:], n_instances=5)
        learner.teach(X_query, y[60:][indices])
        # Rows that hold text too (a DataFrame's object columns).
        from skal_openset._rows import row_keys

        row_keys(np.array([["a", 1e39]], dtype=object))


def test_missing_values_in_a_column_that_was_integer_name_the_column():
    # pandas' own "cannot convert float NaN to integer" named no remedy.
    pd = pytest.importorskip("pandas")
    X, y, _, _ = user_data("ints")
    # Intensities 0 to 16: cast from [0, 1], nearly every row was of zeros,
    # as rows of other labels were (warned of as one row labelled twice).
    pixels = np.rint(X[:, 8:16] * 16).astype(int)
    frame = pd.DataFrame(pixels, columns=[f"px{i}" for i in range(8)])
    estimator = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500))
    learner = ActiveLearner(estimator, UncertaintyQuery()).fit(frame[:80], y[:80])
    pool = frame[80:200].astype(float)
    pool.iloc[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"'px2' was int64.*as float"):
        learner.query(pool, n_instances=5)


@pytest.mark.parametrize(
    "column, dtype, value, read_as",
    [
        ("dose", "int64", 4.9, "4"),
        ("dose", "uint8", 300.0, "44"),
        ("flag", "bool", 2.0, "1"),
    ],
)
def test_a_number_an_integer_column_cannot_hold_is_refused(
    column, dtype, value, read_as
):
    # It was cast to the fit's dtype: 4.9 became 4, 300 became 44 in a uint8
    # column, and the classifier predicted for numbers it was never given.
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"dose": rng.randint(0, 10, 200), "flag": rng.rand(200) > 0.5})
    X = X.astype({column: dtype})
    y = (X["dose"] >= 5).astype(int).to_numpy()
    learner = ActiveLearner(make_pipeline(StandardScaler(), LogisticRegression())).fit(
        X, y
    )
    new = X.iloc[:3].astype(float)
    assert learner.predict(new).tolist() == learner.predict(X.iloc[:3]).tolist()
    new.iloc[1, new.columns.get_loc(column)] = value
    with pytest.raises(
        ValueError, match=rf"'{column}' was {dtype}.*{value:g}.*read as {read_as}: fit"
    ):
        learner.predict_proba(new)


def test_text_in_a_bool_column_is_refused_not_read_as_true():
    # A bool column's cast reads any text as True: rows taught "no" trained
    # the classifier on True, and their predictions were for True.
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = pd.DataFrame({"flag": rng.rand(60) > 0.5, "x": rng.rand(60)})
    y = X["flag"].astype(int).to_numpy()
    learner = ActiveLearner(make_pipeline(StandardScaler(), LogisticRegression()))
    learner.fit(X, y)
    rows = X[~X["flag"]].iloc[:4]
    # beside a bool and a missing value, which are no text
    answers = rows.astype({"flag": object}).assign(flag=[False, None, "no", "no"])
    message = r"'flag' was bool.* hold 'no', which is no number: bool would read"
    for call in (learner.predict, lambda X: learner.teach(X, [0, 0, 0, 0])):
        with pytest.raises(ValueError, match=message + r" it as True\. Give"):
            call(answers)
    assert len(learner.y_labelled_) == 60
    # The remedy it gives works.
    answers["flag"] = answers["flag"] == "yes"
    assert learner.predict(answers).tolist() == learner.predict(rows).tolist()


def _id_parity(frame):
    return (frame[["id"]].to_numpy() % 2).astype(float)


def _fit_on_ids(ids):
    """A learner fitted on a frame of integer `ids` beside a float column,
    checked to keep every id as it is (rows labelled by the ids' parity)."""
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame({"id": ids, "x": np.zeros(40)})
    y = np.where(np.arange(40) < 36, (ids % 2).astype(np.int64), -1)
    estimator = make_pipeline(FunctionTransformer(_id_parity), LogisticRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "rows share their features" warning
        learner = ActiveLearner(estimator).fit(X, y)
    assert learner.X_labelled_[:, 0].tolist() == ids.tolist()
    assert learner.score(X.iloc[:36], y[:36]) == 1.0
    return learner, X


def test_integers_beyond_float64_precision_keep_their_values():
    # A frame of an int64 column beyond 2**53 beside a float one became one
    # float64 array: ids 2**53 + 1 and 2**53 were one row, the learner warned
    # of rows labelled otherwise and trained on rounded ids (int64's largest
    # was refused as 2**63).
    learner, X = _fit_on_ids(2**53 + np.arange(40))
    X["id"] = [0, 2**63 - 1] * 20
    learner.fit(X, np.arange(40) % 2)
    assert learner.X_labelled_[:2, 0].tolist() == [0, 2**63 - 1]
    # Given as floats, int64's largest is 2**63, which int64 wraps; rows
    # without the columns' names are warned of, as in scikit-learn.
    with (
        pytest.raises(ValueError, match=r"Floats are exact for integers up to"),
        pytest.warns(UserWarning, match="X does not have valid feature names"),
    ):
        learner.predict(X.to_numpy(dtype=float))


def test_unsigned_integers_beyond_float64_precision_keep_their_values():
    # uint64 ids as int64 ones: 2**63 + 1 and 2**63 would be one float64.
    _fit_on_ids(np.uint64(2**63) + np.arange(40, dtype=np.uint64))


def test_negative_integers_beyond_float64_precision_keep_their_values():
    # As below -2**53 as above 2**53: ids -2**53 - 1 and -2**53 would be one
    # float64, one row labelled otherwise.
    _fit_on_ids(-(2**53) - np.arange(40))


@pytest.mark.parametrize("given", ["Int64", "list", "numpy integers"])
def test_labels_beyond_2_53_stay_two_classes(given):
    # A pandas nullable Int64 column was read as float64 (and a list of big
    # integers beside a float OOD label as floats), so the classes 2**53 and
    # 2**53 + 1 became one: the learner trained on one class, and the oracle
    # answered 2**53 for a row labelled 2**53 + 1. A list of numpy integers
    # did so still: np.int64(2**53 + 1) equals the float it rounds to.
    pd = pytest.importorskip("pandas")
    X = RandomState(0).rand(60, 3)
    big = [2**53] * 20 + [2**53 + 1] * 20
    y = pd.Series(big + [-1] * 20, dtype="Int64")
    ood_label = -1
    if given == "list":
        y, ood_label = big + [-0.5] * 20, -0.5
    if given == "numpy integers":
        y, ood_label = [np.int64(v) for v in big] + [-0.5] * 20, -0.5
    oracle = OpenSetOracle(y, ood_label=ood_label)
    assert oracle.label([0, 25, 45]).tolist() == [2**53, 2**53 + 1, ood_label]
    learner = ActiveLearner(LogisticRegression(), ood_label=ood_label).fit(X, y)
    assert learner.classes_.tolist() == [2**53, 2**53 + 1]
    split = make_open_set_split(X, y, in_classes=[2**53, 2**53 + 1], random_state=0)
    assert split.in_classes.tolist() == [2**53, 2**53 + 1]


def test_a_list_of_integers_and_floats_is_objects_only_where_floats_would_round():
    # Integers that float64 holds exactly stay the floats NumPy reads (the
    # classes scikit-learn gives); only one beyond 2**53 keeps the list as
    # it was given.
    labels = label_array([1, 2, 0.5])
    assert labels.dtype == np.float64 and labels.tolist() == [1.0, 2.0, 0.5]
    labels = label_array([2**53 + 1, 0.5])
    assert labels.dtype == object and labels.tolist() == [2**53 + 1, 0.5]


def test_missing_nullable_integer_labels_stay_nan_as_they_were():
    # Kept exact as objects, missing nullable Int64 labels became pandas.NA,
    # not the NaN column_or_1d made them: score raised "boolean value of NA
    # is ambiguous", and SkactivemlQuery, whose missing_label is NaN, refused
    # the unlabelled rows it had taken. score now refuses the missing label
    # first, as teach does, where it named the OOD row beside it.
    pd = pytest.importorskip("pandas")
    y = pd.Series([2**53, 2**53 + 1, None], dtype="Int64")
    labels = label_array(y)
    assert labels[:2].tolist() == [2**53, 2**53 + 1] and np.isnan(labels[2])
    X = RandomState(0).rand(40, 3)
    y = pd.Series([1, 2, -1, 1] * 5 + [None] * 20, dtype="Int64")
    learner = ActiveLearner(LogisticRegression(), ood_label=-1).fit(X[:4], y[:4])
    with pytest.raises(ValueError, match="^y contains None or NaN; every example"):
        learner.score(X[:4], y[[0, 1, 2, 20]].reset_index(drop=True))
    with pytest.raises(ValueError, match="y holds ood_label=-1 in 1 rows"):
        learner.score(X[:4], y[:4])
    query = SkactivemlQuery(MQNetQuery(random_state=0), ood_label=-1, classes=[1, 2])
    chosen = query.query(X, y, LogisticRegression(), batch_size=3)
    assert len(chosen) == 3 and (chosen >= 20).all()


@pytest.mark.parametrize("dtype", ["Int64", "boolean"])
def test_a_nullable_column_of_one_dataframe_keeps_its_labels_and_warns(dtype):
    # A one-column DataFrame went through column_or_1d, which read nullable
    # booleans as the classes 0.0 and 1.0 and a missing Int64 label as NaN
    # ("pass the finite rows"), where a Series keeps bools and pandas.NA.
    pd = pytest.importorskip("pandas")
    X = RandomState(0).rand(40, 3)
    values = [True, False] * 20 if dtype == "boolean" else [2**53, 2**53 + 1] * 20
    y = pd.DataFrame({"y": pd.array(values, dtype=dtype)})
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        learner = ActiveLearner(LogisticRegression(), ood_label=-1).fit(X, y)
    assert learner.classes_.tolist() == sorted(set(values))
    assert type(learner.classes_[0]) is type(learner.predict(X)[0])
    assert learner.predict(X).dtype == (bool if dtype == "boolean" else np.int64)
    y.loc[3, "y"] = pd.NA
    with (
        pytest.raises(ValueError, match=r"pd\.isna\(y\)"),
        pytest.warns(DataConversionWarning, match="column-vector y"),
    ):
        ActiveLearner(LogisticRegression(), ood_label=-1).fit(X, y)


def test_date_and_duration_columns_go_to_a_pipeline_as_they_are():
    # A datetime64 or timedelta64 column beside numbers failed in check_array
    # with numpy's DTypePromotionError, where plain scikit-learn fits.
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "a": rng.normal(size=60),
            "b": rng.normal(size=60),
            "when": pd.date_range("2020-01-01", periods=60),
            "took": pd.to_timedelta(np.arange(60), unit="s"),
        }
    )
    y = np.r_[[0, 1, -1] * 20]
    columns = make_column_transformer(("passthrough", ["a", "b"]))
    learner = ActiveLearner(make_pipeline(columns, LogisticRegression()))
    learner.fit(X.iloc[:30], y[:30])
    indices, _ = learner.query(X.iloc[30:], n_instances=3)
    learner.teach(X.iloc[30:].iloc[indices], y[30:][indices])
    assert learner.X_labelled_[0, 2] == pd.Timestamp("2020-01-01")
    assert learner.feature_dtypes_["took"].kind == "m"


def test_complex_features_are_refused_naming_the_input():
    # check_array's "Complex data not supported" named no input and printed
    # the whole array.
    X = np.random.default_rng(0).random((40, 3))
    y = np.arange(40) % 3 - 1
    learner = ActiveLearner(LogisticRegression(), UncertaintyQuery()).fit(X, y)
    match = r"X_pool holds complex numbers; .*np.hstack\(\[X_pool.real, X_pool.imag"
    with pytest.raises(ValueError, match=match):
        learner.query(X.astype(complex), n_instances=2)
    with pytest.raises(ValueError, match=r"^X holds complex numbers"):
        ActiveLearner(LogisticRegression()).fit(X.astype(complex), y)


def test_an_array_in_a_cell_is_left_to_the_classifier():
    # The check for missing values failed first, with numpy's "truth value of
    # an array ... is ambiguous".
    X = np.random.default_rng(0).random((40, 3))
    learner = ActiveLearner(LogisticRegression(), UncertaintyQuery())
    learner.fit(X, np.arange(40) % 3 - 1)
    pool = X.astype(object)
    pool[0, 0] = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="setting an array element with a sequence"):
        learner.query(pool, n_instances=2)


class _NaNInNaNOut(ClassifierMixin, BaseEstimator):
    """Takes NaN, and answers NaN probabilities for rows that have one."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        proba = np.full((len(X), len(self.classes_)), 1 / len(self.classes_))
        proba[np.isnan(X).any(axis=1)] = np.nan
        return proba


def test_nan_probabilities_from_missing_values_name_the_remedy():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(
        make_pipeline(StandardScaler(), _NaNInNaNOut()), UncertaintyQuery()
    ).fit(X[:80], y[:80])
    with pytest.raises(ValueError, match="probabilities hold NaN.*missing values"):
        learner.query(_with_missing_values(X[80:200]), n_instances=3)


class _RoundedRows(LogisticRegression):
    """Rows that do not sum to 1, as GaussianNB gives on float32 rows."""

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        proba[0] = 0.0
        proba[0, :2] = 1.0
        return proba


@pytest.mark.parametrize("strategy", [UncertaintyQuery, PurityInformativenessQuery])
def test_probabilities_not_summing_to_1_name_the_classifier(strategy):
    # The scores' check told the user, who passed X only, to "pass
    # probabilities (softmax outputs), not logits".
    X, y, _, classes = user_data("ints")
    learner = ActiveLearner(_RoundedRows(max_iter=300), strategy(), classes=classes)
    learner.fit(X[:80], y[:80])
    with pytest.raises(
        ValueError, match=r"predict_proba of the classifier \(_RoundedRows\).*float64"
    ):
        learner.query(X[80:200], n_instances=3)


def test_predict_proba_passes_rows_that_are_no_distribution_as_scikit_learn():
    # OneVsRestClassifier(modified_huber) gives all-zero rows by design:
    # learner.predict_proba raised; only a strategy that scores them should.
    from sklearn.linear_model import SGDClassifier

    X, y, _, classes = user_data("ints")
    X = X.astype(np.float64)
    estimator = OneVsRestClassifier(
        SGDClassifier(loss="modified_huber", random_state=0)
    )
    learner = ActiveLearner(estimator, UncertaintyQuery(), classes=classes)
    learner.fit(X[:300], y[:300])
    expected = learner.estimator_.predict_proba(X[300:])
    # Before scikit-learn 1.7 (setup.cfg allows 1.6) its rows are 0 / 0: NaN.
    if Version(sklearn.__version__) >= Version("1.7"):
        rows, message = expected.sum(axis=1) == 0, "sums to 0: it gives no prob"
    else:
        rows, message = np.isnan(expected).all(axis=1), "gives NaN.*Calibrate"
    assert rows.any()
    np.testing.assert_array_equal(learner.predict_proba(X[300:]), expected)
    with pytest.raises(ValueError, match=message):
        learner.query(X[300:], n_instances=3)


class _NaNRows(LogisticRegression):
    """NaN rows, as a one-vs-rest modified_huber SGDClassifier gives (0 / 0)
    before scikit-learn 1.7."""

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        proba[::2] = np.nan
        return proba


def test_predict_proba_passes_nan_rows_as_the_classifier_gives_them():
    # learner.predict_proba raised, blaming "a net that diverged" on a
    # classifier that is no net; only a strategy that scores them should.
    X, y, _, classes = user_data("ints")
    learner = ActiveLearner(_NaNRows(max_iter=300), UncertaintyQuery(), classes=classes)
    learner.fit(X[:80], y[:80])
    expected = learner.estimator_.predict_proba(X[80:200])
    np.testing.assert_array_equal(learner.predict_proba(X[80:200]), expected)
    with pytest.raises(
        ValueError,
        match=r"predict_proba of the classifier \(_NaNRows\) gives NaN.*Calibrate",
    ):
        learner.query(X[80:200], n_instances=3)


class _ScoresNotSoftmax(torch.nn.Module):
    """A module for NLLLoss's net whose outputs are no distribution."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, X):
        return torch.relu(self.linear(X)) + 0.01


def test_a_net_whose_outputs_are_no_distribution_is_named_as_their_source():
    # skorch's NLLLoss net takes its module's outputs as probabilities: the
    # check of their sums had come to skip them, so BADGE scored them.
    rng = np.random.default_rng(0)
    X = rng.random((60, 4), dtype=np.float32)
    net = NeuralNetClassifier(
        _ScoresNotSoftmax, max_epochs=1, train_split=None, verbose=0
    )
    learner = ActiveLearner(net, BadgeQuery(random_state=0), classes=[0, 1, 2])
    learner.fit(X[:30], np.arange(30) % 3)
    with pytest.raises(ValueError, match=r"NeuralNetClassifier\) gives rows that"):
        learner.query(X[30:], n_instances=2)


@pytest.mark.parametrize(
    "estimator, strategy, message",
    [
        (
            LogisticRegression,
            UncertaintyQuery,
            "X contains NaN, which LogisticRegression cannot take. Impute",
        ),
        (mlp, RandomQuery, "X contains NaN, which TargetNet cannot take"),
        # The scaler passes NaN on: the net's own check names the remedy.
        (
            lambda: make_pipeline(StandardScaler(), mlp()),
            RandomQuery,
            "TargetNet does not accept missing values.*imputer",
        ),
        # Distances in the input space need finite rows.
        (
            lambda: HistGradientBoostingClassifier(max_iter=10),
            CoreSetQuery,
            r"\(the pool being queried or scored, or the labelled rows\) hold "
            r"missing values .*embedding.*\(the input itself.*SimpleImputer",
        ),
    ],
    ids=["logistic-regression", "net", "scaler-and-net", "coreset-in-input-space"],
)
def test_missing_values_a_classifier_cannot_take_name_the_remedy(
    estimator, strategy, message
):
    X, y, _, _ = user_data("ints")
    X = _with_missing_values(X)
    learner = ActiveLearner(estimator(), strategy(random_state=0), X[:80], y[:80])
    with pytest.raises(ValueError, match=message):
        learner.query(X[80:400], n_instances=5)


@pytest.mark.parametrize("marker", ["None", "pandas.NA"])
def test_none_and_pandas_na_in_an_object_array_are_missing_values(marker):
    # None counted as a value: "The embedding ... holds NaN for finite rows of
    # X: None." or scikit-learn's own error; pandas.NA failed in float(), even
    # for a classifier that takes NaN (as it does in a DataFrame).
    pd = pytest.importorskip("pandas")
    X, y, _, _ = user_data("ints")
    X = X.astype(object)
    X[[5, 85], [3, 7]] = None if marker == "None" else pd.NA
    hgb = HistGradientBoostingClassifier(max_iter=10)
    learner = ActiveLearner(hgb, UncertaintyQuery(random_state=0), X[:80], y[:80])
    learner.query(X[80:400], n_instances=5)
    cases = [
        (LogisticRegression(), UncertaintyQuery, "X_pool contains NaN, which Logis"),
        (hgb, CoreSetQuery, "scored, or the labelled rows. hold missing values"),
    ]
    for estimator, strategy, message in cases:
        learner = ActiveLearner(estimator, strategy(random_state=0), X[6:80], y[6:80])
        with pytest.raises(ValueError, match=message):
            learner.query(X[80:400], n_instances=5)


# ------------------------------------------------------ shapes and atomicity


def test_pool_with_the_wrong_feature_count_is_rejected_at_the_learner():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), RandomQuery()).fit(X[:80], y[:80])
    message = "X has 10 features, but ActiveLearner is expecting 64 features"
    with pytest.raises(ValueError, match=message):
        learner.query(X[80:200, :10], n_instances=3)
    with pytest.raises(ValueError, match=message):
        learner.teach(X[80:90, :10], y[80:90])


def test_a_net_built_for_other_features_names_the_expected_shape():
    X, y, _, _ = user_data("ints")
    with pytest.raises(ValueError, match=r"rows of shape \(64,\).*\(10,\)"):
        ActiveLearner(make_mlp_classifier(10, 4, max_epochs=1)).fit(X[:80], y[:80])


class FailingClassifier(LogisticRegression):
    """Fails to fit while `failing` is set: a retraining that breaks mid-teach."""

    failing = False

    def fit(self, X, y):
        if FailingClassifier.failing:
            raise RuntimeError("retraining failed")
        return super().fit(X, y)


def test_a_failing_teach_leaves_the_learner_as_it_was():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(
        FailingClassifier(max_iter=300), MQNetQuery(rule_weight=0, random_state=0)
    )
    learner.fit(X[:80], y[:80])
    indices, X_query = learner.query(X[80:300], n_instances=10)
    FailingClassifier.failing = True
    estimator = learner.estimator_
    before = copy.deepcopy(vars(learner))
    strategy_state = copy.deepcopy(vars(learner.query_strategy_))
    try:
        with pytest.raises(RuntimeError, match="retraining failed"):
            learner.teach(X_query, y[80:300][indices])
    finally:
        FailingClassifier.failing = False
    assert learner.estimator_ is estimator
    np.testing.assert_array_equal(learner.X_labelled_, before["X_labelled_"])
    np.testing.assert_array_equal(learner.y_labelled_, before["y_labelled_"])
    assert not hasattr(learner.query_strategy_, "selector_")
    assert vars(learner.query_strategy_).keys() == strategy_state.keys()
    FailingClassifier.failing = False
    learner.teach(X_query, y[80:300][indices])  # and it still works afterwards
    assert hasattr(learner.query_strategy_, "selector_")


def test_a_failing_teach_before_any_query_leaves_the_initial_set_unfitted():
    # The learner fits its initial set at the first query or teach; a teach
    # that fails (MQ-Net has no queried pool to take the rows' scale from)
    # must undo that fit too.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(
        LogisticRegression(max_iter=300), MQNetQuery(), X[:80], y[:80]
    )
    with pytest.raises(ValueError, match="no query of the learner chose these rows"):
        learner.teach(X[80:90], y[80:90])
    assert not hasattr(learner, "estimator_")
    assert not hasattr(learner, "X_labelled_")


def test_warm_start_learns_a_class_the_initial_set_lacked():
    from sklearn.linear_model import SGDClassifier

    X, y, _, classes = user_data("ints")
    initial = np.flatnonzero(y != 9)[:80]
    later = np.flatnonzero(y == 9)[:5]
    learner = ActiveLearner(
        SGDClassifier(loss="log_loss", random_state=0),
        UncertaintyQuery(random_state=0),
        X[initial],
        y[initial],
        classes=classes,
        warm_start=True,
    )
    learner.query(X[400:600], n_instances=5)
    learner.teach(X[later], y[later])
    assert learner.predict_proba(X[later]).shape == (5, 4)
    assert 9 in set(learner.predict(X[y == 9]).tolist())


def test_a_seeded_net_gives_the_same_warm_started_campaign():
    X, y, _, classes = user_data("ints")

    def campaign():
        net = make_mlp_classifier(
            X.shape[1], len(classes), max_epochs=2, random_state=0
        )
        learner = ActiveLearner(
            net, UncertaintyQuery(), X[:80], y[:80], classes=classes, warm_start=True
        )
        indices, X_query = learner.query(X[80:400], n_instances=10)
        learner.teach(X_query, y[80:400][indices])
        return learner.predict_proba(X[400:450])

    np.testing.assert_array_equal(campaign(), campaign())


def test_taught_pixels_keep_the_uint8_scale_of_the_labelled_images():
    # Rows taught as a list became int64 and made the whole labelled set
    # int64, which the net takes unscaled (it scales uint8 to [0, 1]).
    X, y, _, classes = user_data("ints")
    X = (X * 255).astype(np.uint8)

    def taught(rows):
        net = image_net()
        learner = ActiveLearner(net, RandomQuery(), X[:80], y[:80], classes=classes)
        learner.teach(rows, y[80:100])
        assert learner.X_labelled_.dtype == np.uint8
        return learner.predict_proba(X[100:150])

    np.testing.assert_array_equal(taught(X[80:100].tolist()), taught(X[80:100]))
    with pytest.raises(ValueError, match="float64 but the learner's images are uint8"):
        taught(X[80:100] / 256.0)  # not pixels / 255: another scale


def test_warm_start_without_partial_fit_fails_at_fit():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(RandomForestClassifier(), warm_start=True)
    with pytest.raises(ValueError, match="warm_start=True needs an estimator"):
        learner.fit(X[:80], y[:80])


@pytest.mark.parametrize(
    "layout",
    ["nchw", "nhw", "flat", "channels_last", "uint8"],
)
def test_cnn_takes_the_image_layouts_users_have(layout):
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(12, 28, 28)).astype(np.uint8)
    X = {
        "nchw": images[:, None] / 255.0,
        "nhw": images / 255.0,
        "flat": images.reshape(12, -1) / 255.0,
        "channels_last": images[..., None] / 255.0,
        "uint8": images,
    }[layout]
    net = make_cnn_classifier(3, max_epochs=1, random_state=0)
    net.fit(X, np.arange(12) % 3)
    reference = make_cnn_classifier(3, max_epochs=1, random_state=0)
    reference.fit((images[:, None] / 255.0).astype(np.float32), np.arange(12) % 3)
    np.testing.assert_allclose(
        net.predict_proba(X),
        reference.predict_proba(images[:, None] / 255.0),
        rtol=1e-5,
    )


def test_learner_names_the_layouts_of_image_rows_unlike_its_fit():
    # Fitted on flat rows, image rows got scikit-learn's count of shape[1]
    # ("X has 1 features, but ActiveLearner is expecting 64").
    X, y, _, classes = user_data("ints")
    learner = ActiveLearner(
        image_net().set_params(max_epochs=1), RandomQuery(0), classes=classes
    ).fit(X[:40], y[:40])
    for rows in (X[40:60].reshape(-1, 1, 8, 8), X[40:60].reshape(-1, 8, 8)):
        shape = re.escape(str(rows.shape[1:]))
        with pytest.raises(
            ValueError, match=rf"X_pool rows have shape {shape}, but .* \(64,\)"
        ):
            learner.query(rows, 3)


def test_cnn_rejects_other_shapes_naming_the_expected_one():
    net = make_cnn_classifier(3, max_epochs=1)
    with pytest.raises(ValueError, match=r"rows of shape \(1, 28, 28\)"):
        net.fit(np.zeros((6, 3, 32, 32), np.float32), np.arange(6) % 3)
    rgb = make_cnn_classifier(3, in_channels=3, input_shape=(3, 32, 32), max_epochs=1)
    rgb.fit(np.zeros((6, 32, 32, 3), np.uint8), np.arange(6) % 3)


# ---------------------------------------------------------- MQ-Net's target


class SureClassifier(LogisticRegression):
    """Probability exactly 1 for the class it predicts."""

    def predict_proba(self, X):
        proba = np.zeros((len(X), len(self.classes_)))
        proba[:, 1] = 1.0
        return proba


def test_a_strategy_called_directly_refuses_reordered_or_renamed_columns():
    # strategy(learner, X_pool) scored the wrong columns without a word, and
    # MQNetQuery.update blamed a reordered X_query's rows ("none of the last
    # 5 queries"); learner.query and learner.teach refused them already.
    pd = pytest.importorskip("pandas")
    X, y, _, _ = user_data("ints")
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(X.shape[1])])
    learner = ActiveLearner(LogisticRegression(max_iter=500), MQNetQuery())
    learner.fit(frame.iloc[:80], y[:80])
    strategy, pool = learner.query_strategy_, frame.iloc[80:400]
    renamed = pool.set_axis([f"other{i}" for i in range(X.shape[1])], axis=1)
    for X_pool in (pool.iloc[:, ::-1], renamed):
        with pytest.raises(ValueError, match="same columns in the same order"):
            strategy(learner, X_pool, n_instances=5)
    indices, _ = strategy(learner, pool, n_instances=5)
    with pytest.raises(ValueError, match="same columns in the same order"):
        strategy.update(learner, pool.iloc[indices, ::-1], y[80:400][indices])


def test_a_certain_in_example_still_ranks_above_ood():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(SureClassifier()).fit(X[:80], y[:80])
    loss = per_example_loss(learner, X[:4], np.full(4, learner.classes_[1]))
    assert np.all(loss > 0) and np.all(np.isfinite(loss))  # OOD rows get exactly 0
    wrong = per_example_loss(learner, X[:4], np.full(4, learner.classes_[0]))
    assert np.all(np.isfinite(wrong)) and np.all(wrong > 20)


def test_saturated_net_logits_give_a_positive_float64_loss():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp()).fit(X[:80], y[:80])
    with np.errstate(all="ignore"):
        import torch

        with torch.no_grad():  # logits [.., 0, 17, ..]-like: CE underflows in float32
            learner.estimator_.module_.head.weight.mul_(50.0)
    codes = learner.estimator_.predict(X[:40])
    loss = per_example_loss(learner, X[:40], learner.classes_[codes])
    assert loss.dtype == np.float64 and np.all(loss > 0)


def test_a_nets_probabilities_are_a_float64_softmax_of_its_logits():
    # A softmax in the logits' float32 rounds a top probability above
    # 1 - 6e-8 to 1: least confidence then tied rows of any surer logits.
    from skal_openset import TargetNet, least_confidence

    module = torch.nn.Linear(3, 3)  # the identity: the logits are the rows
    with torch.no_grad():
        module.weight.copy_(torch.eye(3))
        module.bias.zero_()
    net = TargetNet(module, classes=np.arange(3), lr=0.0, max_epochs=1, verbose=0)
    X = np.array([[0, 20, 0], [0, 21, 0], [0, 0, 0], [5, 0, 0]], dtype=np.float32)
    learner = ActiveLearner(net, classes=[0, 1, 2]).fit(X, np.array([1, 1, 0, 0]))
    scores = least_confidence(class_probabilities(learner, X[:2]))
    # 1 - 1 / (1 + 2 exp(-gap)), by hand
    expected = [2 * np.exp(-gap) / (1 + 2 * np.exp(-gap)) for gap in (20.0, 21.0)]
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert scores[0] > scores[1] > 0


# -------------------------------------------- MQ-Net's state and modAL traps


def test_update_uses_the_scale_of_the_query_that_chose_the_rows():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    strategy = learner.query_strategy_
    pool = X[80:400]
    indices, X_query = learner.query(pool, n_instances=20)
    expected = strategy.meta_input_.transform(strategy._raw_scores(learner, X_query))
    with pytest.warns(UserWarning, match="queried again without an update"):
        learner.query(pool[:1], n_instances=1)  # a degenerate one-row pool
    learner.teach(X_query, y[80:400][indices])
    Z = learner.query_strategy_.validation_meta_input_
    np.testing.assert_allclose(Z, expected)
    assert np.ptp(Z, axis=0).min() > 0  # not the [[0, 0]] of the one-row pool


@pytest.mark.parametrize(
    "as_taught",
    [
        lambda X_query: X_query.tolist(),
        lambda X_query: X_query.astype(np.float64),
        lambda X_query: np.where(X_query == 0, -0.0, X_query),
        lambda X_query: X_query.astype(object),
    ],
    ids=["list", "float64", "negative-zero", "object"],
)
def test_update_takes_the_query_rows_back_in_another_container(as_taught):
    X, y, _, _ = user_data("ints")
    X = X.astype(np.float32)
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    indices, X_query = learner.query(X[80:400], n_instances=20)
    learner.teach(as_taught(X_query), y[80:400][indices])
    assert len(learner.y_labelled_) == 100


def test_update_takes_back_the_query_rows_of_an_object_pool_as_numbers():
    # Rows of an object array were keyed by their repr, those of numbers by
    # their bytes: "X_query holds rows that none of the last 5 queries of
    # this strategy returned".
    X, y, _, _ = user_data("ints")
    X = X.astype(object)
    learner = ActiveLearner(LogisticRegression(max_iter=300), MQNetQuery())
    learner.fit(X[:80], y[:80])
    indices, X_query = learner.query(X[80:400], n_instances=20)
    learner.teach(X_query.astype(float), y[80:400][indices])
    assert len(learner.y_labelled_) == 100


def test_a_strategy_saved_with_the_former_keys_of_object_rows_continues(
    monkeypatch,
):
    # Saved before rows of numbers in an object array were keyed as numbers,
    # a strategy holds their former keys: its queried rows must still be
    # taken back, and a learner rebuilt around it continue its campaign.
    from skal_openset._rows import legacy_row_keys
    from skal_openset._strategies import _meta_query

    X, y, is_in, strategy, _ = _modal_like_on_in_rows()
    X = X.astype(object)
    first = np.flatnonzero(is_in[:80])
    learner = ModalLike(LogisticRegression(max_iter=300), strategy, X[first], y[first])
    with monkeypatch.context() as saved_before:
        saved_before.setattr(_meta_query, "row_keys", legacy_row_keys)
        indices, _ = strategy(learner, X[80:400], n_instances=15)
    learner = pickle.loads(pickle.dumps(learner))
    teach_open_set(learner, X[80:400][indices], y[80:400][indices])
    rebuilt = ModalLike(
        LogisticRegression(max_iter=300),
        learner.query_strategy,
        learner.X_training,
        learner.y_training,
    )
    rebuilt.query_strategy(rebuilt, X[400:600], n_instances=15)
    assert len(learner.query_strategy.validation_target_) == 15


def test_update_takes_back_query_rows_of_a_dataframe_with_a_text_column():
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer
    from sklearn.preprocessing import OneHotEncoder

    X, y, _, _ = user_data("ints")
    frame = pd.DataFrame(X[:, :8]).assign(colour=np.where(X[:, 9] > 0.3, "a", "b"))
    estimator = make_pipeline(
        make_column_transformer((OneHotEncoder(), [8]), remainder="passthrough"),
        LogisticRegression(max_iter=500),
    )
    learner = ActiveLearner(estimator, MQNetQuery(random_state=0))
    learner.fit(frame.iloc[:80], y[:80])
    indices, X_query = learner.query(frame.iloc[80:400], n_instances=20)
    learner.teach(X_query, y[80:400][indices])
    assert len(learner.y_labelled_) == 100


def test_update_with_rows_no_query_returned_is_an_error():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    learner.query(X[80:400], n_instances=20)
    with pytest.raises(
        ValueError, match="none of the last 5 queries.*fit the learner again"
    ):
        learner.teach(X[500:510], y[500:510])
    assert len(learner.y_labelled_) == 80


def test_teaching_a_query_twice_says_it_was_taught_before():
    # The second teach used to be told to update before retraining, which
    # ActiveLearner.teach had done.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    indices, X_query = learner.query(X[80:400], n_instances=20)
    learner.teach(X_query, y[80:400][indices])
    with pytest.raises(ValueError) as refused:
        learner.teach(X_query, y[80:400][indices])
    message = str(refused.value)
    assert "already learnt from 20 of these 20 rows" in message
    # Not the advice for rows no query chose, to append them: they would
    # train twice.
    assert "adds nothing" in message and "To add the other" not in message
    assert len(learner.y_labelled_) == 100


def test_a_query_taught_again_in_part_is_told_to_append_the_other_rows_alone():
    # Told that a repeated teach had nothing to add, with no remedy for the
    # rows the first teach had left out.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    indices, X_query = learner.query(X[80:400], n_instances=20)
    learner.teach(X_query[:10], y[80:400][indices[:10]])
    with pytest.raises(ValueError) as refused:
        learner.teach(X_query, y[80:400][indices])
    message = str(refused.value)
    assert "already learnt from 10 of these 20 rows" in message
    assert "To add the other 10, fit the learner again" in message


def test_a_label_corrected_by_teaching_its_row_again_is_told_to_be_replaced():
    # MQ-Net refused the row, and its remedy, to fit again on X_labelled_ and
    # y_labelled_ "with these rows", kept the row under both labels.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    indices, X_query = learner.query(X[80:400], n_instances=20)
    learner.teach(X_query, y[80:400][indices])
    corrected = np.where(y[80:400][indices[:1]] == -1, 3, -1)
    message = (
        r"already learnt from 1 of these 1 rows.* To correct the label of a row "
        r"labelled already, fit the learner again on learner\.X_labelled_ and "
        r"learner\.y_labelled_ with its label replaced in learner\.y_labelled_ "
        r"\(appended, the row would keep both labels\)"
    )
    with pytest.raises(ValueError, match=message):
        learner.teach(X_query[:1], corrected)


def test_a_dataframe_row_labelled_otherwise_is_told_to_be_fitted_as_a_frame():
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    X, y, _, _ = user_data("ints")
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    frame = frame.assign(colour=np.where(X[:, 9] > 0.3, "a", "b"))
    estimator = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
        LogisticRegression(max_iter=500),
    )
    learner = ActiveLearner(estimator).fit(frame.iloc[:80], y[:80])
    message = (
        r"^1 of the 1 rows taught share their features .* fit the learner again "
        r"on them \(as a DataFrame of the columns and dtypes feature_dtypes_\); "
    )
    with pytest.warns(UserWarning, match=message):
        learner.teach(frame.iloc[:1], [3 if y[0] == -1 else -1])


def test_an_all_ood_query_taught_twice_is_refused():
    # OOD rows do not retrain the classifier, so the retrained-classifier check
    # let the second teach through: 10 more labelled rows and 10 more
    # self-validation rows, duplicates of the first.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    ood = 80 + np.flatnonzero(y[80:400] == -1)
    indices, X_query = learner.query(X[ood], n_instances=10)
    learner.teach(X_query, y[ood][indices])
    with pytest.raises(ValueError, match="already learnt from 10 of these 10 rows"):
        learner.teach(X_query, y[ood][indices])
    assert len(learner.y_labelled_) == 90
    assert len(learner.query_strategy_.validation_target_) == 10


def test_update_by_hand_then_teach_learns_from_the_query_once():
    # teach calls update itself: the query set was learnt from twice.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    indices, X_query = learner.query(X[80:400], n_instances=20)
    learner.query_strategy_.update(learner, X_query, y[80:400][indices])
    with pytest.raises(ValueError, match="call update themselves"):
        learner.teach(X_query, y[80:400][indices])
    assert len(learner.query_strategy_.validation_target_) == 20


def _a_query_with_copies():
    """A learner, its top-6 query of a pool holding 5 copies of its top row
    (all queried), and the query's rows and labels."""
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0, diversity_pool=None))
    learner.fit(X[:80], y[:80])
    top, _ = MQNetQuery(random_state=0, diversity_pool=None)(
        learner, X[80:400], n_instances=1
    )
    pool = np.r_[np.repeat(80 + top, 4), np.arange(80, 400)]
    indices, X_query = learner.query(X[pool], n_instances=6)
    is_copy = (X_query == X[80 + top]).all(axis=1)
    assert is_copy.sum() == 5
    # Copies in both parts of a split.
    order = np.r_[np.flatnonzero(is_copy), np.flatnonzero(~is_copy)]
    return learner, X_query[order], y[pool][indices][order]


def test_a_query_taught_in_parts_learns_from_each_copy_of_a_row_once():
    # Rows are known by their values: a second part holding a copy of a row
    # of the first was refused as "already learnt", though one update of
    # both parts learnt from both copies.
    learner, X_query, y_query = _a_query_with_copies()
    whole = copy.deepcopy(learner.query_strategy_)
    whole.update(learner, X_query, y_query)
    strategy = learner.query_strategy_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no pair among copies
        strategy.update(learner, X_query[[0, 1, 5]], y_query[[0, 1, 5]])
    strategy.update(learner, X_query[2:5], y_query[2:5])
    assert len(strategy.validation_target_) == len(whole.validation_target_) == 6
    # A copy taught once more than the query returned it.
    with pytest.raises(ValueError, match="already learnt from 1 of these 1 rows"):
        strategy.update(learner, X_query[:1], y_query[:1])
    assert len(strategy.validation_target_) == 6


def test_an_update_with_more_copies_of_a_row_than_queried_is_refused():
    # One update learnt from a row as often as X_query held it.
    learner, X_query, y_query = _a_query_with_copies()
    with pytest.raises(ValueError, match="1 more copies of a row than the query"):
        learner.query_strategy_.update(
            learner, np.r_[X_query, X_query[:1]], np.r_[y_query, y_query[:1]]
        )
    assert not hasattr(learner.query_strategy_, "validation_target_")


def test_a_query_remembered_by_an_earlier_version_is_learnt_from_once():
    # Earlier pickles hold the query's row keys as a set, and those of 0.1 no
    # keys of learnt rows: every copy after the first of a row the query
    # returned was refused as one copy too many.
    X, y, _, _ = user_data("ints")
    strategy = MQNetQuery(random_state=0, diversity_pool=None)
    learner = ActiveLearner(mlp(), strategy).fit(X[:80], y[:80])
    top, _ = clone(strategy)(learner, X[80:400], n_instances=1)
    pool = np.r_[np.repeat(80 + top, 3), np.arange(80, 400)]
    indices, X_query = learner.query(X[pool], n_instances=20)
    assert (X_query == X[80 + top]).all(axis=1).sum() == 4
    strategy = learner.query_strategy_
    query = strategy._recent_queries[0]
    strategy._recent_queries = [type(query)(set(query.row_keys), *query[1:5])]
    learner.teach(X_query, y[pool][indices])
    assert len(learner.query_strategy_.validation_target_) == 20
    with pytest.raises(ValueError, match="already learnt from 20 of these 20 rows"):
        learner.teach(X_query, y[pool][indices])


def test_rows_of_an_older_query_are_refused_after_a_newer_query():
    # The retrained-classifier check read the last query's rows, so rows an
    # earlier classifier chose were accepted once any new query was made.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    pool = np.arange(80, 400)
    indices, _ = learner.query(X[pool], n_instances=20)
    first = pool[indices]
    learner.teach(X[first[:10]], y[first[:10]])  # retrains the classifier
    learner.query(X[np.setdiff1d(pool, first)], n_instances=20)
    with pytest.raises(ValueError, match="changed since the query that chose"):
        learner.teach(X[first[10:]], y[first[10:]])
    assert len(learner.y_labelled_) == 90


def test_update_after_the_classifier_retrained_is_detected():
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(mlp(), MQNetQuery(random_state=0)).fit(X[:80], y[:80])
    strategy = learner.query_strategy_
    indices, X_query = learner.query(X[80:400], n_instances=20)
    learner.estimator_ = make_mlp_classifier(64, 4, max_epochs=3, random_state=1).fit(
        X[:200][y[:200] != -1], np.searchsorted([3, 5, 7, 9], y[:200][y[:200] != -1])
    )
    with pytest.raises(ValueError, match="changed since the query that chose"):
        strategy.update(learner, X_query, y[80:400][indices])


class ModalLike:
    """The attributes of modAL's ActiveLearner that the strategies read."""

    def __init__(self, estimator, query_strategy, X, y):
        self.estimator = estimator.fit(X, y)
        self.query_strategy = query_strategy
        self.X_training, self.y_training = X, y
        self.taught = []

    def teach(self, X, y):
        self.taught.append(len(y))
        self.X_training = _vstack(self.X_training, X)
        self.y_training = np.concatenate([self.y_training, y])
        self.estimator.fit(self.X_training, self.y_training)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("strategy", [UncertaintyQuery, CoreSetQuery])
def test_a_modal_net_fitted_on_named_columns_is_queried_without_warnings(strategy):
    # The scores gave such a net arrays, which it now checks against its
    # feature names: every query warned "X does not have valid feature names".
    pd = pytest.importorskip("pandas")
    X, y = load_digits_dataset()
    keep = y < 4
    X = pd.DataFrame(X[keep], columns=[f"px{i}" for i in range(64)])
    X, y = X.astype(np.float32), y[keep]
    net = make_mlp_classifier(64, 4, max_epochs=2, random_state=0)
    learner = ModalLike(net, strategy(random_state=0), X.iloc[:60], y[:60])
    indices, _ = learner.query_strategy(learner, X.iloc[60:300], 5)
    assert len(set(indices.tolist())) == 5


def test_a_modal_learner_given_dataframes_is_warned_of_a_large_sparse_embedding_once(
    monkeypatch,
):
    # Its strategies get a new framed(learner, X) wrapper, around a new
    # pipeline, each query: the warn-once key changed and it warned every round.
    pd = pytest.importorskip("pandas")
    monkeypatch.setattr(skal_openset._model_scores, "DENSE_EMBEDDING_WARN_BYTES", 1)
    rng = np.random.RandomState(0)
    X = pd.DataFrame(
        {"a": rng.choice(list("pqrs"), 200), "b": rng.choice(list("xyz"), 200)}
    )
    y = rng.randint(0, 2, 200)
    classifier = make_pipeline(
        OneHotEncoder(handle_unknown="ignore"), LogisticRegression()
    )
    learner = ModalLike(classifier, CoreSetQuery(random_state=0), X.iloc[:60], y[:60])
    pool = np.arange(60, 200)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(3):
            indices, _ = learner.query_strategy(learner, X.iloc[pool], 5)
            learner.teach(X.iloc[pool[indices]], y[pool[indices]])
            pool = np.delete(pool, indices)
    assert sum("a sparse" in str(w.message) for w in record) == 1


@dataclasses.dataclass
class _DataclassLearner:
    """A learner of one's own as a dataclass: compared by value, unhashable."""

    estimator: Any
    X_training: np.ndarray
    y_training: np.ndarray
    embedding: Any = None
    query_strategy: Any = None


def test_an_unhashable_learner_is_warned_of_once(monkeypatch):
    # A large sparse embedding is warned of once per learner, found by
    # identity: an unhashable one is neither refused nor (as when it was
    # the key of a WeakKeyDictionary) warned of again at every query.
    monkeypatch.setattr(skal_openset._model_scores, "DENSE_EMBEDDING_WARN_BYTES", 1)
    X, y, _, _ = user_data("ints")
    rows = np.flatnonzero(y != -1)[:60]
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    forest.fit(X[rows], y[rows])
    learner = _DataclassLearner(forest, X[rows], y[rows], _sparse_rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            CoreSetQuery(random_state=0)(learner, X[300:400], n_instances=5)
    assert sum("a sparse" in str(w.message) for w in caught) == 1


def test_a_modal_learner_is_told_to_set_its_embedding_attribute(monkeypatch):
    # The advice named ActiveLearner(embedding=...), which a modAL learner has
    # not: the strategies read its `embedding` attribute.
    monkeypatch.setattr(skal_openset._model_scores, "DENSE_EMBEDDING_WARN_BYTES", 1)
    X, y, _, _ = user_data("ints")
    rows = np.flatnonzero(y != -1)[:60]
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    modal = ModalLike(forest, CoreSetQuery(random_state=0), X[rows], y[rows])
    modal.embedding = _sparse_rows
    with pytest.warns(
        UserWarning, match=r"Reduce it in learner\.embedding \(on a modAL"
    ):
        modal.query_strategy(modal, X[300:400], 5)
    ours = ActiveLearner(
        clone(forest), CoreSetQuery(random_state=0), embedding=_sparse_rows
    ).fit(X[rows], y[rows])
    with pytest.warns(
        UserWarning, match=r"Reduce it in ActiveLearner\(embedding=\.\.\.\)"
    ):
        ours.query(X[300:400], n_instances=5)


def _vstack(a, b):
    """modAL's data_vstack: DataFrames with DataFrames, arrays with arrays."""
    if hasattr(a, "iloc") and hasattr(b, "iloc"):
        import pandas as pd

        return pd.concat([a, b])
    if hasattr(a, "iloc") or hasattr(b, "iloc"):
        raise TypeError(f"{ {type(a), type(b)} } datatype(s) not supported")
    return np.concatenate([a, b])


def test_the_modal_path_keeps_dataframes_for_columns_selected_by_name():
    # The strategies gave the modAL learner's pipeline arrays ("Specifying
    # the columns using strings is only supported for dataframes"), and
    # teach_open_set gave modAL an array to stack onto its DataFrame.
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    frame, y, ood_label = _named_frame(pd)
    is_in = y != ood_label

    def pipeline():
        return make_pipeline(
            make_column_transformer(
                (OneHotEncoder(), ["shade"]), (StandardScaler(), ["px2", "px5"])
            ),
            LogisticRegression(max_iter=500),
        )

    initial = frame.iloc[:80][is_in[:80]], y[:80][is_in[:80]]
    pool, y_pool = frame.iloc[80:400], y[80:400]
    strategy = UncertaintyQuery(random_state=0)
    ours = ActiveLearner(pipeline(), strategy, *initial, ood_label=ood_label)
    modal = ModalLike(pipeline(), strategy, *initial)
    modal.ood_label = ood_label
    np.testing.assert_array_equal(  # as sets: equal scores may come in any order
        np.sort(ours.query(pool, n_instances=5)[0]),
        np.sort(strategy(modal, pool, 5)[0]),
    )
    strategy = MQNetQuery(rule_weight=0, random_state=0)
    modal = ModalLike(pipeline(), strategy, *initial)
    modal.ood_label = ood_label
    for _ in range(2):
        indices, _ = strategy(modal, pool, n_instances=15)
        teach_open_set(modal, pool.iloc[indices], y_pool[indices], ood_label=ood_label)
    assert isinstance(modal.X_training, pd.DataFrame)
    assert len(strategy.validation_target_) == 30


def _modal_like_on_in_rows():
    """User data, its IN mask, an MQ-Net strategy and a modAL-like learner
    trained on the IN rows of the first 80."""
    X, y, _, _ = user_data("ints")
    is_in = y != -1
    strategy = MQNetQuery(rule_weight=0, random_state=0)
    first = np.flatnonzero(is_in[:80])
    learner = ModalLike(LogisticRegression(max_iter=300), strategy, X[first], y[first])
    return X, y, is_in, strategy, learner


def test_teach_open_set_updates_keeps_ood_and_teaches_in_rows_only():
    X, y, is_in, strategy, learner = _modal_like_on_in_rows()
    pool, n_ood = X[80:400], 0
    for _ in range(2):
        indices, _ = strategy(learner, pool, n_instances=15)
        teach_open_set(learner, pool[indices], y[80:400][indices])
        n_ood += int(np.sum(~is_in[80:400][indices]))
    assert hasattr(strategy, "selector_")
    assert len(learner.X_ood_) == n_ood > 0
    assert not np.any(learner.y_training == -1)
    # An all-OOD query teaches nothing (modAL cannot teach an empty set).
    ood = np.flatnonzero(~is_in[80:400])
    indices, _ = strategy(learner, pool[ood], n_instances=5)
    n_taught = len(learner.taught)
    teach_open_set(learner, pool[ood][indices], np.full(5, -1))
    assert len(learner.taught) == n_taught
    assert len(learner.X_ood_) == n_ood + 5


def test_teach_open_set_gives_modal_a_list_of_rows_as_an_array():
    # modAL stacks arrays onto its arrays and lists alike: the IN rows of a
    # list go as the checked array, the OOD ones into X_ood_.
    X, y, is_in, strategy, learner = _modal_like_on_in_rows()
    indices, _ = strategy(learner, X[80:400], n_instances=10)
    rows, labels = X[80:400][indices], y[80:400][indices]
    assert 0 < np.sum(labels == -1) < 10
    n_trained = len(learner.X_training)
    teach_open_set(learner, rows.tolist(), labels)
    np.testing.assert_array_equal(learner.X_training[n_trained:], rows[labels != -1])
    np.testing.assert_array_equal(learner.X_ood_, rows[labels == -1])


def test_one_mqnet_shared_by_two_modal_learners_is_refused():
    # modAL uses the strategy object it is given: the second learner's query
    # sets were added to the first one's, and one meta-model learnt from both.
    X, y, _, strategy, first = _modal_like_on_in_rows()
    second = ModalLike(
        LogisticRegression(max_iter=300), strategy, first.X_training, first.y_training
    )
    pool, y_pool = X[80:400], y[80:400]
    indices, _ = strategy(first, pool, n_instances=15)
    with pytest.raises(ValueError, match=r"another learner.*clone\(strategy\)"):
        strategy(second, pool, n_instances=15)
    with pytest.raises(ValueError, match="another learner"):
        teach_open_set(second, pool[indices], y_pool[indices])
    teach_open_set(first, pool[indices], y_pool[indices])
    assert len(strategy.validation_target_) == 15
    # A learner's pickle holds its own copy of the strategy, which continues
    # the campaign beside the original; a clone starts afresh.
    copied = pickle.loads(pickle.dumps(first))
    for learner in (copied, first):
        indices, _ = learner.query_strategy(learner, pool, n_instances=15)
        teach_open_set(learner, pool[indices], y_pool[indices])
        assert len(learner.query_strategy.validation_target_) == 30
    second.query_strategy = clone(strategy)
    second.query_strategy(second, pool, n_instances=15)


def test_a_modal_learner_rebuilt_around_its_mqnet_continues_the_campaign():
    # A loop that rebuilt its learner each round around the same strategy was
    # refused while an old learner was still referenced (here a history list;
    # IPython's Out cache does the same), and clone(strategy), the remedy
    # offered, would have thrown the learnt meta-model away.
    X, y, _, strategy, learner = _modal_like_on_in_rows()
    initial = learner.X_training, learner.y_training
    pool, y_pool, history = X[80:400], y[80:400], []
    for _ in range(3):
        history.append(learner)
        indices, _ = strategy(learner, pool, n_instances=15)
        teach_open_set(learner, pool[indices], y_pool[indices])
        pool, y_pool = np.delete(pool, indices, axis=0), np.delete(y_pool, indices)
        learner = ModalLike(
            LogisticRegression(max_iter=300),
            strategy,
            learner.X_training,
            learner.y_training,
        )
    assert len(strategy.validation_target_) == 45
    # A learner without the rows taught so far is another campaign.
    stranger = ModalLike(LogisticRegression(max_iter=300), strategy, *initial)
    with pytest.raises(
        ValueError, match=r"clone\(strategy\).*hold the rows taught so far"
    ):
        strategy(stranger, pool, n_instances=15)
    strategy(learner, pool, n_instances=15)


def test_a_failed_teach_open_set_rewinds_the_global_state(monkeypatch):
    # Its rollback put the learner and strategy back, not the draws of an
    # unseeded classifier: a retry trained another one.
    X, y, _, strategy, learner = _modal_like_on_in_rows()
    indices, _ = strategy(learner, X[80:400], n_instances=15)
    monkeypatch.setattr(learner, "teach", drawing_then_interrupted)
    drawn = global_random_states()
    with pytest.raises(KeyboardInterrupt):
        teach_open_set(learner, X[80:400][indices], y[80:400][indices])
    assert_global_random_states_are(drawn)


@pytest.mark.parametrize("ood_label", [[-1, -2], np.array([-1])])
def test_teach_open_set_refuses_an_ood_label_of_several_values(ood_label):
    # As ActiveLearner and OpenSetOracle refuse one: a list failed with
    # numpy's "operands could not be broadcast together", and an array of one
    # label was stored as learner.ood_label.
    X, y, _, strategy, learner = _modal_like_on_in_rows()
    indices, _ = strategy(learner, X[80:400], n_instances=5)
    with pytest.raises(ValueError, match="ood_label must be a single label"):
        teach_open_set(
            learner, X[80:400][indices], y[80:400][indices], ood_label=ood_label
        )
    assert not hasattr(learner, "ood_label") and not learner.taught


def test_teach_open_set_counts_the_labels_of_another_kind_it_shows():
    # It showed the first 5 labels and classes with no sign of the others.
    # Each label once: 'c0' given twice is one of the 29.
    X, y, _, strategy, learner = _modal_like_on_in_rows()
    labels = np.array([-1, "c0", *(f"c{i}" for i in range(29))], dtype=object)
    with pytest.raises(
        ValueError,
        match=r"^Labels \['c0', 'c1', .*, 'c19', \.\.\.\] \(29 labels\) are not "
        r"numbers, as the classes the learner has trained on \(\[3, 5, 7, 9\]\) are"
        r".*: give the classes as numbers, and label OOD rows -1\.$",
    ):
        teach_open_set(learner, X[80:111], labels)


def test_teach_open_set_refuses_only_new_for_modal():
    # Its rows stayed out of X_training, its OOD rows went into X_ood_: the
    # strategies saw a labelled set of the first IN rows and every OOD row.
    X, y, _, strategy, learner = _modal_like_on_in_rows()
    indices, _ = strategy(learner, X[80:400], n_instances=15)
    with pytest.raises(ValueError, match="only_new=True: modAL would leave"):
        teach_open_set(learner, X[80:400][indices], y[80:400][indices], only_new=True)
    assert learner.taught == [] and getattr(learner, "X_ood_", None) is None


def test_teach_open_set_refuses_a_new_negative_label_for_modal():
    # OOD marked -2 with ood_label -1: modAL's classifier took -2 for a class
    # and MQ-Net's update saw no OOD row, where our ActiveLearner refuses it.
    X, y, is_in, strategy, learner = _modal_like_on_in_rows()
    indices, _ = strategy(learner, X[80:400], n_instances=15)
    rows, labels = X[80:400][indices], np.where(is_in[80:400], y[80:400], -2)[indices]
    # The remedy of a class modAL has not trained on: start it with one.
    remedy = r"ood_label=-2 \(if they are classes, start the learner with a row"
    with pytest.raises(ValueError, match=r"negative labels \[-2\].*" + remedy):
        teach_open_set(learner, rows, labels)
    assert learner.taught == [] and not hasattr(strategy, "selector_")
    teach_open_set(learner, rows, labels, ood_label=-2)
    assert len(learner.X_ood_) == int(np.sum(labels == -2)) > 0
    # The update read it too: the OOD rows' target is no loss (0).
    assert not strategy.validation_target_[labels == -2].any()


def test_teach_open_set_takes_a_negative_class_modal_has_trained_on():
    # Only a label modAL has not trained on may be a mistyped OOD label: a
    # class -3 it was started with is taught as the class it is.
    X, y, is_in, _, _ = _modal_like_on_in_rows()
    y = np.where(y == 3, -3, y)
    first = np.flatnonzero(is_in[:80])
    learner = ModalLike(LogisticRegression(max_iter=300), RandomQuery(random_state=0),
                        X[first], y[first])  # fmt: skip
    rows = np.r_[np.flatnonzero(y[80:] == -3)[:3], np.flatnonzero(y[80:] == -1)[:2]]
    teach_open_set(learner, X[80:][rows], y[80:][rows])
    assert learner.taught == [3] and len(learner.X_ood_) == 2
    assert learner.y_training[-3:].tolist() == [-3, -3, -3]


def test_teach_open_set_refuses_reordered_or_renamed_columns_for_modal():
    # They were taken, and the OOD rows kept in X_ood_ with their columns in
    # the order given, not the one the classifier was fitted on.
    pd = pytest.importorskip("pandas")
    X, y, _, _ = user_data("ints")
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(X.shape[1])])
    is_in = y != -1
    learner = ModalLike(LogisticRegression(max_iter=300), RandomQuery(random_state=0),
                        frame.iloc[:80][is_in[:80]], y[:80][is_in[:80]])  # fmt: skip
    rows, labels = frame.iloc[80:100], y[80:100]
    renamed = rows.set_axis([f"other{i}" for i in range(X.shape[1])], axis=1)
    for X_query in (rows.iloc[:, ::-1], renamed):
        with pytest.raises(ValueError, match="same columns in the same order"):
            teach_open_set(learner, X_query, labels)
    assert getattr(learner, "X_ood_", None) is None
    teach_open_set(learner, rows, labels)
    np.testing.assert_array_equal(learner.X_ood_, rows.to_numpy()[labels == -1])


def test_teach_open_set_refuses_an_ood_label_our_learner_does_not_use():
    # It was ignored: 'x' then read as an unknown class.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(LogisticRegression(max_iter=300)).fit(X[:80], y[:80])
    with pytest.raises(ValueError, match="ood_label='x' differs from the learner's -1"):
        teach_open_set(learner, X[80:82], ["x", "x"], ood_label="x")
    teach_open_set(learner, X[80:82], y[80:82], ood_label=-1)
    assert len(learner.y_labelled_) == 82


def test_teach_open_set_compares_the_ood_label_our_learner_was_fitted_with():
    # Set after fit, ood_label is not yet the one teach uses (ood_label_):
    # one given here equal to it is no agreement, and must be refused.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(LogisticRegression(max_iter=300)).fit(X[:80], y[:80])
    learner.set_params(ood_label=-2)
    labels = np.where(y[80:84] == -1, -2, y[80:84])
    with pytest.raises(ValueError, match="ood_label=-2 differs from the learner's -1"):
        teach_open_set(learner, X[80:84], labels, ood_label=-2)
    assert len(learner.y_labelled_) == 80


def test_teach_open_set_refuses_modal_keywords_for_our_learner():
    # They were dropped silently: only_new=True (or a typo) changed nothing.
    X, y, _, _ = user_data("ints")
    learner = ActiveLearner(LogisticRegression(max_iter=300)).fit(X[:80], y[:80])
    with pytest.raises(TypeError, match="bogus, only_new, which are for modAL's"):
        teach_open_set(learner, X[80:82], y[80:82], only_new=True, bogus=1)
    assert len(learner.y_labelled_) == 80


def test_teach_open_set_refuses_a_learner_whose_estimator_is_none():
    # A learner may hold the attribute with no classifier in it: None is no
    # classifier to teach, as a committee's missing one is not. It went on
    # to the strategy's update, which blamed the rows.
    X, y, _, _, learner = _modal_like_on_in_rows()
    learner.estimator = None
    with pytest.raises(TypeError, match="^ModalLike holds no single classifier"):
        teach_open_set(learner, X[80:90], y[80:90])
    assert learner.taught == [] and not hasattr(learner, "X_ood_")


def test_teach_open_set_refuses_a_label_that_is_no_class_for_any_classifier():
    # 1.5 is a regression target: refused with scikit-learn's message before
    # the classifier sees it, as some would train on it (a DummyClassifier
    # took it for a class of its own, a plain skorch net failed in torch).
    X, y, _, _ = user_data("ints")
    first = np.flatnonzero(y[:80] != -1)
    learner = ModalLike(DummyClassifier(), None, X[first], y[first])
    labels = np.array([3, 5, 1.5, 7])
    with pytest.raises(ValueError, match="^Unknown label type: continuous"):
        teach_open_set(learner, X[80:84], labels)
    assert learner.taught == [] and 1.5 not in learner.estimator.classes_


def test_teach_open_set_takes_missing_values_where_the_classifier_does():
    # They were refused even for an imputing pipeline.
    X, y, _, _ = user_data("ints")
    X = _with_missing_values(X)
    is_in = y != -1
    imputing = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500))
    learner = ModalLike(imputing, RandomQuery(random_state=0), X[:80][is_in[:80]],
                        y[:80][is_in[:80]])  # fmt: skip
    teach_open_set(learner, X[80:100], y[80:100])
    assert np.isnan(learner.X_training).any()
    X_in, y_in = np.nan_to_num(X[:80][is_in[:80]]), y[:80][is_in[:80]]
    plain = ModalLike(LogisticRegression(max_iter=500), RandomQuery(), X_in, y_in)
    with pytest.raises(ValueError, match="X contains NaN, which LogisticRegression"):
        teach_open_set(plain, X[100:110], y[100:110])


class FailingModalLike(ModalLike):
    def teach(self, X, y):
        self.X_training = np.concatenate([self.X_training, X])  # as modAL does
        raise RuntimeError("retraining failed")


def test_a_failing_teach_open_set_leaves_learner_and_strategy_as_they_were():
    X, y, _, _ = user_data("ints")
    is_in = y != -1
    strategy = MQNetQuery(rule_weight=0, random_state=0)
    learner = FailingModalLike(LogisticRegression(max_iter=300), strategy,
                               X[:80][is_in[:80]], y[:80][is_in[:80]])  # fmt: skip
    pool = X[80:400]
    indices, _ = strategy(learner, pool, n_instances=15)
    assert 0 < np.sum(~is_in[80:400][indices]) < 15  # IN rows to teach, OOD to keep
    before = copy.deepcopy(vars(strategy))
    for _ in range(2):  # a retry must not double anything
        with pytest.raises(RuntimeError, match="retraining failed"):
            teach_open_set(learner, pool[indices], y[80:400][indices])
        assert not hasattr(learner, "X_ood_")
        assert len(learner.X_training) == np.sum(is_in[:80])
        assert vars(strategy).keys() == before.keys()
        assert not hasattr(strategy, "validation_target_")


class InPlaceLearningStrategy:
    """A strategy of the user's whose ``update`` changes its state in place."""

    def __init__(self):
        self.seen = []

    def __call__(self, learner, X_pool, n_instances=1):
        return np.arange(n_instances), X_pool[:n_instances]

    def update(self, learner, X, y):
        self.seen.append(len(y))


def test_a_failing_teach_open_set_puts_back_what_update_changed_in_place():
    # Only rebound attributes came back: the list update appended to kept
    # the failed query, and a retry counted it twice.
    X, y, _, _ = user_data("ints")
    is_in = y != -1
    strategy = InPlaceLearningStrategy()
    learner = FailingModalLike(LogisticRegression(max_iter=300), strategy,
                               X[:80][is_in[:80]], y[:80][is_in[:80]])  # fmt: skip
    for _ in range(2):  # a retry must not double anything
        with pytest.raises(RuntimeError, match="retraining failed"):
            teach_open_set(learner, X[80:95], y[80:95])
        assert strategy.seen == []


class HalfTrainingModalLike(ModalLike):
    def teach(self, X, y):
        self.estimator.fit(X, y)  # modAL retrains in place...
        raise RuntimeError("retraining failed")  # ...and something fails after


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_failing_teach_open_set_leaves_the_modal_estimator_as_it_was(pipeline):
    # A pipeline refits its steps in place: only its attributes put back
    # (the list of steps), the steps stayed trained on the failed teach.
    X, y, _, _ = user_data("ints")
    is_in = y != -1
    classifier = LogisticRegression(max_iter=300)
    if pipeline:
        classifier = make_pipeline(StandardScaler(), classifier)
    learner = HalfTrainingModalLike(classifier, None, X[:80][is_in[:80]],
                                    y[:80][is_in[:80]])  # fmt: skip
    before = learner.estimator.predict_proba(X[300:400])
    with pytest.raises(RuntimeError, match="retraining failed"):
        teach_open_set(learner, X[80:120][is_in[80:120]], y[80:120][is_in[80:120]])
    np.testing.assert_array_equal(learner.estimator.predict_proba(X[300:400]), before)


def test_ctrl_c_while_a_modal_learners_skorch_net_trains_stops_teach_open_set():
    # skorch's fit loop swallows KeyboardInterrupt and returns a half-trained
    # net: teach_open_set must stop instead, as our ActiveLearner's teach does,
    # the learner and its net left as they were.
    epochs = []
    ctrl_c = ctrl_c_at_epoch(5, epochs)  # the 2nd epoch of the teach
    X, y, _, _ = user_data("ints")
    first, rows = np.flatnonzero(y[:80] != -1), 80 + np.flatnonzero(y[80:100] != -1)
    X, y = X.astype(np.float32), np.searchsorted([3, 5, 7, 9], y)
    net = _users_net(train_split=None, callbacks=[ctrl_c]).set_params(max_epochs=3)
    learner = ModalLike(net, None, X[first], y[first])
    with pytest.raises(KeyboardInterrupt):
        teach_open_set(learner, X[rows], y[rows])
    assert epochs == [1, 2, 3, 1, 2]
    assert learner.estimator is net and len(net.history) == 3
    assert len(learner.X_training) == len(first)


def test_teach_open_set_refuses_an_ood_label_of_another_kind():
    X, y, _, _ = user_data("strings")
    learner = ModalLike(LogisticRegression(max_iter=300), None, X[:4],
                        np.array(["cat", "dog", "cat", "dog"]))  # fmt: skip
    with pytest.raises(ValueError, match="labels are strings but ood_label=-1"):
        teach_open_set(learner, X[4:8], np.array(["cat", "unknown", "dog", "unknown"]))
    assert len(learner.X_training) == 4 and not hasattr(learner, "X_ood_")


# Every strategy the package exports, a new one included.
ALL_STRATEGIES = [
    getattr(skal_openset, name)
    for name in skal_openset.__all__
    if isinstance(getattr(skal_openset, name), type)
    and issubclass(getattr(skal_openset, name), QueryStrategy)
    and getattr(skal_openset, name) is not QueryStrategy
]


@pytest.mark.parametrize("strategy", ALL_STRATEGIES, ids=lambda s: s.__name__)
def test_every_strategy_refuses_a_modal_learner_trained_on_ood_rows(strategy):
    # Only the strategies that read the labelled set refused it: the others
    # queried a classifier that had learnt OOD as a class.
    X, y, _, _ = user_data("ints")
    learner = ModalLike(LogisticRegression(max_iter=300), None, X[:80], y[:80])
    message = "y_training holds 4[0-9] rows labelled ood_label=-1.*learner.X_ood_"
    with pytest.raises(ValueError, match=message):
        strategy(random_state=0)(learner, X[300:400], 5)


@pytest.mark.parametrize("strategy", ALL_STRATEGIES, ids=lambda s: s.__name__)
def test_every_strategy_refuses_a_pool_of_another_width_as_our_learner_does(strategy):
    # Called with a modAL learner, or with ours (not through its query), the
    # pool's width was not checked: MQ-Net compared embeddings, CoreSet,
    # SIMILAR and CCAL failed in NumPy's broadcasting, RandomQuery chose rows.
    X, y, _, _, modal = _modal_like_on_in_rows()
    with pytest.raises(ValueError, match="X has 10 features, but LogisticRegressi"):
        strategy(random_state=0)(modal, X[80:200, :10], 5)
    ours = ActiveLearner(LogisticRegression(max_iter=300)).fit(X[:80], y[:80])
    with pytest.raises(ValueError, match="X has 10 features, but ActiveLearner is"):
        strategy(random_state=0)(ours, X[80:200, :10], 5)


def test_teach_open_set_refuses_rows_of_another_width_before_storing_any():
    # MQ-Net's update blamed rows that no query chose, and an all-OOD teach
    # kept rows of 10 features in X_ood_ beside the 64 of the labelled ones.
    X, y, is_in, strategy, learner = _modal_like_on_in_rows()
    indices, _ = strategy(learner, X[80:400], n_instances=15)
    message = "X has 10 features, but LogisticRegression is expecting 64"
    with pytest.raises(ValueError, match=message):
        teach_open_set(learner, X[80:400][indices][:, :10], y[80:400][indices])
    assert learner.taught == [] and not hasattr(strategy, "selector_")
    ood = np.flatnonzero(~is_in)[:5]
    learner.query_strategy = RandomQuery(random_state=0)
    with pytest.raises(ValueError, match=message):
        teach_open_set(learner, X[ood, :10], y[ood])
    assert not hasattr(learner, "X_ood_")
    # A classifier with no n_features_in_ (a plain skorch net): the rows of
    # X_training tell the width.
    first = np.flatnonzero(is_in[:80])
    X_in, y_in = X[first].astype(np.float32), np.searchsorted([3, 5, 7, 9], y[first])
    net = ModalLike(_users_net(train_split=None), None, X_in, y_in)
    message = r"shape \(10,\), but the learner was fitted on rows of shape \(64,\)"
    with pytest.raises(ValueError, match=message):
        teach_open_set(net, X[ood, :10].astype(np.float32), y[ood])
    with pytest.raises(ValueError, match=message):
        RandomQuery(random_state=0)(net, X[80:200, :10].astype(np.float32), 5)
    assert not hasattr(net, "X_ood_")


def test_teach_open_set_refuses_rows_and_labels_of_other_lengths():
    # A label short, the rows were taught a row short: the last one went
    # without a word (a label too many failed with a bare IndexError).
    learner, X, _ = _modal_learner_of_in_rows()
    y = user_data("ints")[1]
    rows = 200 + np.flatnonzero(y[200:] != -1)[:5]
    with pytest.raises(ValueError, match="X has 5 rows but y has 4 labels: give one"):
        teach_open_set(learner, X[rows], y[rows][:4])
    with pytest.raises(ValueError, match="X has 4 rows but y has 5 labels: give one"):
        teach_open_set(learner, X[rows][:4], y[rows])
    assert learner.taught == [] and not hasattr(learner, "X_ood_")


def test_a_modal_learner_trained_on_ood_rows_is_refused():
    # Its classifier trained on the OOD label as a class, and the strategies
    # and teach_open_set went on with it without a word.
    X, y, _, _ = user_data("ints")
    learner = ModalLike(LogisticRegression(max_iter=300), None, X[:80], y[:80])
    message = "y_training holds 4[0-9] rows labelled ood_label=-1.*learner.X_ood_"
    with pytest.raises(ValueError, match=message):
        CoreSetQuery(random_state=0)(learner, X[300:400], 5)
    with pytest.raises(ValueError, match=message):
        teach_open_set(learner, X[80:90], y[80:90])
    assert len(learner.X_training) == 80 and not hasattr(learner, "X_ood_")
    # -1 as a class of one's own: the message says how to go on.
    with pytest.raises(ValueError, match="If -1 is one of your classes, set learner"):
        CoreSetQuery(random_state=0)(learner, X[300:400], 5)
    learner.ood_label = -2
    assert len(CoreSetQuery(random_state=0)(learner, X[300:400], 5)[0]) == 5


@pytest.mark.parametrize("strategy", ALL_STRATEGIES, ids=lambda s: s.__name__)
def test_every_strategy_refuses_string_labels_where_modal_ood_label_is_unset(
    strategy,
):
    # The OOD label fell back to -1, so 'unknown' rows went unnoticed in
    # y_training, a class of the classifier that every strategy queried.
    X, y, _, _ = user_data("strings")
    learner = ModalLike(LogisticRegression(max_iter=300), None, X[:80], y[:80])
    with pytest.raises(ValueError, match="strings but ood_label=-1.*learner.ood_la"):
        strategy(random_state=0)(learner, X[300:400], 5)
    learner.ood_label = "unknown"  # as told: then the OOD rows are found
    with pytest.raises(ValueError, match="y_training holds [0-9]+ rows labelled"):
        strategy(random_state=0)(learner, X[300:400], 5)


def test_a_modal_learner_may_set_an_ood_label_of_another_kind():
    # "unknown" beside integer classes, set on purpose as the message asks,
    # was refused at every query ("no example could ever be OOD"), though
    # the OOD rows are kept apart (X_ood_) and our ActiveLearner takes it.
    X, y, _, _ = user_data("ints")
    is_in = y[:80] != -1
    learner = ModalLike(LogisticRegression(max_iter=300), None, X[:80][is_in],
                        y[:80][is_in])  # fmt: skip
    learner.ood_label = "unknown"
    indices, _ = UncertaintyQuery(random_state=0)(learner, X[300:400], 5)
    assert len(indices) == 5


@pytest.mark.parametrize("on_learner", [False, True])
def test_teach_open_set_takes_in_rows_alone_beside_an_ood_label_of_another_kind(
    on_learner,
):
    # Integer classes and ood_label="unknown": a query that bought IN rows
    # only was refused ("no example could ever be OOD"), so the campaign
    # stopped where the strategy did well; one with an OOD row was taught.
    X, y, _, _ = user_data("ints")
    start = np.flatnonzero(np.isin(y, [3, 5, 7]))[:40]
    query = np.flatnonzero(np.isin(y, [3, 9]))[-5:]  # 9: a new class
    learner = ModalLike(LogisticRegression(max_iter=300), None, X[start], y[start])
    ood_label = "unknown"
    if on_learner:
        learner.ood_label, ood_label = ood_label, None
    teach_open_set(learner, X[query], y[query], ood_label=ood_label)
    assert learner.taught == [5] and learner.ood_label == "unknown"
    assert learner.estimator.classes_.tolist() == [3, 5, 7, 9]
    # Left unset, -1 beside string labels is still the mistake named.
    learner = ModalLike(LogisticRegression(max_iter=300), None, X[start],
                        NAMES[y[start]])  # fmt: skip
    with pytest.raises(ValueError, match="labels are strings but ood_label=-1"):
        teach_open_set(learner, X[query], NAMES[y[query]])
    assert learner.taught == []


def test_teach_open_set_refuses_labels_of_neither_kind_after_a_default_ood_label():
    # The first teach stores ood_label=-1 though it was left unset; labels
    # then read back as strings (a CSV) were taken, '-1' and all, as classes
    # beside the integer ones, where a fresh learner refused them.
    X, y, _, _ = user_data("ints")
    start = np.flatnonzero(np.isin(y, [3, 5, 7]))[:40]
    learner = ModalLike(LogisticRegression(max_iter=300), None, X[start], y[start])
    teach_open_set(learner, X[start[:2]], y[start[:2]])
    assert learner.ood_label == -1
    query = np.flatnonzero(y == -1)[:1].tolist() + start[2:4].tolist()
    with pytest.raises(ValueError, match="labels are strings but ood_label=-1"):
        teach_open_set(learner, X[query], y[query].astype(str))
    assert learner.taught == [2] and not hasattr(learner, "X_ood_")
    # Set on purpose, the OOD label leaves labels of the classes' kind alone.
    learner.ood_label = "unknown"
    teach_open_set(learner, X[query[1:]], y[query[1:]])
    assert learner.taught == [2, 2]


def _modal_learner_of_in_rows():
    """A modAL-like learner taught the IN rows among the first 200 (modAL
    keeps no OOD row); the data, and the OOD rows among those 200."""
    X, y, _, _ = user_data("ints")
    is_in = y[:200] != -1
    learner = ModalLike(
        LogisticRegression(max_iter=300), None, X[:200][is_in], y[:200][is_in]
    )
    return learner, X, X[:200][~is_in]


def test_knn_contrast_on_a_modal_learner_reads_the_kept_ood_rows():
    learner, X, ood = _modal_learner_of_in_rows()
    strategy = PurityInformativenessQuery("knn_contrast", random_state=0)
    without = strategy(learner, X[300:500], n_instances=10)
    learner.X_ood_ = ood
    with_ood = strategy(learner, X[300:500], n_instances=10)
    assert not np.array_equal(without[1], with_ood[1])


def test_knn_contrast_on_a_modal_learner_contrasts_with_every_kept_ood_row():
    # That the kept rows change the scores is not that each of them counts:
    # a kept row in the pool is at distance 0 from the OOD set.
    learner, X, ood = _modal_learner_of_in_rows()
    learner.X_ood_ = ood
    pool = np.concatenate([X[300:400], ood])  # each its own nearest
    purity = compute_score("knn_contrast", PURITY_SCORES, "purity", learner, pool)
    expected = knn_contrast_purity(pool, learner.X_training, ood)
    np.testing.assert_allclose(purity, expected, rtol=1e-12)


def test_teach_open_set_appends_the_ood_rows_taught_to_those_kept():
    # As modAL appends the IN rows to X_training: the rows kept come first,
    # in their order, then the new ones in the order taught.
    learner, X, ood = _modal_learner_of_in_rows()
    learner.X_ood_ = ood
    y = user_data("ints")[1][200:230]
    teach_open_set(learner, X[200:230], y)
    assert 0 < np.sum(y == -1) < 30
    np.testing.assert_array_equal(
        learner.X_ood_, np.concatenate([ood, X[200:230][y == -1]])
    )


def test_kept_ood_rows_of_another_width_name_learner_x_ood():
    learner, X, ood = _modal_learner_of_in_rows()
    learner.X_ood_ = ood[:, :10]
    strategy = PurityInformativenessQuery("knn_contrast", random_state=0)
    with pytest.raises(
        ValueError, match=r"learner.X_ood_ is an array of shape \(\d+, 10\)"
    ):
        strategy(learner, X[300:400], n_instances=5)


@pytest.mark.parametrize(
    "strategy",
    [
        UncertaintyQuery("margin"),
        # these two said only "proba must have at least 2 classes (columns)"
        PurityInformativenessQuery("knn", informativeness="margin"),
        MQNetQuery(informativeness="margin"),
    ],
)
def test_margin_with_one_known_class_names_the_remedy(strategy):
    from sklearn.tree import DecisionTreeClassifier

    X, y, _, _ = user_data("ints")
    one_class = np.flatnonzero(np.isin(y, [3, -1]))[:60]
    learner = ActiveLearner(DecisionTreeClassifier(random_state=0), strategy)
    with pytest.warns(UserWarning, match=r"Every labelled IN row is 3, the one class"):
        learner.fit(X[one_class], y[one_class])
    with pytest.raises(ValueError, match=r"learner knows one class; pass classes="):
        learner.query(X[1000:1100], n_instances=3)


def test_a_committee_is_a_clear_error():
    class Committee:
        learner_list = []
        X_training = None  # modAL's own: it was told to construct it with one

    with pytest.raises(TypeError, match="not a committee"):
        MQNetQuery()(Committee(), np.zeros((5, 3)), n_instances=1)


def test_a_learner_that_keeps_no_rows_is_not_called_a_classifier():
    # modAL's DeepActiveLearner: "wraps the classifier, not the classifier".
    class DeepActiveLearner:
        estimator = LogisticRegression().fit(np.eye(4), [0, 1, 0, 1])

        def query(self, X_pool):
            pass

    with pytest.raises(TypeError, match="keeps the rows it was taught"):
        MQNetQuery()(DeepActiveLearner(), np.zeros((5, 4)), n_instances=1)


def test_a_bare_classifier_is_told_to_go_in_a_learner():
    # It was told it was a committee.
    X, y = np.random.RandomState(0).rand(20, 3), np.arange(20) % 2
    with pytest.raises(TypeError, match="wraps the classifier, not the classifier"):
        MQNetQuery()(LogisticRegression().fit(X, y), X, n_instances=2)
    # So is one given to a strategy that reads the classifier alone.
    with pytest.raises(
        TypeError, match=r"^LogisticRegression holds no single classifier .*ActiveL"
    ):
        UncertaintyQuery()(LogisticRegression().fit(X, y), X, n_instances=2)


# ----------------------------------------------------------- scikit-activeml


def test_scikit_activeml_pool_contract():
    skactiveml = pytest.importorskip("skactiveml")
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.utils import MISSING_LABEL

    X, y_true, _, classes = user_data("strings")
    X, y_true = X[:400], y_true[:400]
    y = np.full(len(y_true), MISSING_LABEL, dtype=object)
    y[:40] = y_true[:40]
    clf = SklearnClassifier(
        RandomForestClassifier(n_estimators=10, random_state=0),
        classes=classes,
        missing_label=MISSING_LABEL,
    )
    qs = SkactivemlQuery(MQNetQuery(rule_weight=0, random_state=0), ood_label="unknown")
    for _ in range(3):
        query = qs.query(X, y, clf, batch_size=10)
        assert query.shape == (10,) and len(set(query)) == 10
        assert all(y[i] is MISSING_LABEL or y[i] != y[i] for i in query)
        y[query] = y_true[query]
    assert hasattr(qs.learner_.query_strategy_, "selector_")
    assert len(qs.learner_.y_labelled_) == 60  # two batches taught, then queried
    assert skactiveml.__version__
    candidates = np.flatnonzero(np.array([v != v for v in y]))[:30]
    chosen = qs.query(X, y, clf, candidates=candidates, batch_size=5)
    assert set(chosen) <= set(candidates)
    # Candidates that could repeat or wrap a row are refused; a repeated one
    # named (it said "an index twice").
    for bad, message in [
        (
            candidates[[0, 0, 1]],
            f"^candidates lists {candidates[0]} more than once: list each row once",
        ),
        (-candidates[:3] - 1, "row indices of X"),
        (np.r_[candidates[:2], len(X)], "row indices of X"),
        (candidates[:3] + 0.5, "integer row indices"),
    ]:
        with pytest.raises(ValueError, match=message):
            qs.query(X, y, clf, candidates=bad, batch_size=2)


def test_learner_repr_shows_shapes_not_data():
    X, y, _, _ = user_data("ints")
    text = repr(ActiveLearner(LogisticRegression(), MQNetQuery(), X, y))
    assert "X_training=<ndarray (1797, 64)>" in text
    assert "y_training=<ndarray (1797,)>" in text
    assert len(text) < 300 and "0.0625" not in text
    # Ragged rows, which fit refuses: the repr (and a notebook's) still shows.
    ragged = ActiveLearner(LogisticRegression(), X_training=[[0.0, 1.0], [2.0]])
    assert "X_training=<list (2 rows)>" in repr(ragged)
    assert "&lt;list (2 rows)&gt;" in ragged._repr_html_()
    # As scikit-learn's: only the parameters that differ from their defaults.
    assert repr(ActiveLearner(LogisticRegression())) == (
        "ActiveLearner(estimator=LogisticRegression())"
    )


@pytest.mark.parametrize(
    "strategy", [CoreSetQuery, BadgeQuery, EOALQuery, SimilarQuery, CCALQuery]
)
def test_distance_strategies_work_after_a_sparse_preprocessing_step(strategy):
    # OneHotEncoder (like a text vectoriser) outputs a sparse matrix: the
    # embedding is its densified output, not a crash on len() of a 0-d array.
    rng = np.random.RandomState(0)
    X = rng.randint(0, 4, size=(200, 5))
    y = np.where(X[:, 0] < 2, X[:, 0], -1)
    estimator = make_pipeline(
        OneHotEncoder(handle_unknown="ignore"), LogisticRegression()
    )
    learner = ActiveLearner(estimator, strategy(random_state=0)).fit(X[:50], y[:50])
    indices, _ = learner.query(X[50:], n_instances=5)
    assert len(set(indices.tolist())) == 5
    np.testing.assert_array_equal(
        model_embedding(learner, X[:3]),
        learner.estimator_[0].transform(X[:3]).toarray(),
    )


def _skactiveml_digits():
    """300 digits, IN 3/5/7/9 and OOD -1: X, the true labels, and y with the
    first 40 labelled, NaN (scikit-activeml's missing label) elsewhere."""
    X, digit = load_digits_dataset()
    X, y_true = X[:300], np.where(np.isin(digit, [3, 5, 7, 9]), digit, -1)[:300]
    y = np.full(len(y_true), np.nan)
    y[:40] = y_true[:40]
    return X, y_true, y


def test_scikit_activeml_classifier_with_its_own_classes():
    # The learner trains on class positions 0..k-1, which a scikit-activeml
    # classifier declaring the user's classes used to reject ("previously
    # unseen labels").
    pytest.importorskip("skactiveml")
    from skactiveml.classifier import ParzenWindowClassifier

    X, y_true, y = _skactiveml_digits()
    clf = ParzenWindowClassifier(classes=[3, 5, 7, 9])
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    for _ in range(2):
        query = qs.query(X, y, clf, batch_size=5)
        assert len(set(query.tolist())) == 5 and np.isnan(y[query]).all()
        y[query] = y_true[query]
    np.testing.assert_array_equal(qs.learner_.classes_, [3, 5, 7, 9])
    assert clf.classes == [3, 5, 7, 9]  # the caller's template is left alone


def test_missing_values_in_a_scikit_activeml_pool_name_no_argument_it_lacks():
    # The refusal named "the pool given to query, X_pool": scikit-activeml's
    # query takes X, and PurityAUROC scores rows without a query.
    pytest.importorskip("skactiveml")
    X, _, y = _skactiveml_digits()
    X = _with_missing_values(X)
    qs = SkactivemlQuery(CoreSetQuery(random_state=0))
    hgb = HistGradientBoostingClassifier(max_iter=5)
    with pytest.raises(ValueError, match="missing values") as info:
        qs.query(X, y, hgb, batch_size=4)
    assert "X_pool" not in str(info.value)
    assert "the pool being queried or scored" in str(info.value)


@pytest.mark.parametrize("kind", ["SklearnClassifier", "ParzenWindowClassifier"])
def test_scikit_activeml_classifier_listing_the_ood_label_among_its_classes(kind):
    # scikit-activeml fits its classifier on y with OOD rows only if its
    # classes list -1 ("y contains previously unseen labels: [-1]"), and the
    # adapter refused those classes: "leave -1 out of classes".
    skactiveml_classifier = pytest.importorskip("skactiveml.classifier")
    X, y_true, y = _skactiveml_digits()
    if kind == "SklearnClassifier":
        clf = skactiveml_classifier.SklearnClassifier(
            LogisticRegression(max_iter=300), classes=[-1, 3, 5, 7, 9]
        )
    else:
        clf = skactiveml_classifier.ParzenWindowClassifier(classes=[-1, 3, 5, 7, 9])
    clf.fit(X, y)
    qs = SkactivemlQuery(MQNetQuery(rule_weight=0, random_state=0))
    for _ in range(2):
        query = qs.query(X, y, clf, batch_size=5)
        assert len(set(query.tolist())) == 5 and np.isnan(y[query]).all()
        y[query] = y_true[query]
    np.testing.assert_array_equal(qs.learner_.classes_, [3, 5, 7, 9])
    assert clf.classes == [-1, 3, 5, 7, 9]
    # Classes given to the adapter are the learner's: -1 there is a mistake.
    qs = SkactivemlQuery(UncertaintyQuery(), classes=[-1, 3, 5, 7, 9])
    with pytest.raises(ValueError, match="leave -1 out of classes"):
        qs.query(X, y, clf, batch_size=5)


def test_scikit_activeml_adapter_takes_missing_values_where_the_classifier_does():
    # They were refused even for an imputing pipeline.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    X = _with_missing_values(X)
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    imputing = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500))
    assert len(set(qs.query(X, y, imputing, batch_size=5).tolist())) == 5
    with pytest.raises(ValueError, match="X contains NaN, which LogisticRegression"):
        SkactivemlQuery(UncertaintyQuery()).query(X, y, LogisticRegression())


@pytest.mark.parametrize("as_frame", [False, True], ids=["array", "frame"])
def test_scikit_activeml_adapter_keeps_its_learner_for_x_read_back_from_a_file(
    as_frame,
):
    # 0/0 gives a NaN with its sign bit set, a NaN read from a file does not:
    # the labelled rows "changed", and MQ-Net lost what it had learnt.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    X = _with_missing_values(X)
    X[np.isnan(X)] = -np.float64(np.nan)
    read_back = np.where(np.isnan(X), np.nan, X)
    if as_frame:
        pd = pytest.importorskip("pandas")
        X, read_back = pd.DataFrame(X), pd.DataFrame(read_back)
    clf = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500))
    _assert_kept_for_read_back(X, read_back, y, y_true, clf)


def test_scikit_activeml_adapter_keeps_its_learner_for_negative_zeros_read_back():
    # -0.0 (a negated or rounded zero) is written and read back as 0.0 by
    # many formats; its bytes differ, so hashed as is, the labelled rows
    # "changed" and MQ-Net lost what it had learnt.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    X = -X  # digits hold zeros: -0.0 in every labelled row
    assert np.signbit(X[:40][X[:40] == 0]).all()
    read_back = X + 0.0
    assert not np.signbit(read_back[read_back == 0]).any()
    _assert_kept_for_read_back(X, read_back, y, y_true, LogisticRegression())


def _assert_kept_for_read_back(X, read_back, y, y_true, clf):
    """Query X, label the query, query `read_back` (X read again): the
    adapter must keep and teach its learner, without a warning. Returns it."""
    qs = SkactivemlQuery(MQNetQuery(random_state=0))
    query = qs.query(X, y, clf, batch_size=5)
    learner = qs.learner_
    y[query] = y_true[query]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # built afresh, it warned
        qs.query(read_back, y, clf, batch_size=5)
    assert qs.learner_ is learner and len(learner.y_labelled_) == 45  # taught
    return qs


def test_scikit_activeml_adapter_rebuilds_its_learner_for_data_of_another_length():
    # The learner's rows are those of the data it was called with: rows
    # added or removed, it is built afresh, and says why.
    X, y_true, y = _skactiveml_digits()
    qs = SkactivemlQuery(MQNetQuery(random_state=0))
    query = qs.query(X[:250], y[:250], LogisticRegression(), batch_size=5)
    learner = qs.learner_
    y[query] = y_true[query]
    with pytest.warns(UserWarning, match="lost what it learnt .*y has 300 rows, not "):
        qs.query(X, y, LogisticRegression(), batch_size=5)
    assert qs.learner_ is not learner and len(qs.learner_.y_labelled_) == 45


def test_scikit_activeml_classifier_without_classes_learns_them_from_the_labels():
    pytest.importorskip("skactiveml")
    from skactiveml.classifier import SklearnClassifier

    X, y_true, y = _skactiveml_digits()
    clf = SklearnClassifier(LogisticRegression(max_iter=300))
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    query = qs.query(X, y, clf, batch_size=5)
    assert len(set(query.tolist())) == 5 and np.isnan(y[query]).all()
    np.testing.assert_array_equal(qs.learner_.classes_, [3, 5, 7, 9])


def _with_an_empty_cell():
    """An identity function whose closure holds an empty cell: the variable
    it would read for None was deleted."""
    default = None

    def identity(X):
        return default if X is None else X  # noqa: F821 (deleted below)

    del default
    return identity


def _partial_of_a_lambda():
    """A function that copies but does not pickle (a lambda's partial)."""
    return functools.partial(lambda X, scale: X * scale, scale=1.0)


@pytest.mark.parametrize(
    "make_func",
    [_with_an_empty_cell, _partial_of_a_lambda],
    ids=["empty-cell", "partial-of-a-lambda"],
)
def test_scikit_activeml_adapter_compares_a_parameter_it_cannot_hash_by_identity(
    make_func,
):
    # The same clf at every call keeps the learner, taught the new rows;
    # another object in its place rebuilds it, saying so.
    X, y_true, y = _skactiveml_digits()
    transformer = FunctionTransformer(make_func())
    clf = make_pipeline(transformer, LogisticRegression(max_iter=300))
    qs = _assert_kept_for_read_back(X, X, y, y_true, clf)
    learner = qs.learner_
    other = make_pipeline(
        FunctionTransformer(make_func()), LogisticRegression(max_iter=300)
    )
    with pytest.warns(UserWarning, match="holds another object compared by identity"):
        qs.query(X, y, other, batch_size=5)
    assert qs.learner_ is not learner


def test_scikit_activeml_adapter_hashes_rows_without_nan_as_before():
    # Rewritten whatever they held, a frame's blocks hashed apart (pandas 2,
    # and extension dtypes in pandas 3): a saved adapter rebuilt its learner.
    # A frame is hashed by its columns now, and its hash of before still taken.
    pd = pytest.importorskip("pandas")
    from skal_openset._hashing import content_hash
    from skal_openset._skactiveml import _rows, _rows_hash, _rows_hashes

    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {"n": pd.array(rng.randint(0, 5, 12), dtype="Int64"), "x": rng.rand(12)}
    )
    rows = np.arange(12) % 2 == 0
    assert content_hash(_rows(frame, rows)) in _rows_hashes(frame, rows)
    # Categories of other dtypes (other categories, or ordered) are another table.
    codes = pd.Series(["a", "b"] * 6)
    tables = [
        pd.DataFrame({"c": codes.astype(pd.CategoricalDtype(names, ordered))})
        for names, ordered in (
            (["a", "b"], False),
            (["a", "b", "z"], False),
            (["a", "b"], True),
        )
    ]
    assert len({_rows_hash(table, rows) for table in tables}) == 3
    for X in (frame.to_numpy(float), rng.rand(12, 3).astype(">f8")):
        assert _rows_hash(X, rows) == content_hash(_rows(X, rows))


def test_scikit_activeml_adapter_keeps_its_learner_for_a_frame_read_from_csv(
    tmp_path,
):
    # pd.DataFrame(array) is one block of pandas, read_csv's frame one per
    # dtype: the labelled rows "changed", and MQ-Net lost what it had learnt.
    pd = pytest.importorskip("pandas")
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    frame = pd.DataFrame(X.astype(np.float64), columns=[f"x{j}" for j in range(64)])
    frame["x0"] = frame["x0"].astype(np.int64)  # a table of two dtypes
    frame.to_csv(tmp_path / "pool.csv", index=False)
    read_back = pd.read_csv(tmp_path / "pool.csv")
    pd.testing.assert_frame_equal(read_back, frame)  # the same table
    clf = LogisticRegression(max_iter=500)
    qs = _assert_kept_for_read_back(frame, read_back, y, y_true, clf)
    learner = qs.learner_
    # Other column names are another table: built afresh, with a warning.
    renamed = read_back.rename(columns={"x1": "first"})
    y[qs.query_indices_] = y_true[qs.query_indices_]
    with pytest.warns(UserWarning, match="the labelled rows of X changed"):
        qs.query(renamed, y, clf, batch_size=5)
    assert qs.learner_ is not learner


def test_row_keys_of_no_rows_or_rows_of_no_values():
    from skal_openset._rows import row_keys

    assert row_keys(np.zeros((0, 4))) == []
    assert len(set(row_keys(np.zeros((3, 0))))) == 1


def test_row_keys_of_an_object_row_of_numpy_bools_and_numbers_are_its_numbers():
    # A bool array's rows hold NumPy bools: gathered into an object array,
    # such a row is numbers still, the keys of the same values as floats.
    from skal_openset._rows import row_keys

    rows = np.empty((2, 2), object)
    rows[0] = [np.True_, np.float32(0.5)]
    rows[1] = [np.False_, 2]
    assert row_keys(rows) == row_keys(np.array([[1.0, 0.5], [0.0, 2.0]]))


def test_scikit_activeml_adapter_refuses_string_labels_whose_nan_is_text():
    # np.array(["cat", np.nan]) holds 'nan': "no unlabelled row left", or
    # with candidates a learner trained on a class 'nan'.
    X, y_true, _ = _skactiveml_digits()
    y = np.array([str(v) for v in y_true[:40]] + [np.nan] * (len(y_true) - 40))
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0), ood_label="-1")
    for candidates in (None, np.arange(40, 300)):
        with pytest.raises(ValueError, match="as the text 'nan', 260 rows here"):
            qs.query(X, y, LogisticRegression(), candidates=candidates)
    # the remedy it gives works
    y = np.array([str(v) for v in y_true[:40]] + [np.nan] * 260, dtype=object)
    assert len(qs.query(X, y, LogisticRegression(), batch_size=2)) == 2


def test_scikit_activeml_adapter_takes_a_float32_nan_as_missing_label():
    # It was refused as equal to no value, "not even itself (pandas.NA)".
    X, _, y = _skactiveml_digits()
    qs = SkactivemlQuery(
        UncertaintyQuery(random_state=0), missing_label=np.float32("nan")
    )
    assert (
        len(qs.query(X, y.astype(np.float32), LogisticRegression(), batch_size=2)) == 2
    )


def test_scikit_activeml_adapter_names_its_own_arguments():
    # The warning named modAL's n_instances and a pool; None as strategy got
    # clone's "Cannot clone object 'None'".
    X, _, y = _skactiveml_digits()
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    with pytest.warns(
        UserWarning, match="batch_size=10 is larger than the 3 candidates"
    ):
        assert (
            len(
                qs.query(
                    X, y, LogisticRegression(), candidates=[50, 60, 70], batch_size=10
                )
            )
            == 3
        )
    with pytest.raises(
        TypeError, match="strategy must be a query strategy of skal_openset"
    ):
        SkactivemlQuery(None).query(X, y, LogisticRegression())
    # scikit-activeml's own arguments that it cannot serve
    for unsupported in ({"return_utilities": True}, {"sample_weight": np.ones(300)}):
        with pytest.raises(ValueError, match="supports neither return_utilities"):
            qs.query(X, y, LogisticRegression(), **unsupported)
    with pytest.raises(ValueError, match="y holds no label: label a few rows first"):
        qs.query(X, np.full(len(y), np.nan), LogisticRegression())


def test_scikit_activeml_adapter_refuses_ood_answers_read_as_missing():
    # With missing_label == ood_label every OOD answer stayed a candidate.
    X, y_true, y = _skactiveml_digits()
    y = np.where(np.isnan(y), -1, y)
    qs = SkactivemlQuery(UncertaintyQuery(), missing_label=-1)
    with pytest.raises(ValueError, match="missing_label=-1 equals ood_label"):
        qs.query(X, y, LogisticRegression())


@pytest.mark.parametrize("marker", ["None", "pandas.NA"])
def test_scikit_activeml_adapter_names_none_or_na_that_missing_label_misses(marker):
    # They read as labels: "y has no unlabelled row left to query", or with
    # candidates the learner's "y contains None or NaN".
    pd = pytest.importorskip("pandas")
    X, y_true, _ = _skactiveml_digits()
    y = np.full(len(y_true), None if marker == "None" else pd.NA, dtype=object)
    y[:40] = y_true[:40]
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    message = "y marks rows with None or pandas.NA, which missing_label=nan"
    for candidates in (None, np.arange(40, 300)):
        with pytest.raises(ValueError, match=message):
            qs.query(X, y, LogisticRegression(), candidates=candidates)
    # Either remedy the message gives works.
    if marker == "None":
        qs.set_params(missing_label=None)
        assert len(qs.query(X, y, LogisticRegression(), batch_size=2)) == 2
    y = np.where(pd.isna(y), np.nan, y)
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    assert len(qs.query(X, y, LogisticRegression(), batch_size=2)) == 2


def test_scikit_activeml_adapter_names_none_that_another_missing_label_misses():
    X, y_true, _ = _skactiveml_digits()
    y = np.full(len(y_true), None, dtype=object)
    y[:40] = y_true[:40]
    y[-1] = -99
    qs = SkactivemlQuery(UncertaintyQuery(), missing_label=-99)
    with pytest.raises(ValueError, match="None, NaN or pandas.NA, which missing_l"):
        qs.query(X, y, LogisticRegression())


@pytest.mark.parametrize(
    "missing_label, nullable",
    [(-99, False), ("none", False), (None, False), (-99, True)],
    ids=["int", "str", "None", "nullable int"],
)
def test_scikit_activeml_adapter_names_na_that_another_missing_label_misses(
    missing_label, nullable
):
    # pandas.NA compared as NA, whose truth value numpy asked for: a bare
    # "boolean value of NA is ambiguous"; in a nullable integer Series it
    # became NaN, read as a label ("every example needs a label").
    pd = pytest.importorskip("pandas")
    X, y_true, _ = _skactiveml_digits()
    y = np.full(len(y_true), missing_label, dtype=object)
    y[:40] = y_true[:40]
    y[40] = pd.NA
    if nullable:
        y = pd.Series(y, dtype="Int64")
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0), missing_label=missing_label)
    message = (
        rf"y marks rows with .*pandas\.NA, which missing_label={missing_label!r} "
        rf"does not match.*np\.where\(pd\.isna\(y\), {missing_label!r}, y\)"
    )
    with pytest.raises(ValueError, match=message):
        qs.query(X, y, LogisticRegression())
    # The remedy the message gives works.
    y = np.where(pd.isna(y), missing_label, y)
    assert len(qs.query(X, y, LogisticRegression(), batch_size=2)) == 2


def test_scikit_activeml_adapter_refuses_pandas_na_as_missing_label():
    # It equals nothing: a bare "boolean value of NA is ambiguous" before.
    pd = pytest.importorskip("pandas")
    X, y_true, _ = _skactiveml_digits()
    y = np.full(len(y_true), pd.NA, dtype=object)
    y[:40] = y_true[:40]
    qs = SkactivemlQuery(UncertaintyQuery(), missing_label=pd.NA)
    with pytest.raises(ValueError, match=r"missing_label=<NA> equals no value.*"):
        qs.query(X, y, LogisticRegression())


def _query_and_answer(qs, X, y, y_true, clf):
    """One scikit-activeml query of 5 rows, labelled at once in `y`."""
    query = qs.query(X, y, clf, batch_size=5)
    y[query] = y_true[query]


def test_scikit_activeml_adapter_teaches_a_query_in_its_order():
    # It taught the rows in the order of X, so a net trained on them in
    # another order than our ActiveLearner's, and MQ-Net then chose other rows.
    pytest.importorskip("skactiveml")
    X, _, y = _skactiveml_digits()
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    query = qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    assert not np.array_equal(query, np.sort(query))  # else the test shows nothing
    # The budget bought a prefix; answers that differ show a row taught
    # another row's label.
    y[query[:4]] = [3, 5, 7, -1]
    qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    np.testing.assert_array_equal(qs.learner_.X_labelled_[40:], X[query[:4]])
    np.testing.assert_array_equal(qs.learner_.y_labelled_[40:], [3, 5, 7, -1])


def test_scikit_activeml_adapter_follows_a_new_clf_and_strategy():
    # The learner built at the first call kept its classifier and strategy.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    _query_and_answer(qs, X, y, y_true, LogisticRegression(max_iter=300))
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    qs.query(X, y, forest, batch_size=5)
    assert isinstance(qs.learner_.estimator_, RandomForestClassifier)
    qs.set_params(strategy=RandomQuery(random_state=0))
    qs.query(X, y, forest, batch_size=5)
    assert isinstance(qs.learner_.query_strategy_, RandomQuery)


def test_scikit_activeml_adapter_takes_a_classifier_with_a_lambda():
    # Its settings were hashed with joblib, which cannot pickle a lambda:
    # every call failed with a PicklingError.
    X, y_true, y = _skactiveml_digits()
    clf = make_pipeline(
        FunctionTransformer(lambda rows: rows / 16), LogisticRegression(max_iter=300)
    )
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    _query_and_answer(qs, X, y, y_true, clf)
    qs.query(X, y, clf, batch_size=5)
    assert len(qs.learner_.y_labelled_) == 45  # the same learner, taught


def test_scikit_activeml_adapter_keeps_dataframes_for_columns_selected_by_name():
    # X became an array, so a pipeline selecting columns by name failed
    # ("Specifying the columns using strings is only supported for dataframes").
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    frame, y_true, ood_label = _named_frame(pd)
    frame, y_true = frame.iloc[:300], y_true[:300]
    frame.index = np.arange(300)[::-1] * 7  # rows are taken by position
    y = np.full(len(y_true), np.nan, dtype=object)
    y[:40] = y_true[:40]
    clf = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(), ["shade"]), (StandardScaler(), ["px2", "px5"])
        ),
        LogisticRegression(max_iter=500),
    )
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0), ood_label=ood_label)
    queries = []
    for _ in range(2):
        query = qs.query(frame, y, clf, batch_size=5)
        assert len(set(query.tolist())) == 5 and all(y[i] != y[i] for i in query)
        y[query] = y_true[query]
        queries.append(query)
    assert len(qs.learner_.y_labelled_) == 45  # the same learner, taught
    # The first query's rows, in its order.
    taught = np.r_[np.arange(40), queries[0]]
    np.testing.assert_array_equal(qs.learner_.y_labelled_, y_true[taught])


def test_scikit_activeml_adapter_refits_on_rows_no_query_chose():
    # MQ-Net refuses to learn from rows no query of its classifier chose, so
    # every call failed once another strategy had labelled some.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    qs = SkactivemlQuery(MQNetQuery(random_state=0))
    _query_and_answer(qs, X, y, y_true, LogisticRegression(max_iter=300))
    qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    assert len(qs.learner_.y_labelled_) == 45  # taught
    y[qs.query_indices_] = y_true[qs.query_indices_]
    elsewhere = np.flatnonzero(np.isnan(y))[:3]
    y[elsewhere] = y_true[elsewhere]
    with pytest.warns(UserWarning, match="its last query did not choose"):
        query = qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    assert len(qs.learner_.y_labelled_) == np.sum(~np.isnan(y))  # built afresh
    y[query] = y_true[query]
    qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    assert len(qs.learner_.y_labelled_) == np.sum(~np.isnan(y))  # taught


def test_scikit_activeml_adapter_learns_a_corrected_label():
    # The adapter taught only rows newly labelled: a label the annotator
    # corrected stayed wrong in its learner.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    wrong = int(np.flatnonzero(y_true[:40] == 3)[0])
    y[wrong] = 5
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    query = qs.query(X, y, LogisticRegression(), batch_size=5)
    y[query] = y_true[query]
    y[wrong] = 3  # the annotator corrects it
    qs.query(X, y, LogisticRegression(), batch_size=5)
    learner = qs.learner_
    assert len(learner.y_labelled_) == 45
    # Rows 0-39 come first, in order, whether taught or fitted afresh.
    np.testing.assert_array_equal(learner.X_labelled_[wrong], X[wrong])
    assert learner.y_labelled_[wrong] == 3


@pytest.mark.parametrize(
    "slip, message",
    [
        (dict(candidates=[300, 301], batch_size=2), "candidates must be row indices"),
        (dict(batch_size=0), "batch_size must be an int >= 1, got 0"),
        # refused only after fitting, as n_instances
        (dict(batch_size=True), "batch_size must be an int >= 1, got True"),
    ],
)
def test_scikit_activeml_adapter_works_after_a_failed_first_call(slip, message):
    # The failed call left a learner and its record but no query_indices_,
    # and every later call raised AttributeError.
    pytest.importorskip("skactiveml")
    X, _, y = _skactiveml_digits()
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    with pytest.raises(ValueError, match=message):
        qs.query(X, y, LogisticRegression(max_iter=300), **slip)
    query = qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    fresh = SkactivemlQuery(UncertaintyQuery(random_state=0))
    expected = fresh.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    np.testing.assert_array_equal(query, expected)


def test_scikit_activeml_adapter_keeps_what_mq_net_learnt_after_a_failed_call(
    monkeypatch,
):
    # A refused label, or Ctrl-C in a query, must not cost MQ-Net what it
    # learnt (a version dropped the learner on any failure), nor teach a row
    # twice.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    qs = SkactivemlQuery(MQNetQuery(random_state=0), classes=[3, 5, 7, 9])
    for _ in range(2):
        _query_and_answer(qs, X, y, y_true, LogisticRegression(max_iter=300))
    query = qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    y[query] = y_true[query]
    y[query[0]] = 4  # a typo: no class
    with pytest.raises(ValueError, match="neither"):
        qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    y[query[0]] = y_true[query[0]]
    with monkeypatch.context() as patch:
        patch.setattr(ActiveLearner, "query", _interrupt)
        with pytest.raises(KeyboardInterrupt):
            qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    assert len(qs.learner_.query_strategy_.validation_target_) == 15
    assert len(qs.learner_.y_labelled_) == np.sum(~np.isnan(y)) == 55


def test_scikit_activeml_adapter_goes_on_after_a_query_that_failed_past_a_teach(
    monkeypatch,
):
    # The failed query left the batch before it as the last query's, so its
    # other rows, labelled next, were taught to a learner retrained since
    # that query: MQ-Net refused them at every later call.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    qs = SkactivemlQuery(MQNetQuery(random_state=0))
    query = qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    y[query[:1]] = y_true[query[:1]]
    with monkeypatch.context() as patch:
        patch.setattr(ActiveLearner, "query", _interrupt)
        with pytest.raises(KeyboardInterrupt):
            qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    assert len(qs.query_indices_) == 0  # no row chosen since the teach
    y[query[1:]] = y_true[query[1:]]
    with pytest.warns(UserWarning, match="its last query did not choose"):
        qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    assert len(qs.learner_.y_labelled_) == np.sum(~np.isnan(y))  # built afresh


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_scikit_activeml_adapter_refits_when_the_labelled_rows_change():
    # With y unchanged it taught the old learner, which kept the old rows and
    # scored the new X with a classifier trained on them.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    _query_and_answer(qs, X, y, y_true, LogisticRegression(max_iter=300))
    X_new = X[:, np.random.RandomState(0).permutation(X.shape[1])]
    query = qs.query(X_new, y, LogisticRegression(max_iter=300), batch_size=5)
    fresh = SkactivemlQuery(UncertaintyQuery(random_state=0))
    expected = fresh.query(X_new, y, LogisticRegression(max_iter=300), batch_size=5)
    np.testing.assert_array_equal(query, expected)
    np.testing.assert_array_equal(qs.learner_.X_labelled_[:40], X_new[:40])


@pytest.mark.parametrize(
    "make_clf",
    [
        # the user's own fits advance the random state between calls
        lambda state: RandomForestClassifier(n_estimators=5, random_state=state),
        # a classifier built anew at every call, with a lambda in it
        lambda state: make_pipeline(
            FunctionTransformer(lambda rows: rows / 16),
            LogisticRegression(max_iter=300),
        ),
        # a net whose callbacks the user's fits initialise and change
        lambda state: mlp(callbacks=[("stop", EarlyStopping(monitor="train_loss"))]),
    ],
    ids=["random-state", "new-lambda", "skorch-callbacks"],
)
def test_scikit_activeml_adapter_keeps_its_learner_for_an_unchanged_clf(make_clf):
    # Each call saw "new settings" and built a new learner, so MQ-Net never
    # kept a query set to learn from.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    state = np.random.RandomState(0)
    qs = SkactivemlQuery(MQNetQuery(random_state=0))
    for _ in range(3):
        clf = make_clf(state)
        _query_and_answer(qs, X, y, y_true, clf)
        known = ~np.isnan(y) & (y != -1)
        codes = np.searchsorted([3, 5, 7, 9], y[known])
        clf.fit(X[known].astype(np.float32), codes)  # the user's own fit
    qs.query(X, y, clf, batch_size=5)
    assert len(qs.learner_.query_strategy_.validation_target_) == 15


@pytest.mark.parametrize(
    "copy_of", [copy.deepcopy, lambda qs: pickle.loads(pickle.dumps(qs))]
)
def test_a_copied_adapter_keeps_what_mq_net_learnt_with_a_random_state_instance(
    copy_of,
):
    # Its RandomState was keyed by id(), new in any copy: the copy (a resumed
    # campaign) rebuilt the learner and MQ-Net forgot every query set.
    X, y_true, y = _skactiveml_digits()
    qs = SkactivemlQuery(MQNetQuery(random_state=np.random.RandomState(0)))
    _query_and_answer(qs, X, y, y_true, LogisticRegression(max_iter=300))
    resumed = copy_of(qs)
    query = qs.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    assert np.array_equal(
        resumed.query(X, y, LogisticRegression(max_iter=300), batch_size=5), query
    )
    assert len(resumed.learner_.query_strategy_.validation_target_) == 5
    # Another random state is another setting: a learner built afresh.
    resumed.set_params(strategy__random_state=np.random.RandomState(0))
    with pytest.warns(UserWarning, match="another object compared by identity"):
        resumed.query(X, y, LogisticRegression(max_iter=300), batch_size=5)
    assert not hasattr(resumed.learner_.query_strategy_, "validation_target_")


def test_scikit_activeml_adapter_warns_when_mq_net_loses_what_it_learnt():
    # A clf made anew each call with a RandomState (or the adapter pickled
    # without it) rebuilt the learner at every call, and MQ-Net never learnt.
    X, y_true, y = _skactiveml_digits()
    qs = SkactivemlQuery(MQNetQuery(random_state=0))

    def forest():
        return RandomForestClassifier(n_estimators=5, random_state=RandomState(0))

    def rebuilt(qs, clf):
        """The adapter's warnings of a rebuild in one query and answer."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _query_and_answer(qs, X, y, y_true, clf)
        return [str(w.message) for w in caught if "afresh" in str(w.message)]

    assert rebuilt(qs, forest()) == []  # the first call
    (message,) = rebuilt(qs, forest())
    assert re.search(
        "MQNetQuery lost what it learnt.*another object compared by identity.*"
        "int random_state",
        message,
    )
    elsewhere = np.flatnonzero(np.isnan(y))[:3]
    y[elsewhere] = y_true[elsewhere]
    clf = RandomForestClassifier(n_estimators=5, random_state=0)
    (message,) = rebuilt(qs, clf)
    assert re.search("parameters of clf.*changed.*did not choose", message)
    assert rebuilt(qs, clf) == []  # taught: nothing lost
    # A strategy that learns nothing from its queries loses nothing.
    plain = SkactivemlQuery(UncertaintyQuery(random_state=0))
    assert rebuilt(plain, forest()) == rebuilt(plain, forest()) == []


def test_scikit_activeml_adapter_tells_closures_apart():
    # Keyed by their code alone, two transforms from one factory were the
    # same setting: the learner kept the first one's classifier.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()

    def scaled(scale):
        return make_pipeline(
            FunctionTransformer(lambda rows: rows / scale),
            LogisticRegression(max_iter=300),
        )

    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    _query_and_answer(qs, X, y, y_true, scaled(16))
    first = qs.learner_
    _query_and_answer(qs, X, y, y_true, scaled(16))
    assert qs.learner_ is first  # taught
    qs.query(X, y, scaled(1e6), batch_size=5)
    assert qs.learner_ is not first
    np.testing.assert_allclose(qs.learner_.estimator_[0].transform(X[:2]), X[:2] / 1e6)


def test_scikit_activeml_adapter_refits_for_a_class_a_query_finds():
    # Without classes, teaching the first example of another IN class failed.
    pytest.importorskip("skactiveml")
    X, y_true, y = _skactiveml_digits()
    y[np.isin(y, [7, 9])] = np.nan  # the initial labels hold 3, 5 and OOD
    qs = SkactivemlQuery(UncertaintyQuery(random_state=0))
    while set(qs.learner_.classes_ if hasattr(qs, "learner_") else ()) != {3, 5, 7, 9}:
        _query_and_answer(qs, X, y, y_true, LogisticRegression(max_iter=300))
        assert np.sum(~np.isnan(y)) < 200, "no query found classes 7 and 9"
    assert len(qs.learner_.y_labelled_) == np.sum(~np.isnan(y)) - 5


def test_scikit_activeml_adapter_names_what_stops_a_query():
    skactiveml = pytest.importorskip("skactiveml.classifier")
    X, y_true, y = _skactiveml_digits()
    clf = skactiveml.SklearnClassifier(
        LogisticRegression(), classes=[3, 5, 7, 9], missing_label=-99
    )
    with pytest.raises(ValueError, match="SkactivemlQuery\\(..., missing_label=-99\\)"):
        SkactivemlQuery(UncertaintyQuery()).query(X, np.where(np.isnan(y), -99, y), clf)
    with pytest.raises(ValueError, match="no unlabelled row left"):
        SkactivemlQuery(UncertaintyQuery()).query(X, y_true, LogisticRegression())


def test_pixels_predicted_or_queried_keep_the_uint8_scale_too():
    # teach cast them; predict, predict_proba, score and query passed int64
    # pixels to the net unscaled (probabilities off by up to 0.8).
    X, y, _, classes = user_data("ints")
    X = (X * 255).astype(np.uint8)
    learner = ActiveLearner(image_net(), RandomQuery(), X[:80], y[:80], classes=classes)
    rows = X[100:150]
    np.testing.assert_array_equal(
        learner.predict_proba(rows.astype(np.int64)), learner.predict_proba(rows)
    )
    known = np.isin(y[100:150], classes)
    assert learner.score(rows[known].tolist(), y[100:150][known]) == learner.score(
        rows[known], y[100:150][known]
    )
    # Floats in [0, 1] are the net's scale for uint8: predicted as they are.
    np.testing.assert_allclose(
        learner.predict_proba(rows / 255.0), learner.predict_proba(rows), atol=1e-6
    )
    with pytest.raises(ValueError, match="X_pool is float64 but the learner's images"):
        learner.query(rows * 1.0)  # 0-255 as floats: another scale
    # Taught, floats that are the pixels / 255 (as a float pool's query
    # returns them) go back to uint8; others would mix two scales.
    learner.teach(rows[:5] / 255.0, y[100:105])
    assert learner.X_labelled_.dtype == np.uint8
    with pytest.raises(ValueError, match=r"np.rint\(X \* 255\).astype"):
        learner.teach(rows[5:10] / 256.0, y[105:110])


def test_a_table_learner_takes_uint8_columns_as_numbers():
    # The digits' counts 0..16 as uint8 were pixels to an MLP's learner too:
    # the same counts as floats were refused, "the learner's images are uint8".
    X, y, _, classes = user_data("ints")
    counts = np.rint(X * 16).astype(np.uint8)
    learner = ActiveLearner(mlp(), RandomQuery(), counts[:80], y[:80], classes=classes)
    rows = counts[100:150]
    np.testing.assert_allclose(
        learner.predict_proba(rows * 1.0), learner.predict_proba(rows), rtol=1e-6
    )
    learner.teach(rows[:5] * 1.0, y[100:105])
    assert learner.X_labelled_.max() == 16


def test_integer_pixels_beside_labelled_floats_are_pixels():
    # Beside floats in [0, 1], int64 pixels 0..255 were taught as they were:
    # the labelled set became float64 up to 255, two scales in one net.
    X, y, _, classes = user_data("ints")
    X = (X * 255).astype(np.uint8)
    floats = X / 255.0
    learner = ActiveLearner(
        image_net(), RandomQuery(), floats[:80], y[:80], classes=classes
    )
    rows = X[100:150].astype(np.int64)
    np.testing.assert_allclose(
        learner.predict_proba(rows), learner.predict_proba(floats[100:150]), atol=1e-6
    )
    with pytest.raises(ValueError, match="X is int64 but the learner's images are"):
        learner.teach(rows[:5], y[100:105])
    assert learner.X_labelled_.max() <= 1


def test_floats_are_not_taken_for_pixels_of_0_1_masks():
    # uint8 masks hold 0 and 1, which the net scales to 0 and 1/255: float
    # copies (1.0) are on another scale and were predicted without a word.
    X, y, _, classes = user_data("ints")
    masks = (X > 0.5).astype(np.uint8)
    learner = ActiveLearner(
        image_net(), RandomQuery(), masks[:80], y[:80], classes=classes
    )
    with pytest.raises(ValueError, match="X is float32 but the learner's images"):
        learner.predict_proba(masks[100:110].astype(np.float32))


@pytest.mark.parametrize("kind", ["ints", "strings"])
def test_one_labelled_in_class_names_the_class_and_the_remedy(kind):
    # LogisticRegression's own message names a class position (0), not the
    # user's label, and says nothing of what to do.
    X, y, ood_label, classes = user_data(kind)
    rows = np.r_[
        np.flatnonzero(y == classes[0])[:5], np.flatnonzero(y == ood_label)[:10]
    ]
    options = dict(classes=classes, ood_label=ood_label)
    learner = ActiveLearner(LogisticRegression(max_iter=300), **options)
    with pytest.raises(ValueError, match=f"example is '?{classes[0]}'?\\.") as info:
        learner.fit(X[rows], y[rows])
    assert "another IN class" in str(info.value)
    forest = RandomForestClassifier(n_estimators=5)  # trains on one class
    ActiveLearner(forest, **options).fit(X[rows], y[rows])


@pytest.mark.parametrize("kind", ["ints", "strings"])
def test_a_class_of_one_example_an_internal_validation_split_refuses_is_named(kind):
    # scikit-learn's stratified split names the class position ("Classes with
    # too few members are: [3.0]"), not the user's label, and no remedy.
    X, y, ood_label, classes = user_data(kind)
    rows = np.flatnonzero(np.isin(y, classes[:3]))[:60]
    learner = ActiveLearner(
        HistGradientBoostingClassifier(early_stopping=True, max_iter=5),
        RandomQuery(random_state=0),
        classes=classes,
        ood_label=ood_label,
    ).fit(X[rows], y[rows])
    first = np.flatnonzero(y == classes[3])[:1]
    message = (
        f"one example of \\['?{classes[3]}'?\\]: label a second example of each "
        r"such class, or turn the classifier's validation split off \(e\.g\. "
        r"early_stopping=False\)\.$"
    )
    with pytest.raises(ValueError, match=message) as info:
        learner.teach(X[first], y[first])
    assert "least populated class" in str(info.value.__cause__)
    assert len(learner.y_labelled_) == 60


@pytest.mark.skipif(
    Version(sklearn.__version__) < Version("1.8"),
    reason="scikit-learn's QDA raises this error from 1.8 on (1.7.2 fits)",
)
def test_an_error_naming_a_class_position_names_its_label():
    # QDA's "The covariance matrix of class 0 is not full rank ... class 0
    # has 3 samples" named the position the learner trains on, not 'cat'.
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    X = np.random.RandomState(0).rand(30, 5)
    y = np.array(["cat"] * 3 + ["dog"] * 20 + ["unknown"] * 7)
    learner = ActiveLearner(QuadraticDiscriminantAnalysis(), ood_label="unknown")
    with pytest.raises(np.linalg.LinAlgError, match="class 0 has 3 samples") as info:
        learner.fit(X, y)
    assert str(info.value).endswith(
        "(QuadraticDiscriminantAnalysis trains on the positions of classes_: "
        "class 0 is 'cat'.)"
    )
    # Labels that are their own positions need no such note.
    with pytest.raises(np.linalg.LinAlgError) as info:
        learner.set_params(ood_label=-1).fit(X, np.r_[[0] * 3, [1] * 20, [-1] * 7])
    assert str(info.value).endswith("for regularization.")


class _NotedQDA(ClassifierMixin, BaseEstimator):
    """Fails as QDA does, with a note added to its error (PEP 678)."""

    def fit(self, X, y):
        error = np.linalg.LinAlgError("The covariance matrix of class 0 is singular")
        error.__notes__ = ["fitting fold 3 of the user's loop"]
        raise error

    def predict(self, X):
        raise NotImplementedError

    def predict_proba(self, X):
        raise NotImplementedError


def test_the_error_naming_a_class_position_keeps_the_notes_of_the_original():
    # The rebuilt error kept only its message: notes added to the original by
    # the classifier or the user's code stayed on its chained cause alone.
    X = np.random.RandomState(0).rand(30, 5)
    y = np.array(["cat"] * 3 + ["dog"] * 20 + ["unknown"] * 7)
    learner = ActiveLearner(_NotedQDA(), ood_label="unknown")
    with pytest.raises(np.linalg.LinAlgError, match="class 0 is 'cat'") as info:
        learner.fit(X, y)
    assert info.value.__notes__ == ["fitting fold 3 of the user's loop"]
    assert info.value.__notes__ is not info.value.__cause__.__notes__


class _FoldError(ValueError):
    """A classifier's own error type, built from more than a message."""

    def __init__(self, fold, message):
        super().__init__(message)
        self.fold = fold


class _FoldedQDA(_NotedQDA):
    """Fails with an error of its own type that names a class position."""

    def fit(self, X, y):
        raise _FoldError(3, "class 0 has too few samples in fold 3")


class _PastQDA(_NotedQDA):
    """Fails naming a class position past the classes it was given."""

    def fit(self, X, y):
        raise ValueError("class 2 has no samples")


class _UnsplitForest(_NotedQDA):
    """Fails as a stratified split of too few folds does, no class alone."""

    def fit(self, X, y):
        raise ValueError(
            "n_splits=5 cannot be greater than the number of members in each "
            "class: the least populated class in y has only 3 members."
        )


def test_an_error_of_another_type_or_of_no_class_alone_goes_on_unchanged():
    # Only a ValueError or LinAlgError naming a class position there is is
    # rebuilt (another type may take other arguments than a message), and
    # the remedy of a class of one example is for such a class only, not
    # "one example of []".
    X = np.random.RandomState(0).rand(30, 5)
    y = np.array(["cat"] * 3 + ["dog"] * 20 + ["unknown"] * 7)
    learner = ActiveLearner(_FoldedQDA(), ood_label="unknown")
    with pytest.raises(_FoldError, match="^class 0 has too few samples in fold 3$"):
        learner.fit(X, y)
    learner = ActiveLearner(_PastQDA(), ood_label="unknown")
    with pytest.raises(ValueError, match="^class 2 has no samples$"):
        learner.fit(X, y)
    learner = ActiveLearner(_UnsplitForest(), ood_label="unknown")
    with pytest.raises(ValueError, match="only 3 members.$"):
        learner.fit(X, y)


def test_a_modal_query_that_buys_a_new_class_is_learnt_from():
    # MQ-Net's target encoded the labels against the classifier's classes, so
    # the first example of a class it had not seen stopped the loop for good.
    X, y = load_digits_dataset()
    labelled = np.flatnonzero(np.isin(y, [0, 1, 2]))[:60]
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    learner = ModalLike(forest, MQNetQuery(random_state=0), X[labelled], y[labelled])
    learner.X_ood_ = X[y >= 4][:20]
    pool = np.setdiff1d(np.flatnonzero(y < 4), labelled)
    indices, _ = learner.query_strategy(learner, X[pool], 30)
    new = np.flatnonzero(y[pool][indices] == 3)
    assert len(new), "the query should buy class 3 for this test"
    teach_open_set(learner, X[pool][indices], y[pool][indices])
    loss = learner.query_strategy.validation_target_
    assert np.allclose(loss[new], -np.log(1e-12))  # probability 0: the most loss
    assert set(learner.estimator.classes_) == {0, 1, 2, 3}


@pytest.mark.parametrize("strategy", [MQNetQuery, CoreSetQuery])
def test_a_modal_classifier_trained_on_part_of_its_labelled_set(strategy):
    # modAL's bootstrap_init fits a resample, which may miss a labelled class:
    # the class codes were computed for every query, and failed.
    X, y = load_digits_dataset()
    labelled = np.flatnonzero(y < 4)[:60]
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    learner = ModalLike(forest, strategy(random_state=0), X[labelled], y[labelled])
    learner.estimator.fit(X[labelled][y[labelled] != 1], y[labelled][y[labelled] != 1])
    indices, _ = learner.query_strategy(learner, X[300:600], 5)
    assert len(set(indices.tolist())) == 5
    mahalanobis = MQNetQuery(purity="mahalanobis", random_state=0)
    with pytest.raises(ValueError, match="bootstrap_init.*every labelled class"):
        mahalanobis(learner, X[300:600], 5)


def test_a_modal_learner_without_x_training_is_named():
    X, y = load_digits_dataset()
    learner = ModalLike(LogisticRegression(max_iter=300), None, X[:80], y[:80])
    learner.X_training = learner.y_training = None  # modAL's default
    with pytest.raises(ValueError, match="made without X_training"):
        CoreSetQuery(random_state=0)(learner, X[300:400], 5)


def test_one_labelled_in_class_keeps_other_errors_as_they_are():
    # An invalid parameter was reported as the one-class problem.
    X, y, ood_label, classes = user_data("ints")
    rows = np.r_[np.flatnonzero(y == 3)[:5], np.flatnonzero(y == ood_label)[:10]]
    learner = ActiveLearner(LogisticRegression(C=-1), classes=classes)
    with pytest.raises(ValueError, match="'C' parameter of LogisticRegression"):
        learner.fit(X[rows], y[rows])


def test_scikit_activeml_adapter_takes_a_class_as_a_parameter_value():
    # A parameter holding an estimator class was walked as an estimator:
    # calling its unbound get_params raised a TypeError.
    from skal_openset._skactiveml import _settings

    template = FunctionTransformer(func=None, inverse_func=None, kw_args=None)
    template.set_params(kw_args={"kind": LogisticRegression})
    qs = SkactivemlQuery(UncertaintyQuery())
    assert _settings(template, qs) == _settings(clone(template), qs)
    holder = FunctionTransformer(func=LogisticRegression)  # a class as the value
    assert _settings(holder, qs) == _settings(clone(holder), qs)


def test_an_unfitted_net_given_the_labels_as_classes_trains_and_predicts():
    # The check for classifiers prefitted on labels refused a plain skorch
    # net whose classes_ echo its `classes` (labels), and class_columns cast
    # them to positions; its outputs are positions.
    from sklearn.datasets import load_digits
    from skorch import NeuralNetClassifier
    from torch import nn

    X, y = load_digits(return_X_y=True)
    X, labels = X[:200].astype(np.float32) / 16, np.array(list("abcd"))[y[:200] % 4]
    net = NeuralNetClassifier(
        nn.Sequential(nn.Linear(64, 4), nn.Softmax(dim=-1)),
        classes=list("abcd"),
        max_epochs=2,
        train_split=None,
        verbose=0,
    )
    learner = ActiveLearner(net, ood_label="unknown").fit(X, labels)
    proba = learner.predict_proba(X)
    assert proba.shape == (200, 4)
    np.testing.assert_array_equal(
        learner.classes_[proba.argmax(axis=1)], learner.predict(X)
    )


def test_one_inferred_in_class_is_warned_of():
    # A forest trained on the one class +1 of labels {-1, +1} (the default
    # ood_label=-1) predicted it everywhere without a word.
    X = np.random.default_rng(0).normal(size=(40, 4))
    y = np.where(X[:, 0] > 0, 1, -1)
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    with pytest.warns(UserWarning, match="Every labelled IN row is 1") as record:
        ActiveLearner(forest).fit(X, y)
    assert "Rows labelled -1 are OOD (ood_label=-1)" in str(record[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ActiveLearner(forest, classes=[1, 2]).fit(X, y)  # declared: no warning
        ActiveLearner(forest).fit(X, np.where(y == 1, 1, 2))  # two classes


def test_labels_minus_one_and_one_say_that_minus_one_is_the_ood_label():
    # {-1, +1} labels under the default ood_label=-1: the error named one IN
    # class, 1, and never said why -1 was no class.
    X = np.random.default_rng(0).normal(size=(40, 4))
    y = np.where(X[:, 0] > 0, 1, -1)
    learner = ActiveLearner(LogisticRegression())
    # Refused alone: no warning beside it of predictions never made.
    with (
        pytest.raises(
            ValueError, match=r"labelled -1 are OOD \(ood_label=-1\)"
        ) as info,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error")
        learner.fit(X, y)
    assert "pass classes=[...] listing every class" in str(info.value)
    # as it says: -1 is a class
    options = dict(classes=[-1, 1], ood_label=0)
    learner = ActiveLearner(LogisticRegression(), **options).fit(X, y)
    assert learner.classes_.tolist() == [-1, 1]


def test_a_learner_reads_each_integer_pixel_row_whatever_rows_come_with_it():
    # Beside labelled floats in [0, 1], integer rows were pixels or 0/1 masks
    # by the largest value of the whole call, so a chunk of the pool read
    # otherwise than the pool; a dark uint8 chunk was refused.
    X, y, _, classes = user_data("ints")
    pixels = np.rint(X * 255).astype(np.uint8)  # the digits come in [0, 1]
    learner = ActiveLearner(
        image_net(), RandomQuery(), pixels[:80] / 255.0, y[:80], classes=classes
    )
    rows = np.concatenate([np.ones((1, 64), np.int64), pixels[100:110]])
    np.testing.assert_allclose(
        learner.predict_proba(rows)[:1], learner.predict_proba(rows[:1]), atol=1e-6
    )
    np.testing.assert_allclose(
        learner.predict_proba(rows[1:]),
        learner.predict_proba(pixels[100:110] / 255.0),
        atol=1e-6,
    )
    dark = np.zeros((2, 64), np.uint8)
    np.testing.assert_allclose(
        learner.predict_proba(dark),
        learner.predict_proba(np.concatenate([dark, pixels[100:102]]))[:2],
        atol=1e-6,
    )


@pytest.mark.parametrize("y", [["a", "a\x00", "b"], [b"a\x00", b"b"], [b"a", "a"]])
def test_a_list_of_labels_is_objects_where_numpy_strings_would_change_one(y):
    # numpy's strings drop trailing NULs (and decode bytes beside strings):
    # 'a' and 'a\x00' were one class 'a'.
    labels = label_array(y)
    assert labels.dtype == object and labels.tolist() == y
    assert label_array(["a", np.str_("b")]).dtype.kind == "U"


@pytest.mark.parametrize("where", ["learner", "oracle"])
def test_labels_that_are_the_ood_label_but_for_trailing_nuls_are_named(where):
    # Given in a list, 'unknown\x00' was a class of its own without a word,
    # where numpy's array of the same labels holds it as 'unknown', the OOD
    # label; it shows as the OOD label, as one of another case does.
    def n_ood(y):
        if where == "learner":
            X = np.arange(2.0 * len(y)).reshape(-1, 2)
            learner = ActiveLearner(LogisticRegression(), ood_label="unknown")
            return int(np.sum(learner.fit(X, y).y_labelled_ == "unknown"))
        oracle = OpenSetOracle(y, ood_label="unknown")
        oracle.label(np.arange(len(y)))
        return oracle.n_queried_ood_

    y = ["a", "b", "unknown", "unknown\x00"] * 3
    warned = r"\['unknown\\x00'\] that differ from ood_label='unknown' .* NULs"
    with pytest.warns(UserWarning, match=warned):
        assert n_ood(y) == 3
    without = [label for label in y if label != "unknown"]
    refused = r"but \['unknown\\x00'\] differ from it only .* trailing NULs"
    with pytest.raises(ValueError, match=refused) as error:
        n_ood(without)
    # The remedy, pasted, makes them OOD labels (no ood_label ends in a NUL).
    code = re.search(r"clean the labels, e\.g\. (.*)\.$", str(error.value))[1]
    assert n_ood(eval(code, {"y": without})) == 3


@pytest.mark.parametrize("missing_label", ["-\x00", b"-\x00\x00"])
def test_a_missing_label_ending_in_nul_is_refused_as_given(missing_label):
    # numpy drops trailing NULs from a string it compares with an array: in a
    # y of numpy's strings, the rows of the class '-' read as unlabelled, and
    # the class was lost, silently.
    labels = ["a", "b", "-", "?"]
    if isinstance(missing_label, bytes):
        labels = [label.encode() for label in labels]
    a, b, dash, ood = labels
    y = np.array([a, b, dash] * 2 + [missing_label] * 6)
    assert (y == dash).sum() == 8  # numpy's array holds the marker as '-'
    X = np.arange(24.0).reshape(12, 2)
    qs = SkactivemlQuery(UncertaintyQuery(), ood_label=ood, missing_label=missing_label)
    message = (
        f"^missing_label={re.escape(repr(missing_label))} ends in a NUL "
        f"character, .* so it would match {re.escape(repr(dash))}, not itself"
    )
    with pytest.raises(ValueError, match=message):
        qs.query(X, y, LogisticRegression())


@pytest.mark.parametrize("ood_label", ["?\x00", b"?\x00\x00"])
@pytest.mark.parametrize("where", ["learner", "oracle", "skactiveml"])
def test_an_ood_label_ending_in_nul_is_refused_as_given(where, ood_label):
    # numpy drops trailing NULs from a string it compares with an array: the
    # rows of ood_label counted as IN, those of '?' as OOD, silently.
    y = np.array([ood_label[:1], ood_label, ood_label[:1] * 2] * 4, dtype=object)
    X = np.arange(24.0).reshape(12, 2)
    message = f"^ood_label={re.escape(repr(ood_label))} ends in a NUL character"
    with pytest.raises(ValueError, match=message):
        if where == "learner":
            ActiveLearner(LogisticRegression(), ood_label=ood_label).fit(X, y)
        elif where == "oracle":
            OpenSetOracle(y, ood_label=ood_label)
        else:
            labels = np.array([*y[:6], *[None] * 6], dtype=object)
            SkactivemlQuery(
                UncertaintyQuery(), ood_label=ood_label, missing_label=None
            ).query(X, labels, LogisticRegression())


def test_skactiveml_query_checks_its_ood_label_before_its_missing_label():
    # Left to the learner it builds, ood_label=None beside missing_label=None
    # was refused as equal to missing_label, whose remedy is to mark the
    # unlabelled rows otherwise: None is no OOD label at all.
    y = np.array(["a", "b"] * 3 + [None] * 6, dtype=object)
    query = SkactivemlQuery(UncertaintyQuery(), ood_label=None, missing_label=None)
    with pytest.raises(ValueError, match="^ood_label must be a single label"):
        query.query(np.arange(24.0).reshape(12, 2), y, LogisticRegression())


def test_per_example_loss_reads_a_list_of_labels_as_given():
    # A list's string array dropped trailing NULs: the loss of 'a\x00' rows
    # was that of the class 'a'.
    X = np.array([[0.0], [0.1], [1.0], [1.1]])
    y = np.array(["a", "a", "a\x00", "a\x00"], dtype=object)
    learner = ActiveLearner(LogisticRegression(C=100.0), ood_label="?").fit(X, y)
    loss = per_example_loss(learner, X[2:], ["a\x00", "a\x00"])
    np.testing.assert_allclose(loss, per_example_loss(learner, X[2:], y[2:]))
    assert (loss < per_example_loss(learner, X[2:], ["a", "a"])).all()


def test_teach_open_set_gives_modal_the_labels_as_given():
    # The IN labels of a list that mixed in the OOD label became a string
    # array, which dropped trailing NULs: 'a\x00' was taught as 'a'.
    X = np.array([[0.0], [1.0], [0.1], [1.1], [5.0]])
    y = np.array(["a", "a\x00"], dtype=object)
    learner = ModalLike(LogisticRegression(), UncertaintyQuery(), X[:2], y)
    teach_open_set(learner, X[2:], ["a", "a\x00", -1])
    assert learner.y_training.tolist() == ["a", "a\x00", "a", "a\x00"]
    assert learner.X_ood_.tolist() == [[5.0]]
