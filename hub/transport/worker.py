"""The delivery worker: consumes message ids from the broker and delivers them in a thread pool.

A broker message is acknowledged only after its outcome is committed to the database.
"""
from __future__ import annotations

import logging
import queue
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hub.transport.broker import connect, delivery_queue
from hub.transport.delivery import Deliverer

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(self, deliverer: Deliverer, broker_url: str, queue_name: str, concurrency: int) -> None:
        self._deliverer = deliverer
        self._url = broker_url
        self._queue = delivery_queue(queue_name)
        self._concurrency = concurrency

    def run(self, stop: threading.Event) -> None:
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="deliver") as pool:
            while not stop.is_set():
                try:
                    self._consume(pool, stop)
                except Exception:
                    log.exception("broker connection lost; reconnecting in 1 s")
                    stop.wait(1.0)

    def _consume(self, pool: ThreadPoolExecutor, stop: threading.Event) -> None:
        finished: queue.SimpleQueue[tuple[Any, Future[str]]] = queue.SimpleQueue()

        def on_message(body: Any, message: Any) -> None:
            message_id = body.get("id") if isinstance(body, dict) else None
            if not isinstance(message_id, str):
                log.error("dropping malformed broker message %r (no message id)", body)
                message.ack()
                return
            future = pool.submit(self._deliverer.deliver, message_id)
            future.add_done_callback(lambda f, m=message: finished.put((m, f)))

        with connect(self._url) as conn:
            conn.ensure_connection(max_retries=3)
            with conn.Consumer(self._queue, callbacks=[on_message], accept=["json"],
                               prefetch_count=self._concurrency * 2):
                while not stop.is_set():
                    try:
                        conn.drain_events(timeout=0.1)
                    except socket.timeout:
                        pass
                    self._ack_finished(finished)
                # Let deliveries in flight finish so their broker messages are acknowledged.
                pool.shutdown(wait=True)
                self._ack_finished(finished)

    @staticmethod
    def _ack_finished(finished: queue.SimpleQueue) -> None:
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
