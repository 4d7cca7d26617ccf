"""``/v1/events``: publish an event (Tell Us Once), list and read events, the event types."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from hub.api.deps import IntegrationDep, PrincipalDep
from hub.api.public import public
from hub.integration.fanout import EventIn
from hub.schemas.envelope import StoredMessage
from hub.schemas.messages import MessageAccepted

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.get("/types", response_model=list[dict[str, Any]])
@public("published event and application types are public documents, like the standards they come from")
async def event_types(integration: IntegrationDep) -> list[dict[str, Any]]:
    """The published event types: name, standard, lead agency, classification, subject field."""
    return [e.as_dict() for e in integration.catalogue.event_types()]


@router.post("", status_code=202, response_model=MessageAccepted,
             responses={403: {"description": "no right toward the events party, or not cleared"},
                        422: {"description": "unknown event type or invalid against its standard"}})
async def publish_event(body: EventIn, response: Response, integration: IntegrationDep,
                        principal: PrincipalDep) -> dict[str, Any]:
    """Publish an event once; the hub delivers it to every matching subscription. Same as
    ``POST /v1/messages`` to the events party with the event type as service (the source needs
    the right (source, event type, events party)); ``id`` makes a retry harmless."""
    result = await run_in_threadpool(integration.events.publish, principal, body)
    response.headers["Location"] = f"/v1/events/{result.id}"
    if not result.created:
        response.headers["Idempotent-Replayed"] = "true"
    links = {"self": f"/v1/events/{result.id}"}
    if principal.is_admin:  # only hub admins may replay (issue 12: no link one may not use)
        links["replay"] = f"/v1/messages/{result.id}/replay"
    return {"id": result.id, "status": result.status, "links": links}


@router.get("", response_model=list[StoredMessage])
async def list_events(integration: IntegrationDep, principal: PrincipalDep,
                      event_type: str | None = None, since: datetime | None = None,
                      limit: int = Query(100, ge=1, le=1000)) -> list[StoredMessage]:
    """Events you published (admins: all), oldest first, from ``since``."""
    return await run_in_threadpool(integration.events.events, principal, event_type=event_type, since=since,
                                   limit=limit)


@router.get("/{event_id}", response_model=dict[str, Any])
async def read_event(event_id: str, integration: IntegrationDep, principal: PrincipalDep) -> dict[str, Any]:
    """An event and where it went: each subscription's delivery message and its status."""
    return await run_in_threadpool(integration.events.event, principal, event_id)
