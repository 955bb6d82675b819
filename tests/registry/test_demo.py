"""The demo data: Jiangsu's region tree, agencies and one person per role, loaded through the services."""

from __future__ import annotations

import collections
import threading
import time

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from govshare import demo
from govshare.cli import app
from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.core.errors import Conflict
from govshare.core.events import Event
from govshare.registry import rules, service
from govshare.registry.models import Agency, Person, Region
from govshare.registry.schemas import PersonCreate

REGIONS = 1 + 13 + len(demo.COUNTIES)
CITY_CODES = {
    "320100",
    "320200",
    "320300",
    "320400",
    "320500",
    "320600",
    "320700",
    "320800",
    "320900",
    "321000",
    "321100",
    "321200",
    "321300",
}


def _count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _invoke(*args: str, columns: int = 80):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["demo", "load", *args], env={"COLUMNS": str(columns)})


@pytest.fixture
def loaded(session) -> demo.DemoSummary:  # type: ignore[no-untyped-def]
    summary = demo.load(session)
    session.commit()
    return summary


def test_region_tree(session, loaded):  # type: ignore[no-untyped-def]
    regions = {r.code: r for r in service.list_regions(session)}
    assert len(regions) == REGIONS == loaded.regions
    province = [r for r in regions.values() if r.level == "province"]
    assert [(r.code, r.name, r.parent_code) for r in province] == [("320000", "江苏省", None)]
    cities = [r for r in regions.values() if r.level == "city"]
    assert {r.code for r in cities} == CITY_CODES
    assert all(r.parent_code == "320000" and r.path == f"320000/{r.code}" and r.name_en for r in cities)
    assert regions["320500"].name == "苏州市" and regions["320500"].name_en == "Suzhou"
    for r in regions.values():
        if r.level == "county":
            assert r.parent_code == r.code[:4] + "00", r.code
            assert r.path == f"320000/{r.parent_code}/{r.code}"
    assert {"320102", "320104", "320106", "320115"} <= {
        r.code for r in service.list_regions(session, parent_code="320100")
    }
    assert regions["320583"].name == "昆山市" and regions["320508"].name == "姑苏区"


def test_each_region_has_exactly_one_authority(session, loaded):  # type: ignore[no-untyped-def]
    authorities = session.scalars(select(Agency).where(Agency.is_authority.is_(True))).all()
    per_region = collections.Counter(a.region_code for a in authorities)
    region_codes = set(session.scalars(select(Region.code)))
    assert set(per_region) == region_codes
    assert set(per_region.values()) == {1}
    assert loaded.authorities == len(region_codes)
    assert service.get_agency(session, "js-sjj").region_code == "320000"
    assert service.get_agency(session, "sz-kunshan-sjj").region_code == "320583"


def test_every_uscc_is_valid_and_typed_by_kind(session, loaded):  # type: ignore[no-untyped-def]
    agencies = session.scalars(select(Agency)).all()
    assert len(agencies) == loaded.agencies
    assert len({a.uscc for a in agencies}) == len(agencies)
    for a in agencies:
        assert rules.uscc_problem(a.uscc) is None, (a.code, a.uscc)
        assert a.uscc[0] == "1"  # registered by 机构编制
        assert a.uscc[2:8] == a.region_code
        assert a.uscc[1] == ("1" if a.kind == "agency" else "2"), a.code


def test_load_is_deterministic():
    agencies = demo.demo_agencies()
    assert demo._usccs(agencies) == demo._usccs(demo.demo_agencies())
    assert demo._usccs(agencies)["js-gat"] == rules.make_uscc("1", "1", "320000", "00000002")


def test_provincial_agencies_kinds_and_art30_gaps(session, loaded):  # type: ignore[no-untyped-def]
    provincial, _ = service.list_agencies(session, region="320000", include_subregions=False, limit=1000)
    departments = [a for a in provincial if not a.is_authority]
    assert len(departments) >= 15
    assert {a.kind for a in departments} == {"agency", "authorised", "entrusted"}
    gat = service.get_agency(session, "js-gat")
    assert gat.vertical_system == "public_security" and gat.responsible_person
    assert service.get_agency(session, "js-swj").name == "国家税务总局江苏省税务局"
    assert all(a.name_en for a in provincial)
    lacking, total = service.list_agencies(session, missing_responsible=True, limit=1000)
    assert 0 < total < loaded.agencies
    assert {"js-sft", "js-ybj"} <= {a.code for a in lacking}
    for city in ("320100", "320500", "320200"):
        _rows, n = service.list_agencies(session, region=city, include_subregions=False, authority_only=False)
        assert n >= 4, city  # the data bureau plus city departments
    assert service.get_agency(session, "sz-scjgj").name == "苏州市市场监督管理局"


def test_every_demo_person_can_log_in_with_their_role(session, loaded):  # type: ignore[no-untyped-def]
    assert {c.username for c in loaded.credentials} == {p.username for p in demo.DEMO_PEOPLE}
    roles = {c.role for c in loaded.credentials}
    assert roles == set(rules.ROLES)
    for c in loaded.credentials:
        person, cookie, _csrf = service.login(session, c.username, c.password, address="127.0.0.1")
        assert cookie
        grants = service.grants_of(session, person.id)
        assert [(g.role, g.agency_code or g.region_code) for g in grants] == [(c.role, c.scope)]
        principal = service.authenticate_secret(session, c.token)
        assert principal.username == c.username
    session.commit()
    by_name = {c.username: c for c in loaded.credentials}
    assert by_name["demo_authority"].password == "demo-authority-2026"
    assert by_name["demo_authority"].scope == "320000"
    assert by_name["demo_sz_authority"].scope == "320500"
    assert by_name["demo_agency_admin"].scope == "js-gat"


