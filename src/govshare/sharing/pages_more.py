"""Sharing pages, continued: negotiation outside the catalog (Art 13(1)) and publication consent
(Art 17). Every change goes through the sharing services (``service.negotiations``,
``service.publications``: the same rules and scope as their API); a refusal shows its rule and
article on the page. Served through ``sharing.pages``' router."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govshare.catalog import service as catalog_service
from govshare.core import clock
from govshare.core.auth import Authority, Principal
from govshare.core.db import SessionDep
from govshare.core.paging import Pager
from govshare.portal import i18n
from govshare.portal.i18n import N_
from govshare.portal.web import CsrfForm, FormChange, form_values, render
from govshare.registry import service as registry_service
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.permissions import Member, Reader
from govshare.sharing.schemas import (
    NegotiationAnswer,
    NegotiationCreate,
    NegotiationDecide,
    NegotiationPost,
    PublicationAnswer,
    PublicationCreate,
)
from govshare.sharing.service import grants as grant_service
from govshare.sharing.service import negotiations as negotiation_service
from govshare.sharing.service import publications as publication_service

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

TEXT: dict[str, str] = {
    "opened": N_("协商已发起，等待对方回复。"),
    "message": N_("消息已发送。"),
    "proposal": N_("方案已提出，等待对方同意。"),
    "agreed": N_("双方已协商一致。"),
    "escalated": N_("已提交信息化主管部门，由其报本级政府决定。"),
    "decided": N_("本级政府的决定已登记，对双方有约束力。"),
    "requested": N_("已征求提供单位同意。"),
    "recorded": N_("再公开及其来源已登记。"),
    "consented": N_("已同意公开。"),
    "refused": N_("已不同意公开。"),
    "kind_message": N_("消息"),
    "kind_proposal": N_("方案"),
    "kind_agree": N_("同意"),
    "kind_disagree": N_("不同意"),
}


def _pages() -> Any:
    """The sharing pages module, whose helpers these pages share (imported when first needed: it
    includes this module's router)."""
    from govshare.sharing import pages

    return pages


def _t(key: str, lang: str) -> str:
    return i18n.gettext_for(lang)(TEXT[key])


def _split(value: str) -> list[str]:
    return [x.strip() for x in re.split(r"[、,，;；\n]+", value) if x.strip()]


def _done(request: Request, lang: str) -> str | None:
    done = request.query_params.get("done")
    return _t(done, lang) if done in TEXT and not done.startswith("kind_") else None


def _flatten(change: FormChange, errors: dict[str, str]) -> str | None:
    """These forms show one line at the top: the service's refusal, or the schema's first."""
    if change.form_error:
        return change.form_error
    return "; ".join(errors.values()) or None


# --- Negotiations ---------------------------------------------------------------------------------


@router.get("/sharing/negotiations", response_class=HTMLResponse)
def negotiations(
    request: Request, session: SessionDep, by: Reader, offset: Annotated[int, Query(ge=0, le=100_000)] = 0
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    page = negotiation_service.list_negotiations(session, viewer=by, offset=offset, limit=PAGE_SIZE)
    return render(
        request,
        "sharing/negotiations.html",
        {
            **_pages()._common_context(session, lang),
            **_pages()._tabs_context(session, by, lang),
            "rows": negotiation_service.negotiation_reads(session, page.rows, lang),
            "can_open": bool(by.agency_ids(*perm.AGENCY_ROLES)),
            "pager": Pager(offset, PAGE_SIZE, page.total),
        },
    )


NEGOTIATION_FIELDS = ("requester", "provider", "subject", "purpose", "legal_basis", "message")


def _negotiation_form(
    request: Request,
    session: Session,
    by: Principal,
    values: dict[str, Any],
    errors: dict[str, str],
    form_error: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    _ = i18n.gettext_for(lang)
    own_agencies = _pages()._own_agencies(session, by, lang)
    own = {code for code, _name in own_agencies}
    agencies, _total = registry_service.list_agencies(session, limit=500)
    providers = [("", _("（请选择）"))] + [
        (a.code, (a.name_en or a.name) if lang == "en" else a.name) for a in agencies if a.code not in own
    ]
    labels = {
        "requester": _("申请机关"),
        "provider": _("数据持有机关"),
        "subject": _("需要的数据（未列入共享目录）"),
        "purpose": _("用途"),
        "legal_basis": _("所履行的职责及法律依据"),
        "message": _("第一条消息"),
    }
    return render(
        request,
        "sharing/negotiation_form.html",
        {
            **_pages()._common_context(session, lang),
            "values": values,
            "errors": errors,
            "form_error": form_error,
            "labels": labels,
            "requesters": own_agencies,
            "providers": providers,
        },
        status_code=status_code,
    )


@router.get("/sharing/negotiations/new", response_class=HTMLResponse)
def new_negotiation(request: Request, session: SessionDep, by: Member) -> HTMLResponse:
    return _negotiation_form(request, session, by, {}, {}, None)


@router.post("/sharing/negotiations/new", response_class=HTMLResponse, response_model=None)
def create_negotiation(
    request: Request, session: SessionDep, by: Member, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values = form_values(form, NEGOTIATION_FIELDS)
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=NEGOTIATION_FIELDS, errors=errors)
    with change:
        neg = negotiation_service.open_negotiation(
            session,
            NegotiationCreate.model_validate({k: (v or None) if k == "requester" else v for k, v in values.items()}),
            by=by,
        )
    if change.ok:
        return RedirectResponse(f"/sharing/negotiations/{neg.id}?done=opened", status_code=303)
    return _negotiation_form(request, session, by, values, errors, change.form_error, status_code=422)


def _negotiation_page(
    request: Request,
    session: Session,
    by: Principal,
    negotiation_id: int,
    *,
    values: dict[str, Any] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    neg = negotiation_service.get_negotiation(session, negotiation_id, viewer=by)
    read = negotiation_service.negotiation_reads(session, [neg], lang)[0]
    party = next((a for a in (neg.requester, neg.provider) if perm.is_member(by, a.id)), None)
    proposals = [m for m in read.messages if m.kind == "proposal"]
    is_decider = by.covers_region(registry_service.region_path_of(session, neg.authority_region_code), "authority")
    names = {neg.requester.code: neg.requester.name, neg.provider.code: neg.provider.name}
    today = clock.today()
    defaults = {
        "g_region": neg.provider_region_code,
        "g_channel": "platform",
        "outcome": "share",
        "kind": "message",
        "g_ends_on": (today.replace(year=today.year + 1) - dt.timedelta(days=1)).isoformat(),
    }
    return render(
        request,
        "sharing/negotiation.html",
        {
            **_pages()._common_context(session, lang),
            "n": read,
            "agency_name": lambda code: names.get(code, code),
            "kind_label": lambda k: _t(f"kind_{k}", lang) if f"kind_{k}" in TEXT else k,
            "values": {**defaults, **(values or {})},
            "errors": {},
            "form_error": form_error,
            "done": _done(request, lang),
            "can_post": party is not None and neg.state == "open",
            "can_agree": party is not None
            and neg.state == "open"
            and bool(proposals)
            and proposals[-1].agency != party.code,
            "can_disagree": party is not None and neg.state == "open",
            "can_decide": is_decider and neg.state == "escalated",
            "regions": _pages()._regions_within(session, neg.provider_region_code, lang),
            "channels": _pages()._labels(rules.CHANNELS, lang),
            "kinds": [("message", _t("kind_message", lang)), ("proposal", _t("kind_proposal", lang))],
            "outcomes": _pages()._labels(rules.DECISION_OUTCOMES, lang),
            "outcome_label": lambda o: rules.label(rules.DECISION_OUTCOMES, o, lang),
        },
        status_code=status_code,
    )


@router.get("/sharing/negotiations/{negotiation_id}", response_class=HTMLResponse)
def negotiation(negotiation_id: Id, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _negotiation_page(request, session, by, negotiation_id)


def _act(
    request: Request,
    session: Session,
    by: Principal,
    negotiation_id: int,
    form: FormData,
    fields: tuple[str, ...],
    done: Any,
    action: Any,
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values = form_values(form, fields)
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=(), errors=errors)
    with change:
        action(values)
    if change.ok:
        key = done(values) if callable(done) else done
        return RedirectResponse(f"/sharing/negotiations/{negotiation_id}?done={key}", status_code=303)
    return _negotiation_page(
        request, session, by, negotiation_id, values=values, form_error=_flatten(change, errors), status_code=422
    )


@router.post("/sharing/negotiations/{negotiation_id}/post", response_class=HTMLResponse, response_model=None)
def post(
    negotiation_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    """A message, or a proposal of terms (Art 13(1)); no fee field can be sent (Art 16)."""
    return _act(
        request,
        session,
        by,
        negotiation_id,
        form,
        ("kind", "body"),
        lambda v: "proposal" if v["kind"] == "proposal" else "message",
        lambda v: negotiation_service.post_message(
            session,
            negotiation_id,
            NegotiationPost.model_validate({"kind": v["kind"] or "message", "body": v["body"]}),
            by=by,
        ),
    )


@router.post("/sharing/negotiations/{negotiation_id}/answer", response_class=HTMLResponse, response_model=None)
def answer(
    negotiation_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    """Agree to the other party's latest proposal, or disagree: the authority of their level takes it up."""
    return _act(
        request,
        session,
        by,
        negotiation_id,
        form,
        ("answer", "body"),
        lambda v: "agreed" if v["answer"] == "agree" else "escalated",
        lambda v: negotiation_service.answer_negotiation(
            session, negotiation_id, NegotiationAnswer(agree=v["answer"] == "agree", body=v["body"]), by=by
        ),
    )


@router.post("/sharing/negotiations/{negotiation_id}/decide", response_class=HTMLResponse, response_model=None)
def decide(
    negotiation_id: Id, request: Request, session: SessionDep, by: Authority, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    """The authority of their level records the government's decision; it may create the grant."""
    lang = i18n.lang_of(request)

    def run(v: dict[str, str]) -> None:
        grant = None
        if v["g_resource"]:
            grant = {
                "resource": v["g_resource"],
                "items": _split(v["g_items"]),
                "region_codes": [v["g_region"]],
                "ends_on": _pages()._date(v["g_ends_on"], "g_ends_on", {}, lang),
                "channel": v["g_channel"] or "platform",
            }
        negotiation_service.decide_negotiation(
            session,
            negotiation_id,
            NegotiationDecide.model_validate(
                {"government": v["government"], "outcome": v["outcome"], "decision": v["decision"], "grant": grant}
            ),
            by=by,
        )

    return _act(
        request,
        session,
        by,
        negotiation_id,
        form,
        ("government", "outcome", "decision", "g_resource", "g_items", "g_region", "g_ends_on", "g_channel"),
        "decided",
        run,
    )


# --- Publications (Art 17) ------------------------------------------------------------------------

PUBLICATION_FIELDS = ("kind", "description", "source_statement")


def _publication_page(
    request: Request,
    session: Session,
    by: Principal,
    grant_id: int,
    values: dict[str, Any],
    errors: dict[str, str],
    form_error: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    _ = i18n.gettext_for(lang)
    grant = grant_service.get_grant(session, grant_id, viewer=by)
    resource = catalog_service.get_resource(session, grant.resource_id)
    publications = publication_service.publication_reads(
        session, publication_service.list_publications(session, grant.id, viewer=by), lang
    )
    labels = {"kind": _("方式"), "description": _("拟公开的内容、渠道和方式"), "source_statement": _("注明的来源")}
    kinds = [("consent", _("征求提供单位同意后公开")), ("already_public", _("已依法公开的数据：注明来源后再公开"))]
    return render(
        request,
        "sharing/publication.html",
        {
            **_pages()._common_context(session, lang),
            "g": grant_service.grant_reads([grant], lang)[0],
            "is_public": resource.open_to_public,
            "publications": publications,
            "can_ask": perm.is_member(by, grant.consumer_id) and grant.state == "active",
            "can_answer": perm.is_member(by, grant.provider_id),
            "kinds": kinds,
            "values": {"kind": "already_public" if resource.open_to_public else "consent", **values},
            "errors": errors,
            "form_error": form_error,
            "labels": labels,
            "done": _done(request, lang),
        },
        status_code=status_code,
    )


@router.get("/sharing/grants/{grant_id}/publications", response_class=HTMLResponse)
def publications(grant_id: Id, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    """A grant's publications: the consumer asks consent or records a public source, the provider
    answers (Art 17)."""
    return _publication_page(request, session, by, grant_id, {}, {}, None)


@router.post("/sharing/grants/{grant_id}/publications", response_class=HTMLResponse, response_model=None)
def create_publication(
    grant_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values = form_values(form, PUBLICATION_FIELDS)
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=PUBLICATION_FIELDS, errors=errors)
    with change:
        publication_service.request_publication(
            session,
            grant_id,
            PublicationCreate.model_validate(
                {
                    "kind": values["kind"],
                    "description": values["description"],
                    "source_statement": values["source_statement"] or None,
                }
            ),
            by=by,
        )
    if change.ok:
        done = "recorded" if values["kind"] == "already_public" else "requested"
        return RedirectResponse(f"/sharing/grants/{grant_id}/publications?done={done}", status_code=303)
    return _publication_page(request, session, by, grant_id, values, errors, change.form_error, status_code=422)


@router.post("/sharing/publications/{publication_id}/answer", response_class=HTMLResponse, response_model=None)
def answer_publication(
    publication_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values = form_values(form, ("answer", "reason"))
    pub = publication_service.get_publication(session, publication_id, viewer=by)
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=(), errors=errors)
    with change:
        publication_service.answer_publication(
            session,
            publication_id,
            PublicationAnswer(consent=values["answer"] == "consent", answer=values["reason"]),
            by=by,
        )
    if change.ok:
        done = "consented" if values["answer"] == "consent" else "refused"
        return RedirectResponse(f"/sharing/grants/{pub.grant_id}/publications?done={done}", status_code=303)
    return _publication_page(request, session, by, pub.grant_id, {}, {}, _flatten(change, errors), status_code=422)
