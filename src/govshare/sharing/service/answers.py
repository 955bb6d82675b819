"""Answers (Art 13(2), 14(3), 18, 19): the provider approves, possibly narrower, over a channel, or
refuses on a lawful ground with written reasons, filed with the authority of its region."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import service as catalog_service
from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.errors import InvalidInput
from govshare.core.paging import Page, paginate
from govshare.exchange import service as exchange_service
from govshare.exchange.schemas import FilingCreate
from govshare.registry import service as registry_service
from govshare.registry.models import Agency
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.models import SharingFiling, SharingRequest
from govshare.sharing.schemas import ApproveIn, FilingRead, RefuseIn
from govshare.sharing.service._common import (
    SUBJECT_FILING,
    agency_ref,
    event,
    get_request,
    move,
    request_event,
    resource_ref,
)
from govshare.sharing.service.requests import _touches, check_items, check_region_within


def _answered(req: SharingRequest, by: Principal) -> None:
    req.answered_at, req.answered_on = clock.now(), clock.today()
    req.answered_by, req.answered_by_name = by.actor.ref, by.actor.name[:200]


def approve_request(session: Session, request_id: int, data: ApproveIn, *, by: Principal) -> SharingRequest:
    """Art 18(1): the provider agrees, possibly to fewer items, a narrower region or a shorter
    term, and says how the data flows. State-secret data only over a secrecy network (Art 18(2));
    off the platform needs the Art 14(3) filing; secret, commercially secret or personal data needs
    the Art 19 agreement signed by both responsible persons before the grant is active."""
    req = get_request(session, request_id, viewer=by)
    perm.check_answer(by, req.provider_id)
    rules.transition("request", "approve", req.state)  # 409 before any check of the answer's content
    resource = catalog_service.get_resource(session, req.resource_id)
    items = check_items(resource, data.items if data.items is not None else req.items)
    extra = [i for i in items if i not in req.items]
    if extra:
        raise InvalidInput(
            "sharing.approve.items_not_requested",
            "同意的信息项须在申请范围内：" + "、".join(extra),
            "Approved items must be among those requested: " + ", ".join(extra),
            field="items",
            article="Art 18",
        )
    region_codes = list(dict.fromkeys(data.region_codes or [req.region_scope]))
    for code in region_codes:
        check_region_within(session, code, req.region_scope, "region_codes", "申请的数据范围", "the region requested")
    starts_on = data.starts_on or req.starts_on
    ends_on = data.ends_on or req.ends_on
    if starts_on < req.starts_on or ends_on > req.ends_on or ends_on < starts_on:
        raise InvalidInput(
            "sharing.approve.term_wider",
            "同意的期限须在申请的期限之内",
            "The approved term must lie within the term requested",
            field="ends_on",
            article="Art 18",
        )
    t = _touches(resource, items)
    rules.check_channel(data.channel, t)
    filing_id = None
    if data.channel == "off_platform":
        reason = (data.off_platform_reason or "").strip()
        way = (data.off_platform_channel or "").strip()
        if len(reason) < 4 or len(way) < 2:
            raise InvalidInput(
                "sharing.approve.off_platform_filing",
                "平台外共享须说明特殊原因和共享方式，并备案",
                "Sharing off the platform needs its reason and way, filed with the authority",
                field="off_platform_reason" if len(reason) < 4 else "off_platform_channel",
                article="Art 14(3)",
            )
    transition = move(session, req, "request", "approve")
    if data.channel == "off_platform":
        filing = exchange_service.file_filing(
            session,
            FilingCreate(
                agency=req.provider.code,
                resource=req.resource_code,
                counterpart=req.requester.code,
                direction="provide",
                reason=(data.off_platform_reason or "").strip(),
                channel=(data.off_platform_channel or "").strip()[:200],
            ),
            by=by,
        )
        filing_id = filing.id
    _answered(req, by)
    req.exchange_filing_id, req.note = filing_id, (data.note or "").strip() or None
    session.flush()
    request_event(
        session,
        req,
        "sharing.request.approved",
        by=by,
        article=transition.article,
        items=items,
        region_codes=region_codes,
        starts_on=starts_on,
        ends_on=ends_on,
        channel=data.channel,
        verify_only=data.verify_only,
        exchange_filing_id=filing_id,
        agreement_required=t.sensitive,
        late=req.deadline_on is not None and clock.today() > req.deadline_on,
    )
    from govshare.sharing.service.agreements import create_agreement
    from govshare.sharing.service.grants import create_grant

    grant = create_grant(
        session,
        req,
        items=items,
        region_codes=region_codes,
        starts_on=starts_on,
        ends_on=ends_on,
        channel=data.channel,
        verify_only=data.verify_only,
        pending=rules.needs_agreement(t),
        by=by,
    )
    if rules.needs_agreement(t):
        create_agreement(session, req, grant, touches=t, by=by)
    return req


def refuse_request(session: Session, request_id: int, data: RefuseIn, *, by: Principal) -> SharingRequest:
    """Art 13(2), 18(1): refusal on a lawful ground with written reasons, filed at once with the
    authority of the provider's region."""
    req = get_request(session, request_id, viewer=by)
    perm.check_answer(by, req.provider_id)
    rules.transition("request", "refuse", req.state)
    rules.check_refusal(data.ground, data.reason, data.citation)
    transition = move(session, req, "request", "refuse")
    _answered(req, by)
    req.refusal_ground, req.refusal_reason = data.ground, data.reason.strip()
    req.refusal_citation = (data.citation or "").strip() or None
    authority = session.scalar(
        select(Agency).where(Agency.region_code == req.provider_region_code, Agency.is_authority.is_(True))
    )
    filing = SharingFiling(
        request_id=req.id,
        region_code=req.provider_region_code,
        authority_id=authority.id if authority else None,
        provider_id=req.provider_id,
        requester_id=req.requester_id,
        resource_id=req.resource_id,
        ground=data.ground,
        citation=req.refusal_citation,
        reason=req.refusal_reason,
        filed_at=req.answered_at,
        filed_on=req.answered_on,
    )
    session.add(filing)
    session.flush()
    request_event(
        session,
        req,
        "sharing.request.refused",
        by=by,
        article=transition.article,
        ground=data.ground,
        citation=req.refusal_citation,
        filing_id=filing.id,
    )
    event(
        session,
        "sharing.refusal.filed",
        by=by,
        subject_type=SUBJECT_FILING,
        subject_id=filing.id,
        region_code=filing.region_code,
        agency_code=req.provider.code,
        article="Art 18(1)",
        data={
            "request_id": req.id,
            "ground": data.ground,
            "authority": authority.code if authority else None,
            "requester": req.requester.code,
            "resource_code": req.resource_code,
        },
    )
    return req


