"""Service guide use cases (Art 20-27). The only writer of the guide tables; every change records
its event. ``by`` is the acting principal (``core.auth.OPERATOR`` for the demo and the command
line). Services flush, never commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import jieba
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from govshare.catalog.models import CatalogResource
from govshare.core import clock, events
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, InvalidInput, NotFound
from govshare.core.paging import paginate
from govshare.core.refs import id_of
from govshare.core.text import LIKE_ESCAPE, contains
from govshare.guide import permissions as perm
from govshare.guide import rules
from govshare.guide.models import GuideService, GuideServiceChannel, GuideServiceResource
from govshare.guide.schemas import (
    AgencyBrief,
    ChannelIn,
    ChannelRead,
    FacetCount,
    ResourceBrief,
    ServiceCreate,
    ServiceRead,
    ServiceUpdate,
)
from govshare.registry import service as registry_service
from govshare.registry.models import Agency, Region

#: Fields whose change is recorded by name in the ``updated`` event.
CONTENT_FIELDS = ("name", "name_en", "sector", "description", "description_en", "link_url")


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _event(session: Session, service: GuideService, action: str, by: Principal, **data: Any) -> None:
    events.record(
        session,
        actor=by.actor,
        action=f"guide.service.{action}",
        subject_type="guide_service",
        subject_id=service.id,
        region_code=service.region_code,
        agency_code=service.agency.code,
        data={"name": service.name, "sector": service.sector, "active": service.active, **data},
    )


# --- Loading ------------------------------------------------------------------------------------


def _options() -> tuple[Any, ...]:
    return (joinedload(GuideService.agency), selectinload(GuideService.channels), selectinload(GuideService.resources))


def get_service(session: Session, service_id: int) -> GuideService:
    service = session.scalars(select(GuideService).where(GuideService.id == service_id).options(*_options())).first()
    if service is None:
        raise NotFound(
            "guide.service.not_found",
            f"服务 {service_id} 不存在",
            f"Service {service_id} not found",
            field="service_id",
        )
    return service


# --- Checks -------------------------------------------------------------------------------------


def _agency(session: Session, ref: str) -> Agency:
    try:
        agency = registry_service.get_agency(session, ref.strip())
    except NotFound:
        raise InvalidInput(
            "guide.agency.not_found", f"机关 {ref} 不存在", f"Agency {ref} not found", field="agency"
        ) from None
    if not agency.active:
        raise Conflict("guide.agency.inactive", f"{agency.name} 已停用", f"{agency.code} is inactive", field="agency")
    return agency


def _check_scope(session: Session, by: Principal, agency: Agency) -> None:
    perm.check_authority(by, registry_service.region_path_of(session, agency.region_code))


def _resource_ids(session: Session, refs: Iterable[str]) -> list[int]:
    """Catalog entries by resource code (or id); they must be published (Art 20: services are built
    on the shared catalog's resources)."""
    ids: list[int] = []
    for ref in refs:
        r = str(ref).strip()
        if not r:
            continue
        rid = id_of(r)
        cond = CatalogResource.id == rid if rid is not None else CatalogResource.code == r
        row = session.execute(select(CatalogResource.id, CatalogResource.status).where(cond)).first()
        if row is None:
            raise InvalidInput(
                "guide.resource.not_found",
                f"目录资源 {r} 不存在",
                f"Catalog entry {r} not found",
                field="resources",
                article="Art 20",
            )
        if row.status != "published":
            raise InvalidInput(
                "guide.resource.not_published",
                f"目录资源 {r} 尚未发布，不能作为服务依托的资源",
                f"Catalog entry {r} is not published and cannot back a service",
                field="resources",
                article="Art 20",
            )
        if row.id not in ids:
            ids.append(row.id)
    return ids


def _channels(items: Sequence[ChannelIn]) -> list[tuple[str, str | None]]:
    seen: dict[str, str | None] = {}
    for item in items:
        if item.channel in seen:
            raise InvalidInput(
                "guide.channel.duplicate",
                f"渠道“{rules.label(rules.CHANNELS, item.channel)}”重复",
                f"channel {item.channel} appears twice",
                field="channels",
                article="Art 27",
            )
        seen[item.channel] = _clean(item.detail)
    return list(seen.items())


def _check_name_free(session: Session, agency_id: int, name: str, except_id: int | None) -> None:
    stmt = select(GuideService.id).where(GuideService.agency_id == agency_id, GuideService.name == name)
    if except_id is not None:
        stmt = stmt.where(GuideService.id != except_id)
    if session.scalar(stmt.limit(1)) is not None:
        raise Conflict(
            "guide.service.duplicate_name",
            f"该机关已有名为“{name}”的服务",
            f"This agency already has a service named '{name}'",
            field="name",
        )


def _set_channels(service: GuideService, channels: list[tuple[str, str | None]]) -> None:
    wanted = {c: (pos, d) for pos, (c, d) in enumerate(channels)}
    for row in list(service.channels):
        if row.channel not in wanted:
            service.channels.remove(row)
    have = {row.channel: row for row in service.channels}
    for channel, (pos, detail) in wanted.items():
        row = have.get(channel)
        if row is None:
            row = GuideServiceChannel(channel=channel)
            service.channels.append(row)
        row.position, row.detail = pos, detail
    service.channels.sort(key=lambda r: r.position)


def _set_resources(service: GuideService, ids: list[int]) -> None:
    wanted = set(ids)
    for row in list(service.resources):
        if row.resource_id not in wanted:
            service.resources.remove(row)
    have = {row.resource_id for row in service.resources}
    for rid in ids:
        if rid not in have:
            service.resources.append(GuideServiceResource(resource_id=rid))


# --- Use cases ----------------------------------------------------------------------------------


def create_service(session: Session, data: ServiceCreate, *, by: Principal) -> GuideService:
    """The authority adds a service to the guide (Art 20)."""
    agency = _agency(session, data.agency)
    _check_scope(session, by, agency)
    name = data.name.strip()
    channels = _channels(data.channels)
    resource_ids = _resource_ids(session, data.resources)
    _check_name_free(session, agency.id, name, None)
    service = GuideService(
        name=name,
        name_en=_clean(data.name_en),
        sector=data.sector,
        agency_id=agency.id,
        region_code=agency.region_code,
        description=_clean(data.description) or "",
        description_en=_clean(data.description_en),
        link_url=_clean(data.link_url),
        active=True,
        created_by=by.actor.ref,
        channels=[],
        resources=[],
    )
    service.agency = agency
    session.add(service)
    _set_channels(service, channels)
    _set_resources(service, resource_ids)
    session.flush()
    _event(
        session,
        service,
        "created",
        by,
        channels=[c for c, _d in channels],
        resources=len(resource_ids),
        article="Art 20",
    )
    return service


def update_service(session: Session, service_id: int, data: ServiceUpdate, *, by: Principal) -> GuideService:
    """Change a service; only the fields sent change. Moving it to another agency needs the
    authority over both agencies."""
    service = get_service(session, service_id)
    _check_scope(session, by, service.agency)
    sent = data.model_dump(exclude_unset=True)
    for required in ("name", "sector", "agency", "channels"):
        if required in sent and sent[required] is None:
            raise InvalidInput(
                "guide.field.required", f"{required} 不能为空", f"{required} cannot be empty", field=required
            )
    changed: list[str] = []
    agency = service.agency
    if "agency" in sent and sent["agency"].strip() != agency.code:
        agency = _agency(session, sent["agency"])
        if agency.id != service.agency_id:
            _check_scope(session, by, agency)
            changed.append("agency")
    new: dict[str, Any] = {}
    for f in CONTENT_FIELDS:
        if f in sent:
            value = sent[f].strip() if f == "name" else _clean(sent[f])
            if f == "description":
                value = value or ""
            if getattr(service, f) != value:
                new[f] = value
                changed.append(f)
    channels = _channels(data.channels) if data.channels is not None else None
    if channels is not None and channels != [(c.channel, c.detail) for c in service.channels]:
        changed.append("channels")
    resource_ids = _resource_ids(session, data.resources) if data.resources is not None else None
    if resource_ids is not None and set(resource_ids) != {r.resource_id for r in service.resources}:
        changed.append("resources")
    if not changed:
        return service
    name = new.get("name", service.name)
    if "name" in new or "agency" in changed:
        _check_name_free(session, agency.id, name, service.id)
    previous_agency = service.agency.code
    for f, value in new.items():
        setattr(service, f, value)
    if "agency" in changed:
        service.agency_id, service.region_code = agency.id, agency.region_code
        service.agency = agency
    if channels is not None:
        _set_channels(service, channels)
    if resource_ids is not None:
        _set_resources(service, resource_ids)
    session.flush()
    extra = {"previous_agency": previous_agency} if "agency" in changed else {}
    _event(session, service, "updated", by, changed=changed, **extra)
    return service


def deactivate_service(session: Session, service_id: int, *, reason: str, by: Principal) -> GuideService:
    """Take a service out of the public guide (it stays on record, with its reason)."""
    service = get_service(session, service_id)
    _check_scope(session, by, service.agency)
    if not service.active:
        raise Conflict("guide.service.inactive", "该服务已停用", "The service is already inactive", field="active")
    text = _clean(reason)
    if not text:
        raise InvalidInput("guide.reason.required", "请写明理由", "A reason is required", field="reason")
    service.active = False
    service.deactivated_at = clock.now()
    service.deactivation_reason = text
    session.flush()
    _event(session, service, "deactivated", by, reason=text)
    return service


def activate_service(session: Session, service_id: int, *, by: Principal) -> GuideService:
    service = get_service(session, service_id)
    _check_scope(session, by, service.agency)
    if service.active:
        raise Conflict("guide.service.active", "该服务已在使用中", "The service is already active", field="active")
    if not service.agency.active:
        raise Conflict(
            "guide.agency.inactive",
            f"{service.agency.name} 已停用",
            f"{service.agency.code} is inactive",
            field="agency",
        )
    service.active = True
    service.deactivated_at = None
    service.deactivation_reason = None
    session.flush()
    _event(session, service, "activated", by)
    return service


# --- Listing ------------------------------------------------------------------------------------


@dataclasses.dataclass
class ServiceFilter:
    sector: str | None = None
    channel: str | None = None
    #: Serving agency code (or USCC).
    agency: str | None = None
    #: Region code: services of agencies in it or below it.
    region: str | None = None
    q: str | None = None
    include_inactive: bool = False
    offset: int = 0
    limit: int = 50


def _tokens(q: str | None) -> list[str]:
    if not q or not q.strip():
        return []
    out: dict[str, None] = {}
    for token in jieba.cut(q.strip()[:200]):
        t = token.strip().lower()
        if t and any(ch.isalnum() for ch in t):
            out.setdefault(t, None)
    return list(out)[:10]


def _conditions(session: Session, f: ServiceFilter) -> list[ColumnElement[bool]] | None:
    conds: list[ColumnElement[bool]] = []
    if not f.include_inactive:
        conds.append(GuideService.active.is_(True))
    if f.sector:
        conds.append(GuideService.sector == f.sector)
    if f.channel:
        conds.append(
            GuideService.id.in_(select(GuideServiceChannel.service_id).where(GuideServiceChannel.channel == f.channel))
        )
    if f.agency:
        agency_id = session.scalar(
            select(Agency.id).where(or_(Agency.code == f.agency, Agency.uscc == f.agency.upper()))
        )
        if agency_id is None:
            return None
        conds.append(GuideService.agency_id == agency_id)
    if f.region:
        path = session.scalar(select(Region.path).where(Region.code == f.region))
        if path is None:
            return None
        conds.append(GuideService.region_code.in_(registry_service.subtree_codes(path)))
    tokens = _tokens(f.q)
    if f.q and f.q.strip() and not tokens:
        return None  # text with no searchable word ("%", "(", an emoji) matches nothing, not everything
    for token in tokens:
        pattern = contains(token)
        conds.append(
            or_(
                GuideService.name.like(pattern, escape=LIKE_ESCAPE),
                func.lower(GuideService.name_en).like(pattern, escape=LIKE_ESCAPE),
                GuideService.description.like(pattern, escape=LIKE_ESCAPE),
                func.lower(func.coalesce(GuideService.description_en, "")).like(pattern, escape=LIKE_ESCAPE),
                GuideService.agency_id.in_(select(Agency.id).where(Agency.name.like(pattern, escape=LIKE_ESCAPE))),
                GuideService.id.in_(
                    select(GuideServiceChannel.service_id).where(
                        GuideServiceChannel.detail.like(pattern, escape=LIKE_ESCAPE)
                    )
                ),
            )
        )
    return conds


def list_services(session: Session, f: ServiceFilter) -> tuple[list[GuideService], int, dict[str, list[FacetCount]]]:
    """Services matching the filter (sector, then name), their total, and sector and channel counts."""
    conds = _conditions(session, f)
    if conds is None:
        return [], 0, {"sector": [], "channel": []}
    where = and_(*conds) if conds else None
    ids = select(GuideService.id)
    if where is not None:
        ids = ids.where(where)
    stmt = select(GuideService).options(*_options()).order_by(GuideService.sector, GuideService.name, GuideService.id)
    if where is not None:
        stmt = stmt.where(where)
    page = paginate(session, stmt, offset=f.offset, limit=f.limit, unique=True)
    rows, total = list(page.rows), page.total
    sectors = session.execute(
        select(GuideService.sector, func.count()).where(GuideService.id.in_(ids)).group_by(GuideService.sector)
    ).all()
    channels: dict[str, int] = {
        c: n
        for c, n in session.execute(
            select(GuideServiceChannel.channel, func.count())
            .where(GuideServiceChannel.service_id.in_(ids))
            .group_by(GuideServiceChannel.channel)
        )
    }
    facets = {
        "sector": sorted(
            (
                FacetCount(
                    value=s, label=rules.label(rules.SECTORS, s), label_en=rules.label(rules.SECTORS, s, "en"), count=n
                )
                for s, n in sectors
            ),
            key=lambda c: (-c.count, c.value),
        ),
        "channel": [
            FacetCount(
                value=c,
                label=rules.label(rules.CHANNELS, c),
                label_en=rules.label(rules.CHANNELS, c, "en"),
                count=channels[c],
            )
            for c in rules.CHANNELS
            if c in channels
        ],
    }
    return rows, total, facets


# --- Read models --------------------------------------------------------------------------------


def _visible_resources(
    session: Session, services: Sequence[GuideService], viewer: Principal | None
) -> dict[int, ResourceBrief]:
    """Linked catalog entries the viewer may open: published, and open to the public for visitors."""
    ids = sorted({r.resource_id for s in services for r in s.resources})
    if not ids:
        return {}
    cond = CatalogResource.status == "published"
    if viewer is None:
        cond = and_(cond, CatalogResource.open_to_public.is_(True))
    rows = session.execute(
        select(CatalogResource.id, CatalogResource.code, CatalogResource.name, CatalogResource.name_en).where(
            CatalogResource.id.in_(ids), cond
        )
    )
    return {rid: ResourceBrief(code=code, name=name, name_en=name_en) for rid, code, name, name_en in rows if code}


def read_models(session: Session, services: Sequence[GuideService], viewer: Principal | None) -> list[ServiceRead]:
    visible = _visible_resources(session, services, viewer)
    out = []
    for s in services:
        a = s.agency
        resources = sorted(
            (visible[r.resource_id] for r in s.resources if r.resource_id in visible), key=lambda b: b.code
        )
        out.append(
            ServiceRead(
                id=s.id,
                name=s.name,
                name_en=s.name_en,
                sector=s.sector,
                sector_label=rules.label(rules.SECTORS, s.sector),
                sector_label_en=rules.label(rules.SECTORS, s.sector, "en"),
                agency=AgencyBrief(code=a.code, name=a.name, name_en=a.name_en),
                region_code=s.region_code,
                description=s.description,
                description_en=s.description_en,
                link_url=s.link_url,
                channels=[
                    ChannelRead(
                        channel=c.channel,
                        label=rules.label(rules.CHANNELS, c.channel),
                        label_en=rules.label(rules.CHANNELS, c.channel, "en"),
                        detail=c.detail,
                    )
                    for c in s.channels
                ],
                resources=resources,
                active=s.active,
                deactivated_at=s.deactivated_at,
                deactivation_reason=s.deactivation_reason,
                created_at=s.created_at,
                updated_at=s.updated_at,
            )
        )
    return out


def read_model(session: Session, service: GuideService, viewer: Principal | None) -> ServiceRead:
    return read_models(session, [service], viewer)[0]
