"""Retry delays: exponential backoff with "equal jitter".

Half the delay is fixed and half random, so retries spread out (no thundering herd when a
receiver comes back) while the delay still grows with every attempt.
"""
from __future__ import annotations

import random


def retry_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Delay after failed attempt number ``attempt`` (1-based)."""
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    ceiling = min(cap, base * (2 ** min(attempt - 1, 62)))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
