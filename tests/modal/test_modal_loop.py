"""MQNetQuery inside the real modAL ActiveLearner.

modAL 0.4.2.1 only works with scikit-learn < 1.8, so CI runs this file in a
separate environment (see .ci/run); elsewhere it is skipped.
"""

import functools
import warnings

import numpy as np
import pytest

modAL_models = pytest.importorskip("modAL.models")

from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.exceptions import DataConversionWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import skal_openset  # noqa: E402
from skal_openset import (  # noqa: E402
    ActiveLearner,
    CCALQuery,
    CoreSetQuery,
    EOALQuery,
    LfOSAQuery,
    MQNetQuery,
    OpenSetOracle,
    QueryStrategy,
    RandomQuery,
    SimilarQuery,
    UncertaintyQuery,
    load_digits_dataset,
    make_mlp_classifier,
    make_open_set_split,
    teach_open_set,
)


def modal_learner(estimator, strategy):
    """modAL's learner on the IN rows of a digits split; the oracle and split too."""
    X, y = load_digits_dataset()
    split = make_open_set_split(
        X, y, n_in_classes=4, noise_ratio=0.4, initial_size=30, random_state=0
    )
    oracle = OpenSetOracle(split.y_pool)
    initial = oracle.label(split.initial_idx)
    is_in = initial != split.ood_label
    learner = modAL_models.ActiveLearner(
        estimator=estimator,
        query_strategy=strategy,
        X_training=split.X_pool[split.initial_idx][is_in],
        y_training=initial[is_in],
    )
    return learner, oracle, split, is_in


@pytest.mark.parametrize(
    "estimator",
    [
        make_mlp_classifier(64, 4, max_epochs=20, random_state=0),
        RandomForestClassifier(n_estimators=30, random_state=0),
    ],
    ids=["skorch-mlp", "random-forest"],
)
def test_mqnet_query_drives_modal_active_learner_for_three_rounds(estimator):
    strategy = MQNetQuery(rule_weight=0, random_state=0)
    learner, oracle, split, is_in = modal_learner(estimator, strategy)
    accuracies = []
    for _ in range(3):
        unlabelled = np.flatnonzero(~oracle.queried_)
        ranked, X_query = learner.query(split.X_pool[unlabelled], n_instances=20)
        assert len(np.unique(ranked)) == 20
        bought, _ = oracle.fill_budget(unlabelled[ranked], budget=20)
        labels = oracle.label(bought)
        # modAL's teach does not call update: teach_open_set does, while modAL
        # still holds the classifier that chose the query, then teaches the
        # IN rows only and keeps the OOD rows for the purity score.
        teach_open_set(learner, split.X_pool[bought], labels)
        accuracies.append(learner.score(split.X_test, split.y_test))
    assert hasattr(strategy, "selector_")  # MQ-Net trained on a self-validation set
    assert len(learner.X_training) == oracle.n_queried_in_  # OOD never taught
    assert len(learner.X_ood_) == oracle.n_queried_ood_ - np.sum(~is_in)
    assert min(accuracies) > 0.6  # chance is 0.25 for 4 classes


@pytest.mark.parametrize(
    "strategy",
    [
        LfOSAQuery(random_state=0),
        EOALQuery(random_state=0),
        SimilarQuery(random_state=0),
        CCALQuery(random_state=0),
    ],
    ids=lambda strategy: type(strategy).__name__,
)
def test_open_set_baselines_drive_modal_active_learner(strategy):
    learner, oracle, split, is_in = modal_learner(
        make_mlp_classifier(64, 4, max_epochs=20, random_state=0), strategy
    )
    learner.X_ood_ = split.X_pool[split.initial_idx][~is_in]
    for _ in range(2):
        unlabelled = np.flatnonzero(~oracle.queried_)
        ranked, _ = learner.query(split.X_pool[unlabelled], n_instances=20)
        assert len(np.unique(ranked)) == 20
        bought = unlabelled[ranked]
        teach_open_set(learner, split.X_pool[bought], oracle.label(bought))
    # IN rows are taught; OOD rows reach the strategies through X_ood_.
    assert len(learner.X_training) == oracle.n_queried_in_
    assert len(learner.X_ood_) == oracle.n_queried_ood_


