"""The gateway's usage pages and the integrator's page of a grant: the numbers equal the usage API's,
each reader sees its own scope, the charts are pygal SVGs served from this site with nothing from
elsewhere, and the curl line and OpenAPI fit the grant."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

from govshare.exchange.gateway.demo import GatewayDemo
from govshare.exchange.gateway.examples import curl_line
from govshare.portal.charts import outside_urls
from tests.exchange.gateway.gateway_helpers import GW, PURPOSE, agency_id, headers, machine_key
from tests.portal.portal_helpers import browser, sign_in

API = "/api/v1/exchange/usage"
ITEMS = ["公民身份号码", "姓名", "性别"]


@pytest.fixture
def calls(client, world, book, hosted, sz_key, session):  # type: ignore[no-untyped-def]
    """Suzhou's market regulator: 3 allowed calls and 1 with a wrong purpose; Nanjing's: 1 without a grant."""
    gid = book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"], items=ITEMS)
    nj_key = machine_key(session, "nj-sj")
    for _ in range(3):
        assert client.get(f"{GW}/{hosted.code}", params={"limit": 5}, headers=headers(sz_key)).status_code == 200
    assert client.get(f"{GW}/{hosted.code}", headers=headers(sz_key, "别的用途")).status_code == 403
    assert client.get(f"{GW}/{hosted.code}", headers=headers(nj_key)).status_code == 403
    return gid


def _group_rows(html: str) -> dict[str, list[int]]:
    """The overview's group table: row label -> calls, allowed, refused, failed, rows, bytes."""
    table = html.split('id="group-table"', 1)[1].split("</table>", 1)[0]
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], flags=re.S):
        label = re.sub(r"<[^>]+>", "", re.search(r"<th[^>]*>(.*?)</th>", row, flags=re.S).group(1)).strip()
        numbers = [int(n.replace(",", "")) for n in re.findall(r'<span class="num">([\d,]+)</span>', row)]
        out[label] = numbers
    return out


def _api_numbers(row: dict) -> list[int]:
    return [row[k] for k in ("calls", "allowed", "refused", "failed", "rows", "bytes")]


def test_overview_numbers_equal_the_api_and_charts_are_local(app, client, world, hosted, calls):
    gat = sign_in(browser(app), "gat_staff")
    for group in ("resource", "grant", "consumer", "outcome"):
        page = gat.get("/exchange/usage", params={"group": group})
        assert page.status_code == 200, page.text
        api = client.get(API, params={"group": group}, headers=world.h("gat_staff")).json()
        shown = _group_rows(page.text)
        assert sorted(shown.values()) == sorted(_api_numbers(r) for r in api["items"]), group
        assert int(re.search(r'id="total-calls"><span class="num">([\d,]+)', page.text).group(1)) == sum(
            n for _d, n in api["daily"]
        )
    by_grant = _group_rows(gat.get("/exchange/usage", params={"group": "grant"}).text)
    assert by_grant[f"授权 {calls}"][:4] == [3, 3, 0, 0] and by_grant["（无可用授权）"][:3] == [2, 0, 2]
    assert f'href="/exchange/grants/{calls}"' in gat.get("/exchange/usage", params={"group": "grant"}).text
    by_consumer = _group_rows(gat.get("/exchange/usage", params={"group": "consumer"}).text)
    assert set(by_consumer) == {"苏州市市场监督管理局", "南京市市场监督管理局"}

    page = gat.get("/exchange/usage", params={"group": "consumer", "period": "month"}).text
    assert outside_urls(page) == [] and "<script" not in page
    srcs = re.findall(r'<img src="(/exchange/usage/chart\.svg\?[^"]+)"', page)
    assert len(srcs) == 2
    for src in srcs:
        r = gat.get(src.replace("&amp;", "&"))
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        svg = r.text
        assert outside_urls(svg) == [], outside_urls(svg)  # no CDN script, no pygal comments
        assert "<script" not in svg and "style=" not in svg and "<!--" not in svg
        # The chart's own policy names exactly its <style> element's hash.
        style = next(n for n in ElementTree.fromstring(r.content).iter() if n.tag.endswith("}style"))
        digest = base64.b64encode(hashlib.sha256(style.text.encode()).digest()).decode()
        csp = r.headers["content-security-policy"]
        assert f"style-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    # Every name in the consumer chart is a consumer of the table.
    svg = gat.get(srcs[1].replace("&amp;", "&")).text
    assert "苏州市市场监督管理局" in svg and "南京市市场监督管理局" in svg
    english = gat.get("/exchange/usage?lang=en").text
    assert "Gateway usage" in english

    # Bad input: a period the service refuses is a 4xx page naming it, not a 500.
    bad = gat.get("/exchange/usage", params={"since": "2026-01-02", "until": "2025-01-01"})
    assert bad.status_code == 422


