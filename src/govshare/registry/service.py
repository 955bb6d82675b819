"""Registry use cases. The only code that writes registry tables; each change records its event.

Every function that changes something takes the session and ``by``: the :class:`Principal`
acting (``core.auth.OPERATOR`` on the command line and in the demo loader). Scope checks happen
here, so the API, the portal and the CLI enforce the same rules.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govshare.core import clock, events
from govshare.core.auth import SESSION_COOKIE, Grant, Principal
from govshare.core.config import get_settings
from govshare.core.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from govshare.core.events import Actor
from govshare.core.paging import paginate
from govshare.core.security import (
    CLIENT_KEY_PREFIX,
    PERSON_TOKEN_PREFIX,
    SESSION_PREFIX,
    digest,
    hash_password,
    new_secret,
    verify_password,
)
from govshare.registry import permissions as perm
from govshare.registry import rules
from govshare.registry.models import (
    Agency,
    ApiClient,
    ApiToken,
    LoginFailure,
    Person,
    Region,
    RoleGrant,
    WebSession,
)
from govshare.registry.schemas import AgencyCreate, AgencyUpdate, GrantCreate, PersonCreate, RegionCreate

# --- Regions ------------------------------------------------------------------------------------


def get_region(session: Session, code: str) -> Region:
    region = session.get(Region, code)
    if region is None:
        raise NotFound("registry.region.not_found", f"行政区划 {code} 不存在", f"Region {code} not found",
                       field="region_code")
    return region


# --- Region scoping: "this region and every region below it", written once ---------------------


def _path_within(path: str) -> ColumnElement[bool]:
    return or_(Region.path == path, Region.path.like(path + "/%"))


def subtree_codes(path: str) -> Select[tuple[str]]:
    """The codes of the region at ``path`` and of every region below it, as a subquery."""
    return select(Region.code).where(_path_within(path))


def in_subtrees(column: Any, paths: Iterable[str]) -> ColumnElement[bool]:
    """``column`` (a region code) lies in one of the subtrees at ``paths``; false for none."""
    paths = list(paths)
    if not paths:
        return false()
    return column.in_(select(Region.code).where(or_(*[_path_within(p) for p in paths])))


def in_scope_of(column: Any, by: Principal, *roles: str) -> ColumnElement[bool]:
    """``column`` (a region code) lies in a region ``by`` oversees through one of ``roles``: the SQL
    form of ``Principal.covers_region``. The platform itself oversees every region."""
    if by.is_system:
        return true()
    return in_subtrees(column, by.region_paths(*roles))


def region_codes_under(session: Session, path: str) -> set[str]:
    return set(session.scalars(subtree_codes(path)))


def agency_codes_in_subtrees(paths: Iterable[str]) -> Select[tuple[str]]:
    """The codes of the agencies of the regions in the subtrees at ``paths``, as a subquery."""
    return select(Agency.code).where(in_subtrees(Agency.region_code, paths))


def list_regions(session: Session, *, parent_code: str | None = None, under: str | None = None) -> Sequence[Region]:
    stmt = select(Region).order_by(Region.code)
    if parent_code is not None:
        stmt = stmt.where(Region.parent_code == parent_code)
    if under is not None:
        root = get_region(session, under)
        stmt = stmt.where(_path_within(root.path))
    return session.scalars(stmt).all()


def create_region(session: Session, data: RegionCreate, *, by: Principal) -> Region:
    if session.get(Region, data.code) is not None:
        raise Conflict("registry.region.exists", f"行政区划 {data.code} 已存在", f"Region {data.code} already exists",
                       field="code")
    level = rules.region_level_of(data.code)
    if data.parent_code is None:
        if not by.is_system:  # only the operator plants the root of the tree
            raise InvalidInput("registry.region.parent_required", "须指定上级行政区划", "A parent region is required",
                               field="parent_code")
        path = data.code
    else:
        parent = get_region(session, data.parent_code)
        perm.check_manage_region(by, parent.path)
        if rules.REGION_LEVELS.index(level) <= rules.REGION_LEVELS.index(parent.level):
            raise InvalidInput(
                "registry.region.level",
                f"{data.code} 为{rules.REGION_LEVEL_NAMES[level][0]}代码，不能隶属于{parent.name}",
                f"{data.code} is a {level} code and cannot sit under {parent.name} ({parent.level})",
                field="code",
            )
        if not rules.region_fits_parent(data.code, parent.code, parent.level):
            raise InvalidInput(
                "registry.region.outside_parent",
                f"{data.code} 不属于 {parent.code} {parent.name}（代码前缀不符，GB/T 2260）",
                f"{data.code} does not belong to {parent.code} {parent.name}: its code prefix differs (GB/T 2260)",
                field="code",
            )
        path = f"{parent.path}/{data.code}"
    region = Region(code=data.code, name=data.name, name_en=data.name_en, level=level,
                    parent_code=data.parent_code, path=path)
    session.add(region)
    session.flush()
    events.record(session, actor=by.actor, action="registry.region.created", subject_type="region",
                  subject_id=region.code, region_code=region.code,
                  data={"name": region.name, "parent": region.parent_code, "level": level})
    return region


# --- Agencies -----------------------------------------------------------------------------------


def get_agency(session: Session, ref: str | int) -> Agency:
    """By id, short code or USCC."""
    # isascii: str.isdigit() is also true for "²" and other digits int() refuses.
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isascii() and ref.isdigit() and len(ref) < 10):
        agency = session.get(Agency, int(ref))
    else:
        agency = session.scalar(select(Agency).where(or_(Agency.code == ref, Agency.uscc == str(ref).upper())))
    if agency is None:
        raise NotFound("registry.agency.not_found", f"机关 {ref} 不存在", f"Agency {ref} not found", field="agency")
    return agency


def region_path_of(session: Session, region_code: str) -> str:
    return get_region(session, region_code).path


def list_agencies(
    session: Session,
    *,
    region: str | None = None,
    include_subregions: bool = True,
    missing_responsible: bool = False,
    q: str | None = None,
    authority_only: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[Agency], int]:
    stmt = select(Agency)
    if region is not None:
        root = get_region(session, region)
        if include_subregions:
            stmt = stmt.where(Agency.region_code.in_(subtree_codes(root.path)))
        else:
            stmt = stmt.where(Agency.region_code == root.code)
    if missing_responsible:
        # Art 30: every agency names a responsible internal unit and person.
        stmt = stmt.where(
            or_(Agency.responsible_person.is_(None), Agency.responsible_person == "",
                Agency.responsible_unit.is_(None), Agency.responsible_unit == "")
        )
    if authority_only:
        stmt = stmt.where(Agency.is_authority.is_(True))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Agency.name.like(like), Agency.code.like(like), Agency.uscc.like(like)))
    page = paginate(session, stmt.order_by(Agency.region_code, Agency.code), offset=offset, limit=limit)
    return page.rows, page.total


def _agency_event_data(agency: Agency) -> dict[str, object]:
    return {
        "code": agency.code, "uscc": agency.uscc, "name": agency.name, "region": agency.region_code,
        "kind": agency.kind, "vertical_system": agency.vertical_system, "is_authority": agency.is_authority,
        "responsible_unit": agency.responsible_unit, "responsible_person": agency.responsible_person,
    }


def create_agency(session: Session, data: AgencyCreate, *, by: Principal) -> Agency:
    region = get_region(session, data.region_code)
    perm.check_create_agency(by, region.path)
    for column, value, field in ((Agency.code, data.code, "code"), (Agency.uscc, data.uscc, "uscc")):
        if session.scalar(select(Agency.id).where(column == value)) is not None:
            raise Conflict(f"registry.agency.{field}_taken", f"{value} 已被其他机关使用", f"{value} is already in use",
                           field=field)
    if data.is_authority:
        _check_single_authority(session, region.code, None)
    agency = Agency(
        code=data.code, uscc=data.uscc, name=data.name, name_en=data.name_en, region_code=region.code,
        level=region.level, kind=data.kind, vertical_system=data.vertical_system, is_authority=data.is_authority,
        responsible_unit=data.responsible_unit, responsible_person=data.responsible_person,
        responsible_phone=data.responsible_phone, active=True,
    )
    session.add(agency)
    _flush_agency(session, agency)
    events.record(session, actor=by.actor, action="registry.agency.created", subject_type="agency",
                  subject_id=agency.code, region_code=agency.region_code, agency_code=agency.code,
                  data=_agency_event_data(agency))
    return agency


def _flush_agency(session: Session, agency: Agency) -> None:
    """Flush, turning a unique index's refusal (a concurrent request got there first) into a 409."""
    authority = agency.is_authority  # read now: a failed flush expires the object
    try:
        session.flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        if authority and ("uq_agency_authority_region" in message or "agency.region_code" in message):
            raise Conflict("registry.agency.authority_exists", "该地区已有信息化主管部门",
                           "This region already has a competent authority", field="is_authority",
                           article="Art 5") from exc
        raise Conflict("registry.agency.taken", "机构代号或信用代码已被使用", "Code or USCC already in use") from exc


