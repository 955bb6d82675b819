"""Imported calendar schedules: the service on the database, the HTTP API and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import event, func, select
from typer.testing import CliRunner

from govshare.core import clock, workdays
from govshare.core.calendar_cli import app as calendar_cli
from govshare.core.db import transaction
from govshare.core.errors import Conflict, InvalidInput
from govshare.core.events import SYSTEM, Actor, Event
from govshare.core.workdays import CalendarDay, CalendarYear, DeadlineResult

D = dt.date

needs_2027_uncovered = pytest.mark.skipif(
    2027 in workdays.BUILTIN_YEARS, reason="this chinese_calendar release already ships 2027"
)

#: Made up for the tests, not the State Council's 2027 schedule.
TEST_2027 = {
    "year": 2027,
    "holidays": {"2027-01-01": "元旦", "2027-02-05": "春节", "2027-02-08": "春节"},
    "workdays": {"2027-01-09": "测试调休", "2027-02-20": "春节调休"},
    "source": "测试通知",
}

ADMIN = Actor("person", 7, "日历管理员")


def _counts(session):
    return (
        session.scalar(select(func.count()).select_from(CalendarYear)),
        session.scalar(select(func.count()).select_from(CalendarDay)),
        session.scalar(select(func.count()).select_from(Event).where(Event.action == workdays.IMPORTED_ACTION)),
    )


# ---------------------------------------------------------------------------------------------
# Service


def test_import_stores_the_schedule_and_records_one_event(session):
    with clock.frozen(dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)):
        summary = workdays.import_schedule(session, TEST_2027, actor=ADMIN, source="2027.json")
    session.commit()

    assert (summary.year, summary.holidays, summary.workdays, summary.replaced) == (2027, 3, 2, False)
    assert summary.source == "测试通知"
    row = session.scalars(select(CalendarYear)).one()
    assert (row.year, row.source) == (2027, "测试通知")
    assert row.imported_at == dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
    days = {(d.date, d.kind, d.name) for d in session.scalars(select(CalendarDay))}
    assert days == {
        (D(2027, 1, 1), "holiday", "元旦"),
        (D(2027, 2, 5), "holiday", "春节"),
        (D(2027, 2, 8), "holiday", "春节"),
        (D(2027, 1, 9), "workday", "测试调休"),
        (D(2027, 2, 20), "workday", "春节调休"),
    }
    ev = session.scalars(select(Event).where(Event.action == "calendar.schedule.imported")).one()
    assert (ev.actor, ev.actor_name, ev.subject_type, ev.subject_id) == (
        "person:7",
        "日历管理员",
        "calendar_year",
        "2027",
    )
    assert {k: v for k, v in ev.data.items() if k != "changes"} == {
        "year": 2027,
        "holidays": 3,
        "workdays": 2,
        "replaced": False,
        "source": "测试通知",
        "sha256": summary.sha256,
        "forced": False,
    }
    assert ev.data["changes"] == summary.changes.as_dict()


def test_reimporting_a_year_replaces_it(session):
    workdays.import_schedule(session, TEST_2027, actor=SYSTEM)
    session.commit()
    first_id = session.scalars(select(CalendarYear.id)).one()

    second = {"year": 2027, "holidays": {"2027-01-01": "元旦", "2027-01-04": "补假"}, "workdays": {}}
    with pytest.raises(Conflict) as refused:  # it drops the Spring Festival and both make-up days
        workdays.import_schedule(session, second, actor=SYSTEM, source="2027-v2.json")
    assert refused.value.code == "calendar.schedule.drops_official_days"
    session.rollback()
    summary = workdays.import_schedule(session, second, actor=SYSTEM, source="2027-v2.json", force=True)
    session.commit()

    assert summary.replaced
    assert session.scalars(select(CalendarYear.id)).one() == first_id
    assert session.scalars(select(CalendarYear.source)).one() == "2027-v2.json"
    assert sorted(session.scalars(select(CalendarDay.date))) == [D(2027, 1, 1), D(2027, 1, 4)]
    assert _counts(session) == (1, 2, 2)
    cal = workdays.load_calendar(session)
    assert not cal.is_workday(D(2027, 1, 4))
    assert not cal.is_workday(D(2027, 1, 9))  # the first file's make-up Saturday is gone


def test_same_content_gives_the_same_digest_whatever_the_key_order(session):
    a = workdays.import_schedule(session, TEST_2027, actor=SYSTEM)
    reordered = {
        "workdays": dict(reversed(list(TEST_2027["workdays"].items()))),
        "holidays": dict(reversed(list(TEST_2027["holidays"].items()))),
        "year": 2027,
    }
    b = workdays.import_schedule(session, reordered, actor=SYSTEM)
    assert a.sha256 == b.sha256


@pytest.mark.parametrize(
    "payload",
    [
        {**TEST_2027, "year": 2026},  # dates outside the year
        {**TEST_2027, "holidays": {**TEST_2027["holidays"], "2027-01-09": "元旦"}},  # holiday and workday
        {**TEST_2027, "workdays": {"2027-01-06": "调休"}},  # a Wednesday
        {**TEST_2027, "holidays": {"2027-1-1": "元旦"}},
        {"year": 2027, "holidays": {"2027-01-01": "元旦"}},
        ["not", "an", "object"],
    ],
)
def test_a_malformed_file_is_refused_and_nothing_is_stored(session, payload):
    workdays.import_schedule(session, {"year": 2028, "holidays": {"2028-01-01": "元旦"}, "workdays": {}}, actor=SYSTEM)
    session.commit()
    before = _counts(session)
    with pytest.raises(InvalidInput) as exc:
        workdays.import_schedule(session, payload, actor=SYSTEM)
    assert exc.value.code == "calendar.schedule_invalid"
    session.rollback()
    assert _counts(session) == before == (1, 1, 1)


@needs_2027_uncovered
def test_deadline_from_the_database_honours_imported_years(session):
    assert workdays.deadline(session, D(2026, 12, 30), 3) == DeadlineResult(D(2027, 1, 4), True, [2027])
    workdays.import_schedule(session, TEST_2027, actor=SYSTEM)
    assert workdays.deadline(session, D(2026, 12, 30), 3) == DeadlineResult(D(2027, 1, 5), False, [])
    assert workdays.is_workday(session, D(2027, 1, 9))
    assert not workdays.is_workday(session, D(2027, 1, 1))
    # 12-31, 01-04..08, Saturday 01-09 (make-up), 01-11
    assert workdays.workdays_between(session, D(2026, 12, 30), D(2027, 1, 11)) == 8


def test_an_imported_year_overrides_chinese_calendar_in_the_database(session):
    assert not workdays.is_workday(session, D(2025, 10, 1))
    workdays.import_schedule(
        session, {"year": 2025, "holidays": {"2025-01-01": "元旦"}, "workdays": {}}, actor=SYSTEM, force=True
    )
    assert workdays.is_workday(session, D(2025, 10, 1))
    assert workdays.deadline(session, D(2025, 9, 30), 1).deadline == D(2025, 10, 1)


def test_a_deadline_reads_the_database_once(session):
    workdays.import_schedule(session, TEST_2027, actor=SYSTEM)
    workdays.import_schedule(session, {"year": 2030, "holidays": {"2030-01-01": "元旦"}, "workdays": {}}, actor=SYSTEM)
    session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = workdays.deadline(session, D(2026, 1, 5), workdays.MAX_WORKDAYS)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert 2030 not in result.uncovered_years and 2027 not in result.uncovered_years


def test_list_imported_years(session):
    assert workdays.list_imported_years(session) == []
    workdays.import_schedule(session, TEST_2027, actor=SYSTEM)
    workdays.import_schedule(
        session, {"year": 2028, "holidays": {"2028-01-01": "元旦"}, "workdays": {}}, actor=SYSTEM, source="2028.json"
    )
    years = workdays.list_imported_years(session)
    assert [(y.year, y.source, y.holidays, y.workdays) for y in years] == [
        (2027, "测试通知", 3, 2),
        (2028, "2028.json", 1, 0),
    ]


# ---------------------------------------------------------------------------------------------
# HTTP API


def test_api_deadline_across_national_day_2025(client):
    r = client.get("/api/v1/calendar/deadline", params={"from": "2025-09-30", "workdays": 1})
    assert r.status_code == 200, r.text
    assert r.json() == {"deadline": "2025-10-09", "provisional": False, "uncovered_years": []}


@needs_2027_uncovered
def test_api_deadline_is_provisional_until_the_year_is_imported(client):
    params = {"from": "2026-12-30", "workdays": 3}
    assert client.get("/api/v1/calendar/deadline", params=params).json() == {
        "deadline": "2027-01-04",
        "provisional": True,
        "uncovered_years": [2027],
    }
    with transaction() as s:
        workdays.import_schedule(s, TEST_2027, actor=SYSTEM)
    assert client.get("/api/v1/calendar/deadline", params=params).json() == {
        "deadline": "2027-01-05",
        "provisional": False,
        "uncovered_years": [],
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025/09/30", "workdays": 1}, "from"),
        ({"from": "2025-02-29", "workdays": 1}, "from"),
        ({"workdays": 1}, "from"),
        ({"from": "2025-09-30", "workdays": 0}, "workdays"),
        ({"from": "2025-09-30", "workdays": 3651}, "workdays"),
        ({"from": "2025-09-30", "workdays": "ten"}, "workdays"),
        ({"from": "2025-09-30"}, "workdays"),
    ],
)
def test_api_bad_input_is_a_422_problem_naming_the_field(client, params, field):
    r = client.get("/api/v1/calendar/deadline", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["field"] == field
    assert body["status"] == 422
    assert "article" not in body


def test_api_bad_date_message_is_chinese_first_then_english(client):
    r = client.get("/api/v1/calendar/deadline", params={"from": "30.09.2025", "workdays": 1})
    assert r.json()["title"] == "日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD"
    r = client.get(
        "/api/v1/calendar/deadline", params={"from": "30.09.2025", "workdays": 1}, headers={"Accept-Language": "en"}
    )
    assert r.json()["title"] == "date must be YYYY-MM-DD"


def test_api_years(client):
    r = client.get("/api/v1/calendar/years")
    assert r.status_code == 200
    assert r.json()["items"] == []
    assert r.json()["builtin_first_year"] == 2004
    assert r.json()["builtin_last_year"] >= 2026
    with clock.frozen(dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)), transaction() as s:
        workdays.import_schedule(s, TEST_2027, actor=SYSTEM)
    item = client.get("/api/v1/calendar/years").json()["items"][0]
    assert item["year"] == 2027 and item["source"] == "测试通知"
    assert (item["holidays"], item["workdays"]) == (3, 2)
    assert dt.datetime.fromisoformat(item["imported_at"]) == dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


def test_api_calendar_routes_are_public_and_documented(client):
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/api/v1/calendar/deadline"]["get"]["parameters"]}
    assert set(params) == {"from", "workdays"}
    assert params["workdays"]["schema"]["minimum"] == 1
    assert params["workdays"]["schema"]["maximum"] == workdays.MAX_WORKDAYS
    assert "/api/v1/calendar/years" in spec["paths"]


# ---------------------------------------------------------------------------------------------
# CLI

runner = CliRunner()


def _stored():
    with transaction() as s:
        return _counts(s)


def test_cli_import_prints_a_summary_and_stores_the_year(tmp_path):
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(TEST_2027, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(calendar_cli, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2027" in result.stdout and "测试通知" in result.stdout
    assert _stored() == (1, 5, 1)
    with transaction() as s:
        ev = s.scalars(select(Event).where(Event.action == workdays.IMPORTED_ACTION)).one()
        assert ev.actor == "system"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"year": 2027, "holidays": {"2027-01-01": "元旦"},', "not valid JSON"),
        ('{"year": 2027, "holidays": {"2027-01-01": "a", "2027-01-01": "b"}, "workdays": {}}', "appears twice"),
        ('{"year": 2027, "holidays": {"2027-01-01": "元旦"}, "workdays": {"2027-01-06": "x"}}', "not a weekend day"),
        ('{"year": 2028, "holidays": {"2027-01-01": "元旦"}, "workdays": {}}', "not in year 2028"),
    ],
)
def test_cli_import_refuses_a_malformed_file_and_stores_nothing(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(calendar_cli, ["import", str(path)])
    assert result.exit_code == 1
    assert words in result.stderr
    assert "未导入" in result.stderr
    assert result.stdout == ""
    assert _stored() == (0, 0, 0)


def test_cli_deadline_prints_the_iso_date_alone_on_the_first_line():
    result = runner.invoke(calendar_cli, ["deadline", "--from", "2025-09-25", "--workdays", "15"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["2025-10-22"]


@needs_2027_uncovered
def test_cli_deadline_notes_provisional_years_until_imported(tmp_path):
    args = ["deadline", "--from", "2026-12-30", "--workdays", "3"]
    lines = runner.invoke(calendar_cli, args).stdout.splitlines()
    assert lines[0] == "2027-01-04"
    assert len(lines) == 2 and "2027" in lines[1] and "provisional" in lines[1]

    path = tmp_path / "2027.json"
    path.write_text(json.dumps(TEST_2027), encoding="utf-8")
    assert runner.invoke(calendar_cli, ["import", str(path)]).exit_code == 0
    assert runner.invoke(calendar_cli, args).stdout.splitlines() == ["2027-01-05"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "2025/09/25", "--workdays", "15"], "YYYY-MM-DD"),
        (["--from", "2025-09-25", "--workdays", "0"], "workdays must be between"),
    ],
)
def test_cli_deadline_bad_input_exits_non_zero(args, words):
    result = runner.invoke(calendar_cli, ["deadline", *args])
    assert result.exit_code == 1
    assert words in result.stderr
    assert result.stdout == ""


# ---------------------------------------------------------------------------------------------
# A schedule that drops official days of the calendar in force (issue #8)

ONLY_NEW_YEAR_2025 = {"year": 2025, "holidays": {"2025-01-01": "元旦"}, "workdays": {}}


def test_a_schedule_dropping_the_spring_festival_is_refused_with_the_changes(session):
    """2025 is in chinese_calendar: a file with only New Year's Day would silently make the Spring
    Festival, Labour Day and National Day working days and drop every make-up Saturday."""
    with pytest.raises(Conflict) as refused:
        workdays.import_schedule(session, ONLY_NEW_YEAR_2025, actor=SYSTEM)
    err = refused.value
    assert (err.code, err.status, err.field) == ("calendar.schedule.drops_official_days", 409, "holidays")
    changes = err.extra["changes"]
    removed = {c["date"] for c in changes["holidays_removed"]}
    assert {"2025-01-28", "2025-01-29", "2025-02-04", "2025-05-01", "2025-10-01", "2025-10-08"} <= removed
    assert "2025-02-01" not in removed  # a Saturday of the festival: it is a day off either way
    assert {c["date"] for c in changes["workdays_removed"]} == {
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
    }
    assert changes["holidays_added"] == [] and changes["workdays_added"] == []
    assert "2025-01-28（Spring Festival）" in err.detail
    session.rollback()
    assert _counts(session) == (0, 0, 0)
    assert not workdays.is_workday(session, D(2025, 1, 28))


def test_forced_it_applies_and_says_what_changed(session):
    summary = workdays.import_schedule(session, ONLY_NEW_YEAR_2025, actor=SYSTEM, force=True)
    assert summary.forced and len(summary.changes.holidays_removed) > 10
    assert workdays.is_workday(session, D(2025, 1, 28))
    ev = session.scalars(select(Event).where(Event.action == workdays.IMPORTED_ACTION)).one()
    assert (
        ev.data["forced"] is True
        and {"date": "2025-01-28", "name": "Spring Festival"} in (ev.data["changes"]["holidays_removed"])
    )


def test_a_schedule_that_only_adds_is_imported_and_lists_the_additions(session):
    official = {
        "year": 2025,
        "holidays": {d.isoformat(): "假日" for d in workdays._BUILTIN_HOLIDAYS if d.year == 2025},
        "workdays": {d.isoformat(): "调休" for d in workdays._BUILTIN_WORKDAYS if d.year == 2025},
    }
    same = workdays.import_schedule(session, official, actor=SYSTEM)
    assert same.changes == workdays.ScheduleChanges() and not same.forced
    extra = {**official, "holidays": {**official["holidays"], "2025-12-31": "跨年"}}
    summary = workdays.import_schedule(session, extra, actor=SYSTEM)
    assert [(c.date, c.name) for c in summary.changes.holidays_added] == [("2025-12-31", "跨年")]
    assert summary.replaced and not summary.forced


def test_replacing_an_earlier_import_compares_with_that_import(session):
    workdays.import_schedule(session, TEST_2027, actor=SYSTEM)
    without_make_up = {**TEST_2027, "workdays": {"2027-02-20": "春节调休"}}
    with pytest.raises(Conflict) as refused:
        workdays.import_schedule(session, without_make_up, actor=SYSTEM)
    assert refused.value.field == "workdays"
    assert refused.value.extra["changes"]["workdays_removed"] == [{"date": "2027-01-09", "name": "测试调休"}]


def _api_import(client, world, body, **params):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/calendar/years", json=body, params=params, headers=world.h("province_authority"))


def test_api_import_refuses_then_applies_with_force(client, world):
    r = _api_import(client, world, ONLY_NEW_YEAR_2025)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "calendar.schedule.drops_official_days"
    assert {"date": "2025-01-28", "name": "Spring Festival"} in body["changes"]["holidays_removed"]
    assert (
        client.get("/api/v1/calendar/deadline", params={"from": "2025-01-27", "workdays": 1}).json()["deadline"]
        == "2025-02-05"
    )
    r = _api_import(client, world, ONLY_NEW_YEAR_2025, force="true")
    assert r.status_code == 201, r.text
    assert r.json()["forced"] is True and r.json()["replaced"] is False
    assert {"date": "2025-01-28", "name": "Spring Festival"} in r.json()["changes"]["holidays_removed"]
    assert (
        client.get("/api/v1/calendar/deadline", params={"from": "2025-01-27", "workdays": 1}).json()["deadline"]
        == "2025-01-28"
    )


def test_api_import_is_for_the_provincial_authority(client, world):
    for who in ("suzhou_authority", "gat_admin", "supervisor"):
        r = client.post("/api/v1/calendar/years", json=TEST_2027, headers=world.h(who))
        assert r.status_code == 403, (who, r.text)
    assert client.post("/api/v1/calendar/years", json=TEST_2027).status_code == 401
    r = _api_import(client, world, {"year": 2027, "holidays": {}})
    assert r.status_code == 422 and r.json()["code"] == "calendar.schedule_invalid"


def test_cli_refuses_without_force_and_lists_the_changes(tmp_path):
    path = tmp_path / "2025.json"
    path.write_text(json.dumps(ONLY_NEW_YEAR_2025, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(calendar_cli, ["import", str(path)])
    assert result.exit_code == 1
    assert "--force" in result.stderr and "2025-01-28（Spring Festival）" in result.stderr
    assert "删除调休上班日" in result.stderr
    assert _stored() == (0, 0, 0)
    result = runner.invoke(calendar_cli, ["import", str(path), "--force"])
    assert result.exit_code == 0, result.output
    assert "删除假日" in result.stdout and "2025-10-01" in result.stdout
    assert _stored() == (1, 1, 1)


def test_cli_import_refuses_deeply_nested_json(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 5000, encoding="utf-8")
    result = runner.invoke(calendar_cli, ["import", str(path)])
    assert result.exit_code == 1 and "nested too deeply" in result.stderr
    assert not isinstance(result.exception, RecursionError)
