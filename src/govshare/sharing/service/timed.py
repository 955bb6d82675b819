"""Timed work of the sharing domain, in one place: overdue marking (Art 18, 33(1)), reminders
three working days before a deadline, expiry of grants, recomputing provisional deadlines.

Once per tick, however many workers serve: a tick is the clock's time floored to
``sharing_tick_seconds``; a worker runs the work only if it moves ``sharing_scheduler_tick.last_tick``
forward with ``UPDATE ... WHERE name = :job AND last_tick < :tick`` (one row, atomic on SQLite and
PostgreSQL: the second worker's UPDATE matches no row). The work itself is by state, not by tick
(every request past its deadline, every grant past its term), so after a restart the first tick
catches up with everything missed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govshare.core import clock, workdays
from govshare.core.auth import SYSTEM_PRINCIPAL, Principal
from govshare.sharing import rules
from govshare.sharing.config import get_sharing_settings
from govshare.sharing.models import SharingRequest, SharingSchedulerTick
from govshare.sharing.service._common import _request_stmt, calendar_for, move, request_event
from govshare.sharing.service.grants import expire_grants
from govshare.sharing.service.requests import recompute_provisional

JOB = "sharing"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def tick_of(now: dt.datetime, seconds: int) -> dt.datetime:
    """``now`` floored to a multiple of ``seconds`` since the epoch (UTC)."""
    elapsed = int((now - _EPOCH).total_seconds())
    return _EPOCH + dt.timedelta(seconds=elapsed - elapsed % seconds)


def claim_tick(session: Session, tick: dt.datetime, name: str = JOB) -> bool:
    """Whether this transaction owns ``tick`` of job ``name`` (and so runs its work)."""
    t = SharingSchedulerTick.__table__
    result = session.execute(
        update(t).where(t.c.name == name, t.c.last_tick < tick).values(last_tick=tick, runs=t.c.runs + 1)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return True
    if session.get(SharingSchedulerTick, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(SharingSchedulerTick(name=name, last_tick=tick, runs=1))
    except IntegrityError:  # another worker created the row for this tick first
        return False
    return True


@dataclasses.dataclass(frozen=True, slots=True)
class TickResult:
    tick: dt.datetime
    ran: bool
    overdue: list[int] = dataclasses.field(default_factory=list)
    reminded: list[int] = dataclasses.field(default_factory=list)
    expired: list[int] = dataclasses.field(default_factory=list)
    recomputed: list[int] = dataclasses.field(default_factory=list)


def mark_overdue(session: Session, *, by: Principal, today: dt.date) -> list[SharingRequest]:
    """Art 18(1), 33(1): a request past its deadline without an answer becomes overdue."""
    due = list(
        session.scalars(
            _request_stmt()
            .where(SharingRequest.state == "pending", SharingRequest.deadline_on < today)
            .order_by(SharingRequest.id)
        )
    )
    for req in due:
        t = move(session, req, "request", "mark_overdue")
        req.overdue_at = clock.now()
        session.flush()
        request_event(
            session,
            req,
            "sharing.request.overdue",
            by=by,
            article=t.article,
            deadline_on=req.deadline_on,
            provisional=req.deadline_provisional,
        )
    return due


def send_reminders(session: Session, *, by: Principal, today: dt.date) -> list[SharingRequest]:
    """Remind the provider once, ``REMINDER_WORKDAYS`` working days or fewer before its deadline."""
    window_end = today + dt.timedelta(days=31)
    reqs = list(
        session.scalars(
            _request_stmt()
            .where(
                SharingRequest.state == "pending",
                SharingRequest.reminded_at.is_(None),
                SharingRequest.deadline_on >= today,
                SharingRequest.deadline_on <= window_end,
            )
            .order_by(SharingRequest.id)
        )
    )
    if not reqs:
        return []
    calendar = calendar_for(session, reqs)
    sent = []
    for req in reqs:
        assert req.deadline_on is not None
        left = calendar.workdays_between(today, req.deadline_on)
        if left > rules.REMINDER_WORKDAYS:
            continue
        req.reminded_at = clock.now()
        session.flush()
        request_event(
            session,
            req,
            "sharing.request.reminded",
            by=by,
            article="Art 18(1)",
            deadline_on=req.deadline_on,
            workdays_left=left,
            provisional=req.deadline_provisional,
        )
        sent.append(req)
    return sent


def _stale_provisional(session: Session) -> bool:
    """A provisional deadline whose uncovered years the calendar now covers (an import the
    listener missed, e.g. made by another process before this code was deployed)."""
    reqs = list(
        session.scalars(
            select(SharingRequest).where(
                SharingRequest.deadline_provisional.is_(True),
                SharingRequest.state.in_(("pending", "overdue", "disputed")),
            )
        )
    )
    if not reqs:
        return False
    calendar = calendar_for(session, reqs)
    return any(r.deadline_on is not None and not calendar.uncovered_years(r.received_on, r.deadline_on) for r in reqs)


def run_timed_work(session: Session, *, by: Principal, today: dt.date | None = None) -> TickResult:
    """Everything due as of ``today``; each change records its event. Flushes, never commits."""
    today = today or clock.today()
    recomputed = [r.id for r in recompute_provisional(session, by=by)] if _stale_provisional(session) else []
    overdue = [r.id for r in mark_overdue(session, by=by, today=today)]
    reminded = [r.id for r in send_reminders(session, by=by, today=today)]
    expired = [g.id for g in expire_grants(session, by=by, today=today)]
    return TickResult(
        tick=clock.now(), ran=True, overdue=overdue, reminded=reminded, expired=expired, recomputed=recomputed
    )


def run_tick(session: Session, *, now: dt.datetime | None = None) -> TickResult:
    """Claim the current tick and, if this worker won it, run the timed work. Flushes only."""
    now = now or clock.now()
    tick = tick_of(now, get_sharing_settings().sharing_tick_seconds)
    if not claim_tick(session, tick):
        return TickResult(tick=tick, ran=False)
    result = run_timed_work(session, by=SYSTEM_PRINCIPAL, today=now.astimezone(clock.LEGAL_TZ).date())
    return dataclasses.replace(result, tick=tick)


def run_scheduled() -> TickResult:
    """The background job (``core.background``): one transaction per tick."""
    from govshare.core.db import transaction

    with transaction() as session:
        return run_tick(session)


def on_calendar_import(session: Session, summary: workdays.ImportSummary, actor: object) -> None:
    recompute_provisional(session, by=SYSTEM_PRINCIPAL, year=summary.year)
