"""AMQP delivery: publish the message to a durable queue on a broker (by default the hub's own).

Features:
    - The queue is declared durable and each message is persistent (delivery mode 2), with
      publisher confirms where the broker has them (RabbitMQ), so a message the adapter
      reports as sent survives a broker restart.
    - AMQP ``message_id`` is the hub message id (the same on every retry): the consumer
      applies each message once. ``type`` is the service; headers carry sender and
      correlation id.
    - The body is the envelope as JSON (``OutboundMessage.document``).

Connection string (route settings):
    {"queue": "agency.hr.events"}                       on the hub's own broker (resource ``broker``)
    {"queue": "agency.hr.events", "url": "amqp://user:pw@host:5672//"}   on another broker
"""
from __future__ import annotations

import threading
from typing import Any

from kombu import Connection, Exchange, Queue
from pydantic import BaseModel, ConfigDict, Field

from hub.adapters.base import BROKER, PUSH, SEND, Adapter, Health, OutboundMessage, Receipt
from hub.errors import DeliveryError

QUEUE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"


class AmqpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: str = Field(pattern=QUEUE_PATTERN, description="Durable queue the messages go to.")
    url: str | None = Field(None, min_length=1, description="kombu broker URL; default: the hub's own broker.")


def amqp_queue(name: str) -> Queue:
    return Queue(name, exchange=Exchange(name, type="direct", durable=True), routing_key=name, durable=True)


class AmqpAdapter(Adapter):
    scheme = "amqp"
    capabilities = frozenset({SEND, PUSH})
    Settings = AmqpSettings
    resources = frozenset({BROKER})
    summary = "Publish the envelope to a durable queue on the hub's (or another) broker."

    def __init__(self, settings: AmqpSettings) -> None:
        super().__init__(settings)
        self._queue = amqp_queue(settings.queue)
        self._conn: Connection | None = None
        self._producer: Any = None
        self._lock = threading.Lock()  # one connection: kombu channels are not thread-safe

    def _url(self) -> str:
        url = self.settings.url or self.resource(BROKER)
        if not url:
            raise DeliveryError("no broker URL: set 'url' or run inside a hub (resource 'broker')", permanent=True)
        return url

    def _ensure(self) -> Any:
        if self._producer is None:
            url = self._url()
            # Publisher confirms: publish returns once RabbitMQ has the message (AMQP only; the
            # virtual transports, e.g. the embedded SQL broker, commit on publish).
            options = {"confirm_publish": True} if url.split(":", 1)[0] in ("amqp", "amqps", "pyamqp") else {}
            conn = Connection(url, connect_timeout=5, transport_options=options)
            conn.ensure_connection(max_retries=2)
            self._queue(conn.default_channel).declare()
            self._conn, self._producer = conn, conn.Producer(serializer="json")
        return self._producer

    def send(self, message: OutboundMessage) -> Receipt:
        meta = message.meta
        with self._lock:
            try:
                self._ensure().publish(
                    message.document(), exchange=self._queue.exchange, routing_key=self._queue.routing_key,
                    content_type="application/json", content_encoding="utf-8", delivery_mode=2,
                    message_id=message.id, type=meta.service,
                    headers={"hub-sender": meta.sender, "hub-correlation-id": meta.correlation_id or ""},
                    retry=True, retry_policy={"max_retries": 2},
                )
            except Exception as exc:  # any broker failure: drop the connection, let the transport retry
                self._drop()
                raise DeliveryError(f"AMQP publish to queue {self.settings.queue!r} failed: "
                                    f"{type(exc).__name__}: {exc}") from exc
        return Receipt(f"queued on {self.settings.queue}", {"queue": self.settings.queue})

    def check(self) -> Health:
        try:
            with Connection(self._url(), connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
        except Exception as exc:  # a health check reports, it does not raise
            return Health(False, f"broker unreachable: {type(exc).__name__}: {exc}")
        return Health(True, f"broker reachable; queue {self.settings.queue}")

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.release()
        self._conn, self._producer = None, None

    def close(self) -> None:
        with self._lock:
            self._drop()
