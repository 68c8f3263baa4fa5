"""``skal-openset run``: simulated and interactive active learning on a user's table."""

import contextlib
import csv
import errno
import io
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
import unicodedata
import warnings
import zipfile
from collections import Counter
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import joblib
import numpy as np
import pytest
import sklearn
import torch
from packaging.version import Version
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skal_openset
from _ctrl_c import ctrl_c_as_it_ends, escaped_ctrl_c_fails
from _hash_seeds import env_with_other_string_hashes
from skal_openset import (
    CCALQuery,
    ContrastiveEncoder,
    RandomQuery,
    _atomic,
    _campaign,
    _experiment,
    load_object,
    save_object,
)
from skal_openset import _cli as cli
from skal_openset.__main__ import main
from skal_openset._campaign import check_in_classes, load_table, table_fingerprint
from skal_openset._cli_start import build_parser
from skal_openset._hashing import _ContentHasher, _is_timing

SHARED = __import__("pathlib").Path(__file__).parents[2] / "shared" / "data"


def _table(path, n=160, blank_from=None, seed=0):
    """Four well separated blobs named by strings; "dog" and "eel" are OOD.

    Labels from row `blank_from` on are left empty (the pool of an
    interactive run); returns the true labels.
    """
    rng = np.random.default_rng(seed)
    names = np.array(["cat", "cow", "dog", "eel"])
    truth = names[rng.integers(0, 4, n)]
    X = rng.normal(size=(n, 5)) + 4 * np.searchsorted(names, truth)[:, None]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"x{j}" for j in range(5)] + ["species"])
        for i, (row, label) in enumerate(zip(X.round(4), truth)):
            shown = "" if blank_from is not None and i >= blank_from else label
            writer.writerow([*row, shown])
    return truth


def _run(tmp_path, data, *options):
    # Repeated, --in-classes adds classes: the default only where none are given.
    in_classes = [] if "--in-classes" in options else ["--in-classes", "cat,cow"]
    return main(
        [
            "run",
            str(data),
            *in_classes,
            "--label-column",
            "species",
            "--output",
            str(tmp_path / "out"),
            *options,
        ]
    )


def test_simulated_run_on_a_csv_with_string_labels(tmp_path, capsys):
    _table(tmp_path / "zoo.csv")
    _run(tmp_path, tmp_path / "zoo.csv", "--rounds", "3", "--budget", "10")
    out = capsys.readouterr().out
    assert "zoo.csv: IN classes cat, cow" in out and "| MQ-Net |" in out
    with (tmp_path / "out" / "records.csv").open() as f:
        records = list(csv.DictReader(f))
    assert [int(r["round"]) for r in records] == [1, 2, 3]
    assert [int(r["query_size"]) for r in records] == [0, 10, 10]
    assert float(records[-1]["test_accuracy"]) > 0.9  # the blobs are separable
    assert (tmp_path / "out" / "learning_curves.png").stat().st_size > 0
    # The checkpoint holds the finished run: a rerun only reloads it.
    assert len(load_object(tmp_path / "out" / "checkpoint.joblib")["records"]) == 3


def _file_named_not_utf8(tmp_path, blank_from=None):
    """`_table` in a file named with latin-1 bytes, b"caf\\xe9.csv" (e.g.
    unpacked from an old archive), which Python names with a surrogate."""
    data = tmp_path / os.fsdecode(b"caf\xe9.csv")
    try:
        _table(data, blank_from=blank_from)
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    return data


def test_a_data_file_named_not_in_utf8_is_named_escaped_in_the_outputs(
    tmp_path, capsys
):
    # summary.md could not hold its name: the run trained, then lost its
    # outputs, and so did every rerun; a query file's header failed alike.
    data = _file_named_not_utf8(tmp_path)
    _run(tmp_path, data, "--rounds", "2", "--budget", "10")
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("caf\\\\xe9.csv: IN classes cat, cow")  # markdown's \\
    (tmp_path / "out").rename(tmp_path / "simulated")
    _file_named_not_utf8(tmp_path, blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--ignore-columns", "x0", data=data.name)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    header = query.read_text(encoding="utf-8").splitlines()[0]
    assert header == "id,label,x0 in caf\\xe9.csv"


def test_names_typed_under_a_locale_not_utf8_match_the_tables(tmp_path, monkeypatch):
    # Under LC_ALL=C, Python gives argv's UTF-8 bytes as surrogates: "cät"
    # matched no class of the table, read as UTF-8, nor "spécies" its column.
    # Matched, it is printed on the C locale's stdout escaped.
    stdout = io.TextIOWrapper(
        io.BytesIO(), encoding="ascii", errors="surrogateescape", write_through=True
    )
    monkeypatch.setattr(sys, "stdout", stdout)
    data = tmp_path / "zoo.csv"
    _table(data)
    text = data.read_text(encoding="utf-8")
    text = text.replace("cat", "cät").replace("species", "spécies")
    data.write_text(text, encoding="utf-8")

    def as_c_locale_gives(name):
        return name.encode("utf-8").decode("ascii", "surrogateescape")

    classes, column = as_c_locale_gives("cät,cow"), as_c_locale_gives("spécies")
    _run(tmp_path, data, "--in-classes", classes, "--label-column", column,
         "--ood-label", as_c_locale_gives("ïnconnu"), "--rounds", "2",
         "--budget", "10")  # fmt: skip
    assert b"zoo.csv: IN classes c\\xe4t, cow" in stdout.buffer.getvalue()
    assert stdout.errors == "surrogateescape"


def test_a_name_typed_in_bytes_that_are_not_utf8_is_kept_as_typed(tmp_path, capsys):
    # Typed in Latin-1 ("caf\xe9"), no UTF-8 reading of it exists: it is
    # kept, and named as matching no label, not made into another name.
    _table(tmp_path / "zoo.csv")
    latin_1 = os.fsdecode(b"caf\xe9")
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, tmp_path / "zoo.csv", "--in-classes", f"{latin_1},cow")
    assert exit_.value.code == 2
    assert f"--in-classes names [{latin_1!r}], which label no row" in (
        capsys.readouterr().err
    )


def test_what_stdout_cannot_encode_is_printed_escaped(tmp_path, monkeypatch):
    # Under PYTHONIOENCODING=ascii the printed setting raised
    # UnicodeEncodeError, reported as a usage error (exit 2).
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii", write_through=True)
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # no reconfigure: kept
    _table(tmp_path / "zoö.csv")
    _run(tmp_path, tmp_path / "zoö.csv", "--rounds", "2", "--budget", "10")
    assert "zo\\xf6.csv: IN classes cat, cow" in stdout.buffer.getvalue().decode()
    assert stdout.errors == "strict"  # as it was, once the command is done


def test_commands_run_from_threads_print_escaped_until_the_last_ends(
    tmp_path, monkeypatch
):
    # Overlapping calls: the second found the first's escaping and left the
    # stream alone, the first put back "strict" when it ended, and the
    # second's name then raised UnicodeEncodeError, reported as a usage error.
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii", write_through=True)
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # no reconfigure: kept
    first_in, second_in, first_done = (threading.Event() for _ in range(3))

    def demo(output, *args, **kwargs):
        if output.name == "first":
            first_in.set()
            second_in.wait(10)  # ends while the second runs
        else:
            second_in.set()
            first_done.wait(10)
            print(f"{output.name}: d\xe9mo")

    def first():
        main(["demo", "--output", str(tmp_path / "first")])
        first_done.set()

    monkeypatch.setattr(cli, "run_demo", demo)
    # conftest's one-thread block, held by this thread, would keep them waiting
    monkeypatch.setattr(cli, "one_torch_thread", contextlib.nullcontext)
    second = ["demo", "--output", str(tmp_path / "second")]
    threads = [
        threading.Thread(target=first, daemon=True),
        threading.Thread(target=main, args=(second,), daemon=True),
    ]
    threads[0].start()
    assert first_in.wait(10)
    threads[1].start()
    for thread in threads:
        thread.join(20)
    assert not any(thread.is_alive() for thread in threads)
    assert stdout.buffer.getvalue() == b"second: d\\xe9mo\n"
    assert stdout.errors == "strict"  # as it was, once both are done


@pytest.mark.parametrize("interactive", [False, True])
@pytest.mark.parametrize("how", ["the same path", "a link", "a hard link"])
def test_a_run_never_writes_over_its_data_file(tmp_path, capsys, interactive, how):
    # With --output ., a table named records.csv was replaced by the run's
    # records at its end (an interactive campaign's pool, after all its rounds).
    out = tmp_path / "out"
    out.mkdir()
    data = tmp_path / "zoo.csv"
    _table(data, n=40, blank_from=20 if interactive else None)
    if how == "the same path":
        data = data.rename(out / "records.csv")
    elif how == "a link":
        (out / "records.csv").symlink_to(data)
    else:
        os.link(data, out / "records.csv")
    table = data.read_bytes()
    options = ["--rounds", "2", "--budget", "5", "--classifier", "forest"]
    if interactive:
        options += ["--interactive", "--poll-seconds", "0.02", "--timeout", "0.2"]
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, data, *options)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f"skal-openset: error: --output {out}: this run writes its records.csv "
        f"there, which is the data file {data}; choose another --output, or the "
        "data would be lost.\n"
    )
    assert data.read_bytes() == table
    # Refused before any work: no state to resume from.
    assert sorted(path.name for path in out.iterdir()) == ["records.csv"]


def test_a_run_writes_over_no_file_it_did_not_write(tmp_path, capsys):
    # A user's summary.md in --output was replaced without a word.
    _table(tmp_path / "zoo.csv", n=40)
    options = ["--rounds", "2", "--budget", "5", "--classifier", "forest"]
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.md").write_text("my notes\n")
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, tmp_path / "zoo.csv", *options)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f"skal-openset: error: --output {out} holds summary.md, which skal-openset "
        "run would write over, and no .skal-openset-outputs there says that "
        "skal-openset run wrote it (versions of skal-openset before it wrote "
        "none): if an earlier run of skal-openset run wrote it, delete it; else "
        "move it out of the folder, or choose another --output.\n"
    )
    assert (out / "summary.md").read_text() == "my notes\n"
    assert not (out / "checkpoint.joblib").exists()
    # Its own outputs it replaces: on a rerun (the checkpoint resumed), and
    # once the checkpoint is deleted to start over.
    (out / "summary.md").unlink()
    _run(tmp_path, tmp_path / "zoo.csv", *options)
    (out / "checkpoint.joblib").unlink()
    _run(tmp_path, tmp_path / "zoo.csv", *options, "--strategy", "random")
    assert "| RANDOM |" in (out / "summary.md").read_text()
    # An interactive campaign does not take them for its own.
    _table(tmp_path / "pool.csv", n=40, blank_from=20)
    (out / "checkpoint.joblib").unlink()
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path, data="pool.csv")
    err = capsys.readouterr().err
    assert "would write over, and skal-openset run wrote it: move it" in err, err
    assert not (out / "state.joblib").exists()


@pytest.mark.parametrize(
    "stopped_at_save, then",
    [
        (1, "no round was saved yet; rerun it to start again"),
        (2, "rerun the same command to resume"),
    ],
)
def test_a_stopped_run_promises_a_resume_only_where_a_round_was_kept(
    tmp_path, capsys, monkeypatch, stopped_at_save, then
):
    # Stopped before its first checkpoint, it said "rerun the same command
    # to resume" with nothing to resume from.
    _table(tmp_path / "zoo.csv")
    save, saves = _experiment.save_object, []

    def interrupted(state, path):
        saves.append(path)
        if len(saves) == stopped_at_save:
            raise KeyboardInterrupt
        return save(state, path)

    monkeypatch.setattr(_experiment, "save_object", interrupted)
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        _run(tmp_path, tmp_path / "zoo.csv", "--rounds", "3", "--budget", "10")
    assert exit_.value.code == 130
    err = capsys.readouterr().err.splitlines()[-1]  # after the progress bar's
    assert err == f"skal-openset: stopped (Ctrl-C); {then}."
    assert (tmp_path / "out" / "checkpoint.joblib").exists() == (stopped_at_save > 1)


def _stopped_as_it_prints(monkeypatch, start):
    """Send a Ctrl-C as the command prints a line that begins with `start`."""

    def stopped_at(*args, **kwargs):
        if args and str(args[0]).startswith(start):
            raise KeyboardInterrupt
        print(*args, **kwargs)

    monkeypatch.setattr(cli, "print", stopped_at, raising=False)


@pytest.mark.parametrize("moment", ["as_it_says_what_it_wrote", "as_the_command_ends"])
def test_a_stop_once_a_run_has_finished_says_so_and_what_it_wrote(
    moment, tmp_path, monkeypatch, capsys
):
    # Its checkpoint kept, a finished run stopped as it said where its outputs
    # are, or once its work and output were done, said "rerun the same
    # command to resume", with nothing left to resume.
    if moment == "as_it_says_what_it_wrote":
        _stopped_as_it_prints(monkeypatch, "\nWrote ")
    else:
        ctrl_c_as_it_ends(monkeypatch, cli, "_warnings_as_lines")
    _table(tmp_path / "zoo.csv")
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        _run(tmp_path, tmp_path / "zoo.csv", "--rounds", "3", "--budget", "10")
    assert (exit_.value.code, capsys.readouterr().err.splitlines()[-1]) == (
        130,
        "skal-openset: stopped (Ctrl-C) after writing records.csv, summary.md, "
        "summary.json, learning_curves.png; the run has finished: its outputs "
        "are complete.",
    )


def test_a_stop_as_a_runs_checkpoint_is_replaced_still_says_how_to_resume(
    tmp_path, capsys, monkeypatch
):
    # Its first round's checkpoint replaced as a stop came, the rounds left
    # to run, it said "the run has finished: its outputs are complete".
    _table(tmp_path / "zoo.csv")
    save = _experiment.save_object

    def replaced_as_stopped(state, path):
        save(state, path)
        raise _atomic.InterruptedAfterReplacing([path])

    monkeypatch.setattr(_experiment, "save_object", replaced_as_stopped)
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        _run(tmp_path, tmp_path / "zoo.csv", "--rounds", "3", "--budget", "10")
    assert (exit_.value.code, capsys.readouterr().err.splitlines()[-1]) == (
        130,
        "skal-openset: stopped (Ctrl-C) after writing checkpoint.joblib; rerun "
        "the same command to resume.",
    )


def test_a_resume_removes_the_copies_a_first_run_killed_before_its_outputs_left(
    tmp_path, monkeypatch
):
    # Leftovers were removed only beside the outputs' marker, which a first
    # run writes at its end: a full-size .checkpoint.joblib.<random>.tmp of a
    # run killed in its rounds outlived the resume.
    _table(tmp_path / "zoo.csv")
    out = tmp_path / "out"
    save = _experiment.save_object

    def killed_at_the_second_save(state, path):
        if len(state["records"]) == 2:
            raise KeyboardInterrupt
        return save(state, path)

    monkeypatch.setattr(_experiment, "save_object", killed_at_the_second_save)
    options = ["--rounds", "3", "--budget", "10", "--classifier", "forest"]
    with pytest.raises(SystemExit), escaped_ctrl_c_fails():
        _run(tmp_path, tmp_path / "zoo.csv", *options)
    assert (out / "checkpoint.joblib").exists()
    assert not (out / cli.MARKER_FILE).exists()
    left, users = ".checkpoint.joblib.m28t1_00.tmp", "notes.txt"
    for name in (left, users):
        (out / name).write_text("x")
    monkeypatch.undo()
    _run(tmp_path, tmp_path / "zoo.csv", *options)
    assert not (out / left).exists()
    assert (out / users).read_text() == "x"
    assert (out / "records.csv").exists()


def test_a_full_disk_stops_a_run_with_one_line_and_a_rerun_resumes(
    tmp_path, capsys, monkeypatch
):
    # The checkpoint's save on a full disk gave a 40-line traceback.
    _table(tmp_path / "zoo.csv")
    options = ["--rounds", "3", "--budget", "10", "--classifier", "forest"]
    save = _experiment.save_object

    def full_at_round_3(state, path):
        if len(state["records"]) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return save(state, path)

    monkeypatch.setattr(_experiment, "save_object", full_at_round_3)
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, tmp_path / "zoo.csv", *options)
    assert exit_.value.code == 1
    checkpoint = tmp_path / "out" / "checkpoint.joblib"
    err = capsys.readouterr().err.splitlines()[-1]  # after the progress bar's
    assert err.startswith("skal-openset: error: [Errno 28] No space left on device")
    assert err.endswith(
        f"the rounds finished are kept in {checkpoint}: free some disk space, "
        "then rerun the same command to resume."
    )
    assert len(load_object(checkpoint)["records"]) == 2
    monkeypatch.undo()
    _run(tmp_path, tmp_path / "zoo.csv", *options)
    with (tmp_path / "out" / "records.csv").open() as f:
        assert [int(r["round"]) for r in csv.DictReader(f)] == [1, 2, 3]


def test_a_failed_save_is_one_sentence_with_its_advice(tmp_path, capsys, monkeypatch):
    # "...; it is as it was.; the rounds finished are kept in ..."
    _table(tmp_path / "zoo.csv")
    checkpoint = tmp_path / "out" / "checkpoint.joblib"
    replace, calls = os.replace, []

    def refused_at_the_second_save(src, dst):
        if Path(dst) == checkpoint:
            calls.append(dst)
            if len(calls) == 2:
                raise PermissionError(errno.EPERM, "Operation not permitted")
        replace(src, dst)

    monkeypatch.setattr(os, "replace", refused_at_the_second_save)
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, tmp_path / "zoo.csv", "--rounds", "3", "--budget", "10",
             "--classifier", "forest")  # fmt: skip
    assert exit_.value.code == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"skal-openset: error: [Errno 1] Could not replace {checkpoint} (Operation "
        f"not permitted); it is as it was; the rounds finished are kept in "
        f"{checkpoint}: fix that, then rerun the same command to resume."
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_campaign_logging_into_a_full_disk_says_so_once_its_state_kept(tmp_path):
    # Refused after the state's save, the round's "label the rows of ..." line
    # was still held in stdout's buffer as the command ended: flushed then, it
    # failed again, and a second line, which no longer said the state was
    # kept, came last.
    _table(tmp_path / "zoo.csv", n=40, blank_from=20)
    run = ["run", str(tmp_path / "zoo.csv"), "--in-classes", "cat,cow"]
    options = ["--label-column", "species", "--interactive", "--rounds", "2"]
    options += ["--budget", "5", "--strategy", "random", "--timeout", "0.2"]
    env = dict(os.environ, PYTHONPATH=str(Path(cli.__file__).parents[1]))
    env["PYTHONUNBUFFERED"] = ""  # held, as for a user
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "skal_openset", *run, *options]
            + ["--output", str(tmp_path / "out")],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=300,
        )
    state = tmp_path / "out" / "state.joblib"
    assert (done.stderr, done.returncode) == (
        "skal-openset: error: [Errno 28] No space left on device; the rounds "
        f"finished are kept in {state}: free some disk space, then rerun the "
        "same command to resume.\n",
        1,
    )
    assert load_object(state)["pending"] is not None  # round 2's query


@pytest.mark.parametrize("interactive", [False, True])
def test_records_are_written_once_into_the_outputs_temporary_file(
    tmp_path, monkeypatch, interactive
):
    # write_records_csv made a second temporary file and renamed it onto the
    # outputs' own: a failure there named a hidden .records.csv.*.tmp file.
    truth = _table(tmp_path / "zoo.csv", blank_from=40 if interactive else None)
    replace, targets = os.replace, []

    def recorded(src, dst):
        targets.append(Path(dst).name)
        replace(src, dst)

    monkeypatch.setattr(os, "replace", recorded)
    options = ["--rounds", "2", "--budget", "10", "--classifier", "forest"]
    if not interactive:
        _run(tmp_path, tmp_path / "zoo.csv", *options)
    else:
        options += ["--interactive", "--poll-seconds", "0.02", "--timeout", "60"]
        queries = tmp_path / "out" / "queries"
        with _person_answering(queries, truth, lambda label: "unknown"):
            _run(tmp_path, tmp_path / "zoo.csv", *options)
    assert "records.csv" in targets
    assert not [name for name in targets if name.endswith(".tmp")]


def test_simulated_run_sizes_the_initial_set_in_labels_and_the_rounds_to_the_pool(
    tmp_path, capsys, monkeypatch
):
    # The initial set was ceil(--budget) rows (1 at a cost of 0.1, where a
    # round buys 10), and a budget the pool could not supply ran fewer rounds
    # than the summary said.
    _table(tmp_path / "zoo.csv")  # 160 rows, 120 in the pool
    options = [
        "--rounds",
        "2",
        "--budget",
        "1",
        "--cost-in",
        "0.1",
        "--cost-ood",
        "0.1",
    ]
    _run(tmp_path, tmp_path / "zoo.csv", *options, "--classifier", "forest")
    with (tmp_path / "out" / "records.csv").open() as f:
        assert [int(r["n_labelled"]) for r in csv.DictReader(f)] == [10, 20]
    with pytest.raises(SystemExit):
        _run(
            tmp_path,
            tmp_path / "zoo.csv",
            "--budget",
            "40",
            "--output",
            str(tmp_path / "o2"),
        )
    err = capsys.readouterr().err
    assert "5 rounds of at least 40 labels (--budget 40) must leave the last" in err
    # Where unequal costs let the pool run out all the same, the summary says so
    # (here a runner that stops a round early stands for it).
    real = cli.run_active_learning
    monkeypatch.setattr(
        cli, "run_active_learning", lambda *a, **k: real(*a, **{**k, "n_rounds": 2})
    )
    _run(
        tmp_path,
        tmp_path / "zoo.csv",
        "--budget",
        "10",
        "--rounds",
        "3",
        "--output",
        str(tmp_path / "o3"),
        "--classifier",
        "forest",
    )
    summary = (tmp_path / "o3" / "summary.md").read_text()
    assert "budget 10 x 2 rounds (the pool ran out after round 2)" in summary


def _annotate(folder, truth, stop, answer_ood, in_classes=("cat", "cow")):
    """A scripted person: fills in every query file that appears in `folder`."""
    while not stop.is_set():
        for path in sorted(folder.glob("round_*.csv")):
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
            if rows and all(r["label"] == "" for r in rows):
                for r in rows:
                    label = truth[int(r["id"])]
                    r["label"] = label if label in in_classes else answer_ood(label)
                # Saved whole at once (a half-saved file is the next test's).
                partial = path.with_suffix(".partial")
                with partial.open("w", newline="") as f:
                    writer = csv.DictWriter(f, fieldnames=["id", "label"])
                    writer.writeheader()
                    writer.writerows(rows)
                partial.replace(path)
        time.sleep(0.02)


@contextlib.contextmanager
def _person_answering(folder, truth, answer_ood, **kwargs):
    """A scripted person fills in the query files in `folder` during the block."""
    stop = threading.Event()
    person = threading.Thread(
        target=_annotate, args=(folder, truth, stop, answer_ood), kwargs=kwargs
    )
    person.start()
    try:
        yield
    finally:
        stop.set()
        person.join()


def _stopped_as_its_output_is_flushed(monkeypatch):
    """Send a Ctrl-C as run_command flushes its last output, which a reader
    that stopped reading (a pager left open) holds up."""
    flushed = cli.output_flushed

    def stopped_as_it_is_flushed():
        signal.raise_signal(signal.SIGINT)
        flushed()

    monkeypatch.setattr(cli, "output_flushed", stopped_as_it_is_flushed)


@pytest.mark.parametrize(
    "moment",
    ["as_it_says_what_it_wrote", "as_its_output_is_flushed", "as_the_command_ends"],
)
def test_a_stop_once_an_interactive_run_has_finished_says_so(
    moment, tmp_path, monkeypatch, capsys
):
    # Its state kept, it said "rerun the same command to resume", with
    # nothing left to resume. Its last line is flushed by the command alone,
    # where its stops are still handled: once they were not, a SIGTERM there
    # ended it with no word.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    options = ["--interactive", "--rounds", "2", "--budget", "8"]
    options += ["--poll-seconds", "0.02", "--strategy", "random", "--timeout", "60"]
    if moment == "as_it_says_what_it_wrote":
        _stopped_as_it_prints(monkeypatch, "\nLabelled ")
    elif moment == "as_its_output_is_flushed":
        _stopped_as_its_output_is_flushed(monkeypatch)
    else:
        ctrl_c_as_it_ends(monkeypatch, cli, "_warnings_as_lines")
    queries = tmp_path / "out" / "queries"
    with (
        pytest.raises(SystemExit) as exit_,
        escaped_ctrl_c_fails(),
        _person_answering(queries, truth, lambda label: "unknown"),
    ):
        _run(tmp_path, tmp_path / "zoo.csv", *options)
    assert (exit_.value.code, capsys.readouterr().err.splitlines()[-1]) == (
        130,
        "skal-openset: stopped (Ctrl-C) after writing records.csv; the run has "
        "finished: its outputs are complete.",
    )


def test_interactive_run_waits_for_labels_and_resumes(tmp_path, capsys):
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    options = ["--interactive", "--rounds", "3", "--budget", "8"]
    options += ["--poll-seconds", "0.02", "--strategy", "random"]
    runs = tmp_path / "Bob's runs"  # the closing line quotes its path
    runs.mkdir()
    # Nobody labels: the run gives up on round 2, with one line and status 2.
    with pytest.raises(SystemExit) as exit_:
        _run(runs, tmp_path / "zoo.csv", *options, "--timeout", "0.2")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "round_2.csv" in err
    queries = runs / "out" / "queries"
    with (queries / "round_2.csv").open() as f:
        asked = [int(r["id"]) for r in csv.DictReader(f)]
    assert len(asked) == 8 and min(asked) >= 20  # only unlabelled rows
    # A person answers; the rerun asks nothing new for round 2 and goes on.
    with _person_answering(queries, truth, lambda label: "unknown"):
        _run(runs, tmp_path / "zoo.csv", *options, "--timeout", "60")
    with (queries / "round_2.csv").open() as f:
        assert [int(r["id"]) for r in csv.DictReader(f)] == asked
    with (runs / "out" / "records.csv").open() as f:
        records = list(csv.DictReader(f))
    assert [int(r["n_labelled"]) for r in records] == [20, 28, 36]
    is_in = np.isin(truth[asked], ["cat", "cow"])
    assert float(records[1]["query_in_share"]) == pytest.approx(is_in.mean())
    assert float(records[2]["budget_spent"]) == 16.0
    # The closing line gives the Python that loads the learner.
    code = re.search(r"the learner is (.*)\.$", capsys.readouterr().out, re.M)[1]
    learner = eval(code, {"skal_openset": skal_openset})
    assert set(learner.y_labelled_) <= {"cat", "cow", "unknown"}


def test_an_interactive_run_says_which_file_to_label_before_it_waits(
    tmp_path, monkeypatch
):
    # Into a log file or a pipe (nohup, | tee), stdout is block-buffered: the
    # line naming the query file stayed in its buffer while the run waited.
    shown = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", shown)
    written = []

    def waiting(seconds):
        written.append(shown.buffer.getvalue().decode())
        raise KeyboardInterrupt

    monkeypatch.setattr(
        _campaign, "time", SimpleNamespace(monotonic=time.monotonic, sleep=waiting)
    )
    _table(tmp_path / "zoo.csv", blank_from=20)
    options = ["--interactive", "--rounds", "2", "--budget", "8"]
    with pytest.raises(SystemExit), escaped_ctrl_c_fails():
        _run(tmp_path, tmp_path / "zoo.csv", *options, "--strategy", "random")
    assert "round_2.csv" in written[0] and written[0].endswith("Waiting...\n")


