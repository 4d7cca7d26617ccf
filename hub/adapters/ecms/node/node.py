"""The e-CMS node's operations, dispatched on the SOAP body root's local name.

A letter or notifier accepted here becomes a hub message through the ``accept`` callable
the node is built with — the hub's durable accept, ``MessageService.accept`` — (sender = the
sending department's subsystem, receiver = the other's, service ``ecms.letter/v1``,
correlation id = the letter's conversation), so the durable outbox, retries, history and
crash recovery are the transport's. The receiver's route decides how it is delivered: into
its poll queue (``ecms-queue``) or pushed (``ecms``, ``http``...). The node reads a message's
delivery state through ``lookup`` (for withdrawals and ``OutboundStatus``); it never sees
the transport itself.
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from lxml import etree

from hub.clock import as_utc, utcnow
from hub.adapters.ecms.codec import soap
from hub.adapters.ecms.codec.blobs import BlobStore
from hub.adapters.ecms.codec.codes import MIME_CODES, SECRET_CODES, SPEED_CODES, EcmsFault
from hub.adapters.ecms.codec.letter import (
    NOTIFIER_KINDS, Letter, Notifier, item_element, kid, localname, parse_payload, read_item,
    text, to_payload, validate,
)
from hub.adapters.ecms.codec.soapstream import Limits, parse_stream
from hub.adapters.ecms.node.store import Department, EcmsStore, conversation_id
from hub.errors import Forbidden, IdempotencyConflict, NoRoute, PayloadTooLarge
from hub.schemas.envelope import Envelope, StoredMessage
from hub.schemas.principal import CLEARANCE_LEVELS, Principal

log = logging.getLogger(__name__)
audit = logging.getLogger("hub.audit.ecms")

SERVICE = "ecms.letter/v1"
# Message ids are derived from the letter, so a client retrying a send gets the same ProcessID.
ID_NAMESPACE = uuid.UUID("6f1a0c52-9e2b-5c1d-8e0a-0ec35e5a2a01")
BANGKOK = ZoneInfo("Asia/Bangkok")
ITEM_NAMES = {"governmentdocument", "correspondenceletter", *(k.lower() for k in NOTIFIER_KINDS)}

# Store one envelope durably and return once it is committed (``MessageService.accept``, or
# an adapter's inbound sink for items polled from another node); raises the hub's refusals.
Accept = Callable[[Envelope], Any]
# The stored message with this id, or None (``MessageService.get_meta(id, missing_ok=True)``).
Lookup = Callable[[str], StoredMessage | None]


@dataclass
class SoapAnswer:
    status: int
    body: Iterator[bytes]


def local_time(value: datetime | None = None) -> str:
    return as_utc(value or utcnow()).astimezone(BANGKOK).isoformat(timespec="seconds")


class EcmsNode:
    def __init__(self, store: EcmsStore, blobs: BlobStore, accept: Accept, lookup: Lookup, *,
                 standards_dir: Path, limits: Limits | None = None) -> None:
        self.store = store
        self.blobs = blobs
        self._accept_envelope = accept
        self._lookup = lookup
        self.standards_dir = standards_dir  # th.ecms.letter's schema checks every item sent
        self.limits = limits or Limits()
        self._operations: dict[str, Callable[[Principal, etree._Element], Any]] = {
            "correspondenceletteroutboundrequest": self.outbound,
            "correspondenceletterinboundrequest": self.inbound,
            "correspondenceletterdeleterequest": self.delete,
            "correspondencedeletegovernmentdocumentrequest": self.withdraw,
            "correspondenceletterinboundspecialrequest": self.special,
            "getministryorganizationlist": self.ministries,
            "getorganizationlist": self.organizations,
            "getsecretcodes": self.secret_codes,
            "getspeedcodes": self.speed_codes,
            "getmimecodes": self.mime_codes,
            "outboundstatusrequest": self.outbound_status,
            "timecheckrequest": self.time_check,
        }

    # -------------------------------------------------------------- entry

    def handle(self, source: IO[bytes], authenticate: Callable[[soap.SoapRequest], Principal]) -> SoapAnswer:
        relates_to = None
        # Attachments are staged until the caller is authenticated: a refused request leaves
        # nothing in the blob store (hub.adapters.ecms.codec.blobs.StagedBlobs).
        staged = self.blobs.staging()
        try:
            request = soap.split_envelope(parse_stream(source, staged, self.limits))
            relates_to = request.message_id
            name = localname(request.body_root.tag).lower()
            operation = self._operations.get(name) or self._operations.get(f"{name}request")
            if operation is None:
                raise EcmsFault("E003", f"{localname(request.body_root.tag)} is not an e-CMS operation")
            principal = authenticate(request)
            staged.promote()
            response = operation(principal, request.body_root)
            return SoapAnswer(200, soap.stream_envelope(soap.envelope(response, relates_to), self.blobs))
        except EcmsFault as fault:
            return SoapAnswer(500, iter([soap.fault_envelope(fault, relates_to)]))
        finally:
            staged.discard()

    # -------------------------------------------------------------- helpers

    def _department(self, code: str, ministry: str | None, role: str) -> Department:
        department = self.store.department(code)
        if department is None:
            raise EcmsFault("E007", f"{role} department {code!r} is not registered on this node")
        if ministry is not None and department.ministry_code != ministry:
            raise EcmsFault("E007", f"{role} department {code!r} does not belong to ministry {ministry!r}")
        return department

    def _codes(self, principal: Principal) -> list[str]:
        codes = [d.code for d in self.store.departments_of(principal)]
        if not codes:
            raise EcmsFault("E008", f"{principal.subject} is not bound to any department of this node")
        return codes

    def _refuse_spoof(self, principal: Principal, department: Department, what: str) -> None:
        if department.party is None or not principal.acts_for(department.party):
            audit.warning("ecms spoofed sender refused: subject=%s claimed=%s operation=%s",
                          principal.subject, department.code, what)
            raise EcmsFault("E008", f"the authenticated agency may not send as department {department.code}")

    def _accept(self, env: Envelope, accept: Accept) -> None:
        try:
            accept(env)
        except NoRoute as exc:
            raise EcmsFault("E016", exc.message) from None
        except IdempotencyConflict:
            raise EcmsFault("E015", "a different letter with this LetterID and CorrespondenceDate was already "
                                    "sent to this department; withdraw it first") from None
        except PayloadTooLarge as exc:
            raise EcmsFault("E014", exc.message) from None
        except Forbidden as exc:  # the security layer's receiver-clearance check on accept
            raise EcmsFault("E013", exc.message) from None

    def _queue_answer(self, name: str, row: Any) -> etree._Element:
        if row is None:
            return soap.element(name)
        item = item_element(parse_payload(row.payload), "marker")
        return soap.element(name, item, ProcessID=row.process_id, ProcessTime=local_time(row.created_at))

    # -------------------------------------------------------------- outbound

    def outbound(self, principal: Principal, root: etree._Element) -> etree._Element:
        content = [c for c in root if isinstance(c.tag, str) and localname(c.tag).lower() in ITEM_NAMES]
        if len(content) != 1:
            raise EcmsFault("E004", "CorrespondenceLetterOutboundRequest must hold one GovernmentDocument or notifier")
        item = read_item(content[0])
        validate(item, self.standards_dir)
        if isinstance(item, Letter):
            return self._send_letter(principal, item, self._accept_envelope)
        return self._send_notifier(principal, item, self._accept_envelope)

    def accept_from_peer(self, peer: Principal, item: Letter | Notifier, accept: Accept | None = None) -> str:
        """Accept a letter or notifier polled from another e-CMS node (federation, see
        ``hub.adapters.ecms.node.federation``) as if ``peer`` had posted it here; ``peer`` acts for
        the departments reached through that node, so the spoof check still applies.
        ``accept`` stores the envelope instead of the node's own (a poll's inbound sink).

        Message ids are derived from the letter (and a notifier's content), so accepting the
        same item again — a re-poll after a crash before its delete — stores nothing new.
        Returns the hub message id. Refusals are ``EcmsFault`` as for a posted item; whatever
        else ``accept`` raises (the item could not be stored now) passes through.
        """
        validate(item, self.standards_dir)
        accept = accept or self._accept_envelope
        answer = (self._send_letter(peer, item, accept) if isinstance(item, Letter)
                  else self._send_notifier(peer, item, accept))
        return text(answer, "ProcessID") or ""

    def _send_letter(self, principal: Principal, letter: Letter, accept: Accept) -> etree._Element:
        sender = self._department(letter.sender.department_id, letter.sender.ministry_id, "sender")
        receiver = self._department(letter.receiver.department_id, letter.receiver.ministry_id, "receiver")
        self._refuse_spoof(principal, sender, "letter")
        if receiver.party is None:
            raise EcmsFault("E016", f"department {receiver.code} has no subsystem on this hub to deliver to")
        if CLEARANCE_LEVELS.index(receiver.clearance) < CLEARANCE_LEVELS.index(letter.secret_code):
            raise EcmsFault("E013", f"department {receiver.code} is cleared up to {receiver.clearance}; "
                                    f"the letter is classified {letter.secret_code}")
        for binary in letter.binaries:
            if not self.blobs.exists(binary.sha256):
                raise EcmsFault("E099", f"attachment {binary.sha256} was not stored")
        latest = self.store.latest_letter(sender.code, receiver.code, letter.id, letter.correspondence_date)
        generation = 1 if latest is None else latest.generation + (1 if latest.withdrawn_at is not None else 0)
        message_id = str(uuid.uuid5(ID_NAMESPACE, "|".join(
            ("letter", sender.code, receiver.code, letter.id, letter.correspondence_date, str(generation)))))
        conversation = conversation_id(sender.code, letter.id, letter.correspondence_date)
        self._accept(Envelope(
            id=message_id, sender=sender.party, receiver=receiver.party, service=SERVICE,
            correlation_id=conversation, classification=letter.secret_code, speed=letter.speed_code,
            content_type="application/xml", payload=to_payload(letter).decode("utf-8"),
        ), accept)
        self.store.record_letter({
            "message_id": message_id, "sender_code": sender.code, "receiver_code": receiver.code,
            "letter_id": letter.id, "correspondence_date": letter.correspondence_date, "subject": letter.subject,
            "secret_code": letter.secret_code, "generation": generation, "conversation": conversation,
        })
        return soap.element("CorrespondenceLetterOutboundResponse", ProcessID=message_id,
                            ProcessTime=local_time(), LetterID=letter.id, Status="accepted")

    def _send_notifier(self, principal: Principal, notifier: Notifier, accept: Accept) -> etree._Element:
        codes = self._codes(principal)
        # InvalidAcceptIDNotifier goes from the letter's sender to its receiver; the others back.
        as_receiver = notifier.kind != "InvalidAcceptIDNotifier"
        letter = self.store.letter_for_notifier(codes, notifier.letter_id, notifier.correspondence_date,
                                                as_receiver=as_receiver)
        if letter is None:
            raise EcmsFault("E011", f"no letter {notifier.letter_id!r} of {notifier.correspondence_date} "
                                    f"{'received' if as_receiver else 'sent'} by the caller's departments")
        source_code, target_code = ((letter.receiver_code, letter.sender_code) if as_receiver
                                    else (letter.sender_code, letter.receiver_code))
        source = self._department(source_code, None, "sender")
        target = self._department(target_code, None, "receiver")
        if target.party is None or source.party is None:
            raise EcmsFault("E016", f"department {target.code} has no subsystem on this hub to deliver to")
        payload = to_payload(notifier)
        message_id = str(uuid.uuid5(ID_NAMESPACE, "|".join(
            (notifier.kind, letter.message_id, hashlib.sha256(payload).hexdigest()))))
        self._accept(Envelope(
            id=message_id, sender=source.party, receiver=target.party, service=SERVICE,
            correlation_id=letter.conversation, classification=letter.secret_code,
            content_type="application/xml", payload=payload.decode("utf-8"),
        ), accept)
        if notifier.kind == "AcceptLetterNotifier":
            self.store.set_accept_id(letter.message_id, notifier.accept_id or "")
        return soap.element("CorrespondenceLetterOutboundResponse", ProcessID=message_id,
                            ProcessTime=local_time(), LetterID=notifier.letter_id, Status="accepted")

    # -------------------------------------------------------------- inbound

    def inbound(self, principal: Principal, root: etree._Element) -> etree._Element:
        row = self.store.next_item(self._codes(principal), principal.clearance)
        return self._queue_answer("CorrespondenceLetterInboundResponse", row)

    def special(self, principal: Principal, root: etree._Element) -> etree._Element:
        process_id = self._process_id(root)
        row = self.store.item(self._codes(principal), principal.clearance, process_id)
        if row is None:
            raise EcmsFault("E010", f"no item {process_id!r} in the caller's queue")
        return self._queue_answer("CorrespondenceLetterInboundSpecialResponse", row)

    def delete(self, principal: Principal, root: etree._Element) -> etree._Element:
        process_id = self._process_id(root)
        if not self.store.delete_item(self._codes(principal), process_id):
            raise EcmsFault("E010", f"no item {process_id!r} in the caller's queue")
        return soap.element("CorrespondenceLetterDeleteResponse", ProcessID=process_id, Result="deleted")

    @staticmethod
    def _process_id(root: etree._Element) -> str:
        value = text(root, "ProcessID")
        if value is None:
            raise EcmsFault("E004", f"{localname(root.tag)}/ProcessID is missing or empty")
        return value

    def withdraw(self, principal: Principal, root: etree._Element) -> etree._Element:
        where = "CorrespondenceDeleteGovernmentDocumentRequest"
        letter_id = text(root, "LetterID")
        date = text(root, "CorrespondenceDate")
        sender_code = text(root, "SenderDepartment", "Code") or text(root, "SenderDepartment", "ID")
        receiver_code = text(root, "AcceptDepartment", "Code") or text(root, "AcceptDepartment", "ID")
        for name, value in (("LetterID", letter_id), ("CorrespondenceDate", date),
                            ("SenderDepartment/Code", sender_code), ("AcceptDepartment/Code", receiver_code)):
            if value is None:
                raise EcmsFault("E004", f"{where}/{name} is missing or empty")
        sender = self._department(sender_code, None, "sender")
        receiver = self._department(receiver_code, None, "receiver")
        self._refuse_spoof(principal, sender, "withdraw")
        latest = self.store.latest_letter(sender.code, receiver.code, letter_id, date)
        if latest is None or latest.withdrawn_at is not None:
            raise EcmsFault("E011", f"no letter {letter_id!r} of {date} from {sender.code} to {receiver.code} in transit")
        meta = self._lookup(latest.message_id)
        delivered_elsewhere = meta is not None and meta.status == "delivered" and (
            self.store.queue_item_for(latest.message_id) is None)
        self.store.withdraw(latest.message_id, delivered_elsewhere=delivered_elsewhere)
        return soap.element("CorrespondenceDeleteGovernmentDocumentResponse", LetterID=letter_id,
                            CorrespondenceDate=date, Result="withdrawn")

    # -------------------------------------------------------------- lists and status

    def _organizations(self, name: str, departments: list[Department]) -> etree._Element:
        rows = [soap.element("Organization", ID=d.code, Name=d.name_th, NameEN=d.name_en, MinistryID=d.ministry_code)
                for d in departments]
        return soap.element(name, *rows)

    def ministries(self, principal: Principal, root: etree._Element) -> etree._Element:
        return self._organizations("GetMinistryOrganizationListResponse", self.store.departments(kind="ministry"))

    def organizations(self, principal: Principal, root: etree._Element) -> etree._Element:
        ministry = text(root, "MinistryID") or text(root, "MinistryCode")
        if ministry is not None and self.store.department(ministry) is None:
            raise EcmsFault("E007", f"ministry {ministry!r} is not registered on this node")
        return self._organizations("GetOrganizationListResponse",
                                   self.store.departments(kind="department", ministry_code=ministry))

    @staticmethod
    def _codes_answer(name: str, codes: dict[str, str]) -> etree._Element:
        return soap.element(name, *(soap.element("Code", ID=k, Name=v) for k, v in codes.items()))

    def secret_codes(self, principal: Principal, root: etree._Element) -> etree._Element:
        return self._codes_answer("GetSecretCodesResponse", SECRET_CODES)

    def speed_codes(self, principal: Principal, root: etree._Element) -> etree._Element:
        return self._codes_answer("GetSpeedCodesResponse", SPEED_CODES)

    def mime_codes(self, principal: Principal, root: etree._Element) -> etree._Element:
        return self._codes_answer("GetMimeCodesResponse", MIME_CODES)

    def outbound_status(self, principal: Principal, root: etree._Element) -> etree._Element:
        process_id = self._process_id(root)
        meta = self._lookup(process_id)
        if meta is None or not principal.acts_for(meta.sender):
            raise EcmsFault("E010", f"no outbound item {process_id!r} sent by the caller")
        letter = self.store.letter(process_id)
        item = self.store.queue_item_for(process_id)
        if letter is not None and letter.withdrawn_at is not None:
            status, at = "withdrawn", letter.withdrawn_at
        elif item is not None:
            status, at = (("deleted", item.deleted_at) if item.deleted_at else ("read", item.read_at)
                          if item.read_at else ("waiting", item.created_at))
        elif meta.status == "delivered":
            status, at = "delivered", None
        elif meta.status == "dead":
            status, at = "failed", None
        else:
            status, at = "in-transit", None
        return soap.element("OutboundStatusResponse", ProcessID=process_id, Status=status,
                            StatusTime=local_time(at) if at else None,
                            AcceptID=letter.accept_id if letter is not None else None,
                            Detail=meta.last_error)

    def time_check(self, principal: Principal, root: etree._Element) -> etree._Element:
        return soap.element("TimeCheckResponse", ServerTime=local_time())

