"""Normalisation rules applied before two copies of a datum are compared (Art 11(2) reconciliation).

Two agencies often hold the same value written differently: ``３２０５０８`` typed with a Chinese
input method, a trailing space, ``x`` for ``X``, ``2024年1月2日`` for ``2024-01-02``, an identity
number still in its 15-digit form. Comparing them raw would report a discrepancy that is none.
Each rule here is named (Chinese and English), says what it does, applies to certain kinds of
value, and compiles to a DuckDB SQL expression, so that ten million values are normalised inside
the database. The user switches rules on and off; the rules switched on are applied in the fixed
order of :data:`RULES` (full-width first, so that full-width digits and spaces are seen by the
later rules). After the rules, an empty text counts as a missing value (CSV files cannot tell them
apart), always.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from govshare.core.errors import InvalidInput
from govshare.core.identifiers import upgrade_id_15_sql

#: Kinds of value a compared item (or the key) can be; rules apply to some kinds only.
VALUE_KINDS: dict[str, tuple[str, str]] = {
    "text": ("文本", "text"),
    "date": ("日期", "date"),
    "id_number": ("公民身份号码", "citizen identity number"),
}

# Full-width forms U+FF01..U+FF5E are ASCII U+0021..U+007E shifted by 0xFEE0; U+3000 is the
# ideographic space.
_FULLWIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALFWIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fullwidth(x: str) -> str:
    # DuckDB's translate() costs microseconds a value; the regular expression guard lets the values
    # without a full-width character (nearly all) skip it, about 20 times faster overall.
    return (
        rf"CASE WHEN regexp_matches({x}, '[\x{{FF01}}-\x{{FF5E}}\x{{3000}}]') "
        f"THEN translate({x}, {_lit(_FULLWIDTH)}, {_lit(_HALFWIDTH)}) ELSE {x} END"
    )


def _whitespace(x: str) -> str:
    # \p{Z}: every Unicode space (ideographic space, no-break space ...); \s: tab, newlines.
    return rf"trim(regexp_replace({x}, '[\s\p{{Z}}]+', ' ', 'g'))"


def _case(x: str) -> str:
    return f"upper({x})"


# 2024年1月2日, 2024/1/2, 2024-1-2, 2024.1.2, each optionally followed by a time of day.
_YMD = r"(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?"


def _date(x: str) -> str:
    # Fast path: a value already written as an ISO date stays as it is (exactly what the slow path
    # would return for it).
    iso = f"length({x}) = 10 AND strftime(TRY_CAST({x} AS DATE), '%Y-%m-%d') = {x}"
    separated = f"TRY_CAST(regexp_replace({x}, '^{_YMD}.*$', '\\1-\\2-\\3') AS DATE)"
    compact = f"TRY_CAST(TRY_STRPTIME({x}, '%Y%m%d') AS DATE)"
    return (
        f"CASE WHEN {iso} THEN {x} "
        f"WHEN regexp_full_match({x}, '{_YMD}([ T].*)?') THEN coalesce(strftime({separated}, '%Y-%m-%d'), {x}) "
        f"WHEN regexp_full_match({x}, '[0-9]{{8}}') THEN coalesce(strftime({compact}, '%Y-%m-%d'), {x}) "
        f"ELSE {x} END"
    )


@dataclass(frozen=True)
class NormalizationRule:
    code: str
    name_zh: str
    name_en: str
    does_zh: str
    does_en: str
    kinds: frozenset[str]
    sql: Callable[[str], str]
    #: Switched on unless the user switches it off.
    default: bool = True


_ALL = frozenset(VALUE_KINDS)
#: Characters each rule for every kind of value acts on (RE2 class contents): a value without any
#: is left as it is by the rule.
_GUARDS = {
    "fullwidth": r"\x{FF01}-\x{FF5E}\x{3000}",
    "whitespace": r"\s\p{Z}",
    "case": r"\p{Ll}\p{Lt}",
}

#: The rules, in the order they are applied.
RULES: dict[str, NormalizationRule] = {
    r.code: r
    for r in (
        NormalizationRule(
            "fullwidth",
            "全角转半角",
            "full-width to half-width",
            "把全角字母、数字、标点和全角空格转为半角（如 ３２０５ → 3205）",
            "turns full-width letters, digits, punctuation and the ideographic space into ASCII (３２０５ → 3205)",
            _ALL,
            _fullwidth,
        ),
        NormalizationRule(
            "whitespace",
            "去除多余空白",
            "trim and collapse whitespace",
            "去掉首尾空白，把中间连续的空白（含制表符、换行、不间断空格）合并为一个空格",
            "removes leading and trailing whitespace and turns each run of whitespace inside (tabs, line "
            "breaks, no-break spaces included) into one space",
            _ALL,
            _whitespace,
        ),
        NormalizationRule(
            "case",
            "忽略字母大小写",
            "ignore letter case",
            "比较前把字母统一为大写（如身份证号末位 x → X）",
            "compares letters in upper case (an identity number's final x becomes X)",
            _ALL,
            _case,
        ),
        NormalizationRule(
            "date",
            "日期统一格式",
            "dates to ISO format",
            "把 2024年1月2日、2024/1/2、2024.1.2、2024-1-2、20240102 等写法统一为 2024-01-02，去掉时刻；"
            "仅用于日期类数据项，不是有效日期的值保持原样",
            "writes 2024年1月2日, 2024/1/2, 2024.1.2, 2024-1-2 and 20240102 as 2024-01-02, dropping any "
            "time of day; for date items only; values that are not a real date are left as they are",
            frozenset({"date"}),
            _date,
        ),
        NormalizationRule(
            "id15",
            "身份证号 15 位升 18 位",
            "identity number 15 to 18 digits",
            "把 15 位旧身份证号按 GB 11643-1999 升为 18 位（年份前补 19，补校验码）；仅用于身份证号",
            "upgrades 15-digit identity numbers to 18 digits per GB 11643-1999 (19 before the year, check "
            "character appended); for identity numbers only",
            frozenset({"id_number"}),
            upgrade_id_15_sql,
        ),
    )
}

DEFAULT_RULES: tuple[str, ...] = tuple(code for code, r in RULES.items() if r.default)


def check_rules(rules: Iterable[str]) -> tuple[str, ...]:
    """The rule codes in application order; unknown codes are refused."""
    chosen = set(rules)
    unknown = sorted(chosen - set(RULES))
    if unknown:
        raise InvalidInput(
            "quality.reconcile.rule_unknown",
            "未知的规范化规则",
            "Unknown normalisation rule",
            detail=f"{', '.join(unknown)}; 可用 / available: {', '.join(RULES)}",
            field="rules",
        )
    return tuple(code for code in RULES if code in chosen)


def _check_kind(kind: str) -> None:
    if kind not in VALUE_KINDS:
        raise InvalidInput(
            "quality.reconcile.kind_unknown",
            "未知的数据项类型",
            "Unknown kind of item",
            detail=f"{kind}; 可用 / available: {', '.join(VALUE_KINDS)}",
            field="kind",
        )


def text_stage_sql(x: str, rules: Iterable[str]) -> str:
    """SQL for ``x`` after the switched-on rules that apply to every kind of value.

    These rules use their argument once, so they nest cheaply; the kind-specific rules repeat
    theirs and are applied by :func:`kind_stage_sql` to a column this stage has computed, so that
    the database does not compute the first stage a dozen times over."""
    expr = x
    guards = []
    for code in check_rules(rules):
        if RULES[code].kinds == _ALL:
            expr = RULES[code].sql(expr)
            guards.append(_GUARDS[code])
    if not guards:
        return x
    # One regular expression tells the values these rules would change (few) from the rest, which
    # are passed through: 2.4 times faster than running every rule on every value.
    return f"CASE WHEN regexp_matches({x}, '[{''.join(guards)}]') THEN {expr} ELSE {x} END"


def kind_stage_sql(x: str, kind: str, rules: Iterable[str]) -> str:
    """SQL for ``x`` (a column holding the text stage) after the rules specific to ``kind``; ''→NULL."""
    _check_kind(kind)
    expr = x
    for code in check_rules(rules):
        rule = RULES[code]
        if rule.kinds != _ALL and kind in rule.kinds:
            expr = rule.sql(expr)
    return f"nullif({expr}, '')"


def normalize_sql(x: str, kind: str, rules: Iterable[str]) -> str:
    """Both stages in one expression (fine for a few values; the engine runs them in two steps)."""
    _check_kind(kind)
    return kind_stage_sql(text_stage_sql(x, rules), kind, rules)


def describe_rules(rules: Iterable[str]) -> list[dict[str, str]]:
    """The switched-on rules as the report lists them."""
    return [
        {
            "code": c,
            "name_zh": RULES[c].name_zh,
            "name_en": RULES[c].name_en,
            "does_zh": RULES[c].does_zh,
            "does_en": RULES[c].does_en,
        }
        for c in check_rules(rules)
    ]