def test_an_answer_with_another_label_of_the_table_counts_as_ood(tmp_path, capsys):
    # Labels of the table that are no IN class are OOD answers too, but the
    # round counted only those written as --ood-label: its query_in_share and
    # its closing line took 'dog' and 'eel' for IN.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    options = ["--interactive", "--rounds", "2", "--budget", "8", "--timeout", "60"]
    options += ["--poll-seconds", "0.02", "--strategy", "random"]
    queries = tmp_path / "out" / "queries"
    with _person_answering(queries, truth, lambda label: label):
        _run(tmp_path, tmp_path / "zoo.csv", *options)
    with (queries / "round_2.csv").open() as f:
        asked = [int(r["id"]) for r in csv.DictReader(f)]
    n_in = int(np.isin(truth[asked], ["cat", "cow"]).sum())
    assert 0 < n_in < 8  # both kinds asked
    with (tmp_path / "out" / "records.csv").open() as f:
        records = list(csv.DictReader(f))
    assert float(records[1]["query_in_share"]) == pytest.approx(n_in / 8)
    assert f"Round 2: {n_in} IN and {8 - n_in} OOD labels" in capsys.readouterr().out


def test_interactive_budget_spent_does_not_drift_with_costs_like_a_tenth(tmp_path):
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    options = ["--interactive", "--rounds", "8", "--budget", "1", "--cost-in", "0.1"]
    options += ["--cost-ood", "0.3", "--poll-seconds", "0.02", "--strategy", "random"]
    queries = tmp_path / "out" / "queries"
    with _person_answering(queries, truth, lambda label: "unknown"):
        _run(tmp_path, tmp_path / "zoo.csv", *options, "--timeout", "60")
    with (tmp_path / "out" / "records.csv").open() as f:
        records = list(csv.DictReader(f))
    # Counted in decimals and rounded once, not added up label by label, which drifts
    # (3.4000000000000004 for 3.4).
    n_in = np.array([int(r["n_labelled_in"]) for r in records])
    n_ood = np.array([int(r["n_labelled"]) for r in records]) - n_in
    bought = zip((n_in - n_in[0]).tolist(), (n_ood - n_ood[0]).tolist())
    expected = [
        repr(float(a * Fraction("0.1") + b * Fraction("0.3"))) for a, b in bought
    ]
    assert [r["budget_spent"] for r in records] == expected


def test_an_interactive_budget_that_buys_no_label_names_the_options(tmp_path, capsys):
    # It said "budget=1.0 does not pay for one label at max(cost_in,
    # cost_ood) = 2.0.": the library's names, and no remedy.
    _table(tmp_path / "zoo.csv", blank_from=20)
    message = _refusal(tmp_path, capsys, "--budget", "1", "--cost-ood", "2")
    assert message.endswith(
        "budget=1.0 does not pay for one label at max(cost_in, cost_ood) = 2.0: "
        "raise the budget or lower the costs (skal-openset run: --budget, "
        "--cost-in, --cost-ood).\n"
    )


def test_interactive_run_names_a_label_it_cannot_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_campaign, "_SETTLE_SECONDS", 0.1)  # refused at once
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    queries = tmp_path / "out" / "queries"
    queries.mkdir(parents=True)
    with _person_answering(queries, truth, lambda label: "fish?"):
        with pytest.raises(SystemExit) as exit_:
            _run(
                tmp_path,
                tmp_path / "zoo.csv",
                "--interactive",
                "--rounds",
                "2",
                "--budget",
                "20",
                "--poll-seconds",
                "0.02",
                "--timeout",
                "60",
                "--strategy",
                "random",
            )
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "row(s) have a label that is not one of ['cat', 'cow', " in err
    assert "'fish?'; change them to one of those. Once the file is fixed" in err


def test_every_label_a_query_file_cannot_take_is_named_with_a_hint(tmp_path, capsys):
    # Only the first was named, without a word on what was meant, and each
    # fix cost the person a rerun.
    query, ids = _answered_round_2(tmp_path)
    rows = query.read_text().splitlines()
    rows[1:4] = [f"{ids[0]},Cat", f"{ids[1]}, COW ", f"{ids[2]},unkown"]
    query.write_text("\n".join(rows) + "\n")
    assert (
        "round_2.csv: 3 row(s) have a label that is not one of ['cat', 'cow', "
        f"'unknown', 'dog', 'eel']: id {ids[0]} 'Cat' (did you mean 'cat'?), "
        f"id {ids[1]} 'COW' (did you mean 'cow'?), id {ids[2]} 'unkown'; change "
        "them to one of those. Once the file is fixed, rerun the same command "
        "to resume.\n"
    ) in _refusal(tmp_path, capsys)


def test_the_labels_a_query_file_can_take_are_named_the_in_classes_first(
    tmp_path, capsys
):
    # Every label of the table was named, sorted, the IN classes and the OOD
    # label among them: 100,000 labels of a table made an error of a megabyte.
    path = tmp_path / "zoo.csv"
    _table(path, blank_from=20)
    rows = path.read_text().splitlines()
    rows += [
        row.rsplit(",", 1)[0] + f",ood{i:02d}" for i, row in enumerate(rows[21:51])
    ]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    ids = [row.split(",")[0] for row in query.read_text().splitlines()[1:]]
    query.write_text("id,label\n" + "".join(f"{i},Cat\n" for i in ids))
    message = _refusal(tmp_path, capsys)
    assert (
        "not one of ['cat', 'cow', 'unknown', 'dog', 'eel', 'ood00', 'ood01', "
        in message
    )
    assert "'ood14', ...] (35 labels): id" in message and "'ood29'" not in message


@pytest.mark.parametrize(
    "options, message",
    [
        (
            ["--in-classes", "cat,lion"],
            "--in-classes names ['lion'], which label no row of the file, and a "
            "simulated run only reveals the file's labels: pass IN classes from "
            "its labels ['cat', 'cow', 'dog', 'eel'], spelt as the file writes them.",
        ),
        (
            ["--in-classes", "cat"],
            "--in-classes must name at least 2 distinct labels, got ['cat']: pick "
            "the IN classes from the file's labels",
        ),
        # It said "must name at least 2 distinct labels" of 3 distinct ones.
        (
            ["--in-classes", "cat,dog,unknown"],
            "--ood-label 'unknown' is also one of --in-classes ['cat', 'dog', "
            "'unknown']: a label is either an IN class or the annotator's mark "
            "for OOD rows; remove it from one of the two.",
        ),
        (["--label-column", "kind"], "kind"),
        (["--budget", "0"], "--budget: must be a positive number"),
        (["--strategy", "best"], "--strategy: must be one of MQ-Net"),
        # It named no option: "Raise the budget or lower the costs."
        (
            ["--budget", "2", "--cost-ood", "3"],
            "budget=2.0 cannot buy a label in every round: it must be a finite "
            "float and at least max(cost_in, cost_ood) = 3.0, the price of the "
            "dearest label. Raise the budget or lower the costs (skal-openset "
            "run: --budget, --cost-in, --cost-ood).",
        ),
        # The default initial set of 0 labels had --initial-size as remedy.
        (["--budget", "0.5"], "budget=0.5 cannot buy a label in every round"),
        # "e.g. --rounds 1", which --rounds refuses; and "1 round", not "1 round(s)".
        (
            ["--budget", "30", "--initial-size", "10"],
            "25 unlabelled rows: 1 round of at least 30 labels (--budget 30) "
            "must leave the last round at least twice its 30 to choose from, or it "
            "buys what is left, whatever the strategy; lower --budget to at most "
            "12, or --initial-size",
        ),
        # Rounds that took the pool's last row were run: the last one bought
        # what was left, the same rows whatever the strategy.
        (
            ["--budget", "10", "--initial-size", "25"],
            "10 unlabelled rows: 1 round of at least 10 labels",
        ),
        (
            ["--budget", "5", "--initial-size", "15", "--rounds", "5"],
            "lower --budget to at most 4, or --rounds to at most 4",
        ),
        (
            ["--in-classes", "cat,cow,"],
            "--in-classes must list non-empty labels, got ['cat', 'cow', '']: leave "
            "out the empty one, which a leading, doubled or trailing comma makes.",
        ),
        # It named a doubled or trailing comma only.
        (
            ["--in-classes", ",cat,cow"],
            "got ['', 'cat', 'cow']: leave out the empty one, which a leading,",
        ),
        # Two empty labels are no IN class listed twice: the commas are named.
        (
            ["--in-classes", "cat,,cow,"],
            "got ['cat', '', 'cow', '']: leave out the empty one, which a leading,",
        ),
        # It listed every class, not the one repeated.
        (
            ["--in-classes", "cat,cat,cow"],
            "--in-classes lists 'cat' more than once: list each IN class once.",
        ),
        # It advised --initial-size, where the mistake was --budget.
        (
            ["--budget", "40"],
            "The pool holds 35 rows, fewer than the 40 labels --budget 40 buys a "
            "round (the initial set defaults to as many): lower --budget to at "
            "most 11.",
        ),
        # It wrote the 309 digits of 1e308 labels out.
        (["--budget", "1e308"], "fewer than the 1e+308 labels --budget 1e+308"),
        # Where no budget fits, the least and the rounds it fits.
        (
            ["--budget", "40", "--rounds", "40"],
            "as many): lower --budget to 1 and --rounds to at most 34.",
        ),
        (
            ["--initial-size", "50"],
            "--initial-size 50 is more than the 35 rows of the pool",
        ),
        # It named --initial-size twice, and --rounds, which cannot help.
        (
            ["--budget", "5", "--initial-size", "35"],
            "whatever the strategy; leave the pool more unlabelled rows: lower "
            "--initial-size or --test-size.\n",
        ),
        # Twice a round's labels left unlabelled are two rounds' worth.
        (
            ["--budget", "5", "--initial-size", "25", "--rounds", "3"],
            "lower --budget to at most 3, or --rounds to at most 2.\n",
        ),
        # A row left to query is no round: it advised --rounds to at most 1.
        (
            ["--budget", "5", "--initial-size", "34"],
            "whatever the strategy; leave the pool more unlabelled rows: lower "
            "--initial-size or --test-size.\n",
        ),
        # NumPy's "Seed must be between 0 and 2**32 - 1" once the table was read.
        (["--seed", "-1"], "--seed: must be an integer in [0, 2**32), got -1"),
        # Each used to reach scikit-learn's own error (class codes, no remedy).
        (["--test-size", "0"], "--test-size: must be in (0, 1)"),
        (["--test-size", "0.99"], "Cannot hold out a test set of 0.99"),
        # Accepted and ignored in a simulated run.
        (["--timeout", "5"], "--timeout: for runs with --interactive; leave it"),
        (
            ["--interactive", "--no-progress"],
            "--no-progress: for runs without --interactive; leave it out.",
        ),
        (["--ignore-columns", "x9"], "no columns ['x9'] to ignore"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, options, message):
    _table(tmp_path / "zoo.csv", n=40)
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, tmp_path / "zoo.csv", "--rounds", "2", *options)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


class ChecksPassed(Exception):
    """Raised where a simulated run would start: its checks passed."""


@pytest.fixture
def checks_only(monkeypatch):
    """A simulated run stops with ChecksPassed once its checks pass."""

    def runs(*args, **kwargs):
        raise ChecksPassed

    monkeypatch.setattr(cli, "run_active_learning", runs)


@pytest.mark.parametrize(
    "options, cheapest",
    [
        # The initial set, of a round's labels, is larger than the pool.
        (["--budget", "40"], "1"),
        (["--budget", "40", "--cost-in", "0.1", "--cost-ood", "0.7"], "0.1"),
        # The last round has no choice.
        (["--budget", "10", "--rounds", "3"], "1"),
        (["--budget", "9", "--rounds", "3", "--cost-ood", "0.3"], "0.3"),
        # Budgets below the dearer label's cost buy no label a round: the
        # search starts above them, which end it at 1 for the 1.7 that fits.
        (["--budget", "1.8", "--rounds", "18", "--cost-in", "0.1"], "0.1"),
        (["--budget", "30", "--initial-size", "10"], "1"),
    ],
)
def test_a_budget_too_large_for_the_pool_names_the_largest_that_fits(
    tmp_path, capsys, checks_only, options, cheapest
):
    # "lower --budget" named no bound, and the lower budget met a second
    # refusal, which named none either.
    _table(tmp_path / "zoo.csv", n=40)  # 35 rows in the pool

    def run(*budget):
        _run(tmp_path, tmp_path / "zoo.csv", "--rounds", "2", *options, *budget)

    def refusal(*budget):
        with pytest.raises(SystemExit) as exit_:
            run(*budget)
        assert exit_.value.code == 2
        return capsys.readouterr().err

    most = re.search(r"lower --budget to at most ([\d.]+)[,.]", refusal())[1]
    with pytest.raises(ChecksPassed):
        run("--budget", most)
    # The largest: a budget that buys one label more is refused.
    more = str(float(Fraction(most) + Fraction(cheapest)))
    assert f"lower --budget to at most {most}" in refusal("--budget", more)


@pytest.mark.parametrize("kind", ["mlp", "forest"])
def test_the_seed_of_a_run_seeds_its_classifier(kind):
    # --seed draws the split and the queries; a classifier seeded otherwise
    # would give every --seed the same trees or initial weights.
    estimator = cli._make_estimator(kind, 4, 2, 7)
    params = estimator.get_params()
    assert {v for k, v in params.items() if k.endswith("random_state")} == {7}


def test_a_round_of_unequal_costs_is_sized_by_the_cheaper_label_and_the_dearer(
    tmp_path, capsys, checks_only
):
    # --budget 9 buys 30 labels at 0.3 (the initial set) and 9 at 1 (the
    # fewest a round buys).
    _table(tmp_path / "zoo.csv", n=40)  # 35 rows in the pool
    with pytest.raises(SystemExit):
        _run(tmp_path, tmp_path / "zoo.csv", "--budget", "9", "--rounds", "3",
             "--cost-ood", "0.3")  # fmt: skip
    assert (
        "The pool holds 5 unlabelled rows: 2 rounds of at least 9 labels "
        "(--budget 9)" in capsys.readouterr().err
    )


def test_a_budget_and_rounds_that_fit_no_pool_name_a_budget_that_buys_a_label(
    tmp_path, capsys, checks_only
):
    # The least budget was printed to 6 digits (1.23456), below the dearer
    # label's cost of 1.2345649: following the advice was refused again.
    _table(tmp_path / "zoo.csv", n=40)  # 35 rows in the pool
    data, costs = tmp_path / "zoo.csv", ["--cost-ood", "1.2345649"]
    with pytest.raises(SystemExit):
        _run(tmp_path, data, *costs, "--budget", "40", "--rounds", "60")
    advice = r"lower --budget to ([\d.]+) and --rounds to at most (\d+)"
    budget, rounds = re.search(advice, capsys.readouterr().err).groups()
    assert budget == "1.2345649"
    with pytest.raises(ChecksPassed):
        _run(tmp_path, data, *costs, "--budget", budget, "--rounds", rounds)


def test_a_test_set_that_cannot_be_held_out_names_what_would_work(tmp_path, capsys):
    # "Each class needs at least 2 rows: change --test-size or the IN
    # classes", also where an IN class had one row, which no --test-size splits.
    truth = _table(tmp_path / "zoo.csv", n=40)
    lone = truth.copy()
    lone[np.flatnonzero(truth == "cow")[1:]] = "dog"
    text = (tmp_path / "zoo.csv").read_text().splitlines()
    rows = [line.rsplit(",", 1)[0] + "," + label for line, label in zip(text[1:], lone)]
    (tmp_path / "lone.csv").write_text("\n".join([text[0], *rows]) + "\n")
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, tmp_path / "lone.csv", "--rounds", "2")
    assert exit_.value.code == 2
    assert capsys.readouterr().err.endswith(
        "Cannot hold out a test set with every IN class on both sides: IN class "
        "'cow' (1 row) has fewer than the 2 rows that takes, one a side; drop it "
        "from --in-classes, or label more rows of it.\n"
    )
    # Where every class has 2 rows, the --test-size values that work.
    with pytest.raises(SystemExit):
        _run(tmp_path, tmp_path / "zoo.csv", "--rounds", "2", "--test-size", "0.99")
    err = capsys.readouterr().err
    fit = re.search(r"from ([\d.]+) to ([\d.]+), or label more rows", err)
    lowest, highest = float(fit[1]), float(fit[2])
    X = np.zeros((truth.size, 1))
    for test_size in (lowest, highest):
        split = _campaign.simulated_split(
            X,
            truth,
            ["cat", "cow"],
            initial_size=1,
            test_size=test_size,
            random_state=0,
        )
        assert set(split.y_test) == {0, 1}
    for test_size in (lowest - 0.01, highest + 0.01):
        with pytest.raises(ValueError, match="Cannot hold out"):
            _campaign.simulated_split(
                X,
                truth,
                ["cat", "cow"],
                initial_size=1,
                test_size=test_size,
                random_state=0,
            )


def test_in_classes_of_one_row_are_named_together():
    # Two IN classes of one row each: both named, and the message in the plural.
    truth = np.array(["cat", "cow", *["dog"] * 4, *["eel"] * 3])
    X = np.zeros((truth.size, 1))
    with pytest.raises(ValueError) as error:
        _campaign.simulated_split(
            X,
            truth,
            ["dog", "cow", "cat"],
            initial_size=1,
            test_size=0.5,
            random_state=0,
        )
    assert str(error.value) == (
        "Cannot hold out a test set with every IN class on both sides: IN classes "
        "'cat' (1 row), 'cow' (1 row) have fewer than the 2 rows that takes, one a "
        "side; drop them from --in-classes, or label more rows of them."
    )


def _split_of(in_classes, truth):
    """A simulated run's split of rows labelled `truth`, at a test size."""

    def split(test_size):
        return _campaign.simulated_split(
            np.zeros((truth.size, 1)),
            truth,
            in_classes,
            initial_size=1,
            test_size=test_size,
            random_state=0,
        )

    return split


@pytest.mark.parametrize(
    "counts",
    [(2, 2), (3, 2, 2), (100, 99), (100, 100), (100, 2), (50, 3, 3, 3), (50, 2, 7)],
)
def test_the_test_sizes_advised_are_those_that_hold_out_a_test_set(counts):
    # Of the test sizes in hundredths, those advised are those that work: up
    # to 0.98 for 199 IN rows of 2 classes, 0.99 from 200 on. Each class's
    # share is rounded, so 2 cows beside 100 cats take 0.25 to 0.74, where
    # the totals alone advised 0.01 to 0.98. Rounding may leave gaps (50, 2
    # and 7 rows take 0.17, 0.18, 0.28 to 0.71, 0.8 and 0.81): the longest run
    # is advised.
    in_classes = [f"c{j}" for j in range(len(counts))]
    split = _split_of(in_classes, np.repeat([*in_classes, "ood"], [*counts, 5]))
    with pytest.raises(ValueError) as error:
        split(0.999)  # every IN row: no test size holds out that many
    fit = re.search(
        r"Choose --test-size from ([\d.]+) to ([\d.]+), or label more rows of the "
        r"smallest IN classes\.$",
        str(error.value),
    )
    lowest, highest = round(float(fit[1]) * 100), round(float(fit[2]) * 100)
    works = []
    for t in range(1, 100):
        try:
            split(t / 100)
        except ValueError:
            continue
        works.append(t)
    runs = np.split(works, np.flatnonzero(np.diff(works) != 1) + 1)
    assert list(range(lowest, highest + 1)) == max(runs, key=len).tolist()
    # The refusal of a size that rounds a class away advises the same.
    if works[0] > 1:
        with pytest.raises(ValueError, match=f"from {fit[1]} to {fit[2]}, or label"):
            split(works[0] / 100 - 0.01)


@pytest.mark.parametrize("test_size", [0.25, 0.49, 0.51])
def test_the_one_test_size_that_holds_out_a_test_set_is_advised_alone(test_size):
    # 50 IN classes of 2 rows: only 0.5 leaves a row of each on both sides,
    # a run of one size, advised as one and not "from 0.5 to 0.5".
    in_classes = [f"c{j:02d}" for j in range(50)]
    split = _split_of(in_classes, np.repeat([*in_classes, "ood"], [2] * 50 + [5]))
    with pytest.raises(ValueError) as error:
        split(test_size)
    assert str(error.value).endswith(
        "Choose --test-size 0.5, or label more rows of the smallest IN classes."
    )
    assert set(split(0.5).y_test) == set(range(50))


@pytest.mark.parametrize("test_size, side", [(0.02, "test set"), (0.98, "pool")])
def test_a_split_that_leaves_an_in_class_out_of_a_side_is_refused(test_size, side):
    # Stratified, train_test_split rounds each class's share: 2 cows beside
    # 100 cats got none of a test set of 3 rows (or of a rest of 3), without
    # a word.
    truth = np.repeat(["cat", "cow", "ood"], [100, 2, 5])
    with pytest.raises(ValueError) as error:
        _campaign.simulated_split(
            np.zeros((truth.size, 1)),
            truth,
            ["cat", "cow"],
            initial_size=1,
            test_size=test_size,
            random_state=0,
        )
    assert str(error.value) == (
        f"A test set of {test_size:g} of the 102 IN rows, drawn class by class, "
        f"leaves IN class 'cow' out of the {side}: too few of it for that share. "
        "Choose --test-size from 0.25 to 0.74, or label more rows of it."
    )


def _rows_by_id():
    """A table of 60 rows, cat, cow and dog in turn, whose one feature is
    the row's id: the features and the labels."""
    truth = np.array(["cat", "cow", "dog"] * 20)
    return np.arange(truth.size, dtype=float)[:, None], truth


def test_the_order_of_the_in_classes_changes_no_simulated_split():
    # They were coded in the order given, so --in-classes cow,cat drew another
    # test set and trained the net on other outputs than cat,cow.
    X, truth = _rows_by_id()
    splits = [
        _campaign.simulated_split(
            X, truth, in_classes, initial_size=6, test_size=0.25, random_state=0
        )
        for in_classes in (["cat", "cow"], ["cow", "cat"])
    ]
    for name in ("X_pool", "y_pool", "initial_idx", "X_test", "y_test", "in_classes"):
        np.testing.assert_array_equal(
            getattr(splits[0], name), getattr(splits[1], name), err_msg=name
        )
    assert splits[0].in_classes.tolist() == ["cat", "cow"]


def test_a_simulated_split_keeps_every_row_once_and_the_pools_ood_share():
    # The test set is IN rows, the pool every other row, each once; the
    # initial set draws IN and OOD in the pool's proportions.
    X, truth = _rows_by_id()
    split = _campaign.simulated_split(
        X, truth, ["cat", "cow"], initial_size=10, test_size=0.25, random_state=0
    )
    rows = np.concatenate([split.X_pool, split.X_test]).ravel()
    assert sorted(rows.tolist()) == X.ravel().tolist()
    assert (split.y_test >= 0).all() and len(split.y_test) == 10
    is_ood = split.y_pool < 0
    assert is_ood.mean() == 0.4  # 20 OOD rows of 50
    assert is_ood[split.initial_idx].sum() == 4  # int(10 * 0.4)


def test_a_run_checkpointed_under_the_earlier_rounds_rule_reruns(
    tmp_path, capsys, monkeypatch
):
    # The rule that the last round must have a choice came later: the same
    # command was refused, and --rounds lower than the checkpoint's too.
    _table(tmp_path / "zoo.csv", n=40)
    command = ("--rounds", "5", "--budget", "5", "--initial-size", "15")
    with monkeypatch.context() as m:  # the earlier rule: no such check
        m.setattr(cli, "_leaves_a_choice", lambda *args: True)
        _run(tmp_path, tmp_path / "zoo.csv", *command, "--classifier", "forest")
    first = (tmp_path / "out" / "records.csv").read_text()
    _run(tmp_path, tmp_path / "zoo.csv", *command, "--classifier", "forest")
    assert (tmp_path / "out" / "records.csv").read_text() == first
    with pytest.raises(SystemExit):  # a fresh run of it is still refused
        _run(tmp_path / "other", tmp_path / "zoo.csv", *command)
    assert "leave the last round at least twice" in capsys.readouterr().err


def test_the_setting_of_a_run_counts_its_query_rounds_in_words(tmp_path, capsys):
    _table(tmp_path / "zoo.csv")
    for rounds, said in [("2", "x 1 round\n"), ("3", "x 2 rounds\n")]:
        _run(tmp_path, tmp_path / "zoo.csv", "--rounds", rounds, "--budget", "10",
             "--classifier", "forest", "--output", str(tmp_path / rounds))  # fmt: skip
        assert said in capsys.readouterr().out  # was "x 1 rounds"
        # Of the whole pool, the initial set too; and a pool that lasted.
        summary = (tmp_path / rounds / "summary.md").read_text().splitlines()
        assert " OOD of 142 pool rows, " in summary[0]
        assert summary[0].endswith(said.strip())


def test_ignored_columns_and_quoted_class_names(tmp_path, capsys):
    # A row id would have been a feature; a class holding a comma could not
    # be named in --in-classes ('"brick' and 'face"').
    _table(tmp_path / "zoo.csv", n=40)
    lines = (tmp_path / "zoo.csv").read_text().splitlines()
    rows = [f"id,{lines[0]}"] + [f"{i},{line}" for i, line in enumerate(lines[1:])]
    text = "\n".join(rows).replace(",cat", ',"big, cat"') + "\n"
    (tmp_path / "zoo.csv").write_text(text)
    options = ["--rounds", "2", "--budget", "10", "--classifier", "forest"]
    with pytest.raises(SystemExit):
        _run(tmp_path, tmp_path / "zoo.csv", *options)
    assert "--ignore-columns id" in capsys.readouterr().err
    main(
        ["run", str(tmp_path / "zoo.csv"), "--in-classes", '"big, cat",cow']
        + ["--label-column", "species", "--ignore-columns", "id"]
        + ["--output", str(tmp_path / "out"), *options]
    )
    assert "IN classes big, cat, cow" in capsys.readouterr().out
    assert (tmp_path / "out" / "records.csv").exists()


def test_a_repeated_list_option_adds_up(tmp_path, capsys):
    # `--in-classes cat --in-classes cow` ran with cow alone, and a repeated
    # --ignore-columns left out its last columns only: the others were
    # features. argparse keeps the last repeat of an option, without a word.
    _table(tmp_path / "zoo.csv", n=40)
    lines = (tmp_path / "zoo.csv").read_text().splitlines()
    rows = [f"id,key,{lines[0]}"] + [
        f"{i},{7 * i % 40},{line}" for i, line in enumerate(lines[1:])
    ]
    (tmp_path / "zoo.csv").write_text("\n".join(rows) + "\n")
    command = ["run", str(tmp_path / "zoo.csv"), "--in-classes", "cat"]
    command += ["--in-classes", "cow", "--ignore-columns", "id"]
    command += ["--ignore-columns", "key", "--label-column", "species"]
    args = build_parser().parse_args(command)
    assert (args.in_classes, args.ignore_columns) == (["cat", "cow"], ["id", "key"])
    main(command + ["--rounds", "2", "--budget", "10", "--classifier", "forest"]
         + ["--output", str(tmp_path / "out")])  # fmt: skip
    assert "IN classes cat, cow" in capsys.readouterr().out


