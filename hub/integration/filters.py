"""Subscription filters: which events a subscriber receives, and which of their fields.

``match`` maps a JSON Pointer into the event document to the value (or list of values) it
must have; ``*`` stands for every item of an array, so ``{"/organization/*/org_id": [1]}``
selects the officers whose organisation chain contains unit 1 (their ministry). Every
pointer must name a member the event type's standard declares. ``fields`` lists the
top-level members the subscriber receives (the others are left out); ``None`` is all.
"""
from __future__ import annotations

from typing import Any

from hub.errors import FieldError

WILDCARD = "*"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _tokens(pointer: str) -> list[str] | None:
    if not pointer.startswith("/"):
        return None
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _schema_at(schema: dict[str, Any], tokens: list[str]) -> dict[str, Any] | None:
    """The subschema a pointer reaches, or None when the standard declares no such member."""
    node: dict[str, Any] | None = schema
    for token in tokens:
        if node is None:
            return None
        if token == WILDCARD:
            items = node.get("items")
            node = items if isinstance(items, dict) else None
        else:
            props = node.get("properties", {})
            node = props.get(token) if isinstance(props, dict) else None
    return node


def check_filter(match: dict[str, Any], fields: list[str] | None, schema: dict[str, Any]) -> list[FieldError]:
    """Every problem of a filter against the event standard's schema (empty: the filter is valid)."""
    problems = []
    for pointer, value in match.items():
        at = f"/filter/match/{_escape(pointer)}"
        tokens = _tokens(pointer)
        if tokens is None or not all(tokens):
            problems.append(FieldError(at, "json_pointer", "a JSON Pointer such as /per_cardno or /organization/*/org_id"))
        elif _schema_at(schema, tokens) is None:
            problems.append(FieldError(at, "known_field", f"the event type declares no field {pointer}"))
        if isinstance(value, (dict,)) or (isinstance(value, list) and (not value or any(isinstance(v, (dict, list)) for v in value))):
            problems.append(FieldError(at, "type", "a value, or a non-empty list of values"))
    declared = schema.get("properties", {})
    for i, name in enumerate(fields or []):
        if name not in declared:
            problems.append(FieldError(f"/filter/fields/{i}", "known_field", f"the event type declares no field {name!r}"))
    return problems


def _values(doc: Any, tokens: list[str]) -> list[Any]:
    found = [doc]
    for token in tokens:
        step = []
        for node in found:
            if token == WILDCARD and isinstance(node, list):
                step.extend(node)
            elif isinstance(node, dict) and token in node:
                step.append(node[token])
        found = step
    return found


def matches(match: dict[str, Any], doc: Any) -> bool:
    for pointer, wanted in match.items():
        allowed = wanted if isinstance(wanted, list) else [wanted]
        tokens = _tokens(pointer) or []
        if not any(value in allowed for value in _values(doc, tokens)):
            return False
    return True


def project(doc: Any, fields: list[str] | None) -> Any:
    if fields is None or not isinstance(doc, dict):
        return doc
    return {name: doc[name] for name in fields if name in doc}


def subject_of(doc: Any, subject_field: str | None) -> str | None:
    if subject_field and isinstance(doc, dict) and doc.get(subject_field) is not None:
        return str(doc[subject_field])
    return None
