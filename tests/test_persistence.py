import collections
import copy
import errno
import hashlib
import io
import os
import pickle
import re
import signal
import stat
import subprocess
import sys
import types
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from skorch.callbacks import LRScheduler
from skorch.exceptions import DeviceWarning

import skal_openset
from _ctrl_c import escaped_ctrl_c_fails
from _hash_seeds import env_with_other_string_hashes
from skal_openset import (
    ActiveLearner,
    MetaQueryNetSelector,
    MQNetQuery,
    OpenSetOracle,
    RandomQuery,
    _atomic,
    _persistence,
    load_object,
    make_fast_resnet_classifier,
    make_mlp_classifier,
    make_resnet18_classifier,
    run_active_learning,
    save_object,
    write_records_csv,
)
from skal_openset._atomic import InterruptedAfterReplacing, atomic_open, atomic_paths
from skal_openset._cli import OUTPUT_FILES
from skal_openset._oracle import labelling_cost
from skal_openset._signals import sigterm_as_ctrl_c
from skal_openset._warn import ignored


def _kill_when_it_prints(script, paths, line):
    """Run `script` on `paths` in a process of its own and SIGKILL it once
    it prints `line` (where it stops, mid-write)."""
    env = dict(os.environ, PYTHONPATH=str(Path(skal_openset.__file__).parents[1]))
    with subprocess.Popen(
        [sys.executable, "-c", script, *map(str, paths)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as writing:
        assert writing.stdout.readline() == f"{line}\n"
        writing.send_signal(signal.SIGKILL)
        writing.wait()


KILLED_SAVE = """
import os, sys, time
from skal_openset import save_object
def stuck(fd):  # killed here: the temporary file written, not yet renamed
    print("writing", flush=True)
    time.sleep(60)
os.fsync = stuck
save_object([1, 2, 3], sys.argv[1])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX's")
def test_a_save_names_the_temporary_file_a_killed_save_left(tmp_path):
    # SIGKILL (the out-of-memory killer) during a save left a hidden
    # .<name>.<random>.tmp, as large as the file, which nothing named.
    path = tmp_path / "learner.joblib"
    save_object([0], path)
    _kill_when_it_prints(KILLED_SAVE, [path], "writing")
    (left,) = [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    with pytest.warns(UserWarning) as caught:
        save_object([1], path)
    (message,) = [str(w.message) for w in caught]
    assert message == (
        f"{left}: left by a write of {path} that was killed before it finished "
        "(SIGKILL, out of memory); the file holds the last write that "
        "finished. Delete the leftover(s), unless another process is writing "
        "learner.joblib now."
    )
    assert left.exists()  # it may be another process's, writing now
    assert load_object(path) == [1]
    left.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_object([2], path)


def test_a_save_does_not_name_the_live_temporary_file_of_a_name_alike(tmp_path):
    # Temporary files kept the first 48 characters of a name, as those of an
    # earlier version's workers still do: a benchmark's parallel workers,
    # writing cells whose names start alike, each named the other's live
    # write as left by a killed one.
    start = "dataset=penbased_noise=0.6_strategy=MQ-Net_trial"
    mine, other = (tmp_path / f"{start}={trial}_rounds=8.json" for trial in (0, 1))
    live = tmp_path / f".{start}.abcd_123.tmp"  # the other worker's, unfinished
    live.write_text("{")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_object([1], mine)
        save_object([1], tmp_path / start)  # a name as long as those kept
    assert live.exists()


def test_a_save_does_not_name_the_files_of_a_longer_name_that_starts_with_its_own(
    tmp_path,
):
    # The temporary file and backup of learner.joblib.bak start as those of
    # learner.joblib do (".learner.joblib."): another process's, writing
    # learner.joblib.bak now, not left by a write of learner.joblib.
    path = tmp_path / "learner.joblib"
    others = [
        tmp_path / ".learner.joblib.bak.abcd_123.tmp",
        tmp_path / ".learner.joblib.bak.0123abcd.old",
    ]
    for other in others:
        other.write_text("{")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_object([1], path)
    assert all(other.exists() for other in others)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX's")
def test_a_write_names_what_a_killed_write_of_a_long_name_left(tmp_path):
    # Names of 48 characters or more (a benchmark's cells) were never looked
    # at: their temporary files and backups kept only the first 48, as did
    # those of every name that starts alike.
    start = "dataset=penbased_noise=0.6_strategy=MQ-Net_trial"
    mine, other = (tmp_path / f"{start}={trial}_rounds=8.json" for trial in (0, 1))
    save_object([0], mine)
    _kill_when_it_prints(KILLED_SAVE, [mine], "writing")
    (left,) = [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_object([1], other)  # not the other cell's: it is not named there
    with pytest.warns(UserWarning) as caught:
        save_object([1], mine)
    (message,) = [str(w.message) for w in caught]
    assert message.startswith(f"{left}: left by a write of {mine} that was killed")
    left.unlink()
    paths = [mine, other, tmp_path / "summary.md"]
    for path in paths:
        path.write_text(path.name)
    _kill_when_it_prints(KILLED_GROUP, paths, "replacing")
    backups = {p.read_text(): p for p in tmp_path.iterdir() if p.suffix == ".old"}
    with pytest.warns(UserWarning) as caught:
        _write_group(paths)
    (message,) = [str(w.message) for w in caught if "holds what" in str(w.message)]
    assert message.startswith(
        "; ".join(f"{backups[path.name]} holds what {path} held" for path in paths[:2])
    )


def test_a_folder_or_link_named_as_a_leftover_is_not_named(tmp_path):
    # Only a file is a killed write's leftover: a folder or link of such a
    # name is another program's.
    path = tmp_path / "learner.joblib"
    (tmp_path / ".learner.joblib.abcd_123.tmp").mkdir()
    (tmp_path / ".learner.joblib.0123abcd.old").symlink_to(tmp_path / "elsewhere")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_object([1], path)
    assert load_object(path) == [1]


KILLED_GROUP = """
import os, sys, time
from skal_openset._atomic import atomic_paths
replace = os.replace
def stuck(src, dst):  # killed here: the first file replaced, not the second
    replace(src, dst)
    print("replacing", flush=True)
    time.sleep(60)
os.replace = stuck
paths = sys.argv[1:]
with atomic_paths(paths) as temps:
    for tmp in temps:
        tmp.write_text("new")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX's")
def test_a_write_names_the_backup_a_killed_group_write_left(tmp_path):
    # SIGKILL during the renames of a set of files (the command line's
    # records and summary) left a hidden .records.csv.<hex>.old, the only
    # copy of the old records beside a new records.csv and an old summary,
    # which nothing named.
    paths = [tmp_path / "records.csv", tmp_path / "summary.md"]
    for path in paths:
        path.write_text("old")
    _kill_when_it_prints(KILLED_GROUP, paths, "replacing")
    (backup,) = [p for p in tmp_path.iterdir() if p.suffix == ".old"]
    (temporary,) = [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
    assert backup.read_text() == "old"
    assert [path.read_text() for path in paths] == ["new", "old"]
    with pytest.warns(UserWarning) as caught:
        _write_group(paths)
    # The summary's new content, never renamed, is named apart.
    (message,) = [str(w.message) for w in caught if str(backup) in str(w.message)]
    assert len(caught) == 2 and str(temporary) in str(caught[0].message)
    assert message == (
        f"{backup} holds what {paths[0]} held before a write of a set of files "
        "(a run's records and summary) that was killed (SIGKILL, out of memory) "
        "or failed while it replaced them, so a file of the set may be newer "
        "than the others. To have the old set back, rename each backup onto its "
        "file; if the files belong together (a rerun wrote them all again), "
        "delete the backups."
    )
    assert backup.read_text() == "old"  # maybe the only copy: kept
    temporary.unlink()
    # Backups of another killed write: named at once, the one named above not
    # again (it was named at every later write of the set while it stayed).
    others = [
        tmp_path / ".records.csv.4567cdef.old",
        tmp_path / ".summary.md.0123abcd.old",
    ]
    for other in others:
        other.write_text("old")
    with pytest.warns(UserWarning) as caught:
        _write_group(paths)
    (message,) = [str(w.message) for w in caught]  # the set's backups at once
    assert message.startswith(
        f"{others[0]} holds what {paths[0]} held; {others[1]} holds what "
        f"{paths[1]} held "
    )
    assert str(backup) not in message
    for file in (backup, *others):
        file.unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _write_group(paths)


def test_a_leftover_is_named_once_not_at_every_later_write(split, tmp_path):
    # A killed write's leftover was named at every later write of its file
    # while it stayed: at every round of a campaign for a checkpoint's, as
    # every catch_warnings block resets Python's once-per-line registry.
    checkpoint = tmp_path / "run.joblib"
    left = tmp_path / ".run.joblib.abcd_123.tmp"
    paths = [tmp_path / "records.csv", tmp_path / "summary.md"]
    backup = tmp_path / ".records.csv.0123abcd.old"
    for file in (left, *paths, backup):
        file.write_text("old")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("default")
        run_active_learning(
            split, LogisticRegression(max_iter=300), RandomQuery(random_state=0),
            n_rounds=4, budget=10, checkpoint=checkpoint,
        )  # fmt: skip
        for _ in range(3):
            _write_group(paths)
            with warnings.catch_warnings():  # as scikit-learn's check_array
                pass
    messages = [str(w.message) for w in record]
    assert sum(str(left) in m for m in messages) == 1
    assert sum(str(backup) in m for m in messages) == 1
    assert left.exists() and backup.exists()  # named, never deleted


def test_a_leftover_named_in_an_ignored_block_is_named_at_the_next_write(tmp_path):
    # Only a warning given notes its leftovers as named: one that an ignored
    # block swallowed must not keep them from the next write's warning.
    path = tmp_path / "run.joblib"
    left = tmp_path / ".run.joblib.abcd_123.tmp"
    backup = tmp_path / ".run.joblib.0123abcd.old"
    for file in (left, backup):
        file.write_text("old")
    with ignored(UserWarning):
        _write_group([path])
    with pytest.warns(UserWarning) as caught:
        _write_group([path])
    messages = " ".join(str(w.message) for w in caught)
    assert str(left) in messages and str(backup) in messages


@pytest.fixture(scope="module")
def taught_learner(split):
    """A learner after one query round, so its MQ-Net selector is fitted."""
    learner = ActiveLearner(
        make_mlp_classifier(64, 4, hidden_sizes=(32,), max_epochs=5, random_state=0),
        MQNetQuery(rule_weight=0, random_state=0),
        ood_label=split.ood_label,
    ).fit(split.X_pool[split.initial_idx], split.y_pool[split.initial_idx])
    indices, X_query = learner.query(split.X_pool, n_instances=20)
    return learner.teach(X_query, split.y_pool[indices])


def test_a_folder_that_refuses_the_file_is_named_with_the_file_asked_for(
    tmp_path, monkeypatch
):
    # The error named the hidden copy, '.a.joblib.<random>.tmp', never made.
    def read_only(dir, prefix, suffix):
        path = os.path.join(dir, f"{prefix}abcdefgh{suffix}")
        raise OSError(errno.EROFS, "Read-only file system", path)

    monkeypatch.setattr(_atomic.tempfile, "mkstemp", read_only)
    with pytest.raises(OSError) as info:
        save_object([1, 2], tmp_path / "a.joblib")
    assert info.value.errno == errno.EROFS
    assert info.value.filename == str(tmp_path / "a.joblib")
    assert not list(tmp_path.iterdir())


def test_selector_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(0)
    Z, y = rng.random((60, 2)), rng.random(60)
    selector = MetaQueryNetSelector(max_epochs=20, random_state=0).fit(Z, y)
    loaded = load_object(save_object(selector, tmp_path / "selector.joblib"))
    np.testing.assert_array_equal(loaded.predict(Z), selector.predict(Z))
    assert loaded.get_params() == selector.get_params()
    assert loaded.loss_curve_ == selector.loss_curve_


def test_a_selector_saved_on_a_gpu_loads_and_predicts_on_the_cpu(
    tmp_path, saved_on_cuda
):
    # Its network was pickled on the GPU, and a machine without one refused
    # the file (torch's "Attempting to deserialize object on a CUDA device").
    rng = np.random.default_rng(0)
    Z, y = rng.random((60, 2)), rng.random(60)
    selector = MetaQueryNetSelector(max_epochs=20, random_state=0).fit(Z, y)
    expected, module = selector.predict(Z), selector.module_
    saved_on_cuda(module)
    selector.set_params(device="cuda:0")  # as fitted on a GPU
    path = save_object(selector, tmp_path / "selector.joblib")
    assert selector.module_ is module  # pickled from a CPU copy
    with pytest.warns(
        DeviceWarning,
        match="MetaQueryNetSelector was saved or copied with its network on 'cuda:0', "
        "which this machine lacks: it is loaded on the CPU, and "
        "device='cuda:0' is set to 'cpu', where .* To run it on 'cuda:0', load "
        "the file on a machine that has it",
    ):
        loaded = load_object(path)
    assert loaded.device == "cpu"
    np.testing.assert_array_equal(loaded.predict(Z), expected)
    assert loaded.loss_curve_ == selector.loss_curve_
    loaded.set_params(warm_start=True, max_epochs=1).fit(Z, y)  # trains here too


def test_an_unfitted_selector_set_for_a_gpu_is_set_to_the_cpu_where_loaded(
    taught_learner, split, tmp_path
):
    # The README's MQNetQuery(selector=MetaQueryNetSelector(device="cuda")),
    # saved in a learner: loaded without CUDA, only a fitted selector was
    # set to the CPU, and the next query refused the template's device.
    learner = copy.deepcopy(taught_learner)
    selector = MetaQueryNetSelector(init="rule", random_state=0, device="cuda")
    learner.query_strategy_.set_params(selector=selector)  # as on a GPU
    path = learner.save(tmp_path / "learner.joblib")
    with pytest.warns(
        DeviceWarning,
        match="This MetaQueryNetSelector was saved or copied with device='cuda', "
        "which this machine lacks: it is set to 'cpu'",
    ):
        loaded = ActiveLearner.load(path)
    assert loaded.query_strategy_.selector.device == "cpu"
    indices, X_query = loaded.query(split.X_pool, n_instances=15)
    expected, _ = copy.deepcopy(taught_learner).query(split.X_pool, n_instances=15)
    np.testing.assert_array_equal(indices, expected)
    loaded.teach(X_query, split.y_pool[indices])  # fits the selector here


def test_a_copy_of_a_selector_set_for_a_missing_gpu_says_it_was_copied():
    # A deep copy (no file) warned that the selector "was saved".
    selector = MetaQueryNetSelector(device="cuda")
    with pytest.warns(DeviceWarning, match="was saved or copied with device='cuda'"):
        copied = copy.deepcopy(selector)
    assert copied.device == "cpu" and selector.device == "cuda"


def test_a_copy_of_a_selector_set_for_the_meta_device_keeps_it():
    # No machine has it to lack: fit refuses it, not a copy's silent 'cpu'.
    selector = MetaQueryNetSelector(device="meta")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeviceWarning)
        assert copy.deepcopy(selector).device == "meta"


def test_a_copy_of_a_selector_set_for_no_torch_device_keeps_it_for_fit_to_refuse():
    # A misspelt device is no device this machine lacks: not silently 'cpu'.
    selector = MetaQueryNetSelector(device="cdua")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeviceWarning)
        copied = copy.deepcopy(selector)
    assert copied.device == "cdua"
    with pytest.raises(ValueError, match="'cdua' is not a torch device"):
        copied.fit(np.random.RandomState(0).rand(10, 2), np.arange(10))


def test_a_learner_fitted_with_a_gpu_strategy_loads_without_a_change_to_warn_of(
    split, tmp_path, monkeypatch
):
    # The load sets the strategy's device='cuda' to 'cpu': no change of the
    # user's since fit, so no "query_strategy's parameters changed" warning.
    strategy = MQNetQuery(
        selector=MetaQueryNetSelector(init="rule", device="cuda"), random_state=0
    )
    learner = ActiveLearner(LogisticRegression(), strategy, ood_label=split.ood_label)
    with monkeypatch.context() as gpu:  # fitted on a machine with a GPU
        gpu.setattr(torch.cuda, "device_count", lambda: 1)
        learner.fit(split.X_pool[split.initial_idx], split.y_pool[split.initial_idx])
        path = learner.save(tmp_path / "learner.joblib")
    with pytest.warns(DeviceWarning, match="it is set to 'cpu'"):
        loaded = ActiveLearner.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded.query(split.X_pool, n_instances=5)
    # A change made before saving is still one to warn of.
    with pytest.warns(DeviceWarning):
        changed = ActiveLearner.load(path)
    changed.query_strategy.set_params(rule_weight=1)
    resaved = ActiveLearner.load(changed.save(tmp_path / "changed.joblib"))
    with pytest.warns(UserWarning, match="query_strategy's parameters changed"):
        resaved.query(split.X_pool, n_instances=5)


def _pickled_tensors(obj):
    """The tensors and optimizers written in pickling `obj`, but for those a
    skorch net pickles apart (its network, optimizer and criterion)."""
    found = []

    class Pickler(pickle.Pickler):
        def persistent_id(self, value):
            if isinstance(value, (torch.Tensor, torch.optim.Optimizer)):
                found.append(type(value).__name__)
            return None  # pickled as usual

    Pickler(io.BytesIO()).dump(obj)
    return found


_RESNET = dict(in_channels=1, input_shape=(1, 8, 8), max_epochs=2, batch_size=8)
# min_steps_per_epoch=1 for both schedules: theirs step once an epoch, so the
# default's 100 steps an epoch (~98 repeated batches) would change nothing but
# the seconds.
_RESNETS = {
    "resnet18": lambda: make_resnet18_classifier(
        3, min_steps_per_epoch=1, module__width=2, random_state=0, **_RESNET
    ),
    "resnet18_lr_milestones": lambda: make_resnet18_classifier(
        3,
        lr_milestones=[1],
        min_steps_per_epoch=1,
        module__width=2,
        random_state=0,
        **_RESNET,
    ),
    "fast_resnet": lambda: make_fast_resnet_classifier(
        3, width=2, random_state=0, **_RESNET
    ),
}


def test_the_learning_rate_callbacks_pickle_without_object_getstate(monkeypatch):
    # object.__getstate__ exists from Python 3.11 only, and skorch's callbacks
    # define none: on 3.10 super().__getstate__() raised AttributeError.
    def missing(self):
        raise AttributeError("'super' object has no attribute '__getstate__'")

    monkeypatch.setattr(LRScheduler, "__getstate__", missing, raising=False)
    net = _RESNETS["resnet18"]()
    net.fit(np.random.default_rng(0).random((6, 64), dtype=np.float32), [0, 1, 2] * 2)
    callbacks = [cb for _, cb in net.callbacks_ if isinstance(cb, LRScheduler)]
    assert callbacks
    for callback in callbacks:
        copied = pickle.loads(pickle.dumps(callback))
        assert copied.lr_scheduler_ is None
        assert callback.lr_scheduler_ is not None  # the original keeps it


@pytest.mark.parametrize("make", _RESNETS.values(), ids=_RESNETS.keys())
def test_an_unfitted_resnet_pickles_and_trains_as_the_one_it_copies(make):
    # Its learning-rate callback holds no torch scheduler yet: nothing to drop.
    X = np.random.default_rng(0).random((16, 1, 8, 8), dtype=np.float32)
    y = np.arange(16) % 3
    copied = pickle.loads(pickle.dumps(make())).fit(X, y)
    expected = make().fit(X, y)
    assert copied.history[:, "train_loss"] == expected.history[:, "train_loss"]
    np.testing.assert_array_equal(copied.predict_proba(X), expected.predict_proba(X))


@pytest.mark.parametrize("make", _RESNETS.values(), ids=_RESNETS.keys())
def test_a_resnet_fitted_on_a_gpu_loads_on_the_cpu_and_trains_on_the_same(
    make, tmp_path, saved_on_cuda
):
    # Its learning-rate callback held the torch scheduler, and so the
    # optimizer, which was pickled with it: the file held the weights twice,
    # once where skorch does not move them to the CPU, so that a net fitted
    # on a GPU did not load on a machine without one.
    X = np.random.default_rng(0).random((32, 1, 8, 8), dtype=np.float32)
    y = np.arange(32) % 3
    net = make().fit(X[:16], y[:16])
    assert _pickled_tensors(net) == []
    saved_on_cuda()  # every tensor, as a GPU writes them
    net.set_params(device="cuda")
    path = save_object(net, tmp_path / "net.joblib")
    net.set_params(device="cpu")
    # skorch warns as it sets the device; recent ones (not 1.2, the floor)
    # also as they map the weights.
    with (
        pytest.warns(DeviceWarning, match=r"requested device \(cuda\) is not"),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings(
            "ignore",
            "Requested to load data to CUDA but no CUDA devices",
            DeviceWarning,
        )
        loaded = load_object(path)
    assert str(loaded.device) == "cpu"  # skorch sets torch.device("cpu")
    # Each training call builds its scheduler afresh: saved or not, the same.
    for each in (net, loaded):
        each.partial_fit(X[16:], y[16:])
    assert loaded.history[:, "event_lr"] == net.history[:, "event_lr"]
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))


