"""The spine's behaviour through its HTTP API, on both backends where delivery is involved."""
import uuid

import pytest

from hub.adapters.memory import mailbox
from hub.demo.receiver import AgencyInbox
from hub.schemas.envelope import message_key
from tests.support.auth import register_receiver
from tests.support.waiting import wait_for

SENDER, RECEIVER, SERVICE = "TH/GOV/0401/saraban", "TH/GOV/1501/hr", "telework.order/v1"


def envelope(**overrides):
    return {"id": str(uuid.uuid4()), "sender": SENDER, "receiver": RECEIVER, "service": SERVICE,
            "payload": {"order": "กค 0401/123", "days": 2}, **overrides}


def add_route(client, **overrides):
    body = {"receiver": RECEIVER, "service": SERVICE, "adapter": "memory", "settings": {"mailbox": "hr"},
            "max_attempts": 5, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2, **overrides}
    register_receiver(client, body["receiver"])
    response = client.post("/v1/routes", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def status_of(client, message_id):
    return client.get(f"/v1/messages/{message_id}").json()["status"]


def count_messages(client):
    return len(client.get("/v1/messages", params={"limit": 1000}).json()["items"])


def test_accept_deliver_and_full_history(client):
    add_route(client)
    env = envelope()
    response = client.post("/v1/messages", json=env)
    assert response.status_code == 202
    assert response.json() == {"id": env["id"], "status": "accepted",
                               "links": {"self": f"/v1/messages/{env['id']}",
                                         "replay": f"/v1/messages/{env['id']}/replay"}}
    wait_for(lambda: status_of(client, env["id"]) == "delivered", what="delivery")
    message = client.get(f"/v1/messages/{env['id']}").json()
    assert [h["kind"] for h in message["history"]] == ["accepted", "queued", "delivered"]
    assert message["history"][-1]["attempt"] == 1
    assert message["receipt"] == f"applied {env['id']}"
    assert message["payload_size"] == len(b'{"days":2,"order":"\xe0\xb8\x81\xe0\xb8\x84 0401/123"}')
    assert client.get(f"/v1/messages/{env['id']}/payload").json() == env["payload"]
    assert env["id"] in mailbox("hr").applied


def test_repost_same_id_returns_first_result_and_creates_nothing(client):
    add_route(client)
    env = envelope()
    first = client.post("/v1/messages", json=env)
    again = client.post("/v1/messages", json=env)
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_messages(client) == 1
    wait_for(lambda: status_of(client, env["id"]) == "delivered", what="delivery")
    assert len(mailbox("hr").applied) == 1


def test_same_id_with_different_payload_is_409(client):
    add_route(client)
    env = envelope()
    client.post("/v1/messages", json=env)
    response = client.post("/v1/messages", json={**env, "payload": {"order": "changed"}})
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert client.get(f"/v1/messages/{env['id']}/payload").json() == env["payload"]


def test_retry_then_succeed(client):
    add_route(client, settings={"mailbox": "flaky", "fail_times": 2})
    env = envelope()
    client.post("/v1/messages", json=env)
    wait_for(lambda: status_of(client, env["id"]) == "delivered", what="delivery after retries")
    message = client.get(f"/v1/messages/{env['id']}").json()
    kinds = [h["kind"] for h in message["history"]]
    assert kinds.count("attempt_failed") == 2 and kinds[-1] == "delivered"
    assert message["attempts"] == 3
    failed = [h for h in message["history"] if h["kind"] == "attempt_failed"]
    assert all("failing on purpose" in h["detail"]["error"] and "retry_at" in h["detail"] for h in failed)


def test_dead_letter_after_max_attempts_then_replay(client):
    add_route(client, settings={"mailbox": "down", "fail_times": 3}, max_attempts=3)
    env = envelope()
    client.post("/v1/messages", json=env)
    wait_for(lambda: status_of(client, env["id"]) == "dead", what="dead letter")
    message = client.get(f"/v1/messages/{env['id']}").json()
    assert message["attempts"] == 3
    assert message["history"][-1]["kind"] == "dead_lettered"
    assert "gave up after 3 attempts" in message["history"][-1]["detail"]["reason"]
    assert env["id"] not in mailbox("down").applied
    assert [m["id"] for m in client.get("/v1/messages", params={"status": "dead"}).json()["items"]] == [env["id"]]

    # The receiver is fixed (no failures left); replay delivers, keeping the history.
    replay = client.post(f"/v1/messages/{env['id']}/replay")
    assert replay.status_code == 202
    wait_for(lambda: status_of(client, env["id"]) == "delivered", what="delivery after replay")
    kinds = [h["kind"] for h in client.get(f"/v1/messages/{env['id']}").json()["history"]]
    assert kinds.index("dead_lettered") < kinds.index("replayed") < kinds.index("delivered")
    assert env["id"] in mailbox("down").applied


def test_http_adapter_sends_idempotency_key_and_permanent_errors_dead_letter(client):
    with AgencyInbox("hr") as inbox:
        add_route(client, adapter="http", settings={"url": inbox.url})
        env = envelope()
        client.post("/v1/messages", json=env)
        wait_for(lambda: status_of(client, env["id"]) == "delivered", what="http delivery")
        # Idempotency-Key is the hub key: ids are unique per sender only (issue 12, finding 7)
        assert inbox.applied[message_key(SENDER, env["id"])]["document"]["payload"] == env["payload"]
        assert client.get(f"/v1/messages/{env['id']}").json()["receipt"] == '{"receipt": "hr-000001"}'

    with AgencyInbox("strict") as strict:
        strict.handle = lambda key, body: (400, {"error": "unknown form"})
        register_receiver(client, "TH/GOV/2000/x")
        client.post("/v1/routes", json={"receiver": "TH/GOV/2000/x", "service": "*", "adapter": "http",
                                        "settings": {"url": strict.url}})
        bad = envelope(receiver="TH/GOV/2000/x")
        client.post("/v1/messages", json=bad)
        wait_for(lambda: status_of(client, bad["id"]) == "dead", what="permanent failure")
        last = client.get(f"/v1/messages/{bad['id']}").json()
        assert last["attempts"] == 1 and "HTTP 400" in last["last_error"]


def test_list_filters_and_cursor_paging(client):
    add_route(client)
    add_route(client, receiver="TH/GOV/1600/fin", settings={"mailbox": "fin"})
    ids = [client.post("/v1/messages", json=envelope()).json()["id"] for _ in range(5)]
    other = client.post("/v1/messages", json=envelope(receiver="TH/GOV/1600/fin")).json()["id"]
    seen, cursor = [], None
    while True:
        page = client.get("/v1/messages", params={"receiver": RECEIVER, "limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids and other not in seen
    assert [m["id"] for m in client.get("/v1/messages", params={"receiver": "TH/GOV/1600/fin"}).json()["items"]] == [other]
    assert client.get("/v1/messages", params={"status": "nonsense"}).status_code == 422
    assert client.get("/v1/messages", params={"cursor": "garbage"}).json()["errors"][0]["field"] == "/query/cursor"


def test_delivery_guard_dead_letters_when_receiver_clearance_was_lowered(hub):
    """Deterministic: no worker runs; the test relays and delivers by hand after lowering the clearance."""
    from hub.schemas.envelope import Envelope
    from hub.schemas.routes import RouteIn
    from hub.security.wiring import security_of
    from hub.transport.delivery import Deliverer
    from tests.support.auth import register_agency

    security = security_of(hub)
    register_agency(hub, RECEIVER, clearance="003")
    hub.router.add(RouteIn(receiver=RECEIVER, service=SERVICE, adapter="memory", settings={"mailbox": "cleared"}))
    accepted = hub.messages.accept(Envelope.model_validate(envelope(classification="003")))
    security.registry.set_clearance(RECEIVER, "001", actor="tests")
    assert hub.relay.run_once() == 1
    deliverer = Deliverer(hub.engine, hub.router, hub.adapter_pool, attempt_timeout=5,
                          guards=[security.access.delivery_guard])
    assert deliverer.deliver(accepted.key) == "dead"
    meta = hub.messages.get_meta(accepted.id)
    assert meta.status == "dead" and "cleared up to 001" in meta.last_error
    assert accepted.id not in mailbox("cleared").applied
    refusals = security.audit.entries(kind="access.deliver", target=accepted.id)
    assert refusals and refusals[-1]["decision"] == "refused"
    deliverer.close()


def test_submit_grant_is_audited_with_the_message_and_without_its_payload(client, hub):
    import json

    from hub.security.wiring import security_of

    add_route(client)
    env = envelope(payload={"secret_note": "ลับเฉพาะ-12345"})
    accepted = client.post("/v1/messages", json=env)
    assert accepted.status_code == 202
    meta = client.get(f"/v1/messages/{env['id']}").json()
    entries = [e for e in security_of(hub).audit.entries(kind="access.submit")
               if json.loads(e["detail"]).get("message_id") == env["id"]]
    assert len(entries) == 1 and entries[0]["decision"] == "granted"
    assert json.loads(entries[0]["detail"])["payload_sha256"] == meta["payload_sha256"]
    assert "ลับเฉพาะ-12345" not in entries[0]["detail"]
    assert security_of(hub).audit.verify().ok


def test_messages_of_one_conversation_are_delivered_in_order(client):
    """The first message fails once and is retried; the second, same conversation, waits for it."""
    add_route(client, settings={"mailbox": "ordered", "fail_times": 1})
    first = envelope(correlation_id="กค 0401/77", payload={"step": "acknowledge"})
    second = envelope(correlation_id="กค 0401/77", payload={"step": "accept"})
    assert client.post("/v1/messages", json=first).status_code == 202
    assert client.post("/v1/messages", json=second).status_code == 202
    wait_for(lambda: status_of(client, second["id"]) == "delivered", what="the second message delivered")
    assert list(mailbox("ordered").applied) == [first["id"], second["id"]]
    assert client.get(f"/v1/messages/{first['id']}").json()["attempts"] == 2
    # Messages without a conversation are not held back by one another.
    add_route(client, receiver="TH/GOV/1600/fin", settings={"mailbox": "unordered", "fail_times": 1})
    a, b = envelope(receiver="TH/GOV/1600/fin"), envelope(receiver="TH/GOV/1600/fin")
    client.post("/v1/messages", json=a)
    client.post("/v1/messages", json=b)
    wait_for(lambda: {status_of(client, a["id"]), status_of(client, b["id"])} == {"delivered"}, what="both delivered")
