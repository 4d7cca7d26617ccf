"""Parse a spooled envelope (a file) without holding its payload in memory.

A large ``POST /v1/messages`` body is written to a file as it arrives; this reads it back in
chunks and writes the payload's stored form to another file while hashing it, so neither
the request nor the payload is ever whole in memory. The stored form is exactly what the
in-memory path stores (``Envelope.payload_bytes``): canonical JSON as ``orjson`` writes it
with sorted keys, or an XML payload's text in UTF-8. Every string piece and scalar is decoded
and written again by ``orjson`` itself, so validation and output match it byte for byte.

Bounded memory: strings stream in pieces; arrays stream through; an object's members are
written to a spill (memory, then a temporary file past ``SPILL_BYTES``) and copied out in
key order, so what stays in memory per object is its keys and their offsets.
"""
from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import orjson

CHUNK = 1 << 20
SPILL_BYTES = 1 << 20
MAX_FIELDS_BYTES = 64 * 1024  # the envelope's own members (everything but the payload)

_WS = re.compile(rb"[ \t\n\r]*")
# Complete tokens only: plain runs, simple escapes, a \u escape that is not a high surrogate,
# or a surrogate pair whole. A match therefore ends where a string may be cut and decoded.
_STRING = re.compile(
    rb'(?:[^"\\\x00-\x1f]++|\\["\\/bfnrt]|\\u(?![dD][89abAB])[0-9a-fA-F]{4}'
    rb"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})*+")
# A number or literal runs to the first character none of them contains; orjson judges it.
_SCALAR = re.compile(rb"[A-Za-z0-9.+-]+")


class JsonStreamError(ValueError):
    """The spooled body is not valid JSON, or not an envelope this reader accepts."""


class TooDeep(JsonStreamError):
    def __init__(self, depth: int) -> None:
        super().__init__(f"the payload nests more than {depth} levels deep")
        self.depth = depth


@dataclass(frozen=True)
class SpooledEnvelope:
    """The envelope's members other than the payload, and what the payload's stored form is."""

    fields: dict[str, Any]
    payload_kind: str  # "object", "array", "string" or "scalar"
    payload_scalar: Any  # the value, when payload_kind is "scalar"
    sha256: str
    size: int


