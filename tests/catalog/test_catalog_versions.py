"""Versions, readable diffs and pending revisions of published entries (Art 10(2))."""

from __future__ import annotations

from sqlalchemy import select

from govshare.catalog.models import CatalogDataItem
from govshare.core.events import Event
from tests.catalog.catalog_helpers import API, create, entry, open_entry, publish


def test_every_change_is_a_version_with_a_snapshot(client, world):
    made = create(client, world.h("gat_staff"), entry())
    client.patch(
        f"{API}/{made['id']}", json={"abstract": "第二版摘要", "note": "补充摘要"}, headers=world.h("gat_staff")
    )
    client.patch(f"{API}/{made['id']}", json={"update_cycle": "weekly"}, headers=world.h("gat_staff"))
    # An edit that changes nothing makes no version.
    client.patch(f"{API}/{made['id']}", json={"update_cycle": "weekly"}, headers=world.h("gat_staff"))
    versions = client.get(f"{API}/{made['id']}/versions", headers=world.h("gat_staff")).json()
    assert [(v["number"], v["change_kind"]) for v in versions] == [(1, "created"), (2, "edited"), (3, "edited")]
    assert versions[1]["note"] == "补充摘要"
    v2 = client.get(f"{API}/{made['id']}/versions/2", headers=world.h("gat_staff")).json()
    assert v2["snapshot"]["abstract"] == "第二版摘要"
    assert v2["snapshot"]["update_cycle"] == "daily"
    assert [i["name"] for i in v2["snapshot"]["data_items"]] == ["公民身份号码", "姓名", "户籍地址"]


def test_readable_diff_in_chinese(client, world):
    made = create(client, world.h("gat_staff"), entry())
    client.patch(
        f"{API}/{made['id']}",
        json={
            "share_type": "not_shared",
            "legal_basis": "《中华人民共和国居民身份证法》第十九条",
            "open_to_public": False,
            "data_items": [
                {"name": "公民身份号码", "field_code": "id_number", "data_type": "string", "is_personal": True},
                {"name": "姓名", "data_type": "string", "is_personal": True, "description": "户籍登记姓名"},
                {"name": "出生日期", "data_type": "date", "is_personal": True},
            ],
            "sectors": ["public_safety"],
        },
        headers=world.h("gat_staff"),
    )
    d = client.get(f"{API}/{made['id']}/diff", headers=world.h("gat_staff")).json()
    assert (d["from_number"], d["to_number"]) == (1, 2)
    by_field = {c["field"]: c for c in d["changes"]}
    assert by_field["share_type"]["label"] == "共享类型"
    assert (by_field["share_type"]["before"], by_field["share_type"]["after"]) == ("有条件共享", "不予共享")
    assert by_field["legal_basis"]["kind"] == "added"
    assert (by_field["open_to_public"]["before"], by_field["open_to_public"]["after"]) == ("是", "否")
    assert by_field["data_items.出生日期"]["kind"] == "added"
    assert by_field["data_items.出生日期"]["after"].startswith("日期型")
    assert by_field["data_items.户籍地址"]["kind"] == "removed"
    assert by_field["data_items.姓名.description"]["label"] == "信息项“姓名”的说明"
    assert by_field["sectors"]["after"] == "公共安全"
    assert "共享类型：有条件共享 → 不予共享" in d["text"]
    assert "新增 信息项“出生日期”" in d["text"]
    assert "name" not in by_field  # unchanged fields are not listed
    # Explicit versions, and an unknown one.
    assert client.get(f"{API}/{made['id']}/diff", params={"from": 2, "to": 1}, headers=world.h("gat_staff")).json()[
        "changes"
    ]
    assert (
        client.get(f"{API}/{made['id']}/diff", params={"from": 1, "to": 9}, headers=world.h("gat_staff")).status_code
        == 404
    )


