"""Test harness: every test starts from a clean, migrated database.

The suite runs once per backend: ``GOVSHARE_TEST_DB=sqlite`` (default) or ``postgres`` (URL from
``GOVSHARE_TEST_POSTGRES_URL``, default the local server's ``test`` database; a dedicated
database is created for the run). Migrations are applied once per run; between tests every
table is emptied and the event sequence reset.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

BACKEND = os.environ.get("GOVSHARE_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("GOVSHARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

_tmp = Path(tempfile.mkdtemp(prefix="govshare-test-"))
os.environ["GOVSHARE_VAR_DIR"] = str(_tmp / "var")
# The ledger's background integrator is started explicitly by the tests that need it.
os.environ.setdefault("GOVSHARE_LEDGER_BACKGROUND", "false")
# Quality checks of new dataset versions are run explicitly by the tests that need them.
os.environ.setdefault("GOVSHARE_QUALITY_BACKGROUND", "false")
# So is the sharing domain's timed work (tests run its ticks themselves).
os.environ.setdefault("GOVSHARE_SHARING_BACKGROUND", "false")
# The demo's hosted dataset (100,000 residents with `make run`) is generated smaller for the tests.
os.environ.setdefault("GOVSHARE_DEMO_RESIDENTS", "3000")


# Property tests judge their inputs, not the machine's speed: two xdist workers, Chromium and
# DuckDB share two cores, and a strategy's first draw can wait a second for the CPU. Examples are
# not fewer for it; only the "input generation is slow" health check and the per-example deadline go.
settings.register_profile("govshare", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("govshare")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _database_url() -> str:
    if BACKEND == "sqlite":
        return f"sqlite:///{_tmp / ('test-' + _worker() + '.db')}"
    if BACKEND != "postgres":
        raise pytest.UsageError(f"GOVSHARE_TEST_DB must be sqlite or postgres, not {BACKEND!r}")
    admin = make_url(PG_ADMIN_URL)
    # One database per run and worker: parallel runs on one server must not share (or drop) it.
    name = f"govshare_test_{_worker()}_{os.getpid()}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


DATABASE_URL = _database_url()
os.environ["GOVSHARE_DATABASE_URL"] = DATABASE_URL


def pytest_report_header(config: pytest.Config) -> str:
    return f"govshare database backend: {BACKEND} ({make_url(DATABASE_URL).render_as_string(hide_password=True)})"


@pytest.fixture(scope="session", autouse=True)
def _migrated() -> Iterator[None]:
    from govshare.core import db
    from govshare.core.config import reset_settings
    from govshare.core.migrate import upgrade

    reset_settings()
    db.dispose_engine()
    upgrade(DATABASE_URL)
    yield
    db.dispose_engine()
    if BACKEND == "postgres":
        engine = create_engine(make_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(DATABASE_URL).database}" WITH (FORCE)'))
        engine.dispose()


def _tables() -> list[str]:
    from govshare.core.db import Base
    from govshare.models import import_all_models

    import_all_models()
    return [t.name for t in reversed(Base.metadata.sorted_tables)]


@pytest.fixture(autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """argon2id with its cheapest parameters: the same algorithm and hash format, milliseconds
    instead of a second per world built."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from govshare.core import security

    security.set_password_hasher(PasswordHasher.from_parameters(CHEAPEST))
    yield
    security.set_password_hasher(None)


@pytest.fixture(autouse=True)
def _clean_database(_migrated: None) -> Iterator[None]:
    from govshare.core import clock, db

    clock.set_now(None)
    engine = db.get_engine()
    tables = _tables()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
        conn.execute(text("INSERT INTO event_head (id, next_seq) VALUES (1, 0)"))
    yield
    clock.set_now(None)


@pytest.fixture
def session() -> Iterator[Session]:
    from govshare.core.db import new_session

    s = new_session()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


@pytest.fixture
def app():  # type: ignore[no-untyped-def]
    from govshare.app import create_app

    return create_app()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def world(session: Session):  # type: ignore[no-untyped-def]
    """A small province: Jiangsu > Nanjing, Suzhou (> Gusu), agencies and people per role."""
    from tests.factories import World

    w = World.build(session)
    session.commit()
    return w
