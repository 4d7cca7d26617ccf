"""Publishing events and fanning them out on the transport (Tell Us Once).

An event is a hub message to the events party (``Settings.events_party``) whose service is
the event type. It is checked at the edge against the event type's standard, and delivered
by the transport like any message, to the ``event-fanout`` adapter, which calls
:meth:`EventHub.fan_out`: one new hub message per active subscription whose filter matches,
addressed to the subscriber, carrying the (projected) event. From there each delivery has the
transport's guarantees on its own route: durable, retried with backoff, dead-lettered,
replayable; one slow or dead subscriber holds back nobody else.

* **Once per subscriber.** A child's id is a UUIDv5 of the event id and the subscription id,
  so delivering the event again (a crash, a replay of the event) creates no second copy: the
  transport's idempotent accept answers with the first one. Every channel carries that id as
  its idempotency key (``webhook-id``, AMQP ``message_id``, ``Idempotency-Key``).
* **In order per subject.** The child's ``correlation_id`` is the event's, or else
  ``<event type>:<subject>`` (the event type's ``subject_field``); the transport delivers the
  messages of one receiver and correlation id in the order they were accepted.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.adapters.base import OutboundMessage, Receipt
from hub.errors import DeliveryError, FieldError, Forbidden, IdempotencyConflict, InputError, NotFound, \
    ValidationFailed
from hub.integration.catalogue import Catalogue, EventType
from hub.integration.filters import matches, project, subject_of
from hub.integration.subscriptions import Subscription, SubscriptionService
from hub.schemas.endpoints import hide_endpoints
from hub.schemas.envelope import PARTY_PATTERN, Envelope, StoredMessage
from hub.schemas.principal import Principal
from hub.schemas.validation import validation_failed
from hub.security.authz import AccessControl
from hub.standards.registry import StandardsRegistry
from hub.standards.validation import field_errors
from hub.transport.messages import FINISHED, AcceptResult, MessageService

log = logging.getLogger(__name__)

# Namespace of the children's ids: uuid5(CHILD_NS, "<event id>/<subscription id>").
CHILD_NS = uuid.UUID("5c1e0a4e-7f7e-4d0a-9a5e-16a1b2c3d4e5")


def child_id(event_id: str, subscription_id: str) -> str:
    return str(uuid.uuid5(CHILD_NS, f"{event_id}/{subscription_id}"))


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(None, description="Idempotency key of the event; assigned when absent.")
    source: str = Field(pattern=PARTY_PATTERN, description="The publishing subsystem.")
    event_type: str = Field(min_length=1, max_length=200, description="e.g. hr.person.changed/v1")
    data: dict[str, Any] = Field(description="The event document, valid against the event type's standard.")
    user_id: str | None = Field(None, description="13-digit citizen ID of the officer acting.")


class EventHub:
    def __init__(self, messages: MessageService, catalogue: Catalogue, subscriptions: SubscriptionService,
                 access: AccessControl, standards: StandardsRegistry, *, events_party: str,
                 on_first_use: Callable[[], None] = lambda: None) -> None:
        self._messages = messages
        self._catalogue = catalogue
        self._subscriptions = subscriptions
        self._access = access
        self._standards = standards
        self.events_party = events_party
        self._on_first_use = on_first_use  # sets up the events party and its fan-out route

    # -- publishing ----------------------------------------------------------------------
    def envelope(self, body: EventIn) -> Envelope:
        event_type = self._catalogue.event_type(body.event_type)
        subject = subject_of(body.data, event_type.subject_field)
        try:
            return Envelope(
                id=body.id, sender=body.source, receiver=self.events_party, service=event_type.name,
                standard=event_type.standard_ref, classification=event_type.classification,
                correlation_id=f"{event_type.name}:{subject}"[:128] if subject else None,
                user_id=body.user_id, payload=body.data)
        except ValidationError as exc:
            raise validation_failed(exc) from exc

    def publish(self, principal: Principal, body: EventIn) -> AcceptResult:
        """``POST /v1/events``: the event as a message to the events party, under the same rules
        as ``POST /v1/messages`` (the source's right toward the events party, clearances, audit)."""
        env = self.envelope(body)
        self._on_first_use()
        grant = self._access.authorize_submit(principal, env, record_grant=False)
        return self._messages.accept(env, audit=grant)

    def check_event(self, env: Envelope) -> None:
        """Validator of every accepted message: an event (to the events party) is a known event
        type, valid against its standard even when the sender did not declare it."""
        if env.receiver != self.events_party:
            return
        event_type = self._catalogue.find_event_type(env.service)
        if event_type is None:
            known = ", ".join(e.name for e in self._catalogue.event_types())
            raise ValidationFailed(f"{env.service} is not a published event type",
                                   errors=[FieldError("/service", "known_event_type", f"one of {known}")])
        if env.standard is not None and str(env.standard) != event_type.standard_ref:
            raise ValidationFailed(f"events of type {env.service} follow {event_type.standard_ref}",
                                   errors=[FieldError("/standard", "event_standard", event_type.standard_ref)])
        if env.standard is None:
            _, issues = self._standards.validate(event_type.standard_id, event_type.version, env.payload)
            if issues:
                raise ValidationFailed(f"the event does not follow {event_type.standard_ref}",
                                       errors=field_errors(issues, at="/payload"))

    # -- fan-out (the event-fanout adapter's send) -----------------------------------------
    def fan_out(self, message: OutboundMessage) -> Receipt:
        meta = message.meta
        event_type = self._catalogue.find_event_type(meta.service)
        if event_type is None:
            raise DeliveryError(f"{meta.service} is not a published event type", permanent=True)
        try:
            doc = orjson.loads(message.payload)
        except orjson.JSONDecodeError as exc:
            raise DeliveryError(f"the event payload is not JSON: {exc}", permanent=True) from exc
        deliveries, skipped, filtered = [], [], 0
        for sub in self._subscriptions.matching(meta.service):
            if not matches(sub.match, doc):
                filtered += 1
                continue
            try:
                result = self._messages.accept(self._child(meta, event_type, sub, doc))
            except (Forbidden, InputError, IdempotencyConflict) as exc:
                # This subscriber may not (or no longer) receive it: the others still do.
                skipped.append({"subscription": sub.id, "subscriber": sub.subscriber, "reason": str(exc)})
                continue
            deliveries.append({"subscription": sub.id, "subscriber": sub.subscriber, "message_id": result.id,
                               "new": result.created})
        summary = f"fanned out to {len(deliveries)} subscription(s)"
        return Receipt(summary, {"deliveries": deliveries, "skipped": skipped, "filtered_out": filtered})

    @staticmethod
    def _child(meta: StoredMessage, event_type: EventType, sub: Subscription, doc: Any) -> Envelope:
        subject = subject_of(doc, event_type.subject_field)
        correlation = meta.correlation_id or (f"{event_type.name}:{subject}"[:128] if subject else None)
        return Envelope(
            id=uuid.UUID(child_id(str(meta.id), sub.id)), sender=meta.sender, receiver=sub.subscriber,
            service=meta.service, standard=meta.standard if sub.fields is None else None,
            correlation_id=correlation, classification=meta.classification, speed=meta.speed,
            user_id=meta.user_id, payload=project(doc, sub.fields))

    # -- reading and replay ----------------------------------------------------------------
    def events(self, principal: Principal, *, event_type: str | None, since: datetime | None,
               limit: int = 100) -> list[StoredMessage]:
        found, cursor = [], None
        while len(found) < limit:
            page, cursor = self._messages.list(receiver=self.events_party, service=event_type, since=since,
                                               cursor=cursor, limit=200)
            found += [m for m in page if self._access.may_read(principal, m)]
            if cursor is None:
                break
        return found[:limit]

    def event(self, principal: Principal, event_id: str) -> dict[str, Any]:
        # Event ids are the publisher's, unique per publisher: only those this principal may see count.
        seen = [m for m in self._messages.find(event_id)
                if m.receiver == self.events_party and self._access.may_read(principal, m)]
        if not seen:
            raise NotFound(f"no event {event_id}")
        if len(seen) > 1:
            raise InputError(f"event id {event_id} was used by {len(seen)} publishers you may see",
                             errors=[FieldError("/path/event_id", "unique_per_sender",
                                                "one of the events of " + ", ".join(m.sender for m in seen))])
        meta = seen[0]
        fanned = [h["detail"] for h in self._messages.history(meta.key or event_id) if h["kind"] == "delivered"]
        deliveries = []
        for d in (fanned[-1].get("deliveries", []) if fanned else []):
            child = self._messages.get_meta(d["message_id"], sender=meta.sender, missing_ok=True)
            deliveries.append({**d, "status": child.status if child else "unknown",
                               "last_error": (child.last_error if principal.is_admin else
                                              hide_endpoints(child.last_error)) if child else None})
        return {"event": meta.model_dump(mode="json"), "deliveries": deliveries,
                "skipped": fanned[-1].get("skipped", []) if fanned else []}

    def deliveries(self, sub: Subscription, *, since: datetime | None, limit: int = 1000) -> list[StoredMessage]:
        found, cursor = [], None
        while len(found) < limit:
            page, cursor = self._messages.list(receiver=sub.subscriber, service=sub.event_type, since=since,
                                               cursor=cursor, limit=500)
            found += page
            if cursor is None:
                break
        return found[:limit]

    def replay(self, sub: Subscription, *, since: datetime, actor: str) -> list[str]:
        """Deliver again every finished delivery of this subscription accepted at or after ``since``
        (same ids: a subscriber that kept them recognises each)."""
        replayed = []
        for meta in self.deliveries(sub, since=since, limit=100_000):
            if meta.status in FINISHED:
                self._messages.replay(meta.key or str(meta.id), reason=f"subscription {sub.id} replay from {since.isoformat()} "
                                                           f"by {actor}")
                replayed.append(str(meta.id))
        return replayed
