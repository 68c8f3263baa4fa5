"""Benchmark cell files: validated on every read, invalid ones rerun."""

import argparse
import copy
import errno
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections import Counter
from itertools import product
from pathlib import Path
from types import SimpleNamespace

from _common import ResultsError, cpu_model

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression

import _cells
import openset_benchmark as bench
import report
from _cells import (
    CIFAR_CELLS,
    InvalidCellError,
    UnreadableCellError,
    finished_content,
    read_cell,
    write_cell,
)
from skal_openset import (
    MetaQueryNetSelector,
    MQNetQuery,
    load_digits_dataset,
    make_open_set_split,
    run_active_learning,
)
from skal_openset._argtypes import Parser
from skal_openset._experiment import versions


@pytest.fixture(autouse=True)
def _pythonpath_as_it_was(monkeypatch):
    """run_suite puts benchmarks/ on PYTHONPATH for its workers, once a call:
    put back after each test, or later subprocesses inherit every copy."""
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))


CELL = dict(suite="t", dataset="segment", noise=0.4, strategy="RANDOM", trial=0)


def content(rounds=2):
    cell = dict(CELL, rounds=rounds)
    records = [
        dict(
            round=i,
            test_accuracy=0.5,
            query_size=0 if i == 1 else 20,
            query_in_share=float("nan") if i == 1 else 0.6,
            train_seconds=0.1,
            query_seconds=0.0,
        )
        for i in range(1, rounds + 1)
    ]
    return dict(
        cell=cell, in_classes=[1, 2], seconds=1.0, records=records, landscapes=[]
    )


def cifar_content(cell=None, **extra):
    """A cell as cifar.py wrote it before it used write_cell (no checksum), of
    the tiny preset (2 rounds); `extra` keys added."""
    cell = cell or dict(preset="tiny", split=0, noise=0.4, strategy="RANDOM")
    return dict(
        cell=cell,
        in_classes=[4, 2, 5, 7],
        n_pool=100,
        n_test=40,
        seconds=1.0,
        encoder_seconds=1.0,
        encoder_epochs=1,
        device="cpu",
        records=content()["records"],
        **extra,
    )


def test_write_read_round_trip(tmp_path):
    path = write_cell(tmp_path / "c.json", content())
    loaded = read_cell(path, content()["cell"])
    assert json.dumps(loaded["records"]) == json.dumps(content()["records"])
    assert len(loaded["checksum"]) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_sigterm_while_a_worker_writes_a_cell_leaves_no_temporary_file(tmp_path):
    # timeout and SLURM signal every process of a run, the joblib workers
    # writing cells too: SIGTERM killed one there, leaving its hidden .tmp.
    script = """
import signal, sys
from pathlib import Path
import _cells

def checksum_then_sigterm(content):
    signal.raise_signal(signal.SIGTERM)

_cells._checksum = checksum_then_sigterm
try:
    _cells.write_cell(Path(sys.argv[1]) / "c.json", {"cell": {}})
except KeyboardInterrupt:
    sys.exit(3)
"""
    root = Path(__file__).parents[1]
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=f"{root / 'benchmarks'}{os.pathsep}{root}"),
        timeout=300,
    )
    assert done.returncode == 3, done.stderr
    assert not list(tmp_path.iterdir())


def edit(text, change):
    data = json.loads(text)
    change(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda t: t[: len(t) // 2], "cannot be read as JSON"),
        (lambda t: "[1, 2]", "not a JSON object"),
        (lambda t: "\udcff", "cannot be read"),
        (lambda t: edit(t, lambda d: d.pop("checksum")), "lacks the keys"),
        (lambda t: edit(t, lambda d: d.pop("records")), "lacks the keys"),
        (
            lambda t: edit(t, lambda d: d["records"][0].update(test_accuracy=0.99)),
            "checksum does not match",
        ),
    ],
)
def test_damaged_cell_is_invalid_and_named(tmp_path, damage, reason):
    path = write_cell(tmp_path / "c.json", content())
    path.write_text(damage(path.read_text()), errors="surrogateescape")
    with pytest.raises(InvalidCellError, match=reason) as info:
        read_cell(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda c: c["records"].pop(), "has 1 records for a cell of 2 rounds"),
        (lambda c: c["records"].reverse(), "record 1 is of round 2"),
        (lambda c: c["records"][1].pop("query_size"), "record 2 lacks"),
        (lambda c: c["records"][1].update(test_accuracy=float("nan")), "accuracy nan"),
        # A percentage where a share belongs: the report would read 7500%.
        (lambda c: c["records"][1].update(test_accuracy=75.0), "test_accuracy 75.0"),
        # More records than its rounds: a run of another setting.
        (
            lambda c: c["records"].append(dict(c["records"][-1], round=3)),
            "has 3 records for a cell of 2 rounds",
        ),
        (lambda c: c["cell"].pop("rounds"), "'cell' must be an object"),
    ],
)
def test_incomplete_cell_is_invalid_even_with_its_checksum(tmp_path, change, reason):
    bad = content()
    change(bad)
    path = write_cell(tmp_path / "c.json", bad)
    with pytest.raises(InvalidCellError, match=reason):
        read_cell(path)


def test_foreign_cell_is_invalid(tmp_path):
    path = write_cell(tmp_path / "c.json", content())
    with pytest.raises(InvalidCellError, match="not"):
        read_cell(path, dict(CELL, rounds=2, trial=1))


@pytest.mark.parametrize(
    "key, value, other",
    [
        ("variant", "learnt", "rule"),
        ("estimator", "mlp", "random_forest"),
        ("cost_ood", 2.0, 4.0),
    ],
)
def test_a_cell_of_another_variant_classifier_or_cost_is_foreign(
    tmp_path, key, value, other
):
    # Keys beyond the suite, data set, noise, strategy, trial and rounds tell
    # an ablation's variants, the classifiers and the OOD costs apart: a file
    # of one (copied or renamed) must not pass for another, nor for the cell
    # without that key.
    cell = content()
    cell["cell"][key] = value
    path = write_cell(tmp_path / "c.json", cell)
    read_cell(path, cell["cell"])
    for expected in (
        dict(cell["cell"], **{key: other}),
        {k: v for k, v in cell["cell"].items() if k != key},
    ):
        with pytest.raises(InvalidCellError, match="holds the cell"):
            read_cell(path, expected)


def test_a_file_holding_another_cell_is_not_finished_and_runs_again(tmp_path):
    # A run skips the cells finished_content passes: one passed for the file of
    # another trial would report that trial's numbers under this one.
    path = write_cell(tmp_path / "c.json", content())
    with pytest.warns(UserWarning, match=f"{path}: holds the cell .*running it"):
        assert not finished_content(path, dict(content()["cell"], trial=1))


def test_a_folders_fingerprint_tells_its_file_names_apart(tmp_path):
    # Fashion-MNIST is a folder: the files' names say which are the
    # training and which the test images.
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    (tmp_path / "a" / "train.gz").write_bytes(b"images")
    (tmp_path / "b" / "t10k.gz").write_bytes(b"images")
    assert _cells.data_fingerprint(tmp_path / "a") != _cells.data_fingerprint(
        tmp_path / "b"
    )


def test_cifar_cells_are_read_with_or_without_a_checksum(tmp_path):
    # The committed ones predate it; a new one's is checked.
    old = tmp_path / "old.json"
    old.write_text(json.dumps(cifar_content()))
    assert read_cell(old, layout=CIFAR_CELLS, rounds=2)["device"] == "cpu"
    with pytest.raises(InvalidCellError, match="has 2 records for a cell of 4"):
        read_cell(old, layout=CIFAR_CELLS, rounds=4)
    new = write_cell(tmp_path / "new.json", cifar_content())
    new.write_text(edit(new.read_text(), lambda d: d.update(device="cuda")))
    with pytest.raises(InvalidCellError, match="checksum does not match"):
        read_cell(new, layout=CIFAR_CELLS)


def test_finished_content_warns_with_file_name(tmp_path):
    path = tmp_path / "c.json"
    cell = content()["cell"]
    assert not finished_content(path, cell)
    path.write_text("{")
    with pytest.warns(UserWarning, match=f"{path}.*running it again"):
        assert not finished_content(path, cell)
    write_cell(path, content())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert finished_content(path, cell)


def _unreadable(monkeypatch, unreadable):
    """Reading the file `unreadable` fails with an I/O error (EIO)."""
    read_text = Path.read_text

    def failing(path, *args, **kwargs):
        if path == unreadable:
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(path))
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", failing)


def test_a_cell_file_that_cannot_be_read_stops_the_run_and_is_kept(
    tmp_path, tiny_data_dir, monkeypatch
):
    # An I/O error or a folder in a cell's place was an "invalid cell": the
    # cell ran again and its file, perhaps intact, was replaced (or the
    # finished run failed at the rename onto the folder).
    monkeypatch.setattr(bench, "grid", two_cells)
    bench.run_suite(run_args(tmp_path, tiny_data_dir))
    kept, other = (bench.cell_path(c, tmp_path) for c in two_cells("tabular", True, 1))
    before, text = kept.stat().st_mtime_ns, kept.read_text()
    with monkeypatch.context() as m:
        _unreadable(m, kept)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(UnreadableCellError) as caught:
                bench.run_suite(run_args(tmp_path, tiny_data_dir))
    assert str(caught.value) == (
        f"benchmark cell {kept} cannot be read (Input/output error); it is left "
        "as it is: make it readable, or move it out of the cells folder (a run "
        "of its suite runs the cell again), then run again."
    )
    assert caught.value.errno == errno.EIO
    assert kept.stat().st_mtime_ns == before and kept.read_text() == text
    other.unlink()
    other.mkdir()  # a folder in the cell's place
    with pytest.raises(UnreadableCellError, match=f"{other} cannot be read"):
        finished_content(other, two_cells("tabular", True, 1)[1])
    # The command line says so in one line, as of a damaged cell.
    monkeypatch.setattr(sys, "argv", ["openset_benchmark.py", "--results-dir"])
    sys.argv += [str(tmp_path), "run", "tabular", "--quick"]
    sys.argv += ["--data-dir", str(tiny_data_dir), "--n-jobs", "1"]
    with pytest.raises(SystemExit, match=f"^benchmark cell {other} cannot be read"):
        bench.main()
    assert other.is_dir()


