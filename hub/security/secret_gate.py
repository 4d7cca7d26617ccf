"""Bounds on secret checks, which cost memory and CPU before the caller is known.

An argon2 check takes ~19 MiB and tens of milliseconds on purpose. Unbounded, 40 callers
sending wrong secrets in parallel took the hub to 2.4 GiB and legitimate latency from 12 ms
to 6 s. So every secret check (client secrets, people's passwords) passes this gate first:

* a **failure limit** per client id (or username) and per source address, over a sliding
  window: once reached, the check is refused with 429 and ``Retry-After`` *without* running
  argon2 (a correct secret within the limit is not held back by anyone else's failures from
  other addresses, only by failures on the same id);
* a **concurrency limit**: at most ``auth_concurrency`` checks run at once; a check that
  cannot start within ``auth_wait_seconds`` is refused with 429 and ``Retry-After``.

The gate knows no web framework: the entry point passes the source address
(``source_address`` picks it from the TCP peer, or from a trusted proxy's X-Forwarded-For).
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from hub.errors import TooManyRequests

MAX_KEYS = 50_000  # failure histories kept; beyond this the stalest are dropped (memory stays bounded)


def source_address(headers: Mapping[str, str] | None, peer: str | None, trusted_proxies: list[str]) -> str | None:
    """The caller's address: the TCP peer, or, behind a trusted proxy, the last address it appended."""
    if headers and peer is not None and peer in trusted_proxies:
        forwarded = headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:64]
    return peer


class FailureWindow:
    """Failures per key within the last ``window`` seconds, at most ``limit`` remembered per key."""

    def __init__(self, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        with self._lock:
            times = self._seen.get(key)
            if not times or len(times) < self._limit:
                return 0.0
            return max(0.0, times[0] + self._window - now)

    def failed(self, key: str, now: float) -> None:
        with self._lock:
            times = self._seen.get(key)
            if times is None:
                if len(self._seen) >= MAX_KEYS:
                    self._prune(now)
                times = self._seen[key] = deque(maxlen=self._limit)
            times.append(now)

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if not t or t[-1] + self._window < now]:
            del self._seen[key]
        if len(self._seen) >= MAX_KEYS:  # still full of live keys: forget the oldest half
            for key in sorted(self._seen, key=lambda k: self._seen[k][-1])[: MAX_KEYS // 2]:
                del self._seen[key]


class SecretGate:
    def __init__(self, *, concurrency: int, wait_seconds: float, per_client: int, per_address: int,
                 window_seconds: float) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._wait = wait_seconds
        self._by_client = FailureWindow(per_client, window_seconds)
        self._by_address = FailureWindow(per_address, window_seconds)

    @contextmanager
    def check(self, identity: str, source: str | None) -> Iterator[None]:
        """Around one secret check: refuses (429) before it starts when a limit is reached."""
        now = time.monotonic()
        wait = max(self._by_client.retry_after(f"id:{identity}", now),
                   self._by_address.retry_after(f"ip:{source}", now) if source else 0.0)
        if wait > 0:
            raise TooManyRequests("too many failed attempts from this client or address; try again later",
                                  retry_after=math.ceil(wait))
        if not self._slots.acquire(timeout=self._wait):
            raise TooManyRequests("the hub is busy checking other credentials; try again shortly", retry_after=1)
        try:
            yield
        finally:
            self._slots.release()

    def failed(self, identity: str, source: str | None) -> None:
        now = time.monotonic()
        self._by_client.failed(f"id:{identity}", now)
        if source:
            self._by_address.failed(f"ip:{source}", now)
