"""Gateway calls on a hosted dataset: projection to granted items, row scope by region, filters,
paging, verification (核验), and every call recorded with its event."""

from __future__ import annotations

import hashlib
import json

from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.exchange.gateway.recorder import subject_digest
from tests.exchange.exchange_helpers import REGION_ROWS, residents
from tests.exchange.gateway.gateway_helpers import GW, agency_id, counts, headers, last_call, machine_key

ALL = residents()
SUZHOU = [r for r in ALL if r["行政区划代码"] in ("320500", "320508")]


def test_suzhou_agency_gets_suzhou_rows_and_granted_items_only(client, book, hosted, sz_key, session):
    gid = book.add(
        resource=hosted,
        consumer_id=agency_id(session, "sz-sj"),
        items=["姓名", "公民身份号码", "行政区划代码"],
        regions=["320500"],
    )
    r = client.get(f"{GW}/{hosted.code}", params={"limit": 100}, headers=headers(sz_key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(SUZHOU) == REGION_ROWS["320500"] + REGION_ROWS["320508"]
    assert {row["行政区划代码"] for row in body["items"]} == {"320500", "320508"}
    assert all(set(row) == {"姓名", "公民身份号码", "行政区划代码"} for row in body["items"])
    assert sorted(row["姓名"] for row in body["items"]) == sorted(r["姓名"] for r in SUZHOU)

    call = last_call()
    assert (call.outcome, call.status, call.grant_id, call.rows, call.mode) == ("allowed", 200, gid, 16, "query")
    assert call.bytes == len(r.content) and call.sha256 == hashlib.sha256(r.content).hexdigest()
    assert call.consumer_id == agency_id(session, "sz-sj") and call.resource_id == hosted.id
    assert call.purpose == "最低生活保障资格审核"
    # Subjects: keyed digests of the returned identity numbers, never the numbers.
    assert len(call.subjects) == 16 and all(len(s) == 64 for s in call.subjects)
    returned = [row["公民身份号码"] for row in body["items"]]
    assert set(call.subjects) != {hashlib.sha256(n.encode()).hexdigest() for n in returned}
    assert r.headers["x-govshare-event"] == str(call.event_seq)
    with transaction() as s:
        ev = s.get(Event, call.event_seq)
        assert ev is not None and ev.action == "exchange.gateway.call" and ev.data["grant_id"] == gid
        assert ev.subject_type == "sharing_grant" and ev.subject_id == str(gid) and ev.agency_code == "sz-sj"
        for number in returned:  # never the data
            assert number.encode() not in ev.canonical
            assert number not in json.dumps(call.subjects)
    assert counts() == (1, 1)


def test_asking_items_filters_and_paging(client, book, hosted, sz_key, session):
    book.add(
        resource=hosted,
        consumer_id=agency_id(session, "sz-sj"),
        items=["姓名", "性别", "行政区划代码"],
        regions=["320500"],
    )
    h = headers(sz_key)
    r = client.get(
        f"{GW}/{hosted.code}",
        params=[("items", "姓名"), ("filter", "性别:eq:男"), ("limit", "3"), ("offset", "1")],
        headers=h,
    )
    assert r.status_code == 200, r.text
    men = [x for x in SUZHOU if x["性别"] == "男"]
    assert r.json()["total"] == len(men) and r.json()["returned"] == 3 and r.json()["offset"] == 1
    assert all(set(row) == {"姓名"} for row in r.json()["items"])
    # The same through POST /query with a JSON body.
    r2 = client.post(
        f"{GW}/{hosted.code}/query",
        json={"items": ["姓名"], "filters": [{"item": "性别", "op": "eq", "value": "男"}], "limit": 3, "offset": 1},
        headers=h,
    )
    assert r2.status_code == 200 and r2.json()["items"] == r.json()["items"]
    # An item not granted, asked or filtered on: 422 naming it, recorded as failed.
    for params in ({"items": "月收入"}, {"filter": "月收入:gt:1"}):
        bad = client.get(f"{GW}/{hosted.code}", params=params, headers=h)
        assert bad.status_code == 422 and bad.json()["code"] == "exchange.query.item_not_allowed", bad.text
        assert bad.json()["article"] == "Art 17"
        assert (last_call().outcome, last_call().code) == ("failed", "exchange.query.item_not_allowed")
    assert client.get(f"{GW}/{hosted.code}", params={"limit": "x"}, headers=h).status_code == 422
    assert counts() == (5, 5)


def test_province_grant_sees_every_row_and_count(client, book, hosted, session):
    key = machine_key(session, "nj-sj")
    book.add(resource=hosted, consumer_id=agency_id(session, "nj-sj"), regions=["320000"])
    r = client.get(f"{GW}/{hosted.code}", params={"limit": 1000, "count": "true"}, headers=headers(key))
    assert r.status_code == 200 and r.json()["total"] == len(ALL)
    r = client.get(f"{GW}/{hosted.code}", params={"limit": 5, "count": "false"}, headers=headers(key))
    assert r.json()["total"] is None and r.json()["returned"] == 5


def test_verification_answers_booleans_only(client, book, hosted, sz_key, session):
    book.add(
        resource=hosted,
        consumer_id=agency_id(session, "sz-sj"),
        items=["公民身份号码", "姓名", "性别"],
        regions=["320500"],
        verify_only=True,
    )
    person = SUZHOU[0]
    h = headers(sz_key)
    r = client.post(
        f"{GW}/{hosted.code}/verify",
        headers=h,
        json={
            "key_item": "公民身份号码",
            "key_value": person["公民身份号码"],
            "claims": {"姓名": person["姓名"], "性别": "无"},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"found": True, "matches": {"姓名": True, "性别": False}}
    assert person["姓名"] not in r.text and person["公民身份号码"] not in r.text
    call = last_call()
    assert (call.mode, call.rows, call.outcome) == ("verify", 0, "allowed")
    # A Nanjing resident is outside the Suzhou grant's rows: not found.
    nanjing = next(x for x in ALL if x["行政区划代码"] == "320100")
    r = client.post(
        f"{GW}/{hosted.code}/verify",
        headers=h,
        json={"key_item": "公民身份号码", "key_value": nanjing["公民身份号码"], "claims": {"姓名": nanjing["姓名"]}},
    )
    assert r.json() == {"found": False, "matches": {"姓名": False}}
    # A verify-only grant never gives the record.
    r = client.get(f"{GW}/{hosted.code}", headers=h)
    assert r.status_code == 403 and r.json()["code"] == "exchange.gateway.verify_only"
    assert counts() == (3, 3)


def test_subject_digest_is_keyed_and_normalised(app):
    key = app.state.gateway.key
    assert subject_digest(key, " 32050819900101123x ") == subject_digest(key, "32050819900101123X")
    assert subject_digest(key, "32050819900101123X") != subject_digest(b"other", "32050819900101123X")
