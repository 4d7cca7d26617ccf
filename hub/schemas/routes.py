"""Routes: which adapter delivers (receiver, service), and the delivery policy."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.schemas.envelope import PARTY_PATTERN, SERVICE_PATTERN, StandardRef


class DeliveryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(8, ge=1, le=1000, description="Attempts before the message is dead-lettered.")
    max_age_seconds: float = Field(86400.0, gt=0, description="Age after which no further attempt is made.")
    backoff_base_seconds: float = Field(1.0, gt=0, description="Delay before the 2nd attempt; doubles after.")
    backoff_max_seconds: float = Field(300.0, gt=0, description="Upper bound of one retry delay.")

    @model_validator(mode="after")
    def _bounds(self) -> DeliveryPolicy:
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_max_seconds must be >= backoff_base_seconds")
        return self


class RouteIn(DeliveryPolicy):
    receiver: str = Field(pattern=PARTY_PATTERN)
    service: str = Field(pattern=f"({SERVICE_PATTERN})|(^\\*$)", description="A service, or * for any.")
    adapter: str = Field(min_length=1, max_length=64)
    settings: dict[str, Any] = Field(default_factory=dict)
    require_standard: StandardRef | None = None


class Route(RouteIn):
    id: int
