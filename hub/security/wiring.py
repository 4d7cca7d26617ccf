"""Builds the security layer for a hub.

``build_security`` is called by ``bootstrap.build_hub`` (so the API, workers and CLI all
share one wiring); the API authenticates each request through ``hub.api.authentication``.
"""
from __future__ import annotations

import logging
from typing import Any
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from hub.config import SecuritySettings, Settings
from hub.errors import Conflict, FieldError, NotFound
from hub.registry.agencies import APPROVED, CATALOGUE, AgencyRegistry
from hub.registry.consents import Consents
from hub.registry.juristic import JuristicRegistry
from hub.registry.persons import PersonRegistry
from hub.security import keys
from hub.security.audit import AuditLog
from hub.security.audit_feed import AuditFeed
from hub.security.authn import Authenticator
from hub.security.authz import AccessControl
from hub.security.credentials import Credentials, IssuedSecret
from hub.security.mtls import ClientCertVerifier, HubCA
from hub.security.secret_gate import SecretGate
from hub.security.pseudonym import Pseudonymizer
from hub.security.tokens import TokenService
from hub.security.users import Users

log = logging.getLogger(__name__)


@dataclass
class Security:
    settings: SecuritySettings
    key: keys.SigningKey
    audit: AuditLog
    registry: AgencyRegistry
    credentials: Credentials
    tokens: TokenService
    users: Users
    hub_ca: HubCA
    certs: ClientCertVerifier
    access: AccessControl
    authenticator: Authenticator
    # Layer 3 shared information: persons (with consents) and juristic persons.
    pseudonym: Pseudonymizer
    persons: PersonRegistry
    consents: Consents
    juristic: JuristicRegistry
    audit_feed: AuditFeed  # copies transport events into the chain; run by Hub.start_workers

    def approve_subsystem(self, subsystem_id: str, *, actor: str, clearance: str | None = None,
                          rotate: bool = False, overlap_seconds: int | None = None) -> IssuedSecret | None:
        """Approve a subsystem and issue its client credentials (shown once).

        A subsystem approved before (then disabled) keeps its client; its secret is rotated
        without overlap, because the old one belonged to a subsystem that was switched off.
        Approving an approved subsystem again is refused: it used to rotate the secret silently,
        cutting off the agency at once. With ``rotate`` it issues a new secret, and the old one
        keeps working for ``overlap_seconds`` (default: the configured client-secret overlap).
        """
        current = self.registry.subsystem(subsystem_id)
        if current.status == APPROVED and self.credentials.get(subsystem_id) is not None:
            if not rotate:
                raise Conflict(
                    f"{subsystem_id} is already approved; its secret is unchanged. To issue a new one, rotate it "
                    f"(hub agencies approve {subsystem_id} --rotate; the old secret works during the overlap)",
                    errors=[FieldError("/status", "not_yet_approved",
                                       "a pending or disabled subsystem, or rotate=true for a new secret")])
            if clearance is not None and clearance != current.clearance:
                self.registry.set_clearance(subsystem_id, clearance, actor=actor)
            self.authenticator.forget()
            return self.credentials.rotate(subsystem_id, actor=actor, overlap_seconds=overlap_seconds)
        self.registry.decide(subsystem_id, APPROVED, actor=actor, clearance=clearance)
        self.authenticator.forget()
        if self.credentials.get(subsystem_id) is None:
            return self.credentials.create(subsystem_id, subsystem_id=subsystem_id, actor=actor)
        return self.credentials.rotate(subsystem_id, actor=actor, overlap_seconds=0)

    def public_keys(self) -> list[tuple[str, Any]]:
        """``(key id, Ed25519 public key)`` of the current signing key, then of retired ones kept
        for verifying what they signed (``keys.retired_keys``)."""
        return [(self.key.key_id, self.key.public), *keys.retired_keys(self.key)]

    def client_token(self, client_id: str) -> str:
        """An access token for a registered client without its secret: for tests, the demo and CLIs
        that already hold the hub's data directory (and so its key)."""
        if self.credentials.get(client_id) is None:
            raise NotFound(f"no client {client_id}")
        return self.tokens.issue(client_id).token


def build_security(settings: Settings, engine: Engine, *, seed: bool = True) -> Security:
    """The security layer on ``engine``, configured by ``settings.security``; called by
    ``hub.bootstrap.build_hub`` only."""
    sec = settings.security
    key = keys.load_or_create(sec.key_file(settings.data_dir))
    audit = AuditLog(engine, key, witness_path=settings.data_dir / "audit" / "witness.json",
                     unsealed_grace_seconds=sec.audit_unsealed_grace_seconds)
    registry = AgencyRegistry(engine, audit, own_parties=frozenset({sec.shared_data_party, settings.events_party}))
    if seed and sec.seed_catalogue:
        registry.seed(settings.standards_dir / CATALOGUE)
    gate = SecretGate(concurrency=sec.auth_concurrency, wait_seconds=sec.auth_wait_seconds,
                      per_client=sec.auth_failures_per_client, per_address=sec.auth_failures_per_address,
                      window_seconds=sec.auth_failure_window_seconds)
    credentials = Credentials(engine, audit, overlap_seconds=sec.secret_overlap_seconds, gate=gate)
    tokens = TokenService(key, issuer=sec.token_issuer, ttl_seconds=sec.token_ttl_seconds)
    users = Users(engine, audit, session_ttl_seconds=sec.session_ttl_seconds, gate=gate)
    hub_ca = HubCA(settings.data_dir / "ca")
    certs = ClientCertVerifier(engine, hub_ca, audit, registry)
    access = AccessControl(engine, registry, audit)
    authenticator = Authenticator(sec, credentials, tokens, users, registry, certs, audit)
    pseudonym = Pseudonymizer(key)
    # Consents decide reads of persons and persons own the facts that make an agency an
    # owner; each needs the other, so the owners lookup is late-bound.
    persons: PersonRegistry
    consents = Consents(engine, audit, pseudonym, owners=lambda citizen_id: persons.owners(citizen_id))
    persons = PersonRegistry(engine, audit, consents, pseudonym, holds_right=access.holds_right,
                             party=sec.shared_data_party, stale_after=timedelta(days=sec.person_stale_after_days))
    juristic = JuristicRegistry(engine, audit, holds_right=access.holds_right, party=sec.shared_data_party,
                                stale_after=timedelta(days=sec.juristic_stale_after_days))
    feed = AuditFeed(engine, audit, batch_size=sec.audit_feed_batch, interval_seconds=sec.audit_feed_interval_seconds,
                     gap_seconds=sec.audit_feed_gap_seconds, idle_max_seconds=sec.audit_feed_idle_max_seconds)
    return Security(sec, key, audit, registry, credentials, tokens, users, hub_ca, certs, access, authenticator,
                    pseudonym, persons, consents, juristic, feed)


def security_of(hub: object) -> Security:
    security = getattr(hub, "security", None)
    if security is None:
        raise RuntimeError("this hub was built without its security layer (bootstrap.build_hub wires it)")
    return security
