"""The legal working-day calendar: counting 工作日 on China's official calendar.

The Measures set their time limits in working days: an agency updates shared information within
20 working days of a change (Art 15) and answers a request for secret or private information
within 15 working days of receiving it (Art 18, "自收到申请之日起15个工作日内"). A working day is a
day of work on the official calendar: Monday to Friday, minus the public holidays the State
Council announces each year, plus the 调休 make-up workdays that fall on weekends.

Where the calendar comes from, for each year, in order of precedence:

1. a schedule imported with ``govshare calendar import FILE.json`` (tables ``calendar_year`` and
   ``calendar_day``); importing a year again replaces it;
2. the ``chinese_calendar`` package, for the years it ships (2004-2026 in version 1.11);
3. nothing: weekdays count as working days, and any answer that counted a day of such a year is
   *provisional* and lists the year, to be recomputed once the year's schedule is imported.

Counting (:meth:`Calendar.add_workdays`): the day of receipt is not counted; the deadline is the
Nth working day after it, and runs to the end of that day, Asia/Shanghai.

A computation reads the database once: :func:`load_calendar` loads the imported schedules it may
need into an in-memory :class:`Calendar`, which then answers day by day without I/O.

Schedule file format::

    {"year": 2027,
     "holidays": {"2027-01-01": "元旦", ...},
     "workdays": {"2027-02-20": "春节调休", ...},
     "source": "国办发明电〔2026〕X号"}          # optional

Every date lies in ``year``; a holiday or make-up day of a neighbouring year (New Year holidays
sometimes straddle 31 December) goes into that year's file, re-imported with the addition.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import chinese_calendar
import rfc8785
from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from govshare.core import clock
from govshare.core.db import Base, TimestampMixin, UTCDateTime
from govshare.core.errors import Conflict, InvalidInput
from govshare.core.events import Actor, record

#: Smallest and largest number of working days a deadline may count.
MIN_WORKDAYS = 1
MAX_WORKDAYS = 3650
#: Years an imported schedule may describe.
MIN_YEAR = 1900
MAX_YEAR = 2999
#: Longest holiday or make-up day name stored.
NAME_MAX = 100

#: The event appended by :func:`import_schedule`; domains holding provisional deadlines listen for it.
IMPORTED_ACTION = "calendar.schedule.imported"

#: Called by :func:`import_schedule` after the import, in its transaction: domains holding
#: provisional deadlines recompute them (``on_import`` registers one; a domain's service does it).
ImportListener = Callable[[Session, "ImportSummary", Actor], None]
_IMPORT_LISTENERS: list[ImportListener] = []


def on_import(listener: ImportListener) -> ImportListener:
    """Register ``listener`` (once) to run after every schedule import, in the same transaction."""
    if listener not in _IMPORT_LISTENERS:
        _IMPORT_LISTENERS.append(listener)
    return listener


#: Years covered by the bundled ``chinese_calendar`` data.
BUILTIN_YEARS = range(
    min(chinese_calendar.holidays).year,
    max(max(chinese_calendar.holidays).year, max(chinese_calendar.workdays).year) + 1,
)

_BUILTIN_HOLIDAYS: Mapping[dt.date, Any] = chinese_calendar.holidays
_BUILTIN_WORKDAYS: Mapping[dt.date, Any] = chinese_calendar.workdays

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEKDAY_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

Source = Literal["imported", "chinese_calendar"]


def _invalid(code: str, zh: str, en: str, *, field: str | None = None, **extra: Any) -> InvalidInput:
    """Bad input: the Chinese title carries the English after it ("中文 / English")."""
    return InvalidInput(code, f"{zh} / {en}", en, field=field, extra=extra or None)


# --------------------------------------------------------------------------------------------
# Models


class CalendarYear(TimestampMixin, Base):
    """One imported yearly schedule. ``created_at`` is the first import, ``imported_at`` the last."""

    __tablename__ = "calendar_year"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    source: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    days: Mapped[list[CalendarDay]] = relationship(
        back_populates="calendar_year",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CalendarDay.date",
    )


class CalendarDay(Base):
    """A day an imported schedule changes: a holiday, or a 调休 make-up workday on a weekend."""

    __tablename__ = "calendar_day"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    calendar_year_id: Mapped[int] = mapped_column(ForeignKey("calendar_year.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(NAME_MAX))

    calendar_year: Mapped[CalendarYear] = relationship(back_populates="days", lazy="raise")

    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)


# --------------------------------------------------------------------------------------------
# Pure logic


@dataclasses.dataclass(frozen=True, slots=True)
class YearSchedule:
    """A validated yearly schedule: the State Council's holidays and make-up workdays of one year."""

    year: int
    holidays: Mapping[dt.date, str]
    workdays: Mapping[dt.date, str]
    source: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DeadlineResult:
    """The Nth working day after the day of receipt (Art 15, Art 18).

    ``provisional`` is true when a counted day lies in a year without official calendar data;
    ``uncovered_years`` lists those years, ascending.
    """

    deadline: dt.date
    provisional: bool
    uncovered_years: list[int]

    @property
    def ends_at(self) -> dt.datetime:
        """The instant the deadline passes: the start of the next day in Asia/Shanghai (tz-aware)."""
        return dt.datetime.combine(self.deadline + dt.timedelta(days=1), dt.time(), clock.LEGAL_TZ)


