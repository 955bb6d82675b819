"""The gateway's hot-path helpers: answers written by orjson, with the standard library for what
orjson refuses (integers beyond 64 bits), and purposes decoded once."""

from __future__ import annotations

import json

import pytest

from govshare.core.errors import InvalidInput
from govshare.exchange.gateway.app import _dumps, _purpose


def test_dumps_is_compact_utf8_and_round_trips():
    value = {"姓名": "张三", "n": 2**70, "rows": [{"a": None, "b": 1.5}]}
    out = _dumps(value)
    assert json.loads(out) == value
    assert "张三".encode() in out and b" " not in out


def test_purpose_is_decoded_once_and_refused_when_not_utf8():
    assert _purpose("%E6%9C%80%E4%BD%8E%E7%94%9F%E6%B4%BB%E4%BF%9D%E9%9A%9C") == "最低生活保障"
    assert _purpose(" plain ") == "plain"
    with pytest.raises(InvalidInput) as err:
        _purpose("%FF%FE")
    assert err.value.field == "X-Govshare-Purpose"


def test_a_long_number_from_a_provider_reaches_the_consumer_exactly():
    """Parsing stays with json.loads: orjson would read this integer as a float."""
    body = b'{"id": 123456789012345678901234567890}'
    assert json.loads(_dumps(json.loads(body))) == {"id": 123456789012345678901234567890}
