"""Full-text catalog search that understands Chinese, with facet counts.

Indexing: :func:`index_text` segments an entry's name, abstract, data item names, tags
(classification, category, sectors), provider name and code with jieba in search mode
(``cut_for_search``: words and the dictionary words inside them, so 营业执照 gives 营业, 执照,
营业执照) and stores the tokens, separated by spaces, in ``catalog_resource.search_text``.

Querying: :func:`query_tokens` segments the query with jieba's precise mode; every token must
occur (AND). The database does the matching on an inverted index built over ``search_text``:

* SQLite: the FTS5 table ``catalog_search_fts`` (external content, kept in step by triggers;
  the ``unicode61`` tokenizer splits on the spaces we put in), ranked by BM25;
* PostgreSQL: the narrow table ``catalog_search_doc`` holds ``strip(to_tsvector('simple',
  search_text))`` per entry (the 'simple' config only lower-cases: no stemming, no stop words)
  under a GIN index, kept in step by a trigger, matched with ``plainto_tsquery('simple', ...)``.

The database only matches text. Visibility, filters, facet counts and ordering are computed in
the process over a compact index of every entry's facet values and name (:class:`FacetIndex`):
each entry maps to a small "key" (status, open to public, classification, category, provider,
region, format, share type, sectors), and a search counts keys, not rows. The index is loaded
once per process and database, then kept current by the search generation: every change of an
entry advances ``catalog_search_state.generation`` and stamps the entry's ``search_seq``, and a
search first reads the generation (one row) and reloads only the entries changed since. A
session holding uncommitted catalog changes searches through SQL instead, so it sees its own
changes and the shared index never holds uncommitted data.

Facets (classification, category, provider, region, format, share type, sector) count the
filtered result, as CKAN does (every active filter applies). Ordering: with a text query, entries
whose name contains every query word first, then those whose name contains some, then the rest;
newest first within each tier (the same on both databases). Browsing lists the newest first.

Changing the jieba dictionary (``DOMAIN_WORDS``) changes segmentation: run ``govshare catalog
reindex`` afterwards.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import jieba
from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    event,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import permissions as perm
from govshare.catalog import rules
from govshare.catalog.models import CatalogResource, CatalogResourceSector, CatalogSearchState
from govshare.core.auth import Principal
from govshare.registry import service as registry_service
from govshare.registry.models import Agency, Region

#: Words of government data that jieba's general dictionary splits or misses.
DOMAIN_WORDS = (
    "统一社会信用代码",
    "营业执照",
    "不动产",
    "不动产登记",
    "公积金",
    "住房公积金",
    "低保",
    "最低生活保障",
    "电子证照",
    "社会保险",
    "医保",
    "养老保险",
    "失业保险",
    "工伤保险",
    "户籍",
    "身份证",
    "居民身份证",
    "婚姻登记",
    "出生医学证明",
    "死亡医学证明",
    "残疾人证",
    "行政许可",
    "行政处罚",
    "双随机",
    "失信被执行人",
    "纳税信用",
    "欠税公告",
    "食品经营许可",
    "药品经营许可",
    "排污许可",
    "建设工程规划许可",
    "基础信息",
    "信息资源",
    "共享交换",
    "政务服务",
    "一网通办",
    "网格化",
    "信用承诺",
    "特种设备",
    "企业年报",
)

#: Tokens that carry no meaning for search (dropped on both sides, so queries with them still match).
STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "等",
        "之",
        "其",
        "在",
        "对",
        "为",
        "是",
        "以",
        "于",
        "由",
        "向",
        "从",
        "按",
        "各",
        "类",
        "个",
        "项",
        # Every entry is government information-resource data: these words carry no signal, and
        # without them a query for 人口信息 also finds 人口数据.
        "信息",
        "数据",
        "资源",
    ]
)

_TOKEN_RE = re.compile(r"[^\W_]", re.UNICODE)
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_init_lock = threading.Lock()
_initialised = False


def _ensure_jieba() -> None:
    global _initialised
    if _initialised:
        return
    with _init_lock:
        if _initialised:
            return
        jieba.setLogLevel(60)
        jieba.initialize()
        for word in DOMAIN_WORDS:
            jieba.add_word(word, freq=200_000)
        _initialised = True


def _keep(token: str) -> str | None:
    t = token.strip().lower()
    if not t or t in STOP_WORDS or not _TOKEN_RE.search(t):
        return None
    return t


def index_tokens(texts: Iterable[str | None]) -> list[str]:
    """Tokens to index for ``texts`` (search mode; duplicates dropped, first-seen order kept)."""
    _ensure_jieba()
    seen: dict[str, None] = {}
    for value in texts:
        if not value:
            continue
        for token in jieba.cut_for_search(value):
            kept = _keep(token)
            if kept is not None:
                seen.setdefault(kept, None)
    return list(seen)


def query_tokens(query: str | None) -> list[str]:
    """Tokens a query must all match (precise mode)."""
    if not query or not query.strip():
        return []
    _ensure_jieba()
    seen: dict[str, None] = {}
    for token in jieba.cut(query.strip()[:200]):
        kept = _keep(token)
        if kept is not None:
            seen.setdefault(kept, None)
    return list(seen)[:16]


def index_text(
    *,
    name: str,
    abstract: str | None,
    item_names: Sequence[str],
    classification: str,
    category: str | None,
    sectors: Sequence[str],
    provider_name: str | None = None,
    code: str | None = None,
    name_en: str | None = None,
) -> str:
    """The ``search_text`` of an entry."""
    tags = [rules.label(rules.CLASSIFICATIONS, classification)]
    if category:
        tags.append(rules.label(rules.CATEGORIES, category))
    tags.extend(rules.label(rules.SECTORS, s) for s in sectors)
    return " ".join(index_tokens([name, name_en, abstract, *item_names, *tags, provider_name, code]))


# --- Matching -----------------------------------------------------------------------------------

_fts = table("catalog_search_fts", column("rowid"), column("search_text"))
_doc = table("catalog_search_doc", column("resource_id"), column("tsv"))
_SIMPLE = literal_column("'simple'")


def fts5_expression(tokens: Sequence[str]) -> str:
    """An FTS5 query: the words of every token, each quoted (so none is read as an operator),
    implicit AND. Tokens are split where the ``unicode61`` tokenizer splits them (``covid-19``),
    since the index keeps no positions for phrases."""
    words = dict.fromkeys(w for t in tokens for w in _WORD_RE.findall(t))
    return " ".join('"' + w + '"' for w in words)


def _tsquery(tokens: Sequence[str]) -> Any:
    return func.plainto_tsquery(_SIMPLE, " ".join(tokens))


def match_condition(dialect: str, tokens: Sequence[str]) -> ColumnElement[bool]:
    if dialect == "sqlite":
        ids = select(_fts.c.rowid).where(
            text("catalog_search_fts MATCH :fts_q").bindparams(fts_q=fts5_expression(tokens))
        )
        return CatalogResource.id.in_(ids)
    if dialect == "postgresql":
        return CatalogResource.id.in_(select(_doc.c.resource_id).where(_doc.c.tsv.op("@@")(_tsquery(tokens))))
    # Any other database: a plain substring scan per token.
    return and_(*[CatalogResource.search_text.like(f"%{t}%") for t in tokens])


# --- Search -------------------------------------------------------------------------------------

FACETS = ("classification", "category", "provider", "region", "format", "share_type", "sector")
#: ``session.info`` flag: this transaction changed catalog entries (set by the service).
DIRTY = "catalog_search_dirty"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _clean(session: Session) -> None:
    session.info.pop(DIRTY, None)


@dataclasses.dataclass
class SearchParams:
    q: str | None = None
    classification: str | None = None
    category: str | None = None
    provider: str | None = None
    region: str | None = None
    format: str | None = None
    share_type: str | None = None
    sector: str | None = None
    #: None: published entries only. A status filters within what the viewer may see.
    status: str | None = None
    #: Only entries of the viewer's own agencies (any status).
    mine: bool = False
    offset: int = 0
    limit: int = 20
    facets: bool = True


@dataclasses.dataclass
class FacetValue:
    value: str
    label: str
    label_en: str
    count: int


@dataclasses.dataclass
class SearchResult:
    items: list[CatalogResource]
    total: int
    facets: dict[str, list[FacetValue]]
    tokens: list[str]


#: (status, open_to_public, classification, category, provider_id, region_code, format, share_type, sectors)
Key = tuple[str, bool, str, str | None, int, str, str, str, tuple[str, ...]]
_KEY_COLUMNS = (
    CatalogResource.id,
    CatalogResource.status,
    CatalogResource.open_to_public,
    CatalogResource.classification,
    CatalogResource.category,
    CatalogResource.provider_id,
    CatalogResource.region_code,
    CatalogResource.format,
    CatalogResource.share_type,
    CatalogResource.name,
)


def _entries(session: Session, where: Any = None) -> dict[int, tuple[Key, str]]:
    """id -> (key, name) for the entries matching ``where`` (all when None)."""
    stmt = select(*_KEY_COLUMNS)
    sectors_stmt = select(CatalogResourceSector.resource_id, CatalogResourceSector.sector)
    if where is not None:
        stmt = stmt.where(where)
        sectors_stmt = sectors_stmt.where(
            CatalogResourceSector.resource_id.in_(select(CatalogResource.id).where(where))
        )
    # Each distinct value and key is kept once: the driver returns a new string per row.
    shared: dict[Any, Any] = {}
    one = shared.setdefault
    sectors: dict[int, list[str]] = {}
    for rid, sector in session.execute(sectors_stmt):
        sectors.setdefault(rid, []).append(one(sector, sector))
    out = {}
    for rid, status, open_, cls, cat, prov, reg, fmt, share, name in session.execute(stmt):
        secs = tuple(sorted(sectors.get(rid, ())))
        key = (
            one(status, status),
            bool(open_),
            one(cls, cls),
            one(cat, cat),
            prov,
            one(reg, reg),
            one(fmt, fmt),
            one(share, share),
            one(secs, secs),
        )
        out[rid] = (one(key, key), name)
    return out


#: Facets that filter or are counted, with the position of their value in a Key.
_MASKED = {
    "status": 0,
    "open": 1,
    "classification": 2,
    "category": 3,
    "provider": 4,
    "region": 5,
    "format": 6,
    "share_type": 7,
}


def _bits(positions: Iterable[int], size: int) -> int:
    """A bitset (Python int) with the given positions set."""
    buf = bytearray((size + 7) // 8)
    for p in positions:
        buf[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(buf, "little")


@dataclasses.dataclass(frozen=True)
class FacetIndex:
    """An immutable snapshot of every entry's facet values as bitsets; replaced, never changed.

    Entries sit at positions in id order (so the highest set bit is the newest entry). For each
    value of each facet, ``masks[facet][value]`` is a Python int with the bits of the entries that
    have it; filters are ANDs and ORs of masks, a facet count is ``(result & mask).bit_count()``.
    """

    epoch: str | None
    generation: int
    ids: tuple[int, ...]
    pos_of: dict[int, int]
    keys: tuple[Key, ...]
    names: tuple[str, ...]
    masks: dict[str, dict[str, int]]

    @property
    def size(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, epoch: str | None, generation: int, entries: dict[int, tuple[Key, str]]) -> FacetIndex:
        ids = tuple(sorted(entries))
        keys = tuple(entries[i][0] for i in ids)
        names = tuple(entries[i][1].lower() for i in ids)
        positions: dict[str, dict[str, list[int]]] = {f: {} for f in (*_MASKED, "sector")}
        for pos, key in enumerate(keys):
            for facet, at in _MASKED.items():
                positions[facet].setdefault(_value(key[at]), []).append(pos)
            for sector in key[8]:
                positions["sector"].setdefault(sector, []).append(pos)
        masks = {f: {v: _bits(ps, len(ids)) for v, ps in values.items()} for f, values in positions.items()}
        return cls(epoch, generation, ids, {i: p for p, i in enumerate(ids)}, keys, names, masks)

    def updated(self, epoch: str | None, generation: int, changed: dict[int, tuple[Key, str]]) -> FacetIndex:
        """A new snapshot with ``changed`` entries replaced or added (a rebuild when an added id is
        not the newest, which keeps positions in id order)."""
        added = sorted(i for i in changed if i not in self.pos_of)
        if added and self.ids and added[0] < self.ids[-1]:
            entries = {i: (k, n) for i, k, n in zip(self.ids, self.keys, self.names, strict=True)}
            entries.update(changed)
            return FacetIndex.build(epoch, generation, entries)
        ids = self.ids + tuple(added)
        pos_of = dict(self.pos_of)
        pos_of.update({i: len(self.ids) + n for n, i in enumerate(added)})
        keys, names = list(self.keys), list(self.names)
        keys.extend([None] * len(added))  # type: ignore[list-item]
        names.extend([""] * len(added))
        masks = {f: dict(values) for f, values in self.masks.items()}
        for rid, (key, name) in changed.items():
            pos = pos_of[rid]
            bit = 1 << pos
            old = keys[pos]
            if old is not None:
                for facet, at in _MASKED.items():
                    masks[facet][_value(old[at])] &= ~bit
                for sector in old[8]:
                    masks["sector"][sector] &= ~bit
            for facet, at in _MASKED.items():
                v = _value(key[at])
                masks[facet][v] = masks[facet].get(v, 0) | bit
            for sector in key[8]:
                masks["sector"][sector] = masks["sector"].get(sector, 0) | bit
            keys[pos], names[pos] = key, name.lower()
        for values in masks.values():
            for v in [v for v, m in values.items() if not m]:
                del values[v]
        return FacetIndex(epoch, generation, ids, pos_of, tuple(keys), tuple(names), masks)

    def mask(self, facet: str, value: object) -> int:
        return self.masks[facet].get(_value(value), 0)

    def any_of(self, facet: str, values: Iterable[object]) -> int:
        out = 0
        for v in values:
            out |= self.mask(facet, v)
        return out


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    return "" if v is None else str(v)


_indexes: dict[str, FacetIndex] = {}
_index_lock = threading.Lock()


def facet_index(session: Session) -> FacetIndex:
    """The current index for this session's database (reloading what changed)."""
    state = session.execute(
        select(CatalogSearchState.epoch, CatalogSearchState.generation).where(CatalogSearchState.id == 1)
    ).first()
    epoch, generation = (state[0], int(state[1])) if state else (None, 0)
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    current = _indexes.get(url)
    if current is not None and epoch is not None and current.epoch == epoch and current.generation == generation:
        return current
    with _index_lock:
        current = _indexes.get(url)
        if current is not None and epoch is not None and current.epoch == epoch:
            if current.generation == generation:
                return current
            if current.generation < generation:
                changed = _entries(session, CatalogResource.search_seq > current.generation)
                fresh = current.updated(epoch, generation, changed)
                _indexes[url] = fresh
                return fresh
        fresh = FacetIndex.build(epoch, generation, _entries(session))
        if epoch is not None:  # without a state row nothing tells when the data changes: no reuse
            _indexes[url] = fresh
        return fresh


