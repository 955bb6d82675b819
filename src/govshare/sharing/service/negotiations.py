"""Sharing outside the catalog (Art 13(1)): "需要共享目录以外的政务信息资源的，由提供方和需求方协商解决；
协商未能达成一致的，由本级信息化主管部门提请本级人民政府协调决定。"

A thread of messages and proposals between the two agencies. Agreeing answers the other party's
latest proposal. Disagreeing hands the matter to the authority of the lowest region covering both
agencies, which records the government's decision (binding); a decision to share may create the
grant, on a catalog entry the data was entered in (the gateway serves catalog entries only).
Decisions over secret, commercially secret or personal items go through a request on that entry
instead, for its confidentiality agreement (Art 19).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from govshare.catalog import service as catalog_service
from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, Forbidden, InvalidInput
from govshare.core.paging import Page, paginate
from govshare.registry import service as registry_service
from govshare.registry.models import Agency
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.models import SharingGrant, SharingNegotiation, SharingNegotiationMessage
from govshare.sharing.schemas import (
    AgencyRef,
    NegotiationAnswer,
    NegotiationCreate,
    NegotiationDecide,
    NegotiationMessageRead,
    NegotiationPost,
    NegotiationRead,
)
from govshare.sharing.service._common import event, move, not_found
from govshare.sharing.service.requests import _touches, check_items, check_region_within

SUBJECT = "sharing_negotiation"


def _event(
    session: Session, n: SharingNegotiation, action: str, *, by: Principal, article: str, **data: object
) -> None:
    event(
        session,
        action,
        by=by,
        subject_type=SUBJECT,
        subject_id=n.id,
        region_code=n.authority_region_code,
        agency_code=n.provider.code,
        article=article,
        data={"requester": n.requester.code, "provider": n.provider.code, "state": n.state, **data},
    )


def common_region(a: str, b: str) -> str:
    """The code of the lowest region on both region paths (``320000/320500`` and
    ``320000/320100`` -> ``320000``)."""
    common = [x for x, y in zip(a.split("/"), b.split("/"), strict=False) if x == y]
    return common[-1] if common else a.split("/")[0]


def _own(session: Session, code: str | None, by: Principal) -> Agency:
    if code:
        agency = registry_service.get_agency(session, code)
    else:
        own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
        if len(own) != 1:
            raise InvalidInput(
                "sharing.negotiation.requester_required",
                "请指明发起协商的机关",
                "Name the agency that negotiates",
                field="requester",
            )
        agency = registry_service.get_agency(session, own[0])
    perm.check_request_for(by, agency.id)
    return agency


def _add(
    session: Session, n: SharingNegotiation, agency_id: int, kind: str, body: str, by: Principal
) -> SharingNegotiationMessage:
    msg = SharingNegotiationMessage(
        negotiation_id=n.id,
        agency_id=agency_id,
        kind=kind,
        body=body.strip(),
        created_at=clock.now(),
        created_by=by.actor.ref,
        created_by_name=by.actor.name[:200],
    )
    session.add(msg)
    n.messages.append(msg)
    session.flush()
    return msg


def open_negotiation(session: Session, data: NegotiationCreate, *, by: Principal) -> SharingNegotiation:
    requester = _own(session, data.requester, by)
    provider = registry_service.get_agency(session, data.provider)
    if provider.id == requester.id:
        raise InvalidInput(
            "sharing.negotiation.self", "不能与本机关协商", "An agency cannot negotiate with itself", field="provider"
        )
    t = rules.transition("negotiation", "open", None)
    region = common_region(
        registry_service.region_path_of(session, requester.region_code),
        registry_service.region_path_of(session, provider.region_code),
    )
    n = SharingNegotiation(
        requester_id=requester.id,
        provider_id=provider.id,
        requester_region_code=requester.region_code,
        provider_region_code=provider.region_code,
        authority_region_code=region,
        subject=data.subject.strip(),
        purpose=data.purpose.strip(),
        legal_basis=data.legal_basis.strip(),
        state=t.target,
        created_by=by.actor.ref,
    )
    n.requester, n.provider, n.messages = requester, provider, []
    session.add(n)
    session.flush()
    _add(session, n, requester.id, "message", data.message, by)
    _event(
        session, n, "sharing.negotiation.opened", by=by, article=t.article, subject=n.subject, authority_region=region
    )
    return n


def _stmt():  # type: ignore[no-untyped-def]
    return select(SharingNegotiation).options(
        joinedload(SharingNegotiation.requester),
        joinedload(SharingNegotiation.provider),
        selectinload(SharingNegotiation.messages),
    )


def _readable(viewer: Principal):  # type: ignore[no-untyped-def]
    return perm.readable_condition(
        viewer,
        (SharingNegotiation.requester_id, SharingNegotiation.provider_id),
        (SharingNegotiation.requester_region_code, SharingNegotiation.provider_region_code),
    )


def get_negotiation(session: Session, negotiation_id: int, *, viewer: Principal) -> SharingNegotiation:
    n = session.scalars(_stmt().where(SharingNegotiation.id == negotiation_id, _readable(viewer))).first()
    if n is None:
        raise not_found("negotiation", "目录外协商", negotiation_id, "negotiation_id")
    return n


def list_negotiations(
    session: Session, *, viewer: Principal, state: str | None = None, offset: int = 0, limit: int = 50
) -> Page[SharingNegotiation]:
    stmt = _stmt().where(_readable(viewer)).order_by(SharingNegotiation.id.desc())
    if state:
        stmt = stmt.where(SharingNegotiation.state == state)
    return paginate(session, stmt, offset=offset, limit=limit, unique=True)


def _party(n: SharingNegotiation, by: Principal) -> int:
    for agency_id in (n.requester_id, n.provider_id):
        if perm.is_member(by, agency_id):
            return agency_id
    raise Forbidden(
        "sharing.negotiation.party_only", "只有协商双方可以发言", "Only the two agencies negotiate", article="Art 13(1)"
    )


def post_message(session: Session, negotiation_id: int, data: NegotiationPost, *, by: Principal) -> SharingNegotiation:
    n = get_negotiation(session, negotiation_id, viewer=by)
    agency_id = _party(n, by)
    if n.state != "open":
        rules.transition("negotiation", "agree", n.state)  # 409 naming the state
    msg = _add(session, n, agency_id, data.kind, data.body, by)
    if data.kind == "proposal":
        _event(session, n, "sharing.negotiation.proposal", by=by, article="Art 13(1)", message_id=msg.id)
    else:
        _event(session, n, "sharing.negotiation.message", by=by, article="Art 13(1)", message_id=msg.id)
    return n


def answer_negotiation(
    session: Session, negotiation_id: int, data: NegotiationAnswer, *, by: Principal
) -> SharingNegotiation:
    """Agree to the other party's latest proposal, or disagree: then the authority takes it up."""
    n = get_negotiation(session, negotiation_id, viewer=by)
    agency_id = _party(n, by)
    action = "agree" if data.agree else "disagree"
    rules.transition("negotiation", action, n.state)
    if data.agree:
        proposals = [m for m in n.messages if m.kind == "proposal"]
        if not proposals or proposals[-1].agency_id == agency_id:
            raise Conflict(
                "sharing.negotiation.no_proposal",
                "没有对方提出的方案可同意",
                "There is no proposal of the other party to agree to",
                field="agree",
                article="Art 13(1)",
            )
    t = move(session, n, "negotiation", action)
    msg = _add(session, n, agency_id, action, data.body, by)
    _event(
        session,
        n,
        f"sharing.negotiation.{'agreed' if data.agree else 'escalated'}",
        by=by,
        article=t.article,
        message_id=msg.id,
        authority_region=n.authority_region_code,
    )
    return n


