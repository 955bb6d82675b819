"""Pure catalog rules: vocabularies, resource codes and the checks the Measures impose.

No I/O here. Every rule names its article; a violation is a :class:`Violation` with a stable
``code`` that the service turns into a 422 problem+json (``article`` and ``field`` included).

Vocabularies follow the national catalog guide (政务信息资源目录编制指南): resources are
classified as basic (基础), thematic (主题) or departmental (部门) resources; basic resources have
the five categories of the guide, which are the "basic" data of Art 7(1) and Art 26.

Resource codes (资源代码)
-------------------------
``<classification digit><category two digits>-<six-digit sequence>``, e.g. ``101-000123``:

* classification digit: ``1`` basic, ``2`` thematic, ``3`` departmental;
* category digits: the category's code below (``01`` population ... ``05`` e-licence for basic
  resources; ``01`` ... ``12`` for the themes; ``00`` for departmental resources);
* sequence: one counter per prefix (``101``, ``102``, ...), shared by all providers, so a code
  says what kind of resource it is and nothing about who provides it.

The code is assigned when the authority first publishes the entry and never changes; therefore a
revision of a published entry may not change its classification or category (withdraw it and
publish a new entry instead).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

Labels = dict[str, tuple[str, str]]

# --- Vocabularies -------------------------------------------------------------------------------

#: Classification (资源分类) with its code digit.
CLASSIFICATIONS: Labels = {
    "basic": ("基础信息资源", "basic resource"),
    "thematic": ("主题信息资源", "thematic resource"),
    "departmental": ("部门信息资源", "departmental resource"),
}
CLASSIFICATION_CODES = {"basic": "1", "thematic": "2", "departmental": "3"}

#: Basic categories, Art 7(1) and Art 26 (population, legal entities, geography, ...).
BASIC_CATEGORIES: Labels = {
    "population": ("人口", "population"),
    "legal_entity": ("法人单位", "legal entity"),
    "natural_resources_geography": ("自然资源和空间地理", "natural resources and geography"),
    "social_credit": ("社会信用", "social credit"),
    "e_licence": ("电子证照", "electronic licence"),
}
#: Themes of thematic resources (the guide's 主题信息资源, and Art 22-26's public services).
THEMATIC_CATEGORIES: Labels = {
    "public_service": ("公共服务", "public services"),
    "health": ("健康保障", "health"),
    "social_security": ("社会保障", "social security"),
    "food_drug_safety": ("食品药品安全", "food and drug safety"),
    "work_safety": ("安全生产", "work safety"),
    "price_supervision": ("价格监管", "price supervision"),
    "energy_security": ("能源安全", "energy security"),
    "credit_system": ("信用体系", "credit system"),
    "urban_rural_construction": ("城乡建设", "urban and rural construction"),
    "community_governance": ("社区治理", "community governance"),
    "ecology_environment": ("生态环保", "ecology and environment"),
    "emergency_response": ("应急维稳", "emergency response"),
}
CATEGORY_CODES: dict[str, dict[str, str]] = {
    "basic": {c: f"{i:02d}" for i, c in enumerate(BASIC_CATEGORIES, start=1)},
    "thematic": {c: f"{i:02d}" for i, c in enumerate(THEMATIC_CATEGORIES, start=1)},
    "departmental": {},
}
#: Every category, for labels and facets.
CATEGORIES: Labels = {**BASIC_CATEGORIES, **THEMATIC_CATEGORIES}

#: Data format (数据格式), Art 10(1).
FORMATS: Labels = {
    "database": ("数据库", "database"),
    "spreadsheet": ("电子表格", "spreadsheet"),
    "file": ("电子文件", "electronic file"),
    "image": ("图形图像", "image"),
    "streaming": ("流媒体", "streaming media"),
    "geospatial": ("空间地理数据", "geospatial data"),
    "api": ("接口", "API"),
    "other": ("其他", "other"),
}

#: Share type (共享类型): Art 9 and Art 13.
SHARE_TYPES: Labels = {
    "unconditional": ("无条件共享", "shared unconditionally"),
    "conditional": ("有条件共享", "shared on conditions"),
    "not_shared": ("不予共享", "not shared"),
}

#: Provision method (提供方式), Art 10(1), Art 14, Art 15.
PROVISION_METHODS: Labels = {
    "gateway_api": ("共享平台接口", "platform gateway API"),
    "hosted_dataset": ("平台托管数据集", "hosted dataset"),
    "file": ("文件交换", "file exchange"),
    "off_platform": ("平台外共享（须备案）", "off-platform (filed with the authority)"),
}

#: Update cycle (更新周期).
UPDATE_CYCLES: Labels = {
    "realtime": ("实时", "real time"),
    "daily": ("每日", "daily"),
    "weekly": ("每周", "weekly"),
    "monthly": ("每月", "monthly"),
    "quarterly": ("每季度", "quarterly"),
    "half_yearly": ("每半年", "half-yearly"),
    "yearly": ("每年", "yearly"),
    "irregular": ("不定期", "irregular"),
}

#: Sector tags (领域), Art 22-26.
SECTORS: Labels = {
    "education": ("教育", "education"),
    "health": ("医疗卫生", "health"),
    "employment": ("就业", "employment"),
    "social_security": ("社会保障", "social security"),
    "community": ("社区服务", "community services"),
    "civil_affairs": ("民政", "civil affairs"),
    "elderly_care": ("养老服务", "elderly care"),
    "housing": ("住房保障", "housing"),
    "transport": ("公共交通", "public transport"),
    "public_safety": ("公共安全", "public safety"),
    "culture": ("公共文化", "public culture"),
    "environment": ("环境保护", "environmental protection"),
    "food_drug": ("食品药品", "food and drugs"),
    "market_regulation": ("市场监管", "market regulation"),
    "taxation": ("税务", "taxation"),
    "finance": ("金融", "finance"),
    "statistics": ("统计", "statistics"),
    "natural_resources": ("自然资源", "natural resources"),
    "agriculture": ("农业农村", "agriculture"),
    "emergency": ("应急管理", "emergency management"),
}

#: Security classification (安全级别). The last two are state secrets (Art 18(2), Art 19).
SECURITY_CLASSIFICATIONS: Labels = {
    "public": ("公开", "public"),
    "internal": ("内部", "internal"),
    "restricted": ("敏感", "restricted"),
    "secret": ("秘密", "secret (state secret)"),
    "confidential": ("机密", "confidential (state secret)"),
}
STATE_SECRET_LEVELS = frozenset({"secret", "confidential"})

#: Data item types (信息项数据类型).
DATA_TYPES: Labels = {
    "string": ("字符型", "string"),
    "integer": ("整数型", "integer"),
    "decimal": ("数值型", "decimal"),
    "date": ("日期型", "date"),
    "datetime": ("日期时间型", "date-time"),
    "boolean": ("布尔型", "boolean"),
    "binary": ("二进制", "binary"),
    "geometry": ("空间数据", "geometry"),
}

#: Lifecycle of an entry.
STATUSES: Labels = {
    "draft": ("草稿", "draft"),
    "submitted": ("待发布", "submitted"),
    "published": ("已发布", "published"),
    "withdrawn": ("已撤销", "withdrawn"),
}

#: Review state of a revision of a published entry (Art 10(2)).
REVISION_STATES: Labels = {
    "pending": ("待审核", "pending"),
    "approved": ("已批准", "approved"),
    "rejected": ("已退回", "rejected"),
    "superseded": ("已被新修订取代", "superseded"),
}

#: Demand (共享需求) states, Art 9.
DEMAND_STATUSES: Labels = {
    "open": ("待匹配", "open"),
    "routed": ("已转提供方", "routed to candidate providers"),
    "matched": ("已匹配", "matched"),
    "closed": ("已关闭", "closed"),
}

#: Art 15(2): shared data is updated within 20 working days of a change.
DEFAULT_UPDATE_DEADLINE_WORKDAYS = 20
MAX_UPDATE_DEADLINE_WORKDAYS = 20

#: Texts that are not a legal basis.
_PLACEHOLDERS = frozenset({"无", "暂无", "没有", "不详", "none", "n/a", "na", "null", "-", "--", "/", "…", "..."})
LEGAL_BASIS_MIN_CHARS = 4


def label(vocab: Labels, value: str | None, lang: str = "zh") -> str:
    if value is None:
        return ""
    pair = vocab.get(value)
    if pair is None:
        return value
    return pair[1] if lang == "en" else pair[0]


def categories_of(classification: str) -> Labels:
    if classification == "basic":
        return BASIC_CATEGORIES
    if classification == "thematic":
        return THEMATIC_CATEGORIES
    return {}


# --- Resource codes ------------------------------------------------------------------------------

RESOURCE_CODE_RE = re.compile(r"^[123]\d{2}-\d{6}$")


def code_prefix(classification: str, category: str | None) -> str:
    """``101`` for basic/population, ``300`` for departmental resources (module docstring)."""
    digit = CLASSIFICATION_CODES[classification]
    if classification == "departmental":
        return digit + "00"
    return digit + CATEGORY_CODES[classification][category or ""]


def resource_code(prefix: str, sequence: int) -> str:
    if not 1 <= sequence <= 999_999:
        raise ValueError("sequence out of range for a six-digit resource code")
    return f"{prefix}-{sequence:06d}"


# --- Violations ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    code: str
    article: str | None
    field: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "article": self.article,
            "field": self.field,
            "message_zh": self.zh,
            "message_en": self.en,
        }


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_real_legal_basis(text: str | None) -> bool:
    """A legal basis is stated when it is more than a placeholder ("无", "n/a", ...)."""
    if _blank(text):
        return False
    t = str(text).strip()
    return t.lower() not in _PLACEHOLDERS and len(t) >= LEGAL_BASIS_MIN_CHARS


def fee_is_zero(fee: Any) -> bool:
    if _blank(fee):
        return True
    try:
        return Decimal(str(fee).strip()) == 0
    except InvalidOperation:
        return False


def check_classification(c: Mapping[str, Any]) -> list[Violation]:
    """Classification and category go together (the catalog guide; Art 8(3) unified norms)."""
    classification, category = c.get("classification"), c.get("category")
    allowed = categories_of(classification or "")
    if classification in ("basic", "thematic"):
        if _blank(category):
            return [
                Violation(
                    "catalog.category.required",
                    "Art 8",
                    "category",
                    f"{label(CLASSIFICATIONS, classification)}须选择资源类别",
                    f"a {classification} resource needs a category",
                )
            ]
        if category not in allowed:
            return [
                Violation(
                    "catalog.category.invalid",
                    "Art 8",
                    "category",
                    f"类别 {category} 不属于{label(CLASSIFICATIONS, classification)}，可选："
                    + "、".join(f"{k}（{v[0]}）" for k, v in allowed.items()),
                    f"category {category} does not belong to {classification} resources; allowed: "
                    + ", ".join(allowed),
                )
            ]
    elif classification == "departmental" and not _blank(category):
        return [
            Violation(
                "catalog.category.not_applicable",
                "Art 8",
                "category",
                "部门信息资源不设资源类别",
                "departmental resources have no category",
            )
        ]
    return []


def check_basic_not_shared(c: Mapping[str, Any]) -> list[Violation]:
    """Art 7(1): basic data (population, legal entities, geography, ...) must be shared among
    agencies; such a resource can be "not shared" only on a stated legal basis."""
    if (
        c.get("classification") == "basic"
        and c.get("share_type") == "not_shared"
        and not is_real_legal_basis(c.get("legal_basis"))
    ):
        return [
            Violation(
                "catalog.basic.not_shared_without_basis",
                "Art 7(1)",
                "legal_basis",
                "基础信息资源应当在行政机关之间共享，列为不予共享须写明法律、法规依据",
                "basic resources must be shared among agencies; 'not shared' needs a stated legal basis",
            )
        ]
    return []


def check_not_shared_basis(c: Mapping[str, Any]) -> list[Violation]:
    """Art 13(2): sharing may be refused only for state secrets, commercial secrets, personal
    privacy or another legal ground, so "not shared" states its legal basis."""
    if c.get("classification") == "basic":
        return []  # reported by the stricter basic-resource rule above
    if c.get("share_type") == "not_shared" and not is_real_legal_basis(c.get("legal_basis")):
        return [
            Violation(
                "catalog.not_shared.legal_basis_required",
                "Art 13",
                "legal_basis",
                "不予共享须写明法律依据（涉及国家秘密、商业秘密、个人隐私或其他法定事由）",
                "'not shared' needs a legal basis (state secret, commercial secret, personal privacy "
                "or another legal ground)",
            )
        ]
    return []


def check_conditions(c: Mapping[str, Any]) -> list[Violation]:
    """Art 9(1) and Art 10(1): a conditionally shared resource states its sharing conditions."""
    if c.get("share_type") == "conditional" and _blank(c.get("share_conditions")):
        return [
            Violation(
                "catalog.conditional.conditions_required",
                "Art 10",
                "share_conditions",
                "有条件共享须写明共享条件",
                "conditional sharing needs its conditions",
            )
        ]
    return []


def check_no_fee(c: Mapping[str, Any]) -> list[Violation]:
    """Art 16: agencies share with each other free of charge; charging is a violation of Art 33(2)."""
    if not fee_is_zero(c.get("fee")):
        return [
            Violation(
                "catalog.fee.not_allowed",
                "Art 16",
                "fee",
                "行政机关之间应当无偿共享，不得收费",
                "sharing between agencies is free of charge",
            )
        ]
    return []


def check_update_deadline(c: Mapping[str, Any]) -> list[Violation]:
    """Art 15(2): shared data is updated within 20 working days of a change."""
    days = c.get("update_deadline_workdays")
    if days is None:
        return []
    if isinstance(days, bool) or not isinstance(days, int):
        return [
            Violation(
                "catalog.update_deadline.invalid",
                "Art 15",
                "update_deadline_workdays",
                "更新时限应为工作日天数（整数）",
                "the update deadline is a whole number of working days",
            )
        ]
    if days < 1:
        return [
            Violation(
                "catalog.update_deadline.too_short",
                "Art 15",
                "update_deadline_workdays",
                f"更新时限至少为 1 个工作日（最多 {MAX_UPDATE_DEADLINE_WORKDAYS} 个）",
                f"the update deadline is at least 1 working day (at most {MAX_UPDATE_DEADLINE_WORKDAYS})",
            )
        ]
    if days > MAX_UPDATE_DEADLINE_WORKDAYS:
        return [
            Violation(
                "catalog.update_deadline.too_long",
                "Art 15",
                "update_deadline_workdays",
                f"更新时限不能超过 {MAX_UPDATE_DEADLINE_WORKDAYS} 个工作日（第十五条）",
                f"the update deadline is at most {MAX_UPDATE_DEADLINE_WORKDAYS} working days",
            )
        ]
    return []


def check_sensitive_flags(c: Mapping[str, Any]) -> list[Violation]:
    """Art 18(1), Art 19: personal and secret data items must show on the entry, because requests
    for such data follow the 15-working-day procedure and need confidentiality agreements."""
    out: list[Violation] = []
    items = c.get("data_items") or []
    if any(i.get("is_personal") for i in items) and not c.get("contains_personal_info"):
        out.append(
            Violation(
                "catalog.personal_info.undeclared",
                "Art 18",
                "contains_personal_info",
                "信息项含个人信息，资源须标明“含个人信息”",
                "a data item is personal: mark the resource as containing personal information",
            )
        )
    if any(i.get("is_secret") for i in items) and c.get("security_classification") in (None, "public"):
        out.append(
            Violation(
                "catalog.security.undeclared",
                "Art 19",
                "security_classification",
                "信息项涉密，资源安全级别不能为“公开”",
                "a data item is secret: the resource's security classification cannot be public",
            )
        )
    return out


def check_sensitive_unconditional(c: Mapping[str, Any]) -> list[Violation]:
    """Art 18(1): data with state secrets, commercial secrets or personal privacy is shared on
    request, answered within 15 working days, so it cannot be shared unconditionally."""
    if c.get("share_type") != "unconditional":
        return []
    reasons = []
    if c.get("contains_personal_info"):
        reasons.append(("个人信息", "personal information"))
    if c.get("contains_commercial_secret"):
        reasons.append(("商业秘密", "commercial secrets"))
    if c.get("security_classification") in STATE_SECRET_LEVELS:
        reasons.append(("国家秘密", "state secrets"))
    if not reasons:
        return []
    return [
        Violation(
            "catalog.unconditional.sensitive",
            "Art 18",
            "share_type",
            "含" + "、".join(r[0] for r in reasons) + "的资源不能无条件共享，请选择有条件共享",
            "a resource with "
            + ", ".join(r[1] for r in reasons)
            + " cannot be shared unconditionally; choose conditional sharing",
        )
    ]


def check_data_items(c: Mapping[str, Any]) -> list[Violation]:
    """Art 10(1), Art 11: one name per data item within an entry (items are referred to by name)."""
    seen: set[str] = set()
    for i, item in enumerate(c.get("data_items") or []):
        name = (item.get("name") or "").strip()
        if name in seen:
            return [
                Violation(
                    "catalog.data_item.duplicate",
                    "Art 10",
                    f"data_items.{i}.name",
                    f"信息项“{name}”重复",
                    f"data item '{name}' appears twice",
                )
            ]
        seen.add(name)
    return []


#: Every rule, in the order their violations are reported.
RULES = (
    check_classification,
    check_basic_not_shared,
    check_not_shared_basis,
    check_conditions,
    check_no_fee,
    check_update_deadline,
    check_data_items,
    check_sensitive_flags,
    check_sensitive_unconditional,
)


def violations(content: Mapping[str, Any]) -> list[Violation]:
    """All violations of an entry's content (a mapping of the content fields)."""
    out: list[Violation] = []
    for rule in RULES:
        out.extend(rule(content))
    return out


