"""Who may do what in the quality domain, scoped by agency and region (Art 5, 11, 12, 31, 32).

* Data elements: anyone signed in reads the register (it is the platform's vocabulary); the
  competent authority keeps it (Art 12: it organises the information resources of its region).
* Source assignments (Art 11(1), Art 12): the authority of a region, or of a region above it,
  assigns and ends collection duties there. Everyone signed in reads them: an agency must know
  whom to obtain a datum from instead of collecting it again.
* Item links: the entry's provider or the authority of its region links its items to elements.
* Duplicate-collection flags (Art 11(1)): the flagged agency reads and answers its own; the
  assigned agency reads those about its elements; the authority and supervisors of the region read
  every one.
* Reconciliations and verification tasks (Art 11(2)): the secondary holder's staff run a
  reconciliation for their agency; it, the primary agency, and the authority and supervisors of
  the primary source's region read the report and the task; only the primary agency answers.
* Quality checks (Art 12): the provider, the authority and supervisors of its region read them;
  the provider or the authority runs them on demand.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, false, or_, true

from govshare.core.auth import Principal, require
from govshare.core.errors import Forbidden

AGENCY_ROLES = ("agency_staff", "agency_admin")
OVERSEERS = ("authority", "supervisor")

#: Read quality data: agency staff, authorities, supervisors.
Reader = Annotated[Principal, Depends(require("authority", "supervisor", *AGENCY_ROLES))]
#: Agency staff acting for their agency (run a reconciliation, answer flags and tasks).
AgencyStaff = Annotated[Principal, Depends(require(*AGENCY_ROLES))]
#: The authority (keeps the register, assigns sources).
AuthorityOnly = Annotated[Principal, Depends(require("authority"))]
#: Providers or the authority (link items, run checks).
ProviderOrAuthority = Annotated[Principal, Depends(require("authority", *AGENCY_ROLES))]


def _deny(code: str, zh: str, en: str, article: str) -> Forbidden:
    return Forbidden(code, zh, en, article=article)


def is_member(p: Principal, agency_id: int) -> bool:
    return p.in_agency(agency_id, *AGENCY_ROLES)


def check_authority(p: Principal, region_path: str) -> None:
    if not p.covers_region(region_path, "authority"):
        raise _deny(
            "quality.authority_only",
            "只有该地区（或上级）的信息化主管部门可以确定数据的采集单位",
            "Only the competent authority of the region (or above) may assign collection duties",
            "Art 12",
        )


def check_keep_register(p: Principal) -> None:
    if not p.has_role("authority"):
        raise _deny(
            "quality.authority_only",
            "只有信息化主管部门可以维护数据元目录",
            "Only a competent authority may keep the register of data elements",
            "Art 12",
        )


def check_member(p: Principal, agency_id: int, *, article: str = "Art 11") -> None:
    if not is_member(p, agency_id):
        raise _deny("quality.agency_only", "只能以本单位名义办理", "You may act only for your own agency", article)


def check_provider_or_authority(p: Principal, agency_id: int, region_path: str) -> None:
    if is_member(p, agency_id) or p.covers_region(region_path, "authority"):
        return
    raise _deny(
        "quality.out_of_scope",
        "须为该资源的提供单位或所在地区（或上级）信息化主管部门",
        "Only the entry's provider or the authority of its region may do this",
        "Art 12",
    )


def can_read(p: Principal, agency_ids: tuple[int, ...], region_path: str) -> bool:
    return any(is_member(p, a) for a in agency_ids) or p.covers_region(region_path, *OVERSEERS)


def readable_condition(p: Principal, agency_columns: tuple[Any, ...], region_column: Any) -> ColumnElement[bool]:
    """:func:`can_read` as a WHERE clause over agency id columns and a region code column."""
    from govshare.registry import service as registry_service

    if p.is_system:
        return true()
    conds: list[ColumnElement[bool]] = []
    own = sorted(p.agency_ids(*AGENCY_ROLES))
    if own:
        conds += [c.in_(own) for c in agency_columns]
    paths = p.region_paths(*OVERSEERS)
    if paths:
        conds.append(registry_service.in_subtrees(region_column, paths))
    return or_(*conds) if conds else false()
