"""SOAP 1.1 envelopes: reading the request's parts, writing answers, errors and faults.

Answers are shaped for the deployed e-Saraban clients, which look elements up by qualified
name (``GetElementsByTagName("ProcessID")``) or in no namespace (``SelectSingleNode``): every
protocol element is unprefixed and in no namespace, with no default namespace in scope; only
the envelope and addressing header are prefixed. Letter content keeps its own ``rsm:`` /
``ram:`` prefixes. A refusal of a SOAP request is an ``ErrorDetail`` inside the operation's
response element, in HTTP 200 (.NET's HttpWebRequest never reads a non-200 body); a SOAP
Fault answers only what is not SOAP at all (E001, E002).

A letter's binary objects are written as markers and replaced by base64 streamed from the
blob store (``stream_envelope``), so a large attachment is never a whole string in memory; a
relayed document is a marker replaced by the sender's bytes, verbatim.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

import pybase64
from lxml import etree

from hub.adapters.ecms.codec.blobs import BlobStore
from hub.adapters.ecms.codec.codes import EcmsFault
from hub.adapters.ecms.codec.letter import MARKER, kid, localname
from hub.adapters.ecms.codec.rawdoc import TEMPLATE

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
# The hub's earlier answer namespace; requests in it are still read (by local name).
SERVICE_NS = "urn:th:hub:ecms:service2"
WSA = "http://www.w3.org/2005/08/addressing"
# Real clients write the addressing namespace in several ways; all are read alike.
WSA_VARIANTS = {WSA, "http://w3.org/2005/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing",
                "http://www.w3.org/2005/08/addressing/", "http://w3.org/2005/08/addressing/"}
WSSE_LOCALS = ("Security",)
# Refusals that mean "this is not a SOAP request": the only ones answered with a Fault.
NOT_SOAP = {"E001", "E002"}
RAW_MARKER = re.compile(rb'<hub-raw-document sha256="([0-9a-f]{64})"\s*/>')
# Answer chunks: each one is a hop from the event loop to a worker thread and back (Starlette
# iterates a plain iterator in the thread pool), so a 1 MiB letter in 48 KiB pieces cost more
# in hops than in copying; half a MiB keeps memory bounded per answer all the same.
B64_CHUNK = 384 * 1024  # a multiple of 3: chunks encode without padding in the middle
RAW_CHUNK = 512 * 1024
# An answer whose stored documents and attachments (as sent) fit in this is built whole in the
# worker thread and sent with a Content-Length: one write from the event loop, where streaming
# cost a thread hop per chunk and one more for its end (a polled 1 MiB letter is ~1.4 MiB).
WHOLE_ANSWER_MAX = 4 * 1024 * 1024


@dataclass
class SoapRequest:
    body_root: etree._Element
    header: etree._Element | None
    message_id: str | None
    username: str | None
    password: str | None


def split_envelope(root: etree._Element) -> SoapRequest:
    if localname(root.tag) != "Envelope" or etree.QName(root).namespace not in (SOAP11, SOAP12):
        raise EcmsFault("E001", f"the document root is {root.tag!r}, not a SOAP 1.1 Envelope")
    body = kid(root, "Body")
    if body is None:
        raise EcmsFault("E001", "the SOAP envelope has no Body")
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise EcmsFault("E003", f"the SOAP Body must hold exactly one operation element, found {len(children)}")
    header = kid(root, "Header")
    message_id = username = password = None
    if header is not None:
        for element in header:
            if not isinstance(element.tag, str):
                continue
            name = localname(element.tag)
            if name == "MessageID" and etree.QName(element).namespace in WSA_VARIANTS:
                message_id = (element.text or "").strip() or None
            elif name == "Security":
                token = kid(element, "UsernameToken")
                if token is not None:
                    username = (kid(token, "Username").text or "").strip() if kid(token, "Username") is not None else None
                    password = (kid(token, "Password").text or "") if kid(token, "Password") is not None else None
    return SoapRequest(children[0], header, message_id, username, password)


def envelope(response: etree._Element, relates_to: str | None) -> etree._Element:
    env = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soap": SOAP11, "wsa": WSA})
    header = etree.SubElement(env, f"{{{SOAP11}}}Header")
    etree.SubElement(header, f"{{{WSA}}}MessageID").text = f"urn:uuid:{uuid.uuid4()}"
    if relates_to:
        etree.SubElement(header, f"{{{WSA}}}RelatesTo").text = relates_to
    etree.SubElement(env, f"{{{SOAP11}}}Body").append(response)
    return env


def fault_envelope(fault: EcmsFault, relates_to: str | None) -> bytes:
    body = etree.Element(f"{{{SOAP11}}}Fault")
    client_side = fault.code != "E099"
    etree.SubElement(body, "faultcode").text = "soap:Client" if client_side else "soap:Server"
    etree.SubElement(body, "faultstring").text = f"{fault.code} {fault.name}: {fault.description}"
    etree.SubElement(body, "detail").append(
        element("ErrorDetail", ErrorCode=fault.code, ErrorDescription=fault.description))
    return etree.tostring(envelope(body, relates_to), xml_declaration=True, encoding="UTF-8")


def response_name(operation: str) -> str:
    """``CorrespondenceLetterOutboundRequest`` -> ``CorrespondenceLetterOutboundResponse``,
    ``GetOrganizationList`` -> ``GetOrganizationListResponse``."""
    base = operation[: -len("Request")] if operation.endswith("Request") else operation
    return f"{base}Response"


def error_answer(fault: EcmsFault, operation: str | None, relates_to: str | None) -> bytes:
    """``{Operation}Response/ErrorDetail{ErrorCode, ErrorDescription}`` for HTTP 200, with no
    ProcessID anywhere (BOI-DMS takes a missing ProcessID as "not done")."""
    detail = element("ErrorDetail", ErrorCode=fault.code, ErrorDescription=fault.description)
    body = element(response_name(operation), detail) if operation else detail
    return etree.tostring(envelope(body, relates_to), xml_declaration=True, encoding="UTF-8")


def raw_document(sha256: str) -> etree._Element:
    """A placeholder the answer writer replaces with the stored document's bytes."""
    return etree.Element("hub-raw-document", sha256=sha256)


