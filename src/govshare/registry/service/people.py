"""People and their roles (Art 5, 30): accounts, grants, passwords, deactivation."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.core import clock, events
from govshare.core.auth import Grant, Principal
from govshare.core.errors import Conflict, InvalidInput, NotFound
from govshare.core.security import (
    hash_password,
)
from govshare.registry import permissions as perm
from govshare.registry import rules
from govshare.registry.models import (
    Agency,
    ApiToken,
    Person,
    Region,
    RoleGrant,
    WebSession,
)
from govshare.registry.schemas import GrantCreate, PersonCreate
from govshare.registry.service.agencies import get_agency, region_path_of
from govshare.registry.service.regions import get_region

# --- People and roles ---------------------------------------------------------------------------


def get_person(session: Session, ref: str | int) -> Person:
    person = (
        session.get(Person, int(ref))
        if isinstance(ref, int)
        else session.scalar(select(Person).where(Person.username == ref))
    )
    if person is None:
        raise NotFound("registry.person.not_found", f"用户 {ref} 不存在", f"Person {ref} not found", field="username")
    return person


def grants_of(session: Session, person_id: int) -> list[Grant]:
    rows = session.execute(
        select(RoleGrant, Agency, Region)
        .outerjoin(Agency, Agency.id == RoleGrant.agency_id)
        .join(Region, Region.code == func.coalesce(RoleGrant.region_code, Agency.region_code))
        .where(RoleGrant.person_id == person_id)
        .order_by(RoleGrant.id)
    ).all()
    return [
        Grant(
            role=g.role,
            agency_id=g.agency_id,
            agency_code=a.code if a else None,
            region_code=r.code,
            region_path=r.path,
        )
        for g, a, r in rows
    ]


def _resolve_grant(session: Session, g: GrantCreate) -> tuple[int | None, str | None, str]:
    """(agency_id, region_code, scope path) for a grant request, validated."""
    if g.role in rules.AGENCY_ROLES:
        if not g.agency_code or g.region_code:
            raise InvalidInput(
                "registry.grant.agency_required",
                f"角色 {g.role} 须指定所属机关（--agency）",
                f"Role {g.role} is held in an agency: give --agency",
                field="agency_code",
            )
        agency = get_agency(session, g.agency_code)
        return agency.id, None, region_path_of(session, agency.region_code)
    if not g.region_code or g.agency_code:
        raise InvalidInput(
            "registry.grant.region_required",
            f"角色 {g.role} 须指定管辖地区（--region）",
            f"Role {g.role} is held for a region: give --region",
            field="region_code",
        )
    region = get_region(session, g.region_code)
    return None, region.code, region.path


def create_person(session: Session, data: PersonCreate, *, by: Principal) -> Person:
    resolved = [(g, *_resolve_grant(session, g)) for g in data.grants]
    if not resolved and not by.is_system:
        raise InvalidInput(
            "registry.person.grant_required",
            "新用户须至少授予一个角色",
            "A new person needs at least one role",
            field="grants",
        )
    for g, agency_id, _region, path in resolved:
        perm.check_grant(by, g.role, agency_id=agency_id, region_path=path)
    if session.scalar(select(Person.id).where(Person.username == data.username)) is not None:
        raise Conflict(
            "registry.person.exists",
            f"用户名 {data.username} 已被使用",
            f"Username {data.username} is taken",
            field="username",
        )
    person = Person(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(data.password) if data.password else None,
        active=True,
    )
    session.add(person)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="registry.person.created",
        subject_type="person",
        subject_id=person.username,
        data={"display_name": person.display_name},
    )
    for g, agency_id, region_code, _path in resolved:
        _add_grant(session, person, g.role, agency_id, region_code, by)
    return person


def _add_grant(
    session: Session, person: Person, role: str, agency_id: int | None, region_code: str | None, by: Principal
) -> RoleGrant:
    exists = session.scalar(
        select(RoleGrant).where(
            RoleGrant.person_id == person.id,
            RoleGrant.role == role,
            RoleGrant.agency_id.is_(None) if agency_id is None else RoleGrant.agency_id == agency_id,
            RoleGrant.region_code.is_(None) if region_code is None else RoleGrant.region_code == region_code,
        )
    )
    if exists is not None:
        return exists
    grant = RoleGrant(person_id=person.id, role=role, agency_id=agency_id, region_code=region_code)
    session.add(grant)
    session.flush()
    agency_code = session.get(Agency, agency_id).code if agency_id else None  # type: ignore[union-attr]
    events.record(
        session,
        actor=by.actor,
        action="registry.role.granted",
        subject_type="person",
        subject_id=person.username,
        region_code=region_code,
        agency_code=agency_code,
        data={"role": role, "agency": agency_code, "region": region_code},
    )
    return grant


def grant_role(session: Session, username: str, g: GrantCreate, *, by: Principal) -> RoleGrant:
    """Give ``username`` another role. ``by`` needs the right to grant that role *and* to manage the
    person as they stand (Art 5, 30): otherwise an agency admin could pull another agency's staff, or
    an authority's account, into its own agency, and from then on their real managers could no
    longer manage them."""
    person = get_person(session, username)
    agency_id, region_code, path = _resolve_grant(session, g)
    perm.check_grant(by, g.role, agency_id=agency_id, region_path=path)
    _check_manage_person(session, person, by)
    return _add_grant(session, person, g.role, agency_id, region_code, by)


def _check_password(password: str, field: str) -> None:
    if len(password) < rules.PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            "registry.person.password_short",
            f"密码至少 {rules.PASSWORD_MIN_LENGTH} 位",
            f"Password needs at least {rules.PASSWORD_MIN_LENGTH} characters",
            field=field,
        )


def _end_credentials(session: Session, person: Person, *, keep_session_id: int | None = None) -> dict[str, int]:
    """End the person's portal sessions (all but ``keep_session_id``) and revoke their API tokens, for
    good (OWASP ASVS 3.3): the counts of those that were still valid, for the caller's event."""
    now = clock.now()
    ended = 0
    for ws in session.scalars(select(WebSession).where(WebSession.person_id == person.id)).all():
        if ws.id == keep_session_id:
            continue
        if ws.expires_at > now:
            ended += 1
        session.delete(ws)
    tokens = session.scalars(
        select(ApiToken).where(
            ApiToken.person_id == person.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
    ).all()
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return {"sessions_ended": ended, "tokens_revoked": len(tokens)}


def set_password(
    session: Session, username: str, password: str, *, by: Principal, keep_session_id: int | None = None
) -> None:
    """Replace a person's password. Their other credentials end with the old password (OWASP ASVS
    3.3): every portal session but ``keep_session_id`` (the one they changed it from), and every API
    token. The event counts what ended."""
    _check_password(password, "password")
    person = get_person(session, username)
    person.password_hash = hash_password(password)
    ended = _end_credentials(session, person, keep_session_id=keep_session_id)
    own = by.kind == "person" and by.id == person.id
    events.record(
        session,
        actor=by.actor,
        action="registry.person.password_set",
        subject_type="person",
        subject_id=person.username,
        data={"by": "self" if own else "reset", **ended},
    )


def _check_manage_person(session: Session, person: Person, by: Principal) -> None:
    """Managing a person's account takes the right to grant every role they hold (Art 5, 30)."""
    grants = grants_of(session, person.id)
    if not grants and not by.has_role("authority"):
        raise perm.deny_manage_person()
    for g in grants:
        perm.check_grant(by, g.role, agency_id=g.agency_id, region_path=g.region_path)


def check_password_reset(session: Session, username: str, *, by: Principal) -> Person:
    """The person whose password ``by`` may reset: one whose account they manage, never their own
    (one's own password is changed with ``change_own_password``, which asks for the current one)."""
    person = get_person(session, username)
    if by.kind == "person" and by.id == person.id:
        raise Conflict(
            "registry.person.reset_own_password",
            "请通过“修改密码”修改自己的密码（须输入当前密码）",
            'Change your own password with "change password" (it asks for the current one)',
            field="username",
        )
    _check_manage_person(session, person, by)
    return person


def reset_password(session: Session, username: str, password: str, *, by: Principal) -> Person:
    """Give a person a new initial password (they forgot theirs). All their portal sessions end and
    all their API tokens are revoked."""
    person = check_password_reset(session, username, by=by)
    set_password(session, person.username, password, by=by)
    return person


def set_person_active(session: Session, username: str, active: bool, *, by: Principal) -> Person:
    """Deactivate a person (their portal sessions end and their API tokens are revoked, for good:
    reactivating does not bring them back; their records stay, so the ledger keeps naming them,
    Art 34) or reactivate them.

    Only someone who could grant every role the person holds may do it, and nobody may
    deactivate their own account.
    """
    person = get_person(session, username)
    if by.kind == "person" and by.id == person.id and not active:
        raise Conflict(
            "registry.person.self_deactivation",
            "不能停用自己的账号",
            "You cannot deactivate your own account",
            field="username",
        )
    _check_manage_person(session, person, by)
    if person.active == active:
        return person
    person.active = active
    ended = {} if active else _end_credentials(session, person)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="registry.person." + ("reactivated" if active else "deactivated"),
        subject_type="person",
        subject_id=person.username,
        data={"active": active, **ended},
    )
    return person


#: The error of a wrong current password: the caller records it as a failure for the account
#: (:func:`record_password_check_failure`), as a failed sign-in is.


def list_people(session: Session, *, by: Principal, agency: str | None = None) -> list[tuple[Person, list[Grant]]]:
    stmt = select(Person).order_by(Person.username)
    if agency is not None:
        a = get_agency(session, agency)
        stmt = stmt.where(Person.id.in_(select(RoleGrant.person_id).where(RoleGrant.agency_id == a.id)))
    people = session.scalars(stmt).all()
    out = []
    for p in people:
        grants = grants_of(session, p.id)
        if by.is_system or any(_visible_grant(by, g) for g in grants) or (by.kind == "person" and p.id == by.id):
            out.append((p, grants))
    return out


def _visible_grant(by: Principal, g: Grant) -> bool:
    if g.agency_id is not None:
        return by.in_agency(g.agency_id, "agency_admin", "agency_staff") or by.covers_region(
            g.region_path, "authority", "supervisor"
        )
    return by.covers_region(g.region_path, "authority", "supervisor")
