"""Tables, figures and RESULTS.md from the finished benchmark cells.

Run through ``python benchmarks/openset_benchmark.py report``.
"""

import json
import sys
from decimal import ROUND_HALF_UP, Decimal
from itertools import count
from pathlib import Path

from _common import (
    FIGURE_WIDTH,
    ResultsError,
    held_while_loading,
    panel_grid,
    path_option,
    percent,
    report_module_run_alone,
    save_figure_atomic,
    write_text_atomic,
)

# matplotlib is slow to load, after _common's imports: at the
# start of the scripts that import this module, or in a run that writes its
# report, whose own handler then reports the Ctrl-C.
with held_while_loading():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy.optimize import brentq
    from scipy.stats import multivariate_normal, rankdata, t, ttest_1samp

    from _cells import read_cell, warn_of_mixed_versions
    from openset_benchmark import ABLATIONS, CLASSIFIER_STRATEGIES, RESULTS
    from openset_benchmark import STRATEGIES as STRATEGY_ORDER
    from skal_openset import plot_learning_curves, summarize_final_round
    from skal_openset._plots import (
        legend_layout,
        line_styles,
        same_runs,
        wrap_to_width,
    )

# Cells written before the column was renamed for what it runs (the same
# MQNetQuery parameters).
_RENAMED = {"MQ-Net (paper)": "MQ-Net (exp-z+latest+top-k)"}


def load_cells(results, suite):
    """Records of every finished cell of a suite, each tagged with its cell keys."""
    records, landscapes, contents = [], [], {}
    folder = results / "cells" / suite
    for path in sorted(folder.glob("*.json")):
        cell = contents[path] = read_cell(path)
        keys = {k: v for k, v in cell["cell"].items() if k != "suite"}
        keys["strategy"] = _RENAMED.get(keys["strategy"], keys["strategy"])
        keys.setdefault("variant", "default")
        keys.setdefault("cost_ood", 1.0)
        records += [{**keys, **r} for r in cell["records"]]
        if cell["landscapes"]:
            bought = {r["round"]: r["query_size"] for r in cell["records"]}
            snaps = [_round_query(s, bought[s["round"]]) for s in cell["landscapes"]]
            landscapes.append((keys, snaps))
    warn_of_mixed_versions(folder, contents)
    return records, landscapes


def _round_query(snap, n_bought):
    """`snap` with the query its round bought: the last `n_bought` rows. Cells
    written before 86146f4 hold every earlier query set before them too."""
    first = len(snap["query"]) - n_bought  # not [-n_bought:]: that is all for 0
    return {
        **snap,
        "query": snap["query"][first:],
        "query_is_in": snap["query_is_in"][first:],
    }


# Accuracies are in [0, 1]: two means this close are equal but for float
# rounding (summed in another order), a tie, not a lead.
_TIE = 1e-9


def _tied(mean, best):
    """Whether the mean `mean` (an accuracy or IN share) ties `best`, within
    float rounding (`_TIE`)."""
    return abs(mean - best) <= _TIE


def _points(difference):
    """A difference in points as "+1.36": to 10 decimals, then to 2, a last 5
    rounded away from 0, as by hand.

    One gap computed two ways (a difference of means, a mean of differences)
    lands a float step either side of 1.355, so its binary digits read +1.35
    in one table and +1.36 in another; at 10 decimals both are 1.355. A zero a
    float step below 0 reads +0.00; a small negative, -0.00.
    """
    exact = Decimal(f"{difference:.10f}") + 0  # + 0: -0E-10 to 0E-10
    return f"{exact.quantize(Decimal('0.01'), ROUND_HALF_UP):+.2f}"


