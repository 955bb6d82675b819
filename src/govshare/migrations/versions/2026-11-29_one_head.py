"""One head again: the exchange gateway's call records and the quality domain's update duty.

Revision ID: one_head
Revises: exchange_call, update_duty
Create Date: 2026-11-29

Both branches grew from ``sharing`` in parallel; this revision joins them so ``alembic heads`` names
one revision and a later migration has one parent. It changes no table.
"""

from __future__ import annotations

revision = "one_head"
down_revision = ("exchange_call", "update_duty")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
