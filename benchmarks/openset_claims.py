"""Each open-set baseline's paper claim, checked on the benchmark's finished cells.

Reads the cells of ``openset_benchmark.py`` (it runs nothing) and writes
``results/openset_claims.md``: per claim, a table of the IN share of the
queries and the final test accuracy of the method and the strategies its
paper compares against, at the highest noise ratio of the cells (the
setting where open-set methods are meant to matter), one row per dataset.

    python benchmarks/openset_claims.py [--suite tabular fashion] [--noise 0.6]

The papers report the *recall* of IN examples (queried IN over pool IN);
within a trial every strategy buys the same number of labels from the same
pool, so recall ranks strategies as the IN share of their queries does.
"""

from pathlib import Path

from _common import (
    WHOLE_OR_NONE,
    folder_path,
    percent,
    stopped_by_signals,
    write_text_atomic,
)

from report import CLAIM_SUITES, _tied, load_cells
from skal_openset import summarize_final_round
from skal_openset._argtypes import Parser, Repeatable

HERE = Path(__file__).parent
RESULTS = HERE / "results"

# What each paper claims, and the strategies it is claimed against here.
CLAIMS = (
    dict(
        method="LfOSA",
        rivals=("RANDOM", "CONF"),
        claim="Ning et al. (CVPR 2022), Fig. 3 and Table 1: with many OOD examples "
        "in the pool, LfOSA's queries hold far more IN examples than "
        "uncertainty sampling's or random's, and its accuracy is higher.",
    ),
    dict(
        method="EOAL",
        rivals=("RANDOM", "CONF", "BADGE", "LfOSA"),
        claim="Safaei et al. (AAAI 2024), Fig. 3 and Table 1: EOAL queries a "
        "higher IN share than standard active learning and LfOSA, with a higher "
        "accuracy.",
    ),
    dict(
        method="SIMILAR",
        rivals=("RANDOM", "CONF", "BADGE"),
        claim="Kothawade et al. (NeurIPS 2021), Sec. 5.3 (OOD scenario): FLCMI "
        "queries many more IN examples than entropy, BADGE and random sampling, "
        "and reaches a higher accuracy.",
    ),
    dict(
        method="CCAL",
        rivals=("RANDOM", "CONF"),
        claim="Du et al. (ICCV 2021), Table 1: semantic plus distinctive "
        "selection beats random and uncertainty sampling under class mismatch. "
        "(Its ablation of either score alone needs variants the benchmark does "
        "not run.)",
    ),
)
CONTEXT = ("MQ-Net",)  # shown for comparison, not part of the verdict


def claim_lines(rows, method, rivals, claim):
    """Markdown for one claim from ``summarize_final_round`` rows of one noise."""
    by_dataset = {}
    for r in rows:
        by_dataset.setdefault(r["dataset"], {})[r["strategy"]] = r
    shown = [method, *rivals, *CONTEXT]
    lines = [
        f"### {method}",
        "",
        claim,
        "",
        "IN share of the queries / final accuracy (%), mean over trials; the "
        "last columns say whether the method beats every rival "
        f"({', '.join(rivals)}) on each:",
        "",
        "| dataset | trials | " + " | ".join(shown) + " | IN share | accuracy |",
        "| --- | --- |" + " --- |" * (len(shown) + 2),
    ]
    holds = {"IN share": 0, "accuracy": 0}
    compared, unrun, unpaired = 0, [], []
    for dataset, cells in sorted(by_dataset.items()):
        if method not in cells:
            continue
        absent = [r for r in rivals if r not in cells]
        if absent:  # else the verdict's "on n of n datasets" leaves it out unsaid
            unrun.append(f"{dataset} ({', '.join(absent)})")
            continue
        if any(set(cells[r]["trials"]) != set(cells[method]["trials"]) for r in rivals):
            unpaired.append(dataset)  # means over different class splits
            continue
        compared += 1
        entries = [
            f"{cells[s]['in_share_mean']:.2f} / {100 * cells[s]['accuracy_mean']:.2f}"
            if s in cells
            else ""
            for s in shown
        ]
        verdicts = []
        for name, key in (("IN share", "in_share_mean"), ("accuracy", "accuracy_mean")):
            ours = cells[method][key]
            # Means one float step apart (sums in another order) are a tie.
            wins = all(
                ours > cells[r][key] and not _tied(ours, cells[r][key]) for r in rivals
            )
            holds[name] += wins
            verdicts.append("yes" if wins else "no")
        trials = cells[method]["n_trials"]
        lines.append(
            f"| {dataset} | {trials} | " + " | ".join(entries + verdicts) + " |"
        )
    skipped = []
    for reason, datasets in (
        ("a rival has no cells there (run it)", unrun),
        (f"their trials differ from {method}'s (finish their runs)", unpaired),
    ):
        if datasets:
            skipped += [f"Not compared, since {reason}: {', '.join(datasets)}.", ""]
    if not compared:
        return (
            lines[:4] + [f"No cells with {method} and all of {rivals}.", ""] + skipped
        )
    lines += [
        "",
        f"Higher IN share than every rival on {holds['IN share']} of {compared} "
        f"datasets; higher accuracy on {holds['accuracy']} of {compared}.",
        "",
    ]
    return lines + skipped


def write_claims(results, suites, noise=None):
    """Write ``openset_claims.md`` in `results`; return its path."""
    results = Path(results)
    lines = [
        "# Open-set baselines: their papers' claims on this benchmark",
        "",
        "Written by `python benchmarks/openset_claims.py` from the benchmark's "
        "cells. The IN share counts every queried example after the initial set; "
        "the accuracy is the final round's. Recall of IN examples (the papers' "
        "measure) ranks strategies as the IN share does, since all buy the same "
        "number of labels from the same pool.",
        "",
    ]
    for suite in suites:
        records, _ = load_cells(results, suite)
        if not records:
            raise ValueError(f"{results} holds no cells of the suite {suite!r}.")
        ratios = sorted({r["noise"] for r in records})
        chosen = ratios[-1] if noise is None else noise
        if chosen not in ratios:
            raise ValueError(
                f"The {suite} cells have no noise ratio {noise}; they have {ratios}."
            )
        records = [r for r in records if r["noise"] == chosen]
        rows = summarize_final_round(records, group_keys=("dataset", "strategy"))
        lines += [f"## Suite `{suite}`, {percent(chosen)} noise", ""]
        for claim in CLAIMS:
            lines += claim_lines(rows, **claim)
    path = results / "openset_claims.md"
    write_text_atomic(path, "\n".join(lines) + "\n")
    return path


def main():
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--results-dir",
        type=folder_path,
        default=RESULTS,
        help="the folder whose cells/ are read and where openset_claims.md is "
        "written (default: benchmarks/results, the committed results)",
    )
    parser.add_argument(
        "--suite",
        nargs="+",
        action=Repeatable,
        default=list(CLAIM_SUITES),
        help="suites whose cells are read, e.g. tabular-quick (default: "
        f"{' '.join(CLAIM_SUITES)})",
    )
    parser.add_argument(
        "--noise", type=float, help="noise ratio (default: the highest in the cells)"
    )
    args = parser.parse_args()
    try:
        path = write_claims(args.results_dir, args.suite, args.noise)
    except ValueError as exc:  # nothing written: the committed report stays
        parser.error(str(exc))
    print(f"wrote {path}")


if __name__ == "__main__":
    with stopped_by_signals(WHOLE_OR_NONE, output_last=True):
        main()
