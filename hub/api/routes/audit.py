"""``/v1/audit``: read, verify and export the tamper-evident audit trail (admins and auditors)."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from hub.api.deps import SecurityDep
from hub.api.roles import AuditorDep
from hub.schemas.security import AuditBundle, AuditEntry, AuditVerification, PublicKey
from hub.security.keys import public_pem

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("/entries", response_model=list[AuditEntry])
async def audit_entries(security: SecurityDep, auditor: AuditorDep, since: datetime | None = None,
                        kind: str | None = None, target: str | None = None,
                        limit: Annotated[int, Query(ge=1, le=10000)] = 1000) -> list[dict]:
    """Audit entries, oldest first."""
    return await run_in_threadpool(security.audit.entries, since=since, kind=kind, target=target, limit=limit)


@router.get("/verify", response_model=AuditVerification)
async def audit_verify(security: SecurityDep, auditor: AuditorDep) -> dict:
    """Check the hash chain and the signed seals; names the first bad entry."""
    return (await run_in_threadpool(security.audit.verify)).as_dict()


@router.get("/export", response_model=AuditBundle)
async def audit_export(security: SecurityDep, auditor: AuditorDep, since: datetime | None = None) -> dict:
    """A signed bundle verifiable offline with the hub's public key."""
    bundle = await run_in_threadpool(security.audit.export, since)
    await run_in_threadpool(security.audit.record, "audit.exported", actor=auditor.subject,
                            entries=len(bundle["entries"]), since=bundle["since"])
    return bundle


@router.get("/public-key", response_model=PublicKey)
async def audit_public_key(security: SecurityDep, auditor: AuditorDep) -> dict[str, str]:
    """The hub's Ed25519 public key (PEM) that verifies seals, bundles and tokens."""
    return {"key_id": security.key.key_id, "public_key_pem": public_pem(security.key.public).decode()}
