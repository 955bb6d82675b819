"""A name of only blank characters is refused, naming the field, on create, update, import and the
page form (issue #8: POST answered 500 with a NOT NULL failure, and a data item named with spaces
was stored with an empty name)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govshare.catalog import importer
from govshare.catalog.models import CatalogDataItem, CatalogResource
from govshare.core.auth import OPERATOR
from tests.catalog.catalog_helpers import API, create, entry
from tests.factories import PASSWORD

BLANKS = ["  ", "   ", "\u3000\u3000", "\t\t", " \n ", "\u200b\u200b", "\ufeff \u3000"]


def _count(session) -> int:  # type: ignore[no-untyped-def]
    n = session.scalar(select(func.count()).select_from(CatalogResource))
    session.rollback()
    return int(n or 0)


def _refused(r, field: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["field"] == field, body
    assert field in body["detail"]


@pytest.mark.parametrize("blank", BLANKS)
def test_create_refuses_a_blank_name(client, world, session, blank):
    _refused(client.post(API, json=entry(name=blank), headers=world.h("gat_staff")), "name")
    assert _count(session) == 0


@pytest.mark.parametrize("blank", BLANKS)
def test_create_refuses_a_blank_data_item_name(client, world, session, blank):
    items = [{"name": "姓名", "is_personal": True}, {"name": blank}]
    _refused(client.post(API, json=entry(data_items=items), headers=world.h("gat_staff")), "data_items.1.name")
    assert _count(session) == 0
    assert session.scalar(select(func.count()).select_from(CatalogDataItem)) == 0


@pytest.mark.parametrize("blank", BLANKS)
def test_update_refuses_blank_names_too(client, world, blank):
    made = create(client, world.h("gat_staff"), entry())
    _refused(client.patch(f"{API}/{made['id']}", json={"name": blank}, headers=world.h("gat_staff")), "name")
    _refused(
        client.patch(f"{API}/{made['id']}", json={"data_items": [{"name": blank}]}, headers=world.h("gat_staff")),
        "data_items.0.name",
    )
    assert client.get(f"{API}/{made['id']}", headers=world.h("gat_staff")).json()["name"] == made["name"]


def test_names_are_stored_stripped(client, world):
    made = create(
        client,
        world.h("gat_staff"),
        entry(name="\u3000户籍人口 ", data_items=[{"name": " 姓名\t"}], contains_personal_info=False),
    )
    assert made["name"] == "户籍人口" and made["data_items"][0]["name"] == "姓名"


def test_import_names_the_row_and_column(world, session):
    body = (
        "资源名称,资源分类,数据格式,共享类型,提供方式,更新周期,信息项\n"
        "\u200b\u200b,部门,电子表格,无条件共享,平台托管数据集,每年,名称\n"
        "图书馆名录,部门,电子表格,无条件共享,平台托管数据集,每年,名称；\u3000|字符型\n"
        "\u3000\u3000,部门,电子表格,无条件共享,平台托管数据集,每年,名称\n"
    ).encode()
    report = importer.import_table(session, importer.read_table(body, "blank.csv"), agency="js-gat", by=OPERATOR)
    assert not report.stored
    assert [(e.row, e.column) for e in report.errors] == [(2, "资源名称"), (3, "信息项"), (4, "资源名称")]
    session.rollback()


def _signed_in(app) -> TestClient:  # type: ignore[no-untyped-def]
    c = TestClient(app, headers={"accept": "text/html"})
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert (
        c.post(
            "/login", data={"username": "gat_staff", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    return c


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "\u200b\u200b\u200b"), ("name", "\u3000\u3000"), ("data_items", "姓名|字符型\n\u3000|字符型")],
)
def test_page_form_shows_the_error_at_the_field(app, world, session, field, value):
    staff = _signed_in(app)
    page = staff.get("/catalog/new")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {
        "name": "图书馆名录",
        "classification": "departmental",
        "abstract": "图书馆。",
        "format": "database",
        "share_type": "unconditional",
        "provision_method": "gateway_api",
        "update_cycle": "daily",
        "update_deadline_workdays": "20",
        "security_classification": "internal",
        "data_items": "名称",
        field: value,
        "csrf_token": token,
    }
    r = staff.post("/catalog/new", data=form, follow_redirects=False)
    assert r.status_code == 422, r.text
    assert f'id="f-{field}-error"' in r.text
    assert _count(session) == 0
