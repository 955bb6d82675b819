"""The demo catalog loads through the services and covers the vocabularies."""

from __future__ import annotations

from sqlalchemy import select

from govshare import demo
from govshare.catalog import rules
from govshare.catalog.demo import ENTRIES, load_demo_catalog
from govshare.catalog.models import CatalogDemand, CatalogResource, CatalogResourceSector
from tests.catalog.catalog_helpers import API


def test_demo_catalog(session, client):
    summary = demo.load(session)  # the registry demo, which calls load_demo_catalog
    session.commit()
    assert summary.catalog_published == len(ENTRIES) >= 50
    rows = session.scalars(select(CatalogResource).where(CatalogResource.status == "published")).all()
    assert len(rows) == len(ENTRIES)
    assert {r.share_type for r in rows} == set(rules.SHARE_TYPES)
    assert {r.classification for r in rows} == set(rules.CLASSIFICATIONS)
    assert {r.category for r in rows if r.classification == "basic"} == set(rules.BASIC_CATEGORIES)
    assert {r.provision_method for r in rows} == set(rules.PROVISION_METHODS)
    assert len({r.provider_id for r in rows}) >= 15
    sectors = set(session.scalars(select(CatalogResourceSector.sector)))
    assert {"education", "health", "employment", "social_security", "community"} <= sectors
    statuses = set(session.scalars(select(CatalogResource.status)))
    assert statuses == {"draft", "submitted", "published"}
    assert session.scalar(select(CatalogResource.id).where(CatalogResource.pending_version_number.is_not(None)))
    assert {d.status for d in session.scalars(select(CatalogDemand))} == {"matched", "routed", "open"}
    session.rollback()
    # Loading twice does nothing.
    assert load_demo_catalog(session).published == 0
    session.rollback()

    body = client.get(API, params={"q": "人口"}).json()
    assert "全省人口基础信息" in {i["name"] for i in body["items"]}
    assert client.get(API).json()["total"] == sum(1 for r in rows if r.open_to_public)
