"""The service guide page on a phone (Art 27): Chromium at 375 px, no sideways scrolling.

The app runs under uvicorn in a background thread against the test database, with services of
the ``world`` agencies that have long names, long descriptions and every channel with its detail.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from govshare.core.auth import OPERATOR
from govshare.guide import service
from govshare.guide.schemas import ServiceCreate

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WIDTH = 375

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
]

#: Page width, scroll width, and any visible element reaching past the right edge.
FITS_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('main *')]
    .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > width + 0.5; })
    .map(el => el.tagName.toLowerCase() + '.' + el.className);
  return {width, scrollWidth: document.documentElement.scrollWidth, wide};
}
"""


@pytest.fixture
def served(app, world, session) -> Iterator[str]:  # type: ignore[no-untyped-def]
    for i, (agency, sector) in enumerate(
        (("js-gat", "public_safety"), ("sz-sj", "market_regulation"), ("nj-sj", "food_drug"))
    ):
        service.create_service(
            session,
            ServiceCreate(
                name=f"跨部门联办的超长名称公共服务事项第{i + 1}项：涉及多个机关的数据共享与业务协同",
                sector=sector,
                agency=agency,
                description="长说明" * 40,
                link_url="https://www.jszwfw.gov.cn/" + "x" * 120,
                channels=[
                    {"channel": "web", "detail": "江苏政务服务网https://www.jszwfw.gov.cn/长地址说明"},
                    {"channel": "mobile_app", "detail": "苏服办"},
                    {"channel": "phone", "detail": "12345"},
                    {"channel": "tv", "detail": "江苏公共新闻频道"},
                    {"channel": "counter", "detail": "各级政务服务中心"},
                ],
            ),
            by=OPERATOR,
        )
    session.commit()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_guide_fits_a_phone(served, lang):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_context(viewport={"width": WIDTH, "height": 800}, locale="zh-CN").new_page()
            page.goto(f"{served}/guide?lang={lang}")
            assert page.locator("li.card").count() == 3
            result = page.evaluate(FITS_JS)
            page.screenshot(path=str(ARTIFACTS / f"mobile-guide-{lang}.png"), full_page=True)
            assert result["width"] == WIDTH, result
            assert result["scrollWidth"] <= WIDTH, result
            assert not result["wide"], result
            # The filters work from the phone as well.
            page.select_option("#g-channel", "tv")
            page.click("button[type=submit]")
            page.wait_for_url("**channel=tv**")
            assert page.locator("li.card").count() == 3
        finally:
            browser.close()
