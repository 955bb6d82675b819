"""What the catalog's use cases share: loading entries, their content and snapshots, versions,
the entry event and the small checks every use case makes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from govshare.catalog import permissions as perm
from govshare.catalog import rules, search
from govshare.catalog.models import (
    CatalogDataItem,
    CatalogResource,
    CatalogResourceRelation,
    CatalogResourceSector,
    CatalogResourceVersion,
    CatalogSearchState,
)
from govshare.catalog.presentation import CONTENT_FIELDS, ITEM_FIELDS, LIST_FIELDS
from govshare.core import clock, events, refs
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, InvalidInput, NotFound
from govshare.registry import service as registry_service
from govshare.registry.models import Agency


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


# --- Loading ------------------------------------------------------------------------------------


def _not_found(ref: object) -> NotFound:
    return NotFound(
        "catalog.resource.not_found", f"目录条目 {ref} 不存在", f"Catalog entry {ref} not found", field="resource"
    )


def ref_condition(ref: str | int) -> Any:
    """An entry by id (ASCII digits within the id range) or else by resource code."""
    rid = refs.id_of(ref)
    if rid is not None:
        return CatalogResource.id == rid
    return CatalogResource.code == str(ref).strip()


def get_resource(session: Session, ref: str | int, *, for_update: bool = False) -> CatalogResource:
    """An entry by id or resource code, with its provider, data items, sectors and relations."""
    stmt = (
        select(CatalogResource)
        .where(ref_condition(ref))
        .options(
            joinedload(CatalogResource.provider),
            selectinload(CatalogResource.data_items),
            selectinload(CatalogResource.sectors),
            selectinload(CatalogResource.relations),
        )
    )
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=CatalogResource)
    resource = session.scalars(stmt).unique().first()
    if resource is None:
        raise _not_found(ref)
    return resource


def _region_path(session: Session, resource: CatalogResource) -> str:
    return registry_service.region_path_of(session, resource.region_code)


def get_visible(session: Session, ref: str | int, viewer: Principal | None) -> CatalogResource:
    """An entry the viewer may read; entries they may not see do not exist for them (404)."""
    resource = get_resource(session, ref)
    if not perm.can_view(
        viewer,
        status=resource.status,
        open_to_public=resource.open_to_public,
        provider_id=resource.provider_id,
        region_path=_region_path(session, resource),
    ):
        raise _not_found(ref)
    return resource


# --- Content, snapshots, rules ------------------------------------------------------------------


def snapshot_of(resource: CatalogResource) -> dict[str, Any]:
    """The content of an entry as stored in a version (children must be loaded)."""
    snap: dict[str, Any] = {f: getattr(resource, f) for f in CONTENT_FIELDS}
    snap["data_items"] = [{f: getattr(i, f) for f in ITEM_FIELDS} for i in resource.data_items]
    snap["sectors"] = sorted(resource.sector_codes)
    snap["related"] = resource.related_ids
    return snap


def _item_dict(item: Any) -> dict[str, Any]:
    raw = item.model_dump() if hasattr(item, "model_dump") else dict(item)
    return {
        "name": (raw.get("name") or "").strip(),
        "field_code": _clean(raw.get("field_code")),
        "data_type": raw.get("data_type") or "string",
        "description": _clean(raw.get("description")),
        "is_personal": bool(raw.get("is_personal")),
        "is_secret": bool(raw.get("is_secret")),
    }


def normalise(changes: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "data_items":
            out[key] = [_item_dict(i) for i in value or []]
        elif key == "sectors":
            out[key] = sorted(set(value or []))
        elif key in ("abstract",):
            out[key] = (value or "").strip()
        elif key in CONTENT_FIELDS:
            out[key] = _clean(value)
    return out


def _resolve_related(session: Session, refs: Iterable[str | int], *, self_id: int | None) -> list[int]:
    ids: set[int] = set()
    for ref in refs:
        ref_s = str(ref).strip()
        if not ref_s:
            continue
        rid = session.scalar(select(CatalogResource.id).where(ref_condition(ref_s)))
        if rid is None:
            raise InvalidInput(
                "catalog.related.not_found",
                f"关联资源 {ref_s} 不存在",
                f"Related resource {ref_s} not found",
                field="related",
            )
        if rid == self_id:
            raise InvalidInput(
                "catalog.related.self", "资源不能关联自身", "An entry cannot be related to itself", field="related"
            )
        ids.add(rid)
    return sorted(ids)


def violations_of(content: Mapping[str, Any], fee: Any = None) -> list[rules.Violation]:
    return rules.violations({**content, "fee": fee})


def raise_violations(vs: Sequence[rules.Violation]) -> None:
    if not vs:
        return
    first = vs[0]
    detail = None
    if len(vs) > 1:
        detail = "；".join(v.zh for v in vs) + " / " + "; ".join(v.en for v in vs)
    raise InvalidInput(
        first.code,
        first.zh,
        first.en,
        article=first.article,
        field=first.field,
        detail=detail,
        extra={"violations": [v.as_dict() for v in vs]},
    )


def _name_taken(name: str) -> Conflict:
    return Conflict(
        "catalog.resource.duplicate_name",
        f"本机关已有名为“{name}”的目录条目",
        f"This agency already has an entry named '{name}'",
        field="name",
    )


def _check_name_free(session: Session, provider_id: int, name: str, except_id: int | None) -> None:
    """No other entry of the agency that is not withdrawn has this name. The partial unique index
    ``uq_catalog_resource_provider_name`` holds the same rule for concurrent requests
    (:func:`flush_name`)."""
    stmt = select(CatalogResource.id).where(
        CatalogResource.provider_id == provider_id, CatalogResource.name == name, CatalogResource.status != "withdrawn"
    )
    if except_id is not None:
        stmt = stmt.where(CatalogResource.id != except_id)
    if session.scalar(stmt.limit(1)) is not None:
        raise _name_taken(name)


#: How each backend names the index in its refusal.
_NAME_INDEX_MARKS = ("uq_catalog_resource_provider_name", "catalog_resource.provider_id, catalog_resource.name")


def flush_name(session: Session, name: str) -> None:
    """Flush an entry's insert or name change. When a concurrent request took the name between
    :func:`_check_name_free` and here, the unique index refuses it: the same 409."""
    try:
        session.flush()
    except IntegrityError as exc:
        if any(mark in str(exc.orig) for mark in _NAME_INDEX_MARKS):
            raise _name_taken(name) from exc
        raise


def _apply(session: Session, resource: CatalogResource, content: Mapping[str, Any]) -> None:
    """Write content into an entry's columns and children; data items are matched by name so
    their ids stay stable (other domains refer to them)."""
    for f in CONTENT_FIELDS:
        value = content.get(f)
        if f == "abstract":
            value = value or ""
        setattr(resource, f, value)
    wanted = {i["name"]: (pos, i) for pos, i in enumerate(content.get("data_items") or [], start=1)}
    existing = {i.name: i for i in resource.data_items}
    for name, row in existing.items():
        if name not in wanted:
            resource.data_items.remove(row)
    flush_name(session, resource.name)
    for name, (pos, item) in wanted.items():
        row = existing.get(name)
        if row is None:
            row = CatalogDataItem(name=name)
            resource.data_items.append(row)
        row.position = pos
        for f in ITEM_FIELDS[1:]:
            setattr(row, f, item[f])
    sectors = set(content.get("sectors") or [])
    for s in list(resource.sectors):
        if s.sector not in sectors:
            resource.sectors.remove(s)
    have = set(resource.sector_codes)
    for s in sorted(sectors - have):
        resource.sectors.append(CatalogResourceSector(sector=s))
    related = set(content.get("related") or [])
    for r in list(resource.relations):
        if r.related_id not in related:
            resource.relations.remove(r)
    have_rel = {r.related_id for r in resource.relations}
    for rid in sorted(related - have_rel):
        resource.relations.append(CatalogResourceRelation(related_id=rid))
    session.flush()
    resource.data_items.sort(key=lambda i: i.position)
    refresh_search_text(resource)


def refresh_search_text(resource: CatalogResource) -> None:
    resource.search_text = search.index_text(
        name=resource.name,
        name_en=resource.name_en,
        abstract=resource.abstract,
        item_names=[i.name for i in resource.data_items],
        classification=resource.classification,
        category=resource.category,
        sectors=resource.sector_codes,
        provider_name=resource.provider.name if "provider" in resource.__dict__ else None,
        code=resource.code,
    )


def bump_search_generation(session: Session) -> int:
    """Advance the catalog's search generation (search.py's in-process facet index reloads the
    entries changed since the generation it holds). Creates the state row with a new epoch when
    absent, e.g. on a fresh database."""
    gen = session.execute(
        update(CatalogSearchState)
        .where(CatalogSearchState.id == 1)
        .values(generation=CatalogSearchState.generation + 1)
        .returning(CatalogSearchState.generation)
    ).scalar()
    if gen is None:
        session.add(CatalogSearchState(id=1, epoch=uuid.uuid4().hex, generation=1))
        session.flush()
        gen = 1
    session.info[search.DIRTY] = True
    return int(gen)


def _next_version_number(session: Session, resource_id: int) -> int:
    return (
        session.scalar(
            select(func.max(CatalogResourceVersion.number)).where(CatalogResourceVersion.resource_id == resource_id)
        )
        or 0
    ) + 1


def _add_version(
    session: Session,
    resource: CatalogResource,
    snapshot: dict[str, Any],
    *,
    kind: str,
    by: Principal,
    note: str | None,
    review_state: str | None = None,
) -> CatalogResourceVersion:
    actor = by.actor
    version = CatalogResourceVersion(
        resource_id=resource.id,
        number=_next_version_number(session, resource.id),
        change_kind=kind,
        review_state=review_state,
        snapshot=snapshot,
        note=_clean(note),
        created_at=clock.now(),
        created_by=actor.ref,
        created_by_name=actor.name,
    )
    session.add(version)
    session.flush()
    return version


def _event(session: Session, resource: CatalogResource, action: str, by: Principal, **data: Any) -> None:
    """Record a state change of an entry (and mark it changed for the search index)."""
    resource.search_seq = bump_search_generation(session)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action=f"catalog.resource.{action}",
        subject_type="catalog_resource",
        subject_id=resource.id,
        region_code=resource.region_code,
        agency_code=resource.provider.code,
        data={"code": resource.code, "name": resource.name, "status": resource.status, **data},
    )


def _changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [f for f in (*CONTENT_FIELDS, *LIST_FIELDS) if before.get(f) != after.get(f)]


def pending_version(session: Session, resource: CatalogResource) -> CatalogResourceVersion | None:
    if resource.pending_version_number is None:
        return None
    return session.scalar(
        select(CatalogResourceVersion).where(
            CatalogResourceVersion.resource_id == resource.id,
            CatalogResourceVersion.number == resource.pending_version_number,
        )
    )


def _bad_status(resource: CatalogResource, what_zh: str, what_en: str) -> Conflict:
    return Conflict(
        "catalog.resource.bad_status",
        f"条目当前为“{rules.label(rules.STATUSES, resource.status)}”，不能{what_zh}",
        f"The entry is {resource.status}; cannot {what_en}",
        field="status",
        extra={"entry_status": resource.status},
    )


def _require_reason(reason: str | None) -> str:
    text = _clean(reason)
    if not text:
        raise InvalidInput("catalog.reason.required", "请写明理由", "A reason is required", field="reason")
    return str(text)


def _provider_for(session: Session, ref: str | None, by: Principal, *, field: str = "provider") -> Agency:
    """The named agency, or the caller's only agency."""
    if ref:
        return registry_service.get_agency(session, ref)
    own = sorted(perm.provider_agency_ids(by))
    if len(own) != 1:
        if field == "requester":
            raise InvalidInput(
                "catalog.demand.requester_required", "请指定需求机关", "Name the requesting agency", field=field
            )
        raise InvalidInput("catalog.provider.required", "请指定提供单位", "Name the providing agency", field=field)
    return registry_service.get_agency(session, own[0])
