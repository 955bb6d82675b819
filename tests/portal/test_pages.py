"""Portal pages: layout in both languages, sign-in and out, throttling, the console, error pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govshare.core import clock
from govshare.core.auth import SESSION_COOKIE
from govshare.core.config import get_settings, reset_settings
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.registry.models import LoginFailure, WebSession
from tests.factories import PASSWORD
from tests.portal.portal_helpers import HTML, browser, sign_in, token_of

PUBLIC_PAGES = [
    "/",
    "/login",
    "/regions",
    "/regions/320500",
    "/agencies",
    "/agencies/js-gat",
    "/agencies?region=320500&missing=1",
]
SIGNED_IN_PAGES = ["/console", "/agencies/new", "/agencies/js-gat/edit"]


def _check_layout(r, lang: str) -> None:
    assert r.status_code == 200, (r.url, r.text[:500])
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    html = r.text
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert f'<html lang="{"en" if lang == "en" else "zh-Hans"}">' in html
    assert '<link rel="stylesheet" href="/static/portal.css">' in html
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    if lang == "en":
        assert "Government Information Resource Sharing and Exchange Platform" in html
        assert ">Agencies</a>" in html and ">中文</a>" in html
    else:
        assert "政务信息资源共享交换平台" in html
        assert ">机关名录</a>" in html and ">English</a>" in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_in_both_languages(app, world, lang):
    c = browser(app)
    for path in PUBLIC_PAGES:
        _check_layout(c.get(path, params={"lang": lang}), lang)
    sign_in(c, "prov_auth")
    for path in SIGNED_IN_PAGES:
        _check_layout(c.get(path, params={"lang": lang}), lang)


def test_language_switch_is_remembered_in_a_cookie(app, world):
    c = browser(app)
    assert "lang=en" in c.get("/").text  # the switch link
    r = c.get("/agencies", params={"lang": "en"})
    assert "lang=en" in r.headers["set-cookie"]
    again = c.get("/regions")  # no query: the cookie decides
    assert '<html lang="en">' in again.text and "Region tree" in again.text
    back = c.get("/regions", params={"lang": "zh"})
    assert '<html lang="zh-Hans">' in back.text and "行政区划树" in back.text
    assert '<html lang="zh-Hans">' in c.get("/").text


def test_home_links_to_catalog_regions_agencies_and_docs(app, world):
    html = browser(app).get("/").text
    for href in ("/catalog", "/regions", "/agencies", "/docs", "/login"):
        assert f'href="{href}"' in html
    assert "已登记 4 个行政区划、5 个机关。" in html


# --- Sign-in ------------------------------------------------------------------------------------


def test_login_sets_a_safe_session_cookie_and_goes_to_the_console(app, world):
    c = browser(app)
    page = c.get("/login")
    r = c.post(
        "/login",
        data={"username": "prov_auth", "password": PASSWORD, "csrf_token": token_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=gss_")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert f"Max-Age={get_settings().session_ttl_seconds}" in cookie
    assert "Secure" not in cookie  # cookie_secure is off by default
    console = c.get("/console")
    assert console.status_code == 200 and "信息化主管部门" in console.text
    with transaction() as s:
        assert s.scalar(select(Event).where(Event.action == "auth.login")) is not None


def test_login_cookie_is_secure_when_configured(app, world, monkeypatch):
    monkeypatch.setenv("GOVSHARE_COOKIE_SECURE", "true")
    reset_settings()
    try:
        c = TestClient(app, headers=HTML, base_url="https://testserver")  # Secure cookies need https
        page = c.get("/login")
        assert "Secure" in page.headers["set-cookie"]  # the pre-session cookie too
        r = c.post(
            "/login",
            data={"username": "prov_auth", "password": PASSWORD, "csrf_token": token_of(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"]
    finally:
        monkeypatch.delenv("GOVSHARE_COOKIE_SECURE")
        reset_settings()


def test_login_returns_to_a_local_page_only(app, world):
    for given, expected in (
        ("/agencies?q=x", "/agencies?q=x"),
        ("//evil.example/", "/console"),
        ("https://evil.example/", "/console"),
        ("/\\evil.example", "/console"),
    ):
        c = browser(app)
        page = c.get("/login", params={"next": given})
        r = c.post(
            "/login",
            data={"username": "gat_staff", "password": PASSWORD, "next": given, "csrf_token": token_of(page.text)},
            follow_redirects=False,
        )
        assert r.headers["location"] == expected


@pytest.mark.parametrize("lang,message", [("zh", "用户名或密码错误"), ("en", "Wrong user name or password")])
def test_wrong_password_rerenders_the_form_and_records_the_failure(app, world, lang, message):
    c = browser(app)
    page = c.get("/login", params={"lang": lang})
    r = c.post(
        "/login", data={"username": "prov_auth", "password": "wrong-password", "csrf_token": token_of(page.text)}
    )
    assert r.status_code == 401
    assert message in r.text
    assert 'value="prov_auth"' in r.text  # what the user typed is kept
    assert "wrong-password" not in r.text  # but never the password
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    with transaction() as s:  # recorded in its own transaction: it survived the failed request
        assert s.scalar(select(LoginFailure.username)) == "prov_auth"
        assert s.scalar(select(Event.action).where(Event.action == "auth.login_failed")) is not None


def test_empty_fields_are_asked_for_without_counting_a_failure(app, world):
    c = browser(app)
    page = c.get("/login")
    r = c.post("/login", data={"username": "", "password": "", "csrf_token": token_of(page.text)})
    assert r.status_code == 422
    assert "请输入用户名" in r.text and "请输入密码" in r.text
    with transaction() as s:
        assert s.scalar(select(LoginFailure.id)) is None


def _from(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    """A browser-like client connecting from ``address``."""
    return TestClient(app, headers=HTML, client=(address, 50000))


@pytest.mark.parametrize("lang,wait", [("zh", "请在 30 秒后再试。"), ("en", "Try again in 30 seconds.")])
def test_failures_slow_the_address_they_come_from_not_the_owner(app, world, lang, wait):
    """Art 31, ASVS 2.2.1: after the free failures for an account from one address, that address waits
    (429, Retry-After, the wait on the page) even with the right password; the owner, from an address
    with no failures for the account, signs in; the attacker's address may still try other names."""
    clock.set_now(clock.now())  # frozen: the wait does not tick away between the requests
    limit = get_settings().login_max_failures
    attacker = _from(app, "203.0.113.7")
    token = token_of(attacker.get("/login", params={"lang": lang}).text)
    for _ in range(limit):
        r = attacker.post("/login", data={"username": "gat_admin", "password": "nope-nope", "csrf_token": token})
        assert r.status_code == 401
    r = attacker.post(
        "/login", data={"username": "gat_admin", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 429
    assert r.headers["retry-after"] == str(get_settings().login_delay_base_seconds) == "30"
    if lang == "zh":
        assert "登录失败次数过多" in r.text and "第三十一条" in r.text
    else:
        assert "Too many failed sign-ins" in r.text and "Art 31" in r.text
    assert wait in r.text
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    with transaction() as s:  # the refused attempt is not a new failure
        assert s.scalar(select(func.count()).select_from(LoginFailure)) == limit
        assert set(s.scalars(select(LoginFailure.address))) == {"203.0.113.7"}
    assert sign_in(_from(app, "198.51.100.20"), "gat_admin")  # the owner, from their own address
    assert sign_in(attacker, "gat_staff")  # another name from the attacker's address


def test_signing_in_again_ends_the_previous_session(app, world):
    c = sign_in(browser(app), "gat_staff")
    first = c.cookies.get(SESSION_COOKIE)
    sign_in(c, "gat_admin")
    assert c.cookies.get(SESSION_COOKIE) != first
    assert "/agencies/js-gat/edit" in c.get("/console").text  # now gat_admin
    with transaction() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 1
    stale = browser(app)
    stale.cookies.set(SESSION_COOKIE, first)
    assert stale.get("/console", follow_redirects=False).status_code == 303


def test_unusable_login_input_is_a_form_error_not_a_500(app, world):
    c = browser(app)
    token = token_of(c.get("/login").text)
    r = c.post("/login", data={"username": "prov\x00auth", "password": "x", "csrf_token": token})
    assert r.status_code == 422 and "空字符" in r.text and 'action="/login"' in r.text


def test_logout_ends_the_session(app, world):
    c = sign_in(browser(app), "gat_admin")
    old_cookie = c.cookies.get(SESSION_COOKIE)
    page = c.get("/console")
    assert 'action="/logout"' in page.text
    r = c.post("/logout", data={"csrf_token": token_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert f'{SESSION_COOKIE}=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    with transaction() as s:
        assert s.scalar(select(WebSession.id)) is None
    replay = browser(app)
    replay.cookies.set(SESSION_COOKIE, old_cookie)
    assert replay.get("/console", follow_redirects=False).status_code == 303


# --- CSRF ---------------------------------------------------------------------------------------


def test_login_form_without_or_with_a_forged_token_is_refused(app, world):
    c = browser(app)
    c.get("/login")
    data = {"username": "prov_auth", "password": PASSWORD}
    r = c.post("/login", data=data)
    assert r.status_code == 403 and "表单已失效" in r.text
    r = c.post("/login", data={**data, "csrf_token": "0" * 64})
    assert r.status_code == 403
    # a token from another visitor's page does not match this visitor's cookie
    other = browser(app)
    r = c.post("/login", data={**data, "csrf_token": token_of(other.get("/login").text)})
    assert r.status_code == 403
    # without the pre-session cookie (e.g. a cross-site form), even a real token is refused
    stranger = TestClient(app, headers=HTML)
    r = stranger.post("/login", data={**data, "csrf_token": token_of(other.get("/login").text)})
    assert r.status_code == 403
    with transaction() as s:
        assert s.scalar(select(WebSession.id)) is None


def test_signed_in_forms_need_the_session_token(app, world):
    c = sign_in(browser(app), "prov_auth")
    form = {"code": "js-csrf", "uscc": "91320000MA1MXXXX0B", "name": "江苏省测试局", "region_code": "320000"}
    assert c.post("/agencies/new", data=form).status_code == 403
    assert c.post("/agencies/new", data={**form, "csrf_token": "x"}).status_code == 403
    # the pre-session (login) token is not the session's
    login_token = token_of(browser(app).get("/login").text)
    assert c.post("/agencies/new", data={**form, "csrf_token": login_token}).status_code == 403
    assert c.post("/logout", data={}).status_code == 403
    assert c.get("/console", follow_redirects=False).status_code == 200  # still signed in
    assert c.get("/agencies/js-csrf").status_code == 404


def test_csrf_refusal_is_problem_json_for_non_browsers(app, world):
    r = TestClient(app).post("/login", data={"username": "a", "password": "b"})
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "portal.csrf_invalid"


# --- Console ------------------------------------------------------------------------------------


def test_console_redirects_to_login_when_signed_out(app, world):
    r = browser(app).get("/console", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fconsole"


def test_console_per_role(app, world):
    authority = sign_in(browser(app), "prov_auth").get("/console").text
    assert 'href="/agencies/new?region=320000"' in authority
    assert 'href="/agencies?region=320000&amp;missing=1"' in authority
    assert "未明确共享负责人的机关（2 个）" in authority  # nj-sj and sz-dsj lack an Art 30 person

    suzhou = sign_in(browser(app), "sz_auth").get("/console").text
    assert 'href="/agencies/new?region=320500"' in suzhou and "本地区机关（2 个）" in suzhou

    admin = sign_in(browser(app), "gat_admin").get("/console").text
    assert 'href="/agencies/js-gat"' in admin and 'href="/agencies/js-gat/edit"' in admin
    assert "/agencies/new" not in admin

    staff = sign_in(browser(app), "gat_staff").get("/console").text
    assert 'href="/agencies/js-gat"' in staff and "/agencies/js-gat/edit" not in staff

    supervisor = sign_in(browser(app), "super").get("/console").text
    assert "只读" in supervisor and 'href="/agencies?region=320000"' in supervisor
    assert "/agencies/new" not in supervisor and "/edit" not in supervisor

    secrecy = sign_in(browser(app), "secrecy").get("/console").text
    assert "保密行政管理部门" in secrecy and "第十九条" in secrecy


# --- Error pages --------------------------------------------------------------------------------


def test_unknown_page_is_an_html_404_for_browsers_and_json_otherwise(app, world):
    r = browser(app).get("/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "页面不存在" in r.text and '<meta name="viewport"' in r.text
    en = browser(app).get("/no-such-page", params={"lang": "en"})
    assert "Page not found" in en.text
    plain = TestClient(app).get("/no-such-page")
    assert plain.headers["content-type"] == "application/problem+json"


def test_api_errors_stay_problem_json_even_for_browsers(app, world):
    r = browser(app).get("/api/v1/agencies/no-such-agency")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "registry.agency.not_found"


def test_error_page_shows_who_is_signed_in(app, world):
    c = sign_in(browser(app), "gat_staff")
    r = c.get("/no-such-page")
    assert r.status_code == 404 and 'action="/logout"' in r.text


def test_bad_query_is_an_html_422(app, world):
    r = browser(app).get("/agencies", params={"offset": "minus-one"})
    assert r.status_code == 422 and "输入有误" in r.text and "offset" in r.text


def test_unexpected_error_is_an_html_500_page(world):
    from fastapi import Depends

    from govshare.app import create_app
    from govshare.core.auth import public

    app = create_app()

    @app.get("/boom", dependencies=[Depends(public)])
    def boom() -> None:
        raise RuntimeError("kaput")

    c = TestClient(app, headers=HTML, raise_server_exceptions=False)
    r = c.get("/boom")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "服务器内部错误" in r.text and "kaput" not in r.text
    plain = TestClient(app, raise_server_exceptions=False).get("/boom")  # not a browser: the core's answer
    assert plain.status_code == 500 and not plain.headers["content-type"].startswith("text/html")
    assert "kaput" not in plain.text


def test_pages_are_not_in_the_openapi_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith(("/api/", "/healthz"))]


def test_static_stylesheet_is_served(client):
    r = client.get("/static/portal.css")
    assert r.status_code == 200 and "max-width: 640px" in r.text
    assert re.search(r"\.table\.stack", r.text)
