"""Which cells change with the CPU's vector kernels? Another machine, on one.

torch chooses its vectorised kernels by CPU (AVX-512, AVX2 or none), and the
choice changes the last bits of a float32 network's outputs. A cell whose
queries hang on such bits is another run on another machine
(``results/reruns-2026-11-30.md``). ``ATEN_CPU_CAPABILITY`` forces a kernel
path, so one machine can show which strategies' cells do that and how far
their final accuracy moves.

The script runs the chosen cells once per kernel path, each path into its own
folder under ``--work-dir``; compares every path's cells with the first
path's, by compare_cells.py's rule (the same test accuracy and IN share in
every round); and writes one line per strategy to ``--output``::

    python benchmarks/kernel_paths.py tabular --noise 0.4 --trials 5 \\
        --strategies RANDOM CONF BADGE 'P+I' 'MQ-Net (exp-z+latest+top-k)' \\
        'MQ-Net (no meta-model)' MQ-Net --n-jobs 2

A path the CPU lacks runs as the best one it has; the script names it and
leaves it out.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import (
    INTERRUPTED,
    file_path,
    folder_path,
    machine_description,
    percent,
    refuse_repeats,
    run_script,
    stopped_by_signals,
    write_text_atomic,
)

import numpy as np

from compare_cells import matched_cells
from openset_benchmark import (
    HERE,
    RESULTS,
    STRATEGIES,
    add_data_dir,
    grid,
    require_dataset_folders,
)
from report import _confidence_interval, _final_records, load_cells
from skal_openset._argtypes import Parser, Repeatable, job_count, positive_int, ratio

PATHS = ("avx512", "avx2", "default")


def _capability(path):
    """The kernel path torch takes with ``ATEN_CPU_CAPABILITY=path``."""
    probe = "import torch; print(torch.backends.cpu.get_cpu_capability())"
    env = {**os.environ, "ATEN_CPU_CAPABILITY": path}
    return (
        subprocess.run(
            [sys.executable, "-c", probe], env=env, check=True, capture_output=True
        )
        .stdout.decode()
        .strip()
    )


def _run(path, folder, args):
    """Run the cells under kernel path `path`, into `folder`."""
    command = [
        sys.executable,
        str(HERE / "openset_benchmark.py"),
        "--results-dir",
        str(folder),
        "run",
        args.suite,
        "--trials",
        str(args.trials),
        "--noise",
        *map(str, args.noise),
        "--strategies",
        *args.strategies,
        "--n-jobs",
        str(args.n_jobs),
        "--data-dir",
        str(args.data_dir),
    ]
    env = {**os.environ, "ATEN_CPU_CAPABILITY": path}
    run_script(command, env=env)


def _run_key(cell):
    """A cell's ``(dataset, noise, trial, strategy)``."""
    return cell["dataset"], cell["noise"], cell["trial"], cell["strategy"]


def strategy_lines(reference, others, suite, strategies, runs):
    """Markdown rows: per strategy, its cells of this run (`runs`: their
    `_run_key`) in each of the `others` folders that are the same run as in
    the `reference` folder, how far the others moved, and how many the
    reference lacks; the folders are ``(path, folder)`` pairs, and may hold
    cells of earlier runs."""
    rows = []
    matched = {
        path: matched_cells(reference[1], folder, suite) for path, folder in others
    }
    for strategy in strategies:
        cells = []
        for path, _ in others:
            mine = [
                m
                for m in matched[path]
                if _run_key(m[1]) in runs and m[1]["strategy"] == strategy
            ]
            paired = [m for m in mine if m[2] is not None]
            moved = [after - before for _, _, before, after, same in paired if not same]
            text = f"{len(paired) - len(moved)} of {len(paired)}"
            if moved:
                text += (
                    f"; the others {np.mean(np.abs(moved)):.2f} on average "
                    f"({min(moved):+.2f} to {max(moved):+.2f})"
                )
            if len(paired) < len(mine):
                text += f"; {len(mine) - len(paired)} with no `{reference[0]}` cell"
            cells.append(text)
        rows.append(f"| {strategy} | " + " | ".join(cells) + " |")
    return rows


def _final_accuracies(folder, suite, runs):
    """``{run key: final test accuracy (%)}`` of the cells of `runs` (their
    `_run_key`) in `folder`."""
    records, _ = load_cells(Path(folder), suite)
    finals = {
        (dataset, noise, trial, strategy): 100 * r["test_accuracy"]
        for (dataset, noise, _, trial, _, strategy), r in _final_records(
            records, "noise"
        ).items()
    }
    return {key: accuracy for key, accuracy in finals.items() if key in runs}


def versus_lines(folders, suite, first, second, runs):
    """Markdown rows: per noise ratio, `first` minus `second` (points) on the
    same class splits of this run (`runs`: its cells' `_run_key`), on each
    kernel path's cells (``(path, folder)`` pairs) and with each split's
    difference averaged over the paths first."""
    finals = [_final_accuracies(folder, suite, runs) for _, folder in folders]
    splits = sorted(
        set.intersection(
            *({k[:3] for k in f if k[3] == s} for f in finals for s in (first, second))
        )
    )
    rows = []
    for noise in sorted({split[1] for split in splits}):
        at_noise = [split for split in splits if split[1] == noise]
        # One row per kernel path, one column per class split.
        differences = np.array(
            [[f[(*k, first)] - f[(*k, second)] for k in at_noise] for f in finals]
        )
        cells = [*differences, differences.mean(axis=0)]
        rows.append(
            f"| {percent(noise)} | "
            + " | ".join(f"{d.mean():+.2f} {_confidence_interval(d)}" for d in cells)
            + f" | {len(at_noise)} |"
        )
    return rows