def check_workdays(workdays: object) -> int:
    """``workdays`` as an int in [MIN_WORKDAYS, MAX_WORKDAYS], or :class:`InvalidInput` naming it."""
    if isinstance(workdays, bool) or not isinstance(workdays, int):
        raise _invalid("calendar.workdays_invalid", "工作日数应为整数", "workdays must be an integer", field="workdays")
    if not MIN_WORKDAYS <= workdays <= MAX_WORKDAYS:
        raise _invalid(
            "calendar.workdays_out_of_range",
            f"工作日数应在 {MIN_WORKDAYS} 至 {MAX_WORKDAYS} 之间",
            f"workdays must be between {MIN_WORKDAYS} and {MAX_WORKDAYS}",
            field="workdays",
        )
    return workdays


def parse_date(value: object, *, field: str = "from") -> dt.date:
    """A strict ``YYYY-MM-DD`` date, or :class:`InvalidInput` naming ``field``."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise _invalid("calendar.date_format", "日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD", field=field)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _invalid(
            "calendar.date_invalid", f"日期 {value} 不存在", f"{value} is not a valid date", field=field
        ) from None


class Calendar:
    """The official calendar in memory: imported schedules over ``chinese_calendar`` over weekdays.

    Build one with :func:`load_calendar` (one database read), or directly in tests. ``builtin=False``
    ignores the bundled ``chinese_calendar`` data.
    """

    __slots__ = ("_builtin", "_imported")

    def __init__(self, schedules: Iterable[YearSchedule] = (), *, builtin: bool = True) -> None:
        self._imported: dict[int, YearSchedule] = {s.year: s for s in schedules}
        self._builtin = builtin

    @property
    def imported_years(self) -> list[int]:
        return sorted(self._imported)

    def source_of(self, year: int) -> Source | None:
        """Where ``year``'s calendar comes from, or ``None`` when it has no official data."""
        if year in self._imported:
            return "imported"
        if self._builtin and year in BUILTIN_YEARS:
            return "chinese_calendar"
        return None

    def covers(self, year: int) -> bool:
        return self.source_of(year) is not None

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day (weekdays count in years without official data)."""
        schedule = self._imported.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True
            return day.weekday() < 5 and day not in schedule.holidays
        if self._builtin and day.year in BUILTIN_YEARS:
            return day in _BUILTIN_WORKDAYS or (day.weekday() < 5 and day not in _BUILTIN_HOLIDAYS)
        return day.weekday() < 5

    def add_workdays(self, from_date: dt.date, workdays: int) -> DeadlineResult:
        """The ``workdays``-th working day after ``from_date``; ``from_date`` itself is not counted.

        This is the counting of Art 15 ("20个工作日内") and Art 18 ("自收到申请之日起15个工作日内"):
        the day of receipt or change is day zero.
        """
        n = check_workdays(workdays)
        day = from_date
        counted = 0
        uncovered: set[int] = set()
        year_covered = True
        current_year = None
        one = dt.timedelta(days=1)
        while counted < n:
            if day == dt.date.max:
                raise _invalid(
                    "calendar.date_out_of_range",
                    "期限超出可计算的日期范围",
                    "the deadline falls beyond the last date that can be computed",
                    field="from",
                )
            day += one
            if day.year != current_year:
                current_year = day.year
                year_covered = self.covers(current_year)
            if not year_covered:
                uncovered.add(current_year)
            if self.is_workday(day):
                counted += 1
        return DeadlineResult(deadline=day, provisional=bool(uncovered), uncovered_years=sorted(uncovered))

    def deadline(self, from_date: dt.date, workdays: int) -> DeadlineResult:
        """Alias of :meth:`add_workdays`: the deadline ``workdays`` working days after receipt."""
        return self.add_workdays(from_date, workdays)

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``(start, end]``; negative (``-workdays_between(end, start)``) if end < start.

        The inverse of :meth:`add_workdays`: ``workdays_between(d, add_workdays(d, n).deadline) == n``.
        """
        if end < start:
            return -self.workdays_between(end, start)
        count = 0
        day = start
        one = dt.timedelta(days=1)
        while day < end:
            day += one
            if self.is_workday(day):
                count += 1
        return count

    def uncovered_years(self, start: dt.date, end: dt.date) -> list[int]:
        """Years of ``(start, end]`` without official calendar data."""
        if end <= start:
            return []
        first = (start + dt.timedelta(days=1)).year
        return [y for y in range(first, end.year + 1) if not self.covers(y)]


