"""Quality API: ``/api/v1/quality`` — data elements and their sources, duplicate-collection flags,
reconciliations, verification tasks, quality checks (Art 11-12, 15)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, status
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from govshare.core.auth import Principal
from govshare.core.db import SessionDep
from govshare.core.errors import InvalidInput
from govshare.quality import service
from govshare.quality.config import get_quality_settings
from govshare.quality.models import (
    QualityCheckResult,
    QualityDataElement,
    QualityDuplicateFlag,
    QualityObjection,
    QualityReconciliation,
    QualitySourceAssignment,
    QualityUpdateChange,
    QualityVerificationTask,
)
from govshare.quality.permissions import AgencyStaff, AuthorityOnly, ProviderOrAuthority, Reader
from govshare.quality.schemas import (
    AnswerAllIn,
    AnswersIn,
    AssignmentCreate,
    AssignmentRead,
    CheckRead,
    ElementCreate,
    ElementRead,
    ElementUpdate,
    FlagAnswer,
    FlagPage,
    FlagRead,
    HostedReconcile,
    LinkCreate,
    LinkRead,
    ObjectionAnswer,
    ObjectionCreate,
    ObjectionPage,
    ObjectionRead,
    OverdueCountRead,
    OverdueCountsRead,
    ReconciliationPage,
    ReconciliationRead,
    TaskPage,
    TaskRead,
    UpdateConfirm,
    UpdateCreate,
    UpdatePage,
    UpdateRead,
)

router = APIRouter(prefix="/api/v1/quality", tags=["quality"])

#: Reconciliation uploads may exceed the platform's request-body cap, up to their own setting.
LARGE_BODIES = (
    (
        "POST",
        re.compile(r"/(api/v1/)?quality/reconciliations(/new)?"),
        lambda: get_quality_settings().reconcile_max_bytes + 64 * 1024,
    ),
)

Ref = Annotated[str, Path(max_length=64)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
Limit = Annotated[int, Query(ge=1, le=200)]


# --- Reads ----------------------------------------------------------------------------------------


def element_read(e: QualityDataElement) -> ElementRead:
    return ElementRead(
        code=e.code,
        name=e.name,
        name_en=e.name_en,
        data_type=e.data_type,
        format_rule=e.format_rule,
        field_code=e.field_code,
        description=e.description,
    )


def assignment_read(a: QualitySourceAssignment) -> AssignmentRead:
    return AssignmentRead(
        id=a.id,
        element=a.element.code,
        element_name=a.element.name,
        region_code=a.region_code,
        agency=a.agency.code,
        agency_name=a.agency.name,
        basis=a.basis,
        assigned_at=a.assigned_at,
    )


def flag_read(f: QualityDuplicateFlag) -> FlagRead:
    return FlagRead(
        id=f.id,
        resource_id=f.resource_id,
        resource_code=f.resource.code,
        resource_name=f.resource.name,
        item=f.item_name,
        element=f.element.code,
        element_name=f.element.name,
        agency=f.agency.code,
        agency_name=f.agency.name,
        assigned_agency=f.assigned_agency.code,
        assigned_agency_name=f.assigned_agency.name,
        region_code=f.region_code,
        trigger=f.trigger,
        state=f.state,
        citation=f.citation,
        explanation=f.explanation,
        created_at=f.created_at,
        answered_at=f.answered_at,
    )


def run_read(session: Session, r: QualityReconciliation) -> ReconciliationRead:
    task = service.verification.task_for_run(session, r.id)
    return ReconciliationRead(
        id=r.id,
        state=r.state,
        stage=r.stage,
        stage_label=list(service.reconciliations.stage_label(r)),
        step=r.step,
        steps=r.steps,
        progress=r.progress,
        heartbeat_at=r.heartbeat_at,
        secondary_agency=r.secondary_agency.code,
        primary_agency=r.primary_agency.code,
        primary_resource=r.primary_resource.code,
        primary_version=r.primary_version,
        source_kind=r.source_kind,
        source_filename=r.source_filename,
        key=r.key_primary,
        key_kind=r.key_kind,
        items=r.items,
        rules=r.rules,
        discrepancies=r.discrepancies,
        error=r.error,
        report=r.report,
        task_id=task.id if task else None,
        created_at=r.created_at,
        finished_at=r.finished_at,
    )


def task_read(t: QualityVerificationTask) -> TaskRead:
    return TaskRead(
        id=t.id,
        reconciliation_id=t.reconciliation_id,
        primary_agency=t.primary_agency.code,
        secondary_agency=t.secondary_agency.code,
        region_code=t.region_code,
        discrepancies=t.discrepancies,
        answered=t.answered,
        received_on=t.received_on,
        due_on=t.due_on,
        workdays=t.workdays,
        provisional=t.provisional,
        state=t.state,
        overdue=service.verification.is_overdue(t),
        bulk_outcome=t.bulk_outcome,
        answered_on=t.answered_on,
    )


def check_read(c: QualityCheckResult) -> CheckRead:
    return CheckRead(
        resource_id=c.resource_id,
        version=c.version_number,
        rows=c.rows,
        score=c.score,
        dimensions=c.dimensions,
        findings=c.findings,
        as_of=c.as_of,
        trigger=c.trigger,
        checked_at=c.checked_at,
    )


# --- Data elements and sources (Art 11-12) -------------------------------------------------------


@router.get("/elements", response_model=list[ElementRead], summary="数据元 / Data elements")
def list_elements(session: SessionDep, by: Reader) -> list[ElementRead]:
    return [element_read(e) for e in service.elements.list_elements(session)]


@router.post(
    "/elements",
    response_model=ElementRead,
    status_code=status.HTTP_201_CREATED,
    summary="登记数据元 / Register a data element (Art 12)",
)
def create_element(data: ElementCreate, session: SessionDep, by: AuthorityOnly) -> ElementRead:
    return element_read(service.elements.create_element(session, **data.model_dump(), by=by))


@router.put(
    "/elements/{code}",
    response_model=ElementRead,
    summary="修改数据元 / Correct a data element (Art 12)",
)
def update_element(code: Ref, data: ElementUpdate, session: SessionDep, by: AuthorityOnly) -> ElementRead:
    return element_read(service.elements.update_element(session, code, **data.model_dump(), by=by))


@router.get("/assignments", response_model=list[AssignmentRead], summary="采集分工 / Authoritative sources")
def list_assignments(
    session: SessionDep,
    by: Reader,
    element: Annotated[str | None, Query(max_length=32)] = None,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
) -> list[AssignmentRead]:
    element_id = service.elements.get_element(session, element).id if element else None
    return [
        assignment_read(a)
        for a in service.elements.list_assignments(session, element_id=element_id, region_code=region)
    ]


@router.post(
    "/elements/{code}/assignments",
    response_model=AssignmentRead,
    status_code=status.HTTP_201_CREATED,
    summary="确定采集单位 / Assign the collecting agency (Art 11(1), Art 12)",
)
def assign(code: Ref, data: AssignmentCreate, session: SessionDep, by: AuthorityOnly) -> AssignmentRead:
    made = service.elements.assign_source(
        session, code, region_code=data.region_code, agency_ref=data.agency, basis=data.basis, by=by
    )
    return assignment_read(
        service.elements.list_assignments(session, element_id=made.element_id, region_code=made.region_code)[0]
    )


@router.delete(
    "/assignments/{assignment_id}", status_code=status.HTTP_204_NO_CONTENT, summary="终止采集分工 / End an assignment"
)
def end_assignment(assignment_id: Id, session: SessionDep, by: AuthorityOnly) -> None:
    service.elements.end_assignment(session, assignment_id, by=by)


@router.get("/resources/{ref}/links", response_model=list[LinkRead], summary="信息项对应的数据元 / Item links")
def list_links(ref: Ref, session: SessionDep, by: Reader) -> list[LinkRead]:
    from govshare.catalog import service as catalog_service

    resource = catalog_service.get_resource(session, ref)
    return [
        LinkRead(resource_id=resource.id, item=name, element=link.element.code, element_name=link.element.name)
        for name, link in service.elements.links_of(session, resource.id).items()
    ]


@router.post(
    "/resources/{ref}/links",
    response_model=LinkRead,
    status_code=status.HTTP_201_CREATED,
    summary="信息项关联数据元 / Link an item to a data element",
)
def link_item(ref: Ref, data: LinkCreate, session: SessionDep, by: ProviderOrAuthority) -> LinkRead:
    link = service.elements.link_item(session, ref, data.item, data.element, by=by)
    element = service.elements.get_element(session, link.element_id)
    return LinkRead(resource_id=link.resource_id, item=link.item_name, element=element.code, element_name=element.name)


# --- Duplicate collection (Art 11(1)) -------------------------------------------------------------


@router.get("/duplicates", response_model=FlagPage, summary="重复采集提示 / Duplicate-collection flags")
def list_flags(
    session: SessionDep,
    by: Reader,
    state: Annotated[str | None, Query(max_length=24)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> FlagPage:
    page = service.duplicates.list_flags(session, viewer=by, state=state, offset=offset, limit=limit)
    return FlagPage(items=[flag_read(f) for f in page.rows], total=page.total, offset=offset, limit=limit)


@router.get("/duplicates/{flag_id}", response_model=FlagRead, summary="一条提示 / One flag")
def get_flag(flag_id: Id, session: SessionDep, by: Reader) -> FlagRead:
    return flag_read(service.duplicates.get_flag(session, flag_id, viewer=by))


@router.post(
    "/duplicates/{flag_id}/answer", response_model=FlagRead, summary="答复重复采集提示 / Answer a flag (Art 11(1))"
)
def answer_flag(flag_id: Id, data: FlagAnswer, session: SessionDep, by: AgencyStaff) -> FlagRead:
    return flag_read(
        service.duplicates.answer_flag(
            session, flag_id, answer=data.answer, citation=data.citation, explanation=data.explanation, by=by
        )
    )


# --- Reconciliation (Art 11(2)) -------------------------------------------------------------------

UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "primary", "key", "items"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "本单位的数据副本：CSV、.xlsx 或 Parquet",
                    },
                    "primary": {"type": "string", "description": "主采集方资源代码"},
                    "key": {"type": "string", "description": "主键数据项（如 公民身份号码）"},
                    "items": {"type": "string", "description": "要比对的数据项，逗号分隔"},
                    "key_secondary": {"type": "string"},
                    "rules": {"type": "string", "description": "规范化规则，逗号分隔"},
                    "agency": {"type": "string"},
                },
            }
        }
    },
}


@router.post(
    "/reconciliations",
    response_model=ReconciliationRead,
    status_code=status.HTTP_202_ACCEPTED,
    summary="上传副本进行比对 / Reconcile an uploaded copy (Art 11(2))",
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def reconcile_upload(
    request: Request, session: SessionDep, by: AgencyStaff, background: BackgroundTasks
) -> ReconciliationRead:
    form = await request.form(max_files=1, max_fields=20)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput(
            "quality.input.file_required", "请选择要上传的文件", "Choose the file to upload", field="file"
        )

    def text(name: str) -> str | None:
        value = form.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    for name in ("primary", "key"):
        if not text(name):
            raise InvalidInput("quality.field.required", f"{name} 不能为空", f"{name} is required", field=name)
    rule_text = form.get("rules")
    names = service.reconciliations.split_names
    run = await _start_upload(
        session,
        by,
        upload,
        primary=text("primary") or "",
        key=text("key") or "",
        items=names(text("items")),
        key_secondary=text("key_secondary"),
        rules=None if rule_text is None else names(str(rule_text)),
        agency=text("agency"),
    )
    background.add_task(service.reconciliations.execute, run.id)
    return run_read(session, service.reconciliations.get(session, run.id, viewer=None))


async def _start_upload(session: Session, by: Principal, upload: UploadFile, **kw: object) -> QualityReconciliation:
    from starlette.concurrency import run_in_threadpool

    with tempfile.TemporaryDirectory(prefix="govshare-quality-") as tmp:
        path = FsPath(tmp) / "upload"
        with path.open("wb") as out:
            await run_in_threadpool(shutil.copyfileobj, upload.file, out)
        return await run_in_threadpool(
            lambda: service.reconciliations.start(
                session,
                primary=kw["primary"],
                key=kw["key"],
                items=kw["items"],  # type: ignore[arg-type]
                key_secondary=kw["key_secondary"],
                rule_codes=kw["rules"],
                upload=path,  # type: ignore[arg-type]
                filename=upload.filename,
                agency=kw["agency"],
                by=by,
            )
        )  # type: ignore[arg-type]


@router.post(
    "/reconciliations/hosted",
    response_model=ReconciliationRead,
    status_code=status.HTTP_202_ACCEPTED,
    summary="以本单位托管数据集比对 / Reconcile one of your hosted datasets (Art 11(2))",
)
def reconcile_hosted(
    data: HostedReconcile, session: SessionDep, by: AgencyStaff, background: BackgroundTasks
) -> ReconciliationRead:
    run = service.reconciliations.start(
        session,
        primary=data.primary,
        key=data.key,
        items=data.items,
        by=by,
        key_secondary=data.key_secondary,
        item_map=data.item_map,
        rule_codes=data.rules,
        hosted=data.hosted,
        agency=data.agency,
    )
    background.add_task(service.reconciliations.execute, run.id)
    return run_read(session, service.reconciliations.get(session, run.id, viewer=None))


@router.get("/reconciliations", response_model=ReconciliationPage, summary="比对记录 / Reconciliations")
def list_runs(session: SessionDep, by: Reader, offset: Offset = 0, limit: Limit = 50) -> ReconciliationPage:
    page = service.reconciliations.list_runs(session, viewer=by, offset=offset, limit=limit)
    return ReconciliationPage(
        items=[run_read(session, r) for r in page.rows], total=page.total, offset=offset, limit=limit
    )


@router.get("/reconciliations/{run_id}", response_model=ReconciliationRead, summary="比对报告 / One report")
def get_run(run_id: Id, session: SessionDep, by: Reader) -> ReconciliationRead:
    return run_read(session, service.reconciliations.get(session, run_id, viewer=by))


@router.get(
    "/reconciliations/{run_id}/discrepancies.{fmt}",
    summary="下载差异明细 / Download the discrepancies",
    response_class=FileResponse,
)
def download(
    run_id: Id, fmt: Annotated[str, Path(pattern="^(xlsx|parquet)$")], session: SessionDep, by: Reader
) -> FileResponse:
    run = service.reconciliations.get(session, run_id, viewer=by)
    path = service.reconciliations.download_path(run, fmt)
    media = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if fmt == "xlsx"
        else "application/vnd.apache.parquet"
    )
    return FileResponse(path, media_type=media, filename=f"reconciliation-{run.id}-discrepancies.{fmt}")


# --- Verification tasks (Art 11(2)) ---------------------------------------------------------------


@router.get("/tasks", response_model=TaskPage, summary="核实任务 / Verification tasks")
def list_tasks(
    session: SessionDep,
    by: Reader,
    overdue: bool = False,
    state: Annotated[str | None, Query(pattern="^(open|answered)$")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> TaskPage:
    page = service.verification.list_tasks(session, viewer=by, overdue=overdue, state=state, offset=offset, limit=limit)
    return TaskPage(items=[task_read(t) for t in page.rows], total=page.total, offset=offset, limit=limit)


@router.get("/tasks/{task_id}", response_model=TaskRead, summary="一项核实任务 / One task")
def get_task(task_id: Id, session: SessionDep, by: Reader) -> TaskRead:
    return task_read(service.verification.get_task(session, task_id, viewer=by))


@router.get("/tasks/{task_id}/discrepancies", summary="任务的差异 / The task's discrepancies")
def task_discrepancies(
    task_id: Id, session: SessionDep, by: Reader, offset: Offset = 0, limit: Limit = 50
) -> list[dict[str, object]]:
    task = service.verification.get_task(session, task_id, viewer=by)
    done = service.verification.answers(session, task)
    rows = service.verification.discrepancies(task, offset=offset, limit=limit)
    for r in rows:
        a = done.get(r["position"])
        r["kind_label"] = list(r["kind_label"])
        r["answer"] = (
            {"outcome": a.outcome, "note": a.note}
            if a
            else ({"outcome": task.bulk_outcome, "note": task.bulk_note} if task.bulk_outcome else None)
        )
    return rows


@router.post("/tasks/{task_id}/answers", response_model=TaskRead, summary="逐条答复 / Answer discrepancies")
def answer(task_id: Id, data: AnswersIn, session: SessionDep, by: AgencyStaff) -> TaskRead:
    return task_read(
        service.verification.answer(session, task_id, [(a.position, a.outcome, a.note) for a in data.answers], by=by)
    )


@router.post("/tasks/{task_id}/answer-all", response_model=TaskRead, summary="批量答复 / Answer all remaining")
def answer_all(task_id: Id, data: AnswerAllIn, session: SessionDep, by: AgencyStaff) -> TaskRead:
    return task_read(service.verification.answer_all(session, task_id, data.outcome, data.note, by=by))


# --- Objections (数据异议) -------------------------------------------------------------------------


def objection_read(session: Session, o: QualityObjection) -> ObjectionRead:
    return ObjectionRead(
        id=o.id,
        grant_id=o.grant_id,
        resource_id=o.resource_id,
        resource_code=o.resource.code,
        resource_name=o.resource.name,
        objector=o.objector.code,
        provider=o.provider.code,
        record_key=o.record_key,
        item=o.item,
        problem=o.problem,
        evidence=o.evidence,
        received_on=o.received_on,
        due_on=o.due_on,
        workdays=o.workdays,
        provisional=o.provisional,
        state=o.state,
        overdue=service.objections.is_overdue(o),
        answer_note=o.answer_note,
        answered_on=o.answered_on,
        corrected_version=service.objections.corrected_version(session, o),
    )


@router.post(
    "/objections",
    response_model=ObjectionRead,
    status_code=status.HTTP_201_CREATED,
    summary="提出数据异议 / Object to data received under a grant",
)
def file_objection(data: ObjectionCreate, session: SessionDep, by: AgencyStaff) -> ObjectionRead:
    made = service.objections.file_objection(session, **data.model_dump(), by=by)
    return objection_read(session, service.objections.get_objection(session, made.id, viewer=by))


@router.get("/objections", response_model=ObjectionPage, summary="数据异议 / Objections")
def list_objections(
    session: SessionDep,
    by: Reader,
    overdue: bool = False,
    state: Annotated[str | None, Query(pattern="^(open|corrected|confirmed|rejected)$")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ObjectionPage:
    page = service.objections.list_objections(
        session, viewer=by, state=state, overdue=overdue, offset=offset, limit=limit
    )
    return ObjectionPage(
        items=[objection_read(session, o) for o in page.rows], total=page.total, offset=offset, limit=limit
    )


@router.get("/objections/{objection_id}", response_model=ObjectionRead, summary="一项异议 / One objection")
def get_objection(objection_id: Id, session: SessionDep, by: Reader) -> ObjectionRead:
    return objection_read(session, service.objections.get_objection(session, objection_id, viewer=by))


@router.post(
    "/objections/{objection_id}/answer",
    response_model=ObjectionRead,
    summary="答复数据异议 / The provider answers an objection",
)
def answer_objection(objection_id: Id, data: ObjectionAnswer, session: SessionDep, by: AgencyStaff) -> ObjectionRead:
    return objection_read(
        session, service.objections.answer_objection(session, objection_id, outcome=data.outcome, note=data.note, by=by)
    )


# --- Quality checks (Art 12) ----------------------------------------------------------------------


@router.get("/resources/{ref}/checks", response_model=list[CheckRead], summary="质量检查 / Quality checks")
def list_checks(ref: Ref, session: SessionDep, by: Reader) -> list[CheckRead]:
    _resource, rows = service.checks.history(session, ref, viewer=by)
    return [check_read(r) for r in rows]


@router.post(
    "/resources/{ref}/checks",
    response_model=CheckRead,
    status_code=status.HTTP_201_CREATED,
    summary="立即检查 / Check now",
)
def run_check(
    ref: Ref, session: SessionDep, by: ProviderOrAuthority, version: Annotated[int | None, Query(ge=1, le=10**9)] = None
) -> CheckRead:
    return check_read(service.checks.run_on_demand(session, ref, version=version, by=by))


# --- Update duty (Art 15(2)) ----------------------------------------------------------------------


def update_read(c: QualityUpdateChange) -> UpdateRead:
    return UpdateRead(
        id=c.id,
        resource_id=c.resource_id,
        resource_code=c.resource.code,
        resource_name=c.resource.name,
        provider=c.provider.code,
        provider_name=c.provider.name,
        region_code=c.region_code,
        interface_kind=c.interface_kind,
        source=c.source,
        changed_at=c.changed_at,
        note=c.note,
        received_on=c.received_on,
        due_on=c.due_on,
        workdays=c.workdays,
        provisional=c.provisional,
        state=c.state,
        overdue=service.updates.is_overdue(c),
        met_on=c.met_on,
        met_late=c.met_late,
        met_by=c.met_by,
        dataset_version=c.dataset_version,
        confirmation_note=c.confirmation_note,
    )


@router.post(
    "/updates",
    response_model=UpdateRead,
    status_code=status.HTTP_201_CREATED,
    summary="登记源数据变更 / Record a change in source data (Art 15(2))",
)
def record_update(data: UpdateCreate, session: SessionDep, by: AgencyStaff) -> UpdateRead:
    ref: str | int = int(data.resource) if data.resource.isdigit() else data.resource
    made = service.updates.record_change(session, ref, changed_at=data.changed_at, note=data.note, by=by)
    return update_read(service.updates.get_change(session, made.id, viewer=by))


@router.get("/updates", response_model=UpdatePage, summary="数据更新义务 / Changes and their updates")
def list_updates(
    session: SessionDep,
    by: Reader,
    overdue: bool = False,
    state: Annotated[str | None, Query(pattern="^(open|overdue|met)$")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> UpdatePage:
    page = service.updates.list_changes(session, viewer=by, state=state, overdue=overdue, offset=offset, limit=limit)
    return UpdatePage(items=[update_read(c) for c in page.rows], total=page.total, offset=offset, limit=limit)


@router.get(
    "/updates/overdue",
    response_model=OverdueCountsRead,
    summary="逾期未更新统计 / Overdue updates per agency and region",
)
def overdue_updates(session: SessionDep, by: Reader) -> OverdueCountsRead:
    counts = service.updates.overdue_counts(session, viewer=by)
    return OverdueCountsRead(
        total=counts.total,
        by_agency=[OverdueCountRead(code=c.code, name=c.name, count=c.count) for c in counts.by_agency],
        by_region=[OverdueCountRead(code=c.code, name=c.name, count=c.count) for c in counts.by_region],
    )


@router.get("/updates/{change_id}", response_model=UpdateRead, summary="一项数据变更 / One change")
def get_update(change_id: Id, session: SessionDep, by: Reader) -> UpdateRead:
    return update_read(service.updates.get_change(session, change_id, viewer=by))


@router.post(
    "/updates/{change_id}/confirm",
    response_model=UpdateRead,
    summary="确认接口已提供更新后的数据 / Confirm the API serves the update (Art 15(2))",
)
def confirm_update(change_id: Id, data: UpdateConfirm, session: SessionDep, by: AgencyStaff) -> UpdateRead:
    return update_read(service.updates.confirm_update(session, change_id, note=data.note, by=by))
