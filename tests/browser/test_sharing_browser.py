"""Sharing in a real browser (Debian's Chromium through Playwright) against the real app.

1. A conditional request for personal data, from the catalog entry through the provider's approval
   and both responsible persons' signatures to an active grant.
2. A refusal on a lawful ground that lands in the provincial authority's filing list.

Every sharing page is also opened at 375 px (no sideways scrolling, nothing wider than the screen)
and at 1280 px; screenshots go to ``test-artifacts/sharing-*.png``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from govshare.core import clock
from govshare.core.db import transaction
from govshare.sharing.models import SharingAgreement, SharingGrant, SharingRequest
from tests.browser.browser_helpers import ARTIFACTS, CHROMIUM, MOBILE_WIDTH, check_fits, chromium_browser  # noqa: F401
from tests.factories import PASSWORD, person
from tests.live_server import serve
from tests.sharing.sharing_helpers import entries

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium"),
]

#: Monday 2 November 2026, 10:00 in Nanjing: 15 working days later is Monday 23 November.
NOW = dt.datetime(2026, 11, 2, 10, 0, tzinfo=clock.LEGAL_TZ)


@pytest.fixture
def sharing_server(world, session) -> Iterator[tuple[str, Any]]:  # type: ignore[no-untyped-def]
    clock.set_now(NOW)
    person(session, "szsj_staff", "agency_staff", agency="sz-sj")
    e = entries(session)
    session.commit()
    from govshare.app import create_app

    with serve(create_app()) as url:
        yield url, e


class Person:
    """One signed-in person with a desktop page and a phone page sharing the session."""

    def __init__(self, chromium: Any, base: str, username: str) -> None:
        self.base = base
        self.desktop_ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        self.page = self.desktop_ctx.new_page()
        self.page.set_default_timeout(20_000)
        self.page.goto(base + "/login")
        self.page.get_by_label("用户名").fill(username)
        self.page.get_by_label("密码").fill(PASSWORD)
        self.page.locator("main").get_by_role("button", name="登录").click()
        self.page.wait_for_url(re.compile(r"/console$"))
        self.phone_ctx = chromium.new_context(
            viewport={"width": MOBILE_WIDTH, "height": 812},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            storage_state=self.desktop_ctx.storage_state(),
        )
        self.phone = self.phone_ctx.new_page()
        self.phone.set_default_timeout(20_000)

    def shoot(self, name: str, path: str | None = None) -> None:
        """Screenshot the desktop page as it is, then ``path`` (default: the same URL) on the phone,
        checking that it fits 375 px."""
        self.page.screenshot(path=str(ARTIFACTS / f"sharing-desktop-{name}.png"), full_page=True)
        url = self.base + path if path else self.page.url
        self.phone.goto(url)
        check_fits(self.phone, name, f"sharing-mobile-{name}.png")

    def close(self) -> None:
        self.phone_ctx.close()
        self.desktop_ctx.close()


@pytest.fixture
def sign_in(sharing_server, chromium) -> Iterator[Callable[[str], Person]]:  # type: ignore[no-untyped-def]
    """Signs a person in (desktop and phone); everyone signed in is signed out after the test."""
    base, _ = sharing_server
    people: list[Person] = []

    def open_as(username: str) -> Person:
        people.append(Person(chromium, base, username))
        return people[-1]

    yield open_as
    for p in people:
        p.close()


def _main(page: Any) -> str:
    return page.locator("main").inner_text()  # type: ignore[no-any-return]


def _submit_request(page: Any) -> int:
    """Submit the request form on ``page``; the new request's id."""
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/sharing/requests/\d+\?done=submitted$"))
    return int(re.search(r"/sharing/requests/(\d+)", page.url).group(1))  # type: ignore[union-attr]


