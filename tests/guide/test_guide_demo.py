"""The demo service guide: Jiangsu services tied to the demo agencies and, when present, to catalog entries."""

from __future__ import annotations

from sqlalchemy import func, select

from govshare import demo
from govshare.catalog import service as catalog_service
from govshare.catalog.schemas import ResourceCreate
from govshare.core.events import Event
from govshare.guide import rules
from govshare.guide.demo import SERVICES, load_demo_guide
from govshare.guide.models import GuideService


def _publish(session, provider: str, name: str) -> str:
    made = catalog_service.create_resource(session, ResourceCreate(
        provider=provider, classification="departmental", name=name, abstract=f"{name}。", format="database",
        share_type="unconditional", provision_method="gateway_api", update_cycle="daily", open_to_public=True))
    catalog_service.submit(session, made.id)
    return catalog_service.publish(session, made.id).code


def test_demo_guide_loads_on_the_demo_registry(client, session):
    demo.load(session)
    insurance = _publish(session, "js-rst", "社会保险参保缴费信息")
    births = _publish(session, "js-wjw", "出生医学证明信息")
    before = session.scalar(select(func.count()).select_from(Event))

    added = load_demo_guide(session)
    session.commit()
    assert added == len(SERVICES) >= 15
    assert session.scalar(select(func.count()).select_from(GuideService)) == len(SERVICES)
    created = session.scalar(select(func.count()).select_from(Event).where(Event.action == "guide.service.created"))
    assert created == len(SERVICES) == session.scalar(select(func.count()).select_from(Event)) - before
    # Every sector and channel used is in the vocabularies; every channel appears somewhere (Art 27).
    assert {s.sector for s in SERVICES} <= set(rules.SECTORS)
    assert {c for s in SERVICES for c, _d in s.channels} == set(rules.CHANNELS)
    session.rollback()  # release SQLite's lock before the requests

    page = client.get("/api/v1/guide", params={"limit": 200}).json()
    assert page["total"] == len(SERVICES)
    by_name = {i["name"]: i for i in page["items"]}
    assert [r["code"] for r in by_name["社会保险参保信息查询"]["resources"]] == [insurance]
    assert [r["code"] for r in by_name["新生儿出生一件事"]["resources"]] == [births]
    assert by_name["12345 政务服务便民热线"]["agency"]["code"] == "js-sjj"
    assert client.get("/api/v1/guide", params={"q": "12345"}).json()["total"] >= 1

    # Loading again adds nothing.
    assert load_demo_guide(session) == 0
    session.commit()
    assert session.scalar(select(func.count()).select_from(GuideService)) == len(SERVICES)


def test_demo_guide_skips_missing_agencies(world, session):
    # The small test province has none of the demo's agencies except js-gat (public security).
    assert load_demo_guide(session) == sum(1 for s in SERVICES if s.agency == "js-gat")
