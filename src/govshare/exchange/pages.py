"""Exchange pages (Art 14(3), 17, 32): the gateway's usage with charts, who uses a provider's data
and for what purpose, a consumer's grants, calls and errors, and the integrator's page of a grant
(a ready ``curl`` line and the OpenAPI of the resource's gateway path).

Numbers come from ``exchange.service.usage``, the same functions as ``GET /api/v1/exchange/usage``,
with the same scope: an agency's staff see the calls their agency made or served, the authority and
supervisors of a region the calls of its consumer agencies. Charts are pygal SVGs served on their
own (``portal.charts`` says why), each with a table of the same numbers on the page.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.catalog.models import CatalogResource
from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.db import SessionDep
from govshare.core.errors import NotFound
from govshare.exchange import permissions as perm
from govshare.exchange import service
from govshare.exchange.gateway import openapi
from govshare.exchange.gateway.examples import KEY_PLACEHOLDER, curl_line
from govshare.exchange.permissions import Reader
from govshare.exchange.service import usage as usage_service
from govshare.portal import charts, i18n
from govshare.portal.i18n import N_
from govshare.portal.web import local_time, render, translator
from govshare.registry.models import Agency
from govshare.sharing import permissions as sharing_perm
from govshare.sharing.service import grants as grant_service

router = APIRouter(include_in_schema=False)

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Group = Annotated[str, Query(max_length=16)]
Period = Annotated[str, Query(max_length=8)]

#: What the overview can be grouped by, in the order of its menu.
GROUP_LABELS: dict[str, str] = {
    "resource": N_("按资源"),
    "grant": N_("按授权"),
    "consumer": N_("按使用单位"),
    "provider": N_("按提供单位"),
    "purpose": N_("按用途"),
    "outcome": N_("按结果"),
}
PERIOD_LABELS = {"day": N_("按日"), "month": N_("按月")}
OUTCOMES = {"allowed": N_("允许"), "refused": N_("被拒绝"), "failed": N_("失败")}
#: Why a call was refused or failed, by the gateway's code (the page shows the code as well).
REASONS: dict[str, str] = {
    "exchange.gateway.purpose_required": N_("未声明用途"),
    "exchange.gateway.no_grant": N_("本机关没有该资源的共享授权"),
    "exchange.gateway.purpose_mismatch": N_("声明的用途与授权用途不符"),
    "exchange.gateway.grant_revoked": N_("共享授权已撤销"),
    "exchange.gateway.grant_not_signed": N_("共享授权尚待签署"),
    "exchange.gateway.grant_not_started": N_("共享授权尚未生效"),
    "exchange.gateway.grant_expired": N_("共享授权已过期"),
    "exchange.gateway.channel_off_platform": N_("该授权约定在平台外共享"),
    "exchange.gateway.channel_not_secret": N_("涉密数据须经保密网络"),
    "exchange.gateway.verify_only": N_("该授权仅限核验"),
    "exchange.gateway.items_invalid": N_("请求了未授权或不存在的信息项"),
    "exchange.gateway.upstream_timeout": N_("提供方接口超时"),
    "exchange.gateway.upstream_unreachable": N_("提供方接口无法连接"),
}
TABS = (
    ("overview", "/exchange/usage", N_("调用统计")),
    ("consumers", "/exchange/usage/consumers", N_("谁在使用本单位数据")),
    ("calls", "/exchange/usage/calls", N_("本单位的授权与调用")),
)


# --- Shared helpers -------------------------------------------------------------------------------


def _period(since: dt.date | None, until: dt.date | None) -> tuple[dt.date, dt.date]:
    """The API's default: the last 30 legal days up to today."""
    until = until or clock.today()
    return since or until - dt.timedelta(days=29), until


def _agency_names(session: Session, ids: set[int], lang: str) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(select(Agency.id, Agency.name, Agency.name_en).where(Agency.id.in_(sorted(ids))))
    return {i: (en or name) if lang == "en" else name for i, name, en in rows}


def _resource_names(session: Session, codes: set[str]) -> dict[str, str]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    rows = session.execute(
        select(CatalogResource.code, CatalogResource.name).where(CatalogResource.code.in_(sorted(codes)))
    )
    return {code: name for code, name in rows}


def _tabs(by: Principal, lang: str) -> list[tuple[str, str, str]]:
    _ = i18n.gettext_for(lang)
    return [(key, href, _(text)) for key, href, text in TABS]


