"""The accept transaction on PostgreSQL: one statement stores a batch, pipelined with the audit.

The generic path (``MessageService._commit_batch``) asks which ids exist, inserts messages,
payloads and events, then appends the audit entries: twelve round trips, one after the
other, in the single group-commit thread that every accept waits on. Here, in one
``hub.db.pipelined`` transaction,

* one statement inserts the messages with ``ON CONFLICT (sender, message_id) DO NOTHING``
  (the unique index of migration s3a_0001; rows stored before it have ``message_id = id``)
  and, in the same statement, the payloads and ``accepted`` events of the rows it inserted;
  it returns their keys, so a duplicate is one that is not returned;
* the audit append queues its head lock behind it (the first round trip carries both), then
  its entries, seal and head update, which leave with the ``COMMIT`` (the second).

The rows travel as arrays (``unnest``): the statement's text is the same for every batch
size, so psycopg prepares it once. The arrays are sent in binary (``%b``): in text form
psycopg quotes and escapes every element with a regular expression, which was most of the
client's time for a batch of 32. Payloads spooled to pieces are not handled here (the caller
takes the generic path for a batch holding one).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

# (column, PostgreSQL type) of every value a new message row carries, in the statement's order.
_COLUMNS = (
    ("id", "text"), ("message_id", "text"), ("sender", "text"), ("receiver", "text"), ("service", "text"),
    ("standard", "text"), ("correlation_id", "text"), ("classification", "text"), ("speed", "text"),
    ("user_id", "text"), ("content_type", "text"), ("received_at", "timestamptz"),
    ("cycle_started_at", "timestamptz"), ("payload_sha256", "text"), ("payload_size", "bigint"),
    ("route_id", "integer"), ("status", "text"), ("attempts", "integer"), ("next_action_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)
_NAMES = ", ".join(name for name, _ in _COLUMNS)
_ARRAYS = ", ".join(f"%b::{kind}[]" for _, kind in _COLUMNS)
# Events are inserted in the rows' order (``ord``): their ids come from one sequence.
STORE_BATCH = f"""
WITH batch AS (
    SELECT * FROM unnest({_ARRAYS}, %b::bytea[], %b::timestamptz[], %b::text[], %b::text[])
        WITH ORDINALITY AS b({_NAMES}, body, event_at, event_kind, event_detail, ord)
), stored AS (
    INSERT INTO messages ({_NAMES}) SELECT {_NAMES} FROM batch
    ON CONFLICT (sender, message_id) DO NOTHING
    RETURNING id
), payloads AS (
    INSERT INTO message_payloads (message_id, body)
    SELECT b.id, b.body FROM batch b JOIN stored s ON s.id = b.id
), events AS (
    INSERT INTO message_events (message_id, at, kind, attempt, detail)
    SELECT b.id, b.event_at, b.event_kind, NULL, b.event_detail::json FROM batch b JOIN stored s ON s.id = b.id
    ORDER BY b.ord
)
SELECT id FROM stored
"""


def store_params(rows: Sequence[dict[str, Any]], bodies: Sequence[bytes], events: Sequence[dict[str, Any]]
                 ) -> list[list[Any]]:
    """The arrays ``STORE_BATCH`` takes: one per column, then bodies and the events' fields."""
    params = [[row[name] for row in rows] for name, _ in _COLUMNS]
    params.append(list(bodies))
    params.append([e["at"] for e in events])
    params.append([e["kind"] for e in events])
    params.append([orjson.dumps(e["detail"]).decode() for e in events])
    return params


def queue_store(pg: Any, rows: Sequence[dict[str, Any]], bodies: Sequence[bytes],  # noqa: ANN401
                events: Sequence[dict[str, Any]]) -> Callable[[], set[str]]:
    """Queue ``STORE_BATCH`` for these rows on ``pg`` (a ``hub.db.pipelined`` connection); the
    function returned gives, once the transaction has committed, the keys of the rows inserted
    (the others were stored before).

    The rows go in key order, so two transactions that share ids (two processes given the
    same re-post) wait for each other's rows in the same order instead of deadlocking."""
    if not rows:
        return set
    order = sorted(range(len(rows)), key=lambda i: rows[i]["id"])
    cursor = pg.execute(STORE_BATCH, store_params([rows[i] for i in order], [bodies[i] for i in order],
                                                  [events[i] for i in order]))
    return lambda: {key for (key,) in cursor.fetchall()}
