"""Bulk import of catalog entries from a spreadsheet (.xlsx) or CSV file.

Agencies keep their catalogs in spreadsheets. The first row holds the column headers, in Chinese
or English (spaces and full-width brackets do not matter); every following non-empty row is one
entry. Columns (``*`` required), Chinese header / English header: accepted values

* 资源名称* / name: text
* 资源分类* / classification: 基础, 主题, 部门 (basic, thematic, departmental)
* 资源类别 / category: 人口, 法人单位, 自然资源和空间地理, 社会信用, 电子证照, or a theme
  (公共服务, 健康保障, 社会保障 ...); empty for 部门 resources
* 提供单位 / provider: agency code or USCC (or ``--agency`` for the whole file)
* 资源摘要 / abstract, 英文名称 / name_en: text
* 数据格式* / format: 数据库, 电子表格, 电子文件, 图形图像, 流媒体, 空间地理数据, 接口, 其他
* 格式说明 / format_detail: e.g. XLSX
* 共享类型* / share_type: 无条件共享, 有条件共享, 不予共享
* 共享条件 / share_conditions: text, required for 有条件共享 (Art 10)
* 法律依据 / legal_basis: text, required for 不予共享 (Art 7(1), Art 13)
* 提供方式* / provision_method: 共享平台接口, 平台托管数据集, 文件交换, 平台外共享
* 是否向社会开放 / open_to_public: 是, 否
* 更新周期* / update_cycle: 实时, 每日, 每周, 每月, 每季度, 每半年, 每年, 不定期
* 更新时限（工作日）/ update_deadline_workdays: 1-20, default 20 (Art 15)
* 领域 / sectors: 教育、医疗卫生、就业 ... (separated by 、 ; ，)
* 安全级别 / security_classification: 公开, 内部, 敏感, 秘密, 机密 (default 内部)
* 含商业秘密 / contains_commercial_secret, 含个人信息 / contains_personal_info: 是, 否
* 信息项 / data_items: see below
* 关联资源 / related: resource codes, e.g. 101-000001
* 费用 / fee: empty or 0 (Art 16)

Values may be written as the Chinese label, the English label or the machine value
(``not_shared``). ``*`` marks required columns. Data items go in one cell, separated by ``；``, ``;`` or new lines;
each item is ``名称|类型|说明|标记`` where only the name is required, the type is one of 字符型,
整数型, 数值型, 日期型, 日期时间型, 布尔型, 二进制, 空间数据 (or the English names), and the flags
contain 个人 (personal information) and/or 涉密 (secret), e.g.
``公民身份号码|字符型|18 位|个人；姓名|字符型||个人；户籍地址|字符型``.

Nothing is stored from a file with errors unless the caller asks for the valid rows only; then the
rows with errors are reported and skipped. Every error names the row (as numbered in the
spreadsheet), the column (its header in the file) and the problem in Chinese and English.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog import permissions as perm
from govshare.catalog import rules, service
from govshare.catalog.models import CatalogResource
from govshare.catalog.schemas import ImportReport, ImportRowError, ResourceCreate
from govshare.core import events
from govshare.core.auth import Principal
from govshare.core.errors import DomainError, InvalidInput
from govshare.registry import service as registry_service

#: Canonical field -> accepted headers (the first is the Chinese header written by templates).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("资源名称", "信息资源名称", "name"),
    "classification": ("资源分类", "分类", "classification"),
    "category": ("资源类别", "基础资源类别", "主题", "类别", "category"),
    "provider": ("提供单位", "提供单位代号", "提供方代码", "provider"),
    "abstract": ("资源摘要", "摘要", "abstract"),
    "name_en": ("英文名称", "name_en"),
    "format": ("数据格式", "格式", "format"),
    "format_detail": ("格式说明", "format_detail"),
    "share_type": ("共享类型", "share_type"),
    "share_conditions": ("共享条件", "share_conditions"),
    "legal_basis": ("法律依据", "不予共享依据", "legal_basis"),
    "provision_method": ("提供方式", "provision_method"),
    "open_to_public": ("是否向社会开放", "向社会开放", "open_to_public"),
    "update_cycle": ("更新周期", "update_cycle"),
    "update_deadline_workdays": ("更新时限(工作日)", "更新时限", "update_deadline_workdays"),
    "sectors": ("领域", "所属领域", "sectors"),
    "security_classification": ("安全级别", "密级", "security_classification"),
    "contains_commercial_secret": ("含商业秘密", "是否含商业秘密", "contains_commercial_secret"),
    "contains_personal_info": ("含个人信息", "是否含个人信息", "contains_personal_info"),
    "data_items": ("信息项", "数据项", "data_items"),
    "related": ("关联资源", "related"),
    "fee": ("费用", "收费", "fee"),
}
REQUIRED = ("name", "classification", "format", "share_type", "provision_method", "update_cycle")

_EXTRA_ALIASES: dict[str, dict[str, str]] = {
    "classification": {
        "基础": "basic",
        "基础类": "basic",
        "主题": "thematic",
        "主题类": "thematic",
        "部门": "departmental",
        "部门类": "departmental",
    },
    "category": {
        "法人": "legal_entity",
        "地理": "natural_resources_geography",
        "空间地理": "natural_resources_geography",
        "自然资源": "natural_resources_geography",
        "信用": "social_credit",
        "证照": "e_licence",
    },
    "format": {"表格": "spreadsheet", "文件": "file", "api": "api", "图像": "image", "空间数据": "geospatial"},
    "share_type": {"无条件": "unconditional", "有条件": "conditional", "不予": "not_shared", "不共享": "not_shared"},
    "provision_method": {
        "接口": "gateway_api",
        "平台接口": "gateway_api",
        "托管": "hosted_dataset",
        "数据集": "hosted_dataset",
        "文件": "file",
        "平台外": "off_platform",
        "线下": "off_platform",
    },
    "update_cycle": {
        "每天": "daily",
        "日": "daily",
        "周": "weekly",
        "月": "monthly",
        "季度": "quarterly",
        "半年": "half_yearly",
        "年": "yearly",
        "每年度": "yearly",
    },
    "security_classification": {"敏感": "restricted", "受限": "restricted"},
    "data_type": {
        "字符串": "string",
        "文本": "string",
        "字符": "string",
        "整数": "integer",
        "数值": "decimal",
        "数字": "decimal",
        "小数": "decimal",
        "日期": "date",
        "时间": "datetime",
        "日期时间": "datetime",
        "布尔": "boolean",
        "逻辑型": "boolean",
        "二进制": "binary",
        "空间": "geometry",
    },
    "sectors": {
        "卫生": "health",
        "医疗": "health",
        "社保": "social_security",
        "社区": "community",
        "养老": "elderly_care",
        "住房": "housing",
        "交通": "transport",
        "文化": "culture",
        "环保": "environment",
        "食品药品安全": "food_drug",
        "市场监督": "market_regulation",
        "农业": "agriculture",
        "应急": "emergency",
    },
}
_VOCAB_OF: dict[str, rules.Labels] = {
    "classification": rules.CLASSIFICATIONS,
    "category": rules.CATEGORIES,
    "format": rules.FORMATS,
    "share_type": rules.SHARE_TYPES,
    "provision_method": rules.PROVISION_METHODS,
    "update_cycle": rules.UPDATE_CYCLES,
    "security_classification": rules.SECURITY_CLASSIFICATIONS,
    "data_type": rules.DATA_TYPES,
    "sectors": rules.SECTORS,
}
_TRUE = {"是", "y", "yes", "true", "1", "对", "√", "有"}
_FALSE = {"否", "n", "no", "false", "0", "无", "×", "不"}


def _norm_header(h: Any) -> str:
    text = str(h or "").strip().lower().replace("（", "(").replace("）", ")").replace("*", "")
    return re.sub(r"\s+", "", text)


_HEADER_INDEX = {_norm_header(h): field for field, hs in HEADERS.items() for h in hs}


def _aliases(field: str) -> dict[str, str]:
    vocab = _VOCAB_OF[field]
    out = {}
    for key, (zh, en) in vocab.items():
        out[key.lower()] = key
        out[zh.lower()] = key
        out[re.sub(r"（.*?）", "", zh).lower()] = key  # 平台外共享（须备案） -> 平台外共享
        out[en.lower()] = key
    for k, v in _EXTRA_ALIASES.get(field, {}).items():
        out[k.lower()] = v
    return out


_ALIASES = {f: _aliases(f) for f in _VOCAB_OF}


@dataclasses.dataclass
class Table:
    """A parsed file: its headers and its rows (spreadsheet row number, header -> cell text)."""

    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]
    file_name: str
    sha256: str


#: The longest cell read: Excel's own limit for one cell (32,767 characters), so no spreadsheet holds
#: more, and the longest field of an entry (its data items) fits. Longer cells are refused naming the
#: row and the column. (Python's csv module stops at 131,072 characters with an error that names
#: neither; :func:`_csv_rows` lifts that limit to the file's length so the check here is the one.)
MAX_CELL_CHARS = 32_767

_csv_limit_lock = threading.Lock()


class RowError(Exception):
    def __init__(self, field: str | None, code: str, zh: str, en: str, article: str | None = None) -> None:
        super().__init__(code)
        self.field, self.code, self.zh, self.en, self.article = field, code, zh, en, article


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_table(data: bytes, file_name: str) -> Table:
    """Parse ``data`` as .xlsx (by name or by its ZIP signature) or as CSV (UTF-8, else GB18030)."""
    sha = hashlib.sha256(data).hexdigest()
    is_xlsx = file_name.lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04"
    raw_rows: list[tuple[int, list[str]]] = []
    if is_xlsx:
        import openpyxl

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise InvalidInput(
                "catalog.import.unreadable",
                "无法读取该 Excel 文件",
                "Cannot read this Excel file",
                detail=type(exc).__name__,
                field="file",
            ) from exc
        ws = wb["资源目录"] if "资源目录" in wb.sheetnames else wb.worksheets[0]
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            raw_rows.append((number, [_cell(v) for v in values]))
        wb.close()
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InvalidInput(
                "catalog.import.encoding",
                "无法识别文件编码（请使用 UTF-8 或 GB18030）",
                "Unknown file encoding (use UTF-8 or GB18030)",
                field="file",
            )
        raw_rows = _csv_rows(text)
    raw_rows = [(n, vals) for n, vals in raw_rows if any(vals)]
    if not raw_rows:
        raise InvalidInput("catalog.import.empty", "文件为空", "The file is empty", field="file")
    header_row, *body = raw_rows
    headers = header_row[1]
    for position, h in enumerate(headers, start=1):
        if len(h) > MAX_CELL_CHARS:
            raise InvalidInput(
                "catalog.import.cell_too_long",
                f"第 {header_row[0]} 行第 {position} 列（表头）过长：{len(h)} 个字符，单元格最多 {MAX_CELL_CHARS} 个",
                f"row {header_row[0]}, column {position} (a header) is too long: {len(h)} characters; "
                f"a cell holds at most {MAX_CELL_CHARS}",
                field="file",
            )
    rows = []
    for number, values in body:
        cells = {h: (values[i] if i < len(values) else "") for i, h in enumerate(headers) if h}
        rows.append((number, cells))
    return Table(headers=[h for h in headers if h], rows=rows, file_name=file_name, sha256=sha)


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number where the record starts, cells) for each CSV record."""
    with _csv_limit_lock:  # process-wide: only ever raised, so a parse running meanwhile keeps its limit
        if csv.field_size_limit() < len(text) + 1:
            csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for values in reader:
            rows.append((start, [_cell(v) for v in values]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(
            "catalog.import.csv_malformed",
            f"CSV 文件第 {reader.line_num} 行格式有误",
            f"The CSV file is malformed at line {reader.line_num}",
            detail=str(exc),
            field="file",
        ) from None
    return rows


def read_file(path: str | Path) -> Table:
    p = Path(path)
    return read_table(p.read_bytes(), p.name)


def _vocab_value(field: str, text: str, header: str) -> str:
    key = _ALIASES[field].get(text.strip().lower())
    if key is None:
        allowed = "、".join(zh for zh, _en in _VOCAB_OF[field].values())
        raise RowError(
            header,
            "catalog.import.unknown_value",
            f"“{text}”不是有效的{header}，可选：{allowed}",
            f"'{text}' is not a valid {header}; allowed: " + ", ".join(_VOCAB_OF[field]),
        )
    return key


def _bool(text: str, header: str) -> bool | None:
    t = text.strip().lower()
    if not t:
        return None
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise RowError(header, "catalog.import.not_boolean", f"{header}应填“是”或“否”", f"{header} must be yes or no")


def parse_data_items(text: str, header: str = "信息项") -> list[dict[str, Any]]:
    items = []
    for part in re.split(r"[；;\n]+", text):
        if not part.strip():
            continue
        bits = [b.strip() for b in part.split("|")]
        name = bits[0]
        if not name:
            raise RowError(
                header,
                "catalog.import.item_name",
                f"信息项“{part.strip()}”缺少名称",
                f"data item '{part.strip()}' has no name",
            )
        data_type = _vocab_value("data_type", bits[1], header) if len(bits) > 1 and bits[1] else "string"
        description = bits[2] if len(bits) > 2 and bits[2] else None
        flags = bits[3].lower() if len(bits) > 3 else ""
        items.append(
            {
                "name": name,
                "data_type": data_type,
                "description": description,
                "is_personal": "个人" in flags or "personal" in flags,
                "is_secret": "涉密" in flags or "secret" in flags,
            }
        )
    return items


def _row_to_payload(cells: Mapping[str, str], columns: Mapping[str, str]) -> dict[str, Any]:
    """Turn one row (header -> text) into ResourceCreate input; raise RowError on bad values."""
    payload: dict[str, Any] = {}
    for header in columns.values():
        length = len(cells.get(header, ""))
        if length > MAX_CELL_CHARS:
            raise RowError(
                header,
                "catalog.import.cell_too_long",
                f"{header}过长：{length} 个字符，单元格最多 {MAX_CELL_CHARS} 个",
                f"{header} is too long: {length} characters; a cell holds at most {MAX_CELL_CHARS}",
            )
    for field, header in columns.items():
        text = cells.get(header, "").strip()
        if not text:
            continue
        if field in (
            "classification",
            "category",
            "format",
            "share_type",
            "provision_method",
            "update_cycle",
            "security_classification",
        ):
            payload[field] = _vocab_value(field, text, header)
        elif field == "sectors":
            payload[field] = sorted({_vocab_value("sectors", s, header) for s in rules.split_list(text)})
        elif field in ("open_to_public", "contains_commercial_secret", "contains_personal_info"):
            value = _bool(text, header)
            if value is not None:
                payload[field] = value
        elif field == "update_deadline_workdays":
            if not re.fullmatch(r"\d{1,4}", text):
                raise RowError(
                    header,
                    "catalog.import.not_integer",
                    f"{header}应为整数（工作日）",
                    f"{header} must be a whole number of working days",
                )
            payload[field] = int(text)
        elif field == "data_items":
            payload[field] = parse_data_items(text, header)
        elif field == "related":
            payload[field] = rules.split_list(text)
        elif field == "fee":
            payload[field] = text
        else:
            payload[field] = text
    return payload


@dataclasses.dataclass
class _Valid:
    row: int
    data: ResourceCreate


ProgressFn = Callable[[str, int, int], None]


def import_table(
    session: Session,
    table: Table,
    *,
    agency: str | None = None,
    by: Principal,
    valid_only: bool = False,
    status: str = "draft",
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Validate every row, then create the entries (as drafts; ``status`` submitted or published
    also submits or publishes them, which the caller must be allowed to do). With any error and
    ``valid_only`` false, nothing is stored."""
    if status not in ("draft", "submitted", "published"):
        raise InvalidInput(
            "catalog.import.status",
            "导入状态只能是草稿、待发布或已发布",
            "Import status must be draft, submitted or published",
            field="status",
        )
    errors: list[ImportRowError] = []
    columns: dict[str, str] = {}
    ignored: list[str] = []
    for h in table.headers:
        field = _HEADER_INDEX.get(_norm_header(h))
        if field is None:
            ignored.append(h)
        elif field not in columns:
            columns[field] = h
    missing = [f for f in REQUIRED if f not in columns]
    if "provider" not in columns and agency is None and by.is_system:
        missing.append("provider")
    for f in missing:
        zh = HEADERS[f][0]
        errors.append(
            ImportRowError(
                row=1,
                column=zh,
                code="catalog.import.column_missing",
                message_zh=f"缺少必填列“{zh}”",
                message_en=f"required column '{HEADERS[f][-1]}' is missing",
            )
        )
    default_agency = registry_service.get_agency(session, agency) if agency else None

    valid: list[_Valid] = []
    if not missing:
        seen_names: dict[tuple[int, str], int] = {}
        total = len(table.rows)
        for done, (number, cells) in enumerate(table.rows, start=1):
            try:
                valid.append(_validate_row(session, number, cells, columns, default_agency, by, seen_names))
            except RowError as e:
                errors.append(
                    ImportRowError(
                        row=number, column=e.field, code=e.code, message_zh=e.zh, message_en=e.en, article=e.article
                    )
                )
            if progress:
                progress("validate", done, total)

    stored = bool(valid) and (valid_only or not errors)
    ids: list[int] = []
    if stored:
        for done, v in enumerate(valid, start=1):
            resource = service.create_resource(
                session, v.data, by=by, source={"import": table.file_name, "sha256": table.sha256, "row": v.row}
            )
            if status in ("submitted", "published"):
                service.submit(session, resource.id, by=by)
            if status == "published":
                service.publish(session, resource.id, by=by)
            ids.append(resource.id)
            if progress:
                progress("store", done, len(valid))
        events.record(
            session,
            actor=by.actor,
            action="catalog.import.completed",
            subject_type="catalog_import",
            subject_id=table.sha256[:16],
            agency_code=default_agency.code if default_agency else None,
            data={
                "file": table.file_name,
                "sha256": table.sha256,
                "rows": len(table.rows),
                "imported": len(ids),
                "errors": len(errors),
                "status": status,
                "valid_only": valid_only,
            },
        )
    errors.sort(key=lambda e: (e.row, e.column or ""))
    report = ImportReport(
        file_name=table.file_name,
        sha256=table.sha256,
        rows=len(table.rows),
        valid=len(valid),
        imported=len(ids),
        errors=errors,
        resource_ids=ids,
        stored=stored,
        ignored_columns=ignored,
    )
    return report


def _header_for(field: str | None, columns: Mapping[str, str]) -> str | None:
    if field is None:
        return None
    root = field.split(".", 1)[0]
    return columns.get(root) or (HEADERS[root][0] if root in HEADERS else field)


def _validate_row(
    session: Session,
    number: int,
    cells: Mapping[str, str],
    columns: Mapping[str, str],
    default_agency: Any,
    by: Principal,
    seen_names: dict[tuple[int, str], int],
) -> _Valid:
    payload = _row_to_payload(cells, columns)
    provider_ref = payload.pop("provider", None)
    if default_agency is not None:
        if provider_ref and provider_ref not in (default_agency.code, default_agency.uscc, default_agency.name):
            raise RowError(
                columns.get("provider"),
                "catalog.import.provider_mismatch",
                f"提供单位“{provider_ref}”与指定机关 {default_agency.code} 不一致",
                f"provider '{provider_ref}' differs from the agency given ({default_agency.code})",
            )
        provider = default_agency
    elif provider_ref:
        try:
            provider = registry_service.get_agency(session, provider_ref)
        except DomainError as exc:
            raise RowError(
                columns.get("provider"),
                "catalog.import.provider_unknown",
                f"提供单位“{provider_ref}”不存在",
                f"unknown provider '{provider_ref}'",
            ) from exc
    else:
        own = sorted(perm.provider_agency_ids(by))
        if len(own) != 1:
            raise RowError(
                HEADERS["provider"][0], "catalog.import.provider_required", "请填写提供单位", "the provider is missing"
            )
        provider = registry_service.get_agency(session, own[0])
    if not perm.is_provider(by, provider.id):
        raise RowError(
            columns.get("provider") or HEADERS["provider"][0],
            "catalog.out_of_scope",
            f"无权为 {provider.name} 编目",
            f"not allowed to catalogue for {provider.code}",
            "Art 9",
        )
    payload["provider"] = provider.code
    try:
        data = ResourceCreate.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        raise RowError(
            _header_for(loc, columns),
            "catalog.import.invalid",
            f"{_header_for(loc, columns)}：{first['msg']}",
            f"{loc}: {first['msg']}",
        ) from exc
    content = service.normalise(data.model_dump(exclude={"provider", "fee", "note", "demand_id", "related"}))
    vs = service.violations_of(content, data.fee)
    if vs:
        v = vs[0]
        raise RowError(_header_for(v.field, columns), v.code, v.zh, v.en, v.article)
    for ref in data.related:
        if session.scalar(select(CatalogResource.id).where(service.ref_condition(ref))) is None:
            raise RowError(
                _header_for("related", columns),
                "catalog.related.not_found",
                f"关联资源 {ref} 不存在",
                f"related resource {ref} not found",
            )
    key = (provider.id, data.name)
    if key in seen_names:
        raise RowError(
            _header_for("name", columns),
            "catalog.import.duplicate_in_file",
            f"与第 {seen_names[key]} 行资源名称重复",
            f"same name as row {seen_names[key]}",
        )
    exists = session.scalar(
        select(CatalogResource.id)
        .where(
            CatalogResource.provider_id == provider.id,
            CatalogResource.name == data.name,
            CatalogResource.status != "withdrawn",
        )
        .limit(1)
    )
    if exists is not None:
        raise RowError(
            _header_for("name", columns),
            "catalog.resource.duplicate_name",
            f"本机关已有名为“{data.name}”的目录条目",
            f"the agency already has an entry named '{data.name}'",
        )
    seen_names[key] = number
    return _Valid(row=number, data=data)


def template_rows() -> tuple[list[str], list[list[str]]]:
    """Headers and two example rows, for ``govshare catalog template``."""
    headers = [
        HEADERS[f][0]
        for f in (
            "name",
            "classification",
            "category",
            "provider",
            "abstract",
            "format",
            "format_detail",
            "share_type",
            "share_conditions",
            "legal_basis",
            "provision_method",
            "open_to_public",
            "update_cycle",
            "update_deadline_workdays",
            "sectors",
            "security_classification",
            "contains_commercial_secret",
            "contains_personal_info",
            "data_items",
            "related",
        )
    ]
    rows = [
        [
            "户籍人口基本信息",
            "基础",
            "人口",
            "",
            "全省户籍人口的基本登记信息。",
            "数据库",
            "",
            "有条件共享",
            "仅限履行法定职责的行政机关按需调用，须签订保密协议",
            "",
            "共享平台接口",
            "否",
            "实时",
            "5",
            "公共安全、民政",
            "敏感",
            "否",
            "是",
            "公民身份号码|字符型|18 位|个人；姓名|字符型||个人；户籍地址|字符型||个人",
            "",
        ],
        [
            "公共图书馆名录",
            "部门",
            "",
            "",
            "公共图书馆名称、地址、开放时间。",
            "电子表格",
            "XLSX",
            "无条件共享",
            "",
            "",
            "平台托管数据集",
            "是",
            "每年",
            "20",
            "公共文化",
            "公开",
            "否",
            "否",
            "图书馆名称|字符型；地址|字符型；开放时间|字符型",
            "",
        ],
    ]
    return headers, rows


def iter_errors_text(errors: Iterable[ImportRowError]) -> Iterable[str]:
    for e in errors:
        yield f"第 {e.row} 行 [{e.column or '-'}] {e.message_zh} / row {e.row} [{e.column or '-'}] {e.message_en}"
