"""Confidentiality agreements (Art 19(1)), signed by each party's responsible person (Art 30).

The agreement's PDF (WeasyPrint, Noto CJK embedded) is rendered once, when the agreement is made,
and kept with its SHA-256: every signature records the hash of the document it signed, and the
PDF served later is byte for byte that document.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, Forbidden
from govshare.registry import service as registry_service
from govshare.sharing import permissions as perm
from govshare.sharing import rules
from govshare.sharing.models import SharingAgreement, SharingGrant, SharingRequest, SharingSignature
from govshare.sharing.schemas import AgreementRead, SignatureRead
from govshare.sharing.service._common import SUBJECT_AGREEMENT, event, move, not_found


def _terms(req: SharingRequest, grant: SharingGrant, touches: rules.Touches) -> dict[str, Any]:
    r = req.resource
    return {
        "provider": {
            "code": req.provider.code,
            "name": req.provider.name,
            "responsible_person": req.provider.responsible_person,
        },
        "consumer": {
            "code": req.requester.code,
            "name": req.requester.name,
            "responsible_person": req.requester.responsible_person,
        },
        "resource": {"code": req.resource_code, "name": r.name},
        "items": list(grant.items),
        "purpose": grant.purpose,
        "legal_basis": grant.legal_basis,
        "region_codes": list(grant.region_codes),
        "starts_on": grant.starts_on.isoformat(),
        "ends_on": grant.ends_on.isoformat(),
        "channel": grant.channel,
        "verify_only": grant.verify_only,
        "touches": touches.labels(),
        "obligations": [{"zh": zh, "en": en} for zh, en in rules.AGREEMENT_OBLIGATIONS],
        "request_id": req.id,
    }


def render_pdf(agreement_id: int, terms: dict[str, Any]) -> bytes:
    """The agreement as a PDF: Chinese first, English below; fonts embedded (Noto CJK subset)."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    from weasyprint import HTML

    env = Environment(loader=PackageLoader("govshare.sharing", "templates"), autoescape=select_autoescape())
    html = env.get_template("agreement_pdf.html").render(
        agreement_id=agreement_id, t=terms, channels=rules.CHANNELS, touches=rules.Touches
    )
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


def create_agreement(
    session: Session, req: SharingRequest, grant: SharingGrant, *, touches: rules.Touches, by: Principal
) -> SharingAgreement:
    t = rules.transition("agreement", "create", None)
    terms = _terms(req, grant, touches)
    agreement = SharingAgreement(
        request_id=req.id,
        provider_id=req.provider_id,
        consumer_id=req.requester_id,
        state=t.target,
        terms=terms,
        pdf=b"",
        pdf_sha256="",
    )
    session.add(agreement)
    session.flush()
    pdf = render_pdf(agreement.id, terms)
    agreement.pdf, agreement.pdf_sha256 = pdf, hashlib.sha256(pdf).hexdigest()
    session.flush()
    event(
        session,
        "sharing.agreement.created",
        by=by,
        subject_type=SUBJECT_AGREEMENT,
        subject_id=agreement.id,
        region_code=req.provider_region_code,
        agency_code=req.provider.code,
        article=t.article,
        data={
            "request_id": req.id,
            "grant_id": grant.id,
            "pdf_sha256": agreement.pdf_sha256,
            "pdf_bytes": len(pdf),
            "touches": touches.labels(),
        },
    )
    return agreement


def _agreement_stmt():  # type: ignore[no-untyped-def]
    return select(SharingAgreement).options(
        joinedload(SharingAgreement.provider),
        joinedload(SharingAgreement.consumer),
        selectinload(SharingAgreement.signatures),
    )


def get_agreement(session: Session, agreement_id: int, *, viewer: Principal) -> SharingAgreement:
    agreement = session.scalars(_agreement_stmt().where(SharingAgreement.id == agreement_id)).first()
    if agreement is None or not perm.can_read(
        viewer,
        (agreement.provider_id, agreement.consumer_id),
        (
            registry_service.region_path_of(session, agreement.provider.region_code),
            registry_service.region_path_of(session, agreement.consumer.region_code),
        ),
    ):
        raise not_found("agreement", "保密协议", agreement_id, "agreement_id")
    return agreement


def agreement_for_request(session: Session, request_id: int) -> SharingAgreement | None:
    return session.scalars(_agreement_stmt().where(SharingAgreement.request_id == request_id)).first()


