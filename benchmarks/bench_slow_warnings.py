"""Time the calls the package warns are slow, at the sizes its warnings name.

Three warnings say how long a call takes past a size (their thresholds:
``grep -rn "_SLOW_" skal_openset``); each call is timed at the size from
which it warns and at half that size:

- ``SimilarQuery().query`` (no ``subsample``) of 20 examples from a whole pool
  of 25,000 and 50,000 rows (``_SLOW_POOL``), of 50 features and of 512 (a
  net's penultimate layer), the classifier a ``LogisticRegression`` fitted on
  200 labelled rows, so that the embedding is the input space. The labelled
  rows are drawn from the whole pool (IN and OOD), or from its IN rows only,
  as in a round before any OOD label: the objective then leaves no pool row
  out of the greedy search, which takes much longer (left out at 512
  features, too slow to run 3 times on a shared machine).
- ``mahalanobis_purity`` of 2,000 pool rows against 1,000 labelled IN rows of
  2,000, 4,000 (``_SLOW_COVARIANCE_FEATURES``, from which it warns) and
  5,000 features.
- ``EOALQuery().query`` of 20 examples from 2,000 pool rows of 5,000 and
  10,000 features (``_SLOW_FEATURES``), the classifier a
  ``LogisticRegression`` fitted on 200 labelled rows, IN and OOD.

The rows are float32, 10 Gaussian clusters, 4 of them IN (``bench_scale.py``'s
pool, as wide as the case). Each (call, size, repeat) runs in a fresh
subprocess with one thread (torch, BLAS, OpenMP); the table gives the median
and range of the repeats' wall seconds, their median CPU seconds, whether the
call warned, and the 1-minute load average as each run started: on a shared
machine the wall time grows with the load, the CPU time much less.

    python benchmarks/bench_slow_warnings.py [--repeats 3]
        [--calls SIMILAR mahalanobis_purity EOAL] [--results-dir DIR]
"""

import argparse
import json
import sys
import warnings
from functools import partial
from pathlib import Path

from _common import (
    NO_TABLE,
    add_results_dir,
    child_result,
    code_version,
    machine_description,
    stopped_by_signals,
    timed_run,
    timed_runs_cells,
    timed_runs_legend,
    timed_runs_summary,
    timed_runs_text,
    write_texts_atomic,
)

import numpy as np

from bench_scale import make_pool
from skal_openset._argtypes import Parser, Repeatable, positive_int
from skal_openset._purity import _SLOW_COVARIANCE_FEATURES
from skal_openset._strategies._eoal import _SLOW_FEATURES
from skal_openset._strategies._similar import _SLOW_POOL

