"""Reading an uploaded file into a staging table: one text column per data item, and the row number
the provider sees.

CSV, JSON lines and Excel are read in Python, row by row (never the whole file in memory), and
written to a staging CSV of fixed dialect that DuckDB then reads without guessing: Python's readers
give exact row numbers (DuckDB's CSV reader skips blank lines and counts physical lines, so its
numbers drift from what a spreadsheet shows). Parquet goes straight to DuckDB, whose
``file_row_number`` gives the record number.

Row numbers (``row`` in every error), as the provider sees the file:

* CSV and Excel: the spreadsheet row, the header being row 1 (a blank row still counts);
* JSON lines: the line number;
* Parquet: the record number, from 1.

Column names: a header (CSV, Excel), key (JSON lines) or column (Parquet) names a data item by its
name (``公民身份号码``) or by its field code (``id_number``). Every item needs a column; a column
naming no item, or an item named twice, refuses the file.

CSV encodings: UTF-8 (with or without the BOM Excel writes) is tried first, strictly; if the file
is not valid UTF-8 it is read as GB18030, the superset of GBK and GB2312 that Chinese Excel writes
("CSV" saved from Excel on a Chinese Windows). A file valid in neither is refused.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from govshare.core.errors import InvalidInput
from govshare.exchange.rules import ItemSpec

#: Longest cell accepted, in characters (Excel's own limit).
MAX_CELL_CHARS = 32_767


@dataclasses.dataclass(slots=True)
class RowProblems:
    """Row errors found while reading; only the first ``limit`` are kept, all are counted."""

    limit: int
    items: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    count: int = 0

    def add(self, row: int | None, column: str | None, code: str, zh: str, en: str) -> None:
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append({"row": row, "column": column, "code": code, "message_zh": zh, "message_en": en})


def refused(problems: RowProblems, *, code: str = "exchange.dataset.invalid") -> InvalidInput:
    """The refusal of a whole upload: the first problem in ``detail`` and ``field``, the first
    ``limit`` in ``errors``, all of them counted in ``error_count``. Nothing was stored."""
    first = problems.items[0]
    where_zh = f"第 {first['row']} 行" if first["row"] else ""
    where_en = f"row {first['row']}" if first["row"] else ""
    col = first["column"]
    detail = (
        f"{where_zh}{'「' + col + '」' if col else ''}：{first['message_zh']} / "
        f"{where_en}{(', column ' + col) if col else ''}: {first['message_en']}"
    )
    return InvalidInput(
        code,
        "数据文件校验未通过，未保存任何数据",
        "The data file failed validation; nothing was stored",
        detail=detail,
        field=col or "file",
        article="Art 15",
        extra={"row": first["row"], "column": col, "errors": problems.items, "error_count": problems.count},
    )


def file_error(code: str, zh: str, en: str, *, field: str = "file", **extra: Any) -> InvalidInput:
    return InvalidInput(
        code,
        f"数据文件无法读取：{zh}",
        f"The data file cannot be read: {en}",
        field=field,
        article="Art 15",
        extra=extra or None,
    )


# --- Header to items ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which source column (by position, and its header text) feeds each item (by position)."""

    sources: tuple[int, ...]
    headers: tuple[str, ...]


def map_header(header: Sequence[str], specs: Sequence[ItemSpec]) -> ColumnMap:
    """Match header cells to items by name, else by field code; refuse unknown, doubled and missing."""
    by_name = {s.name: i for i, s in enumerate(specs)}
    by_code = {s.field_code.lower(): i for i, s in enumerate(specs) if s.field_code}
    seen: dict[int, str] = {}
    unknown: list[str] = []
    doubled: list[str] = []
    position: dict[int, int] = {}
    for col, raw in enumerate(header):
        text = (raw or "").strip()
        if not text:
            unknown.append(f"#{col + 1}（空表头 / blank header）")
            continue
        item = by_name.get(text)
        if item is None:
            item = by_code.get(text.lower())
        if item is None:
            unknown.append(text)
        elif item in seen:
            doubled.append(f"{seen[item]} / {text}")
        else:
            seen[item] = text
            position[item] = col
    missing = [s.name for i, s in enumerate(specs) if i not in position]
    if unknown or doubled or missing:
        parts_zh, parts_en = [], []
        if unknown:
            parts_zh.append("不属于该目录条目的列：" + "、".join(unknown))
            parts_en.append("columns that are not data items of the entry: " + ", ".join(unknown))
        if doubled:
            parts_zh.append("同一信息项出现两列：" + "、".join(doubled))
            parts_en.append("one data item in two columns: " + ", ".join(doubled))
        if missing:
            parts_zh.append("缺少信息项：" + "、".join(missing))
            parts_en.append("missing data items: " + ", ".join(missing))
        first = unknown[0] if unknown else doubled[0] if doubled else missing[0]
        raise InvalidInput(
            "exchange.dataset.columns",
            "数据文件的列与目录条目的信息项不一致，未保存任何数据",
            "The file's columns do not match the entry's data items; nothing was stored",
            detail="；".join(parts_zh) + " / " + "; ".join(parts_en),
            field=first,
            article="Art 10",
            extra={
                "row": 1,
                "unknown_columns": unknown,
                "doubled_columns": doubled,
                "missing_items": missing,
                "expected": [{"name": s.name, "field_code": s.field_code} for s in specs],
            },
        )
    return ColumnMap(tuple(position[i] for i in range(len(specs))), tuple(seen[i] for i in range(len(specs))))


