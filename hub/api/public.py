"""Deny by default: every API route needs an authenticated principal unless it is marked public.

``create_app`` adds ``require_principal`` as an app-wide dependency, so a route someone adds
tomorrow is protected without anyone remembering to. A route that must stay open (liveness,
readiness, token issuance, published standard documents) says so with ``@public("why")``;
the test that checks every route skips exactly the routes ``is_open`` names.

A route that authenticates by itself (the e-CMS SOAP node reads WS-Security from the body)
is marked ``@self_authenticating("how")``: the app-wide check skips it, and it must call
``authenticate_credentials`` itself.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from hub.api.deps import current_principal

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


def is_open(endpoint: object) -> bool:
    return hasattr(endpoint, PUBLIC_ATTR) or hasattr(endpoint, SELF_AUTH_ATTR)


async def require_principal(request: Request) -> None:
    """App-wide dependency: authenticate unless the matched endpoint is public."""
    if not is_open(request.scope.get("endpoint")):
        await current_principal(request)