def _letters_table(path, n=240, n_classes=12):
    """Blobs labelled A, B, C, ...: many classes, as in a table of letters."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, n_classes, n)
    X = rng.normal(size=(n, 3)) + 3 * y[:, None]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x0", "x1", "x2", "label"])
        writer.writerows([*row, chr(ord("A") + k)] for row, k in zip(X.round(4), y))


def test_a_runs_figure_title_counts_a_long_class_list(tmp_path, monkeypatch):
    # 20 IN classes named one by one filled lines of the figure's title.
    titles = []
    draw = cli._learning_curves_png
    monkeypatch.setattr(
        cli, "_learning_curves_png", lambda *args: titles.append(args[1]) or draw(*args)
    )
    _letters_table(tmp_path / "letters.csv")
    options = ["--rounds", "2", "--budget", "10", "--classifier", "forest"]
    # Up to 8 are named.
    for in_classes, output in [("ABCDEFGHIJ", "many"), ("ABCDEFGH", "few")]:
        main(
            ["run", str(tmp_path / "letters.csv"), "--in-classes", ",".join(in_classes)]
            + ["--output", str(tmp_path / output), *options]
        )
    assert titles[0].startswith("letters.csv: 10 IN classes, ")
    assert titles[1].startswith("letters.csv: IN classes A, B, C, D, E, F, G, H, ")
    # The summary names every class.
    summary = (tmp_path / "many" / "summary.md").read_text()
    assert summary.startswith("letters.csv: IN classes A, B, C, D, E, F, G, H, I, J, ")


def _run_with_classes_renamed(data, renamed):
    """A short run, into data's folder/out, on a table whose IN classes, cat
    and cow, are renamed."""
    _table(data, n=40)
    text = data.read_text()
    data.write_text(re.sub("cat|cow", lambda m: renamed[m[0]], text))
    main(
        ["run", str(data), "--in-classes", ",".join(renamed.values())]
        + ["--label-column", "species", "--output", str(data.parent / "out")]
        + ["--rounds", "2", "--budget", "5", "--classifier", "forest"]
    )


def test_a_dollar_in_a_class_name_is_shown_as_written_in_the_figures_title(
    tmp_path, monkeypatch
):
    # matplotlib read "$_low, price_$" as math: it failed to parse once every
    # round had run, and no output was written, on every rerun too; "$0,$1"
    # lost its dollars.
    figures = []
    plot = cli.plot_learning_curves
    monkeypatch.setattr(
        cli,
        "plot_learning_curves",
        lambda records, ax, **kw: figures.append(plot(records, ax=ax, **kw)),
    )
    _run_with_classes_renamed(
        tmp_path / "prices.csv", {"cat": "price_$_low", "cow": "price_$_high"}
    )
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(
        [*cli.OUTPUT_FILES, cli.CHECKPOINT_FILE, cli.MARKER_FILE]
    )
    (fig,) = figures
    title = fig._suptitle  # Figure.get_suptitle is new in matplotlib 3.8
    shown = " ".join(title.get_text().split())
    assert "IN classes price_$_low, price_$_high" in shown
    assert title._preprocess_math(title.get_text()) == (title.get_text(), False)


def test_the_summary_shows_the_names_of_the_file_and_classes_as_written(
    tmp_path, capsys
):
    # They went into summary.md as they are: markdown showed "c*d*" as "cd"
    # in italics, "__x__" as "x" in bold.
    _run_with_classes_renamed(
        tmp_path / "#zoo_*1*.csv", {"cat": "c*d*", "cow": "__x__|$y$"}
    )
    setting = "#zoo_*1*.csv: IN classes c*d*, __x__|$y$, "
    assert setting in capsys.readouterr().out  # printed as written
    line = (tmp_path / "out" / "summary.md").read_text().splitlines()[0]
    assert line.startswith(r"\#zoo\_\*1\*.csv: IN classes c\*d\*, \_\_x\_\_\|\$y\$, ")
    # Markdown reads "\" and a punctuation mark as that mark alone.
    assert re.sub(r"\\([!-/:-@[-`{-~])", r"\1", line).startswith(setting)


def test_a_line_break_in_the_files_name_starts_no_line_of_the_summary(tmp_path):
    # "zoo\n# Heading.csv" made a heading of summary.md, and "\n\n" a paragraph.
    _run_with_classes_renamed(
        tmp_path / "zoo\n\n# big\r.csv", {"cat": "cat", "cow": "cow"}
    )
    summary = (tmp_path / "out" / "summary.md").read_bytes().decode()
    first = summary.splitlines()[0]
    assert first.startswith(r"zoo\n\n# big\r.csv: IN classes cat, cow, ")


@pytest.mark.skipif(
    Version(sklearn.__version__) < Version("1.7"),
    reason="scikit-learn gives this warning from 1.7 on",
)
def test_scikit_learns_warning_of_many_classes_shows_once(
    tmp_path, capsys, monkeypatch
):
    # A forest's trees each warned that the classes are over 50% of the
    # samples: ~100 copies on stderr for 20 IN classes.
    summarize = cli.summarize_final_round

    def warning_twice(records):
        for _ in range(2):
            warnings.warn("another warning", UserWarning, stacklevel=1)
        return summarize(records)

    monkeypatch.setattr(cli, "summarize_final_round", warning_twice)
    _letters_table(tmp_path / "letters.csv", n=400, n_classes=26)
    in_classes = ",".join("ABCDEFGHIJKLMNOPQRST")
    command = ["run", str(tmp_path / "letters.csv"), "--in-classes", in_classes]
    options = ["--rounds", "2", "--budget", "30", "--classifier", "forest"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main([*command, "--output", str(tmp_path / "out"), *options])
    messages = [str(w.message) for w in caught]
    assert sum(m.startswith("The number of unique classes") for m in messages) == 1
    assert messages.count("another warning") == 2  # others are left as they were


def test_two_commands_in_threads_each_show_the_many_classes_warning_once():
    # Each command swapped the process's showwarning in a catch_warnings
    # block: two in threads overlapping, the second's warning went through
    # the first's hook, which had shown one already, and the first's hook,
    # put back for good as the second ended, swallowed the process's after.
    first_in, first_warned, second_warned, first_out = (
        threading.Barrier(2, timeout=60) for _ in range(4)
    )
    message = "The number of unique classes is greater than 50%"

    def many_classes():
        warnings.warn(message, UserWarning, stacklevel=2)

    def first():
        with cli._shown_once(message):
            first_in.wait()
            many_classes()
            first_warned.wait()
            second_warned.wait()
        first_out.wait()

    def second():
        first_in.wait()
        with cli._shown_once(message):
            first_warned.wait()
            many_classes()
            many_classes()
            second_warned.wait()
            first_out.wait()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shown = warnings.showwarning
        threads = [threading.Thread(target=f) for f in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert warnings.showwarning is shown
        many_classes()
    assert [str(w.message) for w in caught] == [message] * 3


def test_the_many_classes_warning_of_a_forests_worker_threads_shows_once():
    # A forest fits its trees in joblib's threads where a caller of main asks
    # for them (parallel_config): each tree's warning came from a thread with
    # no block of its own, and was shown.
    message = "The number of unique classes is greater than 50%"

    def many_classes():
        warnings.warn(message, UserWarning, stacklevel=2)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with cli._shown_once(message):
            many_classes()
            workers = [threading.Thread(target=many_classes) for _ in range(2)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        many_classes()  # after the block, shown again
    assert [str(w.message) for w in caught] == [message] * 2


# main as a console script calls it, then a warning of the caller's own.
_WARNS_AFTER_MAIN = """
import sys, warnings
from skal_openset.__main__ import main

hooks = warnings.formatwarning, warnings.showwarning
main(sys.argv[1:])
assert (warnings.formatwarning, warnings.showwarning) == hooks
warnings.warn("the caller's")
"""


def test_a_commands_warning_of_several_lines_is_written_on_one():
    # A figure's failure quotes its exception, as matplotlib's run over lines.
    with cli._warnings_as_lines("prog"):
        line = warnings.formatwarning("failed:\n  $x\n  ^", UserWarning, "f.py", 1)
    assert line == "prog: warning: failed: $x ^\n"


def test_an_output_path_without_room_for_the_names_a_run_writes_is_refused(
    tmp_path, capsys, monkeypatch
):
    # 20 characters short of PATH_MAX: the folder fits, a file in it does not.
    room = 4095 - 20 - len(str(tmp_path)) - 1
    name = ("a" * 99 + "/") * (room // 100) + "b" * (room % 100)
    monkeypatch.setattr(cli, "demo_records", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--output", str(tmp_path / name)])
    assert exit_.value.code == 2
    assert "is a path of 4075 characters, too long" in capsys.readouterr().err


def test_a_warning_of_the_command_is_one_line_and_the_callers_stay_as_they_were(
    tmp_path,
):
    # It named a line of Python, the console script's (".../bin/skal-openset:8:
    # UserWarning: ..." and then "  sys.exit(main())") or "<frozen runpy>:88".
    _table(tmp_path / "zoo.csv", n=40)
    table = (tmp_path / "zoo.csv").read_text()
    (tmp_path / "zoo.csv").write_text(table.replace(",cat\n", ",Cat\n", 1))
    run = ["run", str(tmp_path / "zoo.csv"), "--in-classes", "cat,cow"]
    options = ["--label-column", "species", "--classifier", "forest", "--rounds", "2"]
    done = subprocess.run(
        [sys.executable, "-c", _WARNS_AFTER_MAIN, *run, *options, "--budget", "5"]
        + ["--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(Path(cli.__file__).parents[1])),
    )
    assert done.returncode == 0, done.stderr
    # Python 3.13 shows the line of code given by -c under its warning too.
    warned, caller, *line = done.stderr.splitlines()
    assert line in ([], ['  warnings.warn("the caller\'s")'])
    assert warned == (
        "skal-openset: warning: The file's labels 'Cat' (1 row(s)) look like the "
        "IN class 'cat' but for their case; they count as OOD. If they are that "
        "class, make the labels consistent in the file."
    )
    assert caller.endswith(": UserWarning: the caller's")  # Python's format


def test_commands_run_from_threads_put_back_the_callers_warning_format(
    tmp_path, monkeypatch
):
    # Overlapping calls: the second saved the first's one-line format as the
    # caller's and put it back last, so it stayed for the rest of the process;
    # meanwhile every thread's warnings took it.
    def demo(output, *args, **kwargs):
        time.sleep(0.3)  # long enough for the other thread's call to start
        warnings.warn("demo", UserWarning, stacklevel=2)

    monkeypatch.setattr(cli, "run_demo", demo)
    # conftest's one-thread block, held by this thread, would keep them waiting
    monkeypatch.setattr(cli, "one_torch_thread", contextlib.nullcontext)
    callers = warnings.formatwarning
    threads = [
        threading.Thread(target=main, args=(["demo", "--output", str(tmp_path / n)],))
        for n in "ab"
    ]
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")  # recorded, whatever -W says
        for thread in threads:
            thread.start()
            time.sleep(0.1)
        # This thread's warnings keep its format meanwhile.
        mine = warnings.formatwarning("mine", UserWarning, "mine.py", 3)
        for thread in threads:
            thread.join()
    assert warnings.formatwarning is callers
    assert mine == callers("mine", UserWarning, "mine.py", 3)


def test_a_format_put_back_after_a_command_ended_is_not_taken_for_the_callers():
    # A caller's code that swapped the format in a thread while a command ran
    # put back the command's after it ended; the next command took it for the
    # caller's, and every warning then formatted recursed without end.
    callers = warnings.formatwarning
    try:
        with cli._warnings_as_lines("skal-openset"):
            theirs = warnings.formatwarning
        warnings.formatwarning = theirs
        with cli._warnings_as_lines("skal-openset"):
            pass
        mine = warnings.formatwarning("mine", UserWarning, "mine.py", 3, "")
    finally:
        warnings.formatwarning = callers
    assert mine == callers("mine", UserWarning, "mine.py", 3, "")


def test_a_run_with_label_costs_says_its_auc_is_over_the_budget(
    tmp_path, capsys, monkeypatch
):
    # The AUC, averaged over the budget spent, stood beside a figure against
    # the labels bought, without a word on which.
    figures = []
    draw = cli.plot_learning_curves
    monkeypatch.setattr(
        cli,
        "plot_learning_curves",
        lambda *args, **kwargs: figures.append(draw(*args, **kwargs)),
    )
    _table(tmp_path / "zoo.csv")
    options = ["--rounds", "2", "--budget", "10", "--classifier", "forest"]
    # Equal costs other than 1 too make the budget differ from the labels.
    equal = ["--cost-in", "2", "--cost-ood", "2"]
    for output, costs in [("costs", equal), ("ones", [])]:
        output = str(tmp_path / output)
        _run(tmp_path, tmp_path / "zoo.csv", *options, *costs, "--output", output)
    costs, ones = figures
    out = capsys.readouterr().out
    over_budget = "AUC: test accuracy averaged over the budget spent"
    assert out.count(over_budget) == 1  # only the run with costs says it
    assert over_budget in (tmp_path / "costs" / "summary.md").read_text()
    assert costs.axes[0].get_xlabel() == "budget spent (initial set excluded)"
    summary = (tmp_path / "ones" / "summary.md").read_text()
    assert "AUC: test accuracy averaged over the labels bought" in summary
    assert ones.axes[0].get_xlabel() == "labels bought (initial set excluded)"


def _table_with_own_id(path):
    """`_table`'s pool from row 20 on, with an id column first: 1, 2, ..."""
    truth = _table(path, blank_from=20)
    lines = path.read_text().splitlines()
    rows = [f"id,{lines[0]}"] + [f"{i + 1},{line}" for i, line in enumerate(lines[1:])]
    path.write_text("\n".join(rows) + "\n")
    return truth


def _first_query_with_own_id(tmp_path):
    """The true labels of `_table_with_own_id`'s zoo.csv and the path of the
    first query file of a run that leaves its id column out, waiting."""
    truth = _table_with_own_id(tmp_path / "zoo.csv")
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--ignore-columns", "id")
    return truth, tmp_path / "out" / "queries" / "round_2.csv"


def test_a_query_file_shows_the_tables_own_id(tmp_path, capsys):
    # The query's "id" is the row's position; a table's own id, left out as
    # the README advises, was not shown, so "id 7" could be taken for it.
    truth, query = _first_query_with_own_id(tmp_path)
    with query.open(newline="") as f:
        asked = list(csv.DictReader(f))
    assert [int(r["id in zoo.csv"]) for r in asked] == [int(r["id"]) + 1 for r in asked]
    blank = query.read_text()
    (tmp_path / "out" / "state.joblib").unlink()  # blank as written: asked anew
    assert "No complete labels" in _refusal(tmp_path, capsys, "--ignore-columns", "id")
    assert query.read_text() == blank
    with query.open("w", newline="") as f:  # answered, the extra column kept
        writer = csv.writer(f)
        writer.writerow(["id", "label", "id in zoo.csv"])
        for r in asked:
            label = truth[int(r["id"])]
            label = label if label in ("cat", "cow") else "unknown"
            writer.writerow([r["id"], label, r["id in zoo.csv"]])
    _wait_briefly(tmp_path, "--ignore-columns", "id")
    learner = load_object(tmp_path / "out" / "state.joblib")["learner"]
    assert len(learner.y_labelled_) == 25


def test_ignored_columns_of_one_name_are_all_shown_in_a_query_file(tmp_path):
    # Only the last column named "key" was shown.
    _table(tmp_path / "zoo.csv", blank_from=20)
    lines = (tmp_path / "zoo.csv").read_text().splitlines()
    rows = [f"key,{lines[0]},key"]
    rows += [f"a{i},{line},b{i}" for i, line in enumerate(lines[1:])]
    (tmp_path / "zoo.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--ignore-columns", "key")
    query = tmp_path / "out" / "queries" / "round_2.csv"
    with query.open(newline="") as f:
        header, *asked = csv.reader(f)
    keys = ["key (column 1) in zoo.csv", "key (column 8) in zoo.csv"]
    assert header == ["id", "label", *keys]
    assert all(row[2:] == [f"a{row[0]}", f"b{row[0]}"] for row in asked)


def test_an_interactive_run_may_start_without_some_in_classes(tmp_path, capsys):
    labels = np.array(["cat", "", "dog", ""])
    assert check_in_classes(["cat", "cow"], labels, "unknown", interactive=True)
    assert "No row is labelled ['cow'] yet" in capsys.readouterr().out
    with pytest.raises(ValueError, match="label no row of the file"):
        check_in_classes(["cat", "cow"], labels, "unknown")
    # the file's labels to pick from, without the empty one of unlabelled rows
    match = r"\(its labels: \['cat', 'dog'\]\); .* label at least one row of an IN"
    with pytest.raises(ValueError, match=match):
        check_in_classes(["cow", "eel"], labels, "unknown", interactive=True)


def test_an_in_class_without_labelled_rows_is_named_when_the_campaign_starts(
    tmp_path, capsys
):
    # It was named at every rerun, though the campaign's queries may have
    # found and taught it (the file does not show their labels).
    _table(tmp_path / "zoo.csv", blank_from=20)
    for starting in (True, False):
        with pytest.raises(SystemExit):
            _wait_briefly(tmp_path, "--in-classes", "cat,yak")
        out = capsys.readouterr().out
        assert ("No row is labelled ['yak'] yet" in out) == starting
        assert ("Resuming from" in out) != starting
        # The advice to rerun with the right name said nothing of the state,
        # which refuses other options.
        assert ("after deleting state.joblib in this one" in out) == starting
    (tmp_path / "out" / "state.joblib").unlink()
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--in-classes", "cat,cow")
    out, err = capsys.readouterr()
    assert "Resuming from" not in out and "other data or options" not in err


def test_an_in_class_never_labelled_is_named_when_the_campaign_ends(tmp_path, capsys):
    # It was named only at the start, many rounds of output before.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--in-classes", "cat,yak")
    _answer(tmp_path, truth)  # no row of the table is a yak
    capsys.readouterr()
    _wait_briefly(tmp_path, "--in-classes", "cat,yak")
    out = capsys.readouterr().out
    before, said, _ = out.partition("No row is labelled ['yak'] after round 2:")
    assert said and "Round 2: " in before


