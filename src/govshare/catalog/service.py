"""Catalog use cases. The only code that writes catalog tables; every change records its event.

Functions take the session and ``by``: the acting :class:`Principal`, or ``None`` for the
platform operator on the command line (acting as ``system``, no scope checks). Services flush,
never commit.

Lifecycle (Art 9-10)::

    create -> draft --submit--> submitted --publish--> published --withdraw--> withdrawn
                 ^                  |  (authority)         |
                 +-----reject-------+                      +--update--> pending revision
                                                               approve_revision / reject_revision

Every change of content is a new ``CatalogResourceVersion`` with a JSON snapshot. A provider's
change to a published entry becomes a pending revision reported to the authority (Art 10(2)); the
published content stays in force until the authority approves it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from govshare.catalog import permissions as perm
from govshare.catalog import rules, search
from govshare.catalog.models import (
    CatalogCodeCounter,
    CatalogDataItem,
    CatalogDemand,
    CatalogDemandMatch,
    CatalogDemandRoute,
    CatalogResource,
    CatalogResourceRelation,
    CatalogResourceSector,
    CatalogResourceVersion,
    CatalogSearchState,
)
from govshare.catalog.schemas import (
    AgencyRef,
    DataItemRead,
    DemandCreate,
    DemandMatchRead,
    DemandRead,
    DemandRouteRead,
    DemandUpdate,
    FieldChange,
    PendingRevision,
    ResourceCreate,
    ResourceRead,
    ResourceRef,
    ResourceSummary,
    ResourceUpdate,
    VersionDiff,
)
from govshare.core import clock, events
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from govshare.core.events import SYSTEM, Actor
from govshare.registry import service as registry_service
from govshare.registry.models import Agency, Region

#: Scalar content fields of an entry, in display order; with the lists below they make a snapshot.
CONTENT_FIELDS = (
    "classification",
    "category",
    "name",
    "name_en",
    "abstract",
    "abstract_en",
    "format",
    "format_detail",
    "share_type",
    "share_conditions",
    "legal_basis",
    "provision_method",
    "open_to_public",
    "update_cycle",
    "update_deadline_workdays",
    "security_classification",
    "contains_commercial_secret",
    "contains_personal_info",
)
LIST_FIELDS = ("data_items", "sectors", "related")
ITEM_FIELDS = ("name", "field_code", "data_type", "description", "is_personal", "is_secret")

#: Field labels for diffs, forms and import errors: (Chinese, English).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "classification": ("资源分类", "classification"),
    "category": ("资源类别", "category"),
    "name": ("资源名称", "name"),
    "name_en": ("英文名称", "English name"),
    "abstract": ("资源摘要", "abstract"),
    "abstract_en": ("英文摘要", "English abstract"),
    "format": ("数据格式", "format"),
    "format_detail": ("格式说明", "format detail"),
    "share_type": ("共享类型", "share type"),
    "share_conditions": ("共享条件", "sharing conditions"),
    "legal_basis": ("法律依据", "legal basis"),
    "provision_method": ("提供方式", "provision method"),
    "open_to_public": ("是否向社会开放", "open to the public"),
    "update_cycle": ("更新周期", "update cycle"),
    "update_deadline_workdays": ("更新时限（工作日）", "update deadline (working days)"),
    "security_classification": ("安全级别", "security classification"),
    "contains_commercial_secret": ("含商业秘密", "contains commercial secrets"),
    "contains_personal_info": ("含个人信息", "contains personal information"),
    "data_items": ("信息项", "data items"),
    "sectors": ("领域", "sectors"),
    "related": ("关联资源", "related resources"),
    "fee": ("费用", "fee"),
    "provider": ("提供单位", "provider"),
}
ITEM_LABELS: dict[str, tuple[str, str]] = {
    "name": ("名称", "name"),
    "field_code": ("英文标识", "field code"),
    "data_type": ("数据类型", "data type"),
    "description": ("说明", "description"),
    "is_personal": ("个人信息", "personal"),
    "is_secret": ("涉密", "secret"),
}
_VOCABS: dict[str, rules.Labels] = {
    "classification": rules.CLASSIFICATIONS,
    "category": rules.CATEGORIES,
    "format": rules.FORMATS,
    "share_type": rules.SHARE_TYPES,
    "provision_method": rules.PROVISION_METHODS,
    "update_cycle": rules.UPDATE_CYCLES,
    "security_classification": rules.SECURITY_CLASSIFICATIONS,
    "data_type": rules.DATA_TYPES,
}


def _actor(by: Principal | None) -> Actor:
    return by.actor if by is not None else SYSTEM


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


def _ref_condition(ref: str | int) -> Any:
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        return CatalogResource.id == int(ref)
    return CatalogResource.code == str(ref).strip()


def get_resource(session: Session, ref: str | int, *, for_update: bool = False) -> CatalogResource:
    """An entry by id or resource code, with its provider, data items, sectors and relations."""
    stmt = (
        select(CatalogResource)
        .where(_ref_condition(ref))
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


def _normalise(changes: Mapping[str, Any]) -> dict[str, Any]:
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
        rid = session.scalar(select(CatalogResource.id).where(_ref_condition(ref_s)))
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


def _check_name_free(session: Session, provider_id: int, name: str, except_id: int | None) -> None:
    stmt = select(CatalogResource.id).where(
        CatalogResource.provider_id == provider_id, CatalogResource.name == name, CatalogResource.status != "withdrawn"
    )
    if except_id is not None:
        stmt = stmt.where(CatalogResource.id != except_id)
    if session.scalar(stmt.limit(1)) is not None:
        raise Conflict(
            "catalog.resource.duplicate_name",
            f"本机关已有名为“{name}”的目录条目",
            f"This agency already has an entry named '{name}'",
            field="name",
        )


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
    session.flush()
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
    by: Principal | None,
    note: str | None,
    review_state: str | None = None,
) -> CatalogResourceVersion:
    actor = _actor(by)
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


def _event(session: Session, resource: CatalogResource, action: str, by: Principal | None, **data: Any) -> None:
    """Record a state change of an entry (and mark it changed for the search index)."""
    resource.search_seq = bump_search_generation(session)
    session.flush()
    events.record(
        session,
        actor=_actor(by),
        action=f"catalog.resource.{action}",
        subject_type="catalog_resource",
        subject_id=resource.id,
        region_code=resource.region_code,
        agency_code=resource.provider.code,
        data={"code": resource.code, "name": resource.name, "status": resource.status, **data},
    )


def _changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return [f for f in (*CONTENT_FIELDS, *LIST_FIELDS) if before.get(f) != after.get(f)]


# --- Create and edit ----------------------------------------------------------------------------


def _provider_for(session: Session, ref: str | None, by: Principal | None, *, field: str = "provider") -> Agency:
    """The named agency, or the caller's only agency."""
    if ref:
        return registry_service.get_agency(session, ref)
    own = sorted(perm.provider_agency_ids(by)) if by is not None else []
    if len(own) != 1:
        if field == "requester":
            raise InvalidInput(
                "catalog.demand.requester_required", "请指定需求机关", "Name the requesting agency", field=field
            )
        raise InvalidInput("catalog.provider.required", "请指定提供单位", "Name the providing agency", field=field)
    return registry_service.get_agency(session, own[0])


