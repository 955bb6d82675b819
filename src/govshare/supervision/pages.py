"""Supervisor pages: browse the ledger's events and check each one's inclusion proof (Art 32, 34).

Supervisors and authorities browse the events of their region (and the regions below it) by
agency, subject, action, person and time; each event's page shows its inclusion proof against the
latest signed checkpoint, verified on the spot. The scope checks are the service's, exactly those
of the entries API.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from govshare.core import clock
from govshare.core.auth import Principal
from govshare.core.db import SessionDep
from govshare.core.errors import DomainError
from govshare.core.events import Event
from govshare.portal import i18n
from govshare.portal.web import domain_error_message, render, translator
from govshare.supervision import actions, service, subjects
from govshare.supervision.permissions import Reader

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FILTERS = ("agency", "subject_type", "subject_id", "action", "actor", "since", "until")


def _local(when: dt.datetime) -> str:
    return when.astimezone(clock.LEGAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _date(value: str, field: str, errors: dict[str, str], _: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors[field] = _("日期格式应为 YYYY-MM-DD")
        return None


def _start_of(day: dt.date) -> dt.datetime:
    """The start of a legal (Asia/Shanghai) day, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=clock.LEGAL_TZ).astimezone(dt.UTC)


def _rows(session: Session, by: Principal, evs: list[Event], lang: str) -> list[dict[str, Any]]:
    """The events as the pages show them: the action's label and article, the subject, agency and
    region by name (one query per kind of subject on the page, however many events)."""
    wanted: list[tuple[str, str, Any]] = []
    for ev in evs:
        wanted.append((ev.subject_type, ev.subject_id, ev.data))
        if ev.agency_code:
            wanted.append(("agency", ev.agency_code, None))
        if ev.region_code:
            wanted.append(("region", ev.region_code, None))
    names = subjects.resolve(session, by, wanted, lang)
    return [
        {
            "seq": ev.seq,
            "time": _local(ev.occurred_at),
            "actor": ev.actor,
            "actor_name": ev.actor_name,
            "action": actions.label(ev.action, lang),
            "subject_type": ev.subject_type,
            "subject_id": ev.subject_id,
            "subject_kind": actions.subject_kind(ev.subject_type, lang),
            "subject": names.get((ev.subject_type, ev.subject_id)),
            "agency": ev.agency_code,
            "agency_named": names.get(("agency", ev.agency_code)) if ev.agency_code else None,
            "region": ev.region_code,
            "region_named": names.get(("region", ev.region_code)) if ev.region_code else None,
        }
        for ev in evs
    ]


@router.get("/supervision/ledger", response_class=HTMLResponse)
def ledger_events(request: Request, session: SessionDep, by: Reader, before: int | None = None) -> HTMLResponse:
    _ = translator(request)
    lang = i18n.lang_of(request)
    values = {name: (request.query_params.get(name) or "").strip()[:100] for name in FILTERS}
    errors: dict[str, str] = {}
    since = _date(values["since"], "since", errors, _)
    until = _date(values["until"], "until", errors, _)
    if since and until and until < since:
        errors["until"] = _("结束日期不能早于开始日期")
    rows: list[dict[str, Any]] = []
    next_before: int | None = None
    message: str | None = None
    if not errors:
        filters = service.EventFilter(
            agency=values["agency"] or None,
            subject_type=values["subject_type"] or None,
            subject_id=values["subject_id"] or None,
            action=values["action"] or None,
            actor=values["actor"] or None,
            since=_start_of(since) if since else None,
            until=_start_of(until + dt.timedelta(days=1)) if until else None,
        )
        try:
            events, next_before = service.browse(session, by, filters, before=before, limit=PAGE_SIZE)
            rows = _rows(session, by, list(events), lang)
        except DomainError as exc:
            if exc.field == "username":
                errors["actor"] = domain_error_message(exc, i18n.lang_of(request))
            else:
                message = domain_error_message(exc, i18n.lang_of(request))
    checkpoint = service.latest_checkpoint(session)
    return render(
        request,
        "supervision/events.html",
        {
            "active": "console",
            "values": values,
            "errors": errors,
            "message": message,
            "rows": rows,
            "next_before": next_before,
            "before": before,
            "filtered": any(values.values()),
            "checkpoint": checkpoint,
            "checkpoint_time": _local(checkpoint.created_at) if checkpoint else None,
            "checkpoint_root": base64.b64encode(checkpoint.root).decode() if checkpoint else None,
            "integrated": service.integrated_size(session),
            "events_total": service.event_count(session),
            "action_options": [(code, actions.label(code, lang).label) for code in sorted(actions.ACTIONS)],
        },
    )


@router.get("/supervision/ledger/events/{seq}", response_class=HTMLResponse)
def ledger_event(seq: int, request: Request, session: SessionDep, by: Reader) -> HTMLResponse:
    ev = service.get_event(session, by, seq)
    proof = service.event_proof(session, ev)
    cp = proof.checkpoint
    return render(
        request,
        "supervision/event.html",
        {
            "active": "console",
            "event": _rows(session, by, [ev], i18n.lang_of(request))[0],
            "data": json.dumps(ev.data, ensure_ascii=False, indent=2, sort_keys=True),
            "leaf_data": bytes(ev.canonical).decode("utf-8", errors="replace"),
            "leaf_hash": proof.leaf_hash.hex(),
            "covered": cp is not None and seq < cp.tree_size,
            "checkpoint": cp,
            "checkpoint_time": _local(cp.created_at) if cp else None,
            "root": cp.root.hex() if cp else None,
            "path": [(i, h.hex(), base64.b64encode(h).decode()) for i, h in enumerate(proof.path)],
            "verified": proof.verified,
            "proof_url": f"/api/v1/ledger/proof/inclusion?index={seq}&tree_size={cp.tree_size}" if cp else None,
        },
    )
