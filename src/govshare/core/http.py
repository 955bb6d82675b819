"""HTTP hardening of every response: security headers.

``install(app)`` is the one call ``create_app()`` makes. The middleware is plain ASGI (not
``BaseHTTPMiddleware``): it looks at the ``http.response.start`` message as it passes, so it adds
no task, no buffering and no copy of a body, and streamed responses stream as before.

* :class:`SecurityHeaders` adds ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy`` and a ``Content-Security-Policy`` to every response that does not set its
  own (portal pages send theirs, ``portal.web.PAGE_HEADERS``, with a policy for their own scripts
  and styles and ``Cache-Control: no-store``; ``/docs`` sends :func:`docs_csp`), and
  ``Strict-Transport-Security`` when ``cookie_secure`` says the site is served over HTTPS. It
  wraps the whole middleware stack, so the 500 answers of Starlette's ``ServerErrorMiddleware``
  carry the headers too.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govshare.core.config import get_settings

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
    return ("default-src 'none'; script-src 'self' " + " ".join(hashes) + "; style-src 'self'; "
            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'none'")


# --- Wiring -----------------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Put the security headers outside the whole middleware stack."""
    settings = get_settings()
    build: Callable[[], Any] = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        # Outside ServerErrorMiddleware (which Starlette always puts first), so 500s get them too.
        return SecurityHeaders(build(), hsts=settings.cookie_secure)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