def _modal_learner(strategy, X, y):
    """modAL's learner of a logistic regression trained on the first 60 rows."""
    return modAL_models.ActiveLearner(
        estimator=LogisticRegression(max_iter=500),
        query_strategy=strategy,
        X_training=X[:60],
        y_training=y[:60],
    )


@pytest.mark.parametrize(
    "strategy",
    [  # every strategy the package exports
        getattr(skal_openset, name)
        for name in skal_openset.__all__
        if isinstance(getattr(skal_openset, name), type)
        and issubclass(getattr(skal_openset, name), QueryStrategy)
        and getattr(skal_openset, name) is not QueryStrategy
    ],
    ids=lambda strategy: strategy.__name__,
)
def test_every_strategy_refuses_a_modal_learner_trained_on_ood_rows(strategy):
    # Only the strategies that read the labelled set refused it: the others
    # queried a classifier that modAL had trained on OOD as a class.
    X, y = load_digits_dataset()
    learner = _modal_learner(strategy(random_state=0), X, np.where(y < 4, y, -1))
    with pytest.raises(ValueError, match="y_training holds [0-9]+ rows labelled"):
        learner.query(X[60:], n_instances=5)


def test_string_labels_need_the_modal_learners_ood_label_before_a_query():
    # It fell back to -1, so the 'unknown' rows in y_training went unnoticed:
    # a class of the classifier that the strategy queried.
    X, y = load_digits_dataset()
    y = np.where(y < 4, np.array(list("abcd") + ["x"] * 6)[y], "unknown")
    learner = _modal_learner(MQNetQuery(random_state=0), X, y)
    with pytest.raises(ValueError, match="strings but ood_label=-1.*learner.ood_la"):
        learner.query(X[60:], n_instances=5)
    learner.ood_label = "unknown"
    with pytest.raises(ValueError, match="y_training holds [0-9]+ rows labelled"):
        learner.query(X[60:], n_instances=5)


@pytest.mark.parametrize("partial", [False, True])
def test_our_learner_refuses_modals_ranked_batch_naming_the_alternative(partial):
    # It failed at the first query with a bare AttributeError: 'ActiveLearner'
    # object has no attribute 'on_transformed'.
    from modAL.batch import uncertainty_batch_sampling
    from modAL.uncertainty import margin_sampling

    X, y = load_digits_dataset()
    y = np.where(y < 4, y, -1)
    strategy = uncertainty_batch_sampling
    if partial:  # as modAL's documentation presets the batch size
        strategy = functools.partial(uncertainty_batch_sampling, n_instances=5)
    learner = ActiveLearner(LogisticRegression(max_iter=500), strategy, X[:60], y[:60])
    with pytest.raises(TypeError, match="uncertainty_batch_sampling.*BadgeQuery"):
        learner.query(X[60:], n_instances=5)
    learner.set_params(query_strategy=margin_sampling)  # reads predictions only
    assert len(learner.query(X[60:], n_instances=5)[0]) == 5


def test_teach_open_set_gives_modal_the_rows_as_they_were_given():
    # It gave modAL the checked numpy rows, which modAL cannot stack onto a
    # tensor X_training ("<class 'torch.Tensor'> datatype is not supported").
    torch = pytest.importorskip("torch")
    X, y = load_digits_dataset()
    split = make_open_set_split(
        X, y, n_in_classes=4, noise_ratio=0.4, initial_size=30, random_state=0
    )
    pool = torch.from_numpy(split.X_pool.astype(np.float32))
    initial = split.y_pool[split.initial_idx]
    is_in = initial != split.ood_label
    learner = modAL_models.ActiveLearner(
        estimator=make_mlp_classifier(64, 4, max_epochs=2, random_state=0),
        query_strategy=UncertaintyQuery(random_state=0),
        X_training=pool[split.initial_idx][torch.from_numpy(is_in)],
        y_training=initial[is_in],
    )
    rest = np.setdiff1d(np.arange(len(pool)), split.initial_idx)
    indices, X_query = learner.query(pool[rest], n_instances=20)
    labels = split.y_pool[rest][indices]
    teach_open_set(learner, X_query, labels)
    assert isinstance(learner.X_training, torch.Tensor)
    assert len(learner.X_training) == np.sum(is_in) + np.sum(labels != -1)
    assert len(learner.X_ood_) == np.sum(labels == -1)


