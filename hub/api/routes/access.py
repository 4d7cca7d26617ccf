"""Admin API of the security layer: access rights, groups, clients (credentials) and people."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from hub.api.ids import RowId
from hub.api.deps import SecurityDep
from hub.api.roles import AdminDep
from hub.registry.schemas import Clearance
from hub.schemas.envelope import PARTY_PATTERN, SERVICE_PATTERN
from hub.schemas.security import AccessRight, AccessRightRecord, ClientOut, IssuedCredentials, UserOut

router = APIRouter(tags=["access"])


class RightIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client: str = Field(pattern=rf"^(group:[A-Za-z0-9._-]{{1,64}}|{PARTY_PATTERN[1:-1]})$",
                        description="A subsystem id, or group:NAME")
    service: str = Field(pattern=rf"^(\*|{SERVICE_PATTERN[1:-1]})$", description="A service id, or *")
    provider: str = Field("*", pattern=rf"^(\*|{PARTY_PATTERN[1:-1]})$",
                          description="The receiving subsystem or member, or *")


@router.post("/v1/access-rights", status_code=201, response_model=AccessRight)
async def grant_right(body: RightIn, security: SecurityDep, admin: AdminDep) -> dict:
    """Grant a subsystem (or group) the right to call a service at a provider."""
    await run_in_threadpool(security.access.check_provider, body.provider)
    return await run_in_threadpool(security.access.grant, body.client, body.service, body.provider,
                                   actor=admin.subject)


@router.get("/v1/access-rights", response_model=list[AccessRightRecord])
async def list_rights(security: SecurityDep, _: AdminDep, client: str | None = None) -> list[dict]:
    """Every access right (deny by default: what is not listed is refused)."""
    return await run_in_threadpool(security.access.rights, client)


@router.delete("/v1/access-rights/{right_id}", status_code=204)
async def revoke_right(right_id: RowId, security: SecurityDep, admin: AdminDep) -> Response:
    """Revoke an access right."""
    await run_in_threadpool(security.access.revoke, right_id, actor=admin.subject)
    return Response(status_code=204)


@router.get("/v1/groups", response_model=dict[str, list[str]])
async def list_groups(security: SecurityDep, _: AdminDep) -> dict[str, list[str]]:
    """Groups of subsystems and their members (group name -> subsystem ids)."""
    return await run_in_threadpool(security.access.groups)


@router.put("/v1/groups/{group}/members/{subsystem_id:path}", status_code=204)
async def add_group_member(group: str, subsystem_id: str, security: SecurityDep, admin: AdminDep) -> Response:
    """Add a subsystem to a group."""
    await run_in_threadpool(security.access.add_to_group, group, subsystem_id, actor=admin.subject)
    return Response(status_code=204)


@router.delete("/v1/groups/{group}/members/{subsystem_id:path}", status_code=204)
async def remove_group_member(group: str, subsystem_id: str, security: SecurityDep, admin: AdminDep) -> Response:
    """Remove a subsystem from a group."""
    await run_in_threadpool(security.access.remove_from_group, group, subsystem_id, actor=admin.subject)
    return Response(status_code=204)


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,100}$")
    roles: list[Literal["admin", "auditor", "monitor"]] = Field(min_length=1)
    clearance: Clearance = "001"


@router.get("/v1/clients", response_model=list[ClientOut])
async def list_clients(security: SecurityDep, _: AdminDep) -> list[ClientOut]:
    """Registered clients (never their secrets)."""
    return [ClientOut(id=c.id, subsystem_id=c.subsystem_id, roles=list(c.roles), clearance=c.clearance,
                      disabled=c.disabled) for c in await run_in_threadpool(security.credentials.list)]


# An issued secret's answer names the old secret's expiry only after a rotation.
@router.post("/v1/clients", status_code=201, response_model=IssuedCredentials, response_model_exclude_unset=True)
async def create_staff_client(body: ClientIn, security: SecurityDep, admin: AdminDep) -> dict:
    """A client for hub staff tooling (admin, auditor, or monitor for Prometheus); secret shown once."""
    issued = await run_in_threadpool(lambda: security.credentials.create(
        body.id, actor=admin.subject, roles=tuple(body.roles), clearance=body.clearance))
    return issued.as_dict()


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overlap_seconds: int | None = Field(None, ge=0, description="How long the old secret keeps working")


@router.post("/v1/clients/{client_id:path}/rotate", response_model=IssuedCredentials,
             response_model_exclude_unset=True)
async def rotate_secret(client_id: str, security: SecurityDep, admin: AdminDep,
                        body: Rotation | None = None) -> dict:
    """A new secret (shown once); the old one keeps working for the overlap window."""
    issued = await run_in_threadpool(lambda: security.credentials.rotate(
        client_id, actor=admin.subject, overlap_seconds=(body or Rotation()).overlap_seconds))
    return issued.as_dict()


@router.post("/v1/clients/{client_id:path}/disable", status_code=204)
async def disable_client(client_id: str, security: SecurityDep, admin: AdminDep) -> Response:
    """Disable a client: its tokens stop working within seconds."""
    await run_in_threadpool(lambda: security.credentials.set_disabled(client_id, True, actor=admin.subject))
    security.authenticator.forget()
    return Response(status_code=204)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,100}$")
    password: str = Field(min_length=12, max_length=1024)
    roles: list[Literal["admin", "agency-operator", "auditor", "monitor"]] = Field(min_length=1)
    member_id: str | None = None
    clearance: Clearance = "001"


@router.post("/v1/users", status_code=201, response_model=UserOut)
async def add_user(body: UserIn, security: SecurityDep, admin: AdminDep) -> UserOut:
    """Add a person (hub admin, agency operator, auditor or monitor)."""
    user = await run_in_threadpool(lambda: security.users.add(
        body.username, body.password, roles=tuple(body.roles), actor=admin.subject, member_id=body.member_id,
        clearance=body.clearance))
    return UserOut(username=user.username, roles=list(user.roles), member_id=user.member_id, clearance=user.clearance)


@router.post("/v1/users/{username}/disable", status_code=204)
async def disable_user(username: str, security: SecurityDep, admin: AdminDep) -> Response:
    """Disable a person; their sessions end at once."""
    await run_in_threadpool(lambda: security.users.set_disabled(username, True, actor=admin.subject))
    return Response(status_code=204)
