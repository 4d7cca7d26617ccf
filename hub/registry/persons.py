"""The shared person registry: facts per (person, field, source agency) with provenance and age.

Agencies' HR systems report fields (REST, or ``hr.person.changed`` messages through the
``person-registry`` adapter); each value is kept per source with when the source observed it,
so a reader sees who said what and how old it is instead of one anonymous "current" value.
An older observation never overwrites a newer one from the same source, and an update id
(message id or idempotency key) is applied once, so redelivery and replay are harmless.

Reading is an access-controlled, audited service: the owner agencies (those that reported
facts about the person), hub admins, or a consumer holding a valid consent. Every read,
granted or refused, is audited under the person's keyed pseudonym, never the citizen ID.
A caller with no standing gets the same 403 whether or not the person is known.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.clock import as_utc, utcnow
from hub.errors import Forbidden, NotFound
from hub.registry.consents import Consents, standing
from hub.registry.person_schemas import PersonFields, PersonUpdate
from hub.registry.ports import AuditSink
from hub.registry.tables import person_facts, person_updates, persons
from hub.schemas.principal import Principal

# The service an HR subsystem needs a right to (toward the registry's party) to report
# fields: the same service DPIS change capture publishes, so one right covers both paths.
PERSON_SERVICE = "hr.person.changed/v1"

Pseudonym = Callable[[str, str], str]


@dataclass(frozen=True)
class Applied:
    citizen_id: str
    applied: bool  # False: this update id was applied before
    fields: tuple[str, ...]


class PersonRegistry:
    def __init__(self, engine: Engine, audit: AuditSink, consents: Consents, pseudonym: Pseudonym, *,
                 holds_right: Callable[[str, str, str], bool], party: str, stale_after: timedelta) -> None:
        self._engine = engine
        self._audit = audit
        self._consents = consents
        self._pseudonym = pseudonym
        self._holds_right = holds_right
        self.party = party
        self.stale_after = stale_after

    def ref(self, citizen_id: str) -> str:
        return self._pseudonym("person", citizen_id)

    # -- writing ---------------------------------------------------------------------
    def submit(self, principal: Principal, body: PersonUpdate) -> Applied:
        """An agency reports fields as one of its subsystems (403, audited, unless it may)."""
        source = body.source or _own_subsystem(principal)
        target = self.ref(body.citizen_id)
        reason = None
        if source is None:
            reason = "name the reporting subsystem in 'source'"
        elif not principal.acts_for(source):
            reason = f"you do not act for {source}"
        elif not principal.is_admin and not self._holds_right(source, PERSON_SERVICE, self.party):
            reason = f"{source} holds no access right to {PERSON_SERVICE} at {self.party}"
        if reason is not None:
            self._audit.record("person.update", actor=principal.subject, decision="refused", target=target,
                               reason=reason, source=source)
            raise Forbidden(reason)
        assert source is not None
        update_id = body.update_id and f"{source}|{body.update_id}"
        return self.apply(body.citizen_id, body.fields, source=source, observed_at=body.observed_at or utcnow(),
                          update_id=update_id, actor=principal.subject)

    def apply(self, citizen_id: str, fields: PersonFields, *, source: str, observed_at: datetime,
              update_id: str | None, actor: str) -> Applied:
        """Store the reported fields (validated already); idempotent by ``update_id``."""
        values = fields.reported()
        names = tuple(sorted(values))
        for attempt in (1, 2):
            try:
                applied = self._apply_once(citizen_id, values, source, as_utc(observed_at), update_id)
                break
            except IntegrityError:
                # Two first updates of one person raced on its row, or one update id was
                # delivered twice at once: the second sees the first's commit on retry.
                if attempt == 2:
                    raise
        if applied:
            self._audit.record("person.updated", actor=actor, target=self.ref(citizen_id), source=source,
                               fields=list(names), update_id=update_id)
        return Applied(citizen_id, applied, names)

    def _apply_once(self, citizen_id: str, values: dict[str, Any], source: str, observed_at: datetime,
                    update_id: str | None) -> bool:
        now = utcnow()
        with self._engine.begin() as conn:
            if update_id is not None and conn.execute(
                    select(person_updates.c.update_id).where(person_updates.c.update_id == update_id)).first():
                return False
            if conn.execute(select(persons.c.citizen_id).where(persons.c.citizen_id == citizen_id)).first():
                conn.execute(update(persons).where(persons.c.citizen_id == citizen_id).values(updated_at=now))
            else:
                conn.execute(insert(persons).values(citizen_id=citizen_id, created_at=now, updated_at=now))
            held = {r.field: r for r in conn.execute(select(person_facts).where(
                person_facts.c.citizen_id == citizen_id, person_facts.c.source == source)).all()}
            for name, value in values.items():
                row = held.get(name)
                if row is None:
                    conn.execute(insert(person_facts).values(citizen_id=citizen_id, field=name, value=value,
                                                             source=source, observed_at=observed_at, recorded_at=now))
                elif as_utc(row.observed_at) <= observed_at:
                    conn.execute(update(person_facts).where(person_facts.c.id == row.id)
                                 .values(value=value, observed_at=observed_at, recorded_at=now))
                # else: the source already told us something newer; an old message replayed
                # or delivered late must not roll the record back.
            if update_id is not None:
                conn.execute(insert(person_updates).values(update_id=update_id, citizen_id=citizen_id, source=source,
                                                           fields=sorted(values), observed_at=observed_at,
                                                           applied_at=now))
        return True

    # -- reading ---------------------------------------------------------------------
    def owners(self, citizen_id: str) -> set[str]:
        with self._engine.connect() as conn:
            return set(conn.execute(select(person_facts.c.source).where(
                person_facts.c.citizen_id == citizen_id).distinct()).scalars())

    def read(self, principal: Principal, citizen_id: str) -> dict[str, Any]:
        """The person's record as far as ``principal`` may see it; 403/404 otherwise, all audited."""
        target = self.ref(citizen_id)
        basis, allowed_fields, consent_id = standing(principal, self.owners(citizen_id),
                                                     self._consents.valid_for(citizen_id, principal))
        if basis is None:
            reason = "you are not an owner of this person's data and hold no valid consent to read it"
            self._audit.record("person.read", actor=principal.subject, decision="refused", target=target,
                               reason=reason)
            raise Forbidden(reason)
        with self._engine.connect() as conn:
            rows = conn.execute(select(person_facts).where(person_facts.c.citizen_id == citizen_id)
                                .order_by(person_facts.c.field, person_facts.c.observed_at.desc())).all()
        if not rows:  # only an admin gets here without facts: owners and consents need a record
            self._audit.record("person.read", actor=principal.subject, decision="refused", target=target,
                               reason="no such person")
            raise NotFound("no person record for this citizen ID")
        record = self._record(citizen_id, rows, allowed_fields)
        self._audit.record("person.read", actor=principal.subject, decision="granted", target=target, basis=basis,
                           consent_id=consent_id, fields=sorted(record["fields"]))
        return {**record, "basis": basis, "consent_id": consent_id}

    def _record(self, citizen_id: str, rows: list[Any], allowed: set[str] | None) -> dict[str, Any]:
        now = utcnow()
        fields: dict[str, Any] = {}
        for row in rows:  # newest observation of each field first
            if allowed is not None and row.field not in allowed:
                continue
            observed = as_utc(row.observed_at)
            fact = {"value": row.value, "source": row.source, "observed_at": observed.isoformat(),
                    "recorded_at": as_utc(row.recorded_at).isoformat(),
                    "age_seconds": int((now - observed).total_seconds()),
                    "stale": now - observed > self.stale_after}
            if row.field not in fields:
                fields[row.field] = {**fact, "sources": [fact]}
            else:
                fields[row.field]["sources"].append(fact)
        return {"citizen_id": citizen_id, "fields": fields,
                "stale": any(f["stale"] for f in fields.values()),
                "stale_after_seconds": int(self.stale_after.total_seconds())}


def _own_subsystem(principal: Principal) -> str | None:
    return next(iter(principal.subsystems)) if len(principal.subsystems) == 1 else None
