"""The FastAPI application. ``create_app`` wires a ``Hub``; the lifespan starts its workers."""
from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from hub import __version__
from hub.api import docs, errors
from hub.api.admission import Admission
from hub.api.body_limits import BodyLimits
from hub.api.gauges import hub_registry
from hub.api.public import require_principal
from hub.api.request_log import RequestLog
from hub.api.responses import FastJSONResponse
from hub.api.routes import access as access_routes
from hub.api.routes import agencies, auth, health, messages, routes
from hub.api.routes import audit as audit_routes
from hub.api.routes import ecms as ecms_routes
from hub.api.routes import ecms_departments
from hub.api.routes import ecms_paperless
from hub.api.routes import juristic as juristic_routes
from hub.api.routes import locations as location_routes
from hub.api.routes import persons as person_routes
from hub.api.routes import standards as standards_routes
from hub.api.routes import telework as telework_routes
from hub.api.routes import applications as application_routes
from hub.api.routes import events as event_routes
from hub.api.routes import subscriptions as subscription_routes
from hub.api.routes import queries as query_routes
from hub.api.routes import record as record_routes
from hub.api.routes import citizens as citizen_routes
from hub.api.routes import eservices as eservice_routes
from hub.bootstrap import Hub, build_hub
from hub.console.app import create_console
from hub.console.citizen import create_citizen_pages
from hub.config import Settings

# Every API module with a ``router``; a subsystem adds its module here.
ROUTE_MODULES = [
    health, messages, routes, standards_routes, ecms_routes, ecms_departments,  # layers 1 and 2, the e-CMS node
    auth, agencies, access_routes, audit_routes,  # layer 3: registry, security, audit
    person_routes, juristic_routes, location_routes,  # layer 3: shared information
    telework_routes,  # layer 4: the telework central application
    event_routes, subscription_routes, application_routes,  # layer 5: Tell Us Once, one-stop applications
    query_routes, record_routes,  # layer 5: query services across agencies, the unified citizen record
    ecms_paperless,  # seed 002: letters sent electronically only, the paper avoided
    citizen_routes, eservice_routes,  # layer 5: citizens' consents to e-services, the data tracker (issue 15)
]


def create_app(hub: Hub | None = None, *, settings: Settings | None = None, embedded_worker: bool = True,
               freeze_gc: bool = False) -> FastAPI:
    """``freeze_gc``: for a server process (``hub serve``), see ``settle_heap``."""
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.hub is None
        if owned:
            app.state.hub = build_hub(settings)
            app.state.gauges = hub_registry(app.state.hub)
        if embedded_worker:
            app.state.hub.start_workers()
        if freeze_gc:
            settle_heap()
        try:
            yield
        finally:
            if owned:
                app.state.hub.close()

    app = FastAPI(
        title="Back Office interoperability hub",
        version=__version__,
        description="Durable store-and-forward exchange between Thai government Back Office systems.",
        default_response_class=FastJSONResponse,
        lifespan=lifespan,
        # The hub exports Prometheus metrics and story logs, not OpenTelemetry: with FastAPI's
        # native telemetry on, every request asked whether a global OTel provider had been set.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None, redoc_url=None,  # served from the hub's own assets (hub.api.docs)
        # Deny by default: every route authenticates unless marked public (hub.api.public).
        dependencies=[Depends(require_principal)],
    )
    app.state.hub = hub
    app.state.gauges = hub_registry(hub) if hub is not None else None  # /metrics: gauges read at scrape time
    # A body limit per route, counted while the body streams in (hub.api.body_limits).
    app.add_middleware(BodyLimits)
    # Accepts beyond what the hub can take are refused with 503 + Retry-After (hub.api.admission).
    app.add_middleware(Admission)
    errors.install(app)
    docs.install(app)
    # The operators' web console (its own sessions, CSRF and CSP: hub/console/app.py).
    app.mount("/console", create_console(lambda: app.state.hub, lambda: app.state.gauges), name="console")
    # The citizen's pages: sign-in, the OAuth consent page, my consents, who read my data (issue 15).
    app.mount("/citizen", create_citizen_pages(lambda: app.state.hub), name="citizen")
    app.add_middleware(RequestLog)
    for module in ROUTE_MODULES:
        app.include_router(module.router)
    # The accept route, matched before every other (see ``SubmitShortcut``).
    app.router.routes.insert(0, messages.submit_shortcut())
    return app


# How long a thread may hold the GIL while another waits for it (CPython's default: 5 ms).
# An accept's group commit makes about ten database round trips, and after each one the
# commit thread waits for the GIL while the event loop parses and answers other requests:
# up to 5 ms a time, so one commit took tens of milliseconds of which a millisecond or two
# was its own work, and the event loop stalled as long behind the commit thread's CPU work
# in turn. With 0.5 ms the half-rate accept's commit p99 (in `hub serve`, under load) fell
# by about a third on PostgreSQL and about half on SQLite; see README "The accept latency's tail".
SWITCH_INTERVAL = 0.0005


def settle_heap() -> None:
    """Move what start-up built (modules, the app, the hub, its caches: most of the heap) out of
    the garbage collector's sight. A full collection otherwise walks all of it, tens of
    milliseconds with every request stalled: the tail of the accept latency. Only for a
    process that builds one app and then serves (not tests, which build many).

    Also shortens the GIL's switch interval (``SWITCH_INTERVAL``), process-wide, for the same
    kind of process."""
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL)
