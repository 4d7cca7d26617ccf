"""Pydantic's validation errors as the hub's field errors, each naming its place by JSON Pointer.

``loc`` tuples become pointers (``("payload", "signer", 0)`` -> ``/payload/signer/0``) under
``at``, the pointer of what was validated (``""`` for a request body, ``/settings`` for an
adapter's settings). A model-level rule names the member it is about at the start of its
message as a pointer relative to the model: ``"/payload: an XML payload travels as a
string"`` becomes field ``/payload`` with the message after the colon.
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from hub.errors import FieldError, ValidationFailed, pointer

VALUE_ERROR_PREFIX = "Value error, "


def field_error(err: Any, at: str = "") -> FieldError:
    """One pydantic error (an item of ``ValidationError.errors()``) as a ``FieldError``."""
    where = at + pointer(*err.get("loc", ()))
    message = err.get("msg", "invalid")
    if err.get("type") == "value_error" and message.startswith(VALUE_ERROR_PREFIX):
        message = message[len(VALUE_ERROR_PREFIX):]
    member, sep, rest = message.partition(": ")
    if sep and member.startswith("/") and " " not in member:
        where, message = where + member, rest
    return FieldError(where, err.get("type", "invalid"), message)


def field_errors(exc: ValidationError, at: str = "") -> list[FieldError]:
    return [field_error(err, at) for err in exc.errors()]


def validation_failed(exc: ValidationError, what: str = "envelope", at: str = "") -> ValidationFailed:
    """``ValidationFailed`` (422) naming every field of the invalid ``what``."""
    errors = field_errors(exc, at)
    return ValidationFailed(f"the {what} is invalid: " + "; ".join(f"{e.field or '(body)'}: {e.message}"
                                                                   for e in errors), errors=errors)
