"""The subjects of ledger events by name, with a link to their page where the viewer has one.

An event names its subject by type and id (``catalog_resource:12``, ``agency:sz-sj``); the ledger
pages show the name instead. Names are read for a whole page of events at once: one query per
subject type present on the page, never one per event. These are reads of the other domains'
tables, for display only; nothing here writes.

A subject whose row is gone (or whose type has no table) falls back on the name the event itself
recorded in its data (``name`` or ``title``), without a link. A link is given only where the
viewer may open the page: a catalog entry they may read (drafts are the provider's), an agency's
people for those who may list them, an active service in the guide.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from govshare.catalog import permissions as catalog_perm
from govshare.catalog.models import CatalogDemand, CatalogResource
from govshare.core import refs
from govshare.core.auth import Principal
from govshare.exchange.models import ExchangeFiling, ExchangeInterface
from govshare.guide.models import GuideService
from govshare.registry import permissions as registry_perm
from govshare.registry.models import Agency, ApiClient, Person, Region, RoleGrant


@dataclasses.dataclass(frozen=True, slots=True)
class Named:
    name: str
    href: str | None = None


def _pick(name: str, name_en: str | None, lang: str) -> str:
    return (name_en or name) if lang == "en" else name


def _ints(ids: Iterable[str]) -> dict[int, str]:
    out = {}
    for raw in ids:
        n = refs.id_of(raw)
        if n is not None:
            out[n] = raw
    return out


def _resources(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
    """Catalog entries by id; the link only if the viewer may read the entry (Art 9, 32)."""
    wanted = _ints(ids)
    if not wanted:
        return {}
    visible = case((catalog_perm.visible_condition(by), True), else_=False)
    rows = session.execute(
        select(
            CatalogResource.id,
            CatalogResource.code,
            CatalogResource.name,
            CatalogResource.name_en,
            visible.label("visible"),
        ).where(CatalogResource.id.in_(list(wanted)))
    )
    return {
        wanted[r.id]: Named(
            _pick(r.name, r.name_en, lang), f"/catalog/{quote(r.code or str(r.id))}" if r.visible else None
        )
        for r in rows
    }


def _interfaces(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
    """An interface is shown as the entry it serves (its page shows the interface)."""
    wanted = _ints(ids)
    if not wanted:
        return {}
    visible = case((catalog_perm.visible_condition(by), True), else_=False)
    rows = session.execute(
        select(
            ExchangeInterface.id,
            CatalogResource.code,
            CatalogResource.name,
            CatalogResource.name_en,
            CatalogResource.id.label("rid"),
            visible.label("visible"),
        )
        .join(CatalogResource, CatalogResource.id == ExchangeInterface.resource_id)
        .where(ExchangeInterface.id.in_(list(wanted)))
    )
    return {
        wanted[r.id]: Named(
            _pick(r.name, r.name_en, lang), f"/catalog/{quote(r.code or str(r.rid))}" if r.visible else None
        )
        for r in rows
    }


def _demands(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
    wanted = _ints(ids)
    if not wanted:
        return {}
    rows = session.execute(select(CatalogDemand.id, CatalogDemand.title).where(CatalogDemand.id.in_(list(wanted))))
    return {wanted[r.id]: Named(r.title) for r in rows}


def _filings(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
    wanted = _ints(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(
            ExchangeFiling.id,
            ExchangeFiling.resource_text,
            ExchangeFiling.counterpart_name,
            CatalogResource.name,
            CatalogResource.name_en,
        )
        .outerjoin(CatalogResource, CatalogResource.id == ExchangeFiling.resource_id)
        .where(ExchangeFiling.id.in_(list(wanted)))
    )
    out = {}
    for r in rows:
        what = _pick(r.name, r.name_en, lang) if r.name else (r.resource_text or "")
        out[wanted[r.id]] = Named(" → ".join(x for x in (what, r.counterpart_name) if x))
    return out


def _regions(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
    rows = session.execute(select(Region.code, Region.name, Region.name_en).where(Region.code.in_(ids)))
    return {r.code: Named(_pick(r.name, r.name_en, lang), f"/regions/{quote(r.code)}") for r in rows}


def _agencies(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
    rows = session.execute(select(Agency.code, Agency.name, Agency.name_en).where(Agency.code.in_(ids)))
    return {r.code: Named(_pick(r.name, r.name_en, lang), f"/agencies/{quote(r.code)}") for r in rows}


def _people(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
    """People by user name (or id, as sign-outs name them), linked to the people of an agency they
    work in, when the viewer may list those (Art 30)."""
    numbers = _ints(ids)
    rows = session.execute(
        select(
            Person.id,
            Person.username,
            Person.display_name,
            Agency.id.label("agency_id"),
            Agency.code.label("agency_code"),
            Region.path,
        )
        .outerjoin(RoleGrant, (RoleGrant.person_id == Person.id) & RoleGrant.agency_id.is_not(None))
        .outerjoin(Agency, Agency.id == RoleGrant.agency_id)
        .outerjoin(Region, Region.code == Agency.region_code)
        .where(or_(Person.username.in_(ids), Person.id.in_(list(numbers))) if numbers else Person.username.in_(ids))
        .order_by(Person.id, RoleGrant.id)
    )
    out: dict[str, Named] = {}
    for r in rows:
        keys = [k for k in (r.username, numbers.get(r.id)) if k in ids]
        href = None
        if r.agency_id is not None and registry_perm.can_view_people_of_agency(by, r.agency_id, r.path):
            href = f"/agencies/{quote(r.agency_code)}/people"
        for key in keys:
            if key not in out or (out[key].href is None and href):
                out[key] = Named(r.display_name, href)
    return out


def _clients(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
    """A machine client, named with its agency and linked to the agency's page."""
    wanted = _ints(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(ApiClient.id, ApiClient.name, Agency.code, Agency.name.label("agency_name"), Agency.name_en)
        .join(Agency, Agency.id == ApiClient.agency_id)
        .where(ApiClient.id.in_(list(wanted)))
    )
    return {
        wanted[r.id]: Named(
            f"{r.name}（{_pick(r.agency_name, r.name_en, lang)}）"
            if lang == "zh"
            else f"{r.name} ({_pick(r.agency_name, r.name_en, lang)})",
            f"/agencies/{quote(r.code)}",
        )
        for r in rows
    }


