"""The hub's own query answerers: sources that live in this hub's database.

Each is named in a query service's ``adapter`` and answers a ``QueryRequest`` like an
adapter's ``query`` does (``{"fields": {...}, "observed_at": ...}``), read-only:

* ``person-registry``: ``{"query": "person", "citizen_id"}``: the newest value of each field
  the shared person registry holds, each dated by its own observation (``field_observed_at``);
* ``telework-cases``: ``{"query": "telework", "citizen_id"}``: the person's telework cases,
  their order (book number, period) and the evidence status of their ordered days so far;
* ``ecms-letters``: ``{"query": "letters", "citizen_id", "names"?}``: letters through this
  hub's e-CMS node whose subject names the person (their Thai name from the person registry
  unless ``names`` are given): letter id, date, subject, sender and receiver departments
  and classification, never the body or attachments, and none classified above the
  caller's clearance.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import Engine, or_, select

from hub.adapters.base import QueryAnswer, QueryAnswerError, QueryRequest
from hub.adapters.ecms.node.tables import ecms_departments, ecms_letters
from hub.apps.telework.domain.evidence import day_status
from hub.apps.telework.store_sql import SqlStore
from hub.apps.telework.tables import telework_cases
from hub.clock import as_utc, utcnow
from hub.registry.tables import person_facts
from hub.schemas.principal import CLEARANCE_LEVELS

BANGKOK = dt.timezone(dt.timedelta(hours=7))
MAX_LETTERS = 200


def _citizen(request: QueryRequest, kind: str) -> str:
    citizen_id = request.body.get("citizen_id")
    if request.body.get("query", kind) != kind or not isinstance(citizen_id, str) or len(citizen_id) != 13:
        raise QueryAnswerError(f"this service answers {{'query': '{kind}', 'citizen_id': 13 digits}}")
    return citizen_id


class PersonRegistryAnswerer:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __call__(self, request: QueryRequest) -> QueryAnswer:
        citizen_id = _citizen(request, "person")
        with self._engine.connect() as conn:
            rows = conn.execute(select(person_facts.c.field, person_facts.c.value, person_facts.c.observed_at)
                                .where(person_facts.c.citizen_id == citizen_id)
                                .order_by(person_facts.c.field, person_facts.c.observed_at.desc())).all()
        fields: dict[str, Any] = {}
        seen: dict[str, str] = {}
        for row in rows:  # newest observation of each field first (any reporting source)
            if row.field not in fields:
                fields[row.field] = row.value
                seen[row.field] = as_utc(row.observed_at).isoformat()
        newest = max(seen.values(), default=None)
        return QueryAnswer({"fields": fields, "field_observed_at": seen, "observed_at": newest}, newest)

    def names(self, citizen_id: str) -> list[str]:
        """The person's Thai names as ``first last`` (one per reporting source)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(person_facts.c.source, person_facts.c.field, person_facts.c.value)
                                .where(person_facts.c.citizen_id == citizen_id,
                                       person_facts.c.field.in_(["first_name_th", "last_name_th"]))).all()
        by_source: dict[str, dict[str, str]] = {}
        for row in rows:
            by_source.setdefault(row.source, {})[row.field] = row.value
        return sorted({f"{n['first_name_th']} {n['last_name_th']}" for n in by_source.values()
                       if "first_name_th" in n and "last_name_th" in n})


class TeleworkAnswerer:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._store = SqlStore(engine)

    def __call__(self, request: QueryRequest) -> QueryAnswer:
        citizen_id = _citizen(request, "telework")
        with self._engine.connect() as conn:
            ids = conn.execute(select(telework_cases.c.case_id).where(telework_cases.c.citizen_id == citizen_id)
                               .order_by(telework_cases.c.case_id)).scalars().all()
        today = utcnow().astimezone(BANGKOK).date()
        cases = []
        for case_id in ids:
            case = self._store.get_case(case_id)
            evidence = self._store.list_evidence(case_id)
            by_day: dict[str, list[Any]] = {}
            for item in evidence:
                by_day.setdefault(item.work_date, []).append(item)
            statuses = Counter(day_status(day, by_day.get(day.isoformat(), []), today) for day in case.active_days())
            order = case.order or {}
            cases.append({"case_id": case.case_id, "agency": case.agency, "status": case.status,
                          "book_number": case.book_number, "order_date": order.get("order_date"),
                          "start_date": order.get("start_date"), "end_date": order.get("end_date"),
                          "days_ordered": len(case.active_days()), "evidence_items": len(evidence),
                          "evidence": dict(sorted(statuses.items())), "revoked": case.revocation is not None})
        observed = utcnow().isoformat()
        return QueryAnswer({"fields": {"telework_cases": cases} if cases else {}, "observed_at": observed}, observed)


class EcmsLettersAnswerer:
    def __init__(self, engine: Engine, names: PersonRegistryAnswerer) -> None:
        self._engine = engine
        self._names = names

    def __call__(self, request: QueryRequest) -> QueryAnswer:
        citizen_id = _citizen(request, "letters")
        given = request.body.get("names")
        names = [n for n in given if isinstance(n, str) and len(n.strip()) >= 3] if isinstance(given, list) \
            else self._names.names(citizen_id)
        observed = utcnow().isoformat()
        if not names:
            return QueryAnswer({"fields": {}, "observed_at": observed}, observed)
        allowed = list(CLEARANCE_LEVELS[:CLEARANCE_LEVELS.index(request.clearance) + 1])
        sender, receiver = ecms_departments.alias("sender"), ecms_departments.alias("receiver")
        letters = ecms_letters
        query = (select(letters.c.letter_id, letters.c.correspondence_date, letters.c.subject, letters.c.secret_code,
                        letters.c.sender_code, letters.c.receiver_code, sender.c.name_th.label("sender_name"),
                        receiver.c.name_th.label("receiver_name"))
                 .outerjoin(sender, sender.c.code == letters.c.sender_code)
                 .outerjoin(receiver, receiver.c.code == letters.c.receiver_code)
                 .where(or_(*(letters.c.subject.contains(n.strip(), autoescape=True) for n in names)),
                        letters.c.withdrawn_at.is_(None), letters.c.secret_code.in_(allowed))
                 .order_by(letters.c.correspondence_date.desc(), letters.c.letter_id).limit(MAX_LETTERS))
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        found = [{"letter_id": r.letter_id, "date": r.correspondence_date, "subject": r.subject,
                  "sender": {"code": r.sender_code, "name_th": r.sender_name},
                  "receiver": {"code": r.receiver_code, "name_th": r.receiver_name},
                  "classification": r.secret_code} for r in rows]
        return QueryAnswer({"fields": {"letters": found} if found else {}, "observed_at": observed}, observed)
