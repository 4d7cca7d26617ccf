"""Mutual TLS: the hub's own certificate authority, trusted agency CAs, and client certificates.

How the certificate reaches the hub (uvicorn does not hand client certificates to the app):

1. **ASGI TLS extension** – a server that implements it puts the verified chain in
   ``scope["extensions"]["tls"]["client_cert_chain"]`` (PEM strings, client first).
2. **A TLS-terminating proxy** (the production layout): nginx verifies the client and
   forwards ``proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;``. The hub reads
   that header only when the TCP peer is listed in ``HUB_TRUSTED_PROXIES``; from anyone else
   it is ignored, so a client cannot claim a certificate it does not hold.

Either way the hub verifies the certificate itself: issued (signature checked) by the hub's
CA or a trusted agency CA, within its validity period, usable for client authentication; its
subject CN names the client (``hub ca issue CLIENT_ID``).

Identity is bound to the issuer: each trusted agency CA belongs to one member (``hub ca trust
NAME CERT --member MEMBER``) and authenticates only that member's subsystems. Hub roles (admin,
auditor, monitor) never come from an agency's certificate: only the hub's own CA, whose
certificates are issued by ``hub ca issue`` on the hub's host, can name a staff client. A CA
trusted before this binding (no member recorded) authenticates nobody until trusted again.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import Engine, delete, insert, select

from hub.clock import utcnow
from hub.errors import ConfigError, FieldError, InputError, NotFound, Unauthorized
from hub.security.audit import AuditLog
from hub.registry.agencies import AgencyRegistry
from hub.security.tables import trusted_cas

HUB_CA_NAME = "hub"


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(data)


def make_ca(common_name: str, *, days: int = 3650) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Back Office interoperability hub")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue_client(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, client_id: str, *,
                 days: int = 365, not_before: dt.datetime | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, client_id)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


@dataclass(frozen=True)
class HubCA:
    """The hub's CA files under ``<data_dir>/ca``."""

    directory: Path

    @property
    def key_path(self) -> Path:
        return self.directory / "ca.key.pem"

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.cert.pem"

    def exists(self) -> bool:
        return self.cert_path.exists()

    def init(self, common_name: str = "Back Office hub CA") -> x509.Certificate:
        if self.exists():
            raise ConfigError(f"the hub CA already exists in {self.directory}; it is never overwritten")
        key, cert = make_ca(common_name)
        _write_private(self.key_path, _key_pem(key))
        self.cert_path.write_bytes(_pem(cert))
        return cert

    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    def issue(self, client_id: str, out_dir: Path, *, days: int = 365) -> tuple[Path, Path]:
        if not self.exists():
            raise ConfigError("the hub has no CA yet; run `hub ca init` first")
        ca_key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        key, cert = issue_client(ca_key, self.cert(), client_id, days=days)  # type: ignore[arg-type]
        safe = client_id.replace("/", "_")
        key_path, cert_path = out_dir / f"{safe}.key.pem", out_dir / f"{safe}.cert.pem"
        _write_private(key_path, _key_pem(key))
        cert_path.write_bytes(_pem(cert))
        return key_path, cert_path


@dataclass(frozen=True)
class CertIdentity:
    """Who a verified certificate names, and on whose authority.

    ``member_id`` is the member the issuing CA belongs to; ``None`` for the hub's own CA."""

    client_id: str
    ca_name: str
    member_id: str | None

    @property
    def from_hub_ca(self) -> bool:
        return self.ca_name == HUB_CA_NAME


@dataclass(frozen=True)
class _Anchor:
    name: str
    cert: x509.Certificate
    member_id: str | None


