"""Gauges read from the database at scrape time (a prometheus-client custom collector).

Counters in ``hub.metrics`` count what this process did; these say how things stand for the
whole hub, whichever process did the work: the backlog and dead letters per route and
receiver, each e-CMS department's queue depth, and how far the audit feed is behind. Each is
one grouped count over an index (hub/transport/gauges.py, ``EcmsStore.queue_depths``,
``AuditFeed.lag``), so a scrape stays cheap on a large store.

The collector lives in a registry of its own per application (not the process-wide default),
so several hubs in one process — tests — each report their own database.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.transport.gauges import status_counts
from hub.transport.messages import DEAD

if TYPE_CHECKING:
    from hub.bootstrap import Hub

log = logging.getLogger(__name__)


class HubCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        backlog = GaugeMetricFamily("hub_backlog_messages", "Messages not yet finished, per route, receiver and "
                                    "status (accepted, queued, delivering, retrying).",
                                    labels=["route_id", "route", "receiver", "status"])
        dead = GaugeMetricFamily("hub_dead_letters", "Dead-lettered messages waiting for a replay, per route and "
                                 "receiver.", labels=["route_id", "route", "receiver"])
        for c in status_counts(self._hub.engine):
            route_id = "" if c.route_id is None else str(c.route_id)
            if c.status == DEAD:
                dead.add_metric([route_id, c.route, c.receiver], c.count)
            else:
                backlog.add_metric([route_id, c.route, c.receiver, c.status], c.count)
        yield backlog
        yield dead
        if self._hub.ecms is not None:
            depth = GaugeMetricFamily("hub_ecms_queue_depth", "Items waiting in an e-CMS department's queue "
                                      "(not yet deleted by it).", labels=["department"])
            for code, n in sorted(self._hub.ecms.store.queue_depths().items()):
                depth.add_metric([code], n)
            yield depth
        if self._hub.security is not None:
            events, seconds = self._hub.security.audit_feed.lag()
            yield GaugeMetricFamily("hub_audit_feed_lag_events", "Message events not yet copied into the audit "
                                    "trail.", value=events)
            yield GaugeMetricFamily("hub_audit_feed_lag_seconds", "Age of the oldest message event not yet "
                                    "copied into the audit trail (0 when caught up).", value=seconds)


def hub_registry(hub: Hub) -> CollectorRegistry:
    """A registry holding only this hub's database gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector(hub))
    return registry
