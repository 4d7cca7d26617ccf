"""``/v1/citizens/me``: a citizen, signed in with their own session (``POST /v1/auth/login``
with their citizen ID), lists and revokes their consents and sees every read of their data."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from hub.api.deps import IntegrationDep, PrincipalDep, SecurityDep
from hub.errors import ConfigError, Forbidden
from hub.integration.citizens import Citizens
from hub.integration.tracker import DataTracker
from hub.schemas.principal import CITIZEN

router = APIRouter(tags=["citizens"])


class ReadLine(BaseModel):
    at: str = Field(description="When the read happened (UTC, ISO 8601)")
    channel: str = Field(description="record (the unified record) or person_registry")
    reader: str = Field(description="The e-service's client id, the agency subsystem, or the admin's subject")
    reader_kind: str = Field(description="eservice | agency | admin")
    reader_name_th: str
    reader_name_en: str
    fields: list[str] = Field(description="The fields returned")
    groups: list[str] = Field(description="The field groups asked for")
    purpose: str | None
    basis: str | None = Field(description="citizen_consent | agency_consent | owner | admin")
    basis_id: str | None = Field(description="The consent's id, when the basis is a consent")
    sources: dict[str, str]
    seq: int = Field(description="The audit entry's sequence number")
    entry_hash: str = Field(description="The audit entry's hash in the signed chain")


class Reads(BaseModel):
    citizen_id: str
    reads: list[ReadLine]


def _citizen(request: Request, principal: PrincipalDep, security: SecurityDep) -> str:
    """The signed-in citizen's ID; anyone else is refused (audited) the same way as a role check."""
    if CITIZEN in principal.roles and principal.subject.startswith("user:"):
        return principal.subject.removeprefix("user:")
    reason = f"{request.method} {request.url.path} is for a citizen signed in with their own session"
    security.audit.record("access.role", actor=principal.subject, decision="refused", target=request.url.path,
                          reason=reason)
    raise Forbidden(reason)


def _citizens(integration: IntegrationDep) -> Citizens:
    if integration.citizens is None:
        raise ConfigError("this hub was built without citizens' consents")
    return integration.citizens


CitizenId = Annotated[str, Depends(_citizen)]
CitizensDep = Annotated[Citizens, Depends(_citizens)]


@router.get("/v1/citizens/me/consents")
async def my_consents(citizen_id: CitizenId, citizens: CitizensDep) -> dict[str, Any]:
    """Your consents to e-services (``eservices``: revocable here) and, apart, the consents agencies
    recorded for agency-to-agency reads (``agencies``)."""
    return await run_in_threadpool(citizens.eservices.for_citizen, citizen_id)


@router.delete("/v1/citizens/me/consents/{consent_id}")
async def revoke_my_consent(consent_id: str, citizen_id: CitizenId, citizens: CitizensDep) -> dict[str, Any]:
    """Revoke one of your consents to an e-service: its next read is refused (revoking again changes nothing)."""
    consent = await run_in_threadpool(citizens.eservices.revoke, citizen_id, consent_id)
    return consent.as_dict()


@router.get("/v1/citizens/me/reads", response_model=None, responses={200: {
    "model": Reads, "content": {"text/csv": {"schema": {"type": "string", "description": "format=csv"}}}}})
async def my_reads(citizen_id: CitizenId, citizens: CitizensDep,
                   format: Annotated[Literal["json", "csv"], Query()] = "json") -> Any:  # noqa: A002
    """Every read of your data, from the signed audit trail: who (agency or e-service), which fields,
    when, under which consent or legal basis, for which purpose. ``format=csv`` exports it."""
    reads = await run_in_threadpool(citizens.tracker.reads, citizen_id)
    if format == "csv":
        return Response(DataTracker.as_csv(reads), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="my-data-reads.csv"'})
    return {"citizen_id": citizen_id, "reads": reads}
