"""Transport events reach the audit chain: in order, hashes only, exactly once across restarts
and concurrent feeds; the chain still verifies and a tampered copied entry is detected."""
from __future__ import annotations

import json
import threading
import uuid

import pytest
from sqlalchemy import insert, update
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.security.audit_feed import AuditFeed
from hub.security.tables import audit_log
from hub.security.wiring import security_of
from hub.transport.tables import message_events
from tests.support.auth import register_receiver
from tests.support.waiting import wait_for

CGD, OCSC, SERVICE = "TH/GOV/CGD/saraban", "TH/GOV/OCSC/hr", "hr.attendance/v1"
SECRET_TEXT = "ข้อมูลลับของผู้ส่ง"


def delivered_message(hub, client, as_agency) -> dict:
    register_receiver(client, OCSC)
    client.post("/v1/routes", json={"receiver": OCSC, "service": "*", "adapter": "memory",
                                    "settings": {"mailbox": "feed"}}).raise_for_status()
    cgd = as_agency(CGD, rights=[(SERVICE, OCSC)])
    env = {"id": str(uuid.uuid4()), "sender": CGD, "receiver": OCSC, "service": SERVICE,
           "payload": {"citizen_id": "1101700203450", "note": SECRET_TEXT}}
    accepted = cgd.post("/v1/messages", json=env)
    assert accepted.status_code == 202, accepted.text
    wait_for(lambda: hub.messages.get_meta(env["id"]).status == "delivered", what="delivery")
    return env


def transport_entries(audit, message_id=None):
    return [e for e in audit.entries() if e["kind"].startswith("transport.")
            and (message_id is None or e["target"] == message_id)]


def test_accepted_and_delivered_events_are_copied_with_hashes_only(embedded_hub, embedded_client,
                                                                    embedded_as_agency):
    env = delivered_message(embedded_hub, embedded_client, embedded_as_agency)
    security = security_of(embedded_hub)
    feed = AuditFeed(embedded_hub.engine, security.audit, batch_size=3)
    feed.catch_up()
    entries = transport_entries(security.audit, env["id"])
    kinds = [e["kind"] for e in entries]
    assert kinds[0] == "transport.accepted" and "transport.delivered" in kinds
    assert kinds.index("transport.queued") < kinds.index("transport.delivered")
    meta = embedded_hub.messages.get_meta(env["id"])
    delivered = json.loads(entries[kinds.index("transport.delivered")]["detail"])
    assert delivered["payload_sha256"] == meta.payload_sha256 and len(delivered["receipt_sha256"]) == 64
    for entry in entries:
        assert SECRET_TEXT not in entry["detail"] and "1101700203450" not in entry["detail"]
        assert "applied" not in entry["detail"]  # the receipt text itself is not copied
    event_ids = [json.loads(e["detail"])["event_id"] for e in transport_entries(security.audit)]
    assert event_ids == sorted(event_ids) and len(event_ids) == len(set(event_ids))
    # a restarted feed (a new instance, same database) copies nothing twice
    assert AuditFeed(embedded_hub.engine, security.audit).catch_up() == 0
    assert len(transport_entries(security.audit)) == len(event_ids)
    assert security.audit.verify().ok
    result = CliRunner().invoke(cli, ["audit", "verify", "--data-dir", str(embedded_hub.settings.data_dir)])
    assert result.exit_code == 0, result.output


def test_concurrent_feeds_copy_each_event_exactly_once(embedded_hub, embedded_client, embedded_as_agency):
    env = delivered_message(embedded_hub, embedded_client, embedded_as_agency)
    security = security_of(embedded_hub)
    meta = embedded_hub.messages.get_meta(env["id"])
    at = meta.received_at
    with embedded_hub.engine.begin() as conn:  # plenty of events to race over (kept under the hub key)
        conn.execute(insert(message_events), [{"message_id": meta.key, "at": at, "kind": "receiver_outcome", "attempt": None, "detail": {"status": "completed"}}
            for _ in range(300)])
    feeds = [AuditFeed(embedded_hub.engine, security.audit, batch_size=7) for _ in range(4)]
    threads = [threading.Thread(target=f.catch_up) for f in feeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    ids = [json.loads(e["detail"])["event_id"] for e in transport_entries(security.audit)]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)
    assert ids == list(range(1, feeds[0].position() + 1))
    assert security.audit.verify().ok


