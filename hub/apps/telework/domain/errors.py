"""Refusals. Each names the field, the rule broken and what was expected, plus the reason
in the words of the regulation (seed 001) where there is one."""
from __future__ import annotations

from hub.errors import FieldError, HubError


class TeleworkRefused(HubError):
    """The regulation or the agency's policy does not allow this step."""

    status_code = 422
    code = "telework_refused"

    def __init__(self, message: str, *, field: str, rule: str, expected: str,
                 reason_th: str | None = None, seed: str | None = None) -> None:
        extra = {}
        if reason_th:
            extra["reason_th"] = reason_th
        if seed:
            extra["seed"] = seed
        super().__init__(message, errors=[FieldError(field, rule, expected)], **extra)
        self.field = field
        self.rule = rule
        self.expected = expected
        self.reason_th = reason_th


class NotAuthorised(TeleworkRefused):
    """The person acting holds no authority for this step (e.g. not head of agency)."""

    status_code = 403
    code = "telework_not_authorised"


class InvalidState(TeleworkRefused):
    """The case is not at a step where this action is possible."""

    status_code = 409
    code = "telework_invalid_state"


class CaseNotFound(HubError):
    status_code = 404
    code = "not_found"
