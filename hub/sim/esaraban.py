"""A reference agency e-Saraban: a small legacy correspondence system that talks to the hub
only through the TH e-GIF e-CMS protocol (SOAP, via ``EcmsSoapClient``).

Features:
    - its own SQLite registry (``<home>/esaraban.sqlite3``) of outgoing and incoming letters;
    - outgoing book numbers per agency and Buddhist-Era year (``กค 0401/1234``), receipt
      numbers for incoming letters (``12/2567``), both restarting each BE year;
    - sends letters with attachments, polls its queue one item at a time and deletes each
      item only after recording it (a crash in between re-reads it; the ProcessID makes it
      idempotent), acknowledges (ReceiveLetterNotifier), accepts with its receipt number
      (AcceptLetterNotifier), rejects, reports invalid letters, withdraws and resends;
    - attachments kept content-addressed under ``<home>/files``.

``letter_roundtrip`` is the e-CMS scenario of ``hub bench``; ``baseline_parse_validate``
is its baseline (raw lxml parse + schema validation of the same letter).
"""
from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lxml import etree

from hub.adapters.ecms.client.soapclient import EcmsSoapClient
from hub.adapters.ecms.codec.blobs import BlobStore
from hub.adapters.ecms.codec.letter import (
    Binary, Letter, Notifier, Party, inline_base64, letter_schema, notifier_element, read_item,
)
from hub.thai import ce_to_be_year

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (kind TEXT, be_year INTEGER, last INTEGER, PRIMARY KEY (kind, be_year));
CREATE TABLE IF NOT EXISTS outgoing (book_no TEXT PRIMARY KEY, letter_date TEXT, subject TEXT, to_ministry TEXT,
    to_department TEXT, process_id TEXT, status TEXT, accept_id TEXT);
CREATE TABLE IF NOT EXISTS incoming (process_id TEXT PRIMARY KEY, receipt_no TEXT UNIQUE, letter_id TEXT,
    letter_date TEXT, subject TEXT, from_department TEXT, files TEXT, status TEXT);
