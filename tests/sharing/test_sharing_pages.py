"""The sharing pages through the portal (a browser-like client with the session cookie and CSRF):
file a request from a catalog entry, the inboxes with their deadlines, the answer forms with their
refusals in place, the agreement's signatures and PDF, grants and revocation, the authority's
filing list, overdue requests and the console's counts."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog import service as catalog_service
from govshare.core import clock
from govshare.core.db import transaction
from govshare.sharing.models import SharingGrant, SharingRequest
from tests.factories import person
from tests.portal.portal_helpers import browser, sign_in, token_of

NOW = dt.datetime(2026, 11, 2, 10, 0, tzinfo=clock.LEGAL_TZ)  # a Monday


@pytest.fixture
def pages_world(sharing_world, session: Session):  # type: ignore[no-untyped-def]
    """The sharing tests' world on a Monday, with the personal-data and the plain conditional entry."""
    clock.set_now(NOW)
    sharing_world.personal = sharing_world.entries.personal
    sharing_world.plain = sharing_world.entries.conditional
    return sharing_world


def _client(app, username: str):  # type: ignore[no-untyped-def]
    return sign_in(browser(app), username)


def _file(client, resource: str, **fields: Any):  # type: ignore[no-untyped-def]
    page = client.get(f"/sharing/requests/new?resource={resource}")
    assert page.status_code == 200, page.text
    data: dict[str, Any] = {
        "csrf_token": token_of(page.text),
        "resource": resource,
        "items": ["公民身份号码", "是否低保"],
        "purpose": "核查最低生活保障申请人家庭情况",
        "legal_basis": "《社会救助暂行办法》第十一条",
        "region_scope": "320500",
        "starts_on": "2026-11-02",
        "ends_on": "2027-10-31",
    }
    data.update(fields)
    return client.post("/sharing/requests/new", data=data, follow_redirects=False)


def _grant(request_id: int) -> tuple[int, str, list[str]]:
    """(id, state, items) of the request's grant, read in a transaction of its own (SQLite's write
    lock must be free for the app's next request)."""
    with transaction() as s:
        g = s.scalars(select(SharingGrant).where(SharingGrant.request_id == request_id)).one()
        return g.id, g.state, list(g.items)


def _request_id(response) -> int:  # type: ignore[no-untyped-def]
    m = re.search(r"/sharing/requests/(\d+)", response.headers["location"])
    assert m, response.headers
    return int(m.group(1))


def test_catalog_entry_offers_a_request_and_the_form_files_it(app, pages_world, session):
    staff = _client(app, "szsj_staff")
    entry = staff.get(f"/catalog/{pages_world.personal}")
    assert f'href="/sharing/requests/new?resource={pages_world.personal}"' in entry.text
    form = staff.get(f"/sharing/requests/new?resource={pages_world.personal}")
    assert "15" in form.text and "公民身份号码" in form.text  # the personal-data clock is shown
    r = _file(staff, pages_world.personal)
    assert r.status_code == 303, r.text
    rid = _request_id(r)
    detail = staff.get(f"/sharing/requests/{rid}?done=submitted")
    assert "共享申请已提交" in detail.text
    assert "2026-11-23" in detail.text  # 15 working days after Monday 2 November
    assert "剩余 15 个工作日" in detail.text
    assert "提出申请" in detail.text and "《办法》第十八条" in detail.text  # the history with its article
    sent = staff.get("/sharing/requests?box=sent")
    assert f'id="request-{rid}"' in sent.text and "剩余 15 个工作日" in sent.text


def test_request_form_shows_refusals_next_to_their_fields(app, pages_world, session):
    staff = _client(app, "szsj_staff")
    r = _file(staff, pages_world.personal, items=[], purpose="x")
    assert r.status_code == 422
    assert "请至少选择一个信息项" in r.text
    r = _file(staff, pages_world.personal, region_scope="320100", ends_on="2026-01-01")
    assert r.status_code == 422
    assert 'class="field has-error"' in r.text or "has-error" in r.text
    with transaction() as s:
        assert s.scalar(select(SharingRequest.id)) is None  # nothing half done