def _markdown_header(first, columns):
    """The header and separator lines of a markdown table."""
    return [
        f"| {first} | " + " | ".join(str(c) for c in columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]


def _row_label(row, row_key):
    """A noise ratio as a percentage; any other row key as it is."""
    return percent(row) if row_key == "noise" else row


def _cell_label(record):
    """A record's (dataset, noise) cell, as its table rows and panels name it."""
    return f"{record['dataset']} {percent(record['noise'])}"


def _cell_order(cell):
    """Sort key of a `_cell_label`: by dataset, then by noise ratio."""
    dataset, noise = cell.split()
    return dataset, float(noise[:-1])


def _most_trials(rows, row_key, skipped=frozenset(), by_row=False):
    """The number of trials each table row should hold: every trial of the table.

    Every trial any entry of the table has run, not only of its row: a row
    run over fewer trials than the rest is no peer of them either. The union,
    not the largest count: two entries over 4 trials each may hold different
    class splits, and neither is then a peer of the other. Less the trials
    `skipped` names for the row, ``(row, trial)`` pairs whose class split
    cannot be drawn (the run log's ``skipped_splits``). `by_row`: the trials
    of the row only, for rows that are class splits themselves.
    """
    table = set() if by_row else set().union(*(r["trials"] for r in rows))
    trials = {}
    for r in rows:
        trials.setdefault(r[row_key], set()).update(r["trials"])
    return {
        row: len(union | {t for t in table if (row, t) not in skipped})
        for row, union in trials.items()
    }


def _skipped_trials(results, suite):
    """The ``(cell, trial)`` pairs of a suite whose class split its runs could
    not draw, as `_most_trials` takes them: no run can fill them."""
    log = Path(results) / "cells" / suite / "_runs.jsonl"
    if not log.exists():
        return frozenset()
    return frozenset(
        (_cell_label({"dataset": dataset, "noise": noise}), trial)
        for run in _read_run_log(log)
        for dataset, noise, trial in run.get("skipped_splits", [])
    )


def _n_mark(n, most):
    """The mark (n=k) of an entry over fewer trials (or runs) than its table's most.

    An incomplete grid is marked, not hidden: such a mean is no peer of the
    others in its table; a complete table shows no mark.
    """
    return f" (n={n})" if n < most else ""


def _table(rows, row_key, column_key, columns, skipped=frozenset(), by_row=False):
    """Markdown table of mean +- std, the best mean of each row in bold; an
    entry over fewer trials than `_most_trials` marked (n=k)."""
    cells_of = {}
    for r in rows:
        cells_of.setdefault(r[row_key], {})[r[column_key]] = r
    most = _most_trials(rows, row_key, skipped, by_row)
    lines = _markdown_header(row_key, columns)
    for row, cells in cells_of.items():
        present = [cells[c]["accuracy_mean"] for c in columns if c in cells]
        best = max(present) if present else None
        entries = []
        for c in columns:
            if c not in cells:
                entries.append("")
                continue
            r = cells[c]
            text = f"{100 * r['accuracy_mean']:.2f} +- {100 * r['accuracy_std']:.2f}"
            text = f"**{text}**" if _tied(r["accuracy_mean"], best) else text
            entries.append(text + _n_mark(r["n_trials"], most[row]))
        lines.append(f"| {row} | " + " | ".join(entries) + " |")
    return lines


def _in_share_table(rows, row_key, columns, column_key="strategy", skipped=frozenset()):
    by_row = {}
    for r in rows:
        by_row.setdefault(r[row_key], {})[r[column_key]] = r
    most = _most_trials(rows, row_key, skipped)
    lines = _markdown_header(row_key, columns)
    for row, cells in by_row.items():
        lines.append(
            f"| {row} | "
            + " | ".join(
                f"{cells[c]['in_share_mean']:.2f}"
                + _n_mark(cells[c]["n_trials"], most[row])
                if c in cells
                else ""
                for c in columns
            )
            + " |"
        )
    return lines


def _warn_fewer_trials(section, rows, row_key, column_key, skipped=frozenset()):
    """Name on stderr the entries of a section that miss trials another entry of
    their table has run (the tables mark them " (n=k)")."""
    most = _most_trials(rows, row_key, skipped)
    fewer = [
        f"{r[row_key]} / {r[column_key]} ({r['n_trials']} of {most[r[row_key]]})"
        for r in rows
        if r["n_trials"] < most[r[row_key]]
    ]
    if fewer:
        print(
            f"Warning: {section}: entries that miss trials of the rest of their "
            f"table, marked (n=k) in the tables; finish their runs: {'; '.join(fewer)}",
            file=sys.stderr,
        )


def main_suite_section(results, suite, title):
    records, landscapes = load_cells(results, suite)
    if not records:
        return [], []
    skipped = _skipped_trials(results, suite)
    for r in records:
        r["cell"] = _cell_label(r)
    rows = summarize_final_round(records, group_keys=("cell", "strategy"))
    _warn_fewer_trials(suite, rows, "cell", "strategy", skipped)
    strategies = [s for s in STRATEGY_ORDER if any(r["strategy"] == s for r in rows)]
    rows.sort(key=lambda r: _cell_order(r["cell"]))
    lines = [
        f"## {title}",
        "",
        "Final-round test accuracy (%), mean +- std over trials (population std, "
        "ddof=0); best mean in bold (means equal but for float rounding, within "
        "1e-7 points, all in bold).",
        "",
        *_table(rows, "cell", "strategy", strategies, skipped=skipped),
        "",
        "IN share of all queried examples (mean over trials):",
        "",
        *_in_share_table(rows, "cell", strategies, skipped=skipped),
        "",
    ]
    lines += _goal_lines(rows, skipped)
    lines += _paired_rank_lines(records, strategies)
    lines += _paired_wins_lines(records)
    if len({r["dataset"] for r in records}) > 1:
        # Does the learnt meta-model earn its place in every cell?
        lines += _paired_wins_lines(
            records,
            ("MQ-Net (no meta-model)",),
            "cell",
            "The same against `MQ-Net (no meta-model)`, cell by cell:",
        )
        lines += _resolution_lines(records)
    landscape_paths, slope_lines = _landscape_figures(results, suite, landscapes)
    lines += slope_lines
    return lines, [_accuracy_figure(results, suite, records), *landscape_paths]


STANDARD = ("RANDOM", "CONF", "CORESET", "BADGE", "LL")  # not open-set aware


def _goal_lines(rows, skipped=frozenset()):
    """The benchmark issue's goals, per dataset, computed from the table above.

    At 40% noise and above (the issue's 40% and 60%): MQ-Net's lead over the
    best other strategy (>= 0 means it has the best mean). Below (its 10% and
    20%): its gap to the best standard baseline, against MQ-Net's standard
    deviation. One column per noise ratio MQ-Net ran at.
    """
    cells = {}
    for r in rows:
        dataset, noise = r["cell"].split()
        cells.setdefault(dataset, {}).setdefault(noise, {})[r["strategy"]] = r
    if not any(r["strategy"] == "MQ-Net" for r in rows):
        return []  # a run without MQ-Net has no goal to check
    most = _most_trials(rows, "cell", skipped)
    noises = sorted(
        {r["cell"].split()[1] for r in rows if r["strategy"] == "MQ-Net"},
        key=lambda noise: float(noise[:-1]),
    )
    high = [noise for noise in noises if float(noise[:-1]) >= 40]
    low = [noise for noise in noises if noise not in high]
    goals = []
    if high:
        goals.append(
            f"At {_ratios(high)}: its mean minus the best other strategy's "
            "(points; >= 0: best)"
        )
    if low:
        goals.append(
            f"At {_ratios(low)}: its mean minus the best standard baseline's "
            "(RANDOM, CONF, CORESET, BADGE, LL), and whether that is within one "
            "of MQ-Net's standard deviations"
        )
    lines = [
        "Goal check for `MQ-Net`. " + ". ".join(goals) + ":",
        "",
        *_markdown_header("dataset", noises),
    ]
    for dataset, by_noise in sorted(cells.items()):
        entries = []
        for noise in noises:
            strategies = by_noise.get(noise, {})
            if "MQ-Net" not in strategies:
                entries.append("")
                continue
            ours = strategies["MQ-Net"]
            rivals = [
                r
                for name, r in strategies.items()
                if name != "MQ-Net" and (noise in high or name in STANDARD)
            ]
            if not rivals:
                entries.append("no rival run")
                continue
            top = max(r["accuracy_mean"] for r in rivals)
            best = [r for r in rivals if _tied(r["accuracy_mean"], top)]
            names = " and ".join(r["strategy"] for r in best)  # every one tied
            gap = 100 * (ours["accuracy_mean"] - top)
            ahead = ours["accuracy_mean"] >= top - _TIE  # a tie is no lag
            fewest = min(len(r["trials"]) for r in (ours, *best))
            if noise in high:
                verdict = "best" if ahead else f"behind {names}"
            elif ahead:
                verdict = f"ahead of {names}"
            else:
                within = -gap <= 100 * ours["accuracy_std"]
                verdict = f"{'within' if within else 'outside'} 1 std of {names}"
            mark = _n_mark(fewest, most[f"{dataset} {noise}"])
            entries.append(f"{_points(gap)} ({verdict})" + mark)
        lines.append(f"| {dataset} | " + " | ".join(entries) + " |")
    return lines + [""]


def _ratios(noises):
    """Noise ratios ("10%", "20%") as a goal's label: 10/20%."""
    return "/".join(noise[:-1] for noise in noises) + "%"


def _final_records(records, row_key):
    """The last round of every run, keyed by (dataset, noise, estimator, trial,
    row, strategy)."""
    finals = {}
    for r in records:
        key = (r["dataset"], r["noise"], r.get("estimator"), r["trial"], r[row_key])
        key += (r["strategy"],)
        if r["round"] >= finals.get(key, {"round": 0})["round"]:
            finals[key] = r
    return finals


def _class_split(key):
    """The class split of a `_final_records` key: its (dataset, estimator, trial).

    A trial's IN classes are the same at every noise ratio, so its runs there
    share the split's difficulty.
    """
    return key[0], key[2], key[3]


# What MQ-Net is compared with run by run: its two meta-model ablations (the
# selector from its random start, the defaults before the rule start; the rule
# alone) and the strongest standard and fixed-rule baselines.
PAIRED_AGAINST = (
    "MQ-Net (learnt meta-model)",
    "MQ-Net (no meta-model)",
    "BADGE",
    "P*I",
)


_PAIRED_WINS_INTRO = (
    "`MQ-Net` against each strategy on the same (dataset, trial): wins / ties "
    "(equal final accuracies) / losses, and the mean difference (points) with its "
    "95% confidence interval (paired t); an interval that holds 0 cannot tell "
    "the two apart. A class split's runs at several noise ratios are not "
    "independent, so a pooled row averages each split's differences first "
    "and its interval is over the splits:"
)


def _paired_wins_lines(
    records,
    rivals=PAIRED_AGAINST,
    row_key="noise",
    intro=_PAIRED_WINS_INTRO,
    pools=None,
):
    """MQ-Net's wins, ties and losses against each rival on the same runs.

    `pools`: ``(label, row values)`` of the last rows, each pooling the runs of
    those rows; by default, with several noise ratios, one row pools them all.
    """
    finals = _final_records(records, row_key)
    rivals = [s for s in rivals if any(k[-1] == s for k in finals)]
    if "MQ-Net" not in {k[-1] for k in finals} or not rivals:
        return []
    lines = [
        intro,
        "",
        *_markdown_header(row_key, rivals),
    ]
    # Cells as the other tables order them (as text, "a 5%" after "a 40%").
    rows = sorted(
        {k[-2] for k in finals}, key=_cell_order if row_key == "cell" else None
    )
    if pools is None:
        pools = [("all, pooled", rows)] if row_key == "noise" and len(rows) > 1 else []
    for label, pooled in [(_row_label(row, row_key), (row,)) for row in rows] + pools:
        cells = []
        for rival in rivals:
            by_split = {}
            for k, final in finals.items():
                if k[-2] in pooled and k[-1] == "MQ-Net" and (*k[:-1], rival) in finals:
                    gap = (
                        final["test_accuracy"]
                        - finals[(*k[:-1], rival)]["test_accuracy"]
                    )
                    by_split.setdefault(_class_split(k), []).append(100 * gap)
            gaps = np.concatenate(list(by_split.values()) or [[]])
            # A class split's runs (at several noise ratios) are not independent
            # draws: the mean and interval are over the splits' mean gaps.
            split_gaps = np.array([np.mean(g) for g in by_split.values()])
            cells.append(
                f"{(gaps > 0).sum()}/{(gaps == 0).sum()}/{(gaps < 0).sum()}, "
                f"{_points(split_gaps.mean())} "
                f"{_confidence_interval(split_gaps, _points)}"
                if len(gaps)
                else ""
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines + [""]


def _resolution_lines(records, rival="MQ-Net (no meta-model)", noises=(0.4, 0.6)):
    """What these trials can resolve between MQ-Net and `rival` at high noise.

    From the spread of the paired differences within each (dataset, noise)
    cell, pooled, and a normal model of each cell's mean difference: the
    chance that MQ-Net has the higher mean in at least 8 of 10 cells (5 data
    sets at the two noise ratios) if the two are equal, the true gain that
    would make that chance 80%, and the trials a cell needs for a 95% t
    interval of +-0.5 points. A data set's two cells share their class
    splits, so the model correlates them as their differences correlate,
    split by split; data sets are independent.
    """
    finals = _final_records(records, "noise")
    by_cell = {}
    for k, final in finals.items():
        if k[-1] == "MQ-Net" and k[-2] in noises and (*k[:-1], rival) in finals:
            gap = final["test_accuracy"] - finals[(*k[:-1], rival)]["test_accuracy"]
            by_cell.setdefault((k[0], k[-2]), {})[_class_split(k)] = 100 * gap
    by_cell = {c: g for c, g in by_cell.items() if len(g) > 1}
    if not by_cell:
        return []
    noise = "/".join(f"{100 * n:.0f}" for n in noises)
    # Cells where the two are equal on every run (MQ-Net's defaults rank by
    # the rule at 60%): no spread, and no higher mean for MQ-Net.
    tied = [c for c, g in by_cell.items() if not any(g.values())]
    varying = {c: g for c, g in by_cell.items() if c not in tied}
    variances = [np.var(list(g.values()), ddof=1) for g in varying.values()]
    sd = np.sqrt(np.mean(variances)) if variances else 0.0
    if sd == 0:  # no standard error to size a gain with
        return [
            f"`MQ-Net` minus `{rival}` is the same on every class split within "
            f"each of the {len(by_cell)} cells at {noise}% noise: no spread from "
            "which to say what the trials can resolve.",
            "",
        ]
    n_trials = min(len(g) for g in varying.values())
    se = sd / np.sqrt(n_trials)
    trials = next(n for n in count(2) if t.ppf(0.975, n - 1) * sd / np.sqrt(n) <= 0.5)
    spread = (
        f"`MQ-Net` minus `{rival}` varies from class split to class split with a "
        f"standard deviation of {sd:.2f} points (pooled over {len(varying)} "
        f"cells), so a cell's mean difference has a standard error of {se:.2f}"
    )
    if tied:
        return [
            f"What {n_trials} trials can resolve at {noise}% noise: `MQ-Net` and "
            f"`{rival}` have the same final accuracy on every class split of "
            f"{_cells_named(tied, by_cell)}, so `MQ-Net` has the higher mean in "
            f"at most {len(varying)} of the {len(by_cell)} cells. In the others, "
            f"{spread}, and it takes about {trials} trials a cell for a 95% "
            "interval of +-0.5 points.",
            "",
        ]
    r = _split_correlation(by_cell, noises)

    def chance_of_8_in_10(gain):
        return _chance_of_8_in_10(gain / se, r)

    needed = brentq(lambda gain: chance_of_8_in_10(gain) - 0.8, 0.0, 10 * se)
    return [
        f"What {n_trials} trials can resolve at "
        f"{noise}% noise: within a cell, {spread}; on the same class split the "
        "differences at the two noise ratios "
        f"correlate at {r:+.2f}. If the two were equal, `MQ-Net` would have the "
        f"higher mean in at least 8 of 10 cells with probability "
        f"{chance_of_8_in_10(0.0):.3f}; it takes a true gain of {needed:.2f} points "
        "in every cell for that probability to reach 0.8, and about "
        f"{trials} trials a cell for a 95% interval of +-0.5 points (normal model; "
        "5 data sets, each with that correlation between its two cells).",
        "",
    ]


def _cells_named(cells, by_cell):
    """`cells`, keys ``(dataset, noise)`` of `by_cell`, in words: all of a
    noise ratio's at once."""
    words = []
    for noise in sorted({n for _, n in cells}):
        at = sorted(d for d, n in cells if n == noise)
        if len(at) == sum(n == noise for _, n in by_cell):
            words.append(f"all {len(at)} cells at {100 * noise:.0f}%")
        else:
            words += [f"{dataset} {100 * noise:.0f}%" for dataset in at]
    return ", ".join(words)


def _split_correlation(by_cell, noises):
    """Correlation of a class split's differences at the two noise ratios, each
    centred on its cell's mean and pooled over data sets (0 if none pair up)."""
    low, high = [], []
    for dataset in {d for d, _ in by_cell}:
        first, second = (
            by_cell.get((dataset, noises[0])),
            by_cell.get((dataset, noises[1])),
        )
        if not first or not second:
            continue
        shared = [s for s in first if s in second]
        if len(shared) < 2:
            continue
        a = np.array([first[s] for s in shared])
        b = np.array([second[s] for s in shared])
        low += list(a - a.mean())
        high += list(b - b.mean())
    if len(low) < 3 or np.ptp(low) == 0 or np.ptp(high) == 0:
        return 0.0
    return float(np.corrcoef(low, high)[0, 1])


def _chance_of_8_in_10(z, r):
    """P(at least 8 of 10 cells positive): 5 independent pairs of standard
    normals with correlation `r`, each shifted by `z` standard errors."""
    pair = multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]], allow_singular=True)
    both = pair.cdf([z, z])  # P(X > -z, Y > -z), by symmetry
    neither = pair.cdf([-z, -z])
    positives = np.array([neither, 1 - both - neither, both])  # 0, 1 or 2 of a pair
    total = np.array([1.0])
    for _ in range(5):
        total = np.convolve(total, positives)
    return float(total[8:].sum())


