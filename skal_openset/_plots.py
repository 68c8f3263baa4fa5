"""Figures: learning curves and the OOD labels they cost, mean and band over trials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._experiment import as_records, check_numbers, check_one_run, common_rounds

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

_X_AXES = {
    "labels": "labels bought (initial set excluded)",
    "budget": "budget spent (initial set excluded)",
    "rounds": "round",
}


def _runs(records, group_key):
    """``{group: [run, ...]}``, each run a list of records in round order.

    Records without `group_key` form one group named ``""``; a run is the
    records of one ``trial``, or, without that key, a stretch of increasing
    rounds (so the records of one or several runs can be passed as they are).
    """
    if isinstance(records, Mapping):
        records = {name: as_records(value) for name, value in records.items()}
        for name, value in records.items():
            # else one record failed with a KeyError, no records drew no line unsaid
            if isinstance(value, Mapping):
                raise TypeError(
                    f"records[{name!r}] is one record; pass a list of records "
                    "(one run) or a list of runs."
                )
            if not len(value):
                raise ValueError(
                    f"records[{name!r}] is empty: pass the records of its runs, "
                    f"or leave {name!r} out."
                )
        items = [
            (name, as_records(run))  # a run may be a DataFrame too
            for name, value in records.items()
            for run in (value if not isinstance(value[0], Mapping) else [value])
        ]
    else:
        items = [(None, as_records(records))]
    groups = {}
    for name, rows in items:
        for row in rows:
            if not isinstance(row, Mapping) or "round" not in row:
                raise TypeError(
                    "records must be dicts with a 'round' key, as run_active_learning "
                    f"returns, or a mapping of names to them; got {row!r}."
                )
            group = name if name is not None else row.get(group_key, "")
            runs = groups.setdefault(group, {})
            trial = row.get("trial")
            if trial is None:  # a new run starts where the rounds restart
                previous = runs.get(len(runs) - 1)
                new = previous is None or row["round"] <= previous[-1]["round"]
                trial = len(runs) if new else len(runs) - 1
            runs.setdefault(trial, []).append(row)
    if not groups:
        raise ValueError("records is empty: there is nothing to plot.")
    sorted_runs = {
        group: {t: sorted(run, key=lambda r: r["round"]) for t, run in runs.items()}
        for group, runs in groups.items()
    }
    for group, runs in sorted_runs.items():
        for trial, run in runs.items():
            check_one_run(
                run,
                f"Trial {trial!r} of {group!r}",
                "plot each data set's records apart (e.g. on the axes of a grid)",
            )
    return {group: list(runs.values()) for group, runs in sorted_runs.items()}


# What each series is drawn from, and the record keys it needs.
_SERIES = {
    "labels": ("query_size",),
    "budget": ("budget_spent",),
    "rounds": ("round",),
    "accuracy": ("test_accuracy",),
    "ood": ("query_size", "query_in_share"),
}


def _series(run, name):
    """One series of one run, per round (see `_SERIES`)."""
    if name == "labels":
        return np.cumsum([r["query_size"] for r in run], dtype=float)
    if name == "ood":
        size = np.array([r["query_size"] for r in run], dtype=float)
        in_share = np.nan_to_num([r["query_in_share"] for r in run])  # NaN in round 1
        return np.cumsum(np.rint(size * (1 - in_share)))
    (key,) = _SERIES[name]
    return np.array([r[key] for r in run], dtype=float)


def _check_keys(groups, names):
    """Raise if a record lacks a key that the series `names` are drawn from,
    or holds something else than a number there or under ``round``."""
    needed = {key for name in names for key in _SERIES[name]}
    for group, runs in groups.items():
        for run in runs:
            for record in run:
                if missing := sorted(needed - record.keys()):
                    raise ValueError(
                        f"A record of {group!r} lacks {missing}, which this plot "
                        f"draws from; records of run_active_learning have them. "
                        f"The record: {dict(record)!r}."
                    )
                check_numbers(record, sorted(needed | {"round"}))


def _legend_label(group):
    """`group` as its legend entry: matplotlib leaves out a label that starts
    with "_" (a zero-width space keeps it) and reads "$...$" as math."""
    label = str(group).replace("$", r"\$")
    return "\u200b" + label if label.startswith("_") else label


def _mean_and_band(ax, group, runs, x, y):
    """Mean over runs, round by round, with a +-std band when there are several.

    Runs of different lengths are drawn as far as the shortest goes, with a
    warning: beyond it the mean would be over fewer runs, and could fall or
    rise where no run does.
    """
    n_rounds = common_rounds(
        runs,
        repr(group),
        "its curve ends at round {rounds}, the last one every run reached.",
    )
    xs = np.mean([_series(run, x)[:n_rounds] for run in runs], axis=0)
    ys = np.array([_series(run, y)[:n_rounds] for run in runs])
    mean, std = ys.mean(axis=0), ys.std(axis=0)  # a NaN stays a gap
    (line,) = ax.plot(xs, mean, marker="o", markersize=3, label=_legend_label(group))
    if len(runs) > 1:
        ax.fill_between(xs, mean - std, mean + std, alpha=0.15, color=line.get_color())
    return line


def plot_learning_curves(
    records: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    x: str = "labels",
    group_key: str = "strategy",
    ax: Axes | Sequence[Axes] | np.ndarray | None = None,
) -> Figure | SubFigure:
    """Test accuracy, and OOD labels wasted, against labels bought.

    Draws two panels: the test accuracy and the cumulative number of OOD
    labels bought (the budget wasted on examples that never train the
    classifier), each as the mean over trials with a +- one standard
    deviation band, one line per strategy.

    Parameters
    ----------
    records : list of dict, DataFrame or mapping of str to records
        The records of :func:`run_active_learning` as they come (one run,
        or several runs one after another), or records extended with a
        ``group_key`` (one line per value) and a ``trial`` key, or a mapping
        ``{name: records of one run or list of runs}``; a DataFrame holds
        one record per row (e.g. read back with ``pandas.read_csv``).
    x : {"labels", "budget", "rounds"}, default="labels"
        The x axis: labels bought by queries, budget spent by queries (these
        differ when the OOD cost differs from the IN cost), or round.
    group_key : str, default="strategy"
        Record key whose values get one line each.
    ax : matplotlib Axes or pair of Axes, default=None
        Where to draw: None makes a new figure with both panels; a single
        Axes gets the accuracy panel only (e.g. one cell of a grid); a pair
        gets the accuracy and the OOD panel.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn on; it has no title, so that you can set your own.

    Raises
    ------
    ValueError
        If `x` is not one of the choices, `records` or a name's records are
        empty, a record lacks a key the plot is drawn from, or a trial of a
        line holds a round twice (several runs under one trial) or its rounds
        are not 1, 2, ..., k (rows dropped, e.g. round 1 by ``dropna()``).
    TypeError
        If `records` does not hold records (a name's value is one record,
        not a list), or a value the plot is drawn from is not a number (e.g.
        records read back from a CSV file as strings).

    Warns
    -----
    UserWarning
        If the runs of a line have different numbers of rounds (a pool ran
        out): its curve ends at the last round every run reached, so that
        each point is a mean over the same runs.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skal_openset import plot_learning_curves
    >>> records = [  # what run_active_learning returns, shortened
    ...     {"round": 1, "test_accuracy": 0.6, "query_size": 0,
    ...      "query_in_share": float("nan")},
    ...     {"round": 2, "test_accuracy": 0.7, "query_size": 10,
    ...      "query_in_share": 0.8},
    ... ]
    >>> fig = plot_learning_curves({"MQ-Net": records})
    >>> [a.get_ylabel() for a in fig.axes]
    ['test accuracy', 'OOD labels bought (wasted)']
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if x not in _X_AXES:
        raise ValueError(f"x must be one of {sorted(_X_AXES)}, got {x!r}.")
    groups = _runs(records, group_key)
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    elif isinstance(ax, Sequence) or isinstance(ax, np.ndarray):
        # also a 2-D array, as plt.subplots(1, 2, squeeze=False) gives
        axes = list(np.asarray(ax, dtype=object).ravel())
        fig = axes[0].figure
    else:
        axes, fig = [ax], ax.figure
    panels = ["accuracy", "ood"][: len(axes)]
    _check_keys(groups, [x, *panels])
    for group, runs in groups.items():
        for y, panel in zip(panels, axes):
            _mean_and_band(panel, group, runs, x, y)
    ylabels = ["test accuracy", "OOD labels bought (wasted)"]
    for panel, ylabel in zip(axes, ylabels):
        panel.set_xlabel(_X_AXES[x])
        panel.set_ylabel(ylabel)
        panel.grid(alpha=0.3)
        # Round numbers of labels: 0, 20, 40 rather than 0, 15, 30.
        panel.xaxis.set_major_locator(
            MaxNLocator("auto", integer=True, steps=[1, 2, 5, 10])
        )
        panel.yaxis.set_major_locator(MaxNLocator(integer=panel is not axes[0]))
    if len(groups) > 1 or "" not in groups:
        n_trials = max(len(runs) for runs in groups.values())
        title = "mean \u00b1 std over trials" if n_trials > 1 else None
        if ax is None:  # below both panels, where it hides no curve
            fig.legend(
                *axes[0].get_legend_handles_labels(),
                loc="outside lower center",
                ncol=min(len(groups), 6),
                fontsize="small",
                title=title,
                title_fontsize="small",
            )
        else:
            axes[0].legend(fontsize="small", title=title, title_fontsize="small")
    return fig
