"""Answers of the operations endpoints (``/healthz``, ``/readyz``)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str] = Field(description="Each dependency (database, migrations, broker): 'ok' or why not.")
