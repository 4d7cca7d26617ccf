"""Client conformance: two deployed e-Saraban clients complete every e-CMS exchange with the hub.

The request bytes are those the clients' own code builds (tests/fixtures/ecms_clients/, with the
HTTP headers each sends in headers.json), reconstructed from reading the public repositories
NatchaphonBounprakong/mil-doc (C#, "M", department 0401) and ScoreSolutions/BOI-DMS (VB.NET,
"B", department 0402). The answers are read the way their code reads them
(tests/support/dotnet_xml.py: qualified-name and no-namespace lookups, case-sensitive); each
function below names the client routine it re-expresses. Every exchange runs on the normal
listener (with HTTP Basic added — the only byte the suite adds; the clients send no credentials)
and on the address allow-list listener (no credentials at all).
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.adapters.ecms.node.allowlist import AddressAllowList
from hub.api.allowlist import AllowListListener
from hub.bootstrap import build_hub
from tests.conftest import fast_settings
from tests.support import dotnet_xml as net
from tests.support.ecms import register_departments, serving
from tests.support.waiting import wait_for

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ecms_clients"
PUBLIC_PATH = "/ecms-ws01/service2"
PLACEHOLDER_PID = "3f6d2a9e-5b1c-4d7e-9a02-6c8e1f4b7d21"
M, B = "mil-doc", "boi-dms"
DEPARTMENT = {M: "0401", B: "0402"}
SOURCE = {M: "127.0.0.1", B: "127.0.0.4"}
ALLOWLIST = {"127.0.0.1/32": "0401", "127.0.0.4/30": "0402"}
# Letter A (M -> B) and letter B (B -> M), as in the fixtures.
LETTER_A = ("กค 0401/123", "2024-10-15", "ขอเชิญประชุมคณะทำงานพัฒนาระบบสารบรรณอิเล็กทรอนิกส์")
LETTER_B = ("กค 0402/456", "2024-10-16", "ขอส่งรายงานผลการดำเนินงานประจำไตรมาสที่ 4")


def fixture(client: str, name: str, process_id: str | None = None) -> bytes:
    data = (FIXTURES / client / name).read_bytes()
    return data.replace(PLACEHOLDER_PID.encode(), process_id.encode()) if process_id else data


def government_document(data: bytes) -> bytes:
    """The rsm:GovernmentDocument element exactly as its bytes stand in a message."""
    match = re.search(rb"<rsm:GovernmentDocument[ >].*</rsm:GovernmentDocument>", data, re.S)
    assert match, "no rsm:GovernmentDocument"
    return match.group(0)


@dataclass
class Wire:
    mode: str
    base: str  # scheme://host:port of the listener used

    def post(self, client: str, body: bytes) -> bytes:
        headers = dict(json.loads((FIXTURES / client / "headers.json").read_text())["headers"])
        if self.mode == "basic":
            code = DEPARTMENT[client]
            headers["Authorization"] = "Basic " + base64.b64encode(f"{code}:secret-{code}".encode()).decode()
            transport = httpx.HTTPTransport()
        else:
            transport = httpx.HTTPTransport(local_address=SOURCE[client])
        with httpx.Client(transport=transport, timeout=30) as http:
            response = http.post(self.base + PUBLIC_PATH, content=body, headers=headers)
        # Both clients' HttpWebRequest throws on any other status and never reads the body.
        assert response.status_code == 200, (response.status_code, response.text[:500])
        return response.content

    def send(self, client: str, name: str, process_id: str | None = None) -> bytes:
        return self.post(client, fixture(client, name, process_id))


@pytest.fixture(scope="module", params=["basic", "allowlist"])
def wire(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Wire, Any]]:
    hub = build_hub(fast_settings(tmp_path_factory.mktemp(f"ecms-clients-{request.param}") / "data"))
    register_departments(hub)
    listener = AllowListListener(hub, AddressAllowList.build(ALLOWLIST, hub.ecms.store),
                                 host="127.0.0.1", port=0, log_level="warning").start()
    try:
        with serving(hub) as url:
            main = url.rsplit("/ecms/", 1)[0]
            allow = listener.url.rsplit("/ecms/", 1)[0]
            yield Wire(request.param, main if request.param == "basic" else allow), hub
    finally:
        listener.stop()
        hub.close()


# ------------------------------------------------------------------ mil-doc's parse steps

def m_error(doc: net.Doc) -> tuple[str, str] | None:
    """Every mil-doc action: ErrorDetail's first two child nodes (APIController.cs:123-143)."""
    found = doc.get_elements_by_tag_name("ErrorDetail")
    if not found:
        return None
    return (net.inner_xml(net.child_node(found[0], 0)), net.inner_xml(net.child_node(found[0], 1)))


