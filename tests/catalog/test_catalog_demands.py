"""Sharing demands (Art 9): filing, matching to entries, routing, a demand leading to an entry."""

from __future__ import annotations

from sqlalchemy import select

from govshare.core.events import Event
from tests.catalog.catalog_helpers import API, entry, publish

DEMANDS = f"{API}/demands"


def demand(**overrides):
    body = {
        "title": "企业登记信息",
        "description": "办理食品经营许可时核验企业登记状态",
        "duty": "食品经营许可审批（《食品安全法》第三十五条）",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "wanted_items": "统一社会信用代码、企业名称、登记状态",
    }
    body.update(overrides)
    return body


def file(client, world, who="gat_staff", **overrides):
    r = client.post(DEMANDS, json=demand(**overrides), headers=world.h(who))
    assert r.status_code == 201, r.text
    return r.json()


def test_file_a_demand(client, world, session):
    d = file(client, world)
    assert d["status"] == "open" and d["status_label"] == "待匹配"
    assert d["requester"]["code"] == "js-gat" and d["region_code"] == "320000"
    ev = session.scalars(select(Event).where(Event.action == "catalog.demand.filed")).one()
    assert ev.agency_code == "js-gat"
    session.rollback()


def test_a_demand_states_duty_and_legal_basis_art_9(client, world):
    r = client.post(DEMANDS, json=demand(duty=" "), headers=world.h("gat_staff"))
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["article"], r.json()["field"]) == (
        "catalog.demand.duty_required",
        "Art 9",
        "duty",
    )
    r = client.post(DEMANDS, json=demand(legal_basis="无"), headers=world.h("gat_staff"))
    assert r.json()["code"] == "catalog.demand.legal_basis_required"
    r = client.post(DEMANDS, json=demand(requester="sz-sj"), headers=world.h("gat_staff"))
    assert r.status_code == 403  # not for another agency
    assert client.post(DEMANDS, json=demand(), headers=world.h("province_authority")).status_code == 403


def test_authority_matches_demand_to_published_entries(client, world):
    pub = publish(client, world, entry(), provider="szsj_admin", authority="suzhou_authority")
    d = file(client, world)
    # Only the authority of the requester's region (or above) coordinates the demand.
    r = client.post(
        f"{DEMANDS}/{d['id']}/match", json={"resources": [pub["code"]]}, headers=world.h("suzhou_authority")
    )
    assert r.status_code == 403
    r = client.post(
        f"{DEMANDS}/{d['id']}/match",
        json={"resources": [pub["code"]], "note": "已有资源可满足"},
        headers=world.h("province_authority"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "matched"
    assert [(m["resource"]["code"], m["kind"]) for m in body["matches"]] == [(pub["code"], "matched")]
    # Unpublished entries cannot answer a demand.
    draft = client.post(API, json=entry(name="草稿"), headers=world.h("gat_staff")).json()
    r = client.post(
        f"{DEMANDS}/{d['id']}/match", json={"resources": [str(draft["id"])]}, headers=world.h("province_authority")
    )
    assert r.status_code == 409 and r.json()["code"] == "catalog.demand.match_unpublished"


def test_unmatched_demands_are_listed(client, world):
    pub = publish(client, world, entry())
    a = file(client, world, title="需求甲")
    b = file(client, world, title="需求乙")
    file(client, world, who="szsj_admin", title="需求丙")
    client.post(f"{DEMANDS}/{a['id']}/match", json={"resources": [pub["code"]]}, headers=world.h("province_authority"))
    client.post(f"{DEMANDS}/{b['id']}/route", json={"agencies": ["sz-sj"]}, headers=world.h("province_authority"))
    prov = client.get(DEMANDS, params={"unmatched": True}, headers=world.h("province_authority")).json()
    assert sorted(d["title"] for d in prov["items"]) == ["需求丙", "需求乙"]
    assert prov["total"] == 2
    # A city authority sees its own region's demands only.
    sz = client.get(DEMANDS, params={"unmatched": True}, headers=world.h("suzhou_authority")).json()
    assert [d["title"] for d in sz["items"]] == ["需求丙"]
    # The requester sees its own; a candidate provider sees what was routed to it.
    mine = client.get(DEMANDS, headers=world.h("gat_staff")).json()
    assert sorted(d["title"] for d in mine["items"]) == ["需求乙", "需求甲"]
    routed = client.get(DEMANDS, params={"routed_to_me": True}, headers=world.h("szsj_admin")).json()
    assert [d["title"] for d in routed["items"]] == ["需求乙"]
    assert client.get(f"{DEMANDS}/{a['id']}", headers=world.h("szsj_admin")).status_code == 404
    assert client.get(f"{DEMANDS}/{b['id']}", headers=world.h("szsj_admin")).status_code == 200
    assert client.get(DEMANDS).status_code == 401


def test_routed_demand_leads_to_a_new_entry(client, world):
    d = file(client, world)
    r = client.post(
        f"{DEMANDS}/{d['id']}/route",
        json={"agencies": ["sz-sj", "nj-sj"], "note": "请评估可否提供"},
        headers=world.h("province_authority"),
    )
    assert r.status_code == 200
    assert r.json()["status"] == "routed"
    assert sorted(x["agency"]["code"] for x in r.json()["routes"]) == ["nj-sj", "sz-sj"]
    r = client.post(f"{DEMANDS}/{d['id']}/route", json={"agencies": ["js-gat"]}, headers=world.h("province_authority"))
    assert r.status_code == 422 and r.json()["code"] == "catalog.demand.route_to_self"

    made = client.post(API, json=entry(name="企业登记状态信息", demand_id=d["id"]), headers=world.h("szsj_admin"))
    assert made.status_code == 201, made.text
    got = client.get(f"{DEMANDS}/{d['id']}", headers=world.h("gat_staff")).json()
    assert got["status"] == "matched"
    assert [(m["resource"]["id"], m["kind"]) for m in got["matches"]] == [(made.json()["id"], "created")]


def test_only_routed_providers_create_from_a_demand(client, world):
    d = file(client, world)
    r = client.post(API, json=entry(demand_id=d["id"]), headers=world.h("szsj_admin"))
    assert r.status_code == 403 and r.json()["code"] == "catalog.demand.not_routed"


def test_update_and_close(client, world):
    d = file(client, world)
    r = client.patch(f"{DEMANDS}/{d['id']}", json={"wanted_items": "登记状态"}, headers=world.h("gat_admin"))
    assert r.status_code == 200 and r.json()["wanted_items"] == "登记状态"
    r = client.patch(f"{DEMANDS}/{d['id']}", json={"legal_basis": ""}, headers=world.h("gat_staff"))
    assert r.status_code == 422
    assert client.patch(f"{DEMANDS}/{d['id']}", json={"title": "x改"}, headers=world.h("szsj_admin")).status_code == 403
    r = client.post(f"{DEMANDS}/{d['id']}/close", json={"reason": "已通过其他渠道解决"}, headers=world.h("gat_staff"))
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert client.patch(f"{DEMANDS}/{d['id']}", json={"title": "再改"}, headers=world.h("gat_staff")).status_code == 409
    assert (
        client.post(
            f"{DEMANDS}/{d['id']}/route", json={"agencies": ["sz-sj"]}, headers=world.h("province_authority")
        ).status_code
        == 409
    )
