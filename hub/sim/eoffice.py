"""The reference e-Office: each official's inbox of notices (supervisor alerts, evaluations
reported to the head), in its own database; the ``eoffice`` adapter delivers into it."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from hub.adapters.eoffice import EOFFICE_INBOX, eoffice_metadata
from hub.db import make_engine


def create_schema(url: str) -> None:
    engine = make_engine(url)
    try:
        eoffice_metadata.create_all(engine)
    finally:
        engine.dispose()


def inbox(url: str, to_citizen_id: str | None = None) -> list[dict[str, Any]]:
    """The inbox items (of one official when given), oldest first."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = select(EOFFICE_INBOX).order_by(EOFFICE_INBOX.c.RECEIVED_AT, EOFFICE_INBOX.c.MESSAGE_ID)
            if to_citizen_id:
                query = query.where(EOFFICE_INBOX.c.TO_CITIZEN_ID == to_citizen_id)
            rows = conn.execute(query).mappings().all()
    finally:
        engine.dispose()
    return [{"message_id": r["MESSAGE_ID"], "to_citizen_id": r["TO_CITIZEN_ID"], "sender": r["SENDER"],
             "subject": r["SUBJECT"], "body": json.loads(r["BODY"]), "received_at": r["RECEIVED_AT"],
             "read_at": r["READ_AT"]} for r in rows]
