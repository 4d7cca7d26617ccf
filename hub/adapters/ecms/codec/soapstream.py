"""Streaming, hardened parse of a SOAP request whose binary objects may be large.

``hub.standards.safexml.parse_xml`` builds a whole tree from bytes in memory, which is
right for letters and notifiers but not for a SOAP body carrying a 20 MiB base64
attachment. This module applies the same hardening (prolog check for DTD / entity
declarations, ``resolve_entities=False``, ``no_network``, no DTD loading, depth and
attribute limits) to lxml's *target* parser, which hands text to us in chunks: the text
of every ``*BinaryObject`` element is base64-decoded as it arrives and written straight
into the blob store, so memory stays at a few chunks whatever the attachment size. The
element keeps its attributes and gains ``hubblob:sha256`` / ``hubblob:size``.
"""
from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import IO, Any

import pybase64
from lxml import etree

from hub.adapters.ecms.codec.blobs import BlobStore, BlobWriter, StagedBlobs
from hub.adapters.ecms.codec.codes import EcmsFault
from hub.standards import safexml

HUBBLOB = "urn:th:hub:ecms:blob:1"
SHA_ATTR = f"{{{HUBBLOB}}}sha256"
SIZE_ATTR = f"{{{HUBBLOB}}}size"
FEED_CHUNK = 64 * 1024
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True)
class Limits:
    max_depth: int = safexml.DEFAULT_MAX_DEPTH
    max_attributes: int = safexml.DEFAULT_MAX_ATTRIBUTES
    max_elements: int = 20_000
    max_text_chars: int = 2 * 1024 * 1024  # all text outside binary objects


def localname(tag: Any) -> str:
    # Sliced rather than through etree.QName, which builds and checks an object: the tolerant
    # reader looks up every child by local name, some 300 times per letter.
    return tag[tag.rfind("}") + 1:] if isinstance(tag, str) else ""


def is_binary_object(tag: str) -> bool:
    return localname(tag).lower().endswith("binaryobject")


class Base64Stream:
    """Decodes base64 text chunk by chunk into a blob writer; refuses anything invalid."""

    def __init__(self, writer: BlobWriter, what: str) -> None:
        self._writer = writer
        self._pending = b""
        self._padded = False
        self._what = what

    def feed(self, text: str) -> None:
        # As ASCII bytes: deleting whitespace from bytes is a C loop, from str a lookup per
        # character (a sixth of the node's CPU for a 1 MiB letter, in a profile). Looking for
        # each whitespace byte is a memchr, several times faster than that loop, and most
        # clients write base64 on one line: then there is nothing to delete.
        try:
            data = text.encode("ascii")
        except UnicodeEncodeError:
            raise EcmsFault("E006", f"{self._what} is not valid base64: it holds non-ASCII characters") from None
        if b"\n" in data or b" " in data or b"\r" in data or b"\t" in data:
            data = data.translate(None, _WHITESPACE)
        if not data:
            return
        if self._padded:
            raise EcmsFault("E006", f"{self._what}: base64 data continues after its padding")
        # Most pieces leave nothing pending: no concatenation, no slicing copies then.
        pending = self._pending + data if self._pending else data
        if b"=" in pending:
            self._pending, self._padded = pending, True
            return  # padding ends the data; decoded in finish()
        rest = len(pending) % 4
        if rest == len(pending):
            self._pending = pending
        elif rest:
            self._decode(pending[:-rest])
            self._pending = pending[-rest:]
        else:
            self._decode(pending)
            self._pending = b""

    def _decode(self, text: bytes) -> None:
        # pybase64's SIMD decoder, validating as strictly as binascii.a2b_base64(strict_mode=
        # True): 0.05 ms for a 1 MiB attachment against 1.6 ms (the largest single cost of a
        # letter's send, held under the GIL, in a profile of the hub during hub bench).
        try:
            data = pybase64.b64decode(text, validate=True)
        except binascii.Error:
            raise EcmsFault("E006", f"{self._what} is not valid base64: {_why_invalid(text)}") from None
        self._writer.write(data)

    def finish(self):  # noqa: ANN201  (BlobRef)
        if len(self._pending) % 4:
            raise EcmsFault("E006", f"{self._what} is not valid base64: length is not a multiple of 4")
        if self._pending:
            self._decode(self._pending)
        return self._writer.commit()


def _why_invalid(text: bytes) -> str:
    """binascii's account of what is wrong (which character, excess data after padding...):
    more telling to the sender than pybase64's, and only a refused request pays for it."""
    try:
        binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error as exc:
        return str(exc)
    return "not strictly padded"


def _remembered(method):  # noqa: ANN001, ANN202
    """lxml's feed parser replaces an exception raised in a target callback by a generic
    "missing end tags" syntax error; keep the first one so the caller sees the real cause."""

    def wrapper(self, *args):  # noqa: ANN001, ANN202
        try:
            return method(self, *args)
        except (EcmsFault, safexml.UnsafeXmlError) as exc:
            self._remember(exc)
            raise

    return wrapper


