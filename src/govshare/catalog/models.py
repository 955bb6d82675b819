"""Catalog tables: resource entries (Art 10), their data items, versions, demands (Art 9).

These tables are the contract the DCAT-AP export, the CKAN-compatible API and the service guide
build on. An entry's columns always hold its *effective* content: the published content of a
published entry (a provider's change to it waits as a pending revision in
``catalog_resource_version`` until the authority approves it, Art 10(2)), or the working content
of a draft.

Full-text search (``search.py``) indexes ``catalog_resource.search_text``: the jieba tokens of the
entry separated by spaces. The migration creates, outside this metadata, an inverted index over it
kept in step by triggers: on SQLite the FTS5 table ``catalog_search_fts``; on PostgreSQL the narrow
table ``catalog_search_doc`` (``resource_id``, ``tsv = strip(to_tsvector('simple', search_text))``)
with a GIN index. A future SQLite batch migration that rebuilds ``catalog_resource`` must
re-create the triggers.
``search_seq`` with ``catalog_search_state`` lets search keep its facet index current.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.core.db import Base, TimestampMixin, UTCDateTime
from govshare.registry.models import Agency


class CatalogResource(TimestampMixin, Base):
    """A shared-catalog entry (政务信息资源目录条目): the Art 10(1) fields plus the national
    catalog guide's core metadata. Vocabularies for the string columns are in ``rules.py``."""

    __tablename__ = "catalog_resource"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: 资源代码 ``101-000123`` (rules.py), assigned on first publication, then fixed.
    code: Mapped[str | None] = mapped_column(String(16), unique=True)
    #: draft | submitted | published | withdrawn
    status: Mapped[str] = mapped_column(String(16), default="draft")

    #: 提供单位 (Art 10(1)) and, denormalised from it, its region (for facets and scope checks).
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)

    #: basic | thematic | departmental, and the category within it (None for departmental).
    classification: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(40))

    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(300))
    abstract: Mapped[str] = mapped_column(Text, default="")
    abstract_en: Mapped[str | None] = mapped_column(Text)

    #: 数据格式: database | spreadsheet | file | image | streaming | geospatial | api | other
    format: Mapped[str] = mapped_column(String(16))
    #: Free text detail of the format, e.g. "XLSX", "JSON", "Shapefile".
    format_detail: Mapped[str | None] = mapped_column(String(100))

    #: 共享类型 unconditional | conditional | not_shared, with its conditions and legal basis.
    share_type: Mapped[str] = mapped_column(String(16))
    share_conditions: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    #: 提供方式 gateway_api | hosted_dataset | file | off_platform
    provision_method: Mapped[str] = mapped_column(String(20))
    #: Whether the entry is shown on the public portal (Art 9(2) publication of the catalog).
    open_to_public: Mapped[bool] = mapped_column(Boolean, default=False)

    #: 更新周期 and 更新时限 (working days after a change, Art 15(2); default 20).
    update_cycle: Mapped[str] = mapped_column(String(16))
    update_deadline_workdays: Mapped[int] = mapped_column(Integer, default=20)

    #: public | internal | restricted | secret | confidential
    security_classification: Mapped[str] = mapped_column(String(16), default="internal")
    contains_commercial_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    contains_personal_info: Mapped[bool] = mapped_column(Boolean, default=False)

    #: 发布日期 (Art 10(1)): local date of first publication; modified_on: last approved revision.
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    modified_on: Mapped[dt.date | None] = mapped_column(Date)

    #: Number of the version whose content these columns hold.
    version_number: Mapped[int] = mapped_column(Integer, default=1)
    #: Number of the pending revision awaiting the authority (Art 10(2)), if any.
    pending_version_number: Mapped[int | None] = mapped_column(Integer)

    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    #: The authority's last note when it sent a submission back.
    review_note: Mapped[str | None] = mapped_column(Text)

    #: jieba tokens of name, abstract, data item names and tags, separated by spaces.
    search_text: Mapped[str] = mapped_column(Text, default="")
    #: The search generation (CatalogSearchState) of the entry's last change.
    search_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    #: Actor reference (``person:12``) of the creator.
    created_by: Mapped[str] = mapped_column(String(64))

    provider: Mapped[Agency] = relationship(lazy="raise")
    data_items: Mapped[list[CatalogDataItem]] = relationship(
        lazy="raise", order_by="CatalogDataItem.position", cascade="all, delete-orphan", back_populates="resource"
    )
    sectors: Mapped[list[CatalogResourceSector]] = relationship(
        lazy="raise", order_by="CatalogResourceSector.sector", cascade="all, delete-orphan"
    )
    relations: Mapped[list[CatalogResourceRelation]] = relationship(
        lazy="raise", cascade="all, delete-orphan", foreign_keys="CatalogResourceRelation.resource_id"
    )

    __table_args__ = (
        Index("ix_catalog_resource_status_open", "status", "open_to_public"),
        Index("ix_catalog_resource_classification", "classification", "category"),
        Index("ix_catalog_resource_provider_name", "provider_id", "name"),
        # One live entry per name and agency (service._check_name_free), held by the database too,
        # so two concurrent requests cannot both pass the service's check. Withdrawn entries keep
        # their names and free them.
        Index(
            "uq_catalog_resource_provider_name",
            "provider_id",
            "name",
            unique=True,
            sqlite_where=text("status != 'withdrawn'"),
            postgresql_where=text("status != 'withdrawn'"),
        ),
    )

    @property
    def sector_codes(self) -> list[str]:
        return [s.sector for s in self.sectors]

    @property
    def related_ids(self) -> list[int]:
        return sorted(r.related_id for r in self.relations)


