"""Is the paper preset within a point of the old "MQ-Net (paper)" column?

Issue 13 measures ``MQNetQuery.paper()`` against the column the benchmark
called "MQ-Net (paper)" before the audit (its cells at commit ec813d6; it is
``MQ-Net (exp-z+latest+top-k)`` today). Comparing with those committed numbers
mixes three things, which this script separates on the benchmark's letter
cells at 40% and 60% noise (``--datasets``, ``--noise``):

- the old column's own code, rerun here from a temporary copy of the old
  commit's files (``git archive``): how far its committed numbers reproduce
  on this machine;
- today's code for that column, ``MQ-Net (exp-z+latest+top-k)``: what the
  audit's fixes changed;
- today's ``MQ-Net (paper preset)``;

each on the benchmark's reported trials 0-4 and on class splits it never
reports (seeds 100-111, ``--seeds``), where paired differences are given
with 95% paired-t intervals.

    python benchmarks/preset_reproduction.py [--old-commit ec813d6]
        [--seeds 100 ...] [--n-jobs 2] [--summary-only] [--results-dir DIR]

Writes ``results/preset_reproduction.jsonl`` (one row per run; a rerun
resumes from it) and ``results/preset_reproduction.md``, or the same under
``--results-dir``. Needs git and the repository's history.
"""

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
DEFAULT_DATA = REPO.parent / "shared" / "data"
ROWS = "preset_reproduction.jsonl"
SUMMARY = "preset_reproduction.md"
REPORTED_TRIALS = (0, 1, 2, 3, 4)
OLD_COLUMN = "MQ-Net (paper)"
TODAY_COLUMNS = ("MQ-Net (exp-z+latest+top-k)", "MQ-Net (paper preset)")


def worker(code, dataset, noise, strategy, trials, n_jobs, data_dir):
    """Run cells with the benchmark of the checkout `code`; print JSON rows.

    Runs in its own process with `code` first on ``sys.path``, so an old
    checkout's ``skal_openset`` and ``openset_benchmark`` are the ones imported.
    """
    code = Path(code).resolve()
    sys.path[:0] = [str(code / "benchmarks"), str(code)]
    import inspect

    from joblib import Parallel, delayed, effective_n_jobs

    import openset_benchmark
    import skal_openset

    if code not in Path(skal_openset.__file__).resolve().parents:
        raise RuntimeError(f"imported {skal_openset.__file__}, not the one in {code}")
    if strategy not in openset_benchmark.STRATEGIES:
        raise ValueError(f"{code} has no strategy {strategy!r}")

    def one(trial, out):
        cell = dict(
            suite="tabular",
            dataset=dataset,
            noise=noise,
            strategy=strategy,
            trial=trial,
            rounds=openset_benchmark.DATASETS[dataset]["rounds"],
        )
        # Old checkouts write to the module's RESULTS; newer ones take results=,
        # whose default was bound when the module was read.
        openset_benchmark.RESULTS = Path(out)
        run_cell = openset_benchmark.run_cell
        keywords = (
            {"results": Path(out)}
            if "results" in inspect.signature(run_cell).parameters
            else {}
        )
        path = Path(run_cell(cell, data_dir, **keywords))
        result = json.loads(path.read_text())
        records = result["records"]
        return dict(
            trial=trial,
            accuracy=100 * records[-1]["test_accuracy"],
            in_share=[r["query_in_share"] for r in records[1:]],
            in_classes=result["in_classes"],
            cell_file=str(path.relative_to(out)),
        )

    # Rows printed as each batch of trials finishes: a stopped run keeps them.
    batch = effective_n_jobs(n_jobs)  # -1: as many as cores
    with tempfile.TemporaryDirectory() as out:
        for first in range(0, len(trials), batch):
            runs = (delayed(one)(t, out) for t in trials[first : first + batch])
            for row in Parallel(n_jobs=n_jobs)(runs):
                print(json.dumps(row), flush=True)


