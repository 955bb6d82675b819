"""Usage of the exchange gateway (Art 14(3), 32): calls counted per grant, resource, consumer or
provider agency and day, from the call records (``exchange_call``), never from the data.

Who sees what: an agency's staff the calls their agency made (as consumer) or served (as
provider), with the purpose; the authority and supervisors of a region the calls of the consumer
agencies in it (``exchange.permissions.readable_condition``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from govshare.core.auth import Principal
from govshare.core.clock import LEGAL_TZ
from govshare.core.errors import InvalidInput
from govshare.exchange import permissions as perm
from govshare.exchange.models import ExchangeCall
from govshare.registry.models import Agency

#: What usage can be grouped by: a column of the call record.
GROUPS = {
    "grant": ExchangeCall.grant_id,
    "resource": ExchangeCall.resource_code,
    "consumer": ExchangeCall.consumer_id,
    "provider": ExchangeCall.provider_id,
    "purpose": ExchangeCall.purpose,
    "outcome": ExchangeCall.outcome,
}
MAX_DAYS = 366


@dataclasses.dataclass(frozen=True, slots=True)
class UsageRow:
    key: Any
    calls: int
    allowed: int
    refused: int
    failed: int
    rows: int
    bytes: int


def _day_bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if until < since or (until - since).days > MAX_DAYS:
        raise InvalidInput(
            "exchange.usage.period_invalid",
            f"统计区间须为 1 至 {MAX_DAYS} 天",
            f"The period must span 1 to {MAX_DAYS} days",
            field="until",
        )
    start = dt.datetime.combine(since, dt.time(), LEGAL_TZ).astimezone(dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), LEGAL_TZ).astimezone(dt.UTC)
    return start, end


def usage(session: Session, *, by: Principal, group: str, since: dt.date, until: dt.date) -> list[UsageRow]:
    """Calls in the legal days ``since``..``until`` (inclusive), grouped by ``group`` (:data:`GROUPS`)."""
    column = GROUPS.get(group)
    if column is None:
        raise InvalidInput(
            "exchange.usage.group_invalid",
            "不支持的统计维度",
            "Unknown grouping",
            field="group",
            extra={"allowed": sorted(GROUPS)},
        )
    start, end = _day_bounds(since, until)
    consumer = aliased(Agency)
    stmt = (
        select(
            column,
            func.count(),
            func.sum(case((ExchangeCall.outcome == "allowed", 1), else_=0)),
            func.sum(case((ExchangeCall.outcome == "refused", 1), else_=0)),
            func.sum(case((ExchangeCall.outcome == "failed", 1), else_=0)),
            func.coalesce(func.sum(ExchangeCall.rows), 0),
            func.coalesce(func.sum(ExchangeCall.bytes), 0),
        )
        .select_from(ExchangeCall)
        .outerjoin(consumer, consumer.id == ExchangeCall.consumer_id)
        .where(ExchangeCall.at >= start, ExchangeCall.at < end, _scope(by, consumer))
        .group_by(column)
        .order_by(func.count().desc())
    )
    return [
        UsageRow(k, int(c), int(a or 0), int(r or 0), int(f or 0), int(rw or 0), int(b or 0))
        for k, c, a, r, f, rw, b in session.execute(stmt)
    ]


def _scope(by: Principal, consumer: Any) -> ColumnElement[bool]:
    """The calls ``by`` may count: its agencies' as consumer or provider, its regions' consumers'."""
    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    return or_(
        perm.readable_condition(by, ExchangeCall.consumer_id, consumer.region_code), ExchangeCall.provider_id.in_(own)
    )


