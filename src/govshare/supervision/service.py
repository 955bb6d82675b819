"""The supervision ledger: every event a leaf of a verifiable Merkle log (Art 32, 34).

How it works
------------
* The event log (``core.events``) is the durable record: an event row with its gapless ``seq``
  and its RFC 8785 ``canonical`` bytes is committed in the same transaction as the change it
  records. The ledger adds nothing to that hot path.
* An *integrator* (:func:`integrate`) extends the RFC 9162 tree over the committed events in
  batches: it locks the one-row ``ledger_state`` (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
  serialises writers), reads the next events in ``seq`` order, appends their leaf hashes to the
  tree's right border (``merkle.CompactRange``) and stores every perfect subtree completed. Writers
  commit in ``seq`` order (the ``event_head`` row lock is held until commit), so the committed
  events are always a gapless prefix and the integrator never skips or reorders one.
* A *checkpoint* (C2SP tlog-checkpoint, Ed25519 signed note) is made at every multiple of
  ``ledger_checkpoint_every_events`` as the integrator passes it, every
  ``ledger_checkpoint_every_seconds`` when the tree grew (:func:`tick`, run by the app's
  background task), and on demand (:func:`make_checkpoint`). All checkpoints are kept.
* Proofs read the O(log n) stored nodes they need in one query (``merkle.proof_nodes``).
* ``supervision.verify`` recomputes everything from the events, exports the log, and checks an
  export on a supervisor's own machine without a database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import and_, insert, or_, select, text, update
from sqlalchemy.orm import Session

from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.config import Settings, get_settings
from govshare.core.errors import DomainError, InvalidInput, NotFound
from govshare.core.events import Event
from govshare.registry import service as registry_service
from govshare.supervision import merkle, note
from govshare.supervision import permissions as perm
from govshare.supervision.models import LedgerCheckpoint, LedgerNode, LedgerState

log = logging.getLogger("govshare.ledger")

_NODE = LedgerNode.__table__
_STATE = LedgerState.__table__
_CP = LedgerCheckpoint.__table__
_EVENT = Event.__table__

#: Most entries one ``entries`` request returns; a longer range is truncated to its first
#: ``MAX_ENTRIES`` indices (clients continue from the last index they received plus one).
MAX_ENTRIES = 1000
#: Events integrated per read batch.
INTEGRATE_BATCH = 10_000
#: Events one background round integrates per transaction (keeps SQLite's write lock short).
TICK_LIMIT = 50_000
ARTICLE = "Art 32"


class LedgerCorrupt(DomainError):
    """The stored tree disagrees with itself (a node a proof needs is missing). Run ``verify``."""

    status = 500


# ---------------------------------------------------------------------------------------------
# Signing key
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Signer:
    origin: str
    key: Ed25519PrivateKey
    vkey: str

    def sign(self, size: int, root: bytes) -> str:
        return note.sign_checkpoint(note.Checkpoint(self.origin, size, root), self.key)


_signers: dict[tuple[str, str], Signer] = {}
_signers_lock = threading.Lock()


def signer(settings: Settings | None = None) -> Signer:
    """The instance's checkpoint signer; the key file is created (mode 0600) on first use.

    The key lives outside the database (``resolved_ledger_key_path``), so someone who can write
    the database still cannot forge a checkpoint. The verifier key's name is the origin.
    """
    settings = settings or get_settings()
    origin = settings.resolved_ledger_origin
    path = settings.resolved_ledger_key_path
    cache_key = (origin, str(Path(path).resolve()))
    with _signers_lock:
        found = _signers.get(cache_key)
        if found is None:
            key = note.load_or_create_signing_key(Path(path))
            found = Signer(origin, key, note.format_verifier_key(origin, key.public_key()))
            _signers[cache_key] = found
        return found


def local_vkey(settings: Settings | None = None) -> str | None:
    """This instance's verifier key from its signing key file, or None when there is no key file
    (verification never creates a key)."""
    settings = settings or get_settings()
    if not Path(settings.resolved_ledger_key_path).exists():
        return None
    return signer(settings).vkey


# ---------------------------------------------------------------------------------------------
# Tree storage
# ---------------------------------------------------------------------------------------------


def _lock_state(session: Session) -> int:
    """Lock the ledger state row for this transaction and return the integrated tree size."""
    stmt = select(_STATE.c.tree_size).where(_STATE.c.id == 1).with_for_update()
    size = session.execute(stmt).scalar()
    if size is None:
        session.execute(text("INSERT INTO ledger_state (id, tree_size) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"))
        size = session.execute(stmt).scalar_one()
    return int(size)


def integrated_size(session: Session) -> int:
    """How many events the stored tree covers (no lock)."""
    size = session.connection().exec_driver_sql("SELECT tree_size FROM ledger_state WHERE id = 1").scalar()
    return int(size or 0)


def event_count(session: Session) -> int:
    """Committed events: the next sequence number (events are gapless from 0)."""
    head = session.execute(text("SELECT next_seq FROM event_head WHERE id = 1")).scalar()
    return int(head or 0)


def _fetch_nodes(session: Session, coords: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Fetch the stored nodes at ``coords`` in one query.

    The query is ``(level = L AND idx IN (...)) OR ...``, answered by primary-key searches on both
    backends (SQLite scans the whole table for a row-value ``(level, idx) IN (...)``). The
    coordinates are integers computed here, never user text, so the statement is written out
    directly: building an SQLAlchemy expression per proof cost more than the query itself.
    """
    if not coords:
        return {}
    by_level: dict[int, list[int]] = {}
    for level, idx in coords:
        by_level.setdefault(int(level), []).append(int(idx))
    where = " OR ".join(
        f"(level = {level} AND idx IN ({','.join(map(str, indices))}))" for level, indices in sorted(by_level.items())
    )
    rows = session.connection().exec_driver_sql(f"SELECT level, idx, hash FROM ledger_node WHERE {where}")
    return {(level, idx): bytes(digest) for level, idx, digest in rows}