def _git(*args):
    return subprocess.run(
        ["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True
    ).stdout


def _export(commit, folder):
    """Write `commit`'s files into `folder` (``git archive | tar -x``): unlike
    ``git worktree add``, nothing is registered in the repository's .git, so
    an interrupted run (SIGTERM skips ``finally``) leaves nothing stale."""
    folder.mkdir()
    archive = subprocess.Popen(
        ["git", "-C", str(REPO), "archive", commit], stdout=subprocess.PIPE
    )
    extract = subprocess.Popen(["tar", "-x", "-C", str(folder)], stdin=archive.stdout)
    archive.stdout.close()  # tar's only: git sees a broken pipe if tar stops
    extract.wait()
    archive.wait()  # before raising: else git is left running, unreaped
    for process in (archive, extract):  # git's failure is why tar fails
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, process.args)


def _load_rows(results):
    path = Path(results) / ROWS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def run(old_commit, datasets, noises, seeds, n_jobs, data_dir, results=RESULTS):
    """Run every missing (code, dataset, noise, strategy) group of trials."""
    from _common import child_lines, percent  # not at the top: see _paired_gap

    old = _git("rev-parse", "--short", old_commit).strip()
    done = {
        (r["code"], r["dataset"], r["noise"], r["strategy"], r["trial"])
        for r in _load_rows(results)
    }
    Path(results).mkdir(parents=True, exist_ok=True)
    trials = [*REPORTED_TRIALS, *seeds]
    with tempfile.TemporaryDirectory() as tmp:
        checkout = Path(tmp) / old
        _export(old, checkout)
        # CONF, on the reported trials only, checks that the old code
        # itself reproduces its committed cells on this machine.
        groups = [
            (old, checkout, OLD_COLUMN, trials),
            (old, checkout, "CONF", REPORTED_TRIALS),
        ] + [("today", REPO, name, trials) for name in TODAY_COLUMNS]
        for (code, path, strategy, group_trials), dataset, noise in (
            (g, d, n) for g in groups for d in datasets for n in noises
        ):
            todo = [
                t
                for t in group_trials
                if (code, dataset, noise, strategy, t) not in done
            ]
            if not todo:
                continue
            print(f"{code} {strategy} {dataset} {percent(noise)}: {len(todo)} runs")
            child_lines(
                [
                    sys.executable,
                    __file__,
                    "worker",
                    str(path),
                    dataset,
                    str(noise),
                    strategy,
                    "--trials",
                    *map(str, todo),
                    "--n-jobs",
                    str(n_jobs),
                    "--data-dir",
                    str(data_dir),
                ],
                # each run as it ends: a stopped group keeps those
                partial(
                    _append_row,
                    results,
                    dict(code=code, dataset=dataset, noise=noise, strategy=strategy),
                ),
                cwd=path,
            )


def _append_row(results, keys, line):
    """Append the run the worker printed as `line`, with its group's `keys`."""
    with (Path(results) / ROWS).open("a") as f:
        f.write(json.dumps(dict(json.loads(line), **keys)) + "\n")


def _committed_accuracy(commit, cell_file):
    """Final accuracy of a cell file as committed at `commit`."""
    text = _git("show", f"{commit}:benchmarks/results/{cell_file}")
    return 100 * json.loads(text)["records"][-1]["test_accuracy"]


def _paired_gap(a, b):
    """Mean of a - b, its 95% paired-t interval and wins/ties/losses."""
    # Imported here: the worker must import the old checkout's modules first.
    from report import _confidence_interval

    d = a - b
    wtl = f"{(d > 0.05).sum()}/{(abs(d) <= 0.05).sum()}/{(d < -0.05).sum()}"
    return f"{d.mean():+.2f} {_confidence_interval(d)} ({wtl})"


