"""Event types and one-stop application types, read from the published standards.

An event type is a standard whose ``meta.json`` names ``event_type`` (the service, e.g.
``hr.person.changed/v1``), its ``classification`` and its ``subject_field`` (the member that
says whom the event is about: events about one subject reach a subscriber in order). Its
lead agency is the standard's ``owner_agency``. An application type is a standard whose
``meta.json`` has ``application``: the service, classification and the parts, each with the
responsible agency and the fields it receives. The newest active version of each wins.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.errors import FieldError, ValidationFailed
from hub.refresh_ahead import RefreshAhead
from hub.standards.edge import STATUS_TTL_SECONDS
from hub.standards.model import parse_semver
from hub.standards.registry import StandardsRegistry


@dataclass(frozen=True)
class EventType:
    name: str  # the service, e.g. hr.person.changed/v1
    standard_id: str
    version: str
    owner_agency: str
    classification: str
    subject_field: str | None
    schema: dict[str, Any]
    summary_th: str
    summary_en: str

    @property
    def standard_ref(self) -> str:
        return f"{self.standard_id}@{self.version}"

    def as_dict(self) -> dict[str, Any]:
        return {"event_type": self.name, "standard": self.standard_ref, "owner_agency": self.owner_agency,
                "classification": self.classification, "subject_field": self.subject_field,
                "summary_th": self.summary_th, "summary_en": self.summary_en}


@dataclass(frozen=True)
class Part:
    name: str
    agency: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ApplicationType:
    standard_id: str
    version: str
    service: str
    classification: str
    owner_agency: str
    parts: tuple[Part, ...]
    summary_th: str

    @property
    def standard_ref(self) -> str:
        return f"{self.standard_id}@{self.version}"

    def as_dict(self) -> dict[str, Any]:
        return {"application_type": self.standard_id, "standard": self.standard_ref, "service": self.service,
                "classification": self.classification, "owner_agency": self.owner_agency,
                "summary_th": self.summary_th,
                "parts": [{"part": p.name, "agency": p.agency, "fields": list(p.fields)} for p in self.parts]}


# Event types are looked up for every published event (twice for one of an unknown name), and
# each look-up read every standard version with its schema: in a fan-out profile a tenth of
# the API process. Kept as long as the edge validator keeps a version's status; a version
# published or deprecated by this process is seen at once.
CATALOGUE_TTL_SECONDS = STATUS_TTL_SECONDS


class Catalogue:
    def __init__(self, standards: StandardsRegistry) -> None:
        self._standards = standards
        self._cache: RefreshAhead[str, list[Any]] = RefreshAhead(self._read_newest, ttl=CATALOGUE_TTL_SECONDS,
                                                                 maxsize=4)
        self._seen_changes = standards.store.changes

    def _newest(self, key: str) -> list[Any]:
        changes = self._standards.store.changes
        if changes != self._seen_changes:
            self._cache.clear()
            self._seen_changes = changes
        cached = self._cache.get(key)
        return cached if cached is not None else self._cache.load_now(key)

    def _read_newest(self, key: str) -> list[Any]:
        newest: dict[str, Any] = {}
        for v in self._standards.all_versions():
            if key not in v.meta or v.meta.get("status", "active") != "active":
                continue
            current = newest.get(v.id)
            if current is None or parse_semver(v.version) > parse_semver(current.version):
                newest[v.id] = v
        return list(newest.values())

    def event_types(self) -> list[EventType]:
        return sorted((EventType(
            name=v.meta["event_type"], standard_id=v.id, version=v.version, owner_agency=v.owner_agency,
            classification=v.meta.get("classification", "001"), subject_field=v.meta.get("subject_field"),
            schema=v.schema or {}, summary_th=v.meta.get("summary_th", ""), summary_en=v.meta.get("summary_en", ""),
        ) for v in self._newest("event_type")), key=lambda e: e.name)

    def event_type(self, name: str, *, at: str = "/event_type") -> EventType:
        for event_type in self.event_types():
            if event_type.name == name:
                return event_type
        known = ", ".join(e.name for e in self.event_types())
        raise ValidationFailed(f"unknown event type {name!r}",
                               errors=[FieldError(at, "known_event_type", f"one of {known}")])

    def find_event_type(self, name: str) -> EventType | None:
        return next((e for e in self.event_types() if e.name == name), None)

    def application_types(self) -> list[ApplicationType]:
        out = []
        for v in self._newest("application"):
            spec = v.meta["application"]
            parts = tuple(Part(p["part"], p["agency"], tuple(p["fields"])) for p in spec["parts"])
            out.append(ApplicationType(v.id, v.version, spec["service"], spec.get("classification", "001"),
                                       v.owner_agency, parts, v.meta.get("summary_th", "")))
        return sorted(out, key=lambda a: a.standard_id)

    def application_type(self, standard_id: str) -> ApplicationType:
        for app_type in self.application_types():
            if app_type.standard_id == standard_id:
                return app_type
        known = ", ".join(a.standard_id for a in self.application_types())
        raise ValidationFailed(f"unknown application type {standard_id!r}",
                               errors=[FieldError("/application_type", "known_application_type", f"one of {known}")])
