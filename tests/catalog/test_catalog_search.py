"""Chinese full-text search with facets, on whichever backend the suite runs (SQLite FTS5 or
PostgreSQL GIN/tsvector)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from govshare.catalog import search
from govshare.core.auth import OPERATOR
from tests.catalog.catalog_helpers import API, create, entry, open_entry, publish


def test_segmentation():
    assert search.query_tokens("人口") == ["人口"]
    assert "人口" in search.index_tokens(["人口基础信息"])
    tokens = search.index_tokens(["企业营业执照信息"])
    assert {"营业执照", "营业", "执照", "企业"} <= set(tokens)
    assert search.query_tokens("营业执照的信息") == ["营业执照"]  # stop words dropped
    assert search.query_tokens("  ！！ ") == []


def test_fts5_expression_quotes_every_token():
    assert search.fts5_expression(['a"b', "OR", "人口", "covid-19"]) == '"a" "b" "OR" "人口" "covid" "19"'


def _seed(client, world):
    publish(client, world, entry())  # 人口基础信息, basic/population, js-gat, 320000
    publish(
        client,
        world,
        entry(name="流动人口居住登记信息", abstract="流动人口居住登记和居住证办理信息。", sectors=["public_safety"]),
        provider="szsj_admin",
        authority="suzhou_authority",
    )
    publish(
        client,
        world,
        entry(
            name="企业营业执照信息",
            classification="basic",
            category="legal_entity",
            abstract="市场主体登记注册的营业执照信息。",
            format="api",
            share_type="unconditional",
            contains_personal_info=False,
            security_classification="public",
            sectors=["market_regulation"],
            data_items=[{"name": "统一社会信用代码"}, {"name": "企业名称"}],
        ),
        provider="szsj_admin",
        authority="suzhou_authority",
    )
    publish(client, world, open_entry())  # 公共图书馆名录, departmental, js-gat
    publish(
        client,
        world,
        open_entry(name="学校名录", abstract="全省中小学名称和办学地址。", sectors=["education"], open_to_public=False),
    )
    create(client, world.h("gat_staff"), entry(name="人口草稿信息"))  # a draft: never in public search


def test_query_finds_chinese_words_inside_names(client, world):
    _seed(client, world)
    r = client.get(API, params={"q": "人口"})
    assert r.status_code == 200
    body = r.json()
    assert body["tokens"] == ["人口"]
    assert {i["name"] for i in body["items"]} == {"人口基础信息", "流动人口居住登记信息"}
    assert body["total"] == 2
    # Words inside longer words, in names, abstracts and data items.
    assert [i["name"] for i in client.get(API, params={"q": "执照"}).json()["items"]] == ["企业营业执照信息"]
    assert [i["name"] for i in client.get(API, params={"q": "统一社会信用代码"}).json()["items"]] == [
        "企业营业执照信息"
    ]
    assert [i["name"] for i in client.get(API, params={"q": "居住证"}).json()["items"]] == ["流动人口居住登记信息"]
    # Every token must match.
    assert client.get(API, params={"q": "人口 执照"}).json()["total"] == 0
    # Tags and provider names are indexed too.
    assert client.get(API, params={"q": "公共文化"}).json()["items"][0]["name"] == "公共图书馆名录"
    assert client.get(API, params={"q": "公安厅"}).json()["total"] == 2
    # The code finds the entry.
    code = client.get(API, params={"q": "营业执照"}).json()["items"][0]["code"]
    assert [i["name"] for i in client.get(API, params={"q": code}).json()["items"]] == ["企业营业执照信息"]


def test_facets_count_the_filtered_result(client, world):
    _seed(client, world)
    body = client.get(API).json()
    assert body["total"] == 4  # the public: published and open
    f = {k: {v["value"]: v["count"] for v in vals} for k, vals in body["facets"].items()}
    assert f["classification"] == {"basic": 3, "departmental": 1}
    assert f["category"] == {"population": 2, "legal_entity": 1}
    assert f["provider"] == {"js-gat": 2, "sz-sj": 2}
    assert f["region"] == {"320000": 2, "320500": 2}
    assert f["format"] == {"database": 2, "api": 1, "spreadsheet": 1}
    assert f["share_type"] == {"conditional": 2, "unconditional": 2}
    assert f["sector"] == {"public_safety": 2, "civil_affairs": 1, "market_regulation": 1, "culture": 1}
    labels = {v["value"]: v["label"] for v in body["facets"]["provider"]}
    assert labels["sz-sj"] == "苏州市市场监督管理局"
    assert {v["value"]: v["label"] for v in body["facets"]["category"]}["population"] == "人口"

    q = client.get(API, params={"q": "人口"}).json()
    fq = {k: {v["value"]: v["count"] for v in vals} for k, vals in q["facets"].items()}
    assert fq["provider"] == {"js-gat": 1, "sz-sj": 1}
    assert fq["classification"] == {"basic": 2}

    # Signed in: every published entry, the closed one included.
    signed = client.get(API, headers=world.h("szsj_admin")).json()
    assert signed["total"] == 5
    assert {v["value"]: v["count"] for v in signed["facets"]["sector"]}["education"] == 1


def test_filters(client, world):
    _seed(client, world)

    def names(**params):
        return sorted(i["name"] for i in client.get(API, params=params).json()["items"])

    assert names(category="population") == ["人口基础信息", "流动人口居住登记信息"]
    assert names(classification="departmental") == ["公共图书馆名录"]
    assert names(provider="sz-sj") == ["企业营业执照信息", "流动人口居住登记信息"]
    assert names(region="320500") == ["企业营业执照信息", "流动人口居住登记信息"]
    assert len(names(region="320000")) == 4  # a region includes the regions below it
    assert names(region="320508") == []
    assert names(format="api") == ["企业营业执照信息"]
    assert names(share_type="unconditional") == ["企业营业执照信息", "公共图书馆名录"]
    assert names(sector="public_safety") == ["人口基础信息", "流动人口居住登记信息"]
    assert names(q="人口", provider="js-gat") == ["人口基础信息"]
    assert names(provider="no-such-agency") == []
    r = client.get(API, params={"share_type": "sometimes"})
    assert r.status_code == 422 and r.json()["field"] == "share_type"


def test_paging(client, world):
    for i in range(5):
        publish(client, world, open_entry(name=f"目录{i}号"))
    first = client.get(API, params={"limit": 2}).json()
    second = client.get(API, params={"limit": 2, "offset": 2}).json()
    assert first["total"] == second["total"] == 5
    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}


def test_index_follows_approved_revisions_only(client, world):
    pub = publish(client, world, open_entry())
    client.patch(f"{API}/{pub['id']}", json={"abstract": "新增博物馆信息"}, headers=world.h("gat_staff"))
    assert client.get(API, params={"q": "博物馆"}).json()["total"] == 0  # pending: not yet published
    client.post(f"{API}/{pub['id']}/revision/approve", headers=world.h("province_authority"))
    assert client.get(API, params={"q": "博物馆"}).json()["total"] == 1
    client.post(f"{API}/{pub['id']}/withdraw", json={"reason": "停止提供"}, headers=world.h("province_authority"))
    assert client.get(API, params={"q": "博物馆"}).json()["total"] == 0


def test_reindex(client, world, session):
    from govshare.catalog import service

    publish(client, world, entry())
    assert service.reindex(session) == 1
    session.commit()
    assert client.get(API, params={"q": "人口"}).json()["total"] == 1


def test_index_follows_every_change(client, world):
    """Facets and results come from the in-process index, kept current by the search generation."""
    a = publish(client, world, entry())
    b = publish(client, world, open_entry(sectors=["culture", "education"]))
    assert client.get(API).json()["total"] == 2  # the index is loaded
    create(client, world.h("gat_staff"), entry(name="草稿人口"))
    client.patch(f"{API}/{b['id']}", json={"format": "api", "sectors": ["education"]}, headers=world.h("gat_staff"))
    client.post(f"{API}/{b['id']}/revision/approve", headers=world.h("province_authority"))
    client.post(f"{API}/{a['id']}/withdraw", json={"reason": "停止"}, headers=world.h("province_authority"))
    body = client.get(API).json()
    assert body["total"] == 1
    f = {k: {v["value"]: v["count"] for v in vals} for k, vals in body["facets"].items()}
    assert f["format"] == {"api": 1} and f["sector"] == {"education": 1}
    assert client.get(API, params={"q": "人口"}).json()["total"] == 0
    # Sectors co-occur: under a sector filter the sector facet counts the others too.
    publish(client, world, open_entry(name="学校图书馆", sectors=["culture", "education"]))
    f = client.get(API, params={"sector": "education"}).json()["facets"]["sector"]
    assert {v["value"]: v["count"] for v in f} == {"education": 2, "culture": 1}


def test_uncommitted_changes_are_searched_through_sql(client, world, session):
    """A transaction sees its own uncommitted entries; the shared index never holds them."""
    from govshare.catalog import search, service
    from govshare.catalog.schemas import ResourceCreate

    publish(client, world, open_entry())
    assert client.get(API).json()["total"] == 1
    data = ResourceCreate(**open_entry(name="未提交的目录", provider="js-gat"))
    made = service.create_resource(session, data, by=OPERATOR)
    service.submit(session, made.id, by=OPERATOR)
    service.publish(session, made.id, by=OPERATOR)
    inside = search.search(session, search.SearchParams(q="未提交"), viewer=None)
    assert [r.name for r in inside.items] == ["未提交的目录"]
    assert search.search(session, search.SearchParams(), viewer=None).total == 2
    session.rollback()
    assert client.get(API).json()["total"] == 1
    assert client.get(API, params={"q": "未提交"}).json()["total"] == 0


def test_text_results_put_name_matches_first(client, world):
    publish(client, world, open_entry(name="公共图书馆名录", abstract="含人口统计口径说明。"))
    publish(client, world, entry(name="人口基础信息"))
    publish(client, world, open_entry(name="学校名录", abstract="学校所在地人口信息。"))
    names = [i["name"] for i in client.get(API, params={"q": "人口"}).json()["items"]]
    assert names == ["人口基础信息", "学校名录", "公共图书馆名录"]  # name match first, then newest


def test_queries_with_search_syntax_are_plain_words(client, world):
    publish(client, world, entry())
    for q in ['"', "*", "___", "OR", "人口 OR", "NEAR(人口)", "人口*", "a-b", "人口'; DROP TABLE x; --"]:
        r = client.get(API, params={"q": q})
        assert r.status_code == 200, (q, r.text)
    assert client.get(API, params={"q": "人口*"}).json()["total"] == 1
    assert client.get(API, params={"q": "人口 OR"}).json()["total"] == 0  # "or" is a word to match


@pytest.mark.parametrize("q", ["%", "*", '"', "(", "😀", "%_%", "（）", "的", "  ,  "])
def test_text_without_a_searchable_word_matches_nothing(app, client, world, q):
    """Issue #8: the query's tokens were all dropped, the query became empty and listed everything."""
    publish(client, world, entry())
    publish(client, world, open_entry())
    assert client.get(API).json()["total"] == 2  # no query at all: browse everything
    body = client.get(API, params={"q": q}).json()
    assert (body["total"], body["items"], body["tokens"]) == (0, [], [])
    page = TestClient(app).get("/catalog", params={"q": q})
    assert page.status_code == 200 and "没有符合条件的目录条目" in page.text
    assert "人口基础信息" not in page.text
