"""authority_unique: one competent authority per region, as a partial unique index (Art 5)

Revision ID: authority_unique
Revises: 0001
Create Date: 2026-11-26 17:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "authority_unique"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "uq_agency_authority_region",
        "agency",
        ["region_code"],
        unique=True,
        sqlite_where=sa.text("is_authority"),
        postgresql_where=sa.text("is_authority"),
    )


def downgrade() -> None:
    op.drop_index("uq_agency_authority_region", table_name="agency")
