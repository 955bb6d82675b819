"""Supervisor pages: browsing the ledger by agency, subject, action, person and time, region-scoped,
and each event's inclusion proof against the latest checkpoint (Art 32, 34)."""

from __future__ import annotations

import base64
import datetime as dt
import re

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session

from govshare.core import clock, events
from govshare.core.events import Actor, Event
from govshare.registry import service as registry_service

HTML = {"Accept": "text/html"}


def h(world, who: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**world.h(who), **HTML}


def seqs(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'href="/supervision/ledger/events/(\d+)"', page)]


def add(session: Session) -> dict[str, int]:
    """Events on three days in Suzhou and Nanjing, by two people; returns their sequence numbers."""
    gat = registry_service.get_person(session, "gat_staff")
    out = {}
    days = [dt.datetime(2026, 3, d, 2, 0, tzinfo=dt.UTC) for d in (2, 3, 4)]
    specs = [
        ("sz_publish", days[0], "catalog.resource.published", "resource", "R-1", "320500", "sz-sj", None),
        ("sz_update", days[1], "catalog.resource.updated", "resource", "R-1", "320500", "sz-sj", gat),
        ("nj_request", days[1], "sharing.request.created", "request", "Q-9", "320100", "nj-sj", gat),
        ("gusu_call", days[2], "exchange.call", "interface", "I-3", "320508", None, None),
    ]
    for name, when, action, stype, sid, region, agency, person in specs:
        with clock.frozen(when):
            actor = Actor("person", person.id, person.display_name) if person else events.SYSTEM
            ev = events.record(
                session,
                actor=actor,
                action=action,
                subject_type=stype,
                subject_id=sid,
                region_code=region,
                agency_code=agency,
                data={"rows": 3},
            )
            session.flush()  # numbered and stamped at the flush
        out[name] = ev.seq
    session.commit()
    return out


def test_browse_filters_and_scope(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    ids = add(session)
    for who in ("supervisor", "suzhou_authority"):  # the console leads there
        assert 'href="/supervision/ledger"' in client.get("/console", headers=h(world, who)).text
    page = client.get("/supervision/ledger", headers=h(world, "supervisor"))
    assert page.status_code == 200 and '<meta charset="utf-8">' in page.text
    all_seqs = seqs(page.text)
    assert set(ids.values()) <= set(all_seqs) and all_seqs == sorted(all_seqs, reverse=True)

    def find(**params) -> set[int]:  # type: ignore[no-untyped-def]
        params.setdefault("until", "2026-03-31")  # leave out the world's own events (made today)
        r = client.get("/supervision/ledger", params=params, headers=h(world, "supervisor"))
        assert r.status_code == 200, r.text
        return set(seqs(r.text))

    assert find(agency="sz-sj") == {ids["sz_publish"], ids["sz_update"]}
    assert find(subject_type="resource", subject_id="R-1") == {ids["sz_publish"], ids["sz_update"]}
    assert find(action="catalog.") == {ids["sz_publish"], ids["sz_update"]}
    assert find(actor="gat_staff") == {ids["sz_update"], ids["nj_request"]}
    assert find(since="2026-03-03", until="2026-03-03") == {ids["sz_update"], ids["nj_request"]}
    assert find(since="2026-03-04", action="exchange") == {ids["gusu_call"]}

    r = client.get("/supervision/ledger", params={"since": "03/02/2026"}, headers=h(world, "supervisor"))
    assert r.status_code == 200 and "YYYY-MM-DD" in r.text and 'aria-invalid="true"' in r.text
    r = client.get("/supervision/ledger", params={"actor": "nobody"}, headers=h(world, "supervisor"))
    assert r.status_code == 200 and 'aria-invalid="true"' in r.text

    # Suzhou's authority sees Suzhou and Gusu, not Nanjing, nor events without a region.
    in_suzhou = set(
        session.scalars(
            select(Event.seq).where(
                or_(
                    Event.region_code.in_(["320500", "320508"]),
                    and_(Event.region_code.is_(None), Event.agency_code.in_(["sz-sj", "sz-dsj"])),
                )
            )
        )
    )
    session.rollback()  # SQLite: one writer at a time, and the test session would hold the lock
    assert {ids["sz_publish"], ids["sz_update"], ids["gusu_call"]} <= in_suzhou
    sz = client.get("/supervision/ledger", headers=h(world, "suzhou_authority"))
    assert set(seqs(sz.text)) == in_suzhou
    r = client.get(f"/supervision/ledger/events/{ids['nj_request']}", headers=h(world, "suzhou_authority"))
    assert r.status_code == 403 and "text/html" in r.headers["content-type"]
    agency_only = events.record(
        session,
        actor=events.SYSTEM,
        action="test.agency_only",
        subject_type="thing",
        subject_id="x",
        agency_code="nj-sj",
    )
    session.commit()
    r = client.get(f"/supervision/ledger/events/{agency_only.seq}", headers=h(world, "suzhou_authority"))
    assert r.status_code == 403
    r = client.get(f"/supervision/ledger/events/{agency_only.seq}", headers=h(world, "nanjing_authority"))
    assert r.status_code == 200
    assert client.get("/supervision/ledger", headers=h(world, "gat_admin")).status_code == 403
    anonymous = client.get("/supervision/ledger", headers=HTML, follow_redirects=False)
    assert anonymous.status_code in (302, 303, 307) and "/login" in anonymous.headers["location"]


def test_pagination_with_the_before_cursor(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    for i in range(120):
        events.record(
            session, actor=events.SYSTEM, action="test.page", subject_type="thing", subject_id=i, region_code="320500"
        )
    session.commit()
    seen: list[int] = []
    url = "/supervision/ledger?action=test.page"
    while url:
        r = client.get(url, headers=h(world, "supervisor"))
        page = seqs(r.text)
        assert len(page) <= 50
        seen += page
        more = re.search(r'href="([^"]*before=\d+[^"]*)" rel="next"', r.text)
        url = more.group(1).replace("&amp;", "&") if more else ""
    assert len(seen) == 120 and seen == sorted(seen, reverse=True) and len(set(seen)) == 120


def test_event_page_shows_a_verified_inclusion_proof(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    ids = add(session)
    seq = ids["sz_update"]
    before = client.get(f"/supervision/ledger/events/{seq}", headers=h(world, "suzhou_authority"))
    assert before.status_code == 200 and "尚未纳入已签发的检查点" in before.text

    assert client.post("/api/v1/ledger/checkpoint", headers=world.h("supervisor")).status_code == 201
    size = int(client.get("/api/v1/ledger/checkpoint").text.split("\n")[1])
    r = client.get(f"/supervision/ledger/events/{seq}", headers=h(world, "suzhou_authority"))
    assert r.status_code == 200
    assert 'id="proof-result"' in r.text and "已核验" in r.text
    proof = client.get("/api/v1/ledger/proof/inclusion", params={"index": seq, "tree_size": size}).json()
    for b64 in proof["path"]:
        assert base64.b64decode(b64).hex() in r.text
    en = client.get(f"/supervision/ledger/events/{seq}?lang=en", headers=h(world, "suzhou_authority"))
    assert "Verified: this event is included" in en.text

    # A tampered tree node makes the proof fail against the signed root: the page says so.
    session.execute(
        text("UPDATE ledger_node SET hash = :h WHERE level = 0 AND idx = :i"), {"h": b"\x09" * 32, "i": seq ^ 1}
    )
    session.commit()
    bad = client.get(f"/supervision/ledger/events/{seq}?lang=zh", headers=h(world, "suzhou_authority"))
    assert bad.status_code == 200 and "核验失败" in bad.text and "已核验" not in bad.text
