"""What the sharing use cases share: loading with scope, the event, deadlines, read models."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from govshare.core import clock, events, workdays
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, NotFound
from govshare.registry import service as registry_service
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.models import (
    SharingAgreement,
    SharingGrant,
    SharingRequest,
)
from govshare.sharing.schemas import AgencyRef, DeadlineRead, RequestRead, ResourceRef

SUBJECT_REQUEST = "sharing_request"
SUBJECT_AGREEMENT = "sharing_agreement"
SUBJECT_GRANT = "sharing_grant"
SUBJECT_DISPUTE = "sharing_dispute"
SUBJECT_FILING = "sharing_filing"


def event(
    session: Session,
    action: str,
    *,
    by: Principal,
    subject_type: str,
    subject_id: int,
    region_code: str | None,
    agency_code: str | None,
    article: str | None,
    data: dict[str, Any],
) -> None:
    """Record the event of a sharing change, with the article it rests on."""
    events.record(
        session,
        actor=by.actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        region_code=region_code,
        agency_code=agency_code,
        data={**data, "article": article},
    )


def request_event(
    session: Session, req: SharingRequest, action: str, *, by: Principal, article: str | None, **data: Any
) -> None:
    event(
        session,
        action,
        by=by,
        subject_type=SUBJECT_REQUEST,
        subject_id=req.id,
        region_code=req.provider_region_code,
        agency_code=req.provider.code,
        article=article,
        data={
            "requester": req.requester.code,
            "provider": req.provider.code,
            "resource_code": req.resource_code,
            "state": req.state,
            **data,
        },
    )


def move(session: Session, obj: Any, machine: str, action: str) -> rules.Transition:
    """Apply a transition of ``machine`` to ``obj``: checked against the table, then made with a
    conditional UPDATE on the state it was read in, so two concurrent answers cannot both win (the
    loser gets the same 409 as any other illegal transition)."""
    t = rules.transition(machine, action, obj.state)
    cls = type(obj)
    result = session.execute(
        update(cls)
        .where(cls.id == obj.id, cls.state == obj.state)
        .values(state=t.target, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(obj, ["state"])
        rules.transition(machine, action, obj.state)  # raises 409 naming the state now held
        raise Conflict(
            f"sharing.{machine}.concurrent",
            "该记录已被他人同时修改，请刷新后重试",
            "Someone changed this at the same time; reload and try again",
            field="state",
        )
    obj.state = t.target
    session.flush()
    return t


# --- Loading --------------------------------------------------------------------------------------


def _request_stmt():  # type: ignore[no-untyped-def]
    return select(SharingRequest).options(
        joinedload(SharingRequest.requester), joinedload(SharingRequest.provider), joinedload(SharingRequest.resource)
    )


def _paths(session: Session, *codes: str) -> tuple[str, ...]:
    return tuple(registry_service.region_path_of(session, c) for c in codes)


def not_found(what: str, what_zh: str, ident: int, field: str) -> NotFound:
    return NotFound(
        f"sharing.{what}.not_found", f"{what_zh} {ident} 不存在", f"{what.capitalize()} {ident} not found", field=field
    )


def get_request(session: Session, request_id: int, *, viewer: Principal) -> SharingRequest:
    """A request the viewer may see (a party's member, an overseer of a party's region); others 404."""
    req = session.scalars(_request_stmt().where(SharingRequest.id == request_id)).first()
    if req is None or not perm.can_read(
        viewer,
        (req.requester_id, req.provider_id),
        _paths(session, req.requester_region_code, req.provider_region_code),
    ):
        raise not_found("request", "共享申请", request_id, "request_id")
    return req


def request_readable(viewer: Principal):  # type: ignore[no-untyped-def]
    return perm.readable_condition(
        viewer,
        (SharingRequest.requester_id, SharingRequest.provider_id),
        (SharingRequest.requester_region_code, SharingRequest.provider_region_code),
    )


# --- Deadlines ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Deadline:
    deadline_on: dt.date | None
    provisional: bool
    workdays_left: int | None


def compute_deadline(calendar: workdays.Calendar, req: SharingRequest) -> workdays.DeadlineResult | None:
    """Art 18: the Nth working day after the day of receipt (not counted), plus the working days
    disputes held the clock (Art 19(2)). None for a request granted at once."""
    n = req.deadline_workdays + (req.held_workdays or 0)
    if n <= 0:
        return None
    return calendar.add_workdays(req.received_on, n)


def waiting(req: SharingRequest) -> bool:
    return req.state in ("pending", "overdue", "disputed")


def deadline_of(calendar: workdays.Calendar, req: SharingRequest, today: dt.date) -> Deadline:
    if req.deadline_on is None:
        return Deadline(None, False, None)
    left = calendar.workdays_between(today, req.deadline_on) if waiting(req) else None
    return Deadline(req.deadline_on, req.deadline_provisional, left)


def is_overdue(req: SharingRequest, today: dt.date) -> bool:
    """Past its deadline without an answer (a held clock is not overdue)."""
    return req.state == "overdue" or (
        req.state == "pending" and req.deadline_on is not None and today > req.deadline_on
    )


def calendar_for(session: Session, reqs: Sequence[SharingRequest]) -> workdays.Calendar:
    years = [r.received_on.year for r in reqs]
    return workdays.load_calendar(session, from_year=min(years) if years else clock.today().year)


# --- Read models ----------------------------------------------------------------------------------


def agency_ref(a: Any) -> AgencyRef:
    return AgencyRef(code=a.code, name=a.name)


def resource_ref(r: Any, code: str | None = None) -> ResourceRef:
    return ResourceRef(id=r.id, code=code or r.code or "", name=r.name)


def request_reads(session: Session, reqs: Sequence[SharingRequest], lang: str = "zh") -> list[RequestRead]:
    today = clock.today()
    calendar = calendar_for(session, reqs)
    ids = [r.id for r in reqs]
    agreements = (
        dict(
            session.execute(
                select(SharingAgreement.request_id, SharingAgreement.id).where(SharingAgreement.request_id.in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    grants = (
        dict(
            session.execute(
                select(SharingGrant.request_id, SharingGrant.id).where(SharingGrant.request_id.in_(ids))
            ).all()
        )
        if ids
        else {}
    )
    out = []
    for r in reqs:
        d = deadline_of(calendar, r, today)
        rule = rules.CLOCK_RULES[r.clock_rule]
        out.append(
            RequestRead(
                id=r.id,
                state=r.state,
                state_label=rules.label(rules.REQUEST_STATES, r.state, lang),  # type: ignore[arg-type]
                requester=agency_ref(r.requester),
                provider=agency_ref(r.provider),
                resource=resource_ref(r.resource, r.resource_code),
                demand_id=r.demand_id,
                items=list(r.items),
                purpose=r.purpose,
                legal_basis=r.legal_basis,
                region_scope=r.region_scope,
                starts_on=r.starts_on,
                ends_on=r.ends_on,
                touches=rules.Touches(r.touches_state_secret, r.touches_commercial_secret, r.touches_personal).labels(),
                received_on=r.received_on,
                deadline=DeadlineRead(
                    rule=rule.key,
                    workdays=rule.workdays,
                    source=rule.source,
                    deadline_on=d.deadline_on,
                    workdays_left=d.workdays_left,
                    provisional=d.provisional,
                    held=r.state == "disputed",
                    held_workdays=r.held_workdays or 0,
                ),
                overdue=is_overdue(r, today),
                answered_at=r.answered_at,
                answered_by_name=r.answered_by_name,
                refusal_ground=r.refusal_ground,
                refusal_citation=r.refusal_citation,
                refusal_reason=r.refusal_reason,
                exchange_filing_id=r.exchange_filing_id,
                agreement_id=agreements.get(r.id),
                grant_id=grants.get(r.id),
                created_at=r.created_at,
            )
        )
    return out
