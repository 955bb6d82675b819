"""Service guide API: ``/api/v1/guide`` (public reads; the authority keeps it, Art 20)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from govshare.catalog.schemas import Sector
from govshare.core.auth import Anyone, Authority
from govshare.core.db import SessionDep
from govshare.guide import service
from govshare.guide.schemas import Channel, Reason, ServiceCreate, ServicePage, ServiceRead, ServiceUpdate

router = APIRouter(prefix="/api/v1/guide", tags=["service guide"])

ServiceId = Annotated[int, Path(ge=1, le=2**31 - 1, description="服务编号 / service id", examples=[1])]


@router.get("", response_model=ServicePage, summary="服务指引目录 / The service guide (Art 20-27)")
def list_services(
    session: SessionDep,
    viewer: Anyone,
    sector: Sector | None = None,
    channel: Channel | None = None,
    agency: Annotated[str | None, Query(max_length=64, description="服务机关代号")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$", description="行政区划（含下级）")] = None,
    q: Annotated[str | None, Query(max_length=200, description="关键词")] = None,
    include_inactive: Annotated[bool, Query(description="包括已停用的服务")] = False,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ServicePage:
    rows, total, facets = service.list_services(
        session,
        service.ServiceFilter(
            sector=sector,
            channel=channel,
            agency=agency,
            region=region,
            q=q,
            include_inactive=include_inactive,
            offset=offset,
            limit=limit,
        ),
    )
    return ServicePage(
        items=service.read_models(session, rows, viewer), total=total, offset=offset, limit=limit, facets=facets
    )


@router.get("/{service_id}", response_model=ServiceRead, summary="一项服务 / One service")
def get_service(service_id: ServiceId, session: SessionDep, viewer: Anyone) -> ServiceRead:
    return service.read_model(session, service.get_service(session, service_id), viewer)


@router.post("", response_model=ServiceRead, status_code=status.HTTP_201_CREATED, summary="登记服务 / Add a service")
def create_service(data: ServiceCreate, session: SessionDep, by: Authority) -> ServiceRead:
    return service.read_model(session, service.create_service(session, data, by=by), by)


@router.patch("/{service_id}", response_model=ServiceRead, summary="修改服务 / Change a service")
def update_service(service_id: ServiceId, data: ServiceUpdate, session: SessionDep, by: Authority) -> ServiceRead:
    return service.read_model(session, service.update_service(session, service_id, data, by=by), by)


@router.post("/{service_id}/deactivate", response_model=ServiceRead, summary="停用服务 / Deactivate a service")
def deactivate_service(service_id: ServiceId, data: Reason, session: SessionDep, by: Authority) -> ServiceRead:
    return service.read_model(session, service.deactivate_service(session, service_id, reason=data.reason, by=by), by)


@router.post("/{service_id}/activate", response_model=ServiceRead, summary="恢复服务 / Reactivate a service")
def activate_service(service_id: ServiceId, session: SessionDep, by: Authority) -> ServiceRead:
    return service.read_model(session, service.activate_service(session, service_id, by=by), by)
