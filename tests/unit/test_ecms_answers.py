"""How the e-CMS node's answers are cut into pieces for sending (issue 18): an answer whose
stored content fits in ``WHOLE_ANSWER_MAX`` (a polled 1 MiB letter) is one piece sent from the
event loop with a Content-Length, a larger relayed document goes out in the stored chunks with
the envelope's text joined to the first and last, and the bytes are the same."""
from __future__ import annotations

import asyncio

import pytest
from lxml import etree

from hub.adapters.ecms.codec import soap
from hub.adapters.ecms.codec.blobs import BlobStore


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def whole(env: etree._Element) -> bytes:
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


async def gather(answer) -> list[bytes]:  # noqa: ANN001
    return [piece async for piece in answer]


def test_a_small_answer_is_one_piece_read_alike_with_or_without_await(blobs):
    env = soap.envelope(soap.element("CorrespondenceLetterDeleteResponse", ProcessID="p", Result="deleted"), "urn:x")
    answer = soap.stream_envelope(env, blobs)
    assert isinstance(answer, soap.WholeAnswer)
    assert list(answer) == asyncio.run(gather(answer)) == [whole(env)]


@pytest.mark.parametrize("size", [10, soap.RAW_CHUNK - 1, soap.RAW_CHUNK, 2 * soap.RAW_CHUNK + 7])
def test_a_relayed_document_goes_out_byte_for_byte_in_its_stored_chunks(blobs, size):
    document = b"<rsm:GovernmentDocument>" + b"Q" * size + b"</rsm:GovernmentDocument>"
    ref = blobs.put(document)
    answer = soap.element("CorrespondenceLetterInboundResponse", ProcessID="p")
    answer.append(soap.raw_document(ref.sha256))
    env = soap.envelope(answer, None)
    pieces = list(soap.stream_envelope(env, blobs, whole_max=len(document) - 1))
    before, _, after = whole(env).partition(whole(soap.raw_document(ref.sha256)).split(b"\n", 1)[-1])
    assert b"".join(pieces) == before + document + after
    # the envelope's text (and a short last chunk) travels with a neighbouring chunk, not on
    # a trip of its own
    assert len(pieces) <= -(-len(document) // soap.RAW_CHUNK)
    assert len(pieces) == 1 or all(len(piece) >= 64 * 1024 for piece in pieces)


def test_an_inline_binary_object_is_base64_of_the_blob(blobs):
    ref = blobs.put(bytes(range(256)) * 3000)
    env = soap.envelope(etree.fromstring(f"<Item><B>{{{{hub-blob:{ref.sha256}}}}}</B></Item>".encode()), None)
    text = b"".join(soap.stream_envelope(env, blobs))
    assert b"hub-blob" not in text
    assert etree.fromstring(text).findtext(".//B") == __import__("base64").b64encode(blobs.read(ref.sha256)).decode()


@pytest.mark.parametrize("raw", [True, False])
def test_stored_content_up_to_the_limit_makes_a_whole_answer_with_the_same_bytes(blobs, raw):
    content = bytes(range(256)) * 4096  # 1 MiB
    ref = blobs.put(content)
    if raw:
        item = soap.element("CorrespondenceLetterInboundResponse", ProcessID="p")
        item.append(soap.raw_document(ref.sha256))
        sent = len(content)
    else:
        item = etree.fromstring(f"<Item><B>{{{{hub-blob:{ref.sha256}}}}}</B></Item>".encode())
        sent = 4 * -(-len(content) // 3)
    env = soap.envelope(item, None)
    streamed = b"".join(soap.stream_envelope(env, blobs, whole_max=sent - 1))
    answer = soap.stream_envelope(env, blobs, whole_max=sent)
    assert not isinstance(soap.stream_envelope(env, blobs, whole_max=sent - 1), soap.WholeAnswer)
    assert isinstance(answer, soap.WholeAnswer) and answer.content == streamed
    assert asyncio.run(gather(answer)) == [streamed]
