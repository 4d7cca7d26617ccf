"""Security settings, environment prefix ``HUB_`` like every other setting.

Kept apart from ``hub.config.Settings`` so the security layer can grow its options without
touching the shared class; ``data_dir`` comes from there.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SecuritySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    signing_key_file: Path | None = Field(
        None, description="Ed25519 private key (PEM) that signs tokens and audit seals; "
                          "default <data_dir>/keys/hub-ed25519.pem, generated on first start.")
    token_ttl_seconds: int = Field(600, ge=30, le=86400, description="Lifetime of an access token (JWT).")
    session_ttl_seconds: int = Field(8 * 3600, ge=60, description="Lifetime of a person's login session.")
    secret_overlap_seconds: int = Field(
        7 * 86400, ge=0, description="After a secret rotation the old secret keeps working this long.")
    token_issuer: str = Field("backoffice-hub", description="JWT iss and aud claim.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Peer addresses of TLS-terminating proxies whose client-certificate header is trusted.")
    client_cert_header: str = Field(
        "x-ssl-client-cert", description="Header carrying the URL-encoded client certificate PEM "
                                         "(nginx: proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert).")
    audit_seal_every: int = Field(100, ge=1, description="Sign the audit chain every this many entries.")
    seed_catalogue: bool = Field(True, description="Seed the agency registry from the catalogue on first start.")

    def key_file(self, data_dir: Path) -> Path:
        return self.signing_key_file or data_dir / "keys" / "hub-ed25519.pem"
