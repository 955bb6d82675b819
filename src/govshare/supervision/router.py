"""Ledger API (Art 32, 34): checkpoints, verifier key, entries and RFC 9162 proofs.

The shapes are fixed so that independent verifiers can use them:

* ``GET /api/v1/ledger/checkpoint``: the latest signed checkpoint (C2SP tlog-checkpoint), text/plain
* ``GET /api/v1/ledger/vkey``: the verifier key ``<name>+<key id>+<base64(0x01 || key)>``
* ``GET /api/v1/ledger/entries?start=S&end=E``: ``{"entries": [{"index", "leaf_data", ...}]}``
* ``GET /api/v1/ledger/proof/inclusion?index=I&tree_size=N``: ``{"index", "tree_size", "path"}``
* ``GET /api/v1/ledger/proof/consistency?first=M&second=N``: ``{"first", "second", "path"}``

The ledger's background work (integrating new events, timed checkpoints) is wired in ``app.py``.
"""

from __future__ import annotations

import base64
import logging

from fastapi import APIRouter, Query, status
from fastapi.responses import PlainTextResponse

from govshare.core.auth import Anyone
from govshare.core.db import SessionDep
from govshare.core.errors import NotFound
from govshare.supervision import service
from govshare.supervision.permissions import Reader
from govshare.supervision.schemas import ConsistencyProof, InclusionProof, LedgerEntries, LedgerEntry

log = logging.getLogger("govshare.ledger")

MAX_INDEX = 2**63 - 1
TEXT = "text/plain; charset=utf-8"


router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode("ascii") for v in values]


def _no_checkpoint() -> NotFound:
    return NotFound("ledger.no_checkpoint", "账本尚无检查点", "The ledger has no checkpoint yet", article="Art 32")


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="最新检查点 / Latest signed checkpoint",
    description="The latest C2SP tlog-checkpoint: `<origin>\\n<tree size>\\n<base64 root>\\n`, a blank line and "
    "an Ed25519 signature line. Verify it with the key from `/api/v1/ledger/vkey`.",
    responses={200: {"content": {"text/plain": {}}}},
)
def get_checkpoint(session: SessionDep, _: Anyone) -> PlainTextResponse:
    cp = service.latest_checkpoint(session)
    if cp is None:
        raise _no_checkpoint()
    return PlainTextResponse(cp.note, media_type=TEXT)


@router.post(
    "/checkpoint",
    response_class=PlainTextResponse,
    status_code=status.HTTP_201_CREATED,
    summary="立即签发检查点 / Sign a checkpoint now",
    description="Integrates every committed event and signs a checkpoint of the whole tree (supervisors and "
    "authorities). Returns the signed note; an existing checkpoint of the same size is returned as is.",
    responses={201: {"content": {"text/plain": {}}}},
)
def post_checkpoint(session: SessionDep, _: Reader) -> PlainTextResponse:
    cp = service.make_checkpoint(session)
    return PlainTextResponse(cp.note, status_code=status.HTTP_201_CREATED, media_type=TEXT)


@router.get(
    "/checkpoints/{tree_size}",
    response_class=PlainTextResponse,
    summary="指定大小的检查点 / Checkpoint of a given tree size",
    description="Every checkpoint is kept; fetch an older one to check consistency against it.",
    responses={200: {"content": {"text/plain": {}}}},
)
def get_checkpoint_of_size(session: SessionDep, _: Anyone, tree_size: int) -> PlainTextResponse:
    return PlainTextResponse(service.get_checkpoint(session, tree_size).note, media_type=TEXT)


@router.get(
    "/vkey",
    response_class=PlainTextResponse,
    summary="验证公钥 / Verifier key",
    description="`<name>+<8 hex key id>+<base64(0x01 || Ed25519 public key)>`; the name is the checkpoint origin.",
    responses={200: {"content": {"text/plain": {}}}},
)
def get_vkey(_: Anyone) -> PlainTextResponse:
    return PlainTextResponse(service.signer().vkey, media_type=TEXT)


@router.get(
    "/entries",
    response_model=LedgerEntries,
    summary="账本条目 / Ledger entries",
    description=(
        f"Entries with `start <= index < end`, in index order. At most {service.MAX_ENTRIES} indices are served "
        f"per request: a longer range is **truncated** to `[start, start + {service.MAX_ENTRIES})`; continue from "
        "the last index received plus one. Only events in the caller's scope are listed: supervisors and "
        "authorities see the events of their region and the regions below it; events without a region (people, "
        "the platform itself) only those whose grant is on a root region. Indices outside the scope are omitted. "
        "`leaf_data` is the base64 of the exact leaf bytes (the event's RFC 8785 canonical JSON)."
    ),
)
def get_entries(
    session: SessionDep,
    by: Reader,
    start: int = Query(ge=0, le=MAX_INDEX, description="First index (inclusive)"),
    end: int = Query(ge=1, le=MAX_INDEX, description="Last index (exclusive)"),
) -> LedgerEntries:
    events = service.entries(session, by, start, end)
    return LedgerEntries(
        entries=[
            LedgerEntry(
                index=ev.seq,
                leaf_data=base64.b64encode(ev.canonical).decode("ascii"),
                occurred_at=ev.occurred_at,
                actor=ev.actor,
                actor_name=ev.actor_name,
                action=ev.action,
                subject_type=ev.subject_type,
                subject_id=ev.subject_id,
                region_code=ev.region_code,
                agency_code=ev.agency_code,
                data=ev.data,
            )
            for ev in events
        ]
    )


@router.get(
    "/proof/inclusion",
    response_model=InclusionProof,
    summary="包含证明 / Inclusion proof",
    description="RFC 9162 section 2.1.3 inclusion proof of leaf `index` in the tree of `tree_size` leaves. "
    "`tree_size` may not exceed the integrated tree (code `ledger.tree_size_beyond_log`, 422); use the size "
    "of a checkpoint.",
)
def get_inclusion_proof(
    session: SessionDep,
    _: Anyone,
    index: int = Query(ge=0, le=MAX_INDEX),
    tree_size: int = Query(ge=1, le=MAX_INDEX),
) -> InclusionProof:
    path = service.inclusion_proof(session, index, tree_size)
    return InclusionProof(index=index, tree_size=tree_size, path=_b64(path))


@router.get(
    "/proof/consistency",
    response_model=ConsistencyProof,
    summary="一致性证明 / Consistency proof",
    description="RFC 9162 section 2.1.4 consistency proof between the trees of `first` and `second` leaves "
    "(empty when `first` is 0 or equals `second`). `second` may not exceed the integrated tree "
    "(code `ledger.tree_size_beyond_log`, 422).",
)
def get_consistency_proof(
    session: SessionDep,
    _: Anyone,
    first: int = Query(ge=0, le=MAX_INDEX),
    second: int = Query(ge=0, le=MAX_INDEX),
) -> ConsistencyProof:
    path = service.consistency_proof(session, first, second)
    return ConsistencyProof(first=first, second=second, path=_b64(path))
