"""Who may do what in the exchange domain, scoped by agency and region (Art 5, 14, 15, 31, 32).

* Interfaces (Art 15(1)): the providing agency's staff and admins attach, change and detach the
  interface of their agency's entries; so may the competent authority of the entry's region or a
  region above it (Art 8: it builds the exchange system). They, and supervisors of the region,
  read interfaces; nobody else (a base URL is internal network information).
* Dataset versions: only the provider's staff upload (the provider answers for its data, Art 11)
  and preview the data; the authority and supervisors of the region read the versions' metadata
  (sizes, digests, times), never the data. Consumers obtain data through the gateway only.
* Off-platform filings (Art 14(3)): an agency's staff file for their agency and report its
  statistics; the authority of the agency's region (or above) and supervisors read them and the
  overdue list; the agency reads its own.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, false, or_, true

from govshare.core.auth import AgencyMember, Principal, require
from govshare.core.errors import Forbidden

AGENCY_ROLES = ("agency_staff", "agency_admin")
OVERSEERS = ("authority", "supervisor")

#: Providers' staff: upload and preview.
Provider = AgencyMember
#: Attach, change, detach an interface: the provider's staff or the authority.
InterfaceManager = Annotated[Principal, Depends(require("authority", *AGENCY_ROLES))]
#: Read interfaces, versions, filings: the provider's staff, the authority, supervisors.
Reader = Annotated[Principal, Depends(require("authority", "supervisor", *AGENCY_ROLES))]
#: Look up who used a person's or enterprise's data: the authority and supervisors only.
Overseer = Annotated[Principal, Depends(require(*OVERSEERS))]


def _deny(code: str, zh: str, en: str, article: str) -> Forbidden:
    return Forbidden(code, zh, en, article=article)


def is_member(p: Principal, agency_id: int) -> bool:
    return p.in_agency(agency_id, *AGENCY_ROLES)


def check_manage_interface(p: Principal, provider_id: int, region_path: str) -> None:
    if is_member(p, provider_id) or p.covers_region(region_path, "authority"):
        return
    raise _deny(
        "exchange.out_of_scope",
        "无权管理该资源的接口：须为提供单位或所在地区（或上级）信息化主管部门",
        "Not allowed to manage this entry's interface: only its provider or the authority of its region may",
        "Art 15",
    )


def check_provider(p: Principal, provider_id: int) -> None:
    """Uploading and previewing data: the provider only (Art 11: it answers for its data)."""
    if not is_member(p, provider_id):
        raise _deny(
            "exchange.provider_only",
            "只有提供单位的工作人员可以上传或预览该资源的数据",
            "Only the providing agency's staff may upload or preview this entry's data",
            "Art 15",
        )


def can_read(p: Principal, agency_id: int, region_path: str) -> bool:
    return is_member(p, agency_id) or p.covers_region(region_path, *OVERSEERS)


def readable_condition(p: Principal, agency_column: Any, region_column: Any) -> ColumnElement[bool]:
    """:func:`can_read` as a WHERE clause over an agency id and a region code column."""
    from govshare.registry import service as registry_service

    if p.is_system:
        return true()
    conds: list[ColumnElement[bool]] = []
    own = p.agency_ids(*AGENCY_ROLES)
    if own:
        conds.append(agency_column.in_(sorted(own)))
    paths = p.region_paths(*OVERSEERS)
    if paths:
        conds.append(registry_service.in_subtrees(region_column, paths))
    return or_(*conds) if conds else false()


def check_file(p: Principal, agency_id: int) -> None:
    if not is_member(p, agency_id):
        raise _deny(
            "exchange.filing.out_of_scope",
            "只能以本机关名义备案或报送统计",
            "You may file and report only for your own agency",
            "Art 14",
        )