def test_learner_and_its_strategy_round_trip_exactly(taught_learner, split, tmp_path):
    loaded = load_object(save_object(taught_learner, tmp_path / "learner.joblib"))
    np.testing.assert_array_equal(loaded.X_labelled_, taught_learner.X_labelled_)
    np.testing.assert_array_equal(
        loaded.predict_proba(split.X_test), taught_learner.predict_proba(split.X_test)
    )
    strategy = load_object(
        save_object(taught_learner.query_strategy_, tmp_path / "strategy.joblib")
    )
    assert hasattr(strategy, "selector_")
    Z = np.random.default_rng(1).random((30, 2))
    np.testing.assert_array_equal(
        strategy.selector_.predict(Z),
        taught_learner.query_strategy_.selector_.predict(Z),
    )
    # A loaded learner goes on exactly as the original would (a copy of the
    # original queries, so the shared fixture is left as it was).
    first, _ = copy.deepcopy(taught_learner).query(split.X_pool, n_instances=15)
    second, _ = loaded.query(split.X_pool, n_instances=15)
    np.testing.assert_array_equal(first, second)


def test_oracle_round_trips_with_its_accounts(tmp_path):
    oracle = OpenSetOracle([0, -1, 1, -1, 2, 0], cost_ood=2.0)
    oracle.label([1, 2])
    loaded = load_object(save_object(oracle, tmp_path / "oracle.joblib"))
    assert (loaded.spent_, loaded.n_queried_in_, loaded.n_queried_ood_) == (3.0, 1, 1)
    np.testing.assert_array_equal(loaded.queried_, oracle.queried_)
    with pytest.raises(ValueError, match="already labelled"):
        loaded.label([2])
    kept, cost = loaded.fill_budget([3, 0, 4], 3)
    expected_kept, expected_cost = oracle.fill_budget([3, 0, 4], 3)
    np.testing.assert_array_equal(kept, expected_kept)
    assert cost == expected_cost