def test_personal_data_request_from_filing_to_active_grant(sharing_server, sign_in):
    base, e = sharing_server
    # The Suzhou market regulator files a request from the catalog entry.
    requester = sign_in("szsj_staff")
    page = requester.page
    page.goto(f"{base}/catalog/{e.personal}")
    page.locator("main").get_by_role("link", name="申请共享").click()
    page.wait_for_url(re.compile(r"/sharing/requests/new\?resource="))
    assert "15 个工作日" in _main(page)  # personal items: the Art 18 clock
    page.get_by_label("公民身份号码").check()
    page.get_by_label("是否低保").check()
    page.get_by_label("用途").fill("核查最低生活保障申请人家庭情况")
    page.get_by_label("所履行的职责及法律依据").fill("《社会救助暂行办法》第十一条：审核低保申请")
    page.get_by_label("数据范围（行政区划）").select_option("320500")
    page.get_by_label("共享期限截止日").fill("2027-10-31")
    requester.shoot("request-form")
    request_id = _submit_request(page)
    main = _main(page)
    assert "共享申请已提交" in main and "2026-11-23" in main and "剩余 15 个工作日" in main
    assert "提出申请" in main and "《办法》第十八条" in main
    requester.shoot("request-submitted", f"/sharing/requests/{request_id}")
    page.goto(base + "/sharing/requests?box=sent")
    assert page.locator(f"#request-{request_id}").count() == 1
    requester.shoot("inbox-sent")

    # The provider (provincial public security department) finds it in its inbox and approves.
    provider = sign_in("gat_staff")
    page = provider.page
    assert "待本机关答复" in _main(page)  # the console's sharing counts
    provider.shoot("console-provider", "/console")
    page.get_by_role("link", name="数据共享").first.click()
    page.wait_for_url(re.compile(r"/sharing/requests\?box=received$"))
    row = page.locator(f"#request-{request_id}")
    assert "剩余 15 个工作日" in row.inner_text()
    provider.shoot("inbox-received")
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/sharing/requests/{request_id}$"))
    provider.shoot("request-provider")
    approve = page.locator("form[action*='/approve']")
    assert approve.get_by_label("公民身份号码").is_checked()
    approve.get_by_label("同意的截止日").fill("2027-06-30")
    approve.get_by_role("button", name="同意").click()
    page.wait_for_url(re.compile(r"/sharing/agreements/\d+\?done=approved_agreement(#.*)?$"))
    agreement_id = int(re.search(r"/sharing/agreements/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    main = _main(page)
    assert "待双方签署" in main and "核查最低生活保障申请人家庭情况" in main
    assert page.get_by_role("button", name="以共享负责人身份签署").count() == 0  # staff do not sign
    provider.shoot("agreement-unsigned")
    pdf = page.request.get(f"{base}/sharing/agreements/{agreement_id}/pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # Both responsible persons sign: the grant becomes active.
    for username in ("gat_admin", "szsj_admin"):
        signer = sign_in(username)
        signer.page.goto(f"{base}/sharing/agreements/{agreement_id}")
        signer.page.get_by_role("button", name="以共享负责人身份签署").click()
        signer.page.wait_for_url(re.compile(r"\?done=signed"))
    page = signer.page
    assert "双方均已签署，共享授权已生效" in _main(page)
    assert page.locator("#party-provider").inner_text().count("✓") == 1
    assert page.locator("#party-consumer").inner_text().count("✓") == 1
    signer.shoot("agreement-signed", f"/sharing/agreements/{agreement_id}")

    page = requester.page
    page.goto(base + "/sharing/grants")
    card = page.locator("li.card", has_text="低保家庭信息")
    assert "有效" in card.inner_text() and "2027-06-30" in card.inner_text()
    requester.shoot("grants")
    page.goto(f"{base}/sharing/requests/{request_id}")
    history = page.locator("ol.timeline").inner_text()
    for line in ("提出申请", "提供单位同意共享", "生成共享授权", "生成保密协议", "签署保密协议", "共享授权生效"):
        assert line in history, line
    requester.shoot("request-history")
    page.goto(f"{base}/sharing/requests/{request_id}?lang=en")
    assert "History" in _main(page) and "Art 19" in _main(page)
    requester.shoot("request-history-en")
    page.goto(f"{base}/sharing/requests/{request_id}?lang=zh")

    with transaction() as s:
        req = s.get(SharingRequest, request_id)
        assert req is not None and req.state == "approved"
        grant = s.scalars(select(SharingGrant).where(SharingGrant.request_id == request_id)).one()
        assert grant.state == "active" and grant.items == ["公民身份号码", "是否低保"]
        assert grant.ends_on == dt.date(2027, 6, 30)
        agreement = s.get(SharingAgreement, agreement_id)
        assert agreement is not None and agreement.state == "signed"


def test_refusal_lands_in_the_authoritys_filing_list(sharing_server, sign_in):
    base, e = sharing_server
    requester = sign_in("szsj_staff")
    page = requester.page
    page.goto(f"{base}/sharing/requests/new?resource={e.conditional}")
    assert "10 个工作日" in _main(page)
    page.get_by_label(re.compile(r"^名称")).check()
    page.get_by_label("用途").fill("核对辖区企业名录")
    page.get_by_label("所履行的职责及法律依据").fill("《市场主体登记管理条例》第三条")
    request_id = _submit_request(page)
    assert "剩余 10 个工作日" in _main(page)

    provider = sign_in("gat_staff")
    page = provider.page
    page.goto(f"{base}/sharing/requests/{request_id}")
    refuse = page.locator("form[action*='/refuse']")
    # No ground: refused in place, citing Art 13.
    refuse.get_by_label("书面理由").fill("暂时不便提供。")
    refuse.get_by_role("button", name="拒绝").click()
    errors = page.locator("#form-errors").inner_text()
    assert "《办法》第十三条" in errors
    provider.shoot("refuse-errors", f"/sharing/requests/{request_id}")
    refuse = page.locator("form[action*='/refuse']")
    refuse.get_by_label("法定理由").select_option("other_legal_ground")
    refuse.get_by_label("所依据的法律法规条款").fill("《中华人民共和国统计法》第九条")
    refuse.get_by_label("书面理由").fill("申请的信息属于统计调查中的单个调查对象资料，依法不得对外提供。")
    refuse.get_by_role("button", name="拒绝").click()
    page.wait_for_url(re.compile(rf"/sharing/requests/{request_id}\?done=refused(#.*)?$"))
    main = _main(page)
    assert "已拒绝" in main and "拒绝理由报信息化主管部门备案" in main
    provider.shoot("refused", f"/sharing/requests/{request_id}")

    authority = sign_in("prov_auth")
    page = authority.page
    assert "拒绝共享备案" in _main(page)
    authority.shoot("console-authority", "/console")
    page.locator("main").get_by_role("link", name=re.compile("拒绝共享备案")).click()
    page.wait_for_url(re.compile(r"/sharing/filings$"))
    row = page.locator("table.filings tbody tr", has_text=f"申请 {request_id}")
    assert row.count() == 1
    text = row.inner_text()
    assert "法律、法规规定的其他情形" in text and "统计法" in text and "江苏省公安厅" in text
    authority.shoot("filings")
    page.goto(base + "/sharing/requests?box=all")
    assert page.locator(f"#request-{request_id}").count() == 1
    authority.shoot("inbox-region")
    page.goto(base + "/sharing/overdue")
    authority.shoot("overdue")
    page.goto(base + "/sharing/filings?lang=en")
    assert "Refusal filings" in _main(page)
    authority.shoot("filings-en")


def test_negotiation_to_a_government_decision_and_publication_consent(sharing_server, sign_in):
    base, e = sharing_server
    requester = sign_in("szsj_staff")
    page = requester.page
    page.goto(base + "/sharing/negotiations")
    page.locator("main").get_by_role("link", name="发起协商").click()
    page.get_by_label("数据持有机关").select_option("js-gat")
    page.get_by_label("需要的数据").fill("企业社保缴费中断情况")
    page.get_by_label("用途").fill("开展欠薪风险预警")
    page.get_by_label("所履行的职责及法律依据").fill("《保障农民工工资支付条例》第八条")
    page.get_by_label("第一条消息").fill("请协助提供近一年的数据。")
    requester.shoot("negotiation-form", "/sharing/negotiations/new")
    page.locator("main").get_by_role("button", name="发起协商").click()
    page.wait_for_url(re.compile(r"/sharing/negotiations/\d+\?done=opened$"))
    url = page.url.split("?")[0]

    provider = sign_in("gat_staff")
    page = provider.page
    page.goto(url)
    form = page.locator("#post form")
    form.get_by_label("类型").select_option("proposal")
    form.get_by_label("内容").fill("只能按季度提供企业名称")
    form.get_by_role("button", name="发送").click()
    page.wait_for_url(re.compile(r"\?done=proposal"))
    provider.shoot("negotiation-thread", url.removeprefix(base))

    page = requester.page
    page.goto(url)
    page.locator("#answer").get_by_label("意见").fill("仅有名称无法开展预警")
    page.locator("#answer").get_by_role("button", name="不同意，提交主管部门").click()
    page.wait_for_url(re.compile(r"\?done=escalated"))
    assert "已提请政府协调" in _main(page)

    authority = sign_in("prov_auth")
    page = authority.page
    page.goto(url)
    decision = page.locator("#decision")
    decision.get_by_label("作出决定的政府").fill("江苏省人民政府")
    decision.get_by_label("决定内容").fill("应当共享企业登记信息的名称和统一社会信用代码")
    decision.get_by_label("目录资源代码").fill(e.conditional)
    decision.get_by_label("信息项（以顿号或逗号分隔）").fill("统一社会信用代码、名称")
    decision.get_by_label("数据范围").select_option("320500")
    authority.shoot("negotiation-decision-form", url.removeprefix(base))
    decision.get_by_role("button", name="登记决定").click()
    page.wait_for_url(re.compile(r"\?done=decided"))
    assert "本级政府的决定已登记" in _main(page) and "江苏省人民政府" in _main(page)
    authority.shoot("negotiation-decided", url.removeprefix(base))
    page.goto(base + "/sharing/negotiations")
    authority.shoot("negotiations")

    page = requester.page
    page.goto(base + "/sharing/grants")
    page.get_by_role("link", name="向社会公开（第十七条）").first.click()
    ask = page.locator("#ask")
    ask.get_by_label("方式", exact=True).select_option("consent")
    ask.get_by_label("拟公开的内容、渠道和方式").fill("各区企业数量统计表，苏州市人民政府网站")
    ask.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"/publications\?done=requested"))
    grant_path = page.url.removeprefix(base).split("?")[0]
    page = provider.page
    page.goto(base + grant_path)
    provider.shoot("publications", grant_path)
    page.locator("main").get_by_label("答复意见").fill("同意，注明数据来源")
    page.get_by_role("button", name="同意公开").click()
    page.wait_for_url(re.compile(r"\?done=consented"))
    assert "提供方已同意" in _main(page)
