"""The authenticated caller, as every layer sees it: a value type, so the registry,
standards, e-CMS and apps can take one without importing the security layer that makes it.

A principal is a hub staff member (admin, auditor) or an agency's client acting for one or
more subsystems (``INSTANCE/CLASS/MEMBER/SUBSYSTEM``). Services take a principal and decide;
they never read credentials themselves.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hub.schemas.envelope import party_member

ADMIN, OPERATOR, AUDITOR, CLIENT = "admin", "agency-operator", "auditor", "client"
MONITOR = "monitor"  # may read /metrics only (a Prometheus scraper)
CITIZEN = "citizen"  # a person signed in as themself (username = 13-digit citizen ID); reads only their own consents and reads
CLEARANCE_LEVELS = ("001", "002", "003", "004")


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str] = frozenset()
    member: str | None = None
    subsystems: frozenset[str] = field(default_factory=frozenset)
    clearance: str = "001"
    # How the caller proved who it is (jwt, client_secret, client_cert, gdx, session), which
    # client or user it is, and for GDX the citizen ID of the officer (AgentID) acting.
    method: str = ""
    client_id: str | None = None
    agent_id: str | None = None
    # An e-service acting under a citizen's consent (method "citizen_oauth"): the consent its
    # token was issued under, checked again on every read (hub.integration.citizen_access).
    consent_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    def acts_for(self, party: str) -> bool:
        """May this principal send as / read for ``party`` (a subsystem or a member)?"""
        if self.is_admin:
            return True
        if party in self.subsystems:
            return True
        return self.member is not None and OPERATOR in self.roles and party_member(party) == self.member

    def cleared_for(self, classification: str) -> bool:
        return CLEARANCE_LEVELS.index(self.clearance) >= CLEARANCE_LEVELS.index(classification)
