"""Granting a role needs the right to grant that role AND to manage the person as they stand (Art 5, 30).

Before, ``POST /api/v1/people/{username}/grants`` checked only the first: a Suzhou agency admin gave
a Nanjing member of staff (and the provincial authority's account) a role in its own agency, after
which their real managers in Nanjing could no longer deactivate them or reset their password.

The matrix below crosses actors (role and scope) with target people (role and scope, and the actor
itself) and the role granted; the expected answer of each cell comes from the small rule table
here, written out by hand, not from the code under test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.registry import service
from govshare.registry.models import Agency, Person, RoleGrant
from govshare.registry.schemas import GrantCreate, PersonCreate
from tests.factories import PASSWORD, agency, bearer, region

#: Who is who: (role, agency code or region code). Province 320000 > Nanjing 320100,
#: Suzhou 320500 > Gusu 320508; js-gat is a provincial agency, nj-sj in Nanjing, sz-sj in Suzhou,
#: gs-sj in Gusu.
ACTORS = {
    "prov_authority": ("authority", "320000"),
    "sz_authority": ("authority", "320500"),
    "szsj_admin": ("agency_admin", "sz-sj"),  # the agency the granted roles are mostly in
    "gat_admin": ("agency_admin", "js-gat"),  # another agency's admin
    "szsj_staff": ("agency_staff", "sz-sj"),
    "supervisor": ("supervisor", "320000"),
    "secrecy": ("secrecy_admin", "320000"),
}
TARGETS = {
    "t_szsj": ("agency_staff", "sz-sj"),  # in sz-sj
    "t_gssj": ("agency_staff", "gs-sj"),  # a county agency below Suzhou
    "t_njsj": ("agency_staff", "nj-sj"),  # Nanjing: outside Suzhou
    "t_gat": ("agency_staff", "js-gat"),  # a provincial agency
    "t_prov": ("authority", "320000"),  # the provincial authority's account
    "t_szsup": ("supervisor", "320500"),  # a region role in Suzhou
    "t_none": None,  # a person without roles
    "self": "self",  # the actor itself
}
GRANTS = {
    "staff@sz-sj": {"role": "agency_staff", "agency_code": "sz-sj"},
    "admin@sz-sj": {"role": "agency_admin", "agency_code": "sz-sj"},
    "supervisor@320500": {"role": "supervisor", "region_code": "320500"},
    "staff@js-gat": {"role": "agency_staff", "agency_code": "js-gat"},
}

# --- The rule table --------------------------------------------------------------------------------

#: Roles that manage nobody: the route itself refuses them.
NOT_MANAGERS = {"szsj_staff", "supervisor", "secrecy"}
#: The new roles each manager may grant: authorities any role within their region and below, agency
#: admins the agency roles of their own agency.
MAY_GRANT = {
    "prov_authority": set(GRANTS),
    "sz_authority": {"staff@sz-sj", "admin@sz-sj", "supervisor@320500"},
    "szsj_admin": {"staff@sz-sj", "admin@sz-sj"},
    "gat_admin": {"staff@js-gat"},
}
#: The people each manager manages: those all of whose roles it could grant; a person without roles
#: only an authority; and itself (it can grant the role it holds).
MANAGES = {
    "prov_authority": set(TARGETS),
    "sz_authority": {"t_szsj", "t_gssj", "t_szsup", "t_none", "self"},
    "szsj_admin": {"t_szsj", "self"},
    "gat_admin": {"t_gat", "self"},
}


def expected(actor: str, target: str, grant: str) -> tuple[int, str | None]:
    if actor in NOT_MANAGERS:
        return 403, "auth.role_required"
    if grant in MAY_GRANT[actor] and target in MANAGES[actor]:
        return 201, None
    return 403, "registry.out_of_scope"


# --- The world each cell needs: the regions, the agencies, the actor and the target ------------


def _grant(role: str, scope: str) -> GrantCreate:
    return GrantCreate(role=role, **({"region_code": scope} if scope.isdigit() else {"agency_code": scope}))


def _build(actor: str, target: str) -> tuple[str, str]:
    """(actor's bearer token, target's user name)."""
    with transaction() as s:
        region(s, "320000", "江苏省")
        region(s, "320100", "南京市", "320000")
        region(s, "320500", "苏州市", "320000")
        region(s, "320508", "姑苏区", "320500")
        agency(s, "js-gat", "江苏省公安厅", "320000")
        agency(s, "nj-sj", "南京市市场监督管理局", "320100")
        agency(s, "sz-sj", "苏州市市场监督管理局", "320500")
        agency(s, "gs-sj", "姑苏区市场监督管理局", "320508")
        service.create_person(
            s,
            PersonCreate(username=actor, display_name=actor, password=PASSWORD, grants=[_grant(*ACTORS[actor])]),
            by=OPERATOR,
        )
        if TARGETS[target] != "self":
            grants = [_grant(*TARGETS[target])] if TARGETS[target] else []
            service.create_person(s, PersonCreate(username=target, display_name=target, grants=grants), by=OPERATOR)
        _token, secret = service.issue_token(s, actor, by=OPERATOR)
    return secret, actor if TARGETS[target] == "self" else target


def _held(username: str) -> set[tuple[str, str | None, str | None]]:
    """(role, agency code, region code) of every role ``username`` holds, read from the tables."""
    with transaction() as s:
        return {
            (role, code, reg)
            for role, code, reg in s.execute(
                select(RoleGrant.role, Agency.code, RoleGrant.region_code)
                .join(Person, Person.id == RoleGrant.person_id)
                .outerjoin(Agency, Agency.id == RoleGrant.agency_id)
                .where(Person.username == username)
            )
        }


def _event_count() -> int:
    with transaction() as s:
        return s.scalar(select(func.count()).select_from(Event)) or 0


CELLS = list(itertools.product(ACTORS, TARGETS, GRANTS))


@pytest.fixture(scope="module")
def api() -> Iterator[TestClient]:
    """One app for the whole matrix (it keeps no state apart from the database, which each cell
    rebuilds): making an app per cell cost more than the cells."""
    from govshare.app import create_app

    with TestClient(create_app()) as c:
        yield c


@pytest.mark.parametrize(("actor", "target", "grant"), CELLS, ids=["-".join(c) for c in CELLS])
def test_grant_matrix(api, actor, target, grant):
    token, username = _build(actor, target)
    before, events_before = _held(username), _event_count()
    r = api.post(f"/api/v1/people/{username}/grants", headers=bearer(token), json=GRANTS[grant])
    status, code = expected(actor, target, grant)
    assert r.status_code == status, (actor, target, grant, r.text)
    wanted = (GRANTS[grant]["role"], GRANTS[grant].get("agency_code"), GRANTS[grant].get("region_code"))
    if status == 201:
        assert _held(username) == before | {wanted}
        assert wanted in {(g["role"], g["agency_code"], g["region_code"]) for g in r.json()["grants"]}
        # one registry.role.granted event, none when the person already held the role
        assert _event_count() == events_before + (wanted not in before)
    else:
        assert r.json()["code"] == code
        assert _held(username) == before  # nothing granted
        assert _event_count() == events_before  # and nothing recorded


def test_the_table_is_not_trivial():
    """Control: the table has both answers for the actors that manage people, and the cells of the
    reported attack are refusals."""
    answers = [expected(a, t, g)[0] for a, t, g in CELLS if a not in NOT_MANAGERS]
    assert answers.count(201) > 10 and answers.count(403) > 10
    assert expected("szsj_admin", "t_njsj", "staff@sz-sj") == (403, "registry.out_of_scope")
    assert expected("szsj_admin", "t_prov", "admin@sz-sj") == (403, "registry.out_of_scope")


def test_the_reported_attack_leaves_nanjings_managers_in_charge(client, world):
    """A Suzhou agency admin tries to pull a Nanjing member of staff and the provincial authority's
    account into its agency: refused; the Nanjing authority still deactivates and resets its staff,
    and the foreign person stays invisible to the Suzhou admin."""
    with transaction() as s:
        service.create_person(
            s,
            PersonCreate(
                username="nj_staff",
                display_name="南京职员",
                password=PASSWORD,
                grants=[GrantCreate(role="agency_staff", agency_code="nj-sj")],
            ),
            by=OPERATOR,
        )
    h = world.h("szsj_admin")
    for username in ("nj_staff", "prov_auth"):
        r = client.post(
            f"/api/v1/people/{username}/grants", headers=h, json={"role": "agency_staff", "agency_code": "sz-sj"}
        )
        assert r.status_code == 403 and r.json()["code"] == "registry.out_of_scope", r.text
        assert r.json()["article"] == "Art 5"
    seen = {p["username"] for p in client.get("/api/v1/people", headers=h).json()}
    assert seen == {"szsj_admin"}
    nj = world.h("nanjing_authority")
    assert (
        client.post("/api/v1/people/nj_staff/password", headers=nj, json={"password": "Another-pass-1"}).status_code
        == 204
    )
    r = client.post("/api/v1/people/nj_staff/deactivate", headers=nj)
    assert r.status_code == 200 and r.json()["active"] is False
