"""The exchange gateway: a lean ASGI app of its own (no sessions, CSRF or page middleware on
the hot path), mounted at ``/exchange/v1`` by ``create_app`` and runnable alone
(``govshare gateway serve``).

A call: ``<METHOD> /exchange/v1/{resource_code}[/...]`` with ``X-API-Key`` (an agency's machine
client) and ``X-Govshare-Purpose`` (percent-encoded UTF-8). The gateway finds the client, the
resource's interface and the grant for the client's agency from its cache (no ORM load per call),
applies the grant rules (:mod:`.rules`), then

* hosted dataset, ``GET /{code}`` or ``POST /{code}/query``: one page of rows through
  ``exchange.query``: the granted items only (projection), the granted regions' rows only (row
  scope, Art 14(2)), filters on granted items, paging, a row count;
* proxied API, ``/{code}/{path}``: forwarded to the provider's node over a pooled keep-alive
  connection, its JSON answer projected to the granted items;
* ``POST /{code}/verify`` (核验): match / no match per claimed item, never a value.

Every call, allowed or refused, is recorded (:mod:`.recorder`) and answered only after its record
is committed; a call whose record cannot be committed is answered 503 and delivers nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from govshare.core import clock
from govshare.core.errors import (
    PROBLEM_JSON,
    DatabaseUnavailable,
    DomainError,
    InvalidInput,
    NotFound,
    Unauthenticated,
    database_unreachable,
    preferred_language,
)
from govshare.core.http import security_headers
from govshare.exchange import query
from govshare.exchange.config import get_exchange_settings
from govshare.exchange.gateway import openapi, rules
from govshare.exchange.gateway.cache import ClientView, GatewayCache, GrantLoader, ResourceView, sharing_grants
from govshare.exchange.gateway.recorder import CallRecord, SubjectHasher
from govshare.exchange.gateway.upstream import Upstream, UpstreamFailed, project
from govshare.exchange.gateway.writer import make_recorder
from govshare.exchange.rules import ID_NUMBER, USCC

log = logging.getLogger("govshare.exchange.gateway")

PREFIX = "/exchange/v1"
SWITCH_INTERVAL = 0.0005
#: Largest request body (filters, claims, a proxied POST).
MAX_BODY = 1024 * 1024
SUBJECT_CODES = frozenset({ID_NUMBER, USCC})
_JSON = b"application/json"
_HEADERS = security_headers(hsts=False)


class _Done(Exception):
    """Internal: the answer is ready."""


def _dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of a projected answer: orjson (the dump was 5 % of a proxied call's time
    under load with ``json.dumps``), the standard library for integers beyond 64 bits, which
    orjson refuses. Parsing stays with ``json.loads``: orjson reads such integers as floats
    without a word, and a provider's long number must reach the consumer exactly."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def subject_key() -> bytes:
    """The HMAC key of subject digests: the setting, else derived from the platform's secret key."""
    settings = get_exchange_settings()
    if settings.gateway_subject_key:
        return settings.gateway_subject_key.encode("utf-8")
    import hmac

    from govshare.portal.web import secret_key

    return hmac.new(secret_key(), b"govshare-exchange-subject-digest", hashlib.sha256).digest()


