"""The sender's ``rsm:GovernmentDocument`` bytes, cut from the request as they were sent.

The receiver must get the document exactly as its sender wrote it: deployed clients read
empty party elements by position, BOI-DMS's own ``ram:GovernmentSignature`` travels inside
it, and an XML signature over it verifies only on the original bytes. So after the request
has been parsed (and checked), the node copies the element's bytes from the spooled request
into the blob store, chunk by chunk, and relays that blob on poll.

The cut is on the serialised text: from ``<qname`` to the first ``</qname>`` after it (the
element cannot nest). Namespace declarations the sender made on an ancestor (a SOAP
envelope declaring ``rsm``/``ram``) are added to the start tag, so the element stands alone;
for inclusive and exclusive C14N alike those in-scope declarations are already part of the
signed form, so a signature still verifies. The request must be UTF-8 (both deployed clients
write UTF-8); otherwise, or when the element cannot be found, ``None`` is returned and the
node falls back to its canonical serialisation (recorded in the history).

A request held in memory (up to 2 MiB, a 1 MiB letter) is stored as a *template*: the
document's bytes with the base64 text of each binary object replaced by its blob's marker
(``{{hub-blob:<sha256>}}``), where that text is exactly the blob's base64 as the answer
writer produces it (compared byte for byte); ``hub.adapters.ecms.codec.soap`` puts it back
when the letter is polled. The bytes the receiver gets are the same; the hub no longer
hashes, writes and fsyncs a second copy of every attachment (1.4 MiB of a 1 MiB letter: about
as much CPU as parsing and decoding the request). Base64 written any other way (on lines,
with spaces) stays in the template as sent.
"""
from __future__ import annotations

import io
import re
from typing import IO

import pybase64
from lxml import etree

from hub.adapters.ecms.codec.blobs import BlobRef, BlobStore
from hub.adapters.ecms.codec.soapstream import SHA_ATTR, SIZE_ATTR

CHUNK = 64 * 1024
_DECL = re.compile(rb'xmlns(?::([A-Za-z_][\w.\-]*))?\s*=\s*["\']')
_ENCODING = re.compile(rb'^\s*<\?xml[^>]*encoding\s*=\s*["\']([A-Za-z0-9._\-]+)["\']')
# A stored template starts with this (a NUL never starts an XML document, so a document
# stored whole is never taken for one); its markers are ``letter.MARKER``'s.
TEMPLATE = b"\x00hub-document-template:1\n"
MARKER_TEXT = b"{{hub-blob:%s}}"


def _qualified(element: etree._Element) -> bytes:
    local = etree.QName(element).localname
    return (f"{element.prefix}:{local}" if element.prefix else local).encode("utf-8")


def _utf8(head: bytes) -> bool:
    declared = _ENCODING.match(head)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return False
    return not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _additions(start_tag: bytes, element: etree._Element) -> bytes:
    """Namespace declarations in scope that the start tag lacks, for the prefixes the element uses."""
    declared_here = {(m.group(1) or b"").decode() for m in _DECL.finditer(start_tag)}
    used = {e.prefix for e in element.iter() if isinstance(e.tag, str)}
    used |= {etree.QName(a).namespace for e in element.iter() if isinstance(e.tag, str) for a in e.attrib}
    missing = [(p, uri) for p, uri in element.nsmap.items()
               if (p or "") not in declared_here and (p in used or uri in used)]
    return b"".join((f' xmlns:{p}="{uri}"' if p else f' xmlns="{uri}"').encode("utf-8") for p, uri in missing)


