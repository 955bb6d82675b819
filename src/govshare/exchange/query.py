"""Querying hosted datasets: what the gateway calls on its hot path, and what providers preview.

The gateway resolves a call to a grant (consumer, resource, granted items, region scope), then:

1. ``source = load_source(session, resource_id)`` once per resource and version (cache it: a
   :class:`HostedSource` is immutable; a new version has a new ``version`` and file);
2. ``codes = scope_codes(session, grant.region_scope_code)`` once per region (cache it);
3. ``query_hosted_json(source, items=..., allowed=grant.items, region_codes=codes, filters=...,
   offset=..., limit=...)`` per call: JSON bytes of the page and the total, or
   ``verify_hosted(source, key_item=..., key_value=..., claims=..., region_codes=codes)`` for a
   verification (核验) call, which answers match/no match per item, never a value.

Guarantees, whatever the caller passes:

* projection: only the items asked for come back, and they must be among ``allowed`` (the granted
  items, Art 17); filters too may name only allowed items;
* row scope: only rows whose region item lies in ``region_codes`` (Art 14(2)); ``None`` means the
  whole dataset and is for the provider's own preview only;
* no SQL injection: values are bound parameters; the only identifiers in the SQL are the
  platform's column names (``c0`` ... from the version's column map, ``_row``), looked up from
  item names, so an item name never reaches the SQL text;
* stable paging: rows come in ``_row`` order (region, then the provider's row order), numbered
  at ingest.

DuckDB runs in-process: one in-memory database per process, one cursor per thread, reading the
immutable Parquet files read-only (several server workers reading the same files is safe).
``memory_limit`` and ``threads`` come from the settings. Parquet metadata is cached across queries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog.models import CatalogResource
from govshare.core import refs
from govshare.core.errors import InvalidInput, NotFound
from govshare.exchange.config import get_exchange_settings
from govshare.exchange.datasets import storage
from govshare.exchange.datasets.validate import literal, q
from govshare.exchange.models import ExchangeDatasetVersion, ExchangeInterface
from govshare.exchange.rules import ID_NUMBER, REGION_CODE, USCC, ItemSpec
from govshare.registry import service as registry_service

#: Filter operators. ``in`` takes a list; the others one value.
OPERATORS = {
    "eq": "=",
    "ne": "<>",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "IN",
}
MAX_IN_VALUES = 1000
MAX_FILTERS = 20
MAX_STRING = 1000


# --- Sources ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class HostedSource:
    """The served version of one hosted dataset, as queries need it."""

    resource_id: int
    resource_code: str | None
    version: int
    path: Path
    row_count: int
    #: Item name -> stored column.
    items: Mapping[str, ItemSpec]
    region_item: str
    key_items: frozenset[str]

    @property
    def item_names(self) -> list[str]:
        return list(self.items)


def _no_dataset(ref: object) -> NotFound:
    return NotFound(
        "exchange.dataset.not_found",
        f"目录条目 {ref} 没有可用的托管数据集",
        f"Entry {ref} has no hosted dataset to serve",
        field="resource",
        article="Art 15",
    )


def source_of(interface: ExchangeInterface, version: ExchangeDatasetVersion, code: str | None) -> HostedSource:
    specs = [ItemSpec(**c) for c in version.columns]
    return HostedSource(
        resource_id=version.resource_id,
        resource_code=code,
        version=version.number,
        path=storage.absolute(version.path),
        row_count=version.row_count,
        items={s.name: s for s in specs},
        region_item=next(s.name for s in specs if s.field_code == REGION_CODE),
        key_items=frozenset(s.name for s in specs if s.key),
    )


def load_source(session: Session, resource: int | str, *, version: int | None = None) -> HostedSource:
    """The served (or the given) version of the hosted dataset of an entry (id or resource code).
    One query; raises 404 ``exchange.dataset.not_found`` when there is none to serve."""
    rid = refs.id_of(resource)  # str.isdigit() is also true for "¹", which int() refuses (a 500)
    cond = CatalogResource.id == rid if rid is not None else CatalogResource.code == str(resource)
    row = session.execute(
        select(ExchangeInterface, CatalogResource.code)
        .join(CatalogResource, CatalogResource.id == ExchangeInterface.resource_id)
        .where(cond, ExchangeInterface.kind == "hosted_dataset", ExchangeInterface.detached_at.is_(None))
    ).first()
    if row is None:
        raise _no_dataset(resource)
    interface, code = row
    number = version if version is not None else interface.current_version
    if number is None:
        raise _no_dataset(resource)
    found = session.scalar(
        select(ExchangeDatasetVersion).where(
            ExchangeDatasetVersion.resource_id == interface.resource_id, ExchangeDatasetVersion.number == number
        )
    )
    if found is None:
        raise _no_dataset(resource)
    return source_of(interface, found, code)


def scope_codes(session: Session, region_code: str) -> frozenset[str]:
    """The codes of a region and every region below it (the registry's tree): a grant's row scope."""
    region = registry_service.get_region(session, region_code)
    return frozenset(registry_service.region_codes_under(session, region.path))


# --- Connections ---------------------------------------------------------------------------------

_lock = threading.Lock()
_db: duckdb.DuckDBPyConnection | None = None
_db_pid: int | None = None
_local = threading.local()


def _database() -> duckdb.DuckDBPyConnection:
    global _db, _db_pid
    with _lock:
        if _db is None or _db_pid != os.getpid():
            settings = get_exchange_settings()
            _db = duckdb.connect(
                config={"memory_limit": settings.duckdb_memory_limit, "threads": settings.duckdb_threads}
            )
            _db.execute("SET parquet_metadata_cache = true")
            _db_pid = os.getpid()
        return _db


def cursor() -> duckdb.DuckDBPyConnection:
    """This thread's cursor on the process's DuckDB (a cursor is not shared between threads)."""
    db = _database()
    cur = getattr(_local, "cursor", None)
    if cur is None or getattr(_local, "db", None) is not db:
        cur = db.cursor()
        _local.cursor, _local.db = cur, db
    return cur


def reset_connections() -> None:
    """Close the process's DuckDB (tests change the settings)."""
    global _db
    with _lock:
        if _db is not None:
            _db.close()
        _db = None
    _local.__dict__.clear()


# --- Values --------------------------------------------------------------------------------------


def _bad_value(item: str, zh: str, en: str, *, field: str) -> InvalidInput:
    return InvalidInput(
        "exchange.query.value_invalid", f"信息项“{item}”的取值{zh}", f"value of item '{item}' {en}", field=field
    )


def coerce(spec: ItemSpec, value: Any, *, field: str) -> Any:
    """A filter or claim value as the item's stored type (``InvalidInput`` naming ``field``)."""
    t = spec.data_type
    try:
        if t == "integer":
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError
            out: Any = int(str(value).strip())
            if not -(2**63) <= out < 2**63:
                raise ValueError
            return out
        if t == "decimal":
            if isinstance(value, bool):
                raise ValueError
            d = Decimal(str(value).strip())
            if not d.is_finite() or abs(d) >= Decimal(10) ** 28:
                raise ValueError
            return d
        if t == "date":
            return dt.date.fromisoformat(str(value).strip())
        if t == "datetime":
            parsed = dt.datetime.fromisoformat(str(value).strip())
            return (
                parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed.astimezone(dt.UTC).replace(tzinfo=None)
            )
        if t == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "是", "yes"):
                return True
            if text in ("false", "0", "否", "no"):
                return False
            raise ValueError
    except (ValueError, InvalidOperation, ArithmeticError):
        raise _bad_value(spec.name, f"不是有效的{_TYPE_ZH.get(t, t)}", f"is not a valid {t}", field=field) from None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _bad_value(spec.name, "应为文本", "must be text", field=field)
    text = str(value).strip()
    if len(text) > MAX_STRING or "\x00" in text:
        raise _bad_value(
            spec.name,
            f"过长（最多 {MAX_STRING} 个字符）或含空字符",
            f"is over {MAX_STRING} characters or contains NUL",
            field=field,
        )
    return text.upper() if spec.field_code in (ID_NUMBER, USCC) else text