class Gateway:
    """The ASGI app. One instance per process (``create_app`` and ``govshare gateway serve`` make it)."""

    def __init__(self, *, grant_loader: GrantLoader = sharing_grants) -> None:
        s = get_exchange_settings()
        self.cache = GatewayCache(interval=s.gateway_cache_seconds, grant_loader=grant_loader)
        self.recorder = make_recorder(
            s.gateway_recorder_socket, max_batch=s.gateway_batch_max, max_wait=s.gateway_batch_wait_ms / 1000
        )
        self.upstream = Upstream(connections=s.gateway_upstream_connections, max_bytes=s.gateway_upstream_max_bytes)
        self.default_timeout_ms = s.gateway_upstream_timeout_ms
        self.secrecy_network = s.gateway_secrecy_network
        self.query_threads = max(2, s.duckdb_threads * 2)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._subject_key: bytes | None = None
        self._hasher: SubjectHasher | None = None

    @property
    def key(self) -> bytes:
        if self._subject_key is None:
            self._subject_key = subject_key()
        return self._subject_key

    def subjects(self, values: Any) -> list[str]:
        """HMAC digests of subject keys (never the keys) for the call record."""
        if self._hasher is None:
            self._hasher = SubjectHasher(self.key)
        return self._hasher.digests(values)

    # --- Lifecycle --------------------------------------------------------------------------------

    @property
    def executor(self) -> concurrent.futures.ThreadPoolExecutor:
        """Threads of hosted-dataset queries (DuckDB releases the GIL while it scans)."""
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.query_threads, thread_name_prefix="govshare-gateway-query"
            )
        return self._executor

    def start(self) -> None:
        # The recorder's thread makes a dozen small steps per group between database round trips,
        # each needing the GIL back from the event loop; at the default 5 ms switch interval a
        # group waited ~100 ms in such handovers under load. 0.5 ms measured far better.
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)
        self.recorder.start()

    async def stop(self) -> None:
        await self.upstream.close()
        await asyncio.to_thread(self.recorder.stop)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope.get("method") == "GET" and scope.get("path", "").endswith(PREFIX + "/openapi.json"):
            status, ctype, body, extra = 200, _JSON, openapi.DOCUMENT, []  # documentation, no data: public
        else:
            status, ctype, body, extra = await self.handle(scope, receive)
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()), *extra, *_HEADERS]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # --- RSGI (granian's native interface) ------------------------------------------------------------
    #
    # ``govshare gateway serve --server granian`` runs the same app through RSGI: granian parses and
    # writes HTTP in Rust and hands over one call as one object, not the ASGI message dicts; the call
    # itself goes through the same ``handle`` as under uvicorn.

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.start()

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        with contextlib.suppress(Exception):
            loop.run_until_complete(self.stop())

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in scope.headers.items()]
        asgi_scope = {
            "type": "http",
            "method": scope.method,
            "path": scope.path,
            "query_string": scope.query_string.encode("latin-1"),
            "headers": headers,
        }
        if scope.method == "GET" and scope.path.endswith(PREFIX + "/openapi.json"):
            status, ctype, body, extra = 200, _JSON, openapi.DOCUMENT, []
        else:
            length = scope.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > MAX_BODY:
                status, ctype, body, extra = await self.handle(asgi_scope, _too_large_body)
            else:
                status, ctype, body, extra = await self.handle(asgi_scope, _rsgi_receive(protocol))
        out = [("content-type", ctype.decode("latin-1")), *((k.decode(), v.decode()) for k, v in extra)]
        out += [(k.decode(), v.decode()) for k, v in _HEADERS]
        protocol.response_bytes(status, out, body)

    # --- One call ---------------------------------------------------------------------------------

    async def handle(
        self, scope: dict[str, Any], receive: Callable[..., Any]
    ) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        started = time.perf_counter()
        if not self.recorder.running:
            self.recorder.start()
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path.startswith(PREFIX):
            path = path[len(PREFIX) :]
        code, _, rest = path.strip("/").partition("/")
        headers: dict[bytes, bytes] = {}
        for k, v in scope.get("headers", ()):
            headers[k.lower()] = v
        lang = preferred_language(headers.get(b"accept-language", b"").decode("latin-1"))
        rec = CallRecord(resource_code=code, mode=rules.QUERY, outcome="allowed", status=200, latency_ms=0.0, sha256="")
        status, ctype, body = 200, _JSON, b""
        try:
            body = await self._serve(scope, receive, headers, code, rest, rec)
        except DomainError as exc:
            status, ctype = exc.status, PROBLEM_JSON.encode()
            body = json.dumps(exc.problem(lang), ensure_ascii=False, separators=(",", ":")).encode()
            rec.outcome = "refused" if exc.status in (401, 403) else "failed"
            rec.code, rec.article, rec.rows = exc.code, exc.article, 0
        except Exception as exc:
            if database_unreachable(exc):
                return self._unavailable(lang)
            log.exception("gateway call failed")
            status, ctype = 500, PROBLEM_JSON.encode()
            body = json.dumps(
                {"type": "about:blank", "title": "Internal Server Error", "status": 500, "code": "internal_error"}
            ).encode()
            rec.outcome, rec.code, rec.rows = "failed", "internal_error", 0
        rec.status = status
        rec.bytes = len(body)
        rec.sha256 = _sha256(body)
        rec.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        try:
            await self.recorder.record(rec)
        except Exception as exc:
            log.warning("call answered 503: its record was not committed (%s)", type(exc).__name__)
            return self._unavailable(lang)
        return status, ctype, body, [(b"x-govshare-event", str(rec.event_seq).encode())]

    @staticmethod
    def _unavailable(lang: str) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        err = DatabaseUnavailable()
        body = json.dumps(err.problem(lang), ensure_ascii=False, separators=(",", ":")).encode()
        return 503, PROBLEM_JSON.encode(), body, [(b"retry-after", b"5")]

    async def _serve(
        self,
        scope: dict[str, Any],
        receive: Callable[..., Any],
        headers: dict[bytes, bytes],
        code: str,
        rest: str,
        rec: CallRecord,
    ) -> bytes:
        snap = await self.cache.current()
        key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
        client = snap.clients.get(hashlib.sha256(key.encode()).hexdigest()) if key else None
        if client is None:
            raise Unauthenticated(
                "auth.invalid_token",
                "客户端密钥无效或已吊销（X-API-Key）",
                "Invalid or revoked client key (X-API-Key)",
                field="X-API-Key",
            )
        self._who(rec, client)
        resource = snap.resources.get(code)
        if resource is None:
            raise NotFound(
                "exchange.gateway.no_interface",
                f"资源 {code} 不存在或没有可用的数据接口",
                f"Resource {code} does not exist or has no interface to call",
                field="resource_code",
                article="Art 15",
            )
        rec.resource_id, rec.provider_id = resource.id, resource.provider_id
        method = scope.get("method", "GET")
        if rest == "verify" and method == "POST":
            rec.mode = rules.VERIFY
        elif resource.kind == "hosted_dataset":
            if rest not in ("", "query") or (rest == "query") != (method == "POST") or method not in ("GET", "POST"):
                raise NotFound(
                    "exchange.gateway.route_not_found",
                    "托管数据集只支持 GET /{资源代码}、POST 查询和核验",
                    "Hosted datasets answer GET /{code}, POST /{code}/query and POST /{code}/verify",
                    field="path",
                )
            rec.mode = rules.QUERY
        else:
            rec.mode = rules.PROXY
        raw_purpose = headers.get(b"x-govshare-purpose", b"").decode("latin-1")
        purpose = _purpose(raw_purpose)
        rec.purpose = purpose or None
        secrecy = self.secrecy_network if resource.kind == "hosted_dataset" else resource.secrecy_network
        grant = rules.choose_grant(
            snap.grants.get((client.agency_id, code), ()),
            purpose=purpose,
            today=clock.today(),
            mode=rec.mode,
            security_classification=resource.security_classification,
            secrecy_channel=secrecy,
        )
        rec.grant_id = grant.id
        body = await _read_body(receive)
        if rec.mode == rules.VERIFY:
            return await self._verify(resource, grant, body, rec, scope, headers, raw_purpose)
        if rec.mode == rules.QUERY:
            return await self._query(resource, grant, scope, body, rec)
        return await self._proxy(resource, grant, scope, headers, body, rest, rec, raw_purpose)

    @staticmethod
    def _who(rec: CallRecord, client: ClientView) -> None:
        rec.client_id, rec.client_name = client.id, client.name
        rec.consumer_id, rec.consumer_code = client.agency_id, client.agency_code
        rec.consumer_region = client.region_code

    def _subject_items(self, resource: ResourceView) -> set[str]:
        keys = {n for n, c in resource.items.items() if c in SUBJECT_CODES}
        keys |= {c for c in resource.items.values() if c in SUBJECT_CODES}
        return keys

    # --- Hosted datasets ----------------------------------------------------------------------------

    async def _query(
        self, resource: ResourceView, grant: rules.GrantView, scope: dict[str, Any], body: bytes, rec: CallRecord
    ) -> bytes:
        assert resource.source is not None
        source = resource.source
        if scope.get("method") == "POST":
            spec = _json_object(body)
            items = spec.get("items")
            raw_filters = spec.get("filters") or []
            if not isinstance(raw_filters, list) or not all(isinstance(f, dict) for f in raw_filters):
                raise InvalidInput(
                    "exchange.gateway.filters_invalid",
                    "filters 须为对象列表",
                    "filters must be a list of objects",
                    field="filters",
                )
            filters = [
                query.Filter(str(f.get("item", "")), str(f.get("op", "eq")), f.get("value")) for f in raw_filters
            ]
            offset, limit, count = spec.get("offset", 0), spec.get("limit", 50), spec.get("count", True)
        else:
            items, filters, offset, limit, count = _query_string(scope.get("query_string", b""))
        if items is not None and (not isinstance(items, list) or not all(isinstance(i, str) for i in items)):
            raise InvalidInput(
                "exchange.gateway.items_invalid",
                "items 须为信息项名称列表",
                "items must be a list of item names",
                field="items",
            )
        offset, limit = _int(offset, "offset"), _int(limit, "limit")
        granted = grant.items

        def run() -> query.HostedPage:
            return query.query_hosted(
                source,
                items=items,
                region_codes=grant.scope,
                filters=filters,
                allowed=granted,
                offset=offset,
                limit=limit,
                count=bool(count),
            )

        page = await asyncio.get_running_loop().run_in_executor(self.executor, run)
        subject_items = [n for n in (page.rows[0] if page.rows else {}) if source.items[n].field_code in SUBJECT_CODES]
        asked = [
            f.value for f in filters if f.item in source.items and source.items[f.item].field_code in SUBJECT_CODES
        ]
        flat = [v for a in asked for v in (a if isinstance(a, list) else [a])]
        rec.subjects = self.subjects([*flat, *(r[n] for r in page.rows for n in subject_items)])
        rec.rows = len(page.rows)
        head = json.dumps(
            {
                "resource": resource.code,
                "version": page.version,
                "offset": page.offset,
                "limit": page.limit,
                "total": page.total,
                "returned": len(page.rows),
            },
            separators=(",", ":"),
        ).encode()
        return head[:-1] + b',"items":' + query.rows_as_json(page.rows) + b"}"

    # --- Verification (核验) -------------------------------------------------------------------------

    async def _verify(
        self,
        resource: ResourceView,
        grant: rules.GrantView,
        body: bytes,
        rec: CallRecord,
        scope: dict[str, Any],
        headers: dict[bytes, bytes],
        raw_purpose: str,
    ) -> bytes:
        spec = _json_object(body)
        key_item, key_value, claims = spec.get("key_item"), spec.get("key_value"), spec.get("claims")
        if not isinstance(key_item, str) or not isinstance(claims, dict) or key_value is None:
            raise InvalidInput(
                "exchange.gateway.verify_invalid",
                "核验请求须含 key_item、key_value 和 claims 对象",
                "A verification needs key_item, key_value and a claims object",
                field="claims",
            )
        subject_items = self._subject_items(resource)
        values = [key_value] if key_item in subject_items else []
        values += [v for k, v in claims.items() if k in subject_items]
        rec.subjects = self.subjects(values)
        rec.rows = 0  # no record is disclosed
        if resource.source is not None:
            source = resource.source

            def run() -> query.Verification:
                return query.verify_hosted(
                    source,
                    key_item=key_item,
                    key_value=key_value,
                    claims=claims,
                    region_codes=grant.scope,
                    allowed=grant.items,
                )

            result = await asyncio.get_running_loop().run_in_executor(self.executor, run)
            return json.dumps(result.as_dict(), ensure_ascii=False, separators=(",", ":")).encode()
        if not resource.lookup_path or not resource.base_url:
            raise NotFound(
                "exchange.gateway.no_lookup",
                "提供方接口未声明核验查询",
                "The provider declares no lookup for verification",
                field="path",
                article="Art 15",
            )
        refused = [k for k in [key_item, *claims] if k not in grant.items]
        if refused:
            raise InvalidInput(
                "exchange.query.item_not_allowed",
                "请求的信息项未获授权：" + "、".join(refused),
                "data items not granted: " + ", ".join(refused),
                field="claims",
                article="Art 17",
            )
        answer = await self.upstream.call(
            "POST",
            resource.base_url + "/" + resource.lookup_path.lstrip("/"),
            body=body,
            headers=self._forward_headers(headers, grant, rec, raw_purpose, b"application/json"),
            timeout_ms=resource.timeout_ms or self.default_timeout_ms,
        )
        if answer.status >= 400:
            raise _upstream_status(answer.status)
        try:
            got = json.loads(answer.body)
        except ValueError:
            raise _garbage() from None
        got = got if isinstance(got, dict) else {}
        matches = got.get("matches") if isinstance(got.get("matches"), dict) else {}
        # Booleans only, and only for the items asked: whatever else the provider sent stays out.
        out = {"found": got.get("found") is True, "matches": {k: matches.get(k) is True for k in claims}}
        return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()

    # --- Proxied APIs --------------------------------------------------------------------------------

    def _forward_headers(
        self,
        headers: dict[bytes, bytes],
        grant: rules.GrantView,
        rec: CallRecord,
        raw_purpose: str,
        content_type: bytes | None,
    ) -> dict[str, str]:
        out = {
            "X-Govshare-Consumer": rec.consumer_code or "",
            "X-Govshare-Grant": str(grant.id),
            "X-Govshare-Purpose": raw_purpose,
            "Accept": headers.get(b"accept", b"application/json").decode("latin-1"),
        }
        ctype = content_type or headers.get(b"content-type")
        if ctype:
            out["Content-Type"] = ctype.decode("latin-1")
        return out

    async def _proxy(
        self,
        resource: ResourceView,
        grant: rules.GrantView,
        scope: dict[str, Any],
        headers: dict[bytes, bytes],
        body: bytes,
        rest: str,
        rec: CallRecord,
        raw_purpose: str,
    ) -> bytes:
        if not resource.base_url:
            raise NotFound(
                "exchange.gateway.no_interface",
                "提供方接口未配置地址",
                "The provider's interface has no address",
                field="resource_code",
                article="Art 15",
            )
        qs = scope.get("query_string", b"").decode("latin-1")
        url = resource.base_url + "/" + rest + ("?" + qs if qs else "")
        answer = await self.upstream.call(
            scope.get("method", "GET"),
            url,
            body=body or None,
            headers=self._forward_headers(headers, grant, rec, raw_purpose, None),
            timeout_ms=resource.timeout_ms or self.default_timeout_ms,
        )
        if answer.status >= 500:
            raise _upstream_status(answer.status)
        names: dict[str, str] = {}
        for name, fcode in resource.items.items():
            names[name] = name
            if fcode:
                names.setdefault(fcode, name)
        subject_keys = {k for k, n in names.items() if resource.items.get(n) in SUBJECT_CODES}
        asked = [v for k, v in parse_qsl(qs) if k in subject_keys and names[k] in grant.items]
        if "json" not in answer.content_type.lower():
            if set(resource.items) <= grant.items:  # nothing to take out
                rec.subjects = self.subjects(asked)
                rec.rows = 1 if answer.body else 0
                if answer.status >= 400:
                    raise _upstream_status(answer.status)
                return answer.body
            raise UpstreamFailed(
                "exchange.gateway.upstream_not_json",
                "提供方接口的响应不是 JSON，无法按授权信息项过滤",
                "The provider's answer is not JSON and cannot be limited to the granted items",
            )
        try:
            data = json.loads(answer.body)
        except ValueError:
            raise _garbage() from None
        found: list[Any] = []
        projected = project(data, granted=grant.items, names=names, subject_keys=subject_keys, found=found)
        rec.subjects = self.subjects([*asked, *found])
        rec.rows = _row_count(projected)
        if answer.status >= 400:
            raise _upstream_status(answer.status)
        return _dumps(projected)


