"""Update duty (Art 15(2)): a change in source data opens a 20-working-day deadline on the official
calendar (the day of the change not counted); a hosted version carrying the change, or the
provider's confirmation for a proxied API, meets it (on time or late); past the deadline the tick
marks it overdue once; overdue updates are counted per agency and region for the provider, the
authority of the region and supervisors. Change feeds are read from a real local HTTP server.

National Day 2026: a change on Tuesday 29 September. Day 1 is 30 September, 1-7 October are
holidays, Saturday 10 October is a make-up working day, so day 20 is Monday 2 November (weekdays
alone would say 27 October).
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from govshare.core import clock
from govshare.core.auth import SYSTEM_PRINCIPAL
from govshare.core.errors import InvalidInput
from govshare.quality import rules, service
from govshare.quality.models import QualityUpdateChange
from tests.exchange.exchange_helpers import API as EXCHANGE_API
from tests.exchange.exchange_helpers import attach_hosted, csv_bytes, publish_entry, residents, upload
from tests.portal.portal_helpers import browser, sign_in, token_of
from tests.quality.quality_helpers import API
from tests.recorded import recorded

CST = dt.timezone(dt.timedelta(hours=8))


def _at(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, 0, tzinfo=CST)


@pytest.fixture
def hosted(world, session, client):  # type: ignore[no-untyped-def]
    """js-gat's hosted dataset with version 1 uploaded on 20 September 2026."""
    clock.set_now(_at(2026, 9, 20))
    resource = publish_entry(session)
    session.commit()
    attach_hosted(client, world, resource.id)
    assert upload(client, world, resource.id, "v1.csv", csv_bytes(residents())).status_code == 201
    return resource


def _tick(session):  # type: ignore[no-untyped-def]
    result = service.updates.tick(session, by=SYSTEM_PRINCIPAL)
    session.commit()
    return result


def test_deadline_crosses_national_day_overdue_then_met_late(hosted, world, session, client):
    clock.set_now(_at(2026, 10, 1))
    body = {"resource": hosted.code, "changed_at": "2026-09-29T10:00:00+08:00", "note": "户籍迁移批量变更"}
    r = client.post(f"{API}/updates", json=body, headers=world.h("gat_staff"))
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["due_on"] == "2026-11-02" and change["received_on"] == "2026-09-29"
    assert change["state"] == "open" and change["workdays"] == rules.UPDATE_WORKDAYS == 20
    assert change["interface_kind"] == "hosted_dataset" and not change["provisional"]
    ev = recorded("quality.update.recorded")[-1]
    assert ev.data["article"] == "Art 15(2)" and ev.data["source"] == "provider"
    # The due day itself is still on time; the tick marks nothing.
    clock.set_now(_at(2026, 11, 2, 20))
    assert _tick(session) == (0, 0)
    # A version whose data predate the change does not meet it.
    assert (
        upload(
            client, world, hosted.id, "v2.csv", csv_bytes(residents()), changed_at="2026-09-28T09:00:00+08:00"
        ).status_code
        == 201
    )
    clock.set_now(_at(2026, 11, 3))
    assert _tick(session) == (0, 1)
    assert _tick(session) == (0, 0)  # once
    assert recorded("quality.update.overdue")[-1].data["due_on"] == "2026-11-02"
    got = client.get(f"{API}/updates/{change['id']}", headers=world.h("gat_staff")).json()
    assert got["state"] == "overdue" and got["overdue"]
    # Overdue per agency and region: the provider, the province's authority, supervisors; not Suzhou.
    for who, total in (
        ("gat_staff", 1),
        ("province_authority", 1),
        ("supervisor", 1),
        ("suzhou_authority", 0),
        ("szsj_admin", 0),
    ):
        counts = client.get(f"{API}/updates/overdue", headers=world.h(who)).json()
        assert counts["total"] == total, who
        if total:
            assert counts["by_agency"] == [{"code": "js-gat", "name": "江苏省公安厅", "count": 1}]
            assert counts["by_region"] == [{"code": "320000", "name": "江苏省", "count": 1}]
    assert client.get(f"{API}/updates/{change['id']}", headers=world.h("szsj_admin")).status_code == 404
    # A hosted dataset is met by a version, not by a confirmation.
    r = client.post(f"{API}/updates/{change['id']}/confirm", json={}, headers=world.h("gat_staff"))
    assert r.status_code == 409 and r.json()["code"] == "quality.update.needs_version"
    clock.set_now(_at(2026, 11, 4))
    assert upload(client, world, hosted.id, "v3.csv", csv_bytes(residents())).status_code == 201
    assert _tick(session) == (1, 0)
    got = client.get(f"{API}/updates/{change['id']}", headers=world.h("province_authority")).json()
    assert got["state"] == "met" and got["met_late"] is True and got["dataset_version"] == 3
    assert got["met_on"] == "2026-11-04" and not got["overdue"]
    ev = recorded("quality.update.met")[-1]
    assert ev.data["late"] is True and ev.data["version"] == 3 and ev.data["article"] == "Art 15(2)"
    assert client.get(f"{API}/updates/overdue", headers=world.h("gat_staff")).json()["total"] == 0