def test_a_hole_waits_then_is_recorded_as_a_gap(embedded_hub, embedded_client, embedded_as_agency):
    env = delivered_message(embedded_hub, embedded_client, embedded_as_agency)
    security = security_of(embedded_hub)
    now = [0.0]
    feed = AuditFeed(embedded_hub.engine, security.audit, gap_seconds=30, clock=lambda: now[0])
    feed.catch_up()
    last = feed.position()
    meta = embedded_hub.messages.get_meta(env["id"])
    with embedded_hub.engine.begin() as conn:  # event last+1 is "still committing": only last+2 exists
        conn.execute(insert(message_events).values(id=last + 2, message_id=meta.key, at=meta.received_at,
                                                   kind="replayed", attempt=None, detail={"reason": "x"}))
    assert feed.copy_batch() == 0 and feed.position() == last
    now[0] = 31.0
    assert feed.copy_batch() == 1 and feed.position() == last + 2
    gap = [e for e in security.audit.entries(kind="audit.feed_gap")]
    assert json.loads(gap[0]["detail"])["missing_from"] == last + 1


def test_a_tampered_copied_entry_is_detected(embedded_hub, embedded_client, embedded_as_agency):
    env = delivered_message(embedded_hub, embedded_client, embedded_as_agency)
    security = security_of(embedded_hub)
    AuditFeed(embedded_hub.engine, security.audit).catch_up()
    target = next(e for e in transport_entries(security.audit, env["id"]) if e["kind"] == "transport.delivered")
    forged = json.loads(target["detail"]) | {"payload_sha256": "0" * 64}
    with embedded_hub.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == target["seq"])
                     .values(detail=json.dumps(forged, sort_keys=True, separators=(",", ":"))))
    report = security.audit.verify()
    assert not report.ok and report.first_bad_seq == target["seq"]


# -- on both backends (PostgreSQL appends a batch as arrays, pipelined; SQLite with an executemany)

AWKWARD = "ข้อความ\ttab\nline\\backslash \"quoted\" \x01 end"


def test_a_chain_of_entries_written_one_insert_each_and_batches_appended_since_verifies(hub):
    """Entries as the append path wrote them before batches were copied in (one INSERT and one
    time each) followed by batches appended now: the chain, the seals and the head agree, and
    text that needs escaping (tabs, newlines, backslashes, Thai) comes back byte for byte."""
    from hub.security.audit import GENESIS, canonical, entry_hash, timestamp
    from hub.security.tables import audit_head

    audit = security_of(hub).audit
    audit.record("test.first", actor="tester", target="t0", note=AWKWARD)
    with hub.engine.begin() as conn:  # two entries as the older append path inserted them
        head = conn.execute(audit_head.select()).mappings().one()
        seq, prev = head["last_seq"], head["last_hash"]
        for n in (1, 2):
            seq += 1
            row = {"seq": seq, "at": timestamp(), "kind": "test.old", "actor": "tester", "decision": None,
                   "target": f"t{n}", "detail": canonical({"n": n, "note": AWKWARD}).decode(), "prev_hash": prev}
            row["entry_hash"] = prev = entry_hash(prev, row)
            conn.execute(insert(audit_log).values(**row))
        conn.execute(update(audit_head).values(last_seq=seq, last_hash=prev))
    audit.seal()
    with hub.engine.begin() as conn:
        audit.append_in(conn, [("test.batch", "tester", d, f"b{n} {AWKWARD}", canonical({"n": n, "note": AWKWARD}).decode())
                               for n, d in ((1, None), (2, "granted"), (3, "refused"))])
    report = audit.verify()
    assert report.ok, report.problem
    batch = audit.entries(kind="test.batch")
    assert [json.loads(e["detail"])["note"] for e in batch] == [AWKWARD] * 3
    assert [e["decision"] for e in batch] == [None, "granted", "refused"]
    assert [e["target"] for e in batch] == [f"b{n} {AWKWARD}" for n in (1, 2, 3)]
    assert len({e["at"] for e in batch}) == 1  # one batch, one time
    assert audit.entries()[0]["prev_hash"] == GENESIS