def create_resource(
    session: Session, data: ResourceCreate, *, by: Principal | None = None, source: Mapping[str, Any] | None = None
) -> CatalogResource:
    """Register a draft entry for the providing agency (Art 9(1))."""
    provider = _provider_for(session, data.provider, by)
    if by is not None:
        perm.check_provider(by, provider.id)
    if not provider.active:
        raise Conflict(
            "catalog.provider.inactive", f"{provider.name} 已停用", f"{provider.code} is inactive", field="provider"
        )
    content = _normalise(data.model_dump(exclude={"provider", "fee", "note", "demand_id", "related"}))
    content["related"] = _resolve_related(session, data.related, self_id=None)
    raise_violations(violations_of(content, data.fee))
    _check_name_free(session, provider.id, content["name"], None)
    demand = _demand_for_new_entry(session, data.demand_id, provider, by) if data.demand_id else None

    resource = CatalogResource(
        status="draft",
        provider_id=provider.id,
        region_code=provider.region_code,
        version_number=1,
        created_by=_actor(by).ref,
        **{f: content.get(f) for f in CONTENT_FIELDS if f != "abstract"},
        abstract=content.get("abstract") or "",
        data_items=[],
        sectors=[],
        relations=[],
    )
    resource.provider = provider
    session.add(resource)
    session.flush()
    _apply(session, resource, content)
    _add_version(session, resource, snapshot_of(resource), kind="created", by=by, note=data.note)
    _event(
        session,
        resource,
        "created",
        by,
        version=1,
        source=dict(source or {}) or None,
        demand_id=data.demand_id,
    )
    if demand is not None:
        _link(session, demand, resource, kind="created", note=None, by=by)
    return resource


def _pending_version(session: Session, resource: CatalogResource) -> CatalogResourceVersion | None:
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
        extra={"status": resource.status},
    )


def update_resource(
    session: Session, ref: str | int, data: ResourceUpdate, *, by: Principal | None = None
) -> CatalogResource:
    """Edit an entry. Drafts (and submissions, which go back to draft) change at once; a change to
    a published entry is filed as a pending revision for the authority (Art 10(2))."""
    resource = get_resource(session, ref, for_update=True)
    if by is not None:
        perm.check_provider(by, resource.provider_id)
    if resource.status == "withdrawn":
        raise _bad_status(resource, "修改", "change it")
    sent = data.model_dump(exclude_unset=True)
    fee = sent.pop("fee", None)
    note = sent.pop("note", None)
    pending = _pending_version(session, resource) if resource.status == "published" else None
    current = snapshot_of(resource)
    base = dict(pending.snapshot) if pending is not None else current
    changes = _normalise({k: v for k, v in sent.items() if k != "related"})
    if "related" in sent:
        changes["related"] = _resolve_related(session, sent["related"] or [], self_id=resource.id)
    for required in (
        "classification",
        "name",
        "format",
        "share_type",
        "provision_method",
        "update_cycle",
        "open_to_public",
        "update_deadline_workdays",
        "security_classification",
        "contains_commercial_secret",
        "contains_personal_info",
    ):
        if required in changes and changes[required] is None:
            raise InvalidInput(
                "catalog.field.required",
                f"{FIELD_LABELS[required][0]}不能为空",
                f"{FIELD_LABELS[required][1]} cannot be empty",
                field=required,
            )
    merged = {**base, **changes}
    if merged.get("classification") == "departmental" and "classification" in changes and "category" not in changes:
        merged["category"] = None
    vs = violations_of(merged, fee)
    if resource.status == "published":
        vs = rules.check_revision_keeps_code(current, merged) + vs
    raise_violations(vs)
    changed = _changed_fields(base, merged)
    if not changed:
        return resource
    if "name" in changed:
        _check_name_free(session, resource.provider_id, merged["name"], resource.id)

    if resource.status == "published":
        if pending is not None:
            pending.review_state = "superseded"
        if not _changed_fields(current, merged):  # the change undoes the pending revision
            resource.pending_version_number = None
            session.flush()
            _event(
                session,
                resource,
                "revision_withdrawn",
                by,
                version=pending.number if pending else None,
            )
            return resource
        version = _add_version(session, resource, merged, kind="revision", by=by, note=note, review_state="pending")
        resource.pending_version_number = version.number
        session.flush()
        # Art 10(2): the change is reported to the competent authority.
        _event(
            session,
            resource,
            "revision_reported",
            by,
            version=version.number,
            changed=changed,
            superseded=pending.number if pending else None,
            article="Art 10(2)",
        )
        return resource

    previous = resource.status
    _apply(session, resource, merged)
    version = _add_version(session, resource, snapshot_of(resource), kind="edited", by=by, note=note)
    resource.version_number = version.number
    if previous == "submitted":
        resource.status = "draft"
        resource.submitted_at = None
    session.flush()
    _event(
        session,
        resource,
        "updated",
        by,
        version=version.number,
        changed=changed,
        previous_status=previous,
    )
    return resource


