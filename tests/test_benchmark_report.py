"""The benchmark report's statistics (benchmarks/report.py)."""

import contextlib
import json
import shlex
import shutil
import sys
import warnings

import numpy as np
import pytest
from scipy.stats import t

import openset_claims
import report
from _cells import write_cell
from _figures import check_legible
from report import _paired_rank_lines, _paired_wins_lines


def _final(strategy, trial, accuracy):
    return dict(
        dataset="d",
        noise=0.4,
        trial=trial,
        strategy=strategy,
        round=3,
        test_accuracy=accuracy,
    )


def test_paired_wins_count_mqnet_against_each_rival_on_the_same_trial():
    accuracies = {0: (0.9, 0.8), 1: (0.7, 0.7), 2: (0.5, 0.6)}
    records = [
        _final(strategy, trial, accuracy)
        for trial, row in accuracies.items()
        for strategy, accuracy in zip(("MQ-Net", "BADGE"), row)
    ]
    lines = _paired_wins_lines(records, rivals=("BADGE", "absent"))
    assert lines[2] == "| noise | BADGE |"
    # Gaps of +10, 0 and -10 points: mean 0, standard error 10 / sqrt(3).
    half_width = t.ppf(0.975, df=2) * 10 / np.sqrt(3)
    assert lines[-2] == (
        f"| 40% | 1/1/1, +0.00 [{-half_width:+.2f}, {half_width:+.2f}] |"
    )


def test_paired_wins_take_each_rivals_own_accuracy():
    # Two rivals on the same two trials: MQ-Net +10 points over BADGE, -5 under
    # P*I on each.
    records = [
        _final(strategy, trial, accuracy)
        for trial in (0, 1)
        for strategy, accuracy in (("MQ-Net", 0.85), ("BADGE", 0.75), ("P*I", 0.9))
    ]
    lines = _paired_wins_lines(records, ("BADGE", "P*I"))
    assert lines[-2] == (
        "| 40% | 2/0/0, +10.00 [+10.00, +10.00] | 0/0/2, -5.00 [-5.00, -5.00] |"
    )


def test_paired_wins_pool_the_noise_ratios_in_a_last_row():
    records = [
        dict(_final(strategy, trial, accuracy), noise=noise)
        for noise, gap in ((0.4, 0.02), (0.6, -0.01))
        for trial in (0, 1)
        for strategy, accuracy in (("MQ-Net", 0.9 + gap), ("BADGE", 0.9))
    ]
    lines = _paired_wins_lines(records, ("BADGE",))
    # Each class split (trial) gains +2 at 40% and -1 at 60%: +0.5 on both.
    assert lines[-4:-1] == [
        "| 40% | 2/0/0, +2.00 [+2.00, +2.00] |",
        "| 60% | 0/0/2, -1.00 [-1.00, -1.00] |",
        "| all, pooled | 2/0/2, +0.50 [+0.50, +0.50] |",
    ]


def test_a_pooled_interval_is_over_class_splits_not_runs():
    # Two splits, each run at two noise ratios: the four runs are two draws of
    # a split's difficulty, so the interval has 1 degree of freedom, not 3.
    gaps = {(0, 0.4): 0.03, (0, 0.6): 0.01, (1, 0.4): -0.01, (1, 0.6): -0.01}
    records = [
        dict(_final(strategy, trial, accuracy), noise=noise)
        for (trial, noise), gap in gaps.items()
        for strategy, accuracy in (("MQ-Net", 0.9 + gap), ("BADGE", 0.9))
    ]
    pooled = _paired_wins_lines(records, ("BADGE",))[-2]
    # Split means +2 and -1 points: mean +0.5, standard error 1.5.
    half_width = t.ppf(0.975, df=1) * 1.5
    assert pooled == (
        f"| all, pooled | 2/0/2, +0.50 [{0.5 - half_width:+.2f}, "
        f"{0.5 + half_width:+.2f}] |"
    )


def test_paired_wins_by_cell_name_each_cell():
    records = [
        dict(_final(strategy, trial, accuracy), dataset=d, cell=f"{d} 40%")
        for d, gap in (("a", 0.02), ("b", -0.01))
        for trial in (0, 1)
        for strategy, accuracy in (("MQ-Net", 0.9 + gap), ("BADGE", 0.9))
    ]
    lines = _paired_wins_lines(records, ("BADGE",), "cell", "intro")
    assert lines[0] == "intro"
    # Equal gaps within a cell: the interval is the gap itself.
    assert lines[-3:-1] == [
        "| a 40% | 2/0/0, +2.00 [+2.00, +2.00] |",
        "| b 40% | 0/0/2, -1.00 [-1.00, -1.00] |",
    ]


def test_one_difference_has_no_interval():
    # One pair has no spread to estimate: it read as the zero-width [3, 3],
    # which meta_signal's figure drew as a certain gain.
    assert np.isnan(report.paired_interval(np.array([3.0]))).all()
    assert report.paired_interval(np.array([3.0, 3.0])) == (3.0, 3.0)


