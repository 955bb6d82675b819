"""Service guide tables (Art 20-27): services, the channels they reach people by, the catalog
entries they rely on."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.core.db import Base, TimestampMixin, UTCDateTime
from govshare.registry.models import Agency


class GuideService(TimestampMixin, Base):
    """A public service in the informatization service guide (服务指引目录, Art 20), kept by the
    competent authority of the serving agency's region."""

    __tablename__ = "guide_service"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(300))
    #: Sector (领域, Art 22-26): the catalog's vocabulary, ``catalog.rules.SECTORS``.
    sector: Mapped[str] = mapped_column(String(32), index=True)
    #: The serving agency and, denormalised from it, its region (scope of the authority, Art 5).
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str | None] = mapped_column(Text)
    #: Where the service is used or explained (http or https).
    link_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deactivation_reason: Mapped[str | None] = mapped_column(Text)
    #: Actor reference (``person:12``) of the creator.
    created_by: Mapped[str] = mapped_column(String(64))

    agency: Mapped[Agency] = relationship(lazy="raise")
    channels: Mapped[list[GuideServiceChannel]] = relationship(
        lazy="raise", order_by="GuideServiceChannel.position", cascade="all, delete-orphan"
    )
    resources: Mapped[list[GuideServiceResource]] = relationship(lazy="raise", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("agency_id", "name", name="uq_guide_service_agency_name"),
        Index("ix_guide_service_active_sector", "active", "sector"),
    )


class GuideServiceChannel(Base):
    """A channel a service is offered on (Art 27), with its detail (the hotline number, the app)."""

    __tablename__ = "guide_service_channel"

    service_id: Mapped[int] = mapped_column(ForeignKey("guide_service.id", ondelete="CASCADE"), primary_key=True)
    #: ``guide.rules.CHANNELS``: web | mobile_app | phone | tv | counter
    channel: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str | None] = mapped_column(String(200))


class GuideServiceResource(Base):
    """A catalog entry the service relies on (Art 20: services built on government data)."""

    __tablename__ = "guide_service_resource"

    service_id: Mapped[int] = mapped_column(ForeignKey("guide_service.id", ondelete="CASCADE"), primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resource.id", ondelete="CASCADE"), primary_key=True, index=True
    )
