"""One command for a 15-minute GPU lease: CIFAR-10 split [4,2,5,7] at 40% noise.

    python benchmarks/cut_cifar_zip.py --split 0 --out .lease/split0.zip
    python benchmarks/gpu_cifar.py --wheels WHEELS --data .lease/split0.zip --out "$OUT"

(the cut zip, 32 MiB, and the repository fit the lease's 64 MiB; the whole
zip, 52 MB, does not).

1. Installs what a bare GPU machine lacks (skorch; torch, numpy, scikit-learn
   and Pillow are assumed present) from ``--wheels``, a folder filled
   beforehand with ``pip download skorch tabulate -d WHEELS --no-deps``
   (no network needed on the GPU machine).
2. Times the fast target recipe on the reference setting of issue 11
   (``--reference-labels`` random IN labels of split [4,2,5,7], tested on
   its IN test images; goal >= 86.2% in <= 30 s on an H200).
3. Runs the ``gpu-defaults`` preset of ``benchmarks/cifar.py`` (``--preset``):
   MQ-Net, MQ-Net (no meta-model), RANDOM and CONF, b = 500, 10 rounds, the
   contrastive encoder fitted first; the cells finished under
   ``--cache-dir`` are skipped (not the committed ones: name the columns
   still to run with ``--strategies``).
4. Writes ``summary.json`` (wall times, device, final accuracies),
   ``records.csv`` (every round) and ``cells.zip`` (the cell files) to
   ``--out``; ``cells.zip`` and ``progress.txt`` are rewritten after each
   strategy, so a lease cut off mid-run keeps the cells that finished.
   Every name in ``--out`` is letters, digits, ``.`` and ``_`` (the device
   tool returns no other names; cell file names hold ``=``).

On an H200 (2026-11-29) the reference check, decoding the images, the
encoder and the first three strategies finished within a 10-minute command,
the fourth did not: ``--strategies`` splits the preset over commands (a
warm machine's ``--cache-dir`` keeps the finished cells and the encoder; it
goes back after 30 s idle, so call again at once). On 2026-12-04 the two
MQ-Net columns of ``gpu-defaults`` finished after 393 s; RANDOM and CONF
(about 140 s side by side) are still to run.

``--n-jobs N`` runs N strategies at a time on the one device, each in its
own process, in ``--strategies`` order; the cells are zipped after each
group, so list first the strategies that matter most. On an H200
(2026-11-30) two at a time ran CONF and RANDOM in 140 s of wall time against
189 s one after the other (1.35x, one run each: issue13-gpu-lease.md).

``--preset tiny --device cpu`` runs the same path on a few images (CI).
"""

import argparse
import importlib.util
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).parent


def install_missing(wheels):
    """pip-install skorch from a local wheel folder if it is not importable."""
    if importlib.util.find_spec("skorch") is not None:
        return False
    if wheels is None:
        raise SystemExit("skorch is missing: pass --wheels DIR holding its wheel.")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-index",
            "--find-links",
            str(wheels),
            "skorch",
        ],
        check=True,
    )
    return True


def reference_check(data, cache_dir, device, n_labels, config):
    """Accuracy and seconds of the fast recipe on ``n_labels`` random IN images."""
    import numpy as np
    import torch

    from cifar import load_cifar
    from skal_openset import make_cifar_split, make_fast_resnet_classifier

    # noise 0: the pool is every IN training image of split [4,2,5,7]
    split = make_cifar_split(
        *load_cifar(data, cache_dir), split=0, noise_ratio=0.0, budget=1
    )
    rows = np.random.RandomState(0).choice(
        len(split.y_pool), min(n_labels, len(split.y_pool)), replace=False
    )
    net = make_fast_resnet_classifier(4, device=device, random_state=0, **config)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    net.fit(split.X_pool[rows], split.y_pool[rows])
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    accuracy = net.score(split.X_test, split.y_test)
    return {"n_labels": len(rows), "accuracy": accuracy, "fit_seconds": seconds}


def pack_cells(archive, paths, results):
    """Zip the files `paths`, named relative to `results`, into `archive`,
    whole or not at all.

    The archive is rewritten after each group of strategies, so that the
    cells finished outlive the lease; stopped while it was rewritten (the
    lease's time limit), it was left truncated, every earlier group's cells
    lost with it.
    """
    # Not at the top: skorch, which it imports, may be installed by main.
    from _common import open_atomic

    with open_atomic(archive, "wb") as file, zipfile.ZipFile(file, "w") as packed:
        for path in paths:
            packed.write(path, Path(path).relative_to(results))


