"""Layer 5 done-when (Tell Us Once): an event reaches every subscriber exactly once, on the
transport (one down for a while and recovering, one dead-lettered), signed webhooks that the
``standardwebhooks`` library verifies, AMQP subscribers, replay from a time, filters, and the
refusals of subscribing (rights, clearance, unsafe URLs, unknown filter fields, 410)."""
from __future__ import annotations

import copy
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kombu import Connection
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from hub.adapters.amqp import amqp_queue
from hub.adapters.webhook import UnsafeDestination, check_destination
from hub.config import Settings, default_standards_dir
from hub.integration.fanout import child_id
from tests.conftest import backend_settings, fast_settings
from tests.support import services
from tests.support.waiting import wait_for
from tests.support.webhooks import WebhookSubscriber

EVENTS = "TH/GOV/HUB/events"
HR_CHANGED = "hr.person.changed/v1"
SOURCE = "TH/GOV/OCSC/dpis"
PERSON = json.loads((default_standards_dir() / "th.hr.person-changed/1.0.0/examples/valid/civil-servant.json")
                    .read_text(encoding="utf-8"))
SUBJECTS = ["1100400728564", "1101700203450", "3100600123457"]


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    with ExitStack() as stack:
        yield backend_settings(backend, tmp_path / "data", stack, webhook_allow_loopback=True)


@pytest.fixture
def embedded_settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path / "data", webhook_allow_loopback=True)


@pytest.fixture
def webhooks() -> Iterator:
    started: list[WebhookSubscriber] = []

    def make(name: str) -> WebhookSubscriber:
        started.append(WebhookSubscriber(name).start())
        return started[-1]

    yield make
    for subscriber in started:
        subscriber.stop()


def person(citizen_id: str, *, org_id: int = 3307, ministry: int = 1, **changes: object) -> dict:
    doc = copy.deepcopy(PERSON)
    doc["per_cardno"] = citizen_id
    doc["organization"][-1]["org_id"] = ministry
    doc["organization"][-2]["org_id_ref"] = ministry
    doc["org_id"] = org_id
    doc.update(changes)
    return doc


def source_client(as_agency):  # noqa: ANN001, ANN201
    return as_agency(SOURCE, clearance="002", rights=[(HR_CHANGED, EVENTS)])


def subscriber_client(as_agency, subsystem: str, clearance: str = "002"):  # noqa: ANN001, ANN201
    return as_agency(subsystem, clearance=clearance, rights=[(HR_CHANGED, EVENTS)])


def subscribe_webhook(client, subsystem: str, hook: WebhookSubscriber, **extra: object) -> dict:  # noqa: ANN001
    response = client.post("/v1/subscriptions", json={
        "subscriber": subsystem, "event_type": HR_CHANGED, "channel": {"type": "webhook", "url": hook.url}, **extra})
    assert response.status_code == 201, response.text
    body = response.json()
    hook.secrets = [body["secret"]]
    return body


def publish(client, citizen_id: str, **changes: object) -> str:  # noqa: ANN001
    response = client.post("/v1/events", json={"source": SOURCE, "event_type": HR_CHANGED,
                                                "data": person(citizen_id, **changes)})
    assert response.status_code == 202, response.text
    return response.json()["id"]


