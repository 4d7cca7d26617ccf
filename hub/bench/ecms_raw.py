"""A raw SOAP client of the hub's e-CMS node, for the second row of ``hub bench --scenario e-cms``.

The first row's round trip (``hub.sim.esaraban.letter_roundtrip``) times two simulated
e-Saraban systems as well as the hub: zeep building and reading envelopes, their SQLite
registries and file stores. This client leaves the hub's side alone in the loop: it posts the
very request bytes the simulated sender's zeep client would post — built once by the simulator
itself, WS-Addressing and UsernameToken included — over one keep-alive HTTP connection per
department, changing only what must differ per letter (the LetterID, a new book number, and
the WS-Addressing MessageID). Every answer is read with the hardened lxml parse the hub's own
client uses (``read_answer``), so a refusal (``ErrorDetail``, SOAP Fault, HTTP error) stops
the run instead of being timed, and the polled letter must be the one just sent.
"""
from __future__ import annotations

import http.client
import itertools
import time
import uuid
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from hub.adapters.ecms.client.soapclient import ITEM_NAMES, Answer, EcmsClientError, read_answer
from hub.adapters.ecms.codec.letter import kid, localname, text
from hub.sim.esaraban import Esaraban, File
from hub.standards.safexml import parse_xml


class UnexpectedAnswer(EcmsClientError):
    """A success answer that does not answer what was asked (another letter, another item)."""

    def __init__(self, description: str) -> None:
        super().__init__("bench", description)


class Template:
    """Request bytes with named values cut out, to be filled in per request without rebuilding
    (or re-serialising) the rest. Each marker must occur exactly once in the bytes: a marker
    found twice, or written in another form (a character reference), would change the request
    in places it should not or not at all."""

    def __init__(self, data: bytes, **markers: str) -> None:
        cuts = []
        for name, marker in markers.items():
            raw = marker.encode("utf-8")
            count = data.count(raw)
            if count != 1:
                raise ValueError(f"the request holds {name} {marker!r} {count} times, not once")
            cuts.append((data.index(raw), len(raw), name))
        cuts.sort()
        self._parts: list[bytes] = []
        self._names: list[str] = []
        at = 0
        for start, length, name in cuts:
            self._parts.append(data[at:start])
            self._names.append(name)
            at = start + length
        self._parts.append(data[at:])

    def render(self, **values: str) -> bytes:
        out = [self._parts[0]]
        for name, part in zip(self._names, self._parts[1:], strict=True):
            out += (escape(values[name]).encode("utf-8"), part)
        return b"".join(out)


def _message_id(request: bytes) -> str:
    """The WS-Addressing MessageID the request was built with (a marker for ``Template``)."""
    header = kid(parse_xml(request, max_bytes=len(request)), "Header")
    found = kid(header, "MessageID") if header is not None else None
    if found is None or not found.text:
        raise ValueError("the request has no WS-Addressing MessageID to renew per request")
    return found.text


def _new_message_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


class Connection:
    """One department's keep-alive HTTP connection to the node."""

    def __init__(self, url: str, *, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self._conn = kind(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
        self._path = parts.path or "/"

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        self._conn.request("POST", self._path, body, headers)
        response = self._conn.getresponse()
        content = response.read()  # read whole, so the connection can carry the next request
        return read_answer(content, response.status)

    def close(self) -> None:
        self._conn.close()


class RawLetterClient:
    """Sends ``main`` as a new letter from ``sender`` to ``receiver`` and, as ``receiver``,
    polls it and deletes it (``roundtrip``). ``sender`` and ``receiver`` are used only to
    build the requests, once; the sender's registry records the first book number drafted
    for that, and the letters sent here take the numbers after it (not recorded there, so
    the simulator must not send again on this node afterwards)."""

    def __init__(self, url: str, sender: Esaraban, receiver: Esaraban, main: File, *, subject: str = "bench",
                 poll_interval: float = 0.005) -> None:
        book_no = sender.draft(receiver.ministry, receiver.department, subject)
        body, self._send_headers = sender.send_request(book_no, main)
        self._send = Template(body, letter_id=book_no, message_id=_message_id(body))
        body, self._poll_headers = receiver.client.request("CorrespondenceLetterInbound")
        self._poll = Template(body, message_id=_message_id(body))
        placeholder = str(uuid.uuid4())
        body, self._delete_headers = receiver.client.request("CorrespondenceLetterDelete", ProcessID=placeholder)
        self._delete = Template(body, process_id=placeholder, message_id=_message_id(body))
        self._prefix, _, number = book_no.rpartition("/")
        self._numbers = itertools.count(int(number) + 1)
        self._poll_interval = poll_interval
        self._sender = Connection(url)
        self._receiver = Connection(url)

    def close(self) -> None:
        self._sender.close()
        self._receiver.close()

    def roundtrip(self, *, timeout: float = 60.0) -> dict[str, float]:
        letter_id = f"{self._prefix}/{next(self._numbers)}"
        started = time.perf_counter()
        sent = self._sender.post(self._send.render(letter_id=letter_id, message_id=_new_message_id()),
                                 self._send_headers)
        if sent.LetterID != letter_id or not sent.ProcessID:
            raise UnexpectedAnswer(f"the send of {letter_id!r} was answered for LetterID {sent.LetterID!r}, "
                                   f"ProcessID {sent.ProcessID!r}")
        sent_at = time.perf_counter()
        deadline = sent_at + timeout
        while True:
            answer = self._receiver.post(self._poll.render(message_id=_new_message_id()), self._poll_headers)
            process_id = answer.ProcessID
            if process_id:
                break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"letter {letter_id} did not arrive within {timeout} s")
            time.sleep(self._poll_interval)
        item = next((c for c in answer.element if isinstance(c.tag, str) and localname(c.tag) in ITEM_NAMES), None)
        polled = text(item, "CorrespondenceLetter", "ID") if item is not None else None
        if polled != letter_id:
            raise UnexpectedAnswer(f"polled {polled!r} (item {process_id}) where letter {letter_id!r} was sent")
        deleted = self._receiver.post(self._delete.render(process_id=process_id, message_id=_new_message_id()),
                                      self._delete_headers)
        if deleted.ProcessID != process_id or deleted.Result != "deleted":
            raise UnexpectedAnswer(f"the delete of {process_id} was answered for {deleted.ProcessID!r}, "
                                   f"Result {deleted.Result!r}")
        done = time.perf_counter()
        return {"send_seconds": sent_at - started, "deliver_poll_delete_seconds": done - sent_at,
                "total_seconds": done - started}
