"""Publication of shared data (Art 17): "未经提供方同意，不得擅自向社会公开；已公开的除外，但应注明来源。"

The receiving agency asks the provider's consent to publish data it obtained under a grant; the
provider consents or refuses, recorded. Data already public under the open-government rules may
be republished with its source stated: that statement is recorded too.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.errors import Forbidden, InvalidInput
from govshare.registry.models import Agency
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.models import SharingPublication
from govshare.sharing.schemas import PublicationAnswer, PublicationCreate, PublicationRead
from govshare.sharing.service._common import event, move, not_found
from govshare.sharing.service.grants import get_grant

SUBJECT = "sharing_publication"


def _event(
    session: Session,
    p: SharingPublication,
    action: str,
    *,
    by: Principal,
    article: str,
    provider: Agency,
    **data: object,
) -> None:
    event(
        session,
        action,
        by=by,
        subject_type=SUBJECT,
        subject_id=p.id,
        region_code=provider.region_code,
        agency_code=provider.code,
        article=article,
        data={"grant_id": p.grant_id, "kind": p.kind, "state": p.state, **data},
    )


def request_publication(
    session: Session, grant_id: int, data: PublicationCreate, *, by: Principal
) -> SharingPublication:
    grant = get_grant(session, grant_id, viewer=by)
    if not perm.is_member(by, grant.consumer_id):
        raise Forbidden(
            "sharing.publication.consumer_only",
            "只有使用方可以申请发布或登记来源",
            "Only the consumer asks to publish or records the source",
            article="Art 17",
        )
    action = "request" if data.kind == "consent" else "record_public"
    t = rules.transition("publication", action, None)
    source = (data.source_statement or "").strip() or None
    if data.kind == "already_public" and (source is None or len(source) < 4):
        raise InvalidInput(
            "sharing.publication.source_required",
            "再次发布已公开的数据须注明来源",
            "Republishing public data needs its source stated",
            field="source_statement",
            article="Art 17",
        )
    p = SharingPublication(
        grant_id=grant.id,
        consumer_id=grant.consumer_id,
        provider_id=grant.provider_id,
        kind=data.kind,
        state=t.target,
        description=data.description.strip(),
        source_statement=source,
        created_by=by.actor.ref,
    )
    session.add(p)
    session.flush()
    _event(
        session,
        p,
        "sharing.publication.requested" if data.kind == "consent" else "sharing.publication.recorded",
        by=by,
        article=t.article,
        provider=grant.provider,
        source_statement=source,
    )
    return p


def get_publication(session: Session, publication_id: int, *, viewer: Principal) -> SharingPublication:
    p = session.get(SharingPublication, publication_id)
    if p is None:
        raise not_found("publication", "发布申请", publication_id, "publication_id")
    get_grant(session, p.grant_id, viewer=viewer)  # 404 when the grant is out of scope
    return p


def list_publications(session: Session, grant_id: int, *, viewer: Principal) -> list[SharingPublication]:
    grant = get_grant(session, grant_id, viewer=viewer)
    return list(
        session.scalars(
            select(SharingPublication).where(SharingPublication.grant_id == grant.id).order_by(SharingPublication.id)
        )
    )


def answer_publication(
    session: Session, publication_id: int, data: PublicationAnswer, *, by: Principal
) -> SharingPublication:
    p = get_publication(session, publication_id, viewer=by)
    if not perm.is_member(by, p.provider_id):
        raise Forbidden(
            "sharing.publication.provider_only",
            "只有提供方可以同意或不同意发布",
            "Only the provider consents or refuses",
            article="Art 17",
        )
    t = move(session, p, "publication", "consent" if data.consent else "refuse")
    p.answer, p.answered_at, p.answered_by = data.answer.strip(), clock.now(), by.actor.ref
    session.flush()
    provider = session.get(Agency, p.provider_id)
    assert provider is not None
    _event(
        session,
        p,
        "sharing.publication.consented" if data.consent else "sharing.publication.refused",
        by=by,
        article=t.article,
        provider=provider,
    )
    return p


def publication_reads(session: Session, ps: Sequence[SharingPublication], lang: str = "zh") -> list[PublicationRead]:
    codes = dict(
        session.execute(
            select(Agency.id, Agency.code).where(
                Agency.id.in_({p.consumer_id for p in ps} | {p.provider_id for p in ps} or {0})
            )
        ).all()
    )
    return [
        PublicationRead(
            id=p.id,
            grant_id=p.grant_id,
            consumer=codes.get(p.consumer_id, ""),
            provider=codes.get(p.provider_id, ""),
            kind=p.kind,
            state=p.state,  # type: ignore[arg-type]
            state_label=rules.label(rules.PUBLICATION_STATES, p.state, lang),
            description=p.description,
            source_statement=p.source_statement,
            answer=p.answer,
            answered_at=p.answered_at,
            created_at=p.created_at,
        )
        for p in ps
    ]
