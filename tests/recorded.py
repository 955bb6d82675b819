"""The events the platform recorded, for tests: read in a transaction of their own, oldest first."""

from __future__ import annotations

from sqlalchemy import select

from govshare.core.db import transaction
from govshare.core.events import Event


def recorded(
    action: str | None = None,
    *,
    prefix: str | None = None,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
) -> list[Event]:
    """Events with this ``action`` (or action ``prefix``), for this subject, in sequence order."""
    stmt = select(Event).order_by(Event.seq)
    if action is not None:
        stmt = stmt.where(Event.action == action)
    if prefix is not None:
        stmt = stmt.where(Event.action.like(prefix + "%"))
    if subject_type is not None:
        stmt = stmt.where(Event.subject_type == subject_type)
    if subject_id is not None:
        stmt = stmt.where(Event.subject_id == str(subject_id))
    with transaction() as s:
        return list(s.scalars(stmt))
