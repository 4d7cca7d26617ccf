"""Authentication: turns whatever credentials a caller presents into a ``Principal``.

Accepted, in this order of precedence:

* ``Authorization: Bearer <JWT>`` from ``POST /v1/auth/token`` (OAuth2 client credentials);
* ``Authorization: Bearer hubss_...`` a person's session from ``POST /v1/auth/login``;
* ``Consumer-Key`` + ``Token`` headers: the GDX-compatible exchange (``/v1/auth/validate``);
* ``Authorization: Basic`` client id and secret (for SOAP clients that can do nothing else);
* a client certificate (see ``hub.security.mtls`` for how it reaches the hub).

The authenticator knows no web framework: the API (``hub.api.authentication``) reads the
headers, peer address and TLS client certificate off each request and calls
``Authenticator.authenticate`` with those values. The e-CMS node (SOAP) calls
``authenticate_credentials`` with what it found (HTTP Basic, WS-Security UsernameToken,
client certificate). Refusals are audited; credentials never appear in an error, a log line
or the audit trail.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from hub.errors import Unauthorized
from hub.refresh_ahead import RefreshAhead
from hub.registry.agencies import APPROVED, AgencyRegistry
from hub.schemas.envelope import party_member
from hub.schemas.principal import ADMIN, CLIENT, OPERATOR, Principal
from hub.security.audit import AuditLog
from hub.config import SecuritySettings
from hub.security.credentials import ClientRecord, Credentials
from hub.security.hashing import SESSION_PREFIX
from hub.security.mtls import ClientCertVerifier, client_certificate
from hub.security.sampling import RefusalSampler
from hub.security.secret_gate import source_address
from hub.security.tokens import TokenService
from hub.security.users import UserRecord, Users

NO_CREDENTIALS = ("authentication required: send 'Authorization: Bearer <token>' (POST /v1/auth/token), "
                  "a client certificate, or the GDX Consumer-Key and Token headers")
CACHE_SECONDS = 2.0  # a disabled client or changed clearance takes effect within this


class Authenticator:
    def __init__(self, settings: SecuritySettings, credentials: Credentials, tokens: TokenService, users: Users,
                 registry: AgencyRegistry, certs: ClientCertVerifier, audit: AuditLog) -> None:
        self._settings = settings
        self._credentials = credentials
        self._tokens = tokens
        self._users = users
        self._registry = registry
        self._certs = certs
        self._audit = audit
        # Client principals by (method, client id, agent id): re-read in the background while
        # in use, so a disabled client is refused within CACHE_SECONDS and no request waits
        # for the read (hub.refresh_ahead).
        self._cache: RefreshAhead[tuple[str, str, str], Principal] = RefreshAhead(
            self._load_client_principal, ttl=CACHE_SECONDS, maxsize=10_000)
        self._anonymous = RefusalSampler(settings.audit_anonymous_interval_seconds)
        # Access tokens of other kinds, issued by a higher layer (a citizen's consent to an
        # e-service: hub.integration.citizen_access), turned into principals by that layer.
        self._token_kinds: dict[str, Callable[[dict[str, Any]], Principal]] = {}

    def register_token_kind(self, kind: str, resolve: Callable[[dict[str, Any]], Principal]) -> None:
        """Accept verified access tokens whose ``kind`` claim is ``kind``; ``resolve`` maps their
        claims to a principal or raises ``Unauthorized``."""
        self._token_kinds[kind] = resolve

    # -- principals ------------------------------------------------------------------
    def principal_for_client(self, record: ClientRecord, method: str, agent_id: str | None = None) -> Principal:
        if record.disabled:
            raise Unauthorized("this client is disabled")
        if record.subsystem_id is None:
            return Principal(subject=f"client:{record.id}", roles=frozenset(record.roles),
                             clearance=record.clearance or "001", method=method, client_id=record.id,
                             agent_id=agent_id)
        sub = self._registry.subsystem(record.subsystem_id, missing_ok=True)
        if sub is None or sub.status != APPROVED:
            raise Unauthorized(f"the client's subsystem {record.subsystem_id} is not approved on this hub")
        return Principal(subject=f"client:{record.id}", roles=frozenset(record.roles),
                         member=party_member(sub.id), subsystems=frozenset({sub.id}), clearance=sub.clearance,
                         method=method, client_id=record.id, agent_id=agent_id)

    def principal_for_user(self, user: UserRecord) -> Principal:
        subsystems: frozenset[str] = frozenset()
        if OPERATOR in user.roles and user.member_id:
            subsystems = frozenset(self._registry.approved_subsystems(user.member_id))
        return Principal(subject=f"user:{user.username}", roles=frozenset(user.roles), member=user.member_id,
                         subsystems=subsystems, clearance="004" if ADMIN in user.roles else user.clearance,
                         method="session")

    def _cached_client(self, client_id: str, method: str, agent_id: str | None = None) -> Principal | None:
        return self._cache.get((method, client_id, agent_id or ""))

    def _client_principal(self, client_id: str, method: str, agent_id: str | None = None) -> Principal:
        key = (method, client_id, agent_id or "")
        cached = self._cache.get(key)
        return cached if cached is not None else self._cache.load_now(key)

    def _load_client_principal(self, key: tuple[str, str, str]) -> Principal:
        method, client_id, agent_id = key
        record = self._credentials.get(client_id)
        if record is None:
            raise Unauthorized("the token's client is no longer registered")
        return self.principal_for_client(record, method, agent_id or None)

    def forget(self) -> None:
        """Drop cached principals (after an admin change, so tests and CLIs see it at once)."""
        self._cache.clear()

    # -- credentials -----------------------------------------------------------------
    def from_token(self, token: str) -> Principal:
        claims = self._tokens.verify(token)
        if (resolve := self._token_kinds.get(claims.get("kind", ""))) is not None:
            return resolve(claims)
        if claims.get("kind") != "client":
            raise Unauthorized("this token is not an OAuth2 access token (a GDX token needs its Consumer-Key)")
        return self._client_principal(claims["sub"], "jwt")

    def from_gdx(self, consumer_key: str, token: str) -> Principal:
        claims = self._tokens.verify(token)
        if claims.get("kind") != "gdx" or claims.get("sub") != consumer_key:
            raise Unauthorized("the GDX token was not issued to this Consumer-Key")
        return self._client_principal(consumer_key, "gdx", claims.get("agent"))

    def from_secret(self, client_id: str, secret: str, method: str = "client_secret", *,
                    source: str | None = None) -> Principal:
        return self.principal_for_client(self._credentials.verify(client_id, secret, source=source), method)

    def source(self, headers: Mapping[str, str] | None, peer: str | None) -> str | None:
        """The caller's address for the secret-check limits (behind a trusted proxy, the one it forwarded)."""
        return source_address(headers, peer, self._settings.trusted_proxies)

    def from_certificate(self, cert_pem: str) -> Principal:
        identity = self._certs.verify(cert_pem)
        record = self._credentials.get(identity.client_id)
        if record is None:
            raise Unauthorized("the client certificate names a client this hub does not know")
        if not identity.from_hub_ca:
            # An agency's CA speaks for its own member only: never for a staff client (hub
            # roles come from the hub's own CA), never for another member's subsystem.
            if record.subsystem_id is None or set(record.roles) - {CLIENT}:
                raise Unauthorized(f"a certificate from the agency CA '{identity.ca_name}' cannot name a hub "
                                   "staff client; staff certificates come from the hub's own CA")
            if party_member(record.subsystem_id) != identity.member_id:
                raise Unauthorized(f"a certificate from the CA '{identity.ca_name}' of {identity.member_id} "
                                   "may authenticate only that member's subsystems")
        return self.principal_for_client(record, "client_cert")

    def authenticate_credentials(self, *, bearer: str | None = None, client_id: str | None = None,
                                 client_secret: str | None = None, cert_pem: str | None = None,
                                 consumer_key: str | None = None, gdx_token: str | None = None,
                                 channel: str = "api", source: str | None = None) -> Principal:
        """For other entry points (the e-CMS SOAP node): one call with whatever was presented.

        ``client_id``/``client_secret`` come from HTTP Basic or a WS-Security UsernameToken
        (PasswordText); ``cert_pem`` from the TLS layer. Raises ``Unauthorized``, audited.
        """
        try:
            if bearer:
                return self.from_session(bearer) if bearer.startswith(SESSION_PREFIX) else self.from_token(bearer)
            if consumer_key and gdx_token:
                return self.from_gdx(consumer_key, gdx_token)
            if client_id is not None and client_secret is not None:
                return self.from_secret(client_id, client_secret, source=source)
            if cert_pem:
                return self.from_certificate(cert_pem)
            raise Unauthorized(NO_CREDENTIALS)
        except Unauthorized as exc:
            named = client_id or consumer_key
            if named:
                self._audit.record("auth.refused", actor=named, decision="refused", channel=channel, reason=exc.message)
            elif (suppressed := self._anonymous.admit(source)) is not None:
                # one entry per source per interval (hub.security.sampling), with the count left out
                self._audit.record("auth.refused", actor="(anonymous)", decision="refused", channel=channel,
                                   reason=exc.message, source=source, suppressed=suppressed,
                                   interval_seconds=self._anonymous.interval)
            raise

    def from_session(self, token: str) -> Principal:
        return self.principal_for_user(self._users.session_user(token))

    # -- what a request presented --------------------------------------------------
    def authenticate(self, headers: Mapping[str, str], *, peer: str | None, tls_cert: str | None = None,
                     channel: str = "api") -> Principal:
        """The principal behind one HTTP request, from what the entry point read off it.

        ``headers`` maps lower-case header names to values (an ASGI server's headers, or a
        case-insensitive mapping); ``peer`` is the TCP peer's address; ``tls_cert`` the client
        certificate the TLS layer verified, if any; ``channel`` names the request in the audit
        trail (``"GET /v1/messages"``). Raises ``Unauthorized``, audited.
        """
        return self.authenticate_credentials(channel=channel, source=self.source(headers, peer),
                                             **self.presented(headers, peer=peer, tls_cert=tls_cert))

    def remembered(self, headers: Mapping[str, str]) -> Principal | None:
        """The principal of a request that carries an OAuth2 access token already verified and a
        client principal still cached, found without any I/O (so the API can answer it on the
        event loop); None otherwise, and the caller then calls ``authenticate``."""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        token = value.strip()
        if scheme.lower() != "bearer" or not token or token.startswith(SESSION_PREFIX):
            return None
        claims = self._tokens.remembered(token)
        if claims is None or claims.get("kind") != "client" or claims.get("kind") in self._token_kinds:
            return None
        return self._cached_client(claims["sub"], "jwt")

    def presented(self, headers: Mapping[str, str], *, peer: str | None, tls_cert: str | None = None) -> dict[str, Any]:
        """The credentials a request carries, as keyword arguments of ``authenticate_credentials``.

        A certificate counts only when nothing else was presented; one forwarded in a header
        counts only from a trusted TLS proxy (``hub.security.mtls.client_certificate``).
        """
        found: dict[str, Any] = {}
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            found["bearer"] = value.strip()
        elif scheme.lower() == "basic" and value.strip():
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise Unauthorized("the Basic credentials are not base64 of 'client_id:secret'") from exc
            cid, sep, secret = decoded.partition(":")
            if not sep:
                raise Unauthorized("the Basic credentials are not base64 of 'client_id:secret'")
            found["client_id"], found["client_secret"] = cid, secret
        if headers.get("consumer-key") and headers.get("token"):
            found["consumer_key"] = headers["consumer-key"]
            found["gdx_token"] = headers["token"]
        if not found:
            pem = client_certificate(tls_cert, headers, peer, trusted_proxies=self._settings.trusted_proxies,
                                     header=self._settings.client_cert_header)
            if pem:
                found["cert_pem"] = pem
        return found
