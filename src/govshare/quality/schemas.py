"""Quality API shapes (Pydantic v2)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from govshare.core.paging import PageOf

Text = Field(default=None, max_length=2000)


class ElementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=32, examples=["DE0001"])
    name: str = Field(max_length=100, examples=["公民身份号码"])
    name_en: str | None = Field(default=None, max_length=200)
    data_type: Literal["string", "integer", "decimal", "date", "datetime", "boolean"] = "string"
    format_rule: Literal["id_number", "uscc", "region", "property_unit", "none"] = "none"
    field_code: str | None = Field(default=None, max_length=64, examples=["id_number"])
    description: str | None = Text


class ElementUpdate(BaseModel):
    """A corrected data element; its code stays."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100)
    name_en: str | None = Field(default=None, max_length=200)
    data_type: Literal["string", "integer", "decimal", "date", "datetime", "boolean"] = "string"
    format_rule: Literal["id_number", "uscc", "region", "property_unit", "none"] = "none"
    field_code: str | None = Field(default=None, max_length=64)
    description: str | None = Text


class ElementRead(BaseModel):
    code: str
    name: str
    name_en: str | None
    data_type: str
    format_rule: str
    field_code: str | None
    description: str | None


class AssignmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: str = Field(pattern=r"^[0-9]{6}$", examples=["320000"])
    agency: str = Field(max_length=64, examples=["js-gat"])
    basis: str | None = Text


class AssignmentRead(BaseModel):
    id: int
    element: str
    element_name: str
    region_code: str
    agency: str
    agency_name: str
    basis: str | None
    assigned_at: dt.datetime


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = Field(max_length=100)
    element: str = Field(max_length=32)


class LinkRead(BaseModel):
    resource_id: int
    item: str
    element: str
    element_name: str


class FlagAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: Literal["legal_exception", "switch_to_sharing"]
    citation: str | None = Field(default=None, max_length=500)
    explanation: str | None = Text


class FlagRead(BaseModel):
    id: int
    resource_id: int
    resource_code: str | None
    resource_name: str
    item: str
    element: str
    element_name: str
    agency: str
    agency_name: str
    assigned_agency: str
    assigned_agency_name: str
    region_code: str
    trigger: str
    state: str
    citation: str | None
    explanation: str | None
    created_at: dt.datetime
    answered_at: dt.datetime | None


class FlagPage(PageOf[FlagRead]):
    pass


class HostedReconcile(BaseModel):
    """Reconcile one of the agency's own hosted datasets (uploads go as multipart)."""

    model_config = ConfigDict(extra="forbid")

    primary: str = Field(max_length=64, description="主采集方资源代码或编号")
    hosted: str = Field(max_length=64, description="本单位托管数据集的资源代码或编号")
    key: str = Field(max_length=100)
    items: list[str] = Field(min_length=1, max_length=50)
    key_secondary: str | None = Field(default=None, max_length=100)
    item_map: dict[str, str] | None = None
    rules: list[str] | None = Field(default=None, max_length=10)
    agency: str | None = Field(default=None, max_length=64)


class ReconciliationRead(BaseModel):
    id: int
    state: str
    #: What it is doing (queued, loading, validating_keys, matching_keys, comparing_item,
    #: writing_report, done, failed, interrupted), at ``step`` of ``steps``; ``progress`` in per cent.
    stage: str | None
    stage_label: list[str] = Field(description="[中文, English], e.g. 逐项比对：第 2/3 项 姓名（第 6/8 步）")
    step: int | None
    steps: int | None
    progress: int
    #: When the worker running it last said it still does (a stale one is failed as interrupted).
    heartbeat_at: dt.datetime | None
    secondary_agency: str
    primary_agency: str
    primary_resource: str | None
    primary_version: int
    source_kind: str
    source_filename: str | None
    key: str
    key_kind: str
    items: list[dict[str, Any]]
    rules: list[str]
    discrepancies: int | None
    error: dict[str, Any] | None
    report: dict[str, Any] | None
    task_id: int | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ReconciliationPage(PageOf[ReconciliationRead]):
    pass


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=1, le=10**12)
    outcome: Literal["source_corrected", "source_right", "cannot_verify"]
    note: str | None = Text


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[AnswerIn] = Field(min_length=1, max_length=1000)


class AnswerAllIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["source_corrected", "source_right", "cannot_verify"]
    note: str | None = Text


class TaskRead(BaseModel):
    id: int
    reconciliation_id: int
    primary_agency: str
    secondary_agency: str
    region_code: str
    discrepancies: int
    answered: int
    received_on: dt.date
    due_on: dt.date
    workdays: int
    provisional: bool
    state: str
    overdue: bool
    bulk_outcome: str | None
    answered_on: dt.date | None


class TaskPage(PageOf[TaskRead]):
    pass


class CheckRead(BaseModel):
    resource_id: int
    version: int
    rows: int
    score: float | None
    dimensions: dict[str, float | None]
    findings: list[dict[str, Any]]
    as_of: dt.date
    trigger: str
    checked_at: dt.datetime


class ObjectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grant_id: int = Field(ge=1, le=2**31 - 1)
    record_key: str = Field(max_length=200, description="记录的主键，如公民身份号码")
    item: str | None = Field(default=None, max_length=100, description="有异议的数据项；省略为整条记录")
    problem: str = Field(max_length=2000, description="哪里不对")
    evidence: str | None = Text


class ObjectionAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["corrected", "confirmed", "rejected"]
    note: str | None = Text


class ObjectionRead(BaseModel):
    id: int
    grant_id: int
    resource_id: int
    resource_code: str | None
    resource_name: str
    objector: str
    provider: str
    record_key: str
    item: str | None
    problem: str
    evidence: str | None
    received_on: dt.date
    due_on: dt.date
    workdays: int
    provisional: bool
    state: str
    overdue: bool
    answer_note: str | None
    answered_on: dt.date | None
    corrected_version: int | None


class ObjectionPage(PageOf[ObjectionRead]):
    pass


class UpdateCreate(BaseModel):
    """A change in the provider's source data (Art 15(2))."""

    model_config = ConfigDict(extra="forbid")

    resource: str = Field(max_length=64, description="目录条目的资源代码或编号")
    changed_at: dt.datetime = Field(
        description="源数据发生变化的时间（ISO 8601，带时区）", examples=["2026-12-01T09:00:00+08:00"]
    )
    note: str | None = Text


class UpdateConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Text


class UpdateRead(BaseModel):
    id: int
    resource_id: int
    resource_code: str
    resource_name: str
    provider: str
    provider_name: str
    region_code: str
    interface_kind: str | None
    source: str
    changed_at: dt.datetime
    note: str | None
    received_on: dt.date
    due_on: dt.date
    workdays: int
    provisional: bool
    state: str
    overdue: bool
    met_on: dt.date | None
    met_late: bool | None
    met_by: str | None
    dataset_version: int | None
    confirmation_note: str | None
    article: str = "Art 15(2)"


class UpdatePage(PageOf[UpdateRead]):
    pass


class OverdueCountRead(BaseModel):
    code: str
    name: str
    count: int


class OverdueCountsRead(BaseModel):
    total: int
    by_agency: list[OverdueCountRead]
    by_region: list[OverdueCountRead]
