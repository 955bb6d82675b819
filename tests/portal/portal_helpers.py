"""Helpers for the portal tests: a browser-like client, tokens from forms, signing in, and a real
browser at phone width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.browser.test_portal_browser import ARTIFACTS, MOBILE_WIDTH, OVERFLOW_JS
from tests.factories import PASSWORD

HTML = {"accept": "text/html,application/xhtml+xml"}
_TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser(app: FastAPI) -> TestClient:
    """A client that asks for HTML, as a browser does, and keeps cookies."""
    return TestClient(app, headers=HTML)


def token_of(html: str) -> str:
    m = _TOKEN_RE.search(html)
    assert m, "page has no CSRF field"
    return m.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client


def field_block(html: str, name: str) -> str:
    """The ``<div class="field ...">`` holding the input or select named ``name``."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, flags=re.S):
        if f'id="f-{name}"' in block:
            return block
    raise AssertionError(f"no field {name} on the page")


@contextmanager
def signed_in_on_a_phone(live_server: str, chromium: Any, username: str = "gat_admin") -> Iterator[Any]:
    """A Chromium page at phone width, signed in as ``username``, on its console."""
    context = chromium.new_context(viewport={"width": MOBILE_WIDTH, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(live_server + "/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.locator("main").get_by_role("button", name="登录").click()
        page.wait_for_url(re.compile(r"/console$"))
        yield page
    finally:
        context.close()


def assert_fits_a_phone(page: Any, screenshot: str) -> None:
    """No horizontal scrolling and no element wider than the screen; keeps a screenshot."""
    result = page.evaluate(OVERFLOW_JS)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    assert result["scrollWidth"] <= MOBILE_WIDTH and not result["bad"], result
