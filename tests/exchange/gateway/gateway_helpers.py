"""Helpers for the gateway tests: a hosted resource with residents, machine clients, grants, calls."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.exchange.gateway.cache import expand_regions
from govshare.exchange.gateway.rules import GrantView
from govshare.exchange.models import ExchangeCall
from govshare.registry import service as registry_service
from tests.exchange.exchange_helpers import attach_hosted, csv_bytes, publish_entry, residents, upload

GW = "/exchange/v1"
PURPOSE = "最低生活保障资格审核"
ALL_ITEMS = ("公民身份号码", "姓名", "性别", "出生日期", "家庭人口数", "月收入", "是否低保", "登记时间", "经营主体代码",
             "行政区划代码")


def hosted_resource(client: Any, world: Any, session: Session, **overrides: Any) -> Any:
    """The exchange tests' 30 residents as a published, hosted entry (returns the resource)."""
    resource = publish_entry(session, **overrides)
    session.commit()
    attach_hosted(client, world, resource.id)
    r = upload(client, world, resource.id, "a.csv", csv_bytes(residents()))
    assert r.status_code == 201, r.text
    return resource


def machine_key(session: Session, agency: str, name: str = "system") -> str:
    _client, secret = registry_service.add_client(session, agency, name, by=OPERATOR)
    session.commit()
    return secret


def headers(key: str | None, purpose: str | None = PURPOSE) -> dict[str, str]:
    h: dict[str, str] = {}
    if key is not None:
        h["X-API-Key"] = key
    if purpose is not None:
        h["X-Govshare-Purpose"] = quote(purpose)
    return h


@dataclasses.dataclass
class GrantBook:
    """Grants as the sharing domain's table would hold them (its contract), for the gateway's cache."""

    grants: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def add(self, *, resource: Any, consumer_id: int, items: Iterable[str] = ALL_ITEMS,
            regions: Iterable[str] = ("320000",), purpose: str = PURPOSE, state: str = "active",
            starts_on: dt.date = dt.date(2020, 1, 1), ends_on: dt.date = dt.date(2099, 12, 31),
            channel: str = "platform", verify_only: bool = False) -> int:
        gid = len(self.grants) + 1
        self.grants.append(dict(id=gid, resource_id=resource.id, resource_code=resource.code,
                                provider_id=resource.provider_id, consumer_id=consumer_id, items=list(items),
                                region_codes=list(regions), purpose=purpose, starts_on=starts_on, ends_on=ends_on,
                                channel=channel, verify_only=verify_only, state=state))
        return gid

    def load(self, _session: Session, region_paths: Mapping[str, str]) -> list[GrantView]:
        return [GrantView(id=g["id"], resource_id=g["resource_id"], resource_code=g["resource_code"],
                          provider_id=g["provider_id"], consumer_id=g["consumer_id"], items=frozenset(g["items"]),
                          scope=expand_regions(g["region_codes"], region_paths), purpose=g["purpose"],
                          starts_on=g["starts_on"], ends_on=g["ends_on"], channel=g["channel"],
                          verify_only=g["verify_only"], state=g["state"]) for g in self.grants]


def agency_id(_session: Session, code: str) -> int:
    """The agency's id, read in a transaction of its own (on SQLite an open one holds the write lock)."""
    with transaction() as s:
        return registry_service.get_agency(s, code).id


def counts() -> tuple[int, int]:
    """(exchange_call rows, exchange.gateway.call events)."""
    with transaction() as s:
        calls = s.scalar(select(func.count()).select_from(ExchangeCall)) or 0
        events = s.scalar(select(func.count()).select_from(Event).where(Event.action == "exchange.gateway.call")) or 0
    return calls, events


def calls() -> list[ExchangeCall]:
    with transaction() as s:
        return list(s.scalars(select(ExchangeCall).order_by(ExchangeCall.id)))


def last_call() -> ExchangeCall:
    return calls()[-1]
