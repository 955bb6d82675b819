"""The ASGI application factory, ``govshare.app:create_app``: the one place where the platform is
wired together.

One process serves the JSON API, the portal pages and (later) the exchange gateway. It keeps no
state apart from the database, so a province scales out by running more workers. ``create_app``
assembles it in this order, each step relying on the one before:

1. errors: every refusal becomes RFC 9457 problem+json (``core.errors``);
2. authentication: the registry turns credentials into a ``Principal`` (``app.state.authenticator``,
   read by every route's declared ``Permission``);
3. operations: ``/docs`` from local assets, ``/healthz``;
4. the JSON API, domain by domain (the DCAT/CKAN interop routes before the catalog's, whose
   ``/api/v1/catalog/{ref}`` would take ``dcat`` for a resource code);
5. the portal: static files, every domain's pages (the portal's own first), HTML error pages for
   browsers (wrapping the handlers of step 1);
6. background work, run while the app serves (``lifespan``): the ledger's integrator and timed
   checkpoints;
7. outermost, the client's address: ``X-Forwarded-For`` believed only from the reverse proxies in
   ``GOVSHARE_TRUSTED_PROXIES`` (the sign-in throttle counts per address).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

import govshare
from govshare.catalog import pages as catalog_pages
from govshare.catalog import router as catalog_router
from govshare.catalog.interop import router as interop_router
from govshare.core import background, calendar_api, clock
from govshare.core import http as core_http
from govshare.core.auth import public
from govshare.core.config import get_settings
from govshare.core.db import SessionDep
from govshare.core.errors import PROBLEM_RESPONSES, install_error_handlers
from govshare.exchange import pages as exchange_pages
from govshare.exchange import router as exchange_router
from govshare.exchange.config import get_exchange_settings
from govshare.exchange.console import pages as exchange_console_pages
from govshare.exchange.gateway.app import PREFIX as GATEWAY_PREFIX
from govshare.exchange.gateway.app import Gateway
from govshare.guide import pages as guide_pages
from govshare.guide import router as guide_router
from govshare.portal import pages as portal_pages
from govshare.portal import setup as portal_setup
from govshare.quality import pages as quality_pages
from govshare.quality import router as quality_router
from govshare.quality.config import get_quality_settings
from govshare.quality.service import checks as quality_checks
from govshare.quality.service import reconciliations as quality_reconciliations
from govshare.quality.service import updates as quality_updates
from govshare.registry import pages as registry_pages
from govshare.registry import router as registry_router
from govshare.registry import service as registry_service
from govshare.sharing import pages as sharing_pages
from govshare.sharing import router as sharing_router
from govshare.sharing import service as sharing_service
from govshare.sharing.config import get_sharing_settings
from govshare.supervision import pages as supervision_pages
from govshare.supervision import router as supervision_router
from govshare.supervision import service as supervision_service

DESCRIPTION = """\
政务信息资源共享交换平台 — 依据《江苏省政府信息化服务管理办法》。

