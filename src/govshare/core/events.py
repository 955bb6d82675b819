"""The event log: every state change appends one event in the same transaction.

Events are numbered by a gapless sequence from 0. The counter lives in a one-row table that each
writing transaction increments with ``UPDATE ... RETURNING``; the row lock is held until commit,
so on PostgreSQL concurrent writers queue at that point and a rolled-back transaction gives its
number back. Each event is stored with its canonical bytes (RFC 8785 JSON canonicalization),
which become the leaves of the supervision ledger's Merkle tree (Art 32, 34).

Events carry metadata (who, what, which subject, counts, hashes), never the shared data itself.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import enum
import math
import uuid
from collections.abc import Mapping
from typing import Any

import rfc8785
from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from govshare.core import clock
from govshare.core.db import Base, UTCDateTime


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


#: Largest integer an IEEE 754 double holds exactly (I-JSON, RFC 7493; RFC 8785 relies on it).
_MAX_SAFE_INT = 2**53 - 1


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)  # RFC 8785 has no NaN or infinity
        return int(value) if value.is_integer() else value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_SAFE_INT:
        return str(value)  # beyond 2^53 a JSON number is not exact (RFC 8785 uses IEEE 754 doubles)
    return value


def canonical_bytes(
    *,
    seq: int,
    occurred_at: dt.datetime,
    actor: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region_code: str | None,
    agency_code: str | None,
    data: Mapping[str, Any],
) -> bytes:
    """RFC 8785 canonical JSON of everything the event says; the ledger leaf data."""
    return rfc8785.dumps(
        {
            "seq": seq,
            "time": _jsonable(occurred_at),
            "actor": actor,
            "actor_name": actor_name,
            "action": action,
            "subject": {"type": subject_type, "id": subject_id},
            "region": region_code,
            "agency": agency_code,
            "data": _jsonable(data),
        }
    )


def event_canonical_bytes(ev: Event) -> bytes:
    """Recompute an event's canonical bytes from its columns (used by ledger verification)."""
    return canonical_bytes(
        seq=ev.seq,
        occurred_at=ev.occurred_at,
        actor=ev.actor,
        actor_name=ev.actor_name,
        action=ev.action,
        subject_type=ev.subject_type,
        subject_id=ev.subject_id,
        region_code=ev.region_code,
        agency_code=ev.agency_code,
        data=ev.data,
    )


def _next_seq(session: Session) -> int:
    row = session.execute(
        text("UPDATE event_head SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq")
    ).first()
    if row is None:
        # First event ever: create the head. The primary key makes a concurrent creator fail
        # cleanly instead of producing a duplicate sequence number.
        session.add(EventHead(id=1, next_seq=1))
        session.flush()
        return 0
    return int(row[0]) - 1


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
    """Append an event in the caller's transaction and flush it. Never commits."""
    payload = _jsonable(dict(data or {}))
    seq = _next_seq(session)
    occurred_at = clock.now()
    ev = Event(
        seq=seq,
        occurred_at=occurred_at,
        actor=actor.ref,
        actor_name=actor.name,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        region_code=region_code,
        agency_code=agency_code,
        data=payload,
    )
    ev.canonical = event_canonical_bytes(ev)
    session.add(ev)
    # No flush here: the unit of work inserts pending events in one batch at the next flush
    # (autoflush before any query, and at commit), which halves the round trips per event.
    for listener in _listeners:
        listener(session, ev)
    return ev


_listeners: list[Any] = []


def on_record(listener: Any) -> Any:
    """Register ``listener(session, event)`` to run inside the transaction after each append
    (the ledger uses it to extend the Merkle tree)."""
    _listeners.append(listener)
    return listener
