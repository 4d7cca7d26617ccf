"""The citizen's side of layer 5, assembled: e-services and consents, the authorization
server, the access check of e-services' tokens, and the data tracker (issue 15)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from hub.integration.citizen_access import CitizenConsentAccess, principal_of
from hub.integration.eservices import EServices
from hub.integration.oauth import TOKEN_KIND, CitizenConsentServer
from hub.integration.tracker import DataTracker
from hub.security.wiring import Security


@dataclass
class Citizens:
    eservices: EServices
    oauth: CitizenConsentServer
    access: CitizenConsentAccess
    tracker: DataTracker


def build_citizens(engine: Engine, security: Security) -> Citizens:
    eservices = EServices(engine, security.audit, security.pseudonym,
                          client_exists=lambda client_id: security.credentials.get(client_id) is not None)
    oauth = CitizenConsentServer(engine, eservices, security.credentials, security.tokens, security.audit,
                                 token_seconds=security.settings.token_ttl_seconds)
    security.authenticator.register_token_kind(
        TOKEN_KIND, lambda claims: principal_of(eservices, security.credentials, claims))
    return Citizens(eservices, oauth, CitizenConsentAccess(eservices), DataTracker(engine, security.audit,
                                                                                   security.pseudonym, eservices))
