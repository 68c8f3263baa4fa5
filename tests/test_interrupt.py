"""Ctrl-C (SIGINT) at several moments of the benchmark and the demo, and
SIGTERM in the benchmark.

Each run is a subprocess in its own session; SIGINT goes to its whole process
group, as a terminal's Ctrl-C does. A run must then exit non-zero and leave
only complete, valid output: finished benchmark cells identical to those of an
uninterrupted run, demo files either absent or whole.
"""

import csv
import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from _cells import read_cell

ROOT = Path(__file__).parents[1]
pytestmark = pytest.mark.slow
TIMING_KEYS = {"seconds", "train_seconds", "query_seconds", "checksum"}
# Only a hang reaches it, no timing of a run: a deadline of 120 s stopped the
# reference run on a busy machine (it took 100 s on 2 cores at a load of 5).
HANG_GUARD_SECONDS = 1800


def _ctrl_c_as_from_a_terminal():
    # A process started from a background job inherits SIGINT ignored, and
    # would run on through the test's Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        preexec_fn=_ctrl_c_as_from_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def hung(process, what):
    """Kill `process` and fail the test: it did not get to `what` within
    HANG_GUARD_SECONDS."""
    os.killpg(process.pid, signal.SIGKILL)
    output, _ = process.communicate()
    pytest.fail(
        f"hang guard: the run did not {what} in {HANG_GUARD_SECONDS} s, far "
        f"longer than a busy machine takes; it hangs. Its output:\n{output}"
    )


def finish(process):
    """The exit status and output of `process` once it ends."""
    try:
        output, _ = process.communicate(timeout=HANG_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        hung(process, "end")
    return process.returncode, output


def interrupt(process, when, signum=signal.SIGINT):
    """Wait until ``when()`` is true (or the process ends), then Ctrl-C it (or
    send it `signum`); its exit status and output once it ends."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    while not when() and process.poll() is None:
        if time.monotonic() > deadline:  # else it was interrupted anyway
            hung(process, "get to the moment of the interrupt")
        time.sleep(0.01)
    if process.poll() is None:
        os.killpg(process.pid, signum)
    return finish(process)


def benchmark(results, data_dir):
    return start(
        [
            "benchmarks/openset_benchmark.py",
            "--results-dir",
            str(results),
            "run",
            "tabular",
            "--quick",
            "--n-jobs",
            "1",
            "--data-dir",
            str(data_dir),
        ]
    )


def interrupted_benchmark(results, data_dir, after_cells, signum):
    """Run the quick benchmark; send it `signum` once `after_cells` cells are
    written (None: a second after it starts, still importing)."""
    process = benchmark(results, data_dir)
    if after_cells is None:
        started = time.monotonic()
        return interrupt(process, lambda: time.monotonic() > started + 1, signum)
    return interrupt(process, lambda: len(cells_of(results)) >= after_cells, signum)


def cells_of(results):
    return {p.name: p for p in (results / "cells").glob("*/*.json")}


def without_timing(value):
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


@pytest.fixture(scope="module")
def reference(tiny_data_dir, tmp_path_factory):
    """The data folder and the cells of an uninterrupted run of the whole quick
    benchmark, run once for all workers of pytest -n (the folders of a
    session's workers share a parent): by the first to need it, on its data
    folder (a cell names the path of its table), while the others wait."""
    shared = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        shared = shared.parent
    outcome = shared / "interrupt_reference.json"
    with (shared / "interrupt_reference.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released as the file closes
        if not outcome.exists():
            results = tempfile.mkdtemp(prefix="interrupt_reference", dir=shared)
            returncode, output = finish(benchmark(results, tiny_data_dir))
            run = [str(tiny_data_dir), results, returncode, output]
            outcome.write_text(json.dumps(run))
        data_dir, results, returncode, output = json.loads(outcome.read_text())
    assert returncode == 0, output
    cells = {name: read_cell(path) for name, path in cells_of(Path(results)).items()}
    return Path(data_dir), cells


@pytest.mark.parametrize(
    "after_cells, signum",
    [
        (None, signal.SIGINT),
        (5, signal.SIGINT),
        # What timeout, kill, docker stop and SLURM send: it killed the run
        # at once, a cell's save included (its .tmp file was left).
        (5, signal.SIGTERM),
    ],
)
def test_sigint_or_sigterm_stops_benchmark_keeping_only_whole_cells(
    after_cells, signum, reference, tmp_path
):
    # Still importing, the Ctrl-C is held until torch and scikit-learn are
    # loaded (_common): raised in them, CPython could drop it in importlib's
    # module-lock callback, and the run went on to its end, status 0.
    data_dir, reference_cells = reference
    returncode, output = interrupted_benchmark(tmp_path, data_dir, after_cells, signum)
    if signum == signal.SIGTERM:
        assert returncode == 143, output
        assert output.splitlines()[-1] == (
            "Interrupted (SIGTERM): finished cells and report files are kept whole; "
            "rerun to finish the rest."
        )
    assert returncode != 0, output
    cells = cells_of(tmp_path)
    assert len(cells) < len(reference_cells)
    for name, path in cells.items():
        # Whole, and the same result as without the interrupt (skorch alone
        # would have saved a half-trained model's accuracy here).
        assert without_timing(read_cell(path)) == without_timing(reference_cells[name])
    assert not list(tmp_path.rglob("*.tmp"))


def check_demo_output(folder):
    """Every demo file present is complete; no temporary file is left."""
    assert not list(folder.rglob("*.tmp"))
    if (folder / "records.csv").exists():
        with (folder / "records.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows and all(None not in row.values() for row in rows)
    if (folder / "summary.json").exists():
        assert json.loads((folder / "summary.json").read_text())
    if (folder / "learning_curves.png").exists():
        from PIL import Image

        with Image.open(folder / "learning_curves.png") as image:
            image.verify()


@pytest.mark.parametrize("after_lines", [0, 1])
def test_sigint_stops_demo_without_partial_output(after_lines, tmp_path):
    output_dir = tmp_path / "demo"
    process = start(
        [
            "-m",
            "skal_openset",
            "demo",
            "--output",
            str(output_dir),
            "--trials",
            "3",
            "--rounds",
            "6",
            "--budget",
            "20",
        ]
    )
    lines = []

    def printed_enough():
        # The demo prints one line per finished strategy.
        lines.append(process.stdout.readline())
        return sum("final accuracy" in line for line in lines) >= after_lines

    if after_lines == 0:  # still importing or in the first run
        started = time.monotonic()
        returncode, output = interrupt(process, lambda: time.monotonic() > started + 2)
    else:
        returncode, output = interrupt(process, printed_enough)
    assert returncode != 0, "".join(lines) + output
    check_demo_output(output_dir)
