"""Delivery into a department's poll queue on this hub's e-CMS node.

Features:
    - the receiver's e-Saraban polls (``CorrespondenceLetterInboundRequest``) and deletes the
      item by ``ProcessID``; this adapter's receipt *is* that ProcessID;
    - a redelivery of the same message id returns the same ProcessID (applied once); so does
      the delivery of a letter the node already placed in its receiver's queue at accept
      (``EcmsNode``: the receipt then says since when it is there);
    - a letter withdrawn before delivery is not queued (receipt says so);
    - an item the node accepted is queued under the id the node derived (its withdrawals,
      notifiers and ``OutboundStatus`` find it by that id); any other message under its hub
      key, so another sender's message can never take a node-derived id in a queue
      (issue 12, finding 7: message ids are unique per sender only).

Connection string (route settings): {} — the department is the one bound to the route's
receiver subsystem (``hub ecms departments add ... --party``). Routes are created by the
node when a department is registered.
"""
from __future__ import annotations

from typing import Any

from hub.clock import as_utc
from hub.adapters.base import ECMS_NODE, SEND, Adapter, Health, OutboundMessage, Receipt
from hub.adapters.ecms.codec.codes import EcmsFault
from hub.adapters.ecms.codec.letter import LETTER_KIND, Letter, parse_payload
from hub.errors import DeliveryError
from hub.standards.safexml import XmlError


class EcmsQueueAdapter(Adapter):
    scheme = "ecms-queue"
    capabilities = frozenset({SEND})
    summary = "Place letters and notifiers in a department's e-CMS poll queue on this hub."
    resources = frozenset({ECMS_NODE})  # the node whose queues its departments poll

    def send(self, message: OutboundMessage) -> Receipt:
        service = self.resource(ECMS_NODE)
        if service is None:
            raise DeliveryError("this process runs no e-CMS node (hub.bootstrap did not bind one)")
        store = service.store
        department = store.by_party(message.meta.receiver)
        if department is None:
            raise DeliveryError(f"no e-CMS department is bound to {message.meta.receiver}", permanent=True)
        placed_at_accept = _placed_at_accept(store, message, department.code)
        if placed_at_accept is not None:
            return placed_at_accept
        try:
            item = parse_payload(message.payload)
        except (EcmsFault, XmlError) as exc:
            raise DeliveryError(f"payload is not an e-CMS letter or notifier: {exc}", permanent=True) from exc
        is_letter = isinstance(item, Letter)
        node_item = node_accepted(store, message, is_letter, None if is_letter else item.letter_message_id)
        queue_id = message.id if node_item else message.key
        placed = store.enqueue(
            owner_code=department.code, message_id=queue_id, kind=item.kind,
            letter_message_id=queue_id if isinstance(item, Letter) else item.letter_message_id,
            secret_code=message.meta.classification, payload=message.payload,
        )
        if not placed.queued:
            return Receipt("withdrawn before delivery", {"department": department.code})
        return _receipt(placed.process_id, department.code, placed.already_since)

    def check(self) -> Health:
        if self.resource(ECMS_NODE) is None:
            return Health(False, "no e-CMS node bound in this process")
        return Health(True, "e-CMS node queue store available")


def _placed_at_accept(store: Any, message: OutboundMessage, department_code: str) -> Receipt | None:
    """The receipt of an item the node placed in this department's queue at accept (or an
    earlier attempt placed), decided from its queue row: most deliveries, which then neither
    parse the payload (a 1 MiB letter: 1.4 MiB of XML) nor open a write transaction. None
    when there is no such row, or it is not this message's (another sender's message with the
    same id): the full path decides."""
    row = store.queued(message.id)
    if row is None or row.owner_code != department_code:
        return None
    is_letter = row.kind == LETTER_KIND
    if not node_accepted(store, message, is_letter, None if is_letter else row.letter_message_id):
        return None
    return _receipt(row.process_id, department_code, row.created_at)


def _receipt(process_id: str, department_code: str, already_since: Any) -> Receipt:
    detail = {"ecms_process_id": process_id, "department": department_code}
    if already_since is not None:
        # Placed at accept by the node, or by an earlier attempt: the history says since when.
        detail["in_queue_since"] = as_utc(already_since).isoformat()
    return Receipt(process_id, detail)


def node_accepted(store: Any, message: OutboundMessage, is_letter: bool, letter_message_id: str | None) -> bool:
    """Whether the node accepted this item: a letter it recorded under this id from this sender,
    or a notifier (about ``letter_message_id``) from one of that letter's two departments."""
    if message.key == message.id:  # stored before ids were per sender: one id, one message
        return True
    letter = store.letter(message.id if is_letter else letter_message_id or "")
    if letter is None:
        return False
    codes = (letter.sender_code,) if is_letter else (letter.sender_code, letter.receiver_code)
    parties = {d.party for code in codes if (d := store.department(code)) is not None}
    return message.meta.sender in parties
