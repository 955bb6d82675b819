"""Verifying the supervision ledger, exporting it, and checking an export offline (Art 32, 34).

``verify`` recomputes everything from the stored events, in one consistent snapshot:

* events are gapless from 0;
* each event's canonical bytes equal the bytes recomputed from its columns (RFC 8785);
* every stored tree node equals the recomputed one, and no extra node is stored;
* every checkpoint's signature verifies with the instance's key, its row matches its signed text,
  and its root equals the recomputed root of its size.

It stops at the first bad index (the tree after it differs anyway) and names it. Recomputing the
canonical bytes is the dominant cost, so it runs in worker processes over ranges of events (on
PostgreSQL they import the main transaction's snapshot with ``SET TRANSACTION SNAPSHOT``), while
the main process rebuilds the tree and compares the stored nodes.

``export`` writes a folder a supervisor can check on their own machine with ``verify_export``,
which needs no database: ``entries.jsonl``, ``checkpoints/<tree size>`` and ``vkey``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import multiprocessing
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from itertools import repeat
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from govshare.core import refs
from govshare.core.canonical import MAX_SAFE_INTEGER, assemble_stamped, assemble_text, canonical_bytes
from govshare.core.config import get_settings
from govshare.core.events import Event
from govshare.supervision import merkle, note
from govshare.supervision.models import LedgerCheckpoint

_EVENT = Event.__table__
_CP = LedgerCheckpoint.__table__


class _NotPlain(Exception):
    """The JSON text holds a value the fast path does not cover."""


def _reject(_text: str) -> Any:
    raise _NotPlain


def _safe_int(text: str) -> int:
    value = int(text)
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise _NotPlain
    return value


#: An escaped UTF-16 surrogate: a character beyond the BMP, whose key order could differ in UTF-16.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89abAB]")
#: A raw character beyond the BMP (``max(text)`` would walk the string in Python).
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
#: Floats and NaN/Infinity abort the parse; integers beyond ±(2**53 - 1) too. The hooks run only
#: for those tokens (a few per event), far cheaper than scanning the text with a regular expression.
_plain_decoder = json.JSONDecoder(parse_float=_reject, parse_constant=_reject, parse_int=_safe_int)


def _load_plain(text: str) -> Any:
    """Parse the stored JSON text of an event's data, raising ``_NotPlain`` unless it is ``canonical.plain``
    (cheaper than walking the parsed value)."""
    if ("\\ud" in text or "\\uD" in text) and _ESCAPED_SURROGATE.search(text):
        raise _NotPlain
    if not text.isascii() and _ASTRAL.search(text):
        raise _NotPlain
    return _plain_decoder.decode(text)


def _utc_stamp(text: str) -> str:
    """``YYYY-MM-DD[T ]HH:MM:SS[.ffffff]`` in UTC, as Python's ``isoformat`` writes it, plus "Z"."""
    if text[10:11] == " ":
        text = text[:10] + "T" + text[11:]
    if text.endswith(".000000"):
        text = text[:-7]  # isoformat leaves out a zero fraction
    return text + "Z"


def _stamp(at: str | dt.datetime) -> str:
    """The canonical form's time from a raw column value: UTC text (SQLite), a naive UTC datetime
    (PostgreSQL, read ``AT TIME ZONE 'UTC'``) or an aware datetime."""
    if isinstance(at, str):
        return _utc_stamp(at)
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat() + "Z"