def stored_history(hub, messages_count: int = 3) -> list[str]:
    """Messages with an accepted / queued / delivered history, written as the transport writes
    them, with no worker or feed running (only the test's feed copies them)."""
    from hub.clock import utcnow
    from hub.transport.tables import messages

    now, ids = utcnow(), []
    with hub.engine.begin() as conn:
        for _ in range(messages_count):
            key = str(uuid.uuid4())
            ids.append(key)
            conn.execute(insert(messages).values(
                id=key, message_id=key, sender=CGD, receiver=OCSC, service=SERVICE, classification="001",
                speed="001", content_type="application/json", received_at=now, cycle_started_at=now,
                payload_sha256="a" * 64, payload_size=10, status="delivered", attempts=1, updated_at=now))
            conn.execute(insert(message_events), [
                {"message_id": key, "at": now, "kind": "accepted", "attempt": None,
                 "detail": {"payload_sha256": "a" * 64, "payload_size": 10, "route_id": 1}},
                {"message_id": key, "at": now, "kind": "queued", "attempt": None, "detail": None},
                {"message_id": key, "at": now, "kind": "delivered", "attempt": 1,
                 "detail": {"receipt": AWKWARD, "status_code": 202}}])
    return ids


def test_a_changed_copied_event_is_detected_on_either_backend(hub):
    key = stored_history(hub)[1]
    security = security_of(hub)
    AuditFeed(hub.engine, security.audit).catch_up()
    assert security.audit.verify().ok
    target = next(e for e in transport_entries(security.audit, key) if e["kind"] == "transport.accepted")
    forged = json.loads(target["detail"]) | {"receiver": "TH/GOV/ELSE/x"}
    with hub.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == target["seq"])
                     .values(detail=json.dumps(forged, sort_keys=True, separators=(",", ":"))))
    report = security.audit.verify()
    assert not report.ok and report.first_bad_seq == target["seq"]


def test_a_crash_after_the_append_and_before_the_position_moves_copies_nothing_twice(hub, monkeypatch):
    """The entries and the position are one transaction: a feed that dies between the two
    leaves neither, and the next run copies every event exactly once."""
    keys = stored_history(hub)
    security = security_of(hub)
    feed = AuditFeed(hub.engine, security.audit, batch_size=2)
    before = len(security.audit.entries())
    import hub.security.audit_feed as feed_module

    real_update = feed_module.update

    def crash_on_position(table):  # noqa: ANN001, ANN202
        if table is feed_module.audit_feed_position:
            raise RuntimeError("killed between the append and the position move")
        return real_update(table)

    monkeypatch.setattr(feed_module, "update", crash_on_position)
    with pytest.raises(RuntimeError):
        feed.copy_batch()
    assert len(security.audit.entries()) == before and feed.position() == 0
    monkeypatch.setattr(feed_module, "update", real_update)
    copied = feed.catch_up()
    ids = [json.loads(e["detail"])["event_id"] for e in transport_entries(security.audit)]
    assert copied == len(ids) and ids == list(range(1, feed.position() + 1))
    assert copied == 9
    for key in keys:
        assert [e["kind"] for e in transport_entries(security.audit, key)] == [
            "transport.accepted", "transport.queued", "transport.delivered"]
    assert security.audit.verify().ok
