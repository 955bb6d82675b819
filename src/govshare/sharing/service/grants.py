"""Grants: what the exchange gateway enforces (the contract in ``sharing.models.SharingGrant``).

Created by an approval (active at once, or pending the Art 19 signatures), activated when the
agreement is signed, revoked by the provider with a reason, expired automatically after its term.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.errors import InvalidInput
from govshare.core.paging import Page, paginate
from govshare.registry import service as registry_service
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.models import SharingGrant, SharingRequest
from govshare.sharing.schemas import GrantRead
from govshare.sharing.service._common import SUBJECT_GRANT, agency_ref, event, move, not_found, resource_ref


def _grant_event(
    session: Session,
    grant: SharingGrant,
    action: str,
    *,
    by: Principal,
    article: str | None,
    provider_code: str,
    region_code: str | None,
    **data: object,
) -> None:
    event(
        session,
        action,
        by=by,
        subject_type=SUBJECT_GRANT,
        subject_id=grant.id,
        region_code=region_code,
        agency_code=provider_code,
        article=article,
        data={"request_id": grant.request_id, "resource_code": grant.resource_code, "state": grant.state, **data},
    )


def create_grant(
    session: Session,
    req: SharingRequest,
    *,
    items: list[str],
    region_codes: list[str],
    starts_on: dt.date,
    ends_on: dt.date,
    channel: str,
    verify_only: bool,
    pending: bool,
    by: Principal,
) -> SharingGrant:
    """The grant of an approved request (called by the answer services, in their transaction)."""
    t = rules.transition("grant", "create_pending" if pending else "create_active", None)
    grant = SharingGrant(
        request_id=req.id,
        resource_id=req.resource_id,
        resource_code=req.resource_code,
        provider_id=req.provider_id,
        consumer_id=req.requester_id,
        items=list(items),
        region_codes=list(region_codes),
        purpose=req.purpose,
        legal_basis=req.legal_basis,
        starts_on=starts_on,
        ends_on=ends_on,
        channel=channel,
        verify_only=verify_only,
        state=t.target,
    )
    session.add(grant)
    session.flush()
    _grant_event(
        session,
        grant,
        "sharing.grant.created",
        by=by,
        article=t.article,
        provider_code=req.provider.code,
        region_code=req.provider_region_code,
        consumer=req.requester.code,
        items=list(items),
        region_codes=list(region_codes),
        starts_on=starts_on,
        ends_on=ends_on,
        channel=channel,
        verify_only=verify_only,
    )
    return grant


def _grant_stmt():  # type: ignore[no-untyped-def]
    return select(SharingGrant).options(
        joinedload(SharingGrant.provider), joinedload(SharingGrant.consumer), joinedload(SharingGrant.resource)
    )


def _readable(viewer: Principal):  # type: ignore[no-untyped-def]
    from govshare.registry.models import Agency

    provider_region = select(Agency.region_code).where(Agency.id == SharingGrant.provider_id).scalar_subquery()
    consumer_region = select(Agency.region_code).where(Agency.id == SharingGrant.consumer_id).scalar_subquery()
    return perm.readable_condition(
        viewer, (SharingGrant.provider_id, SharingGrant.consumer_id), (provider_region, consumer_region)
    )


def get_grant(session: Session, grant_id: int, *, viewer: Principal) -> SharingGrant:
    grant = session.scalars(_grant_stmt().where(SharingGrant.id == grant_id, _readable(viewer))).first()
    if grant is None:
        raise not_found("grant", "共享授权", grant_id, "grant_id")
    return grant


def grant_for_request(session: Session, request_id: int) -> SharingGrant | None:
    return session.scalars(_grant_stmt().where(SharingGrant.request_id == request_id)).first()


def list_grants(
    session: Session,
    *,
    viewer: Principal,
    state: str | None = None,
    consumer: str | None = None,
    provider: str | None = None,
    resource: str | None = None,
    usable: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[SharingGrant]:
    """Grants the viewer may see: its agencies' (as provider or consumer), its regions' (overseers)."""
    stmt = _grant_stmt().where(_readable(viewer)).order_by(SharingGrant.id.desc())
    if state:
        stmt = stmt.where(SharingGrant.state == state)
    if consumer:
        stmt = stmt.where(SharingGrant.consumer_id == registry_service.get_agency(session, consumer).id)
    if provider:
        stmt = stmt.where(SharingGrant.provider_id == registry_service.get_agency(session, provider).id)
    if resource:
        stmt = stmt.where(SharingGrant.resource_code == resource)
    if usable is not None:
        today = clock.today()
        cond = (SharingGrant.state == "active") & (SharingGrant.starts_on <= today) & (SharingGrant.ends_on >= today)
        stmt = stmt.where(cond if usable else ~cond)
    return paginate(session, stmt, offset=offset, limit=limit)


def activate_grant(
    session: Session, grant: SharingGrant, *, by: Principal, agreement_id: int, pdf_sha256: str
) -> SharingGrant:
    t = move(session, grant, "grant", "activate")
    _grant_event(
        session,
        grant,
        "sharing.grant.activated",
        by=by,
        article=t.article,
        provider_code=grant.provider.code,
        region_code=grant.provider.region_code,
        agreement_id=agreement_id,
        pdf_sha256=pdf_sha256,
    )
    return grant


def revoke_grant(session: Session, grant_id: int, reason: str, *, by: Principal) -> SharingGrant:
    """The provider revokes a grant, with its reason; the gateway refuses the consumer from then on."""
    grant = get_grant(session, grant_id, viewer=by)
    perm.check_revoke(by, grant.provider_id)
    rules.transition("grant", "revoke", grant.state)
    reason = reason.strip()
    if len(reason) < 4:
        raise InvalidInput(
            "sharing.grant.reason_required",
            "撤销须说明理由",
            "Revoking needs a reason",
            field="reason",
            article="Art 17",
        )
    t = move(session, grant, "grant", "revoke")
    grant.revoked_at, grant.revoked_reason = clock.now(), reason
    session.flush()
    _grant_event(
        session,
        grant,
        "sharing.grant.revoked",
        by=by,
        article=t.article,
        provider_code=grant.provider.code,
        region_code=grant.provider.region_code,
        reason=reason,
    )
    from govshare.sharing.service.agreements import void_agreement_of

    void_agreement_of(session, grant, by=by, reason=reason)
    return grant


def expire_grants(session: Session, *, by: Principal, today: dt.date | None = None) -> list[SharingGrant]:
    """Grants whose term ended before ``today`` (default: today) expire; each records its event."""
    today = today or clock.today()
    due = list(
        session.scalars(
            _grant_stmt()
            .where(SharingGrant.state.in_(("active", "pending_signatures")), SharingGrant.ends_on < today)
            .order_by(SharingGrant.id)
        )
    )
    for grant in due:
        t = move(session, grant, "grant", "expire")
        _grant_event(
            session,
            grant,
            "sharing.grant.expired",
            by=by,
            article=t.article,
            provider_code=grant.provider.code,
            region_code=grant.provider.region_code,
            ends_on=grant.ends_on,
        )
    return due


def is_usable(grant: SharingGrant, today: dt.date | None = None) -> bool:
    today = today or clock.today()
    return grant.state == "active" and grant.starts_on <= today <= grant.ends_on


def grant_reads(grants: Sequence[SharingGrant], lang: str = "zh") -> list[GrantRead]:
    today = clock.today()
    return [
        GrantRead(
            id=g.id,
            request_id=g.request_id,
            resource=resource_ref(g.resource, g.resource_code),
            provider=agency_ref(g.provider),
            consumer=agency_ref(g.consumer),
            items=list(g.items),
            region_codes=list(g.region_codes),
            purpose=g.purpose,
            legal_basis=g.legal_basis,
            starts_on=g.starts_on,
            ends_on=g.ends_on,
            channel=g.channel,
            verify_only=g.verify_only,
            state=g.state,  # type: ignore[arg-type]
            state_label=rules.label(rules.GRANT_STATES, g.state, lang),
            usable=is_usable(g, today),
            revoked_at=g.revoked_at,
            revoked_reason=g.revoked_reason,
            created_at=g.created_at,
        )
        for g in grants
    ]