def _row_matches(row: Sequence[Any]) -> bool:
    """Do the stored canonical bytes (last column) equal those recomputed from the other columns?

    ``row`` holds raw column values: the time as UTC text or a datetime (``_stamp``), and the data
    as its stored JSON text. Three tries, cheapest first:

    1. The data text as it is. The application writes it as its canonical form (sorted keys,
       compact, ``canonical.json_text``), so for nearly every event the bytes assembled around it
       equal the stored ones. That equality is conclusive: every other member is written by the
       same injective escaping at the same place, so each column holds what the leaf says and the
       data text *is* the leaf's data text.
    2. The data parsed and written canonically (rows written another way, e.g. before keys were
       sorted), for ``canonical.plain`` data.
    3. The exact ``rfc8785`` implementation, which decides everything else.
    """
    seq, at, actor, actor_name, action, subject_type, subject_id, region, agency, data_text, stored = row
    stored = bytes(stored)
    if type(seq) is int and 0 <= seq <= MAX_SAFE_INTEGER:
        try:
            stamp = _stamp(at)
            if (
                assemble_text(
                    seq, stamp, actor, actor_name, action, subject_type, subject_id, region, agency, data_text
                )
                == stored
            ):
                return True
            fast = assemble_stamped(
                seq, stamp, actor, actor_name, action, subject_type, subject_id, region, agency, _load_plain(data_text)
            )
        except (_NotPlain, UnicodeEncodeError, TypeError, ValueError):
            fast = None
        if fast == stored:
            return True
    # Not on the fast paths, or different: decide with the exact implementation.
    try:
        if isinstance(at, str):
            at = dt.datetime.fromisoformat(at)
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)  # stored (SQLite) or read (PostgreSQL) in UTC without offset
        exact = canonical_bytes(
            seq=seq,
            occurred_at=at,
            actor=actor,
            actor_name=actor_name,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            region_code=region,
            agency_code=agency,
            data=json.loads(data_text),
        )
    except (ValueError, TypeError):
        return False
    return exact == stored


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Problem:
    """One finding: the first bad leaf ``index`` and/or the ``checkpoint`` (tree size) at fault; when
    the first bad index is known only to lie in a range, ``within`` is that range ``[a, b)``."""

    message_zh: str
    message_en: str
    index: int | None = None
    checkpoint: int | None = None
    within: tuple[int, int] | None = None

    def __str__(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"第一个错误索引 / first bad index: {self.index}")
        elif self.within is not None:
            where.append(f"第一个错误索引位于 / first bad index within: [{self.within[0]}, {self.within[1]})")
        if self.checkpoint is not None:
            where.append(f"检查点 / checkpoint: {self.checkpoint}")
        return ("; ".join(where) + " — " if where else "") + f"{self.message_zh} / {self.message_en}"


@dataclasses.dataclass(slots=True)
class VerifyReport:
    events: int = 0
    tree_size: int = 0
    checkpoints: int = 0
    nodes: int = 0
    jobs: int = 1
    seconds: float = 0.0
    problems: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_index(self) -> int | None:
        indices = [p.index for p in self.problems if p.index is not None]
        return min(indices) if indices else None


# ---------------------------------------------------------------------------------------------
# Snapshots and raw reads
# ---------------------------------------------------------------------------------------------


def _read_engine(url: str) -> Engine:
    """An engine for long reads: on SQLite a deferred ``BEGIN`` (a WAL read snapshot that does not
    block writers, unlike the application's ``BEGIN IMMEDIATE``)."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def _options(engine: Engine) -> dict[str, Any]:
    if engine.dialect.name == "postgresql":
        return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    return {}


@contextmanager
def read_snapshot(url: str | None = None) -> Iterator[Connection]:
    """A read-only connection that sees one consistent snapshot for its whole life (verify and export
    must not see an integration half-way, and must not block writers)."""
    engine = _read_engine(url or get_settings().database_url)
    try:
        with engine.connect() as conn:
            options = _options(engine)
            conn = conn.execution_options(**options) if options else conn
            with conn.begin():
                yield conn
    finally:
        engine.dispose()


def _raw_rows(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    """Rows as plain tuples from the driver (no per-row SQLAlchemy processing)."""
    raw = conn.connection.dbapi_connection
    # psycopg: binary results (bytea and timestamps arrive without text decoding)
    cursor = raw.cursor(binary=True) if conn.dialect.name == "postgresql" else raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return cursor.fetchall()  # type: ignore[no-any-return]
    finally:
        cursor.close()


def _event_sql(dialect: str, start: int, end: int) -> str:
    """The raw columns ``_row_matches`` takes: the time in UTC (SQLite stores it as text already),
    the data as its stored JSON text."""
    if dialect == "postgresql":
        at = "occurred_at AT TIME ZONE 'UTC'"  # a naive UTC datetime (to_char cost 1.8 us a row)
        data = "CAST(data AS TEXT)"
    else:
        at, data = "occurred_at", "data"
    return (
        f"SELECT seq, {at}, actor, actor_name, action, subject_type, subject_id, region_code, agency_code, "
        f"{data}, canonical FROM event WHERE seq >= {int(start)} AND seq < {int(end)} ORDER BY seq"
    )


def _check_rows(rows: Sequence[Sequence[Any]], start: int, end: int) -> tuple[list[bytes], Problem | None]:
    """Leaf hashes of events ``start <= seq < end``, up to the first missing or altered event."""
    leaves: list[bytes] = []
    leaf_hash = merkle.leaf_hash
    expected = start
    for row in rows:
        if row[0] != expected:
            return leaves, Problem(
                "事件缺失（序号不连续）", f"event missing (next stored seq is {row[0]})", index=expected
            )
        if not _row_matches(row):
            return leaves, Problem(
                "事件的规范字节与其字段不符（事件被改动）",
                "the event's canonical bytes do not match its columns (event altered)",
                index=expected,
            )
        leaves.append(leaf_hash(bytes(row[10])))
        expected += 1
    if expected < end:
        return leaves, Problem("事件缺失（序号不连续）", "event missing", index=expected)
    return leaves, None


def _subtree_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """The perfect subtrees over ``leaves``, level by level (level 0: the leaves themselves)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        levels.append(merkle._pair_level(levels[-1]))  # complete pairs only: an odd last node is no subtree
    return levels


