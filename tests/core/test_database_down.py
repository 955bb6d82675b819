"""With the database unreachable every call answers 503 problem+json with Retry-After (pages: the
503 page), logs one warning line and no traceback, and the service recovers by itself when the
database is back. Query and schema errors stay 500s with their traceback.

The shared test server is never stopped: a fresh app is pointed (through settings) at a
PostgreSQL port nothing listens on, at a SQLite path that cannot be opened, or at a TCP relay to
the real PostgreSQL that the test cuts and restores.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from govshare.core import db
from govshare.core.config import reset_settings
from govshare.core.errors import PROBLEM_JSON, RETRY_AFTER_SECONDS, database_unreachable
from govshare.core.migrate import upgrade

CLOSED_PORT_URL = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # port 1: nothing listens there
BACKEND = os.environ.get("GOVSHARE_TEST_DB", "sqlite")
#: The leg's own, migrated database (tests/conftest.py sets it before any test module is imported).
DATABASE_URL = os.environ["GOVSHARE_DATABASE_URL"]


@pytest.fixture
def database_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Point settings (and so the next engine) at another database URL; undone after the test."""

    def point(url: str) -> None:
        monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)
        reset_settings()
        db.dispose_engine()

    yield point
    monkeypatch.undo()
    reset_settings()
    db.dispose_engine()


def _app():  # type: ignore[no-untyped-def]
    from govshare.app import create_app

    return create_app()


def _unavailable(r, lang: str = "zh") -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    assert r.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    body = r.json()
    assert body["code"] == "database.unavailable" and body["status"] == 503
    assert body["title"] == (
        "数据库暂时不可用，请稍后再试" if lang == "zh" else "The database is unavailable; try again shortly"
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    return body  # type: ignore[no-any-return]


def _warnings_only(caplog: pytest.LogCaptureFixture, calls: int) -> None:
    """One warning line per call, naming the cause; nothing logged with a traceback or above WARNING."""
    records = [r for r in caplog.records if r.name.startswith("govshare")]
    assert [r.levelname for r in records] == ["WARNING"] * calls, [r.getMessage() for r in records]
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)
    assert all("database unavailable" in r.getMessage() for r in records)
    assert not [r for r in caplog.records if r.levelno > logging.WARNING]


def test_every_api_call_answers_503_when_postgresql_cannot_be_reached(database_at, caplog, world):
    token = world.h("province_authority")  # made while the database was up
    database_at(CLOSED_PORT_URL)
    caplog.set_level(logging.WARNING)
    # raise_server_exceptions: an error that reached ServerErrorMiddleware (a 500) would fail here.
    with TestClient(_app(), raise_server_exceptions=True) as client:
        calls = [
            client.get("/api/v1/regions"),
            client.get("/api/v1/catalog/dcat"),
            client.get("/api/3/action/package_list"),
            client.get("/api/v1/ledger/checkpoint"),
            client.get("/api/v1/agencies", headers=token),
            client.post(
                "/api/v1/regions", headers=token, json={"code": "320999", "name": "x", "parent_code": "320000"}
            ),
        ]
        for r in calls:
            _unavailable(r)
        _unavailable(client.get("/api/v1/regions", headers={"accept-language": "en"}), lang="en")
        _warnings_only(caplog, len(calls) + 1)
        assert "OperationalError" in caplog.records[0].getMessage()

        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded" and health.json()["database"]["status"] == "error"


def test_a_browser_gets_the_503_page(database_at, caplog):
    database_at(CLOSED_PORT_URL)
    caplog.set_level(logging.WARNING)
    with TestClient(_app(), raise_server_exceptions=True) as client:
        titles = {"zh": "数据库暂时不可用，请稍后再试", "en": "The database is unavailable; try again shortly"}
        for lang, title in titles.items():
            r = client.get(f"/catalog?lang={lang}", headers={"accept": "text/html"})
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("text/html")
            assert r.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
            assert title in r.text and "database.unavailable" in r.text
    _warnings_only(caplog, 2)


def test_sqlite_that_cannot_be_opened_then_can(database_at, caplog, tmp_path):
    """The SQLite file's place is unusable (here a directory stands there): 503; once the file is
    there the same app serves again, without a restart."""
    path = tmp_path / "volume" / "govshare.db"
    path.mkdir(parents=True)
    database_at(f"sqlite:///{path}")
    caplog.set_level(logging.WARNING)
    with TestClient(_app(), raise_server_exceptions=True) as client:
        _unavailable(client.get("/api/v1/regions"))
        assert "unable to open database file" in caplog.records[0].getMessage()
        assert client.get("/healthz").status_code == 503

        path.rmdir()
        upgrade(f"sqlite:///{path}")
        assert client.get("/api/v1/regions").json() == []
        assert client.get("/healthz").json()["database"]["status"] == "ok"
    _warnings_only(caplog, 1)


