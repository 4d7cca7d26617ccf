"""Who is calling the e-CMS node: ``soap_authenticator(request, store)(soap_request) -> Principal``.

The SOAP route is marked self-authenticating (``hub.api.public``) because a
WS-Security UsernameToken sits inside the body, which only the node reads. Order:
1. the security layer (``hub.security``: ``Authenticator.authenticate_credentials``) with
   whatever was presented — UsernameToken (PasswordText), HTTP Basic, bearer token or the
   client certificate — exactly as for the REST API, audited there;
2. if the security layer refuses or is absent: node-local department credentials
   (a department code and secret registered with ``EcmsService.register_department``), sent
   as UsernameToken or HTTP Basic. These let an existing e-Saraban keep the department
   login it already has; they are hashed with PBKDF2 in ``ecms_departments``.
Anything else is refused with E009.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from hub.adapters.ecms.codec.codes import EcmsFault
from hub.adapters.ecms.codec.soap import SoapRequest
from hub.adapters.ecms.node.store import EcmsStore
from hub.errors import Forbidden, TooManyRequests, Unauthorized
from hub.schemas.principal import CLIENT, Principal
from hub.security.mtls import tls_client_cert


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise EcmsFault("E009", "the Authorization header is not valid HTTP Basic") from None
    user, sep, secret = decoded.partition(":")
    return (user, secret) if sep else None


def node_local(store: EcmsStore, username: str, secret: str) -> Principal | None:
    department = store.verify_secret(username, secret)
    if department is None or department.party is None:
        return None
    return Principal(subject=f"ecms:{department.code}", roles=frozenset({CLIENT}),
                     subsystems=frozenset({department.party}), clearance=department.clearance)


def _security_principal(request: Any, token: tuple[str, str] | None) -> Principal:
    security = getattr(request.app.state.hub, "security", None)
    if security is None:
        raise Unauthorized("this hub has no security layer")
    peer = request.client.host if request.client else None
    presented = security.authenticator.presented(request.headers, peer=peer, tls_cert=tls_client_cert(request.scope))
    if token is not None:
        presented["client_id"], presented["client_secret"] = token
    return security.authenticator.authenticate_credentials(
        channel="ecms /ecms/service2", source=security.authenticator.source(request.headers, peer), **presented)


def soap_authenticator(request: Any, store: EcmsStore) -> Callable[[SoapRequest], Principal]:
    """Bind the HTTP request; the node calls the result once it has read the SOAP header."""

    def authenticate(soap_request: SoapRequest) -> Principal:
        token = (soap_request.username, soap_request.password or "") if soap_request.username else None
        # A department's own node secret first: asking the security layer about a department
        # code (which is no client id) would put two false refusals in the audit trail for
        # every successful department login.
        credentials = token or basic_credentials(request.headers.get("authorization"))
        principal = node_local(store, *credentials) if credentials else None
        if principal is not None:
            return principal
        try:
            return _security_principal(request, token)
        except (Unauthorized, Forbidden, TooManyRequests) as exc:
            # A limited secret check (429) is a refusal to a SOAP caller too: E009 in a SOAP fault.
            raise EcmsFault("E009", exc.message) from None

    return authenticate
