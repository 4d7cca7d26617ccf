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


def test_a_webhook_delivery_carries_the_hubs_signature_too(embedded_hub, anonymous_client):
    from hub.adapters.base import SIGNER, SUBSCRIPTIONS
    from hub.adapters.registry import AdapterRegistry
    from hub.security.delivery_signing import DeliverySigner
    from hub.security.wiring import security_of
    from tests.support.conformance import outbound
    from tests.support.webhooks import WebhookSubscriber
    from tests.unit.test_adapter_conformance import _Secrets

    secrets = _Secrets()
    registry = AdapterRegistry()
    registry.provide(SUBSCRIPTIONS, secrets)
    registry.provide(SIGNER, DeliverySigner(security_of(embedded_hub).key))
    hook = WebhookSubscriber("signed").start()
    try:
        hook.secrets = [secrets.secret]
        adapter = registry.build("webhook", {"url": hook.url, "subscription_id": "s", "allow_loopback": True})
        message = outbound("TH/GOV/OCSC/dpis", "hr.person.changed/v1", {"citizen_id": "1101700203450"},
                           receiver="TH/GOV/FANOUT/hr")
        adapter.send(message)
        adapter.close()
        [request] = hook.requests
    finally:
        hook.stop()
    context = example().verify_delivery(request["headers"], request["body"],
                                        anonymous_client.get("/.well-known/jwks.json").json(), "TH/GOV/FANOUT/hr")
    assert context["message_id"] == message.id and context["service"] == "hr.person.changed/v1"
