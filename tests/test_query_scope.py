"""One query reads the classifier's outputs on the pool once, and never after it."""

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs

from skal_openset import (
    ActiveLearner,
    BadgeQuery,
    MQNetQuery,
    PurityInformativenessQuery,
    make_mlp_classifier,
)
from skal_openset._strategies._base import top_scores


def _learner(strategy, seed=0):
    X, y = make_blobs(400, 6, centers=4, random_state=seed)
    X = X.astype(np.float32)
    y[y == 3] = -1  # one OOD cluster
    net = make_mlp_classifier(6, 3, hidden_sizes=(16, 8), max_epochs=3, random_state=0)
    return ActiveLearner(net, strategy).fit(X[:60], y[:60]), X[60:], y[60:]


def _rows_through_net(learner, X_pool, n_instances):
    rows = []
    # The first layer sees every row, through forward and embed alike.
    first = next(m for m in learner.estimator_.module_.modules() if m._parameters)
    handle = first.register_forward_pre_hook(lambda m, args: rows.append(len(args[0])))
    try:
        learner.query(X_pool, n_instances=n_instances)
    finally:
        handle.remove()
    return sum(rows)


def test_a_query_passes_the_pool_through_the_net_once():
    # MQ-Net reads the embedding (purity, diverse batch) and the probabilities
    # (informativeness); BADGE both too. Besides the pool, only the labelled
    # rows, the diverse candidates and MQ-Net's probe rows go through the net.
    for strategy in (MQNetQuery(random_state=0), BadgeQuery(random_state=0)):
        learner, X_pool, _ = _learner(strategy)
        n_rows = _rows_through_net(learner, X_pool, n_instances=5)
        assert len(X_pool) <= n_rows < len(X_pool) + 100


def test_no_output_outlives_its_query():
    # modAL retrains its classifier in place: same object, same pool array. A
    # query after that must see the new classifier, as a copy of it does.
    strategy = PurityInformativenessQuery(purity="msp", random_state=0)
    learner, X_pool, y_pool = _learner(strategy)
    _, before = learner.query_strategy_(learner, X_pool, n_instances=5)
    is_in = y_pool >= 0
    learner.estimator_.partial_fit(X_pool[is_in], y_pool[is_in])
    indices, after = learner.query_strategy_(learner, X_pool, n_instances=5)
    fresh = copy.deepcopy(learner)
    expected = fresh.query_strategy_(fresh, X_pool.copy(), n_instances=5)
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_allclose(after, expected[1], rtol=1e-12)
    assert not np.allclose(np.sort(before), np.sort(after))


@settings(deadline=None, max_examples=200)
@given(
    st.lists(
        st.sampled_from([0.0, 1.0, 2.0, np.inf, -np.inf, np.nan]),
        min_size=1,
        max_size=30,
    ),
    st.integers(1, 30),
    st.integers(0, 2**31 - 1),
)
def test_top_scores_is_the_head_of_the_full_sort(scores, n_instances, seed):
    # Sorting only the rows that can make the cut changes nothing.
    scores = np.array(scores)
    n_instances = min(n_instances, len(scores))
    tie_break = np.random.RandomState(seed).permutation(len(scores))
    expected = np.lexsort((tie_break, -scores))[:n_instances]
    order, values = top_scores(scores, n_instances, np.random.RandomState(seed))
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(values, scores[expected])
