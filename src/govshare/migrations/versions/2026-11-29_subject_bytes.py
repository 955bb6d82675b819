"""exchange_call_subject.digest as the digest's 32 bytes instead of 64 hex characters

Revision ID: subject_bytes
Revises: call_subject
Create Date: 2026-11-29 15:30:00

The subject index gains one row per subject of every gateway call (about 90 for a 10 KB answer),
so its size matters: bytes halve the column and its primary key. Existing rows are converted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "subject_bytes"
down_revision = "call_subject"
branch_labels = None
depends_on = None

_BATCH = 5000


def _convert(to_bytes: bool) -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        using = "decode(digest, 'hex')" if to_bytes else "encode(digest, 'hex')"
        kind = "bytea" if to_bytes else "varchar(64)"
        op.execute(f"ALTER TABLE exchange_call_subject ALTER COLUMN digest TYPE {kind} USING {using}")
        return
    # SQLite: the declared type changes by rebuilding the table; the values, row by row.
    rows = conn.execute(sa.text("SELECT digest, event_seq FROM exchange_call_subject")).all()
    with op.batch_alter_table("exchange_call_subject", recreate="always") as batch:
        batch.alter_column(
            "digest",
            type_=sa.LargeBinary(32) if to_bytes else sa.String(64),
            existing_type=sa.String(64) if to_bytes else sa.LargeBinary(32),
            existing_nullable=False,
        )
    conn.execute(sa.text("DELETE FROM exchange_call_subject"))
    table = sa.table(
        "exchange_call_subject",
        sa.column("digest", sa.LargeBinary if to_bytes else sa.String),
        sa.column("event_seq", sa.BigInteger),
    )
    values = [{"digest": bytes.fromhex(d) if to_bytes else bytes(d).hex(), "event_seq": seq} for d, seq in rows]
    for i in range(0, len(values), _BATCH):
        conn.execute(table.insert(), values[i : i + _BATCH])


def upgrade() -> None:
    _convert(to_bytes=True)


def downgrade() -> None:
    _convert(to_bytes=False)
