"""A read-only CKAN-compatible Action API over the public catalog (CKAN 2.10 semantics).

Existing CKAN clients and harvesters (``ckanapi``, ckanext-harvest's CKAN harvester, ckanext-dcat
...) read our catalog through the actions below. Entries map to CKAN *packages* and agencies to
*organizations*:

=====================  ===================================================================
package ``id``         the resource code (``101-000001``); ``name`` is its lower-case slug
package ``title``      the entry's name; ``notes`` its abstract
``organization``       the providing agency (``name`` = ``id`` = agency code)
``tags``               sector tags (Art 22-26): ``name`` = sector code, ``display_name`` Chinese
``resources``          one resource: how the entry is provided, ``url`` = the entry's page
``extras``             share type and conditions, classification, category, update cycle ...
=====================  ===================================================================

Only public entries (published and open to the public) exist here, whoever calls. Answers use
CKAN's envelope ``{"help", "success", "result"}``; errors ``{"success": false, "error":
{"__type", "message", ...}}`` with CKAN's statuses: 404 ``Not Found Error``, 409 ``Validation
Error`` and ``Search Query Error``, 400 ``Bad Request``.

``package_search`` understands the Solr syntax clients actually send: ``q`` as free text (Chinese
segmented by the catalog's search) plus ``field:value`` clauses, ``fq`` / ``fq_list`` clauses
(``organization:``, ``owner_org:``, ``tags:``, ``res_format:``, ``name:``, ``id:``,
``share_type:``, ``classification:``, ``category:``, ``update_cycle:``, ``provision_method:``,
``region:``; values quoted, bare or ``(a OR b)``; a leading ``-`` negates; ``*:*`` matches all),
date ranges on ``metadata_modified`` and ``metadata_created`` (``[2026-01-01T00:00:00Z TO *]``,
``NOW-7DAYS``, as incremental harvesters send), ``rows``/``start``, ``sort`` and ``facet.field``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from govshare.catalog import rules
from govshare.catalog import search as catalog_search
from govshare.catalog.interop.common import (
    Urls,
    load_public,
    media_type,
    public_codes,
    public_condition,
    res_format,
    sector_code,
)
from govshare.catalog.models import CatalogResource, CatalogResourceSector
from govshare.core import clock, paging, refs
from govshare.core.text import LIKE_ESCAPE, contains
from govshare.registry import service as registry_service
from govshare.registry.models import Agency, Region

#: CKAN's ``ckan.search.rows_max`` and ``ckan.group_and_organization_list[_all_fields]_max``.
#: Offsets beyond OFFSET_MAX are clamped (the database's 32-bit integer range).
OFFSET_MAX = 2**31 - 1
ROWS_MAX = 1000
ORG_LIST_MAX = 1000
ORG_LIST_ALL_FIELDS_MAX = 25
FACET_LIMIT_DEFAULT = 50
API_VERSION = 3


class CkanError(Exception):
    """An action's error, answered in CKAN's shape."""

    def __init__(self, status: int, kind: str, message: str | None = None, **fields: Any) -> None:
        super().__init__(message or kind)
        self.status = status
        self.kind = kind
        self.message = message
        self.fields = fields

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"__type": self.kind}
        if self.message is not None:
            out["message"] = self.message
        out.update(self.fields)
        return out


def not_found(message: str = "Not found") -> CkanError:
    return CkanError(404, "Not Found Error", message)


def invalid(**fields: str) -> CkanError:
    return CkanError(409, "Validation Error", None, **{k: [v] for k, v in fields.items()})


def bad_query(message: str) -> CkanError:
    return CkanError(409, "Search Query Error", f"Search Query is invalid: {message}")


def bad_request(message: str) -> CkanError:
    return CkanError(400, "Bad Request", f"Bad request - {message}")


# --- Parameters ---------------------------------------------------------------------------------

Params = Mapping[str, Any]


def _one(params: Params, name: str) -> Any:
    value = params.get(name)
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def _int(
    params: Params, name: str, default: int | None, *, maximum: int | None = None, allow_minus_one: bool = False
) -> int | None:
    raw = _one(params, name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise invalid(**{name: "Invalid integer"})
    text = str(raw).strip()
    if allow_minus_one and text == "-1":
        return -1
    if text.startswith("-") and refs.ascii_int(text[1:]) is not None:
        raise invalid(**{name: "Must be a natural number"})
    if maximum is not None and len(text) > 19 and text.isascii() and text.isdigit():
        return maximum  # a count beyond 64 bits is capped like any other count beyond the maximum
    value = refs.ascii_int(text)
    if value is None:
        raise invalid(**{name: "Invalid integer"})
    if maximum is not None and value > maximum:
        value = maximum
    return value


def _bool(params: Params, name: str, default: bool) -> bool:
    raw = _one(params, name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    s = str(raw).strip().lower()
    if s in ("true", "1", "yes", "on", "t", "y"):
        return True
    if s in ("false", "0", "no", "off", "f", "n"):
        return False
    raise invalid(**{name: "Invalid boolean"})


def _str(params: Params, name: str) -> str | None:
    raw = _one(params, name)
    if raw is None:
        return None
    if isinstance(raw, dict | list):
        raise invalid(**{name: "Must be a string"})
    return str(raw)


def _list(params: Params, name: str) -> list[str]:
    """A list parameter: a JSON list (``facet.field=["tags"]``, CKAN's form), repeated query
    parameters, a list in a JSON body, or one plain value."""
    raw = params.get(name)
    if raw is None or raw == "":
        return []
    values = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for v in values:
        if isinstance(v, str) and v.strip().startswith("["):
            try:
                decoded = json.loads(v)
            except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past Python's limit
                raise invalid(**{name: "Invalid JSON list"}) from None
            if not isinstance(decoded, list):
                raise invalid(**{name: "Invalid JSON list"})
            out.extend(str(x) for x in decoded)
        elif isinstance(v, str | int | float) and not isinstance(v, bool):
            out.append(str(v))
        else:
            raise invalid(**{name: "Must be a list of strings"})
    return [v for v in (x.strip() for x in out) if v]


# --- Timestamps ---------------------------------------------------------------------------------


def _ts(value: dt.datetime | None) -> str | None:
    """CKAN's timestamps: naive ISO 8601 in UTC."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat()


_NOW_RE = re.compile(r"^NOW(?:([+-])(\d{1,5})(SECOND|MINUTE|HOUR|DAY|MONTH|YEAR)S?)?(?:/(DAY|HOUR))?$", re.I)
_UNIT_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "MONTH": 30 * 86400, "YEAR": 365 * 86400}


