"""Pydantic v2 models of the exchange API (``/api/v1/exchange``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from govshare.exchange import rules

InterfaceKind = Literal["proxied_api", "hosted_dataset"]
ReportPeriod = Literal["monthly", "quarterly", "half_yearly", "yearly"]
Direction = Literal["provide", "receive"]
Operator = Literal["eq", "ne", "lt", "le", "gt", "ge", "in"]

for _lit, _vocab in ((InterfaceKind, rules.INTERFACE_KINDS), (ReportPeriod, rules.REPORT_PERIODS)):
    assert set(_lit.__args__) == set(_vocab), _lit  # type: ignore[attr-defined]

ItemName = Field(min_length=1, max_length=100)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- Interfaces (Art 15) --------------------------------------------------------------------------


class _InterfaceFields(_Strict):
    base_url: str | None = Field(
        default=None,
        max_length=rules.URL_MAX_LENGTH,
        examples=["https://node.gat.js.gov.cn/api"],
        description="代理接口的基础地址（http/https，不含用户名、密码和查询参数）",
    )
    openapi: str | None = Field(
        default=None,
        max_length=rules.OPENAPI_MAX_BYTES,
        description="OpenAPI 3.x 接口描述（JSON 或 YAML 文本）；空字符串表示删除",
    )
    timeout_ms: int | None = Field(
        default=None, description=f"超时（毫秒，{rules.MIN_TIMEOUT_MS}-{rules.MAX_TIMEOUT_MS}）"
    )
    secrecy_network: bool | None = Field(default=None, description="通道为采取保密措施的网络 (Art 18(2))")
    lookup_path: str | None = Field(default=None, max_length=300, description="核验接口路径（基础地址之下），可选")
    change_feed_url: str | None = Field(
        default=None, max_length=rules.URL_MAX_LENGTH, description="数据变更通知地址，可选 (Art 15(2))"
    )
    required_items: list[str] | None = Field(
        default=None, max_length=500, description="托管数据集：每行必填的信息项名称"
    )
    key_items: list[str] | None = Field(
        default=None, max_length=10, description="托管数据集：可用于核验查找的主键信息项（须唯一）"
    )


class InterfaceCreate(_InterfaceFields):
    kind: InterfaceKind = Field(description="proxied_api（代理接口）| hosted_dataset（平台托管数据集）")


class InterfaceUpdate(_InterfaceFields):
    """PATCH: only the fields sent change; the kind cannot (detach and attach again)."""


class ResourceRef(BaseModel):
    id: int
    code: str | None
    name: str


class InterfaceRead(BaseModel):
    id: int
    resource: ResourceRef
    provider: str = Field(description="提供单位代号")
    region_code: str
    kind: InterfaceKind
    kind_label: str
    base_url: str | None
    openapi_title: str | None
    openapi_version: str | None
    has_openapi: bool
    timeout_ms: int | None
    secrecy_network: bool
    lookup_path: str | None
    change_feed_url: str | None
    required_items: list[str]
    key_items: list[str]
    current_version: int | None
    active: bool
    detached_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class InterfacePage(BaseModel):
    items: list[InterfaceRead]
    total: int
    offset: int
    limit: int


class OpenApiDocument(BaseModel):
    document: str


# --- Dataset versions ----------------------------------------------------------------------------


class ColumnRead(BaseModel):
    name: str
    field_code: str | None
    data_type: str
    required: bool
    key: bool


class VersionRead(BaseModel):
    number: int
    current: bool
    row_count: int
    bytes: int
    sha256: str = Field(description="存储的 Parquet 文件的 SHA-256")
    columns: list[ColumnRead]
    source_filename: str
    source_format: str
    source_encoding: str | None
    source_bytes: int
    source_sha256: str
    changed_at: dt.datetime = Field(description="数据变更时间 (Art 15(2))")
    accepted_at: dt.datetime
    uploaded_by_name: str
    note: str | None


class VersionPage(BaseModel):
    items: list[VersionRead]
    total: int
    offset: int
    limit: int


class FilterIn(_Strict):
    item: str = ItemName
    op: Operator = "eq"
    value: str | int | float | bool | list[str | int | float | bool] = Field(
        description="值；in 时为列表", examples=["女"]
    )


class PreviewIn(_Strict):
    items: list[str] | None = Field(default=None, max_length=500, description="要返回的信息项；省略为全部")
    filters: list[FilterIn] = Field(default_factory=list, max_length=20)
    offset: int = Field(default=0, ge=0, le=10**12)
    limit: int = Field(default=20, ge=1, le=1000)
    version: int | None = Field(default=None, ge=1, le=10**9, description="版本号；省略为当前版本")


class PreviewRead(BaseModel):
    version: int
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


# --- Off-platform filings (Art 14(3)) -------------------------------------------------------------


class FilingCreate(_Strict):
    agency: str | None = Field(default=None, max_length=64, description="备案机关代号；省略时取本人所在机关")
    resource: str | None = Field(default=None, max_length=64, description="共享的目录资源（代码或编号）")
    resource_text: str | None = Field(default=None, max_length=200, description="目录外的数据：名称")
    counterpart: str | None = Field(default=None, max_length=64, description="对方机关代号（已登记时）")
    counterpart_name: str | None = Field(default=None, max_length=200, description="对方机关名称（未登记时）")
    direction: Direction = Field(description="provide（本机关提供）| receive（本机关获取）")
    reason: str = Field(min_length=4, max_length=4000, description="未通过共享交换平台的特殊原因 (Art 14(3))")
    channel: str = Field(min_length=2, max_length=200, description="共享方式，如 专线、光盘、部门自建系统")
    report_period: ReportPeriod | None = Field(default=None, description="统计报送周期；省略为平台设置（默认每月）")


class FilingEnd(_Strict):
    reason: str = Field(min_length=rules.END_REASON_MIN, max_length=rules.END_REASON_MAX)


class FilingRead(BaseModel):
    id: int
    agency: str
    agency_name: str
    region_code: str
    resource: ResourceRef | None
    resource_text: str | None
    counterpart: str | None
    counterpart_name: str
    direction: Direction
    reason: str
    channel: str
    report_period: ReportPeriod
    state: str
    filed_at: dt.datetime
    filed_on: dt.date
    ended_on: dt.date | None
    end_reason: str | None
    reports: int = Field(description="已报送的统计报告数")
    overdue: int = Field(description="逾期未报送的统计期数")


class FilingPage(BaseModel):
    items: list[FilingRead]
    total: int
    offset: int
    limit: int


class ReportCreate(_Strict):
    period_start: dt.date = Field(description="统计期的第一天（如每月 1 日）")
    calls: int = Field(ge=0, le=10**15, description="调用或交换次数")
    records: int = Field(ge=0, le=10**15, description="交换的记录数")
    purpose: str = Field(min_length=2, max_length=2000, description="用途 (Art 17)")


class ReportRead(BaseModel):
    id: int
    filing_id: int
    period_start: dt.date
    period_end: dt.date
    calls: int
    records: int
    purpose: str
    submitted_at: dt.datetime
    submitted_on: dt.date
    due_on: dt.date
    late: bool
    submitted_by_name: str


class OverdueRead(BaseModel):
    filing_id: int
    agency: str
    agency_name: str
    region_code: str
    subject: str
    report_period: ReportPeriod
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date
    provisional: bool = Field(description="期限计算用到了尚无官方日历的年份")


class OverduePage(BaseModel):
    items: list[OverdueRead]
    total: int
    as_of: dt.date


class UsageRowRead(BaseModel):
    key: str | int | None = Field(description="分组值：授权编号、资源代码、机关编号、用途或结果")
    calls: int
    allowed: int
    refused: int
    failed: int
    rows: int
    bytes: int


class UsageRead(BaseModel):
    group: str
    since: dt.date
    until: dt.date
    items: list[UsageRowRead]
    daily: list[tuple[dt.date, int]] = Field(description="每个法定日（北京时间）的调用次数")


# --- Subjects: who used this person's or enterprise's data (Art 32) --------------------------------


class SubjectLookupIn(BaseModel):
    """The key goes in the body, never in the URL (URLs end up in logs and browser histories)."""

    model_config = ConfigDict(extra="forbid")

    id_number: str | None = Field(
        default=None, max_length=32, description="公民身份号码（GB 11643）", examples=["11010519491231002X"]
    )
    credit_code: str | None = Field(default=None, max_length=32, description="统一社会信用代码（GB 32100）")
    reason: str = Field(max_length=500, description="查询事由（记入监督台账）")
    offset: int = Field(default=0, ge=0, le=10**9)
    limit: int = Field(default=50, ge=1, le=200)


class SubjectCallRead(BaseModel):
    at: dt.datetime
    consumer_code: str | None
    consumer_name: str | None
    provider_code: str | None
    provider_name: str | None
    resource_code: str
    resource_name: str | None
    grant_id: int | None
    purpose: str | None
    mode: str
    outcome: str
    rows: int


class SubjectAgencyRead(BaseModel):
    code: str | None
    name: str | None
    calls: int
    allowed: int
    last_at: dt.datetime


class SubjectUsageRead(BaseModel):
    kind: str = Field(description="id_number | credit_code")
    total: int
    offset: int
    limit: int
    agencies: list[SubjectAgencyRead]
    items: list[SubjectCallRead]
