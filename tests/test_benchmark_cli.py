"""The benchmark scripts' command lines: --results-dir, and bad arguments as one
line of usage error before anything runs."""

import argparse
import ast
import contextlib
import copy
import importlib
import json
import os
import re
import runpy
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
import types
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import pairwise_distances_argmin

import bench_cli_start
import bench_image_cache
import bench_memory
import bench_neighbours
import bench_scale
import bench_selector
import bench_selector_device
import bench_slow_warnings
import bench_training
import cifar
import cifar_report
import demo_setting
import gpu_cifar
import openset_benchmark as bench
import openset_claims
import preset_reproduction as pr
import report
from _cells import write_cell
from _ctrl_c import escaped_ctrl_c_fails
from _held_up import DROPS_HELD_UP, FILL_STDOUT, stopped_held_up
from skal_openset import CIFAR10_CLASSES, _signals
from test_benchmark_cells import content
from test_datasets import _write_image_zip
from test_preset_reproduction import _committed, _rows

BENCHMARKS = Path(cifar.__file__).parent


def _main(monkeypatch, module, *argv):
    """`module`'s command line, as the script's."""
    monkeypatch.setattr(sys, "argv", [f"{module.__name__}.py", *argv])
    module.main()


def _fake_bench_selector(monkeypatch):
    """Small data sets, no timings and the authors' network untrained."""
    selection_set = bench_selector.self_validation_set
    official = bench_selector.fit_official_schedule
    monkeypatch.setattr(
        bench_selector,
        "self_validation_set",
        lambda n, rng: selection_set(min(n, 100), rng),
    )
    monkeypatch.setattr(
        bench_selector,
        "fit_official_schedule",
        lambda Z, y, seed, epochs=100: official(Z, y, seed, epochs=0),
    )
    # each timed call runs once, untimed
    monkeypatch.setattr(bench_selector, "median_seconds", lambda fn, r: (1, fn()))
    return ["--seeds", "1"]


def _fake_demo_setting(monkeypatch):
    """One setting shows the dilemma; no learner is trained."""

    def rows(records):
        noise, budget = records
        dilemma = (noise, budget) == (0.4, 20)
        return [
            dict(strategy="CONF", in_share_mean=0.3, auc_mean=0.5),
            dict(strategy="P+I", in_share_mean=0.97, auc_mean=0.8 if dilemma else 0.5),
        ]

    monkeypatch.setattr(
        demo_setting,
        "demo_records",
        lambda seeds, rounds, budget, noise: (noise, budget),
    )
    monkeypatch.setattr(demo_setting, "summarize_final_round", rows)
    return []


def _fake_preset_reproduction(monkeypatch):
    """The summary of rows already run; nothing read from git, nothing run."""
    monkeypatch.setattr(pr, "_committed_accuracy", _committed)
    monkeypatch.setattr(pr, "table_cell_lines", lambda old, committed: [])
    monkeypatch.setattr(pr, "run", None)  # a run that started: a bug
    return ["--summary-only"]


def _fake_bench_scale(monkeypatch):
    """Each query measured at once, in this process."""
    measured = dict.fromkeys(
        ("seconds", "cpu_seconds", "peak_mb", "query_mb", "pool_mb"), 1.0
    )
    monkeypatch.setattr(bench_scale, "run_child", lambda *args: measured)
    return ["--rows", "5000", "--repeats", "1", "--strategies", "RANDOM"]


def _fake_bench_slow_warnings(monkeypatch):
    """Each call measured at once, in this process."""
    measured = dict(seconds=1.0, cpu_seconds=1.0, load=1.0, warned=True)
    monkeypatch.setattr(bench_slow_warnings, "run_child", lambda *args: measured)
    return ["--repeats", "1", "--calls", "mahalanobis_purity"]


def _fake_bench_image_cache(monkeypatch):
    """The default zip a file that exists, never read: each load measured at
    once, in this process, and a cache path given is written."""
    measured = dict(seconds=1.0, cpu_seconds=1.0, load=1.0, images=1)

    def loaded(zip_path, cache_path):
        if cache_path:
            Path(cache_path).touch()
        return {**measured, "from_cache": False}

    script = Path(bench_image_cache.__file__)
    monkeypatch.setattr(bench_image_cache, "DEFAULT_DATA", script.parent)
    monkeypatch.setattr(bench_image_cache, "ZIP_NAME", script.name)
    monkeypatch.setattr(bench_image_cache, "run_child", loaded)
    return ["--repeats", "1"]


def _fake_bench_memory(monkeypatch):
    """Each call measured at once, in this process."""
    monkeypatch.setattr(
        bench_memory, "run_child", lambda *args: {"seconds": 1.0, "mb": 1.0}
    )
    return ["--repeats", "1"]


def _fake_bench_neighbours(monkeypatch):
    """Tiny sets, each search in this process; faiss or not, the package's."""
    monkeypatch.setattr(bench_neighbours, "run_child", bench_neighbours.timed)
    return ["--pool-rows", "300", "--labelled-rows", "20", "--repeats", "1"] + [
        "--backends",
        "current",
    ]


def _fake_bench_cli_start(monkeypatch):
    """Python's own start alone, once."""
    monkeypatch.setattr(bench_cli_start, "CASES", bench_cli_start.CASES[:1])
    return ["--repeats", "1"]


def _fake_bench_training(monkeypatch):
    """One tiny net."""
    monkeypatch.setattr(bench_training, "CASES", (("tiny", 12, 16, 3, 1),))
    return ["--repeats", "1"]


# Each script, its stand-ins for the work, and the files it writes.
SCRIPTS = {
    "bench_selector": (
        bench_selector,
        _fake_bench_selector,
        ["selector.json", "selector.md"],
    ),
    "demo_setting": (demo_setting, _fake_demo_setting, ["demo/setting.md"]),
    "preset_reproduction": (
        pr,
        _fake_preset_reproduction,
        ["preset_reproduction.md"],
    ),
    "bench_scale": (bench_scale, _fake_bench_scale, ["scale.json", "scale.md"]),
    "bench_slow_warnings": (
        bench_slow_warnings,
        _fake_bench_slow_warnings,
        ["slow_warnings.json", "slow_warnings.md"],
    ),
    "bench_image_cache": (
        bench_image_cache,
        _fake_bench_image_cache,
        ["image_cache.json", "image_cache.md"],
    ),
    "bench_memory": (
        bench_memory,
        _fake_bench_memory,
        ["memory.json", "memory.md"],
    ),
    "bench_cli_start": (
        bench_cli_start,
        _fake_bench_cli_start,
        ["cli_start.json", "cli_start.md"],
    ),
    "bench_training": (
        bench_training,
        _fake_bench_training,
        ["training.json", "training.md"],
    ),
    "bench_neighbours": (
        bench_neighbours,
        _fake_bench_neighbours,
        ["neighbours.json", "neighbours_table.md"],
    ),
}


def _written(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("given", [True, False], ids=["results-dir", "default"])
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_results_dir_takes_the_outputs_and_the_default_is_the_committed_folder(
    tmp_path, monkeypatch, capsys, name, given
):
    module, fake, outputs = SCRIPTS[name]
    committed, trial = tmp_path / "committed", tmp_path / "trial"
    monkeypatch.setattr(module, "RESULTS", committed)
    folder = trial if given else committed
    if module is pr:  # the rows it summarises, from an earlier run
        rows = _rows(lambda column, trial: 80.0)
        folder.mkdir()
        (folder / pr.ROWS).write_text("".join(json.dumps(r) + "\n" for r in rows))
        outputs = sorted([*outputs, pr.ROWS])
    argv = fake(monkeypatch) + (["--results-dir", str(trial)] if given else [])
    _main(monkeypatch, module, *argv)
    assert _written(folder) == outputs
    assert not (committed if given else trial).exists()


@pytest.mark.parametrize(
    "name",
    [
        "bench_selector",
        "bench_scale",
        "bench_slow_warnings",
        "bench_image_cache",
        "bench_memory",
        "bench_cli_start",
        "bench_training",
        "bench_neighbours",
    ],
)
def test_a_failed_write_keeps_the_earlier_json_and_table_together(
    tmp_path, monkeypatch, name
):
    # The JSON and its table were written one after the other: a failure at
    # the table (a full disk) left the new JSON beside the earlier table.
    module, fake, outputs = SCRIPTS[name]
    for output in outputs:
        (tmp_path / output).write_text(f"earlier {output}")
    replace = os.replace

    def full_at_the_table(src, dst):
        if str(dst).endswith(".md"):
            raise OSError(28, "No space left on device")
        replace(src, dst)

    argv = fake(monkeypatch) + ["--results-dir", str(tmp_path)]
    monkeypatch.setattr(os, "replace", full_at_the_table)
    with pytest.raises(OSError, match="No space left on device"):
        _main(monkeypatch, module, *argv)
    monkeypatch.setattr(os, "replace", replace)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        output: f"earlier {output}" for output in outputs
    }


def test_the_logged_command_reruns_into_the_same_folders(
    tmp_path, tiny_data_dir, monkeypatch
):
    # Copied from the run log (and the report's "How these were produced"),
    # it wrote into the committed results and read the default data.
    argv = ["--results-dir", str(tmp_path), "run", "tabular", "--quick"]
    argv += ["--strategies", "RANDOM", "--data-dir", str(tiny_data_dir)]
    _main(monkeypatch, bench, *argv)
    log = tmp_path / "cells" / "tabular-quick" / "_runs.jsonl"
    assert json.loads(log.read_text().splitlines()[-1])["command"] == (
        f"python benchmarks/openset_benchmark.py --results-dir {tmp_path} run "
        f"tabular --quick --data-dir {tiny_data_dir} --strategies 'RANDOM' "
        "--n-jobs 2"  # the default
    )


def test_bench_cli_start_gives_its_seconds_to_hundredths(tmp_path, monkeypatch, capsys):
    # Python starts in a few hundredths of a second: to tenths, as the other
    # scripts give theirs, its baseline read 0.0 or 0.1. The load stays tenths.
    argv = _fake_bench_cli_start(monkeypatch) + ["--results-dir", str(tmp_path)]
    _main(monkeypatch, bench_cli_start, *argv)
    progress = capsys.readouterr().out.splitlines()[0]
    row = (tmp_path / "cli_start.md").read_text().splitlines()[-1]
    s, load = r"\d+\.\d\d", r"\d+\.\d-\d+\.\d"
    assert re.fullmatch(
        rf"python -c pass: {s} s \({s}-{s}; {s} s CPU\), load {load}", progress
    ), progress
    assert re.fullmatch(
        rf"\| `python -c pass` \| {s} \| {s}-{s} \| {s} \| {load} \|", row
    ), row


def test_bench_cli_start_runs_its_cases_in_this_python_on_this_checkout(
    tmp_path, monkeypatch, capfd
):
    # Another python, or a skal_openset found elsewhere on the path (an
    # installed one, a PYTHONPATH of the user's), would be timed in its place;
    # and a case's output, --help's text, would be mixed into the progress.
    decoy = tmp_path / "elsewhere" / "skal_openset"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("")
    monkeypatch.setenv("PYTHONPATH", str(decoy.parent))
    monkeypatch.chdir(tmp_path)  # python -c imports from its folder first
    code = (
        "import sys\n"
        "import skal_openset\n"
        "print('--help text')\n"
        f"sys.exit(sys.executable != {sys.executable!r} or "
        f"not skal_openset.__file__.startswith({str(bench_cli_start.ROOT)!r}))"
    )
    bench_cli_start.timed_case(["-c", code])
    assert capfd.readouterr().out == ""


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_bench_cli_start_gives_each_runs_own_cpu_seconds_user_and_system():
    # The child's CPU time, both user and system: the timing process waits
    # on it with none of its own, and the children before it are not counted.
    # The child spends at least 0.2 s of each, so either alone falls short.
    busy = (
        "import os, time\n"
        "zero = os.open('/dev/zero', os.O_RDONLY)\n"
        "deadline = time.monotonic() + 60\n"  # a failure, not a hang
        "while os.times().user < 0.2 and time.monotonic() < deadline:\n"
        "    pass\n"
        "while os.times().system < 0.2 and time.monotonic() < deadline:\n"
        "    os.read(zero, 1 << 20)\n"  # the kernel's time: system
    )
    busy_run = bench_cli_start.timed_case(["-c", busy])
    idle_run = bench_cli_start.timed_case(["-c", "pass"])
    assert busy_run["cpu_seconds"] > 0.38
    # Not the sum, which would exceed the busy run's. Two busy runs 0.2 s
    # apart failed on a loaded machine (0.69 s after 0.49 s): the kernel
    # samples the user/system split, so a busy child's total varies.
    assert idle_run["cpu_seconds"] < busy_run["cpu_seconds"]


def test_bench_cli_start_alternates_its_cases_and_says_how_it_ran(
    tmp_path, monkeypatch, capsys
):
    # Each case runs the command it names; the cases alternate within each
    # of the 7 repeats its docstring and table name, so that a change in the
    # load falls on all of them; the table, printed too, names its command,
    # commit and machine.
    import _common

    assert [shlex.split(case)[1:] for case, _ in bench_cli_start.CASES] == [
        arguments for _, arguments in bench_cli_start.CASES
    ]
    ran = []

    def timed_case(arguments):
        ran.append(arguments)
        return {"seconds": 1.0, "cpu_seconds": 0.5, "load": 0.25}

    monkeypatch.setattr(bench_cli_start, "timed_case", timed_case)
    _main(monkeypatch, bench_cli_start, "--results-dir", str(tmp_path))
    cases = [arguments for _, arguments in bench_cli_start.CASES]
    assert ran == cases * 7
    result = json.loads((tmp_path / "cli_start.json").read_text())
    assert [row["runs"] for row in result["results"]] == [7] * len(cases)
    table = (tmp_path / "cli_start.md").read_text()
    assert capsys.readouterr().out.endswith(table)
    heading = table.splitlines()[2]
    assert heading.startswith(
        "`python benchmarks/bench_cli_start.py --repeats 7` at commit "
        f"{result['commit']}; machine: {result['machine']}."
    )
    assert heading.endswith(_common.timed_runs_legend())


