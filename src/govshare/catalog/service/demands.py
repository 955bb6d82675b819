"""Sharing demands (Art 9): agencies file what they need for which duty; the authority matches
them to published entries or routes them to candidate providers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import permissions as perm
from govshare.catalog import rules
from govshare.catalog.models import (
    CatalogDemand,
    CatalogDemandMatch,
    CatalogDemandRoute,
    CatalogResource,
)
from govshare.catalog.schemas import (
    DemandCreate,
    DemandUpdate,
)
from govshare.catalog.service._common import (
    _clean,
    _provider_for,
    _require_reason,
    get_resource,
    raise_violations,
)
from govshare.core import clock, events
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from govshare.core.paging import paginate
from govshare.registry import service as registry_service
from govshare.registry.models import Agency

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


def _demand_event(session: Session, demand: CatalogDemand, action: str, by: Principal, **data: Any) -> None:
    events.record(
        session,
        actor=by.actor,
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


def file_demand(session: Session, data: DemandCreate, *, by: Principal) -> CatalogDemand:
    """An agency files a sharing demand: what it needs, for which duty, on what basis (Art 9(1))."""
    requester = _provider_for(session, data.requester, by, field="requester")
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
        created_by=by.actor.ref,
    )
    demand.requester = requester
    session.add(demand)
    session.flush()
    _demand_event(session, demand, "filed", by)
    return demand


def update_demand(session: Session, demand_id: int, data: DemandUpdate, *, by: Principal) -> CatalogDemand:
    """Art 10(2): a change of demand is reported as well; the requester edits an open demand."""
    demand = get_demand(session, demand_id)
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
    by: Principal,
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
            created_by=by.actor.ref,
        )
    )
    demand.status = "matched"
    session.flush()
    _demand_event(session, demand, "matched", by, resource_id=resource.id, resource_code=resource.code, kind=kind)
    return True


def _demand_for_new_entry(session: Session, demand_id: int, provider: Agency, by: Principal) -> CatalogDemand:
    demand = get_demand(session, demand_id)
    if demand.status == "closed":
        raise Conflict("catalog.demand.closed", "共享需求已关闭", "The demand is closed", field="demand_id")
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


def _open_demand_managed_by(session: Session, demand_id: int, by: Principal) -> CatalogDemand:
    """An open demand that ``by`` (an authority of its region, or the operator) may coordinate (Art 9)."""
    demand = get_demand(session, demand_id)
    perm.check_manage_demand(by, registry_service.region_path_of(session, demand.region_code))
    if demand.status == "closed":
        raise Conflict("catalog.demand.closed", "共享需求已关闭", "The demand is closed", field="status")
    return demand


def match_demand(
    session: Session, demand_id: int, resources: Sequence[str], *, note: str | None = None, by: Principal
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
    session: Session, demand_id: int, agencies: Sequence[str], *, note: str | None = None, by: Principal
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
                created_by=by.actor.ref,
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


def close_demand(session: Session, demand_id: int, *, reason: str, by: Principal) -> CatalogDemand:
    demand = get_demand(session, demand_id)
    if not perm.is_provider(by, demand.requester_id):
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
        overseen = viewer.region_paths(*perm.OVERSEERS)
        if overseen:
            conds.append(registry_service.in_subtrees(CatalogDemand.region_code, overseen))
        if viewer.is_system:
            conds.append(true())
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
    page = paginate(
        session,
        stmt.options(joinedload(CatalogDemand.requester)).order_by(CatalogDemand.created_at, CatalogDemand.id),
        offset=f.offset,
        limit=f.limit,
        unique=True,
    )
    return list(page.rows), page.total