def m_send(answer: bytes) -> str:
    """RequestSendDocument / notifier sends: no ErrorDetail, then ProcessID[0] (APIController.cs:146)."""
    doc = net.Doc(answer)
    assert m_error(doc) is None, m_error(doc)
    process_id = net.inner_xml(doc.first("ProcessID"))
    assert process_id.strip(), "mil-doc stores an empty ProcessID: the item never counts as sent"
    return process_id


def m_letter_poll(answer: bytes) -> dict[str, Any] | None:
    """RequestReceiveDocument (APIController.cs:167-409): the letter poller."""
    doc = net.Doc(answer)
    assert m_error(doc) is None, m_error(doc)
    if doc.get_elements_by_tag_name("InvalidAcceptIDNotifier"):
        return {"kind": "InvalidAcceptIDNotifier", "ProcessID": net.inner_xml(doc.first("ProcessID")),
                "LetterID": net.inner_xml(doc.first("LetterID")),
                "CorrespondenceDate": net.inner_xml(doc.first("CorrespondenceDate")),
                "Subject": net.inner_xml(doc.first("Subject")), "Code": net.inner_xml(doc.first("Code"))}
    if not doc.get_elements_by_tag_name("rsm:GovernmentDocument"):
        return None
    out: dict[str, Any] = {"kind": "GovernmentDocument", "ProcessID": net.inner_xml(doc.first("ProcessID"))}
    for name in ("ram:ID", "ram:CorrespondenceDate", "ram:Subject", "ram:SecretCode", "ram:SpeedCode"):
        out[name] = net.inner_xml(doc.first(name))
    for name in ("ram:GivenName", "ram:FamilyName", "ram:JobTitle"):
        if doc.get_elements_by_tag_name(name):
            out[name] = (net.inner_xml(doc.first(name, 0)), net.inner_xml(doc.first(name, 1)))
    out["departments"] = tuple(net.inner_xml(net.child_node(doc.first("ram:DepartmentOrganization", i), 0))
                               for i in (0, 1))
    out["references"] = []
    for ref in doc.get_elements_by_tag_name("ram:ReferenceCorrespondence"):
        values = tuple(net.inner_xml(net.child_node(ref, i)) for i in (0, 1, 2))
        if any(values):
            out["references"].append(values)
    doc.get_elements_by_tag_name("ram:Attachment")
    doc.get_elements_by_tag_name("ram:SendDate")
    main = doc.first("ram:MainLetterBinaryObject")
    attrs = net.attributes(main)
    if not attrs:
        raise net.NullReference("MainLetterBinaryObject.Attributes[0]")
    out["main"] = (attrs[0][1], base64.b64decode(net.inner_xml(main).strip()))
    out["attachments"] = []
    for element in doc.get_elements_by_tag_name("ram:AttachmentBinaryObject"):
        data = base64.b64decode(net.inner_xml(element).strip())
        if data:
            out["attachments"].append((net.attributes(element)[0][1], data))
    return out


def m_notifier_poll(answer: bytes) -> dict[str, Any] | None:
    """RequestReceiveNotifierDocument (APIController.cs:768-1041): classify, then read [0]s."""
    doc = net.Doc(answer)
    assert m_error(doc) is None, m_error(doc)
    if not doc.get_elements_by_tag_name("ProcessID"):
        return None
    if doc.get_elements_by_tag_name("InvalidAcceptIdNotifier"):  # sic: never matches (SPEC §2.3.2b)
        kind = "InvalidAcceptId"
    elif doc.get_elements_by_tag_name("AcceptID"):
        kind = "Accept"
    elif doc.get_elements_by_tag_name("RejectLetterNotifier"):
        kind = "Reject"
    elif doc.get_elements_by_tag_name("InvalidLetterNotifier"):
        kind = "Invalid"
    else:
        kind = "Receive"
    out = {"kind": kind, "ProcessID": net.inner_xml(doc.first("ProcessID")),
           "LetterID": net.inner_xml(doc.first("LetterID")),
           "CorrespondenceDate": net.inner_xml(doc.first("CorrespondenceDate")),
           "Subject": net.inner_xml(doc.first("Subject")), "Code": net.inner_xml(doc.first("Code"))}
    if kind == "Accept":
        out["AcceptID"] = net.inner_xml(doc.first("AcceptID"))
    return out


# ------------------------------------------------------------------ BOI-DMS's parse steps

def b_send_letter(answer: bytes) -> tuple[str, str]:
    """RTL:358-374: XmlTextReader to the response root, then ProcessID / ProcessTime by Name."""
    seen_root, process_id, process_time = False, "", ""
    for event, name, value in net.reader_names(answer):
        if event != "start":
            continue
        if name == "CorrespondenceLetterOutboundResponse":
            seen_root = True
        elif seen_root and name == "ProcessID":
            process_id = value
        elif seen_root and name == "ProcessTime":
            process_time = value
    assert process_id != "", "THeGIFENG.vb:302 treats the letter as not sent"
    return process_id, process_time


