"""The whole telework cycle across three agencies through the hub (embedded default, the API
served on a real port so the agencies' e-Saraban reach the e-CMS node over SOAP).

Each artefact is asserted where it lands:
* the order letter: in the ministry's (and OPDC's) e-Saraban incoming register under their own
  receipt numbers, with CGD's book number and the th.telework.order document attached; CGD's
  e-Saraban sees each recipient's AcceptID through the node;
* the telework days: rows in the ministry's DPIS tables (SQL), the revoked days removed;
* the evidence: each item's SHA-256 in the hub's signed audit log, whose chain verifies as
  ``hub audit verify`` checks it;
* the savings batch: its message status ``completed`` from the reference GFMIS's result file.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from hub.adapters.dpis.schema import hub_message_log, per_personal, per_time_attendance
from hub.apps.telework import documents as D, pilot
from hub.apps.telework.hub_ports import party
from hub.apps.telework.wiring import EOFFICE_ROUTE, GSMS_ROUTE
from hub.apps.telework.story import StoryResult, run_story, wait_delivered, wait_letters_accepted
from hub.bootstrap import Hub, build_hub
from hub.sim import eoffice as eoffice_sim, gsms as gsms_sim
from hub.thai import THAI_MONTHS
from hub.adapters.base import COMPLETED
from tests.conftest import fast_settings
from tests.support.ecms import serving


def route_url(hub: Hub, receiver: str) -> str:
    """The database URL of the reference system the receiver's route delivers to."""
    return next(r.settings["url"] for r in hub.router.list() if r.receiver == receiver)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, StoryResult]]:
    """One run of the story for every assertion (it takes a few seconds over real SOAP)."""
    from hub.adapters.memory import reset_mailboxes

    reset_mailboxes()
    hub = build_hub(fast_settings(tmp_path_factory.mktemp("telework") / "data"))
    try:
        with serving(hub) as node_url:
            story = run_story(hub, node_url)
            try:
                counts = wait_delivered(hub)
                assert counts.get("dead", 0) == 0, counts
                yield hub, story
            finally:
                story.systems.close()
    finally:
        hub.close()


def test_order_letters_land_in_the_recipients_esaraban(world) -> None:
    hub, story = world
    cases = {name: story.app.ports.store.get_case(cid) for name, cid in story.cases.items()}
    cases["on-site"] = story.app.ports.store.get_case(story.onsite)  # seed 003: the New Normal shift
    orders = sorted((c.book_number for c in cases.values()), key=lambda b: int(b.rsplit("/", 1)[1]))
    revocation = cases[pilot.AUDITOR.name].revocation["book_number"]
    # CGD's e-Saraban register numbered them: four orders (three off-site, one on-site) then the revocation.
    assert orders == [f"กค 0401/{n}" for n in (1, 2, 3, 4)] and revocation == "กค 0401/5"

    status = wait_letters_accepted(story.systems, [*orders, revocation])
    for agency in (pilot.MOF, pilot.OPDC):
        office = story.systems.office(agency)
        register = {row["letter_id"]: row for row in office.incoming_letters()}
        assert set(register) == {*orders, revocation}, f"{agency}'s e-Saraban incoming register"
        for book, row in register.items():
            assert row["from_department"] == "0401" and row["status"] == "AcceptLetterNotifier"
            # the receipt number this e-Saraban gave is what CGD's e-Saraban sees as AcceptID
            code = pilot.ECMS_DEPARTMENTS[agency][0]
            assert status[book][code]["accept_id"] == row["receipt_no"]
            [document] = office.attachment_documents(row)
            assert document["book_number"] == book
            if book == revocation:
                story.app.service.documents.validate(D.REVOCATION, document)
                assert document["order_ref"] == cases[pilot.AUDITOR.name].book_number
            else:
                story.app.service.documents.validate(D.ORDER, document)
                assert document["issuing_agency"] == pilot.CGD
    # the letters crossed the hub as e-CMS messages, one conversation per letter and recipient;
    # the last notifiers may still be on their way (delivery is asynchronous), so wait for them
    letters, _ = hub.messages.list(limit=500, service="ecms.letter/v1")
    assert {m.sender for m in letters} >= {party(pilot.CGD, "saraban")}
    deadline = time.monotonic() + 30
    while undelivered := [(m.receiver, m.status, m.last_error) for m in
                          hub.messages.list(limit=500, service="ecms.letter/v1")[0] if m.status != "delivered"]:
        assert time.monotonic() < deadline, f"letters not delivered after 30 s: {undelivered}"
        time.sleep(0.1)