def test_a_new_interactive_campaign_without_unlabelled_rows_is_refused(
    tmp_path, capsys
):
    # With -1 for "not labelled yet" (scikit-learn's semi-supervised
    # convention), every row trained as OOD and the run "finished" at once.
    rng = np.random.default_rng(0)
    labels = np.where(np.arange(40) < 10, np.arange(40) % 2, -1)
    np.savez(tmp_path / "semi.npz", X=rng.normal(size=(40, 3)), label=labels)
    options = ["--in-classes", "0,1", "--output", str(tmp_path / "out")]
    options += ["--interactive", "--timeout", "0.2", "--strategy", "random"]
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(tmp_path / "semi.npz"), *options])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "is the rows whose label is empty ('' in a CSV, NaN in a .npz)" in err
    assert "most frequent label '-1' (30 of 40 rows)" in err
    assert not (tmp_path / "out" / "state.joblib").exists()
    # no placeholder in sight: the other way out is named
    _table(tmp_path / "zoo.csv", n=40)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    assert "or leave out --interactive" in capsys.readouterr().err
    # A campaign whose queries labelled every row ends as it should.
    done = tmp_path / "done"
    done.mkdir()
    truth = _table(done / "zoo.csv", n=25, blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(done)
    _answer(done, truth)
    _wait_briefly(done, "--rounds", "3")
    assert "Every row is labelled; stopping after round 2" in capsys.readouterr().out


def test_missing_file_and_unlabelled_rows_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _run(tmp_path, tmp_path / "nothing.csv")
    err = capsys.readouterr().err
    assert f"No data file at {tmp_path / 'nothing.csv'}: check the spelling" in err
    with pytest.raises(FileNotFoundError, match="nope.csv .*: check the spelling"):
        load_table("nope.csv")
    # A folder was "No data file ...: check the spelling", exit status 1 once read.
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, tmp_path)
    assert exit_.value.code == 2
    assert f"{tmp_path} is a folder; give the path of the data file in it" in (
        capsys.readouterr().err
    )
    _table(tmp_path / "zoo.csv", n=40, blank_from=30)
    with pytest.raises(SystemExit):
        _run(tmp_path, tmp_path / "zoo.csv")
    assert "Data row 30 (counted from 0" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_pipe_for_a_data_file_exits_2_saying_to_save_it_first(tmp_path, capsys):
    # A shell's process substitution, <(...), was "No data file at
    # /dev/fd/63: check the spelling".
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, pipe)
    assert exit_.value.code == 2
    assert (
        f"{pipe} exists but is not a regular file: it is a pipe or device (such "
        "as a shell's <(...)), and the data file is read more than once; save it "
        "to a file first and give that file."
    ) in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED / "tabular" / "satimage.csv").exists(), reason="no data"
)
def test_satimage_runs_first_time(tmp_path, capsys):
    main(
        [
            "run",
            str(SHARED / "tabular" / "satimage.csv"),
            "--in-classes",
            "1,2,3",
            "--rounds",
            "2",
            "--output",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert "satimage.csv: IN classes 1, 2, 3" in out and "| MQ-Net |" in out
    assert (tmp_path / "records.csv").exists()


@pytest.mark.slow
@pytest.mark.skipif(
    not (SHARED / "tabular" / "satimage.csv").exists(), reason="no data"
)
def test_satimage_runs_first_time_interactively(tmp_path, capsys):
    """satimage with all but 60 labels blanked; a scripted person answers."""
    with (SHARED / "tabular" / "satimage.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    truth = np.array([row[-1].strip() for row in rows])
    labelled = set(np.random.RandomState(0).permutation(len(rows))[:60].tolist())
    data = tmp_path / "satimage_to_label.csv"
    with data.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i, row in enumerate(rows):
            writer.writerow(row[:-1] + [row[-1] if i in labelled else ""])
    with _person_answering(
        tmp_path / "queries",
        truth,
        lambda label: "unknown",
        in_classes=("1", "2", "3"),
    ):
        main(
            [
                "run",
                str(data),
                "--in-classes",
                "1,2,3",
                "--ood-label",
                "unknown",
                "--interactive",
                "--rounds",
                "3",
                "--budget",
                "20",
                "--poll-seconds",
                "0.05",
                "--timeout",
                "120",
                "--output",
                str(tmp_path),
            ]
        )
    with (tmp_path / "records.csv").open() as f:
        records = list(csv.DictReader(f))
    assert [int(r["n_labelled"]) for r in records] == [60, 80, 100]
    assert "Labelled 100 rows" in capsys.readouterr().out


def _polls(monkeypatch, steps):
    """Each wait of the campaign between polls takes a second of a fake clock
    and does the next of `steps` (a callable, or None: nothing)."""
    clock, steps = [time.monotonic()], iter(steps)

    def wait(seconds):
        clock[0] += 1.0
        step = next(steps, None)
        if step is not None:
            step()

    monkeypatch.setattr("skal_openset._campaign.time.sleep", wait)
    monkeypatch.setattr("skal_openset._campaign.time.monotonic", lambda: clock[0])


def test_a_query_file_caught_half_saved_is_read_again(tmp_path, monkeypatch):
    # The person's editor saves in place: each wait first finds the open query
    # file cut off after half its rows, then whole. Only the file that holds
    # still is read.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    queries = tmp_path / "out" / "queries"
    answered, saves = {}, Counter()

    def editor_saves(seconds):
        path = max(queries.glob("round_*.csv"))
        saves[path] += 1
        if saves[path] == 1:
            with path.open(newline="") as f:
                answered[path] = list(csv.DictReader(f))
            for r in answered[path]:
                label = truth[int(r["id"])]
                r["label"] = label if label in ("cat", "cow") else "unknown"
        if saves[path] <= 2:
            rows = answered[path]
            with path.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=["id", "label"])
                writer.writeheader()
                writer.writerows(rows[: len(rows) // 2] if saves[path] == 1 else rows)

    monkeypatch.setattr("skal_openset._campaign.time.sleep", editor_saves)
    options = [
        "--interactive",
        "--rounds",
        "3",
        "--budget",
        "8",
        "--strategy",
        "random",
    ]
    _run(tmp_path, tmp_path / "zoo.csv", *options, "--timeout", "60")
    with (tmp_path / "out" / "records.csv").open() as f:
        records = list(csv.DictReader(f))
    assert [int(r["n_labelled"]) for r in records] == [20, 28, 36]


def test_a_second_run_into_a_campaigns_output_is_refused(tmp_path, capsys, monkeypatch):
    # The same command in two terminals: a lagging campaign saved an older
    # state over the other's, and the rounds taught meanwhile were lost.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    out = tmp_path / "out"
    refused = []

    def second_terminal():
        with pytest.raises(SystemExit) as exit_:
            _wait_briefly(tmp_path)
        refused.append((exit_.value.code, capsys.readouterr().err))
        _answer(tmp_path, truth)

    _polls(monkeypatch, [second_terminal])
    _wait_briefly(tmp_path, "--timeout", "60")
    assert refused == [
        (
            2,
            f"skal-openset: error: --output {out} is in use by another run "
            f"(process {os.getpid()}): wait for it to end, or give this one "
            "another --output.\n",
        )
    ]
    assert not (out / _atomic.LOCK_FILE).exists()  # released
    assert len(load_object(out / "state.joblib")["taught"]) == 1
    _wait_briefly(tmp_path)  # resumes: the campaign is done


@pytest.mark.parametrize("posix", [True, False])
def test_an_output_lock_refuses_a_second_holder_and_leaves_no_trace(
    tmp_path, monkeypatch, posix
):
    if not posix:  # a lock file made only where none is, as on Windows
        monkeypatch.setattr(_atomic, "fcntl", None)
    out = tmp_path / "a" / "out"
    with _atomic.folder_lock(out):
        with pytest.raises(ValueError, match=r"is in use by another run") as error:
            with _atomic.folder_lock(out):
                pass
        assert ("If no run is going on, delete" in str(error.value)) != posix
    assert not (tmp_path / "a").exists()  # made for the run, left empty
    if posix:  # a lock file left by a killed run holds nothing
        out.mkdir(parents=True)
        (out / _atomic.LOCK_FILE).write_text("999999\n")
        with _atomic.folder_lock(out):
            pass
        assert list(out.iterdir()) == []
    # A refused command leaves nothing behind.
    _table(tmp_path / "zoo.csv", n=40)
    run = ["run", str(tmp_path / "zoo.csv"), "--label-column", "species"]
    with pytest.raises(SystemExit):
        main([*run, "--in-classes", "cat,lion", "--output", str(tmp_path / "b" / "o")])
    assert not (tmp_path / "b").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="fcntl's locks are POSIX's")
def test_an_output_lock_released_leaves_the_lock_a_next_run_took_meanwhile(
    tmp_path, monkeypatch
):
    # The lock file is removed while still locked, then closed: a run that
    # took the folder between the two holds a lock file of its own, which a
    # second removal after the close would take from it, letting a third in.
    out = tmp_path / "out"
    path = out / _atomic.LOCK_FILE
    close, released, next_run = os.close, [False], []

    def next_run_takes_it(fd):
        if released[0]:  # the lock's descriptor, closed as it is released
            released[0] = False
            next_run.append(_atomic._take_lock(path))
        close(fd)

    with _atomic.folder_lock(out):
        monkeypatch.setattr(os, "close", next_run_takes_it)
        released[0] = True
    monkeypatch.undo()
    (fd,) = next_run
    assert path.read_text() == f"{os.getpid()}\n"  # the next run's, still there
    with pytest.raises(ValueError, match="is in use by another run"):
        with _atomic.folder_lock(out):
            pass
    _atomic._release_lock(path, fd)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("posix", [True, False])
def test_an_output_lock_on_a_full_disk_is_named_and_leaves_no_trace(
    tmp_path, monkeypatch, posix
):
    # Writing the process id on a full disk failed with "[Errno 28] No space
    # left on device", naming no file, and left the lock file behind (and the
    # folder made for it), still open and locked: a second run in the same
    # process was refused as "in use by another run".
    if not posix:
        monkeypatch.setattr(_atomic, "fcntl", None)
    write = os.write

    def full(fd, data):
        if data == f"{os.getpid()}\n".encode():
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(fd, data)

    out = tmp_path / "a" / "out"
    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError) as failed:
        with _atomic.folder_lock(out):
            pytest.fail("locked")
    monkeypatch.setattr(os, "write", write)
    assert str(failed.value) == (
        f"[Errno {errno.ENOSPC}] Could not write {out / _atomic.LOCK_FILE} (No "
        "space left on device)"
    )
    assert not (tmp_path / "a").exists()
    with _atomic.folder_lock(out):  # once there is room
        assert (out / _atomic.LOCK_FILE).read_text() == f"{os.getpid()}\n"


@pytest.mark.parametrize("posix", [True, False])
def test_an_output_lock_that_cannot_be_removed_leaves_the_runs_error_raised(
    tmp_path, monkeypatch, posix
):
    # A disk remounted read-only (ext4 on I/O errors) failed the run's save,
    # then the lock file's removal: its error replaced the save's, naming
    # the lock, not the checkpoint, and the lock was left open and held, so
    # a second run in the same process was refused as "in use".
    if not posix:
        monkeypatch.setattr(_atomic, "fcntl", None)
    out = tmp_path / "out"
    unlink = Path.unlink

    def read_only(self, missing_ok=False):
        if self.name == _atomic.LOCK_FILE:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        unlink(self, missing_ok=missing_ok)

    saving = OSError(errno.EROFS, "Read-only file system", str(out / "state"))
    with pytest.raises(OSError) as failed:
        with _atomic.folder_lock(out):
            monkeypatch.setattr(Path, "unlink", read_only)
            raise saving
    monkeypatch.setattr(Path, "unlink", unlink)
    assert failed.value is saving
    if not posix:  # the lock file left says to delete it
        (out / _atomic.LOCK_FILE).unlink()
    with _atomic.folder_lock(out):  # once the disk is fixed
        assert (out / _atomic.LOCK_FILE).read_text() == f"{os.getpid()}\n"


def test_an_output_lock_on_a_file_system_without_locks_warns_and_runs(
    tmp_path, monkeypatch
):
    # flock's ENOLCK (some network mounts) ended every run there, which
    # worked before the lock, and left the lock file and the folder behind.
    import errno

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(_atomic.fcntl, "flock", no_locks)
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="Cannot lock .*No locks available"):
        with _atomic.folder_lock(out):
            assert out.is_dir()
    assert not out.exists()


def test_an_output_lock_leaves_a_users_own_lock_file_alone(tmp_path):
    # Named ".lock", the run's lock file overwrote and deleted a user's.
    (tmp_path / ".lock").write_text("mine\n")
    with _atomic.folder_lock(tmp_path):
        pass
    assert (tmp_path / ".lock").read_text() == "mine\n"


def test_a_marker_that_is_a_link_makes_no_folder_a_runs(tmp_path):
    # The marker, or a state file, as a symbolic link (to a run's elsewhere)
    # marks no run's outputs here: files named as a killed run's copies stay,
    # whatever the run then says of the link.
    _table(tmp_path / "zoo.csv")
    out, left = tmp_path / "out", ".checkpoint.joblib.m28t1_00.tmp"
    out.mkdir()
    (tmp_path / "elsewhere").write_text("")
    (out / cli.MARKER_FILE).symlink_to(tmp_path / "elsewhere")
    (out / left).write_text("x")
    with contextlib.suppress(SystemExit), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # naming the copy is not the point
        _run(tmp_path, tmp_path / "zoo.csv", "--rounds", "2", "--classifier", "forest")
    assert (out / left).read_text() == "x"


def test_a_run_removes_the_copies_a_killed_run_left_and_no_other_file(
    tmp_path, monkeypatch
):
    # SIGKILL (the OOM killer) while the checkpoint was saved left a hidden,
    # full-size .checkpoint.joblib.<random>.tmp, which no later run removed.
    _table(tmp_path / "zoo.csv")
    out = tmp_path / "out"
    left = [
        ".checkpoint.joblib.m28t1_00.tmp",
        ".state.joblib.abcdefgh.tmp",
        "..skal-openset-outputs.zz9zz9zz.tmp",
        "queries/.round_2.csv.x1y2z3w4.tmp",
    ]
    users = [
        "checkpoint.joblib.m28t1_00.tmp",  # not hidden
        ".notes.txt.abcdefgh.tmp",  # of no file a run writes
        ".records.csv.ABCDEFGH.tmp",  # no name mkstemp makes
        # a backup: a failed save may name it as where the old content is
        ".records.csv.0a1b2c3d.old",
        ".records.csv.abcdefgh.bak",
        "queries/.notes.csv.abcdefgh.tmp",
        ".skal-openset-outputs.abcdefgh.tmp",  # the marker's has two dots
    ]

    def leave_files():
        (out / "queries").mkdir(parents=True, exist_ok=True)
        for name in left + users:
            (out / name).write_text("x")

    run = ["--rounds", "2", "--classifier", "forest"]
    # Not in a folder without a run's outputs (no marker): a user's, maybe.
    # Those of the files it writes are named, left for the user to delete.
    leave_files()
    with pytest.warns(UserWarning) as warned:
        _run(tmp_path, tmp_path / "zoo.csv", *run)
    messages = [str(w.message) for w in warned]
    assert len(messages) == 3
    for name in (left[0], left[2], users[3]):
        assert sum(f"{out / name}" in m for m in messages) == 1, name
    assert all((out / name).read_text() == "x" for name in left + users)
    (out / ".summary.md.abcdefgh.tmp").mkdir()  # a folder, not a file of ours
    _run(tmp_path, tmp_path / "zoo.csv", *run)
    assert [name for name in left if (out / name).exists()] == []
    assert all((out / name).read_text() == "x" for name in users)
    assert (out / ".summary.md.abcdefgh.tmp").is_dir()
    # Unlocked (a file system without locks), another run may be writing them.
    (out / left[0]).write_text("x")
    monkeypatch.setattr(_atomic, "_take_lock", lambda path: None)
    with _atomic.folder_lock(out, cli._WRITTEN):
        pass
    assert (out / left[0]).exists()


def test_an_output_lock_removes_the_copies_of_a_long_name_cut_as_they_cut_it(
    tmp_path,
):
    # A temporary file keeps the first 48 characters of a longer name and a
    # hash of it: a pattern matched whole against that found no copy.
    long = "records_of_the_campaign_on_the_zoo_table_with_every_class.csv"
    left = tmp_path / f".{_atomic._kept(long)}.abcdefgh.tmp"
    left.write_text("x")
    with _atomic.folder_lock(tmp_path, [long]):
        pass
    assert not left.exists()


@pytest.mark.parametrize("posix", [True, False])
@pytest.mark.parametrize("kind", ["a symbolic link", "a folder"])
def test_an_output_lock_writes_over_no_file_in_its_place(
    tmp_path, monkeypatch, posix, kind
):
    # A link named as the lock file had the file it names truncated and
    # overwritten with the run's process id.
    if not posix:  # without O_NOFOLLOW too, as on Windows
        monkeypatch.setattr(_atomic, "fcntl", None)
        monkeypatch.delattr(os, "O_NOFOLLOW", raising=False)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    lock = out / _atomic.LOCK_FILE
    if kind == "a symbolic link":
        lock.symlink_to(victim)
    else:
        lock.mkdir()
    shown = "something other than a file (a folder" if kind == "a folder" else kind
    match = f"holds {re.escape(_atomic.LOCK_FILE)} as {re.escape(shown)}.*: remove it"
    with pytest.raises(ValueError, match=match):
        with _atomic.folder_lock(out):
            pytest.fail("locked")
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("posix", [True, False])
def test_an_output_lock_a_backup_links_to_is_made_anew(tmp_path, monkeypatch, posix):
    # A killed run's lock, backed up with cp -al or rsync --link-dest, is a
    # file of two names: every run was refused it as "a hard link to a file
    # of another name". Writing the process id into it would write the
    # backup's: the lock's name is given a file of its own.
    if not posix:
        monkeypatch.setattr(_atomic, "fcntl", None)
    out, backup = tmp_path / "out", tmp_path / "backup"
    out.mkdir()
    backup.mkdir()
    lock = out / _atomic.LOCK_FILE
    lock.write_text("12345\n")
    os.link(lock, backup / _atomic.LOCK_FILE)
    if posix:
        with _atomic.folder_lock(out):
            assert lock.read_text() == f"{os.getpid()}\n"
            assert lock.stat().st_nlink == 1
        assert not lock.exists()
    else:  # a lock file no run can lock: a killed run's or a live one's
        match = "in use by another run .process 12345.* delete .*a run stopped"
        with pytest.raises(ValueError, match=match):
            with _atomic.folder_lock(out):
                pytest.fail("locked")
    assert (backup / _atomic.LOCK_FILE).read_text() == "12345\n"


def test_an_output_lock_is_taken_though_a_refused_run_removed_the_folder(
    tmp_path, monkeypatch
):
    # A refused run removes the folder it made: between this run's mkdir and
    # its open of the lock file, the folder was gone.
    out = tmp_path / "out"
    real_open, removed = os.open, []

    def folder_removed_first(path, *args):
        if not removed:
            removed.append(path)
            out.rmdir()
        return real_open(path, *args)

    monkeypatch.setattr(_atomic.os, "open", folder_removed_first)
    with _atomic.folder_lock(out):
        monkeypatch.undo()
        assert (out / _atomic.LOCK_FILE).read_text() == f"{os.getpid()}\n"
    assert removed == [out / _atomic.LOCK_FILE] and not out.exists()


def test_an_output_lock_whose_file_was_replaced_before_the_flock_locks_the_new(
    tmp_path, monkeypatch
):
    # The run that held the lock removed its file between this run's open
    # and flock, and another file took the name: a lock on the old file,
    # gone from the folder, would hold nothing.
    out = tmp_path / "out"
    lock = out / _atomic.LOCK_FILE
    flock, replaced = _atomic.fcntl.flock, []

    def replaced_first(fd, operation):
        if not replaced:
            replaced.append(os.fstat(fd))
            lock.unlink()
            lock.write_text("12345\n")  # a killed run's, say
        flock(fd, operation)

    monkeypatch.setattr(_atomic.fcntl, "flock", replaced_first)
    with _atomic.folder_lock(out):
        assert lock.read_text() == f"{os.getpid()}\n"
        assert not os.path.samestat(replaced[0], lock.stat())


def test_an_output_lock_refused_as_its_holder_ends_names_no_process(
    tmp_path, monkeypatch
):
    # The holder ended, removing the lock file, between the refused flock
    # and the read of its process id: refused all the same, naming none.
    out = tmp_path / "out"
    flock = _atomic.fcntl.flock

    def holder_ends(fd, operation):
        try:
            flock(fd, operation)
        except BlockingIOError:
            (out / _atomic.LOCK_FILE).unlink()
            raise

    with _atomic.folder_lock(out):
        monkeypatch.setattr(_atomic.fcntl, "flock", holder_ends)
        with pytest.raises(ValueError) as error:
            with _atomic.folder_lock(out):
                pytest.fail("locked")
    assert str(error.value) == (
        f"--output {out} is in use by another run: wait for it to end, or give "
        "this one another --output."
    )


def _first_query_answered(tmp_path, ood_label, *args):
    """The first query file of a run on `_table`'s zoo.csv (with `args`,
    waiting) and its rows answered truly: "<id>,cow" for the cows (the IN
    class), "<id>,<ood_label>" for the others."""
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, *args)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    with query.open(newline="") as f:
        ids = [r["id"] for r in csv.DictReader(f)]
    return query, [
        f"{i},{truth[int(i)] if truth[int(i)] == 'cow' else ood_label}" for i in ids
    ]


def test_a_label_caught_cut_to_another_valid_one_is_not_taught(tmp_path, monkeypatch):
    # An editor saving in place paused with the last label, the OOD label
    # "cats", cut to "cat", an IN class: read at once, it was taught so.
    query, rows = _first_query_answered(tmp_path, "cats", "--ood-label", "cats")
    whole = "\n".join(["id,label", *rows]) + "\n"
    cut = whole[: whole.rindex("s")]  # after "cat", for three polls
    steps = [lambda: query.write_text(cut), None, None, lambda: query.write_text(whole)]
    _polls(monkeypatch, steps)
    _wait_briefly(tmp_path, "--ood-label", "cats", "--timeout", "60")
    taught = load_object(tmp_path / "out" / "state.joblib")["taught"][2][1]
    assert taught.tolist() == [row.split(",")[1] for row in rows]


def test_a_query_file_that_cannot_be_read_for_a_while_is_waited_for(
    tmp_path, monkeypatch
):
    # Locked by the program saving it (Windows refuses a read meanwhile):
    # the run waits on, and reads the labels once it can.
    query, rows = _first_query_answered(tmp_path, "unknown")
    query.write_text("\n".join(["id,label", *rows]) + "\n")
    read_bytes, refused = Path.read_bytes, [3]

    def locked_at_first(path):
        if path == query and refused[0]:
            refused[0] -= 1
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", locked_at_first)
    _polls(monkeypatch, [])
    _wait_briefly(tmp_path, "--timeout", "60")
    assert refused == [0]
    taught = load_object(tmp_path / "out" / "state.joblib")["taught"][2][1]
    assert taught.tolist() == [row.split(",")[1] for row in rows]


def test_a_query_file_that_cannot_be_read_at_the_timeout_is_named(
    tmp_path, monkeypatch, capsys
):
    # Labelled in full but never readable by the run (saved from another
    # account on a shared folder): the timeout said "No complete labels".
    query, rows = _first_query_answered(tmp_path, "unknown")
    query.write_text("\n".join(["id,label", *rows]) + "\n")
    read_bytes = Path.read_bytes

    def unreadable(path):
        if path == query:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    _polls(monkeypatch, [])
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path, "--timeout", "5")
    assert exit_.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"{query} could not be read at the last poll (Permission denied): let "
        "this run read it (its permissions, or the program holding it locked), "
        "then rerun the same command to go on waiting.\n"
    )


def test_a_save_that_pauses_half_way_is_waited_for(tmp_path, monkeypatch, capsys):
    # Half the file, then a pause longer than a poll: its missing rows ended
    # the campaign.
    query, rows = _first_query_answered(tmp_path, "unknown", "--rounds", "3")
    whole = "\n".join(["id,label", *rows]) + "\n"
    half = whole[: len(whole) // 2]
    steps = [
        lambda: query.write_text(half),
        *[None] * 8,
        lambda: query.write_text(whole),
    ]
    # Round 3's file never reads (its ids cut off, held still): refused once
    # it has held still 10 s, before the timeout.
    round_3 = query.with_name("round_3.csv")
    steps += [None, None, lambda: round_3.write_text("id,label\n")]
    _polls(monkeypatch, steps)
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path, "--rounds", "3", "--timeout", "60")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "round_3.csv: the ids must stay those asked for" in err
    assert err.endswith("Once the file is fixed, rerun the same command to resume.\n")
    taught = load_object(tmp_path / "out" / "state.joblib")["taught"]
    assert taught[2][1].tolist() == [row.split(",")[1] for row in rows]


def test_a_row_cut_short_is_refused(tmp_path, capsys):
    # Its label may be cut too, to another valid one: the row read as whole.
    truth, query = _first_query_with_own_id(tmp_path)
    with query.open(newline="") as f:
        header, *asked = csv.reader(f)
    for row in asked:
        row[1] = "cat" if truth[int(row[0])] == "cat" else "unknown"
    lines = [",".join(row) for row in [header, *asked]]
    lines[-1] = ",".join(asked[-1][:2])  # cut before the table's own id
    query.write_text("\n".join(lines) + "\n")
    message = _refusal(tmp_path, capsys, "--ignore-columns", "id")
    assert f"the rows of ids {asked[-1][0]} have fewer cells than its header" in message
    assert not load_object(tmp_path / "out" / "state.joblib")["taught"]


@pytest.mark.parametrize(
    "options, terminal, shown",
    [([], False, False), ([], True, True), (["--progress"], False, True)]
    + [(["--no-progress"], True, False)],
)
def test_the_progress_bar_is_drawn_on_a_terminal_or_when_asked(
    tmp_path, capsys, monkeypatch, options, terminal, shown
):
    # Always drawn: a log file (nohup, SLURM, CI) got one endless line of
    # bars redrawn with \r.
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    _table(tmp_path / "zoo.csv", n=40)
    run = ["--strategy", "RANDOM", "--classifier", "forest", "--rounds", "2"]
    _run(tmp_path, tmp_path / "zoo.csv", *run, "--budget", "5", *options)
    assert ("RandomQuery: 100%" in capsys.readouterr().err) == shown


@pytest.mark.parametrize("options", [[], ["--progress"]])
def test_a_run_with_stderr_closed_runs_without_a_bar(tmp_path, monkeypatch, options):
    # `skal-openset run ... 2>&-` (a daemon, pythonw): sys.stderr is None, and
    # the run failed on sys.stderr.isatty(), or in tqdm, without a word.
    monkeypatch.setattr(sys, "stderr", None)
    _table(tmp_path / "zoo.csv", n=40)
    run = ["--strategy", "RANDOM", "--classifier", "forest", "--rounds", "2"]
    _run(tmp_path, tmp_path / "zoo.csv", *run, "--budget", "5", *options)
    assert (tmp_path / "out" / "records.csv").exists()


def test_a_tilde_after_an_equals_sign_is_the_home_folder(tmp_path, capsys, monkeypatch):
    # No shell expands it after "=": --output=~/results made a folder named
    # "~" in the working folder, and the data file ~/... was not found.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    _table(home / "zoo.csv", n=40)
    run = ["run", "~/zoo.csv", "--in-classes", "cat,cow", "--label-column", "species"]
    options = ["--classifier", "forest", "--rounds", "2", "--budget", "5"]
    main([*run, *options, "--output=~/results"])
    assert capsys.readouterr().out.endswith(
        f"Wrote {home}/results/records.csv, summary.md, summary.json, "
        "learning_curves.png\n"
    )
    assert (home / "results" / "checkpoint.joblib").exists()
    assert not (tmp_path / "~").exists()
    demo = build_parser().parse_args(["demo", "--output=~/results"])
    assert demo.output == home / "results"


def test_a_name_beginning_with_a_tilde_that_names_no_user_is_kept(
    tmp_path, monkeypatch
):
    # The shell leaves ~backup.csv as it is (no user "backup.csv"), and so
    # must we: it was refused, "cannot expand ~ in ~backup.csv".
    monkeypatch.chdir(tmp_path)
    _table(tmp_path / "~backup.csv", n=40)
    _run(tmp_path, "~backup.csv", "--classifier", "forest", "--rounds", "2",
         "--budget", "5")  # fmt: skip
    assert (tmp_path / "out" / "records.csv").exists()
    output = "--output=~no-such-user-skal/results"
    demo = build_parser().parse_args(["demo", output])
    assert demo.output == Path("~no-such-user-skal/results")


def test_a_tilde_without_a_home_folder_is_refused_with_what_to_do(monkeypatch, capsys):
    # Neither HOME nor the user database names one (a bare container's
    # user): ~ expands to nothing, and kept, it would make a folder "~".
    import pwd

    def no_such_user(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_such_user)
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--output=~/results"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "skal-openset demo: error: argument --output: cannot expand ~ in "
        "~/results: give the full path\n"
    )


@pytest.mark.parametrize(
    "argv, hint",
    [
        # argparse reads -1,a as an option: "expected one argument", no more.
        (
            ["run", "t.csv", "--in-classes", "-1,a"],
            "skal-openset run: error: argument --in-classes: expected one argument "
            "(a value that begins with - goes after =: --in-classes=VALUE)\n",
        ),
        # An option before the command: "invalid choice: 'out'", no more.
        (
            ["--output", "out", "run", "t.csv"],
            # argparse's own words differ by Python version: the hint only.
            "; the command comes first, its options after it: skal-openset run "
            "DATA --in-classes ... --output ...\n",
        ),
    ],
    ids=["value-with-a-dash", "option-before-the-command"],
)
def test_a_misplaced_argument_is_told_where_it_goes(capsys, argv, hint):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith(hint)


def test_a_data_file_whose_name_begins_with_a_dash_is_told_how_to_give_it(
    tmp_path, monkeypatch, capsys
):
    # "the following arguments are required: data", though a file was named.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-t.csv").write_text("x,label\n1,a\n")
    for argv, hint in [
        (["run", "-t.csv", "--in-classes", "a,b"], True),
        (["run", "--in-classes", "a,b"], False),
    ]:
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert ("(a file whose name begins with -: ./-t.csv)\n" in err) == hint, err


@pytest.mark.parametrize(
    "argv", [["rnu", "t.csv"], ["run", "t.csv", "--in-classes"]], ids=["typo", "none"]
)
def test_a_mistyped_command_or_a_missing_value_gets_no_such_hint(capsys, argv):
    # A mistyped command was told the command comes first, and a value left
    # out was told to give it after =.
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "comes first" not in err and "goes after =" not in err


