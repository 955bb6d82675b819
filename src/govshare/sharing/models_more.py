"""Sharing tables for negotiation outside the catalog (Art 13(1)) and publication consent (Art 17).

* ``sharing_negotiation``: two agencies negotiate about data that is not in the catalog. Messages
  and proposals go back and forth; the party that did not make the latest proposal may agree to
  it, either party may declare disagreement. On disagreement the competent authority of their level
  (the region both agencies lie in, lowest such) takes it up and records the government's decision,
  which binds both and can create the grant (``sharing_grant`` with no request).
* ``sharing_negotiation_message``: one message or proposal in a negotiation's thread.
* ``sharing_publication``: a receiving agency asks the provider's consent to publish data it
  obtained by sharing (Art 17); the consent or refusal is recorded. Data the provider already
  makes public under open-government rules may be republished with its source stated: that
  statement is recorded, without asking.

No fee, price, charge or cost column exists here either (Art 16).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.core.db import Base, TimestampMixin, UTCDateTime
from govshare.registry.models import Agency


class SharingNegotiation(TimestampMixin, Base):
    """协商 (Art 13(1)): an agency asks another for data not in the catalog."""

    __tablename__ = "sharing_negotiation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The agency that wants the data, and the agency that holds it.
    requester_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    requester_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    provider_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    #: The region "of their level": the lowest region both agencies lie in. Its authority takes up
    #: a disagreement and records its government's decision.
    level_region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: What data is wanted (free text: it is not in the catalog).
    data_wanted: Mapped[str] = mapped_column(Text)
    #: Art 17: the purpose, and the duty and legal basis it serves.
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    #: rules_more.NEGOTIATION_STATES
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: Why a party disagreed (the escalation's reason).
    disagreement: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The government's decision (Art 13(1)): which government, share or not, the text, who
    #: recorded it, and the grant it created (if any).
    government: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(16))
    decision: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_grant.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200))

    requester: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[requester_id])
    provider: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[provider_id])


class SharingNegotiationMessage(Base):
    """One entry of a negotiation's thread: a message, or a proposal of terms."""

    __tablename__ = "sharing_negotiation_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    negotiation_id: Mapped[int] = mapped_column(ForeignKey("sharing_negotiation.id", ondelete="CASCADE"),
                                                index=True)
    #: The party that wrote it.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    #: message | proposal
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    #: A proposal's terms: items, region, term, channel (free of any fee field, Art 16).
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: A proposal's fate: open | accepted | superseded | rejected (None for messages).
    proposal_state: Mapped[str | None] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SharingPublication(TimestampMixin, Base):
    """Art 17: publishing shared data needs the provider's consent, unless the data is already
    public (then the source is stated). One row per intended publication."""

    __tablename__ = "sharing_publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The grant under which the data was obtained.
    grant_id: Mapped[int] = mapped_column(ForeignKey("sharing_grant.id"), index=True)
    #: The receiving agency that publishes, and the provider whose consent it needs.
    publisher_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64))
    #: What is to be published, where, and why.
    content: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(500))
    purpose: Mapped[str] = mapped_column(Text)
    #: rules_more.PUBLICATION_STATES: asked | consented | refused | republished (already public)
    state: Mapped[str] = mapped_column(String(16), index=True)
    #: Republication of public data: the statement of its source, as it will appear.
    source_statement: Mapped[str | None] = mapped_column(Text)
    #: The provider's answer.
    answer_reason: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_by_name: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200))

    publisher: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[publisher_id])
    provider: Mapped[Agency] = relationship(lazy="raise", foreign_keys=[provider_id])
