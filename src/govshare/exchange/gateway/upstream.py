"""The pooled keep-alive client of proxied APIs (aiohttp; httpx's AsyncClient measured about 9x
slower per call here, httpx issue #3215), and the projection of JSON answers to granted items."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

import aiohttp

from govshare.core.errors import DomainError

#: Keys of an answer's envelope that are not data items: kept as they are at the top level.
ENVELOPE = frozenset({"total", "count", "offset", "limit", "page", "page_size", "next", "previous", "version",
                      "found", "returned"})


class UpstreamFailed(DomainError):
    status = 502


class UpstreamTimeout(DomainError):
    status = 504


@dataclasses.dataclass(slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes


class Upstream:
    """One ``aiohttp.ClientSession`` per event loop (TestClient and servers each run their own)."""

    def __init__(self, *, connections: int, max_bytes: int) -> None:
        self.connections = connections
        self.max_bytes = max_bytes
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        s = self._sessions.get(loop)
        if s is None or s.closed:
            connector = aiohttp.TCPConnector(limit=self.connections, keepalive_timeout=30, ttl_dns_cache=300)
            s = aiohttp.ClientSession(connector=connector, auto_decompress=True, skip_auto_headers=("User-Agent",))
            self._sessions[loop] = s
        return s

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        s = self._sessions.pop(loop, None)
        if s is not None:
            await s.close()

    async def call(self, method: str, url: str, *, body: bytes | None, headers: Mapping[str, str],
                   timeout_ms: int) -> Answer:
        """The provider's answer, read whole but never more than ``max_bytes``, within
        ``timeout_ms`` in all (connect, headers and a slow trickle of body alike)."""
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                async with self._session().request(method, url, data=body, headers=headers,
                                                   allow_redirects=False) as resp:
                    if resp.content_length is not None and resp.content_length > self.max_bytes:
                        raise _too_large(self.max_bytes)
                    chunks, size = [], 0
                    async for chunk in resp.content.iter_any():
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise _too_large(self.max_bytes)
                        chunks.append(chunk)
                    return Answer(resp.status, resp.headers.get("Content-Type", ""), b"".join(chunks))
        except TimeoutError:
            raise UpstreamTimeout("exchange.gateway.upstream_timeout", "提供方接口响应超时",
                                  "The provider's interface did not answer in time",
                                  detail=f"timeout {timeout_ms} ms") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise UpstreamFailed("exchange.gateway.upstream_unreachable", "无法连接提供方接口或其响应无效",
                                 "The provider's interface is unreachable or answered invalidly",
                                 detail=type(exc).__name__) from None


def _too_large(cap: int) -> UpstreamFailed:
    return UpstreamFailed("exchange.gateway.upstream_too_large", "提供方接口的响应过大",
                          "The provider's answer is too large", detail=f"limit {cap} bytes")


def project(value: Any, *, granted: Collection[str], names: Mapping[str, str], depth: int = 0) -> Any:
    """Keep only granted data items in a JSON answer.

    ``names`` maps every key that names a data item of the entry (its name, and its field code) to
    the item's name. In every object: a key naming a granted item keeps its value; a key naming any
    other item is dropped; other keys keep objects and arrays (projected in turn) and drop scalars,
    except the envelope keys (:data:`ENVELOPE`) at the top. What the catalog does not describe is
    thus never passed on as a value."""
    if isinstance(value, list):
        return [project(v, granted=granted, names=names, depth=depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for k, v in value.items():
        item = names.get(k)
        if item is not None:
            if item in granted:
                out[k] = v
        elif isinstance(v, dict | list):
            out[k] = project(v, granted=granted, names=names, depth=depth + 1)
        elif depth == 0 and k in ENVELOPE:
            out[k] = v
    return out


def values_of(value: Any, keys: Collection[str]) -> list[Any]:
    """Every scalar value under one of ``keys`` anywhere in a JSON value (subject keys)."""
    found: list[Any] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                if k in keys and isinstance(x, str | int):
                    found.append(x)
                elif isinstance(x, dict | list):
                    stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)
    return found
