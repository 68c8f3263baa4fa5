"""The committed figures as a reader sees them: GitHub shows a figure at most
900 px wide, scaled down from a wider PNG."""

from contextlib import contextmanager
from unittest import mock

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

SHOWN_WIDTH = 900  # px, the widest GitHub shows a figure in a README
# The smallest text the figures draw, 8 pt, on a figure 10 in wide (the
# benchmarks' FIGURE_WIDTH) shown 900 px wide: 10 px.
SMALLEST_TEXT = 8 / 72 * SHOWN_WIDTH / 10
# A PNG records its dpi in whole pixels a metre (90 dpi reads as 89.992):
# 8 pt saved at 90 dpi measures 9.999 px.
PX_TOLERANCE = 0.01


@contextmanager
def _drawn_as_saved(fig, png):
    """Draw `fig` at the dpi of the PNG `png` it was saved as (positions in
    pixels, and hinting, do not scale with it); yield the texts it draws,
    the renderer, the PNG's width in px and that dpi. Tick labels out of
    view, or of panels turned off, are not drawn."""
    from PIL import Image

    with Image.open(png) as image:
        width = image.size[0]
        # As saved, whatever fig.dpi is; a figure saved cropped (bbox_inches)
        # is narrower than fig.get_figwidth() at that dpi.
        dpi = image.info.get("dpi", (width / fig.get_figwidth(),))[0]
    drawn = []
    draw = Text.draw

    def record(text, renderer):
        if text.get_visible() and text.get_text().strip():
            drawn.append(text)
        return draw(text, renderer)

    # A Figure made without pyplot has no canvas that draws.
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
    shown_dpi, fig.dpi = fig.dpi, dpi
    try:
        with mock.patch.object(Text, "draw", record):
            canvas.draw()
        yield drawn, canvas.get_renderer(), width, dpi
    finally:
        fig.dpi = shown_dpi


def text_sizes(fig, png):
    """``[(text, its font size in px)]`` of what `fig` draws, seen in the PNG
    `png` it was saved as, scaled to at most 900 px wide: a list, as texts
    alike (tick labels) may differ in size."""
    with _drawn_as_saved(fig, png) as (texts, _, width, dpi):
        scale = min(1.0, SHOWN_WIDTH / width)
        return [
            (text.get_text(), text.get_fontsize() * dpi / 72 * scale) for text in texts
        ]


def check_legible(fig, png):
    """Assert that every text of `fig`, saved as `png`, is at least 10 px tall
    as a reader sees it, lies inside the figure and clear of the others, and
    that its legends cover no panel, laid out as saved."""
    small = {
        text: round(px, 1)
        for text, px in text_sizes(fig, png)
        if px < SMALLEST_TEXT - PX_TOLERANCE
    }
    assert not small, f"under {SMALLEST_TEXT:g} px at {SHOWN_WIDTH} px wide: {small}"
    with _drawn_as_saved(fig, png) as (texts, renderer, _, _):
        _check_placed(fig, texts, renderer)


def _check_placed(fig, texts, renderer):
    """Assert that the `texts` `fig` draws with `renderer` lie inside it and
    clear of each other, and that its legends cover no panel."""
    box = fig.bbox
    clipped = [
        text.get_text()
        for text in texts
        if not box.padded(1).contains(*text.get_window_extent(renderer).p0)
        or not box.padded(1).contains(*text.get_window_extent(renderer).p1)
    ]
    assert not clipped, f"text runs off the figure: {clipped}"
    boxes = [(text.get_text(), text.get_window_extent(renderer)) for text in texts]
    overlapping = [
        (a, b)
        for i, (a, box) in enumerate(boxes)
        for b, other in boxes[i + 1 :]
        if box.overlaps(other)
    ]
    assert not overlapping, f"texts drawn over each other: {overlapping}"
    panels = [ax.get_window_extent(renderer) for ax in fig.axes if ax.axison]
    for legend in fig.legends:
        extent = legend.get_window_extent(renderer)
        assert not any(extent.overlaps(panel) for panel in panels), (
            "the legend covers a panel"
        )
