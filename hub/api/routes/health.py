"""Liveness, readiness and metrics."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.api.deps import HubDep
from hub.api.public import public
from hub.api.responses import FastJSONResponse
from hub.api.roles import MonitorDep
from hub.schemas.operations import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
@public("liveness probe for the orchestrator")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "a dependency does not answer"}})
@public("readiness probe for the orchestrator and load balancer")
async def readyz(request: Request, hub: HubDep) -> FastJSONResponse:
    """Database and broker reachable, migrations current."""
    checks = await run_in_threadpool(hub.readiness)
    admission = getattr(request.app.state, "admission", None)
    checks["admission"] = "saturated" if admission is not None and admission.saturated() else "ok"
    ready = all(v == "ok" for v in checks.values())
    return FastJSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {
    "description": "Prometheus text exposition format",
    "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}})
async def prometheus_metrics(_: MonitorDep, request: Request) -> Response:
    """Prometheus metrics (admins, auditors and monitors: the scraper's client has the monitor role):
    this process's counters, then the hub's gauges read from the database now."""
    gauges = request.app.state.gauges
    body = generate_latest() + await run_in_threadpool(generate_latest, gauges)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
