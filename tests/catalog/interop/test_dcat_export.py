"""The DCAT-AP 3 export of the public catalog conforms to the DCAT-AP 3.0.1 SHACL shapes (Art 9(2))."""

from __future__ import annotations

import hashlib

import pyshacl
import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SH, SKOS

from govshare.catalog.interop import dcat
from tests.catalog.interop.interop_helpers import SHAPES, SHAPES_SHA256, build_catalog, shapes

URL = "/api/v1/catalog/dcat"
BASE = "http://testserver"
EU = "http://publications.europa.eu/resource/authority/"
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")


def _validate(graph: Graph) -> tuple[bool, str]:
    # No inference and no extra vocabulary: the export must carry every type the shapes check.
    conforms, _report, text = pyshacl.validate(
        graph, shacl_graph=shapes(), inference="none", abort_on_first=False, allow_warnings=True
    )
    return bool(conforms), text


def _get(client, **headers) -> Graph:
    r = client.get(URL, headers=headers)
    assert r.status_code == 200, r.text
    fmt = {"application/ld+json": "json-ld", "text/turtle": "turtle", "application/rdf+xml": "xml"}[
        r.headers["content-type"].split(";")[0]
    ]
    return Graph().parse(data=r.content, format=fmt, publicID=BASE + "/")


def _dataset(code: str) -> URIRef:
    return URIRef(f"{BASE}/catalog/{code}#dataset")


def test_shapes_file_is_the_release_copy():
    # The unchanged SEMIC release file (tests/data/README.md), and shapes that hold constraints.
    assert hashlib.sha256(SHAPES.read_bytes()).hexdigest() == SHAPES_SHA256
    assert len(set(shapes().subjects(RDF.type, SH.NodeShape))) >= 30


def test_export_conforms_to_dcat_ap_3_shapes(client, world, session):
    catalog = build_catalog(session)
    r = client.get(URL)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    graph = Graph().parse(data=r.content, format="json-ld")
    conforms, report = _validate(graph)
    assert conforms is True, report

    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert datasets == {_dataset(c) for c in catalog.public_codes}
    cat = URIRef(f"{BASE}/catalog#catalog")
    assert (cat, RDF.type, DCAT.Catalog) in graph
    assert set(graph.objects(cat, DCAT.dataset)) == datasets


def test_turtle_on_request_holds_the_same_graph(client, world, session):
    build_catalog(session)
    jsonld = _get(client)
    turtle_response = client.get(URL, headers={"Accept": "text/turtle"})
    assert turtle_response.headers["content-type"].startswith("text/turtle")
    assert turtle_response.headers["vary"] == "Accept"
    turtle = Graph().parse(data=turtle_response.text, format="turtle")
    assert len(turtle) == len(jsonld) > 100
    assert set(turtle) == set(jsonld)  # no blank nodes: the graphs compare triple by triple
    assert _validate(turtle)[0] is True
    # Quality values are honoured, and ?format= wins over Accept.
    assert (
        client.get(URL, headers={"Accept": "application/ld+json;q=0.5, text/turtle"})
        .headers["content-type"]
        .startswith("text/turtle")
    )
    assert (
        client.get(URL + "?format=rdf", headers={"Accept": "text/turtle"})
        .headers["content-type"]
        .startswith("application/rdf+xml")
    )


def test_only_published_public_entries_are_exported(client, world, session):
    catalog = build_catalog(session)
    graph = _get(client)
    identifiers = {str(o) for s in graph.subjects(RDF.type, DCAT.Dataset) for o in graph.objects(s, DCTERMS.identifier)}
    assert identifiers == set(catalog.public_codes)
    assert catalog.hidden_published.code not in identifiers
    assert catalog.withdrawn.code not in identifiers
    text = graph.serialize(format="turtle")
    assert "内部值班表" not in text and "草稿中的目录" not in text and "已撤销的目录" not in text
    # A relation to a hidden entry is dropped; one to a public entry is kept.
    libraries, statistics = catalog.public["libraries"], catalog.public["statistics"]
    assert set(graph.objects(_dataset(libraries.code), DCTERMS.relation)) == {_dataset(statistics.code)}
    assert set(graph.objects(_dataset(statistics.code), DCTERMS.relation)) == set()