@pytest.mark.parametrize(
    "argv",
    [["demo", "--output", ""], ["run", "", "--in-classes", "a,b"]],
    ids=["demo-output", "run-data"],
)
def test_an_empty_path_is_refused(tmp_path, monkeypatch, capsys, argv):
    # `--output "$OUT"` with OUT unset wrote the outputs and the checkpoint
    # into the current folder, beside the data.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "must be a path, got '' (an unset variable?)" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_names_on_lines_of_their_own_are_refused_in_one_line(capsys):
    # --in-classes "$(cat classes.txt)": the error printed the value as it
    # is, over two lines, and asked for comma-separated names, no more.
    with pytest.raises(SystemExit) as exit_:
        main(["run", "t.csv", "--in-classes", "cat\ncow"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "got 'cat\\ncow': separate the names with commas, not line breaks" in err
    # Quoted, a line break is part of a name, as in a CSV table.
    args = build_parser().parse_args(["run", "t.csv", "--in-classes", '"a\nb",c'])
    assert args.in_classes == ["a\nb", "c"]


def _answers(data, allowed=("a", "b", "unknown")):
    """The labels a query file of ids 1 and 2 holding `data` is read as."""
    return _campaign._read_answers("q.csv", data, [1, 2], set(allowed)).tolist()


def test_a_query_files_lines_of_spaces_or_tabs_are_blank_lines():
    # "the rows of ids  have fewer cells than its header", naming no id.
    answers = _answers
    assert answers(b"id,label\n1,a\n  \n2,b\n\t\n") == ["a", "b"]
    # a row of empty cells is skipped as before; a row cut short is not
    assert answers(b"id,label\n1,a\n,\n2,b\n \t,\n") == ["a", "b"]
    with pytest.raises(ValueError, match="the rows of ids 2 have fewer cells"):
        answers(b"id,label\n1,a\n2\n")


def test_a_query_files_rows_are_read_by_their_ids_in_any_order():
    # A person who sorts the rows (by a column of the table's, say) keeps
    # each label with its row: labels taken in the file's order swap them.
    assert _answers(b"id,label\n2,b\n1,a\n") == ["a", "b"]


def test_a_query_file_saved_with_a_byte_order_mark_reads():
    # A spreadsheet's 'CSV UTF-8' starts with one: read as part of the first
    # column's name, the header was refused as no 'id,label'.
    assert _answers(b"\xef\xbb\xbfid,label\n1,a\n2,b\n") == ["a", "b"]


def test_a_query_files_label_without_an_id_is_refused():
    # The label may be the person's answer for a row whose id was cleared
    # or mistyped: not to be dropped without a word.
    with pytest.raises(ValueError, match=r"not asked for: ''\); change only"):
        _answers(b"id,label\n1,a\n2,b\n,a\n")
    # named so, not as nothing ("row id  is there twice")
    with pytest.raises(ValueError, match="row id '' is there twice"):
        _answers(b"id,label\n1,a\n2,b\n,a\n,b\n")


def test_a_query_files_id_twice_is_refused_though_one_row_is_blank():
    # Taking the labelled one of the two would guess which row is meant.
    for data in (b"id,label\n1,\n1,a\n2,b\n", b"id,label\n1,a\n1,\n2,b\n"):
        with pytest.raises(ValueError, match="row id 1 is there twice"):
            _answers(data)


def test_a_query_files_label_is_suggested_only_one_apart_by_case():
    # 'Ca' is no 'cat' or 'cow' cut short: one may be meant, which is not to
    # be guessed.
    with pytest.raises(ValueError) as error:
        _answers(b"id,label\n1,Ca\n2,COW\n", allowed=("cat", "cow", "x"))
    assert "id 1 'Ca', id 2 'COW' (did you mean 'cow'?); change" in str(error.value)


def test_a_query_file_holds_still_from_its_last_change(tmp_path, monkeypatch):
    # Timed from when it was first seen, a file caught half saved after a long
    # wait read as held still as long, and was judged at once.
    clock = iter([0.0, 100.0, 101.0, 102.0])
    monkeypatch.setattr(
        _campaign, "time", SimpleNamespace(monotonic=lambda: next(clock))
    )
    path, seen, held = tmp_path / "round_2.csv", {}, []
    for data in [b"id,label\n"] * 2 + [b"id,label\n1,1"] * 2:
        path.write_bytes(data)
        read = _campaign._settled(path, seen)
        held.append(None if read is None else read[1])
    assert held == [None, 100.0, None, 1.0]


def test_a_query_file_ending_in_a_carriage_return_is_read_at_once(tmp_path):
    # Its last line has an end, as "\n" is one (an editor saving old Mac line
    # ends): no label of it can be cut short, so it waits no 10 s.
    path = tmp_path / "round_2.csv"
    path.write_bytes(b"id,label\r1,a\r2,b\r")
    seen = {}
    read = [_campaign._wait_read(path, seen, [1, 2], {"a", "b"}, final=False)]
    read.append(_campaign._wait_read(path, seen, [1, 2], {"a", "b"}, final=False))
    assert read[0] is None and read[1].tolist() == ["a", "b"]


def test_a_query_file_whose_writing_fails_is_not_left_cut_short(tmp_path, monkeypatch):
    # A disk filling up half-way would leave a query of fewer ids than the
    # state asks for, which the person labels.
    path = tmp_path / "round_2.csv"

    def half_written(f):
        def writerows(rows):
            f.write("id,label\n1,\n")
            raise OSError(errno.ENOSPC, "No space left on device")

        return SimpleNamespace(writerows=writerows)

    monkeypatch.setattr(_campaign.csv, "writer", half_written)
    with pytest.raises(OSError):
        _campaign._write_query(path, np.array([1, 2]), {})
    assert not path.exists()


def test_a_query_files_spaces_after_a_comma_are_read_as_the_tables_are():
    # A quoted label typed after a space, 1, "a", read as the label '"a"'.
    def answers(data):
        return _answers(data, allowed=("a", "b, c", "unknown"))

    assert answers(b'id, label\n1, "a"\n 2 , "b, c"\n') == ["a", "b, c"]
    assert answers(b"id,label\n1,   a \n2,unknown\n") == ["a", "unknown"]
    # a quote left open takes the rest as its label, which is refused
    with pytest.raises(ValueError, match=r"id 1 'a\\n2,b'; change them"):
        answers(b'id,label\n1, "a\n2,b\n')


def test_a_quote_left_open_in_a_long_query_file_is_named():
    # Past the csv reader's limit on one value (a query file of a table of
    # many columns), it said to save the file with ',' as the separator.
    data = b'id,label,x\n1,"a,' + b"0," * 70_000 + b"\n2,b,1\n"
    match = (
        "q.csv does not read as CSV: a value runs on for more than 131072 "
        "characters, from a quote that is not closed, most likely; close it"
    )
    with pytest.raises(ValueError, match=match):
        _answers(data)


@pytest.mark.parametrize(
    "data, line",
    [
        (b"id,label\n1,a\n2,b\0\n", 3),
        # UTF-16 without its byte-order mark decodes as UTF-8 text
        ("id,label\n1,a\n2,b\n".encode("utf-16-le"), 1),
    ],
)
def test_a_nul_in_a_query_file_is_named(data, line):
    # A NUL after a label was refused as a label not allowed on 3.11, and on
    # 3.10 as a file to save with ',' as the separator.
    match = rf"q.csv, line {line} holds a NUL character .* save it as 'CSV UTF-8'"
    with pytest.raises(ValueError, match=match):
        _answers(data)


def test_a_query_files_label_with_an_unquoted_comma_is_refused():
    # Typed 2,b, c the label read 'b', refused as no label with no word of
    # the comma; a cell past the header's was dropped without a word.
    def answers(data):
        return _answers(data, allowed=("a", "b", "b, c", "unknown"))

    for data in (b"id,label\n1,a\n2,b, c\n", b"id,label\n1,a\n2,b,c\n"):
        with pytest.raises(ValueError, match="ids 2 have more cells than its header"):
            answers(data)
    # a trailing comma adds an empty cell only
    assert answers(b'id,label\n1,a,\n2,"b, c",\n') == ["a", "b, c"]


def test_an_output_path_that_is_a_file_exits_2_for_run_and_demo(tmp_path, capsys):
    _table(tmp_path / "zoo.csv", n=40)
    taken = tmp_path / "taken.csv"
    taken.write_text("keep me\n")
    run = ["run", str(tmp_path / "zoo.csv"), "--in-classes", "cat,cow"]
    for argv in ([*run, "--label-column", "species"], ["demo"]):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--output", str(taken)])
        assert exit_.value.code == 2
        assert "is a file; give a folder" in capsys.readouterr().err
    assert taken.read_text() == "keep me\n"


@pytest.mark.parametrize("below", ["", "results"])
def test_an_output_link_to_nothing_exits_2_naming_it_for_run_and_demo(
    tmp_path, capsys, monkeypatch, below
):
    # Making the folder failed with "[Errno 17] File exists: 'out'", which
    # named no link; so did a loop of links.
    _table(tmp_path / "zoo.csv", n=40)
    monkeypatch.setattr(cli, "demo_records", lambda *a, **k: pytest.fail("ran"))
    (tmp_path / "out").symlink_to(tmp_path / "gone")
    (tmp_path / "loop").symlink_to("loop")
    run = ["run", str(tmp_path / "zoo.csv"), "--in-classes", "cat,cow"]
    for link, target in (("out", tmp_path / "gone"), ("loop", "loop")):
        for argv in ([*run, "--label-column", "species"], ["demo"]):
            with pytest.raises(SystemExit) as exit_:
                main([*argv, "--output", str(tmp_path / link / below)])
            assert exit_.value.code == 2
            err = capsys.readouterr().err
            assert f"{tmp_path / link} is a link to {target}, which leads to no " in err
            assert "remove the link" in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loop", "out", "zoo.csv"]


@pytest.mark.parametrize(
    "name, refusal",
    [
        ("a" * 256, "the name a{256} is too long for the file system"),
        ("a/" * 2100, "is a path of \\d+ characters, too long for the file system"),
        # A too long name below a folder to make: the lookup says only missing.
        ("new/" + "b" * 256, "the name b{256} is too long"),
    ],
)
def test_too_long_an_output_path_exits_2_with_one_line_for_run_and_demo(
    tmp_path, capsys, monkeypatch, name, refusal
):
    # Looking it up failed with ENAMETOOLONG, and the OSError's handler with
    # it again: two tracebacks.
    _table(tmp_path / "zoo.csv", n=40)
    monkeypatch.setattr(cli, "demo_records", lambda *a, **k: pytest.fail("ran"))
    run = ["run", str(tmp_path / "zoo.csv"), "--in-classes", "cat,cow"]
    for argv in ([*run, "--label-column", "species"], ["demo"]):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--output", str(tmp_path / name)])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and re.search(refusal, err), err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["zoo.csv"]


def test_an_os_error_from_a_path_that_cannot_be_looked_up_is_one_line(
    tmp_path, capsys, monkeypatch
):
    # The handler looked up the run's state in the folder, and failed as the
    # error it reported had.
    monkeypatch.setattr(cli, "_check_writable", lambda folder: None)
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--output", str(tmp_path / ("a" * 256))])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "File name too long" in err, err


@pytest.mark.parametrize(
    "options, folder",
    [
        (["demo"], ".skal-openset-outputs"),
        (["run"], ".skal-openset-outputs"),
        (["run"], "checkpoint.joblib"),
        (["run"], "summary.md"),  # beside the marker of a run's outputs
        (["run", "--interactive"], "state.joblib"),
        (["run", "--interactive"], "queries/round_2.csv"),
    ],
)
def test_a_folder_where_a_run_writes_a_file_is_refused_before_any_work(
    tmp_path, capsys, monkeypatch, options, folder
):
    # Refused once the run had trained, with advice for the Python API:
    # "give the path of a file (one inside it, say)".
    _table(tmp_path / "zoo.csv", blank_from=20 if "--interactive" in options else None)
    out = tmp_path / "out"
    (out / folder).mkdir(parents=True)
    if folder == "summary.md":
        (out / ".skal-openset-outputs").write_text("skal-openset run\n")
    for work in ["demo_records", "run_active_learning", "run_interactive"]:
        monkeypatch.setattr(cli, work, lambda *a, **k: pytest.fail("ran"))
    if options[0] == "run":
        options = [*options, str(tmp_path / "zoo.csv"), "--in-classes", "cat,cow"]
        options += ["--label-column", "species", "--rounds", "2", "--budget", "10"]
    with pytest.raises(SystemExit) as exit_:
        main([*options, "--output", str(out)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f"skal-openset: error: --output {out} holds {folder} as a folder, where a "
        "run writes a file of that name: remove or rename it and run again.\n"
    )


def test_a_demo_setting_that_cannot_be_drawn_exits_2_with_one_line(
    tmp_path, capsys, monkeypatch
):
    # It named make_open_set_split's noise_ratio, and no value that works.
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--noise", "0.95", "--trials", "2", "--rounds", "2",
              "--budget", "5", "--output", str(tmp_path / "demo")])  # fmt: skip
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--noise 0.95 needs more OOD digits" in err, err
    most = float(re.search(r"lower --noise to at most ([0-9.]+)\.$", err)[1])
    monkeypatch.setattr(cli, "STRATEGIES", {})  # the checks alone
    assert cli.demo_records([0, 1], 2, 5, most) == []


def test_a_demo_budget_beyond_the_pool_exits_2_with_one_line(tmp_path, capsys):
    # Every strategy bought the whole pool, with six identical rows.
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--trials", "1", "--budget", "500",
              "--output", str(tmp_path / "demo")])  # fmt: skip
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lower --budget to at most" in err, err
    assert not (tmp_path / "demo").exists()
    # Beyond the pool itself, make_open_set_split's initial_size refused it.
    with pytest.raises(SystemExit):
        main(["demo", "--trials", "1", "--budget", "1000",
              "--output", str(tmp_path / "demo")])  # fmt: skip
    err = capsys.readouterr().err
    assert "lower --budget to at most" in err and "initial_size" not in err, err


@pytest.mark.parametrize("n_rounds, fewer_rounds", [(2, False), (6, True)])
def test_a_demo_budget_beyond_the_pool_advises_fewer_rounds_only_above_2(
    monkeypatch, n_rounds, fewer_rounds
):
    # At --rounds 2, the fewest, it advised lowering --rounds too.
    monkeypatch.setattr(cli, "STRATEGIES", {})  # the checks alone
    with pytest.raises(ValueError, match="lower --budget to at most") as info:
        cli.demo_records([0], n_rounds, 300, 0.2)
    assert ("or --rounds" in str(info.value)) == fewer_rounds


def test_a_demo_of_more_rounds_than_the_pool_fits_advises_the_most_rounds_of_1(
    monkeypatch,
):
    # Seed 0 draws a pool of 668 digits: 667 rounds of one label leave the last
    # a choice of two, and no more rounds fit.
    monkeypatch.setattr(cli, "STRATEGIES", {})  # the checks alone
    with pytest.raises(ValueError, match=r"--rounds to at most 667 with --budget 1 \("):
        cli.demo_records([0], 700, 1, 0.2)
    assert cli.demo_records([0], 667, 1, 0.2) == []
    with pytest.raises(ValueError, match="at least twice"):
        cli.demo_records([0], 668, 1, 0.2)
    # Where one label a round fits the rounds, the advice is that budget.
    with pytest.raises(
        ValueError, match=r"lower --budget to at most 1, or --rounds \("
    ):
        cli.demo_records([0], 500, 2, 0.2)


def test_a_demo_advice_fits_the_smallest_pool_of_its_seeds(monkeypatch):
    # Seeds 0 and 2 draw pools of 668 and 678 digits: what fits 678 may not
    # fit 668.
    monkeypatch.setattr(cli, "STRATEGIES", {})  # the checks alone
    with pytest.raises(ValueError, match="The pool holds 668 examples") as info:
        cli.demo_records([0, 2], 2, 300, 0.2)
    most = int(re.search(r"at most (\d+)", str(info.value))[1])
    assert cli.demo_records([0], 2, most, 0.2) == []


def test_a_demo_budget_that_buys_the_rest_of_the_pool_is_refused(
    tmp_path, capsys, monkeypatch
):
    # The advice "at most pool // rounds" bought the whole pool in the last
    # round: six identical rows. The advised value must leave a choice.
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--trials", "1", "--budget", "445", "--rounds", "2",
              "--output", str(tmp_path / "demo")])  # fmt: skip
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "must leave the last round at least twice its 445" in err, err
    most = int(re.search(r"at most (\d+)", err)[1])
    monkeypatch.setattr(cli, "STRATEGIES", {})  # the checks alone
    assert cli.demo_records([0], 2, most, 0.4) == []
    with pytest.raises(ValueError, match="at least twice"):
        cli.demo_records([0], 2, most + 1, 0.4)


def test_demo_records_without_out_print_nothing_and_are_the_same(monkeypatch, capsys):
    # benchmarks/demo_setting.py gathers the records alone: the line per
    # strategy goes to `out` only where one is given.
    monkeypatch.setattr(cli, "STRATEGIES", {"RANDOM": RandomQuery})
    monkeypatch.setattr(
        cli,
        "make_mlp_classifier",  # quicker, and as seeded
        lambda *args, random_state, **kwargs: LogisticRegression(
            random_state=random_state
        ),
    )
    out = io.StringIO()
    printed = cli.demo_records([0, 1], 2, 5, 0.4, out=out)
    assert out.getvalue().startswith("RANDOM   final accuracy")
    alone = cli.demo_records([0, 1], 2, 5, 0.4)
    assert capsys.readouterr().out == ""

    def runs(records):
        return [(r["trial"], r["round"], r["test_accuracy"]) for r in records]

    assert runs(alone) == runs(printed) and len(alone) == 4


def test_each_demo_seed_seeds_its_net_and_strategy(monkeypatch):
    # A strategy seeded alike in every trial draws alike: the trials' spread
    # would be the nets' alone.
    seeded = []

    def strategy(random_state):
        seeded.append(("strategy", random_state))
        return RandomQuery(random_state=random_state)

    def net(*args, random_state, **kwargs):
        seeded.append(("net", random_state))
        return LogisticRegression(random_state=random_state)  # quicker

    monkeypatch.setattr(cli, "STRATEGIES", {"RANDOM": strategy})
    monkeypatch.setattr(cli, "make_mlp_classifier", net)
    out = io.StringIO()
    cli.demo_records([0, 1], 2, 5, 0.4, out=out)
    assert seeded == [("net", 0), ("strategy", 0), ("net", 1), ("strategy", 1)]
    # Of the labels its one query round bought, not of the initial set's too.
    assert re.search(r"OOD labels bought +[\d.]+ of 5  \(", out.getvalue())


def _wait_briefly(tmp_path, *options, data="zoo.csv"):
    return _run(
        tmp_path, tmp_path / data, "--interactive", "--rounds", "2",
        "--budget", "5", "--poll-seconds", "0.02", "--timeout", "0.2",
        "--strategy", "random", *options,
    )  # fmt: skip


def _campaign_waiting_for_labels(tmp_path, capsys):
    """Start a campaign on a fresh table; return its state file's path."""
    _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    capsys.readouterr()
    return tmp_path / "out" / "state.joblib"


def _refusal_resuming(tmp_path, capsys):
    """The one line with which resuming that campaign is refused (exit 2)."""
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path)
    assert exit_.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


def test_a_run_into_the_other_modes_output_is_refused(tmp_path, capsys):
    # Both modes default to run-output; each checked only its own state file,
    # so the second replaced records.csv beside the first one's summary.
    _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)  # leaves the campaign's state.joblib
    capsys.readouterr()
    simulated = ["--rounds", "2", "--budget", "5", "--classifier", "forest"]
    simulated += ["--strategy", "random"]
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, tmp_path / "zoo.csv", *simulated)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "holds state.joblib, the state of an interactive run: choose another" in err
    assert not (tmp_path / "out" / "checkpoint.joblib").exists()
    _table(tmp_path / "full.csv")
    _run(tmp_path, tmp_path / "full.csv", *simulated, "--output", str(tmp_path / "o"))
    records = (tmp_path / "o" / "records.csv").read_text()
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path, "--output", str(tmp_path / "o"))
    assert exit_.value.code == 2
    assert "holds checkpoint.joblib, the state of a simulated run" in (
        capsys.readouterr().err
    )
    assert (tmp_path / "o" / "records.csv").read_text() == records
    assert not (tmp_path / "o" / "state.joblib").exists()


