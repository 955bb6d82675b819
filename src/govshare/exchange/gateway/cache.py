"""What the gateway looks up on every call, held in memory: machine clients by key digest, the
resources with an interface, and the grants by (consumer agency, resource code).

No call loads an ORM object. The whole snapshot is rebuilt when a small version query (maxima of
``updated_at`` and row counts of the tables it is built from) answers differently; that query runs
at most every ``gateway_cache_seconds`` (default 1 s) per process, so a revoked key, grant or
interface stops serving within that time. Between checks concurrent calls share one check.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.catalog.models import CatalogDataItem, CatalogResource
from govshare.core.db import new_session
from govshare.exchange import query
from govshare.exchange.gateway.rules import GrantView
from govshare.exchange.models import ExchangeDatasetVersion, ExchangeInterface
from govshare.registry.models import Agency, ApiClient, Region
from govshare.sharing.models import SharingGrant

log = logging.getLogger("govshare.exchange.gateway")


@dataclasses.dataclass(frozen=True, slots=True)
class ClientView:
    id: int
    name: str
    agency_id: int
    agency_code: str
    region_code: str


@dataclasses.dataclass(frozen=True, slots=True)
class ResourceView:
    id: int
    code: str
    provider_id: int
    kind: str
    security_classification: str
    #: Every data item of the entry: name -> field code (or None).
    items: Mapping[str, str | None]
    base_url: str | None = None
    timeout_ms: int | None = None
    lookup_path: str | None = None
    secrecy_network: bool = False
    source: query.HostedSource | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    clients: Mapping[str, ClientView]
    resources: Mapping[str, ResourceView]
    grants: Mapping[tuple[int, str], tuple[GrantView, ...]]
    version: tuple[Any, ...]


GrantLoader = Callable[[Session, Mapping[str, str]], list[GrantView]]


def sharing_grants(session: Session, region_paths: Mapping[str, str]) -> list[GrantView]:
    """The grants of the sharing domain (``sharing_grant``, read only), row scopes expanded. Grants
    that are not active are kept too: they let a refusal say why (revoked, expired, unsigned)."""
    out = []
    for g in session.scalars(select(SharingGrant)):
        out.append(
            GrantView(
                id=g.id,
                resource_id=g.resource_id,
                resource_code=g.resource_code,
                provider_id=g.provider_id,
                consumer_id=g.consumer_id,
                items=frozenset(g.items or ()),
                scope=expand_regions(g.region_codes or (), region_paths),
                purpose=g.purpose,
                starts_on=g.starts_on,
                ends_on=g.ends_on,
                channel=g.channel,
                verify_only=bool(g.verify_only),
                state=g.state,
            )
        )
    return out


def expand_regions(codes: Any, region_paths: Mapping[str, str]) -> frozenset[str]:
    """The codes and every code below them in the registry's tree (paths ``/320000/320500``)."""
    paths = [region_paths[c] for c in codes if c in region_paths]
    return frozenset(
        code for code, path in region_paths.items() if any(path == p or path.startswith(p + "/") for p in paths)
    )


def _version(session: Session) -> tuple[Any, ...]:
    parts: list[Any] = []
    for model in (ApiClient, Agency, CatalogResource, ExchangeInterface, SharingGrant):
        parts += [
            select(func.max(model.updated_at)).scalar_subquery(),
            select(func.count()).select_from(model).scalar_subquery(),
        ]
    parts += [
        select(func.max(ExchangeDatasetVersion.id)).scalar_subquery(),
        select(func.count()).select_from(Region).scalar_subquery(),
    ]
    return tuple(session.execute(select(*parts)).one())


def load_snapshot(session: Session, grant_loader: GrantLoader) -> Snapshot:
    version = _version(session)
    clients = {
        digest: ClientView(cid, f"{acode}/{name}", aid, acode, region)
        for cid, name, digest, aid, acode, region in session.execute(
            select(ApiClient.id, ApiClient.name, ApiClient.key_digest, Agency.id, Agency.code, Agency.region_code)
            .join(Agency, Agency.id == ApiClient.agency_id)
            .where(ApiClient.revoked_at.is_(None), Agency.active.is_(True))
        )
    }
    items: dict[int, dict[str, str | None]] = {}
    for rid, name, code in session.execute(
        select(CatalogDataItem.resource_id, CatalogDataItem.name, CatalogDataItem.field_code).order_by(
            CatalogDataItem.position
        )
    ):
        items.setdefault(rid, {})[name] = code
    resources = {}
    for iface, code, classification in session.execute(
        select(ExchangeInterface, CatalogResource.code, CatalogResource.security_classification)
        .join(CatalogResource, CatalogResource.id == ExchangeInterface.resource_id)
        .where(
            ExchangeInterface.detached_at.is_(None),
            CatalogResource.code.is_not(None),
            CatalogResource.status == "published",
        )
    ):
        source = None
        if iface.kind == "hosted_dataset":
            if iface.current_version is None:
                continue
            source = query.load_source(session, iface.resource_id)
        resources[code] = ResourceView(
            id=iface.resource_id,
            code=code,
            provider_id=iface.provider_id,
            kind=iface.kind,
            security_classification=classification,
            items=items.get(iface.resource_id, {}),
            base_url=(iface.base_url or "").rstrip("/") or None,
            timeout_ms=iface.timeout_ms,
            lookup_path=iface.lookup_path,
            secrecy_network=bool(iface.secrecy_network),
            source=source,
        )
    region_paths = dict(session.execute(select(Region.code, Region.path)).all())
    grants: dict[tuple[int, str], list[GrantView]] = {}
    for g in sorted(grant_loader(session, region_paths), key=lambda g: g.id):
        grants.setdefault((g.consumer_id, g.resource_code), []).append(g)
    return Snapshot(clients, resources, {k: tuple(v) for k, v in grants.items()}, version)


class GatewayCache:
    """The current snapshot, checked against the database at most every ``interval`` seconds."""

    def __init__(self, *, interval: float, grant_loader: GrantLoader = sharing_grants) -> None:
        self.interval = interval
        self.grant_loader = grant_loader
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._pending: asyncio.Future[Snapshot] | None = None
        self.reloads = 0

    def invalidate(self) -> None:
        """Check at the next call (tests; a service that knows it changed something)."""
        self._checked = 0.0
        self._snapshot = None

    async def current(self) -> Snapshot:
        snap = self._snapshot
        if snap is not None and time.monotonic() - self._checked < self.interval:
            return snap
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(asyncio.to_thread(self._refresh))
        return await asyncio.shield(self._pending)

    def _refresh(self) -> Snapshot:
        with new_session() as session:
            try:
                old = self._snapshot
                if old is not None and _version(session) == old.version:
                    self._checked = time.monotonic()
                    return old
                snap = load_snapshot(session, self.grant_loader)
            except Exception:
                if self._snapshot is not None:  # keep serving what we know; recording will tell
                    log.warning("gateway cache check failed; keeping the last snapshot", exc_info=True)
                    return self._snapshot
                raise
            finally:
                session.rollback()
        self._snapshot = snap
        self._checked = time.monotonic()
        self.reloads += 1
        return snap
