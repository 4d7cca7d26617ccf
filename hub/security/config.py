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
    shared_data_party: str = Field(
        "TH/GOV/HUB/shared", description="The party the shared registries answer as: HR subsystems need the right "
                                         "hr.person.changed/v1 toward it to report person fields, and a route "
                                         "(receiver this party, adapter person-registry) applies DPIS change capture.")
    person_stale_after_days: float = Field(180, gt=0, description="A person field older than this is marked stale.")
    juristic_stale_after_days: float = Field(365, gt=0, description="A juristic-person record older than this is stale.")
    audit_feed_batch: int = Field(500, ge=1, le=10000, description="Transport events copied into the audit chain "
                                                                    "per transaction.")
    audit_feed_interval_seconds: float = Field(1.0, gt=0, description="How often the audit feed looks for new "
                                                                       "transport events.")
    audit_feed_gap_seconds: float = Field(
        30.0, gt=0, description="How long the feed waits for a missing event id (a transaction still committing) "
                                "before it records the gap in the audit trail and moves past it.")

    def key_file(self, data_dir: Path) -> Path:
        return self.signing_key_file or data_dir / "keys" / "hub-ed25519.pem"
