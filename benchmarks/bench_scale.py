"""Time and peak memory of one 500-example query on a large pool, per strategy.

The pool is synthetic: 64 features, 10 Gaussian clusters of equal size, 4 of
them IN (labels 0..3), the others OOD. A skorch MLP (``make_mlp_classifier``,
its defaults) is trained on 500 random labelled rows; MQ-Net first queries and
learns from a 5,000-row sample, so that the timed query runs its trained
selector. ``CPU seconds`` is the process's CPU time during the query (all
threads), steadier than wall time on a shared machine. Each (strategy, rows,
repeat) runs in a fresh subprocess, so peak memory is the process's
``ru_maxrss`` (torch allocations included, which tracemalloc does not see).
``query MB`` is the peak during the query minus the peak before it, i.e. the
memory the query needs above the pool array, model and interpreter.

    python benchmarks/bench_scale.py [--rows 100000 1000000] [--repeats 3 1]
        [--strategies RANDOM CONF MQ-Net BADGE CORESET] [--output scale]
        [--results-dir DIR]
"""

import argparse
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path

from _common import (
    NO_TABLE,
    add_results_dir,
    child_result,
    machine_description,
    peak_mb,
    stopped_by_signals,
    write_texts_atomic,
)

import numpy as np

from skal_openset._argtypes import Parser, Repeatable, positive_int

RESULTS = Path(__file__).parent / "results"
N_FEATURES, N_CLUSTERS, N_IN, N_LABELLED, N_QUERY = 64, 10, 4, 500, 500
STRATEGIES = ("RANDOM", "CONF", "MQ-Net", "BADGE", "CORESET")
N_MQNET_SAMPLE = 5000  # MQ-Net's first query and update, before the timed one


def make_pool(n_rows, seed, n_features=N_FEATURES):
    """Float32 pool of 10 Gaussian clusters, made in chunks (no float64 spike);
    labels 0..3 for the IN clusters, -1 for the others."""
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=2.0, size=(N_CLUSTERS, n_features)).astype(np.float32)
    cluster = rng.randint(N_CLUSTERS, size=n_rows)
    X = np.empty((n_rows, n_features), dtype=np.float32)
    for start in range(0, n_rows, 65536):
        part = slice(start, start + 65536)
        X[part] = rng.standard_normal((len(X[part]), n_features))
        X[part] += centres[cluster[part]]
    y = np.where(cluster < N_IN, cluster, -1)
    return X, y


def measure(name, n_rows, seed, threads):
    """One timed query in this process; returns seconds and memory."""
    import torch

    torch.set_num_threads(threads)
    from skal_openset import (
        ActiveLearner,
        BadgeQuery,
        CoreSetQuery,
        MQNetQuery,
        RandomQuery,
        UncertaintyQuery,
        make_mlp_classifier,
    )

    strategies = {
        "RANDOM": RandomQuery,
        "CONF": UncertaintyQuery,
        # 60% of the pool is OOD, where the default ranks by the rule P + I and
        # fits no selector: the timed query is the learnt selector's.
        "MQ-Net": partial(MQNetQuery, rule_weight=0),
        "BADGE": BadgeQuery,
        "CORESET": CoreSetQuery,
    }
    X, y = make_pool(n_rows, seed)
    rng = np.random.RandomState(seed)
    labelled = rng.choice(n_rows, N_LABELLED, replace=False)
    learner = ActiveLearner(
        make_mlp_classifier(N_FEATURES, N_IN, random_state=seed),
        strategies[name](random_state=seed),
    ).fit(X[labelled], y[labelled])
    if name == "MQ-Net":
        sample = rng.choice(n_rows, N_MQNET_SAMPLE, replace=False)
        chosen, X_query = learner.query(X[sample], n_instances=N_QUERY)
        learner.query_strategy_.update(learner, X_query, y[sample][chosen])
    before = peak_mb()
    start, cpu_start = time.perf_counter(), time.process_time()
    learner.query(X, n_instances=N_QUERY)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu_start,
        "peak_mb": peak_mb(),
        "query_mb": peak_mb() - before,
        "pool_mb": X.nbytes / 2**20,
        "torch_threads": torch.get_num_threads(),
    }


