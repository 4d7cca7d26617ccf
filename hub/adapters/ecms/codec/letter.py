"""The e-CMS letter and notifiers: tolerant reading, canonical writing, validation.

Reading accepts what real clients send (DOMAIN.md §4): any namespace spelling (elements
are matched by local name), any letter case (``processID``), notifier children qualified
or not, a ``CorrespondenceLetter`` with or without its ``GovernmentDocument`` wrapper.
Writing is canonical: ``rsm:`` / ``ram:`` prefixes on the standard namespaces, as
``standards/th.ecms.letter/1.0.0`` defines them; a notifier is written unprefixed and in no
namespace, as deployed clients read it (validation uses the rsm-qualified form).

Tolerated deviations (issue 13; each is listed in ``Letter.deviations`` and recorded in the
message's history by the node): an all-empty ``ReferenceCorrespondence`` and an
``AttachmentBinaryObject mimeCode=""`` without content count as absent (mil-doc always sends
them); a ``MainLetterBinaryObject mimeCode=""`` without content means "no main document"
(BOI-DMS never fills it) and the letter is accepted without one; a date-only ``SendDate`` is
read as midnight of that day. The sender's document itself is relayed byte for byte
(``Letter.raw``), so none of this changes what the receiver gets.

Binary objects are never held here: each carries a blob reference (SHA-256 and size)
into the node's content-addressed store. Three renderings of a binary object:
``ref`` (the hub message payload: ``hubblob:sha256``/``hubblob:size`` attributes, empty
text), ``marker`` (a placeholder the SOAP writer replaces with streamed base64), ``empty``
(schema validation of everything else).
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

from hub.adapters.ecms.codec.blobs import BlobStore
from hub.adapters.ecms.codec.codes import SECRET_CODES, SPEED_CODES, EcmsFault
from hub.adapters.ecms.codec.soapstream import HUBBLOB, SHA_ATTR, SIZE_ATTR, localname

RAW_ATTR = f"{{{HUBBLOB}}}raw"
LETTER_ATTR = f"{{{HUBBLOB}}}letter"  # on a stored notifier: the letter's hub message id  # on a stored letter: the blob holding the sender's document bytes
from hub.standards.safexml import load_xsd, parse_xml

RSM = "urn:th:gov:egif:data:standard:GovernmentDocument:1.0"
RAM = "urn:th:gov:egif:data:standard:ReusableAggregateBusinessInformationEntity:1"
NSMAP = {"rsm": RSM, "ram": RAM}
NOTIFIER_KINDS = ("ReceiveLetterNotifier", "AcceptLetterNotifier", "RejectLetterNotifier",
                  "InvalidLetterNotifier", "InvalidAcceptIDNotifier")
NEEDS_ACCEPT_ID = {"AcceptLetterNotifier", "InvalidAcceptIDNotifier"}
LETTER_KIND = "GovernmentDocument"
LETTER_XSD = Path("th.ecms.letter") / "1.0.0" / "schema.xsd"  # inside the standards folder
MARKER = re.compile(rb"\{\{hub-blob:([0-9a-f]{64})\}\}")
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_MIME = re.compile(r"^[a-z]+/[A-Za-z0-9.+\-]+$")


# ------------------------------------------------------------------ tolerant navigation

# Tag -> its local name in lower case. A letter is read with some 80 scans of an element's
# children (send and poll alike), each child's name sliced and lowered anew: in a profile of
# the node the largest Python-level cost of reading a letter. Tags repeat from letter to
# letter, so each is worked out once; bounded, as the tags come from the senders.
_LOWER_LOCAL: dict[str, str] = {}
_LOWER_LOCAL_MAX = 4096


def _lower_local(tag: str) -> str:
    name = tag[tag.rfind("}") + 1:].lower()
    if len(_LOWER_LOCAL) < _LOWER_LOCAL_MAX:
        _LOWER_LOCAL[tag] = name
    return name


def kids(element: etree._Element, name: str) -> list[etree._Element]:
    wanted = name.lower()
    found = []
    known = _LOWER_LOCAL
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and (known.get(tag) or _lower_local(tag)) == wanted:
            found.append(child)
    return found


def kid(element: etree._Element | None, *path: str) -> etree._Element | None:
    for name in path:
        if element is None:
            return None
        found = kids(element, name)
        element = found[0] if found else None
    return element


def text(element: etree._Element | None, *path: str) -> str | None:
    found = kid(element, *path) if path else element
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return value or None


def required(element: etree._Element | None, where: str, *path: str) -> str:
    value = text(element, *path)
    if value is None:
        raise EcmsFault("E004", f"{where}/{'/'.join(path)} is missing or empty")
    return value


def check_date(value: str, where: str) -> str:
    match = _DATE.match(value)
    if not match:
        raise EcmsFault("E005", f"{where} {value!r} is not a date yyyy-MM-dd")
    year = int(match.group(1))
    if year > 2400:
        raise EcmsFault("E005", f"{where} {value!r} is a Buddhist-Era year; e-CMS dates are CE (BE - 543)")
    if not 1900 <= year <= 2099:
        raise EcmsFault("E005", f"{where} {value!r} is outside 1900-2099")
    return value


def check_code(value: str, codes: dict[str, str], where: str) -> str:
    if value not in codes:
        raise EcmsFault("E005", f"{where} {value!r} is not one of {', '.join(codes)}")
    return value


# ------------------------------------------------------------------ model

@dataclass
class Party:
    ministry_id: str
    department_id: str
    given_name: str | None = None
    family_name: str | None = None
    job_title: str | None = None


@dataclass
class Reference:
    id: str
    correspondence_date: str
    subject: str


@dataclass
class Binary:
    element: str  # MainLetterBinaryObject or AttachmentBinaryObject
    mime_code: str
    sha256: str
    size: int
    file_name: str | None = None


@dataclass
class Letter:
    id: str
    correspondence_date: str
    subject: str
    secret_code: str
    speed_code: str
    sender: Party
    receiver: Party
    main: Binary | None
    references: list[Reference] = field(default_factory=list)
    attachment_notes: list[str] = field(default_factory=list)
    send_date: str | None = None
    description: str | None = None
    attachments: list[Binary] = field(default_factory=list)
    # SHA-256 of the sender's rsm:GovernmentDocument bytes in the blob store, relayed verbatim.
    raw: str | None = None
    deviations: list[str] = field(default_factory=list)  # tolerated, not part of the payload

    kind = LETTER_KIND

    @property
    def binaries(self) -> list[Binary]:
        return [b for b in (self.main, *self.attachments) if b is not None]


@dataclass
class Notifier:
    kind: str
    letter_id: str
    correspondence_date: str
    subject: str | None = None
    accept_id: str | None = None
    # Added by the node when it queues the notifier (deployed clients read both).
    accept_date: str | None = None
    accept_department: str | None = None
    # The hub message id of the letter it is about (stored payload only, never sent to clients).
    letter_message_id: str | None = None


# ------------------------------------------------------------------ reading

def read_party(letter: etree._Element, name: str) -> Party:
    party = kid(letter, name)
    if party is None:
        raise EcmsFault("E004", f"CorrespondenceLetter/{name} is missing")
    where = f"CorrespondenceLetter/{name}"
    return Party(
        ministry_id=required(party, where, "MinistryOrganization", "ID"),
        department_id=required(party, where, "DepartmentOrganization", "ID"),
        given_name=text(party, "GivenName"),
        family_name=text(party, "FamilyName"),
        job_title=text(party, "JobTitle"),
    )


def _is_empty_binary(element: etree._Element) -> bool:
    """``<x mimeCode="">`` with no content: what clients send for "none"."""
    mime = (element.get("mimeCode") or element.get("MimeCode") or element.get("mimecode") or "").strip()
    if mime:
        return False
    size = element.get(SIZE_ATTR)
    return (int(size) == 0) if size is not None else not (element.text or "").strip()


def read_binary(element: etree._Element, blobs: BlobStore | None = None) -> Binary:
    name = localname(element.tag)
    mime = (element.get("mimeCode") or element.get("MimeCode") or element.get("mimecode") or "").strip()
    if not mime:
        raise EcmsFault("E004", f"{name}/@mimeCode is missing")
    if not _MIME.match(mime):
        raise EcmsFault("E005", f"{name}/@mimeCode {mime!r} is not a MIME type")
    sha, size = element.get(SHA_ATTR), element.get(SIZE_ATTR)
    if sha is None:
        # Parsed from a whole document (a zeep answer, a stored file): store inline base64.
        if blobs is None:
            raise EcmsFault("E004", f"{name} has no content")
        try:
            data = base64.b64decode("".join((element.text or "").split()), validate=True)
        except ValueError as exc:
            raise EcmsFault("E006", f"{name} is not valid base64: {exc}") from None
        ref = blobs.put(data)
        sha, size = ref.sha256, str(ref.size)
    if int(size or 0) == 0:
        raise EcmsFault("E004", f"{name} is empty")
    return Binary(localname(element.tag), mime, sha, int(size), element.get("fileName"))


def read_letter(document: etree._Element, blobs: BlobStore | None = None) -> Letter:
    """``document`` is a GovernmentDocument (or a bare CorrespondenceLetter)."""
    letter = document if localname(document.tag).lower() == "correspondenceletter" else kid(
        document, "CorrespondenceLetter")
    if letter is None:
        raise EcmsFault("E004", "GovernmentDocument/CorrespondenceLetter is missing")
    where = "CorrespondenceLetter"
    deviations: list[str] = []
    main = kid(letter, "MainLetterBinaryObject")
    if main is None:
        deviations.append("no main document: no MainLetterBinaryObject")
    elif _is_empty_binary(main):
        main = None
        deviations.append('no main document: MainLetterBinaryObject mimeCode="" without content')
    send_date = text(letter, "SendDate")
    if send_date is not None and _DATE.match(send_date):
        deviations.append(f"date-only SendDate {send_date!r} read as {send_date}T00:00:00")
        send_date = f"{send_date}T00:00:00"
    subject = required(letter, where, "Subject")
    if len(subject) > 1000:
        raise EcmsFault("E005", f"{where}/Subject is longer than 1000 characters")
    letter_id = required(letter, where, "ID")
    if len(letter_id) > 100:
        raise EcmsFault("E005", f"{where}/ID is longer than 100 characters")
    result = Letter(
        id=letter_id,
        correspondence_date=check_date(required(letter, where, "CorrespondenceDate"), f"{where}/CorrespondenceDate"),
        subject=subject,
        secret_code=check_code(required(letter, where, "SecretCode"), SECRET_CODES, f"{where}/SecretCode"),
        speed_code=check_code(required(letter, where, "SpeedCode"), SPEED_CODES, f"{where}/SpeedCode"),
        sender=read_party(letter, "SenderParty"),
        receiver=read_party(letter, "ReceiverParty"),
        main=read_binary(main, blobs) if main is not None else None,
        send_date=send_date,
        description=text(letter, "Description"),
        raw=document.get(RAW_ATTR),
        deviations=deviations,
    )
    for ref in kids(letter, "ReferenceCorrespondence"):
        rwhere = f"{where}/ReferenceCorrespondence"
        if all(text(ref, n) is None for n in ("ID", "CorrespondenceDate", "Subject")):
            deviations.append("an empty ReferenceCorrespondence counted as absent")
            continue
        result.references.append(Reference(
            required(ref, rwhere, "ID"),
            check_date(required(ref, rwhere, "CorrespondenceDate"), f"{rwhere}/CorrespondenceDate"),
            required(ref, rwhere, "Subject"),
        ))
    result.attachment_notes = [t for t in (text(a) for a in kids(letter, "Attachment")) if t]
    for element in kids(letter, "AttachmentBinaryObject"):
        if _is_empty_binary(element):
            deviations.append('an AttachmentBinaryObject mimeCode="" without content counted as absent')
        else:
            result.attachments.append(read_binary(element, blobs))
    return result


def read_notifier(element: etree._Element) -> Notifier:
    kind = next((k for k in NOTIFIER_KINDS if k.lower() == localname(element.tag).lower()), None)
    if kind is None:
        raise EcmsFault("E003", f"{localname(element.tag)} is not a letter or notifier")
    notifier = Notifier(
        kind=kind,
        letter_id=required(element, kind, "LetterID"),
        correspondence_date=check_date(required(element, kind, "CorrespondenceDate"), f"{kind}/CorrespondenceDate"),
        subject=text(element, "Subject"),
        accept_id=text(element, "AcceptID"),
        accept_date=text(element, "AcceptDate"),
        accept_department=text(element, "AcceptDepartment", "Code"),
        letter_message_id=element.get(LETTER_ATTR),
    )
    if kind in NEEDS_ACCEPT_ID and notifier.accept_id is None:
        raise EcmsFault("E004", f"{kind}/AcceptID is missing or empty")
    return notifier


def read_item(element: etree._Element, blobs: BlobStore | None = None) -> Letter | Notifier:
    name = localname(element.tag).lower()
    if name in ("governmentdocument", "correspondenceletter"):
        return read_letter(element, blobs)
    return read_notifier(element)


def parse_payload(payload: bytes) -> Letter | Notifier:
    """A stored hub message payload (canonical XML with blob references)."""
    return read_item(parse_xml(payload))


# ------------------------------------------------------------------ writing

def _sub(parent: etree._Element, name: str, value: str | None, ns: str | None = RAM) -> etree._Element | None:
    if value is None:
        return None
    child = etree.SubElement(parent, f"{{{ns}}}{name}" if ns else name)
    child.text = value
    return child


def _party(parent: etree._Element, name: str, party: Party, complete: bool = False) -> None:
    element = etree.SubElement(parent, f"{{{RAM}}}{name}")
    blank = "" if complete else None
    _sub(element, "GivenName", party.given_name or blank)
    _sub(element, "FamilyName", party.family_name or blank)
    _sub(element, "JobTitle", party.job_title or blank)
    _sub(etree.SubElement(element, f"{{{RAM}}}MinistryOrganization"), "ID", party.ministry_id)
    _sub(etree.SubElement(element, f"{{{RAM}}}DepartmentOrganization"), "ID", party.department_id)


def _binary(parent: etree._Element, binary: Binary, mode: str) -> None:
    element = etree.SubElement(parent, f"{{{RAM}}}{binary.element}", mimeCode=binary.mime_code)
    if binary.file_name:
        element.set("fileName", binary.file_name)
    if mode == "ref":
        element.set(SHA_ATTR, binary.sha256)
        element.set(SIZE_ATTR, str(binary.size))
    elif mode == "marker":
        element.text = "{{hub-blob:%s}}" % binary.sha256


def letter_element(letter: Letter, mode: str = "ref", *, complete: bool = False) -> etree._Element:
    """``complete``: every element deployed receivers read by name or position is written,
    empty when there is no value (both parties' names and job titles, ``Attachment``,
    ``SendDate``, ``Description``): BOI-DMS throws on a missing one, mil-doc reads
    ``ram:GivenName[1]`` for the receiver. That is the form the hub sends on the wire; the
    stored and validated forms omit empty elements (th.ecms.letter's TextType is not empty)."""
    nsmap = dict(NSMAP, hubblob=HUBBLOB) if mode == "ref" else dict(NSMAP)
    root = etree.Element(f"{{{RSM}}}GovernmentDocument", nsmap=nsmap)
    if mode == "ref" and letter.raw:
        root.set(RAW_ATTR, letter.raw)
    body = etree.SubElement(root, f"{{{RAM}}}CorrespondenceLetter")
    if complete:
        body.set("ID", "Letter")  # what deployed clients write; a signature's Reference URI="#Letter"
    for name, value in (("ID", letter.id), ("CorrespondenceDate", letter.correspondence_date),
                        ("Subject", letter.subject), ("SecretCode", letter.secret_code),
                        ("SpeedCode", letter.speed_code)):
        _sub(body, name, value)
    _party(body, "SenderParty", letter.sender, complete)
    _party(body, "ReceiverParty", letter.receiver, complete)
    for ref in letter.references:
        element = etree.SubElement(body, f"{{{RAM}}}ReferenceCorrespondence")
        _sub(element, "ID", ref.id)
        _sub(element, "CorrespondenceDate", ref.correspondence_date)
        _sub(element, "Subject", ref.subject)
    blank = "" if complete else None
    for note in letter.attachment_notes or ([""] if complete else []):
        _sub(body, "Attachment", note)
    _sub(body, "SendDate", letter.send_date or blank)
    _sub(body, "Description", letter.description or blank)
    for binary in letter.binaries:
        _binary(body, binary, mode)
    return root


def notifier_element(notifier: Notifier, *, qualified: bool = False, mode: str = "marker") -> etree._Element:
    """Unprefixed, in no namespace (what deployed clients read); ``qualified`` gives the
    rsm-namespaced root th.ecms.letter validates, without the node's additions."""
    root = (etree.Element(f"{{{RSM}}}{notifier.kind}", nsmap={"rsm": RSM}) if qualified
            else etree.Element(notifier.kind, nsmap={"hubblob": HUBBLOB} if mode == "ref" else None))
    if mode == "ref" and notifier.letter_message_id and not qualified:
        root.set(LETTER_ATTR, notifier.letter_message_id)
    _sub(root, "LetterID", notifier.letter_id, ns=None)
    if notifier.accept_id is not None and notifier.kind in NEEDS_ACCEPT_ID:
        _sub(root, "AcceptID", notifier.accept_id, ns=None)
    _sub(root, "CorrespondenceDate", notifier.correspondence_date, ns=None)
    _sub(root, "Subject", notifier.subject, ns=None)
    if qualified:
        # th.ecms.letter's order: LetterID, CorrespondenceDate, Subject, AcceptID.
        accept = root.find("AcceptID")
        if accept is not None:
            root.remove(accept)
            root.append(accept)
        return root
    _sub(root, "AcceptDate", notifier.accept_date, ns=None)
    if notifier.accept_department is not None:
        _sub(etree.SubElement(root, "AcceptDepartment"), "Code", notifier.accept_department, ns=None)
    return root


def item_element(item: Letter | Notifier, mode: str = "ref") -> etree._Element:
    return letter_element(item, mode) if isinstance(item, Letter) else notifier_element(item, mode=mode)


def to_payload(item: Letter | Notifier) -> bytes:
    return etree.tostring(item_element(item, "ref"), xml_declaration=True, encoding="UTF-8")


@cache
def letter_schema(standards_dir: Path) -> etree.XMLSchema:
    """th.ecms.letter 1.0.0 from ``standards_dir`` (``Settings.standards_dir``)."""
    return load_xsd(standards_dir / LETTER_XSD)


def validate(item: Letter | Notifier, standards_dir: Path) -> None:
    """Check the canonical form against th.ecms.letter 1.0.0 (rules the reader does not cover)."""
    if isinstance(item, Letter):
        element = item_element(item, "empty")
        for binary in element.iter(f"{{{RAM}}}MainLetterBinaryObject", f"{{{RAM}}}AttachmentBinaryObject"):
            binary.text = "AA=="  # stands for the stored bytes; they were checked while decoding
    else:
        element = notifier_element(item, qualified=True)
    schema = letter_schema(standards_dir)
    if not schema.validate(element):
        error = schema.error_log[0]
        raise EcmsFault("E005", f"the {item.kind} breaks th.ecms.letter 1.0.0: {error.message}")


def inline_base64(item: Letter | Notifier, blobs: BlobStore) -> etree._Element:
    """The item with its binary objects' base64 inline (for clients building a whole document)."""
    element = letter_element(item, "empty", complete=True) if isinstance(item, Letter) else item_element(item, "empty")
    if isinstance(item, Letter):
        nodes = list(element.iter(f"{{{RAM}}}MainLetterBinaryObject", f"{{{RAM}}}AttachmentBinaryObject"))
        for node, binary in zip(nodes, item.binaries, strict=True):
            node.text = base64.b64encode(blobs.read(binary.sha256)).decode("ascii")
    return element
