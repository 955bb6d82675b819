"""Fuzz every operation of the OpenAPI spec with schemathesis: no input may cause a server error, and
every answer must have the status, content type and body the spec declares for it.

Every generated request is sent as each identity of the test world that the operation's declared
permission lets through (anonymous, the provincial and a city authority, a supervisor, the secrecy
administration, an agency's staff and admin, its machine client), and as one identity it refuses
(which must get a proper 401/403 problem). So generated input reaches the services and the database
for every role, not just the 401 in front of them. The world also holds a published and a draft
catalog entry, a demand, a guide service and a machine client, and generated strings and integers
are mixed with a dictionary of values that broke parsers before (:data:`ODD_STRINGS`), so small ids
and the examples the routes declare hit real rows.

Two runs:

* the deterministic run, in the normal suite: derandomised and bounded; the examples the spec
  declares and :data:`MAX_EXAMPLES` generated requests per operation, plus schemathesis' coverage
  phase (boundary and invalid values of every parameter) as the identity that gets furthest;
* the randomised run, ``make fuzz`` (``GOVSHARE_FUZZ=random``): new inputs every run for a fixed
  time budget (``GOVSHARE_FUZZ_SECONDS``, default 60), operations in random order, round after
  round until the budget is spent. Its seed is printed; ``GOVSHARE_FUZZ_SEED=<seed>`` replays it.
"""

from __future__ import annotations

import os
import random
import time
import zlib
from collections.abc import Callable

import hypothesis
import pytest
import schemathesis
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from govshare.app import create_app
from govshare.catalog import service as catalog_service
from govshare.catalog.schemas import DemandCreate, ResourceCreate
from govshare.core import clock, security
from govshare.core.auth import OPERATOR, Permission
from govshare.core.db import get_engine, transaction
from govshare.core.errors import DomainError
from govshare.guide import service as guide_service
from govshare.guide.schemas import ServiceCreate
from govshare.registry import service as registry_service
from tests.factories import World

RANDOM = os.environ.get("GOVSHARE_FUZZ") == "random"
BUDGET_SECONDS = float(os.environ.get("GOVSHARE_FUZZ_SECONDS", "60"))
#: Generated requests per operation in the deterministic run (each sent as several identities).
MAX_EXAMPLES = 12
#: Generated requests per operation in one round of the randomised run.
RANDOM_ROUND_EXAMPLES = 10

#: Who calls, with the role each holds: ``None`` is anonymous; the others name a token of the test
#: world (``client`` is the machine client of js-gat, sent as X-API-Key).
ROLES: dict[str | None, str | None] = {
    "province_authority": "authority",
    "gat_staff": "agency_staff",
    "gat_admin": "agency_admin",
    "supervisor": "supervisor",
    "secrecy": "secrecy_admin",
    "suzhou_authority": "authority",
    "client": "client",
    None: None,
}
IDENTITIES = tuple(ROLES)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

#: Values that broke parsers before, or commonly do, mixed into generated strings and integers:
#: digits that ``str.isdigit()`` accepts and ``int()`` refuses (superscripts, circled), digits
#: ``int()`` reads (Arabic-Indic, full-width), numbers beyond 32 and 64 bits and beyond ``int()``'s
#: 4,300 digits, JSON nested past Python's recursion limit, blank text (ASCII, ideographic space,
#: tabs), LIKE and search operators, quotes, an emoji, invisible characters, impossible dates, and
#: real references of the test world (so lookups also succeed).
ODD_STRINGS = [
    "¹",
    "²³",
    "①",
    "٣",
    "１２",
    "1_000",
    " 7",
    "0",
    "-1",
    "2147483648",
    "9223372036854775808",
    "9" * 4301,
    "[" * 3000,
    " ",
    "   ",
    "\u3000\u3000",
    "\t\t",
    "\n",
    "%",
    "_",
    "%_%",
    "*",
    '"',
    "(",
    ")",
    "\\",
    "'",
    "😀",
    "\u200b",
    "\ufeff",
    "e\u0301",
    "2025-02-30",
    "２０２５-01-01",
    "NOW+1DAY",
    "null",
    "1",
    "2",
    "js-gat",
    "sz-sj",
    "320000",
    "320500",
    "gat_staff",
    "机动车",
    "驾驶证",
]
ODD_INTEGERS = [0, 1, 2, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30]


