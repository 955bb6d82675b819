"""The ASGI application factory: ``govshare.app:create_app``.

One process serves the JSON API, the portal pages and (later) the exchange gateway. It keeps no
state apart from the database, so a province scales out by running more workers.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

import govshare
from govshare.core.auth import public
from govshare.core.db import SessionDep
from govshare.core.errors import install_error_handlers

DESCRIPTION = """\
政务信息资源共享交换平台 — 依据《江苏省政府信息化服务管理办法》。

Government information-resource sharing and exchange platform under the Jiangsu Measures on
Government Informatization Services. Errors are RFC 9457 problem+json with a stable `code` and,
where the law applies, the `article`.
"""


def _install_docs(app: FastAPI) -> None:
    """Swagger UI from the ``swagger-ui-bundle-v2`` package instead of a CDN (no internet here,
    and many government networks have none either)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(public)])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="govshare API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def create_app() -> FastAPI:
    app = FastAPI(
        title="govshare",
        version=govshare.__version__,
        description=DESCRIPTION,
        docs_url=None,  # served below from local assets: the docs must work without internet
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    install_error_handlers(app)
    _install_docs(app)

    @app.get("/healthz", tags=["ops"], dependencies=[Depends(public)], summary="Liveness and database status")
    def healthz(session: SessionDep) -> JSONResponse:
        try:
            session.execute(text("SELECT 1"))
            db = {"status": "ok", "dialect": session.get_bind().dialect.name}
            code = 200
        except Exception as exc:  # pragma: no cover - exercised by stopping the database
            db = {"status": "error", "error": type(exc).__name__}
            code = 503
        return JSONResponse({"status": "ok" if code == 200 else "degraded", "database": db,
                             "version": govshare.__version__}, status_code=code)

    from govshare.core import calendar_api
    from govshare.registry import router as registry_router

    app.include_router(registry_router.router)
    from govshare.catalog import router as catalog_router
    from govshare.catalog.interop import router as interop_router

    # Before the catalog router: its /api/v1/catalog/{ref} would take "dcat" for a resource code.
    app.include_router(interop_router.router)
    app.include_router(interop_router.ckan_router)
    app.include_router(catalog_router.router)
    from govshare.guide import router as guide_router

    app.include_router(guide_router.router)
    app.include_router(calendar_api.router)
    from govshare.supervision import router as ledger_router

    app.include_router(ledger_router.router)

    from govshare.portal import setup as portal_setup

    portal_setup.install(app)
    return app
