"""The CKAN-compatible Action API, driven by the real ``ckanapi`` client against a live server.

A uvicorn server runs the app in a background thread on a free local port, against the test
database; ``ckanapi.RemoteCKAN`` talks to it over HTTP exactly as it talks to a CKAN site (POST
with a JSON body to ``/api/action/<name>``, or GET with ``get_only=True``).
"""

from __future__ import annotations

from collections.abc import Iterator

import ckanapi
import pytest
import requests

from tests.catalog.interop.interop_helpers import build_catalog
from tests.live_server import serve


@pytest.fixture
def live_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve(app) as url:
        yield url


@pytest.fixture
def catalog(world, session):  # type: ignore[no-untyped-def]
    built = build_catalog(session)
    session.rollback()  # hold no SQLite lock while the server answers
    return built


@pytest.fixture
def ckan(live_url) -> Iterator[ckanapi.RemoteCKAN]:  # type: ignore[no-untyped-def]
    with ckanapi.RemoteCKAN(live_url) as remote:  # POST with a JSON body, as ckanapi does by default
        yield remote


def test_package_list_has_exactly_the_public_entries(ckan, catalog):
    names = ckan.action.package_list()
    assert names == [c.lower() for c in catalog.public_codes]
    assert ckan.action.package_list(limit=2, offset=1) == names[1:3]


def test_package_show_by_code_and_by_name(ckan, catalog):
    lic = catalog.public["licences"]
    pkg = ckan.action.package_show(id=lic.code)
    assert pkg["id"] == lic.code and pkg["name"] == lic.code.lower()
    assert pkg["title"] == "市场主体登记信息"
    assert pkg["notes"].startswith("企业、个体工商户的登记信息")
    assert pkg["state"] == "active" and pkg["private"] is False and pkg["type"] == "dataset"
    assert pkg["organization"]["name"] == "nj-sj" and pkg["owner_org"] == "nj-sj"
    assert pkg["organization"]["title"] == "南京市市场监督管理局"
    assert [t["name"] for t in pkg["tags"]] == ["market_regulation"]
    assert pkg["tags"][0]["display_name"] == "市场监管"
    [res] = pkg["resources"]
    assert res["format"] == "XLSX" and res["url"].endswith(f"/catalog/{lic.code}")
    assert res["mimetype"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["share_type"] == "unconditional" and extras["share_type_label"] == "无条件共享"
    assert extras["classification"] == "basic" and extras["category"] == "legal_entity"
    assert extras["update_cycle"] == "monthly" and extras["fee"] == "0"
    assert extras["data_items"] == "统一社会信用代码、企业名称、登记机关"
    assert pkg["metadata_created"] and pkg["metadata_modified"]
    assert ckan.action.package_show(id=lic.code.lower()) == pkg
    # Conditions travel with the entry.
    pop = ckan.action.package_show(id=catalog.public["population"].code)
    assert {e["key"]: e["value"] for e in pop["extras"]}["share_conditions"].startswith("仅限依法履职")


def test_hidden_entries_are_not_found(ckan, catalog):
    for ref in (catalog.hidden_published.code, catalog.withdrawn.code, str(catalog.draft.id), "999-999999"):
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id=ref)


def test_package_search_text_is_segmented_chinese(ckan, catalog):
    result = ckan.action.package_search(q="人口信息")
    assert [p["id"] for p in result["results"]] == [catalog.public["population"].code]
    assert result["count"] == 1
    everything = ckan.action.package_search(rows=100)
    assert everything["count"] == len(catalog.public)
    assert ckan.action.package_search(q="*:*")["count"] == len(catalog.public)
    assert ckan.action.package_search(q="内部值班表")["count"] == 0  # published, but not public
    # Relevance first by default: a match in the title ranks above one in the abstract only.
    ranked = ckan.action.package_search(q="信用")
    assert [p["id"] for p in ranked["results"]] == [catalog.public["credit"].code, catalog.public["licences"].code]
    assert [p["id"] for p in ckan.action.package_search(q="信用", sort="score asc")["results"]] == [
        catalog.public["licences"].code,
        catalog.public["credit"].code,
    ]


