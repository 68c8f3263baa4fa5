"""OOD labelling costs and a budget (MQ-Net, Eq. 1).

Labelling an OOD example can cost more (or less) than labelling an IN one: an
annotator may need longer to decide that an image belongs to none of the
classes. With costs c_IN and c_OOD, a query set S costs
C(S) = sum over S of (c_IN if IN else c_OOD), and every round buys examples in
the strategy's order until the round's budget is spent.

This example runs MQ-Net and CONF on digits (4 IN / 6 OOD classes, 40% OOD in
the pool) with c_OOD = 0.5, 1, 2 and 4, and prints how many labels the same
budget bought and how much of it went to OOD examples. The cost of OOD labels
is why purity matters: CONF, which favours uncertain (often OOD) examples,
buys fewer labels as c_OOD grows.

Run: python examples/ood_labelling_costs.py   (SKAL_EXAMPLE_QUICK=1: seconds)
"""

import os

import torch

from skal_openset import (
    MQNetQuery,
    UncertaintyQuery,
    load_digits_dataset,
    make_mlp_classifier,
    make_open_set_split,
    run_active_learning,
)

QUICK = os.environ.get("SKAL_EXAMPLE_QUICK") == "1"
torch.set_num_threads(1)  # tiny nets: threads cost more than they give

X, y = load_digits_dataset()
split = make_open_set_split(
    X, y, n_in_classes=4, noise_ratio=0.4, initial_size=20, random_state=0
)
estimator = make_mlp_classifier(
    64, 4, hidden_sizes=(64,), max_epochs=30 if QUICK else 50, random_state=0
)
budget, n_rounds = 20, 3 if QUICK else 5

print(f"budget {budget} per round, {n_rounds - 1} query rounds")
print("strategy  c_OOD  labels bought  OOD labels  spent on OOD  final accuracy")
for name, strategy in [("MQ-Net", MQNetQuery), ("CONF", UncertaintyQuery)]:
    for cost_ood in (0.5, 1.0, 2.0, 4.0):
        records = run_active_learning(
            split,
            estimator,
            strategy(random_state=0),
            n_rounds=n_rounds,
            budget=budget,
            cost_ood=cost_ood,
        )
        bought = sum(r["query_size"] for r in records)
        n_ood = sum(
            round(r["query_size"] * (1 - r["query_in_share"])) for r in records[1:]
        )
        print(
            f"{name:8s}  {cost_ood:5.1f}  {bought:13d}  {n_ood:10d}  "
            f"{n_ood * cost_ood / records[-1]['budget_spent']:12.0%}  "
            f"{records[-1]['test_accuracy']:14.3f}"
        )
