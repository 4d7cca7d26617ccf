"""What ``hub serve`` does to its own process once the app is built (``hub.api.app.settle_heap``)."""
from __future__ import annotations

import gc
import sys

from hub.api.app import SWITCH_INTERVAL, settle_heap


def test_settling_freezes_the_heap_and_shortens_the_gil_switch_interval() -> None:
    before = sys.getswitchinterval()
    assert before != SWITCH_INTERVAL  # CPython's default (5 ms): otherwise the test proves nothing
    try:
        settle_heap()
        assert sys.getswitchinterval() == SWITCH_INTERVAL
        assert gc.get_freeze_count() > 0
    finally:  # the test process builds many apps: leave it as it was
        gc.unfreeze()
        sys.setswitchinterval(before)
