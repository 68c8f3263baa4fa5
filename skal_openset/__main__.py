"""Command line of skal_openset.

``skal-openset demo`` compares MQ-Net with the baselines on the embedded
digits data.
"""

import argparse
import io
import json
import sys
import time
from pathlib import Path

from . import (
    BadgeQuery,
    CoreSetQuery,
    MQNetQuery,
    PurityInformativenessQuery,
    RandomQuery,
    UncertaintyQuery,
    __version__,
    load_digits_dataset,
    make_mlp_classifier,
    make_open_set_split,
    plot_learning_curves,
    run_active_learning,
    summarize_final_round,
    write_records_csv,
)
from ._persistence import atomic_open

DEMO_STRATEGIES = {
    "MQ-Net": MQNetQuery,
    "RANDOM": RandomQuery,
    "CONF": UncertaintyQuery,
    "CORESET": CoreSetQuery,
    "BADGE": BadgeQuery,
    "P+I": PurityInformativenessQuery,
}


def demo_records(seeds, n_rounds, budget, noise_ratio, *, progress=False, out=None):
    """Records of every demo strategy on digits (4 IN / 6 OOD), one run per seed.

    Each seed draws the IN classes, the pool, the initial set (of size
    `budget`) and the nets' initialisation; every strategy runs on the same
    draws. A line per strategy goes to `out` as soon as its runs end.
    """
    X, y = load_digits_dataset()
    splits = [
        make_open_set_split(
            X,
            y,
            n_in_classes=4,
            noise_ratio=noise_ratio,
            initial_size=budget,
            random_state=seed,
        )
        for seed in seeds
    ]
    records = []
    for name, strategy in DEMO_STRATEGIES.items():
        start = time.perf_counter()
        runs = []
        for seed, split in zip(seeds, splits):
            estimator = make_mlp_classifier(
                X.shape[1],
                split.n_classes,
                hidden_sizes=(128,),
                max_epochs=50,
                random_state=seed,
            )
            runs += [
                {"strategy": name, "trial": seed, **record}
                for record in run_active_learning(
                    split,
                    estimator,
                    strategy(random_state=seed),
                    n_rounds=n_rounds,
                    budget=budget,
                    progress=progress,
                )
            ]
        records += runs
        if out is not None:
            (row,) = summarize_final_round(runs)
            print(
                f"{name:8s} final accuracy {row['accuracy_mean']:.3f}  "
                f"AUC {row['auc_mean']:.3f}  OOD labels bought "
                f"{row['ood_labels_mean']:5.1f} of {budget * (n_rounds - 1)}  "
                f"({time.perf_counter() - start:.0f} s)",
                file=out,
                flush=True,
            )
    return records


def summary_table(rows, budget, n_rounds):
    """Markdown table of `summarize_final_round` rows, best AUC first."""
    rows = sorted(rows, key=lambda r: -r["auc_mean"])
    return [
        (
            "| strategy | final accuracy (mean +- std) | AUC | OOD labels bought "
            f"(of {budget * (n_rounds - 1)}) | IN share of queries | s per run |"
        ),
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {r['strategy']} | {r['accuracy_mean']:.3f} +- {r['accuracy_std']:.3f} "
            f"| {r['auc_mean']:.3f} | {r['ood_labels_mean']:.1f} "
            f"| {r['in_share_mean']:.2f} | {r['seconds_mean']:.1f} |"
            for r in rows
        ),
    ]


def run_demo(output, n_trials, n_rounds, budget, noise_ratio, progress=False):
    """Run the demo, print its table and write its outputs once all is done."""
    setting = (
        f"Digits, 4 IN / 6 OOD classes, noise {noise_ratio:.0%}, initial set and "
        f"budget {budget} labels x {n_rounds - 1} rounds, {n_trials} trials"
    )
    print(setting, flush=True)
    records = demo_records(
        list(range(n_trials)),
        n_rounds,
        budget,
        noise_ratio,
        progress=progress,
        out=sys.stdout,
    )
    rows = summarize_final_round(records)
    table = summary_table(rows, budget, n_rounds)
    note = (
        "AUC: test accuracy averaged over the labels bought (area under the "
        "learning curve). OOD labels bought are budget wasted: they never "
        "train the classifier."
    )
    print("\n" + "\n".join(table))

    # Everything is computed before anything is written, and each file is
    # written atomically, so an interrupted demo leaves no partial output.
    figure = _learning_curves_png(records, setting)
    write_records_csv(records, output / "records.csv")
    with atomic_open(output / "summary.json", "w") as f:
        f.write(json.dumps(rows, indent=2) + "\n")
    with atomic_open(output / "summary.md", "w") as f:
        f.write("\n".join([setting, "", *table, "", note]) + "\n")
    with atomic_open(output / "learning_curves.png") as f:
        f.write(figure)
    print(
        f"\nWrote {output}/records.csv, summary.md, summary.json, learning_curves.png"
    )


def _learning_curves_png(records, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plot_learning_curves(records)
    fig.suptitle(title, fontsize="medium")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return buffer.getvalue()


class _Parser(argparse.ArgumentParser):
    """Bad input: one line on stderr and exit status 2, no usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _ratio(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def build_parser():
    parser = _Parser(
        prog="skal-openset",
        description="Open-set active learning with Meta-Query-Net.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="MQ-Net against RANDOM, CONF, CORESET, BADGE and P+I on digits",
        description="Compare MQ-Net with RANDOM, CONF, CORESET, BADGE and P+I on "
        "the embedded digits data (4 IN / 6 OOD classes); print a line per "
        "strategy as it ends, then a table, and write records.csv, summary.md, "
        "summary.json and learning_curves.png.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument(
        "--output",
        type=Path,
        default=Path("demo-output"),
        help="folder for the outputs, written once all runs end",
    )
    demo.add_argument(
        "--trials",
        type=_positive_int,
        default=3,
        help="trials (seeds 0, 1, ...) per strategy",
    )
    demo.add_argument(
        "--rounds",
        type=_positive_int,
        default=6,
        help="rounds, the initial fit included",
    )
    demo.add_argument(
        "--budget",
        type=_positive_int,
        default=30,
        help="labels bought per round; also the initial set's size",
    )
    demo.add_argument(
        "--noise",
        type=_ratio,
        default=0.4,
        help="share of OOD examples in the unlabelled pool",
    )
    demo.add_argument(
        "--progress", action="store_true", help="show a progress bar per run"
    )
    return parser


def main(argv=None):
    """Entry point of the ``skal-openset`` command."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        run_demo(
            args.output,
            args.trials,
            args.rounds,
            args.budget,
            args.noise,
            progress=args.progress,
        )


if __name__ == "__main__":
    main()