def _parse_time(value: str, field: str) -> dt.datetime | None:
    v = value.strip().strip('"')
    if v == "*":
        return None
    m = _NOW_RE.match(v)
    if m:
        now = clock.now()
        if m.group(1):
            try:
                delta = dt.timedelta(seconds=int(m.group(2)) * _UNIT_SECONDS[m.group(3).upper()])
                now = now + delta if m.group(1) == "+" else now - delta
            except OverflowError:
                raise bad_query(f"date '{value}' out of range for {field}") from None
        if m.group(4):
            unit = m.group(4).upper()
            now = now.replace(minute=0, second=0, microsecond=0)
            if unit == "DAY":
                now = now.replace(hour=0)
        return now
    try:
        parsed = dt.datetime.fromisoformat(v)
    except ValueError:
        raise bad_query(f"invalid date '{value}' for {field}") from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


# --- Query parsing ------------------------------------------------------------------------------

_CLAUSE_RE = re.compile(
    r"(?P<sign>[+-]?)(?P<field>[A-Za-z_][\w.]*):"
    r'(?P<value>"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\{[^}]*\}|\([^)]*\)|[^\s()"]+)'
)
_VALUE_RE = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')
_MATCH_ALL = ("*:*", "*")

_COLUMNS: dict[str, Any] = {
    "share_type": CatalogResource.share_type,
    "classification": CatalogResource.classification,
    "category": CatalogResource.category,
    "update_cycle": CatalogResource.update_cycle,
    "provision_method": CatalogResource.provision_method,
    "format": CatalogResource.format,
}
_TIME_FIELDS = {"metadata_modified": CatalogResource.updated_at, "metadata_created": CatalogResource.published_at}
QUERY_FIELDS = frozenset(
    {"organization", "owner_org", "tags", "res_format", "name", "id", "region", *_COLUMNS, *_TIME_FIELDS}
)