@dataclasses.dataclass
class _Scope:
    """What a search may return, resolved against the registry once per search."""

    valid: bool
    own: set[int]
    overseen: set[str]
    provider_id: int | None
    regions: set[str] | None
    #: The platform itself (``Principal.is_system``) sees every entry.
    everything: bool = False


def _scope(session: Session, params: SearchParams, viewer: Principal | None) -> _Scope:
    """The inputs of ``permissions.can_view`` for this viewer, resolved to agency ids and region codes."""
    own = perm.provider_agency_ids(viewer) if viewer else set()
    overseen: set[str] = set()
    for path in viewer.region_paths(*perm.OVERSEERS) if viewer else []:
        overseen |= registry_service.region_codes_under(session, path)
    valid, provider_id, regions = True, None, None
    if params.provider:
        provider_id = session.scalar(
            select(Agency.id).where(or_(Agency.code == params.provider, Agency.uscc == params.provider.upper()))
        )
        valid = provider_id is not None
    if params.region:
        path = session.scalar(select(Region.path).where(Region.code == params.region))
        regions = registry_service.region_codes_under(session, path) if path else set()
        valid = valid and path is not None
    return _Scope(valid, own, overseen, provider_id, regions, everything=bool(viewer and viewer.is_system))


def _selection(index: FacetIndex, params: SearchParams, scope: _Scope, signed_in: bool) -> int:
    """The bitset of entries the viewer may see that pass every filter: ``permissions.can_view``
    over the index's masks, with the viewer's inputs from :func:`_scope`."""
    everything = (1 << index.size) - 1
    published = index.mask("status", "published")
    visible = published if signed_in else published & index.mask("open", True)
    visible |= index.any_of("provider", scope.own)
    if scope.overseen:
        visible |= index.any_of("region", scope.overseen) & ~index.mask("status", "draft") & everything
    if scope.everything:
        visible = everything
    result = visible
    if params.mine:
        result &= index.any_of("provider", scope.own)
        if params.status:
            result &= index.mask("status", params.status)
    else:
        result &= index.mask("status", params.status or "published")
    for facet, value in (
        ("classification", params.classification),
        ("category", params.category),
        ("format", params.format),
        ("share_type", params.share_type),
        ("sector", params.sector),
    ):
        if value:
            result &= index.mask(facet, value)
    if scope.provider_id is not None:
        result &= index.mask("provider", scope.provider_id)
    if scope.regions is not None:
        result &= index.any_of("region", scope.regions)
    return result


