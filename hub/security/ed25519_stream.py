"""Ed25519 signatures (RFC 8032, "pure" Ed25519) over a message read in pieces.

``cryptography`` signs only a message it is handed whole; a delivery of a large payload is
read from the store in pieces and must not be held in memory to be signed. Pure Ed25519
hashes the message twice (for the nonce, then for the challenge), so the message is read
twice; the one scalar multiplication is done here with integers. The signature is the very
one ``cryptography`` computes (Ed25519 is deterministic), verifiable by any JOSE library.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
D2 = 2 * D % P


def _base_point() -> tuple[int, int, int, int]:
    y = 4 * pow(5, P - 2, P) % P
    xx = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(xx, (P + 3) // 8, P)
    if (x * x - xx) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if x & 1:
        x = P - x
    return x, y, 1, x * y % P


B = _base_point()


def _add(p: tuple[int, int, int, int], q: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Point addition in extended coordinates (RFC 8032, 5.1.4); doubles too."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * D2 * t2 % P
    d = z1 * 2 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return e * f % P, g * h % P, f * g % P, e * h % P


def _times_base(scalar: int) -> bytes:
    """``scalar`` × the base point, encoded (y with the sign of x in the top bit)."""
    result, addend = (0, 1, 1, 0), B
    while scalar:
        if scalar & 1:
            result = _add(result, addend)
        addend = _add(addend, addend)
        scalar >>= 1
    x, y, z, _ = result
    inverse = pow(z, P - 2, P)
    x, y = x * inverse % P, y * inverse % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _hash(prefix: bytes, message: Iterable[bytes]) -> int:
    digest = hashlib.sha512(prefix)
    for piece in message:
        digest.update(piece)
    return int.from_bytes(digest.digest(), "little") % L


def sign_pieces(key: Ed25519PrivateKey, message: Callable[[], Iterable[bytes]]) -> bytes:
    """The Ed25519 signature of the concatenation of the pieces ``message()`` yields (called twice)."""
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    expanded = hashlib.sha512(seed).digest()
    secret = int.from_bytes(expanded[:32], "little") & ((1 << 254) - 8) | (1 << 254)
    nonce = _hash(expanded[32:], message())
    r = _times_base(nonce)
    challenge = _hash(r + public, message())
    return r + ((nonce + challenge * secret) % L).to_bytes(32, "little")
