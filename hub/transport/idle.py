"""Waiting cheaply: the hub spends most of its life with nothing to do.

Every background loop (relay, delivery worker, audit feed, inbound scheduler) looks for work
on an interval. ``IdleBackoff`` keeps that interval short while a loop finds work and doubles
it, up to a ceiling, while it finds none, so an idle hub wakes a few times a second at most
instead of dozens. ``Doorbell`` lets a producer in the same process end a consumer's wait at
once (the relay rings the delivery worker after publishing), so backing off costs no latency
where producer and consumer share a process; across processes the ceiling bounds the delay.
"""
from __future__ import annotations

import threading


class IdleBackoff:
    """The next wait of a polling loop: ``shortest`` after work, doubling to ``longest`` without."""

    def __init__(self, shortest: float, longest: float) -> None:
        if shortest <= 0 or longest < shortest:
            raise ValueError(f"need 0 < shortest <= longest, got {shortest} and {longest}")
        self.shortest = shortest
        self.longest = longest
        self._current = shortest

    def next_wait(self, found_work: bool) -> float:
        if found_work:
            self._current = self.shortest
        else:
            self._current = min(self._current * 2, self.longest)
        return self._current

    def reset(self) -> None:
        self._current = self.shortest


class Doorbell:
    """An in-process wake-up: ``ring`` from the producer, ``wait`` in the consumer's loop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def ring(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Block until rung or ``timeout`` passed; True when rung (the ring is consumed)."""
        rung = self._event.wait(timeout)
        self._event.clear()
        return rung
