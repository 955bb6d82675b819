"""Negotiation outside the catalog (Art 13(1)): messages and proposals, agreement, disagreement
taken up by the authority of the parties' level, whose recorded government decision binds and can
create the grant; no fee in a proposal (Art 16); the parties' scope."""

from __future__ import annotations

from typing import Any

from govshare.core import clock
from tests.recorded import recorded
from tests.sharing.sharing_helpers import API, at

NEG = f"{API}/negotiations"


def _open(client, w, who: str = "szsj_staff", provider: str = "js-gat") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post(NEG, headers=w.h(who), json={
        "provider": provider, "title": "企业欠薪预警数据",
        "data_wanted": "各企业社保缴费中断情况（未列入共享目录）",
        "purpose": "开展欠薪风险预警", "legal_basis": "《保障农民工工资支付条例》第八条",
        "message": "请协助提供"})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _proposal(**terms: Any) -> dict[str, Any]:
    body = {"items": ["统一社会信用代码", "名称"], "region_codes": ["320500"], "ends_on": "2027-12-31"}
    body.update(terms)
    return {"body": "按月提供", "terms": body}


def test_messages_proposal_and_agreement(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-11-02")):
        neg = _open(client, w)
        assert neg["state"] == "open" and neg["level_region_code"] == "320000"  # Suzhou and the province
        assert [m["kind"] for m in neg["messages"]] == ["message"]
        r = client.post(f"{NEG}/{neg['id']}/messages", headers=w.h("gat_staff"), json={"body": "需要哪些字段？"})
        assert r.status_code == 201
        # Agreeing without a proposal, or to one's own proposal, is refused.
        assert client.post(f"{NEG}/{neg['id']}/agree", headers=w.h("szsj_staff")).json()["code"] == \
            "sharing.negotiation.no_proposal"
        r = client.post(f"{NEG}/{neg['id']}/proposals", headers=w.h("gat_staff"), json=_proposal())
        assert r.status_code == 201, r.text
        r = client.post(f"{NEG}/{neg['id']}/proposals", headers=w.h("gat_staff"),
                        json=_proposal(region_codes=["320508"]))
        states = [m["proposal_state"] for m in r.json()["messages"] if m["kind"] == "proposal"]
        assert states == ["superseded", "open"]
        r = client.post(f"{NEG}/{neg['id']}/agree", headers=w.h("gat_staff"))
        assert r.status_code == 409 and r.json()["code"] == "sharing.negotiation.own_proposal"
        r = client.post(f"{NEG}/{neg['id']}/agree", headers=w.h("szsj_staff"))
        assert r.status_code == 200, r.text
        agreed = r.json()
        assert agreed["state"] == "agreed"
        assert [m["proposal_state"] for m in agreed["messages"] if m["kind"] == "proposal"][-1] == "accepted"
        # Settled: no more messages, no disagreement (409 naming the state).
        r = client.post(f"{NEG}/{neg['id']}/disagree", headers=w.h("gat_staff"), json={"reason": "改变主意了"})
        assert r.status_code == 409 and r.json()["state"] == "agreed" and r.json()["article"] == "Art 13(1)"
        r = client.post(f"{NEG}/{neg['id']}/messages", headers=w.h("gat_staff"), json={"body": "再补充一点"})
        assert r.status_code == 409
    events = recorded(prefix="sharing.negotiation.", subject_id=neg["id"])
    assert [e.action for e in events] == [
        "sharing.negotiation.opened", "sharing.negotiation.message", "sharing.negotiation.message",
        "sharing.negotiation.proposed", "sharing.negotiation.proposed", "sharing.negotiation.agreed"]
    assert all(e.data["article"] for e in events)
    assert events[-1].data["terms"]["region_codes"] == ["320508"]


def test_disagreement_goes_to_the_authority_of_their_level_whose_decision_creates_the_grant(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-11-02")):
        neg = _open(client, w)
        assert client.post(f"{NEG}/{neg['id']}/proposals", headers=w.h("szsj_staff"),
                           json=_proposal()).status_code == 201
        r = client.post(f"{NEG}/{neg['id']}/disagree", headers=w.h("gat_staff"), json={"reason": ""})
        assert r.status_code == 422 and r.json()["field"] == "reason"
        r = client.post(f"{NEG}/{neg['id']}/disagree", headers=w.h("gat_staff"),
                        json={"reason": "数据涉及企业经营，不宜提供"})
        assert r.status_code == 200 and r.json()["state"] == "escalated"
        assert [m["proposal_state"] for m in r.json()["messages"] if m["kind"] == "proposal"] == ["rejected"]
        escalated = recorded("sharing.negotiation.escalated")
        assert escalated[0].data["authority"] == "js-dsj" and escalated[0].region_code == "320000"
        # The parties can still talk while the authority coordinates, but no longer propose.
        assert client.post(f"{NEG}/{neg['id']}/messages", headers=w.h("szsj_staff"),
                           json={"body": "补充说明用途"}).status_code == 201
        assert client.post(f"{NEG}/{neg['id']}/proposals", headers=w.h("szsj_staff"),
                           json=_proposal()).status_code == 409

        decision = {"government": "江苏省人民政府", "outcome": "share", "decision": "应当共享企业登记信息的名称字段",
                    "grant": {"resource": w.entries.conditional, "items": ["名称"], "region_codes": ["320500"],
                              "ends_on": "2027-12-31"}}
        # Suzhou's authority is not of their level (the province is); agencies cannot decide.
        assert client.post(f"{NEG}/{neg['id']}/decision", headers=w.h("suzhou_authority"),
                           json=decision).status_code == 403
        assert client.post(f"{NEG}/{neg['id']}/decision", headers=w.h("gat_staff"), json=decision).status_code == 403
        # Personal data needs the Art 19 agreement: not by a decision's grant; nothing changes.
        personal = {**decision, "grant": {**decision["grant"], "resource": w.entries.personal, "items": ["姓名"]}}
        r = client.post(f"{NEG}/{neg['id']}/decision", headers=w.h("province_authority"), json=personal)
        assert r.status_code == 422 and r.json()["article"] == "Art 19(1)"
        assert client.get(f"{NEG}/{neg['id']}", headers=w.h("szsj_staff")).json()["state"] == "escalated"

        r = client.post(f"{NEG}/{neg['id']}/decision", headers=w.h("province_authority"), json=decision)
        assert r.status_code == 200, r.text
        decided = r.json()
        assert decided["state"] == "decided" and decided["government"] == "江苏省人民政府"
        assert decided["outcome"] == "share" and decided["grant_id"]
        g = client.get(f"{API}/grants/{decided['grant_id']}", headers=w.h("szsj_staff")).json()
        assert g["state"] == "active" and g["request_id"] is None and g["usable"]
        assert g["items"] == ["名称"] and g["consumer"]["code"] == "sz-sj" and g["provider"]["code"] == "js-gat"
        assert g["purpose"] == "开展欠薪风险预警"
        # Decided once: binding, not again.
        r = client.post(f"{NEG}/{neg['id']}/decision", headers=w.h("province_authority"), json=decision)
        assert r.status_code == 409 and r.json()["state"] == "decided"
    created = recorded("sharing.grant.created")
    assert created[-1].data["negotiation_id"] == neg["id"] and created[-1].data["article"] == "Art 13(1)"
    assert recorded("sharing.negotiation.decided")[0].data["binding"] is True


def test_decision_not_to_share_creates_no_grant(sharing_world, client):
    w = sharing_world
    neg = _open(client, w)
    client.post(f"{NEG}/{neg['id']}/disagree", headers=w.h("szsj_staff"), json={"reason": "对方要求过多条件"})
    body = {"government": "江苏省人民政府", "outcome": "no_share", "decision": "不予共享",
            "grant": {"resource": w.entries.conditional, "items": ["名称"], "region_codes": ["320500"],
                      "ends_on": "2027-12-31"}}
    r = client.post(f"{NEG}/{neg['id']}/decision", headers=w.h("province_authority"), json=body)
    assert r.status_code == 422 and r.json()["code"] == "sharing.decision.grant_without_share"
    body.pop("grant")
    r = client.post(f"{NEG}/{neg['id']}/decision", headers=w.h("province_authority"), json=body)
    assert r.status_code == 200 and r.json()["grant_id"] is None and r.json()["outcome"] == "no_share"


def test_no_fee_in_a_proposal_and_only_the_parties_take_part(sharing_world, client):
    w = sharing_world
    neg = _open(client, w)
    body = _proposal()
    body["terms"]["service_fee"] = 100
    r = client.post(f"{NEG}/{neg['id']}/proposals", headers=w.h("gat_staff"), json=body)
    assert r.status_code == 422 and r.json()["article"] == "Art 16"
    # Nanjing's staff are no party: they neither see nor write.
    assert client.get(f"{NEG}/{neg['id']}", headers=w.h("njsj_staff")).status_code == 404
    assert client.post(f"{NEG}/{neg['id']}/messages", headers=w.h("njsj_staff"),
                       json={"body": "我也想要"}).status_code == 404
    # The authorities of the parties' regions read it; the list shows it to the parties.
    assert client.get(f"{NEG}/{neg['id']}", headers=w.h("suzhou_authority")).status_code == 200
    assert client.get(NEG, headers=w.h("gat_staff")).json()["total"] == 1
    assert client.get(NEG, headers=w.h("njsj_staff")).json()["total"] == 0
    # Only the requester withdraws.
    assert client.post(f"{NEG}/{neg['id']}/withdraw", headers=w.h("gat_staff")).status_code == 403
    r = client.post(f"{NEG}/{neg['id']}/withdraw", headers=w.h("szsj_staff"))
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
