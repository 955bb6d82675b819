"""Quality tables (Art 11-12, 15), all prefixed ``quality_``.

* ``quality_data_element``: the register of data elements (数据元): a datum the platform knows by
  name, type and format rule, e.g. 公民身份号码 (GB 11643) or 统一社会信用代码 (GB 32100).
* ``quality_source_assignment``: the agency the competent authority of a region assigns to collect
  a data element there (Art 11(1) "一个数据一个来源", Art 12). One active assignment per element and
  region; ending one keeps the row (``ended_at``).
* ``quality_item_link``: a catalog entry's data item collects a data element. Owned by quality, so
  the catalog's tables are never written from here; it names the item by the entry and the item's
  name, which survive the catalog replacing its item rows on every revision.
* ``quality_duplicate_flag``: an agency registers an entry (or a revision) whose items collect an
  element another agency is assigned (Art 11(1)); the agency answers with the legal exception
  ("法律、法规和规章另有规定", with its citation) or a switch to sharing.
* ``quality_reconciliation``: one comparison of a secondary holder's copy with the authoritative
  source's hosted dataset (Art 11(2)), its progress and its stored report (JSON, Excel, Parquet).
* ``quality_verification_task`` and ``quality_verification_answer``: the primary agency's duty to
  verify and explain the discrepancies (Art 11(2)), with a deadline in working days.
* ``quality_check_result``: the quality checks of one hosted dataset version (Art 12, 15(2)).

Events carry metadata only: counts, digests, codes; never the data compared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.catalog.models import CatalogResource
from govshare.core.db import Base, TimestampMixin, UTCDateTime
from govshare.registry.models import Agency


class QualityDataElement(TimestampMixin, Base):
    """数据元: one datum, its type and format rule (Art 11-12)."""

    __tablename__ = "quality_data_element"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Stable code, e.g. ``DE0001``; unique.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(200))
    #: rules.ELEMENT_TYPES (the catalog's item types).
    data_type: Mapped[str] = mapped_column(String(16))
    #: rules.FORMAT_RULES: id_number | uscc | region | property_unit | none
    format_rule: Mapped[str] = mapped_column(String(32), default="none")
    #: The catalog field code (英文标识) of items that hold it, e.g. ``id_number``: used to suggest links.
    field_code: Mapped[str | None] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))


class QualitySourceAssignment(Base):
    """The agency assigned to collect an element in a region (Art 11(1), Art 12)."""

    __tablename__ = "quality_source_assignment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("quality_data_element.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: The legal basis or the authority's decision behind the assignment.
    basis: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    assigned_by: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(64))

    element: Mapped[QualityDataElement] = relationship(lazy="raise")
    agency: Mapped[Agency] = relationship(lazy="raise")

    __table_args__ = (
        Index(
            "uq_quality_source_assignment_active",
            "element_id",
            "region_code",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )


class QualityItemLink(Base):
    """A catalog entry's data item (by name) collects a data element."""

    __tablename__ = "quality_item_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True)
    item_name: Mapped[str] = mapped_column(String(100))
    element_id: Mapped[int] = mapped_column(ForeignKey("quality_data_element.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))

    element: Mapped[QualityDataElement] = relationship(lazy="raise")
    resource: Mapped[CatalogResource] = relationship(lazy="raise")

    __table_args__ = (Index("uq_quality_item_link_item", "resource_id", "item_name", unique=True),)


class QualityDuplicateFlag(TimestampMixin, Base):
    """重复采集提示 (Art 11(1)): an entry collects an element another agency is assigned."""

    __tablename__ = "quality_duplicate_flag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("quality_data_element.id"), index=True)
    item_name: Mapped[str] = mapped_column(String(100))
    #: The agency collecting again, and the agency assigned (in ``region_code``).
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    assigned_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    #: What raised it: created | revision | updated | linked
    trigger: Mapped[str] = mapped_column(String(16))
    catalog_version: Mapped[int | None] = mapped_column(Integer)
    #: rules.FLAG_STATES: open | legal_exception | switch_to_sharing
    state: Mapped[str] = mapped_column(String(24), default="open", index=True)
    citation: Mapped[str | None] = mapped_column(Text)
    explanation: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_by_name: Mapped[str | None] = mapped_column(String(200))

    resource: Mapped[CatalogResource] = relationship(lazy="raise")
    element: Mapped[QualityDataElement] = relationship(lazy="raise")
    agency: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[agency_id])
    assigned_agency: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[assigned_agency_id])

    __table_args__ = (Index("uq_quality_duplicate_flag_item", "resource_id", "element_id", "item_name", unique=True),)


class QualityReconciliation(Base):
    """数据比对 (Art 11(2)): a secondary holder's copy against the authoritative hosted dataset."""

    __tablename__ = "quality_reconciliation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The secondary holder (who compares) and the primary agency (the authoritative source's provider).
    secondary_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    primary_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: The region of the primary source (its authority reads the report).
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    primary_resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    primary_version: Mapped[int] = mapped_column(Integer)
    #: upload | hosted
    source_kind: Mapped[str] = mapped_column(String(16))
    secondary_resource_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    secondary_version: Mapped[int | None] = mapped_column(Integer)
    source_filename: Mapped[str | None] = mapped_column(String(255))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    source_bytes: Mapped[int | None] = mapped_column(BigInteger)
    key_secondary: Mapped[str] = mapped_column(String(100))
    key_primary: Mapped[str] = mapped_column(String(100))
    #: reconcile.KEY_KINDS
    key_kind: Mapped[str] = mapped_column(String(16))
    #: [{"secondary": ..., "primary": ..., "kind": ...}]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rules: Mapped[list[str]] = mapped_column(JSON)
    #: rules.RUN_STATES: queued | running | done | failed
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: rules.RUN_STAGES: what the comparison is doing now, and its step of ``steps``.
    stage: Mapped[str | None] = mapped_column(String(64))
    step: Mapped[int | None] = mapped_column(Integer)
    steps: Mapped[int | None] = mapped_column(Integer)
    #: The process running it (host:pid:nonce) and when it last said it still does; a run whose
    #: heartbeat is older than ``reconcile_stale_seconds`` lost its worker (a restart) and is failed.
    worker: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    discrepancies: Mapped[int | None] = mapped_column(BigInteger)
    #: Relative to the reconciliation directory (``<var_dir>/quality``).
    parquet_path: Mapped[str | None] = mapped_column(String(300))
    xlsx_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    secondary_agency: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[secondary_agency_id])
    primary_agency: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[primary_agency_id])
    primary_resource: Mapped[CatalogResource] = relationship(lazy="raise", foreign_keys=[primary_resource_id])


