"""Data elements, their authoritative source per region, and catalog items linked to them (Art 11-12)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import service as catalog_service
from govshare.catalog.models import CatalogResource
from govshare.core import clock, events, refs
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, NotFound
from govshare.quality import permissions as perm
from govshare.quality import rules
from govshare.quality.models import QualityDataElement, QualityItemLink, QualitySourceAssignment
from govshare.registry import service as registry_service
from govshare.registry.models import Agency, Region

ELEMENT = "quality_data_element"


def get_element(session: Session, ref: str | int) -> QualityDataElement:
    rid = refs.id_of(ref)
    cond = QualityDataElement.id == rid if rid is not None else QualityDataElement.code == str(ref).strip().upper()
    element = session.scalar(select(QualityDataElement).where(cond))
    if element is None:
        raise NotFound(
            "quality.element.not_found", f"数据元 {ref} 不存在", f"Data element {ref} not found", field="element"
        )
    return element


def list_elements(session: Session) -> Sequence[QualityDataElement]:
    return session.scalars(select(QualityDataElement).order_by(QualityDataElement.code)).all()


def create_element(
    session: Session,
    *,
    code: str,
    name: str,
    name_en: str | None,
    data_type: str,
    format_rule: str,
    field_code: str | None,
    description: str | None,
    by: Principal,
) -> QualityDataElement:
    """Add a data element to the register (Art 12: the authority organises its region's resources)."""
    perm.check_keep_register(by)
    code = rules.check_element_code(code)
    name = rules.check_text(name, field="name", required=True, limit=rules.NAME_MAX) or ""
    rules.check_vocab(data_type, rules.ELEMENT_TYPES, field="data_type")
    rules.check_vocab(format_rule, rules.FORMAT_RULES, field="format_rule")
    for column, value, field in ((QualityDataElement.code, code, "code"), (QualityDataElement.name, name, "name")):
        if session.scalar(select(QualityDataElement.id).where(column == value)) is not None:
            raise Conflict(
                "quality.element.exists", f"数据元 {value} 已存在", f"Data element {value} exists", field=field
            )
    element = QualityDataElement(
        code=code,
        name=name,
        name_en=rules.check_text(name_en, field="name_en", limit=200),
        data_type=data_type,
        format_rule=format_rule,
        field_code=rules.check_text(field_code, field="field_code", limit=64),
        description=rules.check_text(description, field="description"),
        created_by=by.actor.ref,
    )
    session.add(element)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.element.created",
        subject_type=ELEMENT,
        subject_id=element.id,
        data={
            "code": code,
            "name": name,
            "data_type": data_type,
            "format_rule": format_rule,
            "field_code": element.field_code,
        },
    )
    return element


def update_element(
    session: Session,
    ref: str | int,
    *,
    name: str,
    name_en: str | None,
    data_type: str,
    format_rule: str,
    field_code: str | None,
    description: str | None,
    by: Principal,
) -> QualityDataElement:
    """Correct a data element of the register (its code stays: links and assignments name it).
    The event lists what changed, old and new value."""
    perm.check_keep_register(by)
    element = get_element(session, ref)
    name = rules.check_text(name, field="name", required=True, limit=rules.NAME_MAX) or ""
    rules.check_vocab(data_type, rules.ELEMENT_TYPES, field="data_type")
    rules.check_vocab(format_rule, rules.FORMAT_RULES, field="format_rule")
    clash = session.scalar(
        select(QualityDataElement.id).where(QualityDataElement.name == name, QualityDataElement.id != element.id)
    )
    if clash is not None:
        raise Conflict("quality.element.exists", f"数据元 {name} 已存在", f"Data element {name} exists", field="name")
    new = {
        "name": name,
        "name_en": rules.check_text(name_en, field="name_en", limit=200),
        "data_type": data_type,
        "format_rule": format_rule,
        "field_code": rules.check_text(field_code, field="field_code", limit=64),
        "description": rules.check_text(description, field="description"),
    }
    changed = {k: [getattr(element, k), v] for k, v in new.items() if getattr(element, k) != v}
    if not changed:
        return element
    for k, (_old, v) in changed.items():
        setattr(element, k, v)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.element.updated",
        subject_type=ELEMENT,
        subject_id=element.id,
        data={"code": element.code, "changed": changed, "article": "Art 12"},
    )
    return element


# --- Authoritative sources (Art 11(1), Art 12) -----------------------------------------------------


def _region(session: Session, code: str) -> Region:
    return registry_service.get_region(session, code)


