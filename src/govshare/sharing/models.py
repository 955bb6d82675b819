"""Sharing tables (Art 13, 16-19), all prefixed ``sharing_``.

* ``sharing_request``: one agency asks another for a published catalog entry's data (Art 18):
  what it wants (items, region, term, purpose and the duty it serves, Art 17), which clock applies
  (``rules.CLOCK_RULES``) and its deadline on the official calendar, then the provider's answer on
  the same row (approval with what was granted, or refusal with its ground, Art 13(2)).
* ``sharing_agreement`` and ``sharing_signature``: the confidentiality agreement (Art 19) that the
  responsible persons of both agencies (Art 30) sign before secret, commercially secret or personal
  data flows. The agreement's PDF is rendered once and kept, so the document signed is the document
  served; its SHA-256 is in every signing event.
* ``sharing_grant``: what the exchange gateway enforces. Its columns are a contract with the gateway
  (``/work/grant_contract.md``): change them only together.
* ``sharing_filing``: a refusal filed (备案) with the authority of the provider's region (Art 18).
* ``sharing_dispute``: a dispute over whether data is a state secret (secrecy administration) or a
  commercial secret / private (the competent state organ), Art 19(2). An open one holds the clock.
* ``sharing_scheduler_tick``: one row per timed job; a worker claims a tick with an atomic
  conditional UPDATE, so a tick's work runs once however many workers serve.

No fee, price, charge or cost column exists anywhere here (Art 16).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.catalog.models import CatalogResource
from govshare.core.db import Base, TimestampMixin, UTCDateTime
from govshare.registry.models import Agency


class SharingRequest(TimestampMixin, Base):
    """共享申请: the requesting agency asks the provider for items of a catalog entry (Art 18)."""

    __tablename__ = "sharing_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: Denormalised regions of both agencies: an authority sees requests touching its region.
    requester_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    provider_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64))
    #: The catalog demand (Art 9) the request was made from, if any.
    demand_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_demand.id"), index=True)

    #: Names of the entry's data items wanted (a subset of the entry's items).
    items: Mapped[list[str]] = mapped_column(JSON)
    #: Art 17: the purpose, and the duty and legal basis it serves.
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    #: Administrative division code of the region wanted, within the provider's region.
    region_scope: Mapped[str] = mapped_column(String(12))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)

    #: rules.REQUEST_STATES
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: rules.CLOCK_RULES key: unconditional | conditional | sensitive
    clock_rule: Mapped[str] = mapped_column(String(16))
    #: What the request touches (Art 18, 19): drives the clock, the agreement and the channel.
    touches_state_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    touches_commercial_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    touches_personal: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Legal date of receipt (not counted), the deadline (end of that day, Asia/Shanghai) and
    #: whether it is provisional (a counted day lies in a year without official calendar data).
    received_on: Mapped[dt.date] = mapped_column(Date)
    deadline_workdays: Mapped[int] = mapped_column(Integer, default=0)
    deadline_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    #: Working days added to the clock by disputes that held it (Art 19(2)).
    held_workdays: Mapped[int] = mapped_column(Integer, default=0)
    #: When an open dispute started holding the clock (None: the clock runs).
    held_since: Mapped[dt.date | None] = mapped_column(Date)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # The answer (Art 18(1)).
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_by_name: Mapped[str | None] = mapped_column(String(200))
    #: Refusal: rules.REFUSAL_GROUNDS key, the citation (other_legal_ground), the written reason.
    refusal_ground: Mapped[str | None] = mapped_column(String(32))
    refusal_citation: Mapped[str | None] = mapped_column(Text)
    refusal_reason: Mapped[str | None] = mapped_column(Text)
    #: Approval off the platform (Art 14(3)): the exchange filing made for it.
    exchange_filing_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_filing.id"))
    note: Mapped[str | None] = mapped_column(Text)

    created_by: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200))

    requester: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[requester_id])
    provider: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[provider_id])
    resource: Mapped[CatalogResource] = relationship(lazy="raise")

    __table_args__ = (Index("ix_sharing_request_state_deadline", "state", "deadline_on"),)


class SharingAgreement(TimestampMixin, Base):
    """保密协议 (Art 19(1)) between the provider and the requester of one approved request."""

    __tablename__ = "sharing_agreement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_request.id"), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: rules.AGREEMENT_STATES
    state: Mapped[str] = mapped_column(String(24), index=True)
    #: The agreed terms as shown on the page and in the PDF: parties, resource, items, purpose,
    #: region, term, obligations, channel.
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[SharingRequest] = relationship(lazy="raise")
    provider: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[provider_id])
    consumer: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[consumer_id])
    signatures: Mapped[list[SharingSignature]] = relationship(
        lazy="raise", order_by="SharingSignature.signed_at", cascade="all, delete-orphan"
    )


class SharingSignature(Base):
    """One party's signature: its responsible person (共享负责人, Art 30) signed in the platform."""

    __tablename__ = "sharing_signature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreement.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    #: provider | consumer
    party: Mapped[str] = mapped_column(String(16))
    signer: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(200))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("agreement_id", "agency_id", name="uq_sharing_signature_party"),)