def test_dataset_properties(client, world, session):
    catalog = build_catalog(session)
    graph = _get(client, Accept="text/turtle")
    pop = catalog.public["population"]
    ds = _dataset(pop.code)
    assert set(graph.objects(ds, DCTERMS.title)) == {
        Literal("全省人口基础信息", lang="zh"),
        Literal("Population base register", lang="en"),
    }
    assert Literal("全省户籍人口和常住人口的基础登记信息。", lang="zh") in set(graph.objects(ds, DCTERMS.description))
    assert graph.value(ds, DCTERMS.issued) == Literal(
        pop.published_on.isoformat(), datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")
    )
    # Publisher: the providing agency with its name; the catalog's publisher is the provincial authority.
    publisher = graph.value(ds, DCTERMS.publisher)
    assert publisher == URIRef(f"{BASE}/agencies/js-gat#agency")
    assert graph.value(publisher, FOAF.name) == Literal("江苏省公安厅", lang="zh")
    cat_publisher = graph.value(URIRef(f"{BASE}/catalog#catalog"), DCTERMS.publisher)
    assert graph.value(cat_publisher, FOAF.name) == Literal("江苏省大数据管理中心", lang="zh")
    # Controlled vocabularies.
    assert graph.value(ds, DCTERMS.accrualPeriodicity) == URIRef(EU + "frequency/DAILY")
    assert graph.value(ds, DCTERMS.accessRights) == URIRef(EU + "access-right/RESTRICTED")
    assert graph.value(_dataset(catalog.public["records"].code), DCTERMS.accessRights) == URIRef(
        EU + "access-right/NON_PUBLIC"
    )
    assert graph.value(_dataset(catalog.public["services"].code), DCTERMS.accrualPeriodicity) == URIRef(
        EU + "frequency/UPDATE_CONT"
    )
    assert set(graph.objects(ds, DCAT.theme)) == {URIRef(EU + "data-theme/JUST"), URIRef(EU + "data-theme/SOCI")}
    keywords = set(graph.objects(ds, DCAT.keyword))
    assert {Literal("公共安全", lang="zh"), Literal("民政", lang="zh"), Literal("public safety", lang="en")} <= keywords
    # Region as a location, with its parent.
    spatial = graph.value(ds, DCTERMS.spatial)
    assert spatial == URIRef(f"{BASE}/regions/320000#region")
    assert graph.value(spatial, SKOS.prefLabel) == Literal("江苏省", lang="zh")
    sz = graph.value(_dataset(catalog.public["libraries"].code), DCTERMS.spatial)
    assert graph.value(sz, DCTERMS.isPartOf) == spatial
    # The records' abstract is empty: the description falls back to the name (it is mandatory).
    assert graph.value(_dataset(catalog.public["records"].code), DCTERMS.description) == Literal(
        "食品抽检不合格案件卷宗", lang="zh"
    )


def test_distribution_formats_and_rights(client, world, session):
    catalog = build_catalog(session)
    graph = _get(client)
    lic = catalog.public["licences"]
    dist = graph.value(_dataset(lic.code), DCAT.distribution)
    assert dist == URIRef(f"{BASE}/catalog/{lic.code}#distribution")
    assert graph.value(dist, DCAT.accessURL) == URIRef(f"{BASE}/catalog/{lic.code}")
    assert graph.value(dist, DCTERMS.format) == URIRef(EU + "file-type/XLSX")
    assert graph.value(dist, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    # "JSON（RESTful 接口）" is recognised as JSON; a database without detail has no format.
    pop_dist = graph.value(_dataset(catalog.public["population"].code), DCAT.distribution)
    assert graph.value(pop_dist, DCTERMS.format) == URIRef(EU + "file-type/JSON")
    credit_dist = graph.value(_dataset(catalog.public["credit"].code), DCAT.distribution)
    assert graph.value(credit_dist, DCTERMS.format) is None
    # The share type and its conditions are stated in words.
    rights = {str(o) for o in graph.objects(graph.value(pop_dist, DCTERMS.rights), None)}
    assert any("有条件共享" in t and "须签订保密协议" in t for t in rights)
    # No telephone numbers of responsible persons leave the platform.
    assert "hasTelephone" not in graph.serialize(format="turtle")


def test_validator_rejects_a_broken_export(client, world, session):
    """The shapes really are checked: drop a mandatory property and the graph no longer conforms."""
    catalog = build_catalog(session)
    graph = _get(client)
    ds = _dataset(catalog.public["licences"].code)
    graph.remove((ds, DCTERMS.description, None))
    conforms, report = _validate(graph)
    assert conforms is False
    assert "description" in report
    graph = _get(client)
    graph.remove((graph.value(ds, DCTERMS.publisher), RDF.type, FOAF.Agent))
    assert _validate(graph)[0] is False


def test_empty_catalog_still_conforms(client):
    """No registry, no entries: a catalog with the platform as publisher, valid on its own."""
    graph = _get(client)
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == 0
    conforms, report = _validate(graph)
    assert conforms is True, report


def test_paged_export(client, world, session, monkeypatch):
    catalog = build_catalog(session)
    monkeypatch.setattr(dcat, "PAGE_SIZE", 3)
    seen: set[URIRef] = set()
    page, pages = 1, 0
    while True:
        r = client.get(f"{URL}?page={page}")
        graph = Graph().parse(data=r.content, format="json-ld")
        assert _validate(graph)[0] is True
        found = set(graph.subjects(RDF.type, DCAT.Dataset))
        assert len(found) <= 3 and not (found & seen)
        seen |= found
        pages += 1
        view = URIRef(f"{BASE}{URL}?page={page}")
        assert graph.value(view, HYDRA.totalItems).toPython() == len(catalog.public)
        nxt = graph.value(view, HYDRA.next)
        if nxt is None:
            break
        page += 1
    assert pages == 3
    assert seen == {_dataset(c) for c in catalog.public_codes}


@pytest.mark.parametrize("accept", ["image/png", "text/html;q=1, application/ld+json;q=0"])
def test_unsupported_media_type_is_406(client, accept):
    r = client.get(URL, headers={"Accept": accept})
    assert r.status_code == 406
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "catalog.dcat.not_acceptable"


def test_dcat_route_is_not_taken_for_a_resource_code(client, world, session):
    build_catalog(session)
    r = client.get(URL, headers={"Accept": "application/ld+json"})
    assert r.status_code == 200
    assert "@context" in r.json() or "@graph" in r.json()


def test_negotiation_rules():
    assert dcat.negotiate(None) == "application/ld+json"
    assert dcat.negotiate("*/*") == "application/ld+json"
    assert dcat.negotiate("text/turtle, */*;q=0.1") == "text/turtle"
    assert dcat.negotiate("text/*") == "text/turtle"
    assert dcat.negotiate("application/json") == "application/json"
    assert dcat.negotiate("text/html") is None
