"""The one source of "now". Tests and ``--as-of`` runs set it; nothing else calls ``datetime.now()``.

Training and rehearsal clock: ``GOVSHARE_CLOCK_START=2026-09-25T09:00:00+08:00`` starts the clock at
that instant when the process starts, from where it runs on at the normal pace (deadlines, overdue
marking and expiry then play out on the shifted dates). Worker processes started by the same
command share the shift: the first process records the real instant it started from in
``GOVSHARE_CLOCK_ANCHOR``, which the workers inherit. ``/healthz`` reports a shifted clock. Off
unless set.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

#: Legal dates (deadlines, publish dates) are local dates in China Standard Time.
LEGAL_TZ = ZoneInfo("Asia/Shanghai")

_frozen: dt.datetime | None = None
#: The training clock: (start, real instant it started at), or None.
_shift: tuple[dt.datetime, dt.datetime] | None = None

START_ENV = "GOVSHARE_CLOCK_START"
ANCHOR_ENV = "GOVSHARE_CLOCK_ANCHOR"


def now() -> dt.datetime:
    """Current time, tz-aware UTC."""
    if _frozen is not None:
        return _frozen
    real = dt.datetime.now(dt.UTC)
    if _shift is not None:
        start, anchor = _shift
        return start + (real - anchor)
    return real


def _aware(text: str, name: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{name}={text!r} is not an ISO 8601 date-time such as 2026-09-25T09:00:00+08:00") from None
    if value.tzinfo is None:
        raise ValueError(f"{name}={text!r} needs a UTC offset, e.g. 2026-09-25T09:00:00+08:00")
    return value.astimezone(dt.UTC)


def shift(start: dt.datetime | None, anchor: dt.datetime | None = None) -> None:
    """Run the clock from ``start`` (tz-aware) as of the real instant ``anchor`` (default: now), or
    back on real time with ``None``."""
    global _shift
    if start is None:
        _shift = None
        return
    if start.tzinfo is None:
        raise ValueError("clock start must be timezone-aware")
    _shift = (start.astimezone(dt.UTC), (anchor or dt.datetime.now(dt.UTC)).astimezone(dt.UTC))


def configure_from_env(environ: dict[str, str] | None = None) -> None:
    """Apply ``GOVSHARE_CLOCK_START`` (and the inherited ``GOVSHARE_CLOCK_ANCHOR``), if set."""
    env = os.environ if environ is None else environ
    raw = (env.get(START_ENV) or "").strip()
    if not raw:
        shift(None)
        return
    start = _aware(raw, START_ENV)
    anchor_raw = (env.get(ANCHOR_ENV) or "").strip()
    anchor = _aware(anchor_raw, ANCHOR_ENV) if anchor_raw else dt.datetime.now(dt.UTC)
    if not anchor_raw:
        env[ANCHOR_ENV] = anchor.isoformat()  # worker processes inherit the same shift
    shift(start, anchor)


def describe() -> dict[str, object]:
    """For ``/healthz``: whether the clock is shifted (training clock) and where it stands."""
    if _shift is None:
        return {"shifted": False}
    start, anchor = _shift
    return {
        "shifted": True,
        "started_at": start.isoformat(),
        "real_start": anchor.isoformat(),
        "now": now().isoformat(),
    }


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


configure_from_env()
