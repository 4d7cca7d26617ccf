"""Issue 12, finding 9 (the rest): each smaller probe that got through is refused now."""
from __future__ import annotations

import uuid

import pytest

from tests.support.auth import register_receiver
from tests.support.waiting import wait_for

SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"


@pytest.fixture
def sender(embedded_client, embedded_as_agency):
    def route(**settings):
        register_receiver(embedded_client, RECEIVER)
        body = {"receiver": RECEIVER, "service": SERVICE, "adapter": "memory", "settings": {"mailbox": "small"},
                "max_attempts": 1, **settings}
        assert embedded_client.post("/v1/routes", json=body).status_code == 201
    sender = embedded_as_agency(SENDER, rights=[(SERVICE, RECEIVER)])
    sender.route = route
    return sender


def xml(payload: str) -> dict:
    return {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
            "content_type": "application/xml", "payload": payload}


@pytest.mark.parametrize(("payload", "rule"), [
    ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', "xml_doctype"),
    ('<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>', "xml_doctype"),
    ("<r><unclosed></r>", "xml_well_formed"),
    ("not xml at all", "xml_well_formed"),
])
def test_undeclared_xml_with_a_doctype_or_malformed_is_refused(sender, payload, rule):
    sender.route()
    refused = sender.post("/v1/messages", json=xml(payload))
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == "/payload" and error["rule"] == rule, error
    assert sender.get("/v1/messages").json()["items"] == []


def test_undeclared_plain_xml_is_still_accepted(sender):
    sender.route()
    accepted = sender.post("/v1/messages", json=xml('<?xml version="1.0"?><r a="1">ข้อความ</r>'))
    assert accepted.status_code == 202, accepted.text


def test_a_sender_never_sees_the_receivers_internal_url(embedded_client, sender):
    internal = "http://127.0.0.1:9/internal/inbox"
    sender.route(adapter="http", settings={"url": internal, "timeout_seconds": 1})
    env = xml("<r/>")
    assert sender.post("/v1/messages", json=env).status_code == 202
    wait_for(lambda: embedded_client.get(f"/v1/messages/{env['id']}").json()["status"] == "dead",
             what="the dead letter")
    as_admin = embedded_client.get(f"/v1/messages/{env['id']}").json()
    assert internal in as_admin["last_error"]  # operators keep it
    seen = sender.get(f"/v1/messages/{env['id']}")
    assert seen.status_code == 200
    text = seen.text
    assert "127.0.0.1" not in text and "/internal/inbox" not in text, text
    assert "<receiver endpoint>" in seen.json()["last_error"]
    listed = sender.get("/v1/messages").text
    assert "127.0.0.1" not in listed and "/internal/inbox" not in listed


def test_approving_an_approved_subsystem_again_does_not_rotate_its_secret(embedded_hub, embedded_client,
                                                                           anonymous_client):
    from tests.integration.test_operations_cli import hub_cli

    embedded_client.post("/v1/agencies/TH/GOV/DOPA/subsystems", json={"code": "ecitizen"}).raise_for_status()
    first = embedded_client.post("/v1/agencies/TH/GOV/DOPA/subsystems/ecitizen/approve").json()["credentials"]

    def token(creds: dict) -> int:
        return anonymous_client.post("/v1/auth/token", data={
            "grant_type": "client_credentials", "client_id": first["client_id"],
            "client_secret": creds["client_secret"]}).status_code

    again = embedded_client.post("/v1/agencies/TH/GOV/DOPA/subsystems/ecitizen/approve")
    assert again.status_code == 409 and "already approved" in again.json()["message"], again.text
    output = hub_cli(embedded_hub, "agencies", "approve", "TH/GOV/DOPA/ecitizen", code=2)
    assert "already approved" in output and "--rotate" in output
    assert token(first) == 200  # unchanged
    # rotating is explicit, and the old secret keeps working during the overlap
    rotated = embedded_client.post("/v1/agencies/TH/GOV/DOPA/subsystems/ecitizen/approve", json={"rotate": True})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["credentials"]
    assert second["client_secret"] != first["client_secret"]
    assert token(second) == 200 and token(first) == 200


