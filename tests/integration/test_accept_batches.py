"""One group-commit batch holding new messages, a repeated id, a re-post and a conflicting
re-post is answered item by item as single accepts would be, on both backends (on PostgreSQL
the batch is one pipelined statement with ``ON CONFLICT``: ``hub.transport.pg_accept``), and
the audit grants committed with it keep the chain verifiable."""
from __future__ import annotations

import uuid

import orjson
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from hub.db import pipelined, pipelines
from hub.errors import IdempotencyConflict
from hub.schemas.envelope import Envelope, message_key
from hub.security.tables import audit_log
from hub.transport.messages import existing_pairs, existing_sql
from hub.transport.tables import message_events, message_payloads, messages

A, B, RECEIVER = "TH/GOV/0401/saraban", "TH/GOV/0501/saraban", "TH/GOV/1501/hr"
SERVICE = "telework.order/v1"


@pytest.fixture
def service(hub, client, as_agency):
    as_agency(RECEIVER)  # a route names a registered subsystem
    added = client.post("/v1/routes", json={"receiver": RECEIVER, "service": SERVICE, "adapter": "memory",
                                            "settings": {"mailbox": "batches"}})
    assert added.status_code == 201, added.text
    return hub.messages


def prepare(service, sender: str, message_id: str, days: int):  # noqa: ANN001, ANN201
    env = Envelope(id=message_id, sender=sender, receiver=RECEIVER, service=SERVICE,
                   payload={"order": "กค 0401/1", "days": days})
    grant = ("access.submit", sender, "granted", RECEIVER, orjson.dumps({"sender": sender}).decode())
    return service._prepare(env, grant)


def counts(hub, key: str) -> tuple[int, int, int]:  # noqa: ANN001
    """Rows, payloads and ``accepted`` events stored under ``key`` (the running worker may add
    its own events by the time this reads)."""
    with hub.engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
                     for table, where in ((messages, [messages.c.id == key]),
                                          (message_payloads, [message_payloads.c.message_id == key]),
                                          (message_events, [message_events.c.message_id == key,
                                                            message_events.c.kind == "accepted"])))


def test_a_batch_answers_each_item_as_a_single_accept_would(hub, service):
    stored, conflicting = str(uuid.uuid4()), str(uuid.uuid4())
    before = service._commit_batch([prepare(service, A, stored, 1), prepare(service, A, conflicting, 1)])
    assert [r.created for r in before] == [True, True]
    fresh, twice = str(uuid.uuid4()), str(uuid.uuid4())
    batch = [
        prepare(service, A, fresh, 1),
        prepare(service, A, twice, 2),
        prepare(service, A, twice, 2),        # the same message twice in one batch
        prepare(service, B, twice, 3),        # another sender's own message under the same id
        prepare(service, A, stored, 1),       # a re-post of a stored message
        prepare(service, A, conflicting, 9),  # the same id with other content
    ]
    results = service._commit_batch(batch)
    assert [(r.id, r.created) for r in results[:5]] == [
        (fresh, True), (twice, True), (twice, False), (twice, True), (stored, False)]
    assert results[2].key == results[1].key == message_key(A, twice) != results[3].key
    assert isinstance(results[5], IdempotencyConflict)
    for key in (message_key(A, fresh), message_key(A, twice), message_key(B, twice), message_key(A, stored)):
        assert counts(hub, key) == (1, 1, 1)  # one row, one payload, one accepted event
    # every item's grant is committed with the batch, and the chain and its seals verify
    with hub.engine.connect() as conn:
        targets = conn.execute(select(audit_log.c.detail).where(audit_log.c.kind == "access.submit")).scalars().all()
    assert sorted(orjson.loads(d)["message_id"] for d in targets) == sorted(
        [stored, conflicting] + [p.id for p in batch])
    assert hub.security.audit.verify().ok


def test_a_message_stored_before_ids_were_per_sender_is_a_repost(hub, service):
    """Rows from before migration s3a_0001 keep their id as key: a re-post finds them by
    (sender, id), so it is answered with the old row and nothing is stored twice."""
    old = str(uuid.uuid4())
    prepared = prepare(service, A, old, 1)
    with hub.engine.begin() as conn:
        conn.execute(insert(messages).values({**prepared.row, "id": old}))
    results = service._commit_batch([prepare(service, A, old, 1), prepare(service, A, str(uuid.uuid4()), 1)])
    assert (results[0].created, results[0].key) == (False, old)
    assert results[1].created
    assert counts(hub, message_key(A, old)) == (0, 0, 0)


