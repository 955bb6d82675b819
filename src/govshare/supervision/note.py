"""C2SP signed notes and transparency-log checkpoints with Ed25519.

Implements, with the ``cryptography`` package:

* signed notes (https://c2sp.org/signed-note): a UTF-8 text ending in a
  newline, a blank line, then one or more signature lines
  ``"\u2014 <key name> <base64(4-byte key ID || signature)>\\n"``;
* the Ed25519 signature type (0x01) with key ID
  ``SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]``;
* the verifier key encoding ``<name>+<8 hex key ID>+<base64(0x01 || public key)>``
  and the signer key encoding
  ``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || 32-byte seed)>``, both as
  used by golang.org/x/mod/sumdb/note;
* checkpoints (https://c2sp.org/tlog-checkpoint): the note text
  ``<origin>\\n<tree size>\\n<base64 root hash>\\n`` whose root hash is the
  RFC 9162 Merkle Tree Hash (see ``govshare.supervision.merkle``);
* a small key-file helper, ``load_or_create_signing_key``.

Every parsing or verification failure raises a subclass of ``NoteError``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ED25519_SIGNATURE_TYPE",
    "MAX_SIGNATURES",
    "Checkpoint",
    "CheckpointError",
    "InsecureKeyFileError",
    "InvalidSignatureError",
    "KeyFormatError",
    "MalformedNoteError",
    "Note",
    "NoteError",
    "NoteSignature",
    "UnverifiedNoteError",
    "VerifierKey",
    "format_checkpoint",
    "format_signer_key",
    "format_verifier_key",
    "generate_signer_key",
    "is_valid_key_name",
    "key_id",
    "load_or_create_signing_key",
    "load_signing_key",
    "parse_checkpoint",
    "parse_note",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
    "verify_checkpoint",
    "verify_note",
]

ED25519_SIGNATURE_TYPE = 0x01
"""Signature type identifier byte of Ed25519 in the signed-note spec."""

MAX_SIGNATURES = 100
"""Upper bound on signature lines accepted in a note (the spec requires at least 16)."""

_SIGNATURE_PREFIX = "\u2014 "  # em dash, space
_SIGNER_KEY_PREFIX = "PRIVATE+KEY+"
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class NoteError(ValueError):
    """Base class of signed-note and checkpoint errors."""


class MalformedNoteError(NoteError):
    """The note does not follow the signed-note format."""


class KeyFormatError(NoteError):
    """A verifier or signer key string, or a key file, is malformed."""


class InvalidSignatureError(NoteError):
    """A signature from the expected key is present but does not verify."""


class UnverifiedNoteError(NoteError):
    """The note carries no signature from the expected key."""


class CheckpointError(NoteError):
    """The note text is not a well-formed tlog checkpoint, or not the expected one."""


class InsecureKeyFileError(PermissionError):
    """A private key file is accessible by its group or by other users."""


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------


def is_valid_key_name(name: str) -> bool:
    """Return whether ``name`` is a valid key name: non-empty, no Unicode spaces, no ``+``.

    Control characters are rejected too, since a note may not contain them.
    """
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in name)
    )


def _check_key_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise KeyFormatError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")


def _public_key_bytes(public_key: Ed25519PublicKey | bytes) -> bytes:
    if isinstance(public_key, Ed25519PublicKey):
        return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if isinstance(public_key, bytes) and len(public_key) == _ED25519_KEY_SIZE:
        return public_key
    raise KeyFormatError("an Ed25519 public key must be an Ed25519PublicKey or 32 raw bytes")


def _seed_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def key_id(name: str, public_key: Ed25519PublicKey | bytes) -> bytes:
    """Return the 4-byte key ID ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``.

    This is the key ID the signed-note spec recommends for Ed25519 keys.
    """
    material = bytes([ED25519_SIGNATURE_TYPE]) + _public_key_bytes(public_key)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + material).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A named Ed25519 verifier key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def from_public_key(cls, name: str, public_key: Ed25519PublicKey) -> VerifierKey:
        """Build the verifier key of ``public_key`` under ``name``."""
        _check_key_name(name)
        return cls(name, key_id(name, public_key), public_key)

    def __str__(self) -> str:
        return format_verifier_key(self.name, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` is a valid Ed25519 signature of ``message``."""
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


