"""An entry from draft to published in a real browser (Debian's Chromium through Playwright): the
provider drafts and submits it, the authority publishes it from its review queue, and an anonymous
visitor finds it by a Chinese word in the public catalog, also on a 375 px phone."""

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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def catalog_server(world) -> Iterator[str]:  # noqa: ARG001 - world seeds the database the server reads
    from govshare.app import create_app

    with serve(create_app()) as base:
        yield base


def _sign_in(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/console$"))
    return context, page


def test_entry_from_draft_to_public_search(catalog_server):
    from playwright.sync_api import sync_playwright

    base = catalog_server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            staff_ctx, page = _sign_in(browser, base, "gat_staff")
            page.goto(base + "/catalog/new")
            page.get_by_label("资源名称").fill("户籍人口基础信息")
            page.get_by_label("资源分类").select_option("basic")
            page.get_by_label("资源类别").select_option("population")
            page.get_by_label("资源摘要").fill("全省户籍人口的基本登记信息。")
            page.get_by_label("共享类型").select_option("conditional")
            page.get_by_label("共享条件").fill("按需调用，签订保密协议")
            page.get_by_label("含个人信息").check()
            page.get_by_label("是否向社会开放").check()
            page.get_by_label("信息项").fill("公民身份号码|字符型|18 位|个人\n姓名|字符型||个人")
            page.screenshot(path=str(ARTIFACTS / "catalog-form.png"), full_page=True)
            page.get_by_role("button", name="保存").click()
            page.wait_for_url(re.compile(r"/catalog/\d+\?done=created$"))
            assert "户籍人口基础信息" in page.locator("h1").inner_text()
            page.get_by_role("button", name="提交发布").click()
            page.wait_for_url(re.compile(r"done=done$"))
            assert "待发布" in page.locator("h1").inner_text()
            staff_ctx.close()

            auth_ctx, page = _sign_in(browser, base, "prov_auth")
            page.goto(base + "/catalog/review")
            page.get_by_role("link", name="户籍人口基础信息").click()
            page.get_by_role("button", name="发布", exact=True).click()
            page.wait_for_url(re.compile(r"done=done$"))
            assert "已发布" in page.locator("h1").inner_text()
            auth_ctx.close()

            public = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, locale="zh-CN")
            page = public.new_page()
            page.set_default_timeout(20_000)
            page.goto(base + "/catalog")
            page.get_by_label("搜索").fill("人口")
            page.get_by_role("button", name="检索").click()
            page.wait_for_url(re.compile(r"/catalog\?q="))
            assert page.locator("main .card", has_text="户籍人口基础信息").count() == 1
            width = page.evaluate("() => document.documentElement.scrollWidth")
            page.screenshot(path=str(ARTIFACTS / "mobile-catalog-search.png"), full_page=True)
            assert width <= 375
            page.get_by_role("link", name="户籍人口基础信息").click()
            assert "101-000001" in page.locator("main").inner_text()
            public.close()
        finally:
            browser.close()
