"""Where published standard versions are kept (the tables of :mod:`hub.standards.tables`).

A version's content is immutable once inserted; only its deprecation columns change, and
every publication and deprecation is also written to ``standard_events`` (who, when, what)
in the same transaction. The store decides nothing: who may publish what, and whether a
version may be published at all, is :mod:`hub.standards.publishing`'s business.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, ColumnElement, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.clock import as_utc, utcnow
from hub.db import reading
from hub.errors import NotFound
from hub.standards.lifecycle import newest_usable
from hub.standards.model import DEPRECATED, Example, StandardVersion
from hub.standards.tables import standard_events, standard_versions

_SEMVER_ORDER = (standard_versions.c.standard_id, standard_versions.c.major, standard_versions.c.minor,
                 standard_versions.c.patch)


def _row_to_version(row: Any) -> StandardVersion:
    return StandardVersion(
        id=row["standard_id"], version=row["version"], content_type=row["content_type"], meta=row["meta"],
        schema=row["schema_json"], xsd_files=row["xsd_files"],
        examples=tuple(Example(e["name"], e["kind"], e["document"], e.get("expect")) for e in row["examples"]),
        status=row["status"], deprecated_at=as_utc(row["deprecated_at"]), sunset_at=as_utc(row["sunset_at"]),
        deprecation_note=row["deprecation_note"], replaced_by=row["replaced_by"],
        published_by=row["published_by"], published_at=as_utc(row["published_at"]), source=row["source"],
        content_sha256=row["content_sha256"],
    )


def _record_event(conn: Connection, version: StandardVersion, kind: str, at: datetime, actor: str | None,
                  detail: dict[str, Any]) -> None:
    conn.execute(insert(standard_events).values(standard_id=version.id, version=version.version, at=at, kind=kind,
                                                actor=actor, detail=detail))


class StandardsStore:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock
        # Counts this process's writes (published, deprecated): a cache of what it read can
        # tell that it predates one and drop itself at once, not after its lifetime.
        self.changes = 0

    # ------------------------------------------------------------------ reading

    def content_hashes(self) -> dict[tuple[str, str], str]:
        """``(id, version) -> content_sha256`` of every stored version.

        Raises SQLAlchemy's ``OperationalError``/``ProgrammingError`` when the tables do not
        exist yet (a database not migrated).
        """
        with self._engine.connect() as conn:
            return {(r.standard_id, r.version): r.content_sha256 for r in conn.execute(
                select(standard_versions.c.standard_id, standard_versions.c.version,
                       standard_versions.c.content_sha256))}

    def versions(self, standard_id: str) -> list[StandardVersion]:
        """Every version of one standard, oldest first (by semver, so 1.10.0 after 1.9.0)."""
        return self._select(standard_versions.c.standard_id == standard_id)

    def all_versions(self) -> list[StandardVersion]:
        return self._select()

    def _select(self, *where: ColumnElement[bool]) -> list[StandardVersion]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(standard_versions).where(*where).order_by(*_SEMVER_ORDER)).mappings().all()
        return [_row_to_version(r) for r in rows]

    def get(self, standard_id: str, version: str | None = None) -> StandardVersion:
        """One version; without ``version``, the newest one not past its sunset."""
        if version is None:
            versions = self.versions(standard_id)
            if not versions:
                raise NotFound(f"no standard {standard_id!r}")
            return newest_usable(versions, self._clock())
        with reading(self._engine).connect() as conn:
            row = conn.execute(select(standard_versions).where(
                standard_versions.c.standard_id == standard_id, standard_versions.c.version == version,
            )).mappings().first()
        if row is None:
            raise NotFound(f"no standard {standard_id}@{version}")
        return _row_to_version(row)

    def status_of(self, cached: StandardVersion) -> StandardVersion:
        """``cached`` with its deprecation columns re-read (the only columns that change)."""
        with reading(self._engine).connect() as conn:
            row = conn.execute(select(
                standard_versions.c.status, standard_versions.c.sunset_at, standard_versions.c.deprecated_at,
                standard_versions.c.replaced_by, standard_versions.c.deprecation_note,
            ).where(standard_versions.c.standard_id == cached.id,
                    standard_versions.c.version == cached.version)).mappings().first()
        if row is None:
            return cached
        return cached.with_status(status=row["status"], sunset_at=as_utc(row["sunset_at"]),
                                  deprecated_at=as_utc(row["deprecated_at"]), replaced_by=row["replaced_by"],
                                  deprecation_note=row["deprecation_note"])

    # ------------------------------------------------------------------ writing

    def insert(self, stored: StandardVersion, *, compared_with: str | None) -> bool:
        """Insert a version as published (``published_by``/``published_at`` set) with its event.

        False when the id@version is already there: another process published it between
        the caller's read and this insert.
        """
        major, minor, patch = stored.semver
        values = {
            "standard_id": stored.id, "version": stored.version, "major": major, "minor": minor, "patch": patch,
            "content_type": stored.content_type, "backoffice_system": stored.backoffice_system,
            "owner_agency": stored.owner_agency, "meta": stored.meta, "schema_json": stored.schema,
            "xsd_files": stored.xsd_files, "examples": [e.as_dict() for e in stored.examples],
            "content_sha256": stored.content_sha256, "status": stored.status, "published_by": stored.published_by,
            "published_at": stored.published_at, "source": stored.source,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(standard_versions).values(values))
                _record_event(conn, stored, "published", stored.published_at, stored.published_by,
                              {"content_sha256": stored.content_sha256, "compared_with": compared_with,
                               "source": stored.source})
        except IntegrityError:
            return False
        self.changes += 1
        return True

    def deprecate(self, current: StandardVersion, *, sunset_at: datetime, note: str | None,
                  replaced_by: str | None, actor: str, at: datetime) -> None:
        """Mark a version deprecated; a second deprecation keeps the first ``deprecated_at``."""
        with self._engine.begin() as conn:
            conn.execute(update(standard_versions).where(
                standard_versions.c.standard_id == current.id, standard_versions.c.version == current.version,
            ).values(status=DEPRECATED, deprecated_at=current.deprecated_at or at, sunset_at=sunset_at,
                     deprecation_note=note, replaced_by=replaced_by))
            _record_event(conn, current, "deprecated", at, actor,
                          {"sunset_at": sunset_at.isoformat(), "note": note, "replaced_by": replaced_by})
        self.changes += 1
