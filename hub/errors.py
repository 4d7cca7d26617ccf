"""The hub's one error tree. Every error a client can see maps to one HTTP status.

    HubError
    ├── InputError (422)              bad input; ``errors`` lists each field and rule
    │   ├── ValidationFailed
    │   └── NoRoute                   no route for (receiver, service)
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── Conflict (409)
    │   └── IdempotencyConflict       same id re-posted with a different message
    ├── NotYetDelivered (409)         a receiver's answer came before its message was delivered
    ├── NotFound (404)
    ├── Unauthorized (401)            no, expired or tampered credentials
    ├── Forbidden (403)               authenticated, but no right to this
    ├── ConfigError                   the hub is mis-configured (refuses to start)
    └── AdapterError
        ├── UnknownAdapter            no adapter by that name ("did you mean ...")
        ├── AdapterContractError      a plug-in does not implement the contract
        └── DeliveryError             one delivery attempt failed (transient or permanent)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One violated rule: where, which rule, and what was expected."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class HubError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, errors: list[FieldError] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        body.update(self.extra)
        return body


class InputError(HubError):
    status_code = 422
    code = "invalid_input"


class ValidationFailed(InputError):
    code = "validation_failed"


class NoRoute(InputError):
    code = "no_route"


class PayloadTooLarge(HubError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(HubError):
    status_code = 415
    code = "unsupported_media_type"


class Conflict(HubError):
    status_code = 409
    code = "conflict"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class NotYetDelivered(HubError):
    """A receiver's outcome for a message that is still being delivered: keep it and try later
    (``InboundSink.record_outcome``, ``hub.transport.outcomes``)."""

    status_code = 409
    code = "not_yet_delivered"


class NotFound(HubError):
    status_code = 404
    code = "not_found"


class Unauthorized(HubError):
    status_code = 401
    code = "unauthorized"


class Forbidden(HubError):
    status_code = 403
    code = "forbidden"


class ConfigError(HubError):
    code = "config_error"


class AdapterError(HubError):
    code = "adapter_error"


class UnknownAdapter(AdapterError):
    status_code = 422
    code = "unknown_adapter"


class AdapterContractError(AdapterError):
    code = "adapter_contract"


class DeliveryError(AdapterError):
    """One delivery attempt failed. ``permanent`` means retrying cannot help (e.g. HTTP 400)."""

    code = "delivery_failed"

    def __init__(self, reason: str, *, permanent: bool = False, **detail: Any) -> None:
        super().__init__(reason, **detail)
        self.reason = reason
        self.permanent = permanent
