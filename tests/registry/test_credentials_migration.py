"""The credentials migration (2026-11-29) on a database of its own, on the backend under test: tokens
already issued get an expiry (issue time + GOVSHARE_TOKEN_TTL_DAYS) and no hint, failures already
recorded keep no address, and the downgrade gives the old tables back with their rows. (That the
migrated schema equals the models: tests/core/test_schema.py.)"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from govshare.core.migrate import downgrade, upgrade
from tests.conftest import BACKEND, PG_ADMIN_URL

ISSUED = dt.datetime(2026, 9, 1, 8, 30, tzinfo=dt.UTC)


@pytest.fixture
def url() -> Iterator[str]:
    if BACKEND == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'migration.db'}"
        return
    admin = make_url(PG_ADMIN_URL)
    name = f"govshare_migration_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _columns(engine, table: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {c["name"] for c in inspect(engine).get_columns(table)}


def _indexes(engine, table: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {i["name"] for i in inspect(engine).get_indexes(table)}


def _utc(value: object) -> dt.datetime:
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def test_upgrade_backfills_and_downgrade_restores(url):
    upgrade(url, "authority_unique")  # the registry as it was before
    engine = create_engine(url)
    try:
        stamp = ISSUED if engine.dialect.name == "postgresql" else ISSUED.replace(tzinfo=None)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO person (id, username, display_name, active, created_at, updated_at) "
                    "VALUES (1, 'old', 'old', true, :t, :t)"
                ),
                {"t": stamp},
            )
            conn.execute(
                text(
                    "INSERT INTO api_token (id, person_id, name, token_digest, created_at, updated_at) "
                    "VALUES (7, 1, 'old', :d, :t, :t)"
                ),
                {"d": "a" * 64, "t": stamp},
            )
            conn.execute(text("INSERT INTO login_failure (username, at) VALUES ('old', :t)"), {"t": stamp})
        assert "expires_at" not in _columns(engine, "api_token")

        upgrade(url, "credentials")
        engine.dispose()
        assert {"expires_at", "token_hint"} <= _columns(engine, "api_token")
        assert "address" in _columns(engine, "login_failure")
        assert _indexes(engine, "login_failure") == {
            "ix_login_failure_address_at",
            "ix_login_failure_username_address_at",
        }
        assert not next(c for c in inspect(engine).get_columns("api_token") if c["name"] == "expires_at")["nullable"]
        with engine.connect() as conn:
            expires, hint = conn.execute(text("SELECT expires_at, token_hint FROM api_token WHERE id = 7")).one()
            assert _utc(expires) == ISSUED + dt.timedelta(days=90) and hint is None
            assert conn.execute(text("SELECT username, address FROM login_failure")).all() == [("old", None)]

        downgrade(url, "authority_unique")
        engine.dispose()
        assert not {"expires_at", "token_hint"} & _columns(engine, "api_token")
        assert "address" not in _columns(engine, "login_failure")
        assert _indexes(engine, "login_failure") == {"ix_login_failure_username_at"}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT id, name FROM api_token")).all() == [(7, "old")]
            assert conn.execute(text("SELECT username FROM login_failure")).all() == [("old",)]

        upgrade(url, "heads")  # and up again, with every other branch
        engine.dispose()
        assert "expires_at" in _columns(engine, "api_token")
    finally:
        engine.dispose()
