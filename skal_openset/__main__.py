"""Command line: ``skal-openset demo`` runs the main job on the embedded digits data."""

import argparse
import json
import time
from pathlib import Path

from . import (
    BadgeQuery,
    CoreSetQuery,
    MQNetQuery,
    PurityInformativenessQuery,
    RandomQuery,
    UncertaintyQuery,
    load_digits_dataset,
    make_mlp_classifier,
    make_open_set_split,
    plot_learning_curves,
    run_active_learning,
    summarize_final_round,
    write_records_csv,
)
from ._atomic import atomic_path

DEMO_STRATEGIES = {
    "MQ-Net": MQNetQuery,
    "RANDOM": RandomQuery,
    "CONF": UncertaintyQuery,
    "CORESET": CoreSetQuery,
    "BADGE": BadgeQuery,
    "P+I": PurityInformativenessQuery,
}


def run_demo(output, n_trials, n_rounds, budget, noise_ratio):
    """Digits, 4 IN / 6 OOD classes: every demo strategy over several trials."""
    X, y = load_digits_dataset()
    records = []
    start = time.perf_counter()
    for trial in range(n_trials):
        split = make_open_set_split(
            X,
            y,
            n_in_classes=4,
            noise_ratio=noise_ratio,
            initial_size=budget,
            random_state=trial,
        )
        estimator = make_mlp_classifier(
            X.shape[1],
            split.n_classes,
            hidden_sizes=(128,),
            max_epochs=50,
            random_state=trial,
        )
        for name, strategy in DEMO_STRATEGIES.items():
            runs = run_active_learning(
                split,
                estimator,
                strategy(random_state=trial),
                n_rounds=n_rounds,
                budget=budget,
            )
            records += [{"strategy": name, "trial": trial, **r} for r in runs]
            print(
                f"trial {trial}  {name:8s} final accuracy "
                f"{runs[-1]['test_accuracy']:.3f}",
                flush=True,
            )
    wall = time.perf_counter() - start

    rows = summarize_final_round(records)
    rows.sort(key=lambda r: -r["accuracy_mean"])
    table = [
        f"Digits, 4 IN / 6 OOD classes, noise {noise_ratio:.0%}, budget {budget} x "
        f"{n_rounds - 1} queries, {n_trials} trials ({wall:.0f} s)",
        "",
        "| strategy | final accuracy (mean +- std) | IN share of queries | s per run |",
        "| --- | --- | --- | --- |",
        *(
            f"| {r['strategy']} | {r['accuracy_mean']:.3f} +- {r['accuracy_std']:.3f} "
            f"| {r['in_share_mean']:.2f} | {r['seconds_mean']:.1f} |"
            for r in rows
        ),
    ]
    print("\n" + "\n".join(table))

    # Only now, with all work done, and each file atomically: a Ctrl-C leaves
    # every output file either as it was or complete.
    write_records_csv(records, output / "records.csv")
    with atomic_path(output / "summary.json") as tmp:
        tmp.write_text(json.dumps(rows, indent=2) + "\n")
    with atomic_path(output / "summary.md") as tmp:
        tmp.write_text("\n".join(table) + "\n")
    _save_learning_curves(records, output / "accuracy.png", table[0])
    print(f"\nWrote {output}/records.csv, summary.md, summary.json, accuracy.png")


def _save_learning_curves(records, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = plot_learning_curves(records)
    ax.set_title(title, fontsize="small")
    ax.figure.tight_layout()
    with atomic_path(path) as tmp:
        ax.figure.savefig(tmp, dpi=120, format="png")
    plt.close(ax.figure)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="skal-openset", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="MQ-Net against RANDOM, CONF, CORESET, BADGE and P+I on digits"
    )
    demo.add_argument("--output", type=Path, default=Path("demo-output"))
    demo.add_argument("--trials", type=int, default=3)
    demo.add_argument("--rounds", type=int, default=6)
    demo.add_argument("--budget", type=int, default=30)
    demo.add_argument("--noise", type=float, default=0.4)
    args = parser.parse_args(argv)
    run_demo(args.output, args.trials, args.rounds, args.budget, args.noise)


if __name__ == "__main__":
    main()