def test_teach_open_set_starts_a_modal_learner_made_without_rows():
    # modAL takes the first rows taught as its X_training: the IN ones, the
    # OOD ones kept apart, every label checked against the OOD label given.
    X, y = load_digits_dataset()
    y = np.where(y < 4, y, -1)
    learner = modAL_models.ActiveLearner(
        estimator=LogisticRegression(max_iter=500),
        query_strategy=RandomQuery(random_state=0),
    )
    teach_open_set(learner, X[:60], y[:60], ood_label=-1)
    is_in = y[:60] != -1
    np.testing.assert_array_equal(learner.X_training, X[:60][is_in])
    np.testing.assert_array_equal(learner.X_ood_, X[:60][~is_in])
    assert learner.estimator.classes_.tolist() == [0, 1, 2, 3]


def test_teach_open_set_trains_the_users_classifier_in_place():
    # It swapped learner.estimator for a trained copy, so the classifier the
    # user kept a reference to silently went stale.
    classifier = LogisticRegression(max_iter=500)
    learner, oracle, split, _ = modal_learner(
        classifier, MQNetQuery(rule_weight=0, random_state=0)
    )
    unlabelled = np.flatnonzero(~oracle.queried_)
    ranked, _ = learner.query(split.X_pool[unlabelled], n_instances=20)
    bought = unlabelled[ranked]
    teach_open_set(learner, split.X_pool[bought], oracle.label(bought))
    assert learner.estimator is classifier
    refitted = LogisticRegression(max_iter=500)
    refitted.fit(learner.X_training, learner.y_training)
    np.testing.assert_allclose(classifier.coef_, refitted.coef_)


class FailingFit(LogisticRegression):
    """Refits in place, then fails as a fit (or a Ctrl-C) may after training."""

    def fit(self, X, y):
        super().fit(X, y)
        if getattr(self, "fail_with", None) is not None:
            raise self.fail_with("fit failed after refitting")
        return self


@pytest.mark.parametrize("failure", [RuntimeError, KeyboardInterrupt])
def test_a_failing_teach_open_set_puts_the_users_classifier_back(failure):
    classifier = FailingFit(max_iter=500)
    strategy = MQNetQuery(rule_weight=0, random_state=0)
    learner, oracle, split, is_in = modal_learner(classifier, strategy)
    unlabelled = np.flatnonzero(~oracle.queried_)
    ranked, _ = learner.query(split.X_pool[unlabelled], n_instances=20)
    bought = unlabelled[ranked]
    labels = oracle.label(bought)
    assert 0 < np.sum(labels == split.ood_label) < 20  # IN to teach, OOD to keep
    coef = classifier.coef_.copy()
    state = set(vars(strategy))
    classifier.fail_with = failure
    for _ in range(2):  # a retry must not double anything
        with pytest.raises(failure, match="fit failed after refitting"):
            teach_open_set(learner, split.X_pool[bought], labels)
        assert learner.estimator is classifier
        np.testing.assert_array_equal(classifier.coef_, coef)
        assert len(learner.X_training) == np.sum(is_in)
        assert not hasattr(learner, "X_ood_")
        assert set(vars(strategy)) == state  # update's selector_ etc. undone
    classifier.fail_with = None
    teach_open_set(learner, split.X_pool[bought], labels)
    assert len(learner.X_training) == np.sum(is_in) + np.sum(labels != -1)
    assert hasattr(strategy, "validation_target_")