Government information-resource sharing and exchange platform under the Jiangsu Measures on
Government Informatization Services. Errors are RFC 9457 problem+json with a stable `code` and,
where the law applies, the `article`.
"""

#: Step 4: the JSON API, in the order routes are matched.
API_ROUTERS: tuple[APIRouter, ...] = (
    registry_router.router,
    interop_router.router,
    interop_router.ckan_router,
    catalog_router.router,
    guide_router.router,
    exchange_router.router,
    quality_router.router,
    sharing_router.router,
    calendar_api.router,
    supervision_router.router,
)

#: Step 5: the portal's pages, the portal's own first.
PAGE_ROUTERS: tuple[APIRouter, ...] = (
    portal_pages.router,
    catalog_pages.router,
    guide_pages.router,
    registry_pages.router,
    sharing_pages.router,
    supervision_pages.router,
    quality_pages.router,
    exchange_pages.router,
    exchange_console_pages.router,
)


def background_jobs() -> list[background.Job]:
    """Step 6: what runs while the app serves, per the settings."""
    settings = get_settings()
    jobs = []
    if settings.ledger_background:
        interval = min(1.0, float(settings.ledger_checkpoint_every_seconds))
        jobs.append(background.Job("ledger", supervision_service.catch_up, interval))
    quality = get_quality_settings()
    if quality.quality_background:
        jobs.append(
            background.Job("quality-checks", quality_checks.background_round, quality.quality_check_interval_seconds)
        )
        # Reconciliations whose worker is gone (a restart) are failed as interrupted, first at start-up.
        jobs.append(
            background.Job(
                "quality-recovery", quality_reconciliations.recovery_round, quality.reconcile_recovery_interval_seconds
            )
        )
        # Update duty (Art 15(2)): change feeds polled, updates fulfilled, overdue marked once per tick.
        jobs.append(
            background.Job("quality-updates", quality_updates.background_round, quality.quality_update_interval_seconds)
        )
    sharing = get_sharing_settings()
    if sharing.sharing_background:
        # Overdue marking, reminders, expiry: once per tick whatever the number of workers.
        jobs.append(
            background.Job("sharing", sharing_service.run_scheduled, min(30.0, sharing.sharing_tick_seconds / 2))
        )
    return jobs


@contextlib.asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # The ledger's signing key is made on first start, before anything can ask for a checkpoint.
    await asyncio.to_thread(supervision_service.signer, get_settings())
    gateway: Gateway = _app.state.gateway
    gateway.start()  # the call recorder's writer thread (a mounted app gets no lifespan of its own)
    try:
        async with background.running(background_jobs()):
            yield
    finally:
        await gateway.stop()


def _install_docs(app: FastAPI) -> None:
    """Swagger UI from the ``swagger-ui-bundle-v2`` package instead of a CDN (no internet here,
    and many government networks have none either)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    from govshare.core.http import docs_csp

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="govshare API",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/docs-assets/favicon-32x32.png",
    ).body
    headers = {"Content-Security-Policy": docs_csp(page)}  # allows exactly this page's inline script

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(public)])
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)


def _install_health(app: FastAPI) -> None:
    @app.get("/healthz", tags=["ops"], dependencies=[Depends(public)], summary="Liveness and database status")
    def healthz(session: SessionDep) -> JSONResponse:
        try:
            session.execute(text("SELECT 1"))
            db = {"status": "ok", "dialect": session.get_bind().dialect.name}
            code = 200
        except Exception as exc:  # pragma: no cover - exercised by stopping the database
            db = {"status": "error", "error": type(exc).__name__}
            code = 503
        return JSONResponse(
            {
                "status": "ok" if code == 200 else "degraded",
                "database": db,
                "version": govshare.__version__,
                "clock": clock.describe(),
            },
            status_code=code,
        )


def _install_proxy_headers(app: FastAPI) -> None:
    """Believe ``X-Forwarded-For`` and ``X-Forwarded-Proto`` only from the reverse proxies listed in
    ``GOVSHARE_TRUSTED_PROXIES`` (uvicorn's middleware: the client is the right-most address in the
    header that is not one of those proxies). Without the setting, ``request.client`` is the
    connection's own address: the sign-in throttle counts per address (Art 31), and a header any
    client can write must not decide it."""
    proxies = get_settings().trusted_proxy_list
    if proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)


def _install_gateway(app: FastAPI) -> None:
    """The exchange gateway, its own lean ASGI app (``exchange.gateway``), matched first: its calls
    pass no portal session, CSRF or page handling, only the plain ASGI security headers and body cap."""
    from starlette.routing import Mount

    gateway = Gateway()
    app.state.gateway = gateway
    app.router.routes.insert(0, Mount(GATEWAY_PREFIX, app=gateway, name="exchange-gateway"))


def create_app() -> FastAPI:
    app = FastAPI(
        title="govshare",
        version=govshare.__version__,
        description=DESCRIPTION,
        docs_url=None,  # served from local assets: the docs must work without internet
        openapi_url="/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )
    install_error_handlers(app)  # 1
    # Security headers on every response, request body cap (dataset uploads have their own).
    core_http.install(
        app,
        large_bodies=exchange_router.LARGE_BODIES + quality_router.LARGE_BODIES,
        page=portal_setup.refusal_page,  # a form's refused upload gets a page, not JSON
    )
    app.state.authenticator = registry_service.authenticate_request  # 2
    _install_docs(app)  # 3
    _install_health(app)
    for router in API_ROUTERS:  # 4
        app.include_router(router)
    portal_setup.install(app, PAGE_ROUTERS)  # 5
    _install_gateway(app)
    if get_exchange_settings().demo_provider:
        from govshare.exchange import demo_provider

        app.include_router(demo_provider.router)  # the demo's proxied provider (see its docstring)
    _install_proxy_headers(app)  # 7
    return app