# --------------------------------------------------------------------------------------------
# Schedule files


@dataclasses.dataclass(frozen=True, slots=True)
class _Problem:
    field: str
    zh: str
    en: str


def _refuse(problems: list[_Problem]) -> InvalidInput:
    shown = problems[:10]
    more_zh = f"；另有 {len(problems) - 10} 处问题" if len(problems) > 10 else ""
    more_en = f"; and {len(problems) - 10} more problems" if len(problems) > 10 else ""
    return _invalid(
        "calendar.schedule_invalid",
        "日历文件有误：" + "；".join(p.zh for p in shown) + more_zh,
        "Invalid calendar file: " + "; ".join(p.en for p in shown) + more_en,
        field=problems[0].field or None,
        problems=[{"field": p.field, "message_zh": p.zh, "message_en": p.en} for p in problems],
    )


def parse_schedule_json(text: str | bytes) -> Any:
    """Parse a schedule file's JSON, refusing syntax errors and repeated keys (a date listed twice)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise _refuse([_Problem(key, f"键 {key} 重复出现", f"key {key} appears twice")])
            seen[key] = value
        return seen

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except UnicodeDecodeError:
        raise _refuse([_Problem("", "文件不是 UTF-8 编码", "the file is not UTF-8")]) from None
    except json.JSONDecodeError as exc:
        raise _refuse(
            [
                _Problem(
                    "",
                    f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）",
                    f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                )
            ]
        ) from None
    except RecursionError:
        raise _refuse([_Problem("", "JSON 嵌套过深", "the JSON is nested too deeply")]) from None


def _check_days(section: str, value: object, year: int | None, problems: list[_Problem]) -> dict[dt.date, str]:
    if not isinstance(value, Mapping):
        problems.append(
            _Problem(
                section,
                f"{section} 应为 JSON 对象（日期 → 名称）",
                f"{section} must be a JSON object mapping dates to names",
            )
        )
        return {}
    days: dict[dt.date, str] = {}
    for key, name in value.items():
        field = f"{section}.{key}"
        if not isinstance(key, str) or not _ISO_DATE.fullmatch(key):
            problems.append(
                _Problem(
                    field,
                    f"{section} 中的 “{key}”：日期格式应为 YYYY-MM-DD",
                    f"{section}: '{key}': date must be YYYY-MM-DD",
                )
            )
            continue
        try:
            day = dt.date.fromisoformat(key)
        except ValueError:
            problems.append(
                _Problem(field, f"{section} 中的 {key} 不是有效日期", f"{section}: {key} is not a valid date")
            )
            continue
        if year is not None and day.year != year:
            problems.append(
                _Problem(field, f"{section} 中的 {key} 不在 {year} 年内", f"{section}: {key} is not in year {year}")
            )
            continue
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
            problems.append(
                _Problem(
                    field,
                    f"{section} 中 {key} 的名称应为非空字符串，不超过 {NAME_MAX} 字",
                    f"{section}: the name of {key} must be a non-empty string of at most {NAME_MAX} characters",
                )
            )
            continue
        days[day] = name.strip()
    return days


def validate_schedule(payload: object, *, source: str | None = None) -> YearSchedule:
    """Check a whole schedule file; :class:`InvalidInput` lists every problem found.

    ``source`` names where the file came from; a ``"source"`` in the file takes precedence.
    """
    problems: list[_Problem] = []
    if not isinstance(payload, Mapping):
        problems.append(
            _Problem(
                "",
                "日历文件应为 JSON 对象（含 year、holidays、workdays）",
                "the calendar file must be a JSON object with year, holidays and workdays",
            )
        )
        raise _refuse(problems)

    for key in ("year", "holidays", "workdays"):
        if key not in payload:
            problems.append(_Problem(key, f"缺少字段 {key}", f"missing field {key}"))
    for key in payload:
        if key not in ("year", "holidays", "workdays", "source"):
            problems.append(_Problem(str(key), f"不认识的字段 {key}", f"unknown field {key}"))

    year: int | None = None
    raw_year = payload.get("year")
    if "year" in payload:
        if isinstance(raw_year, bool) or not isinstance(raw_year, int):
            problems.append(_Problem("year", "year 应为整数年份", "year must be an integer"))
        elif not MIN_YEAR <= raw_year <= MAX_YEAR:
            problems.append(
                _Problem(
                    "year",
                    f"year 应在 {MIN_YEAR} 至 {MAX_YEAR} 之间",
                    f"year must be between {MIN_YEAR} and {MAX_YEAR}",
                )
            )
        else:
            year = raw_year

    file_source = payload.get("source")
    if file_source is not None and (
        not isinstance(file_source, str) or not file_source.strip() or len(file_source.strip()) > 200
    ):
        problems.append(
            _Problem(
                "source",
                "source 应为非空字符串，不超过 200 字",
                "source must be a non-empty string of at most 200 characters",
            )
        )
        file_source = None

    holidays = _check_days("holidays", payload["holidays"], year, problems) if "holidays" in payload else {}
    workdays = _check_days("workdays", payload["workdays"], year, problems) if "workdays" in payload else {}
    if "holidays" in payload and isinstance(payload["holidays"], Mapping) and not payload["holidays"]:
        problems.append(_Problem("holidays", "holidays 不能为空", "holidays must not be empty"))

    for day in sorted(holidays.keys() & workdays.keys()):
        iso = day.isoformat()
        problems.append(
            _Problem(
                f"workdays.{iso}",
                f"{iso} 同时出现在 holidays 和 workdays 中",
                f"{iso} appears in both holidays and workdays",
            )
        )
    for day in sorted(workdays):
        if day.weekday() < 5:
            iso = day.isoformat()
            problems.append(
                _Problem(
                    f"workdays.{iso}",
                    f"调休上班日 {iso} 是{_WEEKDAY_ZH[day.weekday()]}，不是周末",
                    f"make-up workday {iso} is a {day.strftime('%A')}, not a weekend day",
                )
            )

    if problems:
        raise _refuse(problems)
    assert year is not None
    name = file_source.strip() if isinstance(file_source, str) else (source.strip() if source else None)
    return YearSchedule(year=year, holidays=holidays, workdays=workdays, source=name or None)


def schedule_digest(schedule: YearSchedule) -> str:
    """SHA-256 of the schedule's canonical JSON (RFC 8785): the same content gives the same hash."""
    doc = {
        "year": schedule.year,
        "holidays": {d.isoformat(): n for d, n in schedule.holidays.items()},
        "workdays": {d.isoformat(): n for d, n in schedule.workdays.items()},
    }
    return hashlib.sha256(rfc8785.dumps(doc)).hexdigest()


