"""Pure rules of negotiation outside the catalog (Art 13(1)) and publication consent (Art 17).

No I/O. The state machines follow ``sharing.rules``: one table of allowed transitions per object,
each naming its article; any other transition is a 409 naming the state.
"""

from __future__ import annotations

from govshare.core.errors import Conflict, InvalidInput
from govshare.sharing.rules import Labels, Transition

# --- Negotiation (Art 13(1)) ----------------------------------------------------------------------

NEGOTIATION_STATES: Labels = {
    "open": ("协商中", "under negotiation"),
    "agreed": ("协商一致", "agreed"),
    "escalated": ("协商不一致，已提交信息化主管部门", "disagreed: with the competent authority"),
    "decided": ("本级政府已决定", "decided by the government"),
    "withdrawn": ("已撤回", "withdrawn"),
}
NEGOTIATION_TRANSITIONS: dict[str, Transition] = {
    "open": Transition((None,), "open", "Art 13(1)"),
    "agree": Transition(("open",), "agreed", "Art 13(1)"),
    "disagree": Transition(("open",), "escalated", "Art 13(1)"),
    "decide": Transition(("escalated",), "decided", "Art 13(1)"),
    "withdraw": Transition(("open",), "withdrawn", "Art 13(1)"),
}
#: Messages and proposals: while the parties negotiate (and, messages only, while the authority
#: coordinates an escalated one).
MESSAGE_STATES = frozenset({"open", "escalated"})
PROPOSAL_STATES = frozenset({"open"})

#: The government's decision: the data is shared (and a grant may be made), or not.
DECISION_OUTCOMES: Labels = {
    "share": ("应当共享", "to be shared"),
    "no_share": ("不予共享", "not to be shared"),
}

# --- Publication consent (Art 17) -----------------------------------------------------------------

PUBLICATION_STATES: Labels = {
    "asked": ("待提供方同意", "awaiting the provider's consent"),
    "consented": ("提供方已同意公开", "consented"),
    "refused": ("提供方不同意公开", "refused"),
    "republished": ("已公开数据，注明来源后再公开", "already public: republished with its source stated"),
}
PUBLICATION_TRANSITIONS: dict[str, Transition] = {
    "ask": Transition((None,), "asked", "Art 17"),
    "consent": Transition(("asked",), "consented", "Art 17"),
    "refuse": Transition(("asked",), "refused", "Art 17"),
    "republish": Transition((None,), "republished", "Art 17"),
}

#: A source statement must name the provider (shown as it will appear) and be this long at least.
SOURCE_MIN_CHARS = 6
REASON_MIN_CHARS = 4

MACHINES: dict[str, tuple[dict[str, Transition], Labels, tuple[str, str]]] = {
    "negotiation": (NEGOTIATION_TRANSITIONS, NEGOTIATION_STATES, ("协商", "negotiation")),
    "publication": (PUBLICATION_TRANSITIONS, PUBLICATION_STATES, ("公开申请", "publication")),
}


def transition(machine: str, action: str, state: str | None) -> Transition:
    """The transition ``action`` from ``state``, or 409 Conflict naming the state and what it allows."""
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
        field="state", article=t.article, extra={"state": state, "action": action, "allowed": allowed})


def common_region(path_a: str, path_b: str) -> str:
    """Art 13(1) "the authority of their level": the code of the lowest region whose subtree holds
    both paths (``320000/320500`` and ``320000/320100`` -> ``320000``)."""
    a, b = path_a.split("/"), path_b.split("/")
    common = []
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common.append(x)
    if not common:
        raise InvalidInput("sharing.negotiation.no_common_level",
                           "两个机关不属于同一上级行政区划，无法确定本级主管部门",
                           "The two agencies share no region: no authority of their level", field="provider",
                           article="Art 13(1)")
    return common[-1]


def check_text(value: str | None, field: str, zh: str, en: str, article: str, minimum: int = REASON_MIN_CHARS
               ) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        raise InvalidInput(f"sharing.{field}_required", f"{zh}（至少 {minimum} 个字）",
                           f"{en} (at least {minimum} characters)", field=field, article=article)
    return text
