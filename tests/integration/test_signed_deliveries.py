"""Issue 12, finding 9: receivers can verify that a delivery came from the hub.

Every HTTP delivery carries ``Hub-Signature`` (a detached JWS over the body, EdDSA); the
receiver verifies it with nothing but the hub's published JWK Set, using the example script
in ``scripts/verify_hub_delivery.py``.
"""
from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import jwt
import pytest

from tests.integration.test_smaller_findings import RECEIVER, SENDER, Recorder, sender  # noqa: F401
from tests.support.waiting import wait_for

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_hub_delivery.py"


def example():
    spec = importlib.util.spec_from_file_location("verify_hub_delivery", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_receiver_verifies_a_real_delivery_with_only_the_published_keys(embedded_client, anonymous_client,
                                                                         sender):  # noqa: F811
    receiver = Recorder()
    try:
        sender.route(adapter="http", settings={"url": receiver.url, "timeout_seconds": 5})
        env = {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": "telework.order/v1",
               "payload": {"order": "กค 0401/9", "days": 3}}
        assert sender.post("/v1/messages", json=env).status_code == 202
        wait_for(lambda: receiver.requests, what="the delivery")
        headers, body = receiver.requests[0], receiver.bodies[0]
    finally:
        receiver.close()
    published = anonymous_client.get("/.well-known/jwks.json")  # public: no credentials
    assert published.status_code == 200, published.text
    jwks = published.json()
    assert [k["kty"] for k in jwks["keys"]] == ["OKP"] and "d" not in jwks["keys"][0]  # no private part

    verify = example().verify_delivery
    context = verify(headers, body, jwks, RECEIVER)
    assert context["message_id"] == env["id"] and context["sender"] == SENDER
    assert context["delivery_id"] == headers["hub-delivery-id"]
    # a changed body, another receiver, or a key the hub never published: refused
    with pytest.raises(jwt.InvalidSignatureError):
        verify(headers, body.replace(b'"days":3', b'"days":9'), jwks, RECEIVER)
    with pytest.raises(ValueError, match="not for"):
        verify(headers, body, jwks, "TH/GOV/9999/other")
    with pytest.raises(ValueError, match="no hub key"):
        verify(headers, body, {"keys": [{**jwks["keys"][0], "kid": "someone-else"}]}, RECEIVER)
