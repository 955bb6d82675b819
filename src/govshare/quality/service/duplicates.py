"""Duplicate collection (Art 11(1) "一个数据一个来源").

The catalog tells :func:`check_items` (``catalog.service.hooks``) which items an agency registers
when it creates an entry, edits a draft or reports a revision. Items are linked to data elements
(by the item's field code, or by hand); an item collecting an element that another agency is
assigned to collect in the entry's region is flagged, as an event, and the agency is asked for the
legal exception ("法律、法规和规章另有规定", with its citation) or a switch to sharing. The
authority of the region sees every flag and its answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from govshare.catalog.models import CatalogResource
from govshare.catalog.service.hooks import watch_items
from govshare.core import clock, events
from govshare.core.auth import Principal
from govshare.core.errors import NotFound
from govshare.core.paging import Page, paginate
from govshare.quality import permissions as perm
from govshare.quality import rules
from govshare.quality.models import QualityDuplicateFlag
from govshare.quality.service.elements import authoritative_source, auto_link
from govshare.registry import service as registry_service
from govshare.registry.models import Agency

SUBJECT = "quality_duplicate_flag"


def check_items(
    session: Session,
    resource: CatalogResource,
    items: Sequence[Mapping[str, Any]],
    trigger: str,
    version: int | None,
    by: Principal,
) -> list[QualityDuplicateFlag]:
    """Link ``items`` to data elements and flag those another agency is assigned (Art 11(1))."""
    linked = auto_link(session, resource, [dict(i) for i in items], by=by)
    flags = []
    for item_name, element in linked.items():
        source = authoritative_source(session, element.id, resource.region_code)
        if source is None or not rules.is_duplicate(resource.provider_id, source.agency_id):
            continue
        existing = session.scalar(
            select(QualityDuplicateFlag.id).where(
                QualityDuplicateFlag.resource_id == resource.id,
                QualityDuplicateFlag.element_id == element.id,
                QualityDuplicateFlag.item_name == item_name,
            )
        )
        if existing is not None:
            continue
        flag = QualityDuplicateFlag(
            resource_id=resource.id,
            element_id=element.id,
            item_name=item_name,
            agency_id=resource.provider_id,
            assigned_agency_id=source.agency_id,
            region_code=resource.region_code,
            trigger=trigger,
            catalog_version=version,
            state="open",
        )
        session.add(flag)
        session.flush()
        agency = session.get(Agency, resource.provider_id)
        events.record(
            session,
            actor=by.actor,
            action="quality.duplicate.flagged",
            subject_type=SUBJECT,
            subject_id=flag.id,
            region_code=resource.region_code,
            agency_code=agency.code if agency else None,
            data={
                "resource_id": resource.id,
                "resource_code": resource.code,
                "item": item_name,
                "element": element.code,
                "assigned_agency": source.agency.code,
                "trigger": trigger,
                "catalog_version": version,
                "article": "Art 11(1)",
            },
        )
        flags.append(flag)
    return flags


def _on_items(
    session: Session,
    resource: CatalogResource,
    items: Sequence[Mapping[str, Any]],
    trigger: str,
    version: int | None,
    by: Principal,
) -> None:
    check_items(session, resource, items, trigger, version, by)


watch_items(_on_items)


def _load(session: Session, flag_id: int) -> QualityDuplicateFlag:
    flag = session.scalar(
        select(QualityDuplicateFlag)
        .where(QualityDuplicateFlag.id == flag_id)
        .options(
            joinedload(QualityDuplicateFlag.resource),
            joinedload(QualityDuplicateFlag.element),
            joinedload(QualityDuplicateFlag.agency),
            joinedload(QualityDuplicateFlag.assigned_agency),
        )
    )
    if flag is None:
        raise NotFound(
            "quality.duplicate.not_found", "没有这条重复采集提示", "No such duplicate-collection flag", field="flag"
        )
    return flag


def get_flag(session: Session, flag_id: int, *, viewer: Principal) -> QualityDuplicateFlag:
    flag = _load(session, flag_id)
    path = registry_service.region_path_of(session, flag.region_code)
    if not perm.can_read(viewer, (flag.agency_id, flag.assigned_agency_id), path):
        raise NotFound(
            "quality.duplicate.not_found", "没有这条重复采集提示", "No such duplicate-collection flag", field="flag"
        )
    return flag


def list_flags(
    session: Session, *, viewer: Principal, state: str | None = None, offset: int = 0, limit: int = 50
) -> Page[QualityDuplicateFlag]:
    stmt = (
        select(QualityDuplicateFlag)
        .where(
            perm.readable_condition(
                viewer,
                (QualityDuplicateFlag.agency_id, QualityDuplicateFlag.assigned_agency_id),
                QualityDuplicateFlag.region_code,
            )
        )
        .options(
            joinedload(QualityDuplicateFlag.resource),
            joinedload(QualityDuplicateFlag.element),
            joinedload(QualityDuplicateFlag.agency),
            joinedload(QualityDuplicateFlag.assigned_agency),
        )
        .order_by(QualityDuplicateFlag.id.desc())
    )
    if state:
        rules.check_vocab(state, rules.FLAG_STATES, field="state")
        stmt = stmt.where(QualityDuplicateFlag.state == state)
    return paginate(session, stmt, offset=offset, limit=limit)


def answer_flag(
    session: Session,
    flag_id: int,
    *,
    answer: str,
    citation: str | None = None,
    explanation: str | None = None,
    by: Principal,
) -> QualityDuplicateFlag:
    """The flagged agency claims the legal exception (with its citation) or switches to sharing."""
    flag = _load(session, flag_id)
    perm.check_member(by, flag.agency_id, article="Art 11(1)")
    rules.check_flag_open(flag.state)
    citation, explanation = rules.check_flag_answer(answer, citation, explanation)
    flag.state = answer
    flag.citation, flag.explanation = citation, explanation
    flag.answered_at, flag.answered_by, flag.answered_by_name = clock.now(), by.actor.ref, by.actor.name[:200]
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.duplicate.answered",
        subject_type=SUBJECT,
        subject_id=flag.id,
        region_code=flag.region_code,
        agency_code=flag.agency.code,
        data={
            "answer": answer,
            "citation": citation,
            "has_explanation": explanation is not None,
            "article": "Art 11(1)",
        },
    )
    return flag
