"""The FastAPI application. ``create_app`` wires a ``Hub``; the lifespan starts its workers."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from hub import __version__
from hub.api import errors
from hub.api.public import require_principal
from hub.api.responses import FastJSONResponse
from hub.api.routes import access as access_routes
from hub.api.routes import agencies, auth, health, messages, routes
from hub.api.routes import audit as audit_routes
from hub.api.routes import ecms as ecms_routes
from hub.api.routes import ecms_departments
from hub.api.routes import juristic as juristic_routes
from hub.api.routes import locations as location_routes
from hub.api.routes import persons as person_routes
from hub.api.routes import standards as standards_routes
from hub.api.routes import telework as telework_routes
from hub.bootstrap import Hub, build_hub
from hub.config import Settings

# Every API module with a ``router``; a subsystem adds its module here.
ROUTE_MODULES = [
    health, messages, routes, standards_routes, ecms_routes, ecms_departments,  # layers 1 and 2, the e-CMS node
    auth, agencies, access_routes, audit_routes,  # layer 3: registry, security, audit
    person_routes, juristic_routes, location_routes,  # layer 3: shared information
    telework_routes,  # layer 4: the telework central application
]


def create_app(hub: Hub | None = None, *, settings: Settings | None = None, embedded_worker: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.hub is None
        if owned:
            app.state.hub = build_hub(settings)
        if embedded_worker:
            app.state.hub.start_workers()
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
        # Deny by default: every route authenticates unless marked public (hub.api.public).
        dependencies=[Depends(require_principal)],
    )
    app.state.hub = hub
    errors.install(app)
    for module in ROUTE_MODULES:
        app.include_router(module.router)
    return app