class SharingGrant(TimestampMixin, Base):
    """What a consumer may obtain through the exchange gateway. Written only by sharing services;
    read by the gateway. Usable when ``state == 'active'`` and ``starts_on <= today <= ends_on``."""

    __tablename__ = "sharing_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: None when created by a government decision (Art 13(1)).
    request_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_request.id"), unique=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"), index=True)
    #: Denormalised: the gateway's path key.
    resource_code: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    consumer_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: Names of the entry's data items granted (field projection).
    items: Mapped[list[str]] = mapped_column(JSON)
    #: Administrative division codes: rows whose region lies within any of these subtrees.
    region_codes: Mapped[list[str]] = mapped_column(JSON)
    #: Art 17: the declared purpose (compared with X-Govshare-Purpose) and the duty it serves.
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    #: Legal local dates, inclusive.
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    #: platform | secrecy_network | off_platform (Art 18(2): secret/confidential only secrecy_network)
    channel: Mapped[str] = mapped_column(String(16))
    #: 核验: match/no-match per item, never the record.
    verify_only: Mapped[bool] = mapped_column(Boolean, default=False)
    #: pending_signatures | active | expired | revoked
    state: Mapped[str] = mapped_column(String(24), index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    resource: Mapped[CatalogResource] = relationship(lazy="raise")
    provider: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[provider_id])
    consumer: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[consumer_id])

    __table_args__ = (Index("ix_sharing_grant_state_ends_on", "state", "ends_on"),)


class SharingFiling(Base):
    """拒绝共享备案 (Art 18(1)): a refusal's written reasons, filed with the authority of the
    provider's region at the moment of refusal."""

    __tablename__ = "sharing_filing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_request.id"), unique=True)
    #: The provider's region: its authority receives the filing.
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    #: The authority agency of that region, when one is registered.
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resource.id"))
    ground: Mapped[str] = mapped_column(String(32))
    citation: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    filed_on: Mapped[dt.date] = mapped_column(Date)

    request: Mapped[SharingRequest] = relationship(lazy="raise")
    provider: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[provider_id])
    requester: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[requester_id])
    authority: Mapped[Agency | None] = relationship(lazy="raise", foreign_keys=[authority_id])
    resource: Mapped[CatalogResource] = relationship(lazy="raise")


class SharingDispute(TimestampMixin, Base):
    """争议 (Art 19(2)): whether requested data is a state secret (decided by the secrecy
    administration) or a commercial secret / personal privacy (decided by the competent state
    organ, recorded by name). While open it holds the request's clock."""

    __tablename__ = "sharing_dispute"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("sharing_request.id"), index=True)
    #: rules.DISPUTE_KINDS: state_secret | commercial_secret | personal_privacy
    kind: Mapped[str] = mapped_column(String(32))
    #: rules.DISPUTE_STATES: open | decided
    state: Mapped[str] = mapped_column(String(16), index=True)
    raised_by_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    question: Mapped[str] = mapped_column(Text)
    #: The region whose secrecy administration decides (the provider's region).
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    #: The deciding body: "secrecy_admin", or the competent state organ's name.
    decided_by_body: Mapped[str | None] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    #: rules.DISPUTE_OUTCOMES: is_protected | not_protected
    outcome: Mapped[str | None] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    held_workdays: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))

    request: Mapped[SharingRequest] = relationship(lazy="raise")


class SharingSchedulerTick(Base):
    """The last tick a timed job ran for. Claimed by ``UPDATE ... WHERE last_tick < :tick``: one
    worker wins each tick, on SQLite and PostgreSQL alike."""

    __tablename__ = "sharing_scheduler_tick"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_tick: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0)


class SharingNegotiation(TimestampMixin, Base):
    """目录外共享协商 (Art 13(1)): two agencies negotiate over data not in the catalog. If they do
    not agree, the authority of the region covering both takes it up and records the government's
    decision, which binds them and can create a grant."""

    __tablename__ = "sharing_negotiation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The agency that wants the data, and the one that holds it.
    requester_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    requester_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    provider_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    #: The lowest region covering both agencies: its authority takes up a disagreement.
    authority_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    #: rules.NEGOTIATION_STATES
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: The government's decision (Art 13(1)): share | not_share, its text, who records it.
    decision_outcome: Mapped[str | None] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(Text)
    decided_by_body: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_grant.id"))
    created_by: Mapped[str] = mapped_column(String(64))

    requester: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[requester_id])
    provider: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[provider_id])
    messages: Mapped[list[SharingNegotiationMessage]] = relationship(
        lazy="raise", order_by="SharingNegotiationMessage.id", cascade="all, delete-orphan"
    )


class SharingNegotiationMessage(Base):
    """A message or a proposal in a negotiation; agreeing or disagreeing answers the last proposal."""

    __tablename__ = "sharing_negotiation_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    negotiation_id: Mapped[int] = mapped_column(ForeignKey("sharing_negotiation.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    #: message | proposal | agree | disagree
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200))


class SharingPublication(TimestampMixin, Base):
    """发布 (Art 17): a receiving agency asks the provider's consent to publish shared data, and
    the consent or refusal is recorded; or it records that the data is already public under the
    open-government rules, with the source it states on republication."""

    __tablename__ = "sharing_publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("sharing_grant.id"), index=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    #: consent (asks the provider) | already_public (records the public source)
    kind: Mapped[str] = mapped_column(String(16))
    #: rules.PUBLICATION_STATES
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: What is to be published, where and how.
    description: Mapped[str] = mapped_column(Text)
    #: The source statement shown with republished public data (already_public).
    source_statement: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
