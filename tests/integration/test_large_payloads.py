"""Large payloads are spooled: stored in pieces, durable, delivered byte for byte with a
verifiable signature, replayable; a bad upload leaves nothing behind. On both backends.

The spool threshold is lowered to 64 KiB so a few hundred KiB exercise the spooled path.
"""
from __future__ import annotations

import uuid
from contextlib import ExitStack
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from hub.api.app import create_app
from hub.bootstrap import build_hub
from hub.schemas.envelope import outbound_document
from hub.transport.tables import message_payload_chunks, message_payloads, messages
from tests.conftest import backend_settings
from tests.integration.test_signed_deliveries import example
from tests.integration.test_smaller_findings import RECEIVER, SENDER, SERVICE, Recorder
from tests.support.auth import admin_token, bearer, register_receiver
from tests.support.waiting import wait_for

THRESHOLD = 64 * 1024


@pytest.fixture
def settings(backend: str, tmp_path: Path):
    with ExitStack() as stack:
        yield backend_settings(backend, tmp_path / "data", stack, spool_threshold_bytes=THRESHOLD)


def big_payload() -> dict:
    """Keys out of order, Thai text, escapes and a nested array: what canonical form sorts and re-escapes."""
    return {"zeta": ["บันทึก \"ข้อความ\"\n\t/ \U0001F600 " * 2000, {"b": 1.5e10, "a": [True, None, -0]}],
            "alpha": "x" * 200_000, "ชื่อ": {"y": "ก" * 1000, "x": 12345678901234}}


def submit(client, payload, *, content_type: str = "application/json"):  # noqa: ANN001, ANN201
    env = {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
           "content_type": content_type, "payload": payload}
    # Indented, with a different key order and ASCII escapes: not the stored form.
    body = orjson.dumps(env, option=orjson.OPT_INDENT_2)
    response = client.post("/v1/messages", content=body, headers={"Content-Type": "application/json"})
    return env, response


def counts(hub) -> tuple[int, int, int]:  # noqa: ANN001
    with hub.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                     for t in (messages, message_payloads, message_payload_chunks))


def test_a_large_payload_is_stored_in_pieces_delivered_signed_and_replayed(hub, client, as_agency, settings):
    receiver = Recorder()
    try:
        register_receiver(client, RECEIVER)
        assert client.post("/v1/routes", json={"receiver": RECEIVER, "service": SERVICE, "adapter": "http",
                                               "settings": {"url": receiver.url}}).status_code == 201
        sender = as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
        payload = big_payload()
        stored = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        env, response = submit(sender, payload)
        assert response.status_code == 202, response.text
        _, _, pieces = counts(hub)
        assert pieces == -(-len(stored) // (1 << 20)) and pieces >= 1  # in pieces, not in message_payloads
        detail = client.get(f"/v1/messages/{env['id']}").json()
        assert detail["payload_size"] == len(stored)
        import hashlib
        assert detail["payload_sha256"] == hashlib.sha256(stored).hexdigest()
        assert client.get(f"/v1/messages/{env['id']}/payload").content == stored

        wait_for(lambda: receiver.requests, what="the delivery")
        jwks = client.get("/.well-known/jwks.json").json()
        verify = example().verify_delivery
        meta = hub.messages.get_meta(env["id"], sender=SENDER)
        assert receiver.bodies[0] == outbound_document(meta, stored)  # byte for byte
        assert verify(receiver.requests[0], receiver.bodies[0], jwks, RECEIVER)["message_id"] == env["id"]

        assert client.post(f"/v1/messages/{env['id']}/replay").status_code == 202
        wait_for(lambda: len(receiver.requests) == 2, what="the replayed delivery")
        assert receiver.bodies[1] == receiver.bodies[0]
        context = verify(receiver.requests[1], receiver.bodies[1], jwks, RECEIVER)
        assert context["delivery_id"] != receiver.requests[0]["hub-delivery-id"]
    finally:
        receiver.close()
    assert not list((settings.data_dir / "spool").iterdir())  # the spool files went with the request


def test_a_spooled_payload_survives_a_restart(hub, client, as_agency, settings):
    register_receiver(client, RECEIVER)
    # No route to a live receiver: the message waits, durable.
    assert client.post("/v1/routes", json={"receiver": RECEIVER, "service": SERVICE, "adapter": "http",
                                           "settings": {"url": "http://127.0.0.1:9/inbox"},
                                           "max_attempts": 50}).status_code == 201
    sender = as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    xml = "<letter>" + "หนังสือ &amp; <![CDATA[x & y]]> " * 20000 + "</letter>"
    env, response = submit(sender, xml, content_type="application/xml")
    assert response.status_code == 202, response.text
    client.close()
    hub.close()
    again = build_hub(settings)
    try:
        from fastapi.testclient import TestClient
        with TestClient(create_app(again), headers=bearer(admin_token(again))) as fresh:
            answer = fresh.get(f"/v1/messages/{env['id']}/payload")
            assert answer.status_code == 200 and answer.content == xml.encode("utf-8")
            assert answer.headers["content-type"].startswith("application/xml")
    finally:
        again.close()


@pytest.mark.parametrize("body", [
    b'{"sender": "TH/GOV/0401/saraban", "payload": {"a": "' + b"x" * 100_000,  # cut short
    b'{"sender": "TH/GOV/0401/saraban", "payload": {"a": "' + b"x" * 100_000 + b'", "a" 1}}',  # broken
    b'{"sender": "TH/GOV/0401/saraban", "receiver": "nobody", "service": "telework.order/v1", '
    b'"payload": {"a": "' + b"x" * 100_000 + b'"}}',  # valid JSON, invalid envelope
    b'{"sender": "TH/GOV/0401/saraban", "receiver": "TH/GOV/1501/hr", "service": "telework.order/v1", '
    b'"payload": "' + b"x" * 100_000 + b'"}',  # a string where JSON content needs an object
])
def test_a_bad_large_upload_leaves_nothing_behind(hub, client, as_agency, settings, body):
    register_receiver(client, RECEIVER)
    sender = as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    before = counts(hub)
    response = sender.post("/v1/messages", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert counts(hub) == before
    assert not list((settings.data_dir / "spool").iterdir())


@pytest.mark.parametrize("cut", ["midway", "last piece"])
def test_a_body_without_content_length_is_spooled_once_it_grows_past_the_threshold(hub, client, as_agency, cut):
    register_receiver(client, RECEIVER)
    assert client.post("/v1/routes", json={"receiver": RECEIVER, "service": SERVICE, "adapter": "memory",
                                           "settings": {"mailbox": "large"}}).status_code == 201
    sender = as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    env = {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
           "payload": {"text": "ข" * 1000}}
    if cut == "last piece":  # everything but the last two bytes fits under the threshold exactly
        env["payload"]["text"] += "x" * (THRESHOLD + 2 - len(orjson.dumps(env)))
        body = orjson.dumps(env)
        pieces = [body[:-2], body[-2:]]
        assert len(pieces[0]) == THRESHOLD
    else:
        env["payload"]["text"] *= THRESHOLD // 1000
        body = orjson.dumps(env)
        pieces = [body[i:i + 10_000] for i in range(0, len(body), 10_000)]
    response = sender.post("/v1/messages", content=iter(pieces), headers={"Content-Type": "application/json"})
    assert response.status_code == 202, response.text
    assert counts(hub)[2] >= 1  # stored in pieces
    assert client.get(f"/v1/messages/{env['id']}/payload").content == orjson.dumps(env["payload"],
                                                                                   option=orjson.OPT_SORT_KEYS)
