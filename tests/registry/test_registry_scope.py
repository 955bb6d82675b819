"""Who may change what (Art 5, 31): authorities within their region and below it, agency admins
within their agency's profile, staff and supervisors read-only; people visible by scope."""

from __future__ import annotations

import pytest

from govshare.core.auth import OPERATOR, Grant, Principal
from govshare.core.db import transaction
from govshare.registry import service
from tests.factories import bearer

AGENCIES = "/api/v1/agencies"


def _new(code: str, region: str, uscc: str) -> dict:
    return {"code": code, "uscc": uscc, "name": "测试机关", "region_code": region}


def _denied(r, code: str = "registry.out_of_scope") -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.json()


def _usernames(r) -> set[str]:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    return {p["username"] for p in r.json()}


# --- Authorities --------------------------------------------------------------------------------


def test_suzhou_authority_cannot_touch_nanjing(client, world):
    h = world.h("suzhou_authority")
    r = client.post(AGENCIES, headers=h, json=_new("nj-x", "320100", "91350100M000100Y43"))
    _denied(r)
    assert r.json()["article"] == "Art 5"
    _denied(client.patch(f"{AGENCIES}/nj-sj", headers=h, json={"name_en": "Nanjing AMR"}))
    assert client.get(f"{AGENCIES}/nj-x").status_code == 404
    assert client.get(f"{AGENCIES}/nj-sj").json()["name_en"] is None
    # Nor provincial agencies above it.
    _denied(client.patch(f"{AGENCIES}/js-gat", headers=h, json={"name_en": "x"}))


def test_suzhou_authority_manages_suzhou_and_gusu(client, world):
    h = world.h("suzhou_authority")
    r = client.patch(f"{AGENCIES}/sz-sj", headers=h, json={"name_en": "Suzhou AMR", "responsible_person": "陈静"})
    assert r.status_code == 200, r.text
    assert r.json()["name_en"] == "Suzhou AMR"
    r = client.post(AGENCIES, headers=h, json=_new("gs-sj", "320508", "91350100M000100Y43"))
    assert r.status_code == 201, r.text
    assert r.json()["level"] == "county"
    r = client.patch(f"{AGENCIES}/gs-sj", headers=h, json={"kind": "entrusted", "active": False})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "entrusted" and r.json()["active"] is False


def test_nanjing_authority_cannot_touch_suzhou(client, world):
    _denied(client.patch(f"{AGENCIES}/sz-sj", headers=world.h("nanjing_authority"), json={"name_en": "x"}))


def test_the_provincial_authority_changes_any_agency(client, world):
    h = world.h("province_authority")
    r = client.post(AGENCIES, headers=h, json=_new("gs-x", "320508", "91350100M000100Y43"))
    assert r.status_code == 201, r.text
    for code in ("js-gat", "nj-sj", "sz-sj", "sz-dsj", "gs-x"):
        r = client.patch(f"{AGENCIES}/{code}", headers=h, json={"responsible_unit": "共享处"})
        assert r.status_code == 200, (code, r.text)
        assert r.json()["responsible_unit"] == "共享处"


def test_a_region_grant_covers_the_regions_below_it():
    """A role given for 320000 covers 320508 (two levels down); Suzhou's does not cover Nanjing."""
    province = Grant(role="authority", agency_id=None, agency_code=None, region_code="320000", region_path="320000")
    suzhou = Grant(
        role="authority", agency_id=None, agency_code=None, region_code="320500", region_path="320000/320500"
    )
    p = Principal(kind="person", id=1, name="p", grants=(province,))
    s = Principal(kind="person", id=2, name="s", grants=(suzhou,))
    assert p.covers_region("320000/320500/320508", "authority")
    assert p.covers_region("320000", "authority")
    assert not p.covers_region("320000/320500/320508", "supervisor")
    assert s.covers_region("320000/320500/320508", "authority")
    assert s.covers_region("320000/320500", "authority")
    assert not s.covers_region("320000", "authority")
    assert not s.covers_region("320000/320100", "authority")
    # Path segments, not string prefixes: 320000/3205001 is not below 320000/320500.
    assert not s.covers_region("320000/3205001", "authority")


