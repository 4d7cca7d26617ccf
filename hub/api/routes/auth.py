"""``/v1/auth``: OAuth2 client credentials, the GDX-compatible exchange, people's sessions."""
from __future__ import annotations

import base64
import binascii
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from hub.api.deps import PrincipalDep, SecurityDep
from hub.api.public import public
from hub.errors import FieldError, InputError, Unauthorized
from hub.schemas.security import AccessToken, GdxToken, SessionOut, WhoAmI
from hub.security import delivery_signing
from hub.security.hashing import SESSION_PREFIX
from hub.thai import ThaiValueError, validate_citizen_id

router = APIRouter(tags=["auth"])


def _source(request: Request, security: Any) -> str | None:  # noqa: ANN401
    """The caller's address for the limits on secret checks."""
    return security.authenticator.source(request.headers, request.client.host if request.client else None)


def _basic(authorization: str | None) -> tuple[str, str] | None:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        cid, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized("the Basic credentials are not base64 of 'client_id:secret'", error="invalid_client") from exc
    return (cid, secret) if sep else None


@router.post("/v1/auth/token", response_model=AccessToken)
@public("OAuth2 token endpoint: the client authenticates with its id and secret here")
async def token(
    request: Request,
    security: SecurityDep,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """OAuth2 client credentials (RFC 6749 §4.4): a short-lived signed access token."""
    if grant_type != "client_credentials":
        raise InputError(f"grant_type {grant_type!r} is not supported", error="unsupported_grant_type",
                         errors=[FieldError("/grant_type", "enum", "client_credentials")])
    basic = _basic(authorization)
    if basic:
        client_id, client_secret = basic
    if not client_id or client_secret is None:
        raise Unauthorized("send client_id and client_secret (form fields or HTTP Basic)", error="invalid_client")
    principal = await run_in_threadpool(partial(security.authenticator.from_secret, client_id, client_secret,
                                                source=_source(request, security)))
    issued = security.tokens.issue(principal.client_id or client_id)
    await run_in_threadpool(security.audit.record, "auth.token_issued", actor=principal.subject, decision="granted",
                            target=principal.client_id, method="client_credentials", expires_in=issued.expires_in)
    return issued.as_oauth()


@router.get("/v1/auth/validate", response_model=GdxToken)
@public("GDX-compatible token exchange: the consumer authenticates with Consumer-Key and ConsumerSecret")
async def gdx_validate(
    request: Request,
    security: SecurityDep,
    consumer_key: Annotated[str, Header(alias="Consumer-Key")],
    ConsumerSecret: str,  # noqa: N803  (GDX's parameter names)
    AgentID: str,  # noqa: N803
) -> dict[str, str]:
    """GDX-style: ``Consumer-Key`` header + ``ConsumerSecret`` and ``AgentID`` (citizen ID) → ``{"Result": token}``."""
    try:
        agent = validate_citizen_id(AgentID)
    except ThaiValueError as exc:
        raise InputError(f"AgentID: {exc}", errors=[FieldError("/query/AgentID", "citizen_id",
                                                               "the acting officer's 13-digit citizen ID")]) from exc
    principal = await run_in_threadpool(partial(security.authenticator.from_secret, consumer_key, ConsumerSecret, "gdx",
                                                source=_source(request, security)))
    issued = security.tokens.issue(consumer_key, kind="gdx", agent=agent)
    await run_in_threadpool(security.audit.record, "auth.token_issued", actor=principal.subject, decision="granted",
                            target=consumer_key, method="gdx", agent=agent, expires_in=issued.expires_in)
    return {"Result": issued.token}


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/v1/auth/login", response_model=SessionOut)
@public("people log in here with their username and password")
async def login(request: Request, body: Login, security: SecurityDep) -> dict[str, Any]:
    """A person's login: a session token (Bearer) that expires."""
    session = await run_in_threadpool(partial(security.users.login, body.username, body.password,
                                              source=_source(request, security)))
    return {"session_token": session.token, "token_type": "Bearer", "expires_at": session.expires_at}


@router.post("/v1/auth/logout", status_code=204)
async def logout(request: Request, security: SecurityDep, principal: PrincipalDep) -> None:
    """End the current session."""
    _, _, value = request.headers.get("authorization", "").partition(" ")
    if value.startswith(SESSION_PREFIX):
        await run_in_threadpool(security.users.logout, value.strip())
        await run_in_threadpool(security.audit.record, "auth.logout", actor=principal.subject)


@router.get("/v1/auth/whoami", response_model=WhoAmI)
async def whoami(principal: PrincipalDep) -> dict[str, Any]:
    """Who the hub thinks you are."""
    return {"subject": principal.subject, "roles": sorted(principal.roles), "member": principal.member,
            "subsystems": sorted(principal.subsystems), "clearance": principal.clearance,
            "method": principal.method, "agent_id": principal.agent_id}


@router.get("/.well-known/jwks.json", response_model=dict[str, Any])
@public("the hub's public keys: receivers verify signed deliveries and tokens with them")
async def jwks(security: SecurityDep) -> dict[str, Any]:
    """The hub's Ed25519 public keys (JWK Set): ``Hub-Signature`` on deliveries, access tokens and
    audit seals are verified with the key its ``kid`` names."""
    return delivery_signing.jwks(security.public_keys())
