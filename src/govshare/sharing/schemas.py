"""Pydantic v2 models of the sharing API (``/api/v1/sharing``).

Every input model derives from :class:`NoFee`: unknown fields are refused (``extra="forbid"``),
and before that any field named fee, price, charge or cost, at any depth and in any case, is
refused citing Art 16 (sharing between agencies is free of charge).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from govshare.sharing import rules

Channel = Literal["platform", "secrecy_network", "off_platform"]
RefusalGround = Literal["state_secret", "commercial_secret", "personal_privacy", "other_legal_ground"]
RequestState = Literal["pending", "overdue", "disputed", "approved", "refused", "withdrawn"]
GrantState = Literal["pending_signatures", "active", "expired", "revoked"]
AgreementState = Literal["awaiting_signatures", "partially_signed", "signed", "void"]
DisputeKind = Literal["state_secret", "commercial_secret", "personal_privacy"]
DisputeOutcome = Literal["is_protected", "not_protected"]

for _lit, _vocab in (
    (Channel, rules.CHANNELS),
    (RequestState, rules.REQUEST_STATES),
    (GrantState, rules.GRANT_STATES),
    (AgreementState, rules.AGREEMENT_STATES),
    (DisputeKind, rules.DISPUTE_KINDS),
    (DisputeOutcome, rules.DISPUTE_OUTCOMES),
):
    assert set(_lit.__args__) == set(_vocab), _lit  # type: ignore[attr-defined]
assert set(RefusalGround.__args__) == set(rules.REFUSAL_GROUNDS)  # type: ignore[attr-defined]

#: A data item's name (catalog items are at most 100 characters) and a region code.
Item = Annotated[str, Field(min_length=1, max_length=100)]
Region = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class NoFee(BaseModel):
    """Art 16, in one place: no fee field in any sharing payload, and no field not declared."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _free_of_charge(cls, data: Any) -> Any:
        paths = rules.fee_fields(data)
        if paths:
            raise rules.fee_refused(paths)
        return data


class RequestCreate(NoFee):
    requester: str | None = Field(default=None, max_length=64, description="申请机关代号（本人只属一个机关时可省略）")
    resource: str = Field(
        min_length=1, max_length=64, description="已发布目录资源的资源代码或编号", examples=["101-000001"]
    )
    items: list[Item] = Field(min_length=1, max_length=500, description="申请的信息项名称（目录条目信息项的子集）")
    purpose: str = Field(min_length=4, max_length=2000, description="用途 (Art 17)")
    legal_basis: str = Field(min_length=4, max_length=2000, description="所履行的职责及其法律依据 (Art 17)")
    region_scope: str = Field(pattern=r"^[0-9]{6}$", description="申请的数据范围（行政区划代码，在提供方辖区内）")
    starts_on: dt.date | None = Field(default=None, description="共享期限起始日（默认今天）")
    ends_on: dt.date = Field(description="共享期限截止日（含）")
    demand_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="来自已匹配的共享需求")


class RequestFromDemand(NoFee):
    """A matched catalog demand turned into a request in one step: the demand gives the requester,
    the purpose (its duty) and the legal basis; the rest may be given or defaults apply."""

    resource: str | None = Field(default=None, max_length=64, description="匹配的目录资源（需求只匹配一项时可省略）")
    items: list[Item] | None = Field(default=None, max_length=500, description="默认：目录条目的全部信息项")
    region_scope: str | None = Field(default=None, pattern=r"^[0-9]{6}$", description="默认：提供方辖区")
    starts_on: dt.date | None = None
    ends_on: dt.date | None = Field(default=None, description="默认：一年")


class ApproveIn(NoFee):
    items: list[Item] | None = Field(default=None, max_length=500, description="同意的信息项（默认：申请的全部）")
    region_codes: list[Region] | None = Field(
        default=None, max_length=100, description="同意的数据范围（默认：申请的范围），每项在申请范围内"
    )
    starts_on: dt.date | None = None
    ends_on: dt.date | None = Field(default=None, description="同意的截止日（不晚于申请的截止日）")
    channel: Channel = "platform"
    verify_only: bool = Field(default=False, description="仅核验：使用方只得到是否一致")
    off_platform_reason: str | None = Field(
        default=None, max_length=2000, description="平台外共享的特殊原因 (Art 14(3))"
    )
    off_platform_channel: str | None = Field(default=None, max_length=200, description="平台外共享的方式")
    note: str | None = Field(default=None, max_length=2000)


