"""The spooled envelope reader stores exactly what the in-memory path stores (orjson's sorted
canonical form, or an XML payload's text), whatever the body's layout and however it is cut."""
from __future__ import annotations

import hashlib
import io
import json
import random
import uuid
from datetime import datetime, timezone

import orjson
import pytest

import hub.schemas.envelope_stream as stream
from hub.schemas.envelope import StoredMessage, StreamedPayload, outbound_document, outbound_stream

KEYS = ["z", "a", "é", "\U0001F600", "\uffff", "ข", "k1", "k2", ""]
SCALARS = [1, -2.5, 1e300, 0, -0.0, True, None, False, 12345678901234, 3.141592653589793,
           "x\u0e01\U0001F600\n\"\\/\x7f\u2028\x01", ""]


def document(rnd: random.Random, depth: int = 0):  # noqa: ANN201
    roll = rnd.random()
    if depth > 4 or roll < 0.3:
        return rnd.choice(SCALARS)
    if roll < 0.6:
        return [document(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    return {rnd.choice(KEYS): document(rnd, depth + 1) for _ in range(rnd.randint(0, 5))}


def layouts(value) -> list[bytes]:  # noqa: ANN001
    """The same JSON written compactly, indented, with ASCII escapes, and with keys unsorted."""
    return [orjson.dumps(value), json.dumps(value, indent=1, ensure_ascii=False).encode(),
            json.dumps(value, ensure_ascii=True).encode(), json.dumps(value, separators=(" , ", " : ")).encode()]


def read(body: bytes, chunk: int, monkeypatch: pytest.MonkeyPatch, max_depth: int = 200):  # noqa: ANN201
    monkeypatch.setattr(stream, "CHUNK", chunk)
    monkeypatch.setattr(stream, "SPILL_BYTES", 64)  # objects spill to files even in small tests
    out = io.BytesIO()
    return stream.read_envelope(io.BytesIO(body), out, max_depth=max_depth), out.getvalue()


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_the_stored_form_is_orjsons_sorted_form_byte_for_byte(chunk, monkeypatch):
    rnd = random.Random(chunk)
    checked = 0
    while checked < 60:
        value = document(rnd)
        if not isinstance(value, (dict, list, str)):
            continue
        expected = value.encode("utf-8") if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        for raw in layouts(value):
            body = b'{"sender" : "TH/GOV/0401/saraban",\n "payload":' + raw + b', "n": [1, {"b": 2, "a": 1}]}'
            found, stored = read(body, chunk, monkeypatch)
            assert stored == expected, raw
            assert found.sha256 == hashlib.sha256(expected).hexdigest() and found.size == len(expected)
            assert found.fields == {"sender": "TH/GOV/0401/saraban", "n": [1, {"a": 1, "b": 2}]}
            assert found.payload_kind == {dict: "object", list: "array", str: "string"}[type(value)]
        checked += 1


@pytest.mark.parametrize("body", [
    b'{"payload": "abc', b'{"payload": {"a":1,}}', b'{"payload": [1 2]}', b'{"payload": "\\ud800"}',
    b'{"payload": "\\udc00x"}', b'{"payload": "\x01"}', b'{"payload": {}} x', b'{"payload": 01}',
    b'{"payload": {"a" 1}}', b'{"payload": "\\x"}', b'{"payload": nul}', b'{"payload": [NaN]}',
    b'{"payload": "\xff\xfe"}', b'[]', b'{"a": 1}',
    b'{"payload": {}, "payload": []}', b'{"payload": [1]] }', b'{"payload": [1], }',
])
@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_what_is_not_json_or_not_an_envelope_is_refused(body, chunk, monkeypatch):
    with pytest.raises(stream.JsonStreamError):
        read(body, chunk, monkeypatch)


def test_the_payload_nesting_limit_is_the_in_memory_paths(monkeypatch):
    allowed = b'{"payload": ' + b"[" * 5 + b"]" * 5 + b"}"
    assert read(allowed, 3, monkeypatch, max_depth=5)[1] == b"[[[[[]]]]]"
    with pytest.raises(stream.TooDeep):
        read(b'{"payload": ' + b"[" * 6 + b"]" * 6 + b"}", 3, monkeypatch, max_depth=5)


def test_a_scalar_payload_is_reported_not_stored(monkeypatch):
    found, stored = read(b'{"payload": 12.5}', 4, monkeypatch)
    assert (found.payload_kind, found.payload_scalar, stored) == ("scalar", 12.5, b"")


@pytest.mark.parametrize("content_type,payload", [
    ("application/json", b'{"a":"\xe0\xb8\x81","b":[1,2]}'),
    ("application/xml", '<a x="1">ก "quoted"\n\t\\ \U0001F600</a>'.encode()),
])
def test_a_streamed_document_is_the_document(content_type, payload):
    meta = StoredMessage(id=uuid.uuid4(), sender="TH/GOV/0401/saraban", receiver="TH/GOV/1501/hr", service="x/v1",
                         classification="001", speed="001", content_type=content_type,
                         received_at=datetime.now(timezone.utc), payload_sha256="0" * 64,
                         payload_size=len(payload), status="queued")
    # Pieces cut anywhere, inside UTF-8 sequences too.
    pieces = StreamedPayload(len(payload), lambda: iter([payload[i:i + 1] for i in range(len(payload))]))
    length, document_pieces = outbound_stream(meta, pieces)
    joined = b"".join(document_pieces())
    assert joined == outbound_document(meta, payload) and length == len(joined)
