"""In-process delivery into named mailboxes, for tests and single-process demos.

Features:
    - applies each message once (by its hub key) (a duplicate delivery is counted, not applied again);
    - ``fail_times`` makes the first N deliveries into the mailbox fail, to exercise retries.

Connection string (route settings): {"mailbox": "hr-inbox", "fail_times": 0}
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from hub.adapters.base import PUSH, SEND, Adapter, Health, OutboundMessage, Receipt
from hub.errors import DeliveryError


class MemorySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mailbox: str = Field(min_length=1, max_length=100)
    fail_times: int = Field(0, ge=0)


@dataclass
class Mailbox:
    # By message id; a second sender's message with an id already here is kept under its hub key.
    applied: dict[str, bytes] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # hub key -> where in ``applied``
    deliveries: int = 0
    duplicates: int = 0
    failures_left: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_MAILBOXES: dict[str, Mailbox] = {}
_REGISTRY_LOCK = threading.Lock()


def mailbox(name: str) -> Mailbox:
    with _REGISTRY_LOCK:
        return _MAILBOXES.setdefault(name, Mailbox())


def reset_mailboxes() -> None:
    with _REGISTRY_LOCK:
        _MAILBOXES.clear()


class MemoryAdapter(Adapter):
    scheme = "memory"
    capabilities = frozenset({SEND, PUSH})
    Settings = MemorySettings
    summary = "Deliver into an in-process mailbox (tests, demos)."

    def __init__(self, settings: MemorySettings) -> None:
        super().__init__(settings)
        self._box = mailbox(settings.mailbox)
        with self._box.lock:
            self._box.failures_left = max(self._box.failures_left, settings.fail_times)

    def send(self, message: OutboundMessage) -> Receipt:
        box = self._box
        with box.lock:
            box.deliveries += 1
            if box.failures_left > 0:
                box.failures_left -= 1
                raise DeliveryError(f"mailbox {self.settings.mailbox!r} is failing on purpose")
            if message.key in box.keys:  # the hub key: ids are unique per sender only
                box.duplicates += 1
                return Receipt(f"duplicate of {message.id}; applied once")
            slot = message.key if message.id in box.applied else message.id
            box.keys[message.key] = slot
            box.applied[slot] = message.document()
        return Receipt(f"applied {message.id}")

    def check(self) -> Health:
        return Health(True, f"mailbox {self.settings.mailbox!r} holds {len(self._box.applied)} messages")
