"""Issue 12, finding 7: message ids are scoped by sender.

The same id from two senders is two messages; a conflict (409) is only with one's own; a
third party cannot tell another sender's id from an unknown one; the id the e-CMS node
derives for a department's future letter cannot be claimed through ``POST /v1/messages``.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from hub import migrate
from hub.adapters.ecms.codec.letter import Binary, Letter, Party, to_payload
from hub.adapters.ecms.node.node import ID_NAMESPACE
from hub.adapters.ecms.node.tables import ecms_queue
from hub.adapters.memory import mailbox
from hub.config import SecuritySettings
from hub.db import make_engine
from hub.schemas.envelope import message_key
from hub.transport.tables import messages
from tests.conftest import fast_settings
from tests.support.auth import agency_token, bearer
from tests.support.ecms import node_serving, post_soap
from tests.support.services import need, postgres_database
from tests.support.waiting import wait_for

A, B, RECEIVER, THIRD = "TH/GOV/0401/saraban", "TH/GOV/0501/saraban", "TH/GOV/1501/hr", "TH/GOV/0601/probe"
SERVICE = "telework.order/v1"


def envelope(sender: str, message_id: str, **payload: object) -> dict:
    return {"id": message_id, "sender": sender, "receiver": RECEIVER, "service": SERVICE,
            "payload": {"order": "กค 0401/1", **payload}}


@pytest.fixture
def parties(client, as_agency):
    """On both backends (SQLite, and PostgreSQL + RabbitMQ)."""
    receiver = as_agency(RECEIVER)  # registered first: a route names a registered subsystem (issue 12)
    added = client.post("/v1/routes", json={"receiver": RECEIVER, "service": SERVICE, "adapter": "memory",
                                                     "settings": {"mailbox": "ids"}})
    assert added.status_code == 201, added.text
    return {p: as_agency(p, rights=[(SERVICE, RECEIVER)]) for p in (A, B, THIRD)} | {RECEIVER: receiver}


def test_the_same_id_from_two_senders_is_two_messages(parties):
    message_id = str(uuid.uuid4())
    first = parties[A].post("/v1/messages", json=envelope(A, message_id, days=1))
    assert first.status_code == 202 and first.json()["id"] == message_id, first.text
    # B uses the same id for its own, different message: no 409, a message of its own
    second = parties[B].post("/v1/messages", json=envelope(B, message_id, days=2))
    assert second.status_code == 202, second.text
    assert "Idempotent-Replayed" not in second.headers
    # each sender reads its own under the id it chose
    assert parties[A].get(f"/v1/messages/{message_id}/payload").json()["days"] == 1
    assert parties[B].get(f"/v1/messages/{message_id}/payload").json()["days"] == 2
    # both are delivered, and the receiver can tell them apart
    wait_for(lambda: len(mailbox("ids").applied) == 2, what="both delivered")
    ambiguous = parties[RECEIVER].get(f"/v1/messages/{message_id}")
    assert ambiguous.status_code == 422 and ambiguous.json()["errors"][0]["field"] == "/query/sender", ambiguous.text
    by_b = parties[RECEIVER].get(f"/v1/messages/{message_id}", params={"sender": B})
    assert by_b.status_code == 200 and by_b.json()["sender"] == B
    keys = {m["key"] for m in parties[RECEIVER].get("/v1/messages").json()["items"]}
    assert keys == {message_key(A, message_id), message_key(B, message_id)}


def test_a_conflict_is_only_with_your_own_id(parties):
    message_id = str(uuid.uuid4())
    assert parties[A].post("/v1/messages", json=envelope(A, message_id, days=1)).status_code == 202
    assert parties[A].post("/v1/messages", json=envelope(A, message_id, days=1)).headers["Idempotent-Replayed"] == "true"
    conflict = parties[A].post("/v1/messages", json=envelope(A, message_id, days=9))
    assert conflict.status_code == 409, conflict.text
    assert parties[B].post("/v1/messages", json=envelope(B, message_id, days=9)).status_code == 202


def test_a_third_party_cannot_learn_that_an_id_exists(parties):
    message_id = str(uuid.uuid4())
    assert parties[A].post("/v1/messages", json=envelope(A, message_id)).status_code == 202
    unknown = parties[THIRD].get(f"/v1/messages/{uuid.uuid4()}")
    taken = parties[THIRD].get(f"/v1/messages/{message_id}")
    assert taken.status_code == unknown.status_code == 404
    assert taken.json()["message"] == f"no message with id {message_id}"
    for path in ("/payload", "/replay"):
        call = parties[THIRD].post if path == "/replay" else parties[THIRD].get
        assert call(f"/v1/messages/{message_id}{path}").status_code == 404
    # posting the id A used is not a conflict either: it is THIRD's own message
    assert parties[THIRD].post("/v1/messages", json=envelope(THIRD, message_id, x=1)).status_code == 202


@pytest.fixture
def ecms_node(tmp_path: Path):
    settings = fast_settings(tmp_path / "data", security=SecuritySettings(auth_failures_per_client=1000))
    with node_serving(settings) as found:
        yield found


def test_an_agency_cannot_claim_the_id_of_a_future_ecms_letter(ecms_node):
    from tests.integration.test_ecms_node import basic, outbound, raw_letter

    url, hub = ecms_node
    # The id the node will derive for 0401's next letter to 0402 (sequential book numbers).
    letter_id, date = "กค 0401/77", "2024-10-01"
    derived = str(uuid.uuid5(ID_NAMESPACE, "|".join(("letter", "0401", "0402", letter_id, date, "1"))))
    attacker = "TH/GOV/0499/probe"
    token = agency_token(hub, attacker, rights=[("ecms.letter/v1", "TH/GOV/0402/saraban")])
    api = url.removesuffix("/ecms/service2")
    # a well-formed letter, so it is delivered into 0402's poll queue too
    ref = hub.ecms.blobs.put(b"%PDF-1.4 fake")
    fake = Letter("กค 0499/1", date, "ปลอม", "001", "001", Party("0400", "0401"), Party("0400", "0402"),
                  Binary("MainLetterBinaryObject", "application/pdf", ref.sha256, ref.size))
    claim = httpx.post(f"{api}/v1/messages", headers=bearer(token), timeout=30, json={
        "id": derived, "sender": attacker, "receiver": "TH/GOV/0402/saraban", "service": "ecms.letter/v1",
        "content_type": "application/xml", "payload": to_payload(fake).decode()})
    assert claim.status_code == 202, claim.text
    wait_for(lambda: hub.messages.get_meta(derived, sender=attacker).status == "delivered", what="the claim")
    real = post_soap(url, outbound(raw_letter(id=letter_id, date=date)), **basic("0401"))
    assert real.status_code == 200 and "<ErrorCode>" not in real.text, real.text
    assert f"<ProcessID>{derived}</ProcessID>" in real.text
    letter = hub.messages.get_meta(derived, sender="TH/GOV/0401/saraban")
    assert letter.sender == "TH/GOV/0401/saraban" and letter.content_type == "application/xml"
    claimed = hub.messages.get_meta(derived, sender=attacker)
    assert claimed.key != letter.key
    # in 0402's poll queue the derived id holds the real letter; the claim sits under its hub key
    wait_for(lambda: hub.messages.get_meta(derived, sender="TH/GOV/0401/saraban").status == "delivered",
             what="the letter in 0402's queue")
    with hub.engine.connect() as conn:
        queued = dict(conn.execute(select(ecms_queue.c.message_id, ecms_queue.c.payload)).all())
    assert letter_id.encode() in queued[derived] and b"0499/1" in queued[claimed.key]
    # and OutboundStatus of the letter shows the letter, not the claimed message
    status = post_soap(url, (f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                             f"<OutboundStatusRequest><ProcessID>{derived}</ProcessID></OutboundStatusRequest>"
                             "</soap:Body></soap:Envelope>"), **basic("0401"))
    assert status.status_code == 200 and "<ErrorCode>" not in status.text, status.text


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    need("postgresql")
    with postgres_database() as url:
        yield url


def test_the_migration_keeps_stored_messages_under_their_ids(empty_database):
    """Rows stored before s3a_0001 keep their id as key, and the unique (sender, message_id)
    holds on the migrated table (SQLite and PostgreSQL)."""
    engine = make_engine(empty_database)
    migrate.upgrade(engine, "0002")
    for rev in sorted(migrate.head_revisions() - {"s3a_0001"}):
        migrate.upgrade(engine, rev)
    old = str(uuid.uuid4())
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        # written as the table was before the migration: no message_id column yet
        conn.execute(text(
            "INSERT INTO messages (id, sender, receiver, service, classification, speed, content_type, received_at,"
            " cycle_started_at, payload_sha256, payload_size, status, attempts, updated_at) VALUES"
            " (:id, :sender, :receiver, :service, '001', '001', 'application/json', :now, :now, :sha, 2,"
            " 'delivered', 1, :now)"), {"id": old, "sender": A, "receiver": RECEIVER, "service": SERVICE,
                                         "now": now, "sha": "0" * 64})
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    names = {i["name"]: i for i in inspect(engine).get_indexes("messages")}
    assert names["uq_messages_sender_message_id"]["unique"]
    with engine.connect() as conn:
        assert conn.execute(select(messages.c.id, messages.c.message_id)).all() == [(old, old)]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(messages).values(
            id=message_key(A, old), message_id=old, sender=A, receiver=RECEIVER, service=SERVICE,
            classification="001", speed="001", content_type="application/json", received_at=now,
            cycle_started_at=now, payload_sha256="0" * 64, payload_size=2, status="accepted", attempts=0,
            updated_at=now))
    engine.dispose()
