"""Pure quality rules from the Measures: one source per datum, duplicate collection, discrepancy duty.

No I/O here. Every rule names its article; a violation is an ``InvalidInput`` (422) or ``Conflict``
(409) with a stable ``code``, the ``field`` at fault and the ``article``.

Art 11(1): "一个数据一个来源" — a datum is collected by one agency; others obtain it by sharing,
"法律、法规和规章另有规定的除外" (unless laws, regulations or rules provide otherwise).
Art 11(2): where shared data has several sources, the primary agency collects it; the others may
compare and verify, and where data disagree the primary agency "应当进行核实并予以说明".
Art 12: the competent authority assigns collection duties; agencies keep their information
true, accurate, complete and timely.
Art 15(2): shared information is updated within 20 working days of a change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from govshare.core.errors import Conflict, InvalidInput

Labels = dict[str, tuple[str, str]]

# --- Data elements and their authoritative source (Art 11-12) -----------------------------------

#: Types of a data element: the catalog's data item types.
ELEMENT_TYPES: Labels = {
    "string": ("字符串", "text"),
    "integer": ("整数", "integer"),
    "decimal": ("数值", "number"),
    "date": ("日期", "date"),
    "datetime": ("日期时间", "date and time"),
    "boolean": ("是否", "yes/no"),
}
#: Format rules a data element can name; the first three are checked by the platform
#: (``core.identifiers``), the others are documented for people.
FORMAT_RULES: Labels = {
    "id_number": (
        "公民身份号码 GB 11643（18 位，含校验码）",
        "citizen identity number, GB 11643 (18 characters, check)",
    ),
    "uscc": (
        "统一社会信用代码 GB 32100（18 位，含校验码）",
        "unified social credit code, GB 32100 (18 characters, check)",
    ),
    "region": ("行政区划代码 GB/T 2260（6 位，对照区划库）", "region code, GB/T 2260 (6 digits, registry)"),
    "property_unit": ("不动产单元号 GB/T 37346（28 位）", "real estate unit number, GB/T 37346 (28 characters)"),
    "none": ("无固定格式", "free format"),
}
#: The reconciliation key kind (``reconcile.KEY_KINDS``) for each format rule.
KEY_KIND_OF_FORMAT = {"id_number": "id_number", "uscc": "uscc", "region": "region"}

ELEMENT_CODE = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")
NAME_MAX = 100
TEXT_MAX = 2000
CITATION_MAX = 500


def invalid(code: str, zh: str, en: str, *, field: str, article: str | None = "Art 11", **extra: Any) -> InvalidInput:
    return InvalidInput(code, zh, en, field=field, article=article, extra=extra or None)


def check_element_code(code: str) -> str:
    text = code.strip().upper()
    if not ELEMENT_CODE.match(text):
        raise invalid(
            "quality.element.code_invalid",
            "数据元代码为 2-32 位大写字母、数字、- 或 _，以字母开头",
            "a data element code is 2-32 upper-case letters, digits, - or _, starting with a letter",
            field="code",
            article="Art 12",
        )
    return text


#: What the free-text fields are called, for messages a person reads ("名称不能为空", not "name 不能为空").
FIELD_LABELS: Labels = {
    "name": ("名称", "the name"),
    "name_en": ("英文名称", "the English name"),
    "field_code": ("英文标识", "the field code"),
    "description": ("说明", "the description"),
    "basis": ("依据", "the basis"),
    "citation": ("法律依据", "the legal basis"),
    "explanation": ("说明", "the explanation"),
    "evidence": ("证据", "the evidence"),
    "item": ("数据项", "the item"),
    "note": ("说明", "the note"),
    "problem": ("问题描述", "the problem"),
    "record_key": ("记录主键", "the record's key"),
    "data_type": ("类型", "type"),
    "format_rule": ("格式规则", "format rule"),
    "answer": ("答复", "answer"),
    "outcome": ("答复结果", "outcome"),
    "state": ("状态", "state"),
}


def check_text(value: str | None, *, field: str, required: bool = False, limit: int = TEXT_MAX) -> str | None:
    zh, en = FIELD_LABELS.get(field, (field, field))
    text = (value or "").strip()
    if not text:
        if required:
            raise invalid(
                "quality.field.required",
                f"{zh}不能为空",
                f"{en[:1].upper()}{en[1:]} is required",
                field=field,
                article=None,
            )
        return None
    if len(text) > limit:
        raise invalid(
            "quality.field.too_long",
            f"{zh}不能超过 {limit} 个字符",
            f"{en[:1].upper()}{en[1:]} must not exceed {limit} characters",
            field=field,
            article=None,
        )
    return text


def check_vocab(value: str, vocab: Labels, *, field: str, article: str | None = None) -> str:
    if value not in vocab:
        zh, en = FIELD_LABELS.get(field, (field, field))
        raise invalid(
            "quality.field.unknown_value",
            f"{zh}的取值 {value} 无效",
            f"{value} is not a valid {en}",
            field=field,
            article=article,
            allowed=sorted(vocab),
        )
    return value


# --- Duplicate collection (Art 11(1)) -------------------------------------------------------------

#: Answers to a duplicate-collection flag.
FLAG_STATES: Labels = {
    "open": ("待说明", "awaiting an answer"),
    "legal_exception": ("依法另有规定", "legal exception claimed"),
    "switch_to_sharing": ("改为共享获取", "switching to sharing"),
}
ANSWERS = ("legal_exception", "switch_to_sharing")
#: The exception Art 11(1) allows, as the flag quotes it.
LEGAL_EXCEPTION_TEXT = "法律、法规和规章另有规定"


def is_duplicate(collector_id: int, assigned_id: int) -> bool:
    """Art 11(1): an agency other than the one assigned collects the element again."""
    return collector_id != assigned_id


def check_flag_answer(answer: str, citation: str | None, explanation: str | None) -> tuple[str | None, str | None]:
    """Art 11(1): the exception needs its legal citation; a switch to sharing needs no more."""
    check_vocab(answer, {k: FLAG_STATES[k] for k in ANSWERS}, field="answer", article="Art 11(1)")
    citation = check_text(citation, field="citation", limit=CITATION_MAX)
    explanation = check_text(explanation, field="explanation")
    if answer == "legal_exception" and not citation:
        raise invalid(
            "quality.duplicate.citation_required",
            f"主张“{LEGAL_EXCEPTION_TEXT}”须写明所依据的法律、法规或规章及条款",
            "claiming the legal exception needs the law, regulation or rule and its article",
            field="citation",
            article="Art 11(1)",
        )
    return citation, explanation


def check_flag_open(state: str) -> None:
    if state != "open":
        raise Conflict(
            "quality.duplicate.already_answered",
            "该重复采集提示已答复",
            "This flag was already answered",
            field="answer",
            article="Art 11(1)",
        )


# --- Reconciliation (Art 11(2)) -------------------------------------------------------------------

RUN_STATES: Labels = {
    "queued": ("排队中", "queued"),
    "running": ("比对中", "running"),
    "done": ("已完成", "done"),
    "failed": ("失败", "failed"),
}
SOURCE_KINDS: Labels = {
    "upload": ("上传文件", "uploaded file"),
    "hosted": ("本单位托管数据集", "own hosted dataset"),
}
#: Most items one reconciliation compares.
MAX_ITEMS = 50


def check_not_self(secondary_agency_id: int, primary_agency_id: int) -> None:
    """Art 11(2) is a secondary holder checking the primary source: not an agency against itself."""
    if secondary_agency_id == primary_agency_id:
        raise invalid(
            "quality.reconcile.same_agency",
            "主采集单位不能与自身比对，请上传其他单位持有的副本",
            "the primary agency cannot reconcile against itself",
            field="agency",
            article="Art 11(2)",
        )


# --- Discrepancy duty (Art 11(2)) -----------------------------------------------------------------

#: Default working days the primary agency has to verify and explain (a platform setting; the
#: Measures say "核实并予以说明" without a time limit, the issue asks for 15).
DEFAULT_VERIFY_WORKDAYS = 15
OUTCOMES: Labels = {
    "source_corrected": ("已更正源数据", "source corrected"),
    "source_right": ("源数据无误（附说明）", "source is right (explained)"),
    "cannot_verify": ("无法核实（附原因）", "cannot verify (reason given)"),
}
TASK_STATES: Labels = {"open": ("待核实", "open"), "answered": ("已答复", "answered")}


def check_outcome(outcome: str, note: str | None) -> str | None:
    """Art 11(2) "核实并予以说明": "source right" needs the explanation, "cannot verify" the reason."""
    check_vocab(outcome, OUTCOMES, field="outcome", article="Art 11(2)")
    note = check_text(note, field="note")
    if outcome in ("source_right", "cannot_verify") and not note:
        what = (
            ("说明源数据为何无误", "explain why the source is right")
            if outcome == "source_right"
            else ("说明无法核实的原因", "give the reason it cannot be verified")
        )
        raise invalid(
            "quality.verification.note_required", f"请{what[0]}", f"Please {what[1]}", field="note", article="Art 11(2)"
        )
    return note


def check_task_open(state: str) -> None:
    if state != "open":
        raise Conflict(
            "quality.verification.closed",
            "该核实任务已全部答复",
            "This verification task is fully answered",
            field="task",
            article="Art 11(2)",
        )


def is_overdue(state: str, due_on: Any, today: Any) -> bool:
    """An open task past its deadline (the deadline day itself still counts as in time)."""
    return state == "open" and today > due_on


# --- Objections (数据异议) --------------------------------------------------------------------------

#: Default working days the provider has to check and answer an objection (a platform setting; the
#: State Council's rules on sharing, 国发〔2016〕51号, ask for fast correction without a number).
DEFAULT_OBJECTION_WORKDAYS = 10
OBJECTION_ARTICLE = "国发〔2016〕51号"
OBJECTION_STATES: Labels = {
    "open": ("待核查", "awaiting the provider"),
    "corrected": ("已更正", "corrected"),
    "confirmed": ("经核查无误（附说明）", "confirmed as right (explained)"),
    "rejected": ("不予受理（附理由）", "rejected (reason given)"),
}
OBJECTION_ANSWERS = ("corrected", "confirmed", "rejected")
#: How objections count in a resource's quality score (Art 12 "真实、准确"): every objection the
#: provider upheld by correcting its data, or left unanswered past its deadline, takes this many
#: points off the score of the versions checked after it was filed, up to the cap.
OBJECTION_PENALTY = 2.0
OBJECTION_PENALTY_CAP = 20.0
GRANT_USABLE_STATES = ("active",)


def check_objection_answer(outcome: str, note: str | None) -> str | None:
    check_vocab(
        outcome, {k: OBJECTION_STATES[k] for k in OBJECTION_ANSWERS}, field="outcome", article=OBJECTION_ARTICLE
    )
    note = check_text(note, field="note")
    if outcome in ("confirmed", "rejected") and not note:
        what = (
            ("说明数据为何无误", "explain why the data are right")
            if outcome == "confirmed"
            else ("说明不予受理的理由", "give the reason for rejecting it")
        )
        raise invalid(
            "quality.objection.note_required",
            f"请{what[0]}",
            f"Please {what[1]}",
            field="note",
            article=OBJECTION_ARTICLE,
        )
    return note


def objection_penalty(counted: int) -> float:
    return min(OBJECTION_PENALTY_CAP, OBJECTION_PENALTY * counted)


# --- Update duty (Art 15(2)) -----------------------------------------------------------------------

#: Art 15(2): "数据发生变化的，应当在20个工作日内更新" — an updated version within 20 working days of
#: a change in the source data, counted on the official calendar; the day of the change is day zero.
UPDATE_WORKDAYS = 20
UPDATE_ARTICLE = "Art 15(2)"
UPDATE_STATES: Labels = {
    "open": ("待更新", "awaiting the update"),
    "overdue": ("已逾期未更新", "overdue"),
    "met": ("已更新", "updated"),
}
CHANGE_SOURCES: Labels = {
    "provider": ("提供单位登记", "recorded by the provider"),
    "feed": ("变更通知接口", "change feed"),
}
#: A change feed's answer is at most this large, with at most this many changes (older ones first
#: dropped by the provider: the platform remembers what it has seen by the entry's ``id``).
FEED_MAX_BYTES = 1024 * 1024
FEED_MAX_CHANGES = 1000
FEED_KEY_MAX = 200


def update_late(met_on: dt.date, due_on: dt.date) -> bool:
    return met_on > due_on


def update_overdue(state: str, due_on: dt.date, today: dt.date) -> bool:
    """Overdue: not met and the deadline day has passed (marked or not yet marked by the tick)."""
    return state == "overdue" or (state == "open" and today > due_on)


def check_changed_at(value: dt.datetime, now: dt.datetime, *, field: str = "changed_at") -> dt.datetime:
    if value.tzinfo is None:
        raise invalid(
            "quality.update.naive_time",
            "变更时间须带时区（例如 +08:00）",
            "the change time needs its time zone (e.g. +08:00)",
            field=field,
            article=UPDATE_ARTICLE,
        )
    if value > now:
        raise invalid(
            "quality.update.future",
            "变更时间不能晚于当前时间",
            "the change time cannot be in the future",
            field=field,
            article=UPDATE_ARTICLE,
        )
    return value.astimezone(dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class FeedChange:
    key: str
    changed_at: dt.datetime
    note: str | None


def parse_change_feed(payload: object) -> list[FeedChange]:
    """A change feed (docs: README, "Change feed"): a JSON object
    ``{"changes": [{"id": "...", "changed_at": "2026-12-01T09:00:00+08:00", "note": "..."}]}``.
    ``changed_at`` is ISO 8601 with its offset; ``id`` (optional) names the change, else its time
    does; ``note`` is optional. A malformed feed is refused as a whole, naming the entry and field."""

    def bad(where: str, zh: str, en: str) -> InvalidInput:
        return invalid(
            "quality.update.feed_invalid",
            f"变更通知格式错误（{where}）：{zh}",
            f"bad change feed ({where}): {en}",
            field="change_feed_url",
            article=UPDATE_ARTICLE,
        )

    if not isinstance(payload, dict) or not isinstance(payload.get("changes"), list):
        raise bad("changes", "须为含 changes 数组的 JSON 对象", 'expected a JSON object with a "changes" array')
    changes = payload["changes"]
    if len(changes) > FEED_MAX_CHANGES:
        raise bad("changes", f"最多 {FEED_MAX_CHANGES} 条", f"at most {FEED_MAX_CHANGES} entries")
    out: list[FeedChange] = []
    seen: set[str] = set()
    for i, entry in enumerate(changes):
        where = f"changes[{i}]"
        if not isinstance(entry, dict):
            raise bad(where, "须为对象", "expected an object")
        raw = entry.get("changed_at")
        try:
            when = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise bad(f"{where}.changed_at", "须为带时区的 ISO 8601 时间", "expected ISO 8601 with its offset")
        when = when.astimezone(dt.UTC)
        key = entry.get("id", when.isoformat())
        if (
            not isinstance(key, str | int)
            or isinstance(key, bool)
            or not str(key).strip()
            or len(str(key)) > FEED_KEY_MAX
        ):
            raise bad(f"{where}.id", f"须为 1-{FEED_KEY_MAX} 个字符", f"expected 1-{FEED_KEY_MAX} characters")
        note = entry.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > TEXT_MAX):
            raise bad(
                f"{where}.note", f"须为不超过 {TEXT_MAX} 个字符的文本", f"expected text up to {TEXT_MAX} characters"
            )
        key = str(key).strip()
        if key in seen:
            continue
        seen.add(key)
        out.append(FeedChange(key, when, (note or "").strip() or None))
    return out
