import random

import pytest

from hub.transport.backoff import retry_delay


def test_delay_grows_and_is_capped_with_jitter():
    rng = random.Random(7)
    delays = [retry_delay(n, 1.0, 30.0, rng) for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(30.0, 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 30.0


def test_jitter_spreads_retries():
    assert len({round(retry_delay(5, 1.0, 300.0), 6) for _ in range(20)}) > 1


def test_attempt_must_be_positive():
    with pytest.raises(ValueError, match="attempt must be >= 1"):
        retry_delay(0, 1.0, 2.0)
