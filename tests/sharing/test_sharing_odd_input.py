"""Odd input to the sharing API is a 4xx naming the field, never a 500, never a half change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from govshare.core.db import transaction
from govshare.core.events import Event
from tests.sharing.sharing_helpers import API, request_body

ODD_REFS = ["¹", "１２", "99999999999999999999", "9" * 64, "x" * 65]


@pytest.mark.parametrize(
    "overrides,status,field",
    [
        ({"resource": "99999999999999999999"}, 404, "resource"),
        ({"resource": "１２"}, 404, "resource"),
        ({"resource": "x" * 65}, 422, "resource"),
        ({"items": []}, 422, "items"),
        ({"items": ["   "]}, 422, "items"),
        ({"purpose": "\u3000\u3000\u3000\u3000\u3000"}, 422, "purpose"),
        ({"legal_basis": "    \t "}, 422, "legal_basis"),
        ({"region_scope": "３２０５００"}, 422, "region_scope"),
        ({"region_scope": "999999"}, 404, "region_scope"),
        ({"region_scope": "330000"}, 404, "region_scope"),
        ({"starts_on": "0001-01-01"}, 422, "ends_on"),
        ({"ends_on": "9999-12-31"}, 422, "ends_on"),
        ({"ends_on": "2020-01-01", "starts_on": "2019-06-01"}, 422, "ends_on"),
        ({"ends_on": "2027-02-30"}, 422, "ends_on"),
        ({"demand_id": 2**40}, 422, "demand_id"),
    ],
)
def test_odd_request_bodies(sharing_world, client, overrides, status, field):
    w = sharing_world
    with transaction() as s:
        before = s.scalar(select(func.count()).select_from(Event))
    r = client.post(
        f"{API}/requests", json={**request_body(w.entries.personal), **overrides}, headers=w.h("szsj_staff")
    )
    assert r.status_code == status, r.text
    assert r.json()["field"] == field
    with transaction() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == before


@pytest.mark.parametrize("ref", ODD_REFS)
@pytest.mark.parametrize(
    "path",
    [
        "/requests/{}",
        "/requests/{}/history",
        "/agreements/{}",
        "/agreements/{}.pdf",
        "/grants/{}",
        "/requests/{}/disputes",
    ],
)
def test_odd_ids_are_4xx(sharing_world, client, ref, path):
    r = client.get(API + path.format(ref), headers=sharing_world.h("szsj_staff"))
    assert 400 <= r.status_code < 500, r.text


@pytest.mark.parametrize(
    "body",
    [
        {"region_codes": ["x" * 5000]},
        {"ends_on": "0001-01-01"},
        {"items": ["姓名", "姓名"]},
        {"channel": "pigeon"},
        {"verify_only": "maybe"},
        {"region_codes": "320500"},
    ],
)
def test_odd_approvals(sharing_world, client, body):
    w = sharing_world
    rid = client.post(f"{API}/requests", json=request_body(w.entries.personal), headers=w.h("szsj_staff")).json()["id"]
    r = client.post(f"{API}/requests/{rid}/approve", json=body, headers=w.h("gat_staff"))
    if body == {"items": ["姓名", "姓名"]}:  # repeated items are one item
        assert r.status_code == 200, r.text
        return
    assert 400 <= r.status_code < 500, r.text
    assert client.get(f"{API}/requests/{rid}", headers=w.h("szsj_staff")).json()["state"] == "pending"
