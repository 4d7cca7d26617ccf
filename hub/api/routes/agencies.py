"""``/v1/agencies``: the agency registry and subsystem onboarding."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from hub.api.deps import PrincipalDep, RegistryDep, SecurityDep
from hub.api.roles import AdminDep
from hub.errors import FieldError, Forbidden, InputError
from hub.registry.schemas import (
    Clearance, Member, MemberIn, MemberPatch, Subsystem, SubsystemApproval, SubsystemIn,
)

router = APIRouter(prefix="/v1/agencies", tags=["agencies"])


@router.get("", response_model=list[Member])
async def list_agencies(registry: RegistryDep, _: PrincipalDep, pilot: bool | None = None,
                        system: str | None = None, parent: str | None = None) -> list[Member]:
    """Registered members, filtered by pilot flag, Back Office system or parent."""
    return await run_in_threadpool(registry.list_members, pilot=pilot, system=system, parent=parent)


@router.post("", status_code=201, response_model=Member)
async def add_agency(body: MemberIn, registry: RegistryDep, admin: AdminDep) -> Member:
    """Register a member (ministry, department or unit)."""
    return await run_in_threadpool(registry.add_member, body, actor=admin.subject)


@router.get("/{member_id:path}/subsystems/{code}", response_model=Subsystem)
async def get_subsystem(member_id: str, code: str, registry: RegistryDep, _: PrincipalDep) -> Subsystem:
    """One subsystem and its onboarding status."""
    return await run_in_threadpool(registry.subsystem, f"{member_id}/{code}")


@router.post("/{member_id:path}/subsystems", status_code=201, response_model=Subsystem)
async def request_subsystem(member_id: str, body: SubsystemIn, registry: RegistryDep, security: SecurityDep,
                            principal: PrincipalDep, request: Request) -> Subsystem:
    """An agency registers a subsystem; it stays ``pending`` until a hub admin approves it."""
    if not (principal.is_admin or principal.member == member_id):
        reason = f"only {member_id}'s operators or a hub admin may register its subsystems"
        await run_in_threadpool(security.audit.record, "access.role", actor=principal.subject, decision="refused",
                                target=request.url.path, reason=reason)
        raise Forbidden(reason)
    return await run_in_threadpool(registry.request_subsystem, member_id, body, actor=principal.subject)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clearance: Clearance | None = None
    reason: str | None = None
    rotate: bool = Field(False, description="Approve only: the subsystem is approved already; issue a new "
                                            "secret (the old one works during the overlap). Without it, "
                                            "approving again is 409.")


# The credentials' answer names the old secret's expiry only after a rotation.
@router.post("/{member_id:path}/subsystems/{code}/approve", response_model=SubsystemApproval,
             response_model_exclude_unset=True)
async def approve_subsystem(member_id: str, code: str, registry: RegistryDep, security: SecurityDep,
                            admin: AdminDep, body: Decision | None = None) -> dict:
    """Approve a subsystem; its client credentials are in this response and never shown again."""
    body = body or Decision()
    issued = await run_in_threadpool(security.approve_subsystem, f"{member_id}/{code}", actor=admin.subject,
                                     clearance=body.clearance, rotate=body.rotate)
    sub = await run_in_threadpool(registry.subsystem, f"{member_id}/{code}")
    return {"subsystem": sub.model_dump(mode="json"), "credentials": issued.as_dict() if issued else None,
            "token_url": "/v1/auth/token"}


@router.post("/{member_id:path}/subsystems/{code}/reject", response_model=Subsystem)
async def reject_subsystem(member_id: str, code: str, registry: RegistryDep, security: SecurityDep,
                           admin: AdminDep, body: Decision | None = None) -> Subsystem:
    """Reject a pending subsystem (or disable an approved one: it can no longer authenticate)."""
    sid = f"{member_id}/{code}"
    current = await run_in_threadpool(registry.subsystem, sid)
    status = "disabled" if current.status == "approved" else "rejected"
    result = await run_in_threadpool(registry.decide, sid, status, actor=admin.subject,
                                     reason=(body or Decision()).reason)
    security.authenticator.forget()
    return result


@router.put("/{member_id:path}/subsystems/{code}/clearance", response_model=Subsystem)
async def set_clearance(member_id: str, code: str, body: Decision, registry: RegistryDep, security: SecurityDep,
                        admin: AdminDep) -> Subsystem:
    """Change a subsystem's clearance (001-004)."""
    if body.clearance is None:
        raise InputError("clearance is required", errors=[FieldError("/clearance", "required", "001, 002, 003 or 004")])
    result = await run_in_threadpool(registry.set_clearance, f"{member_id}/{code}", body.clearance,
                                     actor=admin.subject)
    security.authenticator.forget()
    return result


@router.patch("/{member_id:path}", response_model=Member)
async def update_agency(member_id: str, body: MemberPatch, registry: RegistryDep, admin: AdminDep) -> Member:
    """Change names, contacts or the pilot flag."""
    return await run_in_threadpool(registry.update_member, member_id, body, actor=admin.subject)


@router.get("/{member_id:path}", response_model=Member)
async def get_agency(member_id: str, registry: RegistryDep, _: PrincipalDep) -> Member:
    """One member with its roles, children (org tree) and subsystems."""
    return await run_in_threadpool(registry.member, member_id)
