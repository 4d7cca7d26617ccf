"""``/v1/ecms/departments``: onboard the ministries and departments the e-CMS node serves
(the admin API behind ``hub ecms departments``). Hub admins only; a secret is returned once."""
from __future__ import annotations

import secrets as secret_tokens

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from hub.api.deps import HubDep
from hub.api.roles import require_admin

router = APIRouter(prefix="/v1/ecms/departments", tags=["e-CMS"], dependencies=[Depends(require_admin)])


class DepartmentIn(BaseModel):
    code: str = Field(description="Department (or ministry) code, e.g. 0401.")
    ministry_code: str = Field(description="Its ministry's code; the same code for a ministry.")
    name_th: str = Field(description="Thai name.")
    name_en: str | None = Field(None, description="English name.")
    party: str | None = Field(None, description="Its subsystem, e.g. TH/GOV/0401/saraban.")
    clearance: str = Field("001", description="Highest secrecy code it may receive (001-004).")
    with_secret: bool = Field(True, description="Make a secret for HTTP Basic / UsernameToken (needs party).")


class DepartmentOut(BaseModel):
    code: str
    ministry_code: str
    kind: str
    name_th: str
    name_en: str | None
    party: str | None
    clearance: str
    has_secret: bool
    secret: str | None = Field(None, description="The new secret, in this answer only.")


def _out(hub, department, secret: str | None = None) -> DepartmentOut:  # noqa: ANN001
    return DepartmentOut(code=department.code, ministry_code=department.ministry_code, kind=department.kind,
                         name_th=department.name_th, name_en=department.name_en, party=department.party,
                         clearance=department.clearance, has_secret=hub.ecms.store.has_secret(department.code),
                         secret=secret)


@router.post("", status_code=201, response_model=DepartmentOut)
async def add_department(body: DepartmentIn, hub: HubDep) -> DepartmentOut:
    """Add (or update) a department; with a subsystem it gets a route into its poll queue."""
    secret = secret_tokens.token_urlsafe(24) if body.with_secret and body.party else None

    def add() -> DepartmentOut:
        department = hub.ecms.onboard(body.code, body.ministry_code, body.name_th, name_en=body.name_en,
                                      party=body.party, clearance=body.clearance, secret=secret)
        return _out(hub, department, secret)
    return await run_in_threadpool(add)


@router.get("", response_model=list[DepartmentOut])
async def list_departments(hub: HubDep) -> list[DepartmentOut]:
    """Every ministry and department of the node."""
    return await run_in_threadpool(lambda: [_out(hub, d) for d in hub.ecms.store.departments()])


@router.delete("/{code}", status_code=204)
async def remove_department(code: str, hub: HubDep) -> Response:
    """Remove a department whose queue is empty (a ministry: once it has no departments)."""
    await run_in_threadpool(hub.ecms.store.remove_department, code)
    return Response(status_code=204)


@router.post("/{code}/secret", response_model=DepartmentOut)
async def new_secret(code: str, hub: HubDep) -> DepartmentOut:
    """A new secret for the department (the old one stops working), in this answer only."""
    secret = secret_tokens.token_urlsafe(24)

    def renew() -> DepartmentOut:
        hub.ecms.store.set_secret(code, secret)
        return _out(hub, hub.ecms.store.department(code), secret)
    return await run_in_threadpool(renew)
