"""Exchange pages for providers and authorities (Art 14(3), 15): attach and change a proxied
interface, attach a hosted dataset and upload versions (a bad file listed by row and column, nothing
stored), file off-platform sharing and report its statistics, the authority's lists. Each form:
success, and a bad input shown as a message on the form (never a 500)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from govshare.core import clock
from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.exchange import service
from govshare.exchange.models import ExchangeDatasetVersion, ExchangeFiling, ExchangeFilingReport, ExchangeInterface
from govshare.exchange.schemas import FilingCreate
from tests.exchange.exchange_helpers import csv_bytes, publish_entry, residents, stored_files
from tests.portal.portal_helpers import browser, sign_in, token_of

ITEMS = [
    {"name": "统一社会信用代码", "field_code": "uscc", "data_type": "string"},
    {"name": "企业名称", "field_code": "name", "data_type": "string"},
]


def _count(model) -> int:  # type: ignore[no-untyped-def]
    with transaction() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _events(action: str) -> int:
    with transaction() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.action == action)) or 0


def test_attach_and_change_a_proxied_interface(world, session, app):
    resource = publish_entry(
        session,
        name="企业登记接口",
        provision_method="gateway_api",
        security_classification="public",
        share_type="unconditional",
        contains_personal_info=False,
        data_items=ITEMS,
    )
    session.commit()
    page_url = f"/exchange/resources/{resource.code}"
    staff = sign_in(browser(app), "gat_staff")
    form = staff.get(page_url)
    assert form.status_code == 200 and "接入代理接口" in form.text
    token = token_of(form.text)
    # A URL with a key in its query: refused next to the field, nothing attached.
    r = staff.post(
        f"{page_url}/interface",
        data={"csrf_token": token, "base_url": "https://node.example.gov.cn/api?key=1", "timeout_ms": "3000"},
    )
    assert r.status_code == 422 and 'id="f-base_url-error"' in r.text and "查询参数" in r.text
    r = staff.post(f"{page_url}/interface", data={"csrf_token": token, "base_url": "", "timeout_ms": "soon"})
    assert r.status_code == 422 and 'id="f-base_url-error"' in r.text and 'id="f-timeout_ms-error"' in r.text
    assert _count(ExchangeInterface) == 0
    r = staff.post(
        f"{page_url}/interface",
        data={"csrf_token": token, "base_url": "https://node.example.gov.cn/api", "timeout_ms": "3000"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    shown = staff.get(r.headers["location"]).text
    assert "接口已接入" in shown and "https://node.example.gov.cn/api" in shown and "修改代理接口" in shown
    # Change: a broken OpenAPI description is refused as a whole (the timeout stays as it was).
    r = staff.post(
        f"{page_url}/interface",
        data={
            "csrf_token": token,
            "base_url": "https://node.example.gov.cn/api",
            "timeout_ms": "5000",
            "secrecy_network": "on",
            "openapi": "{not an openapi document",
        },
    )
    assert r.status_code == 422 and 'id="f-openapi-error"' in r.text
    with transaction() as s:
        i = s.scalars(select(ExchangeInterface)).one()
        assert (i.timeout_ms, i.secrecy_network, i.openapi_document) == (3000, False, None)
    doc = '{"openapi": "3.0.3", "info": {"title": "企业登记查询", "version": "1.0"}, "paths": {}}'
    r = staff.post(
        f"{page_url}/interface",
        data={
            "csrf_token": token,
            "base_url": "https://node.example.gov.cn/api",
            "timeout_ms": "5000",
            "secrecy_network": "on",
            "openapi": doc,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    with transaction() as s:
        i = s.scalars(select(ExchangeInterface)).one()
        assert (i.timeout_ms, i.secrecy_network, i.openapi_title) == (5000, True, "企业登记查询")
    assert _events("exchange.interface.attached") == 1 and _events("exchange.interface.updated") == 1
    # Another agency's staff sees no form to change it (and may not post one).
    other = sign_in(browser(app), "szsj_admin")
    assert other.get(page_url).status_code == 404
    assert (
        other.post(f"{page_url}/interface", data={"csrf_token": token_of(other.get("/console").text)}).status_code
        == 403
    )


def test_attach_a_hosted_dataset_and_upload_versions(world, session, app, client):
    resource = publish_entry(session)
    session.commit()
    page_url = f"/exchange/resources/{resource.code}"
    staff = sign_in(browser(app), "gat_staff")
    token = token_of(staff.get(page_url).text)
    # An item the entry does not have: named on the form, nothing attached.
    r = staff.post(f"{page_url}/interface", data={"csrf_token": token, "key_items": "身份证"})
    assert r.status_code == 422 and 'id="f-key_items-error"' in r.text and _count(ExchangeInterface) == 0
    r = staff.post(
        f"{page_url}/interface",
        data={"csrf_token": token, "required_items": "姓名", "key_items": "公民身份号码"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = staff.get(page_url).text
    assert "上传新版本" in page and "尚未上传数据" in page

    # A bad check character in row 3's identity number: the rows and columns listed, nothing stored.
    rows = residents()
    rows[2] = {
        **rows[2],
        "公民身份号码": rows[2]["公民身份号码"][:17] + ("0" if rows[2]["公民身份号码"][17] != "0" else "1"),
    }
    files_before = stored_files()
    r = staff.post(f"{page_url}/versions", data={"csrf_token": token}, files={"file": ("bad.csv", csv_bytes(rows))})
    assert r.status_code == 422, r.text
    assert "数据文件校验未通过" in r.text and "第 4 行「公民身份号码」" in r.text and "校验码错误" in r.text
    assert '<tr><th scope="row">第 4 行</th><td data-label="列">公民身份号码</td>' in r.text
    assert "row 4" not in r.text  # the page's language only
    assert _count(ExchangeDatasetVersion) == 0 and stored_files() == files_before
    # No file chosen; a change time that is no time.
    r = staff.post(f"{page_url}/versions", data={"csrf_token": token, "changed_at": "yesterday"})
    assert r.status_code == 422 and 'id="f-file-error"' in r.text and 'id="f-changed_at-error"' in r.text
    # A good file.
    r = staff.post(
        f"{page_url}/versions",
        data={"csrf_token": token, "changed_at": "2026-11-01 09:00", "note": "十一月数据"},
        files={"file": ("good.csv", csv_bytes(residents()))},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = staff.get(r.headers["location"]).text
    assert "新版本已接收" in page and "good.csv" in page and "十一月数据" in page and "当前" in page
    with transaction() as s:
        v = s.scalars(select(ExchangeDatasetVersion)).one()
        assert v.row_count == len(residents()) and v.changed_at.astimezone(clock.LEGAL_TZ).hour == 9
    # The authority reads the versions but gets no upload form; an upload from it is refused.
    auth = sign_in(browser(app), "prov_auth")
    page = auth.get(page_url).text
    assert "good.csv" in page and "上传新版本" not in page
    r = auth.post(
        f"{page_url}/versions",
        data={"csrf_token": token_of(page)},
        files={"file": ("good.csv", csv_bytes(residents()))},
    )
    assert r.status_code == 403 and _count(ExchangeDatasetVersion) == 1
    listing = staff.get("/exchange/resources").text
    assert resource.name in listing and "第 1 版" in listing


def test_file_and_report_off_platform_sharing(world, session, app):
    sz = sign_in(browser(app), "szsj_admin")
    console = sz.get("/console").text
    assert 'href="/exchange/filings"' in console and 'href="/exchange/subjects"' not in console
    form = sz.get("/exchange/filings/new")
    assert form.status_code == 200 and "新增平台外交换备案" in form.text
    token = token_of(form.text)
    base = {"csrf_token": token, "direction": "provide", "channel": "专线", "reason": "涉密数据须经专网传输"}
    # Neither a catalog entry nor a name: refused naming the field, with the article.
    r = sz.post("/exchange/filings/new", data={**base, "counterpart_name": "苏州市公安局"})
    assert r.status_code == 422 and 'id="f-resource-error"' in r.text
    r = sz.post("/exchange/filings/new", data={**base, "resource_text": "企业年报", "counterpart": "sz-sj"})
    assert r.status_code == 422 and 'id="f-counterpart-error"' in r.text and "不能是本机关" in r.text
    r = sz.post("/exchange/filings/new", data={**base, "reason": "", "resource_text": "企业年报"})
    assert r.status_code == 422 and 'id="f-reason-error"' in r.text
    assert _count(ExchangeFiling) == 0
    r = sz.post(
        "/exchange/filings/new",
        data={**base, "resource_text": "企业年报", "counterpart_name": "苏州市公安局"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = sz.get(r.headers["location"]).text
    assert "已备案" in page and "企业年报" in page and "报送统计" in page

    # A filing from three months ago owes reports; the authority sees it overdue.
    back = dt.datetime.combine(clock.today() - dt.timedelta(days=100), dt.time(10), clock.LEGAL_TZ)
    with clock.frozen(back), transaction() as s:
        old = service.file_filing(
            s,
            FilingCreate(
                agency="sz-sj",
                resource_text="企业年报（旧）",
                counterpart_name="苏州市税务局",
                direction="provide",
                reason="对方系统尚未接入平台",
                channel="光盘",
            ),
            by=OPERATOR,
        )
        old_id = old.id
    auth = sign_in(browser(app), "sz_auth")
    assert 'href="/exchange/subjects"' in auth.get("/console").text
    listing = auth.get("/exchange/filings").text
    assert "企业年报（旧）" in listing and "逾期" in listing and "新增备案" not in listing
    overdue = auth.get("/exchange/filings/overdue")
    assert overdue.status_code == 200 and "企业年报（旧）" in overdue.text and "苏州市市场监督管理局" in overdue.text
    assert "企业年报（旧）" not in sign_in(browser(app), "nj_auth").get("/exchange/filings/overdue").text

    # The report: a period that has not ended is refused on the form; the owed one is accepted.
    page = sz.get(f"/exchange/filings/{old_id}").text
    owed_start = page.split('id="f-period_start"')[1].split('value="')[1].split('"')[0]
    future = clock.today().replace(day=1).isoformat()
    report = {"csrf_token": token, "calls": "120", "records": "3400", "purpose": "企业年报核查"}
    r = sz.post(f"/exchange/filings/{old_id}/reports", data={**report, "period_start": future})
    assert r.status_code == 422 and 'id="f-period_start-error"' in r.text, r.text
    r = sz.post(f"/exchange/filings/{old_id}/reports", data={**report, "period_start": owed_start, "calls": "many"})
    assert r.status_code == 422 and 'id="f-calls-error"' in r.text
    assert _count(ExchangeFilingReport) == 0
    r = sz.post(
        f"/exchange/filings/{old_id}/reports", data={**report, "period_start": owed_start}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    page = sz.get(r.headers["location"]).text
    assert "统计已报送" in page and "企业年报核查" in page and "3400" in page
    assert _count(ExchangeFilingReport) == 1
    # The authority reads it but has no report form.
    assert "报送统计" not in auth.get(f"/exchange/filings/{old_id}").text.split("</h2>", 1)[1].split("统计报告")[-1]
    assert auth.get("/exchange/filings/new").status_code == 403
    assert auth.get("/exchange/filings/99999").status_code == 404


def test_detach_an_interface_from_its_page(world, session, app):
    resource = publish_entry(
        session,
        name="企业登记接口",
        provision_method="gateway_api",
        security_classification="public",
        share_type="unconditional",
        contains_personal_info=False,
        data_items=ITEMS,
    )
    session.commit()
    page_url = f"/exchange/resources/{resource.code}"
    staff = sign_in(browser(app), "gat_staff")
    token = token_of(staff.get(page_url).text)
    r = staff.post(
        f"{page_url}/interface",
        data={"csrf_token": token, "base_url": "https://node.example.gov.cn/api", "timeout_ms": "3000"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert "停用接口" in staff.get(page_url).text

    def detached() -> bool:
        with transaction() as s:
            return s.scalars(select(ExchangeInterface)).one().detached_at is not None

    # A supervisor reads the page without the form and may not post it; nor may another agency.
    sup = sign_in(browser(app), "super")
    page = sup.get(page_url).text
    assert "https://node.example.gov.cn/api" in page and "停用接口" not in page
    assert (
        sup.post(f"{page_url}/interface/detach", data={"csrf_token": token_of(page), "confirm": "on"}).status_code
        == 403
    )
    other = sign_in(browser(app), "szsj_admin")
    r = other.post(
        f"{page_url}/interface/detach", data={"csrf_token": token_of(other.get("/console").text), "confirm": "on"}
    )
    assert r.status_code == 403 and not detached()
    # Without a CSRF token, or without the confirmation ticked: nothing detached.
    assert staff.post(f"{page_url}/interface/detach", data={"confirm": "on"}).status_code == 403
    r = staff.post(f"{page_url}/interface/detach", data={"csrf_token": token})
    assert r.status_code == 422 and 'id="f-confirm-error"' in r.text and "请勾选确认" in r.text
    assert not detached() and _events("exchange.interface.detached") == 0
    r = staff.post(f"{page_url}/interface/detach", data={"csrf_token": token, "confirm": "on"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{page_url}?saved=detached", r.text
    page = staff.get(r.headers["location"]).text
    assert "接口已停用" in page and "已停用" in page and "接入代理接口" in page and 'id="detach-form"' not in page
    assert detached() and _events("exchange.interface.detached") == 1
    # The same form again (a stale page): the service's refusal on the form, not a 500.
    r = staff.post(f"{page_url}/interface/detach", data={"csrf_token": token, "confirm": "on"})
    assert r.status_code == 422 and "该目录条目没有接入接口" in r.text and 'id="form-errors"' in r.text
    assert _events("exchange.interface.detached") == 1
    # The authority of the region may detach too (after attaching again).
    staff.post(
        f"{page_url}/interface",
        data={"csrf_token": token, "base_url": "https://node.example.gov.cn/api", "timeout_ms": "3000"},
    )
    auth = sign_in(browser(app), "prov_auth")
    page = auth.get(page_url).text
    r = auth.post(
        f"{page_url}/interface/detach", data={"csrf_token": token_of(page), "confirm": "on"}, follow_redirects=False
    )
    assert r.status_code == 303 and detached() and _events("exchange.interface.detached") == 2


def test_end_an_off_platform_filing_from_its_page(world, session, app):
    with transaction() as s:
        filing = service.file_filing(
            s,
            FilingCreate(
                agency="sz-sj",
                resource_text="企业年报",
                counterpart_name="苏州市税务局",
                direction="provide",
                reason="对方系统尚未接入平台",
                channel="光盘",
            ),
            by=OPERATOR,
        )
        fid = filing.id
    page_url = f"/exchange/filings/{fid}"

    def state() -> tuple[str, str | None]:
        with transaction() as s:
            f = s.get(ExchangeFiling, fid)
            return f.state, f.end_reason

    sz = sign_in(browser(app), "szsj_admin")
    page = sz.get(page_url).text
    assert f'action="/exchange/filings/{fid}/end"' in page
    token = token_of(page)
    # The authority reads the filing but may not end it; nor may an agency that does not hold it.
    auth = sign_in(browser(app), "sz_auth")
    page = auth.get(page_url).text
    assert "企业年报" in page and "/end" not in page
    assert (
        auth.post(f"{page_url}/end", data={"csrf_token": token_of(page), "reason": "对方已接入平台"}).status_code == 403
    )
    gat = sign_in(browser(app), "gat_staff")
    assert (
        gat.post(
            f"{page_url}/end", data={"csrf_token": token_of(gat.get("/console").text), "reason": "已接入"}
        ).status_code
        == 404
    )
    # No reason, a blank one, one too long: refused next to the field, naming it and the article.
    for reason in ("", "   ", "长" * 2001):
        r = sz.post(f"{page_url}/end", data={"csrf_token": token, "reason": reason})
        assert r.status_code == 422 and 'id="f-reason-error"' in r.text, reason
        error = r.text.split('id="f-reason-error">')[1].split("</p>")[0]
        assert "终止原因" in error and "第十四条" in error, error
    assert state() == ("active", None) and _events("exchange.filing.ended") == 0
    r = sz.post(
        f"{page_url}/end", data={"csrf_token": token, "reason": " 对方系统已接入省平台 "}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"{page_url}?saved=ended", r.text
    page = sz.get(r.headers["location"]).text
    assert "备案已终止" in page and "已终止" in page and "对方系统已接入省平台" in page and "/end" not in page
    assert state() == ("ended", "对方系统已接入省平台") and _events("exchange.filing.ended") == 1
    # Ending it again (a stale page): the service's refusal on the form.
    r = sz.post(f"{page_url}/end", data={"csrf_token": token, "reason": "再次终止"})
    assert r.status_code == 422 and "该备案已终止" in r.text and _events("exchange.filing.ended") == 1
    # English.
    assert "Reason for ending" in sz.get(f"{page_url}?lang=en").text