_TYPE_ZH = {"integer": "整数", "decimal": "数值", "date": "日期", "datetime": "日期时间", "boolean": "布尔值"}


# --- Queries -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Filter:
    """One condition on an item: ``op`` in :data:`OPERATORS`; ``value`` a list for ``in``."""

    item: str
    op: str
    value: Any


@dataclasses.dataclass(frozen=True, slots=True)
class HostedPage:
    rows: list[dict[str, Any]]
    total: int | None
    offset: int
    limit: int
    version: int


@dataclasses.dataclass(frozen=True, slots=True)
class HostedJsonPage:
    #: A JSON array of row objects (item name -> value), UTF-8.
    items_json: bytes
    returned: int
    total: int | None
    offset: int
    limit: int
    version: int


def _unknown_items(names: Iterable[str], field: str) -> InvalidInput:
    names = list(names)
    return InvalidInput(
        "exchange.query.item_not_allowed",
        "请求的信息项不存在或未获授权：" + "、".join(names),
        "data items unknown or not granted: " + ", ".join(names),
        field=field,
        article="Art 17",
        extra={"items": names},
    )


def _allowed(source: HostedSource, allowed: Collection[str] | None) -> set[str]:
    return set(source.items) if allowed is None else set(allowed) & set(source.items)


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    where: str
    params: list[Any]
    specs: list[ItemSpec]
    scan: str


