"""A learner's warnings name the caller's line that led to them, however deep
in the package they are raised (query calling the strategy, teach updating it);
the campaign's is checked in test_experiment.py."""

import copy
import inspect
import pickle
import threading
import time
import warnings
from functools import partial

import joblib
import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal_openset import (
    ActiveLearner,
    CoreSetQuery,
    EOALQuery,
    MetaInputTransformer,
    MetaQueryNetSelector,
    MQNetQuery,
    PurityAUROC,
    PurityInformativenessQuery,
    _purity,
    _warn,
    make_open_set_split,
    run_active_learning,
)
from skal_openset._hashing import content_hash
from skal_openset._strategies import _eoal
from skal_openset._warn import ignored, warn


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
        (_teach_only_ood, "no pair to rank"),
    ],
)
def test_a_learner_warning_names_the_line_that_called_the_learner(
    split, mqnet_learner, action, message
):
    with pytest.warns(UserWarning, match=message) as record:
        action(split, mqnet_learner)
    [warning] = [w for w in record if message in str(w.message)]
    assert warning.filename == __file__


def test_queries_without_an_update_are_warned_of_once_until_one(split, mqnet_learner):
    # Python's once-per-line registry did not dedupe it (the package's
    # catch_warnings blocks reset it): a loop of queries, or %timeit of one
    # in a notebook, printed it at every call.
    pool, y_pool = _pool(split), np.delete(split.y_pool, split.initial_idx)

    def warned(n_queries):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("default")
            for _ in range(n_queries):
                ranked, _ = mqnet_learner.query(pool, n_instances=10)
        return sum("without an update" in str(w.message) for w in record), ranked

    assert warned(4)[0] == 1
    n_warned, ranked = warned(1)
    assert n_warned == 0
    mqnet_learner.teach(pool[ranked], y_pool[ranked])
    assert warned(3)[0] == 1  # news again after an update


