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
def slow_accepts(embedded_hub, monkeypatch):
    """Accepts take 1 s (a saturated database); one may be in flight, the next waits 0.2 s."""
    embedded_hub.settings.accept_concurrency = 1
    embedded_hub.settings.accept_wait_seconds = 0.2
    real = embedded_hub.messages.accept_async

    async def slow(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        await asyncio.sleep(1.0)
        return await real(*args, **kwargs)
    monkeypatch.setattr(embedded_hub.messages, "accept_async", slow)


def test_excess_accepts_are_refused_with_503_and_retry_after(embedded_hub, embedded_client, slow_accepts):
    register_receiver(embedded_client, "TH/GOV/NESDC/plan")
    embedded_client.post("/v1/routes", json={"receiver": "TH/GOV/NESDC/plan", "service": "*", "adapter": "memory",
                                             "settings": {"mailbox": "p"}}).raise_for_status()
    answers: list[tuple[int, float, str | None]] = []

    def submit() -> None:
        start = time.monotonic()
        r = embedded_client.post("/v1/messages", json={**ENVELOPE, "id": str(uuid.uuid4())})
        answers.append((r.status_code, time.monotonic() - start, r.headers.get("Retry-After")))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    ready = embedded_client.get("/readyz")
    for t in threads:
        t.join()
    statuses = sorted(s for s, _, _ in answers)
    assert statuses.count(202) >= 1 and statuses.count(503) >= 2, answers
    assert all(retry == "1" and took < 1.0 for s, took, retry in answers if s == 503), answers
    assert ready.status_code == 503 and ready.json()["checks"]["admission"] == "saturated"


def test_a_database_that_does_not_answer_is_a_503_with_retry_after(embedded_hub, embedded_client, monkeypatch):
    def down(*_, **__):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
    monkeypatch.setattr(embedded_hub.messages, "find", down)  # the first read of GET /v1/messages/{id}
    answer = embedded_client.get(f"/v1/messages/{uuid.uuid4()}")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json()["code"] == "unavailable"