def _deleted_when_read(monkeypatch):
    """Make each file deleted as it is about to be read: listed, then gone."""
    real = Path.read_text

    def deleted_first(p, *args, **kwargs):
        p.unlink()
        return real(p, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", deleted_first)


def test_finished_content_of_a_cell_file_that_is_gone_is_none(tmp_path, monkeypatch):
    # Listed, then deleted before it was read: not finished, as if never there.
    path = write_cell(tmp_path / "c.json", content())
    _deleted_when_read(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert finished_content(path, content()["cell"]) is None


def test_the_check_of_other_data_passes_a_cell_file_gone_since_listed(
    tmp_path, monkeypatch
):
    # 597d99c1 stopped a run there at "cannot be read (No such file or
    # directory)", where finished_content counts the cell as not finished.
    path = write_cell(tmp_path / "c.json", content())
    _deleted_when_read(monkeypatch)
    assert _cells.other_data_error([path], lambda cell: None) is None


def test_a_rerun_reads_each_finished_cell_once(tmp_path, count_reads):
    # The finished check read each cell, then the check of its versions again.
    now = {**content(), "versions": versions()}
    paths = {i: write_cell(tmp_path / f"{i}.json", now) for i in range(3)}
    reads = count_reads()
    cells = [*paths, 3]  # 3: no file
    todo = _cells.cells_to_run(
        cells,
        lambda i: tmp_path / f"{i}.json",
        lambda i: finished_content(tmp_path / f"{i}.json", content()["cell"]),
        False,
    )
    assert todo == [3]
    assert [reads[path] for path in paths.values()] == [1, 1, 1]


def test_a_report_of_cells_of_two_recorded_versions_names_only_what_differs(
    tmp_path,
):
    # Beside the versions that differ, those alike (torch, numpy) only hid
    # the difference in a message naming every version of each cell.
    now = versions()
    then = {**now, "scikit-learn": "1.0.0"}
    contents = {tmp_path / "a.json": {"versions": then}}
    contents[tmp_path / "b.json"] = {"versions": now}
    with pytest.warns(UserWarning) as caught:
        _cells.warn_of_mixed_versions(tmp_path, contents)
    (message,) = [str(w.message) for w in caught]
    assert (
        f"1 with scikit-learn 1.0.0, e.g. {tmp_path / 'a.json'}; 1 with "
        f"scikit-learn {now['scikit-learn']}, e.g. {tmp_path / 'b.json'}. "
    ) in message
    # The same versions recorded in another order are one version.
    contents[tmp_path / "a.json"] = {"versions": dict(reversed(now.items()))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _cells.warn_of_mixed_versions(tmp_path, contents)


def test_the_finished_cells_of_other_versions_are_named_by_their_first_file(
    tmp_path,
):
    # The cells come in the grid's order: the file a warning names as an
    # example is the first of its folder, wherever its cell is in the grid.
    old = {**content(), "versions": {**versions(), "scikit-learn": "1.0.0"}}
    for i in range(3):
        write_cell(tmp_path / f"{i}.json", old)
    first = re.escape(f"e.g. {tmp_path / '0.json'}. ")
    with pytest.warns(UserWarning, match=f"3 by .*, {first}"):
        _cells.cells_to_run(
            [2, 1, 0],
            lambda i: tmp_path / f"{i}.json",
            lambda i: finished_content(tmp_path / f"{i}.json", content()["cell"]),
            False,
        )


def run_args(
    results, data_dir, backend="loky", strategies=None, rerun_other_versions=False
):
    return argparse.Namespace(
        suite="tabular",
        quick=True,
        trials=1,
        noise=bench.NOISE_RATIOS,
        strategies=strategies,
        n_jobs=1,
        backend=backend,
        scheduler=None,
        data_dir=data_dir,
        results_dir=results,
        rerun_other_versions=rerun_other_versions,
    )


GRID = bench.grid


def two_cells(suite, quick, trials, noises=bench.NOISE_RATIOS):
    return GRID(suite, quick, trials, noises)[:2]  # RANDOM and CONF


def test_run_reruns_invalid_cell_only(tmp_path, tiny_data_dir, monkeypatch, capsys):
    monkeypatch.setattr(bench, "grid", two_cells)
    bench.run_suite(run_args(tmp_path, tiny_data_dir))
    cells = two_cells("tabular", True, 1)
    valid, truncated = (bench.cell_path(c, tmp_path) for c in cells)
    truncated.write_text(truncated.read_text()[:100])
    before = valid.stat().st_mtime_ns
    with pytest.warns(UserWarning, match=f"{truncated}.*running it again"):
        bench.run_suite(run_args(tmp_path, tiny_data_dir))
    assert "ran 1 of 2 cells" in capsys.readouterr().out
    assert valid.stat().st_mtime_ns == before
    read_cell(truncated, cells[1])


def test_cells_run_on_one_thread_and_give_the_process_its_count_back(
    tmp_path, tiny_data_dir, monkeypatch
):
    # run_cell left its caller's process on one torch thread for good, and the
    # run log named the process's count (2 with --n-jobs 2), not the cells'.
    seen = []

    def traced(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return run_active_learning(*args, **kwargs)

    monkeypatch.setattr(bench, "run_active_learning", traced)
    monkeypatch.setattr(bench, "grid", two_cells)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # conftest runs the tests on one
    try:
        bench.run_suite(run_args(tmp_path, tiny_data_dir))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    assert seen == [1, 1]
    log = tmp_path / "cells" / "tabular-quick" / "_runs.jsonl"
    assert "(1 torch threads)" in json.loads(log.read_text())["machine"]


def test_a_gpu_cell_runs_with_the_processes_threads(monkeypatch):
    # The CPU's one-thread pinning is for cells that share the cores; a GPU
    # cell feeds its device from the process's threads.
    import _common

    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # conftest runs the tests on one
    try:
        with _common.cell_threads("cuda") as inside:
            assert inside == torch.get_num_threads() == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize(
    "cpuinfo",
    [None, "processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n"],
    ids=["no /proc/cpuinfo", "no model name"],
)
def test_a_cpu_without_a_model_name_is_named_by_its_architecture(monkeypatch, cpuinfo):
    # macOS has no /proc/cpuinfo, and ARM Linux's names no model.
    import io

    import _common

    def fake_open(path, *args):
        if cpuinfo is None:
            raise FileNotFoundError(path)
        return io.StringIO(cpuinfo)

    monkeypatch.setattr(_common, "open", fake_open, raising=False)
    monkeypatch.setattr(_common.platform, "processor", lambda: "")
    monkeypatch.setattr(_common.platform, "machine", lambda: "aarch64")
    assert cpu_model() == "aarch64"


def test_no_commit_is_named_where_git_is_not_installed(tmp_path, monkeypatch):
    import _common

    monkeypatch.setenv("PATH", str(tmp_path))  # no git on it
    assert _common.code_version() is None


def test_a_run_log_names_the_code_and_the_cpu_that_ran_its_cells(
    tmp_path, tiny_data_dir, monkeypatch
):
    # Logs said "x86_64" for two CPUs whose float paths give other cells, and
    # named no commit, though code changes moved cells.
    monkeypatch.setattr(bench, "grid", lambda *args: GRID(*args)[:1])
    bench.run_suite(run_args(tmp_path, tiny_data_dir))
    run = json.loads((tmp_path / "cells" / "tabular-quick" / "_runs.jsonl").read_text())
    git = ["git", "-C", str(Path(bench.__file__).parent), "rev-parse", "--short=12"]
    head = subprocess.run([*git, "HEAD"], capture_output=True, text=True).stdout
    assert run["commit"] in (head.strip(), head.strip() + "+changes")
    assert run["machine"].startswith(cpu_model() + ", ")
    folder = tmp_path / "cells" / "tabular"
    folder.mkdir(parents=True)
    (folder / "_runs.jsonl").write_text(json.dumps(run))
    assert f"at commit {run['commit']})" in "\n".join(report.runs_section(tmp_path))


def test_code_version_names_this_checkouts_commit_and_tracked_changes(
    tmp_path, monkeypatch
):
    # An untracked scratch file marked the code "+changes", and a copy inside
    # another repository named that repository's commit.
    import importlib.util
    import shutil

    def version(project):
        path = project / "benchmarks" / "_common.py"
        spec = importlib.util.spec_from_file_location("_common_copy", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.code_version()

    def git(*args, cwd):
        done = subprocess.run(
            ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    project = tmp_path / "outer" / "project"
    (project / "benchmarks").mkdir(parents=True)
    (project / "skal_openset").mkdir()
    shutil.copy(Path(bench.__file__).parent / "_common.py", project / "benchmarks")
    (project / "skal_openset" / "a.py").write_text("x = 1\n")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # wherever it is
    assert version(project) is None  # in no repository
    git("init", "-q", cwd=tmp_path / "outer")
    assert version(project) is None  # another repository's
    git("init", "-q", cwd=project)
    git("add", ".", cwd=project)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c", cwd=project)
    head = git("rev-parse", "--short=12", "HEAD", cwd=project)
    (project / "skal_openset" / "scratch.py").write_text("y = 2\n")
    assert version(project) == head
    (project / "skal_openset" / "a.py").write_text("x = 2\n")
    assert version(project) == head + "+changes"


def test_a_run_log_records_the_backend_as_given(tmp_path, tiny_data_dir, monkeypatch):
    # Copied from the log, a run on threads (or a cluster) reran on processes.
    monkeypatch.setattr(bench, "grid", lambda *args: GRID(*args)[:1])
    bench.run_suite(run_args(tmp_path, tiny_data_dir, "threading"))
    run = json.loads((tmp_path / "cells" / "tabular-quick" / "_runs.jsonl").read_text())
    assert run["command"].endswith(" --n-jobs 1 --backend threading")


def test_a_run_log_records_the_trials_and_noise_ratios_asked_for(
    tmp_path, tiny_data_dir, monkeypatch
):
    # Copied from the log, a run of some noise ratios reran all four.
    def one_cell(suite, quick, trials, noises):
        [cell] = [
            c for c in GRID(suite, quick, trials, noises) if c["dataset"] == "segment"
        ][:1]
        return [dict(cell, rounds=2)]

    monkeypatch.setattr(bench, "grid", one_cell)
    args = run_args(tmp_path, tiny_data_dir, strategies=["RANDOM"])
    args.quick, args.trials, args.noise = False, 2, [0.2, 0.4]
    bench.run_suite(args)
    run = json.loads((tmp_path / "cells" / "tabular" / "_runs.jsonl").read_text())
    assert " run tabular --trials 2 " in run["command"]
    assert " --noise 0.2 0.4 --strategies 'RANDOM' --n-jobs 1" in run["command"]


def test_a_run_log_names_the_code_its_cells_started_with(
    tmp_path, tiny_data_dir, monkeypatch
):
    # The commit was read when the log was written: a commit made while the
    # cells ran was named as their code.
    ran = []

    def cell(*args, **kwargs):
        ran.append(True)
        return run_active_learning(*args, **kwargs)

    monkeypatch.setattr(bench, "run_active_learning", cell)
    monkeypatch.setattr(bench, "code_version", lambda: "after" if ran else "before")
    monkeypatch.setattr(bench, "grid", lambda *args: GRID(*args)[:1])
    bench.run_suite(run_args(tmp_path, tiny_data_dir))
    log = tmp_path / "cells" / "tabular-quick" / "_runs.jsonl"
    assert ran and json.loads(log.read_text())["commit"] == "before"


def test_a_rerun_with_every_cell_finished_runs_and_logs_nothing(
    tmp_path, tiny_data_dir, monkeypatch, capsys
):
    # It logged "ran 0 of 2 cells", which the report then listed among the
    # runs that made the results: a documented command rerun changed them.
    monkeypatch.setattr(bench, "grid", two_cells)
    bench.run_suite(run_args(tmp_path, tiny_data_dir))
    log = tmp_path / "cells" / two_cells("tabular", True, 1)[0]["suite"] / "_runs.jsonl"
    logged = log.read_text()
    capsys.readouterr()
    bench.run_suite(run_args(tmp_path, tiny_data_dir))
    assert log.read_text() == logged
    assert capsys.readouterr().out == "tabular: all 2 cells had finished; nothing ran\n"


def _rewrite(path, **changes):
    """Write the cell file `path` again, valid, with `changes` (None: key left out)."""
    old = {k: v for k, v in read_cell(path).items() if k != "checksum"}
    new = {k: v for k, v in {**old, **changes}.items() if v is not None}
    write_cell(path, new)


def test_a_rerun_names_the_finished_cells_of_other_versions_and_can_rerun_them(
    tmp_path, tiny_data_dir, monkeypatch, capsys
):
    # After an upgrade, a rerun counted the cells of the old code as finished,
    # and the report mixed them with the new ones without a word.
    monkeypatch.setattr(bench, "grid", two_cells)
    bench.run_suite(run_args(tmp_path, tiny_data_dir))
    upgraded, unrecorded = (
        bench.cell_path(c, tmp_path) for c in two_cells("tabular", True, 1)
    )
    now = read_cell(upgraded)["versions"]
    assert now == versions()
    _rewrite(upgraded, versions={**now, "scikit-learn": "1.0.0"})
    _rewrite(unrecorded, versions=None)  # as written before cells recorded them
    capsys.readouterr()
    with pytest.warns(UserWarning) as caught:
        bench.run_suite(run_args(tmp_path, tiny_data_dir))
    (message,) = [str(w.message) for w in caught]
    sklearn_now = now["scikit-learn"]
    assert (
        f"1 by scikit-learn 1.0.0 (this run has scikit-learn {sklearn_now}), "
        f"e.g. {upgraded}" in message
    )
    assert "1 by an earlier skal_openset, which recorded no versions (" in message
    assert f"e.g. {unrecorded}" in message and "--rerun-other-versions" in message
    assert capsys.readouterr().out == "tabular: all 2 cells had finished; nothing ran\n"
    # The report names the versions it mixes, by what differs.
    suite = two_cells("tabular", True, 1)[0]["suite"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's: once per message
        report.load_cells(tmp_path, suite)
        report.load_cells(tmp_path, suite)  # as a report of two sections does
    (message,) = [str(w.message) for w in caught]
    assert "different versions: " in message
    # Beside cells that record none, every version is named.
    assert f"scikit-learn 1.0.0, torch {now['torch']}" in message
    assert f"numpy {now['numpy']}, e.g. {upgraded}" in message
    assert (
        "1 with versions not recorded (written before cells recorded them), "
        f"e.g. {unrecorded}" in message
    )
    assert "--rerun-other-versions" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bench.run_suite(run_args(tmp_path, tiny_data_dir, rerun_other_versions=True))
        assert "ran 2 of 2 cells" in capsys.readouterr().out
        assert read_cell(upgraded)["versions"] == now
        assert read_cell(unrecorded)["versions"] == now
        report.load_cells(tmp_path, suite)  # one version: no warning
        bench.run_suite(run_args(tmp_path, tiny_data_dir))


def test_a_report_of_cells_that_record_no_versions_says_nothing_of_them(tmp_path):
    # The committed cells record none: their report is as before.
    folder = tmp_path / "cells" / "t"
    folder.mkdir(parents=True)
    for trial in range(2):
        cell = dict(content()["cell"], trial=trial)
        write_cell(folder / f"{trial}.json", dict(content(), cell=cell))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        records, _ = report.load_cells(tmp_path, "t")
    assert len(records) == 4


def test_run_only_the_chosen_strategies(tmp_path, tiny_data_dir, monkeypatch, capsys):
    monkeypatch.setattr(bench, "grid", two_cells)
    bench.run_suite(run_args(tmp_path, tiny_data_dir, strategies=["CONF"]))
    assert "ran 1 of 1 cells" in capsys.readouterr().out
    random_cell, conf_cell = two_cells("tabular", True, 1)
    assert not bench.cell_path(random_cell, tmp_path).exists()
    read_cell(bench.cell_path(conf_cell, tmp_path), conf_cell)
    log = tmp_path / "cells" / conf_cell["suite"] / "_runs.jsonl"
    assert "--strategies 'CONF'" in log.read_text()


def test_a_run_on_other_data_into_the_same_cells_is_refused(
    tmp_path, tiny_data_dir, monkeypatch
):
    # A rerun with another --data-dir skipped the finished cells and ran the
    # rest, and the report averaged cells of both data sets without a word.
    monkeypatch.setattr(bench, "grid", two_cells)
    bench.run_suite(run_args(tmp_path, tiny_data_dir, strategies=["RANDOM"]))
    random_cell, _ = two_cells("tabular", True, 1)
    table = tiny_data_dir / "tabular" / "segment.csv"
    assert read_cell(bench.cell_path(random_cell, tmp_path))["data"] == {
        "path": str(table.resolve()),
        "fingerprint": _cells.data_fingerprint(table),
    }
    other = tmp_path / "other"
    (other / "tabular").mkdir(parents=True)
    lines = table.read_text().splitlines()
    (other / "tabular" / "segment.csv").write_text("\n".join(lines[:-5]) + "\n")
    with pytest.raises(ResultsError, match="was made from .*segment.csv .*another"):
        bench.run_suite(run_args(tmp_path, other))
    conf_path = bench.cell_path(two_cells("tabular", True, 1)[1], tmp_path)
    assert not conf_path.exists()
    # With every cell asked for finished, it said "nothing ran" and exit 0:
    # as if the other data's cells were those.
    with pytest.raises(ResultsError, match="was made from .*segment.csv .*another"):
        bench.run_suite(run_args(tmp_path, other, strategies=["RANDOM"]))
    same = tmp_path / "same"  # the same data at another path
    shutil.copytree(tiny_data_dir, same)
    bench.run_suite(run_args(tmp_path, same))
    assert read_cell(conf_path)["data"]["path"] == str(
        (same / table.parent.name / table.name).resolve()
    )
    # Cells that record no data (written before it was recorded) are of any.
    conf_path.unlink()
    random_path = bench.cell_path(random_cell, tmp_path)
    old = {k: v for k, v in read_cell(random_path).items() if k != "data"}
    write_cell(random_path, {k: v for k, v in old.items() if k != "checksum"})
    bench.run_suite(run_args(tmp_path, other))
    assert read_cell(conf_path)["data"]["path"] == str(
        (other / "tabular" / "segment.csv").resolve()
    )


def test_a_split_that_cannot_be_drawn_is_skipped_and_the_rest_run(
    tmp_path, tiny_data_dir, monkeypatch, capsys
):
    # 3 IN classes of 40 rows leave 160 OOD rows: enough for 40% noise, far
    # too few for 90%.
    def cells(suite, quick, trials, noises=bench.NOISE_RATIOS):
        # In the full suite's folder, whose runs the report lists.
        feasible = [dict(c, suite="tabular") for c in two_cells(suite, quick, trials)]
        return [*feasible, dict(feasible[0], noise=0.9)]

    monkeypatch.setattr(bench, "grid", cells)
    bench.run_suite(run_args(tmp_path, tiny_data_dir))
    out, err = capsys.readouterr()
    assert "ran 2 of 2 cells" in out and "skipped class splits: 1" in out
    assert "Skipped the cells of segment at 90% noise, trial 0: noise_ratio=0.9" in err
    feasible, infeasible = cells("tabular", True, 1)[:2], cells("tabular", True, 1)[2]
    for cell in feasible:
        read_cell(bench.cell_path(cell, tmp_path), cell)
    assert not bench.cell_path(infeasible, tmp_path).exists()
    lines = report.runs_section(tmp_path)
    assert any(
        "skipped, the class split cannot be drawn: segment at 90% noise, trial 0" in x
        for x in lines
    )


def test_a_split_that_cannot_be_drawn_skips_its_own_trial_only(
    tmp_path, tiny_data_dir, monkeypatch, capsys
):
    # Each trial draws its own IN classes: where trial 0's leave too few OOD
    # rows, trial 1's cells at that noise ratio still run.
    from skal_openset._datasets import _TooFewOODError

    make_split = bench.make_split

    def split(dataset, noise, trial, data_dir):
        if trial == 0:
            raise _TooFewOODError(noise, 90, 60, 10)
        return make_split(dataset, noise, trial, data_dir)

    def cells(suite, quick, trials, noises=bench.NOISE_RATIOS):
        return [dict(GRID(suite, quick, trials)[0], trial=t) for t in (0, 1)]

    monkeypatch.setattr(bench, "make_split", split)
    monkeypatch.setattr(bench, "grid", cells)
    bench.run_suite(run_args(tmp_path, tiny_data_dir))
    out = capsys.readouterr().out
    assert "ran 1 of 1 cells" in out and "skipped class splits: 1" in out
    first, second = cells("tabular", True, 1)
    assert not bench.cell_path(first, tmp_path).exists()
    read_cell(bench.cell_path(second, tmp_path), second)


def test_a_run_whose_every_split_cannot_be_drawn_fails_and_logs_nothing(
    tmp_path, tiny_data_dir, monkeypatch, capsys
):
    # It said "ran 0 of 0 cells", logged that run and exited 0.
    def cells(suite, quick, trials, noises=bench.NOISE_RATIOS):
        return [dict(c, noise=0.9) for c in two_cells(suite, quick, trials)]

    monkeypatch.setattr(bench, "grid", cells)
    with pytest.raises(ResultsError, match="None of the class splits .* lower --noise"):
        bench.run_suite(run_args(tmp_path, tiny_data_dir))
    assert "Skipped the cells of segment at 90% noise" in capsys.readouterr().err
    assert not (tmp_path / "cells").exists()


def test_a_data_error_stops_the_run_and_is_not_a_skipped_split(
    tmp_path, tiny_data_dir, monkeypatch
):
    # Every ValueError of the split, a bad value in the data file included,
    # was taken for a split that cannot be drawn: no cell ran, exit status 0.
    data = tmp_path / "data"
    (data / "tabular").mkdir(parents=True)
    lines = (tiny_data_dir / "tabular" / "segment.csv").read_text().splitlines()
    lines[5] = "n/a" + lines[5][lines[5].index(",") :]
    (data / "tabular" / "segment.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(bench, "grid", two_cells)
    with pytest.raises(ValueError, match="line 6, column 'f0': feature value 'n/a'"):
        bench.run_suite(run_args(tmp_path / "results", data))
    assert not (tmp_path / "results").exists()


def test_report_names_the_bad_file(tmp_path):
    folder = tmp_path / "cells" / "tabular"
    path = write_cell(folder / "c.json", content())
    path.write_text(path.read_text()[:-10])
    with pytest.raises(InvalidCellError, match=str(path)):
        report.load_cells(tmp_path, "tabular")
    path.unlink()
    (folder / "_runs.jsonl").write_text('{"command": "x"}\n{"comm')
    with pytest.raises(ValueError, match=r"_runs.jsonl, line 1: .* needs the keys"):
        report.runs_section(tmp_path)
    (folder / "_runs.jsonl").write_text('{"comm')
    with pytest.raises(ValueError, match=r"_runs.jsonl, line 1: not JSON"):
        report.runs_section(tmp_path)


def test_runs_section_lists_the_runs_of_every_reported_suite(tmp_path):
    # The classifiers suite's runs were left out of "How these were produced",
    # though RESULTS.md has a section of its cells.
    run = {"command": "x", "cells": 1, "ran": 1, "wall_seconds": 60.0}
    run |= {"machine": "m", "date": "d"}
    for suite in report.FULL_SUITES:
        folder = tmp_path / "cells" / suite
        folder.mkdir(parents=True)
        (folder / "_runs.jsonl").write_text(json.dumps(run | {"command": suite}))
    lines = report.runs_section(tmp_path)
    assert [x.split("`")[1] for x in lines if x.startswith("- ")] == list(
        report.FULL_SUITES
    )


def test_runs_section_gives_a_run_in_seconds_under_a_minute_else_minutes(tmp_path):
    # A cell rerun of 2.2 s read "in 0.0 min wall", as if it took no time.
    # From 60 s on, minutes: 60 and 84 s tell a threshold of 60 s from one
    # of 90 s, or 60 s itself given in seconds.
    folder = tmp_path / "cells" / "tabular"
    folder.mkdir(parents=True)
    run = {"command": "x", "cells": 1, "ran": 1, "machine": "m", "date": "d"}
    seconds = (2.23, 59.9, 60.0, 84.0, 90.0)
    runs = [run | {"wall_seconds": s} for s in seconds]
    (folder / "_runs.jsonl").write_text("\n".join(map(json.dumps, runs)) + "\n")
    lines = [x for x in report.runs_section(tmp_path) if x.startswith("- ")]
    walls = [x.split(" in ")[1].split(" on ")[0] for x in lines]
    assert walls == [
        "2.2 s wall",
        "59.9 s wall",
        "1.0 min wall",
        "1.4 min wall",
        "1.5 min wall",
    ]


def without_timing(content):
    records = [
        {k: v for k, v in r.items() if not k.endswith("seconds")}
        for r in content["records"]
    ]
    return json.dumps({**content, "records": records, "seconds": 0, "checksum": 0})


@pytest.mark.slow
def test_dask_backend_gives_the_same_cells_as_loky(
    tmp_path, tiny_data_dir, monkeypatch
):
    distributed = pytest.importorskip("distributed")
    # RANDOM, CONF, MQ-Net: the classifier and the selector seed torch's RNG.
    monkeypatch.setattr(bench, "grid", lambda *args: GRID(*args)[:2] + GRID(*args)[-1:])
    cells = bench.grid("tabular", True, 1)
    results = {}
    for backend in ("loky", "dask"):
        args = run_args(tmp_path / backend, tiny_data_dir, backend)
        args.n_jobs = 2
        if backend == "dask":
            # Threads: cells run side by side in one process, so this also
            # checks that seeded fits do not draw from each other's RNG.
            cluster = distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=False,
                dashboard_address=None,
            )
            with cluster, distributed.Client(cluster):
                bench.run_suite(args)
        else:
            bench.run_suite(args)
        results[backend] = [
            without_timing(read_cell(bench.cell_path(c, tmp_path / backend), c))
            for c in cells
        ]
    assert results["dask"] == results["loky"]


@pytest.mark.slow
def test_a_run_on_a_dask_scheduler_runs_there_and_logs_its_address(
    tmp_path, tiny_data_dir, monkeypatch
):
    # Copied from the run log without its --scheduler, a run on a cluster
    # reran on a local one.
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(bench, "grid", lambda *args: GRID(*args)[:2])
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    with cluster:
        address = cluster.scheduler_address
        _main(
            monkeypatch,
            *("--results-dir", str(tmp_path), "run", "tabular", "--quick"),
            *("--data-dir", str(tiny_data_dir), "--strategies", "RANDOM", "CONF"),
            *("--backend", "dask", "--scheduler", address),
        )
        prefixes = cluster.scheduler.task_prefixes
        ran = [p.state_counts["memory"] for k, p in prefixes.items() if "run_cell" in k]
        assert sum(ran) == 2  # both cells, on that cluster
    for cell in GRID("tabular", True, 1)[:2]:
        read_cell(bench.cell_path(cell, tmp_path), cell)
    log = tmp_path / "cells" / "tabular-quick" / "_runs.jsonl"
    assert json.loads(log.read_text())["command"].endswith(
        f" --n-jobs 2 --backend dask --scheduler {address}"
    )


def test_only_the_loss_head_columns_get_a_loss_head(
    tmp_path, tiny_data_dir, monkeypatch
):
    # The paper preset shares the other columns' net (so it ranks by CONF);
    # its "LL head" column and LL get the learning-loss head.
    heads = {}
    make_estimator = bench.make_estimator

    def spy(dataset, n_features, n_classes, learning_loss, seed, kind="mlp"):
        heads[strategy] = learning_loss
        return make_estimator(dataset, n_features, n_classes, learning_loss, seed, kind)

    monkeypatch.setattr(bench, "make_estimator", spy)
    for strategy in (
        "CONF",
        "LL",
        "MQ-Net (paper preset)",
        "MQ-Net (paper preset, LL head)",
    ):
        # One round, the initial fit: the net is built before any query.
        cell = dict(CELL, strategy=strategy, rounds=1)
        bench.run_cell(cell, tiny_data_dir, tmp_path)
    assert heads == {
        "CONF": False,
        "LL": True,
        "MQ-Net (paper preset)": False,
        "MQ-Net (paper preset, LL head)": True,
    }


@pytest.mark.slow
def test_an_auto_purity_cell_records_each_querys_purity_and_its_aurocs(
    tmp_path, tiny_data_dir
):
    # purity="auto" picks its score each round by held-out AUROC: the cell
    # keeps which it picked and why, round by round.
    cell = dict(CELL, strategy="MQ-Net", variant="input=auto+least_confidence")
    cell["rounds"] = 3
    records = read_cell(bench.run_cell(cell, tiny_data_dir, tmp_path), cell)["records"]
    assert "purity" not in records[0]  # round 1 fits the initial set, no query
    for record in records[1:]:
        aurocs = record["purity_auroc"]
        assert {"knn_contrast", "mahalanobis"} <= set(aurocs)
        assert all(0 <= auroc <= 1 for auroc in aurocs.values())
        assert record["purity"] in aurocs


class _Stop(Exception):
    """Stops a cell where it would start its run."""


def _what_a_cell_runs(monkeypatch, cell, data_dir, results):
    """What ``run_cell(cell)`` hands make_estimator and run_active_learning:
    ``{"estimator": its arguments, "split", "strategy", "learner", and
    run_active_learning's keywords}``; nothing is run or written."""
    seen = {}
    make_estimator = bench.make_estimator

    def estimator(*args):
        seen["estimator"] = args
        return make_estimator(*args)

    def run(split, learner, strategy, **kwargs):
        seen.update(split=split, learner=learner, strategy=strategy, **kwargs)
        raise _Stop

    monkeypatch.setattr(bench, "make_estimator", estimator)
    monkeypatch.setattr(bench, "run_active_learning", run)
    with pytest.raises(RuntimeError, match="_Stop"):
        bench.run_cell(cell, data_dir, results)
    return seen


def test_every_cell_of_a_trial_has_its_class_split_and_its_seeds(
    tmp_path, tiny_data_dir, monkeypatch
):
    # Comparisons within a trial are paired: every strategy and noise ratio of
    # a trial draws the same IN classes, and its net and strategy take the
    # trial as their seed; other trials draw other classes.
    in_classes = {}
    for trial, noise, strategy in product(
        (0, 1, 2), (0.1, 0.2, 0.4), ("RANDOM", "CONF", "LL", "MQ-Net")
    ):
        cell = dict(CELL, noise=noise, strategy=strategy, trial=trial, rounds=2)
        seen = _what_a_cell_runs(monkeypatch, cell, tiny_data_dir, tmp_path)
        *_, seed, kind = seen["estimator"]
        assert (seed, kind) == (trial, "mlp")
        assert seen["strategy"].random_state == trial
        in_classes.setdefault(trial, set()).add(tuple(seen["split"].in_classes))
    # 40% of the 7 classes, rounded: 3
    assert all(len(draws) == 1 for draws in in_classes.values()), in_classes
    assert all(len(next(iter(d))) == 3 for d in in_classes.values())
    assert len({next(iter(d)) for d in in_classes.values()}) > 1
    assert not list(tmp_path.rglob("*.json"))


def test_a_cell_runs_its_rounds_budget_and_cost_of_ood_labels(
    tmp_path, tiny_data_dir, monkeypatch
):
    # The initial set is one round's budget; the ablations' Table 6 cells
    # charge their cost_ood for an OOD label, the others 1.
    budget = bench.DATASETS["segment"]["budget"]
    for cost in (None, 2.0, 4.0):
        cell = dict(CELL, strategy="CONF", rounds=5)
        if cost is not None:
            cell["cost_ood"] = cost
        seen = _what_a_cell_runs(monkeypatch, cell, tiny_data_dir, tmp_path)
        assert (seen["n_rounds"], seen["budget"]) == (5, budget)
        assert seen["cost_ood"] == (1.0 if cost is None else cost)
        assert len(seen["split"].initial_idx) == budget


def test_a_cell_runs_the_classifier_and_the_ablation_its_name_says(
    tmp_path, tiny_data_dir, monkeypatch
):
    # The classifiers suite: the column's classifier, seeded by the trial.
    cell = dict(CELL, estimator="random_forest", strategy="CONF", trial=2, rounds=2)
    seen = _what_a_cell_runs(monkeypatch, cell, tiny_data_dir, tmp_path)
    assert seen["estimator"][-1] == "random_forest"
    learner = seen["learner"]
    assert type(learner).__name__ == "RandomForestClassifier"
    assert learner.random_state == 2
    # An input= ablation ranks by the purity and informativeness it names;
    # a learning-loss informativeness gets the net a loss head.
    for variant, head in (
        ("input=knn_contrast+learning_loss", True),
        ("input=energy+least_confidence", False),
    ):
        cell = dict(CELL, strategy="MQ-Net", variant=variant, rounds=2)
        seen = _what_a_cell_runs(monkeypatch, cell, tiny_data_dir, tmp_path)
        purity, informativeness = variant.removeprefix("input=").split("+")
        strategy = seen["strategy"]
        assert (strategy.purity, strategy.informativeness) == (purity, informativeness)
        assert seen["estimator"][3] is head


def _fashion_data_dir(root, n_train=2000, n_test=100):
    """A --data-dir whose fashion-mnist/ holds random IDX images, labels 0..9."""
    import gzip
    import struct

    folder = root / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for part, n in (("train", n_train), ("t10k", n_test)):
        for kind, array in (
            ("images-idx3", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
            ("labels-idx1", (np.arange(n) % 10).astype(np.uint8)),
        ):
            header = bytes([0, 0, 0x08, array.ndim])
            header += struct.pack(f">{array.ndim}I", *array.shape)
            with gzip.open(folder / f"{part}-{kind}-ubyte.gz", "wb") as f:
                f.write(header + array.tobytes())
    return root


def test_a_fashion_cell_trains_a_cnn_on_a_tenth_of_the_training_images(
    tmp_path, monkeypatch
):
    # A random tenth (the same for every cell) keeps the CNN suite to minutes;
    # the test set is all of the test images of the IN classes.
    data_dir = _fashion_data_dir(tmp_path / "data")
    cell = dict(CELL, dataset="fashion", strategy="CONF", trial=1, rounds=2)
    seen = _what_a_cell_runs(monkeypatch, cell, data_dir, tmp_path / "results")
    split, learner = seen["split"], seen["learner"]
    kept = (np.random.RandomState(0).rand(2000) < 0.1).nonzero()[0]
    is_in = np.isin(kept % 10, split.in_classes)
    assert len(split.in_classes) == 4  # 40% of the 10 classes
    assert (split.y_pool != -1).sum() == is_in.sum()  # every kept IN image
    assert len(split.y_test) == np.isin(np.arange(100) % 10, split.in_classes).sum()
    assert split.X_pool.shape[1:] == (1, 28, 28)
    assert learner.module.__name__ == "SmallCNNModule"
    assert (learner.max_epochs, learner.random_state) == (15, 1)
    assert seen["estimator"][3] is False  # CONF: no loss head


def test_each_mqnet_column_and_ablation_runs_what_its_name_says():
    # The rule alone, whatever the OOD share.
    assert bench.make_strategy("MQ-Net (no meta-model)", 3).rule_weight == 1
    # The learnt selector alone, from its random start.
    learnt = bench.make_strategy("MQ-Net (learnt meta-model)", 3)
    assert learnt.rule_weight == 0
    # The old "MQ-Net (paper)" column: exp-z meta-inputs, the latest query
    # set only, top-k without the diversity pool, least confidence.
    old = bench.make_strategy("MQ-Net (exp-z+latest+top-k)", 3).get_params()
    assert {k: old[k] for k in ("meta_input", "accumulate", "diversity_pool")} == {
        "meta_input": "exp_zscore",
        "accumulate": False,
        "diversity_pool": None,
    }
    assert (old["informativeness"], old["rule_weight"]) == ("least_confidence", 0)
    # Table 4: the learnt selector without its monotone (skyline) constraint.
    no_skyline = bench.make_strategy("MQ-Net", 3, "learnt-no-skyline")
    assert no_skyline.selector.monotone is False
    assert no_skyline.rule_weight == 0
    # LfOSA's IN probability as the purity, a callable, not the name "lfosa".
    lfosa = bench.make_strategy("MQ-Net", 3, "input=lfosa+least_confidence")
    assert callable(lfosa.purity)
    assert lfosa.informativeness == "least_confidence"


def test_the_grid_pairs_every_strategy_on_each_trial_and_noise_ratio():
    # Every (data set, noise, trial) of the tabular suite runs every column
    # once, for its data set's rounds.
    cells = bench.grid("tabular", False, 3)
    keys = Counter((c["dataset"], c["noise"], c["trial"]) for c in cells)
    assert set(keys.values()) == {len(bench.STRATEGIES)}
    assert sorted({k[1] for k in keys}) == list(bench.NOISE_RATIOS)
    assert {k[2] for k in keys} == {0, 1, 2}
    assert all(c["rounds"] == bench.DATASETS[c["dataset"]]["rounds"] for c in cells)
    # --quick: one trial of segment at 40% noise, 3 rounds, in a folder of its
    # own, whatever the noise ratios asked for.
    quick = bench.grid("tabular", True, 3, (0.1, 0.2))
    assert {(c["suite"], c["dataset"], c["noise"], c["trial"]) for c in quick} == {
        ("tabular-quick", "segment", 0.4, 0)
    }
    assert {c["rounds"] for c in quick} == {3}
    # --noise restricts the fashion suite too.
    fashion = bench.grid("fashion", False, 2, (0.2,))
    assert {c["noise"] for c in fashion} == {0.2}
    assert len(fashion) == 2 * len(bench.STRATEGIES)


def test_the_ablations_grid_runs_each_table_where_its_docstring_says():
    cells = bench.grid("ablations", False, 3)
    variants = {}
    for c in cells:
        if "variant" in c:
            variants.setdefault((c["dataset"], c["noise"]), set()).add(c["variant"])
    paper = {v for v in bench.ABLATIONS if v.startswith("paper-preset")}
    # Every ablation but the paper preset's on penbased at 20% and 60%.
    assert variants[("penbased", 0.2)] == variants[("penbased", 0.6)]
    assert variants[("penbased", 0.2)] == set(bench.ABLATIONS) - paper
    # letter, where the paper preset trails most: the configurations and it.
    for noise in (0.4, 0.6):
        assert variants[("letter", noise)] == {
            *bench.ABLATIONS[:2],
            *bench.MQNET_CONFIGS,
            *paper,
        }
    assert variants[("fashion", 0.4)] == {
        *bench.ABLATIONS[:3],
        "input=auto+least_confidence",
        "learnt",
    }
    assert len(variants) == 5
    # A CNN cell costs about ten tabular ones: two trials of Fashion-MNIST.
    assert {c["trial"] for c in cells if c["dataset"] == "fashion"} == {0, 1}
    assert {c["trial"] for c in cells if c["dataset"] != "fashion"} == {0, 1, 2}
    # Table 6: each OOD labelling cost, six columns, penbased at 40%.
    costs = [c for c in cells if "cost_ood" in c]
    assert {(c["dataset"], c["noise"]) for c in costs} == {("penbased", 0.4)}
    assert Counter(c["cost_ood"] for c in costs) == dict.fromkeys(
        (0.5, 1.0, 2.0, 4.0), 6 * 3
    )
    assert all("variant" not in c for c in costs)
    assert {c["rounds"] for c in cells if c["dataset"] == "letter"} == {8}
    # --quick: two input ablations of segment at 40%, in a folder of their own.
    quick = bench.grid("ablations", True, 3)
    assert [(c["suite"], c["dataset"], c["noise"], c["variant"]) for c in quick] == [
        ("ablations-quick", "segment", 0.4, "input=knn_contrast+margin"),
        ("ablations-quick", "segment", 0.4, "input=energy+least_confidence"),
    ]


@pytest.mark.parametrize("suite", ["tabular", "fashion", "ablations", "classifiers"])
@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_every_cell_of_a_suite_has_a_file_of_its_own(suite, quick):
    # Two cells of one file name would overwrite each other: one of them
    # missing from the report, the other rerun by every run.
    cells = bench.grid(suite, quick, 3)
    assert len({bench.cell_path(c) for c in cells}) == len(cells)


def test_a_grid_of_a_folder_name_is_refused():
    # "tabular-quick" names the quick cells' folder, not a suite.
    with pytest.raises(ValueError, match="unknown suite 'tabular-quick'"):
        bench.grid("tabular-quick", False, 3)


def test_the_paper_preset_ablations_change_one_thing_each():
    paper = MQNetQuery.paper(random_state=3)
    expected = {
        "paper-preset": clone(paper),
        "paper-preset+purity=knn_contrast": clone(paper).set_params(
            purity="knn_contrast"
        ),
        "paper-preset+adam-selector": clone(paper).set_params(
            selector=MetaQueryNetSelector(random_state=3)
        ),
    }
    for variant, strategy in expected.items():
        assert repr(bench.make_strategy("MQ-Net", 3, variant)) == repr(strategy)
    assert len({repr(s) for s in expected.values()}) == 3


def test_the_random_validation_ablation_runs_on_rows_no_query_returned():
    # Its update learns from a random pool sample, which MQ-Net's check that
    # update rows came from a query refused: the ablation could not run.
    split = make_open_set_split(
        *load_digits_dataset(),
        in_classes=[0, 1, 2],
        noise_ratio=0.4,
        initial_size=20,
        random_state=0,
    )
    strategy = bench.make_strategy("MQ-Net", 3, "learnt-random-validation", split=split)
    learners = []
    records = run_active_learning(
        split,
        LogisticRegression(max_iter=200),
        strategy,
        n_rounds=3,
        budget=10,
        callback=lambda record, learner: learners.append(learner),
    )
    assert [r["round"] for r in records] == [1, 2, 3]
    fitted = learners[-1].query_strategy_
    # It learnt from two updates of 10 random pool rows each.
    assert len(fitted.validation_target_) == 20
    # Those rows reached the meta-model only: a learner that holds what was
    # taught continues the campaign. It was refused as "another learner" when
    # the validation rows were recorded as the ones taught.
    handed_over = copy.copy(learners[-1])
    assert handed_over.query_strategy_ is fitted
    _, X_query = handed_over.query(split.X_pool[:50], n_instances=5)
    # A query of OOD rows only teaches no IN row: what the learner holds
    # still continues the campaign.
    fitted.update(handed_over, X_query, np.full(5, handed_over.ood_label_))
    copy.copy(handed_over).query(split.X_pool[:50], n_instances=5)
    with pytest.raises(ValueError, match="X_query has 5 rows but y_query has 4"):
        fitted.update(handed_over, X_query, np.full(4, handed_over.ood_label_))


def test_a_fixed_balance_column_ranks_by_its_weight_from_the_second_query():
    strategy = bench.make_strategy("MQ-Net (fixed balance w=0.25)", 3)
    assert strategy.selector.purity_weight == 0.25
    # Whatever the OOD share: the default rule_weight="auto" would take the rule.
    assert strategy.rule_weight == 0
    Z = [[0.9, 0.1], [0.2, 0.6]]
    assert clone(strategy.selector).fit(Z, [1.0, 0.0]).predict(Z).tolist() == [
        0.9 * 0.25 + 0.1 * 0.75,
        0.2 * 0.25 + 0.6 * 0.75,
    ]


def test_the_landscape_draws_the_query_of_its_round_only():
    # With accumulate=True the strategy keeps every query set so far, each on
    # its own round's scale; the figure drew them all as this round's query.
    strategy = SimpleNamespace(
        pool_meta_input_=np.ones((10, 2)),
        selector_=SimpleNamespace(predict=lambda Z: Z.sum(axis=1)),
        validation_meta_input_=np.arange(12.0).reshape(6, 2),
        validation_target_=np.array([0.5, 0.0, 0.2, 0.3, 0.0, 0.4]),
        validation_round_=np.array([0, 0, 1, 1, 2, 2]),
    )
    snapshot = bench._landscape_snapshot(4, strategy)
    assert snapshot["query"] == [[8.0, 9.0], [10.0, 11.0]]
    assert snapshot["query_is_in"] == [False, True]


def test_the_report_draws_the_query_its_round_bought_from_any_cell(tmp_path):
    # Cells written before 86146f4 keep every earlier query set before it.
    cell = content(rounds=3)
    snap = dict(query=[[0, 0], [1, 1], [2, 2]], query_is_in=[True, False, True])
    cell["landscapes"] = [dict(snap, round=2), dict(snap, round=3)]
    cell["records"][1]["query_size"] = 2
    cell["records"][2]["query_size"] = 0  # a round that bought nothing
    write_cell(tmp_path / "cells" / CELL["suite"] / "c.json", cell)
    [(_, snaps)] = report.load_cells(tmp_path, CELL["suite"])[1]
    assert [s["query"] for s in snaps] == [[[1, 1], [2, 2]], []]
    assert [s["query_is_in"] for s in snaps] == [[False, True], []]


def test_the_mqnet_column_is_the_defaults_and_the_learnt_column_a_random_start():
    defaults = bench.make_strategy("MQ-Net", 3)
    assert repr(defaults) == repr(MQNetQuery(random_state=3))
    rule_start = bench.make_strategy("MQ-Net (started from the rule)", 3)
    assert rule_start.selector.get_params()["init"] == "rule"
    assert rule_start.rule_weight == 0  # the start alone differs from the learnt
    for name in ("MQ-Net (learnt meta-model)", "MQ-Net (exp-z+latest+top-k)"):
        selector = bench.make_strategy(name, 3).selector
        assert repr(selector) == repr(MetaQueryNetSelector(random_state=3))
    # The ablations keep the random start they were measured with.
    for variant in bench.ABLATIONS:
        strategy = bench.make_strategy("MQ-Net", 3, variant, split=_NoSplit)
        assert strategy.selector.get_params()["init"] == "random", variant


class _NoSplit:  # the random-validation ablation reads its pool from the split
    X_pool = y_pool = None


def _main(monkeypatch, *argv):
    """openset_benchmark.py's command line; its default results are a guard."""
    monkeypatch.setattr(sys, "argv", ["openset_benchmark.py", *argv])
    bench.main()


@pytest.mark.parametrize(
    "argv, message",
    [
        # --quick runs one trial at 40% noise: a run log of another would lie.
        (["tabular", "--quick", "--noise", "0.1"], "--quick runs one trial at 40%"),
        (["tabular", "--quick", "--trials", "5"], "--quick runs one trial at 40%"),
        (["classifiers", "--noise", "0.1"], "--noise applies to the tabular and"),
        (
            ["tabular", "--noise", "1.5"],
            "argument --noise: must be in [0, 1) (0.4 for 40%)",
        ),
        (["tabular", "--noise", "-0.2"], "argument --noise: must be in [0, 1)"),
        (
            ["tabular", "--trials", "0"],
            "argument --trials: must be a positive integer, got 0",
        ),
        (["tabular", "--n-jobs", "0"], "argument --n-jobs: 0 jobs run nothing"),
        (
            ["tabular", "--n-jobs", "all"],
            "argument --n-jobs: must be an integer number of jobs, got all",
        ),
        # Each cell was listed, run and logged twice.
        (["tabular", "--noise", "0.4", "0.4"], "--noise lists 0.4 twice; give each"),
        (
            ["classifiers", "--quick", "--strategies", "LL"],
            "the classifiers --quick suite has no cells of ['LL']; choose from",
        ),
        # A joblib traceback after the data were loaded; a scheduler unused.
        (
            ["tabular", "--quick", "--backend", "foo"],
            "--backend 'foo' is no joblib backend",
        ),
        (
            ["tabular", "--quick", "--scheduler", "x:1"],
            "--scheduler applies to --backend dask",
        ),
        # A traceback of ModuleNotFoundError (dask is in the dev extra only).
        (
            ["tabular", "--quick", "--backend", "dask"],
            "--backend dask needs dask's distributed package: pip install",
        ),
    ],
)
def test_a_bad_run_is_one_line_of_error_and_logs_nothing(
    tmp_path, tiny_data_dir, monkeypatch, capsys, argv, message
):
    # The tiny data hold segment only.
    monkeypatch.setattr(
        bench, "grid", lambda *a: [c for c in GRID(*a) if c["dataset"] == "segment"]
    )
    results = tmp_path / "results"
    suite, *options = argv
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(SystemExit) as info:
        _main(
            monkeypatch,
            *("--results-dir", str(results), "run", suite),
            # One cell, where the old scripts ran: a later --strategies wins.
            *("--strategies", "RANDOM", *options, "--data-dir", str(tiny_data_dir)),
        )
    assert info.value.code == 2
    (error,) = [
        line for line in capsys.readouterr().err.splitlines() if "error" in line
    ]
    assert error.startswith("openset_benchmark.py run: error: ")
    assert message in error
    assert not results.exists()


def test_a_missing_table_is_named_before_any_cell_runs(
    tmp_path, tiny_data_dir, monkeypatch, capsys
):
    # tiny_data_dir holds segment.csv only: letter's first cell ended in a
    # traceback.
    results = tmp_path / "results"
    with pytest.raises(SystemExit) as info:
        _main(
            monkeypatch,
            *("--results-dir", str(results), "run", "tabular", "--trials", "1"),
            *("--noise", "0.4", "--strategies", "RANDOM"),
            *("--data-dir", str(tiny_data_dir)),
        )
    assert info.value.code == 2
    letter = tiny_data_dir / "tabular" / "letter.csv"
    assert f"error: the letter table {letter} is missing" in capsys.readouterr().err
    assert not results.exists()


def test_a_cell_whose_pool_ran_out_is_refused_not_written(tmp_path):
    # Its 2 records were written for a cell of 3 rounds: the report refused
    # the file, and every rerun wrote it again.
    (tmp_path / "data" / "tabular").mkdir(parents=True)
    X, y = make_blobs(60, 19, centers=7, random_state=0)
    lines = [",".join([f"f{i}" for i in range(19)] + ["label"])]
    lines += [",".join([*(f"{v:.4f}" for v in row), str(c)]) for row, c in zip(X, y)]
    (tmp_path / "data" / "tabular" / "segment.csv").write_text("\n".join(lines))
    args = run_args(tmp_path / "results", tmp_path / "data", strategies=["RANDOM"])
    with (
        pytest.raises(RuntimeError, match="pool ran out after round 2 of 3"),
        pytest.warns(RuntimeWarning, match="ran out after round 2: .* of n_rounds=3"),
    ):
        bench.run_suite(args)
    assert not list((tmp_path / "results").rglob("*.json"))


def test_a_data_folder_one_level_too_deep_is_named(
    tmp_path, tiny_data_dir, monkeypatch, capsys
):
    # --data-dir .../data/tabular ran, and failed at its first cell, a traceback.
    deep = tiny_data_dir / "tabular"
    results = tmp_path / "results"
    with pytest.raises(SystemExit) as info:
        _main(
            monkeypatch,
            *("--results-dir", str(results), "run", "tabular", "--quick"),
            *("--data-dir", str(deep)),
        )
    assert info.value.code == 2
    assert (
        f"error: the tabular/ folder {deep / 'tabular'} is missing; pass --data-dir"
        in capsys.readouterr().err
    )
    assert not results.exists()


def test_a_missing_default_data_folder_is_named(tmp_path, monkeypatch, capsys):
    missing = tmp_path / "shared" / "data"
    monkeypatch.setattr(bench, "DEFAULT_DATA", missing)
    results = tmp_path / "results"
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, "--results-dir", str(results), "run", "tabular", "--quick")
    assert info.value.code == 2
    assert (
        f"error: the data folder {missing} is missing; pass --data-dir"
        in capsys.readouterr().err
    )
    assert not results.exists()


def test_n_jobs_takes_joblib_counts():
    from skal_openset._argtypes import job_count

    assert [job_count(text) for text in ("1", "4", "-1", "-2")] == [1, 4, -1, -2]


@pytest.mark.parametrize(
    "name, accepted, refused",
    [
        # A noise ratio: 0 (no OOD) up to, not including, 1 (no IN).
        ("ratio", ["0", "0.4", "0.999"], ["1", "-0.1", "nan"]),
        # A test share: strictly between 0 and 1.
        ("share", ["0.001", "0.5", "0.999"], ["0", "1", "nan"]),
        # NumPy's seeds: [0, 2**32).
        ("random_seed", ["0", str(2**32 - 1)], ["-1", str(2**32)]),
        # A budget or a cost: finite and above 0.
        ("positive_float", ["1e-9", "1e308"], ["0", "inf", "nan"]),
    ],
)
def test_argument_types_take_their_whole_range_and_refuse_its_bounds(
    name, accepted, refused
):
    from skal_openset import _argtypes

    convert = getattr(_argtypes, name)
    for text in accepted:
        convert(text)
    for text in refused:
        with pytest.raises(argparse.ArgumentTypeError, match=f"got {text}$"):
            convert(text)


def test_csv_list_strips_each_name_and_keeps_a_quoted_comma():
    from skal_openset._argtypes import csv_list

    assert csv_list('cat , cow,"x, y" ') == ["cat", "cow", "x, y"]


def test_compare_cells_stops_at_a_cell_file_that_cannot_be_read(tmp_path, capsys):
    # It said "cannot be read as JSON ... delete it" of a file not known to
    # be damaged.
    import compare_cells

    for folder in "ab":
        write_cell(tmp_path / folder / "cells" / "tabular" / "x.json", content())
    (tmp_path / "b" / "cells" / "tabular" / "y.json").mkdir()
    args = [str(tmp_path / "a"), str(tmp_path / "b"), "tabular"]
    assert compare_cells.main(args) == 3
    assert capsys.readouterr().err.startswith(
        f"benchmark cell {tmp_path / 'b' / 'cells' / 'tabular' / 'y.json'} cannot "
        "be read (Is a directory); it is left as it is"
    )


def test_compare_cells_names_the_cells_that_differ(tmp_path, capsys):
    import compare_cells

    def results(folder, accuracies):
        for name, accuracy in accuracies.items():
            cell = content()
            cell["records"][-1]["test_accuracy"] = accuracy
            cell["seconds"] = 10 * accuracy  # timings never count
            write_cell(tmp_path / folder / "cells" / "tabular" / name, cell)
        return str(tmp_path / folder)

    committed = results("a", {"x.json": 0.5, "y.json": 0.7})
    assert (
        compare_cells.main([committed, results("b", {"x.json": 0.5}), "tabular"]) == 0
    )
    assert "1 of 1 cells" in capsys.readouterr().out
    rerun = results("c", {"x.json": 0.5, "y.json": 0.75, "z.json": 0.5})
    assert compare_cells.main([committed, rerun, "tabular"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "y.json: final accuracy 70.00 -> 75.00"
    assert lines[1].startswith("z.json: not in ")
    assert lines[2].startswith("tabular: 1 of 3 cells of ")
    assert lines[3] == (
        "final accuracy of the 1 that differ: mean change +5.00, mean absolute "
        "5.00, from +5.00 to +5.00 points"
    )


def test_compare_cells_sums_up_changes_of_both_signs(tmp_path, capsys):
    # Changes of +6, -3 and -1 points: mean +0.67, mean absolute 3.33, where
    # the mean's absolute value (0.67) or the median (-1) would hide the spread.
    import compare_cells

    def results(folder, accuracies):
        for name, accuracy in zip(("x.json", "y.json", "z.json"), accuracies):
            cell = content()
            cell["records"][-1]["test_accuracy"] = accuracy
            write_cell(tmp_path / folder / "cells" / "tabular" / name, cell)
        return str(tmp_path / folder)

    committed = results("a", (0.5, 0.5, 0.5))
    rerun = results("b", (0.56, 0.47, 0.49))
    assert compare_cells.main([committed, rerun, "tabular"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        "final accuracy of the 3 that differ: mean change +0.67, mean absolute "
        "3.33, from -3.00 to +6.00 points"
    )


def _compare_cells_script(tmp_path, reference, stdout, **env):
    """Run compare_cells.py on `reference` and a folder of one cell more,
    both in `tmp_path`, with `stdout` and `env` added to the environment."""
    import compare_cells

    cell = content()
    write_cell(tmp_path / reference / "cells" / "tabular" / "x.json", cell)
    for name in ("x.json", "y.json"):
        write_cell(tmp_path / "rerun" / "cells" / "tabular" / name, cell)
    env = dict(
        os.environ, PYTHONPATH=str(Path(compare_cells.__file__).parents[1]), **env
    )
    env.pop("PYTHONUNBUFFERED", None)  # buffered, as for a user
    return subprocess.run(
        [sys.executable, compare_cells.__file__, reference, "rerun", "tabular"],
        cwd=tmp_path,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=300,
    )


def test_compare_cells_into_a_pipe_its_reader_quit_ends_without_a_traceback(
    tmp_path,
):
    # `compare_cells.py ... | head -1`: a traceback and "Exception ignored ...
    # BrokenPipeError" as Python exited, status 120 (or 1, read as "differs").
    read, write = os.pipe()
    os.close(read)
    try:
        done = _compare_cells_script(tmp_path, "a", write)
    finally:
        os.close(write)
    assert (done.stderr, done.returncode) == ("", 141)  # 128 + SIGPIPE


def test_compare_cells_prints_a_path_its_stdout_cannot_encode_escaped(tmp_path):
    # PYTHONIOENCODING=ascii: a UnicodeEncodeError traceback once the cells
    # were compared, status 1, read as "differs".
    done = _compare_cells_script(
        tmp_path, "r\u00e9f", subprocess.PIPE, PYTHONIOENCODING="ascii"
    )
    assert done.stderr == ""
    assert done.stdout.splitlines()[0] == "y.json: not in r\\xe9f"
    assert done.returncode == 1  # a cell has no counterpart


def test_a_script_whose_output_reader_quit_stops_with_one_line(capsys, monkeypatch):
    # A benchmark run piped into `| head` or `| tee` that was stopped: the
    # next progress line raised BrokenPipeError, a traceback.
    import _common

    read, write = os.pipe()
    os.close(read)
    with open(write, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        with pytest.raises(SystemExit) as exit_, _common.stopped_by_signals("kept"):
            print("a progress line", flush=True)
    assert exit_.value.code == 141
    assert capsys.readouterr().err == (
        "Interrupted (the command reading its output quit): kept.\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize(
    "said, then",
    [
        (("cells kept", "rerun for the rest"), "rerun for the rest"),
        (("kept",), "rerun it"),
    ],
    ids=["rerun", "no-rerun"],
)
@pytest.mark.parametrize(
    "write",
    [
        lambda: print("a progress line", flush=True),
        lambda: (sys.stdout.buffer.write(b"an image"), sys.stdout.buffer.flush()),
    ],
    ids=["print", "buffer"],
)
def test_a_scripts_output_refused_amid_its_run_says_what_is_kept(
    capsys, monkeypatch, said, then, write
):
    # A full disk mid-run said "free some disk space, then rerun it", where a
    # Ctrl-C said that the finished cells are kept and how a rerun goes on. A
    # timing script gives no rerun ("no table written"): the remedy's own.
    # So too for bytes written to stdout's buffer (Pillow's image).
    import _common

    monkeypatch.setattr(sys, "argv", ["run.py"])
    with open("/dev/full", "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        with pytest.raises(SystemExit) as exit_, _common.stopped_by_signals(*said):
            write()
    assert exit_.value.code == 1
    assert capsys.readouterr().err == (
        f"run.py: error: [Errno 28] No space left on device; {said[0]}: free some "
        f"disk space, then {then}.\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_scripts_help_refused_says_nothing_of_what_its_run_keeps(capsys, monkeypatch):
    # Parsed inside stopped_by_signals, a --help that a full disk refuses is
    # no run's: "no table written" or "cells kept" would say nothing of it.
    import _common

    with open("/dev/full", "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        with (
            pytest.raises(SystemExit) as exit_,
            _common.stopped_by_signals("cells kept", "rerun for the rest"),
        ):
            Parser(prog="run.py").parse_args(["--help"])
    assert exit_.value.code == 1
    assert capsys.readouterr().err == (
        "run.py: error: [Errno 28] No space left on device; free some disk space, "
        "then rerun it.\n"
    )


def test_a_script_whose_other_pipe_broke_fails_with_its_traceback(capsys):
    # A worker's or a subprocess's pipe, the output a terminal: "Interrupted
    # (the command reading its output quit)", status 141, a failure hidden.
    import _common

    with pytest.raises(BrokenPipeError), _common.stopped_by_signals("kept"):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")
    assert capsys.readouterr().err == ""


def test_compare_cells_compares_every_round_and_each_query(tmp_path, capsys):
    # Two runs that end at the same accuracy are other runs where an earlier
    # round's accuracy, a query's size or its IN share differ.
    import compare_cells

    changes = {
        "earlier.json": lambda records: records[0].update(test_accuracy=0.25),
        "same.json": lambda records: None,
        "share.json": lambda records: records[1].update(query_in_share=0.65),
        "size.json": lambda records: records[1].update(query_size=19),
    }
    for folder in ("a", "b"):
        for name, change in changes.items():
            cell = content()
            if folder == "b":
                change(cell["records"])
            write_cell(tmp_path / folder / "cells" / "tabular" / name, cell)
    args = [str(tmp_path / "a"), str(tmp_path / "b"), "tabular"]
    assert compare_cells.main(args) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        f"{name}: final accuracy 50.00 -> 50.00"
        for name in ("earlier.json", "share.json", "size.json")
    ]
    assert lines[3].startswith("tabular: 1 of 4 cells of ")


def test_compare_cells_refuses_an_empty_rerun_and_reads_cifar_cells(tmp_path, capsys):
    # A rerun folder without cells counted as reproducing (exit 0), and the
    # plain JSON cells of cifar.py were called damaged.
    import compare_cells

    cell = content()
    write_cell(tmp_path / "a" / "cells" / "tabular" / "x.json", cell)
    (tmp_path / "b" / "cells" / "tabular").mkdir(parents=True)
    with pytest.raises(SystemExit):
        compare_cells.main([str(tmp_path / "a"), str(tmp_path / "b"), "tabular"])
    assert "b has no cells of the suite 'tabular'" in capsys.readouterr().err
    for folder in ("a", "b"):
        path = tmp_path / folder / "cells" / "cifar-tiny" / "x.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(cifar_content()))
    args = [str(tmp_path / "a"), str(tmp_path / "b"), "cifar-tiny"]
    assert compare_cells.main(args) == 0
    assert "cifar-tiny: 1 of 1 cells" in capsys.readouterr().out


@pytest.mark.parametrize("suite", ["tabular", "cifar-tiny"])
def test_compare_cells_names_a_damaged_cell_in_one_line(tmp_path, capsys, suite):
    # A traceback, with exit status 1 as for cells that differ (CIFAR cells,
    # read as plain JSON, until they were read as the others); then status 2,
    # as for a usage error.
    import compare_cells

    cell = cifar_content() if suite.startswith("cifar-") else content()
    for folder in ("a", "b"):
        write_cell(tmp_path / folder / "cells" / suite / "x.json", cell)
    damaged = tmp_path / "b" / "cells" / suite / "x.json"
    damaged.write_text(damaged.read_text()[:-10])
    args = [str(tmp_path / "a"), str(tmp_path / "b"), suite]
    assert compare_cells.main(args) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"benchmark cell {damaged}: cannot be read as JSON")
    assert err.endswith("runs the cell again), then compare again.\n")


def _kernel_path_cells(folder, accuracies):
    """Cells named ``<strategy>-<trial>.json`` with these final accuracies."""
    for (strategy, trial), accuracy in accuracies.items():
        cell = content()
        cell["cell"].update(strategy=strategy, trial=trial)
        cell["records"][-1]["test_accuracy"] = accuracy
        write_cell(folder / "cells" / "tabular" / f"{strategy}-{trial}.json", cell)


def test_kernel_paths_counts_each_strategys_cells_that_moved(
    tmp_path, four_tables_data_dir, monkeypatch, capsys
):
    import kernel_paths

    reference = {("RANDOM", 0): 0.5, ("RANDOM", 1): 0.6, ("CONF", 0): 0.7}
    reference[("CONF", 1)] = 0.7
    moved = {**reference, ("RANDOM", 1): 0.62}
    capabilities = {"avx512": "AVX2", "avx2": "AVX2", "default": "DEFAULT"}
    folders = {"avx2": reference, "default": moved}
    monkeypatch.setattr(kernel_paths, "_capability", capabilities.get)
    monkeypatch.setattr(
        kernel_paths,
        "_run",
        lambda path, folder, args: _kernel_path_cells(folder, folders[path]),
    )
    output = tmp_path / "new" / "kernel_paths.md"  # its folder is made
    argv = ["tabular", "--strategies", "RANDOM", "CONF", "--work-dir", str(tmp_path)]
    argv += ["--data-dir", str(four_tables_data_dir)]  # the runs are faked
    kernel_paths.main([*argv, "--versus", "RANDOM", "CONF", "--output", str(output)])
    text = output.read_text()
    # A CPU without AVX-512: avx512 runs as AVX2, so avx2 is the reference;
    # avx512 was the reference, and avx2 left out.
    assert (
        "): `avx2` (AVX2), `default` (DEFAULT); left out: `avx512` (this CPU " in text
    )
    assert "lacks it: runs it as `AVX2`)." in text
    assert "same run as with `avx2`" in text
    assert "| RANDOM | 1 of 2; the others 2.00 on average (+2.00 to +2.00) |" in text
    assert "| CONF | 2 of 2 |" in text
    # RANDOM minus CONF on the two class splits: -20 and -10 points with
    # avx512, -20 and -8 with default; averaged over the paths, -20 and -9.
    row = text.splitlines()[-1]
    assert row.startswith("| 40% | -15.00 [") and row.endswith("| 2 |")
    assert " | -14.00 [" in row and " | -14.50 [" in row
    # One kernel path only: nothing to compare, and argparse says so.
    monkeypatch.setattr(kernel_paths, "_capability", lambda path: "AVX2")
    with pytest.raises(SystemExit) as exit_:
        kernel_paths.main([*argv, "--output", str(output)])
    assert exit_.value.code == 2
    assert "nothing to compare" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        kernel_paths.main([*argv, "--versus", "RANDOM", "BADGE"])
    assert "--versus compares two of the --strategies" in capsys.readouterr().err
    # A second --versus replaced the first, without a word: each is reported,
    # and each checked.
    monkeypatch.setattr(kernel_paths, "_capability", capabilities.get)
    pairs = ["--versus", "RANDOM", "CONF", "--versus", "CONF", "RANDOM"]
    kernel_paths.main([*argv, *pairs, "--output", str(output)])
    text = output.read_text()
    assert "`RANDOM` minus `CONF` (points)" in text
    assert "`CONF` minus `RANDOM` (points)" in text
    with pytest.raises(SystemExit):
        kernel_paths.main([*argv, "--versus", "RANDOM", "BADGE", *pairs])
    assert "--versus compares two of the --strategies" in capsys.readouterr().err
    # One kernel path asked for: refused before its cells ran, not after.
    monkeypatch.setattr(kernel_paths, "_run", None)
    with pytest.raises(SystemExit) as exit_:
        kernel_paths.main([*argv, "--paths", "avx2"])
    assert exit_.value.code == 2
    assert "--paths lists one kernel path" in capsys.readouterr().err

    # A run that fails (e.g. a wrong --data-dir) has said why: its status, one line.
    def failed(path, folder, args):
        raise subprocess.CalledProcessError(2, ["openset_benchmark.py"])

    monkeypatch.setattr(kernel_paths, "_run", failed)
    with pytest.raises(SystemExit) as exit_:
        kernel_paths.main(argv)
    assert exit_.value.code == 2
    assert "ATEN_CPU_CAPABILITY=avx2 stopped with exit status 2" in (
        capsys.readouterr().err
    )
    # A missing data folder is refused before any run, and so is one a level
    # too deep (each run then failed, with a traceback).
    monkeypatch.setattr(kernel_paths, "_run", None)
    for data_dir in (tmp_path / "none", four_tables_data_dir / "tabular"):
        with pytest.raises(SystemExit):
            kernel_paths.main([*argv, "--data-dir", str(data_dir)])
        assert "is missing; pass --data-dir" in capsys.readouterr().err


def test_kernel_paths_runs_the_benchmark_with_its_options_on_each_path(
    tmp_path, four_tables_data_dir, monkeypatch
):
    # The command as the benchmark's own command line reads it, its cells
    # not run.
    import kernel_paths

    ran = []

    def run_script(command, env):
        assert command[:2] == [sys.executable, str(bench.HERE / "openset_benchmark.py")]
        monkeypatch.setattr(sys, "argv", command[1:])
        monkeypatch.setattr(bench, "run_suite", lambda args: ran.append(vars(args)))
        bench.main()
        ran[-1]["ATEN_CPU_CAPABILITY"] = env["ATEN_CPU_CAPABILITY"]

    monkeypatch.setattr(kernel_paths, "run_script", run_script)
    strategies = ["RANDOM", "MQ-Net (exp-z+latest+top-k)"]
    args = argparse.Namespace(
        suite="tabular",
        trials=3,
        noise=[0.4, 0.6],
        strategies=strategies,
        n_jobs=2,
        data_dir=four_tables_data_dir,
    )
    kernel_paths._run("avx2", tmp_path / "avx2", args)
    (run,) = ran
    assert run == {
        **run,
        "command": "run",
        "results_dir": tmp_path / "avx2",
        "suite": "tabular",
        "quick": False,
        "trials": 3,
        "noise": [0.4, 0.6],
        "strategies": strategies,
        "n_jobs": 2,
        "data_dir": four_tables_data_dir,
        "ATEN_CPU_CAPABILITY": "avx2",
    }


def test_kernel_paths_reads_the_path_torch_takes_as_the_path_upper_cased():
    # main leaves out a path whose capability is not its name upper-cased
    # (torch's fallback); every CPU has the default path.
    import kernel_paths

    assert kernel_paths._capability("default") == "DEFAULT"


def test_a_failing_cell_is_named(tmp_path, tiny_data_dir, monkeypatch):
    # A worker's traceback named no data set, noise or trial.
    def broken(*args, **kwargs):
        raise ValueError("no such strategy here")

    monkeypatch.setattr(bench, "make_strategy", broken)
    cell = dict(CELL, strategy="CONF", rounds=2)
    name = bench.cell_path(cell, tmp_path).name
    with pytest.raises(RuntimeError, match=f"{name} failed: ValueError: no such"):
        bench.run_cell(cell, tiny_data_dir, tmp_path)


@pytest.mark.parametrize(
    "jobs",
    [
        ["--n-jobs", "1"],
        # One job too, which progress lines on joblib's part still hid.
        ["--n-jobs", "2", "--backend", "sequential"],
        ["--n-jobs", str(-(os.cpu_count() or 1) - 1)],
    ],
)
def test_a_failing_cell_in_one_job_raises_its_own_error(
    tmp_path, tiny_data_dir, monkeypatch, jobs
):
    # With verbose progress, joblib >= 1.5 raised its own AttributeError
    # ('_pre_dispatch_amount') over the error of a task after the first.
    make_strategy, calls = bench.make_strategy, []

    def broken(*args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            raise ValueError("no such strategy here")
        return make_strategy(*args, **kwargs)

    monkeypatch.setattr(bench, "make_strategy", broken)
    argv = ["openset_benchmark.py", "--results-dir", str(tmp_path), "run", "tabular"]
    argv += ["--quick", "--strategies", "RANDOM", "CONF", *jobs]
    monkeypatch.setattr(sys, "argv", argv + ["--data-dir", str(tiny_data_dir)])
    with pytest.raises(RuntimeError, match="failed: ValueError: no such"):
        bench.main()


def test_kernel_paths_compares_this_runs_cells_only(
    tmp_path, four_tables_data_dir, monkeypatch
):
    # The reused --work-dir keeps an earlier run's cells: they were counted,
    # and one that the reference path lacks crashed the count (None subtracted).
    import kernel_paths

    monkeypatch.setattr(kernel_paths, "_capability", str.upper)
    this_run = {
        "avx512": {("RANDOM", 0): 0.5, ("RANDOM", 1): 0.6},
        "default": {("RANDOM", 0): 0.5, ("RANDOM", 1): 0.62, ("RANDOM", 2): 0.7},
    }
    monkeypatch.setattr(
        kernel_paths,
        "_run",
        lambda path, folder, args: _kernel_path_cells(folder, this_run[path]),
    )
    for path, trials in (("avx512", (0, 1)), ("default", (0, 1, 7))):
        for trial in trials:  # the earlier run's, at 10% noise
            cell = content()
            cell["cell"].update(noise=0.1, trial=trial)
            write_cell(tmp_path / path / "cells" / "tabular" / f"{trial}.json", cell)
    output = tmp_path / "kernel_paths.md"
    kernel_paths.main(
        [
            *("tabular", "--strategies", "RANDOM", "--trials", "3"),
            *("--paths", "avx512", "default", "--work-dir", str(tmp_path)),
            *("--data-dir", str(four_tables_data_dir), "--output", str(output)),
        ]
    )
    assert output.read_text().splitlines()[-1] == (
        "| RANDOM | 1 of 2; the others 2.00 on average (+2.00 to +2.00); "
        "1 with no `avx512` cell |"
    )


def test_kernel_paths_give_no_interval_for_one_class_split(
    tmp_path, four_tables_data_dir, monkeypatch
):
    # A single split's difference had the zero-width interval [d, d].
    import kernel_paths

    monkeypatch.setattr(kernel_paths, "_capability", str.upper)
    accuracies = {"avx512": 0.7, "default": 0.72}
    monkeypatch.setattr(
        kernel_paths,
        "_run",
        lambda path, folder, args: _kernel_path_cells(
            folder, {("RANDOM", 0): accuracies[path], ("CONF", 0): 0.6}
        ),
    )
    output = tmp_path / "kernel_paths.md"
    kernel_paths.main(
        [
            *("tabular", "--strategies", "RANDOM", "CONF", "--trials", "1"),
            *("--paths", "avx512", "default", "--versus", "RANDOM", "CONF"),
            *("--work-dir", str(tmp_path), "--data-dir", str(four_tables_data_dir)),
            *("--output", str(output)),
        ]
    )
    assert output.read_text().splitlines()[-1] == (
        "| 40% | +10.00  | +12.00  | +11.00  | 1 |"
    )


def test_kernel_paths_refuse_a_repeated_noise_ratio(tmp_path, monkeypatch, capsys):
    import kernel_paths

    monkeypatch.setattr(kernel_paths, "_run", None)  # a run that started: a bug
    with pytest.raises(SystemExit) as info:
        kernel_paths.main(
            ["tabular", "--strategies", "CONF", "--noise", "0.4", "0.4"]
            + ["--data-dir", str(tmp_path), "--work-dir", str(tmp_path / "work")]
        )
    assert info.value.code == 2
    assert "--noise lists 0.4 twice; give each value once" in capsys.readouterr().err
    assert not (tmp_path / "work").exists()


def test_report_stops_on_a_foreign_file_with_what_to_do(tmp_path, monkeypatch):
    # It stopped with a traceback.
    foreign = tmp_path / "cells" / "tabular" / "notes.json"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("{}")
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, "--results-dir", str(tmp_path), "report")
    assert info.value.code == (
        f"benchmark cell {foreign}: lacks the keys ['cell', 'checksum', 'in_classes', "
        "'landscapes', 'records', 'seconds']. Move it out of the cells folder or "
        "delete it (a run of its suite runs the cell again), then report again."
    )
