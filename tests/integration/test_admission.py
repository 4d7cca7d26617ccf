"""Finding 8: back-pressure instead of unbounded latency (issue 12).

Accepts beyond the configured concurrency wait a bounded time and are then refused with 503
and Retry-After; /readyz says not ready meanwhile; a database that does not answer is a 503
with Retry-After, not a bare 500.
"""
from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from sqlalchemy.exc import OperationalError

from tests.support.auth import register_receiver

ENVELOPE = {"sender": "TH/GOV/OCSC/hr", "receiver": "TH/GOV/NESDC/plan", "service": "hr.leave/v1", "payload": {"x": 1}}


@pytest.fixture
def held_accepts(embedded_hub, monkeypatch):
    """Accepts wait until the test opens the gate (a saturated database); one may be in flight,
    the next waits 0.2 s for its turn."""
    embedded_hub.settings.accept_concurrency = 1
    embedded_hub.settings.accept_wait_seconds = 0.2
    gate = threading.Event()
    real = embedded_hub.messages.accept_async

    async def held(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        while not gate.is_set():
            await asyncio.sleep(0.01)
        return await real(*args, **kwargs)
    monkeypatch.setattr(embedded_hub.messages, "accept_async", held)
    yield gate
    gate.set()


def test_excess_accepts_are_refused_with_503_and_retry_after(embedded_hub, embedded_client, held_accepts):
    register_receiver(embedded_client, "TH/GOV/NESDC/plan")
    embedded_client.post("/v1/routes", json={"receiver": "TH/GOV/NESDC/plan", "service": "*", "adapter": "memory",
                                             "settings": {"mailbox": "p"}}).raise_for_status()
    gate = held_accepts
    # (status, whether the admitted accept had been let through when this answer came, Retry-After)
    answers: list[tuple[int, bool, str | None]] = []

    def submit() -> None:
        r = embedded_client.post("/v1/messages", json={**ENVELOPE, "id": str(uuid.uuid4())})
        answers.append((r.status_code, gate.is_set(), r.headers.get("Retry-After")))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    # One request holds the only slot until the gate opens; the other three are refused after
    # waiting their turn, without waiting for it. (A deadline, not a speed: this fails only if
    # they are never answered while it is held.)
    deadline = time.monotonic() + 30
    while sum(1 for status, _, _ in answers if status == 503) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    ready = embedded_client.get("/readyz")
    gate.set()
    for t in threads:
        t.join()
    statuses = sorted(s for s, _, _ in answers)
    assert statuses == [202, 503, 503, 503], answers
    assert all(retry == "1" and not let_through for s, let_through, retry in answers if s == 503), answers
    assert ready.status_code == 503 and ready.json()["checks"]["admission"] == "saturated"


def test_a_database_that_does_not_answer_is_a_503_with_retry_after(embedded_hub, embedded_client, monkeypatch):
    def down(*_, **__):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    monkeypatch.setattr(embedded_hub.messages, "find", down)  # the first read of GET /v1/messages/{id}
    answer = embedded_client.get(f"/v1/messages/{uuid.uuid4()}")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json()["code"] == "unavailable"
