"""Quality checks of a hosted dataset version (Art 12, Art 15(2)): pure functions over DuckDB.

Art 12 obliges agencies to keep their information "真实、准确、完整、及时" (true, accurate, complete,
timely); Art 15(2) to update shared information within 20 working days of a change. Each rule
below names what it checks, why, and its article (:data:`CHECK_RULES`). Given a DuckDB relation
and the specification of its columns (:class:`ColumnSpec`), :func:`run_checks` answers with a
:class:`QualityReport`: one :class:`Finding` per rule and column, samples naming the record
(1 = the first record), four dimension scores and an overall score.

**The score** (0-100) is the weighted mean of the dimensions that could be assessed, each a share
between 0 and 1:

* completeness (weight 0.3): filled cells of required items / (records x required items);
* validity (weight 0.3): cells passing their checks / cells checked; each non-blank cell counts once
  per check that applies to it (type, check digit, code list, range, length); blank cells are
  completeness' business and are not checked;
* uniqueness (weight 0.2): records whose key occurs once / records with a key;
* freshness (weight 0.2): 1 when the last update lies within the update cycle (and, when a change
  date is known, the Art 15(2) deadline is kept), else 0.

A dimension with nothing to assess (no required items, no checks, no key, an irregular cycle) is
left out and the other weights are scaled up, so the score is never lowered by what was not
asked. Everything heavy is one aggregate query over the relation; samples are fetched only for
failing checks.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from govshare.core.identifiers import (
    REASONS,
    id_number_reason_sql,
    region_code_reason_sql,
    sql_date,
    uscc_reason_sql,
)
from govshare.core.workdays import Calendar
from govshare.quality.normalize import RULES as NORMALIZATION_RULES
from govshare.quality.sources import ident, lit

#: Art 15(2): shared information is updated within 20 working days of a change.
UPDATE_AFTER_CHANGE_WORKDAYS = 20

DATA_TYPES: dict[str, tuple[str, str]] = {
    "text": ("文本", "text"),
    "integer": ("整数", "integer"),
    "decimal": ("数值", "number"),
    "date": ("日期", "date"),
    "datetime": ("日期时间", "date and time"),
    "boolean": ("是否", "yes/no"),
}
IDENTIFIERS: dict[str, tuple[str, str]] = {
    "id_number": ("公民身份号码（GB 11643）", "citizen identity number (GB 11643)"),
    "uscc": ("统一社会信用代码（GB 32100）", "unified social credit code (GB 32100)"),
    "region": ("行政区划代码（GB/T 2260）", "region code (GB/T 2260)"),
}


@dataclass(frozen=True)
class CheckRule:
    code: str
    name_zh: str
    name_en: str
    checks_zh: str
    checks_en: str
    why_zh: str
    why_en: str
    article: str
    dimension: str


CHECK_RULES: dict[str, CheckRule] = {
    r.code: r
    for r in (
        CheckRule(
            "quality.completeness",
            "完整性",
            "completeness",
            "必填数据项不为空（空白视同为空）",
            "required items are filled (blank counts as empty)",
            "信息应当完整",
            "information must be complete",
            "Art 12",
            "completeness",
        ),
        CheckRule(
            "quality.validity.type",
            "数据类型",
            "data type",
            "值符合数据项的类型（整数、数值、日期、日期时间、是否）",
            "values have the item's type (integer, number, date, date and time, yes/no)",
            "信息应当准确；类型不符的值无法被使用方处理",
            "information must be accurate; a value of the wrong type cannot be used",
            "Art 12",
            "validity",
        ),
        CheckRule(
            "quality.validity.identifier",
            "代码校验",
            "identifier check",
            "公民身份号码符合 GB 11643（含校验码和出生日期），统一社会信用代码符合 GB 32100，行政区划代码在区划库中",
            "identity numbers pass GB 11643 (check digit, birth date), credit codes GB 32100, region codes "
            "are in the registry",
            "错误的主键使数据无法比对和共享",
            "a wrong key makes data impossible to match and share",
            "Art 12",
            "validity",
        ),
        CheckRule(
            "quality.validity.code_list",
            "代码表",
            "code list",
            "值属于数据项规定的代码表",
            "values belong to the item's code list",
            "按照统一标准提供数据",
            "data are provided to a unified standard",
            "Art 12, Art 15(1)",
            "validity",
        ),
        CheckRule(
            "quality.validity.range",
            "取值范围",
            "range",
            "数值或日期在规定范围内，文本不超过规定长度",
            "numbers and dates lie in their range, text within its length",
            "超出合理范围的值多为录入错误",
            "values out of range are mostly typing errors",
            "Art 12",
            "validity",
        ),
        CheckRule(
            "quality.uniqueness",
            "主键唯一",
            "unique key",
            "每个主键只出现一次",
            "each key occurs once",
            "一个数据一个来源：同一主体出现多条记录时无法确定哪条为准",
            "one datum, one source: with several records for one subject, none can be relied on",
            "Art 11, Art 12",
            "uniqueness",
        ),
        CheckRule(
            "quality.freshness",
            "及时更新",
            "timeliness",
            "最近一次更新距今不超过目录登记的更新周期",
            "the last update is no older than the update cycle registered in the catalog",
            "信息应当及时",
            "information must be timely",
            "Art 12",
            "freshness",
        ),
        CheckRule(
            "quality.update_after_change",
            "变更后 20 个工作日内更新",
            "updated within 20 working days of a change",
            "共享信息变更后 20 个工作日内已更新",
            "shared information was updated within 20 working days of its change",
            "行政机关应当对共享信息实行动态管理",
            "agencies keep shared information up to date",
            "Art 15(2)",
            "freshness",
        ),
    )
}

DIMENSION_WEIGHTS = {"completeness": 0.3, "validity": 0.3, "uniqueness": 0.2, "freshness": 0.2}

#: Longest an entry may go without update, per update cycle (``catalog.rules.UPDATE_CYCLES``):
#: ("days", n) or ("months", n); ``None``: not assessed.
CYCLE_ALLOWANCE: dict[str, tuple[str, int] | None] = {
    "realtime": ("days", 1),
    "daily": ("days", 1),
    "weekly": ("days", 7),
    "monthly": ("months", 1),
    "quarterly": ("months", 3),
    "half_yearly": ("months", 6),
    "yearly": ("months", 12),
    "irregular": None,
}


@dataclass(frozen=True)
class ColumnSpec:
    """What an item of a dataset must be. Ranges bound numbers (``min_value``/``max_value``) or
    dates (``min_date``/``max_date``); ``code_list`` lists the allowed codes."""

    name: str
    label: str | None = None
    required: bool = False
    data_type: str = "text"
    identifier: str | None = None
    code_list: Sequence[str] | None = None
    min_value: float | None = None
    max_value: float | None = None
    min_date: dt.date | None = None
    max_date: dt.date | None = None
    max_length: int | None = None

    def __post_init__(self) -> None:
        if self.data_type not in DATA_TYPES:
            raise ValueError(f"unknown data type {self.data_type!r}")
        if self.identifier is not None and self.identifier not in IDENTIFIERS:
            raise ValueError(f"unknown identifier kind {self.identifier!r}")


@dataclass
class Finding:
    rule: str
    column: str | None
    checked: int
    failed: int
    samples: list[dict[str, Any]] = field(default_factory=list)
    detail: str | None = None

    @property
    def passed(self) -> bool:
        return self.failed == 0

    @property
    def article(self) -> str:
        return CHECK_RULES[self.rule].article

    def to_dict(self) -> dict[str, Any]:
        rule = CHECK_RULES[self.rule]
        return {
            **asdict(self),
            "passed": self.passed,
            "article": rule.article,
            "name_zh": rule.name_zh,
            "name_en": rule.name_en,
        }


@dataclass
class QualityReport:
    rows: int
    as_of: dt.date
    findings: list[Finding]
    dimensions: dict[str, float | None]
    score: float | None

    def finding(self, rule: str, column: str | None = None) -> Finding:
        return next(f for f in self.findings if f.rule == rule and f.column == column)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "dimensions": self.dimensions,
            "findings": [f.to_dict() for f in self.findings],
        }


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def freshness_due(last_updated: dt.date, update_cycle: str) -> dt.date | None:
    """The day by which the next update is due, or ``None`` when the cycle sets none."""
    if update_cycle not in CYCLE_ALLOWANCE:
        raise ValueError(f"unknown update cycle {update_cycle!r}")
    allowance = CYCLE_ALLOWANCE[update_cycle]
    if allowance is None:
        return None
    unit, n = allowance
    return last_updated + dt.timedelta(days=n) if unit == "days" else _add_months(last_updated, n)


# --- the SQL of each check -----------------------------------------------------------------------


def _v(name: str) -> str:
    return f"nullif(trim(CAST({ident(name)} AS VARCHAR)), '')"


def _as_date(v: str) -> str:
    return f"TRY_CAST({NORMALIZATION_RULES['date'].sql(v)} AS DATE)"


def _type_ok(spec: ColumnSpec, v: str) -> str | None:
    return {
        "text": None,
        "integer": f"TRY_CAST({v} AS BIGINT) IS NOT NULL",
        "decimal": f"TRY_CAST({v} AS DOUBLE) IS NOT NULL",
        "date": f"{_as_date(v)} IS NOT NULL",
        "datetime": f"TRY_CAST({v} AS TIMESTAMP) IS NOT NULL",
        "boolean": f"lower({v}) IN ('true', 'false', '1', '0', 'y', 'n', 'yes', 'no', '是', '否')",
    }[spec.data_type]


def _identifier_ok(spec: ColumnSpec, v: str, as_of: dt.date, regions_table: str | None) -> str | None:
    if spec.identifier == "id_number":
        return f"{id_number_reason_sql(v, sql_date(as_of))} IS NULL"
    if spec.identifier == "uscc":
        return f"{uscc_reason_sql(v)} IS NULL"
    if spec.identifier == "region":
        return f"{region_code_reason_sql(v, regions_table)} IS NULL"
    return None


def _range_ok(spec: ColumnSpec, v: str) -> str | None:
    parts = []
    if spec.min_value is not None or spec.max_value is not None:
        n = f"TRY_CAST({v} AS DOUBLE)"
        if spec.min_value is not None:
            parts.append(f"{n} >= {float(spec.min_value)!r}")
        if spec.max_value is not None:
            parts.append(f"{n} <= {float(spec.max_value)!r}")
    if spec.min_date is not None or spec.max_date is not None:
        d = _as_date(v)
        if spec.min_date is not None:
            parts.append(f"{d} >= {sql_date(spec.min_date)}")
        if spec.max_date is not None:
            parts.append(f"{d} <= {sql_date(spec.max_date)}")
    if spec.max_length is not None:
        parts.append(f"length({v}) <= {int(spec.max_length)}")
    return f"coalesce({' AND '.join(parts)}, false)" if parts else None


def run_checks(
    relation: duckdb.DuckDBPyRelation,
    columns: Sequence[ColumnSpec],
    *,
    as_of: dt.date,
    key: str | None = None,
    update_cycle: str | None = None,
    last_updated: dt.date | None = None,
    changed_on: dt.date | None = None,
    workday_calendar: Calendar | None = None,
    known_regions: Sequence[str] | None = None,
    samples: int = 5,
) -> QualityReport:
    """Check ``relation`` against ``columns``; see the module docstring for what and how it scores.

    ``key`` names the column that must be unique. ``update_cycle`` and ``last_updated`` give
    freshness; ``changed_on`` (the last known change of the source information) adds the Art 15(2)
    check, counted in working days on ``workday_calendar`` (default: the built-in official calendar).
    ``known_regions`` are the registry's region codes for region identifiers."""
    names = list(relation.columns)
    missing = [c.name for c in columns if c.name not in names] + ([key] if key and key not in names else [])
    if missing:
        from govshare.core.errors import InvalidInput

        raise InvalidInput(
            "quality.input.column_missing",
            "数据中没有这一列",
            "The data has no such column",
            detail=f"{', '.join(missing)}; 现有列 / columns: {', '.join(names)}",
            field=missing[0],
        )
    regions_values = ""
    if known_regions is not None:
        regions_values = ", ".join(f"({lit(c)})" for c in sorted(set(known_regions))) or "(NULL)"
    regions_table = "known_regions" if known_regions is not None else None

    # Every check as (rule, column, SQL condition that holds for a passing non-blank value).
    checks: list[tuple[str, ColumnSpec, str]] = []
    for spec in columns:
        v = _v(spec.name)
        for rule, cond in (
            ("quality.validity.type", _type_ok(spec, v)),
            ("quality.validity.identifier", _identifier_ok(spec, v, as_of, regions_table)),
            (
                "quality.validity.code_list",
                f"list_contains([{', '.join(lit(c) for c in spec.code_list)}], {v})"
                if spec.code_list is not None
                else None,
            ),
            ("quality.validity.range", _range_ok(spec, v)),
        ):
            if cond is not None:
                checks.append((rule, spec, cond))

    required = [c for c in columns if c.required]
    selects = ["count(*)"]
    selects += [f"count(*) FILTER ({_v(c.name)} IS NULL)" for c in required]
    selects += [f"count(*) FILTER ({_v(c.name)} IS NOT NULL)" for _r, c, _cond in checks]
    selects += [f"count(*) FILTER ({_v(c.name)} IS NOT NULL AND NOT coalesce({cond}, false))" for _r, c, cond in checks]
    with_regions = f"known_regions(code) AS (VALUES {regions_values}), " if regions_table else ""

    def query(sql: str) -> list[tuple[Any, ...]]:
        return relation.query("checked", f"WITH {with_regions}t AS (SELECT * FROM checked) {sql}").fetchall()

    values = query(f"SELECT {', '.join(selects)} FROM t")[0]
    rows = int(values[0])
    blanks = values[1 : 1 + len(required)]
    checked = values[1 + len(required) : 1 + len(required) + len(checks)]
    failed = values[1 + len(required) + len(checks) :]

    def sample(condition: str, column: str) -> list[dict[str, Any]]:
        return [
            {"row": int(r), "value": v}
            for r, v in query(
                f"SELECT rn, v FROM (SELECT row_number() OVER () AS rn, {_v(column)} AS v, * FROM t) "
                f"WHERE {condition} ORDER BY rn LIMIT {int(samples)}"
            )
        ]

    findings: list[Finding] = []
    for spec, blank in zip(required, blanks, strict=True):
        findings.append(
            Finding(
                "quality.completeness", spec.name, rows, int(blank), sample("v IS NULL", spec.name) if blank else []
            )
        )
    for (rule, spec, cond), n, bad in zip(checks, checked, failed, strict=True):
        f = Finding(rule, spec.name, int(n), int(bad))
        if bad:
            f.samples = sample(f"v IS NOT NULL AND NOT coalesce({cond}, false)", spec.name)
            if rule == "quality.validity.identifier":
                reason = {
                    "id_number": lambda x: id_number_reason_sql(x, sql_date(as_of)),
                    "uscc": uscc_reason_sql,
                    "region": lambda x: region_code_reason_sql(x, regions_table),
                }[spec.identifier]
                for s in f.samples:
                    (code,) = query(f"SELECT {reason('x')} FROM (SELECT {lit(s['value'])} AS x)")[0]
                    s["reason"], s["reason_zh"], s["reason_en"] = code, *REASONS[code]
        findings.append(f)

    uniqueness = None
    if key is not None:
        k = _v(key)
        dup_keys, dup_rows, keyed = query(
            "SELECT count(*) FILTER (c > 1), coalesce(sum(c) FILTER (c > 1), 0), coalesce(sum(c), 0) FROM "
            f"(SELECT {k} AS k, count(*) AS c FROM t WHERE {k} IS NOT NULL GROUP BY k)"
        )[0]
        f = Finding(
            "quality.uniqueness",
            key,
            int(keyed),
            int(dup_rows),
            detail=f"{int(dup_keys)} 个主键重复 / {int(dup_keys)} keys occur more than once",
        )
        if dup_rows:
            f.samples = [
                {"key": kv, "occurrences": int(c), "row": int(r)}
                for kv, c, r in query(
                    f"SELECT k, count(*) AS c, min(rn) AS r FROM (SELECT row_number() OVER () AS rn, {k} AS k FROM t) "
                    f"WHERE k IS NOT NULL GROUP BY k HAVING count(*) > 1 ORDER BY r LIMIT {int(samples)}"
                )
            ]
        findings.append(f)
        uniqueness = (keyed - dup_rows) / keyed if keyed else None

    freshness = None
    if update_cycle is not None and last_updated is not None:
        due = freshness_due(last_updated, update_cycle)
        if due is not None:
            stale = as_of > due
            findings.append(
                Finding(
                    "quality.freshness",
                    None,
                    1,
                    int(stale),
                    detail=f"最近更新 {last_updated}，应于 {due} 前再次更新 / last updated {last_updated}, next update "
                    f"due by {due}",
                )
            )
            freshness = 0.0 if stale else 1.0
    if changed_on is not None:
        result = (workday_calendar or Calendar()).add_workdays(changed_on, UPDATE_AFTER_CHANGE_WORKDAYS)
        updated = last_updated is not None and last_updated >= changed_on
        late = (not updated and as_of > result.deadline) or (
            updated and last_updated is not None and last_updated > result.deadline
        )
        findings.append(
            Finding(
                "quality.update_after_change",
                None,
                1,
                int(late),
                detail=f"{changed_on} 变更，期限 {result.deadline}{'（暂定）' if result.provisional else ''}，"
                f"{'已于 ' + str(last_updated) + ' 更新' if updated else '尚未更新'} / changed {changed_on}, due "
                f"{result.deadline}{' (provisional)' if result.provisional else ''}, "
                f"{'updated ' + str(last_updated) if updated else 'not updated yet'}",
            )
        )
        freshness = 0.0 if late else (1.0 if freshness is None else freshness)

    completeness = (1 - sum(blanks) / (rows * len(required))) if required and rows else None
    total_checked = sum(checked)
    validity = (1 - sum(failed) / total_checked) if total_checked else None
    dimensions = {"completeness": completeness, "validity": validity, "uniqueness": uniqueness, "freshness": freshness}
    assessed = {d: v for d, v in dimensions.items() if v is not None}
    score = None
    if assessed:
        weight = sum(DIMENSION_WEIGHTS[d] for d in assessed)
        score = round(100 * sum(DIMENSION_WEIGHTS[d] * v for d, v in assessed.items()) / weight, 1)
    return QualityReport(rows, as_of, findings, dimensions, score)
