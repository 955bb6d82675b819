"""Outside the catalog (Art 13(1)): negotiation, escalation to the authority of the region covering
both agencies, the government's binding decision creating a grant; publication consent (Art 17)."""

from __future__ import annotations

from tests.recorded import recorded
from tests.sharing.sharing_helpers import API, file_request

OPEN = {
    "provider": "js-gat",
    "subject": "重点人员动态管控信息",
    "purpose": "市场主体监管中核查经营者身份",
    "legal_basis": "《市场主体登记管理条例》第四十六条",
    "message": "请求共享目录外的相关数据",
}


def test_negotiation_escalates_and_the_decision_binds(sharing_world, client):
    w = sharing_world
    r = client.post(f"{API}/negotiations", json=OPEN, headers=w.h("szsj_staff"))
    assert r.status_code == 201, r.text
    n = r.json()
    assert n["state"] == "open" and n["authority_region_code"] == "320000"
    nid = n["id"]
    # Nothing to agree to before the other party proposes.
    r = client.post(f"{API}/negotiations/{nid}/answer", json={"agree": True, "body": "同意"}, headers=w.h("gat_staff"))
    assert r.status_code == 409 and r.json()["code"] == "sharing.negotiation.no_proposal"
    r = client.post(
        f"{API}/negotiations/{nid}/messages",
        json={"kind": "proposal", "body": "仅提供核验结果"},
        headers=w.h("gat_staff"),
    )
    assert r.status_code == 200 and r.json()["messages"][-1]["kind"] == "proposal"
    assert (
        client.post(f"{API}/negotiations/{nid}/messages", json={"body": "旁观"}, headers=w.h("njsj_staff")).status_code
        == 404
    )
    r = client.post(
        f"{API}/negotiations/{nid}/answer",
        json={"agree": False, "body": "核验结果不能满足监管需要"},
        headers=w.h("szsj_staff"),
    )
    assert r.status_code == 200 and r.json()["state"] == "escalated"
    decision = {
        "outcome": "share",
        "decision": "经省政府协调，公安厅应通过平台提供名称核验",
        "government": "江苏省人民政府",
        "grant": {
            "resource": w.entries.conditional,
            "items": ["名称"],
            "region_codes": ["320500"],
            "ends_on": "2027-12-31",
        },
    }
    assert (
        client.post(f"{API}/negotiations/{nid}/decide", json=decision, headers=w.h("suzhou_authority")).status_code
        == 403
    )  # not the region covering both
    r = client.post(f"{API}/negotiations/{nid}/decide", json=decision, headers=w.h("province_authority"))
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["state"] == "decided" and decided["decided_by_body"] == "江苏省人民政府" and decided["grant_id"]
    g = client.get(f"{API}/grants/{decided['grant_id']}", headers=w.h("szsj_staff")).json()
    assert g["request_id"] is None and g["state"] == "active" and g["consumer"]["code"] == "sz-sj"
    assert g["purpose"] == OPEN["purpose"]
    again = client.post(f"{API}/negotiations/{nid}/decide", json=decision, headers=w.h("province_authority"))
    assert again.status_code == 409 and again.json()["state"] == "decided"
    assert [e.data["article"] for e in recorded("sharing.negotiation.decided")] == ["Art 13(1)"]


def test_agreement_ends_the_negotiation(sharing_world, client):
    w = sharing_world
    nid = client.post(f"{API}/negotiations", json=OPEN, headers=w.h("szsj_staff")).json()["id"]
    client.post(
        f"{API}/negotiations/{nid}/messages",
        json={"kind": "proposal", "body": "编入目录后按有条件共享"},
        headers=w.h("gat_staff"),
    )
    r = client.post(
        f"{API}/negotiations/{nid}/answer", json={"agree": True, "body": "同意该方案"}, headers=w.h("szsj_staff")
    )
    assert r.status_code == 200 and r.json()["state"] == "agreed"
    r = client.post(
        f"{API}/negotiations/{nid}/decide",
        headers=w.h("province_authority"),
        json={"outcome": "share", "decision": "无需协调", "government": "江苏省人民政府"},
    )
    assert r.status_code == 409 and r.json()["state"] == "agreed"
    r = client.post(f"{API}/negotiations", json={**OPEN, "service_fee": 10}, headers=w.h("szsj_staff"))
    assert r.status_code == 422 and r.json()["article"] == "Art 16"


def test_publication_needs_the_providers_consent(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.unconditional, items=["名称"])
    gid = req["grant_id"]
    body = {"kind": "consent", "description": "在苏州市政府网站公开场所名录"}
    assert client.post(f"{API}/grants/{gid}/publications", json=body, headers=w.h("gat_staff")).status_code == 403
    r = client.post(f"{API}/grants/{gid}/publications", json=body, headers=w.h("szsj_staff"))
    assert r.status_code == 201 and r.json()["state"] == "requested"
    pid = r.json()["id"]
    assert (
        client.post(
            f"{API}/publications/{pid}/answer", json={"consent": True, "answer": "同意"}, headers=w.h("szsj_staff")
        ).status_code
        == 403
    )
    r = client.post(
        f"{API}/publications/{pid}/answer",
        json={"consent": False, "answer": "含未公开信息，不同意"},
        headers=w.h("gat_staff"),
    )
    assert r.status_code == 200 and r.json()["state"] == "refused"
    assert (
        client.post(
            f"{API}/publications/{pid}/answer", json={"consent": True, "answer": "改为同意"}, headers=w.h("gat_staff")
        ).status_code
        == 409
    )
    r = client.post(
        f"{API}/grants/{gid}/publications",
        json={"kind": "already_public", "description": "转载名录"},
        headers=w.h("szsj_staff"),
    )
    assert r.status_code == 422 and r.json()["field"] == "source_statement"
    r = client.post(
        f"{API}/grants/{gid}/publications",
        headers=w.h("szsj_staff"),
        json={
            "kind": "already_public",
            "description": "转载名录",
            "source_statement": "来源：江苏省公安厅政府信息公开目录",
        },
    )
    assert r.status_code == 201 and r.json()["state"] == "recorded"
    listed = client.get(f"{API}/grants/{gid}/publications", headers=w.h("province_authority")).json()
    assert [p["state"] for p in listed] == ["refused", "recorded"]
