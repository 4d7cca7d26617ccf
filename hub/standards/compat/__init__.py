"""The compatibility gate: does a new version accept every document the old one accepted?

This is Confluent Schema Registry's BACKWARD rule: within one major version a new minor or
patch version must accept every document the previous version accepted, so a sender that
conforms today is never refused tomorrow. A major version may break.

The check is a structural comparison of the two schemas, not a proof. Where it cannot
decide it errs on the side of "breaking", because a false refusal costs a major version
bump while a false acceptance breaks every sender. Each schema language has its comparer:

* :mod:`hub.standards.compat.json_schema` walks two JSON Schemas and names every change at
  the document path where it bites (``/signer/role``, ``/targets/*/measure``);
* :mod:`hub.standards.compat.xsd` compares two XSD file sets coarsely, and says so.

Both report :class:`hub.standards.compat.change.Change` values; :func:`compare` picks the
comparer for a pair of versions and :func:`breaking` keeps the changes that refuse old
documents (what the publishing gate in :mod:`hub.standards.publishing` refuses on).
"""
from __future__ import annotations

from hub.standards.compat.change import Change
from hub.standards.compat.json_schema import compare_json_schemas
from hub.standards.compat.xsd import compare_xsd
from hub.standards.model import StandardVersion


def compare(old: StandardVersion, new: StandardVersion) -> list[Change]:
    """Every difference from ``old`` to ``new``; ``breaking`` marks those that refuse old documents."""
    if old.content_type != new.content_type:
        return [Change("/", "content_type_changed", True, f"content type {old.content_type} -> {new.content_type}")]
    if old.is_json:
        return compare_json_schemas(old.schema, new.schema)
    return compare_xsd(old.xsd_files or {}, new.xsd_files or {})


def breaking(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.breaking]
