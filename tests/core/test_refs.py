"""core.refs: the one place request text becomes a number or a row id; never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govshare.core.refs import ID_MAX, ascii_int, id_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        (" 7 ", 7),
        (7, 7),
        # str.isdigit() is true for these, int() refuses them (the 500 of issue #8)
        ("¹", None),
        ("²³", None),
        ("①", None),
        # int() reads these; a reference or a count in a request is ASCII
        ("٣", None),
        ("１２", None),
        ("1_000", None),
        ("+1", None),
        ("-1", None),
        ("", None),
        ("   ", None),
        ("1.0", None),
        ("abc", None),
        (None, None),
        (True, None),
        (1.0, None),
        ("9" * 20, None),
        ("9" * 5000, None),  # beyond 64 bits; beyond int()'s 4,300 digits
    ],
)
def test_ascii_int(text, expected):
    assert ascii_int(text) == expected


def test_range_is_checked():
    assert ascii_int("5", minimum=1, maximum=5) == 5
    assert ascii_int("6", minimum=1, maximum=5) is None
    assert ascii_int(0, minimum=1) is None


def test_ids_are_32_bit_and_positive():
    assert id_of("1") == 1
    assert id_of(str(ID_MAX)) == ID_MAX
    assert id_of(str(ID_MAX + 1)) is None  # beyond PostgreSQL's INTEGER: a code, not an id
    assert id_of("0") is None and id_of(-3) is None
    assert id_of("js-gat") is None and id_of("101-000001") is None


@given(st.text())
def test_never_raises_on_any_text(text):
    value = ascii_int(text)
    if value is not None:
        digits = text.strip()
        assert digits.isascii() and digits.isdigit() and int(digits) == value >= 0