def test_a_region_role_reaches_county_agencies_over_the_api(client, world):
    r = client.post(AGENCIES, headers=world.h("province_authority"), json=_new("gs-y", "320508", "91350100M000100Y43"))
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/people",
        headers=world.h("province_authority"),
        json={
            "username": "gs_staff",
            "display_name": "姑苏职员",
            "grants": [{"role": "agency_staff", "agency_code": "gs-y"}],
        },
    )
    assert r.status_code == 201, r.text
    # The provincial supervisor (granted for 320000) sees people of a Gusu agency.
    assert "gs_staff" in _usernames(client.get("/api/v1/people", headers=world.h("supervisor")))
    assert "gs_staff" in _usernames(client.get("/api/v1/people", headers=world.h("suzhou_authority")))
    assert "gs_staff" not in _usernames(client.get("/api/v1/people", headers=world.h("nanjing_authority")))


# --- Agency admins and staff --------------------------------------------------------------------


def test_an_agency_admin_edits_its_own_profile_only(client, world):
    h = world.h("gat_admin")
    r = client.patch(
        f"{AGENCIES}/js-gat",
        headers=h,
        json={
            "responsible_unit": "科技信息化总队",
            "responsible_person": "赵磊",
            "responsible_phone": "025-000",
            "name_en": "Jiangsu PSD",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["responsible_person"] == "赵磊"
    _denied(client.patch(f"{AGENCIES}/js-dsj", headers=h, json={"responsible_person": "赵磊"}))
    _denied(client.patch(f"{AGENCIES}/sz-sj", headers=h, json={"responsible_person": "赵磊"}))
    # Admins cannot register agencies at all.
    _denied(client.post(AGENCIES, headers=h, json=_new("js-new", "320000", "91350100M000100Y43")), "auth.role_required")


@pytest.mark.parametrize(
    ("field", "value"),
    [("is_authority", True), ("active", False), ("kind", "entrusted"), ("vertical_system", "tax")],
)
def test_an_agency_admin_cannot_change_its_legal_standing(client, world, field, value):
    """Kind (Art 2), vertical system and authority status (Art 5) and activation are the
    authority's call; an admin could otherwise make its agency the region's authority."""
    h = world.h("province_authority")
    r = client.post(
        "/api/v1/people",
        headers=h,
        json={
            "username": "njsj_admin",
            "display_name": "南京市场监管共享负责人",
            "grants": [{"role": "agency_admin", "agency_code": "nj-sj"}],
        },
    )
    assert r.status_code == 201, r.text
    with transaction() as s:
        _tok, admin_token = service.issue_token(s, "njsj_admin", by=OPERATOR)
    r = client.patch(f"{AGENCIES}/nj-sj", headers=bearer(admin_token), json={field: value})
    _denied(r, "registry.agency.authority_only_field")
    assert r.json()["field"] == field and r.json()["article"] == "Art 5"
    assert client.get(f"{AGENCIES}/nj-sj").json()[field] != value
    # The Nanjing authority may.
    r = client.patch(f"{AGENCIES}/nj-sj", headers=world.h("nanjing_authority"), json={field: value})
    assert r.status_code == 200, r.text
    assert r.json()[field] == value


def test_agency_staff_cannot_edit(client, world):
    _denied(
        client.patch(f"{AGENCIES}/js-gat", headers=world.h("gat_staff"), json={"name_en": "x"}), "auth.role_required"
    )
    _denied(
        client.post("/api/v1/agencies/js-gat/clients", headers=world.h("gat_staff"), json={"name": "x"}),
        "auth.role_required",
    )
    _denied(
        client.post(
            "/api/v1/people",
            headers=world.h("gat_staff"),
            json={"username": "x1", "display_name": "x", "grants": [{"role": "agency_staff", "agency_code": "js-gat"}]},
        ),
        "auth.role_required",
    )
    # Reading is fine.
    assert client.get(f"{AGENCIES}/js-gat", headers=world.h("gat_staff")).status_code == 200


def test_staff_see_their_own_agencys_people_only(client, world):
    assert _usernames(client.get("/api/v1/people", headers=world.h("gat_staff"))) == {"gat_staff", "gat_admin"}
    assert _usernames(client.get("/api/v1/people", headers=world.h("gat_staff"), params={"agency": "sz-sj"})) == set()
    assert _usernames(client.get("/api/v1/people", headers=world.h("szsj_admin"))) == {"szsj_admin"}
    assert _usernames(client.get("/api/v1/people", headers=world.h("suzhou_authority"))) == {"sz_auth", "szsj_admin"}
    everyone = {"prov_auth", "sz_auth", "nj_auth", "super", "gat_staff", "gat_admin", "szsj_admin", "secrecy"}
    assert _usernames(client.get("/api/v1/people", headers=world.h("province_authority"))) == everyone
    assert _usernames(client.get("/api/v1/people", headers=world.h("supervisor"))) == everyone
    assert client.get("/api/v1/people").status_code == 401


def test_agency_admins_grant_agency_roles_in_their_agency_only(client, world):
    h = world.h("gat_admin")
    r = client.post(
        "/api/v1/people",
        headers=h,
        json={
            "username": "gat_new",
            "display_name": "新职员",
            "password": "long-enough-1",
            "grants": [{"role": "agency_staff", "agency_code": "js-gat"}],
        },
    )
    assert r.status_code == 201, r.text
    _denied(
        client.post(
            "/api/v1/people",
            headers=h,
            json={
                "username": "sz_new",
                "display_name": "x",
                "grants": [{"role": "agency_staff", "agency_code": "sz-sj"}],
            },
        )
    )
    _denied(
        client.post(
            "/api/v1/people",
            headers=h,
            json={"username": "boss", "display_name": "x", "grants": [{"role": "authority", "region_code": "320000"}]},
        )
    )
    _denied(
        client.post("/api/v1/people/gat_new/grants", headers=h, json={"role": "supervisor", "region_code": "320000"})
    )
    r = client.post("/api/v1/people/gat_new/grants", headers=h, json={"role": "agency_admin", "agency_code": "js-gat"})
    assert r.status_code == 201, r.text
    assert {g["role"] for g in r.json()["grants"]} == {"agency_staff", "agency_admin"}


def test_an_authority_grants_only_within_its_region(client, world):
    h = world.h("suzhou_authority")
    _denied(
        client.post(
            "/api/v1/people",
            headers=h,
            json={"username": "x2", "display_name": "x", "grants": [{"role": "authority", "region_code": "320000"}]},
        )
    )
    _denied(
        client.post(
            "/api/v1/people",
            headers=h,
            json={"username": "x3", "display_name": "x", "grants": [{"role": "agency_staff", "agency_code": "nj-sj"}]},
        )
    )
    r = client.post(
        "/api/v1/people",
        headers=h,
        json={
            "username": "gs_sup",
            "display_name": "姑苏监督",
            "grants": [{"role": "supervisor", "region_code": "320508"}],
        },
    )
    assert r.status_code == 201, r.text


# --- Supervisors --------------------------------------------------------------------------------


def test_the_supervisor_is_read_only(client, world):
    h = world.h("supervisor")
    writes = [
        client.post(AGENCIES, headers=h, json=_new("js-new", "320000", "91350100M000100Y43")),
        client.patch(f"{AGENCIES}/js-gat", headers=h, json={"name_en": "x"}),
        client.post("/api/v1/regions", headers=h, json={"code": "320509", "name": "x", "parent_code": "320500"}),
        client.post(
            "/api/v1/people",
            headers=h,
            json={"username": "x4", "display_name": "x", "grants": [{"role": "agency_staff", "agency_code": "js-gat"}]},
        ),
        client.post(
            "/api/v1/people/gat_staff/grants", headers=h, json={"role": "agency_admin", "agency_code": "js-gat"}
        ),
        client.post("/api/v1/agencies/js-gat/clients", headers=h, json={"name": "x"}),
    ]
    for r in writes:
        _denied(r, "auth.role_required")
    assert client.get(AGENCIES, headers=h).status_code == 200
    assert client.get("/api/v1/agencies/js-gat", headers=h).json()["name_en"] is None
    assert client.get("/api/v1/me", headers=h).json()["roles"][0]["role"] == "supervisor"


def test_a_machine_client_is_not_the_person_who_shares_its_id(session, world):
    """``list_people`` shows a person their own entry; a machine client with the same numeric id is not that person."""
    from govshare.core.auth import OPERATOR
    from govshare.registry import service as registry_service

    client, key = registry_service.add_client(session, "sz-sj", "sys", by=OPERATOR)
    session.commit()
    from govshare.registry.models import Person

    namesake = session.get(Person, client.id)
    assert namesake is not None  # the world has people with low ids too
    machine = registry_service.authenticate_secret(session, key)
    seen = {p.username for p, _grants in registry_service.list_people(session, by=machine)}
    assert namesake.username not in seen