def _where_inside(start: int, count: int) -> str:
    return " OR ".join(
        f"(level = {level} AND idx >= {start >> level} AND idx < {(start >> level) + (count >> level)})"
        for level in range(count.bit_length())
    )


def _stored_blob(conn: Connection, start: int, count: int) -> bytes:
    """The stored perfect subtrees inside ``[start, start + count)``, concatenated in (level, idx)
    order. One primary-key range per level: a single ``WHERE`` of all the levels' ranges made
    PostgreSQL sort the whole chunk's nodes (3x slower). PostgreSQL aggregates each level itself,
    so no row per node crosses into Python."""
    levels = [(level, start >> level, (start >> level) + (count >> level)) for level in range(count.bit_length())]
    if conn.dialect.name == "postgresql":
        rows = _raw_rows(
            conn,
            " UNION ALL ".join(
                f"SELECT {level}, string_agg(hash, ''::bytea ORDER BY idx) FROM ledger_node "
                f"WHERE level = {level} AND idx >= {low} AND idx < {high}"
                for level, low, high in levels
            ),
        )
        return b"".join(bytes(blob or b"") for _level, blob in sorted(rows))
    return b"".join(
        digest
        for level, low, high in levels
        for (digest,) in _raw_rows(
            conn, f"SELECT hash FROM ledger_node WHERE level = {level} AND idx >= {low} AND idx < {high} ORDER BY idx"
        )
    )


def _stored_nodes(conn: Connection, start: int, count: int) -> list[tuple[int, int, bytes]]:
    """The stored perfect subtrees inside ``[start, start + count)``, ordered by level and index."""
    rows = _raw_rows(
        conn, f"SELECT level, idx, hash FROM ledger_node WHERE {_where_inside(start, count)} ORDER BY level, idx"
    )
    return [(level, idx, bytes(digest)) for level, idx, digest in rows]


def _node_problem(computed: Sequence[tuple[int, int, bytes]], stored: Sequence[tuple[int, int, bytes]]) -> Problem:
    """The first disagreement between recomputed and stored nodes, as a first bad leaf index."""
    have = {(level, idx): digest for level, idx, digest in stored}
    bad = [n for n in computed if have.get((n[0], n[1])) != n[2]]
    if not bad:
        return Problem("存储了多余的树节点", "extra tree nodes are stored", index=computed[0][1] << computed[0][0])
    leaves = [n for n in bad if n[0] == 0]
    if leaves:
        index = min(n[1] for n in leaves)
        missing = (0, index) not in have
        return Problem(
            "账本树中缺少该叶子" if missing else "账本树中存储的叶子哈希与事件不符",
            "the stored tree lacks this leaf" if missing else "the stored leaf hash does not match the event",
            index=index,
        )
    level, idx, _digest = min(bad)
    return Problem(
        f"存储的树节点 (层 {level}, 序 {idx}) 与重算结果不符",
        f"stored tree node (level {level}, index {idx}) differs from the recomputed one",
        index=idx << level,
    )


@dataclasses.dataclass(slots=True)
class _Chunk:
    """What checking one aligned range of events found."""

    events: int  # events checked (up to the first problem)
    nodes: int  # stored nodes compared
    top: bytes | None  # the range's perfect-subtree hash, when the stored tree covers all of it
    problem: Problem | None