def test_events_recorded_for_every_row(session, loaded):  # type: ignore[no-untyped-def]
    actions = collections.Counter(session.scalars(select(Event.action)))
    assert actions["registry.region.created"] == _count(session, Region) == REGIONS
    assert actions["registry.agency.created"] == _count(session, Agency) == loaded.agencies
    assert actions["registry.person.created"] == _count(session, Person) == len(demo.DEMO_PEOPLE)
    assert actions["registry.role.granted"] == len(demo.DEMO_PEOPLE)
    assert actions["registry.token.issued"] == len(demo.DEMO_PEOPLE)
    assert sum(actions.values()) == loaded.events
    assert set(session.scalars(select(Event.actor))) == {"system"}
    subjects = set(session.scalars(select(Event.subject_id).where(Event.action == "registry.agency.created")))
    assert subjects == set(session.scalars(select(Agency.code)))


def test_cli_if_empty_loads_once_then_does_nothing(session):  # type: ignore[no-untyped-def]
    first = _invoke("--if-empty")
    assert first.exit_code == 0, first.output
    assert "demo_authority" in first.output and "demo-authority-2026" in first.output
    assert "demo-agency-staff-2026" in first.output
    assert demo.LOGIN_URL in first.output
    events = _count(session, Event)
    assert _count(session, Region) == REGIONS and events > REGIONS
    session.rollback()

    second = _invoke("--if-empty")
    assert second.exit_code == 0, second.output
    assert "skipped" in second.output and "demo-authority-2026" not in second.output
    assert _count(session, Region) == REGIONS
    assert _count(session, Event) == events


def test_cli_prints_each_account_whole_on_one_line_in_a_narrow_terminal(session):  # type: ignore[no-untyped-def]
    result = _invoke(columns=40)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "…" not in result.output
    region_names = {r.code: r.name for r in service.list_regions(session)}
    for p in demo.DEMO_PEOPLE:
        scope_name = service.get_agency(session, p.agency_code).name if p.agency_code else region_names[p.scope]
        mine = [line for line in lines if line.split()[:1] in ([p.username], [p.username + ":"])]
        assert len(mine) == 2, (p.username, mine)  # the account, then its token
        account, token_line = mine
        zh, _en = rules.ROLE_NAMES[p.role]
        for part in (f"{zh} / {p.role}", f"{p.scope} {scope_name}", f"password: {p.password}"):
            assert part in account, (part, account)
        assert account.endswith(p.password)
        # The whole token: it must authenticate as its person (a folded or cut one would not).
        token = token_line.removeprefix(f"  {p.username}: ")
        assert token_line == f"  {p.username}: {token}" and " " not in token
        principal = service.authenticate_secret(session, token)
        assert principal.username == p.username


def test_cli_refuses_to_load_twice_without_if_empty(session, loaded):  # type: ignore[no-untyped-def]
    events = _count(session, Event)
    session.rollback()
    result = _invoke()
    assert result.exit_code == 1
    assert "--if-empty" in result.output and "拒绝重复加载" in result.output
    assert _count(session, Event) == events
    assert _count(session, Agency) == loaded.agencies
    with pytest.raises(demo.DemoNotEmpty):
        demo.load(session)


def test_a_failed_load_leaves_nothing_behind(session):  # type: ignore[no-untyped-def]
    # A person already holds a demo user name (no regions, so the emptiness check passes).
    with transaction() as s:
        service.create_person(s, PersonCreate(username="demo_supervisor", display_name="someone"), by=OPERATOR)
    events = _count(session, Event)
    session.rollback()
    result = _invoke("--if-empty")
    assert isinstance(result.exception, Conflict)
    assert result.exception.code == "registry.person.exists"
    assert _count(session, Region) == 0 and _count(session, Agency) == 0
    assert _count(session, Event) == events


def test_concurrent_if_empty_loads_land_once(session):  # type: ignore[no-untyped-def]
    """A second ``--if-empty`` loader racing an uncommitted first one ends in a clean no-op."""
    summary = demo.load(session)  # flushed, not committed: holds its locks
    errors: list[BaseException] = []

    def second() -> None:
        try:
            demo.load_cli(if_empty=True)
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    t = threading.Thread(target=second)
    t.start()
    time.sleep(1.0)
    session.commit()
    t.join(timeout=60)
    assert not t.is_alive()
    assert errors == []
    assert _count(session, Region) == REGIONS
    assert _count(session, Person) == len(demo.DEMO_PEOPLE)
    assert _count(session, Event) == summary.events


def test_demo_fills_the_catalog_and_the_service_guide(session, loaded):  # type: ignore[no-untyped-def]
    from govshare.catalog.models import CatalogResource
    from govshare.guide.models import GuideService

    published = _count(session, CatalogResource, CatalogResource.status == "published")
    assert loaded.catalog_published == published >= 50
    share_types = set(session.scalars(select(CatalogResource.share_type).where(CatalogResource.status == "published")))
    assert share_types == {"unconditional", "conditional", "not_shared"}
    assert loaded.guide_services == _count(session, GuideService) >= 10