# --- Lifecycle ----------------------------------------------------------------------------------


def submit(
    session: Session, ref: str | int, *, by: Principal | None = None, note: str | None = None
) -> CatalogResource:
    """The provider submits a draft to the authority for publication (Art 9)."""
    resource = get_resource(session, ref, for_update=True)
    if by is not None:
        perm.check_provider(by, resource.provider_id)
    if not rules.can_transition("submit", resource.status):
        raise _bad_status(resource, "提交", "submit it")
    raise_violations(violations_of(snapshot_of(resource)))
    resource.status = "submitted"
    resource.submitted_at = clock.now()
    session.flush()
    _event(
        session,
        resource,
        "submitted",
        by,
        version=resource.version_number,
        note=_clean(note),
    )
    return resource


def _next_code(session: Session, prefix: str) -> str:
    row = session.execute(
        update(CatalogCodeCounter)
        .where(CatalogCodeCounter.prefix == prefix)
        .values(last_value=CatalogCodeCounter.last_value + 1)
        .returning(CatalogCodeCounter.last_value)
    ).first()
    if row is None:
        session.add(CatalogCodeCounter(prefix=prefix, last_value=1))
        session.flush()
        value = 1
    else:
        value = int(row[0])
    return rules.resource_code(prefix, value)


def publish(
    session: Session, ref: str | int, *, by: Principal | None = None, note: str | None = None
) -> CatalogResource:
    """The authority of the provider's region (or above) publishes a submitted entry (Art 9(2)).
    The first publication assigns the resource code and the publish date (Art 10(1))."""
    resource = get_resource(session, ref, for_update=True)
    if by is not None:
        perm.check_authority(by, _region_path(session, resource))
    if not rules.can_transition("publish", resource.status):
        raise _bad_status(resource, "发布", "publish it")
    raise_violations(violations_of(snapshot_of(resource)))
    now = clock.now()
    if resource.code is None:
        resource.code = _next_code(session, rules.code_prefix(resource.classification, resource.category))
    if resource.published_on is None:
        resource.published_on = clock.today()
    resource.status = "published"
    resource.published_at = resource.published_at or now
    resource.review_note = None
    refresh_search_text(resource)
    version = session.scalar(
        select(CatalogResourceVersion).where(
            CatalogResourceVersion.resource_id == resource.id, CatalogResourceVersion.number == resource.version_number
        )
    )
    if version is not None:
        actor = _actor(by)
        version.published_at = now
        version.reviewed_at, version.reviewed_by, version.review_note = now, actor.ref, _clean(note)
    session.flush()
    _event(
        session,
        resource,
        "published",
        by,
        version=resource.version_number,
        note=_clean(note),
        published_on=resource.published_on,
    )
    return resource


def reject(session: Session, ref: str | int, *, reason: str, by: Principal | None = None) -> CatalogResource:
    """The authority sends a submission back to the provider as a draft, with its reason."""
    resource = get_resource(session, ref, for_update=True)
    if by is not None:
        perm.check_authority(by, _region_path(session, resource))
    if not rules.can_transition("reject", resource.status):
        raise _bad_status(resource, "退回", "send it back")
    reason = _require_reason(reason)
    resource.status = "draft"
    resource.submitted_at = None
    resource.review_note = reason
    session.flush()
    _event(session, resource, "rejected", by, version=resource.version_number, reason=reason)
    return resource


def _require_reason(reason: str | None) -> str:
    text = _clean(reason)
    if not text:
        raise InvalidInput("catalog.reason.required", "请写明理由", "A reason is required", field="reason")
    return str(text)


def _revision_under_review(
    session: Session, ref: str | int, by: Principal | None
) -> tuple[CatalogResource, CatalogResourceVersion]:
    """A published entry with a pending revision, locked, that ``by`` may review (Art 10(2))."""
    resource = get_resource(session, ref, for_update=True)
    if by is not None:
        perm.check_authority(by, _region_path(session, resource))
    pending = _pending_version(session, resource)
    if resource.status != "published" or pending is None:
        raise Conflict(
            "catalog.revision.none_pending",
            "该条目没有待审核的修订",
            "This entry has no pending revision",
            field="revision",
        )
    return resource, pending


