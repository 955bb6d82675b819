"""Credentials end when they should (OWASP ASVS 3.3, Art 31): a password change ends the person's other
sessions and revokes their tokens; a reset or a deactivation ends all of them, for good; tokens
expire; a person lists and revokes their own tokens (API and command line). Every issue and
revocation is an event, and the events count what ended."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from govshare.core import clock
from govshare.core.auth import CSRF_HEADER, OPERATOR, SESSION_COOKIE
from govshare.core.config import reset_settings
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.registry import service
from govshare.registry.models import ApiToken, WebSession
from tests.factories import PASSWORD, bearer
from tests.registry.test_registry_people_cli import cli, stored_anywhere

NEW = "Another-pass-2026"


def _sign_in(username: str, password: str = PASSWORD) -> tuple[str, str]:
    """A portal session opened through the service: (cookie secret, csrf token)."""
    with transaction() as s:
        _person, secret, csrf = service.login(s, username, password, address="198.51.100.1")
    return secret, csrf


def _session_works(client, cookie: str) -> bool:  # type: ignore[no-untyped-def]
    client.cookies.set(SESSION_COOKIE, cookie)
    try:
        return client.get("/api/v1/me").status_code == 200
    finally:
        client.cookies.clear()


def _me(client, token: str):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/me", headers=bearer(token))


def _token(username: str, name: str = "extra") -> str:
    with transaction() as s:
        return service.issue_token(s, username, name=name, by=OPERATOR)[1]


def _last_event(action: str, subject: str) -> Event:
    with transaction() as s:
        return s.scalars(
            select(Event).where(Event.action == action, Event.subject_id == subject).order_by(Event.seq.desc())
        ).first()


# --- Changing, resetting, deactivating ----------------------------------------------------------


def test_changing_ones_password_keeps_this_session_and_ends_the_others(client, world):
    here, csrf = _sign_in("gat_admin")
    elsewhere, _ = _sign_in("gat_admin")
    colleague, _ = _sign_in("gat_staff")
    second = _token("gat_admin")
    assert _session_works(client, here) and _session_works(client, elsewhere)

    client.cookies.set(SESSION_COOKIE, here)
    r = client.post(
        "/api/v1/me/password", headers={CSRF_HEADER: csrf}, json={"current_password": PASSWORD, "new_password": NEW}
    )
    client.cookies.clear()
    assert r.status_code == 204, r.text

    assert _session_works(client, here)  # the session it was changed from
    assert not _session_works(client, elsewhere)
    for token in (world.tokens["gat_admin"], second):
        r = _me(client, token)
        assert r.status_code == 401 and r.json()["code"] == "auth.invalid_token"
    # someone else's credentials are untouched
    assert _session_works(client, colleague) and _me(client, world.tokens["gat_staff"]).status_code == 200
    event = _last_event("registry.person.password_set", "gat_admin")
    assert event.actor_name == "gat_admin"
    assert event.data == {"by": "self", "sessions_ended": 1, "tokens_revoked": 2}


def test_changing_it_with_a_token_revokes_that_token_too(client, world):
    browser_session, _ = _sign_in("gat_staff")
    r = client.post(
        "/api/v1/me/password", headers=world.h("gat_staff"), json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert r.status_code == 204, r.text
    assert _me(client, world.tokens["gat_staff"]).status_code == 401
    assert not _session_works(client, browser_session)  # no session was the current one
    assert _last_event("registry.person.password_set", "gat_staff").data == {
        "by": "self",
        "sessions_ended": 1,
        "tokens_revoked": 1,
    }


def test_a_reset_by_a_manager_ends_every_session_and_token(client, world):
    one, _ = _sign_in("gat_staff")
    two, _ = _sign_in("gat_staff")
    extra = _token("gat_staff")
    with transaction() as s:  # an already revoked token is not counted again
        service.revoke_token(s, s.scalar(select(ApiToken.id).where(ApiToken.name == "extra")), by=OPERATOR)
    r = client.post("/api/v1/people/gat_staff/password", headers=world.h("gat_admin"), json={"password": NEW})
    assert r.status_code == 204, r.text
    assert not _session_works(client, one) and not _session_works(client, two)
    assert _me(client, world.tokens["gat_staff"]).status_code == 401 and _me(client, extra).status_code == 401
    event = _last_event("registry.person.password_set", "gat_staff")
    assert event.actor_name == "gat_admin"
    assert event.data == {"by": "reset", "sessions_ended": 2, "tokens_revoked": 1}
    with transaction() as s:
        person_id = service.get_person(s, "gat_staff").id
        assert s.scalar(select(WebSession.id).where(WebSession.person_id == person_id)) is None
    # the manager's own credentials are untouched
    assert _me(client, world.tokens["gat_admin"]).status_code == 200


def test_the_operator_setting_a_password_is_a_reset_too(client, world):
    session_cookie, _ = _sign_in("gat_staff")
    result = cli("users", "add", "gat_staff", "--role", "agency_staff", "--agency", "js-gat", "--password", NEW)
    assert result.exit_code == 0, result.output
    assert not _session_works(client, session_cookie) and _me(client, world.tokens["gat_staff"]).status_code == 401
    assert _last_event("registry.person.password_set", "gat_staff").data == {
        "by": "reset",
        "sessions_ended": 1,
        "tokens_revoked": 1,
    }


def test_deactivation_ends_sessions_and_tokens_for_good(client, world):
    session_cookie, _ = _sign_in("gat_staff")
    r = client.post("/api/v1/people/gat_staff/deactivate", headers=world.h("gat_admin"))
    assert r.status_code == 200, r.text
    assert _last_event("registry.person.deactivated", "gat_staff").data == {
        "active": False,
        "sessions_ended": 1,
        "tokens_revoked": 1,
    }
    r = client.post("/api/v1/people/gat_staff/reactivate", headers=world.h("gat_admin"))
    assert r.status_code == 200 and r.json()["active"] is True
    # nothing comes back: the deactivation did not merely hide them
    assert not _session_works(client, session_cookie)
    assert _me(client, world.tokens["gat_staff"]).status_code == 401
    with transaction() as s:
        person_id = service.get_person(s, "gat_staff").id
        assert s.scalar(select(WebSession.id).where(WebSession.person_id == person_id)) is None
        revoked = s.scalars(select(ApiToken.revoked_at).where(ApiToken.person_id == person_id)).all()
        assert len(revoked) == 1 and revoked[0] is not None
    # new credentials work
    fresh, _ = _sign_in("gat_staff")
    assert _session_works(client, fresh)


# --- Token expiry -------------------------------------------------------------------------------


def test_tokens_expire_after_the_configured_days(client, world, monkeypatch):
    monkeypatch.setenv("GOVSHARE_TOKEN_TTL_DAYS", "7")
    reset_settings()
    try:
        start = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)
        with clock.frozen(start):
            token = _token("gat_staff", "week")
        with transaction() as s:
            row = s.scalars(select(ApiToken).where(ApiToken.name == "week")).one()
            assert row.expires_at == start + dt.timedelta(days=7)
            assert row.token_hint == token[:8] and row.token_hint.startswith("gsp_")
        with clock.frozen(start + dt.timedelta(days=7) - dt.timedelta(seconds=1)):
            assert _me(client, token).status_code == 200
        with clock.frozen(start + dt.timedelta(days=7)):
            r = _me(client, token)
            assert r.status_code == 401 and r.json()["code"] == "auth.token_expired"
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.headers["content-type"].startswith("application/problem+json")
            assert (
                client.get("/api/v1/me", headers={**bearer(token), "Accept-Language": "en"}).json()["title"]
                == "The access token has expired"
            )
    finally:
        monkeypatch.delenv("GOVSHARE_TOKEN_TTL_DAYS")
        reset_settings()


def test_the_default_lifetime_is_90_days(client, world):
    token = _token("gat_staff", "default")
    with transaction() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.name == "default")).one()
        assert row.expires_at - row.created_at == dt.timedelta(days=90)
    with clock.frozen(row.expires_at + dt.timedelta(seconds=1)):
        assert _me(client, token).json()["code"] == "auth.token_expired"


# --- My tokens over the API ---------------------------------------------------------------------


def test_a_person_lists_issues_and_revokes_their_own_tokens(client, world):
    h = world.h("gat_admin")
    r = client.post("/api/v1/me/tokens", headers=h, params={"name": "笔记本"})
    assert r.status_code == 201, r.text
    issued = r.json()
    token = issued["token"]
    assert issued["name"] == "笔记本" and issued["state"] == "active" and issued["hint"] == token[:8]
    assert stored_anywhere(token) == [] and stored_anywhere(token[8:]) == []
    assert _me(client, token).json()["username"] == "gat_admin"

    listed = client.get("/api/v1/me/tokens", headers=h)
    assert listed.status_code == 200
    rows = listed.json()
    assert [t["name"] for t in rows] == ["笔记本", "cli"]  # newest first, one's own only
    assert all("token" not in t for t in rows) and token not in listed.text
    assert set(rows[0]) == {"id", "name", "hint", "created_at", "expires_at", "revoked_at", "state"}

    # someone else's token id is not found, and stays valid
    other_id = client.get("/api/v1/me/tokens", headers=world.h("gat_staff")).json()[0]["id"]
    r = client.delete(f"/api/v1/me/tokens/{other_id}", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "registry.token.not_found"
    assert _me(client, world.tokens["gat_staff"]).status_code == 200
    assert client.delete("/api/v1/me/tokens/999999", headers=h).status_code == 404

    r = client.delete(f"/api/v1/me/tokens/{issued['id']}", headers=h)
    assert r.status_code == 204, r.text
    assert _me(client, token).status_code == 401
    assert client.delete(f"/api/v1/me/tokens/{issued['id']}", headers=h).status_code == 204  # again: no change
    rows = client.get("/api/v1/me/tokens", headers=h).json()
    assert rows[0]["state"] == "revoked" and rows[0]["revoked_at"] is not None and rows[1]["state"] == "active"
    with transaction() as s:
        actions = s.execute(
            select(Event.action, Event.actor_name, Event.data)
            .where(Event.subject_id == "gat_admin", Event.action.like("registry.token.%"))
            .order_by(Event.seq)
        ).all()
    assert [(a, n) for a, n, _ in actions] == [
        ("registry.token.issued", "system"),  # the world's, by the operator
        ("registry.token.issued", "gat_admin"),
        ("registry.token.revoked", "gat_admin"),
    ]
    assert actions[1][2]["hint"] == token[:8] and token not in str(actions[1][2])
    assert actions[2][2] == {"token_id": issued["id"], "name": "笔记本"}


def test_expired_tokens_are_listed_as_expired(client, world):
    h = world.h("gat_admin")
    with transaction() as s:
        expires = s.scalars(select(ApiToken.expires_at)).first()
    fresh = client.get("/api/v1/me/tokens", headers=h).json()
    assert [t["state"] for t in fresh] == ["active"]
    with clock.frozen(expires + dt.timedelta(days=1)):
        later = _token("gat_admin", "later")
        rows = client.get("/api/v1/me/tokens", headers=bearer(later)).json()
    assert [(t["name"], t["state"]) for t in rows] == [("later", "active"), ("cli", "expired")]


def test_machine_clients_have_no_personal_tokens(client, world):
    with transaction() as s:
        _client, key = service.add_client(s, "js-gat", "系统", by=OPERATOR)
    for method, url in (("GET", "/api/v1/me/tokens"), ("POST", "/api/v1/me/tokens"), ("DELETE", "/api/v1/me/tokens/1")):
        r = client.request(method, url, headers={"X-API-Key": key})
        assert r.status_code == 403 and r.json()["code"] == "auth.person_only", (method, r.text)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_usable_name(client, world, name):
    r = client.post("/api/v1/me/tokens", headers=world.h("gat_admin"), params={"name": name})
    assert r.status_code == 422 and "name" in r.text


# --- From the command line ----------------------------------------------------------------------


def test_tokens_list_and_revoke_commands(client, world):
    token = _token("gat_staff", "脚本")
    listing = cli("tokens", "list", "gat_staff")
    assert listing.exit_code == 0, listing.output
    assert "脚本" in listing.stdout and token[:8] in listing.stdout and token not in listing.stdout
    assert "active" in listing.stdout
    with transaction() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.name == "脚本"))
    result = cli("tokens", "revoke", str(token_id))
    assert result.exit_code == 0 and f"revoked token {token_id}" in result.stdout
    assert _me(client, token).status_code == 401
    assert "revoked" in cli("tokens", "list", "gat_staff").stdout
    assert _last_event("registry.token.revoked", "gat_staff").actor_name == "system"
    missing = cli("tokens", "revoke", "999999")
    assert missing.exit_code != 0 and getattr(missing.exception, "code", None) == "registry.token.not_found"
    unknown = cli("tokens", "list", "nobody")
    assert unknown.exit_code != 0 and getattr(unknown.exception, "code", None) == "registry.person.not_found"
