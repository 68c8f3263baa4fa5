"""Time, memory and results of the package's neighbour searches and faiss-cpu's.

The package's own searches are timed against faiss-cpu's exact indexes. The
searches where one side grows with the pool and the other with the
labelled set (every other distance in the package is to a handful of centres,
or one pick at a time):

- ``knn_contrast``: :func:`knn_contrast_purity` with ``k=1``, MQ-Net's default
  purity; the labelled set half IN, half OOD. faiss: an ``IndexFlatL2`` per
  set on the unit rows, the distance to the neighbour found then taken from
  the difference in float64, as the package does.
- ``cosine``: :func:`cosine_purity`, ``MQNetQuery.paper()``'s purity, against
  the labelled set. faiss: ``IndexFlatIP`` on the unit rows.
- ``coreset``: CORESET's nearest labelled row of each pool row, as
  ``CoreSetQuery`` takes it: both sets scaled and centred on the pool
  (:func:`coreset_rows`, which the two backends share), then
  ``pairwise_distances_argmin``. faiss: ``IndexFlatL2`` on the same rows.

The embedding is synthetic, float32 as a net's: ``--features`` columns, 10
Gaussian clusters through a ReLU (a penultimate layer's rows are nonnegative).
Each (search, sizes, backend, repeat) runs in a fresh subprocess with one
thread (torch, BLAS and faiss's OpenMP), the two backends alternating, so
that load on a shared machine falls on both alike. ``MiB above inputs`` is the
process's peak resident memory (``ru_maxrss``) after the search minus before
it, the inputs already made. Agreement compares each repeat's results of the
two backends: the share of pool rows whose neighbour differs (for ``cosine``
and ``knn_contrast``, whose score differs: the package's purities give no
neighbours) and the largest score difference.

    python benchmarks/bench_neighbours.py [--pool-rows 100000 300000]
        [--labelled-rows 1000 10000] [--features 128] [--repeats 3]
        [--searches knn_contrast cosine coreset] [--backends current faiss]
        [--results-dir DIR]

faiss-cpu is optional (``pip install faiss-cpu``); without it, and without
``--backends``, only the package's own searches are timed.
"""

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    add_results_dir,
    child_result,
    gaussian_rows,
    machine_description,
    peak_mb,
    stopped_by_signals,
    write_texts_atomic,
)

import numpy as np
from sklearn.utils import gen_batches

from skal_openset._argtypes import Parser, Repeatable, positive_int
from skal_openset._strategies._base import power_of_two_scaled
from skal_openset._strategies._coreset import _centred_on_pool, _sq_distances

RESULTS = Path(__file__).parent / "results"
SEARCHES = ("knn_contrast", "cosine", "coreset")
BACKENDS = ("current", "faiss")
N_CLUSTERS = 10


def make_embedding(n_rows, n_features, seed):
    """Float32 rows of 10 Gaussian clusters through a ReLU.

    Drawn a block at a time (:func:`gaussian_rows`): a float64 copy of the
    whole would set a peak that hides the searches' own (their ``MiB above
    inputs`` came out 0).
    """
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=2.0, size=(N_CLUSTERS, n_features)).astype(np.float32)
    X = gaussian_rows(rng, n_rows, n_features, np.float32)
    cluster = rng.randint(N_CLUSTERS, size=n_rows)
    for block in gen_batches(n_rows, 1024):  # no float32 copy of the whole
        X[block] += centres[cluster[block]]
    return np.maximum(X, 0, out=X)


def current_search(search, pool, labelled):
    """The package's search: ``(scores, neighbours)``, either None (CORESET
    finds neighbours, scored by :func:`timed` after the search)."""
    from sklearn.metrics import pairwise_distances_argmin

    from skal_openset import cosine_purity, knn_contrast_purity

    if search == "knn_contrast":
        half = len(labelled) // 2
        return knn_contrast_purity(pool, labelled[:half], labelled[half:]), None
    if search == "cosine":
        return cosine_purity(pool, labelled), None
    return None, pairwise_distances_argmin(*coreset_rows(pool, labelled))


def coreset_rows(pool, labelled):
    """The pool and labelled rows as ``CoreSetQuery`` searches them: scaled by
    a power of two, then centred on the pool (copies: timed with the search)."""
    pool, labelled, _ = power_of_two_scaled(pool, labelled)
    return _centred_on_pool(pool, labelled)


