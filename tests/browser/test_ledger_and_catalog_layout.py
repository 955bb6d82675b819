"""Layout facts, measured in Debian's Chromium (Playwright) at 1280 px and 375 px:

* the supervision ledger keeps sequence numbers, times and codes on one line and fits a desktop
  screen without sideways scrolling; on a phone the page does not scroll sideways either;
* the catalog's facets sit left of the results on a desktop and in a folded filter panel above
  them on a phone; a facet adds a chip, the chip takes the filter away again.

Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import PASSWORD
from tests.live_server import serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium fonts-noto-cjk)",
    ),
]

#: Entries in two classifications from two providers (so there are facets to choose from).
ENTRIES = [("js-gat", "basic", "population", f"户籍人口信息{i}") for i in range(8)] + [
    ("sz-sj", "departmental", None, f"市场主体登记信息{i}") for i in range(8)
]


@pytest.fixture
def server(world, session) -> Iterator[str]:  # type: ignore[no-untyped-def]  # noqa: ARG001 - world seeds the database
    from govshare.catalog import service
    from govshare.catalog.schemas import ResourceCreate
    from govshare.core.auth import OPERATOR

    for provider, classification, category, name in ENTRIES:
        made = service.create_resource(
            session,
            ResourceCreate(
                provider=provider,
                classification=classification,
                category=category,
                name=name,
                abstract=f"{name}的说明。",
                format="database",
                share_type="unconditional",
                provision_method="gateway_api",
                update_cycle="daily",
                open_to_public=True,
            ),
            by=OPERATOR,
        )
        service.submit(session, made.id, by=OPERATOR)
        service.publish(session, made.id, by=OPERATOR)
    session.commit()
    from govshare.app import create_app

    with serve(create_app()) as base:
        yield base


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _context(browser, viewport, **extra):  # type: ignore[no-untyped-def]
    mobile = {"device_scale_factor": 2, "is_mobile": True, "has_touch": True} if viewport is PHONE else {}
    return browser.new_context(viewport=viewport, locale="zh-CN", **mobile, **extra)


def _signed_in(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    ctx = _context(browser, DESKTOP)
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    page.goto(base + "/login?lang=zh")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console$"))
    state = ctx.storage_state()
    ctx.close()
    return state


#: How many lines each element of ``selector`` takes (its line boxes), with its text.
LINES_JS = """
(selector) => [...document.querySelectorAll(selector)].map(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
  return {text: el.textContent.trim(), lines: tops.size};
})
"""

BOX_JS = (
    "(selector) => { const r = document.querySelector(selector).getBoundingClientRect(); "
    "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; }"
)

FITS_JS = "() => ({width: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth})"


def test_ledger_numbers_and_codes_stay_on_one_line(server, browser) -> None:  # type: ignore[no-untyped-def]
    state = _signed_in(browser, server, "super")
    ctx = _context(browser, DESKTOP, storage_state=state)
    page = ctx.new_page()
    page.goto(server + "/supervision/ledger?lang=zh")
    page.screenshot(path=str(ARTIFACTS / "desktop-ledger.png"), full_page=True)

    seqs = page.evaluate(LINES_JS, "table.ledger tbody th.num a")
    assert len(seqs) == 50 and any(len(s["text"]) >= 2 for s in seqs)
    assert all(s["lines"] == 1 for s in seqs), [s for s in seqs if s["lines"] != 1][:5]
    # the sequence-number cell is one line high (padding aside): its link's box equals its line height
    cell = page.evaluate("""() => { const a = document.querySelector('table.ledger tbody th.num a');
        return {h: a.getBoundingClientRect().height, lh: parseFloat(getComputedStyle(a).lineHeight)}; }""")
    assert cell["h"] <= cell["lh"] * 1.2, cell
    for selector in ("table.ledger tbody td.num", "table.ledger .code", "table.ledger .article"):
        measured = page.evaluate(LINES_JS, selector)
        assert measured, selector
        assert all(m["lines"] == 1 for m in measured), (selector, [m for m in measured if m["lines"] != 1][:5])
    codes = {m["text"] for m in page.evaluate(LINES_JS, "table.ledger .code")}
    assert "320000" in codes and "js-gat" in codes
    # labels and articles, not codes; the whole table within the page at 1280 px
    first_rows = page.locator("table.ledger tbody").inner_text()
    assert "《办法》第" in first_rows and "catalog.resource." not in first_rows
    assert "发布目录条目" in first_rows
    wrapper = page.evaluate(
        "() => { const w = document.querySelector('.table-scroll'); "
        "return {client: w.clientWidth, scroll: w.scrollWidth}; }"
    )
    assert wrapper["scroll"] <= wrapper["client"], wrapper
    fits = page.evaluate(FITS_JS)
    assert fits["scroll"] <= fits["width"], fits
    # a subject's name leads to its page
    page.locator("table.ledger tbody a", has_text="市场主体登记信息7").first.click()
    page.wait_for_url(re.compile(r"/catalog/[0-9-]+$"))
    assert page.locator("h1").inner_text().startswith("市场主体登记信息7")
    ctx.close()

    phone = _context(browser, PHONE, storage_state=state)
    page = phone.new_page()
    page.goto(server + "/supervision/ledger?lang=zh")
    page.screenshot(path=str(ARTIFACTS / "mobile-ledger.png"), full_page=False)
    fits = page.evaluate(FITS_JS)
    assert fits["width"] == 375 and fits["scroll"] <= 375, fits
    seqs = page.evaluate(LINES_JS, "table.ledger tbody th.num a")
    assert all(s["lines"] == 1 for s in seqs)
    assert all(m["lines"] == 1 for m in page.evaluate(LINES_JS, "table.ledger .code"))
    phone.close()


def test_catalog_facets_beside_results_on_a_desktop(server, browser) -> None:  # type: ignore[no-untyped-def]
    ctx = _context(browser, DESKTOP)
    page = ctx.new_page()
    page.goto(server + "/catalog?lang=zh")
    page.screenshot(path=str(ARTIFACTS / "desktop-catalog.png"), full_page=False)
    facets, results = page.evaluate(BOX_JS, "aside.facets"), page.evaluate(BOX_JS, "section.results")
    assert facets["right"] <= results["left"], (facets, results)
    assert abs(facets["top"] - results["top"]) < 40, (facets, results)  # side by side, not one below the other
    assert 180 <= facets["width"] <= 320, facets
    # open without a click: the facet values are visible at once
    assert page.get_by_role("link", name=re.compile("^基础信息资源")).is_visible()
    assert page.locator(".facet").first.is_visible()

    page.get_by_role("link", name=re.compile("^基础信息资源")).click()
    page.wait_for_url(re.compile(r"classification=basic"))
    chip = page.get_by_role("link", name="移除筛选：资源分类：基础信息资源").first
    assert chip.is_visible()
    page.screenshot(path=str(ARTIFACTS / "desktop-catalog-filtered.png"), full_page=False)
    assert "共 8 条" in page.locator(".result-count").inner_text()
    page.locator("a.chip").first.click()
    page.wait_for_url(lambda url: "classification=" not in url)
    assert page.locator("a.chip").count() == 0
    assert "共 16 条" in page.locator(".result-count").inner_text()
    ctx.close()


def test_catalog_filter_panel_above_results_on_a_phone(server, browser) -> None:  # type: ignore[no-untyped-def]
    ctx = _context(browser, PHONE)
    page = ctx.new_page()
    page.goto(server + "/catalog?lang=zh")
    page.screenshot(path=str(ARTIFACTS / "mobile-catalog.png"), full_page=False)
    facets, results = page.evaluate(BOX_JS, "aside.facets"), page.evaluate(BOX_JS, "section.results")
    assert facets["bottom"] <= results["top"], (facets, results)
    assert facets["height"] < 80, facets  # folded: only the summary line shows
    assert not page.locator(".facet").first.is_visible()
    fits = page.evaluate(FITS_JS)
    assert fits["scroll"] <= 375, fits

    page.locator(".filter-panel > summary").click()  # unfolds without any script
    assert page.locator(".facet").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "mobile-catalog-open.png"), full_page=False)
    page.locator(".facet a", has_text="江苏省公安厅").click()
    page.wait_for_url(re.compile(r"provider=js-gat"))
    assert "共 8 条" in page.locator(".result-count").inner_text()
    chips = page.locator("a.chip")
    assert chips.count() == 1 and chips.first.get_attribute("aria-label") == "移除筛选：提供单位：江苏省公安厅"
    chip_box, results = page.evaluate(BOX_JS, "ul.chips"), page.evaluate(BOX_JS, ".catalog-entries")
    assert chip_box["bottom"] <= results["top"]
    page.screenshot(path=str(ARTIFACTS / "mobile-catalog-filtered.png"), full_page=False)
    assert page.evaluate(FITS_JS)["scroll"] <= 375
    chips.first.click()
    page.wait_for_url(lambda url: "provider=" not in url)
    assert page.locator("a.chip").count() == 0 and "共 16 条" in page.locator(".result-count").inner_text()
    ctx.close()
