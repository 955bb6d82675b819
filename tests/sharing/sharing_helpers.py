"""Helpers for the sharing tests: published entries of each kind, more people, requests by API."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from govshare.catalog import service as catalog_service
from govshare.catalog.schemas import ResourceCreate
from govshare.core import clock
from govshare.core.auth import OPERATOR

API = "/api/v1/sharing"
SHANGHAI = clock.LEGAL_TZ

PERSONAL_ITEMS = [
    ("公民身份号码", True),
    ("姓名", True),
    ("家庭人口数", False),
    ("是否低保", False),
    ("行政区划代码", False),
]


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), SHANGHAI)


def _entry(session: Session, **overrides: Any) -> str:
    body: dict[str, Any] = {
        "provider": "js-gat",
        "classification": "departmental",
        "name": "测试资源",
        "abstract": "测试用目录条目。",
        "format": "database",
        "share_type": "conditional",
        "share_conditions": "仅限履行法定职责",
        "provision_method": "gateway_api",
        "update_cycle": "monthly",
        "security_classification": "internal",
        "data_items": [{"name": "统一社会信用代码"}, {"name": "名称"}, {"name": "行政区划代码"}],
    }
    body.update(overrides)
    made = catalog_service.create_resource(session, ResourceCreate(**body), by=OPERATOR)
    catalog_service.submit(session, made.id, by=OPERATOR)
    catalog_service.publish(session, made.id, by=OPERATOR)
    return made.code  # type: ignore[no-any-return]


@dataclasses.dataclass
class Entries:
    personal: str  # conditional, restricted, personal items: 15 working days, agreement
    conditional: str  # conditional, nothing sensitive: 10 working days
    unconditional: str  # granted at once
    state_secret: str  # classified secret: 15 days, secrecy network only
    commercial: str  # a commercially secret item


def entries(session: Session) -> Entries:
    return Entries(
        personal=_entry(
            session,
            name="低保家庭信息",
            classification="basic",
            category="population",
            security_classification="restricted",
            contains_personal_info=True,
            data_items=[{"name": n, "is_personal": p} for n, p in PERSONAL_ITEMS],
        ),
        conditional=_entry(session, name="企业登记信息"),
        unconditional=_entry(session, name="公共场所名录", share_type="unconditional", share_conditions=None),
        state_secret=_entry(
            session,
            name="重点目标信息",
            security_classification="secret",
            data_items=[{"name": "目标编号"}, {"name": "位置"}, {"name": "行政区划代码"}],
        ),
        commercial=_entry(
            session,
            name="企业纳税信息",
            security_classification="restricted",
            contains_commercial_secret=True,
            data_items=[{"name": "统一社会信用代码"}, {"name": "纳税额", "is_secret": True}, {"name": "行政区划代码"}],
        ),
    )


def request_body(resource: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resource": resource,
        "items": ["公民身份号码", "姓名", "是否低保"],
        "purpose": "核查最低生活保障申请人家庭情况",
        "legal_basis": "《社会救助暂行办法》第十一条：审核低保申请",
        "region_scope": "320500",
        "ends_on": "2027-12-31",
    }
    body.update(overrides)
    return body


def file_request(
    client, world, resource: str, who: str = "szsj_staff", expect: int = 201, **overrides: Any
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post(f"{API}/requests", json=request_body(resource, **overrides), headers=world.h(who))
    assert r.status_code == expect, r.text
    return r.json()  # type: ignore[no-any-return]
