"""The public service guide page ``/guide`` (Art 20-27): in Chinese, in English, filtered."""

from __future__ import annotations

from tests.guide.guide_helpers import API, entry, payload

HTML = {"accept": "text/html"}


def _add(client, world, **overrides):
    r = client.post(API, json=payload(**overrides), headers=world.h("province_authority"))
    assert r.status_code == 201, r.text
    return r.json()


def test_guide_page_lists_active_services(client, world, session):
    pop = entry(session, "人口基础信息")
    hidden = entry(session, "内部资源", open_to_public=False)
    _add(client, world, resources=[pop.code, hidden.code])
    gone = _add(client, world, name="已停用的服务")
    client.post(f"{API}/{gone['id']}/deactivate", json={"reason": "停止"}, headers=world.h("province_authority"))

    r = client.get("/guide", headers=HTML)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    html = r.text
    assert '<html lang="zh-Hans">' in html and '<meta charset="utf-8">' in html
    assert "<h1>服务指引</h1>" in html
    assert "社会保险参保信息查询" in html and "已停用的服务" not in html
    assert "共 1 项服务" in html
    assert "12333" in html and "江苏政务服务网" in html
    assert f'href="/catalog/{pop.code}"' in html and "人口基础信息" in html
    assert "内部资源" not in html  # not open to the public
    assert 'href="https://www.jszwfw.gov.cn/" rel="external noopener noreferrer"' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html


def test_guide_page_filters(client, world):
    _add(client, world)
    _add(
        client,
        world,
        name="企业开办一件事",
        name_en="Starting a business",
        sector="market_regulation",
        agency="sz-sj",
        channels=["counter"],
        description="营业执照一次办结。",
    )
    html = client.get("/guide?sector=market_regulation", headers=HTML).text
    assert "企业开办一件事" in html and "社会保险参保信息查询" not in html
    assert '<option value="market_regulation" selected>市场监管 (1)</option>' in html
    html = client.get("/guide?channel=phone", headers=HTML).text
    assert "社会保险参保信息查询" in html and "企业开办一件事" not in html
    html = client.get("/guide?q=营业执照", headers=HTML).text
    assert "企业开办一件事" in html and "共 1 项服务" in html
    html = client.get("/guide?agency=sz-sj", headers=HTML).text
    assert "服务机关：苏州市市场监督管理局" in html and "社会保险参保信息查询" not in html
    # Values outside the vocabularies are ignored, as an empty filter is (no error page).
    r = client.get("/guide?sector=astrology&channel=pigeon", headers=HTML)
    assert r.status_code == 200 and "共 2 项服务" in r.text
    html = client.get("/guide?q=没有这样的服务", headers=HTML).text
    assert "没有符合条件的服务。" in html


def test_guide_page_in_english(client, world):
    _add(client, world)
    html = client.get("/guide?lang=en", headers=HTML).text
    assert '<html lang="en">' in html
    assert "<h1>Service guide</h1>" in html
    assert "Social insurance contribution record" in html
    assert "Social security" in html and "Telephone" in html and "Services found: 1" in html


def test_guide_page_pages(client, world, monkeypatch):
    from govshare.guide import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    for i in range(5):
        _add(client, world, name=f"服务{i:02d}")
    first = client.get("/guide", headers=HTML).text
    assert first.count('class="card"') == 2 and 'rel="next"' in first and 'rel="prev"' not in first
    last = client.get("/guide?offset=4", headers=HTML).text
    assert last.count('class="card"') == 1 and 'rel="prev"' in last and 'rel="next"' not in last
