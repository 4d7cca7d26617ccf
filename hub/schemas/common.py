"""Small types the API's answer models share."""
from __future__ import annotations

from typing import Annotated

from pydantic import WithJsonSchema

# A moment the hub already wrote as ISO 8601 text (``datetime.isoformat()``, e.g.
# ``2026-11-23T09:00:00+00:00``). Kept a string so the answer carries exactly the text the
# hub recorded (the audit chain hashes it as written).
IsoTimestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
IsoDate = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
