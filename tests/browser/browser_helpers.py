"""What the browser tests share: Debian's Chromium, the 375 px check and where screenshots go.

Import ``chromium_browser`` into a test module to get the ``chromium`` fixture (imported under another name
so that the test parameter ``chromium`` does not shadow an import).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
MOBILE_WIDTH = 375

#: Elements outside the viewport on purpose: the skip link waits off-screen until focused.
OVERFLOW_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.skip-link')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.left < -0.5 || r.right > width + 0.5) {
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className;
      bad.push(`${name} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
  }
  return {width, scrollWidth: document.documentElement.scrollWidth, bad};
}
"""


@pytest.fixture(name="chromium")
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, closed after the test; makes ``test-artifacts/``."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def check_fits(page: Any, name: str, screenshot: str) -> None:
    """Screenshot ``page`` to ``test-artifacts/<screenshot>`` and check it fits a 375 px phone: the viewport
    meta tag is in effect, nothing scrolls sideways and no element is wider than the screen."""
    result = page.evaluate(OVERFLOW_JS)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    assert result["width"] == MOBILE_WIDTH, f"{name}: the viewport meta tag is not in effect ({result})"
    assert result["scrollWidth"] <= MOBILE_WIDTH, f"{name}: scrolls sideways ({result})"
    assert not result["bad"], f"{name}: elements wider than the viewport: {result['bad'][:10]}"
