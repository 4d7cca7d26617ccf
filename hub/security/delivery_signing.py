"""Outbound deliveries signed by the hub: a detached JWS (RFC 7515, appendix F) over the body.

X-Road and AS4 sign what they deliver; a receiver of the hub could not tell a delivery from
the hub from anything else that reached its inbox (issue 12, finding 9). Every HTTP delivery
now carries ``Hub-Signature``: a compact JWS with the payload left out (``header..signature``)
and not base64-encoded in the signing input (RFC 7797, ``b64: false``, as PyJWT writes it),
signed with the hub's Ed25519 key (EdDSA), over the exact body bytes. Its protected header
names the key (``kid``, published at ``/.well-known/jwks.json``) and binds the delivery to
its context (``hub``: delivery id, message key, sender's id, sender, receiver, service and
when it was signed), so a signed body cannot be replayed to another receiver or as another
delivery unnoticed. A receiver verifies it with any JOSE library and the published keys
(``scripts/verify_hub_delivery.py``).
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import jwt
from jwt.algorithms import OKPAlgorithm

from hub.security.keys import SigningKey

SIGNATURE_HEADER = "Hub-Signature"
TYP = "hub-delivery+jws"


class DeliverySigner:
    """Signs delivery bodies with the hub's key (the ``signer`` resource of the HTTP adapter)."""

    def __init__(self, key: SigningKey, clock: Any = time.time) -> None:
        self._key = key
        self._clock = clock

    @property
    def key_id(self) -> str:
        return self._key.key_id

    def sign(self, body: bytes, *, delivery_id: str, message_key: str, message_id: str, sender: str,
             receiver: str, service: str) -> str:
        """The detached compact JWS over ``body`` (``header..signature``)."""
        context = {"delivery_id": delivery_id, "message_key": message_key, "message_id": message_id,
                   "sender": sender, "receiver": receiver, "service": service, "signed_at": int(self._clock())}
        return jwt.api_jws.encode(body, self._key.private, algorithm="EdDSA", is_payload_detached=True,
                                  headers={"kid": self._key.key_id, "typ": TYP, "hub": context})


def jwk(key: Any, kid: str) -> dict[str, Any]:
    """An Ed25519 public key as a JWK (RFC 8037) for the hub's JWKS."""
    return {**OKPAlgorithm.to_jwk(key, as_dict=True), "kid": kid, "use": "sig", "alg": "EdDSA"}


def jwks(keys: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """``{"keys": [...]}`` for ``(kid, public key)`` pairs: the current key first, then retired
    ones still valid for verification."""
    return {"keys": [jwk(key, kid) for kid, key in keys]}