def test_package_search_filters(ckan, catalog):
    codes = lambda r: sorted(p["id"] for p in r["results"])  # noqa: E731
    pub = catalog.public
    r = ckan.action.package_search(fq="organization:js-gat", rows=50)
    assert codes(r) == sorted([pub["population"].code, pub["services"].code])
    r = ckan.action.package_search(fq="tags:market_regulation", rows=50)
    assert codes(r) == sorted([pub["licences"].code, pub["credit"].code])
    assert codes(ckan.action.package_search(fq='tags:"市场监管"', rows=50)) == codes(r)  # Chinese label too
    r = ckan.action.package_search(fq="res_format:CSV")
    assert codes(r) == [pub["libraries"].code]
    r = ckan.action.package_search(fq="organization:nj-sj -tags:finance")
    assert codes(r) == [pub["licences"].code]
    r = ckan.action.package_search(fq="share_type:not_shared")
    assert codes(r) == [pub["records"].code]
    r = ckan.action.package_search(fq="tags:(culture OR statistics)", rows=50)
    assert codes(r) == sorted([pub["libraries"].code, pub["statistics"].code])
    r = ckan.action.package_search(fq_list=["organization:sz-sj", "res_format:PDF"])
    assert codes(r) == [pub["records"].code]
    r = ckan.action.package_search(q="organization:js-dsj 共享")
    assert codes(r) == [pub["statistics"].code]
    assert ckan.action.package_search(fq="metadata_modified:[2000-01-01T00:00:00Z TO *]")["count"] == len(pub)
    assert ckan.action.package_search(fq="metadata_modified:[NOW+1DAY TO *]")["count"] == 0


def test_package_search_facets_paging_and_sort(ckan, catalog):
    r = ckan.action.package_search(
        **{"facet.field": ["organization", "tags", "res_format"], "rows": 3, "sort": "name asc"}
    )
    assert r["count"] == len(catalog.public)
    assert [p["id"] for p in r["results"]] == catalog.public_codes[:3]
    assert r["facets"]["organization"] == {"js-gat": 2, "nj-sj": 2, "sz-sj": 2, "js-dsj": 2}
    org_items = r["search_facets"]["organization"]["items"]
    assert {i["name"]: i["display_name"] for i in org_items}["js-gat"] == "江苏省公安厅"
    assert r["facets"]["tags"]["market_regulation"] == 2 and r["facets"]["tags"]["public_safety"] == 2
    assert r["facets"]["res_format"] == {
        "XLSX": 1,
        "CSV": 1,
        "PDF": 1,
        "SHP": 1,
        "JSON": 1,
        "API": 1,
        "Other": 1,
        "Database": 1,
    }
    page2 = ckan.action.package_search(rows=3, start=3, sort="name asc")
    assert [p["id"] for p in page2["results"]] == catalog.public_codes[3:6]
    desc = ckan.action.package_search(rows=100, sort="name desc")
    assert [p["id"] for p in desc["results"]] == catalog.public_codes[::-1]
    # Facet counts follow the filters, as in CKAN.
    r = ckan.action.package_search(fq="organization:js-gat", **{"facet.field": ["tags"]})
    assert r["facets"]["tags"] == {"public_safety": 2, "civil_affairs": 1}


def test_organizations(ckan, catalog):
    names = ckan.action.organization_list(sort="name asc")
    assert names == sorted(["js-dsj", "js-gat", "nj-sj", "sz-dsj", "sz-sj"])
    orgs = ckan.action.organization_list(all_fields=True, sort="package_count desc")
    assert orgs[0]["package_count"] == 2 and orgs[-1] == {**orgs[-1], "name": "sz-dsj", "package_count": 0}
    org = ckan.action.organization_show(id="js-gat")
    assert org["title"] == "江苏省公安厅" and org["package_count"] == 2 and org["is_organization"] is True
    assert "packages" not in org
    org = ckan.action.organization_show(id="js-gat", include_datasets=True)
    assert sorted(p["id"] for p in org["packages"]) == sorted(
        [catalog.public["population"].code, catalog.public["services"].code]
    )
    with pytest.raises(ckanapi.NotFound):
        ckan.action.organization_show(id="no-such-agency")


