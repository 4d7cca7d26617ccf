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

import json
import time
from collections.abc import Iterable
from typing import Any

import orjson
from jwt.algorithms import OKPAlgorithm
from jwt.utils import base64url_encode

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
        return self.sign_pieces([body], len(body), delivery_id=delivery_id, message_key=message_key,
                                message_id=message_id, sender=sender, receiver=receiver, service=service)

    def sign_pieces(self, pieces: Iterable[bytes], length: int, *, delivery_id: str, message_key: str,
                    message_id: str, sender: str, receiver: str, service: str) -> str:
        """``sign`` over a body handed in pieces, ``length`` bytes in all.

        ``cryptography`` signs Ed25519 over one buffer only, so the signing input (header, ``.``
        and the body, RFC 7797) is assembled once in a buffer of its final size: a large
        delivery holds one copy of its payload while it is signed, not the two that joining
        the body and then prefixing the header would make. The token is the one PyJWT writes
        (same header serialisation; Ed25519 is deterministic)."""
        context = {"delivery_id": delivery_id, "message_key": message_key, "message_id": message_id,
                   "sender": sender, "receiver": receiver, "service": service, "signed_at": int(self._clock())}
        header = {"alg": "EdDSA", "b64": False, "crit": ["b64"], "hub": context, "kid": self._key.key_id, "typ": TYP}
        encoded = base64url_encode(_header_json(header)) + b"."
        signing_input = bytearray(len(encoded) + length)
        view = memoryview(signing_input)
        view[:len(encoded)] = encoded
        at = len(encoded)
        for piece in pieces:
            if at + len(piece) > len(signing_input):
                raise ValueError(f"the body is longer than the {length} bytes announced")
            view[at:at + len(piece)] = piece
            at += len(piece)
        if at != len(signing_input):
            raise ValueError(f"the body is {at - len(encoded)} bytes, not the {length} announced")
        signature = self._key.private.sign(signing_input)
        view.release()
        return (encoded + b"." + base64url_encode(signature)).decode()


def _header_json(header: dict[str, Any]) -> bytes:
    """The header as PyJWT serialises it (``json.dumps``: compact, sorted keys, ``\\u`` escapes
    for DEL and beyond ASCII). orjson writes the same bytes several times faster when its output
    is ASCII without DEL; any other header (orjson writes UTF-8 and a bare DEL) goes through
    ``json``."""
    fast = orjson.dumps(header, option=orjson.OPT_SORT_KEYS)
    if fast.isascii() and b"\x7f" not in fast:
        return fast
    return json.dumps(header, separators=(",", ":"), sort_keys=True).encode()


def jwk(key: Any, kid: str) -> dict[str, Any]:
    """An Ed25519 public key as a JWK (RFC 8037) for the hub's JWKS."""
    return {**OKPAlgorithm.to_jwk(key, as_dict=True), "kid": kid, "use": "sig", "alg": "EdDSA"}


def jwks(keys: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """``{"keys": [...]}`` for ``(kid, public key)`` pairs: the current key first, then retired
    ones still valid for verification."""
    return {"keys": [jwk(key, kid) for kid, key in keys]}
