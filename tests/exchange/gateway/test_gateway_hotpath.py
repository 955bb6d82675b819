"""The gateway's hand-tuned hot-path pieces equal their plain references for any input: the subject
digest (RFC 2104 HMAC from prepared pads) equals ``hmac.new``, and the subject values collected while
projecting equal a separate walk over the projected answer."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from govshare.exchange.gateway.recorder import SubjectHasher, subject_digest
from govshare.exchange.gateway.upstream import project


@given(key=st.binary(min_size=0, max_size=200), values=st.lists(st.text(max_size=30) | st.integers(), max_size=12))
def test_subject_hasher_is_hmac_sha256(key: bytes, values: list[Any]) -> None:
    expected: dict[str, None] = {}
    for v in values:
        if v is None or v == "":
            continue
        expected[hmac.new(key, str(v).strip().upper().encode(), hashlib.sha256).hexdigest()] = None
    assert SubjectHasher(key).digests(values) == list(expected)


def test_subject_digest_normalises_the_written_form() -> None:
    key = b"k" * 80  # longer than a block: hashed first, as HMAC does
    assert SubjectHasher(key).digests([" 32050819900307001x "]) == [subject_digest(key, "32050819900307001X")]


def _walk(value: Any, keys: set[str]) -> list[Any]:
    """Reference: every str/int under one of ``keys`` anywhere in ``value``, depth first in order."""
    out: list[Any] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in keys and isinstance(v, (str, int)):
                out.append(v)
            elif isinstance(v, (dict, list)):
                out += _walk(v, keys)
    elif isinstance(value, list):
        for v in value:
            out += _walk(v, keys)
    return out


NAMES = {"公民身份号码": "公民身份号码", "id_number": "公民身份号码", "姓名": "姓名", "name": "姓名", "收入": "收入"}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from([*NAMES, "items", "total", "x"]), children, max_size=5)
    ),
    max_leaves=25,
)


@example(value={"公民身份号码": {"公民身份号码": False}}, granted={"公民身份号码"})  # a kept item holding an object
@settings(max_examples=500)
@given(value=json_values, granted=st.sets(st.sampled_from(["公民身份号码", "姓名", "收入"])))
def test_subjects_found_while_projecting_equal_a_walk_over_the_result(value: Any, granted: set[str]) -> None:
    subject_keys = {"公民身份号码", "id_number"}
    found: list[Any] = []
    projected = project(value, granted=granted, names=NAMES, subject_keys=subject_keys, found=found)
    assert sorted(map(str, found)) == sorted(map(str, _walk(projected, subject_keys)))
    assert project(value, granted=granted, names=NAMES) == projected