class RefuseIn(NoFee):
    ground: str = Field(
        max_length=40, description="法定理由：state_secret | commercial_secret | personal_privacy | other_legal_ground"
    )
    reason: str = Field(max_length=4000, description="书面理由 (Art 18)")
    citation: str | None = Field(default=None, max_length=1000, description="其他法定情形所依据的法律法规条款")


class WithdrawIn(NoFee):
    reason: str | None = Field(default=None, max_length=2000)


class SignIn(NoFee):
    pdf_sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{64}$", description="签署人看到的协议 PDF 的 SHA-256（可选，不一致则拒绝）"
    )


class RevokeIn(NoFee):
    reason: str = Field(min_length=4, max_length=2000)


class DisputeCreate(NoFee):
    kind: DisputeKind
    question: str = Field(min_length=4, max_length=4000)


class DisputeDecide(NoFee):
    outcome: DisputeOutcome
    decision: str = Field(min_length=4, max_length=4000)
    organ: str | None = Field(
        default=None, max_length=200, description="作出决定的国家机关名称（商业秘密、个人隐私争议）"
    )


# --- Reads ----------------------------------------------------------------------------------------


class AgencyRef(BaseModel):
    code: str
    name: str


class ResourceRef(BaseModel):
    id: int
    code: str
    name: str


class DeadlineRead(BaseModel):
    rule: str
    workdays: int
    source: str
    deadline_on: dt.date | None
    workdays_left: int | None = Field(description="剩余工作日（今天不计；负数为已逾期）")
    provisional: bool = Field(description="期限涉及尚无官方日历的年份，导入后重算")
    held: bool = Field(description="争议处理中，计时暂停 (Art 19(2))")
    held_workdays: int


class RequestRead(BaseModel):
    id: int
    state: RequestState
    state_label: str
    requester: AgencyRef
    provider: AgencyRef
    resource: ResourceRef
    demand_id: int | None
    items: list[str]
    purpose: str
    legal_basis: str
    region_scope: str
    starts_on: dt.date
    ends_on: dt.date
    touches: list[str]
    received_on: dt.date
    deadline: DeadlineRead
    overdue: bool
    answered_at: dt.datetime | None
    answered_by_name: str | None
    refusal_ground: str | None
    refusal_citation: str | None
    refusal_reason: str | None
    exchange_filing_id: int | None
    agreement_id: int | None
    grant_id: int | None
    created_at: dt.datetime


class RequestPage(BaseModel):
    items: list[RequestRead]
    total: int
    offset: int
    limit: int


class SignatureRead(BaseModel):
    party: str
    agency: str
    signer_name: str
    pdf_sha256: str
    signed_at: dt.datetime


class AgreementRead(BaseModel):
    id: int
    request_id: int
    state: AgreementState
    state_label: str
    terms: dict[str, Any]
    pdf_sha256: str
    signatures: list[SignatureRead]
    signed_at: dt.datetime | None
    created_at: dt.datetime


class GrantRead(BaseModel):
    id: int
    request_id: int | None
    resource: ResourceRef
    provider: AgencyRef
    consumer: AgencyRef
    items: list[str]
    region_codes: list[str]
    purpose: str
    legal_basis: str
    starts_on: dt.date
    ends_on: dt.date
    channel: Channel
    verify_only: bool
    state: GrantState
    state_label: str
    usable: bool
    revoked_at: dt.datetime | None
    revoked_reason: str | None
    created_at: dt.datetime


class GrantPage(BaseModel):
    items: list[GrantRead]
    total: int
    offset: int
    limit: int


class FilingRead(BaseModel):
    id: int
    request_id: int
    region_code: str
    authority: AgencyRef | None
    provider: AgencyRef
    requester: AgencyRef
    resource: ResourceRef
    ground: str
    ground_label: str
    citation: str | None
    reason: str
    filed_at: dt.datetime
    filed_on: dt.date


class FilingPage(BaseModel):
    items: list[FilingRead]
    total: int
    offset: int
    limit: int


class OverdueCount(BaseModel):
    agency: AgencyRef
    overdue: int


class OverdueRead(BaseModel):
    items: list[RequestRead]
    total: int
    per_provider: list[OverdueCount]
    as_of: dt.date


