"""People, roles, personal tokens and machine clients, from the command line and over the API.

Secrets (tokens, API keys) are shown once and stored only as digests: every test that issues one
scans every column of every table for the plaintext.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from govshare.cli import app as cli_app
from govshare.core import security
from govshare.core.db import Base, transaction
from govshare.core.errors import InvalidInput
from govshare.core.events import Event
from govshare.models import import_all_models
from govshare.registry.models import ApiClient, Person, RoleGrant
from tests.factories import bearer

runner = CliRunner()


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli_app, list(args))


def stored_anywhere(secret: str) -> list[str]:
    """Every ``table.column`` whose stored value contains ``secret`` (any table, any row)."""
    import_all_models()
    hits = []
    with transaction() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        text = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    if secret in text:
                        hits.append(f"{table.name}.{column}")
    return hits


def count(col, *where) -> int:  # type: ignore[no-untyped-def]
    with transaction() as s:
        return s.scalar(select(func.count(col)).where(*where)) or 0


# --- govshare users add -----------------------------------------------------------------------------


def test_users_add_with_an_agency_role(world):
    result = cli(
        "users",
        "add",
        "gat_clerk",
        "--role",
        "agency_staff",
        "--agency",
        "js-gat",
        "--password",
        "s3cret-pass",
        "--display-name",
        "张三",
    )
    assert result.exit_code == 0, result.output
    assert "added gat_clerk as agency_staff" in result.stdout
    with transaction() as s:
        person = s.scalars(select(Person).where(Person.username == "gat_clerk")).one()
        assert person.display_name == "张三"
        assert person.password_hash is not None and person.password_hash.startswith("$argon2id$")
        assert security.verify_password(person.password_hash, "s3cret-pass")
        grants = s.scalars(select(RoleGrant).where(RoleGrant.person_id == person.id)).all()
        assert [(g.role, g.region_code) for g in grants] == [("agency_staff", None)]
    assert stored_anywhere("s3cret-pass") == []

    # Again for the same name: adds a role instead of a second person.
    result = cli("users", "add", "gat_clerk", "--role", "supervisor", "--region", "320500")
    assert result.exit_code == 0, result.output
    assert "granted supervisor to gat_clerk" in result.stdout
    assert count(Person.id, Person.username == "gat_clerk") == 1
    listing = cli("users", "list")
    assert "gat_clerk" in listing.stdout and "supervisor@320500" in listing.stdout
    assert "agency_staff@js-gat" in listing.stdout


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--role", "agency_staff"], "registry.grant.agency_required"),
        (["--role", "agency_admin", "--region", "320000"], "registry.grant.agency_required"),
        (["--role", "authority"], "registry.grant.region_required"),
        (["--role", "supervisor", "--agency", "js-gat"], "registry.grant.region_required"),
    ],
)
def test_users_add_without_the_scope_its_role_needs_stores_nothing(world, args, code):
    people, events = count(Person.id), count(Event.seq)
    result = cli("users", "add", "newbie", *args, "--password", "long-enough-1")
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidInput)
    assert result.exception.code == code
    assert count(Person.id) == people and count(Event.seq) == events
    assert count(Person.id, Person.username == "newbie") == 0


def test_users_add_error_is_printed_clearly_by_the_command(world):
    """The installed ``govshare`` command turns the error into a bilingual line and exit code 2."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from govshare.cli import main; main()",
            "users",
            "add",
            "newbie",
            "--role",
            "agency_staff",
        ],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "registry.grant.agency_required" in proc.stderr
    assert "--agency" in proc.stderr and "须指定所属机关" in proc.stderr
    assert count(Person.id, Person.username == "newbie") == 0


def test_users_add_rejects_an_unknown_role_and_a_short_password(world):
    result = cli("users", "add", "newbie", "--role", "king", "--region", "320000")
    assert result.exit_code != 0
    result = cli("users", "add", "newbie", "--role", "authority", "--region", "320000", "--password", "short")
    assert result.exit_code != 0
    assert count(Person.id, Person.username == "newbie") == 0


# --- govshare tokens issue ----------------------------------------------------------------------


def test_tokens_issue_prints_the_token_alone_on_the_last_line(client, world):
    assert cli("users", "add", "op", "--role", "authority", "--region", "320500").exit_code == 0
    result = cli("tokens", "issue", "op")
    assert result.exit_code == 0, result.output
    token = result.stdout.rstrip("\n").splitlines()[-1]
    assert token.startswith(security.PERSON_TOKEN_PREFIX) and token == token.strip() and " " not in token
    assert len(token) > 40

    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "op" and me.json()["kind"] == "person"
    assert me.json()["roles"][0]["role"] == "authority"
    # It acts with the person's scope: Suzhou yes, Nanjing no.
    assert client.patch("/api/v1/agencies/sz-sj", headers=bearer(token), json={"name_en": "SZ AMR"}).status_code == 200
    assert client.patch("/api/v1/agencies/nj-sj", headers=bearer(token), json={"name_en": "NJ"}).status_code == 403

    assert stored_anywhere(token) == []
    assert stored_anywhere(token[len(security.PERSON_TOKEN_PREFIX) :]) == []


