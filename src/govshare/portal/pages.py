"""Portal pages: home, sign-in and sign-out, and the console landing page of each role."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from govshare.core.auth import SESSION_COOKIE, Anyone, SignedIn
from govshare.core.config import get_settings
from govshare.core.db import SessionDep, transaction
from govshare.core.errors import DomainError
from govshare.portal import i18n
from govshare.portal.web import (
    CsrfForm,
    domain_error_message,
    form_values,
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


def _login_page(request: Request, *, values: dict[str, str], errors: dict[str, str] | None = None,
                form_error: str | None = None, next_url: str | None = None, status_code: int = 200,
                headers: dict[str, str] | None = None) -> HTMLResponse:
    _ = translator(request)
    labels = {"username": _("用户名"), "password": _("密码")}
    return render(request, "login.html", {
        "values": values, "errors": errors or {}, "form_error": form_error, "labels": labels, "next": next_url,
    }, status_code=status_code, headers=headers)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, _viewer: Anyone, next: str | None = None) -> HTMLResponse:
    return _login_page(request, values={"username": ""}, next_url=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, session: SessionDep, _viewer: Anyone, form: CsrfForm) -> Any:
    """Art 31: failed sign-ins are recorded in their own transaction and throttle the user name.

    Attempts refused while throttled are not recorded again, so the lock ends one window after the
    last real failure; a NUL or other unusable input is answered like any other bad input.
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
    try:
        _person, secret, _csrf = registry.login(session, username, password)
    except DomainError as exc:
        # End this request's transaction (it wrote nothing) before recording the failure in its own,
        # so the record survives and SQLite's write lock is free for it.
        session.rollback()
        headers = None
        if exc.status == 429:
            retry = exc.extra.get("retry_after_seconds", get_settings().login_window_seconds)
            headers = {"Retry-After": str(retry)}
        elif exc.status == 401:  # a wrong name or password (not a refusal while throttled)
            with transaction() as own:
                registry.record_login_failure(own, username)
        lang = i18n.lang_of(request)
        return _login_page(request, values=values, form_error=domain_error_message(exc, lang), next_url=next_url,
                           status_code=exc.status, headers=headers)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # signing in again (perhaps as someone else) ends the session this browser had
        registry.logout(session, previous)
    settings = get_settings()
    response = RedirectResponse(next_url or "/console", status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=settings.session_ttl_seconds, httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path="/")
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


def _password_page(request: Request, *, errors: dict[str, str] | None = None, form_error: str | None = None,
                   status_code: int = 200) -> HTMLResponse:
    _ = translator(request)
    labels = {"current_password": _("当前密码"), "new_password": _("新密码"), "confirm_password": _("再次输入新密码"),
              "csrf_token": _("表单令牌")}
    return render(request, "password.html", {
        "values": {}, "errors": errors or {}, "form_error": form_error, "labels": labels,
        "min_length": rules.PASSWORD_MIN_LENGTH,
    }, status_code=status_code)


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, by: SignedIn) -> HTMLResponse:
    return _password_page(request)


@router.post("/account/password", response_class=HTMLResponse)
def password_submit(request: Request, session: SessionDep, by: SignedIn, form: CsrfForm) -> Any:
    """Replace one's own password; typed passwords are never echoed back into the form."""
    typed, errors = password_fields(request, form, PASSWORD_FIELDS)
    if errors:
        return _password_page(request, errors=errors, status_code=422)
    try:
        registry.change_own_password(session, by, typed["current_password"], typed["new_password"])
    except DomainError as exc:
        session.rollback()
        form_error = place_domain_error(exc, i18n.lang_of(request), PASSWORD_FIELDS, errors)
        return _password_page(request, errors=errors, form_error=form_error, status_code=exc.status)
    return RedirectResponse("/console?password=changed", status_code=303)


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
                    session, region=grant.region_code, missing_responsible=True, limit=1)[1]
        sections.append(section)
    return render(request, "console.html", {"sections": sections,
                                            "password_changed": request.query_params.get("password") == "changed"})
