"""Exchange API: ``/api/v1/exchange`` — provider interfaces, hosted dataset versions, filings.

Consumers do not read data here: they call the gateway (``/exchange/v1/...``), which enforces
their grants. These routes are the providers' and the authorities' management side.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.db import SessionDep
from govshare.core.errors import InvalidInput
from govshare.exchange import query, service, upload
from govshare.exchange.config import get_exchange_settings
from govshare.exchange.datasets import StagedVersion
from govshare.exchange.permissions import InterfaceManager, Overseer, Provider, Reader
from govshare.exchange.schemas import (
    FilingCreate,
    FilingEnd,
    FilingPage,
    FilingRead,
    InterfaceCreate,
    InterfaceKind,
    InterfacePage,
    InterfaceRead,
    InterfaceUpdate,
    OpenApiDocument,
    OverduePage,
    OverdueRead,
    PreviewIn,
    PreviewRead,
    ReportCreate,
    ReportRead,
    SubjectLookupIn,
    SubjectUsageRead,
    UsageRead,
    UsageRowRead,
    VersionPage,
    VersionRead,
)

router = APIRouter(prefix="/api/v1/exchange", tags=["exchange"])

#: Dataset uploads are larger than the platform's request-body cap: they stream to disk under
#: their own, ``max_upload_bytes`` (``core.http.BodyLimit``; ``upload.receive`` enforces it too).
LARGE_BODIES = (
    (
        "POST",
        re.compile(r"/api/v1/exchange/resources/[^/]+/versions"),
        lambda: get_exchange_settings().max_upload_bytes + upload.MULTIPART_SLACK,
    ),
    # The same upload from the portal's form (exchange.console.provider).
    (
        "POST",
        re.compile(r"/exchange/resources/[^/]+/versions"),
        lambda: get_exchange_settings().max_upload_bytes + upload.MULTIPART_SLACK,
    ),
)

ResourceRefPath = Annotated[str, Path(max_length=64, description="资源代码或编号", examples=["101-000001"])]
Offset = Annotated[int, Query(ge=0, le=10**9)]
Limit = Annotated[int, Query(ge=1, le=200)]


# --- Interfaces (Art 15) --------------------------------------------------------------------------


@router.get("/interfaces", response_model=InterfacePage, summary="接口列表 / Provider interfaces")
def list_interfaces(
    session: SessionDep,
    by: Reader,
    kind: InterfaceKind | None = None,
    provider: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = True,
    offset: Offset = 0,
    limit: Limit = 50,
) -> InterfacePage:
    page = service.list_interfaces(
        session, viewer=by, kind=kind, provider=provider, active=active, offset=offset, limit=limit
    )
    return InterfacePage(
        items=service.interface_reads(session, page.rows), total=page.total, offset=offset, limit=limit
    )


@router.get("/resources/{ref}/interface", response_model=InterfaceRead, summary="资源的接口 / An entry's interface")
def get_interface(ref: ResourceRefPath, session: SessionDep, by: Reader) -> InterfaceRead:
    return service.interface_read(session, service.read_interface(session, ref, viewer=by))


@router.get(
    "/resources/{ref}/interface/openapi",
    response_model=OpenApiDocument,
    summary="接口的 OpenAPI 描述 / The interface's OpenAPI description",
)
def get_openapi(ref: ResourceRefPath, session: SessionDep, by: Reader) -> OpenApiDocument:
    interface = service.read_interface(session, ref, viewer=by)
    if interface.openapi_document is None:
        raise InvalidInput(
            "exchange.interface.no_openapi",
            "该接口没有 OpenAPI 描述",
            "The interface has no OpenAPI description",
            field="openapi",
            status=404,
        )
    return OpenApiDocument(document=interface.openapi_document)


@router.post(
    "/resources/{ref}/interface",
    response_model=InterfaceRead,
    status_code=status.HTTP_201_CREATED,
    summary="接入接口 / Attach an interface (Art 15)",
)
def attach_interface(
    ref: ResourceRefPath, data: InterfaceCreate, session: SessionDep, by: InterfaceManager
) -> InterfaceRead:
    return service.interface_read(session, service.attach_interface(session, ref, data, by=by))


@router.patch("/resources/{ref}/interface", response_model=InterfaceRead, summary="修改接口 / Change the interface")
def update_interface(
    ref: ResourceRefPath, data: InterfaceUpdate, session: SessionDep, by: InterfaceManager
) -> InterfaceRead:
    return service.interface_read(session, service.update_interface(session, ref, data, by=by))


@router.delete("/resources/{ref}/interface", response_model=InterfaceRead, summary="解除接口 / Detach the interface")
def detach_interface(ref: ResourceRefPath, session: SessionDep, by: InterfaceManager) -> InterfaceRead:
    return service.interface_read(session, service.detach_interface(session, ref, by=by))


# --- Dataset versions -----------------------------------------------------------------------------


def _parse_changed_at(text: str | None) -> dt.datetime | None:
    if text is None or not text.strip():
        return None
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            "exchange.dataset.changed_at_invalid",
            "数据变更时间格式应为 ISO 8601（如 2026-11-01T09:00:00+08:00）",
            "the data change time must be ISO 8601 (e.g. 2026-11-01T09:00:00+08:00)",
            field="changed_at",
        ) from None


@router.post(
    "/resources/{ref}/versions",
    response_model=VersionRead,
    status_code=status.HTTP_201_CREATED,
    summary="上传数据集版本 / Upload a dataset version",
    openapi_extra={"requestBody": upload.OPENAPI_BODY},
)
async def upload_version(ref: ResourceRefPath, request: Request, session: SessionDep, by: Provider) -> VersionRead:
    """A new version of the entry's hosted dataset (multipart: ``file``, optional ``changed_at``,
    ``note``, ``format``). Validated against the entry's data items; a bad file is refused with the
    rows and columns at fault, and nothing is stored."""
    plan = await run_in_threadpool(service.prepare_upload, session, ref, by=by)
    # The slow part (receiving and validating) holds no transaction: on SQLite an open one would
    # hold the database's write lock all along. The checks run again when the version is accepted.
    await run_in_threadpool(session.rollback)
    received = await upload.receive(request)
    try:
        fields = received.fields
        changed_at = _parse_changed_at(fields.get("changed_at"))
        staged = await run_in_threadpool(
            service.stage_upload,
            plan,
            received.path,
            filename=received.filename,
            fmt=fields.get("format") or None,
            source_bytes=received.bytes,
            source_sha256=received.sha256,
        )
        try:
            return await run_in_threadpool(_accept, session, plan, staged, by, changed_at, fields.get("note"))
        finally:
            staged.path.unlink(missing_ok=True)  # accepted: already moved into place
    finally:
        received.path.unlink(missing_ok=True)


def _accept(
    session: Session,
    plan: service.UploadPlan,
    staged: StagedVersion,
    by: Principal,
    changed_at: dt.datetime | None,
    note: str | None,
) -> VersionRead:
    version = service.accept_version(session, plan, staged, by=by, changed_at=changed_at, note=note)
    return service.version_read(service.get_interface(session, plan.resource_id), version)


@router.get("/resources/{ref}/versions", response_model=VersionPage, summary="数据集版本 / Dataset versions")
def list_versions(
    ref: ResourceRefPath, session: SessionDep, by: Reader, offset: Offset = 0, limit: Limit = 50
) -> VersionPage:
    interface, page = service.list_versions(session, ref, viewer=by, offset=offset, limit=limit)
    return VersionPage(
        items=[service.version_read(interface, v) for v in page.rows], total=page.total, offset=offset, limit=limit
    )


@router.get("/resources/{ref}/versions/{number}", response_model=VersionRead, summary="一个版本 / One version")
def get_version(
    ref: ResourceRefPath, number: Annotated[int, Path(ge=1, le=10**9)], session: SessionDep, by: Reader
) -> VersionRead:
    interface, version = service.get_version(session, ref, number, viewer=by)
    return service.version_read(interface, version)


@router.post(
    "/resources/{ref}/preview",
    response_model=PreviewRead,
    summary="提供方预览本单位数据 / The provider previews its own data",
)
def preview(ref: ResourceRefPath, data: PreviewIn, session: SessionDep, by: Provider) -> PreviewRead:
    page = service.preview(
        session,
        ref,
        by=by,
        items=data.items,
        offset=data.offset,
        limit=data.limit,
        version=data.version,
        filters=[query.Filter(f.item, f.op, f.value) for f in data.filters],
    )
    return PreviewRead(
        version=page.version, items=page.rows, total=page.total or 0, offset=page.offset, limit=page.limit
    )


# --- Off-platform filings (Art 14(3)) -------------------------------------------------------------


@router.post(
    "/filings",
    response_model=FilingRead,
    status_code=status.HTTP_201_CREATED,
    summary="平台外共享备案 / File off-platform sharing (Art 14(3))",
)
def file_filing(data: FilingCreate, session: SessionDep, by: Provider) -> FilingRead:
    return service.filing_reads(session, [service.file_filing(session, data, by=by)])[0]


@router.get("/filings", response_model=FilingPage, summary="备案列表 / Filings")
def list_filings(
    session: SessionDep,
    by: Reader,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[str | None, Query(pattern="^(active|ended)$")] = None,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> FilingPage:
    page = service.list_filings(
        session, viewer=by, agency=agency, state=state, region=region, offset=offset, limit=limit
    )
    return FilingPage(items=service.filing_reads(session, page.rows), total=page.total, offset=offset, limit=limit)


@router.get("/filings/overdue", response_model=OverduePage, summary="逾期未报送的统计 / Overdue reports")
def overdue(
    session: SessionDep,
    by: Reader,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
) -> OverduePage:
    owed = service.overdue_reports(session, viewer=by, region=region, agency=agency)
    return OverduePage(
        items=[
            OverdueRead(
                filing_id=o.filing.id,
                agency=o.filing.agency.code,
                agency_name=o.filing.agency.name,
                region_code=o.filing.region_code,
                subject=service.subject_of(o.filing),
                report_period=o.filing.report_period,
                period_start=o.period_start,  # type: ignore[arg-type]
                period_end=o.period_end,
                due_on=o.due_on,
                provisional=o.provisional,
            )
            for o in owed
        ],
        total=len(owed),
        as_of=clock.today(),
    )


@router.get("/filings/{filing_id}", response_model=FilingRead, summary="一项备案 / One filing")
def get_filing(filing_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, by: Reader) -> FilingRead:
    return service.filing_reads(session, [service.get_filing(session, filing_id, viewer=by)])[0]


@router.post("/filings/{filing_id}/end", response_model=FilingRead, summary="终止备案 / End the filing")
def end_filing(
    filing_id: Annotated[int, Path(ge=1, le=2**31 - 1)], data: FilingEnd, session: SessionDep, by: Provider
) -> FilingRead:
    return service.filing_reads(session, [service.end_filing(session, filing_id, data.reason, by=by)])[0]


@router.get("/filings/{filing_id}/reports", response_model=list[ReportRead], summary="统计报告 / Reports")
def list_reports(
    filing_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, by: Reader
) -> list[ReportRead]:
    return [service.report_read(r) for r in service.list_reports(session, filing_id, viewer=by)]


@router.post(
    "/filings/{filing_id}/reports",
    response_model=ReportRead,
    status_code=status.HTTP_201_CREATED,
    summary="报送统计 / Report a period's statistics (Art 14(3))",
)
def submit_report(
    filing_id: Annotated[int, Path(ge=1, le=2**31 - 1)], data: ReportCreate, session: SessionDep, by: Provider
) -> ReportRead:
    return service.report_read(service.submit_report(session, filing_id, data, by=by))


# --- Usage of the gateway (Art 14(3), 32) -----------------------------------------------------------


@router.get("/usage", response_model=UsageRead, summary="网关调用统计 / Gateway usage")
def usage(
    session: SessionDep,
    by: Reader,
    group: Annotated[
        str, Query(max_length=16, description="grant | resource | consumer | provider | purpose | outcome")
    ] = "resource",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> UsageRead:
    """Calls, allowed/refused/failed, rows and bytes per group over legal days (default: the last 30)."""
    until = until or clock.today()
    since = since or until - dt.timedelta(days=29)
    rows = service.usage.usage(session, by=by, group=group, since=since, until=until)
    return UsageRead(
        group=group,
        since=since,
        until=until,
        items=[UsageRowRead(**dataclasses.asdict(r)) for r in rows],
        daily=service.usage.daily(session, by=by, since=since, until=until),
    )


# --- Subjects: who used this person's or enterprise's data (Art 32) ---------------------------------


@router.post(
    "/subject-usage",
    response_model=SubjectUsageRead,
    summary="数据主体的数据使用记录 / Who used a person's or enterprise's data",
)
def subject_usage(data: SubjectLookupIn, session: SessionDep, by: Overseer) -> SubjectUsageRead:
    """Gateway calls that asked for or returned the subject (an identity number or a credit code,
    sent in the body, never in the URL): which agencies, when, for what purpose. For the authority
    and supervisors, over the consumer agencies of their regions; each lookup is recorded with its
    reason (``exchange.subject.looked_up``), since looking a person up is itself a use."""
    found = service.subjects.lookup(
        session,
        id_number=data.id_number,
        credit_code=data.credit_code,
        reason=data.reason,
        by=by,
        offset=data.offset,
        limit=data.limit,
    )
    return SubjectUsageRead(
        kind=found.kind,
        total=found.total,
        offset=found.offset,
        limit=found.limit,
        agencies=[dataclasses.asdict(a) for a in found.agencies],  # type: ignore[misc]
        items=[dataclasses.asdict(c) for c in found.calls],  # type: ignore[misc]
    )
