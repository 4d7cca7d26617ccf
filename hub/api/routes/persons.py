"""Shared person registry: report fields (HR subsystems), read (owners, admins, consent
holders; every read audited), and manage consents (owners, admins)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from hub.api.ids import RowId
from hub.api.deps import PrincipalDep, SecurityDep
from hub.registry import ids
from hub.registry.person_schemas import Consent, ConsentIn, PersonRecord, PersonReported, PersonUpdate

router = APIRouter(tags=["persons"])


@router.post("/v1/persons", status_code=200, response_model=PersonReported)
async def report_person(body: PersonUpdate, security: SecurityDep, principal: PrincipalDep) -> PersonReported:
    """Report fields of a person as one of your HR subsystems (needs the right hr.person.changed/v1
    toward the shared-data party). ``update_id`` makes a retry harmless."""
    applied = await run_in_threadpool(security.persons.submit, principal, body)
    return PersonReported(citizen_id=applied.citizen_id, applied=applied.applied, fields=list(applied.fields))


@router.get("/v1/persons/{citizen_id}", response_model=PersonRecord)
async def read_person(citizen_id: str, security: SecurityDep, principal: PrincipalDep) -> dict:
    """A person's fields, each with its source agency, when it was observed, its age and whether it
    is stale. Owners and admins see every field; a consent holder sees the consented fields."""
    return await run_in_threadpool(security.persons.read, principal, ids.citizen_id(citizen_id))


@router.post("/v1/persons/{citizen_id}/consents", status_code=201, response_model=Consent)
async def grant_consent(citizen_id: str, body: ConsentIn, security: SecurityDep, principal: PrincipalDep) -> Consent:
    """Record a consent: ``consumer`` may read ``fields`` for ``purpose`` until ``expires_at``."""
    return await run_in_threadpool(security.consents.grant, principal, ids.citizen_id(citizen_id), body)


@router.get("/v1/persons/{citizen_id}/consents", response_model=list[Consent])
async def list_consents(citizen_id: str, security: SecurityDep, principal: PrincipalDep) -> list[Consent]:
    """The person's consents, revoked and expired ones included (marked ``valid: false``)."""
    return await run_in_threadpool(security.consents.list, principal, ids.citizen_id(citizen_id))


@router.delete("/v1/persons/{citizen_id}/consents/{consent_id}", response_model=Consent)
async def revoke_consent(citizen_id: str, consent_id: RowId, security: SecurityDep, principal: PrincipalDep) -> Consent:
    """Revoke a consent (idempotent: revoking it again changes nothing)."""
    return await run_in_threadpool(security.consents.revoke, principal, ids.citizen_id(citizen_id),
                                   consent_id)
