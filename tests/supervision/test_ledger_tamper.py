"""Tamper evidence: change, delete or swap events (and tree nodes, checkpoints, exports) behind the
platform's back, directly with SQL or on disk; ``govshare ledger verify`` / ``verify-export`` must
notice and name the first bad index (Art 32, 34)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from govshare.cli import app as cli_app
from govshare.core import events
from govshare.core.config import reset_settings
from govshare.core.events import Event, event_canonical_bytes
from govshare.supervision import note
from govshare.supervision.models import LedgerCheckpoint

runner = CliRunner()
N = 20


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli_app, list(args))


@pytest.fixture
def ledger(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """20 events in several regions, checkpoints at 8 and 16 (every 8 events) and 20 (on demand)."""
    monkeypatch.setenv("GOVSHARE_LEDGER_CHECKPOINT_EVERY_EVENTS", "8")
    reset_settings()
    for i in range(N):
        events.record(
            session,
            actor=events.SYSTEM,
            action=f"test.tamper.{i % 3}",
            subject_type="thing",
            subject_id=i,
            data={"i": i, "说明": "原始记录", "rows": i * 10},
            region_code=["320500", "320100", None][i % 3],
        )
    session.commit()
    result = cli("ledger", "checkpoint")
    assert result.exit_code == 0, result.output
    assert [c.tree_size for c in session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size))] == [
        8,
        16,
        20,
    ]
    ok = cli("ledger", "verify")
    assert ok.exit_code == 0, ok.output
    assert "ledger verified" in ok.output
    yield session
    monkeypatch.undo()
    reset_settings()


def _event(session: Session, seq: int) -> Event:
    ev = session.get(Event, seq)
    assert ev is not None
    return ev


def change_data(s: Session) -> int:
    s.execute(update(Event).where(Event.seq == 7).values(data={"i": 7, "说明": "篡改", "rows": 70}))
    return 7


def change_data_and_canonical(s: Session) -> int:
    """A careful forger also rewrites the canonical bytes: the stored leaf hash still disagrees."""
    ev = _event(s, 11)
    ev.data = {"i": 11, "说明": "篡改", "rows": 0}
    s.flush()
    s.execute(update(Event).where(Event.seq == 11).values(canonical=event_canonical_bytes(ev)))
    return 11


def change_actor(s: Session) -> int:
    s.execute(text("UPDATE event SET actor_name = 'someone else' WHERE seq = 2"))
    return 2


def delete_one(s: Session) -> int:
    s.execute(text("DELETE FROM event WHERE seq = 5"))
    return 5


def delete_last(s: Session) -> int:
    s.execute(text(f"DELETE FROM event WHERE seq = {N - 1}"))
    return N - 1


def swap_two(s: Session) -> int:
    s.execute(text("UPDATE event SET seq = -1 WHERE seq = 3"))
    s.execute(text("UPDATE event SET seq = 3 WHERE seq = 9"))
    s.execute(text("UPDATE event SET seq = 9 WHERE seq = -1"))
    return 3


def swap_two_and_recompute(s: Session) -> int:
    """Swap the contents of events 4 and 12 and recompute each one's canonical bytes for its new place."""
    a, b = _event(s, 4), _event(s, 12)
    fields = (
        "occurred_at",
        "actor",
        "actor_name",
        "action",
        "subject_type",
        "subject_id",
        "region_code",
        "agency_code",
        "data",
    )
    va = {f: getattr(a, f) for f in fields}
    vb = {f: getattr(b, f) for f in fields}
    for ev, values in ((a, vb), (b, va)):
        for f, v in values.items():
            setattr(ev, f, v)
        ev.canonical = event_canonical_bytes(ev)
    s.flush()
    return 4


def change_inner_node(s: Session) -> int:
    s.execute(text("UPDATE ledger_node SET hash = :h WHERE level = 2 AND idx = 3"), {"h": b"\x07" * 32})
    return 12  # the node covers leaves [12, 16)


