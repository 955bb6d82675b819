"""Exchange tables (Art 14-15), all prefixed ``exchange_``.

* ``exchange_interface``: the data access interface a provider attaches to a catalog entry
  (Art 15(1)): a proxied API on its exchange node or a hosted dataset. One per entry; detaching
  keeps the row (``detached_at``) so the history of versions stays attached to it.
* ``exchange_dataset_version``: one accepted upload of a hosted dataset, stored as an immutable
  Parquet file under the dataset directory. ``changed_at`` is the data change it carries (Art 15(2)
  counts the 20-working-day update duty from changes); ``accepted_at`` when the platform took it.
* ``exchange_filing`` and ``exchange_filing_report``: sharing outside the platform, filed with the
  authority of the agency's region, and its periodic statistics reports (Art 14(3)).

Events carry metadata only: row counts, byte sizes, SHA-256 digests, never the data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.catalog.models import CatalogResource
from govshare.core.db import Base, TimestampMixin, UTCDateTime
from govshare.registry.models import Agency


class ExchangeInterface(TimestampMixin, Base):
    """提供方数据访问接口 (Art 15(1)) of one catalog entry."""

    __tablename__ = "exchange_interface"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), unique=True)
    #: Denormalised from the entry for scope checks and lists.
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    #: rules.INTERFACE_KINDS: proxied_api | hosted_dataset
    kind: Mapped[str] = mapped_column(String(16))

    # Proxied API on the provider's exchange node.
    base_url: Mapped[str | None] = mapped_column(String(500))
    #: The OpenAPI 3.x description as the provider gave it (JSON or YAML text), and the described
    #: API's title and version (``info.title``, ``info.version``).
    openapi_document: Mapped[str | None] = mapped_column(Text)
    openapi_title: Mapped[str | None] = mapped_column(String(200))
    openapi_version: Mapped[str | None] = mapped_column(String(20))
    timeout_ms: Mapped[int | None] = mapped_column(Integer)
    #: A path below ``base_url`` answering verification (核验) calls, if the provider offers one.
    lookup_path: Mapped[str | None] = mapped_column(String(300))
    #: Where the provider announces data changes, if it does (Art 15(2) monitoring).
    change_feed_url: Mapped[str | None] = mapped_column(String(500))

    #: The channel is a network with secrecy measures (Art 18(2)): state secrets need one.
    secrecy_network: Mapped[bool] = mapped_column(Boolean, default=False)

    # Hosted dataset.
    #: Item names every row must fill (besides the region and key items, always required).
    required_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Items a verification (核验) may look a record up by; unique in every version.
    key_items: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Number of the version served; None until the first upload.
    current_version: Mapped[int | None] = mapped_column(Integer)

    detached_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))

    resource: Mapped[CatalogResource] = relationship(lazy="raise")
    provider: Mapped[Agency] = relationship(lazy="raise")

    __table_args__ = (Index("ix_exchange_interface_kind", "kind"),)

    @property
    def active(self) -> bool:
        return self.detached_at is None


class ExchangeDatasetVersion(Base):
    """One accepted version of a hosted dataset: an immutable Parquet file."""

    __tablename__ = "exchange_dataset_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interface_id: Mapped[int] = mapped_column(ForeignKey("exchange_interface.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    #: Relative to the dataset directory (``exchange.config``), e.g. ``12/v3-5f0c....parquet``.
    path: Mapped[str] = mapped_column(String(300))
    row_count: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    #: The stored columns: rules.ItemSpec of every item (name, field code, type, Parquet column).
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source_filename: Mapped[str] = mapped_column(String(255))
    #: rules.FORMATS: csv | jsonl | parquet | xlsx; and the CSV encoding detected.
    source_format: Mapped[str] = mapped_column(String(16))
    source_encoding: Mapped[str | None] = mapped_column(String(16))
    source_bytes: Mapped[int] = mapped_column(BigInteger)
    source_sha256: Mapped[str] = mapped_column(String(64))
    #: The data change this version carries (as the provider states it, else the upload time).
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    accepted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_by_name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("resource_id", "number", name="uq_exchange_dataset_version_number"),)


class ExchangeFiling(TimestampMixin, Base):
    """平台外共享备案 (Art 14(3)): sharing that does not go through the platform, filed with the
    authority of the filing agency's region, with statistics reported every period."""

    __tablename__ = "exchange_filing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: The filing agency's region: its authority receives the filing.
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    #: The catalog entry shared, or ``resource_text`` for data outside the catalog.
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    resource_text: Mapped[str | None] = mapped_column(String(200))
    #: The other agency: a registered one, or its name when it is not in the registry.
    counterpart_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    counterpart_name: Mapped[str] = mapped_column(String(200))
    #: provide (this agency gives data) | receive (it obtains data).
    direction: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(200))
    #: rules.REPORT_PERIODS
    report_period: Mapped[str] = mapped_column(String(16))
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Legal (local) date of filing: the first reporting period is the one holding it.
    filed_on: Mapped[dt.date] = mapped_column(Date)
    #: active | ended; an ended filing still owes the reports of the periods it was active.
    state: Mapped[str] = mapped_column(String(16), default="active", index=True)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))

    agency: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[agency_id])
    counterpart: Mapped[Agency | None] = relationship(lazy="raise", foreign_keys=[counterpart_id])
    resource: Mapped[CatalogResource | None] = relationship(lazy="raise")


