"""Official letters of the telework application through each agency's own e-Saraban.

The order (and the revocation) is a หนังสือราชการ: the issuing agency's e-Saraban gives it the
next outgoing book number of its register (``กค 0401/12``, restarting each BE year) and posts
it to the hub's e-CMS node (SOAP, ``/ecms/service2``); the node turns it into a hub message to
each receiving department's poll queue; the receiver's e-Saraban polls, records the letter
under its own receipt number and answers with ``ReceiveLetterNotifier`` and
``AcceptLetterNotifier``. Nothing here writes to the node's tables or the hub's messages.

The e-Saraban is the reference simulator (``hub.sim.esaraban``) with two things a real
registry does that the simulator's ``send_letter`` does not: one book number for a letter
sent to several departments (the person's HR agency and the oversight office get the same
letter), and a reference to an earlier letter (a revocation refers to the order's book
number). The telework document travels as an attachment, validated against its standard
with the book number filled in before anything is sent.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.apps.telework import documents as D
from hub.apps.telework.ports import Correspondence, Letter, SentLetter
from hub.adapters.ecms.codec.letter import Binary, Party, Reference, inline_base64
from hub.adapters.ecms.codec.letter import Letter as EcmsLetter
from hub.sim.esaraban import Esaraban, File, Incoming

log = logging.getLogger(__name__)
BANGKOK = ZoneInfo("Asia/Bangkok")

DISTRIBUTION = """
CREATE TABLE IF NOT EXISTS distribution (book_no TEXT, to_ministry TEXT, to_department TEXT, process_id TEXT,
    PRIMARY KEY (book_no, to_department));
"""
# The e-CMS MIME code list (hub/adapters/ecms/codec/codes.py) has no JSON entry: the standard's document goes
# as text/plain with a .json name, which every e-Saraban can store and show.
DOCUMENT_MIME = "text/plain"


@dataclass(frozen=True)
class Department:
    ministry: str
    code: str


class AgencyEsaraban(Esaraban):
    """One agency's e-Saraban. A lock serialises its SQLite register and SOAP client between
    the application sending and the registry clerk polling in the background."""

    def __init__(self, agency: str, home: Path, node_url: str, *, department: str, ministry: str, prefix: str,
                 username: str, secret: str, documents: D.Documents) -> None:
        super().__init__(home, node_url, department=department, ministry=ministry, prefix=prefix,
                         username=username, password=secret)
        self.agency = agency
        self.documents = documents
        self.lock = threading.RLock()
        self.db.executescript(DISTRIBUTION)

    def distribute(self, *, subject: str, recipients: list[Department], main: File, attachments: list[File],
                   document: dict[str, Any] | None = None, standard: str | None = None, secret: str = "001",
                   speed: str = "001", reference: Reference | None = None,
                   today: dt.date | None = None) -> tuple[str, dict[str, str]]:
        """Register one outgoing letter, send it to every recipient; (book number, {department: ProcessID}).

        ``document`` (a ``th.telework.*`` document without its book number) is completed with
        the book number, validated against ``standard`` and attached as JSON.
        """
        today = today or dt.date.today()
        with self.lock:
            _, number = self._next("book", today)
            book_no = f"{self.prefix}/{number}"
            files = list(attachments)
            if document is not None and standard is not None:
                name = standard.split("@", 1)[0]
                completed = self.documents.validate(name, {**document, "book_number": book_no})
                files.append(File(f"{name}.json", DOCUMENT_MIME,
                                  json.dumps(completed, ensure_ascii=False, indent=1).encode("utf-8")))
            first = recipients[0]
            self.db.execute("INSERT INTO outgoing VALUES (?, ?, ?, ?, ?, NULL, 'draft', NULL)",
                            (book_no, today.isoformat(), subject, first.ministry, first.code))
            binaries = []
            for element, file in [("MainLetterBinaryObject", main),
                                  *(("AttachmentBinaryObject", f) for f in files)]:
                stored = self.files.put(file.data)
                binaries.append(Binary(element, file.mime, stored.sha256, stored.size, file.name))
            sent: dict[str, str] = {}
            for to in recipients:
                letter = EcmsLetter(book_no, today.isoformat(), subject, secret, speed,
                                    Party(self.ministry, self.department), Party(to.ministry, to.code),
                                    binaries[0], references=[reference] if reference else [],
                                    attachment_notes=[f.name for f in files],
                                    send_date=dt.datetime.now(BANGKOK).isoformat(timespec="seconds"),
                                    attachments=binaries[1:])
                answer = self.client.send(inline_base64(letter, self.files))
                sent[to.code] = answer.ProcessID
                self.db.execute("INSERT OR REPLACE INTO distribution VALUES (?, ?, ?, ?)",
                                (book_no, to.ministry, to.code, answer.ProcessID))
            self.db.execute("UPDATE outgoing SET process_id=?, status='sent' WHERE book_no=?",
                            (sent[first.code], book_no))
        return book_no, sent

    def delivery_status(self, book_no: str) -> dict[str, dict[str, Any]]:
        """Per recipient department: the node's status of the letter and the receipt number it
        accepted with (``OutboundStatusRequest``; notifiers alone do not say who sent them)."""
        with self.lock:
            rows = self.db.execute("SELECT to_department, process_id FROM distribution WHERE book_no=?",
                                   (book_no,)).fetchall()
            out = {}
            for department, process_id in rows:
                status = self.client.status(process_id)
                out[department] = {"process_id": process_id, "status": status.ProcessStatus, "accept_id": status.AcceptID}
        return out

    def incoming_letters(self) -> list[dict[str, Any]]:
        """The incoming register: receipt number, the sender's book number, date, subject, status."""
        with self.lock:
            cursor = self.db.execute("SELECT * FROM incoming ORDER BY rowid")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def attachment_documents(self, letter: dict[str, Any]) -> list[dict[str, Any]]:
        """The JSON documents attached to an incoming letter (the telework order or revocation)."""
        documents = []
        for sha in (letter["files"] or "").split(",")[1:]:
            data = self.file(sha)
            try:
                documents.append(json.loads(data))
            except ValueError:  # an attachment that is not a JSON document (e.g. a scanned PDF)
                continue
        return documents

    def work_queue(self) -> tuple[list[Incoming], list[Any]]:
        """The registry clerk's round: read the queue, acknowledge and accept every new letter
        (it gets this e-Saraban's receipt number), keep the notifiers for outgoing letters."""
        with self.lock:
            letters, notices = self.poll()
            for letter in letters:
                self.acknowledge(letter)
                self.accept(letter)
        return letters, notices