def approve_revision(
    session: Session, ref: str | int, *, by: Principal | None = None, note: str | None = None
) -> CatalogResource:
    """The authority approves the pending revision: it becomes the published content (Art 10(2))."""
    resource, pending = _revision_under_review(session, ref, by)
    before = snapshot_of(resource)
    content = dict(pending.snapshot)
    content["related"] = [rid for rid in content.get("related") or [] if session.get(CatalogResource, rid) is not None]
    _apply(session, resource, content)
    now = clock.now()
    actor = _actor(by)
    pending.review_state = "approved"
    pending.reviewed_at, pending.reviewed_by, pending.review_note = now, actor.ref, _clean(note)
    pending.published_at = now
    resource.version_number = pending.number
    resource.pending_version_number = None
    resource.modified_on = clock.today()
    session.flush()
    _event(
        session,
        resource,
        "revision_approved",
        by,
        version=pending.number,
        changed=_changed_fields(before, snapshot_of(resource)),
        note=_clean(note),
    )
    return resource


def reject_revision(session: Session, ref: str | int, *, reason: str, by: Principal | None = None) -> CatalogResource:
    """The authority rejects the pending revision; the published content stays as it is."""
    resource, pending = _revision_under_review(session, ref, by)
    reason = _require_reason(reason)
    actor = _actor(by)
    pending.review_state = "rejected"
    pending.reviewed_at, pending.reviewed_by, pending.review_note = clock.now(), actor.ref, reason
    resource.pending_version_number = None
    session.flush()
    _event(session, resource, "revision_rejected", by, version=pending.number, reason=reason)
    return resource


def withdraw(session: Session, ref: str | int, *, reason: str, by: Principal | None = None) -> CatalogResource:
    """Withdraw an entry: the authority may withdraw any entry in its region; the provider may
    discard its own entry that was never published."""
    resource = get_resource(session, ref, for_update=True)
    if by is not None:
        region_path = _region_path(session, resource)
        own_unpublished = perm.is_provider(by, resource.provider_id) and resource.status in ("draft", "submitted")
        if not own_unpublished:
            perm.check_authority(by, region_path)
    if not rules.can_transition("withdraw", resource.status):
        raise _bad_status(resource, "撤销", "withdraw it")
    reason = _require_reason(reason)
    pending = _pending_version(session, resource)
    if pending is not None:
        pending.review_state = "superseded"
    previous = resource.status
    resource.status = "withdrawn"
    resource.withdrawn_at = clock.now()
    resource.withdrawal_reason = reason
    resource.pending_version_number = None
    session.flush()
    _event(session, resource, "withdrawn", by, previous_status=previous, reason=reason)
    return resource


def review_queue(session: Session, *, by: Principal) -> tuple[list[CatalogResource], list[CatalogResource]]:
    """Submissions and pending revisions in the authority's regions (oldest first)."""
    paths = by.region_paths("authority")
    if not paths:
        return [], []
    in_scope = or_(
        *[
            CatalogResource.region_code.in_(
                select(Region.code).where(or_(Region.path == p, Region.path.like(p + "/%")))
            )
            for p in paths
        ]
    )
    opts = (joinedload(CatalogResource.provider), selectinload(CatalogResource.sectors))
    submitted = list(
        session.scalars(
            select(CatalogResource)
            .where(in_scope, CatalogResource.status == "submitted")
            .order_by(CatalogResource.submitted_at, CatalogResource.id)
            .options(*opts)
        ).unique()
    )
    revisions = list(
        session.scalars(
            select(CatalogResource)
            .where(in_scope, CatalogResource.status == "published", CatalogResource.pending_version_number.is_not(None))
            .order_by(CatalogResource.updated_at, CatalogResource.id)
            .options(*opts)
        ).unique()
    )
    return submitted, revisions


def reindex(session: Session) -> int:
    """Recompute every entry's search text (after changing the segmentation dictionary)."""
    count = 0
    for resource in session.scalars(
        select(CatalogResource).options(
            joinedload(CatalogResource.provider),
            selectinload(CatalogResource.data_items),
            selectinload(CatalogResource.sectors),
        )
    ).unique():
        refresh_search_text(resource)
        count += 1
    bump_search_generation(session)
    session.flush()
    events.record(
        session,
        actor=SYSTEM,
        action="catalog.search.reindexed",
        subject_type="catalog",
        subject_id="search",
        data={"entries": count},
    )
    return count


# --- Versions and diffs -------------------------------------------------------------------------


def _visible_versions(
    session: Session, resource: CatalogResource, viewer: Principal | None
) -> list[CatalogResourceVersion]:
    stmt = select(CatalogResourceVersion).where(CatalogResourceVersion.resource_id == resource.id)
    if not perm.can_view_history(viewer, provider_id=resource.provider_id, region_path=_region_path(session, resource)):
        stmt = stmt.where(CatalogResourceVersion.published_at.is_not(None))
    return list(session.scalars(stmt.order_by(CatalogResourceVersion.number)))


def list_versions(session: Session, ref: str | int, *, viewer: Principal | None) -> list[CatalogResourceVersion]:
    return _visible_versions(session, get_visible(session, ref, viewer), viewer)


def get_version(session: Session, ref: str | int, number: int, *, viewer: Principal | None) -> CatalogResourceVersion:
    for v in list_versions(session, ref, viewer=viewer):
        if v.number == number:
            return v
    raise NotFound("catalog.version.not_found", f"版本 {number} 不存在", f"Version {number} not found", field="version")