def test_an_oracle_pickled_before_it_kept_its_spending_goes_on(tmp_path):
    # 0.1 kept an OOD mask and no exact total: the accounts continue from the
    # counts, and the OOD examples are those of its ood_label.
    oracle = OpenSetOracle([0, -1, 1, -1, 2, 0], cost_in=0.1, cost_ood=0.2)
    oracle.label([0, 1, 2])
    state = vars(oracle)
    del state["_spent"], state["_checked_ood_label"]
    state["_is_ood"] = oracle.y_true == -1
    loaded = pickle.loads(pickle.dumps(oracle))
    assert "_is_ood" not in vars(loaded) and loaded.spent_ == 0.4
    loaded.label([3, 4])
    assert loaded.spent_ == labelling_cost(3, 2, 0.1, 0.2) == 0.7


def test_an_oracle_pickled_before_it_kept_its_checked_ood_label_warns_no_more():
    # Its ood_label, checked at construction, was checked again at the first
    # purchase after loading: a resumed campaign repeated the look-alike warning.
    with pytest.warns(UserWarning, match="differ from ood_label"):
        oracle = OpenSetOracle(["a", "Unknown", "unknown", "b"], ood_label="unknown")
    state = vars(oracle)
    del state["_spent"], state["_checked_ood_label"]
    state["_is_ood"] = oracle.y_true == "unknown"
    dumped = pickle.dumps(oracle)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(dumped).label([0])
    # One set after construction (0.1 ignored it) was never checked: it is now.
    state["ood_label"] = "Unknown"
    with pytest.warns(UserWarning, match=r"\['unknown'\] that differ"):
        pickle.loads(pickle.dumps(oracle)).label([0])


def test_file_from_another_release_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(skal_openset, "__version__", "0.2.0")
    path = save_object([1, 2], tmp_path / "new.joblib")
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"written by skal_openset 0\.2\.0.*0\.2\.\*"):
        load_object(path)


def test_file_from_the_same_release_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(skal_openset, "__version__", "0.1.3")
    path = save_object({"a": 1}, tmp_path / "patch.joblib")
    monkeypatch.undo()
    assert load_object(path) == {"a": 1}


def test_foreign_truncated_and_missing_files_are_named(tmp_path):
    foreign = tmp_path / "foreign.joblib"
    joblib.dump([1, 2], foreign)
    with pytest.raises(ValueError, match="foreign.joblib was not written by"):
        load_object(foreign)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt was not written by"):
        load_object(text)
    # Pickles of this package's objects, or naming it, by another writer: they
    # were called truncated or damaged, with advice to delete them.
    oracle = OpenSetOracle([0, -1, 1])
    joblib.dump(oracle, tmp_path / "oracle.joblib")
    (tmp_path / "oracle.pkl").write_bytes(pickle.dumps(oracle))
    (tmp_path / "named.pkl").write_bytes(pickle.dumps({"library": "skal_openset"}))
    for name in ("oracle.joblib", "oracle.pkl", "named.pkl"):
        with pytest.raises(ValueError, match=f"{name} was not written by"):
            load_object(tmp_path / name)
    path = save_object(np.arange(1000), tmp_path / "cut.joblib")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="cut.joblib is truncated"):
        load_object(path)
    with pytest.raises(FileNotFoundError, match="missing.joblib"):
        load_object(tmp_path / "missing.joblib")