def decide_negotiation(
    session: Session, negotiation_id: int, data: NegotiationDecide, *, by: Principal
) -> SharingNegotiation:
    """The authority of the region covering both records the government's decision (binding)."""
    n = get_negotiation(session, negotiation_id, viewer=by)
    if not by.covers_region(registry_service.region_path_of(session, n.authority_region_code), "authority"):
        raise Forbidden(
            "sharing.negotiation.authority_only",
            "由双方共同所在地区的信息化主管部门提请本级人民政府协调决定",
            "The authority of the region covering both agencies records the government's decision",
            article="Art 13(1)",
        )
    rules.transition("negotiation", "decide", n.state)
    if data.grant is not None and data.outcome != "share":
        raise InvalidInput(
            "sharing.negotiation.grant_without_share",
            "决定不予共享的，不能生成共享授权",
            "A decision not to share cannot create a grant",
            field="grant",
        )
    grant = _decision_grant(session, n, data, by) if data.grant is not None else None
    t = move(session, n, "negotiation", "decide")
    n.decision_outcome, n.decision = data.outcome, data.decision.strip()
    n.decided_by_body, n.decided_at = data.government.strip()[:200], clock.now()
    n.grant_id = grant.id if grant else None
    session.flush()
    _event(
        session,
        n,
        "sharing.negotiation.decided",
        by=by,
        article=t.article,
        outcome=data.outcome,
        government=n.decided_by_body,
        grant_id=n.grant_id,
    )
    return n