def test_bench_scale_output_may_name_a_folder(tmp_path, monkeypatch):
    # The timings ran, then writing sub/scale.json failed.
    argv = _fake_bench_scale(monkeypatch) + ["--output", "sub/scale"]
    _main(monkeypatch, bench_scale, *argv, "--results-dir", str(tmp_path))
    assert _written(tmp_path) == ["sub/scale.json", "sub/scale.md"]


def test_a_ctrl_c_mid_sweep_of_demo_setting_says_how_many_settings_are_done(
    tmp_path, monkeypatch, capsys
):
    # Its line said "its file is written whole or not at all" of a file that
    # is written once every setting is done, not which, nor what was done.
    import _common

    _fake_demo_setting(monkeypatch)
    fake = demo_setting.demo_records

    def stopped_at_the_third(seeds, rounds, budget, noise):
        if (noise, budget) == (0.1, 30):
            raise KeyboardInterrupt
        return fake(seeds, rounds, budget, noise)

    monkeypatch.setattr(demo_setting, "demo_records", stopped_at_the_third)
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        with _common.stopped_by_signals("nothing written"):
            _main(monkeypatch, demo_setting, "--results-dir", str(tmp_path))
    out, err = capsys.readouterr()
    assert (exit_.value.code, len(out.splitlines()), err) == (
        130,
        2,
        f"Interrupted (Ctrl-C): 2 of 12 settings done, their rows printed; "
        f"{tmp_path / 'demo' / 'setting.md'} not written.\n",
    )
    assert not (tmp_path / "demo").exists()


def test_a_ctrl_c_once_demo_setting_has_written_its_file_says_it_is_written(
    tmp_path, monkeypatch, capsys
):
    # Not that it "is written whole or not at all", as it was being written.
    import _common

    _fake_demo_setting(monkeypatch)
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        with _common.stopped_by_signals("nothing written"):
            _main(monkeypatch, demo_setting, "--results-dir", str(tmp_path))
            signal.raise_signal(signal.SIGINT)
    assert (exit_.value.code, capsys.readouterr().err) == (
        130,
        f"Interrupted (Ctrl-C): {tmp_path / 'demo' / 'setting.md'} written.\n",
    )


def test_demo_setting_writes_its_table_where_no_setting_is_chosen(
    tmp_path, monkeypatch
):
    _fake_demo_setting(monkeypatch)
    _main(monkeypatch, demo_setting, "--results-dir", str(tmp_path))
    assert (tmp_path / "demo" / "setting.md").read_text().splitlines()[-1] == (
        "Chosen: noise 40%, budget 20 (lowest CONF IN share where P+I IN share "
        ">= 0.95 and AUC spread >= 0.1)."
    )
    monkeypatch.setattr(
        demo_setting,
        "summarize_final_round",
        lambda records: [
            dict(strategy=s, in_share_mean=0.5, auc_mean=0.5) for s in ("CONF", "P+I")
        ],
    )
    _main(monkeypatch, demo_setting, "--results-dir", str(tmp_path))
    lines = (tmp_path / "demo" / "setting.md").read_text().splitlines()
    assert lines[-1] == (
        "None chosen: no setting has P+I IN share >= 0.95 and AUC spread >= 0.1."
    )
    assert sum(line.startswith("| 40% |") for line in lines) == 3  # its budgets


@pytest.mark.parametrize(
    "name, argv, message",
    [
        (
            "bench_selector",
            ["--repeats", "0"],
            "argument --repeats: must be a positive integer, got 0",
        ),
        (
            "bench_selector",
            ["--seeds", "0"],
            "argument --seeds: must be a positive integer, got 0",
        ),
        (
            "demo_setting",
            ["--seeds", "0"],
            "argument --seeds: must be a positive integer, got 0",
        ),
        (
            "demo_setting",
            ["--rounds", "1"],
            "argument --rounds: must be at least 2 (round 1 fits the initial set",
        ),
        (
            "bench_scale",
            ["--rows", "2000"],
            "argument --rows: must be at least 5000 (the sample of MQ-Net's first",
        ),
        (
            "bench_scale",
            ["--rows", "200", "--strategies", "RANDOM"],
            "argument --rows: must be at least 500 (the rows labelled first), got 200",
        ),
        # The extra values were dropped silently.
        (
            "bench_scale",
            ["--rows", "5000", "--repeats", "2", "1"],
            "argument --repeats: 2 values for 1 --rows entries; give at most one per",
        ),
        (
            "bench_scale",
            ["--strategies", "mqnet"],
            "argument --strategies: invalid choice: 'mqnet'",
        ),
        (
            "bench_slow_warnings",
            ["--repeats", "0"],
            "argument --repeats: must be a positive integer, got 0",
        ),
        (
            "bench_slow_warnings",
            ["--calls", "similar"],
            "argument --calls: invalid choice: 'similar'",
        ),
        (
            "bench_image_cache",
            ["--repeats", "0"],
            "argument --repeats: must be a positive integer, got 0",
        ),
        (
            "bench_image_cache",
            ["--data-dir", "/nonexistent"],
            "is missing; pass --data-dir with its location",
        ),
        (
            "bench_memory",
            ["--pool-rows", "0"],
            "argument --pool-rows: must be a positive integer",
        ),
        (
            "bench_neighbours",
            ["--labelled-rows", "1"],
            "argument --labelled-rows: must be at least 2 (half IN, half OOD), got 1",
        ),
        (
            "bench_neighbours",
            ["--searches", "kmeans"],
            "argument --searches: invalid choice: 'kmeans'",
        ),
        (
            "preset_reproduction",
            ["--summary-only"],
            "preset_reproduction.jsonl to summarise; run without --summary-only",
        ),
        # Ignored silently: the summary is of every run so far.
        (
            "preset_reproduction",
            ["--summary-only", "--datasets", "segment"],
            "--summary-only summarises every finished run and runs none, so "
            "--datasets would not apply",
        ),
        # These reached run(), which made a git worktree first.
        (
            "preset_reproduction",
            ["--noise", "40"],
            "argument --noise: must be in [0, 1) (0.4 for 40%), got 40",
        ),
        (
            "preset_reproduction",
            ["--n-jobs", "0"],
            "argument --n-jobs: 0 jobs run nothing",
        ),
        (
            "preset_reproduction",
            ["--datasets", "nosuch"],
            "argument --datasets: invalid choice: 'nosuch'",
        ),
        (
            "preset_reproduction",
            ["--seeds", "100", "100"],
            "--seeds lists 100 twice; give each value once",
        ),
        # No committed cell to compare with at 30%: the summary failed after
        # every run; a reported trial among --seeds ran twice, or left none.
        (
            "preset_reproduction",
            ["--noise", "0.3"],
            "argument --noise: invalid choice: 0.3",
        ),
        (
            "preset_reproduction",
            ["--seeds", "3", "100"],
            "--seeds 3 is a trial the benchmark reports",
        ),
        (
            "preset_reproduction",
            ["--data-dir", "/nonexistent/data"],
            "the data folder /nonexistent/data is missing; pass --data-dir",
        ),
        # A --data-dir without tabular/ failed at the first run, a traceback.
        (
            "preset_reproduction",
            ["--data-dir", "."],
            "the tabular/ folder tabular is missing; pass --data-dir",
        ),
        (
            "preset_reproduction",
            ["--data-dir", "FOUR", "--old-commit", "0000000"],
            "--old-commit 0000000 is no commit of",
        ),
        # The internal worker was a subcommand: placed after an option it
        # failed with a traceback, and a stray word was an "invalid choice"
        # among ('worker').
        (
            "preset_reproduction",
            ["--summary-only", "worker", "/x", "letter", "0.4", "RANDOM"],
            "unrecognized arguments: worker /x letter",
        ),
        ("preset_reproduction", ["letter"], "unrecognized arguments: letter"),
    ],
)
def test_a_bad_argument_is_one_line_of_error_before_anything_runs(
    tmp_path,
    tiny_data_dir,
    four_tables_data_dir,
    monkeypatch,
    capsys,
    name,
    argv,
    message,
):
    argv = [str(four_tables_data_dir) if a == "FOUR" else a for a in argv]
    module, fake, _ = SCRIPTS[name]
    fake(monkeypatch)
    runs = (
        bench_scale,
        bench_slow_warnings,
        bench_image_cache,
        bench_memory,
        bench_neighbours,
    )
    if module in runs:  # a run: a bug
        monkeypatch.setattr(module, "run_child", None)
    committed = tmp_path / "committed"
    monkeypatch.setattr(module, "RESULTS", committed)
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, module, *argv)
    assert info.value.code == 2
    (error,) = [
        line for line in capsys.readouterr().err.splitlines() if "error" in line
    ]
    assert error.startswith(f"{name}.py: error: ")
    assert message in error
    assert not committed.exists()


def test_an_output_that_is_a_folder_or_a_link_to_nothing_is_refused(tmp_path):
    # kernel_paths.py --output naming a folder ran every cell, then failed at
    # its write (IsADirectoryError); a --results-dir that is a link to nothing
    # passed, to fail at its first mkdir (FileExistsError).
    from _common import file_path, folder_path

    (tmp_path / "out").mkdir()
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    refusals = [
        (file_path, tmp_path / "out", "is a folder; give a file name"),
        (folder_path, tmp_path / "gone", "is a link to nothing; give a folder"),
        (folder_path, tmp_path / "gone" / "sub", "is a link to nothing; give a"),
        (file_path, tmp_path / "gone" / "k.md", "is a link to nothing; give a"),
    ]
    for parse, path, message in refusals:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse(str(path))
    assert file_path(str(tmp_path / "out" / "k.md")) == tmp_path / "out" / "k.md"
    assert folder_path(str(tmp_path / "out" / "new")) == tmp_path / "out" / "new"


def test_an_output_inside_a_file_is_refused_before_any_run(
    tmp_path, monkeypatch, capsys
):
    # A --results-dir that is a file ran a cell, then failed at its write with
    # a traceback; kernel_paths' --output under a file, a FileExistsError.
    import kernel_paths

    file = tmp_path / "notes.txt"
    file.write_text("mine")
    runs = []
    monkeypatch.setattr(bench, "run_suite", runs.append)
    inside = [str(file), str(file / "a"), str(file / "a" / "b")]
    for module, argv in (
        (bench, ["--results-dir", inside[0], "run", "tabular", "--quick"]),
        (bench, ["run", "tabular", "--quick", "--results-dir", inside[1]]),
        (cifar, ["--results-dir", inside[2], "report"]),
        (
            kernel_paths,
            ["tabular", "--strategies", "RANDOM", "--output", str(file / "k.md")],
        ),
    ):
        option = next(a for a in argv if a in ("--results-dir", "--output"))
        with pytest.raises(SystemExit) as info:
            if module is kernel_paths:
                kernel_paths.main(argv)
            else:
                _main(monkeypatch, module, *argv)
        assert info.value.code == 2
        error = capsys.readouterr().err
        assert f"error: argument {option}" in error  # cifar's: --results-dir/--results
        assert f": {file} is a file; give a folder" in error
    assert runs == [] and file.read_text() == "mine"


def test_bench_scale_repeats_the_last_repeats_value_for_the_other_rows(
    tmp_path, monkeypatch
):
    _fake_bench_scale(monkeypatch)
    measure = bench_scale.run_child
    runs = []
    monkeypatch.setattr(
        bench_scale, "run_child", lambda *args: runs.append(args[1]) or measure()
    )
    out = ["--strategies", "RANDOM", "--results-dir", str(tmp_path)]
    _main(monkeypatch, bench_scale, "--rows", "5000", "6000", "--repeats", "2", *out)
    assert runs == [5000, 5000, 6000, 6000]
    runs.clear()  # the default 3 1 for a single --rows entry: its 3
    _main(monkeypatch, bench_scale, "--rows", "5000", *out)
    assert runs == [5000, 5000, 5000]


def test_bench_scale_times_the_query_of_a_fitted_mqnet_selector(monkeypatch):
    # Its pool is 60% OOD: with the default rule_weight="auto" the timed query
    # would have ranked by the rule, with no selector fitted.
    from skal_openset import ActiveLearner

    has_selector, query = [], ActiveLearner.query

    def recording_query(self, *args, **kwargs):
        has_selector.append(hasattr(self.query_strategy_, "selector_"))
        return query(self, *args, **kwargs)

    monkeypatch.setattr(ActiveLearner, "query", recording_query)
    bench_scale.measure("MQ-Net", bench_scale.N_MQNET_SAMPLE, 0, 1)
    assert has_selector == [False, True]  # the update's query, the timed one


