"""Update duty (Art 15(2)): from every change in a provider's source data runs a deadline of
``rules.UPDATE_WORKDAYS`` (20) working days on the official calendar (the day of the change is day
zero) to publish the updated version.

A change is recorded by the provider (:func:`record_change`, API and page), or seen by the platform
in a proxied resource's declared change feed (``ExchangeInterface.change_feed_url``, polled by
:func:`poll_feeds`; format in ``rules.parse_change_feed``). It is met by a hosted dataset version
whose ``changed_at`` is at or after the change (exchange tables, read only: :func:`fulfil_pending`),
or for a proxied API by the provider's confirmation that its API serves the update
(:func:`confirm_update`). The background tick (:func:`tick`) fulfils and marks overdue once per
round, each with its event. Overdue updates are counted per agency and per region
(:func:`overdue_counts`) for the provider, the authority of the region and supervisors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import service as catalog_service
from govshare.catalog.models import CatalogResource
from govshare.core import clock, events, workdays
from govshare.core.auth import SYSTEM_PRINCIPAL, Principal
from govshare.core.db import transaction
from govshare.core.errors import Conflict, DomainError, NotFound
from govshare.core.paging import Page, paginate
from govshare.exchange.models import ExchangeDatasetVersion, ExchangeInterface
from govshare.quality import permissions as perm
from govshare.quality import rules
from govshare.quality.models import QualityUpdateChange
from govshare.registry import service as registry_service
from govshare.registry.models import Agency, Region

SUBJECT = "quality_update_change"
log = logging.getLogger("govshare.quality.updates")
FEED_TIMEOUT_SECONDS = 10.0


def _interface(session: Session, resource_id: int) -> ExchangeInterface | None:
    return session.scalar(
        select(ExchangeInterface).where(
            ExchangeInterface.resource_id == resource_id, ExchangeInterface.detached_at.is_(None)
        )
    )


def _add(
    session: Session,
    resource: Any,
    *,
    changed_at: dt.datetime,
    note: str | None,
    source: str,
    feed_key: str | None,
    by: Principal,
) -> QualityUpdateChange:
    interface = _interface(session, resource.id)
    day = changed_at.astimezone(clock.LEGAL_TZ).date()
    due = workdays.deadline(session, day, rules.UPDATE_WORKDAYS)
    change = QualityUpdateChange(
        resource_id=resource.id,
        provider_id=resource.provider_id,
        region_code=resource.region_code,
        interface_kind=interface.kind if interface else None,
        source=source,
        feed_key=feed_key,
        changed_at=changed_at,
        note=note,
        received_on=day,
        due_on=due.deadline,
        workdays=rules.UPDATE_WORKDAYS,
        provisional=due.provisional,
        state="open",
        created_by=by.actor.ref,
        created_by_name=by.actor.name[:200],
    )
    session.add(change)
    session.flush()
    agency = session.get(Agency, resource.provider_id)
    events.record(
        session,
        actor=by.actor,
        action="quality.update.recorded",
        subject_type=SUBJECT,
        subject_id=change.id,
        region_code=resource.region_code,
        agency_code=agency.code if agency else None,
        data={
            "resource_id": resource.id,
            "resource_code": resource.code,
            "source": source,
            "feed_key": feed_key,
            "changed_at": changed_at,
            "due_on": due.deadline,
            "workdays": rules.UPDATE_WORKDAYS,
            "provisional": due.provisional,
            "article": rules.UPDATE_ARTICLE,
        },
    )
    _fulfil_one(session, change, agency, by)
    return change


def record_change(
    session: Session, resource_ref: str | int, *, changed_at: dt.datetime, note: str | None, by: Principal
) -> QualityUpdateChange:
    """The provider records a change in its source data; the 20-working-day deadline starts."""
    resource = catalog_service.get_resource(session, resource_ref)
    perm.check_member(by, resource.provider_id, article=rules.UPDATE_ARTICLE)
    when = rules.check_changed_at(changed_at, clock.now())
    note = rules.check_text(note, field="note")
    return _add(session, resource, changed_at=when, note=note, source="provider", feed_key=None, by=by)


def own_resources(session: Session, by: Principal) -> list[CatalogResource]:
    """The published entries of the viewer's agencies (those it may record changes for)."""
    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    if not own:
        return []
    return list(
        session.scalars(
            select(CatalogResource)
            .where(CatalogResource.provider_id.in_(own), CatalogResource.status == "published")
            .order_by(CatalogResource.code)
            .limit(500)
        )
    )


