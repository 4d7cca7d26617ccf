"""Baselines below the HTTP layer: raw database inserts and raw broker round trips."""
from __future__ import annotations

import threading
import time
import uuid

from sqlalchemy import insert

from hub.bench.loadgen import envelope
from hub.clock import utcnow
from hub.db import make_engine
from hub.migrate import upgrade
from hub.schemas.envelope import Envelope, sha256_hex
from hub.transport.broker import connect, delivery_queue
from hub.transport.tables import message_events, message_payloads, messages


def raw_inserts(database_url: str, *, concurrency: int, duration: float, payload_bytes: int,
                sqlite_synchronous: str = "FULL") -> dict:
    """The rows an accept writes (message, payload, event), one transaction each, as fast as possible."""
    engine = make_engine(database_url, sqlite_synchronous=sqlite_synchronous, pool_size=concurrency)
    upgrade(engine)
    body = Envelope.model_validate_json(envelope(payload_bytes, "TH/GOV/BENCH/sink", None, 0)).payload_bytes()
    digest = sha256_hex(body)
    count = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def loop() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            message_id, now = str(uuid.uuid4()), utcnow()
            with engine.begin() as conn:
                conn.execute(insert(messages).values(
                    id=message_id, message_id=message_id, sender="TH/GOV/BENCH/load", receiver="TH/GOV/BENCH/sink",
                    service="bench.ingest/v1", classification="001", speed="001", content_type="application/json",
                    received_at=now, cycle_started_at=now, payload_sha256=digest, payload_size=len(body),
                    route_id=1, status="accepted", attempts=0, next_action_at=now, updated_at=now))
                conn.execute(insert(message_payloads).values(message_id=message_id, body=body))
                conn.execute(insert(message_events).values(message_id=message_id, at=now, kind="accepted",
                                                           detail={"payload_sha256": digest}))
            with lock:
                count += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {"ok": count, "elapsed": elapsed, "per_second": count / elapsed}


def raw_broker(broker_url: str, queue_name: str, *, count: int) -> dict:
    """Publish ``count`` message-id bodies, then consume and acknowledge them all."""
    queue = delivery_queue(queue_name)
    received = 0
    with connect(broker_url) as conn:
        started = time.perf_counter()
        producer = conn.Producer(serializer="json")
        queue(conn.default_channel).declare()
        for _ in range(count):
            producer.publish({"id": str(uuid.uuid4())}, exchange=queue.exchange, routing_key=queue.routing_key,
                             delivery_mode=2)

        def on_message(_body, message) -> None:  # noqa: ANN001
            nonlocal received
            received += 1
            message.ack()

        with conn.Consumer(queue, callbacks=[on_message], accept=["json"], prefetch_count=64):
            deadline = time.monotonic() + 60
            while received < count and time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=1)
                except TimeoutError:
                    continue
        elapsed = time.perf_counter() - started
        queue(conn.default_channel).delete()
    return {"ok": received, "elapsed": elapsed, "per_second": received / elapsed}