def summary(rows, committed_accuracy):
    """Lines of the summary of `rows`; `committed_accuracy(commit, cell_file)`.

    A cell some of whose runs are missing (an interrupted run) is left out of
    a table, and named below it.
    """
    from _common import percent  # not at the top: see _paired_gap

    old = next(r["code"] for r in rows if r["code"] != "today")
    columns = {
        "old": (old, OLD_COLUMN),
        "conf": (old, "CONF"),
        "exp-z": ("today", TODAY_COLUMNS[0]),
        "preset": ("today", TODAY_COLUMNS[1]),
    }
    cells = sorted({(r["dataset"], r["noise"]) for r in rows})
    unfinished = []

    def accuracies(column, dataset, noise, trials):
        """The rows of `column` on `trials`; None, named in `unfinished`, if
        some are missing."""
        code, strategy = columns[column]
        by_trial = {
            r["trial"]: r
            for r in rows
            if (r["code"], r["strategy"], r["dataset"], r["noise"])
            == (code, strategy, dataset, noise)
        }
        missing = [t for t in trials if t not in by_trial]
        if missing:
            unfinished.append(
                f"{dataset} {percent(noise)}, {code} {strategy}: trials {missing}"
            )
            return None
        return [by_trial[t] for t in trials]

    lines = [
        "# The paper preset against the old `MQ-Net (paper)` column",
        "",
        f"Written by `benchmarks/preset_reproduction.py`. `{old}` is the old "
        'column\'s code (`MQNetQuery(meta_input="exp_zscore", accumulate=False, '
        "diversity_pool=None)` before the audit), rerun here from a copy of its files; "
        "`exp-z today` is the same parameters on today's code (`MQ-Net "
        "(exp-z+latest+top-k)`); `preset` is `MQNetQuery.paper()`. Final accuracy "
        "(%), mean of the trials.",
        "",
        "## The benchmark's reported trials 0-4",
        "",
        "Cells rerun bit for bit: how many of the 5 reruns give exactly the "
        f"committed final accuracy (the old column and CONF at {old}, the preset "
        "at HEAD).",
        "",
        f"| cell | committed at {old} | {old} rerun | exp-z today | preset "
        "| preset - committed | preset - rerun | bit for bit: old column / "
        "CONF / preset |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for dataset, noise in cells:
        got = {c: accuracies(c, dataset, noise, REPORTED_TRIALS) for c in columns}
        if None in got.values():
            continue
        mean = {c: np.mean([r["accuracy"] for r in got[c]]) for c in got}
        committed = {
            c: [committed_accuracy(commit, r["cell_file"]) for r in got[c]]
            for c, commit in (("old", old), ("conf", old), ("preset", "HEAD"))
        }
        same = {
            c: sum(
                a == r["accuracy"] for a, r in zip(committed[c], got[c], strict=True)
            )
            for c in committed
        }
        gap = mean["preset"] - np.mean(committed["old"])
        lines.append(
            f"| {dataset} {percent(noise)} | {np.mean(committed['old']):.2f} "
            f"| {mean['old']:.2f} | {mean['exp-z']:.2f} | {mean['preset']:.2f} "
            f"| {gap:+.2f} | {mean['preset'] - mean['old']:+.2f} "
            f"| {same['old']} / {same['conf']} / {same['preset']} of 5 |"
        )
    seeds = sorted({r["trial"] for r in rows} - set(REPORTED_TRIALS))
    if not seeds:
        return lines + _unfinished_lines(unfinished)
    lines += [
        "",
        f"## Class splits the benchmark never reports (seeds {seeds[0]}-{seeds[-1]})",
        "",
        "Paired differences with 95% paired-t intervals and wins/ties/losses "
        "(ties within 0.05 points); IN share is the mean share of in-distribution "
        "examples among the queried ones.",
        "",
        f"| cell | {old} | exp-z today | preset | IN share {old} / exp-z / preset "
        f"| exp-z today - {old} | preset - {old} | preset - exp-z today |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for dataset, noise in cells:
        # The seeds this cell ran: others may have run other cells' seeds.
        ran = {
            r["trial"] for r in rows if (r["dataset"], r["noise"]) == (dataset, noise)
        }
        cell_seeds = sorted(ran - set(REPORTED_TRIALS))
        got = {
            c: accuracies(c, dataset, noise, cell_seeds)
            for c in ("old", "exp-z", "preset")
        }
        if None in got.values():
            continue
        splits = {c: [r["in_classes"] for r in got[c]] for c in got}
        if not splits["old"] == splits["exp-z"] == splits["preset"]:
            raise ValueError(
                f"{dataset} {noise}: the codes drew different class splits"
            )
        acc = {c: np.array([r["accuracy"] for r in got[c]]) for c in got}
        share = {c: np.mean([np.nanmean(r["in_share"]) for r in got[c]]) for c in got}

        # A cell that ran other seeds than the heading's says which.
        label = f"{dataset} {percent(noise)}"
        if cell_seeds != seeds:
            label += f" (seeds {', '.join(map(str, cell_seeds))})"
        lines.append(
            f"| {label} | {acc['old'].mean():.2f} "
            f"| {acc['exp-z'].mean():.2f} | {acc['preset'].mean():.2f} "
            f"| {share['old']:.2f} / {share['exp-z']:.2f} / {share['preset']:.2f} "
            f"| {_paired_gap(acc['exp-z'], acc['old'])} "
            f"| {_paired_gap(acc['preset'], acc['old'])} "
            f"| {_paired_gap(acc['preset'], acc['exp-z'])} |"
        )
    return lines + _unfinished_lines(unfinished)


def _unfinished_lines(unfinished):
    """The closing lines that name the cells left out of the tables."""
    if not unfinished:
        return []
    return [
        "",
        "Left out of the tables, their runs unfinished (rerun without "
        "--summary-only to finish them): " + "; ".join(unfinished) + ".",
    ]


def table_cell_lines(old, committed_accuracy, commit="HEAD"):
    """Every table cell: the preset's committed cells at `commit` against the
    old column's at `old` (issue 13's goal: within 1 point or better)."""
    from _common import percent  # not at the top: see _paired_gap

    folder = "cells/tabular"
    names = _git("ls-tree", "-r", "--name-only", old, f"benchmarks/results/{folder}")
    by_cell = {}
    for name in names.split():
        match = re.search(r"dataset=(\w+)_noise=([\d.]+)_strategy=MQ-Net_paper_", name)
        if match:
            cell_file = f"{folder}/{Path(name).name}"
            preset_file = cell_file.replace("MQ-Net_paper_", "MQ-Net_paper-preset_")
            by_cell.setdefault((match[1], float(match[2])), []).append(
                (
                    committed_accuracy(old, cell_file),
                    committed_accuracy(commit, preset_file),
                )
            )
    lines = [
        "",
        "## Every table cell, the reported trials",
        "",
        f"The preset's cells as committed now against the old column's committed "
        f"at {old} (same class splits and seeds); mean of the trials.",
        "",
        "| cell | old column | preset | preset - old column |",
        "| --- | --- | --- | --- |",
    ]
    gaps = []
    for (dataset, noise), pairs in sorted(by_cell.items()):
        before, after = np.mean(pairs, axis=0)
        gaps.append(after - before)
        lines.append(
            f"| {dataset} {percent(noise)} | {before:.2f} | {after:.2f} "
            f"| {after - before:+.2f} |"
        )
    gaps = np.array(gaps)
    lines += [
        "",
        f"Within 1 point or better in {int(np.sum(gaps >= -1))} of {len(gaps)} "
        f"cells (above in {int(np.sum(gaps > 0))}); below by more than 1 point in "
        + (
            ", ".join(
                f"{d} {percent(n)} ({g:+.2f})"
                for (d, n), g in zip(sorted(by_cell), gaps)
                if g < -1
            )
            or "none"
        )
        + ".",
    ]
    return lines


def write_summary(results=RESULTS):
    from _common import write_text_atomic  # not at the top: see _paired_gap

    rows = _load_rows(results)
    old = next(r["code"] for r in rows if r["code"] != "today")
    lines = summary(rows, _committed_accuracy)
    lines += table_cell_lines(old, _committed_accuracy)
    path = Path(results) / SUMMARY
    write_text_atomic(path, "\n".join(lines) + "\n")
    print(path.read_text())


def worker_parser():
    """The command line of the worker, which this script runs for each old
    checkout: ``preset_reproduction.py worker CODE DATASET NOISE STRATEGY``."""
    work = argparse.ArgumentParser(
        prog=f"{Path(sys.argv[0]).name} worker",
        description="Internal: run cells of one checkout.",
    )
    work.add_argument(
        "code", help="the folder of the checkout whose benchmark runs the cells"
    )
    work.add_argument("dataset", help="the cells' tabular data set, e.g. letter")
    work.add_argument("noise", type=float, help="the cells' noise ratio, e.g. 0.4")
    work.add_argument(
        "strategy", help="the cells' strategy, as that checkout's benchmark names it"
    )
    work.add_argument(
        "--trials",
        type=int,
        nargs="+",
        action="extend",  # repeats add up, as Repeatable's, not imported here
        required=True,
        help="the trials (class splits) to run, one cell each",
    )
    work.add_argument(
        "--n-jobs",
        type=int,
        default=2,
        help="cells run in parallel, as joblib counts (default: 2)",
    )
    work.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA,
        help="the folder of tabular/ (default: ../shared/data next to the repository)",
    )
    return work


def main():
    # The worker must import the old checkout's modules before any of today's.
    # Its own parser: as a subcommand of the one below, it took a stray word
    # (`letter`) for a command and shared the names of its options.
    if sys.argv[1:2] == ["worker"]:
        args = worker_parser().parse_args(sys.argv[2:])
        worker(
            args.code,
            args.dataset,
            args.noise,
            args.strategy,
            args.trials,
            args.n_jobs,
            args.data_dir.resolve(),
        )
        return
    from _common import add_results_dir, refuse_repeats, refuse_with_summary_only

    from openset_benchmark import DATASETS, NOISE_RATIOS, require_dataset_folders
    from skal_openset._argtypes import (
        Parser,
        Repeatable,
        job_count,
        random_seed,
        ratio,
        user_path,
    )

    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n-jobs",
        type=job_count,
        default=2,
        help="runs in parallel, as joblib counts: -1 for every core (default: 2)",
    )
    parser.add_argument(
        "--data-dir",
        type=user_path,
        default=DEFAULT_DATA,
        help="the folder of tabular/ (default: ../shared/data next to the repository)",
    )
    parser.add_argument(
        "--old-commit",
        default="ec813d6",
        help=f"the commit whose {OLD_COLUMN!r} column is rerun, from a copy of "
        "its files, and compared with its committed cells (default: ec813d6, "
        "before the audit)",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        action=Repeatable,
        choices=[d for d in DATASETS if d != "fashion"],  # the tabular suite's
        default=["letter"],
        help="the tabular data sets whose cells are rerun (default: letter)",
    )
    # The committed cells it compares with are at the benchmark's ratios only.
    parser.add_argument(
        "--noise",
        type=ratio,
        nargs="+",
        action=Repeatable,
        choices=NOISE_RATIOS,
        default=[0.4, 0.6],
        help="noise ratios, the OOD share of the pool, among the benchmark's: "
        "the committed cells are at those only (default: 0.4 0.6)",
    )
    parser.add_argument(
        "--seeds",
        type=random_seed,
        nargs="+",
        action=Repeatable,
        default=list(range(100, 112)),
        help="trial seeds, class splits the benchmark never reports, run "
        "besides its reported trials 0-4 (default: 100 to 111)",
    )
    parser.add_argument(
        "--summary-only",
        action="store_true",
        help=f"rewrite {SUMMARY} from every finished run in {ROWS}; runs "
        "nothing, so takes none of the options above",
    )
    add_results_dir(parser, RESULTS, f"{ROWS} and {SUMMARY}")
    args = parser.parse_args()
    refuse_repeats(parser, args, "--datasets", "--noise", "--seeds")
    run_options = "--n-jobs", "--data-dir", "--old-commit", "--datasets", "--noise"
    refuse_with_summary_only(parser, args, *run_options, "--seeds")
    if reported := sorted(set(args.seeds) & set(REPORTED_TRIALS)):
        parser.error(
            f"--seeds {reported[0]} is a trial the benchmark reports (it runs "
            f"{list(REPORTED_TRIALS)} anyway); give seeds it never reports, e.g. 100"
        )
    if args.summary_only and not _load_rows(args.results_dir):
        parser.error(
            f"no runs in {args.results_dir / ROWS} to summarise; run without "
            "--summary-only first"
        )
    if not args.summary_only:
        require_dataset_folders(parser, args.data_dir, args.datasets)
        try:
            _git("rev-parse", "--verify", f"{args.old_commit}^{{commit}}")
        except subprocess.CalledProcessError:
            parser.error(
                f"--old-commit {args.old_commit} is no commit of {REPO}; give one "
                "of its history"
            )
        run(
            args.old_commit,
            args.datasets,
            args.noise,
            args.seeds,
            args.n_jobs,
            args.data_dir.resolve(),
            args.results_dir,
        )
    write_summary(args.results_dir)


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        # A SIGTERM (its group's, the parent's) as Ctrl-C: the temporary cells
        # go too. Not _common's: the old checkout's modules must load first.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        main()
    else:
        from _common import stopped_by_signals

        with stopped_by_signals(
            "finished runs and report files are kept whole", "rerun to finish the rest"
        ):
            main()
