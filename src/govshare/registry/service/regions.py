"""Regions (Art 5): the tree, and "this region and every region below it" written once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import Session

from govshare.core import events
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, InvalidInput, NotFound
from govshare.registry import permissions as perm
from govshare.registry import rules
from govshare.registry.models import (
    Agency,
    Region,
)
from govshare.registry.schemas import RegionCreate

# --- Regions ------------------------------------------------------------------------------------


def get_region(session: Session, code: str) -> Region:
    region = session.get(Region, code)
    if region is None:
        raise NotFound(
            "registry.region.not_found", f"行政区划 {code} 不存在", f"Region {code} not found", field="region_code"
        )
    return region


# --- Region scoping: "this region and every region below it", written once ---------------------


def _path_within(path: str) -> ColumnElement[bool]:
    return or_(Region.path == path, Region.path.like(path + "/%"))


def subtree_codes(path: str) -> Select[tuple[str]]:
    """The codes of the region at ``path`` and of every region below it, as a subquery."""
    return select(Region.code).where(_path_within(path))


def in_subtrees(column: Any, paths: Iterable[str]) -> ColumnElement[bool]:
    """``column`` (a region code) lies in one of the subtrees at ``paths``; false for none."""
    paths = list(paths)
    if not paths:
        return false()
    return column.in_(select(Region.code).where(or_(*[_path_within(p) for p in paths])))


def in_scope_of(column: Any, by: Principal, *roles: str) -> ColumnElement[bool]:
    """``column`` (a region code) lies in a region ``by`` oversees through one of ``roles``: the SQL
    form of ``Principal.covers_region``. The platform itself oversees every region."""
    if by.is_system:
        return true()
    return in_subtrees(column, by.region_paths(*roles))


def region_codes_under(session: Session, path: str) -> set[str]:
    return set(session.scalars(subtree_codes(path)))


def agency_codes_in_subtrees(paths: Iterable[str]) -> Select[tuple[str]]:
    """The codes of the agencies of the regions in the subtrees at ``paths``, as a subquery."""
    return select(Agency.code).where(in_subtrees(Agency.region_code, paths))


def list_regions(session: Session, *, parent_code: str | None = None, under: str | None = None) -> Sequence[Region]:
    stmt = select(Region).order_by(Region.code)
    if parent_code is not None:
        stmt = stmt.where(Region.parent_code == parent_code)
    if under is not None:
        root = get_region(session, under)
        stmt = stmt.where(_path_within(root.path))
    return session.scalars(stmt).all()


def create_region(session: Session, data: RegionCreate, *, by: Principal) -> Region:
    if session.get(Region, data.code) is not None:
        raise Conflict(
            "registry.region.exists", f"行政区划 {data.code} 已存在", f"Region {data.code} already exists", field="code"
        )
    level = rules.region_level_of(data.code)
    if data.parent_code is None:
        if not by.is_system:  # only the operator plants the root of the tree
            raise InvalidInput(
                "registry.region.parent_required",
                "须指定上级行政区划",
                "A parent region is required",
                field="parent_code",
            )
        path = data.code
    else:
        parent = get_region(session, data.parent_code)
        perm.check_manage_region(by, parent.path)
        if rules.REGION_LEVELS.index(level) <= rules.REGION_LEVELS.index(parent.level):
            raise InvalidInput(
                "registry.region.level",
                f"{data.code} 为{rules.REGION_LEVEL_NAMES[level][0]}代码，不能隶属于{parent.name}",
                f"{data.code} is a {level} code and cannot sit under {parent.name} ({parent.level})",
                field="code",
            )
        if not rules.region_fits_parent(data.code, parent.code, parent.level):
            raise InvalidInput(
                "registry.region.outside_parent",
                f"{data.code} 不属于 {parent.code} {parent.name}（代码前缀不符，GB/T 2260）",
                f"{data.code} does not belong to {parent.code} {parent.name}: its code prefix differs (GB/T 2260)",
                field="code",
            )
        path = f"{parent.path}/{data.code}"
    region = Region(
        code=data.code, name=data.name, name_en=data.name_en, level=level, parent_code=data.parent_code, path=path
    )
    session.add(region)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="registry.region.created",
        subject_type="region",
        subject_id=region.code,
        region_code=region.code,
        data={"name": region.name, "parent": region.parent_code, "level": level},
    )
    return region
