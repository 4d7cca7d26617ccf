"""What routes depend on, as ``Annotated`` aliases: a route names the service it calls
(``security: SecurityDep``) and never looks it up on the hub itself.

Every alias resolves through the hub on ``app.state.hub`` (``create_app`` may build it only
in its lifespan, so nothing is looked up before the first request).

The lookups are ``async def``: FastAPI runs a plain ``def`` dependency in its thread pool,
one hand-off per dependency per request: a third of the CPU of every ``POST /v1/messages``,
and latency on every read. Only what may do I/O goes to a thread.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from hub.api.authentication import authenticate_request, remembered_principal
from hub.apps.telework.wiring import TeleworkApp, app_for
from hub.bootstrap import Hub
from hub.config import Settings
from hub.errors import ConfigError, Unauthorized
from hub.integration.wiring import Integration
from hub.registry.agencies import AgencyRegistry
from hub.schemas.principal import Principal
from hub.security.wiring import Security, security_of
from hub.standards.registry import StandardsRegistry
from hub.transport.messages import MessageService
from hub.transport.routing import Router


async def get_hub(request: Request) -> Hub:
    return request.app.state.hub


HubDep = Annotated[Hub, Depends(get_hub)]


async def current_principal(request: Request) -> Principal:
    """Authenticate the request. Every route that is not public depends on this.

    A token verified before whose client is still cached is answered here; anything else
    (a first verification, a secret, a session, a refusal to audit) in a thread.
    Tests of other layers may override this dependency with a fixed principal.
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:  # the app-wide check already authenticated this request
        return cached
    security = getattr(request.app.state.hub, "security", None)
    if security is None:
        raise Unauthorized("this hub has no authentication configured; every protected route is closed")
    # Authenticating may read the database (credentials, revocations): off the event loop.
    return remembered_principal(request, security.authenticator) or await run_in_threadpool(
        authenticate_request, request, security.authenticator)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def get_settings(hub: HubDep) -> Settings:
    return hub.settings


async def get_security(hub: HubDep) -> Security:
    return security_of(hub)


async def get_registry(hub: HubDep) -> AgencyRegistry:
    return security_of(hub).registry


async def get_standards(hub: HubDep) -> StandardsRegistry:
    if hub.standards is None:
        raise ConfigError("this hub was built without the standards registry")
    return hub.standards


async def get_messages(hub: HubDep) -> MessageService:
    return hub.messages


async def get_router(hub: HubDep) -> Router:
    return hub.router


def get_telework(hub: HubDep, principal: PrincipalDep) -> TeleworkApp:  # noqa: ARG001
    # The caller is authenticated first: an anonymous request learns nothing, not even
    # whether telework is configured.
    return app_for(hub)


SettingsDep = Annotated[Settings, Depends(get_settings)]
SecurityDep = Annotated[Security, Depends(get_security)]  # layer 3: authentication, access rights, audit
RegistryDep = Annotated[AgencyRegistry, Depends(get_registry)]  # layer 3: agencies and their subsystems
StandardsDep = Annotated[StandardsRegistry, Depends(get_standards)]  # layer 2: the data-standards registry
MessagesDep = Annotated[MessageService, Depends(get_messages)]  # layer 1: accept, read, list, replay
RouterDep = Annotated[Router, Depends(get_router)]  # layer 1: which adapter delivers what
TeleworkDep = Annotated[TeleworkApp, Depends(get_telework)]  # layer 4: the telework application


async def get_integration(hub: HubDep) -> Integration:
    if hub.integration is None:
        raise ConfigError("this hub was built without layer 5 (events, subscriptions, applications)")
    return hub.integration


IntegrationDep = Annotated[Integration, Depends(get_integration)]  # layer 5: events, subscriptions, applications
