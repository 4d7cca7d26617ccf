"""Finding 2: secret checks are bounded before the caller is known (issue 12).

Rate limits per client id and per source address (429 + Retry-After, no argon2 work), the
same argon2 work for an unknown id as for a known one, server-sized argon2 parameters with
re-hashing on login. The flood against a real ``hub serve`` is in tests/e2e/test_auth_flood.py.
"""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from hub.security import hashing
from hub.security.tables import client_secrets, users
from hub.security.wiring import security_of
from tests.support.auth import register_agency

CLIENT = "TH/GOV/OCSC/hr"


def _token(client, client_id: str, secret: str, address: str | None = None):  # noqa: ANN001, ANN202
    headers = {"X-Forwarded-For": address} if address else {}
    return client.post("/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                "client_secret": secret}, headers=headers)


@pytest.fixture
def issued(embedded_hub):
    return register_agency(embedded_hub, CLIENT)


@pytest.fixture
def argon_calls(monkeypatch):
    calls = []
    real = hashing.verify_secret

    def counting(stored: str, secret: str) -> bool:
        calls.append(stored)
        return real(stored, secret)
    monkeypatch.setattr(hashing, "verify_secret", counting)
    return calls


def test_failures_per_client_id_are_limited_then_429(embedded_hub, anonymous_client, issued, argon_calls):
    limit = security_of(embedded_hub).settings.auth_failures_per_client
    for _ in range(limit):
        assert _token(anonymous_client, CLIENT, "wrong").status_code == 401
    before = len(argon_calls)
    limited = _token(anonymous_client, CLIENT, issued.client_secret)  # even the right secret waits now
    assert limited.status_code == 429, limited.text
    assert int(limited.headers["Retry-After"]) >= 1 and limited.json()["code"] == "too_many_requests"
    assert len(argon_calls) == before, "a limited check must not run argon2"


def test_failures_per_address_are_limited_across_ids(embedded_hub, anonymous_client, issued):
    security = security_of(embedded_hub)
    security.settings.trusted_proxies.append("testclient")  # so X-Forwarded-For names the caller
    try:
        limit = security.settings.auth_failures_per_address
        for i in range(limit):
            assert _token(anonymous_client, f"nobody-{i}", "wrong", "203.0.113.9").status_code == 401
        assert _token(anonymous_client, CLIENT, issued.client_secret, "203.0.113.9").status_code == 429
        # another address is not held back by that one's failures
        assert _token(anonymous_client, CLIENT, issued.client_secret, "198.51.100.1").status_code == 200
    finally:
        security.settings.trusted_proxies.remove("testclient")


def test_unknown_and_known_ids_cost_the_same_argon2_work(anonymous_client, issued, argon_calls):
    assert _token(anonymous_client, "no-such-client", "wrong").status_code == 401
    unknown = len(argon_calls)
    assert _token(anonymous_client, CLIENT, "wrong").status_code == 401
    assert unknown == 1 and len(argon_calls) - unknown == 1


def test_server_argon2_parameters_and_rehash_on_login(embedded_hub, anonymous_client, issued):
    params = "m=19456,t=2,p=1"
    with embedded_hub.engine.connect() as conn:
        assert params in conn.execute(select(client_secrets.c.secret_hash)).scalar()
    # a secret hashed with the old desktop parameters (64 MiB) still works, and is re-hashed
    old = PasswordHasher().hash(issued.client_secret)
    with embedded_hub.engine.begin() as conn:
        conn.execute(update(client_secrets).values(secret_hash=old))
    assert _token(anonymous_client, CLIENT, issued.client_secret).status_code == 200
    with embedded_hub.engine.connect() as conn:
        stored = conn.execute(select(client_secrets.c.secret_hash)).scalar()
    assert params in stored and stored != old
    # people's passwords too
    security = security_of(embedded_hub)
    security.users.add("somchai", "a long password 1", roles=("auditor",), actor="t")
    with embedded_hub.engine.begin() as conn:
        conn.execute(update(users).values(password_hash=PasswordHasher().hash("a long password 1")))
    assert anonymous_client.post("/v1/auth/login", json={"username": "somchai",
                                                         "password": "a long password 1"}).status_code == 200
    with embedded_hub.engine.connect() as conn:
        assert params in conn.execute(select(users.c.password_hash)).scalar()


def test_the_concurrency_limit_answers_429_when_no_slot_frees(embedded_hub, anonymous_client, issued):
    from hub.errors import TooManyRequests
    from hub.security.secret_gate import SecretGate

    gate = SecretGate(concurrency=1, wait_seconds=0.05, per_client=10, per_address=10, window_seconds=60)
    with gate.check("a", "1.2.3.4"):
        with pytest.raises(TooManyRequests) as refused:
            with gate.check("b", "5.6.7.8"):
                pass
    assert refused.value.retry_after >= 1
    with gate.check("b", "5.6.7.8"):  # the slot is free again
        pass
