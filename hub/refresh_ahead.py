"""A small time-bounded cache whose entries are re-read in the background before they expire.

The accept path reads four facts per request from memory: the caller's principal, its access
right, the receiver's clearance and the routes. Each is cached for a few seconds, so that a
change made by another process is seen within that bound. With plain expiry, every entry
loaded together expires together: every request in flight at that moment then goes to a
thread and to the database at once, and that is the accept path's latency tail.

Here an entry used after a (jittered) part of its lifetime is re-read by one background
thread while requests go on being answered from it. The bound holds exactly as before: an
entry is never answered from once it is ``ttl`` seconds older than the read that produced it
(counted from when that read began); after that the caller loads it itself, as with plain
expiry. An entry nobody uses is not refreshed, so an idle process does no reading. A refresh
that fails, or finds the thing gone (``load`` raising), drops the entry: the next caller
loads it and meets the error itself (audited where the caller audits it). ``clear`` (a change
made by this process) drops every entry at once, and a refresh that began before it stores
nothing.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from hub.errors import HubError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
log = logging.getLogger(__name__)

# Refreshed when used after this part of the lifetime, jittered so that entries loaded together
# are not re-read together.
REFRESH_FROM, REFRESH_TO = 0.5, 0.8

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _refresher() -> ThreadPoolExecutor:
    """One thread for every cache in the process: refreshes are small reads, one at a time."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-refresh")
        return _executor


def _no_refresher_in_child() -> None:
    """A forked child has none of its parent's threads: it starts its own refresher when needed."""
    global _executor, _executor_lock
    _executor, _executor_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_no_refresher_in_child)


def refresh_point(ttl: float) -> float:
    """How long after its read an entry is re-read when used (jittered)."""
    return ttl * random.uniform(REFRESH_FROM, REFRESH_TO)  # noqa: S311 (jitter, not secrecy)


def in_background(fn: Callable[[], None]) -> Future[None] | None:
    """Run ``fn`` on the refresher thread, after what was handed to it before; None when it
    cannot (the interpreter is shutting down)."""
    try:
        return _refresher().submit(fn)
    except RuntimeError:
        return None


class RefreshAhead(Generic[K, V]):
    def __init__(self, load: Callable[[K], V], *, ttl: float, maxsize: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``load(key)`` reads the current value (it may do I/O; it runs in the caller's thread
        from ``load_now`` and in the refresher's thread otherwise)."""
        self._load = load
        self._ttl = ttl
        self._maxsize = maxsize
        self._clock = clock
        # key -> (value, expires at, refresh from)
        self._entries: dict[K, tuple[V, float, float]] = {}
        self._pending: set[K] = set()
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The cached value, without I/O; None when there is none young enough. A value past its
        refresh point is returned and re-read in the background."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[1] <= now:
                return None
            if entry[2] > now or key in self._pending:
                return entry[0]
            self._pending.add(key)
            generation = self._generation
        if in_background(lambda: self._refresh(key, generation)) is None:  # shutting down: the entry expires
            with self._lock:
                self._pending.discard(key)
        return entry[0]

    def load_now(self, key: K) -> V:
        """Read the value in this thread and cache it (``load``'s exceptions propagate, nothing cached)."""
        started, generation = self._clock(), self._generation
        value = self._load(key)
        self._store(key, value, started, generation)
        return value

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _store(self, key: K, value: V, started: float, generation: int) -> None:
        refresh_at = started + refresh_point(self._ttl)
        with self._lock:
            if generation != self._generation:  # cleared while this was being read: it may predate the change
                return
            self._entries.pop(key, None)
            while len(self._entries) >= self._maxsize:  # the least recently loaded go first
                del self._entries[next(iter(self._entries))]
            self._entries[key] = (value, started + self._ttl, refresh_at)

    def _refresh(self, key: K, generation: int) -> None:
        started = self._clock()
        try:
            value = self._load(key)
        except Exception as exc:  # noqa: BLE001  gone, refused or unreadable: the next caller loads it and sees why
            # A refusal (a client disabled meanwhile) is an answer, not a fault.
            log.log(logging.DEBUG if isinstance(exc, HubError) else logging.WARNING,
                    "refreshing the cached %r failed (%s): entry dropped", key, exc)
            with self._lock:
                self._pending.discard(key)
                if generation == self._generation:
                    self._entries.pop(key, None)
            return
        with self._lock:
            self._pending.discard(key)
        self._store(key, value, started, generation)
