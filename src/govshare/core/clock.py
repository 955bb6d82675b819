"""The one source of "now". Tests and ``--as-of`` runs set it; nothing else calls ``datetime.now()``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

#: Legal dates (deadlines, publish dates) are local dates in China Standard Time.
LEGAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """Current time, tz-aware UTC."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's legal (Asia/Shanghai) date."""
    return now().astimezone(LEGAL_TZ).date()


def set_now(value: dt.datetime | None) -> None:
    """Freeze the clock at ``value`` (tz-aware) or unfreeze it with ``None``."""
    global _frozen
    if value is not None and value.tzinfo is None:
        raise ValueError("clock value must be timezone-aware")
    _frozen = value.astimezone(dt.UTC) if value is not None else None


@contextmanager
def frozen(value: dt.datetime) -> Iterator[None]:
    previous = _frozen
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)