@pytest.mark.parametrize(
    "state, kind",
    [("state.joblib", "an interactive"), ("checkpoint.joblib", "a simulated")],
)
def test_a_demo_into_a_runs_output_is_refused(
    tmp_path, capsys, monkeypatch, state, kind
):
    # The demo replaced the run's records.csv and wrote its summary beside
    # the run's state, without a word.
    (tmp_path / state).write_text("a run's state")
    (tmp_path / "records.csv").write_text("the run's records\n")
    monkeypatch.setattr(cli, "demo_records", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--output", str(tmp_path)])
    assert exit_.value.code == 2
    assert f"holds {state}, the state of {kind}" in capsys.readouterr().err
    assert (tmp_path / "records.csv").read_text() == "the run's records\n"
    assert not (tmp_path / "summary.md").exists()


def test_a_demo_into_a_folder_another_run_is_using_is_refused(
    tmp_path, capsys, monkeypatch
):
    # Only `run` took the lock: a demo wrote its outputs into the folder of a
    # running `skal-openset run`, and one replaced the other's.
    monkeypatch.setattr(cli, "demo_records", lambda *a, **k: pytest.fail("ran"))
    out = tmp_path / "out"
    with _atomic.folder_lock(out):  # as a running `skal-openset run` holds it
        with pytest.raises(SystemExit) as exit_:
            main(["demo", "--output", str(out)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f"skal-openset: error: --output {out} is in use by another run "
        f"(process {os.getpid()}): wait for it to end, or give this one "
        "another --output.\n"
    )
    assert not out.exists()  # the lock's, left empty: nothing was written


def test_a_campaign_resumed_by_other_code_warns(tmp_path, monkeypatch):
    # Checkpoints warned of it; a campaign's state went on without a word.
    _table(tmp_path / "zoo.csv", blank_from=20)
    state_path = tmp_path / "out" / "state.joblib"
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SystemExit):
            _wait_briefly(tmp_path)  # the same code: no word
    monkeypatch.setattr(_experiment, "_source_hash", lambda: "0123456789ab")
    message = (
        "resumes with skal_openset source 0123456789ab, so the queries after "
        "round 1 come from other code than the earlier ones; the labels taught"
    )
    with pytest.warns(UserWarning, match=message), pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    # A state saved before states recorded versions resumes with the warning.
    state = load_object(state_path)
    del state["versions"]
    save_object(state, state_path)
    with pytest.warns(
        UserWarning, match="an earlier skal_openset, which recorded no versions"
    ):
        with pytest.raises(SystemExit):
            _wait_briefly(tmp_path)


def test_a_missing_query_file_is_written_again_on_rerun(tmp_path, capsys):
    _table(tmp_path / "zoo.csv", blank_from=20)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    asked = query.read_text()
    query.unlink()  # moved, deleted, or saved as .xlsx
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    assert "again: it was missing" in capsys.readouterr().out
    assert query.read_text() == asked


def test_a_query_file_missing_on_rerun_is_written_before_the_first_poll(
    tmp_path, monkeypatch
):
    # Its ids are in the state: waiting a poll to write it again left the
    # person without a file to label for that long.
    _table(tmp_path / "zoo.csv", blank_from=20)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    asked = query.read_text()
    query.unlink()
    there = []
    monkeypatch.setattr(
        "skal_openset._campaign.time.sleep", lambda s: there.append(query.exists())
    )
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    assert there[0] and query.read_text() == asked


def test_a_query_file_missing_at_one_poll_only_is_not_written_again(
    tmp_path, capsys, monkeypatch
):
    # An editor may save by deleting the file and writing it anew: missing
    # at one poll, it is not written again, else the run's blank file races
    # the editor's write of the labels.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    _answer(tmp_path, truth)
    answered = query.read_text()
    steps = iter([query.unlink, lambda: query.write_text(answered)])

    def editor(seconds):
        if (step := next(steps, None)) is not None:
            step()

    monkeypatch.setattr("skal_openset._campaign.time.sleep", editor)
    capsys.readouterr()
    _wait_briefly(tmp_path, "--timeout", "60")
    assert "again: it was missing" not in capsys.readouterr().out
    assert query.read_text() == answered


def test_an_unfinished_answer_is_named_while_the_run_waits(
    tmp_path, capsys, monkeypatch
):
    # Saved with a label blank, with the labels in another column, or deleted,
    # the query file left the run waiting without a word (for ever, without
    # --timeout). Each poll here is the person's next step.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    blank = query.read_text()
    ids = _answer(tmp_path, truth)
    answered = query.read_text().splitlines()
    labels = [row.split(",")[1] for row in answered[1:]]

    def one_left_blank():
        query.write_text("\n".join([*answered[:2], f"{ids[1]},", *answered[3:], ""]))

    def in_another_column():
        rows = [f"{i},,{label}" for i, label in zip(ids, labels)]
        query.write_text("\n".join(["id,label,species", *rows]) + "\n")

    # A save is read once it holds still: at the poll after the next.
    steps = iter(
        [one_left_blank, None, in_another_column, None, query.unlink, None, None]
        + [lambda: _answer(tmp_path, truth), None]
    )

    def person(seconds):
        step = next(steps)
        if step is not None:
            step()

    monkeypatch.setattr("skal_openset._campaign.time.sleep", person)
    query.write_text(blank)
    capsys.readouterr()
    _wait_briefly(tmp_path, "--timeout", "60")
    out = capsys.readouterr().out
    assert out.count("of 5 labelled") == 2  # once per save, none for a blank one
    assert f"round_2.csv: 4 of 5 labelled; still blank: ids {ids[1]}." in out
    assert (
        f"0 of 5 labelled; still blank: ids {', '.join(ids)} (labels go in its "
        "'label' column)."
    ) in out
    assert out.count("again: it was missing") == 1  # missing at two polls
    with (tmp_path / "out" / "records.csv").open() as f:
        assert [int(r["n_labelled"]) for r in csv.DictReader(f)] == [20, 25]


def test_a_round_asks_for_every_label_a_fractional_budget_pays_for(tmp_path):
    # 1.2 / 0.4 is 2.9999999999999996 in floating point; the oracle buys 3.
    _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _run(
            tmp_path, tmp_path / "zoo.csv", "--interactive", "--rounds", "2",
            "--budget", "1.2", "--cost-in", "0.4", "--cost-ood", "0.4",
            "--poll-seconds", "0.02", "--timeout", "0.2", "--strategy", "random",
        )  # fmt: skip
    with (tmp_path / "out" / "queries" / "round_2.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 3


def test_a_state_file_of_something_else_is_refused(tmp_path, capsys):
    _table(tmp_path / "zoo.csv", blank_from=20)
    # a dict too, with no learner of string labels to tell earlier widths by
    for other in ([1, 2], {"records": [], "learner": None}):
        save_object(other, tmp_path / "out" / "state.joblib")
        with pytest.raises(SystemExit) as exit_:
            _wait_briefly(tmp_path)
        assert exit_.value.code == 2
        assert "belongs to another campaign" in capsys.readouterr().err


def test_a_resume_with_other_options_or_table_names_what_changed(tmp_path, capsys):
    # Any change read "belongs to another campaign; choose another output
    # folder", which gave up the labels given so far for a mistyped option.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--budget", "8", "--ood-label", "other")
    err = capsys.readouterr().err
    assert "--ood-label was unknown, now other; --budget was 5, now 8. " in err
    assert "Rerun with its options and table to resume it, or start a new" in err
    assert "features or labels changed" not in err
    _table(tmp_path / "zoo.csv", blank_from=20, seed=1)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    assert (
        "or options: the table's features or labels changed (the file, "
        "--ignore-columns or --label-column). Rerun" in capsys.readouterr().err
    )
    # A state that keeps no options, as written before, is refused as it was.
    _table(tmp_path / "zoo.csv", blank_from=20)
    state = load_object(tmp_path / "out" / "state.joblib")
    del state["options"], state["table"]
    save_object(state, tmp_path / "out" / "state.joblib")
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--budget", "8")
    assert "belongs to another campaign (other" in capsys.readouterr().err
    _answer(tmp_path, truth)
    _wait_briefly(tmp_path)  # the first options resume it


def test_a_simulated_run_resumed_with_other_options_names_them(tmp_path, capsys):
    # It said "a different experiment (cost_ood differs)": the function's
    # parameters, not the options typed, and "--seed" nowhere.
    _table(tmp_path / "zoo.csv")
    base = ("--rounds", "2", "--budget", "10", "--classifier", "forest")
    _run(tmp_path, tmp_path / "zoo.csv", *base)
    capsys.readouterr()
    checkpoint = tmp_path / "out" / "checkpoint.joblib"
    for changed, named in (
        (("--cost-ood", "2"), "What differs: --cost-ood. Rerun"),
        (("--strategy", "RANDOM"), "What differs: the strategy (--strategy or"),
        (("--seed", "1"), "--test-size, --seed, or --initial-size"),
    ):
        with pytest.raises(SystemExit):
            _run(tmp_path, tmp_path / "zoo.csv", *base, *changed)
        err = capsys.readouterr().err
        assert f"{checkpoint} holds a run of other data or options." in err
        assert named in err and "different experiment" not in err
    # A checkpoint written before the parts were kept says no more.
    state = load_object(checkpoint)
    del state["fingerprint_parts"]
    save_object(state, checkpoint)
    with pytest.raises(SystemExit):
        _run(tmp_path, tmp_path / "zoo.csv", *base, "--budget", "8")
    assert "or options. Rerun with its table" in capsys.readouterr().err
    _run(tmp_path, tmp_path / "zoo.csv", *base)  # its own options resume it


def test_a_simulated_run_of_other_versions_names_them(tmp_path, capsys):
    # The same command after an upgrade that changes the forest's fingerprint
    # (a class given a new parameter; no longer scikit-learn's version alone)
    # said "holds a run of other data or options. What differs: the
    # classifier (--classifier or --seed). Rerun with its table and options
    # to resume it": the options it had been given.
    _table(tmp_path / "zoo.csv")
    base = ("--rounds", "2", "--budget", "10", "--classifier", "forest")
    _run(tmp_path, tmp_path / "zoo.csv", *base)
    capsys.readouterr()
    checkpoint = tmp_path / "out" / "checkpoint.joblib"
    state = load_object(checkpoint)
    state["versions"]["scikit-learn"] = "0.24.2"
    state["fingerprint"] = "0" * 32
    state["fingerprint_parts"]["the estimator"] = "0" * 32
    save_object(state, checkpoint)
    with pytest.raises(SystemExit):
        _run(tmp_path, tmp_path / "zoo.csv", *base, "--rounds", "3")
    err = capsys.readouterr().err
    assert "or of these written with scikit-learn 0.24.2 (this is scikit-learn" in err
    assert "What differs: the classifier (--classifier or --seed)." in err
    assert "options under the versions that wrote it to resume it" in err


# A table of images, which a script's campaign may run on.
IMAGES = np.random.default_rng(0).random((12, 1, 8, 8), dtype=np.float32)
IMAGE_LABELS = np.array(["cat", "cow", "dog"] * 2 + [""] * 6)


def _flat(X):
    return X.reshape(len(X), -1)


def _scripted_campaign(tmp_path, strategy, images=IMAGES, **other_options):
    """A campaign that a script runs on `images` with `strategy` (and
    `other_options`), options fingerprinted with the table, until the state
    is saved; what it logged."""
    options = {"strategy": strategy, **other_options}
    log = []
    _campaign.run_interactive(
        images,
        IMAGE_LABELS,
        ["cat", "cow"],
        make_pipeline(FunctionTransformer(_flat), LogisticRegression()),
        strategy,
        output=tmp_path / "out",
        n_rounds=1,
        budget=2,
        fingerprint=_campaign.table_fingerprint(
            images, IMAGE_LABELS, *options.values()
        ),
        options=options,
        log=log.append,
    )
    return log


def _encoder_strategy(random_state=0, images=IMAGES):
    encoder = ContrastiveEncoder(
        width=2, projection_dim=4, max_epochs=1, batch_size=8, random_state=random_state
    )
    return CCALQuery(features=encoder.fit(images).transform)


def test_a_scripted_campaign_resumes_with_its_encoder_fitted_again(tmp_path):
    # The same fit, from the same seed and images, was "a campaign of other
    # data or options": the fingerprint hashed the encoder's fit time (and
    # its tensors' addresses, so not even an encoder loaded from a cache
    # resumed in another process).
    _scripted_campaign(tmp_path, _encoder_strategy())
    assert _scripted_campaign(tmp_path, _encoder_strategy())[0].startswith("Resuming")


def test_a_scripted_campaign_with_another_encoder_is_refused(tmp_path):
    _scripted_campaign(tmp_path, _encoder_strategy())
    for other in (
        _encoder_strategy(random_state=1),
        _encoder_strategy(images=IMAGES[1:]),
    ):
        with pytest.raises(ValueError, match="a campaign of other data or options"):
            _scripted_campaign(tmp_path, other)


@pytest.mark.parametrize("other_options", [{}, {"classes": np.array(["cat", "cow"])}])
def test_a_scripted_campaign_on_another_table_names_only_real_option_changes(
    tmp_path, other_options
):
    # Options were compared with ==: the strategy loaded from the state (an
    # object, equal only to itself) read "strategy was X, now X", and an
    # array option raised numpy's "truth value of an array is ambiguous".
    _scripted_campaign(tmp_path, RandomQuery(random_state=0), **other_options)
    with pytest.raises(ValueError, match="a campaign of other data") as caught:
        _scripted_campaign(
            tmp_path,
            RandomQuery(random_state=0),
            images=IMAGES[::-1].copy(),
            **other_options,
        )
    assert "or options: the table's features or labels changed" in str(caught.value)
    with pytest.raises(ValueError, match="a campaign of other data") as caught:
        _scripted_campaign(tmp_path, RandomQuery(random_state=1), **other_options)
    assert (
        "or options: strategy was 'RandomQuery(random_state=0)', now "
        "'RandomQuery(random_state=1)'. Rerun"
    ) in str(caught.value)


class _TimedPCA(PCA):
    """A script's own feature space, which records its fit's wall time."""

    def fit(self, X, y=None):
        start = time.perf_counter()
        super().fit(X, y)
        self.fit_seconds_ = time.perf_counter() - start
        return self


def test_campaign_states_fingerprinted_as_before_resume(tmp_path, capsys):
    # States held joblib.hash of the table and the options, timings
    # included: a state of the command, and one whose option has a fit's
    # timing that is the same (the object loaded from a cache), resume.
    def fingerprinted_as_before(state_path, X, labels):
        state = load_object(state_path)
        state["fingerprint"] = joblib.hash([X, labels, *state["options"].values()])
        save_object(state, state_path)

    state_path = _campaign_waiting_for_labels(tmp_path, capsys)
    table = load_table(tmp_path / "zoo.csv", "species", in_classes=["cat", "cow"])
    fingerprinted_as_before(state_path, *table)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    assert "Resuming from" in capsys.readouterr().out
    strategy = CCALQuery(features=_TimedPCA(2).fit(_flat(IMAGES)).transform)
    _scripted_campaign(tmp_path / "script", strategy)
    fingerprinted_as_before(
        tmp_path / "script" / "out" / "state.joblib", IMAGES, IMAGE_LABELS
    )
    log = _scripted_campaign(tmp_path / "script", strategy)
    assert log[0].startswith("Resuming")


# Loading the PCA pickled "under" 1.7.2 warns, as it would there.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.InconsistentVersionWarning")
def test_a_campaign_state_of_earlier_code_resumes_under_another_scikit_learn(
    tmp_path, monkeypatch
):
    # Earlier code hashed the version scikit-learn's estimators pickle with
    # (a script's PCA features here): the state resumed under that
    # scikit-learn only. It records the version.
    pca = PCA(2).fit(_flat(IMAGES))
    options = {"strategy": CCALQuery(features=pca.transform)}
    state_path = tmp_path / "out" / "state.joblib"
    with monkeypatch.context() as old:
        old.setattr(sklearn, "__version__", "1.7.2")
        old.setattr(sklearn.base, "__version__", "1.7.2")  # what pickles
        _scripted_campaign(tmp_path, options["strategy"])
        state = load_object(state_path)
        assert state["versions"]["scikit-learn"] == "1.7.2"
        value = [IMAGES, IMAGE_LABELS, *options.values()]
        state["fingerprint"] = _ContentHasher(_is_timing).hash(value)
        save_object(state, state_path)
    with pytest.warns(UserWarning, match="written with scikit-learn 1.7.2"):
        log = _scripted_campaign(tmp_path, options["strategy"])
    assert log[0].startswith("Resuming")


def test_a_damaged_state_file_says_where_the_labels_are(tmp_path, capsys):
    # load_object's advice, "Use another copy, or save again", does not
    # apply; a flipped header byte was a KeyError traceback.
    state_path = _campaign_waiting_for_labels(tmp_path, capsys)
    data = bytearray(state_path.read_bytes())
    data[40] ^= 1
    state_path.write_bytes(bytes(data))
    err = _refusal_resuming(tmp_path, capsys)
    assert "state.joblib is damaged" in err
    assert "queries/round_*.csv into the table's label column" in err
    assert "start again with another --output" in err
    # As it says (moving the queries folder alone left the damaged state):
    assert "out/state.joblib (if there) moved away" in err
    # Damaged, not of an earlier commit: no other version would resume it.
    assert "Resume the campaign with the skal_openset that wrote it" not in err
    (tmp_path / "out" / "queries").rename(tmp_path / "old_queries")
    state_path.rename(tmp_path / "old_state.joblib")
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    assert "No complete labels in" in capsys.readouterr().err  # a new campaign


class _NoLongerLoads:
    def __reduce__(self):  # as an object of a class changed since fails
        return float, ("an old field",)


def test_an_early_state_file_that_does_not_load_says_how_to_resume_it(tmp_path, capsys):
    # Saved without a digest (before 2026-11-30), a state that fails to load
    # may be intact, of an earlier commit whose classes have changed: a
    # checkpoint says to resume it with that commit (0940dc21), a campaign
    # said only how to start again.
    state_path = _campaign_waiting_for_labels(tmp_path, capsys)
    state = load_object(state_path)
    with state_path.open("wb") as f:  # the first 0.1 files: no digest
        header = {"format": "skal_openset", "version": skal_openset.__version__}
        pickle.dump(header, f)
        joblib.dump({**state, "records": [_NoLongerLoads()]}, f)
    err = _refusal_resuming(tmp_path, capsys)
    assert "saved by an early development version" in err
    assert "Resume the campaign with the skal_openset that wrote it" in err
    assert "queries/round_*.csv into the table's label column" in err


def test_a_state_file_that_does_not_load_here_is_kept(tmp_path, capsys, saved_on_cuda):
    # A state holding tensors saved on a GPU, resumed without one, was called
    # damaged, as if the campaign had to start again.
    state_path = _campaign_waiting_for_labels(tmp_path, capsys)
    state = load_object(state_path)
    saved_on_cuda()
    save_object({**state, "tensor": torch.ones(1)}, state_path)
    err = _refusal_resuming(tmp_path, capsys)
    assert "state.joblib is intact" in err
    assert "Resume the campaign on a machine like the one that wrote it" in err
    assert "queries/round_*.csv into the table's label column" in err
    assert "damaged" not in err and "Delete" not in err


def test_a_state_file_whose_class_is_gone_is_one_line(tmp_path, capsys, monkeypatch):
    # load_object's ImportError used to end the command with a traceback.
    (tmp_path / "my_state.py").write_text("class State:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_state

    _table(tmp_path / "zoo.csv", blank_from=20)
    save_object(my_state.State(), tmp_path / "out" / "state.joblib")
    monkeypatch.delattr(my_state, "State")
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path)
    assert exit_.value.code == 2
    assert "class cannot be found here" in capsys.readouterr().err


def test_a_query_file_in_another_encoding_is_named_with_the_fix(tmp_path, capsys):
    _table(tmp_path / "zoo.csv", blank_from=20)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    with query.open(encoding="utf-8", newline="") as f:
        ids = [row["id"] for row in csv.DictReader(f)]
    answers = "id,label\n" + "".join(f"{i},caf\xe9\n" for i in ids)
    query.write_bytes(answers.encode("cp1252"))  # as Excel on Windows saves it
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path)
    assert exit_.value.code == 2
    assert "is not UTF-8 text" in capsys.readouterr().err


def test_csv_empty_labels_mark_unlabelled_rows(tmp_path):
    # load_csv_table refuses an empty label; the campaign reads it as "unlabelled".
    from skal_openset._campaign import load_table

    (tmp_path / "t.csv").write_text("x0,label\n1,3\n2,5\n3,\n4,5\n")
    X, labels = load_table(tmp_path / "t.csv")
    assert labels.tolist() == ["3", "5", "", "5"]
    assert X.ravel().tolist() == [1, 2, 3, 4]


def test_npz_labels_nan_marks_unlabelled_rows_and_bad_arrays_are_named(tmp_path):
    from skal_openset._campaign import load_table

    X = np.arange(12, dtype=float).reshape(4, 3)
    np.savez(tmp_path / "t.npz", X=X, label=np.array([1.0, np.nan, 2.5, np.nan]))
    _, labels = load_table(tmp_path / "t.npz")
    # NaN made the integer label 1 a float; it is read as "1", as in a CSV.
    assert labels.tolist() == ["1", "", "2.5", ""]
    np.savez(tmp_path / "wide.npz", X=X, label=np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"shape \(4, 1\); give one label per row"):
        load_table(tmp_path / "wide.npz")
    # one string for all rows: its characters were read as the rows' labels
    np.savez(tmp_path / "one.npz", X=X, label=np.array("abba"))
    with pytest.raises(ValueError, match=r"shape \(\); give one label per row"):
        load_table(tmp_path / "one.npz")
    X[2, 1] = np.inf
    np.savez(tmp_path / "inf.npz", X=X, label=np.ones(4))
    with pytest.raises(ValueError, match="row 2 of X, column 1: feature value inf"):
        load_table(tmp_path / "inf.npz")
    # pandas' string columns are object arrays, which np.load will not unpickle.
    match = r"object array .*label=labels.astype\(str\)"
    # Pickled, 1000 labels take fewer bytes than the pointers their header
    # announces: no damage either.
    for labels in (["a", "", "b", "a"], ["a", "", "b", "a"] * 250):
        np.savez(tmp_path / "object.npz", X=X, label=np.array(labels, dtype=object))
        with pytest.raises(ValueError, match=match):
            load_table(tmp_path / "object.npz")
    # Under another label column, the advice saves the labels under its name.
    labels = np.array(["a", "", "b", "a"], dtype=object)
    for column, saved in [("y", "y="), ("my label", r"\*\*\{'my label': ")]:
        np.savez(tmp_path / "object.npz", X=X, **{column: labels})
        advice = rf"object array .*np.savez\(path, X=X.astype\(float\), {saved}labels"
        with pytest.raises(ValueError, match=advice):
            load_table(tmp_path / "object.npz", column)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_npz_float_labels_are_spelt_as_written_in_their_precision(tmp_path, dtype):
    # float32's 0.1 was read as "0.10000000149011612": --in-classes 0.1 then
    # named a class that labels no row.
    from skal_openset._campaign import load_table

    labels = np.array([0.1, np.nan, 2.5, 3.0, 1e-05], dtype=dtype)
    np.savez(tmp_path / "t.npz", X=np.ones((5, 2)), label=labels)
    assert load_table(tmp_path / "t.npz")[1].tolist() == [
        "0.1",
        "",
        "2.5",
        "3",
        "1e-05",
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_npz_float_labels_beyond_exact_integers_are_refused(tmp_path, dtype):
    # Integer labels saved as floats to mark unlabelled rows with NaN were
    # rounded beyond 2**53 (2**24 in float32): the classes 2**53 and
    # 2**53 + 1 were read as one, "9007199254740992", silently.
    from skal_openset._campaign import load_table

    bits = np.finfo(dtype).nmant + 1
    labels = np.array([2**bits - 1, np.nan, -(2**bits), 2**bits + 1], dtype=dtype)
    np.savez(tmp_path / "t.npz", X=np.ones((4, 2)), label=labels)
    message = (
        rf"row 2 of the labels 'label' is {-float(2**bits)!r}, but "
        rf"{np.dtype(dtype)} holds integers exactly only below 2\*\*{bits} in "
        r"absolute value: .*np\.where\(labelled, labels\.astype\(str\), ''\)"
    )
    with pytest.raises(ValueError, match=message):
        load_table(tmp_path / "t.npz")
    # Below that, and the labels the message advises, read as they are.
    labels[2:] = [2**bits - 2, np.inf]
    np.savez(tmp_path / "t.npz", X=np.ones((4, 2)), label=labels)
    assert load_table(tmp_path / "t.npz")[1].tolist()[:3] == [
        str(2**bits - 1),
        "",
        str(2**bits - 2),
    ]
    ids = np.array([2**53, 0, 2**53 + 1, 7])
    labelled = np.array([True, False, True, True])
    strings = np.where(labelled, ids.astype(str), "")
    np.savez(tmp_path / "t.npz", X=np.ones((4, 2)), label=strings)
    assert load_table(tmp_path / "t.npz")[1].tolist() == [
        str(2**53),
        "",
        str(2**53 + 1),
        "7",
    ]


def test_npz_labels_saved_as_bytes_are_read_as_utf_8(tmp_path):
    # astype(str) decodes ASCII alone: "café" stopped the run with "'ascii'
    # codec can't decode byte 0xc3", naming no file nor array.
    from skal_openset._campaign import load_table

    X = np.ones((3, 2))
    names = np.array(["café", "", "b"])
    np.savez(tmp_path / "t.npz", X=X, label=np.char.encode(names, "utf-8"))
    assert load_table(tmp_path / "t.npz")[1].tolist() == ["café", "", "b"]
    np.savez(tmp_path / "l.npz", X=X, label=np.char.encode(names, "latin-1"))
    match = r"l.npz: the labels 'label' are bytes that are not UTF-8 text .*decode"
    with pytest.raises(ValueError, match=match):
        load_table(tmp_path / "l.npz")


@pytest.mark.parametrize("marker", ["NA", "n/a", "NaN", "None", "null", "?", "nan"])
def test_a_missing_value_marker_is_no_label(tmp_path, marker):
    # An R or pandas export's "NA" was a label, hence OOD: trained on as OOD in
    # an interactive run, put in the pool as OOD in a simulated one.
    from skal_openset._campaign import load_table

    path = tmp_path / "t.csv"
    path.write_text(f"x0,label\n1,a\n\n2, {marker} \n3,b\n4,{marker}\n5,\n")
    match = (
        rf"t.csv, line 4: the label '{re.escape(marker)}' reads as a missing value, "
        r"not a class \(2 row\(s\) in all.*leave the label of a row not labelled "
        "yet empty.*drop those rows"
    )
    with pytest.raises(ValueError, match=match):
        load_table(path)
    with pytest.raises(ValueError, match="reads as a missing value"):
        load_table(path, ood_label="unknown")
    # unless it is the OOD label the user gave
    _, labels = load_table(path, ood_label=marker)
    assert labels.tolist() == ["a", marker, "b", marker, ""]


def test_a_npz_suffix_in_any_case_is_read_and_a_npy_file_is_named(tmp_path):
    # T.NPZ and x.npy were read as CSV, and refused as "not UTF-8 text".
    from skal_openset._campaign import load_table

    X = np.arange(6.0).reshape(3, 2)
    with (tmp_path / "T.NPZ").open("wb") as f:  # a path would gain ".npz"
        np.savez(f, X=X, label=np.array(["a", "", "b"]))
    assert load_table(tmp_path / "T.NPZ")[1].tolist() == ["a", "", "b"]
    np.save(tmp_path / "x.npy", X)
    match = r"x.npy is a .npy file, which holds one array.*np.savez\(path, X=X, "
    with pytest.raises(ValueError, match=match + r"label=labels\)"):
        load_table(tmp_path / "x.npy")
    with pytest.raises(ValueError, match=match + r"\*\*\{'my label': labels\}\)"):
        load_table(tmp_path / "x.npy", "my label")
    # a name that begins with a digit is no keyword either
    with pytest.raises(ValueError, match=match + r"\*\*\{'2024': labels\}\)"):
        load_table(tmp_path / "x.npy", "2024")


def test_a_missing_value_marker_in_a_npz_is_no_label(tmp_path):
    from skal_openset._campaign import load_table

    X = np.zeros((4, 2))
    # labels.astype(str) writes NaN as "nan"; NaN itself marks an unlabelled row
    np.savez(tmp_path / "t.npz", X=X, label=np.array(["1", "2", "nan", ""]))
    with pytest.raises(ValueError, match="t.npz, row 2 of the labels: the label 'nan'"):
        load_table(tmp_path / "t.npz")
    np.savez(tmp_path / "t.npz", X=X, label=np.array([1.0, 2.0, np.nan, 1.0]))
    assert load_table(tmp_path / "t.npz")[1].tolist() == ["1", "2", "", "1"]


def test_missing_value_labels_exit_2_unless_they_are_the_ood_label(tmp_path, capsys):
    _table(tmp_path / "zoo.csv", n=40)
    lines = (tmp_path / "zoo.csv").read_text().splitlines()
    for i in (3, 7, 8):
        lines[i] = lines[i].rsplit(",", 1)[0] + ",NA"
    (tmp_path / "zoo.csv").write_text("\n".join(lines) + "\n")
    options = ["--rounds", "2", "--budget", "10", "--classifier", "forest"]
    with pytest.raises(SystemExit) as exit_:
        _run(tmp_path, tmp_path / "zoo.csv", "--interactive", "--timeout", "1")
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert "zoo.csv, line 4: the label 'NA' reads as a missing value" in err
    _run(tmp_path, tmp_path / "zoo.csv", "--ood-label", "NA", *options)
    assert "IN classes cat, cow" in capsys.readouterr().out


def test_an_in_class_spelled_like_a_missing_value_is_a_class(tmp_path, capsys):
    # North America, say: --in-classes names it, so it is no missing value.
    _table(tmp_path / "zoo.csv", n=80)
    text = (tmp_path / "zoo.csv").read_text().replace(",cow\n", ",NA\n")
    (tmp_path / "regions.csv").write_text(text)
    options = ["--rounds", "2", "--budget", "10", "--classifier", "forest"]
    main(
        ["run", str(tmp_path / "regions.csv"), "--in-classes", "cat,NA"]
        + ["--label-column", "species", "--output", str(tmp_path / "out"), *options]
    )
    assert "IN classes cat, NA" in capsys.readouterr().out


def test_labels_that_look_like_an_in_class_are_refused_or_warned_of():
    # "01" or "1.0" beside the IN class 1, "Cat" beside "cat": OOD, silently.
    labels = np.array(["1", "01", "2", "1.0", "01", "10", "", "x"])
    match = (
        r"'01' \(2 row\(s\)\), '1.0' \(1 row\(s\)\) look like the IN class '1'"
        ".*Make the labels consistent in the file"
    )
    for interactive in (False, True):
        with pytest.raises(ValueError, match=match):
            check_in_classes(["1", "2"], labels, "x", interactive=interactive)
    # those of each IN class apart, by a semicolon
    match = r"IN class '1'; '02' \(1 row\(s\)\) look like the IN class '2', but"
    with pytest.raises(ValueError, match=match):
        check_in_classes(["1", "2"], np.array(["1", "01", "2", "02"]), "x")
    # A case apart may be another class (EMNIST keeps 'a' and 'A'): a warning.
    labels = np.array(["cat", "Cat", "cow", "dog", "CAT "])
    match = r"'Cat' \(1 row\(s\)\), 'CAT' \(1 row\(s\)\) look like the IN class 'cat'"
    with pytest.warns(UserWarning, match=match):
        found = check_in_classes(["cat", "cow"], np.char.strip(labels), "unknown")
    assert found == ["cat", "cow"]
    # compared case-folded: 'STRASSE' is 'straße' in upper case
    labels = np.array(["straße", "STRASSE", "weg"])
    match = r"'STRASSE' \(1 row\(s\)\) look like the IN class 'straße' but for"
    with pytest.warns(UserWarning, match=match):
        check_in_classes(["straße", "weg"], labels, "unknown")
    # the OOD label, and labels that are other numbers or words, are no look-alikes
    labels = np.array(["1", "2", "10", "-1", "Unknown"])
    assert check_in_classes(["1", "2"], labels, "Unknown") == ["1", "2"]


def test_labels_that_differ_in_unicode_form_only_are_one_label(tmp_path):
    # A "café" saved by macOS (e and accent apart, NFD) was another label than
    # the one typed in --in-classes: its rows, and answers, counted as OOD.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    nfd = {name: unicodedata.normalize("NFD", name) for name in ("café", "autre é")}
    text = (tmp_path / "zoo.csv").read_text().replace(",cat\n", f",{nfd['café']}\n")
    (tmp_path / "zoo.csv").write_text(text, encoding="utf-8")
    options = ["--in-classes", "café,cow", "--ood-label", nfd["autre é"]]
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, *options)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    with query.open(newline="") as f:
        ids = [int(row["id"]) for row in csv.DictReader(f)]
    answer = {"cat": nfd["café"], "cow": "cow"}
    query.write_text(
        "id,label\n" + "".join(f"{i},{answer.get(truth[i], 'autre é')}\n" for i in ids),
        encoding="utf-8",
    )
    _wait_briefly(tmp_path, *options)
    learner = load_object(tmp_path / "out" / "state.joblib")["learner"]
    shown = {"cat": "café", "cow": "cow"}
    expected = [shown.get(t, "autre é") for t in truth[[*range(20), *ids]]]
    assert learner.y_labelled_.tolist() == expected


def test_labels_that_hold_invisible_characters_are_refused():
    # A zero-width space (from text copied off a web page) made a label that
    # reads as an IN class count as OOD, silently.
    labels = np.array(["café", "café\u200b", "sky", "café\u200b", "other"])
    match = (
        r"'café\\u200b' \(2 row\(s\), with U\+200B ZERO WIDTH SPACE\) look like "
        r"the IN class 'café' but for invisible characters.*Remove those"
    )
    for interactive in (False, True):
        with pytest.raises(ValueError, match=match):
            check_in_classes(["café", "sky"], labels, "x", interactive=interactive)
    # also where every row of the class holds one (not "pass --in-classes as
    # the file writes its labels")
    labels = np.array(["\u2060café", "sky", "", "other"])
    with pytest.raises(ValueError, match=r"U\+2060 WORD JOINER\) look like the IN"):
        check_in_classes(["café", "sky"], labels, "x", interactive=True)


def test_labels_apart_by_a_variation_selector_are_refused_and_one_typed_so_taken():
    # An emoji's variation selector (U+FE0F, which phones add to a heart) is
    # no format character: with --in-classes naming the bare heart, the
    # file's hearts with it counted as OOD, silently.
    heart, emoji = "\u2764", "\u2764\ufe0f"
    labels = np.array([heart, emoji, "sky", "", "other"] * 3)
    match = (
        rf"'{emoji}' \(3 row\(s\), with U\+FE0F VARIATION SELECTOR-16\) look "
        rf"like the IN class '{heart}' but for invisible characters"
    )
    with pytest.raises(ValueError, match=match):
        check_in_classes([heart, "sky"], labels, "x", interactive=True)
    # Typed with it while the file writes the bare heart, or the other way.
    labels = np.array([heart, "sky", "other"] * 3)
    with pytest.raises(ValueError, match=r"U\+FE0F VARIATION SELECTOR-16\); type"):
        check_in_classes([emoji, "sky"], labels, "x")
    labels = np.array([emoji, "sky", "other"] * 3)
    with pytest.raises(ValueError, match=rf"'{emoji}' \(3 row\(s\), with U\+FE0F"):
        check_in_classes([heart, "sky"], labels, "x")
    # Typed with it, the file's bare hearts beside would count as OOD.
    labels = np.array([emoji, heart, "sky", "other"] * 3)
    match = (
        rf"'{heart}' \(3 row\(s\), without U\+FE0F VARIATION SELECTOR-16\) look "
        rf"like the IN class '{emoji}' but for invisible characters"
    )
    with pytest.raises(ValueError, match=match):
        check_in_classes([emoji, "sky"], labels, "x")
    labels = np.array([emoji, "sky", "other"] * 3)
    # Typed as the file writes it, the class is taken, and so is a Persian
    # word with its zero-width non-joiner, which was refused as typed.
    assert check_in_classes([emoji, "sky"], labels, "x") == [emoji, "sky"]
    word = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    labels = np.array([word, "sky", "other"] * 3)
    assert check_in_classes([word, "sky"], labels, "x") == [word, "sky"]


@pytest.mark.parametrize("ood_label", ["x", "cat\u200b"])
def test_labels_taken_as_the_file_writes_them_may_not_read_as_one(ood_label):
    # Taken where the file writes them so, 'cat' and 'cat' with a zero-width
    # space were two IN classes that read as one, or the rows that read
    # 'cat' counted as OOD.
    labels = np.array(["cat", "cat\u200b", "dog", "x"] * 3)
    in_classes = ["cat", "dog"] if ood_label != "x" else ["cat", "cat\u200b", "dog"]
    match = (
        r"The labels 'cat' and 'cat\\u200b' differ only by invisible characters "
        r"\(U\+200B ZERO WIDTH SPACE\), so they read as one"
    )
    with pytest.raises(ValueError, match=match):
        check_in_classes(in_classes, labels, ood_label)


@pytest.mark.parametrize("position", ["in_class", "ood_label"])
def test_in_classes_typed_with_invisible_characters_are_refused(position):
    # 'cat' and a zero-width space labels no row, so a new interactive run
    # went on counting every 'cat' row and answer as OOD.
    labels = np.array(["cat", "dog", "", "other"] * 5)
    typed = "cat\u200b"
    in_classes, ood = (
        ([typed, "dog"], "unknown")
        if position == "in_class"
        else (["cat", "dog"], typed)
    )
    with pytest.raises(ValueError, match=r"U\+200B ZERO WIDTH SPACE\); type the IN"):
        check_in_classes(in_classes, labels, ood, interactive=True)


def test_in_classes_spelled_otherwise_than_the_file_name_the_remedy():
    # The file is consistent; "make the labels consistent in the file" could
    # not help (a float .npz's 1.0 reads as '1').
    labels = np.array(["1", "2", "3"] * 5)
    with pytest.raises(ValueError, match="pass --in-classes as the file writes"):
        check_in_classes(["1.0", "2.0"], labels, "unknown")
    # in case only: refused too, or every 'Cat' answer would count as OOD
    labels = np.array(["Cat", "Dog", "Cow", "unknown"] * 5)
    with pytest.raises(ValueError, match="IN classes 'cat' label no row as written"):
        check_in_classes(["cat", "Dog"], labels, "unknown", interactive=True)
    # 'a' may be a class of its own beside 'A': the message says how to go on
    labels = np.array(["A", "A", "b", "b", "", ""])
    with pytest.raises(ValueError, match="label a row of it in the file first"):
        check_in_classes(["a", "b"], labels, "unknown", interactive=True)
    labels[-1] = "a"
    with pytest.warns(UserWarning, match="look like the IN class 'a' but for"):
        assert check_in_classes(["a", "b"], labels, "unknown", interactive=True)


def test_long_integer_codes_are_no_look_alikes():
    # Compared as floats, 17-digit codes tied.
    codes = ["90071992547409930", "90071992547409931", "90071992547409932"]
    labels = np.array(codes * 4)
    assert check_in_classes(codes[:2], labels, "unknown") == codes[:2]


def test_labels_that_read_as_no_number_are_no_look_alikes():
    # NaN equals no number, and a signalling one ("sNaN") raises decimal's
    # InvalidOperation when compared: neither is taken as a number.
    labels = np.array(["1", "2", "NaN", "sNaN", "snan"] * 3)
    assert check_in_classes(["1", "2"], labels, "unknown") == ["1", "2"]


def test_npz_features_of_text_or_one_dimension_are_named(tmp_path):
    from skal_openset._campaign import load_table

    labels = np.array(["a", "b", "a"])
    np.savez(tmp_path / "t.npz", X=np.array([["x"], ["y"], ["z"]]), label=labels)
    with pytest.raises(ValueError, match=r"X holds text of dtype <U1 that are not"):
        load_table(tmp_path / "t.npz")
    np.savez(tmp_path / "t.npz", X=np.array([["1.5"], ["2"], ["3"]]), label=labels)
    assert load_table(tmp_path / "t.npz")[0].ravel().tolist() == [1.5, 2, 3]
    np.savez(tmp_path / "t.npz", X=np.arange(3.0), label=labels)
    with pytest.raises(ValueError, match=r"shape \(3,\).*save X.reshape\(-1, 1\)"):
        load_table(tmp_path / "t.npz")
    # each row an image, or no rows at all: the remedy fits the shape
    np.savez(tmp_path / "t.npz", X=np.ones((3, 2, 2)), label=labels)
    match = r"shape \(3, 2, 2\).*flatten each row, X.reshape\(len\(X\), -1\)"
    with pytest.raises(ValueError, match=match):
        load_table(tmp_path / "t.npz")
    np.savez(tmp_path / "t.npz", X=np.float64(1.5), label=labels)
    with pytest.raises(ValueError, match=r"shape \(\).*save an array of rows"):
        load_table(tmp_path / "t.npz")
    # text saved as bytes is text too; a structured array's records are no
    # numbers either (numpy raises TypeError, not ValueError, for them)
    np.savez(tmp_path / "t.npz", X=np.array([[b"x"], [b"y"], [b"z"]]), label=labels)
    with pytest.raises(ValueError, match=r"X holds text of dtype \|S1 that are not"):
        load_table(tmp_path / "t.npz")
    records = np.zeros((3, 1), dtype=[("a", "i4"), ("b", "i4")])
    np.savez(tmp_path / "t.npz", X=records, label=labels)
    with pytest.raises(ValueError, match=r"X holds values of dtype \[\('a', '<i4'\)"):
        load_table(tmp_path / "t.npz")


def test_npz_features_without_rows_or_columns_are_named(tmp_path):
    # numpy's "cannot reshape array of size 0", and scikit-learn's "0
    # feature(s)" once the campaign had begun
    from skal_openset._campaign import load_table

    labels = np.array(["a", "b", "a"])
    np.savez(tmp_path / "t.npz", X=np.zeros((0, 4)), label=labels[:0])
    with pytest.raises(ValueError, match=r"t.npz has no rows \(X has shape \(0, 4\)"):
        load_table(tmp_path / "t.npz")
    np.savez(tmp_path / "t.npz", X=np.zeros((3, 0)), label=labels)
    with pytest.raises(ValueError, match=r"t.npz has no feature column \(X has shape"):
        load_table(tmp_path / "t.npz")


def test_npz_labels_not_one_per_row_and_columns_to_ignore_are_refused(tmp_path, capsys):
    # Labels saved beside another X, and --ignore-columns, which names CSV
    # columns: X has none.
    X = np.ones((4, 2))
    np.savez(tmp_path / "t.npz", X=X, label=np.array(["a", "b", "a"]))
    match = (
        r"t.npz: expected .* one label per row, got features of shape \(4, 2\) and 3"
    )
    with pytest.raises(ValueError, match=match):
        load_table(tmp_path / "t.npz")
    np.savez(tmp_path / "t.npz", X=X, label=np.array(["a", "b", "a", "b"]))
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(tmp_path / "t.npz"), "--in-classes", "a,b",
              "--ignore-columns", "id", "--output", str(tmp_path / "out")])  # fmt: skip
    assert exit_.value.code == 2
    assert capsys.readouterr().err.endswith(
        "t.npz is a .npz file, whose features 'X' have no named columns to "
        "ignore; save X without them.\n"
    )
    assert not (tmp_path / "out").exists()