def cut_document(source: IO[bytes], element: etree._Element, blobs: BlobStore) -> BlobRef | None:
    """Copy the bytes of ``element`` (parsed from ``source``) into ``blobs``; a request held in
    memory as a template (see the module's docstring)."""
    if isinstance(source, io.BytesIO):
        return _cut_in_memory(source.getvalue(), element, blobs)
    source.seek(0)
    if not _utf8(source.read(256)):
        return None
    name = _qualified(element)
    start_pattern = re.compile(rb"<" + re.escape(name) + rb"[\s/>]")
    end_tag = b"</" + name
    source.seek(0)
    buffer = b""
    position = -1
    while position < 0:  # find the start tag
        chunk = source.read(CHUNK)
        if not chunk:
            return None
        buffer = buffer[-(len(name) + 2):] + chunk
        match = start_pattern.search(buffer)
        if match:
            buffer = buffer[match.start():]
            position = 0
    while b">" not in buffer:  # the whole start tag
        chunk = source.read(CHUNK)
        if not chunk:
            return None
        buffer += chunk
    tag_end = buffer.index(b">")
    additions = _additions(buffer[:tag_end], element)
    if additions:
        buffer = buffer[:len(b"<") + len(name)] + additions + buffer[len(b"<") + len(name):]
    writer = blobs.writer()
    try:
        carry = b""
        while True:
            data = carry + buffer
            end = data.find(end_tag)
            if end >= 0:
                close = data.find(b">", end)
                while close < 0:
                    more = source.read(CHUNK)
                    if not more:
                        writer.abort()
                        return None
                    data += more
                    close = data.find(b">", end)
                writer.write(data[:close + 1])
                return writer.commit()
            keep = len(end_tag)
            writer.write(data[:-keep])
            carry = data[-keep:]
            buffer = source.read(CHUNK)
            if not buffer:
                writer.abort()
                return None
    except BaseException:
        writer.abort()
        raise


def _cut_in_memory(data: bytes, element: etree._Element, blobs: BlobStore) -> BlobRef | None:
    """``cut_document`` of a request whose bytes are all here: found as the stream's cut finds
    them, stored as a template when a binary object's text can be put back from its blob.

    The text between the binary objects' base64 is searched, never the base64 itself (a scan
    of 1.4 MiB per search): base64 holds neither ``<`` nor ``{``, so the end tag and any
    marker-like text of the sender's lie outside it."""
    if not _utf8(data[:256]):
        return None
    name = _qualified(element)
    end_tag = b"</" + name
    found = re.compile(rb"<" + re.escape(name) + rb"[\s/>]").search(data)
    tag_end = data.find(b">", found.start()) if found is not None else -1
    if tag_end < 0:
        return None
    start = found.start()  # type: ignore[union-attr]
    after_name = start + 1 + len(name)
    spans: list[tuple[int, int, str]] = []
    position = cursor = after_name  # after the last span; where to look for the next binary object
    for binary in element.iter():
        sha256 = binary.get(SHA_ATTR) if isinstance(binary.tag, str) else None
        if not sha256:
            continue
        cursor, span = _base64_span(data, binary, cursor, blobs, sha256)
        if span is None:
            continue
        if data.find(end_tag, position, span[0]) >= 0:  # found past the document's end: not its own
            break
        spans.append((*span, sha256))
        position = span[1]
    end = data.find(end_tag, position)
    close = data.find(b">", end) if end >= 0 else -1
    if close < 0:
        return None
    gaps = [(a, b) for a, b in zip([after_name] + [e for _, e, _ in spans], [s for s, _, _ in spans] + [close])]
    if any(data.find(b"{{hub-blob:", a, b) >= 0 for a, b in gaps):  # could not be told from a marker
        spans = []
    view = memoryview(data)
    pieces: list[bytes | memoryview] = [data[start:after_name], _additions(data[start:tag_end], element)]
    position = after_name
    for span_start, span_end, sha256 in spans:
        pieces += [view[position:span_start], MARKER_TEXT % sha256.encode("ascii")]
        position = span_end
    pieces.append(view[position:close + 1])
    writer = blobs.writer()
    try:
        if spans:
            writer.write(TEMPLATE)
        for piece in pieces:
            writer.write(piece)
        return writer.commit()
    except BaseException:
        writer.abort()
        raise


def _base64_span(data: bytes, binary: etree._Element, cursor: int, blobs: BlobStore,
                 sha256: str) -> tuple[int, tuple[int, int] | None]:
    """Where to look for the next binary object, and where ``binary``'s text lies in ``data``
    if it is exactly its blob's base64 as the answer writer produces it (else None)."""
    found = re.compile(rb"<" + re.escape(_qualified(binary)) + rb"[\s/>]").search(data, cursor)
    if found is None:
        return len(data), None
    text_start = data.find(b">", found.end() - 1) + 1
    if text_start == 0 or binary.get(SIZE_ATTR) == "0":
        return max(text_start, found.end()), None
    encoded = pybase64.b64encode(blobs.read(sha256))
    text_end = text_start + len(encoded)
    if data[text_end:text_end + 2] != b"</" or not data.startswith(encoded, text_start):
        return text_start, None
    return text_end, (text_start, text_end)
