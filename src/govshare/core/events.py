"""The event log: every state change appends one event in the same transaction.

Events are numbered by a gapless sequence from 0. The counter lives in a one-row table; when a
session flushes, the events it recorded since the last flush reserve their block of numbers with
one ``UPDATE ... RETURNING`` and are inserted in one batch. The row lock is held until commit, so
on PostgreSQL concurrent writers queue there (only for the end of their transaction: the lock is
taken at the flush, not when the event is recorded) and a rolled-back transaction gives its
numbers back. Each event is stored with its canonical bytes (RFC 8785 JSON canonicalization),
which become the leaves of the supervision ledger's Merkle tree (Art 32, 34).

Events carry metadata (who, what, which subject, counts, hashes), never the shared data itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, BigInteger, Connection, Index, Integer, LargeBinary, String, text
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from govshare.core import clock
from govshare.core.canonical import canonical_bytes, event_bytes, jsonable
from govshare.core.db import Base, UTCDateTime

__all__ = [
    "SYSTEM",
    "Actor",
    "Event",
    "EventHead",
    "Recorded",
    "append",
    "canonical_bytes",
    "event_canonical_bytes",
    "new_recorded",
    "record",
    "stamp",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Actor:
    """Who did it (Art 34): a named person, an agency's machine client, or the platform itself."""

    kind: str  # "person" | "client" | "system"
    id: int | None
    name: str

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}" if self.id is not None else self.kind


SYSTEM = Actor("system", None, "system")


class Event(Base):
    __tablename__ = "event"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str | None] = mapped_column(String(12))
    agency_code: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    canonical: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        Index("ix_event_subject", "subject_type", "subject_id"),
        Index("ix_event_action", "action"),
        Index("ix_event_region_code", "region_code"),
        Index("ix_event_agency_code", "agency_code"),
        Index("ix_event_actor", "actor"),
        Index("ix_event_occurred_at", "occurred_at"),
    )


class EventHead(Base):
    """One row holding the next sequence number."""

    __tablename__ = "event_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_seq: Mapped[int] = mapped_column(BigInteger)


def event_canonical_bytes(ev: Event) -> bytes:
    """An event's canonical bytes recomputed from its columns (RFC 8785; the ledger leaf data)."""
    return event_bytes(
        ev.seq,
        ev.occurred_at,
        ev.actor,
        ev.actor_name,
        ev.action,
        ev.subject_type,
        ev.subject_id,
        ev.region_code,
        ev.agency_code,
        ev.data,
    )


#: Reserves ``:k`` sequence numbers and returns the next free one. The row lock it takes is held
#: until the transaction ends: that is what makes the numbers gapless and commits follow them.
_RESERVE = text("UPDATE event_head SET next_seq = next_seq + :k WHERE id = 1 RETURNING next_seq")


@dataclasses.dataclass(slots=True)
class Recorded:
    """An event as ``record`` returns it: ``seq``, ``occurred_at`` and ``canonical`` are filled in
    when it is written, at the session's next flush."""

    actor: str
    actor_name: str
    action: str
    subject_type: str
    subject_id: str
    region_code: str | None
    agency_code: str | None
    data: dict[str, Any]
    seq: int | None = None
    occurred_at: dt.datetime | None = None
    canonical: bytes | None = None


#: ``session.info`` key of the pending object that carries the events recorded since the last flush.
_CARRIER = "govshare.events.carrier"


def new_recorded(
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str | int,
    data: Mapping[str, Any] | None = None,
    region_code: str | None = None,
    agency_code: str | None = None,
) -> Recorded:
    """An event not yet numbered: for :func:`record`, or for :func:`append` by a writer that
    holds its own connection (the gateway's call recorder)."""
    return Recorded(
        actor.ref,
        actor.name,
        action,
        subject_type,
        str(subject_id),
        region_code,
        agency_code,
        jsonable(dict(data or {})),
    )


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: str | int,
    data: Mapping[str, Any] | None = None,
    region_code: str | None = None,
    agency_code: str | None = None,
) -> Recorded:
    """Add an event to the caller's transaction. Never flushes, never commits.

    The event gets its number, time and canonical bytes when the session next flushes (before a
    query, or at commit): all events pending then are numbered in the order they were recorded with
    one ``UPDATE`` of the counter and inserted in one batch. Taking the counter's lock that late
    keeps it held only for the end of the transaction, and the time is taken under the lock, so
    times never go back in sequence order.

    How pending events follow the session's transactions: they ride on one *carrier*, a pending
    ``Event`` object the session tracks like any other (a mapped object per event cost most of an
    append). The session flushes before it opens a savepoint, so a carrier always belongs to the
    innermost transaction open when it was added: a savepoint rolled back before the flush expunges
    its carrier, and the events with it; events flushed inside a savepoint are rolled back with the
    counter's ``UPDATE``. Either way no number is lost.
    """
    rec = new_recorded(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data,
        region_code=region_code,
        agency_code=agency_code,
    )
    carrier = session.info.get(_CARRIER)
    if carrier is None or not sa_inspect(carrier).pending:
        carrier = Event()
        carrier._recorded = []  # type: ignore[attr-defined]
        session.add(carrier)
        session.info[_CARRIER] = carrier
    carrier._recorded.append(rec)
    return rec


