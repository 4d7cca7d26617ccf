"""The published artefacts at start: every ``standards/<id>/<version>/`` folder the database lacks.

Idempotent: a folder already stored with the same content is left alone; a folder whose
content differs from the stored version is reported, never applied (versions are
immutable: publish a new version instead of editing one). A folder goes through the same
publishing path, gate included, as a version published through the API.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlalchemy.exc import OperationalError, ProgrammingError

from hub.errors import Conflict, Forbidden, ValidationFailed
from hub.schemas.principal import Principal
from hub.standards.model import ArtefactError, load_folder, published_folders
from hub.standards.publishing import Publisher
from hub.standards.store import StandardsStore

log = logging.getLogger(__name__)

# The artefacts are reviewed in git before they reach the folder: they publish as a hub admin.
ARTEFACTS = Principal(subject="hub:published-artefacts", roles=frozenset({"admin"}))


@dataclass
class LoadReport:
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def load_published(standards_dir: Path, store: StandardsStore, publisher: Publisher) -> LoadReport:
    """Insert every published artefact folder the database does not have yet."""
    report = LoadReport()
    if not standards_dir.is_dir():
        log.warning("standards folder %s not found; set HUB_STANDARDS_DIR", standards_dir)
        return report
    try:
        stored = store.content_hashes()
    except (OperationalError, ProgrammingError) as exc:
        # build_hub(upgrade_schema=False) on a database not yet migrated: nothing to load into.
        log.warning("standards tables not available (%s); run `hub db upgrade`", type(exc).__name__)
        return report
    for folder in published_folders(standards_dir):
        ref = f"{folder.parent.name}@{folder.name}"
        try:
            version = load_folder(folder)
        except (ArtefactError, OSError, orjson.JSONDecodeError, KeyError) as exc:
            report.refused[ref] = f"unreadable artefact: {exc}"
            log.error("standard %s not loaded: %s", ref, exc)
            continue
        key = (version.id, version.version)
        if key in stored:
            if stored[key] == version.content_sha256:
                report.unchanged.append(ref)
            else:
                # Published versions are immutable: the stored one stays authoritative.
                report.differs.append(ref)
                log.warning("standards/%s/%s differs from the published %s; the published version is kept "
                            "(publish a new version instead of editing one)", version.id, version.version, ref)
            continue
        try:
            # The artefacts are reviewed in git and their examples are checked by the test
            # suite, so start-up skips re-validating them; the gate still runs.
            result = publisher.publish(ARTEFACTS, version, check_examples=False)
        except (ValidationFailed, Conflict, Forbidden) as exc:
            report.refused[ref] = exc.message
            log.error("standard %s not loaded: %s", ref, exc.message)
            continue
        (report.loaded if result.created else report.unchanged).append(ref)
    return report
