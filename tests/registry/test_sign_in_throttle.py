"""Sign-in throttling that does not lock out the owner (Art 31, OWASP ASVS 2.2.1).

Failures count per client address and per (account, address), over a window, with waits that
double after the free failures up to a cap. Failures for an account from other addresses never stop
its owner; an attacker's address is slowed and then blocked; spraying one password over many names
from one address is limited. The client address is the connection's, and ``X-Forwarded-For`` is
believed only from the proxies named in ``GOVSHARE_TRUSTED_PROXIES``. Time is frozen and advanced
with ``core.clock``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govshare.cli import SERVER_OPTIONS
from govshare.core import clock
from govshare.core.config import get_settings, reset_settings
from govshare.core.db import transaction
from govshare.core.errors import TooManyRequests, Unauthenticated
from govshare.core.events import Event
from govshare.registry import rules, service
from govshare.registry.models import LoginFailure
from tests.factories import PASSWORD
from tests.live_server import serve

T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)
ATTACKER, OWNER, OTHER = "203.0.113.7", "198.51.100.20", "192.0.2.33"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    clock.set_now(T0)
    yield
    clock.set_now(None)


def _advance(seconds: float) -> None:
    clock.set_now(clock.now() + dt.timedelta(seconds=seconds))


def attempt(username: str, password: str, address: str) -> str:
    """One sign-in as the login page makes it: ``ok``, ``wrong`` (recorded) or ``wait:N``."""
    try:
        with transaction() as s:
            service.login(s, username, password, address=address)
    except TooManyRequests as exc:
        assert exc.article == "Art 31" and exc.code == "auth.throttled"
        return f"wait:{exc.extra['retry_after_seconds']}"
    except Unauthenticated:
        with transaction() as s:
            service.record_login_failure(s, username, address)
        return "wrong"
    return "ok"


def wait(username: str, address: str) -> int:
    with transaction() as s:
        return service.sign_in_wait(s, username, address)


# --- The rule -----------------------------------------------------------------------------------


def test_the_delay_doubles_after_the_free_failures_up_to_the_cap():
    delays = [rules.throttle_delay(n, free=5, base_seconds=30, max_seconds=900) for n in range(13)]
    assert delays == [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]
    assert rules.throttle_delay(10**6, free=5, base_seconds=30, max_seconds=900) == 900


def test_the_defaults():
    s = get_settings()
    assert (s.login_max_failures, s.login_address_max_failures, s.login_window_seconds) == (5, 20, 3600)
    assert (s.login_delay_base_seconds, s.login_delay_max_seconds, s.trusted_proxies) == (30, 900, "")


# --- One account, guessed from one address ------------------------------------------------------


def test_failures_elsewhere_do_not_lock_out_the_owner(world):
    for _ in range(get_settings().login_max_failures):
        assert attempt("gat_admin", "guess-guess", ATTACKER) == "wrong"
    # the attacker's address now waits, even with the right password (which it does not learn)
    assert attempt("gat_admin", PASSWORD, ATTACKER) == "wait:30"
    # the owner, from an address with no failures for the account, signs in
    assert attempt("gat_admin", PASSWORD, OWNER) == "ok"
    assert wait("gat_admin", OWNER) == 0
    # the refused attempt was not recorded: five failures, all from the attacker
    with transaction() as s:
        rows = s.execute(select(LoginFailure.username, LoginFailure.address)).all()
    assert rows == [("gat_admin", ATTACKER)] * 5


def test_the_attackers_waits_grow_and_then_block_it(world):
    for _ in range(5):
        attempt("gat_admin", "guess-guess", ATTACKER)
    seen = []
    for _ in range(7):
        seen.append(wait("gat_admin", ATTACKER))
        _advance(seen[-1] - 1)
        assert attempt("gat_admin", "guess-guess", ATTACKER).startswith("wait:")  # one second early
        _advance(1)
        assert attempt("gat_admin", "guess-guess", ATTACKER) == "wrong"  # on time: one more try
    assert seen == [30, 60, 120, 240, 480, 900, 900]
    # the owner is never held back meanwhile
    assert attempt("gat_admin", PASSWORD, OWNER) == "ok"


def test_an_attacker_retrying_as_soon_as_allowed_gets_a_few_tries_an_hour(world):
    """Over six hours against one account from one address: 12 guesses in the first hour, then about 8
    an hour (with the defaults), while the owner signs in whenever they like."""
    start, tries = clock.now(), []
    while clock.now() < start + dt.timedelta(hours=6):
        _advance(wait("gat_admin", ATTACKER))
        assert attempt("gat_admin", "guess-guess", ATTACKER) == "wrong"
        tries.append(clock.now())
        if len(tries) % 10 == 0:
            assert attempt("gat_admin", PASSWORD, OWNER) == "ok"
    per_hour = [
        sum(start + dt.timedelta(hours=h) <= t < start + dt.timedelta(hours=h + 1) for t in tries) for h in range(6)
    ]
    assert per_hour[0] == 12 and max(per_hour[1:]) <= 10, per_hour


def test_a_wait_reports_the_seconds_left(world):
    for _ in range(5):
        attempt("gat_admin", "guess-guess", ATTACKER)
    _advance(12.5)
    assert wait("gat_admin", ATTACKER) == 18  # 17.5 left, rounded up
    assert attempt("gat_admin", PASSWORD, ATTACKER) == "wait:18"


def test_failures_leave_the_window(world):
    for _ in range(5):
        attempt("gat_admin", "guess-guess", ATTACKER)
    assert wait("gat_admin", ATTACKER) == 30
    _advance(get_settings().login_window_seconds + 1)
    assert wait("gat_admin", ATTACKER) == 0
    assert attempt("gat_admin", PASSWORD, ATTACKER) == "ok"


def test_rows_without_an_address_are_ignored(world):
    """Failures recorded before addresses were kept do not count for any address."""
    with transaction() as s:
        s.add_all([LoginFailure(username="gat_admin", address=None, at=clock.now()) for _ in range(30)])
    assert wait("gat_admin", ATTACKER) == 0 and wait("gat_admin", "unknown") == 0
    assert attempt("gat_admin", PASSWORD, ATTACKER) == "ok"


# --- Spraying many names from one address -------------------------------------------------------


def test_spraying_many_names_from_one_address_is_limited(world):
    free = get_settings().login_address_max_failures
    for i in range(free):
        assert attempt(f"name{i}", "Summer2026!", ATTACKER) == "wrong"  # one try per name
    # the address waits now for every name, existing or not, right password or not
    assert attempt("name-new", "Summer2026!", ATTACKER) == "wait:30"
    assert attempt("gat_staff", PASSWORD, ATTACKER) == "wait:30"
    # other addresses are not affected
    assert attempt("gat_staff", PASSWORD, OTHER) == "ok"
    _advance(30)
    assert attempt("name-new", "Summer2026!", ATTACKER) == "wrong"
    assert wait("anyone", ATTACKER) == 60


def test_no_failures_no_wait(world):
    assert [attempt("gat_admin", PASSWORD, ATTACKER) for _ in range(30)] == ["ok"] * 30


# --- A wrong current password counts as a failure -----------------------------------------------


def _api_client(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, client=(address, 50000))


def test_a_wrong_current_password_is_throttled_like_a_sign_in(app, world):
    c = _api_client(app, ATTACKER)
    h = world.h("gat_staff")
    for _ in range(get_settings().login_max_failures):
        r = c.post("/api/v1/me/password", headers=h, json={"current_password": "guess-guess", "new_password": "x" * 9})
        assert r.status_code == 422 and r.json()["code"] == "registry.person.password_wrong"
    r = c.post(
        "/api/v1/me/password",
        headers={**h, "Accept-Language": "en"},
        json={"current_password": PASSWORD, "new_password": "Another-pass-2026"},
    )
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == "30"
    body = r.json()
    assert body["code"] == "auth.throttled" and body["article"] == "Art 31" and body["retry_after_seconds"] == 30
    assert body["title"] == "Too many failed sign-ins; try again later" and body["field"] == "current_password"
    zh = c.post("/api/v1/me/password", headers=h, json={"current_password": PASSWORD, "new_password": "Another-1x"})
    assert zh.json()["title"] == "登录失败次数过多，请稍后再试"
    # the same count throttles signing in to that account from that address...
    assert attempt("gat_staff", PASSWORD, ATTACKER) == "wait:30"
    # ...but not from elsewhere, and the password was not changed
    assert attempt("gat_staff", PASSWORD, OWNER) == "ok"
    with transaction() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(LoginFailure)
                .where(LoginFailure.username == "gat_staff", LoginFailure.address == ATTACKER)
            )
            == 5
        )
        actions = s.scalars(select(Event.action).where(Event.action == "auth.password_check_failed")).all()
    assert len(actions) == 5


# --- Whose address: the connection's, unless a trusted proxy says otherwise ---------------------


def _failed_sign_in_address(app, peer: str, headers: dict[str, str] | None = None) -> str:  # type: ignore[no-untyped-def]
    """Fail one sign-in through the login page from ``peer``; the address it was recorded under."""
    import re

    c = TestClient(app, client=(peer, 50000), headers={"accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post(
        "/login", data={"username": "gat_admin", "password": "guess-guess", "csrf_token": token}, headers=headers or {}
    )
    assert r.status_code == 401
    with transaction() as s:
        address = s.scalars(select(LoginFailure.address).order_by(LoginFailure.id.desc())).first()
        s.execute(LoginFailure.__table__.delete())
    return address


@contextmanager
def _trusting(proxies: str) -> Iterator[None]:
    import os

    os.environ["GOVSHARE_TRUSTED_PROXIES"] = proxies
    reset_settings()
    try:
        yield
    finally:
        del os.environ["GOVSHARE_TRUSTED_PROXIES"]
        reset_settings()


def test_forwarded_for_is_ignored_without_trusted_proxies(app, world):
    assert _failed_sign_in_address(app, ATTACKER) == ATTACKER
    # a client cannot name its own address, even connecting from the loopback
    assert _failed_sign_in_address(app, ATTACKER, {"X-Forwarded-For": "10.9.8.7"}) == ATTACKER
    assert _failed_sign_in_address(app, "127.0.0.1", {"X-Forwarded-For": "10.9.8.7"}) == "127.0.0.1"


def test_forwarded_for_is_believed_from_trusted_proxies_only(world):
    from govshare.app import create_app

    with _trusting("10.0.0.0/8, 127.0.0.1"):
        app = create_app()
        # through the proxy: the client it reports
        assert _failed_sign_in_address(app, "10.1.2.3", {"X-Forwarded-For": OWNER}) == OWNER
        # the client's own forged entry is left of what the proxy appended: the right-most untrusted wins
        assert _failed_sign_in_address(app, "10.1.2.3", {"X-Forwarded-For": f"192.0.2.99, {OWNER}"}) == OWNER
        # two trusted hops
        assert _failed_sign_in_address(app, "127.0.0.1", {"X-Forwarded-For": f"{OWNER}, 10.4.4.4"}) == OWNER
        # not through a trusted proxy: the header is ignored
        assert _failed_sign_in_address(app, ATTACKER, {"X-Forwarded-For": OWNER}) == ATTACKER


def test_a_bad_proxy_setting_is_refused():
    import os

    os.environ["GOVSHARE_TRUSTED_PROXIES"] = "10.0.0.0/8, proxy.example"
    reset_settings()
    try:
        with pytest.raises(ValueError, match="proxy.example"):
            get_settings()
    finally:
        del os.environ["GOVSHARE_TRUSTED_PROXIES"]
        reset_settings()


def _address_over_a_socket(server_options: dict[str, object]) -> str:
    """Fail a sign-in over real HTTP from 127.0.0.1 with a forged X-Forwarded-For; the recorded address."""
    from govshare.app import create_app

    with serve(create_app(), **server_options) as url, httpx.Client(base_url=url) as c:
        page = c.get("/login")
        import re

        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = c.post(
            "/login",
            data={"username": "gat_admin", "password": "guess-guess", "csrf_token": token},
            headers={"X-Forwarded-For": "10.9.8.7"},
        )
        assert r.status_code == 401
    with transaction() as s:
        address = s.scalars(select(LoginFailure.address).order_by(LoginFailure.id.desc())).first()
        s.execute(LoginFailure.__table__.delete())
    return address


def test_govshare_serve_does_not_let_uvicorn_believe_forwarded_for(world):
    """``govshare serve`` runs uvicorn with SERVER_OPTIONS. Control: with uvicorn's defaults
    (proxy headers on, 127.0.0.1 trusted) the same forged header from the loopback would decide."""
    assert _address_over_a_socket(SERVER_OPTIONS) == "127.0.0.1"
    assert _address_over_a_socket({}) == "10.9.8.7"