def paired_interval(differences):
    """``(low, high)``: the 95% paired-t interval of the mean difference.

    ``(nan, nan)`` for fewer than 2 differences, whose spread is unknown.
    """
    if len(differences) < 2:  # else one pair read as a zero-width interval
        return np.nan, np.nan
    if np.ptp(differences) == 0:  # every pair equal: no spread to estimate
        return differences[0], differences[0]
    return tuple(ttest_1samp(differences, 0.0).confidence_interval(0.95))


def _confidence_interval(differences, points="{:+.2f}".format):
    """The 95% paired-t interval of the mean difference, as "[low, high]".

    `points` writes each bound, as the mean beside it should be written. By
    default Python's rounding of the binary value, as meta_signal.md,
    kernel_paths.md and preset_reproduction.md were written and FINDINGS.md
    quotes them; RESULTS.md's tables pass `_points`.
    """
    if len(differences) < 2:
        return ""
    low, high = paired_interval(differences)
    return f"[{points(low)}, {points(high)}]"


def _paired_rank_lines(records, strategies, row_key="noise"):
    """Mean rank of each strategy within (cell, trial), per `row_key` value.

    Trials of a cell differ in their class split, whose difficulty dominates
    the standard deviations above; ranking within a trial compares the
    strategies on the same split (1 = best).
    """
    finals = _final_records(records, row_key)
    ranks, incomplete = {}, 0
    for group in {k[:-1] for k in finals}:
        present = [s for s in strategies if (*group, s) in finals]
        incomplete += len(present) < len(strategies)
        accuracy = [finals[(*group, s)]["test_accuracy"] for s in present]
        # Tied strategies share the average of their ranks.
        for s, rank in zip(present, rankdata(-np.array(accuracy))):
            ranks.setdefault(group[-1], {}).setdefault(s, []).append(rank)
    lines = [
        "Mean rank of the final accuracy within each (dataset, trial), i.e. on "
        "the same class split (1 = best; equal final accuracies, on the one test "
        "set of a split, tie and share their average rank):",
        "",
        *_markdown_header(row_key, strategies),
    ]
    for row in sorted(ranks):
        best = min(np.mean(v) for v in ranks[row].values())
        most = max(map(len, ranks[row].values()))
        cells = []
        for s in strategies:
            runs = ranks[row].get(s, [])
            if not runs:  # blank, as its accuracy is
                cells.append("")
                continue
            mean = np.mean(runs)
            text = f"**{mean:.2f}**" if mean == best else f"{mean:.2f}"
            # Ranked on fewer class splits than the rest of its row: marked.
            cells.append(text + _n_mark(len(runs), most))
        lines.append(f"| {_row_label(row, row_key)} | " + " | ".join(cells) + " |")
    if incomplete:
        # The others' ranks there are out of fewer strategies than elsewhere.
        lines += [
            "",
            f"{incomplete} class split(s) lack a strategy's run; there the "
            "strategies present are ranked among themselves.",
        ]
    return lines + [""]