def _legal_day(session: Session) -> Any:
    """The call's legal (local) day as ``YYYY-MM-DD`` text, in SQL. The legal zone, Asia/Shanghai,
    keeps one offset all year (no daylight saving since 1991), so SQLite shifts by that offset."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(str(LEGAL_TZ), ExchangeCall.at), "YYYY-MM-DD")
    offset = dt.datetime(2000, 1, 1, tzinfo=dt.UTC).astimezone(LEGAL_TZ).utcoffset() or dt.timedelta()
    hours = int(offset.total_seconds() // 3600)
    return func.strftime("%Y-%m-%d", ExchangeCall.at, f"{hours:+d} hours")


@dataclasses.dataclass(frozen=True, slots=True)
class PeriodRow:
    """Calls of one legal day (``YYYY-MM-DD``) or month (``YYYY-MM``)."""

    period: str
    calls: int
    allowed: int
    refused: int
    failed: int
    rows: int
    bytes: int


PERIODS = ("day", "month")


def series(
    session: Session,
    *,
    by: Principal,
    since: dt.date,
    until: dt.date,
    period: str = "day",
    grant_id: int | None = None,
    consumer_id: int | None = None,
    resource_code: str | None = None,
) -> list[PeriodRow]:
    """Calls per legal day or month of the period, in the caller's scope (optionally of one grant,
    one consumer agency, one resource). Days without calls are absent."""
    if period not in PERIODS:
        raise InvalidInput(
            "exchange.usage.period_unit_invalid",
            "统计周期须为 day（日）或 month（月）",
            "The period must be day or month",
            field="period",
            extra={"allowed": list(PERIODS)},
        )
    start, end = _day_bounds(since, until)
    consumer = aliased(Agency)
    day = _legal_day(session)
    stmt = (
        select(
            day,
            func.count(),
            func.sum(case((ExchangeCall.outcome == "allowed", 1), else_=0)),
            func.sum(case((ExchangeCall.outcome == "refused", 1), else_=0)),
            func.sum(case((ExchangeCall.outcome == "failed", 1), else_=0)),
            func.coalesce(func.sum(ExchangeCall.rows), 0),
            func.coalesce(func.sum(ExchangeCall.bytes), 0),
        )
        .select_from(ExchangeCall)
        .outerjoin(consumer, consumer.id == ExchangeCall.consumer_id)
        .where(ExchangeCall.at >= start, ExchangeCall.at < end, _scope(by, consumer))
        .group_by(day)
        .order_by(day)
    )
    stmt = stmt.where(*_only(grant_id, consumer_id, resource_code))
    out: dict[str, list[int]] = {}
    for d, *numbers in session.execute(stmt):
        key = str(d)[: 7 if period == "month" else 10]
        acc = out.setdefault(key, [0] * 6)
        for i, n in enumerate(numbers):
            acc[i] += int(n or 0)
    return [PeriodRow(k, *v) for k, v in out.items()]


def daily(session: Session, *, by: Principal, since: dt.date, until: dt.date) -> list[tuple[dt.date, int]]:
    """Calls per legal day in the period (for charts), in the caller's scope."""
    return [(dt.date.fromisoformat(r.period), r.calls) for r in series(session, by=by, since=since, until=until)]


@dataclasses.dataclass(frozen=True, slots=True)
class ConsumerUse:
    """Who used a provider's resource, for what purpose (Art 17, 32): one line per provider,
    resource, consumer agency and declared purpose."""

    provider_id: int | None
    resource_code: str
    consumer_id: int | None
    purpose: str | None
    calls: int
    allowed: int
    refused: int
    failed: int
    rows: int
    last_at: dt.datetime | None


