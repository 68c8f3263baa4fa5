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
    with pytest.raises(AssertionError, match=r"under 9 px .*'accuracy': 5.0"):
        check_legible(fig, tmp_path / "f.png")


def test_a_figure_saved_cropped_is_measured_at_the_dpi_it_was_saved_at(tmp_path):
    # Its width in the PNG is no longer the figure's: read as the dpi, it
    # made a 16-px text 1 px tall.
    fig = Figure(figsize=(20, 4))
    fig.text(0.5, 0.5, "a short note", fontsize=12)
    fig.savefig(tmp_path / "f.png", dpi=100, bbox_inches="tight")
    check_legible(fig, tmp_path / "f.png")
