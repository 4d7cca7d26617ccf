"""An e-service's token, read against the citizen's consent on every request.

``principal_of`` turns a verified ``citizen`` token (``hub.integration.oauth``) into the
principal the API passes to the unified record; ``CitizenConsentAccess`` (a ``RecordAccess``,
see hub.integration.record_access) then decides each read from the consent row as it is now,
so a revocation or an expiry is felt on the next read. Every refusal carries the same public
answer (``RecordRefused``); the private reason goes to the audit entry the record writes.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.clock import utcnow
from hub.errors import Unauthorized
from hub.integration.eservices import EServices
from hub.integration.record_access import Basis, RecordRefused
from hub.schemas.principal import CLIENT, Principal
from hub.security.credentials import Credentials

METHOD = "citizen_oauth"


def principal_of(eservices: EServices, credentials: Credentials, claims: dict[str, Any]) -> Principal:
    """The e-service acting under one consent. Unauthorized (401) when the token itself is no
    good any more: its e-service or client is gone or disabled, or its code was replayed."""
    client_id = claims["sub"]
    consent = eservices.consent(str(claims.get("consent", "")))
    service = eservices.get(client_id, missing_ok=True)
    client = credentials.get(client_id)
    if consent is None or consent.eservice != client_id:
        raise Unauthorized("the token names no consent of this e-service", error="invalid_token")
    if service is None or service.disabled or client is None or client.disabled:
        raise Unauthorized("the token's e-service is not registered or is disabled", error="invalid_token")
    # One consent, one code: when its code was replayed, every token issued under it is void.
    if consent.tokens_not_before is not None:
        raise Unauthorized("the token was revoked (its authorization code was used twice)", error="invalid_token")
    return Principal(subject=f"eservice:{client_id}", roles=frozenset({CLIENT}), method=METHOD,
                     client_id=client_id, agent_id=consent.citizen_id, consent_id=consent.id)


class CitizenConsentAccess:
    """RecordAccess for e-services' tokens: the read must fall inside the token's consent."""

    def __init__(self, eservices: EServices) -> None:
        self._eservices = eservices

    def check(self, principal: Principal, citizen_id: str, groups: Sequence[str], purpose: str) -> Basis | None:
        if principal.method != METHOD:
            return None
        consent = self._eservices.consent(principal.consent_id or "")
        now = utcnow()
        if consent is None or consent.eservice != principal.client_id:
            raise RecordRefused(reason="the token's consent is not known")
        if consent.citizen_id != citizen_id:
            raise RecordRefused(reason="the consent is for another citizen")
        if consent.revoked_at is not None:
            raise RecordRefused(reason=f"consent {consent.id} was revoked by the citizen")
        if consent.expires_at <= now:
            raise RecordRefused(reason=f"consent {consent.id} expired")
        beyond = sorted(set(groups) - set(consent.field_groups))
        if beyond:
            raise RecordRefused(reason=f"field groups beyond the consent: {', '.join(beyond)}")
        if purpose != consent.purpose:
            raise RecordRefused(reason="the purpose is not the consented one")
        service = self._eservices.get(consent.eservice, missing_ok=True)
        if service is None or service.disabled:
            raise RecordRefused(reason="the e-service is disabled")
        return Basis(kind="citizen_consent", id=consent.id, reader=consent.eservice, reader_kind="eservice")
