"""The data-standards registry: layer 2 as one object for the hub's entry points.

The hub holds one registry (``Hub.standards``); the API routes and ``hub standards ...``
use most of it at once, so it composes the parts and passes calls on. The work is done by:

* :mod:`hub.standards.store`: stored versions (read, insert, deprecate);
* :mod:`hub.standards.artefacts`: the ``standards/`` folders loaded at start;
* :mod:`hub.standards.publishing`: publishing and deprecating, who may, the compatibility
  gate (:mod:`hub.standards.compat`);
* :mod:`hub.standards.edge`: validation of documents and of envelopes at the edge, with
  the compiled-validator cache;
* :mod:`hub.standards.listing`: what the API and the CLI show about versions.

All parts share one clock, so a test's clock moves publishing, sunsets and listings together.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from hub.clock import utcnow
from hub.schemas.envelope import Envelope
from hub.schemas.principal import Principal
from hub.standards import listing
from hub.standards.artefacts import LoadReport, load_published
from hub.standards.catalogue import Catalogue
from hub.standards.edge import EdgeValidator
from hub.standards.model import StandardVersion
from hub.standards.publishing import Publisher, PublishResult
from hub.standards.store import StandardsStore
from hub.standards.validation import Issue


class StandardsRegistry:
    def __init__(self, engine: Engine, standards_dir: Path, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.standards_dir = standards_dir
        self._clock = clock
        self.catalogue = Catalogue.of_standards(standards_dir)
        self.store = StandardsStore(engine, clock=clock)
        self.edge = EdgeValidator(self.store, clock=clock)
        self.publisher = Publisher(self.store, self.catalogue, self.edge, clock=clock)

    def load_published(self) -> LoadReport:
        return load_published(self.standards_dir, self.store, self.publisher)

    # ------------------------------------------------------------------ reading

    def versions(self, standard_id: str) -> list[StandardVersion]:
        return self.store.versions(standard_id)

    def all_versions(self) -> list[StandardVersion]:
        return self.store.all_versions()

    def get(self, standard_id: str, version: str | None = None) -> StandardVersion:
        return self.store.get(standard_id, version)

    def summaries(self) -> list[dict[str, Any]]:
        return listing.summaries(self.store.all_versions(), self.catalogue, self._clock())

    def summary(self, versions: list[StandardVersion]) -> dict[str, Any]:
        return listing.summary(versions, self.catalogue, self._clock())

    def version_status(self, v: StandardVersion) -> dict[str, Any]:
        return listing.version_status(v, self._clock())

    def describe(self, v: StandardVersion) -> dict[str, Any]:
        return listing.describe(v, self._clock())

    # ------------------------------------------------------------------ publishing

    def publish(self, principal: Principal, new: StandardVersion, *, check_examples: bool = True) -> PublishResult:
        return self.publisher.publish(principal, new, check_examples=check_examples)

    def diff(self, standard_id: str, old_version: str, new_version: str) -> dict[str, Any]:
        return self.publisher.diff(standard_id, old_version, new_version)

    def deprecate(self, principal: Principal, standard_id: str, version: str, sunset: date | datetime, *,
                  note: str | None = None, replaced_by: str | None = None) -> StandardVersion:
        return self.publisher.deprecate(principal, standard_id, version, sunset, note=note, replaced_by=replaced_by)

    # ------------------------------------------------------------------ validation

    def validate(self, standard_id: str, version: str | None, document: Any) -> tuple[StandardVersion, list[Issue]]:
        return self.edge.validate(standard_id, version, document)

    def validate_envelope(self, env: Envelope) -> None:
        self.edge.validate_envelope(env)
