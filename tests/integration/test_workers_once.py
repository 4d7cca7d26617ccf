"""A hub's background workers run once however many apps start them: a test's server and
its client (two lifespans over one hub) ran two relays on one publisher, whose shared broker
session broke under load and held the embedded broker's lock."""
from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from hub.api.app import create_app


def workers() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("hub-"))


def test_two_apps_over_one_hub_run_each_worker_once(embedded_hub):
    before = workers()
    with TestClient(create_app(embedded_hub)), TestClient(create_app(embedded_hub)):
        running = workers()
    for name in ("hub-relay", "hub-delivery", "hub-audit-feed"):
        assert running.count(name) == before.count(name) + 1, (name, running)
