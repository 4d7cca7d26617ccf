"""The data tracker: every read of one citizen's data, as the signed audit trail recorded it.

A read is in the tracker because the service that served it wrote its audit entry before
answering (``citizen.record.read`` by the unified record, ``person.read`` by the person
registry), under the citizen's keyed pseudonym; the tracker only reads the chain. The chain
is append-only, hash-linked and sealed with the hub's key (``hub.security.audit``), and no
API, CLI or role deletes or edits an entry, so an agency cannot hide a read: removing one
breaks ``hub audit verify``. Each line carries its sequence number and entry hash, so a
citizen can cite exactly the entry they question. Refused attempts are not reads and are not
listed (they are in the audit trail for auditors).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select

from hub.integration.eservices import EServices
from hub.registry.tables import consents as agency_consents
from hub.security.audit import AuditLog

RECORD_READ = "citizen.record.read"
REGISTRY_READ = "person.read"
CSV_COLUMNS = ("at", "reader", "reader_kind", "reader_name_th", "reader_name_en", "channel", "fields", "groups",
               "purpose", "basis", "basis_id", "seq", "entry_hash")


class DataTracker:
    def __init__(self, engine: Engine, audit: AuditLog, pseudonym: Callable[[str, str], str],
                 eservices: EServices) -> None:
        self._engine = engine
        self._audit = audit
        self._pseudonym = pseudonym
        self._eservices = eservices

    def reads(self, citizen_id: str) -> list[dict[str, Any]]:
        """The citizen's reads, oldest first."""
        target = self._pseudonym("person", citizen_id)
        entries = [e for kind in (RECORD_READ, REGISTRY_READ)
                   for e in self._audit.entries(kind=kind, target=target) if e["decision"] == "granted"]
        entries.sort(key=lambda e: e["seq"])
        names = {s.client_id: s for s in self._eservices.list()}
        return [self._line(e, names) for e in entries]

    def _agency_purpose(self, consent_id: Any) -> str | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(agency_consents.c.purpose).where(agency_consents.c.id == int(consent_id))).first()
        return row.purpose if row else None

    def _line(self, entry: dict[str, Any], names: dict[str, Any]) -> dict[str, Any]:
        detail = json.loads(entry["detail"]) if isinstance(entry["detail"], str) else dict(entry["detail"] or {})
        if entry["kind"] == RECORD_READ:
            basis = detail.get("basis") or {}
            line = {"channel": "record", "reader": detail.get("reader") or entry["actor"],
                    "reader_kind": detail.get("reader_kind", "agency"), "fields": list(detail.get("fields", [])),
                    "groups": list(detail.get("groups", [])), "purpose": detail.get("purpose"),
                    "basis": basis.get("kind"), "basis_id": basis.get("id"),
                    "sources": detail.get("sources", {})}
        else:  # the person registry's own reads (GET /v1/persons/{id})
            actor = entry["actor"]
            line = {"channel": "person_registry", "reader": actor,
                    "reader_kind": "admin" if detail.get("basis") == "admin" else "agency",
                    "fields": list(detail.get("fields", [])), "groups": ["person"],
                    "purpose": self._agency_purpose(detail["consent_id"]) if detail.get("consent_id") else None,
                    "basis": {"consent": "agency_consent"}.get(detail.get("basis"), detail.get("basis")),
                    "basis_id": str(detail["consent_id"]) if detail.get("consent_id") is not None else None,
                    "sources": {}}
        service = names.get(line["reader"]) if line["reader_kind"] == "eservice" else None
        line["reader_name_th"] = service.name_th if service else line["reader"]
        line["reader_name_en"] = service.name_en if service else line["reader"]
        return {"at": entry["at"], **line, "seq": entry["seq"], "entry_hash": entry["entry_hash"]}

    @staticmethod
    def as_csv(lines: list[dict[str, Any]]) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        for line in lines:
            writer.writerow({**line, "fields": " ".join(line["fields"]), "groups": " ".join(line["groups"])})
        return out.getvalue()