def _check_single_authority(session: Session, region_code: str, except_id: int | None) -> None:
    """Art 5: one competent authority (信息化主管部门) per region."""
    stmt = select(Agency).where(Agency.region_code == region_code, Agency.is_authority.is_(True))
    if except_id is not None:
        stmt = stmt.where(Agency.id != except_id)
    other = session.scalar(stmt)
    if other is not None:
        raise Conflict("registry.agency.authority_exists", f"该地区已有信息化主管部门：{other.name}",
                       f"This region already has a competent authority: {other.code}",
                       field="is_authority", article="Art 5")


def update_agency(session: Session, ref: str | int, data: AgencyUpdate, *, by: Principal) -> Agency:
    agency = get_agency(session, ref)
    changes = data.model_dump(exclude_unset=True)
    perm.check_update_agency(by, agency.id, region_path_of(session, agency.region_code), changes)
    if changes.get("is_authority"):
        _check_single_authority(session, agency.region_code, agency.id)
    before = {k: getattr(agency, k) for k in changes}
    for key, value in changes.items():
        setattr(agency, key, value)
    diff = {k: {"from": before[k], "to": v} for k, v in changes.items() if before[k] != v}
    if not diff:
        return agency
    _flush_agency(session, agency)
    events.record(session, actor=by.actor, action="registry.agency.updated", subject_type="agency",
                  subject_id=agency.code, region_code=agency.region_code, agency_code=agency.code,
                  data={"changes": diff})
    return agency


