"""Portal page: which agencies used the data of this person or enterprise (Art 32).

For the authority and supervisors (``exchange.service.subjects`` says why not the public). The
key is typed into a ``POST`` form and the answer rendered in its response, never redirected to a
URL that would carry it; the lookup goes through the same service as the API, so it is checked
the same way and recorded as an event with its reason.

Further pages are asked for by ``POST`` too, with a form carrying the subject's keyed digest (never the
number), sealed to the person who looked the number up, so the page is no lookup by digest for
anybody else; each page is another lookup, recorded again with the same reason.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from govshare.core.db import SessionDep
from govshare.core.paging import Pager
from govshare.exchange import service
from govshare.exchange.permissions import Overseer
from govshare.portal import i18n
from govshare.portal.forms import form_values, whole
from govshare.portal.web import CsrfForm, FormChange, local_time, render, secret_key, translator

router = APIRouter(include_in_schema=False)

FIELDS = ("kind", "key", "reason")
PAGE_SIZE = 50
MODES = {
    "query": ("托管数据查询", "hosted query"),
    "verify": ("核验", "verification"),
    "proxy": ("接口调用", "API call"),
}
OUTCOMES = {"allowed": ("已提供", "delivered"), "refused": ("已拒绝", "refused"), "failed": ("失败", "failed")}


def _page(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    found: Any = None,
    by: Any = None,
    status: int = 200,
) -> HTMLResponse:
    more = None
    if found is not None and found.total > PAGE_SIZE:
        more = {
            "pager": Pager(offset=found.offset, limit=found.limit, total=found.total),
            "digest": found.digest,
            "seal": _seal(by, found.kind, found.digest),
        }
    return render(
        request,
        "exchange/subjects.html",
        {
            "active": "console",
            "values": values or {"kind": "id_number"},
            "errors": errors or {},
            "form_error": form_error,
            "found": found,
            "more": more,
            "modes": MODES,
            "outcomes": OUTCOMES,
            "local_time": local_time,
        },
        status_code=status,
    )


def _seal(by: Any, kind: str, digest: str) -> str:
    """Binds a next-page form's digest to the person who found it by the number."""
    text = f"govshare-subject-page\x00{by.actor.ref}\x00{kind}\x00{digest}"
    return hmac.new(secret_key(), text.encode(), hashlib.sha256).hexdigest()


@router.get("/exchange/subjects", response_class=HTMLResponse)
def subjects_form(request: Request, by: Overseer) -> HTMLResponse:
    return _page(request)


@router.post("/exchange/subjects", response_class=HTMLResponse)
def subjects_lookup(request: Request, session: SessionDep, by: Overseer, form: CsrfForm) -> HTMLResponse:
    _ = translator(request)
    values = form_values(form, FIELDS)
    errors: dict[str, str] = {}
    if values["kind"] not in service.subjects.KINDS:
        errors["kind"] = _("请选择查询对象的类型")
    if not values["key"]:
        errors["key"] = _("请填写此项")
    if errors:
        return _page(request, values=values, errors=errors, status=422)

    def place(exc: Any) -> str | None:
        from govshare.portal.web import domain_error_message

        message = domain_error_message(exc, i18n.lang_of(request))
        field = {"id_number": "key", "credit_code": "key"}.get(exc.field or "", exc.field)
        if field in FIELDS:
            errors[field] = message
            return None
        return message

    change = FormChange(session, i18n.lang_of(request), fields=FIELDS, errors=errors, place=place)
    found = None
    with change:
        found = service.subjects.lookup(
            session,
            id_number=values["key"] if values["kind"] == "id_number" else None,
            credit_code=values["key"] if values["kind"] == "credit_code" else None,
            reason=values["reason"],
            by=by,
            limit=PAGE_SIZE,
        )
    if not change.ok:
        return _page(request, values=values, errors=errors, form_error=change.form_error, status=change.status)
    # The key is not echoed back into the form: the page shows only what it found.
    return _page(request, values={"kind": values["kind"], "reason": values["reason"]}, found=found, by=by)


@router.post("/exchange/subjects/page", response_class=HTMLResponse)
def subjects_page(request: Request, session: SessionDep, by: Overseer, form: CsrfForm) -> HTMLResponse:
    """Another page of the calls found: by the sealed digest and the same reason, recorded again."""
    _ = translator(request)
    kind, digest, reason = form_values(form, ("kind", "digest", "reason")).values()
    offset = whole(str(form.get("offset") or ""))
    values = {"kind": kind, "reason": reason}
    seal = str(form.get("seal") or "")
    if offset is None or not hmac.compare_digest(seal.encode(), _seal(by, kind, digest).encode()):
        return _page(request, values=values, form_error=_("翻页请求无效，请重新输入号码查询"), status=422)
    errors: dict[str, str] = {}
    change = FormChange(session, i18n.lang_of(request), fields=FIELDS, errors=errors)
    found = None
    with change:
        found = service.subjects.lookup_digest(
            session, kind=kind, digest=digest, reason=reason, by=by, offset=offset, limit=PAGE_SIZE
        )
    if not change.ok:
        return _page(request, values=values, errors=errors, form_error=change.form_error, status=change.status)
    return _page(request, values=values, found=found, by=by)
