"""Helpers for the gateway tests: a hosted resource with residents, machine clients, grants, calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govshare.core.auth import OPERATOR
from govshare.core.db import transaction
from govshare.core.events import Event
from govshare.exchange.models import ExchangeCall
from govshare.registry import service as registry_service
from govshare.sharing.models import SharingGrant
from tests.exchange.exchange_helpers import attach_hosted, csv_bytes, publish_entry, residents, upload

GW = "/exchange/v1"
PURPOSE = "最低生活保障资格审核"
ALL_ITEMS = (
    "公民身份号码",
    "姓名",
    "性别",
    "出生日期",
    "家庭人口数",
    "月收入",
    "是否低保",
    "登记时间",
    "经营主体代码",
    "行政区划代码",
)


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


class GrantBook:
    """Grants as rows of the sharing domain's ``sharing_grant`` (its contract). Its services write
    them in the product; these tests write the rows directly, the gateway reads them as it would."""

    def add(
        self,
        *,
        resource: Any,
        consumer_id: int,
        items: Iterable[str] = ALL_ITEMS,
        regions: Iterable[str] = ("320000",),
        purpose: str = PURPOSE,
        state: str = "active",
        starts_on: dt.date = dt.date(2020, 1, 1),
        ends_on: dt.date = dt.date(2099, 12, 31),
        channel: str = "platform",
        verify_only: bool = False,
    ) -> int:
        with transaction() as s:
            g = SharingGrant(
                request_id=None,
                resource_id=resource.id,
                resource_code=resource.code,
                provider_id=resource.provider_id,
                consumer_id=consumer_id,
                items=list(items),
                region_codes=list(regions),
                purpose=purpose,
                legal_basis="《社会救助暂行办法》",
                starts_on=starts_on,
                ends_on=ends_on,
                channel=channel,
                verify_only=verify_only,
                state=state,
            )
            s.add(g)
            s.flush()
            return g.id

    def set(self, grant_id: int, **fields: Any) -> None:
        with transaction() as s:
            g = s.get(SharingGrant, grant_id)
            assert g is not None
            for k, v in fields.items():
                setattr(g, k, v)


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
