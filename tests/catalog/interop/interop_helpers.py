"""A demo-like public catalog built through the catalog service, for the DCAT and CKAN tests.

Every share type, classification and most formats and update cycles appear; besides the public
entries there is one published entry not open to the public, one draft and one withdrawn entry,
which the exports must leave out.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import Graph
from sqlalchemy.orm import Session

from govshare.catalog import service
from govshare.catalog.models import CatalogResource
from govshare.catalog.schemas import ResourceCreate
from govshare.core.auth import OPERATOR

#: The DCAT-AP 3.0.1 SHACL shapes, copied unchanged from SEMIC's release (source and licence:
#: tests/data/README.md).
SHAPES = Path(__file__).resolve().parents[2] / "data" / "dcat-ap-3.0.1-shacl.ttl"
SHAPES_SHA256 = "990d3e42721de6a4be8cc338a7171559f195e62dea89c0b56531356b78cc026f"


@lru_cache(maxsize=1)
def shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


def _items(*names: str, personal: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"name": n, "is_personal": n in personal} for n in names]


#: (key, provider, payload) of the public entries.
PUBLIC: list[tuple[str, str, dict[str, Any]]] = [
    (
        "population",
        "js-gat",
        {
            "classification": "basic",
            "category": "population",
            "name": "全省人口基础信息",
            "name_en": "Population base register",
            "abstract": "全省户籍人口和常住人口的基础登记信息。",
            "abstract_en": "Registered and resident population of the province.",
            "format": "database",
            "format_detail": "JSON（RESTful 接口）",
            "share_type": "conditional",
            "share_conditions": "仅限依法履职的行政机关按需调用，须签订保密协议",
            "provision_method": "gateway_api",
            "update_cycle": "daily",
            "security_classification": "restricted",
            "contains_personal_info": True,
            "sectors": ["public_safety", "civil_affairs"],
            "data_items": _items("公民身份号码", "姓名", "户籍地址", personal=("公民身份号码", "姓名", "户籍地址")),
        },
    ),
    (
        "licences",
        "nj-sj",
        {
            "classification": "basic",
            "category": "legal_entity",
            "name": "市场主体登记信息",
            "name_en": "Register of market entities",
            "abstract": "企业、个体工商户的登记信息，包括统一社会信用代码。",
            "format": "spreadsheet",
            "format_detail": "XLSX",
            "share_type": "unconditional",
            "provision_method": "hosted_dataset",
            "update_cycle": "monthly",
            "security_classification": "public",
            "sectors": ["market_regulation"],
            "data_items": _items("统一社会信用代码", "企业名称", "登记机关"),
        },
    ),
    (
        "records",
        "sz-sj",
        {
            "classification": "thematic",
            "category": "health",
            "name": "食品抽检不合格案件卷宗",
            "abstract": "",
            "format": "file",
            "format_detail": "PDF",
            "share_type": "not_shared",
            "legal_basis": "《中华人民共和国食品安全法》第一百一十八条及相关行政处罚程序规定",
            "provision_method": "off_platform",
            "update_cycle": "yearly",
            "security_classification": "restricted",
            "contains_commercial_secret": True,
            "sectors": ["food_drug", "health"],
            "data_items": _items("案件编号", "处罚决定"),
        },
    ),
    (
        "libraries",
        "sz-sj",
        {
            "classification": "departmental",
            "name": "苏州市公共文化场馆名录",
            "name_en": "Cultural venues of Suzhou",
            "abstract": "公共图书馆、博物馆、文化馆的名称、地址和开放时间。",
            "format": "spreadsheet",
            "format_detail": "CSV",
            "share_type": "unconditional",
            "provision_method": "file",
            "update_cycle": "weekly",
            "security_classification": "public",
            "sectors": ["culture", "education"],
            "data_items": _items("场馆名称", "地址", "开放时间"),
        },
    ),
    (
        "geography",
        "js-dsj",
        {
            "classification": "basic",
            "category": "natural_resources_geography",
            "name": "行政区划界线空间数据",
            "abstract": "省、市、县三级行政区划界线矢量数据。",
            "format": "geospatial",
            "format_detail": "Shapefile",
            "share_type": "conditional",
            "share_conditions": "用于规划和应急管理，不得对外提供",
            "provision_method": "hosted_dataset",
            "update_cycle": "half_yearly",
            "security_classification": "internal",
            "sectors": ["natural_resources"],
            "data_items": _items("区划代码", "区划名称", "界线几何"),
        },
    ),
    (
        "services",
        "js-gat",
        {
            "classification": "thematic",
            "category": "public_service",
            "name": "出入境证件办理进度",
            "abstract": "出入境证件申请受理、审批和制证进度，实时更新。",
            "format": "api",
            "share_type": "conditional",
            "share_conditions": "仅限政务服务平台为申请人本人查询",
            "provision_method": "gateway_api",
            "update_cycle": "realtime",
            "security_classification": "internal",
            "contains_personal_info": True,
            "sectors": ["public_safety"],
            "data_items": _items("受理编号", "办理状态", "申请人", personal=("申请人",)),
        },
    ),
    (
        "statistics",
        "js-dsj",
        {
            "classification": "departmental",
            "name": "政务数据共享统计",
            "abstract": "各机关共享调用次数和目录更新情况。",
            "format": "other",
            "share_type": "unconditional",
            "provision_method": "file",
            "update_cycle": "quarterly",
            "security_classification": "public",
            "sectors": ["statistics"],
            "data_items": _items("机关", "调用次数"),
        },
    ),
    (
        "credit",
        "nj-sj",
        {
            "classification": "basic",
            "category": "social_credit",
            "name": "企业信用承诺履约信息",
            "abstract": "市场主体信用承诺及履约情况。",
            "format": "database",
            "share_type": "conditional",
            "share_conditions": "用于信用监管和行政审批",
            "provision_method": "gateway_api",
            "update_cycle": "irregular",
            "security_classification": "internal",
            "sectors": ["market_regulation", "finance"],
            "data_items": _items("统一社会信用代码", "承诺事项", "履约状态"),
        },
    ),
]


@dataclasses.dataclass
class Catalog:
    public: dict[str, CatalogResource]
    hidden_published: CatalogResource
    draft: CatalogResource
    withdrawn: CatalogResource

    @property
    def public_codes(self) -> list[str]:
        return sorted(e.code for e in self.public.values() if e.code)


def _publish(session: Session, provider: str, payload: dict[str, Any]) -> CatalogResource:
    made = service.create_resource(session, ResourceCreate(provider=provider, **payload), by=OPERATOR)
    service.submit(session, made.id, by=OPERATOR)
    return service.publish(session, made.id, by=OPERATOR)


def build_catalog(session: Session) -> Catalog:
    """Create and publish the entries (as the platform operator) and commit."""
    public = {
        key: _publish(session, provider, {"open_to_public": True, **payload}) for key, provider, payload in PUBLIC
    }
    # A related entry that is public, and one that points at a hidden entry.
    hidden = _publish(
        session,
        "js-gat",
        {
            "classification": "departmental",
            "name": "内部值班表",
            "abstract": "机关内部值班安排。",
            "format": "file",
            "share_type": "unconditional",
            "provision_method": "file",
            "update_cycle": "monthly",
            "open_to_public": False,
            "security_classification": "internal",
        },
    )
    from govshare.catalog.schemas import ResourceUpdate

    for key, related in (("libraries", [public["statistics"].code]), ("statistics", [hidden.code])):
        entry = public[key]
        service.update_resource(session, entry.id, ResourceUpdate(related=related), by=OPERATOR)
        service.approve_revision(session, entry.id, by=OPERATOR)
    draft = service.create_resource(
        session,
        ResourceCreate(
            provider="sz-sj",
            classification="departmental",
            name="草稿中的目录",
            abstract="尚未提交。",
            format="file",
            share_type="unconditional",
            provision_method="file",
            update_cycle="yearly",
            open_to_public=True,
        ),
        by=OPERATOR,
    )
    withdrawn = _publish(
        session,
        "nj-sj",
        {
            "classification": "departmental",
            "name": "已撤销的目录",
            "abstract": "已经撤销。",
            "format": "file",
            "share_type": "unconditional",
            "provision_method": "file",
            "update_cycle": "yearly",
            "open_to_public": True,
        },
    )
    service.withdraw(session, withdrawn.id, reason="资源已停止维护", by=OPERATOR)
    session.commit()
    return Catalog(public=public, hidden_published=hidden, draft=draft, withdrawn=withdrawn)