class _Reader:
    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.buf = b""
        self.pos = 0
        self.eof = False
        self.consumed = 0  # bytes dropped from the front of the buffer, for error offsets

    def more(self) -> bool:
        """Read another chunk, keeping what is not consumed yet; False at end of input."""
        if self.eof:
            return False
        data = self._source.read(CHUNK)
        self.consumed += self.pos
        self.buf = self.buf[self.pos:] + data
        self.pos = 0
        if not data:
            self.eof = True
        return bool(data)

    def offset(self) -> int:
        return self.consumed + self.pos

    def peek(self) -> int | None:
        """The next byte that is not whitespace (not consumed), or None at end of input."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return None

    def expect(self, char: bytes) -> None:
        if self.peek() != char[0]:
            raise self.error(f"expected {char.decode()!r}")
        self.pos += 1

    def closes(self, close: int) -> bool:
        """Whether the next byte is ``close`` (then consumed): an empty object or array."""
        if self.peek() == close:
            self.pos += 1
            return True
        return False

    def after_item(self, close: int, where: str) -> bool:
        """After an item: True at the closing ``close``, False at a comma (either consumed)."""
        following = self.peek()
        if following not in (close, 0x2C):
            raise self.error(f"expected ',' or {chr(close)!r} in {where}")
        self.pos += 1
        return following == close

    def error(self, what: str) -> JsonStreamError:
        return JsonStreamError(f"{what} at byte {self.offset()}")


def _utf8_cut(buf: bytes, start: int, end: int) -> int:
    """``end`` moved back so that ``buf[start:end]`` does not end inside a UTF-8 sequence."""
    for back in range(1, min(4, end - start) + 1):
        byte = buf[end - back]
        if byte & 0xC0 != 0x80:  # a lead byte (or ASCII): is its sequence complete?
            need = 1 if byte < 0x80 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return end if back >= need else end - back
    return end


def _string(reader: _Reader, write: Callable[[bytes], Any], text: bool) -> None:
    """Copy a string (its opening quote consumed): as canonical JSON with quotes, or as its
    UTF-8 text (``text``)."""
    if not text:
        write(b'"')
    while True:
        buf, pos = reader.buf, reader.pos
        # Up to the next quote, a run without backslashes is plain text (orjson refuses any
        # control character or bad UTF-8 in it below): found by memchr, not by the regex.
        quote = buf.find(b'"', pos)
        end = quote if quote >= 0 else len(buf)
        if buf.find(b"\\", pos, end) >= 0:
            end = _STRING.match(buf, pos).end()
        stop = buf[end] if end < len(buf) else None
        if stop == 0x22:  # the closing quote
            cut, done = end, True
        elif stop is None or (stop == 0x5C and len(buf) - end < 12 and not reader.eof):
            cut, done = _utf8_cut(buf, pos, end) if stop is None else end, False
        elif stop == 0x5C:
            raise reader.error("invalid escape in a string")
        else:
            raise reader.error("a control character inside a string")
        if cut > pos:
            try:
                piece = orjson.loads(b'"' + buf[pos:cut] + b'"')
            except orjson.JSONDecodeError as exc:
                raise reader.error(f"invalid string ({exc})") from None
            write(piece.encode("utf-8") if text else orjson.dumps(piece)[1:-1])
        reader.pos = cut
        if done:
            reader.pos += 1
            break
        if not reader.more():
            raise reader.error("the body ends inside a string")
    if not text:
        write(b'"')


def _key(reader: _Reader) -> str:
    parts: list[bytes] = []
    reader.expect(b'"')
    _string(reader, parts.append, text=True)
    key = b"".join(parts)
    if len(key) > MAX_FIELDS_BYTES:
        raise reader.error(f"an object key longer than {MAX_FIELDS_BYTES} bytes")
    return key.decode("utf-8")


def _scalar(reader: _Reader) -> Any:
    while True:
        match = _SCALAR.match(reader.buf, reader.pos)
        if match is None:
            raise reader.error("unexpected character")
        if match.end() < len(reader.buf) or not reader.more():
            break
    reader.pos = match.end()
    try:
        return orjson.loads(match.group())
    except orjson.JSONDecodeError as exc:
        raise reader.error(f"invalid value {match.group()[:40]!r} ({exc})") from None


class _Spill:
    """Bytes written in memory, moved to a temporary file once past ``SPILL_BYTES``."""

    def __init__(self, directory: str | None) -> None:
        self._directory = directory
        self._memory = bytearray()
        self._file: IO[bytes] | None = None
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self._file is not None:
            self._file.write(data)
            return
        self._memory += data
        if len(self._memory) > SPILL_BYTES:
            self._file = tempfile.TemporaryFile(dir=self._directory)
            self._file.write(self._memory)
            self._memory = bytearray()

    def copy(self, start: int, length: int, write: Callable[[bytes], Any]) -> None:
        if self._file is None:
            write(bytes(self._memory[start:start + length]))
            return
        self._file.seek(start)
        while length:
            data = self._file.read(min(length, CHUNK))
            write(data)
            length -= len(data)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class _Canonical:
    """Writes one JSON value in its canonical form (sorted keys, orjson's scalars)."""

    def __init__(self, reader: _Reader, max_depth: int, spill_dir: str | None) -> None:
        self._reader = reader
        self._max_depth = max_depth
        self._spill_dir = spill_dir

    def value(self, write: Callable[[bytes], Any], depth: int) -> None:
        reader = self._reader
        first = reader.peek()
        if first is None:
            raise reader.error("the body ends where a value was expected")
        if first in (0x7B, 0x5B) and depth > self._max_depth:
            raise TooDeep(self._max_depth)
        if first == 0x7B:
            reader.pos += 1
            self._object(write, depth)
        elif first == 0x5B:
            reader.pos += 1
            self._array(write, depth)
        elif first == 0x22:
            reader.pos += 1
            _string(reader, write, text=False)
        else:
            write(orjson.dumps(_scalar(reader)))

    def _array(self, write: Callable[[bytes], Any], depth: int) -> None:
        reader = self._reader
        write(b"[")
        if not reader.closes(0x5D):
            self.value(write, depth + 1)
            while not reader.after_item(0x5D, "an array"):
                write(b",")
                self.value(write, depth + 1)
        write(b"]")

    def _object(self, write: Callable[[bytes], Any], depth: int) -> None:
        reader = self._reader
        spill = _Spill(self._spill_dir)
        members: dict[str, tuple[int, int]] = {}  # a repeated key keeps its last value, as orjson does
        try:
            ended = reader.closes(0x7D)
            while not ended:
                key = _key(reader)
                reader.expect(b":")
                start = spill.size
                self.value(spill.write, depth + 1)
                members[key] = (start, spill.size - start)
                ended = reader.after_item(0x7D, "an object")
            write(b"{")
            for n, key in enumerate(sorted(members)):
                write(orjson.dumps(key) + b":" if n == 0 else b"," + orjson.dumps(key) + b":")
                spill.copy(*members[key], write)
            write(b"}")
        finally:
            spill.close()


def read_envelope(source: IO[bytes], payload_out: IO[bytes], *, max_depth: int,
                  spill_dir: str | None = None) -> SpooledEnvelope:
    """Read the envelope in ``source``; write its payload's stored form to ``payload_out``.

    An object or array payload is written as canonical JSON, a string payload as its UTF-8
    text (what an XML payload is stored as; the envelope's validation decides whether a
    string is allowed), a scalar not at all (no content type accepts one).
    """
    reader = _Reader(source)
    digest = hashlib.sha256()
    size = 0

    def out(data: bytes) -> None:
        nonlocal size
        digest.update(data)
        payload_out.write(data)
        size += len(data)

    canonical = _Canonical(reader, max_depth, spill_dir)
    if reader.peek() != 0x7B:
        raise JsonStreamError("the body must be a JSON object (the envelope)")
    reader.pos += 1
    fields: dict[str, Any] = {}
    kind, scalar, fields_size = None, None, 0
    ended = reader.closes(0x7D)
    while not ended:
        key = _key(reader)
        reader.expect(b":")
        if key == "payload":
            if kind is not None:
                raise reader.error("the envelope has two payload members")
            first = reader.peek()
            if first == 0x22:
                reader.pos += 1
                kind = "string"
                _string(reader, out, text=True)
            elif first in (0x7B, 0x5B):
                kind = "object" if first == 0x7B else "array"
                canonical.value(out, 1)
            else:
                kind, scalar = "scalar", _scalar(reader) if first is not None else None
        else:
            parts: list[bytes] = []
            canonical.value(parts.append, 1)
            member = b"".join(parts)
            fields_size += len(member)
            if fields_size > MAX_FIELDS_BYTES:
                raise reader.error(f"the envelope's members other than the payload exceed {MAX_FIELDS_BYTES} bytes")
            fields[key] = orjson.loads(member)
        ended = reader.after_item(0x7D, "the envelope")
    if reader.peek() is not None:
        raise reader.error("data after the envelope")
    if kind is None:
        raise JsonStreamError("the envelope has no payload member")
    return SpooledEnvelope(fields, kind, scalar, digest.hexdigest(), size)
