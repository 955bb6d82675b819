"""Lifecycle of a catalog entry (Art 9-10): draft, submit, publish, reject, withdraw; who may."""

from __future__ import annotations

import datetime as dt

import pytest

from govshare.core import clock
from tests.catalog.catalog_helpers import API, create, entry, open_entry, publish
from tests.recorded import recorded


def _events(session, subject_id):
    session.rollback()  # release SQLite's lock before the next request
    return [e.action for e in recorded(subject_type="catalog_resource", subject_id=subject_id)]


def test_draft_submit_publish_assigns_code_and_date(client, world, session):
    clock.set_now(dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC))  # 09:30 in Shanghai
    made = create(client, world.h("gat_staff"), entry())
    assert made["status"] == "draft"
    assert made["code"] is None
    assert made["provider"]["code"] == "js-gat"
    assert made["region_code"] == "320000"
    assert made["update_deadline_workdays"] == 20  # Art 15(2) default
    assert [i["name"] for i in made["data_items"]] == ["公民身份号码", "姓名", "户籍地址"]
    assert made["labels"]["share_type"] == "有条件共享"

    r = client.post(f"{API}/{made['id']}/submit", headers=world.h("gat_staff"))
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    r = client.post(f"{API}/{made['id']}/publish", headers=world.h("province_authority"))
    assert r.status_code == 200, r.text
    pub = r.json()
    assert pub["status"] == "published"
    assert pub["code"] == "101-000001"  # basic (1) + population (01) + sequence
    assert pub["published_on"] == "2026-03-02"
    # The sequence is shared by all providers of the same prefix.
    second = publish(
        client, world, entry(name="流动人口居住登记信息"), provider="szsj_admin", authority="suzhou_authority"
    )
    assert second["code"] == "101-000002"
    third = publish(client, world, open_entry())
    assert third["code"] == "300-000001"
    # The entry can be fetched by its code.
    assert client.get(f"{API}/101-000001").json()["id"] == made["id"]
    assert _events(session, made["id"]) == [
        "catalog.resource.created",
        "catalog.resource.submitted",
        "catalog.resource.published",
    ]


def test_only_the_provider_drafts_and_submits(client, world):
    r = client.post(API, json=entry(provider="js-gat"), headers=world.h("szsj_admin"))
    assert r.status_code == 403
    assert r.json()["code"] == "catalog.out_of_scope"
    r = client.post(API, json=entry(), headers=world.h("province_authority"))
    assert r.status_code == 403  # authorities do not catalogue for agencies
    r = client.post(API, json=entry())
    assert r.status_code == 401
    made = create(client, world.h("gat_staff"), entry())
    assert client.post(f"{API}/{made['id']}/submit", headers=world.h("szsj_admin")).status_code == 403
    assert (
        client.patch(f"{API}/{made['id']}", json={"name": "别人改的"}, headers=world.h("szsj_admin")).status_code == 403
    )
    # Both roles of the providing agency may act.
    assert (
        client.patch(f"{API}/{made['id']}", json={"abstract": "管理员补充"}, headers=world.h("gat_admin")).status_code
        == 200
    )


#: Who may publish an entry of which provider (Art 9): the authority of the provider's region or above.
PUBLISH_MATRIX = [
    # (who publishes, who provides: 苏州市市场监督管理局 320500 or 江苏省公安厅 320000, expected status)
    ("province_authority", "szsj_admin", 200),  # the province is above Suzhou
    ("suzhou_authority", "szsj_admin", 200),
    ("nanjing_authority", "szsj_admin", 403),
    ("szsj_admin", "szsj_admin", 403),  # the provider itself does not publish
    ("supervisor", "szsj_admin", 403),  # supervisors read
    ("secrecy", "szsj_admin", 403),
    ("province_authority", "gat_staff", 200),
    ("suzhou_authority", "gat_staff", 403),  # a city authority cannot publish a provincial agency's entry
]


@pytest.mark.parametrize(("who", "provider", "expected"), PUBLISH_MATRIX)
def test_only_the_authority_of_the_region_or_above_publishes(client, world, who, provider, expected):
    made = create(client, world.h(provider), entry())
    assert client.post(f"{API}/{made['id']}/submit", headers=world.h(provider)).status_code == 200
    r = client.post(f"{API}/{made['id']}/publish", headers=world.h(who))
    assert r.status_code == expected, r.text
    if expected == 403 and who.endswith("authority"):
        assert r.json()["article"] == "Art 9"


def test_transitions_out_of_order_are_conflicts(client, world):
    made = create(client, world.h("gat_staff"), entry())
    r = client.post(f"{API}/{made['id']}/publish", headers=world.h("province_authority"))
    assert r.status_code == 409
    assert r.json()["code"] == "catalog.resource.bad_status"
    # RFC 9457: "status" is the HTTP status; the entry's own status is an extension member.
    assert r.json()["status"] == 409 and r.json()["entry_status"] == "draft"
    assert (
        client.post(
            f"{API}/{made['id']}/reject", json={"reason": "不全"}, headers=world.h("province_authority")
        ).status_code
        == 409
    )
    client.post(f"{API}/{made['id']}/submit", headers=world.h("gat_staff"))
    assert client.post(f"{API}/{made['id']}/submit", headers=world.h("gat_staff")).status_code == 409


def test_reject_sends_back_to_draft_with_reason(client, world, session):
    made = create(client, world.h("gat_staff"), entry())
    client.post(f"{API}/{made['id']}/submit", headers=world.h("gat_staff"))
    r = client.post(
        f"{API}/{made['id']}/reject", json={"reason": "共享条件表述不清"}, headers=world.h("province_authority")
    )
    assert r.status_code == 200
    assert r.json()["status"] == "draft"
    assert r.json()["review_note"] == "共享条件表述不清"
    r = client.post(f"{API}/{made['id']}/reject", json={}, headers=world.h("province_authority"))
    assert r.status_code == 422  # a reason is required
    assert "catalog.resource.rejected" in _events(session, made["id"])


