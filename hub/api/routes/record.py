"""The unified citizen record (issue 15): one read, live from the agencies that hold the data."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from hub.api.deps import IntegrationDep, PrincipalDep
from hub.api.responses import FastJSONResponse
from hub.errors import ConfigError
from hub.registry import ids

router = APIRouter(tags=["record"])


@router.get("/v1/citizens/{citizen_id}/record", response_model=dict[str, Any], responses={
    403: {"description": "record_refused: the same answer for every refusal, known citizen or not"},
    422: {"description": "unknown field group or bad citizen ID"}})
async def read_record(citizen_id: str, integration: IntegrationDep, principal: PrincipalDep,
                      fields: Annotated[str, Query(description="Comma-separated field groups of th.integration.record")],
                      purpose: Annotated[str, Query(min_length=3, max_length=200,
                                                    description="Why you read (as consented)")]) -> FastJSONResponse:
    """A citizen's record: each field with its source, observed-at time, staleness and classification;
    a source that times out or refuses leaves it partial (see ``sources``)."""
    records = integration.records
    if records is None:
        raise ConfigError("this hub was built without the unified record")
    citizen = ids.citizen_id(citizen_id)

    def read() -> dict[str, Any]:
        return records.read(principal, citizen, records.parse_groups(fields), purpose)

    # One hand-off to the thread pool per read, and the record rendered once by orjson
    # (the read is latency-bound: the hub's own steps add to the slowest source's time).
    return FastJSONResponse(await run_in_threadpool(read))
