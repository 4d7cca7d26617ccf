"""Validate telework documents against the published standards (``standards/th.telework.*``).

Uses the standards layer's JSON validator (JSON Schema 2020-12 with formats and JSON-Pointer
issues) when it is installed, else jsonschema directly on the same files. A document that
fails is never stored or sent: the error lists each path and rule.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from hub.errors import FieldError, ValidationFailed

VERSION = "1.0.0"

POLICY, AGREEMENT, PROPOSAL, ORDER, PROGRESS, TIME_EVIDENCE, EMEETING, REVOCATION = (
    "th.telework.policy", "th.telework.agreement", "th.telework.proposal", "th.telework.order",
    "th.telework.progress", "th.telework.time-evidence", "th.telework.emeeting", "th.telework.revocation",
)
FINAL_REPORT, EVALUATION, ANNUAL_EVALUATION, SAVINGS = (
    "th.telework.final-report", "th.telework.evaluation", "th.telework.annual-evaluation", "th.telework.savings",
)

GSMS_KPI = "th.gsms.kpi"  # the KPI report to GSMS, with the GFMIS verdict it relates to (seed 000)


# Standards the application uses at a later version (each a compatible addition).
# 1.1.0: the policy's work_list (positions and duties it decides on); 1.2.0: the other contents
# seed 001 §9.1 asks of a policy (selection, monitoring, ending, ethics).
VERSIONS = {POLICY: "1.2.0"}


def version(standard: str) -> str:
    return VERSIONS.get(standard, VERSION)


def ref(standard: str) -> str:
    """``th.telework.order`` -> ``th.telework.order@1.0.0`` (the envelope's ``standard``)."""
    return f"{standard}@{version(standard)}"


@functools.cache
def _validator(schema_file: Path) -> Any:
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    try:
        from hub.standards.validation import JsonDocumentValidator
    except ImportError:  # the standards layer not installed: the same schema through jsonschema
        return _Fallback(schema)
    return JsonDocumentValidator(schema)


class _Fallback:
    def __init__(self, schema: dict[str, Any]) -> None:
        from jsonschema import Draft202012Validator, FormatChecker

        self._v = Draft202012Validator(schema, format_checker=FormatChecker())

    def validate(self, document: Any) -> list[Any]:
        issues = []
        for e in self._v.iter_errors(document):
            base = "".join(f"/{p}" for p in e.absolute_path)
            if e.validator == "required" and isinstance(e.instance, dict):
                issues += [_Issue(f"{base}/{n}", "required", f"{n!r} is required")
                           for n in e.validator_value if n not in e.instance]
            else:
                issues.append(_Issue(base or "/", str(e.validator), e.message))
        return issues


class _Issue:
    def __init__(self, path: str, rule: str, message: str) -> None:
        self.path, self.rule, self.message = path, rule, message


class Documents:
    """The telework standards of one standards folder (the hub's ``Settings.standards_dir``)."""

    def __init__(self, standards_dir: Path) -> None:
        self.standards_dir = standards_dir

    def validate(self, standard: str, document: dict[str, Any], *, pending: tuple[str, ...] = ()) -> dict[str, Any]:
        """Raise ``ValidationFailed`` listing every problem. ``pending`` names top-level members that
        another system fills in later (the e-Saraban assigns ``book_number`` when it sends)."""
        skip = {f"/{name}" for name in pending}
        validator = _validator(self.standards_dir / standard / version(standard) / "schema.json")
        issues = [i for i in validator.validate(document) if i.path not in skip]
        if issues:
            raise ValidationFailed(
                f"the {ref(standard)} document is invalid ({len(issues)} problem(s))",
                # The document's pointers; "" is the document as a whole (validators say "/").
                errors=[FieldError("" if i.path in ("", "/") else i.path, i.rule, i.message) for i in issues],
            )
        return document
