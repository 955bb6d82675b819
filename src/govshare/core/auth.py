"""Who is calling, and the permission every route must declare.

Each route depends on exactly one :class:`Permission` (``public``, ``authenticated`` or
``require(*roles)``); a meta-test fails for any route that does not (as CKAN's auth-function test
does). Role checks here are coarse ("holds one of these roles somewhere"); scope checks ("this
authority's region covers that agency") live in each domain's ``permissions.py``.

Credentials: ``Authorization: Bearer gsp_...`` (a person's API token), ``Authorization: Bearer
gsk_...`` or ``X-API-Key: gsk_...`` (an agency's machine client), or the portal session cookie.
Unsafe requests to ``/api/`` authenticated by cookie must carry the ``X-CSRF-Token`` header;
portal forms carry the token as a hidden field, checked by the portal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from govshare.core.db import SessionDep
from govshare.core.errors import Forbidden, Unauthenticated
from govshare.core.events import SYSTEM, Actor

SESSION_COOKIE = "govshare_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclasses.dataclass(frozen=True, slots=True)
class Grant:
    role: str
    #: For agency roles: the agency. For region roles: None.
    agency_id: int | None
    agency_code: str | None
    #: Region of the grant (region roles) or of the agency (agency roles).
    region_code: str
    region_path: str


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """Who acts. ``kind`` is ``"person"``, ``"client"`` (an agency's machine) or ``"system"``: the
    platform itself (timed work) or its operator at the command line and the demo loader. Services
    always take one: there is no "no one" that skips the scope checks. A system principal comes
    only from code (:data:`OPERATOR`, :data:`SYSTEM_PRINCIPAL`), never from a request, and holds
    every scope explicitly."""

    kind: str  # "person" | "client" | "system"
    id: int
    name: str
    grants: tuple[Grant, ...] = ()
    #: Set when authenticated by the portal session cookie.
    csrf_token: str | None = None
    via: str = "token"  # "token" | "cookie" | "client"
    username: str | None = None
    #: The portal session (``web_session.id``) a cookie-authenticated principal signed in with.
    session_id: int | None = None

    @property
    def actor(self) -> Actor:
        return SYSTEM if self.is_system else Actor(self.kind, self.id, self.name)

    @property
    def is_system(self) -> bool:
        """The platform or its operator: every scope check passes, on purpose and visibly."""
        return self.kind == "system"

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    def has_role(self, *roles: str) -> bool:
        return self.is_system or any(g.role in roles for g in self.grants)

    def covers_region(self, region_path: str, *roles: str) -> bool:
        """True when a grant of one of ``roles`` is on this region or one above it."""
        return self.is_system or any(
            g.role in roles and g.agency_id is None and _within(region_path, g.region_path) for g in self.grants
        )

    def in_agency(self, agency_id: int, *roles: str) -> bool:
        return self.is_system or any(g.role in roles and g.agency_id == agency_id for g in self.grants)

    def agency_ids(self, *roles: str) -> set[int]:
        return {g.agency_id for g in self.grants if g.agency_id is not None and (not roles or g.role in roles)}

    def region_paths(self, *roles: str) -> list[str]:
        return [g.region_path for g in self.grants if g.agency_id is None and (not roles or g.role in roles)]


def _within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor + "/")


#: The operator at the command line and the demo loader: acts as the platform (``system`` in the
#: ledger), with every scope.
OPERATOR = Principal(kind="system", id=0, name="operator", via="cli")
#: The platform's own timed work (expiry, overdue marking, reminders).
SYSTEM_PRINCIPAL = Principal(kind="system", id=0, name="system", via="system")


#: Longest address kept (an IPv6 address with a zone, or a non-IP peer name such as a socket path).
ADDRESS_MAX_LENGTH = 64


def client_address(request: Request) -> str:
    """The caller's network address: the connection's peer, which ``app.create_app`` replaces with the
    ``X-Forwarded-For`` client only for connections from ``GOVSHARE_TRUSTED_PROXIES``. ``"unknown"``
    when the server gives none (all such callers then share one throttling bucket)."""
    host = request.client.host if request.client else ""
    return (host or "unknown")[:ADDRESS_MAX_LENGTH]


#: Turns a request's credentials into a :class:`Principal` (``None``: no credentials). The app
#: holds it in ``app.state.authenticator``: ``create_app`` installs the registry's.
Authenticator = Callable[[Request, Session], Principal | None]


def authenticate(request: Request, session: Session) -> Principal | None:
    if "principal" in request.scope.get("state", {}):
        return request.state.principal  # type: ignore[no-any-return]
    # An app without one (a bare test app) knows no credentials: everyone is the public.
    authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
    principal = authenticator(request, session) if authenticator is not None else None
    if (
        principal is not None
        and principal.via == "cookie"
        and request.method not in SAFE_METHODS
        and request.url.path.startswith("/api/")
    ):
        sent = request.headers.get(CSRF_HEADER)
        if not sent or sent != principal.csrf_token:
            raise Forbidden(
                "auth.csrf_missing",
                "缺少或错误的 CSRF 令牌",
                "Missing or wrong CSRF token",
                detail=f"使用登录会话调用接口时须带 {CSRF_HEADER} 请求头 / "
                f"cookie-authenticated API calls must send the {CSRF_HEADER} header",
            )
    request.state.principal = principal
    return principal


class Permission:
    """A route's declared permission. ``roles=None``: public; ``("*",)``: any signed-in caller."""

    def __init__(self, roles: tuple[str, ...] | None, label: str) -> None:
        self.roles = roles
        self.label = label

    def __repr__(self) -> str:
        return f"Permission({self.label})"

    def __call__(self, request: Request, session: SessionDep) -> Principal | None:
        principal = authenticate(request, session)
        if self.roles is None:
            return principal
        if principal is None:
            raise Unauthenticated("auth.required", "请先登录或提供访问令牌", "Sign-in or an access token is required")
        if self.roles == ("*",) or any(g.role in self.roles for g in principal.grants):
            return principal
        if principal.kind == "client" and "client" in self.roles:
            return principal
        raise Forbidden(
            "auth.role_required",
            "当前身份无权执行此操作",
            "Your role does not allow this action",
            detail="需要以下角色之一 / one of these roles is needed: " + ", ".join(self.roles),
        )


public = Permission(None, "public")
authenticated = Permission(("*",), "authenticated")

_cache: dict[tuple[str, ...], Permission] = {}


def require(*roles: str) -> Permission:
    """A permission for callers holding at least one of ``roles`` (``"client"`` for machines)."""
    key = tuple(sorted(roles))
    if key not in _cache:
        _cache[key] = Permission(key, "require:" + ",".join(key))
    return _cache[key]


# --- Role aliases: the general ones here, each domain's own in its ``permissions.py`` ----------

#: Anyone, signed in or not (``None`` for the public).
Anyone = Annotated[Principal | None, Depends(public)]
#: Any signed-in caller: a person or a machine client.
SignedIn = Annotated[Principal, Depends(authenticated)]
#: The competent authority (信息化主管部门) of some region (Art 5).
Authority = Annotated[Principal, Depends(require("authority"))]
#: Agency staff or the agency's admin (the Art 30 responsible person).
AgencyMember = Annotated[Principal, Depends(require("agency_staff", "agency_admin"))]
