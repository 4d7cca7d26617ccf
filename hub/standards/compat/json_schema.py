"""The compatibility gate for JSON Schema standards (see :mod:`hub.standards.compat`).

The comparison walks ``properties``, ``items``/``prefixItems``, ``additionalProperties`` and
local ``$ref``s (into ``$defs``) from the root, so every change is reported at the document
path where it bites (``/signer/role``, ``/targets/*/measure``). Where it cannot decide (a
changed ``pattern``, a changed ``if`` condition, a re-ordered ``oneOf``) it reports
"breaking".

Breaking: removed property; narrowed ``type``; removed ``enum`` value or a new
``enum``/``const``; new ``required`` member; tightened ``minLength``/``maxLength``/
``minimum``/``maximum``/``minItems``/... or a new one; new or changed ``pattern`` or
``format``; ``additionalProperties`` newly false; a property added to an *open* object
with constraints (old documents may already carry that member with any value: Confluent's
PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL); new ``uniqueItems``; changed composition.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from hub.standards.compat.change import Change
from hub.errors import pointer

ANNOTATIONS = {
    "title", "description", "x-description-th", "x-enum-descriptions", "x-enum-descriptions-th",
    "examples", "default", "$comment", "deprecated", "readOnly", "writeOnly", "$schema", "$id",
}
LOWER_LIMITS = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum", "minContains")
UPPER_LIMITS = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum", "maxContains")
MAX_DEPTH = 64


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _accepts_type(types: set[str], json_type: str) -> bool:
    return json_type in types or (json_type == "integer" and "number" in types)


def _is_trivial(schema: Any) -> bool:
    """True for a schema that accepts everything: ``true``, ``{}`` or annotations only."""
    if schema is True:
        return True
    return isinstance(schema, dict) and not (set(schema) - ANNOTATIONS)


def _child(path: str, name: str) -> str:
    return path + pointer(name)


@dataclass
class _JsonComparer:
    old_root: Any
    new_root: Any
    changes: list[Change] = field(default_factory=list)
    _active: set[tuple[int, int]] = field(default_factory=set)

    def add(self, path: str, kind: str, breaking: bool, message: str) -> None:
        self.changes.append(Change(path or "/", kind, breaking, message))

    # ---------------------------------------------------------------- $ref
    def _resolve(self, schema: Any, root: Any) -> Any:
        """Follow local ``$ref`` (``#/$defs/x``); keywords beside a ``$ref`` apply too."""
        for _ in range(MAX_DEPTH):
            if not isinstance(schema, dict) or "$ref" not in schema:
                return schema
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                return schema  # remote reference: compared as a string below
            target: Any = root
            for part in [p for p in ref[1:].split("/") if p]:
                part = part.replace("~1", "/").replace("~0", "~")
                if isinstance(target, dict) and part in target:
                    target = target[part]
                elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                    target = target[int(part)]
                else:
                    return schema  # dangling: check_schema lets it through; compare as string
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            if not siblings:
                schema = target
            elif isinstance(target, dict):
                schema = {**target, **siblings}
            else:
                schema = siblings if target is True else False
        return schema

    # ---------------------------------------------------------------- walk
    def compare(self, old: Any, new: Any, path: str, depth: int = 0) -> None:
        old = self._resolve(old, self.old_root)
        new = self._resolve(new, self.new_root)
        if depth > MAX_DEPTH:
            return
        key = (id(old), id(new))
        if key in self._active:  # a recursive $ref already being compared higher up
            return
        self._active.add(key)
        try:
            self._compare(old, new, path, depth)
        finally:
            self._active.discard(key)

    def _compare(self, old: Any, new: Any, path: str, depth: int) -> None:
        if old is False:
            if new is not False:
                self.add(path, "schema_widened", False, "the value was refused before and is now allowed")
            return
        if new is False:
            self.add(path, "schema_closed", True, "the value is now always refused (schema false)")
            return
        old = {} if old is True else old
        new = {} if new is True else new
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        if "$ref" in old or "$ref" in new:
            if old.get("$ref") != new.get("$ref"):
                self.add(path, "ref_changed", True,
                         f"reference changed from {old.get('$ref')!r} to {new.get('$ref')!r}; not comparable")
        self._types(old, new, path)
        self._enums(old, new, path)
        self._limits(old, new, path)
        self._strings(old, new, path)
        self._objects(old, new, path, depth)
        self._arrays(old, new, path, depth)
        self._composition(old, new, path, depth)
        self._annotations(old, new, path)

    def _types(self, old: dict, new: dict, path: str) -> None:
        old_t, new_t = _type_set(old), _type_set(new)
        if new_t is None:
            if old_t is not None:
                self.add(path, "type_widened", False, f"type {sorted(old_t)} is no longer restricted")
            return
        if old_t is None:
            enum = _enum_values(old)
            if enum is not None:
                lost = sorted({_json_type(v) for v in enum if not _accepts_type(new_t, _json_type(v))})
                if lost:
                    self.add(path, "type_narrowed", True,
                             f"enumerated values of type {lost} are no longer accepted (type is now {sorted(new_t)})")
                return
            self.add(path, "type_added", True, f"any type was accepted; now only {sorted(new_t)}")
            return
        lost = sorted(t for t in old_t if not _accepts_type(new_t, t))
        if lost:
            self.add(path, "type_narrowed", True, f"type narrowed from {sorted(old_t)} to {sorted(new_t)}: "
                                                  f"{', '.join(lost)} no longer accepted")
        gained = sorted(t for t in new_t if t not in old_t)
        if gained and not lost:
            self.add(path, "type_widened", False, f"type widened from {sorted(old_t)} to {sorted(new_t)}")

    def _enums(self, old: dict, new: dict, path: str) -> None:
        old_e, new_e = _enum_values(old), _enum_values(new)
        if new_e is None:
            if old_e is not None:
                self.add(path, "enum_removed", False, "the value is no longer limited to an enumeration")
            return
        new_keys = {canonical(v) for v in new_e}
        if old_e is None:
            self.add(path, "enum_added", True, f"values are now limited to {new_e}")
            return
        old_keys = {canonical(v): v for v in old_e}
        removed = [v for k, v in old_keys.items() if k not in new_keys]
        if removed:
            self.add(path, "enum_narrowed", True, f"enum value(s) {removed} removed")
        added = [v for v in new_e if canonical(v) not in old_keys]
        if added:
            self.add(path, "enum_widened", False, f"enum value(s) {added} added")

    def _limits(self, old: dict, new: dict, path: str) -> None:
        for keyword in LOWER_LIMITS:
            self._limit(old.get(keyword), new.get(keyword), keyword, path, tighter=lambda o, n: n > o)
        for keyword in UPPER_LIMITS:
            self._limit(old.get(keyword), new.get(keyword), keyword, path, tighter=lambda o, n: n < o)
        old_m, new_m = old.get("multipleOf"), new.get("multipleOf")
        if new_m is not None and old_m != new_m:
            # Every multiple of old is a multiple of new only when old is a multiple of new.
            if old_m is None or not math.isclose((old_m / new_m) % 1, 0, abs_tol=1e-9):
                self.add(path, "limit_tightened", True, f"multipleOf {old_m} -> {new_m}")
            else:
                self.add(path, "limit_relaxed", False, f"multipleOf {old_m} -> {new_m}")
        if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
            self.add(path, "unique_items_added", True, "array items must now be unique")

    def _limit(self, old_v: Any, new_v: Any, keyword: str, path: str, tighter: Any) -> None:
        if old_v == new_v:
            return
        if new_v is not None and (old_v is None or tighter(old_v, new_v)):
            self.add(path, "limit_tightened", True, f"{keyword} {'added: ' if old_v is None else f'{old_v} -> '}{new_v}")
        else:
            self.add(path, "limit_relaxed", False, f"{keyword} {old_v} -> {'removed' if new_v is None else new_v}")

    def _strings(self, old: dict, new: dict, path: str) -> None:
        for keyword in ("pattern", "format"):
            old_v, new_v = old.get(keyword), new.get(keyword)
            if old_v == new_v:
                continue
            if new_v is None:
                self.add(path, f"{keyword}_removed", False, f"{keyword} {old_v!r} removed")
            elif old_v is None:
                self.add(path, f"{keyword}_added", True, f"{keyword} {new_v!r} added")
            else:
                # Regex inclusion is undecidable in general; a changed pattern is refused
                # within a major version rather than guessed at.
                self.add(path, f"{keyword}_changed", True,
                         f"{keyword} changed from {old_v!r} to {new_v!r} (cannot prove it accepts every old value)")

    def _objects(self, old: dict, new: dict, path: str, depth: int) -> None:
        old_p, new_p = old.get("properties", {}), new.get("properties", {})
        old_ap = old.get("additionalProperties", True)
        new_ap = new.get("additionalProperties", True)
        for name in old_p:
            if name not in new_p:
                self.add(_child(path, name), "property_removed", True, f"property {name!r} removed")
            else:
                self.compare(old_p[name], new_p[name], _child(path, name), depth + 1)
        for name in new_p:
            if name in old_p:
                continue
            if old_ap is False:
                self.add(_child(path, name), "property_added", False, f"optional property {name!r} added")
                continue
            # The old object was open: documents may already carry this member, with any
            # value the old additionalProperties allowed. The new declaration must accept those.
            before = len(self.changes)
            self.compare(old_ap, new_p[name], _child(path, name), depth + 1)
            if any(c.breaking for c in self.changes[before:]):
                self.add(_child(path, name), "property_added_to_open_content_model", True,
                         f"property {name!r} added to an open object with constraints old documents may not meet")
            else:
                self.add(_child(path, name), "property_added", False, f"property {name!r} added")
        old_r, new_r = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(new_r - old_r):
            self.add(_child(path, name), "required_added", True, f"property {name!r} is now required")
        for name in sorted(old_r - new_r):
            self.add(_child(path, name), "required_removed", False, f"property {name!r} is no longer required")
        if old_ap is not False and new_ap is False:
            self.add(path, "additional_properties_closed", True,
                     "additionalProperties is now false: members not declared are refused")
        elif old_ap is False and new_ap is not False:
            self.add(path, "additional_properties_opened", False, "members not declared are now allowed")
        elif not (_is_trivial(old_ap) and _is_trivial(new_ap)) and old_ap is not False:
            self.compare(old_ap, new_ap, _child(path, "<additional>"), depth + 1)
        self._compare_whole(old, new, path,
                            ("patternProperties", "propertyNames", "unevaluatedProperties", "dependentSchemas"))
        old_d, new_d = old.get("dependentRequired", {}), new.get("dependentRequired", {})
        for trigger, names in new_d.items():
            added = sorted(set(names) - set(old_d.get(trigger, [])))
            if added:
                self.add(_child(path, trigger), "dependent_required_added", True,
                         f"when {trigger!r} is present, {added} are now required")

    def _arrays(self, old: dict, new: dict, path: str, depth: int) -> None:
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        for i in range(max(len(old_prefix), len(new_prefix))):
            o = old_prefix[i] if i < len(old_prefix) else old.get("items", True)
            n = new_prefix[i] if i < len(new_prefix) else new.get("items", True)
            self.compare(o, n, _child(path, str(i)), depth + 1)
        old_i, new_i = old.get("items", True), new.get("items", True)
        if not (_is_trivial(old_i) and _is_trivial(new_i)):
            self.compare(old_i, new_i, _child(path, "*"), depth + 1)
        self._compare_whole(old, new, path, ("contains", "unevaluatedItems"))

    def _compare_whole(self, old: dict, new: dict, path: str, keywords: tuple[str, ...]) -> None:
        """Keywords whose subschemas are not walked: any change counts, breaking if one is now set."""
        for keyword in keywords:
            if canonical(old.get(keyword)) != canonical(new.get(keyword)):
                self.add(path, f"{keyword}_changed", new.get(keyword) is not None,
                         f"{keyword} changed (compared as a whole)")

    def _composition(self, old: dict, new: dict, path: str, depth: int) -> None:
        old_all, new_all = old.get("allOf", []), new.get("allOf", [])
        if canonical(old_all) != canonical(new_all):
            if len(old_all) == len(new_all):
                for o, n in zip(old_all, new_all):
                    self.compare(o, n, path, depth + 1)
            else:
                old_keys = {canonical(s) for s in old_all}
                for i, branch in enumerate(new_all):
                    if canonical(branch) not in old_keys and not _is_trivial(branch):
                        self.add(path, "all_of_added", True, f"allOf branch {i} added: a new condition to meet")
        for keyword in ("anyOf", "oneOf"):
            old_b, new_b = old.get(keyword), new.get(keyword)
            if canonical(old_b) == canonical(new_b):
                continue
            if new_b is None:
                self.add(path, f"{keyword}_removed", False, f"{keyword} removed")
            elif old_b is None:
                self.add(path, f"{keyword}_added", True, f"{keyword} added: a new condition to meet")
            elif len(old_b) == len(new_b):
                for o, n in zip(old_b, new_b):
                    self.compare(o, n, path, depth + 1)
            elif {canonical(b) for b in old_b} <= {canonical(b) for b in new_b}:
                self.add(path, f"{keyword}_widened", False, f"{keyword} gained alternatives")
            else:
                self.add(path, f"{keyword}_changed", True, f"{keyword} alternatives changed (compared coarsely)")
        if canonical(old.get("if")) == canonical(new.get("if")):
            if "if" in new:
                self.compare(old.get("then", True), new.get("then", True), path, depth + 1)
                self.compare(old.get("else", True), new.get("else", True), path, depth + 1)
        elif "if" in new:
            self.add(path, "condition_changed", True, "an if/then/else condition changed (compared coarsely)")
        if canonical(old.get("not")) != canonical(new.get("not")) and "not" in new:
            self.add(path, "not_changed", True, "a 'not' condition changed (compared coarsely)")

    def _annotations(self, old: dict, new: dict, path: str) -> None:
        changed = sorted(k for k in ("title", "description", "x-description-th", "default")
                         if canonical(old.get(k)) != canonical(new.get(k)))
        if changed:
            self.add(path, "documentation_changed", False, f"{', '.join(changed)} changed")


def _type_set(schema: dict) -> set[str] | None:
    value = schema.get("type")
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


def _enum_values(schema: dict) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def compare_json_schemas(old: Any, new: Any) -> list[Change]:
    comparer = _JsonComparer(old, new)
    comparer.compare(old, new, "")
    return comparer.changes
