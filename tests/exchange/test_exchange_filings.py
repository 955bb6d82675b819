"""Off-platform sharing (Art 14(3)): filings, periodic statistics reports, overdue reports, scope.

Reporting periods are calendar months by default; a period's report is due 10 working days after
it ends, on the official calendar: September 2026 ends on Wednesday the 30th, 1-7 October are the
National Day holidays and Saturday 10 October is a make-up working day, so the report is due on
Tuesday 20 October (counting weekdays alone would say 14 October).
"""

from __future__ import annotations

import datetime as dt

import pytest

from govshare.core import clock, workdays
from tests.exchange.exchange_helpers import API, publish_entry
from tests.recorded import recorded

SHANGHAI = clock.LEGAL_TZ


@pytest.fixture(autouse=True)
def _long_lived_tokens(monkeypatch):  # type: ignore[no-untyped-def]
    """The tests move the clock months ahead; the people's API tokens must outlive that."""
    from govshare.core.config import reset_settings

    monkeypatch.setenv("GOVSHARE_TOKEN_TTL_DAYS", "3650")
    reset_settings()
    yield
    monkeypatch.delenv("GOVSHARE_TOKEN_TTL_DAYS")
    reset_settings()


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), SHANGHAI)


def _file(client, world, who="gat_staff", **body):  # type: ignore[no-untyped-def]
    payload = {
        "resource_text": "出入境人员信息（部委下发）",
        "counterpart_name": "公安部出入境管理局",
        "direction": "receive",
        "reason": "部委专网下发，尚未接入省共享交换平台",
        "channel": "部委专线",
        **body,
    }
    return client.post(f"{API}/filings", json=payload, headers=world.h(who))


def _overdue(client, world, who="province_authority", **params):  # type: ignore[no-untyped-def]
    r = client.get(f"{API}/filings/overdue", params=params, headers=world.h(who))
    assert r.status_code == 200, r.text
    return r.json()


def test_due_day_counts_working_days_on_the_official_calendar(session):
    assert workdays.deadline(session, dt.date(2026, 9, 30), 10).deadline == dt.date(2026, 10, 20)


def test_filing_reports_and_overdue_through_the_months(world, client):
    with clock.frozen(at("2026-09-15")):
        r = _file(client, world)
        assert r.status_code == 201, r.text
        filing = r.json()
        assert filing["report_period"] == "monthly" and filing["filed_on"] == "2026-09-15"
        assert filing["agency"] == "js-gat" and filing["region_code"] == "320000" and filing["overdue"] == 0
        fid = filing["id"]
        # The current period cannot be reported before it ends.
        r = client.post(
            f"{API}/filings/{fid}/reports",
            headers=world.h("gat_staff"),
            json={"period_start": "2026-09-01", "calls": 1, "records": 2, "purpose": "出入境证件核验"},
        )
        assert r.status_code == 422 and r.json()["code"] == "exchange.report.period_not_ended"
    with clock.frozen(at("2026-10-20", 23)):
        assert _overdue(client, world)["items"] == []  # due today: not overdue yet
    with clock.frozen(at("2026-10-21")):
        body = _overdue(client, world)
        assert [(o["filing_id"], o["period_start"], o["period_end"], o["due_on"]) for o in body["items"]] == [
            (fid, "2026-09-01", "2026-09-30", "2026-10-20")
        ]
        assert body["items"][0]["subject"] == "出入境人员信息（部委下发）" and body["as_of"] == "2026-10-21"
        assert client.get(f"{API}/filings/{fid}", headers=world.h("gat_staff")).json()["overdue"] == 1
        r = client.post(
            f"{API}/filings/{fid}/reports",
            json={"period_start": "2026-09-01", "calls": 120, "records": 4500, "purpose": "出入境证件核验"},
            headers=world.h("gat_staff"),
        )
        assert r.status_code == 201, r.text
        assert r.json()["late"] is True and r.json()["due_on"] == "2026-10-20"
        assert _overdue(client, world)["items"] == []
        r = client.post(
            f"{API}/filings/{fid}/reports",
            json={"period_start": "2026-09-01", "calls": 1, "records": 1, "purpose": "重复"},
            headers=world.h("gat_staff"),
        )
        assert r.status_code == 409 and r.json()["code"] == "exchange.report.exists"
    with clock.frozen(at("2026-12-01")):
        body = _overdue(client, world)
        # October's report was due on 13 November; November's is not due before 14 December.
        assert [(o["period_start"], o["due_on"]) for o in body["items"]] == [("2026-10-01", "2026-11-13")]
    (event,) = recorded("exchange.filing.report_submitted")
    assert event.data["calls"] == 120 and event.data["late"] is True
    assert recorded("exchange.filing.filed")[0].agency_code == "js-gat"


