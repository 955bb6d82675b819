"""The demo's proxied provider: the platform serves it itself (``/demo-provider`` of the same app),
``govshare demo load`` attaches it to 市场主体登记信息 with an active grant, and the printed second
curl line, sent to a real server of the whole app, answers through the gateway with only the
granted items of the provider's answer."""

from __future__ import annotations

from urllib.parse import unquote

import httpx
import pytest

from govshare import demo
from govshare.core import identifiers
from govshare.exchange import demo_provider
from govshare.exchange.config import reset_exchange_settings
from govshare.sharing.models import SharingGrant
from tests.exchange.gateway.gateway_helpers import counts, last_call
from tests.live_server import serve


def test_generated_enterprises_carry_valid_credit_codes():
    rows = demo_provider.enterprises()
    assert len(rows) == demo_provider.COUNT == len({r["uscc"] for r in rows})
    assert all(identifiers.uscc_reason(r["uscc"]) is None for r in rows)


@pytest.fixture
def live(monkeypatch):  # type: ignore[no-untyped-def]
    from govshare.app import create_app

    app = create_app()
    with serve(app) as url:
        monkeypatch.setenv("GOVSHARE_DEMO_PROVIDER_URL", url + demo_provider.PATH)
        reset_exchange_settings()
        try:
            yield url
        finally:
            monkeypatch.undo()
            reset_exchange_settings()


def test_demo_proxied_resource_answers_through_the_gateway(session, live):
    summary = demo.load(session)
    session.commit()
    p, g = summary.provider, summary.gateway
    assert p is not None and g is not None and g.agency_code == p.consumer_code
    grant = session.query(SharingGrant).filter(SharingGrant.resource_code == p.resource_code).one()
    assert grant.state == "active" and set(grant.items) == set(demo_provider.GRANTED_ITEMS)
    session.close()  # SQLite: no reading transaction may hold the lock the recorder needs

    line = p.curl(live, g.key)
    assert f"{live}/exchange/v1/{p.resource_code}/enterprises" in line and g.key in line
    purpose = line.split("X-Govshare-Purpose: ")[1].split('"')[0]
    assert unquote(purpose) == p.purpose

    # The provider itself (same server) answers more than the grant allows ...
    direct = httpx.get(f"{live}{demo_provider.PATH}/enterprises", params={"uscc": p.sample_uscc}).json()
    assert direct["items"][0]["legal_representative"] and direct["items"][0]["internal_note"]

    # ... the gateway passes on only the granted items, by the provider's keys.
    r = httpx.get(
        f"{live}/exchange/v1/{p.resource_code}/enterprises",
        params={"uscc": p.sample_uscc},
        headers={"X-API-Key": g.key, "X-Govshare-Purpose": purpose},
        timeout=20,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1
    (row,) = body["items"]
    assert row == {
        k: v for k, v in direct["items"][0].items() if k in {"uscc", "name", "established_on", "status", "address"}
    }
    call = last_call()
    assert (call.mode, call.outcome, call.grant_id, call.rows) == ("proxy", "allowed", grant.id, 1)
    assert len(call.subjects) == 1 and p.sample_uscc not in call.subjects[0]

    # Verification (核验) through the provider's declared lookup: booleans only, never the record.
    r = httpx.post(
        f"{live}/exchange/v1/{p.resource_code}/verify",
        json={
            "key_item": "统一社会信用代码",
            "key_value": p.sample_uscc,
            "claims": {"企业名称": row["name"], "登记状态": "吊销x"},
        },
        headers={"X-API-Key": g.key, "X-Govshare-Purpose": purpose},
        timeout=20,
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"found": True, "matches": {"企业名称": True, "登记状态": False}}
    assert counts() == (2, 2)


def test_printed_lines_name_the_port_make_run_serves(monkeypatch):
    """`make run PORT=8017` passes the provider's address with its port; the printed sign-in and
    curl lines follow it instead of a fixed 8000."""
    from govshare import demo
    from govshare.exchange.config import get_exchange_settings

    monkeypatch.setenv("GOVSHARE_DEMO_PROVIDER_URL", "http://127.0.0.1:8017/demo-provider")
    get_exchange_settings.cache_clear()
    try:
        assert demo.platform_base() == "http://127.0.0.1:8017"
    finally:
        monkeypatch.delenv("GOVSHARE_DEMO_PROVIDER_URL")
        get_exchange_settings.cache_clear()
    assert demo.platform_base() == "http://127.0.0.1:8000"
