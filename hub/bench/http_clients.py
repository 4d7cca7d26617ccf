"""How much CPU one delivery's HTTP round trip costs the sender: a sync httpx client per thread
(what the delivery worker uses) against one httpx.AsyncClient with as many requests in flight.

``python -m hub.bench.http_clients [--requests 3000] [--in-flight 32]`` starts the bench's
receiving agency (``hub.bench.sink``) and prints, for each way, the sender's CPU milliseconds
per request and requests per second. It answers whether moving delivery onto an async client
would make it cheaper (issue 18); on this project's machine it did not (README, Performance).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from hub.bench.procs import Proc

BODY = b'{"note": "' + b"a" * 2000 + b'"}'


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _headers(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key, "Content-Type": "application/json"}


def threads(url: str, requests: int, in_flight: int) -> tuple[float, float]:
    local = threading.local()
    clients: list[httpx.Client] = []

    def send(i: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(limits=httpx.Limits(max_connections=4, max_keepalive_connections=4))
            clients.append(client)
        client.post(url, content=BODY, headers=_headers(f"t{i}")).raise_for_status()

    cpu, wall = _cpu(), time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(send, range(requests)))
    result = (_cpu() - cpu) / requests, requests / (time.perf_counter() - wall)
    for client in clients:
        client.close()
    return result


def asynchronous(url: str, requests: int, in_flight: int) -> tuple[float, float]:
    async def main() -> None:
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        async with httpx.AsyncClient(limits=limits) as client:
            async def lane(first: int) -> None:
                for i in range(first, requests, in_flight):
                    (await client.post(url, content=BODY, headers=_headers(f"a{i}"))).raise_for_status()

            await asyncio.gather(*(lane(k) for k in range(in_flight)))

    cpu, wall = _cpu(), time.perf_counter()
    asyncio.run(main())
    return (_cpu() - cpu) / requests, requests / (time.perf_counter() - wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--in-flight", type=int, default=32)
    args = parser.parse_args()
    log = Path(tempfile.mkdtemp(prefix="hub-http-clients-")) / "sink.log"
    with Proc("hub.bench.sink", [], dict(os.environ), log, "/stats") as sink:
        for name, way in (("thread per request, sync httpx.Client", threads),
                          ("one httpx.AsyncClient", asynchronous)):
            cpu, rate = way(sink.url + "/inbox", args.requests, args.in_flight)
            print(f"{name:40} {cpu * 1000:6.2f} ms CPU per request  {rate:7.0f} requests/s")


if __name__ == "__main__":
    main()
