"""My account: API tokens on the portal (list, issue once, revoke one's own), the password page ending
other sessions and throttling a guessed current password, in Chinese and English and on a phone."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from govshare.core import clock
from govshare.core.auth import OPERATOR
from govshare.core.config import get_settings
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.registry import service
from govshare.registry.models import ApiToken, Person
from tests.browser.test_portal_browser import (
    CHROMIUM,
    chromium,  # noqa: F401
    live_server,  # noqa: F401
)
from tests.factories import PASSWORD, bearer
from tests.portal.portal_helpers import (
    HTML,
    assert_fits_a_phone,
    browser,
    field_block,
    sign_in,
    signed_in_on_a_phone,
    token_of,
)

TOKEN_RE = re.compile(r'<code class="secret" id="api-token">(gsp_[^<]+)</code>')


def _revoke_ids(html: str) -> list[str]:
    return re.findall(r'action="/account/tokens/(\d+)/revoke"', html)


def test_my_tokens_page_issues_once_and_revokes(app, client, world):
    c = sign_in(browser(app), "gat_admin")
    assert 'href="/account/tokens"' in c.get("/console").text
    page = c.get("/account/tokens")
    assert page.status_code == 200 and "访问令牌" in page.text and "有效期 90 天" in page.text
    assert len(_revoke_ids(page.text)) == 1  # the world's token, issued at the command line
    with transaction() as s:
        hints = dict(
            s.execute(select(Person.username, ApiToken.token_hint).join(Person, Person.id == ApiToken.person_id)).all()
        )
    assert f"<code>{hints['gat_admin']}…</code>" in page.text
    assert f"<code>{hints['gat_staff']}…</code>" not in page.text  # one's own only

    r = c.post("/account/tokens", data={"name": "数据同步脚本", "csrf_token": token_of(page.text)})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "令牌仅显示一次" in r.text
    [secret] = TOKEN_RE.findall(r.text)
    assert client.get("/api/v1/me", headers=bearer(secret)).json()["username"] == "gat_admin"

    listing = c.get("/account/tokens").text
    assert "数据同步脚本" in listing and secret not in listing and secret[:8] in listing
    newest = _revoke_ids(listing)[0]
    r = c.post(f"/account/tokens/{newest}/revoke", data={"csrf_token": token_of(listing)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account/tokens?revoked=1"
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    after = c.get(r.headers["location"]).text
    assert "令牌已吊销" in after and "已吊销</span>" in after and f"/account/tokens/{newest}/revoke" not in after
    with transaction() as s:
        events = s.execute(
            select(Event.action, Event.actor_name)
            .where(Event.action.like("registry.token.%"), Event.subject_id == "gat_admin")
            .order_by(Event.seq)
        ).all()
    assert [tuple(e) for e in events][-2:] == [
        ("registry.token.issued", "gat_admin"),
        ("registry.token.revoked", "gat_admin"),
    ]


def test_someone_elses_token_is_not_found_and_forms_need_their_token(app, client, world):
    c = sign_in(browser(app), "gat_admin")
    listing = c.get("/account/tokens").text
    with transaction() as s:
        other = s.scalar(
            select(ApiToken.id).join(Person, Person.id == ApiToken.person_id).where(Person.username == "gat_staff")
        )
    r = c.post(f"/account/tokens/{other}/revoke", data={"csrf_token": token_of(listing)}, follow_redirects=False)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert client.get("/api/v1/me", headers=world.h("gat_staff")).status_code == 200
    assert c.post(f"/account/tokens/{other}/revoke", follow_redirects=False).status_code == 403  # no form token
    assert c.post("/account/tokens", data={"name": "x"}, follow_redirects=False).status_code == 403
    r = c.post("/account/tokens", data={"name": "  ", "csrf_token": token_of(listing)})
    assert r.status_code == 422 and "请填写此项" in field_block(r.text, "name")
    with transaction() as s:
        assert s.scalar(select(ApiToken.id).where(ApiToken.name == "x")) is None
    assert browser(app).get("/account/tokens", follow_redirects=False).status_code == 303  # signed out: login


def test_my_tokens_page_in_english(app, world):
    c = sign_in(browser(app), "gat_admin")
    c.get("/", params={"lang": "en"})
    page = c.get("/account/tokens").text
    assert "API tokens" in page and "valid for 90 days" in page and "Issue a new token" in page
    r = c.post("/account/tokens", data={"name": "laptop", "csrf_token": token_of(page)})
    assert "The token is shown only once." in r.text


def test_the_password_page_keeps_this_browser_and_ends_the_others(app, client, world):
    here = sign_in(browser(app), "gat_staff")
    there = sign_in(browser(app), "gat_staff")
    page = here.get("/account/password")
    r = here.post(
        "/account/password",
        follow_redirects=False,
        data={
            "csrf_token": token_of(page.text),
            "current_password": PASSWORD,
            "new_password": "Another-pass-2026",
            "confirm_password": "Another-pass-2026",
        },
    )
    assert r.status_code == 303
    assert here.get("/console", follow_redirects=False).status_code == 200
    assert there.get("/console", follow_redirects=False).status_code == 303  # to the sign-in page
    assert client.get("/api/v1/me", headers=world.h("gat_staff")).status_code == 401


def test_guessing_the_current_password_on_the_page_is_throttled(app, world):
    clock.set_now(clock.now())  # frozen: the wait shown does not tick away between the requests
    c = TestClient(app, headers=HTML, client=("203.0.113.7", 50000))
    sign_in(c, "gat_staff")
    token = token_of(c.get("/account/password").text)

    def submit(current: str):  # type: ignore[no-untyped-def]
        return c.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": current,
                "new_password": "Another-pass-2026",
                "confirm_password": "Another-pass-2026",
            },
        )

    for _ in range(get_settings().login_max_failures):
        assert submit("guess-guess").status_code == 422
    r = submit(PASSWORD)
    assert r.status_code == 429 and r.headers["retry-after"] == "30"
    block = field_block(r.text, "current_password")
    assert "登录失败次数过多" in block and "请在 30 秒后再试。" in block
    with transaction() as s:  # unchanged
        assert service.login(s, "gat_staff", PASSWORD, address="198.51.100.20")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
def test_tokens_page_on_a_phone(live_server, chromium):  # noqa: F811
    with transaction() as s:
        service.issue_token(s, "gat_admin", name="一个名字相当长的数据同步脚本令牌", by=OPERATOR)
    with signed_in_on_a_phone(live_server, chromium) as page:
        page.get_by_role("link", name="访问令牌").click()
        page.wait_for_url(re.compile(r"/account/tokens$"))
        page.get_by_label("令牌名称").fill("手机上的脚本")
        page.get_by_role("button", name="签发令牌").click()
        secret = page.locator("#api-token").inner_text()
        assert secret.startswith("gsp_") and "令牌仅显示一次" in page.locator("main").inner_text()
        assert_fits_a_phone(page, "mobile-token-created.png")
        page.get_by_role("link", name="我已保存令牌，返回令牌列表").click()
        assert secret not in page.content()
        page.get_by_role("button", name="吊销令牌 手机上的脚本").click()
        page.wait_for_url(re.compile(r"revoked=1$"))
        assert "令牌已吊销" in page.locator("main").inner_text()
        assert_fits_a_phone(page, "mobile-tokens.png")
        page.goto(live_server + "/account/tokens?lang=en")
        assert "API tokens" in page.locator("h1").inner_text()
        assert_fits_a_phone(page, "mobile-tokens-en.png")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
def test_a_throttled_sign_in_shows_the_wait_on_a_phone(live_server, chromium):  # noqa: F811
    clock.set_now(clock.now())  # the server runs in this process: its clock stands still too
    context = chromium.new_context(viewport={"width": 375, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(live_server + "/login")
        for password in ["guess-guess"] * get_settings().login_max_failures + [PASSWORD]:
            page.get_by_label("用户名").fill("gat_admin")
            page.get_by_label("密码").fill(password)
            page.locator("main").get_by_role("button", name="登录").click()
            page.wait_for_load_state()
        text = page.locator("main").inner_text()
        assert "登录失败次数过多" in text and "请在 30 秒后再试。" in text
        assert_fits_a_phone(page, "mobile-login-throttled.png")
        page.goto(live_server + "/login?lang=en")
        page.get_by_label("User name").fill("gat_admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert "Try again in 30 seconds." in page.locator("main").inner_text()
        assert_fits_a_phone(page, "mobile-login-throttled-en.png")
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
def test_a_throttled_password_change_shows_the_wait_on_a_phone(live_server, chromium):  # noqa: F811
    clock.set_now(clock.now())
    with signed_in_on_a_phone(live_server, chromium, "gat_staff") as page:
        assert_fits_a_phone(page, "mobile-console-account.png")
        page.get_by_role("link", name="修改密码").click()
        for current in ["guess-guess"] * get_settings().login_max_failures + [PASSWORD]:
            page.get_by_label("当前密码").fill(current)
            page.locator("#f-new_password").fill("Another-pass-2026")
            page.get_by_label("再次输入新密码").fill("Another-pass-2026")
            page.get_by_role("button", name="修改密码").click()
            page.wait_for_load_state()
        assert "请在 30 秒后再试。" in page.locator("#f-current_password-error").inner_text()
        assert_fits_a_phone(page, "mobile-password-throttled.png")
