"""Check digits of the identifiers government data is keyed by, in Python and as DuckDB SQL.

* **Citizen identity number** (公民身份号码), GB 11643-1999: 6-digit address code (GB/T 2260
  region where the number was first issued), 8-digit birth date ``YYYYMMDD``, 3-digit sequence
  (odd for men, even for women), and a check character computed with ISO 7064 MOD 11-2: the sum
  of digit i times ``2^(17-i) mod 11`` (i = 0..16), modulo 11, indexes ``"10X98765432"``. Numbers
  issued before 1999 had 15 digits (2-digit year, no check character); the upgrade inserts
  ``"19"`` before the year and appends the check character.
* **Unified social credit code** (统一社会信用代码), GB 32100-2015: 18 characters from a 31-letter
  alphabet (digits and capitals without I, O, S, V, Z); the 18th is a check character, clause 4.3:
  ``31 - (sum of value(c_i) * 3^(i-1) mod 31) mod 31``.
* **Region code** (行政区划代码), GB/T 2260: six ASCII digits; which codes exist is the registry's
  business (``registry`` domain), so checks against it take the set of known codes.

Every check exists twice: a Python function for single values (forms, tests) and a SQL expression
for DuckDB, because validating ten million keys must run inside the database, not in a Python
loop. Both return the same *reason code* (``None``/``NULL`` when valid), and a property test holds
them to agreement. :data:`REASONS` gives each code its Chinese and English explanation.

What the ID-number check does not cover: whether the number was ever issued (only the issuing
authority knows), and foreigners' permanent-residence numbers of the 2023 format (starting with 9).
The address code is checked for a valid province prefix only, not against today's region list:
numbers keep the code of the region that issued them even after that region was merged or renamed.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterable, Sequence

# --- Citizen identity number, GB 11643-1999 --------------------------------------------------

#: Weight of digit i (0-based, i = 0..16): 2^(17-i) mod 11 (ISO 7064 MOD 11-2).
ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
#: Check character for ``sum mod 11`` = 0..10.
ID_CHECK_CHARS = "10X98765432"
#: GB/T 2260 province-level prefixes (two digits), including Taiwan (71), Hong Kong (81), Macao (82)
#: and the 83 used by Taiwan residents' residence permits.
PROVINCE_PREFIXES = frozenset(
    (
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    )
)
#: Earliest birth date accepted (the 15-digit numbers are all of the 1900s).
EARLIEST_BIRTH = dt.date(1900, 1, 1)

_DIGITS = frozenset("0123456789")


def id_check_char(first17: str) -> str:
    """The 18th (check) character for 17 ASCII digits, GB 11643-1999 clause 6 (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not set(first17) <= _DIGITS:
        raise ValueError(f"need 17 ASCII digits, got {first17!r}")
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _birth(year: str, month: str, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def id_number_reason(value: str | None, *, as_of: dt.date) -> str | None:
    """``None`` when ``value`` is a valid 18-digit identity number, else the reason code.

    Codes, in the order checked: ``blank``, ``old_15`` (a well-formed 15-digit number: valid only
    after the upgrade), ``length``, ``chars`` (17 digits then a digit or capital X), ``region``
    (unknown province prefix), ``birth_date`` (no such date, before 1900 or after ``as_of``),
    ``check_digit``.
    """
    if value is None or value == "":
        return "blank"
    if len(value) == 15 and set(value) <= _DIGITS:
        return "old_15"
    if len(value) != 18:
        return "length"
    if not set(value[:17]) <= _DIGITS or value[17] not in "0123456789X":
        return "chars"
    if value[:2] not in PROVINCE_PREFIXES:
        return "region"
    born = _birth(value[6:10], value[10:12], value[12:14])
    if born is None or born < EARLIEST_BIRTH or born > as_of:
        return "birth_date"
    if id_check_char(value[:17]) != value[17]:
        return "check_digit"
    return None


def upgrade_id_15(value: str) -> str:
    """The 18-digit number of a 15-digit one: ``"19"`` before the 2-digit year, check character
    appended (GB 11643-1999 replaced GB 11643-1989). Raises ``ValueError`` for anything else."""
    if len(value) != 15 or not set(value) <= _DIGITS:
        raise ValueError(f"not a 15-digit identity number: {value!r}")
    if _birth("19" + value[6:8], value[8:10], value[10:12]) is None:
        raise ValueError(f"no such birth date in {value!r}")
    first17 = value[:6] + "19" + value[6:]
    return first17 + id_check_char(first17)


def make_id_number(region: str, birth: dt.date, sequence: int) -> str:
    """A valid identity number for a 6-digit region code, a birth date and a sequence 0..999."""
    if not re.fullmatch(r"[0-9]{6}", region) or not 0 <= sequence <= 999:
        raise ValueError("region must be 6 ASCII digits and sequence 0..999")
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


#: County-level codes of Jiangsu (GB/T 2260) used by the generators: a few per city.
SAMPLE_REGIONS = (
    "320102",
    "320104",
    "320105",
    "320106",
    "320111",
    "320113",
    "320114",
    "320115",
    "320116",
    "320205",
    "320206",
    "320211",
    "320213",
    "320214",
    "320281",
    "320282",
    "320302",
    "320303",
    "320305",
    "320311",
    "320312",
    "320321",
    "320322",
    "320324",
    "320402",
    "320404",
    "320411",
    "320412",
    "320413",
    "320481",
    "320505",
    "320506",
    "320507",
    "320508",
    "320509",
    "320581",
    "320582",
    "320583",
    "320585",
    "320612",
    "320613",
    "320614",
    "320623",
    "320681",
    "320682",
    "320685",
    "320703",
    "320706",
    "320707",
    "320722",
    "320723",
    "320724",
    "320803",
    "320804",
    "320812",
    "320813",
    "320826",
    "320830",
    "320831",
    "320902",
    "320903",
    "320904",
    "320921",
    "320922",
    "320923",
    "320924",
    "320925",
    "320981",
    "321002",
    "321003",
    "321012",
    "321023",
    "321081",
    "321084",
    "321102",
    "321111",
    "321112",
    "321181",
    "321182",
    "321183",
    "321202",
    "321203",
    "321204",
    "321281",
    "321282",
    "321283",
    "321302",
    "321311",
    "321322",
    "321323",
    "321324",
)


def generate_id_numbers(
    count: int,
    *,
    seed: int,
    regions: Sequence[str] = SAMPLE_REGIONS,
    born_from: dt.date = dt.date(1930, 1, 1),
    born_to: dt.date = dt.date(2010, 12, 31),
) -> list[str]:
    """``count`` distinct valid identity numbers, the same for the same arguments (tests, demo)."""
    rng = random.Random(seed)
    span = (born_to - born_from).days + 1
    if count > len(regions) * span * 1000:
        raise ValueError("more numbers asked for than the regions and dates allow")
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        number = make_id_number(
            rng.choice(regions), born_from + dt.timedelta(days=rng.randrange(span)), rng.randrange(1000)
        )
        if number not in seen:
            seen.add(number)
            out.append(number)
    return out


# --- Unified social credit code, GB 32100-2015 -----------------------------------------------

#: The 31 characters a USCC may use (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weight of position i (1-based, i = 1..17) is 3^(i-1) mod 31.
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}


def uscc_check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters, per GB 32100-2015 clause 4.3."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_reason(value: str | None) -> str | None:
    """``None`` for a well-formed USCC, else ``blank``, ``length``, ``chars`` or ``check_digit``."""
    if value is None or value == "":
        return "blank"
    if len(value) != 18:
        return "length"
    if any(c not in _USCC_VALUE for c in value):
        return "chars"
    if value[17] != uscc_check_char(value[:17]):
        return "check_digit"
    return None


def uscc_problem(code: str) -> str | None:
    """``None`` when ``code`` is a well-formed USCC, else what is wrong (zh / en)."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实际 {len(code)} 位 / must be 18 characters, got {len(code)}"
    bad = sorted({c for c in code if c not in _USCC_VALUE})
    if bad:
        return f"含有不允许的字符 {''.join(bad)} / contains characters not allowed: {''.join(bad)}"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"校验码应为 {expected}，实际为 {code[17]} / check character should be {expected}, got {code[17]}"
    return None


#: GB 11714 organisation-code weights (positions 9-17 of a USCC hold that code).
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def org_code(base8: str) -> str:
    """A 9-character organisation code (GB 11714) from 8 digits: appends its check character."""
    total = sum(int(c) * w for c, w in zip(base8, _ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return base8 + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))


def make_uscc(registration: str, org_type: str, region_code: str, base8: str) -> str:
    """Build a valid USCC: registration authority + type + region + organisation code + check."""
    first17 = registration + org_type + region_code + org_code(base8)
    return first17 + uscc_check_char(first17)


# --- Region code, GB/T 2260 -------------------------------------------------------------------

_REGION_RE = re.compile(r"[0-9]{6}")


def region_code_reason(value: str | None, known: Iterable[str] | None = None) -> str | None:
    """``None`` for a region code (six ASCII digits, and among ``known`` when given), else
    ``blank``, ``format`` or ``unknown``."""
    if value is None or value == "":
        return "blank"
    if not _REGION_RE.fullmatch(value):
        return "format"
    if known is not None and value not in set(known):
        return "unknown"
    return None


#: Reason code -> (Chinese, English), for reports and errors.
REASONS: dict[str, tuple[str, str]] = {
    "blank": ("为空", "blank"),
    "old_15": ("15 位旧号码（可启用 15 位升 18 位规则）", "old 15-digit number (switch on the 15-to-18 upgrade)"),
    "length": ("位数不对", "wrong length"),
    "chars": ("含有不允许的字符", "characters not allowed"),
    "region": ("地址码的省级代码不存在", "no such province in the address code"),
    "birth_date": ("出生日期不存在或不合理", "birth date does not exist or is not plausible"),
    "check_digit": ("校验码错误", "wrong check character"),
    "format": ("应为 6 位数字", "must be six digits"),
    "unknown": ("行政区划代码不在区划库中", "not a region code of the registry"),
}

# --- The same checks as DuckDB SQL -------------------------------------------------------------
#
# Each builder takes a SQL expression of type VARCHAR (best a plain column reference: the
# expression is repeated) and returns an expression. ``install_macros`` wraps them as DuckDB
# macros (``gs_id_reason(x, as_of)`` ...) for hand-written SQL.


def sql_literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_date(value: dt.date) -> str:
    return f"DATE '{value.isoformat()}'"


def id_check_char_sql(x: str) -> str:
    """SQL for the check character of the 17 digits at the start of ``x`` (assumed digits).

    The digits are taken from the 17-digit prefix as one BIGINT by integer division: three times
    faster in DuckDB than 17 ``substr`` calls."""
    n = f"TRY_CAST(substr({x}, 1, 17) AS BIGINT)"
    terms = " + ".join(f"(({n} // {10 ** (16 - i)}) % 10) * {w}" for i, w in enumerate(ID_WEIGHTS))
    return f"substr('{ID_CHECK_CHARS}', ({terms}) % 11 + 1, 1)"


def id_number_reason_sql(x: str, as_of: str) -> str:
    """SQL twin of :func:`id_number_reason`; ``as_of`` is a SQL DATE expression.

    The check-digit test sits in a CASE of its own, outside the chain of the others: nested as
    the chain's last branch it ran ten times slower in DuckDB (its repeated sub-expression is not
    shared there)."""
    prefixes = ", ".join(sql_literal(p) for p in sorted(PROVINCE_PREFIXES))
    birth = f"TRY_CAST(substr({x}, 7, 4) || '-' || substr({x}, 11, 2) || '-' || substr({x}, 13, 2) AS DATE)"
    return (
        f"coalesce(CASE WHEN {x} IS NULL OR {x} = '' THEN 'blank' "
        f"WHEN length({x}) = 15 AND regexp_full_match({x}, '[0-9]{{15}}') THEN 'old_15' "
        f"WHEN length({x}) <> 18 THEN 'length' "
        f"WHEN NOT regexp_full_match({x}, '[0-9]{{17}}[0-9X]') THEN 'chars' "
        f"WHEN substr({x}, 1, 2) NOT IN ({prefixes}) THEN 'region' "
        f"WHEN coalesce({birth} NOT BETWEEN {sql_date(EARLIEST_BIRTH)} AND {as_of}, true) THEN 'birth_date' END, "
        f"CASE WHEN substr({x}, 18, 1) <> {id_check_char_sql(x)} THEN 'check_digit' END)"
    )


def upgrade_id_15_sql(x: str) -> str:
    """SQL: the 18-digit number when ``x`` is a 15-digit one with a real 19xx birth date, else ``x``."""
    first17 = f"(substr({x}, 1, 6) || '19' || substr({x}, 7))"
    birth = f"TRY_CAST('19' || substr({x}, 7, 2) || '-' || substr({x}, 9, 2) || '-' || substr({x}, 11, 2) AS DATE)"
    return (
        f"CASE WHEN length({x}) = 15 AND regexp_full_match({x}, '[0-9]{{15}}') AND {birth} IS NOT NULL "
        f"THEN {first17} || {id_check_char_sql(first17)} ELSE {x} END"
    )


def uscc_check_char_sql(x: str) -> str:
    """SQL for the check character of the first 17 characters of ``x`` (assumed in the alphabet)."""
    terms = " + ".join(
        f"(instr('{USCC_ALPHABET}', substr({x}, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(USCC_WEIGHTS)
    )
    return f"substr('{USCC_ALPHABET}', (31 - ({terms}) % 31) % 31 + 1, 1)"


def uscc_reason_sql(x: str) -> str:
    """SQL twin of :func:`uscc_reason`."""
    return (
        f"coalesce(CASE WHEN {x} IS NULL OR {x} = '' THEN 'blank' "
        f"WHEN length({x}) <> 18 THEN 'length' "
        f"WHEN NOT regexp_full_match({x}, '[{USCC_ALPHABET}]{{18}}') THEN 'chars' END, "
        f"CASE WHEN substr({x}, 18, 1) <> {uscc_check_char_sql(x)} THEN 'check_digit' END)"
    )


def region_code_reason_sql(x: str, known_table: str | None = None, known_column: str = "code") -> str:
    """SQL twin of :func:`region_code_reason`; the known codes, when given, are a table's column."""
    unknown = f"WHEN {x} NOT IN (SELECT {known_column} FROM {known_table}) THEN 'unknown' " if known_table else ""
    return (
        f"CASE WHEN {x} IS NULL OR {x} = '' THEN 'blank' "
        f"WHEN NOT regexp_full_match({x}, '[0-9]{{6}}') THEN 'format' "
        f"{unknown}END"
    )


def install_macros(con) -> None:  # type: ignore[no-untyped-def]
    """Create the checks as temporary DuckDB macros on ``con``: ``gs_id_check_char(first17)``,
    ``gs_id_reason(x, as_of)``, ``gs_id_upgrade(x)``, ``gs_uscc_reason(x)``, ``gs_region_reason(x)``."""
    macros = {
        "gs_id_check_char(x)": id_check_char_sql("x"),
        "gs_id_reason(x, as_of)": id_number_reason_sql("x", "as_of"),
        "gs_id_upgrade(x)": upgrade_id_15_sql("x"),
        "gs_uscc_reason(x)": uscc_reason_sql("x"),
        "gs_region_reason(x)": region_code_reason_sql("x"),
    }
    for signature, body in macros.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {signature} AS ({body})")
