"""Portal pages: home, sign-in and sign-out, and the console landing page of each role."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from govshare.core import clock
from govshare.core.auth import SESSION_COOKIE, Anyone, Principal, SignedIn, client_address
from govshare.core.config import get_settings
from govshare.core.db import SessionDep, transaction
from govshare.core.errors import DomainError, Forbidden, error_headers
from govshare.portal import i18n
from govshare.portal.web import (
    CsrfForm,
    domain_error_message,
    form_values,
    local_time,
    password_fields,
    place_domain_error,
    render,
    safe_next,
    translator,
)
from govshare.registry import rules
from govshare.registry import service as registry

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, _viewer: Anyone) -> HTMLResponse:
    _rows, agency_count = registry.list_agencies(session, limit=1)
    region_count = len(registry.list_regions(session))
    return render(request, "home.html", {"region_count": region_count, "agency_count": agency_count})


# --- Sign-in ------------------------------------------------------------------------------------

LOGIN_FIELDS = ("username",)


def _login_page(
    request: Request,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    next_url: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    wait: str | None = None,
) -> HTMLResponse:
    _ = translator(request)
    labels = {"username": _("用户名"), "password": _("密码")}
    return render(
        request,
        "login.html",
        {
            "values": values,
            "errors": errors or {},
            "form_error": form_error,
            "labels": labels,
            "next": next_url,
            "wait": wait,
        },
        status_code=status_code,
        headers=headers,
    )


def wait_text(request: Request, seconds: int) -> str:
    """How long a throttled caller waits, in words: seconds up to two minutes, then minutes."""
    _ = translator(request)
    if seconds <= 120:
        return _("请在 %(n)s 秒后再试。", n=seconds)
    return _("请在 %(n)s 分钟后再试。", n=math.ceil(seconds / 60))


def _record_failure(
    session: Session, address: str, *, username: str | None = None, by: Principal | None = None
) -> None:
    """End this request's transaction (it wrote nothing) and record the failure in its own, so the
    record survives the failed request and SQLite's write lock is free for it: a failed sign-in for
    ``username``, or a wrong current password given by ``by``."""
    session.rollback()
    with transaction() as own:
        if by is not None:
            registry.record_password_check_failure(own, address, by=by)
        else:
            registry.record_login_failure(own, username or "", address)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, _viewer: Anyone, next: str | None = None) -> HTMLResponse:
    return _login_page(request, values={"username": ""}, next_url=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, session: SessionDep, _viewer: Anyone, form: CsrfForm) -> Any:
    """Art 31: failed sign-ins are recorded in their own transaction, with the client's address, and
    throttle that address (``registry.service.sign_in_wait``); a throttled attempt is answered 429
    with ``Retry-After`` and the wait on the page.

    Attempts refused while throttled are not recorded again, so a wait ends on time; a NUL or other
    unusable input is answered like any other bad input.
    """
    _ = translator(request)
    values = form_values(form, LOGIN_FIELDS)
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    next_url = safe_next(form.get("next"))
    username = values["username"]
    errors = {}
    if not username:
        errors["username"] = _("请输入用户名")
    if not password:
        errors["password"] = _("请输入密码")
    if errors:
        return _login_page(request, values=values, errors=errors, next_url=next_url, status_code=422)
    address = client_address(request)
    try:
        _person, secret, _csrf = registry.login(session, username, password, address=address)
    except DomainError as exc:
        wait = None
        if exc.status == 401:  # a wrong name or password (not a refusal while throttled)
            _record_failure(session, address, username=username)
        else:
            session.rollback()
            wait = wait_text(request, exc.extra["retry_after_seconds"]) if exc.status == 429 else None
        lang = i18n.lang_of(request)
        return _login_page(
            request,
            values=values,
            form_error=domain_error_message(exc, lang),
            next_url=next_url,
            status_code=exc.status,
            headers=error_headers(exc) if wait else None,
            wait=wait,
        )
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # signing in again (perhaps as someone else) ends the session this browser had
        registry.logout(session, previous)
    settings = get_settings()
    response = RedirectResponse(next_url or "/console", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, _by: SignedIn, form: CsrfForm) -> RedirectResponse:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        registry.logout(session, cookie)
    response = RedirectResponse("/", status_code=303)
    settings = get_settings()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.cookie_secure)
    return response


# --- My password ---------------------------------------------------------------------------------

PASSWORD_FIELDS = ("current_password", "new_password", "confirm_password")


def _password_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    _ = translator(request)
    labels = {
        "current_password": _("当前密码"),
        "new_password": _("新密码"),
        "confirm_password": _("再次输入新密码"),
        "csrf_token": _("表单令牌"),
    }
    return render(
        request,
        "password.html",
        {
            "values": {},
            "errors": errors or {},
            "form_error": form_error,
            "labels": labels,
            "min_length": rules.PASSWORD_MIN_LENGTH,
        },
        status_code=status_code,
        headers=headers,
    )


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, by: SignedIn) -> HTMLResponse:
    return _password_page(request)


@router.post("/account/password", response_class=HTMLResponse)
def password_submit(request: Request, session: SessionDep, by: SignedIn, form: CsrfForm) -> Any:
    """Replace one's own password; typed passwords are never echoed back into the form. A wrong
    current password counts as a failed sign-in (throttled, Art 31); this browser stays signed in,
    the person's other sessions end and their API tokens are revoked."""
    typed, errors = password_fields(request, form, PASSWORD_FIELDS)
    if errors:
        return _password_page(request, errors=errors, status_code=422)
    address = client_address(request)
    try:
        registry.change_own_password(session, by, typed["current_password"], typed["new_password"], address=address)
    except DomainError as exc:
        if exc.code == registry.PASSWORD_WRONG:
            _record_failure(session, address, by=by)
        else:
            session.rollback()
        form_error = place_domain_error(exc, i18n.lang_of(request), PASSWORD_FIELDS, errors)
        if exc.status == 429 and exc.field in errors:
            errors[exc.field] += " " + wait_text(request, exc.extra["retry_after_seconds"])
        return _password_page(
            request, errors=errors, form_error=form_error, status_code=exc.status, headers=error_headers(exc)
        )
    return RedirectResponse("/console?password=changed", status_code=303)


