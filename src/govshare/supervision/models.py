"""Ledger tables: the stored Merkle tree over the event log and its signed checkpoints (Art 32, 34).

The tree is the RFC 9162 tree whose leaves are the events' canonical bytes in sequence order
(``core.events``). Every *perfect subtree* hash is stored once complete, addressed by
``(level, idx)``: the subtree of ``2**level`` leaves starting at leaf ``idx * 2**level`` (level 0
holds the leaf hashes). Complete subtrees never change, so the table is append-only, holds about
``2 n`` rows for ``n`` events, and any root or proof needs O(log n) rows fetched by primary key in
one query (see ``supervision.merkle.proof_nodes``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, LargeBinary, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from govshare.core.db import Base, UTCDateTime


class LedgerNode(Base):
    """One perfect-subtree hash of the ledger's Merkle tree."""

    __tablename__ = "ledger_node"
    # No rowid on SQLite: the composite primary key is the table (half the pages, one B-tree).
    __table_args__ = {"sqlite_with_rowid": False}

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerState(Base):
    """One row: how many events (a prefix of the sequence) the stored tree covers.

    Integrators lock this row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises
    writers) so that only one extends the tree at a time.
    """

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LedgerCheckpoint(Base):
    """A signed tree head: a C2SP tlog-checkpoint note over the first ``tree_size`` events. All
    checkpoints are kept."""

    __tablename__ = "ledger_checkpoint"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
