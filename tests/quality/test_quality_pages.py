"""Quality pages: the report with its charts and invalid-key section, the upload form with its
errors, the task page answering per discrepancy, duplicates, checks; Chinese first, English too."""

from __future__ import annotations

from sqlalchemy import select

from govshare.core.auth import OPERATOR
from govshare.quality import service
from govshare.quality.models import QualityReconciliation
from tests.portal.portal_helpers import browser, sign_in, token_of
from tests.quality.quality_helpers import primary_dataset, register, secondary_csv


def test_reconcile_through_the_pages_and_answer_the_task(world, session, client, app):
    register(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    sz = sign_in(browser(app), "szsj_admin")
    form = sz.get(f"/quality/reconciliations/new?primary={resource.id}")
    assert form.status_code == 200 and "发起数据比对" in form.text
    token = token_of(form.text)
    # A missing file and key: the form again, naming the fields.
    r = sz.post("/quality/reconciliations/new", data={"csrf_token": token, "primary": str(resource.id)})
    assert r.status_code == 422 and "请选择文件" in r.text and "请填写此项" in r.text
    # An unknown item: the service's refusal next to the field.
    r = sz.post(
        "/quality/reconciliations/new",
        files={"file": ("copy.csv", secondary_csv())},
        data={
            "csrf_token": token,
            "primary": str(resource.id),
            "key": "公民身份号码",
            "items": "不存在",
            "rules": ["fullwidth", "whitespace", "case", "date", "id15"],
        },
    )
    assert r.status_code == 422 and "不存在" in r.text
    r = sz.post(
        "/quality/reconciliations/new",
        files={"file": ("copy.csv", secondary_csv("gbk"))},
        data={
            "csrf_token": token,
            "primary": str(resource.id),
            "key": "公民身份号码",
            "items": "姓名、出生日期，性别",
            "rules": ["fullwidth", "whitespace", "case", "date", "id15"],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    report = sz.get(r.headers["location"])
    assert report.status_code == 200
    page = report.text
    assert "比对报告" in page and "无效主键" in page and "校验码" in page  # the invalid-key section, with reason
    assert page.count('<svg class="chart-bar"') == 4  # keys + one per item
    assert "下载 Excel" in page and "下载 Parquet" in page and 'http-equiv="refresh"' not in page
    assert "https://" not in page.split("<main", 1)[1]  # nothing loaded from elsewhere
    english = sz.get(r.headers["location"] + "?lang=en").text
    assert "Reconciliation report" in english and "Invalid keys" in english

    run = session.scalar(select(QualityReconciliation))
    task_id = service.verification.task_for_run(session, run.id).id
    session.rollback()
    gat = sign_in(browser(app), "gat_staff")
    page = gat.get(f"/quality/tasks/{task_id}")
    assert page.status_code == 200 and "提交所选答复" in page.text
    positions = [int(p) for p in __import__("re").findall(r'name="outcome_(\d+)"', page.text)]
    assert len(positions) == 4
    # "Source right" without an explanation is refused, nothing stored.
    bad = gat.post(
        f"/quality/tasks/{task_id}/answers",
        data={"csrf_token": token_of(page.text), f"outcome_{positions[0]}": "source_right"},
    )
    assert bad.status_code == 422 and "说明源数据为何无误" in bad.text
    ok = gat.post(
        f"/quality/tasks/{task_id}/answers",
        follow_redirects=False,
        data={
            "csrf_token": token_of(page.text),
            f"outcome_{positions[0]}": "source_corrected",
            f"outcome_{positions[1]}": "source_right",
            f"note_{positions[1]}": "户籍档案为准",
        },
    )
    assert ok.status_code == 303
    after = gat.get(f"/quality/tasks/{task_id}").text
    assert "已更正源数据" in after and "户籍档案为准" in after
    # The secondary holder and the authority see the task, without the answer form.
    assert "提交所选答复" not in sz.get(f"/quality/tasks/{task_id}").text
    auth = sign_in(browser(app), "prov_auth")
    assert auth.get("/quality/tasks").status_code == 200
    assert "核实任务" in auth.get("/quality").text


def test_duplicate_flag_page_and_checks_page(world, session, client, app):
    from tests.quality.test_quality_sources import _sz_entry

    register(session)
    _sz_entry(session)
    session.commit()
    resource = primary_dataset(session, client, world)
    assert service.checks.check_pending(session) == 1
    session.commit()
    sz = sign_in(browser(app), "szsj_admin")
    listing = sz.get("/quality/duplicates").text
    assert "市场主体登记" in listing
    flag_id = int(__import__("re").search(r'href="/quality/duplicates/(\d+)"', listing).group(1))
    page = sz.get(f"/quality/duplicates/{flag_id}")
    r = sz.post(f"/quality/duplicates/{flag_id}", data={"csrf_token": token_of(page.text), "answer": "legal_exception"})
    assert r.status_code == 422 and "法律依据" in r.text
    r = sz.post(
        f"/quality/duplicates/{flag_id}",
        follow_redirects=False,
        data={"csrf_token": token_of(page.text), "answer": "switch_to_sharing"},
    )
    assert r.status_code == 303
    assert "改为共享获取" in sz.get(f"/quality/duplicates/{flag_id}").text

    gat = sign_in(browser(app), "gat_staff")
    checks = gat.get(f"/quality/checks/resources/{resource.id}")
    assert checks.status_code == 200 and '<svg class="chart-trend"' in checks.text and "主键唯一" in checks.text
    r = gat.post(
        f"/quality/checks/resources/{resource.id}", data={"csrf_token": token_of(checks.text)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert gat.get(f"/quality/checks/resources/{resource.id}").text.count("<circle") == 2
    assert "低保家庭信息" in gat.get("/quality/checks/agencies/js-gat").text
    # Another agency does not see js-gat's checks.
    assert sz.get(f"/quality/checks/resources/{resource.id}").status_code == 404
    assert service.checks.check_pending(session) == 0
    assert OPERATOR.is_system
