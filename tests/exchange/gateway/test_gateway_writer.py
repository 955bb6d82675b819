"""One writer process for all gateway workers (``exchange.gateway.writer``): the frames carry a
record unchanged however the stream splits them; records of several workers are committed in
shared groups, each acknowledged with its event's number; a failed commit or a writer that is gone
is a 503 with nothing delivered; a writer that comes back is found again; ``running`` starts the
process again when it dies."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from govshare.core.db import transaction
from govshare.exchange.gateway import writer as w
from govshare.exchange.gateway.recorder import CallRecord, Recorder, RecorderStopped
from govshare.exchange.models import ExchangeCall
from tests.exchange.gateway.gateway_helpers import GW, agency_id, counts, headers

_text = st.text(max_size=40)
_maybe_text = st.none() | _text
_maybe_int = st.none() | st.integers(min_value=-(2**62), max_value=2**62)
records = st.builds(
    CallRecord,
    resource_code=_text,
    mode=st.sampled_from(["query", "verify", "proxy"]),
    outcome=st.sampled_from(["allowed", "refused", "failed"]),
    status=st.integers(100, 599),
    latency_ms=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
    bytes=st.integers(0, 2**40),
    rows=st.integers(0, 2**31),
    client_id=_maybe_int,
    client_name=_text,
    consumer_id=_maybe_int,
    consumer_code=_maybe_text,
    consumer_region=_maybe_text,
    provider_id=_maybe_int,
    resource_id=_maybe_int,
    grant_id=_maybe_int,
    purpose=_maybe_text,
    code=_maybe_text,
    article=_maybe_text,
    subjects=st.lists(st.text("0123456789abcdef", min_size=64, max_size=64), max_size=5),
)


@given(st.lists(records, min_size=1, max_size=6), st.lists(st.integers(1, 400), max_size=8))
def test_frames_round_trip_however_the_stream_splits_them(recs, cuts):
    stream = b"".join(w.encode(i, r) for i, r in enumerate(recs, start=1))
    buf = bytearray()
    got: list[tuple[int, CallRecord]] = []
    pos = 0
    for cut in [*cuts, len(stream)]:
        buf += stream[pos : pos + cut]
        pos += cut
        got += w.decode(buf)
    buf += stream[pos:]
    got += w.decode(buf)
    assert got == list(enumerate(recs, start=1))
    assert buf == bytearray()


def test_a_frame_that_is_not_a_record_is_refused():
    payload = b'{"not": "a record"}'
    with pytest.raises(ValueError, match="not a call record"):
        w.decode(bytearray(len(payload).to_bytes(4, "little") + payload))
    with pytest.raises(ValueError, match="frame of"):
        w.decode(bytearray((w.MAX_FRAME + 1).to_bytes(4, "little")))


def _record(i: int) -> CallRecord:
    return CallRecord(
        resource_code="RES-1",
        mode="query",
        outcome="allowed",
        status=200,
        latency_ms=1.5,
        sha256="ab" * 32,
        rows=1,
        purpose=f"目的 {i}",
        subjects=[f"{i:064x}"],
    )


@contextlib.contextmanager
def _writer(recorder: Recorder | None = None) -> Iterator[tuple[w.Writer, str]]:
    folder = tempfile.mkdtemp(prefix="govshare-test-writer-")
    path = os.path.join(folder, "calls.sock")
    writer = w.Writer(path, recorder or Recorder())
    thread = threading.Thread(target=writer.serve, daemon=True)
    thread.start()
    assert writer.ready.wait(10)
    try:
        yield writer, path
    finally:
        writer.stop()
        thread.join(10)
        os.rmdir(folder)


def test_records_of_two_workers_share_groups_and_get_their_event_numbers(session):
    n = 60
    with _writer() as (writer, path):

        async def worker(base: int) -> list[CallRecord]:
            remote = w.RemoteRecorder(path)
            recs = [_record(base + i) for i in range(n)]
            await asyncio.gather(*(remote.record(r) for r in recs))
            remote.stop()
            return recs

        async def both() -> list[CallRecord]:
            a, b = await asyncio.gather(worker(0), worker(1000))
            return a + b

        recs = asyncio.run(both())
        groups = writer.recorder.batches
    assert counts() == (2 * n, 2 * n)
    assert groups < 2 * n  # the two workers' records shared commits
    seqs = [r.event_seq for r in recs]
    assert len(set(seqs)) == 2 * n and all(isinstance(s, int) and s >= 0 for s in seqs)
    with transaction() as s:
        by_seq = dict(s.execute(select(ExchangeCall.event_seq, ExchangeCall.purpose)).all())
    assert {r.event_seq: r.purpose for r in recs} == by_seq  # each acknowledgement names its own record


class _Refusing(Recorder):
    def write(self, records: list[CallRecord]) -> None:
        raise ConnectionError("database down")


def test_a_failed_commit_is_acknowledged_as_not_committed(session):
    with _writer(_Refusing()) as (_writer_, path):

        async def one() -> None:
            await w.RemoteRecorder(path).record(_record(1))

        with pytest.raises(w.RecordNotCommitted):
            asyncio.run(one())
    assert counts() == (0, 0)


def test_no_writer_is_a_503_and_a_writer_that_comes_back_is_found(client, app, book, hosted, sz_key, session):
    book.add(resource=hosted, consumer_id=agency_id(session, "sz-sj"), regions=["320500"])
    gateway = app.state.gateway
    thread_recorder = gateway.recorder
    folder = tempfile.mkdtemp(prefix="govshare-test-writer-")
    path = os.path.join(folder, "calls.sock")
    gateway.recorder = w.RemoteRecorder(path)
    try:
        r = client.get(f"{GW}/{hosted.code}", headers=headers(sz_key))
        assert r.status_code == 503 and r.json()["code"] == "database.unavailable"
        assert "items" not in r.json()
        with _writer() as (_writer_, live):
            gateway.recorder = w.RemoteRecorder(live)
            r = client.get(f"{GW}/{hosted.code}", headers=headers(sz_key))
            assert r.status_code == 200, r.text
            assert int(r.headers["x-govshare-event"]) >= 0
        # The writer stopped: the connection is gone, the next call is refused, not delivered.
        r = client.get(f"{GW}/{hosted.code}", headers=headers(sz_key))
        assert r.status_code == 503 and "items" not in r.json()
    finally:
        gateway.recorder = thread_recorder
        os.rmdir(folder)
    assert counts() == (1, 1)


def test_running_starts_the_writer_process_again_when_it_dies(session):
    async def one() -> int:
        rec = _record(7)
        remote = w.RemoteRecorder(os.environ[w.SOCKET_ENV])
        await remote.record(rec)
        remote.stop()
        assert rec.event_seq is not None
        return rec.event_seq

    with w.running() as path:
        assert Path(path).exists()
        first = asyncio.run(one())
        pid = _writer_pid(path)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(RecorderStopped, ProcessLookupError, FileNotFoundError):
                if _writer_pid(path) != pid:
                    break
            time.sleep(0.05)
        second = asyncio.run(one())
    assert second > first
    assert not Path(path).exists() and w.SOCKET_ENV not in os.environ
    assert counts() == (2, 2)


def _writer_pid(path: str) -> int:
    """The process listening on ``path`` (by its socket's peer credentials)."""
    import socket
    import struct

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
        except OSError as exc:
            raise RecorderStopped(str(exc)) from None
        creds = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[0]


def test_stop_from_another_thread_closes_the_connection_on_its_loop(session):
    """The gateway's lifespan stops the recorder from a thread: the transport is closed by its own
    event loop (asyncio transports are not thread-safe), and the next record connects again."""
    with _writer() as (_writer_, path):

        async def run() -> tuple[bool, int | None]:
            remote = w.RemoteRecorder(path)
            await remote.record(_record(1))
            proto = remote._conns[asyncio.get_running_loop()]
            await asyncio.to_thread(remote.stop)
            for _ in range(100):
                if proto.transport is None:  # connection_lost ran on this loop
                    break
                await asyncio.sleep(0.01)
            again = _record(2)
            await remote.record(again)
            remote.stop()
            return proto.transport is None, again.event_seq

        closed, seq = asyncio.run(run())
    assert closed and seq is not None
    assert counts() == (2, 2)


def test_a_worker_sending_garbage_is_cut_off_and_the_others_go_on(session):
    """A connection whose frame is not a call record is closed; the writer keeps serving the rest."""
    import socket

    with _writer() as (_writer_, path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as bad:
            bad.connect(path)
            payload = b'"not a record"'
            bad.sendall(len(payload).to_bytes(4, "little") + payload)
            bad.settimeout(10)
            assert bad.recv(16) == b""  # closed by the writer, no acknowledgement

        async def one() -> int | None:
            remote = w.RemoteRecorder(path)
            rec = _record(5)
            await remote.record(rec)
            remote.stop()
            return rec.event_seq

        assert asyncio.run(one()) is not None
    assert counts() == (1, 1)