def test_editing_a_submission_returns_it_to_draft(client, world):
    made = create(client, world.h("gat_staff"), entry())
    client.post(f"{API}/{made['id']}/submit", headers=world.h("gat_staff"))
    r = client.patch(f"{API}/{made['id']}", json={"abstract": "补充说明"}, headers=world.h("gat_staff"))
    assert r.status_code == 200
    assert r.json()["status"] == "draft"
    assert r.json()["version_number"] == 2


def test_withdraw(client, world, session):
    pub = publish(client, world, entry())
    r = client.post(f"{API}/{pub['id']}/withdraw", json={"reason": "想撤"}, headers=world.h("gat_staff"))
    assert r.status_code == 403  # a provider cannot withdraw a published entry by itself
    r = client.post(
        f"{API}/{pub['id']}/withdraw", json={"reason": "资源已停止采集"}, headers=world.h("province_authority")
    )
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "withdrawn" and body["withdrawal_reason"] == "资源已停止采集"
    assert client.get(f"{API}/{pub['id']}").status_code == 404  # gone from the public
    assert client.patch(f"{API}/{pub['id']}", json={"abstract": "x"}, headers=world.h("gat_staff")).status_code == 409
    # A provider may discard its own unpublished draft.
    draft = create(client, world.h("gat_staff"), entry(name="草稿条目"))
    r = client.post(f"{API}/{draft['id']}/withdraw", json={"reason": "重复编目"}, headers=world.h("gat_staff"))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    # The name is free again once withdrawn.
    create(client, world.h("gat_staff"), entry(name="草稿条目"))


def test_visibility(client, world):
    hidden = publish(client, world, entry(name="不向社会开放的人口信息", open_to_public=False))
    shown = publish(client, world, entry(name="向社会开放的人口信息"))
    draft = create(client, world.h("gat_staff"), entry(name="人口草稿"))
    submitted = create(client, world.h("gat_staff"), entry(name="待发布人口信息"))
    client.post(f"{API}/{submitted['id']}/submit", headers=world.h("gat_staff"))

    # Anonymous: published and open to the public only.
    assert client.get(f"{API}/{shown['id']}").status_code == 200
    for e in (hidden, draft, submitted):
        assert client.get(f"{API}/{e['id']}").status_code == 404
    # Any signed-in civil servant: every published entry, not others' drafts.
    assert client.get(f"{API}/{hidden['id']}", headers=world.h("szsj_admin")).status_code == 200
    assert client.get(f"{API}/{draft['id']}", headers=world.h("szsj_admin")).status_code == 404
    # The provider sees its drafts; the authority and supervisor see submissions, not drafts.
    assert client.get(f"{API}/{draft['id']}", headers=world.h("gat_staff")).status_code == 200
    assert client.get(f"{API}/{submitted['id']}", headers=world.h("province_authority")).status_code == 200
    assert client.get(f"{API}/{submitted['id']}", headers=world.h("supervisor")).status_code == 200
    assert client.get(f"{API}/{draft['id']}", headers=world.h("province_authority")).status_code == 404
    # A city authority does not see a provincial agency's submission.
    assert client.get(f"{API}/{submitted['id']}", headers=world.h("suzhou_authority")).status_code == 404

    names = {i["name"] for i in client.get(API).json()["items"]}
    assert names == {"向社会开放的人口信息"}
    names = {i["name"] for i in client.get(API, headers=world.h("szsj_admin")).json()["items"]}
    assert names == {"向社会开放的人口信息", "不向社会开放的人口信息"}
    mine = client.get(API, params={"mine": True}, headers=world.h("gat_staff")).json()
    assert mine["total"] == 4
    drafts = client.get(API, params={"mine": True, "status": "draft"}, headers=world.h("gat_staff")).json()
    assert [i["name"] for i in drafts["items"]] == ["人口草稿"]


def test_review_queue(client, world):
    a = create(client, world.h("szsj_admin"), entry(name="苏州人口"))
    client.post(f"{API}/{a['id']}/submit", headers=world.h("szsj_admin"))
    b = create(client, world.h("gat_staff"), entry(name="全省人口"))
    client.post(f"{API}/{b['id']}/submit", headers=world.h("gat_staff"))
    sz = client.get(f"{API}/review-queue", headers=world.h("suzhou_authority")).json()
    assert [i["name"] for i in sz["submitted"]] == ["苏州人口"]
    prov = client.get(f"{API}/review-queue", headers=world.h("province_authority")).json()
    assert {i["name"] for i in prov["submitted"]} == {"苏州人口", "全省人口"}
    assert client.get(f"{API}/review-queue", headers=world.h("gat_staff")).status_code == 403


def test_duplicate_name_in_agency_is_a_conflict(client, world):
    create(client, world.h("gat_staff"), entry())
    r = client.post(API, json=entry(), headers=world.h("gat_staff"))
    assert r.status_code == 409
    assert r.json()["code"] == "catalog.resource.duplicate_name"
    # Another agency may use the same name.
    create(client, world.h("szsj_admin"), entry())


def test_related_resources(client, world):
    base = publish(client, world, entry())
    r = client.post(API, json=open_entry(related=[base["code"]]), headers=world.h("gat_staff"))
    assert r.status_code == 201
    assert [x["code"] for x in r.json()["related"]] == [base["code"]]
    r = client.post(API, json=open_entry(name="别的", related=["199-999999"]), headers=world.h("gat_staff"))
    assert r.status_code == 422
    assert r.json()["field"] == "related"
