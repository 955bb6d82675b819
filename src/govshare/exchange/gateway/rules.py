"""The gateway's rules from the law: which grant a call may use, or why it is refused.

Pure functions on the cached views (no I/O), each refusal naming its article. A refused call is
answered 403 problem+json with the code and the article, and recorded like any call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from govshare.catalog.rules import STATE_SECRET_LEVELS
from govshare.core.errors import Forbidden

#: Grant states (the sharing domain's contract); only ``active`` serves calls.
ACTIVE = "active"
#: Channels of a grant (Art 18(2)): state secrets only over a network with secrecy measures.
PLATFORM, SECRECY_NETWORK, OFF_PLATFORM = "platform", "secrecy_network", "off_platform"

#: Modes of a call.
QUERY, VERIFY, PROXY = "query", "verify", "proxy"


@dataclasses.dataclass(frozen=True, slots=True)
class GrantView:
    """What the gateway needs of a ``sharing_grant`` row (see /work/grant_contract.md)."""

    id: int
    resource_id: int
    resource_code: str
    provider_id: int
    consumer_id: int
    items: frozenset[str]
    #: The granted region codes and every code below them (row scope, Art 14(2)).
    scope: frozenset[str]
    purpose: str
    starts_on: dt.date
    ends_on: dt.date
    channel: str
    verify_only: bool
    state: str


def normalise_purpose(text: str) -> str:
    """Purposes compare after trimming surrounding whitespace (the contract)."""
    return text.strip()


def refusal(code: str, zh: str, en: str, article: str, **extra: object) -> Forbidden:
    return Forbidden(code, zh, en, article=article, extra=dict(extra) if extra else None)


def choose_grant(
    grants: Sequence[GrantView],
    *,
    purpose: str | None,
    today: dt.date,
    mode: str,
    security_classification: str,
    secrecy_channel: bool,
) -> GrantView:
    """The grant this call uses, or the refusal that says why none applies.

    Order of the checks, most specific answer first: a purpose is declared (Art 17); the agency has
    a grant for the resource (Art 17: data only as granted); one of them has this purpose (Art 17);
    it is active and within its term; its channel allows the gateway (Art 14(3), Art 18(2)); a
    verify-only grant serves verification alone (least disclosure, Art 17).
    ``secrecy_channel``: the path to the data (the platform instance for hosted datasets, the
    provider's node for proxied APIs) is a network with secrecy measures.
    """
    declared = normalise_purpose(purpose or "")
    if not declared:
        raise refusal(
            "exchange.gateway.purpose_required",
            "请求须在 X-Govshare-Purpose 中声明用途",
            "The call must declare its purpose in X-Govshare-Purpose",
            "Art 17",
        )
    if not grants:
        raise refusal(
            "exchange.gateway.no_grant",
            "本机关没有该资源的共享授权",
            "Your agency holds no grant for this resource",
            "Art 17",
        )
    same = [g for g in grants if normalise_purpose(g.purpose) == declared]
    if not same:
        raise refusal(
            "exchange.gateway.purpose_mismatch",
            "声明的用途与授权用途不符",
            "The declared purpose is not the purpose of any grant for this resource",
            "Art 17",
        )
    usable = [g for g in same if g.state == ACTIVE and g.starts_on <= today <= g.ends_on]
    if not usable:
        g = same[0]
        if g.state == "revoked":
            raise refusal(
                "exchange.gateway.grant_revoked",
                "共享授权已撤销",
                "The grant has been revoked",
                "Art 17",
                grant_id=g.id,
            )
        if g.state == "pending_signatures":
            raise refusal(
                "exchange.gateway.grant_not_signed",
                "共享授权尚待签署（保密协议）",
                "The grant awaits signatures (confidentiality agreement)",
                "Art 19",
                grant_id=g.id,
            )
        if g.state == ACTIVE and today < g.starts_on:
            raise refusal(
                "exchange.gateway.grant_not_started",
                "共享授权尚未生效",
                "The grant's term has not begun",
                "Art 17",
                grant_id=g.id,
                starts_on=g.starts_on.isoformat(),
            )
        raise refusal(
            "exchange.gateway.grant_expired",
            "共享授权已过期",
            "The grant's term has ended",
            "Art 17",
            grant_id=g.id,
            ends_on=g.ends_on.isoformat(),
        )
    g = usable[0]
    if g.channel == OFF_PLATFORM:
        raise refusal(
            "exchange.gateway.channel_off_platform",
            "该授权约定在平台外共享，不能经网关调用",
            "This grant agrees sharing off the platform: it cannot be used through the gateway",
            "Art 14(3)",
            grant_id=g.id,
        )
    if security_classification in STATE_SECRET_LEVELS and not (g.channel == SECRECY_NETWORK and secrecy_channel):
        raise refusal(
            "exchange.gateway.channel_not_secret",
            "涉及国家秘密的数据只能通过采取保密措施的网络共享",
            "Data classified as state secret may be shared only over a network with secrecy measures",
            "Art 18(2)",
            grant_id=g.id,
        )
    if g.verify_only and mode != VERIFY:
        raise refusal(
            "exchange.gateway.verify_only",
            "该授权仅限核验，不提供数据本身",
            "This grant allows verification only, never the record itself",
            "Art 17",
            grant_id=g.id,
        )
    return g
