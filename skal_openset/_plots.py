"""Figures: learning curves and the OOD labels they cost, mean and band over trials."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from ._experiment import (
    FRACTIONS,
    as_records,
    check_fractions,
    check_numbers,
    check_one_run,
    common_rounds,
    group_value,
    labels_bought,
    ood_bought,
    trial_of,
)
from ._typing import Records
from ._validation import is_one_of
from ._warn import warn

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
        items = []
        for name, value in records.items():
            runs = value if not isinstance(value[0], Mapping) else [value]
            for i, run in enumerate(map(as_records, runs)):  # a run may be a DataFrame
                if not len(run):  # else the line was drawn from fewer runs unsaid
                    raise ValueError(
                        f"records[{name!r}][{i}] is empty: pass the records of "
                        "each of its runs, or leave that run out."
                    )
                items.append((name, run))
    else:
        items = [(None, as_records(records))]
        _check_group_key_found(items[0][1], group_key)
    groups = {}
    for name, rows in items:
        for row in rows:
            if not isinstance(row, Mapping) or "round" not in row:
                raise TypeError(
                    "records must be dicts with a 'round' key, as run_active_learning "
                    f"returns, or a mapping of names to them; got {row!r}."
                )
            group = name if name is not None else group_value(row.get(group_key, ""))
            runs = groups.setdefault(group, {})
            trial = trial_of(row)
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


def _check_group_key_found(rows, group_key):
    """Refuse records that no `group_key` sorts into lines, though a key of
    names (strings with several values, e.g. ``method``) could: all their
    runs would be averaged into one line, unsaid."""
    rows = [row for row in rows if isinstance(row, Mapping)]
    if not rows or any(group_key in row for row in rows):
        return
    names = {}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, str):
                names.setdefault(key, set()).add(value)
    keys = {key: values for key, values in names.items() if len(values) > 1}
    if keys:
        found = ", ".join(
            f"{key!r} ({', '.join(map(repr, sorted(values)[:3]))}"
            f"{', ...' if len(values) > 3 else ''})"
            for key, values in keys.items()
        )
        raise ValueError(
            f"No record has the key {group_key!r}, so all runs would be drawn as "
            f"one line, but the records differ in {found}: pass "
            f"group_key={next(iter(keys))!r} to draw a line for each."
        )


# What each series is drawn from, and the record keys it needs.
_SERIES = {
    "labels": ("query_size",),
    "budget": ("budget_spent",),
    "rounds": ("round",),
    "accuracy": ("test_accuracy",),
    "ood": ("query_size", "query_in_share"),
}

# The values a panel's series can take: its +-std band stops there.
_BOUNDS = {"accuracy": (0.0, 1.0), "ood": (0.0, None)}


def _series(run, name):
    """One series of one run, per round (see `_SERIES`)."""
    if name == "labels":
        return np.cumsum([labels_bought(r) for r in run], dtype=float)
    if name == "ood":
        return np.cumsum([ood_bought(r) for r in run], dtype=float)
    (key,) = _SERIES[name]
    return np.array([r[key] for r in run], dtype=float)


def _check_keys(groups, names):
    """Raise if a record lacks a key that the series `names` are drawn from,
    holds something else than a number there or under ``round``, or a
    fraction out of [0, 1] (percentages drew a band cut flat at 1)."""
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
        records = [record for run in runs for record in run]
        check_fractions(records, repr(group), sorted(needed.intersection(FRACTIONS)))


def _legend_label(group):
    """`group` as its legend entry: matplotlib leaves out a label that starts
    with "_" (a zero-width space keeps it) and reads "$...$" as math."""
    label = str(group).replace("$", r"\$")
    return "\u200b" + label if label.startswith("_") else label


# A marker per line, so that lines are told apart without their colours
# (printed in grey, or seen with a red-green colour deficiency, in which
# tab10's blue and purple, or its green, orange and brown, look alike).
_MARKERS = ("o", "s", "^", "v", "D", "<", ">", "P", "X", "p")


def line_styles(groups):
    """A colour, line style and marker for each of `groups`, told apart up to 400.

    Matplotlib's default colour cycle repeats after 10 colours. These are
    tab20's strong ones (the default cycle's), solid, then its light ones,
    dashed so that a light line is not taken for its strong pair; past 20
    the colours come round again, dotted, then dash-dotted. Each of the
    10 colours of a round has its own marker, so that no two of 40 lines
    look alike without their colours either (in grey, or to a reader with
    a red-green colour deficiency). Past 40 the colours and line styles
    come round again with the markers shifted by one each time, so that
    no two of 400 lines look alike.

    Parameters
    ----------
    groups : iterable
        The groups, in the order they take the styles.

    Returns
    -------
    styles : dict
        ``{group: {"color": ..., "linestyle": ..., "marker": ...}}``, keyword
        arguments of ``Axes.plot``.
    """
    from matplotlib import colormaps

    tab20 = colormaps["tab20"].colors
    colours = tab20[::2] + tab20[1::2]
    linestyles = ("-", "--", ":", "-.")
    return {
        group: {
            "color": colours[i % 20],
            "linestyle": linestyles[i // 10 % 4],
            "marker": _MARKERS[(i + i // 40) % 10],
        }
        for i, group in enumerate(groups)
    }


def _text_width(line, prop, plain=False):
    """The width of one line of text in points, in the font `prop`: as
    matplotlib draws it ("$...$" as math), or `plain` as written."""
    from matplotlib.path import Path
    from matplotlib.textpath import TextPath

    if plain:  # with every "$" escaped, TextPath reads no math
        line = line.replace("$", r"\$")
    if not line:
        return 0.0
    try:
        path = TextPath((0, 0), line, prop=prop)
    except AttributeError:
        # Matplotlib (3.11) fails on a text that draws no outline, such as a
        # name of a zero-width space (pasted off a web page): no ink, no width.
        return 0.0
    # The span of the outline's points rather than Path.get_extents, which
    # solves every curve for its extremes: most of a legend's layout time.
    # A curve lies within its points, so the span of the points on the curves
    # is the width unless a control point lies beyond them (some math glyphs:
    # up to 13% of their width): only then are the curves solved.
    codes, x = path.codes, path.vertices[:, 0]
    drawn = codes != Path.CLOSEPOLY  # its vertex is no point of the outline
    if not drawn.any():
        return 0.0
    # The points on the curves: the last vertex of each CURVE3 pair or CURVE4
    # triple (counted in runs of the same code), and every other vertex.
    i = np.arange(len(codes))
    run = np.maximum.accumulate(np.where(np.r_[True, codes[1:] != codes[:-1]], i, 0))
    per = np.select([codes == Path.CURVE3, codes == Path.CURVE4], [2, 3], 1)
    on = x[drawn & ((i - run) % per == per - 1)]
    if x[drawn].min() < on.min() or x[drawn].max() > on.max():
        return path.get_extents().width
    return float(on.max() - on.min())


def wrap_to_width(text, width, fontsize="medium"):
    """`text` in lines no wider than `width` inches, in the font size `fontsize`.

    Lines break at spaces, and inside a word (e.g. a file name) too long
    for a line of its own; widths are measured in the font, as in
    :func:`legend_layout`, less 5%: drawn at 100-120 dpi, text runs up to
    3% wider than its outline. The text is measured as written, "$" and
    all: draw it with ``parse_math=False``, else a "$" in a file or class
    name starts math (or fails to parse as math).

    Parameters
    ----------
    text : str
        One line of text, e.g. a figure's title.
    width : float
        The width it may take, in inches.
    fontsize : str or float, default="medium"
        The font size it is drawn in.

    Returns
    -------
    text : str
        `text`, its lines joined by newlines.
    """
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(size=fontsize)
    room = 0.95 * 72 * width
    # From as many characters as fit at the text's mean width down to what
    # fits at the widths of the characters each line holds.
    whole = _text_width(text, prop, plain=True)
    n_chars = max(1, int(len(text) * room / max(whole, 1.0)))
    while True:
        lines = textwrap.wrap(text, n_chars, break_on_hyphens=False)
        widest = max(
            (_text_width(line, prop, plain=True) for line in lines), default=0.0
        )
        if n_chars == 1 or widest <= room:
            return "\n".join(lines)
        n_chars -= 1


def legend_layout(labels, width, title=None, fontsize="small"):
    """Labels, columns and height of a legend that fits `width` inches.

    Labels over 40 characters are wrapped at their spaces (and inside a
    word wider than the figure, see :func:`wrap_to_width`), and the columns
    are as many as fit side by side (at most 6), measured in the font of
    the legend rather than guessed from the number of characters.

    Parameters
    ----------
    labels : list of str
        The legend's entries.
    width : float
        The width it may take, in inches (e.g. the figure's).
    title : str, default=None
        The legend's title, in `fontsize` too, of one line or more.
    fontsize : str or float, default="small"
        The legend's font size.

    Returns
    -------
    labels : list of str
        `labels`, wrapped.
    ncol : int
        The number of columns, for ``legend(ncol=...)``.
    height : float
        The legend's height in inches, frame and padding included: the room
        to leave for it.
    """
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(size=fontsize)
    em = prop.get_size_in_points()
    # In points, with matplotlib's spacings (in font sizes) around an entry.
    handle = (rcParams["legend.handlelength"] + rcParams["legend.handletextpad"]) * em
    gap = rcParams["legend.columnspacing"] * em
    pad = 2 * (rcParams["legend.borderpad"] + rcParams["legend.borderaxespad"]) * em
    room = 72 * width - pad - handle  # of a label in one column
    wrapped = []
    for label in labels:
        text = textwrap.fill(label, 40, break_long_words=False, break_on_hyphens=False)
        if max(_text_width(line, prop) for line in text.split("\n")) > room:
            # A word wider than a column ran off the figure: break it too.
            text = wrap_to_width(label, room / 72, fontsize)
        wrapped.append(text)
    labels = wrapped
    text = max(
        (_text_width(line, prop) for label in labels for line in label.split("\n")),
        default=0.0,
    )
    entry = text + handle
    fits = int((72 * width - pad + gap) // (entry + gap))
    ncol = max(1, min(len(labels), 6, fits))
    n_rows = -(-len(labels) // ncol)
    # The entries fill the columns one after another; a row is as tall as
    # its longest label, a line 1.2 font sizes.
    lines = [label.count("\n") + 1 for label in labels]
    row_lines = sum(max(lines[row::n_rows]) for row in range(n_rows))
    title_lines = 0 if title is None else title.count("\n") + 1
    height = (
        1.2 * em * (row_lines + title_lines)
        + rcParams["legend.labelspacing"] * em * (n_rows - 1 + title_lines)
        + pad
    )
    return labels, ncol, height / 72


def same_runs(curves):
    """A line for each set of names of `curves` whose runs are the same:
    their lines lie one over the other, so that only the last one drawn
    shows.

    Parameters
    ----------
    curves : dict
        ``{name: runs}``, the runs as a hashable value, equal for the same runs.

    Returns
    -------
    lines : list of str
        ``"A = B (the same runs)"`` for each set, in the order of `curves`.
    """
    names = {}
    for name, runs in curves.items():
        names.setdefault(runs, []).append(name)
    same = [" = ".join(group) for group in names.values() if len(group) > 1]
    return [f"{group} (the same runs)" for group in same]


def _styles(groups, order):
    """``{group: Axes.plot keyword arguments}`` for `groups`, by their place in
    `order` (see `plot_learning_curves`); up to 10 groups, a marker each and
    the colours of the axes' cycle."""
    if order is None:
        if len(groups) > 10:
            return line_styles(groups)
        return {group: {"marker": marker} for group, marker in zip(groups, _MARKERS)}
    order = list(order)
    if missing := [group for group in groups if group not in order]:
        raise ValueError(
            f"order lacks {missing}, which the records hold: list every group "
            "of the figure in it."
        )
    if len(order) > 10:
        return line_styles(order)
    return {
        group: {"color": f"C{i}", "marker": marker}
        for i, (group, marker) in enumerate(zip(order, _MARKERS))
    }


# The most rounds a line marks each of; longer lines mark at most _MARKS_PAST.
_MARKED_ROUNDS = 50
_MARKS_PAST = 25


def _mean_and_band(ax, group, runs, x, y, style, band):
    """Mean over runs of as many rounds, round by round, with a +-std band
    when there are several and `band`, cut to the values the series can take
    (no accuracy above 1)."""
    xs = np.mean([_series(run, x) for run in runs], axis=0)
    ys = np.array([_series(run, y) for run in runs])
    mean, std = ys.mean(axis=0), ys.std(axis=0)  # a NaN stays a gap
    style = dict(style)
    marker = style.pop("marker")
    # A marker at each of hundreds of rounds ran into a thick band that hid
    # the lines beneath it: past 50 rounds, at most 25 evenly spaced ones are.
    every = 1 if len(xs) <= _MARKED_ROUNDS else -(-len(xs) // _MARKS_PAST)
    (line,) = ax.plot(
        xs,
        mean,
        markersize=5,
        markevery=every,
        label=_legend_label(group),
        **style,
    )
    if line.get_marker() == "None":  # a marker of the axes' cycle is kept
        line.set_marker(marker)
    if band and len(runs) > 1:
        low, high = _BOUNDS[y]
        ax.fill_between(
            xs,
            np.clip(mean - std, low, high),
            np.clip(mean + std, low, high),
            alpha=0.15,
            color=line.get_color(),
        )
    return line


def _given_axes(ax):
    """`ax`, an Axes or a pair of them, as a list; raise if it is neither
    (more Axes were left empty, none failed with a bare IndexError)."""
    from matplotlib.axes import Axes

    # A pair in any sequence, or a 2-D array, as plt.subplots(1, 2,
    # squeeze=False) gives.
    axes = [ax] if isinstance(ax, Axes) else list(np.ravel(np.array(ax, object)))
    forms = (
        "ax must be None, a Figure, a SubFigure, an Axes or a pair of Axes (for "
        "the accuracy and the OOD panel)"
    )
    if not all(isinstance(one, Axes) for one in axes):
        raise TypeError(f"{forms}; got {ax!r}.")
    if not 1 <= len(axes) <= 2:
        raise ValueError(f"{forms}; got {len(axes)} Axes.")
    return axes


def _room_below(fig, legend):
    """Give a Figure without a layout engine constrained layout, the one that
    makes room for a legend "outside" the panels (without it the legend lay
    over the x axis labels); warn where the `legend` would overlap them.

    A SubFigure's layout is its whole figure's, which is the caller's.
    """
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    engine = fig.get_layout_engine()
    if engine is None and isinstance(fig, Figure):
        fig.set_layout_engine("constrained")
    elif legend and not isinstance(engine, ConstrainedLayoutEngine):
        warn(
            "The legend below the panels overlaps their axis labels in a figure "
            "without constrained layout: make the figure with "
            'layout="constrained" (e.g. plt.figure(layout="constrained") before '
            "its subfigures)."
        )


# Lines of one run or several, or per name the records of a run or its runs.
_Curves = Records | Mapping[str, Records | Sequence[Records]]


# The figure drawn on is the one made, the one given, or the Axes' own (a
# SubFigure where they lie in one): only a Figure has savefig.
@overload
def plot_learning_curves(
    records: _Curves,
    *,
    x: str = ...,
    group_key: str = ...,
    ax: Figure | None = ...,
    order: Sequence[Any] | None = ...,
    band: bool = ...,
) -> Figure: ...


@overload
def plot_learning_curves(
    records: _Curves,
    *,
    x: str = ...,
    group_key: str = ...,
    ax: SubFigure,
    order: Sequence[Any] | None = ...,
    band: bool = ...,
) -> SubFigure: ...


@overload
def plot_learning_curves(
    records: _Curves,
    *,
    x: str = ...,
    group_key: str = ...,
    ax: Axes | Sequence[Axes] | np.ndarray,
    order: Sequence[Any] | None = ...,
    band: bool = ...,
) -> Figure | SubFigure: ...


def plot_learning_curves(
    records: _Curves,
    *,
    x: str = "labels",
    group_key: str = "strategy",
    ax: Axes | Sequence[Axes] | np.ndarray | Figure | SubFigure | None = None,
    order: Sequence[Any] | None = None,
    band: bool = True,
) -> Figure | SubFigure:
    """Test accuracy, and OOD labels wasted, against labels bought.

    Draws two panels: the test accuracy and the cumulative number of OOD
    labels bought (the budget wasted on examples that never train the
    classifier), each as the mean over trials with a +- one standard
    deviation band (`band`; cut to an accuracy in [0, 1], at least 0 OOD
    labels), one line per strategy, marking each round up to 50 rounds
    and at most 25 evenly spaced ones beyond (more ran into a thick
    band). Up to 10 lines take the colours of the axes' cycle; more, as
    matplotlib's default cycle repeats after 10, take tab20's colours, the
    light ones dashed. Each line has its own marker too (the axes' cycle's,
    where it sets them), so that the lines are told apart in grey or with
    a red-green colour deficiency; for colours that such a reader tells
    apart as well, draw under a style such
    as ``plt.style.use("tableau-colorblind10")``. Lines of the same runs
    lie one over the other: the legend's title names them (``"A = B (the
    same runs)"``).

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
        Record key whose values get one line each. Records without it are
        one line; where no record has it but the records hold several names
        under another key (e.g. ``method``), the plot is refused, naming it.
    ax : matplotlib Axes, pair of Axes, Figure or SubFigure, default=None
        Where to draw: None makes a new figure with both panels and the
        legend below them; a Figure or SubFigure gets the same (e.g. a
        Figure made without pyplot). The legend needs constrained layout,
        which makes room for it: a Figure without a layout engine is given
        it; a SubFigure's is its figure's, so make that figure with
        ``layout="constrained"``. A single Axes gets the accuracy panel
        only (e.g. one cell of a grid); a pair gets the accuracy and the OOD
        panel, the legend in the first.
    order : sequence, default=None
        Every group of the figure, in the order they take their styles
        (colours ``C0``, ``C1``, ... of the style's colour cycle, not of an
        Axes' own ``set_prop_cycle``; past 10 groups tab20's, as without
        it). A group keeps its style whichever groups
        the records hold, e.g. in a grid of panels (``ax=`` each cell) where
        one panel lacks a strategy, under a legend shared by the panels.
        None: the groups of the records, in their order, take the colours of
        the axes' cycle, so a group's colour depends on the groups before it.
    band : bool, default=True
        Whether to shade the +- one standard deviation band around each mean
        of several trials. False draws the means alone, e.g. for many lines,
        whose bands overlap into one shaded area.

    Returns
    -------
    fig : matplotlib Figure or SubFigure
        The figure drawn on: a new Figure for ``ax=None``, else `ax` itself
        or the figure of its Axes (a SubFigure where they lie in one). It
        has no title, so that you can set your own. In a notebook, a cell
        that ends with the call shows it twice, as it does any pyplot figure
        it returns (as its value, and by the inline backend): assign it,
        ``fig = plot_learning_curves(records)``, or end the line with ``;``.

    Raises
    ------
    ValueError
        If `x` is not one of the choices, `ax` holds no Axes or more than
        two, `records`, a name's records or one of its runs is empty,
        `order` lacks a group of the records, a record lacks a key the plot
        is drawn from, its ``trial`` or ``query_size`` is NaN or its
        ``query_in_share`` is where it bought labels (e.g. a blank cell read
        back with ``pandas.read_csv``), a test accuracy or IN share is out
        of [0, 1] (e.g. a percentage), or a trial of a line holds a round
        twice (several runs under one trial) or its rounds are not 1, 2,
        ..., k (rows dropped, e.g. round 1 by ``dropna()``).
    TypeError
        If `band` is not a bool, `ax` is none of the choices, `records`
        does not hold records (a name's value is one record, not a list), or
        a value the plot is drawn from is not a number (e.g. records read
        back from a CSV file as strings).

    Warns
    -----
    UserWarning
        If the runs of a line have different numbers of rounds (a pool ran
        out): its curve ends at the last round every run reached, so that
        each point is a mean over the same runs. If every test accuracy of a
        line is NaN: the accuracy panel has no line for it. If the legend below the
        panels would overlap their axis labels: `ax` is a SubFigure of a
        figure without constrained layout, or a Figure with another layout
        engine (e.g. ``layout="tight"``).

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

    A grid of panels, one per data set, where one lacks a strategy: with
    `order`, each strategy has the same colour in every panel.

    >>> import matplotlib.pyplot as plt
    >>> fig, (left, right) = plt.subplots(1, 2)
    >>> _ = plot_learning_curves({"RANDOM": records, "MQ-Net": records}, ax=left,
    ...                          order=["RANDOM", "MQ-Net"])
    >>> _ = plot_learning_curves({"MQ-Net": records}, ax=right,
    ...                          order=["RANDOM", "MQ-Net"])
    >>> left.get_lines()[1].get_color() == right.get_lines()[0].get_color()
    True
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.ticker import MaxNLocator

    if not is_one_of(x, *_X_AXES):
        raise ValueError(f"x must be one of {sorted(_X_AXES)}, got {x!r}.")
    if not isinstance(band, (bool, np.bool_)):
        raise TypeError(f"band must be True or False, got {band!r}.")
    groups = _runs(records, group_key)
    named = len(groups) > 1 or "" not in groups  # else the legend tells nothing
    n_trials = max(len(runs) for runs in groups.values())
    if n_trials == 1:
        title = None
    else:
        title = "mean \u00b1 std over trials" if band else "mean over trials"
    own_panels = ax is None or isinstance(ax, (Figure, SubFigure))
    given = [] if own_panels else _given_axes(ax)
    panels = ["accuracy", "ood"][: 2 if own_panels else len(given)]
    _check_keys(groups, [x, *panels])
    # Lines of the same runs lie one over the other: the legend's title says so.
    drawn = {
        _legend_label(group): tuple(
            tuple(_series(run, name).tobytes() for name in (x, *panels)) for run in runs
        )
        for group, runs in groups.items()
    }
    notes = same_runs(drawn)
    fig: Figure | SubFigure
    below = None  # the wrapped labels and columns of a legend below the panels
    if ax is None or isinstance(ax, (Figure, SubFigure)):
        # Both panels, and the legend below them, where it hides no curve,
        # in rows that fit the figure.
        width = 10.0 if ax is None else ax.bbox.width / ax.dpi
        legend_height = 0.0
        if named:
            notes = [wrap_to_width(note, width, "small") for note in notes]
            title = "\n".join(filter(None, [title, *notes])) or None
            # Matplotlib leaves out an unnamed line (label ""), as the legend does.
            shown = [label for label in map(_legend_label, groups) if label]
            wrapped, ncol, legend_height = legend_layout(shown, width, title)
            below = dict(zip(shown, wrapped)), ncol
        if ax is None:
            fig = plt.figure(figsize=(width, 4 + legend_height), layout="constrained")
        else:
            fig = ax
            _room_below(fig, below is not None)
        axes = list(fig.subplots(1, 2))
    else:
        axes = given
        fig = axes[0].figure
        title = "\n".join(filter(None, [title, *notes])) or None
    styles = _styles(groups, order)
    for group, runs in groups.items():
        if all(np.isnan(_series(run, "accuracy")).all() for run in runs):
            warn(
                f"The records of {group!r} hold no test accuracy (NaN in every "
                "round), so the accuracy panel has no line for it: give the "
                "runs a test set (run_active_learning scores the split's)."
            )
        # Runs of different lengths are drawn as far as the shortest goes:
        # beyond it the mean would be over fewer runs, and could fall or rise
        # where no run does. Warned of once per line, not once per panel.
        n_rounds = common_rounds(
            runs,
            repr(group),
            "its curve ends at round {rounds}, the last one every run reached.",
        )
        runs = [run[:n_rounds] for run in runs]
        for y, panel in zip(panels, axes):
            _mean_and_band(panel, group, runs, x, y, styles[group], band)
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
        # A count over one value (one round; no OOD label bought) got
        # matplotlib's +-5% around it, and ticks such as -0.04 and 0.02. Not
        # on a shared axis: its limits would cut the other panels' curves.
        (x0, x1), (y0, y1) = panel.dataLim.intervalx, panel.dataLim.intervaly
        if x0 == x1 and len(panel.get_shared_x_axes().get_siblings(panel)) == 1:
            panel.set_xlim(x0 - 1, x0 + 1)
            panel.set_xticks([x0])
        alone = len(panel.get_shared_y_axes().get_siblings(panel)) == 1
        if panel is not axes[0] and y0 == y1 and alone:
            panel.set_ylim(y0 - 0.05, y0 + 1.05)  # the count at the bottom
    if below is not None:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(
            handles,
            [below[0][label] for label in labels],
            loc="outside lower center",
            ncol=below[1],
            fontsize="small",
            title=title,
            title_fontsize="small",
        )
    elif named:
        axes[0].legend(fontsize="small", title=title, title_fontsize="small")
    return fig
