"""exchange_call_subject: the subject digests of gateway calls, indexed (who used this person's data)

Revision ID: call_subject
Revises: reconcile_progress (follows it: both were written from one_head the same day; one line keeps one head)
Create Date: 2026-11-29 13:00:00

One row per (digest, call), keyed digest first so a lookup by subject is an index range; existing
calls are copied from their ``subjects`` JSON list.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "call_subject"
down_revision = "reconcile_progress"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "exchange_call_subject",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("digest", "event_seq", name=op.f("pk_exchange_call_subject")),
    )
    conn = op.get_bind()
    calls = sa.table("exchange_call", sa.column("event_seq", sa.BigInteger), sa.column("subjects", sa.JSON))
    subjects = sa.table("exchange_call_subject", sa.column("digest", sa.String), sa.column("event_seq", sa.BigInteger))
    batch: list[dict[str, object]] = []
    rows = conn.execute(sa.select(calls.c.event_seq, calls.c.subjects).where(calls.c.event_seq.is_not(None)))
    for seq, digests in rows:
        if isinstance(digests, str):
            digests = json.loads(digests)
        batch.extend({"digest": d, "event_seq": seq} for d in dict.fromkeys(digests or []))
        if len(batch) >= _BATCH:
            conn.execute(subjects.insert(), batch)
            batch = []
    if batch:
        conn.execute(subjects.insert(), batch)


def downgrade() -> None:
    op.drop_table("exchange_call_subject")
