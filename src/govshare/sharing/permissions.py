"""Who may do what in the sharing domain (Art 5, 13, 17-19, 30-32).

* An agency's staff and admins see their agency's requests in both directions (as requester and
  as provider), its agreements and its grants. They file requests for their own agency; the
  provider's staff answer (approve or refuse) and revoke grants.
* Agreements (Art 19) are signed by the responsible person (共享负责人, Art 30) of each party: the
  ``agency_admin`` of that agency.
* The competent authority sees every request, grant and refusal filing touching its region or a
  region below it (requester's or provider's); supervisors read the same (Art 32); the secrecy
  administration reads them too and decides state-secret disputes of its region (Art 19(2)).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, false, or_, true

from govshare.core.auth import AgencyMember, Principal, require
from govshare.core.errors import Forbidden

AGENCY_ROLES = ("agency_staff", "agency_admin")
OVERSEERS = ("authority", "supervisor", "secrecy_admin")

#: File requests, answer them, revoke grants: agency staff and admins (scope checked per object).
Member = AgencyMember
#: Sign an agreement: an agency's responsible person.
Signer = Annotated[Principal, Depends(require("agency_admin"))]
#: Read requests, agreements, grants, filings.
Reader = Annotated[Principal, Depends(require("authority", "supervisor", "secrecy_admin", *AGENCY_ROLES))]
#: Open a dispute (a party) or decide one (secrecy administration; the authority records the organ's).
DisputeActor = Annotated[Principal, Depends(require("authority", "secrecy_admin", *AGENCY_ROLES))]


def _deny(code: str, zh: str, en: str, article: str) -> Forbidden:
    return Forbidden(code, zh, en, article=article)


def is_member(p: Principal, agency_id: int) -> bool:
    return p.in_agency(agency_id, *AGENCY_ROLES)


def can_read(p: Principal, agency_ids: tuple[int, ...], region_paths: tuple[str, ...]) -> bool:
    """A party's member, or an overseer of one of the parties' regions."""
    return any(is_member(p, a) for a in agency_ids) or any(p.covers_region(r, *OVERSEERS) for r in region_paths)


def readable_condition(
    p: Principal, agency_columns: tuple[Any, ...], region_columns: tuple[Any, ...]
) -> ColumnElement[bool]:
    """:func:`can_read` as a WHERE clause."""
    from govshare.registry import service as registry_service

    if p.is_system:
        return true()
    conds: list[ColumnElement[bool]] = []
    own = sorted(p.agency_ids(*AGENCY_ROLES))
    if own:
        conds.extend(col.in_(own) for col in agency_columns)
    paths = p.region_paths(*OVERSEERS)
    if paths:
        conds.extend(registry_service.in_subtrees(col, paths) for col in region_columns)
    return or_(*conds) if conds else false()


def check_request_for(p: Principal, requester_id: int) -> None:
    if not is_member(p, requester_id):
        raise _deny(
            "sharing.request.out_of_scope",
            "只能以本机关名义提出共享申请",
            "You may file sharing requests only for your own agency",
            "Art 17",
        )


def check_answer(p: Principal, provider_id: int) -> None:
    if not is_member(p, provider_id):
        raise _deny(
            "sharing.answer.provider_only",
            "只有提供单位的工作人员可以答复该申请",
            "Only the providing agency's staff may answer this request",
            "Art 18",
        )


def check_sign(p: Principal, agency_id: int) -> None:
    if not p.in_agency(agency_id, "agency_admin"):
        raise _deny(
            "sharing.agreement.responsible_person_only",
            "保密协议须由本机关共享负责人（机关管理员）签署",
            "The agreement is signed by the agency's responsible person (its agency admin)",
            "Art 30",
        )


def check_revoke(p: Principal, provider_id: int) -> None:
    if not is_member(p, provider_id):
        raise _deny(
            "sharing.grant.provider_only",
            "只有提供单位可以撤销共享授权",
            "Only the providing agency may revoke the grant",
            "Art 17",
        )


def check_dispute_party(p: Principal, agency_ids: tuple[int, ...]) -> None:
    if not any(is_member(p, a) for a in agency_ids):
        raise _deny(
            "sharing.dispute.party_only",
            "只有申请方或提供方可以提出争议",
            "Only the requester or the provider may raise a dispute",
            "Art 19(2)",
        )


def check_decide(p: Principal, decider: str, region_path: str) -> None:
    """State secrets: the secrecy administration of the region (or above). Commercial secrets and
    privacy: the authority records the competent organ's decision."""
    role = "secrecy_admin" if decider == "secrecy_admin" else "authority"
    if not p.covers_region(region_path, role):
        if role == "secrecy_admin":
            raise _deny(
                "sharing.dispute.secrecy_admin_only",
                "是否属于国家秘密由保密行政管理部门决定",
                "Whether data is a state secret is decided by the secrecy administration",
                "Art 19(2)",
            )
        raise _deny(
            "sharing.dispute.authority_only",
            "商业秘密、个人隐私争议由信息化主管部门登记有关国家机关的决定",
            "The authority records the competent state organ's decision on commercial secrets and privacy",
            "Art 19(2)",
        )
