"""Agencies (Art 2, 5, 30): registration, profiles, one competent authority per region."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govshare.core import events, refs
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, NotFound
from govshare.core.paging import paginate
from govshare.core.text import LIKE_ESCAPE, contains
from govshare.registry import permissions as perm
from govshare.registry.models import (
    Agency,
)
from govshare.registry.schemas import AgencyCreate, AgencyUpdate
from govshare.registry.service.regions import get_region, subtree_codes

# --- Agencies -----------------------------------------------------------------------------------


def get_agency(session: Session, ref: str | int) -> Agency:
    """By id, short code or USCC."""
    # An int is an id, as before (the database guard refuses one no backend can store); text is an id
    # only when it is ASCII digits within the id range (core.refs), else a code or a USCC.
    agency_id = ref if isinstance(ref, int) else refs.id_of(ref)
    if agency_id is not None:
        agency = session.get(Agency, agency_id)
    else:
        agency = session.scalar(select(Agency).where(or_(Agency.code == ref, Agency.uscc == str(ref).upper())))
    if agency is None:
        raise NotFound("registry.agency.not_found", f"机关 {ref} 不存在", f"Agency {ref} not found", field="agency")
    return agency


def region_path_of(session: Session, region_code: str) -> str:
    return get_region(session, region_code).path


def list_agencies(
    session: Session,
    *,
    region: str | None = None,
    include_subregions: bool = True,
    missing_responsible: bool = False,
    q: str | None = None,
    authority_only: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[Sequence[Agency], int]:
    stmt = select(Agency)
    if region is not None:
        root = get_region(session, region)
        if include_subregions:
            stmt = stmt.where(Agency.region_code.in_(subtree_codes(root.path)))
        else:
            stmt = stmt.where(Agency.region_code == root.code)
    if missing_responsible:
        # Art 30: every agency names a responsible internal unit and person.
        stmt = stmt.where(
            or_(
                Agency.responsible_person.is_(None),
                Agency.responsible_person == "",
                Agency.responsible_unit.is_(None),
                Agency.responsible_unit == "",
            )
        )
    if authority_only:
        stmt = stmt.where(Agency.is_authority.is_(True))
    if q:
        like = contains(q)
        stmt = stmt.where(
            or_(
                Agency.name.like(like, escape=LIKE_ESCAPE),
                Agency.code.like(like, escape=LIKE_ESCAPE),
                Agency.uscc.like(like, escape=LIKE_ESCAPE),
            )
        )
    page = paginate(session, stmt.order_by(Agency.region_code, Agency.code), offset=offset, limit=limit)
    return page.rows, page.total


def _agency_event_data(agency: Agency) -> dict[str, object]:
    return {
        "code": agency.code,
        "uscc": agency.uscc,
        "name": agency.name,
        "region": agency.region_code,
        "kind": agency.kind,
        "vertical_system": agency.vertical_system,
        "is_authority": agency.is_authority,
        "responsible_unit": agency.responsible_unit,
        "responsible_person": agency.responsible_person,
    }


def create_agency(session: Session, data: AgencyCreate, *, by: Principal) -> Agency:
    region = get_region(session, data.region_code)
    perm.check_create_agency(by, region.path)
    for column, value, field in ((Agency.code, data.code, "code"), (Agency.uscc, data.uscc, "uscc")):
        if session.scalar(select(Agency.id).where(column == value)) is not None:
            raise Conflict(
                f"registry.agency.{field}_taken", f"{value} 已被其他机关使用", f"{value} is already in use", field=field
            )
    if data.is_authority:
        _check_single_authority(session, region.code, None)
    agency = Agency(
        code=data.code,
        uscc=data.uscc,
        name=data.name,
        name_en=data.name_en,
        region_code=region.code,
        level=region.level,
        kind=data.kind,
        vertical_system=data.vertical_system,
        is_authority=data.is_authority,
        responsible_unit=data.responsible_unit,
        responsible_person=data.responsible_person,
        responsible_phone=data.responsible_phone,
        active=True,
    )
    session.add(agency)
    _flush_agency(session, agency)
    events.record(
        session,
        actor=by.actor,
        action="registry.agency.created",
        subject_type="agency",
        subject_id=agency.code,
        region_code=agency.region_code,
        agency_code=agency.code,
        data=_agency_event_data(agency),
    )
    return agency


def _flush_agency(session: Session, agency: Agency) -> None:
    """Flush, turning a unique index's refusal (a concurrent request got there first) into a 409."""
    authority = agency.is_authority  # read now: a failed flush expires the object
    try:
        session.flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        if authority and ("uq_agency_authority_region" in message or "agency.region_code" in message):
            raise Conflict(
                "registry.agency.authority_exists",
                "该地区已有信息化主管部门",
                "This region already has a competent authority",
                field="is_authority",
                article="Art 5",
            ) from exc
        raise Conflict("registry.agency.taken", "机构代号或信用代码已被使用", "Code or USCC already in use") from exc


def _check_single_authority(session: Session, region_code: str, except_id: int | None) -> None:
    """Art 5: one competent authority (信息化主管部门) per region."""
    stmt = select(Agency).where(Agency.region_code == region_code, Agency.is_authority.is_(True))
    if except_id is not None:
        stmt = stmt.where(Agency.id != except_id)
    other = session.scalar(stmt)
    if other is not None:
        raise Conflict(
            "registry.agency.authority_exists",
            f"该地区已有信息化主管部门：{other.name}",
            f"This region already has a competent authority: {other.code}",
            field="is_authority",
            article="Art 5",
        )


def update_agency(session: Session, ref: str | int, data: AgencyUpdate, *, by: Principal) -> Agency:
    agency = get_agency(session, ref)
    changes = data.model_dump(exclude_unset=True)
    perm.check_update_agency(by, agency.id, region_path_of(session, agency.region_code), changes)
    if changes.get("is_authority"):
        _check_single_authority(session, agency.region_code, agency.id)
    before = {k: getattr(agency, k) for k in changes}
    for key, value in changes.items():
        setattr(agency, key, value)
    diff = {k: {"from": before[k], "to": v} for k, v in changes.items() if before[k] != v}
    if not diff:
        return agency
    _flush_agency(session, agency)
    events.record(
        session,
        actor=by.actor,
        action="registry.agency.updated",
        subject_type="agency",
        subject_id=agency.code,
        region_code=agency.region_code,
        agency_code=agency.code,
        data={"changes": diff},
    )
    return agency
