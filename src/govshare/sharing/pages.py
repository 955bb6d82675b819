"""Sharing pages (Art 13, 16-19): the inboxes of requester and provider with their legal deadlines,
the request form (from a catalog entry or a matched demand), a request's detail with its full
history and the provider's answer forms, the confidentiality agreement with its signatures and PDF,
grants, the authority's filing list of refusals and the overdue requests.

Every change goes through the sharing services (the same scope checks and rules as the API), so a
refused action shows the rule and its article next to the field at fault. Reads that only a page
needs (a request's history, the console's counts) are queries here; they change nothing.
Page text is Chinese in the templates and here, English in the Babel catalog.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from govshare.catalog import service as catalog_service
from govshare.catalog.models import CatalogDemandMatch, CatalogResource
from govshare.core import clock, refs
from govshare.core.auth import Principal
from govshare.core.db import SessionDep
from govshare.core.errors import DomainError, Forbidden, InvalidInput
from govshare.core.paging import Pager
from govshare.portal import i18n
from govshare.portal.i18n import N_
from govshare.portal.web import CsrfForm, FormChange, checkbox, form_values, local_time, render
from govshare.registry import service as registry_service
from govshare.registry.models import Region
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.models import SharingAgreement, SharingFiling, SharingGrant, SharingRequest
from govshare.sharing.permissions import DisputeActor, Member, Reader, Signer
from govshare.sharing.schemas import ApproveIn, DisputeDecide, RefuseIn, RequestCreate
from govshare.sharing.service import _common as common
from govshare.sharing.service import agreements as agreement_service
from govshare.sharing.service import answers as answer_service
from govshare.sharing.service import disputes as dispute_service
from govshare.sharing.service import grants as grant_service
from govshare.sharing.service import history as history_service
from govshare.sharing.service import requests as request_service

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

#: Text chosen by page code (the templates carry their own); translated by the Babel catalog.
TEXT: dict[str, str] = {
    "submitted": N_("共享申请已提交，提供单位将在法定期限内答复。"),
    "granted": N_("该资源无条件共享，申请已即时获得授权。"),
    "approved": N_("已同意共享。"),
    "approved_agreement": N_("已同意共享。请双方共享负责人签署保密协议，签署后授权生效。"),
    "refused": N_("已拒绝共享，拒绝理由已报信息化主管部门备案。"),
    "withdrawn": N_("申请已撤回。"),
    "signed": N_("已签署。"),
    "signed_all": N_("双方均已签署，共享授权已生效。"),
    "revoked": N_("授权已撤销。"),
    "dispute_decided": N_("争议已决定，答复期限恢复计时。"),
    "box_received": N_("本机关收到的申请"),
    "box_sent": N_("本机关的申请"),
    "box_all": N_("本地区的申请"),
    "tab_grants": N_("共享授权"),
    "tab_overdue": N_("逾期未答复"),
    "tab_filings": N_("拒绝备案"),
    "tab_negotiations": N_("目录外协商"),
    "intro_received": N_(
        "其他机关向本机关提出的共享申请，最紧迫的在前。须在期限内答复：同意，或依据法定理由拒绝（第十三条、第十八条）。"
    ),
    "intro_sent": N_("本机关提出的共享申请及其答复期限，最紧迫的在前。"),
    "intro_all": N_("本地区及下级地区各机关之间的共享申请（第五条、第三十二条），最紧迫的在前。"),
    "empty_received": N_("目前没有待本机关答复的申请。"),
    "empty_sent": N_("本机关尚未提出共享申请。可在共享目录中打开一个已发布的条目，点击“申请共享”。"),
    "empty_all": N_("本地区暂无共享申请。"),
    "all_states": N_("（全部）"),
    "choose": N_("（请选择）"),
    "waiting": N_("待办（待答复、逾期、争议）"),
    "items_required": N_("请至少选择一个信息项"),
    "reason_required": N_("请填写撤销理由（至少 4 个字）"),
    "party_provider": N_("提供方"),
    "party_consumer": N_("使用方"),
    "sign_hint": N_("保密协议由双方机关的共享负责人（机关管理员）签署；签署确认的是上方 PDF 的 SHA-256 所指的文本。"),
    "clock_at_once": N_("无条件共享：即时获得授权。"),
    "clock_days": N_("%(n)s 个工作日（%(source)s）"),
    "clock_sensitive_items": N_("申请标有个人信息或涉密的信息项时，%(sensitive)s；只申请其他信息项时，%(plain)s"),
    "channel_hint": N_("涉及国家秘密的数据只能通过采取保密措施的网络共享（第十八条第二款）"),
    "t_parties": N_("双方"),
    "t_resource": N_("目录资源"),
    "t_items": N_("信息项"),
    "t_purpose": N_("用途"),
    "t_legal_basis": N_("职责及法律依据"),
    "t_region": N_("数据范围"),
    "t_term": N_("共享期限"),
    "t_channel": N_("共享方式"),
    "t_touches": N_("涉及"),
    "verify_only": N_("仅核验"),
    "c_received": N_("待本机关答复"),
    "c_received_overdue": N_("本机关逾期未答复"),
    "c_sent": N_("本机关等待答复的申请"),
    "c_sign": N_("待本机关签署的保密协议"),
    "c_grants": N_("有效的共享授权"),
    "c_region_waiting": N_("本地区待答复的申请"),
    "c_region_overdue": N_("本地区逾期未答复"),
    "c_filings": N_("拒绝共享备案"),
    "c_escalated": N_("待报本级政府决定的协商"),
}

#: What is touched, for lists and the detail (Art 18, 19).
TOUCHES: dict[str, str] = {
    "state_secret": N_("国家秘密"),
    "commercial_secret": N_("商业秘密"),
    "personal": N_("个人信息"),
}

#: The history's line for each event of a request, its agreement, grant, filing and disputes.
ACTIONS: dict[str, str] = {
    "sharing.request.submitted": N_("提出申请"),
    "sharing.request.granted_at_once": N_("无条件共享，即时授权"),
    "sharing.request.approved": N_("提供单位同意共享"),
    "sharing.request.refused": N_("提供单位拒绝共享"),
    "sharing.request.withdrawn": N_("申请机关撤回申请"),
    "sharing.request.overdue": N_("逾期未答复"),
    "sharing.request.marked_overdue": N_("逾期未答复"),
    "sharing.request.reminded": N_("答复期限提醒"),
    "sharing.request.deadline_recomputed": N_("导入官方日历后重新计算期限"),
    "sharing.request.clock_held": N_("争议处理中，暂停计时"),
    "sharing.request.clock_resumed": N_("争议已决定，恢复计时"),
    "sharing.refusal.filed": N_("拒绝理由报信息化主管部门备案"),
    "sharing.agreement.created": N_("生成保密协议"),
    "sharing.agreement.signed": N_("签署保密协议"),
    "sharing.agreement.voided": N_("保密协议作废"),
    "sharing.grant.created": N_("生成共享授权"),
    "sharing.grant.activated": N_("共享授权生效"),
    "sharing.grant.revoked": N_("提供单位撤销授权"),
    "sharing.grant.expired": N_("共享授权到期"),
    "sharing.dispute.opened": N_("提出争议"),
    "sharing.dispute.decided": N_("争议已决定"),
}


def _t(key: str, lang: str, **variables: object) -> str:
    return i18n.gettext_for(lang)(TEXT[key], **variables)


def _tr(message: str, lang: str) -> str:
    return i18n.gettext_for(lang)(message)


def _labels(vocab: rules.Labels, lang: str) -> list[tuple[str, str]]:
    return [(k, i18n.pick(v, lang)) for k, v in vocab.items()]


def _touches_text(lang: str) -> Any:
    sep = "、" if lang == "zh" else ", "
    return lambda keys: sep.join(_tr(TOUCHES.get(k, k), lang) for k in keys)


def _region_namer(session: Session, lang: str) -> Any:
    cache: dict[str, str] = {}

    def name(code: str) -> str:
        if code not in cache:
            region = session.get(Region, code)
            cache[code] = code if region is None else ((region.name_en or region.name) if lang == "en" else region.name)
        return cache[code]

    return name


def _common_context(session: Session, lang: str) -> dict[str, Any]:
    return {
        "active": "sharing",
        "touches_text": _touches_text(lang),
        "region_name": _region_namer(session, lang),
        "ground_label": lambda g: rules.label(rules.REFUSAL_GROUNDS, g, lang),
        "channel_label": lambda c: rules.label(rules.CHANNELS, c, lang),
        "local_time": local_time,
    }


def _clock_text(rule: rules.ClockRule, lang: str) -> str:
    if rule.workdays == 0:
        return _t("clock_at_once", lang)
    return _t("clock_days", lang, n=rule.workdays, source=rule.source if lang == "zh" else rule.article)


# --- Tabs and counts ----------------------------------------------------------------------------


def _is_member(by: Principal) -> bool:
    return bool(by.agency_ids(*perm.AGENCY_ROLES))


def _is_overseer(by: Principal) -> bool:
    return bool(by.region_paths(*perm.OVERSEERS)) or by.is_system


def _waiting_overdue() -> Any:
    today = clock.today()
    return or_(
        SharingRequest.state == "overdue", and_(SharingRequest.state == "pending", SharingRequest.deadline_on < today)
    )


def _count(session: Session, stmt: Any) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _received_stmt(by: Principal) -> Any:
    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    return select(SharingRequest.id).where(
        SharingRequest.provider_id.in_(own), SharingRequest.state.in_(("pending", "overdue", "disputed"))
    )


def _tabs(by: Principal, lang: str) -> list[tuple[str, str, str]]:
    tabs = []
    if _is_member(by):
        tabs += [
            ("received", "/sharing/requests?box=received", _t("box_received", lang)),
            ("sent", "/sharing/requests?box=sent", _t("box_sent", lang)),
        ]
    if _is_overseer(by):
        tabs.append(("all", "/sharing/requests?box=all", _t("box_all", lang)))
    tabs += [
        ("grants", "/sharing/grants", _t("tab_grants", lang)),
        ("overdue", "/sharing/overdue", _t("tab_overdue", lang)),
    ]
    if _is_overseer(by) or _is_member(by):
        tabs.append(("filings", "/sharing/filings", _t("tab_filings", lang)))
    tabs.append(("negotiations", "/sharing/negotiations", _t("tab_negotiations", lang)))
    return tabs


def _tab_counts(session: Session, by: Principal) -> dict[str, int]:
    counts: dict[str, int] = {}
    if _is_member(by):
        counts["received"] = _count(session, _received_stmt(by))
    counts["overdue"] = _count(
        session, select(SharingRequest.id).where(common.request_readable(by), _waiting_overdue())
    )
    return counts


def _tabs_context(session: Session, by: Principal, lang: str) -> dict[str, Any]:
    return {"sharing_tabs": _tabs(by, lang), "tab_counts": _tab_counts(session, by)}


def console_panel(session: Session, by: Principal, lang: str) -> list[tuple[str, str, str, int, bool]]:
    """The console's sharing counts for the signed-in person: (key, link, text, count, alarm when
    non-zero). Empty for a person with no sharing role."""
    if not (_is_member(by) or _is_overseer(by)):
        return []
    out: list[tuple[str, str, str, int, bool]] = []
    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    if own:
        received = _received_stmt(by)
        out.append(
            ("received", "/sharing/requests?box=received", _t("c_received", lang), _count(session, received), False)
        )
        out.append(
            (
                "received_overdue",
                "/sharing/overdue",
                _t("c_received_overdue", lang),
                _count(session, received.where(_waiting_overdue())),
                True,
            )
        )
        out.append(
            (
                "sent",
                "/sharing/requests?box=sent&state=waiting",
                _t("c_sent", lang),
                _count(
                    session,
                    select(SharingRequest.id).where(
                        SharingRequest.requester_id.in_(own),
                        SharingRequest.state.in_(("pending", "overdue", "disputed")),
                    ),
                ),
                False,
            )
        )
        admin_of = sorted(by.agency_ids("agency_admin"))
        if admin_of:
            from govshare.sharing.models import SharingSignature

            signed_by_me = select(SharingSignature.agreement_id).where(SharingSignature.agency_id.in_(admin_of))
            out.append(
                (
                    "sign",
                    "/sharing/requests?box=sent",
                    _t("c_sign", lang),
                    _count(
                        session,
                        select(SharingAgreement.id).where(
                            SharingAgreement.state.in_(("awaiting_signatures", "partially_signed")),
                            or_(SharingAgreement.provider_id.in_(admin_of), SharingAgreement.consumer_id.in_(admin_of)),
                            SharingAgreement.id.not_in(signed_by_me),
                        ),
                    ),
                    True,
                )
            )
        out.append(
            (
                "grants",
                "/sharing/grants?state=active",
                _t("c_grants", lang),
                _count(
                    session,
                    select(SharingGrant.id).where(
                        SharingGrant.state == "active",
                        or_(SharingGrant.consumer_id.in_(own), SharingGrant.provider_id.in_(own)),
                    ),
                ),
                False,
            )
        )
    paths = by.region_paths(*perm.OVERSEERS)
    if paths:
        region_cond = or_(
            registry_service.in_subtrees(SharingRequest.requester_region_code, paths),
            registry_service.in_subtrees(SharingRequest.provider_region_code, paths),
        )
        out.append(
            (
                "region_waiting",
                "/sharing/requests?box=all&state=waiting",
                _t("c_region_waiting", lang),
                _count(
                    session,
                    select(SharingRequest.id).where(
                        region_cond, SharingRequest.state.in_(("pending", "overdue", "disputed"))
                    ),
                ),
                False,
            )
        )
        out.append(
            (
                "region_overdue",
                "/sharing/overdue",
                _t("c_region_overdue", lang),
                _count(session, select(SharingRequest.id).where(region_cond, _waiting_overdue())),
                True,
            )
        )
        authority_paths = by.region_paths("authority")
        if authority_paths:
            from govshare.sharing.models import SharingNegotiation

            out.append(
                (
                    "escalated",
                    "/sharing/negotiations",
                    _t("c_escalated", lang),
                    _count(
                        session,
                        select(SharingNegotiation.id).where(
                            SharingNegotiation.state == "escalated",
                            registry_service.in_subtrees(SharingNegotiation.authority_region_code, authority_paths),
                        ),
                    ),
                    True,
                )
            )
        out.append(
            (
                "filings",
                "/sharing/filings",
                _t("c_filings", lang),
                _count(
                    session,
                    select(SharingFiling.id).where(registry_service.in_subtrees(SharingFiling.region_code, paths)),
                ),
                False,
            )
        )
    return out


# --- Inboxes ------------------------------------------------------------------------------------


@router.get("/sharing", response_class=HTMLResponse)
def sharing_home(by: Reader) -> RedirectResponse:
    return RedirectResponse("/sharing/requests?box=" + ("received" if _is_member(by) else "all"), status_code=303)


@router.get("/sharing/requests", response_class=HTMLResponse)
def inbox(
    request: Request,
    session: SessionDep,
    by: Reader,
    box: Annotated[str | None, Query(max_length=16)] = None,
    state: Annotated[str | None, Query(max_length=16)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    """The requester's (``sent``) and the provider's (``received``) inboxes, and an overseer's view
    of its region (``all``): waiting requests first, the nearest deadline first."""
    lang = i18n.lang_of(request)
    boxes = [k for k, _h, _x in _tabs(by, lang) if k in ("received", "sent", "all")]
    if box not in boxes:
        box = boxes[0] if boxes else "all"
    direction = {"received": "incoming", "sent": "outgoing"}.get(box)
    if state not in rules.REQUEST_STATES and state != "waiting":
        state = None
    page = request_service.list_requests(
        session,
        viewer=by,
        direction=direction,
        state=None if state == "waiting" else state,
        offset=offset,
        limit=PAGE_SIZE,
    )
    rows = common.request_reads(session, page.rows, lang)
    if state == "waiting":  # the three waiting states, still in the service's order
        page = request_service.list_requests(session, viewer=by, direction=direction, offset=0, limit=10**6)
        waiting = [r for r in page.rows if r.state in ("pending", "overdue", "disputed")]
        rows = common.request_reads(session, waiting[offset : offset + PAGE_SIZE], lang)
        total = len(waiting)
    else:
        total = page.total
    overdue_count = request_service.list_requests(session, viewer=by, direction=direction, overdue=True, limit=1).total
    demands = _matched_demands(session, by) if box == "sent" and offset == 0 else []
    states = [("", _t("all_states", lang)), ("waiting", _t("waiting", lang)), *_labels(rules.REQUEST_STATES, lang)]
    return render(
        request,
        "sharing/requests.html",
        {
            **_common_context(session, lang),
            **_tabs_context(session, by, lang),
            "box": box,
            "heading": _t(f"box_{box}", lang),
            "intro": _t(f"intro_{box}", lang),
            "empty_text": _t(f"empty_{box}", lang),
            "rows": rows,
            "state": state or "",
            "state_options": states,
            "overdue_count": overdue_count,
            "pager": Pager(offset, PAGE_SIZE, total),
            "demands": demands,
        },
    )


def _matched_demands(session: Session, by: Principal) -> list[dict[str, Any]]:
    """The viewer's agencies' demands the authority matched to catalog entries (Art 9(2)), each
    entry with a link that turns the demand into a request, unless one was made from it already."""
    from govshare.catalog.models import CatalogDemand

    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    if not own:
        return []
    requested = select(SharingRequest.demand_id).where(SharingRequest.demand_id.is_not(None))
    rows = session.execute(
        select(CatalogDemand.id, CatalogDemand.title, CatalogResource.id, CatalogResource.code, CatalogResource.name)
        .join(CatalogDemandMatch, CatalogDemandMatch.demand_id == CatalogDemand.id)
        .join(CatalogResource, CatalogResource.id == CatalogDemandMatch.resource_id)
        .where(
            CatalogDemand.requester_id.in_(own),
            CatalogDemand.status == "matched",
            CatalogResource.status == "published",
            CatalogDemand.id.not_in(requested),
        )
        .order_by(CatalogDemand.id, CatalogResource.id)
        .limit(50)
    ).all()
    out: dict[int, dict[str, Any]] = {}
    for demand_id, title, resource_id, code, name in rows:
        d = out.setdefault(demand_id, {"id": demand_id, "title": title, "resources": []})
        d["resources"].append({"ref": code or str(resource_id), "name": name})
    return list(out.values())


# --- The request form ---------------------------------------------------------------------------

REQUEST_FIELDS = ("requester", "items", "purpose", "legal_basis", "region_scope", "starts_on", "ends_on")


def _request_labels(lang: str) -> dict[str, str]:
    _ = i18n.gettext_for(lang)
    return {
        "requester": _("申请机关"),
        "items": _("申请的信息项"),
        "purpose": _("用途"),
        "legal_basis": _("所履行的职责及法律依据"),
        "region_scope": _("数据范围（行政区划）"),
        "starts_on": _("共享期限起始日"),
        "ends_on": _("共享期限截止日"),
        "resource": _("目录资源"),
        "demand_id": _("共享需求"),
    }


def _own_agencies(session: Session, by: Principal, lang: str) -> list[tuple[str, str]]:
    out = []
    for agency_id in sorted(by.agency_ids(*perm.AGENCY_ROLES)):
        a = registry_service.get_agency(session, agency_id)
        out.append((a.code, (a.name_en or a.name) if lang == "en" else a.name))
    return out


def _regions_within(session: Session, code: str, lang: str) -> list[tuple[str, str]]:
    root = registry_service.get_region(session, code)
    rows = session.scalars(
        select(Region).where(registry_service.in_subtrees(Region.code, [root.path])).order_by(Region.path)
    )
    out = []
    for r in rows:
        depth = r.path.count("/") - root.path.count("/")
        name = (r.name_en or r.name) if lang == "en" else r.name
        out.append((r.code, "　" * depth + f"{name} ({r.code})"))
    return out


def _published_resource(session: Session, ref: str | None, by: Principal) -> CatalogResource:
    if not ref:
        raise InvalidInput(
            "sharing.request.resource_required",
            "请从共享目录中选择要申请的资源",
            "Choose the entry to request from the catalog",
            field="resource",
        )
    return catalog_service.get_visible(session, ref, by)


def _form_page(
    request: Request,
    session: Session,
    by: Principal,
    resource: CatalogResource,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    form_error: str | None,
    demand: Any = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    read = catalog_service.read_model(session, resource, by)
    items = [{"name": i.name, "is_personal": i.is_personal, "is_secret": i.is_secret} for i in read.data_items]
    chosen = values.get("items") or []

    def clock_for(wanted: list[str]) -> rules.ClockRule:
        t = rules.touches(
            security_classification=resource.security_classification,
            contains_commercial_secret=resource.contains_commercial_secret,
            contains_personal_info=resource.contains_personal_info,
            items=items,
            wanted=wanted,
        )
        return rules.clock_rule_for(resource.share_type, t)

    # The clock depends on the items chosen (Art 18): say both when they differ.
    rule = clock_for([i["name"] for i in items])
    plain = [i["name"] for i in items if not (i["is_personal"] or i["is_secret"])]
    plain_rule = clock_for(plain) if plain else rule
    clock_text = _clock_text(rule, lang)
    if plain_rule.key != rule.key:
        clock_text = _t("clock_sensitive_items", lang, sensitive=clock_text, plain=_clock_text(plain_rule, lang))
    from govshare.catalog import rules as catalog_rules

    return render(
        request,
        "sharing/request_form.html",
        {
            **_common_context(session, lang),
            "resource": read,
            "provider_name": read.provider.name,
            "share_type_label": catalog_rules.label(catalog_rules.SHARE_TYPES, resource.share_type, lang),
            "clock_text": clock_text,
            "demand": demand,
            "requesters": _own_agencies(session, by, lang),
            "data_items": items,
            "chosen_items": set(chosen),
            "regions": _regions_within(session, resource.provider.region_code, lang),
            "values": values,
            "errors": errors,
            "form_error": form_error,
            "labels": _request_labels(lang),
        },
        status_code=status_code,
    )


def _matched_resource(session: Session, demand_id: int) -> int | None:
    matched = list(
        session.scalars(select(CatalogDemandMatch.resource_id).where(CatalogDemandMatch.demand_id == demand_id))
    )
    return matched[0] if len(matched) == 1 else None


@router.get("/sharing/requests/new", response_class=HTMLResponse)
def new_request(
    request: Request,
    session: SessionDep,
    by: Member,
    resource: Annotated[str | None, Query(max_length=64)] = None,
    demand: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    """The request form for a published catalog entry; from a matched demand (``?demand=``) the
    demand's duty and legal basis fill the purpose and basis (Art 9, 17)."""
    demand_row = None
    demand_id = refs.id_of(demand)
    values: dict[str, Any] = {}
    if demand_id is not None:
        demand_row = catalog_service.get_visible_demand(session, demand_id, by)
        perm.check_request_for(by, demand_row.requester_id)
        values.update(
            purpose=demand_row.duty,
            legal_basis=demand_row.legal_basis,
            requester=registry_service.get_agency(session, demand_row.requester_id).code,
        )
        if resource is None:
            matched = _matched_resource(session, demand_row.id)
            resource = str(matched) if matched is not None else None
    row = _published_resource(session, resource, by)
    today = clock.today()
    values.setdefault("region_scope", row.provider.region_code)
    values.update(
        starts_on=today.isoformat(), ends_on=(today.replace(year=today.year + 1) - dt.timedelta(days=1)).isoformat()
    )
    values["items"] = []
    return _form_page(request, session, by, row, values=values, errors={}, form_error=None, demand=demand_row)


