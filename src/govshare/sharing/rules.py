"""Pure sharing rules (Art 13, 16-19): clocks, refusal grounds, channels, state machines, no fees.

No I/O here. Every rule names its source; a later rule (e.g. the 政务数据共享条例) is a one-line
change in the table it belongs to.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from govshare.core.errors import Conflict, InvalidInput

Labels = dict[str, tuple[str, str]]

# --- Which clock (Art 18; 国发〔2016〕51号) ----------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ClockRule:
    """How long the provider has to answer, in working days after the day of receipt (which is
    not counted). ``workdays == 0``: granted at once, no answer needed."""

    key: str
    workdays: int
    source: str
    article: str
    zh: str
    en: str


#: The one table of answer deadlines. Order matters only for reading.
CLOCK_RULES: dict[str, ClockRule] = {
    "unconditional": ClockRule(
        "unconditional",
        0,
        "国发〔2016〕51号 第九条：无条件共享类的信息资源，使用部门在共享平台上直接获取",
        "Art 13",
        "无条件共享：即时获得",
        "unconditional: granted at once",
    ),
    "conditional": ClockRule(
        "conditional",
        10,
        "国发〔2016〕51号 第十条：有条件共享类的信息资源，提供部门应在10个工作日内予以答复",
        "国发〔2016〕51号",
        "有条件共享：10个工作日内答复",
        "conditional: answer within 10 working days",
    ),
    "sensitive": ClockRule(
        "sensitive",
        15,
        "《办法》第十八条：涉及国家秘密、商业秘密、个人隐私的，自收到申请之日起15个工作日内答复",
        "Art 18",
        "涉及国家秘密、商业秘密或个人信息：15个工作日内答复",
        "state secrets, commercial secrets or personal information: answer within 15 working days",
    ),
}

#: Art 18 reminders: the provider is reminded this many working days before its deadline.
REMINDER_WORKDAYS = 3

#: Security classifications that are state secrets (catalog.rules.STATE_SECRET_LEVELS).
STATE_SECRET_LEVELS = frozenset({"secret", "confidential"})


@dataclasses.dataclass(frozen=True, slots=True)
class Touches:
    """What a request (or an approval) touches: each needs the 15-day clock and an agreement."""

    state_secret: bool = False
    commercial_secret: bool = False
    personal: bool = False

    @property
    def sensitive(self) -> bool:
        return self.state_secret or self.commercial_secret or self.personal

    def labels(self) -> list[str]:
        return [
            k
            for k, v in (
                ("state_secret", self.state_secret),
                ("commercial_secret", self.commercial_secret),
                ("personal", self.personal),
            )
            if v
        ]


def touches(
    *,
    security_classification: str,
    contains_commercial_secret: bool,
    contains_personal_info: bool,
    items: Iterable[Mapping[str, Any]],
    wanted: Iterable[str],
) -> Touches:
    """Art 18(1), 19: what a set of wanted items of an entry touches.

    State secret: the entry's security classification is secret or confidential (the whole entry).
    Commercial secret / personal: a wanted item is marked secret / personal; or the entry says it
    holds such data but marks none of its items, so the platform cannot tell which (then any
    request touches it).
    """
    wanted_set = set(wanted)
    all_items = list(items)
    chosen = [i for i in all_items if i["name"] in wanted_set]
    secret_marked = any(i.get("is_secret") for i in all_items)
    personal_marked = any(i.get("is_personal") for i in all_items)
    return Touches(
        state_secret=security_classification in STATE_SECRET_LEVELS,
        commercial_secret=any(i.get("is_secret") for i in chosen) or (contains_commercial_secret and not secret_marked),
        personal=any(i.get("is_personal") for i in chosen) or (contains_personal_info and not personal_marked),
    )


def clock_rule_for(share_type: str, t: Touches) -> ClockRule:
    """The clock of a request: sensitive data always takes 15 working days (Art 18), whatever the
    entry's share type; conditional 10 (国发〔2016〕51号); unconditional at once."""
    if t.sensitive:
        return CLOCK_RULES["sensitive"]
    if share_type == "unconditional":
        return CLOCK_RULES["unconditional"]
    return CLOCK_RULES["conditional"]


# --- Answers (Art 13(2), 18) ----------------------------------------------------------------------

