"""Authentication (Art 31): credentials to a Principal, sign-in with throttling, sign-out."""

from __future__ import annotations

import datetime as dt
import math

from fastapi import Request
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from govshare.core import clock, events
from govshare.core.auth import SESSION_COOKIE, Grant, Principal
from govshare.core.config import get_settings
from govshare.core.errors import InvalidInput, TooManyRequests, Unauthenticated
from govshare.core.events import Actor
from govshare.core.security import (
    CLIENT_KEY_PREFIX,
    PERSON_TOKEN_PREFIX,
    SESSION_PREFIX,
    digest,
    new_secret,
    verify_password,
)
from govshare.registry import rules
from govshare.registry.models import (
    Agency,
    ApiClient,
    ApiToken,
    LoginFailure,
    Person,
    WebSession,
)
from govshare.registry.service.agencies import region_path_of
from govshare.registry.service.people import _check_password, get_person, grants_of, set_password

# --- Authentication -----------------------------------------------------------------------------


def principal_for_person(
    session: Session, person: Person, *, via: str, csrf: str | None = None, session_id: int | None = None
) -> Principal:
    return Principal(
        kind="person",
        id=person.id,
        name=person.display_name,
        grants=tuple(grants_of(session, person.id)),
        csrf_token=csrf,
        via=via,
        username=person.username,
        session_id=session_id,
    )


def _principal_for_client(session: Session, client: ApiClient) -> Principal:
    agency = session.get(Agency, client.agency_id)
    assert agency is not None
    if not agency.active:  # a deactivated agency's systems lose access with it (Art 31)
        raise Unauthenticated("auth.agency_inactive", "该客户端所属机关已停用", "The client's agency is deactivated")
    path = region_path_of(session, agency.region_code)
    grant = Grant(
        role="client", agency_id=agency.id, agency_code=agency.code, region_code=agency.region_code, region_path=path
    )
    return Principal(kind="client", id=client.id, name=f"{agency.code}/{client.name}", grants=(grant,), via="client")


def authenticate_secret(session: Session, secret: str) -> Principal:
    bad = Unauthenticated("auth.invalid_token", "访问令牌无效或已吊销", "Invalid or revoked token")
    if secret.startswith(CLIENT_KEY_PREFIX):
        client = session.scalar(select(ApiClient).where(ApiClient.key_digest == digest(secret)))
        if client is None or client.revoked_at is not None:
            raise bad
        return _principal_for_client(session, client)
    if secret.startswith(PERSON_TOKEN_PREFIX):
        row = session.execute(
            select(ApiToken, Person)
            .join(Person, Person.id == ApiToken.person_id)
            .where(ApiToken.token_digest == digest(secret))
        ).first()
        if row is None or row[0].revoked_at is not None or not row[1].active:
            raise bad
        if row[0].expires_at <= clock.now():
            raise Unauthenticated(
                "auth.token_expired",
                "访问令牌已过期",
                "The access token has expired",
                detail="请签发新的令牌 / issue a new token",
            )
        return principal_for_person(session, row[1], via="token")
    raise bad