def _accuracy_figure(results, suite, records, names=None):
    """The learning curves of every cell, one panel each; `names` maps a
    strategy to its legend text where its column's name alone would mislead."""
    names = names or {}
    cells = sorted({r["cell"] for r in records}, key=_cell_order)
    present = {r["strategy"] for r in records}
    order = [s for s in STRATEGY_ORDER if s in present]
    order += sorted(present - set(order))
    n_rows, n_cols, width = panel_grid(len(cells))
    # One legend below the grid, where it hides no curve, in rows that fit.
    # The bands overlap where paired gaps are clear: the title says what they
    # are, short enough for a figure of one panel. Past four lines they merge
    # into one shaded area, so they are left out; the tables give the spread.
    band = len(order) <= 4
    runs = {(r["cell"], r["strategy"], r["trial"]) for r in records}
    if len(runs) == len({run[:2] for run in runs}):
        # A line of one run has no mean and no band to name.
        title = "one class split per line"
    elif band:
        title = "mean \u00b1 std over the class splits (unpaired)"
    else:
        title = "mean over the class splits (their spread: the tables)"
    labels, n_legend_cols, legend_inches = legend_layout(
        [names.get(s, s) for s in order], width, title
    )
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(width, 3 * n_rows + legend_inches),
        squeeze=False,
    )
    # One style per strategy in every panel and every figure, also where some
    # lack it: the MQ-Net columns, compared most, take the strong colours
    # first, and MQ-Net itself black, with a star no other line has.
    known = [*STRATEGY_ORDER, *sorted(present - set(STRATEGY_ORDER))]
    others = sorted(
        (s for s in known if s != "MQ-Net"), key=lambda s: not s.startswith("MQ-Net")
    )
    mq_net = {"color": "black", "linestyle": "-", "marker": "*"}
    styles = line_styles(others) | {"MQ-Net": mq_net}
    handles = {}
    for ax, cell in zip(axes.ravel(), cells):
        curves = {}
        for strategy in order:
            runs = [
                r for r in records if r["cell"] == cell and r["strategy"] == strategy
            ]
            if runs:
                ax.set_prop_cycle(**{k: [v] for k, v in styles[strategy].items()})
                plot_learning_curves(runs, ax=ax, band=band)
                curves[strategy] = _curves(runs)
        panel = f"{cell} OOD" if cell.endswith("%") else cell
        # Strategies of the same runs in a panel: one line hides the others.
        # Three of them ran into the next panels' titles and off the figure:
        # in lines as wide as the panel, less its y axis' labels (0.8 in),
        # which shift its centre right of its share of the figure.
        room = width / n_cols - 0.8
        lines = [
            wrap_to_width(line, room, "small") for line in [panel, *same_runs(curves)]
        ]
        ax.set_title("\n".join(lines), fontsize="small", parse_math=False)
        handles.update(zip(*reversed(ax.get_legend_handles_labels())))
        ax.get_legend().remove()
    for ax in axes.ravel()[len(cells) :]:
        ax.axis("off")
    fig.legend(
        [handles[s] for s in order],
        labels,
        loc="lower center",
        ncol=n_legend_cols,
        fontsize="small",
        title=title,
        title_fontsize="small",
    )
    fig.tight_layout(rect=(0, legend_inches / fig.get_figheight(), 1, 1))
    path = results / f"{suite}_accuracy.png"
    save_figure_atomic(fig, path, dpi=90)
    plt.close(fig)
    return path


