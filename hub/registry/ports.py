"""What the registry needs from the layers around it, as ports it owns.

Every change to the registry and every read of a person is audited, but the audit chain is
the security layer's (``hub.security.audit.AuditLog``), and the security layer reads the
registry to authenticate callers. The registry therefore declares the one method it calls
and the composition root hands it the security layer's log, which satisfies this protocol
structurally: the dependency points from security to the registry, never back.
"""
from __future__ import annotations

from typing import Any, Protocol


class AuditSink(Protocol):
    def record(self, kind: str, *, actor: str, decision: str | None = None, target: str | None = None,
               **detail: Any) -> int:
        """Append one entry to the audit trail once it is durable; returns its sequence number.

        ``detail`` holds no secret and no personal identifier (callers pass pseudonyms)."""
        ...