def faiss_search(search, pool, labelled):
    """The same search by faiss's exact indexes, as :func:`current_search`."""
    import faiss

    from skal_openset._purity import _unit_rows

    def nearest(index, references, rows):
        index.add(np.ascontiguousarray(references, dtype=np.float32))
        return index.search(np.ascontiguousarray(rows, dtype=np.float32), 1)

    d = pool.shape[1]
    if search == "knn_contrast":
        half = len(labelled) // 2
        unit = _unit_rows(pool)
        scores, found = np.zeros(len(pool)), []
        for sign, references in ((-1, labelled[:half]), (1, labelled[half:])):
            references = _unit_rows(references)
            _, i = nearest(faiss.IndexFlatL2(d), references, unit)
            scores += sign * _norms(references[i[:, 0]], unit)
            found.append(i[:, 0])
        return scores, np.stack(found, axis=1)
    if search == "cosine":
        similarity, i = nearest(
            faiss.IndexFlatIP(d), _unit_rows(labelled), _unit_rows(pool)
        )
        return similarity[:, 0].astype(np.float64), i[:, 0]
    centred, centred_labelled = coreset_rows(pool, labelled)
    _, i = nearest(faiss.IndexFlatL2(d), centred_labelled, centred)
    return None, i[:, 0]


def _norms(rows, centres):
    """``||rows_i - centres_i||`` in float64, as :func:`knn_contrast_purity`
    takes them (torch's norm of the float64 differences)."""
    import torch

    diff = torch.from_numpy(np.subtract(rows, centres, dtype=np.float64))
    return torch.linalg.vector_norm(diff, dim=1).numpy()


def measure(search, backend, n_pool, n_labelled, n_features, seed, out):
    """One timed search in this process, with one thread (see :func:`timed`)."""
    import torch

    torch.set_num_threads(1)
    if backend == "faiss":
        import faiss

        faiss.omp_set_num_threads(1)
    return timed(search, backend, n_pool, n_labelled, n_features, seed, out)


def timed(search, backend, n_pool, n_labelled, n_features, seed, out):
    """Seconds and MiB above the inputs of one search; its scores and
    neighbours saved to `out` (.npz), for :func:`agreement`."""
    from threadpoolctl import threadpool_limits

    pool = make_embedding(n_pool, n_features, seed)
    labelled = make_embedding(n_labelled, n_features, seed + 10_000)
    run = faiss_search if backend == "faiss" else current_search
    before = peak_mb()
    with threadpool_limits(1):
        start = time.perf_counter()
        scores, neighbours = run(search, pool, labelled)
        seconds = time.perf_counter() - start
    mb = peak_mb() - before
    if scores is None:  # not the search's memory: CORESET scores in chunks
        scores = _sq_distances(pool, labelled[neighbours])
    no_neighbours = np.zeros(0, dtype=np.int64)
    np.savez(
        out,
        scores=scores,
        neighbours=no_neighbours if neighbours is None else neighbours,
    )
    return {"seconds": seconds, "mb": mb}


def run_child(search, backend, n_pool, n_labelled, n_features, seed, out):
    command = [sys.executable, __file__, "--child", search, backend]
    command += [str(v) for v in (n_pool, n_labelled, n_features, seed, out)]
    return child_result(command)


