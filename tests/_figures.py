"""The committed figures as a reader sees them: GitHub shows a figure at most
900 px wide, scaled down from a wider PNG."""

from unittest import mock

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

SHOWN_WIDTH = 900  # px, the widest GitHub shows a figure in a README
SMALLEST_TEXT = 9  # px there, about 8 pt at 100% zoom


def _drawn_texts(fig):
    """The texts `fig` draws, and the renderer: tick labels out of view, or
    of panels turned off, are not drawn."""
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
    with mock.patch.object(Text, "draw", record):
        canvas.draw()
    return drawn, canvas.get_renderer()


def text_sizes(fig, png):
    """``[(text, its font size in px)]`` of what `fig` draws, seen in the PNG
    `png` it was saved as, scaled to at most 900 px wide: a list, as texts
    alike (tick labels) may differ in size."""
    from PIL import Image

    with Image.open(png) as image:
        width = image.size[0]
        # As saved, whatever fig.dpi is; a figure saved cropped (bbox_inches)
        # is narrower than fig.get_figwidth() at that dpi.
        dpi = image.info.get("dpi", (width / fig.get_figwidth(),))[0]
    scale = min(1.0, SHOWN_WIDTH / width)
    texts, _ = _drawn_texts(fig)
    return [(text.get_text(), text.get_fontsize() * dpi / 72 * scale) for text in texts]


def check_legible(fig, png):
    """Assert that every text of `fig`, saved as `png`, is at least 9 px tall
    as a reader sees it, lies inside the figure and clear of the others, and
    that its legends cover no panel."""
    small = {
        text: round(px, 1) for text, px in text_sizes(fig, png) if px < SMALLEST_TEXT
    }
    assert not small, f"under {SMALLEST_TEXT} px at {SHOWN_WIDTH} px wide: {small}"
    texts, renderer = _drawn_texts(fig)
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
