"""Can purity's held-out AUROC tell where MQ-Net's learnt balance beats the rule?

``MQNetQuery(rule_weight="auto")``, the default, ranks by the rule ``P + I``
where half the initial labelled set is OOD. On the tables at 60% noise the
learnt selector loses to the rule there, on Fashion-MNIST it wins more often
than not (``meta_signal.md``): an OOD-share switch cannot tell them apart. A
switch that could needs a signal the strategy has at its first query. This
script tests one: how well each purity score that ``purity="auto"`` compares
separates the labelled IN from the labelled OOD rows, as the 3-fold held-out
AUROC ``purity="auto"`` computes, on the labelled set of the first query (the
initial set, after round 1's fit). The hypothesis: where purity separates
well, the rule's equal weight suits; where it is weak, a learnt balance that
leans to informativeness pays.

It reads the runs of ``meta_signal.py`` at the noise ratios asked for
(``--noise``, default 60%) where both the margin defaults with the learnt selector
(``margin-rule-start``: margin informativeness, the selector started from the
rule) and the rule (``margin-rule``; else, from one half noise,
``margin-auto-half``, which is the rule's run there since the benchmark's
initial set holds the noise ratio's OOD share) ran on a class split, and
for each such split it computes the AUROCs (no active learning: round 1
only). It reports, for each noise ratio run, per data set, the AUROC's spread
beside the learnt-minus-rule gap and their rank correlation, that
correlation over every split with and without the data sets' means, and the
gap by AUROC band.

    python benchmarks/switch_signal.py [--n-jobs 2] [--noise 0.6 ...]
        [--rerun-other-versions] [--summary-only] [--results-dir DIR]

Writes one file of AUROCs per class split to ``results/switch_signal/`` (a
rerun resumes from them, naming those of other versions, which
``--rerun-other-versions`` runs again) and the summary
``results/switch_signal.md``, which pairs them with the meta_signal runs as
they are when it is written.
"""

from collections import Counter
from functools import partial
from pathlib import Path

from _common import (
    ResultsError,
    add_results_dir,
    cell_failure,
    cell_threads,
    joblib_verbosity,
    machine_description,
    percent,
    read_record,
    refuse_repeats,
    refuse_with_summary_only,
    stopped_by_signals,
    threads_in_cell,
    write_json_atomic,
    write_text_atomic,
)

import numpy as np
from joblib import Parallel, delayed
from scipy.stats import spearmanr

from _cells import (
    RERUN_OPTION,
    add_rerun_option,
    cells_to_run,
    warn_of_mixed_versions,
)
from meta_signal import _paired_gaps, cells_dir, read_run
from openset_benchmark import (
    DATASETS,
    RESULTS,
    add_data_dir,
    make_estimator,
    make_split,
    require_dataset_folders,
)
from skal_openset import MQNetQuery, RandomQuery, run_active_learning
from skal_openset._argtypes import Parser, Repeatable, job_count, ratio
from skal_openset._experiment import versions
from skal_openset._strategies._meta_query import _purity_auroc

LEARNT = "margin-rule-start"
# The rule's run: margin-rule, or the one-half switch where it takes the rule.
RULES = ("margin-rule", "margin-auto-half")
AUROC_KEYS = ("dataset", "noise", "seed", "auroc")


def paired_runs(results, noise):
    """``(dataset, seed) -> (learnt run, rule run)`` at `noise`, from the
    meta_signal runs under `results`; a run is its final accuracy and the IN
    share of its queries.

    ``margin-auto-half`` is the rule's run only where the switch takes the
    rule: the benchmark's initial set holds the noise ratio's OOD share.
    """
    rules = RULES if noise >= MQNetQuery._auto_rule_ood_share else RULES[:1]
    runs = {}
    for path in sorted(cells_dir(results).glob("*.json")):
        cell = read_run(path)
        if cell["noise"] == noise:
            runs[cell["dataset"], cell["seed"], cell["variant"]] = dict(
                accuracy=cell["accuracy"], in_share=cell["in_share"]
            )
    pairs = {}
    for (dataset, seed, variant), learnt in runs.items():
        rule = next(
            (runs[dataset, seed, r] for r in rules if (dataset, seed, r) in runs),
            None,
        )
        if variant == LEARNT and rule is not None:
            pairs[dataset, seed] = learnt, rule
    return dict(sorted(pairs.items()))


def first_query_auroc(dataset, noise, seed, data_dir):
    """Name -> 3-fold held-out AUROC of labelled IN vs OOD at the first query.

    The learner is that of round 1 of the benchmark's run on this split, fitted
    on the initial set; a score ``purity="auto"`` leaves out is missing.
    """
    split = make_split(dataset, noise, seed, data_dir)
    estimator = make_estimator(
        dataset, split.X_pool.shape[1], split.n_classes, False, seed
    )
    learners = []
    run_active_learning(
        split,
        estimator,
        RandomQuery(),  # never queries: round 1 only fits the initial set
        n_rounds=1,
        budget=DATASETS[dataset]["budget"],
        callback=lambda record, learner: learners.append(learner),
    )
    return _purity_auroc(learners[0])


