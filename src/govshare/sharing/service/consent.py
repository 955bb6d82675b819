"""Publication consent (Art 17).

Shared data serves the receiving agency's own duties: it may not publish it without the provider's
consent. The receiving agency asks (naming what, where and why), the provider consents or refuses,
and either answer is recorded. Data the provider already makes public under open-government rules
(its catalog entry is marked open to the public) may be republished without asking, with its source
stated: the statement is recorded as it will appear.

Every change records its event with the article, in the caller's transaction; services flush only.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import service as catalog_service
from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, Forbidden, InvalidInput
from govshare.core.paging import Page, paginate
from govshare.sharing import permissions as perm
from govshare.sharing import rules, rules_more
from govshare.sharing.models import SharingGrant
from govshare.sharing.models_more import SharingPublication
from govshare.sharing.schemas import AgencyRef
from govshare.sharing.schemas_more import AnswerIn, PublicationAsk, PublicationRead, RepublishIn
from govshare.sharing.service._common import event, not_found
from govshare.sharing.service.grants import get_grant

SUBJECT_PUBLICATION = "sharing_publication"


def _event(session: Session, pub: SharingPublication, action: str, *, by: Principal, article: str,
           **data: object) -> None:
    event(session, action, by=by, subject_type=SUBJECT_PUBLICATION, subject_id=pub.id,
          region_code=pub.provider.region_code, agency_code=pub.provider.code, article=article,
          data={"grant_id": pub.grant_id, "publisher": pub.publisher.code, "provider": pub.provider.code,
                "resource_code": pub.resource_code, "state": pub.state, **data})


def _grant_of_publisher(session: Session, grant_id: int, by: Principal) -> SharingGrant:
    grant = get_grant(session, grant_id, viewer=by)
    if not perm.is_member(by, grant.consumer_id):
        raise Forbidden("sharing.publication.consumer_only", "只有获得共享数据的机关可以申请公开",
                        "Only the agency that received the data may ask to publish it", article="Art 17")
    return grant


def _new(session: Session, grant: SharingGrant, data: PublicationAsk | RepublishIn, state: str, by: Principal,
         source_statement: str | None = None) -> SharingPublication:
    pub = SharingPublication(
        grant_id=grant.id, publisher_id=grant.consumer_id, provider_id=grant.provider_id,
        resource_code=grant.resource_code, content=data.content.strip(), channel=data.channel.strip(),
        purpose=data.purpose.strip(), state=state, source_statement=source_statement,
        created_by=by.actor.ref, created_by_name=by.actor.name[:200])
    pub.publisher, pub.provider = grant.consumer, grant.provider
    session.add(pub)
    session.flush()
    return pub


def ask_consent(session: Session, data: PublicationAsk, *, by: Principal) -> SharingPublication:
    """Art 17: the receiving agency asks the provider's consent to publish shared data."""
    grant = _grant_of_publisher(session, data.grant_id, by)
    t = rules_more.transition("publication", "ask", None)
    pub = _new(session, grant, data, t.target, by)
    _event(session, pub, "sharing.publication.asked", by=by, article=t.article, channel=pub.channel,
           purpose=pub.purpose)
    return pub


def record_republication(session: Session, data: RepublishIn, *, by: Principal) -> SharingPublication:
    """Art 17: data already public under open-government rules may be republished with its source
    stated. The entry must be open to the public, and the statement must name the provider."""
    grant = _grant_of_publisher(session, data.grant_id, by)
    resource = catalog_service.get_resource(session, grant.resource_id)
    if not resource.open_to_public:
        raise Conflict("sharing.publication.not_public",
                       "该数据并非已依法公开的政府信息，公开前须征得提供方同意",
                       "This data is not already public: publishing it needs the provider's consent",
                       field="grant_id", article="Art 17")
    statement = rules_more.check_text(data.source_statement, "source_statement", "请注明数据来源",
                                      "State the source", "Art 17", rules_more.SOURCE_MIN_CHARS)
    provider = grant.provider
    if provider.name not in statement and provider.code not in statement:
        raise InvalidInput("sharing.publication.source_names_provider", f"注明的来源须写明提供单位“{provider.name}”",
                           f"The source statement must name the provider ({provider.name})",
                           field="source_statement", article="Art 17")
    t = rules_more.transition("publication", "republish", None)
    pub = _new(session, grant, data, t.target, by, source_statement=statement)
    _event(session, pub, "sharing.publication.republished", by=by, article=t.article, channel=pub.channel,
           source_statement=statement)
    return pub


