"""Routes: (receiver, service) -> adapter and delivery policy; ``*`` matches any service."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.adapters.registry import AdapterRegistry
from hub.clock import utcnow
from hub.db import reading
from hub.errors import Conflict, FieldError, NoRoute, NotFound, ValidationFailed
from hub.refresh_ahead import in_background, refresh_point
from hub.schemas.routes import Route, RouteIn
from hub.transport.tables import routes

# Another process (the CLI, a second API process) may change routes; this bounds how long a
# cached view can be stale. Changes made through this process are seen at once.
CACHE_SECONDS = 2.0
log = logging.getLogger(__name__)


class Router:
    def __init__(self, engine: Engine, adapters: AdapterRegistry) -> None:
        self._engine = engine
        self._adapters = adapters
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Route] | None = None
        self._loaded_at = 0.0
        # Used after this age, the view is re-read in the background (hub.refresh_ahead), so
        # under traffic it never goes stale and no accept waits for the routes table.
        self._refresh_after = 0.0
        self._refreshing = False
        self._refresh_lock = threading.Lock()  # never held across I/O (``_lock`` is): taken on the event loop
        self._generation = 0  # bumped by ``invalidate``: a reload that began before stores nothing
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every route change made through this router."""
        self._listeners.append(listener)

    def add(self, route: RouteIn) -> Route:
        adapter_cls = self._adapters.get(route.adapter)
        settings = self._adapters.validate_settings(adapter_cls, route.settings)
        values = route.model_dump()
        values["settings"] = settings.model_dump(mode="json")
        try:
            with self._engine.begin() as conn:
                new_id = conn.execute(insert(routes).values(**values, created_at=utcnow())).inserted_primary_key[0]
        except IntegrityError as exc:
            raise Conflict(
                f"a route for receiver {route.receiver!r} and service {route.service!r} already exists; "
                "remove it first"
            ) from exc
        self.invalidate()
        return Route(id=new_id, **values)

    def update(self, route_id: int, route: RouteIn) -> Route:
        """Change a route in place (its id stays, so messages already routed keep pointing at it);
        the adapter's settings are validated as in ``add``."""
        adapter_cls = self._adapters.get(route.adapter)
        settings = self._adapters.validate_settings(adapter_cls, route.settings)
        values = route.model_dump()
        values["settings"] = settings.model_dump(mode="json")
        try:
            with self._engine.begin() as conn:
                if conn.execute(update(routes).where(routes.c.id == route_id).values(**values)).rowcount == 0:
                    raise NotFound(f"no route with id {route_id}")
        except IntegrityError as exc:
            raise Conflict(f"a route for receiver {route.receiver!r} and service {route.service!r} already exists") \
                from exc
        self.invalidate()
        return Route(id=route_id, **values)

    def remove(self, route_id: int) -> None:
        with self._engine.begin() as conn:
            if conn.execute(delete(routes).where(routes.c.id == route_id)).rowcount == 0:
                raise NotFound(f"no route with id {route_id}")
        self.invalidate()

    def list(self) -> list[Route]:
        with reading(self._engine).connect() as conn:
            rows = conn.execute(select(routes).order_by(routes.c.id)).mappings().all()
        return [Route.model_validate({k: v for k, v in r.items() if k != "created_at"}) for r in rows]

    def get(self, route_id: int) -> Route:
        for route in self.list():
            if route.id == route_id:
                return route
        raise NotFound(f"no route with id {route_id}")

    def invalidate(self) -> None:
        with self._lock:
            self._cache = None
            self._generation += 1
        for listener in self._listeners:
            listener()

    def is_fresh(self) -> bool:
        """Whether ``find`` answers now from memory, without reading the routes table."""
        return self._cache is not None and self._young()

    def _young(self) -> bool:
        """Whether the view is within CACHE_SECONDS; past its refresh point, a re-read starts."""
        age = time.monotonic() - self._loaded_at
        if age > self._refresh_after and not self._refreshing:
            with self._refresh_lock:
                if self._refreshing or self._cache is None:
                    return age <= CACHE_SECONDS
                self._refreshing = True
                generation = self._generation
            if in_background(lambda: self._reload(generation)) is None:
                self._refreshing = False
        return age <= CACHE_SECONDS

    def _reload(self, generation: int) -> None:
        started = time.monotonic()
        try:
            table = {(r.receiver, r.service): r for r in self.list()}
        except Exception:  # noqa: BLE001  the view then ages out and a caller reads the table itself
            log.warning("re-reading the routes in the background failed", exc_info=True)
            self._refreshing = False
            return
        with self._lock:
            if generation == self._generation and self._cache is not None:
                self._cache, self._loaded_at = table, started
                self._refresh_after = refresh_point(CACHE_SECONDS)
            self._refreshing = False

    def _table(self) -> dict[tuple[str, str], Route]:
        cache = self._cache
        if cache is not None and self._young():
            return cache
        # Stale: one thread reloads; the others go on with the view it replaces (at most moments
        # older) instead of queueing behind the lock for the query (every delivery thread did, in
        # a profile). With no view at all (start, or a change made here), everyone waits for it.
        if not self._lock.acquire(blocking=cache is None):
            return cache  # type: ignore[return-value]  (not None: a blocking acquire never fails)
        try:
            if self._cache is None or time.monotonic() - self._loaded_at > CACHE_SECONDS:
                started = time.monotonic()
                self._cache = {(r.receiver, r.service): r for r in self.list()}
                self._loaded_at, self._refresh_after = started, refresh_point(CACHE_SECONDS)
            return self._cache
        finally:
            self._lock.release()

    def find(self, receiver: str, service: str) -> Route | None:
        table = self._table()
        return table.get((receiver, service)) or table.get((receiver, "*"))

    def resolve(self, receiver: str, service: str) -> Route:
        route = self.find(receiver, service)
        if route is None:
            raise NoRoute(
                f"no route for receiver {receiver!r} and service {service!r}",
                errors=[
                    FieldError("/receiver", "route_exists", f"no route delivers {service!r} to {receiver!r}"),
                ],
            )
        return route

    def check_standard(self, route: Route, standard: str | None) -> None:
        if route.require_standard and standard != route.require_standard:
            raise ValidationFailed(
                f"route {route.id} requires messages to declare standard {route.require_standard!r}",
                errors=[
                    FieldError(
                        "/standard", "route_requires_standard",
                        f"expected {route.require_standard!r}, got {standard!r}",
                    )
                ],
            )