def _services(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
    """A service of the guide (Art 20), linked to its place in the guide while it is listed there."""
    wanted = _ints(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(GuideService.id, GuideService.name, GuideService.name_en, GuideService.active).where(
            GuideService.id.in_(list(wanted))
        )
    )
    return {
        wanted[r.id]: Named(
            _pick(r.name, r.name_en, lang), f"/guide?{urlencode({'q': r.name})}#service-{r.id}" if r.active else None
        )
        for r in rows
    }


def _sharing(kind: str) -> Resolver:
    """A sharing request, grant or agreement, named by its number and the entry it is about, and
    linked to its page for those who may read it: the two agencies and the overseers of their
    regions (Art 17-19, 32). A grant links to the request that produced it, where the grant is
    shown; a gateway call event's subject is its grant, so the ledger leads from a call to the grant
    that allowed it."""

    def resolve(session: Session, by: Principal, ids: set[str], lang: str) -> dict[str, Named]:
        from govshare.sharing.models import SharingAgreement, SharingGrant, SharingRequest
        from govshare.sharing.service import _common as sharing_common
        from govshare.sharing.service import grants as sharing_grants

        wanted = _ints(ids)
        if not wanted:
            return {}
        if kind == "sharing_grant":
            stmt = (
                select(
                    SharingGrant.id,
                    SharingGrant.request_id,
                    CatalogResource.name,
                    CatalogResource.name_en,
                    case((sharing_grants._readable(by), True), else_=False).label("visible"),
                )
                .join(CatalogResource, CatalogResource.id == SharingGrant.resource_id)
                .where(SharingGrant.id.in_(list(wanted)))
            )
            label, page = ("共享授权", "Sharing grant"), "/sharing/requests/{request_id}"
        else:
            visible = case((sharing_common.request_readable(by), True), else_=False).label("visible")
            if kind == "sharing_request":
                stmt = select(
                    SharingRequest.id,
                    SharingRequest.id.label("request_id"),
                    CatalogResource.name,
                    CatalogResource.name_en,
                    visible,
                ).where(SharingRequest.id.in_(list(wanted)))
                label, page = ("共享申请", "Sharing request"), "/sharing/requests/{id}"
            else:
                stmt = (
                    select(
                        SharingAgreement.id,
                        SharingAgreement.request_id,
                        CatalogResource.name,
                        CatalogResource.name_en,
                        visible,
                    )
                    .join(SharingRequest, SharingRequest.id == SharingAgreement.request_id)
                    .where(SharingAgreement.id.in_(list(wanted)))
                )
                label, page = ("保密协议", "Confidentiality agreement"), "/sharing/agreements/{id}"
            stmt = stmt.join(CatalogResource, CatalogResource.id == SharingRequest.resource_id)
        word = label[1] if lang == "en" else label[0]
        out = {}
        for r in session.execute(stmt):
            href = page.format(id=r.id, request_id=r.request_id) if r.visible and r.request_id is not None else None
            out[wanted[r.id]] = Named(f"{word} #{r.id} · {_pick(r.name, r.name_en, lang)}", href)
        return out

    return resolve


Resolver = Callable[[Session, Principal, set[str], str], dict[str, Named]]

#: One query each, for all the subjects of that type on a page.
RESOLVERS: dict[str, Resolver] = {
    "catalog_resource": _resources,
    "exchange_dataset": _resources,  # a hosted dataset is named by its entry's id
    "exchange_interface": _interfaces,
    "catalog_demand": _demands,
    "exchange_filing": _filings,
    "region": _regions,
    "agency": _agencies,
    "person": _people,
    "api_client": _clients,
    "guide_service": _services,
    "sharing_request": _sharing("sharing_request"),
    "sharing_grant": _sharing("sharing_grant"),
    "sharing_agreement": _sharing("sharing_agreement"),
}


def _from_data(data: Mapping[str, Any] | None) -> str | None:
    for key in ("name", "title", "file"):
        value = (data or {}).get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def resolve(
    session: Session, by: Principal, subjects: Iterable[tuple[str, str, Mapping[str, Any] | None]], lang: str
) -> dict[tuple[str, str], Named]:
    """``(subject_type, subject_id, event data)`` -> the subject's name and link, for every subject
    that has a name: one query per subject type."""
    by_type: dict[str, set[str]] = {}
    fallback: dict[tuple[str, str], str] = {}
    for kind, sid, data in subjects:
        by_type.setdefault(kind, set()).add(sid)
        name = _from_data(data)
        if name and (kind, sid) not in fallback:
            fallback[(kind, sid)] = name
    out: dict[tuple[str, str], Named] = {key: Named(name) for key, name in fallback.items()}
    for kind, ids in by_type.items():
        resolver = RESOLVERS.get(kind)
        if resolver is None:
            continue
        for sid, named in resolver(session, by, ids, lang).items():
            out[(kind, sid)] = named
    return out
