"""The hub's events party: an event delivered here is fanned out to its subscriptions.

The route ``(events party, *) -> event-fanout`` makes publishing an event an ordinary message
(``POST /v1/messages`` or ``POST /v1/events``). Delivering it to this adapter accepts one new
hub message per matching subscription (``hub.integration.fanout.EventHub``, resource
``events``), each with the transport's own guarantees. The child ids are derived from the
event id and the subscription, so delivering the event again creates nothing twice.

Connection string (route settings): {}
"""
from __future__ import annotations

from hub.adapters.base import EVENTS, SEND, Adapter, Health, OutboundMessage, Receipt
from hub.errors import DeliveryError


class EventFanoutAdapter(Adapter):
    scheme = "event-fanout"
    capabilities = frozenset({SEND})
    resources = frozenset({EVENTS})
    summary = "Fan an event out to its subscriptions: one hub message per matching subscription."

    def send(self, message: OutboundMessage) -> Receipt:
        events = self.resource(EVENTS)
        if events is None:
            raise DeliveryError("this process has no event fan-out (hub.integration) to deliver events to")
        return events.fan_out(message)

    def check(self) -> Health:
        return Health(self.resource(EVENTS) is not None, "in-process event fan-out")
