"""DCAT-AP 3 export of the public catalog (Art 9(2): the catalog is published to the public).

One ``dcat:Catalog`` (this platform, published by the provincial competent authority) with one
``dcat:Dataset`` per public entry and one ``dcat:Distribution`` per dataset, the way the entry is
provided. The graph conforms to the DCAT-AP 3.0.1 SHACL shapes without any outside vocabulary:
every node that a shape checks with ``sh:class`` (agents, frequencies, rights statements,
languages, locations, themes, file types, media types, documents) carries its ``rdf:type`` and,
for SKOS concepts, its ``skos:prefLabel`` in the export itself, so any validator can check it as
it is.

Addresses (all under the request's base URL, so they are stable for one deployment):

==========================  ============================================
catalog                     ``{base}/catalog#catalog``
dataset                     ``{base}/catalog/{code}#dataset``
distribution                ``{base}/catalog/{code}#distribution``
landing page, access URL    ``{base}/catalog/{code}`` (the entry's page)
agency (publisher)          ``{base}/agencies/{agency code}#agency``
region (dct:spatial)        ``{base}/regions/{GB/T 2260 code}#region``
==========================  ============================================

Controlled vocabularies are the EU authority tables DCAT-AP recommends: frequency, access-right,
language, data-theme and file-type, plus IANA media types and the ADMS publisher types.

Access rights: the platform shares an entry's *data* between agencies, never with the public
(Art 17: no publication without the provider's consent), so no entry is ``PUBLIC``: shared
entries (unconditionally or on conditions) are ``RESTRICTED`` and "not shared" ones are
``NON_PUBLIC``. The share type itself, its conditions and legal basis are stated on the
distribution as a ``dct:RightsStatement``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.catalog import rules
from govshare.catalog.interop.common import (
    FILE_TYPES,
    Urls,
    file_type,
    load_public,
    provincial_authority,
    public_codes,
    public_condition,
    regions_by_code,
)
from govshare.catalog.models import CatalogResource
from govshare.core import paging
from govshare.registry.models import Agency, Region

EU = "http://publications.europa.eu/resource/authority/"
FREQ = Namespace(EU + "frequency/")
ACCESS = Namespace(EU + "access-right/")
LANG = Namespace(EU + "language/")
THEME = Namespace(EU + "data-theme/")
FILETYPE = Namespace(EU + "file-type/")
IANA = "https://www.iana.org/assignments/media-types/"
PUBTYPE = Namespace("http://purl.org/adms/publishertype/")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
#: DCAT 3 term that rdflib's closed DCAT namespace does not list yet.
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")

PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "foaf": FOAF,
    "vcard": VCARD,
    "skos": SKOS,
    "rdfs": RDFS,
    "xsd": XSD,
    "hydra": HYDRA,
}

#: Datasets per page of the export; larger catalogs are paged with Hydra links (as ckanext-dcat,
#: whose default is 100). Measured: 1,000 datasets (37,000 triples) take 3-5 s to build and
#: serialise with rdflib, so a page of 200 answers in well under a second.
PAGE_SIZE = 200

#: Update cycle -> EU frequency authority table.
FREQUENCIES: dict[str, tuple[str, str]] = {
    "realtime": ("UPDATE_CONT", "continuously updated"),
    "daily": ("DAILY", "daily"),
    "weekly": ("WEEKLY", "weekly"),
    "monthly": ("MONTHLY", "monthly"),
    "quarterly": ("QUARTERLY", "quarterly"),
    "half_yearly": ("ANNUAL_2", "semiannual"),
    "yearly": ("ANNUAL", "annual"),
    "irregular": ("IRREG", "irregular"),
}

#: Share type -> EU access-right authority table (see the module docstring for why none is PUBLIC).
ACCESS_RIGHTS: dict[str, str] = {
    "unconditional": "RESTRICTED",
    "conditional": "RESTRICTED",
    "not_shared": "NON_PUBLIC",
}
ACCESS_LABELS = {
    "RESTRICTED": ("限于行政机关依职责共享", "restricted"),
    "NON_PUBLIC": ("不予共享", "non-public"),
}

#: EU data themes with their English labels.
THEMES: dict[str, str] = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
#: Sector tags (Art 22-26) -> EU data theme.
SECTOR_THEMES: dict[str, str] = {
    "education": "EDUC",
    "health": "HEAL",
    "employment": "SOCI",
    "social_security": "SOCI",
    "community": "SOCI",
    "civil_affairs": "SOCI",
    "elderly_care": "SOCI",
    "housing": "SOCI",
    "transport": "TRAN",
    "public_safety": "JUST",
    "culture": "EDUC",
    "environment": "ENVI",
    "food_drug": "HEAL",
    "market_regulation": "ECON",
    "taxation": "ECON",
    "finance": "ECON",
    "statistics": "GOVE",
    "natural_resources": "ENVI",
    "agriculture": "AGRI",
    "emergency": "JUST",
}
#: Basic and thematic categories -> EU data theme, where one fits.
CATEGORY_THEMES: dict[str, str] = {
    "population": "SOCI",
    "legal_entity": "ECON",
    "natural_resources_geography": "ENVI",
    "social_credit": "ECON",
    "public_service": "GOVE",
    "health": "HEAL",
    "social_security": "SOCI",
    "food_drug_safety": "HEAL",
    "price_supervision": "ECON",
    "energy_security": "ENER",
    "credit_system": "ECON",
    "urban_rural_construction": "REGI",
    "community_governance": "SOCI",
    "ecology_environment": "ENVI",
    "emergency_response": "JUST",
}

CATALOG_TITLE = ("江苏省政务信息资源共享目录", "Jiangsu shared catalog of government information resources")
CATALOG_DESCRIPTION = (
    "依据《江苏省政府信息化服务管理办法》第九条向社会公布的政务信息资源共享目录：各行政机关可共享的政务信息资源"
    "的名称、提供单位、数据格式、提供方式、共享类型和条件、更新周期与发布日期（第十条）。",
    "The shared catalog of government information resources published under Article 9 of the Jiangsu "
    "Measures on Government Informatization Services: what each agency can share, its format, how it is "
    "provided, on which conditions, how often it is updated and when it was published (Article 10).",
)
PLATFORM_NAME = ("政务信息资源共享交换平台", "Government information resource sharing and exchange platform")


def _pair(g: Graph, node: URIRef | BNode, prop: URIRef, zh: str | None, en: str | None) -> None:
    if zh:
        g.add((node, prop, Literal(zh, lang="zh")))
    if en:
        g.add((node, prop, Literal(en, lang="en")))


def _concept(
    g: Graph, node: URIRef, *types: URIRef, en: str, zh: str | None = None, scheme: URIRef | None = None
) -> URIRef:
    """A controlled-vocabulary term with its type(s) and labels, so ``sh:class`` checks pass."""
    g.add((node, RDF.type, SKOS.Concept))
    for t in types:
        g.add((node, RDF.type, t))
    _pair(g, node, SKOS.prefLabel, zh, en)
    if scheme is not None:
        g.add((node, SKOS.inScheme, scheme))
    return node


def _date(value: dt.date) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.date)


class _Builder:
    def __init__(self, session: Session, urls: Urls) -> None:
        self.session = session
        self.urls = urls
        self.g = Graph(bind_namespaces="none")
        for prefix, ns in PREFIXES.items():
            self.g.bind(prefix, ns)
        self._agents: dict[str, URIRef] = {}
        self._regions: dict[str, URIRef] = {}
        self._region_rows: dict[str, Region] = {}

    # --- shared nodes ---------------------------------------------------------------------------

    def agent(self, agency: Agency) -> URIRef:
        """The agency as ``foaf:Agent`` (its public profile: no telephone numbers)."""
        if agency.code in self._agents:
            return self._agents[agency.code]
        g = self.g
        node = URIRef(self.urls.agency_page(agency.code) + "#agency")
        g.add((node, RDF.type, FOAF.Agent))
        g.add((node, RDF.type, FOAF.Organization))
        _pair(g, node, FOAF.name, agency.name, agency.name_en)
        g.add((node, DCTERMS.identifier, Literal(agency.uscc)))
        g.add((node, FOAF.page, self.document(self.urls.agency_page(agency.code))))
        region = self._region_rows.get(agency.region_code)
        if region is not None:
            kind = "RegionalAuthority" if region.parent_code is None else "LocalAuthority"
            label = "Regional authority" if kind == "RegionalAuthority" else "Local authority"
            g.add((node, DCTERMS.type, _concept(g, PUBTYPE[kind], en=label)))
        self._agents[agency.code] = node
        return node

    def contact(self, agency: Agency) -> URIRef:
        """Art 30: the agency's responsible unit for sharing, as a vCard (no telephone, as on the
        public agency page)."""
        g = self.g
        node = URIRef(self.urls.agency_page(agency.code) + "#contact")
        if (node, RDF.type, VCARD.Kind) in g:
            return node
        g.add((node, RDF.type, VCARD.Kind))
        g.add((node, RDF.type, VCARD.Organization))
        fn = agency.name + (f" {agency.responsible_unit}" if agency.responsible_unit else "")
        g.add((node, VCARD.fn, Literal(fn, lang="zh")))
        g.add((node, VCARD["organization-name"], Literal(agency.name, lang="zh")))
        g.add((node, VCARD.hasURL, URIRef(self.urls.agency_page(agency.code))))
        return node

    def location(self, code: str) -> URIRef | None:
        if code in self._regions:
            return self._regions[code]
        region = self._region_rows.get(code)
        if region is None:
            return None
        g = self.g
        node = URIRef(self.urls.region_page(code) + "#region")
        g.add((node, RDF.type, DCTERMS.Location))
        _pair(g, node, SKOS.prefLabel, region.name, region.name_en)
        g.add((node, DCTERMS.identifier, Literal(code)))
        g.add((node, RDFS.seeAlso, URIRef(self.urls.region_page(code))))
        if region.parent_code:
            parent = self.location(region.parent_code)
            if parent is not None:
                g.add((node, DCTERMS.isPartOf, parent))
        self._regions[code] = node
        return node

    def document(self, url: str) -> URIRef:
        node = URIRef(url)
        self.g.add((node, RDF.type, FOAF.Document))
        return node

    def language(self, code: str) -> URIRef:
        labels = {"ZHO": ("中文", "Chinese"), "ENG": ("英文", "English")}[code]
        return _concept(self.g, LANG[code], DCTERMS.LinguisticSystem, zh=labels[0], en=labels[1])

    def theme(self, code: str) -> URIRef:
        return _concept(self.g, THEME[code], en=THEMES[code], scheme=self.theme_scheme())

    def theme_scheme(self) -> URIRef:
        node = URIRef(EU + "data-theme")
        if (node, RDF.type, SKOS.ConceptScheme) not in self.g:
            self.g.add((node, RDF.type, SKOS.ConceptScheme))
            self.g.add((node, DCTERMS.title, Literal("Data theme", lang="en")))
        return node

    # --- catalog and datasets -------------------------------------------------------------------

    def catalog(
        self,
        entries: Sequence[CatalogResource],
        *,
        total: int,
        page: int,
        page_size: int,
        issued: dt.date | None,
        modified: dt.date | None,
    ) -> URIRef:
        g = self.g
        node = URIRef(self.urls.catalog_page() + "#catalog")
        g.add((node, RDF.type, DCAT.Catalog))
        _pair(g, node, DCTERMS.title, *CATALOG_TITLE)
        _pair(g, node, DCTERMS.description, *CATALOG_DESCRIPTION)
        authority = provincial_authority(self.session)
        if authority is not None:
            self._load_regions([authority.region_code])
            publisher = self.agent(authority)
            spatial = self.location(authority.region_code)
            if spatial is not None:
                g.add((node, DCTERMS.spatial, spatial))
        else:  # an empty registry: the platform itself answers for its catalog
            publisher = URIRef(self.urls.home() + "#platform")
            g.add((publisher, RDF.type, FOAF.Agent))
            _pair(g, publisher, FOAF.name, *PLATFORM_NAME)
        g.add((node, DCTERMS.publisher, publisher))
        g.add((node, FOAF.homepage, self.document(self.urls.catalog_page())))
        for lang in ("ZHO", "ENG"):
            g.add((node, DCTERMS.language, self.language(lang)))
        g.add((node, DCAT.themeTaxonomy, self.theme_scheme()))
        if issued:
            g.add((node, DCTERMS.issued, _date(issued)))
        if modified:
            g.add((node, DCTERMS.modified, _date(modified)))
        related = public_codes(self.session, (rid for e in entries for rid in e.related_ids))
        self._load_regions({e.region_code for e in entries} | {e.provider.region_code for e in entries})
        for entry in entries:
            g.add((node, DCAT.dataset, self.dataset(entry, related)))
        if total > page_size:
            self._paging(total, page, page_size)
        return node

    def _load_regions(self, codes: Iterable[str]) -> None:
        missing = {c for c in codes if c not in self._region_rows}
        while missing:  # the codes and their ancestors, for dct:isPartOf
            found = regions_by_code(self.session, missing)
            self._region_rows.update(found)
            missing = {
                r.parent_code for r in found.values() if r.parent_code and r.parent_code not in self._region_rows
            }

    def dataset(self, entry: CatalogResource, related: dict[int, str]) -> URIRef:
        g = self.g
        code = entry.code or str(entry.id)
        page = self.urls.entry_page(code)
        node = URIRef(page + "#dataset")
        g.add((node, RDF.type, DCAT.Dataset))
        _pair(g, node, DCTERMS.title, entry.name, entry.name_en)
        abstract = (entry.abstract or "").strip() or entry.name
        _pair(g, node, DCTERMS.description, abstract, (entry.abstract_en or "").strip() or None)
        g.add((node, DCTERMS.identifier, Literal(code)))
        g.add((node, DCTERMS.publisher, self.agent(entry.provider)))
        g.add((node, DCAT.contactPoint, self.contact(entry.provider)))
        if entry.published_on:
            g.add((node, DCTERMS.issued, _date(entry.published_on)))
        modified = entry.modified_on or entry.published_on
        if modified:
            g.add((node, DCTERMS.modified, _date(modified)))
        g.add((node, DCAT_VERSION, Literal(str(entry.version_number))))
        g.add((node, DCTERMS.language, self.language("ZHO")))
        g.add((node, DCAT.landingPage, self.document(page)))

        keywords = [rules.SECTORS[s] for s in entry.sector_codes if s in rules.SECTORS]
        if entry.category and entry.category in rules.CATEGORIES:
            keywords.append(rules.CATEGORIES[entry.category])
        keywords.append(rules.CLASSIFICATIONS[entry.classification])
        for zh, en in keywords:
            _pair(g, node, DCAT.keyword, zh, en)
        themes = {SECTOR_THEMES[s] for s in entry.sector_codes if s in SECTOR_THEMES}
        if entry.category in CATEGORY_THEMES:
            themes.add(CATEGORY_THEMES[entry.category or ""])
        for theme in sorted(themes):
            g.add((node, DCAT.theme, self.theme(theme)))

        right = ACCESS_RIGHTS[entry.share_type]
        zh, en = ACCESS_LABELS[right]
        g.add((node, DCTERMS.accessRights, _concept(g, ACCESS[right], DCTERMS.RightsStatement, zh=zh, en=en)))
        freq_code, freq_en = FREQUENCIES[entry.update_cycle]
        g.add(
            (
                node,
                DCTERMS.accrualPeriodicity,
                _concept(
                    g, FREQ[freq_code], DCTERMS.Frequency, zh=rules.UPDATE_CYCLES[entry.update_cycle][0], en=freq_en
                ),
            )
        )
        spatial = self.location(entry.region_code)
        if spatial is not None:
            g.add((node, DCTERMS.spatial, spatial))
        for rid in entry.related_ids:
            if rid in related:
                g.add((node, DCTERMS.relation, URIRef(self.urls.entry_page(related[rid]) + "#dataset")))
        g.add((node, DCAT.distribution, self.distribution(entry, code, page)))
        return node

    def distribution(self, entry: CatalogResource, code: str, page: str) -> URIRef:
        """How the entry is provided (Art 10(1)): through the platform, on its conditions."""
        g = self.g
        node = URIRef(page + "#distribution")
        g.add((node, RDF.type, DCAT.Distribution))
        method_zh, method_en = rules.PROVISION_METHODS[entry.provision_method]
        _pair(
            g,
            node,
            DCTERMS.title,
            f"{entry.name}（{method_zh}）",
            f"{entry.name_en} ({method_en})" if entry.name_en else None,
        )
        fmt_zh, fmt_en = rules.FORMATS[entry.format]
        detail = f"，{entry.format_detail}" if entry.format_detail else ""
        _pair(
            g,
            node,
            DCTERMS.description,
            f"提供方式：{method_zh}；数据格式：{fmt_zh}{detail}。须通过本平台申请共享。",
            f"Provided as: {method_en}; format: {fmt_en}"
            + (f", {entry.format_detail}" if entry.format_detail else "")
            + ". Requested and shared through this platform.",
        )
        g.add((node, DCAT.accessURL, URIRef(page)))
        ft = file_type(entry.format_detail)
        if ft:
            eu_code, mime = FILE_TYPES[ft]
            fmt = URIRef(FILETYPE[eu_code])
            g.add((fmt, RDF.type, DCTERMS.MediaTypeOrExtent))
            g.add((fmt, RDFS.label, Literal(eu_code)))
            g.add((node, DCTERMS.format, fmt))
            if mime:
                media = URIRef(IANA + mime)
                g.add((media, RDF.type, DCTERMS.MediaType))
                g.add((media, RDFS.label, Literal(mime)))
                g.add((node, DCAT.mediaType, media))
        g.add((node, DCTERMS.rights, self.rights(entry, page)))
        if entry.published_on:
            g.add((node, DCTERMS.issued, _date(entry.published_on)))
        if entry.modified_on:
            g.add((node, DCTERMS.modified, _date(entry.modified_on)))
        return node

    def rights(self, entry: CatalogResource, page: str) -> URIRef:
        """The share type (Art 9, 13) with its conditions or legal basis, in words."""
        g = self.g
        node = URIRef(page + "#rights")
        g.add((node, RDF.type, DCTERMS.RightsStatement))
        zh, en = rules.SHARE_TYPES[entry.share_type]
        text_zh, text_en = f"共享类型：{zh}", f"Share type: {en}"
        if entry.share_type == "conditional" and entry.share_conditions:
            text_zh += f"；共享条件：{entry.share_conditions}"
        if entry.share_type == "not_shared" and entry.legal_basis:
            text_zh += f"；依据：{entry.legal_basis}"
        text_zh += "。行政机关之间无偿共享（第十六条）。"
        text_en += ". Shared free of charge between agencies (Article 16)."
        _pair(g, node, RDFS.label, text_zh, text_en)
        return node

    def _paging(self, total: int, page: int, page_size: int) -> None:
        g = self.g
        last = (total + page_size - 1) // page_size

        def at(n: int) -> URIRef:
            return URIRef(f"{self.urls.dcat()}?page={n}")

        view = at(page)
        g.add((view, RDF.type, HYDRA.PartialCollectionView))
        g.add((view, HYDRA.totalItems, Literal(total, datatype=XSD.nonNegativeInteger)))
        g.add((view, HYDRA.itemsPerPage, Literal(page_size, datatype=XSD.nonNegativeInteger)))
        g.add((view, HYDRA.first, at(1)))
        g.add((view, HYDRA.last, at(last)))
        if page > 1:
            g.add((view, HYDRA.previous, at(min(page - 1, last))))
        if page < last:
            g.add((view, HYDRA.next, at(page + 1)))


def build_graph(session: Session, urls: Urls, *, page: int = 1, page_size: int = PAGE_SIZE) -> Graph:
    """The DCAT-AP graph of the public catalog (one page of datasets; the catalog node always)."""
    total = paging.count(session, select(CatalogResource.id).where(public_condition()))
    issued, last_published, last_modified = session.execute(
        select(
            func.min(CatalogResource.published_on),
            func.max(CatalogResource.published_on),
            func.max(CatalogResource.modified_on),
        ).where(public_condition())
    ).one()
    modified = max((d for d in (last_published, last_modified) if d is not None), default=None)
    entries = load_public(session, offset=(page - 1) * page_size, limit=page_size)
    builder = _Builder(session, urls)
    builder.catalog(entries, total=total, page=page, page_size=page_size, issued=issued, modified=modified)
    return builder.g


#: Serialisations offered, by media type: (rdflib format, media type sent).
FORMATS: dict[str, tuple[str, str]] = {
    "application/ld+json": ("json-ld", "application/ld+json"),
    "application/json": ("json-ld", "application/ld+json"),
    "text/turtle": ("turtle", "text/turtle"),
    "application/x-turtle": ("turtle", "text/turtle"),
    "application/rdf+xml": ("xml", "application/rdf+xml"),
    "application/n-triples": ("nt", "application/n-triples"),
}
#: ``?format=`` shortcuts.
FORMAT_PARAMS = {
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "ttl": "text/turtle",
    "turtle": "text/turtle",
    "rdf": "application/rdf+xml",
    "xml": "application/rdf+xml",
    "nt": "application/n-triples",
}
DEFAULT_MEDIA_TYPE = "application/ld+json"


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with for an ``Accept`` header; JSON-LD by default, ``None`` when
    the client accepts none of ours."""
    if not accept or not accept.strip():
        return DEFAULT_MEDIA_TYPE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        q = 1.0
        for p in pieces[1:]:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if media in FORMATS:
            ranked.append((q, -position, media))
        elif media in ("*/*", "application/*"):
            ranked.append((q - 0.0001, -position, DEFAULT_MEDIA_TYPE))
        elif media == "text/*":
            ranked.append((q - 0.0001, -position, "text/turtle"))
    if not ranked:
        return None
    return max(ranked)[2]


def serialize(graph: Graph, media: str) -> tuple[bytes, str]:
    fmt, sent = FORMATS[media]
    if fmt == "json-ld":
        context = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
        data = graph.serialize(format="json-ld", context=context, auto_compact=True, indent=2)
    else:
        data = graph.serialize(format=fmt)
    return data.encode("utf-8"), sent
