"""A receiver's answer is stored as the delivery's receipt or error, whatever bytes it holds.

PostgreSQL's ``text`` cannot hold U+0000: a receiver answering ``ok\\0`` made the outcome's
``UPDATE`` fail, so the message stayed ``delivering`` and was handed out again after every
lease, each time re-sent to a receiver that had already answered. The answer is kept with
U+0000 shown as U+FFFD, on both backends, and the message ends where the answer says.
"""
from __future__ import annotations

import uuid

import pytest

from tests.integration.test_smaller_findings import Recorder
from tests.support.auth import register_receiver
from tests.support.waiting import wait_for

SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"


@pytest.mark.parametrize(("status", "body", "ends", "field"), [
    (200, b"ok\x00tail", "delivered", "receipt"),
    (400, b"bad\x00input", "dead", "last_error"),
])
def test_an_answer_holding_nul_is_kept_and_the_message_ends_once(client, as_agency, status, body, ends, field):
    receiver = Recorder(status=status, body=body)
    try:
        register_receiver(client, RECEIVER)
        added = client.post("/v1/routes", json={
            "receiver": RECEIVER, "service": SERVICE, "adapter": "http", "max_attempts": 3,
            "settings": {"url": receiver.url, "timeout_seconds": 5},
            "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.1})
        assert added.status_code == 201, added.text
        sender = as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
        env = {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
               "payload": {"order": "กค 0401/7", "days": 2}}
        assert sender.post("/v1/messages", json=env).status_code == 202
        meta = lambda: client.get(f"/v1/messages/{env['id']}").json()  # noqa: E731
        wait_for(lambda: meta()["status"] == ends, what=f"the message {ends}")
        stored = meta()
        shown = body.decode().replace("\x00", "\ufffd")
        assert shown in (stored.get(field) or ""), stored
        assert len(receiver.requests) == 1  # answered once, recorded once: never handed out again
    finally:
        receiver.close()
