"""The working-day arithmetic of core.workdays, without a database.

Example dates are the State Council's real schedules as shipped by chinese_calendar:
2025 National Day (10-01..10-08 off; Sun 09-28 and Sat 10-11 worked) and
2026 Spring Festival (02-15..02-23 off; Sat 02-14 and Sat 02-28 worked).
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govshare.core.errors import InvalidInput
from govshare.core.workdays import (
    BUILTIN_YEARS,
    MAX_WORKDAYS,
    Calendar,
    DeadlineResult,
    YearSchedule,
    check_workdays,
    deadline,
    parse_date,
    parse_schedule_json,
    validate_schedule,
)

D = dt.date
REAL = Calendar()

needs_2027_uncovered = pytest.mark.skipif(
    2027 in BUILTIN_YEARS, reason="this chinese_calendar release already ships 2027"
)

#: A schedule made up for the tests (not the State Council's): New Year's Day off and
#: Saturday 2027-01-09 worked.
TEST_2027 = {
    "year": 2027,
    "holidays": {"2027-01-01": "元旦"},
    "workdays": {"2027-01-09": "测试调休"},
}


# ---------------------------------------------------------------------------------------------
# Real 2025 and 2026 holidays


def test_builtin_data_covers_2004_to_at_least_2026():
    assert BUILTIN_YEARS.start == 2004
    assert 2026 in BUILTIN_YEARS


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 9, 27), False),  # Saturday
        (D(2025, 9, 28), True),  # Sunday, make-up workday for National Day
        (D(2025, 10, 1), False),
        (D(2025, 10, 6), False),  # Mid-Autumn inside the National Day break
        (D(2025, 10, 8), False),  # Wednesday, still off
        (D(2025, 10, 9), True),
        (D(2025, 10, 11), True),  # Saturday, make-up workday
        (D(2025, 10, 12), False),
        (D(2026, 2, 14), True),  # Saturday, make-up workday for Spring Festival
        (D(2026, 2, 16), False),  # Monday in the Spring Festival break
        (D(2026, 2, 23), False),  # Monday, last day off
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday, make-up workday
        (D(2026, 3, 1), False),
    ],
)
def test_is_workday_on_real_holidays(day, working):
    assert REAL.is_workday(day) is working


def test_national_day_2025_one_working_day_skips_the_whole_break():
    # Received Tuesday 30 September: the next working day is Thursday 9 October.
    assert REAL.add_workdays(D(2025, 9, 30), 1) == DeadlineResult(D(2025, 10, 9), False, [])


def test_receipt_during_a_holiday_counts_from_the_first_working_day():
    assert REAL.add_workdays(D(2025, 10, 3), 1).deadline == D(2025, 10, 9)


def test_make_up_sunday_counts_as_a_working_day():
    # Received Friday 26 September 2025: Sunday 28 September is a working day.
    assert REAL.add_workdays(D(2025, 9, 26), 1).deadline == D(2025, 9, 28)


def test_make_up_saturday_counts_as_a_working_day():
    # Received Friday 10 October 2025: Saturday 11 October is a working day.
    assert REAL.add_workdays(D(2025, 10, 10), 1).deadline == D(2025, 10, 11)
    # Received Friday 13 February 2026: Saturday 14 February is a working day.
    assert REAL.add_workdays(D(2026, 2, 13), 1).deadline == D(2026, 2, 14)


def test_art_18_fifteen_working_days_across_national_day_2025():
    # 09-26(1) 09-28(2) 09-29(3) 09-30(4) 10-09(5) 10-10(6) 10-11(7) 10-13..17(8-12) 10-20..22(13-15)
    assert REAL.deadline(D(2025, 9, 25), 15) == DeadlineResult(D(2025, 10, 22), False, [])


def test_spring_festival_2026():
    # 02-13(1) 02-14 Sat(2), then the break 02-15..02-23, then 02-24(3).
    assert REAL.add_workdays(D(2026, 2, 12), 3).deadline == D(2026, 2, 24)
    # Art 15's 20 working days: ... 02-24..27(3-6) 02-28 Sat(7) 03-02..06(8-12) 03-09..13(13-17) 03-16..18
    assert REAL.add_workdays(D(2026, 2, 12), 20).deadline == D(2026, 3, 18)


def test_spring_festival_2025_make_up_sunday_and_saturday():
    # 2025: 01-28..02-04 off, Sunday 01-26 and Saturday 02-08 worked.
    assert REAL.add_workdays(D(2025, 1, 24), 1).deadline == D(2025, 1, 26)
    assert REAL.add_workdays(D(2025, 1, 27), 1).deadline == D(2025, 2, 5)
    assert REAL.add_workdays(D(2025, 2, 7), 1).deadline == D(2025, 2, 8)


def test_ends_at_is_the_end_of_the_deadline_day_in_shanghai():
    result = REAL.add_workdays(D(2025, 9, 30), 1)
    assert result.ends_at == dt.datetime(2025, 10, 9, 16, 0, tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------------
# Years without official data


@needs_2027_uncovered
def test_deadline_crossing_into_2027_is_provisional_until_2027_is_imported():
    # Without data: 12-31(1), Friday 2027-01-01 counted as a weekday (2), 01-04(3).
    assert REAL.add_workdays(D(2026, 12, 30), 3) == DeadlineResult(D(2027, 1, 4), True, [2027])

    imported = Calendar([validate_schedule(TEST_2027)])
    # With the imported schedule New Year's Day is off: 12-31(1), 01-04(2), 01-05(3).
    assert imported.add_workdays(D(2026, 12, 30), 3) == DeadlineResult(D(2027, 1, 5), False, [])
    # ... and its make-up Saturday is worked.
    assert imported.add_workdays(D(2027, 1, 8), 1) == DeadlineResult(D(2027, 1, 9), False, [])


@needs_2027_uncovered
def test_deadline_that_stays_in_2026_is_not_provisional():
    assert REAL.add_workdays(D(2026, 12, 28), 3) == DeadlineResult(D(2026, 12, 31), False, [])


def test_years_without_any_data_count_weekdays_and_list_every_year():
    result = REAL.add_workdays(D(2099, 12, 31), 300)
    assert result.provisional
    assert result.uncovered_years == [2100, 2101]
    assert Calendar(builtin=False).add_workdays(D(2025, 9, 30), 1) == DeadlineResult(D(2025, 10, 1), True, [2025])


def test_imported_year_takes_precedence_over_chinese_calendar():
    # A (made-up) 2025 schedule without National Day: 1 October becomes an ordinary Wednesday,
    # and Sunday 28 September an ordinary Sunday.
    schedule = validate_schedule({"year": 2025, "holidays": {"2025-01-01": "元旦"}, "workdays": {}})
    override = Calendar([schedule])
    assert override.source_of(2025) == "imported"
    assert override.is_workday(D(2025, 10, 1))
    assert not override.is_workday(D(2025, 9, 28))
    assert not override.is_workday(D(2025, 1, 1))
    assert override.add_workdays(D(2025, 9, 30), 1).deadline == D(2025, 10, 1)
    # Other years still come from chinese_calendar.
    assert override.source_of(2026) == "chinese_calendar"
    assert not override.is_workday(D(2026, 2, 16))


def test_builtin_years_agree_with_chinese_calendar_day_by_day():
    day = D(BUILTIN_YEARS.start, 1, 1)
    end = D(BUILTIN_YEARS.stop - 1, 12, 31)
    while day <= end:
        assert REAL.is_workday(day) is chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_the_last_representable_date_is_refused_not_crashed():
    with pytest.raises(InvalidInput) as exc:
        REAL.add_workdays(D(9999, 12, 30), 5)
    assert exc.value.field == "from"


# ---------------------------------------------------------------------------------------------
# Input checks


@pytest.mark.parametrize("bad", [0, -1, MAX_WORKDAYS + 1, True, 1.5, "3", None])
def test_workdays_out_of_range_or_not_an_integer_is_refused_naming_the_field(bad):
    with pytest.raises(InvalidInput) as exc:
        REAL.add_workdays(D(2025, 1, 2), bad)
    assert exc.value.field == "workdays"
    assert exc.value.status == 422
    with pytest.raises(InvalidInput):
        deadline(REAL, D(2025, 1, 2), bad)


def test_workday_bounds_are_inclusive():
    assert check_workdays(1) == 1
    assert check_workdays(MAX_WORKDAYS) == MAX_WORKDAYS
    assert REAL.add_workdays(D(2025, 1, 2), MAX_WORKDAYS).deadline > D(2039, 1, 1)


@pytest.mark.parametrize("bad", ["2025-1-2", "2025/01/02", "20250102", "2025-01-02T00:00", "", " 2025-01-02"])
def test_parse_date_needs_yyyy_mm_dd(bad):
    with pytest.raises(InvalidInput) as exc:
        parse_date(bad)
    assert exc.value.code == "calendar.date_format"
    assert exc.value.field == "from"
    assert exc.value.title("zh") == "日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD"


def test_parse_date_refuses_a_day_that_does_not_exist():
    with pytest.raises(InvalidInput) as exc:
        parse_date("2025-02-29")
    assert exc.value.code == "calendar.date_invalid"
    assert "2025-02-29" in exc.value.title("en")


# ---------------------------------------------------------------------------------------------
# Schedule files


def test_a_valid_schedule():
    schedule = validate_schedule({**TEST_2027, "source": " 测试通知 "}, source="2027.json")
    assert schedule == YearSchedule(2027, {D(2027, 1, 1): "元旦"}, {D(2027, 1, 9): "测试调休"}, source="测试通知")
    assert validate_schedule(TEST_2027, source="2027.json").source == "2027.json"


def _problem_fields(payload):
    with pytest.raises(InvalidInput) as exc:
        validate_schedule(payload)
    assert exc.value.code == "calendar.schedule_invalid"
    assert exc.value.status == 422
    return exc.value, [p["field"] for p in exc.value.extra["problems"]]


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ([2027], "", "JSON object"),
        ("2027", "", "JSON object"),
        ({"holidays": {"2027-01-01": "元旦"}, "workdays": {}}, "year", "missing field year"),
        ({"year": 2027, "workdays": {}}, "holidays", "missing field holidays"),
        ({"year": 2027, "holidays": {"2027-01-01": "元旦"}}, "workdays", "missing field workdays"),
        ({**TEST_2027, "year": "2027"}, "year", "year must be an integer"),
        ({**TEST_2027, "year": True}, "year", "year must be an integer"),
        ({**TEST_2027, "year": 20270}, "year", "between"),
        ({**TEST_2027, "holiday": {}}, "holiday", "unknown field holiday"),
        ({**TEST_2027, "holidays": ["2027-01-01"]}, "holidays", "JSON object mapping dates"),
        ({**TEST_2027, "holidays": {}}, "holidays", "must not be empty"),
        ({**TEST_2027, "holidays": {"2027-1-1": "元旦"}}, "holidays.2027-1-1", "YYYY-MM-DD"),
        ({**TEST_2027, "holidays": {"2027/01/01": "元旦"}}, "holidays.2027/01/01", "YYYY-MM-DD"),
        ({**TEST_2027, "holidays": {"2027-02-29": "x"}}, "holidays.2027-02-29", "not a valid date"),
        ({**TEST_2027, "holidays": {"2026-12-31": "元旦"}}, "holidays.2026-12-31", "not in year 2027"),
        ({**TEST_2027, "workdays": {"2028-01-08": "x"}}, "workdays.2028-01-08", "not in year 2027"),
        ({**TEST_2027, "holidays": {"2027-01-01": ""}}, "holidays.2027-01-01", "non-empty string"),
        ({**TEST_2027, "holidays": {"2027-01-01": 1}}, "holidays.2027-01-01", "non-empty string"),
        ({**TEST_2027, "holidays": {"2027-01-01": "x" * 101}}, "holidays.2027-01-01", "non-empty string"),
        (
            {**TEST_2027, "holidays": {"2027-01-09": "元旦"}},
            "workdays.2027-01-09",
            "2027-01-09 appears in both holidays and workdays",
        ),
        (
            {**TEST_2027, "workdays": {"2027-01-05": "调休"}},
            "workdays.2027-01-05",
            "make-up workday 2027-01-05 is a Tuesday, not a weekend day",
        ),
        ({**TEST_2027, "source": 7}, "source", "source must be"),
    ],
)
def test_malformed_schedules_are_refused_naming_the_problem(payload, field, words):
    error, fields = _problem_fields(payload)
    assert field in fields
    assert words in error.title("en")
    assert error.title("zh").startswith("日历文件有误：")


def test_every_problem_of_a_file_is_reported_at_once():
    error, fields = _problem_fields(
        {"year": 2027, "holidays": {"2027-13-01": "x", "2026-01-01": "y"}, "workdays": {"2027-01-04": "z"}}
    )
    assert fields == ["holidays.2027-13-01", "holidays.2026-01-01", "workdays.2027-01-04"]
    assert "星期一" in error.title("zh")


def test_parse_schedule_json_refuses_bad_json_and_repeated_dates():
    with pytest.raises(InvalidInput) as exc:
        parse_schedule_json('{"year": 2027,')
    assert "not valid JSON" in exc.value.title("en")
    with pytest.raises(InvalidInput) as exc:
        parse_schedule_json('{"year": 2027, "holidays": {"2027-01-01": "a", "2027-01-01": "b"}, "workdays": {}}')
    assert "2027-01-01 appears twice" in exc.value.title("en")
    with pytest.raises(InvalidInput) as exc:
        parse_schedule_json(b"\xff\xfe{")
    assert exc.value.code == "calendar.schedule_invalid"
    assert parse_schedule_json('{"year": 2027}') == {"year": 2027}


# ---------------------------------------------------------------------------------------------
# Properties of the arithmetic

DAY_MIN, DAY_MAX = D(2027, 1, 1), D(2027, 12, 31)


@st.composite
def schedules_2027(draw):
    """A random but valid 2027 schedule: any holidays, make-up days only on free weekends."""
    offsets = st.integers(0, (DAY_MAX - DAY_MIN).days)
    holidays = {DAY_MIN + dt.timedelta(days=o) for o in draw(st.sets(offsets, min_size=1, max_size=40))}
    weekends = [DAY_MIN + dt.timedelta(days=o) for o in range(365)]
    weekends = [d for d in weekends if d.weekday() >= 5 and d not in holidays]
    workdays = draw(st.sets(st.sampled_from(weekends), max_size=10))
    return validate_schedule(
        {
            "year": 2027,
            "holidays": {d.isoformat(): "假日" for d in holidays},
            "workdays": {d.isoformat(): "调休" for d in workdays},
        }
    )


calendars = st.one_of(
    st.just(REAL),
    st.just(Calendar(builtin=False)),
    schedules_2027().map(lambda s: Calendar([s])),
)
dates = st.dates(min_value=D(2002, 6, 1), max_value=D(2029, 12, 31))
counts = st.integers(min_value=1, max_value=300)


@settings(max_examples=200, deadline=None)
@given(calendars, dates, counts)
def test_deadline_is_a_working_day_strictly_after_receipt_with_exactly_n_between(cal, start, n):
    result = cal.add_workdays(start, n)
    assert result.deadline > start
    assert cal.is_workday(result.deadline)
    assert cal.workdays_between(start, result.deadline) == n
    # Exactly N: the day before the deadline has only N-1 working days after receipt.
    assert cal.workdays_between(start, result.deadline - dt.timedelta(days=1)) == n - 1
    assert cal.workdays_between(result.deadline, start) == -n


@settings(max_examples=200, deadline=None)
@given(calendars, dates, counts)
def test_provisional_exactly_when_a_counted_day_lies_in_a_year_without_data(cal, start, n):
    result = cal.add_workdays(start, n)
    assert result.uncovered_years == cal.uncovered_years(start, result.deadline)
    assert result.provisional == bool(result.uncovered_years)
    assert all(not cal.covers(y) for y in result.uncovered_years)


@settings(max_examples=200, deadline=None)
@given(calendars, dates, counts, counts)
def test_deadline_is_strictly_monotonic_in_n(cal, start, n, m):
    if n == m:
        assert cal.add_workdays(start, n) == cal.add_workdays(start, m)
    else:
        lo, hi = sorted((n, m))
        assert cal.add_workdays(start, lo).deadline < cal.add_workdays(start, hi).deadline


@settings(max_examples=200, deadline=None)
@given(calendars, dates, counts, counts)
def test_adding_n_then_m_equals_adding_n_plus_m(cal, start, n, m):
    first = cal.add_workdays(start, n)
    second = cal.add_workdays(first.deadline, m)
    both = cal.add_workdays(start, n + m)
    assert second.deadline == both.deadline
    assert sorted(set(first.uncovered_years) | set(second.uncovered_years)) == both.uncovered_years


@settings(max_examples=100, deadline=None)
@given(dates, counts)
def test_weekday_only_calendar_matches_a_closed_form(start, n):
    # With no holidays, N working days are N // 5 whole weeks plus the remainder.
    result = Calendar(builtin=False).add_workdays(start, n)
    day, left = start, n
    weeks, left = divmod(left - 1, 5)
    day += dt.timedelta(weeks=weeks)
    left += 1
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    assert result.deadline == day