def _check_chunk(conn: Connection, start: int, end: int, size: int) -> _Chunk:
    """Check events ``[start, end)`` (``start`` aligned to the chunk size): gapless, canonical bytes
    equal to their columns, and every stored perfect subtree inside the range the tree covers
    (``size``) equal to the one recomputed from them."""
    rows = _raw_rows(conn, _event_sql(conn.dialect.name, start, end))
    leaves, problem = _check_rows(rows, start, end)
    covered = leaves[: max(0, min(len(leaves), size - start))]
    nodes = 0
    levels: list[list[bytes]] = []
    if covered:
        levels = _subtree_levels(covered)
        stored = _stored_blob(conn, start, len(covered))
        nodes = len(stored) // merkle.HASH_SIZE
        if stored != b"".join(h for level in levels for h in level):
            computed = [(lv, (start >> lv) + i, h) for lv, hashes in enumerate(levels) for i, h in enumerate(hashes)]
            # its leaves come before any event problem
            problem = _node_problem(computed, _stored_nodes(conn, start, len(covered)))
    full = problem is None and covered and len(covered) == end - start and (end - start) & (end - start - 1) == 0
    return _Chunk(len(leaves), nodes, levels[-1][0] if full else None, problem)


_worker_engine: Engine | None = None


def _process_context() -> multiprocessing.context.BaseContext:
    """Fork (workers start at once) from a single-threaded process such as the CLI; spawn otherwise,
    since forking a threaded process (a server) can copy a held lock into the child."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _worker_init(url: str) -> None:
    global _worker_engine
    _worker_engine = _read_engine(url)


def _worker_check(start: int, end: int, size: int, snapshot: str | None) -> _Chunk:
    """Worker process: ``_check_chunk`` in the main process's snapshot (PostgreSQL)."""
    assert _worker_engine is not None
    with _worker_engine.connect() as conn:
        options = _options(_worker_engine)
        conn = conn.execution_options(**options) if options else conn
        with conn.begin():
            if snapshot:
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            return _check_chunk(conn, start, end, size)


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


def _checkpoint_problems(
    conn: Connection, verifier: note.VerifierKey | None, size: int, report: VerifyReport
) -> dict[int, bytes]:
    """Check every stored checkpoint's signature and row; return the good ones' roots by size."""
    roots: dict[int, bytes] = {}
    for cp_size, cp_root, cp_note in conn.execute(
        select(_CP.c.tree_size, _CP.c.root, _CP.c.note).order_by(_CP.c.tree_size)
    ):
        report.checkpoints += 1
        if verifier is None:
            report.problems.append(
                Problem(
                    "找不到签名密钥文件，无法核验检查点签名",
                    "no signing key file: checkpoint signatures cannot be checked",
                    checkpoint=cp_size,
                )
            )
            continue
        try:
            parsed = note.verify_checkpoint(cp_note, verifier, verifier.name)
        except note.NoteError as exc:
            report.problems.append(
                Problem("检查点签名无效", f"invalid checkpoint signature ({exc})", checkpoint=cp_size)
            )
            continue
        if parsed.size != cp_size or parsed.root != bytes(cp_root):
            report.problems.append(
                Problem(
                    "检查点记录与其签名文本不符", "checkpoint row does not match its signed text", checkpoint=cp_size
                )
            )
        elif cp_size > size:
            report.problems.append(
                Problem("检查点超出已整合的树", "checkpoint is beyond the integrated tree", checkpoint=cp_size)
            )
        else:
            roots[cp_size] = parsed.root
    return roots


def _upper_problem(conn: Connection, level0: int, tops: list[bytes], report: VerifyReport) -> Problem | None:
    """Compare the stored nodes above the chunks (levels above ``level0``) with those built from the
    chunks' own subtree hashes ``tops``."""
    if len(tops) < 2:
        return None
    upper = merkle.MemoryTree(tops)
    computed = []
    level = 1
    while len(tops) >> level:
        computed.extend((level0 + level, i, upper.subtree_hash(level, i)) for i in range(len(tops) >> level))
        level += 1
    where = " OR ".join(f"(level = {level0 + lv} AND idx < {len(tops) >> lv})" for lv in range(1, level))
    stored = [
        (lv, idx, bytes(h))
        for lv, idx, h in _raw_rows(conn, f"SELECT level, idx, hash FROM ledger_node WHERE {where} ORDER BY level, idx")
    ]
    report.nodes += len(stored)
    return None if stored == computed else _node_problem(computed, stored)


