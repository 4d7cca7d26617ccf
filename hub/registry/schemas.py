"""Pydantic models of the agency registry's API."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.schemas.security import IssuedCredentials

MemberId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,32}/[A-Z]{2,10}/[A-Za-z0-9._-]{1,64}$",
                                            max_length=120)]
SubsystemCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
Clearance = Literal["001", "002", "003", "004"]
Level = Literal["ministry", "department", "unit"]
Role = Literal["lead", "secondary", "supplementary", "advisory"]


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = Field(None, description="e.g. technical, security, administrative")


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: MemberId
    name_th: str = Field(min_length=1)
    name_en: str | None = None
    level: Level = "department"
    parent_id: MemberId | None = None
    ministry_code: str | None = Field(None, max_length=8, description="Two-letter book-number prefix, e.g. กค")
    department_code: str | None = Field(None, max_length=32)
    pilot: bool = False
    contacts: list[Contact] = Field(default_factory=list)


class MemberPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_th: str | None = Field(None, min_length=1)
    name_en: str | None = None
    pilot: bool | None = None
    contacts: list[Contact] | None = None
    department_code: str | None = None


class SubsystemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: SubsystemCode
    clearance: Clearance = "001"
    endpoints: dict[str, str] = Field(default_factory=dict, description="name -> URL, e.g. {'inbox': 'https://...'}")
    description: str | None = None


class Subsystem(BaseModel):
    id: str
    member_id: str
    code: str
    status: Literal["pending", "approved", "rejected", "disabled"]
    clearance: Clearance
    endpoints: dict[str, str]
    description: str | None = None
    requested_by: str | None = None
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None


class Member(BaseModel):
    id: str
    instance: str
    member_class: str
    code: str
    name_th: str
    name_en: str | None
    level: Level
    parent_id: str | None
    ministry_code: str | None
    department_code: str | None
    pilot: bool
    contacts: list[Contact]
    roles: dict[str, list[Role]] = Field(default_factory=dict, description="Back Office system -> roles")
    children: list[str] = Field(default_factory=list)
    subsystems: list[Subsystem] = Field(default_factory=list)


class SubsystemApproval(BaseModel):
    """An approved subsystem and its client credentials, shown in this answer only."""

    subsystem: Subsystem
    credentials: IssuedCredentials | None = Field(description="null when the subsystem had been approved before "
                                                              "and its client is kept")
    token_url: str
