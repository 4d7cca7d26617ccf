"""The one safe way to parse XML anywhere in the hub.

XML arrives from other agencies' e-CMS / e-Saraban clients, SOAP callers and legacy
exports; none of it is trusted. Every module that needs an element tree from
outside input calls :func:`parse_xml` instead of ``lxml.etree.fromstring``.

Features
--------
* Refuses any document type declaration (``<!DOCTYPE``), and so every entity
  declaration: billion laughs, quadratic blowup, XXE to local files or URLs and
  external DTDs are all rejected *before* libxml2 reads the declaration. No hub
  standard uses a DTD, so refusing them costs nothing legitimate.
* The parser itself is configured so that even a declaration that slipped past
  the check could do no harm: ``resolve_entities=False``, ``no_network=True``,
  ``load_dtd=False``, ``dtd_validation=False``, ``huge_tree=False``; after parsing,
  the document's ``docinfo`` is checked again for any DTD.
* Size (bytes), nesting depth and per-element attribute-count limits, checked while
  parsing so a hostile document is abandoned at the first element over the limit.
* Errors: :class:`UnsafeXmlError` (``.reason`` is one of the ``REASON_*``
  constants) for refused input, :class:`XmlSyntaxError` (``.line``, ``.column``)
  for malformed input. Both are ``ValueError`` subclasses.
* :func:`load_xsd` builds an ``lxml.etree.XMLSchema`` from a schema file and the
  files it imports, each read through the same checks and confined to the
  schema's folder.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from lxml import etree

__all__ = [
    "DEFAULT_MAX_ATTRIBUTES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "REASON_DOCTYPE",
    "REASON_ENTITY",
    "REASON_PARSER_LIMIT",
    "REASON_SCHEMA_LOCATION",
    "REASON_TOO_DEEP",
    "REASON_TOO_LARGE",
    "REASON_TOO_MANY_ATTRIBUTES",
    "UnsafeXmlError",
    "XmlError",
    "XmlSyntaxError",
    "load_xsd",
    "parse_xml",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
"""10 MiB: an e-CMS letter with base64 attachments is typically well under this."""

DEFAULT_MAX_DEPTH = 128
"""A SOAP envelope around a GovernmentDocument is under 15 levels deep."""

DEFAULT_MAX_ATTRIBUTES = 64
"""Per element. Real documents carry a handful (mimeCode, namespace-qualified ids)."""

# libxml2's own nesting limit without XML_PARSE_HUGE; a larger max_depth cannot be
# honoured, and hitting it is reported as too deep rather than as a syntax error.
_LIBXML2_MAX_DEPTH = 256

REASON_TOO_LARGE = "too_large"
REASON_DOCTYPE = "doctype"
REASON_ENTITY = "entity_declaration"
REASON_TOO_DEEP = "too_deep"
REASON_TOO_MANY_ATTRIBUTES = "too_many_attributes"
REASON_PARSER_LIMIT = "parser_limit"
REASON_SCHEMA_LOCATION = "schema_location"


class XmlError(ValueError):
    """Base of the errors :func:`parse_xml` raises."""


class UnsafeXmlError(XmlError):
    """The input was refused for safety; ``reason`` names the rule (``REASON_*``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class XmlSyntaxError(XmlError):
    """The input is not well-formed XML; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, *, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml\b[^>]*\?>")
_LXML_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")


def _as_bytes(data: bytes | bytearray | memoryview | str, max_bytes: int) -> bytes:
    if isinstance(data, str):
        # A str is already decoded, so its declaration's encoding= is stale (and lxml
        # refuses str input that has one); drop it and parse the UTF-8 bytes.
        if len(data) > max_bytes:
            raise _too_large(len(data), max_bytes, unit="characters")
        raw = _XML_DECLARATION.sub("", data, count=1).encode("utf-8")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise TypeError(f"parse_xml needs bytes or str, got {type(data).__name__}")
    if len(raw) > max_bytes:
        raise _too_large(len(raw), max_bytes)
    if not raw.strip():
        raise XmlSyntaxError("XML document is empty", line=1, column=1)
    return raw


def _too_large(size: int, max_bytes: int, unit: str = "bytes") -> UnsafeXmlError:
    return UnsafeXmlError(
        REASON_TOO_LARGE, f"XML document is {size} {unit}, over the limit of {max_bytes} bytes"
    )


def _check_prolog(raw: bytes) -> None:
    """Refuse a DOCTYPE or ENTITY declaration before libxml2 sees it.

    A DTD may only appear in the prolog (before the root element), so only the
    prolog is scanned; the same text inside the body (e.g. in CDATA) is content.
    """
    view = raw
    if b"\x00" in raw[:4]:
        # UTF-16/UTF-32: markup characters are ASCII padded with NULs; dropping the
        # NULs makes them visible to the byte scan below.
        view = raw.replace(b"\x00", b"")
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if view.startswith(bom):
            view = view[len(bom) :]
            break
    pos = 0
    length = len(view)
    while pos < length:
        while pos < length and view[pos] in b" \t\r\n":
            pos += 1
        if view.startswith(b"<?", pos):
            end = view.find(b"?>", pos + 2)
            if end < 0:
                return  # unterminated: the parser reports it with a position
            pos = end + 2
        elif view.startswith(b"<!--", pos):
            end = view.find(b"-->", pos + 4)
            if end < 0:
                return
            pos = end + 3
        elif view.startswith(b"<!", pos):
            keyword = view[pos + 2 : pos + 9].upper()
            if keyword.startswith(b"DOCTYPE"):
                raise UnsafeXmlError(
                    REASON_DOCTYPE,
                    "XML with a document type declaration (<!DOCTYPE>) is refused: "
                    "DTDs and entity declarations are not allowed in hub messages",
                )
            if keyword.startswith(b"ENTITY"):
                raise UnsafeXmlError(
                    REASON_ENTITY, "XML with an entity declaration (<!ENTITY>) is refused"
                )
            return
        else:
            return


def _parser_limit_or_syntax(exc: etree.XMLSyntaxError, max_depth: int) -> XmlError:
    line, column = exc.position if exc.position else (exc.lineno, None)
    text = _LXML_POSITION_SUFFIX.sub("", exc.msg or str(exc))
    if "Excessive depth" in text:
        return UnsafeXmlError(
            REASON_TOO_DEEP,
            f"XML nesting at line {line} exceeds the parser's hard limit of "
            f"{_LIBXML2_MAX_DEPTH} levels (configured max_depth={max_depth})",
        )
    lowered = text.lower()
    if "entity" in lowered and ("loop" in lowered or "amplification" in lowered):
        return UnsafeXmlError(REASON_ENTITY, f"XML entity expansion refused at line {line}: {text}")
    if "huge" in lowered:
        return UnsafeXmlError(REASON_PARSER_LIMIT, f"XML exceeds a parser safety limit at line {line}: {text}")
    return XmlSyntaxError(f"XML syntax error at line {line}, column {column}: {text}", line=line, column=column)


def _precise_error(raw: bytes, exc: etree.XMLSyntaxError, max_depth: int) -> XmlError:
    """Turn an iterparse failure into an error with the real message and position.

    iterparse reports most well-formedness errors as "no element found" at line 0;
    one plain parse of the same (size-capped, DTD-free) bytes recovers libxml2's
    actual message and position.
    """
    try:
        etree.fromstring(raw, etree.XMLParser(**_hardened_kwargs()))
    except etree.XMLSyntaxError as precise:
        return _parser_limit_or_syntax(precise, max_depth)
    return _parser_limit_or_syntax(exc, max_depth)


def _hardened_kwargs() -> dict[str, bool]:
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
        "attribute_defaults": False,
    }


def parse_xml(
    data: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_attributes: int = DEFAULT_MAX_ATTRIBUTES,
) -> etree._Element:
    """Parse untrusted XML and return its root element.

    Raises :class:`UnsafeXmlError` for a DOCTYPE / entity declaration, input over
    ``max_bytes``, nesting deeper than ``max_depth`` elements (the root is depth 1)
    or an element with more than ``max_attributes`` attributes; raises
    :class:`XmlSyntaxError` with the line and column for malformed input.
    Source line numbers are kept on the elements (``element.sourceline``), so a
    later schema validation can point at the offending line.
    """
    raw = _as_bytes(data, max_bytes)
    _check_prolog(raw)

    depth = 0
    context = etree.iterparse(io.BytesIO(raw), events=("start", "end"), **_hardened_kwargs())
    try:
        for event, element in context:
            if event == "end":
                depth -= 1
                continue
            depth += 1
            if depth > max_depth:
                raise UnsafeXmlError(
                    REASON_TOO_DEEP,
                    f"XML nesting exceeds max_depth={max_depth} at line {element.sourceline} "
                    f"(element {element.tag!r})",
                )
            if len(element.attrib) > max_attributes:
                raise UnsafeXmlError(
                    REASON_TOO_MANY_ATTRIBUTES,
                    f"element {element.tag!r} at line {element.sourceline} has "
                    f"{len(element.attrib)} attributes, over max_attributes={max_attributes}",
                )
    except etree.XMLSyntaxError as exc:
        raise _precise_error(raw, exc, max_depth) from None

    root = context.root
    if root is None:
        raise XmlSyntaxError("XML document has no root element", line=1, column=1)
    docinfo = root.getroottree().docinfo
    # Backstop for encodings the prolog scan cannot read (e.g. EBCDIC): the parser
    # did not act on the DTD, but a document that carried one is still refused.
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        raise UnsafeXmlError(
            REASON_DOCTYPE, "XML with a document type declaration (<!DOCTYPE>) is refused"
        )
    return root


_XSD_NS = "http://www.w3.org/2001/XMLSchema"
_SCHEMA_REFERENCES = (f"{{{_XSD_NS}}}import", f"{{{_XSD_NS}}}include", f"{{{_XSD_NS}}}redefine", f"{{{_XSD_NS}}}override")


def _check_schema_file(path: Path, folder: Path, seen: set[Path], max_bytes: int) -> None:
    if path in seen:
        return
    seen.add(path)
    root = parse_xml(path.read_bytes(), max_bytes=max_bytes)
    for ref in root.iter(*_SCHEMA_REFERENCES):
        location = ref.get("schemaLocation")
        if location is None:
            continue
        if "://" in location or location.startswith(("/", "\\")) or ":" in location.split("/")[0]:
            raise UnsafeXmlError(
                REASON_SCHEMA_LOCATION,
                f"{path.name} line {ref.sourceline}: schemaLocation {location!r} must be a "
                "relative path inside the schema folder",
            )
        target = (path.parent / location).resolve()
        if not target.is_relative_to(folder):
            raise UnsafeXmlError(
                REASON_SCHEMA_LOCATION,
                f"{path.name} line {ref.sourceline}: schemaLocation {location!r} leaves the "
                f"schema folder {folder}",
            )
        if not target.is_file():
            raise FileNotFoundError(f"{path.name} line {ref.sourceline}: schemaLocation {location!r} not found at {target}")
        _check_schema_file(target, folder, seen, max_bytes)


def load_xsd(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree.XMLSchema:
    """Build an ``XMLSchema`` from ``path`` and the files it imports or includes.

    Every file is first read through :func:`parse_xml`, and every ``schemaLocation``
    must be a relative path that stays inside ``path``'s folder, so a schema cannot
    pull in a URL or a file elsewhere on the host.
    """
    schema_path = Path(path).resolve()
    folder = schema_path.parent
    _check_schema_file(schema_path, folder, set(), max_bytes)
    # Parsing from the file name gives the tree a base URL, which libxml2 needs to
    # resolve the (already vetted) relative imports.
    parser = etree.XMLParser(**_hardened_kwargs())
    tree = etree.parse(str(schema_path), parser)
    try:
        return etree.XMLSchema(tree)
    except etree.XMLSchemaParseError as exc:
        raise XmlError(f"{schema_path.name} is not a valid XML Schema: {exc}") from None