def _refusal(learner, X, y):
    with pytest.raises(ValueError) as refused:
        teach_open_set(learner, X, y)
    message = str(refused.value)
    # Our ActiveLearner's remedies, which a modAL learner cannot follow:
    assert "X_labelled_" not in message
    assert "call the strategy on the pool" not in message
    assert "X_training, y_training" in message and "learner.X_ood_" in message
    return message


def test_mqnet_refusals_through_teach_open_set_give_modal_remedies():
    # They told a modAL user to refit on learner.X_labelled_ (which it lacks)
    # or to call the strategy on the pool before any fit.
    X, y = load_digits_dataset()
    split = make_open_set_split(
        X, y, n_in_classes=4, noise_ratio=0.4, initial_size=30, random_state=0
    )
    initial = split.y_pool[split.initial_idx]
    unseeded = modAL_models.ActiveLearner(
        estimator=RandomForestClassifier(n_estimators=10, random_state=0),
        query_strategy=MQNetQuery(random_state=0),
    )
    message = _refusal(unseeded, split.X_pool[split.initial_idx], initial)
    assert "has not queried yet" in message

    learner, oracle, split, _ = modal_learner(
        RandomForestClassifier(n_estimators=10, random_state=0),
        MQNetQuery(random_state=0),
    )
    unlabelled = np.flatnonzero(~oracle.queried_)
    ranked, _ = learner.query(split.X_pool[unlabelled], n_instances=10)
    bought = unlabelled[ranked]
    other = np.setdiff1d(unlabelled, bought)[:5]
    message = _refusal(learner, split.X_pool[other], split.y_pool[other])
    assert "none of the last 5 queries" in message
    labels = split.y_pool[bought]
    learner.teach(split.X_pool[bought][labels != -1], labels[labels != -1])
    message = _refusal(learner, split.X_pool[bought], labels)
    assert "was retrained (modAL's teach or fit)" in message

    with pytest.warns(UserWarning, match="queried again without an update"):
        ranked, _ = learner.query(split.X_pool[unlabelled], n_instances=10)
    bought = unlabelled[ranked]
    teach_open_set(learner, split.X_pool[bought], split.y_pool[bought])
    message = _refusal(learner, split.X_pool[bought], split.y_pool[bought])
    assert "already learnt from 10 of these 10 rows" in message


def test_a_pool_or_query_of_another_width_is_refused_before_anything_is_kept():
    # RandomQuery chose rows of a 10-feature pool, CoreSet failed in NumPy,
    # and teach_open_set kept 10-feature OOD rows in learner.X_ood_.
    learner, oracle, split, _ = modal_learner(
        LogisticRegression(max_iter=500), CoreSetQuery(random_state=0)
    )
    unlabelled = np.flatnonzero(~oracle.queried_)
    narrow = split.X_pool[unlabelled][:, :10]
    message = "X has 10 features, but LogisticRegression is expecting 64"
    for strategy in (CoreSetQuery(random_state=0), RandomQuery(random_state=0)):
        learner.query_strategy = strategy
        with pytest.raises(ValueError, match=message):
            learner.query(narrow, n_instances=5)
    ood = unlabelled[split.y_pool[unlabelled] == split.ood_label][:5]
    with pytest.raises(ValueError, match=message):
        teach_open_set(learner, split.X_pool[ood][:, :10], split.y_pool[ood])
    assert not hasattr(learner, "X_ood_")


def test_teach_open_set_does_not_take_booleans_for_numeric_classes():
    # True == 1 and False == 0: a mask taught to a learner of classes 0..3
    # went into y_training as 1 and 0, as our ActiveLearner refuses to do.
    learner, oracle, split, _ = modal_learner(
        LogisticRegression(max_iter=500), RandomQuery(random_state=0)
    )
    unlabelled = np.flatnonzero(~oracle.queried_)
    ranked, _ = learner.query(split.X_pool[unlabelled], n_instances=2)
    before = learner.y_training.copy()
    # Named as the classes modAL trained on, each once.
    classes = r"the classes the learner has trained on \[0, 1, 2, 3\] are numbers"
    with pytest.raises(
        ValueError, match=r"labels hold booleans \[True, False\] .*" + classes
    ):
        teach_open_set(learner, split.X_pool[unlabelled[ranked]], [True, False])
    np.testing.assert_array_equal(learner.y_training, before)


