"""Fuzz every operation of the OpenAPI spec with schemathesis: no input may cause a server error.

The calls are authenticated as the provincial authority (the widest write scope), so generated
bodies reach the services and the database instead of stopping at 401; path parameters start
from the examples the routes declare (``js-gat``, ``320500``...), so updates hit real rows.
Generation is derandomised and bounded, so a run is repeatable and short on either backend.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from schemathesis.checks import not_a_server_error
from sqlalchemy import text

from govshare.app import create_app
from govshare.core import clock, security
from govshare.core.db import get_engine, transaction
from govshare.core.errors import DomainError
from govshare.registry import service
from tests.factories import World, bearer

MAX_EXAMPLES = 10

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")


@pytest.fixture
def _clean_database():  # type: ignore[no-untyped-def]
    """Overrides the per-test wipe for this module: the operations share one world (below), built
    once. Wiping and rebuilding it for each of dozens of operations cost more than the fuzzing."""
    yield


_shared: dict[str, str] = {}


def _token_works(token: str) -> bool:
    with transaction() as s:
        try:
            return service.authenticate_secret(s, token).has_role("authority")
        except DomainError:
            return False


@pytest.fixture
def authority_headers(_migrated):  # type: ignore[no-untyped-def]
    """The provincial authority's bearer header on a database holding the test world. Built once
    (on a wiped database) and rebuilt only if another module's test wiped it in between (xdist)."""
    token = _shared.get("token")
    if token is None or not _token_works(token):
        from tests.conftest import _tables

        clock.set_now(None)
        engine = get_engine()
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in _tables()) + " RESTART IDENTITY CASCADE"))
            else:
                for t in _tables():
                    conn.execute(text(f'DELETE FROM "{t}"'))
            conn.execute(text("INSERT INTO event_head (id, next_seq) VALUES (1, 0)"))
        security.set_password_hasher(PasswordHasher.from_parameters(CHEAPEST))
        try:
            with transaction() as session:
                token = World.build(session).tokens["province_authority"]
        finally:
            security.set_password_hasher(None)
        _shared["token"] = token
    clock.set_now(None)
    return bearer(token)


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    # Generous: the machine is shared; a slow call is reported, not a flaky failure.
    deadline=10_000,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_no_server_error(case, authority_headers):  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=authority_headers, checks=[not_a_server_error])
