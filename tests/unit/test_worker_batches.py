"""The relay sends message ids several to a broker message; the worker claims them off its
consumer thread and acknowledges a broker message only when every id in it is done.

A fake deliverer stands in for the database; the broker is kombu's in-memory transport, or
the embedded SQLAlchemy one where unacknowledged messages must come back (the in-memory
transport drops them when a connection closes).
"""
import threading
import time
import uuid
from concurrent.futures import Future
from types import SimpleNamespace

from hub.transport.broker import IDS_PER_BROKER_MESSAGE, Publisher, connect, delivery_queue
from hub.transport.delivery import Claim, Outcome
from hub.transport.worker import DeliveryWorker, _ids_of


class FakeDeliverer:
    def __init__(self, *, not_ours: set[str] = frozenset(), fail_first_claims: int = 0) -> None:
        self.attempted: list[str] = []
        self.claimed_batches: list[list[str]] = []
        self._not_ours = set(not_ours)
        self._fail = fail_first_claims
        self._lock = threading.Lock()

    def claim(self, ids: list[str]) -> list[Claim]:
        with self._lock:
            if self._fail:
                self._fail -= 1
                raise ConnectionError("database unreachable")
            self.claimed_batches.append(list(ids))
        return [Claim(SimpleNamespace(id=i, key=i), 1, None) for i in ids if i not in self._not_ours]

    def attempt(self, claim: Claim) -> Outcome:
        with self._lock:
            self.attempted.append(str(claim.meta.id))
        return Outcome(str(claim.meta.id), 1, "delivered", {}, [])

    def record_async(self, outcome: Outcome) -> Future:
        done: Future = Future()
        done.set_result(outcome.status)
        return done

    def close(self) -> None:
        pass


def run_worker(deliverer: FakeDeliverer, queue_name: str, until, url: str = "memory://") -> None:  # noqa: ANN001
    stop = threading.Event()
    worker = DeliveryWorker(deliverer, url, queue_name, concurrency=4)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not until() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # let the last acknowledgements go out
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def left_in_queue(queue_name: str, url: str = "memory://") -> int:
    with connect(url) as conn:
        return delivery_queue(queue_name)(conn.default_channel).queue_declare(passive=True).message_count


def publish(queue_name: str, ids: list[str], url: str = "memory://") -> None:
    publisher = Publisher(url, queue_name)
    try:
        publisher.publish(ids)
    finally:
        publisher.close()


def test_ids_travel_several_to_a_broker_message_and_each_is_delivered_once():
    queue_name = f"test.batches.{uuid.uuid4().hex[:8]}"
    ids = [str(uuid.uuid4()) for _ in range(2 * IDS_PER_BROKER_MESSAGE + 3)]
    publish(queue_name, ids)
    assert left_in_queue(queue_name) == 3  # 16 + 16 + 3 ids
    not_ours = set(ids[:2])  # another worker holds these: acknowledged without a delivery
    deliverer = FakeDeliverer(not_ours=not_ours)
    run_worker(deliverer, queue_name, lambda: len(deliverer.attempted) >= len(ids) - 2)
    assert sorted(deliverer.attempted) == sorted(set(ids) - not_ours)
    assert left_in_queue(queue_name) == 0  # every broker message acknowledged, none given back


def test_a_failed_claim_leaves_its_broker_messages_to_be_handed_out_again(tmp_path):
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    queue_name = "test.batches"
    ids = [str(uuid.uuid4()) for _ in range(IDS_PER_BROKER_MESSAGE)]
    publish(queue_name, ids, url)
    deliverer = FakeDeliverer(fail_first_claims=1)
    run_worker(deliverer, queue_name, lambda: len(deliverer.attempted) >= len(ids), url)
    assert len(deliverer.claimed_batches) >= 1  # the first claim failed, a later one succeeded
    assert sorted(deliverer.attempted) == sorted(ids)  # after the reconnect, claimed and delivered
    assert left_in_queue(queue_name, url) == 0


def test_broker_bodies_with_one_id_or_several_are_read_and_others_refused():
    assert _ids_of({"ids": ["a", "b"]}) == ["a", "b"]
    assert _ids_of({"id": "a"}) == ["a"]
    for bad in ({"ids": []}, {"ids": ["a", 1]}, {"id": 5}, ["a"], None):
        assert _ids_of(bad) is None


class AckRecorder:
    """Stands in for a kombu message: records how it was acknowledged."""

    def __init__(self, tag: int, log: list) -> None:
        self.tag, self._log = tag, log

    def ack(self, multiple: bool = False) -> None:
        self._log.append((self.tag, multiple))


def test_acknowledgements_cover_only_finished_messages_and_a_slow_one_holds_none_back() -> None:
    import queue

    from hub.transport.worker import _Acknowledger

    log: list = []
    acks = _Acknowledger()
    acks.cumulative = True
    received = [AckRecorder(tag, log) for tag in range(1, 7)]
    for message in received:
        acks.received(message)
    finished: queue.SimpleQueue = queue.SimpleQueue()
    for tag in (1, 2, 3, 5):  # 4 is still being delivered
        finished.put(received[tag - 1])
    acks.acknowledge(finished)
    # 1-3 by one frame; 5, behind the unfinished 4, at once on its own; 4 and 6 not at all
    assert sorted(log) == [(3, True), (5, False)]
    log.clear()
    finished.put(received[5])
    finished.put(received[3])
    acks.acknowledge(finished)
    assert log == [(6, True)]  # 4 and 6 now at the head (5 was acknowledged already)
    log.clear()
    acks.acknowledge(finished)
    assert log == []


def test_acknowledgements_one_by_one_on_a_polled_broker() -> None:
    import queue

    from hub.transport.worker import _Acknowledger

    log: list = []
    acks = _Acknowledger()  # a polled broker ignores ``multiple``
    finished: queue.SimpleQueue = queue.SimpleQueue()
    for tag in (1, 2):
        message = AckRecorder(tag, log)
        acks.received(message)
        finished.put(message)
    acks.acknowledge(finished)
    assert log == [(1, False), (2, False)]
