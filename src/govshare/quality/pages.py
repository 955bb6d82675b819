"""Quality pages: the register of data elements and their sources, duplicate-collection flags,
reconciliation (form, progress, report with a chart per item, downloads), verification tasks and
the quality checks of hosted datasets with their trend (Art 11-12, 15).

Every action goes through ``quality.service`` with the same scope checks and rules as the API, so
a refused action shows the rule and its article next to the field at fault.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from govshare.core import clock
from govshare.core.db import SessionDep
from govshare.core.identifiers import REASONS
from govshare.core.paging import Pager
from govshare.portal import i18n
from govshare.portal.forms import form_values, offset_param, whole
from govshare.portal.web import CsrfForm, FormChange, render, translator
from govshare.quality import charts, rules, service
from govshare.quality.normalize import RULES as NORMALIZATION_RULES
from govshare.quality.permissions import AgencyStaff, AuthorityOnly, ProviderOrAuthority, Reader
from govshare.quality.reconcile import DISCREPANCY_KINDS, KEY_KINDS
from govshare.quality.service.reconciliations import split_names

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
DIMENSIONS = {
    "completeness": ("完整性", "completeness"),
    "validity": ("有效性", "validity"),
    "uniqueness": ("唯一性", "uniqueness"),
    "freshness": ("及时性", "timeliness"),
}


def _pager(offset: int, total: int) -> Pager:
    return Pager(offset=offset, limit=PAGE_SIZE, total=total)


# --- Overview and register ------------------------------------------------------------------------


@router.get("/quality", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    flags = service.duplicates.list_flags(session, viewer=by, state="open", limit=10)
    tasks = service.verification.list_tasks(session, viewer=by, state="open", limit=10)
    overdue = service.verification.list_tasks(session, viewer=by, overdue=True, limit=1)
    runs = service.reconciliations.list_runs(session, viewer=by, limit=10)
    return render(
        request,
        "quality/overview.html",
        {
            "active": "console",
            "states": rules.RUN_STATES,
            "flags": flags,
            "tasks": tasks,
            "overdue_total": overdue.total,
            "runs": runs,
            "updates_overdue": service.updates.overdue_counts(session, viewer=by).total,
            "is_overdue": service.verification.is_overdue,
            "can_reconcile": bool(by.agency_ids("agency_staff", "agency_admin")),
            "can_link": bool(by.agency_ids("agency_staff", "agency_admin") or by.region_paths("authority")),
        },
    )


ELEMENT_FIELDS = ("code", "name", "name_en", "data_type", "format_rule", "field_code", "description")
ASSIGN_FIELDS = ("region_code", "agency", "basis")


def _elements_page(
    request: Request,
    session: Any,
    by: Any,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    assignments: dict[int, list[Any]] = {}
    for a in service.elements.list_assignments(session):
        assignments.setdefault(a.element_id, []).append(a)
    return render(
        request,
        "quality/elements.html",
        {
            "active": "console",
            "elements": service.elements.list_elements(session),
            "assignments": assignments,
            "formats": rules.FORMAT_RULES,
            "types": rules.ELEMENT_TYPES,
            "can_keep": by.has_role("authority"),
            "can_link": bool(by.agency_ids("agency_staff", "agency_admin") or by.region_paths("authority")),
            "values": values or {"data_type": "string", "format_rule": "none"},
            "errors": errors or {},
            "form_error": form_error,
        },
        status_code=status,
    )


@router.get("/quality/elements", response_class=HTMLResponse)
def elements(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _elements_page(request, session, by)


@router.post("/quality/elements", response_class=HTMLResponse, response_model=None)
def create_element(
    request: Request, session: SessionDep, by: AuthorityOnly, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    values = form_values(form, ELEMENT_FIELDS)
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=ELEMENT_FIELDS, errors=errors)
    made = None
    with change:
        made = service.elements.create_element(
            session,
            code=values["code"],
            name=values["name"],
            name_en=values["name_en"] or None,
            data_type=values["data_type"],
            format_rule=values["format_rule"],
            field_code=values["field_code"] or None,
            description=values["description"] or None,
            by=by,
        )
    if change.ok and made is not None:
        return RedirectResponse(f"/quality/elements/{made.code}?done=created", status_code=303)
    return _elements_page(
        request, session, by, values=values, errors=errors, form_error=change.form_error, status=change.status
    )


def _element_page(
    request: Request,
    session: Any,
    code: str,
    by: Any,
    *,
    values: dict[str, str] | None = None,
    assign_values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    failed: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    from govshare.registry import service as registry_service

    element = service.elements.get_element(session, code[:32])
    regions, agencies = service.elements.assignable(session, by)
    assignments = service.elements.list_assignments(session, element_id=element.id)
    region_names = {a.region_code: registry_service.get_region(session, a.region_code).name for a in assignments}
    covered = {r.code for r in regions}
    if values is None:
        values = {k: str(getattr(element, k) or "") for k in ELEMENT_FIELDS}
    return render(
        request,
        "quality/element.html",
        {
            "active": "console",
            "element": element,
            "assignments": assignments,
            "region_names": region_names,
            "links": service.elements.links_to(session, element.id),
            "formats": rules.FORMAT_RULES,
            "types": rules.ELEMENT_TYPES,
            "can_keep": by.has_role("authority"),
            "covered": covered,
            "regions": regions,
            "agencies": agencies,
            "values": values,
            "assign_values": assign_values or {"region_code": regions[0].code if len(regions) == 1 else ""},
            "errors": errors or {},
            "form_error": form_error,
            "legal_tz": clock.LEGAL_TZ,
            # Which form the errors belong to: "edit", "assign" or "end".
            "failed": failed,
        },
        status_code=status,
    )


@router.get("/quality/elements/{code}", response_class=HTMLResponse)
def element(code: str, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _element_page(request, session, code, by)


@router.post("/quality/elements/{code}", response_class=HTMLResponse, response_model=None)
def update_element(
    code: str, request: Request, session: SessionDep, by: AuthorityOnly, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    values = form_values(form, ELEMENT_FIELDS)
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=ELEMENT_FIELDS, errors=errors)
    with change:
        made = service.elements.update_element(
            session,
            code[:32],
            name=values["name"],
            name_en=values["name_en"] or None,
            data_type=values["data_type"],
            format_rule=values["format_rule"],
            field_code=values["field_code"] or None,
            description=values["description"] or None,
            by=by,
        )
    if change.ok:
        return RedirectResponse(f"/quality/elements/{made.code}?done=updated", status_code=303)
    values["code"] = code[:32]
    return _element_page(
        request,
        session,
        code,
        by,
        values=values,
        errors=errors,
        form_error=change.form_error,
        failed="edit",
        status=change.status,
    )


@router.post("/quality/elements/{code}/assignments", response_class=HTMLResponse, response_model=None)
def assign_source(
    code: str, request: Request, session: SessionDep, by: AuthorityOnly, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    _ = translator(request)
    values = form_values(form, ASSIGN_FIELDS)
    errors: dict[str, str] = {}
    if not values["region_code"]:
        errors["region_code"] = _("请选择地区")
    if not values["agency"]:
        errors["agency"] = _("请选择采集单位")
    change = FormChange(session, i18n.lang_of(request), fields=ASSIGN_FIELDS, errors=errors)
    if not errors:
        with change:
            service.elements.assign_source(
                session,
                code[:32],
                region_code=values["region_code"][:12],
                agency_ref=values["agency"][:64],
                basis=values["basis"] or None,
                by=by,
            )
    if change.ok:
        return RedirectResponse(f"/quality/elements/{code[:32]}?done=assigned", status_code=303)
    return _element_page(
        request,
        session,
        code,
        by,
        assign_values=values,
        errors=errors,
        form_error=change.form_error,
        failed="assign",
        status=422,
    )


@router.post("/quality/assignments/{assignment_id}/end", response_class=HTMLResponse, response_model=None)
def end_assignment(
    assignment_id: int, request: Request, session: SessionDep, by: AuthorityOnly, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    from govshare.quality.models import QualitySourceAssignment

    assignment = session.get(QualitySourceAssignment, assignment_id) if 0 < assignment_id < 2**31 else None
    element_code = service.elements.get_element(session, assignment.element_id).code if assignment else None
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=(), errors=errors)
    with change:
        service.elements.end_assignment(session, assignment_id if assignment else 0, by=by)
    if change.ok and element_code:
        return RedirectResponse(f"/quality/elements/{element_code}?done=ended", status_code=303)
    if element_code is None:
        return _elements_page(request, session, by, form_error=change.form_error, status=change.status)
    return _element_page(
        request, session, element_code, by, form_error=change.form_error, failed="end", status=change.status
    )


# --- Item links (Art 11) ----------------------------------------------------------------------------


def _links_page(
    request: Request,
    session: Any,
    ref: str,
    by: Any,
    *,
    values: dict[str, str] | None = None,
    form_error: str | None = None,
    failed_item: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    from govshare.catalog import service as catalog_service
    from govshare.registry import service as registry_service

    resource = catalog_service.get_visible(session, ref[:64], by)
    path = registry_service.region_path_of(session, resource.region_code)
    return render(
        request,
        "quality/links.html",
        {
            "active": "console",
            "resource": resource,
            "links": service.elements.links_of(session, resource.id),
            "elements": service.elements.list_elements(session),
            "can_link": by.in_agency(resource.provider_id, "agency_staff", "agency_admin")
            or by.covers_region(path, "authority"),
            "values": values or {},
            "form_error": form_error,
            "failed_item": failed_item,
        },
        status_code=status,
    )


@router.get("/quality/links", response_class=HTMLResponse, response_model=None)
def links_index(request: Request, session: SessionDep, by: ProviderOrAuthority) -> HTMLResponse | RedirectResponse:
    chosen = request.query_params.get("resource", "").strip()[:64]
    if chosen:
        return RedirectResponse(f"/quality/resources/{chosen}/links", status_code=303)
    return render(
        request,
        "quality/links_index.html",
        {"active": "console", "resources": service.elements.linkable_resources(session, by)},
    )


@router.get("/quality/resources/{ref}/links", response_class=HTMLResponse)
def resource_links(ref: str, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _links_page(request, session, ref, by)


@router.post("/quality/resources/{ref}/links", response_class=HTMLResponse, response_model=None)
def link_item(
    ref: str, request: Request, session: SessionDep, by: ProviderOrAuthority, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    _ = translator(request)
    values = form_values(form, ("item", "element"))
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=(), errors=errors)
    if not values["element"]:
        change.form_error, change.status = _("请选择数据元"), 422
    else:
        with change:
            service.elements.link_item(session, ref[:64], values["item"][:100], values["element"][:32], by=by)
    if change.ok:
        return RedirectResponse(f"/quality/resources/{ref[:64]}/links?done=1", status_code=303)
    return _links_page(
        request,
        session,
        ref,
        by,
        values=values,
        form_error=change.form_error,
        failed_item=values["item"],
        status=change.status,
    )


# --- Duplicate collection (Art 11(1)) -------------------------------------------------------------


@router.get("/quality/duplicates", response_class=HTMLResponse)
def duplicates(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    state = request.query_params.get("state") or None
    state = state if state in rules.FLAG_STATES else None
    offset = offset_param(request)
    page = service.duplicates.list_flags(session, viewer=by, state=state, offset=offset, limit=PAGE_SIZE)
    return render(
        request,
        "quality/duplicates.html",
        {
            "active": "console",
            "page": page,
            "pager": _pager(offset, page.total),
            "state": state,
            "states": rules.FLAG_STATES,
        },
    )


def _flag_page(
    request: Request,
    session: Any,
    flag_id: int,
    by: Any,
    *,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    flag = service.duplicates.get_flag(session, flag_id, viewer=by)
    return render(
        request,
        "quality/duplicate.html",
        {
            "active": "console",
            "flag": flag,
            "states": rules.FLAG_STATES,
            "errors": errors or {},
            "form_error": form_error,
            "values": values or {},
            "exception_text": rules.LEGAL_EXCEPTION_TEXT,
            "can_answer": flag.state == "open" and by.in_agency(flag.agency_id, "agency_staff", "agency_admin"),
        },
        status_code=status,
    )


@router.get("/quality/duplicates/{flag_id}", response_class=HTMLResponse)
def duplicate(flag_id: int, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _flag_page(request, session, flag_id, by)


@router.post("/quality/duplicates/{flag_id}", response_class=HTMLResponse, response_model=None)
def answer_duplicate(
    flag_id: int, request: Request, session: SessionDep, by: AgencyStaff, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    values = {k: str(form.get(k) or "") for k in ("answer", "citation", "explanation")}
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=("answer", "citation", "explanation"), errors=errors)
    with change:
        service.duplicates.answer_flag(
            session,
            flag_id,
            answer=values["answer"],
            citation=values["citation"],
            explanation=values["explanation"],
            by=by,
        )
    if change.ok:
        return RedirectResponse(f"/quality/duplicates/{flag_id}?done=1", status_code=303)
    return _flag_page(
        request, session, flag_id, by, errors=errors, form_error=change.form_error, values=values, status=change.status
    )


# --- Reconciliation (Art 11(2)) -------------------------------------------------------------------


@router.get("/quality/reconciliations", response_class=HTMLResponse)
def reconciliations(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    offset = offset_param(request)
    page = service.reconciliations.list_runs(session, viewer=by, offset=offset, limit=PAGE_SIZE)
    return render(
        request,
        "quality/reconciliations.html",
        {
            "active": "console",
            "page": page,
            "pager": _pager(offset, page.total),
            "states": rules.RUN_STATES,
            "can_reconcile": bool(by.agency_ids("agency_staff", "agency_admin")),
        },
    )


def _new_form(
    request: Request,
    session: Any,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    values = values or {}
    if "rules" not in values:
        values["rules"] = [c for c, r in NORMALIZATION_RULES.items() if r.default]
    return render(
        request,
        "quality/reconcile_new.html",
        {
            "active": "console",
            "sources": service.reconciliations.hosted_sources(session),
            "values": values,
            "errors": errors or {},
            "form_error": form_error,
            "rules": NORMALIZATION_RULES,
        },
        status_code=status,
    )


@router.get("/quality/reconciliations/new", response_class=HTMLResponse)
def new_reconciliation(request: Request, session: SessionDep, by: AgencyStaff) -> HTMLResponse:
    primary = request.query_params.get("primary", "")[:64]
    return _new_form(request, session, values={"primary": primary})


@router.post("/quality/reconciliations/new", response_class=HTMLResponse, response_model=None)
async def start_reconciliation(
    request: Request, session: SessionDep, by: AgencyStaff, form: CsrfForm, background: BackgroundTasks
) -> HTMLResponse | RedirectResponse:
    _ = translator(request)
    values: dict[str, Any] = form_values(form, ("primary", "key", "items", "key_secondary"))
    values["rules"] = [str(v) for v in form.getlist("rules")]
    upload = form.get("file")
    errors: dict[str, str] = {}
    for name in ("primary", "key", "items"):
        if not values[name]:
            errors[name] = _("请填写此项")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = _("请选择文件")
    if errors:
        return _new_form(request, session, values=values, errors=errors, status=422)
    assert isinstance(upload, UploadFile)
    change = FormChange(
        session,
        i18n.lang_of(request),
        fields=("primary", "key", "items", "key_secondary", "file", "rules"),
        errors=errors,
    )
    with tempfile.TemporaryDirectory(prefix="govshare-quality-") as tmp:
        path = Path(tmp) / "upload"
        with path.open("wb") as out:
            await run_in_threadpool(shutil.copyfileobj, upload.file, out)

        def start() -> Any:
            with change:
                return service.reconciliations.start(
                    session,
                    primary=values["primary"],
                    key=values["key"],
                    items=split_names(values["items"]),
                    key_secondary=values["key_secondary"] or None,
                    rule_codes=values["rules"],
                    upload=path,
                    filename=upload.filename,
                    by=by,
                )
            return None

        run = await run_in_threadpool(start)
    if change.ok and run is not None:
        background.add_task(service.reconciliations.execute, run.id)
        return RedirectResponse(f"/quality/reconciliations/{run.id}", status_code=303)
    return _new_form(request, session, values=values, errors=errors, form_error=change.form_error, status=change.status)


@router.get("/quality/reconciliations/{run_id}", response_class=HTMLResponse)
def reconciliation(run_id: int, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    lang = i18n.lang_of(request)
    run = service.reconciliations.get(session, run_id, viewer=by)
    task = service.verification.task_for_run(session, run.id)
    report = run.report
    item_charts = []
    if report:
        for item in report["items"]:
            title = f"{item['label']}: {item['equal']:,} / {item['mismatched']:,}"
            item_charts.append(
                (
                    item,
                    charts.share_bar(
                        [
                            (i18n.pick(("一致", "equal"), lang), item["equal"], charts.EQUAL),
                            (i18n.pick(("不一致", "mismatched"), lang), item["mismatched"], charts.MISMATCH),
                        ],
                        title=title,
                    ),
                )
            )
        keys_chart = charts.share_bar(
            [
                (i18n.pick(("参与比对", "compared"), lang), report["compared"], charts.EQUAL),
                (
                    i18n.pick(("主采集方缺少", "missing in primary"), lang),
                    report["missing_in_primary"],
                    charts.MISMATCH,
                ),
                (
                    i18n.pick(("比对方缺少", "missing in secondary"), lang),
                    report["missing_in_secondary"],
                    charts.MISSING,
                ),
            ],
            title="keys",
        )
    else:
        keys_chart = None
    return render(
        request,
        "quality/report.html",
        {
            "active": "console",
            "run": run,
            "report": report,
            "task": task,
            "item_charts": item_charts,
            "keys_chart": keys_chart,
            "states": rules.RUN_STATES,
            "key_kinds": KEY_KINDS,
            "rules_by_code": NORMALIZATION_RULES,
            "kinds": DISCREPANCY_KINDS,
            "running": run.state in ("queued", "running"),
            "stage_label": service.reconciliations.stage_label(run),
            "reasons": REASONS,
        },
    )


# --- Verification tasks (Art 11(2)) ---------------------------------------------------------------


@router.get("/quality/tasks", response_class=HTMLResponse)
def tasks(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    overdue = request.query_params.get("overdue") == "1"
    offset = offset_param(request)
    page = service.verification.list_tasks(session, viewer=by, overdue=overdue, offset=offset, limit=PAGE_SIZE)
    return render(
        request,
        "quality/tasks.html",
        {
            "active": "console",
            "page": page,
            "pager": _pager(offset, page.total),
            "overdue": overdue,
            "is_overdue": service.verification.is_overdue,
            "states": rules.TASK_STATES,
            "today": clock.today(),
        },
    )


def _task_page(
    request: Request,
    session: Any,
    task_id: int,
    by: Any,
    *,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    task = service.verification.get_task(session, task_id, viewer=by)
    offset = offset_param(request)
    rows = service.verification.discrepancies(task, offset=offset, limit=PAGE_SIZE)
    return render(
        request,
        "quality/task.html",
        {
            "active": "console",
            "task": task,
            "rows": rows,
            "answers": service.verification.answers(session, task),
            "pager": _pager(offset, task.discrepancies),
            "outcomes": rules.OUTCOMES,
            "kinds": DISCREPANCY_KINDS,
            "overdue": service.verification.is_overdue(task),
            "states": rules.TASK_STATES,
            "errors": errors or {},
            "form_error": form_error,
            "can_answer": task.state == "open" and by.in_agency(task.primary_agency_id, "agency_staff", "agency_admin"),
        },
        status_code=status,
    )


@router.get("/quality/tasks/{task_id}", response_class=HTMLResponse)
def task(task_id: int, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _task_page(request, session, task_id, by)


@router.post("/quality/tasks/{task_id}/answers", response_class=HTMLResponse, response_model=None)
def answer_task(
    task_id: int, request: Request, session: SessionDep, by: AgencyStaff, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    entries = []
    for name in form:
        if name.startswith("outcome_") and form.get(name):
            position = name.removeprefix("outcome_")
            if position.isascii() and position.isdigit():
                entries.append((int(position), str(form.get(name)), str(form.get(f"note_{position}") or "")))
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=("outcome", "note"), errors=errors)
    with change:
        if form.get("bulk_outcome"):
            service.verification.answer_all(
                session, task_id, str(form.get("bulk_outcome")), str(form.get("bulk_note") or ""), by=by
            )
        else:
            service.verification.answer(session, task_id, entries, by=by)
    if change.ok:
        return RedirectResponse(f"/quality/tasks/{task_id}?done=1", status_code=303)
    message = change.form_error or "; ".join(errors.values())
    return _task_page(request, session, task_id, by, errors=errors, form_error=message, status=change.status)


# --- Objections (数据异议) -------------------------------------------------------------------------

OBJECTION_FIELDS = ("grant_id", "record_key", "item", "problem", "evidence")


def _objections_page(
    request: Request,
    session: Any,
    by: Any,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    from govshare.sharing import service as sharing_service

    offset = offset_param(request)
    overdue = request.query_params.get("overdue") == "1"
    page = service.objections.list_objections(session, viewer=by, overdue=overdue, offset=offset, limit=PAGE_SIZE)
    own = by.agency_ids("agency_staff", "agency_admin")
    grants = [
        g for g in sharing_service.list_grants(session, viewer=by, usable=True, limit=200).rows if g.consumer_id in own
    ]
    return render(
        request,
        "quality/objections.html",
        {
            "active": "console",
            "page": page,
            "pager": _pager(offset, page.total),
            "overdue": overdue,
            "states": rules.OBJECTION_STATES,
            "is_overdue": service.objections.is_overdue,
            "grants": grants,
            "values": values or {"grant_id": request.query_params.get("grant", "")[:12]},
            "errors": errors or {},
            "form_error": form_error,
        },
        status_code=status,
    )


@router.get("/quality/objections", response_class=HTMLResponse)
def objections(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _objections_page(request, session, by)


@router.post("/quality/objections", response_class=HTMLResponse, response_model=None)
def file_objection(
    request: Request, session: SessionDep, by: AgencyStaff, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    _ = translator(request)
    values = form_values(form, OBJECTION_FIELDS)
    errors: dict[str, str] = {}
    grant_id = whole(values["grant_id"])
    if grant_id is None:
        errors["grant_id"] = _("请选择共享授权")
        return _objections_page(request, session, by, values=values, errors=errors, status=422)
    change = FormChange(session, i18n.lang_of(request), fields=OBJECTION_FIELDS, errors=errors)
    made = None
    with change:
        made = service.objections.file_objection(
            session,
            grant_id=grant_id,
            record_key=values["record_key"],
            item=values["item"] or None,
            problem=values["problem"],
            evidence=values["evidence"] or None,
            by=by,
        )
    if change.ok and made is not None:
        return RedirectResponse(f"/quality/objections/{made.id}?done=1", status_code=303)
    return _objections_page(
        request, session, by, values=values, errors=errors, form_error=change.form_error, status=change.status
    )


def _objection_page(
    request: Request,
    session: Any,
    objection_id: int,
    by: Any,
    *,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    objection = service.objections.get_objection(session, objection_id, viewer=by)
    return render(
        request,
        "quality/objection.html",
        {
            "active": "console",
            "o": objection,
            "states": rules.OBJECTION_STATES,
            "overdue": service.objections.is_overdue(objection),
            "corrected_version": service.objections.corrected_version(session, objection),
            "can_answer": objection.state == "open"
            and by.in_agency(objection.provider_id, "agency_staff", "agency_admin"),
            "errors": errors or {},
            "form_error": form_error,
            "values": values or {},
        },
        status_code=status,
    )


@router.get("/quality/objections/{objection_id}", response_class=HTMLResponse)
def objection(objection_id: int, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _objection_page(request, session, objection_id, by)


@router.post("/quality/objections/{objection_id}", response_class=HTMLResponse, response_model=None)
def answer_objection(
    objection_id: int, request: Request, session: SessionDep, by: AgencyStaff, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    values = {k: str(form.get(k) or "") for k in ("outcome", "note")}
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=("outcome", "note"), errors=errors)
    with change:
        service.objections.answer_objection(
            session, objection_id, outcome=values["outcome"], note=values["note"], by=by
        )
    if change.ok:
        return RedirectResponse(f"/quality/objections/{objection_id}?done=1", status_code=303)
    return _objection_page(
        request,
        session,
        objection_id,
        by,
        errors=errors,
        form_error=change.form_error,
        values=values,
        status=change.status,
    )


# --- Update duty (Art 15(2)) ----------------------------------------------------------------------

UPDATE_FIELDS = ("resource", "changed_at", "note")


def _updates_page(
    request: Request,
    session: Any,
    by: Any,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    offset = offset_param(request)
    overdue = request.query_params.get("overdue") == "1"
    page = service.updates.list_changes(session, viewer=by, overdue=overdue, offset=offset, limit=PAGE_SIZE)
    resources = service.updates.own_resources(session, by)
    preset = request.query_params.get("resource", "")[:64]
    return render(
        request,
        "quality/updates.html",
        {
            "active": "console",
            "page": page,
            "pager": _pager(offset, page.total),
            "overdue": overdue,
            "counts": service.updates.overdue_counts(session, viewer=by),
            "states": rules.UPDATE_STATES,
            "sources": rules.CHANGE_SOURCES,
            "is_overdue": service.updates.is_overdue,
            "resources": resources,
            "workdays": rules.UPDATE_WORKDAYS,
            "own": by.agency_ids("agency_staff", "agency_admin"),
            "values": values or {"resource": preset},
            "errors": errors or {},
            "form_error": form_error,
        },
        status_code=status,
    )


@router.get("/quality/updates", response_class=HTMLResponse)
def updates(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _updates_page(request, session, by)


@router.post("/quality/updates", response_class=HTMLResponse, response_model=None)
def record_update(
    request: Request, session: SessionDep, by: AgencyStaff, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    _ = translator(request)
    values = form_values(form, UPDATE_FIELDS)
    errors: dict[str, str] = {}
    resource = values["resource"]
    if whole(resource) is None:
        errors["resource"] = _("请选择目录条目")
    try:
        changed_at = dt.datetime.fromisoformat(values["changed_at"]) if len(values["changed_at"]) <= 32 else None
    except ValueError:
        changed_at = None
    if changed_at is None:
        errors["changed_at"] = _("请填写源数据发生变化的时间")
    if errors or changed_at is None:
        return _updates_page(request, session, by, values=values, errors=errors, status=422)
    if changed_at.tzinfo is None:  # the form's local time is Beijing time
        changed_at = changed_at.replace(tzinfo=clock.LEGAL_TZ)
    change = FormChange(session, i18n.lang_of(request), fields=UPDATE_FIELDS, errors=errors)
    with change:
        service.updates.record_change(session, int(resource), changed_at=changed_at, note=values["note"] or None, by=by)
    if change.ok:
        return RedirectResponse("/quality/updates?done=1", status_code=303)
    return _updates_page(
        request, session, by, values=values, errors=errors, form_error=change.form_error, status=change.status
    )


@router.post("/quality/updates/{change_id}/confirm", response_class=HTMLResponse, response_model=None)
def confirm_update(
    change_id: int, request: Request, session: SessionDep, by: AgencyStaff, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=("note",), errors=errors)
    with change:
        service.updates.confirm_update(session, change_id, note=str(form.get("note") or "") or None, by=by)
    if change.ok:
        return RedirectResponse("/quality/updates?done=1", status_code=303)
    return _updates_page(request, session, by, errors=errors, form_error=change.form_error, status=change.status)


# --- Quality checks (Art 12) ----------------------------------------------------------------------


def _score_points(results: list[Any]) -> list[tuple[str, float | None]]:
    return [(f"v{r.version_number}", r.score) for r in results]


@router.get("/quality/checks/resources/{ref}", response_class=HTMLResponse)
def resource_checks(ref: str, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    _ = translator(request)
    resource, results = service.checks.history(session, ref[:64], viewer=by)
    latest = results[-1] if results else None
    return render(
        request,
        "quality/checks.html",
        {
            "active": "console",
            "resource": resource,
            "results": results,
            "latest": latest,
            "chart": charts.trend(_score_points(results), title=_("质量得分趋势")) if results else None,
            "dimensions": DIMENSIONS,
            "can_run": by.in_agency(resource.provider_id, "agency_staff", "agency_admin") or by.has_role("authority"),
        },
    )


@router.post("/quality/checks/resources/{ref}", response_class=HTMLResponse, response_model=None)
def run_checks(
    ref: str, request: Request, session: SessionDep, by: ProviderOrAuthority, form: CsrfForm
) -> RedirectResponse:
    service.checks.run_on_demand(session, ref[:64], by=by)
    return RedirectResponse(f"/quality/checks/resources/{ref[:64]}", status_code=303)


@router.get("/quality/checks/agencies/{code}", response_class=HTMLResponse)
def agency_checks(code: str, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    _ = translator(request)
    agency, by_resource = service.checks.agency_history(session, code[:64], viewer=by)
    rows = []
    for resource, results in by_resource.items():
        rows.append(
            (
                resource,
                results[-1],
                charts.trend(_score_points(results), title=_("质量得分趋势") + f" · {resource.name}"),
            )
        )
    return render(request, "quality/agency_checks.html", {"active": "console", "agency": agency, "rows": rows})
