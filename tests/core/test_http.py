"""Every response carries the security headers; request bodies over the cap get a 413 problem
without being read whole (core.http)."""

from __future__ import annotations

import asyncio
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

from govshare.core import http as core_http
from govshare.core.config import Settings, reset_settings
from govshare.core.errors import PROBLEM_JSON
from govshare.portal.web import PAGE_HEADERS
from tests.live_server import serve

SECURITY = ("x-content-type-options", "x-frame-options", "referrer-policy", "content-security-policy")
CAP = 1000


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
    assert statuses == {
        "json": 200,
        "ckan": 200,
        "healthz": 200,
        "openapi": 200,
        "problem 404": 404,
        "problem 401": 401,
        "validation 422": 422,
        "405": 405,
        "static": 200,
        "docs asset": 200,
        "redirect": 303,
        "500": 500,
    }
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


# --- Request body cap ---------------------------------------------------------------------------


def test_the_default_cap_is_ten_mebibytes():
    assert Settings().max_body_bytes == 10 * 1024 * 1024


def _too_large(r: httpx.Response, lang: str = "zh") -> dict:  # type: ignore[type-arg]
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body = r.json()
    assert body["code"] == "request.too_large" and body["field"] == "body" and body["status"] == 413
    assert body["max_bytes"] == CAP
    assert body["title"] == ("请求内容过大" if lang == "zh" else "Request body too large")
    _assert_secure(r)
    return body  # type: ignore[no-any-return]


def _asgi_post(app, path: str, chunks: list[bytes], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    """Drive the app as a server would, counting the body messages it pulls."""
    pulled = 0
    sent: list[dict] = []  # type: ignore[type-arg]

    async def receive() -> dict:  # type: ignore[type-arg]
        nonlocal pulled
        if pulled == len(chunks):
            await asyncio.sleep(3600)  # a server would wait for the client here
        pulled += 1
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}

    async def send(message: dict) -> None:  # type: ignore[type-arg]
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict((k.decode(), v.decode()) for k, v in start["headers"]), body, pulled


def test_a_declared_length_over_the_cap_is_refused_unread(settings_env):  # type: ignore[no-untyped-def]
    from govshare.app import create_app

    settings_env(max_body_bytes=CAP)
    app = create_app()
    status, headers, body, pulled = _asgi_post(
        app,
        "/api/v1/agencies",
        [b"{" * (CAP + 1)],
        {"content-type": "application/json", "content-length": str(CAP + 1)},
    )
    assert (status, pulled) == (413, 0)  # answered before a byte of the body was read
    assert headers["content-type"] == PROBLEM_JSON and b"request.too_large" in body

    with TestClient(app) as client:
        _too_large(client.post("/api/v1/agencies", content=b"x" * (CAP + 1)))
        _too_large(
            client.post("/api/v1/agencies", content=b"x" * (CAP + 1), headers={"accept-language": "en"}), lang="en"
        )
        # The cap applies to every route, whatever it does with a body.
        _too_large(client.post("/healthz", content=b"x" * (CAP + 1)))
        # Up to the cap the request goes on to the endpoint: 422 for a body that is not JSON, 401 without
        # credentials for one that is.
        at_cap = client.post("/api/v1/agencies", content=b"x" * CAP, headers={"content-type": "application/json"})
        assert (at_cap.status_code, at_cap.json()["code"]) == (422, "request.invalid")
        assert client.post("/api/v1/agencies", json={"name": "x" * (CAP - 20)}).status_code == 401


def test_a_chunked_body_is_refused_once_it_passes_the_cap(settings_env):  # type: ignore[no-untyped-def]
    from govshare.app import create_app

    settings_env(max_body_bytes=CAP)
    app = create_app()
    chunks = [b"x" * 300] * 100  # 30 kB without Content-Length
    status, headers, body, pulled = _asgi_post(app, "/api/v1/agencies", chunks, {"content-type": "application/json"})
    assert status == 413 and headers["content-type"] == PROBLEM_JSON and b"request.too_large" in body
    assert pulled == 4  # 1,200 bytes: the first chunk past the cap, not the other 96

    # A browser posting a form gets the error page instead.
    status, headers, body, pulled = _asgi_post(
        app, "/login", chunks, {"content-type": "application/x-www-form-urlencoded", "accept": "text/html"}
    )
    assert status == 413 and headers["content-type"].startswith("text/html") and pulled == 4
    assert "提交的内容过大".encode() in body
    assert headers["content-security-policy"] == PAGE_HEADERS["Content-Security-Policy"]


def test_the_cap_over_a_real_socket(settings_env):  # type: ignore[no-untyped-def]
    from govshare.app import create_app

    settings_env(max_body_bytes=CAP)

    def chunked() -> Iterator[bytes]:
        for _ in range(50):
            yield b"x" * 100

    with serve(create_app()) as url, httpx.Client(base_url=url, timeout=20) as http:
        r = http.post("/api/v1/agencies", content=chunked(), headers={"content-type": "application/json"})
        assert r.request.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.request.headers
        _too_large(r)
        _too_large(http.post("/api/v1/agencies", content=b"x" * (CAP + 1)))
        assert http.post("/api/v1/agencies", json={}).status_code == 401
