"""Domain errors and their RFC 9457 problem+json answers.

Every error carries a stable ``code`` (``registry.agency.uscc_invalid``), a bilingual title, the
``article`` of the Measures where the law is involved, and the ``field`` at fault for bad input.
The title follows ``Accept-Language``: Chinese first, English when the client prefers it.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("govshare.db")


#: The problem+json body every error answer of the JSON API has (RFC 9457 plus ``code``, and
#: ``article``/``field``/``errors`` where they apply), as a JSON Schema for the OpenAPI spec.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "description": "稳定的错误代码 / stable error code"},
        "detail": {"type": "string"},
        "article": {"type": "string", "description": "《办法》条款 / article of the Measures"},
        "field": {"type": "string", "description": "出错的字段 / the field at fault"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}, "type": {"type": "string"}},
            },
        },
    },
}

#: Declared on every operation (``FastAPI(responses=...)``): any status the operation does not list
#: is a problem+json answer. It also keeps FastAPI from declaring its own 422 body, which this API
#: never sends.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {
        "description": "错误（RFC 9457 problem+json）/ error (RFC 9457 problem+json)",
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    },
}


_RESERVED = frozenset({"type", "title", "status", "code", "detail", "article", "field"})


class DomainError(Exception):
    """A refusal the user can act on. Subclasses fix ``status``; instances say what and why."""

    status: int = 400

    def __init__(
        self,
        code: str,
        title_zh: str,
        title_en: str,
        *,
        detail: str | None = None,
        article: str | None = None,
        field: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {title_en}")
        self.code = code
        self.title_zh = title_zh
        self.title_en = title_en
        self.detail = detail
        self.article = article
        self.field = field
        if status is not None:
            self.status = status
        self.extra = extra or {}

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh

    def problem(self, lang: str = "zh") -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://govshare.local/problems/{self.code}",
            "title": self.title(lang),
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.article:
            body["article"] = self.article
        if self.field:
            body["field"] = self.field
        # Extension members never replace the standard ones: "status" is the HTTP status (RFC 9457).
        body.update({k: v for k, v in self.extra.items() if k not in _RESERVED})
        return body


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Unauthenticated(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class TooManyRequests(DomainError):
    status = 429


class RequestTooLarge(StarletteHTTPException):
    """A request body over ``max_body_bytes`` (raised by ``core.http.BodyLimit`` while the body is
    read). An ``HTTPException`` so that FastAPI's body parsing passes it on rather than calling it
    a malformed body; answered with :attr:`error`."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"request body over {limit} bytes")
        self.error = DomainError(
            "request.too_large",
            "请求内容过大",
            "Request body too large",
            status=413,
            field="body",
            detail=f"请求内容不能超过 {limit} 字节 / the request body must not exceed {limit} bytes",
            extra={"max_bytes": limit},
        )


# --- The database cannot be reached -------------------------------------------------------------

#: The SQLAlchemy errors that can mean "the database cannot be reached"; see :func:`database_unreachable`.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, DisconnectionError)
#: Seconds a client is told to wait before trying again (``Retry-After``).
RETRY_AFTER_SECONDS = 5
#: PostgreSQL SQLSTATEs of a server that is shutting down, crashed, starting up or out of connection
#: slots (class 08 "connection exception" is taken whole).
_SERVER_GOING_AWAY = {"57P01", "57P02", "57P03", "53300"}


