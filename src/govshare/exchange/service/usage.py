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

from sqlalchemy import String, case, func, or_, select
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
    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    scope = or_(
        perm.readable_condition(by, ExchangeCall.consumer_id, consumer.region_code), ExchangeCall.provider_id.in_(own)
    )
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
        .where(ExchangeCall.at >= start, ExchangeCall.at < end, scope)
        .group_by(column)
        .order_by(func.count().desc())
    )
    return [
        UsageRow(k, int(c), int(a or 0), int(r or 0), int(f or 0), int(rw or 0), int(b or 0))
        for k, c, a, r, f, rw, b in session.execute(stmt)
    ]


def daily(session: Session, *, by: Principal, since: dt.date, until: dt.date) -> list[tuple[dt.date, int]]:
    """Calls per UTC day in the period (for charts), in the caller's scope."""
    start, end = _day_bounds(since, until)
    consumer = aliased(Agency)
    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    scope = or_(
        perm.readable_condition(by, ExchangeCall.consumer_id, consumer.region_code), ExchangeCall.provider_id.in_(own)
    )
    at = ExchangeCall.at
    if session.get_bind().dialect.name == "postgresql":
        at = func.timezone("UTC", at)  # the UTC day, whatever the session's time zone
    day = func.date(at, type_=String)
    stmt = (
        select(day, func.count())
        .select_from(ExchangeCall)
        .outerjoin(consumer, consumer.id == ExchangeCall.consumer_id)
        .where(ExchangeCall.at >= start, ExchangeCall.at < end, scope)
        .group_by(day)
        .order_by(day)
    )
    return [(dt.date.fromisoformat(str(d)[:10]), int(n)) for d, n in session.execute(stmt)]