def test_tokens_issue_for_an_unknown_person_fails(world):
    result = cli("tokens", "issue", "nobody")
    assert result.exit_code != 0
    assert getattr(result.exception, "code", None) == "registry.person.not_found"


def test_a_deactivated_person_is_refused_and_reactivation_does_not_revive_old_tokens(client, world):
    """The agency admin deactivates a member of staff over the API: their token is revoked at once,
    the change is an event counting it, and reactivating lets them have new credentials but does
    not bring the old token back (OWASP ASVS 3.3)."""
    h = world.h("gat_staff")
    assert client.get("/api/v1/me", headers=h).status_code == 200
    r = client.post("/api/v1/people/gat_staff/deactivate", headers=world.h("gat_admin"))
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    r = client.get("/api/v1/me", headers=h)
    assert r.status_code == 401
    assert r.json()["code"] == "auth.invalid_token"
    assert r.headers["www-authenticate"] == "Bearer"
    # Deactivating again changes nothing and records nothing.
    assert client.post("/api/v1/people/gat_staff/deactivate", headers=world.h("gat_admin")).status_code == 200
    r = client.post("/api/v1/people/gat_staff/reactivate", headers=world.h("province_authority"))
    assert r.status_code == 200 and r.json()["active"] is True
    r = client.get("/api/v1/me", headers=h)
    assert r.status_code == 401 and r.json()["code"] == "auth.invalid_token"  # revoked for good
    token = cli("tokens", "issue", "gat_staff").stdout.rstrip("\n").splitlines()[-1]
    assert client.get("/api/v1/me", headers=bearer(token)).json()["username"] == "gat_staff"
    with transaction() as s:
        evs = s.execute(
            select(Event.action, Event.actor_name, Event.data)
            .where(Event.subject_id == "gat_staff", Event.action.like("registry.person.%activated"))
            .order_by(Event.seq)
        ).all()
    assert [tuple(e) for e in evs] == [
        ("registry.person.deactivated", "gat_admin", {"active": False, "sessions_ended": 0, "tokens_revoked": 1}),
        ("registry.person.reactivated", "prov_auth", {"active": True}),
    ]


@pytest.mark.parametrize(
    ("who", "target", "status", "code"),
    [
        ("suzhou_authority", "gat_staff", 403, "registry.out_of_scope"),  # a provincial agency's staff
        ("szsj_admin", "gat_staff", 403, "registry.out_of_scope"),  # another agency's admin
        ("gat_admin", "province_authority_person", 403, "registry.out_of_scope"),  # an authority's role
        ("gat_staff", "gat_admin", 403, None),  # staff manage nobody
        ("gat_admin", "gat_admin", 409, "registry.person.self_deactivation"),
        ("province_authority", "nobody", 404, "registry.person.not_found"),
    ],
)
def test_deactivation_is_scoped(client, world, who, target, status, code):
    target = "prov_auth" if target == "province_authority_person" else target
    r = client.post(f"/api/v1/people/{target}/deactivate", headers=world.h(who))
    assert r.status_code == status, r.text
    if code:
        assert r.json()["code"] == code
    with transaction() as s:
        assert not s.scalar(select(func.count()).select_from(Person).where(Person.active.is_(False)))


def test_users_deactivate_and_reactivate_commands(client, world):
    result = cli("users", "deactivate", "gat_staff")
    assert result.exit_code == 0, result.output
    assert "deactivated gat_staff" in result.stdout
    listed = cli("users", "list").stdout
    assert any("gat_staff" in line and "deactivated" in line for line in listed.splitlines())
    assert client.get("/api/v1/me", headers=world.h("gat_staff")).status_code == 401
    assert cli("users", "reactivate", "gat_staff").exit_code == 0
    listed = cli("users", "list").stdout
    assert not any("gat_staff" in line and "deactivated" in line for line in listed.splitlines())
    assert client.get("/api/v1/me", headers=world.h("gat_staff")).status_code == 401  # the old token stays revoked
    unknown = cli("users", "deactivate", "nobody")
    assert unknown.exit_code != 0 and getattr(unknown.exception, "code", None) == "registry.person.not_found"


def test_a_person_issues_their_own_token_over_the_api(client, world):
    r = client.post("/api/v1/me/tokens", headers=world.h("gat_admin"), params={"name": "laptop"})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert client.get("/api/v1/me", headers=bearer(token)).json()["username"] == "gat_admin"
    assert stored_anywhere(token) == []


# --- govshare clients add -----------------------------------------------------------------------


