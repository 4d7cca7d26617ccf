"""``/v1/eservices`` (admins register e-services as OAuth2 clients) and ``/v1/oauth/token``, the
token endpoint of the citizen-consent authorization server (hub.integration.oauth). The
authorization endpoint is a page: ``/citizen/authorize`` (hub.console.citizen)."""
from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hub.api.deps import IntegrationDep, SecurityDep
from hub.api.public import public
from hub.api.roles import AdminDep, AuditorDep
from hub.errors import ConfigError
from hub.integration.citizens import Citizens
from hub.integration.oauth import HubOAuth2Request

router = APIRouter(tags=["eservices"])


def _citizens(integration: IntegrationDep) -> Citizens:
    if integration.citizens is None:
        raise ConfigError("this hub was built without citizens' consents")
    return integration.citizens


CitizensDep = Annotated[Citizens, Depends(_citizens)]


class EServiceIn(BaseModel):
    client_id: str = Field(description="A client registered on this hub (its secret authenticates it at /v1/oauth/token).")
    name_th: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    purpose: str = Field(max_length=200, description="The purpose every record read under its consents states.")
    purpose_th: str = Field(description="The purpose as the citizen reads it, in Thai.")
    purpose_en: str
    redirect_uris: list[str] = Field(description="Exact redirect URIs (https, or http on loopback).")
    field_groups: list[str] = Field(description="Field groups of th.integration.record it may ask for.")
    consent_days: int = Field(description="How long a consent lasts, in days (1-366).")


@router.post("/v1/eservices", status_code=201)
async def register_eservice(body: EServiceIn, citizens: CitizensDep, principal: AdminDep) -> dict[str, Any]:
    """Register an e-service as an OAuth2 client (admins)."""
    service = await run_in_threadpool(lambda: citizens.eservices.register(**body.model_dump(),
                                                                          actor=principal.subject))
    return service.as_dict()


@router.get("/v1/eservices")
async def list_eservices(citizens: CitizensDep, principal: AuditorDep) -> list[dict[str, Any]]:  # noqa: ARG001
    """The registered e-services."""
    return [s.as_dict() for s in await run_in_threadpool(citizens.eservices.list)]


class CitizenToken(BaseModel):
    access_token: str
    token_type: str = Field(description="Bearer")
    expires_in: int = Field(description="Seconds; never beyond the consent's expiry")
    scope: str = Field(description="The consented field groups, space-separated")
    purpose: str = Field(description="The consented purpose: every record read states it")


@router.post("/v1/oauth/token", response_class=JSONResponse, responses={200: {"model": CitizenToken}})
@public("OAuth2 token endpoint of citizens' consents: the e-service authenticates with its id and secret here")
async def oauth_token(request: Request, citizens: CitizensDep, security: SecurityDep) -> JSONResponse:
    """Exchange an authorization code (with its PKCE verifier) for a token scoped to one citizen,
    the consented field groups and the purpose. Errors carry RFC 6749 ``error`` as well."""
    form: dict[str, list[str]] = defaultdict(list)
    for key, value in (await request.form()).multi_items():
        form[key].append(str(value))
    source = security.authenticator.source(request.headers, request.client.host if request.client else None)
    oauth_request = HubOAuth2Request("POST", str(request.url), request.headers, query={}, form=form, source=source)
    status, body, headers = await run_in_threadpool(citizens.oauth.create_token_response, oauth_request)
    if status >= 400:
        body = {"code": body.get("error", "invalid_request"),
                "message": body.get("error_description") or body.get("error", "invalid request"),
                "errors": [], **body}
    return JSONResponse(body, status_code=status, headers=dict(headers))
