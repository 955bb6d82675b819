"""Tests of C2SP signed notes and checkpoints (govshare.supervision.note).

The known-answer vectors are those of golang.org/x/mod/sumdb/note (its package
documentation and note_test.go): the PeterNeumann signer/verifier keys, the
signature they produce (Ed25519 is deterministic) and the EnochRoot cosignature.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govshare.supervision.merkle import MemoryTree, leaf_hash
from govshare.supervision.note import (
    Checkpoint,
    CheckpointError,
    InsecureKeyFileError,
    InvalidSignatureError,
    KeyFormatError,
    MalformedNoteError,
    NoteError,
    NoteSignature,
    UnverifiedNoteError,
    VerifierKey,
    format_checkpoint,
    format_signer_key,
    format_verifier_key,
    generate_signer_key,
    is_valid_key_name,
    key_id,
    load_or_create_signing_key,
    load_signing_key,
    parse_checkpoint,
    parse_note,
    parse_signer_key,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verify_checkpoint,
    verify_note,
)

GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIGNATURE_LINE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_NOTE = GO_TEXT + "\n" + GO_SIGNATURE_LINE
ENOCH_VERIFIER_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_SIGNATURE_LINE = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

# The example checkpoint of c2sp.org/tlog-checkpoint.
SPEC_CHECKPOINT_NOTE = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "\u2014 example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


# ---------------------------------------------------------------------------
# Known answers
# ---------------------------------------------------------------------------


def test_go_reference_signature_is_reproduced() -> None:
    name, private_key = parse_signer_key(GO_SIGNER_KEY)
    assert name == "PeterNeumann"
    assert sign_note(GO_TEXT, name, private_key) == GO_NOTE
    assert format_signer_key(name, private_key) == GO_SIGNER_KEY
    assert format_verifier_key(name, private_key.public_key()) == GO_VERIFIER_KEY
    assert verify_note(GO_NOTE, GO_VERIFIER_KEY) == GO_TEXT
    assert verify_note(GO_NOTE.encode("utf-8"), GO_VERIFIER_KEY) == GO_TEXT


def test_key_id_computation() -> None:
    vkey = parse_verifier_key(GO_VERIFIER_KEY)
    raw = base64.b64decode(GO_VERIFIER_KEY.split("+", 2)[2])
    assert raw[0] == 0x01 and len(raw) == 33
    expected = hashlib.sha256(b"PeterNeumann\n" + raw).digest()[:4]
    assert vkey.key_id == expected == bytes.fromhex("c74f20a3")
    assert key_id("PeterNeumann", vkey.public_key) == expected
    assert key_id("PeterNeumann", raw[1:]) == expected


def test_cosigned_note_verifies_for_each_key() -> None:
    cosigned = GO_NOTE + ENOCH_SIGNATURE_LINE
    assert verify_note(cosigned, GO_VERIFIER_KEY) == GO_TEXT
    assert verify_note(cosigned, ENOCH_VERIFIER_KEY) == GO_TEXT
    parsed = parse_note(cosigned)
    assert parsed.text == GO_TEXT
    assert [s.name for s in parsed.signatures] == ["PeterNeumann", "EnochRoot"]
    assert "".join(s.line() for s in parsed.signatures) == GO_SIGNATURE_LINE + ENOCH_SIGNATURE_LINE


def test_spec_checkpoint_parses() -> None:
    note = parse_note(SPEC_CHECKPOINT_NOTE)
    checkpoint = parse_checkpoint(note.text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.text() == note.text
    origin, size, root = checkpoint  # unpacks as a plain (origin, size, root) tuple
    assert (origin, size, root) == tuple(checkpoint)
    # Signed by a key we do not know: ignored, hence unverified.
    _, other = generate_signer_key("example.com/behind-the-sofa")
    with pytest.raises(UnverifiedNoteError):
        verify_note(SPEC_CHECKPOINT_NOTE, other)


def test_note_text_may_contain_blank_lines() -> None:
    name, private_key = parse_signer_key(GO_SIGNER_KEY)
    text = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    note = sign_note(text, name, private_key)
    assert parse_note(note).text == text
    assert verify_note(note, GO_VERIFIER_KEY) == text


# ---------------------------------------------------------------------------
# Sign and verify
# ---------------------------------------------------------------------------


def test_sign_then_verify(key: Ed25519PrivateKey) -> None:
    name = "govshare.example/log"
    vkey = format_verifier_key(name, key.public_key())
    note = sign_note("hello\nworld\n", name, key)
    assert note.startswith("hello\nworld\n\n\u2014 govshare.example/log ")
    blob = base64.b64decode(note.rsplit(" ", 1)[1])
    assert len(blob) == 4 + 64
    assert blob[:4] == key_id(name, key.public_key())
    assert verify_note(note, vkey) == "hello\nworld\n"
    assert verify_note(note, parse_verifier_key(vkey)) == "hello\nworld\n"


def test_modified_text_fails(key: Ed25519PrivateKey) -> None:
    vkey = format_verifier_key("log", key.public_key())
    note = sign_note("size 10\n", "log", key)
    with pytest.raises(InvalidSignatureError):
        verify_note(note.replace("size 10", "size 11"), vkey)
    with pytest.raises(InvalidSignatureError):
        verify_note("extra\n" + note, vkey)


def test_modified_signature_fails(key: Ed25519PrivateKey) -> None:
    vkey = format_verifier_key("log", key.public_key())
    note = sign_note("text\n", "log", key)
    head, blob = note[:-1].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 0x01
    with pytest.raises(InvalidSignatureError):
        verify_note(f"{head} {base64.b64encode(bytes(raw)).decode()}\n", vkey)
    # A truncated signature from the right key is rejected, not ignored.
    with pytest.raises(InvalidSignatureError):
        verify_note(f"{head} {base64.b64encode(bytes(raw[:40])).decode()}\n", vkey)
    # A second, bad signature line from the same key poisons the note.
    with pytest.raises(InvalidSignatureError):
        verify_note(note + f"\u2014 log {base64.b64encode(bytes(raw)).decode()}\n", vkey)


def test_wrong_key_or_name_is_unverified(key: Ed25519PrivateKey) -> None:
    note = sign_note("text\n", "log", key)
    _, other_vkey = generate_signer_key("log")
    with pytest.raises(UnverifiedNoteError):
        verify_note(note, other_vkey)
    with pytest.raises(UnverifiedNoteError):
        verify_note(note, format_verifier_key("other-log", key.public_key()))


@pytest.mark.parametrize(
    "note",
    [
        "",
        "text\n",
        "text\n\n",
        "text\n\n\u2014 log AAAA\n",  # too short
        "text\n\n- log " + base64.b64encode(bytes(68)).decode() + "\n",  # hyphen, not em dash
        "text\n\n\u2014 log " + base64.b64encode(bytes(68)).decode(),  # no final newline
        "text\n\n\u2014 log  " + base64.b64encode(bytes(68)).decode() + "\n",  # empty signature
        "text\n\n\u2014 lo+g " + base64.b64encode(bytes(68)).decode() + "\n",  # '+' in name
        "text\n\n\u2014 log !!!!\n",  # bad base64
        "te\x01xt\n\n\u2014 log " + base64.b64encode(bytes(68)).decode() + "\n",  # control char
        "text\n\n\u2014 log " + base64.b64encode(bytes(68)).decode() + "\n\n",  # blank line at the end
        "text\n\n" + ("\u2014 log " + base64.b64encode(bytes(68)).decode() + "\n") * 101,
    ],
)
def test_malformed_notes(note: str) -> None:
    with pytest.raises(MalformedNoteError):
        parse_note(note)
    with pytest.raises(NoteError):
        verify_note(note, GO_VERIFIER_KEY)


def test_invalid_utf8_note() -> None:
    with pytest.raises(MalformedNoteError):
        parse_note(b"text\xff\n\n\xe2\x80\x94 log AAAAAAAA\n")


def test_sign_rejects_bad_input(key: Ed25519PrivateKey) -> None:
    with pytest.raises(MalformedNoteError):
        sign_note("no final newline", "log", key)
    with pytest.raises(MalformedNoteError):
        sign_note("tab\there\n", "log", key)
    for name in ("", "with space", "with+plus", "new\nline", "nbsp\u00a0name"):
        assert not is_valid_key_name(name)
        with pytest.raises(KeyFormatError):
            sign_note("text\n", name, key)
    assert is_valid_key_name("example.com/log42")


# ---------------------------------------------------------------------------
# Key strings
# ---------------------------------------------------------------------------


def test_verifier_key_round_trip(key: Ed25519PrivateKey) -> None:
    vkey = format_verifier_key("gov.example/ledger", key.public_key())
    parsed = parse_verifier_key(vkey)
    assert parsed.name == "gov.example/ledger"
    assert str(parsed) == vkey
    built = VerifierKey.from_public_key("gov.example/ledger", key.public_key())
    assert (built.name, built.key_id, str(built)) == (parsed.name, parsed.key_id, vkey)
    assert format_verifier_key(parsed.name, parsed.public_key) == vkey
    # The key ID is stable: it depends only on the name and the public key.
    assert format_verifier_key("gov.example/ledger", key.public_key()) == vkey
    assert key_id("gov.example/ledger", key.public_key()) == key_id("gov.example/ledger", key.public_key())
    assert key_id("gov.example/other", key.public_key()) != parsed.key_id


def test_signer_key_round_trip(key: Ed25519PrivateKey) -> None:
    skey = format_signer_key("ledger", key)
    name, parsed = parse_signer_key(skey)
    assert name == "ledger"
    assert format_signer_key(name, parsed) == skey
    skey2, vkey2 = generate_signer_key("ledger")
    name2, key2 = parse_signer_key(skey2)
    assert verify_note(sign_note("x\n", name2, key2), vkey2) == "x\n"


@pytest.mark.parametrize(
    "vkey",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # short key ID
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # bad base64
        "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type 0x02
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short key
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
    ],
)
def test_malformed_verifier_keys(vkey: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_verifier_key(vkey)


def test_malformed_signer_keys() -> None:
    with pytest.raises(KeyFormatError):
        parse_signer_key(GO_VERIFIER_KEY)
    with pytest.raises(KeyFormatError):
        parse_signer_key(GO_SIGNER_KEY.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(KeyFormatError):
        parse_signer_key(GO_SIGNER_KEY.replace("PeterNeumann", "EnochRoot"))


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------


def test_checkpoint_round_trip(key: Ed25519PrivateKey) -> None:
    tree = MemoryTree(leaf_hash(b"event %d" % i) for i in range(11))
    checkpoint = Checkpoint("gov.example/ledger", tree.size, tree.root())
    text = format_checkpoint(*checkpoint)
    assert text == f"gov.example/ledger\n11\n{base64.b64encode(tree.root()).decode()}\n"
    assert parse_checkpoint(text) == checkpoint
    vkey = format_verifier_key("gov.example/ledger", key.public_key())
    note = sign_checkpoint(checkpoint, key)
    assert verify_checkpoint(note, vkey, "gov.example/ledger") == checkpoint
    with pytest.raises(CheckpointError):
        verify_checkpoint(note, vkey, "gov.example/other")
    empty = Checkpoint("gov.example/ledger", 0, MemoryTree().root())
    assert parse_checkpoint(empty.text()) == empty


@pytest.mark.parametrize(
    "text",
    [
        "origin\n10\n",
        "origin\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",  # no final newline
        "\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n010\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n+10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n1_0\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "origin\n\u0661\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # Arabic-Indic digit
        "origin\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",  # unpadded
        "origin\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",  # 31 bytes
        "origin\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",  # empty extension line
    ],
)
def test_malformed_checkpoints(text: str) -> None:
    with pytest.raises(CheckpointError):
        parse_checkpoint(text)


def test_checkpoint_extension_lines_are_ignored() -> None:
    text = "origin\n10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nTimestamp: 1\n"
    assert parse_checkpoint(text).size == 10


def test_format_checkpoint_validation() -> None:
    with pytest.raises(CheckpointError):
        format_checkpoint("", 1, bytes(32))
    with pytest.raises(CheckpointError):
        format_checkpoint("two\nlines", 1, bytes(32))
    with pytest.raises(CheckpointError):
        format_checkpoint("origin", -1, bytes(32))
    with pytest.raises(CheckpointError):
        format_checkpoint("origin", 1, bytes(31))


# ---------------------------------------------------------------------------
# Key files
# ---------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_key_file_is_created_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nested" / "ledger.pem"
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        key = load_or_create_signing_key(path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert [p.name for p in path.parent.iterdir()] == ["ledger.pem"]  # no temporary left behind
    again = load_or_create_signing_key(path)
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    assert again.public_key().public_bytes(*raw) == key.public_key().public_bytes(*raw)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_insecure_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.pem"
    load_or_create_signing_key(path)
    path.chmod(0o644)
    with pytest.raises(InsecureKeyFileError):
        load_or_create_signing_key(path)
    with pytest.raises(InsecureKeyFileError):
        load_signing_key(path)
    assert isinstance(load_signing_key(path, allow_insecure_permissions=True), Ed25519PrivateKey)


def test_key_file_accepts_signer_key_string(tmp_path: Path) -> None:
    path = tmp_path / "peter.key"
    path.write_text(GO_SIGNER_KEY + "\n")
    path.chmod(0o600)
    key = load_signing_key(path)
    assert format_verifier_key("PeterNeumann", key.public_key()) == GO_VERIFIER_KEY


def test_key_file_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "bad.pem"
    path.write_bytes(b"not a key")
    path.chmod(0o600)
    with pytest.raises(KeyFormatError):
        load_signing_key(path)


def test_signature_line_encoding() -> None:
    signature = NoteSignature("log", b"\x01\x02\x03\x04", bytes(64))
    blob = base64.b64encode(b"\x01\x02\x03\x04" + bytes(64)).decode()
    assert signature.line() == f"\u2014 log {blob}\n"