def _plan(
    source: HostedSource,
    items: Sequence[str] | None,
    allowed: Collection[str] | None,
    region_codes: Collection[str] | None,
    filters: Sequence[Filter],
) -> _Plan:
    permitted = _allowed(source, allowed)
    names = list(dict.fromkeys(items)) if items else [n for n in source.items if n in permitted]
    refused = [n for n in names if n not in permitted]
    if refused or not names:
        raise _unknown_items(refused or ["(none)"], "items")
    if len(filters) > MAX_FILTERS:
        raise InvalidInput(
            "exchange.query.too_many_filters",
            f"最多 {MAX_FILTERS} 个筛选条件",
            f"at most {MAX_FILTERS} filters",
            field="filters",
        )
    where: list[str] = []
    params: list[Any] = []
    if region_codes is not None:
        region = source.items[source.region_item]
        where.append(f"{q(region.column)} IN (SELECT unnest(?::VARCHAR[]))")
        params.append(sorted(region_codes))
    for f in filters:
        field = f"filter.{f.item}"
        if f.item not in permitted:
            raise _unknown_items([f.item], field)
        spec = source.items[f.item]
        op = OPERATORS.get(f.op)
        if op is None:
            raise InvalidInput(
                "exchange.query.operator_invalid",
                f"不支持的筛选运算 {f.op}",
                f"unsupported filter operator {f.op}",
                field=field,
                extra={"allowed": sorted(OPERATORS)},
            )
        if f.op == "in":
            values = f.value if isinstance(f.value, list | tuple) else [f.value]
            if not values or len(values) > MAX_IN_VALUES:
                raise InvalidInput(
                    "exchange.query.in_size",
                    f"in 须有 1 至 {MAX_IN_VALUES} 个值",
                    f"in takes 1 to {MAX_IN_VALUES} values",
                    field=field,
                )
            where.append(f"{q(spec.column)} IN (SELECT unnest(?))")
            params.append([coerce(spec, v, field=field) for v in values])
        else:
            if isinstance(f.value, list | tuple | dict):
                raise _bad_value(spec.name, "应为单个值", "must be a single value", field=field)
            where.append(f"{q(spec.column)} {op} ?")
            params.append(coerce(spec, f.value, field=field))
    return _Plan(
        " AND ".join(where) or "true",
        params,
        [source.items[n] for n in names],
        f"read_parquet({literal(str(source.path))})",
    )


def _bounds(offset: int, limit: int) -> tuple[int, int]:
    cap = get_exchange_settings().hosted_max_limit
    if offset < 0 or not 1 <= limit <= cap:
        raise InvalidInput(
            "exchange.query.page_invalid",
            f"offset 不能为负，limit 须在 1 至 {cap} 之间",
            f"offset must not be negative and limit must lie between 1 and {cap}",
            field="limit",
        )
    return offset, limit


def _count(cur: duckdb.DuckDBPyConnection, plan: _Plan) -> int:
    return int(cur.execute(f"SELECT count(*) FROM {plan.scan} WHERE {plan.where}", plan.params).fetchone()[0])  # type: ignore[index]


def _page(cur: duckdb.DuckDBPyConnection, plan: _Plan, offset: int, limit: int) -> list[tuple[Any, ...]]:
    """The page's rows in ``_row`` order, in two steps (late materialisation by hand): first the
    ``_row`` numbers of the page, reading only the filter columns, then the projected columns of
    those rows alone, which the Parquet min/max statistics of the sorted ``_row`` column find
    without reading the other row groups. One ``ORDER BY _row LIMIT/OFFSET`` query over the
    projected columns read them for every matching row (10x slower at offset 100,000 on 10
    million rows; see ``benchmarks/hosted_query.py``)."""
    numbers = [
        r[0]
        for r in cur.execute(
            f"SELECT _row FROM {plan.scan} WHERE {plan.where} ORDER BY _row LIMIT ? OFFSET ?",
            [*plan.params, limit, offset],
        ).fetchall()
    ]
    if not numbers:
        return []
    cols = ", ".join(q(s.column) for s in plan.specs)
    # The row numbers are integers DuckDB just returned (not caller input), written as integer
    # literals: a literal IN list is pushed into the Parquet scan, a bound list becomes a join.
    listed = ", ".join(str(int(n)) for n in numbers)
    return cur.execute(
        f"SELECT {cols} FROM {plan.scan} WHERE _row BETWEEN ? AND ? AND _row IN ({listed}) ORDER BY _row",
        [numbers[0], numbers[-1]],
    ).fetchall()