def _unquote(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def _values(raw: str) -> list[str]:
    if raw.startswith('"'):
        return [_unquote(raw[1:-1])]
    if raw.startswith("("):
        out = []
        for quoted, bare in _VALUE_RE.findall(raw[1:-1]):
            if bare and bare.upper() == "OR":
                continue
            out.append(_unquote(quoted) if quoted else bare)
        return out
    return [_unquote(raw)]


class _Filters:
    """Builds SQL conditions from Solr-like clauses against the public catalog."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._format_pairs: list[tuple[str, str | None]] | None = None

    def _pairs(self) -> list[tuple[str, str | None]]:
        if self._format_pairs is None:
            self._format_pairs = [
                tuple(r)
                for r in self.session.execute(  # type: ignore[misc]
                    select(CatalogResource.format, CatalogResource.format_detail).where(public_condition()).distinct()
                )
            ]
        return self._format_pairs  # type: ignore[return-value]

    def clause(self, field: str, raw: str) -> ColumnElement[bool]:
        if field in _TIME_FIELDS:
            return self._range(field, raw)
        if raw.startswith(("[", "{")):
            raise bad_query(f"ranges are supported on metadata_modified and metadata_created only, not {field}")
        values = _values(raw)
        if any(v == "*" for v in values):
            return true()
        if field in ("organization", "owner_org"):
            return CatalogResource.provider_id.in_(select(Agency.id).where(Agency.code.in_(values)))
        if field == "tags":
            codes = sorted({c for c in (sector_code(v) for v in values) if c})
            if not codes:
                return false()
            return CatalogResource.id.in_(
                select(CatalogResourceSector.resource_id).where(CatalogResourceSector.sector.in_(codes))
            )
        if field == "res_format":
            wanted = {v.lower() for v in values}
            pairs = [(f, d) for f, d in self._pairs() if res_format(f, d).lower() in wanted]
            if not pairs:
                return false()
            detail = CatalogResource.format_detail
            return or_(
                *[and_(CatalogResource.format == f, detail.is_(None) if d is None else detail == d) for f, d in pairs]
            )
        if field in ("name", "id"):
            return func.lower(CatalogResource.code).in_([v.lower() for v in values])
        if field == "region":
            paths = list(self.session.scalars(select(Region.path).where(Region.code.in_(values))))
            if not paths:
                return false()
            return registry_service.in_subtrees(CatalogResource.region_code, paths)
        return _COLUMNS[field].in_(values)

    def _range(self, field: str, raw: str) -> ColumnElement[bool]:
        column = _TIME_FIELDS[field]
        if not raw.startswith(("[", "{")):
            value = _parse_time(_values(raw)[0], field)
            return true() if value is None else column == value
        inclusive = raw.startswith("[")
        if not raw.endswith("]" if inclusive else "}"):
            raise bad_query(f"unbalanced range for {field}")
        parts = re.split(r"\s+TO\s+", raw[1:-1].strip())
        if len(parts) != 2:
            raise bad_query(f"a range is [FROM TO UNTIL], got {raw}")
        low, high = (_parse_time(p, field) for p in parts)
        conds: list[ColumnElement[bool]] = []
        if low is not None:
            conds.append(column >= low if inclusive else column > low)
        if high is not None:
            conds.append(column <= high if inclusive else column < high)
        return and_(*conds) if conds else true()

    def parse(self, expression: str, *, strict: bool) -> tuple[list[ColumnElement[bool]], str]:
        """Field clauses of ``expression`` as conditions, and the text left over.

        ``strict`` (``fq``): the leftover must be empty (or ``AND``/``*:*``) and every field known.
        Otherwise (``q``): unknown ``field:value`` pairs stay in the text.
        """
        conds: list[ColumnElement[bool]] = []
        rest: list[str] = []
        pos = 0
        for m in _CLAUSE_RE.finditer(expression):
            field = m.group("field")
            if m.group(0) == "*:*":
                continue
            if field not in QUERY_FIELDS:
                if strict:
                    raise bad_query(f"undefined field {field}")
                continue
            rest.append(expression[pos : m.start()])
            pos = m.end()
            cond = self.clause(field, m.group("value"))
            conds.append(not_(cond) if m.group("sign") == "-" else cond)
        rest.append(expression[pos:])
        leftover = " ".join(" ".join(rest).split())
        words = [w for w in leftover.split() if w not in ("AND", "&&", "+", *_MATCH_ALL)]
        leftover = " ".join(words)
        if strict and leftover:
            raise bad_query(f"cannot parse '{leftover}' in fq")
        return conds, leftover


# --- Mapping ------------------------------------------------------------------------------------


def organization_dict(agency: Agency, *, package_count: int | None = None, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": agency.code,
        "name": agency.code,
        "title": agency.name,
        "display_name": agency.name,
        "type": "organization",
        "description": agency.name_en or "",
        "image_url": "",
        "image_display_url": "",
        "created": _ts(agency.created_at),
        "is_organization": True,
        "approval_status": "approved",
        "state": "active" if agency.active else "deleted",
    }
    if package_count is not None:
        out["package_count"] = package_count
    if full:
        out.update(
            {
                "extras": _extras(
                    {
                        "uscc": agency.uscc,
                        "name_en": agency.name_en,
                        "region_code": agency.region_code,
                        "level": agency.level,
                        "kind": agency.kind,
                        "is_authority": agency.is_authority,
                        "responsible_unit": agency.responsible_unit,
                    }
                ),
                "groups": [],
                "tags": [],
                "users": [],
                "num_followers": 0,
            }
        )
    return out


def _extras(values: Mapping[str, Any]) -> list[dict[str, str]]:
    out = []
    for key in sorted(values):
        v = values[key]
        if v is None or v == "":
            continue
        out.append({"key": key, "value": ("true" if v else "false") if isinstance(v, bool) else str(v)})
    return out


def package_dict(entry: CatalogResource, urls: Urls, related: Mapping[int, str]) -> dict[str, Any]:
    code = entry.code or str(entry.id)
    provider = entry.provider
    created = _ts(entry.published_at or entry.created_at)
    modified = _ts(entry.updated_at)
    page = urls.entry_page(code)
    method_zh, method_en = rules.PROVISION_METHODS[entry.provision_method]
    resource = {
        "id": f"{code}-distribution",
        "package_id": code,
        "name": f"{entry.name}（{method_zh}）",
        "description": f"提供方式：{method_zh}；共享类型：{rules.label(rules.SHARE_TYPES, entry.share_type)}。"
        f"须通过本平台申请共享。 / Provided as: {method_en}; "
        f"{rules.label(rules.SHARE_TYPES, entry.share_type, 'en')}. Requested through this platform.",
        "format": res_format(entry.format, entry.format_detail),
        "mimetype": media_type(entry.format_detail),
        "mimetype_inner": None,
        "url": page,
        "url_type": None,
        "resource_type": entry.provision_method,
        "state": "active",
        "position": 0,
        "created": created,
        "last_modified": _ts(entry.updated_at),
        "metadata_modified": modified,
        "size": None,
        "hash": "",
        "cache_url": None,
        "datastore_active": False,
    }
    tags = [
        {"id": s, "name": s, "display_name": rules.label(rules.SECTORS, s), "state": "active", "vocabulary_id": None}
        for s in entry.sector_codes
    ]
    labels = {
        f: rules.label(v, getattr(entry, f))
        for f, v in (
            ("classification", rules.CLASSIFICATIONS),
            ("category", rules.CATEGORIES),
            ("share_type", rules.SHARE_TYPES),
            ("provision_method", rules.PROVISION_METHODS),
            ("update_cycle", rules.UPDATE_CYCLES),
            ("format", rules.FORMATS),
        )
    }
    extras = {
        "resource_code": code,
        "title_en": entry.name_en,
        "notes_en": entry.abstract_en,
        "classification": entry.classification,
        "category": entry.category,
        "share_type": entry.share_type,
        "share_conditions": entry.share_conditions if entry.share_type == "conditional" else None,
        "legal_basis": entry.legal_basis if entry.share_type == "not_shared" else None,
        "provision_method": entry.provision_method,
        "format": entry.format,
        "format_detail": entry.format_detail,
        "update_cycle": entry.update_cycle,
        "update_deadline_workdays": entry.update_deadline_workdays,
        "security_classification": entry.security_classification,
        "contains_personal_info": entry.contains_personal_info,
        "contains_commercial_secret": entry.contains_commercial_secret,
        "region_code": entry.region_code,
        "published_on": entry.published_on.isoformat() if entry.published_on else None,
        "modified_on": entry.modified_on.isoformat() if entry.modified_on else None,
        "provider_uscc": provider.uscc,
        "data_items": "、".join(i.name for i in entry.data_items) or None,
        "fee": "0",
        **{f"{k}_label": v for k, v in labels.items()},
    }
    return {
        "id": code,
        "name": code.lower(),
        "title": entry.name,
        "notes": entry.abstract,
        "url": page,
        "version": str(entry.version_number),
        "state": "active",
        "type": "dataset",
        "private": False,
        "isopen": False,
        "license_id": None,
        "license_title": None,
        "author": provider.name,
        "author_email": None,
        "maintainer": f"{provider.name} {provider.responsible_unit}" if provider.responsible_unit else provider.name,
        "maintainer_email": None,
        "metadata_created": created,
        "metadata_modified": modified,
        "creator_user_id": None,
        "owner_org": provider.code,
        "organization": organization_dict(provider),
        "tags": tags,
        "num_tags": len(tags),
        "resources": [resource],
        "num_resources": 1,
        "groups": [],
        "extras": _extras(extras),
        "relationships_as_subject": [
            {"subject": code.lower(), "object": related[rid].lower(), "type": "links_to", "comment": ""}
            for rid in entry.related_ids
            if rid in related
        ],
        "relationships_as_object": [],
    }


def _packages(session: Session, entries: Sequence[CatalogResource], urls: Urls) -> list[dict[str, Any]]:
    related = public_codes(session, (rid for e in entries for rid in e.related_ids))
    return [package_dict(e, urls, related) for e in entries]


# --- Actions ------------------------------------------------------------------------------------


def package_list(session: Session, params: Params, urls: Urls) -> list[str]:
    """Names of all public packages, by name (``limit``, ``offset`` optional)."""
    limit = _int(params, "limit", None, maximum=OFFSET_MAX)
    offset = _int(params, "offset", 0, maximum=OFFSET_MAX) or 0
    stmt = select(CatalogResource.code).where(public_condition()).order_by(CatalogResource.code).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [c.lower() for c in session.scalars(stmt) if c]


def _find_package(session: Session, ref: str) -> CatalogResource:
    entries = load_public(
        session, condition=func.lower(CatalogResource.code) == ref.strip().lower(), limit=1, with_items=True
    )
    if not entries:
        raise not_found()
    return entries[0]


def package_show(session: Session, params: Params, urls: Urls) -> dict[str, Any]:
    """One public package by ``id`` (resource code) or ``name`` (its lower-case slug)."""
    ref = _str(params, "id") or _str(params, "name")
    if not ref or not ref.strip():
        raise invalid(id="Missing value")
    return _packages(session, [_find_package(session, ref)], urls)[0]


@dataclasses.dataclass
class _Sort:
    clauses: list[tuple[str, str]]
    text: str


_SORT_FIELDS = {"score", "metadata_modified", "metadata_created", "name", "title_string", "title"}


def _parse_sort(raw: str | None) -> _Sort:
    text_ = (raw or "score desc, metadata_modified desc").strip()
    clauses = []
    for part in text_.split(","):
        bits = part.split()
        if not bits:
            continue
        if len(bits) > 2 or bits[0] not in _SORT_FIELDS or (len(bits) == 2 and bits[1].lower() not in ("asc", "desc")):
            raise bad_query(f"can not sort on '{part.strip()}'; sortable: {', '.join(sorted(_SORT_FIELDS))}")
        clauses.append((bits[0], bits[1].lower() if len(bits) == 2 else "asc"))
    return _Sort(clauses, text_)


def _score(tokens: list[str]) -> Any:
    """Relevance of an entry that matched every token: tokens found in its name weigh 2, in its
    English name or abstract 1 (titles first, as CKAN's default boosts them). Backend-neutral and
    computed over the already-matched rows only."""
    parts = []
    for t in tokens:
        pattern = "%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts.append(case((CatalogResource.name.like(pattern, escape="\\"), 2), else_=0))
        parts.append(
            case(
                (
                    or_(
                        func.lower(func.coalesce(CatalogResource.name_en, "")).like(pattern, escape="\\"),
                        CatalogResource.abstract.like(pattern, escape="\\"),
                    ),
                    1,
                ),
                else_=0,
            )
        )
    return sum(parts[1:], parts[0])


def _order(stmt: Any, sort: _Sort, tokens: list[str]) -> Any:
    """ORDER BY for CKAN's sort; ``score`` (:func:`_score`) is ignored without query text."""
    order: list[Any] = []
    for field, direction in sort.clauses:
        if field == "score":
            if tokens:
                score = _score(tokens)
                order.append(score.desc() if direction == "desc" else score.asc())
            continue
        column = {
            "metadata_modified": CatalogResource.updated_at,
            "metadata_created": CatalogResource.published_at,
            "name": CatalogResource.code,
            "title_string": CatalogResource.name,
            "title": CatalogResource.name,
        }[field]
        order.append(column.desc() if direction == "desc" else column.asc())
    order.append(CatalogResource.id.desc())
    return stmt.order_by(*order)


def _facet_rows(session: Session, field: str, ids: Any) -> list[tuple[str, str, int]]:
    """(name, display name, count) of one facet over the matching ids."""
    in_ids = CatalogResource.id.in_(ids)
    if field in ("organization", "owner_org"):
        return [
            (code, name, n)
            for code, name, n in session.execute(
                select(Agency.code, Agency.name, func.count())
                .join(CatalogResource, CatalogResource.provider_id == Agency.id)
                .where(in_ids)
                .group_by(Agency.code, Agency.name)
            )
        ]
    if field == "tags":
        return [
            (s, rules.label(rules.SECTORS, s), n)
            for s, n in session.execute(
                select(CatalogResourceSector.sector, func.count())
                .where(CatalogResourceSector.resource_id.in_(ids))
                .group_by(CatalogResourceSector.sector)
            )
        ]
    if field == "res_format":
        counts: dict[str, int] = {}
        for f, d, n in session.execute(
            select(CatalogResource.format, CatalogResource.format_detail, func.count())
            .where(in_ids)
            .group_by(CatalogResource.format, CatalogResource.format_detail)
        ):
            key = res_format(f, d)
            counts[key] = counts.get(key, 0) + n
        return [(k, k, n) for k, n in counts.items()]
    if field in ("region", "region_code"):
        return [
            (code, name, n)
            for code, name, n in session.execute(
                select(CatalogResource.region_code, Region.name, func.count())
                .join(Region, Region.code == CatalogResource.region_code)
                .where(in_ids)
                .group_by(CatalogResource.region_code, Region.name)
            )
        ]
    if field in _COLUMNS:
        vocab = {
            "share_type": rules.SHARE_TYPES,
            "classification": rules.CLASSIFICATIONS,
            "category": rules.CATEGORIES,
            "update_cycle": rules.UPDATE_CYCLES,
            "provision_method": rules.PROVISION_METHODS,
            "format": rules.FORMATS,
        }[field]
        column = _COLUMNS[field]
        return [
            (v, rules.label(vocab, v), n)
            for v, n in session.execute(
                select(column, func.count()).where(in_ids, column.is_not(None)).group_by(column)
            )
        ]
    if field in ("license_id", "groups"):
        return []
    raise bad_query(f"undefined field {field}")


def package_search(session: Session, params: Params, urls: Urls) -> dict[str, Any]:
    """Search public packages (CKAN's package_search; see the module docstring for the syntax)."""
    q = _str(params, "q") or ""
    fqs = [f for f in [_str(params, "fq") or "", *_list(params, "fq_list")] if f.strip()]
    rows = _int(params, "rows", 10, maximum=ROWS_MAX)
    start = _int(params, "start", 0, maximum=OFFSET_MAX) or 0
    facet = _bool(params, "facet", True)
    facet_fields = _list(params, "facet.field")
    facet_limit = _int(params, "facet.limit", FACET_LIMIT_DEFAULT, allow_minus_one=True)
    facet_mincount = _int(params, "facet.mincount", 1) or 0
    sort = _parse_sort(_str(params, "sort"))

    filters = _Filters(session)
    conds: list[ColumnElement[bool]] = [public_condition()]
    q_conds, q_text = filters.parse(q, strict=False)
    conds += q_conds
    for fq in fqs:
        conds += filters.parse(fq, strict=True)[0]
    tokens = catalog_search.query_tokens(q_text) if q_text else []
    if tokens:
        conds.append(catalog_search.match_condition(session.get_bind().dialect.name, tokens))

    ids = select(CatalogResource.id).where(*conds)
    count = paging.count(session, ids)
    results: list[dict[str, Any]] = []
    if rows and count > start:
        page_ids = list(
            session.scalars(_order(select(CatalogResource.id).where(*conds), sort, tokens).offset(start).limit(rows))
        )
        by_id = {e.id: e for e in load_public(session, condition=CatalogResource.id.in_(page_ids), with_items=True)}
        results = _packages(session, [by_id[i] for i in page_ids if i in by_id], urls)

    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, dict[str, Any]] = {}
    if facet:
        for field in dict.fromkeys(facet_fields):
            items = [r for r in _facet_rows(session, field, ids) if r[2] >= facet_mincount]
            items.sort(key=lambda r: (-r[2], r[0]))
            if facet_limit is not None and facet_limit >= 0:
                items = items[:facet_limit]
            facets[field] = {name: n for name, _d, n in items}
            search_facets[field] = {
                "title": field,
                "items": [{"name": name, "display_name": d, "count": n} for name, d, n in items],
            }
    return {"count": count, "results": results, "sort": sort.text, "facets": facets, "search_facets": search_facets}


def _package_counts(session: Session, agency_ids: Sequence[int] | None = None) -> dict[int, int]:
    stmt = (
        select(CatalogResource.provider_id, func.count())
        .where(public_condition())
        .group_by(CatalogResource.provider_id)
    )
    if agency_ids is not None:
        stmt = stmt.where(CatalogResource.provider_id.in_(agency_ids))
    return {aid: n for aid, n in session.execute(stmt)}


def organization_list(session: Session, params: Params, urls: Urls) -> list[Any]:
    """Agencies as organizations: active agencies and any agency with public packages."""
    all_fields = _bool(params, "all_fields", False)
    maximum = ORG_LIST_ALL_FIELDS_MAX if all_fields else ORG_LIST_MAX
    limit = _int(params, "limit", maximum, maximum=maximum)
    offset = _int(params, "offset", 0, maximum=OFFSET_MAX) or 0
    names = _list(params, "organizations")
    q = (_str(params, "q") or "").strip()
    raw_sort = (_str(params, "sort") or "title asc").strip()
    bits = raw_sort.split()
    if (
        not bits
        or bits[0] not in ("name", "title", "package_count")
        or (len(bits) > 1 and bits[1].lower() not in ("asc", "desc"))
        or len(bits) > 2
    ):
        raise invalid(sort="Invalid sort: use name, title or package_count, then asc or desc")
    field, desc = bits[0], len(bits) == 2 and bits[1].lower() == "desc"

    counts = _package_counts(session)
    stmt = select(Agency).where(or_(Agency.active.is_(True), Agency.id.in_(list(counts) or [-1])))
    if names:
        stmt = stmt.where(Agency.code.in_(names))
    if q:
        like = contains(q)
        stmt = stmt.where(
            or_(
                Agency.code.ilike(like, escape=LIKE_ESCAPE),
                Agency.name.like(like, escape=LIKE_ESCAPE),
                Agency.name_en.ilike(like, escape=LIKE_ESCAPE),
            )
        )
    agencies = list(session.scalars(stmt))
    key: Callable[[Agency], Any] = {
        "name": lambda a: a.code,
        "title": lambda a: (a.name, a.code),
        "package_count": lambda a: (counts.get(a.id, 0), a.code),
    }[field]
    agencies.sort(key=key, reverse=desc)
    agencies = agencies[offset : offset + (limit if limit is not None else maximum)]
    if not all_fields:
        return [a.code for a in agencies]
    count = _bool(params, "include_dataset_count", True)
    extras = _bool(params, "include_extras", False)
    return [organization_dict(a, package_count=counts.get(a.id, 0) if count else None, full=extras) for a in agencies]


def organization_show(session: Session, params: Params, urls: Urls) -> dict[str, Any]:
    """One agency by ``id`` (agency code or USCC); ``include_datasets`` adds its public packages."""
    ref = (_str(params, "id") or "").strip()
    if not ref:
        raise invalid(id="Missing value")
    agency = session.scalars(select(Agency).where(or_(Agency.code == ref, Agency.uscc == ref.upper()))).first()
    if agency is None:
        raise not_found("Organization not found")
    count = _package_counts(session, [agency.id]).get(agency.id, 0)
    out = organization_dict(agency, package_count=count, full=True)
    if _bool(params, "include_datasets", False):
        entries = load_public(
            session, condition=CatalogResource.provider_id == agency.id, limit=ROWS_MAX, with_items=True
        )
        out["packages"] = _packages(session, entries, urls)
    return out


def status_show(session: Session, params: Params, urls: Urls) -> dict[str, Any]:
    import govshare

    return {
        "site_title": "政务信息资源共享交换平台",
        "site_url": urls.base,
        "site_description": "",
        "ckan_version": "2.10.0",
        "api_version": API_VERSION,
        "govshare_version": govshare.__version__,
        "locale_default": "zh_Hans_CN",
        "extensions": [],
        "read_only": True,
    }


def help_show(session: Session, params: Params, urls: Urls) -> str:
    name = (_str(params, "name") or "").strip()
    if name not in ACTIONS:
        raise not_found(f"Action function not found: {name}")
    return (ACTIONS[name].__doc__ or name).strip()


Action = Callable[[Session, Params, Urls], Any]

#: The actions served, by name.
ACTIONS: dict[str, Action] = {
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "status_show": status_show,
    "help_show": help_show,
}
