"""Book numbers as agencies write them (ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ): Arabic or Thai
digits, sub-units, circulars (ว) — accepted by the telework schemas that carry a book number
and by the e-CMS letter standard."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from hub.adapters.ecms.codec.letter import Binary, Letter, Party, validate
from hub.config import default_standards_dir

VALID = ["นร 1200/1234", "กค 0401/12", "กค ๐๔๐๑/๑๒", "นร 1200/ว 12", "นร 1200/ว12", "นร ๑๒๐๐/ว ๑๒",
         "กค 0401.2/77", "กค0401/5"]
INVALID = ["1234", "กค 0401/", "กค 0401/ก", "ว 12", "กค 0401 / 12", "กค 0401/ว"]
CARRIERS = ["th.telework.order", "th.telework.revocation", "th.telework.time-evidence"]


def book_number_patterns() -> list[str]:
    patterns = []
    for standard in CARRIERS:
        schema = json.loads((default_standards_dir() / standard / "1.0.0" / "schema.json").read_text())
        found = [p for p in _patterns(schema) if "ก-ฮ" in p]
        assert found, f"{standard} carries no book-number pattern"
        patterns += found
    return sorted(set(patterns))


def _patterns(node: object):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


@pytest.mark.parametrize("number", VALID)
def test_the_telework_schemas_accept_book_numbers_as_written(number):
    for pattern in book_number_patterns():
        assert not list(Draft202012Validator({"type": "string", "pattern": pattern}).iter_errors(number)), pattern


@pytest.mark.parametrize("number", INVALID)
def test_the_telework_schemas_refuse_what_is_no_book_number(number):
    for pattern in book_number_patterns():
        assert list(Draft202012Validator({"type": "string", "pattern": pattern}).iter_errors(number)), pattern


@pytest.mark.parametrize("number", VALID)
def test_the_ecms_letter_standard_accepts_them(number):
    letter = Letter(number, "2024-10-01", "ทดสอบ", "001", "001", Party("0400", "0401"), Party("0400", "0402"),
                    Binary("MainLetterBinaryObject", "application/pdf", "0" * 64, 1))
    validate(letter, default_standards_dir())