class DisputeRead(BaseModel):
    id: int
    request_id: int
    kind: DisputeKind
    state: Literal["open", "decided"]
    question: str
    region_code: str
    opened_on: dt.date
    decider: str
    decided_by_body: str | None
    outcome: DisputeOutcome | None
    decision: str | None
    decided_at: dt.datetime | None
    held_workdays: int | None


class EventRead(BaseModel):
    seq: int
    occurred_at: dt.datetime
    actor_name: str
    action: str
    article: str | None
    data: dict[str, Any]


# --- Negotiation outside the catalog (Art 13(1)) --------------------------------------------------

NegotiationState = Literal["open", "agreed", "escalated", "decided", "withdrawn"]
DecisionOutcome = Literal["share", "not_share"]
PublicationState = Literal["requested", "consented", "refused", "recorded"]
for _lit, _vocab in (
    (NegotiationState, rules.NEGOTIATION_STATES),
    (DecisionOutcome, rules.DECISION_OUTCOMES),
    (PublicationState, rules.PUBLICATION_STATES),
):
    assert set(_lit.__args__) == set(_vocab), _lit  # type: ignore[attr-defined]


class NegotiationCreate(NoFee):
    requester: str | None = Field(default=None, max_length=64, description="发起协商的机关（本人只属一个机关时可省略）")
    provider: str = Field(min_length=1, max_length=64, description="持有数据的机关代号")
    subject: str = Field(min_length=2, max_length=200, description="所需的目录外数据")
    purpose: str = Field(min_length=4, max_length=2000, description="用途 (Art 17)")
    legal_basis: str = Field(min_length=4, max_length=2000, description="所履行的职责及法律依据")
    message: str = Field(min_length=2, max_length=4000, description="首条协商意见")


class NegotiationPost(NoFee):
    kind: Literal["message", "proposal"] = "message"
    body: str = Field(min_length=2, max_length=4000)


class NegotiationAnswer(NoFee):
    agree: bool = Field(description="true：同意最近一项方案；false：不同意（提请信息化主管部门协调）")
    body: str = Field(min_length=2, max_length=4000)


class DecisionGrant(NoFee):
    resource: str = Field(min_length=1, max_length=64, description="决定共享的数据编入的目录资源")
    items: list[Item] = Field(min_length=1, max_length=500)
    region_codes: list[Region] = Field(min_length=1, max_length=100)
    starts_on: dt.date | None = None
    ends_on: dt.date
    channel: Channel = "platform"
    verify_only: bool = False


class NegotiationDecide(NoFee):
    outcome: DecisionOutcome
    decision: str = Field(min_length=4, max_length=4000, description="政府的协调决定")
    government: str = Field(min_length=2, max_length=200, description="作出决定的人民政府", examples=["江苏省人民政府"])
    grant: DecisionGrant | None = Field(default=None, description="决定共享时据以生成的共享授权（可选）")


class NegotiationMessageRead(BaseModel):
    id: int
    agency: str
    kind: str
    body: str
    created_at: dt.datetime
    created_by_name: str


class NegotiationRead(BaseModel):
    id: int
    requester: AgencyRef
    provider: AgencyRef
    authority_region_code: str
    subject: str
    purpose: str
    legal_basis: str
    state: NegotiationState
    state_label: str
    decision_outcome: DecisionOutcome | None
    decision: str | None
    decided_by_body: str | None
    decided_at: dt.datetime | None
    grant_id: int | None
    messages: list[NegotiationMessageRead]
    created_at: dt.datetime


class NegotiationPage(BaseModel):
    items: list[NegotiationRead]
    total: int
    offset: int
    limit: int


# --- Publication consent (Art 17) -----------------------------------------------------------------


class PublicationCreate(NoFee):
    kind: Literal["consent", "already_public"]
    description: str = Field(min_length=4, max_length=4000, description="发布的内容、渠道和方式")
    source_statement: str | None = Field(
        default=None, max_length=2000, description="已公开数据：再次发布时注明的来源（必填）"
    )


class PublicationAnswer(NoFee):
    consent: bool
    answer: str = Field(min_length=2, max_length=4000)


class PublicationRead(BaseModel):
    id: int
    grant_id: int
    consumer: str
    provider: str
    kind: str
    state: PublicationState
    state_label: str
    description: str
    source_statement: str | None
    answer: str | None
    answered_at: dt.datetime | None
    created_at: dt.datetime
