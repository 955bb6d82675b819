"""What the DCAT-AP export and the CKAN-compatible API share: the public catalog, URLs, formats.

Both expose the *public* catalog only: entries that are published and open to the public
(``catalog.permissions.visible_condition(None)``), whoever calls. They read the catalog tables through the
catalog's models and never write them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, joinedload, selectinload

from govshare.catalog import permissions as perm
from govshare.catalog import rules
from govshare.catalog.models import CatalogResource
from govshare.registry.models import Agency, Region


def public_condition() -> ColumnElement[bool]:
    """Published and open to the public: what an anonymous visitor may see (Art 9(2))."""
    return perm.visible_condition(None)


def load_public(
    session: Session,
    *,
    condition: ColumnElement[bool] | None = None,
    order: Sequence[ColumnElement[object]] | None = None,
    offset: int = 0,
    limit: int | None = None,
    with_items: bool = False,
) -> list[CatalogResource]:
    """Public entries with provider, sectors and relations (and data items when asked) loaded, so
    nothing is lazily loaded afterwards."""
    stmt = select(CatalogResource).where(public_condition())
    if condition is not None:
        stmt = stmt.where(condition)
    stmt = stmt.order_by(*(order or (CatalogResource.code,)))
    if offset:
        stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    stmt = stmt.options(
        joinedload(CatalogResource.provider),
        selectinload(CatalogResource.sectors),
        selectinload(CatalogResource.relations),
    )
    if with_items:
        stmt = stmt.options(selectinload(CatalogResource.data_items))
    return list(session.scalars(stmt).unique())


def public_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Resource codes of those ``ids`` that are public (for links between entries)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(CatalogResource.id, CatalogResource.code).where(public_condition(), CatalogResource.id.in_(wanted))
    )
    return {rid: code for rid, code in rows if code}


def regions_by_code(session: Session, codes: Iterable[str]) -> dict[str, Region]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(wanted)))}


def provincial_authority(session: Session) -> Agency | None:
    """The competent authority of the top region (Art 5): the publisher of the whole catalog."""
    return session.scalars(
        select(Agency)
        .join(Region, Region.code == Agency.region_code)
        .where(Agency.is_authority.is_(True), Region.parent_code.is_(None))
        .order_by(Agency.active.desc(), Agency.id)
    ).first()


# --- URLs ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Urls:
    """Stable addresses under the platform's base URL (taken from the request)."""

    base: str

    @classmethod
    def of(cls, base_url: str) -> Urls:
        return cls(base_url.rstrip("/"))

    def home(self) -> str:
        return self.base + "/"

    def catalog_page(self) -> str:
        return f"{self.base}/catalog"

    def entry_page(self, code: str) -> str:
        return f"{self.base}/catalog/{quote(code, safe='')}"

    def entry_api(self, code: str) -> str:
        return f"{self.base}/api/v1/catalog/{quote(code, safe='')}"

    def agency_page(self, code: str) -> str:
        return f"{self.base}/agencies/{quote(code, safe='')}"

    def region_page(self, code: str) -> str:
        return f"{self.base}/regions/{quote(code, safe='')}"

    def dcat(self) -> str:
        return f"{self.base}/api/v1/catalog/dcat"

    def ckan_action(self, name: str) -> str:
        return f"{self.base}/api/3/action/{name}"


# --- Formats ------------------------------------------------------------------------------------

#: File types we recognise in an entry's free-text format detail: code of the EU file-type
#: authority table (publications.europa.eu/resource/authority/file-type) and IANA media type.
FILE_TYPES: dict[str, tuple[str, str | None]] = {
    "CSV": ("CSV", "text/csv"),
    "XLSX": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "XLS": ("XLS", "application/vnd.ms-excel"),
    "ODS": ("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "JSON": ("JSON", "application/json"),
    "GEOJSON": ("GEOJSON", "application/geo+json"),
    "XML": ("XML", "application/xml"),
    "PDF": ("PDF", "application/pdf"),
    "DOCX": ("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "DOC": ("DOC", "application/msword"),
    "TXT": ("TXT", "text/plain"),
    "HTML": ("HTML", "text/html"),
    "ZIP": ("ZIP", "application/zip"),
    "JPEG": ("JPEG", "image/jpeg"),
    "PNG": ("PNG", "image/png"),
    "TIFF": ("TIFF", "image/tiff"),
    "SHP": ("SHP", None),
    "KML": ("KML", "application/vnd.google-earth.kml+xml"),
    "GML": ("GML", "application/gml+xml"),
    "MP4": ("MP4", "video/mp4"),
}
_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "SHAPEFILE": "SHP", "TEXT": "TXT", "HTM": "HTML"}
_WORD = re.compile(r"[A-Za-z0-9]+")

#: What a CKAN client sees as the resource format when the detail names no known file type.
FORMAT_FALLBACK = {
    "database": "Database",
    "spreadsheet": "Spreadsheet",
    "file": "File",
    "image": "Image",
    "streaming": "Streaming",
    "geospatial": "Geospatial",
    "api": "API",
    "other": "Other",
}


def file_type(format_detail: str | None) -> str | None:
    """The first known file type named in the format detail (``"XLSX"``, ``"JSON（RESTful）"``)."""
    for word in _WORD.findall(format_detail or ""):
        w = word.upper()
        w = _ALIASES.get(w, w)
        if w in FILE_TYPES:
            return w
    return None


def media_type(format_detail: str | None) -> str | None:
    ft = file_type(format_detail)
    return FILE_TYPES[ft][1] if ft else None


def res_format(format_: str, format_detail: str | None) -> str:
    """The CKAN ``res_format`` of an entry: its file type, else its format's English name."""
    return file_type(format_detail) or FORMAT_FALLBACK.get(format_, format_)


def sector_code(value: str) -> str | None:
    """A sector by code, Chinese or English label (``education``, ``教育``, ``Education``)."""
    v = value.strip()
    if v in rules.SECTORS:
        return v
    low = v.lower()
    for code, (zh, en) in rules.SECTORS.items():
        if v == zh or low == en.lower():
            return code
    return None
