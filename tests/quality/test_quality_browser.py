"""The reconciliation report in a real browser (Chromium) at 1280 px and at 375 px: the charts
render from inline SVG (nothing from elsewhere), no sideways scrolling on a phone. Screenshots go
to ``test-artifacts/``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser.test_portal_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    MOBILE_WIDTH,
    OVERFLOW_JS,
    chromium,
    live_server,
)
from tests.factories import PASSWORD
from tests.live_server import serve
from tests.quality.quality_helpers import primary_dataset, register, secondary_csv, start_upload

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def report_url(world, session, client) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    r = start_upload(client, world, resource, secondary_csv())
    assert r.status_code == 202, r.text
    from govshare.app import create_app

    with serve(create_app()) as url:
        yield url, r.json()["id"]


def test_report_page_at_desktop_and_phone_width(report_url):
    from playwright.sync_api import sync_playwright

    base, run_id = report_url
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = desktop.new_page()
            page.set_default_timeout(20_000)
            page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(base) else None)
            page.goto(base + "/login")
            page.get_by_label("用户名").fill("szsj_admin")
            page.get_by_label("密码").fill(PASSWORD)
            page.locator("main").get_by_role("button", name="登录").click()
            page.wait_for_url(re.compile(r"/console$"))
            page.goto(f"{base}/quality/reconciliations/{run_id}")
            assert page.locator("h1").inner_text() == f"比对报告 {run_id}"
            charts = page.locator("svg.chart-bar")
            assert charts.count() == 4
            box = charts.nth(1).bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] >= 17  # the chart is drawn
            assert page.locator("svg.chart-bar rect[fill='#c62828']").count() >= 1  # mismatches shown
            main = page.locator("main").inner_text()
            assert "无效主键" in main and "下载 Excel" in main
            page.screenshot(path=str(ARTIFACTS / "desktop-quality-report.png"), full_page=True)

            phone = browser.new_context(
                viewport={"width": MOBILE_WIDTH, "height": 812},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
                storage_state=desktop.storage_state(),
            )
            mobile = phone.new_page()
            mobile.set_default_timeout(20_000)
            for name, path in (
                ("report", f"/quality/reconciliations/{run_id}"),
                ("report-en", f"/quality/reconciliations/{run_id}?lang=en"),
                ("form", "/quality/reconciliations/new?lang=zh"),
                ("overview", "/quality"),
            ):
                mobile.goto(base + path)
                result = mobile.evaluate(OVERFLOW_JS)
                mobile.screenshot(path=str(ARTIFACTS / f"mobile-quality-{name}.png"), full_page=True)
                assert result["scrollWidth"] <= MOBILE_WIDTH and not result["bad"], (name, result)
        finally:
            browser.close()
    assert not outside, outside


def test_updates_page_on_a_phone(world, session, live_server, chromium):  # noqa: F811
    """The update duty page (Art 15(2)) at 375 px: the overdue counts and the form fit the screen."""
    import datetime as dt

    from govshare.core import clock
    from govshare.core.auth import OPERATOR, SYSTEM_PRINCIPAL
    from govshare.quality import service
    from tests.exchange.exchange_helpers import publish_entry
    from tests.portal.portal_helpers import assert_fits_a_phone, signed_in_on_a_phone

    resource = publish_entry(session)
    service.updates.record_change(
        session,
        resource.id,
        changed_at=clock.now() - dt.timedelta(days=60),
        note="行政区划调整后地址批量变更",
        by=OPERATOR,
    )
    service.updates.tick(session, by=SYSTEM_PRINCIPAL)
    session.commit()
    with signed_in_on_a_phone(live_server, chromium, "gat_staff") as page:
        page.goto(live_server + "/quality/updates")
        assert page.locator("h1").inner_text() == "数据更新义务"
        assert "江苏省公安厅" in page.locator("#overdue-title").locator("..").inner_text()
        assert page.get_by_label("变化时间（北京时间）").count() == 1
        assert_fits_a_phone(page, "mobile-quality-updates.png")
