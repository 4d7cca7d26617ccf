"""Answers of ``/v1/messages``: an accepted message, a page of messages, one message's history."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from hub.schemas.common import IsoTimestamp
from hub.schemas.envelope import StoredMessage


class MessageLinks(BaseModel):
    self: str
    replay: str | None = Field(None, description="Only for those who may replay (hub admins).")


class MessageAccepted(BaseModel):
    """202: the message is durably stored (or was already: the same id and content)."""

    id: str
    status: str
    links: MessageLinks


class MessagePage(BaseModel):
    items: list[StoredMessage]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class MessageEvent(BaseModel):
    at: IsoTimestamp
    kind: str = Field(description="accepted, queued, delivering, retrying, delivered, dead, replayed, ...")
    attempt: int | None
    detail: dict[str, Any] | None


class MessageDetail(StoredMessage):
    history: list[MessageEvent]
    links: MessageLinks