class RegistryClerks:
    """Each agency's registry clerk working its e-Saraban queue in the background, as real
    registries poll their e-CMS node every few seconds."""

    def __init__(self, saraban: list[AgencyEsaraban], *, interval: float = 0.2) -> None:
        self.saraban = saraban
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="esaraban-clerks", daemon=True)
        self.errors: list[str] = []

    def start(self) -> RegistryClerks:
        self._thread.start()
        return self

    def _run(self) -> None:
        from hub.adapters.ecms.client.soapclient import EcmsClientError

        while not self._stop.is_set():
            for office in self.saraban:
                try:
                    office.work_queue()
                except (EcmsClientError, OSError) as exc:
                    # The node restarting or busy: the clerk tries again on the next round, as a
                    # registry's poller does; the letter stays in the queue until deleted.
                    self.errors.append(f"{office.agency}: {exc}")
                    log.warning("e-Saraban of %s could not work its queue: %s", office.agency, exc)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class EsarabanCorrespondence(Correspondence):
    """The ``Correspondence`` port: the letter leaves from the sending agency's e-Saraban."""

    def __init__(self, office: Callable[[str], AgencyEsaraban], departments: dict[str, Department]) -> None:
        self.office = office  # agency -> its e-Saraban
        self.departments = departments

    def send_letter(self, letter: Letter) -> SentLetter:
        office = self.office(letter.sender_agency)
        recipients = [self.departments[r] for r in letter.recipients]
        reference = None
        if letter.reference:
            with office.lock:
                earlier = office.outgoing(letter.reference)
            reference = Reference(letter.reference, earlier["letter_date"], earlier["subject"])
        today = letter.date or dt.date.today()  # dated as the order or revocation it carries
        body = (f"{letter.subject}\n\n{letter.text}\n\n{letter.signer.name}\n{letter.signer.position}\n").encode("utf-8")
        book_no, sent = office.distribute(
            subject=letter.subject, recipients=recipients, main=File("letter.txt", "text/plain", body),
            attachments=[], document=letter.document, standard=letter.standard, secret=letter.secret_code,
            speed=letter.speed_code, reference=reference, today=today)
        # e-CMS identifies a letter by its book number and date (LetterID + CorrespondenceDate).
        by_agency = {agency: sent[self.departments[agency].code] for agency in letter.recipients}
        return SentLetter(book_no, book_no, today.isoformat(), by_agency)
