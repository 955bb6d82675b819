"""Credentials of people and machines (Art 31): personal API tokens, agency machine clients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.core import clock, events
from govshare.core.auth import Principal
from govshare.core.config import get_settings
from govshare.core.errors import Conflict, InvalidInput, NotFound
from govshare.core.security import (
    CLIENT_KEY_PREFIX,
    PERSON_TOKEN_PREFIX,
    digest,
    new_secret,
)
from govshare.registry import permissions as perm
from govshare.registry.models import (
    Agency,
    ApiClient,
    ApiToken,
    Person,
)
from govshare.registry.service.agencies import get_agency, region_path_of
from govshare.registry.service.people import get_person

# --- Tokens and machine clients -----------------------------------------------------------------


#: Characters of a token kept as its hint: the prefix and a few of the secret's (as for client keys).
TOKEN_HINT_LENGTH = 8


def _check_own_tokens(person: Person, by: Principal, what_zh: str, what_en: str) -> None:
    """A person's tokens are theirs alone to issue, list and revoke (the operator may too)."""
    if not by.is_system and (by.kind != "person" or by.id != person.id):
        raise perm._deny(what_zh, what_en)


def token_state(token: ApiToken, now: dt.datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= (now or clock.now()) else "active"


def issue_token(session: Session, username: str, *, name: str = "cli", by: Principal) -> tuple[ApiToken, str]:
    """A bearer token for ``username``, valid ``GOVSHARE_TOKEN_TTL_DAYS`` days. The plaintext is
    returned once and never stored."""
    person = get_person(session, username)
    _check_own_tokens(person, by, "为他人签发令牌", "issue tokens for someone else")
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(
            "registry.token.name_invalid",
            "令牌名称须为 1 至 100 个字符",
            "A token name has 1 to 100 characters",
            field="name",
        )
    secret = new_secret(PERSON_TOKEN_PREFIX)
    now = clock.now()
    token = ApiToken(
        person_id=person.id,
        name=name,
        token_digest=digest(secret),
        token_hint=secret[:TOKEN_HINT_LENGTH],
        created_at=now,
        expires_at=now + dt.timedelta(days=get_settings().token_ttl_days),
    )
    session.add(token)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="registry.token.issued",
        subject_type="person",
        subject_id=person.username,
        data={"token_id": token.id, "name": name, "hint": token.token_hint, "expires_at": token.expires_at.isoformat()},
    )
    return token, secret


def list_tokens(session: Session, username: str, *, by: Principal) -> Sequence[ApiToken]:
    """A person's tokens, newest first, in every state (their secrets are not kept)."""
    person = get_person(session, username)
    _check_own_tokens(person, by, "查看他人的令牌", "see someone else's tokens")
    return session.scalars(select(ApiToken).where(ApiToken.person_id == person.id).order_by(ApiToken.id.desc())).all()


def revoke_token(session: Session, token_id: int, *, by: Principal) -> ApiToken:
    """Revoke one of ``by``'s own tokens at once (the operator: anyone's). Someone else's token is
    answered as not found, so its existence is not revealed. Revoking it again changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None or not (by.is_system or (by.kind == "person" and by.id == token.person_id)):
        raise NotFound(
            "registry.token.not_found", f"令牌 {token_id} 不存在", f"Token {token_id} not found", field="token_id"
        )
    if token.revoked_at is None:
        person = session.get(Person, token.person_id)
        assert person is not None
        token.revoked_at = clock.now()
        session.flush()
        events.record(
            session,
            actor=by.actor,
            action="registry.token.revoked",
            subject_type="person",
            subject_id=person.username,
            data={"token_id": token.id, "name": token.name},
        )
    return token


def add_client(session: Session, agency_ref: str, name: str, *, by: Principal) -> tuple[ApiClient, str]:
    agency = get_agency(session, agency_ref)
    perm.check_manage_agency(by, agency.id, region_path_of(session, agency.region_code))
    if session.scalar(select(ApiClient.id).where(ApiClient.agency_id == agency.id, ApiClient.name == name)):
        raise Conflict(
            "registry.client.exists",
            f"{agency.name} 已有名为 {name} 的客户端",
            f"{agency.code} already has a client named {name}",
            field="name",
        )
    secret = new_secret(CLIENT_KEY_PREFIX)
    client = ApiClient(agency_id=agency.id, name=name, key_digest=digest(secret), key_hint=secret[:8])
    session.add(client)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="registry.client.created",
        subject_type="api_client",
        subject_id=client.id,
        region_code=agency.region_code,
        agency_code=agency.code,
        data={"name": name, "key_hint": client.key_hint},
    )
    return client, secret


def list_clients(session: Session, agency_ref: str, *, by: Principal) -> Sequence[ApiClient]:
    agency = get_agency(session, agency_ref)
    perm.check_manage_agency(by, agency.id, region_path_of(session, agency.region_code))
    return session.scalars(select(ApiClient).where(ApiClient.agency_id == agency.id).order_by(ApiClient.id)).all()


def revoke_client(session: Session, client_id: int, *, by: Principal) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(
            "registry.client.not_found",
            f"客户端 {client_id} 不存在",
            f"Client {client_id} not found",
            field="client_id",
        )
    agency = session.get(Agency, client.agency_id)
    assert agency is not None
    perm.check_manage_agency(by, agency.id, region_path_of(session, agency.region_code))
    if client.revoked_at is None:
        client.revoked_at = clock.now()
        session.flush()
        events.record(
            session,
            actor=by.actor,
            action="registry.client.revoked",
            subject_type="api_client",
            subject_id=client.id,
            region_code=agency.region_code,
            agency_code=agency.code,
            data={"name": client.name},
        )
    return client
