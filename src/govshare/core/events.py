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
import itertools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, mapped_column

from govshare.core import clock
from govshare.core.canonical import canonical_bytes, event_bytes, jsonable
from govshare.core.db import Base, UTCDateTime

__all__ = ["SYSTEM", "Actor", "Event", "EventHead", "canonical_bytes", "event_canonical_bytes", "record"]


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
    return event_bytes(ev.seq, ev.occurred_at, ev.actor, ev.actor_name, ev.action, ev.subject_type, ev.subject_id,
                       ev.region_code, ev.agency_code, ev.data)


#: Reserves ``:k`` sequence numbers and returns the next free one. The row lock it takes is held
#: until the transaction ends: that is what makes the numbers gapless and commits follow them.
_RESERVE = text("UPDATE event_head SET next_seq = next_seq + :k WHERE id = 1 RETURNING next_seq")

#: Order in which ``record`` was called, across threads (``itertools.count`` is atomic in CPython).
_record_order = itertools.count()


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
) -> Event:
    """Add an event to the caller's transaction. Never flushes, never commits.

    The event gets its number, time and canonical bytes when the session next flushes (before a
    query, or at commit): all events pending then are numbered in the order they were recorded with
    one ``UPDATE`` of the counter and inserted in one batch. Taking the counter's lock that late
    keeps it held only for the end of the transaction, and the time is taken under the lock, so
    times never go back in sequence order.
    """
    ev = Event(
        actor=actor.ref,
        actor_name=actor.name,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        region_code=region_code,
        agency_code=agency_code,
        data=jsonable(dict(data or {})),
    )
    ev._record_order = next(_record_order)  # type: ignore[attr-defined]
    session.add(ev)
    return ev


@sa_event.listens_for(Session, "before_flush")
def _number_pending_events(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Number, stamp and canonicalise the events this flush inserts (see ``record``).

    Until then an event is a pending object of the session, so one recorded inside a savepoint that
    is rolled back before a flush leaves ``session.new`` with it; one flushed inside a savepoint is
    rolled back together with the counter's ``UPDATE``. Either way no number is lost.
    """
    pending = [obj for obj in session.new if type(obj) is Event and obj.seq is None]
    if not pending:
        return
    pending.sort(key=lambda ev: ev._record_order)  # type: ignore[no-any-return]
    conn = session.connection()
    count = len(pending)
    end = conn.execute(_RESERVE, {"k": count}).scalar()
    if end is None:
        # First event ever (migrations seed the row, so only a hand-made database lands here).
        # The primary key makes a concurrent creator fail cleanly rather than reuse a number.
        conn.execute(text("INSERT INTO event_head (id, next_seq) VALUES (1, :k)"), {"k": count})
        end = count
    now = clock.now()
    rows = []
    for seq, ev in enumerate(pending, start=int(end) - count):
        ev.seq = seq
        ev.occurred_at = now
        ev.canonical = event_canonical_bytes(ev)
        rows.append({column: getattr(ev, column) for column in _COLUMNS})
        # Written below with one Core executemany instead of the unit of work, which costs several
        # times more per row; the event object stays usable (numbered) for the caller.
        session.expunge(ev)
    conn.execute(_INSERT, rows if len(rows) > 1 else rows[0])  # one row: no executemany pipeline


_COLUMNS = tuple(column.key for column in Event.__table__.columns)
_INSERT = Event.__table__.insert()
