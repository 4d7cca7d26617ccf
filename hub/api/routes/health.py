"""Liveness, readiness and metrics."""
from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from hub.api.responses import FastJSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.api.deps import HubDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(hub: HubDep) -> FastJSONResponse:
    """Database and broker reachable, migrations current."""
    checks = await run_in_threadpool(hub.readiness)
    ready = all(v == "ok" for v in checks.values())
    return FastJSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