def b_root(doc: net.Doc, name: str) -> Any:
    return doc.first(name)


def b_letter_poll(answer: bytes, *, signature: bool = True) -> dict[str, Any] | None:
    """BuildCorrespondenceLetterInboundRequest (RTL:79-152)."""
    doc = net.Doc(answer)
    root = b_root(doc, "CorrespondenceLetterInboundResponse")
    if len(root) == 0 and not (root.text or "").strip():
        return None
    out: dict[str, Any] = {"ProcessID": net.inner_text(net.select_single_node(root, "ProcessID")),
                           "ProcessTime": net.inner_text(net.select_single_node(root, "ProcessTime"))}
    letter = doc.first("ram:CorrespondenceLetter")
    for name in ("ram:ID", "ram:CorrespondenceDate", "ram:Subject", "ram:SecretCode", "ram:SpeedCode"):
        out[name] = net.inner_text(net.item(letter, name))
    for party in ("ram:SenderParty", "ram:ReceiverParty"):
        element = net.item(letter, party)
        out[party] = tuple(net.inner_text(net.item(element, n)) for n in ("ram:GivenName", "ram:FamilyName", "ram:JobTitle")) + (
            net.inner_text(net.item(net.item(element, "ram:MinistryOrganization"), "ram:ID")),
            net.inner_text(net.item(net.item(element, "ram:DepartmentOrganization"), "ram:ID")))
    out["references"] = [tuple(net.inner_text(net.item(r, n)) for n in ("ram:ID", "ram:CorrespondenceDate", "ram:Subject"))
                         for r in doc.get_elements_by_tag_name("ram:ReferenceCorrespondence")]
    for name in ("ram:Attachment", "ram:SendDate", "ram:Description"):
        out[name] = net.inner_text(net.item(letter, name))
    main = net.item(letter, "ram:MainLetterBinaryObject")
    if "mimeCode" not in main.attrib:
        raise net.NullReference("MainLetterBinaryObject.Attributes(\"mimeCode\")")
    out["main"] = (main.get("mimeCode"), net.inner_text(main))
    out["attachments"] = [(a.attrib["mimeCode"], net.inner_text(a))
                          for a in doc.get_elements_by_tag_name("ram:AttachmentBinaryObject")]
    if signature:
        sig = doc.first("ram:GovernmentSignature")
        out["TypeCode"] = net.inner_text(net.item(sig, "ram:TypeCode"))
        signer = net.item(sig, "ram:SignerParty")
        out["signer"] = tuple(net.inner_text(net.item(signer, n)) for n in (
            "ram:GivenName", "ram:FamilyName", "ram:Title", "ram:MinistryCode", "ram:DepartmentCode"))
        ds = net.item(sig, "ds:Signature")
        reference = net.item(net.item(ds, "ds:SignedInfo"), "ds:Reference")
        out["ds"] = (reference.attrib["URI"], net.inner_text(net.item(reference, "ds:DigestValue")),
                     net.inner_text(net.item(ds, "ds:SignatureValue")),
                     net.inner_text(net.item(net.item(net.item(ds, "ds:KeyInfo"), "ds:X509Data"), "ds:X509SubjectName")),
                     net.inner_text(net.item(net.item(net.item(ds, "ds:KeyInfo"), "ds:X509Data"), "ds:X509Certificate")))
    return out


def b_delete(answer: bytes) -> tuple[str, str]:
    """RTL:183-185 and THeGIFENG.vb:87: ProcessID non-empty, ProcessTime present."""
    root = b_root(net.Doc(answer), "CorrespondenceLetterDeleteResponse")
    process_id = net.inner_text(net.select_single_node(root, "ProcessID"))
    process_time = net.inner_text(net.select_single_node(root, "ProcessTime"))
    assert process_id.strip(), "GetNewInbound rolls the inbound letter back"
    return process_id, process_time


FIVE = ("LetterID", "CorrespondenceDate", "Subject", "AcceptDate")


def b_notifier_fields(notifier: Any, kind: str) -> dict[str, str]:
    out = {n: net.inner_text(net.item(notifier, n)) for n in FIVE}
    if kind == "AcceptLetterNotifier":
        out["AcceptID"] = net.inner_text(net.item(notifier, "AcceptID"))
    out["Code"] = net.inner_text(net.item(net.item(notifier, "AcceptDepartment"), "Code"))
    return out


