"""Authorization, deny by default.

* **Rights** are granted per (client, service, provider): the client is a subsystem or a
  group of subsystems (``group:NAME``), the service an id or ``*``, the provider the receiving
  subsystem, its member, or ``*``. Without a matching right a submit is refused (403).
* **Who acts for whom**: a principal may only send as a subsystem it acts for.
* **Classification**: a subsystem has a clearance 001-004 and never receives or reads a
  message classified above it; refused at submit (403), re-checked before every delivery.
* **Reads**: an agency reads only messages it sent or received, and only up to its
  clearance; anything else is answered exactly like a message that does not exist (404).

Every decision, granted or refused, goes to the audit trail.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from hub.clock import utcnow
from hub.db import reading
from hub.errors import Conflict, DeliveryError, FieldError, Forbidden, InputError, NotFound
from hub.logging_setup import story
from hub.refresh_ahead import RefreshAhead
from hub.registry.agencies import AgencyRegistry
from hub.schemas.envelope import Envelope, StoredMessage, party_member
from hub.schemas.principal import CLEARANCE_LEVELS, Principal
from hub.security.audit import AuditLog, canonical
from hub.security.authn import CACHE_SECONDS
from hub.security.tables import access_rights, group_members

GROUP_PREFIX = "group:"
refusals = story(__name__)


@dataclass(frozen=True)
class Scope:
    """What a principal may list: messages from or to these parties (or members), up to a level."""

    parties: tuple[str, ...]
    members: tuple[str, ...]
    max_classification: str


def higher(classification: str, clearance: str) -> bool:
    return CLEARANCE_LEVELS.index(classification) > CLEARANCE_LEVELS.index(clearance)


class AccessControl:
    def __init__(self, engine: Engine, registry: AgencyRegistry, audit: AuditLog) -> None:
        self._engine = engine
        self._registry = registry
        self._audit = audit
        # Rights are read on every submit; another process's grant or revoke is seen within
        # CACHE_SECONDS (the same bound as cached principals), this process's at once. Re-read
        # in the background while in use, so no submit waits for the read (hub.refresh_ahead).
        self._rights: RefreshAhead[tuple[str, str, str], bool] = RefreshAhead(
            self._read_right, ttl=CACHE_SECONDS, maxsize=65536)

    # -- rights and groups -----------------------------------------------------------
    def grant(self, client: str, service: str, provider: str, *, actor: str) -> dict[str, Any]:
        if not client.startswith(GROUP_PREFIX) and self._registry.subsystem(client, missing_ok=True) is None:
            raise InputError(f"client {client} is not a registered subsystem",
                             errors=[FieldError("/client", "exists", "a registered subsystem id or group:NAME")])
        try:
            with self._engine.begin() as conn:
                right_id = conn.execute(insert(access_rights).values(
                    client=client, service=service, provider=provider, granted_at=utcnow(), granted_by=actor)
                ).inserted_primary_key[0]
        except IntegrityError as exc:
            raise Conflict(f"{client} already holds {service} toward {provider}") from exc
        self._forget_rights()
        self._audit.record("access.right_granted", actor=actor, target=client, service=service, provider=provider)
        return {"id": right_id, "client": client, "service": service, "provider": provider}

    def check_provider(self, provider: str) -> None:
        """An administrator's grant names a provider that exists: ``*``, a registered member, or
        a registered subsystem (issue 12; the same check guards routes' receivers)."""
        self._registry.check_registered(provider, pointer="/provider", role="provider", wildcard=True)

    def revoke(self, right_id: int, *, actor: str) -> None:
        with self._engine.begin() as conn:
            row = conn.execute(select(access_rights).where(access_rights.c.id == right_id)).first()
            if row is None:
                raise NotFound(f"no access right {right_id}")
            conn.execute(delete(access_rights).where(access_rights.c.id == right_id))
        self._forget_rights()
        self._audit.record("access.right_revoked", actor=actor, target=row.client, service=row.service,
                           provider=row.provider)

    def rights(self, client: str | None = None) -> list[dict[str, Any]]:
        query = select(access_rights).order_by(access_rights.c.id)
        if client is not None:
            query = query.where(access_rights.c.client == client)
        with self._engine.connect() as conn:
            return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r._mapping.items()}
                    for r in conn.execute(query).all()]

    def add_to_group(self, group: str, subsystem_id: str, *, actor: str) -> None:
        with self._engine.begin() as conn:
            exists = conn.execute(select(group_members).where(group_members.c.group_name == group,
                                                              group_members.c.subsystem_id == subsystem_id)).first()
            if exists is None:
                conn.execute(insert(group_members).values(group_name=group, subsystem_id=subsystem_id))
        self._forget_rights()
        self._audit.record("access.group_member_added", actor=actor, target=f"{GROUP_PREFIX}{group}",
                           subsystem=subsystem_id)

    def remove_from_group(self, group: str, subsystem_id: str, *, actor: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(group_members).where(group_members.c.group_name == group,
                                                     group_members.c.subsystem_id == subsystem_id))
        self._forget_rights()
        self._audit.record("access.group_member_removed", actor=actor, target=f"{GROUP_PREFIX}{group}",
                           subsystem=subsystem_id)

    def groups(self) -> dict[str, list[str]]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(group_members).order_by(group_members.c.group_name,
                                                               group_members.c.subsystem_id)).all()
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(r.group_name, []).append(r.subsystem_id)
        return out

    def holds_right(self, client: str, service: str, provider: str) -> bool:
        key = (client, service, provider)
        cached = self._rights.get(key)
        return cached if cached is not None else self._rights.load_now(key)

    def _forget_rights(self) -> None:
        self._rights.clear()

    def _read_right(self, key: tuple[str, str, str]) -> bool:
        return self._holds_right_uncached(*key)

    def _holds_right_uncached(self, client: str, service: str, provider: str) -> bool:
        with reading(self._engine).connect() as conn:
            groups = conn.execute(select(group_members.c.group_name)
                                  .where(group_members.c.subsystem_id == client)).scalars().all()
            found = conn.execute(
                select(access_rights.c.id).where(
                    access_rights.c.client.in_([client, *(GROUP_PREFIX + g for g in groups)]),
                    access_rights.c.service.in_([service, "*"]),
                    access_rights.c.provider.in_([provider, party_member(provider), "*"]),
                ).limit(1)
            ).first()
        return found is not None

    # -- decisions -------------------------------------------------------------------
    def _refuse(self, principal: Principal, action: str, target: str | None, reason: str, *,
                message_id: str | None = None, **detail: Any) -> Forbidden:
        refusals.warning("access.refused", action=action, actor=principal.subject, target=target, reason=reason,
                         message_id=message_id,
                         **{k: v for k, v in detail.items() if isinstance(v, (str, int, float, bool)) or v is None})
        self._audit.record(f"access.{action}", actor=principal.subject, decision="refused", target=target,
                           reason=reason, **detail)
        return Forbidden(reason)

    def authorize_submit(self, principal: Principal, env: Envelope, *,
                         record_grant: bool = True) -> tuple[str, str, str, str, str] | None:
        """Raise ``Forbidden`` (audited) unless ``principal`` may send this envelope.

        With ``record_grant=False`` the "granted" entry is returned instead of appended, for
        the caller to commit in the same transaction as the message it admits.
        """
        detail = _submit_detail(env)
        message_id = str(env.id) if env.id else None
        if not principal.acts_for(env.sender):
            raise self._refuse(principal, "submit", env.receiver,
                               f"you do not act for sender {env.sender}", message_id=message_id, **detail)
        if not principal.is_admin and not self.holds_right(env.sender, env.service, env.receiver):
            raise self._refuse(principal, "submit", env.receiver,
                               f"{env.sender} holds no access right to {env.service} at {env.receiver}",
                               message_id=message_id, **detail)
        if higher(env.classification.value, principal.clearance):
            raise self._refuse(principal, "submit", env.receiver,
                               f"the message is classified {env.classification.value}; you are cleared up to "
                               f"{principal.clearance}", message_id=message_id, **detail)
        self.check_receiver_clearance(env, actor=principal.subject)
        if not record_grant:
            return _submit_grant(principal, env, detail)
        self._audit.record("access.submit", actor=principal.subject, decision="granted", target=env.receiver, **detail)
        return None

    def remembered_submit_grant(self, principal: Principal, env: Envelope) -> tuple[str, str, str, str, str] | None:
        """What ``authorize_submit(..., record_grant=False)`` returns, when every fact it needs is
        cached and each says yes; None otherwise (then call ``authorize_submit``, which reads
        what is missing and audits a refusal). No I/O, so the API decides a granted submit on
        its event loop."""
        classification = env.classification.value
        if not principal.acts_for(env.sender) or higher(classification, principal.clearance):
            return None
        if not principal.is_admin and not self._rights.get((env.sender, env.service, env.receiver)):
            return None
        clearance = self._registry.remembered_clearance(env.receiver)
        if clearance is None or higher(classification, clearance):
            return None
        return _submit_grant(principal, env, _submit_detail(env))

    def check_receiver_clearance(self, env: Envelope, *, actor: str = "hub") -> None:
        clearance = self._registry.clearance_of(env.receiver)
        if higher(env.classification.value, clearance):
            reason = (f"receiver {env.receiver} is cleared up to {clearance}; a message classified "
                      f"{env.classification.value} may not be sent to it")
            self._audit.record("access.submit", actor=actor, decision="refused", target=env.receiver, reason=reason,
                               sender=env.sender, service=env.service, classification=env.classification.value)
            refusals.warning("access.refused", action="submit", actor=actor, target=env.receiver, reason=reason,
                             message_id=str(env.id) if env.id else None, sender=env.sender, service=env.service)
            raise Forbidden(reason, errors=[FieldError("/classification", "receiver_clearance",
                                                       f"at most {clearance} for {env.receiver}")])

    def may_read(self, principal: Principal, meta: StoredMessage) -> bool:
        if principal.is_admin:
            return True
        party_ok = principal.acts_for(meta.sender) or principal.acts_for(meta.receiver)
        return party_ok and not higher(meta.classification, principal.clearance)

    def authorize_read(self, principal: Principal, message_id: str, meta: StoredMessage | None,
                       action: str = "read") -> StoredMessage:
        """The message if ``principal`` may read it; otherwise the same 404 as a missing message."""
        if meta is None or not self.may_read(principal, meta):
            self._audit.record(f"access.{action}", actor=principal.subject, decision="refused", target=message_id,
                               reason="no such message" if meta is None else "not a party or above clearance")
            raise NotFound(f"no message with id {message_id}")
        self._audit.record(f"access.{action}", actor=principal.subject, decision="granted", target=message_id,
                           payload_sha256=meta.payload_sha256)
        return meta

    def authorize_replay(self, principal: Principal, message_id: str, meta: StoredMessage | None) -> StoredMessage:
        """Hub admins replay; anyone else is refused, and the trail says refused (a party gets
        403, others the same 404 as a missing message)."""
        if principal.is_admin:
            return self.authorize_read(principal, message_id, meta, "replay")
        party = meta is not None and self.may_read(principal, meta)
        self._audit.record("access.replay", actor=principal.subject, decision="refused", target=message_id,
                           reason="only a hub admin may replay a message" if party else
                           "no such message" if meta is None else "not a party or above clearance")
        if party:
            raise Forbidden("only a hub admin may replay a message")
        raise NotFound(f"no message with id {message_id}")

    def scope(self, principal: Principal) -> Scope | None:
        """None for admins (everything); otherwise the parties a listing is limited to."""
        if principal.is_admin:
            return None
        parties = set(principal.subsystems)
        members = ()
        if principal.member and "agency-operator" in principal.roles:
            members = (principal.member,)
            parties.update(self._registry.approved_subsystems(principal.member))
        return Scope(tuple(sorted(parties)), members, principal.clearance)

    def delivery_guard(self, meta: StoredMessage) -> None:
        """Before every delivery: the receiver's clearance may have been lowered since accept."""
        clearance = self._registry.clearance_of(meta.receiver)
        if higher(meta.classification, clearance):
            reason = (f"receiver {meta.receiver} is cleared up to {clearance}; the message is classified "
                      f"{meta.classification}")
            self._audit.record("access.deliver", actor="hub", decision="refused", target=str(meta.id),
                               reason=reason, receiver=meta.receiver)
            raise DeliveryError(reason, permanent=True)


def _submit_detail(env: Envelope) -> dict[str, str]:
    return {"sender": env.sender, "receiver": env.receiver, "service": env.service,
            "classification": env.classification.value}


def _submit_grant(principal: Principal, env: Envelope, detail: dict[str, str]) -> tuple[str, str, str, str, str]:
    """The "granted" audit entry of a submit, for the caller to commit with the message."""
    return ("access.submit", principal.subject, "granted", env.receiver, canonical(detail).decode())