def sign_agreement(
    session: Session, agreement_id: int, *, by: Principal, pdf_sha256: str | None = None
) -> SharingAgreement:
    """Art 19(1), Art 30: the signer's agency's responsible person signs; the second signature makes
    the agreement signed and the grant active. ``pdf_sha256``, when given, must be the hash of the
    document kept (the signer signs what they saw)."""
    agreement = get_agreement(session, agreement_id, viewer=by)
    signed = {s.agency_id for s in agreement.signatures}
    parties = [(agreement.provider_id, "provider"), (agreement.consumer_id, "consumer")]
    mine = [(a, party) for a, party in parties if by.in_agency(a, "agency_admin") and a not in signed]
    if not mine:
        if not any(by.in_agency(a, "agency_admin") for a, _p in parties):
            raise Forbidden(
                "sharing.agreement.responsible_person_only",
                "保密协议须由本机关共享负责人（机关管理员）签署",
                "The agreement is signed by the agency's responsible person (its agency admin)",
                article="Art 30",
            )
        if agreement.state in ("signed", "void"):
            rules.transition("agreement", "sign_second", agreement.state)  # 409 naming the state
        raise Conflict(
            "sharing.agreement.already_signed",
            "本机关已签署该协议",
            "Your agency has already signed this agreement",
            field="agreement_id",
            article="Art 19(1)",
        )
    agency_id, party = mine[0]
    if pdf_sha256 is not None and pdf_sha256 != agreement.pdf_sha256:
        raise Conflict(
            "sharing.agreement.document_changed",
            "签署的文本与保存的协议不一致，请重新打开协议",
            "The document you signed differs from the agreement kept: open it again",
            field="pdf_sha256",
            article="Art 19(1)",
        )
    action = "sign_first" if agreement.state == "awaiting_signatures" else "sign_second"
    t = move(session, agreement, "agreement", action)
    now = clock.now()
    sig = SharingSignature(
        agreement_id=agreement.id,
        agency_id=agency_id,
        party=party,
        signer=by.actor.ref,
        signer_name=by.actor.name[:200],
        pdf_sha256=agreement.pdf_sha256,
        signed_at=now,
    )
    session.add(sig)
    agreement.signatures.append(sig)
    if t.target == "signed":
        agreement.signed_at = now
    session.flush()
    agency = agreement.provider if party == "provider" else agreement.consumer
    event(
        session,
        "sharing.agreement.signed",
        by=by,
        subject_type=SUBJECT_AGREEMENT,
        subject_id=agreement.id,
        region_code=agency.region_code,
        agency_code=agency.code,
        article=t.article,
        data={
            "request_id": agreement.request_id,
            "party": party,
            "pdf_sha256": agreement.pdf_sha256,
            "state": agreement.state,
        },
    )
    if t.target == "signed":
        from govshare.sharing.service.grants import activate_grant, grant_for_request

        grant = grant_for_request(session, agreement.request_id)
        if grant is not None and grant.state == "pending_signatures":
            activate_grant(session, grant, by=by, agreement_id=agreement.id, pdf_sha256=agreement.pdf_sha256)
    return agreement


def void_agreement_of(session: Session, grant: SharingGrant, *, by: Principal, reason: str) -> None:
    """An agreement not yet signed by both is void once its grant is revoked."""
    if grant.request_id is None:
        return
    agreement = agreement_for_request(session, grant.request_id)
    if agreement is None or agreement.state not in ("awaiting_signatures", "partially_signed"):
        return
    t = move(session, agreement, "agreement", "void")
    event(
        session,
        "sharing.agreement.voided",
        by=by,
        subject_type=SUBJECT_AGREEMENT,
        subject_id=agreement.id,
        region_code=agreement.provider.region_code,
        agency_code=agreement.provider.code,
        article=t.article,
        data={"request_id": agreement.request_id, "reason": reason},
    )


def agreement_read(a: SharingAgreement, lang: str = "zh") -> AgreementRead:
    codes = {a.provider_id: a.provider.code, a.consumer_id: a.consumer.code}
    return AgreementRead(
        id=a.id,
        request_id=a.request_id,
        state=a.state,  # type: ignore[arg-type]
        state_label=rules.label(rules.AGREEMENT_STATES, a.state, lang),
        terms=a.terms,
        pdf_sha256=a.pdf_sha256,
        signatures=[
            SignatureRead(
                party=s.party,
                agency=codes.get(s.agency_id, ""),
                signer_name=s.signer_name,
                pdf_sha256=s.pdf_sha256,
                signed_at=s.signed_at,
            )
            for s in a.signatures
        ],
        signed_at=a.signed_at,
        created_at=a.created_at,
    )