def b_send_notifier(answer: bytes, kind: str) -> dict[str, str]:
    """Send*Notifier answers: RTL:428-432 (Receive), :609-620 (Accept), :750-759, :997-1006, :1187-1196."""
    doc = net.Doc(answer)
    root = b_root(doc, "CorrespondenceLetterOutboundResponse")
    if kind == "ReceiveLetterNotifier":
        process_id = net.inner_text(net.select_single_node(root, "ProcessID"))
        assert process_id.strip()
        return {"ProcessID": process_id}
    out = {"processID": net.inner_text(net.select_single_node(root, "processID")),
           "ProcessTime": net.inner_text(net.select_single_node(root, "ProcessTime"))}
    notifier = net.item(root, kind) if kind == "AcceptLetterNotifier" else doc.first(kind)
    out.update(b_notifier_fields(notifier, kind))
    assert out["processID"].strip(), "THeGIFENG.vb:104 treats the notifier as not sent"
    return out


def b_notifier_poll(answer: bytes, kind: str) -> dict[str, str]:
    """Receive*Notifier polls (RTL:641-713, :781-839, :1027-1085, :1218-1275)."""
    doc = net.Doc(answer)
    root = b_root(doc, "CorrespondenceLetterInboundResponse")
    pid_name = "processID" if kind in ("RejectLetterNotifier", "InvalidAcceptIDNotifier") else "ProcessID"
    out = {"ProcessID": net.inner_text(net.select_single_node(root, pid_name))}
    if kind != "InvalidLetterNotifier" and kind != "InvalidAcceptIDNotifier":
        out["ProcessTime"] = net.inner_text(net.select_single_node(root, "ProcessTime"))
    out.update(b_notifier_fields(doc.first(kind), kind))
    return out


def b_withdraw(answer: bytes) -> tuple[str, str]:
    """DeleteGovernmentDocumentRequest (RTL:877-879)."""
    root = b_root(net.Doc(answer), "CorrespondenceDeleteGovernmentDocumentResponse")
    return (net.inner_text(net.select_single_node(root, "LetterID")),
            net.inner_text(net.select_single_node(root, "ProcessTime")))


# ------------------------------------------------------------------ helpers

def poll_until(wire: Wire, client: str, parse: Callable[[bytes], Any], what: str) -> Any:
    box: dict[str, Any] = {}

    def ready() -> bool:
        answer = wire.send(client, "inbound_poll.xml")
        box["answer"] = answer
        box["parsed"] = parse(answer)
        return box["parsed"] is not None

    wait_for(ready, timeout=20, what=what)
    return box["parsed"], box["answer"]


def any_item(answer: bytes) -> str | None:
    """A BOI poll reaching ProcessID (step 2 of its letter parse) — for notifiers BOI cannot read."""
    root = net.Doc(answer).first("CorrespondenceLetterInboundResponse")
    if len(root) == 0:
        return None
    return net.inner_text(net.select_single_node(root, "ProcessID"))


def b_delete_item(wire: Wire, process_id: str) -> None:
    assert b_delete(wire.send(B, "delete.xml", process_id))[0] == process_id


def m_delete_item(wire: Wire, process_id: str) -> None:
    assert m_error(net.Doc(wire.send(M, "delete.xml", process_id))) is None


# ------------------------------------------------------------------ the exchange