def display_value(field: str, value: Any, *, lang: str = "zh", names: Mapping[int, str] | None = None) -> str:
    """A value as a person reads it: vocabulary labels, 是/否, lists joined."""
    if value is None or value == "" or value == []:
        return "（空）" if lang == "zh" else "(empty)"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if field in _VOCABS:
        return rules.label(_VOCABS[field], value, lang)
    if field == "sectors":
        return ("、" if lang == "zh" else ", ").join(rules.label(rules.SECTORS, s, lang) for s in value)
    if field == "related":
        return ("、" if lang == "zh" else ", ").join((names or {}).get(r, str(r)) for r in value)
    return str(value)


def _item_text(item: Mapping[str, Any], lang: str) -> str:
    parts = [rules.label(rules.DATA_TYPES, item.get("data_type"), lang)]
    if item.get("is_personal"):
        parts.append("个人信息" if lang == "zh" else "personal")
    if item.get("is_secret"):
        parts.append("涉密" if lang == "zh" else "secret")
    if item.get("description"):
        parts.append(str(item["description"]))
    return "，".join(parts) if lang == "zh" else ", ".join(parts)


def diff_snapshots(
    before: Mapping[str, Any], after: Mapping[str, Any], *, names: Mapping[int, str] | None = None
) -> list[FieldChange]:
    """Field-level changes between two snapshots, labelled in Chinese (and English)."""
    changes: list[FieldChange] = []
    for f in (*CONTENT_FIELDS, "sectors", "related"):
        b, a = before.get(f), after.get(f)
        if (b or None) == (a or None) and not isinstance(b, bool):
            continue
        if b == a:
            continue
        zh, en = FIELD_LABELS[f]
        kind = "added" if b in (None, "", []) else "removed" if a in (None, "", []) else "changed"
        changes.append(
            FieldChange(
                field=f,
                label=zh,
                label_en=en,
                kind=kind,
                before=display_value(f, b, names=names),
                after=display_value(f, a, names=names),
            )
        )
    b_items = {i["name"]: i for i in before.get("data_items") or []}
    a_items = {i["name"]: i for i in after.get("data_items") or []}
    for name, item in a_items.items():
        old = b_items.get(name)
        if old is None:
            changes.append(
                FieldChange(
                    field=f"data_items.{name}",
                    label=f"信息项“{name}”",
                    label_en=f"data item '{name}'",
                    kind="added",
                    before=None,
                    after=_item_text(item, "zh"),
                )
            )
            continue
        for f in ITEM_FIELDS[1:]:
            if old.get(f) != item.get(f):
                zh, en = ITEM_LABELS[f]
                changes.append(
                    FieldChange(
                        field=f"data_items.{name}.{f}",
                        label=f"信息项“{name}”的{zh}",
                        label_en=f"data item '{name}': {en}",
                        kind="changed",
                        before=display_value(f, old.get(f)),
                        after=display_value(f, item.get(f)),
                    )
                )
    for name, item in b_items.items():
        if name not in a_items:
            changes.append(
                FieldChange(
                    field=f"data_items.{name}",
                    label=f"信息项“{name}”",
                    label_en=f"data item '{name}'",
                    kind="removed",
                    before=_item_text(item, "zh"),
                    after=None,
                )
            )
    order = [i["name"] for i in after.get("data_items") or [] if i["name"] in b_items]
    if order != [i["name"] for i in before.get("data_items") or [] if i["name"] in a_items]:
        changes.append(
            FieldChange(
                field="data_items.order",
                label="信息项顺序",
                label_en="order of data items",
                kind="changed",
                before="、".join(i["name"] for i in before.get("data_items") or []),
                after="、".join(i["name"] for i in after.get("data_items") or []),
            )
        )
    return changes


def diff_text(changes: Sequence[FieldChange]) -> str:
    lines = []
    for c in changes:
        if c.kind == "added":
            lines.append(f"新增 {c.label}：{c.after}")
        elif c.kind == "removed":
            lines.append(f"删除 {c.label}：{c.before}")
        else:
            lines.append(f"{c.label}：{c.before} → {c.after}")
    return "\n".join(lines)


def _resource_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {
        rid: f"{code or '#' + str(rid)} {name}"
        for rid, code, name in session.execute(
            select(CatalogResource.id, CatalogResource.code, CatalogResource.name).where(CatalogResource.id.in_(ids))
        )
    }


def diff(
    session: Session,
    ref: str | int,
    *,
    viewer: Principal | None,
    from_number: int | None = None,
    to_number: int | None = None,
) -> VersionDiff:
    """The changes between two versions. By default: the pending revision against the published
    content (for those who may see it), else the current version against the one before."""
    resource = get_visible(session, ref, viewer)
    versions = {v.number: v for v in _visible_versions(session, resource, viewer)}
    if to_number is None:
        pending = resource.pending_version_number
        to_number = pending if pending in versions else resource.version_number
    if from_number is None:
        if to_number == resource.pending_version_number:
            from_number = resource.version_number
        else:
            earlier = [n for n in versions if n < to_number]
            if not earlier:
                raise NotFound(
                    "catalog.version.no_earlier", "没有更早的版本可比较", "No earlier version to compare", field="from"
                )
            from_number = max(earlier)
    for n, field in ((from_number, "from"), (to_number, "to")):
        if n not in versions:
            raise NotFound("catalog.version.not_found", f"版本 {n} 不存在", f"Version {n} not found", field=field)
    before, after = versions[from_number].snapshot, versions[to_number].snapshot
    names = _resource_names(session, [*(before.get("related") or []), *(after.get("related") or [])])
    changes = diff_snapshots(before, after, names=names)
    return VersionDiff(
        resource_id=resource.id, from_number=from_number, to_number=to_number, changes=changes, text=diff_text(changes)
    )


