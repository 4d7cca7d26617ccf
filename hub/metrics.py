"""Prometheus metrics exposed at ``/metrics``."""
from __future__ import annotations

from prometheus_client import Counter, Histogram

ACCEPTED = Counter("hub_messages_accepted_total", "Messages durably accepted.")
REFUSED = Counter("hub_messages_refused_total", "Submissions refused, by HTTP status.", ["status"])
OUTCOMES = Counter("hub_delivery_outcomes_total", "Delivery attempt outcomes.", ["outcome"])
ACCEPT_SECONDS = Histogram(
    "hub_accept_seconds", "Time from request to durable accept.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
ATTEMPTS = Counter("hub_delivery_attempts_total", "Delivery attempts by adapter and outcome "
                   "(delivered, retrying, dead).", ["adapter", "outcome"])
ATTEMPT_SECONDS = Histogram(
    "hub_delivery_attempt_seconds", "Duration of one delivery attempt (the adapter's send), by adapter.",
    ["adapter"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
