"""Validate one document against one standard version.

JSON documents: JSON Schema Draft 2020-12 with format checking (``date``, ``uuid``, ...).
XML documents: parsed only through :func:`hub.standards.safexml.parse_xml`, then checked
with ``lxml``'s XML Schema. A compiled validator is built once per ``id@version`` and
cached by :mod:`hub.standards.edge` (versions are immutable, so it never goes stale); under
that, :func:`compile_validator` keeps the last few compiled per schema content in the
process, so a hub built on a fresh database (each test's, each ``hub bench`` scenario's)
does not check and compile the same published schemas again.

Each violation is an :class:`Issue`: ``path`` is a JSON Pointer into the document
(``/signer/role``; for a missing or unexpected member it points where that member would
be; ``/`` for the document as a whole) or ``line N`` for XML; ``rule`` is the JSON Schema
keyword (``required``, ``enum``, ``pattern``...) or, for XML, the XSD facet or libxml2 error
kind. These are the paths the standards' ``expect`` sidecars use; ``field_errors`` turns
issues into the hub's field errors, pointing from the request member that carried the
document.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from lxml import etree

from hub.errors import FieldError, pointer
from hub.standards.model import XSD_MAIN, StandardVersion, is_xsd_file_name
from hub.standards.safexml import UnsafeXmlError, XmlError, XmlSyntaxError, load_xsd, parse_xml

# jsonschema stops at the first error of a oneOf/anyOf; a document with hundreds of errors
# (a batch file with every line wrong) would make a huge 422, so the list is capped.
MAX_ISSUES = 100


@dataclass(frozen=True)
class Issue:
    path: str
    rule: str
    message: str
    line: int | None = None  # XML: the line (``path`` is then ``line N``)

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "rule": self.rule, "message": self.message}


def field_errors(issues: Iterable[Issue], at: str, *, prefix: str = "") -> list[FieldError]:
    """The issues of a document carried at ``at`` (a JSON Pointer into the request, e.g.
    ``/payload``) as field errors: ``/payload/signer/role``; an XML issue names ``at`` and its line.
    ``prefix`` starts each message (which example failed, say)."""
    return [FieldError(at if i.line is not None or i.path == "/" else at + i.path, i.rule, prefix + i.message,
                       line=i.line) for i in issues]


def _issues_from_error(error: ValidationError) -> Iterator[Issue]:
    # For oneOf/anyOf the top-level error only says "not valid under any of the given
    # schemas"; the most relevant branch error tells the sender what to fix.
    if error.context:
        deepest = best_match(error.context)
        if deepest is not None:
            error = deepest
    base = pointer(*error.absolute_path)
    if error.validator in ("required", "dependentRequired") and isinstance(error.instance, dict):
        names = error.validator_value
        if error.validator == "dependentRequired":
            names = [n for deps in names.values() for n in deps]
        missing = [n for n in names if n not in error.instance]
        for name in missing:
            yield Issue(f"{base}/{name}", str(error.validator), f"{name!r} is required")
        if missing:
            return
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extra = [n for n in error.instance if n not in allowed and not any(p.search(n) for p in patterns)]
        for name in extra:
            yield Issue(f"{base}/{name}", "additionalProperties", f"{name!r} is not a field of this standard")
        if extra:
            return
    yield Issue(base or "/", str(error.validator), error.message)


class JsonDocumentValidator:
    """Two engines: a compiled Rust validator answers "valid?" in microseconds, and only a
    document it refuses is walked again by ``jsonschema`` for the detailed, keyword-named
    errors (the same paths and rules the standards' expect sidecars use). Valid documents
    are the hot path of ``hub bench``'s validated ingest; ``jsonschema`` alone costs about
    0.5 ms per telework order, the Rust check about 2 µs. A test checks the two engines agree
    on every published example.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        Draft202012Validator.check_schema(schema)
        self._validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        self._fast = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)

    def validate(self, document: Any) -> list[Issue]:
        if self._fast.is_valid(document):
            return []
        issues: list[Issue] = []
        for error in self._validator.iter_errors(document):
            issues.extend(_issues_from_error(error))
            if len(issues) >= MAX_ISSUES:
                break
        return issues[:MAX_ISSUES]