# --------------------------------------------------------------------------------------------
# Services


@dataclasses.dataclass(frozen=True, slots=True)
class DayChange:
    date: str  # ISO date
    name: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class ScheduleChanges:
    """What importing a schedule changes in a year's working days, against the calendar in force
    (an earlier import, else ``chinese_calendar``, else plain weekdays). Only days whose status
    changes count: a holiday that falls on a weekend changes nothing.

    * ``holidays_added``: weekdays that become days off; ``holidays_removed``: weekday holidays
      that become working days again;
    * ``workdays_added``: weekend days that become make-up workdays; ``workdays_removed``: make-up
      workdays that become days off again.
    """

    holidays_added: tuple[DayChange, ...] = ()
    holidays_removed: tuple[DayChange, ...] = ()
    workdays_added: tuple[DayChange, ...] = ()
    workdays_removed: tuple[DayChange, ...] = ()

    def as_dict(self) -> dict[str, list[dict[str, str | None]]]:
        return {f.name: [dataclasses.asdict(d) for d in getattr(self, f.name)] for f in dataclasses.fields(self)}

    @property
    def drops_official_days(self) -> bool:
        return bool(self.holidays_removed or self.workdays_removed)

    def lines(self) -> list[str]:
        """One bilingual line per kind of change, for the command line and error details."""
        labels = (
            ("holidays_added", "新增假日", "holidays added"),
            ("holidays_removed", "删除假日（恢复为工作日）", "holidays removed (working days again)"),
            ("workdays_added", "新增调休上班日", "make-up workdays added"),
            ("workdays_removed", "删除调休上班日（恢复为休息日）", "make-up workdays removed (days off again)"),
        )
        out = []
        for attr, zh, en in labels:
            days: tuple[DayChange, ...] = getattr(self, attr)
            if days:
                listed = "、".join(d.date + (f"（{d.name}）" if d.name else "") for d in days)
                out.append(f"{zh} / {en} ({len(days)}): {listed}")
        return out


