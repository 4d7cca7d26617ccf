"""Publishing and deprecating standard versions, and who may do either.

Features
--------
* **Who**: only the lead agency of the standard's Back Office system (per the catalogue,
  :mod:`hub.standards.catalogue`) or a hub admin publishes or deprecates; the system a
  standard already belongs to decides, so a lead of another system cannot take it over.
* **What**: semver; immutable (the same content again is a no-op, different content is
  ``409``); the schema must compile, valid examples must validate and invalid ones must fail.
* **The compatibility gate** (:mod:`hub.standards.compat`) refuses a minor/patch version that
  would refuse a document its predecessor accepted, naming each breaking change with its
  path; it checks the next version up in the same major too, when a version is slotted in
  between.
* **Deprecate** with a sunset (:mod:`hub.standards.lifecycle`): from the sunset on, messages
  declaring the version are refused at the edge (:mod:`hub.standards.edge`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jsonschema.exceptions import SchemaError

from hub.clock import utcnow
from hub.errors import Conflict, FieldError, Forbidden, ValidationFailed, pointer
from hub.schemas.principal import Principal
from hub.standards import compat
from hub.standards.catalogue import Catalogue
from hub.standards.compat.change import Change
from hub.standards.edge import EdgeValidator
from hub.standards.lifecycle import sunset_moment
from hub.standards.model import (
    ACTIVE,
    JSON_CT,
    XSD_MAIN,
    ArtefactError,
    Example,
    StandardVersion,
    check_identity,
    is_xsd_file_name,
    parse_semver,
)
from hub.standards.safexml import XmlError
from hub.standards.store import StandardsStore
from hub.standards.validation import JsonDocumentValidator, XmlDocumentValidator, compile_validator, field_errors


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


class Publisher:
    """Publishes into the store; hands each validator it compiles to the edge's cache."""

    def __init__(self, store: StandardsStore, catalogue: Catalogue, edge: EdgeValidator, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._edge = edge
        self._clock = clock
        self.catalogue = catalogue

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
        existing = self._store.versions(new.id)
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

        stored = new.with_status(published_by=principal.subject, published_at=self._clock(), status=ACTIVE)
        if not self._store.insert(stored, compared_with=compared_with):
            # Another process published the same id@version between our read and insert.
            return self._republished(self._store.get(new.id, new.version), new)
        self._edge.remember(stored, validator)
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
        """Every change between two stored versions, and whether the gate would pass it."""
        old, new = self._store.get(standard_id, old_version), self._store.get(standard_id, new_version)
        changes = compat.compare(old, new)
        same_major = old.semver[0] == new.semver[0]
        return {
            "id": standard_id, "from": old.version, "to": new.version,
            "compatible": not compat.breaking(changes),
            "gate_applies": same_major and new.semver > old.semver,
            "changes": [c.as_dict() for c in changes],
        }

    def deprecate(self, principal: Principal, standard_id: str, version: str, sunset: date | datetime, *,
                  note: str | None = None, replaced_by: str | None = None) -> StandardVersion:
        current = self._store.get(standard_id, version)
        self.authorize(principal, current.backoffice_system, standard_id, action="deprecate")
        if replaced_by is not None:
            self._store.get(standard_id, replaced_by)  # NotFound names it
            if parse_semver(replaced_by) <= current.semver:
                raise ValidationFailed("replaced_by must be a later version",
                                       errors=[FieldError("/replaced_by", "later_version", f"after {version}")])
        self._store.deprecate(current, sunset_at=sunset_moment(sunset), note=note, replaced_by=replaced_by,
                              actor=principal.subject, at=self._clock())
        self._edge.forget(current.ref)
        return self._store.get(standard_id, version)