def _date(value: str, field: str, errors: dict[str, str], lang: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[field] = i18n.gettext_for(lang)("格式不正确")
        return None


@router.post("/sharing/requests/new", response_class=HTMLResponse, response_model=None)
def create_request(
    request: Request, session: SessionDep, by: Member, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values: dict[str, Any] = form_values(
        form, ("requester", "purpose", "legal_basis", "region_scope", "starts_on", "ends_on", "resource", "demand_id")
    )
    values["items"] = [i for i in form.getlist("items") if isinstance(i, str)]
    resource = _published_resource(session, values["resource"], by)
    demand_id = refs.id_of(values["demand_id"])
    demand = catalog_service.get_visible_demand(session, demand_id, by) if demand_id is not None else None
    errors: dict[str, str] = {}
    if not values["items"]:
        errors["items"] = _t("items_required", lang)
    starts_on = _date(values["starts_on"], "starts_on", errors, lang)
    ends_on = _date(values["ends_on"], "ends_on", errors, lang)
    change = FormChange(session, lang, fields=REQUEST_FIELDS, errors=errors)
    if not errors:
        with change:
            payload: dict[str, Any] = {
                "requester": values["requester"] or None,
                "resource": resource.code or str(resource.id),
                "items": values["items"],
                "purpose": values["purpose"],
                "legal_basis": values["legal_basis"],
                "region_scope": values["region_scope"],
                "starts_on": starts_on,
                "ends_on": ends_on,
                "demand_id": demand_id,
            }
            made = request_service.create_request(session, RequestCreate.model_validate(payload), by=by)
    if change.ok:
        done = "granted" if made.state == "approved" else "submitted"
        return RedirectResponse(f"/sharing/requests/{made.id}?done={done}", status_code=303)
    return _form_page(
        request,
        session,
        by,
        resource,
        values=values,
        errors=errors,
        form_error=change.form_error,
        demand=demand,
        status_code=422,
    )


# --- One request --------------------------------------------------------------------------------


def _history(session: Session, req: SharingRequest, by: Principal, lang: str) -> list[dict[str, Any]]:
    """Every event of the request, of its agreement, grant, refusal filing and disputes, in order,
    each with the article it rests on (Art 34: who did what, when)."""
    return [
        {
            "seq": e.seq,
            "when": local_time(e.occurred_at),
            "actor_name": e.actor_name,
            "label": _tr(ACTIONS[e.action], lang) if e.action in ACTIONS else e.action,
            "article": e.article,
            "detail": _event_detail(e.action, e.data, lang),
        }
        for e in history_service.request_history(session, req.id, viewer=by)
    ]


def _event_detail(action: str, data: dict[str, Any], lang: str) -> str:
    _ = i18n.gettext_for(lang)
    if action == "sharing.request.submitted" and data.get("deadline_on"):
        text = _("期限 %(d)s", d=data["deadline_on"])
        return text + (" · " + _("暂定期限") if data.get("provisional") else "")
    if action == "sharing.request.deadline_recomputed":
        return f"{data.get('deadline_before') or '—'} → {data.get('deadline_on') or '—'}"
    if action == "sharing.request.refused":
        return rules.label(rules.REFUSAL_GROUNDS, data.get("ground"), lang)
    if action == "sharing.request.approved":
        return rules.label(rules.CHANNELS, data.get("channel"), lang)
    if action in ("sharing.agreement.signed", "sharing.agreement.created") and data.get("pdf_sha256"):
        return "SHA-256 " + str(data["pdf_sha256"])[:16] + "…"
    if action in ("sharing.grant.revoked", "sharing.request.withdrawn") and data.get("reason"):
        return str(data["reason"])
    return ""


APPROVE_FIELDS = (
    "items",
    "region_code",
    "ends_on",
    "channel",
    "off_platform_channel",
    "off_platform_reason",
    "verify_only",
    "note",
)
REFUSE_FIELDS = ("ground", "citation", "reason")


def _answer_labels(lang: str) -> dict[str, str]:
    _ = i18n.gettext_for(lang)
    return {
        "items": _("同意的信息项"),
        "region_code": _("同意的数据范围"),
        "region_codes": _("同意的数据范围"),
        "ends_on": _("同意的截止日"),
        "starts_on": _("同意的起始日"),
        "channel": _("共享方式"),
        "off_platform_channel": _("平台外共享的方式"),
        "off_platform_reason": _("平台外共享的特殊原因"),
        "verify_only": _("仅核验"),
        "note": _("备注"),
        "ground": _("法定理由"),
        "citation": _("所依据的法律法规条款"),
        "reason": _("书面理由"),
    }


def _request_page(
    request: Request,
    session: Session,
    by: Principal,
    request_id: int,
    *,
    approve_values: dict[str, Any] | None = None,
    refuse_values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    failed: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    req = common.get_request(session, request_id, viewer=by)
    read = common.request_reads(session, [req], lang)[0]
    waiting = req.state in ("pending", "overdue")
    can_answer = waiting and perm.is_member(by, req.provider_id)
    resource = catalog_service.get_resource(session, req.resource_id)
    flags = {i.name: i for i in resource.data_items}
    approve_items = [
        {
            "name": n,
            "is_personal": bool(getattr(flags.get(n), "is_personal", False)),
            "is_secret": bool(getattr(flags.get(n), "is_secret", False)),
        }
        for n in req.items
    ]
    if approve_values is None:
        approve_values = {
            "chosen_items": set(req.items),
            "region_code": req.region_scope,
            "ends_on": req.ends_on.isoformat(),
            "channel": "secrecy_network" if req.touches_state_secret else "platform",
        }
    disputes = []
    for d in dispute_service.list_disputes(session, req.id, viewer=by):
        try:
            perm.check_decide(
                by, rules.DISPUTE_DECIDER[d.kind], registry_service.region_path_of(session, d.region_code)
            )
            can_decide = d.state == "open"
        except Forbidden:
            can_decide = False
        disputes.append(
            {
                "d": dispute_service.dispute_read(d),
                "can_decide": can_decide,
                "kind": rules.label(rules.DISPUTE_KINDS, d.kind, lang),
                "state": rules.label(rules.DISPUTE_STATES, d.state, lang),
                "outcome": rules.label(rules.DISPUTE_OUTCOMES, d.outcome, lang),
            }
        )
    done = request.query_params.get("done")
    return render(
        request,
        "sharing/request.html",
        {
            "disputes": disputes,
            "dispute_outcomes": _labels(rules.DISPUTE_OUTCOMES, lang),
            **_common_context(session, lang),
            "r": read,
            "clock_text": _clock_text(rules.CLOCK_RULES[req.clock_rule], lang),
            "history": _history(session, req, by, lang),
            "can_answer": can_answer,
            "can_withdraw": req.state in ("pending", "overdue", "disputed") and perm.is_member(by, req.requester_id),
            "approve_items": approve_items,
            "approve_values": approve_values,
            "refuse_values": refuse_values or {},
            "regions": _regions_within(session, req.region_scope, lang) if can_answer else [],
            "channels": _labels(rules.CHANNELS, lang),
            "channel_hint": _t("channel_hint", lang),
            "grounds": [("", _t("choose", lang)), *_labels(rules.REFUSAL_GROUNDS, lang)],
            "errors": errors or {},
            "approve_errors": (errors or {}) if failed == "approve" else {},
            "refuse_errors": (errors or {}) if failed == "refuse" else {},
            "failed": failed,
            "form_error": form_error,
            "labels": _answer_labels(lang),
            "done": _t(done, lang) if done in TEXT and done in DONE_KEYS else None,
        },
        status_code=status_code,
    )


DONE_KEYS = frozenset(
    {
        "dispute_decided",
        "submitted",
        "granted",
        "approved",
        "approved_agreement",
        "refused",
        "withdrawn",
        "signed",
        "signed_all",
        "revoked",
    }
)


@router.get("/sharing/requests/{request_id}", response_class=HTMLResponse)
def request_detail(request_id: Id, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    return _request_page(request, session, by, request_id)


@router.post("/sharing/requests/{request_id}/approve", response_class=HTMLResponse, response_model=None)
def approve(
    request_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values: dict[str, Any] = form_values(
        form, ("region_code", "ends_on", "channel", "off_platform_channel", "off_platform_reason", "note")
    )
    items = [i for i in form.getlist("items") if isinstance(i, str)]
    values["chosen_items"] = set(items)
    values["verify_only"] = checkbox(form, "verify_only")
    errors: dict[str, str] = {}
    if not items:
        errors["items"] = _t("items_required", lang)
    ends_on = _date(values["ends_on"], "ends_on", errors, lang)
    change = FormChange(
        session,
        lang,
        fields=(*APPROVE_FIELDS, "region_codes", "starts_on"),
        errors=errors,
        place=lambda exc: _place(exc, lang, errors, {"region_codes": "region_code"}, APPROVE_FIELDS),
    )
    if not errors:
        with change:
            data = ApproveIn.model_validate(
                {
                    "items": items,
                    "region_codes": [values["region_code"]] if values["region_code"] else None,
                    "ends_on": ends_on,
                    "channel": values["channel"] or "platform",
                    "verify_only": values["verify_only"],
                    "off_platform_reason": values["off_platform_reason"] or None,
                    "off_platform_channel": values["off_platform_channel"] or None,
                    "note": values["note"] or None,
                }
            )
            answer_service.approve_request(session, request_id, data, by=by)
    if change.ok:
        agreement = agreement_service.agreement_for_request(session, request_id)
        if agreement is not None:
            return RedirectResponse(f"/sharing/agreements/{agreement.id}?done=approved_agreement", status_code=303)
        return RedirectResponse(f"/sharing/requests/{request_id}?done=approved", status_code=303)
    if "region_codes" in errors:
        errors["region_code"] = errors.pop("region_codes")
    return _request_page(
        request,
        session,
        by,
        request_id,
        approve_values=values,
        errors=errors,
        form_error=change.form_error,
        failed="approve",
        status_code=422,
    )


def _place(
    exc: DomainError, lang: str, errors: dict[str, str], renames: dict[str, str], fields: tuple[str, ...]
) -> str | None:
    from govshare.portal.web import domain_error_message

    field = (exc.field or "").split(".", 1)[0].split("[", 1)[0]
    field = renames.get(field, field)
    message = domain_error_message(exc, lang)
    if field in fields:
        errors[field] = message
        return None
    return message


@router.post("/sharing/requests/{request_id}/refuse", response_class=HTMLResponse, response_model=None)
def refuse(
    request_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    values = form_values(form, REFUSE_FIELDS)
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=REFUSE_FIELDS, errors=errors)
    with change:
        data = RefuseIn.model_validate(
            {"ground": values["ground"], "reason": values["reason"], "citation": values["citation"] or None}
        )
        answer_service.refuse_request(session, request_id, data, by=by)
    if change.ok:
        return RedirectResponse(f"/sharing/requests/{request_id}?done=refused", status_code=303)
    return _request_page(
        request,
        session,
        by,
        request_id,
        refuse_values=values,
        errors=errors,
        form_error=change.form_error,
        failed="refuse",
        status_code=422,
    )


@router.post("/sharing/requests/{request_id}/withdraw", response_model=None)
def withdraw(request_id: Id, session: SessionDep, by: Member, form: CsrfForm) -> RedirectResponse:
    reason = form.get("withdraw_reason")
    with session.begin_nested():
        request_service.withdraw_request(
            session, request_id, reason.strip() if isinstance(reason, str) else None, by=by
        )
    return RedirectResponse(f"/sharing/requests/{request_id}?done=withdrawn", status_code=303)


@router.post("/sharing/disputes/{dispute_id}/decide", response_class=HTMLResponse, response_model=None)
def decide_dispute(
    dispute_id: Id, request: Request, session: SessionDep, by: DisputeActor, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    """Art 19(2): the secrecy administration decides whether data is a state secret; the authority
    records the competent organ's decision on commercial secrets and privacy. The clock resumes."""
    lang = i18n.lang_of(request)
    values = form_values(form, ("outcome", "decision", "organ"))
    dispute = dispute_service.get_dispute(session, dispute_id, viewer=by)
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=(), errors=errors)
    with change:
        dispute_service.decide_dispute(
            session,
            dispute_id,
            DisputeDecide.model_validate(
                {"outcome": values["outcome"], "decision": values["decision"], "organ": values["organ"] or None}
            ),
            by=by,
        )
    if change.ok:
        return RedirectResponse(f"/sharing/requests/{dispute.request_id}?done=dispute_decided", status_code=303)
    return _request_page(
        request,
        session,
        by,
        dispute.request_id,
        form_error=change.form_error or "; ".join(errors.values()),
        failed="dispute",
        status_code=422,
    )


# --- Agreements ---------------------------------------------------------------------------------


def _terms_rows(terms: dict[str, Any], lang: str, region_name: Any) -> list[tuple[str, str]]:
    sep = "、" if lang == "zh" else ", "
    rows = [
        (
            _t("t_parties", lang),
            f"{_t('party_provider', lang)}：{terms['provider']['name']}；"
            f"{_t('party_consumer', lang)}：{terms['consumer']['name']}"
            if lang == "zh"
            else f"{_t('party_provider', lang)}: {terms['provider']['name']}; "
            f"{_t('party_consumer', lang)}: {terms['consumer']['name']}",
        ),
        (_t("t_resource", lang), f"{terms['resource']['name']} ({terms['resource']['code']})"),
        (
            _t("t_items", lang),
            sep.join(terms.get("items", [])) + (f" · {_t('verify_only', lang)}" if terms.get("verify_only") else ""),
        ),
        (_t("t_purpose", lang), terms.get("purpose", "")),
        (_t("t_legal_basis", lang), terms.get("legal_basis", "")),
        (_t("t_region", lang), sep.join(region_name(c) for c in terms.get("region_codes", []))),
        (_t("t_term", lang), f"{terms.get('starts_on', '')} — {terms.get('ends_on', '')}"),
        (_t("t_channel", lang), rules.label(rules.CHANNELS, terms.get("channel"), lang)),
    ]
    if terms.get("touches"):
        rows.append((_t("t_touches", lang), _touches_text(lang)(terms["touches"])))
    return rows


@router.get("/sharing/agreements/{agreement_id}", response_class=HTMLResponse)
def agreement_page(agreement_id: Id, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    lang = i18n.lang_of(request)
    agreement = agreement_service.get_agreement(session, agreement_id, viewer=by)
    read = agreement_service.agreement_read(agreement, lang)
    ctx = _common_context(session, lang)
    signatures = {s.party: s for s in read.signatures}
    open_for_signing = agreement.state in ("awaiting_signatures", "partially_signed")
    parties = []
    for party, agency in (("provider", agreement.provider), ("consumer", agreement.consumer)):
        parties.append(
            {
                "party": party,
                "role": _t(f"party_{party}", lang),
                "agency_name": (agency.name_en or agency.name) if lang == "en" else agency.name,
                "signature": signatures.get(party),
                "can_sign": open_for_signing and party not in signatures and by.in_agency(agency.id, "agency_admin"),
            }
        )
    done = request.query_params.get("done")
    obligations = [o.get("en" if lang == "en" else "zh", "") for o in read.terms.get("obligations", [])]
    return render(
        request,
        "sharing/agreement.html",
        {
            **ctx,
            "a": read,
            "terms": _terms_rows(read.terms, lang, ctx["region_name"]),
            "obligations": obligations,
            "parties": parties,
            "sign_hint": _t("sign_hint", lang) if open_for_signing else None,
            "done": _t(done, lang) if done in DONE_KEYS else None,
        },
    )


@router.get("/sharing/agreements/{agreement_id}/pdf")
def agreement_pdf(agreement_id: Id, session: SessionDep, by: Reader) -> Response:
    """The agreement's PDF, byte for byte the document whose hash the signatures carry."""
    agreement = agreement_service.get_agreement(session, agreement_id, viewer=by)
    return Response(
        agreement.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="agreement-{agreement.id}.pdf"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/sharing/agreements/{agreement_id}/sign", response_model=None)
def sign(agreement_id: Id, session: SessionDep, by: Signer, form: CsrfForm) -> RedirectResponse:
    sent = form.get("pdf_sha256")
    digest = sent.strip() if isinstance(sent, str) and sent.strip() else None
    with session.begin_nested():
        agreement = agreement_service.sign_agreement(session, agreement_id, by=by, pdf_sha256=digest)
    done = "signed_all" if agreement.state == "signed" else "signed"
    return RedirectResponse(f"/sharing/agreements/{agreement_id}?done={done}", status_code=303)


# --- Grants -------------------------------------------------------------------------------------


def _grants_page(
    request: Request,
    session: Session,
    by: Principal,
    *,
    state: str | None,
    offset: int,
    form_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    page = grant_service.list_grants(session, viewer=by, state=state, offset=offset, limit=PAGE_SIZE)
    rows = grant_service.grant_reads(page.rows, lang)
    revocable = {
        g.id for g in page.rows if g.state in ("active", "pending_signatures") and perm.is_member(by, g.provider_id)
    }
    done = request.query_params.get("done")
    return render(
        request,
        "sharing/grants.html",
        {
            **_common_context(session, lang),
            **_tabs_context(session, by, lang),
            "rows": rows,
            "revocable": revocable,
            "state": state or "",
            "state_options": [("", _t("all_states", lang)), *_labels(rules.GRANT_STATES, lang)],
            "pager": Pager(offset, PAGE_SIZE, page.total),
            "done": _t(done, lang) if done in DONE_KEYS else None,
            "form_error": form_error,
        },
        status_code=status_code,
    )


@router.get("/sharing/grants", response_class=HTMLResponse)
def grants(
    request: Request,
    session: SessionDep,
    by: Reader,
    state: Annotated[str | None, Query(max_length=24)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    return _grants_page(request, session, by, state=state if state in rules.GRANT_STATES else None, offset=offset)


@router.post("/sharing/grants/{grant_id}/revoke", response_class=HTMLResponse, response_model=None)
def revoke(
    grant_id: Id, request: Request, session: SessionDep, by: Member, form: CsrfForm
) -> HTMLResponse | RedirectResponse:
    lang = i18n.lang_of(request)
    reason = form.get("reason")
    reason = reason.strip() if isinstance(reason, str) else ""
    if len(reason) < 4:
        return _grants_page(
            request, session, by, state=None, offset=0, form_error=_t("reason_required", lang), status_code=422
        )
    errors: dict[str, str] = {}
    change = FormChange(session, lang, fields=(), errors=errors)
    with change:
        grant_service.revoke_grant(session, grant_id, reason, by=by)
    if change.ok:
        return RedirectResponse(f"/sharing/grants?done=revoked#grant-{grant_id}", status_code=303)
    return _grants_page(
        request,
        session,
        by,
        state=None,
        offset=0,
        form_error=change.form_error or "; ".join(errors.values()),
        status_code=422,
    )


# --- The authority's lists ----------------------------------------------------------------------


@router.get("/sharing/filings", response_class=HTMLResponse)
def filings(
    request: Request,
    session: SessionDep,
    by: Reader,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    """Refusals filed with the authority (Art 18): an authority sees its region and below."""
    lang = i18n.lang_of(request)
    page = answer_service.list_filings(session, viewer=by, offset=offset, limit=PAGE_SIZE)
    return render(
        request,
        "sharing/filings.html",
        {
            **_common_context(session, lang),
            **_tabs_context(session, by, lang),
            "rows": answer_service.filing_reads(page.rows, lang),
            "pager": Pager(offset, PAGE_SIZE, page.total),
        },
    )


@router.get("/sharing/overdue", response_class=HTMLResponse)
def overdue(request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    """Requests past their deadline without an answer, and their count per provider (Art 18)."""
    lang = i18n.lang_of(request)
    rows, per_provider = request_service.overdue_requests(session, viewer=by)
    return render(
        request,
        "sharing/overdue.html",
        {
            **_common_context(session, lang),
            **_tabs_context(session, by, lang),
            "rows": common.request_reads(session, rows, lang),
            "total": len(rows),
            "per_provider": [{"agency": common.agency_ref(a), "overdue": n} for a, n in per_provider],
            "as_of": clock.today(),
        },
    )


# The negotiation and publication pages live in ``pages_more`` (this module's size); they are
# served through this module's router, the one ``create_app`` lists.
from govshare.sharing import pages_more as _pages_more  # noqa: E402 - after the helpers it imports

router.include_router(_pages_more.router)

__all__ = ["console_panel", "router"]
