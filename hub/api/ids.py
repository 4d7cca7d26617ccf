"""Path parameters that name a database row: positive and within a signed 64-bit integer.

An id of 2**63 or more reached the database driver and came back as a 500 (finding 9 of
issue 12); here it is a 422 naming ``/path/<name>`` and the rule.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row id: 1 to 2^63-1.")]
