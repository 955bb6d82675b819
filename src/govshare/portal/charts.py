"""Charts of the portal pages, drawn by pygal (a maintained SVG chart library) on the server.

Why a chart is its own ``image/svg+xml`` response, shown with ``<img src=...>``:

* The portal's pages send a Content-Security-Policy without inline styles (``style-src 'self'``,
  ``portal.web.PAGE_HEADERS``). pygal puts its look in a ``<style>`` element inside the SVG; inlined
  into a page, the browser would refuse it, and allowing inline styles on every page to let it in
  would weaken the policy of all pages for the sake of a picture.
* Served on its own, the SVG carries its own policy (:func:`svg_csp`): nothing may load or run
  (``default-src 'none'``) and the one style allowed is the chart's own ``<style>`` element, named
  by its SHA-256 hash, no other. A browser showing an SVG through ``<img>`` runs no script and
  fetches nothing in it anyway: a second wall.
* Nothing comes from elsewhere: pygal's tooltip script, which it links from a CDN by default, is
  switched off (``js=[]``), its comments that name its web site are dropped, and the fonts are
  the reader's own. :func:`outside_urls` finds any address that would still slip in (tests use it).

A chart never stands alone: each page gives the same numbers in a table next to it (for screen
readers, for phones, and for copying), and the image's ``alt`` says where that table is.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from typing import Any

import pygal
from fastapi.responses import Response
from pygal.style import Style

#: The XML namespaces an SVG names by address; they are names, nothing is fetched from them.
NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")
_URL = re.compile(r"https?://[^\s\"'<>)]+")

#: Allowed, refused, failed: green, orange, grey-blue; distinct also for red-green colour blindness.
OUTCOME_COLOURS = ("#2e7d32", "#e65100", "#546e7a")

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#333333",
    foreground_strong="#1a1a1a",
    foreground_subtle="#6b7280",
    font_family='"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=16,
    value_font_size=12,
    no_data_font_size=20,
    guide_stroke_color="#d0d7e2",
    major_guide_stroke_color="#b0b8c4",
    opacity=".9",
    opacity_hover="1",
    colors=OUTCOME_COLOURS + ("#1565c0", "#6a1b9a", "#00838f"),
)


def _clean(title: str) -> Any:
    """An ``xml_filters`` step on pygal's tree before it is written out: drop its comments (they
    name its web site) and its ``<script>`` (its configuration for the tooltip script, which is
    not sent), turn ``style`` attributes into presentation attributes (the chart's policy allows
    no inline style attribute), and title the SVG for screen readers."""

    def step(root: Any) -> Any:
        for parent in list(root.iter()):
            for node in list(parent):
                name = node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else None
                if name is None or name == "script":  # comments and processing instructions have no str tag
                    parent.remove(node)
        for node in root.iter():
            if not isinstance(node.tag, str):
                continue
            style = node.attrib.pop("style", None)
            if style:
                for decl in style.split(";"):
                    prop, _, value = decl.partition(":")
                    if prop.strip() and value.strip():
                        node.set(prop.strip(), value.strip())
            if node.tag.rsplit("}", 1)[-1] == "title" and node.text == "Pygal":
                node.text = title
        root.set("role", "img")
        root.set("aria-label", title)
        return root

    return step


#: Canvas widths: ``wide`` for screens, ``narrow`` for phones (a page offers both through
#: ``<picture>``), so that the labels keep a readable size once the SVG is scaled to the screen.
WIDTHS = {"wide": 720, "narrow": 360}


def _config(title: str, *, height: int, no_data: str, size: str = "wide") -> dict[str, Any]:
    narrow = size == "narrow"
    return {
        "js": [],  # pygal's tooltip script comes from a CDN by default: none at all
        "style": STYLE,
        "width": WIDTHS.get(size, WIDTHS["wide"]),
        "height": height,
        "disable_xml_declaration": False,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "x_labels_major_count": 4 if narrow else None,
        "print_values": False,
        "show_minor_x_labels": True,
        "truncate_label": 8 if narrow else 24,
        "truncate_legend": 20,
        "no_data_text": no_data,
        "margin": 12,
    }


def outcome_bars(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    horizontal: bool = False,
    no_data: str = "—",
    size: str = "wide",
) -> bytes:
    """Stacked bars, one per label, split into the named series (e.g. allowed, refused, failed).
    Horizontal bars suit long labels (agencies, purposes); vertical ones time."""
    n = len(labels)
    height = max(260, 90 + 34 * n) if horizontal else 380
    kind = pygal.HorizontalStackedBar if horizontal else pygal.StackedBar
    config = _config(title, height=height, no_data=no_data, size=size)
    if not horizontal and n > (6 if size == "narrow" else 16):
        every = max(1, n // (3 if size == "narrow" else 8))
        config.update(x_label_rotation=-45, x_labels_major_every=every, show_minor_x_labels=False)
    if horizontal:
        # pygal sizes the label column as if every character were half a square wide; Chinese
        # characters are a whole square: widen the margin by the difference.
        limit = config["truncate_label"]
        wide = max((sum(1 for ch in label[:limit] if ord(ch) > 0x2E7F) for label in labels), default=0)
        config["margin_left"] = 12 + int(wide * STYLE.label_font_size * 0.5)
    chart = kind(**config)
    chart.add_xml_filter(_clean(title))
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return chart.render()


def _style_hashes(svg: bytes) -> list[str]:
    from xml.etree import ElementTree

    root = ElementTree.fromstring(svg)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256((node.text or "").encode()).digest()).decode() + "'"
        for node in root.iter()
        if node.tag.rsplit("}", 1)[-1] == "style"
    ]


def svg_csp(svg: bytes) -> str:
    """The policy of one chart: nothing loads or runs; only its own ``<style>`` elements apply."""
    styles = " ".join(_style_hashes(svg)) or "'none'"
    return f"default-src 'none'; style-src {styles}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def svg_response(svg: bytes) -> Response:
    """A chart as its own response. ``private, no-store``: it shows scoped usage numbers."""
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": svg_csp(svg), "Cache-Control": "private, no-store"},
    )


def outside_urls(text: str) -> list[str]:
    """Every http(s) address in ``text`` other than the SVG and XLink namespaces."""
    return [u for u in _URL.findall(text) if u not in NAMESPACES]
