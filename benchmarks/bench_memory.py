"""Peak memory of the two computations whose docstrings state it, and of a CSV read.

- ``MetaQueryNetSelector(init="rule").fit`` (MQNetQuery's default selector) on
  a synthetic self-validation set of ``--selector-rows`` rows (the one of
  ``bench_selector.py``), with glibc's default allocator and, in the same run,
  with ``MALLOC_MMAP_THRESHOLD_=131072`` in the environment, which returns
  freed temporaries to the system at once.
- ``cosine_purity`` (``MQNetQuery.paper()``'s purity) of ``--pool-rows`` rows
  against ``--labelled-rows`` labelled rows of 64 Gaussian features, in float32
  and float64, at scikit-learn's default ``working_memory`` (1 GiB) and at
  128 MiB.
- ``load_csv_table`` of a CSV file of ``--csv-rows`` rows of 50 uniform
  features (6 decimals) and an integer label, written before it is measured;
  and of that file with a non-breaking space before one value of its last
  row, which makes the reader check every value as a number in plain
  notation.

Each run is a fresh subprocess with one torch thread; ``MiB above inputs`` is
the process's peak resident memory (``ru_maxrss``) after the call minus before
it, the inputs already made. The table gives the median and the range of the
repeats, and the median seconds.

    python benchmarks/bench_memory.py [--repeats 3] [--selector-rows 4000]
        [--pool-rows 200000] [--labelled-rows 10000] [--csv-rows 200000]
        [--results-dir DIR]
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    NO_TABLE,
    add_results_dir,
    child_result,
    gaussian_rows,
    machine_description,
    peak_mb,
    stopped_by_signals,
    write_texts_atomic,
)

import numpy as np

from skal_openset._argtypes import Parser, positive_int

RESULTS = Path(__file__).parent / "results"
N_FEATURES = 64
CSV_FEATURES = 50
# Above this request size glibc serves (and frees) memory by mmap at once.
MMAP_THRESHOLD = "131072"
# (label, computation, dtype, working memory in MiB, environment added)
RUNS = (
    ("selector fit, glibc default", "selector", "float64", None, {}),
    (
        f"selector fit, MALLOC_MMAP_THRESHOLD_={MMAP_THRESHOLD}",
        "selector",
        "float64",
        None,
        {"MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD},
    ),
    ("cosine_purity, float32, working_memory=1024", "cosine", "float32", 1024, {}),
    ("cosine_purity, float32, working_memory=128", "cosine", "float32", 128, {}),
    ("cosine_purity, float64, working_memory=1024", "cosine", "float64", 1024, {}),
    (f"load_csv_table, {CSV_FEATURES} features", "csv", "float32", None, {}),
    (
        f"load_csv_table, {CSV_FEATURES} features, one non-breaking space",
        "csv_nbsp",
        "float32",
        None,
        {},
    ),
)


def write_csv(path, n_rows, rng, nbsp=False):
    """A CSV table of `n_rows` rows of CSV_FEATURES uniform features and an
    integer label, written 10,000 rows at a time: the writing's memory is
    not the read's; if `nbsp`, a non-breaking space begins the last row."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join([*(f"f{i}" for i in range(CSV_FEATURES)), "label"]) + "\n")
        for start in range(0, n_rows, 10_000):
            values = rng.uniform(-10, 10, (min(10_000, n_rows - start), CSV_FEATURES))
            f.writelines(
                ("\xa0" if nbsp and start + i == n_rows - 1 else "")
                + ",".join([*(f"{v:.6f}" for v in row), str(label)])
                + "\n"
                for i, (row, label) in enumerate(
                    zip(values, rng.randint(0, 8, len(values)))
                )
            )