# --- People and roles ---------------------------------------------------------------------------


def get_person(session: Session, ref: str | int) -> Person:
    person = session.get(Person, int(ref)) if isinstance(ref, int) else session.scalar(
        select(Person).where(Person.username == ref))
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
        Grant(role=g.role, agency_id=g.agency_id, agency_code=a.code if a else None,
              region_code=r.code, region_path=r.path)
        for g, a, r in rows
    ]


def _resolve_grant(session: Session, g: GrantCreate) -> tuple[int | None, str | None, str]:
    """(agency_id, region_code, scope path) for a grant request, validated."""
    if g.role in rules.AGENCY_ROLES:
        if not g.agency_code or g.region_code:
            raise InvalidInput("registry.grant.agency_required", f"角色 {g.role} 须指定所属机关（--agency）",
                               f"Role {g.role} is held in an agency: give --agency", field="agency_code")
        agency = get_agency(session, g.agency_code)
        return agency.id, None, region_path_of(session, agency.region_code)
    if not g.region_code or g.agency_code:
        raise InvalidInput("registry.grant.region_required", f"角色 {g.role} 须指定管辖地区（--region）",
                           f"Role {g.role} is held for a region: give --region", field="region_code")
    region = get_region(session, g.region_code)
    return None, region.code, region.path


def create_person(session: Session, data: PersonCreate, *, by: Principal) -> Person:
    resolved = [(g, *_resolve_grant(session, g)) for g in data.grants]
    if not resolved and not by.is_system:
        raise InvalidInput("registry.person.grant_required", "新用户须至少授予一个角色",
                           "A new person needs at least one role", field="grants")
    for g, agency_id, _region, path in resolved:
        perm.check_grant(by, g.role, agency_id=agency_id, region_path=path)
    if session.scalar(select(Person.id).where(Person.username == data.username)) is not None:
        raise Conflict("registry.person.exists", f"用户名 {data.username} 已被使用",
                       f"Username {data.username} is taken", field="username")
    person = Person(username=data.username, display_name=data.display_name,
                    password_hash=hash_password(data.password) if data.password else None, active=True)
    session.add(person)
    session.flush()
    events.record(session, actor=by.actor, action="registry.person.created", subject_type="person",
                  subject_id=person.username, data={"display_name": person.display_name})
    for g, agency_id, region_code, _path in resolved:
        _add_grant(session, person, g.role, agency_id, region_code, by)
    return person


