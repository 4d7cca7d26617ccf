"""``/v1/applications``: one-stop applications split to each responsible agency."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from hub.api.deps import IntegrationDep, PrincipalDep
from hub.api.public import public
from hub.integration.applications import AnswerIn, ApplicationIn

router = APIRouter(prefix="/v1/applications", tags=["applications"])


@router.get("/types", response_model=list[dict[str, Any]])
@public("published event and application types are public documents, like the standards they come from")
async def application_types(integration: IntegrationDep) -> list[dict[str, Any]]:
    """The published application types: parts, responsible agencies, fields each receives."""
    return [a.as_dict() for a in integration.catalogue.application_types()]


@router.post("", status_code=202, response_model=dict[str, Any],
             responses={403: {"description": "no right toward one of the agencies"},
                        422: {"description": "unknown application type or invalid against its standard"}})
async def submit(body: ApplicationIn, response: Response, integration: IntegrationDep,
                 principal: PrincipalDep) -> dict[str, Any]:
    """Submit once; the hub sends each agency its part under one tracking id (``id``)."""
    status = await run_in_threadpool(integration.applications.submit, principal, body)
    response.headers["Location"] = f"/v1/applications/{status['id']}"
    return status


@router.get("", response_model=list[dict[str, Any]])
async def list_applications(integration: IntegrationDep, principal: PrincipalDep,
                            limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    return await run_in_threadpool(integration.applications.list, principal, limit=limit)


@router.get("/{application_id}", response_model=dict[str, Any])
async def read_application(application_id: str, integration: IntegrationDep,
                           principal: PrincipalDep) -> dict[str, Any]:
    """Each agency's status and answer; ``complete`` once every part is answered or failed."""
    return await run_in_threadpool(integration.applications.status, principal, application_id)


@router.post("/{application_id}/parts/{part}/answer", response_model=dict[str, Any],
             responses={409: {"description": "the part is not delivered yet"}})
async def answer(application_id: str, part: str, body: AnswerIn, integration: IntegrationDep,
                 principal: PrincipalDep) -> dict[str, Any]:
    """The responsible agency answers its part: completed (with its answer) or rejected (with the reason)."""
    return await run_in_threadpool(integration.applications.answer, principal, application_id, part, body)
