"""Catalog API: ``/api/v1/catalog`` (entries, search, review) and ``/api/v1/catalog/demands``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from govshare.catalog import search as catalog_search
from govshare.catalog import service
from govshare.catalog.permissions import AuthorityOrProvider, Provider
from govshare.catalog.schemas import (
    Classification,
    DemandCreate,
    DemandMatchIn,
    DemandPage,
    DemandRead,
    DemandRouteIn,
    DemandUpdate,
    FacetValueRead,
    Format,
    Reason,
    ResourceCreate,
    ResourcePage,
    ResourceRead,
    ResourceUpdate,
    ReviewNote,
    ReviewQueue,
    Sector,
    ShareType,
    Status,
    VersionDetail,
    VersionDiff,
    VersionRead,
)
from govshare.core.auth import Anyone, Authority, SignedIn
from govshare.core.db import SessionDep

demands = APIRouter(prefix="/api/v1/catalog/demands", tags=["catalog demands"])
entries = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])


# --- Demands (Art 9) ----------------------------------------------------------------------------


@demands.post(
    "", response_model=DemandRead, status_code=status.HTTP_201_CREATED, summary="提出共享需求 / File a demand"
)
def file_demand(data: DemandCreate, session: SessionDep, by: Provider) -> DemandRead:
    return service.demand_read(session, service.file_demand(session, data, by=by))


@demands.get("", response_model=DemandPage, summary="共享需求 / Demands")
def list_demands(
    session: SessionDep,
    by: SignedIn,
    status_: Annotated[str | None, Query(alias="status", pattern="^(open|routed|matched|closed)$")] = None,
    unmatched: Annotated[bool, Query(description="仅未匹配 (open or routed)")] = False,
    requester: Annotated[str | None, Query(max_length=64)] = None,
    routed_to_me: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DemandPage:
    rows, total = service.list_demands(
        session,
        service.DemandFilter(
            status=status_,
            unmatched=unmatched,
            requester=requester,
            routed_to_me=routed_to_me,
            offset=offset,
            limit=limit,
        ),
        viewer=by,
    )
    return DemandPage(items=[service.demand_read(session, d) for d in rows], total=total, offset=offset, limit=limit)


@demands.get("/{demand_id}", response_model=DemandRead)
def get_demand(demand_id: int, session: SessionDep, by: SignedIn) -> DemandRead:
    return service.demand_read(session, service.get_visible_demand(session, demand_id, by))


@demands.patch("/{demand_id}", response_model=DemandRead)
def update_demand(demand_id: int, data: DemandUpdate, session: SessionDep, by: Provider) -> DemandRead:
    return service.demand_read(session, service.update_demand(session, demand_id, data, by=by))


@demands.post("/{demand_id}/match", response_model=DemandRead, summary="匹配目录资源 / Match to entries")
def match_demand(demand_id: int, data: DemandMatchIn, session: SessionDep, by: Authority) -> DemandRead:
    return service.demand_read(session, service.match_demand(session, demand_id, data.resources, note=data.note, by=by))


@demands.post("/{demand_id}/route", response_model=DemandRead, summary="转交候选提供单位 / Route to providers")
def route_demand(demand_id: int, data: DemandRouteIn, session: SessionDep, by: Authority) -> DemandRead:
    return service.demand_read(session, service.route_demand(session, demand_id, data.agencies, note=data.note, by=by))


@demands.post("/{demand_id}/close", response_model=DemandRead)
def close_demand(demand_id: int, data: Reason, session: SessionDep, by: AuthorityOrProvider) -> DemandRead:
    return service.demand_read(session, service.close_demand(session, demand_id, reason=data.reason, by=by))


# --- Entries ------------------------------------------------------------------------------------


@entries.get("", response_model=ResourcePage, summary="目录检索 / Search the catalog")
def search_catalog(
    session: SessionDep,
    viewer: Anyone,
    q: Annotated[str | None, Query(max_length=200, description="关键词（中文自动分词）")] = None,
    classification: Classification | None = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    provider: Annotated[str | None, Query(max_length=64, description="提供单位代号")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$", description="行政区划（含下级）")] = None,
    format: Format | None = None,
    share_type: ShareType | None = None,
    sector: Sector | None = None,
    status_: Annotated[Status | None, Query(alias="status", description="默认仅已发布")] = None,
    mine: Annotated[bool, Query(description="仅本机关的条目（任意状态）")] = False,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ResourcePage:
    params = catalog_search.SearchParams(
        q=q,
        classification=classification,
        category=category,
        provider=provider,
        region=region,
        format=format,
        share_type=share_type,
        sector=sector,
        status=status_,
        mine=mine,
        offset=offset,
        limit=limit,
    )
    result = catalog_search.search(session, params, viewer=viewer)
    return ResourcePage(
        items=[service.summary(r) for r in result.items],
        total=result.total,
        offset=offset,
        limit=limit,
        tokens=result.tokens,
        facets={
            k: [FacetValueRead(value=v.value, label=v.label, label_en=v.label_en, count=v.count) for v in vals]
            for k, vals in result.facets.items()
        },
    )


@entries.post(
    "", response_model=ResourceRead, status_code=status.HTTP_201_CREATED, summary="编目 / Create a draft entry"
)
def create_entry(data: ResourceCreate, session: SessionDep, by: Provider) -> ResourceRead:
    resource = service.create_resource(session, data, by=by)
    return service.read_model(session, service.get_resource(session, resource.id), by)


@entries.get("/review-queue", response_model=ReviewQueue, summary="待审核 / Authority review queue")
def review_queue(session: SessionDep, by: Authority) -> ReviewQueue:
    submitted, revisions = service.review_queue(session, by=by)
    return ReviewQueue(
        submitted=[service.summary(r) for r in submitted], pending_revisions=[service.summary(r) for r in revisions]
    )


@entries.get("/{ref}", response_model=ResourceRead, summary="目录条目 / One entry (id or resource code)")
def get_entry(ref: str, session: SessionDep, viewer: Anyone) -> ResourceRead:
    return service.read_model(session, service.get_visible(session, ref, viewer), viewer)


@entries.patch("/{ref}", response_model=ResourceRead, summary="修改（已发布条目形成待审核修订）/ Edit")
def update_entry(ref: str, data: ResourceUpdate, session: SessionDep, by: Provider) -> ResourceRead:
    resource = service.update_resource(session, ref, data, by=by)
    return service.read_model(session, resource, by)


@entries.post("/{ref}/submit", response_model=ResourceRead, summary="提交发布 / Submit for publication")
def submit_entry(ref: str, session: SessionDep, by: Provider, data: ReviewNote | None = None) -> ResourceRead:
    resource = service.submit(session, ref, by=by, note=data.note if data else None)
    return service.read_model(session, resource, by)


@entries.post("/{ref}/publish", response_model=ResourceRead, summary="发布 / Publish")
def publish_entry(ref: str, session: SessionDep, by: Authority, data: ReviewNote | None = None) -> ResourceRead:
    resource = service.publish(session, ref, by=by, note=data.note if data else None)
    return service.read_model(session, resource, by)


@entries.post("/{ref}/reject", response_model=ResourceRead, summary="退回 / Send back to the provider")
def reject_entry(ref: str, data: Reason, session: SessionDep, by: Authority) -> ResourceRead:
    return service.read_model(session, service.reject(session, ref, reason=data.reason, by=by), by)


@entries.post("/{ref}/revision/approve", response_model=ResourceRead, summary="批准修订 / Approve the revision")
def approve_revision(ref: str, session: SessionDep, by: Authority, data: ReviewNote | None = None) -> ResourceRead:
    resource = service.approve_revision(session, ref, by=by, note=data.note if data else None)
    return service.read_model(session, resource, by)


@entries.post("/{ref}/revision/reject", response_model=ResourceRead, summary="退回修订 / Reject the revision")
def reject_revision(ref: str, data: Reason, session: SessionDep, by: Authority) -> ResourceRead:
    return service.read_model(session, service.reject_revision(session, ref, reason=data.reason, by=by), by)


@entries.post("/{ref}/withdraw", response_model=ResourceRead, summary="撤销 / Withdraw")
def withdraw_entry(ref: str, data: Reason, session: SessionDep, by: AuthorityOrProvider) -> ResourceRead:
    return service.read_model(session, service.withdraw(session, ref, reason=data.reason, by=by), by)


@entries.get("/{ref}/versions", response_model=list[VersionRead], summary="版本历史 / Versions")
def list_versions(ref: str, session: SessionDep, viewer: Anyone) -> list[VersionRead]:
    return [VersionRead.model_validate(v) for v in service.list_versions(session, ref, viewer=viewer)]


@entries.get("/{ref}/versions/{number}", response_model=VersionDetail)
def get_version(ref: str, number: int, session: SessionDep, viewer: Anyone) -> VersionDetail:
    return VersionDetail.model_validate(service.get_version(session, ref, number, viewer=viewer))


@entries.get("/{ref}/diff", response_model=VersionDiff, summary="版本比较 / Readable diff between versions")
def diff_versions(
    ref: str,
    session: SessionDep,
    viewer: Anyone,
    from_: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to: Annotated[int | None, Query(ge=1)] = None,
) -> VersionDiff:
    return service.diff(session, ref, viewer=viewer, from_number=from_, to_number=to)


router = APIRouter()
router.include_router(demands)
router.include_router(entries)
