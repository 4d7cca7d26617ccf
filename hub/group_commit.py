"""Group commit: many threads hand items to one writer that commits them together.

Each caller blocks until the batch holding its item is committed, so "committed before
answering" still holds, but one transaction (and one fsync) serves every request that
arrived while the previous batch was being written. No timer is involved by default: under
light load a batch is a single item and adds no latency; under heavy load batches grow by
themselves. A writer whose callers are not waiting on a request (delivery outcomes) may
``linger``: wait a little for more items while ``linger_while`` says more are coming, so a
steady trickle is committed in fewer, larger transactions.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)


class GroupCommitter(Generic[T, R]):
    def __init__(self, process: Callable[[list[T]], list[R | BaseException]], *, name: str,
                 max_batch: int = 256, linger_seconds: float = 0.0,
                 linger_while: Callable[[], bool] | None = None) -> None:
        """``process`` commits a batch and returns, per item and in order, a result or an exception.

        ``linger_seconds``: after the first item of a batch, wait up to this long for more, but
        only while ``linger_while()`` is true (more items are on their way)."""
        self._process = process
        self._max = max_batch
        self._linger = linger_seconds if linger_while is not None else 0.0
        self._linger_while = linger_while
        self._queue: queue.SimpleQueue[tuple[T, Future[R] | Callable[[R | BaseException], None]] | None] = (
            queue.SimpleQueue())
        self._thread = threading.Thread(target=self._run, name=f"group-commit-{name}", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def submit(self, item: T) -> R:
        return self.submit_async(item).result()

    def submit_async(self, item: T) -> Future[R]:
        future: Future[R] = Future()
        self._put(item, future)
        return future

    def submit_callback(self, item: T, done: Callable[[R | BaseException], None]) -> None:
        """Hand ``item`` over; once its batch is committed, ``done`` is called on the writer's
        thread with the item's result or exception. For a caller that forwards the outcome
        elsewhere (an event loop) without a ``Future`` and its lock and condition in between."""
        self._put(item, done)

    def _put(self, item: T, sink: Future[R] | Callable[[R | BaseException], None]) -> None:
        if not self._started:  # after the first item, no lock per item
            with self._lock:
                if not self._started:
                    self._thread.start()
                    self._started = True
        self._queue.put((item, sink))

    def close(self) -> None:
        with self._lock:
            if self._started:
                self._queue.put(None)
                self._thread.join(timeout=10)
                self._started = False
                self._thread = threading.Thread(target=self._run, name=self._thread.name, daemon=True)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            until = time.monotonic() + self._linger
            while len(batch) < self._max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    left = until - time.monotonic()
                    if left <= 0 or self._linger_while is None or not self._linger_while():
                        break
                    try:
                        nxt = self._queue.get(timeout=left)
                    except queue.Empty:
                        break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[T, Future[R] | Callable[[R | BaseException], None]]]) -> None:
        try:
            results: list[R | BaseException] = self._process([item for item, _ in batch])
        except BaseException as exc:  # the whole batch failed: every caller gets the error
            log.exception("group commit of %d items failed", len(batch))
            results = [exc] * len(batch)
        for (_, sink), result in zip(batch, results, strict=True):
            if not isinstance(sink, Future):
                _call(sink, result)
            elif isinstance(result, BaseException):
                sink.set_exception(result)
            else:
                sink.set_result(result)


def _call(done: Callable[[R | BaseException], None], outcome: R | BaseException) -> None:
    """A caller's callback must not stop the writer from answering the rest of its batch."""
    try:
        done(outcome)
    except Exception:
        log.exception("a group commit callback failed")