# --- The authority's filing list (Art 18) ---------------------------------------------------------


def list_filings(
    session: Session,
    *,
    viewer: Principal,
    region: str | None = None,
    ground: str | None = None,
    agency: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[SharingFiling]:
    """Refusals filed with authorities: an authority sees its region and below, supervisors and the
    secrecy administration read theirs, an agency sees refusals it gave or received."""
    stmt = (
        select(SharingFiling)
        .where(
            perm.readable_condition(
                viewer, (SharingFiling.provider_id, SharingFiling.requester_id), (SharingFiling.region_code,)
            )
        )
        .options(
            joinedload(SharingFiling.provider),
            joinedload(SharingFiling.requester),
            joinedload(SharingFiling.authority),
            joinedload(SharingFiling.resource),
        )
        .order_by(SharingFiling.filed_at.desc(), SharingFiling.id.desc())
    )
    if region:
        root = registry_service.get_region(session, region)
        stmt = stmt.where(registry_service.in_subtrees(SharingFiling.region_code, [root.path]))
    if ground:
        stmt = stmt.where(SharingFiling.ground == ground)
    if agency:
        a = registry_service.get_agency(session, agency)
        stmt = stmt.where((SharingFiling.provider_id == a.id) | (SharingFiling.requester_id == a.id))
    return paginate(session, stmt, offset=offset, limit=limit)


def filing_reads(filings: list[SharingFiling] | tuple[SharingFiling, ...], lang: str = "zh") -> list[FilingRead]:
    return [
        FilingRead(
            id=f.id,
            request_id=f.request_id,
            region_code=f.region_code,
            authority=agency_ref(f.authority) if f.authority else None,
            provider=agency_ref(f.provider),
            requester=agency_ref(f.requester),
            resource=resource_ref(f.resource),
            ground=f.ground,
            ground_label=rules.label(rules.REFUSAL_GROUNDS, f.ground, lang),
            citation=f.citation,
            reason=f.reason,
            filed_at=f.filed_at,
            filed_on=f.filed_on,
        )
        for f in filings
    ]