def test_provider_inbox_sorted_by_urgency_and_overdue_highlighted(app, pages_world, session):
    staff = _client(app, "szsj_staff")
    first = _request_id(_file(staff, pages_world.plain, items=["名称"]))  # conditional: 10 working days
    second = _request_id(_file(staff, pages_world.personal))  # personal: 15 working days
    clock.set_now(dt.datetime(2026, 11, 20, 10, 0, tzinfo=clock.LEGAL_TZ))  # past the first deadline
    provider = _client(app, "gat_staff")
    inbox = provider.get("/sharing/requests?box=received")
    assert inbox.status_code == 200
    html = inbox.text
    assert html.index(f'id="request-{first}"') < html.index(f'id="request-{second}"')
    assert re.search(rf'<tr class="is-overdue" id="request-{first}"', html)
    assert "已逾期" in html
    overdue = provider.get("/sharing/overdue")
    assert f'id="request-{first}"' in overdue.text and f'id="request-{second}"' not in overdue.text
    console = provider.get("/console")
    assert "本机关逾期未答复" in console.text


def test_refusal_needs_a_lawful_ground_and_is_filed(app, pages_world, session):
    staff = _client(app, "szsj_staff")
    rid = _request_id(_file(staff, pages_world.personal))
    provider = _client(app, "gat_staff")
    page = provider.get(f"/sharing/requests/{rid}")
    assert f'action="/sharing/requests/{rid}/refuse#refuse"' in page.text
    token = token_of(page.text)
    r = provider.post(
        f"/sharing/requests/{rid}/refuse",
        data={"csrf_token": token, "ground": "busy", "reason": "工作太忙，暂不提供数据。"},
    )
    assert r.status_code == 422 and "《办法》第十三条" in r.text
    reason = "申请的信息项涉及个人隐私，且用途不需要身份号码。"
    r = provider.post(
        f"/sharing/requests/{rid}/refuse",
        data={"csrf_token": token, "ground": "personal_privacy", "reason": reason},
        follow_redirects=False,
    )
    assert r.status_code == 303
    detail = provider.get(f"/sharing/requests/{rid}")
    assert "涉及个人隐私" in detail.text and "拒绝理由报信息化主管部门备案" in detail.text
    authority = _client(app, "prov_auth")
    filings = authority.get("/sharing/filings")
    assert f"/sharing/requests/{rid}" in filings.text and "涉及个人隐私" in filings.text
    assert "拒绝共享备案" in authority.get("/console").text