def test_a_scale_child_times_one_query_of_the_whole_pool(monkeypatch, capsys):
    # The child's command line, as run_child passes it, in this process.
    from skal_openset import ActiveLearner

    queried, query = [], ActiveLearner.query

    def recording_query(self, X, **kwargs):
        queried.append((len(X), kwargs))
        return query(self, X, **kwargs)

    monkeypatch.setattr(ActiveLearner, "query", recording_query)
    n_rows = bench_scale.N_LABELLED
    _main(monkeypatch, bench_scale, "--child", "RANDOM", str(n_rows), "0")
    measured = json.loads(capsys.readouterr().out)
    # No query before the timed one, which scores every row of the pool.
    assert queried == [(n_rows, {"n_instances": bench_scale.N_QUERY})]
    assert measured["pool_mb"] == n_rows * bench_scale.N_FEATURES * 4 / 2**20
    assert measured["torch_threads"] == 1  # --threads' default


# Each warned call, the package's threshold of its warning, and a tiny case.
_WARNED = {
    "SIMILAR": ("skal_openset._strategies._similar._SLOW_POOL", 300, 8),
    "mahalanobis_purity": (
        "skal_openset._purity._SLOW_COVARIANCE_FEATURES",
        100,
        30,
    ),
    "EOAL": ("skal_openset._strategies._eoal._SLOW_FEATURES", 100, 30),
}


def test_slow_warnings_table_gives_the_command_that_made_it(tmp_path, monkeypatch):
    # A run of some calls read "bench_slow_warnings.py --repeats 1": that
    # command times every call, not the table's rows.
    argv = _fake_bench_slow_warnings(monkeypatch)  # --calls mahalanobis_purity
    _main(monkeypatch, bench_slow_warnings, *argv, "--results-dir", str(tmp_path))
    _main(
        monkeypatch,
        bench_slow_warnings,
        *argv[:2],
        "--results-dir",
        str(tmp_path / "all"),
    )
    table = (tmp_path / "slow_warnings.md").read_text()
    whole = (tmp_path / "all" / "slow_warnings.md").read_text()
    assert "`python benchmarks/bench_slow_warnings.py --repeats 1 --calls " in table
    assert "--calls mahalanobis_purity` at commit" in table
    assert "`python benchmarks/bench_slow_warnings.py --repeats 1` at commit" in whole


@pytest.mark.parametrize("call", list(bench_slow_warnings.WARNINGS))
def test_a_slow_warning_child_says_whether_its_call_warned(monkeypatch, call):
    # The timed call must be the warned case: a warning reworded, so that the
    # script's prefix no longer matches, would read as "no" in its table.
    threshold, n_rows, n_features = _WARNED[call]
    size = n_rows if call == "SIMILAR" else n_features
    ood = next(case[3] for case in bench_slow_warnings.CASES if case[0] == call)
    for at, warned in ((size, True), (size + 1, False)):
        monkeypatch.setattr(threshold, at)
        measured = bench_slow_warnings.measure(call, n_rows, n_features, ood, 0)
        assert measured["warned"] is warned


def test_the_committed_slow_warnings_time_the_sizes_the_warnings_name():
    # The thresholds come from the package: one changed leaves the committed
    # table timing other sizes, which the docstrings citing it then misquote.
    record = json.loads(
        (bench_slow_warnings.RESULTS / "slow_warnings.json").read_text()
    )
    timed = [
        (r["call"], r["pool_rows"], r["features"], r["labelled"])
        for r in record["results"]
    ]
    assert timed == [
        (*case[:3], bench_slow_warnings.labelled_text(case))
        for case in bench_slow_warnings.CASES
    ]
    thresholds = {
        "SIMILAR": ("pool_rows", bench_slow_warnings._SLOW_POOL),
        "mahalanobis_purity": (
            "features",
            bench_slow_warnings._SLOW_COVARIANCE_FEATURES,
        ),
        "EOAL": ("features", bench_slow_warnings._SLOW_FEATURES),
    }
    for r in record["results"]:
        size, threshold = thresholds[r["call"]]
        assert r["warned"] == [r[size] >= threshold] * r["runs"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bench_memory_makes_cosines_inputs_without_a_peak_of_their_own(
    monkeypatch, dtype
):
    # The pool was drawn whole in float64, then cast: in float32 a peak of
    # twice the pool, above cosine_purity's own at working_memory=128 (its
    # MiB above the inputs came out 0), and one pool more in float64.
    import tracemalloc

    import skal_openset

    given = []

    def cosine_purity(pool, labelled):
        given.append((pool, labelled, tracemalloc.get_traced_memory()[1]))

    monkeypatch.setattr(skal_openset, "cosine_purity", cosine_purity)
    sizes = {"pool_rows": 20_000, "labelled_rows": 500}
    tracemalloc.start()
    try:
        bench_memory.measure("cosine", dtype, 128, sizes, 0)
    finally:
        tracemalloc.stop()
    [(pool, labelled, peak)] = given
    assert peak < 1.2 * (pool.nbytes + labelled.nbytes)
    # The same values as drawn whole.
    rng = np.random.RandomState(0)
    for rows, n_rows in [(pool, 20_000), (labelled, 500)]:
        drawn = rng.standard_normal((n_rows, bench_memory.N_FEATURES))
        np.testing.assert_array_equal(rows, drawn.astype(dtype), strict=True)


def test_the_image_cache_runs_time_a_decode_a_write_and_a_read_of_the_zip(
    tmp_path, monkeypatch
):
    # The docstring's decoding and cached-load seconds came from no script:
    # each way runs in its own process on the zip under --data-dir, the
    # write and read ways with a cache that the read finds written.
    layout = {(s, c): 2 for s in ("train", "test") for c in CIFAR10_CLASSES[:3]}
    _write_image_zip(tmp_path / bench_image_cache.ZIP_NAME, layout)
    argv = ["--data-dir", str(tmp_path), "--repeats", "2"]
    _main(monkeypatch, bench_image_cache, *argv, "--results-dir", str(tmp_path))
    rows = json.loads((tmp_path / "image_cache.json").read_text())["results"]
    assert [(r["way"], r["images"], r["runs"], r["from_cache"]) for r in rows] == [
        ("decode, no cache_path", 12, 2, [False, False]),
        ("decode and write the cache", 12, 2, [False, False]),
        ("read the cache", 12, 2, [True, True]),
    ]
    table = (tmp_path / "image_cache.md").read_text()
    assert "| read the cache | 12 |" in table


def test_an_image_cache_run_stopped_alone_removes_its_temporary_caches(tmp_path):
    # SIGTERM (kill, SLURM) to the script alone ended it at once: its child
    # ran on, and the caches it decoded (180 MB each for CIFAR-10) were left
    # in the temporary folder.
    layout = {(s, c): 2 for s in ("train", "test") for c in CIFAR10_CLASSES[:3]}
    _write_image_zip(tmp_path / bench_image_cache.ZIP_NAME, layout)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    command = [sys.executable, bench_image_cache.__file__, "--data-dir"]
    command += [str(tmp_path), "--results-dir", str(tmp_path / "out")]
    env = {**os.environ, "TMPDIR": str(temporary)}
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE) as process:
        while not any(temporary.glob("*/cache-0.npz")):
            assert process.poll() is None, "it ended before its first cache"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        stderr = process.communicate(timeout=60)[1].decode()
    assert process.returncode == 143, stderr
    assert list(temporary.iterdir()) == []
    assert not (tmp_path / "out" / "image_cache.md").exists()


def _children(pid, runs=b"--child"):
    """The process ids of the children of process `pid` whose command line
    holds `runs`, a script's ``--child`` (Linux). Not any child: torch's CUDA
    builds run ``ldconfig -p`` as torch is imported (cuda-pathfinder), before
    the script handles SIGTERM, and a SIGTERM sent then ended it at once."""
    with contextlib.suppress(FileNotFoundError):
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [child for child in listed if _runs_child(child, runs)]
    return []


def _runs_child(pid, runs=b"--child"):
    """Whether process `pid`'s command line holds `runs`, a benchmark
    script's ``--child``; False once it has ended."""
    with contextlib.suppress(OSError):  # ended
        return runs in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


@pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
    reason="lists no process's children (Linux /proc only)",
)
@pytest.mark.parametrize(
    "script, argv, kept",
    [
        (
            bench_scale,
            ["--rows", "600", "--repeats", "1", "--strategies", "RANDOM"],
            "no table written.",
        ),
        (
            bench_memory,
            ["--repeats", "1", "--selector-rows", "50", "--pool-rows", "100"]
            + ["--labelled-rows", "10", "--csv-rows", "100"],
            "no table written.",
        ),
        (
            bench_slow_warnings,
            ["--repeats", "1", "--calls", "EOAL"],
            "no table written.",
        ),
        (
            bench_neighbours,
            ["--pool-rows", "100", "--labelled-rows", "10", "--repeats", "1"]
            + ["--searches", "cosine", "--backends", "current"],
            "no table written; its temporary files removed.",
        ),
        # Its children, a fresh Python each, run no --child: the package's
        # --help or --version, a tenth of a second.
        (bench_cli_start, ["--repeats", "50"], "no table written."),
    ],
    ids=[
        "bench_scale",
        "bench_memory",
        "bench_slow_warnings",
        "bench_neighbours",
        "bench_cli_start",
    ],
)
def test_a_timing_script_stopped_alone_stops_its_child(tmp_path, script, argv, kept):
    # SIGTERM (kill, SLURM) to the script alone ended it at once, its child
    # left running (bench_neighbours', its scratch folder too); Ctrl-C and
    # `timeout` signal the whole group.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    command = [sys.executable, script.__file__, *argv]
    command += ["--results-dir", str(tmp_path / "out")]
    env = {**os.environ, "TMPDIR": str(temporary)}
    runs = b"skal_openset" if script is bench_cli_start else b"--child"
    children = []
    # A file, not a pipe: a child that writes to the script's stderr
    # (bench_cli_start's) holds a pipe open, and reading it to its end waits
    # for that child, which has then ended by the time it is looked for.
    stderr_path = tmp_path / "stderr"
    try:
        with (
            open(stderr_path, "w") as stderr,
            subprocess.Popen(command, env=env, stderr=stderr) as process,
        ):
            while not (children := _children(process.pid, runs)):
                assert process.poll() is None, "it ended before its first child"
                time.sleep(0.01)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)
        assert not any(Path(f"/proc/{child}").exists() for child in children)
        assert (stderr_path.read_text(), process.returncode) == (
            f"Interrupted (SIGTERM): {kept}\n",
            143,
        )
        # tempfile's names (torch's own cache folder may be there too)
        assert list(temporary.glob("tmp*")) == []
        assert list((tmp_path / "out").glob("*.md")) == []  # no table
    finally:
        for child in children:  # left running (the old code): its --child
            if _runs_child(child, runs):
                with contextlib.suppress(OSError):
                    os.kill(int(child), signal.SIGKILL)


def test_the_training_script_stopped_ends_with_one_line(tmp_path):
    # A Ctrl-C or SIGTERM gave a traceback, or none and no word; a closed
    # pipe (| head -1) a traceback: the script runs no child, but stops as
    # the others do.
    command = [sys.executable, bench_training.__file__, "--repeats", "3"]
    command += ["--results-dir", str(tmp_path / "out")]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        process.stdout.readline()  # its first net timed: it runs in main
        process.send_signal(signal.SIGTERM)
        stderr = process.communicate(timeout=120)[1]
    assert (stderr, process.returncode) == (
        "Interrupted (SIGTERM): no table written.\n",
        143,
    )
    assert not (tmp_path / "out").exists()


# A timing script run as python runs it (argv[2:]), its work stood in for (a
# net trained for one epoch, a Python started without running), and argv[1]
# done as its table's .md file is put in place: stdout made a full disk
# ("full"), stdout's pipe filled, as by a reader that stopped reading
# ("blocked", FILL_STDOUT's fill_stdout, run before it), or a SIGTERM sent,
# SIGINT ignored where "in the background" (as sh starts cmd &).
_AS_ITS_TABLE_IS_WRITTEN = """
import os, runpy, signal, sys
import _common, skal_openset

then = sys.argv[1]
sys.argv = sys.argv[2:]
if then.endswith("in the background"):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
net = skal_openset.make_mlp_classifier
skal_openset.make_mlp_classifier = lambda *a, **k: net(*a, **{**k, "max_epochs": 1})
_common.run_script = lambda *args, **kwargs: None
replace = os.replace

def replaced(src, dst):
    replace(src, dst)
    if not str(dst).endswith(".md"):
        return
    if then == "full":
        os.dup2(os.open("/dev/full", os.O_WRONLY), 1)
        return
    if then.startswith("terminated"):
        os.kill(os.getpid(), signal.SIGTERM)
        return
    fill_stdout()

os.replace = replaced
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _as_its_table_is_written(tmp_path, then, script, unbuffered=False):
    """`script` (bench_training or bench_cli_start) run on
    :data:`_AS_ITS_TABLE_IS_WRITTEN`, writing into `tmp_path`, started."""
    command = [sys.executable, "-c", FILL_STDOUT + _AS_ITS_TABLE_IS_WRITTEN, then]
    command += [script.__file__, "--repeats", "1", "--results-dir", str(tmp_path)]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(map(str, [BENCHMARKS, BENCHMARKS.parent])),
        PYTHONUNBUFFERED="1" if unbuffered else "",
    )
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _table_files(tmp_path, script):
    """`script`'s JSON and table files written into `tmp_path`."""
    name = "training" if script is bench_training else "cli_start"
    return tmp_path / f"{name}.json", tmp_path / f"{name}.md"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize(
    "script", [bench_training, bench_cli_start], ids=["training", "cli_start"]
)
def test_a_timing_scripts_table_refused_once_written_says_where_it_is(
    tmp_path, script, unbuffered
):
    # The table is printed once its files are written (printed first, it was
    # lost under | head): refused then, unbuffered, the line said "no table
    # written", and buffered it said nothing of the files.
    json, table = _table_files(tmp_path, script)
    with _as_its_table_is_written(tmp_path, "full", script, unbuffered) as process:
        stderr = process.communicate(timeout=120)[1]
    assert (stderr, process.returncode) == (
        f"{Path(script.__file__).name}: error: [Errno 28] No space left on "
        f"device; {json} and {table} written: free some disk space, then rerun "
        "it.\n",
        1,
    )