def test_teach_open_set_refuses_a_committee_with_a_type_error():
    # It raised AttributeError: 'Committee' object has no attribute 'estimator'.
    members = [
        modal_learner(
            RandomForestClassifier(n_estimators=5, random_state=i),
            UncertaintyQuery(random_state=0),
        )[0]
        for i in range(2)
    ]
    committee = modAL_models.Committee(learner_list=members)
    X, y = load_digits_dataset()
    with pytest.raises(TypeError, match="one learner, not a committee"):
        teach_open_set(committee, X[:5], y[:5])
    # Its X_training, None, was read as a learner made without one.
    with pytest.raises(TypeError, match="one learner, not a committee"):
        MQNetQuery(random_state=0)(committee, X[:20], n_instances=2)


def _digits_learner(strategy, estimator=None, labels=None):
    """modAL's learner on the IN rows of the first 60 digits (classes 0..3,
    given as `labels[class]` where given), its OOD rows in X_ood_."""
    X, y = load_digits_dataset()
    y = np.where(y < 4, y, -1)
    is_in = y[:60] != -1
    learner = modAL_models.ActiveLearner(
        estimator=LogisticRegression(max_iter=500) if estimator is None else estimator,
        query_strategy=strategy,
        X_training=X[:60][is_in],
        y_training=y[:60][is_in] if labels is None else labels[y[:60][is_in]],
    )
    learner.X_ood_ = X[:60][~is_in]
    return learner, X, y


def test_a_list_of_classes_and_the_ood_label_keeps_each_labels_kind():
    # numpy read ['a', -1] as ['a', '-1']: the OOD row became the class '-1';
    # and ['unknown', 2] as ['unknown', '2']: every class became a string.
    learner, X, _ = _digits_learner(
        RandomQuery(random_state=0), labels=np.array(list("abcd"))
    )
    n_ood = len(learner.X_ood_)
    teach_open_set(learner, X[60:62], ["a", -1], ood_label=-1)
    assert learner.estimator.classes_.tolist() == ["a", "b", "c", "d"]
    assert len(learner.X_ood_) == n_ood + 1
    learner, X, _ = _digits_learner(RandomQuery(random_state=0))
    teach_open_set(learner, X[60:63], ["unknown", 2, 0], ood_label="unknown")
    assert learner.y_training.dtype.kind == "i"
    assert learner.estimator.classes_.tolist() == [0, 1, 2, 3]


def test_teach_open_set_takes_the_object_labels_our_learner_takes():
    # modAL stacked them onto its int64 y_training, an object array that
    # scikit-learn refused: "Unknown label type: unknown".
    learner, X, _ = _digits_learner(RandomQuery(random_state=0))
    labels = np.array([2, "unknown", 0], dtype=object)
    teach_open_set(learner, X[60:63], labels, ood_label="unknown")
    assert learner.y_training.dtype.kind == "i"
    assert learner.y_training[-2:].tolist() == [2, 0]


@pytest.mark.parametrize(
    "labels, message",
    [
        (["7", -1], r"Labels \['7'\] are not numbers"),
        ([1.5, -1], "Unknown label type"),
        ([None, 2], "y contains None or NaN"),
    ],
)
def test_teach_open_set_refuses_labels_modal_would_train_on_wrongly(labels, message):
    # They became classes of their own beside the numbers, or failed inside
    # scikit-learn's fit with a message naming no cause.
    learner, X, _ = _digits_learner(RandomQuery(random_state=0))
    before = learner.y_training.copy()
    with pytest.raises(ValueError, match=message):
        teach_open_set(learner, X[60:62], labels)
    np.testing.assert_array_equal(learner.y_training, before)


