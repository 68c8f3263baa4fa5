"""Your own CSV, a RandomForest and string labels.

A table with a column "label" whose values are names: the classes you care
about, and "unknown" for everything your annotator cannot place (with integer
labels, -1). Without an argument the script writes a stand-in file,
named_digits.csv in the current folder, from scikit-learn's digits (0-3
named "zero" to "three", every other digit "unknown"); pass your own file
instead.

The loop is the one you would run with a real annotator: query, label, teach.
The simulated annotator (OpenSetOracle) answers from the file's labels.

Run: python examples/own_csv_random_forest.py [your.csv]
(SKAL_EXAMPLE_QUICK=1: seconds)
"""

import os
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

from skal_openset import ActiveLearner, MQNetQuery, OpenSetOracle, load_csv_table

QUICK = os.environ.get("SKAL_EXAMPLE_QUICK") == "1"

if len(sys.argv) > 1:
    PATH = Path(sys.argv[1])
else:  # a stand-in for your file: digits 0-3 named, the rest "unknown"
    PATH = Path("named_digits.csv")
    X, digit = load_digits(return_X_y=True)
    names = np.array(["zero", "one", "two", "three"])
    label = np.where(digit < 4, names[np.minimum(digit, 3)], "unknown")
    header = ",".join([f"x{j}" for j in range(X.shape[1])] + ["label"])
    rows = [",".join([*map(str, row), lab]) for row, lab in zip(X, label)]
    PATH.write_text("\n".join([header, *rows]) + "\n")

X, codes, names = load_csv_table(PATH, label_column="label", return_classes=True)
# The labels as written in the file: names are encoded, numbers kept as they are.
text = names.dtype.kind in "OUS"
y = names[codes] if text else codes
OOD = "unknown" if text else -1
print(f"{PATH}: {len(y)} rows, labels {sorted(set(y.tolist()))}")

rng = np.random.RandomState(0)
test = rng.rand(len(y)) < 0.25
X_pool, y_pool = X[~test], y[~test]
X_test, y_test = X[test & (y != OOD)], y[test & (y != OOD)]

oracle = OpenSetOracle(y_pool, ood_label=OOD)
initial = rng.choice(len(y_pool), 20, replace=False)
learner = ActiveLearner(
    RandomForestClassifier(n_estimators=50 if QUICK else 200, random_state=0),
    MQNetQuery(random_state=0),
    X_pool[initial],
    oracle.label(initial),
    # Every IN class, as 20 random rows may miss one that a later query buys.
    classes=np.unique(y[y != OOD]),
    ood_label=OOD,
)
# Rounds numbered as run_active_learning's records: round 1 fits the initial set.
print(f"round 1: the initial set, test accuracy {learner.score(X_test, y_test):.3f}")
for round_ in range(2, (4 if QUICK else 7) + 1):
    unlabelled = np.flatnonzero(~oracle.queried_)
    ranked, _ = learner.query(X_pool[unlabelled], n_instances=20)
    bought, _ = oracle.fill_budget(unlabelled[ranked], budget=20)
    labels = oracle.label(bought)  # your annotator's answers, in a real campaign
    learner.teach(X_pool[bought], labels)
    print(
        f"round {round_}: {np.mean(labels != OOD):.0%} of the query in "
        f"distribution, test accuracy {learner.score(X_test, y_test):.3f}"
    )
print("predicted:", learner.predict(X_test[:5]), "true:", y_test[:5])
