"""The delivery worker: consumes message ids from the broker and delivers them in a thread pool.

The consumer thread collects what the broker has ready, claims those messages in one
transaction, and hands each claim to a delivery thread. A broker message is acknowledged
only after its outcome is committed to the database (or, for a message that was not ours
to claim, at once).
"""
from __future__ import annotations

import logging
import queue
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hub.transport.broker import connect, delivery_queue, is_polled
from hub.transport.delivery import Deliverer
from hub.transport.idle import Doorbell, IdleBackoff

log = logging.getLogger(__name__)

# How many ready broker messages the consumer gathers before claiming them together.
CLAIM_BATCH = 128
# While deliveries are in flight the consumer looks this often, to acknowledge them promptly.
BUSY_WAIT_SECONDS = 0.05


class DeliveryWorker:
    def __init__(self, deliverer: Deliverer, broker_url: str, queue_name: str, concurrency: int, *,
                 idle_max_seconds: float = 1.0, doorbell: Doorbell | None = None) -> None:
        self._deliverer = deliverer
        self._url = broker_url
        self._queue = delivery_queue(queue_name)
        self._concurrency = concurrency
        # Idle, the consumer backs off to ``idle_max_seconds``; the relay of this process rings
        # ``doorbell`` after publishing, so a polled broker is looked at again at once.
        self._idle = IdleBackoff(BUSY_WAIT_SECONDS, max(BUSY_WAIT_SECONDS, idle_max_seconds))
        self._doorbell = doorbell or Doorbell()
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="deliver") as pool:
            while not stop.is_set():
                try:
                    self._consume(pool, stop)
                except Exception:
                    log.exception("broker connection lost; reconnecting in 1 s")
                    stop.wait(1.0)
        self._deliverer.close()

    def _consume(self, pool: ThreadPoolExecutor, stop: threading.Event) -> None:
        finished: queue.SimpleQueue[tuple[Any, Future[str]]] = queue.SimpleQueue()
        ready: list[tuple[str, Any]] = []

        def on_message(body: Any, message: Any) -> None:
            message_id = body.get("id") if isinstance(body, dict) else None
            if not isinstance(message_id, str):
                log.error("dropping malformed broker message %r (no message id)", body)
                message.ack()
                return
            ready.append((message_id, message))

        with connect(self._url) as conn:
            conn.ensure_connection(max_retries=3)
            with conn.Consumer(self._queue, callbacks=[on_message], accept=["json"],
                               prefetch_count=self._concurrency * 4):
                polled = is_polled(conn)
                while not stop.is_set():
                    self._gather(conn, self._next_wait(bool(ready)), polled)
                    if ready:
                        self._dispatch(ready, pool, finished)
                        ready.clear()
                    self._ack_finished(finished)
                pool.shutdown(wait=True)  # let deliveries in flight finish and be acknowledged
                self._ack_finished(finished)

    def _next_wait(self, found_work: bool) -> float:
        with self._in_flight_lock:
            busy = found_work or self._in_flight > 0
        return self._idle.next_wait(busy)

    def _gather(self, conn: Any, wait: float, polled: bool) -> None:
        """Collect what the broker has ready, waiting up to ``wait`` for the first message. A
        socket broker is waited on (the server wakes us); a polled one is looked at once, and
        the wait is spent on the doorbell instead of on repeated polls."""
        try:
            if polled:
                conn.drain_events(timeout=0)
            else:
                conn.drain_events(timeout=wait)
        except socket.timeout:
            if polled and self._doorbell.wait(wait):
                self._idle.reset()
            return
        for _ in range(CLAIM_BATCH):
            try:
                conn.drain_events(timeout=0)
            except socket.timeout:
                return

    def _dispatch(self, ready: list[tuple[str, Any]], pool: ThreadPoolExecutor,
                  finished: queue.SimpleQueue) -> None:
        by_id: dict[str, list[Any]] = {}
        for message_id, message in ready:
            by_id.setdefault(message_id, []).append(message)
        claims = self._deliverer.claim(list(by_id))
        for claim in claims:
            broker_messages = by_id.pop(claim.meta.key or str(claim.meta.id))
            # The delivery thread hands its outcome to the group commit and moves on; the
            # broker message is acknowledged when that commit is done.
            with self._in_flight_lock:
                self._in_flight += 1
            attempted = pool.submit(self._deliverer.attempt, claim)
            attempted.add_done_callback(
                lambda f, ms=broker_messages: self._when_recorded(f, ms, finished))
        for broker_messages in by_id.values():  # delivered already, or another worker holds it
            for message in broker_messages:
                message.ack()

    def _when_recorded(self, attempted: Future, broker_messages: list[Any], finished: queue.SimpleQueue) -> None:
        if attempted.exception() is not None:
            target: Future = attempted
        else:
            target = self._deliverer.record_async(attempted.result())
        target.add_done_callback(lambda _: self._finished_one())
        for message in broker_messages:
            target.add_done_callback(lambda f, m=message: finished.put((m, f)))

    def _finished_one(self) -> None:
        with self._in_flight_lock:
            self._in_flight -= 1

    def _ack_finished(self, finished: queue.SimpleQueue) -> None:
        while True:
            try:
                message, future = finished.get_nowait()
            except queue.Empty:
                return
            error = future.exception()
            if error is not None:
                # The database failed while recording; the lease will hand the id out again.
                log.error("delivery bookkeeping failed: %s", error, exc_info=error)
            message.ack()
