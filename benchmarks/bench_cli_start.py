"""Time the skal-openset command's answers that do no work: --help and --version.

Each case is a fresh ``python`` process, its output thrown away, the package
importable from this checkout; the cases alternate within each repeat, so
that a change in the machine's load falls on all of them. The baselines, in
the same run: ``python -c pass`` (Python's own start) and ``python -c "import
skal_openset"`` (the package, whose public names load on first use). The
table gives the median and range of each case's wall seconds, the median of
its CPU seconds, and the 1-minute load average as each run started.

Run: python benchmarks/bench_cli_start.py [--repeats 7] [--results-dir DIR]
"""

import json
import os
import resource
import subprocess
import sys
from functools import partial
from pathlib import Path

from _common import (
    NO_TABLE,
    add_results_dir,
    code_version,
    machine_description,
    run_script,
    stopped_by_signals,
    timed_run,
    timed_runs_cells,
    timed_runs_legend,
    timed_runs_summary,
    timed_runs_text,
    write_tables_then_print,
)

from skal_openset._argtypes import Parser, positive_int

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
# (case, the arguments of python): the baselines first. Seconds to 2 decimals:
# Python's own start takes a few hundredths.
CASES = (
    ("python -c pass", ["-c", "pass"]),
    ('python -c "import skal_openset"', ["-c", "import skal_openset"]),
    ("python -m skal_openset --help", ["-m", "skal_openset", "--help"]),
    ("python -m skal_openset --version", ["-m", "skal_openset", "--version"]),
)


def _children_cpu_seconds():
    """CPU seconds of this process's ended children, user and system."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_case(arguments):
    """A :func:`timed_run` of ``python *arguments``, its CPU seconds the
    child's (the timing process's own are nearly none)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, *arguments]
    before = _children_cpu_seconds()
    _, run = timed_run(partial(run_script, command, env=env, stdout=subprocess.DEVNULL))
    return {**run, "cpu_seconds": _children_cpu_seconds() - before}


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=7,
        help="runs of each case, each a fresh process (default: 7)",
    )
    add_results_dir(parser, RESULTS, "cli_start.md and cli_start.json")
    args = parser.parse_args()
    runs = {case: [] for case, _ in CASES}
    for _ in range(args.repeats):
        for case, arguments in CASES:
            runs[case].append(timed_case(arguments))
    rows = []
    for case, _ in CASES:
        row = {"case": case, "runs": args.repeats, **timed_runs_summary(runs[case])}
        rows.append(row)
        print(f"{case}: {timed_runs_text(row, digits=2)}", flush=True)
    result = {
        "machine": machine_description(),
        "commit": code_version(),
        "results": rows,
    }
    lines = [
        "# The skal-openset command's start: --help and --version",
        "",
        f"`python benchmarks/bench_cli_start.py --repeats {args.repeats}` at "
        f"commit {result['commit']}; machine: {result['machine']}. Each run a "
        "fresh process, its output thrown away, the cases alternating; seconds: "
        f"the median (and range) of the runs' wall time; {timed_runs_legend()}",
        "",
        "| case | seconds | range | CPU seconds | load |",
        "| --- | --- | --- | --- | --- |",
        *(f"| `{r['case']}` | {timed_runs_cells(r, digits=2)} |" for r in rows),
    ]
    args.results_dir.mkdir(parents=True, exist_ok=True)
    write_tables_then_print(
        {
            args.results_dir / "cli_start.json": json.dumps(result, indent=2) + "\n",
            args.results_dir / "cli_start.md": "\n".join(lines) + "\n",
        },
        "\n".join(lines),
    )


if __name__ == "__main__":
    # A closed pipe (| head -1), Ctrl-C or SIGTERM: one line, no traceback.
    with stopped_by_signals(NO_TABLE):
        main()