@pytest.mark.parametrize(
    "script", [bench_training, bench_cli_start], ids=["training", "cli_start"]
)
def test_a_timing_script_stopped_once_its_table_is_written_says_where_it_is(
    tmp_path, script
):
    # Stopped as its table was printed (a reader that stopped reading), it
    # said "no table written"; buffered, SIGTERM ended it as Python flushed
    # stdout at its end, status -15 and no word.
    json, table = _table_files(tmp_path, script)
    with _as_its_table_is_written(tmp_path, "blocked", script) as process:
        while not table.exists():
            assert process.poll() is None, "it ended before writing its table"
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        stderr = process.communicate(timeout=120)[1]
    assert (stderr, process.returncode) == (
        f"Interrupted (SIGTERM): {json} and {table} written.\n",
        143,
    )


# A script whose last output is still held as its block ends, its reader
# having stopped reading.
_LAST_OUTPUT_HELD_UP = """
import sys
import _common

fill_stdout()
with _common.stopped_by_signals("kept", "rerun it"):
    print("the table")
    open(sys.argv[1], "w").close()
"""


@DROPS_HELD_UP
@pytest.mark.parametrize("verdict", ["", "    sys.exit(1)\n"], ids=["ends", "exits"])
@pytest.mark.parametrize(
    "signum, stopped, status",
    [(signal.SIGINT, "Ctrl-C", 130), (signal.SIGTERM, "SIGTERM", 143)],
)
def test_a_stop_as_a_scripts_last_output_is_held_up_ends_it(
    tmp_path, signum, stopped, status, verdict
):
    # Written as the block ended, where its stops were no longer handled: a
    # Ctrl-C gave a traceback, then waited on, a SIGTERM ended it with no
    # word (-15). Said in the block, the stop's line came, then Python's
    # flush at exit waited again. A block that exited with its verdict's
    # status (compare_cells') still had its output written after.
    path = f"{BENCHMARKS}{os.pathsep}{BENCHMARKS.parent}"
    env = dict(os.environ, PYTHONPATH=path, PYTHONUNBUFFERED="")
    assert stopped_held_up(
        _LAST_OUTPUT_HELD_UP + verdict, signum, tmp_path / "flag", env=env
    ) == (status, f"Interrupted ({stopped}): kept; rerun it.\n")


@pytest.mark.parametrize("verdict", [None, 1], ids=["ends", "exits"])
def test_a_stop_as_a_scripts_handling_ends_after_its_output_is_said(
    monkeypatch, capsys, verdict
):
    # Its output written (compare_cells' verdict exits with its status), a
    # Ctrl-C as the block's handling of output ended was raised there: a
    # traceback, status 130 as Python re-raised it, or 0 and no word.
    import _common

    refusal_ends = _common.output_refusal_ends

    @contextlib.contextmanager
    def stopped_as_it_ends(*args, **kwargs):
        try:
            with refusal_ends(*args, **kwargs) as keep:
                yield keep
        finally:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(_common, "output_refusal_ends", stopped_as_it_ends)
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        with _common.stopped_by_signals("kept", "rerun it"):
            print("the verdict")
            if verdict:
                sys.exit(verdict)
    assert (exit_.value.code, *capsys.readouterr()) == (
        130,
        "the verdict\n",
        "Interrupted (Ctrl-C): kept; rerun it.\n",
    )


@pytest.mark.parametrize(
    "then", ["terminated", "terminated in the background"], ids=["fg", "bg"]
)
def test_a_timing_script_terminated_as_its_table_is_put_in_place_says_where(
    tmp_path, then
):
    # SIGTERM held there is raised once the line is changed. In the
    # background, SIGINT ignored, atomic_paths' own hold took it instead and
    # raised it before: "no table written" beside the files written.
    json, table = _table_files(tmp_path, bench_cli_start)
    with _as_its_table_is_written(tmp_path, then, bench_cli_start) as process:
        stderr = process.communicate(timeout=120)[1]
    assert (stderr, process.returncode) == (
        f"Interrupted (SIGTERM): {json} and {table} written.\n",
        143,
    )


def test_each_memory_run_measures_the_call_its_label_names(monkeypatch, capsys):
    # Each run's child command line, run in this process; the calls record
    # what they are given in place of computing it.
    import _common

    import sklearn

    import skal_openset

    calls, added = [], []

    def child_output(command, env):
        added.append({k: v for k, v in env.items() if os.environ.get(k) != v})
        _main(monkeypatch, bench_memory, *command[2:])
        return capsys.readouterr().out

    def fit(self, Z, y):
        memory = sklearn.get_config()["working_memory"]
        calls.append(("selector", self.init, Z.shape, memory))

    def cosine_purity(pool, labelled):
        memory = sklearn.get_config()["working_memory"]
        calls.append(("cosine", pool.dtype.name, labelled.dtype.name, memory))
        assert (pool.shape, labelled.shape) == ((30, 64), (20, 64))

    def load_csv_table(path):
        with open(path, encoding="utf-8") as f:
            rows = f.read().splitlines()
        spaced = [i for i, row in enumerate(rows) if "\xa0" in row]
        calls.append(("csv", len(rows) - 1, rows[0].count(","), spaced))

    monkeypatch.setattr(_common, "child_output", child_output)
    monkeypatch.setattr(skal_openset.MetaQueryNetSelector, "fit", fit)
    monkeypatch.setattr(skal_openset, "cosine_purity", cosine_purity)
    monkeypatch.setattr(skal_openset, "load_csv_table", load_csv_table)
    sizes = {"selector_rows": 40, "pool_rows": 30, "labelled_rows": 20}
    sizes["csv_rows"] = 10_010  # beyond a batch of rows written
    measured = [bench_memory.run_child(run, sizes, 0) for run in bench_memory.RUNS]
    assert [run[0] for run in bench_memory.RUNS] == [
        "selector fit, glibc default",
        "selector fit, MALLOC_MMAP_THRESHOLD_=131072",
        "cosine_purity, float32, working_memory=1024",
        "cosine_purity, float32, working_memory=128",
        "cosine_purity, float64, working_memory=1024",
        "load_csv_table, 50 features",
        "load_csv_table, 50 features, one non-breaking space",
    ]
    assert calls == [
        ("selector", "rule", (40, 2), 1024),
        ("selector", "rule", (40, 2), 1024),
        ("cosine", "float32", "float32", 1024),
        ("cosine", "float32", "float32", 128),
        ("cosine", "float64", "float64", 1024),
        ("csv", 10_010, 50, []),
        ("csv", 10_010, 50, [10_010]),  # the last row's line
    ]
    assert added == [{}, {"MALLOC_MMAP_THRESHOLD_": "131072"}, {}, {}, {}, {}, {}]
    assert all(set(m) == {"seconds", "mb"} for m in measured)


def test_the_demo_nets_train_on_digits_own_pixels():
    # The demo's cases have digits' 64 columns: no random features.
    from sklearn.datasets import load_digits

    X_digits, y_digits = load_digits(return_X_y=True)
    X, y = bench_training.data(100, 64, 4, np.random.RandomState(0))
    assert X.dtype == np.float32 and set(y) == {0, 1, 2, 3}
    rows = [np.flatnonzero((X_digits == row).all(axis=1)) for row in X]
    assert all(len(r) and set(y_digits[r]) == {label} for r, label in zip(rows, y))


def test_a_failing_scale_child_shows_its_own_error():
    # Too few rows for the labelled set: the child's error, not only its status.
    with pytest.raises(SystemExit) as info:
        bench_scale.run_child("RANDOM", 10, 0, 1)
    message = str(info.value.code)
    assert message.startswith(
        "bench_scale.py --child RANDOM 10 0 --threads 1 stopped with exit status 1:"
    )
    assert message.endswith(
        "ValueError: Cannot take a larger sample than population when 'replace=False'"
    )


# A child script that says it started, then waits for a Ctrl-C or SIGTERM,
# after which it writes what it keeps: as openset_benchmark.py and the preset
# worker do.
_CHILD_STOPPED_LATE = """
import signal, sys, time
from pathlib import Path
signal.signal(signal.SIGTERM, signal.default_int_handler)
try:
    print("started", flush=True)
    Path(sys.argv[1]).touch()
    time.sleep(60)
except KeyboardInterrupt:
    Path(sys.argv[1]).write_text("kept")
    sys.exit(130)
"""


@pytest.mark.parametrize("runner", ["run_script", "child_lines"])
def test_a_script_stopped_alone_stops_its_child_and_waits_for_it(
    tmp_path, monkeypatch, runner
):
    # subprocess.run killed the child 0.25 s after a Ctrl-C, before it kept
    # what it had (its temporary cells, its log line); signalled alone (kill,
    # a SIGTERM handled as Ctrl-C), the script left it running.
    import _common

    monkeypatch.setattr(_common, "CHILD_GRACE_SECONDS", 1)  # it will not stop alone
    kept = tmp_path / "kept"
    command = [sys.executable, "-c", _CHILD_STOPPED_LATE, str(kept)]

    def stopped(*args):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, stopped)
    try:
        with pytest.raises(KeyboardInterrupt):
            if runner == "run_script":
                signal.alarm(3)  # the child has started by then
                _common.run_script(command)
            else:
                _common.child_lines(command, lambda line: stopped())
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert kept.read_text() == "kept"


@pytest.mark.parametrize("moment", ["in_popen", "as_the_hold_ends"])
@pytest.mark.parametrize("runner", ["run_script", "child_lines"])
def test_a_stop_as_the_child_starts_stops_the_child(monkeypatch, runner, moment):
    # A SIGTERM to the script alone (handled as Ctrl-C) that came while Popen
    # started the child was raised there, before anything could stop the
    # child: it ran on, on its own. So did one after the hold around Popen had
    # ended, before the child's stop was set up (a few bytecodes).
    import _common

    monkeypatch.setattr(_common, "CHILD_GRACE_SECONDS", 0.5)  # it will not stop
    started = []
    popen, held = subprocess.Popen, _common.interrupts_held

    def recorded(*args, **kwargs):
        started.append(popen(*args, **kwargs))
        if moment == "in_popen":
            signal.raise_signal(signal.SIGINT)
        return started[-1]

    @contextlib.contextmanager
    def stopped_as_the_hold_ends():
        with held() as signals:
            yield signals
        if moment == "as_the_hold_ends":
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(_common.subprocess, "Popen", recorded)
    monkeypatch.setattr(_common, "interrupts_held", stopped_as_the_hold_ends)
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    try:
        with pytest.raises(KeyboardInterrupt):
            if runner == "run_script":
                _common.run_script(command)
            else:
                _common.child_lines(command, print)
        assert started[0].poll() is not None
    finally:
        started[0].kill()
        started[0].wait()


def _stopped_while_loading(
    loading,
    *program,
    signum="SIGINT",
    background=False,
    second=None,
    second_swallowed=False,
    told=None,
):
    """Run `program` in a fresh Python, the name of a module to import (as
    another program imports it) or a benchmark script and its arguments (as
    python runs it), and send it `signum` as it starts to load `loading`; a
    Ctrl-C raised there is swallowed, as CPython does in importlib's
    module-lock callback. With `second`, that signal is sent next, whatever
    it raises left to go on, or, with `second_swallowed`, swallowed too, as a
    bare except swallows it. With `background`, SIGINT is ignored, as sh
    starts ``cmd &``. With `told`, the name of a module, its import
    starting is said on stderr ("importing <name>"). Its exit status and
    stderr, where a KeyboardInterrupt out of it is
    (1, "raised once loaded\\n")."""
    code = (
        "import importlib, os, runpy, signal, sys, time\n"
        f"if {background}:\n"
        "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signum, loading = getattr(signal, sys.argv[1]), sys.argv[2]\n"
        f"second = {second!r} and getattr(signal, {second!r})\n"
        "class Stopped:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == loading:\n"
        "            sys.meta_path.remove(self)\n"
        "            try:\n"
        "                os.kill(os.getpid(), signum)\n"
        "                time.sleep(0.1)\n"
        "            except KeyboardInterrupt:\n"
        "                pass  # swallowed\n"
        "            if second:\n"
        "                try:\n"
        "                    os.kill(os.getpid(), second)\n"
        f"                except {'BaseException' if second_swallowed else '()'}:\n"
        "                    pass  # a bare except's\n"
        "class Told:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == {told!r}:\n"
        "            print('importing', name, file=sys.stderr)\n"
        "sys.meta_path.insert(0, Told())\n"
        "sys.meta_path.insert(0, Stopped())\n"
        "sys.argv = sys.argv[3:]\n"
        "try:\n"
        "    if sys.argv[0].endswith('.py'):\n"
        "        runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "    else:\n"
        "        importlib.import_module(sys.argv[0])\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit('raised once loaded')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, signum, loading, *map(str, program)],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=f"{BENCHMARKS}{os.pathsep}{BENCHMARKS.parent}"),
        timeout=300,
    )
    return done.returncode, done.stderr


