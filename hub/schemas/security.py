"""Answers of the security layer's API: tokens, sessions, clients, access rights and the audit trail."""
from __future__ import annotations

from pydantic import BaseModel, Field

from hub.schemas.common import IsoTimestamp


class AccessToken(BaseModel):
    """OAuth2 client credentials answer (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = Field(description="Bearer")
    expires_in: int = Field(description="Seconds until the token expires.")


class GdxToken(BaseModel):
    """The GDX-compatible exchange's answer: the token to send with the Consumer-Key header."""

    Result: str  # noqa: N815  (GDX's name)


class SessionOut(BaseModel):
    session_token: str
    token_type: str = Field(description="Bearer")
    expires_at: IsoTimestamp


class WhoAmI(BaseModel):
    subject: str
    roles: list[str]
    member: str | None
    subsystems: list[str]
    clearance: str
    method: str = Field(description="How the caller authenticated: jwt, client_secret, client_cert, gdx, session")
    agent_id: str | None = Field(description="GDX: the citizen ID of the officer acting.")


class IssuedCredentials(BaseModel):
    """A client's secret, shown once: the hub keeps only its hash."""

    client_id: str
    client_secret: str
    previous_secret_expires_at: IsoTimestamp | None = Field(
        None, description="After a rotation: until when the old secret keeps working (absent otherwise).")


class AccessRight(BaseModel):
    id: int
    client: str = Field(description="A subsystem id, or group:NAME")
    service: str = Field(description="A service id, or *")
    provider: str = Field(description="The receiving subsystem or member, or *")


class AccessRightRecord(AccessRight):
    granted_at: IsoTimestamp
    granted_by: str


class ClientOut(BaseModel):
    id: str
    subsystem_id: str | None
    roles: list[str]
    clearance: str | None
    disabled: bool


class UserOut(BaseModel):
    username: str
    roles: list[str]
    member_id: str | None
    clearance: str


class AuditEntry(BaseModel):
    """One entry of the hash-chained audit trail, as stored (``detail`` is canonical JSON text)."""

    seq: int
    at: IsoTimestamp
    kind: str
    actor: str
    decision: str | None
    target: str | None
    detail: str
    prev_hash: str
    entry_hash: str


class AuditVerification(BaseModel):
    ok: bool
    entries: int
    seals: int
    first_bad_seq: int | None
    problem: str | None
    unsealed: int = Field(description="Entries after the last seal.")
    notes: list[str]


class AuditAnchor(BaseModel):
    seq: int
    hash: str


class AuditSeal(BaseModel):
    first_seq: int
    last_seq: int
    last_hash: str
    signed_at: IsoTimestamp
    key_id: str
    signature: str


class AuditBundle(BaseModel):
    """A signed export, verifiable offline with the hub's public key (``hub audit verify --bundle``)."""

    format: str
    exported_at: IsoTimestamp
    since: IsoTimestamp | None
    key_id: str
    public_key_pem: str
    anchor: AuditAnchor
    entries: list[AuditEntry]
    seals: list[AuditSeal]
    signature: str


class PublicKey(BaseModel):
    key_id: str
    public_key_pem: str
