"""The whole path of a request for personal data (Art 17-19): filed, approved narrower, the
agreement signed by both responsible persons (Art 30), the grant active; and the unconditional
path granted at once."""

from __future__ import annotations

import hashlib

from govshare.core import clock
from tests.recorded import recorded
from tests.sharing.sharing_helpers import API, at, file_request


def test_personal_request_to_active_grant(sharing_world, client, session):
    w = sharing_world
    with clock.frozen(at("2026-11-02")):
        req = file_request(client, w, w.entries.personal)
        assert req["state"] == "pending"
        assert req["deadline"]["rule"] == "sensitive" and req["deadline"]["workdays"] == 15
        assert "personal" in req["touches"]
        assert req["deadline"]["deadline_on"] == "2026-11-23" and not req["deadline"]["provisional"]
        assert req["deadline"]["workdays_left"] == 15

        r = client.post(
            f"{API}/requests/{req['id']}/approve",
            headers=w.h("gat_staff"),
            json={"items": ["公民身份号码", "是否低保"], "region_codes": ["320508"], "ends_on": "2027-06-30"},
        )
        assert r.status_code == 200, r.text
        approved = r.json()
        assert approved["state"] == "approved" and approved["agreement_id"] and approved["grant_id"]

        g = client.get(f"{API}/grants/{approved['grant_id']}", headers=w.h("szsj_staff")).json()
        assert g["state"] == "pending_signatures" and not g["usable"]
        assert g["items"] == ["公民身份号码", "是否低保"] and g["region_codes"] == ["320508"]
        assert g["ends_on"] == "2027-06-30" and g["channel"] == "platform"

        a = client.get(f"{API}/agreements/{approved['agreement_id']}", headers=w.h("szsj_admin")).json()
        assert a["state"] == "awaiting_signatures"
        assert a["terms"]["purpose"] == "核查最低生活保障申请人家庭情况"
        pdf = client.get(f"{API}/agreements/{a['id']}.pdf", headers=w.h("szsj_admin"))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        digest = hashlib.sha256(pdf.content).hexdigest()
        assert digest == a["pdf_sha256"]

        # Staff are not the responsible person (Art 30).
        r = client.post(f"{API}/agreements/{a['id']}/sign", json={}, headers=w.h("szsj_staff"))
        assert r.status_code == 403
        r = client.post(f"{API}/agreements/{a['id']}/sign", json={"pdf_sha256": digest}, headers=w.h("szsj_admin"))
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "partially_signed"
        signed = recorded("sharing.agreement.signed")
        assert len(signed) == 1 and signed[0].data["pdf_sha256"] == digest and signed[0].data["article"]
        # The same party cannot sign twice.
        assert client.post(f"{API}/agreements/{a['id']}/sign", json={}, headers=w.h("szsj_admin")).status_code == 409
        r = client.post(f"{API}/agreements/{a['id']}/sign", json={}, headers=w.h("gat_admin"))
        assert r.status_code == 200 and r.json()["state"] == "signed"

        g = client.get(f"{API}/grants/{approved['grant_id']}", headers=w.h("szsj_staff")).json()
        assert g["state"] == "active" and g["usable"]
        history = client.get(f"{API}/requests/{req['id']}/history", headers=w.h("szsj_staff")).json()
        actions = [h["action"] for h in history]
        assert actions[:2] == ["sharing.request.submitted", "sharing.request.approved"]
        assert "sharing.grant.activated" in actions
        assert all(h["article"] for h in history)


def test_unconditional_is_granted_at_once(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.unconditional, items=["名称"])
    assert req["state"] == "approved" and req["deadline"]["rule"] == "unconditional"
    assert req["deadline"]["deadline_on"] is None and req["grant_id"]
    g = client.get(f"{API}/grants/{req['grant_id']}", headers=w.h("szsj_staff")).json()
    assert g["state"] == "active" and g["usable"] and g["region_codes"] == ["320500"]


def test_items_must_be_the_entrys(sharing_world, client):
    w = sharing_world
    r = client.post(
        f"{API}/requests",
        headers=w.h("szsj_staff"),
        json={
            "resource": w.entries.personal,
            "items": ["不存在的项"],
            "purpose": "核查用途说明",
            "legal_basis": "某法第一条规定",
            "region_scope": "320500",
            "ends_on": "2027-12-31",
        },
    )
    assert r.status_code == 422 and r.json()["code"] == "sharing.request.items_unknown"
    r = client.post(
        f"{API}/requests",
        headers=w.h("szsj_staff"),
        json={
            "resource": w.entries.personal,
            "items": ["姓名"],
            "purpose": "核查用途说明",
            "legal_basis": "某法第一条规定",
            "region_scope": "320100",
            "ends_on": "2027-12-31",
        },
    )
    assert r.status_code == 201  # the provider is provincial: Nanjing lies within its region