def measure(computation, dtype, working_memory, sizes, seed):
    """Seconds and peak memory above the inputs of one call, in this process."""
    import sklearn
    import torch

    torch.set_num_threads(1)
    rng = np.random.RandomState(seed)
    folder = contextlib.ExitStack()
    if computation == "selector":
        from bench_selector import self_validation_set
        from skal_openset import MetaQueryNetSelector

        Z, y = self_validation_set(sizes["selector_rows"], rng)
        call = MetaQueryNetSelector(init="rule", random_state=seed).fit
        args = (Z, y)
    elif computation.startswith("csv"):
        from skal_openset import load_csv_table

        path = Path(folder.enter_context(tempfile.TemporaryDirectory())) / "table.csv"
        write_csv(path, sizes["csv_rows"], rng, nbsp=computation == "csv_nbsp")
        call, args = load_csv_table, (path,)
    else:
        from skal_openset import cosine_purity

        pool = gaussian_rows(rng, sizes["pool_rows"], N_FEATURES, dtype)
        labelled = gaussian_rows(rng, sizes["labelled_rows"], N_FEATURES, dtype)
        call, args = cosine_purity, (pool, labelled)
    with folder:  # removed once measured, not left to the process's end
        before = peak_mb()
        start = time.perf_counter()
        with sklearn.config_context(working_memory=working_memory or 1024):
            call(*args)
        return {"seconds": time.perf_counter() - start, "mb": peak_mb() - before}


def run_child(run, sizes, seed):
    _, computation, dtype, working_memory, environment = run
    command = [sys.executable, __file__, "--child", computation, dtype]
    command += [str(working_memory or 0), json.dumps(sizes), str(seed)]
    return child_result(command, env={**os.environ, **environment})


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=3,
        help="runs of each computation, each in a fresh process (default: 3)",
    )
    parser.add_argument(
        "--selector-rows",
        type=positive_int,
        default=4000,
        help="rows of the selector's self-validation set (default: 4000)",
    )
    parser.add_argument(
        "--pool-rows",
        type=positive_int,
        default=200_000,
        help="pool rows scored by cosine_purity (default: 200000)",
    )
    parser.add_argument(
        "--labelled-rows",
        type=positive_int,
        default=10_000,
        help="labelled rows cosine_purity compares with (default: 10000)",
    )
    parser.add_argument(
        "--csv-rows",
        type=positive_int,
        default=200_000,
        help="rows of the CSV table load_csv_table reads (default: 200000)",
    )
    add_results_dir(parser, RESULTS, "memory.md and memory.json")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        computation, dtype, working_memory, sizes, seed = args.child
        result = measure(
            computation, dtype, int(working_memory), json.loads(sizes), int(seed)
        )
        print(json.dumps(result))
        return
    sizes = {
        "selector_rows": args.selector_rows,
        "pool_rows": args.pool_rows,
        "labelled_rows": args.labelled_rows,
        "csv_rows": args.csv_rows,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for run in RUNS:
        measured = [run_child(run, sizes, seed) for seed in range(args.repeats)]
        mb = [m["mb"] for m in measured]
        row = {
            "run": run[0],
            "runs": args.repeats,
            "median_mb": statistics.median(mb),
            "min_mb": min(mb),
            "max_mb": max(mb),
            "seconds": statistics.median(m["seconds"] for m in measured),
        }
        rows.append(row)
        print(
            f"{row['run']}: {row['median_mb']:.0f} MiB ({row['min_mb']:.0f}-"
            f"{row['max_mb']:.0f}), {row['seconds']:.1f} s",
            flush=True,
        )
    result = {
        "machine": machine_description(threads=1),
        "sizes": sizes,
        "results": rows,
    }
    lines = [
        f"Median (and range) of {args.repeats} runs, each a fresh process; "
        f"machine: {result['machine']}.",
        "",
        f"Selector: `MetaQueryNetSelector(init='rule').fit` on "
        f"{args.selector_rows:,} rows. cosine_purity: {args.pool_rows:,} pool rows "
        f"against {args.labelled_rows:,} labelled rows of {N_FEATURES} features. "
        f"load_csv_table: {args.csv_rows:,} rows of {CSV_FEATURES} features.",
        "",
        "| run | MiB above inputs | range | seconds |",
        "| --- | --- | --- | --- |",
        *(
            f"| {r['run']} | {r['median_mb']:.0f} | {r['min_mb']:.0f}-"
            f"{r['max_mb']:.0f} | {r['seconds']:.1f} |"
            for r in rows
        ),
    ]
    write_texts_atomic(
        {
            args.results_dir / "memory.json": json.dumps(result, indent=2) + "\n",
            args.results_dir / "memory.md": "\n".join(lines) + "\n",
        }
    )


if __name__ == "__main__":
    # SIGTERM too (kill, SLURM): killed alone, it left its child running.
    with stopped_by_signals(NO_TABLE):
        main()