@pytest.mark.parametrize(
    "label, refused",
    [((1, 2), r"\(1, 2\) at row 1, a tuple"), ({1}, r"\{1\} at row 1, of type set")],
    ids=["tuple", "set"],
)
def test_teach_open_set_refuses_a_label_that_is_no_single_value(label, refused):
    # As our ActiveLearner's teach does, naming the row: the tuple failed
    # with numpy's "setting an array element with a sequence", the set with
    # a bare "unhashable type".
    learner, X, _ = _digits_learner(RandomQuery(random_state=0))
    before = learner.y_training.copy()
    labels = np.empty(2, dtype=object)
    labels[0], labels[1] = 2, label
    with pytest.raises(ValueError, match=rf"^y holds {refused}"):
        teach_open_set(learner, X[60:62], labels)
    np.testing.assert_array_equal(learner.y_training, before)


@pytest.mark.parametrize("row", [tuple, list], ids=["tuples", "lists"])
def test_teach_open_set_reads_a_column_of_labels_and_warns(row):
    # As ActiveLearner's fit and teach, and scikit-learn's fit, read it: it
    # was read silently, where they warn.
    taught, warned = [], []
    for labels in ([1, -1, 2], [row([label]) for label in (1, -1, 2)]):
        learner, X, _ = _digits_learner(RandomQuery(random_state=0))
        n_ood = len(learner.X_ood_)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            teach_open_set(learner, X[60:63], labels)
        taught.append((learner.y_training.tolist(), len(learner.X_ood_) - n_ood))
        warned.append(
            [w for w in caught if issubclass(w.category, DataConversionWarning)]
        )
    assert taught[1] == taught[0] and taught[0][1] == 1
    assert not warned[0]
    assert [str(w.message)[:49] for w in warned[1]] == [
        "A column-vector y was passed when a 1d array was "
    ]
    assert warned[1][0].filename == __file__


def test_teach_open_set_gives_modal_tensor_labels_where_it_trains_on_them():
    # The labels went as a numpy array, which modAL cannot torch.cat onto a
    # tensor y_training ("<class 'torch.Tensor'> datatype is not supported").
    torch = pytest.importorskip("torch")
    X, y = load_digits_dataset()
    X, y = (
        torch.from_numpy(X.astype(np.float32)),
        torch.from_numpy(np.where(y < 4, y, -1)),
    )
    is_in = y[:60] != -1
    learner = modAL_models.ActiveLearner(
        estimator=make_mlp_classifier(64, 4, max_epochs=2, random_state=0),
        query_strategy=UncertaintyQuery(random_state=0),
        X_training=X[:60][is_in],
        y_training=y[:60][is_in],
    )
    teach_open_set(learner, X[60:70], y[60:70])
    assert isinstance(learner.y_training, torch.Tensor)
    assert len(learner.y_training) == int(is_in.sum() + (y[60:70] != -1).sum())


def test_teach_open_set_keeps_the_dtype_of_a_tensor_y_training():
    # The docstring's "a torch tensor of its dtype": labels taught to an
    # int32 y_training as numpy's int64 would make torch.cat promote it.
    torch = pytest.importorskip("torch")
    X, y = load_digits_dataset()
    X, y = torch.from_numpy(X.astype(np.float32)), np.where(y < 4, y, -1)
    is_in = y[:60] != -1
    learner = modAL_models.ActiveLearner(
        estimator=make_mlp_classifier(64, 4, max_epochs=2, random_state=0),
        query_strategy=UncertaintyQuery(random_state=0),
        X_training=X[:60][is_in],
        y_training=torch.from_numpy(y[:60][is_in].astype(np.int32)),
    )
    teach_open_set(learner, X[60:70], y[60:70])
    assert learner.y_training.dtype == torch.int32
    assert len(learner.y_training) == int(is_in.sum() + (y[60:70] != -1).sum())


