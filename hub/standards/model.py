"""What a published standard version is, independent of where it is stored.

A :class:`StandardVersion` is built from a ``standards/<id>/<version>/`` folder (the
published artefacts) or from a publish request, and is what the registry stores, validates
against, compares and documents. Pure code: no database, no web framework.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from hub.schemas.standards import ID_PATTERN, SEMVER_PATTERN

JSON_CT = "application/json"
XML_CT = "application/xml"
CONTENT_TYPES = (JSON_CT, XML_CT)
XSD_MAIN = "schema.xsd"

XSD_FILE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.xsd$"
META_REQUIRED = ("owner_agency", "backoffice_system", "summary_en", "summary_th", "business_process", "content_type")

_ID_RE = re.compile(ID_PATTERN)
_SEMVER_RE = re.compile(SEMVER_PATTERN)
_XSD_FILE_RE = re.compile(XSD_FILE_PATTERN)

ACTIVE, DEPRECATED = "active", "deprecated"


class ArtefactError(ValueError):
    """A standards folder or publish request is malformed (not a validation of a document)."""


def parse_semver(version: str) -> tuple[int, int, int]:
    match = _SEMVER_RE.match(version)
    if not match:
        raise ArtefactError(f"version {version!r} is not MAJOR.MINOR.PATCH (semantic versioning, no suffixes)")
    return int(match[1]), int(match[2]), int(match[3])


def is_standard_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def is_xsd_file_name(value: str) -> bool:
    return bool(_XSD_FILE_RE.match(value))


def split_ref(ref: str) -> tuple[str, str | None]:
    """``th.telework.order@1.0.0`` -> (id, version); ``th.telework.order`` -> (id, None)."""
    if "@" in ref:
        standard_id, version = ref.split("@", 1)
        return standard_id, version
    return ref, None


@dataclass(frozen=True)
class Example:
    name: str
    kind: str  # "valid" | "invalid"
    document: Any  # JSON value, or the XML text
    expect: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "document": self.document, "expect": self.expect}


@dataclass(frozen=True)
class StandardVersion:
    id: str
    version: str
    content_type: str
    meta: dict[str, Any]
    schema: dict[str, Any] | None = None  # JSON Schema, for application/json
    xsd_files: dict[str, str] | None = None  # file name -> text, "schema.xsd" first, for application/xml
    examples: tuple[Example, ...] = ()
    status: str = ACTIVE
    deprecated_at: datetime | None = None
    sunset_at: datetime | None = None
    deprecation_note: str | None = None
    replaced_by: str | None = None
    published_by: str | None = None
    published_at: datetime | None = None
    source: str = "api"
    content_sha256: str = field(default="")

    def __post_init__(self) -> None:
        if not self.content_sha256:
            object.__setattr__(self, "content_sha256", self.compute_sha256())

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def semver(self) -> tuple[int, int, int]:
        return parse_semver(self.version)

    @property
    def is_json(self) -> bool:
        return self.content_type == JSON_CT

    @property
    def backoffice_system(self) -> str:
        return self.meta["backoffice_system"]

    @property
    def owner_agency(self) -> str:
        return self.meta["owner_agency"]

    def compute_sha256(self) -> str:
        """Identity of the published content: schema, metadata and examples.

        Deprecation fields are deliberately left out: deprecating changes a version's
        status, not what it is, so it is not a re-publication.
        """
        canonical = orjson.dumps(
            {
                "id": self.id,
                "version": self.version,
                "content_type": self.content_type,
                "meta": {k: v for k, v in self.meta.items() if k != "status"},
                "schema": self.schema,
                "xsd_files": self.xsd_files,
                "examples": [e.as_dict() for e in self.examples],
            },
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(canonical).hexdigest()

    def with_status(self, **changes: Any) -> StandardVersion:
        return replace(self, **changes)

    def schema_text(self, file: str | None = None) -> str:
        if self.is_json:
            return orjson.dumps(self.schema, option=orjson.OPT_INDENT_2).decode("utf-8")
        files = self.xsd_files or {}
        name = file or XSD_MAIN
        if name not in files:
            raise KeyError(name)
        return files[name]


def check_identity(standard_id: str, version: str, meta: dict[str, Any]) -> None:
    """The common checks of a folder and a publish request: id, semver, metadata keys."""
    if not is_standard_id(standard_id):
        raise ArtefactError(f"standard id {standard_id!r} must look like th.<area>.<name> (lowercase, dots, hyphens)")
    parse_semver(version)
    missing = [k for k in META_REQUIRED if not isinstance(meta.get(k), str) or not meta[k].strip()]
    if missing:
        raise ArtefactError(f"meta lacks {', '.join(missing)}")
    for key, expected in (("id", standard_id), ("version", version)):
        if key in meta and meta[key] != expected:
            raise ArtefactError(f"meta.{key} is {meta[key]!r} but the standard is {standard_id}@{version}")
    if meta["content_type"] not in CONTENT_TYPES:
        raise ArtefactError(f"meta.content_type must be one of {', '.join(CONTENT_TYPES)}")


def load_folder(folder: Path) -> StandardVersion:
    """Read one ``standards/<id>/<version>/`` folder (layout: standards/README.md)."""
    meta = orjson.loads((folder / "meta.json").read_bytes())
    standard_id, version = meta.get("id", folder.parent.name), meta.get("version", folder.name)
    check_identity(standard_id, version, meta)
    if (standard_id, version) != (folder.parent.name, folder.name):
        raise ArtefactError(f"{folder}: folder name does not match meta id/version {standard_id}@{version}")
    content_type = meta["content_type"]
    schema = xsd_files = None
    if content_type == JSON_CT:
        schema = orjson.loads((folder / "schema.json").read_bytes())
        suffix = ".json"
    else:
        main = folder / XSD_MAIN
        if not main.is_file():
            raise ArtefactError(f"{folder}: an application/xml standard needs {XSD_MAIN}")
        # The main schema first; imported files are the other .xsd files in the folder
        # (load_xsd confines imports to this folder anyway).
        xsd_files = {XSD_MAIN: main.read_text(encoding="utf-8")}
        for path in sorted(folder.glob("*.xsd")):
            if path.name != XSD_MAIN:
                xsd_files[path.name] = path.read_text(encoding="utf-8")
        suffix = ".xml"
    examples: list[Example] = []
    for kind in ("valid", "invalid"):
        for path in sorted((folder / "examples" / kind).glob(f"*{suffix}")):
            if path.name.endswith(".expect.json"):
                continue
            text = path.read_text(encoding="utf-8")
            document = orjson.loads(text) if suffix == ".json" else text
            sidecar = path.with_name(path.name.removesuffix(suffix) + ".expect.json")
            expect = orjson.loads(sidecar.read_bytes()) if sidecar.is_file() else None
            examples.append(Example(path.name.removesuffix(suffix), kind, document, expect))
    return StandardVersion(
        id=standard_id, version=version, content_type=content_type, meta=meta, schema=schema,
        xsd_files=xsd_files, examples=tuple(examples), source="artefact",
    )


def published_folders(root: Path) -> list[Path]:
    """Every ``<id>/<version>/meta.json`` folder under ``root``, oldest version first per id."""
    folders = [p.parent for p in root.glob("*/*/meta.json")]

    def order(folder: Path) -> tuple[str, tuple[int, int, int]]:
        try:
            return folder.parent.name, parse_semver(folder.name)
        except ArtefactError:
            return folder.parent.name, (-1, -1, -1)

    return sorted(folders, key=order)

