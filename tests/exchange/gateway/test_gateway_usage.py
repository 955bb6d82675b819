"""Usage of the gateway per grant, resource, agency and day, in the reader's scope."""

from __future__ import annotations

from tests.exchange.gateway.gateway_helpers import GW, agency_id, headers, machine_key

API = "/api/v1/exchange/usage"


def test_usage_counts_calls_in_scope(client, world, book, hosted, sz_key, session):
    gid = book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    nj_key = machine_key(session, "nj-sj")
    for _ in range(3):
        assert client.get(f"{GW}/{hosted.code}", params={"limit": 5}, headers=headers(sz_key)).status_code == 200
    client.get(f"{GW}/{hosted.code}", headers=headers(sz_key, "别的用途"))  # refused
    client.get(f"{GW}/{hosted.code}", headers=headers(nj_key))  # refused: no grant

    # The provider sees every call on its resource.
    r = client.get(API, params={"group": "grant"}, headers=world.h("gat_staff"))
    assert r.status_code == 200, r.text
    by_grant = {row["key"]: row for row in r.json()["items"]}
    assert by_grant[gid]["calls"] == 3 and by_grant[gid]["allowed"] == 3 and by_grant[gid]["rows"] == 15
    assert by_grant[None]["refused"] == 2
    assert sum(n for _d, n in r.json()["daily"]) == 5
    r = client.get(API, params={"group": "resource"}, headers=world.h("gat_staff"))
    assert r.json()["items"] == [
        {
            "key": hosted.code,
            "calls": 5,
            "allowed": 3,
            "refused": 2,
            "failed": 0,
            "rows": 15,
            "bytes": r.json()["items"][0]["bytes"],
        }
    ]
    # Suzhou's authority sees Suzhou's consumer calls only; Nanjing's agency its own.
    r = client.get(API, params={"group": "consumer"}, headers=world.h("suzhou_authority"))
    assert {row["key"] for row in r.json()["items"]} == {agency_id(session, "sz-sj")}
    r = client.get(API, params={"group": "outcome"}, headers=world.h("nanjing_authority"))
    assert r.json()["items"][0]["key"] == "refused" and r.json()["items"][0]["calls"] == 1
    # Bad grouping or period: 422 naming the field.
    assert client.get(API, params={"group": "x"}, headers=world.h("gat_staff")).json()["field"] == "group"
    bad = client.get(API, params={"since": "2026-01-02", "until": "2026-01-01"}, headers=world.h("gat_staff"))
    assert bad.status_code == 422 and bad.json()["field"] == "until"
    assert client.get(API).status_code == 401
