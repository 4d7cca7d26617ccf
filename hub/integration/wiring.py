"""Builds layer 5 on a hub's parts (called by ``hub.bootstrap``)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from hub.config import Settings
from hub.errors import Conflict
from hub.integration.applications import ApplicationService
from hub.integration.catalogue import Catalogue
from hub.integration.fanout import EventHub
from hub.integration.subscriptions import SubscriptionService
from hub.schemas.routes import RouteIn
from hub.security.onboarding import onboard
from hub.security.wiring import Security
from hub.standards.registry import StandardsRegistry
from hub.transport.messages import MessageService
from hub.transport.routing import Router

log = logging.getLogger(__name__)


@dataclass
class Integration:
    catalogue: Catalogue
    subscriptions: SubscriptionService
    events: EventHub
    applications: ApplicationService


def build_integration(settings: Settings, engine: Engine, messages: MessageService, router: Router,
                      standards: StandardsRegistry, security: Security) -> Integration:
    catalogue = Catalogue(standards)
    subscriptions = SubscriptionService(
        engine, router, catalogue, security.registry, security.access, security.audit,
        events_party=settings.events_party, allow_loopback=settings.webhook_allow_loopback,
        secret_overlap_seconds=settings.security.secret_overlap_seconds)
    events = EventHub(messages, catalogue, subscriptions, security.access, standards,
                      events_party=settings.events_party)
    applications = ApplicationService(engine, messages, catalogue, standards, security.access)
    return Integration(catalogue, subscriptions, events, applications)


def connect_events_party(settings: Settings, router: Router, security: Security) -> None:
    """The events party is a subsystem of the hub, cleared for every classification (no client
    ever authenticates as it: its credentials are not kept), with the route to the fan-out."""
    onboard(security, settings.events_party, actor="hub", clearance="004",
            member_name_th="ศูนย์กลางแลกเปลี่ยนข้อมูล (เหตุการณ์)")
    if router.find(settings.events_party, "*") is None:
        try:
            router.add(RouteIn(receiver=settings.events_party, service="*", adapter="event-fanout"))
        except Conflict:
            log.info("another process added the events route first")