def test_a_ctrl_c_while_the_report_loads_matplotlib_is_raised_once_it_has():
    # Raised inside matplotlib's import, after _common's, a Ctrl-C could be
    # swallowed (as CPython does in importlib's module-lock callback): the
    # scripts that import report.py ran on to their end, status 0.
    assert _stopped_while_loading("matplotlib", "report") == (
        1,
        "raised once loaded\n",
    )


def test_a_ctrl_c_as_another_program_imports_common_is_raised_once_loaded():
    # Only a script run as the program ends with "stopped while starting":
    # pytest collecting the tests reported it as an internal error, and a
    # joblib worker loading a script's module by name said "nothing was
    # written" beside the script's own line of what it kept.
    assert _stopped_while_loading("torch", "_common") == (1, "raised once loaded\n")


@pytest.mark.parametrize("signum, status", [("SIGINT", 130), ("SIGTERM", 143)])
@pytest.mark.parametrize(
    "module, script",
    [("matplotlib", "kernel_paths.py"), ("_cells", "compare_cells.py")],
)
def test_a_stop_as_a_scripts_own_imports_load_ends_it_with_one_line(
    module, script, signum, status
):
    # After _common's imports, as a script starts: the report's plots (a
    # Ctrl-C gave a traceback, a SIGTERM no word), and compare_cells.py's own
    # `from _cells import ...`, which loads the package's _experiment (held
    # while _common loaded alone, a Ctrl-C could be swallowed there: the
    # script ran on, status 0).
    stopped = "SIGTERM" if signum == "SIGTERM" else "Ctrl-C"
    assert _stopped_while_loading(module, script, "--help", signum=signum) == (
        status,
        f"{script}: stopped ({stopped}) while starting; nothing was written.\n",
    )


def test_a_stop_held_as_commons_imports_load_ends_the_script_before_its_own():
    # Said as _common's block of imports ends, before compare_cells.py's own
    # `from _cells import ...` loads the package's _experiment, not once its
    # run begins.
    assert _stopped_while_loading(
        "torch", "compare_cells.py", "--help", told="_cells"
    ) == (
        130,
        "compare_cells.py: stopped (Ctrl-C) while starting; nothing was written.\n",
    )


@pytest.mark.parametrize("swallowed", [False, True])
@pytest.mark.parametrize("signum, status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_second_stop_as_a_scripts_own_imports_load_ends_it_with_one_line(
    signum, status, swallowed
):
    # compare_cells.py's `from _cells import ...`, in no block: held as the
    # script starts, the first stop is said once its run begins; a second
    # one, raised at once as a KeyboardInterrupt, gave a traceback. Said as
    # it came, then swallowed, it was said again as the hold ended.
    stopped = "SIGTERM" if signum == "SIGTERM" else "Ctrl-C"
    # By its full path, as `python benchmarks/compare_cells.py` gives it: the
    # line names the script alone.
    script = BENCHMARKS / "compare_cells.py"
    assert _stopped_while_loading(
        "_cells",
        script,
        "--help",
        signum=signum,
        second=signum,
        second_swallowed=swallowed,
    ) == (
        status,
        f"compare_cells.py: stopped ({stopped}) while starting; nothing was written.\n",
    )


def test_a_stop_held_as_the_lease_starts_is_said_at_a_usage_error(tmp_path):
    # gpu_cifar.py imports _common in main, after its parse: the stop held
    # as its own imports loaded was dropped at its checks' usage error, which
    # ended it, status 2.
    assert _stopped_while_loading(
        "_cells", "gpu_cifar.py", "--out", tmp_path / "out", "--preset", "none"
    ) == (130, "gpu_cifar.py: stopped (Ctrl-C) while starting; nothing was written.\n")


# Run the module `sys.argv[1]` as the program, and send it the signal named
# `sys.argv[2]` as its code reaches its `if __name__ == "__main__":` block.
_STOPPED_AT_ITS_MAIN_BLOCK = """
import os, runpy, signal, sys
script, signum = sys.argv[1], getattr(signal, sys.argv[2])
with open(script) as lines:
    main_block = next(
        number for number, line in enumerate(lines, 1) if line.startswith("if __name")
    )

def at_main_block(frame, event, arg):
    if event == "line" and frame.f_lineno == main_block:
        sys.settrace(None)
        os.kill(os.getpid(), signum)
    return at_main_block

def in_the_module(frame, event, arg):
    if (frame.f_code.co_filename, frame.f_code.co_name) == (script, "<module>"):
        return at_main_block

sys.settrace(in_the_module)
sys.argv = [script]
runpy.run_path(script, run_name="__main__")
"""


@pytest.mark.parametrize(
    "script, signum, stopped, status",
    [
        ("report.py", "SIGINT", "Ctrl-C", 130),
        ("cifar_report.py", "SIGTERM", "SIGTERM", 143),
    ],
)
def test_a_stop_held_as_a_report_module_run_alone_starts_is_said(
    script, signum, stopped, status
):
    # Held as the script started, after its last block of imports, the stop
    # was dropped as the module said it is none to run, status 1.
    done = subprocess.run(
        [sys.executable, "-c", _STOPPED_AT_ITS_MAIN_BLOCK, script, signum],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=f"{BENCHMARKS}{os.pathsep}{BENCHMARKS.parent}"),
        timeout=300,
    )
    assert (done.returncode, done.stderr) == (
        status,
        f"{script}: stopped ({stopped}) while starting; nothing was written.\n",
    )


def test_a_sigterm_as_a_background_script_loads_torch_is_said_as_one():
    # SIGINT ignored (sh's cmd &), the hold of _common's imports, nested in
    # the script's held start, took the SIGTERM that the start's handler
    # received, and said "Ctrl-C", 130.
    assert _stopped_while_loading(
        "torch", "compare_cells.py", "--help", signum="SIGTERM", background=True
    ) == (
        143,
        "compare_cells.py: stopped (SIGTERM) while starting; nothing was written.\n",
    )


def test_a_ctrl_c_as_a_run_loads_the_report_is_the_runs_to_report(tmp_path):
    # Loaded late, once the run has begun, the report's plots are not the
    # script starting: "nothing was written" would be wrong of a run's cells.
    assert _stopped_while_loading(
        "matplotlib", "openset_benchmark.py", "--results-dir", tmp_path, "report"
    ) == (
        130,
        "Interrupted (Ctrl-C): finished cells and report files are kept whole; "
        "rerun to finish the rest.\n",
    )


@pytest.mark.parametrize(
    "importer, held", [("_common", True), ("openset_benchmark", False)]
)
def test_a_scripts_start_is_held_only_where_its_own_code_imports_common(importer, held):
    # preset_reproduction's worker, run as benchmarks/preset_reproduction.py,
    # imports _common through openset_benchmark and begins no run that would
    # end the hold: held there, its Ctrl-C would wait for its end.
    script = str(BENCHMARKS / "preset_reproduction.py")
    code = (
        "import signal, sys\n"
        f"sys.modules['__main__'].__file__ = {script!r}\n"
        f"import {importer}\n"
        "print(signal.getsignal(signal.SIGINT) is not signal.default_int_handler)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BENCHMARKS,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=f"{BENCHMARKS}{os.pathsep}{BENCHMARKS.parent}"),
        timeout=300,
    )
    assert (done.stdout, done.returncode) == (f"{held}\n", 0), done.stderr


def test_child_lines_hands_on_what_the_child_printed_before_it_stopped(
    tmp_path, monkeypatch
):
    # Lines already read into the pipe's buffer when the Ctrl-C came were
    # dropped: runs the preset worker had finished and printed, lost.
    import _common

    monkeypatch.setattr(_common, "CHILD_GRACE_SECONDS", 1)  # it will not stop alone

    child = _CHILD_STOPPED_LATE.replace('print("started"', 'print("a\\nb"')
    lines = []

    def on_line(line):
        lines.append(line)
        if line == "a\n":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _common.child_lines([sys.executable, "-c", child, str(tmp_path / "k")], on_line)
    assert lines == ["a\n", "b\n"]


def test_another_error_stops_the_child_at_once(tmp_path):
    # Only a Ctrl-C stopped it: after another error the script waited for the
    # child to run to its end.
    import _common

    kept = tmp_path / "kept"

    def on_line(line):
        raise ValueError("a row that cannot be kept")

    command = [sys.executable, "-c", _CHILD_STOPPED_LATE, str(kept)]
    with pytest.raises(ValueError, match="a row that cannot be kept"):
        _common.child_lines(command, on_line)
    assert kept.read_text() == "kept"  # stopped by SIGTERM, not at its end


def test_child_lines_hands_on_each_line_as_it_is_printed(tmp_path):
    # The preset worker's runs reached the rows file only when its whole
    # group of trials ended: stopped, every finished run was lost.
    import _common

    seen = tmp_path / "seen"
    child = (
        "import sys, time; from pathlib import Path\n"
        "print('a', flush=True)\n"
        "for _ in range(100):\n"
        "    if Path(sys.argv[1]).exists(): break\n"
        "    time.sleep(0.1)\n"
        "else: sys.exit('a was not handed on while the child ran')\n"
        "print('b')\n"
    )
    lines = []

    def on_line(line):
        lines.append(line)
        seen.touch()

    _common.child_lines([sys.executable, "-c", child, str(seen)], on_line)
    assert lines == ["a\n", "b\n"]


def test_a_line_the_stop_cut_off_is_not_handed_on(tmp_path):
    # The child ends by itself after a Ctrl-C, its last line unfinished: a
    # finished run is a whole line, and half a JSON row is no run.
    import _common

    child = "import sys; sys.stdout.write('a\\nb'); sys.stdout.flush()"
    lines = []

    def on_line(line):
        lines.append(line)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _common.child_lines([sys.executable, "-c", child], on_line)
    assert lines == ["a\n"]


def test_a_child_that_outlasts_its_grace_after_sigterm_is_killed(monkeypatch):
    # One that ignores SIGTERM would hold the script for ever.
    import _common

    monkeypatch.setattr(_common, "CHILD_GRACE_SECONDS", 0.5)
    child = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    command = [sys.executable, "-c", child]
    with pytest.raises(ValueError, match="a row that cannot be kept"):
        with _common.stopped_with_child(
            command, stdout=subprocess.PIPE, text=True
        ) as process:
            assert process.stdout.readline() == "started\n"  # SIGTERM ignored
            raise ValueError("a row that cannot be kept")
    assert process.returncode == -signal.SIGKILL


def test_a_failing_script_run_by_run_script_stops_the_caller():
    import _common

    command = [sys.executable, "-c", "raise SystemExit(3)"]
    with pytest.raises(subprocess.CalledProcessError) as info:
        _common.run_script(command)
    assert (info.value.returncode, info.value.cmd) == (3, command)


def test_child_output_is_everything_the_child_printed():
    import _common

    command = [sys.executable, "-c", "print('a'); print('{\"b\": 1}')"]
    assert _common.child_output(command) == 'a\n{"b": 1}\n'


def test_timed_run_gives_the_value_and_a_run_timed_runs_summary_reads():
    import _common

    value, timing = _common.timed_run(lambda: 3)
    assert value == 3
    summary = _common.timed_runs_summary([timing, timing])
    assert (summary["seconds"], summary["max_load"]) == (
        timing["seconds"],
        timing["load"],
    )


