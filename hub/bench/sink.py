"""The receiving agency for end-to-end runs: an ASGI app that counts deliveries.

It records, per distinct message id, the delay from the hub's ``received_at`` to arrival
(accept-to-delivered latency); ``GET /stats`` reports them. ``python -m hub.bench.sink --port N``.
"""
from __future__ import annotations

import argparse
import time
from datetime import datetime

import orjson
import uvicorn

from hub.bench.stats import percentiles


class Sink:
    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.latencies: list[float] = []
        self.duplicates = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.bytes = 0

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            await self._reply(send, 200, self.stats())
            return
        if scope["path"] == "/reset":
            self.__init__()
            await self._reply(send, 200, {"reset": True})
            return
        headers = dict(scope["headers"])
        # The transport's idempotency key; a Standard Webhooks delivery (fan-out) carries webhook-id.
        key = (headers.get(b"idempotency-key") or headers.get(b"webhook-id", b"")).decode()
        head = b""
        size = 0
        more = True
        while more:  # keep only the start of the body: a 50 MiB payload is not held
            event = await receive()
            chunk = event.get("body", b"")
            size += len(chunk)
            if len(head) < 4096:
                head += chunk[: 4096 - len(head)]
            more = event.get("more_body", False)
        now = time.time()
        if key in self.seen:
            self.duplicates += 1
        else:
            self.seen.add(key)
            self.bytes += size
            marker = b'"received_at":"' if b'"received_at":"' in head else b'"timestamp":"'
            at = head.find(marker)
            if at >= 0:
                stamp = head[at + len(marker): head.index(b'"', at + len(marker))].decode()
                self.latencies.append(now - datetime.fromisoformat(stamp).timestamp())
            self.first_at = self.first_at or now
            self.last_at = now
        await self._reply(send, 200, {"receipt": key})

    def stats(self) -> dict:
        span = (self.last_at - self.first_at) if self.first_at and self.last_at else 0.0
        return {"delivered": len(self.seen), "duplicates": self.duplicates, "bytes": self.bytes,
                "first_at": self.first_at, "last_at": self.last_at, "span": span,
                "latency": percentiles(self.latencies)}

    @staticmethod
    async def _reply(send, status: int, body: dict) -> None:  # noqa: ANN001
        data = orjson.dumps(body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(Sink(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                h11_max_incomplete_event_size=64 * 1024 * 1024)


if __name__ == "__main__":
    main()
