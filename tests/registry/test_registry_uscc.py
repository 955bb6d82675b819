"""GB 32100-2015 unified social credit code: the check character catches every single-character
error (31 is prime and no weight is 0 mod 31), which the property tests below confirm."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from govshare.registry import rules
from govshare.registry.schemas import AgencyCreate

ALPHABET = rules.USCC_ALPHABET
#: Characters GB 32100 excludes, to check they are refused too.
EXCLUDED = "IOSVZ"

usccs = st.builds(
    rules.make_uscc,
    st.sampled_from(ALPHABET),  # registration authority
    st.sampled_from(ALPHABET),  # organisation type
    st.text("0123456789", min_size=6, max_size=6),  # region (GB/T 2260)
    st.text("0123456789", min_size=8, max_size=8),  # organisation code body (GB 11714)
)


def test_weights_and_alphabet_are_those_of_the_standard():
    # GB 32100-2015, 4.3: weights of positions 1..17 and the 31-character set.
    assert rules.USCC_WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert ALPHABET == "0123456789ABCDEFGHJKLMNPQRTUWXY"
    assert not set(EXCLUDED) & set(ALPHABET)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "11320000014000343H"])
def test_known_codes(code):
    assert rules.uscc_problem(code) is None
    assert rules.uscc_check_char(code[:17]) == code[17]


def test_organisation_code_check_character():
    # GB 11714: weights 3 7 9 10 5 8 4 2, check = 11 - sum mod 11, 10 -> X, 11 -> 0.
    assert rules.org_code("00000000") == "000000000"
    assert rules.org_code("10000000") == "100000008"  # sum 3 -> 8
    assert rules.org_code("00000010") == "000000107"  # sum 4 -> 7
    assert rules.org_code("40000000") == "40000000X"  # sum 12, 12 mod 11 = 1 -> 10 -> X


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(usccs)
def test_made_codes_always_validate(code):
    assert len(code) == 18
    assert set(code) <= set(ALPHABET)
    assert rules.uscc_problem(code) is None
    assert AgencyCreate(code="x-1", uscc=code, name="测试机关", region_code="320000").uscc == code


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(usccs, st.integers(0, 17), st.sampled_from(ALPHABET + EXCLUDED))
def test_any_single_character_change_invalidates(code, position, replacement):
    if code[position] == replacement:
        replacement = ALPHABET[(ALPHABET.index(replacement) + 1) % len(ALPHABET)]
    changed = code[:position] + replacement + code[position + 1 :]
    assert changed != code
    assert rules.uscc_problem(changed) is not None
    with pytest.raises(ValidationError) as err:
        AgencyCreate(code="x-1", uscc=changed, name="测试机关", region_code="320000")
    assert err.value.errors()[0]["loc"] == ("uscc",)
