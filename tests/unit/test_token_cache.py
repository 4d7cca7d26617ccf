"""Verified tokens are remembered until they expire, and no longer."""
import time

import pytest

from hub.errors import Unauthorized
from hub.security import keys
from hub.security.tokens import LEEWAY_SECONDS, TokenService


def test_a_remembered_token_still_expires(tmp_path):
    tokens = TokenService(keys.load_or_create(tmp_path / "key.pem"), issuer="urn:test", ttl_seconds=60)
    # Expired already, but inside the clock-skew leeway for about two more seconds.
    token = tokens.issue("client-1", ttl_seconds=-(LEEWAY_SECONDS - 2)).token
    first = tokens.verify(token)
    assert tokens.verify(token) == first  # served from memory
    time.sleep(2.5)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(token)


def test_a_tampered_token_is_never_remembered(tmp_path):
    tokens = TokenService(keys.load_or_create(tmp_path / "key.pem"), issuer="urn:test", ttl_seconds=60)
    head, payload, signature = tokens.issue("client-1").token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    for _ in range(2):
        with pytest.raises(Unauthorized):
            tokens.verify(forged)
