"""The broker between the relay and the delivery workers (kombu).

The database is the source of truth; the broker carries only message ids. A broker message
that is lost (embedded broker killed, RabbitMQ restarted without persistence) costs a delay,
never a message: the relay hands the id out again when its lease runs out.
"""
from __future__ import annotations

import threading

from kombu import Connection, Exchange, Queue
from kombu.transport import sqlalchemy as sql_transport

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


class _SqlChannel(sql_transport.Channel):
    """kombu's SQLAlchemy channel, closing its database session when it is closed.

    kombu's own never closes it. A channel dropped after a failure (a poll or commit that
    met 'database is locked', a session broken mid-commit) kept its SQLite connection, still
    inside the transaction it had begun and so holding the broker file's lock, until the
    garbage collector reached it: meanwhile every publish and poll of every process failed
    with 'database is locked'. kombu closes a channel whenever the connection is released or
    collected for a reconnect (also inside ``Producer.publish(retry=True)``)."""

    def close(self) -> None:
        try:
            super().close()  # requeues what was delivered but not acknowledged, through the session
        finally:
            session, self._session = self._session, None
            if session is not None:
                session.close()  # rolls back what is open and returns the connection to the pool


class _SqlTransport(sql_transport.Transport):
    Channel = _SqlChannel


# The URL prefixes kombu maps to its SQLAlchemy transport.
_SQL_PREFIXES = ("sqla+", "sqlalchemy+")


def connect(url: str) -> Connection:
    prefix = next((p for p in _SQL_PREFIXES if url.startswith(p)), None)
    if prefix is not None:
        conn = Connection(url[len(prefix):], transport=_SqlTransport, connect_timeout=5)
    else:
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
    """Publishes message ids; one connection and producer reused for every batch.

    Safe to share between threads, as it is when a hub's workers are started twice (the
    API's lifespan and a second server on the same hub run two relays on one publisher): a
    kombu channel, and the SQLAlchemy session behind the embedded broker's, must never be
    used by two threads at once. Unserialised, two relays' commits interleaved in one session
    ("commit() can't be called here", "This transaction is closed") and left it holding the
    broker's lock."""

    def __init__(self, url: str, queue_name: str, *, doorbell: Doorbell | None = None) -> None:
        self._url = url
        self._doorbell = doorbell  # rung after each batch: a delivery worker in this process looks at once
        self._queue = delivery_queue(queue_name)
        self._conn: Connection | None = None
        self._producer = None
        self._lock = threading.Lock()  # one thread at a time on the connection, see the class doc

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
        with self._lock:
            self._publish(message_ids)
        if self._doorbell is not None and message_ids:
            self._doorbell.ring()

    def _publish(self, message_ids: list[str]) -> None:
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
            self._drop()  # a broken connection must not be reused for the next batch
            raise

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        conn, self._conn, self._producer = self._conn, None, None
        if conn is not None:
            conn.release()
