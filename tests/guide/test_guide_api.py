"""The service guide API (Art 20-27): the authority keeps it, in its region; everyone reads it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from govshare.core.auth import OPERATOR
from govshare.guide.models import GuideService
from tests.guide.guide_helpers import API, entry, events, payload


def _create(client, world, who="province_authority", **overrides):
    r = client.post(API, json=payload(**overrides), headers=world.h(who))
    assert r.status_code == 201, r.text
    return r.json()


def test_authority_adds_a_service_and_everyone_reads_it(client, world, session):
    pop = entry(session, "人口基础信息")
    made = _create(client, world, resources=[pop.code])
    assert made["name"] == "社会保险参保信息查询" and made["active"] is True
    assert made["sector_label"] == "社会保障" and made["agency"]["code"] == "js-gat"
    assert [(c["channel"], c["label"], c["detail"]) for c in made["channels"]] == [
        ("web", "网站", "江苏政务服务网"),
        ("phone", "电话", "12333"),
    ]
    assert [r["code"] for r in made["resources"]] == [pop.code]
    assert made["region_code"] == "320000"
    assert events(session) == [
        (
            "guide.service.created",
            str(made["id"]),
            {
                "name": "社会保险参保信息查询",
                "sector": "social_security",
                "active": True,
                "channels": ["web", "phone"],
                "resources": 1,
                "article": "Art 20",
            },
        )
    ]

    page = client.get(API).json()  # anonymous
    assert page["total"] == 1 and page["items"][0]["id"] == made["id"]
    assert client.get(f"{API}/{made['id']}").json()["resources"][0]["name"] == "人口基础信息"


def test_channels_by_name_only(client, world):
    made = _create(client, world, channels=["mobile_app", "counter"])
    assert [c["channel"] for c in made["channels"]] == ["mobile_app", "counter"]
    assert all(c["detail"] is None for c in made["channels"])


def test_filters_and_facets(client, world, session):
    _create(client, world)
    _create(
        client,
        world,
        name="交通违法处理",
        name_en="Traffic violations",
        sector="public_safety",
        agency="js-gat",
        channels=[{"channel": "mobile_app", "detail": "交管12123"}],
        description="处理交通违法。",
    )
    _create(
        client,
        world,
        name="企业开办一件事",
        name_en=None,
        sector="market_regulation",
        agency="sz-sj",
        channels=["web", "counter"],
        description="营业执照、公章刻制一次办结。",
    )

    def names(**params):
        r = client.get(API, params=params)
        assert r.status_code == 200, r.text
        return sorted(i["name"] for i in r.json()["items"])

    assert names(sector="market_regulation") == ["企业开办一件事"]
    assert names(channel="counter") == ["企业开办一件事"]
    assert names(channel="web") == ["企业开办一件事", "社会保险参保信息查询"]
    assert names(agency="js-gat") == ["交通违法处理", "社会保险参保信息查询"]
    assert names(region="320500") == ["企业开办一件事"]
    assert names(region="320000") == ["交通违法处理", "企业开办一件事", "社会保险参保信息查询"]
    assert names(agency="no-such-agency") == []
    # Free text: Chinese segmented, matched in names, descriptions, agency names and channel details.
    assert names(q="营业执照") == ["企业开办一件事"]
    assert names(q="12123") == ["交通违法处理"]
    assert names(q="苏州市市场") == ["企业开办一件事"]
    assert names(q="参保 证明") == ["社会保险参保信息查询"]
    assert names(q="contribution") == ["社会保险参保信息查询"]
    assert names(q="不存在的服务") == []
    facets = client.get(API, params={"agency": "js-gat"}).json()["facets"]
    assert {f["value"]: f["count"] for f in facets["sector"]} == {"social_security": 1, "public_safety": 1}
    assert {f["value"]: f["count"] for f in facets["channel"]} == {"web": 1, "phone": 1, "mobile_app": 1}


def test_authority_keeps_only_its_region(client, world, session):
    # The Suzhou authority: Suzhou agencies yes, provincial ones no (Art 5, Art 20).
    r = client.post(API, json=payload(agency="js-gat"), headers=world.h("suzhou_authority"))
    assert r.status_code == 403
    assert r.json()["code"] == "guide.out_of_scope" and r.json()["article"] == "Art 20"
    sz = _create(client, world, "suzhou_authority", agency="sz-sj")
    # The province authority covers Suzhou too.
    r = client.patch(f"{API}/{sz['id']}", json={"description": "新说明"}, headers=world.h("province_authority"))
    assert r.status_code == 200 and r.json()["description"] == "新说明"
    prov = _create(client, world, name="省级服务")
    r = client.patch(f"{API}/{prov['id']}", json={"description": "改"}, headers=world.h("suzhou_authority"))
    assert r.status_code == 403
    # Moving a Suzhou service to a provincial agency needs the authority over both.
    r = client.patch(f"{API}/{sz['id']}", json={"agency": "js-gat"}, headers=world.h("suzhou_authority"))
    assert r.status_code == 403
    assert client.get(f"{API}/{sz['id']}").json()["agency"]["code"] == "sz-sj"
    r = client.post(f"{API}/{prov['id']}/deactivate", json={"reason": "停止服务"}, headers=world.h("nanjing_authority"))
    assert r.status_code == 403


@pytest.mark.parametrize("who, status", [(None, 401), ("gat_admin", 403), ("supervisor", 403), ("szsj_admin", 403)])
def test_only_authorities_write(client, world, who, status):
    headers = world.h(who) if who else {}
    assert client.post(API, json=payload(), headers=headers).status_code == status


@pytest.mark.parametrize(
    "overrides, code, field",
    [
        ({"sector": "astrology"}, "request.invalid", None),
        ({"channels": []}, "request.invalid", None),
        ({"channels": ["radio"]}, "request.invalid", None),
        ({"channels": ["web", "web"]}, "guide.channel.duplicate", "channels"),
        ({"link_url": "javascript:alert(1)"}, "request.invalid", None),
        ({"link_url": "ftp://example.com/x"}, "request.invalid", None),
        ({"agency": "no-such-agency"}, "guide.agency.not_found", "agency"),
        ({"resources": ["999-999999"]}, "guide.resource.not_found", "resources"),
        ({"name": "x"}, "request.invalid", None),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(client, world, session, overrides, code, field):
    r = client.post(API, json=payload(**overrides), headers=world.h("province_authority"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    if code != "request.invalid":
        assert body["code"] == code and body["field"] == field
    else:
        assert body["status"] == 422
    assert session.scalar(select(func.count()).select_from(GuideService)) == 0
    assert events(session) == []


def test_resources_must_be_published(client, world, session):
    draft = entry(session, "草稿资源", publish=False)
    r = client.post(API, json=payload(resources=[str(draft.id)]), headers=world.h("province_authority"))
    assert r.status_code == 422
    assert r.json()["code"] == "guide.resource.not_published" and r.json()["article"] == "Art 20"


def test_duplicate_name_per_agency(client, world):
    _create(client, world)
    r = client.post(API, json=payload(), headers=world.h("province_authority"))
    assert r.status_code == 409 and r.json()["code"] == "guide.service.duplicate_name"
    _create(client, world, agency="sz-sj")  # another agency may use the name


def test_update_records_what_changed(client, world, session):
    pop = entry(session, "人口基础信息").code  # plain value: the session's rollbacks expire objects
    made = _create(client, world)
    r = client.patch(
        f"{API}/{made['id']}",
        headers=world.h("province_authority"),
        json={
            "channels": [{"channel": "mobile_app", "detail": "苏服办"}, "web"],
            "resources": [pop],
            "description": "新的说明。",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(c["channel"], c["detail"]) for c in body["channels"]] == [("mobile_app", "苏服办"), ("web", None)]
    assert [x["code"] for x in body["resources"]] == [pop]
    assert body["description"] == "新的说明。"
    updated = [e for e in events(session) if e[0] == "guide.service.updated"]
    assert len(updated) == 1 and sorted(updated[0][2]["changed"]) == ["channels", "description", "resources"]
    # The same content again changes nothing and records nothing.
    r = client.patch(
        f"{API}/{made['id']}",
        headers=world.h("province_authority"),
        json={"description": "新的说明。", "resources": [pop]},
    )
    assert r.status_code == 200
    assert len([e for e in events(session) if e[0] == "guide.service.updated"]) == 1
    # Required fields cannot be emptied.
    r = client.patch(f"{API}/{made['id']}", headers=world.h("province_authority"), json={"channels": None})
    assert r.status_code == 422 and r.json()["field"] == "channels"
    r = client.patch(f"{API}/{made['id']}", headers=world.h("province_authority"), json={"agency": "sz-sj"})
    assert r.status_code == 200 and r.json()["agency"]["code"] == "sz-sj" and r.json()["region_code"] == "320500"
    assert events(session)[-1][2]["previous_agency"] == "js-gat"


def test_deactivate_and_activate(client, world, session):
    made = _create(client, world)
    url = f"{API}/{made['id']}"
    h = world.h("province_authority")
    r = client.post(f"{url}/deactivate", json={"reason": " "}, headers=h)
    assert r.status_code == 422
    r = client.post(f"{url}/deactivate", json={"reason": "并入一件事服务"}, headers=h)
    assert r.status_code == 200 and r.json()["active"] is False
    assert r.json()["deactivation_reason"] == "并入一件事服务"
    assert client.get(API).json()["total"] == 0
    assert client.get(API, params={"include_inactive": True}).json()["total"] == 1
    assert client.get(url).json()["active"] is False
    assert client.post(f"{url}/deactivate", json={"reason": "再次停用"}, headers=h).status_code == 409
    r = client.post(f"{url}/activate", headers=h)
    assert r.status_code == 200 and r.json()["active"] is True and r.json()["deactivation_reason"] is None
    assert client.post(f"{url}/activate", headers=h).status_code == 409
    assert [e[0] for e in events(session)] == [
        "guide.service.created",
        "guide.service.deactivated",
        "guide.service.activated",
    ]


def test_linked_entries_show_only_to_those_who_may_see_them(client, world, session):
    from govshare.catalog import service as catalog_service

    public = entry(session, "公开资源")
    internal = entry(session, "内部资源", open_to_public=False)
    gone = entry(session, "将撤销的资源")
    made = _create(client, world, resources=[public.code, internal.code, gone.code])
    catalog_service.withdraw(session, gone.id, reason="停止维护", by=OPERATOR)
    session.commit()

    def codes(headers=None):
        return [r["code"] for r in client.get(f"{API}/{made['id']}", headers=headers or {}).json()["resources"]]

    assert codes() == [public.code]  # visitors: published and open to the public
    assert codes(world.h("gat_staff")) == sorted([public.code, internal.code])  # signed in: every published entry
    listed = client.get(API).json()["items"][0]["resources"]
    assert [r["code"] for r in listed] == [public.code]


def test_unknown_service_is_404(client, world):
    r = client.get(f"{API}/12345")
    assert r.status_code == 404 and r.json()["code"] == "guide.service.not_found"
    r = client.patch(f"{API}/12345", json={"description": "x"}, headers=world.h("province_authority"))
    assert r.status_code == 404


@pytest.mark.parametrize("q", ["%", "_", "(", "😀", "%%"])
def test_text_without_a_searchable_word_matches_nothing(client, world, q):
    _create(client, world)
    assert client.get(API).json()["total"] == 1
    assert client.get(API, params={"q": q}).json()["total"] == 0