def test_timed_run_takes_the_wall_and_cpu_seconds_on_their_own_clocks():
    # A call that sleeps takes wall time but next to no CPU time: one clock
    # read for the other (both wall, both CPU) would not show otherwise.
    import _common

    _, timing = _common.timed_run(lambda: time.sleep(0.2))
    assert timing["seconds"] > 0.15 > timing["cpu_seconds"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_rows_are_the_values_of_one_draw(dtype):
    # Drawn a block at a time (a lower peak), they are what the memory and
    # neighbours tables were measured on: one draw's values, and the rng
    # left where one draw leaves it.
    import _common

    rng, one = np.random.RandomState(0), np.random.RandomState(0)
    X = _common.gaussian_rows(rng, 2500, 3, dtype)
    expected = one.standard_normal((2500, 3)).astype(dtype)
    np.testing.assert_array_equal(X, expected, strict=True)
    assert rng.randint(1000) == one.randint(1000)


def test_child_result_is_the_json_the_child_printed_last():
    import _common

    command = [sys.executable, "-c", "print('a'); print('{\"b\": 1}')"]
    assert _common.child_result(command) == {"b": 1}


def test_another_error_hands_on_no_line_after_it(tmp_path):
    # What the child printed before it stopped is handed on after a Ctrl-C
    # only: after on_line's own error (a row that cannot be kept), the rows
    # behind it went on to be handed on.
    import _common

    # One write, both lines whole as the SIGTERM comes (print writes its end
    # apart, unbuffered).
    written = 'sys.stdout.write("a\\nb\\n"); sys.stdout.flush()'
    child = _CHILD_STOPPED_LATE.replace('print("started", flush=True)', written)
    lines = []

    def on_line(line):
        lines.append(line)
        raise ValueError("a row that cannot be kept")

    command = [sys.executable, "-c", child, str(tmp_path / "kept")]
    with pytest.raises(ValueError, match="a row that cannot be kept"):
        _common.child_lines(command, on_line)
    assert lines == ["a\n"]


def test_a_child_that_ends_within_its_grace_after_a_ctrl_c_is_not_stopped(tmp_path):
    # The grace lets a child stopped by the same Ctrl-C (its process group's)
    # finish writing what it keeps: a SIGTERM at once cut it short.
    import _common

    finished = tmp_path / "finished"
    child = (
        "import sys, time; from pathlib import Path\n"
        "print('started', flush=True)\n"
        "time.sleep(0.5)\n"
        "Path(sys.argv[1]).touch()\n"
    )
    command = [sys.executable, "-c", child, str(finished)]
    with pytest.raises(KeyboardInterrupt):
        with _common.stopped_with_child(
            command, stdout=subprocess.PIPE, text=True
        ) as process:
            assert process.stdout.readline() == "started\n"
            raise KeyboardInterrupt
    assert process.returncode == 0
    assert finished.exists()


def test_a_second_ctrl_c_in_the_childs_grace_kills_it(monkeypatch):
    # The user who presses Ctrl-C again will not wait out the grace: the
    # child was left running on its own.
    import _common

    monkeypatch.setattr(_common, "CHILD_GRACE_SECONDS", 30)
    child = "import time; print('started', flush=True); time.sleep(60)"

    def stopped(*args):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, stopped)
    process = None
    try:
        with pytest.raises(KeyboardInterrupt):
            with _common.stopped_with_child(
                [sys.executable, "-c", child], stdout=subprocess.PIPE, text=True
            ) as process:
                assert process.stdout.readline() == "started\n"
                signal.setitimer(signal.ITIMER_REAL, 0.5)  # in the grace
                raise KeyboardInterrupt
        assert process.returncode == -signal.SIGKILL
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def test_a_ctrl_c_after_the_childs_last_line_still_stops_it(tmp_path, monkeypatch):
    # A child that closed its output and works on (writes what it keeps) is
    # waited for: a Ctrl-C then left it running on its own.
    import _common

    monkeypatch.setattr(_common, "CHILD_GRACE_SECONDS", 1)  # it will not stop alone
    child = _CHILD_STOPPED_LATE.replace(
        'print("started", flush=True)',
        'print("started", flush=True); os.close(1); sys.stdout = None',
    ).replace("import signal", "import os, signal")
    kept = tmp_path / "kept"

    def stopped(*args):
        raise KeyboardInterrupt

    def on_line(line):
        signal.setitimer(signal.ITIMER_REAL, 0.5)  # once the output has ended

    previous = signal.signal(signal.SIGALRM, stopped)
    try:
        with pytest.raises(KeyboardInterrupt):
            _common.child_lines([sys.executable, "-c", child, str(kept)], on_line)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert kept.read_text() == "kept"


def test_the_childs_pipes_are_closed_as_the_block_ends():
    # As subprocess.Popen's own block closes them: left open, a script that
    # runs many children held a file descriptor for each until collected.
    import _common

    command = [sys.executable, "-c", "print('a')"]
    with _common.stopped_with_child(command, stdout=subprocess.PIPE) as process:
        assert process.stdout.read().strip() == b"a"
    assert process.stdout.closed


def test_a_child_that_cannot_start_raises_why(tmp_path):
    # Popen's own error: no child to stop.
    import _common

    with pytest.raises(FileNotFoundError):
        _common.run_script([str(tmp_path / "no-such-program")])


def test_timed_run_reads_its_clocks_around_the_call_and_the_load_before_it(
    monkeypatch,
):
    # Each clock read once on either side of the call, and the 1-minute load
    # as it starts, not the 5-minute one nor the call's own.
    import _common

    monkeypatch.setattr(_common.time, "perf_counter", iter([10.0, 12.5]).__next__)
    monkeypatch.setattr(_common.time, "process_time", iter([1.0, 1.75]).__next__)
    load = [(1.0, 5.0, 15.0)]
    monkeypatch.setattr(_common.os, "getloadavg", lambda: load[0])

    def call():
        load[0] = (2.0, 6.0, 16.0)  # the call's own
        return 3

    value, timing = _common.timed_run(call)
    assert (value, timing) == (3, {"seconds": 2.5, "cpu_seconds": 0.75, "load": 1.0})


def test_timed_run_counts_the_cpu_seconds_of_every_thread():
    # The calls timed (torch, joblib's threads) work on other threads than
    # the caller's, which waits: its own CPU seconds would be next to none.
    import _common

    def busy():
        start = time.thread_time()
        while time.thread_time() - start < 0.2:
            pass

    def call():
        thread = threading.Thread(target=busy)
        thread.start()
        thread.join()

    _, timing = _common.timed_run(call)
    assert timing["cpu_seconds"] >= 0.2


def test_timed_runs_legend_says_what_the_cells_are():
    # The table's heading: the median CPU seconds (timed_runs_summary's) and
    # this machine's cores, which a load above tells of sharing.
    import _common

    legend = _common.timed_runs_legend()
    assert legend.startswith("CPU seconds: their median; load: the 1-minute")
    assert f"({os.cpu_count()} cores:" in legend


def test_gaussian_rows_draw_a_block_at_a_time():
    # A float64 draw of all the rows set a peak of memory twice the float32
    # rows', below which a measured call's would not show.
    import _common

    tracemalloc.start()
    try:
        X = _common.gaussian_rows(np.random.RandomState(0), 20_000, 64, np.float32)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * X.nbytes


def _benchmark_argv(folder, data_dir):
    """openset_benchmark.py run tabular --quick, its --results-dir at `folder`
    (None: not given)."""
    run = ["run", "tabular", "--quick", "--data-dir", str(data_dir)]
    option = ["--results-dir", str(folder)]
    return {"before": option + run, "after": run + option, None: run}


@pytest.mark.parametrize("where", ["before", "after", None])
def test_benchmark_results_dir_goes_before_or_after_the_command(
    tmp_path, tiny_data_dir, monkeypatch, where
):
    runs = []
    monkeypatch.setattr(bench, "run_suite", runs.append)
    _main(monkeypatch, bench, *_benchmark_argv(tmp_path, tiny_data_dir)[where])
    # Not given after the command, it keeps the one given before, or the default.
    assert runs[0].results_dir == (tmp_path if where else bench.RESULTS)


@pytest.mark.parametrize("where", ["before", "after"])
def test_the_report_hint_runs_into_the_given_results_dir(
    tmp_path, monkeypatch, capsys, where
):
    folder = tmp_path / "my results"
    write_cell(folder / "cells" / "tabular-quick" / "c.json", content())
    option = ["--results-dir", str(folder)]
    argv = option + ["report"] if where == "before" else ["report"] + option
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, bench, *argv)
    assert info.value.code == 1
    assert (
        capsys.readouterr()
        .err.rstrip()
        .endswith(
            f"e.g. python benchmarks/openset_benchmark.py --results-dir '{folder}' "
            "run tabular"
        )
    )
    assert not (folder / "RESULTS.md").exists()


def test_a_damaged_run_log_stops_the_report_in_one_line_before_any_figure(
    tmp_path, monkeypatch
):
    # A run cut off while appending its record: a ValueError traceback, after
    # the suite's figures were written.
    name = "dataset=letter_noise=0.1_strategy=BADGE_trial=0_rounds=8.json"
    folder = tmp_path / "cells" / "tabular"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(
        (report.RESULTS / "cells" / "tabular" / name).read_bytes()
    )
    run = dict(command="c", ran=1, cells=1, wall_seconds=1, machine="m", date="d")
    (folder / "_runs.jsonl").write_text(json.dumps(run) + '\n{"command": "python b')
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, bench, "report", "--results-dir", str(tmp_path))
    message = str(info.value.code)
    assert message.startswith(f"{folder / '_runs.jsonl'}, line 2: not JSON")
    assert "\n" not in message
    assert not list(tmp_path.glob("*.png")) and not (tmp_path / "RESULTS.md").exists()


def test_the_report_hint_of_the_committed_results_needs_no_option(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(report, "RESULTS", tmp_path)
    assert report.write_report(tmp_path) is None
    assert (
        capsys.readouterr()
        .err.rstrip()
        .endswith("e.g. python benchmarks/openset_benchmark.py run tabular")
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--results-dir", "D", "run", "tiny"],
        ["run", "tiny", "--results-dir", "D"],
        ["--results", "D", "run", "tiny"],
        ["run", "tiny", "--results", "D"],
        ["--results-dir", "D", "report"],
        ["report", "--results-dir", "D"],
        ["run", "tiny"],
        ["report"],
    ],
)
def test_cifar_results_dir_goes_before_or_after_the_command(
    tmp_path, monkeypatch, argv
):
    folders = []
    monkeypatch.setattr(
        cifar, "run_preset", lambda preset, results, **kw: folders.append(results)
    )
    monkeypatch.setattr(cifar_report, "write_cifar_report", folders.append)
    expected = tmp_path / "out" if "D" in argv else cifar.RESULTS
    argv = [str(tmp_path / "out") if a == "D" else a for a in argv]
    if "run" in argv:
        # The run is faked: any folder that looks like CIFAR-10's pickles.
        (tmp_path / "data_batch_1").touch()
        argv += ["--data", str(tmp_path)]
    _main(monkeypatch, cifar, *argv)
    assert folders == [expected]


@pytest.mark.parametrize(
    "script, argv, holds",
    [
        (cifar.main, ["run", "--help"], "fitted encoders are kept between runs"),
        (gpu_cifar.main, ["--help"], "fitted encoders and the cells (results/)"),
    ],
)
def test_the_cifar_cache_dir_says_what_it_holds_and_its_default(
    monkeypatch, capsys, script, argv, holds
):
    # It had no help: nothing said it stays in benchmarks/.cache when
    # --results-dir (or --out) points elsewhere.
    monkeypatch.setattr(sys, "argv", ["script.py", *argv])
    with pytest.raises(SystemExit) as info:
        script()
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert holds in text and "(default: benchmarks/.cache" in text


@pytest.mark.parametrize(
    "script",
    sorted(
        p
        for p in BENCHMARKS.glob("*.py")
        if " Parser(description=__doc__.splitlines()[0])" in p.read_text()
    ),
    ids=lambda p: p.name,
)
def test_a_scripts_help_describes_it_by_a_whole_first_paragraph(script):
    # The description is the docstring's first line: compare_cells.py's help
    # stopped mid-sentence, its first paragraph wrapped onto a second line.
    lines = ast.get_docstring(ast.parse(script.read_text())).splitlines()
    assert len(lines) == 1 or not lines[1].strip()


def test_the_preset_worker_imports_none_of_todays_modules_before_the_old_ones():
    # Its --results-dir comes from today's _common, which imports skal_openset:
    # the worker would then run today's code and refuse it, not the old.
    probe = (
        "import sys, preset_reproduction as pr\n"
        "pr.worker = lambda *a: print(sorted({'_common', 'skal_openset'} & "
        "set(sys.modules)))\n"
        "sys.argv = ['preset_reproduction.py', 'worker', '.', 'letter', '0.4', "
        "'CONF', '--trials', '0']\n"
        "pr.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(pr.__file__).parent,
        check=True,
        capture_output=True,
        text=True,
    )
    assert done.stdout == "[]\n"


@pytest.mark.parametrize(
    "module, command",
    [
        (report, "python benchmarks/openset_benchmark.py report"),
        (cifar_report, "python benchmarks/cifar.py report"),
    ],
    ids=["report", "cifar_report"],
)
def test_a_report_module_run_alone_names_the_command_that_writes_the_report(
    module, command
):
    # It wrote nothing and exited 0, as if the report were written.
    done = subprocess.run(
        [sys.executable, module.__file__],
        cwd=BENCHMARKS.parent,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.rstrip().endswith(f"run {command}")
    assert not done.stdout


def _script(name, *argv, stdout=subprocess.PIPE, env=None):
    """benchmarks/`name` run as a script, as the README runs it."""
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *map(str, argv)],
        cwd=BENCHMARKS.parent,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_compare_cells_run_as_a_script_exits_with_its_verdict(tmp_path):
    # A rerun script checks the status: 1 for cells that differ, not 0.
    for folder, accuracy in (("a", 0.5), ("b", 0.75)):
        cell = content()
        cell["records"][-1]["test_accuracy"] = accuracy
        write_cell(tmp_path / folder / "cells" / "tabular" / "x.json", cell)
    done = _script("compare_cells.py", tmp_path / "a", tmp_path / "b", "tabular")
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "x.json: final accuracy 50.00 -> 75.00"


def _tiny_cifar_zip(path):
    """A CIFAR-10 image-folder zip of one image a class and folder, at `path`."""
    _write_image_zip(
        path, {(folder, c): 1 for folder in ("train", "test") for c in CIFAR10_CLASSES}
    )


# Each script's cheapest run that prints: "a" is a folder of one tabular
# cell, "zip" a CIFAR-10 zip of one image a class and folder.
_CHEAPEST_PRINTING_RUNS = {
    "compare_cells.py": ["a", "a", "tabular"],
    "cut_cifar_zip.py": [
        *("--data", "zip", "--out", "cut.zip"),
        *("--ood-per-class", "1", "--ood-test-per-class", "1"),
    ],
    "bench_selector_device.py": ["--devices", "cpu", "--rows", "60", "--repeats", "1"],
}


def _cheapest_printing_run(tmp_path, script):
    """`script`'s arguments of :data:`_CHEAPEST_PRINTING_RUNS`, their files
    made in `tmp_path`."""
    write_cell(tmp_path / "a" / "cells" / "tabular" / "x.json", content())
    _tiny_cifar_zip(tmp_path / "zip")
    argv = _CHEAPEST_PRINTING_RUNS[script]
    return [tmp_path / arg if arg in ("a", "zip", "cut.zip") else arg for arg in argv]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("script", [*_CHEAPEST_PRINTING_RUNS, "bench_scale.py"])
