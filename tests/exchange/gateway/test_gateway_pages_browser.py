"""The usage page and the integrator's page in a real browser (Debian's Chromium) at 1280 px and
375 px: the pygal charts load as images from this site (nothing from elsewhere), and on a phone
nothing scrolls sideways. Screenshots go to ``test-artifacts/exchange-*.png``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.browser_helpers import ARTIFACTS, CHROMIUM, MOBILE_WIDTH, check_fits, chromium_browser  # noqa: F401
from tests.exchange.gateway.gateway_helpers import GW, agency_id, headers
from tests.factories import PASSWORD
from tests.live_server import serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def server(client, world, book, hosted, sz_key, session) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    gid = book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    for _ in range(4):
        assert client.get(f"{GW}/{hosted.code}", params={"limit": 3}, headers=headers(sz_key)).status_code == 200
    client.get(f"{GW}/{hosted.code}", headers=headers(sz_key, "别的用途"))
    from govshare.app import create_app

    with serve(create_app()) as url:
        yield url, gid


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console$"))


def _charts_drawn(page: Any) -> None:
    images = page.locator("figure.usage-chart img")
    assert images.count() == 2
    for i in range(2):
        img = images.nth(i)
        img.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
        box = img.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 100


def test_usage_and_integrator_pages_at_desktop_and_phone_width(server, chromium):
    base, gid = server
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    desktop = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desktop.new_page()
    page.set_default_timeout(20_000)
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(base) else None)
    _sign_in(page, base, "szsj_admin")
    page.get_by_role("link", name="调用统计").click()
    page.wait_for_url(re.compile(r"/exchange/usage$"))
    assert page.locator("h1").inner_text() == "网关调用统计"
    _charts_drawn(page)
    assert page.locator("#total-calls").inner_text() == "5"
    page.screenshot(path=str(ARTIFACTS / "exchange-usage-desktop.png"), full_page=True)
    page.goto(f"{base}/exchange/usage/calls")
    page.get_by_role("link", name="接入说明").first.click()
    page.wait_for_url(re.compile(rf"/exchange/grants/{gid}$"))
    assert "curl -G" in page.locator("#curl-line").inner_text()
    page.screenshot(path=str(ARTIFACTS / "exchange-integrator-desktop.png"), full_page=True)

    phone = chromium.new_context(
        viewport={"width": MOBILE_WIDTH, "height": 812},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        storage_state=desktop.storage_state(),
    )
    mobile = phone.new_page()
    mobile.set_default_timeout(20_000)
    mobile.on("request", lambda req: outside.append(req.url) if not req.url.startswith(base) else None)
    for name, path in (
        ("usage", "/exchange/usage?group=consumer"),
        ("usage-en", "/exchange/usage?group=purpose&period=month&lang=en"),
        ("calls", "/exchange/usage/calls?lang=zh"),
        ("integrator", f"/exchange/grants/{gid}"),
    ):
        mobile.goto(base + path)
        if name.startswith("usage"):
            _charts_drawn(mobile)
        check_fits(mobile, name, f"exchange-{name}-mobile.png")
    desktop.close()
    phone.close()
    assert not outside, outside


def test_subject_lookup_pages_through_calls_at_phone_width(
    client, world, book, hosted, sz_key, session, chromium, monkeypatch
):  # type: ignore[no-untyped-def]
    """The subject lookup's pages at 375 px: the next page is a form (POST), the number is in no page."""
    from govshare.app import create_app
    from govshare.exchange.console import subjects as subject_pages
    from tests.exchange.exchange_helpers import residents

    monkeypatch.setattr(subject_pages, "PAGE_SIZE", 2)
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    person = next(r["公民身份号码"] for r in residents() if r["行政区划代码"].startswith("3205"))
    for _ in range(3):
        r = client.get(
            f"{GW}/{hosted.code}",
            params=[("items", "姓名"), ("filter", f"公民身份号码:eq:{person}")],
            headers=headers(sz_key),
        )
        assert r.status_code == 200, r.text
    with serve(create_app()) as base:
        context = chromium.new_context(viewport={"width": MOBILE_WIDTH, "height": 800}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            _sign_in(page, base, "super")
            page.goto(base + "/exchange/subjects")
            page.get_by_label("号码").fill(person)
            page.get_by_label("查询事由").fill("核查群众关于个人信息被滥用的投诉")
            page.get_by_role("button", name="查询", exact=True).click()
            page.wait_for_selector("#found-title")
            assert "第 1–2 条，共 3 条" in page.content() and person not in page.content()
            check_fits(page, "exchange subject answer, first page", "mobile-exchange-subjects-page1.png")
            page.get_by_role("button", name="下一页").click()
            page.wait_for_selector("text=第 3–3 条，共 3 条")
            assert page.url.endswith("/exchange/subjects/page") and person not in page.content()
            check_fits(page, "exchange subject answer, next page", "mobile-exchange-subjects-page2.png")
        finally:
            context.close()
