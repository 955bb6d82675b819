"""Where hosted datasets live on disk, and how a file joins (or leaves with) a transaction.

Layout under the dataset directory (``exchange.config``)::

    tmp/                      uploads being received and versions being built (removed after)
    <resource id>/v<n>-<random>.parquet   accepted versions, immutable

A version's Parquet file is written under ``tmp/`` and moved into place (an atomic rename on the
same file system) only when the version is accepted, in the transaction that inserts its row.
:func:`keep_with_transaction` ties the file to that transaction: if it rolls back, the file is
removed, so there is never a file without its row. (A crash between the rename and the commit
can leave an orphan file, never a row without its file; the random part of the name keeps two
concurrent uploads of the same version number apart.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from govshare.exchange.config import get_exchange_settings

_PENDING = "govshare.exchange.pending_files"


def dataset_dir() -> Path:
    return get_exchange_settings().resolved_dataset_dir


def tmp_dir() -> Path:
    path = dataset_dir() / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def tmp_path(suffix: str) -> Path:
    """A fresh path under ``tmp/`` (not created)."""
    return tmp_dir() / f"{secrets.token_hex(12)}{suffix}"


@contextlib.contextmanager
def temporary(suffix: str) -> Iterator[Path]:
    """A temporary path removed when the block ends, whatever happens."""
    path = tmp_path(suffix)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def absolute(relative: str) -> Path:
    return dataset_dir() / relative


def final_relative_path(resource_id: int, number: int) -> str:
    return f"{resource_id}/v{number}-{secrets.token_hex(6)}.parquet"


def file_digest(path: Path) -> tuple[int, str]:
    """Size in bytes and SHA-256 (hex) of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            size += len(block)
            h.update(block)
    return size, h.hexdigest()


def move_into_place(session: Session, staged: Path, relative: str) -> Path:
    """Move a staged file to its final place, removed again if ``session``'s transaction rolls back."""
    target = absolute(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)
    keep_with_transaction(session, target)
    return target


def keep_with_transaction(session: Session, path: Path) -> None:
    session.info.setdefault(_PENDING, []).append(path)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    for path in session.info.pop(_PENDING, []):
        path.unlink(missing_ok=True)
