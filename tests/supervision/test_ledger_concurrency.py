"""Parallel writers on PostgreSQL: the ledger gets every event once, in order, with no gap, while an
integrator extends the tree and makes checkpoints at the same time (Art 32)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.core import events
from govshare.core.auth import OPERATOR
from govshare.core.config import reset_settings
from govshare.core.db import transaction
from govshare.registry import service as registry_service
from govshare.registry.schemas import RegionCreate
from govshare.supervision import merkle, service
from govshare.supervision import verify as ledger_verify
from govshare.supervision.models import LedgerCheckpoint, LedgerNode

BACKEND = os.environ.get("GOVSHARE_TEST_DB", "sqlite")
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(BACKEND != "postgres", reason="row-level locking concurrency needs PostgreSQL"),
]

THREADS = 8
TRANSACTIONS = 30


@pytest.fixture
def every_25(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GOVSHARE_LEDGER_CHECKPOINT_EVERY_EVENTS", "25")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_parallel_writers_and_integrator(session: Session, every_25: None) -> None:
    with transaction() as s:
        registry_service.create_region(s, RegionCreate(code="320000", name="江苏省"), by=OPERATOR)
        registry_service.create_region(s, RegionCreate(code="320500", name="苏州市", parent_code="320000"), by=OPERATOR)
    recorded: dict[int, list[int]] = {t: [] for t in range(THREADS)}
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS + 1)
    writers_done = threading.Event()

    def writer(t: int) -> None:
        try:
            barrier.wait()
            for k in range(TRANSACTIONS):
                with transaction() as s:
                    seqs = []
                    if k % 10 == 0:  # a real service: its event is appended in the same transaction
                        registry_service.create_region(
                            s,
                            RegionCreate(
                                code=f"3205{10 + t * 3 + k // 10:02d}", name=f"测试区{t}-{k}", parent_code="320500"
                            ),
                            by=OPERATOR,
                        )
                        seqs.append(s.scalar(select(events.Event.seq).order_by(events.Event.seq.desc()).limit(1)))
                    evs = [
                        events.record(
                            s,
                            actor=events.SYSTEM,
                            action="test.parallel",
                            subject_type="thread",
                            subject_id=t,
                            data={"k": k, "j": j},
                            region_code="320500",
                        )
                        for j in range(1 + k % 3)
                    ]
                seqs.extend(ev.seq for ev in evs)  # numbered at the commit's flush
                recorded[t].extend(seqs)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    integrations: list[service.Integration] = []

    def integrator() -> None:
        try:
            barrier.wait()
            while not writers_done.is_set():
                with transaction() as s:
                    integrations.append(service.integrate(s, batch=7))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    background = threading.Thread(target=integrator)
    for th in [*threads, background]:
        th.start()
    for th in threads:
        th.join(timeout=120)
    writers_done.set()
    background.join(timeout=60)
    assert not errors, errors
    with transaction() as s:
        final = service.integrate(s)
        service.make_checkpoint(s)

    total = service.event_count(session)
    seqs = session.scalars(select(events.Event.seq).order_by(events.Event.seq)).all()
    assert seqs == list(range(total))  # gapless
    mine = sorted(q for values in recorded.values() for q in values)
    assert mine == list(range(2, total))  # every event once (0 and 1: the two regions made first)
    for values in recorded.values():
        assert values == sorted(values)  # each writer's events in the order it made them
    assert all(i.gap_at is None for i in [*integrations, final])
    assert sum(1 for i in integrations if i.added) > 1, "the integrator should have run during the writes"

    leaves = [
        merkle.leaf_hash(bytes(c)) for c in session.scalars(select(events.Event.canonical).order_by(events.Event.seq))
    ]
    tree = merkle.MemoryTree(leaves)
    stored = {(n.level, n.idx): n.hash for n in session.scalars(select(LedgerNode))}
    assert len(stored) == sum(total >> level for level in range(total.bit_length()))
    assert all(tree.subtree_hash(level, idx) == digest for (level, idx), digest in stored.items())
    checkpoints = session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size)).all()
    sizes = [c.tree_size for c in checkpoints]
    assert sizes[:-1] == list(range(25, total + 1, 25))[: len(sizes) - 1] and sizes[-1] == total
    for earlier, later in zip(checkpoints, checkpoints[1:], strict=False):
        assert earlier.root == tree.root(earlier.tree_size)
        proof = service.consistency_proof(session, earlier.tree_size, later.tree_size)
        assert merkle.verify_consistency(earlier.tree_size, later.tree_size, earlier.root, later.root, proof)
    assert ledger_verify.verify().ok
