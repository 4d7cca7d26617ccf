"""Authenticating an HTTP request: what the API reads off it for the security layer.

The security layer (``hub.security.authn.Authenticator``) knows no web framework; it takes
plain values. This module reads them from a Starlette request — the headers, the TCP peer's
address and the client certificate of the ASGI TLS extension — and keeps the principal on
``request.state`` so a route's dependencies authenticate a request once.
"""
from __future__ import annotations

from starlette.requests import Request

from hub.schemas.principal import Principal
from hub.security.authn import Authenticator
from hub.security.mtls import tls_client_cert


def peer_address(request: Request) -> str | None:
    """The TCP peer (a TLS-terminating proxy, when there is one: its header is trusted by this)."""
    return request.client.host if request.client else None


def remembered_principal(request: Request, authenticator: Authenticator) -> Principal | None:
    """The request's principal if it is known without I/O (``Authenticator.remembered``), else None."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = authenticator.remembered(request.headers)
    if principal is not None:
        request.state.principal = principal
    return principal


def authenticate_request(request: Request, authenticator: Authenticator) -> Principal:
    """The request's principal; ``Unauthorized`` (audited) when it presents none that holds."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = authenticator.authenticate(request.headers, peer=peer_address(request),
                                           tls_cert=tls_client_cert(request.scope),
                                           channel=f"{request.method} {request.url.path}")
    request.state.principal = principal
    return principal