# --- Cell values to text --------------------------------------------------------------------------


def text_of(value: Any) -> str:
    """A cell or JSON value as the text the validator reads (``""`` for nothing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


# --- Staging CSV ------------------------------------------------------------------------------------


class Stager:
    """Writes the staging CSV: ``__row`` then one column per item (``c0``, ``c1`` ...), all quoted."""

    def __init__(self, path: Path, specs: Sequence[ItemSpec], problems: RowProblems) -> None:
        self.path = path
        self.specs = specs
        self.problems = problems
        self.rows = 0
        #: The column of each item as the provider named it, for error messages.
        self.headers: list[str] = [s.name for s in specs]
        self._file = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file, quoting=csv.QUOTE_ALL, lineterminator="\n")
        self._writer.writerow(["__row", *[s.column for s in specs]])

    def write(self, row: int, values: Sequence[str], headers: Sequence[str]) -> None:
        for value, header in zip(values, headers, strict=True):
            if len(value) > MAX_CELL_CHARS:
                self.problems.add(
                    row,
                    header,
                    "cell_too_long",
                    f"内容超过 {MAX_CELL_CHARS} 个字符",
                    f"more than {MAX_CELL_CHARS} characters",
                )
                return
        self._writer.writerow([row, *values])
        self.rows += 1

    def close(self) -> None:
        self._file.close()


def _csv_records(path: Path, encoding: str) -> Iterator[list[str]]:
    with path.open("r", encoding=encoding, newline="", errors="strict") as f:
        yield from csv.reader(f)


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_csv_encoding(path: Path) -> str:
    """``utf-8-sig`` (UTF-8, BOM or not) or ``gb18030``; refuses a file valid in neither."""
    if _is_utf8(path):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    offset = 0
    try:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                decoder.decode(block)
                offset += len(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise file_error(
            "exchange.dataset.encoding",
            "既不是 UTF-8 也不是 GBK/GB18030 编码的文本（是否上传了其他格式的文件？）",
            "the text is neither UTF-8 nor GBK/GB18030 (is it a file of another format?)",
            byte_offset=offset + exc.start,
        ) from None
    return "gb18030"


def stage_csv(path: Path, specs: Sequence[ItemSpec], stager_path: Path, problems: RowProblems) -> tuple[Stager, str]:
    encoding = detect_csv_encoding(path)
    records = _csv_records(path, encoding)
    try:
        header = next(records, None)
        if header is None or not any(c.strip() for c in header):
            raise file_error("exchange.dataset.empty", "第 1 行应为表头（信息项名称）", "row 1 must be the header row")
        cmap = map_header(header, specs)
        stager = Stager(stager_path, specs, problems)
        stager.headers = list(cmap.headers)
        width = len(header)
        try:
            for n, record in enumerate(records, start=2):
                if not record or not any(c.strip() for c in record):
                    continue  # a blank row: counted, not stored
                if len(record) != width:
                    extra = record[width:]
                    if len(record) > width and not any(c.strip() for c in extra):
                        record = record[:width]  # trailing empty cells, as Excel writes them
                    else:
                        problems.add(
                            n,
                            None,
                            "field_count",
                            f"有 {len(record)} 列，表头有 {width} 列",
                            f"has {len(record)} fields, the header has {width}",
                        )
                        continue
                stager.write(n, [record[i].strip() for i in cmap.sources], cmap.headers)
        finally:
            stager.close()
    except csv.Error as exc:
        raise file_error("exchange.dataset.csv_malformed", f"CSV 格式错误（{exc}）", f"malformed CSV ({exc})") from None
    return stager, encoding


def stage_jsonl(path: Path, specs: Sequence[ItemSpec], stager_path: Path, problems: RowProblems) -> Stager:
    by_name = {s.name: i for i, s in enumerate(specs)}
    by_code = {s.field_code.lower(): i for i, s in enumerate(specs) if s.field_code}
    key_item: dict[str, int | None] = {}
    seen_items: set[int] = set()
    stager = Stager(stager_path, specs, problems)
    headers = stager.headers
    try:
        with path.open("r", encoding="utf-8-sig", errors="strict") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                if n == 1 and line.lstrip().startswith("["):
                    raise file_error(
                        "exchange.dataset.jsonl_array",
                        "JSON 文件应每行一个对象（JSON Lines），而不是一个数组",
                        "a JSON file must hold one object per line (JSON lines), not an array",
                    )
                try:
                    obj = json.loads(line, parse_float=Decimal)
                except ValueError:
                    problems.add(n, None, "json_invalid", "不是合法的 JSON", "not valid JSON")
                    continue
                if not isinstance(obj, dict):
                    problems.add(n, None, "json_not_object", "应为 JSON 对象", "must be a JSON object")
                    continue
                values = [""] * len(specs)
                ok = True
                for key, value in obj.items():
                    if key not in key_item:
                        item = by_name.get(key.strip())
                        key_item[key] = item if item is not None else by_code.get(key.strip().lower())
                    item = key_item[key]
                    if item is None:
                        problems.add(
                            n, key, "column_unknown", "不是该目录条目的信息项", "is not a data item of the entry"
                        )
                        ok = False
                        continue
                    if isinstance(value, dict | list):
                        problems.add(
                            n,
                            key,
                            "json_nested",
                            "值应为文本、数字、布尔值或 null",
                            "the value must be a string, number, boolean or null",
                        )
                        ok = False
                        continue
                    seen_items.add(item)
                    headers[item] = key
                    values[item] = text_of(value).strip()
                if ok:
                    stager.write(n, values, headers)
    except UnicodeDecodeError:
        raise file_error(
            "exchange.dataset.encoding", "JSON Lines 文件须为 UTF-8 编码", "a JSON lines file must be UTF-8"
        ) from None
    finally:
        stager.close()
    missing = [s.name for i, s in enumerate(specs) if i not in seen_items]
    if missing and not problems.count:
        raise InvalidInput(
            "exchange.dataset.columns",
            "数据文件的列与目录条目的信息项不一致，未保存任何数据",
            "The file's columns do not match the entry's data items; nothing was stored",
            detail="缺少信息项：" + "、".join(missing) + " / missing data items: " + ", ".join(missing),
            field=missing[0],
            article="Art 10",
            extra={"missing_items": missing, "unknown_columns": [], "doubled_columns": []},
        )
    return stager


def stage_xlsx(path: Path, specs: Sequence[ItemSpec], stager_path: Path, problems: RowProblems) -> Stager:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not the path: openpyxl refuses paths not ending in .xlsx, and uploads are
    # received under a name of the platform's choosing.
    fh = path.open("rb")
    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        fh.close()
        raise file_error(
            "exchange.dataset.xlsx_invalid", "不是有效的 Excel（.xlsx）文件", "not a valid Excel (.xlsx) file"
        ) from None
    try:
        if not wb.worksheets:
            raise file_error("exchange.dataset.empty", "工作簿中没有工作表", "the workbook has no sheet")
        rows: Iterable[Sequence[Any]] = wb.worksheets[0].iter_rows(values_only=True)
        it = iter(rows)
        header_row = next(it, None)
        header = [text_of(c).strip() for c in header_row or ()]
        while header and not header[-1]:
            header.pop()
        if not header:
            raise file_error("exchange.dataset.empty", "第 1 行应为表头（信息项名称）", "row 1 must be the header row")
        cmap = map_header(header, specs)
        width = len(header)
        stager = Stager(stager_path, specs, problems)
        stager.headers = list(cmap.headers)
        try:
            for n, row in enumerate(it, start=2):
                cells = [text_of(c).strip() for c in row]
                if not any(cells):
                    continue
                if any(cells[width:]):
                    problems.add(
                        n,
                        None,
                        "field_count",
                        f"表头之外的第 {width + 1} 列及以后有内容",
                        f"has values beyond the header's {width} columns",
                    )
                    continue
                cells += [""] * (width - len(cells))
                stager.write(n, [cells[i] for i in cmap.sources], cmap.headers)
        finally:
            stager.close()
    finally:
        wb.close()
        fh.close()
    return stager
