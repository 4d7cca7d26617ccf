"""Refusals. Each names the field (a JSON Pointer: ``/signer/citizen_id``, ``/case/status``),
the rule broken and what was expected, plus the reason in the words of the regulation
(seed 001) where there is one.

They are branches of the hub's one error tree (``hub/errors.py``): a refusal is bad input
(422), a missing authority is ``Forbidden`` (403), a step out of order is a ``Conflict`` (409),
so the API maps them like every other error. ``hub.errors`` imports nothing but the standard
library, which keeps the domain free of frameworks.
"""
from __future__ import annotations

from hub.errors import Conflict, FieldError, Forbidden, InputError, NotFound


class TeleworkRefused(InputError):
    """The regulation or the agency's policy does not allow this step."""

    code = "telework_refused"

    def __init__(self, message: str, *, field: str, rule: str, expected: str,
                 reason_th: str | None = None, seed: str | None = None) -> None:
        extra = {"reason_th": reason_th, "seed": seed}
        super().__init__(message, errors=[FieldError(field, rule, expected)],
                         **{k: v for k, v in extra.items() if v})
        self.field = field
        self.rule = rule
        self.expected = expected
        self.reason_th = reason_th


# The HTTP class comes first in each MRO so that its status code wins over InputError's 422.
class NotAuthorised(Forbidden, TeleworkRefused):
    """The person acting holds no authority for this step (e.g. not head of agency)."""

    code = "telework_not_authorised"


class InvalidState(Conflict, TeleworkRefused):
    """The case is not at a step where this action is possible."""

    code = "telework_invalid_state"


# A case, or a person HR does not know: the hub's own 404 (the HR adapter raises it too).
CaseNotFound = NotFound
