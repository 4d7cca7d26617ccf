"""The data-standards registry: loading, publishing rights, the compatibility gate,
immutability, deprecation, edge validation of envelopes, documentation and the CLI."""
from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub import migrate
from hub.clock import utcnow
from hub.config import default_standards_dir
from hub.db import make_engine
from hub.errors import Conflict, Forbidden, ValidationFailed
from hub.schemas.envelope import Envelope
from hub.schemas.principal import ADMIN, OPERATOR, Principal
from hub.standards import compat
from hub.standards.compat.json_schema import compare_json_schemas
from hub.standards.compat.xsd import compare_xsd
from hub.standards.model import StandardVersion, load_folder
from hub.standards.registry import StandardsRegistry

STANDARDS = default_standards_dir()
ORDER = STANDARDS / "th.telework.order" / "1.0.0"
ECMS = STANDARDS / "th.ecms.letter" / "1.0.0"
OCSC = Principal(subject="ocsc-client", roles=frozenset({OPERATOR}), member="TH/GOV/OCSC")
OPDC = Principal(subject="opdc-client", roles=frozenset({OPERATOR}), member="TH/GOV/OPDC")
CGD = Principal(subject="cgd-client", roles=frozenset({OPERATOR}), member="TH/GOV/CGD")
ADMIN_P = Principal(subject="hub-admin", roles=frozenset({ADMIN}))


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[StandardsRegistry]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.sqlite3'}", sqlite_synchronous="NORMAL")
    migrate.upgrade(engine)
    reg = StandardsRegistry(engine, STANDARDS)
    report = reg.load_published()
    assert not report.refused, report.refused
    yield reg
    engine.dispose()


def order_version(version: str, mutate=None, examples: bool = True) -> StandardVersion:  # noqa: ANN001
    """th.telework.order 1.0.0's folder as a new ``version``, its schema changed by ``mutate``."""
    base = load_folder(ORDER)
    schema = copy.deepcopy(base.schema)
    schema["$id"] = f"urn:th:hub:standard:th.telework.order:{version}"
    if mutate:
        mutate(schema)
    meta = {**base.meta, "version": version}
    return StandardVersion(id=base.id, version=version, content_type=base.content_type, meta=meta, schema=schema,
                           examples=base.examples if examples else (), source="api")


def order_doc() -> dict:
    return copy.deepcopy(next(e.document for e in load_folder(ORDER).examples if e.kind == "valid"))


def refusal(exc: pytest.ExceptionInfo) -> set[tuple[str, str]]:
    return {(e.field, e.rule) for e in exc.value.errors}


# ------------------------------------------------------------------ loading


def test_published_artefacts_load_once_and_idempotently(registry: StandardsRegistry) -> None:
    ids = {s["id"] for s in registry.summaries()}
    assert {"th.hub.envelope", "th.telework.order", "th.ecms.letter", "th.gfmis.batch"} <= ids
    assert len(ids) >= 20
    again = registry.load_published()
    assert not again.loaded and not again.refused and not again.differs
    assert len(again.unchanged) == len(registry.all_versions())


# ------------------------------------------------------------------ the compatibility gate


def test_minor_version_that_removes_narrows_and_requires_is_refused_naming_each_change(
    registry: StandardsRegistry,
) -> None:
    def breaking(schema: dict) -> None:
        del schema["properties"]["book_number"]
        schema["required"].remove("book_number")
        schema["properties"]["signer"]["properties"]["role"]["enum"] = ["head-of-agency"]
        schema["properties"]["remarks"] = {"title": "Remarks", "description": "Free text.",
                                           "x-description-th": "หมายเหตุ", "type": "string"}
        schema["required"].append("remarks")

    with pytest.raises(ValidationFailed) as exc:
        registry.publish(OCSC, order_version("1.1.0", breaking))
    found = refusal(exc)
    assert ("/book_number", "property_removed") in found
    assert ("/signer/role", "enum_narrowed") in found
    assert ("/remarks", "required_added") in found
    assert exc.value.status_code == 422
    assert "th.telework.order@1.0.0" in exc.value.message and "2.0.0" in exc.value.message
    narrowed = next(e for e in exc.value.errors if e.rule == "enum_narrowed")
    assert "acting-head-of-agency" in narrowed.message
    with pytest.raises(Exception, match="no standard"):
        registry.get("th.telework.order", "1.1.0")


