"""Query services (issue 15): publish, list, and call one synchronously across agencies."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from fastapi.concurrency import run_in_threadpool

from hub.api.deps import IntegrationDep, PrincipalDep
from hub.errors import ConfigError, FieldError, InputError
from hub.integration.queries import QueryServiceIn, QueryServices
from hub.integration.wiring import Integration

router = APIRouter(tags=["queries"])

ERRORS = {403: {"description": "query_refused: no access right, not acting for the client, or not cleared"},
          404: {"description": "no such query service"},
          422: {"description": "the request breaks the service's request standard"},
          502: {"description": "query_source_error: the provider failed, answered garbage or more than the "
                               "service's max_answer_bytes"},
          504: {"description": "query_timeout: no answer within the service's timeout"}}


def _queries(integration: Integration) -> QueryServices:
    if integration.queries is None:
        raise ConfigError("this hub was built without query services")
    return integration.queries


def split_target(target: str) -> tuple[str, str]:
    """``TH/GOV/OCSC/dpis/hr.person.get/v1`` -> (provider, service): a service id ends ``name/vN``."""
    parts = target.strip("/").split("/")
    if len(parts) < 5:
        raise InputError("name the provider subsystem and the service: /v1/query/INSTANCE/CLASS/MEMBER/SUBSYSTEM/NAME/vN",
                         errors=[FieldError("/path/target", "format", "PROVIDER/NAME/vN")])
    return "/".join(parts[:-2]), "/".join(parts[-2:])


@router.get("/v1/query-services")
async def list_query_services(integration: IntegrationDep, principal: PrincipalDep, name: str | None = None,
                              provider: str | None = None) -> list[dict[str, Any]]:
    """The query services you provide or hold a right to call (never their adapters' settings)."""
    services = await run_in_threadpool(_queries(integration).visible, principal, name=name, provider=provider)
    return [s.as_dict() for s in services]


@router.post("/v1/query-services", status_code=201)
async def publish_query_service(body: QueryServiceIn, integration: IntegrationDep,
                                principal: PrincipalDep) -> dict[str, Any]:
    """Publish (or replace) a query service of one of your subsystems."""
    return (await run_in_threadpool(_queries(integration).publish, principal, body)).as_dict()


@router.delete("/v1/query-services/{target:path}", status_code=204)
async def unpublish_query_service(target: str, integration: IntegrationDep, principal: PrincipalDep) -> Response:
    """Withdraw a query service: /v1/query-services/PROVIDER/NAME/vN."""
    provider, service = split_target(target)
    await run_in_threadpool(_queries(integration).unpublish, principal, provider, service)
    return Response(status_code=204)


@router.post("/v1/query/{target:path}", responses=ERRORS)
async def call_query(target: str, integration: IntegrationDep, principal: PrincipalDep,
                     body: Annotated[dict[str, Any], Body(description="The request, in the service's request standard")],
                     client: Annotated[str | None, Query(description="The consumer subsystem you call as "
                                                                     "(needed when you act for several)")] = None
                     ) -> dict[str, Any]:
    """Ask PROVIDER's query service NAME/vN and get its answer synchronously: /v1/query/PROVIDER/NAME/vN."""
    provider, service = split_target(target)
    return await run_in_threadpool(_queries(integration).call, principal, provider, service, body, client=client)