def _config(phases: list[str], max_examples: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "dictionaries": {"odd-strings": {"values": ODD_STRINGS}, "odd-integers": {"values": ODD_INTEGERS}},
            "generation": {
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
                "dictionaries": {
                    "string": {"dictionary": "odd-strings", "probability": 0.3},
                    "integer": {"dictionary": "odd-integers", "probability": 0.3},
                },
            },
            "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")},
        }
    )


APP = create_app()
#: Examples the spec declares and generated inputs: every operation, every identity.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=_config(["examples", "fuzzing"], MAX_EXAMPLES))
#: The coverage phase (boundary and invalid values of every parameter, deterministic): every
#: operation once, as the identity that gets furthest past its permission (:func:`_representative`).
coverage_schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=_config(["coverage"], MAX_EXAMPLES))


def _permissions() -> dict[tuple[str, str], Permission]:
    """(method, path) of every API operation -> the permission its route declares."""
    out: dict[tuple[str, str], Permission] = {}
    for context in iter_route_contexts(APP.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        stack = list(context.dependant.dependencies)
        while stack:
            dep = stack.pop()
            if isinstance(dep.call, Permission):
                for method in context.methods or ():
                    out[(method, context.path)] = dep.call
            stack.extend(dep.dependencies)
    return out


_PERMISSIONS = _permissions()


def _passes(permission: Permission, who: str | None) -> bool:
    if permission.roles is None:
        return True
    if who is None:
        return False
    return permission.roles == ("*",) or ROLES[who] in permission.roles


def _representative(method: str, path: str) -> str | None:
    """The first identity (in :data:`ROLES` order: the provincial authority, then an agency's staff
    and admin...) that the operation's permission lets through."""
    permission = _PERMISSIONS[(method.upper(), path)]
    return next(who for who in IDENTITIES if _passes(permission, who))


_shared: dict[str, dict[str, str]] = {}


@pytest.fixture
def _clean_database():  # type: ignore[no-untyped-def]
    """Overrides the per-test wipe for this module: the operations share one world (below), built
    once. Wiping and rebuilding it for each of hundreds of operation/identity pairs would cost more
    than the fuzzing."""
    yield


def _works(secret: str) -> bool:
    with transaction() as s:
        try:
            registry_service.authenticate_secret(s, secret)
            return True
        except DomainError:
            return False


def _build_world() -> dict[str, str]:
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
        with transaction() as s:
            tokens = dict(World.build(s).tokens)
            _client, tokens["client"] = registry_service.add_client(s, "js-gat", "fuzz", by=OPERATOR)
            common = dict(
                share_type="unconditional",
                provision_method="gateway_api",
                update_cycle="daily",
                format="database",
                open_to_public=True,
            )
            published = catalog_service.create_resource(
                s,
                ResourceCreate(
                    provider="js-gat",
                    classification="departmental",
                    name="机动车登记信息",
                    abstract="机动车登记的基本信息。",
                    data_items=[{"name": "号牌号码"}],
                    **common,
                ),
                by=OPERATOR,
            )
            catalog_service.submit(s, published.id, by=OPERATOR)
            catalog_service.publish(s, published.id, by=OPERATOR)
            catalog_service.create_resource(
                s,
                ResourceCreate(
                    provider="sz-sj",
                    classification="departmental",
                    name="个体工商户登记信息",
                    abstract="个体工商户的登记信息。",
                    **common,
                ),
                by=OPERATOR,
            )
            catalog_service.file_demand(
                s,
                DemandCreate(
                    requester="sz-sj",
                    title="需要驾驶证信息",
                    description="办理从业资格审核时核验驾驶证。",
                    duty="道路运输从业资格审核",
                    legal_basis="《道路运输从业人员管理规定》",
                ),
                by=OPERATOR,
            )
            guide_service.create_service(
                s,
                ServiceCreate(
                    name="机动车登记查询",
                    sector="transport",
                    agency="js-gat",
                    description="查询机动车登记信息。",
                    link_url="https://www.jszwfw.gov.cn/",
                    channels=[{"channel": "web"}],
                    resources=[str(published.id)],
                ),
                by=OPERATOR,
            )
    finally:
        security.set_password_hasher(None)
    clock.set_now(None)
    return tokens


@pytest.fixture
def tokens(_migrated):  # type: ignore[no-untyped-def]
    """The world's secrets by identity. Built once (on a wiped database) and rebuilt when a secret
    stopped working: another module's test wiped the database in between (xdist), or a fuzzed call
    revoked a client or deactivated a person (which is fine: that is what those operations do)."""
    current = _shared.get("tokens")
    if current is None or not all(_works(secret) for secret in current.values()):
        current = _shared["tokens"] = _build_world()
    clock.set_now(None)
    return current


def _headers(tokens: dict[str, str], who: str | None) -> dict[str, str]:
    if who is None:
        return {}
    if who == "client":
        return {"X-API-Key": tokens[who]}
    return {"Authorization": f"Bearer {tokens[who]}"}


def _id(who: str | None) -> str:
    return who or "anonymous"


def _check(case, tokens: dict[str, str], whom: tuple[str | None, ...]) -> None:  # type: ignore[no-untyped-def]
    for who in whom:
        try:
            case.call_and_validate(headers=_headers(tokens, who), checks=CHECKS)
        except BaseException as exc:
            exc.add_note(f"called as {_id(who)}")
            raise


def _callers(case) -> tuple[str | None, ...]:  # type: ignore[no-untyped-def]
    """Every identity the operation lets through, and one it refuses (chosen by the request's
    content, so a replay of the same request calls as the same identities)."""
    permission = _PERMISSIONS[(case.operation.method.upper(), case.operation.path)]
    allowed = tuple(who for who in IDENTITIES if _passes(permission, who))
    refused = [who for who in IDENTITIES if not _passes(permission, who)]
    if refused:
        key = repr((case.path_parameters, case.query, case.body)).encode("utf-8", "replace")
        allowed += (refused[zlib.crc32(key) % len(refused)],)
    return allowed


_SETTINGS = hypothesis.settings(
    # Generous: the machine is shared; a slow call is reported, not a flaky failure.
    deadline=10_000,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


@pytest.mark.skipif(RANDOM, reason="GOVSHARE_FUZZ=random runs the randomised fuzz only")
@schema.parametrize()
@hypothesis.settings(_SETTINGS, max_examples=MAX_EXAMPLES)
def test_no_server_error(case, tokens):  # type: ignore[no-untyped-def]
    _check(case, tokens, _callers(case))


@pytest.mark.skipif(RANDOM, reason="GOVSHARE_FUZZ=random runs the randomised fuzz only")
@coverage_schema.parametrize()
@_SETTINGS
def test_coverage_no_server_error(case, tokens):  # type: ignore[no-untyped-def]
    _check(case, tokens, (_representative(case.operation.method, case.operation.path),))


# --- The randomised run (make fuzz) ---------------------------------------------------------------


def _random_test(operation, seed: int) -> Callable[[], None]:  # type: ignore[no-untyped-def]
    strategy = st.one_of(operation.as_strategy(generation_mode=mode) for mode in schema.config.generation.modes)

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=RANDOM_ROUND_EXAMPLES,
        deadline=10_000,
        database=None,
        derandomize=False,
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(case=strategy)
    def run(case):  # type: ignore[no-untyped-def]
        _check(case, _shared["tokens"], _callers(case))

    return run


@pytest.mark.skipif(not RANDOM, reason="the randomised fuzz runs with GOVSHARE_FUZZ=random (make fuzz)")
def test_random_fuzz(tokens) -> None:  # type: ignore[no-untyped-def]
    master = int(os.environ.get("GOVSHARE_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nrandomised fuzz: seed {master} (replay with GOVSHARE_FUZZ_SEED={master}), budget {BUDGET_SECONDS:g} s")
    rng = random.Random(master)
    operations = [result.ok() for result in schema.get_all_operations()]
    stop = time.monotonic() + BUDGET_SECONDS
    rounds = runs = 0
    while time.monotonic() < stop:
        rng.shuffle(operations)
        for op in operations:
            if time.monotonic() >= stop:
                break
            if not all(_works(secret) for secret in _shared["tokens"].values()):  # revoked by a fuzzed call
                _shared["tokens"] = _build_world()
            try:
                _random_test(op, rng.randrange(2**32))()
            except BaseException as exc:
                exc.add_note(
                    f"randomised fuzz: {op.method.upper()} {op.path}; replay the run with GOVSHARE_FUZZ_SEED={master}"
                )
                raise
            runs += 1
        rounds += 1
    print(
        f"randomised fuzz: {runs} operation runs of up to {RANDOM_ROUND_EXAMPLES} requests (each as every "
        f"permitted identity) in {rounds} round(s), no failure"
    )
    assert runs > 0
