"""The gateway's client of proxied APIs (pooled keep-alive connections, :mod:`.http1`), and the
projection of JSON answers to granted items.

Measured here: httpx's AsyncClient about 9x slower per call than aiohttp's (httpx issue #3215);
aiohttp's client was in turn the largest cost of a proxied call in a profile of the gateway, so
the gateway speaks HTTP/1.1 itself on asyncio with httptools' parser (see ``docs/benchmarks.md``)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

from govshare.core.errors import DomainError
from govshare.exchange.gateway import http1

#: Keys of an answer's envelope that are not data items: kept as they are at the top level.
ENVELOPE = frozenset(
    {"total", "count", "offset", "limit", "page", "page_size", "next", "previous", "version", "found", "returned"}
)


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
    """The gateway's client of providers: one :class:`http1.Pool` per event loop."""

    def __init__(self, *, connections: int, max_bytes: int) -> None:
        self.connections = connections
        self.max_bytes = max_bytes
        self._pools: dict[asyncio.AbstractEventLoop, http1.Pool] = {}

    def _pool(self) -> http1.Pool:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = http1.Pool(limit=self.connections)
        return pool

    async def close(self) -> None:
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            pool.close()

    async def call(
        self, method: str, url: str, *, body: bytes | None, headers: Mapping[str, str], timeout_ms: int
    ) -> Answer:
        """The provider's answer, read whole but never more than ``max_bytes``, within
        ``timeout_ms`` in all (connect, headers and a slow trickle of body alike)."""
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                status, ctype, data = await self._pool().request(
                    method, url, headers=dict(headers), body=body, max_bytes=self.max_bytes
                )
                return Answer(status, ctype, data)
        except TimeoutError:
            raise UpstreamTimeout(
                "exchange.gateway.upstream_timeout",
                "提供方接口响应超时",
                "The provider's interface did not answer in time",
                detail=f"timeout {timeout_ms} ms",
            ) from None
        except http1.ResponseTooLarge:
            raise _too_large(self.max_bytes) from None
        except (http1.ProtocolFailure, OSError, ValueError, UnicodeError) as exc:
            raise UpstreamFailed(
                "exchange.gateway.upstream_unreachable",
                "无法连接提供方接口或其响应无效",
                "The provider's interface is unreachable or answered invalidly",
                detail=type(exc).__name__,
            ) from None


def _too_large(cap: int) -> UpstreamFailed:
    return UpstreamFailed(
        "exchange.gateway.upstream_too_large",
        "提供方接口的响应过大",
        "The provider's answer is too large",
        detail=f"limit {cap} bytes",
    )


def project(
    value: Any,
    *,
    granted: Collection[str],
    names: Mapping[str, str],
    depth: int = 0,
    subject_keys: Collection[str] = (),
    found: list[Any] | None = None,
) -> Any:
    """Keep only granted data items in a JSON answer.

    ``names`` maps every key that names a data item of the entry (its name, and its field code) to
    the item's name. In every object: a key naming a granted item keeps its value; a key naming any
    other item is dropped; other keys keep objects and arrays (projected in turn) and drop scalars,
    except the envelope keys (:data:`ENVELOPE`) at the top. What the catalog does not describe is
    thus never passed on as a value.

    With ``found``, the scalar values kept under one of ``subject_keys`` are appended to it in the
    same pass (a second walk over the result for them cost a tenth of a 10 KB call)."""
    if isinstance(value, list):
        return [
            project(v, granted=granted, names=names, depth=depth + 1, subject_keys=subject_keys, found=found)
            for v in value
        ]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for k, v in value.items():
        item = names.get(k)
        if item is not None:
            if item in granted:
                out[k] = v
                if found is not None:
                    if k in subject_keys and isinstance(v, (str, int)):
                        found.append(v)
                    elif isinstance(v, (dict, list)):
                        _subject_values(v, subject_keys, found)  # kept whole: its inside is delivered too
        elif isinstance(v, (dict, list)):
            out[k] = project(v, granted=granted, names=names, depth=depth + 1, subject_keys=subject_keys, found=found)
        elif depth == 0 and k in ENVELOPE:
            out[k] = v
    return out


def _subject_values(value: Any, keys: Collection[str], found: list[Any]) -> None:
    """Append every scalar under one of ``keys`` anywhere in ``value`` (a kept item's own value)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in keys and isinstance(v, (str, int)):
                found.append(v)
            elif isinstance(v, (dict, list)):
                _subject_values(v, keys, found)
    elif isinstance(value, list):
        for v in value:
            _subject_values(v, keys, found)