def test_a_strategy_in_a_partial_learns_from_teach_open_set():
    # modAL's docs preset the batch size so; the partial has no update, so
    # MQ-Net's was skipped without a word and it never learnt.
    strategy = MQNetQuery(random_state=0)
    learner, X, y = _digits_learner(functools.partial(strategy, n_instances=10))
    indices, _ = learner.query(X[60:300])
    teach_open_set(learner, X[60:300][indices], y[60:300][indices])
    assert hasattr(strategy, "validation_target_")


def test_a_strategy_needing_probabilities_names_the_remedy_on_a_modal_learner():
    # It failed with a bare AttributeError: 'LinearSVC' object has no
    # attribute 'predict_proba'; our ActiveLearner names the remedy at fit.
    from sklearn.svm import LinearSVC

    learner, X, _ = _digits_learner(UncertaintyQuery(random_state=0), LinearSVC())
    with pytest.raises(ValueError, match="CalibratedClassifierCV"):
        learner.query(X[60:200], n_instances=5)


class _FailingOnce(RandomForestClassifier):
    """A forest whose next fit fails after training, once `fail` is set."""

    fail = False

    def fit(self, X, y):
        super().fit(X, y)
        if type(self).fail:
            type(self).fail = False
            raise RuntimeError("failed after training")
        return self


def test_a_retried_teach_open_set_draws_modals_bootstrap_sample_again():
    # modAL draws it from NumPy's global state, which was rewound only for
    # an unseeded strategy or classifier: the retry trained on another sample.
    def taught(fail):
        forest = _FailingOnce(n_estimators=5, random_state=0)
        learner, X, y = _digits_learner(RandomQuery(random_state=0), forest)
        np.random.seed(0)  # noqa: NPY002 (modAL draws from the global state)
        _FailingOnce.fail = fail
        try:
            teach_open_set(learner, X[60:80], y[60:80], bootstrap=True)
        except RuntimeError:
            teach_open_set(learner, X[60:80], y[60:80], bootstrap=True)
        return learner.predict_proba(X[200:260])

    np.testing.assert_array_equal(taught(fail=True), taught(fail=False))


def test_a_kept_ood_set_of_another_shape_is_refused_naming_x_ood():
    # numpy's concatenate failed, naming no attribute.
    learner, X, y = _digits_learner(RandomQuery(random_state=0))
    learner.X_ood_ = learner.X_ood_[:, :10]
    with pytest.raises(ValueError, match=r"learner.X_ood_ is an array of shape"):
        teach_open_set(learner, X[60:70], y[60:70])
    with pytest.raises(ValueError, match=r"np.empty\(\(0, 64\)\) for none"):
        SimilarQuery(random_state=0)(learner, X[60:200], n_instances=5)


class _RecordingFit(LogisticRegression):
    """Keeps the rows of its last fit."""

    def fit(self, X, y):
        self.fitted_rows = np.asarray(X).copy()
        return super().fit(X, y)


def test_teach_open_set_passes_modals_keywords_on_to_its_teach():
    # bootstrap=True reaches modAL's teach: the classifier is fitted on a
    # resample of X_training (rows repeated), not on X_training itself.
    learner, X, y = _digits_learner(
        RandomQuery(random_state=0), _RecordingFit(max_iter=500)
    )
    np.random.seed(0)  # noqa: NPY002 (modAL draws from the global state)
    teach_open_set(learner, X[60:80], y[60:80], bootstrap=True)
    fitted = learner.estimator.fitted_rows
    assert fitted.shape == learner.X_training.shape
    assert len(np.unique(fitted, axis=0)) < len(fitted)


def test_teach_open_set_passes_only_new_false_on_to_modal():
    # Only only_new=True is refused: given as False, modAL's default (a loop
    # that passes its teach keywords through), the rows are taught.
    learner, X, y = _digits_learner(RandomQuery(random_state=0))
    n_trained = len(learner.X_training)
    teach_open_set(learner, X[60:80], y[60:80], only_new=False)
    assert len(learner.X_training) == n_trained + np.sum(y[60:80] != -1)
