"""e-Services as OAuth2 clients, and the consents citizens grant them (issue 15).

An e-service is a hub client (``hub clients`` / ``Credentials``: its secret authenticates it
at the token endpoint) registered with what a citizen is shown before consenting: its name
in Thai and English, the purpose its reads state, the field groups it may ask for, the
redirect URIs it may be sent back to (exact match: no open redirect) and how long a consent
lasts. A citizen's consent names one e-service, one purpose and some of its field groups, and
lasts until it expires or the citizen revokes it; a revocation is read on the next record
read (``CitizenConsentAccess``), not when some token expires.

Agency-recorded consents (``hub.registry.consents``) stay for agency-to-agency reads; a
citizen sees them, apart, in ``for_citizen``.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.clock import as_utc, utcnow
from hub.errors import Conflict, FieldError, InputError, NotFound
from hub.integration.consent_tables import citizen_consents, eservices
from hub.registry.tables import consents as agency_consents
from hub.security.audit import AuditLog

# The field groups of the unified record (standard th.integration.record, see
# hub.integration.record) with the words a citizen reads on the consent page, Thai first.
FIELD_GROUPS: dict[str, tuple[str, str]] = {
    "person": ("ข้อมูลบุคคล (ชื่อ นามสกุล วันเกิด ที่อยู่)", "Personal data (name, date of birth, address)"),
    "position": ("ตำแหน่งและระดับ (ระบบทรัพยากรบุคคล)", "Position and grade (HR system)"),
    "org_unit": ("หน่วยงานที่สังกัด", "Organisation unit"),
    "telework": ("คำสั่งปฏิบัติงานนอกสถานที่และสถานะหลักฐานการปฏิบัติงาน",
                 "Telework orders and the status of their evidence"),
    "letters": ("หนังสือราชการที่ระบุชื่อท่าน (เรื่องและคู่หนังสือเท่านั้น)",
                "Official letters naming you (subject and parties only)"),
}
MAX_CONSENT_DAYS = 366


@dataclass(frozen=True)
class EService:
    client_id: str
    name_th: str
    name_en: str
    purpose: str
    purpose_th: str
    purpose_en: str
    redirect_uris: tuple[str, ...]
    field_groups: tuple[str, ...]
    consent_days: int
    disabled: bool

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "redirect_uris": list(self.redirect_uris), "field_groups": list(self.field_groups)}


@dataclass(frozen=True)
class CitizenConsent:
    id: str
    citizen_id: str
    eservice: str
    purpose: str
    field_groups: tuple[str, ...]
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    tokens_not_before: datetime | None

    def valid_at(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def as_dict(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or utcnow()
        return {"id": self.id, "eservice": self.eservice, "purpose": self.purpose,
                "field_groups": list(self.field_groups), "granted_at": self.granted_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
                "valid": self.valid_at(now)}


def _eservice(row: Any) -> EService:
    return EService(row.client_id, row.name_th, row.name_en, row.purpose, row.purpose_th, row.purpose_en,
                    tuple(row.redirect_uris), tuple(row.field_groups), row.consent_days, bool(row.disabled))


def _consent(row: Any) -> CitizenConsent:
    return CitizenConsent(row.id, row.citizen_id, row.eservice, row.purpose, tuple(row.field_groups),
                          as_utc(row.granted_at), as_utc(row.expires_at), as_utc(row.revoked_at),
                          as_utc(row.tokens_not_before))


def _redirect_uri_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return "an absolute http(s) URI"
    if parts.fragment:
        return "no fragment (RFC 6749 §3.1.2)"
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        return "https, or http on the loopback host only"
    return None


class EServices:
    """The register of e-services (admins) and citizens' consents to them."""

    def __init__(self, engine: Engine, audit: AuditLog, pseudonym: Callable[[str, str], str],
                 client_exists: Callable[[str], bool]) -> None:
        self._engine = engine
        self._audit = audit
        self._pseudonym = pseudonym
        self._client_exists = client_exists

    # -- the register ------------------------------------------------------------------
    def register(self, *, client_id: str, name_th: str, name_en: str, purpose: str, purpose_th: str,
                 purpose_en: str, redirect_uris: list[str], field_groups: list[str], consent_days: int,
                 actor: str) -> EService:
        errors = []
        if not self._client_exists(client_id):
            errors.append(FieldError("/client_id", "known_client", "a client registered on this hub (hub clients add)"))
        for name, value in (("name_th", name_th), ("name_en", name_en), ("purpose_th", purpose_th),
                            ("purpose_en", purpose_en)):
            if not value.strip():
                errors.append(FieldError(f"/{name}", "required", "a non-empty text the citizen reads"))
        if not 1 <= len(purpose) <= 200:
            errors.append(FieldError("/purpose", "length", "1 to 200 characters"))
        if not redirect_uris:
            errors.append(FieldError("/redirect_uris", "min_items", "at least one redirect URI"))
        for i, uri in enumerate(redirect_uris):
            if (problem := _redirect_uri_problem(uri)) is not None:
                errors.append(FieldError(f"/redirect_uris/{i}", "redirect_uri", problem))
        if not field_groups:
            errors.append(FieldError("/field_groups", "min_items", "at least one field group"))
        for i, group in enumerate(field_groups):
            if group not in FIELD_GROUPS:
                errors.append(FieldError(f"/field_groups/{i}", "enum", f"one of {', '.join(FIELD_GROUPS)}"))
        if not 1 <= consent_days <= MAX_CONSENT_DAYS:
            errors.append(FieldError("/consent_days", "range", f"1 to {MAX_CONSENT_DAYS} days"))
        if errors:
            raise InputError("the e-service is invalid: " + "; ".join(f"{e.field}: {e.message}" for e in errors),
                             errors=errors)
        values = dict(client_id=client_id, name_th=name_th, name_en=name_en, purpose=purpose, purpose_th=purpose_th,
                      purpose_en=purpose_en, redirect_uris=list(redirect_uris),
                      field_groups=sorted(set(field_groups)), consent_days=consent_days, disabled=False)
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(eservices).values(**values, created_by=actor, created_at=utcnow()))
        except IntegrityError as exc:
            raise Conflict(f"e-service {client_id} is already registered",
                           errors=[FieldError("/client_id", "unique", "a client not yet registered as an e-service")]
                           ) from exc
        self._audit.record("eservice.registered", actor=actor, target=client_id, purpose=purpose,
                           field_groups=values["field_groups"], redirect_uris=list(redirect_uris),
                           consent_days=consent_days)
        return self.get(client_id)

    def get(self, client_id: str, *, missing_ok: bool = False) -> EService | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(eservices).where(eservices.c.client_id == client_id)).first()
        if row is None and not missing_ok:
            raise NotFound(f"no e-service {client_id}")
        return _eservice(row) if row is not None else None

    def list(self) -> list[EService]:
        with self._engine.connect() as conn:
            return [_eservice(r) for r in conn.execute(select(eservices).order_by(eservices.c.client_id))]

    def set_disabled(self, client_id: str, disabled: bool, *, actor: str) -> EService:
        with self._engine.begin() as conn:
            if not conn.execute(update(eservices).where(eservices.c.client_id == client_id)
                                .values(disabled=disabled)).rowcount:
                raise NotFound(f"no e-service {client_id}")
        self._audit.record("eservice.disabled" if disabled else "eservice.enabled", actor=actor, target=client_id)
        return self.get(client_id)

    # -- consents ----------------------------------------------------------------------
    def grant(self, citizen_id: str, service: EService, groups: list[str]) -> CitizenConsent:
        """The citizen's consent (called from the consent page after the citizen chose *grant*)."""
        now = utcnow()
        consent_id = str(uuid.uuid4())
        groups = sorted(set(groups))
        with self._engine.begin() as conn:
            conn.execute(insert(citizen_consents).values(
                id=consent_id, citizen_id=citizen_id, eservice=service.client_id, purpose=service.purpose,
                field_groups=groups, granted_at=now, expires_at=now + timedelta(days=service.consent_days),
                revoked_at=None, tokens_not_before=None))
        self._audit.record("citizen.consent.granted", actor=f"user:{citizen_id}", decision="granted",
                           target=self._pseudonym("person", citizen_id), consent_id=consent_id,
                           eservice=service.client_id, purpose=service.purpose, groups=groups,
                           days=service.consent_days)
        return self.consent(consent_id)

    def refused(self, citizen_id: str, service: EService, groups: list[str]) -> None:
        """The citizen said no: nothing is stored but the audit entry."""
        self._audit.record("citizen.consent.refused", actor=f"user:{citizen_id}", decision="refused",
                           target=self._pseudonym("person", citizen_id), eservice=service.client_id,
                           purpose=service.purpose, groups=sorted(set(groups)))

    def consent(self, consent_id: str) -> CitizenConsent | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(citizen_consents).where(citizen_consents.c.id == consent_id)).first()
        return _consent(row) if row is not None else None

    def consents_of(self, citizen_id: str) -> list[CitizenConsent]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(citizen_consents).where(citizen_consents.c.citizen_id == citizen_id)
                                .order_by(citizen_consents.c.granted_at, citizen_consents.c.id)).all()
        return [_consent(r) for r in rows]

    def revoke(self, citizen_id: str, consent_id: str) -> CitizenConsent:
        """The citizen withdraws a consent; the next read under it is refused. Revoking twice
        changes nothing; another citizen's consent is 'not found', as an unknown one."""
        now = utcnow()
        with self._engine.begin() as conn:
            changed = conn.execute(update(citizen_consents).where(
                citizen_consents.c.id == consent_id, citizen_consents.c.citizen_id == citizen_id,
                citizen_consents.c.revoked_at.is_(None)).values(revoked_at=now)).rowcount
        consent = self.consent(consent_id)
        if consent is None or consent.citizen_id != citizen_id:
            raise NotFound(f"you have no consent {consent_id}")
        if changed:
            self._audit.record("citizen.consent.revoked", actor=f"user:{citizen_id}",
                               target=self._pseudonym("person", citizen_id), consent_id=consent_id,
                               eservice=consent.eservice)
        return consent

    def void_tokens(self, consent_id: str, *, reason: str) -> None:
        """Tokens issued under this consent so far stop working (a replayed authorization code)."""
        with self._engine.begin() as conn:
            conn.execute(update(citizen_consents).where(citizen_consents.c.id == consent_id)
                         .values(tokens_not_before=utcnow()))
        self._audit.record("citizen.consent.tokens_voided", actor="hub", target=consent_id, reason=reason)

    def for_citizen(self, citizen_id: str) -> dict[str, list[dict[str, Any]]]:
        """What the citizen sees: consents to e-services, and, apart, the consents agencies recorded."""
        now = utcnow()
        names = {s.client_id: s for s in self.list()}
        mine = []
        for c in self.consents_of(citizen_id):
            service = names.get(c.eservice)
            mine.append({**c.as_dict(now), "eservice_name_th": service.name_th if service else c.eservice,
                         "eservice_name_en": service.name_en if service else c.eservice})
        with self._engine.connect() as conn:
            rows = conn.execute(select(agency_consents).where(agency_consents.c.citizen_id == citizen_id)
                                .order_by(agency_consents.c.id)).all()
        agency = [{"id": r.id, "consumer": r.consumer, "purpose": r.purpose, "fields": list(r.fields),
                   "granted_at": as_utc(r.granted_at).isoformat(), "expires_at": as_utc(r.expires_at).isoformat(),
                   "revoked_at": as_utc(r.revoked_at).isoformat() if r.revoked_at else None,
                   "recorded_by": r.recorded_by,
                   "valid": r.revoked_at is None and as_utc(r.expires_at) > now} for r in rows]
        return {"eservices": mine, "agencies": agency}
