"""The exchange console forms in Chromium at 375 px: the off-platform filing form, and the dataset
upload form showing a refused file's rows and columns; nothing scrolls sideways. Screenshots go
to ``test-artifacts/``."""

from __future__ import annotations

import re

import pytest

from tests.browser.browser_helpers import ARTIFACTS, CHROMIUM, MOBILE_WIDTH, check_fits, chromium_browser
from tests.exchange.exchange_helpers import attach_hosted, csv_bytes, publish_entry, residents
from tests.factories import PASSWORD
from tests.live_server import serve

chromium = chromium_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
]


def test_filing_and_upload_forms_fit_a_phone(world, session, client, chromium, tmp_path):
    resource = publish_entry(session)
    session.commit()
    attach_hosted(client, world, resource.id)
    from govshare.app import create_app

    rows = residents()
    rows[4] = {**rows[4], "公民身份号码": "3205081990010100X1", "出生日期": "1990-02-30"}
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(rows))
    with serve(create_app()) as base:
        context = chromium.new_context(viewport={"width": MOBILE_WIDTH, "height": 800}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            for user in ("szsj_admin", "gat_staff"):
                page.goto(base + "/login")
                page.get_by_label("用户名").fill(user)
                page.get_by_label("密码").fill(PASSWORD)
                page.locator("main").get_by_role("button", name="登录").click()
                page.wait_for_url(re.compile(r"/console$"))
                if user == "szsj_admin":
                    page.goto(base + "/exchange/filings/new")
                    page.get_by_label("共享方式").fill("专线")
                    page.get_by_label("对方机关名称").fill("苏州市公安局")
                    page.get_by_label("不通过平台的特殊原因").fill("对方系统尚未接入平台")
                    page.get_by_role("button", name="提交备案").click()
                    # Neither a catalog entry nor data named: the form again, the error at the field.
                    page.wait_for_selector("#f-resource-error")
                    check_fits(page, "exchange filing form", "mobile-exchange-filing-form.png")
                    page.get_by_label("目录外数据名称").fill("企业年报")
                    page.get_by_role("button", name="提交备案").click()
                    page.wait_for_url(re.compile(r"/exchange/filings/\d+"))
                    check_fits(page, "exchange filing", "mobile-exchange-filing.png")
                    page.context.clear_cookies()
                else:
                    page.goto(f"{base}/exchange/resources/{resource.code}")
                    page.get_by_label("数据文件").set_input_files(str(bad))
                    page.get_by_role("button", name="上传", exact=True).click()
                    page.wait_for_selector("table.upload-errors")
                    assert page.locator("table.upload-errors tbody tr").count() >= 2
                    check_fits(page, "exchange upload errors", "mobile-exchange-upload-errors.png")
        finally:
            context.close()
    assert (ARTIFACTS / "mobile-exchange-upload-errors.png").exists()


def test_overseer_pages_fit_a_phone(world, session, chromium):
    """The authority's exchange pages at 375 px in Chinese: the subject lookup (form, then its answer),
    the interfaces list, the overdue reports and who uses the data."""
    from govshare.app import create_app

    with serve(create_app()) as base:
        context = chromium.new_context(viewport={"width": MOBILE_WIDTH, "height": 800}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            page.goto(base + "/login")
            page.get_by_label("用户名").fill("sz_auth")
            page.get_by_label("密码").fill(PASSWORD)
            page.locator("main").get_by_role("button", name="登录").click()
            page.wait_for_url(re.compile(r"/console$"))
            page.goto(base + "/exchange/subjects")
            check_fits(page, "exchange subject lookup", "mobile-exchange-subjects.png")
            page.get_by_label("号码").fill("11010519491231002X")
            page.get_by_label("查询事由").fill("核查群众关于个人信息被滥用的投诉")
            page.get_by_role("button", name="查询").click()
            page.wait_for_selector("#found-title")
            assert "11010519491231002X" not in page.content()  # the number is not echoed back
            check_fits(page, "exchange subject answer", "mobile-exchange-subjects-answer.png")
            for path, shot in (
                ("/exchange/resources", "mobile-exchange-resources.png"),
                ("/exchange/filings/overdue", "mobile-exchange-overdue.png"),
                ("/exchange/usage/consumers", "mobile-exchange-consumers.png"),
            ):
                page.goto(base + path)
                assert page.locator("main h1").count() == 1, path
                check_fits(page, path, shot)
        finally:
            context.close()
