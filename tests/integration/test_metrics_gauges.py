"""/metrics as Prometheus scrapes it: a monitor client signs in with OAuth2 client credentials,
and the backlog and dead-letter gauges follow messages sent to a dead receiver."""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.bootstrap import Hub
from tests.support.auth import bearer, register_receiver
from tests.support.waiting import wait_for

SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def gauge(scraped: dict, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (0 when none)."""
    return sum(v for (n, ls), v in scraped.items() if n == name and set(labels.items()) <= set(ls))


def test_monitor_scrape_sees_backlog_and_dead_letters_of_a_dead_receiver(
        embedded_hub: Hub, embedded_client: TestClient, embedded_as_agency, anonymous_client: TestClient) -> None:  # noqa: ANN001
    issued = embedded_hub.security.credentials.create("prometheus", actor="tests", roles=("monitor",))
    # As Prometheus' oauth2 scrape option asks (Go's clientcredentials): the client's id and
    # secret in HTTP Basic, the grant type in the form (deploy/prometheus/scrape-hub.yml).
    answer = anonymous_client.post("/v1/auth/token", data={"grant_type": "client_credentials"},
                                   auth=(issued.client_id, issued.client_secret))
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]

    def scrape() -> dict:
        response = anonymous_client.get("/metrics", headers=bearer(token))
        assert response.status_code == 200, response.text
        return samples(response.text)

    assert anonymous_client.get("/metrics").status_code == 401
    agency = embedded_as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    assert anonymous_client.get("/metrics", headers=agency.headers).status_code == 403  # an agency is no monitor

    register_receiver(embedded_client, RECEIVER)
    route = embedded_client.post("/v1/routes", json={
        "receiver": RECEIVER, "service": SERVICE, "adapter": "memory", "max_attempts": 3,
        "backoff_base_seconds": 0.5, "backoff_max_seconds": 0.5,
        "settings": {"mailbox": "metrics-dead", "fail_times": 10**6}}).json()
    labels = {"route_id": str(route["id"]), "receiver": RECEIVER}
    before = scrape()
    assert gauge(before, "hub_backlog_messages", **labels) == 0
    assert gauge(before, "hub_dead_letters", **labels) == 0

    for _ in range(5):
        body = {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE, "payload": {}}
        assert agency.post("/v1/messages", json=body).status_code == 202
    # While the receiver keeps failing, the five wait for their next attempt: a backlog.
    during = scrape()
    assert gauge(during, "hub_backlog_messages", **labels) == 5
    assert gauge(during, "hub_dead_letters", **labels) == 0

    def all_dead() -> dict | None:
        scraped = scrape()
        return scraped if gauge(scraped, "hub_dead_letters", **labels) == 5 else None
    after = wait_for(all_dead, what="5 dead letters on /metrics")
    assert gauge(after, "hub_backlog_messages", **labels) == 0
    assert gauge(after, "hub_dead_letters", route=f"{RECEIVER} {SERVICE}") == 5
    # Attempts counted per adapter (this process's counters), with their durations.
    assert gauge(after, "hub_delivery_attempts_total", adapter="memory", outcome="dead") >= 5
    assert gauge(after, "hub_delivery_attempts_total", adapter="memory", outcome="retrying") >= 10
    assert gauge(after, "hub_delivery_attempt_seconds_count", adapter="memory") >= 15
    # The audit feed's lag is reported; it catches up.
    embedded_hub.security.audit_feed.catch_up()
    caught_up = scrape()
    assert ("hub_audit_feed_lag_events", ()) in caught_up
    assert caught_up[("hub_audit_feed_lag_events", ())] == 0

    # The Grafana dashboard in the repository asks only for series the hub exports.
    exported = {f.name for f in text_string_to_metric_families(anonymous_client.get(
        "/metrics", headers=bearer(token)).text)}
    dashboard = json.loads((Path(__file__).parents[2] / "deploy/grafana/hub-dashboard.json").read_text("utf-8"))
    asked = {re.sub(r"_(bucket|count|sum)$", "", name) for panel in dashboard["panels"]
             for target in panel["targets"] for name in re.findall(r"\bhub_\w+", target["expr"])}
    assert asked and asked <= exported | {f"{n}_total" for n in exported}, asked - exported

    # A replay takes them out of the dead letters and back into the backlog.
    dead_ids = [m["id"] for m in embedded_client.get("/v1/messages", params={"status": "dead"}).json()["items"]]
    embedded_client.post(f"/v1/messages/{dead_ids[0]}/replay")
    replayed = scrape()
    assert gauge(replayed, "hub_dead_letters", **labels) == 4


def test_ecms_queue_depth_per_department(embedded_hub: Hub, embedded_client: TestClient) -> None:
    store = embedded_hub.ecms.store
    for n, owner in enumerate(["1501", "1501", "0401"]):
        store.enqueue(owner_code=owner, message_id=str(uuid.uuid4()), kind="letter", letter_message_id=None,
                      secret_code="1", payload=b"<x/>")
    assert store.queue_depths() == {"1501": 2, "0401": 1}
    scraped = samples(embedded_client.get("/metrics").text)
    assert gauge(scraped, "hub_ecms_queue_depth", department="1501") == 2
    assert gauge(scraped, "hub_ecms_queue_depth", department="0401") == 1
