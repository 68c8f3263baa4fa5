"""The legibility check of the committed figures (tests/_figures.py)."""

import pytest
from matplotlib.figure import Figure

from _figures import check_legible


def test_a_small_text_is_refused_beside_a_larger_one_of_the_same_words(tmp_path):
    # Sizes were kept by text: the larger "accuracy" drawn after it hid the
    # 5-px one.
    fig = Figure(figsize=(10, 4))
    ax = fig.add_subplot()
    ax.set_title("accuracy", fontsize=4)
    fig.suptitle("accuracy", fontsize=12, y=0.999, va="top")
    fig.savefig(tmp_path / "f.png", dpi=90)
    with pytest.raises(AssertionError, match=r"under 10 px .*'accuracy': 5.0"):
        check_legible(fig, tmp_path / "f.png")


def test_a_figure_saved_cropped_is_measured_at_the_dpi_it_was_saved_at(tmp_path):
    # Its width in the PNG is no longer the figure's: read as the dpi, it
    # made a 16-px text 1 px tall.
    fig = Figure(figsize=(20, 4))
    fig.text(0.5, 0.5, "a short note", fontsize=12)
    fig.savefig(tmp_path / "f.png", dpi=100, bbox_inches="tight")
    check_legible(fig, tmp_path / "f.png")


@pytest.mark.parametrize("points", [7.5, 7.9, 8])
def test_text_under_8_pt_of_a_figure_10_in_wide_is_refused(tmp_path, points):
    # 9 px was the bound: 7.2 pt passed, while the figures draw 8 pt, which
    # a PNG saved at 90 dpi (recorded as 89.992) measures 9.999 px.
    fig = Figure(figsize=(10, 4))
    fig.text(0.5, 0.5, "a note", fontsize=points)
    fig.savefig(tmp_path / "f.png", dpi=90)
    if points == 8:
        check_legible(fig, tmp_path / "f.png")
    else:
        with pytest.raises(AssertionError, match=r"under 10 px .*'a note': 9\.[49]"):
            check_legible(fig, tmp_path / "f.png")


def test_texts_are_placed_as_in_the_png(tmp_path):
    # Placed at fig.dpi, not at the dpi saved: a text 30 pixels above
    # another is clear of it at 100 dpi, drawn over it at 300.
    fig = Figure(figsize=(4, 2), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.annotate("below", (0.5, 0.5), fontsize=12)
    ax.annotate(
        "above", (0.5, 0.5), xytext=(0, 30), textcoords="offset pixels", fontsize=12
    )
    fig.savefig(tmp_path / "f.png", dpi=300)
    with pytest.raises(AssertionError, match="texts drawn over each other"):
        check_legible(fig, tmp_path / "f.png")
    assert fig.dpi == 100  # as it was


@pytest.mark.parametrize(
    "inches, dpi, points, legible",
    [(4, 100, 7, False), (4, 100, 8, True), (20, 90, 12, False), (20, 90, 17, True)],
)
def test_a_png_is_seen_scaled_down_to_900_px_never_up(
    tmp_path, inches, dpi, points, legible
):
    # GitHub shows a PNG wider than 900 px at 900 px, so its texts smaller;
    # a narrower one at its own width, not enlarged.
    fig = Figure(figsize=(inches, 2))
    fig.text(0.1, 0.5, "a note", fontsize=points)
    fig.savefig(tmp_path / "f.png", dpi=dpi)
    if legible:
        check_legible(fig, tmp_path / "f.png")
    else:
        with pytest.raises(AssertionError, match="under 10 px"):
            check_legible(fig, tmp_path / "f.png")


@pytest.mark.parametrize("x, ha", [(-0.02, "left"), (1.02, "right")])
def test_a_text_that_runs_off_either_edge_is_refused(tmp_path, x, ha):
    fig = Figure(figsize=(10, 4))
    fig.text(x, 0.5, "a long note of the figure", fontsize=12, ha=ha)
    fig.savefig(tmp_path / "f.png", dpi=90)
    with pytest.raises(AssertionError, match="text runs off the figure"):
        check_legible(fig, tmp_path / "f.png")


@pytest.mark.parametrize("covered", [True, False])
def test_a_legend_over_a_panel_is_refused_not_over_one_turned_off(tmp_path, covered):
    # A panel turned off is room left for the legend.
    fig = Figure(figsize=(10, 4))
    ax, room = fig.subplots(1, 2)
    (line,) = ax.plot([0, 1], [0, 1], label="accuracy")
    room.set_axis_off()
    fig.legend(
        handles=[line], loc="center", bbox_to_anchor=(0.25 if covered else 0.75, 0.5)
    )
    fig.savefig(tmp_path / "f.png", dpi=90)
    if covered:
        with pytest.raises(AssertionError, match="the legend covers a panel"):
            check_legible(fig, tmp_path / "f.png")
    else:
        check_legible(fig, tmp_path / "f.png")


def test_a_text_not_drawn_is_not_measured(tmp_path):
    fig = Figure(figsize=(10, 4))
    fig.text(0.5, 0.5, "a note", fontsize=12)
    fig.text(0.5, 0.2, "hidden", fontsize=4).set_visible(False)
    fig.savefig(tmp_path / "f.png", dpi=90)
    check_legible(fig, tmp_path / "f.png")
