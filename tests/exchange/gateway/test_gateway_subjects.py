"""Subjects, not only calls: calls recorded through the gateway for a person are found by their
identity number (sent in the body), another person's are not; the key is validated; only the
authority and supervisors may look, each over their regions; every lookup is itself recorded."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.core.identifiers import make_id_number
from govshare.exchange.models import ExchangeCallSubject
from tests.exchange.exchange_helpers import API, USCC, residents
from tests.exchange.gateway.gateway_helpers import GW, PURPOSE, agency_id, headers, last_call

URL = f"{API}/subject-usage"
REASON = "核查群众投诉其个人信息被滥用"


def _suzhou(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if r["行政区划代码"].startswith("3205")]


def _ask(client, sz_key, hosted, id_number: str) -> None:  # type: ignore[no-untyped-def]
    r = client.get(
        f"{GW}/{hosted.code}",
        params=[("items", "姓名"), ("filter", f"公民身份号码:eq:{id_number}")],
        headers=headers(sz_key),
    )
    assert r.status_code == 200, r.text


def _lookup_events() -> list[Event]:
    with transaction() as s:
        return list(s.scalars(select(Event).where(Event.action == "exchange.subject.looked_up").order_by(Event.seq)))


def test_calls_for_a_person_are_found_and_others_are_not(client, world, book, hosted, sz_key, session):
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    a, b = _suzhou(residents())[:2]
    _ask(client, sz_key, hosted, a["公民身份号码"])
    _ask(client, sz_key, hosted, a["公民身份号码"])
    _ask(client, sz_key, hosted, b["公民身份号码"])
    assert a["公民身份号码"] not in str(last_call().subjects)
    with transaction() as s:  # the index holds one row per call and subject, filled by the recorder
        assert len(s.scalars(select(ExchangeCallSubject)).all()) == 3

    # Lower case "x" and spaces as typed: the same person.
    r = client.post(
        URL,
        headers=world.h("province_authority"),
        json={"id_number": " " + a["公民身份号码"].lower() + " ", "reason": REASON},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "id_number" and body["total"] == 2
    assert {(c["consumer_code"], c["purpose"], c["outcome"], c["mode"]) for c in body["items"]} == {
        ("sz-sj", PURPOSE, "allowed", "query")
    }
    assert body["items"][0]["resource_code"] == hosted.code and body["items"][0]["resource_name"] == hosted.name
    assert body["agencies"] == [
        {"code": "sz-sj", "name": "苏州市市场监督管理局", "calls": 2, "allowed": 2, "last_at": body["items"][0]["at"]}
    ]

    # Someone else's number: none of these calls.
    other = make_id_number("320508", dt.date(1980, 5, 5), 7)
    r = client.post(URL, headers=world.h("supervisor"), json={"id_number": other, "reason": REASON})
    assert r.status_code == 200 and r.json()["total"] == 0 and r.json()["items"] == []

    # The Nanjing authority oversees no Suzhou consumer: it sees nothing of these calls.
    r = client.post(URL, headers=world.h("nanjing_authority"), json={"id_number": a["公民身份号码"], "reason": REASON})
    assert r.status_code == 200 and r.json()["total"] == 0
    r = client.post(URL, headers=world.h("suzhou_authority"), json={"id_number": a["公民身份号码"], "reason": REASON})
    assert r.json()["total"] == 2

    # Every lookup is an event with its reason, the digest and never the number itself.
    looked = _lookup_events()
    assert len(looked) == 4
    assert looked[0].data["reason"] == REASON and looked[0].data["calls"] == 2
    assert all(a["公民身份号码"] not in str(e.data) + e.subject_id for e in looked)
    assert looked[0].subject_type == "exchange_subject" and len(looked[0].subject_id) == 64


def test_credit_codes_are_subjects_too(client, world, book, hosted, sz_key, session):
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    r = client.get(
        f"{GW}/{hosted.code}",
        params=[("items", "姓名"), ("filter", f"经营主体代码:eq:{USCC}")],
        headers=headers(sz_key),
    )
    assert r.status_code == 200 and r.json()["total"] > 0, r.text
    r = client.post(URL, headers=world.h("supervisor"), json={"credit_code": USCC, "reason": REASON})
    assert r.status_code == 200 and r.json()["kind"] == "credit_code" and r.json()["total"] == 1


def test_invalid_keys_are_refused_naming_the_field(client, world):
    h = world.h("province_authority")
    good = make_id_number("320508", dt.date(1980, 5, 5), 7)
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    cases = [
        ({"id_number": bad_check, "reason": REASON}, "id_number", "exchange.subject.id_number_invalid"),
        ({"id_number": "12345", "reason": REASON}, "id_number", "exchange.subject.id_number_invalid"),
        ({"credit_code": USCC[:17] + "Z", "reason": REASON}, "credit_code", "exchange.subject.credit_code_invalid"),
        ({"reason": REASON}, "id_number", "exchange.subject.key_required"),
        ({"id_number": good, "credit_code": USCC, "reason": REASON}, "id_number", "exchange.subject.key_required"),
        ({"id_number": good, "reason": " "}, "reason", "exchange.subject.reason_required"),
    ]
    for body, field, code in cases:
        r = client.post(URL, headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["field"] == field and r.json()["code"] == code, r.text
    assert _lookup_events() == []  # a refused lookup is no lookup


def test_only_the_authority_and_supervisors_may_look(client, world):
    body = {"id_number": make_id_number("320508", dt.date(1980, 5, 5), 7), "reason": REASON}
    assert client.post(URL, json=body).status_code == 401
    for who in ("gat_staff", "szsj_admin", "secrecy"):
        assert client.post(URL, headers=world.h(who), json=body).status_code == 403, who
    # The key never travels in the URL: there is no GET form of the lookup.
    assert client.get(URL, headers=world.h("supervisor"), params=body).status_code == 405
    assert _lookup_events() == []


def test_the_lookup_page(client, world, book, hosted, sz_key, session, app):
    from tests.portal.portal_helpers import browser, sign_in, token_of

    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    person = _suzhou(residents())[0]["公民身份号码"]
    _ask(client, sz_key, hosted, person)
    sup = sign_in(browser(app), "super")
    form = sup.get("/exchange/subjects")
    assert form.status_code == 200 and "数据主体使用查询" in form.text
    token = token_of(form.text)
    # A wrong check character: the form again, the message next to the number, nothing recorded.
    bad = person[:17] + ("0" if person[17] != "0" else "1")
    r = sup.post("/exchange/subjects", data={"csrf_token": token, "kind": "id_number", "key": bad, "reason": REASON})
    assert r.status_code == 422 and "校验码错误" in r.text and 'id="f-key-error"' in r.text
    r = sup.post("/exchange/subjects", data={"csrf_token": token, "kind": "id_number", "key": person, "reason": ""})
    assert r.status_code == 422 and 'id="f-reason-error"' in r.text
    assert _lookup_events() == []
    r = sup.post("/exchange/subjects", data={"csrf_token": token, "kind": "id_number", "key": person, "reason": REASON})
    assert r.status_code == 200, r.text
    assert "共 1 次调用" in r.text and "苏州市市场监督管理局" in r.text and PURPOSE in r.text
    assert person not in r.text  # the number is not echoed back
    assert len(_lookup_events()) == 1
    # English; agency staff may not look.
    assert "Who used a subject" in sup.get("/exchange/subjects?lang=en").text
    staff = sign_in(browser(app), "gat_staff")
    assert staff.get("/exchange/subjects").status_code == 403


def _pager_fields(html: str) -> dict[str, str]:
    import re

    form = html.split('action="/exchange/subjects/page"')[1].split("</form>")[0]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))


def test_the_lookup_page_pages_by_post_with_the_digest(client, world, book, hosted, sz_key, session, app, monkeypatch):
    from govshare.core.auth import OPERATOR
    from govshare.core.errors import InvalidInput
    from govshare.exchange.console import subjects as page
    from govshare.exchange.service import subjects
    from tests.portal.portal_helpers import browser, sign_in, token_of

    monkeypatch.setattr(page, "PAGE_SIZE", 2)
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    person = _suzhou(residents())[0]["公民身份号码"]
    for _n in range(3):
        _ask(client, sz_key, hosted, person)
    sup = sign_in(browser(app), "super")
    token = token_of(sup.get("/exchange/subjects").text)
    r = sup.post("/exchange/subjects", data={"csrf_token": token, "kind": "id_number", "key": person, "reason": REASON})
    assert r.status_code == 200 and "共 3 次调用" in r.text and "第 1–2 条，共 3 条" in r.text
    assert r.text.count('<th scope="row">', r.text.index("subject-calls")) == 2 and "下一页" in r.text
    fields = _pager_fields(r.text)
    digest = _lookup_events()[0].subject_id
    assert fields["digest"] == digest and fields["kind"] == "id_number" and fields["reason"] == REASON
    assert person not in r.text  # the number is in no field: only its keyed digest

    # The next page: POSTed, the rest of the calls; another lookup, recorded with the same reason.
    r = sup.post("/exchange/subjects/page", data={**fields, "csrf_token": token, "offset": "2"})
    assert r.status_code == 200, r.text
    assert "第 3–3 条，共 3 条" in r.text and "上一页" in r.text and "下一页" not in r.text and person not in r.text
    looked = _lookup_events()
    assert len(looked) == 2 and looked[1].subject_id == digest
    assert looked[1].data == {"kind": "id_number", "reason": REASON, "calls": 3, "offset": 2}

    # Bad input: the form again with its message, nothing recorded.
    bad = [
        {**fields, "seal": "0" * 64},  # a forged seal
        {**fields, "digest": "0" * 64},  # another digest under this seal
        {**fields, "kind": "credit_code"},
        {**fields, "offset": "two"},
    ]
    for data in bad:
        r = sup.post("/exchange/subjects/page", data={**data, "csrf_token": token, "offset": data.get("offset", "2")})
        assert r.status_code == 422 and "翻页请求无效" in r.text, data
    r = sup.post("/exchange/subjects/page", data={**fields, "csrf_token": token, "offset": "2", "reason": ""})
    assert r.status_code == 422 and 'id="f-reason-error"' in r.text
    # The seal is the supervisor's: the authority cannot replay it to look up by the digest.
    auth = sign_in(browser(app), "prov_auth")
    r = auth.post(
        "/exchange/subjects/page",
        data={**fields, "csrf_token": token_of(auth.get("/exchange/subjects").text), "offset": "2"},
    )
    assert r.status_code == 422 and "翻页请求无效" in r.text
    assert len(_lookup_events()) == 2
    # Agency staff may not page (nor look), with or without the form.
    staff = sign_in(browser(app), "gat_staff")
    r = staff.post(
        "/exchange/subjects/page", data={**fields, "csrf_token": token_of(staff.get("/console").text), "offset": "2"}
    )
    assert r.status_code == 403 and len(_lookup_events()) == 2
    # The service checks the digest's form itself.
    try:
        subjects.lookup_digest(session, kind="id_number", digest=person, reason=REASON, by=OPERATOR)
    except InvalidInput as exc:
        assert exc.code == "exchange.subject.digest_invalid"
    else:
        raise AssertionError("a number is no digest")
