"""Sharing API: ``/api/v1/sharing`` — requests and answers (Art 13, 18), agreements (Art 19),
grants (what the exchange gateway enforces), refusal filings, overdue requests, disputes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from govshare.core import clock
from govshare.core.auth import Authority
from govshare.core.db import SessionDep
from govshare.core.errors import preferred_language
from govshare.sharing import service
from govshare.sharing.permissions import DisputeActor, Member, Reader, Signer
from govshare.sharing.schemas import (
    AgreementRead,
    ApproveIn,
    DisputeCreate,
    DisputeDecide,
    DisputeRead,
    EventRead,
    FilingPage,
    GrantPage,
    GrantRead,
    GrantState,
    NegotiationAnswer,
    NegotiationCreate,
    NegotiationDecide,
    NegotiationPage,
    NegotiationPost,
    NegotiationRead,
    NegotiationState,
    OverdueCount,
    OverdueRead,
    PublicationAnswer,
    PublicationCreate,
    PublicationRead,
    RefuseIn,
    RequestCreate,
    RequestFromDemand,
    RequestPage,
    RequestRead,
    RequestState,
    RevokeIn,
    SignIn,
    WithdrawIn,
)

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
Limit = Annotated[int, Query(ge=1, le=200)]
AgencyCode = Annotated[str | None, Query(max_length=64)]


def _lang(request: Request) -> str:
    return preferred_language(request.headers.get("accept-language"))


def _read(session: SessionDep, req: object, request: Request) -> RequestRead:
    return service.request_reads(session, [req], _lang(request))[0]  # type: ignore[list-item]


# --- Requests -------------------------------------------------------------------------------------


@router.post(
    "/requests",
    response_model=RequestRead,
    status_code=status.HTTP_201_CREATED,
    summary="提出共享申请 / File a sharing request (Art 17, 18)",
)
def create_request(data: RequestCreate, session: SessionDep, by: Member, request: Request) -> RequestRead:
    return _read(session, service.create_request(session, data, by=by), request)


@router.post(
    "/demands/{demand_id}/request",
    response_model=RequestRead,
    status_code=status.HTTP_201_CREATED,
    summary="由已匹配的共享需求提出申请 / Request from a matched demand (Art 9)",
)
def request_from_demand(
    demand_id: Id, data: RequestFromDemand, session: SessionDep, by: Member, request: Request
) -> RequestRead:
    return _read(session, service.create_from_demand(session, demand_id, data, by=by), request)


@router.get("/requests", response_model=RequestPage, summary="共享申请列表 / Requests (most urgent first)")
def list_requests(
    session: SessionDep,
    by: Reader,
    request: Request,
    direction: Annotated[str | None, Query(pattern="^(incoming|outgoing)$")] = None,
    state: RequestState | None = None,
    agency: AgencyCode = None,
    resource: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> RequestPage:
    page = service.list_requests(
        session,
        viewer=by,
        direction=direction,
        state=state,
        agency=agency,
        resource=resource,
        overdue=overdue,
        offset=offset,
        limit=limit,
    )
    return RequestPage(
        items=service.request_reads(session, page.rows, _lang(request)), total=page.total, offset=offset, limit=limit
    )


@router.get("/requests/{request_id}", response_model=RequestRead, summary="一项共享申请 / One request")
def get_request(request_id: Id, session: SessionDep, by: Reader, request: Request) -> RequestRead:
    return _read(session, service.get_request(session, request_id, viewer=by), request)


@router.get(
    "/requests/{request_id}/history",
    response_model=list[EventRead],
    summary="申请的全部记录及条款 / The request's history with the article of each step",
)
def request_history(request_id: Id, session: SessionDep, by: Reader) -> list[EventRead]:
    return service.request_history(session, request_id, viewer=by)


@router.post(
    "/requests/{request_id}/approve",
    response_model=RequestRead,
    summary="同意共享 / Approve (Art 18(1); Art 18(2) channel; Art 19 agreement)",
)
def approve(request_id: Id, data: ApproveIn, session: SessionDep, by: Member, request: Request) -> RequestRead:
    return _read(session, service.approve_request(session, request_id, data, by=by), request)


@router.post(
    "/requests/{request_id}/refuse",
    response_model=RequestRead,
    summary="拒绝共享（须法定理由，自动备案）/ Refuse on a lawful ground (Art 13(2), 18)",
)
def refuse(request_id: Id, data: RefuseIn, session: SessionDep, by: Member, request: Request) -> RequestRead:
    return _read(session, service.refuse_request(session, request_id, data, by=by), request)


@router.post("/requests/{request_id}/withdraw", response_model=RequestRead, summary="撤回申请 / Withdraw")
def withdraw(request_id: Id, data: WithdrawIn, session: SessionDep, by: Member, request: Request) -> RequestRead:
    return _read(session, service.withdraw_request(session, request_id, data.reason, by=by), request)


# --- Disputes (Art 19(2)) -------------------------------------------------------------------------


@router.post(
    "/requests/{request_id}/disputes",
    response_model=DisputeRead,
    status_code=status.HTTP_201_CREATED,
    summary="提出争议（暂停计时）/ Raise a dispute (holds the clock, Art 19(2))",
)
def open_dispute(request_id: Id, data: DisputeCreate, session: SessionDep, by: DisputeActor) -> DisputeRead:
    return service.dispute_read(service.open_dispute(session, request_id, data, by=by))


@router.get("/requests/{request_id}/disputes", response_model=list[DisputeRead], summary="争议 / Disputes")
def list_disputes(request_id: Id, session: SessionDep, by: Reader) -> list[DisputeRead]:
    return [service.dispute_read(d) for d in service.list_disputes(session, request_id, viewer=by)]


@router.post(
    "/disputes/{dispute_id}/decide",
    response_model=DisputeRead,
    summary="争议决定 / Decide a dispute (secrecy administration; competent organ, Art 19(2))",
)
def decide_dispute(dispute_id: Id, data: DisputeDecide, session: SessionDep, by: DisputeActor) -> DisputeRead:
    return service.dispute_read(service.decide_dispute(session, dispute_id, data, by=by))


# --- Agreements (Art 19) --------------------------------------------------------------------------


@router.get(
    "/agreements/{agreement_id}.pdf",
    summary="保密协议 PDF / Agreement PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def agreement_pdf(agreement_id: Id, session: SessionDep, by: Reader) -> Response:
    a = service.get_agreement(session, agreement_id, viewer=by)
    return Response(
        a.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="agreement-{a.id}.pdf"', "X-Content-SHA256": a.pdf_sha256},
    )


@router.get("/agreements/{agreement_id}", response_model=AgreementRead, summary="保密协议 / Agreement")
def get_agreement(agreement_id: Id, session: SessionDep, by: Reader, request: Request) -> AgreementRead:
    return service.agreement_read(service.get_agreement(session, agreement_id, viewer=by), _lang(request))


@router.post(
    "/agreements/{agreement_id}/sign",
    response_model=AgreementRead,
    summary="共享负责人签署 / Sign as the agency's responsible person (Art 19, 30)",
)
def sign_agreement(agreement_id: Id, data: SignIn, session: SessionDep, by: Signer, request: Request) -> AgreementRead:
    return service.agreement_read(
        service.sign_agreement(session, agreement_id, by=by, pdf_sha256=data.pdf_sha256), _lang(request)
    )


# --- Grants ---------------------------------------------------------------------------------------


@router.get("/grants", response_model=GrantPage, summary="共享授权 / Grants")
def list_grants(
    session: SessionDep,
    by: Reader,
    request: Request,
    state: GrantState | None = None,
    consumer: AgencyCode = None,
    provider: AgencyCode = None,
    resource: Annotated[str | None, Query(max_length=64)] = None,
    usable: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> GrantPage:
    page = service.list_grants(
        session,
        viewer=by,
        state=state,
        consumer=consumer,
        provider=provider,
        resource=resource,
        usable=usable,
        offset=offset,
        limit=limit,
    )
    return GrantPage(items=service.grant_reads(page.rows, _lang(request)), total=page.total, offset=offset, limit=limit)


@router.get("/grants/{grant_id}", response_model=GrantRead, summary="一项共享授权 / One grant")
def get_grant(grant_id: Id, session: SessionDep, by: Reader, request: Request) -> GrantRead:
    return service.grant_reads([service.get_grant(session, grant_id, viewer=by)], _lang(request))[0]


@router.post("/grants/{grant_id}/revoke", response_model=GrantRead, summary="撤销授权 / Revoke (provider)")
def revoke_grant(grant_id: Id, data: RevokeIn, session: SessionDep, by: Member, request: Request) -> GrantRead:
    return service.grant_reads([service.revoke_grant(session, grant_id, data.reason, by=by)], _lang(request))[0]


# --- Filings and overdue --------------------------------------------------------------------------


@router.get("/filings", response_model=FilingPage, summary="拒绝共享备案 / Refusals filed (Art 18)")
def list_filings(
    session: SessionDep,
    by: Reader,
    request: Request,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    ground: Annotated[str | None, Query(max_length=40)] = None,
    agency: AgencyCode = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> FilingPage:
    page = service.list_filings(
        session, viewer=by, region=region, ground=ground, agency=agency, offset=offset, limit=limit
    )
    return FilingPage(
        items=service.filing_reads(page.rows, _lang(request)), total=page.total, offset=offset, limit=limit
    )


@router.get("/overdue", response_model=OverdueRead, summary="逾期未答复 / Overdue requests, counted per agency")
def overdue(session: SessionDep, by: Reader, request: Request, agency: AgencyCode = None) -> OverdueRead:
    rows, counts = service.overdue_requests(session, viewer=by, agency=agency)
    return OverdueRead(
        items=service.request_reads(session, rows, _lang(request)),
        total=len(rows),
        per_provider=[
            OverdueCount(agency={"code": a.code, "name": a.name}, overdue=n)  # type: ignore[arg-type]
            for a, n in counts
        ],
        as_of=clock.today(),
    )


# --- Negotiation outside the catalog (Art 13(1)) --------------------------------------------------


def _neg(session: SessionDep, n: object, request: Request) -> NegotiationRead:
    return service.negotiation_reads(session, [n], _lang(request))[0]  # type: ignore[list-item]


@router.post(
    "/negotiations",
    response_model=NegotiationRead,
    status_code=status.HTTP_201_CREATED,
    summary="目录外数据协商 / Negotiate data outside the catalog (Art 13(1))",
)
def open_negotiation(data: NegotiationCreate, session: SessionDep, by: Member, request: Request) -> NegotiationRead:
    return _neg(session, service.open_negotiation(session, data, by=by), request)


@router.get("/negotiations", response_model=NegotiationPage, summary="目录外协商列表 / Negotiations")
def list_negotiations(
    session: SessionDep,
    by: Reader,
    request: Request,
    state: NegotiationState | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> NegotiationPage:
    page = service.list_negotiations(session, viewer=by, state=state, offset=offset, limit=limit)
    return NegotiationPage(
        items=service.negotiation_reads(session, page.rows, _lang(request)),
        total=page.total,
        offset=offset,
        limit=limit,
    )


@router.get("/negotiations/{negotiation_id}", response_model=NegotiationRead, summary="一项协商 / One negotiation")
def get_negotiation(negotiation_id: Id, session: SessionDep, by: Reader, request: Request) -> NegotiationRead:
    return _neg(session, service.get_negotiation(session, negotiation_id, viewer=by), request)


@router.post(
    "/negotiations/{negotiation_id}/messages",
    response_model=NegotiationRead,
    summary="协商意见或方案 / A message or a proposal",
)
def post_message(
    negotiation_id: Id, data: NegotiationPost, session: SessionDep, by: Member, request: Request
) -> NegotiationRead:
    return _neg(session, service.post_message(session, negotiation_id, data, by=by), request)


@router.post(
    "/negotiations/{negotiation_id}/answer",
    response_model=NegotiationRead,
    summary="同意或不同意（提请协调）/ Agree, or disagree (escalates)",
)
def answer_negotiation(
    negotiation_id: Id, data: NegotiationAnswer, session: SessionDep, by: Member, request: Request
) -> NegotiationRead:
    return _neg(session, service.answer_negotiation(session, negotiation_id, data, by=by), request)


@router.post(
    "/negotiations/{negotiation_id}/decide",
    response_model=NegotiationRead,
    summary="记录政府协调决定 / Record the government's decision (Art 13(1))",
)
def decide_negotiation(
    negotiation_id: Id, data: NegotiationDecide, session: SessionDep, by: Authority, request: Request
) -> NegotiationRead:
    return _neg(session, service.decide_negotiation(session, negotiation_id, data, by=by), request)


# --- Publication consent (Art 17) -----------------------------------------------------------------


@router.post(
    "/grants/{grant_id}/publications",
    response_model=PublicationRead,
    status_code=status.HTTP_201_CREATED,
    summary="申请发布或登记已公开来源 / Ask consent to publish, or record a public source (Art 17)",
)
def request_publication(
    grant_id: Id, data: PublicationCreate, session: SessionDep, by: Member, request: Request
) -> PublicationRead:
    p = service.request_publication(session, grant_id, data, by=by)
    return service.publication_reads(session, [p], _lang(request))[0]


@router.get(
    "/grants/{grant_id}/publications", response_model=list[PublicationRead], summary="发布申请 / Publication requests"
)
def list_publications(grant_id: Id, session: SessionDep, by: Reader, request: Request) -> list[PublicationRead]:
    return service.publication_reads(session, service.list_publications(session, grant_id, viewer=by), _lang(request))


@router.post(
    "/publications/{publication_id}/answer",
    response_model=PublicationRead,
    summary="提供方同意或不同意发布 / The provider consents or refuses",
)
def answer_publication(
    publication_id: Id, data: PublicationAnswer, session: SessionDep, by: Member, request: Request
) -> PublicationRead:
    p = service.answer_publication(session, publication_id, data, by=by)
    return service.publication_reads(session, [p], _lang(request))[0]
