"""Every published standard's examples behave as advertised.

Layout (see standards/README.md): ``standards/<id>/<version>/`` with ``meta.json``,
``schema.json`` or ``schema.xsd``, ``examples/valid/*`` and ``examples/invalid/*``
where each invalid example has a ``<name>.expect.json`` sidecar naming why it fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from hub.config import default_standards_dir
from hub.standards.safexml import load_xsd, parse_xml

STANDARDS = default_standards_dir()
CATALOGUE = STANDARDS / "catalogue" / "backoffice-systems.json"
SYSTEM_KEYS = {
    "policy-planning",
    "budget-finance",
    "human-resources",
    "procurement-assets",
    "legal",
    "public-relations",
    "international-relations",
    "correspondence",
    "internal-audit",
    "inspector-general",
    "it-management",
}
META_KEYS = {
    "id",
    "version",
    "owner_agency",
    "backoffice_system",
    "status",
    "summary_en",
    "summary_th",
    "business_process",
    "content_type",
}
MEMBER_RE = re.compile(r"^[A-Za-z0-9-]{1,32}/[A-Z]{2,10}/[A-Za-z0-9._-]{1,64}(/[A-Za-z0-9._-]{1,64})?$")
ID_RE = re.compile(r"^th\.[a-z0-9-]+(\.[a-z0-9-]+)+$")
SEMVER_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
# Keywords whose failing value is a missing member of the object at error.path: the
# sidecar names the member itself, so a reader sees which field is missing.
MISSING_MEMBER_KEYWORDS = {"required", "dependentRequired"}


def standard_dirs() -> list[Path]:
    return sorted(p.parent for p in STANDARDS.glob("*/*/meta.json"))


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def examples(kind: str, suffix: str) -> list[pytest.param]:
    params = []
    for folder in standard_dirs():
        for path in sorted((folder / "examples" / kind).glob(f"*{suffix}")):
            if path.name.endswith(".expect.json"):
                continue
            params.append(pytest.param(folder, path, id=f"{folder.parent.name}/{path.name}"))
    return params


def pointer(parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def flatten(errors: Any) -> Iterator[ValidationError]:
    for error in errors:
        yield error
        yield from flatten(error.context or ())


def failing_pointers(error: ValidationError) -> set[str]:
    base = pointer(error.absolute_path)
    if error.validator in MISSING_MEMBER_KEYWORDS and isinstance(error.instance, dict):
        required = error.validator_value
        if error.validator == "dependentRequired":
            required = [n for deps in required.values() for n in deps]
        return {f"{base}/{name}" for name in required if name not in error.instance}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        return {f"{base}/{name}" for name in error.instance if name not in allowed}
    return {base}


def json_validator(folder: Path) -> Draft202012Validator:
    schema = load_json(folder / "schema.json")
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


# ------------------------------------------------------------------ layout and metadata


def test_there_are_standards() -> None:
    ids = {load_json(f / "meta.json")["id"] for f in standard_dirs()}
    assert {"th.hub.envelope", "th.telework.order", "th.ecms.letter", "th.gfmis.batch"} <= ids
    assert len(ids) >= 20


@pytest.mark.parametrize("folder", standard_dirs(), ids=lambda f: f"{f.parent.name}/{f.name}")
def test_meta_and_layout(folder: Path) -> None:
    meta = load_json(folder / "meta.json")
    missing = META_KEYS - meta.keys()
    assert not missing, f"{folder}/meta.json lacks {sorted(missing)}"
    assert meta["id"] == folder.parent.name, "folder name must be the standard id"
    assert meta["version"] == folder.name, "version folder must match meta.version"
    assert ID_RE.match(meta["id"]) and SEMVER_RE.match(meta["version"])
    assert MEMBER_RE.match(meta["owner_agency"]), meta["owner_agency"]
    assert meta["backoffice_system"] in SYSTEM_KEYS
    assert meta["status"] == "active"
    assert meta["content_type"] in {"application/json", "application/xml"}
    for key in ("summary_en", "summary_th", "business_process"):
        assert isinstance(meta[key], str) and meta[key].strip(), f"{key} is empty"
    assert re.search("[\u0e00-\u0e7f]", meta["summary_th"]), "summary_th must be Thai"

    schema_file = folder / ("schema.json" if meta["content_type"] == "application/json" else "schema.xsd")
    assert schema_file.is_file(), f"{schema_file} missing"
    suffix = ".json" if meta["content_type"] == "application/json" else ".xml"
    valid = list((folder / "examples" / "valid").glob(f"*{suffix}"))
    invalid = [p for p in (folder / "examples" / "invalid").glob(f"*{suffix}") if not p.name.endswith(".expect.json")]
    assert len(valid) >= 2, "at least 2 valid examples"
    assert len(invalid) >= 2, "at least 2 invalid examples"
    for path in invalid:
        sidecar = path.with_name(path.name.removesuffix(suffix) + ".expect.json")
        assert sidecar.is_file(), f"{path.name} has no {sidecar.name}"


def walk_properties(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}/properties/{name}", sub
        for key, value in node.items():
            yield from walk_properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_properties(value, f"{where}/{i}")


@pytest.mark.parametrize(
    "folder",
    [f for f in standard_dirs() if (f / "schema.json").is_file()],
    ids=lambda f: f.parent.name,
)
def test_json_schema_is_documented(folder: Path) -> None:
    schema = load_json(folder / "schema.json")
    Draft202012Validator.check_schema(schema)
    meta = load_json(folder / "meta.json")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:th:hub:standard:{meta['id']}:{meta['version']}"
    undocumented = [
        where
        for where, prop in walk_properties(schema)
        # properties inside if/then only narrow a documented property; they are not new fields
        if "/if/" not in where and "/then/" not in where
        and not all(prop.get(k) for k in ("title", "description", "x-description-th"))
    ]
    assert not undocumented, f"properties without title/description/x-description-th: {undocumented}"


def test_catalogue() -> None:
    catalogue = load_json(CATALOGUE)
    systems = catalogue["systems"]
    assert {s["key"] for s in systems} == SYSTEM_KEYS
    assert len(systems) == 11
    for system in systems:
        assert system["name_th"] and system["name_en"]
        assert set(system["agencies"]) == {"lead", "secondary", "supplementary", "advisory"}
        assert len(system["agencies"]["lead"]) == 1, f"{system['key']} needs exactly one lead"
        for role, members in system["agencies"].items():
            for member in members:
                assert MEMBER_RE.match(member), f"{system['key']} {role}: {member!r}"
    by_key = {s["key"]: s for s in systems}
    assert "TH/GOV/OCSC" in by_key["human-resources"]["agencies"]["lead"]
    directory = catalogue["agencies"]
    published = {load_json(f / "meta.json")["id"] for f in standard_dirs()}
    for system in systems:
        for members in system["agencies"].values():
            unknown = set(members) - directory.keys()
            assert not unknown, f"{system['key']} names agencies missing from the directory: {unknown}"
        missing = set(system.get("standards", [])) - published
        assert not missing, f"{system['key']} lists unpublished standards {missing}"
    for folder in standard_dirs():
        meta = load_json(folder / "meta.json")
        assert meta["backoffice_system"] in by_key
        assert meta["owner_agency"] in directory, f"{meta['id']} owner {meta['owner_agency']} not in catalogue"


# ------------------------------------------------------------------ JSON examples


@pytest.mark.parametrize(("folder", "path"), examples("valid", ".json"))
def test_valid_json_example(folder: Path, path: Path) -> None:
    errors = list(json_validator(folder).iter_errors(load_json(path)))
    assert not errors, "; ".join(f"{pointer(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize(("folder", "path"), examples("invalid", ".json"))
def test_invalid_json_example(folder: Path, path: Path) -> None:
    expect = load_json(path.with_name(path.stem + ".expect.json"))
    errors = list(json_validator(folder).iter_errors(load_json(path)))
    assert errors, f"{path.name} validated but should fail at {expect}"
    # One fault per invalid example keeps each one a precise regression test.
    assert len(errors) == 1, [f"{pointer(e.absolute_path)} {e.validator}: {e.message}" for e in errors]
    found = {(p, e.validator) for e in flatten(errors) for p in failing_pointers(e)}
    assert (expect["path"], expect["rule"]) in found, f"expected {expect}, got {sorted(found)}"


# ------------------------------------------------------------------ domain checks on examples


def test_location_examples_use_real_codes() -> None:
    geothai = pytest.importorskip("geothai")
    checked = 0
    for path in STANDARDS.glob("*/*/examples/valid/*.json"):
        for node in iter_dicts(load_json(path)):
            for key, lookup, length in (
                ("province_code", geothai.province, 2),
                ("district_code", geothai.district, 4),
                ("subdistrict_code", geothai.subdistrict, 6),
            ):
                if key in node:
                    code = node[key]
                    assert lookup(code) is not None, f"{path}: {key} {code} is not a real code"
                    if key != "province_code" and "province_code" in node:
                        assert code.startswith(node["province_code"]), f"{path}: {code} not in province"
                    checked += 1
            if "subdistrict_code" in node and "district_code" in node:
                assert node["subdistrict_code"].startswith(node["district_code"])
    assert checked >= 10


def test_citizen_and_juristic_ids_in_examples_have_valid_check_digits() -> None:
    from hub import thai

    keys = {"citizen_id", "person_citizen_id", "user_id", "per_cardno"}
    checked = 0
    for path in STANDARDS.glob("*/*/examples/valid/*.json"):
        for node in iter_dicts(load_json(path)):
            for key in keys & node.keys():
                assert thai.is_valid_citizen_id(node[key]), f"{path}: {key} {node[key]}"
                checked += 1
            if "juristic_id" in node:
                assert thai.is_valid_juristic_id(node["juristic_id"]), f"{path}: {node['juristic_id']}"
                checked += 1
    assert checked >= 20


def iter_dicts(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from iter_dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from iter_dicts(value)


# ------------------------------------------------------------------ XML examples


@pytest.mark.parametrize(("folder", "path"), examples("valid", ".xml"))
def test_valid_xml_example(folder: Path, path: Path) -> None:
    schema = load_xsd(folder / "schema.xsd")
    document = parse_xml(path.read_bytes())
    if not schema.validate(document):
        problems = "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        pytest.fail(f"{path.name} should be valid: {problems}")


@pytest.mark.parametrize(("folder", "path"), examples("invalid", ".xml"))
def test_invalid_xml_example(folder: Path, path: Path) -> None:
    expect = load_json(path.with_name(path.stem + ".expect.json"))
    schema = load_xsd(folder / "schema.xsd")
    document = parse_xml(path.read_bytes())
    assert not schema.validate(document), f"{path.name} validated but should fail at line {expect['line']}"
    first = schema.error_log[0]
    assert first.line == expect["line"], f"first error at line {first.line}: {first.message}"
    assert expect["rule"] in first.message, f"{expect['rule']!r} not in {first.message!r}"