class _Reader(merkle.MappingReader):
    """A prefetched ``NodeReader`` that reports a missing node as a corrupt store."""

    def subtree_hash(self, level: int, index: int) -> bytes:
        try:
            return super().subtree_hash(level, index)
        except KeyError:
            raise LedgerCorrupt(
                "ledger.node_missing",
                "账本存储的树节点缺失，请运行 govshare ledger verify",
                "A stored tree node is missing; run govshare ledger verify",
                detail=f"node level={level} index={index}",
                article=ARTICLE,
            ) from None


def _reader(session: Session, ranges: Iterable[tuple[int, int]]) -> _Reader:
    return _Reader(_fetch_nodes(session, merkle.proof_nodes(ranges)))


def _insert_nodes(session: Session, nodes: Sequence[merkle.NodeHash]) -> None:
    """Store completed subtrees: ``COPY`` for large batches on PostgreSQL, else the driver's
    ``executemany`` (NodeHash rows are already ``(level, idx, hash)`` tuples)."""
    if not nodes:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql" and len(nodes) >= 256:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy("COPY ledger_node (level, idx, hash) FROM STDIN") as copy:
                for node in nodes:
                    copy.write_row(node)
        finally:
            cursor.close()
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO ledger_node (level, idx, hash) VALUES (?, ?, ?)", list(nodes))
    else:
        session.execute(insert(_NODE), [{"level": n.level, "idx": n.index, "hash": n.hash} for n in nodes])


def root_at(session: Session, size: int) -> bytes:
    """MTH of the first ``size`` events from the stored nodes (popcount(size) reads, one query)."""
    return merkle.range_hash(_reader(session, [(0, size)]), 0, size)


