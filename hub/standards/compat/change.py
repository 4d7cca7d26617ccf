"""One difference between two versions of a standard, as both comparers report it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """One difference between two versions. ``path`` is where it applies in a document."""

    path: str
    kind: str
    breaking: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "breaking": self.breaking, "message": self.message}