def verify(
    url: str | None = None,
    *,
    vkey: str | None = None,
    chunk: int = 65_536,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Recompute the whole ledger from the stored events and compare everything stored.

    The events are checked in aligned chunks of ``chunk`` (a power of two) events: each chunk's
    canonical bytes and every stored perfect subtree inside it, in ``jobs`` worker processes
    (default: one per core, for logs of at least four chunks); the main process then checks the
    nodes above the chunks and each checkpoint's root (folded from the verified nodes). ``vkey``
    defaults to the instance's own key (from its key file; none is created).
    """
    from govshare.supervision import service

    if chunk < 1 or chunk & (chunk - 1):
        raise ValueError("chunk must be a power of two")
    started = time.perf_counter()
    url = url or get_settings().database_url
    report = VerifyReport()
    vkey = vkey or service.local_vkey()
    verifier = note.parse_verifier_key(vkey) if vkey else None
    with read_snapshot(url) as conn, ExitStack() as stack:
        dialect = conn.dialect.name
        size = int(conn.exec_driver_sql("SELECT tree_size FROM ledger_state WHERE id = 1").scalar() or 0)
        report.tree_size = size
        roots = _checkpoint_problems(conn, verifier, size, report)
        low, high = conn.exec_driver_sql("SELECT min(seq), max(seq) FROM event").one()
        span = 0 if high is None else int(high) + 1
        ranges = [(start, min(start + chunk, span)) for start in range(0, span, chunk)]
        jobs = jobs or (min(os.cpu_count() or 1, 4) if len(ranges) >= 4 else 1)
        report.jobs = jobs
        results: Iterator[_Chunk]
        if jobs > 1:
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar() if dialect == "postgresql" else None
            pool = ProcessPoolExecutor(jobs, mp_context=_process_context(), initializer=_worker_init, initargs=(url,))
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            results = pool.map(
                _worker_check, [r[0] for r in ranges], [r[1] for r in ranges], repeat(size), repeat(snapshot)
            )
        else:
            results = (_check_chunk(conn, start, end, size) for start, end in ranges)
        problem: Problem | None = None
        if low is not None and low < 0:
            problem = Problem(f"存在序号为负的事件 ({low})", f"an event has a negative seq ({low})")
        tops: list[bytes] = []
        for (start, _end), found in zip(ranges, results if problem is None else (), strict=False):
            report.events = start + found.events
            report.nodes += found.nodes
            if found.top is not None and len(tops) == start // chunk:
                tops.append(found.top)
            if progress is not None:
                progress(report.events)
            if found.problem is not None:
                problem = found.problem
                break
        upper = _upper_problem(conn, chunk.bit_length() - 1, tops, report)
        if upper is not None and (problem is None or (problem.index or 0) > (upper.index or 0)):
            problem = upper
        if problem is None and report.events < size:
            problem = Problem(
                f"账本树覆盖 {size} 个事件，但事件表只有 {report.events} 个（事件被删除）",
                f"the tree covers {size} events but only {report.events} are stored (events deleted)",
                index=report.events,
            )
        if problem is None:
            total = int(conn.exec_driver_sql("SELECT count(*) FROM ledger_node").scalar() or 0)
            want = sum(size >> level for level in range(size.bit_length()))
            if total != want:
                problem = Problem(
                    f"存储了 {total} 个树节点，应为 {want} 个", f"{total} tree nodes are stored, {want} expected"
                )
        if problem is None and roots:
            # Every stored node now equals its recomputed value: fold them into each checkpoint's root.
            sizes = sorted(roots)
            reader = merkle.MappingReader(_fetch_coordinates(conn, merkle.proof_nodes((0, s) for s in sizes)))
            for cp_size in sizes:
                if merkle.range_hash(reader, 0, cp_size) != roots[cp_size]:
                    problem = Problem(
                        "检查点根哈希与重算结果不符",
                        "checkpoint root differs from the recomputed root",
                        checkpoint=cp_size,
                    )
                    break
        if problem is not None:
            report.problems.append(problem)
    report.seconds = time.perf_counter() - started
    return report


def _fetch_coordinates(conn: Connection, coords: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    by_level: dict[int, list[int]] = {}
    for level, idx in coords:
        by_level.setdefault(int(level), []).append(int(idx))
    out: dict[tuple[int, int], bytes] = {}
    for level, indices in sorted(by_level.items()):
        for first in range(0, len(indices), 1000):
            part = ",".join(map(str, indices[first : first + 1000]))
            for lv, idx, digest in _raw_rows(
                conn, f"SELECT level, idx, hash FROM ledger_node WHERE level = {level} AND idx IN ({part})"
            ):
                out[(lv, idx)] = bytes(digest)
    return out


# ---------------------------------------------------------------------------------------------
# Export and offline verification
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class ExportReport:
    entries: int
    checkpoints: int
    directory: Path


def export(
    directory: Path,
    url: str | None = None,
    *,
    chunk: int = 65_536,
    progress: Callable[[int], None] | None = None,
) -> ExportReport:
    """Write ``entries.jsonl`` (``index`` and base64 ``leaf_data`` a line), ``checkpoints/<size>`` (one
    signed note each) and ``vkey`` into ``directory``, from one consistent snapshot. ``progress`` is
    called with the number of entries written so far."""
    directory = Path(directory)
    (directory / "checkpoints").mkdir(parents=True, exist_ok=True)
    from govshare.supervision import service

    sign = service.signer()
    count = 0
    written = 0
    with read_snapshot(url) as conn:
        with (directory / "entries.jsonl").open("w", encoding="ascii", newline="\n") as out:
            after = -1
            while True:
                rows = conn.execute(
                    select(_EVENT.c.seq, _EVENT.c.canonical)
                    .where(_EVENT.c.seq > after)
                    .order_by(_EVENT.c.seq)
                    .limit(chunk)
                ).all()
                if not rows:
                    break
                out.write(
                    "".join(
                        f'{{"index":{seq},"leaf_data":"{base64.b64encode(canonical).decode("ascii")}"}}\n'
                        for seq, canonical in rows
                    )
                )
                count += len(rows)
                after = rows[-1][0]
                if progress is not None:
                    progress(count)
        for cp_size, cp_note in conn.execute(select(_CP.c.tree_size, _CP.c.note).order_by(_CP.c.tree_size)):
            (directory / "checkpoints" / str(cp_size)).write_text(cp_note, encoding="utf-8", newline="\n")
            written += 1
    (directory / "vkey").write_text(sign.vkey + "\n", encoding="ascii", newline="\n")
    return ExportReport(count, written, directory)


def _locate(report: ExportVerifyReport, verified: dict[int, bool], bad: int) -> ExportVerifyReport:
    """Where the first bad entry can be, from the checkpoints: ``bad`` is the smallest checkpoint
    whose root differs from the root of the entries it covers, so the first bad entry lies below
    ``bad``; every checkpoint whose root still verifies covers a good prefix, so it lies at or
    above the largest of those below ``bad``. A checkpoint above ``bad`` that verifies means the
    entries are fine and the two checkpoints disagree with each other."""
    later = sorted(size for size, ok in verified.items() if ok and size > bad)
    if later:
        report.problems.append(
            Problem(
                f"检查点 {bad} 与之后的检查点 {later[0]} 不一致：条目与检查点 {later[0]} 相符，"
                f"检查点 {bad} 的根哈希不属于这段历史",
                f"checkpoint {bad} disagrees with the later checkpoint {later[0]}: "
                f"the entries match {later[0]}, so the root of {bad} belongs to another history",
                checkpoint=bad,
            )
        )
        return report
    low = max((size for size, ok in verified.items() if ok and size < bad), default=0)
    since = f"检查点 {low} 之后、" if low else ""
    since_en = f" after checkpoint {low}" if low else ""
    if bad - low == 1:
        report.problems.append(
            Problem(
                f"检查点 {bad} 的根哈希与条目重算结果不符：{since}只有索引 {low} 一个条目，即第一个错误条目",
                f"checkpoint {bad}'s root differs from the entries; "
                f"it covers one entry{since_en}, index {low}, the first bad one",
                index=low,
                checkpoint=bad,
                within=(low, bad),
            )
        )
        return report
    bound_zh = f"检查点 {low} 仍然相符" if low else "之前没有相符的检查点"
    bound_en = f"checkpoint {low} still verifies" if low else "no earlier checkpoint verifies"
    report.problems.append(
        Problem(
            f"检查点 {bad} 的根哈希与条目重算结果不符：第一个错误条目在它覆盖的{since}索引 {low} 至 {bad - 1} 之间"
            f"（{bound_zh}）",
            f"checkpoint {bad}'s root differs from the entries: "
            f"the first bad entry is one of those it covers{since_en}, index {low} to {bad - 1} ({bound_en})",
            checkpoint=bad,
            within=(low, bad),
        )
    )
    return report


@dataclasses.dataclass(slots=True)
class ExportVerifyReport:
    entries: int = 0
    checkpoints: int = 0
    largest_checkpoint: int = 0
    problems: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_export(directory: Path) -> ExportVerifyReport:
    """Check an exported folder with no database: rebuild the tree from ``entries.jsonl`` and check
    every checkpoint's signature (with ``vkey``) and its root. Stops at the first problem."""
    directory = Path(directory)
    report = ExportVerifyReport()

    def fail(zh: str, en: str, *, index: int | None = None, checkpoint: int | None = None) -> ExportVerifyReport:
        report.problems.append(Problem(zh, en, index=index, checkpoint=checkpoint))
        return report

    try:
        vkey = note.parse_verifier_key((directory / "vkey").read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        return fail("缺少 vkey 文件", "the vkey file is missing")
    except (note.NoteError, UnicodeDecodeError) as exc:
        return fail("vkey 文件格式错误", f"malformed vkey file ({exc})")
    roots: dict[int, bytes] = {}
    folder = directory / "checkpoints"
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    for path in files:
        try:
            cp = note.verify_checkpoint(path.read_bytes(), vkey, vkey.name)
        except note.NoteError as exc:
            return fail(
                "检查点签名或格式无效", f"invalid checkpoint {path.name} ({exc})", checkpoint=refs.ascii_int(path.name)
            )
        if path.name != str(cp.size):
            return fail(
                "检查点文件名与其树大小不符",
                f"checkpoint file {path.name} holds tree size {cp.size}",
                checkpoint=cp.size,
            )
        roots[cp.size] = cp.root
    if not roots:
        return fail("没有可核验的检查点", "no checkpoint to verify against")
    report.checkpoints = len(roots)
    report.largest_checkpoint = max(roots)
    if 0 in roots and roots[0] != merkle.EMPTY_ROOT:
        return fail("检查点根哈希与条目重算结果不符", "checkpoint root differs from the entries", checkpoint=0)
    compact = merkle.CompactRange()
    verified: dict[int, bool] = {}  # checkpoint size -> its root equals the root of that prefix
    pending: list[bytes] = []

    def flush() -> None:
        compact.extend(pending)
        pending.clear()

    try:
        handle = (directory / "entries.jsonl").open("rb")
    except FileNotFoundError:
        return fail("缺少 entries.jsonl", "entries.jsonl is missing")
    with handle:
        for index, line in enumerate(handle):
            try:
                item = json.loads(line)
                leaf_data = base64.b64decode(item["leaf_data"], validate=True)
                if item["index"] != index:
                    return fail(
                        f"条目序号应为 {index}，文件中为 {item['index']}",
                        f"expected index {index}, found {item['index']}",
                        index=index,
                    )
                seq = json.loads(leaf_data)["seq"]
            except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
                return fail("条目格式错误", "malformed entry line", index=index)
            if seq != index:
                return fail(f"叶子数据中的序号为 {seq}", f"the leaf data says seq {seq}", index=index)
            pending.append(merkle.leaf_hash(leaf_data))
            size = index + 1
            if size in roots:
                flush()
                verified[size] = compact.root() == roots[size]
            elif len(pending) >= 65_536:
                flush()
        flush()
    report.entries = compact.size
    failed = sorted(size for size, ok in verified.items() if not ok)
    if failed:
        return _locate(report, verified, failed[0])
    if report.largest_checkpoint > compact.size:
        return fail(
            f"检查点覆盖 {report.largest_checkpoint} 个条目，但文件中只有 {compact.size} 个",
            f"a checkpoint covers {report.largest_checkpoint} entries but the file has {compact.size}",
            index=compact.size,
            checkpoint=report.largest_checkpoint,
        )
    return report
