"""The register's pages and a running reconciliation in Chromium at 375 px: the forms and tables
fit a phone; screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser.test_portal_browser import CHROMIUM, chromium, live_server  # noqa: F401 - fixtures
from tests.portal.portal_helpers import assert_fits_a_phone, signed_in_on_a_phone
from tests.quality.quality_helpers import register
from tests.quality.test_quality_sources import _sz_entry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
]


def test_register_pages_on_a_phone(world, session, live_server, chromium):  # noqa: F811
    register(session)
    rid = _sz_entry(session).id
    session.commit()
    with signed_in_on_a_phone(live_server, chromium, "prov_auth") as page:
        page.goto(live_server + "/quality/elements")
        assert page.get_by_role("heading", name="登记数据元").count() == 1
        assert_fits_a_phone(page, "mobile-quality-elements.png")
        page.locator("#f-code").fill("DE0010")
        page.locator("#f-name").fill("性别")
        page.get_by_role("button", name="登记").click()
        page.wait_for_url("**/quality/elements/DE0010?done=created")
        page.locator("#f-region_code").select_option("320000")
        page.locator("#f-agency").select_option("js-gat")
        page.get_by_role("button", name="确定", exact=True).click()
        page.wait_for_url("**/quality/elements/DE0010?done=assigned")
        assert "江苏省公安厅" in page.locator("main").inner_text()
        assert_fits_a_phone(page, "mobile-quality-element.png")
    with signed_in_on_a_phone(live_server, chromium, "szsj_admin") as page:
        page.goto(f"{live_server}/quality/resources/{rid}/links")
        assert_fits_a_phone(page, "mobile-quality-links.png")
        page.get_by_label("数据元: 性别").select_option("DE0010")
        page.get_by_label("数据元: 性别").locator("xpath=..").get_by_role("button", name="关联").click()
        page.wait_for_url(f"**/quality/resources/{rid}/links?done=1")
        assert "已关联" in page.locator("main").inner_text()


def test_a_running_reconciliation_on_a_phone(world, session, live_server, chromium, client, tmp_path: Path):  # noqa: F811
    from govshare.core.db import transaction
    from govshare.quality.service import reconciliations as runs
    from tests.quality.quality_helpers import primary_dataset
    from tests.quality.test_reconcile_progress import _queued_run

    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    run_id = _queued_run(session, resource, tmp_path)
    with transaction() as s:
        assert runs._claim(s, run_id, runs.WORKER)
    runs.progress_writer(run_id, runs.WORKER)("comparing_item", 6, 8, {})
    try:
        with signed_in_on_a_phone(live_server, chromium, "szsj_admin") as page:
            page.goto(f"{live_server}/quality/reconciliations/{run_id}")
            text = page.locator("main").inner_text()
            assert "逐项比对：第 2/3 项 出生日期（第 6/8 步）" in text
            assert page.locator("progress").get_attribute("value") == str(runs.percent(6, 8))
            assert_fits_a_phone(page, "mobile-quality-running.png")
    finally:
        shutil.rmtree(runs.get_quality_settings().resolved_dir / "reconciliations", ignore_errors=True)
