"""A signed-in person changes their own password, on the API and on a page: the current password is
required, the new one must be long enough and new, and nothing typed is echoed back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.registry import service
from tests.browser.test_portal_browser import (
    CHROMIUM,
    chromium,  # noqa: F401
    live_server,  # noqa: F401
)
from tests.factories import PASSWORD
from tests.portal.portal_helpers import (
    assert_fits_a_phone,
    browser,
    field_block,
    sign_in,
    signed_in_on_a_phone,
    token_of,
)

NEW = "Another-pass-2026"


def _actions(subject: str) -> list[str]:
    with transaction() as s:
        return list(s.scalars(select(Event.action).where(Event.subject_id == subject).order_by(Event.seq)))


def test_change_password_over_the_api(app, client, world):
    h = world.h("gat_staff")
    r = client.post("/api/v1/me/password", headers=h, json={"current_password": "wrong-password", "new_password": NEW})
    assert r.status_code == 422 and r.json()["code"] == "registry.person.password_wrong"
    assert r.json()["field"] == "current_password"
    r = client.post("/api/v1/me/password", headers=h, json={"current_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 422  # schema: at least 8 characters, named in the problem
    assert "new_password" in r.text
    r = client.post("/api/v1/me/password", headers=h, json={"current_password": PASSWORD, "new_password": PASSWORD})
    assert r.status_code == 422 and r.json()["code"] == "registry.person.password_unchanged"
    assert "registry.person.password_set" not in _actions("gat_staff")
    r = client.post("/api/v1/me/password", headers=h, json={"current_password": PASSWORD, "new_password": NEW})
    assert r.status_code == 204, r.text
    assert _actions("gat_staff")[-1] == "registry.person.password_set"
    sign_in(browser(app), "gat_staff", NEW)  # the new password signs in
    old = browser(app)
    page = old.get("/login")
    r = old.post("/login", data={"username": "gat_staff", "password": PASSWORD, "csrf_token": token_of(page.text)})
    assert r.status_code == 401  # the old one no longer does


def test_a_machine_client_has_no_password(client, world):
    with transaction() as s:
        _client, key = service.add_client(s, "js-gat", "系统", by=OPERATOR)
    r = client.post(
        "/api/v1/me/password", headers={"X-API-Key": key}, json={"current_password": "x", "new_password": NEW}
    )
    assert r.status_code == 403 and r.json()["code"] == "auth.person_only"


def test_change_password_on_the_page(app, world):
    c = sign_in(browser(app), "gat_admin")
    console = c.get("/console").text
    assert 'href="/account/password"' in console
    page = c.get("/account/password")
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
    token = token_of(page.text)

    def submit(**data: str):  # type: ignore[no-untyped-def]
        return c.post("/account/password", data={"csrf_token": token, **data}, follow_redirects=False)

    r = submit(current_password=PASSWORD, new_password=NEW, confirm_password=NEW + "x")
    assert r.status_code == 422 and "两次输入的密码不一致" in field_block(r.text, "confirm_password")
    assert NEW not in r.text and PASSWORD not in r.text  # nothing typed comes back
    r = submit(current_password="not-my-password", new_password=NEW, confirm_password=NEW)
    assert r.status_code == 422 and "当前密码不正确" in field_block(r.text, "current_password")
    r = submit(current_password=PASSWORD, new_password="short", confirm_password="short")
    assert r.status_code == 422 and "密码至少 8 位" in field_block(r.text, "new_password")
    r = submit(current_password="", new_password="", confirm_password="")
    assert r.status_code == 422 and r.text.count("请填写此项") >= 3
    assert "registry.person.password_set" not in _actions("gat_admin")
    r = c.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW},
        follow_redirects=False,
    )
    assert r.status_code == 403  # no form token
    r = submit(current_password=PASSWORD, new_password=NEW, confirm_password=NEW)
    assert r.status_code == 303 and r.headers["location"] == "/console?password=changed"
    assert "密码已修改" in c.get(r.headers["location"]).text
    sign_in(browser(app), "gat_admin", NEW)
    c.get("/", params={"lang": "en"})
    english = c.get("/account/password").text
    assert "Change password" in english and "Current password" in english


def test_the_password_page_needs_a_signed_in_person(app, world):
    r = browser(app).get("/account/password", follow_redirects=False)
    assert r.status_code in (303, 401)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
def test_password_page_on_a_phone(live_server, chromium):  # noqa: F811
    with signed_in_on_a_phone(live_server, chromium, "gat_staff") as page:
        assert_fits_a_phone(page, "mobile-console.png")
        page.get_by_role("link", name="修改密码").click()
        page.get_by_label("当前密码").fill(PASSWORD)
        page.locator("#f-new_password").fill(NEW)
        page.get_by_label("再次输入新密码").fill(NEW + "?")
        page.get_by_role("button", name="修改密码").click()
        assert "两次输入的密码不一致" in page.locator("main").inner_text()
        assert_fits_a_phone(page, "mobile-password.png")
        page.get_by_label("当前密码").fill(PASSWORD)
        page.locator("#f-new_password").fill(NEW)
        page.get_by_label("再次输入新密码").fill(NEW)
        page.get_by_role("button", name="修改密码").click()
        page.wait_for_url(re.compile(r"/console\?password=changed$"))
        assert "密码已修改" in page.locator("main").inner_text()


# --- An admin resets a colleague's forgotten password -------------------------------------------


def test_manager_resets_a_password_over_the_api(app, client, world):
    r = client.post("/api/v1/people/gat_staff/password", headers=world.h("gat_admin"), json={"password": NEW})
    assert r.status_code == 204, r.text
    sign_in(browser(app), "gat_staff", NEW)
    # the reset revoked gat_staff's token (tests/registry/test_credentials_end.py); a new one for below
    assert client.get("/api/v1/me", headers=world.h("gat_staff")).status_code == 401
    with transaction() as s:
        world.tokens["gat_staff"] = service.issue_token(s, "gat_staff", by=OPERATOR)[1]
    for who, target, status, code in [
        ("suzhou_authority", "gat_staff", 403, "registry.out_of_scope"),  # a provincial agency's staff
        ("gat_admin", "prov_auth", 403, "registry.out_of_scope"),  # an authority's role
        ("gat_admin", "gat_admin", 409, "registry.person.reset_own_password"),
        ("gat_staff", "gat_admin", 403, None),  # staff manage nobody
        ("province_authority", "nobody", 404, "registry.person.not_found"),
    ]:
        r = client.post(f"/api/v1/people/{target}/password", headers=world.h(who), json={"password": NEW + "2"})
        assert r.status_code == status, (who, target, r.text)
        assert code is None or r.json()["code"] == code
    r = client.post("/api/v1/people/gat_staff/password", headers=world.h("gat_admin"), json={"password": "short"})
    assert r.status_code == 422 and "password" in r.text
    assert _actions("gat_staff").count("registry.person.password_set") == 1


def test_manager_resets_a_password_on_the_people_page(app, world):
    c = sign_in(browser(app), "gat_admin")
    people = c.get("/agencies/js-gat/people").text
    assert 'href="/agencies/js-gat/people/gat_staff/password"' in people
    assert 'href="/agencies/js-gat/people/gat_admin/password"' not in people  # not one's own
    page = c.get("/agencies/js-gat/people/gat_staff/password")
    assert page.status_code == 200 and "为 gat_staff 重设密码" in page.text
    token = token_of(page.text)

    def submit(**data: str):  # type: ignore[no-untyped-def]
        return c.post(
            "/agencies/js-gat/people/gat_staff/password", data={"csrf_token": token, **data}, follow_redirects=False
        )

    r = submit(password=NEW, confirm_password=NEW + "x")
    assert r.status_code == 422 and "两次输入的密码不一致" in field_block(r.text, "confirm_password")
    assert NEW not in r.text
    r = submit(password="short", confirm_password="short")
    assert r.status_code == 422 and "密码至少 8 位" in field_block(r.text, "password")
    r = submit(password=NEW, confirm_password=NEW)
    assert r.status_code == 303 and r.headers["location"] == "/agencies/js-gat/people?reset=gat_staff"
    assert "已为用户 gat_staff 设置新的初始密码" in c.get(r.headers["location"]).text
    sign_in(browser(app), "gat_staff", NEW)
    # one's own account: an error page pointing to "change password"; another agency's admin: 403
    assert c.get("/agencies/js-gat/people/gat_admin/password").status_code == 409
    other = sign_in(browser(app), "szsj_admin")
    assert other.get("/agencies/js-gat/people/gat_staff/password").status_code == 403
    r = other.post(
        "/agencies/js-gat/people/gat_staff/password",
        follow_redirects=False,
        data={
            "csrf_token": token_of(other.get("/agencies/sz-sj/people").text),
            "password": "Forged-pass-1",
            "confirm_password": "Forged-pass-1",
        },
    )
    assert r.status_code == 403
    sign_in(browser(app), "gat_staff", NEW)  # unchanged by the refused attempt
