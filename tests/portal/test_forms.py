"""The shared readers of page forms: trimmed text per field, and whole numbers taken only as plain
ASCII digits of bounded length (a full-width digit, a sign or an overlong value is None, which the
pages answer as a form error)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from govshare.portal.forms import form_values, offset_param, whole


def test_form_values_trims_and_fills_absent_fields():
    assert form_values({"a": "  x ", "b": None}, ("a", "b", "c")) == {"a": "x", "b": "", "c": ""}


def test_whole_takes_plain_digits_of_bounded_length_only():
    assert whole("0") == 0 and whole("123456789") == 123456789
    for bad in ("", "-1", "+1", "1.0", " 1", "１２", "٣", "1234567890", "1e3"):
        assert whole(bad) is None, bad
    assert whole("123456", max_digits=6) == 123456 and whole("1234567", max_digits=6) is None


@given(st.text(max_size=12))
def test_whole_never_raises_and_agrees_with_int_on_what_it_takes(raw):
    got = whole(raw)
    if got is not None:
        assert got == int(raw) and raw.isascii() and len(raw) <= 9


def _request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query.encode(), "headers": []})


def test_offset_param():
    assert offset_param(_request("offset=50")) == 50
    assert offset_param(_request("")) == 0
    assert offset_param(_request("offset=-5")) == 0
    assert offset_param(_request("offset=%EF%BC%95")) == 0  # a full-width digit
