"""The delivery worker: consumes message ids from the broker and delivers them in a thread pool.

The consumer thread collects what the broker has ready and hands the batch to a claim
thread, which claims those messages in one transaction and gives each claim to a delivery
thread; meanwhile the consumer goes on gathering and acknowledging (a profile showed it
waiting on the claim's round trip with the delivery threads idle). A broker message is
acknowledged, always by the consumer thread (a channel is not shared between threads), only
after its outcome is committed to the database (or, for a message that was not ours to
claim, once the claim has shown that).
"""
from __future__ import annotations

import logging
import queue
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hub.transport.broker import IDS_PER_BROKER_MESSAGE, connect, delivery_queue, is_polled
from hub.transport.delivery import Deliverer
from hub.transport.idle import Doorbell, IdleBackoff

log = logging.getLogger(__name__)


class _BrokerMessage:
    """A broker message carrying several ids: acknowledged once every one of them is done.
    Ids are counted off by whichever thread finishes them; the acknowledgement itself is left
    to the consumer thread (which alone may use the channel)."""

    __slots__ = ("message", "_left", "_lock")

    def __init__(self, message: Any, ids: int) -> None:
        self.message = message
        self._left = ids
        self._lock = threading.Lock()

    def one_done(self, acknowledge: queue.SimpleQueue) -> None:
        """One of its ids is done; the last one hands the message to ``acknowledge``."""
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last:
            acknowledge.put(self.message)


class _Acknowledger:
    """Acknowledges finished broker messages, on the consumer thread. With ``cumulative``
    (AMQP), finished messages at the head of those received in order are acknowledged by one
    ``basic.ack`` with ``multiple`` for the last of them (one frame instead of one per message:
    the acknowledgements were a third of the consumer thread in a profile); a finished message
    behind an unfinished one is acknowledged on its own at once, so a slow delivery holds back
    no acknowledgement (and no prefetch room). Only finished messages are ever covered."""

    def __init__(self) -> None:
        self.cumulative = False
        self._outstanding: list[Any] = []  # received, not yet acknowledged, in delivery-tag order

    def received(self, message: Any) -> None:
        if self.cumulative:
            self._outstanding.append(message)

    def acknowledge(self, finished: queue.SimpleQueue) -> None:
        done: list[Any] = []
        while True:
            try:
                done.append(finished.get_nowait())
            except queue.Empty:
                break
        if not done:
            return
        if not self.cumulative:
            for message in done:
                message.ack()
            return
        finished_ids = {id(m) for m in done}
        head = 0
        while head < len(self._outstanding) and id(self._outstanding[head]) in finished_ids:
            head += 1
        if head:
            self._outstanding[head - 1].ack(multiple=True)
        covered = {id(m) for m in self._outstanding[:head]}
        for message in done:
            if id(message) not in covered:
                message.ack()
        self._outstanding = [m for m in self._outstanding[head:] if id(m) not in finished_ids]


def _ids_of(body: Any) -> list[str] | None:
    if isinstance(body, dict):
        if isinstance(body.get("ids"), list) and body["ids"] and all(isinstance(i, str) for i in body["ids"]):
            return body["ids"]
        if isinstance(body.get("id"), str):  # one id per message: what relays before batching sent
            return [body["id"]]
    return None


# How many ready message ids the consumer gathers before claiming them together.
CLAIM_BATCH = 128
# While deliveries are in flight the consumer looks this often, to acknowledge them promptly.
BUSY_WAIT_SECONDS = 0.05
# Claim transactions in flight at once per worker process.
CLAIMERS = 2
# The idle ceiling of the consumer on a polled broker (the embedded one). Every process that
# publishes to the broker (its relay) also runs a consumer and rings that consumer's doorbell,
# so a message published after a quiet spell is taken at once by the publishing process; the
# consumer's own polls only pick up what another process left, and each costs a query through
# kombu (at 1 s, half of an idle ``hub serve``'s CPU).
POLLED_IDLE_MAX_SECONDS = 10.0