def assign_source(
    session: Session,
    element_ref: str | int,
    *,
    region_code: str,
    agency_ref: str | int,
    basis: str | None,
    by: Principal,
) -> QualitySourceAssignment:
    """The authority assigns the agency that collects ``element`` in its region (Art 12). An active
    assignment there is ended and replaced, in the same transaction and event."""
    element = get_element(session, element_ref)
    region = _region(session, region_code)
    perm.check_authority(by, region.path)
    agency = registry_service.get_agency(session, agency_ref)
    agency_path = registry_service.region_path_of(session, agency.region_code)
    if not (agency_path == region.path or region.path.startswith(agency_path + "/")):
        raise rules.invalid(
            "quality.assignment.agency_out_of_region",
            "采集单位须为该地区或其上级地区的单位",
            "the collecting agency must belong to the region or a region above it",
            field="agency",
            article="Art 12",
        )
    now = clock.now()
    previous = session.scalar(
        select(QualitySourceAssignment).where(
            QualitySourceAssignment.element_id == element.id,
            QualitySourceAssignment.region_code == region.code,
            QualitySourceAssignment.ended_at.is_(None),
        )
    )
    if previous is not None:
        if previous.agency_id == agency.id:
            return previous
        previous.ended_at, previous.ended_by = now, by.actor.ref
        session.flush()
    assignment = QualitySourceAssignment(
        element_id=element.id,
        region_code=region.code,
        agency_id=agency.id,
        basis=rules.check_text(basis, field="basis"),
        assigned_at=now,
        assigned_by=by.actor.ref,
    )
    session.add(assignment)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.source.assigned",
        subject_type=ELEMENT,
        subject_id=element.id,
        region_code=region.code,
        agency_code=agency.code,
        data={
            "element": element.code,
            "agency": agency.code,
            "replaced": previous.id if previous else None,
            "article": "Art 12",
        },
    )
    return assignment


def end_assignment(session: Session, assignment_id: int, *, by: Principal) -> QualitySourceAssignment:
    assignment = session.get(QualitySourceAssignment, assignment_id)
    if assignment is None or assignment.ended_at is not None:
        raise NotFound(
            "quality.assignment.not_found", "没有这项有效的采集分工", "No such active assignment", field="assignment"
        )
    perm.check_authority(by, _region(session, assignment.region_code).path)
    assignment.ended_at, assignment.ended_by = clock.now(), by.actor.ref
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.source.ended",
        subject_type=ELEMENT,
        subject_id=assignment.element_id,
        region_code=assignment.region_code,
        data={"assignment": assignment.id, "article": "Art 12"},
    )
    return assignment


def list_assignments(
    session: Session, *, element_id: int | None = None, region_code: str | None = None
) -> Sequence[QualitySourceAssignment]:
    stmt = (
        select(QualitySourceAssignment)
        .where(QualitySourceAssignment.ended_at.is_(None))
        .options(joinedload(QualitySourceAssignment.element), joinedload(QualitySourceAssignment.agency))
        .order_by(QualitySourceAssignment.element_id, QualitySourceAssignment.region_code)
    )
    if element_id is not None:
        stmt = stmt.where(QualitySourceAssignment.element_id == element_id)
    if region_code is not None:
        stmt = stmt.where(QualitySourceAssignment.region_code == region_code)
    return session.scalars(stmt).all()


def authoritative_source(session: Session, element_id: int, region_code: str) -> QualitySourceAssignment | None:
    """The assignment in force for ``region_code``: its own, else the nearest region above's."""
    region = session.get(Region, region_code)
    if region is None:
        return None
    chain = region.path.split("/")
    rows = session.scalars(
        select(QualitySourceAssignment)
        .where(
            QualitySourceAssignment.element_id == element_id,
            QualitySourceAssignment.region_code.in_(chain),
            QualitySourceAssignment.ended_at.is_(None),
        )
        .options(joinedload(QualitySourceAssignment.agency))
    ).all()
    by_code = {a.region_code: a for a in rows}
    for code in reversed(chain):
        if code in by_code:
            return by_code[code]
    return None


# --- Item links -------------------------------------------------------------------------------------


def links_of(session: Session, resource_id: int) -> dict[str, QualityItemLink]:
    return {
        link.item_name: link
        for link in session.scalars(
            select(QualityItemLink)
            .where(QualityItemLink.resource_id == resource_id)
            .options(joinedload(QualityItemLink.element))
        )
    }


def _add_link(
    session: Session, resource: CatalogResource, item_name: str, element: QualityDataElement, *, by: Principal, how: str
) -> QualityItemLink:
    link = QualityItemLink(
        resource_id=resource.id,
        item_name=item_name,
        element_id=element.id,
        created_at=clock.now(),
        created_by=by.actor.ref,
    )
    session.add(link)
    session.flush()
    events.record(
        session,
        actor=by.actor,
        action="quality.item.linked",
        subject_type="catalog_resource",
        subject_id=resource.id,
        region_code=resource.region_code,
        agency_code=session.get(Agency, resource.provider_id).code,  # type: ignore[union-attr]
        data={"item": item_name, "element": element.code, "how": how},
    )
    return link


