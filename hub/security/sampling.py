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
from collections.abc import Callable

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


class SampledRefusals:
    """Refusals recorded in the audit trail one per (actor, reason key) per interval, with a count.

    For refusals that a caller can repeat as fast as it likes after authenticating (the e-CMS
    node's E008/E010/E017: a department asking for items that are not its own): each is a fact
    the trail must hold, but not once per request. ``audit`` is ``AuditLog.record``.
    """

    def __init__(self, record: Callable[..., object], kind: str, interval_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._record = record
        self._kind = kind
        self._sampler = RefusalSampler(interval_seconds)
        self._clock = clock

    def __call__(self, actor: str, target: str | None, key: str, **detail: object) -> bool:
        """Record this refusal unless one like it (same actor and key) was recorded this interval."""
        suppressed = self._sampler.admit(f"{actor}\n{key}", self._clock())
        if suppressed is None:
            return False
        self._record(self._kind, actor=actor, decision="refused", target=target, suppressed=suppressed,
                     interval_seconds=self._sampler.interval, **detail)
        return True
