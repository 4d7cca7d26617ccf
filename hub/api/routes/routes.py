"""``/v1/routes``: which adapter delivers which (receiver, service)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool

from hub.api.ids import RowId
from hub.api.deps import RegistryDep, RouterDep
from hub.api.roles import require_admin
from hub.schemas.routes import Route, RouteIn

# Routes decide where every agency's messages go: hub admins only.
router = APIRouter(prefix="/v1/routes", tags=["routes"], dependencies=[Depends(require_admin)])


@router.post("", status_code=201, response_model=Route)
async def add_route(route: RouteIn, routes: RouterDep, registry: RegistryDep) -> Route:
    """Add a route; the adapter's settings are validated against its settings model."""
    # At the admin's entry, not in Router.add: the hub's own wiring routes to receivers it
    # registers itself (issue 12: a typo'd receiver was stored and never matched).
    await run_in_threadpool(registry.check_registered, route.receiver, pointer="/receiver", role="receiver")
    return await run_in_threadpool(routes.add, route)


@router.get("", response_model=list[Route])
async def list_routes(routes: RouterDep) -> list[Route]:
    """All routes."""
    return await run_in_threadpool(routes.list)


@router.get("/{route_id}", response_model=Route)
async def get_route(route_id: RowId, routes: RouterDep) -> Route:
    """One route."""
    return await run_in_threadpool(routes.get, route_id)


@router.delete("/{route_id}", status_code=204)
async def remove_route(route_id: RowId, routes: RouterDep) -> Response:
    """Remove a route; messages already accepted keep their history."""
    await run_in_threadpool(routes.remove, route_id)
    return Response(status_code=204)