def test_full_exchange_between_mil_doc_and_boi_dms(wire):
    wire, hub = wire
    # 1. mil-doc sends letter A with an attachment to BOI.
    sent = wire.send(M, "send_letter.xml")
    first_pid = m_send(sent)
    # BOI polls it: every field of its letter parse (the node's signature: separate test).
    letter, answer = poll_until(wire, B, lambda a: b_letter_poll(a, signature=False), "letter A at BOI")
    assert letter["ram:ID"] == LETTER_A[0] and letter["ram:Subject"] == LETTER_A[2]
    assert letter["ram:SenderParty"][0] == "สมชาย" and letter["ram:ReceiverParty"][4] == "0402"
    assert letter["ram:Attachment"] == "-" and letter["ram:SendDate"] == "2024-10-15T10:21:05"
    assert letter["main"][0] == "application/pdf" and len(letter["attachments"]) == 1
    # Faithful relay: the GovernmentDocument exactly as mil-doc wrote it.
    assert government_document(answer) == government_document(fixture(M, "send_letter.xml"))
    assert len(letter["ProcessID"]) <= 50 and len(letter["ProcessTime"]) <= 50
    b_delete_item(wire, letter["ProcessID"])
    b_delete_item(wire, letter["ProcessID"])  # deleting again still answers success

    # BOI acknowledges and numbers it; mil-doc's notifier poller reads each.
    assert b_send_notifier(wire.send(B, "receive_letter_notifier.xml"), "ReceiveLetterNotifier")
    notice, _ = poll_until(wire, M, m_notifier_poll, "Receive at mil-doc")
    assert notice["kind"] == "Receive" and notice["Code"] == "0402"
    assert (notice["LetterID"], notice["CorrespondenceDate"], notice["Subject"]) == LETTER_A
    m_delete_item(wire, notice["ProcessID"])
    accepted = b_send_notifier(wire.send(B, "accept_letter_notifier.xml"), "AcceptLetterNotifier")
    assert accepted["AcceptID"] == "4567" and accepted["Code"] == "0402" and accepted["AcceptDate"]
    again = b_send_notifier(wire.send(B, "accept_letter_notifier.xml"), "AcceptLetterNotifier")
    assert again["processID"] == accepted["processID"]  # BOI resends an Accept it could not read
    notice, _ = poll_until(wire, M, m_notifier_poll, "Accept at mil-doc")
    assert notice["kind"] == "Accept" and notice["AcceptID"] == "4567" and notice["Code"] == "0402"
    m_delete_item(wire, notice["ProcessID"])
    assert m_notifier_poll(wire.send(M, "inbound_poll.xml")) is None  # one Accept, queued once

    # 2. BOI sends letter B: no main document, date-only SendDate, department id as ministry.
    sent_b = wire.send(B, "send_letter.xml")
    b_pid, b_time = b_send_letter(sent_b)
    assert b_time
    letter, answer = poll_until(wire, M, m_letter_poll, "letter B at mil-doc")
    assert letter["kind"] == "GovernmentDocument" and letter["ram:ID"] == LETTER_B[0]
    assert letter["ram:GivenName"] == ("วิชัย", "") and letter["departments"] == ("0402", "0401")
    assert letter["main"] == ("", b"") and letter["attachments"] == [] and letter["references"] == []
    assert government_document(answer) == government_document(fixture(B, "send_letter.xml"))
    m_delete_item(wire, letter["ProcessID"])
    # mil-doc's inbound special re-reads the deleted letter by LetterID (while not withdrawn).
    again = m_letter_poll(wire.send(M, "inbound_special_letter.xml"))
    assert again["ProcessID"] == letter["ProcessID"] and again["ram:ID"] == LETTER_B[0]

    # mil-doc sends Receive, Accept, Reject and Invalid for letter B; BOI's parsers read each.
    m_send(wire.send(M, "receive_letter_notifier.xml"))
    pid, _ = poll_until(wire, B, any_item, "Receive at BOI")
    b_delete_item(wire, pid)
    for kind, name in (("AcceptLetterNotifier", "accept_letter_notifier.xml"),
                       ("RejectLetterNotifier", "reject_letter_notifier.xml"),
                       ("InvalidLetterNotifier", "invalid_letter_notifier.xml")):
        m_send(wire.send(M, name))
        parsed, _ = poll_until(wire, B, lambda a, kind=kind: b_notifier_poll(a, kind)
                               if net.Doc(a).get_elements_by_tag_name(kind) else None, f"{kind} at BOI")
        assert (parsed["LetterID"], parsed["CorrespondenceDate"], parsed["Subject"]) == LETTER_B
        assert parsed["Code"] == "0401" and parsed["AcceptDate"]
        if kind == "AcceptLetterNotifier":
            assert parsed["AcceptID"] == "789"
        b_delete_item(wire, parsed["ProcessID"])

    # 4. InvalidAcceptID from BOI (the sender of letter B) to mil-doc: mil-doc's letter poller.
    answer = wire.send(B, "invalid_acceptid_notifier.xml")
    echo = b_send_notifier(answer, "InvalidAcceptIDNotifier")
    assert echo["Code"] == "0401"
    notice, _ = poll_until(wire, M, m_letter_poll, "InvalidAcceptID at mil-doc")
    assert notice["kind"] == "InvalidAcceptIDNotifier" and notice["Code"] == "0401"
    assert (notice["LetterID"], notice["CorrespondenceDate"], notice["Subject"]) == LETTER_B
    m_delete_item(wire, notice["ProcessID"])
    # ... and from mil-doc (the sender of letter A) to BOI.
    m_send(wire.send(M, "invalid_acceptid_notifier.xml"))
    parsed, _ = poll_until(wire, B, lambda a: b_notifier_poll(a, "InvalidAcceptIDNotifier")
                           if net.Doc(a).get_elements_by_tag_name("InvalidAcceptIDNotifier") else None,
                           "InvalidAcceptID at BOI")
    assert parsed["Code"] == "0402" and parsed["LetterID"] == LETTER_A[0]
    b_delete_item(wire, parsed["ProcessID"])

    # Withdraw after Invalid: BOI withdraws letter B, which mil-doc has read and deleted.
    letter_id, when = b_withdraw(wire.send(B, "withdraw.xml"))
    assert letter_id == LETTER_B[0] and when

    # 3. BOI rejects letter A; mil-doc reads the Reject, deletes it, withdraws, checks status, resends.
    rejected = b_send_notifier(wire.send(B, "reject_letter_notifier.xml"), "RejectLetterNotifier")
    assert rejected["Code"] == "0402"
    notice, _ = poll_until(wire, M, m_notifier_poll, "Reject at mil-doc")
    assert notice["kind"] == "Reject" and notice["Code"] == "0402"
    m_delete_item(wire, notice["ProcessID"])
    withdrawn = wire.send(M, "withdraw.xml")
    assert m_error(net.Doc(withdrawn)) is None
    assert b_withdraw(withdrawn)[0] == LETTER_A[0]
    rows = b_status(wire.send(M, "outbound_status.xml"))
    assert rows[first_pid][1] == "withdrawn" and rows[first_pid][0] == LETTER_A[0]
    resent = m_send(wire.send(M, "send_letter.xml"))
    assert resent != first_pid
    letter, _ = poll_until(wire, B, lambda a: b_letter_poll(a, signature=False), "letter A again at BOI")
    assert letter["ProcessID"] != "" and letter["ram:ID"] == LETTER_A[0]
    b_delete_item(wire, letter["ProcessID"])

    # BOI's status (its undeclared SOAP-ENV prefix) lists letter B as withdrawn.
    rows = b_status(wire.send(B, "outbound_status.xml"))
    assert rows[b_pid] == (LETTER_B[0], "withdrawn")

    # mil-doc's inbound-special variants re-read items of its queue, deleted ones included.
    doc = net.Doc(wire.send(M, "inbound_special_letter.xml"))  # withdrawn since: gone
    assert m_error(doc)[0] == "E010"
    for name, kind in (("inbound_special_receive_notifier.xml", "ReceiveLetterNotifier"),
                       ("inbound_special_accept_notifier.xml", "AcceptLetterNotifier"),
                       ("inbound_special_reject_notifier.xml", "RejectLetterNotifier"),
                       ("inbound_special_invalid_acceptid_notifier.xml", "InvalidAcceptIDNotifier")):
        doc = net.Doc(wire.send(M, name))
        assert m_error(doc) is None, (name, m_error(doc))
        assert net.inner_xml(doc.first("ProcessID")) and doc.get_elements_by_tag_name(kind), name
    # The Invalid notifier about letter A was never sent (BOI sent none): a clean ErrorDetail.
    doc = net.Doc(wire.send(M, "inbound_special_invalid_notifier.xml"))
    assert m_error(doc) is not None and not doc.get_elements_by_tag_name("ProcessID")


