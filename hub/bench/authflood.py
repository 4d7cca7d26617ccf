"""Legitimate token requests next to a wrong-secret flood (issue 12, finding 2).

40 callers send wrong secrets to ``/v1/auth/token`` in parallel, each from its own address
(through the trusted proxy's ``X-Forwarded-For``, so per-address limits alone do not stop
them), half to a registered client id and half to ids that do not exist. Meanwhile one
legitimate client asks for tokens with its correct secret, one call at a time; its latency is
reported next to the same calls with no flood.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

import httpx

from hub.bench.backends import BackendEnv
from hub.bench.stats import percentiles

FLOODERS = 40
LEGITIMATE = "TH/GOV/BENCH/legit"
TARGET = "TH/GOV/BENCH/target"  # a registered id the flood guesses secrets for
PAUSE = 0.05  # between a legitimate client's calls


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str


def provision_client(env: BackendEnv) -> Client:
    from hub.bootstrap import build_hub
    from hub.config import Settings
    from hub.security.onboarding import onboard
    from hub.security.wiring import security_of

    hub = build_hub(Settings(data_dir=env.data_dir, database_url=env.database_url, broker_url=env.broker_url,
                             queue_name=env.queue_name))
    try:
        security = security_of(hub)
        issued = onboard(security, LEGITIMATE, actor="bench")
        onboard(security, TARGET, actor="bench")
        assert issued is not None
        return Client(LEGITIMATE, issued.client_secret)
    finally:
        hub.close()


def _form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


def _legitimate_calls(url: str, client: Client, duration: float) -> dict:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=60, headers={"X-Forwarded-For": "198.51.100.7"}) as http:
        while time.perf_counter() - started < duration or not latencies:
            begun = time.perf_counter()
            status = http.post("/v1/auth/token", data=_form(client.client_id, client.secret)).status_code
            if status == 200:
                latencies.append(time.perf_counter() - begun)
            else:
                errors[str(status)] += 1
            time.sleep(PAUSE)
    elapsed = time.perf_counter() - started
    return {"ok": len(latencies), "errors": dict(errors), "per_second": len(latencies) / elapsed,
            "latency": percentiles(latencies)}


def legitimate_latency(url: str, client: Client, *, duration: float) -> tuple[dict, dict]:
    """(the legitimate calls alone, the same calls under the flood), each with its percentiles."""
    alone = _legitimate_calls(url, client, duration)
    stop = threading.Event()
    answers: Counter[str] = Counter()
    lock = threading.Lock()

    def flood(n: int) -> None:
        with httpx.Client(base_url=url, timeout=60, headers={"X-Forwarded-For": f"203.0.113.{n + 1}"}) as http:
            i = 0
            while not stop.is_set():
                i += 1
                target = TARGET if i % 2 else f"nobody-{n}-{i}"
                try:
                    status = str(http.post("/v1/auth/token", data=_form(target, "wrong-secret")).status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    answers[status] += 1

    threads = [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(FLOODERS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)  # the flood is running before the legitimate calls are timed
        flooded = _legitimate_calls(url, client, duration)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    return alone, {**flooded, "flood_answers": dict(answers)}