#: Art 13(2): the only grounds on which a provider may refuse.
REFUSAL_GROUNDS: Labels = {
    "state_secret": ("涉及国家秘密", "state secret"),
    "commercial_secret": ("涉及商业秘密", "commercial secret"),
    "personal_privacy": ("涉及个人隐私", "personal privacy"),
    "other_legal_ground": ("法律、法规规定的其他情形", "another legal ground (with its citation)"),
}
#: Grounds that must cite the law relied on.
GROUNDS_NEEDING_CITATION = frozenset({"other_legal_ground"})
REASON_MIN_CHARS = 10

#: How the data flows (Art 14, 18(1), 18(2)).
CHANNELS: Labels = {
    "platform": ("通过共享交换平台", "through the sharing platform"),
    "secrecy_network": ("通过采取保密措施的网络", "over a network with secrecy measures"),
    "off_platform": ("平台外约定方式（须备案）", "off the platform as agreed (filed, Art 14(3))"),
}


def check_refusal(ground: str | None, reason: str | None, citation: str | None) -> None:
    """Art 13(2), 18(1): a refusal needs one of the lawful grounds and written reasons; another legal
    ground needs its citation."""
    if not ground or ground not in REFUSAL_GROUNDS:
        raise InvalidInput(
            "refusal.ground_required",
            "拒绝共享须有法定理由：涉及国家秘密、商业秘密、个人隐私，或法律法规规定的其他情形",
            "A refusal needs a lawful ground: state secret, commercial secret, personal privacy or another "
            "legal ground",
            field="ground",
            article="Art 13",
            extra={"allowed": sorted(REFUSAL_GROUNDS)},
        )
    if reason is None or len(reason.strip()) < REASON_MIN_CHARS:
        raise InvalidInput(
            "refusal.reason_required",
            f"拒绝共享须书面说明理由（至少 {REASON_MIN_CHARS} 字）",
            f"A refusal needs written reasons (at least {REASON_MIN_CHARS} characters)",
            field="reason",
            article="Art 18",
        )
    if ground in GROUNDS_NEEDING_CITATION and (citation is None or len(citation.strip()) < 4):
        raise InvalidInput(
            "refusal.citation_required",
            "以其他法定情形拒绝的，须写明所依据的法律、法规条款",
            "Refusing on another legal ground needs the citation of the law relied on",
            field="citation",
            article="Art 13",
        )


def check_channel(channel: str, t: Touches) -> None:
    """Art 18(2): state-secret data only over a network with secrecy measures."""
    if t.state_secret and channel != "secrecy_network":
        raise InvalidInput(
            "sharing.channel.secrecy_required",
            "涉及国家秘密（秘密、机密级）的数据只能通过采取保密措施的网络共享",
            "State-secret (secret or confidential) data may only be shared over a network with secrecy measures",
            field="channel",
            article="Art 18(2)",
        )


def needs_agreement(t: Touches) -> bool:
    """Art 19(1): secret, commercially secret or personal data needs a confidentiality agreement."""
    return t.sensitive


#: Art 19(1): the obligations every confidentiality agreement states.
AGREEMENT_OBLIGATIONS: tuple[tuple[str, str], ...] = (
    (
        "使用方仅为履行本机关职责使用共享数据，不得用于其他目的（第十七条）",
        "The consumer uses the data only for its own duties, for no other purpose (Art 17)",
    ),
    (
        "未经提供方同意，不得向社会公开或向第三方提供（第十七条）",
        "No publication or transfer to third parties without the provider's consent (Art 17)",
    ),
    (
        "采取必要的保密和安全措施，防止数据泄露、篡改和滥用（第十九条、第三十一条）",
        "Take the secrecy and security measures needed against leaks, alteration and misuse (Art 19, 31)",
    ),
    (
        "发现泄露或违规使用的，立即告知提供方和信息化主管部门",
        "Report any leak or misuse at once to the provider and the competent authority",
    ),
    (
        "共享期限届满或授权撤销后，停止使用并按约定删除数据",
        "Stop using and delete the data as agreed when the term ends or the grant is revoked",
    ),
    ("双方之间的共享无偿进行，不收取任何费用（第十六条）", "Sharing between the parties is free of charge (Art 16)"),
)

# --- Disputes (Art 19(2)) -------------------------------------------------------------------------

