"""The authorization server e-services use to get a citizen's consent: OAuth 2.0 authorization
code grant with PKCE (RFC 6749 §4.1, RFC 7636), built on Authlib's ``AuthorizationServer``,
``AuthorizationCodeGrant`` and ``CodeChallenge``; nothing of the protocol is hand-written here.

What this hub adds to the library's checks:

* PKCE is required of every client, confidential ones included, and only ``S256`` is taken
  (RFC 9700 §2.1.1): a request without a challenge, or with ``plain``, is refused;
* redirect URIs match a registered one exactly; a request naming another is answered on the
  hub's own error page, never by a redirect (the caller renders ``AuthorizeError`` itself);
* a code lives ``CODE_SECONDS``, is kept only as its SHA-256, is used once: the first
  exchange marks it used, and a second one both fails and voids every token issued from it
  (RFC 6749 §4.1.2);
* the access token is one of the hub's EdDSA JWTs (``hub.security.tokens``), of kind
  ``citizen``, naming the consent it was issued under; it never outlives the consent.

The web layer is not here (this layer imports no web framework): the entry point hands a
``HubOAuth2Request`` (method, URL, headers, values) and gets ``(status, body, headers)`` back.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload, OAuth2Request, grants
from authlib.oauth2.rfc6749.authenticate_client import ClientAuthentication
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import Engine, insert, select, update

from hub.clock import as_utc, utcnow
from hub.errors import HubError
from hub.integration.consent_tables import oauth_codes
from hub.integration.eservices import EService, EServices
from hub.security.audit import AuditLog
from hub.security.credentials import Credentials
from hub.security.tokens import TokenService

CODE_SECONDS = 120  # RFC 6749 §4.1.2: "a maximum ... lifetime of 10 minutes is RECOMMENDED"
TOKEN_KIND = "citizen"


class HubOAuth2Payload(OAuth2Payload):
    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._datalist = defaultdict(list, {k: list(v) for k, v in values.items()})

    @property
    def data(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._datalist.items() if v}

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist


class HubOAuth2Request(OAuth2Request):
    """One HTTP request as the entry point read it: the query's and the form's values together
    (``values``), the form's alone (``form``: the token endpoint reads only the body)."""

    def __init__(self, method: str, uri: str, headers: Mapping[str, str], *, query: Mapping[str, list[str]],
                 form: Mapping[str, list[str]] | None = None, source: str | None = None) -> None:
        super().__init__(method, uri, headers=headers)  # case-insensitive as the server gave them
        self.source = source  # the caller's address, for the limits on secret checks (SecretGate)
        merged: dict[str, list[str]] = defaultdict(list)
        for source in (query, form or {}):
            for key, vals in source.items():
                merged[key].extend(vals)
        self.payload = HubOAuth2Payload(merged)
        self._query = {k: v[0] for k, v in query.items() if v}
        self._form = {k: v[0] for k, v in (form or {}).items() if v}

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


class EServiceClient(ClientMixin):
    """An e-service as Authlib's client model."""

    def __init__(self, service: EService, credentials: Credentials, source: str | None = None) -> None:
        self.service = service
        self._credentials = credentials
        self._source = source

    def get_client_id(self) -> str:
        return self.service.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only an e-service with a single URI may omit it; with several, the request must name one.
        return self.service.redirect_uris[0] if len(self.service.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The groups asked for, all of which must be the e-service's; none asked: all of them."""
        if not scope:
            return " ".join(self.service.field_groups)
        asked = scope.split()
        if any(g not in self.service.field_groups for g in asked):
            return None  # Authlib answers invalid_scope (to the validated redirect URI)
        return " ".join(sorted(set(asked)))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.service.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        try:
            self._credentials.verify(self.service.client_id, client_secret, source=self._source)
        except HubError:  # wrong secret (audited by Credentials); a limit hit counts as a failure too
            return False
        return True

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")  # a public client has no place here

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass(frozen=True)
class CitizenGrant:
    """The resource owner once they said yes: who, and the consent that yes was recorded as."""
    citizen_id: str
    consent_id: str


@dataclass(frozen=True)
class IssuedCode:
    client_id: str
    consent_id: str
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class S256Required(CodeChallenge):
    """PKCE for every client, S256 only."""
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'")
        super().validate_code_verifier(grant, result)

    def get_authorization_code_challenge(self, authorization_code: IssuedCode) -> str:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: IssuedCode) -> str:
        return authorization_code.code_challenge_method