class DatabaseUnavailable(DomainError):
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "database.unavailable",
            "数据库暂时不可用，请稍后再试",
            "The database is unavailable; try again shortly",
            detail=f"请 {RETRY_AFTER_SECONDS} 秒后重试 / retry in {RETRY_AFTER_SECONDS} seconds",
        )

    @staticmethod
    def headers() -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached, rather than that a query failed.

    * the pool or the dialect saw the connection die (``DisconnectionError``, ``connection_invalidated``:
      server gone, connection reset, admin shutdown...);
    * the driver could not connect at all: SQLAlchemy raises connect failures without a statement
      (PostgreSQL refused or unreachable, the SQLite file cannot be opened). A wrong password lands
      here too, and rightly: the service is unavailable, and the warning logged names the cause;
    * PostgreSQL answered a connection-class SQLSTATE (08xxx), or that it is shutting down, starting
      up or out of connections (57P01-57P03, 53300).

    Not "unreachable", so still a 500 with its traceback: a missing table or column (the schema
    is not migrated: a deployment error that must not pass for a passing outage), SQLite's
    "database is locked" (a writer held the lock past the 30 s busy timeout: a stuck transaction to
    look into, not an outage), a cancelled statement, a deadlock, a corrupt file.
    """
    if isinstance(exc, DisconnectionError):
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    if exc.connection_invalidated or exc.statement is None:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate.startswith("08") or sqlstate in _SERVER_GOING_AWAY
    return isinstance(exc.orig, sqlite3.OperationalError) and "unable to open database file" in str(exc.orig)


def database_unavailable(request: Request, exc: BaseException) -> DatabaseUnavailable | None:
    """The 503 to answer when ``exc`` means the database cannot be reached (logged as one warning
    line, no traceback: an outage is not a bug), else ``None``."""
    if not database_unreachable(exc):
        return None
    cause = getattr(exc, "orig", None) or exc
    first_line = (str(cause).strip().splitlines() or [""])[0]
    log.warning(
        "database unavailable, answering 503 to %s %s: %s: %s",
        request.method,
        request.url.path,
        type(cause).__name__,
        first_line,
    )
    return DatabaseUnavailable()


def preferred_language(accept_language: str | None) -> str:
    """``"en"`` when the client ranks English above Chinese, else ``"zh"`` (the default)."""
    if not accept_language:
        return "zh"
    best: tuple[float, str] = (-1.0, "zh")
    for part in accept_language.split(","):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        q = 1.0
        for p in pieces[1:]:
            p = p.strip()
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        lang = "en" if tag.startswith("en") else "zh" if tag.startswith("zh") else None
        if lang and q > best[0]:
            best = (q, lang)
    return best[1]


def problem_response(request: Request, error: DomainError, headers: dict[str, str] | None = None) -> JSONResponse:
    lang = preferred_language(request.headers.get("accept-language"))
    return JSONResponse(error.problem(lang), status_code=error.status, media_type=PROBLEM_JSON, headers=headers)


def error_headers(exc: DomainError) -> dict[str, str] | None:
    """``WWW-Authenticate`` on a 401 (RFC 9110 11.6.1); ``Retry-After`` in seconds on a 429 that
    knows its wait (RFC 6585 4)."""
    if exc.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    retry = exc.extra.get("retry_after_seconds")
    if exc.status == 429 and isinstance(retry, int):
        return {"Retry-After": str(retry)}
    return None


_HTTP_TITLES = {
    400: ("请求有误", "Bad request"),
    401: ("需要登录", "Authentication required"),
    403: ("无权执行此操作", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("不支持此请求方法", "Method not allowed"),
    406: ("不支持请求的格式", "Not acceptable"),
    409: ("与现有数据冲突", "Conflict"),
    413: ("请求内容过大", "Payload too large"),
    415: ("不支持的内容类型", "Unsupported media type"),
    422: ("输入有误", "Invalid input"),
    429: ("请求过于频繁", "Too many requests"),
}


def _field_of(error: Any) -> str:
    loc = error.get("loc", ())
    if error.get("type") == "json_invalid":
        return "body"  # the location is a character offset, not a field
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or ".".join(str(p) for p in loc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(request, exc, error_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field_of(e), "message": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        first = errors[0]["field"] if errors else None
        # RFC 9457: the title names the problem type and stays the same across occurrences; what
        # is wrong this time goes in ``detail`` (and per field in ``errors``).
        err = InvalidInput(
            "request.invalid",
            "输入有误",
            "Invalid input",
            detail="; ".join(f"{e['field']}: {e['message']}" for e in errors) or None,
            field=first,
            extra={"errors": errors},
        )
        return problem_response(request, err)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, RequestTooLarge):
            return problem_response(request, exc.error)
        zh, en = _HTTP_TITLES.get(exc.status_code, ("请求失败", "Request failed"))
        err = DomainError(
            f"http.{exc.status_code}",
            zh,
            en,
            status=exc.status_code,
            detail=exc.detail if isinstance(exc.detail, str) else None,
        )
        return problem_response(request, err, dict(exc.headers) if exc.headers else None)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the request carried (PostgreSQL: an id beyond a 32-bit
        # column, text longer than its column...). The transaction is already rolled back.
        err = InvalidInput(
            "request.value_out_of_range",
            "输入的数值或文本超出允许范围",
            "A value in the request is out of the range the database accepts",
        )
        return problem_response(request, err)

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        err = database_unavailable(request, exc)
        if err is None:
            raise exc  # a query or schema error: ServerErrorMiddleware answers 500 and logs the traceback
        return problem_response(request, err, err.headers())

    for cls in DATABASE_ERRORS:
        app.add_exception_handler(cls, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not an answer: keep the response problem+json but reveal nothing of the cause
        # (Starlette still logs the traceback and re-raises it to the server).
        err = DomainError("server.error", "服务器内部错误", "Internal server error", status=500)
        return problem_response(request, err)
