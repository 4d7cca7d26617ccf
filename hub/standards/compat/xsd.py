"""The compatibility gate for XSD standards (see :mod:`hub.standards.compat`), coarse and saying so.

Compared: the declared elements and attributes per owner (global element or named type),
their occurrence (``minOccurs``/``maxOccurs``, ``use``), declared types, enumerations and
facets. Type derivations and substitution groups are not analysed; every comparison starts
with an ``xsd_comparison_coarse`` change that tells the reader so.

:func:`xsd_model` (the declarations of a file set) also feeds the XSD documentation pages
(:mod:`hub.standards.docs`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from lxml import etree

from hub.standards.compat.change import Change
from hub.standards.safexml import parse_xml

XS = "{http://www.w3.org/2001/XMLSchema}"
FACETS = ("pattern", "minLength", "maxLength", "length", "minInclusive", "maxInclusive", "minExclusive",
          "maxExclusive", "totalDigits", "fractionDigits")


@dataclass
class XsdDecl:
    """A declared element or attribute, keyed ``Owner/Name`` (``Owner/@attr`` for attributes)."""

    key: str
    kind: str  # "element" | "attribute"
    min: int
    max: float
    type: str | None
    in_choice: bool
    doc_en: str = ""
    doc_th: str = ""


@dataclass
class XsdModel:
    decls: dict[str, XsdDecl] = field(default_factory=dict)
    owners: set[str] = field(default_factory=set)
    enums: dict[str, list[str]] = field(default_factory=dict)
    facets: dict[str, dict[str, str]] = field(default_factory=dict)
    type_docs: dict[str, tuple[str, str]] = field(default_factory=dict)


def _docs(node: etree._Element) -> tuple[str, str]:
    en = th = ""
    for doc in node.findall(f"{XS}annotation/{XS}documentation"):
        lang = doc.get("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text = " ".join("".join(doc.itertext()).split())
        if lang == "th":
            th = text
        else:
            en = text
    return en, th


def _max_occurs(value: str | None) -> float:
    if value is None:
        return 1
    return math.inf if value == "unbounded" else int(value)


def _collect(node: etree._Element, owner: str, model: XsdModel, in_choice: bool) -> None:
    for child in node:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        tag = child.tag.removeprefix(XS)
        if tag == "element":
            name = child.get("name") or child.get("ref", "?")
            key = f"{owner}/{name}"
            en, th = _docs(child)
            model.decls[key] = XsdDecl(key, "element", int(child.get("minOccurs", "1")),
                                       _max_occurs(child.get("maxOccurs")), child.get("type") or child.get("ref"),
                                       in_choice, en, th)
            model.owners.add(key)
            _collect(child, key, model, False)
        elif tag == "attribute":
            name = child.get("name") or child.get("ref", "?")
            key = f"{owner}/@{name}"
            en, th = _docs(child)
            required = child.get("use", "optional") == "required"
            model.decls[key] = XsdDecl(key, "attribute", 1 if required else 0, 1, child.get("type"), False, en, th)
            _collect(child, key, model, False)
        elif tag == "enumeration":
            model.enums.setdefault(owner, []).append(child.get("value", ""))
        elif tag in FACETS:
            facets = model.facets.setdefault(owner, {})
            value = child.get("value", "")
            facets[tag] = f"{facets[tag]} | {value}" if tag in facets else value
        elif tag in ("annotation", "import", "include"):
            continue
        else:  # sequence, choice, all, complexType, simpleType, restriction, extension, ...
            base = child.get("base")
            if base and tag in ("restriction", "extension"):
                model.facets.setdefault(owner, {})[f"{tag}.base"] = base
            _collect(child, owner, model, in_choice or tag == "choice")


def xsd_model(files: dict[str, str]) -> XsdModel:
    """Declarations of every schema file, keyed by global element / named type owner."""
    model = XsdModel()
    for text in files.values():
        root = parse_xml(text)
        # Global names are qualified with the prefix the file itself uses for its target
        # namespace (rsm:, ram:), so same-named types in two namespaces stay apart and
        # match how declarations refer to them (type="ram:TextType").
        tns = root.get("targetNamespace")
        prefix = next((p for p, uri in root.nsmap.items() if p and uri == tns), None)
        for child in root:
            if not isinstance(child.tag, str) or child.get("name") is None:
                continue
            tag = child.tag.removeprefix(XS)
            name = f"{prefix}:{child.get('name')}" if prefix else child.get("name")
            if tag == "element":
                owner = name
                en, th = _docs(child)
                model.decls[owner] = XsdDecl(owner, "element", 1, 1, child.get("type"), True, en, th)
            elif tag in ("complexType", "simpleType"):
                owner = f"type:{name}"
                model.type_docs[owner] = _docs(child)
            else:
                continue
            model.owners.add(owner)
            _collect(child, owner, model, False)
    return model


XSD_NOTE = ("XSD versions are compared coarsely: declared elements and attributes per global element or "
            "named type, their occurrence (minOccurs/maxOccurs, use), declared types, enumerations and facets; "
            "type derivations and substitution groups are not analysed.")


def compare_xsd(old_files: dict[str, str], new_files: dict[str, str]) -> list[Change]:
    old, new = xsd_model(old_files), xsd_model(new_files)
    changes = [Change("/", "xsd_comparison_coarse", False, XSD_NOTE)]
    for key, decl in old.decls.items():
        if key not in new.decls:
            changes.append(Change(key, f"{decl.kind}_removed", True, f"{decl.kind} {key} removed"))
            continue
        now = new.decls[key]
        if decl.kind == "element" and not decl.in_choice and now.min > decl.min:
            changes.append(Change(key, "required_added", True, f"minOccurs {decl.min} -> {now.min}"))
        if decl.kind == "attribute" and now.min > decl.min:
            changes.append(Change(key, "required_added", True, "attribute is now use=\"required\""))
        if now.max < decl.max:
            changes.append(Change(key, "max_occurs_decreased", True, f"maxOccurs {decl.max} -> {now.max}"))
        if now.type != decl.type:
            changes.append(Change(key, "type_changed", True,
                                  f"declared type {decl.type!r} -> {now.type!r} (types are not compared structurally)"))
        if now.min < decl.min or now.max > decl.max:
            changes.append(Change(key, "occurrence_relaxed", False, "occurrence relaxed"))
    for key, decl in new.decls.items():
        if key in old.decls:
            continue
        owner = key.rsplit("/", 1)[0] if "/" in key else None
        required = decl.min > 0 and not decl.in_choice
        if owner is not None and owner in old.owners and required:
            changes.append(Change(key, "required_added", True, f"required {decl.kind} {key} added"))
        else:
            changes.append(Change(key, f"{decl.kind}_added", False, f"{decl.kind} {key} added"))
    for owner in sorted(set(old.enums) | set(new.enums)):
        before, after = old.enums.get(owner), new.enums.get(owner)
        if after is None:
            if before is not None and owner in new.owners:
                changes.append(Change(owner, "enum_removed", False, "enumeration removed"))
            continue
        if before is None:
            if owner in old.owners:
                changes.append(Change(owner, "enum_added", True, f"values are now limited to {after}"))
            continue
        removed = [v for v in before if v not in after]
        if removed:
            changes.append(Change(owner, "enum_narrowed", True, f"enumeration value(s) {removed} removed"))
        added = [v for v in after if v not in before]
        if added:
            changes.append(Change(owner, "enum_widened", False, f"enumeration value(s) {added} added"))
    for owner in sorted(set(old.facets) & set(new.facets) | (set(new.facets) & old.owners)):
        before, after = old.facets.get(owner, {}), new.facets.get(owner, {})
        for facet in sorted(set(before) | set(after)):
            if before.get(facet) == after.get(facet):
                continue
            if facet not in after:
                changes.append(Change(owner, "facet_removed", False, f"{facet} {before[facet]!r} removed"))
            else:
                changes.append(Change(owner, "facet_changed", True,
                                      f"{facet} {before.get(facet)!r} -> {after[facet]!r} (facets are compared coarsely)"))
    return changes