@dataclasses.dataclass(slots=True)
class Integration:
    old_size: int
    new_size: int
    root: bytes
    #: Tree sizes of the checkpoints made (multiples of ``ledger_checkpoint_every_events``).
    checkpoints: list[int]
    #: The index of a missing event that stopped integration (tampering: events are gapless).
    gap_at: int | None = None

    @property
    def added(self) -> int:
        return self.new_size - self.old_size


def _store_checkpoint(session: Session, size: int, root: bytes, now: dt.datetime) -> LedgerCheckpoint | None:
    """Sign and store a checkpoint; None when one of that size exists. Caller holds the lock."""
    if session.execute(select(_CP.c.tree_size).where(_CP.c.tree_size == size)).first() is not None:
        return None
    cp = LedgerCheckpoint(tree_size=size, root=root, note=signer().sign(size, root), created_at=now)
    session.add(cp)
    session.flush()
    return cp


def integrate(
    session: Session,
    *,
    limit: int | None = None,
    now: dt.datetime | None = None,
    batch: int = INTEGRATE_BATCH,
) -> Integration:
    """Extend the stored tree with the committed events it does not cover yet (at most ``limit``).

    Runs in the caller's transaction and holds the ledger lock until it commits. Makes a
    checkpoint at every multiple of ``ledger_checkpoint_every_events`` it passes. Never commits.
    """
    now = now or clock.now()
    every = get_settings().ledger_checkpoint_every_events
    old_size = size = _lock_state(session)
    compact = merkle.CompactRange.from_reader(_reader(session, [(0, size)]), size)
    made: list[int] = []
    gap_at: int | None = None
    while gap_at is None and (limit is None or size - old_size < limit):
        want = batch if limit is None else min(batch, limit - (size - old_size))
        rows = session.execute(
            select(_EVENT.c.seq, _EVENT.c.canonical).where(_EVENT.c.seq >= size).order_by(_EVENT.c.seq).limit(want)
        ).all()
        leaves: list[bytes] = []
        for seq, canonical in rows:
            if seq != size + len(leaves):
                gap_at = size + len(leaves)
                log.error("ledger: event %d is missing; integration stops there (run govshare ledger verify)", gap_at)
                break
            leaves.append(merkle.leaf_hash(canonical))
        position = 0
        while position < len(leaves):
            mark = (compact.size // every + 1) * every
            take = min(len(leaves) - position, mark - compact.size)
            _insert_nodes(session, compact.extend(leaves[position : position + take]))
            position += take
            if compact.size == mark and _store_checkpoint(session, mark, compact.root(), now) is not None:
                made.append(mark)
        size = compact.size
        if len(rows) < want:
            break
    if size != old_size:
        session.execute(update(_STATE).where(_STATE.c.id == 1).values(tree_size=size, updated_at=now))
        session.flush()
    return Integration(old_size, size, compact.root(), made, gap_at)


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    return session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size.desc()).limit(1)).first()


def get_checkpoint(session: Session, tree_size: int) -> LedgerCheckpoint:
    cp = session.get(LedgerCheckpoint, tree_size)
    if cp is None:
        raise NotFound(
            "ledger.checkpoint_not_found",
            f"没有树大小为 {tree_size} 的检查点",
            f"No checkpoint of tree size {tree_size}",
            field="tree_size",
            article=ARTICLE,
        )
    return cp


def list_checkpoints(session: Session) -> list[LedgerCheckpoint]:
    return list(session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size)))


def make_checkpoint(session: Session, *, now: dt.datetime | None = None) -> LedgerCheckpoint:
    """Integrate every committed event and sign a checkpoint of the whole tree now (on demand).

    Returns the existing checkpoint when one of the current size exists already.
    """
    now = now or clock.now()
    result = integrate(session, now=now)
    cp = _store_checkpoint(session, result.new_size, result.root, now)
    return cp if cp is not None else get_checkpoint(session, result.new_size)


