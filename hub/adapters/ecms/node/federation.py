"""Federation: taking in what a remote e-CMS node holds for us (DGA's node, or another hub).

Design — *push outbound, pull inbound*, the way an e-Saraban uses a node:

* A department that lives on a remote node is registered on this hub with a route whose
  adapter is ``ecms`` (``EcmsService.register_department(..., adapter="ecms",
  adapter_settings={"url": ..., "department": <our code there>, ...})``). Letters and
  notifiers this hub's agencies address to it are hub messages, delivered by that adapter
  with ``CorrespondenceLetterOutbound`` (retries, dead letters: the transport's).
* Everything the remote node holds for our department — letters from its agencies, and
  the notifiers about letters we sent — waits in our department's queue *there*.
  :func:`take_in` reads that queue one item at a time and accepts each item through this
  hub's e-CMS node (``EcmsNode.accept_from_peer``), as if the remote agency had posted it
  here, so it reaches the local agency's queue (or its push route) with the node's checks
  and letter register. The remote node never needs to reach this hub: the same code works
  against DGA's node, which only answers.
* When it runs is not decided here: the ``ecms`` adapter's ``poll(sink)`` calls
  :func:`take_in` with the sink's accept, and the transport's one scheduler
  (``hub.transport.inbound``) calls that poll on the route's interval (``hub adapters poll
  ROUTE`` on demand).

Lossless across restarts: an item is deleted on the remote node (``CorrespondenceLetterDelete``)
only after its accept here is committed. A crash in between leaves the item at the head of
the remote queue; the next poll reads it again, and the accept is absorbed because the
message id is derived from the letter (sender, receiver, LetterID, date, generation) or,
for a notifier, from its letter and content. No cursor is needed. When the accept itself
fails (the hub's database is down), the exception passes through and nothing is deleted.

An item this hub refuses for good (unknown department, not cleared, spoofed sender,
invalid letter) would otherwise block the remote queue forever: a refused letter is
answered with ``InvalidLetterNotifier`` to its sender, a refused notifier is dropped, both
are deleted remotely and audited (``hub.audit.ecms``).
"""
from __future__ import annotations

import logging
from typing import Any, Protocol

from lxml import etree

from hub.adapters.base import PollReport
from hub.adapters.ecms.codec.codes import EcmsFault, PeerError
from hub.adapters.ecms.codec.letter import Letter, Notifier, kid, localname, notifier_element, text
from hub.adapters.ecms.node.node import Accept, EcmsNode
from hub.schemas.principal import CLIENT, Principal

log = logging.getLogger(__name__)
audit = logging.getLogger("hub.audit.ecms")


class RemoteQueue(Protocol):
    """Our department's queue on a remote node (the ``ecms`` adapter); calls raise ``PeerError``."""

    def poll_item(self) -> Any | None:
        """The head of the queue (``process_id``, ``element``), which stays until deleted; None if empty."""
        ...

    def decode(self, queued: Any) -> Letter | Notifier:
        """The item with its attachments stored in this hub's blob store; ``EcmsFault`` if unreadable."""
        ...

    def delete(self, process_id: str) -> bool: ...

    def notify(self, element: etree._Element) -> str: ...


def peer_principal(url: str, parties: frozenset[str]) -> Principal:
    """Who a remote node is when its items are accepted here: it acts for the departments this
    hub reaches through it, so the node's spoof check still applies to what it sends."""
    return Principal(subject=f"ecms-peer:{url}", roles=frozenset({CLIENT}), subsystems=parties, clearance="004",
                     method="ecms-federation")


def take_in(node: EcmsNode, remote: RemoteQueue, peer: Principal, accept: Accept, *, url: str,
            max_items: int) -> PollReport:
    """Accept up to ``max_items`` items of the remote queue here, deleting each remotely only
    after ``accept`` has committed it. Stops early (``error``) when the remote node fails."""
    accepted: list[str] = []
    refused: list[str] = []
    error: str | None = None
    for _ in range(max_items):
        try:
            queued = remote.poll_item()
        except PeerError as exc:
            error = exc.message
            log.warning("e-CMS federation: %s", exc.message)
            break
        if queued is None:
            break
        try:
            message_id = node.accept_from_peer(peer, remote.decode(queued), accept)
        except EcmsFault as fault:
            error = _refuse(remote, url, queued, fault)
            if error is not None:
                break
            refused.append(queued.process_id)
            continue
        # Committed: ``accept`` has returned.
        accepted.append(message_id)
        try:
            remote.delete(queued.process_id)
        except PeerError as exc:
            # Accepted but not deleted: the next poll reads it again and the accept is
            # absorbed (same message id).
            error = exc.message
            log.warning("e-CMS federation: accepted %s but could not delete it: %s", message_id, exc.message)
            break
    summary = f"e-CMS {url}: {len(accepted)} item(s) accepted, {len(refused)} refused" + (
        f"; stopped: {error}" if error else "")
    return PollReport(summary, accepted=accepted, refused=refused, error=error)


def _refuse(remote: RemoteQueue, url: str, queued: Any, fault: EcmsFault) -> str | None:
    """Answer and drop an item this hub will never accept. Returns why the poll must stop (the
    answer or the delete could not be sent yet; the item stays and is refused again next
    time), or None when the item is gone."""
    element = queued.element
    is_letter = localname(element.tag).lower() in ("governmentdocument", "correspondenceletter")
    audit.warning("ecms federation refused item: peer=%s process_id=%s kind=%s code=%s reason=%s",
                  url, queued.process_id, localname(element.tag), fault.code, fault.description)
    if is_letter:
        letter = element if localname(element.tag).lower() == "correspondenceletter" else kid(
            element, "CorrespondenceLetter")
        letter_id, date = text(letter, "ID"), text(letter, "CorrespondenceDate")
        if letter_id and date:
            notice = Notifier("InvalidLetterNotifier", letter_id, date, text(letter, "Subject"))
            try:
                remote.notify(notifier_element(notice))
            except PeerError as exc:
                if not exc.permanent:
                    return exc.message
                log.warning("e-CMS federation: InvalidLetterNotifier for %s refused: %s", letter_id, exc.message)
    try:
        remote.delete(queued.process_id)
    except PeerError as exc:
        return exc.message
    return None
