"""System.Xml lookups as .NET performs them, over lxml trees, for the e-CMS client-conformance suite.

The deployed e-Saraban clients (mil-doc in C#, BOI-DMS in VB.NET) read the node's answers with
``XmlDocument`` and ``XmlTextReader``. Their lookups match *qualified names*, case-sensitively,
and ignore namespace URIs (``GetElementsByTagName``, the ``Item(name)`` indexer,
``XmlTextReader.Name``) — or match only elements in *no namespace* (``SelectSingleNode`` without a
namespace manager). lxml's own lookups match by namespace URI, so they would hide exactly the bugs
these clients hit. A lookup that .NET answers with ``null``/``Nothing`` raises
:class:`NullReference` at the point where the client code would throw.
"""
from __future__ import annotations

from collections.abc import Iterator

from lxml import etree


class NullReference(AssertionError):
    """Where the client would throw NullReferenceException (or read past a node list)."""


def qualified_name(element: etree._Element) -> str:
    """``XmlElement.Name``: the prefix as written (lxml keeps it) and the local name."""
    local = etree.QName(element).localname
    return f"{element.prefix}:{local}" if element.prefix else local


class Doc:
    """``XmlDocument`` with ``PreserveWhitespace = false`` (whitespace-only text is no node)."""

    def __init__(self, data: bytes) -> None:
        # XmlDocument.LoadXml refuses what lxml refuses (not well-formed, undeclared prefixes).
        self.root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))

    def get_elements_by_tag_name(self, name: str) -> list[etree._Element]:
        return [e for e in self.root.iter() if isinstance(e.tag, str) and qualified_name(e) == name]

    def first(self, name: str, index: int = 0) -> etree._Element:
        """``GetElementsByTagName(name)[index]`` followed by a member access."""
        found = self.get_elements_by_tag_name(name)
        if index >= len(found):
            raise NullReference(f"GetElementsByTagName({name!r})[{index}] is null ({len(found)} found)")
        return found[index]


def item(node: etree._Element | None, name: str) -> etree._Element:
    """``node.Item(name)``: the first child element whose qualified name is ``name``."""
    if node is None:
        raise NullReference(f".Item({name!r}) on a null node")
    for child in node:
        if isinstance(child.tag, str) and qualified_name(child) == name:
            return child
    raise NullReference(f"{qualified_name(node)}.Item({name!r}) is Nothing")


def select_single_node(node: etree._Element | None, name: str) -> etree._Element:
    """``node.SelectSingleNode(name)`` with no XmlNamespaceManager: a child named ``name`` in no namespace."""
    if node is None:
        raise NullReference(f".SelectSingleNode({name!r}) on a null node")
    for child in node:
        if isinstance(child.tag, str) and child.tag == name:  # lxml: a no-namespace tag has no {uri}
            return child
    raise NullReference(f"{qualified_name(node)}.SelectSingleNode({name!r}) is Nothing")


def inner_text(node: etree._Element) -> str:
    return "".join(node.itertext())


def inner_xml(node: etree._Element) -> str:
    """``InnerXml`` of a text-only element: the text, escaped as XmlWriter writes it."""
    if len(node):
        raise AssertionError(f"{qualified_name(node)} has element children; the client reads it as text")
    return (node.text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def child_nodes(node: etree._Element) -> list[etree._Element | str]:
    """``ChildNodes``: elements, comments and (non-whitespace) text, in order."""
    nodes: list[etree._Element | str] = []
    if node.text and node.text.strip():
        nodes.append(node.text)
    for child in node:
        nodes.append(child)
        if child.tail and child.tail.strip():
            nodes.append(child.tail)
    return nodes


def child_node(node: etree._Element, index: int) -> etree._Element:
    nodes = child_nodes(node)
    if index >= len(nodes):
        raise NullReference(f"{qualified_name(node)}.ChildNodes[{index}] is null")
    found = nodes[index]
    if not isinstance(found, etree._Element) or not isinstance(found.tag, str):
        raise AssertionError(f"{qualified_name(node)}.ChildNodes[{index}] is not an element: {found!r}")
    return found


def next_sibling(node: etree._Element) -> etree._Element:
    """``NextSibling``: with whitespace dropped, the next node — which must be an element here."""
    if node.tail and node.tail.strip():
        raise AssertionError(f"text follows {qualified_name(node)}: {node.tail!r}")
    found = node.getnext()
    if found is None:
        raise NullReference(f"{qualified_name(node)}.NextSibling is null")
    return found


def attributes(node: etree._Element) -> list[tuple[str, str]]:
    """``Attributes`` in .NET order, where namespace declarations are attributes too.

    lxml does not keep the order of declarations and attributes in a start tag; .NET would
    count a declaration written before ``mimeCode`` as ``Attributes[0]``, so declarations made
    on this element are listed first (the order lxml — and most writers — use).
    """
    parent = node.getparent()
    inherited = parent.nsmap if parent is not None else {}
    declared = [(f"xmlns:{p}" if p else "xmlns", uri) for p, uri in node.nsmap.items() if inherited.get(p) != uri]
    return declared + [(etree.QName(k).localname, v) for k, v in node.attrib.items()]


def reader_names(data: bytes) -> Iterator[tuple[str, str, str]]:
    """``XmlTextReader``: (event, Name, ReadString() on a start tag) for every element, in document order."""
    def walk(element: etree._Element) -> Iterator[tuple[str, str, str]]:
        if not isinstance(element.tag, str):
            return
        yield "start", qualified_name(element), element.text or ""
        for child in element:
            yield from walk(child)
        yield "end", qualified_name(element), ""

    yield from walk(Doc(data).root)