# --- Read models --------------------------------------------------------------------------------

_LABELLED = (
    "classification",
    "category",
    "format",
    "share_type",
    "provision_method",
    "update_cycle",
    "security_classification",
    "status",
)


def _labels(resource: CatalogResource, lang: str) -> dict[str, str]:
    vocab = {**_VOCABS, "status": rules.STATUSES}
    out = {f: rules.label(vocab[f], getattr(resource, f), lang) for f in _LABELLED if getattr(resource, f)}
    out["sectors"] = display_value("sectors", resource.sector_codes, lang=lang)
    return out


def summary(resource: CatalogResource) -> ResourceSummary:
    p = resource.provider
    return ResourceSummary(
        id=resource.id,
        code=resource.code,
        status=resource.status,
        name=resource.name,
        name_en=resource.name_en,
        abstract=resource.abstract,
        provider=AgencyRef(id=p.id, code=p.code, name=p.name),
        region_code=resource.region_code,
        classification=resource.classification,
        category=resource.category,
        format=resource.format,
        share_type=resource.share_type,
        provision_method=resource.provision_method,
        open_to_public=resource.open_to_public,
        update_cycle=resource.update_cycle,
        sectors=resource.sector_codes,
        published_on=resource.published_on,
        modified_on=resource.modified_on,
        labels=_labels(resource, "zh"),
    )


def read_model(session: Session, resource: CatalogResource, viewer: Principal | None) -> ResourceRead:
    related = []
    if resource.relations:
        rows = session.execute(
            select(
                CatalogResource.id,
                CatalogResource.code,
                CatalogResource.name,
                CatalogResource.status,
                CatalogResource.open_to_public,
                CatalogResource.provider_id,
            )
            .where(CatalogResource.id.in_(resource.related_ids))
            .order_by(CatalogResource.id)
        ).all()
        for rid, code, name, status, open_, provider_id in rows:
            # Relations point only at entries the viewer could open themselves.
            visible = (status == "published" and (open_ or viewer is not None)) or (
                viewer is not None and perm.is_provider(viewer, provider_id)
            )
            if visible:
                related.append(ResourceRef(id=rid, code=code, name=name, status=status))
    pending = None
    if (
        resource.pending_version_number is not None
        and viewer is not None
        and perm.can_view_history(viewer, provider_id=resource.provider_id, region_path=_region_path(session, resource))
    ):
        v = _pending_version(session, resource)
        if v is not None:
            pending = PendingRevision(
                number=v.number, created_at=v.created_at, created_by_name=v.created_by_name, note=v.note
            )
    base = summary(resource).model_dump()
    return ResourceRead(
        **base,
        abstract_en=resource.abstract_en,
        format_detail=resource.format_detail,
        share_conditions=resource.share_conditions,
        legal_basis=resource.legal_basis,
        update_deadline_workdays=resource.update_deadline_workdays,
        security_classification=resource.security_classification,
        contains_commercial_secret=resource.contains_commercial_secret,
        contains_personal_info=resource.contains_personal_info,
        data_items=[DataItemRead.model_validate(i) for i in resource.data_items],
        related=related,
        version_number=resource.version_number,
        pending_revision=pending,
        submitted_at=resource.submitted_at,
        published_at=resource.published_at,
        withdrawn_at=resource.withdrawn_at,
        withdrawal_reason=resource.withdrawal_reason,
        review_note=resource.review_note,
        created_at=resource.created_at,
        updated_at=resource.updated_at,
        labels_en=_labels(resource, "en"),
    )


# --- Demands (Art 9) ----------------------------------------------------------------------------


def _demand_violations(content: Mapping[str, Any]) -> list[rules.Violation]:
    """Art 9(1): an agency files its demand "according to the needs of its duties"; Art 17 limits
    shared data to those duties. So a demand states the duty and its legal basis."""
    out = []
    if not _clean(content.get("duty")):
        out.append(
            rules.Violation(
                "catalog.demand.duty_required",
                "Art 9",
                "duty",
                "共享需求须写明所履行的职责",
                "a demand states the duty the data serves",
            )
        )
    if not rules.is_real_legal_basis(content.get("legal_basis")):
        out.append(
            rules.Violation(
                "catalog.demand.legal_basis_required",
                "Art 9",
                "legal_basis",
                "共享需求须写明法律依据",
                "a demand states its legal basis",
            )
        )
    return out


def _demand_event(session: Session, demand: CatalogDemand, action: str, by: Principal | None, **data: Any) -> None:
    events.record(
        session,
        actor=_actor(by),
        action=f"catalog.demand.{action}",
        subject_type="catalog_demand",
        subject_id=demand.id,
        region_code=demand.region_code,
        agency_code=demand.requester.code,
        data={"title": demand.title, "status": demand.status, **data},
    )


def get_demand(session: Session, demand_id: int) -> CatalogDemand:
    demand = session.scalars(
        select(CatalogDemand).where(CatalogDemand.id == demand_id).options(joinedload(CatalogDemand.requester))
    ).first()
    if demand is None:
        raise NotFound(
            "catalog.demand.not_found",
            f"共享需求 {demand_id} 不存在",
            f"Demand {demand_id} not found",
            field="demand_id",
        )
    return demand