def run_child(name, n_rows, seed, threads):
    command = [sys.executable, __file__, "--child", name, str(n_rows), str(seed)]
    command += ["--threads", str(threads)]
    return child_result(command)


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        type=positive_int,
        nargs="+",
        action=Repeatable,
        default=[100_000, 1_000_000],
        help="pool sizes to time a query on, in rows; each at least "
        f"{N_LABELLED}, {N_MQNET_SAMPLE} with MQ-Net (default: 100000 1000000)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        nargs="+",
        action=Repeatable,
        help="timed runs per --rows entry, each in a fresh process, the last for "
        "the entries after it; the median is reported (default: 3 1)",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        action=Repeatable,
        choices=STRATEGIES,
        default=list(STRATEGIES),
        help="the strategies whose query is timed (default: all of them)",
    )
    parser.add_argument(
        "--output",
        default="scale",
        help="the name of the files written, without .md and .json; may hold a "
        "folder, e.g. sub/scale (default: scale)",
    )
    add_results_dir(parser, RESULTS, "<output>.md and <output>.json")
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="torch threads of each run (default: 1, robust on a busy machine)",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, n_rows, seed = args.child
        print(json.dumps(measure(name, int(n_rows), int(seed), args.threads)))
        return
    # Each run labels N_LABELLED rows first; MQ-Net then learns from a sample.
    need, why = N_LABELLED, "the rows labelled first"
    if "MQ-Net" in args.strategies:
        need, why = N_MQNET_SAMPLE, "the sample of MQ-Net's first query"
    if min(args.rows) < need:
        parser.error(
            f"argument --rows: must be at least {need} ({why}), got {min(args.rows)}"
        )
    if args.repeats and len(args.repeats) > len(args.rows):  # zip dropped the rest
        parser.error(
            f"argument --repeats: {len(args.repeats)} values for "
            f"{len(args.rows)} --rows entries; give at most one per --rows entry"
        )
    repeats = args.repeats or [3, 1]
    # Before the timings: --output may name a folder (sub/scale).
    (args.results_dir / args.output).parent.mkdir(parents=True, exist_ok=True)
    repeats = repeats + repeats[-1:] * len(args.rows)
    rows = []
    for n_rows, n_repeats in zip(args.rows, repeats):
        for name in args.strategies:
            runs = [
                run_child(name, n_rows, seed, args.threads) for seed in range(n_repeats)
            ]
            row = {
                "strategy": name,
                "rows": n_rows,
                "runs": n_repeats,
                **{
                    key: statistics.median(r[key] for r in runs)
                    for key in (
                        "seconds",
                        "cpu_seconds",
                        "peak_mb",
                        "query_mb",
                        "pool_mb",
                    )
                },
            }
            rows.append(row)
            print(
                f"{name:8s} {n_rows:>9,d} rows: {row['seconds']:6.1f} s "
                f"({row['cpu_seconds']:.1f} s CPU), "
                f"query {row['query_mb']:6.0f} MB, peak {row['peak_mb']:6.0f} MB",
                flush=True,
            )
    import torch

    torch.set_num_threads(args.threads)  # so that the description says so
    result = {"machine": machine_description(), "results": rows}
    lines = [
        f"Median of the runs; machine: {result['machine']}.",
        "",
        "| strategy | pool rows | runs | seconds | CPU seconds | query MB above pool "
        "| peak MB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *(
            f"| {r['strategy']} | {r['rows']:,} | {r['runs']} | {r['seconds']:.1f} "
            f"| {r['cpu_seconds']:.1f} | {r['query_mb']:.0f} | {r['peak_mb']:.0f} |"
            for r in rows
        ),
    ]
    json_text = json.dumps(result, indent=2) + "\n"
    write_texts_atomic(
        {
            args.results_dir / f"{args.output}.json": json_text,
            args.results_dir / f"{args.output}.md": "\n".join(lines) + "\n",
        }
    )


if __name__ == "__main__":
    # SIGTERM too (kill, SLURM): killed alone, it left its child running.
    with stopped_by_signals(NO_TABLE):
        main()
