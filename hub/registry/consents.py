"""Consent records: a consumer that is not the data's owner may read a person's fields for a
stated purpose until an expiry, unless revoked. Owner agencies (those that reported facts
about the person) and hub admins record and revoke them; every change is audited under the
person's pseudonym.

``standing`` is the one read decision: admin, owner, or consent (limited to its fields).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from hub.clock import as_utc, utcnow
from hub.errors import FieldError, Forbidden, InputError, NotFound
from hub.registry.person_schemas import Consent, ConsentIn
from hub.registry.ports import AuditSink
from hub.registry.tables import consents, persons
from hub.schemas.envelope import party_member
from hub.schemas.principal import Principal


def parties(principal: Principal) -> set[str]:
    """Every party a consent could name for this caller: its subsystems and their members."""
    out = set(principal.subsystems) | {party_member(s) for s in principal.subsystems}
    if principal.member:
        out.add(principal.member)
    return out


def is_owner(principal: Principal, owners: set[str]) -> bool:
    return any(principal.acts_for(o) for o in owners)


def standing(principal: Principal, owners: set[str], valid: list[Consent]) -> tuple[str | None, set[str] | None, int | None]:
    """(basis, fields it may read or None for all, consent id): basis None means refused."""
    if principal.is_admin:
        return "admin", None, None
    if is_owner(principal, owners):
        return "owner", None, None
    if not valid:
        return None, None, None
    if any("*" in c.fields for c in valid):
        return "consent", None, valid[0].id
    return "consent", {f for c in valid for f in c.fields}, valid[0].id


def _consent(row: Any, now: datetime) -> Consent:
    data = dict(row._mapping)
    for key in ("granted_at", "expires_at", "revoked_at"):
        data[key] = as_utc(data[key])
    data["valid"] = data["revoked_at"] is None and data["expires_at"] > now
    return Consent.model_validate(data)


class Consents:
    def __init__(self, engine: Engine, audit: AuditSink, pseudonym: Callable[[str, str], str],
                 owners: Callable[[str], set[str]]) -> None:
        self._engine = engine
        self._audit = audit
        self._pseudonym = pseudonym
        self._owners = owners

    def valid_for(self, citizen_id: str, principal: Principal) -> list[Consent]:
        names = parties(principal)
        if not names:
            return []
        now = utcnow()
        with self._engine.connect() as conn:
            rows = conn.execute(select(consents).where(consents.c.citizen_id == citizen_id,
                                                       consents.c.consumer.in_(names),
                                                       consents.c.revoked_at.is_(None))
                                .order_by(consents.c.id)).all()
        return [c for c in (_consent(r, now) for r in rows) if c.valid]

    def _manage(self, principal: Principal, citizen_id: str, action: str) -> str:
        """Owners and admins manage a person's consents; anyone else gets the same 403 whether
        or not the person is known. An admin asking about an unknown person gets 404."""
        target = self._pseudonym("person", citizen_id)
        if not principal.is_admin and not is_owner(principal, self._owners(citizen_id)):
            reason = "only the agencies that own this person's data, or a hub admin, manage its consents"
            self._audit.record(f"consent.{action}", actor=principal.subject, decision="refused", target=target,
                               reason=reason)
            raise Forbidden(reason)
        with self._engine.connect() as conn:
            known = conn.execute(select(persons.c.citizen_id).where(persons.c.citizen_id == citizen_id)).first()
        if known is None:
            self._audit.record(f"consent.{action}", actor=principal.subject, decision="refused", target=target,
                               reason="no such person")
            raise NotFound("no person record for this citizen ID")
        return target

    def grant(self, principal: Principal, citizen_id: str, body: ConsentIn) -> Consent:
        target = self._manage(principal, citizen_id, "grant")
        now = utcnow()
        if body.expires_at <= now:
            raise InputError("expires_at must be in the future",
                             errors=[FieldError("/expires_at", "future", "a consent must expire after now")])
        fields = ["*"] if body.fields == "*" else sorted(set(body.fields))
        with self._engine.begin() as conn:
            consent_id = conn.execute(insert(consents).values(
                citizen_id=citizen_id, consumer=body.consumer, purpose=body.purpose, fields=fields, granted_at=now,
                expires_at=body.expires_at, revoked_at=None, recorded_by=principal.subject)).inserted_primary_key[0]
        self._audit.record("consent.granted", actor=principal.subject, target=target, consent_id=consent_id,
                           consumer=body.consumer, purpose=body.purpose, fields=fields,
                           expires_at=as_utc(body.expires_at).isoformat())
        return self._get(consent_id, citizen_id)

    def list(self, principal: Principal, citizen_id: str) -> list[Consent]:
        self._manage(principal, citizen_id, "list")
        now = utcnow()
        with self._engine.connect() as conn:
            rows = conn.execute(select(consents).where(consents.c.citizen_id == citizen_id)
                                .order_by(consents.c.id)).all()
        return [_consent(r, now) for r in rows]

    def revoke(self, principal: Principal, citizen_id: str, consent_id: int) -> Consent:
        target = self._manage(principal, citizen_id, "revoke")
        with self._engine.begin() as conn:
            changed = conn.execute(update(consents).where(consents.c.id == consent_id,
                                                          consents.c.citizen_id == citizen_id,
                                                          consents.c.revoked_at.is_(None))
                                   .values(revoked_at=utcnow())).rowcount
        consent = self._get(consent_id, citizen_id)
        if changed:
            self._audit.record("consent.revoked", actor=principal.subject, target=target, consent_id=consent_id,
                               consumer=consent.consumer)
        return consent

    def _get(self, consent_id: int, citizen_id: str) -> Consent:
        with self._engine.connect() as conn:
            row = conn.execute(select(consents).where(consents.c.id == consent_id,
                                                      consents.c.citizen_id == citizen_id)).first()
        if row is None:
            raise NotFound(f"no consent {consent_id} for this person")
        return _consent(row, utcnow())