class DeliveryWorker:
    def __init__(self, deliverer: Deliverer, broker_url: str, queue_name: str, concurrency: int, *,
                 idle_max_seconds: float = 1.0, doorbell: Doorbell | None = None) -> None:
        self._deliverer = deliverer
        self._url = broker_url
        self._queue = delivery_queue(queue_name)
        self._concurrency = concurrency
        # Idle, the consumer backs off to ``idle_max_seconds``; the relay of this process rings
        # ``doorbell`` after publishing, so a polled broker is looked at again at once.
        self._idle_max = max(BUSY_WAIT_SECONDS, idle_max_seconds)
        self._idle = IdleBackoff(BUSY_WAIT_SECONDS, self._idle_max)
        self._doorbell = doorbell or Doorbell()
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        with ThreadPoolExecutor(self._concurrency, thread_name_prefix="deliver") as pool, \
                ThreadPoolExecutor(CLAIMERS, thread_name_prefix="claim") as claimer:
            while not stop.is_set():
                try:
                    self._consume(pool, claimer, stop)
                except Exception:
                    log.exception("broker connection lost; reconnecting in 1 s")
                    stop.wait(1.0)
        self._deliverer.close()

    def _consume(self, pool: ThreadPoolExecutor, claimer: ThreadPoolExecutor, stop: threading.Event) -> None:
        finished: queue.SimpleQueue[Any] = queue.SimpleQueue()  # broker messages ready to acknowledge
        failed_claims: queue.SimpleQueue[BaseException] = queue.SimpleQueue()
        ready: list[tuple[str, Any]] = []
        acks = _Acknowledger()

        def on_message(body: Any, message: Any) -> None:
            ids = _ids_of(body)
            if ids is None:
                log.error("dropping malformed broker message %r (no message ids)", body)
                message.ack()
                return
            whole = _BrokerMessage(message, len(ids))
            ready.extend((message_id, whole) for message_id in ids)
            acks.received(message)

        # About four ids per delivery thread held from the broker, as before ids were batched.
        prefetch = max(2, self._concurrency * 4 // IDS_PER_BROKER_MESSAGE)
        with connect(self._url) as conn:
            conn.ensure_connection(max_retries=3)
            with conn.Consumer(self._queue, callbacks=[on_message], accept=["json"], prefetch_count=prefetch):
                polled = is_polled(conn)
                # kombu's virtual transports ignore ``multiple`` (they would leave the others
                # unacknowledged): there every message is acknowledged on its own.
                acks.cumulative = not polled
                self._idle = IdleBackoff(BUSY_WAIT_SECONDS,
                                         max(self._idle_max, POLLED_IDLE_MAX_SECONDS) if polled else self._idle_max)
                while not stop.is_set():
                    self._gather(conn, self._next_wait(bool(ready)), polled, ready)
                    if ready:
                        with self._in_flight_lock:
                            self._in_flight += 1  # the claim itself, until its deliveries are started
                        claimer.submit(self._dispatch, list(ready), pool, finished, failed_claims)
                        ready.clear()
                    acks.acknowledge(finished)
                    self._raise_failed_claim(failed_claims)
                claimer.shutdown(wait=True)
                pool.shutdown(wait=True)  # let deliveries in flight finish and be acknowledged
                acks.acknowledge(finished)

    def _next_wait(self, found_work: bool) -> float:
        with self._in_flight_lock:
            busy = found_work or self._in_flight > 0
        return self._idle.next_wait(busy)

    def _gather(self, conn: Any, wait: float, polled: bool, ready: list[tuple[str, Any]]) -> None:
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
        while len(ready) < CLAIM_BATCH:
            try:
                conn.drain_events(timeout=0)
            except socket.timeout:
                return

    @staticmethod
    def _raise_failed_claim(failed_claims: queue.SimpleQueue) -> None:
        """A claim that failed (database unreachable) leaves its broker messages unacknowledged;
        reconnecting hands them out again."""
        try:
            error = failed_claims.get_nowait()
        except queue.Empty:
            return
        raise RuntimeError("claiming a batch failed") from error

    def _dispatch(self, ready: list[tuple[str, Any]], pool: ThreadPoolExecutor,
                  finished: queue.SimpleQueue, failed_claims: queue.SimpleQueue) -> None:
        """On a claim thread: claim the batch, start a delivery per claim."""
        try:
            self._claim_and_start(ready, pool, finished)
        except Exception as exc:
            log.error("claiming %d messages failed: %s", len(ready), exc)
            failed_claims.put(exc)
        finally:
            self._finished_one()

    def _claim_and_start(self, ready: list[tuple[str, Any]], pool: ThreadPoolExecutor,
                         finished: queue.SimpleQueue) -> None:
        by_id: dict[str, list[_BrokerMessage]] = {}
        for message_id, message in ready:
            by_id.setdefault(message_id, []).append(message)
        claims = self._deliverer.claim(list(by_id))
        with self._in_flight_lock:
            self._in_flight += len(claims)
        for claim in claims:
            broker_messages = by_id.pop(claim.meta.key or str(claim.meta.id))
            # The delivery thread hands its outcome to the group commit and moves on; the
            # broker message is acknowledged when that commit is done.
            attempted = pool.submit(self._deliverer.attempt, claim)
            attempted.add_done_callback(
                lambda f, ms=broker_messages: self._when_recorded(f, ms, finished))
        for broker_messages in by_id.values():  # delivered already, or another worker holds it
            for message in broker_messages:
                message.one_done(finished)

    def _when_recorded(self, attempted: Future, broker_messages: list[_BrokerMessage],
                       finished: queue.SimpleQueue) -> None:
        if attempted.exception() is not None:
            self._recorded(attempted, broker_messages, finished)
            return
        self._deliverer.record_async(attempted.result()).add_done_callback(
            lambda f: self._recorded(f, broker_messages, finished))

    def _recorded(self, outcome: Future, broker_messages: list[_BrokerMessage], finished: queue.SimpleQueue) -> None:
        """The outcome is committed (or recording it failed): count the id off its broker messages."""
        error = outcome.exception()
        if error is not None:
            # The database failed while recording; the lease will hand the id out again.
            log.error("delivery bookkeeping failed: %s", error, exc_info=error)
        self._finished_one()
        for message in broker_messages:
            message.one_done(finished)

    def _finished_one(self) -> None:
        with self._in_flight_lock:
            self._in_flight -= 1

