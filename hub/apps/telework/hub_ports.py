"""The ports implemented through the hub: every write is an envelope accepted by the hub's
``MessageService`` (durable, retried, in the message log) and routed to whatever adapter the
receiving agency's route names (DPIS, GFMIS, HTTP...). Reads go through the hub's adapters
(the HR directory is the DPIS adapter of the HR agency's route); the evidence goes into the
hub's signed audit log. Official letters leave from the agency's own e-Saraban through the
hub's e-CMS node (``saraban.py``).

Parties: an agency member ``TH/GOV/CGD`` sends as its ``telework`` subsystem; receivers are the
agency's subsystems ``saraban`` (e-Saraban, via e-CMS), ``dpis`` (HR), ``gfmis`` (finance),
``gsms`` (strategy), ``eoffice`` (notifications to officials).

Services (routes match on them):
    ecms.letter/v1          an official letter (sent by the agency's e-Saraban over e-CMS)
    hr.attendance/v1        telework days / one day's check-in and check-out (DPIS adapter payload)
    hr.telework.cancel/v1   days a revocation ends
    gfmis.batch/v1          th.gfmis.batch document (GFMIS-style adapter payload)
    gsms.kpi/v1             th.gsms.kpi: KPI results next to the financial figures and the GFMIS verdict
    telework.notice/v1      a notice to an official (supervisor alert, report to the head)
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from hub.adapters.base import COMPLETED, OUTCOME_STATUSES, PARTLY_REJECTED, REJECTED
from hub.apps.telework import documents as D
from hub.apps.telework.domain.model import DEPARTMENT, MINISTRY, UNIT, Officer, OrgUnit
from hub.apps.telework.ports import (
    AuditCheck, AuditTrail, BatchResult, Events, Finance, HrDirectory, HrRecords, Notifications, Strategy,
)
from hub.schemas.envelope import Envelope
from hub.thai import format_date
from hub.transport.messages import DEAD, MessageService

LETTER, ATTENDANCE, CANCEL, BATCH, KPI, NOTICE = (
    "ecms.letter/v1", "hr.attendance/v1", "hr.telework.cancel/v1", "gfmis.batch/v1", "gsms.kpi/v1",
    "telework.notice/v1",
)


def party(agency: str, subsystem: str) -> str:
    return f"{agency}/{subsystem}"


class HubClient:
    """Sends as an agency's ``telework`` subsystem through the hub."""

    def __init__(self, messages: MessageService) -> None:
        self.messages = messages

    def send(self, sender_agency: str, receiver: str, service: str, payload: Any, *,
             standard: str | None = None, correlation_id: str | None = None, classification: str = "001",
             user_id: str | None = None) -> str:
        env = Envelope(id=uuid.uuid4(), sender=party(sender_agency, "telework"), receiver=receiver, service=service,
                       standard=standard, correlation_id=correlation_id, classification=classification,
                       user_id=user_id, payload=payload)
        return self.messages.accept(env).id


class HubHrRecords(HrRecords):
    """A day's time evidence to the HR agency's DPIS (the adapter takes the
    ``th.telework.time-evidence`` document as it is): nothing before the day is worked."""

    def __init__(self, client: HubClient) -> None:
        self.client = client

    def write_attendance(self, agency: str, hr_agency: str, time_evidence: dict[str, Any]) -> str:
        return self.client.send(agency, party(hr_agency, "dpis"), ATTENDANCE, time_evidence,
                                standard=D.ref(D.TIME_EVIDENCE), correlation_id=time_evidence["order_ref"],
                                user_id=time_evidence["person_citizen_id"])


def savings_batch(savings: dict[str, Any], agency_code: str, today: dt.date) -> dict[str, Any]:
    """A th.gfmis.batch document: one line per saved amount, control totals in the trailer."""
    fy = savings["fiscal_year"]
    # Fund source: digits 1-2 the fiscal year, digit 3 "1" in-budget (DOMAIN.md §6).
    fund = f"{fy % 100:02d}11000"
    items = [("ค่าไฟฟ้าที่ประหยัดได้", savings["utilities"]["electricity"]),
             ("ค่าน้ำประปาที่ประหยัดได้", savings["utilities"]["water"]),
             ("ค่าเดินทางที่ประหยัดได้", savings["travel"]["cost"]),
             ("มูลค่าพื้นที่สำนักงานที่ลดได้", savings["office_space"]["cost"])]
    details = [{"line_no": i, "doc_type": "G1", "fund_source": fund, "amount": f"{Decimal(a):.2f}",
                "vendor_group": "5000", "description": f"{text} (telework {savings['report_id']})"[:100]}
               for i, (text, a) in enumerate(items, 1)]
    total = sum(Decimal(d["amount"]) for d in details)
    batch_id = savings["report_id"].upper().replace("_", "-")[:32]
    return {"header": {"agency_code": agency_code, "fiscal_year": fy, "file_date": format_date(today),
                       "batch_id": batch_id},
            "details": details, "trailer": {"record_count": len(details), "amount_total": f"{total:.2f}"}}