def _count(index: FacetIndex, result: int) -> dict[str, Counter[str]]:
    raw: dict[str, Counter[str]] = {}
    for facet in FACETS:
        counts: Counter[str] = Counter()
        for value, m in index.masks[facet].items():
            n = (result & m).bit_count()
            if n and value:
                counts[value] = n
        raw[facet] = counts
    return raw


_VOCAB = {
    "classification": rules.CLASSIFICATIONS,
    "category": rules.CATEGORIES,
    "format": rules.FORMATS,
    "share_type": rules.SHARE_TYPES,
    "sector": rules.SECTORS,
}


def _labelled(session: Session, raw: dict[str, Counter[str]]) -> dict[str, list[FacetValue]]:
    providers: dict[str, tuple[str, str, str]] = {}
    if raw["provider"]:
        for aid, code, name, name_en in session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.name_en).where(
                Agency.id.in_([int(v) for v in raw["provider"]])
            )
        ):
            providers[str(aid)] = (code, name, name_en or name)
    regions: dict[str, tuple[str, str]] = {}
    if raw["region"]:
        for code, name, name_en in session.execute(
            select(Region.code, Region.name, Region.name_en).where(Region.code.in_(list(raw["region"])))
        ):
            regions[code] = (name, name_en or name)
    facets: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        values = []
        for value, count in raw[facet].items():
            if facet == "provider":
                code, zh, en = providers.get(value, (value, value, value))
                values.append(FacetValue(code, zh, en, count))
            elif facet == "region":
                zh, en = regions.get(value, (value, value))
                values.append(FacetValue(value, zh, en, count))
            else:
                vocab = _VOCAB[facet]
                values.append(FacetValue(value, rules.label(vocab, value), rules.label(vocab, value, "en"), count))
        values.sort(key=lambda v: (-v.count, v.value))
        facets[facet] = values
    return facets