def _day_names(calendar: Calendar, year: int) -> dict[dt.date, str]:
    schedule = calendar._imported.get(year)
    if schedule is not None:
        return {**schedule.holidays, **schedule.workdays}
    if calendar._builtin and year in BUILTIN_YEARS:
        return {d: str(n) for src in (_BUILTIN_HOLIDAYS, _BUILTIN_WORKDAYS) for d, n in src.items() if d.year == year}
    return {}


def schedule_changes(current: Calendar, schedule: YearSchedule) -> ScheduleChanges:
    """How ``schedule`` would change its year against the ``current`` calendar."""
    new = Calendar([schedule])
    old_names, new_names = _day_names(current, schedule.year), _day_names(new, schedule.year)
    found: dict[str, list[DayChange]] = {k: [] for k in ("ha", "hr", "wa", "wr")}
    day = dt.date(schedule.year, 1, 1)
    while day.year == schedule.year:
        before, after = current.is_workday(day), new.is_workday(day)
        if before != after:
            weekend = day.weekday() >= 5
            key = ("wr" if weekend else "ha") if before else ("wa" if weekend else "hr")
            names = new_names if key in ("ha", "wa") else old_names
            found[key].append(DayChange(day.isoformat(), names.get(day)))
        day += dt.timedelta(days=1)
    return ScheduleChanges(tuple(found["ha"]), tuple(found["hr"]), tuple(found["wa"]), tuple(found["wr"]))


@dataclasses.dataclass(frozen=True, slots=True)
class ImportSummary:
    year: int
    holidays: int
    workdays: int
    replaced: bool
    source: str | None
    sha256: str
    changes: ScheduleChanges = ScheduleChanges()
    forced: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class ImportedYear:
    year: int
    source: str | None
    imported_at: dt.datetime
    holidays: int
    workdays: int


def import_schedule(
    session: Session, payload: object, *, actor: Actor, source: str | None = None, force: bool = False
) -> ImportSummary:
    """Store a yearly schedule, replacing any earlier import of that year, and record the event.

    The whole file is validated first; a malformed one raises :class:`InvalidInput` and nothing is
    written. A schedule that would turn official holidays back into working days, or drop make-up
    workdays, of the calendar in force for its year (an earlier import or ``chinese_calendar``) is
    refused with :class:`Conflict` listing the changes, unless ``force``: a file for a year the
    bundled data covers that lists only New Year's Day would otherwise silently delete the Spring
    Festival. The summary lists what changed. Flushes, never commits.
    """
    schedule = validate_schedule(payload, source=source)
    changes = schedule_changes(load_calendar(session, years=[schedule.year]), schedule)
    if changes.drops_official_days and not force:
        removed = [*changes.holidays_removed, *changes.workdays_removed]
        raise Conflict(
            "calendar.schedule.drops_official_days",
            f"该文件会删除 {schedule.year} 年现行日历中的 {len(removed)} 个法定假日或调休上班日，未导入；"
            "确认无误时请加 --force（接口：force=true）",
            f"The file would remove {len(removed)} official holidays or make-up workdays from the {schedule.year} "
            "calendar in force; nothing imported. If that is intended, use --force (API: force=true)",
            detail="; ".join(changes.lines()),
            field="holidays" if changes.holidays_removed else "workdays",
            extra={"changes": changes.as_dict()},
        )
    row = session.scalars(select(CalendarYear).where(CalendarYear.year == schedule.year)).one_or_none()
    replaced = row is not None
    now = clock.now()
    if row is None:
        row = CalendarYear(year=schedule.year, source=schedule.source, imported_at=now)
        session.add(row)
        session.flush()
    else:
        session.execute(delete(CalendarDay).where(CalendarDay.calendar_year_id == row.id))
        row.source = schedule.source
        row.imported_at = now
    session.add_all(
        [
            CalendarDay(calendar_year_id=row.id, date=d, kind="holiday", name=n)
            for d, n in sorted(schedule.holidays.items())
        ]
        + [
            CalendarDay(calendar_year_id=row.id, date=d, kind="workday", name=n)
            for d, n in sorted(schedule.workdays.items())
        ]
    )
    session.flush()
    summary = ImportSummary(
        year=schedule.year,
        holidays=len(schedule.holidays),
        workdays=len(schedule.workdays),
        replaced=replaced,
        source=schedule.source,
        sha256=schedule_digest(schedule),
        changes=changes,
        forced=force and changes.drops_official_days,
    )
    record(
        session,
        actor=actor,
        action=IMPORTED_ACTION,
        subject_type="calendar_year",
        subject_id=schedule.year,
        data=dataclasses.asdict(summary),
    )
    for listener in _IMPORT_LISTENERS:
        listener(session, summary, actor)
    return summary


