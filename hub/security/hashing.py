"""Secret generation and storage: argon2id for secrets people or clients choose or keep,
SHA-256 for long random bearer values (sessions) that must be found by lookup."""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# RFC 9106's second recommended profile (argon2id, 64 MiB, 3 passes): argon2-cffi's default.
_hasher = PasswordHasher()

CLIENT_SECRET_PREFIX = "hubcs_"  # prefixes let secret scanners and log filters recognise them
SESSION_PREFIX = "hubss_"


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