def link_item(
    session: Session, resource_ref: str | int, item_name: str, element_ref: str | int, *, by: Principal
) -> QualityItemLink:
    """The provider (or the authority) says which data element an item of its entry holds; the
    duplicate-collection check runs for it at once (Art 11(1))."""
    from govshare.quality.service.duplicates import check_items

    resource = catalog_service.get_resource(session, resource_ref)
    perm.check_provider_or_authority(
        by, resource.provider_id, registry_service.region_path_of(session, resource.region_code)
    )
    names = [i.name for i in resource.data_items]
    if item_name not in names:
        raise rules.invalid(
            "quality.item.unknown",
            f"目录条目没有信息项 {item_name}",
            f"the entry has no data item named {item_name}",
            field="item",
            article="Art 10",
        )
    element = get_element(session, element_ref)
    existing = links_of(session, resource.id).get(item_name)
    if existing is not None:
        if existing.element_id == element.id:
            return existing
        session.delete(existing)
        session.flush()
    link = _add_link(session, resource, item_name, element, by=by, how="manual")
    check_items(session, resource, [{"name": item_name}], "linked", resource.version_number, by)
    return link


def auto_link(
    session: Session, resource: CatalogResource, items: Sequence[dict[str, object]], *, by: Principal
) -> dict[str, QualityDataElement]:
    """Link items whose field code (英文标识) is a data element's, or else whose name is exactly a data
    element's name (公民身份号码, 统一社会信用代码 ...), unless already linked. Returns every linked
    item of ``items`` with its element."""
    links = links_of(session, resource.id)
    known = session.scalars(select(QualityDataElement)).all()
    by_code = {e.field_code: e for e in known if e.field_code}
    by_name = {e.name: e for e in known}
    out: dict[str, QualityDataElement] = {}
    for item in items:
        name = str(item.get("name") or "")
        if not name:
            continue
        if name in links:
            out[name] = links[name].element
            continue
        element = by_code.get(item.get("field_code"))  # type: ignore[arg-type]
        how = "field_code"
        if element is None:
            element, how = by_name.get(name), "name"
        if element is not None:
            _add_link(session, resource, name, element, by=by, how=how)
            out[name] = element
    return out


# --- For forms ---------------------------------------------------------------------------------------


def links_to(session: Session, element_id: int) -> Sequence[QualityItemLink]:
    """Catalog items linked to an element (who holds the datum), with their entries."""
    return session.scalars(
        select(QualityItemLink)
        .where(QualityItemLink.element_id == element_id)
        .options(joinedload(QualityItemLink.resource).joinedload(CatalogResource.provider))
        .order_by(QualityItemLink.resource_id, QualityItemLink.item_name)
        .limit(500)
    ).all()


def assignable(session: Session, by: Principal) -> tuple[list[Region], list[Agency]]:
    """What ``by`` may choose in the assignment form: the regions its authority grants cover, and
    the agencies of those regions and of the regions above them (Art 12)."""
    paths = by.region_paths("authority")
    if not paths:
        return [], []
    regions = list(
        session.scalars(
            select(Region).where(registry_service.in_subtrees(Region.code, paths)).order_by(Region.path).limit(500)
        )
    )
    above = {code for p in paths for code in p.split("/")}
    agencies = list(
        session.scalars(
            select(Agency)
            .where(or_(registry_service.in_subtrees(Agency.region_code, paths), Agency.region_code.in_(sorted(above))))
            .order_by(Agency.region_code, Agency.code)
            .limit(1000)
        )
    )
    return regions, agencies


def linkable_resources(session: Session, by: Principal) -> list[CatalogResource]:
    """Entries whose items ``by`` may link: its agencies' own, and for an authority those of its
    region (the same scope as :func:`link_item`)."""
    own = sorted(by.agency_ids(*perm.AGENCY_ROLES))
    paths = by.region_paths("authority")
    conds = []
    if own:
        conds.append(CatalogResource.provider_id.in_(own))
    if paths:
        conds.append(registry_service.in_subtrees(CatalogResource.region_code, paths))
    if not conds:
        return []
    return list(
        session.scalars(
            select(CatalogResource)
            .where(or_(*conds), CatalogResource.status != "withdrawn")
            .options(joinedload(CatalogResource.provider))
            .order_by(CatalogResource.code, CatalogResource.id)
            .limit(500)
        )
    )
