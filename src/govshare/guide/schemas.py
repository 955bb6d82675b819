"""Pydantic v2 models of the service guide API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govshare.catalog.schemas import Sector
from govshare.core.text import RequiredText
from govshare.guide import rules

Channel = Literal["web", "mobile_app", "phone", "tv", "counter"]
assert set(Channel.__args__) == set(rules.CHANNELS)  # type: ignore[attr-defined]

LINK_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelIn(_Strict):
    channel: Channel
    detail: str | None = Field(
        default=None, max_length=200, description="如热线号码、客户端名称、办理地点", examples=["12345"]
    )


def _channels(value: Any) -> Any:
    """Channels as objects, or simply by name (``["web", "phone"]``)."""
    if isinstance(value, list):
        return [{"channel": v} if isinstance(v, str) else v for v in value]
    return value


class _Content(_Strict):
    name_en: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, max_length=4000, description="服务说明")
    description_en: str | None = Field(default=None, max_length=4000)
    link_url: str | None = Field(
        default=None,
        max_length=rules.MAX_LINK_LENGTH,
        pattern=LINK_PATTERN,
        description="办理或说明页面（http/https）",
        examples=["https://www.jszwfw.gov.cn/"],
    )


class ServiceCreate(_Content):
    name: RequiredText = Field(min_length=2, max_length=200, description="服务名称")
    sector: Sector = Field(description="领域（与共享目录相同，第二十二至二十六条）")
    agency: str = Field(
        min_length=1, max_length=64, description="服务机关代号 / serving agency code", examples=["js-rst"]
    )
    channels: list[ChannelIn] = Field(min_length=1, max_length=5, description="服务渠道（第二十七条）")
    resources: list[str] = Field(default_factory=list, max_length=50, description="所依托的目录资源代码")

    @field_validator("channels", mode="before")
    @classmethod
    def _split_channels(cls, value: Any) -> Any:
        return _channels(value)


class ServiceUpdate(_Content):
    """PATCH: only the fields sent change."""

    name: RequiredText | None = Field(default=None, min_length=2, max_length=200)
    sector: Sector | None = None
    agency: str | None = Field(default=None, min_length=1, max_length=64)
    channels: list[ChannelIn] | None = Field(default=None, min_length=1, max_length=5)
    resources: list[str] | None = Field(default=None, max_length=50)

    @field_validator("channels", mode="before")
    @classmethod
    def _split_channels(cls, value: Any) -> Any:
        return _channels(value)


class Reason(_Strict):
    reason: str = Field(min_length=2, max_length=2000, description="理由 / reason")


class AgencyBrief(BaseModel):
    code: str
    name: str
    name_en: str | None


class ChannelRead(BaseModel):
    channel: str
    label: str
    label_en: str
    detail: str | None


class ResourceBrief(BaseModel):
    code: str
    name: str
    name_en: str | None


class ServiceRead(BaseModel):
    id: int
    name: str
    name_en: str | None
    sector: str
    sector_label: str
    sector_label_en: str
    agency: AgencyBrief
    region_code: str
    description: str
    description_en: str | None
    link_url: str | None
    channels: list[ChannelRead]
    resources: list[ResourceBrief] = Field(description="所依托的、调用者可见的已发布目录资源")
    active: bool
    deactivated_at: dt.datetime | None
    deactivation_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class FacetCount(BaseModel):
    value: str
    label: str
    label_en: str
    count: int


class ServicePage(BaseModel):
    items: list[ServiceRead]
    total: int
    offset: int
    limit: int
    facets: dict[str, list[FacetCount]] = Field(description="sector、channel 计数 / counts over the filtered set")