def _key_label(session: Session, group: str, rows: list[Any], lang: str) -> dict[Any, tuple[str, str | None]]:
    """Each group key's text and link."""
    _ = i18n.gettext_for(lang)
    keys = [r.key for r in rows]
    out: dict[Any, tuple[str, str | None]] = {}
    if group in ("consumer", "provider"):
        names = _agency_names(session, set(keys), lang)
        for k in keys:
            out[k] = (names.get(k, _("（未知机关）")), None)
    elif group == "resource":
        names = _resource_names(session, set(keys))
        for k in keys:
            out[k] = (f"{k} {names[k]}" if k in names else str(k), f"/catalog/{k}" if k in names else None)
    elif group == "grant":
        for k in keys:
            out[k] = (_("授权 %(n)s", n=k), f"/exchange/grants/{k}") if k is not None else (_("（无可用授权）"), None)
    elif group == "outcome":
        for k in keys:
            out[k] = (_(OUTCOMES.get(k, str(k))), None)
    else:
        for k in keys:
            out[k] = (str(k) if k else _("（未声明）"), None)
    return out


def _query_string(**params: Any) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in params.items() if v is not None})


def _outcome_series(lang: str, rows: list[Any]) -> list[tuple[str, list[int]]]:
    _ = i18n.gettext_for(lang)
    return [
        (_("允许"), [r.allowed for r in rows]),
        (_("被拒绝"), [r.refused for r in rows]),
        (_("失败"), [r.failed for r in rows]),
    ]


def _filled(periods: list[Any], since: dt.date, until: dt.date) -> list[Any]:
    """The chart's bars: every day (or month) of the period, those without calls at zero."""
    unit = 7 if periods and len(periods[0].period) == 7 else 10
    keys: list[str] = []
    day = since
    while day <= until:
        key = day.isoformat()[:unit]
        if not keys or keys[-1] != key:
            keys.append(key)
        day += dt.timedelta(days=1)
    have = {p.period: p for p in periods}
    return [have.get(k) or usage_service.PeriodRow(k, 0, 0, 0, 0, 0, 0) for k in keys]


# --- Usage overview with charts -------------------------------------------------------------------


