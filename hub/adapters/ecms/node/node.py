"""The e-CMS node's operations, dispatched on the SOAP body root's local name.

A letter or notifier accepted here becomes a hub message through the ``accept`` callable
the node is built with — the hub's durable accept, ``MessageService.accept`` — (sender = the
sending department's subsystem, receiver = the other's, service ``ecms.letter/v1``,
correlation id = the letter's conversation), so the durable outbox, retries, history and
crash recovery are the transport's. The receiver's route decides how it is delivered: into
its poll queue (``ecms-queue``) or pushed (``ecms``, ``http``...). The node reads a message's
delivery state through ``lookup`` (for withdrawals and ``OutboundStatus``); it never sees
the transport itself.

Answers take the shapes the deployed e-Saraban clients parse (issue 13; the conformance suite
``tests/integration/test_ecms_clients.py``): unprefixed protocol elements in no namespace,
``ProcessID`` and ``processID`` side by side, ``ErrorDetail`` in HTTP 200. A letter is relayed
as its sender's bytes (``hub.adapters.ecms.codec.rawdoc``); the hub's canonical model travels
beside it for routing, validation and history. Deviations the node tolerates are recorded in
the message's history (``note``), with the client's dialect.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from lxml import etree

from hub.clock import as_utc, utcnow
from hub.adapters.base import Receipt
from hub.adapters.ecms.codec import soap
from hub.adapters.ecms.codec.blobs import BlobStore
from hub.adapters.ecms.codec.codes import MIME_CODES, SECRET_CODES, SPEED_CODES, EcmsFault
from hub.adapters.ecms.codec.letter import (
    LETTER_KIND, NOTIFIER_KINDS, Letter, Notifier, item_element, localname, parse_payload, read_item,
    text, to_payload, validate,
)
from hub.adapters.ecms.codec.rawdoc import cut_document
from hub.adapters.ecms.codec.soapstream import Limits, parse_stream
from hub.adapters.ecms.node.store import Department, EcmsStore, conversation_id
from hub.errors import Forbidden, IdempotencyConflict, NoRoute, PayloadTooLarge
from hub.schemas.endpoints import hide_endpoints
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
# The stored message this sender party sent with this id, or None
# (``MessageService.get_meta(id, sender=party, missing_ok=True)``). Message ids are unique per
# sender only: another agency may have used the id the node derives for a letter, and that
# message must neither be taken for the letter nor keep the letter out.
Lookup = Callable[[str, str], StoredMessage | None]
# Record a refusal in the hub's audit trail, bounded: ``(actor, target, key, **detail)``
# (``hub.security.sampling.SampledRefusals``; one entry per actor and key per interval).
RecordRefusal = Callable[..., Any]
# The faults that refuse an authenticated caller something it may not do or see: each goes
# to the audit trail, not only to a log (issue 12, finding 6).
AUDITED_FAULTS = frozenset({"E008", "E010", "E017"})
# Add an event to the history of the message this sender party sent with this id
# (``MessageService.note(id, kind, detail, sender=party)``).
Note = Callable[[str, str, dict, str], None]
# Record, in the given transaction (a SQLAlchemy Connection), the message with this hub key
# delivered with this receipt; False if the transport has taken it already
# (``hub.transport.settle.record_delivered_in``).
Settle = Callable[[Any, str, Receipt], bool]
PUBLIC_PATH = "/ecms-ws01/service2"  # the path deployed clients post to (DGA's node)


@dataclass
class Call:
    """What the node knows about the request being answered (per thread)."""

    request: soap.SoapRequest | None = None
    source: IO[bytes] | None = None
    base_url: str | None = None
    content_type: str | None = None

    def dialect(self) -> dict[str, str]:
        """How the client wrote its envelope: which deployed client it resembles."""
        out: dict[str, str] = {}
        header = self.request.header if self.request is not None else None
        if header is not None:
            for element in header:
                if isinstance(element.tag, str) and localname(element.tag).lower() == "to":
                    out["addressing"] = f"{etree.QName(element).namespace} {localname(element.tag)}"
        if self.content_type:
            out["content_type"] = self.content_type
        return out

    def boi_dialect(self) -> bool:
        """BOI-DMS writes ``wsa:to`` in ``http://w3.org/2005/08/addressing`` (no www)."""
        return self.dialect().get("addressing", "").endswith("w3.org/2005/08/addressing to") and \
            "www." not in self.dialect().get("addressing", "")