class ClientCertVerifier:
    def __init__(self, engine: Engine, hub_ca: HubCA, audit: AuditLog, registry: AgencyRegistry) -> None:
        self._engine = engine
        self._hub_ca = hub_ca
        self._audit = audit
        self._registry = registry

    def trust(self, name: str, cert_pem: str, *, member_id: str, actor: str) -> str:
        """Trust an agency's CA for one member: its certificates authenticate that member's subsystems only."""
        if name == HUB_CA_NAME:
            raise InputError(f"the name '{HUB_CA_NAME}' is the hub's own CA",
                             errors=[FieldError("/name", "reserved", f"a name other than '{HUB_CA_NAME}'")])
        self._registry.member(member_id)  # NotFound for a member the hub does not know
        try:
            cert = x509.load_pem_x509_certificate(cert_pem.encode())
        except ValueError as exc:
            raise InputError(f"not a PEM certificate: {exc}",
                             errors=[FieldError("/cert_pem", "pem", "a PEM-encoded X.509 CA certificate")]) from exc
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value \
            if any(e.oid == x509.BasicConstraints.oid for e in cert.extensions) else None
        if constraints is None or not constraints.ca:
            raise InputError("the certificate is not a CA (BasicConstraints ca=true missing)",
                             errors=[FieldError("/cert_pem", "ca", "a CA certificate")])
        with self._engine.begin() as conn:
            conn.execute(delete(trusted_cas).where(trusted_cas.c.name == name))
            conn.execute(insert(trusted_cas).values(name=name, cert_pem=cert_pem, fingerprint=fingerprint(cert),
                                                    member_id=member_id, added_at=utcnow(), added_by=actor))
        self._audit.record("credential.ca_trusted", actor=actor, target=name, fingerprint=fingerprint(cert),
                           member=member_id)
        return fingerprint(cert)

    def distrust(self, name: str, *, actor: str) -> None:
        with self._engine.begin() as conn:
            if not conn.execute(delete(trusted_cas).where(trusted_cas.c.name == name)).rowcount:
                raise NotFound(f"no trusted CA named {name}")
        self._audit.record("credential.ca_distrusted", actor=actor, target=name)

    def anchors(self) -> dict[str, x509.Certificate]:
        return {a.name: a.cert for a in self._anchors()}

    def _anchors(self) -> list[_Anchor]:
        found = [_Anchor(HUB_CA_NAME, self._hub_ca.cert(), None)] if self._hub_ca.exists() else []
        with self._engine.connect() as conn:
            for row in conn.execute(select(trusted_cas.c.name, trusted_cas.c.cert_pem, trusted_cas.c.member_id)).all():
                found.append(_Anchor(row.name, x509.load_pem_x509_certificate(row.cert_pem.encode()), row.member_id))
        return found

    def verify(self, cert_pem: str) -> CertIdentity:
        """Who a certificate issued by a trusted CA names, and which CA; ``Unauthorized`` otherwise."""
        try:
            cert = x509.load_pem_x509_certificate(cert_pem.encode())
        except ValueError as exc:
            raise Unauthorized("the client certificate is not a readable PEM certificate") from exc
        now = dt.datetime.now(dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise Unauthorized("the client certificate is outside its validity period")
        try:
            usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            usage = None
        if usage is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in usage:
            raise Unauthorized("the client certificate is not for client authentication (extended key usage)")
        for anchor in self._anchors():
            if anchor.cert.subject != cert.issuer:
                continue
            try:
                cert.verify_directly_issued_by(anchor.cert)
            except (InvalidSignature, ValueError, TypeError):
                continue
            names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            if not names:
                raise Unauthorized("the client certificate has no subject CN naming the client")
            if anchor.name != HUB_CA_NAME and anchor.member_id is None:
                raise Unauthorized(f"the CA '{anchor.name}' that issued this certificate is bound to no member; "
                                   "an administrator must trust it again with --member")
            return CertIdentity(str(names[0].value), anchor.name, anchor.member_id)
        raise Unauthorized("the client certificate was not issued by a CA this hub trusts")


def tls_client_cert(scope: Mapping[str, Any]) -> str | None:
    """The client certificate (PEM) a server that implements the ASGI TLS extension verified."""
    chain = (scope.get("extensions") or {}).get("tls", {}).get("client_cert_chain")
    return chain[0] if chain else None


def client_certificate(tls_cert: str | None, headers: Mapping[str, str] | None, peer: str | None, *,
                       trusted_proxies: list[str], header: str) -> str | None:
    """The client certificate PEM from the TLS layer, or from a trusted proxy's header."""
    if tls_cert:
        return tls_cert
    if headers and peer is not None and peer in trusted_proxies:
        value = headers.get(header)
        if value:
            return unquote(value)
    return None
