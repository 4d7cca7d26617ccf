"""Machine clients and their secrets: creation, verification, rotation with an overlap window.

A client acts for one subsystem (its principal is that subsystem, with the subsystem's
clearance) or, for hub staff tooling, holds roles (admin, auditor, monitor). The secret is
shown once, when issued; only its argon2 hash is stored. Rotation adds a new secret and lets
the old one live ``secret_overlap_seconds`` longer, so no client is cut off mid-deploy.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.clock import as_utc, utcnow
from hub.db import reading
from hub.errors import Conflict, FieldError, InputError, NotFound, Unauthorized
from hub.schemas.principal import ADMIN, AUDITOR, CLEARANCE_LEVELS, CLIENT, MONITOR
from hub.security import hashing
from hub.security.audit import AuditLog
from hub.security.secret_gate import SecretGate
from hub.security.tables import client_secrets, clients

CLIENT_ROLES = (CLIENT, ADMIN, AUDITOR, MONITOR)
INVALID_CLIENT = "invalid client credentials"  # one message for unknown id and wrong secret


@dataclass(frozen=True)
class ClientRecord:
    id: str
    subsystem_id: str | None
    roles: tuple[str, ...]
    clearance: str | None
    disabled: bool


@dataclass(frozen=True)
class IssuedSecret:
    """Returned once; the hub cannot show the secret again."""

    client_id: str
    client_secret: str
    expires_old_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        body = {"client_id": self.client_id, "client_secret": self.client_secret}
        if self.expires_old_at:
            body["previous_secret_expires_at"] = self.expires_old_at
        return body

    def __repr__(self) -> str:  # never print the secret by accident
        return f"IssuedSecret(client_id={self.client_id!r}, client_secret='***')"


def _record(row: Any) -> ClientRecord:
    return ClientRecord(row.id, row.subsystem_id, tuple(row.roles), row.clearance, bool(row.disabled))


class Credentials:
    def __init__(self, engine: Engine, audit: AuditLog, *, overlap_seconds: int, gate: SecretGate) -> None:
        self._gate = gate
        self._engine = engine
        self._audit = audit
        self._overlap = overlap_seconds

    def create(self, client_id: str, *, actor: str, subsystem_id: str | None = None,
               roles: tuple[str, ...] = (CLIENT,), clearance: str | None = None,
               with_secret: bool = True) -> IssuedSecret | None:
        unknown = [r for r in roles if r not in CLIENT_ROLES]
        if unknown:
            raise InputError(f"unknown client role {unknown[0]!r}",
                             errors=[FieldError("/roles", "enum", f"one of {', '.join(CLIENT_ROLES)}")])
        if clearance is not None and clearance not in CLEARANCE_LEVELS:
            raise InputError(f"unknown clearance {clearance!r}",
                             errors=[FieldError("/clearance", "enum", "one of 001, 002, 003, 004")])
        if subsystem_id is None and roles == (CLIENT,):
            raise InputError("a client needs a subsystem to act for, or a staff role",
                             errors=[FieldError("/subsystem_id", "required", "a subsystem id, or roles admin/auditor/monitor")])
        now = utcnow()
        secret = hashing.new_secret(hashing.CLIENT_SECRET_PREFIX) if with_secret else None
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(clients).values(id=client_id, subsystem_id=subsystem_id, roles=list(roles),
                                                    clearance=clearance, disabled=False, created_at=now,
                                                    created_by=actor))
                if secret:
                    conn.execute(insert(client_secrets).values(client_id=client_id, created_at=now,
                                                               secret_hash=hashing.hash_secret(secret)))
        except IntegrityError as exc:
            raise Conflict(f"client {client_id} already exists; rotate its secret instead",
                           errors=[FieldError("/client_id", "unique", "a client id not yet registered")]) from exc
        self._audit.record("credential.created", actor=actor, target=client_id, subsystem=subsystem_id,
                           roles=list(roles), secret_issued=bool(secret))
        return IssuedSecret(client_id, secret) if secret else None

    def get(self, client_id: str) -> ClientRecord | None:
        with reading(self._engine).connect() as conn:
            row = conn.execute(select(clients).where(clients.c.id == client_id)).first()
        return _record(row) if row else None

    def for_subsystem(self, subsystem_id: str) -> ClientRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(clients).where(clients.c.subsystem_id == subsystem_id)
                               .order_by(clients.c.created_at)).first()
        return _record(row) if row else None

    def list(self) -> list[ClientRecord]:
        with self._engine.connect() as conn:
            return [_record(r) for r in conn.execute(select(clients).order_by(clients.c.id)).all()]

    def verify(self, client_id: str, secret: str, *, source: str | None = None) -> ClientRecord:
        """The client whose id and secret these are; ``Unauthorized`` with one message otherwise.

        Bounded by the secret gate (429 before any argon2 work when a limit is reached); an
        unknown id costs the same argon2 work as a known one; a hash made with older
        parameters is replaced after a successful check."""
        now = utcnow()
        with self._gate.check(client_id, source):
            with self._engine.connect() as conn:
                row = conn.execute(select(clients).where(clients.c.id == client_id)).first()
                stored = conn.execute(
                    select(client_secrets.c.id, client_secrets.c.secret_hash)
                    .where(client_secrets.c.client_id == client_id,
                           or_(client_secrets.c.expires_at.is_(None), client_secrets.c.expires_at > now))
                    .order_by(client_secrets.c.id.desc())
                ).all() if row else []
            matched = next((s for s in stored if hashing.verify_secret(s.secret_hash, secret)), None)
            if not stored:
                hashing.verify_none(secret)
        if row is None or row.disabled or matched is None:
            self._gate.failed(client_id, source)
            self._audit.record("auth.failed", actor=client_id[:200] or "(empty)", decision="refused",
                               target=client_id[:200] or None, method="client_secret",
                               reason="disabled" if row is not None and row.disabled else "bad credentials")
            raise Unauthorized(INVALID_CLIENT, error="invalid_client")
        self._gate.succeeded(client_id, source)
        if hashing.needs_rehash(matched.secret_hash):
            with self._engine.begin() as conn:
                conn.execute(update(client_secrets).where(client_secrets.c.id == matched.id)
                             .values(secret_hash=hashing.hash_secret(secret)))
        return _record(row)

    def rotate(self, client_id: str, *, actor: str, overlap_seconds: int | None = None) -> IssuedSecret:
        if self.get(client_id) is None:
            raise NotFound(f"no client {client_id}")
        now = utcnow()
        overlap = self._overlap if overlap_seconds is None else overlap_seconds
        old_expiry = now + timedelta(seconds=overlap)
        secret = hashing.new_secret(hashing.CLIENT_SECRET_PREFIX)
        with self._engine.begin() as conn:
            conn.execute(update(client_secrets)
                         .where(client_secrets.c.client_id == client_id,
                                or_(client_secrets.c.expires_at.is_(None), client_secrets.c.expires_at > old_expiry))
                         .values(expires_at=old_expiry))
            # Secrets long expired are of no use; keep the table small.
            conn.execute(delete(client_secrets).where(client_secrets.c.client_id == client_id,
                                                      client_secrets.c.expires_at < now - timedelta(days=30)))
            conn.execute(insert(client_secrets).values(client_id=client_id, created_at=now,
                                                       secret_hash=hashing.hash_secret(secret)))
        self._audit.record("credential.rotated", actor=actor, target=client_id,
                           previous_expires_at=as_utc(old_expiry).isoformat())
        return IssuedSecret(client_id, secret, as_utc(old_expiry).isoformat())

    def set_disabled(self, client_id: str, disabled: bool, *, actor: str) -> None:
        with self._engine.begin() as conn:
            changed = conn.execute(update(clients).where(clients.c.id == client_id).values(disabled=disabled)).rowcount
        if not changed:
            raise NotFound(f"no client {client_id}")
        self._audit.record("credential.disabled" if disabled else "credential.enabled", actor=actor, target=client_id)
