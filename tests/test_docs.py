"""The API docs are served from local assets: no CDN is reachable from a government network."""

import re


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
