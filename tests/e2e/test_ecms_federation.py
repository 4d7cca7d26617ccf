"""Federation: two hubs exchange letters over e-CMS, each agency talking only to its own hub.

Agency A (0401, e-Saraban on H1) and agency B (0402, e-Saraban on H2). H1 forwards A's
letters and notifiers to H2 with the ``ecms`` adapter and polls H2 for everything addressed
to 0401 (tests/support/federation.py).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.adapters.ecms.client.soapclient import EcmsSoapClient
from hub.bootstrap import build_hub
from hub.adapters.ecms.node.node import SERVICE
from hub.sim.esaraban import Esaraban, File
from tests.conftest import fast_settings
from tests.support.ecms import serving
from tests.support.federation import KILL_BEFORE_DELETE, setup_h1, setup_h2
from tests.support.hubproc import HubProcess
from tests.support.waiting import wait_for


def sim(home: Path, url: str, code: str, ministry: str = "0400", prefix: str | None = None) -> Esaraban:
    return Esaraban(home / code, url, department=code, ministry=ministry, prefix=prefix or f"กค {code}",
                    username=code, password=f"secret-{code}")


def pdf(size: int, seed: int) -> bytes:
    return b"%PDF-1.4\n" + os.urandom(size) + bytes([seed])


def collect(agency: Esaraban, *, letters: int = 0, notices: int = 0, timeout: float = 30):
    got_letters, got_notices = [], []

    def probe() -> bool:
        new_letters, new_notices = agency.poll()
        got_letters.extend(new_letters)
        got_notices.extend(new_notices)
        return len(got_letters) >= letters and len(got_notices) >= notices

    wait_for(probe, timeout=timeout, interval=0.1, what=f"{letters} letters / {notices} notifiers")
    return got_letters, got_notices


@pytest.fixture
def two_hubs(tmp_path: Path) -> Iterator[tuple[object, str, object, str]]:
    h2 = build_hub(fast_settings(tmp_path / "h2"))
    setup_h2(h2)
    try:
        with serving(h2) as h2_url:
            h1 = build_hub(fast_settings(tmp_path / "h1"))
            try:
                setup_h1(h1, h2_url)
                with serving(h1) as h1_url:
                    yield h1, h1_url, h2, h2_url
            finally:
                h1.close()
    finally:
        h2.close()


def test_letter_crosses_two_hubs_and_notifiers_travel_back(two_hubs, tmp_path):
    h1, h1_url, h2, h2_url = two_hubs
    a, b = sim(tmp_path, h1_url, "0401"), sim(tmp_path, h2_url, "0402")
    main = File("letter.pdf", "application/pdf", pdf(60_000, 1))
    files = [File(f"att{i}.pdf", "application/pdf", pdf(25_000 * i, i)) for i in (1, 2, 3)]
    book_no = a.send_letter("0400", "0402", "ขอส่งรายงานข้ามศูนย์", main, files, speed="003")

    # A -> H1 -> (ecms adapter) -> H2 -> B, attachments byte-identical
    [letter] = collect(b, letters=1)[0]
    assert letter.letter_id == book_no and letter.from_department == "0401"
    assert [b.file(sha) for sha in letter.files] == [main.data, *(f.data for f in files)]
    b.acknowledge(letter)
    receipt = b.accept(letter)

    # B's notifiers wait in 0401's queue on H2; H1 polls them and A gets them from H1
    _, notices = collect(a, notices=2)
    assert [n.kind for n in notices] == ["ReceiveLetterNotifier", "AcceptLetterNotifier"]
    assert notices[1].accept_id == receipt and a.outgoing(book_no)["accept_id"] == receipt
    # H1's register knows B's receipt number; its outbound status says where the letter went
    status = a.client.status(a.outgoing(book_no)["process_id"])
    assert status.ProcessStatus == "delivered" and status.AcceptID == receipt

    # and the other way: B writes to A; A acknowledges through H1 -> H2 -> B
    reply = File("reply.pdf", "application/pdf", pdf(40_000, 9))
    reply_no = b.send_letter("0400", "0401", "ตอบรับรายงาน", reply, [File("x.pdf", "application/pdf", pdf(10, 3))])
    [incoming] = collect(a, letters=1)[0]
    assert incoming.letter_id == reply_no and incoming.from_department == "0402"
    assert a.file(incoming.files[0]) == reply.data
    a.acknowledge(incoming)
    _, back = collect(b, notices=1)
    assert [(n.kind, n.letter_id) for n in back] == [("ReceiveLetterNotifier", reply_no)]

    # H1 deleted everything it read on H2; one conversation per letter on each hub
    wait_for(lambda: EcmsSoapClient(h2_url, "0401", "secret-0401").poll() is None, timeout=10,
             what="0401's queue on H2 drained")
    for hub in (h1, h2):
        items, _ = hub.messages.list(service=SERVICE, limit=50)
        by_conversation: dict[str, int] = {}
        for meta in items:
            by_conversation[meta.correlation_id] = by_conversation.get(meta.correlation_id, 0) + 1
        assert sorted(by_conversation.values()) == [2, 3]  # reply + 1 notifier; letter + 2 notifiers
    a.close()
    b.close()


def test_letter_the_hub_refuses_is_answered_invalid_and_does_not_block_the_queue(two_hubs, tmp_path):
    h1, h1_url, h2, h2_url = two_hubs
    # 1012 (another ministry) is on H2 only: H1 does not know it, so it refuses the letter
    c = sim(tmp_path, h2_url, "1012", ministry="1000", prefix="นร 1012")
    b = sim(tmp_path, h2_url, "0402")
    a = sim(tmp_path, h1_url, "0401")
    unknown = c.send_letter("0400", "0401", "จากหน่วยงานที่ศูนย์ H1 ไม่รู้จัก", File("u.pdf", "application/pdf", pdf(100, 1)))
    known = b.send_letter("0400", "0401", "จากหน่วยงานที่รู้จัก", File("k.pdf", "application/pdf", pdf(100, 2)))
    [letter] = collect(a, letters=1)[0]
    assert letter.letter_id == known
    _, notices = collect(c, notices=1)
    assert [(n.kind, n.letter_id) for n in notices] == [("InvalidLetterNotifier", unknown)]
    assert c.outgoing(unknown)["status"] == "invalid"
    for agency in (a, b, c):
        agency.close()


def test_sigkill_after_accept_before_delete_delivers_exactly_once(tmp_path):
    h2 = build_hub(fast_settings(tmp_path / "h2"))
    setup_h2(h2)
    try:
        with serving(h2) as h2_url:
            settings = fast_settings(tmp_path / "h1")
            setup = build_hub(settings)
            setup_h1(setup, h2_url)
            setup.close()
            h1 = HubProcess(settings, tmp_path / "h1.log", module=KILL_BEFORE_DELETE)  # test-only fault point
            h1.start()
            b = sim(tmp_path, h2_url, "0402")
            book_no = b.send_letter("0400", "0401", "ก่อนดับเครื่อง", File("k.pdf", "application/pdf", pdf(150_000, 7)),
                                    [File("a.pdf", "application/pdf", pdf(5_000, 8))])
            process_id = b.outgoing(book_no)["process_id"]
            # H1 polls, accepts, and is killed before it deletes the item on H2
            wait_for(lambda: h1.proc.poll() is not None, timeout=30, what="H1 killed at the fault point")
            assert h1.proc.returncode == -9
            assert b.client.status(process_id).ProcessStatus == "read"  # read by H1, not deleted
            h1.module = "hub"  # restarted without the fault
            h1.start()
            try:
                a = sim(tmp_path, h1.url + "/ecms/service2", "0401")
                [letter] = collect(a, letters=1)[0]
                assert letter.letter_id == book_no
                wait_for(lambda: b.client.status(process_id).ProcessStatus == "deleted", timeout=20,
                         what="H1 deleted the item on H2 after restart")
                for _ in range(10):  # nothing else arrives: exactly once
                    assert a.poll() == ([], [])
                a.close()
            finally:
                h1.stop()
            b.close()
    finally:
        h2.close()
    again = build_hub(settings)
    try:
        letters = [m for m in again.messages.list(service=SERVICE, limit=50)[0] if m.receiver == "TH/GOV/0401/saraban"]
        assert len(letters) == 1 and letters[0].status == "delivered"
    finally:
        again.close()