def test_tightened_limits_patterns_types_and_closed_objects_are_breaking() -> None:
    old = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "count": {"type": "number", "minimum": 0},
            "code": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "extra": {"type": "object", "properties": {"a": {"type": "string"}}},
        },
        "$defs": {},
    }
    new = copy.deepcopy(old)
    new["properties"]["name"]["maxLength"] = 100
    new["properties"]["count"]["type"] = "integer"
    new["properties"]["code"]["pattern"] = "^[0-9]+$"
    new["properties"]["tags"]["items"]["minLength"] = 3
    new["properties"]["extra"]["additionalProperties"] = False
    found = {(c.path, c.kind) for c in compat.breaking(compare_json_schemas(old, new))}
    assert found == {
        ("/name", "limit_tightened"),
        ("/count", "type_narrowed"),
        ("/code", "pattern_added"),
        ("/tags/*", "limit_tightened"),
        ("/extra", "additional_properties_closed"),
    }
    # ... and the reverse direction is all relaxation
    assert not compat.breaking(compare_json_schemas(new, old))


def test_refs_into_defs_are_followed_and_recursion_terminates() -> None:
    old = {"$defs": {"node": {"type": "object", "properties": {
        "code": {"enum": ["A", "B"]}, "child": {"$ref": "#/$defs/node"}}}},
        "type": "object", "properties": {"root": {"$ref": "#/$defs/node"}}}
    new = copy.deepcopy(old)
    new["$defs"]["node"]["properties"]["code"]["enum"] = ["A"]
    found = {(c.path, c.kind) for c in compat.breaking(compare_json_schemas(old, new))}
    assert ("/root/code", "enum_narrowed") in found


def test_property_added_to_an_open_object_with_constraints_is_breaking() -> None:
    old = {"type": "object", "properties": {"a": {"type": "string"}}}
    new = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}
    kinds = {(c.path, c.kind) for c in compat.breaking(compare_json_schemas(old, new))}
    assert ("/b", "property_added_to_open_content_model") in kinds
    closed_old = {**old, "additionalProperties": False}
    closed_new = {**new, "additionalProperties": False}
    assert not compat.breaking(compare_json_schemas(closed_old, closed_new))


def test_compatible_minor_version_is_accepted_and_its_changes_reported(registry: StandardsRegistry) -> None:
    def compatible(schema: dict) -> None:
        schema["properties"]["remarks"] = {"title": "Remarks", "description": "Free text.",
                                           "x-description-th": "หมายเหตุ", "type": "string", "maxLength": 500}
        schema["properties"]["signer"]["properties"]["role"]["enum"].append("deputy-head-of-agency")
        schema["properties"]["book_number"]["maxLength"] = 128

    result = registry.publish(OCSC, order_version("1.1.0", compatible))
    assert result.created and result.compared_with == "th.telework.order@1.0.0"
    kinds = {(c.path, c.kind) for c in result.changes}
    assert {("/remarks", "property_added"), ("/signer/role", "enum_widened"),
            ("/book_number", "limit_relaxed")} <= kinds
    assert not compat.breaking(result.changes)
    assert registry.get("th.telework.order").version == "1.1.0"
    doc = order_doc()
    doc["remarks"] = "ทดลอง"
    assert registry.validate("th.telework.order", "1.1.0", doc)[1] == []
    assert registry.validate("th.telework.order", "1.0.0", doc)[1][0].rule == "additionalProperties"


def test_major_version_may_break(registry: StandardsRegistry) -> None:
    def breaking(schema: dict) -> None:
        schema["properties"]["signer"]["properties"]["role"]["enum"] = ["head-of-agency"]

    result = registry.publish(OCSC, order_version("2.0.0", breaking, examples=False)
                              .with_status(examples=tuple(e for e in load_folder(ORDER).examples
                                                          if e.name != "fpo-monthly")))  # acting head
    assert result.created
    assert ("/signer/role", "enum_narrowed") in {(c.path, c.kind) for c in compat.breaking(result.changes)}


def test_a_version_slotted_in_below_a_later_one_is_checked_against_it_too(registry: StandardsRegistry) -> None:
    registry.publish(OCSC, order_version("1.2.0"))

    def adds_value(schema: dict) -> None:
        schema["properties"]["signer"]["properties"]["role"]["enum"].append("deputy-head-of-agency")

    with pytest.raises(ValidationFailed) as exc:
        registry.publish(OCSC, order_version("1.1.0", adds_value))
    assert ("/signer/role", "enum_narrowed") in refusal(exc)
    assert "th.telework.order@1.2.0" in exc.value.errors[0].message


