"""Meta-tests over every route of the app: each declares its permission; each page form checks CSRF.

Every route, API and page alike, must depend on a ``core.auth.Permission`` (``public``,
``authenticated`` or ``require(...)``), as CKAN's test of its auth functions does. Exempt are only
FastAPI's own documentation routes and static file mounts. Every non-API ``POST`` (and other unsafe
method) must take its form through ``portal.web.csrf_form``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount

from govshare.core.auth import Permission, public
from govshare.exchange.demo_provider import PATH as DEMO_PROVIDER_PATH
from govshare.exchange.gateway.app import Gateway
from govshare.portal.web import CsrfForm, csrf_form

DOCS_PATHS = {"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _label(route: Any, effective: Any) -> str:
    methods = ",".join(sorted(getattr(effective, "methods", None) or [])) or type(route).__name__
    return f"{methods} {getattr(effective, 'path', '?')}"


def _routes(app: FastAPI) -> Iterator[tuple[Any, Any]]:
    """(original route, effective route) for every route, also inside included routers (this FastAPI
    keeps included routers as one entry; the effective route carries the router's prefix and
    dependencies)."""
    for context in iter_route_contexts(app.routes):
        yield context.original_route, context


def routes_without_permission(app: FastAPI) -> list[str]:
    offenders = []
    for route, effective in _routes(app):
        if isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            continue
        # The exchange gateway is its own ASGI app: every call needs a machine client's key and an
        # active grant of its agency (exchange.gateway.rules), checked and recorded by the gateway.
        if isinstance(route, Mount) and isinstance(route.app, Gateway):
            continue
        if effective.path in DOCS_PATHS and not isinstance(route, APIRoute):
            continue
        if not isinstance(route, APIRoute) or not any(isinstance(c, Permission) for c in _calls(effective.dependant)):
            offenders.append(_label(route, effective))
    return offenders


def page_posts_without_csrf(app: FastAPI) -> list[str]:
    return [
        _label(route, effective)
        for route, effective in _routes(app)
        if isinstance(route, APIRoute)
        and not effective.path.startswith("/api/")
        # The demo's provider node (exchange.demo_provider) stands for another agency's system:
        # machines call it (the gateway's verification is a POST), it keeps no state, takes no cookie.
        and not effective.path.startswith(DEMO_PROVIDER_PATH + "/")
        and effective.methods & UNSAFE
        and csrf_form not in set(_calls(effective.dependant))
    ]


def test_every_route_declares_a_permission(app):
    offenders = routes_without_permission(app)
    assert not offenders, (
        "routes without a core.auth.Permission dependency (public, authenticated or "
        "require(...)):\n  " + "\n  ".join(offenders)
    )


def test_every_page_post_checks_csrf(app):
    offenders = page_posts_without_csrf(app)
    assert not offenders, "page routes changing state without portal.web.CsrfForm:\n  " + "\n  ".join(offenders)


def test_the_checks_catch_offenders():
    """The two meta-tests above would fail on an app with an undeclared route or an unchecked form."""
    app = FastAPI()
    router = APIRouter()

    @router.get("/open")
    def open_page() -> None: ...

    @router.get("/declared", dependencies=[Depends(public)])
    def declared() -> None: ...

    @router.post("/form", dependencies=[Depends(public)])
    def unchecked_form() -> None: ...

    @router.post("/checked-form", dependencies=[Depends(public)])
    def checked_form(form: CsrfForm) -> None: ...

    @router.post("/api/v1/thing", dependencies=[Depends(public)])
    def api_post() -> None: ...

    guarded = APIRouter(prefix="/guarded", dependencies=[Depends(public)])

    @guarded.get("/by-router")
    def by_router() -> None: ...

    app.include_router(router)
    app.include_router(guarded)  # a permission declared on the router counts
    app.mount("/static", StaticFiles(directory="."), name="static")
    app.mount("/other", FastAPI())
    assert routes_without_permission(app) == ["GET /open", "Mount /other"]
    assert page_posts_without_csrf(app) == ["POST /form"]


def test_the_portal_routes_are_there(app):
    paths = {(m, r.path) for o, r in _routes(app) if isinstance(o, APIRoute) for m in r.methods}
    for expected in [
        ("GET", "/"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("GET", "/console"),
        ("GET", "/regions"),
        ("GET", "/regions/{code}"),
        ("GET", "/agencies"),
        ("GET", "/agencies/new"),
        ("POST", "/agencies/new"),
        ("GET", "/agencies/{code}"),
        ("GET", "/agencies/{code}/edit"),
        ("POST", "/agencies/{code}/edit"),
    ]:
        assert expected in paths


def test_every_pages_module_is_wired_once():
    """``create_app`` lists the page routers by hand: none may be forgotten, none included twice."""
    import importlib
    import pkgutil

    import govshare
    from govshare.app import PAGE_ROUTERS, create_app

    found = [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(govshare.__path__, "govshare.")
        if m.name.endswith(".pages")
    ]
    routers = [m.router for m in found if hasattr(m, "router")]
    assert len(routers) >= 5
    assert {id(r) for r in routers} == {id(r) for r in PAGE_ROUTERS}
    app = create_app()
    agency_pages = [r for o, r in _routes(app) if r.path == "/agencies" and "GET" in (r.methods or ())]
    assert len(agency_pages) == 1