def change_leaf_node(s: Session) -> int:
    s.execute(text("UPDATE ledger_node SET hash = :h WHERE level = 0 AND idx = 17"), {"h": b"\x07" * 32})
    return 17


def change_upper_node(s: Session) -> int:
    s.execute(text("UPDATE ledger_node SET hash = :h WHERE level = 3 AND idx = 1"), {"h": b"\x07" * 32})
    return 8  # the node covers leaves [8, 16)


def add_extra_node(s: Session) -> int | None:
    s.execute(text("INSERT INTO ledger_node (level, idx, hash) VALUES (0, 20, :h)"), {"h": b"\x07" * 32})
    return None


TAMPERS = [
    change_data,
    change_data_and_canonical,
    change_actor,
    delete_one,
    delete_last,
    swap_two,
    swap_two_and_recompute,
    change_inner_node,
    change_leaf_node,
    change_upper_node,
]


@pytest.mark.parametrize("tamper", TAMPERS)
def test_verify_names_the_first_bad_index(ledger: Session, tamper: Callable[[Session], int]) -> None:
    bad = tamper(ledger)
    ledger.commit()
    result = cli("ledger", "verify")
    assert result.exit_code == 1, result.output
    assert f"first bad index: {bad}" in result.output, result.output


@pytest.mark.parametrize("tamper", [*TAMPERS, add_extra_node])
def test_verify_in_small_chunks_finds_the_same(ledger: Session, tamper: Callable[[Session], int | None]) -> None:
    """Checked in chunks of 4 events, the nodes above the chunks are compared by the main process."""
    from govshare.supervision import verify as ledger_verify

    assert ledger_verify.verify(chunk=4, jobs=1).ok
    bad = tamper(ledger)
    ledger.commit()
    report = ledger_verify.verify(chunk=4, jobs=1)
    assert not report.ok and report.first_bad_index == bad, [str(p) for p in report.problems]


def test_verify_checks_checkpoint_rows_and_signatures(ledger: Session) -> None:
    ledger.execute(text("UPDATE ledger_checkpoint SET root = :r WHERE tree_size = 16"), {"r": b"\x01" * 32})
    ledger.commit()
    result = cli("ledger", "verify")
    assert result.exit_code == 1 and "checkpoint: 16" in result.output, result.output

    # A checkpoint signed by another key (someone with database access but not the key file).
    forged = note.sign_checkpoint(
        note.Checkpoint(
            note.parse_checkpoint(note.parse_note(ledger.get(LedgerCheckpoint, 8).note).text).origin, 8, b"\x02" * 32
        ),  # type: ignore[union-attr]
        Ed25519PrivateKey.generate(),
    )
    ledger.execute(
        text("UPDATE ledger_checkpoint SET root = :r, note = :n WHERE tree_size = 8"), {"r": b"\x02" * 32, "n": forged}
    )
    ledger.commit()
    result = cli("ledger", "verify")
    assert result.exit_code == 1 and "checkpoint: 8" in result.output and "signature" in result.output


def test_verify_catches_a_checkpoint_whose_root_is_not_the_tree(ledger: Session) -> None:
    """A checkpoint correctly signed (with the real key) over a wrong root: only the recomputation sees it."""
    from govshare.supervision import service

    bad_root = b"\x03" * 32
    ledger.execute(
        text("UPDATE ledger_checkpoint SET root = :r, note = :n WHERE tree_size = 16"),
        {"r": bad_root, "n": service.signer().sign(16, bad_root)},
    )
    ledger.commit()
    result = cli("ledger", "verify")
    assert result.exit_code == 1 and "checkpoint: 16" in result.output and "root" in result.output


# --- export and offline verification ----------------------------------------------------------


