"""The whole telework cycle across three agencies through the hub (embedded default).

Where each artefact must land, and what this test can see today:
* the order letter: an ``ecms.letter/v1`` message delivered to the ministry's and OPDC's
  e-Saraban subsystems, carrying the book number CGD's register assigned (mailbox routes,
  because the reference e-Saraban and e-CMS node are not connected yet);
* telework days and attendance: ``hr.attendance/v1`` messages delivered to the ministry's
  DPIS subsystem in the DPIS adapter's payload spelling (mailbox route);
* evidence: each item's SHA-256 in the audit chain, which verifies (in-memory chain: the
  hub's signed audit log is not wired in yet);
* the savings batch: a valid ``th.gfmis.batch`` delivered to the ministry's GFMIS subsystem.
"""
from __future__ import annotations

import json

import pytest

from hub.adapters.memory import mailbox
from hub.apps.telework import documents as D, pilot
from hub.apps.telework.hub_ports import party
from hub.apps.telework.story import add_routes, run_story, wait_delivered
from hub.bootstrap import Hub


def delivered(receiver: str) -> list[dict]:
    return [json.loads(doc) for doc in mailbox(receiver).applied.values()]


@pytest.fixture
def story(embedded_hub: Hub):
    add_routes(embedded_hub)
    embedded_hub.start_workers()
    result = run_story(embedded_hub)
    counts = wait_delivered(embedded_hub)
    assert counts.get("dead", 0) == 0 and set(counts) == {"delivered"}, counts
    return result


def test_story_lands_every_artefact(story, embedded_hub: Hub) -> None:
    cases = {name: story.app.ports.store.get_case(cid) for name, cid in story.cases.items()}
    analyst = cases[pilot.ANALYST.name]
    assert analyst.status == "evaluated" and analyst.book_number.startswith("กค 0401/")

    # The order letter, with CGD's book number, in the ministry's and OPDC's e-Saraban.
    for receiver in (party(pilot.MOF, "saraban"), party(pilot.OPDC, "saraban")):
        letters = [d["payload"] for d in delivered(receiver) if d["service"] == "ecms.letter/v1"]
        orders = [l for l in letters if l["attachment"]["standard"] == "th.telework.order@1.0.0"]
        assert {l["book_number"] for l in orders} == {c.book_number for c in cases.values()}
        for letter in orders:
            assert letter["sender"]["agency"] == pilot.CGD
            D.validate(D.ORDER, letter["attachment"]["document"])
        revocations = [l for l in letters if l["attachment"]["standard"] == "th.telework.revocation@1.0.0"]
        assert [l["reference"] for l in revocations] == [cases[pilot.AUDITOR.name].book_number]
    assert [b for b, _ in story.books.issued[pilot.CGD]] == [f"กค 0401/{n}" for n in range(1, 5)]

    # Telework days and attendance to the ministry's DPIS, from CGD's telework subsystem.
    hr = delivered(party(pilot.MOF, "dpis"))
    assert {d["sender"] for d in hr} == {party(pilot.CGD, "telework")}
    days = [d["payload"] for d in hr if d["service"] == "hr.attendance/v1" and "days" in d["payload"]]
    assert {p["citizen_id"] for p in days} == {pilot.ANALYST.citizen_id, pilot.DEVELOPER.citizen_id,
                                               pilot.AUDITOR.citizen_id}
    analyst_days = next(p for p in days if p["citizen_id"] == pilot.ANALYST.citizen_id)["days"]
    assert [d["date"] for d in analyst_days] == analyst.scheduled_days
    attendance = [d["payload"] for d in hr if "work_date" in d["payload"]]
    assert all(D.validate(D.TIME_EVIDENCE, a) for a in attendance) and len(attendance) == 7
    cancel = [d["payload"] for d in hr if d["service"] == "hr.telework.cancel/v1"]
    assert cancel[0]["citizen_id"] == pilot.AUDITOR.citizen_id and min(cancel[0]["dates"]) == "2026-11-09"

    # Evidence in the audit chain, verifiable.
    evidence = [e for c in cases.values() for e in story.app.ports.store.list_evidence(c.case_id)]
    assert evidence and all(story.audit.find(e.sha256) == e.audit_ref for e in evidence)
    assert story.audit.verify().ok

    # The savings batch to finance (GFMIS-style) and KPIs to the strategy side.
    batches = delivered(party(pilot.MOF, "gfmis"))
    assert len(batches) == 1 and batches[0]["standard"] == "th.gfmis.batch@1.0.0"
    batch = batches[0]["payload"]
    assert batch["header"]["agency_code"] == "03004" and batch["trailer"]["record_count"] == 4
    assert sum(float(d["amount"]) for d in batch["details"]) == pytest.approx(float(batch["trailer"]["amount_total"]))
    kpis = delivered(party(pilot.OPDC, "gsms"))[0]["payload"]
    assert kpis["financial"]["utilities"] == story.savings["document"]["utilities"]
    assert kpis["finance_batch_ref"] == str(batches[0]["id"])

    # The supervisor was alerted through the hub about the auditor's days without evidence.
    notices = [d["payload"] for d in delivered(party(pilot.CGD, "eoffice"))]
    assert any(n["subject"] == "telework day without evidence" for n in notices)


def test_story_refusals_carry_their_reasons(story) -> None:
    rules = {who: exc.rule for who, exc in story.refusals}
    assert rules == {
        pilot.COUNTER.name: "ineligible_work:direct-public-service",
        pilot.DIVISION_HEAD.name: "head_of_agency",
        "e-meeting ลับมาก": "emeeting_not_classified",
        "evidence on Saturday 2026-11-07": "day_within_order",
    }
    assert all(exc.errors and exc.errors[0].message for _, exc in story.refusals)
