"""A delivery signed from pieces carries the very token PyJWT writes over the whole body."""
from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.security.delivery_signing import TYP, DeliverySigner
from hub.security.keys import SigningKey

CONTEXT = {"delivery_id": "d-1", "message_key": "k-1", "message_id": "m-1", "sender": "TH/GOV/0401/saraban",
           "receiver": "TH/GOV/1501/hr", "service": "x/v1"}


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate(), tmp_path / "k.pem")


@pytest.mark.parametrize("size", [0, 1, 1000, 70_000])
def test_the_token_from_pieces_is_pyjwts_and_verifies(key: SigningKey, size: int) -> None:
    signer = DeliverySigner(key, clock=lambda: 1_800_000_000)
    body = ('{"payload":"ข้อความ"}'.encode() * (size // 10 + 1))[:size]
    token = signer.sign_pieces((body[i:i + 777] for i in range(0, size, 777)), size, **CONTEXT)
    expected = jwt.api_jws.encode(body, key.private, algorithm="EdDSA", is_payload_detached=True,
                                  headers={"kid": key.key_id, "typ": TYP,
                                           "hub": {**CONTEXT, "signed_at": 1_800_000_000}})
    assert token == expected == signer.sign(body, **CONTEXT)
    signed = jwt.api_jws.decode_complete(token, key.public, algorithms=["EdDSA"], detached_payload=body)
    assert signed["header"]["hub"]["delivery_id"] == "d-1"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.api_jws.decode_complete(token, key.public, algorithms=["EdDSA"], detached_payload=body + b" ")


@pytest.mark.parametrize("pieces, length", [([b"abc", b"de"], 4), ([b"abc"], 4)])
def test_a_body_of_another_length_than_announced_is_not_signed(key: SigningKey, pieces, length) -> None:
    with pytest.raises(ValueError, match="announced"):
        DeliverySigner(key).sign_pieces(iter(pieces), length, **CONTEXT)


@pytest.mark.parametrize("sender", ["TH/GOV/0401/saraban", "กรมบัญชีกลาง/saraban", "a\x7fb", "tab\there \"q\" \\ \x01",
                                    "emoji \U0001F600 and \u2028"])
def test_the_header_is_written_as_pyjwt_writes_it_whatever_its_characters(key: SigningKey, sender: str) -> None:
    """The header takes a faster serialiser when its output matches json's byte for byte, and
    json otherwise: non-ASCII text and DEL (which json escapes) included."""
    signer = DeliverySigner(key, clock=lambda: 1_800_000_000)
    body = b'{"payload":1}'
    context = {**CONTEXT, "sender": sender}
    expected = jwt.api_jws.encode(body, key.private, algorithm="EdDSA", is_payload_detached=True,
                                  headers={"kid": key.key_id, "typ": TYP, "hub": {**context, "signed_at": 1_800_000_000}})
    assert signer.sign(body, **context) == expected
