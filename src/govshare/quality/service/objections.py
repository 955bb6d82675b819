"""Objections (数据异议): an agency holding a grant objects to data it received; the provider checks
and answers within ``objection_workdays`` working days (default 10) on the official calendar:
corrected, confirmed as right (with the explanation) or rejected (with the reason). The objector
sees the answer and, for a correction, the first dataset version published after it. Objections
the provider upheld, or left unanswered past the deadline, count in the resource's quality score
(``rules.OBJECTION_PENALTY``; see ``service.checks``).

The grant is read through the sharing service (``sharing.service.get_grant``), never written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from govshare.core import clock, events, workdays
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, InvalidInput, NotFound
from govshare.core.paging import Page, paginate
from govshare.exchange.models import ExchangeDatasetVersion
from govshare.quality import permissions as perm
from govshare.quality import rules
from govshare.quality.config import get_quality_settings
from govshare.quality.models import QualityObjection
from govshare.registry import service as registry_service

SUBJECT = "quality_objection"


def file_objection(
    session: Session,
    *,
    grant_id: int,
    record_key: str,
    item: str | None,
    problem: str,
    evidence: str | None,
    by: Principal,
) -> QualityObjection:
    """The consumer of an active grant objects to a record (and item) it received."""
    from govshare.sharing import service as sharing_service

    grant = sharing_service.get_grant(session, grant_id, viewer=by)
    perm.check_member(by, grant.consumer_id, article=rules.OBJECTION_ARTICLE)
    if grant.state not in rules.GRANT_USABLE_STATES:
        raise Conflict(
            "quality.objection.grant_not_active",
            "只能对有效共享授权下获取的数据提出异议",
            "You may object only to data received under an active grant",
            field="grant_id",
            article=rules.OBJECTION_ARTICLE,
        )
    key = rules.check_text(record_key, field="record_key", required=True, limit=200) or ""
    item = rules.check_text(item, field="item", limit=100)
    if item is not None and item not in grant.items:
        raise InvalidInput(
            "quality.objection.item_not_granted",
            f"授权中没有数据项 {item}",
            f"the grant does not cover the item {item}",
            field="item",
            article=rules.OBJECTION_ARTICLE,
            extra={"granted": list(grant.items)},
        )
    problem = rules.check_text(problem, field="problem", required=True) or ""
    evidence = rules.check_text(evidence, field="evidence")
    received = clock.today()
    days = get_quality_settings().objection_workdays
    due = workdays.deadline(session, received, days)
    objection = QualityObjection(
        grant_id=grant.id,
        resource_id=grant.resource_id,
        objector_id=grant.consumer_id,
        provider_id=grant.provider_id,
        region_code=grant.resource.region_code,
        record_key=key,
        item=item,
        problem=problem,
        evidence=evidence,
        received_on=received,
        due_on=due.deadline,
        workdays=days,
        provisional=due.provisional,
        state="open",
        created_by=by.actor.ref,
        created_by_name=by.actor.name[:200],
    )
    session.add(objection)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.objection.filed",
        subject_type=SUBJECT,
        subject_id=objection.id,
        region_code=objection.region_code,
        agency_code=grant.consumer.code,
        data={
            "grant": grant.id,
            "resource_code": grant.resource_code,
            "provider": grant.provider.code,
            "item": item,
            "has_evidence": evidence is not None,
            "due_on": due.deadline,
            "workdays": days,
            "provisional": due.provisional,
            "article": rules.OBJECTION_ARTICLE,
        },
    )
    return objection


def _stmt() -> Any:
    return select(QualityObjection).options(
        joinedload(QualityObjection.resource),
        joinedload(QualityObjection.objector),
        joinedload(QualityObjection.provider),
    )


def get_objection(session: Session, objection_id: int, *, viewer: Principal) -> QualityObjection:
    found = session.scalar(_stmt().where(QualityObjection.id == objection_id))
    if found is not None:
        path = registry_service.region_path_of(session, found.region_code)
        if not perm.can_read(viewer, (found.objector_id, found.provider_id), path):
            found = None
    if found is None:
        raise NotFound(
            "quality.objection.not_found",
            f"异议 {objection_id} 不存在",
            f"Objection {objection_id} not found",
            field="objection",
        )
    return found


def list_objections(
    session: Session,
    *,
    viewer: Principal,
    state: str | None = None,
    overdue: bool = False,
    resource_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[QualityObjection]:
    stmt = (
        _stmt()
        .where(
            perm.readable_condition(
                viewer, (QualityObjection.objector_id, QualityObjection.provider_id), QualityObjection.region_code
            )
        )
        .order_by(QualityObjection.id.desc())
    )
    if state:
        rules.check_vocab(state, rules.OBJECTION_STATES, field="state")
        stmt = stmt.where(QualityObjection.state == state)
    if overdue:
        stmt = stmt.where(QualityObjection.state == "open", QualityObjection.due_on < clock.today())
    if resource_id is not None:
        stmt = stmt.where(QualityObjection.resource_id == resource_id)
    return paginate(session, stmt, offset=offset, limit=limit)


def answer_objection(
    session: Session, objection_id: int, *, outcome: str, note: str | None, by: Principal
) -> QualityObjection:
    """The provider answers: corrected, confirmed (explained) or rejected (with the reason)."""
    objection = get_objection(session, objection_id, viewer=by)
    perm.check_member(by, objection.provider_id, article=rules.OBJECTION_ARTICLE)
    if objection.state != "open":
        raise Conflict(
            "quality.objection.already_answered",
            "该异议已答复",
            "This objection was already answered",
            field="outcome",
            article=rules.OBJECTION_ARTICLE,
        )
    note = rules.check_objection_answer(outcome, note)
    now = clock.now()
    objection.state, objection.answer_note = outcome, note
    objection.answered_at, objection.answered_on = now, clock.today()
    objection.answered_by, objection.answered_by_name = by.actor.ref, by.actor.name[:200]
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.objection.answered",
        subject_type=SUBJECT,
        subject_id=objection.id,
        region_code=objection.region_code,
        agency_code=objection.provider.code,
        data={"outcome": outcome, "late": objection.answered_on > objection.due_on, "article": rules.OBJECTION_ARTICLE},
    )
    return objection


def is_overdue(objection: QualityObjection) -> bool:
    return rules.is_overdue(objection.state, objection.due_on, clock.today())


def corrected_version(session: Session, objection: QualityObjection) -> int | None:
    """For a corrected objection: the first hosted dataset version accepted after the answer."""
    if objection.state != "corrected" or objection.answered_at is None:
        return None
    return session.scalar(
        select(ExchangeDatasetVersion.number)
        .where(
            ExchangeDatasetVersion.resource_id == objection.resource_id,
            ExchangeDatasetVersion.accepted_at > objection.answered_at,
        )
        .order_by(ExchangeDatasetVersion.number)
        .limit(1)
    )


def counted_against(session: Session, resource_id: int) -> tuple[int, int]:
    """(objections to the resource, those counted in its score: upheld by a correction or overdue)."""
    rows = session.execute(
        select(QualityObjection.state, QualityObjection.due_on).where(QualityObjection.resource_id == resource_id)
    ).all()
    today = clock.today()
    counted = sum(1 for state, due in rows if state == "corrected" or (state == "open" and today > due))
    return len(rows), counted