class CatalogDataItem(Base):
    """信息项: one field of a resource. Unique by name within the resource (Art 11 refers to items)."""

    __tablename__ = "catalog_data_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    #: Machine identifier (英文标识), e.g. ``id_number``; optional.
    field_code: Mapped[str | None] = mapped_column(String(64))
    #: string | integer | decimal | date | datetime | boolean | binary | geometry
    data_type: Mapped[str] = mapped_column(String(16), default="string")
    description: Mapped[str | None] = mapped_column(Text)
    is_personal: Mapped[bool] = mapped_column(Boolean, default=False)
    is_secret: Mapped[bool] = mapped_column(Boolean, default=False)

    resource: Mapped[CatalogResource] = relationship(lazy="raise", back_populates="data_items")

    __table_args__ = (UniqueConstraint("resource_id", "name", name="uq_catalog_data_item_resource_name"),)


class CatalogResourceSector(Base):
    """Sector tag (领域, Art 22-26) of an entry; one row per tag."""

    __tablename__ = "catalog_resource_sector"

    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), primary_key=True)
    sector: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class CatalogResourceRelation(Base):
    """关联资源: ``resource_id`` lists ``related_id`` as related (directed)."""

    __tablename__ = "catalog_resource_relation"

    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), primary_key=True)
    related_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CatalogResourceVersion(Base):
    """One version of an entry's content: every change is a new row (Art 10(2)).

    ``change_kind``: ``created`` (first version), ``edited`` (change to an unpublished entry,
    effective at once) or ``revision`` (change to a published entry, which waits for the
    authority: ``review_state`` pending -> approved | rejected | superseded). ``published_at`` is
    set on each version that became the published content.
    """

    __tablename__ = "catalog_resource_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    change_kind: Mapped[str] = mapped_column(String(16))
    review_state: Mapped[str | None] = mapped_column(String(16), index=True)
    #: The whole content (service.snapshot_of): fields, data items, sectors, related ids.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    review_note: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("resource_id", "number", name="uq_catalog_resource_version_number"),)


class CatalogCodeCounter(Base):
    """The last sequence number used per resource-code prefix (``101``, ``205``, ``300`` ...)."""

    __tablename__ = "catalog_code_counter"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class CatalogDemand(TimestampMixin, Base):
    """共享需求 (Art 9(1)): what an agency needs, for which duty, on what legal basis.

    ``status``: open -> routed (sent to candidate providers) | matched (linked to resources) ->
    closed. "Unmatched" demands are those open or routed.
    """

    __tablename__ = "catalog_demand"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: The duty the data serves (Art 17: shared data only for the receiver's own duties).
    duty: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    #: Data items wanted, free text.
    wanted_items: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    close_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))

    requester: Mapped[Agency] = relationship(lazy="raise")


class CatalogDemandMatch(Base):
    """A resource answering a demand: ``matched`` by the authority, or ``created`` from it."""

    __tablename__ = "catalog_demand_match"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("catalog_demand.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("demand_id", "resource_id", name="uq_catalog_demand_match_pair"),)


class CatalogDemandRoute(Base):
    """A candidate provider the authority routed a demand to (Art 9(2) coordination)."""

    __tablename__ = "catalog_demand_route"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("catalog_demand.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("demand_id", "agency_id", name="uq_catalog_demand_route_pair"),)


class CatalogSearchState(Base):
    """One row: the catalog's search generation, advanced by every change of an entry (which
    stores it in ``catalog_resource.search_seq``). ``epoch`` changes when the row is re-created,
    e.g. on a new or emptied database. ``search.py`` keeps an in-process index of the entries'
    facet values and reloads what changed since the generation it holds."""

    __tablename__ = "catalog_search_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[str] = mapped_column(String(36))
    generation: Mapped[int] = mapped_column(BigInteger)