def test_errors_are_ckan_shaped(ckan, catalog):
    with pytest.raises(ckanapi.ValidationError) as exc:
        ckan.action.package_search(rows="many")
    assert exc.value.error_dict["rows"] == ["Invalid integer"]
    with pytest.raises(ckanapi.ValidationError):
        ckan.action.package_show()
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(fq="colour:blue")
    with pytest.raises(ckanapi.SearchQueryError):
        ckan.action.package_search(sort="popularity desc")
    with pytest.raises(ckanapi.CKANAPIError):
        ckan.action.package_create(name="x")  # read-only: the action does not exist


def test_versioned_path_and_envelope(live_url, catalog):
    r = requests.get(f"{live_url}/api/3/action/package_show", params={"id": catalog.public["credit"].code}, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True and body["help"] == f"{live_url}/api/3/action/help_show?name=package_show"
    assert body["result"]["title"] == "企业信用承诺履约信息"
    r = requests.get(f"{live_url}/api/3/action/package_show", params={"id": "nope"}, timeout=10)
    assert r.status_code == 404
    assert r.json() == {
        "help": f"{live_url}/api/3/action/help_show?name=package_show",
        "success": False,
        "error": {"__type": "Not Found Error", "message": "Not found"},
    }
    r = requests.post(
        f"{live_url}/api/3/action/package_search",
        data=b"{not json",
        timeout=10,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["__type"] == "Bad Request"
    r = requests.get(
        f"{live_url}/api/3/action/package_search", params={"facet.field": '["organization"]', "rows": 0}, timeout=10
    )
    assert r.json()["result"]["results"] == [] and r.json()["result"]["facets"]["organization"]["js-gat"] == 2
    r = requests.get(f"{live_url}/api/3/action/no_such_action", timeout=10)
    assert r.status_code == 400 and r.json()["success"] is False
    assert requests.get(f"{live_url}/api/3", timeout=10).json() == {"version": 3}


def test_get_only_client(live_url, catalog):
    """``get_only=True`` sends the parameters in the query string (lists as repeated parameters)."""
    with ckanapi.RemoteCKAN(live_url, get_only=True) as remote:
        assert remote.action.package_list() == [c.lower() for c in catalog.public_codes]
        pkg = remote.action.package_show(id=catalog.public["libraries"].code)
        assert pkg["resources"][0]["format"] == "CSV"
        r = remote.action.package_search(q="图书馆", fq_list=["organization:sz-sj"], **{"facet.field": ["tags"]})
        assert [p["id"] for p in r["results"]] == [catalog.public["libraries"].code]
        assert r["facets"]["tags"] == {"culture": 1, "education": 1}
        org = remote.action.organization_show(id="sz-sj", include_datasets=True)
        assert org["package_count"] == 2 and len(org["packages"]) == 2
        with pytest.raises(ckanapi.NotFound):
            remote.action.package_show(id=catalog.hidden_published.code)


@pytest.mark.parametrize(
    "params, status, kind",
    [
        ({"start": "9" * 30}, 200, None),
        ({"rows": "-1"}, 409, "Validation Error"),
        ({"fq": "metadata_modified:[NOW-99999999YEARS TO *]"}, 409, "Search Query Error"),
        ({"fq": "metadata_created:[yesterday TO *]"}, 409, "Search Query Error"),
        ({"fq": "tags:[a TO b]"}, 409, "Search Query Error"),
        ({"fq": "organization:js-gat )("}, 409, "Search Query Error"),
        ({"q": "人口\x00"}, 200, None),  # the NUL is not a word: dropped by the segmentation
        ({"fq": "organization:js\x00gat"}, 409, "Validation Error"),  # refused by the database guard
        ({"facet.field": "[not json"}, 409, "Validation Error"),
        ({"facet.field": '["colour"]'}, 409, "Search Query Error"),
    ],
)
def test_odd_input_gets_a_ckan_error_not_a_crash(client, params, status, kind):
    r = client.get("/api/3/action/package_search", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is (status == 200)
    if kind:
        assert body["error"]["__type"] == kind


def test_organization_search_wildcards_are_plain_characters(client, world):
    def orgs(q: str) -> list[str]:
        r = client.get("/api/3/action/organization_list", params={"q": q})
        assert r.status_code == 200, r.text
        return r.json()["result"]  # type: ignore[no-any-return]

    assert "js-gat" in orgs("gat")
    assert orgs("%") == [] and orgs("_") == [] and orgs("js_gat") == []
