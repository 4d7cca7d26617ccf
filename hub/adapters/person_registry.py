"""Delivery into the hub's own shared person registry (in process).

Features:
    - consumes ``hr.person.changed`` messages: a ``th.hr.person`` document as DPIS change
      capture publishes it (``per_cardno``, ``per_name``, ``per_surname``, ...), or a
      ``{"citizen_id": ..., "fields": {...}}`` document with ``th.shared.person`` fields;
    - the message's sender is the provenance of every field, its accept time the observation
      time; the message id is the update id, so a redelivery or replay is applied once;
    - an invalid payload (bad citizen ID, unknown field) is a permanent failure: retrying
      the same bytes cannot help, and the message is dead-lettered with the reason.

Connection string (route settings): {} — a route ``(shared-data party, hr.person.changed/v1)``
with adapter ``person-registry``; the registry is the one bound by ``hub.bootstrap``.
"""
from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from hub.adapters.base import PERSON_REGISTRY, SEND, Adapter, Health, OutboundMessage, Receipt
from hub.errors import DeliveryError
from hub.registry.person_schemas import PersonFields
from hub.thai import ThaiValueError, validate_citizen_id

# DPIS per_status: 1 is in service; anything else (retired, resigned, moved out) is not.
_DPIS_ACTIVE = 1


def from_dpis(doc: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(citizen ID, shared fields) of a ``th.hr.person`` document."""
    fields: dict[str, Any] = {"first_name_th": doc.get("per_name"), "last_name_th": doc.get("per_surname"),
                              "email": doc.get("per_email"), "start_date": doc.get("per_startdate"),
                              "level": doc.get("level_no"),
                              "position_code": (doc.get("position") or {}).get("pl_code")}
    if "per_status" in doc:
        fields["employment_status"] = "active" if doc["per_status"] == _DPIS_ACTIVE else "inactive"
    return doc.get("per_cardno"), {k: v for k, v in fields.items() if v is not None}


def parse(payload: bytes) -> tuple[str, PersonFields]:
    """Raise ``DeliveryError(permanent=True)`` naming what is wrong."""
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise DeliveryError(f"payload is not JSON: {exc}", permanent=True) from exc
    if not isinstance(doc, dict):
        raise DeliveryError("payload must be a JSON object", permanent=True)
    if "per_cardno" in doc:
        raw_id, raw_fields = from_dpis(doc)
    else:
        raw_id, raw_fields = doc.get("citizen_id"), doc.get("fields")
    try:
        citizen_id = validate_citizen_id(raw_id)
    except ThaiValueError as exc:
        raise DeliveryError(f"citizen ID refused ({exc.rule}): {exc}", permanent=True) from exc
    try:
        fields = PersonFields.model_validate(raw_fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "fields"
        raise DeliveryError(f"fields refused: {where}: {first['msg']} ({first['type']})", permanent=True) from exc
    if not fields.reported():
        raise DeliveryError("the message reports no person field", permanent=True)
    return citizen_id, fields


class PersonRegistryAdapter(Adapter):
    scheme = "person-registry"
    capabilities = frozenset({SEND})
    summary = "Apply hr.person.changed messages to the hub's shared person registry (with provenance)."
    resources = frozenset({PERSON_REGISTRY})

    def send(self, message: OutboundMessage) -> Receipt:
        persons = self.resource(PERSON_REGISTRY)
        if persons is None:
            raise DeliveryError("this process has no person registry bound (hub.bootstrap binds the security layer's)")
        citizen_id, fields = parse(message.payload)
        applied = persons.apply(citizen_id, fields, source=message.meta.sender,
                                      observed_at=message.meta.received_at, update_id=message.id,
                                      actor=f"adapter:person-registry:{message.meta.sender}")
        # The receipt is kept with the message and shown to its sender: fields, never the ID.
        outcome = "applied" if applied.applied else "already applied"
        return Receipt(f"{outcome} {message.id}", {"fields": list(applied.fields)})

    def check(self) -> Health:
        if self.resource(PERSON_REGISTRY) is None:
            return Health(False, "no person registry bound in this process")
        return Health(True, "shared person registry available")
