"""The pydantic Envelope (the source of truth) and the published th.hub.envelope schema agree.

Checked field by field: the same fields, the same required set, the same patterns, length
limits, formats, enumerations and defaults; and both accept and refuse the standard's
examples alike. Nullability is not compared: pydantic also accepts an explicit ``null``
for an optional field, the published standard says to omit it, and both mean "absent".
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from hub.schemas.envelope import Envelope
from hub.config import default_standards_dir

FOLDER = default_standards_dir() / "th.hub.envelope" / "1.0.0"
SCHEMA = orjson.loads((FOLDER / "schema.json").read_bytes())
MODEL = Envelope.model_json_schema()
CONSTRAINTS = ("pattern", "maxLength", "minLength", "format", "enum", "const", "default")
# Rules the model enforces in a validator instead of a schema keyword; the published pattern
# is the portable part of the same rule (the model also verifies the check digit).
VALIDATOR_ENFORCED = {("user_id", "pattern")}


def model_field(name: str) -> dict[str, Any]:
    """A model property with ``Optional`` unwrapped and ``$ref`` to ``$defs`` inlined."""
    node = dict(MODEL["properties"][name])
    if "anyOf" in node:
        branches = [b for b in node.pop("anyOf") if b.get("type") != "null"]
        assert len(branches) == 1, f"{name}: unexpected union {branches}"
        node.update(branches[0])
    if "$ref" in node:
        node = {**MODEL["$defs"][node.pop("$ref").split("/")[-1]], **node}
    if node.get("default") is None:
        node.pop("default", None)
    return node


def test_same_fields_and_required_set() -> None:
    assert set(SCHEMA["properties"]) == set(MODEL["properties"])
    assert set(SCHEMA["required"]) == set(MODEL["required"])
    assert SCHEMA["additionalProperties"] is False and MODEL["additionalProperties"] is False


@pytest.mark.parametrize("name", sorted(MODEL["properties"]))
def test_same_constraints_per_field(name: str) -> None:
    model, published = model_field(name), SCHEMA["properties"][name]
    for keyword in CONSTRAINTS:
        if (name, keyword) in VALIDATOR_ENFORCED:
            continue
        assert model.get(keyword) == published.get(keyword), (
            f"{name}.{keyword}: model {model.get(keyword)!r} != standard {published.get(keyword)!r}"
        )


def examples(kind: str) -> list[Path]:
    return sorted(p for p in (FOLDER / "examples" / kind).glob("*.json") if not p.name.endswith(".expect.json"))


@pytest.mark.parametrize("path", examples("valid") + examples("invalid"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_model_and_schema_agree_on_every_example(path: Path) -> None:
    document = orjson.loads(path.read_bytes())
    schema_ok = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER).is_valid(document)
    try:
        Envelope.model_validate(document)
        model_ok = True
    except ValidationError:
        model_ok = False
    assert schema_ok == model_ok == (path.parent.name == "valid")


def test_text_xml_and_default_json_content_type_behave_alike() -> None:
    validator = Draft202012Validator(SCHEMA)
    base = {"sender": "TH/GOV/OPDC/hr", "receiver": "TH/GOV/OCSC/dpis", "service": "hr.person/v1"}
    for document in ({**base, "payload": {"a": 1}},
                     {**base, "content_type": "text/xml", "payload": "<a/>"},
                     {**base, "payload": "<a/>"},
                     {**base, "content_type": "text/xml", "payload": {"a": 1}}):
        try:
            Envelope.model_validate(document)
            model_ok = True
        except ValidationError:
            model_ok = False
        assert validator.is_valid(document) == model_ok, document
