"""The API's one error shape, checked on every error answer a test client receives.

``check_error_answer`` is installed on every ``TestClient`` by the autouse fixture in
``tests/conftest.py``: whatever a test asserts about an error, the answer must also be
``{"code", "message", "errors": [...]}`` with each error's ``field`` a JSON Pointer (RFC 6901).
"""
from __future__ import annotations

import re
from typing import Any

import httpx

# "" (the whole document) or "/"-separated reference tokens, "~" only as ~0 or ~1.
JSON_POINTER = re.compile(r"(/([^~/]|~[01])*)*")


def is_json_pointer(value: object) -> bool:
    return isinstance(value, str) and JSON_POINTER.fullmatch(value) is not None


def assert_error_shape(body: Any) -> None:
    assert isinstance(body, dict) and {"code", "message", "errors"} <= set(body), f"not the error shape: {body}"
    assert isinstance(body["code"], str) and isinstance(body["message"], str), body
    assert isinstance(body["errors"], list), body
    for error in body["errors"]:
        assert {"field", "rule", "message"} <= set(error), f"not a field error: {error}"
        assert is_json_pointer(error["field"]), f"field {error['field']!r} is not a JSON Pointer: {body}"


# Answers that are not errors although their status is: the readiness probe reports its
# checks (the ``Readiness`` model) with 503 when a dependency is down.
NOT_ERRORS = {"/readyz"}


def check_error_answer(response: httpx.Response) -> None:
    """An error (4xx/5xx) answered in JSON must have the error shape; other answers pass."""
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if response.status_code >= 400 and media == "application/json" and response.request.url.path not in NOT_ERRORS:
        assert_error_shape(response.json())