def _stmt() -> Any:
    return select(QualityUpdateChange).options(
        joinedload(QualityUpdateChange.resource), joinedload(QualityUpdateChange.provider)
    )


def get_change(session: Session, change_id: int, *, viewer: Principal) -> QualityUpdateChange:
    found = session.scalar(_stmt().where(QualityUpdateChange.id == change_id))
    if found is not None and not perm.can_read(
        viewer, (found.provider_id,), registry_service.region_path_of(session, found.region_code)
    ):
        found = None
    if found is None:
        raise NotFound(
            "quality.update.not_found",
            f"数据变更 {change_id} 不存在",
            f"Data change {change_id} not found",
            field="change",
        )
    return found


def _overdue_condition(today: dt.date) -> Any:
    return (QualityUpdateChange.state == "overdue") | (
        (QualityUpdateChange.state == "open") & (QualityUpdateChange.due_on < today)
    )


def list_changes(
    session: Session,
    *,
    viewer: Principal,
    state: str | None = None,
    overdue: bool = False,
    resource_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[QualityUpdateChange]:
    stmt = (
        _stmt()
        .where(perm.readable_condition(viewer, (QualityUpdateChange.provider_id,), QualityUpdateChange.region_code))
        .order_by(QualityUpdateChange.id.desc())
    )
    if state:
        rules.check_vocab(state, rules.UPDATE_STATES, field="state")
        stmt = stmt.where(QualityUpdateChange.state == state)
    if overdue:
        stmt = stmt.where(_overdue_condition(clock.today()))
    if resource_id is not None:
        stmt = stmt.where(QualityUpdateChange.resource_id == resource_id)
    return paginate(session, stmt, offset=offset, limit=limit)


def is_overdue(change: QualityUpdateChange) -> bool:
    return rules.update_overdue(change.state, change.due_on, clock.today())


@dataclasses.dataclass(frozen=True, slots=True)
class OverdueCount:
    code: str
    name: str
    count: int


@dataclasses.dataclass(frozen=True, slots=True)
class OverdueCounts:
    total: int
    by_agency: list[OverdueCount]
    by_region: list[OverdueCount]


def overdue_counts(session: Session, *, viewer: Principal) -> OverdueCounts:
    """Overdue updates the viewer may read, counted per providing agency and per region."""
    where = (
        perm.readable_condition(viewer, (QualityUpdateChange.provider_id,), QualityUpdateChange.region_code),
        _overdue_condition(clock.today()),
    )
    n = func.count(QualityUpdateChange.id)
    agencies = session.execute(
        select(Agency.code, Agency.name, n)
        .join(Agency, Agency.id == QualityUpdateChange.provider_id)
        .where(*where)
        .group_by(Agency.code, Agency.name)
        .order_by(n.desc(), Agency.code)
    ).all()
    regions = session.execute(
        select(Region.code, Region.name, n)
        .join(Region, Region.code == QualityUpdateChange.region_code)
        .where(*where)
        .group_by(Region.code, Region.name)
        .order_by(n.desc(), Region.code)
    ).all()
    return OverdueCounts(
        total=sum(r[2] for r in agencies),
        by_agency=[OverdueCount(c, name, int(k)) for c, name, k in agencies],
        by_region=[OverdueCount(c, name, int(k)) for c, name, k in regions],
    )


def _met(
    session: Session,
    change: QualityUpdateChange,
    agency: Agency | None,
    *,
    met_by: str,
    when: dt.datetime,
    version: int | None,
    note: str | None,
    by: Principal,
) -> None:
    change.met_at, change.met_on = when, when.astimezone(clock.LEGAL_TZ).date()
    change.met_late = rules.update_late(change.met_on, change.due_on)
    change.state, change.met_by, change.dataset_version, change.confirmation_note = "met", met_by, version, note
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.update.met",
        subject_type=SUBJECT,
        subject_id=change.id,
        region_code=change.region_code,
        agency_code=agency.code if agency else None,
        data={
            "resource_id": change.resource_id,
            "met_by": met_by,
            "version": version,
            "met_on": change.met_on,
            "due_on": change.due_on,
            "late": change.met_late,
            "article": rules.UPDATE_ARTICLE,
        },
    )


