"""Finding 2 against a real ``hub serve``: 40 parallel wrong-secret callers to /v1/auth/token.

Before issue 12 this took the server to 2.4 GiB (64 MiB argon2 per check, unbounded) and
legitimate p50 to 6 s. Now the server's RSS stays under 400 MiB and every legitimate call is
answered with a token. Each flooding caller comes from its own address (through the trusted
proxy's X-Forwarded-For), so the per-address limit alone does not stop them: the concurrency
limit must.
"""
from __future__ import annotations

import json
import threading
import time

import httpx
import psutil

from hub.bootstrap import build_hub
from tests.conftest import fast_settings
from tests.support.auth import register_agency
from tests.support.hubproc import HubProcess

CLIENT = "TH/GOV/OCSC/hr"
FLOODERS = 40
SECONDS = 8.0
MIB = 1024 * 1024


def _rss(pid: int) -> int:
    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def _form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def test_forty_parallel_wrong_secrets_keep_memory_bounded_and_legitimate_calls_answered(tmp_path):
    settings = fast_settings(tmp_path / "data")
    hub = build_hub(settings)
    try:
        issued = register_agency(hub, CLIENT)
        register_agency(hub, "TH/GOV/NESDC/plan")
    finally:
        hub.close()
    server = HubProcess(settings, tmp_path / "hub.log", env={"HUB_TRUSTED_PROXIES": json.dumps(["127.0.0.1"])}).start()
    stop = threading.Event()
    flood_status: list[int] = []
    legit: list[tuple[int, float]] = []
    peak = [0]

    def flood(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            i = 0
            while not stop.is_set():
                i += 1
                target = "TH/GOV/NESDC/plan" if i % 2 else f"nobody-{n}-{i}"
                r = http.post("/v1/auth/token", data=_form(target, "wrong-secret"),
                              headers={"X-Forwarded-For": f"203.0.113.{n + 1}"})
                flood_status.append(r.status_code)

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss(server.proc.pid))
            time.sleep(0.1)

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(FLOODERS)] + [threading.Thread(target=sample)]
    try:
        for t in threads:
            t.start()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            deadline = time.monotonic() + SECONDS
            while time.monotonic() < deadline:
                start = time.monotonic()
                r = http.post("/v1/auth/token", data=_form(CLIENT, issued.client_secret),
                              headers={"X-Forwarded-For": "198.51.100.7"})
                legit.append((r.status_code, time.monotonic() - start))
                time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=90)
        server.stop()
    assert flood_status and set(flood_status) <= {401, 429}, set(flood_status)
    assert len(flood_status) > FLOODERS, "the flood must actually have run"
    assert legit and all(status == 200 for status, _ in legit), legit
    print(f"peak RSS {peak[0] / MIB:.0f} MiB; legitimate p50 {sorted(d for _, d in legit)[len(legit) // 2] * 1000:.0f} ms")
    assert peak[0] < 400 * MIB, f"RSS peaked at {peak[0] / MIB:.0f} MiB"