def test_a_scripts_output_into_a_full_disk_ends_it_with_one_line(
    tmp_path, script, unbuffered
):
    # Its verdict (status 0: the same cells) or its help, buffered as for a
    # user, was dropped as the script exited, unwritten: status 0, no word.
    # Unbuffered (PYTHONUNBUFFERED, python -u), the verdict's print raised
    # amid the run, a traceback, and argparse passed over --help's write
    # error: status 0 again. The scripts run without the output handling
    # (cut_cifar_zip, bench_selector_device) gave Python's "Exception
    # ignored" lines and status 120, or that traceback. Their output is the
    # last of their work (output_last): the line says nothing kept.
    if script == "bench_scale.py":
        argv = ["--help"]
    else:
        argv = _cheapest_printing_run(tmp_path, script)
    env = dict(os.environ, PYTHONUNBUFFERED="1" if unbuffered else "")
    with open("/dev/full", "w") as full:
        done = _script(script, *argv, stdout=full, env=env)
    assert done.stderr == (
        f"{script}: error: [Errno 28] No space left on device; free some disk "
        "space, then rerun it.\n"
    )
    assert done.returncode == 1


@pytest.mark.skipif(not hasattr(select, "poll"), reason="no poll: any pipe counts")
@pytest.mark.parametrize("script", ["gpu_cifar.py", "bench_scale.py"])
def test_a_scripts_help_to_a_reader_that_quit_ends_it_with_status_141(script):
    # Parsed outside the output handling (gpu_cifar), the parser's
    # BrokenPipeError was a traceback, status 1; inside stopped_by_signals
    # (bench_scale), "Interrupted ...: no table written." for a --help.
    read, write = os.pipe()
    os.close(read)
    try:
        done = _script(script, "--help", stdout=write)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


@pytest.mark.skipif(not hasattr(select, "poll"), reason="no poll: any pipe counts")
@pytest.mark.parametrize("script", list(_CHEAPEST_PRINTING_RUNS))
def test_a_scripts_run_to_a_reader_that_quit_ends_it_with_status_141(tmp_path, script):
    # Without the output handling (cut_cifar_zip, bench_selector_device), a
    # BrokenPipeError's traceback, or Python's "Exception ignored" lines.
    # Their output is the last of their work (output_last): no line.
    read, write = os.pipe()
    os.close(read)
    try:
        done = _script(script, *_cheapest_printing_run(tmp_path, script), stdout=write)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


@pytest.mark.skipif(not hasattr(select, "poll"), reason="no poll: any pipe counts")
def test_a_device_comparison_to_a_reader_that_quit_still_writes_its_file(tmp_path):
    # Its result was printed before its --out file was written: under | head
    # the print ended the script, status 141, and the file was never written.
    argv = [*_CHEAPEST_PRINTING_RUNS["bench_selector_device.py"], "--out"]
    read, write = os.pipe()
    os.close(read)
    try:
        done = _script(
            "bench_selector_device.py", *argv, tmp_path / "r.json", stdout=write
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")
    assert json.loads((tmp_path / "r.json").read_text())["rows"] == 60


@pytest.mark.skipif(not hasattr(select, "poll"), reason="no poll: any pipe counts")
def test_a_scripts_output_held_to_its_end_for_a_reader_that_quit_is_status_141(
    tmp_path,
):
    # compare_cells' verdict, buffered as for a user, is written as the run
    # ends, when `| head` has quit: that is the reader quitting, not a
    # machine's failure to "fix".
    write_cell(tmp_path / "a" / "cells" / "tabular" / "x.json", content())
    read, write = os.pipe()
    os.close(read)
    try:
        done = _script(
            "compare_cells.py",
            tmp_path / "a",
            tmp_path / "a",
            "tabular",
            stdout=write,
            env=dict(os.environ, PYTHONUNBUFFERED=""),  # held to the end
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


# A lease whose reference check is done at once: it prints its result.
_LEASE_REFERENCE_PRINTED = """
import sys
import gpu_cifar

gpu_cifar.reference_check = lambda *args: {"accuracy": 1.0}
gpu_cifar.run_preset = None  # its output is refused before
sys.argv[0] = "gpu_cifar.py"  # the program the line names, as run as a script
gpu_cifar.main(sys.argv[1:])
"""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_a_lease_whose_output_a_full_disk_refuses_ends_with_one_line(tmp_path):
    # gpu_cifar parses its command line before stopped_by_signals can be
    # imported (skorch may yet be installed), so it enters it in main:
    # without it, a traceback as the reference check's result was printed.
    # Refused amid the lease, the line says what it keeps.
    _tiny_cifar_zip(tmp_path / "cifar.zip")
    argv = ["--out", tmp_path / "out", "--data", tmp_path / "cifar.zip"]
    argv += ["--preset", "tiny", "--device", "cpu", "--cache-dir", tmp_path / "c"]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(map(str, [BENCHMARKS, BENCHMARKS.parent])),
    )
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", _LEASE_REFERENCE_PRINTED, *map(str, argv)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    assert done.stderr == (
        "gpu_cifar.py: error: [Errno 28] No space left on device; finished cells "
        "and report files are kept whole: free some disk space, then rerun to "
        "finish the rest.\n"
    )
    assert done.returncode == 1


def test_a_ctrl_c_in_a_lease_says_what_it_keeps(tmp_path, monkeypatch, capsys):
    # gpu_cifar enters stopped_by_signals in main, after its parse: with the
    # output handling alone, its Ctrl-C gave a traceback, and a SIGTERM
    # ended it with no word, whatever cells it had finished.
    def interrupted(*args):
        raise KeyboardInterrupt

    _tiny_cifar_zip(tmp_path / "cifar.zip")
    argv = ["--out", tmp_path / "out", "--data", tmp_path / "cifar.zip"]
    argv += ["--preset", "tiny", "--device", "cpu", "--cache-dir", tmp_path / "c"]
    monkeypatch.setattr(gpu_cifar, "reference_check", interrupted)
    monkeypatch.setattr(sys, "argv", ["gpu_cifar.py"])
    with pytest.raises(SystemExit) as exit_, escaped_ctrl_c_fails():
        gpu_cifar.main(list(map(str, argv)))
    assert (exit_.value.code, capsys.readouterr().err) == (
        130,
        f"Interrupted (Ctrl-C): {_CELLS_KEPT}.\n",
    )


def test_a_scripts_help_with_stdout_closed_goes_to_stderr():
    # `script.py --help >&-` (a daemon, a cron job): sys.stdout is None, which
    # argparse writes for on stderr; stopped_by_signals' stdout must stay None,
    # not a stream that writes on None (a traceback).
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" "$1" --help >&-', sys.executable, "compare_cells.py"],
        cwd=BENCHMARKS,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert done.returncode == 0
    assert done.stderr.startswith("usage: compare_cells.py ")


def test_openset_claims_refuses_a_suite_without_cells_in_one_line(
    tmp_path, monkeypatch, capsys
):
    # Nothing written: the committed openset_claims.md stays as it was.
    cell = content()
    for record in cell["records"]:
        record["budget_spent"] = 20 * (record["round"] - 1)
    write_cell(tmp_path / "cells" / "tabular" / "x.json", cell)
    done = _script(
        "openset_claims.py", "--results-dir", tmp_path, "--suite", "tabular", "fashion"
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"openset_claims.py: error: {tmp_path} holds no cells of the suite 'fashion'."
    )
    assert not (tmp_path / "openset_claims.md").exists()
    argv = ["--results-dir", str(tmp_path), "--noise", "0.6"]
    with pytest.raises(SystemExit) as info:
        _main(monkeypatch, openset_claims, *argv)
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "openset_claims.py: error: The tabular cells have no noise ratio 0.6; they "
        "have [0.4]."
    )
    assert not (tmp_path / "openset_claims.md").exists()


def test_demo_setting_run_as_a_script_refuses_a_bad_argument_before_any_run():
    done = _script("demo_setting.py", "--rounds", "1")
    assert done.returncode == 2
    assert "demo_setting.py: error: argument --rounds: must be at least 2" in (
        done.stderr
    )
    assert not done.stdout


def test_bench_selector_device_times_each_device_and_compares_its_scores(tmp_path):
    out = tmp_path / "device.json"
    argv = ["--devices", "cpu", "--rows", "60", "--repeats", "1", "--out", str(out)]
    bench_selector_device.main(argv)
    result = json.loads(out.read_text())
    assert result["rows"] == 60
    assert set(result["fit_seconds_median"]) == {"cpu"}
    assert result["spearman_with_cpu"] == {"cpu": 1.0}


def test_bench_selector_device_without_out_prints_its_result_only(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    bench_selector_device.main(["--devices", "cpu", "--rows", "60", "--repeats", "1"])
    assert json.loads(capsys.readouterr().out)["rows"] == 60
    assert list(tmp_path.iterdir()) == []


def test_the_authors_schedule_lowers_the_pair_loss_reproducibly():
    # Its lr (1e-3, no momentum) moves the network little, so the measure is
    # the hinge loss over every pair of the training rows, not an accuracy.
    import torch

    Z, y = bench_selector.self_validation_set(100, np.random.RandomState(0))
    first, second = np.triu_indices(len(y), 1)
    keep = y[first] != y[second]
    sign = np.where(y[first] > y[second], 1.0, -1.0)[keep]

    def pair_loss(module):
        with torch.no_grad():
            scores = module(torch.as_tensor(Z)).numpy().ravel()
        diff = (scores[first] - scores[second])[keep]
        return np.maximum(0.0, 1.0 - sign * diff).mean()

    def weights(module):
        return [p.detach().clone() for p in module.parameters()]

    untrained = bench_selector.fit_official_schedule(Z, y, seed=3, epochs=0)
    trained = bench_selector.fit_official_schedule(Z, y, seed=3, epochs=2)
    assert pair_loss(trained) < pair_loss(untrained)
    again = bench_selector.fit_official_schedule(Z, y, seed=3, epochs=2)
    assert all(map(torch.equal, weights(again), weights(trained)))


def test_bench_selector_device_refuses_a_device_listed_twice(capsys):
    with pytest.raises(SystemExit) as info:
        bench_selector_device.main(["--devices", "cpu", "cpu"])
    assert info.value.code == 2
    assert "lists a device twice" in capsys.readouterr().err


@pytest.mark.parametrize(
    "device, message",
    [
        ("gpu", "argument --devices: 'gpu' is no torch device; pass cpu, cuda or"),
        ("cuda:99", "--devices 'cuda:99' names a CUDA device this machine lacks"),
    ],
)
def test_bench_selector_device_refuses_a_device_before_any_fit(
    monkeypatch, capsys, device, message
):
    # They failed after the CPU fits, minutes in, with a traceback.
    monkeypatch.setattr(bench_selector_device, "timed_fit", None)
    with pytest.raises(SystemExit) as info:
        bench_selector_device.main(["--devices", "cpu", device, "--rows", "60"])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def _parsers(parser):
    """`parser` and the parsers of its subcommands, and of theirs."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                yield from _parsers(command)


def _undocumented(parser):
    """The arguments of `parser` whose help says nothing, or not their default."""
    for action in parser._actions:
        name = f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
        if isinstance(action, argparse._SubParsersAction):
            # --help lists the commands under it, each with its own help.
            described = {c.dest for c in action._choices_actions if c.help}
            yield from (
                f"{parser.prog} {c}" for c in action.choices if c not in described
            )
        elif not action.help:
            yield name
        elif (
            action.help != argparse.SUPPRESS
            and action.nargs != 0  # a flag: its default is its absence
            and action.default not in (None, argparse.SUPPRESS)
            and "default" not in action.help
        ):
            yield f"{name}: its default"


# Every script with a command line, found by its source.
SCRIPTS_WITH_OPTIONS = sorted(
    path.stem for path in BENCHMARKS.glob("*.py") if "Parser(" in path.read_text()
)


# The worker's parser reads its command line before the old checkout's
# modules load, so it cannot import today's package (see worker_parser).
_PLAIN_PARSERS = {"preset_reproduction": {"worker_parser"}}


@pytest.mark.parametrize("script", SCRIPTS_WITH_OPTIONS)
def test_every_scripts_parser_is_the_shared_one(script):
    # A plain ArgumentParser passes over an error of writing --help: into a
    # full disk, unbuffered, the script exited 0 having written nothing.
    # Each call's innermost function, "<module>" outside any: one at the
    # module's level (its __main__ block) was not looked at.
    tree = ast.parse((BENCHMARKS / f"{script}.py").read_text())
    called_in = {}
    for function in ast.walk(tree):  # outer functions first
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            called_in.update(dict.fromkeys(ast.walk(function), function.name))
    plain, shared = set(), 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", None))
        if name == "ArgumentParser":
            plain.add(called_in.get(node, "<module>"))
        shared += name == "Parser"
    assert plain == _PLAIN_PARSERS.get(script, set())
    assert shared


def test_the_scripts_with_a_command_line_are_found():
    # Read from the folder, so that a new script is checked too; not empty.
    assert {"cifar", "openset_benchmark", "preset_reproduction"} < set(
        SCRIPTS_WITH_OPTIONS
    )


@pytest.mark.parametrize("script", SCRIPTS_WITH_OPTIONS)
def test_a_script_run_as_a_file_runs_its_command_line(monkeypatch, capsys, script):
    # Its `if __name__ == "__main__":` block, in this process: the help it
    # prints shows it reached the command line (a script whose block called
    # nothing would run nothing, without a word).
    path = BENCHMARKS / f"{script}.py"
    monkeypatch.setattr(sys, "path", list(sys.path))  # gpu_cifar.py adds to it
    monkeypatch.setattr(sys, "argv", [str(path), "--help"])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(path), run_name="__main__")
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: {script}.py ")


# Scripts that parse their command line before entering stopped_by_signals, and
# test it apart: gpu_cifar, as skorch, which _common imports, may yet be
# installed (test_a_lease_whose_output_a_full_disk_refuses_ends_with_one_line).
_PARSED_BEFORE_ITS_RUN = {"gpu_cifar"}


@pytest.mark.parametrize(
    "script", sorted(set(SCRIPTS_WITH_OPTIONS) - _PARSED_BEFORE_ITS_RUN)
)
def test_every_script_runs_inside_stopped_by_signals(monkeypatch, capsys, script):
    # Five scripts ran without its output handling: their output into a full
    # disk gave Python's "Exception ignored" lines (status 120) or a
    # traceback, not one line, and `| head` a BrokenPipeError's traceback,
    # not status 141. Seven then had that handling alone: a Ctrl-C gave a
    # traceback, a SIGTERM no word.
    stdout_as_parsed = []

    def recorded(parser, *args, **kwargs):
        stdout_as_parsed.append(sys.stdout)
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_:
        _run_as_the_program(monkeypatch, script, recorded)
    assert [type(s) for s in stdout_as_parsed] == [_signals._RefusalEnding]
    assert exit_.value.code == 130
    assert capsys.readouterr().err.startswith("Interrupted (Ctrl-C): ")


def _run_as_the_program(monkeypatch, script, parse_args):
    """Run benchmarks/`script`.py as the program, with `parse_args` in place of
    its parser's (it raises: the script's work is not run)."""
    path = BENCHMARKS / f"{script}.py"
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "argv", [str(path)])
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_args)
    with escaped_ctrl_c_fails():
        runpy.run_path(str(path), run_name="__main__")


_CELLS_KEPT = "finished cells and report files are kept whole; rerun to finish the rest"
_RUNS_KEPT = "finished runs and report files are kept whole; rerun to finish the rest"


@pytest.mark.parametrize(
    "script, kept",
    [
        ("cifar", _CELLS_KEPT),
        ("kernel_paths", _CELLS_KEPT),
        ("openset_benchmark", _CELLS_KEPT),
        ("meta_signal", _RUNS_KEPT),
        ("preset_reproduction", _RUNS_KEPT),
        (
            "switch_signal",
            "finished class splits and report files are kept whole; rerun for the rest",
        ),
        ("bench_image_cache", "no table written; its temporary caches removed"),
        ("bench_neighbours", "no table written; its temporary files removed"),
        ("bench_scale", "no table written"),
        ("bench_selector", "no table written"),
        ("compare_cells", "nothing written"),
        *(
            (script, "its file is written whole or not at all")
            for script in [
                "bench_selector_device",
                "cut_cifar_zip",
                "openset_claims",
            ]
        ),
        ("demo_setting", "nothing written"),
    ],
)
def test_a_ctrl_c_in_a_scripts_run_says_what_it_keeps_and_how_to_go_on(
    monkeypatch, capsys, script, kept
):
    # Each script gives stopped_by_signals what its run keeps and how a rerun
    # goes on, apart (a full disk's line says its remedy between them); its
    # Ctrl-C line says both, as before they were split. The scripts that had
    # the output handling alone (compare_cells...) gave a traceback.
    def interrupted(parser, *args, **kwargs):
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_:
        _run_as_the_program(monkeypatch, script, interrupted)
    assert exit_.value.code == 130
    assert capsys.readouterr().err == f"Interrupted (Ctrl-C): {kept}.\n"


def _parser_of(monkeypatch, script):
    """The command line parser `script`'s main builds."""
    parsers = []

    def capture(parser, *args, **kwargs):
        parsers.append(parser)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(SystemExit):
        _main(monkeypatch, importlib.import_module(script))
    (parser,) = parsers
    return parser


