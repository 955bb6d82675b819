"""Quality checks (Art 12, Art 15(2)): exact counts on planted faults, freshness, the score."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from govshare.core.errors import InvalidInput
from govshare.core.identifiers import generate_id_numbers, make_uscc
from govshare.core.workdays import Calendar
from govshare.quality.checks import CHECK_RULES, DIMENSION_WEIGHTS, ColumnSpec, freshness_due, run_checks

AS_OF = dt.date(2026, 11, 26)
N = 200

SPECS = [
    ColumnSpec("身份证号", required=True, identifier="id_number"),
    ColumnSpec("姓名", required=True, max_length=4),
    ColumnSpec("性别", code_list=("男", "女")),
    ColumnSpec("出生日期", data_type="date", min_date=dt.date(1900, 1, 1), max_date=AS_OF),
    ColumnSpec("月收入", data_type="decimal", min_value=0, max_value=1_000_000),
    ColumnSpec("单位代码", identifier="uscc"),
    ColumnSpec("区划", identifier="region"),
]


@pytest.fixture(scope="module")
def data() -> tuple[duckdb.DuckDBPyConnection, duckdb.DuckDBPyRelation, list[str]]:
    ids = generate_id_numbers(N, seed=5)
    uscc = make_uscc("9", "1", "320508", "12345678")
    rows = []
    for i, number in enumerate(ids):
        row = [
            number,
            "张伟",
            "男" if i % 2 else "女",
            f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
            str(1000 + i),
            uscc,
            "320508",
        ]
        if i in (3, 4, 5):
            row[1] = None if i != 5 else "   "  # three blank names (spaces count as blank)
        if i == 6:
            row[0] = None  # a blank key: incomplete, not a duplicate
        if i in (10, 11):
            row[0] = number[:17] + ("0" if number[17] != "0" else "1")  # broken check digit
        if i == 12:
            row[0] = ids[13]  # duplicate of the next record's key
        if i == 20:
            row[1] = "欧阳某某某"  # too long
        if i in (21, 22):
            row[2] = "M"  # not in the code list
        if i == 23:
            row[3] = "1990年2月30日"  # no such date: wrong type
        if i == 24:
            row[3] = "2030-01-01"  # after as_of: out of range
        if i == 25:
            row[3] = "1990年1月2日"  # a Chinese date is a date
        if i == 26:
            row[4] = "很多"  # not a number
        if i == 27:
            row[4] = "-5"  # out of range
        if i == 28:
            row[5] = uscc[:17] + ("0" if uscc[17] != "0" else "1")
        if i == 29:
            row[6] = "329999"  # not in the registry
        rows.append(row)
    con = duckdb.connect()
    cols = ", ".join(f'v[{i + 1}] AS "{s.name}"' for i, s in enumerate(SPECS))
    con.execute(f"CREATE TABLE d AS SELECT {cols} FROM (SELECT unnest(?::VARCHAR[][]) AS v)", [rows])
    # ``月收入`` as a real number column, as a hosted Parquet dataset would type it
    con.execute('CREATE TABLE typed AS SELECT * REPLACE (TRY_CAST("月收入" AS DOUBLE) AS "月收入") FROM d')
    return con, con.table("d"), ids


def test_exact_findings(data) -> None:  # type: ignore[no-untyped-def]
    _con, rel, ids = data
    r = run_checks(rel, SPECS, as_of=AS_OF, key="身份证号", known_regions=["320508", "320506"])
    assert r.rows == N
    got = {(f.rule, f.column): (f.checked, f.failed) for f in r.findings}
    assert got == {
        ("quality.completeness", "身份证号"): (N, 1),
        ("quality.completeness", "姓名"): (N, 3),
        ("quality.validity.identifier", "身份证号"): (N - 1, 2),
        ("quality.validity.range", "姓名"): (N - 3, 1),
        ("quality.validity.code_list", "性别"): (N, 2),
        ("quality.validity.type", "出生日期"): (N, 1),
        ("quality.validity.range", "出生日期"): (N, 2),  # the impossible date fails its range too
        ("quality.validity.type", "月收入"): (N, 1),
        ("quality.validity.range", "月收入"): (N, 2),
        ("quality.validity.identifier", "单位代码"): (N, 1),
        ("quality.validity.identifier", "区划"): (N, 1),
        ("quality.uniqueness", "身份证号"): (N - 1, 2),
    }
    assert [s["row"] for s in r.finding("quality.completeness", "姓名").samples] == [4, 5, 6]
    ident = r.finding("quality.validity.identifier", "身份证号")
    assert [(s["row"], s["reason"]) for s in ident.samples] == [(11, "check_digit"), (12, "check_digit")]
    assert r.finding("quality.uniqueness", "身份证号").samples == [{"key": ids[13], "occurrences": 2, "row": 13}]
    assert r.finding("quality.validity.code_list", "性别").samples == [
        {"row": 22, "value": "M"},
        {"row": 23, "value": "M"},
    ]
    assert r.finding("quality.validity.identifier", "区划").samples[0]["reason"] == "unknown"
    assert not r.finding("quality.validity.identifier", "区划").passed

    # The score, recomputed from its definition.
    completeness = 1 - 4 / (N * 2)
    checks = (N - 1) + (N - 3) + N * 7
    validity = 1 - (2 + 1 + 2 + 1 + 2 + 1 + 2 + 1 + 1) / checks
    uniqueness = (N - 1 - 2) / (N - 1)
    assert r.dimensions == pytest.approx(
        {"completeness": completeness, "validity": validity, "uniqueness": uniqueness, "freshness": None}
    )
    w = DIMENSION_WEIGHTS
    expected = (
        100
        * (w["completeness"] * completeness + w["validity"] * validity + w["uniqueness"] * uniqueness)
        / (w["completeness"] + w["validity"] + w["uniqueness"])
    )
    assert r.score == round(expected, 1)
    assert all(f.to_dict()["article"].startswith("Art") for f in r.findings)


def test_typed_columns_and_a_clean_dataset(data) -> None:  # type: ignore[no-untyped-def]
    con, _rel, _ids = data
    r = run_checks(con.table("typed"), [SPECS[4]], as_of=AS_OF)
    assert (
        r.finding("quality.validity.range", "月收入").failed,
        r.finding("quality.validity.type", "月收入").failed,
    ) == (1, 0)  # '很多' became NULL: no longer a value, so no type fault; -5 still out of range
    clean = con.sql('SELECT * FROM d WHERE "身份证号" IS NOT NULL LIMIT 0')
    r = run_checks(clean, SPECS, as_of=AS_OF, key="身份证号")
    assert r.rows == 0 and r.score is None and all(f.passed for f in r.findings)


def test_freshness_by_cycle() -> None:
    assert freshness_due(dt.date(2026, 1, 31), "monthly") == dt.date(2026, 2, 28)
    assert freshness_due(dt.date(2026, 11, 30), "quarterly") == dt.date(2027, 2, 28)
    assert freshness_due(dt.date(2026, 11, 25), "daily") == dt.date(2026, 11, 26)
    assert freshness_due(dt.date(2024, 2, 29), "yearly") == dt.date(2025, 2, 28)
    assert freshness_due(dt.date(2026, 1, 1), "irregular") is None
    with pytest.raises(ValueError):
        freshness_due(dt.date(2026, 1, 1), "hourly")


@pytest.mark.parametrize(
    ("cycle", "last", "stale"),
    [
        ("daily", dt.date(2026, 11, 25), False),
        ("daily", dt.date(2026, 11, 24), True),
        ("weekly", dt.date(2026, 11, 19), False),
        ("weekly", dt.date(2026, 11, 18), True),
        ("monthly", dt.date(2026, 10, 26), False),
        ("monthly", dt.date(2026, 10, 25), True),
        ("yearly", dt.date(2025, 11, 26), False),
        ("realtime", dt.date(2026, 11, 24), True),
    ],
)
def test_freshness_finding_and_score(data, cycle: str, last: dt.date, stale: bool) -> None:  # type: ignore[no-untyped-def]
    _con, rel, _ids = data
    r = run_checks(rel, [], as_of=AS_OF, update_cycle=cycle, last_updated=last)
    assert r.finding("quality.freshness").failed == int(stale)
    assert r.dimensions["freshness"] == (0.0 if stale else 1.0)
    assert r.score == (0.0 if stale else 100.0)  # the only dimension assessed


def test_irregular_cycle_is_not_assessed(data) -> None:  # type: ignore[no-untyped-def]
    _con, rel, _ids = data
    r = run_checks(rel, [], as_of=AS_OF, update_cycle="irregular", last_updated=dt.date(2020, 1, 1))
    assert r.findings == [] and r.score is None


def test_update_within_20_working_days_of_a_change(data) -> None:  # type: ignore[no-untyped-def]
    _con, rel, _ids = data
    cal = Calendar(builtin=False)  # weekdays only: 20 working days after Mon 2 Nov 2026 is Mon 30 Nov
    changed = dt.date(2026, 11, 2)
    late = run_checks(
        rel, [], as_of=dt.date(2026, 12, 1), changed_on=changed, last_updated=dt.date(2026, 10, 1), workday_calendar=cal
    )
    assert late.finding("quality.update_after_change").failed == 1 and late.dimensions["freshness"] == 0.0
    waiting = run_checks(
        rel,
        [],
        as_of=dt.date(2026, 11, 30),
        changed_on=changed,
        last_updated=dt.date(2026, 10, 1),
        workday_calendar=cal,
    )
    assert waiting.finding("quality.update_after_change").passed
    updated = run_checks(
        rel, [], as_of=dt.date(2027, 1, 5), changed_on=changed, last_updated=dt.date(2026, 11, 30), workday_calendar=cal
    )
    assert updated.finding("quality.update_after_change").passed
    assert updated.finding("quality.update_after_change").article == "Art 15(2)"


def test_rules_say_what_and_why_and_bad_specs() -> None:
    for rule in CHECK_RULES.values():
        assert rule.name_zh and rule.name_en and rule.checks_zh and rule.why_zh and rule.why_en
        assert rule.article.startswith("Art ") and rule.dimension in DIMENSION_WEIGHTS
    with pytest.raises(ValueError):
        ColumnSpec("x", data_type="money")
    with pytest.raises(ValueError):
        ColumnSpec("x", identifier="passport")


def test_missing_column_is_refused(data) -> None:  # type: ignore[no-untyped-def]
    _con, rel, _ids = data
    with pytest.raises(InvalidInput) as info:
        run_checks(rel, [ColumnSpec("电话")], as_of=AS_OF)
    assert info.value.field == "电话" and info.value.code == "quality.input.column_missing"
