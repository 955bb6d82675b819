"""Ledger HTTP API: exact shapes, access, and proofs checked by independent code (Art 32, 34).

The proofs the API serves are checked against pymerkle (an independent RFC 9162 implementation)
and against the recursive definitions of RFC 9162 sections 2.1.3.1 and 2.1.4.1 written out
literally below; the checkpoint signature is checked with ``cryptography`` directly from the
C2SP signed-note and verifier-key formats, not with our note module.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pymerkle import InmemoryTree
from sqlalchemy.orm import Session

from govshare.core import events
from govshare.core.config import get_settings, reset_settings
from govshare.core.db import transaction
from tests.factories import person

# --- an independent reading of RFC 9162 and C2SP --------------------------------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf *data* (RFC 9162 section 2.1.1)."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return _h(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1."""
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return rfc_path(m, leaves[:k]) + [mth(leaves[k:])]
    return rfc_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def rfc_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = _split(n)
    if m <= k:
        return rfc_subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return rfc_subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def check_signed_checkpoint(text: str, vkey: str) -> tuple[str, int, bytes]:
    """Verify a C2SP checkpoint with the raw Ed25519 key from a vkey; return (origin, size, root)."""
    name, hex_id, encoded = vkey.split("+", 2)
    material = base64.b64decode(encoded)
    assert material[0] == 0x01 and len(material) == 33
    assert hashlib.sha256(name.encode() + b"\n" + material).digest()[:4].hex() == hex_id
    body, _, signatures = text.rpartition("\n\n")
    body += "\n"
    line = signatures.rstrip("\n").split("\n")[0]
    assert line.startswith(f"\u2014 {name} ")
    blob = base64.b64decode(line.split(" ")[2])
    assert blob[:4].hex() == hex_id
    Ed25519PublicKey.from_public_bytes(material[1:]).verify(blob[4:], body.encode())  # raises if invalid
    origin, size, root = body.rstrip("\n").split("\n")[:3]
    return origin, int(size), base64.b64decode(root)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def ledger_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def apply(**values: object) -> None:
        for key, value in values.items():
            monkeypatch.setenv(f"GOVSHARE_{key.upper()}", str(value))
        reset_settings()

    yield apply
    monkeypatch.undo()
    reset_settings()


def add_events(session: Session, regions: list[str | None], agency: str | None = None) -> None:
    for i, region in enumerate(regions):
        events.record(
            session,
            actor=events.SYSTEM,
            action="test.ledger",
            subject_type="thing",
            subject_id=i,
            data={"i": i},
            region_code=region,
            agency_code=agency,
        )
    session.commit()


def all_entries(client, headers) -> list[dict]:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/ledger/entries", params={"start": 0, "end": 1000}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


# --- tests ------------------------------------------------------------------------------------


