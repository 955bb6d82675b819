"""Pydantic v2 models of the catalog API.

Enumerated fields accept the machine values of ``rules.py`` (``not_shared``, ``gateway_api``...);
the read models carry Chinese and English labels beside them. The law's rules (Art 7, 13, 15, 16,
18) are checked by the service on the merged content, so their errors carry the article.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from govshare.catalog import rules
from govshare.core.text import RequiredText

Classification = Literal["basic", "thematic", "departmental"]
Format = Literal["database", "spreadsheet", "file", "image", "streaming", "geospatial", "api", "other"]
ShareType = Literal["unconditional", "conditional", "not_shared"]
ProvisionMethod = Literal["gateway_api", "hosted_dataset", "file", "off_platform"]
UpdateCycle = Literal["realtime", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "irregular"]
SecurityClassification = Literal["public", "internal", "restricted", "secret", "confidential"]
DataType = Literal["string", "integer", "decimal", "date", "datetime", "boolean", "binary", "geometry"]
Sector = Literal[
    "education",
    "health",
    "employment",
    "social_security",
    "community",
    "civil_affairs",
    "elderly_care",
    "housing",
    "transport",
    "public_safety",
    "culture",
    "environment",
    "food_drug",
    "market_regulation",
    "taxation",
    "finance",
    "statistics",
    "natural_resources",
    "agriculture",
    "emergency",
]
Status = Literal["draft", "submitted", "published", "withdrawn"]

# Keep the Literals and the vocabularies of rules.py in step.
for _lit, _vocab in (
    (Classification, rules.CLASSIFICATIONS),
    (Format, rules.FORMATS),
    (ShareType, rules.SHARE_TYPES),
    (ProvisionMethod, rules.PROVISION_METHODS),
    (UpdateCycle, rules.UPDATE_CYCLES),
    (SecurityClassification, rules.SECURITY_CLASSIFICATIONS),
    (DataType, rules.DATA_TYPES),
    (Sector, rules.SECTORS),
    (Status, rules.STATUSES),
):
    assert set(_lit.__args__) == set(_vocab), _lit  # type: ignore[attr-defined]


#: Documented in the spec; checked by rules.check_update_deadline, whose errors name Art 15.
_DEADLINE_RANGE: dict[str, Any] = {"minimum": 1, "maximum": rules.MAX_UPDATE_DEADLINE_WORKDAYS}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataItemIn(_Strict):
    name: RequiredText = Field(min_length=1, max_length=100, description="信息项名称")
    field_code: str | None = Field(
        default=None, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="英文标识 / machine name"
    )
    data_type: DataType = "string"
    description: str | None = Field(default=None, max_length=1000)
    is_personal: bool = Field(default=False, description="个人信息 (Art 18)")
    is_secret: bool = Field(default=False, description="涉密 (Art 19)")


class _Content(_Strict):
    """Fields shared by create and update (all optional here; create makes some required)."""

    category: str | None = Field(default=None, max_length=40, description="资源类别 (basic/thematic)")
    name_en: str | None = Field(default=None, max_length=300)
    abstract: str | None = Field(default=None, max_length=4000, description="资源摘要")
    abstract_en: str | None = Field(default=None, max_length=4000)
    format_detail: str | None = Field(default=None, max_length=100, examples=["XLSX"])
    share_conditions: str | None = Field(default=None, max_length=2000, description="共享条件")
    legal_basis: str | None = Field(default=None, max_length=2000, description="法律依据")
    fee: Decimal | None = Field(default=None, description="费用：行政机关之间共享不收费 (Art 16)，只能为空或 0")
    note: str | None = Field(default=None, max_length=1000, description="本次变更说明 / change note")


class ResourceCreate(_Content):
    provider: str | None = Field(default=None, description="提供单位代号；省略时取本人所在机关")
    classification: Classification
    name: RequiredText = Field(min_length=2, max_length=200, description="资源名称")
    format: Format
    data_items: list[DataItemIn] = Field(default_factory=list, max_length=500)
    share_type: ShareType
    provision_method: ProvisionMethod
    open_to_public: bool = False
    update_cycle: UpdateCycle
    update_deadline_workdays: int = Field(
        default=rules.DEFAULT_UPDATE_DEADLINE_WORKDAYS,
        description=f"更新时限（工作日，1 至 {rules.MAX_UPDATE_DEADLINE_WORKDAYS}，Art 15）",
        json_schema_extra=_DEADLINE_RANGE,
    )
    sectors: list[Sector] = Field(default_factory=list, max_length=20)
    related: list[str] = Field(default_factory=list, max_length=50, description="关联资源的代码或编号")
    security_classification: SecurityClassification = "internal"
    contains_commercial_secret: bool = False
    contains_personal_info: bool = False
    demand_id: int | None = Field(default=None, description="由此编目的共享需求 (Art 9)")


class ResourceUpdate(_Content):
    """PATCH: only the fields sent change. For a published entry this files a revision."""

    classification: Classification | None = None
    name: RequiredText | None = Field(default=None, min_length=2, max_length=200)
    format: Format | None = None
    data_items: list[DataItemIn] | None = Field(default=None, max_length=500)
    share_type: ShareType | None = None
    provision_method: ProvisionMethod | None = None
    open_to_public: bool | None = None
    update_cycle: UpdateCycle | None = None
    update_deadline_workdays: int | None = Field(default=None, json_schema_extra=_DEADLINE_RANGE)
    sectors: list[Sector] | None = Field(default=None, max_length=20)
    related: list[str] | None = Field(default=None, max_length=50)
    security_classification: SecurityClassification | None = None
    contains_commercial_secret: bool | None = None
    contains_personal_info: bool | None = None


class ReviewNote(_Strict):
    note: str | None = Field(default=None, max_length=2000)


class Reason(_Strict):
    reason: str = Field(min_length=2, max_length=2000, description="理由 / reason")


# --- Reads --------------------------------------------------------------------------------------


class AgencyRef(BaseModel):
    id: int
    code: str
    name: str


class ResourceRef(BaseModel):
    id: int
    code: str | None
    name: str
    status: str


class DataItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    position: int
    name: str
    field_code: str | None
    data_type: str
    description: str | None
    is_personal: bool
    is_secret: bool


class PendingRevision(BaseModel):
    number: int
    created_at: dt.datetime
    created_by_name: str
    note: str | None


class ResourceSummary(BaseModel):
    id: int
    code: str | None
    status: str
    name: str
    name_en: str | None
    abstract: str
    provider: AgencyRef
    region_code: str
    classification: str
    category: str | None
    format: str
    share_type: str
    provision_method: str
    open_to_public: bool
    update_cycle: str
    sectors: list[str]
    published_on: dt.date | None
    modified_on: dt.date | None
    labels: dict[str, str] = Field(description="中文标签 / Chinese labels of the coded fields")


class ResourceRead(ResourceSummary):
    abstract_en: str | None
    format_detail: str | None
    share_conditions: str | None
    legal_basis: str | None
    update_deadline_workdays: int
    security_classification: str
    contains_commercial_secret: bool
    contains_personal_info: bool
    data_items: list[DataItemRead]
    related: list[ResourceRef]
    version_number: int
    pending_revision: PendingRevision | None
    submitted_at: dt.datetime | None
    published_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    withdrawal_reason: str | None
    review_note: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    labels_en: dict[str, str]


class FacetValueRead(BaseModel):
    value: str
    label: str
    label_en: str
    count: int


class ResourcePage(BaseModel):
    items: list[ResourceSummary]
    total: int
    offset: int
    limit: int
    tokens: list[str] = Field(description="查询分词 / query tokens after Chinese segmentation")
    facets: dict[str, list[FacetValueRead]]


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    change_kind: str
    review_state: str | None
    note: str | None
    created_at: dt.datetime
    created_by_name: str
    reviewed_at: dt.datetime | None
    review_note: str | None
    published_at: dt.datetime | None


class VersionDetail(VersionRead):
    snapshot: dict[str, Any]


class FieldChange(BaseModel):
    field: str
    label: str
    label_en: str
    kind: Literal["changed", "added", "removed"]
    before: str | None
    after: str | None


class VersionDiff(BaseModel):
    resource_id: int
    from_number: int
    to_number: int
    changes: list[FieldChange]
    text: str = Field(description="可读的变更说明 / readable summary, one change per line")


class ReviewQueue(BaseModel):
    submitted: list[ResourceSummary]
    pending_revisions: list[ResourceSummary]


# --- Demands (Art 9) ----------------------------------------------------------------------------


class DemandCreate(_Strict):
    requester: str | None = Field(default=None, description="需求机关代号；省略时取本人所在机关")
    title: RequiredText = Field(min_length=2, max_length=200, description="需求名称")
    description: str = Field(default="", max_length=4000)
    duty: str = Field(max_length=2000, description="履行的职责 / the duty the data serves (Art 9, 17)")
    legal_basis: str = Field(max_length=2000, description="法律依据")
    wanted_items: str | None = Field(default=None, max_length=2000, description="所需信息项")


class DemandUpdate(_Strict):
    title: RequiredText | None = Field(default=None, min_length=2, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    duty: str | None = Field(default=None, max_length=2000)
    legal_basis: str | None = Field(default=None, max_length=2000)
    wanted_items: str | None = Field(default=None, max_length=2000)


class DemandMatchIn(_Strict):
    resources: list[str] = Field(min_length=1, max_length=50, description="资源代码或编号")
    note: str | None = Field(default=None, max_length=1000)


class DemandRouteIn(_Strict):
    agencies: list[str] = Field(min_length=1, max_length=50, description="候选提供单位代号")
    note: str | None = Field(default=None, max_length=1000)


class DemandMatchRead(BaseModel):
    resource: ResourceRef
    kind: str
    note: str | None
    created_at: dt.datetime


class DemandRouteRead(BaseModel):
    agency: AgencyRef
    note: str | None
    created_at: dt.datetime


class DemandRead(BaseModel):
    id: int
    requester: AgencyRef
    region_code: str
    title: str
    description: str
    duty: str
    legal_basis: str
    wanted_items: str | None
    status: str
    status_label: str
    close_reason: str | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    matches: list[DemandMatchRead]
    routes: list[DemandRouteRead]


class DemandPage(BaseModel):
    items: list[DemandRead]
    total: int
    offset: int
    limit: int


# --- Import -------------------------------------------------------------------------------------


class ImportRowError(BaseModel):
    row: int
    column: str | None
    code: str
    message_zh: str
    message_en: str
    article: str | None = None


class ImportReport(BaseModel):
    file_name: str
    sha256: str
    rows: int
    valid: int
    imported: int
    errors: list[ImportRowError]
    resource_ids: list[int]
    stored: bool = Field(description="是否已入库 / whether anything was stored")
    ignored_columns: list[str] = Field(default_factory=list, description="未识别的列 / columns not recognised")
