"""Time loading the CIFAR-10 image zip: decoding it, and reading its cache.

``load_image_folder_zip`` says how long decoding the 60,000 JPEGs of CIFAR-10
takes and how long a load from the ``cache_path`` it writes takes; this
script times the whole call, returning float32 pixels, three ways:

- ``decode``: no ``cache_path``, every image decoded from the zip;
- ``decode and write the cache``: a ``cache_path`` not yet written, so the
  images are decoded and then saved there (the first load with a cache);
- ``read the cache``: the same ``cache_path`` again, just written (so in the
  operating system's file cache, as on a later load soon after).

Each (way, repeat) runs in a fresh subprocess with one thread (torch, BLAS,
OpenMP); the table gives the median and range of the repeats' wall seconds,
their median CPU seconds, and the 1-minute load average as each run started:
on a shared machine the wall time grows with the load, the CPU time much less.

    python benchmarks/bench_image_cache.py [--data-dir ../shared/data]
        [--repeats 3] [--results-dir DIR]
"""

import argparse
import json
import sys
import tempfile
from functools import partial
from pathlib import Path

from _common import (
    add_results_dir,
    child_result,
    code_version,
    machine_description,
    require_data,
    stopped_by_signals,
    timed_run,
    timed_runs_cells,
    timed_runs_legend,
    timed_runs_summary,
    timed_runs_text,
    write_texts_atomic,
)

from skal_openset._argtypes import Parser, positive_int, user_path

RESULTS = Path(__file__).parent / "results"
DEFAULT_DATA = Path(__file__).parent.parent.parent / "shared" / "data"
ZIP_NAME = "cifar10-jpeg.zip"
# way: (its label in the table, whether the call is given the cache path)
WAYS = {
    "decode": ("decode, no cache_path", False),
    "write": ("decode and write the cache", True),
    "read": ("read the cache", True),
}


def measure(zip_path, cache_path):
    """One timed load in this process, with one thread; seconds and images."""
    import torch
    from threadpoolctl import threadpool_limits

    from skal_openset import CIFAR10_CLASSES, load_image_folder_zip

    torch.set_num_threads(1)
    # whether the call could read a cache rather than decode: a check of the way
    from_cache = cache_path is not None and Path(cache_path).exists()
    with threadpool_limits(1):
        (X_train, _, X_test, *_), timing = timed_run(
            partial(
                load_image_folder_zip, zip_path, CIFAR10_CLASSES, cache_path=cache_path
            )
        )
    return {
        **timing,
        "images": len(X_train) + len(X_test),
        "from_cache": from_cache,
    }


def run_child(zip_path, cache_path):
    command = [sys.executable, __file__, "--child", str(zip_path), str(cache_path)]
    return child_result(command)


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=user_path,
        default=DEFAULT_DATA,
        help=f"the folder holding {ZIP_NAME} (default: ../shared/data next to "
        "the repository)",
    )
    parser.add_argument(
        "--repeats",
        type=positive_int,
        default=3,
        help="timed runs of each way, each in a fresh process; the median is "
        "reported (default: 3)",
    )
    add_results_dir(parser, RESULTS, "image_cache.md and image_cache.json")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        zip_path, cache_path = args.child
        print(json.dumps(measure(zip_path, cache_path or None)))
        return
    zip_path = args.data_dir / ZIP_NAME
    require_data(parser, zip_path, "--data-dir", "image zip")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    runs = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            # a cache of its own each repeat: each write run decodes afresh
            cache = Path(folder) / f"cache-{repeat}.npz"
            for way, (_, cached) in WAYS.items():
                runs[way].append(run_child(zip_path, cache if cached else ""))
            cache.unlink()
    rows = []
    for way, (label, _) in WAYS.items():
        row = {
            "way": label,
            "images": runs[way][0]["images"],
            "from_cache": [r["from_cache"] for r in runs[way]],
            "runs": args.repeats,
            **timed_runs_summary(runs[way]),
        }
        rows.append(row)
        print(f"{label}: {timed_runs_text(row)}", flush=True)
    result = {
        "machine": machine_description(threads=1),
        "commit": code_version(),
        "zip": ZIP_NAME,
        "results": rows,
    }
    lines = [
        "# Loading the CIFAR-10 image zip: seconds a load",
        "",
        f"`python benchmarks/bench_image_cache.py --repeats {args.repeats}` at "
        f"commit {result['commit']}, on {ZIP_NAME}; machine: {result['machine']}. "
        "Each run a fresh process with one thread (torch, BLAS, OpenMP) timing "
        "one `load_image_folder_zip` call; seconds: the median (and range) of "
        f"the runs' wall time; {timed_runs_legend()} The cache is read just "
        "after it was written (in the operating system's file cache). What "
        "each way is: the script's docstring.",
        "",
        "| way | images | seconds | range | CPU seconds | load |",
        "| --- | --- | --- | --- | --- | --- |",
        *(f"| {r['way']} | {r['images']:,} | {timed_runs_cells(r)} |" for r in rows),
    ]
    write_texts_atomic(
        {
            args.results_dir / "image_cache.json": json.dumps(result, indent=2) + "\n",
            args.results_dir / "image_cache.md": "\n".join(lines) + "\n",
        }
    )


if __name__ == "__main__":
    # SIGTERM too: the temporary caches, 180 MB each for CIFAR-10, were left.
    with stopped_by_signals("no table written; its temporary caches removed"):
        main()
