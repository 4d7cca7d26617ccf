"""Deny by default: every API route needs an authenticated principal unless it is marked public.

``create_app`` adds ``require_principal`` as an app-wide dependency, so a route someone adds
tomorrow is protected without anyone remembering to. A route that must stay open (liveness,
readiness, token issuance, published standard documents) says so with ``@public("why")``;
``public_endpoints()`` lists them for the test that checks every route.

A route that authenticates by itself (the e-CMS SOAP node reads WS-Security from the body)
is marked ``@self_authenticating("how")``: the app-wide check skips it, and it must call
``authenticate_credentials`` itself.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

F = TypeVar("F", bound=Callable)
PUBLIC_ATTR = "__hub_public__"
SELF_AUTH_ATTR = "__hub_self_authenticating__"


def public(reason: str) -> Callable[[F], F]:
    def mark(endpoint: F) -> F:
        setattr(endpoint, PUBLIC_ATTR, reason)
        return endpoint
    return mark


def self_authenticating(how: str) -> Callable[[F], F]:
    def mark(endpoint: F) -> F:
        setattr(endpoint, SELF_AUTH_ATTR, how)
        return endpoint
    return mark


# Open by path, for routes whose modules the security layer does not own. /metrics is NOT
# here: traffic volumes and refusal counts per status tell an outsider which agencies are
# busy and what is being refused; Prometheus authenticates with its ``oauth2`` scrape option
# (client credentials) as a client with the ``monitor`` role.
PUBLIC_PATHS = {
    "/healthz": "liveness probe for the orchestrator",
    "/readyz": "readiness probe for the orchestrator and load balancer",
}


# Routes of modules the security layer does not own that need a role, not just a login.
ROLE_PATHS = {"/metrics": ("admin", "auditor", "monitor")}


def is_open(endpoint: object, path: str | None = None) -> bool:
    return hasattr(endpoint, PUBLIC_ATTR) or hasattr(endpoint, SELF_AUTH_ATTR) or path in PUBLIC_PATHS


def require_principal(request: Request) -> None:
    """App-wide dependency: authenticate unless the matched endpoint is public."""
    if is_open(request.scope.get("endpoint"), request.scope.get("path")):
        return
    from hub.api.deps import current_principal

    principal = current_principal(request)
    needed = ROLE_PATHS.get(request.scope.get("path"))
    if needed and not principal.roles & set(needed):
        from hub.errors import Forbidden
        from hub.security.wiring import security_of

        reason = f"{request.scope['path']} needs the role {' or '.join(needed)}"
        security_of(request.app.state.hub).audit.record("access.role", actor=principal.subject, decision="refused",
                                                        target=request.scope["path"], reason=reason)
        raise Forbidden(reason)
