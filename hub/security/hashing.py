"""Secret generation and storage: argon2id for secrets people or clients choose or keep,
SHA-256 for long random bearer values (sessions) that must be found by lookup."""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2id with 19 MiB, 2 passes, 1 lane (OWASP's server profile): each check is paid before
# the caller is known, so memory per check matters more than on a desktop (argon2-cffi's
# default, RFC 9106's 64 MiB profile, took 2.4 GiB under 40 parallel wrong secrets). Hashes
# made with other parameters still verify and are re-hashed at the next successful check.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_dummy: str | None = None

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


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False


def verify_none(secret: str) -> bool:
    """The work of one check for an id that does not exist, so it answers no faster than a known one."""
    global _dummy
    if _dummy is None:
        _dummy = _hasher.hash(secrets.token_urlsafe(16))
    verify_secret(_dummy, secret)
    return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
