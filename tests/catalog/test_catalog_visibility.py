"""Who may see a catalog entry: the predicate, its SQL form and the search index agree, for every role.

``permissions.can_view`` decides for one entry, ``permissions.visible_condition`` filters lists in
SQL, and the search applies the same rule over its in-memory bitsets. Entries in every status, open
or not, from providers in three regions, are checked against every kind of viewer.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog import permissions as perm
from govshare.catalog import search, service
from govshare.catalog.models import CatalogResource
from govshare.catalog.schemas import ResourceCreate
from govshare.core.auth import OPERATOR, Principal
from govshare.registry import service as registry_service
from tests.catalog.catalog_helpers import open_entry

STATUSES = ("draft", "submitted", "published", "withdrawn")
PROVIDERS = ("js-gat", "sz-sj", "nj-sj")  # province, Suzhou, Nanjing
VIEWERS = (
    "public",
    "province_authority",
    "suzhou_authority",
    "nanjing_authority",
    "supervisor",
    "gat_staff",
    "gat_admin",
    "szsj_admin",
    "secrecy",
    "client_szsj",
    "operator",
)
USERNAMES = {
    "province_authority": "prov_auth",
    "suzhou_authority": "sz_auth",
    "nanjing_authority": "nj_auth",
    "supervisor": "super",
    "gat_staff": "gat_staff",
    "gat_admin": "gat_admin",
    "szsj_admin": "szsj_admin",
    "secrecy": "secrecy",
}


def _make(session: Session, provider: str, status: str, open_: bool, n: int) -> int:
    data = ResourceCreate(**open_entry(name=f"条目{n}", provider=provider, open_to_public=open_))
    r = service.create_resource(session, data, by=OPERATOR)
    if status in ("submitted", "published", "withdrawn"):
        service.submit(session, r.id, by=OPERATOR)
    if status in ("published", "withdrawn"):
        service.publish(session, r.id, by=OPERATOR)
    if status == "withdrawn":
        service.withdraw(session, r.id, reason="不再提供", by=OPERATOR)
    return r.id


@pytest.fixture
def catalog(world, session: Session) -> dict[str, Principal | None]:  # noqa: ARG001 - world seeds the registry
    n = itertools.count()
    for provider, status, open_ in itertools.product(PROVIDERS, STATUSES, (True, False)):
        _make(session, provider, status, open_, next(n))
    _client, key = registry_service.add_client(session, "sz-sj", "sys", by=OPERATOR)
    session.commit()
    viewers: dict[str, Principal | None] = {
        "public": None,
        "operator": OPERATOR,
        "client_szsj": registry_service.authenticate_secret(session, key),
    }
    for who, username in USERNAMES.items():
        person = registry_service.get_person(session, username)
        viewers[who] = registry_service.principal_for_person(session, person, via="token")
    return viewers


def _predicate(session: Session, viewer: Principal | None) -> set[int]:
    out = set()
    for r in session.scalars(select(CatalogResource)):
        path = registry_service.region_path_of(session, r.region_code)
        if perm.can_view(
            viewer, status=r.status, open_to_public=r.open_to_public, provider_id=r.provider_id, region_path=path
        ):
            out.add(r.id)
    return out


def _sql(session: Session, viewer: Principal | None) -> set[int]:
    return set(session.scalars(select(CatalogResource.id).where(perm.visible_condition(viewer))))


def _searched(session: Session, viewer: Principal | None) -> set[int]:
    out: set[int] = set()
    for status in STATUSES:
        result = search.search(session, search.SearchParams(status=status, limit=100, facets=False), viewer=viewer)
        out |= {r.id for r in result.items}
    return out


@pytest.mark.parametrize("who", VIEWERS)
def test_predicate_sql_and_search_agree(catalog: dict[str, Principal | None], session: Session, who: str) -> None:
    viewer = catalog[who]
    expected = _predicate(session, viewer)
    assert _sql(session, viewer) == expected
    assert _searched(session, viewer) == expected


def test_the_rule_itself(catalog: dict[str, Principal | None], session: Session) -> None:
    """What each kind of viewer sees, counted: the agreement above would also hold for a wrong rule."""
    by_status = {who: _predicate(session, catalog[who]) for who in VIEWERS}
    rows = {r.id: r for r in session.scalars(select(CatalogResource))}
    published = {i for i, r in rows.items() if r.status == "published"}
    public_open = {i for i in published if rows[i].open_to_public}
    assert by_status["public"] == public_open and len(public_open) == 3
    assert by_status["client_szsj"] == published and len(published) == 6
    assert by_status["operator"] == set(rows)
    # The province's authority and supervisor see every entry but drafts; Suzhou's only Suzhou's.
    not_drafts = {i for i, r in rows.items() if r.status != "draft"}
    assert by_status["province_authority"] == not_drafts == by_status["supervisor"]
    suzhou = {i for i in not_drafts if rows[i].region_code == "320500"}
    assert by_status["suzhou_authority"] == published | suzhou
    # Provider staff see their own agency's entries in every status, drafts included.
    gat = registry_service.get_agency(session, "js-gat").id
    assert by_status["gat_staff"] == published | {i for i, r in rows.items() if r.provider_id == gat}
    # The secrecy administration holds no catalog role: it reads what anyone signed in reads.
    assert by_status["secrecy"] == published