def test_only_given_time_evidence_lands_in_the_dpis_tables_seed_001_7_2(world) -> None:
    _, story = world
    cases = {name: story.app.ports.store.get_case(cid) for name, cid in story.cases.items()}
    engine = create_engine(story.systems.dpis_url)
    try:
        with engine.connect() as conn:
            per_ids = {p.PER_CARDNO.decode("cp874"): p.PER_ID for p in conn.execute(
                select(per_personal.c.PER_CARDNO, per_personal.c.PER_ID))}

            def rows(officer: pilot.Officer) -> dict[str, set[str]]:
                out: dict[str, set[str]] = {}
                for stamp, code in conn.execute(select(per_time_attendance.c.TIME_STAMP, per_time_attendance.c.TA_CODE)
                                                .where(per_time_attendance.c.PER_ID == per_ids[officer.citizen_id])):
                    out.setdefault(stamp.decode()[:10], set()).add(code)
                return out

            # Seed 001 §7.2 (Leave Regulation cl. 11): only the check-ins/outs actually given are
            # attendance; the ordered days without evidence have no row (nothing pre-filled).
            analyst = rows(pilot.ANALYST)
            evidenced = cases[pilot.ANALYST.name].scheduled_days[:3]
            assert analyst == {d: {"W1", "W2"} for d in evidenced}
            auditor = rows(pilot.AUDITOR)
            assert auditor == {cases[pilot.AUDITOR.name].scheduled_days[0]: {"W1", "W2"}}
            # the counter officer's on-site shift (seed 003): the three days clocked, nothing else
            assert rows(pilot.COUNTER) == {d: {"W1", "W2"} for d in ("2026-11-02", "2026-11-03", "2026-11-04")}
            cases["on-site"] = story.app.ports.store.get_case(story.onsite)
            # one marker per applied hub message: redelivery cannot write twice; a revocation
            # has no pre-filled days to withdraw
            markers = conn.execute(select(hub_message_log.c.TARGET, hub_message_log.c.ROWS_WRITTEN)).all()
            given = [e for c in cases.values() for e in story.app.ports.store.list_evidence(c.case_id) if e.kind == "time"]
            assert sorted(markers) == [("attendance", 2)] * len(given)
    finally:
        engine.dispose()


def test_evidence_is_in_the_signed_audit_log_and_verifies(world) -> None:
    hub, story = world
    evidence = [e for cid in story.cases.values() for e in story.app.ports.store.list_evidence(cid)]
    assert len(evidence) >= 10
    audit = hub.security.audit
    entries = {f"audit:{e['seq']}": e for e in audit.entries()}
    for item in evidence:
        entry = entries[item.audit_ref]
        assert entry["kind"] == f"telework.evidence.{item.kind}" and entry["target"] == item.case_id
        assert json.loads(entry["detail"])["sha256"] == item.sha256
        assert story.app.ports.audit.find(item.sha256) == item.audit_ref
    audit.seal()  # the hub's Ed25519 signature over the chain's head, as its batches are sealed
    report = audit.verify()  # what `hub audit verify` runs
    assert report.ok and report.problem is None and report.seals >= 1 and report.unsealed == 0, report.as_dict()
    assert story.app.ports.audit.verify().ok