class _Target:
    def __init__(self, blobs: BlobStore | StagedBlobs, limits: Limits) -> None:
        self.error: Exception | None = None
        self._builder = etree.TreeBuilder()
        self._blobs = blobs
        self._limits = limits
        self._depth = 0
        self._elements = 0
        self._text = 0
        self._binary: Base64Stream | None = None
        self._binary_depth = 0
        self._writer: BlobWriter | None = None

    # start, data and end catch for themselves what ``_remembered`` catches for doctype: they
    # run for every element of every request, and the decorator's extra call, with copying
    # lxml's empty attribute mapping through the Mapping protocol, cost more than their work.

    def start(self, tag: str, attrib: dict[str, str], nsmap: dict[str, str] | None = None) -> None:
        try:
            self._depth += 1
            self._elements += 1
            if self._depth > self._limits.max_depth:
                raise safexml.UnsafeXmlError(safexml.REASON_TOO_DEEP,
                                             f"XML nesting exceeds max_depth={self._limits.max_depth}")
            if len(attrib) > self._limits.max_attributes:
                raise safexml.UnsafeXmlError(safexml.REASON_TOO_MANY_ATTRIBUTES,
                                             f"element {tag!r} has {len(attrib)} attributes")
            if self._elements > self._limits.max_elements:
                raise safexml.UnsafeXmlError(safexml.REASON_PARSER_LIMIT,
                                             f"more than {self._limits.max_elements} elements")
            if self._binary is not None:
                raise EcmsFault("E005", f"{localname(tag)} inside a binary object: binary objects hold base64 text only")
            if is_binary_object(tag):
                self._writer = self._blobs.writer()
                self._binary = Base64Stream(self._writer, localname(tag))
                self._binary_depth = self._depth
            self._builder.start(tag, dict(attrib) if attrib else {}, dict(nsmap) if nsmap else {})
        except (EcmsFault, safexml.UnsafeXmlError) as exc:
            self._remember(exc)
            raise

    def data(self, text: str) -> None:
        try:
            if self._binary is not None:
                self._binary.feed(text)
                return
            self._text += len(text)
            if self._text > self._limits.max_text_chars:
                raise EcmsFault("E014", f"text outside binary objects exceeds {self._limits.max_text_chars} characters")
            self._builder.data(text)
        except (EcmsFault, safexml.UnsafeXmlError) as exc:
            self._remember(exc)
            raise

    def end(self, tag: str) -> None:
        try:
            element = self._builder.end(tag)
            if self._binary is not None and self._depth == self._binary_depth:
                ref = self._binary.finish()
                self._binary, self._writer = None, None
                element.set(SHA_ATTR, ref.sha256)
                element.set(SIZE_ATTR, str(ref.size))
            self._depth -= 1
        except (EcmsFault, safexml.UnsafeXmlError) as exc:
            self._remember(exc)
            raise

    def _remember(self, exc: Exception) -> None:
        if self.error is None:
            self.error = exc

    @_remembered
    def doctype(self, *_: Any) -> None:
        raise safexml.UnsafeXmlError(safexml.REASON_DOCTYPE, "XML with a document type declaration is refused")

    def close(self) -> etree._Element:
        return self._builder.close()

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()


def parse_stream(source: IO[bytes], blobs: BlobStore | StagedBlobs, limits: Limits | None = None) -> etree._Element:
    """Parse a SOAP request from a file object; binary objects go to ``blobs``.

    Raises ``EcmsFault`` E001 (malformed), E002 (unsafe), E005/E006/E014 as found.
    """
    limits = limits or Limits()
    head = source.read(FEED_CHUNK)
    if not head.strip():
        raise EcmsFault("E001", "the request body is empty; expected a SOAP 1.1 envelope")
    target = _Target(blobs, limits)
    parser = etree.XMLParser(target=target, **safexml._hardened_kwargs())  # noqa: SLF001  (one hardening, shared)
    try:
        safexml._check_prolog(head)  # noqa: SLF001
        try:
            chunk = head
            while chunk:
                parser.feed(chunk)
                chunk = source.read(FEED_CHUNK)
            return parser.close()
        except etree.XMLSyntaxError:
            if target.error is not None:
                raise target.error from None
            raise
    except safexml.UnsafeXmlError as exc:
        target.abort()
        raise EcmsFault("E002", f"unsafe XML refused ({exc.reason}): {exc}") from None
    except EcmsFault:
        target.abort()
        raise
    except etree.XMLSyntaxError as exc:
        target.abort()
        raise EcmsFault("E001", f"the request is not well-formed XML: {exc.msg or exc}") from None