def _add_grant(session: Session, person: Person, role: str, agency_id: int | None, region_code: str | None,
               by: Principal) -> RoleGrant:
    exists = session.scalar(select(RoleGrant).where(
        RoleGrant.person_id == person.id, RoleGrant.role == role,
        RoleGrant.agency_id.is_(None) if agency_id is None else RoleGrant.agency_id == agency_id,
        RoleGrant.region_code.is_(None) if region_code is None else RoleGrant.region_code == region_code))
    if exists is not None:
        return exists
    grant = RoleGrant(person_id=person.id, role=role, agency_id=agency_id, region_code=region_code)
    session.add(grant)
    session.flush()
    agency_code = session.get(Agency, agency_id).code if agency_id else None  # type: ignore[union-attr]
    events.record(session, actor=by.actor, action="registry.role.granted", subject_type="person",
                  subject_id=person.username, region_code=region_code, agency_code=agency_code,
                  data={"role": role, "agency": agency_code, "region": region_code})
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
        raise InvalidInput("registry.person.password_short", f"密码至少 {rules.PASSWORD_MIN_LENGTH} 位",
                           f"Password needs at least {rules.PASSWORD_MIN_LENGTH} characters", field=field)


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
    tokens = session.scalars(select(ApiToken).where(
        ApiToken.person_id == person.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)).all()
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return {"sessions_ended": ended, "tokens_revoked": len(tokens)}


def set_password(session: Session, username: str, password: str, *, by: Principal,
                 keep_session_id: int | None = None) -> None:
    """Replace a person's password. Their other credentials end with the old password (OWASP ASVS
    3.3): every portal session but ``keep_session_id`` (the one they changed it from), and every API
    token. The event counts what ended."""
    _check_password(password, "password")
    person = get_person(session, username)
    person.password_hash = hash_password(password)
    ended = _end_credentials(session, person, keep_session_id=keep_session_id)
    own = by.kind == "person" and by.id == person.id
    events.record(session, actor=by.actor, action="registry.person.password_set", subject_type="person",
                  subject_id=person.username, data={"by": "self" if own else "reset", **ended})


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
        raise Conflict("registry.person.reset_own_password", "请通过“修改密码”修改自己的密码（须输入当前密码）",
                       "Change your own password with \"change password\" (it asks for the current one)",
                       field="username")
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
        raise Conflict("registry.person.self_deactivation", "不能停用自己的账号",
                       "You cannot deactivate your own account", field="username")
    _check_manage_person(session, person, by)
    if person.active == active:
        return person
    person.active = active
    ended = {} if active else _end_credentials(session, person)
    session.flush()
    events.record(session, actor=by.actor, action="registry.person." + ("reactivated" if active else "deactivated"),
                  subject_type="person", subject_id=person.username, data={"active": active, **ended})
    return person


#: The error of a wrong current password: the caller records it as a failure for the account
#: (:func:`record_password_check_failure`), as a failed sign-in is.
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
        raise InvalidInput(PASSWORD_WRONG, "当前密码不正确", "The current password is wrong",
                           field="current_password")
    _check_password(new, "new_password")
    if new == current:
        raise InvalidInput("registry.person.password_unchanged", "新密码不能与当前密码相同",
                           "The new password must differ from the current one", field="new_password")
    set_password(session, person.username, new, by=by, keep_session_id=by.session_id)


def list_people(
    session: Session, *, by: Principal, agency: str | None = None
) -> list[tuple[Person, list[Grant]]]:
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
            g.region_path, "authority", "supervisor")
    return by.covers_region(g.region_path, "authority", "supervisor")


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


def issue_token(
    session: Session, username: str, *, name: str = "cli", by: Principal
) -> tuple[ApiToken, str]:
    """A bearer token for ``username``, valid ``GOVSHARE_TOKEN_TTL_DAYS`` days. The plaintext is
    returned once and never stored."""
    person = get_person(session, username)
    _check_own_tokens(person, by, "为他人签发令牌", "issue tokens for someone else")
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("registry.token.name_invalid", "令牌名称须为 1 至 100 个字符",
                           "A token name has 1 to 100 characters", field="name")
    secret = new_secret(PERSON_TOKEN_PREFIX)
    now = clock.now()
    token = ApiToken(person_id=person.id, name=name, token_digest=digest(secret),
                     token_hint=secret[:TOKEN_HINT_LENGTH], created_at=now,
                     expires_at=now + dt.timedelta(days=get_settings().token_ttl_days))
    session.add(token)
    session.flush()
    events.record(session, actor=by.actor, action="registry.token.issued", subject_type="person",
                  subject_id=person.username,
                  data={"token_id": token.id, "name": name, "hint": token.token_hint,
                        "expires_at": token.expires_at.isoformat()})
    return token, secret


