"""The one scheduler of adapters' inbound sides, and the sink it hands them.

Every route whose adapter has the ``receive`` capability has an inbound side,
``Adapter.poll(sink)``: DPIS change capture, GFMIS result files, a remote e-CMS node's queue.
:class:`InboundScheduler` runs them all — each route on the interval its adapter asks for
(``Adapter.poll_interval()``; None = only on demand) in the hub's ``inbound`` worker thread,
and one route at a time for ``hub adapters poll ROUTE`` (:meth:`InboundScheduler.poll_route`).

What the adapters see of the hub is :class:`TransportSink`, the transport's
``InboundSink``:

* ``accept`` is ``MessageService.accept``: it returns only once the message is committed,
  so an adapter that acknowledges an item at its source after ``accept`` has returned never
  loses it, and an item offered again after a crash is absorbed by the idempotent accept;
* ``record_outcome`` is :func:`hub.transport.outcomes.record_receiver_outcome`;
* ``state`` is a row in ``legacy_capture_state`` / ``legacy_capture_versions`` (its values
  change only once the adapter has the sink's commit for what they describe).

A poll that raises (the database or the source system is down, a bug) is logged and tried
again at the route's next interval; nothing it had not committed was acknowledged.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.base import RECEIVE, Accepted, InboundState, PollReport
from hub.adapters.registry import AdapterRegistry
from hub.clock import utcnow
from hub.errors import AdapterError, HubError
from hub.schemas.envelope import Envelope
from hub.schemas.routes import Route
from hub.transport.delivery import AdapterPool
from hub.transport.messages import MessageService
from hub.transport.outcomes import record_receiver_outcome
from hub.transport.routing import Router
from hub.transport.tables import legacy_capture_state, legacy_capture_versions

log = logging.getLogger(__name__)

# How often the route list is re-read when no route is due sooner: a new inbound route added
# by another process (the CLI, another API process) starts being polled within this time; one
# added, changed or removed through this process wakes the scheduler at once (``wake``). Every
# re-read is a query, most of an idle hub's inbound cost at one a second.
ROUTES_REFRESH_SECONDS = 5.0
# Column sizes of the state tables (hub/transport/tables.py).
_KEY, _VALUE, _REF, _WATERMARK = 64, 64, 36, 19


class DatabaseState:
    """``InboundState`` in the hub's database, under one name; survives restarts."""

    def __init__(self, engine: Engine, name: str) -> None:
        if not 0 < len(name) <= 200:
            raise ValueError(f"an inbound state name has 1 to 200 characters, not {len(name)}")
        self._engine = engine
        self._source = name

    @staticmethod
    def _fits(what: str, value: str | None, limit: int) -> None:
        if value is not None and len(value) > limit:
            raise ValueError(f"an inbound state {what} has at most {limit} characters: {value[:80]!r}")

    def watermark(self) -> str | None:
        with self._engine.connect() as conn:
            return conn.execute(
                select(legacy_capture_state.c.watermark).where(legacy_capture_state.c.source == self._source)
            ).scalar_one_or_none()

    def get(self, key: str) -> str | None:
        with self._engine.connect() as conn:
            return conn.execute(select(legacy_capture_versions.c.version).where(
                legacy_capture_versions.c.source == self._source, legacy_capture_versions.c.row_key == key,
            )).scalar_one_or_none()

    def put(self, key: str, value: str, *, ref: str | None = None) -> None:
        self._fits("key", key, _KEY)
        self._fits("value", value, _VALUE)
        self._fits("reference", ref, _REF)
        values = {"version": value, "message_id": ref, "captured_at": utcnow()}
        table = legacy_capture_versions
        with self._engine.begin() as conn:
            changed = conn.execute(update(table).where(
                table.c.source == self._source, table.c.row_key == key,
            ).values(**values)).rowcount
            if not changed:
                conn.execute(insert(table).values(source=self._source, row_key=key, **values))

    def put_many(self, values: Mapping[str, str]) -> None:
        if not values:
            return
        for key, value in values.items():
            self._fits("key", key, _KEY)
            self._fits("value", value, _VALUE)
        now = utcnow()
        table = legacy_capture_versions
        with self._engine.begin() as conn:
            known = set(conn.execute(select(table.c.row_key).where(table.c.source == self._source)).scalars())
            fresh = [{"source": self._source, "row_key": k, "version": v, "message_id": None, "captured_at": now}
                     for k, v in values.items() if k not in known]
            if fresh:
                conn.execute(insert(table), fresh)
            for key, value in values.items():
                if key in known:
                    conn.execute(update(table).where(table.c.source == self._source, table.c.row_key == key)
                                 .values(version=value, captured_at=now))

    def advance(self, watermark: str) -> None:
        self._fits("watermark", watermark, _WATERMARK)
        now = utcnow()
        table = legacy_capture_state
        with self._engine.begin() as conn:
            current = conn.execute(select(table.c.watermark).where(table.c.source == self._source)).first()
            if current is None:
                try:
                    conn.execute(insert(table).values(source=self._source, watermark=watermark, updated_at=now))
                    return
                except IntegrityError:  # another poll of the same source inserted first
                    current = (None,)
            new = max(filter(None, (current[0], watermark)))
            conn.execute(update(table).where(table.c.source == self._source).values(watermark=new, updated_at=now))


