"""The hub's one error tree. Every error a client can see maps to one HTTP status.

    HubError (500)
    ├── InputError (422)              bad input; ``errors`` lists each field and rule
    │   ├── ValidationFailed
    │   ├── NoRoute                   no route for (receiver, service)
    │   └── TeleworkRefused           hub.apps.telework.domain.errors: the regulation or policy says no
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── Conflict (409)
    │   ├── IdempotencyConflict       same id re-posted with a different message
    │   └── InvalidState              hub.apps.telework.domain.errors: a case step out of order (also a TeleworkRefused)
    ├── NotYetDelivered (409)         a receiver's outcome for a message not delivered yet
    ├── NotFound (404)
    ├── Unauthorized (401)            no, expired or tampered credentials
    ├── Forbidden (403)               authenticated, but no right to this
    │   ├── NotAuthorised             hub.apps.telework.domain.errors: no authority for this step (also a TeleworkRefused)
    │   ├── QueryRefused              hub.integration.queries: no right, not acting for the client, or not cleared
    │   └── RecordRefused             hub.integration.record_access: every refusal of a unified record read, one answer
    ├── TooManyRequests (429)         a limit on secret checks; ``retry_after`` seconds (the Retry-After header)
    ├── Unavailable (503)             the hub is saturated or its database is down; ``retry_after`` seconds
    ├── ConfigError                   the hub is mis-configured (refuses to start)
    ├── TeleworkNotConfigured (503)   hub.apps.telework.wiring: no telework application (or system) on this hub
    ├── QuerySourceError (502)        hub.integration.queries: a query's provider failed, answered garbage or too much
    ├── QueryTimeout (504)            hub.integration.queries: a query's provider did not answer within its timeout
    └── AdapterError
        ├── UnknownAdapter (422)      no adapter by that name ("did you mean ...")
        ├── AdapterContractError      a plug-in does not implement the contract
        ├── DeliveryError             one delivery attempt failed (transient or permanent)
        ├── PeerError                 hub.adapters.ecms.codec.codes: a remote e-CMS node refused or did not answer
        └── QueryAnswerError          hub.adapters.base: a system's answer to a query is an error, garbage or too large
            └── QueryTimedOut         hub.adapters.base: a system did not answer a query in time

A class without a status inherits its parent's; classes defined elsewhere name their module.
``tests/unit/test_error_tree.py`` fails when a ``HubError`` subclass is missing here.

Every error leaves the API as ``{"code", "message", "errors": [{"field", "rule", "message"}]}``
(``errors`` may be empty), plus any extra members the error carries.

Field paths. ``FieldError.field`` is always a JSON Pointer (RFC 6901; ``pointer`` escapes one from parts):

* a request body's members are pointed at from the body's root: ``/sender``,
  ``/payload/signer/role``, ``/fields/address/district_code``; ``""`` (the empty pointer)
  is the whole body, e.g. when it is not JSON at all;
* any other part of a request is pointed at under its location, named as FastAPI names it:
  ``/query/limit``, ``/path/citizen_id``, ``/header/content-type``;
* a document carried inside the body is pointed into from the member that carries it
  (``/payload/person/citizen_id``, ``/examples/0/document/signer``). An XML document has no
  pointer inside it: the error names the member (``/payload``) and the line in ``line``;
* a compatibility break between two versions of a standard points at the place in the
  standard's documents (``/issuing_agency``; an XSD component as ``/type:ram:PartyType/JobTitle``);
* an error about something other than the request (a stored case, a file a receiver wrote,
  the hub's settings) points from a first segment naming that thing: ``/case/status``,
  ``/trailer/record_count``, ``/HUB_ECMS_ALLOWLIST``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def pointer(*parts: object) -> str:
    """The JSON Pointer (RFC 6901) to ``parts``: ``pointer("payload", "signer", 0)`` is
    ``/payload/signer/0``; ``~`` and ``/`` inside a part are escaped; no parts is ``""``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class FieldError:
    """One violated rule: where (a JSON Pointer, see above), which rule, and what was expected.

    ``line`` is set when the place is a line of an XML document (which a pointer cannot reach).
    """

    field: str
    rule: str
    message: str
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"field": self.field, "rule": self.rule, "message": self.message}
        if self.line is not None:
            body["line"] = self.line
        return body


class HubError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, errors: list[FieldError] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message,
                                "errors": [e.as_dict() for e in self.errors]}
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


class TooManyRequests(HubError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(message, retry_after=retry_after, **extra)
        self.retry_after = max(1, int(retry_after))


class Unavailable(HubError):
    status_code = 503
    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(message, retry_after=retry_after, **extra)
        self.retry_after = max(1, int(retry_after))


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
