"""The ports implemented through the hub: every write is an envelope accepted by the hub's
``MessageService`` (durable, retried, in the message log) and routed to whatever adapter the
receiving agency's route names (DPIS, GFMIS, e-CMS queue, HTTP...). Nothing here talks to
those systems directly.

Parties: an agency member ``TH/GOV/CGD`` sends as its ``telework`` subsystem; receivers are the
agency's subsystems ``saraban`` (e-Saraban), ``dpis`` (HR), ``gfmis`` (finance), ``gsms``
(strategy), ``eoffice`` (notifications to officials).

Services (routes match on them):
    ecms.letter/v1          an official letter with its th.telework.* document attached
    hr.attendance/v1        telework days / one day's check-in and check-out (DPIS adapter payload)
    hr.telework.cancel/v1   days a revocation ends
    gfmis.batch/v1          th.gfmis.batch document (GFMIS-style adapter payload)
    gsms.kpi/v1             KPI results next to the financial figures
    telework.notice/v1      a notice to an official (supervisor alert, report to the head)
"""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from hub.apps.telework import documents as D
from hub.apps.telework.ports import (
    BatchResult, BookRegister, Correspondence, Finance, HrRecords, Letter, Notifications, SentLetter, Strategy,
)
from hub.schemas.envelope import Envelope
from hub.thai import format_date
from hub.transport.messages import MessageService

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


class HubCorrespondence(Correspondence):
    """The letter goes from the issuing agency's e-Saraban to each recipient's e-Saraban as an
    ``ecms.letter/v1`` message through the hub, the order or revocation document attached."""

    def __init__(self, client: HubClient, register: BookRegister) -> None:
        self.client = client
        self.register = register

    def send_letter(self, letter: Letter) -> SentLetter:
        book = self.register.next_book_number(letter.sender_agency, letter.subject)
        document = {**letter.document, "book_number": book}
        letter_id = str(uuid.uuid4())
        today = dt.date.today().isoformat()
        deliveries = {}
        for recipient in letter.recipients:
            deliveries[recipient] = self.client.send(letter.sender_agency, party(recipient, "saraban"), LETTER, {
                "letter_id": letter_id, "book_number": book, "correspondence_date": today,
                "subject": letter.subject, "secret_code": letter.secret_code, "speed_code": letter.speed_code,
                "sender": {"agency": letter.sender_agency, "name": letter.signer.name, "job_title": letter.signer.position},
                "receiver": {"agency": recipient}, "reference": letter.reference, "text": letter.text,
                "attachment": {"standard": letter.standard, "document": document},
            }, standard=None, correlation_id=letter_id, classification=letter.secret_code)
        return SentLetter(book, letter_id, today, deliveries)


class HubHrRecords(HrRecords):
    """Telework days to the HR agency's DPIS, in the payload spellings the DPIS adapter takes."""

    def __init__(self, client: HubClient, sender_agency: str) -> None:
        self.client = client
        self.sender = sender_agency

    def write_telework_days(self, hr_agency: str, citizen_id: str, days: list[dt.date], order_ref: str) -> str:
        return self.client.send(self.sender, party(hr_agency, "dpis"), ATTENDANCE, {
            "citizen_id": citizen_id, "kind": "telework", "days": [{"date": d.isoformat(), "period": 3} for d in days],
        }, correlation_id=order_ref, user_id=citizen_id)

    def write_attendance(self, hr_agency: str, time_evidence: dict[str, Any]) -> str:
        return self.client.send(self.sender, party(hr_agency, "dpis"), ATTENDANCE, time_evidence,
                                standard=D.ref(D.TIME_EVIDENCE), correlation_id=time_evidence["order_ref"],
                                user_id=time_evidence["person_citizen_id"])

    def cancel_telework_days(self, hr_agency: str, citizen_id: str, days: list[dt.date], revocation_ref: str) -> str:
        return self.client.send(self.sender, party(hr_agency, "dpis"), CANCEL, {
            "citizen_id": citizen_id, "kind": "telework", "dates": [d.isoformat() for d in days],
            "revocation_ref": revocation_ref,
        }, correlation_id=revocation_ref, user_id=citizen_id)


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

    def __init__(self, client: HubClient, agency_codes: dict[str, str]) -> None:
        self.client = client
        self.codes = agency_codes

    def send_savings_batch(self, agency: str, savings: dict[str, Any]) -> str:
        batch = savings_batch(savings, self.codes[savings["agency"]], dt.date.today())
        return self.client.send(savings["agency"], party(agency, "gfmis"), BATCH, batch,
                                standard="th.gfmis.batch@1.0.0", correlation_id=savings["report_id"])

    def batch_result(self, batch_ref: str) -> BatchResult:
        meta = self.client.messages.get_meta(batch_ref)
        history = self.client.messages.history(batch_ref)
        outcome = [h for h in history if h["kind"] not in ("accepted", "queued", "delivering", "attempt_failed")]
        if meta.status == "dead":
            return BatchResult("rejected", {"error": meta.last_error, "history": outcome})
        if meta.status != "delivered":
            return BatchResult("pending", {"status": meta.status})
        results = [h for h in history if "result" in h["kind"]]
        if results:
            rejected = [h for h in results if (h.get("detail") or {}).get("rejected")]
            return BatchResult("rejected" if rejected else "accepted", {"events": results})
        return BatchResult("pending", {"status": "delivered; GFMIS result file not collected yet",
                                       "receipt": meta.receipt})


class HubStrategy(Strategy):
    def __init__(self, client: HubClient) -> None:
        self.client = client

    def publish_kpis(self, agency: str, report: dict[str, Any]) -> str:
        return self.client.send(report["agency"], party(agency, "gsms"), KPI, report,
                                correlation_id=report["savings_ref"])


class HubNotifications(Notifications):
    def __init__(self, client: HubClient) -> None:
        self.client = client

    def notify(self, agency: str, recipient_citizen_id: str, subject: str, body: dict[str, Any]) -> str:
        return self.client.send(agency, party(agency, "eoffice"), NOTICE,
                                {"to_citizen_id": recipient_citizen_id, "subject": subject, "body": body},
                                user_id=recipient_citizen_id)
