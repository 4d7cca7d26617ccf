"""The sender's document as the node keeps it (issue 18): a request held in memory is stored as
a template whose attachments' base64 is put back from their blobs, and the receiver still gets
the bytes the sender wrote, however the base64 was laid out."""
from __future__ import annotations

import base64
import io

import pytest

from hub.adapters.ecms.codec import soap
from hub.adapters.ecms.codec.blobs import BlobStore
from hub.adapters.ecms.codec.rawdoc import TEMPLATE, cut_document
from hub.adapters.ecms.codec.soapstream import parse_stream

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
OTHER = b"%PDF-1.4 another\n" + bytes(range(255, -1, -1)) * 30


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def request(*binaries: str, subject: str = "ขอส่งรายงาน") -> bytes:
    objects = "".join(f'<ram:AttachmentBinaryObject mimeCode="application/pdf">{text}</ram:AttachmentBinaryObject>'
                      for text in binaries)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ram="urn:ram">'
            "<soap:Body><CorrespondenceLetterOutboundRequest>"
            f'<rsm:GovernmentDocument xmlns:rsm="urn:rsm"><ram:Subject>{subject}</ram:Subject>{objects}'
            "</rsm:GovernmentDocument></CorrespondenceLetterOutboundRequest></soap:Body></soap:Envelope>"
            ).encode("utf-8")


def document_of(data: bytes) -> bytes:
    """The document as the receiver must get it: the sender's bytes, with the ``ram`` prefix the
    envelope declared added to its start tag."""
    start = data.index(b"<rsm:GovernmentDocument")
    end = data.index(b"</rsm:GovernmentDocument>") + len(b"</rsm:GovernmentDocument>")
    name = len(b"<rsm:GovernmentDocument")
    return data[start:start + name] + b' xmlns:ram="urn:ram"' + data[start + name:end]


def cut(data: bytes, blobs: BlobStore, source: io.IOBase | None = None) -> str:
    root = parse_stream(io.BytesIO(data), blobs)
    document = next(e for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith("GovernmentDocument"))
    ref = cut_document(source or io.BytesIO(data), document, blobs)
    assert ref is not None
    return ref.sha256


def lines(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def test_single_line_base64_is_kept_once_and_given_back_byte_for_byte(blobs):
    data = request(base64.b64encode(PDF).decode())
    sha256 = cut(data, blobs)
    stored = blobs.read(sha256)
    assert stored.startswith(TEMPLATE) and len(stored) < 1000  # the attachment's text is not stored twice
    assert soap.stored_document(sha256, blobs) == document_of(data)
    assert soap.document_size(sha256, blobs) == len(document_of(data))


@pytest.mark.parametrize("binaries", [
    (lines(PDF),),  # on MIME lines: kept as written
    (lines(PDF), base64.b64encode(OTHER).decode()),  # the same element name twice, one kept as written
    (base64.b64encode(PDF).decode(), base64.b64encode(PDF).decode(), " " + base64.b64encode(OTHER).decode()),
])
def test_any_layout_of_base64_comes_back_as_the_sender_wrote_it(blobs, binaries):
    data = request(*binaries)
    sha256 = cut(data, blobs)
    # Templated when one binary object's text is exactly its blob's base64, on one line.
    assert blobs.read(sha256).startswith(TEMPLATE) == any(b[0] != " " and "\n" not in b for b in binaries)
    assert soap.stored_document(sha256, blobs) == document_of(data)
    assert soap.document_size(sha256, blobs) == len(document_of(data))


def test_a_document_naming_a_marker_in_its_text_is_stored_whole(blobs):
    """A sender's text that looks like the template's marker could not be told from one."""
    data = request(base64.b64encode(PDF).decode(), subject="{{hub-blob:" + "0" * 64 + "}}")
    sha256 = cut(data, blobs)
    assert blobs.read(sha256) == document_of(data)


def test_a_spooled_request_is_stored_whole(blobs, tmp_path):
    data = request(base64.b64encode(PDF).decode())
    spooled = tmp_path / "request"
    spooled.write_bytes(data)
    with spooled.open("rb") as source:
        sha256 = cut(data, blobs, source)
    assert blobs.read(sha256) == document_of(data)


def test_a_polled_template_is_answered_with_the_senders_bytes(blobs):
    data = request(base64.b64encode(PDF).decode(), lines(OTHER))
    sha256 = cut(data, blobs)
    env = soap.envelope(soap.element("CorrespondenceLetterInboundResponse", soap.raw_document(sha256),
                                     ProcessID="p"), "urn:x")
    answer = soap.stream_envelope(env, blobs)
    assert document_of(data) in b"".join(answer)
