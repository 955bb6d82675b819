"""Subjects, not only calls: which agencies used the data of this person or enterprise, when and
for what purpose (Art 32; Estonia's data tracker answers the same question over X-Road).

The gateway keeps no identity number or credit code in clear: each call record holds keyed
HMAC-SHA256 digests of the subject keys it asked for or returned (``exchange.gateway.recorder``),
indexed one row per digest and call in ``exchange_call_subject``. A lookup validates the key
(GB 11643 check character for an identity number, GB 32100 for a credit code), digests it with
the same key and normalisation as the gateway, and reads the calls by the index.

Who may look: the authority and supervisors (read-only), each over the calls of consumer
agencies in their regions. Not the data subject through the public portal: it has no identity
check, so anybody could ask about anybody (the lookup itself would disclose whose data the
police or tax office used). Looking a person up is itself a use of their data, so every lookup is
recorded as an event with its stated reason (``exchange.subject.looked_up``), never the key: only
its digest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from sqlalchemy import case, func, select, true
from sqlalchemy.orm import Session, aliased

from govshare.catalog.models import CatalogResource
from govshare.core import clock, events, identifiers
from govshare.core.auth import Principal
from govshare.core.errors import Forbidden, InvalidInput
from govshare.exchange import permissions as perm
from govshare.exchange.models import ExchangeCall, ExchangeCallSubject
from govshare.registry import service as registry_service
from govshare.registry.models import Agency

ACTION = "exchange.subject.looked_up"
SUBJECT = "exchange_subject"
ARTICLE = "Art 32"
#: The two kinds of subject key: the field that carries it, its label (zh, en) and standard.
KINDS = {
    "id_number": ("公民身份号码", "identity number", "GB 11643"),
    "credit_code": ("统一社会信用代码", "unified social credit code", "GB 32100"),
}
REASON_MIN, REASON_MAX = 4, 500
_DIGEST = re.compile(r"[0-9a-f]{64}")  # HMAC-SHA256 in hex, as ``gateway.recorder.subject_digest`` writes it


@dataclasses.dataclass(frozen=True, slots=True)
class SubjectCall:
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


@dataclasses.dataclass(frozen=True, slots=True)
class AgencyUse:
    """One consumer agency's calls for the subject: how many, how many delivered data, when last."""

    code: str | None
    name: str | None
    calls: int
    allowed: int
    last_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class SubjectUsage:
    kind: str
    digest: str
    total: int
    offset: int
    limit: int
    agencies: list[AgencyUse]
    calls: list[SubjectCall]


def check_key(kind: str, value: str | None) -> str:
    """The key normalised (trimmed, upper case) or a 422 naming the field and what is wrong."""
    if kind not in KINDS:
        raise InvalidInput(
            "exchange.subject.kind_invalid",
            "请填写公民身份号码或统一社会信用代码之一",
            "Give either an identity number or a unified social credit code",
            field="id_number",
            extra={"allowed": sorted(KINDS)},
        )
    zh, en, standard = KINDS[kind]
    text = (value or "").strip().upper()
    reason = identifiers.id_number_reason(text, as_of=clock.today()) if kind == "id_number" else None
    if kind == "credit_code":
        reason = identifiers.uscc_reason(text)
    if reason is not None:
        why_zh, why_en = identifiers.REASONS.get(reason, (reason, reason))
        raise InvalidInput(
            f"exchange.subject.{kind}_invalid",
            f"{zh}不正确（{standard}）：{why_zh}",
            f"The {en} is not valid ({standard}): {why_en}",
            field=kind,
            extra={"reason": reason},
        )
    return text


def _kind_and_key(id_number: str | None, credit_code: str | None) -> tuple[str, str | None]:
    given = [(k, v) for k, v in (("id_number", id_number), ("credit_code", credit_code)) if v and v.strip()]
    if len(given) != 1:
        raise InvalidInput(
            "exchange.subject.key_required",
            "请填写公民身份号码或统一社会信用代码之一（只填一项）",
            "Give either an identity number or a unified social credit code (one of them)",
            field="id_number",
        )
    return given[0]


def check_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise InvalidInput(
            "exchange.subject.reason_required",
            f"请写明查询事由（{REASON_MIN} 至 {REASON_MAX} 个字）：查询本身也是对个人信息的使用",
            f"State the reason for the lookup ({REASON_MIN} to {REASON_MAX} characters): "
            "looking a person up is itself a use of their data",
            field="reason",
            article=ARTICLE,
        )
    return text


def check_may_look_up(by: Principal) -> None:
    if not by.has_role(*perm.OVERSEERS):
        raise Forbidden(
            "exchange.subject.overseers_only",
            "只有信息化主管部门和监督人员可以查询数据主体的使用记录",
            "Only the authority and supervisors may look up the use of a subject's data",
            article=ARTICLE,
        )