def main(argv=None):
    # A copy of the tree, not installed there: the package is in its root.
    sys.path[:0] = [str(HERE), str(HERE.parent)]
    # Neither imports torch nor skorch, which may yet be installed below.
    from skal_openset._argtypes import Parser, Repeatable, user_path

    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=user_path,
        required=True,
        help="the folder summary.json, records.csv, cells.zip and progress.txt "
        "are written to, made if missing",
    )
    parser.add_argument(
        "--wheels",
        type=user_path,
        default=None,
        help="a folder of wheels (pip download skorch tabulate -d WHEELS "
        "--no-deps) that skorch is installed from if this machine lacks it "
        "(default: none; skorch must then be installed already)",
    )
    parser.add_argument(
        "--data",
        type=user_path,
        default=HERE.parent.parent / "shared" / "data" / "cifar10-jpeg.zip",
        help="the CIFAR-10 image-folder zip or pickle folder (default: "
        "../shared/data/cifar10-jpeg.zip next to the repository)",
    )
    parser.add_argument(
        "--cache-dir",
        type=user_path,
        default=HERE / ".cache",
        help="where the decoded images, the fitted encoders and the cells "
        "(results/) are kept between commands (default: benchmarks/.cache)",
    )
    parser.add_argument(
        "--preset",
        default="gpu-defaults",
        help="the preset of benchmarks/cifar.py to run, e.g. tiny with --device "
        "cpu for CI (default: gpu-defaults)",
    )
    parser.add_argument(
        "--device",
        default="cuda",
        help="torch device of the reference check and the run (default: cuda)",
    )
    parser.add_argument(
        "--reference-labels",
        type=int,
        default=4500,
        help="random IN training images of split [4,2,5,7] that the reference "
        "check fits the fast recipe on, before testing it on the split's IN test "
        "images (default: 4500)",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        action=Repeatable,
        default=None,
        help="run only these columns of the preset, in this order (default: "
        "every column of the preset)",
    )
    parser.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="strategies run at a time on the one device, each in its own "
        "process (default: 1)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    installed = install_missing(args.wheels)

    from _common import (
        INTERRUPTED,
        machine_description,
        missing_device_error,
        stopped_by_signals,
        torch_device,
        write_text_atomic,
    )

    from cifar import (
        PRESETS,
        data_error,
        foreign_data_error,
        run_preset,
        strategies_error,
    )
    from skal_openset import summarize_final_round, write_records_csv

    # Its output and stops as the other scripts' (one line where a full disk
    # refuses it or Ctrl-C stops it, status 141 where | head quit), but only
    # from here: _common imports skorch, which install_missing may just have
    # installed. Its checks in it: a stop held as the script started (its
    # imports) was dropped at a usage error, status 2.
    with stopped_by_signals(*INTERRUPTED):
        # Refused now, not after the reference check's minutes of the lease.
        if args.preset not in PRESETS:
            parser.error(
                f"--preset must be one of {sorted(PRESETS)}, got {args.preset!r}"
            )
        if args.strategies and (
            error := strategies_error(args.preset, args.strategies)
        ):
            parser.error(error)
        if args.reference_labels < 1:
            parser.error(
                f"--reference-labels must be >= 1, got {args.reference_labels}"
            )
        if args.n_jobs < 1:
            parser.error(f"--n-jobs must be >= 1, got {args.n_jobs}")
        try:
            error = missing_device_error("--device", torch_device(args.device))
        except argparse.ArgumentTypeError as exc:
            error = str(exc)
        # decoded images and encoders stay out of --out, which should come back small
        cache_dir = args.cache_dir
        results = cache_dir / "results"  # cell names hold "=": zipped into --out
        if error := (
            error
            or data_error(args.data)
            or foreign_data_error(results, args.preset, args.data)
        ):
            parser.error(error)
        config = PRESETS[args.preset]
        reference = reference_check(
            args.data, cache_dir, args.device, args.reference_labels, config["net"]
        )
        print("reference:", reference, flush=True)
        run_start = time.perf_counter()
        paths = []
        strategies = list(args.strategies or config["strategies"])
        for first in range(0, len(strategies), args.n_jobs):
            group = strategies[first : first + args.n_jobs]
            paths += run_preset(
                args.preset,
                data=args.data,
                results=results,
                cache_dir=cache_dir,
                device=args.device,
                n_jobs=len(group),
                strategies=group,
            )
            # the run log too: its wall times hold what the cells' own do not
            run_log = results / "cells" / f"cifar-{args.preset}" / "_runs.jsonl"
            pack_cells(args.out / "cells.zip", [*paths, run_log], results)
            seconds = time.perf_counter() - start
            with (args.out / "progress.txt").open("a") as progress:
                progress.writelines(f"{s} done after {seconds:.0f} s\n" for s in group)
        cells = [json.loads(Path(p).read_text()) for p in paths]
        records = [
            {"strategy": c["cell"]["strategy"], "trial": c["cell"]["split"], **r}
            for c in cells
            for r in c["records"]
        ]
        # only the MQ-Net cell records purity AUROCs: blank elsewhere
        columns = dict.fromkeys(k for r in records for k in r)
        write_records_csv(
            [{k: r.get(k, "") for k in columns} for r in records],
            args.out / "records.csv",
        )
        summary = {
            "machine": machine_description(),
            "preset": args.preset,
            "installed_skorch": installed,
            "reference": reference,
            "run_seconds": time.perf_counter() - run_start,
            "total_seconds": time.perf_counter() - start,
            "cells": [
                {
                    "strategy": c["cell"]["strategy"],
                    "seconds": c["seconds"],
                    "encoder_seconds": c["encoder_seconds"],
                    "final_accuracy": c["records"][-1]["test_accuracy"],
                }
                for c in cells
            ],
            "final": summarize_final_round(records),
        }
        write_text_atomic(args.out / "summary.json", json.dumps(summary, indent=1))
        print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
