"""Builds layer 5 on a hub's parts (called by ``hub.bootstrap``)."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Engine

from hub.adapters.registry import AdapterRegistry
from hub.config import Settings
from hub.errors import Conflict
from hub.integration.applications import ApplicationService
from hub.integration.catalogue import Catalogue
from hub.integration.answerers import EcmsLettersAnswerer, PersonRegistryAnswerer, TeleworkAnswerer
from hub.integration.citizens import Citizens, build_citizens
from hub.integration.fanout import EventHub
from hub.integration.queries import QueryServices
from hub.integration.record import UnifiedRecord
from hub.integration.record_access import AgencyConsentAccess, RecordAccessChain
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
    # Issue 15: query services across agencies, the unified record and who may read it
    # (``record_access.add(...)`` puts another kind of reader, e.g. citizen consent, first).
    queries: QueryServices | None = None
    records: UnifiedRecord | None = None
    record_access: RecordAccessChain | None = None
    citizens: Citizens | None = None  # consent by the citizen, data tracker (issue 15)


def build_integration(settings: Settings, engine: Engine, messages: MessageService, router: Router,
                      standards: StandardsRegistry, security: Security, *,
                      adapters: AdapterRegistry | None = None) -> Integration:
    catalogue = Catalogue(standards)
    party = EventsParty(settings, router, security)
    subscriptions = SubscriptionService(
        engine, router, catalogue, security.registry, security.access, security.audit,
        events_party=settings.events_party, allow_loopback=settings.webhook_allow_loopback,
        secret_overlap_seconds=settings.security.secret_overlap_seconds, on_first_use=party.ensure)
    events = EventHub(messages, catalogue, subscriptions, security.access, standards,
                      events_party=settings.events_party, on_first_use=party.ensure)
    applications = ApplicationService(engine, messages, catalogue, standards, security.access, router)
    queries = QueryServices(engine, adapters or AdapterRegistry(), security.access, security.registry, security.audit,
                            standards)
    persons = PersonRegistryAnswerer(engine)
    queries.add_local("person-registry", persons)
    queries.add_local("telework-cases", TeleworkAnswerer(engine))
    queries.add_local("ecms-letters", EcmsLettersAnswerer(engine, persons))
    access = RecordAccessChain()
    records = UnifiedRecord(queries, access, security.audit, security.pseudonym, standards,
                            stale_after=security.persons.stale_after)
    access.add(AgencyConsentAccess(security.consents, GroupClassification(records)))
    citizens = build_citizens(engine, security)
    access.add(citizens.access)  # an e-service's token is read against the citizen's consent first
    return Integration(catalogue, subscriptions, events, applications, queries, records, access, citizens)


class GroupClassification:
    """Field group -> classification, as the published ``th.integration.record`` declares it."""

    def __init__(self, records: UnifiedRecord) -> None:
        self._records = records

    def get(self, group: str, default: str) -> str:
        found = self._records.groups().get(group)
        return found.classification if found is not None else default


class EventsParty:
    """The events party, set up on first use (the first subscription or ``POST /v1/events``), so a
    hub that never uses events has no trace of them: a subsystem of the hub cleared for every
    classification (no client ever authenticates as it: its credentials are not kept), and the
    route ``(events party, *) -> event-fanout``."""

    def __init__(self, settings: Settings, router: Router, security: Security) -> None:
        self._settings = settings
        self._router = router
        self._security = security
        self._ready = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        if self._ready:
            return
        with self._lock:
            party = self._settings.events_party
            onboard(self._security, party, actor="hub", clearance="004",
                    member_name_th="ศูนย์กลางแลกเปลี่ยนข้อมูล (เหตุการณ์)")
            if self._router.find(party, "*") is None:
                try:
                    self._router.add(RouteIn(receiver=party, service="*", adapter="event-fanout"))
                except Conflict:
                    log.info("another process added the events route first")
            self._ready = True
