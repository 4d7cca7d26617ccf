"""What the transport's gauges read at scrape time: messages per status, route and receiver.

One grouped count over ``ix_messages_status_route`` (status, route_id, receiver), limited to
the statuses that are a backlog or a dead letter, so a scrape reads the index only, however
many finished messages the store keeps.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from hub.transport.messages import DEAD, UNFINISHED
from hub.transport.tables import messages, routes


@dataclass(frozen=True)
class RouteCount:
    status: str
    route_id: int | None
    route: str  # "receiver service" of the route, or "" when the message has none
    receiver: str
    count: int


def status_counts(engine: Engine) -> list[RouteCount]:
    """Backlog (accepted, queued, delivering, retrying) and dead letters per route and receiver."""
    counted = (select(messages.c.status, messages.c.route_id, messages.c.receiver, func.count().label("n"))
               .where(messages.c.status.in_((*UNFINISHED, DEAD)))
               .group_by(messages.c.status, messages.c.route_id, messages.c.receiver).subquery())
    query = (select(counted, routes.c.receiver.label("route_receiver"), routes.c.service.label("route_service"))
             .select_from(counted.outerjoin(routes, routes.c.id == counted.c.route_id)))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [RouteCount(r.status, r.route_id,
                       f"{r.route_receiver} {r.route_service}" if r.route_receiver is not None else "",
                       r.receiver, r.n) for r in rows]