def agreement(a, b):
    """Share of rows whose neighbour (or, without one, score) differs, and the
    largest score difference, between two runs' saved results."""
    if a["neighbours"].size and b["neighbours"].size:
        differ = (a["neighbours"] != b["neighbours"]).reshape(len(a["scores"]), -1)
        differ = differ.any(axis=1)
    else:
        differ = a["scores"] != b["scores"]
    return float(differ.mean()), float(np.abs(a["scores"] - b["scores"]).max())


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pool-rows",
        type=positive_int,
        nargs="+",
        action=Repeatable,
        default=[100_000, 300_000],
        help="pool sizes, in rows (default: 100000 300000)",
    )
    parser.add_argument(
        "--labelled-rows",
        type=positive_int,
        nargs="+",
        action=Repeatable,
        default=[1_000, 10_000],
        help="labelled set sizes, in rows, at least 2 (default: 1000 10000)",
    )
    parser.add_argument(
        "--features",
        type=positive_int,
        default=128,
        help="the embedding's width (default: 128)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=3,
        help="runs of each search and backend, each in a fresh process; the "
        "median is reported (default: 3)",
    )
    parser.add_argument(
        "--searches",
        nargs="+",
        action=Repeatable,
        choices=SEARCHES,
        default=list(SEARCHES),
        help="the searches to time (default: all of them)",
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        action=Repeatable,
        choices=BACKENDS,
        help="the implementations to time (default: both where faiss-cpu is "
        "installed, else current)",
    )
    add_results_dir(parser, RESULTS, "neighbours_table.md and neighbours.json")
    parser.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        search, backend, *sizes, out = args.child
        print(json.dumps(measure(search, backend, *map(int, sizes), out)))
        return
    has_faiss = importlib.util.find_spec("faiss") is not None
    if args.backends is None:
        args.backends = list(BACKENDS) if has_faiss else ["current"]
        if not has_faiss:
            print("faiss-cpu is not installed: timing the package's searches only")
    elif "faiss" in args.backends and not has_faiss:
        parser.error(
            "argument --backends: faiss-cpu is not installed; pip install "
            "faiss-cpu, or pass --backends current"
        )
    if min(args.labelled_rows) < 2:
        parser.error(
            "argument --labelled-rows: must be at least 2 (half IN, half OOD), "
            f"got {min(args.labelled_rows)}"
        )
    args.results_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for n_pool in args.pool_rows:
            for n_labelled in args.labelled_rows:
                for search in args.searches:
                    runs = {backend: [] for backend in args.backends}
                    agree = []
                    for seed in range(args.repeats):
                        saved = {}
                        for backend in args.backends:  # alternating
                            saved[backend] = Path(scratch) / f"{backend}.npz"
                            runs[backend].append(
                                run_child(
                                    search,
                                    backend,
                                    n_pool,
                                    n_labelled,
                                    args.features,
                                    seed,
                                    saved[backend],
                                )
                            )
                        if len(saved) == 2:
                            with (
                                np.load(saved["current"]) as a,
                                np.load(saved["faiss"]) as b,
                            ):
                                agree.append(agreement(a, b))
                    row = {
                        "search": search,
                        "pool_rows": n_pool,
                        "labelled_rows": n_labelled,
                        "features": args.features,
                        "runs": args.repeats,
                    }
                    for backend, measured in runs.items():
                        for key in ("seconds", "mb"):
                            row[f"{backend}_{key}"] = statistics.median(
                                r[key] for r in measured
                            )
                    if agree:
                        row["ratio"] = row["current_seconds"] / row["faiss_seconds"]
                        row["rows_differing"] = max(share for share, _ in agree)
                        row["max_score_difference"] = max(d for _, d in agree)
                    rows.append(row)
                    print(
                        f"{search:12s} pool {n_pool:>9,d} labelled {n_labelled:>6,d}: "
                        + ", ".join(
                            f"{b} {row[f'{b}_seconds']:.2f} s {row[f'{b}_mb']:.0f} MiB"
                            for b in args.backends
                        ),
                        flush=True,
                    )
    result = {"machine": machine_description(threads=1), "backends": args.backends}
    if "faiss" in args.backends:  # its rows are that release's
        import faiss

        result["faiss"] = faiss.__version__
    result["results"] = rows
    write_texts_atomic(
        {
            args.results_dir / "neighbours.json": json.dumps(result, indent=2) + "\n",
            args.results_dir / "neighbours_table.md": _table(result),
        }
    )


def _table(result):
    """The results as a Markdown table."""
    backends = result["backends"]
    head = ["search", "pool rows", "labelled rows", "features", "runs"]
    for backend in backends:
        head += [f"{backend} s", f"{backend} MiB above inputs"]
    if len(backends) == 2:
        head += ["current / faiss", "rows differing", "largest score difference"]
    lines = [
        f"Median of the runs; machine: {result['machine']}"
        + (f", faiss {result['faiss']}." if "faiss" in result else "."),
        "",
        "| " + " | ".join(head) + " |",
        "|" + " --- |" * len(head),
    ]
    for r in result["results"]:
        cells = [
            r["search"],
            f"{r['pool_rows']:,}",
            f"{r['labelled_rows']:,}",
            str(r["features"]),
            str(r["runs"]),
        ]
        for backend in backends:
            cells += [f"{r[f'{backend}_seconds']:.2f}", f"{r[f'{backend}_mb']:.0f}"]
        if len(backends) == 2:
            cells += [
                f"{r['ratio']:.1f}",
                f"{r['rows_differing']:.4%}",
                f"{r['max_score_difference']:.1e}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # SIGTERM too (kill, SLURM): killed alone, it left its child running
    # and its scratch folder of saved scores.
    with stopped_by_signals("no table written; its temporary files removed"):
        main()
