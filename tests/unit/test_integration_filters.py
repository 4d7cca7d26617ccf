"""Subscription filters against an event type's schema: pointers with * over arrays, projection."""
from __future__ import annotations

import json

from hub.config import default_standards_dir
from hub.integration.filters import check_filter, matches, project, subject_of

FOLDER = default_standards_dir() / "th.hr.person-changed/1.0.0"
SCHEMA = json.loads((FOLDER / "schema.json").read_text(encoding="utf-8"))
DOC = json.loads((FOLDER / "examples/valid/civil-servant.json").read_text(encoding="utf-8"))


def test_known_pointers_and_fields_pass() -> None:
    assert check_filter({"/organization/*/org_id": [1], "/position/pl_code": "510913", "/per_type": 1},
                        ["per_cardno", "organization"], SCHEMA) == []


def test_each_unknown_or_malformed_name_is_reported_with_its_pointer() -> None:
    problems = check_filter({"/ministry": 1, "per_type": 1, "/organization/*/nope": 2, "/per_type": {"a": 1}},
                            ["per_cardno", "salary"], SCHEMA)
    assert {(p.field, p.rule) for p in problems} == {
        ("/filter/match/~1ministry", "known_field"), ("/filter/match/per_type", "json_pointer"),
        ("/filter/match/~1organization~1*~1nope", "known_field"), ("/filter/match/~1per_type", "type"),
        ("/filter/fields/1", "known_field")}


def test_matching_over_arrays_and_values() -> None:
    assert matches({"/organization/*/org_id": [1, 99]}, DOC)
    assert matches({"/organization/*/org_id": 3300, "/per_type": 1}, DOC)
    assert not matches({"/organization/*/org_id": [2]}, DOC)
    assert not matches({"/per_type": 1, "/level_no": "K5"}, DOC)
    assert not matches({"/per_email": "x"}, {"per_type": 1})  # a missing member matches nothing
    assert matches({}, DOC)


def test_projection_and_subject() -> None:
    assert project(DOC, ["per_cardno", "level_no", "per_email"]) == {
        "per_cardno": DOC["per_cardno"], "level_no": "K2", "per_email": DOC["per_email"]}
    assert project(DOC, None) is DOC
    assert subject_of(DOC, "per_cardno") == DOC["per_cardno"] and subject_of(DOC, None) is None