def _routed_agency_ids(session: Session, demand_id: int) -> set[int]:
    return set(session.scalars(select(CatalogDemandRoute.agency_id).where(CatalogDemandRoute.demand_id == demand_id)))


def get_visible_demand(session: Session, demand_id: int, viewer: Principal | None) -> CatalogDemand:
    demand = get_demand(session, demand_id)
    if viewer is not None and not perm.can_view_demand(
        viewer,
        requester_id=demand.requester_id,
        region_path=registry_service.region_path_of(session, demand.region_code),
        routed_to=_routed_agency_ids(session, demand.id),
    ):
        raise NotFound(
            "catalog.demand.not_found",
            f"共享需求 {demand_id} 不存在",
            f"Demand {demand_id} not found",
            field="demand_id",
        )
    return demand


def file_demand(session: Session, data: DemandCreate, *, by: Principal | None = None) -> CatalogDemand:
    """An agency files a sharing demand: what it needs, for which duty, on what basis (Art 9(1))."""
    requester = _provider_for(session, data.requester, by, field="requester")
    if by is not None:
        perm.check_file_demand(by, requester.id)
    raise_violations(_demand_violations(data.model_dump()))
    demand = CatalogDemand(
        requester_id=requester.id,
        region_code=requester.region_code,
        title=data.title.strip(),
        description=(data.description or "").strip(),
        duty=data.duty.strip(),
        legal_basis=data.legal_basis.strip(),
        wanted_items=_clean(data.wanted_items),
        status="open",
        created_by=_actor(by).ref,
    )
    demand.requester = requester
    session.add(demand)
    session.flush()
    _demand_event(session, demand, "filed", by)
    return demand


def update_demand(
    session: Session, demand_id: int, data: DemandUpdate, *, by: Principal | None = None
) -> CatalogDemand:
    """Art 10(2): a change of demand is reported as well; the requester edits an open demand."""
    demand = get_demand(session, demand_id)
    if by is not None:
        perm.check_file_demand(by, demand.requester_id)
    if demand.status == "closed":
        raise Conflict("catalog.demand.closed", "共享需求已关闭", "The demand is closed", field="status")
    changes = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.model_dump(exclude_unset=True).items()}
    if changes.get("title", "") is None:
        raise InvalidInput("catalog.field.required", "需求名称不能为空", "The title cannot be empty", field="title")
    merged = {"duty": demand.duty, "legal_basis": demand.legal_basis, **changes}
    raise_violations(_demand_violations(merged))
    changed = [k for k, v in changes.items() if getattr(demand, k) != v]
    if not changed:
        return demand
    for k in changed:
        value = changes[k]
        setattr(demand, k, value if value is not None or k == "wanted_items" else "")
    session.flush()
    _demand_event(session, demand, "updated", by, changed=changed, article="Art 10(2)")
    return demand


def _link(
    session: Session,
    demand: CatalogDemand,
    resource: CatalogResource,
    *,
    kind: str,
    note: str | None,
    by: Principal | None,
) -> bool:
    exists = session.scalar(
        select(CatalogDemandMatch.id).where(
            CatalogDemandMatch.demand_id == demand.id, CatalogDemandMatch.resource_id == resource.id
        )
    )
    if exists is not None:
        return False
    session.add(
        CatalogDemandMatch(
            demand_id=demand.id,
            resource_id=resource.id,
            kind=kind,
            note=_clean(note),
            created_at=clock.now(),
            created_by=_actor(by).ref,
        )
    )
    demand.status = "matched"
    session.flush()
    _demand_event(session, demand, "matched", by, resource_id=resource.id, resource_code=resource.code, kind=kind)
    return True


def _demand_for_new_entry(session: Session, demand_id: int, provider: Agency, by: Principal | None) -> CatalogDemand:
    demand = get_demand(session, demand_id)
    if demand.status == "closed":
        raise Conflict("catalog.demand.closed", "共享需求已关闭", "The demand is closed", field="demand_id")
    if by is not None:
        routed = _routed_agency_ids(session, demand.id)
        region_path = registry_service.region_path_of(session, demand.region_code)
        if provider.id not in routed and not by.covers_region(region_path, "authority"):
            raise Forbidden(
                "catalog.demand.not_routed",
                "该共享需求未转交本机关",
                "This demand was not routed to your agency",
                field="demand_id",
                article="Art 9",
            )
    return demand


def _open_demand_managed_by(session: Session, demand_id: int, by: Principal | None) -> CatalogDemand:
    """An open demand that ``by`` (an authority of its region, or the operator) may coordinate (Art 9)."""
    demand = get_demand(session, demand_id)
    if by is not None:
        perm.check_manage_demand(by, registry_service.region_path_of(session, demand.region_code))
    if demand.status == "closed":
        raise Conflict("catalog.demand.closed", "共享需求已关闭", "The demand is closed", field="status")
    return demand


def match_demand(
    session: Session, demand_id: int, resources: Sequence[str], *, note: str | None = None, by: Principal | None = None
) -> CatalogDemand:
    """The authority matches a demand to published catalog entries (Art 9(2))."""
    demand = _open_demand_managed_by(session, demand_id, by)
    found = []
    for ref in resources:
        resource = get_resource(session, ref)
        if resource.status != "published":
            raise Conflict(
                "catalog.demand.match_unpublished",
                f"目录条目 {ref} 尚未发布，不能用于匹配",
                f"Entry {ref} is not published and cannot answer a demand",
                field="resources",
            )
        found.append(resource)
    for resource in found:
        _link(session, demand, resource, kind="matched", note=note, by=by)
    return demand