def test_equal_differences_are_their_own_interval_without_a_warning():
    # Left to scipy, equal gaps (3 points as 100 * (0.83 - 0.8), not exactly
    # 3) warn of "catastrophic cancellation" into the report's output.
    gaps = np.full(4, 100 * (0.83 - 0.8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert report.paired_interval(gaps) == (gaps[0], gaps[0])


def test_tied_strategies_share_their_average_rank():
    accuracies = {0: (0.9, 0.9, 0.8), 1: (0.7, 0.7, 0.7)}
    records = [
        _final(strategy, trial, accuracy)
        for trial, row in accuracies.items()
        for strategy, accuracy in zip("ABC", row)
    ]
    row = _paired_rank_lines(records, ["A", "B", "C"])[-2]
    # Trial 0: A and B share ranks 1-2, C is 3; trial 1: all share 1-3.
    assert row == "| 40% | **1.75** | **1.75** | 2.50 |"


def test_a_strategy_without_runs_in_a_row_has_a_blank_rank():
    # A report of cells that lack a strategy printed "nan" in its rank column
    # while its accuracy and IN-share columns were blank.
    records = [_final(s, trial, 0.8 + trial / 10) for trial in (0, 1) for s in "AC"]
    [row] = [
        x for x in _paired_rank_lines(records, ["A", "B", "C"]) if x.startswith("| 40%")
    ]
    assert row == "| 40% | **1.50** |  | **1.50** |"


def _curves(strategies_of_cell):
    """Two-round learning curves of trial 0 for each cell's strategies."""
    return [
        dict(
            _final(s, 0, 0.5),
            round=k,
            cell=cell,
            query_size=10,
            budget_spent=10 * k,
            query_in_share=0.5,
        )
        for cell, strategies in strategies_of_cell.items()
        for s in strategies
        for k in (1, 2)
    ]


def _colours_drawn(monkeypatch):
    """``{strategy: colours}`` of the curves the report draws from now on."""
    colours = {}

    def plot(runs, ax, **kwargs):
        report_plot(runs, ax=ax, **kwargs)
        for line in ax.get_lines():
            if not line.get_label().startswith("_"):
                colours.setdefault(line.get_label(), set()).add(line.get_color())

    report_plot = report.plot_learning_curves
    monkeypatch.setattr(report, "plot_learning_curves", plot)
    return colours


def test_a_strategy_has_one_colour_in_every_panel(tmp_path, monkeypatch):
    # Cell "a 40%" lacks RANDOM, so a colour cycle per panel would shift CONF.
    records = _curves({"a 40%": ("CONF",), "b 40%": ("RANDOM", "CONF")})
    colours = _colours_drawn(monkeypatch)
    report._accuracy_figure(tmp_path, "s", records)
    assert len(colours["CONF"]) == 1
    assert colours["CONF"] != colours["RANDOM"]


@pytest.mark.parametrize("n_strategies, bands", [(4, True), (5, False)])
def test_a_figure_of_many_strategies_draws_no_bands(
    tmp_path, monkeypatch, n_strategies, bands
):
    # Seventeen strategies' bands overlapped into one shaded area.
    drawn = []

    def plot(runs, ax, **kwargs):
        report_plot(runs, ax=ax, **kwargs)
        drawn.append(len(ax.collections))

    report_plot = report.plot_learning_curves
    monkeypatch.setattr(report, "plot_learning_curves", plot)
    curves = _curves({"a 40%": tuple(report.STRATEGY_ORDER[:n_strategies])})
    two_trials = curves + [dict(r, trial=1, test_accuracy=0.6) for r in curves]
    report._accuracy_figure(tmp_path, "s", two_trials)
    assert all(drawn) if bands else not any(drawn)


def test_a_strategy_has_one_colour_in_every_figure(tmp_path, monkeypatch):
    # Styles followed the strategies a figure held: RANDOM was brown in the
    # tables' figure and red in a figure without LfOSA and the rest.
    colours = _colours_drawn(monkeypatch)
    every = [s for s in report.STRATEGY_ORDER if s != "LfOSA"]
    report._accuracy_figure(tmp_path, "s", _curves({"a 40%": every}))
    report._accuracy_figure(tmp_path, "s", _curves({"a 40%": ("RANDOM", "CONF")}))
    assert len(colours["RANDOM"]) == len(colours["CONF"]) == 1


def test_each_strategy_is_told_apart_without_its_colour(tmp_path, monkeypatch):
    # Ten strategies were solid lines with round markers, told apart by their
    # colours alone (not in grey, nor with a red-green colour deficiency).
    shapes = {}

    def plot(runs, ax, **kwargs):
        report_plot(runs, ax=ax, **kwargs)
        line = ax.get_lines()[-1]
        shapes[line.get_label()] = (line.get_linestyle(), line.get_marker())

    report_plot = report.plot_learning_curves
    monkeypatch.setattr(report, "plot_learning_curves", plot)
    report._accuracy_figure(tmp_path, "s", _curves({"a 40%": report.STRATEGY_ORDER}))
    assert len(shapes) == len(report.STRATEGY_ORDER)
    assert len(set(shapes.values())) == len(shapes)


@pytest.mark.parametrize("n_splits", [1, 2])
def test_the_legend_says_when_each_line_is_one_run(tmp_path, monkeypatch, n_splits):
    # The GPU lease's figure, one class split per line, was titled "mean +-
    # std over the class splits" with no band drawn: a reader looked for one.
    records = _curves({"a 40%": ("RANDOM", "CONF")})
    records += [dict(r, trial=1) for r in records][: 2 * (n_splits - 1)]
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    report._accuracy_figure(tmp_path, "s", records)
    title = figures[0].legends[0].get_title().get_text()
    if n_splits == 1:
        assert title == "one class split per line"
    else:  # RANDOM's two runs have a mean and a spread
        assert title == "mean \u00b1 std over the class splits (unpaired)"


def test_a_figure_saved_when_ctrl_c_comes_keeps_the_old_one(tmp_path, monkeypatch):
    # savefig wrote onto the committed figure: a Ctrl-C while PIL encoded it
    # left a truncated PNG in its place.
    old = tmp_path / "s_accuracy.png"
    old.write_bytes(b"the old figure")

    def interrupted(fig, target, **kwargs):
        with contextlib.ExitStack() as stack:
            if not hasattr(target, "write"):
                target = stack.enter_context(open(target, "wb"))
            target.write(b"\x89PNG, half")
            raise KeyboardInterrupt

    monkeypatch.setattr(report.plt.Figure, "savefig", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report._accuracy_figure(tmp_path, "s", _curves({"a 40%": ("CONF",)}))
    assert [p.name for p in tmp_path.iterdir()] == [old.name]
    assert old.read_bytes() == b"the old figure"


def test_a_panel_names_strategies_whose_runs_are_the_same(tmp_path, monkeypatch):
    # At 60% MQ-Net's runs are the no-meta-model column's: one line hid the
    # other without a word. The bands, once titled "mean +- std over
    # trials", had their title removed with the panels' legends.
    records = _curves({"a 60%": ("MQ-Net", "MQ-Net (no meta-model)", "CONF")})
    records += [dict(r, trial=1, test_accuracy=0.6) for r in records]
    records[-1] = dict(records[-1], test_accuracy=0.7)  # CONF's own run
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    report._accuracy_figure(tmp_path, "s", records)
    (fig,) = figures
    assert fig.axes[0].get_title() == (
        "a 60% OOD\nMQ-Net (no meta-model) = MQ-Net (the same runs)"
    )
    assert "std over the class splits" in fig.legends[0].get_title().get_text()
    # A run that differs in one round is not the same run.
    records[1] = dict(records[1], test_accuracy=0.51)
    report._accuracy_figure(tmp_path, "s", records)
    assert figures[-1].axes[0].get_title() == "a 60% OOD"


@pytest.mark.parametrize(
    "datasets, noises, names",
    [
        # The tables' figure: 16 panels, 4 a row 16 in wide, titled in 6-px
        # letters once GitHub showed it 900 px wide.
        (("letter", "penbased", "satimage", "segment"), (10, 20, 40, 60), {}),
        # CIFAR's: 3 panels 12 in wide, and legend entries of two lines.
        (("cifar10",), (20, 40, 60), {"MQ-Net": "MQ-Net: " + "a long note " * 4}),
        (("cifar10",), (40,), {}),
    ],
)
def test_the_accuracy_figure_is_legible_900_px_wide(
    tmp_path, monkeypatch, datasets, noises, names
):
    cells = [f"{d} {n}%" for d in datasets for n in noises]
    records = [
        dict(r, test_accuracy=0.5 + report.STRATEGY_ORDER.index(r["strategy"]) / 100)
        for r in _curves(dict.fromkeys(cells, report.STRATEGY_ORDER))
    ]
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    path = report._accuracy_figure(tmp_path, "s", records, names)
    check_legible(figures[0], path)


@pytest.mark.parametrize("noises", [(20, 40, 60), (40,)])
def test_a_panel_title_of_many_same_runs_is_wrapped_to_its_panel(
    tmp_path, monkeypatch, noises
):
    # Three CIFAR columns of the same runs titled a panel in one line 7 in
    # long: over its neighbours' titles and off the figure.
    cells = [f"cifar10 {noise}%" for noise in noises]
    same = [s for s in report.STRATEGY_ORDER if s.startswith("MQ-Net (")][:3]
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    path = report._accuracy_figure(tmp_path, "s", _curves(dict.fromkeys(cells, same)))
    (fig,) = figures
    check_legible(fig, path)
    renderer = fig.canvas.get_renderer()
    boxes = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    assert not any(a.overlaps(b) for a, b in zip(boxes, boxes[1:]))


def _landscape(noise, rounds):
    """Landscape snapshots of one run: a meta-score P + (round / 4) I."""
    grid = np.linspace(0, 1, 11)
    snaps = []
    for k in rounds:
        scores = grid[:, None] + k / 4 * grid[None, :]
        snaps.append(
            dict(
                round=k,
                grid_informativeness=grid.tolist(),
                grid_purity=grid.tolist(),
                grid_scores=scores.tolist(),
                pool=[[0.5, 0.5]],
                query=[[0.2, 0.9], [0.9, 0.9]],
                query_is_in=[True, False],
            )
        )
    keys = dict(dataset="d", noise=noise, trial=0, strategy="MQ-Net")
    return keys, snaps


def test_the_landscapes_spread_their_rounds_and_report_their_slopes(tmp_path):
    # Rounds 2-5 of 2-8 were drawn (a step of 1), and the slopes a text cited
    # could be read off the figures only: they drifted apart after a rerun.
    landscapes = [_landscape(0.1, range(2, 9)), _landscape(0.6, range(2, 9))]
    paths, lines = report._landscape_figures(tmp_path, "s", landscapes)
    assert [p.name for p in paths] == ["s_landscape_d.png"]
    # Score P + (k / 4) I: its iso-lines have slope -k / 4.
    assert lines[-2] == (
        "| d | trial 0 | 10% OOD, round 2 -0.50; 10% OOD, round 4 -1.00; "
        "10% OOD, round 5 -1.25; 10% OOD, round 7 -1.75; 10% OOD, round 8 -2.00; "
        "60% OOD, round 8 -2.00 |"
    )


def test_the_landscapes_are_legible_900_px_wide(tmp_path, monkeypatch):
    # 12.8 in wide, their tick labels were 7 px tall on GitHub.
    landscapes = [_landscape(noise, range(2, 9)) for noise in (0.1, 0.2, 0.4, 0.6)]
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    (path,), _ = report._landscape_figures(tmp_path, "s", landscapes)
    check_legible(figures[0], path)


def test_the_landscapes_outline_the_queried_examples():
    # The OOD queries were red crosses without an outline: on the high
    # meta-scores' yellow, where they lie, a reader with a red-green colour
    # deficiency sees red as olive, and lost them.
    from matplotlib.colors import same_color

    fig, ax = report.plt.subplots()
    report._draw_landscape(ax, _landscape(0.1, (2,))[1][0])
    queried = [c for c in ax.collections if c.get_label().startswith("queried")]
    assert len(queried) == 2
    for points in queried:
        assert same_color(points.get_edgecolor(), "black")
    report.plt.close(fig)


def test_the_ablation_section_reports_each_variant_in_share(monkeypatch):
    def run(variant, in_share):
        return [
            dict(
                dataset="letter",
                noise=0.6,
                trial=0,
                strategy="MQ-Net",
                variant=variant,
                round=r,
                test_accuracy=0.8,
                query_size=10 if r > 1 else 0,  # round 1 buys nothing
                budget_spent=10 * (r - 1),
                query_in_share=in_share if r > 1 else float("nan"),
                train_seconds=0.0,
                query_seconds=0.0,
            )
            for r in (1, 2, 3)
        ]

    records = run("paper-preset", 0.5) + run("paper-preset+adam-selector", 0.9)
    monkeypatch.setattr(report, "load_cells", lambda results, suite: (records, []))
    lines = report.ablation_section("unused")
    start = lines.index("IN share of all queried examples (mean over trials):")
    assert lines[start + 2] == "| cell | paper-preset | paper-preset+adam-selector |"
    assert lines[start + 4] == "| letter 60% | 0.50 | 0.90 |"


def test_resolution_lines_say_what_the_trials_can_tell_apart():
    # Gaps of +1 and -1 point in each of two cells: standard deviation sqrt(2).
    records = [
        dict(_final(strategy, trial, accuracy), dataset=dataset, noise=noise)
        for dataset, noise in (("a", 0.4), ("b", 0.6), ("c", 0.2))
        for trial, gap in ((0, 0.01), (1, -0.01))
        for strategy, accuracy in (
            ("MQ-Net", 0.8 + gap),
            ("MQ-Net (no meta-model)", 0.8),
        )
    ]
    (text, blank) = report._resolution_lines(records)
    assert blank == ""
    # The 20% cell is left out; sd sqrt(2), se 1: P(Bin(10, 1/2) >= 8) = 56/1024.
    assert "standard deviation of 1.41 points (pooled over 2 cells)" in text
    assert "standard error of 1.00" in text
    assert "with probability 0.055" in text
    # 80% chance of 8 of 10 needs each cell's win probability p with
    # P(Bin(10, p) >= 8) = 0.8, p = 0.8424, so a gain of norm.ppf(p) = 1.00.
    assert "a true gain of 1.00 points" in text
    # The smallest n with t(0.975, n - 1) * sqrt(2) / sqrt(n) <= 0.5 (a normal
    # quantile would say 31).
    assert "about 34 trials a cell" in text
    assert (
        t.ppf(0.975, 33) * np.sqrt(2 / 34) <= 0.5 < t.ppf(0.975, 32) * np.sqrt(2 / 33)
    )
    # The two cells are different data sets: nothing to correlate.
    assert "correlate at +0.00" in text


def test_resolution_lines_correlate_a_class_splits_two_cells():
    # On each data set a split's gap at 40% is its gap at 60%: the two cells
    # move together, so 8 of 10 is as likely as 4 of 5 fair coins (6/32).
    records = [
        dict(_final(strategy, trial, accuracy), dataset=dataset, noise=noise)
        for dataset in ("a", "b")
        for noise in (0.4, 0.6)
        for trial, gap in ((0, 0.01), (1, -0.02), (2, 0.03))
        for strategy, accuracy in (
            ("MQ-Net", 0.8 + gap),
            ("MQ-Net (no meta-model)", 0.8),
        )
    ]
    (text, _) = report._resolution_lines(records)
    assert "correlate at +1.00" in text
    assert "with probability 0.188" in text
    assert report._chance_of_8_in_10(0.0, 0.0) == pytest.approx(56 / 1024)


def test_resolution_lines_leave_out_a_noise_ratio_where_every_run_is_the_same():
    # MQ-Net is the rule's runs at 60%: the report correlated the two noise
    # ratios' differences "at +0.00" and gave a chance of 8 of 10 cells where
    # at most 5 can be led.
    records = [
        dict(_final(strategy, trial, accuracy), dataset=dataset, noise=noise)
        for dataset in ("a", "b")
        for noise in (0.4, 0.6)
        for trial, gap in ((0, 0.01), (1, -0.01))
        for strategy, accuracy in (
            ("MQ-Net", 0.8 + (gap if noise == 0.4 else 0.0)),
            ("MQ-Net (no meta-model)", 0.8),
        )
    ]
    (text, _) = report._resolution_lines(records)
    assert "same final accuracy on every class split of all 2 cells at 60%," in text
    assert "the higher mean in at most 2 of the 4 cells. In the others" in text
    assert "standard deviation of 1.41 points (pooled over 2 cells)" in text
    assert "about 34 trials a cell" in text
    assert "correlate" not in text and "probability" not in text
    # A tied cell among varying ones at its noise ratio: named, and its zero
    # spread left out of the pooled one.
    records = [
        r
        for r in records
        if not (r["dataset"] == "b" and r["noise"] == 0.6 and r["strategy"] == "MQ-Net")
    ] + [
        dict(_final("MQ-Net", trial, 0.8 + gap), dataset="b", noise=0.6)
        for trial, gap in ((0, 0.02), (1, -0.02))
    ]
    (text, _) = report._resolution_lines(records)
    assert "every class split of a 60%, so `MQ-Net` has the higher mean in at " in text
    assert "at most 3 of the 4 cells" in text
    # sqrt((2 + 2 + 8) / 3)
    assert "standard deviation of 2.00 points (pooled over 3 cells)" in text


def test_resolution_lines_need_a_rival_and_repeated_trials():
    records = [_final("MQ-Net", 0, 0.8), _final("MQ-Net (no meta-model)", 0, 0.7)]
    assert report._resolution_lines(records) == []
    assert report._resolution_lines([_final("MQ-Net", 0, 0.8)]) == []


def test_the_legend_of_long_strategy_names_fits_in_the_figure(tmp_path, monkeypatch):
    # The CIFAR-10 validation figure: 3 panels, 7 MQ-Net columns with long names.
    names = [f"MQ-Net (fixed balance w={w})" for w in (0.1, 0.25, 0.75, 0.9)]
    names += ["MQ-Net (learnt meta-model)", "MQ-Net (no meta-model)", "CONF"]
    records = _curves({cell: names for cell in ("c 20%", "c 40%", "c 60%")})
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    report._accuracy_figure(tmp_path, "s", records)
    (fig,) = figures
    fig.canvas.draw()
    box = fig.legends[0].get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width


def _runs(strategy, trials, accuracy=0.5):
    """Two-round records of `strategy` on cell "a 40%", one run per trial."""
    return [
        dict(
            _final(strategy, trial, accuracy + 0.01 * trial),
            dataset="a",
            round=k,
            variant="default",
            cost_ood=1.0,
            query_size=10 * (k > 1),
            budget_spent=10 * (k > 1),
            query_in_share=0.5,
            train_seconds=0.0,
            query_seconds=0.0,
        )
        for trial in trials
        for k in (1, 2)
    ]


def _suite_section(tmp_path, monkeypatch, records):
    monkeypatch.setattr(report, "load_cells", lambda results, suite: (records, []))
    lines, _ = report.main_suite_section(tmp_path, "tabular", "T")
    return lines


def test_an_incomplete_grid_is_marked_and_named(tmp_path, monkeypatch, capsys):
    # MQ-Net on one trial of three: its mean is no peer of the others'.
    records = _runs("CONF", (0, 1, 2)) + _runs("MQ-Net", (0,), accuracy=0.9)
    lines = _suite_section(tmp_path, monkeypatch, records)
    accuracy, in_share = (
        line for line in lines if line.startswith("| a 40% |") and "/" not in line
    )
    assert accuracy == "| a 40% | 51.00 +- 0.82 | **90.00 +- 0.00** (n=1) |"
    assert in_share == "| a 40% | 0.50 | 0.50 (n=1) |"
    ranks = lines[lines.index(next(x for x in lines if x.startswith("Mean rank"))) + 4]
    # CONF is 2nd on trial 0, alone (1st) on trials 1 and 2.
    assert ranks == "| 40% | 1.33 | **1.00** (n=1) |"
    # ... alone, so its 1.00 there is out of one strategy: said below the table.
    assert lines[lines.index(ranks) + 2] == (
        "2 class split(s) lack a strategy's run; there the strategies present are "
        "ranked among themselves."
    )
    assert "| a | +39.00 (best) (n=1) |" in lines  # the goal check
    assert capsys.readouterr().err == (
        "Warning: tabular: entries that miss trials of the rest of their table, "
        "marked (n=k) in the tables; finish their runs: a 40% / MQ-Net (1 of 3)\n"
    )


def test_entries_over_as_many_but_different_trials_are_marked(
    tmp_path, monkeypatch, capsys
):
    # Three trials each, but not the same three: the means are over different
    # class splits, which the counts alone hid (no mark, no warning).
    records = _runs("CONF", (0, 1, 2)) + _runs("MQ-Net", (1, 2, 3), accuracy=0.9)
    lines = _suite_section(tmp_path, monkeypatch, records)
    assert "| a 40% | 51.00 +- 0.82 (n=3) | **92.00 +- 0.82** (n=3) |" in lines
    assert "| a | +41.00 (best) (n=3) |" in lines
    err = capsys.readouterr().err
    assert "a 40% / CONF (3 of 4); a 40% / MQ-Net (3 of 4)" in err


def test_a_row_over_fewer_trials_than_its_table_is_marked(
    tmp_path, monkeypatch, capsys
):
    # Every entry of "b 40%" ran 2 trials, those of "a 40%" 3: the row's own
    # most (2) hid that its means are no peers of the other row's.
    records = _runs("CONF", (0, 1, 2)) + _runs("MQ-Net", (0, 1, 2), accuracy=0.9)
    records += [
        dict(r, dataset="b")
        for r in _runs("CONF", (0, 1)) + _runs("MQ-Net", (0, 1), accuracy=0.9)
    ]
    lines = _suite_section(tmp_path, monkeypatch, records)
    assert "| a 40% | 51.00 +- 0.82 | **91.00 +- 0.82** |" in lines
    assert "| b 40% | 50.50 +- 0.50 (n=2) | **90.50 +- 0.50** (n=2) |" in lines
    assert "| b 40% | 0.50 (n=2) | 0.50 (n=2) |" in lines
    assert "| b | +40.00 (best) (n=2) |" in lines  # the goal check
    assert "b 40% / CONF (2 of 3); b 40% / MQ-Net (2 of 3)" in capsys.readouterr().err


def test_a_trial_whose_split_cannot_be_drawn_is_not_marked(
    tmp_path, monkeypatch, capsys
):
    # The run log says b's trial 2 cannot be drawn: its 2 trials are all it has.
    records = _runs("CONF", (0, 1, 2)) + [
        dict(r, dataset="b") for r in _runs("CONF", (0, 1))
    ]
    log = tmp_path / "cells" / "tabular" / "_runs.jsonl"
    log.parent.mkdir(parents=True)
    run = dict(command="c", ran=5, cells=6, wall_seconds=1, machine="m", date="d")
    log.write_text(json.dumps(dict(run, skipped_splits=[["b", 0.4, 2]])) + "\n")
    lines = _suite_section(tmp_path, monkeypatch, records)
    assert "| b 40% | **50.50 +- 0.50** |" in lines
    assert capsys.readouterr().err == ""


def test_rows_that_are_class_splits_are_not_marked():
    # CIFAR's per-split table: each row is one split, over one trial by design.
    rows = [
        dict(cell=f"split {trial}", strategy=s, trials=[trial], n_trials=1)
        | dict(accuracy_mean=0.5, accuracy_std=0.0)
        for trial in (0, 1)
        for s in ("CONF", "MQ-Net")
    ]
    lines = report._table(rows, "cell", "strategy", ["CONF", "MQ-Net"], by_row=True)
    assert not any("(n=" in line for line in lines)


def test_the_goal_check_names_every_tied_rival_and_a_missing_one(tmp_path, monkeypatch):
    records = _runs("RANDOM", (0, 1)) + _runs("CONF", (0, 1))
    records += _runs("MQ-Net", (0, 1), accuracy=0.4)
    lines = _suite_section(tmp_path, monkeypatch, records)
    assert "| a | -10.00 (behind RANDOM and CONF) |" in lines
    # MQ-Net alone: no rival to compare with (this crashed the report).
    lines = _suite_section(tmp_path, monkeypatch, _runs("MQ-Net", (0, 1)))
    assert "| a | no rival run |" in lines


def test_a_complete_grid_has_no_marks(tmp_path, monkeypatch, capsys):
    records = _runs("CONF", (0, 1, 2)) + _runs("MQ-Net", (0, 1, 2), accuracy=0.9)
    lines = _suite_section(tmp_path, monkeypatch, records)
    assert "| a 40% | 51.00 +- 0.82 | **91.00 +- 0.82** |" in lines
    assert not any("(n=" in line or "lack a strategy" in line for line in lines)
    assert capsys.readouterr().err == ""


def test_no_report_of_quick_cells_only(tmp_path, monkeypatch, capsys):
    import openset_benchmark as bench
    from test_benchmark_cells import content

    write_cell(tmp_path / "cells" / "tabular-quick" / "c.json", content())
    monkeypatch.setattr(
        sys, "argv", ["openset_benchmark.py", "--results-dir", str(tmp_path), "report"]
    )
    with pytest.raises(SystemExit) as info:
        bench.main()
    assert info.value.code == 1
    assert "No full-suite cells under" in capsys.readouterr().err
    assert not (tmp_path / "RESULTS.md").exists()


def test_the_per_round_table_marks_means_over_fewer_runs(monkeypatch):
    # MQ-Net's trial 1 stopped after round 1: its round-2 mean is over one run.
    records = _runs("P+I", (0, 1)) + [
        r for r in _runs("MQ-Net", (0, 1)) if (r["trial"], r["round"]) != (1, 2)
    ]
    monkeypatch.setattr(report, "load_cells", lambda results, suite: (records, []))
    lines = report.per_round_section("unused", "tabular")
    assert "| P+I | 50.50 | 50.50 |" in lines
    assert "| MQ-Net | 50.50 | 50.00 (n=1) |" in lines


def test_paired_wins_pool_the_rows_they_are_given():
    records = [
        dict(_final(strategy, trial, accuracy), preset=preset)
        for preset, gap in (("a", 0.02), ("b", -0.01), ("c", 0.04))
        for trial in (0, 1)
        for strategy, accuracy in (("MQ-Net", 0.9 + gap), ("BADGE", 0.9))
    ]
    pools = [("a and b", ["a", "b"])]
    lines = _paired_wins_lines(records, ("BADGE",), "preset", "intro", pools)
    # Trials 0 and 1 are the same class splits under both presets.
    assert lines[-2:] == ["| a and b | 2/0/2, +0.50 [+0.50, +0.50] |", ""]
    assert "| c | 2/0/0, +4.00 [+4.00, +4.00] |" in lines


def test_the_cifar_starts_section_pools_the_pinned_defaults_with_mqnet(monkeypatch):
    import cifar_report

    def cells(results, preset):
        # The validation presets name today's defaults "started from the rule".
        ours = "MQ-Net" if preset == "cpu-slice" else "MQ-Net (started from the rule)"
        gap = {"cpu-slice": -0.01, "cpu-validation": 0.03}.get(preset)
        if gap is None:
            return [], [], []
        records = [
            _final(strategy, trial, accuracy)
            for trial in (0, 1)
            for strategy, accuracy in (
                (ours, 0.9 + gap),
                ("MQ-Net (no meta-model)", 0.9),
            )
        ]
        return records, [], []

    monkeypatch.setattr(cifar_report, "load_cifar_cells", cells)
    lines = cifar_report.starts_section("unused")
    assert "| cpu-slice | 0/0/2, -1.00 [-1.00, -1.00] |" in lines
    assert "| unreported presets, pooled | 2/0/0, +3.00 [+3.00, +3.00] |" in lines
    # Each split: -1 in one preset, +3 in the other.
    assert "| all, pooled | 2/0/2, +1.00 [+1.00, +1.00] |" in lines


def test_the_cifar_purity_auroc_is_averaged_over_the_splits_that_have_one():
    # A split's sample left without OOD rows records NaN (PurityAUROC): the
    # mean is over the others, not NaN, and the best score per round in bold.
    import cifar_report

    aurocs = {  # (split, round): (encoder, margin)
        (0, 1): (0.6, 0.5),
        (1, 1): (0.8, 0.7),
        (0, 2): (np.nan, 0.5),
        (1, 2): (0.9, 0.6),
    }
    records = [
        dict(noise=0.4, split=split, round=k)
        | {"purity_auroc_encoder": encoder, "purity_auroc_margin": margin}
        for (split, k), (encoder, margin) in aurocs.items()
    ]
    records.append(dict(noise=0.4, split=0, round=1))  # a column without AUROCs
    lines = cifar_report._auroc_lines(records)
    assert lines[-5:] == [
        "| round | encoder | margin |",
        "| --- | --- | --- |",
        "| 1 | **0.700** | 0.600 |",
        "| 2 | **0.900** | 0.550 |",
        "",
    ]


def test_a_cifar_figure_names_the_defaults_its_mqnet_columns_ran(tmp_path, monkeypatch):
    # The GPU lease's MQ-Net columns ran least confidence, "MQ-Net" the learnt
    # selector alone; their legend read as today's defaults.
    import cifar_report

    mqnets = ("MQ-Net", "MQ-Net (no meta-model)")
    records = [
        dict(r, cell="cifar10 40%", split=0)
        for strategy in ("RANDOM", *mqnets)
        for r in _runs(strategy, (0,))
    ]
    cell = dict(n_pool=9, n_test=5, encoder_seconds=1, encoder_epochs=1, device="cpu")
    monkeypatch.setattr(
        cifar_report, "load_cifar_cells", lambda *_: (records, [cell], [])
    )
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    legends = {}
    for preset in ("gpu-lease", "tiny"):
        cifar_report.preset_section(tmp_path, preset)
        texts = figures[-1].legends[0].get_texts()
        legends[preset] = [text.get_text().replace("\n", " ") for text in texts]
    assert legends["gpu-lease"] == [
        "RANDOM",
        "MQ-Net (no meta-model): informativeness='least_confidence'",
        "MQ-Net: informativeness='least_confidence', rule_weight=0.0",
    ]
    # Run with today's defaults.
    assert legends["tiny"] == ["RANDOM", "MQ-Net (no meta-model)", "MQ-Net"]


def test_a_cifar_presets_run_under_a_minute_gives_its_wall_time_in_seconds(
    tmp_path, monkeypatch
):
    # As report's runs section does (_wall_time): a run of 2.2 s read "in
    # 0.0 min", as if it took no time; no test read a preset's run line.
    import cifar_report

    records = [dict(r, cell="cifar10 40%", split=0) for r in _runs("RANDOM", (0,))]
    cell = dict(n_pool=9, n_test=5, encoder_seconds=1, encoder_epochs=1, device="cpu")
    run = dict(command="c", ran=1, cells=1, machine="m", date="d")
    runs = [run | dict(wall_seconds=s, encoder_wall_seconds=1) for s in (2.23, 90)]
    monkeypatch.setattr(
        cifar_report, "load_cifar_cells", lambda *_: (records, [cell], runs)
    )
    lines, _ = cifar_report.preset_section(tmp_path, "tiny")
    walls = [x.split(" in ")[1].split(" (")[0] for x in lines if x.startswith("Run:")]
    assert walls == ["2.2 s", "1.5 min"]


def test_a_noise_ratio_is_labelled_with_its_own_percentage(tmp_path, monkeypatch):
    # int(100 * noise) labelled 0.29 as 28% and merged 0.28 with 0.285.
    records = [
        dict(r, noise=noise)
        for noise in (0.29, 0.28, 0.285)
        for r in _runs("CONF", (0, 1)) + _runs("MQ-Net", (0, 1), accuracy=0.9)
    ]
    lines = _suite_section(tmp_path, monkeypatch, records)
    cells = [line.split(" | ")[0] for line in lines if line.startswith("| a ")]
    assert cells[:4] == ["| a 28%", "| a 28.5%", "| a 29%", "| a 28%"]
    ranks = [line.split(" | ")[0] for line in lines if line.startswith("| 2")]
    assert ranks[:3] == ["| 28%", "| 28.5%", "| 29%"]


def test_resolution_lines_of_differences_without_spread_say_so():
    # A gap that never varies within a cell stopped the report (brentq's
    # "f(a) and f(b) must have different signs").
    records = [
        dict(_final(strategy, trial, 0.6 + 0.05 * trial), dataset=dataset, noise=noise)
        for dataset in ("a", "b")
        for noise in (0.4, 0.6)
        for trial in (0, 1)
        for strategy in ("MQ-Net", "MQ-Net (no meta-model)")
    ]
    assert report._resolution_lines(records) == [
        "`MQ-Net` minus `MQ-Net (no meta-model)` is the same on every class split "
        "within each of the 4 cells at 40/60% noise: no spread from which to say "
        "what the trials can resolve.",
        "",
    ]


def test_no_goal_check_without_an_mqnet_run(tmp_path, monkeypatch):
    lines = _suite_section(tmp_path, monkeypatch, _runs("CONF", (0, 1)))
    assert "Mean rank" in " ".join(lines)  # the section is there
    assert not any(line.startswith("Goal check") for line in lines)


def _report_of_one_committed_cell(results_dir):
    """RESULTS.md written in `results_dir` from one committed tabular cell."""
    name = "dataset=letter_noise=0.1_strategy=BADGE_trial=0_rounds=8.json"
    (results_dir / "cells" / "tabular").mkdir(parents=True)
    shutil.copy(
        report.RESULTS / "cells" / "tabular" / name, results_dir / "cells" / "tabular"
    )
    return report.write_report(results_dir).read_text()


def test_a_fresh_results_dir_links_only_to_files_it_holds(tmp_path, capsys):
    text = _report_of_one_committed_cell(tmp_path)
    # FINDINGS.md and openset_claims.md are not in a fresh folder.
    assert "](FINDINGS.md)" not in text and "](openset_claims.md)" not in text
    assert "benchmarks/results/FINDINGS.md" in text
    assert f"openset_claims.py --results-dir {tmp_path}" in text
    (tmp_path / "FINDINGS.md").write_text("by hand")
    (tmp_path / "openset_claims.md").write_text("claims")
    text = report.write_report(tmp_path).read_text()
    assert "[FINDINGS.md](FINDINGS.md)" in text
    assert "[openset_claims.md](openset_claims.md)" in text


def test_the_claims_command_the_report_suggests_runs(tmp_path, monkeypatch):
    # It named no --suite for tabular cells alone, and openset_claims.py then
    # refused the default suite fashion, which these cells lack.
    text = _report_of_one_committed_cell(tmp_path)
    command = text.split("claims checked on these cells: run `")[1].split("`")[0]
    monkeypatch.setattr(sys, "argv", shlex.split(command)[1:])
    openset_claims.main()
    assert (
        "## Suite `tabular`, 10% noise" in (tmp_path / "openset_claims.md").read_text()
    )


def test_the_goal_check_has_a_column_per_noise_ratio_mqnet_ran_at(
    tmp_path, monkeypatch
):
    # Its columns were 10/20/40/60%: cells at 30% got a row of blanks.
    records = [
        dict(r, noise=noise)
        for noise in (0.3, 0.5)
        for r in _runs("CONF", (0, 1)) + _runs("MQ-Net", (0, 1), accuracy=0.4)
    ]
    lines = _suite_section(tmp_path, monkeypatch, records)
    goal = lines.index(next(x for x in lines if x.startswith("Goal check")))
    assert lines[goal].startswith(
        "Goal check for `MQ-Net`. At 50%: its mean minus the best other "
        "strategy's (points; >= 0: best). At 30%: its mean minus the best "
        "standard baseline's"
    )
    assert lines[goal + 2 : goal + 5] == [
        "| dataset | 30% | 50% |",
        "| --- | --- | --- |",
        "| a | -10.00 (outside 1 std of CONF) | -10.00 (behind CONF) |",
    ]


def test_no_per_round_heading_without_a_table_under_it(monkeypatch):
    # Table 5 is at 20% and 40%: runs at 60% only left its heading alone.
    records = [dict(r, noise=0.6) for r in _runs("MQ-Net", (0, 1))]
    monkeypatch.setattr(report, "load_cells", lambda results, suite: (records, []))
    assert report.per_round_section("unused", "tabular") == []


def _runs_at(strategy, accuracies):
    """`_runs` with one given final accuracy per trial 0, 1, ..."""
    return [
        dict(r, test_accuracy=accuracy)
        for trial, accuracy in enumerate(accuracies)
        for r in _runs(strategy, (trial,))
    ]


def test_a_gap_reads_the_same_in_the_goal_check_and_the_paired_table(
    tmp_path, monkeypatch
):
    # Fashion at 40% (committed): a gap of exactly 1.355 points, as a
    # difference of means 1.3550000000000062, as a mean of differences
    # 1.3549999999999995. The goal check read +1.36, the paired table +1.35;
    # both round 1.355 now, as by hand.
    records = _runs_at("MQ-Net", (0.89225, 0.7815, 0.979, 0.908, 0.95925))
    records += _runs_at(
        "MQ-Net (learnt meta-model)", (0.88275, 0.77025, 0.969, 0.879, 0.95125)
    )
    lines = _suite_section(tmp_path, monkeypatch, records)
    assert "| a | +1.36 (best) |" in lines
    assert any(line.startswith("| 40% | 5/0/0, +1.36 [") for line in lines)


def test_means_a_float_step_apart_are_a_tie(tmp_path, monkeypatch):
    # The same three accuracies summed in another order: means of
    # 0.19999999999999998 and 0.20000000000000004, equal but for rounding.
    records = [
        dict(r, noise=noise)
        for noise in (0.2, 0.4)
        for r in _runs_at("CONF", (0.1, 0.2, 0.3)) + _runs_at("MQ-Net", (0.3, 0.2, 0.1))
    ]
    lines = _suite_section(tmp_path, monkeypatch, records)
    # Both in bold; MQ-Net ties the best: not -0.00 behind (or outside 1 std of) it.
    assert "| a 40% | **20.00 +- 8.16** | **20.00 +- 8.16** |" in lines
    assert "| a | +0.00 (ahead of CONF) | +0.00 (best) |" in lines


def test_the_goal_check_names_rivals_tied_but_for_float_rounding(tmp_path, monkeypatch):
    records = _runs_at("CONF", (0.1, 0.2, 0.3)) + _runs_at("RANDOM", (0.3, 0.2, 0.1))
    records += _runs_at("MQ-Net", (0.1, 0.1, 0.1))
    lines = _suite_section(tmp_path, monkeypatch, records)
    # RANDOM's mean is a float step below CONF's: it was left out.
    assert "| a | -10.00 (behind CONF and RANDOM) |" in lines


def test_paired_wins_by_cell_order_the_cells_by_noise_ratio():
    records = [
        dict(_final(s, 0, 0.9), dataset="a", noise=noise, cell=f"a {noise:.0%}")
        for noise in (0.4, 0.05, 0.1)
        for s in ("MQ-Net", "BADGE")
    ]
    lines = _paired_wins_lines(records, ("BADGE",), "cell", "intro")
    # As text, "a 5%" came after "a 40%".
    assert [line.split(" |")[0] for line in lines[4:-1]] == [
        "| a 5%",
        "| a 10%",
        "| a 40%",
    ]


def test_points_round_a_last_5_away_from_zero():
    # By hand: 0.125 reads +0.13 and -0.125 -0.13 (half to even: +0.12,
    # -0.12); 2.675, stored as 2.67499999999999982..., reads +2.68.
    assert [report._points(x) for x in (0.125, -0.125, 2.675)] == [
        "+0.13",
        "-0.13",
        "+2.68",
    ]


def _goal_row(strategy, mean, std, cell="a 20%", trials=(0, 1, 2)):
    """A `summarize_final_round` row as the goal check reads it."""
    return dict(
        cell=cell,
        strategy=strategy,
        accuracy_mean=mean,
        accuracy_std=std,
        trials=list(trials),
    )


def test_the_goal_check_weighs_a_lag_against_mqnets_own_std():
    # MQ-Net 2 points behind CONF: within MQ-Net's std of 3 points, though
    # not within CONF's 1; and outside MQ-Net's 1, though within CONF's 3.
    rows = [_goal_row("MQ-Net", 0.80, 0.03), _goal_row("CONF", 0.82, 0.01)]
    assert "| a | -2.00 (within 1 std of CONF) |" in report._goal_lines(rows)
    rows = [_goal_row("MQ-Net", 0.80, 0.01), _goal_row("CONF", 0.82, 0.03)]
    assert "| a | -2.00 (outside 1 std of CONF) |" in report._goal_lines(rows)


def test_the_goal_check_marks_a_rival_over_fewer_trials():
    # MQ-Net ran trials 0-2, CONF 0-1 only: the gap compares means over
    # different class splits, marked by the fewer count.
    rows = [
        _goal_row("MQ-Net", 0.9, 0.0, "a 40%"),
        _goal_row("CONF", 0.8, 0.0, "a 40%", trials=(0, 1)),
    ]
    assert "| a | +10.00 (best) (n=2) |" in report._goal_lines(rows)


@pytest.mark.parametrize(
    "ours, theirs", [(0.8, 0.8), (0.19999999999999998, 0.20000000000000004)]
)
def test_the_goal_check_counts_a_tie_with_the_best_rival_as_no_lag(ours, theirs):
    # Equal means, and MQ-Net's two float steps below the rival's (the same
    # accuracies summed in another order): best, and ahead, not behind.
    rows = [
        _goal_row(s, mean, 0.0, cell)
        for cell in ("a 20%", "a 40%")
        for s, mean in (("MQ-Net", ours), ("CONF", theirs))
    ]
    lines = report._goal_lines(rows)
    assert "| a | +0.00 (ahead of CONF) | +0.00 (best) |" in lines


def test_the_goal_check_counts_a_lag_of_exactly_one_std_as_within():
    # 6.25 points behind with a std of 6.25 points, both exact in binary.
    rows = [_goal_row("MQ-Net", 0.75, 0.0625), _goal_row("CONF", 0.8125, 0.01)]
    assert "| a | -6.25 (within 1 std of CONF) |" in report._goal_lines(rows)


def test_the_goal_check_below_40_percent_compares_with_standard_baselines_only():
    # P*I (open-set aware) leads at 20%, where the goal is the best standard
    # baseline's mean: CONF's; at 40% every other strategy counts.
    rows = [
        _goal_row(s, mean, 0.01, cell)
        for cell in ("a 20%", "a 40%")
        for s, mean in (("MQ-Net", 0.8), ("CONF", 0.78), ("P*I", 0.9))
    ]
    lines = report._goal_lines(rows)
    assert "| a | +2.00 (ahead of CONF) | -10.00 (behind P*I) |" in lines


def test_the_goal_check_orders_its_noise_ratios_by_value():
    # As text, "40%" came before "5%".
    rows = [
        _goal_row(s, mean, 0.0, cell)
        for cell in ("a 5%", "a 40%")
        for s, mean in (("MQ-Net", 0.9), ("CONF", 0.8))
    ]
    assert "| dataset | 5% | 40% |" in report._goal_lines(rows)


def test_an_unbalanced_pool_averages_each_class_split_first():
    # Split 0 gains +4 at 40% and +2 at 60%, split 1 (run at 40% only) -3:
    # split means +3 and -3, mean 0, standard error 3 (the mean of the three
    # runs would be +1).
    gaps = {(0, 0.4): 4, (0, 0.6): 2, (1, 0.4): -3}
    records = [
        dict(_final(strategy, trial, accuracy), noise=noise)
        for (trial, noise), gap in gaps.items()
        for strategy, accuracy in (("MQ-Net", 0.5 + gap / 100), ("BADGE", 0.5))
    ]
    pooled = _paired_wins_lines(records, ("BADGE",))[-2]
    half_width = t.ppf(0.975, df=1) * 3
    assert pooled == (
        f"| all, pooled | 2/0/1, +0.00 [{-half_width:+.2f}, {half_width:+.2f}] |"
    )


def _resolution_records(gaps):
    """Final records of MQ-Net and its no-meta-model column, `gaps` (points)
    ``{(dataset, noise): [gap of trial 0, 1, ...]}``."""
    return [
        dict(_final(strategy, trial, accuracy), dataset=dataset, noise=noise)
        for (dataset, noise), cell in gaps.items()
        for trial, gap in enumerate(cell)
        for strategy, accuracy in (
            ("MQ-Net", 0.5 + gap / 100),
            ("MQ-Net (no meta-model)", 0.5),
        )
    ]


def test_resolution_lines_size_the_standard_error_by_the_fewest_trials():
    # Two trials in one cell, three in the other: variances 2 and 1, pooled
    # sd sqrt(1.5) = 1.22; a cell of two trials has se sqrt(1.5 / 2) = 0.87.
    records = _resolution_records({("a", 0.4): [1, -1], ("b", 0.6): [1, -1, 0]})
    (text, _) = report._resolution_lines(records)
    assert text.startswith("What 2 trials can resolve")
    assert "standard deviation of 1.22 points (pooled over 2 cells)" in text
    assert "standard error of 0.87" in text


def test_resolution_lines_count_the_trials_with_a_t_quantile_of_n_minus_1_df():
    # Gaps +0.6, 0, -0.6: sd 0.6. The smallest n with t(0.975, n - 1) * 0.6 /
    # sqrt(n) <= 0.5 is 9 (t with n degrees of freedom would say 8).
    records = _resolution_records({("a", 0.4): [0.6, 0.0, -0.6]})
    (text, _) = report._resolution_lines(records)
    assert "standard deviation of 0.60 points" in text
    assert "about 9 trials a cell" in text
    assert (
        t.ppf(0.975, 8) * 0.6 / np.sqrt(9) <= 0.5 < t.ppf(0.975, 7) * 0.6 / np.sqrt(8)
    )


def test_resolution_lines_correlate_differences_centred_on_their_cells():
    # Within each data set a split's gap at 60% falls as its gap at 40% rises
    # (correlation -1); b's gaps all lie above a's, which uncentred would
    # read as a positive correlation.
    records = _resolution_records(
        {
            ("a", 0.4): [1, 2, 3],
            ("a", 0.6): [3, 2, 1],
            ("b", 0.4): [5, 6, 7],
            ("b", 0.6): [7, 6, 5],
        }
    )
    (text, _) = report._resolution_lines(records)
    assert "correlate at -1.00" in text


def test_resolution_lines_correlate_nothing_from_two_class_splits():
    # Two centred points always correlate at +-1: no estimate, so 0, and the
    # chance of 8 of 10 is that of independent cells, P(Bin(10, 1/2) >= 8).
    records = _resolution_records({("a", 0.4): [1, -1], ("a", 0.6): [2, -2]})
    (text, _) = report._resolution_lines(records)
    assert "correlate at +0.00" in text
    assert "with probability 0.055" in text


def test_resolution_lines_correlate_no_data_set_with_one_split_at_both_ratios():
    # b's trial 1 could not be drawn at 60% and its trial 2 ran there only:
    # one split at both ratios, centred on itself, is a point (0, 0) that
    # says nothing, yet it would make a's two points look like an estimate.
    records = _resolution_records({("a", 0.4): [1, -1], ("a", 0.6): [2, -2]})
    records += [
        dict(_final(strategy, trial, 0.5 + gap / 100), dataset="b", noise=noise)
        for noise, gaps in ((0.4, {0: 1, 1: 3}), (0.6, {0: 2, 2: -1}))
        for trial, gap in gaps.items()
        for strategy, gap in (("MQ-Net", gap), ("MQ-Net (no meta-model)", 0))
    ]
    (text, _) = report._resolution_lines(records)
    assert "pooled over 4 cells" in text
    assert "correlate at +0.00" in text


def test_the_last_round_of_a_run_is_its_final_whatever_the_records_order():
    records = [
        dict(_final("A", 0, accuracy), round=k)
        for k, accuracy in ((3, 0.7), (1, 0.2), (2, 0.5))
    ]
    [final] = report._final_records(records, "noise").values()
    assert (final["round"], final["test_accuracy"]) == (3, 0.7)


def test_a_strategy_missing_from_a_cell_leaves_its_entries_blank(
    tmp_path, monkeypatch, capsys
):
    # b ran CONF only: its MQ-Net entries and its goal check are blank, and
    # its own best is CONF's mean.
    records = _runs("CONF", (0, 1)) + _runs("MQ-Net", (0, 1), accuracy=0.9)
    records += [dict(r, dataset="b") for r in _runs("CONF", (0, 1))]
    lines = _suite_section(tmp_path, monkeypatch, records)
    assert "| a 40% | 50.50 +- 0.50 | **90.50 +- 0.50** |" in lines
    assert "| b 40% | **50.50 +- 0.50** |  |" in lines
    assert "| b 40% | 0.50 |  |" in lines  # the IN share
    assert "| a | +40.00 (best) |" in lines and "| b |  |" in lines
    assert capsys.readouterr().err == ""  # no entry misses a trial


def test_the_panels_a_figure_grid_has_no_cell_for_are_blank(tmp_path, monkeypatch):
    cells = [f"a {noise}%" for noise in (10, 20, 40, 60)] + ["b 40%"]
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    report._accuracy_figure(tmp_path, "s", _curves(dict.fromkeys(cells, ("CONF",))))
    (fig,) = figures
    # Two panels a row, as wide as GitHub shows them: one left blank.
    assert [ax.get_title() for ax in fig.axes] == [f"{c} OOD" for c in cells] + [""]
    assert [ax.axison for ax in fig.axes] == [True] * 5 + [False]


def test_a_landscape_flat_in_purity_has_no_slope(tmp_path):
    # A meta-score of informativeness alone: its iso-lines are vertical, no
    # tangent is drawn, and the table says so.
    keys, snaps = _landscape(0.1, (2,))
    for snap in snaps:
        grid = np.array(snap["grid_informativeness"])
        snap["grid_scores"] = np.tile(grid, (len(grid), 1)).tolist()
    _, lines = report._landscape_figures(tmp_path, "s", [(keys, snaps)])
    assert lines[-2] == "| d | trial 0 | 10% OOD, round 2 -; 10% OOD, round 2 - |"


def _write_cells(results, suite, cells):
    """Cell files of `suite` under `results`: ``{cell keys: final accuracy of
    trial 0}``, trials 0 and 1 (one point more), two rounds each."""
    import openset_benchmark as bench
    from test_benchmark_cells import content

    for keys, accuracy in cells.items():
        for trial in (0, 1):
            cell = dict(suite=suite, **dict(keys), trial=trial, rounds=2)
            written = content()
            written["cell"] = cell
            for record in written["records"]:
                record["budget_spent"] = 20 * (record["round"] - 1)
            written["records"][-1]["test_accuracy"] = accuracy + trial / 100
            write_cell(bench.cell_path(cell, results), written)


def test_the_report_of_classifier_and_ood_cost_cells_alone(
    tmp_path, monkeypatch, capsys
):
    import openset_benchmark as bench

    strategies = bench.CLASSIFIER_STRATEGIES
    _write_cells(
        tmp_path,
        "classifiers",
        {
            (
                ("dataset", "segment"),
                ("noise", 0.4),
                ("estimator", e),
                ("strategy", s),
            ): (0.5 + 0.05 * i if e == "mlp" else 0.9 - 0.05 * i)
            for e in ("random_forest", "mlp")
            for i, s in enumerate(strategies)
        },
    )
    _write_cells(
        tmp_path,
        "ablations",
        {
            (
                ("dataset", "penbased"),
                ("noise", 0.4),
                ("strategy", s),
                ("cost_ood", c),
            ): (0.85 if s == "MQ-Net" else 0.9 - 0.15 * c)
            for s in ("CONF", "MQ-Net")
            for c in (0.5, 2.0)
        },
    )
    monkeypatch.setattr(
        sys, "argv", ["openset_benchmark.py", "--results-dir", str(tmp_path), "report"]
    )
    bench.main()  # exit status 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'RESULTS.md'}\n"
    lines = (tmp_path / "RESULTS.md").read_text().splitlines()
    start = lines.index("## Any classifier (UCI tables, 40% noise)")
    assert lines[start + 4 : start + 8] == [
        "| cell | RANDOM | CONF | BADGE | P*I | MQ-Net |",
        "| --- | --- | --- | --- | --- | --- |",
        "| segment / mlp | 50.50 +- 0.50 | 55.50 +- 0.50 | 60.50 +- 0.50 | "
        "65.50 +- 0.50 | **70.50 +- 0.50** |",
        "| segment / random_forest | **90.50 +- 0.50** | 85.50 +- 0.50 | "
        "80.50 +- 0.50 | 75.50 +- 0.50 | 70.50 +- 0.50 |",
    ]
    assert lines[start + 13] == "| segment / mlp | 0.60 | 0.60 | 0.60 | 0.60 | 0.60 |"
    assert lines[start + 20 : start + 22] == [
        "| mlp | 5.00 | 4.00 | 3.00 | 2.00 | **1.00** |",
        "| random_forest | **1.00** | 2.00 | 3.00 | 4.00 | 5.00 |",
    ]
    # The ablations: no variant ran, so Table 6 alone.
    start = lines.index("## Ablations")
    assert lines[start + 2].startswith("OOD labelling cost (Table 6), 40% noise.")
    assert lines[start + 4 : start + 8] == [
        "| cost | CONF | MQ-Net |",
        "| --- | --- | --- |",
        "| penbased c_OOD=0.5 | 83.00 +- 0.50 | **85.50 +- 0.50** |",
        "| penbased c_OOD=2.0 | 60.50 +- 0.50 | **85.50 +- 0.50** |",
    ]
    # openset_claims.py would refuse these cells: no command is suggested.
    assert (
        "claims checked on these cells: none, they need the cells of the tabular "
        "or fashion suite." in lines[2]
    )
    assert capsys.readouterr().err == ""


def test_the_claims_command_for_both_suites_names_no_suite(tmp_path, monkeypatch):
    _write_cells(
        tmp_path,
        "tabular",
        {(("dataset", "segment"), ("noise", 0.6), ("strategy", "LfOSA")): 0.5},
    )
    _write_cells(
        tmp_path,
        "fashion",
        {(("dataset", "fashion"), ("noise", 0.4), ("strategy", "LfOSA")): 0.5},
    )
    command = report._claims_reference(tmp_path)
    assert command == (
        f"run `python benchmarks/openset_claims.py --results-dir {tmp_path}` "
        "to write them"
    )
    monkeypatch.setattr(sys, "argv", shlex.split(command.split("`")[1])[1:])
    openset_claims.main()
    claims = (tmp_path / "openset_claims.md").read_text()
    assert "## Suite `tabular`, 60% noise" in claims
    assert "## Suite `fashion`, 40% noise" in claims