# --- My API tokens ------------------------------------------------------------------------------


def _own_username(by: Principal) -> str:
    if by.kind != "person" or by.username is None:
        raise Forbidden("auth.person_only", "仅个人用户有个人令牌", "Only people have personal tokens")
    return by.username


def _tokens_page(
    request: Request,
    session: Session,
    by: Principal,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _ = translator(request)
    now = clock.now()
    tokens = [
        {
            "id": t.id,
            "name": t.name,
            "hint": t.token_hint,
            "created": local_time(t.created_at),
            "expires": local_time(t.expires_at),
            "revoked": local_time(t.revoked_at),
            "state": registry.token_state(t, now),
        }
        for t in registry.list_tokens(session, _own_username(by), by=by)
    ]
    return render(
        request,
        "tokens.html",
        {
            "tokens": tokens,
            "values": values or {"name": ""},
            "errors": errors or {},
            "form_error": form_error,
            "labels": {"name": _("令牌名称"), "csrf_token": _("表单令牌")},
            "ttl_days": get_settings().token_ttl_days,
            "revoked": request.query_params.get("revoked") == "1",
        },
        status_code=status_code,
    )


@router.get("/account/tokens", response_class=HTMLResponse)
def tokens_list(request: Request, session: SessionDep, by: SignedIn) -> HTMLResponse:
    """One's own API tokens (hints, dates, state), a form to issue one and a button to revoke each."""
    return _tokens_page(request, session, by)


@router.post("/account/tokens", response_class=HTMLResponse)
def tokens_issue(request: Request, session: SessionDep, by: SignedIn, form: CsrfForm) -> Any:
    """Issue oneself a token; it is on this response only (never stored, never cached)."""
    _ = translator(request)
    values = form_values(form, ("name",))
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = _("请填写此项")
    elif len(values["name"]) > 100:
        errors["name"] = _("最多 %(n)s 个字符", n=100)
    if errors:
        return _tokens_page(request, session, by, values=values, errors=errors, status_code=422)
    token, secret = registry.issue_token(session, _own_username(by), name=values["name"], by=by)
    return render(
        request,
        "token_created.html",
        {
            "token": {"id": token.id, "name": token.name, "expires": local_time(token.expires_at)},
            "secret": secret,
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.post("/account/tokens/{token_id}/revoke")
def tokens_revoke(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, by: SignedIn, form: CsrfForm
) -> RedirectResponse:  # noqa: ARG001 - the form carries only the token
    """Revoke one of one's own tokens; someone else's is not found (404)."""
    _own_username(by)
    registry.revoke_token(session, token_id, by=by)
    return RedirectResponse("/account/tokens?revoked=1", status_code=303)


# --- Console ------------------------------------------------------------------------------------


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, session: SessionDep, by: SignedIn) -> HTMLResponse:
    """What each of the signed-in person's roles can do here, with links."""
    lang = i18n.lang_of(request)
    sections = []
    for grant in by.grants:
        section: dict[str, Any] = {
            "role": grant.role,
            "role_name": rules.ROLE_NAMES.get(grant.role, (grant.role, grant.role)),
            "region_code": grant.region_code,
            "agency_code": grant.agency_code,
        }
        if grant.agency_code is not None:
            agency = registry.get_agency(session, grant.agency_code)
            section["scope"] = (agency.name_en or agency.name) if lang == "en" else agency.name
        else:
            region = registry.get_region(session, grant.region_code)
            section["scope"] = (region.name_en or region.name) if lang == "en" else region.name
            if grant.role in ("authority", "supervisor"):
                section["agency_count"] = registry.list_agencies(session, region=grant.region_code, limit=1)[1]
                section["missing_count"] = registry.list_agencies(
                    session, region=grant.region_code, missing_responsible=True, limit=1
                )[1]
        sections.append(section)
    from govshare.exchange.pages import console_links
    from govshare.sharing.pages import console_panel

    return render(
        request,
        "console.html",
        {
            "sections": sections,
            "sharing": console_panel(session, by, lang),
            "exchange": console_links(by, lang),
            "password_changed": request.query_params.get("password") == "changed",
        },
    )