def auroc_path(results, dataset, noise, seed):
    """The file of one class split's AUROCs."""
    noise = percent(noise).removesuffix("%")
    return Path(results) / "switch_signal" / f"{dataset}_{noise}_{seed}.json"


def run(dataset, noise, seed, data_dir, results, again=False):
    """One class split's AUROCs, unless its file exists, or `again` (of other
    versions)."""
    path = auroc_path(results, dataset, noise, seed)
    if path.exists() and not again:
        record = read_auroc(path)
        found = tuple(record[k] for k in ("dataset", "noise", "seed"))
        if found != (dataset, noise, seed):
            raise ResultsError(
                f"{path} holds the class split {found}, not {(dataset, noise, seed)}; "
                "move it out of the folder or delete it, and rerun"
            )
        return record
    try:
        with cell_threads("cpu"):
            auroc = first_query_auroc(dataset, noise, seed, data_dir)
    except Exception as exc:  # a worker's traceback names no split
        raise cell_failure(f"The class split {path.name}", exc) from exc
    # versions: a rerun names the class splits of other versions
    record = dict(dataset=dataset, noise=noise, seed=seed, auroc=auroc)
    record["versions"] = versions()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, record)
    return record


def read_auroc(path):
    """The AUROCs a per-split file holds; a ResultsError naming the file if none."""
    return read_record(path, AUROC_KEYS, "a class split of switch_signal.py")


def summary(rows, score="knn_contrast", bands=3):
    """The report's lines: for each noise ratio, per data set, then by AUROC
    band over all of them.

    `rows` are class splits, each its AUROCs and its two runs (`paired_runs`);
    `score` is the purity score whose AUROC is read (MQ-Net's default);
    `bands` the number of AUROC bands, of about equal counts.
    """
    lines = [
        "# Can purity's held-out AUROC tell where the learnt balance beats the rule?",
        "",
        "Written by `benchmarks/switch_signal.py` from the `meta_signal.py` runs on "
        f"class splits the benchmark never reports: `{LEARNT}` (the margin defaults "
        f"with the learnt selector) minus the rule (`{RULES[0]}`, or `{RULES[1]}` "
        "where it is the rule's run). AUROC: "
        f"`{score}` purity, labelled IN against labelled OOD, 3-fold held out, at "
        'the first query (what `purity="auto"` computes). Gaps in points: W/T/L '
        "over the class splits, the mean and its 95% paired-t interval; IN share: "
        "the mean difference of the share of IN examples among the queries.",
    ]
    for noise in sorted({r["noise"] for r in rows}):
        at_noise = [r for r in rows if r["noise"] == noise]
        lines += ["", f"## {percent(noise)} noise", ""]
        lines += _noise_lines(
            [r for r in at_noise if score in r["auroc"]], score, bands
        )
        left_out = sum(score not in r["auroc"] for r in at_noise)
        if left_out:
            lines += [
                "",
                f"Left out: {left_out} class splits without a `{score}` AUROC (too "
                "few labelled IN or OOD rows at the first query).",
            ]
    return lines + [""]


