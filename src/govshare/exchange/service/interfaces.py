"""Provider interfaces (Art 15(1)): attach, change, detach, read."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from govshare.catalog import service as catalog_service
from govshare.catalog.models import CatalogResource
from govshare.core import clock, events
from govshare.core.auth import Principal
from govshare.core.errors import Conflict, NotFound
from govshare.core.paging import Page, paginate
from govshare.exchange import permissions as perm
from govshare.exchange import rules
from govshare.exchange.models import ExchangeInterface
from govshare.exchange.schemas import InterfaceCreate, InterfaceRead, InterfaceUpdate, ResourceRef
from govshare.registry import service as registry_service

SUBJECT = "exchange_interface"


def load_resource(session: Session, ref: str | int) -> CatalogResource:
    """The entry (with provider and data items); withdrawn entries take no interface or data."""
    return catalog_service.get_resource(session, ref)


def _check_open(resource: CatalogResource) -> None:
    if resource.status == "withdrawn":
        raise Conflict(
            "exchange.resource.withdrawn",
            "目录条目已撤销，不能接入接口或更新数据",
            "The entry is withdrawn: it takes no interface or data",
            field="resource",
            article="Art 10",
        )


def region_path(session: Session, resource: CatalogResource) -> str:
    return registry_service.region_path_of(session, resource.region_code)


def get_interface(
    session: Session, resource_id: int, *, active: bool = True, for_update: bool = False
) -> ExchangeInterface:
    stmt = select(ExchangeInterface).where(ExchangeInterface.resource_id == resource_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    interface = session.scalar(stmt)
    if interface is None or (active and interface.detached_at is not None):
        raise NotFound(
            "exchange.interface.not_found",
            "该目录条目没有接入接口",
            "The entry has no interface attached",
            field="resource",
            article="Art 15",
        )
    return interface


def _event(
    session: Session,
    action: str,
    interface: ExchangeInterface,
    resource: CatalogResource,
    by: Principal,
    data: dict[str, Any],
) -> None:
    events.record(
        session,
        actor=by.actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=interface.id,
        region_code=resource.region_code,
        agency_code=resource.provider.code,
        data={"resource_id": resource.id, "resource_code": resource.code, "kind": interface.kind, **data},
    )


def _state(interface: ExchangeInterface) -> dict[str, Any]:
    """What an event says of an interface: its settings, the OpenAPI document only as a digest."""
    doc = interface.openapi_document
    return {
        "base_url": interface.base_url,
        "timeout_ms": interface.timeout_ms,
        "secrecy_network": interface.secrecy_network,
        "lookup_path": interface.lookup_path,
        "change_feed_url": interface.change_feed_url,
        "openapi_sha256": hashlib.sha256(doc.encode("utf-8")).hexdigest() if doc else None,
        "required_items": list(interface.required_items or []),
        "key_items": list(interface.key_items or []),
    }


def _apply(
    interface: ExchangeInterface, resource: CatalogResource, data: InterfaceCreate | InterfaceUpdate, *, creating: bool
) -> None:
    fields = data.model_fields_set
    item_names = [i.name for i in resource.data_items]
    if interface.kind == "proxied_api":
        hosted_only = [f for f in ("required_items", "key_items") if f in fields and getattr(data, f)]
        if hosted_only:
            raise rules.invalid(
                "exchange.interface.field_not_applicable",
                f"代理接口没有 {hosted_only[0]}",
                f"a proxied API has no {hosted_only[0]}",
                field=hosted_only[0],
            )
        if "base_url" in fields or creating:
            if not data.base_url:
                raise rules.invalid(
                    "exchange.interface.base_url_required",
                    "代理接口须填写基础地址",
                    "a proxied API needs its base URL",
                    field="base_url",
                )
            interface.base_url = rules.check_url(data.base_url, field="base_url")
        if "openapi" in fields:
            if data.openapi:
                info = rules.parse_openapi(data.openapi)
                interface.openapi_document = data.openapi
                interface.openapi_title, interface.openapi_version = info.title, info.api_version
            else:
                interface.openapi_document = interface.openapi_title = interface.openapi_version = None
        if "timeout_ms" in fields or creating:
            interface.timeout_ms = rules.check_timeout(
                data.timeout_ms if data.timeout_ms is not None else rules.DEFAULT_TIMEOUT_MS
            )
        if "lookup_path" in fields:
            interface.lookup_path = rules.check_lookup_path(data.lookup_path) if data.lookup_path else None
        if "change_feed_url" in fields:
            interface.change_feed_url = (
                rules.check_url(data.change_feed_url, field="change_feed_url") if data.change_feed_url else None
            )
    else:
        proxied_only = [
            f
            for f in ("base_url", "openapi", "timeout_ms", "lookup_path", "change_feed_url")
            if f in fields and getattr(data, f) not in (None, "")
        ]
        if proxied_only:
            raise rules.invalid(
                "exchange.interface.field_not_applicable",
                f"托管数据集没有 {proxied_only[0]}",
                f"a hosted dataset has no {proxied_only[0]}",
                field=proxied_only[0],
            )
        if "required_items" in fields or creating:
            interface.required_items = rules.check_item_names(
                data.required_items or [], item_names, field="required_items"
            )
        if "key_items" in fields or creating:
            keys = data.key_items
            if keys is None:  # default: the entry's identity-number and credit-code items
                keys = [i.name for i in resource.data_items if i.field_code in (rules.ID_NUMBER, rules.USCC)]
            interface.key_items = rules.check_item_names(keys, item_names, field="key_items")
        # The entry must carry its region item: checked now rather than at the first upload.
        rules.plan_items(resource.data_items, required=interface.required_items, keys=interface.key_items)
    if data.secrecy_network is not None:
        interface.secrecy_network = data.secrecy_network
    rules.check_secrecy_channel(resource.security_classification, interface.secrecy_network)


def attach_interface(session: Session, ref: str | int, data: InterfaceCreate, *, by: Principal) -> ExchangeInterface:
    """Attach an interface to an entry (Art 15(1)); its kind follows the entry's provision method."""
    resource = load_resource(session, ref)
    perm.check_manage_interface(by, resource.provider_id, region_path(session, resource))
    _check_open(resource)
    rules.check_kind_matches_method(data.kind, resource.provision_method)
    interface = session.scalar(select(ExchangeInterface).where(ExchangeInterface.resource_id == resource.id))
    if interface is not None and interface.detached_at is None:
        raise Conflict(
            "exchange.interface.exists",
            "该目录条目已接入接口：请修改或先解除",
            "The entry already has an interface: change it or detach it first",
            field="resource",
            article="Art 15",
        )
    if interface is not None and interface.kind != data.kind:
        raise Conflict(
            "exchange.interface.kind_fixed",
            "此前接入的接口类型不同，不能改变类型",
            "an interface of another kind was attached before; the kind cannot change",
            field="kind",
        )
    reattach = interface is not None
    if interface is None:
        interface = ExchangeInterface(
            resource_id=resource.id,
            kind=data.kind,
            created_by=by.actor.ref,
            required_items=[],
            key_items=[],
            secrecy_network=False,
        )
        session.add(interface)
    interface.provider_id, interface.region_code = resource.provider_id, resource.region_code
    interface.detached_at = None
    _apply(interface, resource, data, creating=True)
    session.flush()
    _event(
        session,
        "exchange.interface.attached",
        interface,
        resource,
        by,
        {**_state(interface), "reattached": reattach, "current_version": interface.current_version},
    )
    return interface