def test_a_damaged_or_empty_file_is_refused_not_loaded(tmp_path):
    # A flipped byte in an array loaded silently as a wrong value; an empty
    # file was called foreign, with joblib.load as the advice.
    oracle = OpenSetOracle(np.arange(400) % 5 - 1)
    path = save_object(oracle, tmp_path / "o.joblib")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="o.joblib is truncated or damaged"):
        load_object(path)
    empty = tmp_path / "checkpoint.joblib"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="is empty or truncated.*Delete it"):
        load_object(empty)
    # Cut inside its header (an interrupted copy): it was called foreign,
    # and so it still was cut before the header names the format (1-36 bytes).
    for size in (40, 36, 20, 12, 3, 1):
        empty.write_bytes(path.read_bytes()[:size])
        with pytest.raises(ValueError, match="is empty or truncated.*Delete it"):
            load_object(empty)
    empty.write_bytes(b"\x80\x04\x95" + bytes(8) + b"]")  # a pickled list's start
    with pytest.raises(ValueError, match="was not written by skal_openset"):
        load_object(empty)


def test_a_bit_flipped_in_the_header_is_called_damage(tmp_path):
    # Some flips gave a bare KeyError: 'version', others called the file
    # foreign, to be loaded with joblib.load.
    path = save_object(np.arange(10), tmp_path / "o.joblib")
    data = path.read_bytes()
    f = io.BytesIO(data)
    pickle.load(f)
    for bit in range(8 * f.tell()):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << bit % 8
        path.write_bytes(bytes(flipped))
        try:  # most flips are damage; a few leave a header that reads
            np.testing.assert_array_equal(load_object(path), np.arange(10))
        except ValueError as exc:
            # a flipped version digit reads as another release
            assert re.search("damaged|truncated|which is not compatible", str(exc))


def test_a_cut_file_whose_header_reads_but_is_wrong_is_called_damaged(tmp_path):
    # A header read whole, of our format but no version, in a file cut short:
    # damage to the header, not a file cut inside it that holds no object.
    path = save_object(np.arange(10), tmp_path / "o.joblib")
    data = path.read_bytes()
    version = skal_openset.__version__.encode()
    damaged = data.replace(version, b"x" * len(version), 1)[:-1]
    path.write_bytes(damaged)
    with pytest.raises(ValueError, match="o.joblib is damaged: its header"):
        load_object(path)


def test_saving_over_a_file_keeps_its_permissions(tmp_path):
    # The atomic replace gave the new file the umask's mode: a state file
    # the user had made private (it holds their labels) became readable.
    path = save_object({"round": 1}, tmp_path / "state.joblib")
    path.chmod(0o600)
    save_object({"round": 2}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_object(path) == {"round": 2}


_AS_ROOT = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root"
)


def _given_another_group(path):
    """Give the file `path` a group other than its own (as root); return
    its gid, or skip where the machine has no other group."""
    import grp

    own = path.stat().st_gid
    gid = next((g.gr_gid for g in grp.getgrall() if g.gr_gid != own), None)
    if gid is None:
        pytest.skip("no other group on this machine")
    os.chown(path, -1, gid)
    return gid


@_AS_ROOT
def test_saving_over_a_file_keeps_its_owner_and_group(tmp_path):
    # The atomic replace gave the new file the user's own group: a file
    # given the team's group (chgrp), in a folder without set-group-ID, came
    # back unreadable to the team. The mode is set after: chown clears the
    # set-user-ID and set-group-ID bits, the latter only of a file its group
    # may execute: with 0o2640 the order would go untested.
    import pwd

    path = save_object({"round": 1}, tmp_path / "state.joblib")
    gid = _given_another_group(path)
    own = path.stat().st_uid
    uid = next((u.pw_uid for u in pwd.getpwall() if u.pw_uid != own), None)
    if uid is None:
        pytest.skip("no other user on this machine")
    os.chown(path, uid, -1)
    path.chmod(0o6750)
    save_object({"round": 2}, path)
    saved = path.stat()
    assert (saved.st_uid, saved.st_gid) == (uid, gid)
    assert stat.S_IMODE(saved.st_mode) == 0o6750
    assert load_object(path) == {"round": 2}


@_AS_ROOT
@pytest.mark.parametrize(
    "refusal",
    [errno.EPERM, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EIO],
    ids=errno.errorcode.get,
)
def test_a_group_not_ours_to_give_is_passed_over(tmp_path, monkeypatch, refusal):
    # A user may give a file no group they are not in (EPERM), nor anyone an
    # id its file system cannot hold (EINVAL), nor a file system without
    # owners (ENOSYS, EOPNOTSUPP: a FUSE one) any: the file is saved, as
    # cp -p copies it. Another failure is raised, the file kept.
    path = save_object("old", tmp_path / "state.joblib")
    gid = _given_another_group(path)
    given = []

    def refused(tmp, uid, gid):
        given.append((uid, gid))
        raise OSError(refusal, os.strerror(refusal), str(tmp))

    monkeypatch.setattr(_atomic.os, "chown", refused)
    if refusal == errno.EIO:
        with pytest.raises(OSError, match="Input/output error"):
            save_object("new", path)
        monkeypatch.undo()
        assert load_object(path) == "old"
    else:
        save_object("new", path)
        monkeypatch.undo()
        assert load_object(path) == "new"
    assert given == [(-1, gid)]
    assert [p.name for p in tmp_path.iterdir()] == ["state.joblib"]


@_AS_ROOT
def test_a_group_is_kept_where_the_owner_cannot_be_given(tmp_path, monkeypatch):
    # A user saving over a team file owned by another user (in a folder of
    # theirs) may give it the team's group, not its owner: asked for both
    # at once, chown refuses both, and the file came back in the user's
    # own group.
    path = save_object("old", tmp_path / "state.joblib")
    gid = _given_another_group(path)
    os.chown(path, path.stat().st_uid + 1, -1)
    chown = os.chown

    def no_owner_given(file, uid, gid):
        if uid != -1:
            raise OSError(errno.EPERM, os.strerror(errno.EPERM), str(file))
        chown(file, uid, gid)

    monkeypatch.setattr(_atomic.os, "chown", no_owner_given)
    save_object("new", path)
    monkeypatch.undo()
    assert (path.stat().st_uid, path.stat().st_gid) == (os.getuid(), gid)
    assert load_object(path) == "new"


def test_a_file_of_an_earlier_version_without_a_digest_loads(tmp_path):
    path = tmp_path / "old.joblib"
    with path.open("wb") as f:
        header = {"format": "skal_openset", "version": skal_openset.__version__}
        pickle.dump(header, f)
        joblib.dump([1, 2], f)
    assert load_object(path) == [1, 2]


def test_a_file_with_its_digest_in_the_header_is_checked(tmp_path):
    # For a while 0.1 wrote the pickle's size and digest into the header; such
    # a file loaded unchecked once the digest moved to a trailer.
    buffer = io.BytesIO()
    joblib.dump(np.arange(400), buffer)
    payload = buffer.getvalue()
    path = tmp_path / "saved.joblib"
    with path.open("wb") as f:
        header = {"format": "skal_openset", "version": skal_openset.__version__}
        digest = hashlib.blake2b(payload, digest_size=16).hexdigest()
        pickle.dump({**header, "size": len(payload), "digest": digest}, f)
        f.write(payload)
    np.testing.assert_array_equal(load_object(path), np.arange(400))
    data = bytearray(path.read_bytes())
    data[-len(payload) // 2] ^= 0xFF  # a wrong value in the array, still readable
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="saved.joblib is truncated or damaged"):
        load_object(path)


def test_a_folder_is_named_as_such_and_a_long_name_is_written(tmp_path):
    # A folder got 'No file to load' (it exists) on loading, and an error naming
    # the temporary file on saving; a 252-byte name failed ('File name too
    # long') since the temporary name added 14 bytes.
    with pytest.raises(IsADirectoryError, match="is a folder; give the path"):
        load_object(tmp_path)
    with pytest.raises(IsADirectoryError, match="is a folder; give the path"):
        save_object([1, 2], tmp_path)
    # No file name guessed: it had suggested checkpoint.joblib for a CSV.
    with pytest.raises(IsADirectoryError, match=r"of a file \(one inside it"):
        write_records_csv([{"round": 1}], tmp_path)
    long = tmp_path / ("n" * 246 + ".joblib")
    assert load_object(save_object([1, 2], long)) == [1, 2]
    assert [p.name for p in tmp_path.iterdir()] == [long.name]