def test_xsd_versions_are_compared_coarsely_and_say_so() -> None:
    base = load_folder(ECMS)
    files = dict(base.xsd_files)
    loosened = files["ram.xsd"].replace('<xs:element name="JobTitle" type="ram:TextType" minOccurs="0"/>\n', "", 1)
    assert loosened != files["ram.xsd"]
    required = files["ram.xsd"].replace('<xs:element name="GivenName" type="ram:TextType" minOccurs="0"/>',
                                        '<xs:element name="GivenName" type="ram:TextType"/>', 1)
    changes = compare_xsd(files, {**files, "ram.xsd": loosened})
    assert changes[0].kind == "xsd_comparison_coarse" and "coarse" in changes[0].message
    assert ("type:ram:PartyType/JobTitle", "element_removed") in {(c.path, c.kind) for c in compat.breaking(changes)}
    changes = compare_xsd(files, {**files, "ram.xsd": required})
    assert ("type:ram:PartyType/GivenName", "required_added") in {(c.path, c.kind) for c in compat.breaking(changes)}
    assert not compat.breaking(compare_xsd(files, files))


# ------------------------------------------------------------------ who may publish, immutability


def test_only_the_lead_agency_or_an_admin_may_publish(registry: StandardsRegistry) -> None:
    with pytest.raises(Forbidden) as exc:
        registry.publish(OPDC, order_version("1.0.1"))
    assert exc.value.status_code == 403
    assert "lead agency" in exc.value.message and "TH/GOV/OCSC" in exc.value.message
    assert "secondary" in exc.value.message
    assert exc.value.errors[0].rule == "lead_agency_only"
    with pytest.raises(Forbidden):  # the lead of another system is no better
        registry.publish(CGD, order_version("1.0.1"))
    assert registry.publish(OCSC, order_version("1.0.1")).created
    assert registry.publish(ADMIN_P, order_version("1.0.2")).created


def test_published_versions_are_immutable(registry: StandardsRegistry) -> None:
    same = registry.publish(OCSC, load_folder(ORDER))
    assert not same.created
    changed = order_version("1.0.0", lambda s: s["properties"]["book_number"].update(maxLength=65))
    with pytest.raises(Conflict) as exc:
        registry.publish(OCSC, changed)
    assert exc.value.status_code == 409 and "immutable" in exc.value.message


def test_examples_must_match_the_schema(registry: StandardsRegistry) -> None:
    def stricter(schema: dict) -> None:
        schema["properties"]["book_number"]["maxLength"] = 2  # valid examples now fail

    with pytest.raises(ValidationFailed) as exc:
        registry.publish(ADMIN_P, order_version("2.0.0", stricter))
    assert any(e.field.startswith("/examples/") and e.rule == "maxLength" for e in exc.value.errors)


# ------------------------------------------------------------------ edge validation


def envelope(**overrides: object) -> Envelope:
    values: dict[str, object] = {"sender": "TH/GOV/OPDC/hr", "receiver": "TH/GOV/OCSC/dpis",
                                 "service": "telework.order/v1", "standard": "th.telework.order@1.0.0",
                                 "payload": order_doc()}
    values.update(overrides)
    return Envelope.model_validate(values)


def test_valid_payload_passes_and_invalid_one_lists_every_violation(registry: StandardsRegistry) -> None:
    registry.validate_envelope(envelope())
    registry.validate_envelope(envelope(standard=None, payload={"anything": True}))
    bad = order_doc()
    bad["signer"]["role"] = "division-director"
    del bad["book_number"]
    with pytest.raises(ValidationFailed) as exc:
        registry.validate_envelope(envelope(payload=bad))
    assert {("/payload/signer/role", "enum"), ("/payload/book_number", "required")} <= refusal(exc)
    assert exc.value.status_code == 422


