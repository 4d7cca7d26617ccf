"""Two reference e-Saraban systems exchange letters through the hub's e-CMS node."""
from __future__ import annotations

import os
from datetime import date
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.bootstrap import build_hub
from hub.sim.esaraban import Esaraban, File
from tests.conftest import fast_settings
from tests.support.ecms import register_departments, serving
from tests.support.hubproc import HubProcess
from tests.support.waiting import wait_for


def sim(home: Path, url: str, code: str) -> Esaraban:
    return Esaraban(home / code, url, department=code, ministry="0400", prefix=f"กค {code}",
                    username=code, password=f"secret-{code}")


def pdf(size: int, seed: int) -> bytes:
    return b"%PDF-1.4\n" + os.urandom(size) + bytes([seed])


def _wait_polled(agency: Esaraban, count: int, which: int, what: str) -> list:
    """Poll until ``count`` items of one kind (0 letters, 1 notifiers) have come."""
    got = []

    def probe():
        got.extend(agency.poll()[which])
        return len(got) >= count

    wait_for(probe, timeout=30, interval=0.1, what=what)
    return got


def wait_letters(agency: Esaraban, count: int = 1):
    return _wait_polled(agency, count, 0, "letters in the queue")


def wait_notices(agency: Esaraban, count: int):
    return _wait_polled(agency, count, 1, "notifiers in the queue")


@pytest.fixture
def agencies(tmp_path: Path) -> Iterator[tuple[Esaraban, Esaraban, object]]:
    hub = build_hub(fast_settings(tmp_path / "data"))
    register_departments(hub)
    try:
        with serving(hub) as url:
            a, b = sim(tmp_path, url, "0401"), sim(tmp_path, url, "0402")
            yield a, b, hub
            a.close()
            b.close()
    finally:
        hub.close()


def test_letter_with_three_attachments_acknowledged_and_accepted(agencies):
    a, b, hub = agencies
    main = File("letter.pdf", "application/pdf", pdf(50_000, 1))
    files = [File(f"att{i}.pdf", "application/pdf", pdf(30_000 * i, i)) for i in (1, 2, 3)]
    book_no = a.send_letter("0400", "0402", "ขอส่งรายงานผลการปฏิบัติราชการนอกสถานที่", main, files, speed="002")
    assert book_no == "กค 0401/1"

    [letter] = wait_letters(b)
    assert letter.letter_id == book_no and letter.from_department == "0401"
    assert [b.file(sha) for sha in letter.files] == [main.data, *(f.data for f in files)]
    b.acknowledge(letter)
    receipt = b.accept(letter)
    assert receipt == f"1/{date.today().year + 543}"  # first receipt number of this BE year

    notices = wait_notices(a, 2)
    assert [n.kind for n in notices] == ["ReceiveLetterNotifier", "AcceptLetterNotifier"]
    assert notices[1].accept_id == receipt
    assert a.outgoing(book_no)["status"] == "accept" and a.outgoing(book_no)["accept_id"] == receipt
    # both queues are empty: everything was deleted after reading
    assert a.client.poll() is None and b.client.poll() is None
    # one conversation in the message log: the letter and both notifiers
    items, _ = hub.messages.list(limit=10)
    assert len(items) == 3 and len({m.correlation_id for m in items}) == 1
    assert a.client.status(a.outgoing(book_no)["process_id"]).ProcessStatus == "deleted"


def test_reject_and_invalid_paths(agencies):
    a, b, _ = agencies
    first = a.send_letter("0400", "0402", "เรื่องที่หนึ่ง", File("a.pdf", "application/pdf", pdf(100, 1)))
    second = a.send_letter("0400", "0402", "เรื่องที่สอง", File("b.pdf", "application/pdf", pdf(100, 2)))
    assert (first, second) == ("กค 0401/1", "กค 0401/2")
    letters = wait_letters(b, 2)
    by_id = {letter.letter_id: letter for letter in letters}
    b.reject(by_id[first])
    b.report_invalid(by_id[second])
    kinds = {n.letter_id: n.kind for n in wait_notices(a, 2)}
    assert kinds == {first: "RejectLetterNotifier", second: "InvalidLetterNotifier"}
    assert a.outgoing(first)["status"] == "reject" and a.outgoing(second)["status"] == "invalid"


def test_withdraw_then_resend(agencies):
    a, b, hub = agencies
    # B's e-Saraban is slow to poll: the letter waits in its queue and is withdrawn unread
    draft = File("draft.pdf", "application/pdf", pdf(1000, 1))
    book_no = a.send_letter("0400", "0402", "ร่างที่ผิด", draft)
    process_id = a.outgoing(book_no)["process_id"]
    wait_for(lambda: a.client.status(process_id).ProcessStatus == "waiting", timeout=30, what="letter queued")
    a.withdraw(book_no)
    assert a.client.status(process_id).ProcessStatus == "withdrawn"
    fixed = File("fixed.pdf", "application/pdf", pdf(1000, 2))
    a.resend(book_no, fixed)
    [letter] = wait_letters(b)
    assert letter.letter_id == book_no and b.file(letter.files[0]) == fixed.data
    # the read letter can no longer be withdrawn
    from hub.adapters.ecms.client.soapclient import EcmsClientError

    with pytest.raises(EcmsClientError) as refused:
        a.withdraw(book_no)
    assert refused.value.code == "E012"


def test_sigkill_between_send_and_poll_delivers_exactly_once(tmp_path):
    settings = fast_settings(tmp_path / "data")
    setup = build_hub(settings)
    register_departments(setup)
    setup.close()
    hub = HubProcess(settings, tmp_path / "hub.log").start()
    try:
        url = f"{hub.url}/ecms/service2"
        a, b = sim(tmp_path, url, "0401"), sim(tmp_path, url, "0402")
        book_no = a.send_letter("0400", "0402", "ก่อนดับเครื่อง", File("k.pdf", "application/pdf", pdf(200_000, 7)))
        hub.kill()
        hub.start()
        a.client = type(a.client)(url, "0401", "secret-0401")
        b.client = type(b.client)(url, "0402", "secret-0402")
        [letter] = wait_letters(b)
        assert letter.letter_id == book_no
        # nothing else arrives: exactly once
        for _ in range(10):
            assert b.poll() == ([], [])
        a.close()
        b.close()
    finally:
        hub.stop()
