"""The portal in a real browser: Debian's Chromium driven by Playwright against the real app.

The app runs under uvicorn in a background thread on a free 127.0.0.1 port, on the test database
seeded by the ``world`` fixture. The province authority signs in, registers an agency through the
pages and finds it again; every page is then checked at 375 px (no horizontal scrolling, no element
wider than the viewport). Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.registry import service
from govshare.registry.rules import make_uscc
from tests.browser.browser_helpers import (  # noqa: F401 - re-exported: other test modules import them from here
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    MOBILE_WIDTH,
    OVERFLOW_JS,
    check_fits,
    chromium_browser,
)
from tests.factories import PASSWORD
from tests.live_server import serve

#: The ``chromium`` fixture, still importable from here by other test modules.
chromium = chromium_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium fonts-noto-cjk)",
    ),
]


@pytest.fixture
def live_server(world) -> Iterator[str]:  # noqa: ARG001 - world seeds the database the server reads
    from govshare.app import create_app

    with serve(create_app()) as url:
        yield url


def _check_fits(page, name: str) -> None:  # type: ignore[no-untyped-def]
    check_fits(page, name, f"mobile-{name}.png")


def test_authority_registers_an_agency_and_pages_fit_a_phone(live_server, chromium):
    base = live_server
    uscc = make_uscc("1", "1", "320000", "30000001")
    desktop = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desktop.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(base + "/")
        assert page.locator("h1").inner_text() == "政务信息资源共享交换平台"
        page.screenshot(path=str(ARTIFACTS / "desktop-home.png"), full_page=True)

        page.locator("header").get_by_role("link", name="登录").click()
        page.get_by_label("用户名").fill("prov_auth")
        page.get_by_label("密码").fill(PASSWORD)
        page.locator("main").get_by_role("button", name="登录").click()
        page.wait_for_url(re.compile(r"/console$"))
        assert "信息化主管部门" in page.locator("main").inner_text()
        page.screenshot(path=str(ARTIFACTS / "desktop-console.png"), full_page=True)

        page.get_by_role("link", name="登记新机关").click()
        page.wait_for_url(re.compile(r"/agencies/new\?region=320000$"))
        page.get_by_label("机构代号").fill("js-browser")
        page.get_by_label("统一社会信用代码").fill(uscc)
        page.get_by_label("机关名称").fill("江苏省浏览器测试局")
        page.get_by_label("所属行政区划").select_option("320000")
        page.get_by_label("共享工作负责单位").fill("信息化处")
        page.get_by_label("共享工作负责人", exact=True).fill("钱伟")
        page.screenshot(path=str(ARTIFACTS / "desktop-agency-form.png"), full_page=True)
        page.get_by_role("button", name="登记").click()
        page.wait_for_url(re.compile(r"/agencies/js-browser\?created=1$"))
        main = page.locator("main").inner_text()
        assert "机关已登记" in main and "江苏省浏览器测试局" in main and uscc in main
        page.screenshot(path=str(ARTIFACTS / "desktop-agency.png"), full_page=True)

        page.goto(base + "/agencies?q=浏览器")
        assert page.locator("main table a", has_text="江苏省浏览器测试局").count() == 1
        page.screenshot(path=str(ARTIFACTS / "desktop-agencies.png"), full_page=True)

        page.goto(base + "/agencies/js-browser?lang=en")
        assert page.locator("h1").inner_text().startswith("江苏省浏览器测试局")
        assert "Responsible for sharing (Art 30)" in page.locator("main").inner_text()
        page.screenshot(path=str(ARTIFACTS / "desktop-agency-en.png"), full_page=True)
        page.goto(base + "/?lang=zh")

        # The same signed-in person on a 375 px phone.
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
        for name, path in [
            ("home", "/"),
            ("console", "/console"),
            ("regions", "/regions"),
            ("region", "/regions/320500"),
            ("agencies", "/agencies"),
            ("agencies-missing", "/agencies?missing=1"),
            ("agency", "/agencies/js-browser"),
            ("agency-form", "/agencies/new"),
            ("agency-edit", "/agencies/js-gat/edit"),
            ("not-found", "/no-such-page"),
            ("agencies-en", "/agencies?lang=en"),
            ("console-en", "/console?lang=en"),
            ("agency-form-en", "/agencies/new?lang=en"),
        ]:
            mobile.goto(base + path)
            _check_fits(mobile, name)
        mobile.goto(base + "/agencies/new?lang=zh")
        mobile.get_by_label("机构代号").fill("坏 代号")
        mobile.get_by_label("统一社会信用代码").fill("91320000ABC")
        mobile.get_by_label("机关名称").fill("一个名称很长很长很长很长很长很长很长很长很长很长很长很长很长很长的机关")
        mobile.get_by_label("所属行政区划").select_option("320508")
        mobile.get_by_role("button", name="登记").click()
        assert "统一社会信用代码应为 18 位" in mobile.locator("#form-errors").inner_text()
        _check_fits(mobile, "agency-form-errors")
        mobile.locator("header").get_by_role("button", name="退出").click()
        mobile.wait_for_url(base + "/")
        _check_fits(mobile, "signed-out")
        mobile.goto(base + "/login")
        _check_fits(mobile, "login")
        phone.close()
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "desktop-failure.png"), full_page=True)
        raise
    finally:
        desktop.close()

    with transaction() as s:
        agency = service.get_agency(s, "js-browser")
        assert (agency.uscc, agency.responsible_person) == (uscc, "钱伟")
        event = s.scalar(
            select(Event).where(Event.action == "registry.agency.created", Event.subject_id == "js-browser")
        )
        assert event is not None and event.actor_name == "prov_auth"
