"""A request's full history: its events and those of its agreement, grant, filing and disputes,
each with the article it rests on (the request page shows them)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from govshare.core.auth import Principal
from govshare.core.events import Event
from govshare.sharing.models import SharingAgreement, SharingDispute, SharingFiling, SharingGrant
from govshare.sharing.schemas import EventRead
from govshare.sharing.service._common import (
    SUBJECT_AGREEMENT,
    SUBJECT_DISPUTE,
    SUBJECT_FILING,
    SUBJECT_GRANT,
    SUBJECT_REQUEST,
    get_request,
)


def request_history(session: Session, request_id: int, *, viewer: Principal) -> list[EventRead]:
    req = get_request(session, request_id, viewer=viewer)
    subjects: list[tuple[str, list[int]]] = [(SUBJECT_REQUEST, [req.id])]
    for subject, model in (
        (SUBJECT_AGREEMENT, SharingAgreement),
        (SUBJECT_GRANT, SharingGrant),
        (SUBJECT_FILING, SharingFiling),
        (SUBJECT_DISPUTE, SharingDispute),
    ):
        ids = list(session.scalars(select(model.id).where(model.request_id == req.id)))
        if ids:
            subjects.append((subject, ids))
    cond = or_(*[and_(Event.subject_type == s, Event.subject_id.in_([str(i) for i in ids])) for s, ids in subjects])
    rows = session.scalars(select(Event).where(cond).order_by(Event.seq))
    return [
        EventRead(
            seq=e.seq,
            occurred_at=e.occurred_at,
            actor_name=e.actor_name,
            action=e.action,
            article=(e.data or {}).get("article"),
            data=e.data or {},
        )
        for e in rows
    ]
