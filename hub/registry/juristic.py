"""The shared juristic-person registry: one record per 13-digit juristic ID, with the agency
that reported it and when (provenance and age, as for persons).

Juristic-person data is public registration data (the Department of Business Development
publishes it), so any authenticated caller may read it; writing needs the right
``JURISTIC_SERVICE`` toward the shared-data party (or admin), and every write is audited.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import Engine, insert, select, update

from hub.clock import as_utc, utcnow
from hub.errors import Forbidden, NotFound
from hub.registry.ids import JuristicIdField, ProvinceCodeField
from hub.registry.ports import AuditSink
from hub.registry.tables import juristic_persons
from hub.schemas.common import IsoTimestamp
from hub.schemas.envelope import PartyId
from hub.schemas.principal import Principal

JURISTIC_SERVICE = "registry.juristic.changed/v1"


class JuristicIn(BaseModel):
    """``th.shared.juristic-person`` fields the registry keeps."""

    model_config = ConfigDict(extra="forbid")
    juristic_id: JuristicIdField
    name_th: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(None, min_length=1, max_length=200)
    juristic_type: Literal["company-limited", "public-company-limited", "registered-partnership",
                           "limited-partnership", "foundation", "association", "other"]
    status: Literal["active", "dissolved", "liquidating", "deserted"]
    province_code: ProvinceCodeField | None = None
    source: PartyId | None = Field(None, description="The reporting subsystem; defaults to the caller's own.")
    observed_at: AwareDatetime | None = None


class JuristicRecord(BaseModel):
    """A juristic person as last reported, with its source and how old the report is."""

    juristic_id: str
    name_th: str
    name_en: str | None
    juristic_type: str
    status: str
    province_code: str | None
    source: str
    observed_at: IsoTimestamp
    recorded_at: IsoTimestamp
    age_seconds: int
    stale: bool


class JuristicRegistry:
    def __init__(self, engine: Engine, audit: AuditSink, *, holds_right: Callable[[str, str, str], bool],
                 party: str, stale_after: timedelta) -> None:
        self._engine = engine
        self._audit = audit
        self._holds_right = holds_right
        self._party = party
        self.stale_after = stale_after

    def put(self, principal: Principal, body: JuristicIn) -> dict[str, Any]:
        source = body.source or (next(iter(principal.subsystems)) if len(principal.subsystems) == 1 else None)
        reason = None
        if source is None:
            reason = "name the reporting subsystem in 'source'"
        elif not principal.acts_for(source):
            reason = f"you do not act for {source}"
        elif not principal.is_admin and not self._holds_right(source, JURISTIC_SERVICE, self._party):
            reason = f"{source} holds no access right to {JURISTIC_SERVICE} at {self._party}"
        if reason is not None:
            self._audit.record("juristic.update", actor=principal.subject, decision="refused",
                               target=f"juristic:{body.juristic_id}", reason=reason)
            raise Forbidden(reason)
        now = utcnow()
        observed = as_utc(body.observed_at) if body.observed_at else now
        values = {"name_th": body.name_th, "name_en": body.name_en, "kind": body.juristic_type,
                  "status": body.status, "province_code": body.province_code, "source": source,
                  "observed_at": observed, "recorded_at": now}
        with self._engine.begin() as conn:
            row = conn.execute(select(juristic_persons.c.observed_at)
                               .where(juristic_persons.c.juristic_id == body.juristic_id)).first()
            if row is None:
                conn.execute(insert(juristic_persons).values(juristic_id=body.juristic_id, **values))
            elif as_utc(row.observed_at) <= observed:  # an older report never overwrites a newer one
                conn.execute(update(juristic_persons).where(juristic_persons.c.juristic_id == body.juristic_id)
                             .values(**values))
        self._audit.record("juristic.updated", actor=principal.subject, target=f"juristic:{body.juristic_id}",
                           source=source, status=body.status)
        return self.get(body.juristic_id)

    def get(self, juristic_id: str) -> dict[str, Any]:
        with self._engine.connect() as conn:
            row = conn.execute(select(juristic_persons).where(juristic_persons.c.juristic_id == juristic_id)).first()
        if row is None:
            raise NotFound(f"no juristic person {juristic_id}")
        observed = as_utc(row.observed_at)
        age = utcnow() - observed
        return {"juristic_id": row.juristic_id, "name_th": row.name_th, "name_en": row.name_en,
                "juristic_type": row.kind, "status": row.status, "province_code": row.province_code,
                "source": row.source, "observed_at": observed.isoformat(),
                "recorded_at": as_utc(row.recorded_at).isoformat(), "age_seconds": int(age.total_seconds()),
                "stale": age > self.stale_after}
