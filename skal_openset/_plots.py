"""Figures: learning curves over rounds with error bands."""

import numpy as np


def plot_learning_curves(
    records, metric="test_accuracy", group_key="strategy", ax=None
):
    """Mean +- standard deviation of a metric over rounds, one line per group.

    Parameters
    ----------
    records : list of dict
        Records of :func:`run_active_learning`, each with ``group_key``,
        ``trial`` and ``round`` keys.
    metric : str, default="test_accuracy"
        Record key to plot.
    group_key : str, default="strategy"
        Record key whose values get one line each.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure if None.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for group in dict.fromkeys(r[group_key] for r in records):
        rows = [r for r in records if r[group_key] == group]
        rounds = np.unique([r["round"] for r in rows])
        values = [[r[metric] for r in rows if r["round"] == k] for k in rounds]
        mean = np.array([np.mean(v) for v in values])
        std = np.array([np.std(v) for v in values])
        (line,) = ax.plot(rounds, mean, marker="o", markersize=3, label=str(group))
        ax.fill_between(
            rounds, mean - std, mean + std, alpha=0.2, color=line.get_color()
        )
    ax.set_xlabel("round")
    ax.set_ylabel(metric.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax
