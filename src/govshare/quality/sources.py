"""Tabular sources for reconciliation and checks: CSV, Excel (.xlsx), Parquet, or a DuckDB relation.

Every source becomes a DuckDB view whose columns are all text (``VARCHAR``) plus ``__row``, the
row a person finds the record at: in a CSV or Excel file the spreadsheet row (the header is row
1, the first record row 2: a CSV file opened in Excel shows the same numbers, a quoted line break
inside a field included); in Parquet and relations the record number, from 1.

Bad input is answered with :class:`~govshare.core.errors.InvalidInput` naming the row and the
column (``field``) where it can, before anything is stored:

* **Size**: a file larger than ``max_bytes`` is refused before it is read (413).
* **Encoding**: CSV files are read as UTF-8 (a byte-order mark is fine). Files saved by Chinese
  Excel are often GBK: a streaming pass checks the bytes; when they are not UTF-8 and everything
  before the first non-UTF-8 byte was ASCII, the file is decoded as GB18030 (a superset of GBK and
  GB2312) into a UTF-8 copy; UTF-16 with a byte-order mark (Excel's "Unicode text") likewise. A
  file that is neither, or UTF-8 text with a broken byte in it, is refused naming the line.
  (DuckDB reads other encodings only through an extension that cannot be installed offline.)
* **Structure**: the CSV dialect is fixed (comma by default, ``"`` quotes, header row), not
  guessed: a guess turns a broken file into wrong columns. DuckDB's reader runs in strict mode and
  stores rejected lines; any rejected line refuses the file, naming line and column.
* **Header**: blank or repeated column names are refused; names are trimmed.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from govshare.core.errors import InvalidInput

#: Default cap on a file's size: larger files are refused before reading (the issue's "5 GB upload").
DEFAULT_MAX_BYTES = 2 * 1024**3
_CHUNK = 8 * 1024 * 1024
FORMATS = ("csv", "xlsx", "parquet")


@dataclass(frozen=True)
class FileSource:
    """A file to read. ``format`` defaults from the suffix; ``sheet`` picks an Excel worksheet
    (default the first); ``delimiter`` is the CSV field separator; ``label`` names it in messages."""

    path: Path | str
    format: str | None = None
    sheet: str | None = None
    delimiter: str = ","
    label: str | None = None


@dataclass
class PreparedSource:
    """A source as a DuckDB view: ``view`` has every column as VARCHAR plus ``__row``."""

    view: str
    columns: list[str]
    label: str
    format: str
    encoding: str | None = None
    #: DuckDB's table of rejected CSV lines for this source, checked after the data is read.
    rejects_table: str | None = None
    notes: list[str] = field(default_factory=list)


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _invalid(
    code: str,
    zh: str,
    en: str,
    *,
    detail: str | None = None,
    field: str | None = None,
    status: int | None = None,
    **extra: Any,
) -> InvalidInput:
    return InvalidInput(
        f"quality.input.{code}",
        zh,
        en,
        detail=detail,
        field=field,
        status=status,
        extra={k: v for k, v in extra.items() if v is not None},
    )


# --- encodings ---------------------------------------------------------------------------------


def _line_at(path: Path, offset: int) -> int:
    """1-based line number of byte ``offset`` of ``path``."""
    lines = 1
    with path.open("rb") as f:
        remaining = offset
        while remaining > 0:
            chunk = f.read(min(_CHUNK, remaining))
            if not chunk:
                break
            lines += chunk.count(b"\n")
            remaining -= len(chunk)
    return lines


#: Multi-byte UTF-8 text before the first bad byte above which a file counts as broken UTF-8 rather
#: than GBK (a GBK text can hold a short run of bytes that happen to be valid UTF-8, not a long one).
_UTF8_EVIDENCE_BYTES = 16


def _first_bad_utf8(path: Path) -> tuple[int, bool] | None:
    """``None`` when ``path`` is entirely UTF-8; else (offset of the first bad byte, whether a fair
    amount of multi-byte UTF-8 text came before it)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    evidence = 0  # bytes beyond one per character in what decoded: the multi-byte sequences
    with path.open("rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            final = not chunk
            try:
                text = decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                good = chunk[: max(exc.start, 0)]
                evidence += len(good) - len(good.decode("utf-8", "ignore"))
                return offset + exc.start, evidence >= _UTF8_EVIDENCE_BYTES
            if final:
                return None
            evidence += len(chunk) - len(text)
            offset += len(chunk)


def _transcode(path: Path, encoding: str, target: Path) -> None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while True:
            chunk = src.read(_CHUNK)
            final = not chunk
            try:
                dst.write(decoder.decode(chunk, final))
            except UnicodeDecodeError as exc:
                line = _line_at(path, offset + exc.start)
                raise _invalid(
                    "encoding_unsupported",
                    "无法识别文件的字符编码",
                    "The file's character encoding is not supported",
                    detail=f"第 {line} 行既不是 UTF-8 也不是 GBK/GB18030 编码；请另存为 UTF-8 CSV 或 Excel 文件 / "
                    f"line {line} is neither UTF-8 nor GBK/GB18030; save the file as UTF-8 CSV or as Excel",
                    line=line,
                ) from None
            if final:
                return
            offset += len(chunk)


def utf8_copy(path: Path, workdir: Path) -> tuple[Path, str]:
    """(a UTF-8 path with the file's text, the encoding it came in)."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(codecs.BOM_UTF32_LE):
        target = workdir / (path.name + ".utf8.csv")
        _transcode(path, "utf-16", target)
        return target, "utf-16"
    bad = _first_bad_utf8(path)
    if bad is None:
        return path, "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    offset, text_before = bad
    if text_before:
        line = _line_at(path, offset)
        raise _invalid(
            "encoding_broken",
            "文件中有损坏的字符",
            "The file has a broken character",
            detail=f"文件是 UTF-8 编码，但第 {line} 行有一个不是 UTF-8 的字节 / the file is UTF-8 but line {line} "
            "holds a byte that is not",
            line=line,
        )
    target = workdir / (path.name + ".utf8.csv")
    _transcode(path, "gb18030", target)
    return target, "gb18030"


# --- CSV ---------------------------------------------------------------------------------------


def _header(path: Path, delimiter: str) -> list[str]:
    with path.open("r", encoding="utf-8-sig", newline="") as f:
        head = f.read(1024 * 1024)
    if not head.strip():
        raise _invalid("empty", "文件是空的", "The file is empty", detail="没有表头，也没有数据 / no header, no data")
    try:
        first = next(csv.reader(io.StringIO(head), delimiter=delimiter, strict=True))
    except (csv.Error, StopIteration) as exc:
        raise _invalid(
            "header_unreadable", "无法读取表头", "The header row cannot be read", detail=str(exc), row=1
        ) from None
    return check_header(first)


def check_header(names: list[Any]) -> list[str]:
    """Trimmed column names; blank or repeated names are refused."""
    out: list[str] = []
    for i, raw in enumerate(names, start=1):
        name = "" if raw is None else str(raw).strip()
        if not name:
            raise _invalid(
                "column_unnamed",
                "表头有空白列名",
                "A column of the header has no name",
                detail=f"第 {i} 列没有列名 / column {i} has no name",
                field=f"column {i}",
                row=1,
            )
        if name in out:
            raise _invalid(
                "column_repeated",
                "表头有重复的列名",
                "A column name appears twice in the header",
                detail=f"列名“{name}”出现了不止一次 / the column name {name!r} appears more than once",
                field=name,
                row=1,
            )
        out.append(name)
    return out


def prepare_csv(
    con: duckdb.DuckDBPyConnection, path: Path, view: str, workdir: Path, label: str, delimiter: str = ","
) -> PreparedSource:
    utf8, encoding = utf8_copy(path, workdir)
    columns = _header(utf8, delimiter)
    types = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in columns) + "}"
    rejects = f"{view}_rejects"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT (row_number() OVER () + 1)::BIGINT AS __row, * "
        f"FROM read_csv({lit(str(utf8))}, columns={types}, header=true, auto_detect=false, delim={lit(delimiter)}, "
        f"quote='\"', escape='\"', strict_mode=true, store_rejects=true, rejects_table={lit(rejects)}, "
        f"rejects_scan={lit(rejects + '_scan')}, rejects_limit=100)"
    )
    return PreparedSource(view, columns, label, "csv", encoding, rejects_table=rejects)


_REJECT_TEXT = {
    "UNQUOTED VALUE": ("引号没有闭合", "a quote is not closed"),
    "TOO MANY COLUMNS": ("列数多于表头", "more columns than the header"),
    "MISSING COLUMNS": ("列数少于表头", "fewer columns than the header"),
    "LINE SIZE OVER MAXIMUM": ("这一行太长", "the line is too long"),
    "INVALID ENCODING": ("字符编码错误", "wrong character encoding"),
    "INVALID STATE": ("CSV 格式错误", "malformed CSV"),
}


def check_rejects(con: duckdb.DuckDBPyConnection, source: PreparedSource) -> None:
    """Refuse the source when DuckDB rejected any of its CSV lines (call after reading it)."""
    if not source.rejects_table:
        return
    rows = con.execute(
        f"SELECT line, column_name, error_type, csv_line FROM {source.rejects_table} ORDER BY line LIMIT 10"
    ).fetchall()
    if not rows:
        return
    line, column, kind, text = rows[0]
    zh, en = _REJECT_TEXT.get(kind, ("CSV 格式错误", "malformed CSV"))
    where = f"，“{column}”列" if column else ""
    raise _invalid(
        "csv_malformed",
        "CSV 文件格式有误",
        "The CSV file is malformed",
        detail=f"{source.label} 第 {line} 行{where}：{zh} / {source.label} line {line}"
        f"{f', column {column!r}' if column else ''}: {en}. 原文 / text: {str(text)[:200]}",
        field=column,
        row=int(line),
        line=int(line),
        errors=[{"line": int(r[0]), "field": r[1], "error": r[2]} for r in rows],
    )


_DUCK_LINE = re.compile(r"on Line: (\d+)", re.IGNORECASE)


def duckdb_input_error(exc: duckdb.Error, label: str) -> InvalidInput:
    """An input error for a DuckDB error met while reading ``label``."""
    message = str(exc)
    found = _DUCK_LINE.search(message)
    line = int(found.group(1)) if found else None
    first = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    return _invalid(
        "unreadable",
        "无法读取文件",
        "The file cannot be read",
        detail=f"{label}{f' 第 {line} 行 / line {line}' if line else ''}: {first[:300]}",
        row=line,
        line=line,
    )


# --- Excel ---------------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """The text of an Excel cell as it reads: dates ISO, whole numbers without '.0'."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def prepare_xlsx(
    con: duckdb.DuckDBPyConnection, path: Path, view: str, workdir: Path, label: str, sheet: str | None = None
) -> PreparedSource:
    """Stream the worksheet's rows (openpyxl read-only mode) into a UTF-8 CSV, then read that.

    Wholly empty rows are skipped; ``__row`` keeps each record's worksheet row."""
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise _invalid(
            "xlsx_unreadable",
            "无法读取 Excel 文件",
            "The Excel file cannot be read",
            detail=f"{label}: {exc}（仅支持 .xlsx / only .xlsx is supported）",
        ) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise _invalid(
                "sheet_missing",
                "没有这个工作表",
                "No such worksheet",
                detail=f"{sheet}; 有 / there are: {', '.join(wb.sheetnames)}",
                field="sheet",
            )
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row = next(rows, None)
        while header_row is not None and all(v is None for v in header_row):
            header_row = next(rows, None)
        if header_row is None:
            raise _invalid(
                "empty", "文件是空的", "The file is empty", detail=f"{label}: 工作表没有内容 / the sheet is empty"
            )
        header = list(header_row)
        while header and header[-1] is None:
            header.pop()
        columns = check_header(header)
        width = len(columns)
        target = workdir / (path.name + ".csv")
        with target.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["__row", *columns])
            for number, values in enumerate(rows, start=2):
                cells = [cell_text(v) for v in values]
                if all(c is None or c == "" for c in cells):
                    continue
                extra = [i for i, c in enumerate(cells[width:], start=width) if c not in (None, "")]
                if extra:
                    raise _invalid(
                        "column_unnamed",
                        "有数据的列没有列名",
                        "A column with data has no header",
                        detail=f"{label} 第 {number} 行第 {extra[0] + 1} 列有值，但这一列没有列名 / row "
                        f"{number} has a value in column {extra[0] + 1}, which has no header",
                        field=f"column {extra[0] + 1}",
                        row=number,
                    )
                cells = (cells + [None] * width)[:width]
                w.writerow([number, *cells])
    finally:
        wb.close()
    types = "{'__row': 'BIGINT', " + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in columns) + "}"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM read_csv({lit(str(target))}, columns={types}, "
        "header=true, auto_detect=false, delim=',', quote='\"', escape='\"', strict_mode=true)"
    )
    return PreparedSource(view, columns, label, "xlsx")


# --- Parquet and relations ----------------------------------------------------------------------


def prepare_parquet(con: duckdb.DuckDBPyConnection, path: Path, view: str, label: str) -> PreparedSource:
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != b"PAR1":
        raise _invalid(
            "parquet_unreadable",
            "不是 Parquet 文件",
            "Not a Parquet file",
            detail=f"{label}: 文件开头不是 Parquet 标志 / the file does not start with the Parquet magic",
        )
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})").fetchall()]
    except duckdb.Error as exc:
        raise duckdb_input_error(exc, label) from None
    columns = check_header(names)
    select = ", ".join(f"CAST({ident(n)} AS VARCHAR) AS {ident(c)}" for n, c in zip(names, columns, strict=True))
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT file_row_number + 1 AS __row, {select} "
        f"FROM read_parquet({lit(str(path))}, file_row_number=true)"
    )
    return PreparedSource(view, columns, label, "parquet")


def prepare_relation(
    con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, view: str, label: str
) -> PreparedSource:
    inner = f"{view}_rel"
    relation.create_view(inner, replace=True)
    names = list(relation.columns)
    columns = check_header(names)
    select = ", ".join(f"CAST({ident(n)} AS VARCHAR) AS {ident(c)}" for n, c in zip(names, columns, strict=True))
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT row_number() OVER () AS __row, {select} FROM {inner}")
    return PreparedSource(view, columns, label, "relation")


def prepare(
    con: duckdb.DuckDBPyConnection,
    source: Any,
    view: str,
    workdir: Path,
    *,
    label: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> PreparedSource:
    """Turn ``source`` (a :class:`FileSource`, a path, or a DuckDB relation) into a view."""
    if isinstance(source, duckdb.DuckDBPyRelation):
        return prepare_relation(con, source, view, label)
    if isinstance(source, str | os.PathLike):
        source = FileSource(source)
    if not isinstance(source, FileSource):
        raise TypeError(f"not a source: {source!r}")
    path = Path(source.path)
    label = source.label or f"{label}（{path.name}）"
    fmt = (source.format or path.suffix.lstrip(".")).lower()
    if fmt in ("xls", "et"):
        raise _invalid(
            "format_unsupported",
            "不支持的文件格式",
            "Unsupported file format",
            detail=f"{path.name}: 请另存为 .xlsx 或 CSV / save it as .xlsx or CSV",
            field="format",
        )
    if fmt == "txt":
        fmt = "csv"
    if fmt not in FORMATS:
        raise _invalid(
            "format_unsupported",
            "不支持的文件格式",
            "Unsupported file format",
            detail=f"{path.name}: 支持 / supported: CSV, Excel (.xlsx), Parquet",
            field="format",
        )
    try:
        size = path.stat().st_size
    except OSError:
        raise _invalid("file_missing", "文件不存在", "The file does not exist", detail=str(path.name)) from None
    if size > max_bytes:
        raise _invalid(
            "too_large",
            "文件太大",
            "The file is too large",
            status=413,
            detail=f"{path.name}: {size:,} 字节，上限 {max_bytes:,} 字节 / {size:,} bytes, the limit is {max_bytes:,}",
            limit=max_bytes,
            size=size,
        )
    if size == 0:
        raise _invalid("empty", "文件是空的", "The file is empty", detail=path.name)
    if fmt == "csv":
        return prepare_csv(con, path, view, workdir, label, source.delimiter)
    if fmt == "xlsx":
        return prepare_xlsx(con, path, view, workdir, label, source.sheet)
    return prepare_parquet(con, path, view, label)
