"""Wiring of the e-CMS node inside a hub: settings, store, blob store, node, department routes.

``build_ecms`` is called by ``hub.bootstrap.build_hub`` with what the node needs from the hub
— the durable ``accept``, a message ``lookup`` and the routing table (``RouteBook``) — so
the node never imports the transport. The bootstrap then provides the service to the
adapters that declare it (``resources = {ECMS_NODE}``): the ``ecms-queue`` adapter of a
delivery worker writes into the same queues the node reads, and the ``ecms`` adapter reads
attachments from, and polls its remote queue into, this node.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine

from hub.adapters.ecms.codec.blobs import BlobStore
from hub.adapters.ecms.node.node import SERVICE, Accept, EcmsNode, Lookup, Note, RecordRefusal, Settle
from hub.adapters.ecms.node.signing import NodeSigner
from hub.adapters.ecms.node.store import Department, EcmsStore
from hub.config import EcmsSettings, Settings
from hub.errors import FieldError, InputError
from hub.schemas.principal import CLEARANCE_LEVELS
from hub.schemas.routes import Route, RouteIn


QUEUE_ADAPTER = "ecms-queue"  # delivery into a department's poll queue on this node


class RouteBook(Protocol):
    """What the node needs of the hub's routing table (``hub.transport.routing.Router``)."""

    def find(self, receiver: str, service: str) -> Route | None: ...

    def add(self, route: RouteIn) -> Route: ...

    def list(self) -> list[Route]: ...


@dataclass
class EcmsService:
    settings: EcmsSettings
    store: EcmsStore
    blobs: BlobStore
    node: EcmsNode
    routes: RouteBook

    def register_department(self, code: str, ministry_code: str, name_th: str, *, name_en: str | None = None,
                            party: str | None = None, clearance: str = "001", secret: str | None = None,
                            adapter: str = QUEUE_ADAPTER, adapter_settings: dict | None = None) -> Department:
        """Add (or update) a department; a department with a subsystem gets a route for e-CMS
        letters, by default into its poll queue on this node."""
        department = self.store.add_department(code, ministry_code, name_th, name_en=name_en, party=party,
                                               clearance=clearance, secret=secret)
        if party and self.routes.find(party, SERVICE) is None:
            self.routes.add(RouteIn(receiver=party, service=SERVICE, adapter=adapter,
                                    settings=adapter_settings or {}, max_attempts=100,
                                    backoff_base_seconds=0.5, backoff_max_seconds=60))
        return department

    def onboard(self, code: str, ministry_code: str, name_th: str, *, name_en: str | None = None,
                party: str | None = None, clearance: str = "001", secret: str | None = None) -> Department:
        """``register_department`` with the hub's input errors (CLI and admin API): each
        problem named by field."""
        errors = []
        if not re.fullmatch(r"[0-9A-Za-z]{2,20}", code):
            errors.append(FieldError("/code", "pattern", "2-20 letters or digits, e.g. 0401"))
        if not re.fullmatch(r"[0-9A-Za-z]{2,20}", ministry_code):
            errors.append(FieldError("/ministry_code", "pattern", "2-20 letters or digits, e.g. 0400"))
        if not name_th.strip():
            errors.append(FieldError("/name_th", "required", "the department's Thai name"))
        if clearance not in CLEARANCE_LEVELS:
            errors.append(FieldError("/clearance", "enum", f"one of {', '.join(CLEARANCE_LEVELS)}"))
        if party is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,32}/[A-Z]{2,10}/[A-Za-z0-9._-]{1,64}/[A-Za-z0-9._-]{1,64}", party):
            errors.append(FieldError("/party", "pattern", "a subsystem id, e.g. TH/GOV/0401/saraban"))
        if code != ministry_code and not errors and self.store.department(ministry_code) is None:
            errors.append(FieldError("/ministry_code", "exists", f"ministry {ministry_code} is not registered; add it first"))
        if errors:
            raise InputError("the e-CMS department is not valid", errors=errors)
        return self.register_department(code, ministry_code, name_th, name_en=name_en, party=party,
                                        clearance=clearance, secret=secret)

    def parties_behind(self, adapter: str, url: str) -> frozenset[str]:
        """The subsystems of the departments this hub reaches through the remote node at ``url``
        (the receivers of routes with ``adapter`` to it): the ones that node may send as."""
        return frozenset(r.receiver for r in self.routes.list()
                         if r.adapter == adapter and str(r.settings.get("url")) == url)


def build_ecms(settings: Settings, engine: Engine, *, accept: Accept, lookup: Lookup, routes: RouteBook,
               note: Note | None = None, holds_right: Callable[[str, str, str], bool] | None = None,
               record_refusal: RecordRefusal | None = None, accept_held: Accept | None = None,
               settle: Settle | None = None, settled: Callable[[], None] | None = None) -> EcmsService:
    """The node configured by ``settings.ecms``, its blobs under ``settings.data_dir``, letters
    checked against ``settings.standards_dir``; called by ``hub.bootstrap.build_hub`` only.

    ``accept_held`` and ``settle`` (both or neither): a letter placed in its receiver's poll
    queue at accept is stored held and recorded delivered with its queue row (see ``EcmsNode``)."""
    blobs = BlobStore(Path(os.fspath(settings.data_dir)).resolve() / "ecms-blobs")
    store = EcmsStore(engine)
    node = EcmsNode(store, blobs, accept, lookup, standards_dir=settings.standards_dir, note=note,
                    public_url=settings.ecms.public_url, signer=NodeSigner.load(settings.ecms, blobs.root.parent),
                    holds_right=holds_right, record_refusal=record_refusal,
                    polls_here=lambda party: getattr(routes.find(party, SERVICE), "adapter", None) == QUEUE_ADAPTER,
                    accept_held=accept_held, settle=settle, settled=settled)
    return EcmsService(settings.ecms, store, blobs, node, routes)