def _fulfil_one(session: Session, change: QualityUpdateChange, agency: Agency | None, by: Principal) -> bool:
    """Met by the first hosted version carrying the change (``changed_at`` at or after it)."""
    if change.state == "met":
        return False
    version = session.execute(
        select(ExchangeDatasetVersion.number, ExchangeDatasetVersion.accepted_at)
        .where(
            ExchangeDatasetVersion.resource_id == change.resource_id,
            ExchangeDatasetVersion.changed_at >= change.changed_at,
        )
        .order_by(ExchangeDatasetVersion.number)
        .limit(1)
    ).first()
    if version is None:
        return False
    _met(
        session,
        change,
        agency,
        met_by="version",
        when=max(version.accepted_at, change.changed_at),
        version=version.number,
        note=None,
        by=by,
    )
    return True


def confirm_update(session: Session, change_id: int, *, note: str | None, by: Principal) -> QualityUpdateChange:
    """For a proxied API: the provider confirms its API serves the updated data."""
    change = get_change(session, change_id, viewer=by)
    perm.check_member(by, change.provider_id, article=rules.UPDATE_ARTICLE)
    if change.state == "met":
        raise Conflict(
            "quality.update.already_met",
            "该数据变更已更新",
            "This change was already updated",
            field="change",
            article=rules.UPDATE_ARTICLE,
        )
    interface = _interface(session, change.resource_id)
    if interface is not None and interface.kind == "hosted_dataset":
        raise Conflict(
            "quality.update.needs_version",
            "托管数据集须上传变更后的新版本（变更时间不早于该变更）",
            "A hosted dataset is updated by uploading a version whose change time is not before the change",
            field="change",
            article=rules.UPDATE_ARTICLE,
        )
    note = rules.check_text(note, field="note")
    _met(session, change, change.provider, met_by="confirmation", when=clock.now(), version=None, note=note, by=by)
    return change


# --- The background tick ---------------------------------------------------------------------------


def fulfil_pending(session: Session, *, by: Principal) -> int:
    done = 0
    for change in session.scalars(
        _stmt().where(QualityUpdateChange.state != "met").order_by(QualityUpdateChange.id)
    ).all():
        done += _fulfil_one(session, change, change.provider, by)
    return done


def mark_overdue(session: Session, *, by: Principal) -> int:
    """Open changes past their deadline become overdue, once, each with its event."""
    today = clock.today()
    found = session.scalars(
        _stmt()
        .where(QualityUpdateChange.state == "open", QualityUpdateChange.due_on < today)
        .order_by(QualityUpdateChange.id)
    ).all()
    now = clock.now()
    for change in found:
        change.state, change.overdue_marked_at = "overdue", now
        session.flush()
        events.record(
            session,
            actor=by.actor,
            action="quality.update.overdue",
            subject_type=SUBJECT,
            subject_id=change.id,
            region_code=change.region_code,
            agency_code=change.provider.code,
            data={
                "resource_id": change.resource_id,
                "due_on": change.due_on,
                "as_of": today,
                "article": rules.UPDATE_ARTICLE,
            },
        )
    return len(found)


def tick(session: Session, *, by: Principal) -> tuple[int, int]:
    """One round: fulfil changes a version now carries, then mark the rest overdue."""
    return fulfil_pending(session, by=by), mark_overdue(session, by=by)