DISPUTE_KINDS: Labels = {
    "state_secret": ("是否属于国家秘密", "whether it is a state secret"),
    "commercial_secret": ("是否属于商业秘密", "whether it is a commercial secret"),
    "personal_privacy": ("是否属于个人隐私", "whether it is personal privacy"),
}
#: Who decides: the secrecy administration, or the competent state organ named in the decision.
DISPUTE_DECIDER = {
    "state_secret": "secrecy_admin",
    "commercial_secret": "competent_organ",
    "personal_privacy": "competent_organ",
}
DISPUTE_OUTCOMES: Labels = {
    "is_protected": ("属于（数据受保护）", "protected"),
    "not_protected": ("不属于", "not protected"),
}

# --- State machines -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Transition:
    sources: tuple[str | None, ...]
    target: str
    article: str


REQUEST_STATES: Labels = {
    "pending": ("待答复", "awaiting the answer"),
    "overdue": ("逾期未答复", "overdue"),
    "disputed": ("争议处理中（暂停计时）", "in dispute (clock held)"),
    "approved": ("已同意", "approved"),
    "refused": ("已拒绝", "refused"),
    "withdrawn": ("已撤回", "withdrawn"),
}
REQUEST_TRANSITIONS: dict[str, Transition] = {
    "submit": Transition((None,), "pending", "Art 18(1)"),
    "grant_at_once": Transition((None,), "approved", "Art 13"),
    "approve": Transition(("pending", "overdue"), "approved", "Art 18(1)"),
    "refuse": Transition(("pending", "overdue"), "refused", "Art 13(2)"),
    "mark_overdue": Transition(("pending",), "overdue", "Art 33(1)"),
    "reopen_clock": Transition(("overdue",), "pending", "Art 18(1)"),
    "withdraw": Transition(("pending", "overdue", "disputed"), "withdrawn", "Art 18(1)"),
    "open_dispute": Transition(("pending", "overdue"), "disputed", "Art 19(2)"),
    "resume": Transition(("disputed",), "pending", "Art 19(2)"),
}

AGREEMENT_STATES: Labels = {
    "awaiting_signatures": ("待双方签署", "awaiting both signatures"),
    "partially_signed": ("一方已签署", "signed by one party"),
    "signed": ("已签署", "signed"),
    "void": ("已作废", "void"),
}
AGREEMENT_TRANSITIONS: dict[str, Transition] = {
    "create": Transition((None,), "awaiting_signatures", "Art 19(1)"),
    "sign_first": Transition(("awaiting_signatures",), "partially_signed", "Art 19(1), Art 30"),
    "sign_second": Transition(("partially_signed",), "signed", "Art 19(1), Art 30"),
    "void": Transition(("awaiting_signatures", "partially_signed"), "void", "Art 19(1)"),
}

GRANT_STATES: Labels = {
    "pending_signatures": ("待签署保密协议", "pending signatures"),
    "active": ("有效", "active"),
    "expired": ("已到期", "expired"),
    "revoked": ("已撤销", "revoked"),
}
GRANT_TRANSITIONS: dict[str, Transition] = {
    "create_active": Transition((None,), "active", "Art 18(1)"),
    "create_pending": Transition((None,), "pending_signatures", "Art 19(1)"),
    "activate": Transition(("pending_signatures",), "active", "Art 19(1)"),
    "expire": Transition(("active", "pending_signatures"), "expired", "Art 17"),
    "revoke": Transition(("active", "pending_signatures"), "revoked", "Art 17"),
}

DISPUTE_STATES: Labels = {
    "open": ("处理中", "open"),
    "decided": ("已决定", "decided"),
}
DISPUTE_TRANSITIONS: dict[str, Transition] = {
    "open": Transition((None,), "open", "Art 19(2)"),
    "decide": Transition(("open",), "decided", "Art 19(2)"),
}

NEGOTIATION_STATES: Labels = {
    "open": ("协商中", "negotiating"),
    "agreed": ("已达成一致", "agreed"),
    "escalated": ("未达成一致，已提请政府协调", "disagreed: taken up by the authority"),
    "decided": ("政府已决定", "decided by the government"),
    "withdrawn": ("已撤回", "withdrawn"),
}
NEGOTIATION_TRANSITIONS: dict[str, Transition] = {
    "open": Transition((None,), "open", "Art 13(1)"),
    "agree": Transition(("open",), "agreed", "Art 13(1)"),
    "disagree": Transition(("open",), "escalated", "Art 13(1)"),
    "decide": Transition(("escalated",), "decided", "Art 13(1)"),
    "withdraw": Transition(("open",), "withdrawn", "Art 13(1)"),
}
#: Art 13(1): the government's decision on a negotiation.
DECISION_OUTCOMES: Labels = {
    "share": ("应当共享", "to be shared"),
    "not_share": ("不予共享", "not to be shared"),
}

