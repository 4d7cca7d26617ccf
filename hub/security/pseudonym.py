"""Keyed pseudonyms for identifiers that must not appear in the audit trail (citizen IDs).

A plain SHA-256 of a citizen ID is no protection: there are only about 10^12 valid IDs, so
anyone holding the log could hash them all. The pseudonym is HMAC-SHA256 under a key derived
from the hub's signing key, so every process sharing that key (API, workers, CLI) computes
the same pseudonym and an auditor with the hub can find one person's reads, while a copy of
the log alone reveals nothing. Rotating the signing key starts new pseudonyms.
"""
from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import serialization

from hub.security.keys import SigningKey

_LABEL = b"hub-audit-pseudonym/1"


class Pseudonymizer:
    def __init__(self, key: SigningKey) -> None:
        raw = key.private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
        self._key = hashlib.sha256(_LABEL + raw).digest()

    def __call__(self, kind: str, value: str) -> str:
        """``person:<32 hex>`` for ``("person", "1101700203450")``."""
        digest = hmac.new(self._key, f"{kind}|{value}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"{kind}:{digest}"
