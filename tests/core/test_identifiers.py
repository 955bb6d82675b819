"""GB 11643 identity numbers, GB 32100 credit codes and GB/T 2260 region codes, in Python and SQL."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govshare.core import identifiers as ids
from govshare.registry import rules as registry_rules

AS_OF = dt.date(2026, 11, 26)

# Published examples: GB 11643-1999's own example number, and a USCC from the registry's tests.
GB_EXAMPLE = "11010519491231002X"


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    ids.install_macros(c)
    return c


def sql_one(con: duckdb.DuckDBPyConnection, expr: str, *values: object) -> object:
    return con.execute(f"SELECT {expr}", list(values)).fetchone()[0]


# --- strategies ---------------------------------------------------------------------------------

regions = st.sampled_from(ids.SAMPLE_REGIONS + ("110105", "440305", "810000", "650102"))
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=AS_OF)
valid_ids = st.builds(ids.make_id_number, regions, births, st.integers(0, 999))
# Anything shaped a bit like an identity number, to exercise every branch of both versions.
id_like = st.one_of(
    valid_ids,
    st.text(alphabet="0123456789Xx１ ", min_size=0, max_size=20),
    st.text(min_size=0, max_size=19),
    valid_ids.map(lambda v: v[:17] + "x"),
    st.builds(lambda d, r: r + d.strftime("%y%m%d") + "123", births, regions),
)
uscc_chars = st.sampled_from(ids.USCC_ALPHABET)
valid_usccs = st.lists(uscc_chars, min_size=17, max_size=17).map(
    lambda cs: "".join(cs) + ids.uscc_check_char("".join(cs))
)
uscc_like = st.one_of(valid_usccs, st.text(alphabet=ids.USCC_ALPHABET + "IOSVZa ", max_size=20))


# --- identity numbers -----------------------------------------------------------------------------


def test_weights_and_the_standards_example() -> None:
    assert ids.ID_WEIGHTS == [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    assert ids.id_check_char(GB_EXAMPLE[:17]) == "X"
    assert ids.id_number_reason(GB_EXAMPLE, as_of=AS_OF) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "blank"),
        ("", "blank"),
        ("110105491231002", "old_15"),
        ("11010519491231002", "length"),
        ("11010519491231002XX", "length"),
        ("11010519491231002x", "chars"),
        ("1101051949123100２X", "chars"),
        ("99010519491231002X", "region"),
        ("110105194902300020", "birth_date"),  # 30 February
        ("110105189912310020", "birth_date"),  # before 1900
        ("110105203001010020", "birth_date"),  # after as_of
        ("110105194912310021", "check_digit"),
    ],
)
def test_reasons(con: duckdb.DuckDBPyConnection, value: str | None, reason: str) -> None:
    assert ids.id_number_reason(value, as_of=AS_OF) == reason
    assert sql_one(con, "gs_id_reason(?::VARCHAR, ?::DATE)", value, AS_OF) == reason
    assert reason in ids.REASONS


@given(valid_ids)
def test_generated_numbers_validate(number: str) -> None:
    assert ids.id_number_reason(number, as_of=AS_OF) is None


@given(valid_ids, st.integers(0, 17), st.integers(1, 10))
def test_any_single_character_change_is_refused(number: str, position: int, shift: int) -> None:
    # MOD 11-2 detects every single substitution: change one character to another allowed one.
    alphabet = "0123456789X" if position == 17 else "0123456789"
    old = number[position]
    new = alphabet[(alphabet.index(old) + shift) % len(alphabet)]
    if new == old:
        return
    changed = number[:position] + new + number[position + 1 :]
    assert ids.id_number_reason(changed, as_of=AS_OF) is not None


@given(valid_ids.filter(lambda v: "1900" <= v[6:10] <= "1999"))
def test_15_to_18_round_trip(number: str) -> None:
    old = number[:6] + number[8:17]
    assert ids.id_number_reason(old, as_of=AS_OF) == "old_15"
    assert ids.upgrade_id_15(old) == number


def test_upgrade_refuses_what_is_not_a_15_digit_number() -> None:
    for bad in ("11010549123100", "1101054912310021", "110105491331002", "11010549123100X"):
        with pytest.raises(ValueError):
            ids.upgrade_id_15(bad)


def test_generator_is_deterministic_distinct_and_valid() -> None:
    a = ids.generate_id_numbers(500, seed=7)
    assert a == ids.generate_id_numbers(500, seed=7)
    assert a != ids.generate_id_numbers(500, seed=8)
    assert len(set(a)) == 500
    assert all(ids.id_number_reason(n, as_of=AS_OF) is None for n in a)
    assert all(n[:6] in ids.SAMPLE_REGIONS for n in a)


# --- credit codes -------------------------------------------------------------------------------


def test_registry_rules_use_the_moved_algorithm() -> None:
    assert registry_rules.uscc_check_char is ids.uscc_check_char
    assert registry_rules.uscc_problem is ids.uscc_problem
    assert registry_rules.make_uscc is ids.make_uscc


@given(valid_usccs, st.integers(0, 17), st.integers(1, 30))
def test_uscc_single_character_change_is_refused(code: str, position: int, shift: int) -> None:
    assert ids.uscc_reason(code) is None
    a = ids.USCC_ALPHABET
    changed = code[:position] + a[(a.index(code[position]) + shift) % 31] + code[position + 1 :]
    assert ids.uscc_reason(changed) == "check_digit"


# --- SQL and Python agree -----------------------------------------------------------------------

SQL_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SQL_SETTINGS
@given(id_like)
def test_sql_id_reason_agrees(con: duckdb.DuckDBPyConnection, value: str) -> None:
    assert sql_one(con, "gs_id_reason(?::VARCHAR, ?::DATE)", value, AS_OF) == ids.id_number_reason(value, as_of=AS_OF)


@SQL_SETTINGS
@given(st.one_of(valid_ids.map(lambda v: v[:6] + v[8:17]), st.text(alphabet="0123456789", max_size=16)))
def test_sql_upgrade_agrees(con: duckdb.DuckDBPyConnection, value: str) -> None:
    try:
        expected = ids.upgrade_id_15(value)
    except ValueError:
        expected = value  # the SQL rule leaves anything else alone
    assert sql_one(con, "gs_id_upgrade(?::VARCHAR)", value) == expected


@SQL_SETTINGS
@given(st.lists(st.sampled_from("0123456789"), min_size=17, max_size=17).map("".join))
def test_sql_check_char_agrees(con: duckdb.DuckDBPyConnection, first17: str) -> None:
    assert sql_one(con, "gs_id_check_char(?::VARCHAR)", first17) == ids.id_check_char(first17)


@SQL_SETTINGS
@given(uscc_like)
def test_sql_uscc_reason_agrees(con: duckdb.DuckDBPyConnection, value: str) -> None:
    assert sql_one(con, "gs_uscc_reason(?::VARCHAR)", value) == ids.uscc_reason(value)


@SQL_SETTINGS
@given(
    st.one_of(st.sampled_from(["320000", "320500", "320508", "999999"]), st.text(alphabet="0123456789a５", max_size=7))
)
def test_sql_region_reason_agrees(con: duckdb.DuckDBPyConnection, value: str) -> None:
    known = {"320000", "320500", "320508"}
    con.execute("CREATE OR REPLACE TEMP TABLE known_regions AS SELECT unnest(?::VARCHAR[]) AS code", [sorted(known)])
    assert sql_one(con, "gs_region_reason(?::VARCHAR)", value) == ids.region_code_reason(value)
    sql = ids.region_code_reason_sql("v", "known_regions")
    got = con.execute(f"SELECT {sql} FROM (SELECT ?::VARCHAR AS v)", [value]).fetchone()[0]
    assert got == ids.region_code_reason(value, known)


def test_sql_validates_a_column_in_one_query(con: duckdb.DuckDBPyConnection) -> None:
    numbers = ids.generate_id_numbers(2000, seed=3)
    broken = [n[:17] + ("0" if n[17] != "0" else "1") for n in numbers[:37]]
    rows = con.execute(
        "SELECT gs_id_reason(v, ?::DATE) AS r, count(*) FROM unnest(?::VARCHAR[]) t(v) GROUP BY r ORDER BY r",
        [AS_OF, numbers[37:] + broken],
    ).fetchall()
    assert rows == [("check_digit", 37), (None, 1963)]
