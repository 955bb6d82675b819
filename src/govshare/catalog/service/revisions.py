"""Versions of an entry and revisions of a published one (Art 10(2)): the authority approves or
rejects a pending revision; anyone who may see an entry may compare its versions."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog import permissions as perm
from govshare.catalog.models import (
    CatalogResource,
    CatalogResourceVersion,
)
from govshare.catalog.presentation import (
    diff_snapshots,
    diff_text,
)
from govshare.catalog.schemas import (
    VersionDiff,
)
from govshare.catalog.service._common import (
    _apply,
    _changed_fields,
    _clean,
    _event,
    _region_path,
    _require_reason,
    get_resource,
    get_visible,
    pending_version,
    snapshot_of,
)
from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, NotFound


def _revision_under_review(
    session: Session, ref: str | int, by: Principal
) -> tuple[CatalogResource, CatalogResourceVersion]:
    """A published entry with a pending revision, locked, that ``by`` may review (Art 10(2))."""
    resource = get_resource(session, ref, for_update=True)
    perm.check_authority(by, _region_path(session, resource))
    pending = pending_version(session, resource)
    if resource.status != "published" or pending is None:
        raise Conflict(
            "catalog.revision.none_pending",
            "该条目没有待审核的修订",
            "This entry has no pending revision",
            field="revision",
        )
    return resource, pending


def approve_revision(session: Session, ref: str | int, *, by: Principal, note: str | None = None) -> CatalogResource:
    """The authority approves the pending revision: it becomes the published content (Art 10(2))."""
    resource, pending = _revision_under_review(session, ref, by)
    before = snapshot_of(resource)
    content = dict(pending.snapshot)
    content["related"] = [rid for rid in content.get("related") or [] if session.get(CatalogResource, rid) is not None]
    _apply(session, resource, content)
    now = clock.now()
    actor = by.actor
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


def reject_revision(session: Session, ref: str | int, *, reason: str, by: Principal) -> CatalogResource:
    """The authority rejects the pending revision; the published content stays as it is."""
    resource, pending = _revision_under_review(session, ref, by)
    reason = _require_reason(reason)
    actor = by.actor
    pending.review_state = "rejected"
    pending.reviewed_at, pending.reviewed_by, pending.review_note = clock.now(), actor.ref, reason
    resource.pending_version_number = None
    session.flush()
    _event(session, resource, "revision_rejected", by, version=pending.number, reason=reason)
    return resource


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
