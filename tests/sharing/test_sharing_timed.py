"""Timed work (Art 18, 33(1)): reminders three working days before a deadline, overdue marking,
grant expiry; once per tick however many workers, catching up after a restart. Revocation."""

from __future__ import annotations

import datetime as dt
import threading

from govshare.core import clock
from govshare.core.db import transaction
from govshare.sharing import service
from govshare.sharing.service.timed import TickResult
from tests.recorded import recorded
from tests.sharing.sharing_helpers import API, at, file_request


def _tick(when: dt.datetime) -> TickResult:
    with clock.frozen(when), transaction() as s:
        return service.run_tick(s)


def test_reminder_then_overdue_counted_per_agency(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-09-29")):
        req = file_request(client, w, w.entries.conditional, items=["名称"])  # deadline 19 October
        other = file_request(client, w, w.entries.personal, who="njsj_staff", region_scope="320100")
    assert _tick(at("2026-10-13")).reminded == []  # 14, 15, 16, 19 October: four working days left
    assert _tick(at("2026-10-14")).reminded == [req["id"]]
    assert _tick(at("2026-10-15")).reminded == []  # once
    reminded = recorded("sharing.request.reminded")
    assert len(reminded) == 1 and reminded[0].data["workdays_left"] == 3
    assert _tick(at("2026-10-19", 23)).overdue == []  # the deadline runs to the end of its day
    result = _tick(at("2026-10-20", 0))
    assert result.ran and result.overdue == [req["id"]]
    with clock.frozen(at("2026-10-20")):
        got = client.get(f"{API}/requests/{req['id']}", headers=w.h("szsj_staff")).json()
        assert got["state"] == "overdue" and got["overdue"] and got["deadline"]["workdays_left"] == -1
        for who in ("szsj_staff", "gat_staff", "province_authority"):
            o = client.get(f"{API}/overdue", headers=w.h(who)).json()
            assert [i["id"] for i in o["items"]] == [req["id"]], who
            assert o["per_provider"] == [{"agency": {"code": "js-gat", "name": "江苏省公安厅"}, "overdue": 1}]
        assert client.get(f"{API}/overdue", headers=w.h("njsj_staff")).json()["total"] == 0
        # A late answer is still an answer.
        r = client.post(f"{API}/requests/{req['id']}/approve", json={}, headers=w.h("gat_staff"))
        assert r.status_code == 200 and r.json()["state"] == "approved"
    assert other["deadline"]["deadline_on"] == "2026-10-26"


def test_once_per_tick_however_many_workers(sharing_world):
    now = at("2026-10-14")
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        with clock.frozen(now), transaction() as s:
            results.append(service.run_tick(s).ran)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert not _tick(now + dt.timedelta(seconds=5)).ran  # same tick
    assert _tick(now + dt.timedelta(minutes=1)).ran  # the next one


def test_catches_up_after_a_restart(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-09-29")):
        a = file_request(client, w, w.entries.conditional, items=["名称"])
    with clock.frozen(at("2026-11-02")):
        b = file_request(client, w, w.entries.conditional, items=["名称"])
    assert _tick(at("2026-09-29", 12)).ran
    # No worker ran for two months: the first tick after the restart marks both.
    result = _tick(at("2026-12-01"))
    assert sorted(result.overdue) == [a["id"], b["id"]]


def test_revoke_and_expiry(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-11-02")):
        one = file_request(client, w, w.entries.unconditional, items=["名称"], ends_on="2027-03-31")
        two = file_request(client, w, w.entries.unconditional, items=["名称"], ends_on="2027-06-30")
        r = client.post(
            f"{API}/grants/{one['grant_id']}/revoke",
            json={"reason": "使用方超出用途使用数据"},
            headers=w.h("szsj_staff"),
        )
        assert r.status_code == 403  # the consumer cannot revoke
        r = client.post(
            f"{API}/grants/{one['grant_id']}/revoke",
            json={"reason": "使用方超出用途使用数据"},
            headers=w.h("gat_staff"),
        )
        assert r.status_code == 200, r.text
        g = r.json()
        assert g["state"] == "revoked" and g["revoked_reason"] == "使用方超出用途使用数据" and not g["usable"]
        again = client.post(
            f"{API}/grants/{one['grant_id']}/revoke", json={"reason": "再次撤销试试"}, headers=w.h("gat_staff")
        )
        assert again.status_code == 409 and again.json()["state"] == "revoked"
    assert _tick(at("2027-06-30", 23)).expired == []
    assert _tick(at("2027-07-01")).expired == [two["grant_id"]]
    with clock.frozen(at("2027-07-01")):
        got = client.get(f"{API}/grants", params={"state": "expired"}, headers=w.h("szsj_staff")).json()
    assert [g["id"] for g in got["items"]] == [two["grant_id"]]
    assert [e.data["article"] for e in recorded("sharing.grant.expired")] == ["Art 17"]