def test_each_reader_sees_its_own_scope(app, hosted, calls):
    # The provider: every consumer of its resource, with the purpose and the last call.
    gat = sign_in(browser(app), "gat_staff")
    page = gat.get("/exchange/usage/consumers").text
    assert "苏州市市场监督管理局" in page and "南京市市场监督管理局" in page and PURPOSE in page and "别的用途" in page

    # The consumer: nobody uses its data; its own grant, calls and errors, never Nanjing's call.
    sz = sign_in(browser(app), "szsj_admin")
    assert "区间内没有单位调用本单位提供的资源" in sz.get("/exchange/usage/consumers").text
    page = sz.get("/exchange/usage/calls").text
    row = page.split(f'id="grant-{calls}"', 1)[1].split("</tr>", 1)[0]
    # The wrong-purpose call matched no grant: the grant's calls are 3, the errors on its resource 1.
    assert re.findall(r'<span class="num">([\d,]+)</span>', row) == ["3", "1"]  # calls, errors
    assert "声明的用途与授权用途不符" in page and "exchange.gateway.purpose_mismatch" in page
    assert "exchange.gateway.no_grant" not in page and "南京市市场监督管理局" not in page
    overview = _group_rows(sz.get("/exchange/usage", params={"group": "consumer"}).text)
    assert set(overview) == {"苏州市市场监督管理局"}

    # Nanjing's authority: the calls of Nanjing's consumers only.
    nj = sign_in(browser(app), "nj_auth")
    page = nj.get("/exchange/usage/calls").text
    assert "exchange.gateway.no_grant" in page and "purpose_mismatch" not in page
    page = nj.get("/exchange/usage/consumers").text
    assert "南京市市场监督管理局" in page and "苏州市市场监督管理局" not in page

    # Signed out: to the sign-in page; no chart either.
    anon = browser(app)
    r = anon.get("/exchange/usage", follow_redirects=False)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/login")
    assert anon.get("/exchange/usage/chart.svg", follow_redirects=False).status_code in (302, 303, 401)
    assert anon.get(f"/exchange/grants/{calls}", follow_redirects=False).status_code in (302, 303)


