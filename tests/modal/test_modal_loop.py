"""MQNetQuery inside the real modAL ActiveLearner.

modAL 0.4.2.1 only works with scikit-learn < 1.8, so CI runs this file in a
separate environment (see .ci/run); elsewhere it is skipped.
"""

import numpy as np
import pytest

modAL_models = pytest.importorskip("modAL.models")

from sklearn.ensemble import RandomForestClassifier  # noqa: E402

from skal_openset import (  # noqa: E402
    CCALQuery,
    EOALQuery,
    LfOSAQuery,
    MQNetQuery,
    OpenSetOracle,
    SimilarQuery,
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
