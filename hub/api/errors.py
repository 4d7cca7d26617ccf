"""Every error leaves the API in one shape: ``{"code", "message", "errors": [{field, rule, message}]}``.

``HubError`` carries its own code and status; request validation is ``validation_failed``
(422); what Starlette answers by itself — no route for the path (404), a method the route
does not take (405) — gets the same shape, its code named after the status.
Field paths are JSON Pointers (the rule is in ``hub/errors.py``): a request body's members
from its root (``/sender``), other parts under their location (``/query/limit``).
"""
from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from hub import metrics
from hub.api.responses import FastJSONResponse
from hub.errors import FieldError, HubError, PayloadTooLarge, Unavailable, ValidationFailed, pointer
from hub.logging_setup import story
from hub.schemas.validation import field_error


def request_field_errors(exc: RequestValidationError) -> list[FieldError]:
    """FastAPI names where each error is (``body``, ``query``, ``path``, ``header``) first: a body's
    members are pointed at from the body's root, the other locations keep their name."""
    errors = []
    for err in exc.errors():
        location, *rest = err.get("loc", ()) or ("body",)
        if err.get("type") == "json_invalid":  # the rest of loc is a character position, not a member
            err = {**err, "msg": f"{err.get('msg', 'invalid JSON')} at character {rest[0]}" if rest else err.get("msg")}
            rest = []
        at = "" if location == "body" else pointer(location)
        errors.append(field_error({**err, "loc": tuple(rest)}, at))
    return errors


def _code(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


refusals = story("hub.api.refusals")


def _route_path(request: Request) -> str:
    """The matched route's template, not the URL: values in a path (a citizen's ID) stay out of logs."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or request.url.path


def install(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def _hub_error(request: Request, exc: HubError) -> FastJSONResponse:
        if exc.status_code < 500:
            metrics.REFUSED.labels(str(exc.status_code)).inc()
            refusals.warning("request.refused", method=request.method, path=_route_path(request),
                             status=exc.status_code, code=exc.code, reason=exc.message)
        retry_after = getattr(exc, "retry_after", None)  # 429 / 503: when to come back
        return FastJSONResponse(exc.as_dict(), status_code=exc.status_code,
                                headers={"Retry-After": str(retry_after)} if retry_after else None)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_unavailable(_: Request, exc: Exception) -> FastJSONResponse:
        # The database does not answer (restart, outage, pool exhausted): the client should
        # come back, not see a bare 500 (finding 8 of issue 12).
        refusal = Unavailable("the hub's database does not answer right now; try again shortly", retry_after=5)
        return FastJSONResponse(refusal.as_dict(), status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> FastJSONResponse:
        errors = request_field_errors(exc)
        body = ValidationFailed(
            "the request is invalid: " + "; ".join(f"{e.field or '(body)'}: {e.message}" for e in errors),
            errors=errors,
        ).as_dict()
        refusals.warning("request.refused", method=request.method, path=_route_path(request), status=422,
                         code=body["code"], reason=body["message"])
        return FastJSONResponse(body, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> FastJSONResponse:
        # Raised by routing itself (no route for the path, a method the route does not take).
        if exc.status_code == 404:
            message = f"no resource at {request.url.path}"
        elif exc.status_code == 405:
            allowed = next((v for k, v in (exc.headers or {}).items() if k.lower() == "allow"), None)
            message = f"{request.method} is not allowed on {request.url.path}" + (f"; allowed: {allowed}" if allowed else "")
        elif exc.status_code == 413:  # a body cut while streaming (hub.api.body_limits)
            limit = request.scope.get("starlette.max_body_size")
            return FastJSONResponse(PayloadTooLarge(
                f"the request body exceeds the limit of {limit} bytes for {request.url.path}", limit=limit).as_dict(),
                status_code=413, headers={"Connection": "close"})
        else:
            message = str(exc.detail)
        body = {"code": _code(exc.status_code), "message": message, "errors": []}
        return FastJSONResponse(body, status_code=exc.status_code, headers=exc.headers)