def test_a_path_inside_a_file_is_named_with_what_to_do(tmp_path):
    # mkdir's "[Errno 17] File exists: '.../f'" named the file, not the path
    # to write, and said nothing of what to do.
    (tmp_path / "f").write_text("x")
    path = tmp_path / "f" / "sub" / "o.joblib"
    for write in (
        lambda: save_object([1], path),
        lambda: write_records_csv([{"a": 1}], path),
    ):
        with pytest.raises(NotADirectoryError, match="f is a file, so ") as info:
            write()
        assert f"{path} cannot be written inside it; give a path" in str(info.value)
    assert (tmp_path / "f").read_text() == "x"


def test_a_failed_save_leaves_no_folder_it_made(tmp_path):
    # The folders made for the file stayed, empty, after the save failed.
    (tmp_path / "kept").mkdir()
    for path in (tmp_path / "a" / "b" / "x.joblib", tmp_path / "kept" / "c" / "x"):
        with pytest.raises(ValueError, match="cannot be pickled"):
            save_object({"f": lambda: 0}, path)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept"]


@pytest.mark.parametrize("gone", ["module", "class"])
def test_a_class_that_cannot_be_found_is_not_called_damage(tmp_path, monkeypatch, gone):
    # The file used to be reported "truncated or damaged", inviting its deletion.
    code = tmp_path / "code"
    code.mkdir()
    (code / "my_thing.py").write_text("class Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(code))
    import my_thing

    path = save_object(my_thing.Thing(), tmp_path / "thing.joblib")
    if gone == "module":  # e.g. a package not installed here
        monkeypatch.delitem(sys.modules, "my_thing")
        monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(code)])
    else:  # e.g. renamed in a later version
        monkeypatch.delattr(my_thing, "Thing")
    with pytest.raises(ImportError, match="thing.joblib holds.*my_thing.*not damage"):
        load_object(path)


def test_a_file_of_another_version_of_an_installed_library_names_it(
    tmp_path, monkeypatch
):
    # Saved with NumPy 2 and loaded with NumPy 1 (the floors' 1.25), a file
    # was said to hold "an object whose class cannot be found here
    # (ModuleNotFoundError: No module named 'numpy._core')", to be imported
    # or defined first: a module of NumPy's own, which no import gives.
    module = types.ModuleType("json._gone")  # of an installed package
    exec("class Thing:\n    pass\n", module.__dict__)
    module.Thing.__module__ = "json._gone"
    monkeypatch.setitem(sys.modules, "json._gone", module)
    path = save_object(module.Thing(), tmp_path / "thing.joblib")
    monkeypatch.delitem(sys.modules, "json._gone")
    with pytest.raises(ImportError) as exc:
        load_object(path)
    message = str(exc.value)
    assert "of module json._gone, which the installed json " in message
    assert "saved with another version of json. Load it where" in message
    assert "define that class" not in message


@pytest.mark.parametrize("package", ["numpy", "wsgiref"])
def test_a_library_a_file_needs_is_named_with_its_version_imported_or_not(
    tmp_path, monkeypatch, package
):
    # The version installed is the one to change; a library not imported
    # before the load (wsgiref) is named as a library too.
    name = f"{package}._gone"
    module = types.ModuleType(name)
    exec("class Thing:\n    pass\n", module.__dict__)
    module.Thing.__module__ = name
    monkeypatch.setitem(sys.modules, name, module)
    path = save_object(module.Thing(), tmp_path / "thing.joblib")
    monkeypatch.delitem(sys.modules, name)
    if package == "wsgiref":
        monkeypatch.delitem(sys.modules, package, raising=False)
    with pytest.raises(ImportError) as exc:
        load_object(path)
    installed = f"numpy {np.__version__}" if package == "numpy" else package
    assert f"of module {name}, which the installed {installed} lacks" in str(exc.value)


@pytest.mark.parametrize("name", ["Gone", "Outer.Gone"])
def test_a_class_an_installed_library_no_longer_has_names_the_library(
    tmp_path, monkeypatch, name
):
    # A learner saved with scikit-learn 1.6 (a HistGradientBoostingClassifier
    # on a categorical column) and loaded with 1.9, which dropped the private
    # class sklearn.compose._column_transformer._RemainderColsList, was said
    # to need that class imported or defined first, as if it were the user's.
    module = types.ModuleType("json._kept")  # of an installed package
    exec("class Outer:\n    class Gone:\n        pass\n", module.__dict__)
    module.Gone = module.Outer.Gone
    module.Gone.__module__ = "json._kept"
    module.Gone.__qualname__ = name
    monkeypatch.setitem(sys.modules, "json._kept", module)
    path = save_object(module.Gone(), tmp_path / "thing.joblib")
    monkeypatch.delattr(module, "Gone")
    monkeypatch.delattr(module.Outer, "Gone")
    with pytest.raises(ImportError) as exc:
        load_object(path)
    message = str(exc.value)
    assert f"of class json._kept.{name}, which the installed json " in message
    assert "saved with another version of json. Load it where" in message
    assert "define that class" not in message


def _fail_as_no_system_call():
    raise OSError("a class's own check, of no file")


class _FailsToLoad:
    def __reduce__(self):
        return _fail_as_no_system_call, ()


def test_an_oserror_of_no_system_call_while_loading_is_no_failed_read(tmp_path):
    # Only an OSError of the system that names no file is a read that failed
    # (a failing disk); one an object raises as it is rebuilt is explained.
    path = save_object(_FailsToLoad(), tmp_path / "thing.joblib")
    with pytest.raises(Exception, match="is intact .* but cannot be loaded here"):
        load_object(path)


def test_a_file_of_a_module_under_a_script_names_the_class_not_a_library(
    tmp_path, monkeypatch
):
    # A module under __main__ (no package) was taken for a library's: with
    # __main__.__spec__ None, as under python -c or a REPL, find_spec raised
    # ValueError from inside the handler, in place of the ImportError.
    main = sys.modules["__main__"]
    module = types.ModuleType("__main__._gone")
    exec("class Thing:\n    pass\n", module.__dict__)
    module.Thing.__module__ = "__main__._gone"
    monkeypatch.setitem(sys.modules, "__main__._gone", module)
    path = save_object(module.Thing(), tmp_path / "thing.joblib")
    monkeypatch.delitem(sys.modules, "__main__._gone")
    for spec in (None, getattr(main, "__spec__", None)):
        monkeypatch.setattr(main, "__spec__", spec, raising=False)
        with pytest.raises(ImportError, match="import or define that class first"):
            load_object(path)


def test_an_intact_file_that_does_not_load_here_is_not_called_damage(
    tmp_path, saved_on_cuda
):
    # A file saved with tensors on a GPU, loaded without one, was called
    # "truncated or damaged", although its digest had just matched.
    saved_on_cuda()
    path = save_object({"weights": torch.ones(3)}, tmp_path / "gpu.joblib")
    with pytest.raises(ValueError, match="gpu.joblib is intact") as exc:
        load_object(path)
    message = str(exc.value)
    assert "cannot be loaded here (RuntimeError: Attempting to deserialize" in message
    assert "a device this one lacks" in message
    assert "Keep it: load it on a machine like the one that saved it" in message
    assert "damaged" not in message and "save again" not in message
    # Without a digest (the first 0.1 files) nothing tells it from damage.
    old = tmp_path / "old.joblib"
    with old.open("wb") as f:
        header = {"format": "skal_openset", "version": skal_openset.__version__}
        pickle.dump(header, f)
        joblib.dump({"weights": torch.ones(3)}, f)
    with pytest.raises(ValueError, match="old.joblib is truncated or damaged"):
        load_object(old)


def test_a_file_of_classes_changed_since_names_skal_openset_code(tmp_path, monkeypatch):
    # Saved by an earlier commit of 0.1.0.dev0, whose query record had one
    # field less, a learner failed to load as "truncated or damaged. Use
    # another copy, or save again" (a file without a digest) or with the
    # devices and the other libraries as the only causes named.
    code = tmp_path / "code"
    code.mkdir()
    (code / "my_record.py").write_text(
        "import collections\nRecord = collections.namedtuple('Record', 'scores')\n"
    )
    monkeypatch.syspath_prepend(str(code))
    import my_record

    old = tmp_path / "old.joblib"
    with old.open("wb") as f:  # the first 0.1 files: no digest
        header = {"format": "skal_openset", "version": skal_openset.__version__}
        pickle.dump(header, f)
        joblib.dump(my_record.Record(1), f)
    path = save_object(my_record.Record(1), tmp_path / "new.joblib")
    # The class as a later commit defines it.
    monkeypatch.setattr(
        my_record, "Record", collections.namedtuple("Record", "scores proba")
    )
    with pytest.raises(ValueError) as exc:
        load_object(old)
    message = str(exc.value)
    assert "old.joblib is truncated or damaged, or was saved by an early" in message
    assert "missing 1 required positional argument: 'proba'" in message
    assert "Load it with the skal_openset that saved it" in message
    with pytest.raises(ValueError) as exc:
        load_object(path)
    assert "with other code of skal_openset (whose classes change" in str(exc.value)


