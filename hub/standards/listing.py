"""What the API and the CLI show about stored versions: per standard, per version, in full.

Plain dictionaries built from :class:`StandardVersion` values, the catalogue (for the
names of a Back Office system) and the current time (a version past its sunset is said to
be, and "latest" skips it).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.standards.catalogue import Catalogue
from hub.standards.lifecycle import newest_usable, past_sunset
from hub.standards.model import StandardVersion


def version_status(v: StandardVersion, now: datetime) -> dict[str, Any]:
    return {
        "version": v.version,
        "status": v.status,
        "sunset_at": v.sunset_at.isoformat() if v.sunset_at else None,
        "past_sunset": past_sunset(v, now),
        "replaced_by": v.replaced_by,
        "published_at": v.published_at.isoformat() if v.published_at else None,
        "published_by": v.published_by,
    }


def summary(versions: list[StandardVersion], catalogue: Catalogue, now: datetime) -> dict[str, Any]:
    """One standard: its latest usable version's metadata and every version's status."""
    latest = newest_usable(versions, now)
    system = catalogue.systems.get(latest.backoffice_system)
    return {
        "id": latest.id,
        "latest": latest.version,
        "content_type": latest.content_type,
        "backoffice_system": latest.backoffice_system,
        "backoffice_system_name_en": system.name_en if system else None,
        "backoffice_system_name_th": system.name_th if system else None,
        "owner_agency": latest.owner_agency,
        "summary_en": latest.meta.get("summary_en"),
        "summary_th": latest.meta.get("summary_th"),
        "versions": [version_status(v, now) for v in versions],
    }


def summaries(versions: list[StandardVersion], catalogue: Catalogue, now: datetime) -> list[dict[str, Any]]:
    """A :func:`summary` per standard of ``versions`` (ordered by id, then oldest first)."""
    by_id: dict[str, list[StandardVersion]] = {}
    for v in versions:
        by_id.setdefault(v.id, []).append(v)
    return [summary(same_id, catalogue, now) for same_id in by_id.values()]


def describe(v: StandardVersion, now: datetime) -> dict[str, Any]:
    """One version in full: metadata, status, examples and the links to its schema, docs and check."""
    return {
        "id": v.id,
        "version": v.version,
        "ref": v.ref,
        "content_type": v.content_type,
        "meta": v.meta,
        **version_status(v, now),
        "deprecation_note": v.deprecation_note,
        "content_sha256": v.content_sha256,
        "schema_files": list(v.xsd_files or {"schema.json": None}),
        "examples": [e.as_dict() for e in v.examples],
        "links": {
            "schema": f"/v1/standards/{v.id}/{v.version}/schema",
            "docs": f"/v1/standards/{v.id}/{v.version}/docs",
            "validate": f"/v1/standards/{v.id}/{v.version}/validate",
        },
    }