def authenticate_request(request: Request, session: Session) -> Principal | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("auth.bad_scheme", "仅支持 Bearer 令牌", "Only Bearer tokens are accepted")
        return authenticate_secret(session, secret.strip())
    key = request.headers.get("x-api-key")
    if key:
        return authenticate_secret(session, key.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        row = session.execute(
            select(WebSession, Person)
            .join(Person, Person.id == WebSession.person_id)
            .where(WebSession.digest == digest(cookie))
        ).first()
        if row is not None and row[0].expires_at > clock.now() and row[1].active:
            return principal_for_person(session, row[1], via="cookie", csrf=row[0].csrf_token, session_id=row[0].id)
    return None


def _failures(session: Session, *where: ColumnElement[bool]) -> tuple[int, dt.datetime | None]:
    """(count, latest) of the failures in the window matching ``where``."""
    since = clock.now() - dt.timedelta(seconds=get_settings().login_window_seconds)
    row = session.execute(
        select(func.count(), func.max(LoginFailure.at)).select_from(LoginFailure).where(LoginFailure.at > since, *where)
    ).one()
    return int(row[0] or 0), row[1]


def sign_in_wait(session: Session, username: str, address: str) -> int:
    """Seconds before ``address`` may try a password for ``username`` again; 0 for now (Art 31,
    OWASP ASVS 2.2.1).

    Two counts over the window, each with its own free failures and then a doubling wait after its
    latest failure: failures for this account *from this address* (guessing one account), and
    failures from this address for any account (spraying a password over many). Failures for the
    account from other addresses do not count here: whoever fails elsewhere cannot lock the owner
    out, and their own address is what gets slowed and then blocked.
    """
    settings = get_settings()
    now = clock.now()
    wait = 0
    for (count, latest), free in (
        (
            _failures(session, LoginFailure.username == username, LoginFailure.address == address),
            settings.login_max_failures,
        ),
        (_failures(session, LoginFailure.address == address), settings.login_address_max_failures),
    ):
        delay = rules.throttle_delay(
            count,
            free=free,
            base_seconds=settings.login_delay_base_seconds,
            max_seconds=settings.login_delay_max_seconds,
        )
        if delay and latest is not None:
            wait = max(wait, math.ceil((latest + dt.timedelta(seconds=delay) - now).total_seconds()))
    return wait


def check_sign_in_throttle(session: Session, username: str, address: str, *, field: str = "username") -> None:
    """429 with the wait in seconds when :func:`sign_in_wait` says so."""
    wait = sign_in_wait(session, username, address)
    if wait > 0:
        raise TooManyRequests(
            "auth.throttled",
            "登录失败次数过多，请稍后再试",
            "Too many failed sign-ins; try again later",
            field=field,
            article="Art 31",
            detail=f"请在 {wait} 秒后再试 / try again in {wait} seconds",
            extra={"retry_after_seconds": wait},
        )


def login(session: Session, username: str, password: str, *, address: str) -> tuple[Person, str, str]:
    """Check a password and open a portal session: (person, cookie secret, csrf token).

    Attempts from ``address`` are throttled (:func:`sign_in_wait`, Art 31) and refused before the
    password is checked. A failure is recorded by :func:`record_login_failure` in its own
    transaction, so the rollback of this one keeps it.
    """
    settings = get_settings()
    check_sign_in_throttle(session, username, address)
    person = session.scalar(select(Person).where(Person.username == username))
    if person is None or not person.active or not verify_password(person.password_hash if person else None, password):
        raise Unauthenticated(
            "auth.bad_credentials", "用户名或密码错误", "Wrong user name or password", field="password"
        )
    secret = new_secret(SESSION_PREFIX)
    csrf = new_secret("")
    now = clock.now()
    ws = WebSession(
        person_id=person.id,
        digest=digest(secret),
        csrf_token=csrf,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.session_ttl_seconds),
    )
    session.add(ws)
    session.flush()
    events.record(
        session,
        actor=Actor("person", person.id, person.display_name),
        action="auth.login",
        subject_type="person",
        subject_id=person.username,
        data={"session_id": ws.id},
    )
    return person, secret, csrf


def record_login_failure(session: Session, username: str, address: str) -> None:
    """A failed sign-in for ``username`` from ``address``, counted by the throttle. The event does not
    keep the address: the ledger can never forget it, while the failure table may be pruned."""
    session.add(LoginFailure(username=username[:64], address=address[:64], at=clock.now()))
    session.flush()
    events.record(
        session,
        actor=Actor("anonymous", None, username[:64]),
        action="auth.login_failed",
        subject_type="person",
        subject_id=username[:64],
        data={},
    )


def record_password_check_failure(session: Session, address: str, *, by: Principal) -> None:
    """A wrong current password given by the signed-in ``by`` from ``address``: a failure for their
    account, counted by the throttle as a failed sign-in is (Art 31)."""
    username = (by.username or str(by.id))[:64]
    session.add(LoginFailure(username=username, address=address[:64], at=clock.now()))
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="auth.password_check_failed",
        subject_type="person",
        subject_id=username,
        data={},
    )


def logout(session: Session, cookie_secret: str) -> None:
    ws = session.scalar(select(WebSession).where(WebSession.digest == digest(cookie_secret)))
    if ws is None:
        return
    person_id = ws.person_id
    session.delete(ws)
    session.flush()
    events.record(
        session,
        actor=Actor("person", person_id, str(person_id)),
        action="auth.logout",
        subject_type="person",
        subject_id=str(person_id),
        data={},
    )


PASSWORD_WRONG = "registry.person.password_wrong"


def change_own_password(session: Session, by: Principal, current: str, new: str, *, address: str) -> None:
    """A signed-in person replaces their password (the initial one an admin handed over, say),
    proving the current one first. Guessing it is throttled like signing in (Art 31): a throttled
    attempt is refused before the check, and a wrong one counts as a failure for the account from
    ``address``. The session it is changed from stays signed in; their other sessions end and their
    API tokens are revoked (OWASP ASVS 3.3)."""
    if by.kind != "person":
        raise InvalidInput("registry.person.no_password", "机器客户端没有密码", "Machine clients have no password")
    person = get_person(session, by.id)
    check_sign_in_throttle(session, person.username, address, field="current_password")
    if not verify_password(person.password_hash, current):
        raise InvalidInput(PASSWORD_WRONG, "当前密码不正确", "The current password is wrong", field="current_password")
    _check_password(new, "new_password")
    if new == current:
        raise InvalidInput(
            "registry.person.password_unchanged",
            "新密码不能与当前密码相同",
            "The new password must differ from the current one",
            field="new_password",
        )
    set_password(session, person.username, new, by=by, keep_session_id=by.session_id)