RESULTS = Path(__file__).parent / "results"
N_LABELLED, N_QUERY = 200, 20
MAHALANOBIS_LABELLED, MAHALANOBIS_POOL, EOAL_POOL = 1000, 2000, 2000
# How each call's warning begins: whether the timed call warned.
WARNINGS = {
    "SIMILAR": "SimilarQuery compares every pair",
    "mahalanobis_purity": "mahalanobis_purity inverts a covariance",
    "EOAL": "EOALQuery fits a logistic regression per class",
}
# (call, pool rows, features, labelled rows drawn from the OOD ones too)
CASES = (
    *(("SIMILAR", rows, 50, True) for rows in (_SLOW_POOL // 2, _SLOW_POOL)),
    *(("SIMILAR", rows, 50, False) for rows in (_SLOW_POOL // 2, _SLOW_POOL)),
    *(("SIMILAR", rows, 512, True) for rows in (_SLOW_POOL // 2, _SLOW_POOL)),
    *(
        ("mahalanobis_purity", MAHALANOBIS_POOL, features, False)
        # half the width it warns from, that width, and one above it
        for features in (
            _SLOW_COVARIANCE_FEATURES // 2,
            _SLOW_COVARIANCE_FEATURES,
            5000,
        )
    ),
    *(("EOAL", EOAL_POOL, f, True) for f in (_SLOW_FEATURES // 2, _SLOW_FEATURES)),
)


def measure(call, n_rows, n_features, ood, seed):
    """One timed call in this process, with one thread; seconds and warning."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from skal_openset import ActiveLearner, EOALQuery, SimilarQuery, mahalanobis_purity

    torch.set_num_threads(1)
    n_labelled = MAHALANOBIS_LABELLED if call == "mahalanobis_purity" else N_LABELLED
    # Enough rows that the IN ones (4 clusters of 10) hold the labelled set.
    X, y = make_pool(n_rows + 3 * n_labelled, seed, n_features)
    rng = np.random.RandomState(seed)
    labelled = rng.choice(
        len(y) if ood else np.flatnonzero(y >= 0), n_labelled, replace=False
    )
    pool = np.setdiff1d(np.arange(len(y)), labelled)[:n_rows]
    with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if call == "mahalanobis_purity":
            timed = partial(mahalanobis_purity, X[pool], X[labelled], y[labelled])
        else:
            strategy = {"SIMILAR": SimilarQuery, "EOAL": EOALQuery}[call]
            learner = ActiveLearner(LogisticRegression(), strategy(random_state=seed))
            learner.fit(X[labelled], y[labelled])
            timed = partial(learner.query, X[pool], n_instances=N_QUERY)
        caught.clear()  # the fit's (a ConvergenceWarning) are not the call's
        _, timing = timed_run(timed)
    return {
        **timing,
        "warned": any(str(w.message).startswith(WARNINGS[call]) for w in caught),
    }


def run_child(case, seed):
    call, n_rows, n_features, ood = case
    command = [sys.executable, __file__, "--child", call, str(n_rows)]
    command += [str(n_features), str(int(ood)), str(seed)]
    return child_result(command)


def labelled_text(case):
    call, _, _, ood = case
    if call == "mahalanobis_purity":
        return f"{MAHALANOBIS_LABELLED:,} IN"
    return f"{N_LABELLED} IN and OOD" if ood else f"{N_LABELLED} IN only"


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=3,
        help="timed runs of each case, each in a fresh process; the median is "
        "reported (default: 3)",
    )
    parser.add_argument(
        "--calls",
        nargs="+",
        action=Repeatable,
        choices=list(WARNINGS),
        default=list(WARNINGS),
        help="the calls whose cases are timed (default: all of them)",
    )
    add_results_dir(parser, RESULTS, "slow_warnings.md and slow_warnings.json")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        call, n_rows, n_features, ood, seed = args.child
        measured = measure(call, int(n_rows), int(n_features), ood == "1", int(seed))
        print(json.dumps(measured))
        return
    args.results_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for case in (c for c in CASES if c[0] in args.calls):
        runs = [run_child(case, seed) for seed in range(args.repeats)]
        row = {
            "call": case[0],
            "pool_rows": case[1],
            "features": case[2],
            "labelled": labelled_text(case),
            "runs": args.repeats,
            "warned": [r["warned"] for r in runs],
            **timed_runs_summary(runs),
        }
        rows.append(row)
        print(
            f"{row['call']} {row['pool_rows']:,} rows x {row['features']:,}, "
            f"{row['labelled']}: {timed_runs_text(row)}",
            flush=True,
        )
    result = {
        "machine": machine_description(threads=1),
        "commit": code_version(),
        "results": rows,
    }
    # The command that gives this table: with --calls where it leaves some out.
    calls = [call for call in WARNINGS if call in args.calls]
    chosen = f" --calls {' '.join(calls)}" if len(calls) < len(WARNINGS) else ""
    lines = [
        "# The calls the package warns are slow: seconds a call",
        "",
        f"`python benchmarks/bench_slow_warnings.py --repeats {args.repeats}"
        f"{chosen}` at "
        f"commit {result['commit']}; machine: {result['machine']}. Each run a fresh "
        "process with one thread (torch, BLAS, OpenMP); seconds: the median (and "
        f"range) of the runs' wall time of the one call; {timed_runs_legend()} "
        "What each call is: the script's docstring.",
        "",
        "| call | pool rows | features | labelled rows | warns | seconds | range "
        "| CPU seconds | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *(
            f"| {r['call']} | {r['pool_rows']:,} | {r['features']:,} | "
            f"{r['labelled']} | "
            f"{'yes' if all(r['warned']) else 'no' if not any(r['warned']) else 'SOME'}"
            f" | {timed_runs_cells(r)} |"
            for r in rows
        ),
    ]
    write_texts_atomic(
        {
            args.results_dir / "slow_warnings.json": json.dumps(result, indent=2)
            + "\n",
            args.results_dir / "slow_warnings.md": "\n".join(lines) + "\n",
        }
    )


if __name__ == "__main__":
    # SIGTERM too (kill, SLURM): killed alone, it left its child running.
    with stopped_by_signals(NO_TABLE):
        main()
