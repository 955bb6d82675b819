"""Group commit of call records (Art 32, 34): no call is answered before its record is durable.

Every gateway call, allowed or refused, hands a :class:`CallRecord` to the process's
:class:`Recorder` and awaits it. One writer thread takes what is waiting, at most ``max_batch``
records or what arrives within ``max_wait`` seconds of the first, and writes the whole group in
one transaction: one ``exchange.gateway.call`` event per call (numbered by the event counter like
any event, so the ledger integrates them), the ``exchange_call`` rows, each naming its event's
number, and the subject index rows. On PostgreSQL that is one statement and one round trip (see
``_write_postgresql``); elsewhere ``core.events.append`` and two inserts. After the commit the
waiting calls are released, all of a loop's at once; if the commit fails (database down), every
call of the group gets the error and is answered 503 with nothing delivered.

Under ``govshare gateway serve`` the workers hand their records to one writer process instead
(``exchange.gateway.writer``), which commits them with this class's :meth:`Recorder.write`.

Why a thread and not an asyncio task: the database driver blocks, and a thread lets the event
loop go on parsing requests and querying while a group commits. Why group commit: one commit per
call is bounded by the database's commits per second (about 4,600/s single-row from one client
on this machine), a group of a few hundred costs about the same as one.

Why an event per call and not only the row: the Measures want every exchange supervised (Art 32),
and the ledger makes the event log tamper-evident; a call row alone could be edited unseen. The
event carries the metadata of the row (never data) and the row carries the event's number, so
calls = events can be checked at any time (``tests/exchange/gateway``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import hmac
import logging
import queue
import threading
import time
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection

from govshare.core import clock, events
from govshare.core.canonical import event_parts, json_text
from govshare.core.db import get_engine
from govshare.exchange.models import ExchangeCall, ExchangeCallSubject

log = logging.getLogger("govshare.exchange.gateway")

ACTION = "exchange.gateway.call"
_INSERT = ExchangeCall.__table__.insert()
_INSERT_SUBJECTS = ExchangeCallSubject.__table__.insert()


@dataclasses.dataclass(slots=True)
class CallRecord:
    """What one call leaves behind. ``subjects`` are already HMAC digests (see :func:`subject_digest`)."""

    resource_code: str
    mode: str
    outcome: str
    status: int
    latency_ms: float
    sha256: str
    bytes: int = 0
    rows: int = 0
    client_id: int | None = None
    client_name: str = ""
    consumer_id: int | None = None
    consumer_code: str | None = None
    consumer_region: str | None = None
    provider_id: int | None = None
    resource_id: int | None = None
    grant_id: int | None = None
    purpose: str | None = None
    code: str | None = None
    article: str | None = None
    subjects: list[str] = dataclasses.field(default_factory=list)
    #: Set by the writer: the number of the call's event.
    event_seq: int | None = None

    def scrub(self) -> None:
        """Replace NUL characters in the text a caller chose (a percent-encoded purpose or path may
        carry one): PostgreSQL text cannot hold them, and one call must not fail its whole group."""
        for name in ("resource_code", "purpose", "client_name", "code", "article"):
            value = getattr(self, name)
            if value is not None and "\x00" in value:
                setattr(self, name, value.replace("\x00", "\ufffd"))

    def event_data(self) -> dict[str, Any]:
        """The event's data: the call's metadata, and the subject digests as one SHA-256 over them
        (the row keeps the list; the ledger makes both tamper-evident at a fraction of the bytes)."""
        data: dict[str, Any] = {
            "resource_code": self.resource_code,
            "mode": self.mode,
            "outcome": self.outcome,
            "status": self.status,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
        }
        for k, v in (
            ("resource_id", self.resource_id),
            ("grant_id", self.grant_id),
            ("provider_id", self.provider_id),
            ("consumer_id", self.consumer_id),
            ("purpose", self.purpose),
            ("code", self.code),
            ("article", self.article),
        ):
            if v is not None:
                data[k] = v
        if self.subjects:
            data["subjects_sha256"] = hashlib.sha256("".join(self.subjects).encode()).hexdigest()
        return data


def subject_digest(key: bytes, value: str) -> str:
    """The keyed digest of a subject key (identity number, credit code), upper-cased and trimmed
    first so the same person is the same digest however the caller wrote the number."""
    return hmac.new(key, value.strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()


class SubjectHasher:
    """:func:`subject_digest` with the key's two padded SHA-256 states prepared once: HMAC as RFC
    2104 builds it, H((K ^ opad) || H((K ^ ipad) || m)), with a copy of each state per value.
    Measured 1.7x faster than copying a prepared ``hmac`` object (69 against 119 us for the 90
    identity numbers of a 10 KB answer), which was itself 3x faster than ``hmac.new`` per value;
    a test holds it equal to ``hmac.new`` for any key and value."""

    BLOCK = 64  # SHA-256's block size in bytes

    def __init__(self, key: bytes) -> None:
        if len(key) > self.BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(self.BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digests(self, values: Iterable[Any]) -> list[str]:
        out: dict[str, None] = {}
        inner, outer = self._inner, self._outer
        for v in values:
            if v is None or v == "":
                continue
            i = inner.copy()
            i.update(str(v).strip().upper().encode("utf-8"))
            o = outer.copy()
            o.update(i.digest())
            out[o.hexdigest()] = None
        return list(out)


def subject_digests(key: bytes, values: Iterable[Any]) -> list[str]:
    return SubjectHasher(key).digests(values)


class RecorderStopped(RuntimeError):
    pass


_STOP = object()


class Recorder:
    """The writer thread and its queue; one per process (``start`` it in the app's lifespan)."""

    def __init__(self, *, max_batch: int = 500, max_wait: float = 0.002) -> None:
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        #: Counters for tests and the benchmark: groups and records committed.
        self.batches = 0
        self.written = 0
        #: The writer thread's own connection (see :meth:`write`).
        self._conn: Connection | None = None
        self._last_used = 0.0
        self._last_group = 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if not self.running:
            self._thread = threading.Thread(target=self._run, name="govshare-call-recorder", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    async def record(self, rec: CallRecord) -> None:
        """Hand ``rec`` to the writer and return once its group is committed (raises what the
        commit raised)."""
        if not self.running:
            raise RecorderStopped("the call recorder is not running")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._queue.put((rec, loop, fut))
        await fut

    # --- The writer thread ----------------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            stopping = self._take(batch, None)
            # Linger for more only when calls are coming in groups (something was queued behind
            # the first, or the last group had company): a lone call at low load is committed at
            # once instead of waiting out the window (measured: +8 -> +6 ms at 100 calls/s), while
            # under load the window still gathers larger groups (fewer commits per call).
            if not stopping and (len(batch) > 1 or self._last_group > 1):
                stopping = self._take(batch, time.monotonic() + self.max_wait)
            self._last_group = len(batch)
            error: BaseException | None = None
            try:
                self.write([rec for rec, _loop, _fut in batch])
            except BaseException as exc:  # answered 503 by each waiting call
                error = exc
                log.warning("call records not committed (%d calls refused): %s", len(batch), type(exc).__name__)
            self._release(batch, error)
        self._close()

    def _take(self, batch: list[Any], deadline: float | None) -> bool:
        """Add to ``batch`` what is queued (``deadline`` None) or arrives before ``deadline``, up to
        ``max_batch``. True when the stop sign came."""
        while len(batch) < self.max_batch:
            remaining = 0.0 if deadline is None else deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            batch.append(item)
        return False

    @staticmethod
    def _release(batch: list[Any], error: BaseException | None) -> None:
        by_loop: dict[Any, list[asyncio.Future[None]]] = {}
        for _rec, loop, fut in batch:
            by_loop.setdefault(loop, []).append(fut)
        for loop, futures in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle, futures, error)

    def write(self, records: list[CallRecord]) -> None:
        """Write ``records`` and their events in one transaction (also used directly by tests).

        The writer keeps one connection of its own between groups: checking one out of the pool
        for every group cost a round trip (the pool's liveness ping) and an ORM session's setup,
        about a third of the writer's time per group in a profile under load. A connection idle
        for longer than :attr:`IDLE_CHECK` seconds goes back to the pool and the next group
        checks one out again (pinged then), so a database restarted while the gateway was quiet
        costs no call; one that fails during a group is dropped and that group is answered 503."""
        for r in records:
            r.scrub()
        recorded = [_event(r) for r in records]
        conn = self._connection()
        try:
            if conn.dialect.name == "postgresql":
                _write_postgresql(conn, records, recorded)
            else:
                _write_generic(conn, records, recorded)
        except BaseException:
            self._close()
            raise
        self._last_used = time.monotonic()
        for r, ev in zip(records, recorded, strict=True):
            r.event_seq = ev.seq
        self.batches += 1
        self.written += len(records)

    #: Seconds a kept connection may sit idle before the next group checks one out afresh.
    IDLE_CHECK = 2.0

    def _connection(self) -> Connection:
        engine = get_engine()
        if self._conn is not None and (
            self._conn.engine is not engine or time.monotonic() - self._last_used > self.IDLE_CHECK
        ):
            self._close()  # another database (tests switch), or quiet long enough to ping again
        if self._conn is None:
            self._conn = engine.connect()
        return self._conn

    def close(self) -> None:
        """Give the writer's connection back (the writer process, when it stops)."""
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


def _event(r: CallRecord) -> events.Recorded:
    return events.new_recorded(
        actor=events.Actor("client", r.client_id, r.client_name or "unknown")
        if r.client_id is not None
        else events.Actor("system", None, "gateway"),
        action=ACTION,
        subject_type="sharing_grant" if r.grant_id is not None else "resource",
        subject_id=r.grant_id if r.grant_id is not None else r.resource_code,
        region_code=r.consumer_region,
        agency_code=r.consumer_code,
        data=r.event_data(),
    )


def _call_row(r: CallRecord, at: Any, seq: int | None) -> dict[str, Any]:
    return {
        "at": at,
        "event_seq": seq,
        "client_id": r.client_id,
        "consumer_id": r.consumer_id,
        "provider_id": r.provider_id,
        "resource_id": r.resource_id,
        "resource_code": r.resource_code[:64],
        "grant_id": r.grant_id,
        "purpose": r.purpose,
        "mode": r.mode,
        "outcome": r.outcome,
        "status": r.status,
        "code": r.code,
        "article": r.article,
        "rows": r.rows,
        "bytes": r.bytes,
        "sha256": r.sha256,
        "latency_ms": r.latency_ms,
        "subjects": r.subjects,
    }


def _write_generic(conn: Connection, records: list[CallRecord], recorded: list[events.Recorded]) -> None:
    """SQLite (one writer at a time anyway): the events through ``events.append``, then the rows."""
    with conn.begin():
        events.append(conn, recorded)  # numbers the events
        conn.execute(_INSERT, [_call_row(r, ev.occurred_at, ev.seq) for r, ev in zip(records, recorded, strict=True)])
        subjects = [
            {"digest": bytes.fromhex(d), "event_seq": ev.seq}
            for r, ev in zip(records, recorded, strict=True)
            for d in dict.fromkeys(r.subjects)
        ]
        if subjects:
            conn.execute(_INSERT_SUBJECTS, subjects)


# PostgreSQL: the whole group in one statement, sent in autocommit mode, so one round trip holds
# the number reservation, the events, the call rows, the subject index rows and the commit, and
# the event counter's row lock (which orders every event writer of the platform) is held only
# while the server executes it, never across the network. What needs the numbers is finished on
# the server: the call rows and index rows name their event by ``first + i``, and each event's
# canonical bytes are the text before and after its number, built here before the statement
# (``canonical.event_parts``), joined around the number by the server. The rows go as one JSON
# document, read on the server by ``json_to_recordset``: psycopg dumps array parameters element by
# element in Python (74 us a call of a 100-call group in a profile), where orjson writes the
# document in C.
#
# The events' time is the writer's clock read just before the statement, not under the lock: an
# event of another writer committed while this group waited for the lock may carry a time later
# than this group's by at most that wait. (The previous way took the time under the lock, at the
# cost of a second round trip made while holding it.)
#
# Measured (docs/benchmarks.md), writing groups alone into a private PostgreSQL: 2 calls 1.4-1.9 ms
# (writer CPU 0.5-0.6 ms) against 2.6-2.8 ms (1.1 ms) for the two round trips this replaced, whose
# pipeline made six waits on the socket; in the gateway at 400 calls/s, +14 against +17.5 ms.
_CALL_FIELDS = (
    ("client_id", "int"),
    ("consumer_id", "int"),
    ("provider_id", "int"),
    ("resource_id", "int"),
    ("resource_code", "text"),
    ("grant_id", "int"),
    ("purpose", "text"),
    ("mode", "text"),
    ("outcome", "text"),
    ("status", "int"),
    ("code", "text"),
    ("article", "text"),
    ("rows", "int"),
    ("bytes", "bigint"),
    ("sha256", "text"),
    ("latency_ms", "float8"),
    ("subjects", "json"),
)
_EVENT_FIELDS = (
    ("actor", "text"),
    ("actor_name", "text"),
    ("action", "text"),
    ("subject_type", "text"),
    ("subject_id", "text"),
    ("region_code", "text"),
    ("agency_code", "text"),
    ("data", "text"),
)
_WRITE_GROUP = f"""
WITH head AS (
    UPDATE event_head SET next_seq = next_seq + %(k)s WHERE id = 1 RETURNING next_seq - %(k)s AS first
), g AS MATERIALIZED (
    SELECT * FROM json_to_recordset(%(group)s::json) AS g(
        i int, {", ".join(f"{n} {t}" for n, t in (*_CALL_FIELDS, *_EVENT_FIELDS))}, ch text, ct text
    )
), events AS (
    INSERT INTO event (seq, occurred_at, {", ".join(n for n, _ in _EVENT_FIELDS)}, canonical)
    SELECT head.first + g.i, %(at)s, {", ".join(f"g.{n}" for n, _ in _EVENT_FIELDS if n != "data")}, g.data::json,
           convert_to(g.ch || (head.first + g.i)::text || g.ct, 'UTF8')
    FROM head, g
), calls AS (
    INSERT INTO exchange_call (at, event_seq, {", ".join(n for n, _ in _CALL_FIELDS)})
    SELECT %(at)s, head.first + g.i, {", ".join(f"g.{n}" for n, _ in _CALL_FIELDS)} FROM head, g
), subjects AS (
    INSERT INTO exchange_call_subject (digest, event_seq)
    SELECT DISTINCT decode(d, 'hex'), head.first + g.i FROM head, g, json_array_elements_text(g.subjects) AS d
)
SELECT first FROM head
"""


def _group_rows(records: list[CallRecord], recorded: list[events.Recorded], now: Any) -> list[dict[str, Any]] | None:
    """One row per call: the call's columns, its event's columns and the canonical text around the
    event's number. None if an event's data is outside the canonical fast path."""
    rows = []
    for i, (r, ev) in enumerate(zip(records, recorded, strict=True)):
        parts = event_parts(
            now,
            ev.actor,
            ev.actor_name,
            ev.action,
            ev.subject_type,
            ev.subject_id,
            ev.region_code,
            ev.agency_code,
            ev.data,
        )
        if parts is None:
            return None
        row = _call_row(r, None, None)
        del row["at"], row["event_seq"]
        row.update(
            i=i,
            actor=ev.actor,
            actor_name=ev.actor_name,
            action=ev.action,
            subject_type=ev.subject_type,
            subject_id=ev.subject_id,
            region_code=ev.region_code,
            agency_code=ev.agency_code,
            data=json_text(ev.data),  # the engines' JSON text of the data, which verification compares
            ch=parts[0],
            ct=parts[1],
        )
        rows.append(row)
    return rows


def _write_postgresql(conn: Connection, records: list[CallRecord], recorded: list[events.Recorded]) -> None:
    now = clock.now()
    rows = _group_rows(records, recorded, now)
    if rows is not None:
        raw = conn.connection.driver_connection
        raw.autocommit = True  # the statement is its own transaction: BEGIN and COMMIT cost no round trip
        try:
            with raw.cursor() as cur:
                doc = orjson.dumps(rows).decode()
                cur.execute(_WRITE_GROUP, {"k": len(records), "at": now, "group": doc}, prepare=True)
                found = cur.fetchone()
        finally:
            with contextlib.suppress(Exception):  # a broken connection: the caller drops it
                raw.autocommit = False
        if found is not None:
            first = int(found[0])
            for seq, (ev, row) in enumerate(zip(recorded, rows, strict=True), start=first):
                ev.seq, ev.occurred_at = seq, now
                ev.canonical = f"{row['ch']}{seq}{row['ct']}".encode()
            return
    # Data outside the canonical fast path, or no counter row (a database built without the
    # migrations' seed; nothing was written): the generic path, which handles both.
    _write_generic(conn, records, recorded)


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futures:
        if fut.done():  # the caller went away
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)
