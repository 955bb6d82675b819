"""Every call is recorded, under concurrent load too: N calls over real HTTP -> exactly N call
rows and N events, written in fewer groups than calls (group commit), each answered only after
its group committed; a call whose record cannot be committed is answered 503."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlalchemy import func, select

from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.exchange.models import ExchangeCall
from tests.exchange.gateway.gateway_helpers import GW, agency_id, counts, headers
from tests.live_server import serve

N = 300


async def _hammer(url: str, hdrs: dict[str, str], n: int) -> list[int]:
    async with aiohttp.ClientSession() as http:

        async def one(i: int) -> int:
            h = hdrs if i % 5 else {**hdrs, "X-Govshare-Purpose": "other"}  # a fifth are refused
            async with http.get(url, params={"limit": 2, "offset": i % 20}, headers=h) as r:
                await r.read()
                return r.status

        return await asyncio.gather(*(one(i) for i in range(n)))


def test_concurrent_calls_equal_records_and_events(app, book, hosted, sz_key, session):
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    gateway = app.state.gateway
    before = gateway.recorder.batches
    with serve(app) as base:
        statuses = asyncio.run(_hammer(f"{base}{GW}/{hosted.code}", headers(sz_key), N))
    assert sorted(set(statuses)) == [200, 403]
    assert statuses.count(403) == N // 5
    assert counts() == (N, N)
    groups = gateway.recorder.batches - before
    assert groups < N  # calls shared commits
    with transaction() as s:
        # Each call row names its own event, and the events carry the same outcomes.
        linked = s.scalar(
            select(func.count()).select_from(ExchangeCall).join(Event, Event.seq == ExchangeCall.event_seq)
        )
        assert linked == N
        refused = s.scalar(select(func.count()).select_from(ExchangeCall).where(ExchangeCall.outcome == "refused"))
        assert refused == N // 5


def test_unrecorded_call_is_not_delivered(client, app, book, hosted, sz_key, session):
    """The database refuses the record (here: the call table is gone): 503, and no data goes out."""
    from sqlalchemy import text

    from govshare.core.db import get_engine

    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    assert client.get(f"{GW}/{hosted.code}", headers=headers(sz_key)).status_code == 200
    engine = get_engine()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE exchange_call RENAME TO exchange_call_away"))
    try:
        r = client.get(f"{GW}/{hosted.code}", headers=headers(sz_key))
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE exchange_call_away RENAME TO exchange_call"))
    assert r.status_code == 503 and r.json()["code"] == "database.unavailable"
    assert "items" not in r.json()
    assert counts() == (1, 1)  # the failed group's event was rolled back with it


def test_writer_keeps_its_connection_between_groups(client, app, book, hosted, sz_key, session, monkeypatch):
    """Groups in quick succession share the writer's connection (no pool checkout and ping per
    group); after a quiet spell the next group checks one out afresh, and still commits."""
    import threading

    from sqlalchemy import event

    from govshare.core.db import get_engine

    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    recorder = app.state.gateway.recorder
    writer: list[str] = []
    engine = get_engine()

    def on_checkout(*_args: object) -> None:
        if threading.current_thread().name == "govshare-call-recorder":
            writer.append("checkout")

    def call() -> None:
        assert client.get(f"{GW}/{hosted.code}", headers=headers(sz_key)).status_code == 200

    event.listen(engine, "checkout", on_checkout)
    try:
        before = recorder.batches
        for _ in range(6):
            call()
        assert recorder.batches - before == 6  # one group per call: sequential calls
        assert len(writer) <= 1  # six groups, at most one checkout (none if the writer kept one)
        monkeypatch.setattr(recorder, "IDLE_CHECK", -1.0)  # every group now comes after a quiet spell
        checked = len(writer)
        call()
        call()
        assert len(writer) == checked + 2
    finally:
        event.remove(engine, "checkout", on_checkout)
    assert counts() == (8, 8)