# --- Change feeds ----------------------------------------------------------------------------------


def fetch_feed(url: str, *, client: httpx.Client | None = None) -> list[rules.FeedChange]:
    """GET a change feed (no redirects, bounded size and time) and parse it; DomainError when bad."""
    own = client is None
    client = client or httpx.Client(timeout=FEED_TIMEOUT_SECONDS, follow_redirects=False)
    try:
        with client.stream("GET", url, headers={"Accept": "application/json"}) as r:
            if r.status_code != 200:
                raise rules.invalid(
                    "quality.update.feed_status",
                    f"变更通知接口返回 {r.status_code}",
                    f"the change feed answered {r.status_code}",
                    field="change_feed_url",
                    article=rules.UPDATE_ARTICLE,
                )
            body = bytearray()
            for chunk in r.iter_bytes():
                body += chunk
                if len(body) > rules.FEED_MAX_BYTES:
                    raise rules.invalid(
                        "quality.update.feed_too_large",
                        "变更通知内容过大",
                        "the change feed is too large",
                        field="change_feed_url",
                        article=rules.UPDATE_ARTICLE,
                    )
    finally:
        if own:
            client.close()
    try:
        payload = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise rules.invalid(
            "quality.update.feed_invalid",
            "变更通知须为 UTF-8 JSON",
            "the change feed must be UTF-8 JSON",
            field="change_feed_url",
            article=rules.UPDATE_ARTICLE,
        ) from None
    return rules.parse_change_feed(payload)


def feeds(session: Session) -> list[tuple[int, int, str, dt.datetime]]:
    """(interface id, resource id, feed URL, attached at) of every active proxied API declaring a feed."""
    return [
        tuple(r)
        for r in session.execute(  # type: ignore[misc]
            select(
                ExchangeInterface.id,
                ExchangeInterface.resource_id,
                ExchangeInterface.change_feed_url,
                ExchangeInterface.created_at,
            )
            .where(
                ExchangeInterface.kind == "proxied_api",
                ExchangeInterface.detached_at.is_(None),
                ExchangeInterface.change_feed_url.is_not(None),
            )
            .order_by(ExchangeInterface.id)
        ).all()
    ]


def record_feed_changes(
    session: Session, resource_id: int, changes: list[rules.FeedChange], *, since: dt.datetime, by: Principal
) -> int:
    """Record the feed's changes not seen before. Changes before the interface was attached
    (``since``) or in the future are not the platform's to count and are skipped."""
    seen = set(
        session.scalars(
            select(QualityUpdateChange.feed_key).where(
                QualityUpdateChange.resource_id == resource_id, QualityUpdateChange.feed_key.is_not(None)
            )
        )
    )
    resource = catalog_service.get_resource(session, resource_id)
    now, added = clock.now(), 0
    for c in sorted(changes, key=lambda c: c.changed_at):
        if c.key in seen or c.changed_at < since or c.changed_at > now:
            continue
        _add(session, resource, changed_at=c.changed_at, note=c.note, source="feed", feed_key=c.key, by=by)
        seen.add(c.key)
        added += 1
    return added


def poll_feeds(*, client: httpx.Client | None = None) -> int:
    """Read every declared change feed (outside any transaction) and record new changes, one
    transaction per feed; a feed that fails is logged and tried again next round."""
    with transaction() as session:
        declared = feeds(session)
    added = 0
    for _interface_id, resource_id, url, since in declared:
        try:
            changes = fetch_feed(url, client=client)
        except (httpx.HTTPError, DomainError) as exc:
            log.warning("change feed of resource %s unusable: %s", resource_id, exc)
            continue
        with transaction() as session:
            added += record_feed_changes(session, resource_id, changes, since=since, by=SYSTEM_PRINCIPAL)
    return added


def background_round() -> None:
    """The app's background job: poll the feeds, then one tick in one transaction."""
    poll_feeds()
    with transaction() as session:
        tick(session, by=SYSTEM_PRINCIPAL)