def test_a_taken_key_fails_only_its_own_item(hub, service):
    """A row whose key a new message would take (not the same sender and id: no re-post)
    makes the batch's insert fail; the items are committed one by one, so only that one fails."""
    taken, other = str(uuid.uuid4()), str(uuid.uuid4())
    squatter = prepare(service, B, str(uuid.uuid4()), 1)
    with hub.engine.begin() as conn:
        conn.execute(insert(messages).values({**squatter.row, "id": message_key(A, taken)}))
    results = service._commit_batch([prepare(service, A, taken, 1), prepare(service, A, other, 1)])
    assert isinstance(results[0], RuntimeError)
    assert results[1].created and counts(hub, message_key(A, other)) == (1, 1, 1)
    assert hub.security.audit.verify().ok


def test_a_failed_pipelined_transaction_leaves_nothing_and_its_connection_usable(hub):
    if not pipelines(hub.engine):
        pytest.skip("pipeline mode is PostgreSQL's")
    import psycopg

    seq = hub.security.audit.record("test.before", actor="test")
    with pytest.raises(IntegrityError) as raised, pipelined(hub.engine) as pg:
        pg.execute("INSERT INTO audit_log (seq, at, kind, actor, detail, prev_hash, entry_hash) "
                   "VALUES (%s, 'x', 'x', 'x', '{}', 'x', 'x')", (seq + 100,))
        pg.execute("INSERT INTO audit_log (seq, at, kind, actor, detail, prev_hash, entry_hash) "
                   "VALUES (%s, 'x', 'x', 'x', '{}', 'x', 'x')", (seq,))
    assert isinstance(raised.value.orig, psycopg.errors.UniqueViolation)  # raised as SQLAlchemy's, as elsewhere
    with hub.engine.connect() as conn:
        assert conn.execute(select(func.max(audit_log.c.seq))).scalar_one() == seq
    assert hub.security.audit.record("test.after", actor="test") == seq + 1
    assert hub.security.audit.verify().ok


def test_a_lost_connection_is_sqlalchemys_error_and_the_pool_renews_its_generation(hub):
    """A pipelined transaction on a connection the server dropped raises SQLAlchemy's
    ``OperationalError`` (the API answers 503 + Retry-After to it), and, as when SQLAlchemy's
    own statements find a connection lost, the pool's other connections of that generation are
    renewed instead of failing the next transactions one by one."""
    if not pipelines(hub.engine):
        pytest.skip("pipeline mode is PostgreSQL's")
    from hub.db import make_engine
    from tests.support.durability import drop_connections

    engine = make_engine(hub.settings.effective_database_url, pool_size=2)
    try:
        first, second = engine.raw_connection(), engine.raw_connection()  # two connections in the pool
        first.close()
        second.close()
        assert drop_connections(hub.settings.effective_database_url) >= 2
        with pytest.raises(OperationalError) as raised, pipelined(engine) as pg:
            pg.execute("SELECT 1").fetchone()
        assert raised.value.connection_invalidated
        with pipelined(engine) as pg:  # not the other dropped connection: a new one
            assert pg.execute("SELECT 1").fetchone() == (1,)
    finally:
        engine.dispose()


def test_the_duplicate_check_looks_ids_up_rather_than_reading_every_stored_key(hub, service):
    """Each batch asks which of its (sender, id) pairs are stored. On SQLite a row-value
    ``IN (VALUES ...)`` was answered by scanning the whole (sender, message_id) index, so every
    batch read every stored message's key and the accept grew slower as the store grew."""
    if hub.engine.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's; PostgreSQL's accept checks with ON CONFLICT")
    stored = service._commit_batch([prepare(service, A, str(uuid.uuid4()), 1) for _ in range(3)])
    pairs = [(A, stored[0].id), (B, stored[0].id), (A, str(uuid.uuid4()))]
    ids = [message_id for _, message_id in pairs]
    with hub.engine.connect() as conn:
        # The statement existing_pairs sends SQLite, for each chunk size it uses.
        for n in (1, 2, 4, 512):
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + existing_sql(n),
                                                            tuple((ids * n)[:n]))]
            assert plan and not [step for step in plan if step.startswith("SCAN")], (n, plan)
        assert existing_pairs(conn, pairs) == {(A, stored[0].id)}  # another sender's id is not this one's
