"""credentials: API tokens expire and carry a hint; sign-in failures keep the client address

Revision ID: credentials
Revises: authority_unique
Create Date: 2026-11-29 10:00:00.000000

Tokens issued before this revision expire ``GOVSHARE_TOKEN_TTL_DAYS`` after they were issued (so one
older than that stops working at the upgrade) and have no hint. Failures recorded before it have no
address: the throttle, which counts per address, ignores them (they leave its window anyway).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import govshare.core.db

revision = "credentials"
down_revision = "authority_unique"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from govshare.core.config import get_settings

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_hint", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("expires_at", govshare.core.db.UTCDateTime(timezone=True), nullable=True))

    tokens = sa.table(
        "api_token",
        sa.column("id", sa.Integer()),
        sa.column("created_at", govshare.core.db.UTCDateTime(timezone=True)),
        sa.column("expires_at", govshare.core.db.UTCDateTime(timezone=True)),
    )
    ttl = dt.timedelta(days=get_settings().token_ttl_days)
    bind = op.get_bind()
    for token_id, created_at in bind.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        bind.execute(tokens.update().where(tokens.c.id == token_id).values(expires_at=created_at + ttl))

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=govshare.core.db.UTCDateTime(timezone=True), nullable=False)

    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=64), nullable=True))
        batch_op.drop_index("ix_login_failure_username_at")
        batch_op.create_index("ix_login_failure_address_at", ["address", "at"], unique=False)
        batch_op.create_index("ix_login_failure_username_address_at", ["username", "address", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failure_username_address_at")
        batch_op.drop_index("ix_login_failure_address_at")
        batch_op.create_index("ix_login_failure_username_at", ["username", "at"], unique=False)
        batch_op.drop_column("address")

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("token_hint")
