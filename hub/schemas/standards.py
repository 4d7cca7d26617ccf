"""Requests and answers of the data-standards registry (``/v1/standards``)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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