_FACET = re.compile(r"\[facet '([A-Za-z]+)'\]")


def _xml_rule(entry: Any) -> str:
    facet = _FACET.search(entry.message)
    if facet:
        return facet.group(1)
    # e.g. SCHEMAV_CVC_COMPLEX_TYPE_2_4 -> cvc-complex-type-2-4 (the XSD spec's rule id)
    return entry.type_name.lower().removeprefix("schemav_").replace("_", "-")


def compile_xsd(files: dict[str, str]) -> etree.XMLSchema:
    """Build a schema from in-memory files by way of ``load_xsd``.

    ``load_xsd`` is the one vetted schema loader (imports confined to the folder, every
    file through the safe parser); a private temporary folder lets stored schemas use it.
    """
    if XSD_MAIN not in files:
        raise XmlError(f"an XML standard needs {XSD_MAIN}")
    folder = Path(tempfile.mkdtemp(prefix="hub-xsd-"))
    try:
        for name, text in files.items():
            if not is_xsd_file_name(name):
                raise XmlError(f"schema file name {name!r} is not a plain *.xsd name")
            (folder / name).write_text(text, encoding="utf-8")
        return load_xsd(folder / XSD_MAIN)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class XmlDocumentValidator:
    def __init__(self, files: dict[str, str]) -> None:
        self._schema = compile_xsd(files)
        # An XMLSchema keeps its error_log on the object, so two threads validating at
        # once would read each other's errors; one lock per compiled schema is enough
        # (XML standards carry letters, not high-rate telemetry).
        self._lock = threading.Lock()

    def validate(self, document: Any) -> list[Issue]:
        if isinstance(document, bytes):
            data: bytes | str = document
        elif isinstance(document, str):
            data = document
        else:
            return [Issue("/", "type", "an XML standard needs the document as XML text")]
        try:
            root = parse_xml(data)
        except UnsafeXmlError as exc:
            return [Issue("line 1", f"unsafe-xml:{exc.reason}", str(exc), line=1)]
        except XmlSyntaxError as exc:
            return [Issue(f"line {exc.line or 1}", "well-formed", str(exc), line=exc.line or 1)]
        with self._lock:
            if self._schema.validate(root):
                return []
            entries = list(self._schema.error_log)
        return [Issue(f"line {e.line}", _xml_rule(e), e.message, line=e.line) for e in entries[:MAX_ISSUES]]


# Compiled validators hold no per-document state (the XML one locks around its error log), so
# hubs in one process can share them; keyed by a digest of the schema alone.
_COMPILED_MAX = 256
_compiled: dict[str, JsonDocumentValidator | XmlDocumentValidator] = {}
_compiled_lock = threading.Lock()


def compile_validator(version: StandardVersion) -> JsonDocumentValidator | XmlDocumentValidator:
    if version.is_json:
        if version.schema is None:
            raise ValueError(f"{version.ref} has no JSON schema")
        content = b"json\0" + orjson.dumps(version.schema, option=orjson.OPT_SORT_KEYS)
    else:
        content = b"xsd\0" + orjson.dumps(version.xsd_files or {}, option=orjson.OPT_SORT_KEYS)
    key = hashlib.sha256(content).hexdigest()
    with _compiled_lock:
        cached = _compiled.get(key)
    if cached is not None:
        return cached
    # A schema that does not compile raises here and is not remembered.
    validator = (JsonDocumentValidator(version.schema) if version.is_json
                 else XmlDocumentValidator(version.xsd_files or {}))
    with _compiled_lock:
        if len(_compiled) >= _COMPILED_MAX:
            _compiled.pop(next(iter(_compiled)))  # the oldest: a process sees few schemas
        return _compiled.setdefault(key, validator)