def test_integrator_page_of_a_grant(app, client, hosted, calls):
    sz = sign_in(browser(app), "szsj_admin")
    page = sz.get(f"/exchange/grants/{calls}")
    assert page.status_code == 200, page.text
    html = page.text
    assert quote(PURPOSE) in html and f"/exchange/v1/{hosted.code}" in html
    assert "items=公民身份号码,姓名,性别" in html and "$GOVSHARE_API_KEY" in html
    assert outside_urls(html.split("<main", 1)[1].replace("http://testserver", "")) == []
    # The grant's calls, and the consumer's errors on the resource (a wrong purpose matches no grant).
    assert re.search(r'id="recent-use">调用 3 次，错误 1 次<', html)
    assert "exchange.gateway.purpose_mismatch" in html
    # The readable OpenAPI: the resource's own paths, the granted items named.
    assert f"/exchange/v1/{hosted.code}/query" in html and "X-Govshare-Purpose" in html
    doc = sz.get(f"/exchange/grants/{calls}/openapi.json").json()
    assert set(doc["paths"]) == {f"/exchange/v1/{hosted.code}", f"/exchange/v1/{hosted.code}/query"}
    row = doc["paths"][f"/exchange/v1/{hosted.code}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert set(row["schema"]["properties"]["items"]["items"]["properties"]) == set(ITEMS)
    # The curl line works as printed, with a real key in place of the placeholder.
    line = re.search(r'id="curl-line"><code>(.*?)</code>', html, flags=re.S).group(1)
    assert "curl -G" in line.replace("&#34;", '"')
    # Linked from the sharing grant list and the consumer's view.
    assert f'href="/exchange/grants/{calls}"' in sz.get("/sharing/grants").text
    assert f'href="/exchange/grants/{calls}"' in sz.get("/exchange/usage/calls").text
    # Outside the grant's scope: not found.
    nj = sign_in(browser(app), "nj_auth")
    assert nj.get(f"/exchange/grants/{calls}").status_code == 404
    assert nj.get(f"/exchange/grants/{calls}/openapi.json").status_code == 404


def test_console_links_the_usage_pages(app, world):
    for who, shown in (("gat_staff", True), ("sz_auth", True), ("super", True), ("secrecy", False)):
        page = sign_in(browser(app), who).get("/console").text
        assert ('href="/exchange/usage"' in page) is shown, who


def test_one_curl_function_for_demo_and_page():
    demo = GatewayDemo("sz-sj", "KEY", "101-000001", "核验 资格", ("a", "b", "c", "d"))
    assert demo.curl("http://h") == curl_line(
        "http://h", resource_code="101-000001", purpose="核验 资格", items=["a", "b", "c"], key="KEY"
    )
    assert "X-Govshare-Purpose: %E6%A0%B8%E9%AA%8C%20%E8%B5%84%E6%A0%BC" in demo.curl("http://h")
    verify = curl_line(
        "http://h/", resource_code="R", purpose="p", items=["id", "name"], verify_only=True, key_item="id"
    )
    assert '-X POST "http://h/exchange/v1/R/verify"' in verify and '"claims": {"name": "…"}' in verify


def test_periods_are_legal_days_and_months(client, world, session):
    """07:30 in Nanjing is still the day before in UTC: it counts on the Nanjing day, as the period does."""
    import datetime as dt

    from govshare.core.auth import OPERATOR
    from govshare.core.db import transaction
    from govshare.exchange.models import ExchangeCall
    from govshare.exchange.service import usage

    sz = agency_id(session, "sz-sj")
    with transaction() as s:
        for at, outcome in (
            (dt.datetime(2026, 11, 1, 23, 30, tzinfo=dt.UTC), "allowed"),  # 2 Nov 07:30 in Nanjing
            (dt.datetime(2026, 11, 2, 15, 59, tzinfo=dt.UTC), "refused"),  # 2 Nov 23:59
            (dt.datetime(2026, 11, 2, 16, 0, tzinfo=dt.UTC), "failed"),  # 3 Nov 00:00
            (dt.datetime(2026, 10, 31, 15, 0, tzinfo=dt.UTC), "allowed"),  # 31 Oct 23:00
        ):
            s.add(
                ExchangeCall(
                    at=at,
                    consumer_id=sz,
                    resource_code="R-1",
                    mode="query",
                    outcome=outcome,
                    status=200,
                    rows=2,
                    bytes=10,
                    sha256="0" * 64,
                    latency_ms=1.0,
                    subjects=[],
                )
            )
    days = usage.series(session, by=OPERATOR, since=dt.date(2026, 10, 1), until=dt.date(2026, 11, 30))
    assert [(d.period, d.calls, d.allowed, d.refused, d.failed) for d in days] == [
        ("2026-10-31", 1, 1, 0, 0),
        ("2026-11-02", 2, 1, 1, 0),
        ("2026-11-03", 1, 0, 0, 1),
    ]
    months = usage.series(session, by=OPERATOR, since=dt.date(2026, 10, 1), until=dt.date(2026, 11, 30), period="month")
    assert [(m.period, m.calls, m.rows, m.bytes) for m in months] == [("2026-10", 1, 2, 10), ("2026-11", 3, 6, 30)]
    session.rollback()  # on SQLite an open transaction would hold the lock the API's request needs
    # The API's daily numbers are the same legal days.
    r = client.get(API, params={"since": "2026-10-01", "until": "2026-11-30"}, headers=world.h("szsj_admin"))
    assert r.json()["daily"] == [["2026-10-31", 1], ["2026-11-02", 2], ["2026-11-03", 1]]
    with pytest.raises(Exception, match="period"):
        usage.series(session, by=OPERATOR, since=dt.date(2026, 10, 1), until=dt.date(2026, 11, 30), period="week")


def test_openapi_of_a_proxied_and_a_verify_only_grant():
    from govshare.exchange.gateway import openapi

    provider = {
        "servers": [{"url": "http://10.0.0.8/api"}],
        "paths": {"/licences/{no}": {"get": {"summary": "一张许可证", "parameters": [{"name": "no", "in": "path"}]}}},
    }
    doc = openapi.for_resource("R-2", hosted=False, items=["许可证号"], provider_document=provider)
    assert list(doc["paths"]) == ["/exchange/v1/R-2/licences/{no}"] and "servers" not in doc
    op = doc["paths"]["/exchange/v1/R-2/licences/{no}"]["get"]
    assert op["summary"] == "一张许可证" and {p["name"] for p in op["parameters"]} >= {"X-API-Key", "no"}
    assert "10.0.0.8" not in str(doc)  # the provider's node stays internal
    doc = openapi.for_resource("R-3", hosted=True, items=["姓名"], verify_only=True)
    assert list(doc["paths"]) == ["/exchange/v1/R-3/verify"]


def test_odd_input_is_a_4xx_page(app, world):
    gat = sign_in(browser(app), "gat_staff")
    for path, status in (
        ("/exchange/usage?since=%C2%B9", 422),
        ("/exchange/usage?until=2026-13-01", 422),
        ("/exchange/usage/chart.svg?kind=pie", 422),
        ("/exchange/usage/chart.svg?size=huge", 422),
        ("/exchange/usage/consumers?since=2020-01-01&until=2026-01-01", 422),  # longer than a year
        ("/exchange/grants/%C2%B9", 422),
        ("/exchange/grants/99999999999", 422),
        ("/exchange/grants/999", 404),
        ("/exchange/grants/999/openapi.json", 404),
    ):
        assert gat.get(path).status_code == status, path
    # An unknown grouping or time unit falls back to the defaults.
    page = gat.get("/exchange/usage?group=nope&period=week")
    assert page.status_code == 200 and 'value="resource" selected' in page.text
