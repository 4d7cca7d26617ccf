"""What the overview shows of the hub's health: each route's adapter check and whether the
audit trail verifies. Both can be slow (a receiver's health URL, a long trail), so they run
in a background thread at most once a minute and the overview shows the last result with its
time, instead of making each page load wait on every receiver."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.clock import utcnow
from hub.errors import HubError

REFRESH_SECONDS = 60.0


@dataclass(frozen=True)
class RouteHealth:
    route_id: int
    receiver: str
    service: str
    adapter: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    routes: list[RouteHealth]
    audit_ok: bool
    audit_detail: str


def check_route(hub: Any, route: Any) -> RouteHealth:
    """One route's adapter health check (also the routes page's "check" button)."""
    try:
        with hub.adapters.build(route.adapter, route.settings) as adapter:
            health = adapter.check()
        return RouteHealth(route.id, route.receiver, route.service, route.adapter, health.ok, health.detail)
    except (HubError, OSError) as exc:
        detail = exc.message if isinstance(exc, HubError) else f"{type(exc).__name__}: {exc}"
        return RouteHealth(route.id, route.receiver, route.service, route.adapter, False, detail)


class HealthChecks:
    def __init__(self, get_hub: Callable[[], Any]) -> None:
        self._get_hub = get_hub
        self._lock = threading.Lock()
        self._last: Snapshot | None = None
        self._started = 0.0

    def last(self) -> Snapshot | None:
        """The latest snapshot (None until the first finishes); starts a refresh when it is old."""
        with self._lock:
            due = time.monotonic() - self._started >= REFRESH_SECONDS
            if due:
                self._started = time.monotonic()
        if due:
            threading.Thread(target=self.refresh, name="console-health", daemon=True).start()
        return self._last

    def refresh(self) -> Snapshot:
        hub = self._get_hub()
        routes = [check_route(hub, r) for r in hub.router.list()]
        report = hub.security.audit.verify()
        self._last = Snapshot(utcnow(), routes, report.ok,
                              f"{report.entries} entries, {report.seals} seals" if report.ok else str(report.problem))
        return self._last
