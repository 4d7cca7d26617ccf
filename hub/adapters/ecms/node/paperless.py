"""The paperless record of the e-CMS node (seed 002: ระบบสารบรรณไร้กระดาษ, letters exchanged
electronically "and no paper used for what is sent electronically").

A department marks a letter it sent through the node as sent electronically only: the
electronic letter is the original and no paper copy follows, so the sheets it would have
taken are saved at the sender (no print) and at the receiver (no paper to file). The
monthly report per department counts the letters it exchanged through the node and the
paper avoided. Own table (Alembic branch ``s3t``); the node's tables are only read.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, DateTime, Engine, Integer, String, Table, and_, func, insert, or_, select

from hub.adapters.ecms.node.tables import ecms_letters
from hub.clock import utcnow
from hub.db import metadata
from hub.errors import Conflict, FieldError, InputError, NotFound
from hub.thai import THAI_MONTHS

ecms_paperless = Table(
    "ecms_paperless", metadata,
    Column("message_id", String(36), primary_key=True),  # the letter's row in ecms_letters
    Column("pages", Integer, nullable=False),  # sheets one paper copy would have taken
    Column("marked_by", String(200), nullable=False),
    Column("marked_at", DateTime(timezone=True), nullable=False),
)


class PaperlessRecord:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def letter(self, message_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(ecms_letters).where(ecms_letters.c.message_id == message_id)).mappings().first()
        if row is None:
            raise NotFound(f"no e-CMS letter {message_id}")
        return dict(row)

    def mark(self, message_id: str, *, pages: int, actor: str) -> dict[str, Any]:
        """Mark the letter as sent electronically only. Marking it again with the same pages
        changes nothing (the paper is saved once); with other pages it is refused."""
        if not 1 <= pages <= 10000:
            raise InputError("pages is out of range", errors=[FieldError("/pages", "range", "1..10000 sheets")])
        letter = self.letter(message_id)
        if letter["withdrawn_at"] is not None:
            raise Conflict(f"letter {letter['letter_id']} was withdrawn: it was not exchanged electronically")
        with self.engine.begin() as conn:
            known = conn.execute(select(ecms_paperless).where(ecms_paperless.c.message_id == message_id)).mappings().first()
            if known is None:
                conn.execute(insert(ecms_paperless).values(message_id=message_id, pages=pages, marked_by=actor,
                                                           marked_at=utcnow()))
            elif known["pages"] != pages:
                raise Conflict(f"letter {letter['letter_id']} is already marked electronic-only with "
                               f"{known['pages']} pages")
        return {"message_id": message_id, "letter_id": letter["letter_id"], "sender_code": letter["sender_code"],
                "receiver_code": letter["receiver_code"], "electronic_only": True, "pages": pages}

    def report(self, department: str, month: str) -> dict[str, Any]:
        """Letters the department exchanged through the node in ``month`` (YYYY-MM, by the
        letters' date), how many went electronically only, and the paper that avoided."""
        try:
            first = dt.date.fromisoformat(f"{month}-01")
        except ValueError:
            raise InputError("month is not a month", errors=[FieldError("/query/month", "format", "YYYY-MM")]) from None
        exchanged = and_(or_(ecms_letters.c.sender_code == department, ecms_letters.c.receiver_code == department),
                         ecms_letters.c.correspondence_date.like(f"{month}-%"), ecms_letters.c.withdrawn_at.is_(None))
        query = (select(ecms_letters.c.sender_code, ecms_paperless.c.pages, func.count().label("n"),
                        func.coalesce(func.sum(ecms_paperless.c.pages), 0).label("sheets"))
                 .select_from(ecms_letters.outerjoin(ecms_paperless,
                                                     ecms_paperless.c.message_id == ecms_letters.c.message_id))
                 .where(exchanged).group_by(ecms_letters.c.sender_code, ecms_paperless.c.pages))
        counts = {"sent": 0, "received": 0}
        electronic = {"sent": 0, "received": 0}
        sheets = 0
        with self.engine.connect() as conn:
            for sender, pages, n, total in conn.execute(query):
                side = "sent" if sender == department else "received"
                counts[side] += n
                if pages is not None:
                    electronic[side] += n
                    sheets += int(total)
        return {"department": department, "month": month,
                "month_th": f"{THAI_MONTHS[first.month - 1]} {first.year + 543}",
                "exchanged_electronically": counts, "electronic_only": electronic,
                "paper_avoided": {"letters": electronic["sent"] + electronic["received"], "sheets": sheets}}
