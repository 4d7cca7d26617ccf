"""Baseline: the HTTP ceiling of our stack.

The same FastAPI + uvicorn, the same body reading and the same pydantic envelope model,
answering 202 without storing anything. ``python -m hub.bench.bare --port N``.
"""
from __future__ import annotations

import argparse
import uuid

import uvicorn
from fastapi import FastAPI, Request

from hub.api.responses import FastJSONResponse
from hub.api.routes.messages import parse_envelope, read_limited_body


def create_bare_app(limit: int = 64 * 1024 * 1024) -> FastAPI:
    app = FastAPI(default_response_class=FastJSONResponse)

    @app.post("/v1/messages", status_code=202)
    async def submit(request: Request) -> FastJSONResponse:
        envelope = parse_envelope(await read_limited_body(request, limit))
        body = envelope.payload_bytes()
        message_id = str(envelope.id or uuid.uuid4())
        return FastJSONResponse({"id": message_id, "status": "accepted", "size": len(body)}, status_code=202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(create_bare_app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
