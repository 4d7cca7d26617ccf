"""The fan-out scenario: events published once, each delivered to 10 webhook subscribers.

Provisioning makes 10 subscriptions (one subsystem each) whose webhooks point at the bench
sink, which counts distinct ``webhook-id`` values; the figure is deliveries per second (events
x subscribers), reported next to the plain end-to-end figure of the same backend.
"""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

from hub.bench.backends import BackendEnv

SOURCE = "TH/GOV/BENCH/hr"
EVENT = "hr.person.changed/v1"
SUBSCRIBERS = 10
EXAMPLE = "th.hr.person-changed/1.0.0/examples/valid/civil-servant.json"


def provision_fanout(env: BackendEnv, sink_url: str) -> str:
    """Subscribers and their webhook subscriptions; returns the source's access token."""
    from hub.bootstrap import build_hub
    from hub.config import Settings
    from hub.integration.subscriptions import ChannelIn, SubscriptionIn
    from hub.schemas.principal import ADMIN, Principal
    from hub.schemas.routes import DeliveryPolicy
    from hub.security.onboarding import onboard

    settings = Settings(data_dir=env.data_dir, database_url=env.database_url, broker_url=env.broker_url,
                        queue_name=env.queue_name, webhook_allow_loopback=True)
    hub = build_hub(settings)
    try:
        party = settings.events_party
        onboard(hub.security, SOURCE, actor="bench", clearance="002", rights=[(EVENT, party)])
        admin = Principal(subject="bench", roles=frozenset({ADMIN}))
        for i in range(SUBSCRIBERS):
            subscriber = f"TH/GOV/BENCH{i:02d}/hr"
            onboard(hub.security, subscriber, actor="bench", clearance="002", rights=[(EVENT, party)])
            hub.integration.subscriptions.subscribe(admin, SubscriptionIn(
                subscriber=subscriber, event_type=EVENT, channel=ChannelIn(type="webhook", url=f"{sink_url}/hook/{i}"),
                policy=DeliveryPolicy(max_attempts=20, backoff_base_seconds=0.2, backoff_max_seconds=2)))
        return hub.security.client_token(SOURCE)
    finally:
        hub.close()


def publish_events(hub_url: str, token: str, standards_dir: Path, *, duration: float, concurrency: int) -> int:
    """Publish events (``POST /v1/events``) for ``duration`` seconds; returns how many were accepted."""
    document = orjson.loads((standards_dir / EXAMPLE).read_bytes())
    deadline = time.monotonic() + duration

    def worker(n: int) -> int:
        accepted = 0
        with httpx.Client(base_url=hub_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
            while time.monotonic() < deadline or accepted == 0:
                data = {**document, "per_id": 1 + (uuid.uuid4().int % 10**8)}
                response = client.post("/v1/events", json={"source": SOURCE, "event_type": EVENT, "data": data})
                accepted += response.status_code == 202
        return accepted

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return sum(pool.map(worker, range(concurrency)))
