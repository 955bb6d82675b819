"""Proxied APIs: the gateway forwards to a real provider node (a local HTTP server) over its pooled
client, projects JSON answers to the granted items, answers verification from the provider's
lookup with booleans only, and turns a provider that is down, slow, huge or garbled into a
recorded 502/504 without stalling."""

from __future__ import annotations

import time
from urllib.parse import unquote

import pytest
from sqlalchemy import update

from govshare.core import clock
from govshare.core.db import transaction
from govshare.exchange.models import ExchangeInterface
from tests.exchange.exchange_helpers import API, publish_entry
from tests.exchange.gateway.gateway_helpers import GW, PURPOSE, agency_id, counts, headers, last_call
from tests.exchange.gateway.upstream_server import PEOPLE, Provider
from tests.live_server import serve

ITEMS = [
    ("公民身份号码", "id_number", "string"),
    ("姓名", "name", "string"),
    ("月收入", "income", "decimal"),
    ("行政区划代码", "region_code", "string"),
]


@pytest.fixture
def provider():  # type: ignore[no-untyped-def]
    app = Provider()
    with serve(app) as url:  # type: ignore[arg-type]
        app.url = url  # type: ignore[attr-defined]
        yield app


@pytest.fixture
def proxied(client, world, session, provider):  # type: ignore[no-untyped-def]
    items = [
        {"name": n, "field_code": c, "data_type": t, "is_personal": n in ("公民身份号码", "姓名")} for n, c, t in ITEMS
    ]
    resource = publish_entry(session, name="低保对象核对接口", provision_method="gateway_api", data_items=items)
    session.commit()
    r = client.post(
        f"{API}/resources/{resource.id}/interface",
        headers=world.h("gat_staff"),
        json={"kind": "proxied_api", "base_url": provider.url, "timeout_ms": 1000, "lookup_path": "/lookup"},
    )
    assert r.status_code == 201, r.text
    return resource


def test_forwarded_and_projected_to_granted_items(client, book, proxied, sz_key, session, provider):
    gid = book.add(resource=proxied, consumer_id=agency_id(session, "sz-sj"), items=["公民身份号码", "姓名"])
    r = client.get(
        f"{GW}/{proxied.code}/persons", params={"id_number": PEOPLE[0]["id_number"]}, headers=headers(sz_key)
    )
    assert r.status_code == 200, r.text
    # Granted items kept (by the provider's field codes), income and uncatalogued values dropped,
    # the envelope's total kept.
    assert r.json() == {"total": 1, "items": [{"id_number": PEOPLE[0]["id_number"], "name": "张三"}]}
    seen = provider.seen[-1]
    assert seen["query"] == "id_number=" + PEOPLE[0]["id_number"]
    assert seen["headers"]["x-govshare-consumer"] == "sz-sj" and seen["headers"]["x-govshare-grant"] == str(gid)
    assert unquote(seen["headers"]["x-govshare-purpose"]) == PURPOSE
    assert "x-api-key" not in seen["headers"]  # the consumer's key stays with the gateway
    call = last_call()
    assert (call.mode, call.outcome, call.rows, call.grant_id) == ("proxy", "allowed", 1, gid)
    assert len(call.subjects) == 1 and PEOPLE[0]["id_number"] not in call.subjects[0]
    # A single object is projected too.
    r = client.get(f"{GW}/{proxied.code}/person", headers=headers(sz_key))
    assert r.json() == {"id_number": PEOPLE[0]["id_number"], "name": "张三"}
    # Both calls went over one kept-alive connection (the same client port at the provider).
    assert provider.seen[-1]["client"] == provider.seen[-2]["client"]


def test_verification_through_the_providers_lookup(client, book, proxied, sz_key, session):
    book.add(
        resource=proxied, consumer_id=agency_id(session, "sz-sj"), items=["公民身份号码", "姓名"], verify_only=True
    )
    h = headers(sz_key)
    r = client.post(
        f"{GW}/{proxied.code}/verify",
        headers=h,
        json={"key_item": "公民身份号码", "key_value": PEOPLE[0]["id_number"], "claims": {"姓名": "张三"}},
    )
    assert r.status_code == 200, r.text
    # The provider sent the record along: none of it passes.
    assert r.json() == {"found": True, "matches": {"姓名": True}}
    r = client.post(
        f"{GW}/{proxied.code}/verify",
        headers=h,
        json={"key_item": "公民身份号码", "key_value": PEOPLE[1]["id_number"], "claims": {"姓名": "张三"}},
    )
    assert r.json() == {"found": True, "matches": {"姓名": False}}
    # Claims on items not granted are refused; the verify-only grant gives no records.
    r = client.post(
        f"{GW}/{proxied.code}/verify",
        headers=h,
        json={"key_item": "公民身份号码", "key_value": PEOPLE[1]["id_number"], "claims": {"月收入": 1}},
    )
    assert r.status_code == 422 and r.json()["code"] == "exchange.query.item_not_allowed"
    assert client.get(f"{GW}/{proxied.code}/persons", headers=h).json()["code"] == "exchange.gateway.verify_only"
    assert counts() == (4, 4)


@pytest.mark.parametrize(
    "path,status,code",
    [
        ("/slow", 504, "exchange.gateway.upstream_timeout"),
        ("/trickle", 504, "exchange.gateway.upstream_timeout"),
        ("/garbage", 502, "exchange.gateway.upstream_garbage"),
        ("/text", 502, "exchange.gateway.upstream_not_json"),
        ("/fail", 502, "exchange.gateway.upstream_error"),
        ("/missing", 404, "exchange.gateway.upstream_refused"),
    ],
)
def test_provider_failures_are_recorded_answers(client, book, proxied, sz_key, session, path, status, code):
    book.add(resource=proxied, consumer_id=agency_id(session, "sz-sj"), items=["公民身份号码", "姓名"])
    started = time.monotonic()
    r = client.get(f"{GW}/{proxied.code}{path}", headers=headers(sz_key))
    assert time.monotonic() - started < 2.5  # the interface's timeout is 1 s
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert (last_call().status, last_call().code, last_call().outcome) == (status, code, "failed")


def test_huge_answer_refused(client, book, proxied, sz_key, session, app):
    book.add(resource=proxied, consumer_id=agency_id(session, "sz-sj"), items=["公民身份号码"])
    app.state.gateway.upstream.max_bytes = 100_000
    r = client.get(f"{GW}/{proxied.code}/huge", headers=headers(sz_key))
    assert r.status_code == 502 and r.json()["code"] == "exchange.gateway.upstream_too_large"


def test_provider_down(client, book, proxied, sz_key, session, provider):
    book.add(resource=proxied, consumer_id=agency_id(session, "sz-sj"), items=["公民身份号码"])
    with transaction() as s:  # a port nobody listens on
        s.execute(
            update(ExchangeInterface)
            .where(ExchangeInterface.resource_id == proxied.id)
            .values(base_url="http://127.0.0.1:9", updated_at=clock.now())
        )
    r = client.get(f"{GW}/{proxied.code}/persons", headers=headers(sz_key))
    assert r.status_code == 502 and r.json()["code"] == "exchange.gateway.upstream_unreachable"
    assert last_call().outcome == "failed"