class TransportSink:
    """The hub as an adapter's ``InboundSink``; ``scope`` names the route's own state."""

    def __init__(self, engine: Engine, messages: MessageService, scope: str) -> None:
        self._engine = engine
        self._messages = messages
        self._scope = scope

    def accept(self, envelope: Envelope) -> Accepted:
        return self._messages.accept(envelope)

    def record_outcome(self, message_id: str, *, key: str, status: str, detail: dict[str, Any],
                       error: str | None = None) -> bool:
        return record_receiver_outcome(self._engine, message_id, key=key, status=status, detail=detail, error=error)

    def payload(self, message_id: str) -> bytes:
        return self._messages.payload(message_id)

    def state(self, name: str | None = None) -> InboundState:
        return DatabaseState(self._engine, name or self._scope)


def route_scope(route: Route) -> str:
    """The name of a route's own inbound state."""
    return f"route-{route.id}"


class InboundScheduler:
    """Polls the inbound side of every route whose adapter can receive."""

    def __init__(self, router: Router, registry: AdapterRegistry, pool: AdapterPool,
                 sink_for: Callable[[Route], TransportSink]) -> None:
        self._router = router
        self._registry = registry
        self._pool = pool
        self._sink_for = sink_for
        self._due: dict[int, float] = {}
        self._unusable: dict[int, str] = {}  # route id -> why it could not be built (logged once)
        self._wake = threading.Event()

    def wake(self) -> None:
        """Re-read the route list now (a route changed in this process, or the hub is stopping)."""
        self._wake.set()

    @classmethod
    def on(cls, engine: Engine, messages: MessageService, router: Router, registry: AdapterRegistry,
           pool: AdapterPool) -> InboundScheduler:
        """The scheduler of a hub: its routes, adapters, and a ``TransportSink`` per route."""
        scheduler = cls(router, registry, pool, lambda route: TransportSink(engine, messages, route_scope(route)))
        router.on_change(scheduler.wake)
        return scheduler

    def receives(self, route: Route) -> bool:
        """Whether the route's adapter has an inbound side (an unloadable plug-in has none)."""
        try:
            return RECEIVE in self._registry.get(route.adapter).capabilities
        except AdapterError:
            return False

    def inbound_routes(self) -> list[Route]:
        return [route for route in self._router.list() if self.receives(route)]

    def poll(self, route: Route) -> PollReport:
        """One poll of ``route``'s inbound side, now, whatever its interval."""
        if not self.receives(route):
            raise AdapterError(f"route {route.id} ({route.receiver} {route.service}) uses adapter {route.adapter!r}, "
                               "which has no inbound side (see `hub adapters list`: capability 'receive')")
        adapter = self._pool.for_route(route)
        return adapter.poll(self._sink_for(route))

    def poll_route(self, route_id: int) -> PollReport:
        """``hub adapters poll ROUTE``: one poll, also of a route that is polled only on demand."""
        return self.poll(self._router.get(route_id))

    def run(self, stop: threading.Event) -> None:
        """The ``inbound`` worker thread (``Hub.start_workers``): poll each route when it is due."""
        while not stop.is_set():
            wait = ROUTES_REFRESH_SECONDS
            try:
                routes = self.inbound_routes()
            except Exception:  # noqa: BLE001 - a database hiccup must not end polling for the process
                log.exception("inbound: the route list could not be read; retrying")
                routes = []
            for route in routes:
                if stop.is_set():
                    return
                due = self._poll_if_due(route)
                if due is not None:
                    wait = min(wait, max(due - time.monotonic(), 0.0))
            if self._wake.wait(max(wait, 0.05)):
                self._wake.clear()

    def _poll_if_due(self, route: Route) -> float | None:
        """Poll ``route`` if its interval has passed; returns when it is due next (None: never)."""
        try:
            interval = self._pool.for_route(route).poll_interval()
        except Exception as exc:  # noqa: BLE001 - e.g. settings this hub refuses, a drop folder it cannot create
            reason = exc.message if isinstance(exc, HubError) else f"{type(exc).__name__}: {exc}"
            if self._unusable.get(route.id) != reason:  # once per reason, not once a second
                log.warning("inbound: route %s (%s) cannot be built, so it is not polled: %s",
                            route.id, route.adapter, reason)
                self._unusable[route.id] = reason
            return None
        self._unusable.pop(route.id, None)
        if interval is None:
            self._due.pop(route.id, None)
            return None
        due = self._due.get(route.id, 0.0)
        if time.monotonic() < due:
            return due
        try:
            report = self.poll(route)
        except Exception:  # noqa: BLE001 - one failing route must not stop the others
            # Nothing the poll had not committed was acknowledged at the source; the next
            # poll offers it again.
            log.exception("inbound: poll of route %s (%s) failed; retrying in %ss", route.id, route.adapter, interval)
        else:
            if report.accepted or report.refused or report.error:
                log.info("inbound: route %s: %s", route.id, report.summary)
        due = time.monotonic() + interval
        self._due[route.id] = due
        return due
