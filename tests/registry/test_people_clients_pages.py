"""An agency's people and machine-client pages: adding people with agency roles, issuing an API key
shown once, revoking it; scope (Art 5, 30), CSRF and form errors."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_portal_browser import (
    CHROMIUM,
    chromium,  # noqa: F401
    live_server,  # noqa: F401
)
from tests.portal.portal_helpers import (
    assert_fits_a_phone,
    browser,
    field_block,
    sign_in,
    signed_in_on_a_phone,
    token_of,
)
from tests.recorded import recorded

NEW_PASSWORD = "Xq7-initial-pass"
KEY_RE = re.compile(r"gsk_[A-Za-z0-9_\-]+")


def _add_person(c, code: str, **override: str):
    token = token_of(c.get(f"/agencies/{code}/people").text)
    data = {
        "username": "new_clerk",
        "display_name": "周新",
        "password": NEW_PASSWORD,
        "role": "agency_staff",
        "csrf_token": token,
    }
    data.update(override)
    return c.post(f"/agencies/{code}/people", data=data, follow_redirects=False)


def _add_client(c, code: str, name: str = "业务系统"):
    token = token_of(c.get(f"/agencies/{code}/clients").text)
    return c.post(f"/agencies/{code}/clients", data={"name": name, "csrf_token": token}, follow_redirects=False)


# --- People -------------------------------------------------------------------------------------


def test_authority_adds_a_person_who_can_then_sign_in(app, world):
    c = sign_in(browser(app), "prov_auth")
    r = _add_person(c, "js-gat", role="agency_admin")
    assert r.status_code == 303 and r.headers["location"] == "/agencies/js-gat/people?added=new_clerk"
    page = c.get(r.headers["location"]).text
    assert "已添加用户 new_clerk" in page and "周新" in page and "机关共享负责人" in page
    # the new person signs in with the initial password and holds the role in that agency
    new = sign_in(browser(app), "new_clerk", NEW_PASSWORD)
    me = new.get("/api/v1/me").json()
    assert [(g["role"], g["agency_code"]) for g in me["roles"]] == [("agency_admin", "js-gat")]
    [granted] = recorded("registry.role.granted")[-1:]
    assert granted.subject_id == "new_clerk" and granted.actor_name == "prov_auth"


def test_agency_admin_adds_staff_to_its_own_agency_only(app, world):
    c = sign_in(browser(app), "gat_admin")
    assert _add_person(c, "js-gat").status_code == 303
    people = c.get("/agencies/js-gat/people").text
    assert "new_clerk" in people and "gat_staff" in people and "gat_admin" in people
    # another agency: no form offered, and a forged post is refused with the 403 page
    other = c.get("/agencies/sz-sj/people")
    assert other.status_code == 200 and 'action="/agencies/sz-sj/people"' not in other.text
    before = len(recorded("registry.person.created"))
    token = token_of(c.get("/agencies/js-gat/people").text)
    r = c.post(
        "/agencies/sz-sj/people",
        data={
            "username": "forged",
            "display_name": "伪造",
            "password": NEW_PASSWORD,
            "role": "agency_admin",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "超出您的管辖范围" in r.text
    assert len(recorded("registry.person.created")) == before
    assert "forged" not in sign_in(browser(app), "szsj_admin").get("/agencies/sz-sj/people").text


def test_admin_deactivates_and_reactivates_a_colleague_from_the_people_page(app, world):
    c = sign_in(browser(app), "gat_admin")
    page = c.get("/agencies/js-gat/people").text
    assert 'action="/agencies/js-gat/people/gat_staff/active"' in page
    assert 'action="/agencies/js-gat/people/gat_admin/active"' not in page  # not one's own account
    staff = sign_in(browser(app), "gat_staff")
    token = token_of(page)
    r = c.post(
        "/agencies/js-gat/people/gat_staff/active", data={"active": "0", "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "已停用用户 gat_staff 的账号" in page and "已停用</span>" in page and "恢复" in page
    # their open portal session ends at once
    assert staff.get("/api/v1/me").status_code == 401
    assert [e.actor_name for e in recorded("registry.person.deactivated")] == ["gat_admin"]
    r = c.post(
        "/agencies/js-gat/people/gat_staff/active", data={"active": "1", "csrf_token": token}, follow_redirects=False
    )
    assert "已恢复用户 gat_staff 的账号" in c.get(r.headers["location"]).text
    assert sign_in(browser(app), "gat_staff").get("/api/v1/me").status_code == 200
    # without the form token: refused, nothing changed
    r = c.post("/agencies/js-gat/people/gat_staff/active", data={"active": "0"}, follow_redirects=False)
    assert r.status_code == 403
    assert len(recorded("registry.person.deactivated")) == 1
    # staff see no buttons, and a forged post is the 403 page
    staff_page = sign_in(browser(app), "gat_staff")
    assert "/people/gat_admin/active" not in staff_page.get("/agencies/js-gat/people").text
    r = staff_page.post(
        "/agencies/js-gat/people/gat_admin/active",
        data={"active": "0", "csrf_token": token_of(staff_page.get("/agencies/js-gat/people").text)},
        follow_redirects=False,
    )
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")


def test_staff_sees_its_colleagues_but_gets_no_form(app, world):
    c = sign_in(browser(app), "gat_staff")
    page = c.get("/agencies/js-gat/people").text
    assert "gat_admin" in page and 'name="password"' not in page
    assert c.get("/agencies/js-gat/clients").status_code == 403
    # an outsider sees nobody of another agency
    outsider = sign_in(browser(app), "szsj_admin").get("/agencies/js-gat/people").text
    assert "gat_staff" not in outsider and "没有您可查看的人员" in outsider
    assert browser(app).get("/agencies/js-gat/people", follow_redirects=False).status_code == 303  # to /login


def test_person_form_errors_rerender_with_field_messages(app, world):
    c = sign_in(browser(app), "gat_admin")
    before = len(recorded("registry.person.created"))
    r = _add_person(c, "js-gat", username="坏 名字", password="short", display_name="周新")
    assert r.status_code == 422
    assert "格式不正确" in field_block(r.text, "username")
    assert "至少 8 个字符" in field_block(r.text, "password")
    assert 'value="坏 名字"' in r.text and 'value="周新"' in r.text
    assert "short" not in field_block(r.text, "password")  # a password is never echoed back
    bad_role = _add_person(c, "js-gat", role="authority")
    assert bad_role.status_code == 422 and "请从列表中选择" in field_block(bad_role.text, "role")
    taken = _add_person(c, "js-gat", username="gat_staff")
    assert taken.status_code == 422 and "用户名 gat_staff 已被使用" in field_block(taken.text, "username")
    missing = _add_person(c, "js-gat", username="", display_name="", password="")
    assert missing.status_code == 422
    for name in ("username", "display_name", "password"):
        assert "请填写此项" in field_block(missing.text, name)
    assert len(recorded("registry.person.created")) == before


def test_forms_without_csrf_token_are_refused(app, world):
    c = sign_in(browser(app), "prov_auth")
    r = c.post(
        "/agencies/js-gat/people",
        data={"username": "nocsrf", "display_name": "无令牌", "password": NEW_PASSWORD, "role": "agency_staff"},
    )
    assert r.status_code == 403 and "表单已失效" in r.text
    r = c.post("/agencies/js-gat/clients", data={"name": "无令牌"})
    assert r.status_code == 403
    assert "nocsrf" not in c.get("/agencies/js-gat/people").text
    assert "无令牌" not in c.get("/agencies/js-gat/clients").text


# --- Machine clients ----------------------------------------------------------------------------


def test_client_key_is_shown_once_and_works_until_revoked(app, world, client):
    c = sign_in(browser(app), "gat_admin")
    r = _add_client(c, "js-gat", "户籍核验系统")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert "密钥仅显示一次" in r.text
    [key] = set(KEY_RE.findall(r.text))
    me = client.get("/api/v1/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["kind"] == "client" and me.json()["name"] == "js-gat/户籍核验系统"
    listing = c.get("/agencies/js-gat/clients").text
    assert "户籍核验系统" in listing and key not in listing and key[:8] in listing
    # revoke through the button's form
    client_id = re.search(r'action="/agencies/js-gat/clients/(\d+)/revoke"', listing).group(1)
    rv = c.post(
        f"/agencies/js-gat/clients/{client_id}/revoke", data={"csrf_token": token_of(listing)}, follow_redirects=False
    )
    assert rv.status_code == 303 and rv.headers["location"] == "/agencies/js-gat/clients?revoked=1"
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 401
    after = c.get(rv.headers["location"]).text
    assert "客户端已吊销" in after and "已吊销" in after and f"/clients/{client_id}/revoke" not in after
    [event] = recorded("registry.client.revoked")
    assert event.agency_code == "js-gat" and event.actor_name == "gat_admin"


def test_clients_are_for_the_agency_admin_and_its_authorities(app, world):
    admin = sign_in(browser(app), "gat_admin")
    assert _add_client(admin, "js-gat").status_code == 200
    assert admin.get("/agencies/sz-sj/clients").status_code == 403
    token = token_of(admin.get("/agencies/js-gat/clients").text)
    forged = admin.post("/agencies/sz-sj/clients", data={"name": "伪造", "csrf_token": token})
    assert forged.status_code == 403 and "gsk_" not in forged.text
    # the Suzhou authority neither sees nor revokes a provincial agency's client
    listing = sign_in(browser(app), "prov_auth").get("/agencies/js-gat/clients").text
    client_id = re.search(r"/clients/(\d+)/revoke", listing).group(1)
    sz = sign_in(browser(app), "sz_auth")
    sz_token = token_of(sz.get("/agencies/sz-sj/clients").text)
    assert sz.post(f"/agencies/js-gat/clients/{client_id}/revoke", data={"csrf_token": sz_token}).status_code == 403
    # nor through an agency it does manage
    assert sz.post(f"/agencies/sz-sj/clients/{client_id}/revoke", data={"csrf_token": sz_token}).status_code == 404
    assert not recorded("registry.client.revoked")


def test_client_form_errors(app, world):
    c = sign_in(browser(app), "prov_auth")
    empty = _add_client(c, "js-gat", "")
    assert empty.status_code == 422 and "请填写此项" in field_block(empty.text, "name")
    long = _add_client(c, "js-gat", "x" * 101)
    assert long.status_code == 422 and "最多 100 个字符" in field_block(long.text, "name")
    assert _add_client(c, "js-gat", "数据交换").status_code == 200
    dup = _add_client(c, "js-gat", "数据交换")
    assert dup.status_code == 422 and "已有名为 数据交换 的客户端" in field_block(dup.text, "name")
    assert not [k for k in KEY_RE.findall(dup.text) if len(k) > 8]  # only key prefixes, no new key


def test_agency_page_and_console_link_to_people_and_clients(app, world):
    admin = sign_in(browser(app), "gat_admin")
    page = admin.get("/agencies/js-gat").text
    assert 'href="/agencies/js-gat/people"' in page and 'href="/agencies/js-gat/clients"' in page
    console = admin.get("/console").text
    assert 'href="/agencies/js-gat/people"' in console and 'href="/agencies/js-gat/clients"' in console
    staff = sign_in(browser(app), "gat_staff").get("/agencies/js-gat").text
    assert 'href="/agencies/js-gat/people"' in staff and "/clients" not in staff
    public = browser(app).get("/agencies/js-gat").text
    assert "/people" not in public and "/clients" not in public


def test_pages_in_english(app, world):
    c = sign_in(browser(app), "gat_admin")
    c.get("/", params={"lang": "en"})
    r = _add_client(c, "js-gat", "Exchange")
    assert "This key is shown once only." in r.text and "密钥仅显示一次" not in r.text
    assert "People and roles" in c.get("/agencies/js-gat/people").text


def test_odd_input_is_never_a_500(app, world):
    c = sign_in(browser(app), "prov_auth")
    for name in ("a\x00b", "\u202e" * 3, "x" * 200):
        r = _add_person(c, "js-gat", username="odd_" + str(len(name)), display_name=name)
        assert r.status_code in (303, 422), r.text
        assert _add_client(c, "js-gat", name).status_code in (200, 422)
    assert c.get("/agencies/js-gat/people").status_code == 200
    assert c.get("/agencies/js-gat/clients").status_code == 200


# --- In a real browser, on a phone --------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
def test_key_page_fits_a_phone(live_server, chromium):  # noqa: F811
    with signed_in_on_a_phone(live_server, chromium) as page:
        page.get_by_role("link", name="本机关机器客户端").click()
        page.get_by_label("客户端名称").fill("户籍核验系统")
        page.get_by_role("button", name="添加并生成密钥").click()
        key = page.locator("#api-key").inner_text()
        assert key.startswith("gsk_") and "密钥仅显示一次" in page.locator("main").inner_text()
        assert_fits_a_phone(page, "mobile-client-key.png")
        page.get_by_role("link", name="我已保存密钥，返回客户端列表").click()
        assert key not in page.content()
        assert_fits_a_phone(page, "mobile-clients.png")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
def test_people_page_deactivation_works_on_a_phone(live_server, chromium):  # noqa: F811
    with signed_in_on_a_phone(live_server, chromium) as page:
        page.goto(live_server + "/agencies/js-gat/people")
        page.get_by_role("button", name="停用 gat_staff 的账号").click()
        page.wait_for_url(re.compile(r"changed=gat_staff"))
        assert "已停用用户 gat_staff 的账号" in page.locator("main").inner_text()
        assert_fits_a_phone(page, "mobile-people.png")
        page.get_by_role("button", name="恢复 gat_staff 的账号").click()
        page.wait_for_url(re.compile(r"to=active"))
        assert "已恢复用户 gat_staff 的账号" in page.locator("main").inner_text()
        page.get_by_role("link", name="为 gat_staff 重设密码").click()
        assert page.locator("h1").inner_text() == "为 gat_staff 重设密码"
        assert_fits_a_phone(page, "mobile-reset-password.png")