def test_change_to_published_entry_is_a_pending_revision(client, world, session):
    pub = publish(client, world, entry())
    r = client.patch(
        f"{API}/{pub['id']}",
        json={"abstract": "修订后的摘要", "update_cycle": "realtime", "note": "采集方式变化"},
        headers=world.h("gat_staff"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    # The published content stays until the authority approves.
    assert body["abstract"] == pub["abstract"]
    assert body["update_cycle"] == "daily"
    assert body["pending_revision"]["number"] == 2
    assert body["pending_revision"]["note"] == "采集方式变化"
    assert client.get(f"{API}/{pub['id']}").json()["abstract"] == pub["abstract"]
    assert client.get(f"{API}/{pub['id']}").json()["pending_revision"] is None  # not for the public
    # Reported to the authority (Art 10(2)): an event and the review queue.
    ev = session.scalars(select(Event).where(Event.action == "catalog.resource.revision_reported")).one()
    assert ev.region_code == "320000" and ev.data["article"] == "Art 10(2)"
    assert sorted(ev.data["changed"]) == ["abstract", "update_cycle"]
    session.rollback()  # release SQLite's lock before the next request
    queue = client.get(f"{API}/review-queue", headers=world.h("province_authority")).json()
    assert [i["id"] for i in queue["pending_revisions"]] == [pub["id"]]
    d = client.get(f"{API}/{pub['id']}/diff", headers=world.h("province_authority")).json()
    assert (d["from_number"], d["to_number"]) == (1, 2)
    assert {c["field"] for c in d["changes"]} == {"abstract", "update_cycle"}

    # A second change supersedes the first pending revision and builds on it.
    r = client.patch(f"{API}/{pub['id']}", json={"format_detail": "JSON"}, headers=world.h("gat_staff"))
    assert r.json()["pending_revision"]["number"] == 3
    versions = client.get(f"{API}/{pub['id']}/versions", headers=world.h("gat_staff")).json()
    assert [v["review_state"] for v in versions] == [None, "superseded", "pending"]

    assert client.post(f"{API}/{pub['id']}/revision/approve", headers=world.h("gat_staff")).status_code == 403
    assert client.post(f"{API}/{pub['id']}/revision/approve", headers=world.h("suzhou_authority")).status_code == 403
    r = client.post(f"{API}/{pub['id']}/revision/approve", json={"note": "同意"}, headers=world.h("province_authority"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["abstract"] == "修订后的摘要" and body["update_cycle"] == "realtime" and body["format_detail"] == "JSON"
    assert body["version_number"] == 3 and body["pending_revision"] is None
    assert body["code"] == pub["code"] and body["published_on"] == pub["published_on"]
    assert body["modified_on"] is not None
    # The public now sees the revised content, and the history of published versions.
    assert client.get(f"{API}/{pub['id']}").json()["abstract"] == "修订后的摘要"
    public_versions = client.get(f"{API}/{pub['id']}/versions").json()
    assert [v["number"] for v in public_versions] == [1, 3]
    again = client.post(f"{API}/{pub['id']}/revision/approve", headers=world.h("province_authority"))
    assert again.status_code == 409 and again.json()["code"] == "catalog.revision.none_pending"


def test_rejected_revision_leaves_published_content(client, world):
    pub = publish(client, world, entry())
    client.patch(f"{API}/{pub['id']}", json={"name": "人口信息（新）"}, headers=world.h("gat_staff"))
    r = client.post(
        f"{API}/{pub['id']}/revision/reject", json={"reason": "名称不规范"}, headers=world.h("province_authority")
    )
    assert r.status_code == 200
    assert r.json()["name"] == "人口基础信息" and r.json()["pending_revision"] is None
    versions = client.get(f"{API}/{pub['id']}/versions", headers=world.h("gat_staff")).json()
    assert versions[-1]["review_state"] == "rejected" and versions[-1]["review_note"] == "名称不规范"
    again = client.post(
        f"{API}/{pub['id']}/revision/reject", json={"reason": "重复"}, headers=world.h("province_authority")
    )
    assert again.status_code == 409 and again.json()["code"] == "catalog.revision.none_pending"


def test_revision_cannot_change_classification(client, world):
    pub = publish(client, world, entry())
    r = client.patch(f"{API}/{pub['id']}", json={"category": "legal_entity"}, headers=world.h("gat_staff"))
    assert r.status_code == 422
    assert r.json()["code"] == "catalog.revision.classification_fixed"
    assert r.json()["field"] == "category"


def test_revision_is_checked_against_the_rules(client, world):
    pub = publish(client, world, entry())
    r = client.patch(f"{API}/{pub['id']}", json={"share_type": "not_shared"}, headers=world.h("gat_staff"))
    assert r.status_code == 422
    assert r.json()["code"] == "catalog.basic.not_shared_without_basis"
    assert r.json()["article"] == "Art 7(1)"
    assert client.get(f"{API}/{pub['id']}", headers=world.h("gat_staff")).json()["pending_revision"] is None


def test_data_item_ids_stay_stable_across_revisions(client, world, session):
    pub = publish(client, world, entry())
    ids_before = {i["name"]: i["id"] for i in pub["data_items"]}
    items = [
        {"name": "姓名", "data_type": "string", "is_personal": True, "description": "登记姓名"},
        {"name": "公民身份号码", "data_type": "string", "is_personal": True},
        {"name": "民族", "data_type": "string"},
    ]
    client.patch(f"{API}/{pub['id']}", json={"data_items": items}, headers=world.h("gat_staff"))
    r = client.post(f"{API}/{pub['id']}/revision/approve", headers=world.h("province_authority"))
    after = {i["name"]: i for i in r.json()["data_items"]}
    assert [i["name"] for i in r.json()["data_items"]] == ["姓名", "公民身份号码", "民族"]
    assert after["姓名"]["id"] == ids_before["姓名"]
    assert after["公民身份号码"]["id"] == ids_before["公民身份号码"]
    assert after["姓名"]["description"] == "登记姓名"
    assert after["公民身份号码"]["field_code"] is None
    session.expire_all()
    assert session.scalar(select(CatalogDataItem).where(CatalogDataItem.name == "户籍地址")) is None


def test_revision_undoing_pending_change_withdraws_it(client, world):
    pub = publish(client, world, open_entry())
    client.patch(f"{API}/{pub['id']}", json={"update_cycle": "monthly"}, headers=world.h("gat_staff"))
    r = client.patch(f"{API}/{pub['id']}", json={"update_cycle": "yearly"}, headers=world.h("gat_staff"))
    assert r.json()["pending_revision"] is None