def tick(session: Session, *, now: dt.datetime | None = None, limit: int = TICK_LIMIT) -> Integration:
    """One round of background work: integrate up to ``limit`` events, then make the timed checkpoint
    when the tree grew and ``ledger_checkpoint_every_seconds`` passed since the latest one (or no
    checkpoint exists yet)."""
    now = now or clock.now()
    result = integrate(session, limit=limit, now=now)
    latest = latest_checkpoint(session)
    period = dt.timedelta(seconds=get_settings().ledger_checkpoint_every_seconds)
    due = latest is None or (result.new_size > latest.tree_size and now - latest.created_at >= period)
    if due and _store_checkpoint(session, result.new_size, result.root, now) is not None:
        result.checkpoints.append(result.new_size)
    return result


# ---------------------------------------------------------------------------------------------
# Proofs
# ---------------------------------------------------------------------------------------------


def catch_up() -> int:
    """Integrate and make due checkpoints until caught up, each round in its own transaction;
    returns the events integrated. The app runs it in the background (``ledger_background``)."""
    from govshare.core.db import transaction

    total = 0
    while True:
        with transaction() as session:
            result = tick(session)
        total += result.added
        if result.added < TICK_LIMIT or result.gap_at is not None:
            return total


def _beyond(field: str, value: int, size: int) -> InvalidInput:
    return InvalidInput(
        "ledger.tree_size_beyond_log",
        f"{field}={value} 超出账本已整合的树大小 {size}",
        f"{field}={value} is beyond the ledger's integrated tree size {size}",
        detail="请使用最新检查点的树大小 / use the tree size of the latest checkpoint",
        field=field,
        article=ARTICLE,
        extra={"tree_size_available": size},
    )


