"""A matched demand becomes a request in one step (Art 9, 17); the training clock
(GOVSHARE_CLOCK_START) and /healthz; a withdrawn request."""

from __future__ import annotations

import datetime as dt

import pytest

from govshare.catalog import service as catalog_service
from govshare.catalog.schemas import DemandCreate
from govshare.core import clock
from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from tests.sharing.sharing_helpers import API, file_request


def test_request_from_a_matched_demand(sharing_world, client):
    w = sharing_world
    with transaction() as s:
        demand = catalog_service.file_demand(
            s,
            DemandCreate(
                requester="sz-sj",
                title="低保审核需要户籍信息",
                duty="审核最低生活保障申请人的家庭情况",
                legal_basis="《社会救助暂行办法》第十一条",
            ),
            by=OPERATOR,
        )
        did = demand.id
    r = client.post(f"{API}/demands/{did}/request", json={}, headers=w.h("szsj_staff"))
    assert r.status_code == 422 and r.json()["code"] == "sharing.request.demand_unmatched"
    with transaction() as s:
        catalog_service.match_demand(s, did, [w.entries.personal], by=OPERATOR)
    r = client.post(f"{API}/demands/{did}/request", json={"items": ["姓名"]}, headers=w.h("njsj_staff"))
    assert r.status_code == 403  # not the demand's agency
    r = client.post(f"{API}/demands/{did}/request", json={"items": ["姓名"]}, headers=w.h("szsj_staff"))
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["demand_id"] == did and req["purpose"] == "审核最低生活保障申请人的家庭情况"
    assert req["legal_basis"] == "《社会救助暂行办法》第十一条" and req["region_scope"] == "320000"
    assert req["resource"]["code"] == w.entries.personal and req["state"] == "pending"


def test_withdraw(sharing_world, client):
    w = sharing_world
    req = file_request(client, w, w.entries.personal)
    assert client.post(f"{API}/requests/{req['id']}/withdraw", json={}, headers=w.h("gat_staff")).status_code == 403
    r = client.post(
        f"{API}/requests/{req['id']}/withdraw", json={"reason": "已通过其他渠道获取"}, headers=w.h("szsj_staff")
    )
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    assert r.json()["deadline"]["workdays_left"] is None


def test_training_clock_runs_on_from_its_start(client):
    real = dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC)
    env = {"GOVSHARE_CLOCK_START": "2026-09-25T09:00:00+08:00", "GOVSHARE_CLOCK_ANCHOR": real.isoformat()}
    try:
        clock.configure_from_env(env)
        assert clock.now() > dt.datetime(2026, 9, 25, 1, 0, tzinfo=dt.UTC)
        assert clock.now() < dt.datetime(2026, 9, 25, 2, 0, tzinfo=dt.UTC) + (dt.datetime.now(dt.UTC) - real)
        assert clock.today() == dt.date(2026, 9, 25)
        health = client.get("/healthz").json()
        assert health["clock"]["shifted"] is True and health["clock"]["started_at"] == "2026-09-25T01:00:00+00:00"
        # A first process records the anchor for its workers.
        fresh = {"GOVSHARE_CLOCK_START": "2026-09-25T09:00:00+08:00"}
        clock.configure_from_env(fresh)
        assert "GOVSHARE_CLOCK_ANCHOR" in fresh
        with pytest.raises(ValueError, match="UTC offset"):
            clock.configure_from_env({"GOVSHARE_CLOCK_START": "2026-09-25T09:00:00"})
    finally:
        clock.configure_from_env({})
    assert client.get("/healthz").json()["clock"] == {"shifted": False}
