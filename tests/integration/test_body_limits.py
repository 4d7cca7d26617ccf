"""Finding 4 in process: a per-route body limit, refused with 413 before the body is buffered.

The real server (slow bodies, header timeouts, memory under large bodies) is in
tests/e2e/test_slow_and_large_bodies.py.
"""
from __future__ import annotations

import pytest

from hub.api.body_limits import JSON_LIMIT, LOGIN_LIMIT


def chunks(total: int, size: int = 64 * 1024):  # noqa: ANN201
    """A body without Content-Length (chunked), so only counting while streaming can stop it."""
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b" " * n


@pytest.mark.parametrize(("path", "limit"), [("/v1/auth/login", LOGIN_LIMIT), ("/v1/access-rights", JSON_LIMIT),
                                             ("/v1/routes", JSON_LIMIT), ("/v1/agencies", JSON_LIMIT)])
def test_a_declared_length_over_the_limit_is_refused_unread(anonymous_client, path, limit):
    refused = anonymous_client.post(path, content=b"{}", headers={"Content-Type": "application/json",
                                                                  "Content-Length": str(limit + 1)})
    assert refused.status_code == 413, refused.text
    assert refused.json()["code"] == "payload_too_large" and refused.json()["limit"] == limit


@pytest.mark.parametrize(("path", "limit"), [("/v1/auth/login", LOGIN_LIMIT), ("/v1/access-rights", JSON_LIMIT)])
def test_a_streamed_body_is_cut_at_the_limit(anonymous_client, path, limit):
    refused = anonymous_client.post(path, content=chunks(limit * 3), headers={"Content-Type": "application/json"})
    assert refused.status_code == 413, refused.text
    assert str(limit) in refused.json()["message"] and refused.json()["code"] == "payload_too_large"


def test_messages_keep_the_payload_limit(embedded_hub, anonymous_client, embedded_client):
    limit = embedded_hub.settings.max_payload_bytes
    # an anonymous caller is refused before its body is read at all
    anonymous = anonymous_client.post("/v1/messages", content=chunks(limit * 2),
                                      headers={"Content-Type": "application/json"})
    assert anonymous.status_code == 401
    # far over the small JSON limit but within the payload limit: parsed (and found invalid)
    within = embedded_client.post("/v1/messages", content=b"[" + b" " * (JSON_LIMIT * 2) + b"]",
                                  headers={"Content-Type": "application/json"})
    assert within.status_code == 422, within.text
    big = embedded_client.post("/v1/messages", content=chunks(limit + 200 * 1024),
                               headers={"Content-Type": "application/json"})
    assert big.status_code == 413


def test_bodies_within_the_limit_work(embedded_client):
    ok = embedded_client.post("/v1/auth/login", json={"username": "nobody", "password": "x" * 100})
    assert ok.status_code == 401