def test_schema_errors_stay_500s_with_their_traceback(database_at, tmp_path):
    # A database that is there but was never migrated: a deployment error, not an outage.
    database_at(f"sqlite:///{tmp_path / 'empty.db'}")
    missing_table = pytest.raises(OperationalError, match="no such table")
    with TestClient(_app(), raise_server_exceptions=True) as client, missing_table:
        client.get("/api/v1/regions")  # reached ServerErrorMiddleware: logged with its traceback
    with TestClient(_app(), raise_server_exceptions=False) as client:
        r = client.get("/api/v1/regions")
        assert (r.status_code, r.json()["code"]) == (500, "server.error")


# --- What counts as "unreachable", on real errors ----------------------------------------------


def _error(engine, sql: str) -> OperationalError:  # type: ignore[no-untyped-def]
    with pytest.raises(OperationalError) as caught, engine.connect() as conn:
        conn.execute(text(sql))
    return caught.value


def test_sqlite_errors(tmp_path: Path):
    file = tmp_path / "x.db"
    holder = sqlite3.connect(file, isolation_level=None)
    holder.execute("CREATE TABLE t (a INTEGER)")
    holder.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        engine = create_engine(f"sqlite:///{file}", connect_args={"timeout": 0})
        locked = _error(engine, "INSERT INTO t VALUES (1)")
        assert "database is locked" in str(locked)
        assert not database_unreachable(locked)
        assert not database_unreachable(_error(engine, "SELECT * FROM missing"))
        engine.dispose()
    finally:
        holder.close()
    (tmp_path / "dir.db").mkdir()
    unopenable = create_engine(f"sqlite:///{tmp_path / 'dir.db'}")
    assert database_unreachable(_error(unopenable, "SELECT 1"))
    assert not database_unreachable(ValueError("not a database error"))


def test_postgresql_refusing_connections_is_unreachable():
    engine = create_engine(CLOSED_PORT_URL)
    assert database_unreachable(_error(engine, "SELECT 1"))


@pytest.mark.postgres_only
@pytest.mark.skipif(BACKEND != "postgres", reason="needs PostgreSQL")
def test_postgresql_errors():
    engine = create_engine(DATABASE_URL)
    with engine.connect() as conn:
        conn.execute(text("SET statement_timeout = 10"))
        with pytest.raises(OperationalError) as cancelled:
            conn.execute(text("SELECT pg_sleep(1)"))
    assert getattr(cancelled.value.orig, "sqlstate", None) == "57014"  # query_canceled: not an outage
    assert not database_unreachable(cancelled.value)

    with engine.connect() as victim, engine.connect() as admin:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(OperationalError) as terminated:
            victim.execute(text("SELECT 1"))
    assert database_unreachable(terminated.value)  # the server closed the connection
    engine.dispose()


# --- PostgreSQL goes away and comes back --------------------------------------------------------


class Relay:
    """A TCP relay from a local port to PostgreSQL that the test can cut and restore."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.create_server(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening and reset every relayed connection, as a server that went down would."""
        assert self.listener is not None
        with contextlib.suppress(OSError):  # wakes the accepting thread, which holds the socket open
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.mark.postgres_only
@pytest.mark.skipif(BACKEND != "postgres", reason="needs PostgreSQL")
def test_postgresql_down_then_back_recovers_by_itself(database_at, caplog, world):  # noqa: ARG001 - world: rows to read
    url = make_url(DATABASE_URL)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    relay.start()
    database_at(url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False))
    caplog.set_level(logging.WARNING)
    try:
        with TestClient(_app(), raise_server_exceptions=True) as client:
            up = client.get("/api/v1/regions")
            assert up.status_code == 200 and up.json()
            relay.cut()
            _unavailable(client.get("/api/v1/regions"))  # the pooled connection is dead, no new one connects
            _unavailable(client.get("/api/v1/regions"))
            relay.start()
            assert client.get("/api/v1/regions").json() == up.json()  # same app, same engine: recovered
            _warnings_only(caplog, 2)
    finally:
        relay.cut()


def test_the_ledger_background_logs_an_outage_once(database_at, caplog):
    """The background round retries every interval; an outage is one warning when it starts and one
    when it ends, not a traceback every round."""
    from govshare.core import background
    from govshare.supervision import service as ledger_service

    async def outage_then_back() -> None:
        task = asyncio.create_task(background._loop(background.Job("ledger", ledger_service.catch_up, 0.02)))
        await asyncio.sleep(0.5)  # about 25 rounds against the closed port
        database_at(DATABASE_URL)
        await asyncio.sleep(0.5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    caplog.set_level(logging.WARNING)
    database_at(CLOSED_PORT_URL)
    asyncio.run(outage_then_back())
    ledger = [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records if r.name == "govshare.background"]
    assert ledger == [
        ("WARNING", "background job ledger waits for the database: OperationalError", None),
        ("WARNING", "background job ledger resumes: the database is back", None),
    ]
