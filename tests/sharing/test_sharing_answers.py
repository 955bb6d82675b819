"""Answers: refusals only on the grounds of Art 13(2), with written reasons, filed with the
authority of the provider's region (Art 18); approvals narrower than the request, over the channel
Art 18(2) allows, off the platform only with the Art 14(3) filing; free of charge (Art 16);
one state machine (409 naming the state)."""

from __future__ import annotations

import pytest

from govshare.sharing import rules
from tests.recorded import recorded
from tests.sharing.sharing_helpers import API, file_request, request_body


def _refuse(client, world, rid, who="gat_staff", **body):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/requests/{rid}/refuse", json=body, headers=world.h(who))


@pytest.mark.parametrize(
    "body,code,field",
    [
        ({"ground": "too_busy", "reason": "本单位人手不足，暂无法提供数据"}, "refusal.ground_required", "ground"),
        ({"ground": "", "reason": "本单位人手不足，暂无法提供数据"}, "refusal.ground_required", "ground"),
        ({"ground": "personal_privacy", "reason": "涉及隐私"}, "refusal.reason_required", "reason"),
        (
            {"ground": "other_legal_ground", "reason": "依照有关法律规定不予提供该数据"},
            "refusal.citation_required",
            "citation",
        ),
    ],
)
def test_refusal_needs_a_lawful_ground_and_reasons(sharing_world, client, body, code, field):
    w = sharing_world
    req = file_request(client, w, w.entries.personal)
    r = _refuse(client, w, req["id"], **body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == code and problem["field"] == field and problem["article"].startswith("Art 1")
    assert client.get(f"{API}/requests/{req['id']}", headers=w.h("szsj_staff")).json()["state"] == "pending"


def test_refusal_is_filed_with_the_authority_of_the_providers_region(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.personal)
    r = _refuse(
        client,
        w,
        req["id"],
        ground="other_legal_ground",
        reason="该数据依法仅限公安机关内部使用，不得对外提供",
        citation="《中华人民共和国居民身份证法》第十三条",
    )
    assert r.status_code == 200, r.text
    refused = r.json()
    assert refused["state"] == "refused" and refused["refusal_ground"] == "other_legal_ground"
    filings = client.get(f"{API}/filings", headers=w.h("province_authority")).json()
    assert filings["total"] == 1
    f = filings["items"][0]
    assert f["request_id"] == req["id"] and f["region_code"] == "320000" and f["authority"]["code"] == "js-dsj"
    assert f["citation"] == "《中华人民共和国居民身份证法》第十三条" and f["requester"]["code"] == "sz-sj"
    # The Suzhou authority does not oversee the (provincial) provider's region: not in its list.
    assert client.get(f"{API}/filings", headers=w.h("suzhou_authority")).json()["total"] == 0
    assert client.get(f"{API}/filings", headers=w.h("szsj_staff")).json()["total"] == 1  # the refused agency
    assert client.get(f"{API}/filings", headers=w.h("njsj_staff")).json()["total"] == 0
    assert [e.data["article"] for e in recorded("sharing.refusal.filed")] == ["Art 18(1)"]


def test_answering_twice_is_409_naming_the_state(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.personal)
    assert (
        _refuse(
            client, w, req["id"], ground="personal_privacy", reason="申请的信息项涉及个人隐私，且用途不明确"
        ).status_code
        == 200
    )
    r = client.post(f"{API}/requests/{req['id']}/approve", json={}, headers=w.h("gat_staff"))
    assert r.status_code == 409
    problem = r.json()
    assert problem["code"] == "sharing.request.invalid_transition" and problem["state"] == "refused"
    assert "已拒绝" in problem["title"]
    r = _refuse(client, w, req["id"], ground="personal_privacy", reason="申请的信息项涉及个人隐私，且用途不明确", **{})
    assert r.status_code == 409 and r.json()["state"] == "refused"
    r = client.post(f"{API}/requests/{req['id']}/withdraw", json={}, headers=w.h("szsj_staff"))
    assert r.status_code == 409


def test_only_the_provider_answers(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.personal)
    r = client.post(f"{API}/requests/{req['id']}/approve", json={}, headers=w.h("szsj_staff"))
    assert r.status_code == 403 and r.json()["code"] == "sharing.answer.provider_only"
    r = client.post(f"{API}/requests/{req['id']}/approve", json={}, headers=w.h("njsj_staff"))
    assert r.status_code == 404  # not a party: the request does not exist for it


def test_approval_cannot_widen_the_request(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.personal, items=["姓名"])
    for body, code in (
        ({"items": ["公民身份号码"]}, "sharing.approve.items_not_requested"),
        ({"region_codes": ["320100"]}, "sharing.region_outside"),
        ({"ends_on": "2028-01-01"}, "sharing.approve.term_wider"),
    ):
        r = client.post(f"{API}/requests/{req['id']}/approve", json=body, headers=w.h("gat_staff"))
        assert r.status_code == 422 and r.json()["code"] == code, r.text


def test_state_secrets_only_over_a_secrecy_network(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.state_secret, items=["位置"])
    for channel in ("platform", "off_platform"):
        r = client.post(
            f"{API}/requests/{req['id']}/approve",
            headers=w.h("gat_staff"),
            json={"channel": channel, "off_platform_reason": "专线传输需要", "off_platform_channel": "专线"},
        )
        assert r.status_code == 422 and r.json()["code"] == "sharing.channel.secrecy_required"
        assert r.json()["article"] == "Art 18(2)"
    r = client.post(
        f"{API}/requests/{req['id']}/approve", json={"channel": "secrecy_network"}, headers=w.h("gat_staff")
    )
    assert r.status_code == 200, r.text
    grant = client.get(f"{API}/grants/{r.json()['grant_id']}", headers=w.h("gat_staff")).json()
    assert grant["channel"] == "secrecy_network" and grant["state"] == "pending_signatures"


def test_off_platform_needs_and_makes_the_art_14_filing(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.conditional, items=["名称"])
    r = client.post(f"{API}/requests/{req['id']}/approve", json={"channel": "off_platform"}, headers=w.h("gat_staff"))
    assert r.status_code == 422 and r.json()["article"] == "Art 14(3)"
    r = client.post(
        f"{API}/requests/{req['id']}/approve",
        headers=w.h("gat_staff"),
        json={
            "channel": "off_platform",
            "off_platform_reason": "对方系统尚未接入共享交换平台",
            "off_platform_channel": "政务外网专线",
        },
    )
    assert r.status_code == 200, r.text
    fid = r.json()["exchange_filing_id"]
    filing = client.get(f"/api/v1/exchange/filings/{fid}", headers=w.h("province_authority")).json()
    assert filing["counterpart"] == "sz-sj" and filing["direction"] == "provide"
    assert filing["channel"] == "政务外网专线"
    grant = client.get(f"{API}/grants/{r.json()['grant_id']}", headers=w.h("gat_staff")).json()
    assert grant["channel"] == "off_platform" and grant["state"] == "active"


@pytest.mark.parametrize(
    "extra",
    [
        {"fee": 0},
        {"Price": "100元"},
        {"handling_CHARGE": 1},
        {"meta": {"unitCost": 5}},
        {"notes": [{"service_fee": 1}]},
    ],
)
def test_free_of_charge(sharing_world, client, extra):
    w = sharing_world
    r = client.post(f"{API}/requests", json={**request_body(w.entries.personal), **extra}, headers=w.h("szsj_staff"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "sharing.fee_not_allowed" and r.json()["article"] == "Art 16"


def test_free_of_charge_in_answers_too(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.personal)
    r = client.post(
        f"{API}/requests/{req['id']}/approve", json={"channel": "platform", "fee": 0}, headers=w.h("gat_staff")
    )
    assert r.status_code == 422 and r.json()["article"] == "Art 16"


def test_fee_words():
    assert rules.fee_fields({"a": {"b": [{"unitPrice": 1}]}, "FEE": 1, "cost-centre": 2}) == [
        "a.b[0].unitPrice",
        "FEE",
        "cost-centre",
    ]
    assert rules.fee_fields({"discharge_date": 1, "costume": 2, "items": ["fee"]}) == []


def test_unknown_fields_are_refused(sharing_world, client):
    w = sharing_world
    r = client.post(
        f"{API}/requests", json={**request_body(w.entries.personal), "surprise": 1}, headers=w.h("szsj_staff")
    )
    assert r.status_code == 422 and r.json()["field"] == "surprise"
