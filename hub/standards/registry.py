"""The data-standards registry: publish, list, validate, diff, deprecate, document.

Features
--------
* **Published artefacts at start**: :meth:`StandardsRegistry.load_published` inserts every
  ``standards/<id>/<version>/`` folder not yet in the database (idempotent; a folder whose
  content differs from the stored version is reported, never applied: versions are
  immutable).
* **Publish** (:meth:`publish`): only the lead agency of the standard's Back Office system
  (per the catalogue) or a hub admin; semver; immutable (same content again is a no-op,
  different content is ``409``); the schema must compile, valid examples must validate and
  invalid ones must fail; the **compatibility gate** (:mod:`hub.standards.compat`) refuses a
  minor/patch version that would refuse a document its predecessor accepted (and checks
  the next version up in the same major too, when a version is slotted in between).
* **Deprecate** with a sunset: from the sunset on, messages declaring the version are
  refused at the edge.
* **Validation at the edge** (:meth:`validate_envelope`, registered with
  ``MessageService.add_validator``): compiled validators are cached per ``id@version``;
  the deprecation status is re-read at most every ``STATUS_TTL_SECONDS`` so that a
  deprecation made by another process (the CLI) takes effect without a restart.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from typing import Any

import orjson
from jsonschema.exceptions import SchemaError
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from hub.clock import as_utc, utcnow
from hub.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed, pointer
from hub.schemas.envelope import XML_TYPES, Envelope
from hub.schemas.principal import Principal
from hub.standards import compat
from hub.standards.catalogue import Catalogue
from hub.standards.compat import Change
from hub.standards.model import (
    ACTIVE,
    DEPRECATED,
    JSON_CT,
    XSD_MAIN,
    ArtefactError,
    Example,
    StandardVersion,
    check_identity,
    is_xsd_file_name,
    load_folder,
    parse_semver,
    published_folders,
    split_ref,
)
from hub.standards.safexml import XmlError
from hub.standards.tables import standard_events, standard_versions
from hub.standards.validation import (
    Issue, JsonDocumentValidator, XmlDocumentValidator, compile_validator, field_errors,
)

log = logging.getLogger(__name__)

# Thailand has no daylight saving: a fixed +07:00 needs no tz database on the host.
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")
STATUS_TTL_SECONDS = 2.0
ARTEFACTS = Principal(subject="hub:published-artefacts", roles=frozenset({"admin"}))


def sunset_moment(value: date | datetime) -> datetime:
    """A date means the start of that day in Bangkok; a naive datetime is taken as UTC."""
    if isinstance(value, datetime):
        return as_utc(value)
    return datetime.combine(value, dtime(0), BANGKOK).astimezone(UTC)


def _change_pointer(path: str) -> str:
    """A compatibility break as an error's field: where it is in the standard's documents.

    JSON changes carry a pointer already (``/`` meaning the document as a whole); an XSD
    component key (``type:ram:PartyType/JobTitle``) is split into one.
    """
    if path == "/":
        return ""
    return path if path.startswith("/") else pointer(*path.split("/"))


@dataclass(frozen=True)
class PublishResult:
    version: StandardVersion
    created: bool
    compared_with: str | None = None
    changes: list[Change] = field(default_factory=list)


@dataclass
class LoadReport:
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    differs: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


@dataclass
class _Compiled:
    version: StandardVersion
    validator: JsonDocumentValidator | XmlDocumentValidator
    checked_at: float


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


def version_from_request(body: Any) -> StandardVersion:
    """Turn a :class:`hub.schemas.standards.PublishIn` into a :class:`StandardVersion`."""
    meta = dict(body.meta)
    try:
        check_identity(body.id, body.version, meta)
    except ArtefactError as exc:
        raise ValidationFailed(str(exc), errors=[FieldError("/meta", "metadata", str(exc))]) from exc
    meta["id"], meta["version"] = body.id, body.version
    meta["status"] = ACTIVE
    content_type = meta["content_type"]
    schema: dict[str, Any] | None = None
    xsd_files: dict[str, str] | None = None
    if content_type == JSON_CT:
        if not isinstance(body.schema_, dict):
            raise ValidationFailed("an application/json standard needs a JSON Schema object",
                                   errors=[FieldError("/schema", "type", "expected a JSON object")])
        schema = dict(body.schema_)
        schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
        expected_id = f"urn:th:hub:standard:{body.id}:{body.version}"
        schema.setdefault("$id", expected_id)
        if schema["$id"] != expected_id or schema["$schema"] != "https://json-schema.org/draft/2020-12/schema":
            raise ValidationFailed(
                "the schema must be JSON Schema 2020-12 with $id " + expected_id,
                errors=[FieldError("/schema/$id", "const", f"$id {expected_id}, $schema draft 2020-12")],
            )
        if body.schema_files:
            raise ValidationFailed("schema_files are for XSD standards",
                                   errors=[FieldError("/schema_files", "not_allowed", "only for application/xml")])
    else:
        if not isinstance(body.schema_, str):
            raise ValidationFailed("an application/xml standard needs the main XSD as text",
                                   errors=[FieldError("/schema", "type", "expected a string (XSD)")])
        bad = [n for n in body.schema_files if not is_xsd_file_name(n) or n == XSD_MAIN]
        if bad:
            raise ValidationFailed(f"schema file names {bad} are not allowed",
                                   errors=[FieldError("/schema_files", "pattern", "plain *.xsd names, not schema.xsd")])
        xsd_files = {XSD_MAIN: body.schema_, **dict(sorted(body.schema_files.items()))}
    examples = tuple(Example(e.name, e.kind, e.document, e.expect) for e in body.examples)
    names = [(e.kind, e.name) for e in examples]
    if len(set(names)) != len(names):
        raise ValidationFailed("example names must be unique per kind",
                               errors=[FieldError("/examples", "unique", "duplicate example name")])
    return StandardVersion(id=body.id, version=body.version, content_type=content_type, meta=meta, schema=schema,
                           xsd_files=xsd_files, examples=examples, source="api")


class StandardsRegistry:
    def __init__(self, engine: Engine, standards_dir: Path, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self.standards_dir = standards_dir
        self._clock = clock
        self._lock = threading.Lock()
        self._compiled: dict[str, _Compiled] = {}
        catalogue_path = standards_dir / "catalogue" / "backoffice-systems.json"
        if catalogue_path.is_file():
            self.catalogue = Catalogue.load(catalogue_path)
        else:
            # Without a catalogue nobody but a hub admin can publish: safe, and said loudly.
            log.warning("no Back Office catalogue at %s; only hub admins can publish standards", catalogue_path)
            self.catalogue = Catalogue.empty()

    # ------------------------------------------------------------------ loading

    def load_published(self) -> LoadReport:
        """Insert every published artefact folder the database does not have yet."""
        report = LoadReport()
        if not self.standards_dir.is_dir():
            log.warning("standards folder %s not found; set HUB_STANDARDS_DIR", self.standards_dir)
            return report
        try:
            with self._engine.connect() as conn:
                stored = {(r.standard_id, r.version): r.content_sha256 for r in conn.execute(
                    select(standard_versions.c.standard_id, standard_versions.c.version,
                           standard_versions.c.content_sha256))}
        except (OperationalError, ProgrammingError) as exc:
            # build_hub(upgrade_schema=False) on a database not yet migrated: nothing to load into.
            log.warning("standards tables not available (%s); run `hub db upgrade`", type(exc).__name__)
            return report
        for folder in published_folders(self.standards_dir):
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
                result = self.publish(ARTEFACTS, version, check_examples=False)
            except (ValidationFailed, Conflict, Forbidden) as exc:
                report.refused[ref] = exc.message
                log.error("standard %s not loaded: %s", ref, exc.message)
                continue
            (report.loaded if result.created else report.unchanged).append(ref)
        return report

    # ------------------------------------------------------------------ reading

    def versions(self, standard_id: str) -> list[StandardVersion]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(standard_versions).where(standard_versions.c.standard_id == standard_id)
                .order_by(standard_versions.c.major, standard_versions.c.minor, standard_versions.c.patch)
            ).mappings().all()
        return [_row_to_version(r) for r in rows]

    def all_versions(self) -> list[StandardVersion]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(standard_versions).order_by(standard_versions.c.standard_id, standard_versions.c.major,
                                                   standard_versions.c.minor, standard_versions.c.patch)
            ).mappings().all()
        return [_row_to_version(r) for r in rows]

    def get(self, standard_id: str, version: str | None = None) -> StandardVersion:
        """One version; without ``version``, the newest one not past its sunset."""
        if version is None:
            versions = self.versions(standard_id)
            if not versions:
                raise NotFound(f"no standard {standard_id!r}")
            usable = [v for v in versions if not self._past_sunset(v)]
            return (usable or versions)[-1]
        with self._engine.connect() as conn:
            row = conn.execute(select(standard_versions).where(
                standard_versions.c.standard_id == standard_id, standard_versions.c.version == version,
            )).mappings().first()
        if row is None:
            raise NotFound(f"no standard {standard_id}@{version}")
        return _row_to_version(row)

    def get_ref(self, ref: str) -> StandardVersion:
        standard_id, version = split_ref(ref)
        return self.get(standard_id, version)

    def summaries(self) -> list[dict[str, Any]]:
        by_id: dict[str, list[StandardVersion]] = {}
        for v in self.all_versions():
            by_id.setdefault(v.id, []).append(v)
        return [self.summary(versions) for versions in by_id.values()]

    def summary(self, versions: list[StandardVersion]) -> dict[str, Any]:
        usable = [v for v in versions if not self._past_sunset(v)]
        latest = (usable or versions)[-1]
        system = self.catalogue.systems.get(latest.backoffice_system)
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
            "versions": [self.version_status(v) for v in versions],
        }

    def version_status(self, v: StandardVersion) -> dict[str, Any]:
        return {
            "version": v.version,
            "status": v.status,
            "sunset_at": v.sunset_at.isoformat() if v.sunset_at else None,
            "past_sunset": self._past_sunset(v),
            "replaced_by": v.replaced_by,
            "published_at": v.published_at.isoformat() if v.published_at else None,
            "published_by": v.published_by,
        }

    def describe(self, v: StandardVersion) -> dict[str, Any]:
        return {
            "id": v.id,
            "version": v.version,
            "ref": v.ref,
            "content_type": v.content_type,
            "meta": v.meta,
            **self.version_status(v),
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

    # ------------------------------------------------------------------ publishing

    def authorize(self, principal: Principal, system_key: str, standard_id: str, action: str = "publish") -> None:
        """The rule from the Back Office framework: the lead agency owns the system's standards."""
        if principal.is_admin:
            return
        system = self.catalogue.systems.get(system_key)
        leads = system.leads if system else ()
        if principal.member is not None and principal.member in leads:
            return
        role = system.role_of(principal.member) if system else None
        who = principal.member or principal.subject
        as_role = f" (it is {role} in that system)" if role else ""
        raise Forbidden(
            f"only the lead agency of Back Office system {system_key!r} ({', '.join(leads) or 'none'}) or a hub "
            f"admin may {action} {standard_id}; {who} is not{as_role}",
            errors=[FieldError("/principal", "lead_agency_only",
                               f"{action} is reserved to the lead agency of {system_key!r} or a hub admin")],
        )

    def publish(self, principal: Principal, new: StandardVersion, *, check_examples: bool = True) -> PublishResult:
        system = self.catalogue.systems.get(new.backoffice_system)
        if system is None and self.catalogue.systems:
            raise ValidationFailed(
                f"unknown Back Office system {new.backoffice_system!r}",
                errors=[FieldError("/meta/backoffice_system", "enum",
                                   f"one of {', '.join(sorted(self.catalogue.systems))}")],
            )
        if self.catalogue.agencies and new.owner_agency not in self.catalogue.agencies:
            raise ValidationFailed(
                f"owner agency {new.owner_agency!r} is not in the catalogue's agency directory",
                errors=[FieldError("/meta/owner_agency", "catalogue", "an agency listed in the catalogue")],
            )
        existing = self.versions(new.id)
        if existing and existing[-1].backoffice_system != new.backoffice_system and not principal.is_admin:
            raise ValidationFailed(
                f"{new.id} belongs to Back Office system {existing[-1].backoffice_system!r}; only a hub admin "
                "may move it to another system",
                errors=[FieldError("/meta/backoffice_system", "const", existing[-1].backoffice_system)],
            )
        # Authorise against the system the standard already belongs to, so a lead of another
        # system cannot take a standard over by naming its own system in the new version.
        self.authorize(principal, existing[-1].backoffice_system if existing else new.backoffice_system, new.id)

        same = next((v for v in existing if v.version == new.version), None)
        if same is not None:
            return self._republished(same, new)

        validator = self._compile_for_publish(new)
        # The gate first: when a change breaks compatibility the examples usually fail too,
        # and "which changes break senders" is the more useful answer.
        compared_with, changes = self._gate(new, existing)
        if check_examples:
            self._check_examples(new, validator)

        now = self._clock()
        major, minor, patch = new.semver
        values = {
            "standard_id": new.id, "version": new.version, "major": major, "minor": minor, "patch": patch,
            "content_type": new.content_type, "backoffice_system": new.backoffice_system,
            "owner_agency": new.owner_agency, "meta": new.meta, "schema_json": new.schema,
            "xsd_files": new.xsd_files, "examples": [e.as_dict() for e in new.examples],
            "content_sha256": new.content_sha256, "status": ACTIVE, "published_by": principal.subject,
            "published_at": now, "source": new.source,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(standard_versions).values(values))
                conn.execute(insert(standard_events).values(
                    standard_id=new.id, version=new.version, at=now, kind="published", actor=principal.subject,
                    detail={"content_sha256": new.content_sha256, "compared_with": compared_with,
                            "source": new.source},
                ))
        except IntegrityError:
            # Another process published the same id@version between our read and insert.
            return self._republished(self.get(new.id, new.version), new)
        stored = new.with_status(published_by=principal.subject, published_at=now, status=ACTIVE)
        with self._lock:
            self._compiled[stored.ref] = _Compiled(stored, validator, time.monotonic())
        return PublishResult(stored, True, compared_with, changes)

    def _republished(self, stored: StandardVersion, new: StandardVersion) -> PublishResult:
        if stored.content_sha256 == new.content_sha256:
            return PublishResult(stored, False)
        raise Conflict(
            f"{new.ref} is already published with different content; published versions are immutable, "
            "publish a new version instead",
            errors=[FieldError("/version", "immutable", f"{new.ref} exists (sha256 {stored.content_sha256[:12]}…)")],
        )

    def _compile_for_publish(self, new: StandardVersion) -> JsonDocumentValidator | XmlDocumentValidator:
        try:
            return compile_validator(new)
        except SchemaError as exc:
            where = pointer("schema", *exc.absolute_path)
            raise ValidationFailed(f"the schema is not valid JSON Schema 2020-12: {exc.message}",
                                   errors=[FieldError(where, str(exc.validator), exc.message)]) from exc
        except (XmlError, OSError) as exc:
            raise ValidationFailed(f"the XML Schema does not compile: {exc}",
                                   errors=[FieldError("/schema", "xsd", str(exc))]) from exc

    def _check_examples(self, new: StandardVersion, validator: JsonDocumentValidator | XmlDocumentValidator) -> None:
        """A standard's examples are its documentation: a wrong example is refused like a wrong schema."""
        errors: list[FieldError] = []
        if not any(e.kind == "valid" for e in new.examples):
            errors.append(FieldError("/examples", "min_valid", "publish at least one valid example"))
        for index, example in enumerate(new.examples):  # in the order of the request's examples
            issues = validator.validate(example.document)
            if example.kind == "valid" and issues:
                errors.extend(field_errors(issues, pointer("examples", index, "document"),
                                           prefix=f"valid example {example.name!r} fails: "))
            elif example.kind == "invalid" and not issues:
                errors.append(FieldError(pointer("examples", index), "must_fail",
                                         f"the invalid example {example.name!r} validates against the schema"))
        if errors:
            raise ValidationFailed(f"the examples of {new.ref} do not match its schema", errors=errors)

    def _gate(self, new: StandardVersion, existing: list[StandardVersion]) -> tuple[str | None, list[Change]]:
        """BACKWARD compatibility within a major version (Confluent Schema Registry's rule)."""
        below = [v for v in existing if v.semver < new.semver]
        above = [v for v in existing if v.semver > new.semver and v.semver[0] == new.semver[0]]
        previous = below[-1] if below else None
        changes: list[Change] = []
        problems: list[tuple[str, Change]] = []
        if previous is not None:
            changes = compat.compare(previous, new)
            if previous.semver[0] == new.semver[0]:
                problems += [(previous.ref, c) for c in compat.breaking(changes)]
        if above:
            # Slotting 1.1.1 in below an existing 1.2.0: 1.2.0 must still accept what 1.1.1 accepts.
            problems += [(above[0].ref, c) for c in compat.breaking(compat.compare(new, above[0]))]
        if problems:
            errors = [FieldError(_change_pointer(c.path), c.kind, f"{c.message} (against {ref})") for ref, c in problems]
            raise ValidationFailed(
                f"{new.ref} is not backward compatible with {problems[0][0]}: {len(problems)} breaking change(s); "
                f"a minor or patch version must accept every document the previous version accepted — "
                f"publish it as {new.semver[0] + 1}.0.0 if the break is intended",
                errors=errors, compatibility="BACKWARD",
            )
        return (previous.ref if previous else None), changes

    def diff(self, standard_id: str, old_version: str, new_version: str) -> dict[str, Any]:
        old, new = self.get(standard_id, old_version), self.get(standard_id, new_version)
        changes = compat.compare(old, new)
        same_major = old.semver[0] == new.semver[0]
        return {
            "id": standard_id, "from": old.version, "to": new.version,
            "compatible": not compat.breaking(changes),
            "gate_applies": same_major and new.semver > old.semver,
            "changes": [c.as_dict() for c in changes],
        }

    # ------------------------------------------------------------------ deprecation

    def deprecate(self, principal: Principal, standard_id: str, version: str, sunset: date | datetime, *,
                  note: str | None = None, replaced_by: str | None = None) -> StandardVersion:
        current = self.get(standard_id, version)
        self.authorize(principal, current.backoffice_system, standard_id, action="deprecate")
        if replaced_by is not None:
            self.get(standard_id, replaced_by)  # NotFound names it
            if parse_semver(replaced_by) <= current.semver:
                raise ValidationFailed("replaced_by must be a later version",
                                       errors=[FieldError("/replaced_by", "later_version", f"after {version}")])
        now = self._clock()
        sunset_at = sunset_moment(sunset)
        with self._engine.begin() as conn:
            conn.execute(update(standard_versions).where(
                standard_versions.c.standard_id == standard_id, standard_versions.c.version == version,
            ).values(status=DEPRECATED, deprecated_at=current.deprecated_at or now, sunset_at=sunset_at,
                     deprecation_note=note, replaced_by=replaced_by))
            conn.execute(insert(standard_events).values(
                standard_id=standard_id, version=version, at=now, kind="deprecated", actor=principal.subject,
                detail={"sunset_at": sunset_at.isoformat(), "note": note, "replaced_by": replaced_by},
            ))
        with self._lock:
            self._compiled.pop(f"{standard_id}@{version}", None)
        return self.get(standard_id, version)

    def _past_sunset(self, v: StandardVersion) -> bool:
        return v.status == DEPRECATED and v.sunset_at is not None and self._clock() >= v.sunset_at

    # ------------------------------------------------------------------ validation

    def _compiled_for(self, standard_id: str, version: str) -> _Compiled:
        ref = f"{standard_id}@{version}"
        with self._lock:
            entry = self._compiled.get(ref)
        if entry is not None and time.monotonic() - entry.checked_at < STATUS_TTL_SECONDS:
            return entry
        if entry is not None:
            # Content is immutable; only the deprecation columns can have changed elsewhere.
            fresh = self._status_of(standard_id, version, entry.version)
            entry = _Compiled(fresh, entry.validator, time.monotonic())
        else:
            stored = self.get(standard_id, version)
            entry = _Compiled(stored, compile_validator(stored), time.monotonic())
        with self._lock:
            self._compiled[ref] = entry
        return entry

    def _status_of(self, standard_id: str, version: str, cached: StandardVersion) -> StandardVersion:
        with self._engine.connect() as conn:
            row = conn.execute(select(
                standard_versions.c.status, standard_versions.c.sunset_at, standard_versions.c.deprecated_at,
                standard_versions.c.replaced_by, standard_versions.c.deprecation_note,
            ).where(standard_versions.c.standard_id == standard_id,
                    standard_versions.c.version == version)).mappings().first()
        if row is None:
            return cached
        return cached.with_status(status=row["status"], sunset_at=as_utc(row["sunset_at"]),
                                  deprecated_at=as_utc(row["deprecated_at"]), replaced_by=row["replaced_by"],
                                  deprecation_note=row["deprecation_note"])

    def validate(self, standard_id: str, version: str | None, document: Any) -> tuple[StandardVersion, list[Issue]]:
        """Check a document; the answer lists every violation (empty when valid)."""
        if version is None:
            version = self.get(standard_id).version
        entry = self._compiled_for(standard_id, version)
        return entry.version, entry.validator.validate(document)

    def validate_envelope(self, env: Envelope) -> None:
        """The edge check ``MessageService.accept`` runs before storing a message.

        Cheap on the hot path: one dict lookup for the cached validator, a status re-read at
        most every STATUS_TTL_SECONDS per standard, then the validation itself.
        """
        if env.standard is None:
            return
        standard_id, version = split_ref(env.standard)
        if version is None:  # the envelope's pattern requires id@X.Y.Z; kept for direct callers
            raise ValidationFailed(f"standard {env.standard!r} must name a version (id@X.Y.Z)",
                                   errors=[FieldError("/standard", "pattern", "id@MAJOR.MINOR.PATCH")])
        try:
            entry = self._compiled_for(standard_id, version)
        except NotFound as exc:
            raise ValidationFailed(
                f"the message declares standard {env.standard}, which is not published in this hub",
                errors=[FieldError("/standard", "unknown_standard",
                                   f"{env.standard} is not published; see GET /v1/standards")],
            ) from exc
        stored = entry.version
        if self._past_sunset(stored):
            hint = f"; use {stored.id}@{stored.replaced_by}" if stored.replaced_by else ""
            raise ValidationFailed(
                f"standard {env.standard} was deprecated and its sunset ({stored.sunset_at.isoformat()}) has "
                f"passed{hint}",
                errors=[FieldError("/standard", "sunset", f"{env.standard} is past its sunset{hint}")],
            )
        declared_xml = env.content_type in XML_TYPES
        if declared_xml == stored.is_json:
            raise ValidationFailed(
                f"standard {env.standard} is {stored.content_type}, the message says {env.content_type}",
                errors=[FieldError("/content_type", "standard_content_type", f"expected {stored.content_type}")],
            )
        issues = entry.validator.validate(env.payload)
        if issues:
            errors = field_errors(issues, "/payload")
            raise ValidationFailed(
                f"the payload does not conform to {env.standard}: {len(issues)} violation(s)",
                errors=errors, standard=env.standard,
            )


__all__ = ["LoadReport", "PublishResult", "StandardsRegistry", "sunset_moment", "version_from_request"]
