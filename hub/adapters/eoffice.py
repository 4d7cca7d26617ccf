"""e-Office inbox: notices to officials (a supervisor's alert, an evaluation reported to the
head) delivered into the e-Office's own database, where the person reads them; each hub
message becomes one inbox item, once.

Connection string (route settings): {"url": "sqlite:///eoffice.sqlite3"}
"""
from __future__ import annotations

import json

from sqlalchemy import Column, MetaData, String, Table, Text, insert, select

from hub.adapters.base import OutboundMessage, Receipt
from hub.adapters.sql_intake import SqlIntakeAdapter
from hub.clock import utcnow
from hub.errors import DeliveryError

eoffice_metadata = MetaData()
EOFFICE_INBOX = Table(
    "EOFFICE_INBOX", eoffice_metadata,
    Column("MESSAGE_ID", String(64), primary_key=True),  # the hub's message id: one item per message
    Column("TO_CITIZEN_ID", String(13), nullable=False, index=True),
    Column("SENDER", String(200), nullable=False),
    Column("SUBJECT", String(500), nullable=False),
    Column("BODY", Text, nullable=False),
    Column("RECEIVED_AT", String(32), nullable=False),
    Column("READ_AT", String(32)),
)


class EofficeAdapter(SqlIntakeAdapter):
    scheme = "eoffice"
    summary = "e-Office inbox: notices to officials kept in the e-Office's database, one item per message (SQL)."
    metadata = eoffice_metadata
    counted = EOFFICE_INBOX
    system = "e-Office"

    def send(self, message: OutboundMessage) -> Receipt:
        notice = self.payload(message)
        to, subject = notice.get("to_citizen_id"), notice.get("subject")
        if not (isinstance(to, str) and len(to) == 13 and to.isdigit()) or not isinstance(subject, str):
            raise DeliveryError("a notice names to_citizen_id (13 digits) and a subject", permanent=True)
        body = json.dumps(notice.get("body", {}), ensure_ascii=False, sort_keys=True)

        def apply(conn) -> bool:  # noqa: ANN001
            if conn.execute(select(EOFFICE_INBOX.c.MESSAGE_ID).where(EOFFICE_INBOX.c.MESSAGE_ID == message.id)).first():
                return False
            conn.execute(insert(EOFFICE_INBOX).values(
                MESSAGE_ID=message.id, TO_CITIZEN_ID=to, SENDER=message.meta.sender, SUBJECT=subject[:500],
                BODY=body, RECEIVED_AT=utcnow().isoformat(timespec="seconds")))
            return True

        new = self.write(apply)
        return Receipt(f"e-Office inbox of {to}: {'item added' if new else 'already there'}",
                       {"to": to, "duplicate": not new})