@pytest.mark.parametrize(
    "sigint", [signal.SIG_IGN, signal.SIG_DFL], ids=["ignored", "default"]
)
def test_sigterm_without_a_python_sigint_handler_is_held_through_the_renames(
    tmp_path, monkeypatch, sigint
):
    # A job started in the background ignores SIGINT; a SIGTERM handled as
    # Ctrl-C was then not held through a set's renames, leaving it mixed.
    paths = [tmp_path / "records.csv", tmp_path / "summary.json"]
    for path in paths:
        path.write_text("old")
    replace = os.replace

    def replace_then_terminate(src, dst):
        replace(src, dst)
        signal.raise_signal(signal.SIGTERM)

    previous = signal.signal(signal.SIGINT, sigint)
    try:
        # The guard outside: InterruptedAfterReplacing is a KeyboardInterrupt too.
        with (
            sigterm_as_ctrl_c(),
            escaped_ctrl_c_fails(),
            pytest.raises(InterruptedAfterReplacing),
        ):
            monkeypatch.setattr(os, "replace", replace_then_terminate)
            with atomic_paths(paths) as temps:
                for tmp in temps:
                    tmp.write_text("new")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert [path.read_text() for path in paths] == ["new", "new"]


def test_a_file_saved_again_while_loading_loads_as_it_was(tmp_path, monkeypatch):
    # A run saves its state every round: a save renames a new file onto the
    # path, which changed the ctime of the file being loaded, not its bytes,
    # and the load was refused as "changed while it was being loaded".
    path = save_object({"v": 1}, tmp_path / "state.joblib")
    load = joblib.load

    def load_as_the_run_saves(f, *args, **kwargs):
        save_object({"v": 2}, path)
        return load(f, *args, **kwargs)

    monkeypatch.setattr(_persistence.joblib, "load", load_as_the_run_saves)
    assert load_object(path)["v"] == 1


def test_a_file_given_twice_in_a_set_is_refused(tmp_path):
    # Renamed onto twice and, on a failure, removed twice, it was reported as
    # one that could not be put back, and a temporary file was left.
    target = tmp_path / "a.txt"
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    (tmp_path / "folder").symlink_to(tmp_path)
    for twice in (
        [target, target],
        [target, link],
        [target, tmp_path / "folder" / "a.txt"],
    ):
        with pytest.raises(ValueError, match="are the same file: give each file"):
            with atomic_paths(twice):
                pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "link.txt"]


def test_a_file_removed_with_a_set_goes_only_if_the_set_is_replaced(
    tmp_path, monkeypatch
):
    # An earlier set's file that the new set has none of (the demo's figure,
    # when drawing it failed) is part of the replace: removed with it, or
    # kept with the old files when a rename fails.
    paths = [tmp_path / "records.csv", tmp_path / "summary.json"]
    stale = tmp_path / "learning_curves.png"
    for path in [*paths, stale]:
        path.write_text("old")
    _replace_failing(monkeypatch, lambda src, dst: dst.name == "summary.json")
    with pytest.raises(OSError, match="the old files are all intact"):
        with atomic_paths(paths, [stale]) as temps:
            for tmp in temps:
                tmp.write_text("new")
    assert [path.read_text() for path in [*paths, stale]] == ["old"] * 3
    monkeypatch.undo()
    with atomic_paths(paths, [stale]) as temps:
        for tmp in temps:
            tmp.write_text("new")
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        path.name for path in paths
    )


def test_an_earlier_file_that_cannot_be_removed_is_left_with_a_warning(tmp_path):
    # A folder of the stale figure's name (or an immutable file) raised
    # IsADirectoryError after the new set was in place: read as a failed
    # write, or with a Ctrl-C held as "nothing was written".
    paths = [tmp_path / "records.csv", tmp_path / "summary.json"]
    stale = tmp_path / "learning_curves.png"
    stale.mkdir()
    with pytest.warns(UserWarning, match="could not be removed .* files are written"):
        with atomic_paths(paths, [stale]) as temps:
            for tmp in temps:
                tmp.write_text("new")
    assert [path.read_text() for path in paths] == ["new", "new"]
    assert stale.is_dir()


def test_an_earlier_file_already_gone_is_no_failure_to_remove_it(tmp_path):
    # The demo's first run whose figure failed to draw has no earlier figure
    # to remove: no warning that one "could not be removed".
    paths = [tmp_path / "records.csv"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with atomic_paths(paths, [tmp_path / "learning_curves.png"]) as (tmp,):
            tmp.write_text("new")
    assert paths[0].read_text() == "new"


def test_an_earlier_file_left_is_named_with_why_in_words(tmp_path):
    # The reason in words, as the package's other messages give it, not the
    # OSError's "[Errno 21] Is a directory: '...'" naming the path again.
    stale = tmp_path / "learning_curves.png"
    stale.mkdir()
    # The system's words: "Is a directory" on Linux, "Operation not
    # permitted" on macOS.
    with pytest.raises(OSError) as refused:
        os.unlink(stale)
    with pytest.warns(UserWarning) as warned:
        with atomic_paths([tmp_path / "records.csv"], [stale]) as (tmp,):
            tmp.write_text("new")
    assert [str(w.message) for w in warned] == [
        f"{stale} is an earlier write's, and could not be removed "
        f"({refused.value.strerror}): the new files are written; delete it, or "
        "it may be taken for theirs."
    ]


@pytest.mark.parametrize("change", ["truncated", "rewritten"])
def test_what_is_loaded_is_what_was_checked(tmp_path, monkeypatch, change):
    # The file is read again after its digest is checked: one cut or
    # rewritten in place meanwhile (cp, rsync --inplace) was called intact
    # but unloadable here ("Keep it"), or loaded unchecked. (Reading it into
    # memory once took twice its size there.)
    path = save_object({"v": 1, "pad": np.arange(20_000)}, tmp_path / "o.joblib")
    other = save_object({"v": 2, "pad": np.arange(30_000)}, tmp_path / "p.joblib")
    check = _persistence._check_digest

    def check_then_change(*args):
        check(*args)
        if change == "truncated":
            with path.open("r+b") as f:
                f.truncate(path.stat().st_size // 2)
        else:
            path.write_bytes(other.read_bytes())

    monkeypatch.setattr(_persistence, "_check_digest", check_then_change)
    with pytest.raises(ValueError, match="o.joblib changed while it was being loaded"):
        load_object(path)


def test_an_object_holding_a_lambda_is_refused_with_what_to_do(tmp_path):
    # pickle's bare "Can't pickle <function <lambda>>" named no remedy.
    learner = ActiveLearner(LogisticRegression(), embedding=lambda est, X: X)
    path = save_object("old", tmp_path / "learner.joblib")
    with pytest.raises(ValueError, match="ActiveLearner cannot be pickled.*module"):
        learner.save(path)
    assert load_object(path) == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["learner.joblib"]


def test_interrupted_write_keeps_the_previous_file(tmp_path):
    path = save_object("old", tmp_path / "state.joblib")
    with pytest.raises(RuntimeError):
        with atomic_open(path) as f:
            f.write(b"half")
            raise RuntimeError("killed")
    assert load_object(path) == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.joblib"]


def _replace_failing(monkeypatch, fails):
    """Make os.replace(src, dst) raise PermissionError where fails(src, dst),
    as on Windows onto a file another program holds open."""
    replace = os.replace

    def flaky(src, dst):
        if fails(Path(src), Path(dst)):
            raise PermissionError(13, "Permission denied", str(dst))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)


def _write_group(paths):
    with atomic_paths(paths) as temps:
        for tmp, path in zip(temps, paths):
            tmp.write_text("new " + path.name)


@pytest.mark.parametrize("hard_links", [True, False])
def test_a_group_whose_rename_fails_is_put_back_whole(
    tmp_path, monkeypatch, hard_links
):
    # The first file was left new, the others old, the new content of the
    # last two deleted, and the error named the one file.
    if not hard_links:  # FAT, some network shares: the old files are copied

        def link(src, dst):
            raise PermissionError(1, "Operation not permitted", str(dst))

        monkeypatch.setattr(os, "link", link)
    paths = [tmp_path / name for name in OUTPUT_FILES]
    records, summary_md, summary_json, _ = paths
    for path in paths:
        if path != summary_md:  # not there before: removed again
            path.write_text("old " + path.name)
    _replace_failing(monkeypatch, lambda src, dst: dst == summary_json)
    with pytest.raises(PermissionError, match="summary.json.*none of records.csv"):
        _write_group(paths)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        path.name: "old " + path.name for path in paths if path != summary_md
    }


