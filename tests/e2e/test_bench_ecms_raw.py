"""The raw SOAP client of ``hub bench``'s second e-CMS row (``hub.bench.ecms_raw``) against a
real hub serving HTTP: its letters go through, and a refusal or a wrong letter stops it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.adapters.ecms.client.soapclient import EcmsClientError
from hub.bench.ecms_raw import RawLetterClient, UnexpectedAnswer
from hub.sim.esaraban import Esaraban, File
from tests.conftest import fast_settings
from tests.support.ecms import node_serving

PDF = File("bench.pdf", "application/pdf", b"%PDF-1.4\n" + bytes(range(256)) * 64)


def sim(home: Path, url: str, code: str, password: str | None = None) -> Esaraban:
    return Esaraban(home / code, url, department=code, ministry="0400", prefix=f"กค {code}",
                    username=code, password=password or f"secret-{code}")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[str, object]]:
    with node_serving(fast_settings(tmp_path / "data")) as found:
        yield found


def test_raw_client_sends_polls_and_deletes_new_letters(node, tmp_path):
    url, hub = node
    sender, receiver = sim(tmp_path, url, "0401"), sim(tmp_path, url, "0402")
    try:
        sender.send_letter("0400", "0402", "ก่อนหน้า", PDF)  # the simulator's own letter, polled first
        assert [letter.letter_id for letter in receiver.poll()[0]] == ["กค 0401/1"]
        raw = RawLetterClient(url, sender, receiver, PDF)
        try:
            for _ in range(3):
                timing = raw.roundtrip(timeout=30)
                assert timing["total_seconds"] >= timing["send_seconds"] > 0
        finally:
            raw.close()
        # Each a new letter under the sender's next book numbers (กค 0401/2 was drafted to
        # build the request), each taken out of the receiver's queue.
        sent = [row.letter_id for row in hub.ecms.store.outbound_letters(["0401"])]
        assert sent == ["กค 0401/1", "กค 0401/3", "กค 0401/4", "กค 0401/5"]
        assert receiver.poll() == ([], [])
    finally:
        sender.close()
        receiver.close()


def test_a_refused_request_stops_the_raw_client(node, tmp_path):
    url, _ = node
    sender, receiver = sim(tmp_path, url, "0401", password="not-the-secret"), sim(tmp_path, url, "0402")
    raw = RawLetterClient(url, sender, receiver, PDF)
    try:
        with pytest.raises(EcmsClientError) as refused:
            raw.roundtrip(timeout=30)
        assert not isinstance(refused.value, UnexpectedAnswer)
    finally:
        raw.close()
        sender.close()
        receiver.close()


def test_another_letter_in_the_queue_stops_the_raw_client(node, tmp_path):
    url, _ = node
    sender, receiver = sim(tmp_path, url, "0401"), sim(tmp_path, url, "0402")
    sender.send_letter("0400", "0402", "ค้างอยู่", PDF)  # waits, unread, ahead of the raw client's letter
    raw = RawLetterClient(url, sender, receiver, PDF)
    try:
        with pytest.raises(UnexpectedAnswer, match="polled 'กค 0401/1'"):
            raw.roundtrip(timeout=30)
    finally:
        raw.close()
        sender.close()
        receiver.close()
