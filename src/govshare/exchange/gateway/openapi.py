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


DOCUMENT = json.dumps(document(), ensure_ascii=False, separators=(",", ":")).encode()
