"""Agencies (Art 2, 5, 30): USCC per GB 32100, kinds, vertical systems, the responsible unit and
person, one competent authority per region."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from govshare.cli import app as cli_app
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.registry.models import Agency
from govshare.registry.rules import make_uscc
from govshare.registry.service import agencies as agencies_service

API = "/api/v1/agencies"
KNOWN_VALID_USCC = "91350100M000100Y43"


def _problem(r, status: int, code: str, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code, body
    if field is not None:
        assert body["field"] == field, body
    return body  # type: ignore[no-any-return]


def _new(code: str = "js-test", uscc: str = KNOWN_VALID_USCC, region: str = "320000", **extra: object) -> dict:
    return {"code": code, "uscc": uscc, "name": "江苏省测试厅", "region_code": region, **extra}


def _count(model_col, *where) -> int:  # type: ignore[no-untyped-def]
    with transaction() as s:
        return s.scalar(select(func.count(model_col)).where(*where)) or 0


# --- USCC (GB 32100) --------------------------------------------------------------------------------


def test_a_known_valid_uscc_is_accepted(client, world):
    r = client.post(API, headers=world.h("province_authority"), json=_new(uscc=KNOWN_VALID_USCC.lower()))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["uscc"] == KNOWN_VALID_USCC  # normalised to upper case
    assert body["level"] == "province" and body["kind"] == "agency" and body["active"] is True
    assert client.get(f"{API}/{KNOWN_VALID_USCC}").json()["code"] == "js-test"
    assert client.get(f"{API}/{body['id']}").json()["code"] == "js-test"
    with transaction() as s:
        ev = s.scalars(
            select(Event).where(Event.action == "registry.agency.created", Event.subject_id == "js-test")
        ).one()
        assert ev.agency_code == "js-test" and ev.region_code == "320000"
        assert ev.data["uscc"] == KNOWN_VALID_USCC


@pytest.mark.parametrize(
    ("uscc", "says"),
    [
        ("91350100M000100Y44", "校验码"),  # wrong check character
        ("91350100M000100Y4", "18"),  # too short
        ("91350100M000100Y433", "18"),  # too long
        ("91350100M00010OY43", "O"),  # O is not in the GB 32100 alphabet
        ("91350100M000100I43", "I"),
    ],
)
def test_an_invalid_uscc_is_422_naming_uscc(client, world, uscc, says):
    r = client.post(API, headers=world.h("province_authority"), json=_new(uscc=uscc))
    body = _problem(r, 422, "request.invalid", "uscc")
    assert says in body["detail"] and "GB 32100" in body["detail"]
    assert _count(Agency.id, Agency.code == "js-test") == 0


def test_code_and_uscc_are_unique(client, world):
    assert client.post(API, headers=world.h("province_authority"), json=_new()).status_code == 201
    _problem(
        client.post(API, headers=world.h("province_authority"), json=_new(code="js-other")),
        409,
        "registry.agency.uscc_taken",
        "uscc",
    )
    other = make_uscc("1", "1", "320000", "87654321")
    _problem(
        client.post(API, headers=world.h("province_authority"), json=_new(uscc=other)),
        409,
        "registry.agency.code_taken",
        "code",
    )


@pytest.mark.parametrize("code", ["x", "has space", "js-gat\n", "-lead", "a" * 65, "中文"])
def test_agency_code_format(client, world, code):
    _problem(
        client.post(API, headers=world.h("province_authority"), json=_new(code=code)), 422, "request.invalid", "code"
    )


def test_unknown_region_is_404(client, world):
    _problem(
        client.post(API, headers=world.h("province_authority"), json=_new(region="320900")),
        404,
        "registry.region.not_found",
        "region_code",
    )


def test_lookup_by_odd_digit_strings_is_a_404_not_a_500(client, world):
    # "²".isdigit() is true but int("²") fails.
    _problem(client.get(f"{API}/²"), 404, "registry.agency.not_found")
    _problem(client.get(f"{API}/999999"), 404, "registry.agency.not_found")


# --- Kinds (Art 2) and vertical systems (Art 5) -------------------------------------------------


@pytest.mark.parametrize("kind", ["agency", "authorised", "entrusted"])
def test_the_three_kinds_of_art_2(client, world, kind):
    r = client.post(API, headers=world.h("province_authority"), json=_new(kind=kind))
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == kind


def test_an_unknown_kind_is_422(client, world):
    _problem(
        client.post(API, headers=world.h("province_authority"), json=_new(kind="company")),
        422,
        "request.invalid",
        "kind",
    )


def test_vertical_system_is_kept_and_changes_are_recorded(client, world):
    r = client.post(
        API,
        headers=world.h("province_authority"),
        json=_new(code="sz-gaj", region="320500", vertical_system="public_security"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["vertical_system"] == "public_security" and r.json()["level"] == "city"
    r = client.patch(f"{API}/sz-gaj", headers=world.h("province_authority"), json={"vertical_system": "tax"})
    assert r.status_code == 200 and r.json()["vertical_system"] == "tax"
    with transaction() as s:
        ev = s.scalars(
            select(Event).where(Event.action == "registry.agency.updated", Event.subject_id == "sz-gaj")
        ).one()
        assert ev.data == {"changes": {"vertical_system": {"from": "public_security", "to": "tax"}}}


def test_an_update_that_changes_nothing_records_no_event(client, world):
    before = _count(Event.seq)
    r = client.patch(f"{API}/js-gat", headers=world.h("province_authority"), json={"name": "江苏省公安厅"})
    assert r.status_code == 200
    assert _count(Event.seq) == before


@pytest.mark.parametrize("field", ["name", "kind", "is_authority", "active"])
def test_null_for_a_required_field_is_422_not_500(client, world, field):
    r = client.patch(f"{API}/js-gat", headers=world.h("province_authority"), json={field: None})
    _problem(r, 422, "request.invalid", field)


# --- Art 30: responsible unit and person --------------------------------------------------------


def _missing(client) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get(API, params={"missing_responsible": "true"})
    assert r.status_code == 200
    return sorted(a["code"] for a in r.json()["items"])


def test_missing_responsible_lists_agencies_without_unit_or_person(client, world):
    assert _missing(client) == ["nj-sj", "sz-dsj"]
    everyone = client.get(API).json()
    assert everyone["total"] == 5

    h = world.h("province_authority")
    # A unit alone is not enough: Art 30 wants a unit and a person.
    assert client.patch(f"{API}/sz-dsj", headers=h, json={"responsible_unit": "数据资源处"}).status_code == 200
    assert _missing(client) == ["nj-sj", "sz-dsj"]
    assert client.patch(f"{API}/sz-dsj", headers=h, json={"responsible_person": "周敏"}).status_code == 200
    assert _missing(client) == ["nj-sj"]
    # Clearing the person (empty text) flags it again.
    assert client.patch(f"{API}/js-gat", headers=h, json={"responsible_person": ""}).status_code == 200
    assert _missing(client) == ["js-gat", "nj-sj"]
    # Within a region only.
    r = client.get(API, params={"missing_responsible": "true", "region": "320500"})
    assert [a["code"] for a in r.json()["items"]] == []


def test_cli_lists_agencies_missing_a_responsible_person(world):
    result = CliRunner().invoke(cli_app, ["agencies", "list", "--missing-responsible"])
    assert result.exit_code == 0, result.output
    assert "nj-sj" in result.output and "sz-dsj" in result.output
    assert "js-gat" not in result.output and "sz-sj" not in result.output
    assert result.output.strip().splitlines()[-1] == "2 agencies"
    everyone = CliRunner().invoke(cli_app, ["agencies", "list"])
    assert everyone.output.strip().splitlines()[-1] == "5 agencies"


def test_contact_phone_only_for_signed_in_callers(client, world):
    h = world.h("province_authority")
    assert client.patch(f"{API}/js-gat", headers=h, json={"responsible_phone": "025-12345678"}).status_code == 200
    assert client.get(f"{API}/js-gat").json()["responsible_phone"] is None
    assert client.get(f"{API}/js-gat", headers=world.h("gat_staff")).json()["responsible_phone"] == "025-12345678"


# --- Art 5: one competent authority per region --------------------------------------------------


def test_one_authority_per_region(client, world):
    h = world.h("province_authority")
    body = _problem(
        client.post(API, headers=h, json=_new(is_authority=True)),
        409,
        "registry.agency.authority_exists",
        "is_authority",
    )
    assert body["article"] == "Art 5"
    assert _count(Agency.id, Agency.code == "js-test") == 0
    # Promoting a second agency is refused the same way.
    _problem(
        client.patch(f"{API}/js-gat", headers=h, json={"is_authority": True}),
        409,
        "registry.agency.authority_exists",
        "is_authority",
    )
    # Nanjing has none yet: its first authority is accepted, a second is not.
    assert client.patch(f"{API}/nj-sj", headers=h, json={"is_authority": True}).status_code == 200
    _problem(
        client.post(API, headers=h, json=_new(region="320100", is_authority=True)),
        409,
        "registry.agency.authority_exists",
    )
    # A county has its own authority, separate from its city's.
    r = client.post(API, headers=h, json=_new(code="gs-dsj", region="320508", is_authority=True))
    assert r.status_code == 201, r.text
    # The current authority can be re-saved as such without conflicting with itself.
    assert client.patch(f"{API}/js-dsj", headers=h, json={"is_authority": True}).status_code == 200
    with transaction() as s:
        authorities = s.scalars(select(Agency.code).where(Agency.is_authority.is_(True)).order_by(Agency.code)).all()
    assert authorities == ["gs-dsj", "js-dsj", "nj-sj", "sz-dsj"]


def test_the_database_holds_one_authority_per_region_too(client, world, monkeypatch):
    """Two requests checked at the same moment both find no authority; the partial unique index
    refuses the second one's row, and the API still answers 409 with Art 5, not a 500."""
    with pytest.raises(IntegrityError), transaction() as s:  # directly, past every service check
        s.execute(update(Agency).where(Agency.code == "js-gat").values(is_authority=True))
    monkeypatch.setattr(agencies_service, "_check_single_authority", lambda *_args: None)  # as if the check raced
    h = world.h("province_authority")
    before = _count(Event.seq)
    body = _problem(
        client.post(API, headers=h, json=_new(is_authority=True)),
        409,
        "registry.agency.authority_exists",
        "is_authority",
    )
    assert body["article"] == "Art 5"
    _problem(
        client.patch(f"{API}/js-gat", headers=h, json={"is_authority": True}),
        409,
        "registry.agency.authority_exists",
        "is_authority",
    )
    assert _count(Agency.id, Agency.code == "js-test") == 0 and _count(Event.seq) == before
    # Agencies that are not authorities are not limited by it.
    assert client.post(API, headers=h, json=_new()).status_code == 201


@pytest.mark.parametrize(
    ("q", "codes"),
    [("%", set()), ("_", set()), ("js_gat", set()), ("js-gat", {"js-gat"}), ("公安", {"js-gat"}), ("\\", set())],
)
def test_search_wildcards_are_plain_characters(client, world, q, codes):
    """'%' and '_' in the search box were LIKE wildcards: '%' listed every agency."""
    r = client.get(API, params={"q": q}, headers=world.h("province_authority"))
    assert r.status_code == 200, r.text
    assert {a["code"] for a in r.json()["items"]} == codes