def b_status(answer: bytes) -> dict[str, tuple[str, str]]:
    """OutboundStatusRequest (RTL:1373-1381): every Outbound row's ProcessID, LetterID, ProcessStatus."""
    rows = {}
    for row in net.Doc(answer).get_elements_by_tag_name("Outbound"):
        rows[net.inner_text(net.item(row, "ProcessID"))] = (
            net.inner_text(net.item(row, "LetterID")), net.inner_text(net.item(row, "ProcessStatus")))
    return rows


def test_boi_reads_a_node_signature_on_every_letter(wire):
    """BOI's letter parse needs a ram:GovernmentSignature with ds:Signature (RTL:136-148)."""
    wire, _ = wire
    body = fixture(M, "send_letter_no_attachment.xml").replace(LETTER_A[0].encode(), "กค 0401/124".encode())
    m_send(wire.post(M, body))
    letter, _ = poll_until(wire, B, b_letter_poll, "letter at BOI")
    assert letter["ds"][0] == "#Letter" and all(letter["ds"])
    assert letter["signer"][4] == "0401"
    b_delete_item(wire, letter["ProcessID"])


def test_lists_codes_time_and_errors(wire):
    wire, _ = wire
    for client in (M, B):
        # Ministries: mil-doc's aligned arrays, BOI's rows.
        doc = net.Doc(wire.send(client, "get_ministry_organization_list.xml"))
        ids = [net.inner_xml(e) for e in doc.get_elements_by_tag_name("MinistryID")]
        names = [net.inner_xml(doc.first("Th-Name", i)) for i in range(len(ids))]
        assert ids == ["0400", "1000"] and names[0] == "กระทรวงการคลัง"
        rows = [(net.inner_text(net.item(r, "MinistryID")), net.inner_text(net.item(r, "Th-Name")))
                for r in doc.get_elements_by_tag_name("MinistryOrganizationList")]
        assert rows == list(zip(ids, names, strict=True))
        # Organisations.
        doc = net.Doc(wire.send(client, "get_organization_list.xml"))
        count = len(doc.get_elements_by_tag_name("En-Name"))
        m_rows = [tuple(net.inner_xml(doc.first(n, i)) for n in ("OrganizationID", "Th-Name", "ECMS-URL"))
                  for i in range(count)]
        b_rows = [(net.inner_text(net.item(r, "OrganizationID")), net.inner_text(net.next_sibling(net.item(r, "name"))),
                   net.inner_text(net.item(r, "ECMS-URL"))) for r in doc.get_elements_by_tag_name("OrganizationList")]
        assert m_rows == b_rows and {r[0] for r in m_rows} >= {"0401", "0402", "1012"}
        assert all(r[2].endswith(PUBLIC_PATH) for r in m_rows)
    for name, first in (("get_secret_codes.xml", ("001", "ปกติ")), ("get_speed_codes.xml", ("001", "ปกติ"))):
        doc = net.Doc(wire.send(M, name))
        assert m_error(doc) is None
        values = [net.inner_xml(e) for e in doc.get_elements_by_tag_name("Value")]
        descriptions = [net.inner_xml(doc.first("Description", i)) for i in range(len(values))]
        assert (values[0], descriptions[0]) == first
    doc = net.Doc(wire.send(M, "get_mime_codes.xml"))
    extensions = [net.inner_xml(e) for e in doc.get_elements_by_tag_name("File-Extension")]
    types = [net.inner_xml(doc.first("Content-type", i)) for i in range(len(extensions))]
    assert ("pdf", "application/pdf") in zip(extensions, types, strict=True)
    doc = net.Doc(wire.send(M, "time_check.xml"))
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", net.inner_xml(doc.first("ECMSTime")))
    # A refusal: HTTP 200 (asserted by Wire.post), ErrorDetail read by position, no ProcessID.
    body = fixture(M, "send_letter.xml").replace(b"<ram:ID>0402</ram:ID>", b"<ram:ID>9999</ram:ID>")
    doc = net.Doc(wire.post(M, body))
    code, description = m_error(doc)
    assert code == "E007" and "9999" in description and not doc.get_elements_by_tag_name("ProcessID")
    assert not doc.get_elements_by_tag_name("processID")
    # BOI's placeholder delete: E010 in a 200 answer; BOI finds no ProcessID (its "not deleted").
    doc = net.Doc(wire.send(B, "delete_accept_notifier_placeholder.xml"))
    assert m_error(doc)[0] == "E010"
    with pytest.raises(net.NullReference):
        net.select_single_node(doc.first("CorrespondenceLetterDeleteResponse"), "ProcessID")


