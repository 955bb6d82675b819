"""Mount the portal: static files, every domain's pages, and HTML error pages.

``install(app, page_routers)`` is called by ``create_app()`` after the API routers and the JSON error handlers.

* Pages: the page routers ``create_app`` lists, in its order (the portal's own first).
* Errors: the problem+json handlers of ``core.errors`` stay as they are; this module wraps them so
  that a browser asking for a page (a path outside ``/api/`` with ``text/html`` in ``Accept``) gets
  a page in its language instead: 401 redirects to ``/login``, other errors render ``error.html``.
  Unexpected exceptions get a 500 page for browsers and the core's answer (or Starlette's plain-text
  500 when the core has none) otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from govshare.core.auth import authenticate
from govshare.core.db import transaction
from govshare.core.errors import DATABASE_ERRORS, DomainError, database_unavailable
from govshare.portal import i18n
from govshare.portal.i18n import N_
from govshare.portal.web import STATIC_DIR, domain_error_message, render, wants_html

log = logging.getLogger(__name__)

Handler = Callable[[Request, Any], Awaitable[Response]]

#: Page titles of plain HTTP errors (Chinese source text, translated on the page).
HTTP_TITLES = {
    400: N_("请求有误"),
    401: N_("需要登录"),
    403: N_("无权访问此页面"),
    404: N_("页面不存在"),
    405: N_("不支持此请求方法"),
    413: N_("提交的内容过大"),
    422: N_("输入有误"),
    429: N_("请求过于频繁"),
    500: N_("服务器内部错误"),
}
DEFAULT_TITLE = N_("请求失败")
HTTP_DETAILS = {
    404: N_("您访问的页面不存在，或者已被移动。"),
    500: N_("服务器处理请求时出错，请稍后再试。错误已记录。"),
}


def install(app: FastAPI, page_routers: Sequence[APIRouter]) -> None:
    """Static files, the portal's languages, the given pages (in that order) and HTML error pages."""
    i18n.load_all()
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for router in page_routers:
        app.include_router(router)
    install_html_error_pages(app)


# --- Error pages --------------------------------------------------------------------------------


def _find_principal(request: Request, *, look_up: bool) -> None:
    """Make the header show who is signed in on error pages raised before any permission ran."""
    if "principal" in request.scope.get("state", {}) or not look_up:
        return
    try:
        with transaction() as session:
            authenticate(request, session)
    except Exception:  # an error page must render even when credentials are bad or the DB is down
        request.state.principal = None


async def error_page(
    request: Request,
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    article: str | None = None,
    code: str | None = None,
    errors: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    await run_in_threadpool(_find_principal, request, look_up=status < 500)
    _ = i18n.gettext_for(i18n.lang_of(request))
    title = title or _(HTTP_TITLES.get(status, DEFAULT_TITLE))
    if detail is None and status in HTTP_DETAILS:
        detail = _(HTTP_DETAILS[status])
    context = {
        "status": status,
        "title": title,
        "detail": detail,
        "article": article,
        "code": code,
        "errors": errors or [],
    }
    return render(request, "error.html", context, status_code=status, headers=headers)


async def refusal_page(request: Request, error: DomainError) -> Response | None:
    """A request refused before it reached a route (``core.http.BodyLimit``: a body over the cap,
    e.g. a 5 GB upload from a form, refused from its declared length): the error page for a
    browser, ``None`` for the API (problem+json)."""
    if not wants_html(request):
        return None
    lang = i18n.lang_of(request)
    detail = i18n.split_bilingual(error.detail, lang) if error.detail else None
    return await error_page(
        request, error.status, title=domain_error_message(error, lang), detail=detail, code=error.code
    )


def _login_redirect(request: Request) -> RedirectResponse:
    target = "/login"
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?next=" + quote(here, safe="")
    return RedirectResponse(target, status_code=303)


def install_html_error_pages(app: FastAPI) -> None:
    json_domain: Handler = app.exception_handlers[DomainError]
    json_http: Handler = app.exception_handlers[StarletteHTTPException]
    json_validation: Handler = app.exception_handlers[RequestValidationError]
    json_unexpected: Handler | None = app.exception_handlers.get(Exception)
    json_database: Handler | None = app.exception_handlers.get(DATABASE_ERRORS[0])

    async def domain(request: Request, exc: DomainError) -> Response:
        if not wants_html(request):
            return await json_domain(request, exc)
        if exc.status == 401:
            return _login_redirect(request)
        lang = i18n.lang_of(request)
        detail = i18n.split_bilingual(exc.detail, lang) if exc.detail else None
        return await error_page(
            request,
            exc.status,
            title=domain_error_message(exc, lang),
            detail=detail,
            article=exc.article,
            code=exc.code,
        )

    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        if not wants_html(request):
            return await json_http(request, exc)
        headers = dict(exc.headers) if exc.headers else None
        return await error_page(request, exc.status_code, headers=headers)

    async def validation(request: Request, exc: RequestValidationError) -> Response:
        if not wants_html(request):
            return await json_validation(request, exc)
        lines = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body"))
            lines.append(f"{loc}: {e.get('msg', '')}")
        return await error_page(request, 422, errors=lines)

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette logs and re-raises the exception after this answer is sent.
        if not wants_html(request):
            if json_unexpected is not None:
                return await json_unexpected(request, exc)
            return PlainTextResponse("Internal Server Error", status_code=500)
        try:
            return await error_page(request, 500)
        except Exception:  # pragma: no cover - the error page itself failed
            log.exception("error page failed")
            return PlainTextResponse("Internal Server Error", status_code=500)

    async def database(request: Request, exc: Exception) -> Response:
        if not wants_html(request):
            if json_database is None:
                raise exc
            return await json_database(request, exc)
        err = database_unavailable(request, exc)
        if err is None:
            raise exc  # a query or schema error: the 500 page, and the traceback in the log
        lang = i18n.lang_of(request)
        return await error_page(
            request,
            err.status,
            title=domain_error_message(err, lang),
            detail=i18n.split_bilingual(err.detail or "", lang),
            code=err.code,
            headers=err.headers(),
        )

    for cls in DATABASE_ERRORS:
        app.add_exception_handler(cls, database)
    app.add_exception_handler(DomainError, domain)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, server_error)
