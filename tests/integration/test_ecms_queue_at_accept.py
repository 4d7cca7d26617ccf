"""A letter for a department that polls this node is in its queue as soon as the send is
answered, and recorded delivered in the same transaction: the transport has nothing more to
do for it. A delivery by the transport all the same (a replay, or a hold that ran out) finds
it there and applies nothing twice."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import update

from hub.adapters.ecms.codec.letter import Binary, Letter, Party, inline_base64
from hub.api.app import create_app
from hub.bootstrap import Hub, build_hub
from hub.clock import utcnow
from hub.schemas.routes import RouteIn
from hub.transport.delivery import Deliverer
from hub.transport.tables import messages
from tests.support.ecms import register_departments

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
XML = {"Content-Type": "text/xml; charset=utf-8"}


@pytest.fixture
def quiet_hub(settings) -> Iterator[tuple[Hub, TestClient]]:  # noqa: ANN001
    """The node's API with no relay or delivery worker: only what the send itself does happens."""
    hub = build_hub(settings)
    register_departments(hub)
    try:
        with TestClient(create_app(hub, embedded_worker=False)) as client:
            yield hub, client
    finally:
        hub.close()


def soap(body: str, code: str) -> bytes:
    token = (f'<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
             f"<wsse:UsernameToken><wsse:Username>{code}</wsse:Username>"
             f"<wsse:Password>secret-{code}</wsse:Password></wsse:UsernameToken></wsse:Security>")
    return (f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Header>{token}</soap:Header>'
            f"<soap:Body>{body}</soap:Body></soap:Envelope>").encode()


def send(hub: Hub, client: TestClient, letter_id: str) -> str:
    ref = hub.ecms.blobs.put(b"%PDF-1.4 " + letter_id.encode())
    item = Letter(letter_id, "2024-10-01", "ทดสอบ", "001", "001", Party("0400", "0401"), Party("0400", "0402"),
                  Binary("MainLetterBinaryObject", "application/pdf", ref.sha256, ref.size))
    body = ("<CorrespondenceLetterOutboundRequest>"
            + etree.tostring(inline_base64(item, hub.ecms.blobs)).decode()
            + "</CorrespondenceLetterOutboundRequest>")
    answer = client.post("/ecms/service2", content=soap(body, "0401"), headers=XML)
    assert answer.status_code == 200 and b"<ProcessID>" in answer.content, answer.text
    return etree.fromstring(answer.content).findtext(".//ProcessID")


def poll(client: TestClient) -> etree._Element:
    answer = client.post("/ecms/service2", content=soap("<CorrespondenceLetterInboundRequest/>", "0402"),
                         headers=XML)
    assert answer.status_code == 200, answer.text
    return etree.fromstring(answer.content).find(".//CorrespondenceLetterInboundResponse")


def deliver_once(hub, key: str) -> list[dict]:  # noqa: ANN001
    """Hand the message out and deliver it as the transport would; its ``delivered`` events
    (every one in its history)."""
    assert hub.relay.run_once() == 1
    deliverer = Deliverer(hub.engine, hub.router, hub.adapter_pool, attempt_timeout=5)
    try:
        assert deliverer.deliver(key) == "delivered"
    finally:
        deliverer.close()
    return [e for e in hub.messages.history(key) if e["kind"] == "delivered"]

def test_letter_is_pollable_and_delivered_at_accept(quiet_hub):
    hub, client = quiet_hub
    message_id = send(hub, client, "กค 0401/77")
    meta = hub.messages.get_meta(message_id, sender="TH/GOV/0401/saraban")
    # No relay, no worker ran: the send itself placed the letter and recorded the delivery.
    assert (meta.status, meta.attempts) == ("delivered", 1)
    history = hub.messages.history(meta.key)
    assert [e["kind"] for e in history] == ["accepted", "delivered"]
    delivered = history[1]["detail"]
    assert delivered["applied_at_accept"] is True and delivered["department"] == "0402"

    first = poll(client)
    process_id = first.findtext("ProcessID")
    assert process_id and first.find(".//{*}GovernmentDocument") is not None
    assert delivered["ecms_process_id"] == delivered["receipt"] == process_id == meta.receipt
    # The transport has nothing to hand out for it.
    assert hub.relay.run_once() == 0
    assert hub.ecms.store.queue_depths() == {"0402": 1}


