"""A letter for a department that polls this node is in its queue as soon as the send is
answered; the transport's delivery that follows finds it there and applies nothing twice."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from hub.adapters.ecms.codec.letter import Binary, Letter, Party, inline_base64
from hub.api.app import create_app
from hub.bootstrap import Hub, build_hub
from hub.transport.delivery import Deliverer
from tests.conftest import fast_settings
from tests.support.ecms import register_departments

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
XML = {"Content-Type": "text/xml; charset=utf-8"}


@pytest.fixture
def quiet_hub(tmp_path) -> Iterator[tuple[Hub, TestClient]]:
    """The node's API with no relay or delivery worker: only what the send itself does happens."""
    hub = build_hub(fast_settings(tmp_path / "data"))
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
    """Hand the message out and deliver it as the transport would; its ``delivered`` events."""
    assert hub.relay.run_once() == 1
    deliverer = Deliverer(hub.engine, hub.router, hub.adapter_pool, attempt_timeout=5)
    try:
        assert deliverer.deliver(key) == "delivered"
    finally:
        deliverer.close()
    return [e for e in hub.messages.history(key) if e["kind"] == "delivered"]

def test_letter_is_pollable_at_accept_and_delivered_once(quiet_hub):
    hub, client = quiet_hub
    message_id = send(hub, client, "กค 0401/77")
    meta = hub.messages.get_meta(message_id, sender="TH/GOV/0401/saraban")
    assert meta.status == "accepted"  # no relay, no worker: the transport has not moved it

    first = poll(client)
    process_id = first.findtext("ProcessID")
    assert process_id and first.find(".//{*}GovernmentDocument") is not None

    # The transport's delivery still runs and finds the item in the queue: same ProcessID,
    # one queue row, and its record says since when the item was there.
    delivered = deliver_once(hub, meta.key)
    assert len(delivered) == 1
    assert delivered[0]["detail"]["ecms_process_id"] == process_id
    assert "in_queue_since" in delivered[0]["detail"]
    assert hub.ecms.store.queue_item_for(message_id).process_id == process_id
    assert hub.ecms.store.queue_depths() == {"0402": 1}


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
    meta = hub.messages.get_meta(message_id, sender="TH/GOV/0401/saraban")
    parsed: list[bytes] = []
    monkeypatch.setattr("hub.adapters.ecms.client.queue.parse_payload", parsed.append)
    delivered = deliver_once(hub, meta.key)
    assert parsed == []
    assert [e["detail"]["ecms_process_id"] for e in delivered] == [process_id]
    assert "in_queue_since" in delivered[0]["detail"]


def test_a_polled_letter_is_answered_whole_with_a_content_length(quiet_hub):
    """A 1 MiB letter fits in an answer built whole: one write, no chunked encoding."""
    hub, client = quiet_hub
    send(hub, client, "กค 0401/80")
    answer = client.post("/ecms/service2", content=soap("<CorrespondenceLetterInboundRequest/>", "0402"),
                         headers=XML)
    assert answer.status_code == 200 and b"GovernmentDocument" in answer.content
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert "transfer-encoding" not in answer.headers
