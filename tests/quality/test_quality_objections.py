"""Objections (数据异议): the consumer of a grant objects, the provider answers within 10 working
days, the objector sees the corrected version, and upheld objections count in the quality score."""

from __future__ import annotations

import datetime as dt

from govshare.core import clock
from govshare.quality import service
from tests.exchange.exchange_helpers import ITEMS, attach_hosted, csv_bytes, publish_entry, residents, upload
from tests.portal.portal_helpers import browser, sign_in, token_of
from tests.quality.quality_helpers import API
from tests.recorded import recorded


def _granted(world, session, client):  # type: ignore[no-untyped-def]
    """js-gat's unconditional hosted entry, version 1 checked, and sz-sj's active grant for it."""
    clock.set_now(dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC))
    resource = publish_entry(
        session,
        share_type="unconditional",
        share_conditions=None,
        security_classification="internal",
        contains_personal_info=False,
        data_items=[{"name": n, "field_code": c, "data_type": t} for n, c, t in ITEMS],
    )
    session.commit()
    attach_hosted(client, world, resource.id)
    assert upload(client, world, resource.id, "v1.csv", csv_bytes(residents())).status_code == 201
    assert service.checks.check_pending(session) == 1
    session.commit()
    r = client.post(
        "/api/v1/sharing/requests",
        headers=world.h("szsj_admin"),
        json={
            "resource": resource.code,
            "items": ["公民身份号码", "姓名"],
            "purpose": "核查低保申请人家庭情况",
            "legal_basis": "《社会救助暂行办法》第十一条",
            "region_scope": "320500",
            "ends_on": "2027-12-31",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["grant_id"], r.json()
    return resource, r.json()["grant_id"]


def test_objection_answered_corrected_and_counted(world, session, client):
    resource, grant_id = _granted(world, session, client)
    key = residents()[10]["公民身份号码"]
    body = {
        "grant_id": grant_id,
        "record_key": key,
        "item": "姓名",
        "problem": "姓名与户籍登记不符",
        "evidence": "申请人户口簿复印件",
    }
    assert (
        client.post(f"{API}/objections", json={**body, "item": "月收入"}, headers=world.h("szsj_admin")).json()["code"]
        == "quality.objection.item_not_granted"
    )
    assert client.post(f"{API}/objections", json=body, headers=world.h("gat_staff")).status_code == 403
    r = client.post(f"{API}/objections", json=body, headers=world.h("szsj_admin"))
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["state"] == "open" and o["workdays"] == 10 and o["due_on"] == "2026-12-15"
    assert recorded("quality.objection.filed")[0].data["article"] == "国发〔2016〕51号"
    # The provider answers; "confirmed" needs its explanation.
    r = client.post(f"{API}/objections/{o['id']}/answer", json={"outcome": "confirmed"}, headers=world.h("gat_staff"))
    assert r.status_code == 422 and r.json()["code"] == "quality.objection.note_required"
    assert (
        client.post(
            f"{API}/objections/{o['id']}/answer", json={"outcome": "corrected"}, headers=world.h("szsj_admin")
        ).status_code
        == 403
    )
    r = client.post(
        f"{API}/objections/{o['id']}/answer",
        json={"outcome": "corrected", "note": "已按户籍更正"},
        headers=world.h("gat_staff"),
    )
    assert r.status_code == 200 and r.json()["state"] == "corrected" and r.json()["corrected_version"] is None
    assert (
        client.post(
            f"{API}/objections/{o['id']}/answer",
            json={"outcome": "rejected", "note": "x"},
            headers=world.h("gat_staff"),
        ).status_code
        == 409
    )
    # The corrected version is published; the objector sees it.
    clock.set_now(dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC))
    assert upload(client, world, resource.id, "v2.csv", csv_bytes(residents())).status_code == 201
    seen = client.get(f"{API}/objections/{o['id']}", headers=world.h("szsj_admin")).json()
    assert seen["corrected_version"] == 2
    assert client.get(f"{API}/objections/{o['id']}", headers=world.h("nanjing_authority")).status_code == 404
    assert client.get(f"{API}/objections", headers=world.h("province_authority")).json()["total"] == 1
    # The upheld objection takes 2 points off the next check of the same data.
    assert service.checks.check_pending(session) == 1
    session.commit()
    v1, v2 = service.checks.history(session, resource.id, viewer=world_principal(session))[1]
    finding = next(f for f in v2.findings if f["rule"] == "quality.objections")
    assert finding["checked"] == 1 and finding["failed"] == 1
    assert v2.score == round(v1.score - 2, 1)


def world_principal(session):  # type: ignore[no-untyped-def]
    from govshare.core.auth import OPERATOR

    return OPERATOR


def test_objection_pages_and_overdue(world, session, client, app):
    resource, grant_id = _granted(world, session, client)
    sz = sign_in(browser(app), "szsj_admin")
    page = sz.get("/quality/objections")
    assert page.status_code == 200 and "提出数据异议" in page.text and f'value="{grant_id}"' in page.text
    bad = sz.post(
        "/quality/objections",
        data={"csrf_token": token_of(page.text), "grant_id": str(grant_id), "record_key": "", "problem": ""},
    )
    assert bad.status_code == 422
    r = sz.post(
        "/quality/objections",
        follow_redirects=False,
        data={
            "csrf_token": token_of(page.text),
            "grant_id": str(grant_id),
            "record_key": residents()[0]["公民身份号码"],
            "item": "姓名",
            "problem": "姓名有误",
        },
    )
    assert r.status_code == 303, r.text
    detail = r.headers["location"].split("?")[0]
    clock.set_now(dt.datetime(2026, 12, 16, 2, 0, tzinfo=dt.UTC))  # past the 10 working days
    gat = sign_in(browser(app), "gat_staff")
    shown = gat.get(detail)
    assert "已逾期" in shown.text and "提交答复" in shown.text
    assert "已逾期" in gat.get("/quality/objections?overdue=1").text
    r = gat.post(detail, data={"csrf_token": token_of(shown.text), "outcome": "rejected"})
    assert r.status_code == 422 and "说明不予受理的理由" in r.text
    r = gat.post(
        detail,
        follow_redirects=False,
        data={"csrf_token": token_of(shown.text), "outcome": "rejected", "note": "该记录不在授权范围内"},
    )
    assert r.status_code == 303
    sz = sign_in(browser(app), "szsj_admin")  # the earlier sign-in has expired with the clock's move
    assert "不予受理" in sz.get(detail).text
    assert recorded("quality.objection.answered")[0].data["late"] is True
    assert "Objections" in sz.get("/quality/objections?lang=en").text