def _proof_reader(session: Session, ranges: list[tuple[int, int]], tree_size: int, field: str) -> _Reader:
    """Prefetch, in one query, the nodes that hash ``ranges`` plus the last leaf of the tree of
    ``tree_size``: that leaf is stored exactly when the tree of that size is integrated, so the
    common case needs no second query to check the size."""
    coords = merkle.proof_nodes(ranges)
    last = (0, tree_size - 1)
    if tree_size:
        coords.append(last)
    nodes = _fetch_nodes(session, coords)
    if tree_size and last not in nodes:
        size = integrated_size(session)
        if tree_size > size:
            raise _beyond(field, tree_size, size)
    return _Reader(nodes)


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``tree_size`` (one query)."""
    if not 0 <= index < tree_size:
        raise InvalidInput(
            "ledger.index_out_of_range",
            f"索引 {index} 不在树大小 {tree_size} 之内",
            f"Index {index} is not below tree size {tree_size}",
            field="index",
            article=ARTICLE,
        )
    ranges = merkle.inclusion_proof_ranges(index, tree_size)
    return merkle.inclusion_proof(_proof_reader(session, ranges, tree_size, "tree_size"), index, tree_size)


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    """RFC 9162 consistency proof between the trees of ``first`` and ``second`` leaves (one query)."""
    if first > second:
        raise InvalidInput(
            "ledger.first_after_second",
            "first 不能大于 second",
            "first must not exceed second",
            field="first",
            article=ARTICLE,
        )
    ranges = merkle.consistency_proof_ranges(first, second)
    return merkle.consistency_proof(_proof_reader(session, ranges, second, "second"), first, second)


# ---------------------------------------------------------------------------------------------
# Reading entries (scoped)
# ---------------------------------------------------------------------------------------------


def _scope_filter(session: Session, by: Principal) -> Any | None:
    """A WHERE clause limiting events to ``by``'s scope, or None for everything.

    An event belongs to its region; one that names an agency but no region belongs to the
    agency's region (an agency's events belong to its region).
    """
    scope = perm.ledger_scope(by)
    if scope.everything:
        return None
    return or_(
        registry_service.in_subtrees(Event.region_code, scope.grant_paths),
        and_(
            Event.region_code.is_(None),
            Event.agency_code.in_(registry_service.agency_codes_in_subtrees(scope.grant_paths)),
        ),
    )


def entries(session: Session, by: Principal, start: int, end: int) -> list[Event]:
    """Events ``start <= index < end`` that ``by`` may read; at most ``MAX_ENTRIES`` indices are scanned."""
    if end <= start:
        raise InvalidInput(
            "ledger.range_empty", "end 必须大于 start", "end must be greater than start", field="end", article=ARTICLE
        )
    end = min(end, start + MAX_ENTRIES)
    stmt = select(Event).where(Event.seq >= start, Event.seq < end).order_by(Event.seq)
    scope = _scope_filter(session, by)
    if scope is not None:
        stmt = stmt.where(scope)
    return list(session.scalars(stmt))


@dataclasses.dataclass(slots=True)
class EventFilter:
    agency: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    action: str | None = None
    #: ``person:<id>``, ``client:<id>``, ``system`` or a user name.
    actor: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def _actor_ref(session: Session, actor: str) -> str:
    if actor == "system" or (":" in actor and actor.split(":", 1)[0] in ("person", "client")):
        return actor
    return f"person:{registry_service.get_person(session, actor).id}"


def browse(
    session: Session, by: Principal, f: EventFilter, *, before: int | None = None, limit: int = 50
) -> tuple[list[Event], int | None]:
    """Events ``by`` may read matching ``f``, newest first; returns the page and the ``before``
    cursor of the next (older) page, or None."""
    stmt = select(Event)
    scope = _scope_filter(session, by)
    if scope is not None:
        stmt = stmt.where(scope)
    if f.agency:
        stmt = stmt.where(Event.agency_code == f.agency)
    if f.subject_type:
        stmt = stmt.where(Event.subject_type == f.subject_type)
    if f.subject_id:
        stmt = stmt.where(Event.subject_id == f.subject_id)
    if f.action:
        stmt = stmt.where(Event.action.startswith(f.action, autoescape=True))
    if f.actor:
        stmt = stmt.where(Event.actor == _actor_ref(session, f.actor))
    if f.since:
        stmt = stmt.where(Event.occurred_at >= f.since)
    if f.until:
        stmt = stmt.where(Event.occurred_at < f.until)
    if before is not None:
        stmt = stmt.where(Event.seq < before)
    rows = list(session.scalars(stmt.order_by(Event.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].seq if more and rows else None)


def get_event(session: Session, by: Principal, seq: int) -> Event:
    ev = session.get(Event, seq)
    if ev is None:
        raise NotFound("ledger.event_not_found", f"事件 {seq} 不存在", f"Event {seq} not found", field="seq")
    region = ev.region_code
    if region is None and ev.agency_code is not None:
        try:
            region = registry_service.get_agency(session, ev.agency_code).region_code
        except NotFound:
            region = None
    path = registry_service.region_path_of(session, region) if region else None
    if not perm.can_read_event(by, path):
        raise perm.out_of_scope()
    return ev


@dataclasses.dataclass(slots=True)
class EventProof:
    """An event's inclusion proof against the latest checkpoint, checked here."""

    checkpoint: LedgerCheckpoint | None
    leaf_hash: bytes
    path: list[bytes]
    verified: bool

    @property
    def covered(self) -> bool:
        return self.checkpoint is not None and self.checkpoint.tree_size > 0


def event_proof(session: Session, ev: Event) -> EventProof:
    leaf = merkle.leaf_hash(ev.canonical)
    cp = latest_checkpoint(session)
    if cp is None or ev.seq >= cp.tree_size:
        return EventProof(cp, leaf, [], False)
    path = inclusion_proof(session, ev.seq, cp.tree_size)
    checked = note.verify_checkpoint(cp.note, signer().vkey, signer().origin)
    ok = checked.size == cp.tree_size and merkle.verify_inclusion(leaf, ev.seq, cp.tree_size, path, checked.root)
    return EventProof(cp, leaf, path, ok)
