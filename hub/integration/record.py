"""The unified citizen record: one read, fanned out live to the agencies that hold the data.

``GET /v1/citizens/{citizen_id}/record?fields=GROUPS&purpose=...`` asks, in parallel, every
query service that answers a requested field group (the groups, the service name answering
each, their designated owners and classification are declared in the published standard
``th.integration.record``, ``x-field-groups``). Each source is given its own service's
timeout; one that times out, refuses or fails leaves the record *partial*, naming it and why,
never a failed request. Every field carries its value, source (agency, subsystem, system),
observed-at time, age, staleness and classification; when sources disagree the record shows
every candidate and the rule that chose: the group's owners in their declared order
(``designated_owner``), else the freshest observation (``freshest``).

Authorisation is a :class:`~hub.integration.record_access.RecordAccessChain`; a refusal is
the same ``403 record_refused`` whatever the reason or whether the citizen is known.

Audit: every read, granted or refused, appends ONE entry to the signed audit trail, the shape
the citizen's data tracker reads::

    kind     "citizen.record.read"
    actor    the principal's subject
    decision "granted" (a read happened, possibly partial) | "refused"
    target   pseudonym("person", citizen_id)   ("person:<32 hex>", never the citizen ID)
    detail   {"reader": agency subsystem | e-service client id | admin subject,
              "reader_kind": "agency" | "eservice" | "admin",
              "groups": [sorted field groups asked],
              "purpose": the purpose as asked,
              "basis": {"kind": "agency_consent" | "citizen_consent" | "admin", "id": str | null}
                       (null when refused),
              "fields": [sorted field names returned] ([] when refused),
              "sources": {"<provider> <service>": "ok" | "timeout" | "refused" | "error" | "no_source"}
                       ({} when refused),
              "reason": null | the private refusal reason}
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub.adapters.base import QueryRequest
from hub.clock import as_utc, utcnow
from hub.errors import FieldError, InputError
from hub.integration.queries import Outcome, QueryServices, QueryService
from hub.integration.record_access import Basis, RecordAccessChain, RecordRefused, reader_of
from hub.schemas.envelope import party_member
from hub.schemas.principal import Principal
from hub.security.audit import AuditLog
from hub.standards.registry import StandardsRegistry

RECORD_STANDARD = "th.integration.record"
READ_KIND = "citizen.record.read"
DESIGNATED_OWNER, FRESHEST = "designated_owner", "freshest"
GROUPS_SECONDS = 2.0


@dataclass(frozen=True)
class FieldGroup:
    name: str
    fields: tuple[str, ...]
    service: str  # the query service name every source of this group publishes
    owners: tuple[str, ...]  # source systems whose value wins, in order
    classification: str


def field_groups(schema: dict[str, Any]) -> dict[str, FieldGroup]:
    """The groups a version of ``th.integration.record`` declares."""
    return {name: FieldGroup(name, tuple(g["fields"]), g["service"], tuple(g.get("owners", ())),
                             g.get("classification", "001"))
            for name, g in schema["x-field-groups"].items()}


@dataclass(frozen=True)
class Candidate:
    field: str
    value: Any
    service: QueryService
    observed_at: datetime

    def source(self) -> dict[str, str]:
        return {"agency": party_member(self.service.provider), "subsystem": self.service.provider,
                "system": self.service.system}


class UnifiedRecord:
    def __init__(self, queries: QueryServices, access: RecordAccessChain, audit: AuditLog,
                 pseudonym: Callable[[str, str], str], standards: StandardsRegistry, *, stale_after: timedelta) -> None:
        self._queries = queries
        self.access = access
        self._audit = audit
        self._pseudonym = pseudonym
        self._standards = standards
        self.stale_after = stale_after
        self._groups: tuple[float, dict[str, FieldGroup]] | None = None
        self._lock = threading.Lock()

    def groups(self) -> dict[str, FieldGroup]:
        """The field groups of the newest usable ``th.integration.record``; a new version is
        seen within GROUPS_SECONDS."""
        with self._lock:
            if self._groups is not None and time.monotonic() - self._groups[0] < GROUPS_SECONDS:
                return self._groups[1]
        standard = self._standards.get(RECORD_STANDARD)
        found = field_groups(standard.schema or {})
        with self._lock:
            self._groups = (time.monotonic(), found)
        return found

    def parse_groups(self, fields: str) -> list[str]:
        known = self.groups()
        asked = sorted({g.strip() for g in fields.split(",") if g.strip()})
        unknown = [g for g in asked if g not in known]
        if not asked or unknown:
            raise InputError(f"unknown field groups {unknown}" if unknown else "name at least one field group",
                             errors=[FieldError("/query/fields", "enum", f"comma-separated field groups of "
                                                f"{RECORD_STANDARD}: {', '.join(sorted(known))}")])
        return asked

    # -- the read -------------------------------------------------------------------------
    def read(self, principal: Principal, citizen_id: str, groups: Sequence[str], purpose: str) -> dict[str, Any]:
        target = self._pseudonym("person", citizen_id)
        declared = self.groups()
        try:
            basis = self.access.check(principal, citizen_id, groups, purpose)
        except RecordRefused as refused:
            self._audit.record(READ_KIND, actor=principal.subject, decision="refused", target=target,
                               reader=reader_of(principal), reader_kind=_reader_kind(principal),
                               groups=sorted(groups), purpose=purpose, basis=None, fields=[], sources={},
                               reason=refused.reason)
            raise
        outcomes = self._fan_out(citizen_id, [declared[g] for g in groups], purpose, principal.clearance)
        record = self._assemble(citizen_id, groups, purpose, basis, declared, outcomes)
        self._audit.record(READ_KIND, actor=principal.subject, decision="granted", target=target,
                           reader=basis.reader, reader_kind=basis.reader_kind, groups=sorted(groups), purpose=purpose,
                           basis=basis.as_audit(), fields=sorted(record["fields"]),
                           sources={f"{s['provider']} {s['service']}": s["outcome"] for s in record["sources"]},
                           reason=None)
        return record

    def _fan_out(self, citizen_id: str, groups: list[FieldGroup], purpose: str,
                 clearance: str) -> list[tuple[FieldGroup, QueryService | None, Outcome | None]]:
        calls: list[tuple[FieldGroup, QueryService, Any, float]] = []
        missing: list[tuple[FieldGroup, None, None]] = []
        for group in groups:
            services = self._queries.list(name=group.service)
            if not services:
                missing.append((group, None, None))
            for service in services:
                request = QueryRequest(service.name, "hub", {"query": group.name, "citizen_id": citizen_id,
                                                            "purpose": purpose},
                                       service.timeout_seconds, service.max_answer_bytes, clearance)
                started = time.perf_counter()
                calls.append((group, service, self._queries.start(service, request), started))
        # Each source is awaited until its own deadline, all running at once: the read takes
        # as long as the slowest source that answers, or the longest timeout of one that does not.
        return [*missing, *((g, s, self._queries.finish(s, f, t)) for g, s, f, t in calls)]

    def _assemble(self, citizen_id: str, groups: Sequence[str], purpose: str, basis: Basis,
                  declared: dict[str, FieldGroup],
                  outcomes: list[tuple[FieldGroup, QueryService | None, Outcome | None]]) -> dict[str, Any]:
        now = utcnow()
        candidates: dict[str, list[Candidate]] = {}
        sources = []
        for group, service, outcome in outcomes:
            if service is None or outcome is None:
                sources.append({"provider": None, "service": group.service, "system": None, "groups": [group.name],
                                "outcome": "no_source", "duration_ms": 0,
                                "reason": f"no agency publishes the query service {group.service}"})
                continue
            sources.append({"provider": service.provider, "service": service.name, "system": service.system,
                            "groups": [group.name], "outcome": outcome.outcome, "reason": outcome.reason,
                            "duration_ms": outcome.duration_ms})
            if outcome.answer is None:
                continue
            body = outcome.answer.body
            fields = body.get("fields") if isinstance(body.get("fields"), dict) else {}
            per_field = body.get("field_observed_at") if isinstance(body.get("field_observed_at"), dict) else {}
            default_seen = _instant(outcome.answer.observed_at) or now
            for name, value in fields.items():
                if name not in group.fields or value is None:
                    continue  # a source answers only for the fields of the group it was asked
                seen = _instant(per_field.get(name)) or default_seen
                candidates.setdefault(name, []).append(Candidate(name, value, service, seen))
        record_fields = {}
        for name in sorted(candidates):
            group = next(g for g in declared.values() if name in g.fields)
            chosen, rule = choose(candidates[name], group.owners)
            record_fields[name] = self._field(chosen, group, now, candidates[name], rule)
        return {"citizen_id": citizen_id, "purpose": purpose, "groups": list(groups), "read_at": now.isoformat(),
                "partial": any(s["outcome"] != "ok" for s in sources), "basis": basis.as_audit(),
                "fields": record_fields, "sources": sources}

    def _field(self, chosen: Candidate, group: FieldGroup, now: datetime, all_: list[Candidate],
               rule: str | None) -> dict[str, Any]:
        age = max(0, int((now - chosen.observed_at).total_seconds()))
        out: dict[str, Any] = {"value": chosen.value, "group": group.name, "source": chosen.source(),
                               "observed_at": chosen.observed_at.isoformat(), "age_seconds": age,
                               "stale": now - chosen.observed_at > self.stale_after,
                               "classification": group.classification}
        if rule is not None:
            out["conflict"] = {"rule": rule, "candidates": [
                {"value": c.value, "source": c.source(), "observed_at": c.observed_at.isoformat()} for c in all_]}
        return out


def choose(candidates: list[Candidate], owners: Sequence[str]) -> tuple[Candidate, str | None]:
    """The value to show and the rule that chose it (None when the sources agree)."""
    freshest = sorted(candidates, key=lambda c: c.observed_at, reverse=True)
    if len({_key(c.value) for c in candidates}) <= 1:
        return freshest[0], None
    for owner in owners:
        owned = [c for c in freshest if c.service.system == owner]
        if owned:
            return owned[0], DESIGNATED_OWNER
    return freshest[0], FRESHEST


def _key(value: Any) -> str:
    return repr(value)


def _instant(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def _reader_kind(principal: Principal) -> str:
    if principal.is_admin:
        return "admin"
    return "eservice" if principal.method == "citizen_oauth" else "agency"