@pytest.fixture
def exported(ledger: Session, tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    result = cli("ledger", "export", str(folder))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["16", "20", "8"]
    ok = cli("ledger", "verify-export", str(folder))
    assert ok.exit_code == 0, ok.output
    return folder


def test_verify_export_needs_no_database(exported: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a supervisor runs on their own machine: no database is reachable there."""
    from govshare.core import db

    monkeypatch.setenv("GOVSHARE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    reset_settings()
    db.dispose_engine()
    try:
        result = cli("ledger", "verify-export", str(exported))
        assert result.exit_code == 0, result.output
        assert "20 entries, 3 checkpoints" in result.output
    finally:
        monkeypatch.undo()
        reset_settings()
        db.dispose_engine()


def _lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "entries.jsonl").read_text().splitlines()]


def _write(folder: Path, items: list[dict]) -> None:
    (folder / "entries.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))


def test_export_layout(exported: Path, ledger: Session) -> None:
    items = _lines(exported)
    assert [i["index"] for i in items] == list(range(N))
    assert set(items[0]) == {"index", "leaf_data"}
    stored = ledger.scalars(select(Event.canonical).order_by(Event.seq)).all()
    assert [base64.b64decode(i["leaf_data"]) for i in items] == [bytes(c) for c in stored]
    vkey = (exported / "vkey").read_text().strip()
    cp = note.verify_checkpoint((exported / "checkpoints" / "20").read_text(), vkey, vkey.split("+")[0])
    assert cp.size == 20


def edit_leaf(folder: Path) -> str:
    items = _lines(folder)
    data = json.loads(base64.b64decode(items[10]["leaf_data"]))
    data["data"]["说明"] = "篡改"
    items[10]["leaf_data"] = base64.b64encode(json.dumps(data).encode()).decode()
    _write(folder, items)
    return "checkpoint: 16"  # first checkpoint covering index 10; the bad index lies in [8, 16)


def drop_line(folder: Path) -> str:
    items = _lines(folder)
    del items[6]
    _write(folder, items)
    return "first bad index: 6"


def swap_lines(folder: Path) -> str:
    items = _lines(folder)
    items[3], items[9] = items[9], items[3]
    items[3]["index"], items[9]["index"] = 3, 9
    _write(folder, items)
    return "first bad index: 3"


def truncate(folder: Path) -> str:
    _write(folder, _lines(folder)[:18])
    return "checkpoint: 20"


def other_vkey(folder: Path) -> str:
    (folder / "vkey").write_text(
        note.format_verifier_key("govshare.local/jiangsu", Ed25519PrivateKey.generate().public_key()) + "\n"
    )
    return "checkpoint: 16"  # the first checkpoint file in name order


def edit_checkpoint(folder: Path) -> str:
    path = folder / "checkpoints" / "8"
    lines = path.read_text().split("\n")
    lines[2] = base64.b64encode(b"\x05" * 32).decode()
    path.write_text("\n".join(lines))
    return "checkpoint: 8"


def no_checkpoints(folder: Path) -> str:
    for p in (folder / "checkpoints").iterdir():
        p.unlink()
    return "no checkpoint"


@pytest.mark.parametrize(
    "tamper", [edit_leaf, drop_line, swap_lines, truncate, other_vkey, edit_checkpoint, no_checkpoints]
)
def test_verify_export_catches_tampering(exported: Path, tamper: Callable[[Path], str]) -> None:
    expected = tamper(exported)
    result = cli("ledger", "verify-export", str(exported))
    assert result.exit_code == 1, result.output
    assert expected in result.output, result.output


def test_parallel_verify_agrees_with_the_serial_one(ledger: Session) -> None:
    """Worker processes (on PostgreSQL in the main transaction's exported snapshot) find the same."""
    from govshare.supervision import verify as ledger_verify

    report = ledger_verify.verify(jobs=2, chunk=4)
    assert report.ok and report.jobs == 2 and report.events == N and report.nodes == 2 * N - 2  # 20 = 16 + 4
    change_actor(ledger)
    delete_one(ledger)
    ledger.commit()
    serial = ledger_verify.verify(jobs=1, chunk=4)
    parallel = ledger_verify.verify(jobs=2, chunk=4)
    assert serial.first_bad_index == parallel.first_bad_index == 2
