"""Disputes (Art 19(2)): whether requested data is a state secret goes to the secrecy
administration, who decides; whether it is a commercial secret or private goes to the competent
state organ, whose decision the authority records by the organ's name. An open dispute holds the
request's clock: the working days it lasted are added to the deadline when it is decided."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.core import clock, workdays
from govshare.core.auth import Principal
from govshare.core.errors import InvalidInput
from govshare.registry import service as registry_service
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.models import SharingDispute
from govshare.sharing.schemas import DisputeCreate, DisputeDecide, DisputeRead
from govshare.sharing.service._common import (
    SUBJECT_DISPUTE,
    compute_deadline,
    event,
    get_request,
    move,
    not_found,
    request_event,
)


def open_dispute(session: Session, request_id: int, data: DisputeCreate, *, by: Principal) -> SharingDispute:
    req = get_request(session, request_id, viewer=by)
    perm.check_dispute_party(by, (req.requester_id, req.provider_id))
    t = move(session, req, "request", "open_dispute")
    today = clock.today()
    req.held_since = today
    raised_by = req.provider_id if perm.is_member(by, req.provider_id) else req.requester_id
    dispute = SharingDispute(
        request_id=req.id,
        kind=data.kind,
        state=rules.transition("dispute", "open", None).target,
        raised_by_agency_id=raised_by,
        question=data.question.strip(),
        region_code=req.provider_region_code,
        opened_on=today,
        created_by=by.actor.ref,
    )
    session.add(dispute)
    session.flush()
    decider = rules.DISPUTE_DECIDER[data.kind]
    event(
        session,
        "sharing.dispute.opened",
        by=by,
        subject_type=SUBJECT_DISPUTE,
        subject_id=dispute.id,
        region_code=dispute.region_code,
        agency_code=req.provider.code,
        article=t.article,
        data={"request_id": req.id, "kind": data.kind, "decider": decider},
    )
    request_event(
        session, req, "sharing.request.clock_held", by=by, article=t.article, dispute_id=dispute.id, held_since=today
    )
    return dispute


def get_dispute(session: Session, dispute_id: int, *, viewer: Principal) -> SharingDispute:
    dispute = session.get(SharingDispute, dispute_id)
    if dispute is None:
        raise not_found("dispute", "争议", dispute_id, "dispute_id")
    get_request(session, dispute.request_id, viewer=viewer)  # 404 when the request is out of scope
    return dispute


def list_disputes(session: Session, request_id: int, *, viewer: Principal) -> list[SharingDispute]:
    req = get_request(session, request_id, viewer=viewer)
    return list(
        session.scalars(select(SharingDispute).where(SharingDispute.request_id == req.id).order_by(SharingDispute.id))
    )


def decide_dispute(session: Session, dispute_id: int, data: DisputeDecide, *, by: Principal) -> SharingDispute:
    dispute = get_dispute(session, dispute_id, viewer=by)
    decider = rules.DISPUTE_DECIDER[dispute.kind]
    perm.check_decide(by, decider, registry_service.region_path_of(session, dispute.region_code))
    rules.transition("dispute", "decide", dispute.state)
    organ = (data.organ or "").strip()
    if decider == "competent_organ" and len(organ) < 2:
        raise InvalidInput(
            "sharing.dispute.organ_required",
            "请写明作出决定的国家机关名称",
            "Name the competent state organ that decided",
            field="organ",
            article="Art 19(2)",
        )
    req = get_request(session, dispute.request_id, viewer=by)
    t = move(session, dispute, "dispute", "decide")
    today = clock.today()
    calendar = workdays.load_calendar(session, from_year=req.received_on.year)
    held = max(0, calendar.workdays_between(req.held_since or dispute.opened_on, today))
    dispute.decided_by_body = "secrecy_admin" if decider == "secrecy_admin" else organ[:200]
    dispute.decided_by, dispute.outcome, dispute.decision = by.actor.ref, data.outcome, data.decision.strip()
    dispute.decided_at, dispute.held_workdays = clock.now(), held
    session.flush()
    event(
        session,
        "sharing.dispute.decided",
        by=by,
        subject_type=SUBJECT_DISPUTE,
        subject_id=dispute.id,
        region_code=dispute.region_code,
        agency_code=req.provider.code,
        article=t.article,
        data={
            "request_id": req.id,
            "kind": dispute.kind,
            "decided_by_body": dispute.decided_by_body,
            "outcome": data.outcome,
            "held_workdays": held,
        },
    )
    if req.state == "disputed":
        rt = move(session, req, "request", "resume")
        req.held_workdays = (req.held_workdays or 0) + held
        req.held_since = None
        result = compute_deadline(calendar, req)
        if result is not None:
            req.deadline_on, req.deadline_provisional = result.deadline, result.provisional
        session.flush()
        request_event(
            session,
            req,
            "sharing.request.clock_resumed",
            by=by,
            article=rt.article,
            dispute_id=dispute.id,
            held_workdays=held,
            deadline_on=req.deadline_on,
            provisional=req.deadline_provisional,
        )
    return dispute


def dispute_read(d: SharingDispute) -> DisputeRead:
    return DisputeRead(
        id=d.id,
        request_id=d.request_id,
        kind=d.kind,
        state=d.state,  # type: ignore[arg-type]
        question=d.question,
        region_code=d.region_code,
        opened_on=d.opened_on,
        decider=rules.DISPUTE_DECIDER[d.kind],
        decided_by_body=d.decided_by_body,
        outcome=d.outcome,
        decision=d.decision,
        decided_at=d.decided_at,  # type: ignore[arg-type]
        held_workdays=d.held_workdays,
    )