CREATE TABLE IF NOT EXISTS notices (process_id TEXT PRIMARY KEY, kind TEXT, letter_id TEXT, accept_id TEXT);
"""


@dataclass(frozen=True)
class File:
    name: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class Incoming:
    process_id: str
    receipt_no: str
    letter_id: str
    letter_date: str
    subject: str
    from_department: str
    files: list[str]  # sha256 of main letter then attachments


class Esaraban:
    def __init__(self, home: Path, node_url: str, *, department: str, ministry: str, prefix: str,
                 username: str, password: str, basic_auth: bool = False) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.department, self.ministry, self.prefix = department, ministry, prefix
        self.files = BlobStore(self.home / "files")
        self.db = sqlite3.connect(self.home / "esaraban.sqlite3", isolation_level=None, check_same_thread=False)
        self.db.executescript(SCHEMA)
        self.client = EcmsSoapClient(node_url, username, password, basic_auth=basic_auth)

    def close(self) -> None:
        self.client.close()
        self.db.close()

    # -------------------------------------------------------------- numbering

    def _next(self, kind: str, today: date) -> tuple[int, int]:
        be_year = ce_to_be_year(today.year)
        self.db.execute("BEGIN IMMEDIATE")
        row = self.db.execute("SELECT last FROM counters WHERE kind=? AND be_year=?", (kind, be_year)).fetchone()
        number = (row[0] if row else 0) + 1
        self.db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?, ?)", (kind, be_year, number))
        self.db.execute("COMMIT")
        return be_year, number

    # -------------------------------------------------------------- sending

    def send_letter(self, to_ministry: str, to_department: str, subject: str, main: File,
                    attachments: list[File] = (), *, secret: str = "001", speed: str = "001",
                    today: date | None = None) -> str:
        """Give the letter the next book number and post it; returns the book number."""
        book_no = self.draft(to_ministry, to_department, subject, today=today)
        return self._post(book_no, main, list(attachments), secret, speed)

    def draft(self, to_ministry: str, to_department: str, subject: str, *, today: date | None = None) -> str:
        """Record an outgoing letter under the next book number, not yet sent; returns the number."""
        today = today or date.today()
        _, number = self._next("book", today)
        book_no = f"{self.prefix}/{number}"
        self.db.execute("INSERT INTO outgoing VALUES (?, ?, ?, ?, ?, NULL, 'draft', NULL)",
                        (book_no, today.isoformat(), subject, to_ministry, to_department))
        return book_no

    def _letter(self, book_no: str, main: File, attachments: list[File], secret: str, speed: str) -> Letter:
        row = self.db.execute("SELECT letter_date, subject, to_ministry, to_department FROM outgoing WHERE book_no=?",
                              (book_no,)).fetchone()
        binaries = []
        for element, file in [("MainLetterBinaryObject", main), *(("AttachmentBinaryObject", a) for a in attachments)]:
            ref = self.files.put(file.data)
            binaries.append(Binary(element, file.mime, ref.sha256, ref.size, file.name))
        return Letter(book_no, row[0], row[1], secret, speed, Party(self.ministry, self.department),
                      Party(row[2], row[3]), binaries[0], attachments=binaries[1:],
                      attachment_notes=[a.name for a in attachments])

    def _post(self, book_no: str, main: File, attachments: list[File], secret: str, speed: str) -> str:
        letter = self._letter(book_no, main, attachments, secret, speed)
        answer = self.client.send(inline_base64(letter, self.files))
        self.db.execute("UPDATE outgoing SET process_id=?, status='sent' WHERE book_no=?", (answer.ProcessID, book_no))
        return book_no

    def wire_document(self, book_no: str, main: File, attachments: list[File] = (), *, secret: str = "001",
                      speed: str = "001") -> bytes:
        """A sent letter exactly as it goes on the wire (base64 inline), e.g. for a parse baseline."""
        letter = self._letter(book_no, main, list(attachments), secret, speed)
        return etree.tostring(inline_base64(letter, self.files))

    def send_request(self, book_no: str, main: File, attachments: list[File] = (), *, secret: str = "001",
                     speed: str = "001") -> tuple[bytes, dict[str, str]]:
        """The SOAP request (bytes, HTTP headers) that sending a drafted letter posts, not posted:
        for ``hub.bench.ecms_raw``, which posts it over a connection of its own."""
        letter = self._letter(book_no, main, list(attachments), secret, speed)
        return self.client.request("CorrespondenceLetterOutbound", _value_1=inline_base64(letter, self.files))

    def withdraw(self, book_no: str) -> None:
        row = self.db.execute("SELECT letter_date, to_department FROM outgoing WHERE book_no=?", (book_no,)).fetchone()
        self.client.withdraw(book_no, row[0], self.department, row[1])
        self.db.execute("UPDATE outgoing SET status='withdrawn' WHERE book_no=?", (book_no,))

    def resend(self, book_no: str, main: File, attachments: list[File] = (), *, secret: str = "001",
               speed: str = "001") -> str:
        """Send a withdrawn letter again under the same book number."""
        return self._post(book_no, main, list(attachments), secret, speed)

    def outgoing(self, book_no: str) -> dict:
        row = self.db.execute("SELECT * FROM outgoing WHERE book_no=?", (book_no,))
        return dict(zip([d[0] for d in row.description], row.fetchone(), strict=True))

    # -------------------------------------------------------------- receiving

    def poll(self, *, max_items: int = 100) -> tuple[list[Incoming], list[Notifier]]:
        """Read the queue until empty: record each item, then delete it on the node."""
        letters: list[Incoming] = []
        notices: list[Notifier] = []
        for _ in range(max_items):
            queued = self.client.poll()
            if queued is None:
                break
            item = read_item(queued.element, self.files)
            if isinstance(item, Letter):
                letters.append(self._record_letter(queued.process_id, item))
            else:
                self._record_notice(queued.process_id, item)
                notices.append(item)
            self.client.delete(queued.process_id)
        return letters, notices

    def _record_letter(self, process_id: str, letter: Letter) -> Incoming:
        known = self.db.execute("SELECT receipt_no FROM incoming WHERE process_id=?", (process_id,)).fetchone()
        files = [b.sha256 for b in letter.binaries]
        if known:
            receipt_no = known[0]
        else:
            be_year, number = self._next("receipt", date.today())
            receipt_no = f"{number}/{be_year}"
            self.db.execute("INSERT INTO incoming VALUES (?, ?, ?, ?, ?, ?, ?, 'received')",
                            (process_id, receipt_no, letter.id, letter.correspondence_date, letter.subject,
                             letter.sender.department_id, ",".join(files)))
        return Incoming(process_id, receipt_no, letter.id, letter.correspondence_date, letter.subject,
                        letter.sender.department_id, files)

    def _record_notice(self, process_id: str, notifier: Notifier) -> None:
        self.db.execute("INSERT OR IGNORE INTO notices VALUES (?, ?, ?, ?)",
                        (process_id, notifier.kind, notifier.letter_id, notifier.accept_id))
        status = notifier.kind.removesuffix("LetterNotifier").removesuffix("Notifier").lower()
        self.db.execute("UPDATE outgoing SET status=?, accept_id=COALESCE(?, accept_id) WHERE book_no=? AND letter_date=?",
                        (status, notifier.accept_id, notifier.letter_id, notifier.correspondence_date))

    def file(self, sha256: str) -> bytes:
        return self.files.read(sha256)

    def _notify(self, kind: str, incoming: Incoming, accept_id: str | None = None) -> None:
        self.client.send(notifier_element(Notifier(kind, incoming.letter_id, incoming.letter_date,
                                                   incoming.subject, accept_id)))
        self.db.execute("UPDATE incoming SET status=? WHERE process_id=?", (kind, incoming.process_id))

    def acknowledge(self, incoming: Incoming) -> None:
        self._notify("ReceiveLetterNotifier", incoming)

    def accept(self, incoming: Incoming) -> str:
        self._notify("AcceptLetterNotifier", incoming, incoming.receipt_no)
        return incoming.receipt_no

    def reject(self, incoming: Incoming) -> None:
        self._notify("RejectLetterNotifier", incoming)

    def report_invalid(self, incoming: Incoming) -> None:
        self._notify("InvalidLetterNotifier", incoming)


# ------------------------------------------------------------------ bench scenario

def letter_roundtrip(sender: Esaraban, receiver: Esaraban, pdf: bytes, *, timeout: float = 60.0) -> dict[str, float]:
    """Send a letter with ``pdf`` as its main document, poll until it arrives, delete it."""
    started = time.perf_counter()
    book_no = sender.send_letter(receiver.ministry, receiver.department, "bench", File("bench.pdf", "application/pdf", pdf))
    sent = time.perf_counter()
    deadline = sent + timeout
    while True:
        letters, _ = receiver.poll(max_items=1)
        if any(letter.letter_id == book_no for letter in letters):
            break
        if time.perf_counter() > deadline:
            raise TimeoutError(f"letter {book_no} did not arrive within {timeout} s")
        time.sleep(0.01)
    done = time.perf_counter()
    return {"send_seconds": sent - started, "deliver_poll_delete_seconds": done - sent, "total_seconds": done - started}


def baseline_parse_validate(letter_xml: bytes, standards_dir: Path) -> float:
    """Raw lxml parse + th.ecms.letter validation of the same letter: the floor for the scenario."""
    schema = letter_schema(standards_dir)
    started = time.perf_counter()
    document = etree.fromstring(letter_xml, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    # The wire form writes every element deployed receivers read, empty when unset, and
    # ID="Letter"; the node validates the letter without them (empty means absent).
    for element in list(document.iter()):
        if isinstance(element.tag, str) and len(element) == 0 and not (element.text or "").strip() \
                and element.getparent() is not None:
            element.getparent().remove(element)
    for element in document.iter():
        element.attrib.pop("ID", None)
    if not schema.validate(document):
        raise ValueError(f"baseline letter is invalid: {schema.error_log[0].message}")
    return time.perf_counter() - started
