"""The mock provider of ``benchmarks/gateway.py`` (a module it starts as a process, no benchmark itself).

    python benchmarks/support/gateway_mock.py PORT

``/1k`` and ``/10k``: instant JSON answers of about 1 KB and 10 KB; ``/slow``: the 1 KB answer after
5 ms of service time, at most 5 at once (room for about 1,000 calls/s, the realistic exchange node of
issue 11 (a)).
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web


def body(size: int) -> bytes:
    rows, n = [], 0
    while True:
        rows.append(
            {
                "id_number": f"32050819900307{n:03d}X",
                "name": "张三",
                "income": 5200 + n,
                "region_code": "320508",
                "note": "x",
            }
        )
        data = json.dumps({"total": len(rows), "items": rows}, ensure_ascii=False).encode()
        if len(data) >= size:
            return data
        n += 1


def main() -> None:
    port = int(sys.argv[1])
    one, ten = body(1024), body(10 * 1024)
    gate = asyncio.Semaphore(5)

    async def small(_r: web.Request) -> web.Response:
        return web.Response(body=one, content_type="application/json")

    async def big(_r: web.Request) -> web.Response:
        return web.Response(body=ten, content_type="application/json")

    async def slow(_r: web.Request) -> web.Response:
        async with gate:
            await asyncio.sleep(0.005)
        return web.Response(body=one, content_type="application/json")

    app = web.Application()
    app.add_routes([web.get("/1k", small), web.get("/10k", big), web.get("/slow", slow)])
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