def test_a_signed_letter_arrives_with_its_signature_verifying(wire, tmp_path):
    """XML-DSig (signxml, the library a peer would use) over the whole rsm:GovernmentDocument,
    inside its ram:GovernmentSignature: the receiver's bytes verify, whichever client polls."""
    from lxml import etree
    from signxml import XMLSigner, XMLVerifier

    from hub.adapters.ecms.node.signing import _self_signed

    wire, _ = wire
    key, cert = _self_signed(tmp_path / "signer")
    ram = "urn:th:gov:egif:data:standard:ReusableAggregateBusinessInformationEntity:1"
    for number, poller, parse in (("กค 0401/126", B, b_letter_poll),):
        body = fixture(M, "send_letter.xml").replace(LETTER_A[0].encode(), number.encode())
        document = etree.fromstring(government_document(body))
        signature = etree.SubElement(document, f"{{{ram}}}GovernmentSignature")
        etree.SubElement(signature, f"{{{ram}}}TypeCode").text = "DSIG"
        signer = etree.SubElement(signature, f"{{{ram}}}SignerParty")
        for name, value in (("GivenName", "สมชาย"), ("FamilyName", "ใจดี"), ("Title", "ผู้อำนวยการ"),
                            ("MinistryCode", "04"), ("DepartmentCode", "0401")):
            etree.SubElement(signer, f"{{{ram}}}{name}").text = value
        etree.SubElement(signature, "{http://www.w3.org/2000/09/xmldsig#}Signature", Id="placeholder",
                         nsmap={"ds": "http://www.w3.org/2000/09/xmldsig#"})
        signed = etree.tostring(XMLSigner().sign(document, key=key, cert=cert), encoding="UTF-8")
        signed = signed.split(b"?>", 1)[1] if signed.startswith(b"<?xml") else signed
        m_send(wire.post(M, body.replace(government_document(body), signed)))
        parsed, answer = poll_until(wire, poller, lambda a, parse=parse: parse(a) if net.Doc(a).get_elements_by_tag_name(
            "rsm:GovernmentDocument") else None, f"signed letter {number}")
        relayed = government_document(answer)
        assert relayed == signed
        XMLVerifier().verify(relayed, x509_cert=cert.decode())  # raises if the signature broke
        # signxml writes no X509SubjectName, which BOI requires: the node's signature goes
        # first, with the signer copied from the letter's own.
        assert parsed["TypeCode"] == "DSIG" and answer.count(b"</ram:GovernmentSignature>") == 2
        assert parsed["signer"][4] == "0401" and parsed["ds"][0] == "#Letter"
        b_delete_item(wire, parsed["ProcessID"])


