"""Short-lived access tokens: JWTs signed with the hub's Ed25519 key (EdDSA, PyJWT).

A token names the client (``sub``); the principal is looked up again on every request, so a
disabled client or a lowered clearance takes effect at once, not when the token expires.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
from cachetools import LRUCache

from hub.clock import utcnow
from hub.errors import Unauthorized
from hub.security.keys import SigningKey

# Verified tokens remembered at once (one per active client is typical).
VERIFIED_TOKENS = 10_000

ALGORITHM = "EdDSA"
LEEWAY_SECONDS = 5  # clock skew between hub processes


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int

    def as_oauth(self) -> dict[str, Any]:
        return {"access_token": self.token, "token_type": "Bearer", "expires_in": self.expires_in}


class TokenService:
    def __init__(self, key: SigningKey, *, issuer: str, ttl_seconds: int) -> None:
        self._key = key
        self._issuer = issuer
        self._ttl = ttl_seconds
        self._verified: LRUCache[str, dict[str, Any]] = LRUCache(maxsize=VERIFIED_TOKENS)
        self._verified_lock = threading.Lock()

    def issue(self, client_id: str, *, kind: str = "client", ttl_seconds: int | None = None,
              **claims: Any) -> IssuedToken:
        now = utcnow()
        ttl = self._ttl if ttl_seconds is None else ttl_seconds
        payload = {"iss": self._issuer, "aud": self._issuer, "sub": client_id, "iat": now, "nbf": now,
                   "exp": now + timedelta(seconds=ttl), "jti": str(uuid.uuid4()), "kind": kind, **claims}
        token = jwt.encode(payload, self._key.private, algorithm=ALGORITHM, headers={"kid": self._key.key_id})
        return IssuedToken(token, ttl)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; ``Unauthorized`` naming why (expired, bad signature, ...), never echoing it.

        A client sends the same token on every call until it expires, so a verified token's
        claims are remembered until its ``exp``: the signature is checked once per token, not
        once per request. Only verified tokens are remembered; whether the client may still
        act is decided by the caller on every request.
        """
        claims = self.remembered(token)
        if claims is not None:
            return claims
        claims = self._decode(token)
        with self._verified_lock:
            self._verified[token] = claims
        return claims

    def remembered(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this service already verified and that has not expired, else None
        (without checking anything: the caller then calls ``verify``)."""
        with self._verified_lock:
            claims = self._verified.get(token)
        if claims is not None and claims["exp"] + LEEWAY_SECONDS > time.time():
            return claims
        return None

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(token, self._key.public, algorithms=[ALGORITHM], audience=self._issuer,
                              issuer=self._issuer, leeway=LEEWAY_SECONDS,
                              options={"require": ["exp", "iat", "nbf", "sub", "jti", "iss", "aud"]})
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the access token has expired; request a new one at /v1/auth/token",
                               error="invalid_token") from exc
        except jwt.InvalidSignatureError as exc:
            raise Unauthorized("the access token's signature is not valid", error="invalid_token") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"the access token is not valid: {type(exc).__name__}", error="invalid_token") from exc
