"""Where payloads are kept: whole in ``message_payloads``, or in pieces in
``message_payload_chunks`` when they were spooled (above ``HUB_SPOOL_THRESHOLD_BYTES``).

Pieces are written inside the accept transaction, so a spooled payload is as durable as
the message row and commits or vanishes with it: no file to fsync, none left behind by a
failed accept, and every API process and worker, on any machine, reads it from the
database they share. Reading returns small payloads as bytes and pieced ones as a
``StreamedPayload`` that reads one piece per query.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import Connection, Engine, func, insert, select

from hub.schemas.envelope import StreamedPayload
from hub.transport.tables import message_payload_chunks, message_payloads

PIECE_BYTES = 1 << 20

_WHOLE = "SELECT body FROM message_payloads WHERE message_id = %s"
_PIECE = "SELECT data FROM message_payload_chunks WHERE message_id = %s AND seq = %s"


def write_pieces(conn: Connection, key: str, source: IO[bytes]) -> None:
    """Store the payload in ``source`` (from its start) as the pieces of message ``key``."""
    source.seek(0)
    seq = 0
    while data := source.read(PIECE_BYTES):
        conn.execute(insert(message_payload_chunks), {"message_id": key, "seq": seq, "data": data})
        seq += 1


def _scalar_bytes(conn: Connection, sql: str, params: tuple[Any, ...]) -> bytes | None:
    """One bytea value. psycopg reads it in binary: in the default text format a bytea
    arrives as hex, twice its size, before it is decoded."""
    if conn.dialect.driver == "psycopg":
        with conn.connection.dbapi_connection.cursor(binary=True) as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else bytes(row[0])
    table, column = (message_payloads, message_payloads.c.body) if "message_payloads " in sql \
        else (message_payload_chunks, message_payload_chunks.c.data)
    query = select(column).where(table.c.message_id == params[0])
    if len(params) > 1:
        query = query.where(message_payload_chunks.c.seq == params[1])
    return conn.execute(query).scalar_one_or_none()


def read_payload(engine: Engine, key: str) -> bytes | StreamedPayload | None:
    """Message ``key``'s payload; None when it has none stored."""
    with engine.connect() as conn:
        whole = _scalar_bytes(conn, _WHOLE, (key,))
        if whole is not None:
            return whole
        count, size = conn.execute(
            select(func.count(), func.coalesce(func.sum(func.length(message_payload_chunks.c.data)), 0))
            .where(message_payload_chunks.c.message_id == key)).one()
    if not count:
        return None

    def pieces() -> Iterator[bytes]:
        for seq in range(count):
            with engine.connect() as conn:
                data = _scalar_bytes(conn, _PIECE, (key, seq))
            if data is None:
                raise LookupError(f"message {key} lost piece {seq} of its payload")
            yield data
    return StreamedPayload(int(size), pieces)


def whole(payload: bytes | StreamedPayload) -> bytes:
    """The payload in one piece (for those that parse it anyway)."""
    return payload if isinstance(payload, bytes) else b"".join(payload.pieces())