def test_npz_features_float32_holds_exactly_are_taken_as_they_are(tmp_path):
    # float32 itself, or integers of 16 bits: the cast loses nothing. float16
    # drew "overflow encountered in cast", from the check against 1e30.
    labels = np.array(["a", "b", "a"])
    for X in (
        np.array([[0.1], [1e-30], [1e29]], np.float32),
        np.array([[-32768], [7], [32767]], np.int16),
        np.array([[-65504], [0.1], [65504]], np.float16),
    ):
        np.savez(tmp_path / "t.npz", X=X, label=labels)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loaded, _ = load_table(tmp_path / "t.npz")
        assert loaded.dtype == np.float32
        np.testing.assert_array_equal(loaded, X.astype(np.float32))


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_npz_features_are_checked_as_a_csv_before_the_float32_cast(tmp_path):
    from skal_openset._campaign import load_table

    labels = np.array(["a", "b"] * 30)
    X = np.random.RandomState(0).normal(size=(60, 3))
    X[7, 1] = 1e40  # overflowed in the cast, then blamed as "NaN or infinity"
    np.savez(tmp_path / "t.npz", X=X, label=labels)
    match = r"t.npz, row 7 of X, column 1: feature value 1e\+40 is not finite or above"
    with pytest.raises(ValueError, match=match):
        load_table(tmp_path / "t.npz")
    # Timestamps above 2**24 merged silently.
    X[:, 1] = 1_700_000_000 + np.arange(60)
    np.savez(tmp_path / "t.npz", X=X, label=labels)
    match = r"t.npz: features are stored as float32 .* of column 1 of X \(values"
    with pytest.warns(UserWarning, match=match):
        features, _ = load_table(tmp_path / "t.npz")
    np.testing.assert_array_equal(features, X.astype(np.float32))


def test_npz_complex_features_and_arrays_saved_without_names_are_named(tmp_path):
    from skal_openset._campaign import load_table

    X, labels = np.ones((3, 2)), np.array(["a", "b", "a"])
    # X.astype(float32) dropped the imaginary parts, warning only
    np.savez(tmp_path / "t.npz", X=X + 1j, label=labels)
    with pytest.raises(ValueError, match=r"X holds complex numbers .*np.hstack"):
        load_table(tmp_path / "t.npz")
    # "lacks the arrays ['X', 'label']" did not say what the file holds
    np.savez(tmp_path / "t.npz", X, labels)
    match = r"\(it holds \['arr_0', 'arr_1'\]\).*np.savez\(path, X=X, label=labels"
    with pytest.raises(ValueError, match=match):
        load_table(tmp_path / "t.npz")
    # X without the labels: named, not a KeyError on their member
    np.savez(tmp_path / "t.npz", X=X, y=labels)
    with pytest.raises(ValueError, match=r"lacks the arrays \['label'\] \(it holds"):
        load_table(tmp_path / "t.npz")


def _npz_with_member(npz, name, data):
    """The bytes of the .npz file `npz` with `data` in place of its member
    `name`, the other members as they are."""
    members = io.BytesIO()
    with zipfile.ZipFile(npz) as ok, zipfile.ZipFile(members, "w") as z:
        for each in ok.namelist():
            z.writestr(each, data if each == name else ok.read(each))
    return members.getvalue()


def test_a_damaged_or_misnamed_npz_exits_2_saying_what_it_is(tmp_path, capsys):
    # Tracebacks (BadZipFile, EOFError), numpy's advice to load the bytes
    # with allow_pickle, or "does not support the context manager protocol".
    rng = np.random.RandomState(0)
    X, labels = rng.normal(size=(50, 3)), rng.choice(["a", "b"], 50)
    np.savez(tmp_path / "ok.npz", X=X, label=labels)
    whole = (tmp_path / "ok.npz").read_bytes()
    np.savez_compressed(tmp_path / "c.npz", X=X, label=labels)
    flipped = bytearray((tmp_path / "c.npz").read_bytes())
    flipped[200] ^= 0xFF  # inside X's data: a bad CRC-32
    np.save(tmp_path / "x.npy", X)
    npy = (tmp_path / "x.npy").read_bytes()
    announced = r"damaged \(reading it: the header of {}.npy"
    huge = {}
    # X's announces 8 PB: numpy tried to allocate them. Version 3.0 (2.0's
    # layout, with a UTF-8 header) went unchecked.
    versions = {1: np.lib.format.write_array_header_1_0}
    versions[3] = np.lib.format.write_array_header_2_0
    for version, write_header in versions.items():
        header = io.BytesIO()
        write_header(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**6)}
        )
        header.getbuffer()[6] = version  # the major version
        member = header.getvalue() + bytes(8)
        # The labels' member is checked as X's is.
        for name in ("X", "label"):
            huge[f"huge-{name}-{version}.0"] = (
                _npz_with_member(tmp_path / "ok.npz", f"{name}.npy", member),
                announced.format(name),
            )
    # X.npy holding other bytes: numpy gave them as they are, and reading
    # X's shape failed ("'bytes' object has no attribute 'ndim'").
    other = {"text": b"1,2\n3,4\n", "version-9": b"\x93NUMPY\x09\x00" + bytes(8)}
    for name, member in other.items():
        other[name] = _npz_with_member(tmp_path / "ok.npz", "X.npy", member)
    files = {
        **huge,
        "text": (other["text"], r"damaged \(reading it: X.npy holds no .npy array"),
        # 8 bytes short: the header's bytes count, as X's 1200 do
        "short": (
            _npz_with_member(tmp_path / "ok.npz", "X.npy", npy[:-8]),
            rf"header of X.npy announces shape \(50, 3\) of float64, {len(npy)} "
            rf"bytes, but the member holds {len(npy) - 8}\)",
        ),
        "version-9": (other["version-9"], r"damaged \(reading it: .*not \(9, 0\)"),
        "half": (whole[: len(whole) // 2], "begins as a zip archive.*truncated or"),
        "flipped": (bytes(flipped), r"damaged \(reading it: Bad CRC-32"),
        "empty": (b"", r"is empty \(0 bytes\)"),
        "csv": (b"x,label\n1,a\n", "not a .npz file at all.*suffix .csv"),
        "npy": (npy, "is a .npy file, which holds one"),
    }
    for name, (data, match) in files.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(data)
        with pytest.raises(ValueError, match=f"{name}.npz .*{match}") as error:
            load_table(path)
        assert "allow_pickle" not in str(error.value)
        with pytest.raises(SystemExit) as exit_:
            main(["run", str(path), "--in-classes", "a", "--output", str(tmp_path)])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and err.count("\n") == 1
        assert re.search(match, err), err


def test_an_npz_of_encrypted_members_exits_2_saying_it_is_unreadable(tmp_path, capsys):
    # zipfile's RuntimeError ("password required"), which the image loader
    # counts as damage, escaped as a traceback.
    path = tmp_path / "locked.npz"
    np.savez(path, X=np.ones((4, 2)), label=np.array(["a", "b", "a", "b"]))
    data = bytearray(path.read_bytes())
    # The "encrypted" flag bit of each local and central header, as a
    # password-protected zip (or a damaged header) sets it.
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at != -1:
            data[at + flags] |= 1
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    match = r"locked.npz is not a readable .npz file: .*encrypted"
    with pytest.raises(ValueError, match=match):
        load_table(path)
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(path), "--in-classes", "a", "--output", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert re.search(match, err), err


def test_an_npz_of_encrypted_members_is_not_said_to_be_damaged(tmp_path):
    # It was "truncated or damaged", to be copied again: a password-protected
    # archive is whole, and its arrays must be saved again without one.
    path = tmp_path / "locked.npz"
    np.savez(path, X=np.ones((4, 2)), label=np.array(["a", "b", "a", "b"]))
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")  # the central header of X.npy only
    data[at + 8] |= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError) as error:
        load_table(path)
    message = str(error.value)
    assert "the member(s) ['X.npy'] are encrypted" in message
    assert "unzip it with the password and save the arrays again" in message
    assert "truncated" not in message


def test_an_npz_whose_label_member_alone_is_encrypted_is_refused_as_such(tmp_path):
    # Both arrays are read: the labels' member is looked at too, not X's alone.
    path = tmp_path / "locked.npz"
    np.savez(path, X=np.ones((4, 2)), label=np.array(["a", "b", "a", "b"]))
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02", data.find(b"PK\x01\x02") + 4)  # label.npy's
    data[at + 8] |= 1
    path.write_bytes(bytes(data))
    with pytest.raises(
        ValueError, match=r"the member\(s\) \['label.npy'\] are encrypted"
    ):
        load_table(path)


def test_an_npz_whose_members_are_named_without_npy_loads(tmp_path):
    # np.load reads an array from a member named as the array, without
    # ".npy" (a zip written by other tools): so does load_table.
    path = tmp_path / "plain.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for name, array in (
            ("X", np.ones((4, 2))),
            ("label", np.array(["a", "b"] * 2)),
        ):
            buffer = io.BytesIO()
            np.save(buffer, array)
            zf.writestr(name, buffer.getvalue())
    X, y = load_table(path)
    np.testing.assert_array_equal(X, np.ones((4, 2)))
    assert y.tolist() == ["a", "b", "a", "b"]


def test_a_recursion_error_reading_an_npz_is_not_called_damage(tmp_path, monkeypatch):
    # RuntimeError, which zipfile raises for an encrypted member, counted as
    # damage, and so did its subclass RecursionError: a bug read as a file's.
    path = tmp_path / "t.npz"
    np.savez(path, X=np.ones((4, 2)), label=np.array(["a", "b", "a", "b"]))

    def recursing(f):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(np.lib.format, "read_magic", recursing)
    with pytest.raises(RecursionError):
        load_table(path)


