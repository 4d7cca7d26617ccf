"""Verify that a delivery came from the hub: an example for receivers (needs PyJWT and httpx).

The hub signs every HTTP delivery with its Ed25519 key: ``Hub-Signature`` is a detached JWS
(``header..signature``, RFC 7515 appendix F, unencoded payload RFC 7797) over the exact body
bytes. Its ``kid`` names a key in the hub's JWK Set at ``/.well-known/jwks.json`` (fetch it
once and again when a ``kid`` is unknown: the hub may have rotated). The protected header's
``hub`` member binds the body to this delivery: check it names you as receiver and that its
``delivery_id`` is the ``Hub-Delivery-Id`` header.

    python scripts/verify_hub_delivery.py https://hub.example TH/GOV/1501/hr headers.json body.bin
"""
from __future__ import annotations

import json
import sys
from typing import Any

import httpx
import jwt
from jwt.algorithms import OKPAlgorithm


def fetch_jwks(hub_url: str) -> dict[str, Any]:
    return httpx.get(f"{hub_url.rstrip('/')}/.well-known/jwks.json", timeout=10).raise_for_status().json()


def verify_delivery(headers: dict[str, str], body: bytes, jwks: dict[str, Any], me: str) -> dict[str, Any]:
    """The signed context (``hub`` header member) if the delivery is the hub's and meant for
    ``me``; raises ``jwt.InvalidSignatureError`` / ``ValueError`` otherwise."""
    headers = {k.lower(): v for k, v in headers.items()}
    token = headers["hub-signature"]
    kid = jwt.get_unverified_header(token).get("kid")
    jwk = next((k for k in jwks["keys"] if k.get("kid") == kid), None)
    if jwk is None:
        raise ValueError(f"no hub key {kid!r} in the JWKS (fetch it again: the hub may have rotated its key)")
    signed = jwt.api_jws.decode_complete(token, OKPAlgorithm.from_jwk(jwk), algorithms=["EdDSA"],
                                         detached_payload=body)
    context = signed["header"]["hub"]
    if context["receiver"] != me:
        raise ValueError(f"signed for {context['receiver']}, not for {me}")
    if context["delivery_id"] != headers.get("hub-delivery-id"):
        raise ValueError("Hub-Delivery-Id is not the delivery the hub signed")
    return context


if __name__ == "__main__":
    hub_url, me, headers_file, body_file = sys.argv[1:5]
    with open(headers_file, encoding="utf-8") as h, open(body_file, "rb") as b:
        print(json.dumps(verify_delivery(json.load(h), b.read(), fetch_jwks(hub_url), me), indent=2))
