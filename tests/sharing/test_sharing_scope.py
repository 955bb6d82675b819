"""Scope (Art 5, 32): an agency sees its requests in both directions, the authority its region,
supervisors and the secrecy administration read theirs; nobody else sees that a request exists."""

from __future__ import annotations

import pytest

from tests.sharing.sharing_helpers import API, file_request

#: Who sees the Suzhou request (sz-sj -> js-gat) and the Nanjing one (nj-sj -> js-gat).
MATRIX = {
    "gat_staff": {"sz", "nj"},  # the provider
    "gat_admin": {"sz", "nj"},
    "szsj_staff": {"sz"},
    "szsj_admin": {"sz"},
    "njsj_staff": {"nj"},
    "province_authority": {"sz", "nj"},
    "suzhou_authority": {"sz"},
    "nanjing_authority": {"nj"},
    "supervisor": {"sz", "nj"},
    "secrecy": {"sz", "nj"},
    "nanjing_secrecy": {"nj"},
}


@pytest.fixture
def two_requests(sharing_world, client):  # type: ignore[no-untyped-def]
    w = sharing_world
    sz = file_request(client, w, w.entries.personal)
    nj = file_request(client, w, w.entries.personal, who="njsj_staff", region_scope="320100")
    return {"sz": sz["id"], "nj": nj["id"]}


@pytest.mark.parametrize("who", sorted(MATRIX))
def test_scope_matrix(sharing_world, client, two_requests, who):
    w = sharing_world
    listed = client.get(f"{API}/requests", headers=w.h(who))
    assert listed.status_code == 200, listed.text
    ids = {i["id"] for i in listed.json()["items"]}
    assert ids == {two_requests[k] for k in MATRIX[who]}
    for key, rid in two_requests.items():
        r = client.get(f"{API}/requests/{rid}", headers=w.h(who))
        assert r.status_code == (200 if key in MATRIX[who] else 404), (who, key)


def test_directions_and_roles(sharing_world, client, two_requests):
    w = sharing_world
    incoming = client.get(f"{API}/requests", params={"direction": "incoming"}, headers=w.h("gat_staff")).json()
    assert incoming["total"] == 2
    assert (
        client.get(f"{API}/requests", params={"direction": "outgoing"}, headers=w.h("gat_staff")).json()["total"] == 0
    )
    assert (
        client.get(f"{API}/requests", params={"direction": "outgoing"}, headers=w.h("szsj_staff")).json()["total"] == 1
    )
    # Readers cannot act: supervisors read only (Art 32).
    r = client.post(f"{API}/requests/{two_requests['sz']}/approve", json={}, headers=w.h("supervisor"))
    assert r.status_code == 403
    # Filing for another agency is refused.
    r = client.post(
        f"{API}/requests",
        headers=w.h("szsj_staff"),
        json={
            "requester": "nj-sj",
            "resource": w.entries.personal,
            "items": ["姓名"],
            "purpose": "核查用途说明",
            "legal_basis": "某法第一条规定",
            "region_scope": "320100",
            "ends_on": "2027-12-31",
        },
    )
    assert r.status_code == 403 and r.json()["article"] == "Art 17"
    assert client.get(f"{API}/requests").status_code == 401


def test_the_provider_cannot_request_its_own_entry(sharing_world, client):
    w = sharing_world
    r = client.post(
        f"{API}/requests",
        headers=w.h("gat_staff"),
        json={
            "resource": w.entries.personal,
            "items": ["姓名"],
            "purpose": "核查用途说明",
            "legal_basis": "某法第一条规定",
            "region_scope": "320000",
            "ends_on": "2027-12-31",
        },
    )
    assert r.status_code == 422 and r.json()["code"] == "sharing.request.own_resource"
