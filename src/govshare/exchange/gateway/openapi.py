"""The OpenAPI 3.1 description of the gateway's paths, for integrators (``GET /exchange/v1/openapi.json``).

It describes the calls, headers and answers every resource shares; which data items a consumer may
ask for is its grant's business (the catalog entry lists the items, the grant the subset)."""

from __future__ import annotations

import json
from typing import Any

from govshare.core.errors import PROBLEM_SCHEMA

_HEADERS = [
    {
        "name": "X-API-Key",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "机关业务系统（机器客户端）的密钥 / the agency's machine client key",
    },
    {
        "name": "X-Govshare-Purpose",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "共享授权的用途，UTF-8 百分号编码 / the grant's purpose, percent-encoded UTF-8 (Art 17)",
    },
]
_CODE = {
    "name": "resource_code",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "目录资源代码 / catalog resource code",
}
_PROBLEM = {
    "description": "拒绝或失败（RFC 9457）/ refused or failed; 401 key, 403 grant (code, article), "
    "422 input, 502/504 provider, 503 record not durable",
    "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
}
_PAGE = {
    "type": "object",
    "properties": {
        "resource": {"type": "string"},
        "version": {"type": "integer"},
        "offset": {"type": "integer"},
        "limit": {"type": "integer"},
        "total": {"type": ["integer", "null"]},
        "returned": {"type": "integer"},
        "items": {"type": "array", "items": {"type": "object", "description": "授权信息项 / granted items only"}},
    },
}
_FILTER = {
    "type": "object",
    "required": ["item", "op", "value"],
    "properties": {"item": {"type": "string"}, "op": {"enum": ["eq", "ne", "lt", "le", "gt", "ge", "in"]}, "value": {}},
}


def _op(
    summary: str,
    *,
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    answer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": [_CODE, *_HEADERS, *(params or [])],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": answer or {}}}},
            "default": _PROBLEM,
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def document() -> dict[str, Any]:
    q = [
        {"name": "items", "in": "query", "schema": {"type": "string"}, "description": "逗号分隔的信息项"},
        {"name": "filter", "in": "query", "schema": {"type": "string"}, "description": "信息项:运算:值，可重复"},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "count", "in": "query", "schema": {"type": "boolean"}},
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "govshare exchange gateway",
            "version": "1",
            "description": "共享交换网关：按授权用途、信息项和行政区划提供数据，每次调用均记录 (Art 14-17, 32).",
        },
        "paths": {
            "/exchange/v1/{resource_code}": {
                "get": _op("托管数据集查询 / hosted dataset rows", params=q, answer=_PAGE)
            },
            "/exchange/v1/{resource_code}/query": {
                "post": _op(
                    "托管数据集查询（JSON）/ hosted query",
                    answer=_PAGE,
                    body={
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": {"type": "string"}},
                            "filters": {"type": "array", "items": _FILTER},
                            "offset": {"type": "integer"},
                            "limit": {"type": "integer"},
                            "count": {"type": "boolean"},
                        },
                    },
                )
            },
            "/exchange/v1/{resource_code}/verify": {
                "post": _op(
                    "核验 / verification: booleans only",
                    body={
                        "type": "object",
                        "required": ["key_item", "key_value", "claims"],
                        "properties": {"key_item": {"type": "string"}, "key_value": {}, "claims": {"type": "object"}},
                    },
                    answer={
                        "type": "object",
                        "properties": {
                            "found": {"type": "boolean"},
                            "matches": {"type": "object", "additionalProperties": {"type": "boolean"}},
                        },
                    },
                )
            },
            "/exchange/v1/{resource_code}/{path}": {
                "get": _op(
                    "代理接口 / proxied API: the provider's path, JSON projected to the granted items",
                    params=[{"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}],
                )
            },
        },
    }


def for_resource(
    resource_code: str,
    *,
    hosted: bool,
    items: list[str],
    verify_only: bool = False,
    provider_document: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The gateway's description narrowed to one resource and one grant: its own paths (the code
    filled in), the granted items named, and for a proxied API the provider's own paths as the
    gateway serves them (without the provider's servers: only the gateway is reachable)."""
    import copy

    base = document()
    prefix = f"/exchange/v1/{resource_code}"
    row = {"type": "object", "properties": {i: {} for i in items}, "additionalProperties": False}
    page = copy.deepcopy(_PAGE)
    page["properties"]["items"] = {"type": "array", "items": row}
    paths: dict[str, Any] = {}

    def narrowed(op: dict[str, Any]) -> dict[str, Any]:
        op = copy.deepcopy(op)
        op["parameters"] = [p for p in op["parameters"] if p.get("name") != "resource_code"]
        for p in op["parameters"]:
            if p.get("name") == "items":
                p["description"] = "逗号分隔的信息项，授权范围 / granted items: " + ",".join(items)
                p["example"] = ",".join(items)
        ok = op["responses"]["200"]["content"]["application/json"]
        if ok.get("schema") is _PAGE or ok.get("schema") == _PAGE:
            ok["schema"] = page
        return op

    generic = base["paths"]
    if verify_only:
        paths[prefix + "/verify"] = {"post": narrowed(generic["/exchange/v1/{resource_code}/verify"]["post"])}
    elif hosted:
        paths[prefix] = {"get": narrowed(generic["/exchange/v1/{resource_code}"]["get"])}
        paths[prefix + "/query"] = {"post": narrowed(generic["/exchange/v1/{resource_code}/query"]["post"])}
    else:
        proxied = generic["/exchange/v1/{resource_code}/{path}"]["get"]
        own = (provider_document or {}).get("paths")
        if isinstance(own, dict) and own:
            for path, ops in own.items():
                if not isinstance(ops, dict):
                    continue
                entry = {}
                for method, op in ops.items():
                    if method not in ("get", "post", "put", "patch", "delete") or not isinstance(op, dict):
                        continue
                    mine = narrowed(proxied)
                    mine["parameters"] = [p for p in mine["parameters"] if p.get("name") != "path"]
                    mine["parameters"] += [p for p in op.get("parameters", []) if isinstance(p, dict)]
                    mine["summary"] = str(op.get("summary") or proxied["summary"])
                    if "requestBody" in op:
                        mine["requestBody"] = op["requestBody"]
                    entry[method] = mine
                if entry:
                    paths[prefix + "/" + str(path).lstrip("/")] = entry
        if not paths:
            paths[prefix + "/{path}"] = {"get": narrowed(proxied)}
    base["info"]["title"] = f"govshare exchange gateway · {resource_code}"
    base["paths"] = paths
    return base


DOCUMENT = json.dumps(document(), ensure_ascii=False, separators=(",", ":")).encode()