def test_quarterly_periods_and_period_starts(world, client):
    with clock.frozen(at("2026-02-10")):
        fid = _file(client, world, report_period="quarterly").json()["id"]
    with clock.frozen(at("2026-05-20")):
        h = world.h("gat_staff")
        body = {"calls": 3, "records": 30, "purpose": "核验"}
        r = client.post(f"{API}/filings/{fid}/reports", json={"period_start": "2026-02-01", **body}, headers=h)
        assert r.status_code == 422 and r.json()["code"] == "exchange.report.period_start"
        r = client.post(f"{API}/filings/{fid}/reports", json={"period_start": "2025-10-01", **body}, headers=h)
        assert r.status_code == 422 and r.json()["code"] == "exchange.report.period_outside"
        r = client.post(f"{API}/filings/{fid}/reports", json={"period_start": "2026-01-01", **body}, headers=h)
        assert r.status_code == 201 and r.json()["period_end"] == "2026-03-31" and r.json()["late"] is True
        assert r.json()["due_on"] == "2026-04-15"  # 10 working days after 31 March (Qingming on 4-6 April)


def test_an_ended_filing_owes_the_periods_it_was_active(world, client):
    with clock.frozen(at("2026-09-15")):
        fid = _file(client, world).json()["id"]
    with clock.frozen(at("2026-11-05")):
        # A reason of blanks is no reason: refused with the article, the filing stays active.
        r = client.post(f"{API}/filings/{fid}/end", json={"reason": "   "}, headers=world.h("gat_staff"))
        assert r.status_code == 422 and r.json()["code"] == "exchange.filing.end_reason_required", r.text
        assert r.json()["field"] == "reason" and r.json()["article"] == "Art 14(3)"
        r = client.post(f"{API}/filings/{fid}/end", json={"reason": "已接入省平台"}, headers=world.h("gat_staff"))
        assert r.status_code == 200 and r.json()["state"] == "ended" and r.json()["ended_on"] == "2026-11-05"
        again = client.post(f"{API}/filings/{fid}/end", json={"reason": "再次"}, headers=world.h("gat_staff"))
        assert again.status_code == 409
    with clock.frozen(at("2027-03-01")):
        owed = [o["period_start"] for o in _overdue(client, world)["items"]]
        assert owed == ["2026-09-01", "2026-10-01", "2026-11-01"]


def test_a_filing_names_its_resource_and_counterpart(world, session, client):
    entry = publish_entry(session, name="平台外共享的资源")
    session.commit()
    r = _file(
        client,
        world,
        resource=str(entry.id),
        resource_text=None,
        counterpart="sz-sj",
        counterpart_name=None,
        direction="provide",
    )
    assert r.status_code == 201, r.text
    assert r.json()["resource"]["id"] == entry.id and r.json()["counterpart"] == "sz-sj"
    assert r.json()["counterpart_name"] == "苏州市市场监督管理局"
    for body, code in (
        ({"resource_text": None}, "exchange.filing.resource_required"),
        ({"resource": str(entry.id)}, "exchange.filing.resource_twice"),
        ({"counterpart_name": None}, "exchange.filing.counterpart_required"),
        ({"counterpart": "js-gat"}, "exchange.filing.counterpart_self"),
    ):
        r = _file(client, world, **body)
        assert r.status_code == 422 and r.json()["code"] == code, (body, r.text)
    assert _file(client, world, counterpart="no-such").status_code == 404
    assert _file(client, world, reason="短").status_code == 422


@pytest.mark.parametrize(
    "who,status",
    [("gat_staff", 201), ("gat_admin", 201), ("szsj_admin", 403), ("province_authority", 403), ("supervisor", 403)],
)
def test_only_the_agency_files_for_itself(world, client, who, status):
    assert _file(client, world, who=who, agency="js-gat").status_code == status


def test_scope_of_lists_and_overdue(world, client):
    with clock.frozen(at("2026-09-15")):
        gat = _file(client, world).json()["id"]
        sz = _file(client, world, who="szsj_admin").json()["id"]
    with clock.frozen(at("2026-11-01")):

        def ids(who: str) -> set[int]:
            r = client.get(f"{API}/filings", headers=world.h(who))
            assert r.status_code == 200, r.text
            return {f["id"] for f in r.json()["items"]}

        assert ids("province_authority") == ids("supervisor") == {gat, sz}
        assert ids("suzhou_authority") == {sz} and ids("szsj_admin") == {sz} and ids("gat_staff") == {gat}
        assert ids("nanjing_authority") == set()
        assert {o["filing_id"] for o in _overdue(client, world, "suzhou_authority")["items"]} == {sz}
        assert {o["filing_id"] for o in _overdue(client, world, region="320500")["items"]} == {sz}
        assert _overdue(client, world, "nanjing_authority")["items"] == []
        assert client.get(f"{API}/filings/{sz}", headers=world.h("gat_staff")).status_code == 404
        assert client.get(f"{API}/filings/{sz}/reports", headers=world.h("nanjing_authority")).status_code == 404
        r = client.post(
            f"{API}/filings/{sz}/reports",
            json={"period_start": "2026-09-01", "calls": 1, "records": 1, "purpose": "核验"},
            headers=world.h("gat_staff"),
        )
        assert r.status_code == 404
        assert client.get(f"{API}/filings/overdue", headers=world.h("secrecy")).status_code == 403
