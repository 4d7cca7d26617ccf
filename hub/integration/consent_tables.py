"""Tables of citizens' consents to e-services (issue 15): the e-services registered as OAuth2
clients, the consents citizens granted them, and the authorization codes between the two.

An authorization code is kept only as its SHA-256, and kept after use, so a replayed code is
recognised (and the tokens issued from it are revoked) rather than merely unknown.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, String, Table, Text

from hub.db import metadata

eservices = Table(
    "eservices",
    metadata,
    Column("client_id", String(200), primary_key=True),  # a hub client (hub clients / Credentials)
    Column("name_th", String(300), nullable=False),
    Column("name_en", String(300), nullable=False),
    Column("purpose", String(200), nullable=False),  # the purpose every read under its consents states
    Column("purpose_th", Text, nullable=False),
    Column("purpose_en", Text, nullable=False),
    Column("redirect_uris", JSON, nullable=False),  # exact match only
    Column("field_groups", JSON, nullable=False),  # the groups it may ask a citizen for
    Column("consent_days", Integer, nullable=False),  # how long a consent lasts
    Column("disabled", Boolean, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

citizen_consents = Table(
    "citizen_consents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("citizen_id", String(13), nullable=False),
    Column("eservice", String(200), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("field_groups", JSON, nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # Set when the consent's authorization code was replayed: every token issued under it is void
    # (RFC 6749 §4.1.2; a consent has exactly one code).
    Column("tokens_not_before", DateTime(timezone=True), nullable=True),
)
Index("ix_citizen_consents_citizen_id", citizen_consents.c.citizen_id)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_sha256", String(64), primary_key=True),
    Column("client_id", String(200), nullable=False),
    Column("consent_id", String(36), nullable=False),
    Column("redirect_uri", String(2000), nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("code_challenge_method", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)