def test_xml_payload_errors_carry_the_line(registry: StandardsRegistry) -> None:
    xml = (ECMS / "examples" / "invalid" / "secret-code-005.xml").read_text(encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        registry.validate_envelope(envelope(standard="th.ecms.letter@1.0.0", content_type="application/xml",
                                            payload=xml))
    assert ("/payload", 8, "pattern") in {(e.field, e.line, e.rule) for e in exc.value.errors}
    hostile = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(ValidationFailed) as exc:
        registry.validate_envelope(envelope(standard="th.ecms.letter@1.0.0", content_type="text/xml",
                                            payload=hostile))
    assert exc.value.errors[0].rule == "unsafe-xml:doctype"
    good = (ECMS / "examples" / "valid" / "letter-full.xml").read_text(encoding="utf-8")
    registry.validate_envelope(envelope(standard="th.ecms.letter@1.0.0", content_type="application/xml",
                                        payload=good))


def test_unknown_standard_and_wrong_content_type_are_refused(registry: StandardsRegistry) -> None:
    with pytest.raises(ValidationFailed) as exc:
        registry.validate_envelope(envelope(standard="th.telework.order@9.9.9"))
    assert refusal(exc) == {("/standard", "unknown_standard")}
    assert "th.telework.order@9.9.9" in exc.value.message
    with pytest.raises(ValidationFailed) as exc:
        registry.validate_envelope(envelope(standard="th.ecms.letter@1.0.0"))
    assert refusal(exc) == {("/content_type", "standard_content_type")}


def test_deprecated_version_is_accepted_until_its_sunset_and_refused_after(registry: StandardsRegistry) -> None:
    registry.publish(OCSC, order_version("1.0.1"))
    registry.deprecate(OCSC, "th.telework.order", "1.0.0", date.today() + timedelta(days=30),
                       note="ใช้รุ่น 1.0.1", replaced_by="1.0.1")
    registry.validate_envelope(envelope())  # before the sunset: still accepted
    with pytest.raises(Forbidden):
        registry.deprecate(OPDC, "th.telework.order", "1.0.0", date.today())
    registry.deprecate(OCSC, "th.telework.order", "1.0.0", utcnow() - timedelta(minutes=1), replaced_by="1.0.1")
    with pytest.raises(ValidationFailed) as exc:
        registry.validate_envelope(envelope())
    assert refusal(exc) == {("/standard", "sunset")}
    assert "th.telework.order@1.0.0" in exc.value.message and "1.0.1" in exc.value.message
    assert registry.get("th.telework.order").version == "1.0.1"
    registry.validate_envelope(envelope(standard="th.telework.order@1.0.1"))


def test_a_deprecation_made_by_another_process_is_picked_up_in_the_background(registry: StandardsRegistry) -> None:
    """The status behind the edge check is re-read while in use, off the request, and a version
    past its sunset elsewhere is refused once re-read; never later than STATUS_TTL_SECONDS."""
    from hub.refresh_ahead import REFRESH_TO
    from hub.standards.edge import STATUS_TTL_SECONDS
    from tests.unit.test_refresh_ahead import Clock, settled

    clock = Clock()
    registry.edge._compiled._clock = clock
    registry.validate_envelope(envelope())
    elsewhere = StandardsRegistry(registry.store._engine, STANDARDS)  # another process: ours is not told
    elsewhere.deprecate(OCSC, "th.telework.order", "1.0.0", utcnow() - timedelta(minutes=1))
    registry.validate_envelope(envelope())  # within the bound, answered from memory as before
    clock.now += STATUS_TTL_SECONDS * REFRESH_TO + 0.01  # past the refresh point, within the bound
    registry.validate_envelope(envelope())  # still answered from memory; the re-read runs behind it
    settled()
    with pytest.raises(ValidationFailed) as exc:
        registry.validate_envelope(envelope())
    assert refusal(exc) == {("/standard", "sunset")}


def test_a_status_past_its_bound_is_read_by_the_caller(registry: StandardsRegistry) -> None:
    from hub.standards.edge import STATUS_TTL_SECONDS
    from tests.unit.test_refresh_ahead import Clock

    clock = Clock()
    registry.edge._compiled._clock = clock
    registry.validate_envelope(envelope())
    StandardsRegistry(registry.store._engine, STANDARDS).deprecate(
        OCSC, "th.telework.order", "1.0.0", utcnow() - timedelta(minutes=1))
    clock.now += STATUS_TTL_SECONDS + 0.01  # unused meanwhile: nothing re-read it
    with pytest.raises(ValidationFailed) as exc:
        registry.validate_envelope(envelope())
    assert refusal(exc) == {("/standard", "sunset")}


def test_compiled_validators_are_cached_per_version(registry: StandardsRegistry) -> None:
    registry.validate_envelope(envelope())
    first = registry.edge._validators["th.telework.order@1.0.0"].validator
    for _ in range(50):
        registry.validate_envelope(envelope())
    registry.edge.forget("th.telework.order@1.0.0")  # statuses are re-read; the validator is kept
    registry.validate_envelope(envelope())
    assert registry.edge._validators["th.telework.order@1.0.0"].validator is first


# ------------------------------------------------------------------ documentation and CLI


def test_docs_page_has_the_fields_table_in_thai_and_english_and_escapes_input(registry: StandardsRegistry) -> None:
    from hub.standards.docs import render_version

    page = render_version(registry.get("th.telework.order", "1.0.0"), registry.catalogue)
    assert '<table class="fields">' in page
    assert "Description (English)" in page and "คำอธิบาย (ภาษาไทย)" in page
    assert "<code>/signer/role</code>" in page
    assert "Only the head of the agency" in page and "ผู้มีอำนาจสั่ง" in page
    assert "ระบบบริหารทรัพยากรบุคคล" in page and "Human resources" in page  # the Back Office system
    assert "Operation step 3" in page  # the business process
    assert "Valid examples" in page

    hostile = order_version("2.0.0", lambda s: s["properties"]["book_number"].update(
        description="<script>alert(1)</script>"))
    page = render_version(hostile, registry.catalogue)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_xsd_docs_list_elements_with_their_descriptions(registry: StandardsRegistry) -> None:
    from hub.standards.docs import render_version

    page = render_version(registry.get("th.ecms.letter", "1.0.0"), registry.catalogue)
    assert "rsm:GovernmentDocument" in page and "หนังสือราชการอิเล็กทรอนิกส์" in page


def test_cli_docs_writes_a_page_per_standard_and_an_index(tmp_path: Path) -> None:
    from hub.cli import app

    out = tmp_path / "docs"
    result = CliRunner().invoke(app, ["standards", "docs", "--out", str(out), "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="th.telework.order/1.0.0.html"' in index
    page = (out / "th.telework.order" / "1.0.0.html").read_text(encoding="utf-8")
    assert "คำอธิบาย (ภาษาไทย)" in page
    assert len(list(out.glob("*/*.html"))) == len(list(STANDARDS.glob("*/*/meta.json")))


def test_cli_validate_publish_and_diff(tmp_path: Path) -> None:
    from hub.cli import app

    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "d")]
    ok = runner.invoke(app, ["standards", "validate", "th.telework.order",
                             str(ORDER / "examples" / "valid" / "opdc-regular.json"), *data])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["standards", "validate", "th.telework.order@1.0.0",
                              str(ORDER / "examples" / "invalid" / "signed-by-delegate.json"), *data])
    assert bad.exit_code == 1 and "/signer/role" in bad.output

    # a breaking 1.1.0 folder, published as a non-lead and then as the lead
    folder = tmp_path / "th.telework.order" / "1.1.0"
    import shutil

    shutil.copytree(ORDER, folder)
    import json

    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta["version"] = "1.1.0"
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    schema = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    schema["$id"] = "urn:th:hub:standard:th.telework.order:1.1.0"
    schema["required"].append("signer_note")
    schema["properties"]["signer_note"] = {"title": "Note", "description": "Note.", "x-description-th": "บันทึก",
                                           "type": "string"}
    (folder / "schema.json").write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    refused = runner.invoke(app, ["standards", "publish", str(folder), "--member", "TH/GOV/OPDC", *data])
    assert refused.exit_code == 2 and "lead agency" in refused.output
    refused = runner.invoke(app, ["standards", "publish", str(folder), *data])
    assert refused.exit_code == 2 and "/signer_note" in refused.output and "required_added" in refused.output


def test_fast_and_detailed_json_engines_agree_on_every_published_example() -> None:
    """The Rust check decides "valid"; jsonschema explains refusals: they must agree."""
    from jsonschema import Draft202012Validator

    from hub.standards.validation import JsonDocumentValidator

    checked = 0
    for folder in sorted(p.parent for p in STANDARDS.glob("*/*/schema.json")):
        version = load_folder(folder)
        compiled = JsonDocumentValidator(version.schema)
        reference = Draft202012Validator(version.schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        for example in version.examples:
            assert compiled._fast.is_valid(example.document) == reference.is_valid(example.document), (
                f"{version.ref} {example.kind}/{example.name}")
            assert (compiled.validate(example.document) == []) == (example.kind == "valid")
            checked += 1
    assert checked >= 80