def _curves(runs):
    """A strategy's runs in a panel: each trial's accuracies, round by round."""
    by_trial = {}
    for r in sorted(runs, key=lambda r: (r["trial"], r["round"])):
        by_trial.setdefault(r["trial"], []).append(r["test_accuracy"])
    return tuple((trial, tuple(accuracies)) for trial, accuracies in by_trial.items())


def _landscape_figures(results, suite, landscapes):
    """Figure 4 per dataset: (a) over rounds at the lowest noise, (b) the last
    round over noise ratios; the meta-score over (informativeness, purity).

    Returns the figures' paths and the lines of a table of the slopes they
    show, so that a text citing them can be checked against the figures.
    """
    paths, slope_rows = [], []
    for dataset in sorted({keys["dataset"] for keys, _ in landscapes}):
        of_dataset = [(k, snaps) for k, snaps in landscapes if k["dataset"] == dataset]
        strategies = sorted({keys["strategy"] for keys, _ in of_dataset})
        trials = sorted({keys["trial"] for keys, _ in of_dataset})
        runs = sorted((keys["noise"], snaps) for keys, snaps in of_dataset)
        # Four rounds spread over the first run's, bar its last: row (b) has it.
        first = runs[0][1]
        picks = np.linspace(0, max(len(first) - 2, 0), min(4, len(first))).round()
        over_rounds = [first[i] for i in sorted(set(picks.astype(int)))]
        lowest = percent(runs[0][0])
        panels = [
            [(f"{lowest} OOD, round {s['round']}", s) for s in over_rounds],
            [
                (f"{percent(noise)} OOD, round {snaps[-1]['round']}", snaps[-1])
                for noise, snaps in runs
            ],
        ]
        n_cols = max(len(row) for row in panels)
        # Still a row each for (a) and (b), but FIGURE_WIDTH wide: a panel
        # 2.5 in wide shows its scores, and "small" text is legible on GitHub.
        width = min(3.2 * n_cols, FIGURE_WIDTH)
        fig, axes = plt.subplots(
            2, n_cols, figsize=(width, 6.6), squeeze=False, layout="constrained"
        )
        slopes = []
        for row, row_axes in zip(panels, axes):
            for ax, (title, snap) in zip(row_axes, row):
                slope = _draw_landscape(ax, snap)
                ax.set_title(f"{dataset} {title}", fontsize="small")
                slopes.append(f"{title} {'-' if slope is None else f'{slope:.2f}'}")
            for ax in row_axes[len(row) :]:
                ax.axis("off")
        trial_words = f"trial {', '.join(map(str, trials))}"
        slope_rows.append(f"| {dataset} | {trial_words} | {'; '.join(slopes)} |")
        fig.suptitle(
            f"{dataset}, {trial_words}: the meta-score of {' and '.join(strategies)}"
        )
        fig.legend(
            *axes[0, 0].get_legend_handles_labels(),
            loc="outside lower center",
            ncol=3,
            fontsize="small",
            title=wrap_to_width(
                "meta-score: yellow high, purple low, white where it was not "
                "sampled (beyond the pool's 99th percentile); dashed: its tangent "
                "at the lowest-scored query",
                width,
                "small",
            ),
            title_fontsize="small",
        )
        path = results / f"{suite}_landscape_{dataset}.png"
        save_figure_atomic(fig, path, dpi=110)
        plt.close(fig)
        paths.append(path)
    if not paths:
        return paths, []
    lines = [
        "The landscapes' tangent slopes (d purity / d informativeness along the "
        "meta-score's iso-line at each panel's lowest-scored query; steeper, more "
        "negative, where informativeness counts more), as the figures below show "
        "them:",
        "",
        "| data set | run | slope by panel |",
        "| --- | --- | --- |",
        *slope_rows,
        "",
    ]
    return paths, lines