def test_a_replayed_letter_is_delivered_again_into_the_same_item(quiet_hub):
    """The transport's own delivery of a letter placed at accept applies nothing twice."""
    hub, client = quiet_hub
    message_id = send(hub, client, "กค 0401/76")
    process_id = poll(client).findtext("ProcessID")
    meta = hub.messages.replay(message_id)
    delivered = deliver_once(hub, meta.key)
    assert [e["detail"]["ecms_process_id"] for e in delivered] == [process_id, process_id]
    assert "in_queue_since" in delivered[1]["detail"]
    assert hub.ecms.store.queue_item_for(message_id).process_id == process_id
    assert hub.ecms.store.queue_depths() == {"0402": 1}


def test_a_letter_whose_placement_failed_is_delivered_by_the_transport(quiet_hub, monkeypatch):
    """Accepted, but the node's transaction (letter row, queue item, delivered) never committed:
    the message is held, not lost — the transport delivers it once the hold runs out."""
    hub, client = quiet_hub

    def failing(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("database went away")

    monkeypatch.setattr(hub.ecms.store, "record_letter", failing)
    with pytest.raises(RuntimeError):
        send(hub, client, "กค 0401/75")
    monkeypatch.undo()
    [meta] = [m for m in hub.messages.list(sender="TH/GOV/0401/saraban")[0]]
    assert meta.status == "accepted"
    assert hub.relay.run_once() == 0  # held: not due yet
    assert poll(client).findtext("ProcessID") is None

    with hub.engine.begin() as conn:  # the hold runs out
        conn.execute(update(messages).where(messages.c.id == meta.key).values(next_action_at=utcnow()))
    delivered = deliver_once(hub, meta.key)
    assert len(delivered) == 1 and "applied_at_accept" not in delivered[0]["detail"]
    assert poll(client).find(".//{*}GovernmentDocument") is not None
    assert sum(hub.ecms.store.queue_depths().values()) == 1


def fail_first_placement(hub, monkeypatch) -> None:  # noqa: ANN001
    """The node's first attempt to record a letter fails (its transaction rolls back); later ones work."""
    original = hub.ecms.store.record_letter
    calls = []

    def fail_once(*args, **kwargs):  # noqa: ANN002, ANN003
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(hub.ecms.store, "record_letter", fail_once)


def test_a_retried_send_after_a_failed_placement_places_it_once(quiet_hub, monkeypatch):
    """The client retries the send the node could not answer: the same message, now placed
    and recorded delivered; the transport never delivers it a second time."""
    hub, client = quiet_hub
    fail_first_placement(hub, monkeypatch)
    with pytest.raises(RuntimeError):
        send(hub, client, "กค 0401/74")
    message_id = send(hub, client, "กค 0401/74")
    meta = hub.messages.get_meta(message_id, sender="TH/GOV/0401/saraban")
    assert meta.status == "delivered"
    assert [e["kind"] for e in hub.messages.history(meta.key)] == ["accepted", "delivered"]
    assert hub.relay.run_once() == 0  # finished: the hold running out changes nothing
    assert hub.ecms.store.queue_depths() == {"0402": 1}


def test_a_retried_send_after_the_transport_placed_the_letter_places_nothing_more(quiet_hub, monkeypatch):
    """The placement failed, the hold ran out and the transport placed the letter (under its hub
    key: the node had no row of it); the client's late retry records the letter and places no
    second item."""
    hub, client = quiet_hub
    fail_first_placement(hub, monkeypatch)
    with pytest.raises(RuntimeError):
        send(hub, client, "กค 0401/71")
    [meta] = hub.messages.list(sender="TH/GOV/0401/saraban")[0]
    with hub.engine.begin() as conn:  # the hold runs out
        conn.execute(update(messages).where(messages.c.id == meta.key).values(next_action_at=utcnow()))
    assert len(deliver_once(hub, meta.key)) == 1
    assert send(hub, client, "กค 0401/71") == str(meta.id)
    assert sum(hub.ecms.store.queue_depths().values()) == 1
    assert hub.messages.get_meta(meta.key).status == "delivered"
    assert hub.relay.run_once() == 0


def push_route(hub: Hub) -> None:
    route = hub.router.find("TH/GOV/0402/saraban", "ecms.letter/v1")
    hub.router.update(route.id, RouteIn(receiver=route.receiver, service=route.service, adapter="ecms", settings={
        "url": "http://127.0.0.1:9/ecms/service2", "department": "0402", "auth": "none", "poll": False}))


def test_a_receiver_whose_route_pushes_is_left_to_the_transport(quiet_hub):
    """Routed elsewhere (pushed to another node), a letter is neither queued nor held here."""
    hub, client = quiet_hub
    push_route(hub)
    message_id = send(hub, client, "กค 0401/73")
    meta = hub.messages.get_meta(message_id, sender="TH/GOV/0401/saraban")
    assert meta.status == "accepted"
    assert hub.ecms.store.queue_item_for(message_id) is None
    assert hub.relay.run_once() == 1  # due at once: the transport pushes it


def test_a_route_changed_to_push_after_the_letter_was_placed_sends_it_nowhere_else(quiet_hub):
    """Placed and delivered at accept: a later route change does not deliver it a second time."""
    hub, client = quiet_hub
    message_id = send(hub, client, "กค 0401/72")
    push_route(hub)
    assert hub.relay.run_once() == 0
    assert hub.messages.get_meta(message_id, sender="TH/GOV/0401/saraban").status == "delivered"
    assert poll(client).find(".//{*}GovernmentDocument") is not None


def test_a_resend_after_withdrawal_waits_for_the_transport(quiet_hub):
    """A later generation of a letter keeps its place behind its conversation: not queued at accept."""
    hub, client = quiet_hub
    first = send(hub, client, "กค 0401/78")
    withdraw = ("<CorrespondenceDeleteGovernmentDocumentRequest><LetterID>กค 0401/78</LetterID>"
                "<CorrespondenceDate>2024-10-01</CorrespondenceDate><SenderDepartment><Code>0401</Code>"
                "</SenderDepartment><AcceptDepartment><Code>0402</Code></AcceptDepartment>"
                "</CorrespondenceDeleteGovernmentDocumentRequest>")
    answer = client.post("/ecms/service2", content=soap(withdraw, "0401"), headers=XML)
    assert b"withdrawn" in answer.content, answer.text
    second = send(hub, client, "กค 0401/78")
    assert second != first
    assert hub.ecms.store.queue_item_for(second) is None
    assert poll(client).findtext("ProcessID") is None


def test_the_delivery_of_a_letter_placed_at_accept_does_not_parse_it(quiet_hub, monkeypatch):
    """The queue row says what the letter is and whose: its 1.4 MiB of XML is not read again."""
    hub, client = quiet_hub
    message_id = send(hub, client, "กค 0401/79")
    process_id = poll(client).findtext("ProcessID")
    meta = hub.messages.replay(message_id)
    parsed: list[bytes] = []
    monkeypatch.setattr("hub.adapters.ecms.client.queue.parse_payload", parsed.append)
    delivered = deliver_once(hub, meta.key)
    assert parsed == []
    assert [e["detail"]["ecms_process_id"] for e in delivered] == [process_id, process_id]
    assert "in_queue_since" in delivered[1]["detail"]


def test_a_polled_letter_is_answered_whole_with_a_content_length(quiet_hub):
    """A 1 MiB letter fits in an answer built whole: one write, no chunked encoding."""
    hub, client = quiet_hub
    send(hub, client, "กค 0401/80")
    answer = client.post("/ecms/service2", content=soap("<CorrespondenceLetterInboundRequest/>", "0402"),
                         headers=XML)
    assert answer.status_code == 200 and b"GovernmentDocument" in answer.content
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert "transfer-encoding" not in answer.headers
