"""How catalog content reads to a person: field labels, vocabulary values, snapshot diffs.

Shared by the service (diffs and labels in read models), the pages and the importer's error
messages. Chinese first, English second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from govshare.catalog import rules
from govshare.catalog.schemas import FieldChange

if TYPE_CHECKING:
    from govshare.catalog.models import CatalogResource

#: Scalar content fields of an entry, in display order; with the lists below they make a snapshot.
CONTENT_FIELDS = (
    "classification",
    "category",
    "name",
    "name_en",
    "abstract",
    "abstract_en",
    "format",
    "format_detail",
    "share_type",
    "share_conditions",
    "legal_basis",
    "provision_method",
    "open_to_public",
    "update_cycle",
    "update_deadline_workdays",
    "security_classification",
    "contains_commercial_secret",
    "contains_personal_info",
)
LIST_FIELDS = ("data_items", "sectors", "related")
ITEM_FIELDS = ("name", "field_code", "data_type", "description", "is_personal", "is_secret")


#: Field labels for diffs, forms and import errors: (Chinese, English).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "classification": ("资源分类", "classification"),
    "category": ("资源类别", "category"),
    "name": ("资源名称", "name"),
    "name_en": ("英文名称", "English name"),
    "abstract": ("资源摘要", "abstract"),
    "abstract_en": ("英文摘要", "English abstract"),
    "format": ("数据格式", "format"),
    "format_detail": ("格式说明", "format detail"),
    "share_type": ("共享类型", "share type"),
    "share_conditions": ("共享条件", "sharing conditions"),
    "legal_basis": ("法律依据", "legal basis"),
    "provision_method": ("提供方式", "provision method"),
    "open_to_public": ("是否向社会开放", "open to the public"),
    "update_cycle": ("更新周期", "update cycle"),
    "update_deadline_workdays": ("更新时限（工作日）", "update deadline (working days)"),
    "security_classification": ("安全级别", "security classification"),
    "contains_commercial_secret": ("含商业秘密", "contains commercial secrets"),
    "contains_personal_info": ("含个人信息", "contains personal information"),
    "data_items": ("信息项", "data items"),
    "sectors": ("领域", "sectors"),
    "related": ("关联资源", "related resources"),
    "fee": ("费用", "fee"),
    "provider": ("提供单位", "provider"),
}
ITEM_LABELS: dict[str, tuple[str, str]] = {
    "name": ("名称", "name"),
    "field_code": ("英文标识", "field code"),
    "data_type": ("数据类型", "data type"),
    "description": ("说明", "description"),
    "is_personal": ("个人信息", "personal"),
    "is_secret": ("涉密", "secret"),
}
VOCABS: dict[str, rules.Labels] = {
    "classification": rules.CLASSIFICATIONS,
    "category": rules.CATEGORIES,
    "format": rules.FORMATS,
    "share_type": rules.SHARE_TYPES,
    "provision_method": rules.PROVISION_METHODS,
    "update_cycle": rules.UPDATE_CYCLES,
    "security_classification": rules.SECURITY_CLASSIFICATIONS,
    "data_type": rules.DATA_TYPES,
}


def display_value(field: str, value: Any, *, lang: str = "zh", names: Mapping[int, str] | None = None) -> str:
    """A value as a person reads it: vocabulary labels, 是/否, lists joined."""
    if value is None or value == "" or value == []:
        return "（空）" if lang == "zh" else "(empty)"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if field in VOCABS:
        return rules.label(VOCABS[field], value, lang)
    if field == "sectors":
        return ("、" if lang == "zh" else ", ").join(rules.label(rules.SECTORS, s, lang) for s in value)
    if field == "related":
        return ("、" if lang == "zh" else ", ").join((names or {}).get(r, str(r)) for r in value)
    return str(value)


def _item_text(item: Mapping[str, Any], lang: str) -> str:
    parts = [rules.label(rules.DATA_TYPES, item.get("data_type"), lang)]
    if item.get("is_personal"):
        parts.append("个人信息" if lang == "zh" else "personal")
    if item.get("is_secret"):
        parts.append("涉密" if lang == "zh" else "secret")
    if item.get("description"):
        parts.append(str(item["description"]))
    return "，".join(parts) if lang == "zh" else ", ".join(parts)


def diff_snapshots(
    before: Mapping[str, Any], after: Mapping[str, Any], *, names: Mapping[int, str] | None = None
) -> list[FieldChange]:
    """Field-level changes between two snapshots, labelled in Chinese (and English)."""
    changes: list[FieldChange] = []
    for f in (*CONTENT_FIELDS, "sectors", "related"):
        b, a = before.get(f), after.get(f)
        if (b or None) == (a or None) and not isinstance(b, bool):
            continue
        if b == a:
            continue
        zh, en = FIELD_LABELS[f]
        kind = "added" if b in (None, "", []) else "removed" if a in (None, "", []) else "changed"
        changes.append(
            FieldChange(
                field=f,
                label=zh,
                label_en=en,
                kind=kind,
                before=display_value(f, b, names=names),
                after=display_value(f, a, names=names),
            )
        )
    b_items = {i["name"]: i for i in before.get("data_items") or []}
    a_items = {i["name"]: i for i in after.get("data_items") or []}
    for name, item in a_items.items():
        old = b_items.get(name)
        if old is None:
            changes.append(
                FieldChange(
                    field=f"data_items.{name}",
                    label=f"信息项“{name}”",
                    label_en=f"data item '{name}'",
                    kind="added",
                    before=None,
                    after=_item_text(item, "zh"),
                )
            )
            continue
        for f in ITEM_FIELDS[1:]:
            if old.get(f) != item.get(f):
                zh, en = ITEM_LABELS[f]
                changes.append(
                    FieldChange(
                        field=f"data_items.{name}.{f}",
                        label=f"信息项“{name}”的{zh}",
                        label_en=f"data item '{name}': {en}",
                        kind="changed",
                        before=display_value(f, old.get(f)),
                        after=display_value(f, item.get(f)),
                    )
                )
    for name, item in b_items.items():
        if name not in a_items:
            changes.append(
                FieldChange(
                    field=f"data_items.{name}",
                    label=f"信息项“{name}”",
                    label_en=f"data item '{name}'",
                    kind="removed",
                    before=_item_text(item, "zh"),
                    after=None,
                )
            )
    order = [i["name"] for i in after.get("data_items") or [] if i["name"] in b_items]
    if order != [i["name"] for i in before.get("data_items") or [] if i["name"] in a_items]:
        changes.append(
            FieldChange(
                field="data_items.order",
                label="信息项顺序",
                label_en="order of data items",
                kind="changed",
                before="、".join(i["name"] for i in before.get("data_items") or []),
                after="、".join(i["name"] for i in after.get("data_items") or []),
            )
        )
    return changes


def diff_text(changes: Sequence[FieldChange]) -> str:
    lines = []
    for c in changes:
        if c.kind == "added":
            lines.append(f"新增 {c.label}：{c.after}")
        elif c.kind == "removed":
            lines.append(f"删除 {c.label}：{c.before}")
        else:
            lines.append(f"{c.label}：{c.before} → {c.after}")
    return "\n".join(lines)


LABELLED = (
    "classification",
    "category",
    "format",
    "share_type",
    "provision_method",
    "update_cycle",
    "security_classification",
    "status",
)


def labels_of(resource: CatalogResource, lang: str) -> dict[str, str]:
    vocab = {**VOCABS, "status": rules.STATUSES}
    out = {f: rules.label(vocab[f], getattr(resource, f), lang) for f in LABELLED if getattr(resource, f)}
    out["sectors"] = display_value("sectors", resource.sector_codes, lang=lang)
    return out
