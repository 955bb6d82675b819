"""`govshare gateway serve` under granian (RSGI, its default server), as a real process on this
test's database: the demo's curl call answers with the granted items and is recorded; a wrong key
and an oversized body get their problem answers; the openapi document is served."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from govshare import demo
from tests.exchange.gateway.gateway_helpers import GW, counts

GOVSHARE = Path(sys.executable).parent / "govshare"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _gateway(server: str, *extra: str) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(GOVSHARE), "gateway", "serve", "--port", str(port), "--server", server, *extra],
        env={**os.environ, "GOVSHARE_LOG_LEVEL": "warning"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    raise AssertionError(f"the gateway did not start: {out}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_gateway_serves_through_granian_rsgi(session):
    summary = demo.load(session)
    session.commit()
    g = summary.gateway
    assert g is not None
    items = list(g.items[:3])
    purpose = g.curl("http://x").split("X-Govshare-Purpose: ")[1].split('"')[0]
    hdrs = {"X-API-Key": g.key, "X-Govshare-Purpose": purpose}
    session.close()
    with _gateway("granian", "--recorder", "thread") as base:  # the process recorder: the test below
        r = httpx.get(f"{base}{GW}/{g.resource_code}", params={"limit": 5, "items": ",".join(items)}, headers=hdrs)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-content-type-options"] == "nosniff"
        body = r.json()
        assert body["returned"] == len(body["items"]) > 0
        assert all(set(row) == set(items) for row in body["items"])
        assert int(r.headers["x-govshare-event"]) >= 0

        bad = httpx.get(f"{base}{GW}/{g.resource_code}", headers={**hdrs, "X-API-Key": "gsk_wrong"})
        assert bad.status_code == 401 and bad.json()["field"] == "X-API-Key"

        big = httpx.post(f"{base}{GW}/{g.resource_code}/query", headers=hdrs, content=b"{" + b" " * (1024 * 1024 + 10))
        assert big.status_code == 413 and big.json()["field"] == "body"

        doc = httpx.get(f"{base}{GW}/openapi.json")
        assert doc.status_code == 200 and doc.json()["openapi"].startswith("3.")
    assert counts() == (3, 3)  # the call, the wrong key and the oversized body; not the document


def test_two_workers_record_through_one_writer_process(session):
    """`serve --workers 2` (the recorder process by default): concurrent calls spread over both
    workers, every one recorded once, each answer naming its own event."""
    import asyncio

    import aiohttp

    summary = demo.load(session)
    session.commit()
    g = summary.gateway
    assert g is not None
    purpose = g.curl("http://x").split("X-Govshare-Purpose: ")[1].split('"')[0]
    hdrs = {"X-API-Key": g.key, "X-Govshare-Purpose": purpose}
    session.close()
    n = 60

    async def hammer(base: str) -> list[tuple[int, int]]:
        async with aiohttp.ClientSession() as http:

            async def one(i: int) -> tuple[int, int]:
                url = f"{base}{GW}/{g.resource_code}"
                async with http.get(url, params={"limit": 1, "offset": i}, headers=hdrs) as r:
                    await r.read()
                    return r.status, int(r.headers["x-govshare-event"])

            return await asyncio.gather(*(one(i) for i in range(n)))

    with _gateway("granian", "--workers", "2", "--recorder", "process") as base:
        answers = asyncio.run(hammer(base))
    assert {status for status, _ in answers} == {200}
    assert len({seq for _, seq in answers}) == n
    assert counts() == (n, n)
