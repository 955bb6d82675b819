"""Database engine, sessions, declarative base and shared column types.

SQLite (embedded default) and PostgreSQL (production) run the same models and migrations.
Services never commit: the request (or CLI command) owns the transaction through
:func:`transaction`, and a failure rolls back both the change and its event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from govshare.core import clock
from govshare.core.canonical import json_text
from govshare.core.config import get_settings
from govshare.core.errors import InvalidInput

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A tz-aware UTC timestamp on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None


#: Signed 64-bit range: the widest integer any backend's driver binds (SQLite's raises beyond it).
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _bad_value(value: Any) -> str | None:
    if isinstance(value, str):
        return "nul" if "\x00" in value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return "int" if not _INT64_MIN <= value <= _INT64_MAX else None
    return None


def _bad_parameter(params: Any) -> str | None:
    if isinstance(params, dict):
        params = params.values()
    elif not isinstance(params, list | tuple):
        return _bad_value(params)
    for p in params:
        bad = _bad_parameter(p) if isinstance(p, dict | list | tuple) else _bad_value(p)
        if bad:
            return bad
    return None


def _install_parameter_guard(engine: Engine) -> None:
    """Refuse values no backend can store, as a 422 rather than a driver error (a 500).

    Text containing NUL (U+0000): PostgreSQL cannot store it (psycopg raises) while SQLite stores
    it silently. Integers beyond 64 bits: SQLite's driver raises while PostgreSQL compares them.
    Checking the bound parameters here covers every query of every domain, including lookups by
    path and query parameters, and makes both backends answer the same.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn: Any, _cursor: Any, _stmt: str, params: Any, _ctx: Any, _many: bool) -> None:
        bad = _bad_parameter(params) if params else None
        if bad == "nul":
            raise InvalidInput(
                "request.nul_character",
                "文本中不能含有空字符（U+0000）",
                "Text must not contain the NUL character (U+0000)",
            )
        if bad == "int":
            raise InvalidInput(
                "request.number_out_of_range",
                "数值超出范围",
                "Number out of range",
                detail=f"整数须在 {_INT64_MIN} 到 {_INT64_MAX} 之间 / "
                f"integers must lie between {_INT64_MIN} and {_INT64_MAX}",
            )


def make_engine(url: str) -> Engine:
    engine = _make_engine(url)
    _install_parameter_guard(engine)
    return engine


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=json_text)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transaction boundaries so BEGIN IMMEDIATE takes the write lock
            # up front: concurrent writers then queue instead of failing with "database is locked".
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=json_text)


def get_engine() -> Engine:
    global _engine, _sessionmaker
    if _engine is None:
        _engine = make_engine(get_settings().database_url)
        _sessionmaker = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def dispose_engine() -> None:
    """Drop the cached engine (tests and the CLI switch databases)."""
    global _engine, _sessionmaker
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _sessionmaker = None


def new_session() -> Session:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker()


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything (change and event) on error."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_session() -> Iterator[Session]:
    """FastAPI dependency: the request owns the commit."""
    with transaction() as session:
        yield session


#: The request's unit of work. ``scope="function"`` makes FastAPI commit right after the endpoint
#: returns and *before* the response is sent, so a 2xx is only ever sent for a durable change.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