def _sha256(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class CitizenConsentServer(AuthorizationServer):
    """Authlib's authorization server on the hub's e-services, codes and tokens."""

    def __init__(self, engine: Engine, eservices: EServices, credentials: Credentials, tokens: TokenService,
                 audit: AuditLog, *, token_seconds: int) -> None:
        super().__init__(scopes_supported=None)
        self.engine = engine
        self.eservices = eservices
        self.credentials = credentials
        self.tokens = tokens
        self.audit = audit
        self.token_seconds = token_seconds
        self.register_grant(_CodeGrant, [S256Required(required=True)])
        self.register_token_generator("default", self._token)

    # -- Authlib's hooks -------------------------------------------------------------------
    def query_client(self, client_id: str, source: str | None = None) -> EServiceClient | None:
        service = self.eservices.get(client_id, missing_ok=True) if client_id else None
        if service is None or service.disabled:
            return None
        return EServiceClient(service, self.credentials, source)

    def authenticate_client(self, request: HubOAuth2Request, methods: Any, endpoint: str = "token") -> Any:
        """Authlib's client authentication, with the caller's address for the secret gate's
        per-address limit (as ``/v1/auth/token`` has)."""
        source = getattr(request, "source", None)
        return ClientAuthentication(lambda client_id: self.query_client(client_id, source))(request, methods, endpoint)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to store: the token is a signed JWT checked against its consent on each read."""
        self.audit.record("citizen.token.issued", actor=request.client.get_client_id(), decision="granted",
                          target=request.user.consent_id, scope=token.get("scope", ""),
                          expires_in=token["expires_in"])

    def create_oauth2_request(self, request: HubOAuth2Request) -> HubOAuth2Request:
        return request

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no JSON endpoints on this server")

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, list(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def _token(self, grant_type: str, client: EServiceClient, user: CitizenGrant | None = None,
               scope: str | None = None, expires_in: int | None = None,
               include_refresh_token: bool = True) -> dict[str, Any]:
        consent = self.eservices.consent(user.consent_id)
        left = int((consent.expires_at - utcnow()).total_seconds())
        ttl = max(1, min(self.token_seconds, left))
        issued = self.tokens.issue(client.get_client_id(), kind=TOKEN_KIND, ttl_seconds=ttl,
                                   consent=user.consent_id, scope=scope or "", purpose=consent.purpose)
        return {**issued.as_oauth(), "scope": scope or "", "purpose": consent.purpose}

    # -- codes -------------------------------------------------------------------------
    def save_code(self, code: str, request: OAuth2Request) -> None:
        now = utcnow()
        data = request.payload.data
        with self.engine.begin() as conn:
            conn.execute(insert(oauth_codes).values(
                code_sha256=_sha256(code), client_id=request.client.get_client_id(),
                consent_id=request.user.consent_id,
                # "" when the request named none: the token request must then name none either
                redirect_uri=request.payload.redirect_uri or "", scope=request.scope or "",
                code_challenge=data["code_challenge"], code_challenge_method=data.get("code_challenge_method", "S256"),
                created_at=now, expires_at=now + timedelta(seconds=CODE_SECONDS), used_at=None))

    def use_code(self, code: str, client: EServiceClient) -> IssuedCode | None:
        """The code, marked used in the same statement that finds it unused (two concurrent
        exchanges cannot both win); None when unknown, another client's, expired or used."""
        digest, now = _sha256(code), utcnow()
        with self.engine.begin() as conn:
            row = conn.execute(select(oauth_codes).where(oauth_codes.c.code_sha256 == digest)).first()
            if row is None or row.client_id != client.get_client_id():
                return None
            won = conn.execute(update(oauth_codes).where(oauth_codes.c.code_sha256 == digest,
                                                         oauth_codes.c.used_at.is_(None))
                               .values(used_at=now)).rowcount
        if not won:
            self.audit.record("citizen.code.replayed", actor=client.get_client_id(), decision="refused",
                              target=row.consent_id)
            self.eservices.void_tokens(row.consent_id, reason="authorization code used twice")
            return None
        if as_utc(row.expires_at) <= now:
            self.audit.record("citizen.code.expired", actor=client.get_client_id(), decision="refused",
                              target=row.consent_id)
            return None
        return IssuedCode(row.client_id, row.consent_id, row.redirect_uri, row.scope, row.code_challenge,
                          row.code_challenge_method)

    def citizen_of(self, code: IssuedCode) -> CitizenGrant | None:
        consent = self.eservices.consent(code.consent_id)
        if consent is None or not consent.valid_at(utcnow()):
            return None  # revoked between the consent page and the exchange
        return CitizenGrant(consent.citizen_id, consent.id)


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        self.server.save_code(code, request)

    def query_authorization_code(self, code: str, client: EServiceClient) -> IssuedCode | None:
        return self.server.use_code(code, client)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Kept, marked used: a second exchange must be recognised as a replay."""

    def authenticate_user(self, authorization_code: IssuedCode) -> CitizenGrant | None:
        return self.server.citizen_of(authorization_code)


class AuthorizeError(Exception):
    """An authorization request the hub answers on its own page: the client or the redirect URI
    could not be trusted, so nothing may be sent to the URI it named."""

    def __init__(self, error: OAuth2Error) -> None:
        super().__init__(error.description or error.error)
        self.error = error.error
        self.description = error.description or error.error


@dataclass(frozen=True)
class ConsentAsk:
    """A valid authorization request, ready for the consent page."""
    grant: Any  # Authlib's grant, carrying the validated request
    service: EService
    groups: tuple[str, ...]
    state: str | None


def ask(server: CitizenConsentServer, request: HubOAuth2Request) -> ConsentAsk | tuple[int, Any, list]:
    """Validate an authorization request. Returns what the consent page shows, or a response
    that sends an error back to the client's (validated) redirect URI; raises ``AuthorizeError``
    when the client or the redirect URI cannot be trusted."""
    try:
        grant = server.get_consent_grant(request, end_user=None)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            return server.handle_error_response(request, error)
        raise AuthorizeError(error) from error
    client: EServiceClient = grant.request.client
    return ConsentAsk(grant, client.service, tuple(grant.request.scope.split()), request.payload.state)


def decide(server: CitizenConsentServer, request: HubOAuth2Request, citizen_id: str, *,
           granted: bool) -> tuple[int, Any, list]:
    """The citizen's answer on the consent page: a redirect to the client with a code, or with
    ``error=access_denied``."""
    found = ask(server, request)
    if not isinstance(found, ConsentAsk):
        return found
    if granted:
        consent = server.eservices.grant(citizen_id, found.service, list(found.groups))
        user: CitizenGrant | None = CitizenGrant(citizen_id, consent.id)
    else:
        server.eservices.refused(citizen_id, found.service, list(found.groups))
        user = None
    return server.create_authorization_response(request, grant_user=user, grant=found.grant)