def _draw_landscape(ax, snap):
    gi, gp = np.array(snap["grid_informativeness"]), np.array(snap["grid_purity"])
    scores = np.array(snap["grid_scores"])
    ax.contourf(gi, gp, scores, levels=20, cmap="viridis")
    pool, query = np.array(snap["pool"]), np.array(snap["query"])
    is_in = np.array(snap["query_is_in"])
    ax.scatter(pool[:, 1], pool[:, 0], s=2, c="0.6", alpha=0.5, label="pool")
    ax.scatter(
        query[is_in, 1],
        query[is_in, 0],
        s=10,
        c="white",
        edgecolors="black",
        linewidths=0.4,
        label="queried, IN",
    )
    # Outlined in black: red alone was lost on the high meta-scores' yellow
    # to a reader with a red-green colour deficiency.
    ax.scatter(
        query[~is_in, 1],
        query[~is_in, 0],
        s=22,
        c="red",
        marker="X",
        edgecolors="black",
        linewidths=0.4,
        label="queried, OOD",
    )
    # Tangent of the iso-score line through the lowest-scored queried example.
    lowest = query[np.argmin(_interpolate(gi, gp, scores, query))]
    d_i, d_p = np.gradient(scores, gi, axis=1), np.gradient(scores, gp, axis=0)
    gx = _interpolate(gi, gp, d_i, lowest[None])[0]
    gy = _interpolate(gi, gp, d_p, lowest[None])[0]
    slope = None
    if abs(gy) > 1e-12:
        slope = -gx / gy
        xs = np.array([gi[0], gi[-1]])
        ax.plot(xs, lowest[0] + slope * (xs - lowest[1]), "k--", lw=1)
        ax.text(
            0.02,
            0.92,
            f"slope {slope:.2f}",
            transform=ax.transAxes,
            fontsize="small",
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
        )
    # Every queried example in view: those beyond the grid are where OOD ones go.
    ax.set_xlim(gi[0], max(gi[-1], query[:, 1].max()) * 1.02)
    ax.set_ylim(gp[0], max(gp[-1], query[:, 0].max()) * 1.02)
    ax.set_xlabel("informativeness", fontsize="small")
    ax.set_ylabel("purity", fontsize="small")
    ax.tick_params(labelsize="small")
    return slope


def _interpolate(gi, gp, values, points):
    """Nearest grid value at (purity, informativeness) points."""
    col = np.clip(np.searchsorted(gi, points[:, 1]), 0, len(gi) - 1)
    row = np.clip(np.searchsorted(gp, points[:, 0]), 0, len(gp) - 1)
    return values[row, col]


