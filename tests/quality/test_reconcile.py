"""Reconciliation (Art 11(2)): exact counts on planted discrepancies, every rule on and off, bad input."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook, load_workbook

from govshare.core.errors import InvalidInput
from govshare.core.identifiers import generate_id_numbers, make_uscc
from govshare.quality.normalize import DEFAULT_RULES, RULES, normalize_sql
from govshare.quality.reconcile import EXCEL_SHEET_ROWS, Item, reconcile

AS_OF = dt.date(2026, 11, 26)
HEADER_P = ["公民身份号码", "姓名", "出生日期", "住址", "车牌号"]
HEADER_S = ["身份证号", "姓名", "出生日期", "住址", "车牌号"]
ITEMS = [Item("姓名"), Item("出生日期", kind="date"), Item("住址"), Item("车牌号")]
N = 300


@dataclass
class Pair:
    secondary: list[list[str]]
    primary: list[list[str]]
    #: key index -> spreadsheet row in each file (header = row 1)
    srow: dict[int, int] = field(default_factory=dict)
    prow: dict[int, int] = field(default_factory=dict)


def _fullwidth_digits(text: str) -> str:
    return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def build() -> tuple[Pair, list[str], list[int]]:
    """N keys with planted discrepancies (see the expected counts in :func:`expected`)."""
    ids = generate_id_numbers(N, seed=11, born_from=dt.date(1930, 1, 1), born_to=dt.date(1999, 12, 31))
    x_ending = [i for i in range(100, N) if ids[i].endswith("X")][:3]
    assert len(x_ending) == 3
    pair = Pair([], [])
    for i, number in enumerate(ids):
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        name = "张王李赵刘陈杨黄周吴"[i % 10] + "伟芳娜敏静丽强磊军洋"[(i // 10) % 10]
        addr = f"江苏省苏州市姑苏区人民路{i + 1}号"
        plate = f"SUE{i:05d}"
        p = [number, name, birth.isoformat(), addr, plate]
        s = list(p)
        if i in range(20, 24):
            s[1] = name + "某"
        if i in range(24, 27):
            s[2] = (birth + dt.timedelta(days=1)).isoformat()
        if i in range(27, 29):
            s[3] = addr.replace("号", "弄")
        if i in range(40, 50):
            s[3] = _fullwidth_digits(addr)
        if i in range(50, 60):
            s[1] = f"  {name}\t"
        if i in range(60, 66):
            s[4] = plate.lower()
        if i in range(70, 80):
            s[2] = [
                f"{birth.year}年{birth.month}月{birth.day}日",
                birth.strftime("%Y%m%d"),
                f"{birth.year}/{birth.month}/{birth.day}",
            ][i % 3]
        if i in range(80, 85):
            s[0] = number[:6] + number[8:17]
        if i in x_ending:
            s[0] = number.lower()
        if i == 90:
            s[0] = "12345"
        if i == 91:
            s[0] = number[:17] + ("0" if number[17] != "0" else "1")
        if i == 92:
            p[0] = number[:17] + ("0" if number[17] != "0" else "1")
        if i not in range(0, 7):
            pair.secondary.append(s)
            pair.srow[i] = len(pair.secondary) + 1
        if i not in range(7, 12):
            pair.primary.append(p)
            pair.prow[i] = len(pair.primary) + 1
    for i in (95, 96):  # duplicates, appended at the end of the copy
        pair.secondary.append(list(pair.secondary[pair.srow[i] - 2]))
    return pair, ids, x_ending


def expected(rules: tuple[str, ...] = DEFAULT_RULES) -> dict[str, object]:
    off = set(RULES) - set(rules)
    invalid_s = 2 + (5 if "id15" in off else 0) + (3 if "case" in off else 0)
    return {
        "rows_s": N - 7 + 2,
        "rows_p": N - 5,
        "invalid_s": invalid_s,
        "invalid_p": 1,
        "dup_keys_s": 2,
        "dup_rows_s": 4,
        "missing_in_primary": 5 + 1,
        "missing_in_secondary": 7 + invalid_s,
        "duplicate_not_compared": 2,
        "compared": N - 7 - 5 - invalid_s - 1 - 2,
        "mismatched": {
            "姓名": 4 + (10 if "whitespace" in off else 0),
            "出生日期": 3 + (10 if "date" in off else 0),
            "住址": 2 + (10 if "fullwidth" in off else 0),
            "车牌号": 6 if "case" in off else 0,
        },
    }


def counts(r) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "rows_s": r.secondary.rows,
        "rows_p": r.primary.rows,
        "invalid_s": r.secondary.invalid_rows,
        "invalid_p": r.primary.invalid_rows,
        "dup_keys_s": r.secondary.duplicate_keys,
        "dup_rows_s": r.secondary.duplicate_rows,
        "missing_in_primary": r.missing_in_primary,
        "missing_in_secondary": r.missing_in_secondary,
        "duplicate_not_compared": r.duplicate_not_compared,
        "compared": r.compared,
        "mismatched": {i.label: i.mismatched for i in r.items},
    }


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_parquet(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    con = duckdb.connect()
    cols = ", ".join(f'v[{i + 1}] AS "{h}"' for i, h in enumerate(header))
    con.execute(f"COPY (SELECT {cols} FROM (SELECT unnest(?::VARCHAR[][]) AS v)) TO '{path}' (FORMAT parquet)", [rows])
    con.close()
    return path


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pair, list[str], list[int], Path, Path]:
    folder = tmp_path_factory.mktemp("planted")
    pair, ids, x_ending = build()
    s = write_csv(folder / "secondary.csv", HEADER_S, pair.secondary)
    p = write_parquet(folder / "primary.parquet", HEADER_P, pair.primary)
    return pair, ids, x_ending, s, p


def run(s: Path, p: Path, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("key", ("身份证号", "公民身份号码"))
    kw.setdefault("items", ITEMS)
    kw.setdefault("key_kind", "id_number")
    return reconcile(s, p, as_of=AS_OF, **kw)


# --- the comparison ---------------------------------------------------------------------------------


def test_exact_counts_samples_and_outputs(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pair, ids, _x, s, p = planted
    r = run(s, p, parquet_path=tmp_path / "d.parquet", xlsx_path=tmp_path / "d.xlsx")
    assert counts(r) == expected()
    assert r.secondary.invalid_by_reason == {"length": 1, "check_digit": 1}
    assert r.primary.invalid_by_reason == {"check_digit": 1}
    assert [(x["row"], x["reason"]) for x in r.secondary.invalid_samples] == [
        (pair.srow[90], "length"),
        (pair.srow[91], "check_digit"),
    ]
    assert {(d["key"], d["occurrences"], d["first_row"]) for d in r.secondary.duplicate_samples} == {
        (ids[95], 2, pair.srow[95]),
        (ids[96], 2, pair.srow[96]),
    }
    name = r.item("姓名")
    assert name.equal == name.compared - 4
    # CSV rows count the header as row 1; Parquet rows are record numbers.
    assert [(x["key"], x["secondary_row"], x["primary_row"]) for x in name.samples] == [
        (ids[i], pair.srow[i], pair.prow[i] - 1) for i in range(20, 24)
    ]
    assert name.samples[0]["secondary_value"].endswith("某")
    assert {x["key"] for x in r.missing_in_secondary_samples} == set(ids[:7]) | {ids[90], ids[91]}
    assert {x["key"] for x in r.missing_in_primary_samples} == set(ids[7:12]) | {ids[92]}
    assert r.secondary.encoding == "utf-8" and r.primary.format == "parquet"

    # The discrepancy files: every row, the same in Parquet and Excel.
    assert r.discrepancy_rows == 2 + 1 + 2 + 6 + 9 + 4 + 3 + 2
    rows = duckdb.sql(f"SELECT kind, count(*) FROM read_parquet('{r.parquet_path}') GROUP BY kind").fetchall()
    assert dict(rows) == {
        "invalid_key_secondary": 2,
        "invalid_key_primary": 1,
        "duplicate_key_secondary": 2,
        "missing_in_primary": 6,
        "missing_in_secondary": 9,
        "mismatch": 9,
    }
    birth = duckdb.sql(
        f"SELECT key, secondary_value, primary_value, secondary_row, primary_row FROM "
        f"read_parquet('{r.parquet_path}') WHERE item = '出生日期' ORDER BY secondary_row"
    ).fetchall()
    assert [b[0] for b in birth] == ids[24:27] and [b[3] for b in birth] == [pair.srow[i] for i in range(24, 27)]
    wb = load_workbook(r.xlsx_path, read_only=True)
    detail = list(wb["差异明细 discrepancies"].iter_rows(values_only=True))
    assert len(detail) == 1 + r.discrepancy_rows and r.excel_rows == r.discrepancy_rows
    assert not r.excel_truncated
    assert detail[1][0] == "比对方主键无效" and detail[-1][0] == "数据项不一致"
    summary = {row[0]: row[1] for row in wb["汇总 summary"].iter_rows(values_only=True) if len(row) > 1}
    assert summary["主采集方缺少 missing in primary"] == 6
    wb.close()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["d.parquet", "d.xlsx"]  # no temporary file left


@pytest.mark.parametrize("rule", list(RULES))
def test_each_rule_on_and_off(planted, rule: str) -> None:  # type: ignore[no-untyped-def]
    _pair, _ids, _x, s, p = planted
    rules = tuple(r for r in RULES if r != rule)
    assert counts(run(s, p, rules=rules)) == expected(rules)


def test_without_any_rule_15_digit_and_lower_case_keys_are_invalid(planted) -> None:  # type: ignore[no-untyped-def]
    _pair, _ids, _x, s, p = planted
    r = run(s, p, rules=())
    assert counts(r) == expected(())
    assert r.secondary.invalid_by_reason == {"old_15": 5, "chars": 3, "length": 1, "check_digit": 1}


def test_rule_sql_on_values() -> None:
    def norm(value: str | None, kind: str = "text", rules: tuple[str, ...] = DEFAULT_RULES) -> str | None:
        sql = f"SELECT {normalize_sql('v', kind, rules)} FROM (SELECT ?::VARCHAR AS v)"
        return duckdb.connect().execute(sql, [value]).fetchone()[0]

    assert norm("Ｓｕ　Ｅ１２３") == "SU E123"
    assert norm("Ｓｕ　Ｅ１２３", rules=("whitespace", "case")) == "ＳＵ　Ｅ１２３".replace("　", " ")
    assert norm(" a \t\n b\u00a0c ") == "A B C"
    assert norm(" a  b ", rules=("case",)) == " A  B "
    assert norm("ab", rules=("fullwidth", "whitespace")) == "ab"
    assert norm("   ") is None and norm("") is None and norm(None) is None
    for raw in (
        "2024年1月2日",
        "2024/1/2",
        "2024.01.02",
        "2024-1-2",
        "20240102",
        "2024 年 1 月 2 日",
        "2024-01-02 00:00:00",
        "２０２４年１月２日",
        "2024-01-02",
    ):
        assert norm(raw, "date") == "2024-01-02", raw
    assert norm("2024年2月30日", "date") == "2024年2月30日"  # no such day: left as it is
    assert norm("20241302", "date") == "20241302"
    assert norm("2024/1/2", "date", ("fullwidth", "whitespace", "case")) == "2024/1/2"
    assert norm("20240102", "text") == "20240102"  # the date rule applies to date items only
    assert norm("110105491231002", "id_number") == "11010519491231002X"
    assert norm("110105491231002", "id_number", ("case",)) == "110105491231002"
    assert norm("110105491231002", "text") == "110105491231002"
    assert norm("11010519491231002x", "id_number") == "11010519491231002X"


# --- sources -------------------------------------------------------------------------------------


def test_gbk_csv_from_excel(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pair, _ids, _x, _s, p = planted
    gbk = write_csv(tmp_path / "gbk.csv", HEADER_S, pair.secondary, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        gbk.read_bytes().decode("utf-8")
    r = run(gbk, p)
    assert r.secondary.encoding == "gb18030"
    assert counts(r) == expected()


def test_bom_and_utf16_csv(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pair, _ids, _x, _s, p = planted
    bom = write_csv(tmp_path / "bom.csv", HEADER_S, pair.secondary, encoding="utf-8-sig")
    assert bom.read_bytes().startswith(codecs.BOM_UTF8)
    r = run(bom, p)
    assert r.secondary.encoding == "utf-8-sig" and counts(r) == expected()
    utf16 = write_csv(tmp_path / "u16.csv", HEADER_S, pair.secondary, encoding="utf-16")
    r = run(utf16, p)
    assert r.secondary.encoding == "utf-16" and counts(r) == expected()


def test_xlsx_in_and_relation_in(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pair, ids, _x, s, p = planted
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER_S)
    for row in pair.secondary:
        cells: list[object] = list(row)
        if len(cells[2]) == 10 and cells[2][4] == "-":  # a real date cell, as Excel users have them
            cells[2] = dt.datetime.fromisoformat(cells[2])
        ws.append(cells)
    ws.append([None] * 5)  # trailing empty row, as Excel leaves them
    wb.save(tmp_path / "s.xlsx")
    r = run(tmp_path / "s.xlsx", p)
    assert r.secondary.format == "xlsx" and counts(r) == expected()
    assert r.item("姓名").samples[0]["secondary_row"] == pair.srow[20]

    con = duckdb.connect()
    rel_s = con.sql(f"SELECT * FROM read_csv('{s}', all_varchar = true)")
    rel_p = con.sql(f"SELECT * FROM read_parquet('{p}')")
    r = reconcile(
        rel_s, rel_p, key=("身份证号", "公民身份号码"), items=ITEMS, key_kind="id_number", as_of=AS_OF, connection=con
    )
    assert counts(r) == expected()
    assert r.item("姓名").samples[0]["primary_row"] == pair.prow[20] - 1  # record numbers, no header
    assert not [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
        if t.startswith("gs_rc_")
    ]


def test_excel_output_is_capped_and_says_so(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _pair, _ids, _x, s, p = planted
    r = run(s, p, parquet_path=tmp_path / "d.parquet", xlsx_path=tmp_path / "d.xlsx", excel_max_rows=5)
    assert r.excel_truncated and r.excel_rows == 5 and r.notes
    wb = load_workbook(r.xlsx_path, read_only=True)
    assert len(list(wb["差异明细 discrepancies"].iter_rows())) == 6
    last = [row for row in wb["汇总 summary"].iter_rows(values_only=True) if row][-1][0]
    assert "Parquet" in last and f"{EXCEL_SHEET_ROWS:,}" in last
    wb.close()
    assert duckdb.sql(f"SELECT count(*) FROM '{r.parquet_path}'").fetchall()[0][0] == r.discrepancy_rows


def test_other_key_kinds(tmp_path: Path) -> None:
    good = [make_uscc("9", "1", "320508", f"{n:08d}") for n in range(1, 6)]
    s = write_csv(
        tmp_path / "s.csv",
        ["代码", "名称"],
        [[c.lower(), f"公司{i}"] for i, c in enumerate(good)]
        + [[good[0][:17] + ("0" if good[0][17] != "0" else "1"), "坏"]],
    )
    p = write_csv(tmp_path / "p.csv", ["代码", "名称"], [[c, f"公司{i}"] for i, c in enumerate(good)])
    r = reconcile(s, p, key="代码", items={"名称": "名称"}, key_kind="uscc", as_of=AS_OF)
    assert (r.compared, r.secondary.invalid_by_reason, r.item("名称").mismatched) == (5, {"check_digit": 1}, 0)

    s = write_csv(
        tmp_path / "rs.csv", ["区划", "人口"], [["320508", "1"], ["３２０５０６", "2"], ["329999", "3"], ["32050", "4"]]
    )
    p = write_csv(tmp_path / "rp.csv", ["区划", "人口"], [["320508", "1"], ["320506", "9"]])
    r = reconcile(s, p, key="区划", items=["人口"], key_kind="region", known_regions=["320508", "320506"], as_of=AS_OF)
    assert r.secondary.invalid_by_reason == {"format": 1, "unknown": 1}
    assert (r.compared, r.item("人口").mismatched, r.missing_in_primary) == (2, 1, 0)
    r = reconcile(s, p, key="区划", items=["人口"], key_kind="plain", as_of=AS_OF)
    assert (r.secondary.invalid_rows, r.missing_in_primary) == (0, 2)


# --- bad input -------------------------------------------------------------------------------------


def _refused(s: Path, p: Path, code: str, **kw) -> InvalidInput:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as info:
        run(s, p, **kw)
    assert info.value.code == code, info.value.problem()
    return info.value


def test_broken_csv_names_line_and_column(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _pair, _ids, _x, s, p = planted
    lines = s.read_text(encoding="utf-8").splitlines(keepends=True)
    broken = tmp_path / "broken.csv"
    broken.write_text("".join(lines[:10]) + lines[10].replace(",", ',"', 1) + "".join(lines[11:]), encoding="utf-8")
    err = _refused(
        broken, p, "quality.input.csv_malformed", parquet_path=tmp_path / "d.parquet", xlsx_path=tmp_path / "d.xlsx"
    )
    assert err.extra["row"] == 11 and err.field == "姓名" and "第 11 行" in err.detail
    assert list(tmp_path.iterdir()) == [broken]  # nothing written, not even a temporary file

    ragged = tmp_path / "ragged.csv"
    ragged.write_text("".join(lines[:5]) + lines[5].rstrip("\n") + ",extra\n" + "".join(lines[6:]), encoding="utf-8")
    err = _refused(ragged, p, "quality.input.csv_malformed")
    assert err.extra["row"] == 6 and "more columns" in err.detail


def test_encodings_refused_with_the_line(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "p.csv", ["k", "v"], [["1", "a"]])
    broken = tmp_path / "broken.csv"
    broken.write_bytes("k,v\n1,张三\n2,李四\n".encode() * 5 + b"3,\xe5\x00x\n")
    err = _refused(broken, p, "quality.input.encoding_broken", key="k", items=["v"], key_kind="plain")
    assert err.extra["line"] == 16
    neither = tmp_path / "neither.csv"
    neither.write_bytes(b"k,v\n1,a\n2,\xff\xfe\xff\n")
    err = _refused(neither, p, "quality.input.encoding_unsupported", key="k", items=["v"], key_kind="plain")
    assert err.extra["line"] == 3


def test_missing_columns_empty_and_oversized_files(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _pair, _ids, _x, s, p = planted
    err = _refused(s, p, "quality.input.column_missing", key="公民身份号码")
    assert err.field == "公民身份号码" and err.extra["side"] == "secondary"
    assert "身份证号" in err.extra["available_columns"]
    err = _refused(s, p, "quality.input.column_missing", items=[Item("姓名", "名字")])
    assert err.field == "名字" and err.extra["side"] == "primary"
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _refused(empty, p, "quality.input.empty")
    empty.write_bytes(codecs.BOM_UTF8 + b"\r\n")
    _refused(empty, p, "quality.input.empty")
    header_only = write_csv(tmp_path / "h.csv", HEADER_S, [])
    r = run(header_only, p)
    assert (r.secondary.rows, r.compared, r.missing_in_secondary) == (0, 0, N - 5 - 1)
    err = _refused(s, p, "quality.input.too_large", max_bytes=1000)
    assert err.status == 413 and err.extra["limit"] == 1000
    dup = write_csv(tmp_path / "dup.csv", ["身份证号", "姓名", "姓名"], [])
    assert _refused(dup, p, "quality.input.column_repeated").field == "姓名"
    _refused(tmp_path / "s.xls", p, "quality.input.format_unsupported")
    not_parquet = tmp_path / "x.parquet"
    not_parquet.write_text("hello")
    _refused(s, not_parquet, "quality.input.parquet_unreadable")
    not_xlsx = tmp_path / "x.xlsx"
    not_xlsx.write_text("hello")
    _refused(not_xlsx, p, "quality.input.xlsx_unreadable")


def test_a_failed_run_leaves_earlier_outputs_alone(planted, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _pair, _ids, _x, s, p = planted
    out = tmp_path / "d.parquet"
    out.write_bytes(b"earlier report")
    _refused(s, p, "quality.input.column_missing", key="nope", parquet_path=out)
    assert out.read_bytes() == b"earlier report"
    assert list(tmp_path.iterdir()) == [out]


def test_bad_arguments(planted) -> None:  # type: ignore[no-untyped-def]
    _pair, _ids, _x, s, p = planted
    assert _refused(s, p, "quality.reconcile.rule_unknown", rules=("fullwidth", "soundex")).field == "rules"
    assert _refused(s, p, "quality.reconcile.key_kind_unknown", key_kind="passport").field == "key_kind"
    assert _refused(s, p, "quality.reconcile.items_required", items=[]).field == "items"
    assert _refused(s, p, "quality.reconcile.kind_unknown", items=[Item("姓名", kind="money")]).field == "items"