def query_hosted(
    source: HostedSource,
    *,
    items: Sequence[str] | None,
    region_codes: Collection[str] | None,
    filters: Sequence[Filter] = (),
    allowed: Collection[str] | None = None,
    offset: int = 0,
    limit: int = 50,
    count: bool = True,
) -> HostedPage:
    """One page of rows as dicts (item name -> value: str, int, Decimal, date, datetime, bool)."""
    offset, limit = _bounds(offset, limit)
    plan = _plan(source, items, allowed, region_codes, filters)
    cur = cursor()
    rows = _page(cur, plan, offset, limit)
    names = [s.name for s in plan.specs]
    total = _count(cur, plan) if count else None
    return HostedPage([dict(zip(names, r, strict=True)) for r in rows], total, offset, limit, source.version)


def query_hosted_json(
    source: HostedSource,
    *,
    items: Sequence[str] | None,
    region_codes: Collection[str] | None,
    filters: Sequence[Filter] = (),
    allowed: Collection[str] | None = None,
    offset: int = 0,
    limit: int = 50,
    count: bool = True,
) -> HostedJsonPage:
    """One page as JSON bytes: an array of objects keyed by item name (see :func:`rows_as_json`).
    For the gateway, which answers with bytes. (DuckDB's own JSON functions measured slower than
    this for pages of 50 rows: the page query dominates, and json.dumps of 50 rows took 0.2 ms.)"""
    page = query_hosted(
        source,
        items=items,
        region_codes=region_codes,
        filters=filters,
        allowed=allowed,
        offset=offset,
        limit=limit,
        count=count,
    )
    return HostedJsonPage(rows_as_json(page.rows), len(page.rows), page.total, offset, limit, source.version)


# --- Verification (核验) --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Verification:
    """Whether a record with the key exists (within the scope), and per claimed item whether the
    claimed value equals the record's. Never a value of the record."""

    found: bool
    matches: dict[str, bool]

    def as_dict(self) -> dict[str, Any]:
        return {"found": self.found, "matches": self.matches}


def verify_hosted(
    source: HostedSource,
    *,
    key_item: str,
    key_value: Any,
    claims: Mapping[str, Any],
    region_codes: Collection[str] | None = None,
    allowed: Collection[str] | None = None,
) -> Verification:
    """核验: compare the values a consumer holds with the authoritative record, item by item.

    ``key_item`` must be one of the interface's key items (unique in every version); ``claims``
    maps item names (among ``allowed``) to the values held. The answer carries booleans only:
    strings compare after trimming (identity numbers and credit codes case-insensitively), typed
    items as their type. An empty record value matches nothing.
    """
    permitted = _allowed(source, allowed)
    if key_item not in source.key_items or key_item not in permitted:
        raise InvalidInput(
            "exchange.verify.key_invalid",
            f"“{key_item}”不是可用于核验的主键信息项",
            f"'{key_item}' is not a key item verification may look records up by",
            field="key_item",
            extra={"key_items": sorted(source.key_items & permitted)},
        )
    if not claims:
        raise InvalidInput(
            "exchange.verify.claims_required",
            "至少提交一个待核验的信息项",
            "give at least one item to verify",
            field="claims",
        )
    refused = [n for n in claims if n not in permitted]
    if refused:
        raise _unknown_items(refused, "claims")
    key_spec = source.items[key_item]
    key = coerce(key_spec, key_value, field="key_value")
    names = list(claims)
    specs = [source.items[n] for n in names]
    values = [coerce(s, claims[n], field=f"claims.{n}") for s, n in zip(specs, names, strict=True)]
    tests = ", ".join(f"coalesce({q(s.column)} = ?, false)" for s in specs)
    where = f"{q(key_spec.column)} = ?"
    params: list[Any] = [*values, key]
    if region_codes is not None:
        where += f" AND {q(source.items[source.region_item].column)} IN (SELECT unnest(?::VARCHAR[]))"
        params.append(sorted(region_codes))
    row = (
        cursor()
        .execute(f"SELECT {tests} FROM read_parquet({literal(str(source.path))}) WHERE {where} LIMIT 1", params)
        .fetchone()
    )
    if row is None:
        return Verification(False, {n: False for n in names})
    return Verification(True, {n: bool(v) for n, v in zip(names, row, strict=True)})


def _json_default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return float(o)
    if isinstance(o, dt.datetime | dt.date):
        return o.isoformat()
    raise TypeError(type(o).__name__)


def rows_as_json(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Rows as compact UTF-8 JSON: dates ``YYYY-MM-DD``, date-times ISO 8601 (``YYYY-MM-DDTHH:MM:SS``,
    local time as the provider gave it), decimals as numbers, booleans and nulls as themselves."""
    return json.dumps(list(rows), ensure_ascii=False, default=_json_default, separators=(",", ":")).encode("utf-8")
