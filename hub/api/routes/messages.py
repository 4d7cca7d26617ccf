"""``/v1/messages``: submit, read, list and replay messages."""
from __future__ import annotations

import inspect
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.responses import StreamingResponse
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette._utils import get_route_path
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from hub import metrics
from hub.api.deps import MessagesDep, PrincipalDep, SecurityDep, current_principal
from hub.api.responses import AcceptedResponse
from hub.api.spooling import parse_spooled, spool_dir, spool_rest
from hub.errors import FieldError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from hub.schemas.endpoints import hide_endpoints, hide_in_detail
from hub.schemas.envelope import Envelope, StoredMessage, StreamedPayload
from hub.schemas.messages import MessageAccepted, MessageDetail, MessagePage
from hub.schemas.principal import Principal
from hub.schemas.validation import validation_failed
from hub.security.listing import list_visible
from hub.security.wiring import Security, security_of
from hub.transport.messages import MessageService

router = APIRouter(prefix="/v1/messages", tags=["messages"])

# Room for the envelope's own fields around the largest allowed payload.
ENVELOPE_OVERHEAD = 64 * 1024


def links(message_id: str, principal: Principal) -> dict[str, str]:
    """Where to go next; ``replay`` only for those who may (hub admins)."""
    found = {"self": f"/v1/messages/{message_id}"}
    if principal.is_admin:
        found["replay"] = f"/v1/messages/{message_id}/replay"
    return found


async def read_limited_body(request: Request, limit: int, spool: tuple[int, Path] | None = None) -> Any:
    """Read the body, refusing as soon as it passes ``limit`` instead of buffering it all.

    The buffer is returned as is (orjson parses a bytearray): a copy of a large body would
    double what a request holds. With a Content-Length it is allocated once and filled in
    place, because a growing buffer briefly holds its old and new copies together.
    ``spool=(threshold, data_dir)``: a body larger than ``threshold`` is returned as a
    temporary file instead (``hub.api.spooling``).
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        size = int(declared)
        if size > limit:
            raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit} bytes", limit=limit)
        if spool is not None and size > spool[0]:
            return await spool_rest(request.stream(), b"", limit, size, spool[1])
        body = bytearray(size)
        filled = 0
        with memoryview(body) as view:
            async for chunk in body_chunks(request.receive):
                end = filled + len(chunk)
                if end > size:
                    raise ValidationFailed(
                        f"the body is longer than its Content-Length of {size} bytes",
                        errors=[FieldError("/header/content-length", "matches_body", f"{size} bytes")])
                view[filled:end] = chunk
                filled = end
        if filled != size:
            raise ValidationFailed(f"the body ended after {filled} of its {size} declared bytes",
                                   errors=[FieldError("/header/content-length", "matches_body", f"{size} bytes")])
        return body
    body = bytearray()
    chunks = body_chunks(request.receive)
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes", limit=limit)
        if spool is not None and len(body) > spool[0]:  # the rest of the same stream goes to the file
            return await spool_rest(chunks, body, limit, None, spool[1])
    return body


async def body_chunks(receive: Receive) -> Any:
    """The request body's chunks as they arrive: what ``Request.stream`` yields for a body not
    read before (this route reads it once), without its empty trailing chunk and its checks
    for a body already consumed."""
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()


MAX_PAYLOAD_DEPTH = 200  # orjson writes at most 255 levels (the envelope adds some); deeper was a 500


def nesting_depth(value: object) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_envelope(raw: bytes | bytearray) -> Envelope:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed(
            f"the body is not valid JSON: {exc}", errors=[FieldError("", "json", str(exc))]
        ) from exc
    if not isinstance(data, dict):
        raise ValidationFailed(
            "the body must be a JSON object (the envelope)",
            errors=[FieldError("", "type", f"expected an object, got {type(data).__name__}")],
        )
    # Every level of nesting opens with its own bracket, so a body with no more brackets than
    # the limit (any ordinary one) cannot nest deeper: counting them in C spares the walk.
    if (raw.count(b"{") + raw.count(b"[") > MAX_PAYLOAD_DEPTH
            and (depth := nesting_depth(data.get("payload"))) > MAX_PAYLOAD_DEPTH):
        raise ValidationFailed(
            f"the payload nests {depth} levels deep; at most {MAX_PAYLOAD_DEPTH} are accepted",
            errors=[FieldError("/payload", "max_depth", f"at most {MAX_PAYLOAD_DEPTH} levels of nesting")])
    try:
        return Envelope.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(exc) from exc


class LeanRoute(APIRoute):
    """A route whose endpoint takes the request alone and looks up what it needs itself.

    FastAPI's request handler resolves the dependency graph on every call (the app-wide
    authentication and every ``Depends`` alias): about a sixth of the CPU of an accept under
    load. The route is still declared through FastAPI, so OpenAPI, matching, the exception
    handlers and ``scope["route"]`` are unchanged; only the per-request resolution is skipped,
    so the endpoint must do what the app-wide dependencies would (``authenticated``).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint


async def authenticated(request: Request, security: Security | None) -> Principal:
    """What ``require_principal`` does for a route that is not public, honouring a test's override."""
    override = request.app.dependency_overrides.get(current_principal)
    if override is not None:
        principal = override()
        return await principal if inspect.isawaitable(principal) else principal
    if security is not None:  # a token verified before, its client cached: no I/O, no request.state
        principal = security.authenticator.remembered(request.headers)
        if principal is not None:
            return principal
    return await current_principal(request)


async def submit_message(request: Request) -> AcceptedResponse:
    """Submit a message; 202 once it is durably stored."""
    started = time.perf_counter()
    hub = request.app.state.hub
    principal = await authenticated(request, getattr(hub, "security", None))
    messages, security, settings = hub.messages, security_of(hub), hub.settings
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType(
            f"content type {media or '(none)'!r} is not accepted; send the envelope as application/json",
            errors=[FieldError("/header/content-type", "media_type", "application/json")],
        )
    raw = await read_limited_body(request, settings.max_payload_bytes + ENVELOPE_OVERHEAD,
                                  (settings.spool_threshold_bytes, settings.data_dir))
    if isinstance(raw, bytearray):
        envelope = parse_envelope(raw)
        del raw  # the parsed envelope holds the payload now; keep one copy, not two
        # Deny by default: the principal acts for the sender, holds the right, and the receiver is cleared.
        grant = security.access.remembered_submit_grant(principal, envelope) or await run_in_threadpool(
            security.access.authorize_submit, principal, envelope, record_grant=False)
        # The grant is appended to the audit trail in the transaction that stores the message.
        result = await messages.accept_async(envelope, audit=grant, release_payload=True)
    else:  # a large body, spooled: parsed from its file, its payload stored from another
        directory = spool_dir(settings.data_dir)
        with raw, tempfile.TemporaryFile(dir=directory) as stored:
            envelope, spooled = await run_in_threadpool(parse_spooled, raw, stored, MAX_PAYLOAD_DEPTH, directory)
            raw.close()
            grant = await run_in_threadpool(security.access.authorize_submit, principal, envelope, record_grant=False)
            result = await messages.accept_spooled_async(envelope, spooled, audit=grant)
    if result.created:
        metrics.ACCEPTED.inc()
        metrics.ACCEPT_SECONDS.observe(time.perf_counter() - started)
    # Rendered here rather than through the response model: the hot path of ``hub bench``.
    return AcceptedResponse({"id": result.id, "status": result.status, "links": links(result.id, principal)},
                            f"/v1/messages/{result.id}", replayed=not result.created)


router.add_api_route(
    "", submit_message, methods=["POST"],
    route_class_override=LeanRoute,
    status_code=202,
    response_model=MessageAccepted,
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": Envelope.model_json_schema(ref_template="#/components/schemas/{model}")}}}},
    responses={409: {"description": "same id, different content"}, 413: {"description": "payload too large"},
               415: {"description": "not application/json"}, 422: {"description": "invalid envelope or no route"}},
)


class SubmitShortcut(BaseRoute):
    """``POST /v1/messages`` matched first in the app's route table and handed to its endpoint.

    FastAPI matches a request by walking the app's routes and every included router's
    candidates (the docs routes, the console and citizen mounts, the health router, then the
    messages router), then wraps the endpoint in per-request exit stacks and its own
    exception layer: about a sixth of the event loop's time on an accept. Here one comparison
    selects the declared route (``scope["route"]`` is that route, as before), and the
    endpoint's errors go to the app's exception handlers through ``ExceptionMiddleware``,
    which answers them exactly as the route's own layer did. Every other method on the path,
    and every other path, falls through to the routers; the declared route stays the one in
    the OpenAPI document.
    """

    include_in_schema = False

    def __init__(self, declared: APIRoute) -> None:
        self.declared = declared
        self.path = self.path_format = declared.path
        self.endpoint = declared.endpoint

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["method"] == "POST" and get_route_path(scope) == self.path:
            return Match.FULL, {"endpoint": self.endpoint, "path_params": {}, "route": self.declared}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)  # the declared route answers url_path_for

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.endpoint(Request(scope, receive, send))
        await response(scope, receive, send)


def submit_shortcut() -> SubmitShortcut:
    """The shortcut for this router's declared submit route (``hub.api.app`` puts it first)."""
    declared = next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is submit_message)
    return SubmitShortcut(declared)


SenderQuery = Annotated[str | None, Query(
    max_length=200, description="The sender whose message id this is: ids are unique per sender, so "
                                "needed only when two senders' messages with this id are visible to you.")]


def visible(messages: MessageService, security: Security, principal: Principal, message_id: str,
            sender: str | None) -> StoredMessage | None:
    """The one message with this id ``principal`` may see, else None (or the first it may not,
    so the trail says why it was refused). Another sender's message with the same id is not
    revealed: the caller gets the same 404 as for an id no one used."""
    found = [m for m in messages.find(message_id) if sender is None or m.sender == sender]
    mine = [m for m in found if security.access.may_read(principal, m)]
    if len(mine) > 1:
        raise ValidationFailed(
            f"{len(mine)} messages you may read have the id {message_id} (ids are unique per sender); "
            "say whose with ?sender=",
            errors=[FieldError("/query/sender", "required", "one of " + ", ".join(m.sender for m in mine))])
    return mine[0] if mine else (found[0] if found else None)


def as_party_sees(meta: StoredMessage) -> StoredMessage:
    """The message as a sender or receiver sees it: delivery errors without endpoints."""
    return meta.model_copy(update={"last_error": hide_endpoints(meta.last_error)}) if meta.last_error else meta


async def readable(messages: MessageService, security: Security, principal: Principal, message_id: uuid.UUID,
                   action: str = "read", sender: str | None = None) -> StoredMessage:
    """The message's metadata if ``principal`` may read it; the same 404 as a missing one otherwise."""
    meta = await run_in_threadpool(visible, messages, security, principal, str(message_id), sender)
    return await run_in_threadpool(security.access.authorize_read, principal, str(message_id), meta, action)


@router.get("", response_model=MessagePage)
async def list_messages(
    messages: MessagesDep,
    security: SecurityDep,
    principal: PrincipalDep,
    sender: str | None = None,
    receiver: str | None = None,
    service: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MessagePage:
    """List messages, oldest first, with cursor paging."""
    scope = security.access.scope(principal)
    if scope is None:  # hub admins see every message
        items, next_cursor = await run_in_threadpool(
            messages.list, sender=sender, receiver=receiver, service=service, status=status,
            since=since, cursor=cursor, limit=limit,
        )
    else:  # everyone else only what they sent or received, up to their clearance
        items, next_cursor = await run_in_threadpool(
            lambda: list_visible(messages, scope, sender=sender, receiver=receiver, service=service,
                                 status=status, since=since, cursor=cursor, limit=limit))
        items = [as_party_sees(m) for m in items]
    return MessagePage(items=items, next_cursor=next_cursor)


@router.get("/{message_id}", response_model=MessageDetail)
async def get_message(message_id: uuid.UUID, messages: MessagesDep, security: SecurityDep,
                      principal: PrincipalDep, sender: SenderQuery = None) -> MessageDetail:
    """A message's metadata and its full status history."""
    meta = await readable(messages, security, principal, message_id, sender=sender)
    history = await run_in_threadpool(messages.history, meta.key or str(message_id))
    if not principal.is_admin:  # the receiver's internal addresses are for the hub's operators
        meta = as_party_sees(meta)
        history = [{**h, "detail": hide_in_detail(h["detail"])} for h in history]
    return MessageDetail(**dict(meta), history=history, links=links(str(message_id), principal))


@router.get("/{message_id}/payload", response_class=Response, responses={200: {
    "description": "The payload exactly as submitted, with the message's content type",
    "content": {"application/json": {"schema": {"type": ["object", "array"]}},
                "application/xml": {"schema": {"type": "string"}}}}})
async def get_payload(message_id: uuid.UUID, messages: MessagesDep, security: SecurityDep,
                      principal: PrincipalDep, sender: SenderQuery = None) -> Response:
    """The stored payload, byte for byte."""
    meta = await readable(messages, security, principal, message_id, "read_payload", sender=sender)
    body = await run_in_threadpool(messages.payload_stream, meta.key or str(message_id))
    if isinstance(body, StreamedPayload):  # a spooled payload, sent a piece at a time
        return StreamingResponse(body.pieces(), media_type=meta.content_type,
                                 headers={"Content-Length": str(body.size)})
    return Response(body, media_type=meta.content_type)


@router.post("/{message_id}/replay", status_code=202, response_model=MessageAccepted)
async def replay_message(message_id: uuid.UUID, messages: MessagesDep, security: SecurityDep,
                         principal: PrincipalDep, sender: SenderQuery = None) -> MessageAccepted:
    """Deliver a message again (hub admins); recorded in its history, the original kept."""
    meta = await run_in_threadpool(visible, messages, security, principal, str(message_id), sender)
    meta = await run_in_threadpool(security.access.authorize_replay, principal, str(message_id), meta)
    meta = await run_in_threadpool(messages.replay, meta.key or str(message_id))
    return MessageAccepted(id=str(meta.id), status=meta.status, links=links(str(meta.id), principal))
