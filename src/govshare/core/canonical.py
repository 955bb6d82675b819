"""Canonical bytes of events: RFC 8785 (JSON Canonicalization Scheme), the supervision ledger's leaves.

``canonical_bytes`` is the reference: it normalises the values (``jsonable``) and serialises with
the ``rfc8785`` package. ``event_bytes`` gives the same bytes and is what writers and verifiers
call: for the common case (strings, booleans, null, safe integers; no floats, no keys beyond the
BMP) it assembles them with the standard library's C encoder, several times faster, and otherwise
falls back to the reference. Property tests hold the two equal on arbitrary values.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import json
import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import rfc8785

#: Largest integer an IEEE 754 double holds exactly (I-JSON, RFC 7493; RFC 8785 relies on it).
MAX_SAFE_INTEGER = 2**53 - 1


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


def _flat(d: dict[Any, Any]) -> bool:
    """Text keys and values that are their own JSON form: text, None, booleans, safe integers."""
    for k, v in d.items():
        if type(k) is not str:
            return False
        t = type(v)
        if not (t is str or v is None or t is bool or (t is int and -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER)):
            return False
    return True


def jsonable(value: Any) -> Any:
    """``value`` as JSON values RFC 8785 can serialise, objects with their keys in sorted order.

    Sorted keys make the event's ``data`` column, written by ``json_text``, the very text its
    canonical form holds (for ``plain`` data), which lets verification compare text instead of
    parsing it (``supervision.verify``).
    """
    if type(value) is dict and _flat(value):
        return dict(sorted(value.items()))  # the common case, in a third of the time (the gateway's call events)
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in sorted(((str(k), v) for k, v in value.items()), key=_first)}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)  # RFC 8785 has no NaN or infinity
        return int(value) if value.is_integer() else value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        return str(value)  # beyond 2^53 a JSON number is not exact (RFC 8785 uses IEEE 754 doubles)
    return value


def canonical_bytes(
    *,
    seq: int,
    occurred_at: dt.datetime,
    actor: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region_code: str | None,
    agency_code: str | None,
    data: Mapping[str, Any],
) -> bytes:
    """RFC 8785 canonical JSON of everything the event says; the ledger leaf data."""
    return rfc8785.dumps(
        {
            "seq": seq,
            "time": jsonable(occurred_at),
            "actor": actor,
            "actor_name": actor_name,
            "action": action,
            "subject": {"type": subject_type, "id": subject_id},
            "region": region_code,
            "agency": agency_code,
            "data": jsonable(data),
        }
    )


_encode_string = json.encoder.encode_basestring  # RFC 8785 string escaping (no ASCII-only escaping)


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


def _make_plain_encoder() -> Callable[[Any], str]:
    """Sorted, compact, non-ASCII-escaping JSON: RFC 8785 for ``plain`` values. The C encoder is
    built once (``JSONEncoder.encode`` builds it on every call, a third of its cost here)."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # pragma: no cover - CPython always has it
        return json.JSONEncoder(
            ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
        ).encode
    encode = c_make_encoder(None, _not_json, _encode_string, None, ":", ",", True, False, False)
    return lambda value: "".join(encode(value, 0))


_encode_plain = _make_plain_encoder()


def plain(value: Any) -> bool:
    """True for JSON values on which the standard library's sorted, compact encoding *is* RFC 8785:
    strings, booleans, null, integers within ±(2**53 - 1), and arrays and objects of them whose keys
    have no character beyond the BMP (so UTF-16 and code-point key orders agree). Floats are not."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or all(ord(c) < 0x10000 for c in key)):
                return False
            if not plain(item):
                return False
        return True
    if kind is list:
        return all(plain(item) for item in value)
    return False


def assemble(
    seq: int,
    occurred_at: dt.datetime,
    actor: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region_code: str | None,
    agency_code: str | None,
    data: Any,
) -> bytes:
    """The canonical bytes of ``canonical_bytes`` for ``plain`` data: the members in
    RFC 8785 order (all keys are ASCII), strings escaped as RFC 8785 does."""
    return assemble_stamped(
        seq, utc_stamp(occurred_at), actor, actor_name, action, subject_type, subject_id, region_code, agency_code, data
    )


def utc_stamp(occurred_at: dt.datetime) -> str:
    """An event's time as the canonical form writes it: UTC, ISO 8601, "Z"."""
    stamp = occurred_at.isoformat()
    if stamp.endswith("+00:00"):
        return stamp[:-6] + "Z"
    return occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def event_parts(
    occurred_at: dt.datetime,
    actor: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region_code: str | None,
    agency_code: str | None,
    data: Any,
) -> tuple[str, str] | None:
    """``around_seq`` from an event's column values, for ``plain`` data; None otherwise (the caller
    then numbers the event first and takes ``event_bytes``)."""
    if not plain(data):
        return None
    return around_seq(
        utc_stamp(occurred_at),
        actor,
        actor_name,
        action,
        subject_type,
        subject_id,
        region_code,
        agency_code,
        _encode_plain(data),
    )


