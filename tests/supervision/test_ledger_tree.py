"""The stored ledger tree: integration, checkpoints, proofs from the store, canonical bytes (Art 32)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import stat
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from govshare.core import canonical, clock, events
from govshare.core.config import get_settings, reset_settings
from govshare.core.db import get_engine
from govshare.supervision import merkle, note, service
from govshare.supervision import verify as ledger_verify
from govshare.supervision.models import LedgerCheckpoint, LedgerNode


@pytest.fixture
def ledger_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def apply(**values: object) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"GOVSHARE_{key.upper()}", str(value))
        reset_settings()

    yield apply
    monkeypatch.undo()
    reset_settings()


def record(session: Session, n: int, *, start: int = 0, region: str | None = "320500") -> None:
    """Append ``n`` events and commit (SQLite allows one writer: the test session is the writer)."""
    for i in range(start, start + n):
        events.record(
            session,
            actor=events.SYSTEM,
            action="test.ledger",
            subject_type="thing",
            subject_id=i,
            data={"i": i, "name": f"事项{i}"},
            region_code=region,
        )
    session.commit()


def canonicals(session: Session) -> list[bytes]:
    return [bytes(c) for c in session.scalars(select(events.Event.canonical).order_by(events.Event.seq))]


def stored_nodes(session: Session) -> dict[tuple[int, int], bytes]:
    return {(n.level, n.idx): n.hash for n in session.scalars(select(LedgerNode))}


def expected_nodes(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    tree = merkle.MemoryTree(leaves)
    out = {}
    level = 0
    while True:
        count = tree.size >> level
        if count == 0:
            break
        for i in range(count):
            out[(level, i)] = tree.subtree_hash(level, i)
        level += 1
    return out


def test_integrate_stores_every_perfect_subtree_of_the_rfc9162_tree(session: Session) -> None:
    record(session, 23)
    result = service.integrate(session)
    session.commit()
    assert (result.old_size, result.new_size, result.gap_at) == (0, 23, None)
    data = canonicals(session)
    reference = InmemoryTree(algorithm="sha256")  # an independent RFC 9162 implementation
    for item in data:
        reference.append_entry(item)
    assert result.root == reference.get_root(23)
    assert stored_nodes(session) == expected_nodes([merkle.leaf_hash(d) for d in data])
    assert service.integrated_size(session) == 23
    for n in range(24):
        assert service.root_at(session, n) == reference.get_root(n)
    again = service.integrate(session)
    assert again.added == 0 and again.root == result.root


def test_integration_in_batches_and_limits_gives_the_same_tree(session: Session) -> None:
    record(session, 13)
    sizes = []
    for _ in range(4):
        result = service.integrate(session, limit=4, batch=3)
        session.commit()
        sizes.append(result.new_size)
    assert sizes == [4, 8, 12, 13]
    leaves = [merkle.leaf_hash(d) for d in canonicals(session)]
    assert stored_nodes(session) == expected_nodes(leaves)
    record(session, 6, start=13)
    service.integrate(session, batch=4)
    session.commit()
    leaves = [merkle.leaf_hash(d) for d in canonicals(session)]
    assert len(leaves) == 19
    assert stored_nodes(session) == expected_nodes(leaves)


def test_checkpoint_every_n_events_and_on_demand(session: Session, ledger_env) -> None:  # type: ignore[no-untyped-def]
    ledger_env(ledger_checkpoint_every_events=5)
    record(session, 12)
    result = service.integrate(session, batch=4)
    assert result.checkpoints == [5, 10]
    cp = service.make_checkpoint(session)
    session.commit()
    assert cp.tree_size == 12
    assert service.make_checkpoint(session).tree_size == 12  # no duplicate for an unchanged tree
    kept = service.list_checkpoints(session)
    assert [c.tree_size for c in kept] == [5, 10, 12]
    vkey = service.signer().vkey
    origin = get_settings().resolved_ledger_origin
    for c in kept:
        parsed = note.verify_checkpoint(c.note, vkey, origin)
        assert parsed.size == c.tree_size
        assert parsed.root == c.root == service.root_at(session, c.tree_size)
    assert cp.note.startswith(f"{origin}\n12\n")


def test_timed_checkpoints_only_when_the_tree_grew(session: Session, ledger_env) -> None:  # type: ignore[no-untyped-def]
    ledger_env(ledger_checkpoint_every_seconds=60, ledger_checkpoint_every_events=1000)
    t0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    assert service.tick(session, now=t0).checkpoints == [0]  # the first start signs the empty tree
    record(session, 3)
    assert service.tick(session, now=t0 + dt.timedelta(seconds=30)).checkpoints == []  # not yet due
    assert service.tick(session, now=t0 + dt.timedelta(seconds=61)).checkpoints == [3]
    assert service.tick(session, now=t0 + dt.timedelta(seconds=300)).checkpoints == []  # no growth
    record(session, 1, start=3)
    assert service.tick(session, now=t0 + dt.timedelta(seconds=301)).checkpoints == [4]
    session.commit()
    assert [c.tree_size for c in service.list_checkpoints(session)] == [0, 3, 4]


def test_proofs_from_the_store_use_one_node_query(session: Session) -> None:
    record(session, 45)
    service.integrate(session)
    session.commit()
    leaves = [merkle.leaf_hash(d) for d in canonicals(session)]
    tree = merkle.MemoryTree(leaves)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa_event.listen(get_engine(), "before_cursor_execute", count)
    try:
        path = service.inclusion_proof(session, 37, 45)
        first_statements = list(statements)
        statements.clear()
        proof = service.consistency_proof(session, 13, 45)
    finally:
        sa_event.remove(get_engine(), "before_cursor_execute", count)
    assert len(first_statements) == 1 and "ledger_node" in first_statements[0]  # one query, O(log n) rows
    assert len(statements) == 1 and "ledger_node" in statements[0]
    assert path == tree.inclusion_proof(37, 45)
    assert proof == tree.consistency_proof(13, 45)
    for n in (1, 2, 7, 8, 44, 45):
        for i in range(n):
            assert service.inclusion_proof(session, i, n) == tree.inclusion_proof(i, n)
        for m in range(n + 1):
            assert service.consistency_proof(session, m, n) == tree.consistency_proof(m, n)


def test_a_missing_event_stops_integration_at_the_gap(session: Session) -> None:
    record(session, 10)
    session.execute(text("DELETE FROM event WHERE seq = 6"))
    session.commit()
    result = service.integrate(session)
    session.commit()
    assert result.gap_at == 6 and result.new_size == 6
    assert service.integrated_size(session) == 6


def test_signing_key_is_created_once_with_mode_0600(tmp_path, ledger_env) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "keys" / "ledger.key"
    ledger_env(ledger_key_path=path, instance_name="suzhou")
    first = service.signer()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert service.signer() is first
    parsed = note.parse_verifier_key(first.vkey)
    assert parsed.name == first.origin == "govshare.local/suzhou"
    name, hex_id, encoded = first.vkey.split("+", 2)
    material = base64.b64decode(encoded)
    assert len(hex_id) == 8 and len(material) == 33 and material[0] == 0x01  # 0x01 || Ed25519 key


def test_verify_and_status_on_an_empty_ledger(session: Session) -> None:
    report = ledger_verify.verify()
    assert report.ok and report.events == 0
    assert service.make_checkpoint(session).root == hashlib.sha256(b"").digest()


# --- the fast canonical path used by verify is RFC 8785 exactly ---------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
stamps = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seq=st.integers(min_value=0, max_value=2**53 - 1),
    occurred_at=stamps,
    texts=st.lists(st.text(max_size=10), min_size=5, max_size=5),
    region=st.none() | st.text(max_size=6),
    agency=st.none() | st.text(max_size=6),
    data=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
)
def test_fast_canonical_equals_rfc8785(seq, occurred_at, texts, region, agency, data) -> None:  # type: ignore[no-untyped-def]
    actor, actor_name, action, subject_type, subject_id = texts
    args = (seq, occurred_at, actor, actor_name, action, subject_type, subject_id, region, agency, data)
    try:
        exact = events.canonical_bytes(
            seq=seq,
            occurred_at=occurred_at,
            actor=actor,
            actor_name=actor_name,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            region_code=region,
            agency_code=agency,
            data=data,
        )
    except ValueError:
        exact = None  # not canonicalisable (lone surrogate, integer beyond 2**53): never on the fast path
    fast = canonical.fast_canonical(*args)
    if fast is not None:
        assert fast == exact
    if exact is not None:
        assert canonical.event_bytes(*args) == exact


def test_fast_canonical_covers_typical_events_and_refuses_floats() -> None:
    at = clock.now()
    args = (1, at, "person:1", "王明", "catalog.publish", "resource", "7", "320500", "sz-sj")
    assert canonical.fast_canonical(*args, {"rows": 10, "ok": True, "名称": "企业", "x": None, "l": [1, "a"]})
    assert canonical.fast_canonical(*args, {"ratio": 0.5}) is None
    assert canonical.fast_canonical(*args, {"big": 2**53}) is None
    assert canonical.fast_canonical(*args, {"\U0001f600": 1}) is None


def test_checkpoint_rows_hold_their_signed_root(session: Session) -> None:
    record(session, 4)
    cp = service.make_checkpoint(session)
    session.commit()
    row = session.get(LedgerCheckpoint, 4)
    assert row is not None and row.root == cp.root
    assert note.parse_checkpoint(note.parse_note(row.note).text).root == row.root


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seq=st.integers(min_value=0, max_value=2**53 - 1),
    occurred_at=stamps,
    texts=st.lists(st.text(max_size=10), min_size=5, max_size=5),
    region=st.none() | st.text(max_size=6),
    data=st.dictionaries(st.text(max_size=8), json_values, max_size=5),
    writer=st.sampled_from(["application", "ascii", "default"]),
    time_as=st.sampled_from(["sqlite_text", "naive", "aware"]),
    change=st.integers(min_value=0, max_value=9),
    other=st.text(max_size=10),
)
def test_verify_row_check_accepts_exactly_the_canonical_bytes(  # type: ignore[no-untyped-def]
    seq, occurred_at, texts, region, data, writer, time_as, change, other
) -> None:
    """``verify`` reads raw column values (the data's JSON text as stored, the time as SQLite's text
    or a datetime) and must accept the true canonical bytes, and refuse them once any one column
    says something else, whichever way the data text was written (the application's own writer is
    the text fast path)."""
    actor, actor_name, action, subject_type, subject_id = texts
    try:
        exact = events.canonical_bytes(
            seq=seq,
            occurred_at=occurred_at,
            actor=actor,
            actor_name=actor_name,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            region_code=region,
            agency_code=None,
            data=data,
        )
    except ValueError:
        return
    stored_data = canonical.jsonable(data)  # what record() stores
    text = {
        "application": canonical.json_text(stored_data),
        "ascii": json.dumps(stored_data),
        "default": json.dumps(stored_data, ensure_ascii=False),
    }[writer]
    at = {
        "sqlite_text": occurred_at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "naive": occurred_at.replace(tzinfo=None),
        "aware": occurred_at,
    }[time_as]
    row = [seq, at, actor, actor_name, action, subject_type, subject_id, region, None, text, exact]
    assert ledger_verify._row_matches(row)
    # One column changed: refused (unless the "change" left the value as it was).
    column, value = {
        0: (0, seq + 1),
        1: (1, occurred_at + dt.timedelta(microseconds=1)),
        7: (7, other or None),
        8: (8, other or "x"),
        9: (9, canonical.json_text(canonical.jsonable({**data, "x" + other: [0]}))),
    }.get(change, (change, other))
    changed = list(row)
    changed[column] = value
    same = json.loads(value) == stored_data if column == 9 else value == row[column]
    if not same:
        assert not ledger_verify._row_matches(changed), column
    row[10] = exact.replace(b'"seq":', b'"seq": ')
    assert not ledger_verify._row_matches(row)


def test_the_application_writes_event_data_as_its_canonical_text(session: Session) -> None:
    """The data column's text is the leaf's data member, byte for byte (sorted keys, compact, UTF-8),
    which is what makes verification's text path apply to the events the application writes."""
    ev = events.record(
        session,
        actor=events.SYSTEM,
        action="test.text",
        subject_type="t",
        subject_id=1,
        data={"z": [1, {"b": 2, "a": "中文"}], "a": None, "m": '引号"与\n换行'},
    )
    session.commit()
    sql = (
        "SELECT CAST(data AS TEXT) FROM event"
        if session.get_bind().dialect.name == "postgresql"
        else "SELECT data FROM event"
    )
    stored_text = session.execute(text(sql)).scalar_one()
    assert stored_text == '{"a":null,"m":"引号\\"与\\n换行","z":[1,{"a":"中文","b":2}]}'
    assert f',"data":{stored_text},'.encode() in bytes(ev.canonical)


def test_a_large_backlog_is_stored_in_bulk(session: Session) -> None:
    """Hundreds of nodes at once take the bulk path (COPY on PostgreSQL, executemany on SQLite)."""
    record(session, 300)
    result = service.integrate(session)
    session.commit()
    assert result.new_size == 300
    assert stored_nodes(session) == expected_nodes([merkle.leaf_hash(d) for d in canonicals(session)])


def test_verify_and_export_report_progress(session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The CLI's progress bars are fed by these callbacks: counts that grow to the whole log."""
    record(session, 300)
    service.integrate(session)
    session.commit()
    seen: list[int] = []
    report = ledger_verify.verify(chunk=64, jobs=1, progress=seen.append)
    assert report.ok and seen == [64, 128, 192, 256, 300]
    written: list[int] = []
    ledger_verify.export(tmp_path / "out", chunk=128, progress=written.append)
    assert written == [128, 256, 300]
