"""The demo holds requests in every state, one overdue and one provisional, and grants in every
state, so `make run` shows the sharing workflow at once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from govshare import demo
from govshare.core import clock
from govshare.core.auth import OPERATOR
from govshare.sharing import rules, service
from govshare.sharing.models import SharingAgreement, SharingGrant


def test_demo_requests_in_every_state(session):
    with clock.frozen(dt.datetime(2026, 11, 30, 9, tzinfo=clock.LEGAL_TZ)):
        summary = demo.load(session)
        assert summary.sharing_requests >= 12
        reqs = service.list_requests(session, viewer=OPERATOR, limit=200).rows
        assert {r.state for r in reqs} == set(rules.REQUEST_STATES)
        reads = service.request_reads(session, reqs)
        assert sum(r.overdue for r in reads) == 1
        provisional = [r for r in reads if r.deadline.provisional]
        assert len(provisional) == 1 and provisional[0].deadline.deadline_on.year == 2027
        grants = session.scalars(select(SharingGrant.state)).all()
        assert set(grants) == set(rules.GRANT_STATES)
        agreements = set(session.scalars(select(SharingAgreement.state)).all())
        assert {"awaiting_signatures", "partially_signed", "signed"} <= agreements
        assert service.list_filings(session, viewer=OPERATOR).total == 1
        assert [n.state for n in service.list_negotiations(session, viewer=OPERATOR).rows] == ["escalated"]
