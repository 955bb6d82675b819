"""The demo service guide: Jiangsu services tied to the demo agencies and, when present, to catalog entries."""

from __future__ import annotations

from sqlalchemy import func, select

from govshare import demo
from govshare.catalog.models import CatalogResource
from govshare.core.events import Event
from govshare.guide import rules
from govshare.guide.demo import SERVICES, load_demo_guide
from govshare.guide.models import GuideService


def test_demo_guide_loads_on_the_demo_registry(client, session):
    # `demo.load` loads the registry, then the catalog, then the guide on top of both.
    summary = demo.load(session)
    session.commit()
    assert summary.guide_services == len(SERVICES) >= 15
    assert session.scalar(select(func.count()).select_from(GuideService)) == len(SERVICES)
    created = session.scalar(select(func.count()).select_from(Event).where(Event.action == "guide.service.created"))
    assert created == len(SERVICES)
    # Every sector and channel used is in the vocabularies; every channel appears somewhere (Art 27).
    assert {s.sector for s in SERVICES} <= set(rules.SECTORS)
    assert {c for s in SERVICES for c, _d in s.channels} == set(rules.CHANNELS)
    published = dict(
        session.execute(
            select(CatalogResource.code, CatalogResource.name).where(CatalogResource.status == "published")
        ).all()
    )
    session.rollback()  # release SQLite's lock before the requests

    page = client.get("/api/v1/guide", params={"limit": 200}).json()
    assert page["total"] == len(SERVICES)
    by_name = {i["name"]: i for i in page["items"]}
    linked = [r["code"] for i in page["items"] for r in i["resources"]]
    assert linked, "the demo guide links services to the demo catalog"
    assert set(linked) <= set(published)
    assert by_name["12345 政务服务便民热线"]["agency"]["code"] == "js-sjj"
    assert client.get("/api/v1/guide", params={"q": "12345"}).json()["total"] >= 1

    # Loading again adds nothing.
    assert load_demo_guide(session) == 0
    session.commit()
    assert session.scalar(select(func.count()).select_from(GuideService)) == len(SERVICES)


def test_demo_guide_skips_missing_agencies(world, session):
    # The small test province has none of the demo's agencies except js-gat (public security).
    assert load_demo_guide(session) == sum(1 for s in SERVICES if s.agency == "js-gat")