class Recorder:
    """An HTTP receiver that answers 503 ``fail_first`` times, then 200, and keeps every request's headers;
    with ``status``, answers every request with it and ``body``."""

    def __init__(self, fail_first: int = 0, *, status: int | None = None, body: bytes = b"ok") -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        recorder = self
        self.requests: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        self.fail_left = fail_first

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                recorder.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                recorder.requests.append({k.lower(): v for k, v in self.headers.items()})
                answer = status or (503 if recorder.fail_left > 0 else 200)
                recorder.fail_left -= 1
                self.send_response(answer)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # noqa: ANN002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/inbox"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_replay_is_a_new_delivery_and_a_retry_is_not(embedded_client, sender):
    from hub.schemas.envelope import message_key

    receiver = Recorder(fail_first=1)
    try:
        sender.route(adapter="http", settings={"url": receiver.url, "timeout_seconds": 5}, max_attempts=3,
                     backoff_base_seconds=0.05, backoff_max_seconds=0.1)
        env = xml("<r/>")
        assert sender.post("/v1/messages", json=env).status_code == 202
        status = lambda: embedded_client.get(f"/v1/messages/{env['id']}").json()["status"]  # noqa: E731
        wait_for(lambda: status() == "delivered", what="delivery after one retry")
        failed, first = receiver.requests
        key = message_key(SENDER, env["id"])
        # a retry repeats the delivery id: the receiver applies it once
        assert failed["idempotency-key"] == first["idempotency-key"] == first["hub-delivery-id"] == key
        assert first["hub-message-key"] == key and first["x-hub-message-id"] == env["id"]
        assert first["x-hub-sender"] == SENDER
        # a deliberate replay is a new delivery of the same message
        assert embedded_client.post(f"/v1/messages/{env['id']}/replay").status_code == 202
        wait_for(lambda: len(receiver.requests) == 3 and status() == "delivered", what="the replay")
        replayed = receiver.requests[-1]
        assert replayed["hub-delivery-id"] == replayed["idempotency-key"] != key
        assert replayed["hub-message-key"] == key and replayed["x-hub-message-id"] == env["id"]
    finally:
        receiver.close()


def test_an_agency_is_not_given_a_replay_link_it_may_not_use(embedded_as_agency):
    from tests.integration.test_events_subscriptions import EVENTS, HR_CHANGED, SOURCE, person

    source = embedded_as_agency(SOURCE, clearance="002", rights=[(HR_CHANGED, EVENTS)])
    published = source.post("/v1/events", json={"source": SOURCE, "event_type": HR_CHANGED,
                                                 "data": person("1101700203450")})
    assert published.status_code == 202, published.text
    assert published.json()["links"].get("replay") is None
    assert source.post(f"/v1/messages/{published.json()['id']}/replay").status_code in (403, 404)


def test_a_grant_toward_a_provider_never_registered_is_refused(embedded_hub, embedded_client, embedded_as_agency):
    from tests.integration.test_operations_cli import hub_cli

    embedded_as_agency(SENDER)
    refused = embedded_client.post("/v1/access-rights", json={"client": SENDER, "service": SERVICE,
                                                              "provider": "TH/GOV/9999/typo"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "/provider"
    assert "TH/GOV/9999/typo" in hub_cli(embedded_hub, "access", "grant", SENDER, SERVICE, "TH/GOV/9999/typo", code=2)
    # a registered subsystem, a registered member and * are fine
    embedded_as_agency(RECEIVER)
    for provider in (RECEIVER, "TH/GOV/1501", "*"):
        granted = embedded_client.post("/v1/access-rights", json={"client": SENDER, "service": f"s{len(provider)}.x/v1",
                                                                  "provider": provider})
        assert granted.status_code == 201, granted.text


def test_a_route_to_a_receiver_never_registered_is_refused(embedded_hub, embedded_client):
    from tests.integration.test_operations_cli import hub_cli

    body = {"receiver": "TH/GOV/9999/typo", "service": SERVICE, "adapter": "memory", "settings": {"mailbox": "typo"}}
    refused = embedded_client.post("/v1/routes", json=body)
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("/receiver", "exists") and "registered" in error["message"]
    assert "TH/GOV/9999/typo" in hub_cli(embedded_hub, "routes", "add", "TH/GOV/9999/typo", SERVICE, "memory",
                                           "--settings", '{"mailbox": "typo"}', code=2)
    assert embedded_client.get("/v1/routes").json() == []
    # a registered subsystem or a registered member is routed
    register_receiver(embedded_client, RECEIVER)
    for receiver in (RECEIVER, "TH/GOV/1501"):
        added = embedded_client.post("/v1/routes", json={**body, "receiver": receiver})
        assert added.status_code == 201, added.text
    assert "added" in hub_cli(embedded_hub, "routes", "add", RECEIVER, "other.service/v1", "memory",
                              "--settings", '{"mailbox": "typo"}')
    assert sorted(r["receiver"] for r in embedded_client.get("/v1/routes").json()) == ["TH/GOV/1501", RECEIVER, RECEIVER]
    # the hub's own parties are never members' subsystems, yet an admin routes to them
    shared = embedded_hub.settings.security.shared_data_party
    added = embedded_client.post("/v1/routes", json={"receiver": shared, "service": "hr.person.changed/v1",
                                                     "adapter": "person-registry", "settings": {}})
    assert added.status_code == 201, added.text
