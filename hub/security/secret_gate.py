"""Bounds on secret checks, which cost memory and CPU before the caller is known.

An argon2 check takes ~19 MiB and tens of milliseconds on purpose. Unbounded, 40 callers
sending wrong secrets in parallel took the hub to 2.4 GiB and legitimate latency from 12 ms
to 6 s. So every secret check (client secrets, people's passwords) passes this gate first:

* a **failure limit** per client id (or username) and per source address, over a sliding
  window: once reached, the check is refused with 429 and ``Retry-After`` *without* running
  argon2 (a correct secret within the limit is not held back by anyone else's failures from
  other addresses, only by failures on the same id);
* a **concurrency limit**: at most ``auth_concurrency`` checks run at once; a check that
  cannot start within ``auth_wait_seconds`` is refused with 429 and ``Retry-After``;
* **priority for the trusted**: a wrong-secret flood must not make legitimate callers queue
  behind it (before this, legitimate p50 was ~3.5 s under 40 parallel wrong secrets). Each
  check waits in one of three tiers: the client id that last succeeded from this address with
  no failure since (``KNOWN``), a caller with no recent failure on its id or address
  (``CLEAN``), and one with recent failures (``SUSPECT``). A free slot goes to the best tier
  waiting, and suspects may hold at most ``auth_concurrency - 1`` slots, so one is always
  left for the others. A flood from fresh ids and addresses is ``CLEAN`` until it fails, then
  ``SUSPECT``: a legitimate caller waits at most for one running check to end.

The gate knows no web framework: the entry point passes the source address
(``source_address`` picks it from the TCP peer, or from a trusted proxy's X-Forwarded-For).
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from hub.errors import TooManyRequests

MAX_KEYS = 50_000  # failure histories kept; beyond this the stalest are dropped (memory stays bounded)
KNOWN, CLEAN, SUSPECT = 0, 1, 2  # waiting tiers, best first
KNOWN_FOR = 24 * 3600.0  # a success from an address vouches for that id there this long (until it fails)


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

    def recent(self, key: str, now: float) -> bool:
        """Whether ``key`` failed within the window."""
        with self._lock:
            times = self._seen.get(key)
            return bool(times) and times[-1] + self._window > now

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


class TieredSlots:
    """A counting semaphore whose free slot goes to the best tier waiting; ``SUSPECT`` holders
    are capped so that at least one slot stays for the others (when there is more than one)."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._suspect_cap = max(1, size - 1)
        self._suspects = 0
        self._waiting = [0, 0, 0]
        self._changed = threading.Condition()

    def _may_take(self, tier: int) -> bool:
        if self._free == 0 or any(self._waiting[better] for better in range(tier)):
            return False
        return tier != SUSPECT or self._suspects < self._suspect_cap

    def acquire(self, tier: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            self._waiting[tier] += 1
            try:
                while not self._may_take(tier):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._changed.wait(remaining)
                self._free -= 1
                self._suspects += tier == SUSPECT
                return True
            finally:
                self._waiting[tier] -= 1
                # Leaving the queue (served or timed out) may let a worse tier take a free slot.
                self._changed.notify_all()

    def release(self, tier: int) -> None:
        with self._changed:
            self._free += 1
            self._suspects -= tier == SUSPECT
            self._changed.notify_all()


class SecretGate:
    def __init__(self, *, concurrency: int, wait_seconds: float, per_client: int, per_address: int,
                 window_seconds: float) -> None:
        self._slots = TieredSlots(concurrency)
        self._wait = wait_seconds
        self._by_client = FailureWindow(per_client, window_seconds)
        self._by_address = FailureWindow(per_address, window_seconds)
        self._known: OrderedDict[tuple[str, str | None], float] = OrderedDict()  # (id, address) -> last success
        self._known_lock = threading.Lock()

    def tier(self, identity: str, source: str | None, now: float | None = None) -> int:
        """Which queue a check by ``identity`` from ``source`` waits in (``KNOWN``/``CLEAN``/``SUSPECT``)."""
        now = time.monotonic() if now is None else now
        if self._by_client.recent(f"id:{identity}", now) or (source and self._by_address.recent(f"ip:{source}", now)):
            return SUSPECT
        with self._known_lock:
            succeeded = self._known.get((identity, source))
        return KNOWN if succeeded is not None and succeeded + KNOWN_FOR > now else CLEAN

    @contextmanager
    def check(self, identity: str, source: str | None) -> Iterator[None]:
        """Around one secret check: refuses (429) before it starts when a limit is reached."""
        now = time.monotonic()
        wait = max(self._by_client.retry_after(f"id:{identity}", now),
                   self._by_address.retry_after(f"ip:{source}", now) if source else 0.0)
        if wait > 0:
            raise TooManyRequests("too many failed attempts from this client or address; try again later",
                                  retry_after=math.ceil(wait))
        tier = self.tier(identity, source, now)
        if not self._slots.acquire(tier, timeout=self._wait):
            raise TooManyRequests("the hub is busy checking other credentials; try again shortly", retry_after=1)
        try:
            yield
        finally:
            self._slots.release(tier)

    def succeeded(self, identity: str, source: str | None) -> None:
        """A correct secret: this id from this address is waited for first next time."""
        with self._known_lock:
            self._known[(identity, source)] = time.monotonic()
            self._known.move_to_end((identity, source))
            while len(self._known) > MAX_KEYS:
                self._known.popitem(last=False)

    def failed(self, identity: str, source: str | None) -> None:
        now = time.monotonic()
        self._by_client.failed(f"id:{identity}", now)
        if source:
            self._by_address.failed(f"ip:{source}", now)
        with self._known_lock:
            self._known.pop((identity, source), None)