def format_verifier_key(name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """Return ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
    _check_key_name(name)
    material = bytes([ED25519_SIGNATURE_TYPE]) + _public_key_bytes(public_key)
    return f"{name}+{key_id(name, public_key).hex()}+{base64.b64encode(material).decode('ascii')}"


def _b64decode(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4, padded); raises ``binascii.Error``."""
    data = base64.b64decode(text.encode("ascii"), validate=True)
    if base64.b64encode(data).decode("ascii") != text:
        raise binascii.Error("non-canonical base64")
    return data


def _decode_key_material(encoded: str, what: str) -> bytes:
    try:
        material = _b64decode(encoded)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise KeyFormatError(f"malformed {what}: bad base64") from exc
    if len(material) != 1 + _ED25519_KEY_SIZE or material[0] != ED25519_SIGNATURE_TYPE:
        raise KeyFormatError(f"malformed {what}: not an Ed25519 (type 0x01) key")
    return material[1:]


def parse_verifier_key(vkey: str) -> VerifierKey:
    """Parse ``<name>+<hex key ID>+<base64(0x01 || public key)>``; checks the key ID."""
    parts = vkey.split("+", 2)
    if len(parts) != 3 or not is_valid_key_name(parts[0]) or not _HEX_KEY_ID.fullmatch(parts[1]):
        raise KeyFormatError("malformed verifier key")
    name, hex_id, encoded = parts
    public_key = Ed25519PublicKey.from_public_bytes(_decode_key_material(encoded, "verifier key"))
    expected = key_id(name, public_key)
    if bytes.fromhex(hex_id) != expected:
        raise KeyFormatError(f"verifier key ID {hex_id} does not match the key (expected {expected.hex()})")
    return VerifierKey(name, expected, public_key)


def format_signer_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Return ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>``. Keep it secret."""
    _check_key_name(name)
    material = bytes([ED25519_SIGNATURE_TYPE]) + _seed_bytes(private_key)
    hex_id = key_id(name, private_key.public_key()).hex()
    return f"{_SIGNER_KEY_PREFIX}{name}+{hex_id}+{base64.b64encode(material).decode('ascii')}"


def parse_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse a ``PRIVATE+KEY+...`` signer key into ``(name, private key)``; checks the key ID."""
    if not skey.startswith(_SIGNER_KEY_PREFIX):
        raise KeyFormatError("malformed signer key: missing PRIVATE+KEY+ prefix")
    parts = skey[len(_SIGNER_KEY_PREFIX) :].split("+", 2)
    if len(parts) != 3 or not is_valid_key_name(parts[0]) or not _HEX_KEY_ID.fullmatch(parts[1]):
        raise KeyFormatError("malformed signer key")
    name, hex_id, encoded = parts
    private_key = Ed25519PrivateKey.from_private_bytes(_decode_key_material(encoded, "signer key"))
    if bytes.fromhex(hex_id) != key_id(name, private_key.public_key()):
        raise KeyFormatError("signer key ID does not match the key")
    return name, private_key


def generate_signer_key(name: str) -> tuple[str, str]:
    """Generate a fresh Ed25519 key; return ``(signer key, verifier key)`` strings."""
    private_key = Ed25519PrivateKey.generate()
    return format_signer_key(name, private_key), format_verifier_key(name, private_key.public_key())


def _as_verifier_key(vkey: str | VerifierKey) -> VerifierKey:
    return vkey if isinstance(vkey, VerifierKey) else parse_verifier_key(vkey)


# ---------------------------------------------------------------------------
# Signed notes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and raw signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """Return the encoded signature line, including its final newline."""
        blob = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{_SIGNATURE_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    """A parsed, not yet verified, signed note."""

    text: str
    signatures: tuple[NoteSignature, ...]


def _check_characters(value: str, what: str) -> None:
    """Require valid UTF-8 (no lone surrogates) and no ASCII control character but newline."""
    for c in value:
        code = ord(c)
        if (code < 0x20 and c != "\n") or 0xD800 <= code <= 0xDFFF:
            raise MalformedNoteError(f"{what} contains a forbidden character U+{code:04X}")


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise MalformedNoteError("note text must be a string ending in a newline")
    _check_characters(text, "note text")


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``text`` with an Ed25519 key named ``name``; return the signed note.

    The result is ``text``, a blank line, and the signature line
    ``"\u2014 <name> <base64(key ID || signature)>\\n"``. ``text`` must end with a
    newline and contain no control character other than newline.
    """
    _check_text(text)
    _check_key_name(name)
    signature = NoteSignature(name, key_id(name, private_key.public_key()), private_key.sign(text.encode("utf-8")))
    return text + "\n" + signature.line()


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into its text and signature lines, without verifying anything.

    The text ends at the last blank line (it includes its final newline but not
    the separating blank line), as the signed-note spec requires.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNoteError("note is not valid UTF-8") from exc
    _check_characters(note, "note")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNoteError("note must end with newline-terminated signature lines")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_SIGNATURE_PREFIX):
            raise MalformedNoteError("signature line does not start with an em dash and a space")
        name, sep, blob = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not is_valid_key_name(name) or not blob:
            raise MalformedNoteError("malformed signature line")
        try:
            raw = _b64decode(blob)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise MalformedNoteError("signature is not valid base64") from exc
        if len(raw) < 5:
            raise MalformedNoteError("signature is too short")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    return Note(text, tuple(signatures))


def verify_note(note: str | bytes, vkey: str | VerifierKey) -> str:
    """Verify a signed note against one verifier key and return its text.

    Signatures from other keys (a different name or key ID) are ignored, as
    the spec requires. Every signature line from ``vkey`` must verify.

    Raises ``MalformedNoteError`` (bad format), ``KeyFormatError`` (bad
    ``vkey``), ``InvalidSignatureError`` (a signature from ``vkey`` does not
    verify) or ``UnverifiedNoteError`` (no signature from ``vkey``).
    """
    key = _as_verifier_key(vkey)
    parsed = parse_note(note)
    message = parsed.text.encode("utf-8")
    found = False
    for signature in parsed.signatures:
        if signature.name != key.name or signature.key_id != key.key_id:
            continue
        if len(signature.signature) != _ED25519_SIGNATURE_SIZE or not key.verify(message, signature.signature):
            raise InvalidSignatureError(f"invalid signature for key {key.name}+{key.key_id.hex()}")
        found = True
    if not found:
        raise UnverifiedNoteError(f"note has no signature from key {key.name}+{key.key_id.hex()}")
    return parsed.text


# ---------------------------------------------------------------------------
# Checkpoints (c2sp.org/tlog-checkpoint)
# ---------------------------------------------------------------------------


class Checkpoint(NamedTuple):
    """A tlog checkpoint: origin, tree size and RFC 9162 root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """Return the checkpoint note text."""
        return format_checkpoint(self.origin, self.size, self.root)


def format_checkpoint(origin: str, size: int, root: bytes) -> str:
    """Return the checkpoint note text ``<origin>\\n<size>\\n<base64 root>\\n``."""
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise CheckpointError("checkpoint origin must be a non-empty single line")
    try:
        _check_characters(origin, "checkpoint origin")
    except MalformedNoteError as exc:
        raise CheckpointError(str(exc)) from exc
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise CheckpointError(f"checkpoint tree size must be a non-negative integer, got {size!r}")
    if not isinstance(root, bytes) or len(root) != 32:
        raise CheckpointError("checkpoint root hash must be 32 bytes")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse checkpoint note text into ``Checkpoint(origin, size, root)``.

    The first three lines are parsed strictly (decimal size without leading
    zeros, canonical padded base64 of a 32-byte hash). Extension lines, which
    the spec allows but does not recommend, must be non-empty and are ignored.
    """
    if not isinstance(text, str) or not text.endswith("\n"):
        raise CheckpointError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise CheckpointError("checkpoint text must have at least three non-empty lines")
    origin, size_line, root_line = lines[:3]
    if not _TREE_SIZE.fullmatch(size_line):
        raise CheckpointError(f"malformed checkpoint tree size {size_line!r}")
    try:
        root = _b64decode(root_line)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise CheckpointError("malformed checkpoint root hash") from exc
    if len(root) != 32:
        raise CheckpointError("checkpoint root hash must be 32 bytes")
    return Checkpoint(origin, int(size_line), root)


def sign_checkpoint(checkpoint: Checkpoint, private_key: Ed25519PrivateKey, key_name: str | None = None) -> str:
    """Return the signed note of ``checkpoint``; the key name defaults to its origin."""
    return sign_note(checkpoint.text(), key_name or checkpoint.origin, private_key)


def verify_checkpoint(note: str | bytes, vkey: str | VerifierKey, origin: str) -> Checkpoint:
    """Verify a signed checkpoint from ``vkey`` and return it; its origin must equal ``origin``."""
    checkpoint = parse_checkpoint(verify_note(note, vkey))
    if checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint


# ---------------------------------------------------------------------------
# Key files
# ---------------------------------------------------------------------------


def load_signing_key(path: Path, *, allow_insecure_permissions: bool = False) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from ``path``.

    The file holds either an unencrypted PKCS#8 PEM key (the format written by
    ``load_or_create_signing_key``) or a ``PRIVATE+KEY+...`` signer key string.
    On POSIX systems a file readable or writable by its group or by others is
    refused with ``InsecureKeyFileError`` unless ``allow_insecure_permissions``.
    """
    path = Path(path)
    mode = path.stat().st_mode
    if os.name == "posix" and mode & 0o077 and not allow_insecure_permissions:
        raise InsecureKeyFileError(
            f"private key file {path} has permissions {stat.filemode(mode)}; expected 0600 (chmod 600)"
        )
    data = path.read_bytes()
    stripped = data.strip()
    if stripped.startswith(_SIGNER_KEY_PREFIX.encode("ascii")):
        try:
            return parse_signer_key(stripped.decode("ascii"))[1]
        except UnicodeDecodeError as exc:
            raise KeyFormatError(f"malformed signer key in {path}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"{path} does not hold an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def load_or_create_signing_key(path: Path, *, allow_insecure_permissions: bool = False) -> Ed25519PrivateKey:
    """Load the Ed25519 private key at ``path``, creating it first if it does not exist.

    A new key is written as unencrypted PKCS#8 PEM with mode 0600; missing
    parent directories are created with mode 0700. The file is written to a
    temporary name and hard-linked into place, so concurrent callers never see
    a partial file and all end up with the same key. An existing file is
    loaded with ``load_signing_key`` (and so refused if group/other can access it).
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), 0o600)  # independent of the umask
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process created it first
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return load_signing_key(path, allow_insecure_permissions=allow_insecure_permissions)
