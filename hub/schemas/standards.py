"""Requests and answers of the data-standards registry (``/v1/standards``)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.schemas.common import IsoTimestamp

ID_PATTERN = r"^th\.[a-z0-9-]+(\.[a-z0-9-]+)+$"
# Plain MAJOR.MINOR.PATCH: the envelope's ``standard`` field (id@X.Y.Z) has no room for
# pre-release or build suffixes, so the registry does not accept them either.
SEMVER_PATTERN = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"
EXAMPLE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class ExampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=EXAMPLE_NAME_PATTERN)
    kind: Literal["valid", "invalid"]
    document: Any = Field(description="The example document: JSON value, or XML text for an XML standard.")
    expect: dict[str, Any] | None = Field(None, description="Why an invalid example fails: {path, rule} or {line, rule}.")


class PublishIn(BaseModel):
    """A new standard version. ``schema`` is a JSON Schema object, or the main XSD as text."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=ID_PATTERN, max_length=100, examples=["th.telework.order"])
    version: str = Field(pattern=SEMVER_PATTERN, max_length=32, examples=["1.1.0"])
    schema_: dict[str, Any] | str = Field(alias="schema")
    schema_files: dict[str, str] = Field(
        default_factory=dict, description="XSD only: files the main schema imports, by file name (e.g. ram.xsd)."
    )
    meta: dict[str, Any] = Field(description="owner_agency, backoffice_system, summary_en, summary_th, "
                                             "business_process, content_type (standards/README.md).")
    examples: list[ExampleIn] = Field(default_factory=list)


class DeprecateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sunset: date | datetime = Field(
        description="From this moment messages declaring the version are refused; a date means 00:00 Bangkok time."
    )
    note: str | None = Field(None, max_length=2000)
    replaced_by: str | None = Field(None, pattern=SEMVER_PATTERN, description="The version senders should move to.")


class ValidationIssue(BaseModel):
    path: str = Field(description="JSON Pointer into the document, or 'line N' for XML.")
    rule: str
    message: str


class ValidationOut(BaseModel):
    standard: str
    valid: bool
    errors: list[ValidationIssue]



class VersionStatus(BaseModel):
    version: str
    status: str = Field(description="published or deprecated")
    sunset_at: IsoTimestamp | None
    past_sunset: bool
    replaced_by: str | None
    published_at: IsoTimestamp | None
    published_by: str | None


class StandardSummary(BaseModel):
    """A standard: its latest usable version's metadata and every version's status."""

    id: str
    latest: str
    content_type: str
    backoffice_system: str
    backoffice_system_name_en: str | None
    backoffice_system_name_th: str | None
    owner_agency: str
    summary_en: str | None
    summary_th: str | None
    versions: list[VersionStatus]


class StandardList(BaseModel):
    items: list[StandardSummary]


class ExampleOut(BaseModel):
    name: str
    kind: Literal["valid", "invalid"]
    document: Any
    expect: dict[str, Any] | None


class VersionLinks(BaseModel):
    schema_: str = Field(alias="schema")
    docs: str
    validate_: str = Field(alias="validate")


class StandardVersionOut(VersionStatus):
    """One version: metadata, status, examples and links."""

    id: str
    ref: str = Field(description="id@version")
    content_type: str
    meta: dict[str, Any]
    deprecation_note: str | None
    content_sha256: str
    schema_files: list[str]
    examples: list[ExampleOut]
    links: VersionLinks


class ChangeOut(BaseModel):
    path: str = Field(description="JSON Pointer into a document (or the XSD component) the change applies to.")
    kind: str
    breaking: bool
    message: str


class PublishOut(StandardVersionOut):
    created: bool = Field(description="false: the same version with the same content was published before")
    compared_with: str | None = Field(description="The version the compatibility gate compared with.")
    changes: list[ChangeOut]


class StandardDiff(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    from_: str = Field(alias="from")
    to: str
    compatible: bool
    gate_applies: bool = Field(description="Whether the compatibility gate would apply (same major, later version).")
    changes: list[ChangeOut]
