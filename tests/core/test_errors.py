"""Errors are answers: RFC 9457 problem+json with a stable code, a bilingual title that follows
Accept-Language, the article where the law applies and the field at fault; never a 500."""

from __future__ import annotations

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from govshare.core.auth import public
from govshare.core.db import SessionDep
from govshare.core.errors import PROBLEM_JSON, InvalidInput, install_error_handlers, preferred_language
from govshare.registry import service
from govshare.registry.models import Agency


def problem(r, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["status"] == status
    assert body["type"] == f"https://govshare.local/problems/{body['code']}"
    assert body["title"]
    return body  # type: ignore[no-any-return]


SECOND_AUTHORITY = {
    "code": "js-x",
    "uscc": "91350100M000100Y43",
    "name": "第二个主管部门",
    "region_code": "320000",
    "is_authority": True,
}


def test_a_legal_refusal_carries_every_field(client, world):
    r = client.post("/api/v1/agencies", headers=world.h("province_authority"), json=SECOND_AUTHORITY)
    body = problem(r, 409)
    assert body == {
        "type": "https://govshare.local/problems/registry.agency.authority_exists",
        "title": "该地区已有信息化主管部门：江苏省大数据管理中心",
        "status": 409,
        "code": "registry.agency.authority_exists",
        "article": "Art 5",
        "field": "is_authority",
    }


def test_extension_members_never_replace_the_standard_ones():
    err = InvalidInput("x.y", "中", "en", field="name", extra={"status": "draft", "code": "other", "errors": []})
    body = err.problem()
    assert body["status"] == 422 and body["code"] == "x.y" and body["field"] == "name" and body["errors"] == []


def test_detail_explains_the_occurrence(client, world):
    body = problem(client.post("/api/v1/agencies", headers=world.h("supervisor"), json=SECOND_AUTHORITY), 403)
    assert body["code"] == "auth.role_required"
    assert "authority" in body["detail"]


@pytest.mark.parametrize(
    ("accept_language", "title"),
    [
        (None, "该地区已有信息化主管部门：江苏省大数据管理中心"),
        ("zh-CN,zh;q=0.9", "该地区已有信息化主管部门：江苏省大数据管理中心"),
        ("en", "This region already has a competent authority: js-dsj"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "This region already has a competent authority: js-dsj"),
        ("zh-CN;q=0.9,en;q=0.5", "该地区已有信息化主管部门：江苏省大数据管理中心"),
        ("fr-FR", "该地区已有信息化主管部门：江苏省大数据管理中心"),
    ],
)
def test_title_follows_accept_language(client, world, accept_language, title):
    headers = dict(world.h("province_authority"))
    if accept_language is not None:
        headers["Accept-Language"] = accept_language
    body = problem(client.post("/api/v1/agencies", headers=headers, json=SECOND_AUTHORITY), 409)
    assert body["title"] == title
    assert body["code"] == "registry.agency.authority_exists"  # the code never changes with language


def test_preferred_language():
    assert preferred_language(None) == "zh"
    assert preferred_language("") == "zh"
    assert preferred_language("en") == "en"
    assert preferred_language("EN-gb") == "en"
    assert preferred_language("zh-Hans,en;q=0.1") == "zh"
    assert preferred_language("en;q=0.2,zh;q=0.8") == "zh"
    assert preferred_language("en;q=0.8,zh;q=0.2") == "en"
    assert preferred_language("en;q=bogus,zh;q=0.1") == "zh"
    assert preferred_language("de,fr") == "zh"


def test_validation_errors_name_the_field_with_a_stable_title(client, world):
    h = world.h("province_authority")
    a = problem(
        client.post("/api/v1/agencies", headers=h, json={**SECOND_AUTHORITY, "uscc": "91350100M000100Y44"}), 422
    )
    b = problem(
        client.post("/api/v1/regions", headers=h, json={"code": "12", "name": "x", "parent_code": "320000"}), 422
    )
    # RFC 9457: the title names the problem type; the occurrence goes in detail.
    assert a["title"] == b["title"] == "输入有误"
    assert a["code"] == b["code"] == "request.invalid"
    assert a["field"] == "uscc" and "uscc" in a["detail"] and "校验码" in a["detail"]
    assert b["field"] == "code" and "code" in b["detail"]
    assert a["errors"][0]["field"] == "uscc"
    en = problem(
        client.post(
            "/api/v1/regions",
            headers={**h, "Accept-Language": "en"},
            json={"code": "12", "name": "x", "parent_code": "320000"},
        ),
        422,
    )
    assert en["title"] == "Invalid input"


def test_missing_fields_are_all_listed(client, world):
    body = problem(client.post("/api/v1/agencies", headers=world.h("province_authority"), json={}), 422)
    assert {e["field"] for e in body["errors"]} == {"code", "uscc", "name", "region_code"}
    assert body["field"] in {"code", "uscc", "name", "region_code"}


@pytest.mark.parametrize("raw", [b'{"code": "js-x", ', b"not json", b'{"code": "js-x",}', b"\xff\xfe"])
def test_malformed_json_is_422_not_500(client, world, raw):
    r = client.post(
        "/api/v1/agencies", headers={**world.h("province_authority"), "Content-Type": "application/json"}, content=raw
    )
    body = problem(r, 422)
    assert body["code"] == "request.invalid"
    assert body["field"] == "body"


def test_wrong_json_shape_is_422(client, world):
    r = client.post("/api/v1/agencies", headers=world.h("province_authority"), json=["a", "list"])
    assert problem(r, 422)["code"] == "request.invalid"


def test_unknown_path_is_404_problem(client):
    body = problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["code"] == "http.404" and body["title"] == "未找到"
    body = problem(client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"}), 404)
    assert body["title"] == "Not found"


def test_wrong_method_is_405_problem(client):
    r = client.delete("/api/v1/agencies")
    body = problem(r, 405)
    assert body["code"] == "http.405"
    assert "GET" in r.headers["allow"]


def test_text_with_nul_is_422_on_every_backend(client, world):
    """PostgreSQL cannot store U+0000 (its driver raises) and SQLite would: both now refuse."""
    h = world.h("province_authority")
    for r in (
        client.get("/api/v1/agencies/js%00gat"),
        client.get("/api/v1/agencies", params={"q": "a\x00b"}),
        client.patch("/api/v1/agencies/js-gat", headers=h, json={"name_en": "a\x00b"}),
        client.post(
            "/api/v1/people",
            headers=h,
            json={
                "username": "nul",
                "display_name": "a\x00",
                "grants": [{"role": "authority", "region_code": "320000"}],
            },
        ),
    ):
        assert problem(r, 422)["code"] == "request.nul_character"
    assert client.get("/api/v1/agencies/js-gat").json()["name_en"] is None
    assert client.get("/api/v1/people", headers=h).status_code == 200


def test_numbers_beyond_64_bits_are_422_or_bounded(client, world):
    h = world.h("province_authority")
    assert problem(client.post(f"/api/v1/clients/{2**63}/revoke", headers=h), 422)["field"] == "client_id"
    assert problem(client.get("/api/v1/agencies", params={"offset": 2**63}), 422)["field"] == "offset"


def test_an_unexpected_error_is_a_500_problem_that_reveals_nothing():
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom", dependencies=[Depends(public)])
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom", headers={"Accept-Language": "en"})
    body = problem(r, 500)
    assert body == {
        "type": "https://govshare.local/problems/server.error",
        "title": "Internal server error",
        "status": 500,
        "code": "server.error",
    }
    assert "hunter2" not in r.text


def test_the_database_refuses_what_no_backend_can_store(session):
    """The guard sits under every service, so the CLI and other domains get the same answer."""
    with pytest.raises(InvalidInput) as err:
        service.get_agency(session, 2**63)
    assert err.value.code == "request.number_out_of_range" and err.value.status == 422
    session.rollback()
    with pytest.raises(InvalidInput) as err:
        service.get_agency(session, "js\x00gat")
    assert err.value.code == "request.nul_character"
    session.rollback()
    # The limit itself passes the guard (PostgreSQL may still refuse it for a 32-bit column:
    # the API answers that with a 422 too, below).
    with pytest.raises(Exception) as err:
        service.get_agency(session, 2**63 - 1)
    assert getattr(err.value, "code", None) == "registry.agency.not_found" or type(err.value).__name__ == "DataError"


def test_a_value_the_database_refuses_is_422(world):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/agency-by-id/{agency_id}", dependencies=[Depends(public)])
    def by_id(agency_id: int, session: SessionDep) -> dict:
        return {"found": session.get(Agency, agency_id) is not None}

    with TestClient(app) as c:
        assert c.get("/agency-by-id/1").json() == {"found": True}
        r = c.get(f"/agency-by-id/{2**40}")  # beyond the 32-bit id column
    if r.status_code == 200:  # SQLite integers are 64-bit
        assert r.json() == {"found": False}
    else:  # PostgreSQL: "integer out of range"
        assert problem(r, 422)["code"] == "request.value_out_of_range"
