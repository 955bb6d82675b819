"""The demo: `govshare demo load` makes a machine client for the consumer of an active grant, and
its printed curl line's call answers with the granted items of the granted region's rows."""

from __future__ import annotations

from urllib.parse import unquote

from govshare import demo
from govshare.exchange import query
from govshare.sharing.models import SharingGrant
from tests.exchange.gateway.gateway_helpers import GW, counts


def test_demo_client_calls_the_gateway(session, client):
    summary = demo.load(session)
    session.commit()
    g = summary.gateway
    assert g is not None and g.key.startswith("gsk_")
    line = g.curl("http://127.0.0.1:8000")
    assert f"/exchange/v1/{g.resource_code}" in line and g.key in line
    grant = (
        session.query(SharingGrant)
        .filter(SharingGrant.resource_code == g.resource_code, SharingGrant.state == "active")
        .order_by(SharingGrant.id)
        .first()
    )
    scope = set().union(*(query.scope_codes(session, c) for c in grant.region_codes))
    source = query.load_source(session, g.resource_code)
    session.rollback()  # SQLite: a reading transaction holds the write lock the recorder needs
    purpose = line.split("X-Govshare-Purpose: ")[1].split('"')[0]
    r = client.get(
        f"{GW}/{g.resource_code}",
        params={"limit": 50, "items": ",".join(g.items[:3])},
        headers={"X-API-Key": g.key, "X-Govshare-Purpose": purpose},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] > 0 and all(set(row) == set(g.items[:3]) for row in body["items"])
    assert unquote(purpose) == g.purpose
    # Only the granted region's rows: their total is the region-scoped count of the hosted query.
    assert body["total"] == query.query_hosted(source, items=list(g.items[:1]), region_codes=scope).total
    assert body["total"] < source.row_count
    assert counts() == (1, 1)