def test_met_on_time_when_the_version_already_carries_the_change(hosted, world, session, client):
    clock.set_now(_at(2026, 10, 9))
    assert (
        upload(
            client, world, hosted.id, "v2.csv", csv_bytes(residents()), changed_at="2026-10-08T18:00:00+08:00"
        ).status_code
        == 201
    )
    r = client.post(
        f"{API}/updates",
        json={"resource": str(hosted.id), "changed_at": "2026-10-08T09:00:00+08:00"},
        headers=world.h("gat_admin"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "met" and r.json()["met_late"] is False and r.json()["dataset_version"] == 2


def test_bad_input_named_and_nothing_stored(hosted, world, session, client):
    clock.set_now(_at(2026, 10, 1))
    cases = [
        ({"resource": hosted.code, "changed_at": "2026-10-02T10:00:00+08:00"}, 422, "quality.update.future"),
        ({"resource": hosted.code, "changed_at": "2026-09-29T10:00:00"}, 422, "quality.update.naive_time"),
        ({"resource": hosted.code, "changed_at": "not a time"}, 422, None),
        ({"resource": hosted.code, "changed_at": "2026-09-29T10:00:00+08:00", "note": "x" * 2001}, 422, None),
        ({"resource": "NO-SUCH", "changed_at": "2026-09-29T10:00:00+08:00"}, 404, None),
    ]
    for body, status, code in cases:
        r = client.post(f"{API}/updates", json=body, headers=world.h("gat_staff"))
        assert r.status_code == status, (body, r.text)
        if code:
            assert r.json()["code"] == code and r.json()["field"] == "changed_at"
    ok = {"resource": hosted.code, "changed_at": "2026-09-29T10:00:00+08:00"}
    assert client.post(f"{API}/updates", json=ok, headers=world.h("szsj_admin")).status_code == 403
    assert client.post(f"{API}/updates", json=ok, headers=world.h("province_authority")).status_code == 403
    assert not recorded("quality.update.recorded")
    assert session.scalar(select(QualityUpdateChange.id)) is None


# --- Change feeds, from a real HTTP server ---------------------------------------------------------


class Feed:
    def __init__(self) -> None:
        self.status = 200
        self.body: bytes = b'{"changes": []}'
        self.hits = 0


@pytest.fixture
def feed_server() -> Iterator[tuple[str, Feed]]:
    feed = Feed()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            feed.hits += 1
            self.send_response(feed.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(feed.body)))
            self.end_headers()
            self.wfile.write(feed.body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/changes", feed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def proxied(world, session, client, feed_server):  # type: ignore[no-untyped-def]
    clock.set_now(_at(2026, 9, 20))
    resource = publish_entry(session, name="居民身份证签发信息", provision_method="gateway_api")
    session.commit()
    r = client.post(
        f"{EXCHANGE_API}/resources/{resource.id}/interface",
        headers=world.h("gat_staff"),
        json={
            "kind": "proxied_api",
            "base_url": "https://node.gat.js.gov.cn:8443/api/v1",
            "change_feed_url": feed_server[0],
        },
    )
    assert r.status_code == 201, r.text
    return resource


def test_change_feed_polled_recorded_once_and_confirmed(proxied, feed_server, world, session, client):
    url, feed = feed_server
    feed.body = json.dumps(
        {
            "changes": [
                {"id": "old", "changed_at": "2026-09-01T08:00:00+08:00", "note": "接入平台之前"},
                {"id": "c-1", "changed_at": "2026-09-29T10:00:00+08:00", "note": "签发机关代码调整"},
                {"changed_at": "2026-09-30T10:00:00+08:00"},
                {"id": "later", "changed_at": "2027-01-01T10:00:00+08:00"},
            ]
        },
        ensure_ascii=False,
    ).encode()
    clock.set_now(_at(2026, 10, 1))
    assert service.updates.poll_feeds() == 2
    assert service.updates.poll_feeds() == 0  # seen by id (or time) already
    assert feed.hits == 2
    changes = client.get(f"{API}/updates", headers=world.h("gat_staff")).json()["items"]
    assert {(c["source"], c["due_on"], c["note"]) for c in changes} == {
        ("feed", "2026-11-02", "签发机关代码调整"),
        ("feed", "2026-11-03", None),
    }
    assert all(c["interface_kind"] == "proxied_api" for c in changes)
    assert recorded("quality.update.recorded")[-1].data["source"] == "feed"
    first = next(c for c in changes if c["due_on"] == "2026-11-02")
    # The provider confirms its API serves the update: met on time.
    assert (
        client.post(f"{API}/updates/{first['id']}/confirm", json={}, headers=world.h("szsj_admin")).status_code == 404
    )  # not its change to see
    assert (
        client.post(f"{API}/updates/{first['id']}/confirm", json={}, headers=world.h("province_authority")).status_code
        == 403
    )
    r = client.post(
        f"{API}/updates/{first['id']}/confirm", json={"note": "接口已切换到新库"}, headers=world.h("gat_staff")
    )
    assert r.status_code == 200 and r.json()["state"] == "met" and r.json()["met_by"] == "confirmation"
    assert r.json()["met_late"] is False
    assert (
        client.post(f"{API}/updates/{first['id']}/confirm", json={}, headers=world.h("gat_staff")).json()["code"]
        == "quality.update.already_met"
    )
    # A broken or failing feed is skipped (logged) and records nothing.
    feed.body = b'{"changes": [{"id": "x", "changed_at": "2026-10-01"}]}'
    assert service.updates.poll_feeds() == 0
    feed.status = 503
    assert service.updates.poll_feeds() == 0
    assert session.scalar(select(QualityUpdateChange.id).where(QualityUpdateChange.feed_key == "x")) is None


def test_fetch_feed_names_what_is_wrong(feed_server):
    url, feed = feed_server
    feed.body = b'{"changes": [{"changed_at": "2026-10-01T08:00:00+08:00"}, {"changed_at": "yesterday"}]}'
    with pytest.raises(InvalidInput) as caught:
        service.updates.fetch_feed(url)
    assert caught.value.code == "quality.update.feed_invalid" and "changes[1].changed_at" in caught.value.title_en
    feed.body = '{"changes": []}'.encode("utf-16")
    with pytest.raises(InvalidInput):
        service.updates.fetch_feed(url)
    feed.body = b'{"changes": []}'
    assert service.updates.fetch_feed(url) == []
    feed.status = 404
    with pytest.raises(InvalidInput) as caught:
        service.updates.fetch_feed(url)
    assert caught.value.code == "quality.update.feed_status"


# --- The page ----------------------------------------------------------------------------------------


def test_updates_page_records_a_change_and_lists_overdue_counts(hosted, world, session, client, app):
    clock.set_now(_at(2026, 12, 1))
    web = browser(app)
    sign_in(web, "gat_staff")
    page = web.get(f"/quality/updates?resource={hosted.id}")  # linked from the entry's quality page
    assert page.status_code == 200 and "数据更新义务" in page.text and "20 个工作日" in page.text
    assert f'<option value="{hosted.id}" selected>' in page.text
    assert f"/quality/updates?resource={hosted.id}" in web.get(f"/quality/checks/resources/{hosted.id}").text
    r = web.post(
        "/quality/updates",
        follow_redirects=False,
        data={
            "csrf_token": token_of(page.text),
            "resource": str(hosted.id),
            "changed_at": "2026-10-09T09:30",
            "note": "年度核查更新",
        },
    )
    assert r.status_code == 303, r.text
    assert _tick(session) == (0, 1)
    page = web.get("/quality/updates")
    assert "江苏省公安厅" in page.text and "年度核查更新" in page.text and "已逾期未更新" in page.text
    assert 'class="pager"' not in page.text  # one change: no pager (it once read "第 2–1 条，共 20 条")
    assert "逾期未更新（1 项）" in web.get("/quality").text
    en = web.get("/quality/updates?lang=en")
    assert "Update duty" in en.text and "Overdue updates by agency" in en.text
    # Bad input named next to the field, nothing stored.
    r = web.post(
        "/quality/updates",
        data={"csrf_token": token_of(page.text), "resource": str(hosted.id), "changed_at": "2027-01-01T09:30"},
    )
    assert r.status_code == 422 and "the change time cannot be in the future" in r.text  # the language chosen stays
    assert len(session.scalars(select(QualityUpdateChange)).all()) == 1


def test_the_app_background_job_polls_and_marks_overdue_once(proxied, feed_server, world, session, monkeypatch):
    """The job the app runs (``quality-updates``): the feed read, the change past its deadline marked
    overdue in the same round, and not again in the next."""
    from govshare.app import background_jobs
    from govshare.quality.config import reset_quality_settings

    url, feed = feed_server
    feed.body = b'{"changes": [{"id": "c-1", "changed_at": "2026-09-29T10:00:00+08:00"}]}'
    monkeypatch.setenv("GOVSHARE_QUALITY_BACKGROUND", "true")
    reset_quality_settings()
    try:
        job = next(j for j in background_jobs() if j.name == "quality-updates")
    finally:
        monkeypatch.delenv("GOVSHARE_QUALITY_BACKGROUND")
        reset_quality_settings()
    clock.set_now(_at(2026, 11, 3))
    job.run()
    job.run()
    assert [e.data["feed_key"] for e in recorded("quality.update.recorded")] == ["c-1"]
    assert len(recorded("quality.update.overdue")) == 1
    counts = service.updates.overdue_counts(session, viewer=SYSTEM_PRINCIPAL)
    assert counts.total == 1 and counts.by_agency[0].code == "js-gat"