def _decision_grant(session: Session, n: SharingNegotiation, data: NegotiationDecide, by: Principal) -> SharingGrant:
    from govshare.sharing.service.grants import _grant_event

    g = data.grant
    assert g is not None
    resource = catalog_service.get_resource(session, g.resource)
    if resource.status != "published" or not resource.code or resource.provider_id != n.provider_id:
        raise InvalidInput(
            "sharing.negotiation.resource",
            "授权须基于提供方已发布的目录资源",
            "The grant needs a published catalog entry of the provider",
            field="grant.resource",
            article="Art 13(1)",
        )
    items = check_items(resource, g.items, "grant.items")
    for code in g.region_codes:
        check_region_within(
            session, code, n.provider.region_code, "grant.region_codes", "提供方辖区", "the provider's region"
        )
    t = _touches(resource, items)
    if t.sensitive:
        raise InvalidInput(
            "sharing.negotiation.sensitive",
            "涉及国家秘密、商业秘密或个人信息的，须按申请程序签署保密协议",
            "Secret, commercially secret or personal data needs a request and its confidentiality agreement (Art 19)",
            field="grant.items",
            article="Art 19",
        )
    rules.check_channel(g.channel, t)
    starts_on = g.starts_on or clock.today()
    if g.ends_on < starts_on:
        raise InvalidInput(
            "sharing.term.ends_before_start",
            "截止日不能早于起始日",
            "The term ends before it starts",
            field="grant.ends_on",
        )
    tr = rules.transition("grant", "create_active", None)
    grant = SharingGrant(
        request_id=None,
        resource_id=resource.id,
        resource_code=resource.code,
        provider_id=n.provider_id,
        consumer_id=n.requester_id,
        items=items,
        region_codes=list(dict.fromkeys(g.region_codes)),
        purpose=n.purpose,
        legal_basis=n.legal_basis,
        starts_on=starts_on,
        ends_on=g.ends_on,
        channel=g.channel,
        verify_only=g.verify_only,
        state=tr.target,
    )
    session.add(grant)
    session.flush()
    _grant_event(
        session,
        grant,
        "sharing.grant.created",
        by=by,
        article="Art 13(1)",
        provider_code=n.provider.code,
        region_code=n.provider_region_code,
        consumer=n.requester.code,
        negotiation_id=n.id,
        items=items,
        region_codes=grant.region_codes,
        starts_on=starts_on,
        ends_on=g.ends_on,
        channel=g.channel,
    )
    return grant


def negotiation_reads(session: Session, ns: Sequence[SharingNegotiation], lang: str = "zh") -> list[NegotiationRead]:
    codes = dict(
        session.execute(
            select(Agency.id, Agency.code).where(Agency.id.in_({m.agency_id for n in ns for m in n.messages} or {0}))
        ).all()
    )
    return [
        NegotiationRead(
            id=n.id,
            requester=AgencyRef(code=n.requester.code, name=n.requester.name),
            provider=AgencyRef(code=n.provider.code, name=n.provider.name),
            authority_region_code=n.authority_region_code,
            subject=n.subject,
            purpose=n.purpose,
            legal_basis=n.legal_basis,
            state=n.state,  # type: ignore[arg-type]
            state_label=rules.label(rules.NEGOTIATION_STATES, n.state, lang),
            decision_outcome=n.decision_outcome,
            decision=n.decision,  # type: ignore[arg-type]
            decided_by_body=n.decided_by_body,
            decided_at=n.decided_at,
            grant_id=n.grant_id,
            messages=[
                NegotiationMessageRead(
                    id=m.id,
                    agency=codes.get(m.agency_id, ""),
                    kind=m.kind,
                    body=m.body,
                    created_at=m.created_at,
                    created_by_name=m.created_by_name,
                )
                for m in n.messages
            ],
            created_at=n.created_at,
        )
        for n in ns
    ]
