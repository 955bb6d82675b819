"""Sharing pages, continued: negotiation outside the catalog (Art 13(1)) and publication consent
(Art 17). Every change goes through ``sharing.service.negotiation`` and ``sharing.service.consent``
(the same rules and scope as their API); a refusal shows its rule and article on the page."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govshare.catalog import service as catalog_service
from govshare.core import clock, refs
from govshare.core.auth import Authority, Principal
from govshare.core.db import SessionDep
from govshare.core.errors import Forbidden
from govshare.core.paging import Pager
from govshare.portal import i18n
from govshare.portal.i18n import N_
from govshare.portal.web import CsrfForm, FormChange, form_values, render
from govshare.registry import service as registry_service
from govshare.sharing import permissions as perm
from govshare.sharing import rules, rules_more
from govshare.sharing.permissions import Member, Reader
from govshare.sharing.schemas_more import (
    AnswerIn,
    DecisionIn,
    DisagreeIn,
    MessageIn,
    NegotiationCreate,
    ProposalIn,
    PublicationAsk,
    RepublishIn,
)
from govshare.sharing.service import consent as consent_service
from govshare.sharing.service import grants as grant_service
from govshare.sharing.service import negotiation as negotiation_service

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

TEXT: dict[str, str] = {
    "opened": N_("协商已发起，等待对方回复。"),
    "message": N_("消息已发送。"),
    "proposed": N_("方案已提出，等待对方同意。"),
    "agreed": N_("双方已协商一致。"),
    "escalated": N_("已提交信息化主管部门，由其报本级政府决定。"),
    "decided": N_("本级政府的决定已登记，对双方有约束力。"),
    "withdrawn": N_("协商已撤回。"),
    "asked": N_("已征求提供单位同意。"),
    "republished": N_("再公开及其来源已登记。"),
    "consented": N_("已同意公开。"),
    "refused": N_("已不同意公开。"),
    "proposal_open": N_("待对方同意"),
    "proposal_accepted": N_("已同意"),
    "proposal_superseded": N_("已被新方案取代"),
    "proposal_rejected": N_("未获同意"),
    "no_region": N_("（申请的范围）"),
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
    return _t(done, lang) if done in TEXT and not done.startswith(("proposal_", "no_")) else None


def _flatten(change: FormChange, errors: dict[str, str]) -> str | None:
    """These forms show one line at the top: the service's refusal, or the schema's first."""
    if change.form_error:
        return change.form_error
    return "; ".join(errors.values()) or None


# --- Negotiations ---------------------------------------------------------------------------------


@router.get("/sharing/negotiations", response_class=HTMLResponse)
def negotiations(request: Request, session: SessionDep, by: Reader,
                 offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> HTMLResponse:
    lang = i18n.lang_of(request)
    page = negotiation_service.list_negotiations(session, viewer=by, offset=offset, limit=PAGE_SIZE)
    rows = [{"id": n.id, "title": n.title, "requester": n.requester, "provider": n.provider, "state": n.state,
             "state_label": rules.label(rules_more.NEGOTIATION_STATES, n.state, lang)} for n in page.rows]
    return render(request, "sharing/negotiations.html", {
        **_pages()._common_context(session, lang), **_pages()._tabs_context(session, by, lang), "rows": rows,
        "can_open": bool(by.agency_ids(*perm.AGENCY_ROLES)), "pager": Pager(offset, PAGE_SIZE, page.total)})


NEGOTIATION_FIELDS = ("requester", "provider", "title", "data_wanted", "purpose", "legal_basis", "message")


def _negotiation_form(request: Request, session: Session, by: Principal, values: dict[str, Any],
                      errors: dict[str, str], form_error: str | None, status_code: int = 200) -> HTMLResponse:
    lang = i18n.lang_of(request)
    _ = i18n.gettext_for(lang)
    own = {code for code, _name in _pages()._own_agencies(session, by, lang)}
    agencies, _total = registry_service.list_agencies(session, limit=500)
    providers = [("", _("（请选择）"))] + [
        (a.code, (a.name_en or a.name) if lang == "en" else a.name) for a in agencies if a.code not in own]
    labels = {"requester": _("申请机关"), "provider": _("数据持有机关"), "title": _("协商事项"),
              "data_wanted": _("需要的数据"), "purpose": _("用途"), "legal_basis": _("所履行的职责及法律依据"),
              "message": _("第一条消息")}
    return render(request, "sharing/negotiation_form.html", {
        **_pages()._common_context(session, lang), "values": values, "errors": errors, "form_error": form_error,
        "labels": labels, "requesters": _pages()._own_agencies(session, by, lang), "providers": providers,
    }, status_code=status_code)


@router.get("/sharing/negotiations/new", response_class=HTMLResponse)
def new_negotiation(request: Request, session: SessionDep, by: Member) -> HTMLResponse:
    return _negotiation_form(request, session, by, {}, {}, None)


@router.post("/sharing/negotiations/new", response_class=HTMLResponse, response_model=None)
def create_negotiation(request: Request, session: SessionDep, by: Member, form: CsrfForm
                       ) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values = form_values(form, NEGOTIATION_FIELDS)
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=NEGOTIATION_FIELDS, errors=errors)
    with change:
        neg = negotiation_service.open_negotiation(session, NegotiationCreate.model_validate(
            {k: (v or None) if k in ("requester", "message") else v for k, v in values.items()}), by=by)
    if change.ok:
        return RedirectResponse(f"/sharing/negotiations/{neg.id}?done=opened", status_code=303)
    return _negotiation_form(request, session, by, values, errors, change.form_error, status_code=422)


def _negotiation_page(request: Request, session: Session, by: Principal, negotiation_id: int, *,
                      values: dict[str, Any] | None = None, form_error: str | None = None,
                      status_code: int = 200) -> HTMLResponse:
    lang = i18n.lang_of(request)
    _ = i18n.gettext_for(lang)
    neg = negotiation_service.get_negotiation(session, negotiation_id, viewer=by)
    read = negotiation_service.negotiation_read(session, neg, lang)
    party = next((a for a in (neg.requester, neg.provider) if perm.is_member(by, a.id)), None)
    open_proposal = next((m for m in read.messages if m.proposal_state == "open"), None)
    try:
        negotiation_service.check_decider(session, neg, by)
        is_decider = True
    except Forbidden:  # not the authority of their level
        is_decider = False
    today = clock.today()
    defaults = {"p_region": neg.provider_region_code, "g_region": neg.provider_region_code,
                "p_ends_on": (today.replace(year=today.year + 1) - dt.timedelta(days=1)).isoformat(),
                "g_ends_on": (today.replace(year=today.year + 1) - dt.timedelta(days=1)).isoformat(),
                "p_channel": "platform", "g_channel": "platform", "outcome": "share"}
    return render(request, "sharing/negotiation.html", {
        **_pages()._common_context(session, lang),
        "n": read,
        "values": {**defaults, **(values or {})},
        "errors": {},
        "form_error": form_error,
        "done": _done(request, lang),
        "can_message": party is not None and neg.state in rules_more.MESSAGE_STATES,
        "can_propose": party is not None and neg.state in rules_more.PROPOSAL_STATES,
        "can_agree": party is not None and neg.state == "open" and open_proposal is not None
        and open_proposal.agency.code != party.code,
        "can_disagree": party is not None and neg.state == "open",
        "can_withdraw": neg.state == "open" and perm.is_member(by, neg.requester_id),
        "can_decide": is_decider and neg.state == "escalated",
        "regions": _pages()._regions_within(session, neg.provider_region_code, lang),
        "channels": _pages()._labels(rules.CHANNELS, lang),
        "outcomes": _pages()._labels(rules_more.DECISION_OUTCOMES, lang),
        "outcome_label": lambda o: rules.label(rules_more.DECISION_OUTCOMES, o, lang),
        "proposal_label": lambda s: _t(f"proposal_{s}", lang) if s else "",
    }, status_code=status_code)


@router.get("/sharing/negotiations/{negotiation_id}", response_class=HTMLResponse)
def negotiation(negotiation_id: Id, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _negotiation_page(request, session, by, negotiation_id)


def _act(request: Request, session: Session, by: Principal, negotiation_id: int, form: FormData,
         fields: tuple[str, ...], done: str, action: Any) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values = form_values(form, fields)
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=(), errors=errors)
    with change:
        action(values)
    if change.ok:
        return RedirectResponse(f"/sharing/negotiations/{negotiation_id}?done={done}", status_code=303)
    return _negotiation_page(request, session, by, negotiation_id, values=values,
                             form_error=_flatten(change, errors), status_code=422)


@router.post("/sharing/negotiations/{negotiation_id}/message", response_class=HTMLResponse, response_model=None)
def message(negotiation_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
            ) -> HTMLResponse | RedirectResponse:
    return _act(request, session, by, negotiation_id, form, ("body",), "message", lambda v: (
        negotiation_service.post_message(session, negotiation_id, MessageIn(body=v["body"]), by=by)))


@router.post("/sharing/negotiations/{negotiation_id}/propose", response_class=HTMLResponse, response_model=None)
def propose(negotiation_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
            ) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)

    def run(v: dict[str, str]) -> None:
        date_errors: dict[str, str] = {}
        ends_on = _pages()._date(v["p_ends_on"], "ends_on", date_errors, lang)
        negotiation_service.propose(session, negotiation_id, ProposalIn.model_validate({
            "body": v["p_body"], "terms": {"items": _split(v["p_items"]), "region_codes": [v["p_region"]],
                                           "ends_on": ends_on, "channel": v["p_channel"] or "platform",
                                           "conditions": v["p_conditions"] or None}}), by=by)

    return _act(request, session, by, negotiation_id, form,
                ("p_body", "p_items", "p_region", "p_ends_on", "p_channel", "p_conditions"), "proposed", run)


@router.post("/sharing/negotiations/{negotiation_id}/agree", response_class=HTMLResponse, response_model=None)
def agree(negotiation_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
          ) -> HTMLResponse | RedirectResponse:
    return _act(request, session, by, negotiation_id, form, (), "agreed",
                lambda v: negotiation_service.agree(session, negotiation_id, by=by))


@router.post("/sharing/negotiations/{negotiation_id}/disagree", response_class=HTMLResponse, response_model=None)
def disagree(negotiation_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
             ) -> HTMLResponse | RedirectResponse:
    return _act(request, session, by, negotiation_id, form, ("reason",), "escalated", lambda v: (
        negotiation_service.disagree(session, negotiation_id, DisagreeIn(reason=v["reason"]), by=by)))


@router.post("/sharing/negotiations/{negotiation_id}/withdraw", response_class=HTMLResponse, response_model=None)
def withdraw(negotiation_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
             ) -> HTMLResponse | RedirectResponse:
    return _act(request, session, by, negotiation_id, form, (), "withdrawn",
                lambda v: negotiation_service.withdraw(session, negotiation_id, by=by))


@router.post("/sharing/negotiations/{negotiation_id}/decision", response_class=HTMLResponse, response_model=None)
def decision(negotiation_id: Id, request: Request, session: SessionDep, by: Authority, form: CsrfForm
             ) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)

    def run(v: dict[str, str]) -> None:
        grant = None
        if v["g_resource"]:
            grant = {"resource": v["g_resource"], "items": _split(v["g_items"]), "region_codes": [v["g_region"]],
                     "ends_on": _pages()._date(v["g_ends_on"], "g_ends_on", {}, lang),
                     "channel": v["g_channel"] or "platform"}
        negotiation_service.decide(session, negotiation_id, DecisionIn.model_validate({
            "government": v["government"], "outcome": v["outcome"], "decision": v["decision"], "grant": grant}),
            by=by)

    return _act(request, session, by, negotiation_id, form,
                ("government", "outcome", "decision", "g_resource", "g_items", "g_region", "g_ends_on", "g_channel"),
                "decided", run)


# --- Publications (Art 17) ------------------------------------------------------------------------


def _publications_page(request: Request, session: Session, by: Principal, offset: int = 0,
                       form_error: str | None = None, status_code: int = 200) -> HTMLResponse:
    lang = i18n.lang_of(request)
    page = consent_service.list_publications(session, viewer=by, offset=offset, limit=PAGE_SIZE)
    return render(request, "sharing/publications.html", {
        **_pages()._common_context(session, lang), **_pages()._tabs_context(session, by, lang),
        "rows": [consent_service.publication_read(p, lang) for p in page.rows],
        "answerable": {p.id for p in page.rows if p.state == "asked" and perm.is_member(by, p.provider_id)},
        "pager": Pager(offset, PAGE_SIZE, page.total), "done": _done(request, lang), "form_error": form_error,
    }, status_code=status_code)


@router.get("/sharing/publications", response_class=HTMLResponse)
def publications(request: Request, session: SessionDep, by: Reader,
                 offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> HTMLResponse:
    return _publications_page(request, session, by, offset)


@router.post("/sharing/publications/{publication_id}/answer", response_class=HTMLResponse, response_model=None)
def answer(publication_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
           ) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values = form_values(form, ("answer", "reason"))
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=(), errors=errors)
    with change:
        data = AnswerIn(reason=values["reason"] or None)
        if values["answer"] == "consent":
            consent_service.consent(session, publication_id, data, by=by)
        else:
            consent_service.refuse(session, publication_id, data, by=by)
    if change.ok:
        done = "consented" if values["answer"] == "consent" else "refused"
        return RedirectResponse(f"/sharing/publications?done={done}#publication-{publication_id}", status_code=303)
    return _publications_page(request, session, by, form_error=_flatten(change, errors), status_code=422)


PUBLICATION_FIELDS = ("grant_id", "content", "channel", "purpose", "source_statement")


def _publication_form(request: Request, session: Session, by: Principal, grant_id: int, values: dict[str, Any],
                      errors: dict[str, str], form_error: str | None, status_code: int = 200) -> HTMLResponse:
    lang = i18n.lang_of(request)
    _ = i18n.gettext_for(lang)
    grant = grant_service.get_grant(session, grant_id, viewer=by)
    resource = catalog_service.get_resource(session, grant.resource_id)
    labels = {"content": _("拟公开的内容"), "channel": _("公开方式或网址"), "purpose": _("公开的目的"),
              "source_statement": _("注明的来源"), "grant_id": _("共享授权")}
    return render(request, "sharing/publication_form.html", {
        **_pages()._common_context(session, lang), "g": grant_service.grant_reads([grant], lang)[0],
        "is_public": resource.open_to_public, "values": values, "errors": errors, "form_error": form_error,
        "labels": labels}, status_code=status_code)


@router.get("/sharing/publications/new", response_class=HTMLResponse)
def new_publication(request: Request, session: SessionDep, by: Member,
                    grant: Annotated[str | None, Query(max_length=12)] = None) -> HTMLResponse:
    grant_id = refs.id_of(grant)
    if grant_id is None:
        from govshare.core.errors import InvalidInput

        raise InvalidInput("sharing.publication.grant_required", "请从共享授权列表中选择", "Choose a grant first",
                           field="grant")
    return _publication_form(request, session, by, grant_id, {}, {}, None)


@router.post("/sharing/publications/new", response_class=HTMLResponse, response_model=None)
def create_publication(request: Request, session: SessionDep, by: Member, form: CsrfForm
                       ) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values = form_values(form, PUBLICATION_FIELDS)
    grant_id = refs.id_of(values["grant_id"])
    if grant_id is None:
        return RedirectResponse("/sharing/grants", status_code=303)
    grant = grant_service.get_grant(session, grant_id, viewer=by)
    public = catalog_service.get_resource(session, grant.resource_id).open_to_public
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=PUBLICATION_FIELDS, errors=errors)
    with change:
        payload = {k: values[k] for k in ("content", "channel", "purpose")} | {"grant_id": grant_id}
        if public:
            consent_service.record_republication(session, RepublishIn.model_validate(
                {**payload, "source_statement": values["source_statement"]}), by=by)
        else:
            consent_service.ask_consent(session, PublicationAsk.model_validate(payload), by=by)
    if change.ok:
        return RedirectResponse(f"/sharing/publications?done={'republished' if public else 'asked'}",
                                status_code=303)
    return _publication_form(request, session, by, grant_id, values, errors, change.form_error, status_code=422)
