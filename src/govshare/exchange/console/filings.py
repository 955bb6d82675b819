"""Portal pages of off-platform sharing (Art 14(3)): an agency files a record of data it shares
outside the platform (resource, counterpart, reason, channel) with the authority of its region and
submits the periodic statistics report (calls, records, purpose); the authority and supervisors
see the filings of their regions and the overdue reports.

The same services as ``/api/v1/exchange/filings``; a refusal is shown next to its field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from govshare.core import clock
from govshare.core.db import SessionDep
from govshare.core.paging import Pager
from govshare.exchange import permissions as perm
from govshare.exchange import rules, service
from govshare.exchange.permissions import Provider, Reader
from govshare.exchange.schemas import FilingCreate, ReportCreate
from govshare.portal import i18n
from govshare.portal.forms import form_values, offset_param
from govshare.portal.web import CsrfForm, FormChange, local_time, render, translator
from govshare.registry import service as registry_service

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
FILING_FIELDS = (
    "agency",
    "resource",
    "resource_text",
    "counterpart",
    "counterpart_name",
    "direction",
    "reason",
    "channel",
    "report_period",
)
REPORT_FIELDS = ("period_start", "calls", "records", "purpose")
FilingId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SAVED = {
    "filed": ("已备案。", "Filed."),
    "reported": ("统计已报送。", "The statistics are reported."),
    "ended": ("备案已终止。", "The filing is ended."),
}
DIRECTIONS = {
    "provide": ("本机关提供数据", "we provide the data"),
    "receive": ("本机关获取数据", "we receive the data"),
}


def _base(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "active": "console",
        "periods": rules.REPORT_PERIODS,
        "states": rules.FILING_STATES,
        "directions": DIRECTIONS,
        "local_time": local_time,
        **extra,
    }


@router.get("/exchange/filings", response_class=HTMLResponse)
def filings(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    offset = offset_param(request)
    page = service.list_filings(session, viewer=by, offset=offset, limit=PAGE_SIZE)
    overdue = service.overdue_reports(session, viewer=by)
    return render(
        request,
        "exchange/offplatform_filings.html",
        _base(
            {
                "rows": service.filing_reads(session, page.rows),
                "pager": Pager(offset=offset, limit=PAGE_SIZE, total=page.total),
                "overdue_total": len(overdue),
                "may_file": bool(by.agency_ids(*perm.AGENCY_ROLES)),
            }
        ),
    )


@router.get("/exchange/filings/overdue", response_class=HTMLResponse)
def overdue(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    owed = service.overdue_reports(session, viewer=by)
    owed.sort(key=lambda o: (o.due_on, o.filing.id))
    return render(
        request,
        "exchange/offplatform_overdue.html",
        _base({"owed": owed, "subject_of": service.subject_of, "today": clock.today()}),
    )


def _agencies(session: Any, by: Any) -> list[tuple[str, str]]:
    return [
        (a.code, a.name)
        for a in (registry_service.get_agency(session, i) for i in sorted(by.agency_ids(*perm.AGENCY_ROLES)))
    ]


def _new_page(
    request: Request,
    session: Any,
    by: Any,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    agencies = _agencies(session, by)
    values = values or {"direction": "provide", "agency": agencies[0][0] if agencies else ""}
    return render(
        request,
        "exchange/offplatform_filing_form.html",
        _base({"agencies": agencies, "values": values, "errors": errors or {}, "form_error": form_error}),
        status_code=status,
    )


@router.get("/exchange/filings/new", response_class=HTMLResponse)
def new_filing(request: Request, session: SessionDep, by: Provider) -> HTMLResponse:
    return _new_page(request, session, by)


@router.post("/exchange/filings/new", response_class=HTMLResponse, response_model=None)
def file_filing(request: Request, session: SessionDep, by: Provider, form: CsrfForm) -> HTMLResponse | RedirectResponse:
    _ = translator(request)
    lang = i18n.lang_of(request)
    values = form_values(form, FILING_FIELDS)
    errors: dict[str, str] = {}
    for name in ("direction", "reason", "channel"):
        if not values[name]:
            errors[name] = _("请填写此项")
    if errors:
        return _new_page(request, session, by, values=values, errors=errors, status=422)
    change = FormChange(session, lang, fields=FILING_FIELDS, errors=errors)
    filing = None
    with change:
        data = FilingCreate(**{k: (v or None) for k, v in values.items()})  # type: ignore[arg-type]
        filing = service.file_filing(session, data, by=by)
    if change.ok and filing is not None:
        return RedirectResponse(f"/exchange/filings/{filing.id}?saved=filed", status_code=303)
    return _new_page(
        request, session, by, values=values, errors=errors, form_error=change.form_error, status=change.status
    )


def _filing_page(
    request: Request,
    session: Any,
    filing_id: int,
    by: Any,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    end_values: dict[str, Any] | None = None,
    end_errors: dict[str, str] | None = None,
    end_error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    filing = service.get_filing(session, filing_id, viewer=by)
    read = service.filing_reads(session, [filing])[0]
    reports = [service.report_read(r) for r in service.list_reports(session, filing_id, viewer=by)]
    owed = [o for o in service.overdue_for(session, [filing], clock.today())]
    if values is None:
        values = {"period_start": owed[0].period_start.isoformat() if owed else ""}
    saved = SAVED.get(request.query_params.get("saved", ""))
    return render(
        request,
        "exchange/offplatform_filing.html",
        _base(
            {
                "f": read,
                "reports": reports,
                "owed": owed,
                "may_report": perm.is_member(by, filing.agency_id) and filing.state == "active",
                "values": values,
                "errors": errors or {},
                "form_error": form_error,
                "end_values": end_values or {},
                "end_errors": end_errors or {},
                "end_error": end_error,
                "end_reason_max": rules.END_REASON_MAX,
                "saved": saved,
            }
        ),
        status_code=status,
    )


@router.get("/exchange/filings/{filing_id}", response_class=HTMLResponse)
def filing(filing_id: FilingId, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _filing_page(request, session, filing_id, by)


@router.post("/exchange/filings/{filing_id}/reports", response_class=HTMLResponse, response_model=None)
def submit_report(
    filing_id: FilingId, request: Request, session: SessionDep, by: Provider, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    _ = translator(request)
    lang = i18n.lang_of(request)
    values = form_values(form, REPORT_FIELDS)
    errors: dict[str, str] = {}
    for name in REPORT_FIELDS:
        if not values[name]:
            errors[name] = _("请填写此项")
    if errors:
        return _filing_page(request, session, filing_id, by, values=values, errors=errors, status=422)
    change = FormChange(session, lang, fields=REPORT_FIELDS, errors=errors)
    with change:
        data = ReportCreate(
            period_start=values["period_start"],  # type: ignore[arg-type]
            calls=values["calls"],  # type: ignore[arg-type]
            records=values["records"],  # type: ignore[arg-type]
            purpose=values["purpose"],
        )
        service.submit_report(session, filing_id, data, by=by)
    if change.ok:
        return RedirectResponse(f"/exchange/filings/{filing_id}?saved=reported", status_code=303)
    return _filing_page(
        request,
        session,
        filing_id,
        by,
        values=values,
        errors=errors,
        form_error=change.form_error,
        status=change.status,
    )


@router.post("/exchange/filings/{filing_id}/end", response_class=HTMLResponse, response_model=None)
def end_filing(
    filing_id: FilingId, request: Request, session: SessionDep, by: Provider, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    """The off-platform sharing stopped: the filing ends with its reason (the service checks it,
    Art 14(3)); no further periods are owed after today's."""
    values = {"reason": str(form.get("reason") or "").strip()}
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=("reason",), errors=errors)
    with change:
        service.end_filing(session, filing_id, values["reason"], by=by)
    if change.ok:
        return RedirectResponse(f"/exchange/filings/{filing_id}?saved=ended", status_code=303)
    return _filing_page(
        request,
        session,
        filing_id,
        by,
        end_values=values,
        end_errors=errors,
        end_error=change.form_error,
        status=change.status,
    )
