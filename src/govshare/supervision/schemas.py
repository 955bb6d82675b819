"""Ledger API shapes. The entries and proof shapes are fixed: independent verifiers depend on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class LedgerEntry(BaseModel):
    """One leaf of the ledger: the event at ``index`` and its exact leaf data."""

    index: int = Field(description="Leaf index = event sequence number")
    leaf_data: str = Field(description="Base64 of the leaf data: the event's RFC 8785 canonical JSON bytes")
    occurred_at: dt.datetime
    actor: str = Field(description="person:<id>, client:<id> or system")
    actor_name: str
    action: str
    subject_type: str
    subject_id: str
    region_code: str | None
    agency_code: str | None
    data: dict[str, Any]


class LedgerEntries(BaseModel):
    entries: list[LedgerEntry]


class InclusionProof(BaseModel):
    index: int
    tree_size: int
    path: list[str] = Field(description="RFC 9162 inclusion path, base64 hashes, from the leaf's sibling up")


class ConsistencyProof(BaseModel):
    first: int
    second: int
    path: list[str] = Field(description="RFC 9162 consistency proof, base64 hashes")
