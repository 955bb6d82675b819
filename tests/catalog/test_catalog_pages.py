"""Catalog pages: a provider drafts and submits, the authority publishes from its review queue, the
public finds the entry; revisions, refusals with their article, and the upload page."""

from __future__ import annotations

import io
import re

import openpyxl
from fastapi.testclient import TestClient

from tests.catalog.catalog_helpers import API, entry, publish
from tests.factories import PASSWORD

HTML = {"accept": "text/html,application/xhtml+xml"}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(html: str) -> str:
    m = _TOKEN.search(html)
    assert m, "page has no CSRF field"
    return m.group(1)


def _browser(app, username: str | None = None) -> TestClient:
    c = TestClient(app, headers=HTML)
    if username:
        page = c.get("/login")
        r = c.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": _token(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    return c


FORM = {
    "name": "户籍人口信息",
    "classification": "basic",
    "category": "population",
    "abstract": "全省户籍人口的基本登记信息。",
    "format": "database",
    "share_type": "conditional",
    "share_conditions": "按需调用，签订保密协议",
    "provision_method": "gateway_api",
    "update_cycle": "daily",
    "update_deadline_workdays": "10",
    "security_classification": "restricted",
    "contains_personal_info": "on",
    "open_to_public": "on",
    "sectors": ["public_safety", "civil_affairs"],
    "data_items": "公民身份号码|字符型|18 位|个人\n姓名|字符型||个人\n户籍地址",
}


def test_draft_submit_publish_and_find(app, world):
    staff = _browser(app, "gat_staff")
    page = staff.get("/catalog/new")
    assert page.status_code == 200
    assert 'charset="utf-8"' in page.text.lower() or "charset=utf-8" in page.text.lower()
    r = staff.post("/catalog/new", data={**FORM, "csrf_token": _token(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"].split("?")[0]
    page = staff.get(url)
    assert "户籍人口信息" in page.text and "草稿" in page.text
    assert "公民身份号码" in page.text
    r = staff.post(f"{url}/submit", data={"csrf_token": _token(page.text)}, follow_redirects=False)
    assert r.status_code == 303

    authority = _browser(app, "prov_auth")
    queue = authority.get("/catalog/review")
    assert queue.status_code == 200 and "户籍人口信息" in queue.text
    page = authority.get(url)
    r = authority.post(f"{url}/publish", data={"csrf_token": _token(page.text)}, follow_redirects=False)
    assert r.status_code == 303

    public = _browser(app)
    listing = public.get("/catalog", params={"q": "人口"})
    assert listing.status_code == 200
    assert "户籍人口信息" in listing.text
    assert "101-000001" in listing.text
    assert '<span>人口</span> <span class="count">1</span>' in listing.text  # category facet with its count
    detail = public.get("/catalog/101-000001")
    assert detail.status_code == 200 and "按需调用，签订保密协议" in detail.text
    assert public.get("/catalog/101-000001", params={"lang": "en"}).status_code == 200


def test_form_shows_the_rule_and_article(app, world):
    staff = _browser(app, "gat_staff")
    page = staff.get("/catalog/new")
    body = {**FORM, "share_type": "not_shared", "share_conditions": "", "csrf_token": _token(page.text)}
    r = staff.post("/catalog/new", data=body)
    assert r.status_code == 422
    assert "《办法》第七条(1)" in r.text or "第七条" in r.text  # Art 7(1): basic data must be shared
    assert 'id="f-legal_basis-error"' in r.text
    # The typed values stay in the form.
    assert 'value="户籍人口信息"' in r.text
    bad_items = {**FORM, "data_items": "姓名|没有这种类型", "csrf_token": _token(page.text)}
    r = staff.post("/catalog/new", data=bad_items)
    assert r.status_code == 422 and 'id="f-data_items-error"' in r.text


def test_revision_from_the_page_waits_for_the_authority(app, client, world):
    pub = publish(client, world, entry())
    staff = _browser(app, "gat_staff")
    page = staff.get(f"/catalog/{pub['id']}/edit")
    assert page.status_code == 200 and "人口基础信息" in page.text
    form = {**FORM, "name": "人口基础信息", "abstract": "修订后的摘要", "note": "补充", "csrf_token": _token(page.text)}
    r = staff.post(f"/catalog/{pub['id']}/edit", data=form, follow_redirects=False)
    assert r.status_code == 303 and "done=reported" in r.headers["location"]
    assert client.get(f"{API}/{pub['id']}").json()["abstract"] == pub["abstract"]
    authority = _browser(app, "prov_auth")
    page = authority.get(f"/catalog/{pub['id']}")
    assert "待审核的修订" in page.text and "修订后的摘要" in page.text
    r = authority.post(
        f"/catalog/{pub['id']}/revision/approve", data={"csrf_token": _token(page.text)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert client.get(f"{API}/{pub['id']}").json()["abstract"] == "修订后的摘要"


def test_pages_check_roles_and_csrf(app, world):
    public = _browser(app)
    r = public.get("/catalog/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    staff = _browser(app, "gat_staff")
    assert staff.get("/catalog/review").status_code == 403
    r = staff.post("/catalog/new", data={**FORM, "csrf_token": "forged"})
    assert r.status_code == 403


def _xlsx(rows):
    wb = openpyxl.Workbook()
    wb.active.append(["资源名称", "资源分类", "数据格式", "共享类型", "提供方式", "更新周期", "法律依据"])
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_upload_page(app, client, world):
    staff = _browser(app, "gat_staff")
    page = staff.get("/catalog/import")
    assert page.status_code == 200
    bad = _xlsx(
        [
            ["公共图书馆名录", "部门", "电子表格", "无条件共享", "平台托管数据集", "每年", ""],
            ["案件信息", "部门", "数据库", "不予共享", "平台外共享", "实时", ""],
        ]
    )
    r = staff.post(
        "/catalog/import",
        data={"csrf_token": _token(page.text)},
        files={"file": ("目录.xlsx", bad, "application/octet-stream")},
    )
    assert r.status_code == 422
    assert "未导入任何条目" in r.text and "法律依据" in r.text and "第十三条" in r.text
    assert client.get(API, params={"mine": True}, headers=world.h("gat_staff")).json()["total"] == 0
    r = staff.post(
        "/catalog/import",
        data={"csrf_token": _token(page.text), "valid_only": "on"},
        files={"file": ("目录.xlsx", bad, "application/octet-stream")},
    )
    assert r.status_code == 200 and "已导入 1 条" in r.text
    mine = client.get(API, params={"mine": True}, headers=world.h("gat_staff")).json()
    assert [i["name"] for i in mine["items"]] == ["公共图书馆名录"]


def test_upload_page_names_a_too_long_cell(app, client, world):
    staff = _browser(app, "gat_staff")
    page = staff.get("/catalog/import")
    body = (
        "资源名称,资源分类,数据格式,共享类型,提供方式,更新周期,资源摘要\n"
        f'档案目录,部门,电子表格,无条件共享,平台托管数据集,每年,"{"摘" * 140_000}"\n'
    ).encode()
    r = staff.post(
        "/catalog/import", data={"csrf_token": _token(page.text)}, files={"file": ("目录.csv", body, "text/csv")}
    )
    assert r.status_code == 422
    assert "未导入任何条目" in r.text and "资源摘要过长" in r.text and "140000" in r.text
