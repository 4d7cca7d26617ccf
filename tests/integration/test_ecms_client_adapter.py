"""The ``ecms`` adapter against a real remote node (a second hub served on loopback):
the conformance suite, and how the remote's ErrorDetail codes become retry decisions."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from hub.adapters.base import ECMS_NODE, Adapter, OutboundMessage
from hub.adapters.ecms.client.soapclient import EcmsSoapClient
from hub.adapters.registry import AdapterRegistry
from hub.bootstrap import Hub, build_hub
from hub.adapters.ecms.codec.letter import Binary, Letter, Notifier, Party, inline_base64, to_payload
from hub.adapters.ecms.node.node import SERVICE
from hub.adapters.ecms.node.store import conversation_id
from hub.errors import DeliveryError
from hub.schemas.envelope import StoredMessage, sha256_hex
from tests.conftest import fast_settings
from tests.support.conformance import AdapterConformance
from tests.support.ecms import serving
from tests.support.federation import peer_settings, setup_h1, setup_h2
from tests.support.inbound import RecordingSink, SinkFailure
from tests.support.waiting import wait_for

DATE = "2024-10-01"


class Remote:
    """H2 served on loopback, and H1 (not serving) whose node the adapter binds to."""

    def __init__(self, base: Path) -> None:
        self._stack = ExitStack()
        self.h2: Hub = build_hub(fast_settings(base / "h2"))
        self._stack.callback(self.h2.close)
        setup_h2(self.h2)
        self.url: str = self._stack.enter_context(serving(self.h2))
        self.h1: Hub = build_hub(fast_settings(base / "h1"))
        self._stack.callback(self.h1.close)
        setup_h1(self.h1, self.url)

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    node = Remote(tmp_path_factory.mktemp("federation"))
    yield node
    node.close()


def letter_message(hub: Hub, letter_id: str, *, receiver: str = "0402", secret: str = "001",
                   sender: str = "0401") -> OutboundMessage:
    """An e-CMS letter as H1's delivery worker hands it to the adapter (blob references)."""
    ref = hub.ecms.blobs.put(b"%PDF-1.4 " + letter_id.encode())
    item = Letter(letter_id, DATE, "ทดสอบการส่งต่อ", secret, "001", Party("0400", sender), Party("0400", receiver),
                  Binary("MainLetterBinaryObject", "application/pdf", ref.sha256, ref.size))
    return xml_message(to_payload(item), receiver=f"TH/GOV/{receiver}/saraban")


def xml_message(payload: bytes, *, receiver: str = "TH/GOV/0402/saraban") -> OutboundMessage:
    meta = StoredMessage(
        id=uuid.uuid4(), sender="TH/GOV/0401/saraban", receiver=receiver, service=SERVICE, classification="001",
        speed="001", content_type="application/xml", received_at=dt.datetime.now(dt.UTC),
        payload_sha256=sha256_hex(payload), payload_size=len(payload), status="delivering", attempts=1,
    )
    return OutboundMessage(meta, payload)


def bound_adapter(remote: Remote, **overrides: Any) -> Adapter:
    """The adapter as H1's delivery pool builds it: bound to H1's e-CMS node."""
    registry = AdapterRegistry()
    registry.provide(ECMS_NODE, remote.h1.ecms)
    return registry.build("ecms", peer_settings(remote.url, **overrides))


def letter_for_0401(remote: Remote) -> None:
    """B (0402) posts a letter to 0401 on H2; returns once it waits in 0401's queue there."""
    b = EcmsSoapClient(remote.url, "0402", "secret-0402")
    ref = remote.h2.ecms.blobs.put(b"%PDF-1.4 inbound")
    letter = Letter(f"กค 0402/{uuid.uuid4().hex[:8]}", DATE, "ถึง 0401", "001", "001", Party("0400", "0402"),
                    Party("0400", "0401"), Binary("MainLetterBinaryObject", "application/pdf", ref.sha256, ref.size))
    sent = b.send(inline_base64(letter, remote.h2.ecms.blobs))
    b.close()
    wait_for(lambda: remote.h2.ecms.store.queue_item_for(sent.ProcessID), timeout=20,
             what="letter queued for 0401 on H2")