def main(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "suite",
        choices=("tabular", "fashion"),
        help="the suite of openset_benchmark.py whose cells are run",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        action=Repeatable,
        required=True,
        choices=STRATEGIES,
        metavar="STRATEGY",
        help="the strategies whose cells are run and compared, one report line "
        f"each; each one of {', '.join(map(repr, STRATEGIES))}",
    )
    parser.add_argument(
        "--noise",
        nargs="+",
        action=Repeatable,
        type=ratio,
        default=[0.4],
        help="noise ratios, the OOD share of the pool (default: 0.4)",
    )
    parser.add_argument(
        "--trials",
        type=positive_int,
        default=5,
        help="trials (class splits) per cell: the benchmark's trials 0 to N - 1 "
        "(default: 5)",
    )
    parser.add_argument(
        "--n-jobs",
        type=job_count,
        default=1,
        help="cells run in parallel on each kernel path, as joblib counts: -1 for "
        "every core (default: 1)",
    )
    add_data_dir(parser)
    parser.add_argument(
        "--paths",
        nargs="+",
        action=Repeatable,
        default=PATHS,
        choices=PATHS,
        help="kernel paths (ATEN_CPU_CAPABILITY), the first the reference "
        f"(default: {' '.join(PATHS)})",
    )
    parser.add_argument(
        "--versus",
        nargs=2,
        action="append",
        choices=STRATEGIES,
        metavar=("A", "B"),
        help="also report A minus B on the same class splits (both in --strategies); "
        "repeated, each pair",
    )
    parser.add_argument(
        "--work-dir",
        type=folder_path,
        default=Path(tempfile.gettempdir()) / "skal-kernel-paths",
        help="each path's cells go to a folder here, where finished cells are "
        "kept for the next run (default: skal-kernel-paths in the system's "
        "temporary folder)",
    )
    parser.add_argument(
        "--output",
        type=file_path,
        default=RESULTS / "kernel_paths.md",
        help="the report's Markdown file (default: benchmarks/results/kernel_paths.md)",
    )
    args = parser.parse_args(argv)
    refuse_repeats(parser, args, "--noise", "--strategies", "--paths")
    if len(args.paths) < 2:
        parser.error(
            "--paths lists one kernel path: give two or more to compare, the "
            "first the reference"
        )
    for pair in args.versus or ():
        if not set(pair) <= set(args.strategies):
            parser.error("--versus compares two of the --strategies; add them there")
    datasets = {c["dataset"] for c in grid(args.suite, False, 1, args.noise)}
    require_dataset_folders(parser, args.data_dir, datasets)
    # Now, not after the runs: a missing folder failed them all at the end.
    args.output.parent.mkdir(parents=True, exist_ok=True)

    ran, skipped = [], []
    for path in args.paths:
        capability = _capability(path)
        if capability != path.upper():  # torch fell back to the best path it has
            skipped.append(f"`{path}` (this CPU lacks it: runs it as `{capability}`)")
            continue
        folder = args.work_dir / path
        try:
            _run(path, folder, args)
        except subprocess.CalledProcessError as error:  # it printed why
            parser.exit(
                error.returncode,
                f"kernel_paths.py: the run with ATEN_CPU_CAPABILITY={path} stopped "
                f"with exit status {error.returncode}; its message is above.\n",
            )
        ran.append((path, capability, folder))
    if len(ran) < 2:
        parser.error(
            f"this CPU runs all of {args.paths} as one kernel path: nothing to "
            "compare; give --paths that it has"
        )
    folders = [(path, folder) for path, _, folder in ran]
    reference, *others = folders
    # The --work-dir keeps the cells of earlier runs: compare this run's only.
    runs = {
        _run_key(cell)
        for cell in grid(args.suite, False, args.trials, args.noise)
        if cell["strategy"] in args.strategies
    }
    noise = ", ".join(map(percent, args.noise))
    lines = [
        "# Kernel paths: which cells change with the CPU's vector kernels?",
        "",
        f"Written by `benchmarks/kernel_paths.py` on {machine_description()}.",
        f"Suite `{args.suite}`, noise {noise}, {args.trials} trials, every cell run "
        "once per kernel path (`ATEN_CPU_CAPABILITY`): "
        + ", ".join(f"`{path}` ({capability})" for path, capability, _ in ran)
        + (f"; left out: {', '.join(skipped)}" if skipped else "")
        + ".",
        "",
        f"Cells that are the same run as with `{reference[0]}` (every round's test "
        "accuracy and IN share equal), and how far the final accuracy (points) of "
        "the others moved:",
        "",
        "| strategy | " + " | ".join(f"`{path}`" for path, _ in others) + " |",
        "| --- |" + " --- |" * len(others),
        *strategy_lines(reference, others, args.suite, args.strategies, runs),
    ]
    for first, second in args.versus or ():
        lines += [
            "",
            f"`{first}` minus `{second}` (points) on the same class splits, with "
            "its 95% paired-t interval: on each kernel path's cells, and with each "
            "split's difference first averaged over the paths (which averages out "
            "part of the noise of the last bits):",
            "",
            "| noise | "
            + " | ".join(f"`{path}`" for path, _ in folders)
            + " | mean over the paths | class splits |",
            "| --- |" + " --- |" * (len(ran) + 2),
            *versus_lines(folders, args.suite, first, second, runs),
        ]
    write_text_atomic(args.output, "\n".join(lines) + "\n")
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    with stopped_by_signals(*INTERRUPTED):
        main()
