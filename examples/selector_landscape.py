"""The Figure 4 landscape: MQ-Net's learnt meta-score over purity and informativeness.

MQ-Net scores every pool example from two inputs, its purity P (how likely it
is IN) and its informativeness I (how much the classifier would learn from
it), with a small network that is monotone in both (the skyline constraint).
After a few rounds the network has learnt how to trade one for the other;
this example draws its meta-score over the (I, P) plane with the pool on top,
as in Figure 4 of the paper. The learnt selector ranks whatever the OOD
share (``rule_weight=0``; the default, ``"auto"``, ranks by the fixed rule
P + I, with no selector to draw, when half the initial labelled set is OOD:
see benchmarks/results/FINDINGS.md).

Run: python examples/selector_landscape.py   (SKAL_EXAMPLE_QUICK=1: seconds)
Writes selector_landscape.png to the current folder.
"""

import os

import matplotlib
import numpy as np
import torch

from skal_openset import (
    MQNetQuery,
    load_digits_dataset,
    make_mlp_classifier,
    make_open_set_split,
    run_active_learning,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt

QUICK = os.environ.get("SKAL_EXAMPLE_QUICK") == "1"
torch.set_num_threads(1)  # tiny nets: threads cost more than they give

X, y = load_digits_dataset()
split = make_open_set_split(
    X, y, n_in_classes=4, noise_ratio=0.4, initial_size=20, random_state=0
)
estimator = make_mlp_classifier(
    64, 4, hidden_sizes=(64,), max_epochs=30 if QUICK else 50, random_state=0
)

# The callback sees the learner after every round; keep the last strategy state.
states = []
run_active_learning(
    split,
    estimator,
    MQNetQuery(rule_weight=0, random_state=0),
    n_rounds=3 if QUICK else 6,
    budget=20,
    callback=lambda record, learner: states.append(learner.query_strategy_),
)
strategy = states[-1]

# The meta-input is the empirical CDF of each score over the pool: in [0, 1].
# Its columns are (purity, informativeness).
grid = np.linspace(0, 1, 60)
informativeness, purity = np.meshgrid(grid, grid)
scores = strategy.selector_.predict(
    np.column_stack([purity.ravel(), informativeness.ravel()])
).reshape(purity.shape)

fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
image = ax.contourf(informativeness, purity, scores, levels=20, cmap="viridis")
fig.colorbar(image, ax=ax, label="meta-score (higher is queried first)")
pool = strategy.pool_meta_input_
ax.scatter(pool[:, 1], pool[:, 0], s=3, c="white", alpha=0.4, label="pool")
# The query sets the meta-model learnt from, with the labels they got.
query, is_in = strategy.validation_meta_input_, strategy.validation_target_ > 0
# Outlined in black: orange and red alone were lost on the high scores' yellow
# to a reader with a red-green colour deficiency.
outlined = dict(s=22, edgecolors="black", linewidths=0.5)
ax.scatter(*query[is_in][:, ::-1].T, c="orange", label="queried, IN", **outlined)
ax.scatter(
    *query[~is_in][:, ::-1].T, c="red", marker="X", label="queried, OOD", **outlined
)
ax.set_xlabel("informativeness (quantile over the pool)")
ax.set_ylabel("purity (quantile over the pool)")
ax.set_title(f"MQ-Net's meta-score after round {len(states)} (digits, 40% OOD)")
legend = ax.legend(loc="lower left", fontsize="small")
# The pool's faint white dot vanished on the legend's white: a grey one there.
legend.legend_handles[0].set(color="0.5", alpha=1)
fig.savefig("selector_landscape.png", dpi=120)

# How the learnt score leans: its gain along each axis over the whole plane.
gain_p = scores[-1, :].mean() - scores[0, :].mean()
gain_i = scores[:, -1].mean() - scores[:, 0].mean()
print(
    f"meta-score gain from lowest to highest purity {gain_p:.3f}, "
    f"informativeness {gain_i:.3f}; wrote selector_landscape.png"
)
