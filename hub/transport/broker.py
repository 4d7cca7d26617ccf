"""The broker between the relay and the delivery workers (kombu).

The database is the source of truth; the broker carries only message ids. A broker message
that is lost (embedded broker killed, RabbitMQ restarted without persistence) costs a delay,
never a message: the relay hands the id out again when its lease runs out.
"""
from __future__ import annotations

from kombu import Connection, Exchange, Queue

from hub.transport.idle import Doorbell

VIRTUAL_POLL_SECONDS = 0.05
# Message ids per broker message. One broker message per id made the broker's publish, consume
# and ack the larger part of the relay's and the consumer's time in a profile; a few ids per
# message keep that cost small while still spreading work across worker processes.
IDS_PER_BROKER_MESSAGE = 16


def is_polled(conn: Connection) -> bool:
    """True for kombu's virtual transports (the embedded SQLAlchemy broker, ``memory://``),
    which find messages by polling rather than by a socket the server writes to."""
    return hasattr(conn.transport, "polling_interval")


def connect(url: str) -> Connection:
    conn = Connection(url, connect_timeout=5)
    if is_polled(conn):
        # kombu's virtual transports poll; the 1 s default would add a second to every hop.
        # Set on the transport, not via transport_options: the SQLAlchemy transport passes
        # those to create_engine.
        conn.transport.polling_interval = VIRTUAL_POLL_SECONDS
    return conn


def delivery_queue(name: str) -> Queue:
    exchange = Exchange(name, type="direct", durable=True)
    return Queue(name, exchange=exchange, routing_key=name, durable=True)


class Publisher:
    """Publishes message ids; one connection and producer reused for every batch."""

    def __init__(self, url: str, queue_name: str, *, doorbell: Doorbell | None = None) -> None:
        self._url = url
        self._doorbell = doorbell  # rung after each batch: a delivery worker in this process looks at once
        self._queue = delivery_queue(queue_name)
        self._conn: Connection | None = None
        self._producer = None

    def _ensure(self):  # noqa: ANN202
        if self._conn is None:
            self._conn = connect(self._url)
            self._conn.ensure_connection(max_retries=3)
            self._producer = self._conn.Producer(serializer="json")
            self._queue(self._conn.default_channel).declare()
        return self._producer

    def publish(self, message_ids: list[str]) -> None:
        """Publish ``message_ids``, ``IDS_PER_BROKER_MESSAGE`` to a broker message (``{"ids": [...]}``;
        workers also take the older ``{"id": ...}``). A failure raises after closing the
        connection; the relay tries again and the ids' lease covers what was lost."""
        try:
            producer = self._ensure()
            for start in range(0, len(message_ids), IDS_PER_BROKER_MESSAGE):
                producer.publish(
                    {"ids": message_ids[start:start + IDS_PER_BROKER_MESSAGE]},
                    exchange=self._queue.exchange,
                    routing_key=self._queue.routing_key,
                    delivery_mode=2,
                    retry=True,
                    retry_policy={"max_retries": 3},
                )
        except Exception:
            self.close()  # a broken connection must not be reused for the next batch
            raise
        if self._doorbell is not None and message_ids:
            self._doorbell.ring()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.release()
        self._conn = None
        self._producer = None
