"""Wiring of the e-CMS node inside a hub: store, blob store, node, department routes.

``build_ecms`` is called by ``hub.bootstrap.build_hub``; it also hands the service to
adapters (``AdapterRegistry.resources["ecms"]``) so the ``ecms-queue`` adapter of a
delivery worker writes into the same queues the node reads.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from hub.adapters.registry import AdapterRegistry
from hub.config import EcmsSettings, Settings
from hub.ecms.blobs import BlobStore
from hub.ecms.node import SERVICE, EcmsNode
from hub.ecms.store import Department, EcmsStore
from hub.schemas.routes import RouteIn
from hub.transport.messages import MessageService
from hub.transport.routing import Router


@dataclass
class EcmsService:
    settings: EcmsSettings
    store: EcmsStore
    blobs: BlobStore
    node: EcmsNode
    router: Router

    def register_department(self, code: str, ministry_code: str, name_th: str, *, name_en: str | None = None,
                            party: str | None = None, clearance: str = "001", secret: str | None = None,
                            adapter: str = "ecms-queue", adapter_settings: dict | None = None) -> Department:
        """Add (or update) a department; a department with a subsystem gets a route for e-CMS
        letters, by default into its poll queue on this node."""
        department = self.store.add_department(code, ministry_code, name_th, name_en=name_en, party=party,
                                               clearance=clearance, secret=secret)
        if party and self.router.find(party, SERVICE) is None:
            self.router.add(RouteIn(receiver=party, service=SERVICE, adapter=adapter,
                                    settings=adapter_settings or {}, max_attempts=100,
                                    backoff_base_seconds=0.5, backoff_max_seconds=60))
        return department


def build_ecms(settings: Settings, engine: Engine, messages: MessageService, router: Router,
               adapters: AdapterRegistry) -> EcmsService:
    """The node configured by ``settings.ecms``, its blobs under ``settings.data_dir``, letters
    checked against ``settings.standards_dir``; called by ``hub.bootstrap.build_hub`` only."""
    blobs = BlobStore(Path(os.fspath(settings.data_dir)).resolve() / "ecms-blobs")
    store = EcmsStore(engine)
    node = EcmsNode(store, blobs, messages, standards_dir=settings.standards_dir)
    service = EcmsService(settings.ecms, store, blobs, node, router)
    adapters.resources["ecms"] = service
    return service