@sa_event.listens_for(Session, "before_flush")
def _write_pending_events(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Number, stamp, canonicalise and insert the events recorded since the last flush (see
    ``record``), and take their carrier out of the unit of work.

    Runs before every flush of every session, so it looks only at ``session.info``: ``record``
    makes a new carrier only once the last one has been flushed or dropped, so at most one is
    pending, and it is the one kept there.
    """
    carrier = session.info.pop(_CARRIER, None)
    if carrier is None or not sa_inspect(carrier).pending:
        return  # no events, or their savepoint was rolled back with them
    pending: list[Recorded] = carrier._recorded
    session.expunge(carrier)
    append(session.connection(), pending)


def append(conn: Connection, pending: list[Recorded]) -> None:
    """Number, stamp, canonicalise and insert ``pending`` in the transaction open on ``conn``
    (the counter's row lock is held from here to its end). ``record`` reaches it through the
    session's flush; a writer with its own connection calls it directly, in its transaction."""
    count = len(pending)
    end = conn.execute(_RESERVE, {"k": count}).scalar()
    if end is None:
        # First event ever (migrations seed the row, so only a hand-made database lands here).
        # The primary key makes a concurrent creator fail cleanly rather than reuse a number.
        conn.execute(text("INSERT INTO event_head (id, next_seq) VALUES (1, :k)"), {"k": count})
        end = count
    rows = stamp(pending, int(end) - count, clock.now())
    if len(rows) >= _COPY_FROM and conn.dialect.name == "postgresql":
        _copy_events(conn, rows)
    else:
        conn.execute(_INSERT, rows if len(rows) > 1 else rows[0])  # one row: no executemany pipeline


def stamp(pending: list[Recorded], first: int, now: dt.datetime) -> list[dict[str, Any]]:
    """Give ``pending`` the numbers from ``first`` on, the time ``now`` and their canonical bytes;
    returns their rows. Only for a caller holding the counter's lock, which reserved those numbers
    (``append``, or the gateway's recorder, which reserves them in the statement that writes its calls),
    and with ``now`` taken under it, so times never go back in sequence order."""
    rows = []
    for seq, rec in enumerate(pending, start=first):
        rec.seq = seq
        rec.occurred_at = now
        rec.canonical = event_bytes(
            seq,
            now,
            rec.actor,
            rec.actor_name,
            rec.action,
            rec.subject_type,
            rec.subject_id,
            rec.region_code,
            rec.agency_code,
            rec.data,
        )
        rows.append(
            {
                "seq": seq,
                "occurred_at": now,
                "actor": rec.actor,
                "actor_name": rec.actor_name,
                "action": rec.action,
                "subject_type": rec.subject_type,
                "subject_id": rec.subject_id,
                "region_code": rec.region_code,
                "agency_code": rec.agency_code,
                "data": rec.data,
                "canonical": rec.canonical,
            }
        )
    return rows


_INSERT = Event.__table__.insert()
#: From this many events in one flush, PostgreSQL gets them by ``COPY`` (a group commit of the
#: exchange gateway writes hundreds): measured about 4x faster than the executemany of the INSERT.
_COPY_FROM = 20
_COPY_COLUMNS = (
    "seq",
    "occurred_at",
    "actor",
    "actor_name",
    "action",
    "subject_type",
    "subject_id",
    "region_code",
    "agency_code",
    "data",
    "canonical",
)
_COPY_EVENTS = f"COPY event ({', '.join(_COPY_COLUMNS)}) FROM STDIN"


def _copy_events(conn: Any, rows: list[dict[str, Any]]) -> None:
    """The same rows as the INSERT would write (``data`` as the engine's JSON text), in the
    transaction's own connection. The parameter guard of ``core.db`` sees no COPY, so its checks
    are made here: a NUL in text is refused as it would be (PostgreSQL cannot store it)."""
    from govshare.core.canonical import json_text
    from govshare.core.db import _bad_parameter

    for r in rows:
        if _bad_parameter([v for k, v in r.items() if k not in ("data", "canonical")]) == "nul":
            conn.execute(_INSERT, rows)  # the guard answers it as for any insert
            return
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(_COPY_EVENTS) as copy:
        for r in rows:
            copy.write_row(tuple(json_text(r["data"]) if c == "data" else r[c] for c in _COPY_COLUMNS))