@pytest.mark.parametrize("strategy", [MQNetQuery, PurityInformativenessQuery])
def test_a_constant_purity_is_warned_of_once_a_campaign(strategy):
    # Every round of run_active_learning repeated it, the same text at the
    # same line (the registry that would dedupe it is reset at each round).
    rng = np.random.RandomState(0)
    split = make_open_set_split(
        rng.rand(300, 1), rng.randint(0, 6, 300), n_in_classes=3,
        noise_ratio=0.4, initial_size=20, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        run_active_learning(
            split, LogisticRegression(), strategy(), n_rounds=4, budget=10
        )
    messages = [str(w.message) for w in record]
    assert sum("is the same for every pool row" in m for m in messages) == 1


def _warnings_of_campaigns(split, *campaigns):
    """The messages of `campaigns` (strategy, callback) of run_active_learning,
    each of 4 rounds, under Python's own once-per-line filter."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        for strategy, callback in campaigns:
            run_active_learning(
                split, LogisticRegression(max_iter=500), strategy,
                n_rounds=4, budget=10, callback=callback,
            )  # fmt: skip
    return [str(w.message) for w in record]


@pytest.mark.parametrize("purity", ["mahalanobis", "auto"])
def test_a_wide_covariance_is_warned_of_once_a_campaign_per_strategy(
    split, monkeypatch, purity
):
    # Every query and every update of MQ-Net warned again, and the callback
    # at every round: a 200-round campaign printed it 600 times.
    monkeypatch.setattr(_purity, "_SLOW_COVARIANCE_FEATURES", 1)
    scores = {"mahalanobis": "mahalanobis"}
    messages = _warnings_of_campaigns(
        split,
        (MQNetQuery(purity, random_state=0), PurityAUROC(split, scores)),
        (MQNetQuery(purity, random_state=0), None),  # another strategy warns
    )
    # The first campaign's strategy and callback, and the second's strategy.
    assert sum("inverts a covariance" in m for m in messages) == 3


def test_a_wide_embedding_is_warned_of_once_a_campaign_by_eoal(split, monkeypatch):
    # Every query warned again: 200 times in a 200-round campaign.
    monkeypatch.setattr(_eoal, "_SLOW_FEATURES", 1)
    messages = _warnings_of_campaigns(
        split, (EOALQuery(random_state=0), None), (EOALQuery(random_state=0), None)
    )
    assert sum("EOALQuery fits a logistic" in m for m in messages) == 2


def test_a_campaign_resumed_from_its_checkpoint_is_warned_again(
    split, monkeypatch, tmp_path
):
    # The note that the strategy had warned was saved with the checkpoint: a
    # campaign resumed in a new process was never told, as Python's
    # once-a-process registry would tell it.
    monkeypatch.setattr(_eoal, "_SLOW_FEATURES", 1)
    checkpoint = tmp_path / "c.joblib"
    counts = []
    for n_rounds in (3, 5):  # then resumed from the state after round 3
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("default")
            run_active_learning(
                split, LogisticRegression(max_iter=500), EOALQuery(random_state=0),
                n_rounds=n_rounds, budget=10, checkpoint=checkpoint,
            )  # fmt: skip
        counts.append(
            sum("EOALQuery fits a logistic" in str(w.message) for w in record)
        )
    assert counts == [1, 1]


def _strategy_that_warned():
    """An EOALQuery holding the note of a wide embedding it warned of."""
    strategy = EOALQuery(random_state=0)
    with pytest.warns(UserWarning, match="^wide$"):
        _warn.warn_once(strategy, "_warned_of_wide_embedding", 64, "wide")
    return strategy


def test_a_note_pickles_as_none_naming_no_object_of_the_package():
    # A checkpoint that named a function of _warn to rebuild its notes could
    # not be loaded by earlier versions, nor after that function moved.
    strategy = _strategy_that_warned()
    saved = pickle.dumps(strategy._warned_of_wide_embedding)
    assert b"skal_openset" not in saved
    assert pickle.loads(saved) is None


def test_a_strategy_saved_with_a_note_by_earlier_versions_loads_and_warns(split):
    # Earlier versions saved the key warned of itself: such a checkpoint
    # still loads, and its strategy warns again in this process too.
    strategy = EOALQuery(random_state=0)
    strategy._warned_of_wide_embedding = 64  # as they kept it
    loaded = pickle.loads(pickle.dumps(strategy))
    assert loaded._warned_of_wide_embedding == 64
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        _warn.warn_once(loaded, "_warned_of_wide_embedding", 64, "wide")
        _warn.warn_once(copy.deepcopy(loaded), "_warned_of_wide_embedding", 64, "wide")
    assert [str(w.message) for w in record] == ["wide"]  # the copy keeps the note


@pytest.mark.parametrize(
    "make",
    [
        lambda: MetaQueryNetSelector(),
        lambda: make_pipeline(MetaInputTransformer(), MetaQueryNetSelector()),
    ],
    ids=["selector", "pipeline"],
)
def test_a_direct_fit_warning_names_the_line_that_called_fit(make):
    # scikit-learn's wrappers around fit (_fit_context, a Pipeline) are no
    # more the caller than the package is.
    estimator = make()
    with pytest.warns(UserWarning, match="no pair to rank") as record:
        line = inspect.currentframe().f_lineno + 1
        estimator.fit(np.ones((3, 2)), np.zeros(3))
    [warning] = record
    assert (warning.filename, warning.lineno) == (__file__, line)


def _zero(estimator, X, y):
    return 0.0


@pytest.mark.parametrize(
    "search",
    [
        lambda estimator: partial(cross_val_score, estimator, cv=2, scoring=_zero),
        lambda estimator: (
            GridSearchCV(estimator, {"lr": [0.01]}, cv=2, scoring=_zero).fit
        ),
    ],
    ids=["cross_val_score", "GridSearchCV"],
)
def test_a_fit_warning_inside_a_search_names_the_line_that_called_it(search):
    # scikit-learn calls each fold's fit through joblib's Parallel: its frames
    # lie between scikit-learn's and are no more the caller either.
    fit = search(MetaQueryNetSelector())
    with pytest.warns(UserWarning, match="no pair to rank") as record:
        line = inspect.currentframe().f_lineno + 1
        fit(np.ones((6, 2)), np.zeros(6))
    assert {(w.filename, w.lineno) for w in record} == {(__file__, line)}


def test_a_warning_given_once_that_an_ignored_block_swallowed_is_given_later():
    # Kept as given though the block's filter swallowed it, a strategy's
    # warning of a slow setting was never seen.
    owner = type("Owner", (), {})()
    with ignored(UserWarning):
        _warn.warn_once(owner, "_warned", "key", "it is slow")
    with pytest.warns(UserWarning, match="it is slow"):
        _warn.warn_once(owner, "_warned", "key", "it is slow")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn.warn_once(owner, "_warned", "key", "it is slow")  # given once


def test_overlapping_ignored_blocks_in_threads_leave_no_filter_behind():
    # catch_warnings is not thread-safe: MQ-Net's k-means and the selector's
    # cross-validation, queried from two threads at once, left an 'ignore'
    # filter in place for good, hiding the user's own warnings.
    before = list(warnings.filters)
    entered, first_done = threading.Event(), threading.Event()

    def first():
        with ignored(UserWarning):
            entered.set()
            time.sleep(0.2)  # the second block would start inside this one
        first_done.set()

    def second():
        entered.wait(5)
        with ignored(RuntimeWarning):
            first_done.wait(5)  # and end after it

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert warnings.filters == before


def test_a_block_ignores_its_category_after_another_thread_reset_the_filters():
    # Another thread's catch_warnings, begun before a running block and ended
    # inside it, puts back the filters without the blocks' one: the blocks
    # begun after it ignored nothing.
    with ignored(UserWarning):
        warnings.filters[:] = [f for f in warnings.filters if f[2] is not _warn._Listed]
        with ignored(RuntimeWarning), warnings.catch_warnings(record=True) as record:
            warnings.warn("hidden", RuntimeWarning, stacklevel=1)
    assert record == []


def test_a_block_still_ignores_its_category_after_an_overlapping_one_ends():
    # The blocks share one filter: taken out as the first of two blocks
    # ended, the other's category was shown for the rest of that block.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")  # shown under pytest -W error too
        with ignored(RuntimeWarning):
            with ignored(UserWarning):
                pass
            warnings.warn("hidden", RuntimeWarning, stacklevel=1)
        warnings.warn("shown", RuntimeWarning, stacklevel=1)
    assert [str(w.message) for w in record] == ["shown"]


def _sparse_rows(estimator, X):
    return sparse.csr_matrix(np.asarray(X, dtype=float))


def _settings_changed(X, y):
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), CoreSetQuery(random_state=0)
    ).fit(X, y)
    return learner.set_params(query_strategy=CoreSetQuery(random_state=1))


def _dense_embedding(X, y):
    return ActiveLearner(
        LogisticRegression(max_iter=500),
        CoreSetQuery(random_state=0),
        embedding=_sparse_rows,
    ).fit(X, y)


def _unseen_preprocessing(X, y):
    return ActiveLearner(
        OneVsRestClassifier(
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
        ),
        CoreSetQuery(random_state=0),
    ).fit(X, y)


@pytest.mark.parametrize(
    "make, message",
    [
        (_settings_changed, "parameters changed since fit"),
        (_dense_embedding, "a sparse"),
        (_unseen_preprocessing, "wraps a pipeline"),
    ],
)
def test_a_once_only_warning_that_another_threads_block_ignored_comes_later(
    split, monkeypatch, make, message
):
    # The ignore filter of one thread's block (MQ-Net's cross-validation
    # ignored UserWarning) is the process's: it swallowed the warning in
    # another thread, which was recorded as given and never came again.
    monkeypatch.setattr("skal_openset._model_scores.DENSE_EMBEDDING_WARN_BYTES", 1)
    learner = make(split.X_pool[split.initial_idx], split.y_pool[split.initial_idx])
    pool = _pool(split)[:100]
    ignoring, done = threading.Event(), threading.Event()

    def ignore_until_done():
        with ignored(UserWarning):
            ignoring.set()
            done.wait(30)

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        thread = threading.Thread(target=ignore_until_done)
        thread.start()
        try:
            assert ignoring.wait(30)
            learner.query(pool, n_instances=3)
        finally:
            done.set()
            thread.join()
        learner.query(pool, n_instances=3)
        learner.query(pool, n_instances=3)
    assert len([w for w in record if message in str(w.message)]) == 1


def test_a_warning_does_not_wait_for_another_threads_ignored_block():
    # A block may wait for a lock that a warning thread holds: MQ-Net's
    # cross-validation fits selectors in its block, under one_torch_thread's
    # lock, under which another thread's selector fit may warn (of saturated
    # units). A warn that waited for the block to end would deadlock.
    lock, locked, ignoring = threading.Lock(), threading.Event(), threading.Event()
    given = []

    def warn_holding_the_lock():
        with lock:
            locked.set()
            ignoring.wait(30)
            given.append(warn("held back"))

    def ignore_then_take_the_lock():
        locked.wait(30)
        with ignored(UserWarning):
            ignoring.set()
            with lock:
                pass

    threads = [
        threading.Thread(target=target, daemon=True)
        for target in (warn_holding_the_lock, ignore_then_take_the_lock)
    ]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert given == [False]
    assert not record


def test_a_strategy_holding_a_note_hashes_by_content():
    # A note pickled as NoneType(), which joblib's hash (joblib.Memory's
    # key, content_hash) cannot pickle: hashing a strategy that had warned
    # raised PicklingError.
    strategy = _strategy_that_warned()
    assert joblib.hash(strategy) == joblib.hash(copy.deepcopy(strategy))
    assert content_hash(strategy) == content_hash(copy.deepcopy(strategy))


def test_a_warning_of_no_owner_after_a_noted_on_block_is_given_at_every_call():
    # A block that left its owner set made every later call that names no
    # owner (a score function called directly) note its warning on that
    # strategy: given once, then never again in the process.
    strategy = EOALQuery(random_state=0)
    with _warn.noted_on(strategy):
        pass
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(2):
            _warn.warn_once(None, "_warned_of_it", 1, "it is slow")
    assert [str(w.message) for w in record] == ["it is slow"] * 2
    assert not hasattr(strategy, "_warned_of_it")


def test_a_wide_covariance_warning_names_the_width_it_warns_from(monkeypatch):
    # It said "from about 5,000 features" while warning from 4,000: a reader
    # warned at 4,000 read that the slow widths were still ahead. Moved to a
    # thousand, not below, where the width without its comma reads the same.
    monkeypatch.setattr(_purity, "_SLOW_COVARIANCE_FEATURES", 1_000)
    rng = np.random.RandomState(0)
    X_query, X_train = rng.rand(5, 1_000), rng.rand(20, 1_000)
    with pytest.warns(UserWarning, match="inverts a covariance") as record:
        _purity.mahalanobis_purity(X_query, X_train, np.arange(20) % 2)
    assert "a query from about 1,000 features." in str(record[0].message)


def test_a_wide_embedding_warning_of_eoal_names_the_width_it_warns_from(monkeypatch):
    # It wrote "10,000" beside _SLOW_FEATURES: a threshold moved, it would
    # name the old width, as mahalanobis_purity's named 5,000 while at 4,000.
    # Moved to a thousand, to be read with its comma, as the one above.
    monkeypatch.setattr(_eoal, "_SLOW_FEATURES", 1_000)
    rng = np.random.RandomState(0)
    X, y = rng.rand(30, 1_000), np.repeat([0, 1, -1], 10)
    learner = ActiveLearner(LogisticRegression()).fit(X, y)
    with pytest.warns(UserWarning, match="EOALQuery fits") as record:
        EOALQuery(random_state=0)(learner, X, n_instances=2)
    assert "a query from about 1,000 features," in str(record[0].message)


def test_a_wide_covariance_is_warned_of_again_at_another_width(monkeypatch):
    # Once per strategy and width: an embedding of another width (the
    # learner fitted again on other features) is news.
    monkeypatch.setattr(_purity, "_SLOW_COVARIANCE_FEATURES", 1)
    rng = np.random.RandomState(0)
    strategy = MQNetQuery(random_state=0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for width in (3, 3, 4):
            with _warn.noted_on(strategy):
                _purity.mahalanobis_purity(
                    rng.rand(5, width), rng.rand(20, width), np.arange(20) % 2
                )
        messages = [str(w.message) for w in record]
    covariance = [m for m in messages if "inverts a covariance" in m]
    assert [("3 features" in m, "4 features" in m) for m in covariance] == [
        (True, False),
        (False, True),
    ]