class QualityVerificationTask(TimestampMixin, Base):
    """核实说明 (Art 11(2)): the primary agency verifies and explains a reconciliation's discrepancies."""

    __tablename__ = "quality_verification_task"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("quality_reconciliation.id"), unique=True)
    primary_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    secondary_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    discrepancies: Mapped[int] = mapped_column(BigInteger)
    answered: Mapped[int] = mapped_column(BigInteger, default=0)
    received_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    workdays: Mapped[int] = mapped_column(Integer)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: open | answered
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    #: The bulk answer, when the agency answered every remaining discrepancy at once.
    bulk_outcome: Mapped[str | None] = mapped_column(String(24))
    bulk_note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)

    reconciliation: Mapped[QualityReconciliation] = relationship(lazy="raise")
    primary_agency: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[primary_agency_id])
    secondary_agency: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[secondary_agency_id])


class QualityVerificationAnswer(Base):
    """The primary agency's answer to one discrepancy (its position in the discrepancy file)."""

    __tablename__ = "quality_verification_answer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("quality_verification_task.id", ondelete="CASCADE"), index=True)
    #: 1-based row of the discrepancy in the reconciliation's Parquet file.
    position: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str | None] = mapped_column(String(200))
    item: Mapped[str | None] = mapped_column(String(100))
    #: rules.OUTCOMES: source_corrected | source_right | cannot_verify
    outcome: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answered_by: Mapped[str] = mapped_column(String(64))
    answered_by_name: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("uq_quality_verification_answer_position", "task_id", "position", unique=True),)


class QualityCheckResult(Base):
    """The quality checks of one hosted dataset version (Art 12, Art 15(2))."""

    __tablename__ = "quality_check_result"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("exchange_dataset_version.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[float | None] = mapped_column(Float)
    dimensions: Mapped[dict[str, Any]] = mapped_column(JSON)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    as_of: Mapped[dt.date] = mapped_column(Date)
    #: accepted (the version was accepted) | on_demand
    trigger: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    checked_by: Mapped[str] = mapped_column(String(64))


class QualityObjection(TimestampMixin, Base):
    """数据异议: an agency holding a grant objects to data it received; the provider checks and
    answers within a deadline in working days (国发〔2016〕51号: fast correction of doubtful data)."""

    __tablename__ = "quality_objection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("sharing_grant.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    objector_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: The entry's region: its authority and supervisors read the objection.
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    record_key: Mapped[str] = mapped_column(String(200))
    #: The item objected to; None: the record as a whole.
    item: Mapped[str | None] = mapped_column(String(100))
    problem: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    received_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    workdays: Mapped[int] = mapped_column(Integer)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: rules.OBJECTION_STATES: open | corrected | confirmed | rejected
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    answer_note: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_by_name: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200))

    resource: Mapped[CatalogResource] = relationship(lazy="raise")
    objector: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[objector_id])
    provider: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[provider_id])


class QualityUpdateChange(TimestampMixin, Base):
    """更新义务 (Art 15(2)): a change in a provider's source data, and the updated version due within
    20 working days of it. Recorded by the provider, or seen by the platform in a proxied resource's
    change feed (``source="feed"``, ``feed_key`` the entry's id in the feed, unique per resource).

    ``state``: open | overdue (marked by the background tick) | met (``met_late`` records whether
    the update came after ``due_on``). Met by a hosted dataset version with ``changed_at`` at or
    after the change (``dataset_version``), or, for a proxied API, by the provider's confirmation.
    """

    __tablename__ = "quality_update_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    #: The resource's interface kind when the change was recorded: hosted_dataset | proxied_api | None.
    interface_kind: Mapped[str | None] = mapped_column(String(16))
    #: rules.CHANGE_SOURCES: provider | feed
    source: Mapped[str] = mapped_column(String(16))
    feed_key: Mapped[str | None] = mapped_column(String(200))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    #: The change's day (Asia/Shanghai); day zero of the deadline.
    received_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    workdays: Mapped[int] = mapped_column(Integer)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    #: rules.UPDATE_STATES: open | overdue | met
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    overdue_marked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    met_on: Mapped[dt.date | None] = mapped_column(Date)
    met_late: Mapped[bool | None] = mapped_column(Boolean)
    #: version | confirmation
    met_by: Mapped[str | None] = mapped_column(String(16))
    dataset_version: Mapped[int | None] = mapped_column(Integer)
    confirmation_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200))

    resource: Mapped[CatalogResource] = relationship(lazy="raise")
    provider: Mapped[Agency] = relationship(lazy="raise")

    __table_args__ = (
        Index(
            "uq_quality_update_change_feed",
            "resource_id",
            "feed_key",
            unique=True,
            sqlite_where=text("feed_key IS NOT NULL"),
            postgresql_where=text("feed_key IS NOT NULL"),
        ),
    )
