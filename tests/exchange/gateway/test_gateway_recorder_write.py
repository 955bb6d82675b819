"""The recorder's group write, on each database: every call row names its own event, the event's
stored canonical bytes are the ones recomputed from its columns (what the ledger hashes), each
subject index row names its call's event, and text a caller chose cannot fail a group."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from govshare.core import clock
from govshare.core.db import transaction
from govshare.core.events import Event, EventHead, event_canonical_bytes
from govshare.exchange.gateway.recorder import ACTION, CallRecord, Recorder, subject_digests
from govshare.exchange.models import ExchangeCall, ExchangeCallSubject

KEY = b"test-subject-key"


def _record(i: int, **extra: object) -> CallRecord:
    fields: dict[str, object] = {
        "resource_code": f"R{i}",
        "mode": "proxy",
        "outcome": "allowed" if i % 2 else "refused",
        "status": 200 if i % 2 else 403,
        "latency_ms": 1.5 + i,
        "sha256": f"{i:064x}",
        "bytes": 100 * i,
        "rows": i,
        "client_id": 7,
        "client_name": "客户端",
        "consumer_id": 2,
        "consumer_code": "sz-sj",
        "consumer_region": "320500",
        "provider_id": 3,
        "resource_id": 4,
        "grant_id": 5 if i % 2 else None,
        "purpose": "最低生活保障资格审核",
        "subjects": subject_digests(KEY, [f"32050819900307{i:03d}X", "91320000000000000X"]),
    }
    fields.update(extra)
    return CallRecord(**fields)  # type: ignore[arg-type]


def _written() -> tuple[list[ExchangeCall], dict[int, Event], list[ExchangeCallSubject]]:
    with transaction() as s:
        calls = list(s.scalars(select(ExchangeCall).order_by(ExchangeCall.event_seq)))
        evs = {e.seq: e for e in s.scalars(select(Event).where(Event.action == ACTION))}
        subjects = list(s.scalars(select(ExchangeCallSubject)))
        s.expunge_all()
    return calls, evs, subjects


def test_group_rows_name_their_events_and_events_verify():
    clock.set_now(dt.datetime(2026, 12, 1, 2, 3, 4, 567890, tzinfo=dt.UTC))
    recorder = Recorder()
    try:
        first = [_record(i) for i in range(5)]
        recorder.write(first)
        second = [_record(i) for i in range(5, 8)]
        recorder.write(second)
    finally:
        recorder._close()
    records = first + second
    assert [r.event_seq for r in records] == list(range(8))  # numbered in order, across groups

    calls, evs, subjects = _written()
    assert len(calls) == len(evs) == 8
    for rec, call in zip(records, calls, strict=True):
        ev = evs[call.event_seq]
        assert call.event_seq == rec.event_seq
        assert (call.resource_code, call.outcome, call.status, call.grant_id) == (
            rec.resource_code,
            rec.outcome,
            rec.status,
            rec.grant_id,
        )
        assert call.subjects == rec.subjects
        assert ev.data == rec.event_data()
        assert ev.canonical == event_canonical_bytes(ev)  # the ledger's leaf, recomputable
        assert ev.occurred_at == clock.now()
        assert ev.subject_type == ("sharing_grant" if rec.grant_id else "resource")
    # One index row per distinct digest and call, naming that call's event.
    assert sorted((s.digest, s.event_seq) for s in subjects) == sorted(
        (bytes.fromhex(d), r.event_seq) for r in records for d in set(r.subjects)
    )
    # The ledger takes them in and its full verification (which compares the stored data text and
    # canonical bytes with what it recomputes) finds nothing wrong.
    from govshare.supervision import service as ledger
    from govshare.supervision import verify as ledger_verify

    with transaction() as s:
        ledger.integrate(s)
    report = ledger_verify.verify(chunk=4, jobs=1)
    assert report.ok and report.tree_size == 8, [str(p) for p in report.problems]


def test_nul_in_callers_text_does_not_fail_the_group():
    """A percent-encoded purpose or path can carry NUL, which PostgreSQL text cannot hold: it is
    recorded as U+FFFD, and the calls sharing its group are recorded too."""
    recorder = Recorder()
    try:
        group = [_record(1), _record(2, purpose="低保\x00审核", resource_code="R\x002"), _record(3)]
        recorder.write(group)
    finally:
        recorder._close()
    calls, evs, _ = _written()
    assert len(calls) == len(evs) == 3
    odd = calls[1]
    assert odd.purpose == "低保\ufffd审核" and odd.resource_code == "R\ufffd2"
    assert evs[odd.event_seq].data["purpose"] == "低保\ufffd审核"


def test_group_without_counter_row_creates_it():
    """A database built without the migrations' seed row: the first group creates the counter
    (as any first event does) instead of failing every call."""
    with transaction() as s:
        s.execute(delete(EventHead))
    recorder = Recorder()
    try:
        group = [_record(1), _record(2)]
        recorder.write(group)
    finally:
        recorder._close()
    assert [r.event_seq for r in group] == [0, 1]
    calls, evs, _ = _written()
    assert [c.event_seq for c in calls] == [0, 1] and sorted(evs) == [0, 1]
    with transaction() as s:
        assert s.scalar(select(EventHead.next_seq)) == 2


def test_escaped_text_and_data_outside_the_fast_path_verify():
    """The canonical text is joined around the number on the server: text that JSON escapes
    (quotes, backslashes, control characters, characters beyond the BMP) must come out as the
    canonical form writes it, as must an integer beyond 2^53 (which the event data holds as text)."""
    clock.set_now(dt.datetime(2026, 12, 1, 2, 3, 4, tzinfo=dt.UTC))  # no microseconds: "…:04Z"
    recorder = Recorder()
    try:
        recorder.write([_record(1, purpose='引号"\\反斜杠\n\t\x01 😀', consumer_region=None), _record(2)])
        recorder.write([_record(3, bytes=2**60), _record(4)])
    finally:
        recorder._close()
    calls, evs, _ = _written()
    assert len(calls) == len(evs) == 4
    for ev in evs.values():
        assert ev.canonical == event_canonical_bytes(ev)
    assert b'"time":"2026-12-01T02:03:04Z"' in evs[0].canonical
    assert evs[0].data["purpose"] == '引号"\\反斜杠\n\t\x01 😀' and evs[0].region_code is None
    assert evs[2].data["bytes"] == str(2**60)
    from govshare.supervision import service as ledger
    from govshare.supervision import verify as ledger_verify

    with transaction() as s:
        ledger.integrate(s)
    report = ledger_verify.verify(chunk=4, jobs=1)
    assert report.ok and report.tree_size == 4, [str(p) for p in report.problems]


def test_event_data_outside_the_fast_path_is_left_to_the_generic_path():
    """The one-statement path needs each event's canonical text before its number; data the fast
    path does not cover (a float, say) makes the group take ``events.append``'s exact path."""
    from govshare.core import events
    from govshare.exchange.gateway import recorder as rec_module

    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    plain = events.new_recorded(actor=events.SYSTEM, action=ACTION, subject_type="resource", subject_id="R", data={})
    odd = events.new_recorded(
        actor=events.SYSTEM, action=ACTION, subject_type="resource", subject_id="R", data={"ratio": 1.5}
    )
    assert rec_module._group_rows([_record(1)], [plain], now) is not None
    assert rec_module._group_rows([_record(1), _record(2)], [plain, odd], now) is None