def test_checkpoint_vkey_entries_and_proofs_verify_independently(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    add_events(session, ["320500", None, "320100", "320508"])
    r = client.post("/api/v1/ledger/checkpoint", headers=world.h("supervisor"))
    assert r.status_code == 201, r.text
    r = client.get("/api/v1/ledger/checkpoint")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    vkey = client.get("/api/v1/ledger/vkey").text
    assert vkey == get_settings().resolved_ledger_origin + vkey[len(get_settings().resolved_ledger_origin) :]
    origin, size, root = check_signed_checkpoint(r.text, vkey)
    assert origin == get_settings().resolved_ledger_origin == vkey.split("+")[0]

    entries = all_entries(client, world.h("supervisor"))  # the province sees everything
    assert [e["index"] for e in entries] == list(range(size))
    first = entries[0]
    assert set(first) >= {
        "index",
        "leaf_data",
        "occurred_at",
        "actor",
        "actor_name",
        "action",
        "subject_type",
        "subject_id",
        "region_code",
        "agency_code",
        "data",
    }
    leaves = [base64.b64decode(e["leaf_data"]) for e in entries]
    assert mth(leaves) == root

    reference = InmemoryTree(algorithm="sha256")
    for leaf in leaves:
        reference.append_entry(leaf)
    assert reference.get_root(size) == root

    for n in sorted({1, 2, 3, 5, size // 2, size - 1, size}):
        for i in range(n):
            r = client.get("/api/v1/ledger/proof/inclusion", params={"index": i, "tree_size": n})
            assert r.status_code == 200, r.text
            body = r.json()
            assert set(body) == {"index", "tree_size", "path"} and (body["index"], body["tree_size"]) == (i, n)
            path = [base64.b64decode(p) for p in body["path"]]
            assert path == rfc_path(i, leaves[:n])
            assert reference.prove_inclusion(i + 1, n).path[1:] == path  # pymerkle: [leaf hash, *PATH]
        for m in range(0, n + 1):
            r = client.get("/api/v1/ledger/proof/consistency", params={"first": m, "second": n})
            assert r.status_code == 200, r.text
            body = r.json()
            assert set(body) == {"first", "second", "path"} and (body["first"], body["second"]) == (m, n)
            expected = [] if m in (0, n) else rfc_subproof(m, leaves[:n], True)
            assert [base64.b64decode(p) for p in body["path"]] == expected


def test_entries_are_scoped_to_the_callers_region(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    add_events(session, ["320500", "320508", "320100", None], agency=None)
    token = person(session, "sz_super", "supervisor", region="320500")
    session.commit()
    everything = all_entries(client, world.h("province_authority"))
    by_index = {e["index"]: e for e in everything}
    assert any(e["region_code"] is None for e in everything)  # people and the platform itself

    agency_region = {"js-dsj": "320000", "js-gat": "320000", "nj-sj": "320100", "sz-sj": "320500", "sz-dsj": "320500"}

    def regions(headers) -> set:  # type: ignore[no-untyped-def]
        """The regions of the entries seen (an agency's event without a region: the agency's)."""
        seen = [by_index[e["index"]] for e in all_entries(client, headers)]
        return {e["region_code"] or agency_region.get(e["agency_code"]) for e in seen}

    assert regions({"Authorization": f"Bearer {token}"}) == {"320500", "320508"}
    assert regions(world.h("suzhou_authority")) == {"320500", "320508"}
    assert regions(world.h("nanjing_authority")) == {"320100"}
    assert None in regions(world.h("supervisor"))

    # An agency's event that names no region belongs to the agency's region.
    ev = events.record(
        session,
        actor=events.SYSTEM,
        action="test.agency_only",
        subject_type="thing",
        subject_id="x",
        agency_code="sz-sj",
    )
    session.commit()
    for who, sees in (("suzhou_authority", True), ("nanjing_authority", False), ("supervisor", True)):
        assert (ev.seq in {e["index"] for e in all_entries(client, world.h(who))}) is sees, who


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (None, 401),
        ("gat_staff", 403),
        ("gat_admin", 403),
        ("szsj_admin", 403),
        ("secrecy", 403),
        ("supervisor", 200),
        ("suzhou_authority", 200),
    ],
)
def test_only_supervisors_and_authorities_read_entries(client, world, who, expected) -> None:  # type: ignore[no-untyped-def]
    headers = world.h(who) if who else {}
    r = client.get("/api/v1/ledger/entries", params={"start": 0, "end": 10}, headers=headers)
    assert r.status_code == expected, r.text
    if expected != 200:
        assert r.headers["content-type"].startswith("application/problem+json")


def test_entries_page_is_capped_at_1000(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    add_events(session, ["320000"] * 1100)
    r = client.get("/api/v1/ledger/entries", params={"start": 50, "end": 5000}, headers=world.h("supervisor"))
    assert r.status_code == 200
    indices = [e["index"] for e in r.json()["entries"]]
    assert indices == list(range(50, 1050))
    assert "1000" in client.get("/openapi.json").json()["paths"]["/api/v1/ledger/entries"]["get"]["description"]
    r = client.get("/api/v1/ledger/entries", params={"start": 9, "end": 9}, headers=world.h("supervisor"))
    assert r.status_code == 422 and r.json()["field"] == "end"


def test_proofs_beyond_the_integrated_tree_are_refused(client, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/ledger/checkpoint", headers=world.h("supervisor"))
    size = int(client.get("/api/v1/ledger/checkpoint").text.split("\n")[1])
    add_events(session, ["320000"] * 3)  # committed, not integrated yet
    cases = [
        (
            "/api/v1/ledger/proof/inclusion",
            {"index": 0, "tree_size": size + 1},
            "ledger.tree_size_beyond_log",
            "tree_size",
        ),
        ("/api/v1/ledger/proof/consistency", {"first": 1, "second": size + 2}, "ledger.tree_size_beyond_log", "second"),
        (
            "/api/v1/ledger/proof/consistency",
            {"first": size + 1, "second": size + 1},
            "ledger.tree_size_beyond_log",
            "second",
        ),
        ("/api/v1/ledger/proof/inclusion", {"index": size, "tree_size": size}, "ledger.index_out_of_range", "index"),
        ("/api/v1/ledger/proof/consistency", {"first": 3, "second": 2}, "ledger.first_after_second", "first"),
        ("/api/v1/ledger/proof/inclusion", {"index": -1, "tree_size": 2}, "request.invalid", "index"),
        ("/api/v1/ledger/proof/consistency", {"first": "x", "second": 2}, "request.invalid", "first"),
    ]
    for url, params, code, field in cases:
        r = client.get(url, params=params)
        assert r.status_code == 422, (url, params, r.text)
        body = r.json()
        assert (body["code"], body["field"]) == (code, field)
    r = client.get("/api/v1/ledger/proof/inclusion", params={"index": 0, "tree_size": size + 1})
    assert r.json()["tree_size_available"] == size and r.json()["article"] == "Art 32"


def test_checkpoint_answers_before_and_after_the_first_one(client, world) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/ledger/checkpoint")
    assert r.status_code == 404 and r.json()["code"] == "ledger.no_checkpoint"
    assert client.post("/api/v1/ledger/checkpoint").status_code == 401
    assert client.post("/api/v1/ledger/checkpoint", headers=world.h("gat_admin")).status_code == 403
    r = client.post("/api/v1/ledger/checkpoint", headers=world.h("suzhou_authority"))
    assert r.status_code == 201
    size = int(r.text.split("\n")[1])
    assert client.get(f"/api/v1/ledger/checkpoints/{size}").text == r.text
    assert client.get("/api/v1/ledger/checkpoints/999999").status_code == 404


def test_background_task_integrates_and_checkpoints_every_n_events(ledger_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from govshare.app import create_app

    key = tmp_path / "bg" / "ledger.key"
    ledger_env(ledger_background="true", ledger_checkpoint_every_events=3, ledger_key_path=key)
    with TestClient(create_app()) as client:
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600  # created on start
        with transaction() as s:
            for i in range(7):
                events.record(s, actor=events.SYSTEM, action="test.bg", subject_type="thing", subject_id=i)
        deadline = time.monotonic() + 15
        sizes: list[int] = []
        while time.monotonic() < deadline:
            sizes = [s for s in (3, 6) if client.get(f"/api/v1/ledger/checkpoints/{s}").status_code == 200]
            if sizes == [3, 6]:
                break
            time.sleep(0.1)
        assert sizes == [3, 6]
        r = client.get("/api/v1/ledger/proof/inclusion", params={"index": 6, "tree_size": 7})
        deadline = time.monotonic() + 5
        while r.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            r = client.get("/api/v1/ledger/proof/inclusion", params={"index": 6, "tree_size": 7})
        assert r.status_code == 200