def load_calendar(session: Session, *, years: Iterable[int] | None = None, from_year: int | None = None) -> Calendar:
    """One query: the imported schedules of ``years``, or of every year from ``from_year`` on
    (all imported years when neither is given), as an in-memory :class:`Calendar`."""
    stmt = select(
        CalendarYear.year, CalendarYear.source, CalendarDay.date, CalendarDay.kind, CalendarDay.name
    ).outerjoin(CalendarDay, CalendarDay.calendar_year_id == CalendarYear.id)
    if years is not None:
        stmt = stmt.where(CalendarYear.year.in_(list(years)))
    if from_year is not None:
        stmt = stmt.where(CalendarYear.year >= from_year)
    found: dict[int, tuple[str | None, dict[dt.date, str], dict[dt.date, str]]] = {}
    for year, source, day, kind, name in session.execute(stmt):
        entry = found.setdefault(year, (source, {}, {}))
        if day is not None:
            (entry[1] if kind == "holiday" else entry[2])[day] = name
    return Calendar(YearSchedule(year=y, holidays=h, workdays=w, source=s) for y, (s, h, w) in found.items())


def _calendar(session_or_calendar: Session | Calendar, **load: Any) -> Calendar:
    if isinstance(session_or_calendar, Calendar):
        return session_or_calendar
    return load_calendar(session_or_calendar, **load)


def is_workday(session_or_calendar: Session | Calendar, day: dt.date) -> bool:
    """Whether ``day`` is a working day on the official calendar."""
    return _calendar(session_or_calendar, years=[day.year]).is_workday(day)


def deadline(session_or_calendar: Session | Calendar, from_date: dt.date, workdays: int) -> DeadlineResult:
    """The deadline ``workdays`` working days after ``from_date`` (Art 15: 20; Art 18: 15).

    The day of receipt is not counted; the deadline is the Nth working day after it. Reads the
    database once when given a session.
    """
    check_workdays(workdays)
    return _calendar(session_or_calendar, from_year=from_date.year).add_workdays(from_date, workdays)


def workdays_between(session_or_calendar: Session | Calendar, start: dt.date, end: dt.date) -> int:
    """Working days in ``(start, end]`` on the official calendar (negative when end < start)."""
    lo, hi = min(start, end), max(start, end)
    return _calendar(session_or_calendar, years=range(lo.year, hi.year + 1)).workdays_between(start, end)


def list_imported_years(session: Session) -> list[ImportedYear]:
    """Imported schedules, ascending by year, with their holiday and make-up workday counts."""
    holidays = func.count(CalendarDay.id).filter(CalendarDay.kind == "holiday")
    workdays = func.count(CalendarDay.id).filter(CalendarDay.kind == "workday")
    stmt = (
        select(CalendarYear.year, CalendarYear.source, CalendarYear.imported_at, holidays, workdays)
        .outerjoin(CalendarDay, CalendarDay.calendar_year_id == CalendarYear.id)
        .group_by(CalendarYear.id, CalendarYear.year, CalendarYear.source, CalendarYear.imported_at)
        .order_by(CalendarYear.year)
    )
    return [
        ImportedYear(year=y, source=s, imported_at=at, holidays=h, workdays=w)
        for y, s, at, h, w in session.execute(stmt)
    ]
