"""The composition root: the one place that picks concrete backends and adapters from the
settings and builds the layers and applications on them.

Every entry point gets its hub here (the API's lifespan, ``hub.cli.common.open_hub`` for every
command, the demo, the tests) from one ``Settings`` tree; the security layer, the e-CMS node
and the telework application are configured by that tree, not by the environment read again
deeper down. Nothing connects at import time; ``build_hub`` connects, and
``Hub.start_workers`` starts the relay, delivery and inbound threads for ``hub serve`` (embedded
worker) and ``hub worker``.
"""
from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text

from hub import metrics, migrate
from hub.adapters.base import BROKER, ECMS_NODE, EVENTS, PERSON_REGISTRY, SIGNER, SUBSCRIPTIONS
from hub.adapters.ecms.node.service import QUEUE_ADAPTER, EcmsService, build_ecms
from hub.adapters.registry import AdapterRegistry
from hub.apps.telework.wiring import TeleworkProvider, stored_app
from hub.config import Settings
from hub.db import close_checkpointer, make_engine
from hub.integration.wiring import Integration, build_integration
from hub.security.delivery_signing import DeliverySigner
from hub.security.sampling import SampledRefusals
from hub.security.wiring import Security, build_security
from hub.schemas.envelope import XML_TYPES
from hub.standards.artefacts import LoadReport
from hub.standards.registry import StandardsRegistry
from hub.transport.broker import Publisher, connect
from hub.transport.delivery import AdapterPool, Deliverer
from hub.transport.idle import Doorbell
from hub.transport.inbound import InboundScheduler
from hub.transport.messages import MessageService
from hub.transport.relay import Relay
from hub.transport.routing import Router
from hub.transport.settle import count_delivered, record_delivered_in
from hub.transport.worker import DeliveryWorker
from hub.wal_checkpoints import WalCheckpoints

log = logging.getLogger(__name__)


@functools.cache
def _outcome_counter(outcome: str) -> Any:
    return metrics.OUTCOMES.labels(outcome)


def _count_outcome(outcome: str) -> None:
    """Count a recorded outcome; the labelled counter is looked up once per outcome, not per message."""
    _outcome_counter(outcome).inc()


