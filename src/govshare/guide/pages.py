"""Service guide pages: the public guide at ``/guide`` (Art 20-27), usable on a phone (Art 27)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from govshare.core.auth import Anyone
from govshare.core.db import SessionDep
from govshare.core.paging import Pager
from govshare.guide import rules, service
from govshare.portal import i18n
from govshare.portal.web import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30


def _choice(value: str | None, vocab: rules.Labels) -> str | None:
    """A filter value from the vocabulary; anything else is ignored, as an empty filter is."""
    return value if value in vocab else None


@router.get("/guide", response_class=HTMLResponse)
def guide(
    request: Request,
    session: SessionDep,
    viewer: Anyone,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sector: Annotated[str | None, Query(max_length=32)] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    lang = i18n.lang_of(request)
    filters = service.ServiceFilter(
        sector=_choice(sector, rules.SECTORS),
        channel=_choice(channel, rules.CHANNELS),
        agency=(agency or "").strip() or None,
        q=(q or "").strip() or None,
        offset=offset,
        limit=PAGE_SIZE,
    )
    rows, total, facets = service.list_services(session, filters)
    items = service.read_models(session, rows, viewer)
    sector_counts = {f.value: f.count for f in facets["sector"]}
    agency_name = None
    if filters.agency and items:
        a = items[0].agency
        agency_name = (a.name_en or a.name) if lang == "en" else a.name
    return render(
        request,
        "guide/list.html",
        {
            "active": "guide",
            "items": items,
            "total": total,
            "filters": {
                "q": filters.q or "",
                "sector": filters.sector or "",
                "channel": filters.channel or "",
                "agency": filters.agency or "",
            },
            "agency_name": agency_name,
            "sector_options": [(code, pair, sector_counts.get(code, 0)) for code, pair in rules.SECTORS.items()],
            "channel_options": list(rules.CHANNELS.items()),
            "pager": Pager(offset, PAGE_SIZE, total),
        },
    )
