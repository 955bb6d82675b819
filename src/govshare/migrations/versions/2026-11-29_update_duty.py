"""update_duty: changes in source data and the 20-working-day update duty (Art 15(2))

Revision ID: update_duty
Revises: quality
Create Date: 2026-11-29 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import govshare.core.db

revision = "update_duty"
down_revision = "quality"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_update_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("interface_kind", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("feed_key", sa.String(length=200), nullable=True),
        sa.Column("changed_at", govshare.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("workdays", sa.Integer(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("overdue_marked_at", govshare.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("met_at", govshare.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("met_on", sa.Date(), nullable=True),
        sa.Column("met_late", sa.Boolean(), nullable=True),
        sa.Column("met_by", sa.String(length=16), nullable=True),
        sa.Column("dataset_version", sa.Integer(), nullable=True),
        sa.Column("confirmation_note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_by_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", govshare.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", govshare.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["agency.id"], name=op.f("fk_quality_update_change_provider_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["region.code"], name=op.f("fk_quality_update_change_region_code_region")
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"], ["catalog_resource.id"], name=op.f("fk_quality_update_change_resource_id_catalog_resource")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_update_change")),
    )
    with op.batch_alter_table("quality_update_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_update_change_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_update_change_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_update_change_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_update_change_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_update_change_state"), ["state"], unique=False)
        batch_op.create_index(
            "uq_quality_update_change_feed",
            ["resource_id", "feed_key"],
            unique=True,
            sqlite_where=sa.text("feed_key IS NOT NULL"),
            postgresql_where=sa.text("feed_key IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("quality_update_change", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_quality_update_change_feed",
            sqlite_where=sa.text("feed_key IS NOT NULL"),
            postgresql_where=sa.text("feed_key IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_quality_update_change_state"))
        batch_op.drop_index(batch_op.f("ix_quality_update_change_resource_id"))
        batch_op.drop_index(batch_op.f("ix_quality_update_change_region_code"))
        batch_op.drop_index(batch_op.f("ix_quality_update_change_provider_id"))
        batch_op.drop_index(batch_op.f("ix_quality_update_change_due_on"))

    op.drop_table("quality_update_change")
