"""The unified-record scenario: one record read from four live sources on loopback, next to a
baseline of the same four source calls made directly.

``python -m hub.bench.record --port N`` serves the four sources (person registry, HR,
telework, correspondence) as query endpoints ``POST /{group}``; each does its "work" as a
fixed wait (``DELAYS``), so the slowest single source is known. The hub publishes each as an
``http`` query service of its own provider; a portal holding an agency consent reads
``GET /v1/citizens/{id}/record``. The figure is the record's p95 against the p95 of the
slowest source called directly: the fan-out is parallel, so the target is ≤ 1.5×.
"""
from __future__ import annotations

import argparse
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import orjson
import uvicorn

from hub.bench.backends import BackendEnv
from hub.bench.stats import percentiles

CITIZEN = "1101700203450"
READER = "TH/GOV/BENCH/portal"
PURPOSE = "bench record read"
WARMUP_READS = 5
# group -> (provider subsystem, simulated work in seconds)
DELAYS = {"person": ("TH/GOV/BENCHREG/registry", 0.005), "position": ("TH/GOV/BENCHHR/dpis", 0.010),
          "telework": ("TH/GOV/BENCHTW/telework", 0.015), "letters": ("TH/GOV/BENCHDOC/saraban", 0.020)}
ANSWERS = {"person": {"first_name_th": "สมชาย", "last_name_th": "ใจดี"},
           "position": {"position_name": "นักวิชาการคอมพิวเตอร์", "level": "K2"},
           "telework": {"telework_cases": [{"case_id": "TW-1", "status": "ordered"}]},
           "letters": {"letters": [{"letter_id": "นร 1001/1", "subject": "คำสั่ง (นายสมชาย ใจดี)"}]}}


async def sources(scope, receive, send) -> None:  # noqa: ANN001
    if scope["type"] != "http":
        return
    group = scope["path"].strip("/")
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    status, body = 200, {"ok": True}
    if scope["method"] == "POST":
        if group not in DELAYS:
            status, body = 404, {"message": f"no source {group}"}
        else:
            await asyncio.sleep(DELAYS[group][1])
            body = {"fields": ANSWERS[group]}
    data = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


def provision_record(env: BackendEnv, sources_url: str) -> str:
    """Publish the four sources, record the portal's consent; returns the portal's token."""
    from hub.bootstrap import build_hub
    from hub.clock import utcnow
    from hub.config import Settings
    from hub.integration.queries import QueryServiceIn
    from hub.registry.person_schemas import ConsentIn, PersonFields
    from hub.schemas.principal import ADMIN, Principal
    from hub.security.onboarding import onboard

    hub = build_hub(Settings(data_dir=env.data_dir, database_url=env.database_url, broker_url=env.broker_url,
                             queue_name=env.queue_name))
    try:
        admin = Principal(subject="bench", roles=frozenset({ADMIN}))
        onboard(hub.security, READER, actor="bench")
        for group, (provider, _) in DELAYS.items():
            onboard(hub.security, provider, actor="bench")
            hub.integration.queries.publish(admin, QueryServiceIn(
                provider=provider, name=f"record.{group}/v1", system=provider.rsplit("/", 1)[1], adapter="http",
                settings={"url": f"{sources_url}/{group}"}, timeout_seconds=2))
        # a consent needs a person the registry knows
        hub.security.persons.apply(CITIZEN, PersonFields(first_name_th="สมชาย"), source=DELAYS["person"][0],
                                   observed_at=utcnow(), update_id=None, actor="bench")
        hub.security.consents.grant(admin, CITIZEN, ConsentIn(
            consumer=READER, purpose=PURPOSE, fields=[f"record:{g}" for g in DELAYS],
            expires_at=utcnow() + timedelta(days=1)))
        return hub.security.client_token(READER)
    finally:
        hub.close()


def _drive(call, *, duration: float, concurrency: int) -> dict:  # noqa: ANN001
    """Call ``call(client)`` from ``concurrency`` threads for ``duration`` s; latencies of the 2xx."""
    deadline = time.monotonic() + duration

    def worker(_: int) -> tuple[list[float], int]:
        times, errors = [], 0
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline or not times:
                started = time.perf_counter()
                ok = call(client)
                if ok:
                    times.append(time.perf_counter() - started)
                else:
                    errors += 1
                    if errors > 100 and not times:
                        break
        return times, errors

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(worker, range(concurrency)))
    samples = [t for times, _ in results for t in times]
    return {"ok": len(samples), "errors": sum(e for _, e in results), "per_second": len(samples) / duration,
            "latency": percentiles(samples)}


def measure(hub_url: str, sources_url: str, token: str, *, duration: float, concurrency: int) -> dict:
    """The record through the hub, then each source directly; p95 ratio to the slowest source."""
    headers = {"Authorization": f"Bearer {token}"}
    params = {"fields": ",".join(DELAYS), "purpose": PURPOSE}

    def record(client: httpx.Client) -> bool:
        response = client.get(f"{hub_url}/v1/citizens/{CITIZEN}/record", params=params, headers=headers)
        return response.status_code == 200 and not response.json()["partial"]

    with httpx.Client(timeout=30) as client:  # connections, caches and the fan-out pool warmed up first
        for _ in range(WARMUP_READS):
            record(client)
    run = _drive(record, duration=duration, concurrency=concurrency)
    direct = {}
    for group in DELAYS:
        def source(client: httpx.Client, group: str = group) -> bool:
            return client.post(f"{sources_url}/{group}", json={"query": group, "citizen_id": CITIZEN}).is_success
        direct[group] = _drive(source, duration=max(0.5, duration / 4), concurrency=concurrency)
    slowest = max(direct.values(), key=lambda d: d["latency"]["p95"] or 0)
    return {"record": run, "direct": direct, "slowest": slowest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(sources, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