def test_approval_agreement_signatures_grant_and_revocation(app, pages_world, session):
    person(session, "szsj_admin2", "agency_admin", agency="sz-sj")
    session.commit()
    staff = _client(app, "szsj_staff")
    rid = _request_id(_file(staff, pages_world.personal))
    provider = _client(app, "gat_staff")
    page = provider.get(f"/sharing/requests/{rid}")
    r = provider.post(
        f"/sharing/requests/{rid}/approve",
        data={
            "csrf_token": token_of(page.text),
            "items": ["是否低保"],
            "region_code": "320500",
            "ends_on": "2027-06-30",
            "channel": "platform",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    # Only a non-personal item approved: no agreement, the grant is active at once.
    assert _grant(rid)[1:] == ("active", ["是否低保"])

    rid2 = _request_id(_file(staff, pages_world.personal))
    page = provider.get(f"/sharing/requests/{rid2}")
    r = provider.post(
        f"/sharing/requests/{rid2}/approve",
        data={
            "csrf_token": token_of(page.text),
            "items": ["公民身份号码", "是否低保"],
            "region_code": "320500",
            "ends_on": "2027-10-31",
            "channel": "platform",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "/sharing/agreements/" in r.headers["location"]
    agreement_url = r.headers["location"].split("?")[0]
    assert "签署保密协议" in provider.get(r.headers["location"]).text
    assert "以共享负责人身份签署" not in provider.get(agreement_url).text  # staff cannot sign
    pdf = provider.get(agreement_url + "/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for who in ("gat_admin", "szsj_admin2"):
        signer = _client(app, who)
        page = signer.get(agreement_url)
        assert "以共享负责人身份签署" in page.text
        r = signer.post(
            agreement_url + "/sign",
            data={
                "csrf_token": token_of(page.text),
                "pdf_sha256": re.search(r'name="pdf_sha256" value="([0-9a-f]+)"', page.text).group(1),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    assert "共享授权已生效" in signer.get(r.headers["location"]).text
    grants = provider.get("/sharing/grants")
    g2, state, _items = _grant(rid2)
    assert state == "active"
    assert f'action="/sharing/grants/{g2}/revoke"' in grants.text
    r = provider.post(f"/sharing/grants/{g2}/revoke", data={"csrf_token": token_of(grants.text), "reason": ""})
    assert r.status_code == 422
    r = provider.post(
        f"/sharing/grants/{g2}/revoke",
        data={"csrf_token": token_of(grants.text), "reason": "申请机关已不再承担该项职责"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _grant(rid2)[1] == "revoked"
    history = staff.get(f"/sharing/requests/{rid2}").text
    for line in ("提出申请", "提供单位同意共享", "生成保密协议", "签署保密协议", "共享授权生效", "提供单位撤销授权"):
        assert line in history, line


def test_pages_in_english_and_scoped(app, pages_world, session):
    staff = _client(app, "szsj_staff")
    rid = _request_id(_file(staff, pages_world.personal))
    en = staff.get(f"/sharing/requests/{rid}?lang=en")
    assert "15 working days left" in en.text and "Art 18" in en.text
    # Nanjing's authority oversees neither party: the request is not found for it.
    assert _client(app, "nj_auth").get(f"/sharing/requests/{rid}").status_code == 404
    assert _client(app, "prov_auth").get(f"/sharing/requests/{rid}").status_code == 200


def test_a_matched_demand_becomes_a_request_through_the_form(app, pages_world, session):
    from govshare.catalog.schemas import DemandCreate
    from govshare.core.auth import OPERATOR

    with transaction() as s:
        demand = catalog_service.file_demand(
            s,
            DemandCreate(
                requester="sz-sj",
                title="低保核查所需人口信息",
                duty="审核最低生活保障申请",
                legal_basis="《社会救助暂行办法》第十一条",
            ),
            by=OPERATOR,
        )
        catalog_service.match_demand(s, demand.id, [pages_world.personal], by=OPERATOR)
        did = demand.id
    staff = _client(app, "szsj_staff")
    sent = staff.get("/sharing/requests?box=sent")
    link = f"/sharing/requests/new?demand={did}&amp;resource={pages_world.personal}"
    assert link in sent.text
    form = staff.get(link.replace("&amp;", "&"))
    assert form.status_code == 200
    assert "审核最低生活保障申请" in form.text and f'name="demand_id" value="{did}"' in form.text
    r = _file(staff, pages_world.personal, demand_id=str(did), purpose="审核最低生活保障申请")
    assert r.status_code == 303, r.text
    with transaction() as s:
        assert s.get(SharingRequest, _request_id(r)).demand_id == did
    assert link not in staff.get("/sharing/requests?box=sent").text  # asked once, no longer offered
    # Someone else's demand cannot be turned into a request.
    assert _client(app, "gat_staff").get(f"/sharing/requests/new?demand={did}").status_code in (403, 404)


def test_a_dispute_holds_the_clock_on_the_page_and_is_decided_there(app, pages_world, session):
    from govshare.sharing import service
    from govshare.sharing.schemas import DisputeCreate

    staff = _client(app, "szsj_staff")
    rid = _request_id(_file(staff, pages_world.personal))
    with transaction() as s:
        from govshare.registry import service as registry_service

        gat = registry_service.authenticate_secret(s, pages_world.tokens["gat_staff"])
        service.open_dispute(
            s, rid, DisputeCreate(kind="personal_privacy", question="公民身份号码是否属于个人隐私"), by=gat
        )
    page = staff.get(f"/sharing/requests/{rid}").text
    assert "争议处理中，暂停计时" in page and "公民身份号码是否属于个人隐私" in page
    assert 'action="/sharing/disputes/' not in page  # a party does not decide
    authority = _client(app, "prov_auth")
    page = authority.get(f"/sharing/requests/{rid}").text
    did = int(re.search(r'action="/sharing/disputes/(\d+)/decide', page).group(1))  # type: ignore[union-attr]
    r = authority.post(
        f"/sharing/disputes/{did}/decide",
        data={
            "csrf_token": token_of(page),
            "outcome": "is_protected",
            "decision": "属于个人隐私，应签订保密协议后共享",
            "organ": "",
        },
        follow_redirects=False,
    )
    assert r.status_code == 422  # the competent organ must be named (Art 19(2))
    r = authority.post(
        f"/sharing/disputes/{did}/decide",
        data={
            "csrf_token": token_of(page),
            "outcome": "is_protected",
            "decision": "属于个人隐私，应签订保密协议后共享",
            "organ": "江苏省互联网信息办公室",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = staff.get(f"/sharing/requests/{rid}").text
    assert "江苏省互联网信息办公室" in page and "剩余" in page  # the clock runs again