def _answer(session: Session, publication_id: int, action: str, data: AnswerIn, *, by: Principal
            ) -> SharingPublication:
    pub = get_publication(session, publication_id, viewer=by)
    if not perm.is_member(by, pub.provider_id):
        raise Forbidden("sharing.publication.provider_only", "只有提供单位可以答复公开申请",
                        "Only the providing agency answers a request to publish", article="Art 17")
    t = rules_more.transition("publication", action, pub.state)
    reason = (data.reason or "").strip() or None
    if action == "refuse":
        reason = rules_more.check_text(reason, "reason", "不同意公开的，请说明理由", "Give the reason for refusing",
                                       "Art 17")
    result = session.execute(update(SharingPublication)
                             .where(SharingPublication.id == pub.id, SharingPublication.state == pub.state)
                             .values(state=t.target, updated_at=clock.now())
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(pub, ["state"])
        rules_more.transition("publication", action, pub.state)
        raise Conflict("sharing.publication.concurrent", "该申请已被他人同时答复，请刷新后重试",
                       "Someone answered this at the same time; reload and try again", field="state")
    pub.state = t.target
    pub.answer_reason = reason
    pub.answered_by, pub.answered_by_name = by.actor.ref, by.actor.name[:200]
    pub.answered_at, pub.answered_on = clock.now(), clock.today()
    session.flush()
    _event(session, pub, f"sharing.publication.{'consented' if action == 'consent' else 'refused'}", by=by,
           article=t.article, reason=reason)
    return pub


def consent(session: Session, publication_id: int, data: AnswerIn, *, by: Principal) -> SharingPublication:
    return _answer(session, publication_id, "consent", data, by=by)


def refuse(session: Session, publication_id: int, data: AnswerIn, *, by: Principal) -> SharingPublication:
    return _answer(session, publication_id, "refuse", data, by=by)


# --- Reads ----------------------------------------------------------------------------------------


def _stmt():  # type: ignore[no-untyped-def]
    return select(SharingPublication).options(joinedload(SharingPublication.publisher),
                                              joinedload(SharingPublication.provider))


def _readable(viewer: Principal):  # type: ignore[no-untyped-def]
    from govshare.registry.models import Agency

    publisher_region = select(Agency.region_code).where(Agency.id == SharingPublication.publisher_id)
    provider_region = select(Agency.region_code).where(Agency.id == SharingPublication.provider_id)
    return perm.readable_condition(viewer, (SharingPublication.publisher_id, SharingPublication.provider_id),
                                   (publisher_region.scalar_subquery(), provider_region.scalar_subquery()))


def get_publication(session: Session, publication_id: int, *, viewer: Principal) -> SharingPublication:
    pub = session.scalars(_stmt().where(SharingPublication.id == publication_id, _readable(viewer))).first()
    if pub is None:
        raise not_found("publication", "公开申请", publication_id, "publication_id")
    return pub


def list_publications(session: Session, *, viewer: Principal, state: str | None = None, grant_id: int | None = None,
                      offset: int = 0, limit: int = 50) -> Page[SharingPublication]:
    """The publications the viewer may see; those awaiting an answer first, then newest."""
    stmt = _stmt().where(_readable(viewer))
    if state:
        stmt = stmt.where(SharingPublication.state == state)
    if grant_id is not None:
        stmt = stmt.where(SharingPublication.grant_id == grant_id)
    stmt = stmt.order_by((SharingPublication.state == "asked").desc(), SharingPublication.id.desc())
    return paginate(session, stmt, offset=offset, limit=limit)


def publication_read(pub: SharingPublication, lang: str = "zh") -> PublicationRead:
    return PublicationRead(
        id=pub.id, grant_id=pub.grant_id, publisher=AgencyRef(code=pub.publisher.code, name=pub.publisher.name),
        provider=AgencyRef(code=pub.provider.code, name=pub.provider.name), resource_code=pub.resource_code,
        content=pub.content, channel=pub.channel, purpose=pub.purpose, state=pub.state,  # type: ignore[arg-type]
        state_label=rules.label(rules_more.PUBLICATION_STATES, pub.state, lang), source_statement=pub.source_statement,
        answer_reason=pub.answer_reason, answered_by_name=pub.answered_by_name, answered_at=pub.answered_at,
        created_at=pub.created_at)


__all__ = ["ask_consent", "consent", "get_publication", "list_publications", "publication_read",
           "record_republication", "refuse"]