def test_a_group_that_cannot_be_put_back_keeps_every_file(tmp_path, monkeypatch):
    paths = [tmp_path / name for name in OUTPUT_FILES]
    for path in paths:
        path.write_text("old " + path.name)
    records, summary_md = paths[:2]
    _replace_failing(
        monkeypatch,
        # summary.md cannot be replaced, nor records.csv put back
        lambda src, dst: dst == summary_md or (dst == records and src.suffix != ".tmp"),
    )
    with pytest.raises(PermissionError, match="nor put back") as exc:
        _write_group(paths)
    message = str(exc.value)
    assert f"the new content is now at {records}, the old at the others" in message
    # Each path's other content is kept beside it, where the error says.
    for path in paths:
        held, other = ("new", "old") if path == records else ("old", "new")
        assert path.read_text() == f"{held} {path.name}"
        (kept,) = [
            p
            for p in tmp_path.iterdir()
            if p.name.startswith(f".{path.name}.") and str(p) in message
        ]
        assert kept.read_text() == f"{other} {path.name}"


def test_a_backup_name_already_taken_is_not_written_over(tmp_path, monkeypatch):
    # A backup an earlier failed save left (its error named it as holding
    # the old content) drew by chance the name a later save draws.
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for path in paths:
        path.write_text("old " + path.name)
    left = tmp_path / ".a.csv.00000000.old"
    left.write_text("older a.csv")
    tokens = iter(["00000000", "11111111"])
    monkeypatch.setattr(_atomic.secrets, "token_hex", lambda n: next(tokens))
    _replace_failing(monkeypatch, lambda src, dst: dst == paths[1])
    named = f"{left} holds what {paths[0]} held before"  # as a leftover, kept
    with (
        pytest.raises(PermissionError, match="none of a.csv, b.csv was replaced"),
        pytest.warns(UserWarning, match=re.escape(named)),
    ):
        _write_group(paths)  # a.csv is put back from the other name
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        "a.csv": "old a.csv",
        "b.csv": "old b.csv",
        left.name: "older a.csv",
    }


def test_a_backup_copy_that_fails_leaves_the_old_files_and_no_copy(
    tmp_path, monkeypatch
):
    # Without hard links (FAT, some network shares) the old file is copied
    # aside before the renames; a full disk may stop the copy half-way.
    def link(src, dst):
        raise PermissionError(1, "Operation not permitted", str(dst))

    def half_a_copy(src, dst):
        Path(dst).write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", link)
    monkeypatch.setattr(_atomic.shutil, "copy2", half_a_copy)
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for path in paths:
        path.write_text("old " + path.name)
    with pytest.raises(OSError, match="No space left on device"):
        _write_group(paths)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        path.name: "old " + path.name for path in paths
    }


@pytest.mark.parametrize("where", ["write", "fsync", "open"])
def test_a_failed_write_names_the_file_and_keeps_the_old_one(
    tmp_path, monkeypatch, where
):
    # "[Errno 28] No space left on device" named no file: neither the one
    # saved nor, on the command line, the disk that is full.
    path = save_object("old", tmp_path / "state.joblib")

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "write":
        monkeypatch.setattr(_persistence.joblib, "dump", full)
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync", full)
    else:  # the temporary file's own name, as open() gives it
        real_open = open

        def open_failing(file, *args, **kwargs):
            if str(file).endswith(".tmp"):
                raise OSError(errno.EIO, "Input/output error", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(_atomic, "open", open_failing, raising=False)
    with pytest.raises(OSError) as failed:
        save_object("new", path)
    monkeypatch.undo()
    reason = "Input/output error" if where == "open" else "No space left on device"
    assert str(failed.value) == (
        f"[Errno {failed.value.errno}] Could not write {path} ({reason}); it is "
        "as it was."
    )
    assert failed.value.errno == (errno.EIO if where == "open" else errno.ENOSPC)
    assert load_object(path) == "old"
    assert os.listdir(tmp_path) == [path.name]


def test_a_failed_write_of_a_set_names_its_files(tmp_path):
    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    with pytest.raises(OSError) as failed:
        with atomic_paths(paths) as temps:
            temps[0].write_text("new")
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
    assert str(failed.value) == (
        f"[Errno {errno.EDQUOT}] Could not write {paths[0]}, {paths[1]} (Disk "
        "quota exceeded), so none was replaced: the old files are all intact."
    )
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("reading", ["_digest_matches", "joblib.load"])
def test_a_failed_read_names_the_file(tmp_path, monkeypatch, reading):
    # "[Errno 5] Input/output error" named no file: a resumed run's state,
    # or which of a script's files, went unsaid. Met in the load after the
    # digest check (a network share gone meanwhile), it was "intact but
    # cannot be loaded here", to load on another machine.
    path = save_object("saved", tmp_path / "state.joblib")

    def failing_disk(*args):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(f"skal_openset._persistence.{reading}", failing_disk)
    with pytest.raises(OSError) as failed:
        load_object(path)
    assert str(failed.value) == (
        f"[Errno {errno.EIO}] Could not read {path} (Input/output error)"
    )
    monkeypatch.undo()
    assert load_object(path) == "saved"


def test_a_failed_write_through_a_link_names_the_file_written(tmp_path, monkeypatch):
    # A link's target is written, on its own disk: the one that is full.
    target = tmp_path / "disk" / "state.joblib"
    save_object("old", target)
    link = tmp_path / "state.joblib"
    link.symlink_to(target)

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_persistence.joblib, "dump", full)
    with pytest.raises(OSError, match=f"Could not write {re.escape(str(target))} "):
        save_object("new", link)
    monkeypatch.undo()
    assert link.is_symlink() and load_object(link) == "old"


def test_an_error_of_another_file_in_the_block_is_left_as_it_is(tmp_path):
    missing = tmp_path / "input.csv"
    with pytest.raises(FileNotFoundError) as failed:
        with atomic_open(tmp_path / "out.csv", "w") as f:
            f.write(missing.read_text())
    assert failed.value.filename == str(missing)
    assert os.listdir(tmp_path) == []


def test_an_oserror_of_no_system_call_in_the_block_is_left_as_it_is(tmp_path):
    # io.UnsupportedOperation names no file and no errno: a writer's own
    # error, not a full disk, so not "Could not write ... it is as it was".
    with pytest.raises(io.UnsupportedOperation) as failed:
        with atomic_open(tmp_path / "out.csv", "w") as f:
            f.read()
    assert failed.value.errno is None and "Could not write" not in str(failed.value)
    assert os.listdir(tmp_path) == []


def test_atomic_open_refuses_a_mode_that_would_not_write_the_file(tmp_path):
    # Read ("r") or appended to ("a"), the empty temporary file would still
    # replace the file: it would be emptied.
    path = save_object("old", tmp_path / "state.joblib")
    for mode in ("r", "a", "rb+"):
        with pytest.raises(ValueError, match=re.escape(f"or 'w', got '{mode}'.")):
            with atomic_open(path, mode):
                pytest.fail("opened")
    assert load_object(path) == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.joblib"]


def test_saving_through_a_link_writes_the_file_it_names(tmp_path):
    # The link was replaced by a file, and the file it named kept the old
    # object; a dangling link was replaced too.
    real = save_object("old", tmp_path / "real.joblib")
    link = tmp_path / "link.joblib"
    link.symlink_to(real.name)
    save_object("new", link)
    assert link.is_symlink() and load_object(real) == "new"
    dangling = tmp_path / "dangling.joblib"
    dangling.symlink_to(tmp_path / "folder" / "target.joblib")
    save_object("new", dangling)
    assert dangling.is_symlink() and load_object(dangling) == "new"
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "dangling.joblib",
        "folder",
        "link.joblib",
        "real.joblib",
        "target.joblib",
    ]