def route_demand(
    session: Session, demand_id: int, agencies: Sequence[str], *, note: str | None = None, by: Principal | None = None
) -> CatalogDemand:
    """The authority routes a demand to candidate providers, who may catalogue a new entry for it."""
    demand = _open_demand_managed_by(session, demand_id, by)
    targets = [registry_service.get_agency(session, a) for a in agencies]
    added = []
    have = _routed_agency_ids(session, demand.id)
    for agency in targets:
        if agency.id == demand.requester_id:
            raise InvalidInput(
                "catalog.demand.route_to_self",
                "不能把需求转给需求机关自身",
                "A demand cannot be routed to the requester itself",
                field="agencies",
            )
        if agency.id in have:
            continue
        session.add(
            CatalogDemandRoute(
                demand_id=demand.id,
                agency_id=agency.id,
                note=_clean(note),
                created_at=clock.now(),
                created_by=_actor(by).ref,
            )
        )
        have.add(agency.id)
        added.append(agency.code)
    if not added:
        return demand
    if demand.status == "open":
        demand.status = "routed"
    session.flush()
    _demand_event(session, demand, "routed", by, agencies=added)
    return demand


def close_demand(session: Session, demand_id: int, *, reason: str, by: Principal | None = None) -> CatalogDemand:
    demand = get_demand(session, demand_id)
    if by is not None and not perm.is_provider(by, demand.requester_id):
        perm.check_manage_demand(by, registry_service.region_path_of(session, demand.region_code))
    if demand.status == "closed":
        raise Conflict("catalog.demand.closed", "共享需求已关闭", "The demand is closed", field="status")
    demand.close_reason = _require_reason(reason)
    demand.status = "closed"
    demand.closed_at = clock.now()
    session.flush()
    _demand_event(session, demand, "closed", by, reason=demand.close_reason)
    return demand


@dataclasses.dataclass
class DemandFilter:
    status: str | None = None
    #: Only demands not yet answered by a resource (open or routed).
    unmatched: bool = False
    requester: str | None = None
    #: Only demands routed to the viewer's agencies.
    routed_to_me: bool = False
    offset: int = 0
    limit: int = 50


def list_demands(session: Session, f: DemandFilter, *, viewer: Principal | None) -> tuple[list[CatalogDemand], int]:
    stmt = select(CatalogDemand)
    if viewer is not None:
        own = sorted(perm.provider_agency_ids(viewer))
        conds = []
        if own:
            conds.append(CatalogDemand.requester_id.in_(own))
            conds.append(
                CatalogDemand.id.in_(select(CatalogDemandRoute.demand_id).where(CatalogDemandRoute.agency_id.in_(own)))
            )
        for path in viewer.region_paths("authority", "supervisor"):
            conds.append(
                CatalogDemand.region_code.in_(
                    select(Region.code).where(or_(Region.path == path, Region.path.like(path + "/%")))
                )
            )
        if not conds:
            return [], 0
        stmt = stmt.where(or_(*conds))
        if f.routed_to_me:
            stmt = stmt.where(
                CatalogDemand.id.in_(select(CatalogDemandRoute.demand_id).where(CatalogDemandRoute.agency_id.in_(own)))
            )
    if f.status:
        stmt = stmt.where(CatalogDemand.status == f.status)
    if f.unmatched:
        stmt = stmt.where(CatalogDemand.status.in_(("open", "routed")))
    if f.requester:
        stmt = stmt.where(CatalogDemand.requester_id == registry_service.get_agency(session, f.requester).id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        session.scalars(
            stmt.options(joinedload(CatalogDemand.requester))
            .order_by(CatalogDemand.created_at, CatalogDemand.id)
            .offset(f.offset)
            .limit(f.limit)
        ).unique()
    )
    return rows, total


def demand_read(session: Session, demand: CatalogDemand) -> DemandRead:
    matches = [
        DemandMatchRead(
            resource=ResourceRef(id=r.id, code=r.code, name=r.name, status=r.status),
            kind=m.kind,
            note=m.note,
            created_at=m.created_at,
        )
        for m, r in session.execute(
            select(CatalogDemandMatch, CatalogResource)
            .join(CatalogResource, CatalogResource.id == CatalogDemandMatch.resource_id)
            .where(CatalogDemandMatch.demand_id == demand.id)
            .order_by(CatalogDemandMatch.id)
        )
    ]
    routes = [
        DemandRouteRead(agency=AgencyRef(id=a.id, code=a.code, name=a.name), note=rt.note, created_at=rt.created_at)
        for rt, a in session.execute(
            select(CatalogDemandRoute, Agency)
            .join(Agency, Agency.id == CatalogDemandRoute.agency_id)
            .where(CatalogDemandRoute.demand_id == demand.id)
            .order_by(CatalogDemandRoute.id)
        )
    ]
    r = demand.requester
    return DemandRead(
        id=demand.id,
        requester=AgencyRef(id=r.id, code=r.code, name=r.name),
        region_code=demand.region_code,
        title=demand.title,
        description=demand.description,
        duty=demand.duty,
        legal_basis=demand.legal_basis,
        wanted_items=demand.wanted_items,
        status=demand.status,
        status_label=rules.label(rules.DEMAND_STATUSES, demand.status),
        close_reason=demand.close_reason,
        closed_at=demand.closed_at,
        created_at=demand.created_at,
        updated_at=demand.updated_at,
        matches=matches,
        routes=routes,
    )
