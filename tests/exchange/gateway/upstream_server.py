"""A small provider exchange node for the proxied-API tests: a real HTTP server on a free port
(uvicorn, in a thread), answering JSON, garbage, slow, huge and failing answers on purpose."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

PEOPLE = [
    {"id_number": "32050819900307001X", "name": "张三", "income": 5200, "note": "not in the catalog"},
    {"id_number": "320508198811110026", "name": "李四", "income": 4100, "note": "not in the catalog"},
]


class Provider:
    """Raw ASGI app. ``seen`` keeps the headers and paths of the calls it got."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append(
            {
                "path": path,
                "headers": headers,
                "query": scope["query_string"].decode(),
                "body": body,
                "client": tuple(scope.get("client") or ()),
            }
        )
        qs = parse_qs(scope["query_string"].decode())

        async def answer(status: int, payload: bytes, ctype: bytes = b"application/json") -> None:
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(payload)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": payload})

        if path == "/persons":
            wanted = qs.get("id_number", [None])[0]
            rows = [p for p in PEOPLE if wanted in (None, p["id_number"])]
            await answer(
                200, json.dumps({"total": len(rows), "secret_total": 99, "items": rows}, ensure_ascii=False).encode()
            )
        elif path == "/person":
            await answer(200, json.dumps(PEOPLE[0], ensure_ascii=False).encode())
        elif path == "/lookup":
            claims = json.loads(body)["claims"]
            person = next((p for p in PEOPLE if p["id_number"] == json.loads(body)["key_value"]), None)
            matches = {k: person is not None and person.get(_FIELD.get(k, k)) == v for k, v in claims.items()}
            await answer(
                200,
                json.dumps(
                    {"found": person is not None, "matches": matches, "record": person}, ensure_ascii=False
                ).encode(),
            )
        elif path == "/slow":
            await asyncio.sleep(3)
            await answer(200, b"{}")
        elif path == "/trickle":
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            for _ in range(30):
                await send({"type": "http.response.body", "body": b" ", "more_body": True})
                await asyncio.sleep(0.1)
            await send({"type": "http.response.body", "body": b"{}"})
        elif path == "/huge":
            await answer(200, b"[" + b"1," * 200_000 + b"1]")
        elif path == "/garbage":
            await answer(200, b"{not json")
        elif path == "/text":
            await answer(200, "张三 5200".encode(), b"text/plain; charset=utf-8")
        elif path == "/fail":
            await answer(500, b"boom", b"text/plain")
        elif path == "/missing":
            await answer(404, b'{"error": "no such person"}')
        else:
            await answer(404, b"{}")


#: Catalog item name -> the provider's key (the entry's field codes are the provider's keys here).
_FIELD = {"公民身份号码": "id_number", "姓名": "name"}
