"""A delivery signed piece by piece carries the very token PyJWT writes over the whole body."""
from __future__ import annotations

import os
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.security.delivery_signing import DeliverySigner
from hub.security.ed25519_stream import sign_pieces
from hub.security.keys import SigningKey


@pytest.mark.parametrize("size", [0, 1, 63, 64, 1000, 70_000])
def test_the_streamed_ed25519_signature_is_cryptographys(size):
    key = Ed25519PrivateKey.generate()
    message = os.urandom(size)
    pieces = [message[i:i + 777] for i in range(0, size, 777)]
    assert sign_pieces(key, lambda: iter(pieces)) == key.sign(message)


def test_the_streamed_token_equals_the_whole_one_and_verifies(tmp_path: Path):
    key = SigningKey(Ed25519PrivateKey.generate(), tmp_path / "k.pem")
    signer = DeliverySigner(key, clock=lambda: 1_800_000_000)
    body = '{"payload":"ข้อความ"}'.encode() * 500
    context = {"delivery_id": "d-1", "message_key": "k-1", "message_id": "m-1", "sender": "TH/GOV/0401/saraban",
               "receiver": "TH/GOV/1501/hr", "service": "x/v1"}
    token = signer.sign_pieces(lambda: iter([body[:10], body[10:]]), **context)
    assert token == signer.sign(body, **context)
    signed = jwt.api_jws.decode_complete(token, key.public, algorithms=["EdDSA"], detached_payload=body)
    assert signed["header"]["hub"]["delivery_id"] == "d-1"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.api_jws.decode_complete(token, key.public, algorithms=["EdDSA"], detached_payload=body + b" ")
