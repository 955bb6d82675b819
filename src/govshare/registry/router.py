"""Registry API: regions, agencies, people, roles, tokens and machine clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from govshare.core.auth import Anyone, Authority, Principal, SignedIn, client_address
from govshare.core.db import SessionDep, transaction
from govshare.core.errors import DomainError, Forbidden
from govshare.registry import service
from govshare.registry.models import ApiToken, Person
from govshare.registry.permissions import Manager
from govshare.registry.schemas import (
    AgencyCreate,
    AgencyPage,
    AgencyRead,
    AgencyUpdate,
    ClientCreate,
    ClientIssued,
    ClientRead,
    GrantCreate,
    GrantRead,
    Me,
    PasswordChange,
    PasswordReset,
    PersonCreate,
    PersonRead,
    RegionCreate,
    RegionRead,
    TokenIssued,
    TokenRead,
)

router = APIRouter(prefix="/api/v1", tags=["registry"])


#: Ids and offsets are stored as 32-bit integers on every backend; larger numbers would make the
#: database driver fail (a 500) instead of giving a 404 or a 422.
DB_INT_MAX = 2**31 - 1

# Path parameters, with examples for the docs (and for the API fuzz test, which starts from them).
RegionCode = Annotated[str, Path(description="GB/T 2260 行政区划代码 / region code", examples=["320500"])]
AgencyRef = Annotated[
    str, Path(description="机关代号、统一社会信用代码或编号 / agency code, USCC or id", examples=["js-gat"])
]
Username = Annotated[str, Path(description="用户名 / user name", examples=["gat_staff"])]
ClientId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="客户端编号 / client id", examples=[1])]
TokenId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="令牌编号 / token id", examples=[1])]


def _grant_read(g: object) -> GrantRead:
    return GrantRead(
        id=0,
        role=g.role,
        agency_code=g.agency_code,  # type: ignore[attr-defined]
        region_code=None if g.agency_id is not None else g.region_code,
    )  # type: ignore[attr-defined]


def _person_read(person: Person, grants: list) -> PersonRead:  # type: ignore[type-arg]
    return PersonRead(
        id=person.id,
        username=person.username,
        display_name=person.display_name,
        active=person.active,
        grants=[_grant_read(g) for g in grants],
    )


def _agency_read(agency: object, viewer: Principal | None) -> AgencyRead:
    read = AgencyRead.model_validate(agency)
    if viewer is None:  # contact details are for signed-in civil servants only
        read.responsible_phone = None
    return read


@router.get("/regions", response_model=list[RegionRead], summary="行政区划 / Regions")
def list_regions(
    session: SessionDep, _: Anyone, parent: str | None = None, under: str | None = None
) -> list[RegionRead]:
    return [RegionRead.model_validate(r) for r in service.list_regions(session, parent_code=parent, under=under)]


@router.get("/regions/{code}", response_model=RegionRead)
def get_region(code: RegionCode, session: SessionDep, _: Anyone) -> RegionRead:
    return RegionRead.model_validate(service.get_region(session, code))


@router.post("/regions", response_model=RegionRead, status_code=status.HTTP_201_CREATED)
def create_region(data: RegionCreate, session: SessionDep, by: Authority) -> RegionRead:
    return RegionRead.model_validate(service.create_region(session, data, by=by))


@router.get("/agencies", response_model=AgencyPage, summary="机关名录 / Agencies")
def list_agencies(
    session: SessionDep,
    viewer: Anyone,
    region: str | None = Query(default=None, description="Region code; includes regions below it"),
    missing_responsible: bool = Query(
        default=False, description="Only agencies lacking an Art 30 responsible unit or person"
    ),
    q: str | None = Query(default=None, max_length=100),
    offset: int = Query(default=0, ge=0, le=DB_INT_MAX),
    limit: int = Query(default=50, ge=1, le=500),
) -> AgencyPage:
    rows, total = service.list_agencies(
        session, region=region, missing_responsible=missing_responsible, q=q, offset=offset, limit=limit
    )
    return AgencyPage(items=[_agency_read(a, viewer) for a in rows], total=total, offset=offset, limit=limit)


@router.post("/agencies", response_model=AgencyRead, status_code=status.HTTP_201_CREATED)
def create_agency(data: AgencyCreate, session: SessionDep, by: Authority) -> AgencyRead:
    return AgencyRead.model_validate(service.create_agency(session, data, by=by))


@router.get("/agencies/{ref}", response_model=AgencyRead)
def get_agency(ref: AgencyRef, session: SessionDep, viewer: Anyone) -> AgencyRead:
    return _agency_read(service.get_agency(session, ref), viewer)


@router.patch("/agencies/{ref}", response_model=AgencyRead)
def update_agency(ref: AgencyRef, data: AgencyUpdate, session: SessionDep, by: Manager) -> AgencyRead:
    return AgencyRead.model_validate(service.update_agency(session, ref, data, by=by))


@router.get("/agencies/{ref}/clients", response_model=list[ClientRead])
def list_clients(ref: AgencyRef, session: SessionDep, by: Manager) -> list[ClientRead]:
    return [ClientRead.model_validate(c) for c in service.list_clients(session, ref, by=by)]


@router.post("/agencies/{ref}/clients", response_model=ClientIssued, status_code=status.HTTP_201_CREATED)
def add_client(ref: AgencyRef, data: ClientCreate, session: SessionDep, by: Manager) -> ClientIssued:
    client, key = service.add_client(session, ref, data.name, by=by)
    return ClientIssued(**ClientRead.model_validate(client).model_dump(), api_key=key)


@router.post("/clients/{client_id}/revoke", response_model=ClientRead)
def revoke_client(client_id: ClientId, session: SessionDep, by: Manager) -> ClientRead:
    return ClientRead.model_validate(service.revoke_client(session, client_id, by=by))


@router.get("/people", response_model=list[PersonRead])
def list_people(session: SessionDep, by: SignedIn, agency: str | None = None) -> list[PersonRead]:
    return [_person_read(p, g) for p, g in service.list_people(session, by=by, agency=agency)]


@router.post("/people", response_model=PersonRead, status_code=status.HTTP_201_CREATED)
def create_person(data: PersonCreate, session: SessionDep, by: Manager) -> PersonRead:
    person = service.create_person(session, data, by=by)
    return _person_read(person, service.grants_of(session, person.id))


@router.post("/people/{username}/grants", response_model=PersonRead, status_code=status.HTTP_201_CREATED)
def grant_role(username: Username, data: GrantCreate, session: SessionDep, by: Manager) -> PersonRead:
    service.grant_role(session, username, data, by=by)
    person = service.get_person(session, username)
    return _person_read(person, service.grants_of(session, person.id))


@router.post("/people/{username}/deactivate", response_model=PersonRead, summary="停用用户 / Deactivate a person")
def deactivate_person(username: Username, session: SessionDep, by: Manager) -> PersonRead:
    """Their tokens and portal sessions stop working at once; their records stay (Art 34)."""
    person = service.set_person_active(session, username, False, by=by)
    return _person_read(person, service.grants_of(session, person.id))


@router.post(
    "/people/{username}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="重设用户的初始密码 / Reset a person's password",
)
def reset_password(username: Username, data: PasswordReset, session: SessionDep, by: Manager) -> None:
    service.reset_password(session, username, data.password, by=by)


@router.post("/people/{username}/reactivate", response_model=PersonRead, summary="恢复用户 / Reactivate a person")
def reactivate_person(username: Username, session: SessionDep, by: Manager) -> PersonRead:
    person = service.set_person_active(session, username, True, by=by)
    return _person_read(person, service.grants_of(session, person.id))


@router.get("/me", response_model=Me)
def me(by: SignedIn) -> Me:
    return Me(kind=by.kind, id=by.id, name=by.name, username=by.username, roles=[_grant_read(g) for g in by.grants])


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="修改本人密码 / Change my password",
    responses={429: {"description": "Too many wrong current passwords from this address (Art 31)"}},
)
def change_password(data: PasswordChange, request: Request, session: SessionDep, by: SignedIn) -> None:
    """Proves the current password first; a wrong one counts as a failed sign-in for the account
    (throttled, 429 with ``Retry-After``). A cookie session it is called from stays signed in; the
    person's other sessions end and all their API tokens, including one used for this call, are
    revoked."""
    if by.kind != "person" or by.username is None:
        raise Forbidden("auth.person_only", "仅个人用户有密码", "Only people have passwords")
    address = client_address(request)
    try:
        service.change_own_password(session, by, data.current_password, data.new_password, address=address)
    except DomainError as exc:
        if exc.code == service.PASSWORD_WRONG:
            session.rollback()  # free the request's transaction (SQLite's write lock) and record apart
            with transaction() as own:
                service.record_password_check_failure(own, address, by=by)
        raise


def _person_only(by: Principal) -> str:
    if by.kind != "person" or by.username is None:
        raise Forbidden("auth.person_only", "仅个人用户有个人令牌", "Only people have personal tokens")
    return by.username


def _token_read(token: ApiToken) -> TokenRead:
    return TokenRead(
        id=token.id,
        name=token.name,
        hint=token.token_hint,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        state=service.token_state(token),
    )


@router.get("/me/tokens", response_model=list[TokenRead], summary="我的访问令牌 / My API tokens")
def list_my_tokens(session: SessionDep, by: SignedIn) -> list[TokenRead]:
    """Newest first, in every state; only a hint of each is kept, never the token itself."""
    return [_token_read(t) for t in service.list_tokens(session, _person_only(by), by=by)]


@router.post(
    "/me/tokens",
    response_model=TokenIssued,
    status_code=status.HTTP_201_CREATED,
    summary="为自己签发访问令牌 / Issue myself an API token",
)
def issue_token(session: SessionDep, by: SignedIn, name: str = Query(default="api", max_length=100)) -> TokenIssued:
    """The token is in this answer only; it expires after ``GOVSHARE_TOKEN_TTL_DAYS`` days."""
    token, secret = service.issue_token(session, _person_only(by), name=name, by=by)
    return TokenIssued(**_token_read(token).model_dump(), token=secret)


@router.delete(
    "/me/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="吊销本人的访问令牌 / Revoke one of my API tokens",
)
def revoke_my_token(token_id: TokenId, session: SessionDep, by: SignedIn) -> None:
    """Someone else's token (or none) is answered 404."""
    _person_only(by)
    service.revoke_token(session, token_id, by=by)
