"""One delivery attempt: claim the message in the database, send it, record the outcome.

The claim (``queued`` -> ``delivering``, attempts + 1) is a conditional update, so however
many broker copies of an id exist, only one worker delivers it at a time. The outcome is
recorded only if the claim is still ours (same attempt number).
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from hub.adapters.base import Adapter, OutboundMessage, Receipt
from hub.adapters.registry import AdapterRegistry
from hub.clock import as_utc, utcnow
from hub.errors import DeliveryError
from hub.schemas.routes import DeliveryPolicy, Route
from hub.transport.backoff import retry_delay
from hub.transport.messages import DEAD, DELIVERED, DELIVERING, QUEUED, RETRYING, meta_columns, row_to_meta
from hub.transport.routing import Router
from hub.transport.tables import message_events, message_payloads, messages

log = logging.getLogger(__name__)


class AdapterPool:
    """One live adapter per route, rebuilt when the route's adapter or settings change."""

    def __init__(self, registry: AdapterRegistry) -> None:
        self._registry = registry
        self._live: dict[int, tuple[tuple[str, str], Adapter]] = {}
        self._lock = threading.Lock()

    def for_route(self, route: Route) -> Adapter:
        key = (route.adapter, repr(sorted(route.settings.items())))
        with self._lock:
            current = self._live.get(route.id)
            if current and current[0] == key:
                return current[1]
            adapter = self._registry.build(route.adapter, route.settings)
            self._live[route.id] = (key, adapter)
        if current:
            current[1].close()
        return adapter

    def close(self) -> None:
        with self._lock:
            live, self._live = self._live, {}
        for _, adapter in live.values():
            adapter.close()


class Deliverer:
    def __init__(self, engine: Engine, router: Router, pool: AdapterPool, *, attempt_timeout: float,
                 on_outcome: Any = None) -> None:
        self._engine = engine
        self._router = router
        self._pool = pool
        self._lease = timedelta(seconds=attempt_timeout * 2)
        self._on_outcome = on_outcome

    def deliver(self, message_id: str) -> str:
        """Returns the outcome: delivered, retrying, dead, or skipped (not ours to deliver)."""
        now = utcnow()
        with self._engine.begin() as conn:
            row = conn.execute(
                update(messages)
                .where(messages.c.id == message_id, messages.c.status == QUEUED)
                .values(status=DELIVERING, attempts=messages.c.attempts + 1,
                        next_action_at=now + self._lease, updated_at=now)
                .returning(*meta_columns(), messages.c.cycle_started_at)
            ).mappings().first()
            if row is None:
                return "skipped"
            payload = conn.execute(
                select(message_payloads.c.body).where(message_payloads.c.message_id == message_id)
            ).scalar_one()
        cycle_started_at = as_utc(row["cycle_started_at"])
        meta = row_to_meta({k: v for k, v in row.items() if k != "cycle_started_at"})
        attempt = meta.attempts
        route = self._router.find(meta.receiver, meta.service)
        policy: DeliveryPolicy = route or DeliveryPolicy()
        if attempt > policy.max_attempts:
            # The previous attempt's worker vanished and used up the last try.
            return self._dead(message_id, attempt, f"no attempts left ({policy.max_attempts} allowed)")
        if route is None:
            return self._failed(message_id, cycle_started_at, attempt, policy,
                                DeliveryError(f"no route for {meta.receiver!r} / {meta.service!r}"))
        try:
            receipt = self._pool.for_route(route).send(OutboundMessage(meta, payload))
        except DeliveryError as exc:
            return self._failed(message_id, cycle_started_at, attempt, policy, exc)
        except Exception as exc:  # an adapter bug must not kill the worker; the attempt fails
            log.exception("adapter %r raised unexpectedly for message %s", route.adapter, message_id)
            return self._failed(message_id, cycle_started_at, attempt, policy,
                                DeliveryError(f"adapter error: {type(exc).__name__}: {exc}"))
        return self._delivered(message_id, attempt, receipt)

    def _finish(self, message_id: str, attempt: int, values: dict[str, Any], events: list[dict[str, Any]],
                outcome: str) -> str:
        now = utcnow()
        with self._engine.begin() as conn:
            won = conn.execute(
                update(messages)
                .where(messages.c.id == message_id, messages.c.status == DELIVERING,
                       messages.c.attempts == attempt)
                .values(updated_at=now, **values)
            ).rowcount
            if won:
                conn.execute(insert(message_events),
                             [{"message_id": message_id, "at": now, "attempt": attempt, **e} for e in events])
        if not won:
            log.warning("message %s attempt %d finished after its lease was taken over", message_id, attempt)
            return "superseded"
        if self._on_outcome:
            self._on_outcome(outcome)
        return outcome

    def _delivered(self, message_id: str, attempt: int, receipt: Receipt) -> str:
        return self._finish(
            message_id, attempt,
            {"status": DELIVERED, "receipt": receipt.receipt, "next_action_at": None, "last_error": None},
            [{"kind": DELIVERED, "detail": {"receipt": receipt.receipt, **receipt.detail}}],
            DELIVERED,
        )

    def _dead(self, message_id: str, attempt: int, reason: str, events: list[dict[str, Any]] | None = None) -> str:
        return self._finish(
            message_id, attempt,
            {"status": DEAD, "next_action_at": None, "last_error": reason},
            [*(events or []), {"kind": "dead_lettered", "detail": {"reason": reason}}],
            DEAD,
        )

    def _failed(self, message_id: str, cycle_started_at: Any, attempt: int, policy: DeliveryPolicy,
                exc: DeliveryError) -> str:
        now = utcnow()
        failed = {"kind": "attempt_failed", "detail": {"error": exc.reason, "permanent": exc.permanent, **exc.extra}}
        if exc.permanent:
            return self._dead(message_id, attempt, f"permanent failure: {exc.reason}", [failed])
        if attempt >= policy.max_attempts:
            return self._dead(message_id, attempt, f"gave up after {attempt} attempts: {exc.reason}", [failed])
        delay = retry_delay(attempt, policy.backoff_base_seconds, policy.backoff_max_seconds)
        retry_at = now + timedelta(seconds=delay)
        if (retry_at - cycle_started_at).total_seconds() > policy.max_age_seconds:
            return self._dead(message_id, attempt,
                              f"older than max_age_seconds={policy.max_age_seconds:g}: {exc.reason}", [failed])
        failed["detail"]["retry_at"] = retry_at.isoformat()
        return self._finish(
            message_id, attempt,
            {"status": RETRYING, "next_action_at": retry_at, "last_error": exc.reason},
            [failed],
            RETRYING,
        )