class WholeAnswer:
    """An answer already whole in memory (most answers: a send, a delete, an empty queue, a
    refusal). It is an async iterable too, so Starlette's ``StreamingResponse`` sends it from
    the event loop: a plain iterator costs a hop to a worker thread and back for each chunk and
    one more to find its end, which took more of the hub's CPU than building the answer."""

    def __init__(self, *parts: bytes) -> None:
        self.parts = parts

    @property
    def content(self) -> bytes:
        return self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.parts)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            yield part


def stream_envelope(env: etree._Element, blobs: BlobStore, whole_max: int = WHOLE_ANSWER_MAX) -> Iterable[bytes]:
    """Serialise, replacing each binary-object marker by its blob's base64 and each raw
    document placeholder by the document's bytes. An answer with neither, or whose stored
    content comes to at most ``whole_max`` bytes as sent, is a ``WholeAnswer``; a larger one
    is read from the blob store chunk by chunk as it is sent."""
    text = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    raws, binaries = RAW_MARKER.findall(text), MARKER.findall(text)
    if not raws and not binaries:
        return WholeAnswer(text)
    stored = (sum(document_size(sha.decode("ascii"), blobs) for sha in raws)
              + sum(_base64_size(sha.decode("ascii"), blobs) for sha in binaries))
    if stored <= whole_max:
        return WholeAnswer(b"".join(_streamed(text, blobs)))
    return _with_neighbours(_streamed(text, blobs))


def _with_neighbours(pieces: Iterator[bytes], small: int = 64 * 1024) -> Iterator[bytes]:
    """Each piece is sent on its own trip through a worker thread: the envelope's text before
    and after a document goes out joined to the document's first and last chunk instead of
    on trips of its own (a relayed letter: three chunks rather than five)."""
    pending = b""
    for piece in pieces:
        if len(pending) >= small and len(piece) >= small:
            yield pending
            pending = piece
        else:
            pending += piece
    if pending:
        yield pending


def _streamed(text: bytes, blobs: BlobStore) -> Iterator[bytes]:
    position = 0
    for raw in RAW_MARKER.finditer(text):
        yield from _with_binaries(text[position:raw.start()], blobs)
        yield from document_chunks(raw.group(1).decode("ascii"), blobs)
        position = raw.end()
    yield from _with_binaries(text[position:], blobs)


def _with_binaries(text: bytes, blobs: BlobStore) -> Iterator[bytes]:
    position = 0
    for match in MARKER.finditer(text):
        yield text[position:match.start()]
        for chunk in blobs.iter_chunks(match.group(1).decode("ascii"), B64_CHUNK):
            yield pybase64.b64encode(chunk)  # the same text as base64.b64encode, a twentieth of the CPU
        position = match.end()
    yield text[position:]


def _base64_size(sha256: str, blobs: BlobStore) -> int:
    return 4 * -(-blobs.size(sha256) // 3)


def _template(sha256: str, blobs: BlobStore) -> bytes | None:
    """A stored document's template (``hub.adapters.ecms.codec.rawdoc``), or None when it is
    stored whole."""
    with open(blobs.path(sha256), "rb") as stored:
        if stored.read(len(TEMPLATE)) != TEMPLATE:
            return None
        return stored.read()


def document_chunks(sha256: str, blobs: BlobStore) -> Iterator[bytes]:
    """A relayed document's bytes as its sender wrote them: stored whole, or as a template whose
    markers are put back as their blobs' base64."""
    template = _template(sha256, blobs)
    if template is None:
        yield from blobs.iter_chunks(sha256, RAW_CHUNK)
    else:
        yield from _with_binaries(template, blobs)


def document_size(sha256: str, blobs: BlobStore) -> int:
    template = _template(sha256, blobs)
    if template is None:
        return blobs.size(sha256)
    markers = list(MARKER.finditer(template))
    return (len(template) - sum(m.end() - m.start() for m in markers)
            + sum(_base64_size(m.group(1).decode("ascii"), blobs) for m in markers))


def stored_document(sha256: str, blobs: BlobStore) -> bytes:
    return b"".join(document_chunks(sha256, blobs))


def element(name: str, /, *children: etree._Element | None, **values: str | None) -> etree._Element:
    """An answer element, unprefixed and in no namespace, with simple children in the order
    given (keyword names that are not identifiers, ``Th-Name``, are passed with ``**{}``)."""
    root = etree.Element(name)
    for key, value in values.items():
        if value is not None:
            etree.SubElement(root, key).text = value
    for child in children:
        if child is not None:
            root.append(child)
    return root
