"""The API docs are served from local assets: no CDN is reachable from a government network."""

import re

import pytest

from tests.browser.test_portal_browser import (
    ARTIFACTS,
    CHROMIUM,
    chromium,  # noqa: F401
    live_server,  # noqa: F401
)


def test_docs_page_uses_local_assets(client):
    r = client.get("/docs")
    assert r.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text) + re.findall(r"url: '([^']+)'", r.text)
    assert "/docs-assets/swagger-ui-bundle.js" in urls
    external = [u for u in urls if u.startswith(("http://", "https://", "//"))]
    assert external == []
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        assert client.get(asset).status_code == 200


def test_openapi_is_served(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "govshare"
    assert "/api/v1/agencies" in spec["paths"]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at /usr/bin/chromium")
def test_docs_render_in_chromium_under_their_policy(live_server, chromium):  # noqa: F811
    """Swagger UI starts under the /docs Content-Security-Policy (its inline script allowed by hash)
    and the policy is in force: another inline script is blocked."""
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script("""
        window.__violations = [];
        document.addEventListener('securitypolicyviolation',
            e => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
    """)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    r = page.goto(live_server + "/docs")
    assert r is not None and r.status == 200 and "script-src" in r.headers["content-security-policy"]
    page.wait_for_selector(".swagger-ui .information-container .title", timeout=20_000)
    assert "govshare" in page.inner_text(".swagger-ui .information-container .title")
    page.wait_for_selector(".opblock", timeout=20_000)
    assert page.locator(".opblock").count() > 20  # the operations of /openapi.json, fetched under connect-src
    # Try an operation: Swagger UI calls the API from the page (connect-src 'self').
    page.click("#operations-ops-healthz_healthz_get .opblock-summary")
    page.click("#operations-ops-healthz_healthz_get .try-out__btn")
    page.click("#operations-ops-healthz_healthz_get .execute")
    status = "#operations-ops-healthz_healthz_get .live-responses-table tbody .response-col_status"
    page.wait_for_selector(status)
    assert page.inner_text(status).strip() == "200"
    page.screenshot(path=str(ARTIFACTS / "docs-1280.png"))
    assert page.evaluate("window.__violations") == [], errors
    assert errors == []

    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                             document.body.appendChild(s); }""")
    assert page.evaluate("window.__ran") is None
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__violations")[0].startswith("script-src")


def _readme_commands() -> list[list[str]]:
    """The sub-command words of every ``govshare ...`` line in the README's command block."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## The `govshare` command", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "govshare":
            continue
        path = []
        for word in words[1:]:
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            path.append(word)
        commands.append(path)
    return commands


def test_readme_commands_exist():
    """Every command the README lists answers --help: the documented command line is the real one."""
    from typer.testing import CliRunner

    from govshare.cli import app

    commands = _readme_commands()
    assert len(commands) >= 15
    runner = CliRunner()
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
