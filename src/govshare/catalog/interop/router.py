"""HTTP endpoints of the interoperability exports.

* ``router``: ``GET /api/v1/catalog/dcat``, the DCAT-AP 3 export (JSON-LD by default; Turtle,
  RDF/XML or N-Triples by ``Accept`` or ``?format=``). Include it before the catalog router, whose
  ``/api/v1/catalog/{ref}`` would otherwise take ``dcat`` for a resource code.
* ``ckan_router``: the read-only CKAN Action API under ``/api/3/action/`` (and CKAN's unversioned
  alias ``/api/action/``, which ``ckanapi.RemoteCKAN`` calls), GET or POST with a JSON body.

Everything here is public: the exports show the public catalog only, whoever asks.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from govshare.catalog.interop import ckan, dcat
from govshare.catalog.interop.common import Urls
from govshare.core.auth import Anyone
from govshare.core.db import SessionDep
from govshare.core.errors import DomainError, InvalidInput

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog interoperability"])
ckan_router = APIRouter(tags=["CKAN-compatible API"])

#: The largest action body accepted (CKAN's searches are a few hundred bytes).
MAX_BODY = 64 * 1024


class NotAcceptable(DomainError):
    status = 406


# --- DCAT-AP ------------------------------------------------------------------------------------


@router.get(
    "/dcat",
    summary="DCAT-AP 3 目录导出 / DCAT-AP 3 export of the public catalog",
    response_class=Response,
    responses={
        200: {
            "description": "DCAT-AP 3.0.1 graph of the public catalog (Art 9(2))",
            "content": {
                m: {} for m in ("application/ld+json", "text/turtle", "application/rdf+xml", "application/n-triples")
            },
        }
    },
)
def dcat_export(
    request: Request,
    session: SessionDep,
    _viewer: Anyone,
    format: Annotated[
        str | None,
        Query(
            description="jsonld | ttl | rdf | nt（优先于 Accept）", pattern="^(jsonld|json-ld|ttl|turtle|rdf|xml|nt)$"
        ),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000, description="页码（每页 200 个数据集）/ page, 200 datasets each")] = 1,
) -> Response:
    media = dcat.FORMAT_PARAMS[format] if format else dcat.negotiate(request.headers.get("accept"))
    if media is None:
        raise NotAcceptable(
            "catalog.dcat.not_acceptable",
            "不支持请求的格式",
            "None of the requested media types is available",
            detail="可用 / available: application/ld+json, text/turtle, application/rdf+xml, application/n-triples",
            field="Accept",
        )
    graph = dcat.build_graph(session, Urls.of(str(request.base_url)), page=page, page_size=dcat.PAGE_SIZE)
    body, sent = dcat.serialize(graph, media)
    return Response(body, media_type=sent, headers={"Vary": "Accept"})


# --- CKAN Action API ----------------------------------------------------------------------------


@dataclasses.dataclass
class ActionInput:
    values: dict[str, Any]
    error: ckan.CkanError | None = None


async def action_input(request: Request) -> ActionInput:
    """The action's parameters: the query string, and for POST a JSON (or form) body on top."""
    values: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in values:
            prev = values[key]
            values[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            values[key] = value
    if request.method != "POST":
        return ActionInput(values)
    body = await request.body()
    if len(body) > MAX_BODY:
        return ActionInput(values, ckan.bad_request(f"request body larger than {MAX_BODY} bytes"))
    if not body.strip():
        return ActionInput(values)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        try:
            values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return ActionInput(values, ckan.bad_request("the form is not UTF-8"))
        return ActionInput(values)
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        return ActionInput(values, ckan.bad_request(f"JSON Error: {exc}"))
    if not isinstance(decoded, dict):
        return ActionInput(values, ckan.bad_request("JSON Error: request data must be a JSON object"))
    values.update(decoded)
    return ActionInput(values)


Input = Annotated[ActionInput, Depends(action_input)]


def _answer(request: Request, name: str, *, result: Any = None, error: ckan.CkanError | None = None) -> JSONResponse:
    urls = Urls.of(str(request.base_url))
    body: dict[str, Any] = {"help": f"{urls.ckan_action('help_show')}?name={name}"}
    if error is None:
        body.update(success=True, result=result)
        return JSONResponse(body)
    body.update(success=False, error=error.body())
    return JSONResponse(body, status_code=error.status)


def _run(name: str, request: Request, session: Any, data: ActionInput) -> JSONResponse:
    if data.error is not None:
        return _answer(request, name, error=data.error)
    try:
        result = ckan.ACTIONS[name](session, data.values, Urls.of(str(request.base_url)))
    except ckan.CkanError as exc:
        return _answer(request, name, error=exc)
    except InvalidInput as exc:  # e.g. NUL characters refused by the database guard
        return _answer(request, name, error=ckan.invalid(**{exc.field or "input": exc.title_en}))
    return _answer(request, name, result=result)


def _endpoint(name: str) -> Any:
    def endpoint(request: Request, session: SessionDep, _viewer: Anyone, data: Input) -> JSONResponse:
        return _run(name, request, session, data)

    endpoint.__name__ = f"ckan_{name}"
    endpoint.__doc__ = ckan.ACTIONS[name].__doc__
    return endpoint


#: CKAN's envelope, in place of problem+json, for every answer of an action (errors included).
_CKAN_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {
        "description": "CKAN 格式的应答 / CKAN's envelope: success, result or error",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["help", "success"],
                    "properties": {
                        "help": {"type": "string"},
                        "success": {"type": "boolean"},
                        "result": {},
                        "error": {
                            "type": "object",
                            "required": ["__type"],
                            "properties": {"__type": {"type": "string"}},
                        },
                    },
                }
            }
        },
    },
}

for _prefix, _documented in (("/api/3/action", True), ("/api/action", False)):
    for _name in ckan.ACTIONS:
        for _method in ("GET", "POST"):
            ckan_router.add_api_route(
                f"{_prefix}/{_name}",
                _endpoint(_name),
                methods=[_method],
                response_class=JSONResponse,
                responses=_CKAN_RESPONSES,
                name=f"ckan_{_name}_{_method.lower()}" + ("" if _documented else "_unversioned"),
                include_in_schema=_documented,
                summary=f"CKAN {_name}",
            )


def _unknown(name: str, request: Request, session: SessionDep, _viewer: Anyone) -> JSONResponse:
    return _answer(request, name[:100], error=ckan.bad_request(f"Action name not known: {name[:100]}"))


for _prefix in ("/api/3/action", "/api/action"):
    ckan_router.add_api_route(
        f"{_prefix}/{{name}}",
        _unknown,
        methods=["GET", "POST"],
        include_in_schema=False,
        name="ckan_unknown_action" + ("" if _prefix.startswith("/api/3") else "_unversioned"),
    )


@ckan_router.get("/api/3", summary="CKAN API version", include_in_schema=False)
def ckan_version(_viewer: Anyone) -> dict[str, int]:
    return {"version": ckan.API_VERSION}
