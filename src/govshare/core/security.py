"""Security primitives: password hashing (argon2id), opaque tokens stored as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

#: Prefixes make leaked secrets recognisable (and greppable by secret scanners).
PERSON_TOKEN_PREFIX = "gsp_"
CLIENT_KEY_PREFIX = "gsk_"
SESSION_PREFIX = "gss_"


def set_password_hasher(hasher: PasswordHasher | None) -> None:
    """Swap the argon2id parameters; ``None`` restores the defaults (RFC 9106 low-memory profile).

    Tests use argon2's ``CHEAPEST`` profile: the same algorithm and hash format at a fraction of
    the cost, so building a few people does not take seconds.
    """
    global _hasher
    _hasher = hasher or PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so unknown names are not revealed by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_password_check(password: str) -> None:
    verify_password(None, password)


def new_secret(prefix: str) -> str:
    """A fresh high-entropy secret (256 bits) with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Stored form of a high-entropy secret. SHA-256 suffices: these are not guessable passwords."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
