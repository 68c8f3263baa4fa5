"""TargetNet training speed: batches cut from the arrays against skorch's collation.

``TargetNet`` trains on in-memory arrays with batches cut from them a batch
at once, and builds no log table for an epoch it does not print. skorch's
defaults fetch every row on its own and collate the batch, and tabulate every
epoch's log even at ``verbose=0``. This fits the same nets both ways, the two
alternating so that a change in the machine's load falls on both, and
reports the median fit seconds of each, their ratio and whether the trained
weights are bitwise identical (they must be: the batches are the same rows in
the same order, drawn by the same sampler).

The nets are those the library's jobs train most: the demo's MLP (128 hidden
units, 50 epochs) on digits at the sizes of its labelled set (20 rows, the
initial set, to 100 after 4 rounds), and the tabular benchmark's MLP (40
epochs) at letter's sizes (100 to 900 rows of 16 features); the CNN of
Fashion-MNIST is left out, as convolutions dominate its time.

Run: python benchmarks/bench_training.py [--repeats 7] [--results-dir DIR]
"""

import json
import statistics
import time
from pathlib import Path

from _common import (
    NO_TABLE,
    add_results_dir,
    cell_threads,
    machine_description,
    stopped_by_signals,
    write_tables_then_print,
)

import numpy as np
import torch
from sklearn.datasets import load_digits
from skorch.callbacks import PrintLog

from skal_openset import make_mlp_classifier
from skal_openset._argtypes import Parser, positive_int

RESULTS = Path(__file__).parent / "results"
# (name, rows, features, classes, epochs): the nets of the demo and the tables.
CASES = (
    ("demo MLP, 20 rows (round 1)", 20, 64, 4, 50),
    ("demo MLP, 100 rows (round 5)", 100, 64, 4, 50),
    ("letter MLP, 100 rows (round 1)", 100, 16, 10, 40),
    ("letter MLP, 900 rows (round 9)", 900, 16, 10, 40),
)
# skorch's own training path: rows collated one by one, every epoch tabulated.
SKORCH_DEFAULTS = dict(
    iterator_train__collate_fn=torch.utils.data.default_collate,
    callbacks__print_log=PrintLog(),
)


def data(n_rows, n_features, n_classes, rng):
    """Digits' pixels where they have enough columns, else random ones."""
    X, y = load_digits(return_X_y=True)
    if n_features != X.shape[1]:
        X = rng.normal(size=(len(X), n_features))
    rows = rng.choice(np.flatnonzero(y < n_classes), n_rows, replace=False)
    return X[rows].astype(np.float32), y[rows]


def net(n_features, n_classes, epochs, **params):
    return make_mlp_classifier(
        n_features,
        n_classes,
        hidden_sizes=(128,),
        max_epochs=epochs,
        random_state=0,
        **params,
    )


def weights(fitted):
    return [p.detach().clone() for p in fitted.module_.parameters()]


def timed_fit(X, y, n_classes, epochs, params):
    """(seconds, fitted net) of one fit."""
    start = time.perf_counter()
    fitted = net(X.shape[1], n_classes, epochs, **params).fit(X, y)
    return time.perf_counter() - start, fitted


def compare(case, rng, repeats):
    """Median fit seconds both ways, and whether the weights are identical."""
    name, n_rows, n_features, n_classes, epochs = case
    X, y = data(n_rows, n_features, n_classes, rng)
    times, identical = {"library": [], "skorch": []}, True
    for _ in range(repeats):
        seconds, ours = timed_fit(X, y, n_classes, epochs, {})
        times["library"].append(seconds)
        seconds, theirs = timed_fit(X, y, n_classes, epochs, SKORCH_DEFAULTS)
        times["skorch"].append(seconds)
        identical &= all(map(torch.equal, weights(ours), weights(theirs)))
    library, skorch = (statistics.median(times[k]) for k in ("library", "skorch"))
    print(
        f"{name}: {library:.3f} s against skorch's {skorch:.3f} s "
        f"({skorch / library:.2f}x), identical weights: {identical}",
        flush=True,
    )
    return dict(case=name, library=library, skorch=skorch, identical=identical)


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=7,
        help="fits of each net each way (default: 7)",
    )
    add_results_dir(parser, RESULTS, "training.md and training.json")
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    rows = []
    with cell_threads("cpu") as threads:  # as the benchmark's cells train
        for case in CASES:
            rows.append(compare(case, rng, args.repeats))
    lines = [
        "# TargetNet training: batches cut at once against skorch's collation",
        "",
        f"`python benchmarks/bench_training.py --repeats {args.repeats}`; "
        f"{machine_description(threads)}. Median fit seconds of {args.repeats} fits "
        "each, the two ways alternating; the same net and seed both ways.",
        "",
        "| net | TargetNet (s) | skorch's path (s) | speed-up | identical weights |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['case']} | {r['library']:.3f} | {r['skorch']:.3f} | "
        f"{r['skorch'] / r['library']:.2f}x | {'yes' if r['identical'] else 'NO'} |"
        for r in rows
    ]
    args.results_dir.mkdir(parents=True, exist_ok=True)
    write_tables_then_print(
        {
            args.results_dir / "training.json": json.dumps(rows),
            args.results_dir / "training.md": "\n".join(lines) + "\n",
        },
        "\n".join(lines),
    )


if __name__ == "__main__":
    # A closed pipe (| head -1), Ctrl-C or SIGTERM: one line, no traceback.
    with stopped_by_signals(NO_TABLE):
        main()
