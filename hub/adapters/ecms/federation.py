"""Federation: the scheduled poll of remote e-CMS nodes (DGA's node, or another hub).

Design — *push outbound, pull inbound*, the way an e-Saraban uses a node:

* A department that lives on a remote node is registered on this hub with a route whose
  adapter is ``ecms`` (``EcmsService.register_department(..., adapter="ecms",
  adapter_settings={"url": ..., "department": <our code there>, ...})``). Letters and
  notifiers this hub's agencies address to it are hub messages, delivered by that adapter
  with ``CorrespondenceLetterOutbound`` (retries, dead letters: the transport's).
* Everything the remote node holds for our department — letters from its agencies, and
  the notifiers about letters we sent — waits in our department's queue *there*. This
  poller reads that queue one item at a time and accepts each item through this hub's
  e-CMS node (``EcmsNode.accept_from_peer``), as if the remote agency had posted it here,
  so it reaches the local agency's queue (or its push route) with the node's checks and
  letter register. The remote node never needs to reach this hub: the same code works
  against DGA's node, which only answers.

Lossless across restarts: an item is deleted on the remote node (``CorrespondenceLetterDelete``)
only after its accept here is committed. A crash in between leaves the item at the head of
the remote queue; the next poll reads it again, and the accept is absorbed because the
message id is derived from the letter (sender, receiver, LetterID, date, generation) or,
for a notifier, from its letter and content. No cursor table is needed.

An item this hub refuses for good (unknown department, not cleared, spoofed sender,
invalid letter) would otherwise block the remote queue forever: a refused letter is
answered with ``InvalidLetterNotifier`` to its sender, a refused notifier is dropped, both
are deleted remotely and audited (``hub.audit.ecms``).

Test-only fault point: with ``HUB_TEST_ECMS_FEDERATION_FAULT=kill-before-delete`` the process
SIGKILLs itself after an accept is committed and before the remote delete (the crash test
in ``tests/e2e/test_ecms_federation.py``); nothing else reads that variable.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from hub.adapters.ecms.client import EcmsClientAdapter, PeerError
from hub.schemas.principal import CLIENT, Principal
from hub.schemas.routes import Route

log = logging.getLogger(__name__)
audit = logging.getLogger("hub.audit.ecms")

FAULT_ENV = "HUB_TEST_ECMS_FEDERATION_FAULT"
# How often the route list is re-read when no peer is due sooner: a new ecms route starts
# being polled within this time.
ROUTES_REFRESH_SECONDS = 1.0


@dataclass
class PollReport:
    peer: str
    accepted: list[str] = field(default_factory=list)  # hub message ids (new or re-polled)
    refused: list[str] = field(default_factory=list)  # remote ProcessIDs refused and deleted
    error: str | None = None  # why the poll stopped early (the rest waits for the next poll)


@dataclass
class Peer:
    """One remote queue: a (node, login, department) shared by one or more ``ecms`` routes."""

    key: tuple[str, str | None, str]
    route: Route  # the route whose adapter instance polls
    parties: frozenset[str]  # subsystems of the departments reached through this node
    interval: float


class FederationPoller:
    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._due: dict[tuple[str, str | None, str], float] = {}

    # -------------------------------------------------------------- schedule

    def peers(self, *, scheduled_only: bool = True) -> list[Peer]:
        """The remote queues to poll; ``scheduled_only`` leaves out routes with ``poll`` off."""
        default = self._hub.ecms.settings.poll_interval_seconds
        routes = [r for r in self._hub.router.list() if r.adapter == EcmsClientAdapter.scheme]
        by_url: dict[str, set[str]] = {}
        for route in routes:
            by_url.setdefault(str(route.settings.get("url")), set()).add(route.receiver)
        peers: dict[tuple[str, str | None, str], Peer] = {}
        for route in routes:
            s = route.settings
            if scheduled_only and not s.get("poll", True):
                continue
            key = (str(s["url"]), s.get("username"), str(s["department"]))
            interval = float(s.get("poll_interval_seconds") or default)
            if key in peers:  # several remote departments behind one queue: poll it once
                peers[key].interval = min(peers[key].interval, interval)
                continue
            peers[key] = Peer(key, route, frozenset(by_url[key[0]]), interval)
        return list(peers.values())

    def run(self, stop: threading.Event) -> None:
        """The worker thread (``Hub.start_workers``): poll each peer when it is due."""
        while not stop.is_set():
            wait = ROUTES_REFRESH_SECONDS
            try:
                for peer in self.peers():
                    now = time.monotonic()
                    due = self._due.get(peer.key, 0.0)
                    if now >= due:
                        self.poll(peer)
                        due = time.monotonic() + peer.interval
                        self._due[peer.key] = due
                    wait = min(wait, max(due - time.monotonic(), 0.0))
            except Exception:  # noqa: BLE001
                # A database hiccup or a bug in one poll must not end federation for the life
                # of the process; the next round retries, and nothing is deleted remotely
                # unless its accept was committed.
                log.exception("e-CMS federation poll round failed; retrying")
            stop.wait(max(wait, 0.05))

    def poll_route(self, route: Route) -> PollReport:
        """One poll of the peer behind ``route`` (``hub adapters poll ROUTE``), scheduled or not:
        with ``poll`` off in the route, an operator (or cron) drives the polling this way."""
        for peer in self.peers(scheduled_only=False):
            if peer.route.id == route.id or (route.receiver in peer.parties and peer.key[0] == route.settings["url"]):
                return self.poll(peer)
        return PollReport(str(route.settings.get("url")), error=f"route {route.id} is not an ecms route")

    # -------------------------------------------------------------- one poll

    def poll(self, peer: Peer) -> PollReport:
        from hub.ecms.codes import EcmsFault

        adapter: EcmsClientAdapter = self._hub.adapter_pool.for_route(peer.route)
        node = self._hub.ecms.node
        principal = Principal(subject=f"ecms-peer:{peer.key[0]}", roles=frozenset({CLIENT}),
                              subsystems=peer.parties, clearance="004", method="ecms-federation")
        report = PollReport(peer.key[0])
        for _ in range(adapter.settings.max_items_per_poll):
            try:
                queued = adapter.poll_item()
            except PeerError as exc:
                report.error = exc.message
                log.warning("e-CMS federation: %s", exc.message)
                break
            if queued is None:
                break
            try:
                item = adapter.decode(queued)
                message_id = node.accept_from_peer(principal, item)
            except EcmsFault as fault:
                if not self._refuse(adapter, peer, queued, fault, report):
                    break
                continue
            # Committed: the group commit of hub.messages.accept has returned.
            report.accepted.append(message_id)
            if os.environ.get(FAULT_ENV) == "kill-before-delete":
                os.kill(os.getpid(), signal.SIGKILL)
            try:
                adapter.delete(queued.process_id)
            except PeerError as exc:
                # Accepted but not deleted: the next poll reads it again and the accept is
                # absorbed (same message id).
                report.error = exc.message
                log.warning("e-CMS federation: accepted %s but could not delete it: %s", message_id, exc.message)
                break
        return report

    def _refuse(self, adapter: EcmsClientAdapter, peer: Peer, queued: Any, fault: Any,
                report: PollReport) -> bool:
        """Answer and drop an item this hub will never accept. False: stop this poll (the
        answer could not be sent yet; the item stays and is refused again next time)."""
        from hub.ecms.letter import Notifier, kid, localname, notifier_element, text

        element = queued.element
        is_letter = localname(element.tag).lower() in ("governmentdocument", "correspondenceletter")
        audit.warning("ecms federation refused item: peer=%s process_id=%s kind=%s code=%s reason=%s",
                      peer.key[0], queued.process_id, localname(element.tag), fault.code, fault.description)
        if is_letter:
            letter = element if localname(element.tag).lower() == "correspondenceletter" else kid(
                element, "CorrespondenceLetter")
            letter_id, date = text(letter, "ID"), text(letter, "CorrespondenceDate")
            if letter_id and date:
                notice = Notifier("InvalidLetterNotifier", letter_id, date, text(letter, "Subject"))
                try:
                    adapter.notify(notifier_element(notice))
                except PeerError as exc:
                    if not exc.permanent:
                        report.error = exc.message
                        return False
                    log.warning("e-CMS federation: InvalidLetterNotifier for %s refused: %s", letter_id, exc.message)
        try:
            adapter.delete(queued.process_id)
        except PeerError as exc:
            report.error = exc.message
            return False
        report.refused.append(queued.process_id)
        return True
