"""The negotiation (Art 13(1)) and publication-consent (Art 17) pages through the portal: a
negotiation opened, a proposal agreed; a disagreement decided by the province's authority with a
grant; consent asked from a grant and answered by the provider."""

from __future__ import annotations

import re

from tests.portal.portal_helpers import browser, sign_in, token_of
from tests.recorded import recorded
from tests.sharing.test_sharing_pages import _file, _request_id, pages_world  # noqa: F401 - the fixture


def _client(app, username: str):  # type: ignore[no-untyped-def]
    return sign_in(browser(app), username)


def _post(client, page_url: str, action: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(action, data={"csrf_token": token_of(page.text), **data}, follow_redirects=False)


def _open(app):  # type: ignore[no-untyped-def]
    staff = _client(app, "szsj_staff")
    r = _post(staff, "/sharing/negotiations/new", "/sharing/negotiations/new", {
        "provider": "js-gat", "title": "企业欠薪预警数据", "data_wanted": "各企业社保缴费中断情况",
        "purpose": "开展欠薪风险预警", "legal_basis": "《保障农民工工资支付条例》第八条", "message": "请协助提供"})
    assert r.status_code == 303, r.text
    nid = int(re.search(r"/sharing/negotiations/(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    return staff, nid


def test_negotiation_pages_from_opening_to_agreement(app, pages_world):  # noqa: F811
    staff, nid = _open(app)
    url = f"/sharing/negotiations/{nid}"
    assert "协商已发起" in staff.get(url + "?done=opened").text
    provider = _client(app, "gat_staff")
    r = _post(provider, url, url + "/propose", {"p_body": "按月提供", "p_items": "统一社会信用代码、名称",
                                                "p_region": "320500", "p_ends_on": "2027-12-31",
                                                "p_channel": "platform", "p_conditions": ""})
    assert r.status_code == 303, r.text
    page = provider.get(url).text
    assert "待对方同意" in page and "同意对方方案" not in page  # one does not agree to one's own proposal
    # A fee in the conditions is just text; a fee field cannot be sent through the form at all.
    assert "同意对方方案" in staff.get(url).text
    r = _post(staff, url, url + "/agree", {})
    assert r.status_code == 303
    assert "双方已协商一致" in staff.get(r.headers["location"]).text
    # Settled: the forms are gone, and a late post is refused on the page with the state.
    r = _post(provider, url, url + "/disagree", {"reason": "改变主意了"})
    assert r.status_code == 422 and "协商一致" in r.text
    assert [e.action for e in recorded(prefix="sharing.negotiation.")][-1] == "sharing.negotiation.agreed"


def test_disagreement_decided_on_the_page_with_a_grant(app, pages_world):  # noqa: F811
    staff, nid = _open(app)
    url = f"/sharing/negotiations/{nid}"
    r = _post(staff, url, url + "/disagree", {"reason": "对方不同意提供"})
    assert r.status_code == 303
    authority = _client(app, "prov_auth")
    page = authority.get(url).text
    assert "登记本级政府的决定" in page
    assert "登记本级政府的决定" not in _client(app, "sz_auth").get(url).text  # not of their level
    r = _post(authority, url, url + "/decision", {
        "government": "江苏省人民政府", "outcome": "share", "decision": "应当共享名称字段",
        "g_resource": pages_world.plain, "g_items": "名称", "g_region": "320500", "g_ends_on": "2027-12-31",
        "g_channel": "platform"})
    assert r.status_code == 303, r.text
    page = staff.get(url).text
    assert "江苏省人民政府" in page and "应当共享" in page and "/sharing/grants#grant-" in page
    grants = staff.get("/sharing/grants").text
    assert "企业登记信息" in grants and "申请公开这些数据" in grants


def test_publication_consent_pages(app, pages_world):  # noqa: F811
    staff = _client(app, "szsj_staff")
    rid = _request_id(_file(staff, pages_world.plain, items=["名称"]))
    provider = _client(app, "gat_staff")
    r = _post(provider, f"/sharing/requests/{rid}", f"/sharing/requests/{rid}/approve", {
        "items": ["名称"], "region_code": "320500", "ends_on": "2027-10-31", "channel": "platform"})
    assert r.status_code == 303, r.text
    grants = staff.get("/sharing/grants").text
    gid = int(re.search(r"/sharing/publications/new\?grant=(\d+)", grants).group(1))  # type: ignore[union-attr]
    form_url = f"/sharing/publications/new?grant={gid}"
    assert "公开前须征得提供单位同意" in staff.get(form_url).text
    r = _post(staff, form_url, "/sharing/publications/new", {"grant_id": gid, "content": "各区企业数量",
                                                              "channel": "市政府网站", "purpose": ""})
    assert r.status_code == 422
    r = _post(staff, form_url, "/sharing/publications/new", {"grant_id": gid, "content": "各区企业数量",
                                                              "channel": "市政府网站", "purpose": "营商环境年度报告"})
    assert r.status_code == 303
    listing = provider.get("/sharing/publications").text
    assert "同意公开" in listing and "待提供方同意" in listing
    pid = int(re.search(r'action="/sharing/publications/(\d+)/answer"', listing).group(1))  # type: ignore[union-attr]
    r = _post(provider, "/sharing/publications", f"/sharing/publications/{pid}/answer",
              {"answer": "refuse", "reason": ""})
    assert r.status_code == 422 and "《办法》第十七条" in r.text
    r = _post(provider, "/sharing/publications", f"/sharing/publications/{pid}/answer",
              {"answer": "consent", "reason": "注明来源"})
    assert r.status_code == 303
    assert "提供方已同意公开" in staff.get("/sharing/publications").text
