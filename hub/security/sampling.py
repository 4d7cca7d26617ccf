"""One audit entry per source per interval for anonymous failures, with a count.

A caller sending garbage bearer tokens added 228 entries a second to the audit trail: the
trail grew without bound and real entries drowned. Anonymous refusals (no client id, no
consumer key) are therefore sampled per source address: the first in an interval is recorded,
the rest only counted, and the next entry recorded for that source carries how many were
left out (``suppressed``). Refusals that name a client are recorded each time; the secret
gate (``hub.security.secret_gate``) already bounds how many there can be.
"""
from __future__ import annotations

import threading
import time

MAX_SOURCES = 50_000


class RefusalSampler:
    def __init__(self, interval_seconds: float = 60.0) -> None:
        self.interval = interval_seconds
        self._seen: dict[str, list[float]] = {}  # source -> [start of its interval, refusals left out]
        self._lock = threading.Lock()

    def admit(self, source: str | None, now: float | None = None) -> int | None:
        """The number of refusals left out before this one when it is to be recorded; None to leave it out."""
        now = time.monotonic() if now is None else now
        key = source or "(unknown)"
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and now - seen[0] < self.interval:
                seen[1] += 1
                return None
            if seen is None and len(self._seen) >= MAX_SOURCES:
                self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.interval}
            self._seen[key] = [now, 0]
            return int(seen[1]) if seen is not None else 0
