"""Legitimate callers do not queue behind a wrong-secret flood (issue 12): the secret gate's
slots go to the best tier waiting, and callers with recent failures never hold every slot."""
from __future__ import annotations

import threading

import pytest

from hub.errors import TooManyRequests
from hub.security.secret_gate import CLEAN, KNOWN, SUSPECT, SecretGate, TieredSlots
from tests.support.waiting import wait_for


def gate(concurrency: int = 2, wait: float = 5.0) -> SecretGate:
    return SecretGate(concurrency=concurrency, wait_seconds=wait, per_client=10, per_address=30, window_seconds=60)


def test_tiers_follow_failures_and_successes() -> None:
    g = gate()
    assert g.tier("a", "198.51.100.1") == CLEAN
    g.succeeded("a", "198.51.100.1")
    assert g.tier("a", "198.51.100.1") == KNOWN
    assert g.tier("a", "198.51.100.2") == CLEAN, "a success vouches for that id from that address only"
    g.failed("b", "203.0.113.5")
    assert g.tier("b", "198.51.100.1") == SUSPECT, "a failed id is suspect from any address"
    assert g.tier("c", "203.0.113.5") == SUSPECT, "a failing address makes every id from it suspect"
    g.failed("a", "198.51.100.1")
    assert g.tier("a", "198.51.100.1") == SUSPECT, "a failure undoes the success"


def test_suspects_never_hold_the_last_slot() -> None:
    slots = TieredSlots(3)
    assert slots.acquire(SUSPECT, 0.01) and slots.acquire(SUSPECT, 0.01)
    assert not slots.acquire(SUSPECT, 0.05), "a third suspect would leave nothing for the others"
    assert slots.acquire(CLEAN, 0.01)
    assert not slots.acquire(KNOWN, 0.05), "all three slots are taken"
    slots.release(SUSPECT)
    assert slots.acquire(KNOWN, 0.01)


def test_with_one_slot_a_suspect_may_still_run() -> None:
    slots = TieredSlots(1)
    assert slots.acquire(SUSPECT, 0.01)
    slots.release(SUSPECT)


@pytest.mark.parametrize("better", [CLEAN, KNOWN])
def test_a_freed_slot_goes_to_the_better_tier_first(better: int) -> None:
    slots = TieredSlots(1)
    assert slots.acquire(CLEAN, 0.01)
    order: list[int] = []

    def wait_in(tier: int) -> None:
        assert slots.acquire(tier, 10)
        order.append(tier)
        slots.release(tier)

    worse = SUSPECT if better == CLEAN else CLEAN
    threads = [threading.Thread(target=wait_in, args=(worse,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    wait_for(lambda: slots._waiting[worse] == 5, what="the worse tier queued")  # noqa: SLF001
    late = threading.Thread(target=wait_in, args=(better,))
    late.start()
    wait_for(lambda: slots._waiting[better] == 1, what="the better caller queued")  # noqa: SLF001
    slots.release(CLEAN)
    for thread in [*threads, late]:
        thread.join(timeout=10)
    assert order[0] == better, order
    assert sorted(order) == sorted([better] + [worse] * 5)


def test_a_flood_of_failing_callers_does_not_make_a_clean_caller_wait_its_turn() -> None:
    """Two slots, both held by checks; 20 suspects wait; a clean caller arriving last is next."""
    g = gate(concurrency=2, wait=10)
    for n in range(20):
        g.failed(f"flood-{n}", f"203.0.113.{n}")
    held = [g.check("first", "198.51.100.9"), g.check("second", "198.51.100.8")]
    for cm in held:
        cm.__enter__()
    served: list[str] = []

    def caller(identity: str, source: str) -> None:
        try:
            with g.check(identity, source):
                served.append(identity)
        except TooManyRequests:
            served.append(f"refused {identity}")

    flood = [threading.Thread(target=caller, args=(f"flood-{n}", f"203.0.113.{n}")) for n in range(20)]
    for thread in flood:
        thread.start()
    wait_for(lambda: g._slots._waiting[SUSPECT] == 20, what="the flood queued")  # noqa: SLF001
    legit = threading.Thread(target=caller, args=("legit", "198.51.100.7"))
    legit.start()
    wait_for(lambda: g._slots._waiting[CLEAN] == 1, what="the legitimate caller queued")  # noqa: SLF001
    held[0].__exit__(None, None, None)
    legit.join(timeout=10)
    assert served and served[0] == "legit", served[:3]
    held[1].__exit__(None, None, None)
    for thread in flood:
        thread.join(timeout=20)
    assert len(served) == 21