def deliveries(client, sub_id: str) -> list[dict]:  # noqa: ANN001
    response = client.get(f"/v1/subscriptions/{sub_id}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()


def drain(url: str, queue: str, count: int, timeout: float = 30.0) -> list:
    """Consume ``count`` messages from ``queue`` (acknowledging each), as a subscriber would."""
    got = []
    deadline = time.monotonic() + timeout
    with Connection(url) as conn:
        bound = amqp_queue(queue)(conn.default_channel)
        bound.declare()
        while len(got) < count and time.monotonic() < deadline:
            message = bound.get(no_ack=False)
            if message is None:
                time.sleep(0.1)
                continue
            got.append(message)
            message.ack()
    return got


# ------------------------------------------------------------------ fan-out on the transport


def test_an_event_reaches_every_subscriber_exactly_once(hub, client, as_agency, webhooks) -> None:
    """Three webhook subscribers: one healthy, one down for its first requests and recovering,
    one broken (dead-lettered after its attempts); the others are not held back by it."""
    source = source_client(as_agency)
    healthy, recovering, broken = webhooks("healthy"), webhooks("recovering"), webhooks("broken")
    recovering.down_for = 3
    broken.mode = "broken"
    subs = {}
    for name, hook in (("healthy", healthy), ("recovering", recovering), ("broken", broken)):
        subsystem = f"TH/GOV/AG{name.upper()[:3]}/hr"
        subs[name] = subscribe_webhook(subscriber_client(as_agency, subsystem), subsystem, hook,
                                       policy={"max_attempts": 3, "backoff_base_seconds": 0.2,
                                               "backoff_max_seconds": 0.5})
    event_ids = [publish(source, cid) for cid in SUBJECTS]
    # A fourth event through the normal envelope, to the events party.
    # (A source keeps its events about one subject in order with the correlation id that
    # POST /v1/events sets by itself: "<event type>:<subject>".)
    envelope = {"sender": SOURCE, "receiver": EVENTS, "service": HR_CHANGED, "classification": "002",
                "correlation_id": f"{HR_CHANGED}:1100400728564", "payload": person("1100400728564", level_no="K3")}
    response = source.post("/v1/messages", json=envelope)
    assert response.status_code == 202, response.text
    event_ids.append(response.json()["id"])

    wait_for(lambda: len(healthy.applied) == 4, what="the healthy subscriber's 4 events")
    wait_for(lambda: len(recovering.applied) == 4, what="the recovering subscriber's 4 events")
    wait_for(lambda: [d["status"] for d in deliveries(client, subs["broken"]["id"])] == ["dead"] * 4,
             what="the broken subscriber's deliveries dead-lettered")
    for hook in (healthy, recovering):
        assert set(hook.applied) == {child_id(e, subs[hook.name]["id"]) for e in event_ids}
        assert all(n == 1 for n in hook.seen.values()), hook.seen  # each event arrived once
        assert hook.bad_signatures == 0
    assert recovering.down_for == 0 and len(recovering.requests) == 4 + 3
    assert len(broken.requests) == 4 * 3  # three attempts each, then the dead letter
    # Events about one subject reach a subscriber in the order they were published.
    first, fourth = child_id(event_ids[0], subs["healthy"]["id"]), child_id(event_ids[3], subs["healthy"]["id"])
    assert healthy.applied_order.index(first) < healthy.applied_order.index(fourth)

    # Delivering an event again (a replay of the event itself) creates no second copy.
    assert client.post(f"/v1/messages/{event_ids[0]}/replay").status_code == 202
    wait_for(lambda: sum(h["kind"] == "delivered" for h in client.get(f"/v1/messages/{event_ids[0]}").json()
                         ["history"]) == 2, what="the event delivered again")
    detail = client.get(f"/v1/events/{event_ids[0]}").json()
    assert len(detail["deliveries"]) == 3 and not any(d["new"] for d in detail["deliveries"])
    for name in ("healthy", "recovering", "broken"):
        assert len(deliveries(client, subs[name]["id"])) == 4
    assert len(healthy.requests) == 4


def test_an_amqp_subscriber_receives_its_events_on_its_queue(hub, client, as_agency) -> None:
    source = source_client(as_agency)
    subsystem = "TH/GOV/AGAMQP/hr"
    queue = f"hub.test.events.{uuid.uuid4().hex[:10]}"
    response = subscriber_client(as_agency, subsystem).post("/v1/subscriptions", json={
        "subscriber": subsystem, "event_type": HR_CHANGED, "channel": {"type": "amqp", "queue": queue}})
    assert response.status_code == 201, response.text
    assert "secret" not in response.json()
    try:
        event_ids = [publish(source, cid) for cid in SUBJECTS]
        got = drain(hub.settings.effective_broker_url, queue, 3)
        assert len(got) == 3
        assert {m.properties["message_id"] for m in got} == {child_id(e, response.json()["id"]) for e in event_ids}
        documents = [json.loads(m.body) for m in got]
        assert sorted(d["payload"]["per_cardno"] for d in documents) == sorted(SUBJECTS)
        assert all(d["receiver"] == subsystem and d["service"] == HR_CHANGED for d in documents)
    finally:
        with Connection(hub.settings.effective_broker_url) as conn:
            conn.default_channel.queue_delete(queue)


RESTART_RABBITMQ = "rabbitmqctl stop_app && rabbitmqctl start_app"


@pytest.fixture
def restart_allowed() -> str:
    """The broker-restart test restarts the local RabbitMQ, so it runs only where the servers
    are the suite's own (HUB_TEST_SERVICES=required, as in CI, where tests run one at a time);
    HUB_TEST_RABBITMQ_RESTART names another restart command. The broker is left running."""
    if not services.required():
        pytest.skip("restarts RabbitMQ: only with HUB_TEST_SERVICES=required")
    command = os.environ.get("HUB_TEST_RABBITMQ_RESTART", RESTART_RABBITMQ)
    if command == RESTART_RABBITMQ and shutil.which("rabbitmqctl") is None:
        pytest.fail("HUB_TEST_SERVICES=required but rabbitmqctl is not installed to restart the broker")
    return command


@pytest.mark.broker_restart
@pytest.mark.services
@pytest.mark.parametrize("backend", [pytest.param("postgres+rabbitmq", marks=pytest.mark.services)])
def test_an_amqp_subscriber_receives_its_events_after_a_broker_restart(restart_allowed, backend, hub, client,
                                                                       as_agency) -> None:
    command = restart_allowed
    import subprocess

    source = source_client(as_agency)
    subsystem = "TH/GOV/AGRST/hr"
    queue = f"hub.test.events.{uuid.uuid4().hex[:10]}"
    sub = subscriber_client(as_agency, subsystem).post("/v1/subscriptions", json={
        "subscriber": subsystem, "event_type": HR_CHANGED, "channel": {"type": "amqp", "queue": queue}}).json()
    before = publish(source, SUBJECTS[0])
    wait_for(lambda: [d["status"] for d in deliveries(client, sub["id"])] == ["delivered"], what="first delivery")
    try:
        subprocess.run(command, shell=True, check=True, timeout=120)
    finally:
        wait_for(lambda: services.reachable("rabbitmq"), timeout=120, what="RabbitMQ back after its restart")
    after = publish(source, SUBJECTS[1])
    got = drain(hub.settings.effective_broker_url, queue, 2, timeout=120)
    assert {m.properties["message_id"] for m in got} == {child_id(before, sub["id"]), child_id(after, sub["id"])}


# ------------------------------------------------------------------ webhook signatures


def test_webhook_signatures_verify_with_the_standard_webhooks_library(hub, client,
                                                                      as_agency, webhooks) -> None:
    source = source_client(as_agency)
    hook = webhooks("signed")
    subsystem = "TH/GOV/AGSIG/hr"
    agency = subscriber_client(as_agency, subsystem)
    sub = subscribe_webhook(agency, subsystem, hook)
    assert sub["secret"].startswith("whsec_")
    publish(source, SUBJECTS[0])
    wait_for(lambda: len(hook.applied) == 1, what="the signed delivery")
    request = hook.requests[-1]
    headers, body = request["headers"], request["body"]
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= headers.keys()
    verified = Webhook(sub["secret"]).verify(body, headers)
    assert verified["type"] == HR_CHANGED and verified["data"]["per_cardno"] == SUBJECTS[0]
    tampered = body.replace(SUBJECTS[0].encode(), SUBJECTS[1].encode())
    with pytest.raises(WebhookVerificationError):
        Webhook(sub["secret"]).verify(tampered, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(body, headers)  # someone else's secret

    # Rotation with overlap: the next delivery is signed with the new and the old secret.
    rotated = agency.post(f"/v1/subscriptions/{sub['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != sub["secret"] and rotated.json()["live_secrets"] == 2
    hook.secrets = [new_secret]
    publish(source, SUBJECTS[1])
    wait_for(lambda: len(hook.applied) == 2, what="the delivery after rotation")
    last = hook.requests[-1]
    assert hook.verify(last["headers"], last["body"], [new_secret])
    assert hook.verify(last["headers"], last["body"], [sub["secret"]])  # still accepted during the overlap
    # Another agency cannot rotate it; the secret never appears in a listing.
    other = subscriber_client(as_agency, "TH/GOV/AGOTH/hr")
    assert other.post(f"/v1/subscriptions/{sub['id']}/rotate-secret").status_code == 404
    assert "secret" not in agency.get(f"/v1/subscriptions/{sub['id']}").json()


def test_a_subscriber_answering_410_is_suspended_not_retried(embedded_hub, embedded_client, embedded_as_agency,
                                                              webhooks) -> None:
    source = source_client(embedded_as_agency)
    hook = webhooks("gone")
    hook.mode = "gone"
    subsystem = "TH/GOV/AGGONE/hr"
    agency = subscriber_client(embedded_as_agency, subsystem)
    sub = subscribe_webhook(agency, subsystem, hook)
    publish(source, SUBJECTS[0])
    wait_for(lambda: agency.get(f"/v1/subscriptions/{sub['id']}").json()["status"] == "suspended",
             what="the subscription suspended")
    wait_for(lambda: [d["status"] for d in deliveries(agency, sub["id"])] == ["dead"], what="dead letter")
    assert [d["attempts"] for d in deliveries(agency, sub["id"])] == [1]
    assert "410" in agency.get(f"/v1/subscriptions/{sub['id']}").json()["status_reason"]
    # While suspended, new events are not fanned out to it.
    second = publish(source, SUBJECTS[1])
    wait_for(lambda: embedded_client.get(f"/v1/messages/{second}").json()["status"] == "delivered",
             what="the second event fanned out")
    assert len(deliveries(agency, sub["id"])) == 1 and len(hook.requests) == 1
    # Resumed, it receives again.
    hook.mode = "up"
    assert agency.post(f"/v1/subscriptions/{sub['id']}/resume").json()["status"] == "active"
    publish(source, SUBJECTS[2])
    wait_for(lambda: len(hook.applied) == 1, what="delivery after resuming")


# ------------------------------------------------------------------ replay and filters


def test_a_subscriber_replays_its_events_from_a_point_in_time(hub, client, as_agency,
                                                              webhooks) -> None:
    source = source_client(as_agency)
    hook = webhooks("replay")
    subsystem = "TH/GOV/AGREP/hr"
    agency = subscriber_client(as_agency, subsystem)
    sub = subscribe_webhook(agency, subsystem, hook)
    early = publish(source, SUBJECTS[0])
    wait_for(lambda: len(hook.applied) == 1, what="first event")
    time.sleep(0.05)
    since = datetime.now(UTC)
    late = [publish(source, SUBJECTS[1]), publish(source, SUBJECTS[2])]
    wait_for(lambda: len(hook.applied) == 3, what="later events")
    response = agency.post(f"/v1/subscriptions/{sub['id']}/replay", params={"since": since.isoformat()})
    assert response.status_code == 200, response.text
    assert sorted(response.json()["replayed"]) == sorted(child_id(e, sub["id"]) for e in late)
    wait_for(lambda: len(hook.requests) == 5, what="the replayed deliveries")
    assert hook.seen[child_id(early, sub["id"])] == 1
    assert all(hook.seen[child_id(e, sub["id"])] == 2 for e in late)  # same webhook-id: the subscriber knows it
    # Only the subscriber replays its deliveries.
    other = subscriber_client(as_agency, "TH/GOV/AGOTH/hr")
    assert other.post(f"/v1/subscriptions/{sub['id']}/replay", params={"since": since.isoformat()}).status_code == 404


def test_filters_select_events_and_fields(hub, client, as_agency, webhooks) -> None:
    source = source_client(as_agency)
    hook = webhooks("filtered")
    subsystem = "TH/GOV/AGMIN/hr"
    agency = subscriber_client(as_agency, subsystem)
    sub = subscribe_webhook(agency, subsystem, hook, filter={
        "match": {"/organization/*/org_id": [7]}, "fields": ["per_cardno", "org_id", "level_no"]})
    ours = publish(source, SUBJECTS[0], ministry=7)
    theirs = publish(source, SUBJECTS[1], ministry=1)
    wait_for(lambda: client.get(f"/v1/messages/{theirs}").json()["status"] == "delivered",
             what="the other ministry's event fanned out")
    wait_for(lambda: len(hook.applied) == 1, what="our ministry's event")
    assert list(hook.applied) == [child_id(ours, sub["id"])]
    data = next(iter(hook.applied.values()))["data"]
    assert data == {"per_cardno": SUBJECTS[0], "org_id": 3307, "level_no": "K2"}
    assert client.get(f"/v1/events/{theirs}").json()["deliveries"] == []


def test_a_filter_naming_unknown_fields_is_422_naming_each(embedded_client, embedded_as_agency, webhooks) -> None:
    subsystem = "TH/GOV/AGBAD/hr"
    agency = subscriber_client(embedded_as_agency, subsystem)
    response = agency.post("/v1/subscriptions", json={
        "subscriber": subsystem, "event_type": HR_CHANGED, "channel": {"type": "webhook", "url": webhooks("x").url},
        "filter": {"match": {"/ministry": "x", "/organization/*/org_id": 1}, "fields": ["per_cardno", "salary"]}})
    assert response.status_code == 422, response.text
    fields = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert fields == {("/filter/match/~1ministry", "known_field"), ("/filter/fields/1", "known_field")}
    assert agency.get("/v1/subscriptions").json() == []  # nothing was created


# ------------------------------------------------------------------ refusals


def test_subscribing_needs_the_right_and_the_clearance(embedded_hub, embedded_client, embedded_as_agency,
                                                       webhooks) -> None:
    url = webhooks("refused").url
    body = {"event_type": HR_CHANGED, "channel": {"type": "webhook", "url": url}}
    no_right = embedded_as_agency("TH/GOV/AGNR/hr", clearance="004")
    response = no_right.post("/v1/subscriptions", json={"subscriber": "TH/GOV/AGNR/hr", **body})
    assert response.status_code == 403 and "access right" in response.json()["message"]
    low = subscriber_client(embedded_as_agency, "TH/GOV/AGLOW/hr", clearance="001")  # the event type is 002
    response = low.post("/v1/subscriptions", json={"subscriber": "TH/GOV/AGLOW/hr", **body})
    assert response.status_code == 403 and "classified 002" in response.json()["message"]
    response = low.post("/v1/subscriptions", json={"subscriber": "TH/GOV/AGNR/hr", **body})
    assert response.status_code == 403 and "act for" in response.json()["message"]
    assert embedded_client.get("/v1/subscriptions").json() == []


def test_the_event_types_owner_sees_who_subscribes(embedded_hub, embedded_client, embedded_as_agency,
                                                   webhooks) -> None:
    subsystem = "TH/GOV/AGSEE/hr"
    sub = subscribe_webhook(subscriber_client(embedded_as_agency, subsystem), subsystem, webhooks("seen"))
    owner = embedded_as_agency("TH/GOV/OCSC/hr")  # OCSC leads hr.person.changed
    listed = owner.get("/v1/subscriptions", params={"event_type": HR_CHANGED}).json()
    assert [(s["id"], s["subscriber"]) for s in listed] == [(sub["id"], subsystem)]
    assert all("secret" not in s for s in listed)
    stranger = embedded_as_agency("TH/GOV/FPO/finance")
    assert stranger.get("/v1/subscriptions").json() == []
    assert stranger.get(f"/v1/subscriptions/{sub['id']}").status_code == 404


@pytest.mark.parametrize(("url", "rule"), [
    ("http://example.org/hook", "https"),
    ("https://10.1.2.3/hook", "forbidden_address"),
    ("https://169.254.169.254/latest/meta-data", "forbidden_address"),
    ("https://[::ffff:192.168.1.1]/hook", "forbidden_address"),
    ("ftp://127.0.0.1/hook", "https"),
])
def test_an_unsafe_webhook_url_is_refused(embedded_client, embedded_as_agency, url: str, rule: str) -> None:
    subsystem = "TH/GOV/AGURL/hr"
    agency = subscriber_client(embedded_as_agency, subsystem)
    response = agency.post("/v1/subscriptions", json={
        "subscriber": subsystem, "event_type": HR_CHANGED, "channel": {"type": "webhook", "url": url}})
    assert response.status_code == 422, response.text
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("/channel/url", rule)]
    assert embedded_client.get("/v1/routes").json() == [r for r in embedded_client.get("/v1/routes").json()
                                                        if r["adapter"] != "webhook"]


def test_loopback_needs_the_hubs_permission() -> None:
    with pytest.raises(UnsafeDestination) as refused:
        check_destination("http://127.0.0.1:9/hook", allow_loopback=False)
    assert refused.value.rule == "https"
    with pytest.raises(UnsafeDestination) as refused:
        check_destination("https://127.0.0.1:9/hook", allow_loopback=False)
    assert refused.value.rule == "forbidden_address"
    assert check_destination("http://127.0.0.1:9/hook", allow_loopback=True) == ["127.0.0.1"]
    fake = lambda host, port, type: [(2, 1, 6, "", ("93.184.216.34", port))]  # noqa: E731
    assert check_destination("https://agency.example/hook", allow_loopback=False, resolve=fake) == ["93.184.216.34"]
    private = lambda host, port, type: [(2, 1, 6, "", ("192.168.0.7", port))]  # noqa: E731
    with pytest.raises(UnsafeDestination):
        check_destination("https://agency.example/hook", allow_loopback=False, resolve=private)


def test_a_malformed_event_is_refused_at_the_edge(embedded_client, embedded_as_agency) -> None:
    source = source_client(embedded_as_agency)
    bad = person(SUBJECTS[0], per_cardno="1-1004-00728-56-4")
    response = source.post("/v1/events", json={"source": SOURCE, "event_type": HR_CHANGED, "data": bad})
    assert response.status_code == 422
    assert ("/payload/per_cardno", "pattern") in {(e["field"], e["rule"]) for e in response.json()["errors"]}
    # The same document through the plain envelope, without declaring the standard: still checked.
    response = source.post("/v1/messages", json={"sender": SOURCE, "receiver": EVENTS, "service": HR_CHANGED,
                                                 "classification": "002", "payload": bad})
    assert response.status_code == 422
    assert ("/payload/per_cardno", "pattern") in {(e["field"], e["rule"]) for e in response.json()["errors"]}
    response = source.post("/v1/events", json={"source": SOURCE, "event_type": "hr.person.born/v1",
                                                "data": {}})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "/event_type"
