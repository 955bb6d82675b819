"""Which clock and when it ends (Art 18; 国发〔2016〕51号), on the official calendar: the day of
receipt is not counted, holidays and make-up working days are.

* Conditional, received Tuesday 29 September 2026: 30 September is day 1, 1-7 October are the
  National Day holidays, Saturday 10 October is a make-up working day, so day 10 is Monday
  19 October (weekdays alone would say 13 October).
* Personal data, received Thursday 12 February 2026: Saturday 14 February is a make-up working day,
  15-23 February the Spring Festival, Saturday 28 February another make-up day; day 15 is
  Wednesday 11 March.
* Personal data, received Tuesday 22 December 2026: 2027 has no official calendar yet, so 1 January
  2027 counts as a weekday and the deadline, 12 January 2027, is provisional. Importing the 2027
  schedule (1 January a holiday) recomputes it to 13 January, no longer provisional, and records it.
"""

from __future__ import annotations

import datetime as dt

from govshare.core import clock, workdays
from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.sharing import rules
from tests.recorded import recorded
from tests.sharing.sharing_helpers import API, at, file_request

SCHEDULE_2027 = {"year": 2027, "holidays": {"2027-01-01": "元旦"}, "workdays": {}, "source": "测试用"}


def test_the_clock_table_names_its_sources():
    assert rules.CLOCK_RULES["conditional"].workdays == 10 and "51号" in rules.CLOCK_RULES["conditional"].source
    assert rules.CLOCK_RULES["sensitive"].workdays == 15 and rules.CLOCK_RULES["sensitive"].article == "Art 18"
    assert rules.CLOCK_RULES["unconditional"].workdays == 0


def test_which_clock(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-11-02")):
        cond = file_request(client, w, w.entries.conditional, items=["名称"])
        secret = file_request(client, w, w.entries.state_secret, items=["位置"])
        commercial = file_request(client, w, w.entries.commercial, items=["纳税额"])
        commercial_plain = file_request(client, w, w.entries.commercial, items=["统一社会信用代码"])
        personal_plain = file_request(client, w, w.entries.personal, items=["家庭人口数"])
    assert cond["deadline"]["rule"] == "conditional" and cond["deadline"]["workdays"] == 10
    assert secret["deadline"]["rule"] == "sensitive" and secret["touches"] == ["state_secret"]
    assert commercial["deadline"]["rule"] == "sensitive" and commercial["touches"] == ["commercial_secret"]
    # Items not marked secret or personal of an entry that marks its sensitive items: conditional.
    assert commercial_plain["deadline"]["rule"] == "conditional"
    assert personal_plain["deadline"]["rule"] == "conditional"


def test_conditional_deadline_crosses_national_day(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-09-29")):
        req = file_request(client, w, w.entries.conditional, items=["名称"])
    assert req["received_on"] == "2026-09-29"
    assert req["deadline"]["deadline_on"] == "2026-10-19" and not req["deadline"]["provisional"]
    assert req["deadline"]["workdays_left"] == 10
    with clock.frozen(at("2026-10-09")):  # 30 Sep, 8 and 9 Oct counted: 7 left
        got = client.get(f"{API}/requests/{req['id']}", headers=w.h("szsj_staff")).json()
        assert got["deadline"]["workdays_left"] == 7 and not got["overdue"]


def test_personal_deadline_crosses_spring_festival(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-02-12")):
        req = file_request(client, w, w.entries.personal, starts_on="2026-02-12")
    assert req["deadline"]["deadline_on"] == "2026-03-11" and not req["deadline"]["provisional"]


def test_deadline_into_2027_is_provisional_until_its_schedule_is_imported(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-12-22")):
        req = file_request(client, w, w.entries.personal)
        assert req["deadline"]["deadline_on"] == "2027-01-12" and req["deadline"]["provisional"]
        done = file_request(client, w, w.entries.personal, items=["姓名"])  # answered: not recomputed
        assert client.post(f"{API}/requests/{done['id']}/approve", json={}, headers=w.h("gat_staff")).status_code == 200
        with transaction() as s:
            workdays.import_schedule(s, SCHEDULE_2027, actor=OPERATOR.actor)
        got = client.get(f"{API}/requests/{req['id']}", headers=w.h("szsj_staff")).json()
    assert got["deadline"]["deadline_on"] == "2027-01-13" and not got["deadline"]["provisional"]
    changed = recorded("sharing.request.deadline_recomputed")
    assert [e.subject_id for e in changed] == [str(req["id"])]
    assert changed[0].data["deadline_before"] == "2027-01-12" and changed[0].data["deadline_on"] == "2027-01-13"
    summary = recorded("sharing.deadlines.recomputed")
    assert len(summary) == 1 and summary[0].data["requests"] == [req["id"]] and summary[0].subject_id == "2027"


def test_calendar_api_import_recomputes_too(sharing_world, client):
    w = sharing_world
    with clock.frozen(at("2026-12-22")):
        req = file_request(client, w, w.entries.personal)
        r = client.post("/api/v1/calendar/years", json=SCHEDULE_2027, headers=w.h("province_authority"))
        assert r.status_code == 201, r.text
        got = client.get(f"{API}/requests/{req['id']}", headers=w.h("szsj_staff")).json()
    assert got["deadline"]["deadline_on"] == "2027-01-13" and not got["deadline"]["provisional"]


def test_deadline_function_agrees(session):
    assert workdays.deadline(session, dt.date(2026, 9, 29), 10).deadline == dt.date(2026, 10, 19)
