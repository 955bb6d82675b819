"""exchange_call: one row per gateway call, allowed or refused (Art 32, 34); joins the heads

Revision ID: exchange_call
Revises: ledger, sharing, credentials, catalog_name_unique
Create Date: 2026-11-29 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import govshare.core.db

revision = "exchange_call"
down_revision = ("ledger", "sharing", "credentials", "catalog_name_unique")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_call",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", govshare.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("consumer_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=True),
        sa.Column("article", sa.String(length=32), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_call")),
        sa.UniqueConstraint("event_seq", name=op.f("uq_exchange_call_event_seq")),
    )
    with op.batch_alter_table("exchange_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_call_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchange_call_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchange_call_consumer_id"), ["consumer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchange_call_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchange_call_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchange_call_grant_id"), ["grant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exchange_call_outcome"), ["outcome"], unique=False)
        batch_op.create_index("ix_exchange_call_grant_at", ["grant_id", "at"], unique=False)
        batch_op.create_index("ix_exchange_call_consumer_at", ["consumer_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_table("exchange_call")
