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
"""
from __future__ import annotations

import re
from typing import IO

from lxml import etree

from hub.adapters.ecms.codec.blobs import BlobRef, BlobStore

CHUNK = 64 * 1024
_DECL = re.compile(rb'xmlns(?::([A-Za-z_][\w.\-]*))?\s*=\s*["\']')
_ENCODING = re.compile(rb'^\s*<\?xml[^>]*encoding\s*=\s*["\']([A-Za-z0-9._\-]+)["\']')


def _qualified(element: etree._Element) -> bytes:
    local = etree.QName(element).localname
    return (f"{element.prefix}:{local}" if element.prefix else local).encode("utf-8")


def cut_document(source: IO[bytes], element: etree._Element, blobs: BlobStore) -> BlobRef | None:
    """Copy the bytes of ``element`` (parsed from ``source``) into ``blobs``."""
    source.seek(0)
    head = source.read(256)
    declared = _ENCODING.match(head)
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
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
    start_tag = buffer[:tag_end]
    declared_here = {(m.group(1) or b"").decode() for m in _DECL.finditer(start_tag)}
    used = {e.prefix for e in element.iter() if isinstance(e.tag, str)}
    used |= {etree.QName(a).namespace for e in element.iter() if isinstance(e.tag, str) for a in e.attrib}
    missing = [(p, uri) for p, uri in element.nsmap.items()
               if (p or "") not in declared_here and (p in used or uri in used)]
    if missing:
        additions = b"".join(
            (f' xmlns:{p}="{uri}"' if p else f' xmlns="{uri}"').encode("utf-8") for p, uri in missing)
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