def test_savings_batch_is_accepted_by_the_reference_gfmis(world) -> None:
    hub, story = world
    ref = story.savings["finance_batch_ref"]
    meta = hub.messages.get_meta(ref)
    assert meta.status == COMPLETED, (meta.status, meta.last_error)
    assert story.batch is not None and story.batch.status == "accepted"
    [outcome] = story.batch.detail["events"]
    assert outcome["detail"]["accepted"] == 4 and outcome["detail"]["rejected"] == 0
    processed = list(Path(story.systems.gfmis_drop, "results", "processed").iterdir())
    assert len(processed) == 1 and ref in processed[0].name
    # seed 000: OPDC's GSMS keeps the KPIs with the financial figures and GFMIS's verdict on them
    [record] = gsms_sim.reports(route_url(hub, GSMS_ROUTE))
    assert record["report_ref"] == story.savings["document"]["report_id"] and record["gfmis_batch_ref"] == ref
    assert record["gfmis_verdict"] == "accepted" and len(record["messages"]) == 2  # pending, then the verdict
    assert record["document"]["gfmis"] == {"batch_ref": ref, "verdict": "accepted", "accepted_lines": 4,
                                           "rejected_lines": 0}
    assert record["document"]["financial"]["utilities"] == story.savings["document"]["utilities"]
    notices = eoffice_sim.inbox(route_url(hub, EOFFICE_ROUTE), pilot.DIVISION_HEAD.citizen_id)
    assert any(n["subject"] == "telework day without evidence or off its pattern" for n in notices)


def test_story_refusals_carry_their_reasons(world) -> None:
    _, story = world
    rules = {who: exc.rule for who, exc in story.refusals}
    assert rules == {
        pilot.COUNTER.name: "ineligible_work:direct-public-service",
        pilot.DIVISION_HEAD.name: "head_of_agency",
        "e-meeting ลับมาก": "emeeting_not_classified",
        "evidence on Saturday 2026-11-07": "day_within_order",
    }
    assert all(exc.errors and exc.errors[0].message for _, exc in story.refusals)
    counter = next(exc for who, exc in story.refusals if who == pilot.COUNTER.name)
    assert "บริการประชาชน" in counter.reason_th  # the duty read from DPIS, refused with the seed's words


ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
THAI_MONTH = re.compile("(" + "|".join(THAI_MONTHS) + r") 25\d\d")


def test_thai_official_forms_in_the_demo_letters_and_alerts(world) -> None:
    """Every date a person reads in the demo's letters, alerts and notices is Buddhist-Era with
    a Thai month name (no CE ISO date in Thai text); an order is numbered "ที่ N/ปี" and its
    letter is dated as the order (issue 14; DOMAIN.md §3)."""
    _, story = world
    cases = {c.book_number: c for c in (story.app.ports.store.get_case(cid) for cid in story.cases.values())}
    wait_letters_accepted(story.systems, [*cases, *(c.revocation["book_number"] for c in cases.values() if c.revocation)])
    read = []
    for agency in (pilot.MOF, pilot.OPDC):
        office = story.systems.office(agency)
        for letter in office.incoming_letters():
            body = office.file(letter["files"].split(",")[0]).decode("utf-8")
            read.append(body)
            if "ยกเลิก" not in body:  # an order: numbered as orders are, not by its letter's book number
                assert re.search(r"\nที่ \d+/2569\n", body), body
    assert len(read) >= 8, read  # 4 letters (3 orders, 1 revocation) x 2 recipients
    read += [a.message for a in story.alerts]
    read += [n["body"].get("message", "") for n in eoffice_sim.inbox(route_url(story.systems.hub, EOFFICE_ROUTE))]
    for text in read:
        assert not ISO_DATE.search(text), text
    assert all(THAI_MONTH.search(t) for t in read if t), [t for t in read if t and not THAI_MONTH.search(t)]
    numbers = sorted(c.order_letter["order_number"] for c in cases.values())
    assert numbers == ["1/2569", "2/2569", "3/2569"]
    for case in cases.values():
        assert case.order_letter["sent_on"] == case.order["order_date"]


def test_seed_003_the_new_normal_on_site_shift_flags_the_late_day(world) -> None:
    """Pattern 1 (on-site, staggered hours 07:00-15:00): the counter officer, whose public service
    keeps them at the office, works the shift; the 07:40 arrival is flagged, not accepted."""
    _, story = world
    case = story.app.ports.store.get_case(story.onsite)
    assert case.status == "ordered" and case.off_site is False
    assert case.order["signer"]["name"] == pilot.DIRECTOR_GENERAL.name
    days = {d["date"]: d for d in story.app.service.evidence_status(story.onsite, dt.date(2026, 11, 4))["days"]}
    assert days["2026-11-02"]["status"] == "complete" and days["2026-11-04"]["status"] == "complete"
    assert days["2026-11-03"]["status"] == "flagged"
    assert [f["finding"] for f in days["2026-11-03"]["findings"]] == ["late-arrival"]
