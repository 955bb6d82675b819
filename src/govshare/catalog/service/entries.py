"""Catalog entries (Art 9-10): drafting, editing, the lifecycle from draft to published and
withdrawn, the authority's review queue, reindexing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from govshare.catalog import permissions as perm
from govshare.catalog import rules
from govshare.catalog.models import (
    CatalogCodeCounter,
    CatalogResource,
    CatalogResourceVersion,
)
from govshare.catalog.presentation import CONTENT_FIELDS, FIELD_LABELS
from govshare.catalog.schemas import (
    ResourceCreate,
    ResourceUpdate,
)
from govshare.catalog.service._common import (
    _add_version,
    _apply,
    _bad_status,
    _changed_fields,
    _check_name_free,
    _clean,
    _event,
    _provider_for,
    _region_path,
    _require_reason,
    _resolve_related,
    bump_search_generation,
    flush_name,
    get_resource,
    normalise,
    pending_version,
    raise_violations,
    refresh_search_text,
    snapshot_of,
    violations_of,
)
from govshare.catalog.service.demands import _demand_for_new_entry, _link
from govshare.catalog.service.hooks import items_registered
from govshare.core import clock, events
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, InvalidInput
from govshare.core.events import SYSTEM
from govshare.registry import service as registry_service

# --- Create and edit ----------------------------------------------------------------------------


def create_resource(
    session: Session, data: ResourceCreate, *, by: Principal, source: Mapping[str, Any] | None = None
) -> CatalogResource:
    """Register a draft entry for the providing agency (Art 9(1))."""
    provider = _provider_for(session, data.provider, by)
    perm.check_provider(by, provider.id)
    if not provider.active:
        raise Conflict(
            "catalog.provider.inactive", f"{provider.name} 已停用", f"{provider.code} is inactive", field="provider"
        )
    content = normalise(data.model_dump(exclude={"provider", "fee", "note", "demand_id", "related"}))
    content["related"] = _resolve_related(session, data.related, self_id=None)
    raise_violations(violations_of(content, data.fee))
    _check_name_free(session, provider.id, content["name"], None)
    demand = _demand_for_new_entry(session, data.demand_id, provider, by) if data.demand_id else None

    resource = CatalogResource(
        status="draft",
        provider_id=provider.id,
        region_code=provider.region_code,
        version_number=1,
        created_by=by.actor.ref,
        **{f: content.get(f) for f in CONTENT_FIELDS if f != "abstract"},
        abstract=content.get("abstract") or "",
        data_items=[],
        sectors=[],
        relations=[],
    )
    resource.provider = provider
    session.add(resource)
    flush_name(session, resource.name)
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
    items_registered(session, resource, snapshot_of(resource)["data_items"], trigger="created", version=1, by=by)
    return resource


def update_resource(session: Session, ref: str | int, data: ResourceUpdate, *, by: Principal) -> CatalogResource:
    """Edit an entry. Drafts (and submissions, which go back to draft) change at once; a change to
    a published entry is filed as a pending revision for the authority (Art 10(2))."""
    resource = get_resource(session, ref, for_update=True)
    perm.check_provider(by, resource.provider_id)
    if resource.status == "withdrawn":
        raise _bad_status(resource, "修改", "change it")
    sent = data.model_dump(exclude_unset=True)
    fee = sent.pop("fee", None)
    note = sent.pop("note", None)
    pending = pending_version(session, resource) if resource.status == "published" else None
    current = snapshot_of(resource)
    base = dict(pending.snapshot) if pending is not None else current
    changes = normalise({k: v for k, v in sent.items() if k != "related"})
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
        if "data_items" in changed:
            items_registered(
                session, resource, merged.get("data_items") or [], trigger="revision", version=version.number, by=by
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
    if "data_items" in changed:
        items_registered(
            session, resource, snapshot_of(resource)["data_items"], trigger="updated", version=version.number, by=by
        )
    return resource


# --- Lifecycle ----------------------------------------------------------------------------------


def submit(session: Session, ref: str | int, *, by: Principal, note: str | None = None) -> CatalogResource:
    """The provider submits a draft to the authority for publication (Art 9)."""
    resource = get_resource(session, ref, for_update=True)
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


def publish(session: Session, ref: str | int, *, by: Principal, note: str | None = None) -> CatalogResource:
    """The authority of the provider's region (or above) publishes a submitted entry (Art 9(2)).
    The first publication assigns the resource code and the publish date (Art 10(1))."""
    resource = get_resource(session, ref, for_update=True)
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
        actor = by.actor
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


def reject(session: Session, ref: str | int, *, reason: str, by: Principal) -> CatalogResource:
    """The authority sends a submission back to the provider as a draft, with its reason."""
    resource = get_resource(session, ref, for_update=True)
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


def withdraw(session: Session, ref: str | int, *, reason: str, by: Principal) -> CatalogResource:
    """Withdraw an entry: the authority may withdraw any entry in its region; the provider may
    discard its own entry that was never published."""
    resource = get_resource(session, ref, for_update=True)
    region_path = _region_path(session, resource)
    own_unpublished = perm.is_provider(by, resource.provider_id) and resource.status in ("draft", "submitted")
    if not own_unpublished:
        perm.check_authority(by, region_path)
    if not rules.can_transition("withdraw", resource.status):
        raise _bad_status(resource, "撤销", "withdraw it")
    reason = _require_reason(reason)
    pending = pending_version(session, resource)
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
    in_scope = registry_service.in_scope_of(CatalogResource.region_code, by, "authority")
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
