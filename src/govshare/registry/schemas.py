"""Pydantic v2 models of the registry API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govshare.core.text import RequiredText
from govshare.registry import rules

AgencyKind = Literal["agency", "authorised", "entrusted"]
Role = Literal["agency_staff", "agency_admin", "authority", "supervisor", "secrecy_admin"]


class RegionCreate(BaseModel):
    code: str = Field(description="GB/T 2260 code, 6 digits", examples=["320505"])
    name: RequiredText = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    parent_code: str | None = Field(default=None, description="None only for a root (province)")

    @field_validator("code", "parent_code")
    @classmethod
    def _six_digits(cls, v: str | None) -> str | None:
        if v is not None and not rules.REGION_CODE_RE.match(v):
            raise ValueError("行政区划代码应为 6 位数字 / a region code is 6 digits (GB/T 2260)")
        return v


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    name_en: str | None
    level: str
    parent_code: str | None
    path: str


class _AgencyFields(BaseModel):
    name_en: str | None = Field(default=None, max_length=200)
    kind: AgencyKind = "agency"
    vertical_system: str | None = Field(default=None, max_length=64, description="Provincial vertical system")
    is_authority: bool = Field(default=False, description="The region's competent authority (信息化主管部门)")
    responsible_unit: str | None = Field(default=None, max_length=200, description="Art 30 internal unit")
    responsible_person: str | None = Field(default=None, max_length=100, description="Art 30 person")
    responsible_phone: str | None = Field(default=None, max_length=40)


def _check_uscc(v: str) -> str:
    v = v.strip().upper()
    problem = rules.uscc_problem(v)
    if problem:
        raise ValueError(problem + "（GB 32100）")
    return v


def _check_code(v: str) -> str:
    if not rules.AGENCY_CODE_RE.match(v):
        raise ValueError(
            "机构代号只能包含字母、数字、点、连字符和下划线，2-64 位 / "
            "2-64 letters, digits, dots, hyphens or underscores"
        )
    return v


class AgencyCreate(_AgencyFields):
    code: str = Field(description="Short unique code, e.g. js-gat", examples=["js-gat"])
    uscc: str = Field(description="统一社会信用代码 (18 characters, GB 32100)", examples=["11320000014000343H"])
    name: RequiredText = Field(min_length=2, max_length=200)
    region_code: str = Field(examples=["320000"])

    @field_validator("uscc")
    @classmethod
    def _valid_uscc(cls, v: str) -> str:
        return _check_uscc(v)

    @field_validator("code")
    @classmethod
    def _valid_code(cls, v: str) -> str:
        return _check_code(v)


class AgencyUpdate(BaseModel):
    name: RequiredText | None = Field(default=None, min_length=2, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    kind: AgencyKind | None = None
    vertical_system: str | None = Field(default=None, max_length=64)
    is_authority: bool | None = None
    responsible_unit: str | None = Field(default=None, max_length=200)
    responsible_person: str | None = Field(default=None, max_length=100)
    responsible_phone: str | None = Field(default=None, max_length=40)
    active: bool | None = None

    @field_validator("name", "kind", "is_authority", "active")
    @classmethod
    def _not_null(cls, v: object) -> object:
        # Omit a field to leave it unchanged; null would clear a value every agency must have.
        if v is None:
            raise ValueError("不能为空，不修改请省略该字段 / cannot be null; omit the field to keep it")
        return v


class AgencyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    uscc: str
    name: str
    name_en: str | None
    region_code: str
    level: str
    kind: str
    vertical_system: str | None
    is_authority: bool
    responsible_unit: str | None
    responsible_person: str | None
    responsible_phone: str | None
    active: bool


class AgencyPage(BaseModel):
    items: list[AgencyRead]
    total: int
    offset: int
    limit: int


class GrantCreate(BaseModel):
    role: Role
    agency_code: str | None = None
    region_code: str | None = None


class GrantRead(BaseModel):
    id: int
    role: str
    agency_code: str | None
    region_code: str | None


class PersonCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    display_name: RequiredText = Field(min_length=1, max_length=100)
    password: str | None = Field(
        default=None, min_length=rules.PASSWORD_MIN_LENGTH, max_length=rules.PASSWORD_MAX_LENGTH
    )
    grants: list[GrantCreate] = Field(default_factory=list)


class PersonRead(BaseModel):
    id: int
    username: str
    display_name: str
    active: bool
    grants: list[GrantRead]


class TokenRead(BaseModel):
    id: int
    name: str
    hint: str | None = Field(description="The token's first characters, to tell tokens apart; not the token")
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    state: Literal["active", "expired", "revoked"]


class TokenIssued(TokenRead):
    token: str = Field(description="Shown once; store it now")


class ClientCreate(BaseModel):
    name: RequiredText = Field(min_length=1, max_length=100)


class ClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    agency_id: int
    name: str
    key_hint: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class ClientIssued(ClientRead):
    api_key: str = Field(description="Shown once; store it now")


class Me(BaseModel):
    kind: str
    id: int
    name: str
    username: str | None
    roles: list[GrantRead]


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=rules.PASSWORD_MAX_LENGTH)
    new_password: str = Field(min_length=rules.PASSWORD_MIN_LENGTH, max_length=rules.PASSWORD_MAX_LENGTH)


class PasswordReset(BaseModel):
    password: str = Field(min_length=rules.PASSWORD_MIN_LENGTH, max_length=rules.PASSWORD_MAX_LENGTH)
