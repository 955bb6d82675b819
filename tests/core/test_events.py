"""The event log: one event per state change, in the same transaction, numbered without gaps, each
stored with its RFC 8785 canonical bytes (the ledger's leaves, Art 32 and 34)."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import rfc8785
from fastapi import Depends
from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text

from govshare.core import clock, events
from govshare.core.auth import OPERATOR, Principal, require
from govshare.core.db import SessionDep, transaction
from govshare.core.errors import Conflict
from govshare.core.events import SYSTEM, Actor, Event, event_canonical_bytes
from govshare.registry import service
from govshare.registry.models import Agency
from govshare.registry.rules import make_uscc
from govshare.registry.schemas import AgencyCreate


def all_events() -> list[Event]:
    with transaction() as s:
        return list(s.scalars(select(Event).order_by(Event.seq)).all())


def head() -> int:
    with transaction() as s:
        return int(s.scalar(text("SELECT next_seq FROM event_head WHERE id = 1")))


def assert_gapless() -> list[Event]:
    evs = all_events()
    assert [e.seq for e in evs] == list(range(len(evs)))
    assert head() == len(evs)
    return evs


def assert_canonical(ev: Event) -> None:
    stored = bytes(ev.canonical)
    # The stored bytes are exactly what the columns say, recomputed now.
    assert stored == event_canonical_bytes(ev)
    # ...and valid RFC 8785: parsing and re-canonicalising is the identity,
    parsed = json.loads(stored)
    assert rfc8785.dumps(parsed) == stored
    # ...which for this content means sorted keys, no insignificant whitespace, raw UTF-8.
    assert stored == json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert parsed["seq"] == ev.seq and parsed["action"] == ev.action
    assert parsed["subject"] == {"type": ev.subject_type, "id": ev.subject_id}
    assert parsed["time"].endswith("Z")


def _agency(code: str, n: int, region: str = "320000") -> AgencyCreate:
    return AgencyCreate(
        code=code, uscc=make_uscc("1", "1", region, f"{50000000 + n:08d}"), name="测试机关", region_code=region
    )


def test_api_actions_append_gapless_canonical_events(client, world):
    h = world.h("province_authority")
    start = len(assert_gapless())
    assert start > 0  # the world was built through the services, with their events

    ok = [
        client.post(
            "/api/v1/agencies",
            headers=h,
            json={"code": "js-ev", "uscc": "91350100M000100Y43", "name": "事件测试厅", "region_code": "320000"},
        ),
        client.patch(
            "/api/v1/agencies/js-ev", headers=h, json={"responsible_unit": "信息处", "responsible_person": "吴"}
        ),
        client.post("/api/v1/agencies/js-ev/clients", headers=h, json={"name": "sys"}),
        client.post("/api/v1/regions", headers=h, json={"code": "320506", "name": "吴中区", "parent_code": "320500"}),
        client.post(
            "/api/v1/people",
            headers=h,
            json={
                "username": "ev_staff",
                "display_name": "事件",
                "grants": [{"role": "agency_staff", "agency_code": "js-ev"}],
            },
        ),
        client.post("/api/v1/people/ev_staff/grants", headers=h, json={"role": "supervisor", "region_code": "320506"}),
        client.post("/api/v1/me/tokens", headers=h),
    ]
    assert [r.status_code for r in ok] == [201, 200, 201, 201, 201, 201, 201], [r.text for r in ok]
    client_id = ok[2].json()["id"]
    # Failures in between must not consume numbers.
    failed = [
        client.post(
            "/api/v1/agencies",
            headers=h,
            json={"code": "js-ev2", "uscc": "91350100M000100Y43", "name": "重复", "region_code": "320000"},
        ),  # 409
        client.patch("/api/v1/agencies/js-ev", headers=world.h("suzhou_authority"), json={"name_en": "x"}),  # 403
        client.post(
            "/api/v1/agencies",
            headers=h,
            json={
                "code": "js-dsj2",
                "uscc": make_uscc("1", "1", "320000", "77777777"),
                "name": "第二主管",
                "region_code": "320000",
                "is_authority": True,
            },
        ),
    ]
    assert [r.status_code for r in failed] == [409, 403, 409]
    assert client.post(f"/api/v1/clients/{client_id}/revoke", headers=h).status_code == 200

    evs = assert_gapless()
    new = evs[start:]
    assert [e.action for e in new] == [
        "registry.agency.created",
        "registry.agency.updated",
        "registry.client.created",
        "registry.region.created",
        "registry.person.created",
        "registry.role.granted",
        "registry.role.granted",
        "registry.token.issued",
        "registry.client.revoked",
    ]
    with transaction() as s:
        prov_id = s.scalar(text("SELECT id FROM person WHERE username = 'prov_auth'"))
    assert {e.actor for e in new} == {f"person:{prov_id}"}
    assert {e.actor_name for e in new} == {"prov_auth"}
    times = [e.occurred_at for e in evs]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    for ev in evs:
        assert_canonical(ev)


def test_canonical_bytes_of_awkward_data(session):
    with clock.frozen(dt.datetime(2026, 11, 26, 8, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))):
        ev = events.record(
            session,
            actor=Actor("person", 7, "王明"),
            action="test.awkward",
            subject_type="thing",
            subject_id=42,
            region_code="320500",
            agency_code="sz-sj",
            data={
                "z": 1,
                "a": {"中": "文", "b": [3, 2, 1]},
                "when": dt.date(2026, 1, 2),
                "tags": {"b", "a"},
                "ratio": 2.0,
                "half": 0.5,
                "quote": 'say "hi"\n',
                "none": None,
                "safe": 2**53 - 1,
                "big": 2**53,
                "negative_big": -(2**64),
                "nan": float("nan"),
                "inf": float("-inf"),
            },
        )
        session.commit()  # the event is stamped when it is numbered, at the flush
    assert ev.subject_id == "42"
    (stored,) = all_events()
    assert_canonical(stored)
    parsed = json.loads(stored.canonical)
    assert parsed["time"] == "2026-11-26T00:30:15.123456Z"  # stored in UTC
    assert parsed["data"]["tags"] == ["a", "b"] and parsed["data"]["when"] == "2026-01-02"
    assert parsed["data"]["ratio"] == 2 and parsed["data"]["half"] == 0.5
    # Numbers JSON cannot carry exactly become text rather than failing the action.
    assert parsed["data"]["safe"] == 2**53 - 1
    assert parsed["data"]["big"] == str(2**53) and parsed["data"]["negative_big"] == str(-(2**64))
    assert parsed["data"]["nan"] == "nan" and parsed["data"]["inf"] == "-inf"
    assert stored.data == parsed["data"]  # the data column holds the same values as the leaf
    assert b'"actor":"person:7","actor_name":"\xe7\x8e\x8b\xe6\x98\x8e"' in bytes(stored.canonical)
    assert bytes(stored.canonical).startswith(b'{"action":"test.awkward","actor":')
    # Changing any column changes the recomputed bytes: the stored canonical form pins them all.
    for column, value in [
        ("actor_name", "李四"),
        ("region_code", "320100"),
        ("data", {"z": 2}),
        ("occurred_at", stored.occurred_at + dt.timedelta(microseconds=1)),
    ]:
        original = getattr(stored, column)
        setattr(stored, column, value)
        assert event_canonical_bytes(stored) != bytes(stored.canonical), column
        setattr(stored, column, original)


def test_a_failed_action_leaves_neither_change_nor_event(world):
    before = assert_gapless()
    rolled_back_seq = len(before)
    with pytest.raises(RuntimeError), transaction() as s:
        agency = service.create_agency(s, _agency("js-doomed", 1), by=OPERATOR)
        ev = s.scalars(select(Event).where(Event.subject_id == "js-doomed")).one()
        assert ev.seq == rolled_back_seq and agency.id is not None  # both were written...
        raise RuntimeError("second step failed")  # ...then the second step fails
    with transaction() as s:
        assert s.scalar(select(Agency).where(Agency.code == "js-doomed")) is None
        assert s.scalar(select(func.count(Event.seq)).where(Event.subject_id == "js-doomed")) == 0
    assert len(assert_gapless()) == len(before)
    # The number rolled back is the next one handed out.
    with transaction() as s:
        service.create_agency(s, _agency("js-next", 2), by=OPERATOR)
    evs = assert_gapless()
    assert evs[-1].seq == rolled_back_seq and evs[-1].subject_id == "js-next"


def test_a_request_that_fails_after_recording_rolls_back(app, client, world):
    """The request's session: a DomainError raised after the service flushed undoes both rows."""

    @app.post("/api/v1/_test/half_done", dependencies=[Depends(require("authority"))])
    def half_done(session: SessionDep) -> None:
        service.create_agency(session, _agency("js-half", 3), by=OPERATOR)
        raise Conflict("test.second_step", "第二步失败", "Second step failed")

    before = assert_gapless()
    r = client.post("/api/v1/_test/half_done", headers=world.h("province_authority"))
    assert r.status_code == 409 and r.json()["code"] == "test.second_step"
    assert client.get("/api/v1/agencies/js-half").status_code == 404
    assert len(assert_gapless()) == len(before)