def digest_of(key: str) -> str:
    """The digest the gateway recorded for ``key`` (same HMAC key, same normalisation)."""
    from govshare.exchange.gateway.app import subject_key
    from govshare.exchange.gateway.recorder import subject_digest

    return subject_digest(subject_key(), key)


def lookup(
    session: Session,
    *,
    id_number: str | None = None,
    credit_code: str | None = None,
    reason: str | None,
    by: Principal,
    offset: int = 0,
    limit: int = 50,
) -> SubjectUsage:
    """The gateway calls for one subject in the caller's regions, newest first, with a summary per
    consumer agency; records the lookup (flushes, never commits)."""
    check_may_look_up(by)
    kind, raw = _kind_and_key(id_number, credit_code)
    key = check_key(kind, raw)
    why = check_reason(reason)
    return _lookup(session, kind, digest_of(key), why, by, offset, limit)


def lookup_digest(
    session: Session, *, kind: str, digest: str, reason: str | None, by: Principal, offset: int = 0, limit: int = 50
) -> SubjectUsage:
    """A further page of a lookup, by the digest its first page found (``SubjectUsage.digest``), so
    the portal's next-page form need not carry the number. The same checks; recorded again with
    its reason and offset, since another page is another look at the subject's calls."""
    check_may_look_up(by)
    if kind not in KINDS or not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise InvalidInput(
            "exchange.subject.digest_invalid",
            "查询对象无效，请重新输入号码查询",
            "The subject is not valid; look the number up again",
            field="digest",
        )
    why = check_reason(reason)
    return _lookup(session, kind, digest, why, by, offset, limit)


def _lookup(session: Session, kind: str, digest: str, why: str, by: Principal, offset: int, limit: int) -> SubjectUsage:
    consumer, provider = aliased(Agency), aliased(Agency)
    scope: Any = (
        true() if by.is_system else registry_service.in_subtrees(consumer.region_code, by.region_paths(*perm.OVERSEERS))
    )
    key = bytes.fromhex(digest)  # the index keeps the digest's bytes
    base = (
        select(ExchangeCall.id)
        .select_from(ExchangeCallSubject)
        .join(ExchangeCall, ExchangeCall.event_seq == ExchangeCallSubject.event_seq)
        .outerjoin(consumer, consumer.id == ExchangeCall.consumer_id)
        .where(ExchangeCallSubject.digest == key, scope)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        select(
            ExchangeCall,
            consumer.code,
            consumer.name,
            provider.code,
            provider.name,
            CatalogResource.name,
        )
        .select_from(ExchangeCallSubject)
        .join(ExchangeCall, ExchangeCall.event_seq == ExchangeCallSubject.event_seq)
        .outerjoin(consumer, consumer.id == ExchangeCall.consumer_id)
        .outerjoin(provider, provider.id == ExchangeCall.provider_id)
        .outerjoin(CatalogResource, CatalogResource.id == ExchangeCall.resource_id)
        .where(ExchangeCallSubject.digest == key, scope)
        # Newest first by the event number (the order the calls were recorded in): the planner
        # then walks the (digest, event_seq) key backwards over this subject's rows only, where an
        # ORDER BY on the time led PostgreSQL to walk every call by time (measured 190 ms at 100,000).
        .order_by(ExchangeCallSubject.event_seq.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    calls = [
        SubjectCall(
            at=c.at,
            consumer_code=cc,
            consumer_name=cn,
            provider_code=pc,
            provider_name=pn,
            resource_code=c.resource_code,
            resource_name=rn,
            grant_id=c.grant_id,
            purpose=c.purpose,
            mode=c.mode,
            outcome=c.outcome,
            rows=c.rows,
        )
        for c, cc, cn, pc, pn, rn in rows
    ]
    allowed = func.sum(case((ExchangeCall.outcome == "allowed", 1), else_=0))
    per_agency = session.execute(
        select(consumer.code, consumer.name, func.count(), allowed, func.max(ExchangeCall.at))
        .select_from(ExchangeCallSubject)
        .join(ExchangeCall, ExchangeCall.event_seq == ExchangeCallSubject.event_seq)
        .outerjoin(consumer, consumer.id == ExchangeCall.consumer_id)
        .where(ExchangeCallSubject.digest == key, scope)
        .group_by(consumer.code, consumer.name)
        .order_by(func.max(ExchangeCall.at).desc())
    ).all()
    agencies = [AgencyUse(code, name, int(n), int(a or 0), last) for code, name, n, a, last in per_agency]

    region = next(iter(g.region_code for g in _overseer_grants(by)), None)
    events.record(
        session,
        actor=by.actor,
        action=ACTION,
        subject_type=SUBJECT,
        subject_id=digest,
        region_code=region,
        data={"kind": kind, "reason": why, "calls": total, **({"offset": offset} if offset else {})},
    )
    session.flush()
    return SubjectUsage(kind, digest, total, offset, limit, agencies, calls)


def _overseer_grants(by: Principal) -> list[Any]:
    return [g for g in by.grants if g.role in perm.OVERSEERS and g.agency_id is None]