class HubFinance(Finance):
    """The savings report as a GFMIS-style batch to the finance agency's ``gfmis`` subsystem.

    The result is read from the hub's message log: the GFMIS adapter records each line's
    acceptance or rejection on the original message when it collects the result file.
    """

    def __init__(self, client: HubClient, agency_codes: dict[str, str],
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        self.client = client
        self.codes = agency_codes
        self.today = today  # the file date decides the fiscal year GFMIS checks the batch against

    def send_savings_batch(self, agency: str, savings: dict[str, Any]) -> str:
        batch = savings_batch(savings, self.codes[savings["agency"]], self.today())
        return self.client.send(savings["agency"], party(agency, "gfmis"), BATCH, batch,
                                standard="th.gfmis.batch@1.0.0", correlation_id=savings["report_id"])

    def batch_result(self, batch_ref: str) -> BatchResult:
        """Read from the message's status: the GFMIS adapter's ``collect_results`` records the
        result file's verdict on it (``completed``, ``partly_rejected``, ``rejected``)."""
        meta = self.client.messages.get_meta(batch_ref)
        if meta.status == DEAD:
            return BatchResult("rejected", {"status": meta.status, "error": meta.last_error})
        if meta.status not in OUTCOME_STATUSES:
            return BatchResult("pending", {"status": meta.status, "receipt": meta.receipt})
        verdict = {COMPLETED: "accepted", PARTLY_REJECTED: "partly-rejected", REJECTED: "rejected"}[meta.status]
        events = [h for h in self.client.messages.history(batch_ref) if h["kind"] == "receiver_outcome"]
        return BatchResult(verdict, {"status": meta.status, "error": meta.last_error, "events": events})


class HubStrategy(Strategy):
    def __init__(self, client: HubClient) -> None:
        self.client = client

    def publish_kpis(self, agency: str, report: dict[str, Any]) -> str:
        """A ``th.gsms.kpi`` report to the strategy agency's GSMS (route ``{agency}/gsms``)."""
        return self.client.send(report["agency"], party(agency, "gsms"), KPI, report, standard=D.ref(D.GSMS_KPI),
                                correlation_id=report["report_ref"])


class HubNotifications(Notifications):
    def __init__(self, client: HubClient) -> None:
        self.client = client

    def notify(self, agency: str, recipient_citizen_id: str, subject: str, body: dict[str, Any]) -> str:
        return self.client.send(agency, party(agency, "eoffice"), NOTICE,
                                {"to_citizen_id": recipient_citizen_id, "subject": subject, "body": body},
                                user_id=recipient_citizen_id)


ORDER_ISSUED = "telework.order.issued/v1"


class HubEvents(Events):
    """``telework.order.issued/v1`` as a hub message to the events party, fanned out by the
    integration layer to each subscriber. A hub where nobody uses events (no events route
    yet) gets no trace of them: nobody subscribed, so nobody is told."""

    def __init__(self, client: HubClient, router, events_party: str) -> None:  # noqa: ANN001 - hub.transport Router
        self.client = client
        self.router = router
        self.events_party = events_party

    def order_issued(self, agency: str, event: dict[str, Any]) -> str | None:
        if self.router.find(self.events_party, ORDER_ISSUED) is None:
            return None
        return self.client.send(agency, self.events_party, ORDER_ISSUED, event, standard="th.telework.order-issued@1.0.0",
                                correlation_id=f"{ORDER_ISSUED}:{event['citizen_id']}", user_id=event["citizen_id"])


# -- the HR directory: the HR agency's DPIS, read through the hub's DPIS adapter --------------------
LEVELS = {"01": MINISTRY, "02": DEPARTMENT, "03": UNIT}
PRENAMES = {"003": "นาย", "004": "นาง", "005": "นางสาว"}  # the common DPIS prename codes
LEVEL_TITLES = {"K1": "ปฏิบัติการ", "K2": "ชำนาญการ", "K3": "ชำนาญการพิเศษ", "K4": "เชี่ยวชาญ", "K5": "ทรงคุณวุฒิ",
                "O1": "ปฏิบัติงาน", "O2": "ชำนาญงาน", "O3": "อาวุโส", "O4": "ทักษะพิเศษ"}


class DpisHrDirectory(HrDirectory):
    """People, positions, duties and the org tree from a DPIS-style database, through the
    ``dpis`` adapter (``hub.adapters.dpis.DpisAdapter``) the HR agency's route uses.

    The position title is composed as DPIS screens show it: the position line and, for
    general and academic levels, the level's title (นักวิชาการคลัง + K2 -> นักวิชาการคลังชำนาญการ);
    an executive's line holds the title itself. ``NotFound`` when DPIS has no such person.
    """

    def __init__(self, adapter) -> None:  # noqa: ANN001 - a DpisAdapter (kept import-light)
        self.adapter = adapter

    def _officer(self, person, duties: list[str] | None = None) -> Officer:  # noqa: ANN001
        if person.position is None or not person.organization:
            person = self.adapter.person(person.per_cardno)
        line = (person.position.pl_name if person.position else None) or ""
        title = line + LEVEL_TITLES.get(person.level_no or "", "")
        name = f"{PRENAMES.get(person.pn_code or '', '')}{person.per_name} {person.per_surname}"
        if duties is None:
            duties = self.adapter.duties(person.per_cardno)
        return Officer(person.per_cardno, name, title, person.organization[0].org_name, tuple(duties),
                       management_position=person.position.pm_name if person.position else None)

    def person(self, citizen_id: str) -> Officer:
        return self._officer(self.adapter.person(citizen_id))

    def acting_heads(self, org_id: str, on: dt.date) -> list[Officer]:
        """The acting heads DPIS records for the unit on that day (``PER_ACTINGHIS``)."""
        if not org_id.isdigit():
            return []
        return [self._officer(p) for p in self.adapter.acting_heads(int(org_id), on)]

    def org_chain(self, citizen_id: str) -> list[OrgUnit]:
        chain = []
        for unit, head, _title in self.adapter.org_chain(citizen_id):
            chain.append(OrgUnit(str(unit.org_id), unit.org_name, LEVELS.get(unit.ol_code, UNIT),
                                 self._officer(head, duties=[]) if head is not None else None))
        return chain


def dpis_directory(hub, receiver: str, service: str = "hr.attendance/v1") -> DpisHrDirectory:  # noqa: ANN001
    """The directory over the DPIS of the route that delivers ``service`` to ``receiver``:
    the same database and settings the hub writes telework days with."""
    from hub.adapters.dpis import DpisAdapter

    route = hub.router.find(receiver, service)
    if route is None or route.adapter != "dpis":
        from hub.errors import ConfigError

        raise ConfigError(f"no dpis route for {receiver} {service}: the HR directory reads DPIS through it")
    return DpisHrDirectory(DpisAdapter(DpisAdapter.Settings.model_validate(route.settings)))


# -- the audit trail: the hub's hash-chained, signed audit log -----------------------------------

class SecurityAuditTrail(AuditTrail):
    """Evidence hashes appended to the security layer's ``AuditLog`` (one chain for the hub,
    sealed with its Ed25519 key), so ``hub audit verify`` proves them unaltered."""

    def __init__(self, engine: Engine, audit) -> None:  # noqa: ANN001 - hub.security.audit.AuditLog
        self.engine = engine
        self.audit = audit

    def append(self, kind: str, *, actor: str, target: str, sha256: str, detail: dict[str, Any]) -> str:
        seq = self.audit.record(kind, actor=actor, target=target, decision="recorded", sha256=sha256, **detail)
        return f"audit:{seq}"

    def verify(self) -> AuditCheck:
        report = self.audit.verify()
        bad = f"audit:{report.first_bad_seq}" if report.first_bad_seq is not None else None
        return AuditCheck(report.ok, report.entries, bad, report.problem or "")

    def find(self, sha256: str) -> str | None:
        from hub.security.audit import canonical
        from hub.security.tables import audit_log

        # ``detail`` is the entry's canonical JSON (sorted keys, no spaces): the pair is found as text.
        needle = canonical({"sha256": sha256}).decode()[1:-1]
        with self.engine.connect() as conn:
            seq = conn.execute(select(audit_log.c.seq).where(audit_log.c.kind.like("telework.%"),
                                                             audit_log.c.detail.contains(needle))
                               .order_by(audit_log.c.seq).limit(1)).scalar()
        return f"audit:{seq}" if seq is not None else None
