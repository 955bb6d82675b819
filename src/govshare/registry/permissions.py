"""Who may do what in the registry, scoped by region and agency (Art 5, 31).

An authority manages its own region and every region below it; agency admins manage their own
agency's profile, people and clients; staff and everyone signed in may read agencies (the
registry itself is not secret: it is the directory the catalog points at).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends

from govshare.core.auth import Principal, require
from govshare.core.errors import Forbidden

#: Those who manage agencies' people and clients: authorities and agency admins (Art 5, 30).
Manager = Annotated[Principal, Depends(require("authority", "agency_admin"))]


def _deny(what_zh: str, what_en: str) -> Forbidden:
    return Forbidden(
        "registry.out_of_scope",
        f"无权{what_zh}：超出您的管辖范围",
        f"Not allowed to {what_en}: outside your scope",
        article="Art 5",
    )


def check_manage_region(p: Principal, region_path: str) -> None:
    if not p.covers_region(region_path, "authority"):
        raise _deny("管理该行政区划", "manage this region")


def check_manage_agency(p: Principal, agency_id: int, region_path: str) -> None:
    """Authorities of the agency's region (or above) and the agency's own admin."""
    if p.covers_region(region_path, "authority") or p.in_agency(agency_id, "agency_admin"):
        return
    raise _deny("修改该机关", "change this agency")


#: Profile fields that fix an agency's legal standing: its Art 2 kind, its place in a provincial
#: vertical system and its role as the region's competent authority (Art 5), and whether it is
#: active at all. Only an authority over the agency's region may change them, not its own admin.
AUTHORITY_ONLY_FIELDS = ("kind", "vertical_system", "is_authority", "active")


def check_update_agency(p: Principal, agency_id: int, region_path: str, fields: Iterable[str]) -> None:
    """Authorities of the region change any field; the agency's own admin edits its profile
    (names, Art 30 responsible unit and person, contact) but not :data:`AUTHORITY_ONLY_FIELDS`."""
    if p.covers_region(region_path, "authority"):
        return
    check_manage_agency(p, agency_id, region_path)
    locked = [f for f in AUTHORITY_ONLY_FIELDS if f in set(fields)]
    if locked:
        raise Forbidden(
            "registry.agency.authority_only_field",
            f"{locked[0]} 只能由信息化主管部门修改",
            f"Only the competent authority may change {locked[0]}",
            field=locked[0],
            article="Art 5",
        )


def check_create_agency(p: Principal, region_path: str) -> None:
    if not p.covers_region(region_path, "authority"):
        raise _deny("在该行政区划登记机关", "register an agency in this region")


def can_view_people_of_agency(p: Principal, agency_id: int, region_path: str) -> bool:
    return p.covers_region(region_path, "authority", "supervisor") or p.in_agency(
        agency_id, "agency_admin", "agency_staff"
    )


def check_grant(p: Principal, role: str, *, agency_id: int | None, region_path: str) -> None:
    """Authorities may grant any role within their region; agency admins only agency roles in
    their own agency."""
    if p.covers_region(region_path, "authority"):
        return
    if agency_id is not None and role in ("agency_staff", "agency_admin") and p.in_agency(agency_id, "agency_admin"):
        return
    raise _deny("授予该角色", "grant this role")


def deny_manage_person() -> Forbidden:
    """A person without roles is in no scope: only an authority may change them."""
    return _deny("管理该用户", "manage this person")