@pytest.mark.parametrize("script", SCRIPTS_WITH_OPTIONS)
def test_every_option_of_a_script_says_what_it_does(monkeypatch, script):
    # Options and positional arguments of most scripts, subcommands' included
    # (cifar.py run's preset, preset_reproduction.py's worker), had no help,
    # or none that gave their default: --help showed neither what they take
    # nor what they do.
    parser = _parser_of(monkeypatch, script)
    assert [name for p in _parsers(parser) for name in _undocumented(p)] == []


@pytest.mark.parametrize("script", SCRIPTS_WITH_OPTIONS)
def test_a_repeated_list_option_adds_up(monkeypatch, script):
    # `meta_signal.py --noise 0.4 --noise 0.6` ran 60% alone: argparse keeps
    # the last repeat of an option, without a word.
    parser = _parser_of(monkeypatch, script)
    lists = [
        (p, action)
        for p in _parsers(parser)
        for action in p._actions
        if action.nargs == "+"
    ]
    for p, action in lists:
        default = copy.deepcopy(action.default)
        given = argparse.Namespace(**{action.dest: action.default})
        action(p, given, ["a"], action.option_strings[0])
        action(p, given, ["b", "c"], action.option_strings[0])
        assert getattr(given, action.dest) == ["a", "b", "c"], action.option_strings
        assert action.default == default  # not added to


@pytest.mark.parametrize("script", SCRIPTS_WITH_OPTIONS)
def test_a_path_option_expands_a_tilde_and_refuses_an_empty_path(
    tmp_path, monkeypatch, script
):
    # `--results-dir=~/r` (no shell expands ~ after =) wrote into a folder
    # named ~, and `--data-dir=~/data` was "missing"; `--results-dir ""` (an
    # unset variable) wrote into the current folder.
    parser = _parser_of(monkeypatch, script)
    monkeypatch.setenv("HOME", str(tmp_path))
    paths = [
        action
        for p in _parsers(parser)
        if not p.prog.endswith(" worker")  # internal: given resolved paths
        for action in p._actions
        if action.type is Path
        or isinstance(action.default, Path)
        or getattr(action.type, "__name__", "").endswith("_path")
    ]
    for action in paths:
        assert action.type("~/r") == tmp_path / "r", action.option_strings
        with pytest.raises(argparse.ArgumentTypeError, match="must be a path"):
            action.type("")


def test_summary_only_is_checked_on_the_command_line_parsed(monkeypatch, capsys):
    # It parsed sys.argv again: an argv given to main was not checked (and
    # pytest's own options were refused as unrecognised).
    import argparse

    from _common import refuse_with_summary_only

    parser = argparse.ArgumentParser(prog="script.py")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1])
    parser.add_argument("--summary-only", action="store_true")
    argv = ["--summary-only", "--seeds", "5"]
    monkeypatch.setattr(sys, "argv", ["pytest", "-k", "x"])
    with pytest.raises(SystemExit):
        refuse_with_summary_only(parser, parser.parse_args(argv), "--seeds", argv=argv)
    assert "--seeds would not apply" in capsys.readouterr().err


def test_bench_neighbours_asked_for_faiss_without_it_says_what_to_install(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "faiss", None)  # not importable
    monkeypatch.setattr(bench_neighbours, "run_child", None)  # a run: a bug
    with pytest.raises(SystemExit):
        _main(monkeypatch, bench_neighbours, "--backends", "faiss")
    assert "faiss-cpu is not installed; pip install faiss-cpu" in (
        capsys.readouterr().err
    )
    # Without --backends it times the package's searches alone.
    monkeypatch.setattr(bench_neighbours, "run_child", bench_neighbours.timed)
    argv = ["--pool-rows", "50", "--labelled-rows", "4", "--repeats", "1"]
    _main(monkeypatch, bench_neighbours, *argv, "--results-dir", str(tmp_path))
    result = json.loads((tmp_path / "neighbours.json").read_text())
    assert result["backends"] == ["current"]
    assert "faiss" not in result  # no faiss release timed
    assert [r["search"] for r in result["results"]] == list(bench_neighbours.SEARCHES)


def test_bench_neighbours_records_the_faiss_release_it_timed(tmp_path, monkeypatch):
    # Its json and table named torch's version, not faiss's, whose releases
    # time its rows.
    faiss = types.ModuleType("faiss")
    faiss.__version__ = "1.99.0"
    faiss.__spec__ = importlib.machinery.ModuleSpec("faiss", None)
    monkeypatch.setitem(sys.modules, "faiss", faiss)
    monkeypatch.setattr(  # faiss's side done by the package, as faiss is fake
        bench_neighbours,
        "run_child",
        lambda search, backend, *sizes: bench_neighbours.timed(
            search, "current", *sizes
        ),
    )
    argv = ["--pool-rows", "50", "--labelled-rows", "4", "--repeats", "1"]
    _main(monkeypatch, bench_neighbours, *argv, "--results-dir", str(tmp_path))
    result = json.loads((tmp_path / "neighbours.json").read_text())
    assert result["backends"] == ["current", "faiss"]
    assert result["faiss"] == "1.99.0"
    table = (tmp_path / "neighbours_table.md").read_text()
    assert table.splitlines()[0].endswith(", faiss 1.99.0.")


def test_bench_neighbours_faiss_finds_the_package_neighbours(tmp_path, monkeypatch):
    pytest.importorskip("faiss")
    monkeypatch.setattr(bench_neighbours, "run_child", bench_neighbours.timed)
    argv = ["--pool-rows", "500", "--labelled-rows", "40", "--repeats", "2"]
    _main(monkeypatch, bench_neighbours, *argv, "--results-dir", str(tmp_path))
    result = json.loads((tmp_path / "neighbours.json").read_text())
    assert result["backends"] == ["current", "faiss"]
    for row in result["results"]:
        # float32 inner products: cosine scores may differ in their last bits
        assert row["max_score_difference"] < 1e-6, row
    table = (tmp_path / "neighbours_table.md").read_text()
    assert "| current / faiss | rows differing |" in table


def test_bench_neighbours_makes_its_inputs_without_a_peak_of_their_own():
    # A float64 copy of the whole pool set the process's peak, above that of
    # the searches: they were measured at 0 MiB above the inputs.
    import tracemalloc

    tracemalloc.start()
    X = bench_neighbours.make_embedding(20_000, 64, 0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert X.dtype == np.float32
    assert peak < 1.2 * X.nbytes


def _coreset_search_mb(out, monkeypatch):
    """MiB above the inputs of bench_neighbours' CORESET search of 20,000
    pool rows of 64 features, by tracemalloc, and a pool's MiB."""
    import tracemalloc

    tracemalloc.start()
    monkeypatch.setattr(
        bench_neighbours, "peak_mb", lambda: tracemalloc.get_traced_memory()[1] / 2**20
    )
    try:
        measured = bench_neighbours.timed("coreset", "current", 20_000, 50, 64, 0, out)
    finally:
        tracemalloc.stop()
    return measured["mb"], 20_000 * 64 * 4 / 2**20


def test_bench_neighbours_counts_no_scoring_in_coresets_search(tmp_path, monkeypatch):
    # The distances to the neighbours found, a float64 copy of the pool that
    # CORESET takes in chunks, were measured as the search's memory: 445 MiB
    # above the inputs at 300,000 rows, for a search of little more than none.
    out = tmp_path / "coreset.npz"
    mb, pool_mb = _coreset_search_mb(out, monkeypatch)
    # The search's own: the pool scaled and centred, two float32 copies at
    # most (counted with the scoring: three and more).
    assert mb < 2.5 * pool_mb
    with np.load(out) as saved:
        assert saved["scores"].shape == saved["neighbours"].shape == (20_000,)


def test_bench_neighbours_searches_coresets_rows_scaled_and_centred(
    tmp_path, monkeypatch
):
    # It searched the rows as given, where CoreSetQuery first scales them and
    # centres them on the pool: its float32 copy of the pool went uncounted,
    # and the neighbours compared with faiss's were not CORESET's.
    out = tmp_path / "coreset.npz"
    mb, pool_mb = _coreset_search_mb(out, monkeypatch)
    assert mb > pool_mb
    # The nearest labelled rows all the same: scaling and centring keep them.
    pool = bench_neighbours.make_embedding(20_000, 64, 0)
    labelled = bench_neighbours.make_embedding(50, 64, 10_000)
    with np.load(out) as saved:
        np.testing.assert_array_equal(
            saved["neighbours"], pairwise_distances_argmin(pool, labelled)
        )


def test_timed_runs_are_summarised_by_their_median_range_and_loads():
    # Each benchmark ran with --repeats 1 in the tests: a minimum and a
    # maximum swapped, or a mean for the median, passed unseen. (Each
    # column's mean is not its median here.)
    import _common

    runs = [
        {"seconds": 6.0, "cpu_seconds": 1.5, "load": 0.5},
        {"seconds": 1.0, "cpu_seconds": 9.0, "load": 2.5},
        {"seconds": 2.0, "cpu_seconds": 1.0, "load": 1.0},
    ]
    row = _common.timed_runs_summary(runs)
    assert row == {
        "seconds": 2.0,
        "min_seconds": 1.0,
        "max_seconds": 6.0,
        "cpu_seconds": 1.5,
        "min_load": 0.5,
        "max_load": 2.5,
    }
    assert _common.timed_runs_text(row) == "2.0 s (1.0-6.0; 1.5 s CPU), load 0.5-2.5"
    assert _common.timed_runs_cells(row) == "2.0 | 1.0-6.0 | 1.5 | 0.5-2.5"