@dataclass
class Hub:
    settings: Settings
    engine: Engine
    adapters: AdapterRegistry
    router: Router
    messages: MessageService
    relay: Relay
    publisher: Publisher
    adapter_pool: AdapterPool
    standards: StandardsRegistry | None = None
    standards_loaded: LoadReport | None = None  # what start-up loaded from the standards folder
    security: Security | None = None  # layer 3: registry, authentication, access rights, audit
    ecms: EcmsService | None = None  # the e-CMS node (/ecms/service2)
    telework: TeleworkProvider | None = None  # layer 4: the telework application (what is stored; the demo's pilot)
    inbound: InboundScheduler | None = None  # polls the inbound side of every route that has one
    doorbell: Doorbell | None = None  # the relay rings it after publishing; the delivery worker waits on it
    integration: Integration | None = None  # layer 5: events, subscriptions, one-stop applications
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start_workers(self, *, relay: bool = True, deliver: bool = True, inbound: bool = True) -> None:
        """Start the background workers not already running: a second app over the same hub
        (two lifespans, as a test's server and client have) must not run a second relay on the
        same publisher, nor a second delivery worker competing for the same claims."""
        if relay:
            self._spawn("relay", self.relay.run)
        if deliver and not self._running("delivery"):
            deliverer = Deliverer(
                self.engine, self.router, self.adapter_pool,
                attempt_timeout=self.settings.delivery_timeout_seconds,
                on_outcome=_count_outcome,
                # A receiver's clearance may have been lowered since the message was accepted.
                guards=[self.security.access.delivery_guard] if self.security else [],
            )
            worker = DeliveryWorker(deliverer, self.settings.effective_broker_url, self.settings.queue_name,
                                    self.settings.worker_concurrency, idle_max_seconds=self.settings.idle_max_seconds,
                                    doorbell=self.doorbell)
            self._spawn("delivery", worker.run)
        if inbound and self.inbound is not None:
            # Inbound sides of routes (e-CMS federation, DPIS capture, GFMIS results), each on
            # its interval (hub/transport/inbound.py). Idle without such routes.
            self._spawn("inbound", self.inbound.run)
        if self.security is not None:
            # Layer 3: copy transport events into the audit chain, exactly once across processes.
            self._spawn("audit-feed", self.security.audit_feed.run)

    def _running(self, name: str) -> bool:
        return any(t.name == f"hub-{name}" and t.is_alive() for t in self._threads)

    def _spawn(self, name: str, target) -> None:  # noqa: ANN001
        if self._running(name):
            return
        thread = threading.Thread(target=target, args=(self._stop,), name=f"hub-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def readiness(self) -> dict[str, str]:
        """Each dependency and whether it answers; ``ok`` everywhere means ready."""
        checks: dict[str, str] = {}
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
            checks["migrations"] = "ok" if migrate.is_current(self.engine) else "not current: run `hub db upgrade`"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
            checks["migrations"] = "unknown"
        try:
            with connect(self.settings.effective_broker_url) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"unreachable: {type(exc).__name__}"
        return checks

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self.relay.wake()
        if self.doorbell is not None:  # the delivery worker may be waiting on it, idle on a polled broker
            self.doorbell.ring()
        if self.inbound is not None:
            self.inbound.wake()
        for thread in self._threads:
            thread.join(timeout=10)
        self.messages.close()
        self.publisher.close()
        self.adapter_pool.close()
        if self.integration is not None and self.integration.queries is not None:
            self.integration.queries.close()  # the query adapters' connections and the fan-out pool
        if self.telework is not None:
            self.telework.close()  # its connections to the agencies' DPIS and e-Saraban
        close_checkpointer(self.engine)
        self.engine.dispose()


def build_engine(settings: Settings, *, wal_checkpoints: bool = False) -> Engine:
    """The database engine the settings name (also for ``hub db upgrade``, which needs no hub).

    ``wal_checkpoints``: on SQLite, a thread of the engine's checkpoints the write-ahead log
    instead of the COMMIT that crosses SQLite's threshold (``hub.wal_checkpoints``); whoever
    asks for it stops it with ``hub.db.close_checkpointer`` (``Hub.close``). A short-lived
    engine (``hub db upgrade``) keeps SQLite's own checkpoints."""
    settings.ensure_data_dir()
    return make_engine(settings.effective_database_url, sqlite_synchronous=settings.sqlite_synchronous,
                       checkpoints=WalCheckpoints() if wal_checkpoints else None)


def build_hub(settings: Settings | None = None, *, upgrade_schema: bool = True) -> Hub:
    settings = settings or Settings()
    engine = build_engine(settings, wal_checkpoints=True)
    if upgrade_schema:
        migrate.upgrade(engine)
    adapters = AdapterRegistry()
    router = Router(engine, adapters)
    # The relay rings the delivery worker of this process after publishing (hub/transport/idle.py).
    doorbell = Doorbell()
    publisher = Publisher(settings.effective_broker_url, settings.queue_name, doorbell=doorbell)
    relay = Relay(engine, publisher, lease_seconds=settings.requeue_after_seconds,
                  batch_size=settings.relay_batch_size, interval_seconds=settings.relay_interval_seconds,
                  idle_max_seconds=settings.idle_max_seconds)
    messages = MessageService(engine, router, max_payload_bytes=settings.max_payload_bytes, on_accepted=relay.wake)
    # Layer 2: load the published standards (idempotent) and check every message that
    # declares one before it is stored.
    standards = StandardsRegistry(engine, settings.standards_dir)
    standards_loaded = standards.load_published()
    # A spooled payload is loaded for a validator only when it reads it (see add_validator).
    messages.add_validator(standards.validate_envelope,
                           reads_payload=lambda env: env.standard is not None or env.content_type in XML_TYPES)
    # Layer 3: no message is stored for a receiver not cleared for its classification,
    # whichever entry point (REST, e-CMS, apps) accepted it.
    security = build_security(settings, engine, seed=upgrade_schema)
    messages.add_validator(security.access.check_receiver_clearance, reads_payload=lambda env: False)
    messages.set_audit_writer(security.audit.append_in, pipelined=security.audit.append_pipelined)
    ecms = build_ecms(settings, engine, accept=messages.accept,
                      # A letter the node places in its receiver's queue at accept is recorded
                      # delivered with it; held meanwhile (as long as a lease) so the relay leaves it.
                      accept_held=lambda env: messages.accept(env, hold_seconds=settings.requeue_after_seconds),
                      settle=record_delivered_in, settled=lambda: count_delivered(QUEUE_ADAPTER),
                      lookup=lambda message_id, sender: messages.get_meta(message_id, sender=sender, missing_ok=True),
                      routes=router,
                      note=lambda message_id, kind, detail, sender: messages.note(message_id, kind, detail,
                                                                                  sender=sender),
                      holds_right=security.access.holds_right,
                      record_refusal=SampledRefusals(security.audit.record, "ecms.refused",
                                                     settings.security.audit_anonymous_interval_seconds))
    # The hub services adapters declare in ``resources``.
    adapters.provide(PERSON_REGISTRY, security.persons)  # the in-process ``person-registry`` adapter
    adapters.provide(ECMS_NODE, ecms)  # ``ecms-queue`` and ``ecms``
    adapters.provide(SIGNER, DeliverySigner(security.key))  # ``http`` signs what it delivers (issue 12)
    # Layer 5: events are checked against their standard at the edge and fanned out by the
    # event-fanout adapter; webhook and AMQP subscriptions are routes of their own.
    integration = build_integration(settings, engine, messages, router, standards, security, adapters=adapters)
    messages.add_validator(integration.events.check_event,
                           reads_payload=lambda env: env.receiver == integration.events.events_party)
    adapters.provide(EVENTS, integration.events)
    adapters.provide(SUBSCRIPTIONS, integration.subscriptions)
    adapters.provide(BROKER, settings.effective_broker_url)
    pool = AdapterPool(adapters)
    inbound = InboundScheduler.on(engine, messages, router, adapters, pool)
    hub = Hub(settings, engine, adapters, router, messages, relay, publisher, pool,
              standards=standards, standards_loaded=standards_loaded, security=security, ecms=ecms, inbound=inbound,
              doorbell=doorbell, integration=integration)
    # Layer 4: what the database holds, built without side effects when first asked for;
    # the pilot agencies' systems are connected only by ``hub demo`` (and tests that need them).
    hub.telework = TeleworkProvider(lambda: stored_app(hub))
    return hub

