"""Sharing API, continued: ``/api/v1/sharing/negotiations`` (outside the catalog, Art 13(1)) and
``/api/v1/sharing/publications`` (publication consent, Art 17)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from govshare.core.auth import Authority
from govshare.core.db import SessionDep
from govshare.core.errors import preferred_language
from govshare.sharing.permissions import Member, Reader
from govshare.sharing.schemas_more import (
    AnswerIn,
    DecisionIn,
    DisagreeIn,
    MessageIn,
    NegotiationCreate,
    NegotiationPage,
    NegotiationRead,
    NegotiationState,
    ProposalIn,
    PublicationAsk,
    PublicationPage,
    PublicationRead,
    PublicationState,
    RepublishIn,
)
from govshare.sharing.service import consent as consent_service
from govshare.sharing.service import negotiation as negotiation_service

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _lang(request: Request) -> str:
    return preferred_language(request.headers.get("accept-language"))


def _neg(session: SessionDep, neg: object, request: Request) -> NegotiationRead:
    return negotiation_service.negotiation_read(session, neg, _lang(request))  # type: ignore[arg-type]


# --- Negotiations (Art 13(1)) ---------------------------------------------------------------------


@router.post("/negotiations", response_model=NegotiationRead, status_code=status.HTTP_201_CREATED,
             summary="目录外协商 / Negotiate for data not in the catalog (Art 13(1))")
def open_negotiation(data: NegotiationCreate, session: SessionDep, by: Member, request: Request) -> NegotiationRead:
    return _neg(session, negotiation_service.open_negotiation(session, data, by=by), request)


@router.get("/negotiations", response_model=NegotiationPage, summary="协商列表 / Negotiations")
def list_negotiations(session: SessionDep, by: Reader, request: Request, state: NegotiationState | None = None,
                      offset: Offset = 0, limit: Limit = 50) -> NegotiationPage:
    page = negotiation_service.list_negotiations(session, viewer=by, state=state, offset=offset, limit=limit)
    return NegotiationPage(items=[_neg(session, n, request) for n in page.rows], total=page.total, offset=offset,
                           limit=limit)


@router.get("/negotiations/{negotiation_id}", response_model=NegotiationRead, summary="一项协商 / One negotiation")
def get_negotiation(negotiation_id: Id, session: SessionDep, by: Reader, request: Request) -> NegotiationRead:
    return _neg(session, negotiation_service.get_negotiation(session, negotiation_id, viewer=by), request)


@router.post("/negotiations/{negotiation_id}/messages", response_model=NegotiationRead,
             status_code=status.HTTP_201_CREATED, summary="发送消息 / Post a message")
def post_message(negotiation_id: Id, data: MessageIn, session: SessionDep, by: Member, request: Request
                 ) -> NegotiationRead:
    negotiation_service.post_message(session, negotiation_id, data, by=by)
    return _neg(session, negotiation_service.get_negotiation(session, negotiation_id, viewer=by), request)


@router.post("/negotiations/{negotiation_id}/proposals", response_model=NegotiationRead,
             status_code=status.HTTP_201_CREATED, summary="提出方案 / Propose terms (no fee, Art 16)")
def propose(negotiation_id: Id, data: ProposalIn, session: SessionDep, by: Member, request: Request
            ) -> NegotiationRead:
    negotiation_service.propose(session, negotiation_id, data, by=by)
    return _neg(session, negotiation_service.get_negotiation(session, negotiation_id, viewer=by), request)


@router.post("/negotiations/{negotiation_id}/agree", response_model=NegotiationRead,
             summary="同意对方方案 / Agree to the other party's proposal")
def agree(negotiation_id: Id, session: SessionDep, by: Member, request: Request) -> NegotiationRead:
    return _neg(session, negotiation_service.agree(session, negotiation_id, by=by), request)


@router.post("/negotiations/{negotiation_id}/disagree", response_model=NegotiationRead,
             summary="协商不一致，提交本级主管部门 / Disagree: to the authority of their level")
def disagree(negotiation_id: Id, data: DisagreeIn, session: SessionDep, by: Member, request: Request
             ) -> NegotiationRead:
    return _neg(session, negotiation_service.disagree(session, negotiation_id, data, by=by), request)


@router.post("/negotiations/{negotiation_id}/withdraw", response_model=NegotiationRead, summary="撤回 / Withdraw")
def withdraw(negotiation_id: Id, session: SessionDep, by: Member, request: Request) -> NegotiationRead:
    return _neg(session, negotiation_service.withdraw(session, negotiation_id, by=by), request)


@router.post("/negotiations/{negotiation_id}/decision", response_model=NegotiationRead,
             summary="登记本级政府的决定 / Record the government's decision (binding; may create the grant)")
def decide(negotiation_id: Id, data: DecisionIn, session: SessionDep, by: Authority, request: Request
           ) -> NegotiationRead:
    return _neg(session, negotiation_service.decide(session, negotiation_id, data, by=by), request)


# --- Publication consent (Art 17) -----------------------------------------------------------------


def _pub(pub: object, request: Request) -> PublicationRead:
    return consent_service.publication_read(pub, _lang(request))  # type: ignore[arg-type]


@router.post("/publications", response_model=PublicationRead, status_code=status.HTTP_201_CREATED,
             summary="申请公开共享数据 / Ask the provider's consent to publish (Art 17)")
def ask(data: PublicationAsk, session: SessionDep, by: Member, request: Request) -> PublicationRead:
    return _pub(consent_service.ask_consent(session, data, by=by), request)


@router.post("/publications/republish", response_model=PublicationRead, status_code=status.HTTP_201_CREATED,
             summary="已公开数据注明来源再公开 / Republish public data with its source stated (Art 17)")
def republish(data: RepublishIn, session: SessionDep, by: Member, request: Request) -> PublicationRead:
    return _pub(consent_service.record_republication(session, data, by=by), request)


@router.get("/publications", response_model=PublicationPage, summary="公开申请 / Publications")
def list_publications(session: SessionDep, by: Reader, request: Request, state: PublicationState | None = None,
                      grant_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None, offset: Offset = 0,
                      limit: Limit = 50) -> PublicationPage:
    page = consent_service.list_publications(session, viewer=by, state=state, grant_id=grant_id, offset=offset,
                                             limit=limit)
    return PublicationPage(items=[_pub(p, request) for p in page.rows], total=page.total, offset=offset,
                           limit=limit)


@router.get("/publications/{publication_id}", response_model=PublicationRead, summary="一项公开申请 / One")
def get_publication(publication_id: Id, session: SessionDep, by: Reader, request: Request) -> PublicationRead:
    return _pub(consent_service.get_publication(session, publication_id, viewer=by), request)


@router.post("/publications/{publication_id}/consent", response_model=PublicationRead,
             summary="同意公开 / Consent (provider)")
def consent(publication_id: Id, data: AnswerIn, session: SessionDep, by: Member, request: Request
            ) -> PublicationRead:
    return _pub(consent_service.consent(session, publication_id, data, by=by), request)


@router.post("/publications/{publication_id}/refuse", response_model=PublicationRead,
             summary="不同意公开 / Refuse (provider, with a reason)")
def refuse(publication_id: Id, data: AnswerIn, session: SessionDep, by: Member, request: Request
           ) -> PublicationRead:
    return _pub(consent_service.refuse(session, publication_id, data, by=by), request)
