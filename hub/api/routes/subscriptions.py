"""``/v1/subscriptions``: subscribe a subsystem to an event type, see, rotate, suspend, replay."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from hub.api.deps import IntegrationDep, PrincipalDep
from hub.integration.subscriptions import SubscriptionIn
from hub.schemas.envelope import StoredMessage

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])


@router.post("", status_code=201, response_model=dict[str, Any],
             responses={403: {"description": "no right to the event type, or not cleared for it"},
                        409: {"description": "already subscribed"},
                        422: {"description": "unknown event type, filter field or refused webhook URL"}})
async def subscribe(body: SubscriptionIn, response: Response, integration: IntegrationDep,
                    principal: PrincipalDep) -> dict[str, Any]:
    """Subscribe; a webhook subscription's signing secret is in the answer, once."""
    sub, secret = await run_in_threadpool(integration.subscriptions.subscribe, principal, body)
    response.headers["Location"] = f"/v1/subscriptions/{sub.id}"
    return {**sub.public(), **({"secret": secret} if secret else {})}


@router.get("", response_model=list[dict[str, Any]])
async def list_subscriptions(integration: IntegrationDep, principal: PrincipalDep,
                             event_type: str | None = None) -> list[dict[str, Any]]:
    """Your subsystems' subscriptions, and every subscription to the event types your agency leads."""
    subs = await run_in_threadpool(integration.subscriptions.list, principal, event_type=event_type)
    return [s.public() for s in subs]


@router.get("/{subscription_id}", response_model=dict[str, Any])
async def read_subscription(subscription_id: str, integration: IntegrationDep,
                            principal: PrincipalDep) -> dict[str, Any]:
    sub = await run_in_threadpool(integration.subscriptions.visible, principal, subscription_id)
    return sub.public()


@router.get("/{subscription_id}/deliveries", response_model=list[StoredMessage])
async def deliveries(subscription_id: str, integration: IntegrationDep, principal: PrincipalDep,
                     since: datetime | None = None, limit: int = Query(1000, ge=1, le=10000)) -> list[StoredMessage]:
    """The hub messages this subscription received (one per event), from ``since``."""
    sub = await run_in_threadpool(integration.subscriptions.visible, principal, subscription_id)
    return await run_in_threadpool(integration.events.deliveries, sub, since=since, limit=limit)


@router.post("/{subscription_id}/replay", response_model=dict[str, Any])
async def replay(subscription_id: str, integration: IntegrationDep, principal: PrincipalDep,
                 since: datetime = Query(description="Deliver again every event accepted from this time on.")
                 ) -> dict[str, Any]:
    sub = await run_in_threadpool(integration.subscriptions.owned, principal, subscription_id)
    ids = await run_in_threadpool(integration.events.replay, sub, since=since, actor=principal.subject)
    return {"subscription": sub.id, "since": since.isoformat(), "replayed": ids}


@router.post("/{subscription_id}/rotate-secret", response_model=dict[str, Any])
async def rotate_secret(subscription_id: str, integration: IntegrationDep, principal: PrincipalDep) -> dict[str, Any]:
    """A new webhook secret (shown once); the old one keeps signing for HUB_SECRET_OVERLAP_SECONDS."""
    sub, secret = await run_in_threadpool(integration.subscriptions.rotate_secret, principal, subscription_id)
    return {**sub.public(), "secret": secret}


@router.post("/{subscription_id}/resume", response_model=dict[str, Any])
async def resume(subscription_id: str, integration: IntegrationDep, principal: PrincipalDep) -> dict[str, Any]:
    """Resume a suspended subscription (e.g. after its webhook answered 410)."""
    sub = await run_in_threadpool(integration.subscriptions.resume, principal, subscription_id)
    return sub.public()


@router.delete("/{subscription_id}", status_code=204)
async def unsubscribe(subscription_id: str, integration: IntegrationDep, principal: PrincipalDep) -> Response:
    await run_in_threadpool(integration.subscriptions.delete, principal, subscription_id)
    return Response(status_code=204)
