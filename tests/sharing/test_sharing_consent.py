"""Publication consent (Art 17): the receiving agency asks, the provider consents or refuses (with
a reason), each recorded; data already public is republished with its source stated, recorded,
and data that is not public cannot take that path."""

from __future__ import annotations

from typing import Any

from govshare.core import clock
from govshare.core.db import transaction
from tests.recorded import recorded
from tests.sharing.sharing_helpers import API, _entry, at, file_request

PUB = f"{API}/publications"


def _grant(client, w, resource: str) -> int:  # type: ignore[no-untyped-def]
    req = file_request(client, w, resource, items=["名称"], region_scope="320500")
    r = client.post(f"{API}/requests/{req['id']}/approve", headers=w.h("gat_staff"), json={})
    assert r.status_code == 200, r.text
    return r.json()["grant_id"]  # type: ignore[no-any-return]


def _ask(grant_id: int, **extra: Any) -> dict[str, Any]:
    return {"grant_id": grant_id, "content": "各区企业数量统计表", "channel": "苏州市政府网站",
            "purpose": "公开营商环境年度报告", **extra}


def test_ask_consent_then_consent_or_refuse(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-11-02")):
        grant_id = _grant(client, w, w.entries.conditional)
        # Only the receiving agency asks; others do not even see the grant.
        assert client.post(PUB, headers=w.h("gat_staff"), json=_ask(grant_id)).status_code == 403
        assert client.post(PUB, headers=w.h("njsj_staff"), json=_ask(grant_id)).status_code == 404
        assert client.post(PUB, headers=w.h("szsj_staff"), json=_ask(grant_id, price=0)).json()["article"] == "Art 16"
        r = client.post(PUB, headers=w.h("szsj_staff"), json=_ask(grant_id))
        assert r.status_code == 201, r.text
        first = r.json()
        assert first["state"] == "asked" and first["provider"]["code"] == "js-gat"
        # The publisher cannot consent on the provider's behalf.
        assert client.post(f"{PUB}/{first['id']}/consent", headers=w.h("szsj_staff"), json={}).status_code == 403
        r = client.post(f"{PUB}/{first['id']}/consent", headers=w.h("gat_staff"), json={"reason": "同意，注明来源"})
        assert r.status_code == 200 and r.json()["state"] == "consented"
        assert r.json()["answered_by_name"] == "gat_staff"
        r = client.post(f"{PUB}/{first['id']}/refuse", headers=w.h("gat_staff"), json={"reason": "改变主意"})
        assert r.status_code == 409 and r.json()["state"] == "consented"

        second = client.post(PUB, headers=w.h("szsj_staff"), json=_ask(grant_id)).json()
        r = client.post(f"{PUB}/{second['id']}/refuse", headers=w.h("gat_staff"), json={})
        assert r.status_code == 422 and r.json()["field"] == "reason"
        r = client.post(f"{PUB}/{second['id']}/refuse", headers=w.h("gat_staff"), json={"reason": "含未经核实的数据"})
        assert r.status_code == 200 and r.json()["state"] == "refused"
        listed = client.get(PUB, headers=w.h("province_authority"), params={"grant_id": grant_id}).json()
        assert listed["total"] == 2
    actions = [e.action for e in recorded(prefix="sharing.publication.")]
    assert actions == ["sharing.publication.asked", "sharing.publication.consented", "sharing.publication.asked",
                       "sharing.publication.refused"]
    assert all(e.data["article"] == "Art 17" for e in recorded(prefix="sharing.publication."))


def test_public_data_is_republished_with_its_source_stated(sharing_world, client):
    w = sharing_world
    with transaction() as s:
        public = _entry(s, name="公共场所名录（已公开）", open_to_public=True)
    with clock.frozen(at("2026-11-02")):
        not_public = _grant(client, w, w.entries.conditional)
        body = {**_ask(not_public), "source_statement": "数据来源：江苏省公安厅"}
        r = client.post(f"{PUB}/republish", headers=w.h("szsj_staff"), json=body)
        assert r.status_code == 409 and r.json()["code"] == "sharing.publication.not_public"
        assert r.json()["article"] == "Art 17"

        grant_id = _grant(client, w, public)
        body = {**_ask(grant_id), "source_statement": "数据来源：网上公开"}
        r = client.post(f"{PUB}/republish", headers=w.h("szsj_staff"), json=body)
        assert r.status_code == 422 and r.json()["field"] == "source_statement"
        body["source_statement"] = "数据来源：江苏省公安厅（政府信息公开）"
        r = client.post(f"{PUB}/republish", headers=w.h("szsj_staff"), json=body)
        assert r.status_code == 201, r.text
        assert r.json()["state"] == "republished" and r.json()["source_statement"] == body["source_statement"]
        # Nothing to consent to.
        assert client.post(f"{PUB}/{r.json()['id']}/consent", headers=w.h("gat_staff"), json={}).status_code == 409
    event = recorded("sharing.publication.republished")[0]
    assert event.data["source_statement"] == "数据来源：江苏省公安厅（政府信息公开）"
