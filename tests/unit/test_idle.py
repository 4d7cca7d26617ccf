"""Background loops back off while idle and are woken by work in the same process."""
from __future__ import annotations

import threading

import pytest

from hub.transport.idle import Doorbell, IdleBackoff


def test_backoff_doubles_to_its_ceiling_while_idle_and_drops_on_work() -> None:
    backoff = IdleBackoff(0.05, 1.0)
    assert [backoff.next_wait(False) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff.next_wait(True) == 0.05
    backoff.next_wait(False)
    backoff.reset()
    assert backoff.next_wait(True) == 0.05


@pytest.mark.parametrize("shortest, longest", [(0, 1), (-1, 1), (2, 1)])
def test_backoff_refuses_impossible_bounds(shortest: float, longest: float) -> None:
    with pytest.raises(ValueError, match="shortest"):
        IdleBackoff(shortest, longest)


def test_doorbell_ends_a_wait_once_per_ring() -> None:
    bell = Doorbell()
    assert bell.wait(0.01) is False
    bell.ring()
    assert bell.wait(5) is True
    assert bell.wait(0.01) is False  # the ring was consumed

    rung = []
    waiter = threading.Thread(target=lambda: rung.append(bell.wait(30)))
    waiter.start()
    bell.ring()
    waiter.join(timeout=30)
    assert rung == [True]
