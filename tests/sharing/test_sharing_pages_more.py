"""The negotiation (Art 13(1)) and publication-consent (Art 17) pages through the portal: a
negotiation opened, a proposal agreed; a disagreement decided by the province's authority with a
grant; consent asked on a grant's page and answered by the provider."""

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
    r = _post(
        staff,
        "/sharing/negotiations/new",
        "/sharing/negotiations/new",
        {
            "provider": "js-gat",
            "subject": "企业社保缴费中断情况",
            "purpose": "开展欠薪风险预警",
            "legal_basis": "《保障农民工工资支付条例》第八条",
            "message": "请协助提供近一年的数据",
        },
    )
    assert r.status_code == 303, r.text
    nid = int(re.search(r"/sharing/negotiations/(\d+)", r.headers["location"]).group(1))  # type: ignore[union-attr]
    return staff, nid


def test_negotiation_pages_from_opening_to_agreement(app, pages_world):  # noqa: F811
    staff, nid = _open(app)
    url = f"/sharing/negotiations/{nid}"
    assert "协商已发起" in staff.get(url + "?done=opened").text
    assert f'href="/sharing/negotiations/{nid}"' in staff.get("/sharing/negotiations").text
    provider = _client(app, "gat_staff")
    r = _post(provider, url, url + "/post", {"kind": "proposal", "body": "按季度提供名称和统一社会信用代码"})
    assert r.status_code == 303, r.text
    page = provider.get(url).text
    assert "按季度提供" in page and "同意对方方案" not in page  # one does not agree to one's own proposal
    assert "同意对方方案" in staff.get(url).text
    r = _post(staff, url, url + "/answer", {"answer": "agree", "body": "同意该方案"})
    assert r.status_code == 303
    assert "双方已协商一致" in staff.get(r.headers["location"]).text
    # Settled: a late disagreement is refused on the page, naming the state.
    r = _post(provider, url, url + "/answer", {"answer": "disagree", "body": "改变主意了"})
    assert r.status_code == 422 and "已达成一致" in r.text
    assert recorded(prefix="sharing.negotiation.")[-1].action == "sharing.negotiation.agreed"


def test_disagreement_decided_on_the_page_with_a_grant(app, pages_world):  # noqa: F811
    staff, nid = _open(app)
    url = f"/sharing/negotiations/{nid}"
    r = _post(staff, url, url + "/answer", {"answer": "disagree", "body": "对方不同意提供"})
    assert r.status_code == 303
    authority = _client(app, "prov_auth")
    console = authority.get("/console").text
    assert re.search(r'count-n">1</span> <span class="count-label">待报本级政府决定的协商', console)
    assert "登记本级政府的决定" in authority.get(url).text
    assert "登记本级政府的决定" not in _client(app, "sz_auth").get(url).text  # not of their level
    r = _post(
        authority,
        url,
        url + "/decide",
        {
            "government": "江苏省人民政府",
            "outcome": "share",
            "decision": "应当共享名称字段",
            "g_resource": pages_world.plain,
            "g_items": "名称",
            "g_region": "320500",
            "g_ends_on": "2027-12-31",
            "g_channel": "platform",
        },
    )
    assert r.status_code == 303, r.text
    page = staff.get(url).text
    assert "江苏省人民政府" in page and "应当共享" in page and "/sharing/grants#grant-" in page
    assert "企业登记信息" in staff.get("/sharing/grants").text


def test_publication_consent_pages(app, pages_world):  # noqa: F811
    staff = _client(app, "szsj_staff")
    rid = _request_id(_file(staff, pages_world.plain, items=["名称"]))
    provider = _client(app, "gat_staff")
    r = _post(
        provider,
        f"/sharing/requests/{rid}",
        f"/sharing/requests/{rid}/approve",
        {"items": ["名称"], "region_code": "320500", "ends_on": "2027-10-31", "channel": "platform"},
    )
    assert r.status_code == 303, r.text
    grants = staff.get("/sharing/grants").text
    gid = int(re.search(r"/sharing/grants/(\d+)/publications", grants).group(1))  # type: ignore[union-attr]
    url = f"/sharing/grants/{gid}/publications"
    assert "公开前须征得提供单位同意" in staff.get(url).text
    assert 'id="ask"' not in provider.get(url).text  # the provider answers, it does not ask
    r = _post(
        staff,
        url,
        url,
        {"kind": "already_public", "description": "各区企业数量统计表，市政府网站", "source_statement": ""},
    )
    assert r.status_code == 422 and "《办法》第十七条" in r.text
    r = _post(staff, url, url, {"kind": "consent", "description": "各区企业数量统计表，市政府网站"})
    assert r.status_code == 303
    page = provider.get(url).text
    assert "待提供方同意" in page and "同意公开" in page
    pid = int(re.search(r'action="/sharing/publications/(\d+)/answer"', page).group(1))  # type: ignore[union-attr]
    r = _post(provider, url, f"/sharing/publications/{pid}/answer", {"answer": "consent", "reason": "同意，注明来源"})
    assert r.status_code == 303
    assert "提供方已同意" in staff.get(url).text
    assert recorded("sharing.publication.consented")[0].data["article"] == "Art 17"