def ablation_section(results):
    records, _ = load_cells(results, "ablations")
    if not records:
        return []
    lines = ["## Ablations", ""]
    for r in records:
        r["cell"] = _cell_label(r)
    variants = [r for r in records if r["variant"] != "default"]
    if variants:
        skipped = _skipped_trials(results, "ablations")
        rows = summarize_final_round(variants, group_keys=("cell", "variant"))
        _warn_fewer_trials("ablations", rows, "cell", "variant", skipped)
        names = [v for v in ABLATIONS if any(r["variant"] == v for r in rows)]
        lines += [
            "`MQNetQuery()` with its defaults "
            "(`input=knn_contrast+margin`: the learnt meta-model ranks "
            "from the second round, the rule P+I where half the initial "
            "labelled set is OOD) and one thing "
            "changed: the purity and informativeness scores (Table 2: "
            "`input=purity+informativeness`; least confidence was the default "
            "until 2026-12-02); the paper's `exp(z)` meta-input "
            "(`exp_zscore`); the top-k batch (`no-diversity`); the batch kept "
            "within the skyline as a set (`batch-skyline`); the rule P+I at every "
            "noise ratio (`rule`: `rule_weight=1`). Then the learnt "
            "meta-model (`learnt`: `rule_weight=0`, the selector alone ranks) and "
            "it with one thing changed: a random labelled sample instead of the "
            "query set as the self-validation set (Table 3: "
            "`learnt-random-validation`); no skyline constraint (Table 4: "
            "`learnt-no-skyline`); half rule, half selector "
            "(`learnt-rule-weight-0.5`); training on the latest query set only "
            "(`learnt-no-accumulate`); in-distribution pairs ranked within their "
            "round only (`learnt-within-round-pairs`); P+I kept unless the selector "
            "wins held-out pairs (`learnt-validate-selector`). Last, "
            "`MQNetQuery.paper()` (`paper-preset`) and it with the defaults' "
            "kNN-contrast purity instead of CSI-lite "
            "(`paper-preset+purity=knn_contrast`) or with the library's "
            "full-batch Adam selector instead of the official SGD schedule "
            "(`paper-preset+adam-selector`). Final accuracy (%), mean +- "
            "population std (ddof=0) over trials:",
            "",
            *_table(rows, "cell", "variant", names, skipped=skipped),
            "",
            "IN share of all queried examples (mean over trials):",
            "",
            *_in_share_table(rows, "cell", names, "variant", skipped),
            "",
        ]
    costs = [r for r in records if r["variant"] == "default"]
    if costs:
        for r in costs:
            r["cost"] = f"{r['dataset']} c_OOD={r['cost_ood']}"
        rows = summarize_final_round(costs, group_keys=("cost", "strategy"))
        _warn_fewer_trials("ablations, OOD cost", rows, "cost", "strategy")
        strategies = [
            s for s in STRATEGY_ORDER if any(r["strategy"] == s for r in rows)
        ]
        lines += [
            "OOD labelling cost (Table 6), 40% noise. Final accuracy (%), mean +- "
            "population std (ddof=0) over trials:",
            "",
            *_table(rows, "cost", "strategy", strategies),
            "",
        ]
    return lines


def per_round_section(results, suite):
    """Table 5: P+I, P*I and MQ-Net accuracy per round."""
    compared = (
        "P+I",
        "P*I",
        "MQ-Net (paper preset)",
        "MQ-Net (exp-z+latest+top-k)",
        "MQ-Net (learnt meta-model)",
        "MQ-Net (no meta-model)",
        "MQ-Net",
    )
    noises = (0.2, 0.4)  # Table 5's
    records, _ = load_cells(results, suite)
    # Else a heading over no table where no compared run is at these ratios.
    records = [r for r in records if r["strategy"] in compared and r["noise"] in noises]
    if not records:
        return []
    lines = ["## Per round: P+I, P*I and MQ-Net (Table 5)", ""]
    for dataset in sorted({r["dataset"] for r in records}):
        for noise in noises:
            sub = [
                r for r in records if r["dataset"] == dataset and r["noise"] == noise
            ]
            if not sub:
                continue
            rounds = sorted({r["round"] for r in sub})
            lines += [
                f"{dataset}, {percent(noise)} noise, mean accuracy (%) per round:",
                "",
                *_markdown_header("strategy", rounds),
            ]
            accuracies = {}
            for r in sub:
                by_trial = accuracies.setdefault((r["strategy"], r["round"]), {})
                by_trial[r["trial"]] = r["test_accuracy"]
            most = len({r["trial"] for r in sub})
            for s in [s for s in compared if any(r["strategy"] == s for r in sub)]:
                entries = [
                    f"{100 * np.mean(list(runs.values())):.2f}"
                    + _n_mark(len(runs), most)
                    if (runs := accuracies.get((s, k)))
                    else ""
                    for k in rounds
                ]
                lines.append(f"| {s} | " + " | ".join(entries) + " |")
            lines.append("")
    return lines


_RUN_KEYS = {"command", "ran", "cells", "wall_seconds", "machine", "date"}


def _read_run_log(log, keys=_RUN_KEYS):
    """The run records of a ``_runs.jsonl`` log, each with `keys`; a ResultsError
    names the file and line."""
    runs = []
    fix = "fix or delete that line (a run stopped while appending it?)"
    for number, line in enumerate(log.read_text().splitlines(), start=1):
        try:
            run = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ResultsError(
                f"{log}, line {number}: not JSON ({exc}); {fix}."
            ) from None
        if not isinstance(run, dict) or not keys <= set(run):
            raise ResultsError(
                f"{log}, line {number}: a run record needs the keys "
                f"{sorted(keys)}; {fix}."
            )
        runs.append(run)
    return runs


def _wall_time(seconds):
    """A run's wall time: in seconds under a minute (2 s read "0.0 min")."""
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def _at_commit(run):
    """ ", at commit X" for a run log that names its code; older logs do not."""
    return f", at commit {run['commit']}" if run.get("commit") else ""


def runs_section(results):
    lines = ["## How these were produced", ""]
    for suite in FULL_SUITES:
        log = results / "cells" / suite / "_runs.jsonl"
        if not log.exists():
            continue
        for run in _read_run_log(log):
            earlier = " (the others had finished in an earlier run)"
            skipped = ", ".join(
                f"{dataset} at {percent(noise)} noise, trial {trial}"
                for dataset, noise, trial in run.get("skipped_splits", [])
            )
            lines.append(
                f"- `{run['command']}`: ran {run['ran']} of {run['cells']} cells"
                f"{earlier if run['ran'] < run['cells'] else ''} in "
                f"{_wall_time(run['wall_seconds'])} wall on {run['machine']} "
                f"({run['date']}{_at_commit(run)})"
                + (
                    f"; skipped, the class split cannot be drawn: {skipped}"
                    if skipped
                    else ""
                )
            )
    return lines + [""]


