"""Save a campaign while a query waits for its labels; teach them in a new process.

An active-learning campaign can run for days, with labels bought between
sessions. ``ActiveLearner.save`` writes the learner with everything it
learnt (classifier, the strategy's meta-model and its memory of the open
query, the labelled set), together with the package version;
``ActiveLearner.load`` checks the version and gives back a learner that
continues exactly where the saved one stopped.

This example runs 3 rounds of MQ-Net on digits, queries round 4 and saves the
learner, the oracle's accounts and the rows sent to the annotator. A new
Python process loads them, teaches the labels the annotator sent back, and
runs the remaining rounds. It prints the accuracy of each round, and checks
them against a campaign that was never interrupted.

Run: python examples/save_and_resume.py   (SKAL_EXAMPLE_QUICK=1: seconds)
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from skal_openset import (
    ActiveLearner,
    MQNetQuery,
    OpenSetOracle,
    load_digits_dataset,
    load_object,
    make_mlp_classifier,
    make_open_set_split,
    save_object,
)

QUICK = os.environ.get("SKAL_EXAMPLE_QUICK") == "1"
N_ROUNDS, BUDGET = (4, 10) if QUICK else (8, 20)
torch.set_num_threads(1)  # tiny nets: threads cost more than they give


def setting():
    X, y = load_digits_dataset()
    split = make_open_set_split(
        X, y, n_in_classes=4, noise_ratio=0.4, initial_size=20, random_state=0
    )
    return split


def ask(learner, oracle, split):
    """Query the unlabelled pool: the rows to label within the budget."""
    pool = np.flatnonzero(~oracle.queried_)
    ranked, _ = learner.query(split.X_pool[pool], n_instances=BUDGET)
    return oracle.fill_budget(pool[ranked], BUDGET)[0]


def teach(learner, oracle, split, asked):
    """Teach the annotator's labels of the asked rows; the new test accuracy."""
    learner.teach(split.X_pool[asked], oracle.label(asked))
    return learner.score(split.X_test, split.y_test)


def one_round(learner, oracle, split):
    return teach(learner, oracle, split, ask(learner, oracle, split))


def start(split):
    """A learner trained on the initial set, and the oracle that labelled it."""
    oracle = OpenSetOracle(split.y_pool, ood_label=split.ood_label)
    learner = ActiveLearner(
        make_mlp_classifier(
            64, 4, hidden_sizes=(64,), max_epochs=30 if QUICK else 50, random_state=0
        ),
        MQNetQuery(random_state=0),
        ood_label=split.ood_label,
    ).fit(split.X_pool[split.initial_idx], oracle.label(split.initial_idx))
    return learner, oracle


def first_session(folder):
    split = setting()
    learner, oracle = start(split)
    accuracies = [learner.score(split.X_test, split.y_test)]
    accuracies += [one_round(learner, oracle, split) for _ in (2, 3)]
    asked = ask(learner, oracle, split)  # round 4's rows go to the annotator
    learner.save(folder / "learner.joblib")
    save_object({"oracle": oracle, "asked": asked}, folder / "open_query.joblib")
    return accuracies


def second_session(folder):
    split = setting()
    learner = ActiveLearner.load(folder / "learner.joblib")
    state = load_object(folder / "open_query.joblib")
    oracle = state["oracle"]
    print(teach(learner, oracle, split, state["asked"]))  # the labels came back
    for _ in range(5, N_ROUNDS + 1):
        print(one_round(learner, oracle, split))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--continue":
        second_session(Path(sys.argv[2]))
        sys.exit()
    with tempfile.TemporaryDirectory() as folder:
        accuracies = first_session(Path(folder))
        # No path: the folder is deleted when the script ends.
        print("rounds 1-3 done, round 4 asked; campaign saved in a temporary folder")
        later = subprocess.run(
            [sys.executable, __file__, "--continue", folder],
            check=True,
            capture_output=True,
            text=True,
        )
        accuracies += [float(line) for line in later.stdout.split()]
        later_rounds = f" and rounds 5-{N_ROUNDS} run" if N_ROUNDS > 4 else ""
        print(f"round 4 taught{later_rounds} by a new process")
    for round_, accuracy in enumerate(accuracies, start=1):
        print(f"round {round_}: accuracy {accuracy:.3f}")

    # The same campaign without interruption gives the same accuracies.
    split = setting()
    learner, oracle = start(split)
    uninterrupted = [learner.score(split.X_test, split.y_test)]
    uninterrupted += [one_round(learner, oracle, split) for _ in range(2, N_ROUNDS + 1)]
    print(f"same as an uninterrupted campaign: {accuracies == uninterrupted}")
