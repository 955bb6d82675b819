"""Requests (Art 17, 18): filing, from a matched demand, reading, lists, overdue, withdrawal,
and recomputing provisional deadlines when a year's calendar is imported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from govshare.catalog import service as catalog_service
from govshare.catalog.models import CatalogDemandMatch, CatalogResource
from govshare.core import clock, workdays
from govshare.core.auth import Principal
from govshare.core.errors import InvalidInput, NotFound
from govshare.core.paging import Page, paginate
from govshare.registry import service as registry_service
from govshare.registry.models import Agency
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.models import SharingRequest
from govshare.sharing.schemas import RequestCreate, RequestFromDemand
from govshare.sharing.service._common import (
    _request_stmt,
    calendar_for,
    compute_deadline,
    get_request,
    is_overdue,
    move,
    request_event,
    request_readable,
)

#: Longest term a request may ask for (a platform rule: agreements are renewed, not open-ended).
MAX_TERM_DAYS = 5 * 366
#: The term of a request made from a demand when none is given: a year (a leap day has no "same
#: day next year", so it is counted in days).
DEFAULT_TERM_DAYS = 364


def _invalid(code: str, zh: str, en: str, field: str, article: str | None = None, **extra: Any) -> InvalidInput:
    return InvalidInput(code, zh, en, field=field, article=article, extra=extra or None)


def _requester(session: Session, code: str | None, by: Principal) -> Agency:
    if code:
        agency = registry_service.get_agency(session, code)
    else:
        own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
        if len(own) != 1:
            raise _invalid(
                "sharing.request.requester_required", "请指明申请机关", "Name the requesting agency", "requester"
            )
        agency = registry_service.get_agency(session, own[0])
    perm.check_request_for(by, agency.id)
    return agency


def _published(session: Session, ref: str) -> CatalogResource:
    resource = catalog_service.get_resource(session, ref)
    if resource.status != "published" or not resource.code:
        raise _invalid(
            "sharing.request.resource_not_published",
            f"目录资源 {ref} 未发布，不能申请共享",
            f"Catalog entry {ref} is not published: it cannot be requested",
            "resource",
            "Art 9",
        )
    if resource.share_type == "not_shared":
        raise _invalid(
            "sharing.request.resource_not_shared",
            "该资源为不予共享类，请通过目录外协商提出（第十三条第一款）",
            "This entry is not shared: negotiate outside the catalog instead (Art 13(1))",
            "resource",
            "Art 13",
        )
    return resource


def check_items(resource: CatalogResource, items: Sequence[str], field: str = "items") -> list[str]:
    names = [i.name for i in resource.data_items]
    wanted = []
    for raw in items:
        name = raw.strip()
        if name and name not in wanted:
            wanted.append(name)
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise _invalid(
            "sharing.request.items_unknown",
            "信息项不属于该目录条目：" + "、".join(unknown),
            "Data items not in the catalog entry: " + ", ".join(unknown),
            field,
            "Art 10",
            unknown=unknown,
        )
    if not wanted:
        raise _invalid("sharing.request.items_required", "请至少选择一个信息项", "Choose at least one data item", field)
    return wanted


def check_region_within(session: Session, code: str, root_code: str, field: str, zh_root: str, en_root: str) -> None:
    try:
        region = registry_service.get_region(session, code)
    except NotFound:
        raise NotFound(
            "sharing.region_unknown", f"行政区划 {code} 不存在", f"Region {code} not found", field=field
        ) from None
    root = registry_service.get_region(session, root_code)
    if not (region.path == root.path or region.path.startswith(root.path + "/")):
        raise _invalid(
            "sharing.region_outside",
            f"数据范围 {code} 不在{zh_root}（{root.code} {root.name}）之内",
            f"Region {code} is not within {en_root} ({root.code} {root.name})",
            field,
            "Art 14",
        )


def _check_term(starts_on: dt.date, ends_on: dt.date, today: dt.date) -> None:
    if ends_on < starts_on:
        raise _invalid(
            "sharing.term.ends_before_start", "截止日不能早于起始日", "The term ends before it starts", "ends_on"
        )
    if ends_on < today:
        raise _invalid("sharing.term.in_past", "共享期限已过", "The term lies in the past", "ends_on")
    if (ends_on - starts_on).days > MAX_TERM_DAYS:
        raise _invalid("sharing.term.too_long", "共享期限不能超过五年", "The term cannot exceed five years", "ends_on")


def _touches(resource: CatalogResource, items: Sequence[str]) -> rules.Touches:
    return rules.touches(
        security_classification=resource.security_classification,
        contains_commercial_secret=resource.contains_commercial_secret,
        contains_personal_info=resource.contains_personal_info,
        items=[{"name": i.name, "is_personal": i.is_personal, "is_secret": i.is_secret} for i in resource.data_items],
        wanted=items,
    )


def create_request(session: Session, data: RequestCreate, *, by: Principal) -> SharingRequest:
    """Art 17, 18: an agency requests items of a published entry for a purpose and duty, a region
    within the provider's, and a term. The clock (``rules.CLOCK_RULES``) starts the day after
    receipt; an unconditional, non-sensitive request is granted at once."""
    requester = _requester(session, data.requester, by)
    resource = _published(session, data.resource)
    provider = resource.provider
    if provider.id == requester.id:
        raise _invalid(
            "sharing.request.own_resource",
            "不能向本机关申请本机关的资源",
            "An agency cannot request its own entry",
            "resource",
        )
    items = check_items(resource, data.items)
    check_region_within(
        session, data.region_scope, provider.region_code, "region_scope", "提供方辖区", "the provider's region"
    )
    today = clock.today()
    starts_on = data.starts_on or today
    _check_term(starts_on, data.ends_on, today)
    purpose, legal_basis = data.purpose.strip(), data.legal_basis.strip()
    if len(purpose) < 4:
        raise _invalid("sharing.request.purpose_required", "请写明用途", "State the purpose", "purpose", "Art 17")
    if len(legal_basis) < 4:
        raise _invalid(
            "sharing.request.legal_basis_required",
            "请写明所履行的职责及法律依据",
            "State the duty and its legal basis",
            "legal_basis",
            "Art 17",
        )
    if data.demand_id is not None:
        demand = catalog_service.get_demand(session, data.demand_id)
        if demand.requester_id != requester.id:
            raise _invalid(
                "sharing.request.demand_other_agency",
                "该共享需求不是申请机关提出的",
                "The demand was not filed by the requesting agency",
                "demand_id",
            )
    t = _touches(resource, items)
    rule = rules.clock_rule_for(resource.share_type, t)
    req = SharingRequest(
        requester_id=requester.id,
        provider_id=provider.id,
        requester_region_code=requester.region_code,
        provider_region_code=provider.region_code,
        resource_id=resource.id,
        resource_code=resource.code,
        demand_id=data.demand_id,
        items=items,
        purpose=purpose,
        legal_basis=legal_basis,
        region_scope=data.region_scope,
        starts_on=starts_on,
        ends_on=data.ends_on,
        state=None,
        clock_rule=rule.key,
        touches_state_secret=t.state_secret,
        touches_commercial_secret=t.commercial_secret,
        touches_personal=t.personal,
        received_on=today,
        deadline_workdays=rule.workdays,
        held_workdays=0,
        created_by=by.actor.ref,
        created_by_name=by.actor.name[:200],
    )
    req.requester, req.provider, req.resource = requester, provider, resource
    action = "grant_at_once" if rule.workdays == 0 else "submit"
    transition = rules.transition("request", action, None)
    req.state = transition.target
    result = compute_deadline(workdays.load_calendar(session, from_year=today.year), req)
    if result is not None:
        req.deadline_on, req.deadline_provisional = result.deadline, result.provisional
    session.add(req)
    session.flush()
    request_event(
        session,
        req,
        "sharing.request.submitted",
        by=by,
        article=transition.article,
        items=items,
        region_scope=req.region_scope,
        purpose=purpose,
        clock_rule=rule.key,
        clock_source=rule.source,
        received_on=today,
        deadline_on=req.deadline_on,
        provisional=req.deadline_provisional,
        touches=t.labels(),
        demand_id=data.demand_id,
    )
    if action == "grant_at_once":
        from govshare.sharing.service.grants import create_grant

        req.answered_at, req.answered_on = clock.now(), today
        req.answered_by, req.answered_by_name = "system", "system"
        session.flush()
        create_grant(
            session,
            req,
            items=items,
            region_codes=[req.region_scope],
            starts_on=starts_on,
            ends_on=req.ends_on,
            channel="platform",
            verify_only=False,
            pending=False,
            by=by,
        )
        request_event(
            session, req, "sharing.request.granted_at_once", by=by, article=transition.article, clock_source=rule.source
        )
    return req


def create_from_demand(session: Session, demand_id: int, data: RequestFromDemand, *, by: Principal) -> SharingRequest:
    """Art 9, 17: a demand the authority matched to a catalog entry becomes a request in one step;
    the demand's duty and legal basis become the request's purpose and basis."""
    demand = catalog_service.get_demand(session, demand_id)
    perm.check_request_for(by, demand.requester_id)
    matched = list(
        session.scalars(select(CatalogDemandMatch.resource_id).where(CatalogDemandMatch.demand_id == demand.id))
    )
    if not matched:
        raise _invalid(
            "sharing.request.demand_unmatched",
            "该共享需求尚未匹配目录资源",
            "The demand is not matched to a catalog entry yet",
            "demand_id",
            "Art 9",
        )
    if data.resource is not None:
        resource = catalog_service.get_resource(session, data.resource)
        if resource.id not in matched:
            raise _invalid(
                "sharing.request.demand_resource",
                "该资源不是与需求匹配的资源",
                "That entry is not one matched to the demand",
                "resource",
            )
    elif len(matched) == 1:
        resource = catalog_service.get_resource(session, matched[0])
    else:
        raise _invalid(
            "sharing.request.demand_resource_required",
            "需求匹配了多项资源，请选择一项",
            "The demand is matched to several entries: choose one",
            "resource",
        )
    today = clock.today()
    items = data.items or [i.name for i in resource.data_items]
    purpose = demand.duty if len(demand.duty.strip()) >= 4 else f"{demand.title}：{demand.duty}"
    return create_request(
        session,
        RequestCreate(
            requester=demand.requester.code,
            resource=resource.code or str(resource.id),
            items=items,
            purpose=purpose,
            legal_basis=demand.legal_basis
            if len(demand.legal_basis.strip()) >= 4
            else f"{demand.legal_basis}（{demand.title}）",
            region_scope=data.region_scope or resource.provider.region_code,
            starts_on=data.starts_on or today,
            ends_on=data.ends_on or today + dt.timedelta(days=DEFAULT_TERM_DAYS),
            demand_id=demand.id,
        ),
        by=by,
    )


def withdraw_request(session: Session, request_id: int, reason: str | None, *, by: Principal) -> SharingRequest:
    req = get_request(session, request_id, viewer=by)
    perm.check_request_for(by, req.requester_id)
    t = move(session, req, "request", "withdraw")
    req.note = (reason or "").strip() or None
    session.flush()
    request_event(session, req, "sharing.request.withdrawn", by=by, article=t.article, reason=req.note)
    return req


# --- Lists ----------------------------------------------------------------------------------------


def list_requests(
    session: Session,
    *,
    viewer: Principal,
    direction: str | None = None,
    state: str | None = None,
    agency: str | None = None,
    resource: str | None = None,
    overdue: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[SharingRequest]:
    """Requests the viewer may see, the most urgent first (waiting ones by deadline, then newest).

    ``direction``: ``incoming`` (the viewer's agencies provide) or ``outgoing`` (they request)."""
    stmt = _request_stmt().where(request_readable(viewer))
    own = sorted(viewer.agency_ids(*perm.AGENCY_ROLES))
    if direction == "incoming":
        stmt = stmt.where(SharingRequest.provider_id.in_(own))
    elif direction == "outgoing":
        stmt = stmt.where(SharingRequest.requester_id.in_(own))
    if state:
        stmt = stmt.where(SharingRequest.state == state)
    if agency:
        a = registry_service.get_agency(session, agency)
        stmt = stmt.where(or_(SharingRequest.requester_id == a.id, SharingRequest.provider_id == a.id))
    if resource:
        stmt = stmt.where(SharingRequest.resource_code == resource)
    today = clock.today()
    overdue_cond = or_(
        SharingRequest.state == "overdue", (SharingRequest.state == "pending") & (SharingRequest.deadline_on < today)
    )
    if overdue is True:
        stmt = stmt.where(overdue_cond)
    elif overdue is False:
        stmt = stmt.where(~overdue_cond)
    waiting = SharingRequest.state.in_(("pending", "overdue", "disputed"))
    stmt = stmt.order_by(waiting.desc(), SharingRequest.deadline_on.asc().nulls_last(), SharingRequest.id.desc())
    return paginate(session, stmt, offset=offset, limit=limit)


def overdue_requests(
    session: Session, *, viewer: Principal, agency: str | None = None
) -> tuple[list[SharingRequest], list[tuple[Agency, int]]]:
    """Requests past their deadline without an answer that the viewer may see (Art 18, 33(1)),
    oldest deadline first, and their count per provider."""
    page = list_requests(session, viewer=viewer, agency=agency, overdue=True, limit=10**6)
    rows = sorted(page.rows, key=lambda r: (r.deadline_on or dt.date.max, r.id))
    counts: dict[int, tuple[Agency, int]] = {}
    for r in rows:
        a, n = counts.get(r.provider_id, (r.provider, 0))
        counts[r.provider_id] = (a, n + 1)
    return rows, sorted(counts.values(), key=lambda c: (-c[1], c[0].code))


def overdue_counts(session: Session, *, viewer: Principal) -> dict[str, int]:
    """Overdue requests per provider agency code (for consoles)."""
    today = clock.today()
    stmt = (
        select(Agency.code, func.count(SharingRequest.id))
        .join(Agency, Agency.id == SharingRequest.provider_id)
        .where(
            request_readable(viewer),
            or_(
                SharingRequest.state == "overdue",
                (SharingRequest.state == "pending") & (SharingRequest.deadline_on < today),
            ),
        )
        .group_by(Agency.code)
    )
    return {code: n for code, n in session.execute(stmt)}


# --- Provisional deadlines (Art 18 on the official calendar) --------------------------------------


def recompute_provisional(session: Session, *, by: Principal, year: int | None = None) -> list[SharingRequest]:
    """Recompute every provisional deadline of a waiting request against the calendar now in force
    (after a year's schedule is imported); record an event per changed request and one summary."""
    reqs = list(
        session.scalars(
            _request_stmt().where(
                SharingRequest.deadline_provisional.is_(True),
                SharingRequest.state.in_(("pending", "overdue", "disputed")),
            )
        )
    )
    if not reqs:
        return []
    calendar = calendar_for(session, reqs)
    today = clock.today()
    changed = []
    for req in reqs:
        result = compute_deadline(calendar, req)
        if result is None:
            continue
        before = (req.deadline_on, req.deadline_provisional)
        req.deadline_on, req.deadline_provisional = result.deadline, result.provisional
        if req.state == "overdue" and not is_overdue_on(req, today):
            move(session, req, "request", "reopen_clock")
        session.flush()
        request_event(
            session,
            req,
            "sharing.request.deadline_recomputed",
            by=by,
            article="Art 18(1)",
            deadline_before=before[0],
            provisional_before=before[1],
            deadline_on=req.deadline_on,
            provisional=req.deadline_provisional,
            uncovered_years=result.uncovered_years,
            calendar_year=year,
        )
        changed.append(req)
    from govshare.core import events

    events.record(
        session,
        actor=by.actor,
        action="sharing.deadlines.recomputed",
        subject_type="calendar_year",
        subject_id=year if year is not None else "all",
        data={"requests": [r.id for r in changed], "article": "Art 18(1)"},
    )
    return changed


def is_overdue_on(req: SharingRequest, today: dt.date) -> bool:
    return req.deadline_on is not None and today > req.deadline_on


__all__ = [
    "check_items",
    "check_region_within",
    "create_from_demand",
    "create_request",
    "is_overdue",
    "list_requests",
    "overdue_counts",
    "overdue_requests",
    "recompute_provisional",
    "withdraw_request",
]
