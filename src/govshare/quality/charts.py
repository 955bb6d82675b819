"""Charts of the quality pages as inline SVG: no script, no CDN, no style attribute (the portal's
Content-Security-Policy allows neither inline styles nor outside sources). Each chart scales to its
container (``viewBox``, ``width="100%"``), names itself for screen readers (``role="img"``,
``<title>``) and repeats its numbers in the page's text, so nothing is said by colour alone."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

EQUAL = "#2e7d32"
MISMATCH = "#c62828"
MISSING = "#9e9e9e"
LINE = "#1565c0"
GRID = "#d0d7e2"
TEXT = "#333333"


def share_bar(parts: Sequence[tuple[str, int, str]], *, title: str) -> Markup:
    """One horizontal bar split into ``parts`` (label, count, colour), proportional to the counts."""
    total = sum(max(n, 0) for _l, n, _c in parts)
    width = 300
    x = 0.0
    rects = []
    for label, n, colour in parts:
        if n <= 0 or total == 0:
            continue
        w = width * n / total
        rects.append(
            f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="18" fill="{colour}">'
            f"<title>{escape(label)}: {n:,}</title></rect>"
        )
        x += w
    if not rects:
        rects.append(f'<rect x="0" y="0" width="{width}" height="18" fill="{GRID}"></rect>')
    return Markup(
        f'<svg class="chart-bar" viewBox="0 0 {width} 18" width="100%" height="18" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(rects)}</svg>'
    )


def trend(points: Sequence[tuple[str, float | None]], *, title: str, low: float = 0, high: float = 100) -> Markup:
    """A line of scores (label, value) in order, on a 0-100 scale with grid lines at 25s."""
    w, h, left, bottom, top, right = 320, 160, 30, 22, 8, 8
    plot_w, plot_h = w - left - right, h - top - bottom
    n = len(points)

    def px(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def py(v: float) -> float:
        return top + plot_h * (1 - (v - low) / (high - low))

    parts = []
    for g in (0, 25, 50, 75, 100):
        y = py(g)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end" fill="{TEXT}">{g}</text>'
        )
    coords = [(px(i), py(v), label, v) for i, (label, v) in enumerate(points) if v is not None]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _l, _v in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for x, y, label, v in coords:
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{LINE}"><title>{escape(label)}: {v:g}</title></circle>'
        )
    step = max(1, n // 8)
    for i, (label, _v) in enumerate(points):
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{px(i):.1f}" y="{h - 6}" font-size="9" text-anchor="middle" fill="{TEXT}">'
                f"{escape(label)}</text>"
            )
    return Markup(
        f'<svg class="chart-trend" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )
