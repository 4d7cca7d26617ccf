"""Subscriptions: an agency subscribes one of its subsystems to an event type.

Subscribing is deny by default: the principal acts for the subscriber, the subscriber holds
the access right ``(subscriber, event type, events party)`` and is cleared for the event
type's classification (``403`` otherwise, audited). A filter naming fields the event type
does not declare is ``422`` naming each. The delivery channel is

* ``webhook``: a URL (https; loopback over http only where the hub allows it; never a
  private or link-local address), signed per Standard Webhooks with a secret of its own,
  rotatable with overlap;
* ``amqp``: a durable queue on the hub's broker;
* ``route``: whatever route already delivers the event type (or ``*``) to the subscriber
  (an e-CMS letter, a DPIS write ...).

For ``webhook`` and ``amqp`` the subscription creates the transport route
``(subscriber, event type)``; from then on its deliveries are ordinary hub messages.
The owner agency of an event type sees who subscribes to it.
"""
from __future__ import annotations

import base64
import logging
import secrets as random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.amqp import QUEUE_PATTERN
from hub.adapters.webhook import UnsafeDestination, check_destination
from hub.clock import as_utc, utcnow
from hub.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from hub.integration.catalogue import Catalogue, EventType
from hub.integration.filters import check_filter
from hub.integration.tables import event_subscriptions
from hub.registry.agencies import AgencyRegistry
from hub.schemas.envelope import PARTY_PATTERN
from hub.schemas.principal import Principal
from hub.schemas.routes import DeliveryPolicy, RouteIn
from hub.security.audit import AuditLog
from hub.security.authz import AccessControl, higher
from hub.transport.routing import Router

log = logging.getLogger(__name__)

ACTIVE, SUSPENDED = "active", "suspended"
WEBHOOK, AMQP, ROUTE = "webhook", "amqp", "route"


class FilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: dict[str, Any] = Field(default_factory=dict, description="JSON Pointer -> value or list of values.")
    fields: list[str] | None = Field(None, description="Top-level members delivered; all when absent.")


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern="^(webhook|amqp|route)$", description="webhook, amqp or route.")
    url: str | None = Field(None, max_length=2000, description="webhook: where events are POSTed.")
    queue: str | None = Field(None, pattern=QUEUE_PATTERN, description="amqp: queue on the hub's broker.")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subscriber: str = Field(pattern=PARTY_PATTERN, description="The subscribing subsystem.")
    event_type: str = Field(min_length=1, max_length=200, description="e.g. hr.person.changed/v1")
    filter: FilterIn = Field(default_factory=FilterIn)
    channel: ChannelIn
    policy: DeliveryPolicy = Field(default_factory=DeliveryPolicy, description="Retries of each delivery.")


@dataclass(frozen=True)
class Subscription:
    id: str
    subscriber: str
    event_type: str
    channel: str
    target: str | None
    match: dict[str, Any]
    fields: list[str] | None
    status: str
    status_reason: str | None
    route_id: int | None
    created_by: str
    created_at: datetime
    secrets: list[dict[str, Any]]

    def public(self) -> dict[str, Any]:
        """Everything but the secrets (they are shown once, when made)."""
        now = utcnow()
        return {"id": self.id, "subscriber": self.subscriber, "event_type": self.event_type,
                "channel": {"type": self.channel, **({"url": self.target} if self.channel == WEBHOOK else {}),
                            **({"queue": self.target} if self.channel == AMQP else {})},
                "filter": {"match": self.match, "fields": self.fields}, "status": self.status,
                "status_reason": self.status_reason, "route_id": self.route_id, "created_by": self.created_by,
                "created_at": self.created_at.isoformat(),
                "live_secrets": sum(1 for s in self.secrets if _live(s, now))}


def _live(secret: dict[str, Any], now: datetime) -> bool:
    expires = secret.get("expires_at")
    return expires is None or datetime.fromisoformat(expires) > now


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(random.token_bytes(32)).decode()


def _row(r: Any) -> Subscription:
    return Subscription(r.id, r.subscriber, r.event_type, r.channel, r.target, r.match or {}, r.fields, r.status,
                        r.status_reason, r.route_id, r.created_by, as_utc(r.created_at), list(r.secrets or []))


class SubscriptionService:
    def __init__(self, engine: Engine, router: Router, catalogue: Catalogue, registry: AgencyRegistry,
                 access: AccessControl, audit: AuditLog, *, events_party: str, allow_loopback: bool,
                 secret_overlap_seconds: int, on_first_use: Callable[[], None] = lambda: None) -> None:
        self._engine = engine
        self._router = router
        self._catalogue = catalogue
        self._registry = registry
        self._access = access
        self._audit = audit
        self._events_party = events_party
        self._allow_loopback = allow_loopback
        self._overlap = timedelta(seconds=secret_overlap_seconds)
        self._on_first_use = on_first_use  # sets up the events party and its fan-out route

    # -- subscribing ---------------------------------------------------------------------
    def subscribe(self, principal: Principal, body: SubscriptionIn) -> tuple[Subscription, str | None]:
        """Create a subscription; returns it and, for a webhook, its secret (shown once)."""
        event_type = self._catalogue.event_type(body.event_type)
        self._authorize(principal, body.subscriber, event_type)
        problems = check_filter(body.filter.match, body.filter.fields, event_type.schema)
        if problems:
            raise ValidationFailed(f"the filter names fields {event_type.name} does not have", errors=problems)
        self._on_first_use()
        channel = body.channel
        target, secret, route_id = None, None, None
        sub_id = str(uuid.uuid4())
        if channel.type == WEBHOOK:
            if not channel.url:
                raise ValidationFailed("a webhook channel needs a url",
                                       errors=[FieldError("/channel/url", "required", "the https URL events go to")])
            try:
                check_destination(channel.url, allow_loopback=self._allow_loopback)
            except UnsafeDestination as exc:
                raise ValidationFailed(f"webhook URL refused: {exc}",
                                       errors=[FieldError("/channel/url", exc.rule, str(exc))]) from exc
            target, secret = channel.url, new_secret()
            route_id = self._add_route(body, "webhook", {
                "url": channel.url, "subscription_id": sub_id, "allow_loopback": self._allow_loopback})
        elif channel.type == AMQP:
            if not channel.queue:
                raise ValidationFailed("an amqp channel needs a queue",
                                       errors=[FieldError("/channel/queue", "required", "a queue name")])
            target = channel.queue
            route_id = self._add_route(body, "amqp", {"queue": channel.queue})
        elif self._router.find(body.subscriber, body.event_type) is None:
            raise ValidationFailed(
                f"no route delivers {body.event_type} to {body.subscriber}; add one or choose webhook or amqp",
                errors=[FieldError("/channel/type", "route_exists", "a route for the subscriber and event type")])
        now = utcnow()
        values = {"id": sub_id, "subscriber": body.subscriber, "event_type": body.event_type, "channel": channel.type,
                  "target": target, "match": body.filter.match, "fields": body.filter.fields,
                  "secrets": [{"secret": secret, "created_at": now.isoformat(), "expires_at": None}] if secret else [],
                  "status": ACTIVE, "status_reason": None, "route_id": route_id, "created_by": principal.subject,
                  "created_at": now, "updated_at": now}
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(event_subscriptions).values(**values))
        except IntegrityError as exc:
            if route_id is not None:
                self._router.remove(route_id)
            raise Conflict(f"{body.subscriber} already subscribes to {body.event_type}; change or delete that "
                           "subscription") from exc
        self._audit.record("integration.subscribed", actor=principal.subject, decision="granted",
                           target=body.subscriber, event_type=body.event_type, channel=channel.type,
                           subscription_id=sub_id)
        return self.get(sub_id), secret

    def _authorize(self, principal: Principal, subscriber: str, event_type: EventType) -> None:
        detail = {"event_type": event_type.name, "subscriber": subscriber}

        def refuse(reason: str, field: FieldError) -> Forbidden:
            self._audit.record("integration.subscribe", actor=principal.subject, decision="refused",
                               target=subscriber, reason=reason, **detail)
            return Forbidden(reason, errors=[field])

        if not principal.acts_for(subscriber):
            raise refuse(f"you do not act for {subscriber}", FieldError("/subscriber", "acts_for", "your subsystem"))
        if not self._access.holds_right(subscriber, event_type.name, self._events_party):
            raise refuse(f"{subscriber} holds no access right to {event_type.name} at {self._events_party}",
                         FieldError("/event_type", "access_right",
                                    f"a right ({subscriber}, {event_type.name}, {self._events_party})"))
        clearance = self._registry.clearance_of(subscriber)
        if higher(event_type.classification, clearance):
            raise refuse(f"{event_type.name} is classified {event_type.classification}; {subscriber} is cleared "
                         f"up to {clearance}",
                         FieldError("/event_type", "clearance", f"clearance {event_type.classification} or above"))

    def _add_route(self, body: SubscriptionIn, adapter: str, settings: dict[str, Any]) -> int:
        try:
            route = self._router.add(RouteIn(receiver=body.subscriber, service=body.event_type, adapter=adapter,
                                             settings=settings, **body.policy.model_dump()))
        except Conflict as exc:
            raise Conflict(f"a route already delivers {body.event_type} to {body.subscriber}; subscribe with "
                           "channel type 'route' to use it, or remove it") from exc
        return route.id

    # -- reading -------------------------------------------------------------------------
    def get(self, sub_id: str) -> Subscription:
        with self._engine.connect() as conn:
            row = conn.execute(select(event_subscriptions).where(event_subscriptions.c.id == sub_id)).first()
        if row is None:
            raise NotFound(f"no subscription {sub_id}")
        return _row(row)

    def visible(self, principal: Principal, sub_id: str) -> Subscription:
        """The subscription if ``principal`` is its subscriber, the event type's owner or an admin; else 404."""
        sub = self.get(sub_id)
        if not self._may_see(principal, sub):
            raise NotFound(f"no subscription {sub_id}")
        return sub

    def _may_see(self, principal: Principal, sub: Subscription) -> bool:
        if principal.acts_for(sub.subscriber):
            return True
        owner = self._catalogue.find_event_type(sub.event_type)
        return owner is not None and principal.member == owner.owner_agency

    def list(self, principal: Principal, *, event_type: str | None = None) -> list[Subscription]:
        query = select(event_subscriptions).order_by(event_subscriptions.c.created_at, event_subscriptions.c.id)
        if event_type is not None:
            query = query.where(event_subscriptions.c.event_type == event_type)
        if not principal.is_admin:
            owned = [e.name for e in self._catalogue.event_types() if e.owner_agency == principal.member]
            mine = list(principal.subsystems)
            conds = [event_subscriptions.c.subscriber.in_(mine)] if mine else []
            if owned:
                conds.append(event_subscriptions.c.event_type.in_(owned))
            if not conds:
                return []
            query = query.where(or_(*conds))
        with self._engine.connect() as conn:
            rows = [_row(r) for r in conn.execute(query).all()]
        return [s for s in rows if self._may_see(principal, s)]

    def matching(self, event_type: str) -> list[Subscription]:
        """The active subscriptions of an event type (the fan-out reads this)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(event_subscriptions).where(
                event_subscriptions.c.event_type == event_type, event_subscriptions.c.status == ACTIVE)
                .order_by(event_subscriptions.c.id)).all()
        return [_row(r) for r in rows]

    # -- changing ------------------------------------------------------------------------
    def owned(self, principal: Principal, sub_id: str) -> Subscription:
        sub = self.get(sub_id)
        if not principal.acts_for(sub.subscriber):
            if self._may_see(principal, sub):
                raise Forbidden(f"only {sub.subscriber} changes its subscription")
            raise NotFound(f"no subscription {sub_id}")
        return sub

    def rotate_secret(self, principal: Principal, sub_id: str) -> tuple[Subscription, str]:
        """A new signing secret; the previous ones keep signing for the overlap period."""
        sub = self.owned(principal, sub_id)
        if sub.channel != WEBHOOK:
            raise ValidationFailed("only webhook subscriptions have secrets",
                                   errors=[FieldError("/path/subscription_id", "webhook", "a webhook subscription")])
        now = utcnow()
        until = (now + self._overlap).isoformat()
        kept = [{**s, "expires_at": s.get("expires_at") or until} for s in sub.secrets if _live(s, now)]
        secret = new_secret()
        self._set(sub_id, secrets=[{"secret": secret, "created_at": now.isoformat(), "expires_at": None}, *kept])
        self._audit.record("integration.secret_rotated", actor=principal.subject, target=sub.subscriber,
                           subscription_id=sub_id, overlap_until=until)
        return self.get(sub_id), secret

    def signing_secrets(self, sub_id: str) -> list[str]:
        """The live secrets, newest first (the webhook adapter signs with each)."""
        now = utcnow()
        return [s["secret"] for s in self.get(sub_id).secrets if _live(s, now)]

    def suspend(self, sub_id: str, reason: str, *, actor: str = "hub") -> None:
        """Stop fanning events out to this subscription (a webhook answered 410 Gone)."""
        self._set(sub_id, status=SUSPENDED, status_reason=reason)
        self._audit.record("integration.subscription_suspended", actor=actor, target=sub_id, reason=reason)

    def resume(self, principal: Principal, sub_id: str) -> Subscription:
        sub = self.owned(principal, sub_id)
        self._set(sub.id, status=ACTIVE, status_reason=None)
        self._audit.record("integration.subscription_resumed", actor=principal.subject, target=sub_id)
        return self.get(sub_id)

    def delete(self, principal: Principal, sub_id: str) -> None:
        sub = self.owned(principal, sub_id)
        with self._engine.begin() as conn:
            conn.execute(delete(event_subscriptions).where(event_subscriptions.c.id == sub_id))
        if sub.route_id is not None:
            try:
                self._router.remove(sub.route_id)
            except NotFound:
                log.info("route %s of subscription %s was already removed", sub.route_id, sub_id)
        self._audit.record("integration.unsubscribed", actor=principal.subject, target=sub.subscriber,
                           subscription_id=sub_id, event_type=sub.event_type)

    def _set(self, sub_id: str, **values: Any) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(update(event_subscriptions).where(event_subscriptions.c.id == sub_id)
                                .values(**values, updated_at=utcnow())).rowcount
        if not done:
            raise NotFound(f"no subscription {sub_id}")