def list_tokens(session: Session, username: str, *, by: Principal) -> Sequence[ApiToken]:
    """A person's tokens, newest first, in every state (their secrets are not kept)."""
    person = get_person(session, username)
    _check_own_tokens(person, by, "查看他人的令牌", "see someone else's tokens")
    return session.scalars(select(ApiToken).where(ApiToken.person_id == person.id)
                           .order_by(ApiToken.id.desc())).all()


def revoke_token(session: Session, token_id: int, *, by: Principal) -> ApiToken:
    """Revoke one of ``by``'s own tokens at once (the operator: anyone's). Someone else's token is
    answered as not found, so its existence is not revealed. Revoking it again changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None or not (by.is_system or (by.kind == "person" and by.id == token.person_id)):
        raise NotFound("registry.token.not_found", f"令牌 {token_id} 不存在", f"Token {token_id} not found",
                       field="token_id")
    if token.revoked_at is None:
        person = session.get(Person, token.person_id)
        assert person is not None
        token.revoked_at = clock.now()
        session.flush()
        events.record(session, actor=by.actor, action="registry.token.revoked", subject_type="person",
                      subject_id=person.username, data={"token_id": token.id, "name": token.name})
    return token


def add_client(session: Session, agency_ref: str, name: str, *, by: Principal) -> tuple[ApiClient, str]:
    agency = get_agency(session, agency_ref)
    perm.check_manage_agency(by, agency.id, region_path_of(session, agency.region_code))
    if session.scalar(select(ApiClient.id).where(ApiClient.agency_id == agency.id, ApiClient.name == name)):
        raise Conflict("registry.client.exists", f"{agency.name} 已有名为 {name} 的客户端",
                       f"{agency.code} already has a client named {name}", field="name")
    secret = new_secret(CLIENT_KEY_PREFIX)
    client = ApiClient(agency_id=agency.id, name=name, key_digest=digest(secret), key_hint=secret[:8])
    session.add(client)
    session.flush()
    events.record(session, actor=by.actor, action="registry.client.created", subject_type="api_client",
                  subject_id=client.id, region_code=agency.region_code, agency_code=agency.code,
                  data={"name": name, "key_hint": client.key_hint})
    return client, secret


def list_clients(session: Session, agency_ref: str, *, by: Principal) -> Sequence[ApiClient]:
    agency = get_agency(session, agency_ref)
    perm.check_manage_agency(by, agency.id, region_path_of(session, agency.region_code))
    return session.scalars(select(ApiClient).where(ApiClient.agency_id == agency.id).order_by(ApiClient.id)).all()


def revoke_client(session: Session, client_id: int, *, by: Principal) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound("registry.client.not_found", f"客户端 {client_id} 不存在", f"Client {client_id} not found",
                       field="client_id")
    agency = session.get(Agency, client.agency_id)
    assert agency is not None
    perm.check_manage_agency(by, agency.id, region_path_of(session, agency.region_code))
    if client.revoked_at is None:
        client.revoked_at = clock.now()
        session.flush()
        events.record(session, actor=by.actor, action="registry.client.revoked", subject_type="api_client",
                      subject_id=client.id, region_code=agency.region_code, agency_code=agency.code,
                      data={"name": client.name})
    return client


# --- Authentication -----------------------------------------------------------------------------


def principal_for_person(session: Session, person: Person, *, via: str, csrf: str | None = None,
                         session_id: int | None = None) -> Principal:
    return Principal(kind="person", id=person.id, name=person.display_name, grants=tuple(grants_of(session, person.id)),
                     csrf_token=csrf, via=via, username=person.username, session_id=session_id)


def _principal_for_client(session: Session, client: ApiClient) -> Principal:
    agency = session.get(Agency, client.agency_id)
    assert agency is not None
    if not agency.active:  # a deactivated agency's systems lose access with it (Art 31)
        raise Unauthenticated("auth.agency_inactive", "该客户端所属机关已停用", "The client's agency is deactivated")
    path = region_path_of(session, agency.region_code)
    grant = Grant(role="client", agency_id=agency.id, agency_code=agency.code, region_code=agency.region_code,
                  region_path=path)
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
            select(ApiToken, Person).join(Person, Person.id == ApiToken.person_id)
            .where(ApiToken.token_digest == digest(secret))
        ).first()
        if row is None or row[0].revoked_at is not None or not row[1].active:
            raise bad
        if row[0].expires_at <= clock.now():
            raise Unauthenticated("auth.token_expired", "访问令牌已过期", "The access token has expired",
                                  detail="请签发新的令牌 / issue a new token")
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
            select(WebSession, Person).join(Person, Person.id == WebSession.person_id)
            .where(WebSession.digest == digest(cookie))
        ).first()
        if row is not None and row[0].expires_at > clock.now() and row[1].active:
            return principal_for_person(session, row[1], via="cookie", csrf=row[0].csrf_token, session_id=row[0].id)
    return None



def _failures(session: Session, *where: ColumnElement[bool]) -> tuple[int, dt.datetime | None]:
    """(count, latest) of the failures in the window matching ``where``."""
    since = clock.now() - dt.timedelta(seconds=get_settings().login_window_seconds)
    row = session.execute(select(func.count(), func.max(LoginFailure.at)).select_from(LoginFailure)
                          .where(LoginFailure.at > since, *where)).one()
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
        (_failures(session, LoginFailure.username == username, LoginFailure.address == address),
         settings.login_max_failures),
        (_failures(session, LoginFailure.address == address), settings.login_address_max_failures),
    ):
        delay = rules.throttle_delay(count, free=free, base_seconds=settings.login_delay_base_seconds,
                                     max_seconds=settings.login_delay_max_seconds)
        if delay and latest is not None:
            wait = max(wait, math.ceil((latest + dt.timedelta(seconds=delay) - now).total_seconds()))
    return wait


def check_sign_in_throttle(session: Session, username: str, address: str, *, field: str = "username") -> None:
    """429 with the wait in seconds when :func:`sign_in_wait` says so."""
    wait = sign_in_wait(session, username, address)
    if wait > 0:
        raise TooManyRequests("auth.throttled", "登录失败次数过多，请稍后再试",
                              "Too many failed sign-ins; try again later", field=field, article="Art 31",
                              detail=f"请在 {wait} 秒后再试 / try again in {wait} seconds",
                              extra={"retry_after_seconds": wait})


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
        raise Unauthenticated("auth.bad_credentials", "用户名或密码错误", "Wrong user name or password",
                              field="password")
    secret = new_secret(SESSION_PREFIX)
    csrf = new_secret("")
    now = clock.now()
    ws = WebSession(person_id=person.id, digest=digest(secret), csrf_token=csrf, created_at=now,
                    expires_at=now + dt.timedelta(seconds=settings.session_ttl_seconds))
    session.add(ws)
    session.flush()
    events.record(session, actor=Actor("person", person.id, person.display_name), action="auth.login",
                  subject_type="person", subject_id=person.username, data={"session_id": ws.id})
    return person, secret, csrf


def record_login_failure(session: Session, username: str, address: str) -> None:
    """A failed sign-in for ``username`` from ``address``, counted by the throttle. The event does not
    keep the address: the ledger can never forget it, while the failure table may be pruned."""
    session.add(LoginFailure(username=username[:64], address=address[:64], at=clock.now()))
    session.flush()
    events.record(session, actor=Actor("anonymous", None, username[:64]), action="auth.login_failed",
                  subject_type="person", subject_id=username[:64], data={})


def record_password_check_failure(session: Session, address: str, *, by: Principal) -> None:
    """A wrong current password given by the signed-in ``by`` from ``address``: a failure for their
    account, counted by the throttle as a failed sign-in is (Art 31)."""
    username = (by.username or str(by.id))[:64]
    session.add(LoginFailure(username=username, address=address[:64], at=clock.now()))
    session.flush()
    events.record(session, actor=by.actor, action="auth.password_check_failed", subject_type="person",
                  subject_id=username, data={})


def logout(session: Session, cookie_secret: str) -> None:
    ws = session.scalar(select(WebSession).where(WebSession.digest == digest(cookie_secret)))
    if ws is None:
        return
    person_id = ws.person_id
    session.delete(ws)
    session.flush()
    events.record(session, actor=Actor("person", person_id, str(person_id)), action="auth.logout",
                  subject_type="person", subject_id=str(person_id), data={})
