"""reconcile_progress: a reconciliation's step count, its worker and heartbeat (Art 11(2))

Revision ID: reconcile_progress
Revises: one_head
Create Date: 2026-11-29 12:30:00

``step``/``steps`` say how far a running comparison is (validating keys, comparing item k of n,
writing the report); ``worker``/``heartbeat_at`` say which process runs it and when it last said
so, so that a run whose process is gone (a restart) can be told from one that is still working.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import govshare.core.db

revision = "reconcile_progress"
down_revision = "one_head"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quality_reconciliation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("steps", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", govshare.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quality_reconciliation", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("worker")
        batch_op.drop_column("steps")
        batch_op.drop_column("step")
