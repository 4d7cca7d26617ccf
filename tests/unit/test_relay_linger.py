"""The relay, woken by an accept right after a busy round, waits a little before the next one
(so a round carries several accept commits); after a round that found nothing it does not."""
from __future__ import annotations

import threading

from hub.transport import relay as relay_module
from hub.transport.relay import Relay


class RecordingStop(threading.Event):
    """A stop event whose waits are recorded and return at once."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[tuple[int, float]] = []
        self.round = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append((self.round, timeout))
        return self.is_set()


class ScriptedRelay(Relay):
    """Rounds hand out the scripted counts; every round is followed by an accept's wake-up."""

    def __init__(self, handed: list[int], stop: RecordingStop) -> None:
        super().__init__(engine=None, publisher=None, lease_seconds=60, batch_size=500, interval_seconds=0.05,
                         idle_max_seconds=1.0)
        self._script = list(handed)
        self._stop = stop

    def seconds_to_next_due(self) -> float | None:
        return 0.0

    def run_once(self) -> int:
        self._stop.round += 1
        handed = self._script.pop(0)
        if not self._script:
            self._stop.set()
        self.wake()  # an accept committed during the round
        return handed


def test_a_wake_after_a_busy_round_lingers_and_one_after_an_idle_round_does_not() -> None:
    stop = RecordingStop()
    ScriptedRelay([3, 0, 5, 0], stop).run(stop)
    lingers = [round_ for round_, timeout in stop.waits if timeout == relay_module.LINGER_SECONDS]
    assert lingers == [1, 3]  # after the rounds that handed 3 and 5 messages, not after the empty ones
