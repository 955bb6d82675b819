"""``govshare ledger verify-export`` narrows an altered entry down with the checkpoints it has
(issue #8: an export whose entry 99 was altered said "first bad index: 0").

A checkpoint whose root differs from the root of the entries it covers says the first bad entry is
below its size; each checkpoint whose root still verifies covers a good prefix. The answer is the
smallest range [a, b) those bound, and the exact index when that range holds one entry.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from govshare.cli import app as cli_app
from govshare.core import events
from govshare.core.config import reset_settings
from govshare.supervision import merkle, service
from govshare.supervision import verify as ledger_verify

runner = CliRunner()
CHECKPOINTS = (40, 75, 99, 100, 120)


def cli(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli_app, list(args))


@pytest.fixture
def exported(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """120 events, checkpoints made at 40, 75, 99, 100 and 120, exported."""
    monkeypatch.setenv("GOVSHARE_LEDGER_CHECKPOINT_EVERY_EVENTS", "100000")
    reset_settings()
    done = 0
    for size in CHECKPOINTS:
        for i in range(done, size):
            events.record(
                session,
                actor=events.SYSTEM,
                action="test.export.narrow",
                subject_type="thing",
                subject_id=i,
                data={"i": i, "说明": "原始记录"},
            )
        session.commit()
        done = size
        result = cli("ledger", "checkpoint")
        assert result.exit_code == 0, result.output
    folder = tmp_path / "export"
    assert cli("ledger", "export", str(folder)).exit_code == 0
    assert sorted(int(p.name) for p in (folder / "checkpoints").iterdir()) == list(CHECKPOINTS)
    ok = cli("ledger", "verify-export", str(folder))
    assert ok.exit_code == 0, ok.output
    yield folder
    monkeypatch.undo()
    reset_settings()


def _alter(folder: Path, index: int) -> None:
    lines = (folder / "entries.jsonl").read_text().splitlines()
    item = json.loads(lines[index])
    data = json.loads(base64.b64decode(item["leaf_data"]))
    data["data"]["说明"] = "篡改"
    item["leaf_data"] = base64.b64encode(json.dumps(data, ensure_ascii=False).encode()).decode()
    lines[index] = json.dumps(item)
    (folder / "entries.jsonl").write_text("\n".join(lines) + "\n")


def _keep_checkpoints(folder: Path, *sizes: int) -> None:
    for path in (folder / "checkpoints").iterdir():
        if int(path.name) not in sizes:
            path.unlink()


def _problem(folder: Path) -> ledger_verify.Problem:
    report = ledger_verify.verify_export(folder)
    assert not report.ok
    (problem,) = report.problems
    return problem


def test_one_checkpoint_says_the_fault_is_in_the_range_it_covers(exported: Path) -> None:
    """The issue's case: only the last checkpoint; no longer 'first bad index: 0'."""
    _keep_checkpoints(exported, 120)
    _alter(exported, 99)
    problem = _problem(exported)
    assert (problem.index, problem.within, problem.checkpoint) == (None, (0, 120), 120)
    result = cli("ledger", "verify-export", str(exported))
    assert result.exit_code == 1
    assert "first bad index: 0" not in result.output
    assert "first bad index within: [0, 120)" in result.output
    assert "索引 0 至 119 之间" in result.output and "no earlier checkpoint verifies" in result.output


def test_checkpoints_that_still_verify_narrow_the_range(exported: Path) -> None:
    _keep_checkpoints(exported, 40, 75, 120)
    _alter(exported, 99)
    assert _problem(exported).within == (75, 120)
    _keep_checkpoints(exported, 40, 75)
    assert ledger_verify.verify_export(exported).ok  # entry 99 is beyond every checkpoint left: none vouches for it


def test_the_smallest_range_from_every_checkpoint(exported: Path) -> None:
    _alter(exported, 80)
    problem = _problem(exported)
    assert (problem.index, problem.within, problem.checkpoint) == (None, (75, 99), 99)
    result = cli("ledger", "verify-export", str(exported))
    assert "first bad index within: [75, 99)" in result.output and "checkpoint 75 still verifies" in result.output


def test_a_one_entry_range_pinpoints_the_index(exported: Path) -> None:
    _alter(exported, 99)
    problem = _problem(exported)
    assert (problem.index, problem.within, problem.checkpoint) == (99, (99, 100), 100)
    result = cli("ledger", "verify-export", str(exported))
    assert result.exit_code == 1 and "first bad index: 99" in result.output


def test_checkpoints_that_disagree_with_each_other(exported: Path) -> None:
    """A validly signed checkpoint of another history, before one the entries match."""
    compact = merkle.CompactRange()
    compact.extend([merkle.leaf_hash(b"another history")] * 75)
    (exported / "checkpoints" / "75").write_text(service.signer().sign(75, compact.root()), encoding="utf-8")
    problem = _problem(exported)
    assert problem.checkpoint == 75 and problem.within is None and problem.index is None
    assert "disagrees with the later checkpoint 99" in problem.message_en


def test_a_line_nested_too_deeply_is_a_malformed_entry(exported: Path) -> None:
    lines = (exported / "entries.jsonl").read_text().splitlines()
    lines[5] = "[" * 5000
    (exported / "entries.jsonl").write_text("\n".join(lines) + "\n")
    problem = _problem(exported)
    assert (problem.index, problem.message_en) == (5, "malformed entry line")
