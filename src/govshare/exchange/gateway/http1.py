"""A lean HTTP/1.1 client for the gateway's calls to providers: pooled keep-alive connections,
asyncio protocols and httptools' parser (the C parser uvicorn uses), nothing else per call.

Why not aiohttp's client: on this machine it was the largest cost of a proxied call (about half of
the gateway's own time in a profile), from the objects each request builds; this client writes the
request as one ``bytes`` and parses the answer in C. What it does not do: redirects (a provider's
node answers, it does not send us elsewhere), cookies, proxies, HTTP/2, compression (it asks for
``identity``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import httptools


class ResponseTooLarge(Exception):
    pass


class ProtocolFailure(Exception):
    """The connection broke or the answer was not HTTP."""


class _Conn(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.waiter: asyncio.Future[tuple[int, str, bytes]] | None = None
        self.parser: Any = None
        self.max_bytes = 0
        self.got_bytes = False
        self.too_large = False
        self.keep_alive = False

    # Protocol --------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ProtocolFailure("connection closed before the answer was complete"))

    def data_received(self, data: bytes) -> None:
        if self.parser is None or self.waiter is None or self.waiter.done():
            self.close()  # bytes nobody asked for
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:  # also wraps what a callback raised
            self._fail(ResponseTooLarge() if self.too_large else ProtocolFailure(f"invalid HTTP answer: {exc}"))

    # Parser callbacks --------------------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-type":
            self.content_type = value.decode("latin-1")
        elif name.lower() == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
            self.too_large = True
            raise ResponseTooLarge

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > self.max_bytes:
            self.too_large = True
            raise ResponseTooLarge
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()  # valid only while parsing
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), self.content_type, b"".join(self.chunks)))

    # Use -------------------------------------------------------------------------------------------------

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def send(self, request: bytes, max_bytes: int) -> asyncio.Future[tuple[int, str, bytes]]:
        assert self.transport is not None
        self.parser = httptools.HttpResponseParser(self)
        self.max_bytes, self.size, self.chunks, self.content_type = max_bytes, 0, [], ""
        self.got_bytes = self.too_large = self.keep_alive = False
        self.waiter = self.loop.create_future()
        self.transport.write(request)
        return self.waiter

    @property
    def reusable(self) -> bool:
        return not self.closed and self.keep_alive


class Pool:
    """Keep-alive connections per (scheme, host, port), at most ``limit`` idle ones each."""

    def __init__(self, *, limit: int = 200) -> None:
        self.limit = limit
        self._idle: dict[tuple[str, str, int], deque[_Conn]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def _connect(self, key: tuple[str, str, int]) -> _Conn:
        loop = asyncio.get_running_loop()
        scheme, host, port = key
        if scheme == "https" and self._ssl is None:
            self._ssl = ssl.create_default_context()
        _t, conn = await loop.create_connection(
            lambda: _Conn(loop), host, port, ssl=self._ssl if scheme == "https" else None
        )
        return conn

    async def request(
        self, method: str, url: str, *, headers: dict[str, str], body: bytes | None, max_bytes: int
    ) -> tuple[int, str, bytes]:
        """(status, content type, body). Raises ``ProtocolFailure``, ``ResponseTooLarge``, ``OSError``."""
        parts = urlsplit(url)
        scheme = parts.scheme
        port = parts.port or (443 if scheme == "https" else 80)
        host = parts.hostname or ""
        key = (scheme, host, port)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        head = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Accept-Encoding: identity"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            head.append(f"Content-Length: {len(body)}")
        elif method in ("POST", "PUT", "PATCH"):
            head.append("Content-Length: 0")
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b"")
        idle = self._idle.setdefault(key, deque())
        while True:
            reused = bool(idle)
            conn = idle.pop() if reused else await self._connect(key)
            if conn.closed:
                continue
            try:
                answer = await conn.send(request, max_bytes)
            except ProtocolFailure:
                # A kept-alive connection the provider had closed: once more on a fresh one, as
                # long as nothing of an answer came back (the request was not processed).
                if reused and not conn.got_bytes:
                    continue
                raise
            except BaseException:
                conn.close()  # a timeout or cancellation leaves it mid-answer
                raise
            if conn.reusable and len(idle) < self.limit:
                idle.append(conn)
            else:
                conn.close()
            return answer

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
