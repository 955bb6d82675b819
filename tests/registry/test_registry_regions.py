"""The region tree (Art 5): province > city > county, by GB/T 2260 code, scoped per authority."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.registry import rules
from govshare.registry.models import Region

API = "/api/v1/regions"


def _problem(r, status: int, code: str, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code, body
    if field is not None:
        assert body["field"] == field, body
    return body  # type: ignore[no-any-return]


def test_county_under_city_under_province(client, world):
    r = client.post(
        API,
        headers=world.h("suzhou_authority"),
        json={"code": "320506", "name": "吴中区", "name_en": "Wuzhong", "parent_code": "320500"},
    )
    assert r.status_code == 201, r.text
    assert r.json() == {
        "code": "320506",
        "name": "吴中区",
        "name_en": "Wuzhong",
        "level": "county",
        "parent_code": "320500",
        "path": "320000/320500/320506",
    }

    tree = {x["code"]: x for x in client.get(API).json()}
    assert tree["320000"]["level"] == "province" and tree["320000"]["parent_code"] is None
    assert tree["320500"]["level"] == "city" and tree["320500"]["parent_code"] == "320000"
    assert tree["320508"]["path"] == "320000/320500/320508"

    under_suzhou = [x["code"] for x in client.get(API, params={"under": "320500"}).json()]
    assert under_suzhou == ["320500", "320506", "320508"]
    cities = [x["code"] for x in client.get(API, params={"parent": "320000"}).json()]
    assert cities == ["320100", "320500"]
    assert client.get(f"{API}/320506").json()["name"] == "吴中区"

    with transaction() as s:
        ev = s.scalars(
            select(Event).where(Event.action == "registry.region.created", Event.subject_id == "320506")
        ).one()
        assert ev.region_code == "320506" and ev.actor.startswith("person:")
        assert ev.data == {"name": "吴中区", "parent": "320500", "level": "county"}


def test_a_city_code_cannot_sit_under_a_county(client, world):
    r = client.post(
        API, headers=world.h("province_authority"), json={"code": "320600", "name": "南通市", "parent_code": "320508"}
    )
    body = _problem(r, 422, "registry.region.level", "code")
    assert "320600" in body["title"]
    # Nor a province under a city, nor a city under a city.
    _problem(
        client.post(
            API,
            headers=world.h("province_authority"),
            json={"code": "330000", "name": "浙江省", "parent_code": "320500"},
        ),
        422,
        "registry.region.level",
        "code",
    )
    _problem(
        client.post(
            API,
            headers=world.h("province_authority"),
            json={"code": "320600", "name": "南通市", "parent_code": "320500"},
        ),
        422,
        "registry.region.level",
        "code",
    )
    with transaction() as s:
        assert s.get(Region, "320600") is None and s.get(Region, "330000") is None


def test_a_region_lies_inside_its_parents_code_prefix(client, world):
    """GB/T 2260: 320509 is in Suzhou (3205..), so it cannot be filed under Nanjing (3201..),
    where Nanjing's authority would then manage it."""
    _problem(
        client.post(
            API,
            headers=world.h("province_authority"),
            json={"code": "320509", "name": "错放区", "parent_code": "320100"},
        ),
        422,
        "registry.region.outside_parent",
        "code",
    )
    _problem(
        client.post(
            API,
            headers=world.h("province_authority"),
            json={"code": "330100", "name": "杭州市", "parent_code": "320000"},
        ),
        422,
        "registry.region.outside_parent",
        "code",
    )
    # A county directly under its province (省直辖县级) keeps the province prefix and is fine.
    r = client.post(
        API,
        headers=world.h("province_authority"),
        json={"code": "329001", "name": "省直辖测试市", "parent_code": "320000"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["level"] == "county"


@pytest.mark.parametrize("code", ["32050", "3205088", "32O508", "320508\n", "３２０５０８", "", " 320509"])
def test_wrong_code_format_is_422_naming_code(client, world, code):
    r = client.post(
        API, headers=world.h("province_authority"), json={"code": code, "name": "错误代码", "parent_code": "320500"}
    )
    body = _problem(r, 422, "request.invalid", "code")
    assert "code" in body["detail"]


def test_wrong_parent_code_format_names_parent_code(client, world):
    r = client.post(
        API, headers=world.h("province_authority"), json={"code": "320509", "name": "测试区", "parent_code": "3205"}
    )
    _problem(r, 422, "request.invalid", "parent_code")


def test_unknown_parent_is_404_and_duplicate_is_409(client, world):
    _problem(
        client.post(
            API,
            headers=world.h("province_authority"),
            json={"code": "320509", "name": "测试区", "parent_code": "320900"},
        ),
        404,
        "registry.region.not_found",
        "region_code",
    )
    _problem(
        client.post(
            API,
            headers=world.h("province_authority"),
            json={"code": "320508", "name": "姑苏区", "parent_code": "320500"},
        ),
        409,
        "registry.region.exists",
        "code",
    )
    _problem(client.get(f"{API}/329999"), 404, "registry.region.not_found")


def test_root_regions_only_from_the_command_line(client, world):
    _problem(
        client.post(API, headers=world.h("province_authority"), json={"code": "330000", "name": "浙江省"}),
        422,
        "registry.region.parent_required",
        "parent_code",
    )


def test_region_creation_is_scoped(client, world):
    # Suzhou's authority manages Suzhou, not Nanjing.
    r = client.post(
        API, headers=world.h("suzhou_authority"), json={"code": "320102", "name": "玄武区", "parent_code": "320100"}
    )
    body = _problem(r, 403, "registry.out_of_scope")
    assert body["article"] == "Art 5"
    # Only authorities create regions.
    _problem(
        client.post(
            API, headers=world.h("supervisor"), json={"code": "320102", "name": "玄武区", "parent_code": "320100"}
        ),
        403,
        "auth.role_required",
    )
    _problem(client.post(API, json={"code": "320102", "name": "玄武区", "parent_code": "320100"}), 401, "auth.required")
    with transaction() as s:
        assert s.get(Region, "320102") is None


def test_level_rules():
    assert rules.region_level_of("320000") == "province"
    assert rules.region_level_of("320500") == "city"
    assert rules.region_level_of("320508") == "county"
    assert rules.region_fits_parent("320508", "320500", "city")
    assert not rules.region_fits_parent("320508", "320100", "city")
    assert rules.region_fits_parent("320100", "320000", "province")
    assert not rules.region_fits_parent("330100", "320000", "province")
