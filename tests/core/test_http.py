"""Every response carries the security headers (core.http)."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from tests.live_server import serve

from govshare.core import http as core_http
from govshare.core.config import reset_settings
from govshare.core.errors import PROBLEM_JSON
from govshare.portal.web import PAGE_HEADERS

SECURITY = ("x-content-type-options", "x-frame-options", "referrer-policy", "content-security-policy")


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def apply(**values: object) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"GOVSHARE_{key.upper()}", str(value))
        reset_settings()

    yield apply
    monkeypatch.undo()
    reset_settings()


def _app_with_a_bug():  # type: ignore[no-untyped-def]
    from govshare.app import create_app

    app = create_app()

    @app.get("/api/v1/test-boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    return app


def _assert_secure(r: httpx.Response, csp: str = core_http.DEFAULT_CSP) -> None:
    for name in SECURITY:
        assert len(r.headers.get_list(name)) == 1, (r.request.url, name, r.headers)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["content-security-policy"] == csp
    assert "strict-transport-security" not in r.headers  # cookie_secure is off


# --- Security headers ---------------------------------------------------------------------------


def test_every_kind_of_response_carries_the_security_headers(world):  # type: ignore[no-untyped-def]
    with TestClient(_app_with_a_bug(), raise_server_exceptions=False) as client:
        answers = {
            "json": client.get("/api/v1/catalog/dcat"),
            "ckan": client.get("/api/3/action/package_list"),
            "healthz": client.get("/healthz"),
            "openapi": client.get("/openapi.json"),
            "problem 404": client.get("/api/v1/agencies/nope", headers=world.h("province_authority")),
            "problem 401": client.get("/api/v1/people"),
            "validation 422": client.get("/api/v1/calendar/deadline?from=x&workdays=1"),
            "405": client.delete("/api/v1/catalog/dcat"),
            "static": client.get("/static/portal.css"),
            "docs asset": client.get("/docs-assets/swagger-ui.css"),
            "redirect": client.get("/console", headers={"accept": "text/html"}, follow_redirects=False),
            "500": client.get("/api/v1/test-boom"),
        }
    statuses = {k: r.status_code for k, r in answers.items()}
    assert statuses == {"json": 200, "ckan": 200, "healthz": 200, "openapi": 200, "problem 404": 404,
                        "problem 401": 401, "validation 422": 422, "405": 405, "static": 200, "docs asset": 200,
                        "redirect": 303, "500": 500}
    assert answers["500"].headers["content-type"] == PROBLEM_JSON  # the answer of ServerErrorMiddleware
    for r in answers.values():
        _assert_secure(r)


def test_pages_keep_their_stricter_headers(client):  # type: ignore[no-untyped-def]
    for path, status in (("/", 200), ("/catalog", 200), ("/no-such-page", 404)):
        r = client.get(path, headers={"accept": "text/html"})
        assert r.status_code == status
        assert r.headers["content-type"].startswith("text/html")
        for name, value in PAGE_HEADERS.items():
            assert r.headers.get_list(name) == [value], (path, name)
    assert PAGE_HEADERS["Content-Security-Policy"] != core_http.DEFAULT_CSP


def test_docs_allow_exactly_their_inline_script(client):  # type: ignore[no-untyped-def]
    r = client.get("/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL)
    assert len(scripts) == 1 and "SwaggerUIBundle(" in scripts[0]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert directives["script-src"] == f"'self' 'sha256-{digest}'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["default-src"] == "'none'" and directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    _assert_secure(r, csp)
    # The hash names this script only: one character more and it is another script.
    assert core_http.docs_csp(r.content.replace(b"SwaggerUIBundle({", b"SwaggerUIBundle( {")) != csp


def test_hsts_when_the_site_is_served_over_https(settings_env):  # type: ignore[no-untyped-def]
    from govshare.app import create_app

    settings_env(cookie_secure="true")
    with TestClient(create_app()) as client:
        for r in (client.get("/healthz"), client.get("/", headers={"accept": "text/html"}), client.get("/docs")):
            assert r.headers.get_list("strict-transport-security") == [core_http.HSTS], r.request.url
            assert core_http.HSTS.startswith("max-age=31536000")


def test_streamed_responses_still_stream():
    """The headers middleware passes each body message on as it comes: the first chunk reaches the
    client while the endpoint is still waiting to produce the second."""
    app = FastAPI()
    core_http.install(app)
    release = threading.Event()

    def chunks() -> Iterator[bytes]:
        yield b"first\n"
        assert release.wait(10), "the client never saw the first chunk"
        yield b"second\n"

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    with serve(app) as url, httpx.stream("GET", url + "/stream", timeout=20) as r:
        assert r.headers["x-content-type-options"] == "nosniff"
        parts = r.iter_bytes()
        assert next(parts) == b"first\n"  # before the endpoint may go on
        release.set()
        assert b"".join(parts) == b"second\n"
