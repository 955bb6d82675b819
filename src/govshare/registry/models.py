"""Registry tables: the region tree, agencies, people, role grants, tokens, clients, sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govshare.core.db import Base, TimestampMixin, UTCDateTime


class Region(TimestampMixin, Base):
    """An administrative region (GB/T 2260 code). ``path`` is the chain of codes from the root,
    e.g. ``320000/320500/320505``, so "this region and everything below it" is a prefix test."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))  # province | city | county
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    path: Mapped[str] = mapped_column(String(200), index=True)


class Agency(TimestampMixin, Base):
    """A 行政机关 in the Art 2 sense: an agency, an authorised or an entrusted organisation."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    vertical_system: Mapped[str | None] = mapped_column(String(64))
    is_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    responsible_unit: Mapped[str | None] = mapped_column(String(200))
    responsible_person: Mapped[str | None] = mapped_column(String(100))
    responsible_phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    region: Mapped[Region] = relationship(lazy="raise")

    __table_args__ = (
        # Art 5: one competent authority per region, held by the database too, so two concurrent
        # requests cannot both pass the service's check.
        Index(
            "uq_agency_authority_region",
            "region_code",
            unique=True,
            sqlite_where=text("is_authority"),
            postgresql_where=text("is_authority"),
        ),
    )


class Person(TimestampMixin, Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    grants: Mapped[list[RoleGrant]] = relationship(lazy="raise", back_populates="person")


class RoleGrant(TimestampMixin, Base):
    """A role held in a scope: agency roles name an agency, region roles name a region (which
    covers every region below it)."""

    __tablename__ = "role_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)

    person: Mapped[Person] = relationship(lazy="raise", back_populates="grants")

    __table_args__ = (UniqueConstraint("person_id", "role", "agency_id", "region_code", name="uq_role_grant"),)


class ApiToken(TimestampMixin, Base):
    """A person's bearer token for the API. Only the SHA-256 digest is kept, and a non-secret hint
    (its first characters, as for client keys) by which its owner tells their tokens apart. It
    stops at ``expires_at`` (``GOVSHARE_TOKEN_TTL_DAYS`` after issue) or when revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: None for tokens issued before hints were kept.
    token_hint: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApiClient(TimestampMixin, Base):
    """An agency's machine client (its systems calling the gateway). Key shown once, kept hashed."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("agency_id", "name", name="uq_api_client_agency_name"),)


class WebSession(Base):
    """A portal login. The cookie holds a random secret; the table holds its digest."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """Failed sign-ins (and wrong current passwords), for throttling per client address and per
    (account, address) (Art 31). Rows older than the window are ignored, and so are rows from before
    addresses were kept (``address`` None)."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_login_failure_address_at", "address", "at"),
        Index("ix_login_failure_username_address_at", "username", "address", "at"),
    )
