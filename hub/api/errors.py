"""Every error leaves the API in one shape: ``{"code", "message", "errors": [{field, rule, message}]}``."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from hub.api.responses import FastJSONResponse
from pydantic import ValidationError

from hub import metrics
from hub.errors import FieldError, HubError, ValidationFailed


def field_errors(exc: ValidationError | RequestValidationError, *, skip_loc: int = 0) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())][skip_loc:]
        msg = err.get("msg", "invalid")
        if err.get("type") == "value_error" and msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        # A model-level rule names its field at the start of the message ("payload: ...").
        if not loc and ": " in msg:
            loc, msg = [msg.split(": ", 1)[0]], msg.split(": ", 1)[1]
        errors.append(FieldError(".".join(loc) or "body", err.get("type", "invalid"), msg))
    return errors


def validation_failed(exc: ValidationError, what: str = "envelope") -> ValidationFailed:
    errors = field_errors(exc)
    return ValidationFailed(
        f"the {what} is invalid: " + "; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def _hub_error(_: Request, exc: HubError) -> FastJSONResponse:
        if exc.status_code < 500:
            metrics.REFUSED.labels(str(exc.status_code)).inc()
        return FastJSONResponse(exc.as_dict(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError) -> FastJSONResponse:
        errors = field_errors(exc)
        body = ValidationFailed(
            "the request is invalid: " + "; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors
        ).as_dict()
        return FastJSONResponse(body, status_code=422)