def text_matches(session: Session, tokens: Sequence[str]) -> list[int]:
    """Ids of the entries containing every token (any status), from the full-text index."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        sql = "SELECT rowid FROM catalog_search_fts WHERE catalog_search_fts MATCH ?"
        params: tuple[Any, ...] = (fts5_expression(tokens),)
    elif dialect == "postgresql":
        sql = "SELECT resource_id FROM catalog_search_doc WHERE tsv @@ plainto_tsquery('simple', %s)"
        params = (" ".join(tokens),)
    else:
        return list(session.scalars(select(CatalogResource.id).where(match_condition(dialect, tokens))))
    # The driver's cursor directly: tens of thousands of ids, no per-row wrapping.
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()


def _load(session: Session, ids: Sequence[int]) -> list[CatalogResource]:
    if not ids:
        return []
    rows = session.scalars(
        select(CatalogResource)
        .where(CatalogResource.id.in_(ids))
        .options(joinedload(CatalogResource.provider), joinedload(CatalogResource.sectors))
    ).unique()
    by_id = {r.id: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def _top_positions(result: int, want: int) -> list[int]:
    """The ``want`` highest set bits (newest entries first)."""
    out = []
    while result and len(out) < want:
        top = result.bit_length() - 1
        out.append(top)
        result ^= 1 << top
    return out


def _ranked(index: FacetIndex, result: int, matched: list[int], tokens: Sequence[str], want: int) -> list[int]:
    """The first ``want`` positions of a text search by relevance: entries whose name holds every
    query word, then some, then none; newest first within each. Walks the matches from the
    newest and stops as soon as the first tier is full."""
    bits = result.to_bytes((index.size + 7) // 8, "little")
    names = index.names
    tiers: tuple[list[int], list[int], list[int]] = ([], [], [])
    every = len(tokens)
    for pos in sorted(matched, reverse=True):
        if not (bits[pos >> 3] >> (pos & 7)) & 1:
            continue
        name = names[pos]
        hits = 0
        for t in tokens:
            if t in name:
                hits += 1
        if hits == every:
            tiers[0].append(pos)
            if len(tiers[0]) >= want:
                break
        else:
            tiers[1 if hits else 2].append(pos)
    return (tiers[0] + tiers[1] + tiers[2])[:want]


def search(session: Session, params: SearchParams, *, viewer: Principal | None) -> SearchResult:
    tokens = query_tokens(params.q)
    scope = _scope(session, params, viewer)
    if not scope.valid:
        return SearchResult([], 0, {f: [] for f in FACETS}, tokens)
    want = params.offset + params.limit
    if tokens:
        matches: list[int] | None = text_matches(session, tokens)
    elif params.q and params.q.strip():
        matches = []  # text with no searchable word ("%", "(", an emoji) matches nothing, not everything
    else:
        matches = None  # no query: browse

    if session.info.get(DIRTY):
        # Uncommitted catalog changes in this transaction: read them through SQL.
        where = CatalogResource.id.in_(matches) if matches is not None else None
        index = FacetIndex.build(None, -1, _entries(session, where))
    else:
        index = facet_index(session)

    result = _selection(index, params, scope, viewer is not None)
    if matches is not None:
        pos_of = index.pos_of
        matched = [pos_of[i] for i in matches if i in pos_of]
        result &= _bits(matched, index.size)
    total = result.bit_count()
    ranked = _top_positions(result, want) if matches is None else _ranked(index, result, matched, tokens, want)
    page = [index.ids[p] for p in ranked[params.offset :]]
    facets = _labelled(session, _count(index, result)) if params.facets else {}
    return SearchResult(_load(session, page), total, facets, tokens)


def naive_like_search(session: Session, params: SearchParams, *, viewer: Principal | None) -> SearchResult:
    """The baseline the benchmark compares with: substring LIKE over name and abstract, filters and
    facets in SQL (one GROUP BY per facet), newest first. Not used by the application."""
    terms = [t for t in re.split(r"\s+", (params.q or "").strip()) if t]
    flt = _scope(session, params, viewer)
    r, s = CatalogResource, CatalogResourceSector
    conds: list[Any] = [perm.visible_condition(viewer)]
    if params.mine:
        conds.append(r.provider_id.in_(sorted(flt.own)))
        if params.status:
            conds.append(r.status == params.status)
    else:
        conds.append(r.status == (params.status or "published"))
    for col, value in (
        (r.classification, params.classification),
        (r.category, params.category),
        (r.format, params.format),
        (r.share_type, params.share_type),
        (r.provider_id, flt.provider_id),
    ):
        if value is not None and value != "":
            conds.append(col == value)
    if flt.regions is not None:
        conds.append(r.region_code.in_(sorted(flt.regions)))
    if params.sector:
        conds.append(r.id.in_(select(s.resource_id).where(s.sector == params.sector)))
    for term in terms:
        conds.append(or_(r.name.like(f"%{term}%"), r.abstract.like(f"%{term}%")))
    raw: dict[str, Counter[str]] = {}
    for facet, col in (
        ("classification", r.classification),
        ("category", r.category),
        ("provider", r.provider_id),
        ("region", r.region_code),
        ("format", r.format),
        ("share_type", r.share_type),
    ):
        raw[facet] = Counter(
            {
                str(v): int(c)
                for v, c in session.execute(select(col, func.count()).where(*conds).group_by(col))
                if v is not None
            }
        )
    raw["sector"] = Counter(
        {
            v: int(c)
            for v, c in session.execute(
                select(s.sector, func.count()).where(s.resource_id.in_(select(r.id).where(*conds))).group_by(s.sector)
            )
        }
    )
    total = sum(raw["classification"].values())
    ids = list(
        session.scalars(select(r.id).where(*conds).order_by(r.id.desc()).offset(params.offset).limit(params.limit))
    )
    return SearchResult(_load(session, ids), total, _labelled(session, raw), terms)
