"""Refusals are answers: 401/403/404 problem+json with code and article, each recorded as a call
with its event; revoking a key or a grant takes effect at the next cache check."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest

from govshare.core import clock
from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.registry import service as registry_service
from tests.exchange.gateway.gateway_helpers import GW, PURPOSE, agency_id, calls, counts, headers, last_call


def _refused(r, status, code, article=None):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status
    if article:
        assert body["article"] == article
    call = last_call()
    assert (call.status, call.code) == (status, code)
    assert call.outcome == ("refused" if status in (401, 403) else "failed")
    return call


def test_keys(client, book, hosted, sz_key):
    _refused(client.get(f"{GW}/{hosted.code}", headers=headers(None)), 401, "auth.invalid_token")
    call = _refused(client.get(f"{GW}/{hosted.code}", headers=headers("gsk_wrong")), 401, "auth.invalid_token")
    assert call.client_id is None and call.resource_code == hosted.code
    # A person's token is not a machine client's key.
    _refused(client.get(f"{GW}/{hosted.code}", headers=headers("gsp_whatever")), 401, "auth.invalid_token")
    assert counts() == (3, 3)


def test_unknown_resource_and_routes(client, book, hosted, sz_key):
    _refused(client.get(f"{GW}/NOPE", headers=headers(sz_key)), 404, "exchange.gateway.no_interface", "Art 15")
    _refused(client.get(f"{GW}/{hosted.code}/other", headers=headers(sz_key)), 404, "exchange.gateway.route_not_found")
    _refused(client.delete(f"{GW}/{hosted.code}", headers=headers(sz_key)), 404, "exchange.gateway.route_not_found")


@pytest.mark.parametrize(
    "purpose,code",
    [
        (None, "exchange.gateway.purpose_required"),
        ("   ", "exchange.gateway.purpose_required"),
        ("招商引资", "exchange.gateway.purpose_mismatch"),
    ],
)
def test_purpose(client, book, hosted, sz_key, session, purpose, code):
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    _refused(client.get(f"{GW}/{hosted.code}", headers=headers(sz_key, purpose)), 403, code, "Art 17")


def test_purpose_is_percent_decoded_and_trimmed(client, book, hosted, sz_key, session):
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    h = {"X-API-Key": sz_key, "X-Govshare-Purpose": quote("  " + PURPOSE + " ")}
    assert client.get(f"{GW}/{hosted.code}", headers=h).status_code == 200
    h["X-Govshare-Purpose"] = "%FF%FE"
    _refused(client.get(f"{GW}/{hosted.code}", headers=h), 422, "exchange.gateway.purpose_encoding")


def test_purpose_with_nul_is_refused_and_recorded(client, book, hosted, sz_key, session):
    """A percent-encoded NUL in the purpose matches no grant: 403 like any other purpose, recorded
    (as U+FFFD: PostgreSQL text cannot hold NUL), not a 503 for a group that failed to commit."""
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    h = {"X-API-Key": sz_key, "X-Govshare-Purpose": quote(PURPOSE) + "%00"}
    call = _refused(client.get(f"{GW}/{hosted.code}", headers=h), 403, "exchange.gateway.purpose_mismatch", "Art 17")
    assert call.purpose == PURPOSE + "\ufffd"
    assert counts() == (1, 1)


def test_no_grant_or_another_agencys_grant(client, book, hosted, sz_key, session):
    _refused(client.get(f"{GW}/{hosted.code}", headers=headers(sz_key)), 403, "exchange.gateway.no_grant", "Art 17")
    book.add(resource=hosted, consumer_id=agency_id(session, "nj-sj"))
    _refused(client.get(f"{GW}/{hosted.code}", headers=headers(sz_key)), 403, "exchange.gateway.no_grant")


def test_term_state_and_channel(client, book, hosted, sz_key, session):
    today = clock.today()
    consumer = agency_id(session, "sz-sj")
    gid = book.add(resource=hosted, consumer_id=consumer, regions=["320500"], ends_on=today - dt.timedelta(days=1))
    url = f"{GW}/{hosted.code}"
    call = _refused(client.get(url, headers=headers(sz_key)), 403, "exchange.gateway.grant_expired", "Art 17")
    assert call.grant_id is None  # no grant was used
    book.set(gid, starts_on=today + dt.timedelta(days=1), ends_on=today + dt.timedelta(days=30))
    _refused(client.get(url, headers=headers(sz_key)), 403, "exchange.gateway.grant_not_started")
    book.set(gid, starts_on=today, ends_on=today)  # inclusive term: today is in it
    assert client.get(url, headers=headers(sz_key)).status_code == 200
    book.set(gid, state="revoked")
    _refused(client.get(url, headers=headers(sz_key)), 403, "exchange.gateway.grant_revoked")
    book.set(gid, state="pending_signatures")
    _refused(client.get(url, headers=headers(sz_key)), 403, "exchange.gateway.grant_not_signed", "Art 19")
    book.set(gid, state="expired")
    _refused(client.get(url, headers=headers(sz_key)), 403, "exchange.gateway.grant_expired")
    book.set(gid, state="active", channel="off_platform")
    _refused(client.get(url, headers=headers(sz_key)), 403, "exchange.gateway.channel_off_platform", "Art 14(3)")
    assert counts() == (7, 7)


def test_state_secret_needs_a_secrecy_network(client, book, hosted, sz_key, session, app):
    from govshare.catalog.models import CatalogResource

    with transaction() as s:
        s.get(CatalogResource, hosted.id).security_classification = "secret"  # type: ignore[union-attr]
    gid = book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    url = f"{GW}/{hosted.code}"
    _refused(client.get(url, headers=headers(sz_key)), 403, "exchange.gateway.channel_not_secret", "Art 18(2)")
    book.set(gid, channel="secrecy_network")  # the grant says so, but this platform is not one
    _refused(client.get(url, headers=headers(sz_key)), 403, "exchange.gateway.channel_not_secret", "Art 18(2)")
    app.state.gateway.secrecy_network = True
    assert client.get(url, headers=headers(sz_key)).status_code == 200


def test_revoked_key_stops_at_the_next_check(client, book, hosted, session):
    client_row, key = registry_service.add_client(session, "sz-sj", "batch", by=OPERATOR)
    session.commit()
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    assert client.get(f"{GW}/{hosted.code}", headers=headers(key)).status_code == 200
    with transaction() as s:
        registry_service.revoke_client(s, client_row.id, by=OPERATOR)
    _refused(client.get(f"{GW}/{hosted.code}", headers=headers(key)), 401, "auth.invalid_token")


def test_cache_is_not_reloaded_per_call(client, book, hosted, sz_key, session, app):
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    cache = app.state.gateway.cache
    cache.interval = 60.0
    client.get(f"{GW}/{hosted.code}", headers=headers(sz_key))
    reloads = cache.reloads
    for _ in range(5):
        assert client.get(f"{GW}/{hosted.code}", headers=headers(sz_key)).status_code == 200
    assert cache.reloads == reloads
    assert len(calls()) == 6


def test_openapi_of_the_gateway_is_public_and_not_a_call(client):
    r = client.get(f"{GW}/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.1")
    assert set(r.json()["paths"]) >= {"/exchange/v1/{resource_code}", "/exchange/v1/{resource_code}/verify"}
    assert [p["name"] for p in r.json()["paths"]["/exchange/v1/{resource_code}"]["get"]["parameters"]][:3] == [
        "resource_code",
        "X-API-Key",
        "X-Govshare-Purpose",
    ]
    assert counts() == (0, 0)