@dataclass
class SoapAnswer:
    status: int
    body: Iterable[bytes]  # a soap.WholeAnswer unless it streams stored documents


def local_time(value: datetime | None = None) -> str:
    return as_utc(value or utcnow()).astimezone(BANGKOK).isoformat(timespec="seconds")


class EcmsNode:
    def __init__(self, store: EcmsStore, blobs: BlobStore, accept: Accept, lookup: Lookup, *,
                 standards_dir: Path, limits: Limits | None = None, note: Note | None = None,
                 public_url: str | None = None, signer: Any = None,
                 holds_right: Callable[[str, str, str], bool] | None = None,
                 record_refusal: RecordRefusal | None = None,
                 polls_here: Callable[[str], bool] | None = None,
                 accept_held: Accept | None = None, settle: Settle | None = None,
                 settled: Callable[[], None] | None = None) -> None:
        self.store = store
        # A letter placed in its receiver's queue at accept is accepted held (``accept_held``:
        # not due for the transport) and recorded delivered with its queue row (``settle``), so
        # the transport's hop does nothing more for it; ``settled`` counts it once committed.
        self._accept_held = accept_held
        self._settle = settle
        self._settled = settled
        # Whether a receiver party's e-CMS letters are routed into its poll queue on this node.
        self._polls_here = polls_here
        self._record_refusal = record_refusal
        self.blobs = blobs
        self._accept_envelope = accept
        self._lookup = lookup
        self._note = note
        # The security layer's access rights (``AccessControl.holds_right``): a letter flows only
        # if the sending department's subsystem may use ecms.letter/v1 toward the receiver's.
        self._holds_right = holds_right
        self.public_url = public_url
        self.signer = signer  # hub.adapters.ecms.node.signing.NodeSigner, for BOI-dialect pollers
        self._call = threading.local()
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

    def handle(self, source: IO[bytes], authenticate: Callable[[soap.SoapRequest], Principal], *,
               base_url: str | None = None, content_type: str | None = None) -> SoapAnswer:
        relates_to = operation_name = principal = None
        call = Call(source=source, base_url=base_url, content_type=content_type)
        self._call.current = call
        # Attachments are staged until the caller is authenticated: a refused request leaves
        # nothing in the blob store (hub.adapters.ecms.codec.blobs.StagedBlobs).
        staged = self.blobs.staging()
        try:
            request = soap.split_envelope(parse_stream(source, staged, self.limits))
            call.request = request
            relates_to = request.message_id
            operation_name = localname(request.body_root.tag)
            name = operation_name.lower()
            operation = self._operations.get(name) or self._operations.get(f"{name}request")
            if operation is None:
                raise EcmsFault("E003", f"{operation_name} is not an e-CMS operation")
            principal = authenticate(request)
            staged.promote()
            response = operation(principal, request.body_root)
            return SoapAnswer(200, soap.stream_envelope(soap.envelope(response, relates_to), self.blobs))
        except EcmsFault as fault:
            if principal is not None and fault.code in AUDITED_FAULTS and self._record_refusal is not None:
                self._record_refusal(principal.subject, operation_name, fault.code, code=fault.code,
                                     reason=fault.description, channel="ecms")
            if fault.code in soap.NOT_SOAP:
                return SoapAnswer(500, soap.WholeAnswer(soap.fault_envelope(fault, relates_to)))
            # Deployed clients read a refusal only from an HTTP 200 answer.
            return SoapAnswer(200, soap.WholeAnswer(soap.error_answer(fault, operation_name, relates_to)))
        finally:
            staged.discard()
            self._call.current = Call()

    def _current(self) -> Call:
        return getattr(self._call, "current", None) or Call()

    def _record(self, message_id: str, sender: str, deviations: list[str]) -> None:
        if deviations and self._note is not None:
            self._note(message_id, "ecms.tolerated", {"deviations": deviations, **self._current().dialect()}, sender)

    # -------------------------------------------------------------- helpers

    def _department(self, code: str, ministry: str | None, role: str,
                    deviations: list[str] | None = None) -> Department:
        department = self.store.department(code)
        if department is None:
            raise EcmsFault("E007", f"{role} department {code!r} is not registered on this node")
        if ministry is not None and department.ministry_code != ministry:
            # The department id is authoritative. Deployed clients write the department id
            # there (BOI-DMS) or its first two characters (mil-doc); anything else is refused.
            if ministry == code or code.startswith(ministry) or department.ministry_code.startswith(ministry):
                if deviations is not None:
                    deviations.append(f"{role} ministry {ministry!r} resolved to {department.ministry_code!r} "
                                      f"through department {code!r}")
            else:
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

    def _accept(self, env: Envelope, accept: Accept) -> Any:
        try:
            return accept(env)
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
        """``{name}{ProcessID, processID, ProcessTime, item}``; an empty queue is the bare root
        (BOI-DMS checks its InnerXml is empty; mil-doc must find no ProcessID)."""
        if row is None:
            return soap.element(name)
        stamp = local_time(row.created_at)
        answer = soap.element(name, ProcessID=row.process_id, processID=row.process_id, ProcessTime=stamp)
        item = parse_payload(row.payload)
        if isinstance(item, Letter) and item.raw and self.blobs.exists(item.raw):
            if self.signer is not None and self._current().boi_dialect():
                signature = self.signer.signature_for(soap.stored_document(item.raw, self.blobs), item)
                if signature is not None:
                    answer.append(signature)
            answer.append(soap.raw_document(item.raw))
        else:
            answer.append(item_element(item, "marker"))
        return answer

    # -------------------------------------------------------------- outbound

    def outbound(self, principal: Principal, root: etree._Element) -> etree._Element:
        content = [c for c in root if isinstance(c.tag, str) and localname(c.tag).lower() in ITEM_NAMES]
        if len(content) != 1:
            raise EcmsFault("E004", "CorrespondenceLetterOutboundRequest must hold one GovernmentDocument or notifier")
        item = read_item(content[0])
        validate(item, self.standards_dir)
        if isinstance(item, Letter):
            source = self._current().source
            document = content[0] if localname(content[0].tag).lower() == "governmentdocument" else None
            ref = cut_document(source, document, self.blobs) if source is not None and document is not None else None
            # hubblob:raw is the node's own note of the bytes it cut; one a client wrote would
            # relay any stored document whose hash it names.
            item.raw = ref.sha256 if ref is not None else None
            if ref is None:
                item.deviations.append("the document could not be cut from the request; relayed in canonical form")
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
        deviations = letter.deviations
        sender = self._department(letter.sender.department_id, letter.sender.ministry_id, "sender", deviations)
        receiver = self._department(letter.receiver.department_id, letter.receiver.ministry_id, "receiver", deviations)
        self._refuse_spoof(principal, sender, "letter")
        if receiver.party is None:
            raise EcmsFault("E016", f"department {receiver.code} has no subsystem on this hub to deliver to")
        if self._holds_right is not None and not self._holds_right(sender.party, SERVICE, receiver.party):
            audit.warning("ecms letter refused: %s holds no right for %s toward %s", sender.party, SERVICE,
                          receiver.party)
            raise EcmsFault("E017", f"{sender.party} holds no access right to {SERVICE} at {receiver.party}; "
                                    f"a hub admin grants it (hub agencies grant)")
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
        payload = to_payload(letter)
        # The receiver polls this node: the letter is placed in its queue now, with the letter's
        # row, instead of after the transport's hop (relay, broker, worker). Only the first
        # generation of a letter the node itself accepted: a resend after a withdrawal waits
        # its turn behind what its conversation already has in transit.
        placed_here = accept is self._accept_envelope and generation == 1 and self._polls_here is not None \
            and self._polls_here(receiver.party)
        # Held, the transport leaves the message while the transaction below places it and
        # records it delivered; should that never commit, the transport delivers it after the
        # hold (``ecms-queue`` finds an item placed and applies nothing twice).
        held = placed_here and self._accept_held is not None and self._settle is not None
        accepted = self._accept(Envelope(
            id=message_id, sender=sender.party, receiver=receiver.party, service=SERVICE,
            correlation_id=conversation, classification=letter.secret_code, speed=letter.speed_code,
            content_type="application/xml", payload=payload.decode("utf-8"),
        ), self._accept_held if held else accept)  # type: ignore[arg-type]
        queue = settle = key = None
        if placed_here:
            queue = {"owner_code": receiver.code, "message_id": message_id, "kind": letter.kind,
                     "letter_message_id": message_id, "secret_code": letter.secret_code, "payload": payload}
        if held:
            key = accepted.key

            def settle(conn: Any, process_id: str) -> bool:
                return self._settle(conn, key, Receipt(process_id, {  # type: ignore[misc]
                    "ecms_process_id": process_id, "department": receiver.code}))
        recorded = self.store.record_letter({
            "message_id": message_id, "sender_code": sender.code, "receiver_code": receiver.code,
            "letter_id": letter.id, "correspondence_date": letter.correspondence_date, "subject": letter.subject,
            "secret_code": letter.secret_code, "generation": generation, "conversation": conversation,
        }, queue=queue, settle=settle, hub_key=key)
        if recorded.settled and self._settled is not None:
            self._settled()
        if recorded.created:
            self._record(message_id, sender.party, deviations)
        return soap.element("CorrespondenceLetterOutboundResponse", ProcessID=message_id, processID=message_id,
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
        deviations: list[str] = []
        if notifier.subject is None:
            notifier.subject = letter.subject
            deviations.append("Subject missing; filled from the letter")
        # The id is derived from what the sender wrote, so a resend is the same notifier.
        notifier.accept_date = notifier.accept_department = None
        identity = to_payload(notifier)
        message_id = str(uuid.uuid5(ID_NAMESPACE, "|".join(
            (notifier.kind, letter.message_id, hashlib.sha256(identity).hexdigest()))))
        existing = self._lookup(message_id, source.party)
        if existing is not None:  # a resend: answer as the first time, queue nothing new
            stored = self._stored_notifier(message_id)
            notifier.accept_date = (stored.accept_date if stored is not None else None) or local_time()
        else:
            notifier.accept_date = local_time()
        # AcceptDepartment is the letter's receiving department, for every kind.
        notifier.accept_department = letter.receiver_code
        notifier.letter_message_id = letter.message_id
        if existing is None:
            self._accept(Envelope(
                id=message_id, sender=source.party, receiver=target.party, service=SERVICE,
                correlation_id=letter.conversation, classification=letter.secret_code,
                content_type="application/xml", payload=to_payload(notifier).decode("utf-8"),
            ), accept)
            self._record(message_id, source.party, deviations)
        if notifier.kind == "AcceptLetterNotifier":
            self.store.set_accept_id(letter.message_id, notifier.accept_id or "")
        return soap.element("CorrespondenceLetterOutboundResponse", item_element(notifier),
                            ProcessID=message_id, processID=message_id, ProcessTime=local_time())

    def _stored_notifier(self, message_id: str) -> Notifier | None:
        row = self.store.queue_item_for(message_id)
        item = parse_payload(row.payload) if row is not None else None
        return item if isinstance(item, Notifier) else None

    # -------------------------------------------------------------- inbound

    def inbound(self, principal: Principal, root: etree._Element) -> etree._Element:
        row = self.store.next_item(self._codes(principal), principal.clearance)
        return self._queue_answer("CorrespondenceLetterInboundResponse", row)

    def special(self, principal: Principal, root: etree._Element) -> etree._Element:
        """One item of the caller's queue again, deleted or not: by ProcessID (the hub's
        clients), or by kind and letter (``{Kind}{LetterID, CorrespondenceDate,
        SenderDepartment/Code, AcceptDepartment/Code}``, as mil-doc builds it)."""
        codes = self._codes(principal)
        name = "CorrespondenceLetterInboundSpecialResponse"
        if text(root, "ProcessID") is not None:
            process_id = self._process_id(root)
            row = self.store.item(codes, principal.clearance, process_id)
            if row is None:
                raise EcmsFault("E010", f"no item {process_id!r} in the caller's queue")
            return self._queue_answer(name, row)
        kinds = {k.lower(): k for k in (LETTER_KIND, *NOTIFIER_KINDS)}
        request = next((c for c in root if isinstance(c.tag, str) and localname(c.tag).lower() in kinds), None)
        if request is None:
            raise EcmsFault("E004", "CorrespondenceLetterInboundSpecialRequest needs a ProcessID, or a "
                                    "GovernmentDocument or notifier element naming the letter")
        kind = kinds[localname(request.tag).lower()]
        where = f"CorrespondenceLetterInboundSpecialRequest/{kind}"
        values = {}
        for key, path in (("letter_id", ("LetterID",)), ("date", ("CorrespondenceDate",)),
                          ("sender", ("SenderDepartment", "Code")), ("receiver", ("AcceptDepartment", "Code"))):
            values[key] = text(request, *path)
            if values[key] is None:
                raise EcmsFault("E004", f"{where}/{'/'.join(path)} is missing or empty")
        row = self.store.special_item(codes, principal.clearance, kind, values["letter_id"], values["date"],
                                      values["sender"], values["receiver"])
        if row is None:
            raise EcmsFault("E010", f"no {kind} about letter {values['letter_id']!r} of {values['date']} "
                                    f"in the caller's queue")
        return self._queue_answer(name, row)

    def delete(self, principal: Principal, root: etree._Element) -> etree._Element:
        process_id = self._process_id(root)
        if not self.store.delete_item(self._codes(principal), process_id):
            raise EcmsFault("E010", f"no item {process_id!r} in the caller's queue")
        return soap.element("CorrespondenceLetterDeleteResponse", ProcessID=process_id,
                            ProcessTime=local_time(), Result="deleted")

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
        meta = self._lookup(latest.message_id, sender.party)
        delivered_elsewhere = meta is not None and meta.status == "delivered" and (
            self.store.queue_item_for(latest.message_id) is None)
        refused = self.store.refused(latest.message_id)
        self.store.withdraw(latest.message_id, delivered_elsewhere=delivered_elsewhere, refused=refused)
        if self._note is not None:
            self._note(latest.message_id, "ecms.withdrawn", {
                "by": sender.code, "after": "a Reject or Invalid notifier" if refused else "unread"}, sender.party)
        return soap.element("CorrespondenceDeleteGovernmentDocumentResponse", ProcessID=latest.message_id,
                            LetterID=letter_id, ProcessTime=local_time(), CorrespondenceDate=date,
                            Result="withdrawn")

    # -------------------------------------------------------------- lists and status

    def _node_url(self) -> str:
        """Where this hub's departments post: ``HUB_ECMS_PUBLIC_URL``, else the address the
        caller used, on the public path."""
        if self.public_url:
            return self.public_url
        base = self._current().base_url
        if not base:
            return PUBLIC_PATH
        parts = urlsplit(base)
        return urlunsplit((parts.scheme, parts.netloc, PUBLIC_PATH, "", ""))

    def ministries(self, principal: Principal, root: etree._Element) -> etree._Element:
        # Rows are named MinistryOrganizationList (BOI-DMS reads each as a row), so the root is not.
        rows = [soap.element("MinistryOrganizationList", MinistryID=d.code, **{"Th-Name": d.name_th,
                                                                             "En-Name": d.name_en or ""})
                for d in self.store.departments(kind="ministry")]
        return soap.element("GetMinistryOrganizationListResponse", *rows)

    def organizations(self, principal: Principal, root: etree._Element) -> etree._Element:
        ministry = text(root, "MinistryID") or text(root, "MinistryCode")
        if ministry is not None and self.store.department(ministry) is None:
            raise EcmsFault("E007", f"ministry {ministry!r} is not registered on this node")
        url = self._node_url()
        # All five children in every row, Th-Name right after name: mil-doc aligns the
        # En-Name/Th-Name/ECMS-URL/OrganizationID arrays, BOI-DMS reads name.NextSibling.
        rows = [soap.element("OrganizationList", **{
            "En-Name": d.name_en or "", "name": d.name_en or "", "Th-Name": d.name_th, "ECMS-URL": url,
            "OrganizationID": d.code, "MinistryID": d.ministry_code})
            for d in self.store.departments(kind="department", ministry_code=ministry)]
        return soap.element("GetOrganizationListResponse", *rows)

    def secret_codes(self, principal: Principal, root: etree._Element) -> etree._Element:
        return soap.element("GetSecretCodesResponse", soap.element("SecretCodes", *(
            soap.element("Code", Value=k, Description=v) for k, v in SECRET_CODES.items())))

    def speed_codes(self, principal: Principal, root: etree._Element) -> etree._Element:
        return soap.element("GetSpeedCodesResponse", soap.element("SpeedCodes", *(
            soap.element("Code", Value=k, Description=v) for k, v in SPEED_CODES.items())))

    def mime_codes(self, principal: Principal, root: etree._Element) -> etree._Element:
        return soap.element("GetMimeCodesResponse", soap.element("MimeCodes", *(
            soap.element("Code", **{"File-Extension": extension, "Content-type": mime})
            for mime, extension in MIME_CODES.items())))

    def _status_row(self, process_id: str, meta: StoredMessage) -> etree._Element:
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
        if letter is not None:
            letter_id = letter.letter_id
        else:
            queued = parse_payload(item.payload) if item is not None else None
            letter_id = queued.letter_id if isinstance(queued, Notifier) else ""
        return soap.element("Outbound", ProcessID=process_id, LetterID=letter_id, ProcessStatus=status,
                            StatusTime=local_time(at) if at else None,
                            AcceptID=letter.accept_id if letter is not None else None, Detail=hide_endpoints(meta.last_error))

    def outbound_status(self, principal: Principal, root: etree._Element) -> etree._Element:
        """``Outbound`` rows: the one asked for, or (no ProcessID, as deployed clients ask) every
        letter the caller's departments sent."""
        if text(root, "ProcessID") is None:
            rows = []
            for letter in self.store.outbound_letters(self._codes(principal)):
                department = self.store.department(letter.sender_code)
                meta = self._lookup(letter.message_id, department.party) if department and department.party else None
                if meta is not None:
                    rows.append(self._status_row(letter.message_id, meta))
            return soap.element("OutboundStatusResponse", *rows)
        process_id = self._process_id(root)
        parties = {d.party for d in self.store.departments_of(principal) if d.party}
        meta = next((m for p in sorted(parties) if (m := self._lookup(process_id, p)) is not None), None)
        if meta is None or not principal.acts_for(meta.sender):
            raise EcmsFault("E010", f"no outbound item {process_id!r} sent by the caller")
        return soap.element("OutboundStatusResponse", self._status_row(process_id, meta))

    def time_check(self, principal: Principal, root: etree._Element) -> etree._Element:
        return soap.element("TimeCheckResponse", ECMSTime=local_time())