def check_revision_keeps_code(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Violation]:
    """The resource code embeds the classification (module docstring); a published entry keeps it."""
    for field in ("classification", "category"):
        if (before.get(field) or None) != (after.get(field) or None):
            return [
                Violation(
                    "catalog.revision.classification_fixed",
                    "Art 10",
                    field,
                    "已发布资源的分类和类别决定其资源代码，不能修改；请撤销后重新编目",
                    "a published entry's classification fixes its code and cannot change; "
                    "withdraw it and catalogue a new entry",
                )
            ]
    return []


# --- Lifecycle ----------------------------------------------------------------------------------

#: Who moves an entry from one status to another, Art 9-10.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft",), "submitted"),
    "publish": (("submitted",), "published"),
    "reject": (("submitted",), "draft"),
    "withdraw": (("draft", "submitted", "published"), "withdrawn"),
}


def can_transition(action: str, status: str) -> bool:
    sources, _target = TRANSITIONS[action]
    return status in sources


def target_status(action: str) -> str:
    return TRANSITIONS[action][1]


def split_list(value: str | Iterable[str] | None) -> list[str]:
    """Split a list written in one cell: ``教育、医疗卫生; 就业`` (Chinese or ASCII separators)."""
    if value is None:
        return []
    if not isinstance(value, str):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in re.split(r"[;,；，、\n]+", value) if p.strip()]