def test_an_unclosed_quote_in_a_big_file_exits_2_with_one_line(tmp_path, capsys):
    # The csv module's "field larger than field limit" escaped as a traceback.
    rows = [f"{i},{i % 7},{'ab'[i % 2]}" for i in range(15_000)]
    rows[4] = '3,"4,a'
    (tmp_path / "t.csv").write_text("x,y,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(tmp_path / "t.csv"), "--in-classes", "a,b"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1
    assert "line 6: a quote opened on line 6 is not closed" in err


@pytest.mark.slow  # a fresh interpreter
def test_an_mqnet_campaign_resumes_its_open_query_in_a_new_process(tmp_path, capsys):
    # The person answers between two runs of the command; string hashes differ
    # between the two processes (PYTHONHASHSEED), as between any two. The
    # first run is this process's, the second a child's.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    arguments = [
        "run", str(tmp_path / "zoo.csv"),
        "--in-classes", "cat,cow", "--label-column", "species", "--interactive",
        "--rounds", "2", "--budget", "6", "--classifier", "forest",
        "--poll-seconds", "0.02", "--output", str(tmp_path / "out"),
    ]  # fmt: skip
    with pytest.raises(SystemExit) as waiting:
        main([*arguments, "--timeout", "0.5"])
    assert waiting.value.code == 2 and "round_2.csv" in capsys.readouterr().err
    query = tmp_path / "out" / "queries" / "round_2.csv"
    with query.open(newline="") as f:
        ids = [int(row["id"]) for row in csv.DictReader(f)]
    answers = [t if t in ("cat", "cow") else "unknown" for t in truth[ids]]
    query.write_text("id,label\n" + "".join(f"{i},{a}\n" for i, a in zip(ids, answers)))
    resumed = subprocess.run(
        [sys.executable, "-m", "skal_openset", *arguments, "--timeout", "60"],
        env=env_with_other_string_hashes(),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    with (tmp_path / "out" / "records.csv").open() as f:
        assert [int(r["n_labelled"]) for r in csv.DictReader(f)] == [20, 26]


def _refusal(tmp_path, capsys, *options, data="zoo.csv"):
    """Rerun the waiting campaign, which must stop with exit status 2: its message."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path, *options, data=data)
    assert exit_.value.code == 2
    return capsys.readouterr().err


def _answer(tmp_path, truth, header="id,label", extra="", newline="\n", round_=2):
    """Fill in the open query file of `round_`, every label right."""
    query = tmp_path / "out" / "queries" / f"round_{round_}.csv"
    with query.open(newline="") as f:
        ids = [r["id"] for r in csv.DictReader(f)]
    rows = [header]
    for i in ids:
        label = truth[int(i)]
        rows.append(f"{i},{label if label in ('cat', 'cow') else 'unknown'}")
    query.write_text(newline.join(rows) + newline + extra, newline="")
    return ids


def test_an_answer_beside_a_like_row_of_another_label_gets_the_campaigns_advice(
    tmp_path,
):
    # It told the person to edit learner.X_labelled_ and fit again, which a
    # campaign on the command line offers no way to do.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    lines = (tmp_path / "zoo.csv").read_text().splitlines()
    # every pool row has the features of a labelled row
    for i in range(21, len(lines)):
        lines[i] = lines[1 + (i - 21) % 20].rsplit(",", 1)[0] + ","
    (tmp_path / "zoo.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    # every answer OOD, beside rows of cat and cow among them
    _answer(tmp_path, {i: "eel" for i in range(20, len(truth))})
    with pytest.warns(UserWarning, match="share their features") as record:
        _wait_briefly(tmp_path)
    [message] = [str(w.message) for w in record if "share their" in str(w.message)]
    assert "Taught labels cannot be changed in a campaign" in message
    assert "learner.X_labelled_" not in message


def test_an_ood_label_with_spaces_is_read_as_the_answers_are(tmp_path):
    # Answers are read stripped: with --ood-label " unknown " (a quoting slip)
    # every answer "unknown" was refused as a label the run could not read.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--ood-label", " unknown ")
    _answer(tmp_path, truth)
    _wait_briefly(tmp_path, "--ood-label", " unknown ")
    learner = load_object(tmp_path / "out" / "state.joblib")["learner"]
    assert len(learner.y_labelled_) == 25
    assert set(learner.y_labelled_) == {"cat", "cow", "unknown"}


def test_a_query_file_whose_label_column_was_renamed_is_named(tmp_path, capsys):
    # Every label read empty, so the run waited until its timeout, saying
    # only that no complete labels had come.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    _answer(tmp_path, truth, header="id,Label")
    message = _refusal(tmp_path, capsys)
    assert "needs the header 'id,label'" in message
    assert message.endswith(
        "Once the file is fixed, rerun the same command to resume.\n"
    )


def test_a_query_file_that_lists_an_id_twice_is_refused(tmp_path, capsys):
    # The last of the two labels used to win silently.
    query, ids = _answered_round_2(tmp_path)
    with query.open("a", newline="") as f:
        f.write(f"{ids[0]},unknown\n")
    assert f"row id {ids[0]} is there twice" in _refusal(tmp_path, capsys)


@pytest.mark.parametrize("column", ["label", "id"])
def test_a_query_file_with_two_columns_of_one_name_is_refused(tmp_path, capsys, column):
    # csv.DictReader keeps the last of two "label" columns: a notes column
    # named so too had its text taught for good instead of the labels.
    query, ids = _answered_round_2(tmp_path)
    rows = query.read_text().splitlines()
    extra = {"label": "cat", "id": "1"}[column]
    query.write_text(
        "\n".join([f"{rows[0]},{column}", *(f"{r},{extra}" for r in rows[1:])]) + "\n"
    )
    message = _refusal(tmp_path, capsys)
    assert f"has 2 columns named '{column}'" in message
    assert "rename the extra one" in message
    assert not load_object(tmp_path / "out" / "state.joblib")["taught"]


def test_ids_changed_or_labels_left_blank_are_named(tmp_path, capsys):
    # "the ids must stay those asked for (5 rows)" and "No complete labels"
    # left the person to find which rows among all.
    query, ids = _answered_round_2(tmp_path)
    rows = query.read_text().splitlines()
    label = rows[1].split(",")[1]
    query.write_text("\n".join([rows[0], f"999,{label}", *rows[3:]]) + "\n")
    message = _refusal(tmp_path, capsys)
    assert (
        f"(5 rows; missing: {ids[0]}, {ids[1]}; not asked for: 999); change only"
    ) in message
    rows[2] = f"{ids[1]},"
    query.write_text("\n".join(rows) + "\n")
    assert f"(still blank: ids {ids[1]}); rerun" in _refusal(tmp_path, capsys)


def test_labels_saved_beside_the_blank_query_file_are_named(tmp_path, capsys):
    # Saved as round_2.xlsx (a spreadsheet's own format) or round_2.csv.txt
    # (an editor hiding extensions), the labels were never read and the run
    # waited saying only "Waiting...".
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    blank = query.read_text()
    _answer(tmp_path, truth)
    (query.parent / "round_2.csv.txt").write_text(query.read_text())
    (query.parent / "round_2.xlsx").write_bytes(b"PK\x03\x04")
    (query.parent / "round_2 - Copy.csv").write_text(blank)  # no labels
    (query.parent / "round_21.csv").write_text(query.read_text())  # another round's
    query.write_text(blank)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    out = capsys.readouterr().out
    for name in ("round_2.csv.txt", "round_2.xlsx"):
        assert (
            out.count(
                f"{name} is beside round_2.csv, which is still blank as written: the "
                f"run reads only round_2.csv. If {name} holds the labels, save it as "
                "CSV (UTF-8) named round_2.csv, over the blank one."
            )
            == 1
        )  # at every poll, said once
    assert "Copy" not in out and "round_21" not in out


def test_a_spreadsheets_trailing_empty_rows_are_ignored(tmp_path, capsys):
    # Excel can save emptied cells as rows of bare commas, CRLF-ended.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    _answer(tmp_path, truth, extra=",\r\n,\r\n", newline="\r\n")
    _wait_briefly(tmp_path)
    with (tmp_path / "out" / "records.csv").open() as f:
        assert [int(r["n_labelled"]) for r in csv.DictReader(f)] == [20, 25]


def test_blank_lines_above_a_query_files_header_are_skipped(tmp_path, capsys):
    # "needs the header 'id,label' as written, got []", as the table's own
    # blank lines are skipped.
    query, _ = _answered_round_2(tmp_path)
    query.write_text("\n\r\n" + query.read_text(), newline="")
    _wait_briefly(tmp_path)
    assert 2 in load_object(tmp_path / "out" / "state.joblib")["taught"]


@pytest.mark.parametrize(
    "changed, named",
    [
        (["--in-classes", "cat,dog"], "--in-classes was cat,cow, now cat,dog"),
        (["--classifier", "forest"], "--classifier was mlp, now forest"),
        (["--cost-in", "0.5"], "--cost-in was 1, now 0.5"),
        (["--cost-ood", "2"], "--cost-ood was 1, now 2"),
        (["--seed", "1"], "--seed was 0, now 1"),
    ],
)
def test_a_resume_names_each_option_that_shapes_the_campaign(
    tmp_path, capsys, changed, named
):
    # An option left out of those kept in the state still refused the resume
    # (it is in the fingerprint), but as "another campaign", naming nothing.
    _campaign_waiting_for_labels(tmp_path, capsys)
    assert f"or options: {named}. Rerun" in _refusal(tmp_path, capsys, *changed)


def test_a_campaign_resumes_with_its_in_classes_listed_in_another_order(
    tmp_path, capsys
):
    # The state held them in the order given, so --in-classes cat,cow was
    # refused as "--in-classes was cow,cat, now cat,cow": the learner keeps
    # its classes sorted, and the order changes nothing else (the queries
    # list ids and labels).
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--in-classes", "cow,cat")
    state = load_object(tmp_path / "out" / "state.joblib")
    assert state["learner"].classes_.tolist() == ["cat", "cow"]
    assert "--in-classes was" not in _refusal(
        tmp_path, capsys, "--in-classes", "cat,cow", "--budget", "8"
    )
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--in-classes", "cat,cow")
    assert "Resuming from" in capsys.readouterr().out
    _answer(tmp_path, truth)
    _wait_briefly(tmp_path, "--in-classes", "cow,cat")
    assert 2 in load_object(tmp_path / "out" / "state.joblib")["taught"]


def test_a_campaign_of_earlier_code_resumes_with_its_in_classes_in_either_order(
    tmp_path, capsys
):
    # States of earlier code hashed the classes in the order given: they
    # resume with it, and once saved again, in any order.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--in-classes", "cow,cat")
    state_path = tmp_path / "out" / "state.joblib"
    state = load_object(state_path)
    X, labels = load_table(tmp_path / "zoo.csv", "species", in_classes=["cow", "cat"])
    options = {**state["options"], "--in-classes": ["cow", "cat"]}
    state["options"] = options
    state["fingerprint"] = table_fingerprint(X, labels, *options.values()).saved
    save_object(state, state_path)
    # Not in the other order: that state cannot tell it from another campaign.
    assert "--in-classes was cow,cat, now cat,cow" in _refusal(
        tmp_path, capsys, "--in-classes", "cat,cow"
    )
    _answer(tmp_path, truth)
    _wait_briefly(tmp_path, "--in-classes", "cow,cat")
    assert "Resuming from" in capsys.readouterr().out
    _wait_briefly(tmp_path, "--in-classes", "cat,cow")
    assert "Resuming from" in capsys.readouterr().out
    # Saved again with the classes sorted: a refusal names only what changed.
    refusal = _refusal(tmp_path, capsys, "--in-classes", "cow,cat", "--seed", "7")
    assert "--seed was 0, now 7" in refusal and "--in-classes" not in refusal


def test_a_blank_query_with_its_label_column_renamed_is_kept_without_the_state(
    tmp_path, capsys
):
    # Only the extra columns' names may differ from a query as written: one
    # with its 'label' column renamed counted as blank, and was written over.
    state = _campaign_waiting_for_labels(tmp_path, capsys)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    renamed = query.read_text().replace("id,label", "id,Label", 1)
    query.write_text(renamed)
    state.unlink()
    assert "round_2.csv may hold labels that" in _refusal(tmp_path, capsys)
    assert query.read_text() == renamed


def test_an_empty_ood_label_is_refused(tmp_path, capsys):
    # An empty label marks a row not labelled yet: OOD rows could never be
    # answered, and the run would wait for ever.
    _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit) as exit_:
        options = ["--ood-label", "", "--timeout", "0.2", "--strategy", "random"]
        _run(tmp_path, tmp_path / "zoo.csv", "--interactive", *options)
    assert exit_.value.code == 2
    assert "The OOD label must be a non-empty label" in capsys.readouterr().err
    # spaces alone, which the labels are compared without, are empty too
    with pytest.raises(ValueError, match="The OOD label must be a non-empty label"):
        check_in_classes(["cat", "cow"], np.array(["cat", "cow", ""]), "  ")


def test_labels_of_a_query_file_the_state_does_not_know_are_kept(tmp_path, capsys):
    # With state.joblib deleted, a rerun started afresh and wrote its round 2
    # query over the person's answered file.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    _answer(tmp_path, truth)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    answered = query.read_text()
    (tmp_path / "out" / "state.joblib").unlink()
    assert "round_2.csv may hold labels that" in _refusal(tmp_path, capsys)
    assert query.read_text() == answered


def test_labels_of_a_next_rounds_file_a_resumed_state_does_not_know_are_kept(
    tmp_path, capsys
):
    # A state that asks nothing yet (put back from before round 3 was asked)
    # is resumed: its next query must not be written over the labels there.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    state = tmp_path / "out" / "state.joblib"
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    _answer(tmp_path, truth)
    _wait_briefly(tmp_path)  # round 2 taught, the campaign done
    before_round_3 = state.read_bytes()
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--rounds", "3")
    _answer(tmp_path, truth, round_=3)
    query = tmp_path / "out" / "queries" / "round_3.csv"
    answered = query.read_text()
    state.write_bytes(before_round_3)
    message = _refusal(tmp_path, capsys, "--rounds", "3")
    assert "round_3.csv may hold labels that" in message
    assert query.read_text() == answered


def test_a_refusal_for_labels_the_state_does_not_know_saves_no_state(tmp_path, capsys):
    # The refused run had saved a fresh round-1 state first, which the next
    # run resumed, asking for the same rows; and the advice, to move the
    # queries folder away, left the labels typed unread.
    query, ids = _answered_round_2(tmp_path)
    state = tmp_path / "out" / "state.joblib"
    state.unlink()
    message = _refusal(tmp_path, capsys)
    assert not state.exists()
    assert (
        f"copy those in {query.parent}/round_*.csv into the table's label column"
    ) in message
    assert "start again with another --output, or with the queries folder" in message
    # As it says: the labels into the table, whose label column is the last.
    rows = (tmp_path / "zoo.csv").read_text().splitlines()
    for line in query.read_text().splitlines()[1:]:
        i, label = line.split(",")
        rows[int(i) + 1] += label
    (tmp_path / "zoo.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--output", str(tmp_path / "again"))
    learner = load_object(tmp_path / "again" / "state.joblib")["learner"]
    assert len(learner.y_labelled_) == 25


@pytest.mark.parametrize(
    "header, separator, encoding",
    [
        ("id;label", ";", "utf-8"),  # Excel in a European locale
        ("id\tlabel", "\t", "utf-8"),
        ("ID,Label", ",", "utf-8"),
        ("id,label", ",", "utf-16"),  # Excel's "Unicode Text"
    ],
)
def test_labels_in_another_layout_are_kept_without_the_state(
    tmp_path, capsys, header, separator, encoding
):
    # Only a label column read as "label" counted as labels: these read
    # empty, and a rerun without state.joblib wrote the query over them.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    query = tmp_path / "out" / "queries" / "round_2.csv"
    blank = query.read_text()
    _answer(tmp_path, truth)
    rows = [header] + [
        line.replace(",", separator) for line in query.read_text().splitlines()[1:]
    ]
    answered = "\r\n".join(rows).encode(encoding)
    query.write_bytes(answered)
    (tmp_path / "out" / "state.joblib").unlink()
    assert "round_2.csv may hold labels that" in _refusal(tmp_path, capsys)
    assert query.read_bytes() == answered
    # A blank query as written, even resaved with CRLF, is asked anew.
    query.write_text(blank.replace("\n", "\r\n") + ",\r\n", newline="")
    assert "No complete labels" in _refusal(tmp_path, capsys)


@pytest.mark.parametrize("kept", ["not-csv", "another-tables-ids"])
def test_a_query_file_not_of_this_table_or_not_csv_is_kept_without_the_state(
    tmp_path, capsys, kept
):
    # A quote left open in a long file (no CSV the reader takes), or the
    # query of a longer table (ids this one lacks): no blank query as this
    # run writes them, so either may hold a person's labels.
    _, query = _first_query_with_own_id(tmp_path)
    blank = query.read_text()
    if kept == "not-csv":
        changed = blank + '"' + "0," * 70_000 + "\n"
    else:
        last = blank.splitlines()[-1].split(",")[0]
        changed = blank.replace(f"\n{last},", "\n9999,")
    query.write_text(changed)
    (tmp_path / "out" / "state.joblib").unlink()
    message = _refusal(tmp_path, capsys, "--ignore-columns", "id")
    assert "round_2.csv may hold labels that" in message
    assert query.read_text() == changed


def _round_3_asked(tmp_path):
    """The table's labels, of a campaign of 3 rounds with round 2 taught and
    round 3 asked."""
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--rounds", "3")
    _answer(tmp_path, truth)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--rounds", "3")  # round 2 taught, round 3 asked
    return truth


def test_an_answered_query_beyond_the_rounds_is_refused(tmp_path, capsys):
    # A rerun whose --rounds ended before the open query's round stopped with
    # exit status 0: the person's labels were silently left untaught.
    truth = _round_3_asked(tmp_path)
    _wait_briefly(tmp_path, "--rounds", "2")  # round 3 blank: no labels to lose
    _answer(tmp_path, truth, round_=3)
    assert "round_3.csv is open: pass --rounds >= 3 to teach it" in _refusal(
        tmp_path, capsys
    )
    _wait_briefly(tmp_path, "--rounds", "3")
    with (tmp_path / "out" / "records.csv").open() as f:
        assert [int(r["n_labelled"]) for r in csv.DictReader(f)] == [20, 25, 30]


def test_a_rerun_with_fewer_rounds_than_were_taught_is_refused(tmp_path, capsys):
    # It wrote records.csv with every round taught, more than --rounds asked
    # for, without a word (a simulated run refuses the same).
    truth = _round_3_asked(tmp_path)
    _answer(tmp_path, truth, round_=3)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--rounds", "4")  # round 3 taught, round 4 asked
    assert (
        "state.joblib already holds 3 rounds, more than --rounds 2: pass "
        "--rounds >= 3" in _refusal(tmp_path, capsys, "--rounds", "2")
    )
    assert not (tmp_path / "out" / "records.csv").exists()


def test_a_blank_query_of_a_renamed_table_is_no_open_answer(tmp_path, capsys):
    # Its extra column's header names the table's file ("id in zoo.csv"): a
    # resume on a renamed copy read the blank query as one that may hold
    # labels, "round_3.csv is open: pass --rounds >= 3".
    truth = _table_with_own_id(tmp_path / "zoo.csv")
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--ignore-columns", "id", "--rounds", "3")
    _answer(tmp_path, truth)
    with pytest.raises(SystemExit):  # round 2 taught, round 3 asked
        _wait_briefly(tmp_path, "--ignore-columns", "id", "--rounds", "3")
    (tmp_path / "zoo.csv").rename(tmp_path / "zoo_v2.csv")
    _wait_briefly(tmp_path, "--ignore-columns", "id", data="zoo_v2.csv")
    _answer(tmp_path, truth, round_=3)
    assert "round_3.csv is open: pass --rounds >= 3 to teach it" in _refusal(
        tmp_path, capsys, "--ignore-columns", "id", data="zoo_v2.csv"
    )


def test_labels_changed_after_they_were_taught_are_refused(tmp_path, capsys):
    # The rerun read only the open query, so a corrected label in an answered
    # file was ignored without a word: the learner kept the old one.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    ids = _answer(tmp_path, truth)
    _wait_briefly(tmp_path)  # round 2 taught: the campaign is done
    query = tmp_path / "out" / "queries" / "round_2.csv"
    rows = query.read_text().splitlines()
    old = rows[1].split(",")[1]
    rows[1] = f"{ids[0]},{'cat' if old != 'cat' else 'cow'}"
    query.write_text("\n".join(rows) + "\n")
    message = _refusal(tmp_path, capsys)
    assert "round_2.csv was changed after its labels were taught" in message
    assert f"id {ids[0]}: '{old}' -> " in message
    query.write_text("\n".join([rows[0], f"{ids[0]},{old}", *rows[2:]]) + "\n")
    _wait_briefly(tmp_path)  # put back: resumes


def test_an_interrupted_query_leaves_no_file_the_state_does_not_know(
    tmp_path, monkeypatch
):
    # The query file was written before the state that knows it: stopped in
    # between, the person labelled a file every rerun then refused.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    save = _campaign.save_object
    calls = []

    def interrupted_second_save(obj, path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return save(obj, path)

    monkeypatch.setattr(_campaign, "save_object", interrupted_second_save)
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        _wait_briefly(tmp_path)
    assert exit_.value.code == 130  # stopped by Ctrl-C
    monkeypatch.setattr(_campaign, "save_object", save)
    assert not (tmp_path / "out" / "queries" / "round_2.csv").exists()
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)  # asks again
    _answer(tmp_path, truth)
    _wait_briefly(tmp_path)


def test_an_output_folder_that_cannot_be_written_exits_2_before_training(
    tmp_path, capsys
):
    # A read-only --output failed with a traceback after the work: the demo's
    # whole run, or run's first round.
    _table(tmp_path / "zoo.csv")
    blocked = tmp_path / "blocked"
    blocked.write_text("")  # a file where a parent folder should be
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--output", str(blocked / "out")])
    assert exit_.value.code == 2
    assert "cannot write to --output" in capsys.readouterr().err


def test_a_taught_label_changed_while_the_run_waits_is_refused(
    tmp_path, capsys, monkeypatch
):
    # The run polled only the open query: a correction made meanwhile was
    # ignored until the end, and the campaign finished on the old label.
    monkeypatch.setattr(_campaign, "_SETTLE_SECONDS", 0.1)  # judged at once
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--rounds", "3")
    ids = _answer(tmp_path, truth)
    queries = tmp_path / "out" / "queries"

    def correct_round_2_once_round_3_is_asked():
        while not (queries / "round_3.csv").exists():
            time.sleep(0.01)
        rows = (queries / "round_2.csv").read_text().splitlines()
        old = rows[1].split(",")[1]
        rows[1] = f"{ids[0]},{'cat' if old != 'cat' else 'cow'}"
        (queries / "round_2.csv").write_text("\n".join(rows) + "\n")

    editor = threading.Thread(target=correct_round_2_once_round_3_is_asked)
    editor.start()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path, "--rounds", "3", "--timeout", "10")
    editor.join()
    assert exit_.value.code == 2
    assert "round_2.csv was changed after its labels were taught" in (
        capsys.readouterr().err
    )


def test_a_taught_label_changed_as_the_last_round_is_answered_is_refused(
    tmp_path, capsys, monkeypatch
):
    # Changed less than 10 s before the last answers came, it was not judged
    # while the run waited: the campaign must not end on the old label.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--rounds", "3")
    ids = _answer(tmp_path, truth)
    _polls(monkeypatch, [])
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path, "--rounds", "3", "--timeout", "3")
    round_2 = tmp_path / "out" / "queries" / "round_2.csv"
    rows = round_2.read_text().splitlines()
    rows[1] = f"{ids[0]},{'cat' if rows[1].split(',')[1] != 'cat' else 'cow'}"

    def change_round_2_and_answer_round_3():
        round_2.write_text("\n".join(rows) + "\n")
        _answer(tmp_path, truth, round_=3)

    _polls(monkeypatch, [change_round_2_and_answer_round_3])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        _wait_briefly(tmp_path, "--rounds", "3", "--timeout", "60")
    assert exit_.value.code == 2
    assert "round_2.csv was changed after its labels were taught" in (
        capsys.readouterr().err
    )


def test_a_taught_query_file_is_read_again_only_once_it_changes(tmp_path, monkeypatch):
    # Every poll read every taught file again: waiting in round r took a
    # share of a core that grew with r (78 ms a poll after 300 rounds).
    monkeypatch.setattr(_campaign, "_SETTLE_SECONDS", 0.0)  # judged at once
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    _answer(tmp_path, truth)
    _wait_briefly(tmp_path)  # round 2 taught
    read, polls = [], []
    read_answers, settled = _campaign._read_answers, _campaign._settled
    monkeypatch.setattr(
        _campaign,
        "_read_answers",
        lambda path, *args, **kwargs: (
            read.append(path.name) or read_answers(path, *args, **kwargs)
        ),
    )
    monkeypatch.setattr(
        _campaign,
        "_settled",
        lambda path, *args, **kwargs: (
            polls.append(path.name) or settled(path, *args, **kwargs)
        ),
    )
    with pytest.raises(SystemExit):  # nobody answers round 3
        _wait_briefly(tmp_path, "--rounds", "3", "--timeout", "0.5")
    assert polls.count("round_2.csv") > 3  # looked at, at every poll
    # Once as the run resumes, and once when it first held still.
    assert read.count("round_2.csv") == 2


def _answered_round_2(tmp_path):
    """Round 2 asked and answered, not yet taught: its query file and ids."""
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    return tmp_path / "out" / "queries" / "round_2.csv", _answer(tmp_path, truth)


def _taught_round_2(tmp_path):
    """Round 2 asked, answered and taught: its ids, query file and lines."""
    query, ids = _answered_round_2(tmp_path)
    _wait_briefly(tmp_path)
    return ids, query, query.read_text().splitlines()


def test_a_taught_label_cleared_is_refused(tmp_path, capsys):
    ids, query, rows = _taught_round_2(tmp_path)
    rows[1] = f"{ids[0]},"
    query.write_text("\n".join(rows) + "\n")
    assert "has labels cleared after they were taught" in _refusal(tmp_path, capsys)


def test_a_taught_row_deleted_is_named_with_its_label(tmp_path, capsys):
    # "Put them back to resume" named neither the row nor its label, and the
    # nested message read "column.);".
    ids, query, rows = _taught_round_2(tmp_path)
    query.write_text("\n".join([rows[0], *rows[2:]]) + "\n")
    label = rows[1].split(",")[1]
    message = _refusal(tmp_path, capsys)
    assert f"missing: {ids[0]} (taught '{label}')); change only" in message
    assert "column); the learner" in message and "remove the whole file" in message
    query.unlink()  # as the message says, accepted
    _wait_briefly(tmp_path)


def _taught_12_now(tmp_path, monkeypatch, label):
    """Round 2's file, id 9 taught as "12" and now labelled `label`, the
    labels taught, and the clock the campaign reads (set its item 0)."""
    queries = tmp_path / "queries"
    queries.mkdir()
    path = queries / "round_2.csv"
    path.write_text(f"id,label\n9,{label}\n")
    clock = [0.0]
    monkeypatch.setattr("skal_openset._campaign.time.monotonic", lambda: clock[0])
    return path, {2: (np.array([9]), np.array(["12"]))}, clock


def test_a_taught_file_is_judged_while_waiting_only_once_it_holds_still(
    tmp_path, monkeypatch
):
    # A taught "12" half rewritten reads "1", a valid label: judged at once,
    # the run stopped the person mid-save (which may pause a while).
    _, taught, clock = _taught_12_now(tmp_path, monkeypatch, "1")
    seen = {}
    for clock[0] in (0.0, 9.0):
        _campaign._check_taught_labels(taught, tmp_path, {"1", "12"}, seen=seen)
    clock[0] = 10.0
    with pytest.raises(ValueError, match=r"id 9: '12' -> '1'"):
        _campaign._check_taught_labels(taught, tmp_path, {"1", "12"}, seen=seen)


def test_a_taught_file_judged_unchanged_is_read_again_only_once_it_changes(
    tmp_path, monkeypatch
):
    # Each poll parsed every taught file again, a share of a core that grew
    # with a long campaign's rounds; one skipped for good once judged would
    # let a later edit of its labels pass.
    path, taught, clock = _taught_12_now(tmp_path, monkeypatch, "12")
    seen, judged = {}, {}
    parsed = []
    read_answers = _campaign._read_answers
    monkeypatch.setattr(
        _campaign,
        "_read_answers",
        lambda *args, **kwargs: parsed.append(1) or read_answers(*args, **kwargs),
    )

    def poll(at):
        clock[0] = at
        _campaign._check_taught_labels(
            taught, tmp_path, {"1", "12"}, seen=seen, judged=judged
        )

    for at in (0.0, 10.0, 20.0, 30.0):
        poll(at)
    assert len(parsed) == 1
    path.write_text("id,label\n9,1\n")
    poll(40.0)
    with pytest.raises(ValueError, match=r"id 9: '12' -> '1'"):
        poll(50.0)


def test_labels_keep_the_string_width_campaigns_were_fingerprinted_with(tmp_path):
    # Labels became exactly as wide as the longest one (<U3 here) when they
    # were normalised, not as wide as the CSV table's widest cell (<U9), as
    # before: the hash of the array changed with its dtype, so every
    # campaign started earlier was refused on resume as other data.
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n1.25,3,cat\n-2.5,40000.125,dog\n0.5,1,\n")
    X, labels = _campaign.load_table(path, in_classes=["cat"], ood_label="unknown")
    assert labels.dtype == np.dtype("<U9") and labels.tolist() == ["cat", "dog", ""]
    # an ignored column's value counts: it made the table's array as wide
    path.write_text("note,a,label\nlong note,1.25,cat\nok,-2.5,dog\n")
    _, labels, ignored = _campaign.load_table(
        path, ignore_columns=["note"], in_classes=["cat"], return_ignored=True
    )
    assert labels.dtype == np.dtype("<U9") and labels.tolist() == ["cat", "dog"]
    assert ignored["note"].tolist() == ["long note", "ok"]


def test_npz_labels_keep_their_arrays_width_or_widen_to_their_composed_form(tmp_path):
    # A .npz's labels were hashed as wide as their array, as a CSV's as its
    # widest cell: <U21 for the ids.astype(str) load_table advises.
    labels = np.where([True, False, True], np.array([3, 0, 12]).astype(str), "")
    np.savez(tmp_path / "t.npz", X=np.ones((3, 2)), label=labels)
    _, loaded = _campaign.load_table(tmp_path / "t.npz")
    assert loaded.dtype == np.dtype("<U21") and loaded.tolist() == ["3", "", "12"]
    # NFC writes DEVANAGARI QA as two characters: an array as wide as the
    # file's kept the first alone, another class.
    np.savez(tmp_path / "t.npz", X=np.ones((2, 2)), label=np.array(["\u0958", "b"]))
    _, loaded = _campaign.load_table(tmp_path / "t.npz")
    assert loaded.tolist() == ["\u0915\u093c", "b"]


def test_a_state_of_the_first_code_matches_with_its_in_classes_in_either_order(
    tmp_path,
):
    # The first states hashed the labels as wide as the table's widest cell
    # and the IN classes in the order given: both at once are matched too.
    from skal_openset._hashing import Fingerprint

    path = tmp_path / "t.csv"
    path.write_text("a,label\n1.25,cow\n40000.125,cat\n0.5,\n")
    X, labels = _campaign.load_table(path, in_classes=["cow", "cat"])
    assert labels.dtype == np.dtype("<U9")  # not <U3: first code hashed them so
    given, options = ["cow", "cat"], ["cat", "cow"]
    saved = Fingerprint([X, labels, given, "CONF"]).saved
    fingerprint = _campaign.table_fingerprint(X, labels, options, "CONF")
    assert not fingerprint.matches(saved)
    earlier = _campaign.table_fingerprint(
        X, labels, options, "CONF", earlier=[[given, "CONF"]]
    )
    assert earlier.matches(saved)


def test_csv_tables_keep_the_fingerprint_campaigns_were_started_with(tmp_path):
    # Campaigns' states hold this hash (table_fingerprint of the features
    # and labels that load_table gave at a433f5b6, whose X was in Fortran
    # layout). joblib.hash includes the strides, so a C-layout X made every
    # campaign started before refused on resume as other data.
    path = tmp_path / "t.csv"
    path.write_text(
        "note,a,b,label\nlong note,1.25,3,cat\nok,-2.5,40000.125,dog\nx,0.5,1,\n"
    )
    X, labels = _campaign.load_table(
        path, ignore_columns=["note"], in_classes=["cat"], ood_label="unknown"
    )
    fingerprint = _campaign.table_fingerprint(X, labels, 5, "CONF")
    assert fingerprint.matches("cc76a603d2d95175b8520a0b50b2cb39")


def test_a_csv_table_read_in_blocks_keeps_the_fingerprint_of_one_read_whole(
    tmp_path,
):
    # The hash that load_table's table had when it was read whole (at
    # 237bfc1f), of two blocks now: X's layout, and the labels' width, which
    # the widest cell (a note in the second block) tells, are as they were.
    path = tmp_path / "t.csv"
    rows = [
        f"{'a note that is the widest cell' if i == 2300 else 'ok'},"
        f"{i * 37 % 1000 / 8},{i * 11 % 97 - 48.5},{('cat', 'dog', '')[i % 3]}"
        for i in range(2500)
    ]
    path.write_text("note,a,b,label\n" + "\n".join(rows) + "\n")
    X, labels = _campaign.load_table(
        path, ignore_columns=["note"], in_classes=["cat"], ood_label="unknown"
    )
    fingerprint = _campaign.table_fingerprint(X, labels, 5, "CONF")
    assert fingerprint.matches("345137c3723749abbfd24f72a53b49ff")


def test_an_earlier_width_narrower_than_the_labels_matches_no_changed_table():
    # Cast to a width below their own, lengthened labels were cut back to
    # what a state of earlier code hashed, and the changed table resumed.
    X = np.zeros((4, 1))
    before = np.array(["a", "b", "", "zzzzzz"], dtype="<U6")
    saved = joblib.hash([X, before, 5])
    after = np.array(["a", "b", "", "zzzzzzz"])
    assert not _campaign.table_fingerprint(X, after, 5).matches(saved, [6])
    assert _campaign.table_fingerprint(X, before, 5).matches(saved, [6])


def _resaved(path, padded):
    """Save the table at `path` again with the same values, its features
    written with trailing zeros (``1.500000``) if `padded`, else without."""
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(
            [rows[0]]
            + [
                [f"{float(v):.6f}" if padded else f"{float(v):g}" for v in row[:-1]]
                + row[-1:]
                for row in rows[1:]
            ]
        )


def test_a_campaign_resumes_on_its_table_saved_again_with_the_same_values(
    tmp_path, capsys
):
    # The labels were hashed as wide as the table's widest cell, feature or
    # ignored text included: a spreadsheet's re-save writing 16.0 as 16 made
    # the campaign "of other data" for good.
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    for padded in (True, False):
        _resaved(tmp_path / "zoo.csv", padded)
        assert "No complete labels in" in _refusal(tmp_path, capsys)  # waited
    _answer(tmp_path, truth)
    _wait_briefly(tmp_path)
    assert load_object(tmp_path / "out" / "state.joblib")["records"][-1]["round"] == 2


def _as_written_before(state_path, table):
    """Make the campaign's state at `state_path` one that earlier code wrote
    for the `table`, which hashed the labels as wide as load_table gives
    them (the table's widest cell)."""
    state = load_object(state_path)
    X, labels = load_table(table, "species", in_classes=["cat", "cow"])
    legacy = [X, labels, *state["options"].values()]
    state["fingerprint"] = skal_openset._hashing.Fingerprint(legacy).saved
    state["table"] = joblib.hash([X, labels])
    save_object(state, state_path)


@pytest.mark.parametrize("padded", [True, False])
def test_a_campaign_of_earlier_code_resumes_on_its_table_saved_again(
    tmp_path, capsys, padded
):
    # Wider then narrower (the learner's labels tell the width), and
    # narrower then wider than the OOD label (a width among a few).
    truth = _table(tmp_path / "zoo.csv", blank_from=20)
    _resaved(tmp_path / "zoo.csv", padded)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    state_path = tmp_path / "out" / "state.joblib"
    _as_written_before(state_path, tmp_path / "zoo.csv")
    _resaved(tmp_path / "zoo.csv", not padded)
    # another option only is named as changed, not the table
    message = _refusal(tmp_path, capsys, "--budget", "6")
    assert "--budget was 5, now 6. Rerun" in message
    assert "features or labels changed" not in message
    assert "No complete labels in" in _refusal(tmp_path, capsys)  # waited
    _answer(tmp_path, truth)
    _wait_briefly(tmp_path)
    state = load_object(state_path)
    assert state["records"][-1]["round"] == 2
    # saved by value since
    X, labels = load_table(tmp_path / "zoo.csv", "species", in_classes=["cat"])
    assert (
        state["fingerprint"]
        == _campaign.table_fingerprint(X, labels, *state["options"].values()).saved
    )


def test_a_campaign_on_a_changed_table_is_refused_saying_how_to_keep_labels(
    tmp_path, capsys
):
    # The refusal said only to start a new campaign elsewhere, without the
    # labels given so far.
    _table(tmp_path / "zoo.csv", blank_from=20)
    with pytest.raises(SystemExit):
        _wait_briefly(tmp_path)
    _table(tmp_path / "zoo.csv", blank_from=20, seed=1)
    message = _refusal(tmp_path, capsys)
    assert "the table's features or labels changed" in message
    assert "To keep the labels given, copy those in" in message


def test_a_simulated_run_counts_the_unlabelled_row_of_an_npz_as_it_is(tmp_path, capsys):
    # A .npz's row was "counted from 0, header and blank lines left out", as if
    # the file had those; a CSV's is counted without them.
    rng = np.random.default_rng(0)
    labels = np.where(np.arange(40) == 7, np.nan, np.arange(40) % 3)
    np.savez(tmp_path / "pool.npz", X=rng.normal(size=(40, 3)), label=labels)
    options = ["--in-classes", "0,1", "--output", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(tmp_path / "pool.npz"), *options])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert (
        "Data row 7 (counted from 0; in a CSV file, with the header and blank "
        "lines left out) has no label: a simulated run needs every label" in err
    )


@pytest.mark.parametrize(
    "data, shown",
    [
        (b"id,label\n1,a\n2,b\n\x1b[31mRED,a\n", "not asked for: '\\x1b[31mRED'"),
        (b"id,label\n1,a\n2,b\n1\x07,a\n1\x07,b\n", "row id '1\\x07' is there twice"),
        (b"id,label\n1,a\n2,b\n\x1b[2J\n", "ids '\\x1b[2J' have fewer cells"),
        (b"id,label\n1,a\n2,b\n\x1b[2J,a,b\n", "ids '\\x1b[2J' have more cells"),
        (b"id,label\n1,a\n2,b\n\x1bX,cow\n", "id '\\x1bX' 'cow'"),
    ],
    ids=["unasked", "twice", "cut", "extra", "unknown-label"],
)
def test_a_query_files_ids_that_do_not_print_are_shown_escaped(data, shown):
    # An id typed as "\x1b[31mRED" coloured the terminal red from the error on.
    with pytest.raises(ValueError) as info:
        _answers(data)
    assert shown in str(info.value)
    assert "\x1b" not in str(info.value) and "\x07" not in str(info.value)


def test_the_labels_of_a_file_to_pick_from_are_counted_past_20():
    # They were cut to the first 20 without a word of how many there are.
    labels = np.array([f"class_{i:03d}" for i in range(30)])
    with pytest.raises(
        ValueError,
        match=r"file's labels \['class_000', .*, 'class_019', \.\.\.\] "
        r"\(30 labels\)\.",
    ):
        check_in_classes(["class_000"], labels, "unknown")


def test_in_classes_a_file_lacks_are_shown_first_and_counted(capsys):
    # Each message listed every such class: 300 of them made one of 4 KB.
    in_classes = [f"class_{i:03d}" for i in range(300)]
    labels = np.array(["class_000", "class_001", ""])
    shown = r"\['class_002', .*, 'class_021', \.\.\.\] \(298 classes\)"
    check_in_classes(in_classes, labels, "unknown", interactive=True)
    assert re.match(f"No row is labelled {shown} yet:", capsys.readouterr().out)
    with pytest.raises(ValueError, match=f"--in-classes names {shown}, which"):
        check_in_classes(in_classes, labels, "unknown")
    with pytest.raises(ValueError, match=r"IN class \[.*\] \(300 classes\) yet"):
        check_in_classes(in_classes, np.array(["cat", ""]), "unknown", interactive=True)
    with pytest.raises(ValueError, match=r"also one of --in-classes \[.*\] \(300 cl"):
        check_in_classes(in_classes, labels, "class_005", interactive=True)
