"""catalog_name_unique: one live catalog entry per name and agency, as a partial unique index

The service checked the name before inserting, with nothing behind the check: 20 concurrent
creates of one name by one agency on PostgreSQL left 9 drafts of that name (issue #8). The index
covers every entry that is not withdrawn, as ``_check_name_free`` does.

Revision ID: catalog_name_unique
Revises: guide
Create Date: 2026-11-29 06:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "catalog_name_unique"
down_revision = "guide"
branch_labels = None
depends_on = None

LIVE = "status != 'withdrawn'"


def upgrade() -> None:
    duplicates = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT a.code, r.name, count(*) FROM catalog_resource r JOIN agency a ON a.id = r.provider_id "
                f"WHERE r.{LIVE} GROUP BY a.code, r.name HAVING count(*) > 1 ORDER BY a.code, r.name"
            )
        )
        .all()
    )
    if duplicates:
        listed = "; ".join(f"{code}: {name!r} x{n}" for code, name, n in duplicates)
        raise RuntimeError(
            "目录中同一机关有重名的未撤销条目，请先改名或撤销重复的条目再升级 / an agency has live catalog "
            f"entries of the same name; rename or withdraw the duplicates, then upgrade again: {listed}"
        )
    op.create_index(
        "uq_catalog_resource_provider_name",
        "catalog_resource",
        ["provider_id", "name"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_catalog_resource_provider_name", table_name="catalog_resource")
