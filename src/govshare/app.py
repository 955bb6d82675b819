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


def create_app() -> FastAPI:
    app = FastAPI(
        title="govshare",
        version=govshare.__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    install_error_handlers(app)

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
    app.include_router(calendar_api.router)

    from govshare.portal import setup as portal_setup

    portal_setup.install(app)
    return app
