"""The one scheduler of inbound sides (hub/transport/inbound.py), with fake adapters."""
from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import pytest

from hub.adapters.base import RECEIVE, SEND, Adapter, InboundSink, OutboundMessage, PollReport, Receipt
from hub.adapters.registry import AdapterRegistry
from hub.errors import AdapterError, NotFound
from hub.schemas.routes import Route
from hub.transport.delivery import AdapterPool
from hub.transport.inbound import InboundScheduler
from tests.support.inbound import RecordingSink


class Polled(Adapter):
    """Counts its polls; the first one fails, as a source that is down for a moment."""

    scheme = "polled"
    capabilities = frozenset({SEND, RECEIVE})
    summary = "test double"
    calls: ClassVar[list[str]] = []

    def send(self, message: OutboundMessage) -> Receipt:
        return Receipt("sent")

    def poll(self, sink: InboundSink) -> PollReport:
        Polled.calls.append(self.scheme)
        if len(Polled.calls) == 1:
            raise RuntimeError("source down")
        return PollReport(f"{self.scheme}: polled", accepted=[str(len(Polled.calls))])

    def poll_interval(self) -> float | None:
        return 0.02


class OnDemand(Polled):
    scheme = "on-demand"

    def poll_interval(self) -> float | None:
        return None


class Routes:
    def __init__(self, *routes: Route) -> None:
        self._routes = list(routes)

    def list(self) -> list[Route]:
        return list(self._routes)

    def get(self, route_id: int) -> Route:
        for route in self._routes:
            if route.id == route_id:
                return route
        raise NotFound(f"no route with id {route_id}")


def route(route_id: int, adapter: str, settings: dict[str, Any] | None = None) -> Route:
    return Route(id=route_id, receiver=f"TH/GOV/TEST/r{route_id}", service="test.note/v1", adapter=adapter,
                 settings=settings or {})


@pytest.fixture
def scheduler() -> InboundScheduler:
    Polled.calls = []
    registry = AdapterRegistry(extra={"polled": f"{__name__}:Polled", "on-demand": f"{__name__}:OnDemand"})
    routes = Routes(route(1, "polled"), route(2, "on-demand"), route(3, "memory", {"mailbox": "x"}))
    return InboundScheduler(routes, registry, AdapterPool(registry), lambda r: RecordingSink())  # type: ignore[arg-type]


def test_only_routes_with_an_inbound_side_are_polled_each_on_its_interval(scheduler: InboundScheduler) -> None:
    assert [r.id for r in scheduler.inbound_routes()] == [1, 2]
    stop = threading.Event()
    worker = threading.Thread(target=scheduler.run, args=(stop,))
    worker.start()
    time.sleep(0.5)
    stop.set()
    worker.join(timeout=5)
    # the failing first poll did not stop the loop; the on-demand route was never polled
    assert len(Polled.calls) >= 3 and set(Polled.calls) == {"polled"}


def test_poll_route_polls_on_demand_and_refuses_a_route_without_inbound_side(scheduler: InboundScheduler) -> None:
    with pytest.raises(RuntimeError, match="source down"):  # `hub adapters poll` shows why it failed
        scheduler.poll_route(2)
    assert scheduler.poll_route(2).summary == "on-demand: polled"
    with pytest.raises(AdapterError, match="no inbound side"):
        scheduler.poll_route(3)
    with pytest.raises(NotFound):
        scheduler.poll_route(9)
