"""Who may do what in the catalog, scoped by agency and region (Art 5, 8-10, 31).

* Providers (agency staff and admins of the providing agency) draft, edit, submit and revise
  their agency's entries, and discard an entry that was never published.
* The competent authority of the provider's region, or of a region above it, publishes, sends
  back, approves or rejects revisions and withdraws entries (Art 8, 9(2), 10(2)).
* Reading: anyone reads published entries that are open to the public; anyone signed in reads
  every published entry (that is what sharing means); providers read their own drafts;
  authorities and supervisors read every non-draft entry in their regions.
* Demands (Art 9): staff of the requesting agency file and edit them; the authority of the
  requester's region (or above) matches and routes them; candidate providers a demand was
  routed to may read it.

:func:`visible_condition` is the SQL form of :func:`can_view`, and the search's in-memory index
applies the same rule over bitsets (``search._selection``, from :func:`provider_agency_ids` and
``OVERSEERS``); ``tests/catalog/test_catalog_visibility.py`` holds all three together.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, and_, or_, true

from govshare.core.auth import AgencyMember, Principal, require
from govshare.core.errors import Forbidden

AGENCY_ROLES = ("agency_staff", "agency_admin")

#: Staff of a providing agency: they draft, edit and submit their agency's entries.
Provider = AgencyMember
#: Withdrawing an entry or closing a demand: the authority, or the provider/requester itself.
AuthorityOrProvider = Annotated[Principal, Depends(require("authority", *AGENCY_ROLES))]


def _deny(what_zh: str, what_en: str, article: str = "Art 9") -> Forbidden:
    return Forbidden("catalog.out_of_scope", f"无权{what_zh}", f"Not allowed to {what_en}", article=article)


def provider_agency_ids(p: Principal) -> set[int]:
    return p.agency_ids(*AGENCY_ROLES)


def is_provider(p: Principal, agency_id: int) -> bool:
    return p.in_agency(agency_id, *AGENCY_ROLES)


def check_provider(p: Principal, agency_id: int) -> None:
    if not is_provider(p, agency_id):
        raise _deny("编辑其他机关的目录条目", "edit another agency's catalog entries")


def is_authority_for(p: Principal, region_path: str) -> bool:
    return p.covers_region(region_path, "authority")


def check_authority(p: Principal, region_path: str) -> None:
    if not is_authority_for(p, region_path):
        raise _deny(
            "审核该目录条目：须由提供单位所在地区或上级的信息化主管部门审核",
            "review this entry: only the authority of the provider's region or above may",
            "Art 9",
        )


# --- Who may see an entry: one rule, as a predicate for one entry and a condition for lists -------

#: Region roles that read every entry of their regions except drafts.
OVERSEERS = ("authority", "supervisor")


def can_view(p: Principal | None, *, status: str, open_to_public: bool, provider_id: int, region_path: str) -> bool:
    """May ``p`` (``None``: the public) read an entry? The rule:

    * anyone: published entries open to the public;
    * anyone signed in (people and machine clients): every published entry, since sharing between
      agencies is what the catalog is for (Art 9);
    * the provider's staff: their agency's entries in any status;
    * authorities and supervisors: every entry but drafts in their regions (Art 8, 32).

    :func:`visible_condition` is the same rule in SQL; a test holds the two together for every role.
    """
    if status == "published" and (open_to_public or p is not None):
        return True
    if p is None:
        return False
    if is_provider(p, provider_id):
        return True
    return status != "draft" and p.covers_region(region_path, *OVERSEERS)


def visible_condition(p: Principal | None, t: Any = None) -> ColumnElement[bool]:
    """:func:`can_view` as a WHERE clause over ``t`` (the entry table or an alias of it)."""
    from govshare.catalog.models import CatalogResource
    from govshare.registry import service as registry_service

    t = CatalogResource if t is None else t
    published = t.status == "published"
    if p is None:
        return and_(published, t.open_to_public.is_(True))
    if p.is_system:
        return true()
    conds: list[ColumnElement[bool]] = [published]
    own = provider_agency_ids(p)
    if own:
        conds.append(t.provider_id.in_(sorted(own)))
    overseen = p.region_paths(*OVERSEERS)
    if overseen:
        conds.append(and_(t.status != "draft", registry_service.in_subtrees(t.region_code, overseen)))
    return or_(*conds)


def can_view_history(p: Principal | None, *, provider_id: int, region_path: str) -> bool:
    """Unpublished versions (drafts, pending and rejected revisions) are for the provider, the
    authority and supervisors; everyone else sees the published versions only."""
    if p is None:
        return False
    return is_provider(p, provider_id) or p.covers_region(region_path, *OVERSEERS)


# --- Demands ------------------------------------------------------------------------------------


def check_file_demand(p: Principal, agency_id: int) -> None:
    if not is_provider(p, agency_id):
        raise _deny("以其他机关名义提出共享需求", "file a demand for another agency")


def check_manage_demand(p: Principal, region_path: str) -> None:
    if not p.covers_region(region_path, "authority"):
        raise _deny(
            "协调该共享需求：须由需求机关所在地区或上级的信息化主管部门处理",
            "coordinate this demand: only the authority of the requester's region or above may",
        )


def can_view_demand(p: Principal, *, requester_id: int, region_path: str, routed_to: set[int]) -> bool:
    return (
        is_provider(p, requester_id)
        or p.covers_region(region_path, "authority", "supervisor")
        or bool(provider_agency_ids(p) & routed_to)
    )