def _noise_lines(rows, score, bands):
    """The tables of one noise ratio's class splits, each with the score."""
    lines = [
        "| data set | class splits | AUROC median [min, max] | learnt - rule "
        "| IN share, learnt - rule | Spearman rho (AUROC, gap) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    centred = []  # (AUROC, gap) less their data set's means
    for dataset in sorted({r["dataset"] for r in rows}):
        mine = [r for r in rows if r["dataset"] == dataset]
        auroc = np.array([r["auroc"][score] for r in mine])
        gaps, in_shares = _gaps(mine)
        centred += zip(auroc - auroc.mean(), np.subtract(gaps, np.mean(gaps)))
        lines.append(
            f"| {dataset} | {len(mine)} | {np.median(auroc):.3f} [{auroc.min():.3f}, "
            f"{auroc.max():.3f}] | {_paired_gaps(gaps)} | {np.mean(in_shares):+.3f} "
            f"| {_spearman(auroc, gaps)} |"
        )
    auroc = np.array([r["auroc"][score] for r in rows])
    gaps, _ = _gaps(rows)
    lines += [
        "",
        f"Spearman rho of AUROC and gap over every class split: "
        f"{_spearman(auroc, gaps)}; with each data set's mean AUROC and mean gap "
        f"taken away first: {_spearman(*zip(*centred))}.",
    ]
    edges = np.quantile(auroc, np.linspace(0, 1, bands + 1))
    band = np.clip(np.searchsorted(edges, auroc, side="right") - 1, 0, bands - 1)
    lines += [
        "",
        f"Over every data set, by AUROC band ({bands} bands of about equal counts):",
        "",
        "| AUROC | class splits | learnt - rule | IN share, learnt - rule "
        "| class splits by data set |",
        "| --- | --- | --- | --- | --- |",
    ]
    for b in range(bands):
        mine = [r for r, i in zip(rows, band) if i == b]
        if not mine:  # tied AUROCs put every row in one band
            continue
        gaps, in_shares = _gaps(mine)
        counts = Counter(r["dataset"] for r in mine)
        lines.append(
            f"| {edges[b]:.3f} to {edges[b + 1]:.3f} | {len(mine)} "
            f"| {_paired_gaps(gaps)} | {np.mean(in_shares):+.3f} "
            f"| {', '.join(f'{d} {n}' for d, n in sorted(counts.items()))} |"
        )
    return lines


def _spearman(x, y):
    """Spearman's rho as "+0.12"; "-" where either side is constant (undefined)."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return "-"
    return f"{spearmanr(x, y).statistic:+.2f}"


def _gaps(rows):
    """The learnt run's accuracy and IN share minus the rule's, row by row."""
    return tuple(
        [r["learnt"][key] - r["rule"][key] for r in rows]
        for key in ("accuracy", "in_share")
    )


def load_rows(results):
    """Every class split with an AUROC file under `results`, beside its two
    runs; a split whose runs are gone is left out."""
    folder = Path(results) / "switch_signal"
    contents = {p: read_auroc(p) for p in sorted(folder.glob("*.json"))}
    warn_of_mixed_versions(folder, contents)
    records = list(contents.values())
    if not records:
        raise ResultsError(
            f"no class splits under {Path(results) / 'switch_signal'} to summarise; "
            "run some first (without --summary-only)"
        )
    pairs = {
        noise: paired_runs(results, noise) for noise in {r["noise"] for r in records}
    }
    return [
        dict(record, learnt=runs[0], rule=runs[1])
        for record in records
        if (runs := pairs[record["noise"]].get((record["dataset"], record["seed"])))
    ]


def write_summary(results):
    """switch_signal.md under `results`, from its per-split files and the
    meta_signal runs they pair."""
    rows = load_rows(results)
    write_text_atomic(Path(results) / "switch_signal.md", "\n".join(summary(rows)))


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n-jobs",
        type=job_count,
        default=2,
        help="class splits in parallel, as joblib counts: -1 for every core "
        "(default: 2)",
    )
    parser.add_argument(
        "--noise",
        type=ratio,
        nargs="+",
        action=Repeatable,
        default=[0.6],
        help="the noise ratios whose meta_signal runs are read (default: 0.6)",
    )
    add_data_dir(parser)
    parser.add_argument(
        "--summary-only",
        action="store_true",
        help="rewrite switch_signal.md from every finished class split; runs "
        "nothing, so takes none of the options above",
    )
    add_rerun_option(parser)
    add_results_dir(
        parser,
        RESULTS,
        "meta_signal.py's runs (in meta_signal/), and the per-split files "
        "(in switch_signal/) and summary written here",
    )
    args = parser.parse_args()
    refuse_repeats(parser, args, "--noise")
    refuse_with_summary_only(
        parser, args, "--n-jobs", "--noise", "--data-dir", RERUN_OPTION
    )
    try:
        if not args.summary_only:
            splits = []
            for noise in args.noise:
                pairs = paired_runs(args.results_dir, noise)
                if not pairs:
                    raise ResultsError(
                        f"no class split under {cells_dir(args.results_dir)} has "
                        f"both the {LEARNT} and a rule run ({' or '.join(RULES)}) "
                        f"at {percent(noise)} noise; run them with meta_signal.py"
                    )
                splits += [(dataset, noise, seed) for dataset, seed in pairs]
            require_dataset_folders(
                parser, args.data_dir, sorted({d for d, _, _ in splits})
            )
            path_of = partial(auroc_path, args.results_dir)
            again = cells_to_run(
                splits,
                lambda split: path_of(*split),
                lambda split: (
                    read_auroc(path_of(*split)) if path_of(*split).exists() else None
                ),
                args.rerun_other_versions,
            )
            Parallel(n_jobs=args.n_jobs, verbose=joblib_verbosity(args.n_jobs))(
                delayed(run)(*split, args.data_dir, args.results_dir, split in again)
                for split in splits
            )
            print(
                f"{len(splits)} class splits; "
                f"{machine_description(threads_in_cell('cpu'))}"
            )
        write_summary(args.results_dir)
    except ResultsError as error:
        parser.error(str(error))


if __name__ == "__main__":
    with stopped_by_signals(
        "finished class splits and report files are kept whole", "rerun for the rest"
    ):
        main()
