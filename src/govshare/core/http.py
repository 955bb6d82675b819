"""HTTP hardening of every response: security headers, and a cap on request bodies.

``install(app)`` is the one call ``create_app()`` makes. Both parts are plain ASGI middleware
(not ``BaseHTTPMiddleware``): they look at the ``http.response.start`` message and at the
``http.request`` messages as they pass, so they add no task, no buffering and no copy of a body,
and streamed responses stream as before.

* :class:`SecurityHeaders` adds ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy`` and a ``Content-Security-Policy`` to every response that does not set its
  own (portal pages send theirs, ``portal.web.PAGE_HEADERS``, with a policy for their own scripts
  and styles and ``Cache-Control: no-store``; ``/docs`` sends :func:`docs_csp`), and
  ``Strict-Transport-Security`` when ``cookie_secure`` says the site is served over HTTPS. It
  wraps the whole middleware stack, so the 500 answers of Starlette's ``ServerErrorMiddleware``
  carry the headers too.
* :class:`BodyLimit` answers 413 problem+json (``request.too_large``, field ``body``) to a request
  whose body exceeds ``max_body_bytes``: at once when ``Content-Length`` says so (the body is
  never read), else as soon as the bytes received pass the cap (chunked bodies), so at most the
  cap plus one chunk is ever held in memory.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govshare.core.config import get_settings
from govshare.core.errors import DomainError, RequestTooLarge, problem_response

#: For responses that are not pages: JSON, problems, files, redirects. Nothing may load from or
#: run in them, and no site may frame them.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
REFERRER_POLICY = "same-origin"
#: One year; not ``includeSubDomains``: the platform does not speak for its parent domain's other hosts.
HSTS = "max-age=31536000"


def security_headers(*, hsts: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", REFERRER_POLICY.encode()),
        (b"content-security-policy", DEFAULT_CSP.encode()),
    ]
    if hsts:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeaders:
    """Add :func:`security_headers` to every HTTP response; a header the response sets wins."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = security_headers(hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", ()))
                present = {name.lower() for name, _ in raw}
                missing = [(name, value) for name, value in self.headers if name not in present]
                if missing:
                    message = {**message, "headers": raw + missing}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses such a request before it reaches the app
    return None


#: A route that takes larger bodies and enforces its own cap while it streams them: the method,
#: a pattern of the whole path, and the cap (read when a request comes, so settings apply).
LargeBody = tuple[str, "re.Pattern[str]", Callable[[], int]]
#: Renders a refusal as a page for a browser's request, or returns ``None`` (then problem+json).
RefusalPage = Callable[[Request, DomainError], Awaitable[Response | None]]


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413 problem, reading no more than that.

    ``large`` lists the routes (e.g. hosted-dataset uploads) whose bodies may be larger: they get
    their own cap, counted here the same way, which the route also enforces as it streams."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        large: tuple[LargeBody, ...] = (),
        page: RefusalPage | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.large = large
        self.page = page

    def _limit(self, scope: Scope) -> int:
        for method, pattern, cap in self.large:
            if scope.get("method") == method and pattern.fullmatch(scope.get("path", "")):
                return max(self.max_bytes, cap())
        return self.max_bytes

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: RequestTooLarge) -> None:
        request = Request(scope)
        response = await self.page(request, error.error) if self.page is not None else None
        if response is None:
            response = problem_response(request, error.error)
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, RequestTooLarge(limit))
            return

        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised into whoever reads the body; core.errors answers it (an HTTPException,
                    # so FastAPI's body parsing passes it on instead of calling it a 400).
                    raise RequestTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except RequestTooLarge as exc:  # read outside the exception handlers' reach
            if started:
                raise
            await self._refuse(scope, receive, send, exc)


# --- /docs ------------------------------------------------------------------------------------

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def docs_csp(html: bytes) -> str:
    """The policy of the Swagger UI page: its bundle and styles from this site, and exactly the
    inline script(s) of ``html`` (FastAPI's ``get_swagger_ui_html`` starts Swagger UI with one),
    allowed by their SHA-256 hash; it fetches ``/openapi.json`` and calls the API on this site."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode("ascii") + "'"
        for script in _INLINE_SCRIPT.findall(html)
    ]
    return (
        "default-src 'none'; script-src 'self' " + " ".join(hashes) + "; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"
    )


# --- Wiring -----------------------------------------------------------------------------------


def install(app: FastAPI, *, large_bodies: tuple[LargeBody, ...] = (), page: RefusalPage | None = None) -> None:
    """Cap request bodies, and put the security headers outside the whole middleware stack.
    ``page`` answers a refused body with a page when the request came from one (the portal's error
    page for a browser), else ``None`` and the refusal is problem+json."""
    settings = get_settings()
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, large=large_bodies, page=page)
    build: Callable[[], Any] = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        # Outside ServerErrorMiddleware (which Starlette always puts first), so 500s get them too.
        return SecurityHeaders(build(), hsts=settings.cookie_secure)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