# --- Helpers ---------------------------------------------------------------------------------------


#: Decoded purposes by their header: a client sends the same few purposes call after call, and
#: percent-decoding each was 2 % of a proxied call's time. Bounded: cleared when full.
_PURPOSES: dict[str, str] = {}
_PURPOSES_MAX = 4096


def _purpose(raw: str) -> str:
    purpose = _PURPOSES.get(raw)
    if purpose is not None:
        return purpose
    try:
        purpose = unquote(raw, errors="strict").strip()
    except UnicodeDecodeError:
        raise InvalidInput(
            "exchange.gateway.purpose_encoding",
            "X-Govshare-Purpose 须为百分号编码的 UTF-8",
            "X-Govshare-Purpose must be percent-encoded UTF-8",
            field="X-Govshare-Purpose",
        ) from None
    if len(_PURPOSES) >= _PURPOSES_MAX:
        _PURPOSES.clear()
    _PURPOSES[raw] = purpose
    return purpose


async def _read_body(receive: Callable[..., Any]) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise InvalidInput(
                "request.too_large",
                f"请求体不能超过 {MAX_BODY} 字节",
                f"The request body must not exceed {MAX_BODY} bytes",
                field="body",
                status=413,
            )
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _rsgi_receive(protocol: Any) -> Callable[[], Any]:
    """An ASGI ``receive`` over an RSGI protocol: the whole body as one message."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": await protocol(), "more_body": False}

    return receive


async def _too_large_body() -> dict[str, Any]:
    """What ``receive`` gives when the declared length is already too large: one oversized chunk's
    worth, so ``_read_body`` refuses it (413) without the body being read."""
    return {"type": "http.request", "body": b"\0" * (MAX_BODY + 1), "more_body": False}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body) if body else {}
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidInput(
            "exchange.gateway.body_invalid", "请求体须为 JSON 对象", "The body must be a JSON object", field="body"
        )
    return value


def _int(value: Any, field: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            "exchange.gateway.number_invalid", f"{field} 须为整数", f"{field} must be an integer", field=field
        ) from None


def _query_string(qs: bytes) -> tuple[list[str] | None, list[query.Filter], Any, Any, bool]:
    """``items=a,b&filter=item:op:value&offset=0&limit=50&count=false`` (``in`` values comma-separated)."""
    items: list[str] | None = None
    filters: list[query.Filter] = []
    offset: Any = 0
    limit: Any = 50
    count = True
    try:
        pairs = parse_qsl(qs.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput(
            "exchange.gateway.query_encoding", "查询参数须为 UTF-8", "Query parameters must be UTF-8", field="query"
        ) from None
    for k, v in pairs:
        if k == "items":
            items = [i.strip() for i in v.split(",") if i.strip()]
        elif k == "filter":
            item, sep, tail = v.partition(":")
            op, sep2, value = tail.partition(":")
            if not sep or not sep2:
                raise InvalidInput(
                    "exchange.gateway.filter_invalid",
                    "筛选条件格式应为 信息项:运算:值",
                    "A filter reads item:op:value",
                    field="filter",
                )
            filters.append(query.Filter(item, op, value.split(",") if op == "in" else value))
        elif k == "offset":
            offset = v
        elif k == "limit":
            limit = v
        elif k == "count":
            count = v.lower() not in ("false", "0", "no")
    return items, filters, offset, limit, count


def _row_count(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        for v in value.values():
            if isinstance(v, list):
                return len(v)
        return 1 if value else 0
    return 0


def _upstream_status(status: int) -> UpstreamFailed:
    if status < 500:
        return UpstreamFailed(
            "exchange.gateway.upstream_refused",
            f"提供方接口拒绝了请求（{status}）",
            f"The provider's interface refused the call ({status})",
            status=status,
        )
    return UpstreamFailed(
        "exchange.gateway.upstream_error", f"提供方接口出错（{status}）", f"The provider's interface failed ({status})"
    )


def _garbage() -> UpstreamFailed:
    return UpstreamFailed(
        "exchange.gateway.upstream_garbage",
        "提供方接口返回了无效的 JSON",
        "The provider's interface answered with invalid JSON",
    )


_gateway: Gateway | None = None


def get_gateway() -> Gateway:
    """The process's gateway (made on first use)."""
    global _gateway
    if _gateway is None:
        _gateway = Gateway()
    return _gateway


def create_gateway_app() -> Gateway:
    """A fresh gateway (``govshare gateway serve`` factory; ``create_app`` mounts one)."""
    return Gateway()
