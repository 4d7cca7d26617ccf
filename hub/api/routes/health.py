"""Liveness, readiness and metrics."""
from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.api.deps import HubDep
from hub.api.public import public
from hub.api.responses import FastJSONResponse
from hub.api.roles import MonitorDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
@public("liveness probe for the orchestrator")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
@public("readiness probe for the orchestrator and load balancer")
async def readyz(hub: HubDep) -> FastJSONResponse:
    """Database and broker reachable, migrations current."""
    checks = await run_in_threadpool(hub.readiness)
    ready = all(v == "ok" for v in checks.values())
    return FastJSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
async def prometheus_metrics(_: MonitorDep) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