def test_clients_add_prints_a_working_key_stored_only_as_a_digest(client, world):
    result = cli("clients", "add", "js-gat", "人口库接口")
    assert result.exit_code == 0, result.output
    key = result.stdout.rstrip("\n").splitlines()[-1]
    assert key.startswith(security.CLIENT_KEY_PREFIX) and " " not in key and len(key) > 40

    for headers in ({"X-API-Key": key}, bearer(key)):
        me = client.get("/api/v1/me", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["kind"] == "client"
        assert me.json()["name"] == "js-gat/人口库接口"
        assert me.json()["roles"] == [{"id": 0, "role": "client", "agency_code": "js-gat", "region_code": None}]

    assert stored_anywhere(key) == []
    assert stored_anywhere(key[len(security.CLIENT_KEY_PREFIX) :]) == []
    with transaction() as s:
        row = s.scalars(select(ApiClient)).one()
        assert row.key_digest == security.digest(key) and row.key_hint == key[:8]

    listing = cli("clients", "list", "js-gat")
    assert "人口库接口" in listing.stdout and key not in listing.stdout

    # A machine client is not a person: it cannot change the registry.
    r = client.patch("/api/v1/agencies/js-gat", headers={"X-API-Key": key}, json={"name_en": "x"})
    assert r.status_code == 403


def test_a_revoked_key_fails_with_401(client, world):
    key = cli("clients", "add", "js-gat", "sys-a").stdout.rstrip("\n").splitlines()[-1]
    key_b = cli("clients", "add", "js-gat", "sys-b").stdout.rstrip("\n").splitlines()[-1]
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200
    with transaction() as s:
        id_a = s.scalar(select(ApiClient.id).where(ApiClient.name == "sys-a"))

    # Revoked from the command line.
    result = cli("clients", "revoke", str(id_a))
    assert result.exit_code == 0, result.output
    for headers in ({"X-API-Key": key}, bearer(key)):
        r = client.get("/api/v1/me", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["code"] == "auth.invalid_token"
    # The other key of the same agency still works; then its admin revokes it over the API.
    assert client.get("/api/v1/me", headers={"X-API-Key": key_b}).status_code == 200
    with transaction() as s:
        id_b = s.scalar(select(ApiClient.id).where(ApiClient.name == "sys-b"))
    r = client.post(f"/api/v1/clients/{id_b}/revoke", headers=world.h("gat_admin"))
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert client.get("/api/v1/me", headers={"X-API-Key": key_b}).status_code == 401
    with transaction() as s:
        actions = s.scalars(select(Event.action).where(Event.subject_type == "api_client").order_by(Event.seq)).all()
    assert actions == [
        "registry.client.created",
        "registry.client.created",
        "registry.client.revoked",
        "registry.client.revoked",
    ]


def test_keys_of_a_deactivated_agency_stop_working(client, world):
    key = cli("clients", "add", "sz-sj", "sys").stdout.rstrip("\n").splitlines()[-1]
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200
    r = client.patch("/api/v1/agencies/sz-sj", headers=world.h("suzhou_authority"), json={"active": False})
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/me", headers={"X-API-Key": key})
    assert r.status_code == 401 and r.json()["code"] == "auth.agency_inactive"


def test_clients_over_the_api_are_scoped(client, world):
    r = client.post("/api/v1/agencies/js-gat/clients", headers=world.h("gat_admin"), json={"name": "sys"})
    assert r.status_code == 201, r.text
    key, client_id = r.json()["api_key"], r.json()["id"]
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200
    assert stored_anywhere(key) == []
    # Same name twice in one agency: 409 naming the field.
    r = client.post("/api/v1/agencies/js-gat/clients", headers=world.h("gat_admin"), json={"name": "sys"})
    assert r.status_code == 409 and r.json()["field"] == "name"
    # Another agency's admin may neither add nor list nor revoke.
    assert (
        client.post("/api/v1/agencies/js-gat/clients", headers=world.h("szsj_admin"), json={"name": "x"}).status_code
        == 403
    )
    assert client.get("/api/v1/agencies/js-gat/clients", headers=world.h("szsj_admin")).status_code == 403
    assert client.post(f"/api/v1/clients/{client_id}/revoke", headers=world.h("szsj_admin")).status_code == 403
    assert client.post("/api/v1/clients/999999/revoke", headers=world.h("gat_admin")).status_code == 404


def test_commands_are_grouped_by_domain_and_the_short_forms_still_answer(world):
    grouped = cli("registry", "users", "list")
    short = cli("users", "list")
    assert grouped.exit_code == 0 and short.exit_code == 0, grouped.output + short.output
    assert "gat_staff" in grouped.output and grouped.output == short.output
    status = cli("supervision", "ledger", "status")
    assert status.exit_code == 0, status.output
    assert cli("ledger", "status").output == status.output
    assert "registry" in cli("--help").output and "supervision" in cli("--help").output