class TestEcmsConformance(AdapterConformance):
    adapter_name = "ecms"

    @pytest.fixture(autouse=True)
    def _remote(self, remote: Remote) -> None:
        self.remote = remote

    def resources(self) -> dict[str, Any]:
        return {ECMS_NODE: self.remote.h1.ecms}  # bound to H1's e-CMS node, as H1's pool builds it

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return peer_settings(self.remote.url)

    def broken_settings(self, tmp_path: Path) -> dict[str, Any]:
        return peer_settings("http://127.0.0.1:9/ecms/service2", timeout_seconds=2)

    def invalid_settings(self) -> list[dict[str, Any]]:
        return [
            {},
            {"url": "not a url", "department": "0401", "auth": "none"},
            {"url": "http://127.0.0.1/ecms/service2", "department": "0401"},  # no username
            {"url": "http://127.0.0.1/ecms/service2", "department": "0401", "username": "0401"},  # no password
            {"url": "http://127.0.0.1/ecms/service2", "department": "0401", "auth": "none", "client_key": "k.pem"},
            {"url": "http://127.0.0.1/ecms/service2", "department": "0401", "auth": "none", "unknown": 1},
        ]

    def message(self, tmp_path: Path) -> OutboundMessage:
        return letter_message(self.remote.h1, f"กค 0401/{uuid.uuid4().hex[:8]}")

    def applied(self, adapter: Adapter, message: OutboundMessage) -> int:
        from hub.adapters.ecms.codec.letter import parse_payload

        letter = parse_payload(message.payload)
        conversation = conversation_id("0401", letter.id, letter.correspondence_date)
        items, _ = self.remote.h2.messages.list(sender="TH/GOV/0401/saraban", service=SERVICE, limit=1000)
        return sum(1 for m in items if m.correlation_id == conversation)

    def put_inbound(self, adapter: Adapter, tmp_path: Path, sink: RecordingSink) -> None:
        letter_for_0401(self.remote)

def test_poll_deletes_the_remote_item_only_once_it_is_accepted(remote: Remote) -> None:
    letter_for_0401(remote)
    with bound_adapter(remote) as adapter:
        sink = RecordingSink()
        with pytest.raises(SinkFailure):
            adapter.poll(sink.failing())
        assert not sink.envelopes
        # the head of the queue stayed, since it was not accepted: the same item again
        report = adapter.poll(sink)
        envelope = sink.envelopes[report.accepted[0]]
        assert envelope.sender == "TH/GOV/0402/saraban" and envelope.receiver == "TH/GOV/0401/saraban"
        assert report.error is None and list(sink.envelopes) == report.accepted
        # accepted, then deleted there: the queue (with whatever earlier tests left) is drained
        assert adapter.poll(sink).accepted == []
    assert EcmsSoapClient(remote.url, "0401", "secret-0401").poll() is None


@pytest.mark.parametrize(("case", "code"), [
    ("unknown department", "E007"),
    ("not cleared", "E013"),
    ("spoofed sender", "E008"),
    ("notifier for an unknown letter", "E011"),
])
def test_refusals_of_the_item_are_permanent(remote: Remote, case: str, code: str) -> None:
    letter_id = f"กค 0401/{uuid.uuid4().hex[:8]}"
    message = {
        "unknown department": lambda: letter_message(remote.h1, letter_id, receiver="0499"),
        "not cleared": lambda: letter_message(remote.h1, letter_id, secret="004"),  # 0402 is cleared to 002
        "spoofed sender": lambda: letter_message(remote.h1, letter_id, sender="0402"),
        "notifier for an unknown letter": lambda: xml_message(
            to_payload(Notifier("ReceiveLetterNotifier", letter_id, DATE))),
    }[case]()
    with bound_adapter(remote) as adapter, pytest.raises(DeliveryError) as refused:
        adapter.send(message)
    assert refused.value.permanent and code in refused.value.reason


def test_transport_failures_and_bad_credentials_are_transient(remote: Remote) -> None:
    message = letter_message(remote.h1, f"กค 0401/{uuid.uuid4().hex[:8]}")
    with bound_adapter(remote, url="http://127.0.0.1:9/ecms/service2", timeout_seconds=2) as down, \
            pytest.raises(DeliveryError) as unreachable:
        down.send(message)
    assert not unreachable.value.permanent and "unreachable" in unreachable.value.reason
    # wrong secret: an operator can fix the route's settings while the transport retries
    with bound_adapter(remote, password="wrong") as wrong, pytest.raises(DeliveryError) as refused:
        wrong.send(message)
    assert not refused.value.permanent and "E009" in refused.value.reason


def test_same_letter_twice_gets_the_same_remote_process_id(remote: Remote) -> None:
    message = letter_message(remote.h1, f"กค 0401/{uuid.uuid4().hex[:8]}")
    with bound_adapter(remote, auth="both") as adapter:
        first, second = adapter.send(message), adapter.send(message)
    assert first.receipt == second.receipt and first.detail["node"] == remote.url


def test_payload_that_is_not_a_letter_is_permanent(remote: Remote) -> None:
    with bound_adapter(remote) as adapter, pytest.raises(DeliveryError) as refused:
        adapter.send(xml_message(b"<not-a-letter/>"))
    assert refused.value.permanent


def test_cli_poll_of_an_ecms_route_accepts_and_deletes(remote: Remote, tmp_path: Path) -> None:
    """The poll behind ``hub adapters poll ROUTE``: the same lossless poll as the hub's workers."""
    letter_for_0401(remote)
    route = remote.h1.router.find("TH/GOV/0402/saraban", SERVICE)
    report = remote.h1.inbound.poll_route(route.id)
    assert report.error is None and len(report.accepted) >= 1 and not report.refused
    for message_id in report.accepted:
        meta = remote.h1.messages.get_meta(message_id)
        assert meta.receiver == "TH/GOV/0401/saraban" and meta.sender == "TH/GOV/0402/saraban"
    assert EcmsSoapClient(remote.url, "0401", "secret-0401").poll() is None
