"""Reconciliation of a secondary holder's copy against the authoritative source (Art 11(2)).

Art 11(2): where shared data has more than one source of collection, one agency collects it as
the primary source; the others "may compare and verify the data" (可以进行数据比对、校验), and where
the data disagree the primary agency "shall verify and explain" (应当进行核实并予以说明). This module
is the comparison: two tables, a key, the items to compare, the normalisation rules switched on.

What it reports (:class:`ReconcileReport`), each side first on its own:

* **invalid keys**: keys that fail their check (GB 11643 identity numbers, GB 32100 credit codes,
  GB/T 2260 region codes against the registry, or just blank for plain keys), by reason, with
  samples naming the row. They are set aside, not compared.
* **duplicate keys**: valid keys occurring more than once on a side. They count for "missing"
  (a key is there or not), but their items are not compared: which of the copies would count?
* then across: keys **missing in the primary** source, keys **missing in the secondary** copy,
  and per item the **compared**, **equal** and **mismatched** counts, after normalisation.

The discrepancy rows (invalid keys, duplicates, missing keys, one row per mismatched item) go to
Parquet, all of them, and to Excel up to the sheet's limit of 1,048,576 rows (header included):
beyond it the workbook says so on its summary sheet, the report says so (``excel_truncated``),
and the Parquet file has every row.

Everything heavy runs in DuckDB: sources are streamed from their files, normalisation and key
checks are SQL expressions (``quality.normalize``, ``core.identifiers``), each side is reduced to
one row per key by a hash aggregate, the sides meet in one hash join, and only the discrepant keys
are kept. ``memory_limit`` and ``temp_directory`` make DuckDB spill to disk instead of failing.
Outputs are written under temporary names and renamed when everything has succeeded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from govshare.core import clock
from govshare.core.errors import InvalidInput
from govshare.core.identifiers import (
    REASONS,
    id_number_reason_sql,
    region_code_reason_sql,
    sql_date,
    uscc_reason_sql,
)
from govshare.quality import sources
from govshare.quality.normalize import (
    DEFAULT_RULES,
    VALUE_KINDS,
    check_rules,
    describe_rules,
    kind_stage_sql,
    text_stage_sql,
)
from govshare.quality.sources import DEFAULT_MAX_BYTES, ident, lit

ARTICLE = "Art 11"

#: Kinds of key and how each is checked.
KEY_KINDS: dict[str, tuple[str, str]] = {
    "id_number": ("公民身份号码（GB 11643 校验）", "citizen identity number (GB 11643 check)"),
    "uscc": ("统一社会信用代码（GB 32100 校验）", "unified social credit code (GB 32100 check)"),
    "region": ("行政区划代码（对照区划库）", "region code (against the registry)"),
    "plain": ("其他（仅检查非空）", "other (checked for blanks only)"),
}

#: Kinds of discrepancy row, in report order.
DISCREPANCY_KINDS: dict[str, tuple[str, str]] = {
    "invalid_key_secondary": ("比对方主键无效", "invalid key in the secondary copy"),
    "invalid_key_primary": ("主采集方主键无效", "invalid key in the primary source"),
    "duplicate_key_secondary": ("比对方主键重复", "duplicate key in the secondary copy"),
    "duplicate_key_primary": ("主采集方主键重复", "duplicate key in the primary source"),
    "missing_in_primary": ("主采集方缺少", "missing in the primary source"),
    "missing_in_secondary": ("比对方缺少", "missing in the secondary copy"),
    "mismatch": ("数据项不一致", "item mismatch"),
}

#: Stages of a comparison, in order, as :func:`reconcile` reports them to its ``progress`` callback.
STAGES: dict[str, tuple[str, str]] = {
    "loading": ("读取数据", "loading the data"),
    "validating_keys": ("校验主键", "validating the keys"),
    "matching_keys": ("按主键匹配两方记录", "matching the records by key"),
    "comparing_item": ("逐项比对", "comparing item by item"),
    "writing_report": ("生成报告和差异文件", "writing the report and the discrepancy files"),
}

#: ``progress(stage, step, steps, detail)``: the comparison is at ``step`` of ``steps`` (1-based),
#: doing ``stage`` (:data:`STAGES`); ``detail`` names the side or the item when there is one.
Progress = Callable[[str, int, int, dict[str, Any]], None]


def steps_for(items: int, *, outputs: bool = True) -> int:
    """How many steps :func:`reconcile` reports for ``items`` compared items: loading, the keys of
    each side, matching, one per item and, when files are written, the report."""
    return 4 + items + (1 if outputs else 0)


#: Rows an xlsx worksheet holds, the header included.
EXCEL_SHEET_ROWS = 1_048_576
#: Largest text an Excel cell holds.
_EXCEL_CELL_CHARS = 32_767


@dataclass(frozen=True)
class Item:
    """An item to compare: its column in the secondary copy and in the primary source."""

    secondary: str
    primary: str | None = None
    kind: str = "text"
    label: str | None = None

    @property
    def primary_column(self) -> str:
        return self.primary or self.secondary

    @property
    def name(self) -> str:
        return self.label or self.primary_column


@dataclass
class SideReport:
    label: str
    format: str
    encoding: str | None
    rows: int
    valid_keys: int
    invalid_rows: int
    invalid_keys: int
    invalid_by_reason: dict[str, int]
    invalid_samples: list[dict[str, Any]]
    duplicate_keys: int
    duplicate_rows: int
    duplicate_samples: list[dict[str, Any]]


@dataclass
class ItemReport:
    secondary: str
    primary: str
    label: str
    kind: str
    compared: int
    equal: int
    mismatched: int
    samples: list[dict[str, Any]]


@dataclass
class ReconcileReport:
    key_secondary: str
    key_primary: str
    key_kind: str
    rules: list[dict[str, str]]
    as_of: dt.date
    secondary: SideReport
    primary: SideReport
    missing_in_primary: int
    missing_in_secondary: int
    duplicate_not_compared: int
    compared: int
    rows_with_mismatch: int
    items: list[ItemReport]
    missing_in_primary_samples: list[dict[str, Any]]
    missing_in_secondary_samples: list[dict[str, Any]]
    discrepancy_rows: int
    parquet_path: Path | None = None
    xlsx_path: Path | None = None
    excel_rows: int = 0
    excel_truncated: bool = False
    seconds: float = 0.0
    article: str = ARTICLE
    notes: list[str] = field(default_factory=list)

    def item(self, name: str) -> ItemReport:
        return next(i for i in self.items if name in (i.label, i.primary, i.secondary))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        out["parquet_path"] = str(self.parquet_path) if self.parquet_path else None
        out["xlsx_path"] = str(self.xlsx_path) if self.xlsx_path else None
        return out


def _items(items: Mapping[str, str] | Sequence[Item | str]) -> list[Item]:
    if isinstance(items, Mapping):
        out = [Item(secondary=s, primary=p) for s, p in items.items()]
    else:
        out = [i if isinstance(i, Item) else Item(secondary=i) for i in items]
    if not out:
        raise InvalidInput(
            "quality.reconcile.items_required",
            "请选择要比对的数据项",
            "Choose the items to compare",
            field="items",
            article=ARTICLE,
        )
    labels = [i.name for i in out]
    repeated = sorted({n for n in labels if labels.count(n) > 1})
    if repeated:
        raise InvalidInput(
            "quality.reconcile.item_repeated",
            "数据项重复",
            "An item is chosen twice",
            detail=", ".join(repeated),
            field="items",
            article=ARTICLE,
        )
    for i in out:
        if i.kind not in VALUE_KINDS:
            raise InvalidInput(
                "quality.reconcile.kind_unknown",
                "未知的数据项类型",
                "Unknown kind of item",
                detail=f"{i.name}: {i.kind}; 可用 / available: {', '.join(VALUE_KINDS)}",
                field="items",
            )
    return out


def _require_columns(src: sources.PreparedSource, side: str, wanted: Iterable[str]) -> None:
    for column in wanted:
        if column not in src.columns:
            raise InvalidInput(
                "quality.input.column_missing",
                "文件中没有这一列",
                "The file has no such column",
                detail=f"{src.label} 没有“{column}”列；现有列 / has no column {column!r}; its columns: "
                f"{', '.join(src.columns)}",
                field=column,
                extra={"side": side, "available_columns": src.columns},
            )


def _reason_sql(key_kind: str, as_of: dt.date, regions_table: str | None) -> str:
    if key_kind == "id_number":
        return id_number_reason_sql("k", sql_date(as_of))
    if key_kind == "uscc":
        return uscc_reason_sql("k")
    if key_kind == "region":
        return region_code_reason_sql("k", regions_table)
    return "CASE WHEN k IS NULL THEN 'blank' END"


def _side_sql(
    table: str,
    src: sources.PreparedSource,
    key: str,
    key_value_kind: str,
    columns: list[str],
    kinds: list[str],
    rules: tuple[str, ...],
    reason: str,
) -> str:
    """One row per normalised key: how often it occurs, its first row, its values, its key check."""
    inner = ", ".join(
        [f"__row, {ident(key)} AS raw_key, {text_stage_sql(ident(key), rules)} AS t_key"]
        + [f"{ident(c)} AS r{i}, {text_stage_sql(ident(c), rules)} AS t{i}" for i, c in enumerate(columns)]
    )
    middle = ", ".join(
        [f"__row, raw_key, {kind_stage_sql('t_key', key_value_kind, rules)} AS k"]
        + [f"r{i}, {kind_stage_sql(f't{i}', kinds[i], rules)} AS n{i}" for i in range(len(columns))]
    )
    # The values of a key's first row, as one struct: one arg_min measured 3.5 times faster in
    # DuckDB than an any_value per column.
    fields = ["raw_key"] + [f"n{i}" for i in range(len(columns))] + [f"r{i}" for i in range(len(columns))]
    packed = "{" + ", ".join(f"'{f}': {f}" for f in fields) + "}"
    unpacked = ", ".join(f"v.{f} AS {f}" for f in fields)
    return (
        f"CREATE TEMP TABLE {table} AS SELECT k, c, row, {unpacked}, {reason} AS reason FROM ("
        f"SELECT k, count(*) AS c, min(__row) AS row, arg_min({packed}, __row) AS v "
        f"FROM (SELECT {middle} FROM (SELECT {inner} FROM {src.view})) GROUP BY k)"
    )


def _side_report(con: duckdb.DuckDBPyConnection, table: str, src: sources.PreparedSource, samples: int) -> SideReport:
    rows, valid, invalid_rows, invalid_keys, dup_keys, dup_rows = con.execute(
        "SELECT coalesce(sum(c), 0), count(*) FILTER (reason IS NULL), "
        "coalesce(sum(c) FILTER (reason IS NOT NULL), 0), "
        f"count(*) FILTER (reason IS NOT NULL), count(*) FILTER (reason IS NULL AND c > 1), "
        f"coalesce(sum(c) FILTER (reason IS NULL AND c > 1), 0) FROM {table}"
    ).fetchone()
    by_reason = dict(
        con.execute(
            f"SELECT reason, sum(c)::BIGINT FROM {table} WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason"
        ).fetchall()
    )
    invalid_samples = [
        {
            "row": r,
            "value": v,
            "reason": reason,
            "reason_zh": REASONS[reason][0],
            "reason_en": REASONS[reason][1],
            "occurrences": c,
        }
        for r, v, reason, c in con.execute(
            f"SELECT row, raw_key, reason, c FROM {table} WHERE reason IS NOT NULL ORDER BY row LIMIT {samples}"
        ).fetchall()
    ]
    dup_samples = [
        {"key": k, "occurrences": c, "first_row": r}
        for k, c, r in con.execute(
            f"SELECT k, c, row FROM {table} WHERE reason IS NULL AND c > 1 ORDER BY row LIMIT {samples}"
        ).fetchall()
    ]
    return SideReport(
        src.label,
        src.format,
        src.encoding,
        int(rows),
        int(valid),
        int(invalid_rows),
        int(invalid_keys),
        {k: int(v) for k, v in by_reason.items()},
        invalid_samples,
        int(dup_keys),
        int(dup_rows),
        dup_samples,
    )


def _discrepancies_sql(table: str, s: str, p: str, n: int) -> str:
    values = ", ".join(f"s.n{i} AS sn{i}, p.n{i} AS pn{i}, s.r{i} AS sr{i}, p.r{i} AS pr{i}" for i in range(n))
    differs = " OR ".join(f"s.n{i} IS DISTINCT FROM p.n{i}" for i in range(n))
    return (
        f"CREATE TEMP TABLE {table} AS SELECT coalesce(s.k, p.k) AS k, "
        "CASE WHEN p.k IS NULL THEN 'missing_in_primary' WHEN s.k IS NULL THEN 'missing_in_secondary' "
        "WHEN s.c > 1 OR p.c > 1 THEN 'duplicate_not_compared' ELSE 'mismatch' END AS status, "
        f"s.row AS srow, p.row AS prow, {values} "
        f"FROM (SELECT * FROM {s} WHERE reason IS NULL) s FULL OUTER JOIN (SELECT * FROM {p} WHERE reason IS NULL) p "
        f"ON s.k = p.k WHERE s.k IS NULL OR p.k IS NULL OR s.c > 1 OR p.c > 1 OR {differs}"
    )


def _output_sql(table: str, s: str, p: str, d: str, items: list[Item]) -> str:
    cols = (
        "kind, key, item, secondary_value, primary_value, secondary_normalized, primary_normalized, "
        "secondary_row, primary_row, occurrences, reason"
    )
    parts = [
        f"SELECT 1 AS o, 0 AS i, 'invalid_key_secondary', raw_key, NULL, NULL, NULL, NULL, NULL, row, NULL, c, reason "
        f"FROM {s} WHERE reason IS NOT NULL",
        f"SELECT 2, 0, 'invalid_key_primary', raw_key, NULL, NULL, NULL, NULL, NULL, NULL, row, c, reason "
        f"FROM {p} WHERE reason IS NOT NULL",
        f"SELECT 3, 0, 'duplicate_key_secondary', k, NULL, NULL, NULL, NULL, NULL, row, NULL, c, NULL "
        f"FROM {s} WHERE reason IS NULL AND c > 1",
        f"SELECT 4, 0, 'duplicate_key_primary', k, NULL, NULL, NULL, NULL, NULL, NULL, row, c, NULL "
        f"FROM {p} WHERE reason IS NULL AND c > 1",
        f"SELECT 5, 0, 'missing_in_primary', k, NULL, NULL, NULL, NULL, NULL, srow, NULL, NULL, NULL "
        f"FROM {d} WHERE status = 'missing_in_primary'",
        f"SELECT 6, 0, 'missing_in_secondary', k, NULL, NULL, NULL, NULL, NULL, NULL, prow, NULL, NULL "
        f"FROM {d} WHERE status = 'missing_in_secondary'",
    ]
    for i, item in enumerate(items):
        parts.append(
            f"SELECT 7, {i}, 'mismatch', k, {lit(item.name)}, sr{i}, pr{i}, sn{i}, pn{i}, srow, prow, NULL, NULL "
            f"FROM {d} WHERE status = 'mismatch' AND sn{i} IS DISTINCT FROM pn{i}"
        )
    union = " UNION ALL ".join(parts)
    return (
        f"CREATE TEMP TABLE {table} AS SELECT {cols} FROM (SELECT o, i, {cols} FROM ({union}) "
        f"AS u(o, i, {cols})) ORDER BY o, coalesce(secondary_row, primary_row), i"
    )


def _write_excel(
    con: duckdb.DuckDBPyConnection, out: str, target: Path, report: ReconcileReport, max_rows: int
) -> tuple[int, bool]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    summary = wb.create_sheet("汇总 summary")
    detail = wb.create_sheet("差异明细 discrepancies")
    detail.append(
        [
            "差异类型 kind",
            "主键 key",
            "数据项 item",
            "比对方的值 secondary value",
            "主采集方的值 primary value",
            "比对方规范化后 secondary normalised",
            "主采集方规范化后 primary normalised",
            "比对方行号 secondary row",
            "主采集方行号 primary row",
            "出现次数 occurrences",
            "原因 reason",
        ]
    )

    def cell(v: Any) -> Any:
        if not isinstance(v, str):
            return v
        v = ILLEGAL_CHARACTERS_RE.sub("", v)[:_EXCEL_CELL_CHARS]
        if v.startswith("="):  # text, never a formula
            c = WriteOnlyCell(detail, value=v)
            c.data_type = "s"
            return c
        return v

    written = 0
    cursor = con.execute(f"SELECT * FROM {out}")
    truncated = False
    while True:
        batch = cursor.fetchmany(10_000)
        if not batch:
            break
        for kind, *rest in batch:
            if written >= max_rows:
                truncated = True
                break
            reason = rest[-1]
            zh = DISCREPANCY_KINDS[kind][0]
            detail.append([zh, *(cell(v) for v in rest[:-1]), REASONS[reason][0] if reason else None])
            written += 1
        if truncated:
            break

    lines: list[list[Any]] = [
        ["数据比对报告 Reconciliation report（《江苏省政府信息化服务管理办法》第十一条 / Art 11）"],
        ["比对方 secondary", report.secondary.label, report.secondary.rows],
        ["主采集方 primary", report.primary.label, report.primary.rows],
        ["主键 key", f"{report.key_secondary} ↔ {report.key_primary}", KEY_KINDS[report.key_kind][0]],
        ["规范化规则 rules", "、".join(r["name_zh"] for r in report.rules) or "（无 none）"],
        ["比对方无效主键行数 invalid key rows (secondary)", report.secondary.invalid_rows],
        ["主采集方无效主键行数 invalid key rows (primary)", report.primary.invalid_rows],
        ["比对方重复主键 duplicate keys (secondary)", report.secondary.duplicate_keys],
        ["主采集方重复主键 duplicate keys (primary)", report.primary.duplicate_keys],
        ["主采集方缺少 missing in primary", report.missing_in_primary],
        ["比对方缺少 missing in secondary", report.missing_in_secondary],
        ["参与比对的主键 keys compared", report.compared],
        ["有不一致的主键 keys with a mismatch", report.rows_with_mismatch],
        [],
        ["数据项 item", "比对 compared", "一致 equal", "不一致 mismatched"],
        *[[i.label, i.compared, i.equal, i.mismatched] for i in report.items],
        [],
        ["差异明细行数 discrepancy rows", report.discrepancy_rows],
        ["本表收录 rows in this workbook", written],
    ]
    if truncated:
        lines.append(
            [
                f"Excel 工作表最多 {EXCEL_SHEET_ROWS:,} 行：只收录前 {written:,} 行，"
                f"全部 {report.discrepancy_rows:,} 行见 Parquet 文件 / an Excel sheet holds at most "
                f"{EXCEL_SHEET_ROWS:,} rows: the first "
                f"{written:,} are here, all {report.discrepancy_rows:,} are in the Parquet file"
            ]
        )
    for line in lines:
        summary.append(line)
    wb.save(target)
    return written, truncated


def reconcile(
    secondary: Any,
    primary: Any,
    *,
    key: str | tuple[str, str],
    items: Mapping[str, str] | Sequence[Item | str],
    rules: Iterable[str] = DEFAULT_RULES,
    key_kind: str = "plain",
    known_regions: Iterable[str] | None = None,
    as_of: dt.date | None = None,
    parquet_path: Path | str | None = None,
    xlsx_path: Path | str | None = None,
    excel_max_rows: int = EXCEL_SHEET_ROWS - 1,
    memory_limit: str | None = "4GB",
    temp_directory: Path | str | None = None,
    threads: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    samples: int = 20,
    connection: duckdb.DuckDBPyConnection | None = None,
    progress: Progress | None = None,
) -> ReconcileReport:
    """Compare ``secondary`` (the copy) with ``primary`` (the authoritative source).

    Sources are :class:`~govshare.quality.sources.FileSource`, paths (CSV, .xlsx, Parquet) or DuckDB
    relations; relations need the ``connection`` they belong to, and then the engine runs on it and
    leaves its settings alone. ``key`` is one column name or (secondary, primary). ``items`` maps
    secondary to primary columns or lists :class:`Item`. ``as_of`` (default today) bounds birth
    dates in identity numbers. ``memory_limit``/``temp_directory``/``threads`` configure DuckDB.
    ``progress`` is told each stage as it begins (:data:`Progress`, :func:`steps_for`); what it
    raises stops the comparison (so a caller can cancel).
    """
    started = time.perf_counter()
    rules = check_rules(rules)
    if key_kind not in KEY_KINDS:
        raise InvalidInput(
            "quality.reconcile.key_kind_unknown",
            "未知的主键类型",
            "Unknown kind of key",
            detail=f"{key_kind}; 可用 / available: {', '.join(KEY_KINDS)}",
            field="key_kind",
        )
    item_list = _items(items)
    key_s, key_p = (key, key) if isinstance(key, str) else key
    as_of = as_of or clock.today()
    if excel_max_rows < 0 or excel_max_rows > EXCEL_SHEET_ROWS - 1:
        raise ValueError(f"excel_max_rows must lie in 0..{EXCEL_SHEET_ROWS - 1}")

    workdir = Path(tempfile.mkdtemp(prefix="govshare-reconcile-", dir=temp_directory))
    own = connection is None
    if own:
        config: dict[str, Any] = {"temp_directory": str(workdir / "spill")}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        con = duckdb.connect(":memory:", config=config)
        con.execute("SET enable_progress_bar = false")  # a server process has no terminal to draw on
    else:
        con = connection
    total = steps_for(len(item_list), outputs=parquet_path is not None or xlsx_path is not None)

    def report_progress(stage: str, step: int, **detail: Any) -> None:
        if progress is not None:
            progress(stage, step, total, detail)

    prefix = f"gs_rc_{uuid.uuid4().hex[:8]}_"
    s_table, p_table, d_table, out_table = (prefix + n for n in ("s", "p", "d", "out"))
    created: list[str] = []
    temps: list[Path] = []
    try:
        report_progress("loading", 1)
        src_s = sources.prepare(
            con, secondary, prefix + "sv", workdir, label="比对方数据 secondary copy", max_bytes=max_bytes
        )
        src_p = sources.prepare(
            con, primary, prefix + "pv", workdir, label="主采集方数据 primary source", max_bytes=max_bytes
        )
        created += [
            src_s.view,
            src_p.view,
            *(f"{src.view}{suffix}" for src in (src_s, src_p) for suffix in ("_rel", "_rejects", "_rejects_scan")),
        ]
        _require_columns(src_s, "secondary", [key_s, *(i.secondary for i in item_list)])
        _require_columns(src_p, "primary", [key_p, *(i.primary_column for i in item_list)])

        regions_table = None
        if key_kind == "region" and known_regions is not None:
            regions_table = prefix + "regions"
            con.execute(
                f"CREATE TEMP TABLE {regions_table} AS SELECT unnest(?::VARCHAR[]) AS code",
                [sorted(set(known_regions))],
            )
            created.append(regions_table)
        reason = _reason_sql(key_kind, as_of, regions_table)
        key_value_kind = "id_number" if key_kind == "id_number" else "text"
        kinds = [i.kind for i in item_list]
        for step, (side, table, src, k, cols) in enumerate(
            (
                ("secondary", s_table, src_s, key_s, [i.secondary for i in item_list]),
                ("primary", p_table, src_p, key_p, [i.primary_column for i in item_list]),
            ),
            start=2,
        ):
            report_progress("validating_keys", step, side=side)
            try:
                con.execute(_side_sql(table, src, k, key_value_kind, cols, kinds, rules, reason))
            except duckdb.Error as exc:
                if isinstance(exc, duckdb.OutOfMemoryException):
                    raise
                raise sources.duckdb_input_error(exc, src.label) from None
            created.append(table)
            sources.check_rejects(con, src)

        side_s = _side_report(con, s_table, src_s, samples)
        side_p = _side_report(con, p_table, src_p, samples)

        report_progress("matching_keys", 4)
        con.execute(_discrepancies_sql(d_table, s_table, p_table, len(item_list)))
        created.append(d_table)
        mismatch_counts = ", ".join(
            f"count(*) FILTER (status = 'mismatch' AND sn{i} IS DISTINCT FROM pn{i})" for i in range(len(item_list))
        )
        counts = con.execute(
            "SELECT count(*) FILTER (status = 'missing_in_primary'), "
            "count(*) FILTER (status = 'missing_in_secondary'), "
            f"count(*) FILTER (status = 'duplicate_not_compared'), count(*) FILTER (status = 'mismatch'), "
            f"{mismatch_counts} FROM {d_table}"
        ).fetchone()
        missing_p, missing_s, dup_nc, with_mismatch, *per_item = (int(v) for v in counts)
        compared = side_s.valid_keys - missing_p - dup_nc

        item_reports = []
        for i, item in enumerate(item_list):
            report_progress("comparing_item", 5 + i, item=item.name, k=i + 1, n=len(item_list))
            rows = con.execute(
                f"SELECT k, srow, prow, sr{i}, pr{i}, sn{i}, pn{i} FROM {d_table} "
                f"WHERE status = 'mismatch' AND sn{i} IS DISTINCT FROM pn{i} ORDER BY srow LIMIT {samples}"
            ).fetchall()
            item_reports.append(
                ItemReport(
                    item.secondary,
                    item.primary_column,
                    item.name,
                    item.kind,
                    compared,
                    compared - per_item[i],
                    per_item[i],
                    [
                        {
                            "key": r[0],
                            "secondary_row": r[1],
                            "primary_row": r[2],
                            "secondary_value": r[3],
                            "primary_value": r[4],
                            "secondary_normalized": r[5],
                            "primary_normalized": r[6],
                        }
                        for r in rows
                    ],
                )
            )

        def missing(status: str, row: str) -> list[dict[str, Any]]:
            return [
                {"key": k, "row": r}
                for k, r in con.execute(
                    f"SELECT k, {row} FROM {d_table} WHERE status = '{status}' ORDER BY {row} LIMIT {samples}"
                ).fetchall()
            ]

        discrepancy_rows = (
            side_s.invalid_keys
            + side_p.invalid_keys
            + side_s.duplicate_keys
            + side_p.duplicate_keys
            + missing_p
            + missing_s
            + sum(per_item)
        )
        report = ReconcileReport(
            key_secondary=key_s,
            key_primary=key_p,
            key_kind=key_kind,
            rules=describe_rules(rules),
            as_of=as_of,
            secondary=side_s,
            primary=side_p,
            missing_in_primary=missing_p,
            missing_in_secondary=missing_s,
            duplicate_not_compared=dup_nc,
            compared=compared,
            rows_with_mismatch=with_mismatch,
            items=item_reports,
            missing_in_primary_samples=missing("missing_in_primary", "srow"),
            missing_in_secondary_samples=missing("missing_in_secondary", "prow"),
            discrepancy_rows=discrepancy_rows,
        )

        if parquet_path is not None or xlsx_path is not None:
            report_progress("writing_report", total)
            con.execute(_output_sql(out_table, s_table, p_table, d_table, item_list))
            created.append(out_table)
            finals: list[tuple[Path, Path]] = []
            if parquet_path is not None:
                final = Path(parquet_path)
                tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
                temps.append(tmp)
                con.execute(f"COPY {out_table} TO {lit(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
                finals.append((tmp, final))
                report.parquet_path = final
            if xlsx_path is not None:
                final = Path(xlsx_path)
                tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
                temps.append(tmp)
                report.excel_rows, report.excel_truncated = _write_excel(con, out_table, tmp, report, excel_max_rows)
                finals.append((tmp, final))
                report.xlsx_path = final
            for tmp, final in finals:
                os.replace(tmp, final)
            if report.excel_truncated:
                report.notes.append(
                    f"Excel 只收录前 {report.excel_rows:,} 行差异，全部 {discrepancy_rows:,} 行见 Parquet 文件 / the "
                    f"workbook holds the first {report.excel_rows:,} of {discrepancy_rows:,} rows; the Parquet file "
                    "has them all"
                )
        report.seconds = time.perf_counter() - started
        return report
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        if own:
            con.close()
        else:
            for name in reversed(created):  # views and tables by name: drop whichever it is
                for kind in ("VIEW", "TABLE"):
                    with contextlib.suppress(duckdb.Error):
                        con.execute(f"DROP {kind} IF EXISTS {name}")
        shutil.rmtree(workdir, ignore_errors=True)
