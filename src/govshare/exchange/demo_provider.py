"""The demo's proxied provider: a small enterprise-registry node the platform serves itself.

Issue #11 wants ``make run`` to show a proxied resource "backed by a small demo provider the
platform starts itself". This module is that provider: a read-only lookup of generated enterprises
(市场主体登记信息 of the market regulation department), each with a valid unified social credit
code (GB 32100 check character), answering JSON as a provider's exchange node would.

How it is started, and why this way: its routes (:data:`router`, under ``/demo-provider``) are
part of the platform's own app, added by ``create_app`` when ``GOVSHARE_DEMO_PROVIDER`` is on (the
default; a production instance turns it off). So the one ``govshare serve`` of ``make run``
serves it: no second process, no second port, nothing to start, stop or find free on a fresh
machine, and it works the same under ``--workers N``. The gateway still reaches it the way it
reaches any provider, over HTTP through its pooled upstream client, at the base URL the demo
stores in the interface (``GOVSHARE_DEMO_PROVIDER_URL``, default
``http://127.0.0.1:8000/demo-provider``; ``make run`` passes its own port). So the demo call
exercises the real proxied path: grant check, forwarding, projection of the JSON answer to the
granted items, and recording.

:func:`load_demo_provider` (called by ``govshare demo load``) attaches the proxied interface to
the catalog's 市场主体登记信息 entry and files the Suzhou civil affairs bureau's request for some
of its items; the entry is unconditional, so the request is granted at once (Art 13, 17). The
provider answers more than the grant allows (the legal representative, the registered capital
and an internal note): the gateway takes them out.

The data is made up and deterministic: names, people and addresses are generated, and no code
belongs to a real enterprise except by chance of the check character arithmetic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from govshare.core import clock, identifiers
from govshare.core.auth import OPERATOR, public
from govshare.exchange.config import get_exchange_settings

PATH = "/demo-provider"
#: The catalog entry the provider serves (catalog demo) and its provider agency.
RESOURCE_NAME = "市场主体登记信息"
PROVIDER_CODE = "js-scjgj"
#: The demo grant: Suzhou civil affairs checks whether a 低保 applicant's household runs a business.
CONSUMER_CODE = "sz-mzj"
PURPOSE = "核查最低生活保障申请家庭成员名下市场主体登记情况"
LEGAL_BASIS = "《社会救助暂行办法》第十一条：县级人民政府民政部门对低保申请人家庭经济状况进行核查"
GRANTED_ITEMS = ("统一社会信用代码", "企业名称", "成立日期", "登记状态", "住所")
#: The entry's items (catalog demo) and the provider's keys for them (its field codes).
FIELD_CODES = {
    "统一社会信用代码": "uscc",
    "企业名称": "name",
    "法定代表人": "legal_representative",
    "注册资本": "registered_capital",
    "成立日期": "established_on",
    "登记状态": "status",
    "住所": "address",
}
COUNT = 500
SEED = 20261129

_CITIES = (
    ("320100", "南京"),
    ("320200", "无锡"),
    ("320300", "徐州"),
    ("320400", "常州"),
    ("320500", "苏州"),
    ("320600", "南通"),
    ("320700", "连云港"),
    ("320800", "淮安"),
    ("320900", "盐城"),
    ("321000", "扬州"),
    ("321100", "镇江"),
    ("321200", "泰州"),
    ("321300", "宿迁"),
)
_WORDS = ("恒通", "华瑞", "金泰", "鼎盛", "新源", "宏达", "嘉禾", "长风", "同创", "博远", "润泽", "瑞丰")
_TRADES = ("科技", "贸易", "建设工程", "食品", "纺织", "物流", "信息技术", "环保科技", "机械制造", "餐饮管理")
_FORMS = ("有限公司", "有限责任公司", "股份有限公司")
_STATUSES = ("存续",) * 8 + ("在业", "注销", "吊销")
_PEOPLE = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "朱", "沈")
_GIVEN = ("伟", "芳", "敏", "静", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "华", "宁")
_ROADS = ("人民路", "中山路", "长江路", "解放路", "太湖路", "运河路", "新华路", "学府路")


@functools.cache
def enterprises() -> tuple[dict[str, Any], ...]:
    """The generated registry: :data:`COUNT` enterprises, the same on every start (seeded)."""
    rnd = random.Random(SEED)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    while len(out) < COUNT:
        city, city_name = rnd.choice(_CITIES)
        uscc = identifiers.make_uscc("9", "1", city, f"{rnd.randrange(10**8):08d}")
        if uscc in seen:
            continue
        seen.add(uscc)
        name = f"{city_name}{rnd.choice(_WORDS)}{rnd.choice(_TRADES)}{rnd.choice(_FORMS)}"
        out.append(
            {
                "uscc": uscc,
                "name": name,
                "legal_representative": rnd.choice(_PEOPLE) + rnd.choice(_GIVEN) + rnd.choice(("", *_GIVEN)),
                "registered_capital": rnd.choice((10, 50, 100, 200, 500, 1000, 3000)) * 10_000,
                "established_on": (dt.date(1995, 1, 1) + dt.timedelta(days=rnd.randrange(11_000))).isoformat(),
                "status": rnd.choice(_STATUSES),
                "address": f"江苏省{city_name}市{rnd.choice(_ROADS)}{rnd.randrange(1, 400)}号",
                # Not in the catalog: the gateway never passes it on (projection).
                "internal_note": "登记机关内部备注",
            }
        )
    return tuple(out)


@functools.cache
def _by_code() -> dict[str, dict[str, Any]]:
    return {e["uscc"]: e for e in enterprises()}


def _json(payload: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status)


router = APIRouter(prefix=PATH, dependencies=[Depends(public)], include_in_schema=False)


@router.get("/enterprises")
def list_enterprises(
    uscc: Annotated[str | None, Query(max_length=18)] = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """Enterprises by credit code or a part of the name, a page at a time."""
    if uscc:
        found = _by_code().get(uscc.strip().upper())
        rows = [found] if found else []
    else:
        rows = [e for e in enterprises() if not name or name in e["name"]]
    return _json({"total": len(rows), "offset": offset, "limit": limit, "items": rows[offset : offset + limit]})


@router.get("/enterprises/{uscc}")
def get_enterprise(uscc: str) -> JSONResponse:
    found = _by_code().get(uscc.strip().upper())
    if found is None:
        return _json({"error": "not_found", "uscc": uscc}, 404)
    return _json(found)


@router.post("/lookup")
def lookup(body: Annotated[dict[str, Any], Body()]) -> JSONResponse:
    """Verification (核验) as the gateway forwards it: ``key_item``, ``key_value`` and ``claims``
    by catalog item name (or field code); answers whether each claim matches the record. The
    gateway passes on only the booleans, never ``record``."""
    key = FIELD_CODES.get(str(body.get("key_item")), str(body.get("key_item")))
    claims = body.get("claims") if isinstance(body.get("claims"), dict) else {}
    value = str(body.get("key_value") or "").strip().upper()
    found = _by_code().get(value) if key == "uscc" else None
    matches = {
        k: found is not None and str(found.get(FIELD_CODES.get(k, k))) == str(v)
        for k, v in claims.items()  # type: ignore[union-attr]
    }
    return _json({"found": found is not None, "matches": matches, "record": found})


# --- Demo data: the interface and the grant ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DemoProvider:
    resource_code: str
    purpose: str
    items: tuple[str, ...]
    sample_uscc: str
    consumer_code: str = CONSUMER_CODE

    def curl(self, base: str, key: str) -> str:
        """The second curl line of ``govshare demo load``: one enterprise through the gateway."""
        from urllib.parse import quote

        return (
            f'curl -G "{base}/exchange/v1/{self.resource_code}/enterprises" -H "X-API-Key: {key}" '
            f'-H "X-Govshare-Purpose: {quote(self.purpose)}" -d uscc={self.sample_uscc}'
        )


def provider_url() -> str:
    return get_exchange_settings().demo_provider_url.rstrip("/")


def load_demo_provider(session: Session) -> DemoProvider | None:
    """Attach the demo provider as the proxied interface of 市场主体登记信息 and grant Suzhou civil
    affairs part of it. Flushes, never commits. None when the catalog entry or agencies are missing."""
    from govshare.catalog.models import CatalogResource
    from govshare.exchange import service
    from govshare.exchange.schemas import InterfaceCreate
    from govshare.registry.models import Agency
    from govshare.sharing import service as sharing_service
    from govshare.sharing.schemas import RequestCreate

    resource = session.scalar(
        select(CatalogResource)
        .join(Agency, Agency.id == CatalogResource.provider_id)
        .where(
            CatalogResource.name == RESOURCE_NAME,
            Agency.code == PROVIDER_CODE,
            CatalogResource.status == "published",
        )
    )
    consumer = session.scalar(select(Agency.id).where(Agency.code == CONSUMER_CODE))
    if resource is None or consumer is None or resource.provision_method != "gateway_api":
        return None
    service.attach_interface(
        session,
        resource.id,
        InterfaceCreate(kind="proxied_api", base_url=provider_url(), timeout_ms=3000, lookup_path="/lookup"),
        by=OPERATOR,
    )
    today = clock.today()
    sharing_service.create_request(
        session,
        RequestCreate(
            requester=CONSUMER_CODE,
            resource=resource.code or str(resource.id),
            items=list(GRANTED_ITEMS),
            purpose=PURPOSE,
            legal_basis=LEGAL_BASIS,
            region_scope="320500",
            starts_on=today,
            ends_on=today + dt.timedelta(days=365),
        ),
        by=OPERATOR,
    )
    sample = next(e for e in enterprises() if e["uscc"][2:6] == "3205")
    return DemoProvider(resource.code or str(resource.id), PURPOSE, GRANTED_ITEMS, sample["uscc"])