def update_interface(session: Session, ref: str | int, data: InterfaceUpdate, *, by: Principal) -> ExchangeInterface:
    resource = load_resource(session, ref)
    perm.check_manage_interface(by, resource.provider_id, region_path(session, resource))
    _check_open(resource)
    interface = get_interface(session, resource.id, for_update=True)
    before = _state(interface)
    _apply(interface, resource, data, creating=False)
    after = _state(interface)
    changed = sorted(k for k in after if after[k] != before[k])
    if changed:
        interface.updated_at = clock.now()
        session.flush()
        _event(
            session,
            "exchange.interface.updated",
            interface,
            resource,
            by,
            {"changed": changed, **{k: after[k] for k in changed}},
        )
    return interface


def detach_interface(session: Session, ref: str | int, *, by: Principal) -> ExchangeInterface:
    """Detach: the gateway stops serving the entry. Versions and their files are kept (history)."""
    resource = load_resource(session, ref)
    perm.check_manage_interface(by, resource.provider_id, region_path(session, resource))
    interface = get_interface(session, resource.id, for_update=True)
    interface.detached_at = clock.now()
    session.flush()
    _event(session, "exchange.interface.detached", interface, resource, by, {})
    return interface


def read_interface(session: Session, ref: str | int, *, viewer: Principal) -> ExchangeInterface:
    resource = load_resource(session, ref)
    if not perm.can_read(viewer, resource.provider_id, region_path(session, resource)):
        raise NotFound(
            "exchange.interface.not_found",
            "该目录条目没有接入接口",
            "The entry has no interface attached",
            field="resource",
        )
    return get_interface(session, resource.id, active=False)


def list_interfaces(
    session: Session,
    *,
    viewer: Principal,
    kind: str | None = None,
    provider: str | None = None,
    active: bool | None = True,
    offset: int = 0,
    limit: int = 50,
) -> Page[ExchangeInterface]:
    stmt = (
        select(ExchangeInterface)
        .where(perm.readable_condition(viewer, ExchangeInterface.provider_id, ExchangeInterface.region_code))
        .options(joinedload(ExchangeInterface.resource), joinedload(ExchangeInterface.provider))
        .order_by(ExchangeInterface.id)
    )
    if kind:
        stmt = stmt.where(ExchangeInterface.kind == kind)
    if provider:
        stmt = stmt.where(ExchangeInterface.provider_id == registry_service.get_agency(session, provider).id)
    if active is not None:
        stmt = stmt.where(
            ExchangeInterface.detached_at.is_(None) if active else ExchangeInterface.detached_at.is_not(None)
        )
    return paginate(session, stmt, offset=offset, limit=limit)


def interface_read(session: Session, interface: ExchangeInterface) -> InterfaceRead:
    resource = session.get(CatalogResource, interface.resource_id)
    assert resource is not None
    agency = registry_service.get_agency(session, interface.provider_id)
    zh, _en = rules.INTERFACE_KINDS[interface.kind]
    return InterfaceRead(
        id=interface.id,
        resource=ResourceRef(id=resource.id, code=resource.code, name=resource.name),
        provider=agency.code,
        region_code=interface.region_code,
        kind=interface.kind,  # type: ignore[arg-type]
        kind_label=zh,
        base_url=interface.base_url,
        openapi_title=interface.openapi_title,
        openapi_version=interface.openapi_version,
        has_openapi=interface.openapi_document is not None,
        timeout_ms=interface.timeout_ms,
        secrecy_network=interface.secrecy_network,
        lookup_path=interface.lookup_path,
        change_feed_url=interface.change_feed_url,
        required_items=list(interface.required_items or []),
        key_items=list(interface.key_items or []),
        current_version=interface.current_version,
        active=interface.detached_at is None,
        detached_at=interface.detached_at,
        created_at=interface.created_at,
        updated_at=interface.updated_at,
    )


def interface_reads(session: Session, rows: Sequence[ExchangeInterface]) -> list[InterfaceRead]:
    return [interface_read(session, i) for i in rows]