def test_the_node_signature_is_a_real_xml_dsig_over_the_relayed_document(wire):
    from lxml import etree
    from signxml import XMLVerifier

    wire, hub = wire
    body = fixture(M, "send_letter.xml").replace(LETTER_A[0].encode(), "กค 0401/128".encode())
    m_send(wire.post(M, body))
    letter, answer = poll_until(wire, B, b_letter_poll, "letter at BOI")
    cert = hub.ecms.node.signer.cert.decode()
    # Detached, Reference URI="#Letter": verified in the answer as BOI receives it.
    XMLVerifier().verify(etree.fromstring(answer), x509_cert=cert, id_attribute="ID")
    assert letter["ds"][0] == "#Letter" and letter["signer"][:2] == ("สมชาย", "ใจดี")
    b_delete_item(wire, letter["ProcessID"])


def test_tolerated_deviations_are_in_the_message_history(wire):
    wire, hub = wire
    body = fixture(B, "send_letter.xml").replace(LETTER_B[0].encode(), "กค 0402/999".encode())
    process_id, _ = b_send_letter(wire.post(B, body))
    [event] = [e for e in hub.messages.history(process_id) if e["kind"] == "ecms.tolerated"]
    text = " | ".join(event["detail"]["deviations"])
    assert "no main document" in text and "date-only SendDate '2024-10-16'" in text
    assert "receiver ministry '0401' resolved to '0400'" in text
    assert event["detail"]["addressing"] == "http://w3.org/2005/08/addressing to"
    assert event["detail"]["content_type"] == "text/xml"
    body = fixture(M, "send_letter_no_attachment.xml").replace(LETTER_A[0].encode(), "กค 0401/129".encode())
    process_id = m_send(wire.post(M, body))
    [event] = [e for e in hub.messages.history(process_id) if e["kind"] == "ecms.tolerated"]
    text = " | ".join(event["detail"]["deviations"])
    assert "empty ReferenceCorrespondence" in text and 'AttachmentBinaryObject mimeCode=""' in text
    assert "sender ministry '04' resolved to '0400'" in text
    assert event["detail"]["content_type"] == "text/xml; encoding='utf-8'"
    letter, _ = poll_until(wire, B, lambda a: b_letter_poll(a, signature=False), "letter 129 at BOI")
    assert letter["ram:ID"] == "กค 0401/129"
    b_delete_item(wire, letter["ProcessID"])
    letter, _ = poll_until(wire, M, m_letter_poll, "letter 999 at mil-doc")
    assert letter["ram:ID"] == "กค 0402/999"
    m_delete_item(wire, letter["ProcessID"])


def test_letters_the_hub_writes_are_read_by_both_clients(wire):
    """The hub's own client (zeep, as the reference e-Saraban, telework and federation send)
    writes every element the deployed receivers read, empty when there is no value."""
    from hub.adapters.ecms.client.soapclient import EcmsSoapClient
    from hub.adapters.ecms.codec.letter import Binary, Party, inline_base64
    from hub.adapters.ecms.codec.letter import Letter as EcmsLetter

    wire, hub = wire
    url = wire.base + PUBLIC_PATH
    client = (EcmsSoapClient(url, "0401", "secret-0401") if wire.mode == "basic" else EcmsSoapClient(url))
    try:
        ref = hub.ecms.blobs.put(b"%PDF-1.4 hub letter")
        letter = EcmsLetter("กค 0401/๑๒", "2024-10-20", "ทดสอบจากระบบของศูนย์", "001", "001",
                            Party("0400", "0401", given_name="สมชาย"), Party("0400", "0402"),
                            Binary("MainLetterBinaryObject", "application/pdf", ref.sha256, ref.size))
        assert client.send(inline_base64(letter, hub.ecms.blobs)).ProcessID
    finally:
        client.close()
    parsed, answer = poll_until(wire, B, b_letter_poll, "the hub's letter at BOI")
    assert parsed["ram:SenderParty"][:3] == ("สมชาย", "", "") and parsed["ram:ReceiverParty"][:3] == ("", "", "")
    assert parsed["ram:Attachment"] == "" and parsed["ram:Description"] == "" and parsed["ds"][0] == "#Letter"
    assert parsed["main"] == ("application/pdf", base64.b64encode(b"%PDF-1.4 hub letter").decode())
    # Both parties carry GivenName/FamilyName/JobTitle (mil-doc reads ram:GivenName[1]).
    document = government_document(answer)
    assert document.count(b"<ram:GivenName>") == 2 and document.count(b"<ram:JobTitle></ram:JobTitle>") == 2
    b_delete_item(wire, parsed["ProcessID"])
