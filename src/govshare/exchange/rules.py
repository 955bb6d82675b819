"""Pure exchange rules: provider interfaces (Art 15), hosted datasets, off-platform filings (Art 14(3)).

No I/O here. Every rule names its article; a violation is an ``InvalidInput`` (422) with a stable
``code``, the ``field`` at fault and the ``article``.

Provider interfaces (Art 15(1): "按照统一标准...提供数据访问接口")
--------------------------------------------------------------------
An entry's provider attaches one interface of the kind its provision method (Art 10(1)) names:

* ``proxied_api`` for ``gateway_api`` entries: the platform's gateway forwards calls to an API on
  the provider's exchange node (base URL, optional OpenAPI 3.x description, timeout, and whether
  the channel is a network with secrecy measures, which state secrets require, Art 18(2));
* ``hosted_dataset`` for ``hosted_dataset`` entries: the provider uploads versions of the data,
  which the platform validates against the entry's data items and serves itself.

How a data item says what it holds (hosted datasets)
----------------------------------------------------
By its ``field_code`` (the catalog's machine name of an item), from a fixed list: an item whose
``field_code`` is ``id_number`` holds citizen identity numbers (GB 11643, check character
verified), ``uscc`` unified social credit codes (GB 32100), ``region_code`` the administrative
division (GB/T 2260) of the row. A field code is explicit, already part of every entry's metadata
(Art 10(1) data items) and needs no new catalog attribute; guessing from Chinese item names would
be neither.

Every hosted dataset has exactly one ``region_code`` item: the six-digit code of a region in the
registry, saying whose row it is. The gateway serves a consumer only the rows of its granted
region and the regions below it (Art 14(2): a city agency exchanges the data the provincial agency
distributed for its city).

Required items: the catalog has no "required" flag, so the interface says which items must be
filled in every row (``required_items``). The region item and the verification key items are
always required, and key items must be unique: a verification answers for one record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from govshare.core.errors import InvalidInput

# --- Interfaces (Art 15) ------------------------------------------------------------------------

Labels = dict[str, tuple[str, str]]

INTERFACE_KINDS: Labels = {
    "proxied_api": ("代理接口", "proxied API on the provider's exchange node"),
    "hosted_dataset": ("平台托管数据集", "dataset hosted by the platform"),
}
#: The catalog provision method (Art 10(1)) each kind implements.
KIND_FOR_METHOD = {"gateway_api": "proxied_api", "hosted_dataset": "hosted_dataset"}

#: Bounds of a proxied API's timeout (a platform rule: a call waits at most a minute).
MIN_TIMEOUT_MS = 100
MAX_TIMEOUT_MS = 60_000
DEFAULT_TIMEOUT_MS = 10_000
URL_MAX_LENGTH = 500
#: Largest OpenAPI description stored with an interface.
OPENAPI_MAX_BYTES = 1024 * 1024


def invalid(code: str, zh: str, en: str, *, field: str, article: str | None = "Art 15", **extra: Any) -> InvalidInput:
    return InvalidInput(code, zh, en, field=field, article=article, extra=extra or None)


def check_kind_matches_method(kind: str, provision_method: str) -> None:
    """Art 10(1): the entry states its provision method; the interface must be that method."""
    expected = KIND_FOR_METHOD.get(provision_method)
    if expected != kind:
        want = f"，该条目应接入 {expected}" if expected else "，该条目的提供方式不经平台接口"
        want_en = (
            f"; this entry takes a {expected}" if expected else "; this entry is not provided through an interface"
        )
        raise invalid(
            "exchange.interface.kind_mismatch",
            f"接口类型 {kind} 与目录条目的提供方式 {provision_method} 不符{want}",
            f"interface kind {kind} does not match the entry's provision method {provision_method}{want_en}",
            field="kind",
            article="Art 10",
        )


#: Security classifications that are state secrets (catalog.rules.STATE_SECRET_LEVELS).
STATE_SECRET_LEVELS = frozenset({"secret", "confidential"})


def check_secrecy_channel(security_classification: str, secrecy_network: bool) -> None:
    """Art 18(2): shared information involving state secrets is exchanged only over a network with
    secrecy measures, so the interface of such an entry must be declared as one."""
    if security_classification in STATE_SECRET_LEVELS and not secrecy_network:
        raise invalid(
            "exchange.interface.secrecy_network_required",
            "涉及国家秘密的资源只能通过采取保密措施的网络交换：接口须标明 secrecy_network",
            "an entry holding state secrets is exchanged only over a network with secrecy measures: "
            "mark the interface secrecy_network",
            field="secrecy_network",
            article="Art 18(2)",
        )


_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def check_url(value: str, *, field: str) -> str:
    """An absolute http(s) URL without credentials, query or fragment (Art 31 security: a key in a
    URL ends up in logs; the gateway keeps credentials elsewhere)."""
    text = value.strip()
    problem: tuple[str, str] | None = None
    if not text or len(text) > URL_MAX_LENGTH:
        problem = (f"地址不能为空且不超过 {URL_MAX_LENGTH} 个字符", f"must be 1 to {URL_MAX_LENGTH} characters")
    elif _CONTROL.search(text):
        problem = ("地址中不能有空格或控制字符", "must not contain spaces or control characters")
    else:
        try:
            parts = urlsplit(text)
            port = parts.port  # raises ValueError for a bad port
        except ValueError:
            parts, port = None, None
        if parts is None:
            problem = ("地址格式不正确", "is not a valid URL")
        elif parts.scheme not in ("http", "https") or not parts.hostname:
            problem = ("须为 http:// 或 https:// 开头的完整地址", "must be an absolute http:// or https:// URL")
        elif parts.username is not None or parts.password is not None or "@" in parts.netloc:
            problem = ("地址中不能包含用户名或密码", "must not carry a user name or password")
        elif parts.query or parts.fragment or "?" in text or "#" in text:
            problem = (
                "地址中不能包含查询参数或片段（密钥不得写在地址里）",
                "must not carry a query or fragment (keys do not belong in URLs)",
            )
        elif port == 0:
            problem = ("端口号不正确", "has an invalid port")
    if problem:
        raise invalid(
            "exchange.interface.url_invalid",
            f"{field}：{problem[0]}",
            f"{field} {problem[1]}",
            field=field,
            article="Art 15",
        )
    return text


_LOOKUP_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/{}-]{0,299}\Z")


def check_lookup_path(value: str, *, field: str = "lookup_path") -> str:
    """A path below the base URL (``/verify`` or ``/persons/{id_number}/check``), no ``..``."""
    text = value.strip()
    if not _LOOKUP_PATH.match(text) or "/../" in text + "/" or text.endswith("/..") or "//" in text:
        raise invalid(
            "exchange.interface.lookup_path_invalid",
            "核验路径须以 / 开头，为基础地址下的路径，不含 .. 或查询参数",
            "the lookup path must start with / and stay below the base URL (no .., no query)",
            field=field,
        )
    return text


def check_timeout(value: int) -> int:
    if not MIN_TIMEOUT_MS <= value <= MAX_TIMEOUT_MS:
        raise invalid(
            "exchange.interface.timeout_out_of_range",
            f"超时时间须在 {MIN_TIMEOUT_MS} 至 {MAX_TIMEOUT_MS} 毫秒之间",
            f"the timeout must lie between {MIN_TIMEOUT_MS} and {MAX_TIMEOUT_MS} ms",
            field="timeout_ms",
        )
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class OpenApiInfo:
    version: str
    title: str
    api_version: str
    paths: int


def parse_openapi(text: str) -> OpenApiInfo:
    """A minimal check that ``text`` is an OpenAPI 3.x description (JSON or YAML): a mapping with
    ``openapi: 3.x``, ``info.title``, ``info.version``, and ``paths`` (3.0) or one of ``paths``,
    ``components``, ``webhooks`` (3.1). Art 15(1) asks for interfaces "to a unified standard";
    OpenAPI is the one the platform reads. The whole document is not validated against the schema.
    """
    import yaml  # PyYAML: YAML 1.1 safe loader, also reads JSON

    def bad(zh: str, en: str) -> InvalidInput:
        return invalid(
            "exchange.interface.openapi_invalid",
            f"OpenAPI 描述无效：{zh}",
            f"invalid OpenAPI description: {en}",
            field="openapi",
        )

    if len(text.encode("utf-8")) > OPENAPI_MAX_BYTES:
        raise bad(f"超过 {OPENAPI_MAX_BYTES} 字节", f"over {OPENAPI_MAX_BYTES} bytes")
    try:
        doc = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise bad("不是合法的 JSON 或 YAML", f"not valid JSON or YAML ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise bad("顶层应为对象", "the top level must be an object")
    version = doc.get("openapi")
    if not isinstance(version, str) or not re.fullmatch(r"3\.[0-9]+\.[0-9]+(-[A-Za-z0-9.]+)?", version):
        raise bad(
            "缺少 openapi: 3.x 版本号（Swagger 2.0 请先转换为 OpenAPI 3）",
            "missing openapi: 3.x (convert Swagger 2.0 to OpenAPI 3 first)",
        )
    info = doc.get("info")
    if (
        not isinstance(info, dict)
        or not isinstance(info.get("title"), str)
        or not info.get("title", "").strip()
        or not isinstance(info.get("version"), str | int | float)
    ):
        raise bad("info 须有 title 和 version", "info needs a title and a version")
    paths = doc.get("paths")
    if paths is not None and not isinstance(paths, dict):
        raise bad("paths 应为对象", "paths must be an object")
    if version.startswith("3.0") and paths is None:
        raise bad("OpenAPI 3.0 须有 paths", "OpenAPI 3.0 needs paths")
    if paths is None and not any(isinstance(doc.get(k), dict) for k in ("components", "webhooks")):
        raise bad("须有 paths、components 或 webhooks", "needs paths, components or webhooks")
    return OpenApiInfo(version, info["title"].strip()[:200], str(info["version"])[:50], len(paths or {}))


# --- Hosted datasets -----------------------------------------------------------------------------

#: Field codes with a meaning for hosted datasets (module docstring).
ID_NUMBER = "id_number"
USCC = "uscc"
REGION_CODE = "region_code"
CHECKED_FIELD_CODES: Labels = {
    ID_NUMBER: ("公民身份号码（GB 11643 校验码）", "citizen identity number (GB 11643 check character)"),
    USCC: ("统一社会信用代码（GB 32100 校验码）", "unified social credit code (GB 32100 check character)"),
    REGION_CODE: ("行政区划代码（GB/T 2260，行级范围）", "region code (GB/T 2260, row scope)"),
}
#: Item types a hosted dataset stores, and the DuckDB type of each (binary and geometry items are
#: kept as text: base64 or WKT/GeoJSON as the provider wrote them, not checked).
STORED_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DECIMAL(38,10)",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "boolean": "BOOLEAN",
    "binary": "VARCHAR",
    "geometry": "VARCHAR",
}
#: Upload formats, by file name ending.
FORMATS: Labels = {
    "csv": ("CSV（UTF-8 或 GBK/GB18030）", "CSV (UTF-8 or GBK/GB18030)"),
    "jsonl": ("JSON Lines", "JSON lines"),
    "parquet": ("Parquet", "Parquet"),
    "xlsx": ("Excel（.xlsx）", "Excel (.xlsx)"),
}
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}


def format_of(filename: str, declared: str | None = None) -> str:
    if declared:
        if declared not in FORMATS:
            raise invalid(
                "exchange.dataset.format_unknown",
                f"不支持的格式 {declared}",
                f"unsupported format {declared}",
                field="format",
                article=None,
                allowed=sorted(FORMATS),
            )
        return declared
    lower = filename.lower()
    for ext, fmt in EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt
    raise invalid(
        "exchange.dataset.format_unknown",
        "无法从文件名判断格式：请上传 .csv、.jsonl、.parquet 或 .xlsx 文件，或指明 format",
        "cannot tell the format from the file name: upload .csv, .jsonl, .parquet or .xlsx, or give format",
        field="file",
        article=None,
        allowed=sorted(FORMATS),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class ItemSpec:
    """A data item as a hosted dataset stores it: ``column`` is the Parquet column (``c0``, ``c1``
    ...: identifiers in SQL never come from user input)."""

    name: str
    field_code: str | None
    data_type: str
    column: str
    required: bool
    key: bool

    @property
    def check(self) -> str | None:
        return self.field_code if self.field_code in CHECKED_FIELD_CODES else None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def plan_items(items: Sequence[Any], *, required: Iterable[str], keys: Iterable[str]) -> list[ItemSpec]:
    """The stored columns of a hosted dataset for the entry's data ``items`` (objects with ``name``,
    ``field_code``, ``data_type``). Exactly one item must have field code ``region_code`` (Art 14(2)
    row scope)."""
    required, keys = set(required), set(keys)
    regions = [i.name for i in items if i.field_code == REGION_CODE]
    if len(regions) != 1:
        raise invalid(
            "exchange.dataset.region_item_required",
            "托管数据集的目录条目须有且仅有一个英文标识为 region_code 的信息项（行政区划代码），用于按地区分发数据",
            "a hosted dataset's entry needs exactly one data item with field code region_code (the row's "
            "administrative division), so rows can be distributed by region",
            field="data_items",
            article="Art 14",
            found=regions,
        )
    out = []
    for n, item in enumerate(items):
        is_key = item.name in keys
        out.append(
            ItemSpec(
                item.name,
                item.field_code,
                item.data_type,
                f"c{n}",
                required=item.name in required or is_key or item.field_code == REGION_CODE,
                key=is_key,
            )
        )
    return out


def check_item_names(names: Iterable[str], known: Iterable[str], *, field: str) -> list[str]:
    known_set = set(known)
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in known_set]
    if unknown:
        raise invalid(
            "exchange.item.unknown",
            f"目录条目没有信息项：{'、'.join(unknown)}",
            f"the entry has no data item named {', '.join(unknown)}",
            field=field,
            article="Art 10",
            unknown=unknown,
        )
    return names


# --- Off-platform sharing (Art 14(3)) ------------------------------------------------------------

REPORT_PERIODS: Labels = {
    "monthly": ("每月", "monthly"),
    "quarterly": ("每季度", "quarterly"),
    "half_yearly": ("每半年", "half-yearly"),
    "yearly": ("每年", "yearly"),
}
_PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
FILING_STATES: Labels = {"active": ("有效", "active"), "ended": ("已终止", "ended")}
#: Why the off-platform sharing ended: stated when the filing is ended (Art 14(3)).
END_REASON_MIN, END_REASON_MAX = 2, 2000


def period_of(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The calendar period (month, quarter, half-year or year) holding ``day``: first and last day.

    Reporting periods of Art 14(3) are calendar periods, so every filing's reports line up with the
    platform's monthly statistics; the first period of a filing is the one in which it was filed.
    """
    months = _PERIOD_MONTHS[period]
    first_month = (day.month - 1) // months * months + 1
    start = dt.date(day.year, first_month, 1)
    return start, _add_months(start, months) - dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + y, m + 1, 1)


def periods_between(first_day: dt.date, last_day: dt.date, period: str) -> list[tuple[dt.date, dt.date]]:
    """Every calendar period from the one holding ``first_day`` to the one holding ``last_day``."""
    out = []
    start, end = period_of(first_day, period)
    while start <= last_day:
        out.append((start, end))
        start = end + dt.timedelta(days=1)
        end = _add_months(start, _PERIOD_MONTHS[period]) - dt.timedelta(days=1)
    return out