class ExchangeFilingReport(Base):
    """资源共享统计信息 (Art 14(3)): what went through the off-platform channel in one period."""

    __tablename__ = "exchange_filing_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("exchange_filing.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    calls: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Legal date it was submitted and the date it was due; late when the first is after the second.
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_by_name: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("filing_id", "period_start", name="uq_exchange_filing_report_period"),)


class ExchangeCall(Base):
    """One call through the exchange gateway, allowed or refused (Art 32, 34): who called, for which
    grant and purpose, what came of it, and how much went out. Never the data: the body only as its
    SHA-256, and the subjects (identity numbers, credit codes asked for or returned) only as keyed
    HMAC-SHA256 digests, so "who used this person's data" can be answered without keeping the keys.

    Written only by the gateway's recorder (``exchange.gateway.recorder``) in group commits, each
    row beside its ``exchange.gateway.call`` event (``event_seq``)."""

    __tablename__ = "exchange_call"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: When the call's group was written: its event's time. On PostgreSQL the writer reads its clock
    #: just before the group's one statement, not under the event counter's lock, so an event of
    #: another writer committed just before may carry a later time by up to that lock's wait
    #: (``exchange.gateway.recorder``); on SQLite the time is taken under the lock.
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    event_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    #: The machine client and its agency (the consumer); None when the key was unknown.
    client_id: Mapped[int | None] = mapped_column(Integer, index=True)
    consumer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    provider_id: Mapped[int | None] = mapped_column(Integer, index=True)
    resource_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: As the caller named it (an unknown code is recorded as asked).
    resource_code: Mapped[str] = mapped_column(String(64))
    grant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    purpose: Mapped[str | None] = mapped_column(Text)
    #: query (hosted rows) | verify (核验) | proxy (forwarded to the provider's node)
    mode: Mapped[str] = mapped_column(String(16))
    #: allowed | refused (by the grant rules) | failed (provider down, bad input, ...)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(100))
    article: Mapped[str | None] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    latency_ms: Mapped[float] = mapped_column(Float)
    #: HMAC-SHA256 (hex) of each subject key asked for or returned.
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (
        Index("ix_exchange_call_grant_at", "grant_id", "at"),
        Index("ix_exchange_call_consumer_at", "consumer_id", "at"),
    )


class ExchangeCallSubject(Base):
    """One subject of one call: the HMAC digest of an identity number or credit code the call asked
    for or returned (``exchange_call.subjects``), one row per (digest, call), so that "which
    agencies used this person's data" is an index lookup on ``digest`` rather than a scan of every
    call's JSON list (issue #11; Estonia's data tracker answers the same question over X-Road).

    The call is named by its event number (``exchange_call.event_seq``, unique), which the
    recorder assigns in the statement that writes the call rows (on PostgreSQL the numbers are
    reserved and the rows written in one statement, so no call ids travel back). Written only by
    the recorder, in the same transaction as the calls."""

    __tablename__ = "exchange_call_subject"

    #: The 32 bytes of the HMAC-SHA256 (the call row's list holds them as hex): half the size of
    #: the hex text in the table and its key, which grows by one row per subject of every call.
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    event_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