def test_a_written_file_gets_the_mode_of_any_new_file(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    (tmp_path / "plain").touch()  # what open() gives under this umask
    with atomic_open(tmp_path / "records.csv", "w") as f:
        f.write("round\n")
    mode = stat.S_IMODE((tmp_path / "records.csv").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o666 & ~umask


def test_a_file_system_that_refuses_chmod_still_takes_the_save(tmp_path, monkeypatch):
    # A FAT, exFAT or NTFS mount gives every file the mode set when mounted
    # and refuses chmod (EPERM): every save there failed, naming the
    # hidden temporary file.
    def fixed_modes(path, mode):
        raise PermissionError(errno.EPERM, "Operation not permitted", str(path))

    monkeypatch.setattr(_atomic.os, "chmod", fixed_modes)
    path = save_object("new", tmp_path / "state.joblib")
    save_object("newer", path)  # over a file there too
    monkeypatch.undo()
    assert load_object(path) == "newer"
    assert [p.name for p in tmp_path.iterdir()] == ["state.joblib"]

    # Another refusal (EACCES) is no file system of fixed modes: it is raised,
    # the file kept as it was, rather than saved with other permissions.
    def refused(path, mode):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(_atomic.os, "chmod", refused)
    with pytest.raises(PermissionError):
        save_object("newest", path)
    monkeypatch.undo()
    assert load_object(path) == "newer"
    assert [p.name for p in tmp_path.iterdir()] == ["state.joblib"]


def test_saving_to_a_path_that_ends_in_a_separator_is_refused(tmp_path):
    # Path("results/") is Path("results"): a file named results was written
    # where open() says "Is a directory", and the folder could not be made.
    for given in (f"{tmp_path / 'results'}{os.sep}", os.fsencode(tmp_path) + b"/r/"):
        with pytest.raises(IsADirectoryError, match="so it names a folder"):
            save_object("new", given)
    with pytest.raises(IsADirectoryError, match="so it names a folder"):
        write_records_csv([{"round": 1}], f"{tmp_path / 'records'}/")
    assert list(tmp_path.iterdir()) == []


def test_loading_through_a_link_to_nothing_names_the_link(tmp_path):
    # "No file to load at state.joblib: check the spelling", of a name that
    # ls lists, spelt right: a link to a file moved away, or a loop of links.
    (tmp_path / "state.joblib").symlink_to(tmp_path / "moved.joblib")
    (tmp_path / "loop.joblib").symlink_to("loop.joblib")
    for name, target in (("state", tmp_path / "moved"), ("loop", "loop")):
        match = f"{name}.joblib is a link to {target}.joblib, which leads to no file"
        with pytest.raises(FileNotFoundError, match=match):
            load_object(tmp_path / f"{name}.joblib")


def test_saving_into_a_folder_that_is_a_link_to_nothing_names_the_link(tmp_path):
    # mkdir said "File exists", of the file asked for: the folder above it
    # is a link to a folder moved away.
    (tmp_path / "results").symlink_to(tmp_path / "moved")
    match = r"results is a link to .*moved, which is not there, so .*state\.joblib"
    with pytest.raises(NotADirectoryError, match=match):
        save_object("new", tmp_path / "results" / "run" / "state.joblib")
    assert sorted(os.listdir(tmp_path)) == ["results"]


def test_saving_through_a_loop_of_links_names_it_and_leaves_no_file(tmp_path):
    # Its mode, read through the link, cannot be: the temporary file made
    # beside it is removed again.
    loop = tmp_path / "state.joblib"
    loop.symlink_to(loop.name)
    with pytest.raises(OSError, match="Too many levels of symbolic links") as info:
        save_object("new", loop)
    assert info.value.errno == errno.ELOOP and info.value.filename == str(loop)
    assert [p.name for p in tmp_path.iterdir()] == ["state.joblib"]


def test_learner_save_and_load_continue_identically(tmp_path, split):
    from skal_openset import (
        ActiveLearner,
        MQNetQuery,
        OpenSetOracle,
        make_mlp_classifier,
    )

    oracle = OpenSetOracle(split.y_pool)
    learner = ActiveLearner(
        make_mlp_classifier(64, 4, hidden_sizes=(16,), max_epochs=5, random_state=0),
        MQNetQuery(random_state=0),
        split.X_pool[split.initial_idx],
        oracle.label(split.initial_idx),
    )
    rest = np.flatnonzero(~oracle.queried_)
    indices, X_query = learner.query(split.X_pool[rest], n_instances=10)
    learner.teach(X_query, oracle.label(rest[indices]))
    path = learner.save(tmp_path / "learner.joblib")
    loaded = ActiveLearner.load(path)
    pool = split.X_pool[np.flatnonzero(~oracle.queried_)]
    first, again = (
        learner.query(pool, n_instances=10),
        loaded.query(pool, n_instances=10),
    )
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(
        learner.predict_proba(pool), loaded.predict_proba(pool)
    )
    with pytest.raises(
        ValueError, match="holds an object of class OpenSetOracle, not ActiveLearner;"
    ):
        ActiveLearner.load(save_object(oracle, tmp_path / "oracle.joblib"))


_QUERY_OR_TEACH = """
import sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from skal_openset import (
    ActiveLearner, MQNetQuery, load_digits_dataset, load_object,
    make_open_set_split, save_object,
)
X, y = load_digits_dataset()
split = make_open_set_split(X, y, n_in_classes=4, noise_ratio=0.4, initial_size=40,
                            random_state=0)
path = sys.argv[2]
rest = np.setdiff1d(np.arange(len(split.y_pool)), split.initial_idx)
if sys.argv[1] == "query":
    learner = ActiveLearner(LogisticRegression(max_iter=200), MQNetQuery())
    learner.fit(split.X_pool[split.initial_idx], split.y_pool[split.initial_idx])
    indices, _ = learner.query(split.X_pool[rest], n_instances=10)
    save_object({"learner": learner, "ids": rest[indices]}, path)
else:
    state = load_object(path)
    ids = state["ids"]
    state["learner"].teach(split.X_pool[ids], split.y_pool[ids])
"""


def test_a_query_saved_in_one_process_is_taught_in_another(tmp_path, monkeypatch):
    # An interactive campaign stops at an open query; the labels come back to
    # a new process, whose string hashes differ (PYTHONHASHSEED). The query
    # runs here, the teach in a child.
    import runpy

    script, state = tmp_path / "step.py", tmp_path / "state.joblib"
    script.write_text(_QUERY_OR_TEACH)
    monkeypatch.setattr(sys, "argv", [str(script), "query", str(state)])
    runpy.run_path(str(script))
    done = subprocess.run(
        [sys.executable, str(script), "teach", str(state)],
        env=env_with_other_string_hashes(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("first", [KeyboardInterrupt, OSError])
def test_a_ctrl_c_while_a_failed_save_cleans_up_leaves_no_temporary_file(
    tmp_path, monkeypatch, first
):
    # A Ctrl-C (a second one, or the first during another failure's cleanup)
    # stopped the removal of the temporary file: it stayed for good.
    remove = _atomic._remove

    def ctrl_c_then_remove(files):
        signal.raise_signal(signal.SIGINT)
        remove(files)

    monkeypatch.setattr(_atomic, "_remove", ctrl_c_then_remove)
    with pytest.raises(KeyboardInterrupt) as interrupt:
        with atomic_open(tmp_path / "out" / "f.csv", "w") as f:
            f.write("half")
            raise first
    assert list(tmp_path.iterdir()) == []
    if first is OSError:  # the failure is kept, and the Ctrl-C not lost
        assert isinstance(interrupt.value.__cause__, OSError)


def test_a_ctrl_c_during_renames_that_fail_is_raised_not_lost(tmp_path, monkeypatch):
    # Held during the renames, it was dropped when they failed: the OSError
    # alone came out, as if Ctrl-C had not been pressed.
    def ctrl_c_then_full_disk(*args):
        signal.raise_signal(signal.SIGINT)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic, "_replace_all", ctrl_c_then_full_disk)
    with pytest.raises(KeyboardInterrupt) as interrupt:
        with atomic_paths([tmp_path / "a", tmp_path / "b"]) as temps:
            for tmp in temps:
                tmp.write_text("new")
    assert isinstance(interrupt.value.__cause__, OSError)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_as_the_file_is_replaced_says_the_save_is_complete(
    tmp_path, monkeypatch
):
    # It said "InterruptedAfterReplacing: [PosixPath(...)]", as if the save
    # had failed.
    replace = os.replace

    def ctrl_c_then_replace(src, dst):
        signal.raise_signal(signal.SIGINT)
        replace(src, dst)

    path = tmp_path / "state.joblib"
    monkeypatch.setattr(os, "replace", ctrl_c_then_replace)
    with pytest.raises(KeyboardInterrupt) as interrupt:
        save_object("new", path)
    assert str(interrupt.value) == (
        f"Ctrl-C came after {path} had been replaced completely: the new "
        "content is saved, nothing is half-written."
    )
    assert interrupt.value.paths == [path]
    assert pickle.loads(pickle.dumps(interrupt.value)).paths == [path]
    monkeypatch.undo()
    assert load_object(path) == "new"


def test_ctrl_c_as_a_set_is_replaced_names_every_file_of_it(tmp_path, monkeypatch):
    # A run's records and summary are replaced as one: the interrupt says
    # that each of them, not the first alone, holds its new content.
    replace = os.replace

    def ctrl_c_then_replace(src, dst):
        signal.raise_signal(signal.SIGINT)
        replace(src, dst)

    paths = [tmp_path / "records.csv", tmp_path / "summary.json"]
    monkeypatch.setattr(os, "replace", ctrl_c_then_replace)
    with pytest.raises(InterruptedAfterReplacing) as interrupt:
        _write_group(paths)
    assert interrupt.value.paths == paths
    assert str(interrupt.value).startswith(
        f"Ctrl-C came after {paths[0]}, {paths[1]} had been replaced completely"
    )
    assert [path.read_text() for path in paths] == [
        "new records.csv",
        "new summary.json",
    ]
