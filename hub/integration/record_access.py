"""Who may read a citizen's unified record, and on what basis.

The unified record (``hub.integration.record``) asks a :class:`RecordAccessChain` before it
reads anything. Each :class:`RecordAccess` in the chain decides for the principals it knows
and passes (``None``) on the others:

* :class:`AgencyConsentAccess` (here): hub admins, and agencies holding a consent an owner
  agency recorded in the person registry (``/v1/persons/{id}/consents``): the consent's
  ``fields`` name each field group as ``record:GROUP`` (or are ``*``), its ``purpose`` must be
  the read's purpose, it must
  be neither expired nor revoked, and the reader must be cleared for every group asked;
* the citizen's own OAuth consent per e-service (issue 15, part 2) is added with
  :meth:`RecordAccessChain.add`.

Every refusal, whatever its reason (no consent, expired or revoked, groups beyond the
consent, another citizen, another purpose), is the SAME ``403 record_refused`` with the same
message, whether or not the citizen is known; the reason goes to the audit trail only.
The chain never writes the audit itself: the record audits every decision once.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from hub.errors import Forbidden
from hub.registry.consents import Consents, parties
from hub.schemas.principal import Principal
from hub.security.authz import higher

RECORD_REFUSED_MESSAGE = ("no valid consent or legal basis covers reading these field groups of this citizen's "
                          "record for this purpose")
CITIZEN_OAUTH = "citizen_oauth"  # Principal.method of an e-service acting on a citizen's token


@dataclass(frozen=True)
class Basis:
    """Why a read is allowed: ``{"kind", "id"}`` goes to the audit trail as ``basis``."""

    kind: str  # agency_consent | citizen_consent | admin
    id: str | None  # the consent's id; None for admin
    reader: str  # the reading agency subsystem (or member), e-service client id, or admin subject
    reader_kind: str  # agency | eservice | admin

    def as_audit(self) -> dict[str, str | None]:
        return {"kind": self.kind, "id": self.id}


class RecordRefused(Forbidden):
    """The one refusal of a record read; ``reason`` is for the audit trail, never the caller."""

    code = "record_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(RECORD_REFUSED_MESSAGE)
        self.reason = reason


class RecordAccess(Protocol):
    def check(self, principal: Principal, citizen_id: str, groups: Sequence[str], purpose: str) -> Basis | None:
        """None: not my kind of principal. A Basis: granted for all of ``groups`` and ``purpose``.
        Raise :class:`RecordRefused` (with the private reason) for any refusal."""
        ...


class RecordAccessChain:
    def __init__(self, *accesses: RecordAccess) -> None:
        self._accesses = list(accesses)

    def add(self, access: RecordAccess) -> None:
        """Ask ``access`` first (a more specific kind of principal than those already here)."""
        self._accesses.insert(0, access)

    def check(self, principal: Principal, citizen_id: str, groups: Sequence[str], purpose: str) -> Basis:
        for access in self._accesses:
            basis = access.check(principal, citizen_id, groups, purpose)
            if basis is not None:
                return basis
        raise RecordRefused(f"no record access rule knows principals of method {principal.method or '(none)'}")


class Classifications(Protocol):
    def get(self, group: str, default: str) -> str: ...


class AgencyConsentAccess:
    """Admins, and agencies with an agency-recorded consent (``hub.registry.consents``)."""

    def __init__(self, consents: Consents, classification: Classifications | Mapping[str, str]) -> None:
        self._consents = consents
        self._classification = classification  # field group -> its classification

    def check(self, principal: Principal, citizen_id: str, groups: Sequence[str], purpose: str) -> Basis | None:
        if principal.method == CITIZEN_OAUTH:
            return None
        if principal.is_admin:
            return Basis("admin", None, principal.subject, "admin")
        above = [g for g in groups if higher(self._classification.get(g, "001"), principal.clearance)]
        if above:
            raise RecordRefused(f"groups {above} are classified above the reader's clearance {principal.clearance}")
        valid = self._consents.valid_for(citizen_id, principal)
        if not valid:
            raise RecordRefused("no valid (unexpired, unrevoked) agency consent for this reader and citizen")
        for_purpose = [c for c in valid if c.purpose == purpose]
        if not for_purpose:
            raise RecordRefused(f"the reader's consents are for other purposes: {sorted({c.purpose for c in valid})}")
        wanted = {f"record:{g}" for g in groups}
        for consent in for_purpose:
            if "*" in consent.fields or wanted <= set(consent.fields):
                return Basis("agency_consent", str(consent.id), consent.consumer, "agency")
        granted = sorted({f for c in for_purpose for f in c.fields if f.startswith("record:")})
        raise RecordRefused(f"groups {sorted(wanted - set(granted))} are beyond the consent (it covers {granted})")


def reader_of(principal: Principal) -> str:
    """Who a refused reader is, for the audit trail (no basis names it)."""
    if principal.method == CITIZEN_OAUTH and principal.client_id:
        return principal.client_id
    names = sorted(principal.subsystems) or sorted(parties(principal))
    return names[0] if len(names) == 1 else principal.subject
