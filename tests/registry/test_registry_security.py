"""Security (Art 31): authentication answers, password storage, CSRF on cookie-authenticated API
calls. (That every route declares a permission is the portal suite's meta-test.)"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from govshare.core import clock, security
from govshare.core.auth import CSRF_HEADER, SESSION_COOKIE
from govshare.core.config import get_settings
from govshare.core.db import Base, transaction
from govshare.core.errors import Unauthenticated
from govshare.models import import_all_models
from govshare.registry import service
from govshare.registry.models import Person
from tests.factories import PASSWORD


def _unauthenticated(r, code: str = "auth.required") -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["code"] == code, r.json()
    assert r.json()["status"] == 401


WRITES = [
    ("POST", "/api/v1/regions", {"code": "320509", "name": "x", "parent_code": "320500"}),
    (
        "POST",
        "/api/v1/agencies",
        {"code": "x-1", "uscc": "91350100M000100Y43", "name": "测试", "region_code": "320000"},
    ),
    ("PATCH", "/api/v1/agencies/js-gat", {"name_en": "x"}),
    ("POST", "/api/v1/agencies/js-gat/clients", {"name": "x"}),
    ("POST", "/api/v1/clients/1/revoke", None),
    ("POST", "/api/v1/people", {"username": "x1", "display_name": "x", "grants": []}),
    ("POST", "/api/v1/people/gat_staff/grants", {"role": "agency_admin", "agency_code": "js-gat"}),
    ("POST", "/api/v1/me/tokens", None),
]


@pytest.mark.parametrize(("method", "url", "body"), WRITES, ids=[f"{m} {u}" for m, u, _ in WRITES])
def test_unauthenticated_writes_are_401_problems(client, world, method, url, body):
    _unauthenticated(client.request(method, url, json=body))
    # Authentication is checked before the body: a malformed body does not reveal validation.
    if body is not None:
        _unauthenticated(client.request(method, url, json={"nonsense": [1, 2]}))


def test_reads_that_need_a_sign_in_are_401(client, world):
    _unauthenticated(client.get("/api/v1/people"))
    _unauthenticated(client.get("/api/v1/me"))
    assert client.get("/api/v1/agencies").status_code == 200  # the directory is public


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("Basic dXNlcjpwYXNz", "auth.bad_scheme"),
        ("Bearer", "auth.bad_scheme"),
        ("Bearer gsp_not-a-real-token", "auth.invalid_token"),
        ("Bearer gsk_not-a-real-key", "auth.invalid_token"),
        ("Bearer something-else", "auth.invalid_token"),
    ],
)
def test_bad_credentials_are_401_even_on_public_routes(client, world, authorization, code):
    _unauthenticated(client.get("/api/v1/me", headers={"Authorization": authorization}), code)
    # A wrong credential is an error, never a silent downgrade to anonymous.
    _unauthenticated(client.get("/api/v1/agencies", headers={"Authorization": authorization}), code)


def test_passwords_are_stored_as_argon2id_and_nowhere_in_clear(world):
    import_all_models()
    with transaction() as s:
        hashes = s.scalars(select(Person.password_hash)).all()
        assert len(hashes) == 8
        for h in hashes:
            assert h is not None and h.startswith("$argon2id$")
            assert security.verify_password(h, PASSWORD)
            assert not security.verify_password(h, PASSWORD + "x")
        assert len(set(hashes)) == len(hashes)  # salted
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).mappings():
                for column, value in row.items():
                    assert PASSWORD not in str(value), f"{table.name}.{column}"


def test_the_default_hasher_is_argon2id_with_the_rfc_9106_low_memory_profile():
    security.set_password_hasher(None)
    h = security.hash_password("a-password-1")
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert security.verify_password(h, "a-password-1")


def _sign_in(client, username: str) -> str:  # type: ignore[no-untyped-def]
    with transaction() as s:
        _person, secret, csrf = service.login(s, username, PASSWORD, address="testclient")
    client.cookies.set(SESSION_COOKIE, secret)
    return csrf  # type: ignore[no-any-return]


def test_cookie_authenticated_api_writes_need_the_csrf_header(client, world):
    csrf = _sign_in(client, "gat_admin")
    me = client.get("/api/v1/me")  # safe methods need no token
    assert me.status_code == 200 and me.json()["username"] == "gat_admin"

    for headers in ({}, {CSRF_HEADER: "wrong"}, {CSRF_HEADER: ""}):
        r = client.patch("/api/v1/agencies/js-gat", json={"name_en": "CSRF"}, headers=headers)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "auth.csrf_missing"
        assert CSRF_HEADER in r.json()["detail"]
    assert client.get("/api/v1/agencies/js-gat").json()["name_en"] is None

    r = client.patch("/api/v1/agencies/js-gat", json={"name_en": "CSRF"}, headers={CSRF_HEADER: csrf})
    assert r.status_code == 200, r.text
    assert r.json()["name_en"] == "CSRF"


def test_bearer_calls_need_no_csrf_header_even_with_a_cookie(client, world):
    _sign_in(client, "gat_staff")
    r = client.patch("/api/v1/agencies/js-gat", json={"name_en": "x"}, headers=world.h("gat_admin"))
    assert r.status_code == 200, r.text


def test_expired_or_inactive_sessions_are_anonymous(client, world):
    _sign_in(client, "gat_admin")
    assert client.get("/api/v1/me").status_code == 200
    later = clock.now() + dt.timedelta(seconds=get_settings().session_ttl_seconds + 1)
    clock.set_now(later)
    _unauthenticated(client.get("/api/v1/me"))
    clock.set_now(None)
    assert client.get("/api/v1/me").status_code == 200
    with transaction() as s:
        s.execute(update(Person).where(Person.username == "gat_admin").values(active=False))
    _unauthenticated(client.get("/api/v1/me"))


def test_login_refuses_wrong_passwords(world):
    with transaction() as s, pytest.raises(Unauthenticated) as err:
        service.login(s, "gat_admin", "not-the-password", address="testclient")
    assert err.value.code == "auth.bad_credentials"
    with transaction() as s, pytest.raises(Unauthenticated):
        service.login(s, "nobody", PASSWORD, address="testclient")