def test_record_never_commits(session):
    events.record(session, actor=SYSTEM, action="test.uncommitted", subject_type="t", subject_id=1)
    session.flush()
    session.rollback()
    assert all_events() == [] and head() == 0


def test_events_are_numbered_at_the_flush_in_record_order_with_one_counter_update(session):
    """Recording writes nothing; the flush numbers every pending event in the order recorded,
    with one UPDATE of the counter, and stamps them with the time taken under its lock."""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = session.get_bind()
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        recorded = [
            events.record(session, actor=SYSTEM, action="test.batch", subject_type="t", subject_id=i) for i in range(25)
        ]
        assert statements == [] and all(ev.seq is None and ev.canonical is None for ev in recorded)
        with clock.frozen(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)):
            session.flush()
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    assert [ev.seq for ev in recorded] == list(range(25))
    assert sum("event_head" in s for s in statements) == 1
    assert {ev.occurred_at for ev in recorded} == {dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)}
    # More events later in the same transaction continue the numbering.
    later = events.record(session, actor=SYSTEM, action="test.batch", subject_type="t", subject_id="later")
    session.commit()
    assert later.seq == 25
    for ev in assert_gapless():
        assert_canonical(ev)


def test_events_of_a_rolled_back_savepoint_leave_no_gap(session):
    """Both ways a savepoint can lose events: rolled back before they were flushed, and after."""
    events.record(session, actor=SYSTEM, action="test.kept", subject_type="t", subject_id="a")
    with pytest.raises(_Rollback), session.begin_nested():
        events.record(session, actor=SYSTEM, action="test.lost", subject_type="t", subject_id="unflushed")
        raise _Rollback
    with pytest.raises(_Rollback), session.begin_nested():
        events.record(session, actor=SYSTEM, action="test.lost", subject_type="t", subject_id="flushed")
        session.flush()
        raise _Rollback
    events.record(session, actor=SYSTEM, action="test.kept", subject_type="t", subject_id="b")
    session.commit()
    evs = assert_gapless()
    assert [(e.seq, e.subject_id) for e in evs] == [(0, "a"), (1, "b")]


