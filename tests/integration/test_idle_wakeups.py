"""An idle hub sleeps long, yet work still flows at once: an accept wakes the relay, the relay
wakes the delivery worker, and a retry that falls due wakes the relay (hub/transport/idle.py).

The idle ceiling here is 60 s, so every delivery that completes within the wait below was
woken by work, not by the ceiling running out.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.adapters.memory import reset_mailboxes
from hub.api.app import create_app
from hub.bootstrap import build_hub
from tests.conftest import fast_settings
from tests.support.auth import admin_token, bearer, register_receiver
from tests.support.waiting import wait_for

SENDER, RECEIVER, SERVICE = "TH/GOV/CGD/saraban", "TH/GOV/OCSC/hr", "hr.attendance/v1"


@pytest.fixture
def sleepy(tmp_path: Path) -> Iterator[TestClient]:
    reset_mailboxes()
    hub = build_hub(fast_settings(tmp_path / "data", idle_max_seconds=60))
    try:
        with TestClient(create_app(hub), headers=bearer(admin_token(hub))) as client:
            yield client
    finally:
        hub.close()


def send(client: TestClient) -> str:
    message_id = str(uuid.uuid4())
    response = client.post("/v1/messages", json={"id": message_id, "sender": SENDER, "receiver": RECEIVER,
                                                 "service": SERVICE, "payload": {"days": 1}})
    assert response.status_code == 202, response.text
    return message_id


def history(client: TestClient, message_id: str) -> list[str]:
    return [h["kind"] for h in client.get(f"/v1/messages/{message_id}").json()["history"]]


def test_after_a_quiet_spell_an_accept_and_a_due_retry_are_handled_without_waiting_for_the_ceiling(
        sleepy: TestClient) -> None:
    register_receiver(sleepy, RECEIVER)
    response = sleepy.post("/v1/routes", json={
        "receiver": RECEIVER, "service": SERVICE, "adapter": "memory", "settings": {"mailbox": "flaky", "fail_times": 1},
        "max_attempts": 3, "backoff_base_seconds": 1.0, "backoff_max_seconds": 1.0})
    assert response.status_code == 201, response.text
    first = send(sleepy)
    wait_for(lambda: history(sleepy, first)[-1] == "delivered", timeout=20, what="first delivery after one retry")
    assert history(sleepy, first).count("attempt_failed") == 1
    # The loops have found no work since; a new message is still delivered long before 60 s.
    time.sleep(3)  # a quiet spell: the loops back off towards their ceiling
    second = send(sleepy)
    wait_for(lambda: history(sleepy, second)[-1] == "delivered", timeout=20, what="delivery after a quiet spell")
