"""The skorch MLP on a table, behind a scaler, in a scikit-learn pipeline.

``make_pipeline(StandardScaler(), make_mlp_classifier(...))`` is the estimator:
the learner trains the whole pipeline, and MQ-Net's distance-based purity and
diverse batch work in the net's penultimate layer after the scaler. The table
is satimage from ``../shared/data`` when it is there (6 land-cover classes, 3
of them in distribution), else scikit-learn's digits; it prints which.

Run: python examples/tabular_mlp_pipeline.py   (SKAL_EXAMPLE_QUICK=1: seconds)
"""

import os
from pathlib import Path

import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skal_openset import (
    MQNetQuery,
    RandomQuery,
    load_csv_table,
    load_digits_dataset,
    make_mlp_classifier,
    make_open_set_split,
    run_active_learning,
    summarize_final_round,
)

QUICK = os.environ.get("SKAL_EXAMPLE_QUICK") == "1"
torch.set_num_threads(1)  # small nets: threads cost more than they give

# ../shared beside the checkout; .parent stops at the root, where parents[2]
# of a copy in /app raised an IndexError.
shared = Path(__file__).absolute().parent.parent.parent / "shared"
table = shared / "data" / "tabular" / "satimage.csv"
if table.exists():
    X, y = load_csv_table(table)
    print(f"satimage from {table}")
else:
    X, y = load_digits_dataset()
    print(f"digits (scikit-learn's): no {table}")
split = make_open_set_split(
    X, y, n_in_classes=3, noise_ratio=0.4, initial_size=30, random_state=0
)
print(split)
estimator = make_pipeline(
    StandardScaler(),
    make_mlp_classifier(
        X.shape[1], split.n_classes, max_epochs=20 if QUICK else 40, random_state=0
    ),
)
records = []
for name, strategy in [("MQ-Net", MQNetQuery), ("RANDOM", RandomQuery)]:
    runs = run_active_learning(
        split,
        estimator,
        strategy(random_state=0),
        n_rounds=3 if QUICK else 6,
        budget=30,
    )
    records += [{**r, "strategy": name, "trial": 0} for r in runs]
for row in summarize_final_round(records):
    print(
        f"{row['strategy']:7s} final accuracy {row['accuracy_mean']:.3f}, "
        f"IN share of queries {row['in_share_mean']:.2f}"
    )