PUBLICATION_STATES: Labels = {
    "requested": ("待提供方同意", "awaiting the provider's consent"),
    "consented": ("提供方已同意", "consented"),
    "refused": ("提供方不同意", "refused"),
    "recorded": ("已公开数据，已注明来源", "already public, source stated"),
}
PUBLICATION_TRANSITIONS: dict[str, Transition] = {
    "request": Transition((None,), "requested", "Art 17"),
    "consent": Transition(("requested",), "consented", "Art 17"),
    "refuse": Transition(("requested",), "refused", "Art 17"),
    "record_public": Transition((None,), "recorded", "Art 17"),
}

MACHINES: dict[str, tuple[dict[str, Transition], Labels, tuple[str, str]]] = {
    "request": (REQUEST_TRANSITIONS, REQUEST_STATES, ("共享申请", "request")),
    "agreement": (AGREEMENT_TRANSITIONS, AGREEMENT_STATES, ("保密协议", "agreement")),
    "grant": (GRANT_TRANSITIONS, GRANT_STATES, ("共享授权", "grant")),
    "dispute": (DISPUTE_TRANSITIONS, DISPUTE_STATES, ("争议", "dispute")),
    "negotiation": (NEGOTIATION_TRANSITIONS, NEGOTIATION_STATES, ("目录外协商", "negotiation")),
    "publication": (PUBLICATION_TRANSITIONS, PUBLICATION_STATES, ("发布申请", "publication")),
}


def transition(machine: str, action: str, state: str | None) -> Transition:
    """The transition ``action`` from ``state``, or 409 Conflict naming the state (and what it
    allows). Every state change of the domain passes here."""
    table, labels, (what_zh, what_en) = MACHINES[machine]
    t = table[action]
    if state in t.sources:
        return t
    zh, en = labels.get(state or "", (state, state))
    allowed = sorted(a for a, tr in table.items() if state in tr.sources)
    raise Conflict(
        f"sharing.{machine}.invalid_transition",
        f"{what_zh}当前状态为“{zh}”，不能执行 {action}",
        f"The {what_en} is {en}: {action} is not allowed in this state",
        field="state",
        article=t.article,
        extra={"state": state, "action": action, "allowed": allowed},
    )


def label(vocab: Labels, value: str | None, lang: str = "zh") -> str:
    if value is None:
        return ""
    pair = vocab.get(value)
    if pair is None:
        return value
    return pair[1] if lang == "en" else pair[0]


# --- Free of charge (Art 16) ----------------------------------------------------------------------

#: A field whose name has one of these words (any case, as a word of snake_case, camelCase or
#: kebab-case: ``fee``, ``service_fee``, ``unitPrice``, ``HANDLING-CHARGE``; not ``discharge_date``),
#: anywhere in a payload, is a fee.
FEE_WORDS = frozenset({"fee", "fees", "price", "prices", "pricing", "charge", "charges", "cost", "costs"})
_WORD_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def names_a_fee(key: str) -> bool:
    return any(w.lower() in FEE_WORDS for w in _WORD_RE.findall(key))


def fee_fields(payload: Any, prefix: str = "", _depth: int = 0) -> list[str]:
    """Dotted paths of every key in ``payload`` (nested dicts and lists) naming a fee (Art 16)."""
    found: list[str] = []
    if _depth > 32:
        return found
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(key, str) and names_a_fee(key):
                found.append(path)
            found.extend(fee_fields(value, path, _depth + 1))
    elif isinstance(payload, list | tuple):
        for i, value in enumerate(payload):
            found.extend(fee_fields(value, f"{prefix}[{i}]", _depth + 1))
    return found


def fee_refused(paths: list[str]) -> InvalidInput:
    return InvalidInput(
        "sharing.fee_not_allowed",
        "行政机关之间共享数据无偿进行，不得设置费用、价格或收费字段",
        "Sharing between agencies is free of charge: no fee, price, charge or cost may be attached",
        field=paths[0],
        article="Art 16",
        extra={"fields": paths},
    )