def test_events_follow_nested_savepoints(session):
    """Events recorded in a released savepoint stay, in record order, with those around it; an inner
    savepoint rolled back inside a released one takes only its own events."""

    def rec(name: str) -> events.Recorded:
        return events.record(session, actor=SYSTEM, action="test.nested", subject_type="t", subject_id=name)

    recorded = [rec("before")]
    with session.begin_nested():
        recorded.append(rec("outer-1"))
        with pytest.raises(_Rollback), session.begin_nested():
            rec("inner-lost")
            raise _Rollback
        recorded.append(rec("outer-2"))
    recorded.append(rec("after"))
    session.commit()
    evs = assert_gapless()
    assert [e.subject_id for e in evs] == ["before", "outer-1", "outer-2", "after"]
    assert [r.seq for r in recorded] == [0, 1, 2, 3]
    assert [bytes(e.canonical) for e in evs] == [r.canonical for r in recorded]


def _principal_for(username: str) -> Principal:
    with transaction() as s:
        return service.principal_for_person(s, service.get_person(s, username), via="token")


@pytest.mark.parametrize(("threads", "per_thread"), [(8, 50)])
def test_concurrent_writers_keep_the_sequence_gapless_and_ordered(threads, per_thread):
    """N threads, each transaction in its own session recording one or two events; every fifth
    rolls back. Committed events must be numbered exactly 0..k-1, in time order, and the events of
    one transaction must be adjacent. (SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL
    queues them on the event_head row lock, taken at their flush.)"""
    errors: list[BaseException] = []
    committed: list[tuple[str, ...]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                subjects = tuple(f"{t}-{i}-{k}" for k in range(1 + (i % 2)))
                try:
                    with transaction() as s:
                        for subject in subjects:
                            events.record(
                                s,
                                actor=Actor("system", t, f"worker {t}"),
                                action="test.concurrent",
                                subject_type="test",
                                subject_id=subject,
                            )
                        if i % 5 == 4:
                            raise _Rollback
                except _Rollback:
                    continue
                with lock:
                    committed.append(subjects)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=300)
    assert not errors, errors
    assert not any(th.is_alive() for th in pool)

    evs = assert_gapless()
    expected = sum(len(c) for c in committed)
    assert len(evs) == expected == threads * sum(1 + (i % 2) for i in range(per_thread) if i % 5 != 4)
    assert len({e.subject_id for e in evs}) == len(evs)
    times = [e.occurred_at for e in evs]
    assert all(a <= b for a, b in zip(times, times[1:], strict=False)), "occurred_at must not go back in seq order"
    by_subject = {e.subject_id: e.seq for e in evs}
    for subjects in committed:
        seqs = [by_subject[s] for s in subjects]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a transaction's events are adjacent"
    for ev in evs[:: max(1, len(evs) // 50)]:
        assert_canonical(ev)


class _Rollback(Exception):
    pass


def test_a_large_flush_writes_the_same_rows(session):
    """From ``events._COPY_FROM`` events in one flush PostgreSQL gets them by COPY: the rows, their
    numbers, data and canonical bytes are what the INSERT path writes (SQLite keeps the INSERT)."""
    n = events._COPY_FROM + 5
    recorded = [
        events.record(
            session,
            actor=Actor("client", 7, "sz-sj/系统"),
            action="test.bulk",
            subject_type="thing",
            subject_id=i,
            region_code="320500",
            agency_code="sz-sj",
            data={"i": i, "名称": "数据共享", "nested": {"b": [1, 2.5, None, True]}, "quote": '"\\'},
        )
        for i in range(n)
    ]
    session.commit()
    rows = all_events()
    assert [e.seq for e in rows] == list(range(n)) == [r.seq for r in recorded]
    for ev, rec in zip(rows, recorded, strict=True):
        assert ev.data == rec.data and ev.data["名称"] == "数据共享"
        assert ev.canonical == rec.canonical == event_canonical_bytes(ev)
        assert ev.occurred_at == rec.occurred_at and ev.actor == "client:7" and ev.actor_name == "sz-sj/系统"
    assert head() == n
