"""Read models: an entry and a demand as the API and the pages show them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog import permissions as perm
from govshare.catalog import rules
from govshare.catalog.models import (
    CatalogDemand,
    CatalogDemandMatch,
    CatalogDemandRoute,
    CatalogResource,
)
from govshare.catalog.presentation import labels_of
from govshare.catalog.schemas import (
    AgencyRef,
    DataItemRead,
    DemandMatchRead,
    DemandRead,
    DemandRouteRead,
    PendingRevision,
    ResourceRead,
    ResourceRef,
    ResourceSummary,
)
from govshare.catalog.service._common import (
    _region_path,
    pending_version,
)
from govshare.core.auth import Principal
from govshare.registry.models import Agency

# --- Read models --------------------------------------------------------------------------------


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
        labels=labels_of(resource, "zh"),
    )


def read_model(session: Session, resource: CatalogResource, viewer: Principal | None) -> ResourceRead:
    related = []
    if resource.relations:
        # Relations point only at entries the viewer could open themselves.
        rows = session.execute(
            select(CatalogResource.id, CatalogResource.code, CatalogResource.name, CatalogResource.status)
            .where(CatalogResource.id.in_(resource.related_ids), perm.visible_condition(viewer))
            .order_by(CatalogResource.id)
        ).all()
        related = [ResourceRef(id=rid, code=code, name=name, status=status) for rid, code, name, status in rows]
    pending = None
    if (
        resource.pending_version_number is not None
        and viewer is not None
        and perm.can_view_history(viewer, provider_id=resource.provider_id, region_path=_region_path(session, resource))
    ):
        v = pending_version(session, resource)
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
        labels_en=labels_of(resource, "en"),
    )


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