def classifiers_section(results):
    """MQ-Net and the baselines with each classifier a scikit-learn user brings."""
    records, _ = load_cells(results, "classifiers")
    if not records:
        return []
    for r in records:
        r["cell"] = f"{r['dataset']} / {r['estimator']}"
    rows = summarize_final_round(records, group_keys=("cell", "strategy"))
    _warn_fewer_trials("classifiers", rows, "cell", "strategy")
    rows.sort(key=lambda r: r["cell"])
    return [
        "## Any classifier (UCI tables, 40% noise)",
        "",
        "The same protocol with the skorch MLP (`mlp`) and three scikit-learn "
        "classifiers: `RandomForestClassifier()`, `make_pipeline(StandardScaler(), "
        "LogisticRegression(max_iter=1000))` and `HistGradientBoostingClassifier()`, "
        "with their defaults otherwise and the trial's seed as the forest's and the "
        "boosting's `random_state`. Distance-based scores use the MLP's "
        "penultimate layer, the pipeline's scaled input, or the input. Final-round "
        "accuracy (%), mean +- std over trials (population std, ddof=0); best mean "
        "in bold.",
        "",
        *_table(rows, "cell", "strategy", list(CLASSIFIER_STRATEGIES)),
        "",
        "IN share of all queried examples (mean over trials):",
        "",
        *_in_share_table(rows, "cell", list(CLASSIFIER_STRATEGIES)),
        "",
        *_paired_rank_lines(records, list(CLASSIFIER_STRATEGIES), "estimator"),
    ]


# The suites the report presents; quick cells (``<suite>-quick``) never pass
# for them.
FULL_SUITES = ("tabular", "fashion", "classifiers", "ablations")


# The suites whose cells openset_claims.py checks the claims on (its default).
CLAIM_SUITES = ("tabular", "fashion")


def _claims_reference(results):
    if (results / "openset_claims.md").exists():
        return "[openset_claims.md](openset_claims.md)"
    # Only the suites these cells hold: openset_claims.py refuses a missing one.
    suites = [s for s in CLAIM_SUITES if any((results / "cells" / s).glob("*.json"))]
    if not suites:
        return "none, they need the cells of the tabular or fashion suite"
    option = path_option("--results-dir", results, RESULTS)
    if len(suites) < len(CLAIM_SUITES):
        option += " --suite " + " ".join(suites)
    return f"run `python benchmarks/openset_claims.py{option}` to write them"


def _findings_reference(results):
    # FINDINGS.md is written by hand, for the committed cells only.
    if (results / "FINDINGS.md").exists():
        return "[FINDINGS.md](FINDINGS.md) (written by hand from this run)"
    return (
        "these cells have no FINDINGS.md; the committed run's is "
        "benchmarks/results/FINDINGS.md"
    )


def write_report(results):
    """Write RESULTS.md and its figures; return its path, or None (and say why)
    where no full-suite cell is there to report."""
    results = Path(results)
    if not any(any((results / "cells" / s).glob("*.json")) for s in FULL_SUITES):
        # The hint's run must write where this report reads, not the default.
        option = path_option("--results-dir", results, RESULTS)
        print(
            f"No full-suite cells under {results / 'cells'} to report (quick ones "
            "never are); run a suite without --quick first, e.g. "
            f"python benchmarks/openset_benchmark.py{option} run tabular",
            file=sys.stderr,
        )
        return None
    runs = runs_section(results)  # a damaged run log stops it before any figure
    lines = [
        "# Open-set active learning benchmarks (CPU)",
        "",
        "`MQ-Net` is `MQNetQuery()` with this library's defaults; `MQ-Net (paper "
        "preset)` is `MQNetQuery.paper()`, the paper's configuration as closely as "
        "the target model allows, on the net every column shares (so CONF "
        "informativeness), and `MQ-Net (paper preset, LL head)` the same on a net "
        "with a learning-loss head (so LL); `MQ-Net (learnt meta-model)` is the "
        "defaults with the selector started from its random weights and ranking "
        "alone at any OOD share, as in the paper (`MetaQueryNetSelector()`, the "
        'defaults before they started it from the rule, `init="rule"`, and '
        "`rule_weight=0`), and `MQ-Net (no meta-model)` the "
        "defaults with `rule_weight=1` (the fixed rule P+I ranks); `MQ-Net "
        "(exp-z+latest+top-k)` is that random-start learnt one with the exp(z) "
        "meta-input, the latest query set only, a top-k batch and least "
        "confidence. `MQ-Net` and its learnt and no-meta-model columns rank by "
        "margin informativeness, the default since 2026-12-02 (least "
        "confidence before); `MQ-Net` ranks by the rule P+I where half its "
        'initial labelled set is OOD (`rule_weight="auto"`, the default since '
        "2026-12-02; the learnt selector alone before). The ablations "
        "below use the random start too. `LfOSA`, `EOAL`, `SIMILAR` "
        "and `CCAL` are the open-set baselines `LfOSAQuery()`, `EOALQuery()`, "
        "`SimilarQuery(subsample=5000)` and `CCALQuery()`; their papers' claims "
        f"checked on these cells: {_claims_reference(results)}. What these "
        f"tables say, and why: {_findings_reference(results)}.",
        "",
    ]
    for suite, title in (
        ("tabular", "UCI tables"),
        ("fashion", "Fashion-MNIST (small CNN)"),
    ):
        section, figures = main_suite_section(results, suite, title)
        lines += section
        lines += [f"![{p.stem}]({p.name})" for p in figures] + [""]
    lines += per_round_section(results, "tabular")
    lines += classifiers_section(results)
    lines += ablation_section(results)
    lines += runs
    path = results / "RESULTS.md"
    write_text_atomic(path, "\n".join(lines) + "\n")
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    # A module of openset_benchmark.py: run alone it writes nothing, exit status 1.
    report_module_run_alone("python benchmarks/openset_benchmark.py report")
