"""Finding 8 against a real ``hub serve``: at twice the sustainable accept rate the excess is
refused (503 + Retry-After), not queued without bound, and nothing refused is kept.

The test measures the sustainable rate first (closed loop, a few seconds), then sends open
loop at twice that rate (``hub bench``'s load generator): each request leaves on schedule
whether or not the earlier ones were answered, as overload arrives in the real world. It
asserts on the answers only: every request is answered (none hangs until the client gives
up), each answer is a 202 or a 503 with ``Retry-After``, some are refused, ``/readyz`` says
saturated, and the hub holds exactly as many new messages as were accepted (none refused was
kept, none accepted was lost). ``hub bench`` reports the
accept latency at that rate.
"""
from __future__ import annotations

import httpx
import pytest

from tests.conftest import fast_settings
from tests.e2e.test_crash_recovery import admin_headers
from hub.bench.procs import loadgen
from tests.support.auth import register_receiver
from tests.support.hubproc import HubProcess

RECEIVER = "TH/GOV/BENCH/sink"
MEASURE_SECONDS = 3.0
OVERLOAD_SECONDS = 4.0


def stored_ids(url: str, headers: dict[str, str]) -> set[str]:
    ids: set[str] = set()
    cursor = None
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{url}/v1/messages", params=params, headers=headers, timeout=30).json()
        ids.update(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return ids


@pytest.mark.slow
def test_twice_the_sustainable_rate_is_refused_with_503_not_queued(tmp_path):
    settings = fast_settings(tmp_path / "data")
    headers = admin_headers(settings)
    # A small accept concurrency, so saturation comes from accepts, not from the test's own CPU.
    hub = HubProcess(settings, tmp_path / "hub.log", "--no-embedded-worker",
                     env={"HUB_ACCEPT_CONCURRENCY": "4", "HUB_ACCEPT_WAIT_SECONDS": "0.25"}).start()
    try:
        register_receiver(httpx, RECEIVER, url=hub.url, headers=headers)
        httpx.post(f"{hub.url}/v1/routes", headers=headers, timeout=30, json={
            "receiver": RECEIVER, "service": "*", "adapter": "memory", "settings": {"mailbox": "sink"},
        }).raise_for_status()
        token = headers["Authorization"].removeprefix("Bearer ")
        load = {"token": token, "receiver": RECEIVER, "payload_bytes": 2048}
        # The load generator of `hub bench` (aiohttp on uvloop, its own process): a Python client
        # in this process would itself be the bottleneck and never overload the hub.
        sustainable = loadgen(hub.url, concurrency=16, duration=MEASURE_SECONDS, **load)["per_second"]
        assert sustainable > 1, f"the hub accepted only {sustainable:.1f}/s"
        before = len(stored_ids(hub.url, headers))
        run = loadgen(hub.url, concurrency=16, duration=OVERLOAD_SECONDS, rate=2 * sustainable, open_loop=True,
                      **load)
        ready = httpx.get(f"{hub.url}/readyz", timeout=30)

        refused = run["refused_with_retry_after"]
        assert set(run["errors"]) <= {"503"}, f"answers other than 202 and 503, or none at all: {run['errors']}"
        assert run["errors"].get("503", 0) == refused, "every 503 carries Retry-After"
        assert run["ok"] + refused == run["sent"], run
        assert refused > 0, f"none of {run['sent']} requests at {2 * sustainable:.0f}/s was refused: the excess queued"
        assert ready.status_code == 503 and ready.json()["checks"]["admission"] == "saturated", ready.text
        stored = len(stored_ids(hub.url, headers)) - before
        assert stored == run["ok"], f"stored {stored} messages for {run['ok']} accepted"
        print(f"sustainable {sustainable:.0f}/s; at {2 * sustainable:.0f}/s sent {run['sent']}, "
              f"accepted {run['ok']} (p99 {run['latency']['p99']} ms), refused {refused} "
              f"(p99 {run['refused_latency']['p99']} ms)")
    finally:
        hub.stop()
