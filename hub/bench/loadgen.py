"""The load generator: a separate process posting envelopes over several keep-alive connections.

Run as ``python -m hub.bench.loadgen --url ... --concurrency 32 --duration 5``; prints one
JSON line with counts, throughput and latency percentiles. With ``--rate`` it paces
requests instead of sending as fast as answers come back; with ``--open-loop`` too, each
request leaves on schedule whether or not the earlier ones were answered (how overload
arrives in the real world), and 503 answers with ``Retry-After`` are counted as refused.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid

import orjson

from hub.bench.stats import percentiles

SENDER = "TH/GOV/BENCH/load"
SERVICE = "bench.ingest/v1"


def envelope(payload_bytes: int, receiver: str, standard: str | None, seq: int,
             document: dict | None = None) -> bytes:
    """One envelope: ``document`` as the payload, or a generated one of about ``payload_bytes``."""
    if document is None:
        filler = max(0, payload_bytes - 120)
        document = {"seq": seq, "citizen_id": "1101700203450", "note": "ก" * (filler // 3)}
    body = {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": receiver,
            "service": SERVICE, "payload": document}
    if standard:
        body["standard"] = standard
    return orjson.dumps(body)


async def run(args: argparse.Namespace) -> dict:
    import aiohttp

    document = orjson.loads(open(args.payload_file, "rb").read()) if args.payload_file else None
    latencies: list[float] = []
    refused: list[float] = []  # 503 + Retry-After: admission control said "not now"
    errors: dict[str, int] = {}
    sent = 0
    deadline = time.perf_counter() + args.duration
    interval = args.concurrency / args.rate if args.rate else 0.0
    headers = {"Content-Type": "application/json"}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    connector = aiohttp.TCPConnector(limit=0 if args.open_loop else args.concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def one_connection(k: int) -> None:
            nonlocal sent
            next_at = time.perf_counter() + (interval * k / args.concurrency if interval else 0)
            while time.perf_counter() < deadline and (args.count is None or sent < args.count):
                if interval:
                    delay = next_at - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    next_at += interval
                sent += 1
                body = envelope(args.payload_bytes, args.receiver, args.standard, sent, document)
                started = time.perf_counter()
                try:
                    async with session.post(args.url, data=body) as response:
                        await response.read()
                        status = response.status
                except aiohttp.ClientError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                if status == 202:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors[str(status)] = errors.get(str(status), 0) + 1

        async def one_request(seq: int) -> None:
            body = envelope(args.payload_bytes, args.receiver, args.standard, seq, document)
            started = time.perf_counter()
            try:
                async with session.post(args.url, data=body) as response:
                    await response.read()
                    status, retry_after = response.status, response.headers.get("Retry-After")
            except aiohttp.ClientError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            took = time.perf_counter() - started
            if status == 202:
                latencies.append(took)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1
                if status == 503 and retry_after:
                    refused.append(took)

        async def open_loop() -> None:
            """Requests at ``rate`` per second whether or not earlier ones were answered."""
            nonlocal sent
            tasks, start = [], time.perf_counter()
            while time.perf_counter() < deadline and (args.count is None or sent < args.count):
                sent += 1
                tasks.append(asyncio.ensure_future(one_request(sent)))
                delay = start + sent / args.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            await asyncio.gather(*tasks)

        started = time.perf_counter()
        if args.open_loop:
            await open_loop()
        else:
            await asyncio.gather(*(one_connection(k) for k in range(args.concurrency)))
        elapsed = time.perf_counter() - started
    result = {"ok": len(latencies), "errors": errors, "elapsed": elapsed,
              "per_second": len(latencies) / elapsed if elapsed else 0.0, "latency": percentiles(latencies)}
    if args.open_loop:
        result.update(sent=sent, refused_with_retry_after=len(refused), refused_latency=percentiles(refused))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=None, help="requests per second in total (paced)")
    parser.add_argument("--open-loop", action="store_true",
                        help="with --rate: send on schedule without waiting for answers (overload tests)")
    parser.add_argument("--count", type=int, default=None, help="stop after this many requests")
    parser.add_argument("--payload-bytes", type=int, default=2048)
    parser.add_argument("--payload-file", default=None, help="a JSON document to send as every payload")
    parser.add_argument("--receiver", default="TH/GOV/BENCH/sink")
    parser.add_argument("--standard", default=None)
    parser.add_argument("--token", default=None)
    args = parser.parse_args(argv)
    import uvloop  # installed with uvicorn[standard]

    uvloop.install()
    sys.stdout.write(orjson.dumps(asyncio.run(run(args))).decode() + "\n")


if __name__ == "__main__":
    main()