def consumers_of(session: Session, *, by: Principal, since: dt.date, until: dt.date) -> list[ConsumerUse]:
    """The calls on resources ``by``'s agencies provide, and for an authority or supervisor those
    of the consumer agencies of its regions, per consumer and purpose, busiest first."""
    start, end = _day_bounds(since, until)
    consumer = aliased(Agency)
    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    paths = by.region_paths(*perm.OVERSEERS)
    conds: list[ColumnElement[bool]] = []
    if by.is_system:
        conds.append(true())
    if own:
        conds.append(ExchangeCall.provider_id.in_(own))
    if paths:
        from govshare.registry import service as registry_service

        conds.append(registry_service.in_subtrees(consumer.region_code, paths))
    if not conds:
        return []
    cols = (ExchangeCall.provider_id, ExchangeCall.resource_code, ExchangeCall.consumer_id, ExchangeCall.purpose)
    stmt = (
        select(
            *cols,
            func.count(),
            func.sum(case((ExchangeCall.outcome == "allowed", 1), else_=0)),
            func.sum(case((ExchangeCall.outcome == "refused", 1), else_=0)),
            func.sum(case((ExchangeCall.outcome == "failed", 1), else_=0)),
            func.coalesce(func.sum(ExchangeCall.rows), 0),
            func.max(ExchangeCall.at),
        )
        .select_from(ExchangeCall)
        .outerjoin(consumer, consumer.id == ExchangeCall.consumer_id)
        .where(ExchangeCall.at >= start, ExchangeCall.at < end, or_(*conds))
        .group_by(*cols)
        .order_by(func.count().desc(), ExchangeCall.resource_code)
    )
    out = []
    for p, code, c, purpose, n, a, r, f, rows, last in session.execute(stmt):
        if isinstance(last, str):  # SQLite answers max() of a timestamp as text
            last = dt.datetime.fromisoformat(last)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)
        out.append(
            ConsumerUse(p, code, c, purpose, int(n), int(a or 0), int(r or 0), int(f or 0), int(rows or 0), last)
        )
    return out


def problems(
    session: Session,
    *,
    by: Principal,
    since: dt.date,
    until: dt.date,
    limit: int = 50,
    consumer_id: int | None = None,
    resource_code: str | None = None,
) -> list[ExchangeCall]:
    """The latest refused or failed calls the caller may read as consumer (its agencies' own calls,
    its regions' consumers'), newest first: what a consumer's integrator must fix."""
    start, end = _day_bounds(since, until)
    consumer = aliased(Agency)
    stmt = (
        select(ExchangeCall)
        .outerjoin(consumer, consumer.id == ExchangeCall.consumer_id)
        .where(
            ExchangeCall.at >= start,
            ExchangeCall.at < end,
            ExchangeCall.outcome != "allowed",
            perm.readable_condition(by, ExchangeCall.consumer_id, consumer.region_code),
        )
        .order_by(ExchangeCall.at.desc(), ExchangeCall.id.desc())
        .limit(limit)
    )
    stmt = stmt.where(*_only(None, consumer_id, resource_code))
    return list(session.scalars(stmt))


def _only(grant_id: int | None, consumer_id: int | None, resource_code: str | None) -> list[ColumnElement[bool]]:
    conds = []
    if grant_id is not None:
        conds.append(ExchangeCall.grant_id == grant_id)
    if consumer_id is not None:
        conds.append(ExchangeCall.consumer_id == consumer_id)
    if resource_code is not None:
        conds.append(ExchangeCall.resource_code == resource_code)
    return conds


def errors_by_consumer(
    session: Session, *, by: Principal, since: dt.date, until: dt.date
) -> dict[tuple[int | None, str], int]:
    """Refused and failed calls per consumer agency and resource, in the consumer view's scope. A
    call whose purpose matches no grant counts under no grant, yet it is the consumer's error on
    that resource: the integrator of any of its grants there must see it."""
    start, end = _day_bounds(since, until)
    consumer = aliased(Agency)
    stmt = (
        select(ExchangeCall.consumer_id, ExchangeCall.resource_code, func.count())
        .select_from(ExchangeCall)
        .outerjoin(consumer, consumer.id == ExchangeCall.consumer_id)
        .where(
            ExchangeCall.at >= start,
            ExchangeCall.at < end,
            ExchangeCall.outcome != "allowed",
            perm.readable_condition(by, ExchangeCall.consumer_id, consumer.region_code),
        )
        .group_by(ExchangeCall.consumer_id, ExchangeCall.resource_code)
    )
    return {(c, code): int(n) for c, code, n in session.execute(stmt)}
