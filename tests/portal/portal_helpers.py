"""Helpers for the portal tests: a browser-like client, tokens from forms, signing in."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
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
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def field_block(html: str, name: str) -> str:
    """The ``<div class="field ...">`` holding the input or select named ``name``."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, flags=re.S):
        if f'id="f-{name}"' in block:
            return block
    raise AssertionError(f"no field {name} on the page")
