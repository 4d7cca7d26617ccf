"""People: hub admins, agency operators, auditors and monitors, with passwords (argon2) and expiring
sessions. A session token is a random bearer value shown once at login; the hub keeps only
its SHA-256, so a copy of the database cannot be replayed as a login."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.clock import as_utc, utcnow
from hub.errors import Conflict, FieldError, InputError, NotFound, Unauthorized
from hub.schemas.principal import ADMIN, AUDITOR, CITIZEN, CLEARANCE_LEVELS, MONITOR, OPERATOR
from hub.security import hashing
from hub.security.audit import AuditLog
from hub.security.secret_gate import SecretGate
from hub.security.tables import sessions, users
from hub.thai import ThaiValueError, validate_citizen_id

# A monitor is a person who watches the hub (the console's overview, /metrics): reads figures only.
# A citizen signs in to the citizen pages only (consents, who read my data); the username is the citizen ID.
USER_ROLES = (ADMIN, OPERATOR, AUDITOR, MONITOR, CITIZEN)
INVALID_LOGIN = "invalid username or password"
MIN_PASSWORD = 12


@dataclass(frozen=True)
class UserRecord:
    username: str
    roles: tuple[str, ...]
    member_id: str | None
    clearance: str
    disabled: bool


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: str

    def __repr__(self) -> str:
        return f"Session(token='***', expires_at={self.expires_at!r})"


class Users:
    def __init__(self, engine: Engine, audit: AuditLog, *, session_ttl_seconds: int, gate: SecretGate) -> None:
        self._gate = gate
        self._engine = engine
        self._audit = audit
        self._ttl = session_ttl_seconds

    def add(self, username: str, password: str, *, roles: tuple[str, ...], actor: str,
            member_id: str | None = None, clearance: str = "001") -> UserRecord:
        errors = []
        if not roles or any(r not in USER_ROLES for r in roles):
            errors.append(FieldError("/roles", "enum", f"one or more of {', '.join(USER_ROLES)}"))
        if OPERATOR in roles and not member_id:
            errors.append(FieldError("/member_id", "required", "an agency operator acts for one member"))
        if CITIZEN in roles:
            # A citizen is a person signing in as themself: the account name is their citizen ID
            # (the data tracker and consents are found by it) and it carries no hub role.
            if set(roles) != {CITIZEN}:
                errors.append(FieldError("/roles", "exclusive", "a citizen account has the role citizen only"))
            try:
                validate_citizen_id(username)
            except ThaiValueError as exc:
                errors.append(FieldError("/username", exc.rule, f"a valid 13-digit citizen ID ({exc})"))
        if clearance not in CLEARANCE_LEVELS:
            errors.append(FieldError("/clearance", "enum", "one of 001, 002, 003, 004"))
        if len(password) < MIN_PASSWORD:
            errors.append(FieldError("/password", "min_length", f"at least {MIN_PASSWORD} characters"))
        if errors:
            raise InputError("the user is invalid: " + "; ".join(f"{e.field}: {e.message}" for e in errors),
                             errors=errors)
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(users).values(username=username, password_hash=hashing.hash_secret(password),
                                                  roles=list(roles), member_id=member_id, clearance=clearance,
                                                  disabled=False, created_at=utcnow()))
        except IntegrityError as exc:
            raise Conflict(f"user {username} already exists",
                           errors=[FieldError("/username", "unique", "a new username")]) from exc
        self._audit.record("user.created", actor=actor, target=username, roles=list(roles), member=member_id,
                           clearance=clearance)
        return UserRecord(username, tuple(roles), member_id, clearance, False)

    def get(self, username: str) -> UserRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return UserRecord(row.username, tuple(row.roles), row.member_id, row.clearance, bool(row.disabled)) if row else None

    def set_disabled(self, username: str, disabled: bool, *, actor: str) -> None:
        with self._engine.begin() as conn:
            if not conn.execute(update(users).where(users.c.username == username).values(disabled=disabled)).rowcount:
                raise NotFound(f"no user {username}")
            if disabled:
                conn.execute(delete(sessions).where(sessions.c.username == username))
        self._audit.record("user.disabled" if disabled else "user.enabled", actor=actor, target=username)

    def login(self, username: str, password: str, *, source: str | None = None,
              role: str | None = None) -> Session:
        """A session for a correct password; bounded by the secret gate like client secrets.
        With ``role``, only an account holding it signs in; any other answers exactly as a wrong
        password, after the same password check, so neither the answer nor its time tells which
        accounts hold the role (the citizen pages: which citizen IDs have an account)."""
        with self._gate.check(f"user:{username}", source):
            with self._engine.connect() as conn:
                row = conn.execute(select(users).where(users.c.username == username)).first()
            ok = hashing.verify_secret(row.password_hash, password) if row is not None else hashing.verify_none(password)
        if row is not None and role is not None and role not in row.roles:
            ok = False
        if row is None or row.disabled or not ok:
            self._gate.failed(f"user:{username}", source)
            self._audit.record("auth.failed", actor=username[:200] or "(empty)", decision="refused",
                               target=username[:200] or None, method="password")
            raise Unauthorized(INVALID_LOGIN)
        self._gate.succeeded(f"user:{username}", source)
        if hashing.needs_rehash(row.password_hash):
            with self._engine.begin() as conn:
                conn.execute(update(users).where(users.c.username == username)
                             .values(password_hash=hashing.hash_secret(password)))
        token = hashing.new_secret(hashing.SESSION_PREFIX)
        now = utcnow()
        expires = now + timedelta(seconds=self._ttl)
        with self._engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))
            conn.execute(insert(sessions).values(token_sha256=hashing.sha256_hex(token), username=username,
                                                 created_at=now, expires_at=expires))
        self._audit.record("auth.login", actor=username, decision="granted", target=username,
                           expires_at=expires.isoformat())
        return Session(token, expires.isoformat())

    def session_user(self, token: str) -> UserRecord:
        with self._engine.connect() as conn:
            row = conn.execute(
                select(sessions.c.expires_at, users)
                .join(users, users.c.username == sessions.c.username)
                .where(sessions.c.token_sha256 == hashing.sha256_hex(token))
            ).first()
        if row is None:
            raise Unauthorized("the session is not known; log in again at /v1/auth/login")
        if as_utc(row.expires_at) <= utcnow():
            raise Unauthorized("the session has expired; log in again at /v1/auth/login")
        if row.disabled:
            raise Unauthorized("this user is disabled")
        return UserRecord(row.username, tuple(row.roles), row.member_id, row.clearance, False)

    def logout(self, token: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_sha256 == hashing.sha256_hex(token)))