@router.get("/exchange/usage", response_class=HTMLResponse)
def usage_page(
    request: Request,
    session: SessionDep,
    by: Reader,
    group: Group = "resource",
    period: Period = "day",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> HTMLResponse:
    """Calls, allowed/refused/failed, rows and bytes per period and per group, with two charts."""
    lang = i18n.lang_of(request)
    _ = i18n.gettext_for(lang)
    since, until = _period(since, until)
    group = group if group in GROUP_LABELS else "resource"
    period = period if period in PERIOD_LABELS else "day"
    rows = usage_service.usage(session, by=by, group=group, since=since, until=until)
    periods = usage_service.series(session, by=by, since=since, until=until, period=period)
    labels = _key_label(session, group, rows, lang)
    totals = {k: sum(getattr(r, k) for r in rows) for k in ("calls", "allowed", "refused", "failed", "rows", "bytes")}
    qs = _query_string(group=group, period=period, since=since.isoformat(), until=until.isoformat(), lang=lang)
    return render(
        request,
        "exchange/usage.html",
        {
            "active": "console",
            "exchange_tabs": _tabs(by, lang),
            "tab": "overview",
            "group": group,
            "period": period,
            "since": since,
            "until": until,
            "group_options": [(k, _(v)) for k, v in GROUP_LABELS.items()],
            "period_options": [(k, _(v)) for k, v in PERIOD_LABELS.items()],
            "rows": rows,
            "labels": labels,
            "periods": periods,
            "totals": totals,
            "time_chart": f"/exchange/usage/chart.svg?kind=time&{qs}",
            "group_chart": f"/exchange/usage/chart.svg?kind=group&{qs}",
            "api_url": "/api/v1/exchange/usage?"
            + _query_string(group=group, since=since.isoformat(), until=until.isoformat()),
        },
    )


@router.get("/exchange/usage/chart.svg")
def usage_chart(
    request: Request,
    session: SessionDep,
    by: Reader,
    kind: Annotated[str, Query(pattern="^(time|group)$")] = "time",
    size: Annotated[str, Query(pattern="^(wide|narrow)$")] = "wide",
    group: Group = "resource",
    period: Period = "day",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Response:
    """One chart of the overview, as ``image/svg+xml`` with its own policy (``portal.charts``)."""
    lang = i18n.lang_of(request)
    _ = i18n.gettext_for(lang)
    since, until = _period(since, until)
    group = group if group in GROUP_LABELS else "resource"
    period = period if period in PERIOD_LABELS else "day"
    if kind == "time":
        periods = _filled(usage_service.series(session, by=by, since=since, until=until, period=period), since, until)
        svg = charts.outcome_bars(
            title=_("每日调用次数") if period == "day" else _("每月调用次数"),
            labels=[p.period for p in periods],
            series=_outcome_series(lang, periods),
            no_data=_("无调用"),
            size=size,
        )
    else:
        rows = usage_service.usage(session, by=by, group=group, since=since, until=until)[:20]
        labels = _key_label(session, group, rows, lang)
        svg = charts.outcome_bars(
            title=_(GROUP_LABELS[group]),
            labels=[labels[r.key][0] for r in rows],
            series=_outcome_series(lang, rows),
            horizontal=True,
            no_data=_("无调用"),
            size=size,
        )
    return charts.svg_response(svg)


# --- Providers: who uses our data, for what purpose -----------------------------------------------


@router.get("/exchange/usage/consumers", response_class=HTMLResponse)
def consumers_page(
    request: Request,
    session: SessionDep,
    by: Reader,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> HTMLResponse:
    """Per consumer agency and declared purpose: calls and the last call, on the resources the
    viewer's agencies provide (an authority or supervisor: of the consumers of its regions)."""
    lang = i18n.lang_of(request)
    since, until = _period(since, until)
    uses = usage_service.consumers_of(session, by=by, since=since, until=until)
    agencies = _agency_names(session, {u.consumer_id for u in uses} | {u.provider_id for u in uses}, lang)
    resources = _resource_names(session, {u.resource_code for u in uses})
    return render(
        request,
        "exchange/consumers.html",
        {
            "active": "console",
            "exchange_tabs": _tabs(by, lang),
            "tab": "consumers",
            "since": since,
            "until": until,
            "uses": uses,
            "agencies": agencies,
            "resources": resources,
            "local_time": local_time,
            "overseer": bool(by.region_paths(*perm.OVERSEERS)),
        },
    )


# --- Consumers: our grants, calls and errors ------------------------------------------------------


@router.get("/exchange/usage/calls", response_class=HTMLResponse)
def calls_page(
    request: Request,
    session: SessionDep,
    by: Reader,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> HTMLResponse:
    """The viewer's agencies' grants as consumer with their calls and errors, and the latest
    refused or failed calls with the reason (an authority or supervisor: its regions' consumers)."""
    lang = i18n.lang_of(request)
    _ = i18n.gettext_for(lang)
    since, until = _period(since, until)
    own = by.agency_ids(*perm.AGENCY_ROLES)
    overseer = bool(by.region_paths(*perm.OVERSEERS)) or by.is_system
    grants = [
        g for g in grant_service.list_grants(session, viewer=by, limit=200).rows if g.consumer_id in own or overseer
    ]
    per_grant = {r.key: r for r in usage_service.usage(session, by=by, group="grant", since=since, until=until)}
    errors = usage_service.errors_by_consumer(session, by=by, since=since, until=until)
    problems = usage_service.problems(session, by=by, since=since, until=until)
    agencies = _agency_names(session, {p.consumer_id for p in problems}, lang)
    return render(
        request,
        "exchange/calls.html",
        {
            "active": "console",
            "exchange_tabs": _tabs(by, lang),
            "tab": "calls",
            "since": since,
            "until": until,
            "grants": grants,
            "per_grant": per_grant,
            "errors": errors,
            "problems": problems,
            "agencies": agencies,
            "reason": lambda code: _(REASONS[code]) if code in REASONS else "",
            "outcome_label": lambda o: _(OUTCOMES.get(o, o)),
            "local_time": local_time,
            "usable": grant_service.is_usable,
        },
    )


# --- The integrator's page of a grant -------------------------------------------------------------


def _grant_document(session: Session, grant: Any) -> tuple[dict[str, Any], Any]:
    """The OpenAPI of the grant's gateway path, and the resource's interface (None when none)."""
    try:
        interface = service.get_interface(session, grant.resource_id)
    except NotFound:
        interface = None
    provider_doc = None
    if interface is not None and interface.openapi_document:
        try:
            loaded = yaml.safe_load(interface.openapi_document)
            provider_doc = loaded if isinstance(loaded, dict) else None
        except yaml.YAMLError:
            provider_doc = None
    hosted = interface is None or interface.kind == "hosted_dataset"
    doc = openapi.for_resource(
        grant.resource_code,
        hosted=hosted,
        items=list(grant.items),
        verify_only=grant.verify_only,
        provider_document=provider_doc,
    )
    return doc, interface


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's operations, flattened for the page."""
    out = []
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            answer = op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema")
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "parameters": op.get("parameters", []),
                    "body": json.dumps(body, ensure_ascii=False, indent=2) if body else None,
                    "answer": json.dumps(answer, ensure_ascii=False, indent=2) if answer else None,
                }
            )
    return out


def _readable_grant(session: Session, grant_id: int, by: Principal) -> Any:
    return grant_service.get_grant(session, grant_id, viewer=by)


@router.get("/exchange/grants/{grant_id}", response_class=HTMLResponse)
def integrator_page(grant_id: Id, request: Request, session: SessionDep, by: sharing_perm.Reader) -> HTMLResponse:
    """For the consumer's integrator: how to call the gateway under this grant."""
    lang = i18n.lang_of(request)
    grant = _readable_grant(session, grant_id, by)
    doc, interface = _grant_document(session, grant)
    first_get = next((p for p, ops in doc["paths"].items() if "get" in ops and "{" not in p.rsplit("/", 1)[-1]), None)
    proxied = interface is not None and interface.kind != "hosted_dataset"
    path = None
    if proxied and not grant.verify_only:
        prefix = f"/exchange/v1/{grant.resource_code}"
        path = (first_get or prefix + "/{path}").removeprefix(prefix).lstrip("/") or ""
    curl = curl_line(
        str(request.base_url),
        resource_code=grant.resource_code,
        purpose=grant.purpose,
        items=list(grant.items),
        verify_only=grant.verify_only,
        key_item=(interface.key_items[0] if interface is not None and interface.key_items else None),
        path=path,
    )
    today = clock.today()
    since = today - dt.timedelta(days=29)
    periods = usage_service.series(session, by=by, since=since, until=today, grant_id=grant.id)
    # A call with a wrong purpose matches no grant: the consumer's errors on the resource, all of them.
    mine = {"consumer_id": grant.consumer_id, "resource_code": grant.resource_code}
    tried = usage_service.series(session, by=by, since=since, until=today, **mine)
    problems = usage_service.problems(session, by=by, since=since, until=today, limit=10, **mine)
    _ = translator(request)
    return render(
        request,
        "exchange/integrator.html",
        {
            "active": "console",
            "grant": grant_service.grant_reads([grant], lang)[0],
            "usable": grant_service.is_usable(grant),
            "curl": curl,
            "key_placeholder": KEY_PLACEHOLDER,
            "operations": _operations(doc),
            "interface": interface,
            "calls": sum(p.calls for p in periods),
            "errors": sum(p.refused + p.failed for p in tried),
            "problems": problems,
            "reason": lambda code: _(REASONS[code]) if code in REASONS else "",
            "outcome_label": lambda o: _(OUTCOMES.get(o, o)),
            "local_time": local_time,
            "is_consumer_admin": by.in_agency(grant.consumer_id, "agency_admin"),
            "consumer_code": grant.consumer.code,
        },
    )


@router.get("/exchange/grants/{grant_id}/openapi.json")
def integrator_openapi(grant_id: Id, session: SessionDep, by: sharing_perm.Reader) -> JSONResponse:
    """The OpenAPI 3.1 document of the grant's gateway path, as JSON."""
    grant = _readable_grant(session, grant_id, by)
    doc, _interface = _grant_document(session, grant)
    return JSONResponse(doc, headers={"Cache-Control": "private, no-store"})


# --- Console ---------------------------------------------------------------------------------------


def console_links(by: Principal, lang: str) -> list[tuple[str, str]]:
    """The console's exchange links for the roles that may read usage (``exchange.permissions.Reader``)."""
    if not (by.agency_ids(*perm.AGENCY_ROLES) or by.region_paths(*perm.OVERSEERS)):
        return []
    _ = i18n.gettext_for(lang)
    return [(href, _(text)) for _key, href, text in TABS]
