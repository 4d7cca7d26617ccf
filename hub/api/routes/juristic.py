"""Shared juristic-person registry: public registration data, read by any authenticated caller."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from hub.api.deps import PrincipalDep, SecurityDep
from hub.registry import ids
from hub.registry.juristic import JuristicIn, JuristicRecord

router = APIRouter(tags=["juristic persons"])


@router.put("/v1/juristic-persons", response_model=JuristicRecord)
async def report_juristic(body: JuristicIn, security: SecurityDep, principal: PrincipalDep) -> dict:
    """Report a juristic person (needs the right registry.juristic.changed/v1 toward the shared-data
    party, or admin); an older observation never replaces a newer one."""
    return await run_in_threadpool(security.juristic.put, principal, body)


@router.get("/v1/juristic-persons/{juristic_id}", response_model=JuristicRecord)
async def read_juristic(juristic_id: str, security: SecurityDep, _: PrincipalDep) -> dict:
    """A juristic person with its source agency, observation time, age and staleness."""
    return await run_in_threadpool(security.juristic.get, ids.juristic_id(juristic_id))
