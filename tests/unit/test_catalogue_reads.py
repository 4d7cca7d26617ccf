"""Event types are read from the published standards once in a while, not on every event, and
a version published by this process is an event type at once."""
from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import migrate
from hub.config import default_standards_dir
from hub.db import make_engine
from hub.integration.catalogue import Catalogue
from hub.schemas.principal import OPERATOR, Principal
from hub.standards.model import StandardVersion, load_folder
from hub.standards.registry import StandardsRegistry

PERSON_CHANGED = default_standards_dir() / "th.hr.person-changed" / "1.0.0"
OCSC = Principal(subject="ocsc-client", roles=frozenset({OPERATOR}), member="TH/GOV/OCSC")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[StandardsRegistry]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.sqlite3'}", sqlite_synchronous="NORMAL")
    migrate.upgrade(engine)
    reg = StandardsRegistry(engine, default_standards_dir())
    assert not reg.load_published().refused
    yield reg
    engine.dispose()


def test_event_types_are_read_once_for_many_events_and_a_new_version_is_seen_at_once(registry, monkeypatch):
    reads = []
    all_versions = registry.store.all_versions
    monkeypatch.setattr(registry.store, "all_versions", lambda: reads.append(1) or all_versions())
    catalogue = Catalogue(registry)

    for _ in range(50):
        assert catalogue.event_type("hr.person.changed/v1").version == "1.0.0"
    assert catalogue.find_event_type("no.such.event/v1") is None
    assert len(reads) == 1

    base = load_folder(PERSON_CHANGED)
    schema = copy.deepcopy(base.schema)
    schema["$id"] = schema["$id"].replace("1.0.0", "1.1.0")
    registry.publish(OCSC, StandardVersion(id=base.id, version="1.1.0", content_type=base.content_type,
                                           meta={**base.meta, "version": "1.1.0"}, schema=schema,
                                           examples=base.examples, source="api"))
    assert catalogue.event_type("hr.person.changed/v1").version == "1.1.0"  # no wait for the cache to lapse
    assert len(reads) == 2
