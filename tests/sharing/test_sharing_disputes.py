"""Disputes (Art 19(2)): state secrets to the secrecy administration, commercial secrets and
privacy to the competent state organ (recorded by name); an open dispute holds the clock."""

from __future__ import annotations

from govshare.core import clock
from tests.recorded import recorded
from tests.sharing.sharing_helpers import API, at, file_request


def test_privacy_dispute_holds_the_clock(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-11-02")):
        req = file_request(client, w, w.entries.personal)  # deadline 23 November
        r = client.post(
            f"{API}/requests/{req['id']}/disputes",
            headers=w.h("gat_staff"),
            json={"kind": "personal_privacy", "question": "家庭成员信息是否属于个人隐私"},
        )
        assert r.status_code == 201, r.text
        dispute = r.json()
        assert dispute["decider"] == "competent_organ" and dispute["state"] == "open"
        got = client.get(f"{API}/requests/{req['id']}", headers=w.h("szsj_staff")).json()
        assert got["state"] == "disputed" and got["deadline"]["held"]
        r = client.post(f"{API}/requests/{req['id']}/approve", json={}, headers=w.h("gat_staff"))
        assert r.status_code == 409 and r.json()["state"] == "disputed"
    with clock.frozen(at("2026-11-09")):  # 3, 4, 5, 6, 9 November: five working days held
        body = {"outcome": "not_protected", "decision": "所申请信息项用于法定审核，不属于不得共享的个人隐私"}
        assert (
            client.post(f"{API}/disputes/{dispute['id']}/decide", json=body, headers=w.h("secrecy")).status_code == 403
        )
        r = client.post(f"{API}/disputes/{dispute['id']}/decide", json=body, headers=w.h("province_authority"))
        assert r.status_code == 422 and r.json()["field"] == "organ"
        r = client.post(
            f"{API}/disputes/{dispute['id']}/decide",
            json={**body, "organ": "江苏省民政厅"},
            headers=w.h("province_authority"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["decided_by_body"] == "江苏省民政厅" and r.json()["held_workdays"] == 5
        got = client.get(f"{API}/requests/{req['id']}", headers=w.h("szsj_staff")).json()
    assert got["state"] == "pending" and got["deadline"]["held_workdays"] == 5
    assert got["deadline"]["deadline_on"] == "2026-11-30"  # 23 November plus five working days
    assert [e.data["article"] for e in recorded("sharing.request.clock_resumed")] == ["Art 19(2)"]


def test_state_secret_dispute_goes_to_the_secrecy_administration(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.state_secret, items=["位置"])
    r = client.post(
        f"{API}/requests/{req['id']}/disputes",
        headers=w.h("szsj_staff"),
        json={"kind": "state_secret", "question": "目标位置是否属于国家秘密"},
    )
    assert r.status_code == 201 and r.json()["decider"] == "secrecy_admin"
    did = r.json()["id"]
    body = {"outcome": "is_protected", "decision": "属于秘密级国家秘密，须经保密网络共享"}
    assert client.post(f"{API}/disputes/{did}/decide", json=body, headers=w.h("province_authority")).status_code == 403
    assert (
        client.post(f"{API}/disputes/{did}/decide", json=body, headers=w.h("nanjing_secrecy")).status_code == 404
    )  # not its region: not visible
    r = client.post(f"{API}/disputes/{did}/decide", json=body, headers=w.h("secrecy"))
    assert r.status_code == 200 and r.json()["decided_by_body"] == "secrecy_admin"
    again = client.post(f"{API}/disputes/{did}/decide", json=body, headers=w.h("secrecy"))
    assert again.status_code == 409 and again.json()["state"] == "decided"
    assert (
        client.get(f"{API}/requests/{req['id']}/disputes", headers=w.h("szsj_staff")).json()[0]["outcome"]
        == "is_protected"
    )
