"""Negotiation outside the catalog (Art 13(1)).

An agency that needs data another agency holds but has not catalogued opens a negotiation. The
parties exchange messages and proposals (items, region, term, channel; never a fee, Art 16); the
party that did not make the latest proposal may agree to it, and either may declare that they
disagree. A disagreement goes to the competent authority of their level (the lowest region both
lie in), which records its government's decision: it binds both parties and, when the data is to
be shared and is registered as a catalog entry of the provider, creates the grant the gateway
enforces (a ``sharing_grant`` without a request).

Every change records its event with the article, in the caller's transaction; services flush only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import service as catalog_service
from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, Forbidden, InvalidInput
from govshare.core.paging import Page, paginate
from govshare.registry import service as registry_service
from govshare.registry.models import Agency
from govshare.sharing import permissions as perm
from govshare.sharing import rules, rules_more
from govshare.sharing.models import SharingGrant
from govshare.sharing.models_more import SharingNegotiation, SharingNegotiationMessage
from govshare.sharing.schemas import AgencyRef
from govshare.sharing.schemas_more import (
    DecisionGrant,
    DecisionIn,
    DisagreeIn,
    MessageIn,
    MessageRead,
    NegotiationCreate,
    NegotiationRead,
    ProposalIn,
)
from govshare.sharing.service._common import SUBJECT_GRANT, event, not_found

SUBJECT_NEGOTIATION = "sharing_negotiation"


def _event(session: Session, neg: SharingNegotiation, action: str, *, by: Principal, article: str | None,
           **data: Any) -> None:
    event(session, action, by=by, subject_type=SUBJECT_NEGOTIATION, subject_id=neg.id,
          region_code=neg.level_region_code, agency_code=neg.provider.code, article=article,
          data={"requester": neg.requester.code, "provider": neg.provider.code, "state": neg.state, **data})


def _move(session: Session, neg: SharingNegotiation, action: str) -> rules.Transition:
    """The transition, checked against the table and made on the state it was read in, so two
    parties acting at once cannot both move it (the loser gets the 409 naming the state)."""
    t = rules_more.transition("negotiation", action, neg.state)
    result = session.execute(update(SharingNegotiation)
                             .where(SharingNegotiation.id == neg.id, SharingNegotiation.state == neg.state)
                             .values(state=t.target, updated_at=clock.now())
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(neg, ["state"])
        rules_more.transition("negotiation", action, neg.state)
        raise Conflict("sharing.negotiation.concurrent", "该协商已被他人同时修改，请刷新后重试",
                       "Someone changed this negotiation at the same time; reload and try again", field="state")
    neg.state = t.target
    session.flush()
    return t


def _stmt():  # type: ignore[no-untyped-def]
    return select(SharingNegotiation).options(joinedload(SharingNegotiation.requester),
                                              joinedload(SharingNegotiation.provider))


def _readable(viewer: Principal):  # type: ignore[no-untyped-def]
    return perm.readable_condition(viewer, (SharingNegotiation.requester_id, SharingNegotiation.provider_id),
                                   (SharingNegotiation.requester_region_code,
                                    SharingNegotiation.provider_region_code))


def get_negotiation(session: Session, negotiation_id: int, *, viewer: Principal) -> SharingNegotiation:
    """A negotiation the viewer may see (a party's member, an overseer of a party's region)."""
    neg = session.scalars(_stmt().where(SharingNegotiation.id == negotiation_id, _readable(viewer))).first()
    if neg is None:
        raise not_found("negotiation", "协商", negotiation_id, "negotiation_id")
    return neg


def list_negotiations(session: Session, *, viewer: Principal, state: str | None = None, offset: int = 0,
                      limit: int = 50) -> Page[SharingNegotiation]:
    """Negotiations the viewer may see; escalated ones (waiting for a decision) first, then newest."""
    stmt = _stmt().where(_readable(viewer))
    if state:
        stmt = stmt.where(SharingNegotiation.state == state)
    stmt = stmt.order_by((SharingNegotiation.state == "escalated").desc(), SharingNegotiation.id.desc())
    return paginate(session, stmt, offset=offset, limit=limit)


def messages_of(session: Session, negotiation_id: int) -> list[SharingNegotiationMessage]:
    return list(session.scalars(select(SharingNegotiationMessage)
                                .where(SharingNegotiationMessage.negotiation_id == negotiation_id)
                                .order_by(SharingNegotiationMessage.id)))


def _party(neg: SharingNegotiation, by: Principal) -> Agency:
    """The party ``by`` acts for: the requester's or the provider's member (the requester first)."""
    for agency in (neg.requester, neg.provider):
        if perm.is_member(by, agency.id):
            return agency
    raise Forbidden("sharing.negotiation.party_only", "只有协商双方机关的工作人员可以参与协商",
                    "Only the staff of the two negotiating agencies take part", article="Art 13(1)")


def _add(session: Session, neg: SharingNegotiation, agency: Agency, kind: str, body: str, by: Principal,
         terms: dict[str, Any] | None = None) -> SharingNegotiationMessage:
    msg = SharingNegotiationMessage(
        negotiation_id=neg.id, agency_id=agency.id, kind=kind, body=body, terms=terms,
        proposal_state="open" if kind == "proposal" else None, author=by.actor.ref,
        author_name=by.actor.name[:200], created_at=clock.now())
    session.add(msg)
    session.flush()
    return msg


# --- The parties ----------------------------------------------------------------------------------


def open_negotiation(session: Session, data: NegotiationCreate, *, by: Principal) -> SharingNegotiation:
    """Art 13(1), 17: an agency asks another for data not in the catalog, for a purpose and duty."""
    from govshare.sharing.service.requests import _requester

    requester = _requester(session, data.requester, by)
    perm.check_request_for(by, requester.id)
    provider = registry_service.get_agency(session, data.provider)
    if provider.id == requester.id:
        raise InvalidInput("sharing.negotiation.own_agency", "不能与本机关协商",
                           "An agency cannot negotiate with itself", field="provider")
    level = rules_more.common_region(registry_service.region_path_of(session, requester.region_code),
                                     registry_service.region_path_of(session, provider.region_code))
    t = rules_more.transition("negotiation", "open", None)
    neg = SharingNegotiation(
        requester_id=requester.id, provider_id=provider.id, requester_region_code=requester.region_code,
        provider_region_code=provider.region_code, level_region_code=level, title=data.title.strip(),
        data_wanted=rules_more.check_text(data.data_wanted, "data_wanted", "请写明需要的数据", "State the data wanted",
                                          "Art 13(1)"),
        purpose=rules_more.check_text(data.purpose, "purpose", "请写明用途", "State the purpose", "Art 17"),
        legal_basis=rules_more.check_text(data.legal_basis, "legal_basis", "请写明所履行的职责及法律依据",
                                          "State the duty and its legal basis", "Art 17"),
        state=t.target, created_by=by.actor.ref, created_by_name=by.actor.name[:200])
    neg.requester, neg.provider = requester, provider
    session.add(neg)
    session.flush()
    _event(session, neg, "sharing.negotiation.opened", by=by, article=t.article, title=neg.title,
           level_region_code=level, purpose=neg.purpose)
    if data.message and data.message.strip():
        msg = _add(session, neg, requester, "message", data.message.strip(), by)
        _event(session, neg, "sharing.negotiation.message", by=by, article=t.article, message_id=msg.id,
               party=requester.code)
    return neg


def post_message(session: Session, negotiation_id: int, data: MessageIn, *, by: Principal
                 ) -> SharingNegotiationMessage:
    neg = get_negotiation(session, negotiation_id, viewer=by)
    agency = _party(neg, by)
    if neg.state not in rules_more.MESSAGE_STATES:
        rules_more.transition("negotiation", "agree", neg.state)  # 409 naming the state
    body = rules_more.check_text(data.body, "body", "请填写消息内容", "Write the message", "Art 13(1)", 1)
    msg = _add(session, neg, agency, "message", body, by)
    _event(session, neg, "sharing.negotiation.message", by=by, article="Art 13(1)", message_id=msg.id,
           party=agency.code)
    return msg


def propose(session: Session, negotiation_id: int, data: ProposalIn, *, by: Principal) -> SharingNegotiationMessage:
    """A party proposes terms; any earlier open proposal is superseded."""
    neg = get_negotiation(session, negotiation_id, viewer=by)
    agency = _party(neg, by)
    if neg.state not in rules_more.PROPOSAL_STATES:
        rules_more.transition("negotiation", "agree", neg.state)
    terms = data.terms.model_dump(mode="json")
    for code in data.terms.region_codes:
        registry_service.get_region(session, code)
    if data.terms.starts_on and data.terms.ends_on < data.terms.starts_on:
        raise InvalidInput("sharing.term.ends_before_start", "截止日早于起始日", "The term ends before it starts",
                           field="terms.ends_on")
    session.execute(update(SharingNegotiationMessage)
                    .where(SharingNegotiationMessage.negotiation_id == neg.id,
                           SharingNegotiationMessage.proposal_state == "open")
                    .values(proposal_state="superseded").execution_options(synchronize_session=False))
    msg = _add(session, neg, agency, "proposal", data.body.strip(), by, terms=terms)
    _event(session, neg, "sharing.negotiation.proposed", by=by, article="Art 13(1)", message_id=msg.id,
           party=agency.code, terms=terms)
    return msg


def _open_proposal(session: Session, neg: SharingNegotiation) -> SharingNegotiationMessage | None:
    return session.scalars(select(SharingNegotiationMessage).where(
        SharingNegotiationMessage.negotiation_id == neg.id,
        SharingNegotiationMessage.proposal_state == "open")).first()


def agree(session: Session, negotiation_id: int, *, by: Principal) -> SharingNegotiation:
    """Art 13(1): the other party accepts the latest proposal; the negotiation is settled on it."""
    neg = get_negotiation(session, negotiation_id, viewer=by)
    agency = _party(neg, by)
    rules_more.transition("negotiation", "agree", neg.state)
    proposal = _open_proposal(session, neg)
    if proposal is None:
        raise Conflict("sharing.negotiation.no_proposal", "尚无可同意的方案，请先提出方案",
                       "There is no proposal to agree to: make one first", field="proposal", article="Art 13(1)")
    if proposal.agency_id == agency.id:
        # The member of both parties (rare) may not agree with itself either.
        raise Conflict("sharing.negotiation.own_proposal", "须由另一方同意本方提出的方案",
                       "The other party must agree to your proposal", field="proposal", article="Art 13(1)")
    t = _move(session, neg, "agree")
    proposal.proposal_state = "accepted"
    session.flush()
    _event(session, neg, "sharing.negotiation.agreed", by=by, article=t.article, party=agency.code,
           message_id=proposal.id, terms=proposal.terms)
    return neg


def disagree(session: Session, negotiation_id: int, data: DisagreeIn, *, by: Principal) -> SharingNegotiation:
    """Art 13(1): a party declares the negotiation failed; the authority of their level takes it up."""
    neg = get_negotiation(session, negotiation_id, viewer=by)
    agency = _party(neg, by)
    rules_more.transition("negotiation", "disagree", neg.state)
    reason = rules_more.check_text(data.reason, "reason", "请写明分歧所在", "State what you disagree on", "Art 13(1)")
    t = _move(session, neg, "disagree")
    neg.disagreement, neg.escalated_at = reason, clock.now()
    session.execute(update(SharingNegotiationMessage)
                    .where(SharingNegotiationMessage.negotiation_id == neg.id,
                           SharingNegotiationMessage.proposal_state == "open")
                    .values(proposal_state="rejected").execution_options(synchronize_session=False))
    session.flush()
    authority = session.scalar(select(Agency).where(Agency.region_code == neg.level_region_code,
                                                    Agency.is_authority.is_(True)))
    _event(session, neg, "sharing.negotiation.escalated", by=by, article=t.article, party=agency.code,
           reason=reason, level_region_code=neg.level_region_code,
           authority=authority.code if authority is not None else None)
    return neg


def withdraw(session: Session, negotiation_id: int, *, by: Principal) -> SharingNegotiation:
    neg = get_negotiation(session, negotiation_id, viewer=by)
    perm.check_request_for(by, neg.requester_id)
    t = _move(session, neg, "withdraw")
    _event(session, neg, "sharing.negotiation.withdrawn", by=by, article=t.article)
    return neg


# --- The authority of their level -----------------------------------------------------------------


def check_decider(session: Session, neg: SharingNegotiation, by: Principal) -> None:
    if not by.covers_region(registry_service.region_path_of(session, neg.level_region_code), "authority"):
        raise Forbidden("sharing.negotiation.authority_of_level_only",
                        "协商不一致的，由双方共同所在地区的信息化主管部门报本级政府决定",
                        "A failed negotiation goes to the competent authority of the region both agencies lie in",
                        article="Art 13(1)")


def decide(session: Session, negotiation_id: int, data: DecisionIn, *, by: Principal) -> SharingNegotiation:
    """Art 13(1): the authority of their level records its government's decision. It binds both
    parties; a decision to share may create the grant at once."""
    neg = get_negotiation(session, negotiation_id, viewer=by)
    check_decider(session, neg, by)
    rules_more.transition("negotiation", "decide", neg.state)
    decision = rules_more.check_text(data.decision, "decision", "请写明决定内容", "State the decision", "Art 13(1)")
    if data.grant is not None and data.outcome != "share":
        raise InvalidInput("sharing.decision.grant_without_share", "决定不予共享的，不能生成共享授权",
                           "A decision not to share cannot create a grant", field="grant", article="Art 13(1)")
    t = _move(session, neg, "decide")
    neg.government, neg.outcome, neg.decision = data.government.strip(), data.outcome, decision
    neg.decided_by, neg.decided_by_name, neg.decided_at = by.actor.ref, by.actor.name[:200], clock.now()
    session.flush()
    _event(session, neg, "sharing.negotiation.decided", by=by, article=t.article, government=neg.government,
           outcome=data.outcome, binding=True)
    if data.grant is not None:
        grant = create_decision_grant(session, neg, data.grant, by=by)
        neg.grant_id = grant.id
        session.flush()
    return neg


def create_decision_grant(session: Session, neg: SharingNegotiation, data: DecisionGrant, *, by: Principal
                          ) -> SharingGrant:
    """The grant a government decision makes (no request; ``request_id`` is None by the gateway
    contract). The backend's ``grants.create_grant`` takes a request, hence this one here.

    The data must be a catalog entry of the provider (its items are what the gateway projects);
    state-secret data only over a secrecy network (Art 18(2)); secret, commercially secret or
    personal items need the Art 19 agreement, which is signed on a request, so such a grant is
    refused here: the provider catalogues the data and the requester files a request."""
    from govshare.sharing.service.requests import _touches, check_items, check_region_within

    resource = catalog_service.get_resource(session, data.resource)
    if resource.provider_id != neg.provider_id or resource.status == "withdrawn":
        raise InvalidInput("sharing.decision.resource_not_providers", "共享授权须指向提供方登记的目录资源",
                           "The grant must name a catalog entry of the providing agency", field="grant.resource",
                           article="Art 13(1)")
    items = check_items(resource, data.items, "grant.items")
    for code in data.region_codes:
        check_region_within(session, code, neg.provider_region_code, "grant.region_codes", "提供方辖区",
                            "the provider's region")
    t = _touches(resource, items)
    rules.check_channel(data.channel, t)
    if rules.needs_agreement(t):
        raise InvalidInput("sharing.decision.agreement_needed",
                           "涉及国家秘密、商业秘密或个人信息的数据须签订保密协议：请提供方登记目录后由申请方提出共享申请",
                           "Secret, commercially secret or personal data needs a confidentiality agreement: the "
                           "provider catalogues it and the requester files a request", field="grant.items",
                           article="Art 19(1)")
    today = clock.today()
    starts_on = data.starts_on or today
    if data.ends_on < starts_on or data.ends_on < today:
        raise InvalidInput("sharing.term.in_past", "共享期限已过或截止日早于起始日",
                           "The term lies in the past or ends before it starts", field="grant.ends_on")
    tr = rules.transition("grant", "create_active", None)
    grant = SharingGrant(
        request_id=None, resource_id=resource.id, resource_code=resource.code or str(resource.id),
        provider_id=neg.provider_id, consumer_id=neg.requester_id, items=items, region_codes=list(data.region_codes),
        purpose=neg.purpose, legal_basis=neg.legal_basis, starts_on=starts_on, ends_on=data.ends_on,
        channel=data.channel, verify_only=False, state=tr.target)
    session.add(grant)
    session.flush()
    event(session, "sharing.grant.created", by=by, subject_type=SUBJECT_GRANT, subject_id=grant.id,
          region_code=neg.provider_region_code, agency_code=neg.provider.code, article="Art 13(1)",
          data={"request_id": None, "negotiation_id": neg.id, "resource_code": grant.resource_code,
                "state": grant.state, "consumer": neg.requester.code, "items": items,
                "region_codes": list(data.region_codes), "starts_on": starts_on, "ends_on": data.ends_on,
                "channel": data.channel, "verify_only": False, "by_decision_of": neg.government})
    return grant


# --- Read models ----------------------------------------------------------------------------------


def _ref(a: Agency) -> AgencyRef:
    return AgencyRef(code=a.code, name=a.name)


def negotiation_read(session: Session, neg: SharingNegotiation, lang: str = "zh") -> NegotiationRead:
    agencies = {neg.requester_id: neg.requester, neg.provider_id: neg.provider}
    msgs = [MessageRead(id=m.id, agency=_ref(agencies[m.agency_id]), kind=m.kind, body=m.body,  # type: ignore[arg-type]
                        terms=m.terms, proposal_state=m.proposal_state, author_name=m.author_name,
                        created_at=m.created_at) for m in messages_of(session, neg.id)]
    return NegotiationRead(
        id=neg.id, state=neg.state, state_label=rules.label(rules_more.NEGOTIATION_STATES, neg.state, lang),  # type: ignore[arg-type]
        requester=_ref(neg.requester), provider=_ref(neg.provider), level_region_code=neg.level_region_code,
        title=neg.title, data_wanted=neg.data_wanted, purpose=neg.purpose, legal_basis=neg.legal_basis,
        disagreement=neg.disagreement, escalated_at=neg.escalated_at, government=neg.government,
        outcome=neg.outcome, decision=neg.decision, decided_by_name=neg.decided_by_name,  # type: ignore[arg-type]
        decided_at=neg.decided_at, grant_id=neg.grant_id, messages=msgs, created_at=neg.created_at)


__all__ = ["agree", "check_decider", "create_decision_grant", "decide", "disagree", "get_negotiation",
           "list_negotiations", "messages_of", "negotiation_read", "open_negotiation", "post_message", "propose",
           "withdraw"]
