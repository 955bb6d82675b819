"""Pydantic models of negotiation (Art 13(1)) and publication consent (Art 17). Every input model
derives from ``schemas.NoFee``: unknown fields are refused, and a fee, price, charge or cost field
anywhere is refused citing Art 16."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from govshare.sharing import rules_more
from govshare.sharing.schemas import AgencyRef, Channel, NoFee

NegotiationState = Literal["open", "agreed", "escalated", "decided", "withdrawn"]
DecisionOutcome = Literal["share", "no_share"]
PublicationState = Literal["asked", "consented", "refused", "republished"]

for _lit, _vocab in ((NegotiationState, rules_more.NEGOTIATION_STATES),
                     (DecisionOutcome, rules_more.DECISION_OUTCOMES),
                     (PublicationState, rules_more.PUBLICATION_STATES)):
    assert set(_lit.__args__) == set(_vocab), _lit  # type: ignore[attr-defined]


class NegotiationCreate(NoFee):
    requester: str | None = Field(default=None, max_length=64,
                                  description="提出协商的机关代号（本人只属一个机关时可省略）")
    provider: str = Field(min_length=1, max_length=64, description="持有数据的机关代号")
    title: str = Field(min_length=2, max_length=200)
    data_wanted: str = Field(min_length=4, max_length=4000, description="需要的数据（未列入共享目录）")
    purpose: str = Field(min_length=4, max_length=2000, description="用途 (Art 17)")
    legal_basis: str = Field(min_length=4, max_length=2000, description="所履行的职责及其法律依据 (Art 17)")
    message: str | None = Field(default=None, max_length=4000, description="第一条消息")


class MessageIn(NoFee):
    body: str = Field(min_length=1, max_length=4000)


class ProposalTerms(NoFee):
    items: list[str] = Field(min_length=1, max_length=200, description="数据项")
    region_codes: list[str] = Field(min_length=1, max_length=100, description="数据范围（行政区划代码）")
    starts_on: dt.date | None = None
    ends_on: dt.date
    channel: Channel = "platform"
    conditions: str | None = Field(default=None, max_length=2000, description="其他条件")


class ProposalIn(NoFee):
    body: str = Field(min_length=1, max_length=4000, description="说明")
    terms: ProposalTerms


class DisagreeIn(NoFee):
    reason: str = Field(max_length=4000, description="分歧所在（提交本级信息化主管部门）")


class DecisionGrant(NoFee):
    """The grant a decision to share makes (Art 13(1)): the data must be registered as a catalog
    entry of the provider, whose item names the grant projects."""

    resource: str = Field(min_length=1, max_length=64, description="提供方的目录资源代码")
    items: list[str] = Field(min_length=1, max_length=500)
    region_codes: list[str] = Field(min_length=1, max_length=100)
    starts_on: dt.date | None = None
    ends_on: dt.date
    channel: Channel = "platform"


class DecisionIn(NoFee):
    government: str = Field(min_length=2, max_length=200, description="作出决定的本级人民政府")
    outcome: DecisionOutcome
    decision: str = Field(max_length=4000, description="决定内容")
    grant: DecisionGrant | None = Field(default=None, description="决定共享时据以生成的共享授权")


class MessageRead(BaseModel):
    id: int
    agency: AgencyRef
    kind: Literal["message", "proposal"]
    body: str
    terms: dict[str, Any] | None
    proposal_state: str | None
    author_name: str
    created_at: dt.datetime


class NegotiationRead(BaseModel):
    id: int
    state: NegotiationState
    state_label: str
    requester: AgencyRef
    provider: AgencyRef
    level_region_code: str
    title: str
    data_wanted: str
    purpose: str
    legal_basis: str
    disagreement: str | None
    escalated_at: dt.datetime | None
    government: str | None
    outcome: DecisionOutcome | None
    decision: str | None
    decided_by_name: str | None
    decided_at: dt.datetime | None
    grant_id: int | None
    messages: list[MessageRead]
    created_at: dt.datetime


class NegotiationPage(BaseModel):
    items: list[NegotiationRead]
    total: int
    offset: int
    limit: int


class PublicationAsk(NoFee):
    grant_id: int = Field(ge=1, le=2**31 - 1)
    content: str = Field(min_length=4, max_length=4000, description="拟公开的内容")
    channel: str = Field(min_length=2, max_length=500, description="公开的方式或网址")
    purpose: str = Field(min_length=4, max_length=2000, description="公开的目的")


class RepublishIn(NoFee):
    grant_id: int = Field(ge=1, le=2**31 - 1)
    content: str = Field(min_length=4, max_length=4000)
    channel: str = Field(min_length=2, max_length=500)
    purpose: str = Field(min_length=4, max_length=2000)
    source_statement: str = Field(max_length=1000, description="注明的来源，如“数据来源：江苏省公安厅”")


class AnswerIn(NoFee):
    reason: str | None = Field(default=None, max_length=4000)


class PublicationRead(BaseModel):
    id: int
    grant_id: int
    publisher: AgencyRef
    provider: AgencyRef
    resource_code: str
    content: str
    channel: str
    purpose: str
    state: PublicationState
    state_label: str
    source_statement: str | None
    answer_reason: str | None
    answered_by_name: str | None
    answered_at: dt.datetime | None
    created_at: dt.datetime


class PublicationPage(BaseModel):
    items: list[PublicationRead]
    total: int
    offset: int
    limit: int

