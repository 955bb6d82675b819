"""One writer of call records for all the gateway's worker processes (``govshare gateway serve``).

With the thread recorder (:class:`~govshare.exchange.gateway.recorder.Recorder`) each worker
commits its own groups. With two workers the groups take turns on the event counter's row lock,
and each group's Python steps wait for the GIL behind the worker's event loop. Measured at 400
calls/s with two workers (docs/benchmarks.md): a call waited 12 ms at the median for its record,
of which a group's write took 7 ms for two records, 4.4 ms of it in the two round trips.

Here one process receives the records of every worker over a Unix socket and commits them in
groups with the same :meth:`Recorder.write`: one stream of groups, no lock taken in turns, no GIL
shared with an event loop. A worker sends its record and awaits the acknowledgement on its own
event loop (:class:`RemoteRecorder`, no thread); the acknowledgement carries the event's number,
or says that the group's commit failed, and the call is answered 503 with nothing delivered, as
with the thread recorder. If the writer is gone, calls are answered 503 until it is back
(``govshare gateway serve`` starts it again).

The wire, both ways on one stream connection per worker:

* worker to writer: a frame per record, a 4-byte little-endian length and an orjson array
  ``[id, *fields]`` (the fields of :class:`CallRecord` in their order, without ``event_seq``);
* writer to worker: 16 bytes per record, the id and the event's number as little-endian int64,
  the number -1 when the record was not committed.

The socket lies in a directory only the serving user may enter (``tempfile.mkdtemp``): whoever can
write to it can write call records.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from govshare.exchange.gateway.recorder import CallRecord, Recorder, RecorderStopped

log = logging.getLogger("govshare.exchange.gateway")

#: The setting the workers read (``GOVSHARE_GATEWAY_RECORDER_SOCKET``).
SOCKET_ENV = "GOVSHARE_GATEWAY_RECORDER_SOCKET"
FIELDS = tuple(f.name for f in dataclasses.fields(CallRecord) if f.name != "event_seq")
_LEN = struct.Struct("<I")
_ACK = struct.Struct("<qq")
NOT_COMMITTED = -1
#: A frame larger than this is not a call record: the connection is closed.
MAX_FRAME = 16 * 1024 * 1024


class RecordNotCommitted(RuntimeError):
    """The writer could not commit the group that held this record."""


def encode(rid: int, rec: CallRecord) -> bytes:
    payload = orjson.dumps([rid, *(getattr(rec, name) for name in FIELDS)])
    return _LEN.pack(len(payload)) + payload


def decode(buf: bytearray) -> list[tuple[int, CallRecord]]:
    """Take the complete frames off the front of ``buf``. Raises ``ValueError`` on a frame that is
    not a call record."""
    out: list[tuple[int, CallRecord]] = []
    pos, end = 0, len(buf)
    view = memoryview(buf)
    try:
        while end - pos >= _LEN.size:
            (size,) = _LEN.unpack_from(buf, pos)
            if size > MAX_FRAME:
                raise ValueError(f"frame of {size} bytes")
            if end - pos - _LEN.size < size:
                break
            item = orjson.loads(view[pos + _LEN.size : pos + _LEN.size + size])
            if not isinstance(item, list) or len(item) != len(FIELDS) + 1 or not isinstance(item[0], int):
                raise ValueError("not a call record")
            out.append((item[0], CallRecord(**dict(zip(FIELDS, item[1:], strict=True)))))
            pos += _LEN.size + size
    finally:
        view.release()
    del buf[:pos]
    return out


# --- The writer process ---------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class _Client:
    sock: socket.socket
    inbox: bytearray = dataclasses.field(default_factory=bytearray)
    outbox: bytearray = dataclasses.field(default_factory=bytearray)
    closed: bool = False


class Writer:
    """The writer's loop: one thread, a selector over the listening socket and the workers'
    connections. Records are read as they come; a group is written when ``max_batch`` records
    wait, or at once for a lone record, or ``max_wait`` after the first when records come in
    groups (the thread recorder's rule). While a group commits, the next one gathers in the
    sockets' buffers."""

    def __init__(self, path: str | Path, recorder: Recorder) -> None:
        self.path = str(path)
        self.recorder = recorder
        self._stop = threading.Event()
        self._sel = selectors.DefaultSelector()
        self._pending: list[tuple[_Client, int, CallRecord]] = []
        self._last_group = 0
        self.ready = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def serve(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        os.chmod(self.path, 0o600)
        listener.listen(128)
        listener.setblocking(False)
        self._sel.register(listener, selectors.EVENT_READ, None)
        self.ready.set()
        deadline: float | None = None
        try:
            while not self._stop.is_set():
                timeout = 0.2 if deadline is None else max(0.0, deadline - time.monotonic())
                for key, mask in self._sel.select(timeout):
                    if key.data is None:
                        self._accept(listener)
                        continue
                    if mask & selectors.EVENT_READ:
                        self._read(key.data)
                    if mask & selectors.EVENT_WRITE:
                        self._flush(key.data)
                if self._pending and deadline is None:
                    linger = len(self._pending) > 1 or self._last_group > 1
                    deadline = time.monotonic() + (self.recorder.max_wait if linger else 0.0)
                if self._pending and (
                    len(self._pending) >= self.recorder.max_batch or time.monotonic() >= (deadline or 0.0)
                ):
                    self._commit()
                    deadline = None
            while self._pending:  # stopping: what was received is written
                self._commit()
        finally:
            for key in list(self._sel.get_map().values()):
                with contextlib.suppress(OSError):
                    key.fileobj.close()  # type: ignore[union-attr]
            self._sel.close()
            self.recorder.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    def _accept(self, listener: socket.socket) -> None:
        with contextlib.suppress(BlockingIOError):
            sock, _ = listener.accept()
            sock.setblocking(False)
            self._sel.register(sock, selectors.EVENT_READ, _Client(sock))

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(1 << 18)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        client.inbox += data
        try:
            for rid, rec in decode(client.inbox):
                self._pending.append((client, rid, rec))
        except ValueError as exc:
            log.warning("call recorder: a worker sent %s; its connection is closed", exc)
            self._drop(client)

    def _commit(self) -> None:
        group = self._pending[: self.recorder.max_batch]
        del self._pending[: len(group)]
        self._last_group = len(group)
        records = [rec for _client, _rid, rec in group]
        try:
            self.recorder.write(records)
            seqs = [rec.event_seq if rec.event_seq is not None else NOT_COMMITTED for rec in records]
        except Exception as exc:  # answered 503 by each waiting call
            log.warning("call records not committed (%d calls refused): %s", len(group), type(exc).__name__)
            seqs = [NOT_COMMITTED] * len(group)
        touched: dict[int, _Client] = {}
        for (client, rid, _rec), seq in zip(group, seqs, strict=True):
            if not client.closed:
                client.outbox += _ACK.pack(rid, seq)
                touched[id(client)] = client
        for client in touched.values():
            self._flush(client)

    def _flush(self, client: _Client) -> None:
        if client.closed:
            return
        try:
            sent = client.sock.send(client.outbox) if client.outbox else 0
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._drop(client)
            return
        del client.outbox[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.outbox else 0)
        self._sel.modify(client.sock, events, client)

    def _drop(self, client: _Client) -> None:
        """A worker went away. Its records already received are still written (the calls were
        handled; a record without an answer is allowed, an answer without a record is not)."""
        if not client.closed:
            client.closed = True
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(client.sock)
            client.sock.close()


def main(argv: list[str] | None = None) -> None:
    """``python -m govshare.exchange.gateway.writer SOCKET``: what ``govshare gateway serve`` starts."""
    from govshare.exchange.config import get_exchange_settings

    (path,) = argv if argv is not None else sys.argv[1:]
    logging.basicConfig(level=os.environ.get("GOVSHARE_LOG_LEVEL", "warning").upper())
    s = get_exchange_settings()
    writer = Writer(path, Recorder(max_batch=s.gateway_batch_max, max_wait=s.gateway_batch_wait_ms / 1000))
    # Ctrl-C in a terminal reaches the whole process group: the writer stays until the workers
    # have answered their last calls, and stops when ``serve`` sends it SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: writer.stop())
    writer.serve()


# --- Starting it beside the workers ---------------------------------------------------------------


@contextlib.contextmanager
def running(start_timeout: float = 30.0) -> Iterator[str]:
    """Run the writer process while the block runs, starting it again if it dies; the workers
    started inside the block find its socket in the environment (``SOCKET_ENV``)."""
    from govshare.exchange.config import get_exchange_settings

    folder = tempfile.mkdtemp(prefix="govshare-recorder-")  # mode 0700
    path = os.path.join(folder, "calls.sock")
    command = [sys.executable, "-m", "govshare.exchange.gateway.writer", path]
    stopping = threading.Event()
    lock = threading.Lock()
    proc: subprocess.Popen[bytes] | None = None

    def start() -> subprocess.Popen[bytes]:
        p = subprocess.Popen(command)
        deadline = time.monotonic() + start_timeout
        while not _accepts(path):  # listening, not only bound: the workers' first calls connect at once
            if p.poll() is not None or time.monotonic() > deadline:
                p.kill()
                raise RuntimeError(f"the call recorder did not start (exit code {p.poll()})")
            time.sleep(0.02)
        return p

    def watch() -> None:
        nonlocal proc
        while not stopping.is_set():
            assert proc is not None
            code = proc.wait()
            if stopping.is_set():
                return
            log.error("the call recorder stopped (exit code %s); starting it again", code)
            with lock:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                try:
                    proc = start()
                except RuntimeError:
                    log.exception("the call recorder could not be started again")
                    time.sleep(1.0)

    proc = start()
    previous = os.environ.get(SOCKET_ENV)
    os.environ[SOCKET_ENV] = path
    get_exchange_settings.cache_clear()
    watcher = threading.Thread(target=watch, name="govshare-recorder-watch", daemon=True)
    watcher.start()
    try:
        yield path
    finally:
        stopping.set()
        with lock:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if previous is None:
            os.environ.pop(SOCKET_ENV, None)
        else:
            os.environ[SOCKET_ENV] = previous
        get_exchange_settings.cache_clear()
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _accepts(path: str) -> bool:
    """Whether a writer listens on ``path`` (it sees a connection that closes at once)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


# --- The workers' side ----------------------------------------------------------------------------


class _Acks(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: dict[int, asyncio.Future[int]] = {}
        self._buf = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        usable = len(buf) - len(buf) % _ACK.size
        # A copy of the whole acknowledgements (16 bytes each): a view into ``buf`` would pin it,
        # and ``buf`` cannot be resized below while a view of it is alive.
        for rid, seq in _ACK.iter_unpack(bytes(buf[:usable])):
            fut = self.waiting.pop(rid, None)
            if fut is None or fut.done():  # the caller went away
                continue
            if seq == NOT_COMMITTED:
                fut.set_exception(RecordNotCommitted("the call record was not committed"))
            else:
                fut.set_result(seq)
        del buf[:usable]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        waiting, self.waiting = self.waiting, {}
        for fut in waiting.values():
            if not fut.done():
                fut.set_exception(RecorderStopped("the call recorder went away"))


class RemoteRecorder:
    """The worker's side: :meth:`record` sends the record to the writer process and returns once
    its group is committed, like :meth:`Recorder.record`. One connection per event loop, opened
    at the first call and again after the writer was restarted."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._ids = itertools.count(1)
        self._conns: dict[asyncio.AbstractEventLoop, _Acks] = {}
        self._connecting: dict[asyncio.AbstractEventLoop, asyncio.Future[_Acks]] = {}
        #: Records acknowledged as committed (the groups are counted by the writer).
        self.written = 0

    @property
    def running(self) -> bool:
        return True  # the writer is another process; if it is gone, calls are answered 503

    def start(self) -> None:
        pass

    def stop(self, timeout: float = 10.0) -> None:
        """Close the connections (the gateway's lifespan calls this from a thread: a transport is
        closed on its own loop)."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, proto in list(self._conns.items()):
            transport = proto.transport
            if transport is None:
                continue
            if loop is current:
                transport.close()
            else:
                with contextlib.suppress(RuntimeError):  # that loop is closed already
                    loop.call_soon_threadsafe(transport.close)
        self._conns.clear()

    async def _connection(self) -> _Acks:
        loop = asyncio.get_running_loop()
        proto = self._conns.get(loop)
        if proto is not None and proto.transport is not None and not proto.transport.is_closing():
            return proto
        pending = self._connecting.get(loop)
        if pending is None:
            pending = loop.create_future()
            self._connecting[loop] = pending
            try:
                _transport, proto = await loop.create_unix_connection(_Acks, self.path)
                self._conns[loop] = proto
                pending.set_result(proto)
            except OSError as exc:
                pending.set_exception(RecorderStopped(f"the call recorder is not reachable ({exc.strerror})"))
                pending.exception()  # retrieved: the callers waiting on it get it
            finally:
                del self._connecting[loop]
        return await asyncio.shield(pending)

    async def record(self, rec: CallRecord) -> None:
        proto = await self._connection()
        rid = next(self._ids)
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        proto.waiting[rid] = fut
        assert proto.transport is not None
        proto.transport.write(encode(rid, rec))
        rec.event_seq = await fut
        self.written += 1


def make_recorder(path: str | None, *, max_batch: int, max_wait: float) -> Any:
    """The recorder of a gateway process: the writer process's when ``serve`` started one."""
    if path:
        return RemoteRecorder(path)
    return Recorder(max_batch=max_batch, max_wait=max_wait)


if __name__ == "__main__":
    main()
