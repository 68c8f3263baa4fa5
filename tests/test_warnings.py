"""Every warning of the package names the caller's line that led to it, however
deep in the package it is raised (a learner's query calling its strategy, teach
updating it, a campaign calling the learner)."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skal_openset import (
    ActiveLearner,
    MQNetQuery,
    RandomQuery,
    load_digits_dataset,
    make_open_set_split,
    run_active_learning,
)


@pytest.fixture
def mqnet_learner(split):
    X0, y0 = split.X_pool[split.initial_idx], split.y_pool[split.initial_idx]
    estimator = LogisticRegression(max_iter=500)
    return ActiveLearner(estimator, MQNetQuery(random_state=0)).fit(X0, y0)


def _pool(split):
    return np.delete(split.X_pool, split.initial_idx, axis=0)


def _query_beyond_the_pool(split, learner):
    learner.query(_pool(split)[:3], n_instances=5)


def _query_twice(split, learner):
    learner.query(_pool(split), n_instances=10)
    learner.query(_pool(split), n_instances=10)


def _teach_only_ood(split, learner):
    X_ood = split.X_pool[split.is_ood][:10]
    learner.query(X_ood, n_instances=10)
    learner.teach(X_ood, np.full(10, split.ood_label))


@pytest.mark.parametrize(
    "action, message",
    [
        (_query_beyond_the_pool, "larger than the pool"),
        (_query_twice, "queried again without an update"),
        (_teach_only_ood, "offers no pair to rank"),
    ],
)
def test_a_learner_warning_names_the_line_that_called_the_learner(
    split, mqnet_learner, action, message
):
    with pytest.warns(UserWarning, match=message) as record:
        action(split, mqnet_learner)
    [warning] = [w for w in record if message in str(w.message)]
    assert warning.filename == __file__


def test_the_campaign_warning_names_the_line_that_started_the_campaign():
    X, y = load_digits_dataset()
    small = make_open_set_split(
        X[:120],
        y[:120],
        n_in_classes=4,
        noise_ratio=0.4,
        initial_size=20,
        test_size=0.5,
        random_state=0,
    )
    n_rounds = 3 + (small.y_pool.size - 20) // 20
    with pytest.warns(RuntimeWarning, match="pool ran out") as record:
        run_active_learning(
            small,
            LogisticRegression(max_iter=500),
            RandomQuery(random_state=0),
            n_rounds=n_rounds,
            budget=20,
        )
    [warning] = [w for w in record if "pool ran out" in str(w.message)]
    assert warning.filename == __file__