def assemble_stamped(
    seq: int,
    stamp: str,
    actor: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region_code: str | None,
    agency_code: str | None,
    data: Any,
) -> bytes:
    """``assemble`` with the time already written as the canonical form does (UTC, ISO 8601, "Z")."""
    return assemble_text(
        seq, stamp, actor, actor_name, action, subject_type, subject_id, region_code, agency_code, _encode_plain(data)
    )


def assemble_text(
    seq: int,
    stamp: str,
    actor: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region_code: str | None,
    agency_code: str | None,
    data_text: str,
) -> bytes:
    """``assemble_stamped`` with the data already serialised: ``data_text`` is put in as it is."""
    head, tail = around_seq(
        stamp, actor, actor_name, action, subject_type, subject_id, region_code, agency_code, data_text
    )
    return f"{head}{seq}{tail}".encode()


def around_seq(
    stamp: str,
    actor: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region_code: str | None,
    agency_code: str | None,
    data_text: str,
) -> tuple[str, str]:
    """The canonical text before and after the sequence number, for a writer that learns the number
    only on the server (the gateway's call recorder): the canonical bytes are
    ``(head + str(seq) + tail).encode()``; the number is the only member that varies between them."""
    s = _encode_string
    head = (
        f'{{"action":{s(action)},"actor":{s(actor)},"actor_name":{s(actor_name)},'
        f'"agency":{"null" if agency_code is None else s(agency_code)},"data":{data_text},'
        f'"region":{"null" if region_code is None else s(region_code)},"seq":'
    )
    tail = f',"subject":{{"id":{s(subject_id)},"type":{s(subject_type)}}},"time":{s(stamp)}}}'
    return head, tail


def json_text(value: Any) -> str:
    """How JSON columns are written (the engines' ``json_serializer``): compact, non-ASCII kept,
    keys in the order given. For ``plain`` values with sorted keys this is their RFC 8785 form."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def fast_canonical(
    seq: int,
    occurred_at: dt.datetime,
    actor: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region_code: str | None,
    agency_code: str | None,
    data: Any,
) -> bytes | None:
    """``canonical_bytes`` for the common case, several times faster; None when the
    event holds a value outside ``plain`` (the caller then uses the exact implementation)."""
    if type(seq) is not int or not 0 <= seq <= MAX_SAFE_INTEGER or not plain(data):
        return None
    try:
        return assemble(
            seq, occurred_at, actor, actor_name, action, subject_type, subject_id, region_code, agency_code, data
        )
    except (UnicodeEncodeError, TypeError, ValueError):
        return None


def event_bytes(
    seq: int,
    occurred_at: dt.datetime,
    actor: str,
    actor_name: str,
    action: str,
    subject_type: str,
    subject_id: str,
    region_code: str | None,
    agency_code: str | None,
    data: Any,
) -> bytes:
    """The event's canonical bytes from its column values (raises if they cannot be canonicalised)."""
    fast = fast_canonical(
        seq, occurred_at, actor, actor_name, action, subject_type, subject_id, region_code, agency_code, data
    )
    if fast is not None:
        return fast
    return canonical_bytes(
        seq=seq,
        occurred_at=occurred_at,
        actor=actor,
        actor_name=actor_name,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        region_code=region_code,
        agency_code=agency_code,
        data=data,
    )
