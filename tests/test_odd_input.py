"""Odd input in paths, query strings and forms gets a 4xx answer, never a 500 (issue #8).

``str.isdigit()`` is true for "¹" and other digits ``int()`` refuses: the catalog took such a
reference for an id and crashed, and the keep-alive connection was reset after the 500. Every
reference is now read by ``core.refs`` (ASCII digits within the id range are an id, anything else is
a code). The TestClient re-raises server exceptions, so a crash fails these tests outright.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from govshare.core.errors import PROBLEM_JSON
from tests.factories import PASSWORD
from tests.live_server import serve

ODD = ["¹", "²³", "①", "٣", "１２", "1_0", "99999999999999999999", "9" * 5000]
HTML = {"accept": "text/html,application/xhtml+xml"}


def _entry(client: TestClient, world) -> int:  # type: ignore[no-untyped-def]
    r = client.post(
        "/api/v1/catalog",
        headers=world.h("gat_staff"),
        json={
            "classification": "departmental",
            "name": "机动车登记信息",
            "abstract": "机动车登记的基本信息。",
            "format": "database",
            "share_type": "unconditional",
            "provision_method": "gateway_api",
            "update_cycle": "daily",
            "data_items": [{"name": "号牌号码"}],
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.mark.parametrize("ref", ODD)
@pytest.mark.parametrize("tail", ["", "/versions", "/diff", "/versions/1"])
def test_catalog_api_reference_is_not_found(client, world, ref, tail):
    r = client.get(f"/api/v1/catalog/{ref}{tail}")
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    assert r.json()["code"] == "catalog.resource.not_found"


@pytest.mark.parametrize("ref", ODD)
def test_catalog_writes_with_an_odd_reference_are_not_found(client, world, ref):
    r = client.patch(f"/api/v1/catalog/{ref}", headers=world.h("gat_staff"), json={"abstract": "新的摘要。"})
    assert r.status_code == 404, r.text
    r = client.post(
        f"/api/v1/catalog/{ref}/withdraw", headers=world.h("province_authority"), json={"reason": "不再提供"}
    )
    assert r.status_code == 404, r.text


def test_an_id_still_finds_its_entry(client, world):
    rid = _entry(client, world)
    assert client.get(f"/api/v1/catalog/{rid}", headers=world.h("gat_staff")).json()["id"] == rid
    full_width = str(rid).translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    assert client.get(f"/api/v1/catalog/{full_width}", headers=world.h("gat_staff")).status_code == 404  # a code


@pytest.mark.parametrize("ref", ODD)
def test_catalog_page_reference_is_not_found(client, world, ref):
    r = client.get(f"/catalog/{ref}", headers=HTML)
    assert r.status_code == 404


def test_catalog_page_compare_and_demand_ignore_odd_numbers(app, client, world):
    rid = _entry(client, world)
    staff = _signed_in(app, "gat_staff")
    for frm, to in (("¹", "1"), ("1", "²"), ("99999999999999999999", "1"), ("①", "١")):
        r = staff.get(f"/catalog/{rid}", params={"from": frm, "to": to})
        assert r.status_code == 200, (frm, to)
    assert staff.get("/catalog/new", params={"demand": "¹"}).status_code == 200


@pytest.mark.parametrize("value", ["¹", "①", "٣", "99999999999999999999", "9" * 5000])
def test_catalog_form_odd_numbers_are_field_errors(app, world, value):
    staff = _signed_in(app, "gat_staff")
    page = staff.get("/catalog/new")
    form = {
        "name": "机动车登记信息",
        "classification": "departmental",
        "abstract": "机动车登记的基本信息。",
        "format": "database",
        "share_type": "unconditional",
        "provision_method": "gateway_api",
        "update_cycle": "daily",
        "security_classification": "internal",
        "update_deadline_workdays": value,
        "demand_id": value,
        "csrf_token": _token(page.text),
    }
    r = staff.post("/catalog/new", data=form, follow_redirects=False)
    assert r.status_code == 422, r.text
    assert 'id="f-update_deadline_workdays"' in r.text


@pytest.mark.parametrize("ref", ["¹", "①", "99999999999999999999"])
def test_registry_and_guide_references(client, world, ref):
    assert client.get(f"/api/v1/agencies/{ref}").status_code == 404
    r = client.post(
        "/api/v1/guide",
        headers=world.h("province_authority"),
        json={
            "name": "机动车登记查询",
            "sector": "transport",
            "agency": "js-gat",
            "description": "查询。",
            "channels": ["web"],
            "resources": [ref],
        },
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "guide.resource.not_found"


@pytest.mark.parametrize(
    ("rows", "status"), [("¹", 409), ("٣", 409), ("1_0", 409), ("-2", 409), ("9" * 30, 200), ("3", 200)]
)
def test_ckan_counts(client, world, rows, status):
    r = client.get("/api/3/action/package_search", params={"rows": rows})
    assert r.status_code == status, r.text


def test_keep_alive_connection_survives_odd_input(app, world):
    """Over a real socket: after the answer to an odd reference, the same connection serves the next
    request (after a 500, uvicorn dropped it)."""
    connects: list[str] = []

    def trace(name: str, _info: object) -> None:
        if name == "connection.connect_tcp.complete":
            connects.append(name)

    with serve(app) as base, httpx.Client(base_url=base, timeout=20) as http:
        first = http.get("/api/v1/catalog/%C2%B9", extensions={"trace": trace})
        second = http.get("/api/v1/catalog/1", extensions={"trace": trace})
    assert first.status_code == 404 and second.status_code == 404
    assert len(connects) == 1, "the second request needed a new connection"


def _token(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m
    return m.group(1)


def _signed_in(app, username: str) -> TestClient:  # type: ignore[no-untyped-def]
    c = TestClient(app, headers=HTML)
    page = c.get("/login")
    r = c.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _token(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return c


BLANK = "\u3000\u3000"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "POST",
            "/api/v1/catalog",
            {
                "classification": "departmental",
                "name": BLANK,
                "format": "database",
                "share_type": "unconditional",
                "provision_method": "gateway_api",
                "update_cycle": "daily",
            },
            "name",
        ),
        ("POST", "/api/v1/regions", {"code": "320506", "name": BLANK, "parent_code": "320500"}, "name"),
        (
            "POST",
            "/api/v1/agencies",
            {"code": "x-1", "uscc": "11320000014000343H", "name": BLANK, "region_code": "320000"},
            "name",
        ),
        ("PATCH", "/api/v1/agencies/js-gat", {"name": " \t "}, "name"),
        (
            "POST",
            "/api/v1/people",
            {
                "username": "abc",
                "display_name": BLANK,
                "password": "correct-horse-9",
                "grants": [{"role": "agency_staff", "agency_code": "js-gat"}],
            },
            "display_name",
        ),
        ("POST", "/api/v1/agencies/js-gat/clients", {"name": "\u200b"}, "name"),
        (
            "POST",
            "/api/v1/guide",
            {"name": BLANK, "sector": "transport", "agency": "js-gat", "channels": ["web"]},
            "name",
        ),
        ("POST", "/api/v1/catalog/demands", {"title": BLANK, "duty": "核验", "legal_basis": "法"}, "title"),
    ],
)
def test_blank_required_text_is_refused_everywhere(client, world, method, path, body, field):
    """Required names elsewhere were stored blank (a guide service even as an empty string)."""
    who = "gat_staff" if path.startswith("/api/v1/catalog") else "province_authority"
    r = client.request(method, path, json=body, headers=world.h(who))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM_JSON and r.json()["field"] == field


DEEP = "[" * 5000  # nested past Python's recursion limit: json.loads raises RecursionError, not ValueError


def test_ckan_deeply_nested_json_is_a_ckan_error(client, world):
    """Found probing after the fuzz: both answered 500."""
    r = client.get("/api/3/action/package_search", params={"facet.field": DEEP})
    assert r.status_code == 409 and r.json()["error"]["__type"] == "Validation Error"
    r = client.post("/api/3/action/package_search", content=DEEP, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["success"] is False


@pytest.mark.parametrize("ref", ["¹", "①", "99999999999999999999"])
def test_exchange_hosted_source_reference_is_not_found(session, world, ref):
    """The exchange domain, merged meanwhile, had the same str.isdigit() reading of a reference."""
    from govshare.core.errors import NotFound
    from govshare.exchange.query import load_source

    with pytest.raises(NotFound):
        load_source(session, ref)
