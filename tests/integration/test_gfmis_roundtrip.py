"""GFMIS batch out through the drop folder to the reference GFMIS and back to the message."""
from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
import shutil
from pathlib import Path

import pytest

from hub.adapters.gfmis import GfmisAdapter, GfmisSettings
from hub.adapters.gfmis.batch import Batch, render_batch
from hub.adapters.gfmis.dropfolder import write_atomic
from hub.adapters.gfmis.layout import layout_document
from hub.adapters.gfmis.results import parse_result
from hub.bootstrap import Hub
from hub.config import default_standards_dir
from hub.errors import DeliveryError
from hub.schemas.envelope import Envelope
from hub.schemas.routes import RouteIn
from hub.sim.gfmis import GfmisSimulator
from tests.support.conformance import outbound
from tests.support.inbound import hub_sink
from tests.support.waiting import wait_for

STANDARDS = default_standards_dir()
GFMIS, SERVICE = "TH/GOV/CGD/gfmis", "gfmis.batch/v1"


def batch(**trailer: str) -> dict:
    doc = json.loads((STANDARDS / "th.gfmis.batch/1.0.0/examples/valid/k1-disbursement.json").read_text())
    doc["details"].append({"line_no": 3, "doc_type": "K1", "fund_source": "6811000", "amount": "1000.25",
                           "vendor_group": "2000", "vendor_tax_id": "1101700203450",
                           "description": "ค่าเบี้ยประชุม (ปฏิบัติงานนอกสถานที่)"})
    doc["details"][1]["fund_source"] = "6819000"  # not allocated to the agency: GFMIS rejects line 2
    doc["trailer"] = {"record_count": 3, "amount_total": "16950.75", **trailer}
    return doc


def deliver(hub: Hub, drop: Path, payload: dict, *, precheck: bool = True) -> str:
    hub.router.add(RouteIn(receiver=GFMIS, service=SERVICE, adapter="gfmis",
                           settings={"path": str(drop), "precheck_control_totals": precheck}))
    result = hub.messages.accept(Envelope(sender="TH/GOV/OPDC/finance", receiver=GFMIS, service=SERVICE,
                                          standard="th.gfmis.batch@1.0.0", payload=payload))
    hub.start_workers()
    wait_for(lambda: hub.messages.get_meta(result.id).status == "delivered", what="batch delivered")
    return result.id


def simulator(drop: Path) -> GfmisSimulator:
    return GfmisSimulator(drop, agencies={"03008": {"6811000", "6821000"}}, today=dt.date(2024, 10, 20))


def test_batch_round_trip_with_one_rejected_line(embedded_hub: Hub, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    message_id = deliver(embedded_hub, drop, batch())
    [name] = os.listdir(drop / "outbound")
    assert message_id in name and name.endswith(".TXT")

    [result] = simulator(drop).process_once()
    assert [(line.line_no, line.status, line.reason_code) for line in result.lines] == [
        (1, "A", None), (2, "R", "E203"), (3, "A", None)]
    assert os.listdir(drop / "archive") == [name]

    adapter = GfmisAdapter(GfmisSettings(path=drop))
    report = adapter.poll(hub_sink(embedded_hub)).detail
    assert len(report.applied) == 1 and not report.failed
    meta = embedded_hub.messages.get_meta(message_id)
    assert meta.status == "partly_rejected"
    assert meta.last_error.startswith("line 2: E203") and "6819000" in meta.last_error
    outcome = [e for e in embedded_hub.messages.history(message_id) if e["kind"] == "receiver_outcome"]
    assert len(outcome) == 1 and outcome[0]["detail"]["accepted_total"] == "13500.25"
    assert [line["status"] for line in outcome[0]["detail"]["lines"]] == ["accepted", "rejected", "accepted"]

    # Re-processing the same result file changes nothing.
    processed = drop / "results" / "processed" / report.applied[0]
    shutil.copy(processed, drop / "results" / processed.name)
    again = adapter.poll(hub_sink(embedded_hub)).detail
    assert again.already == [processed.name] and not again.applied
    assert len([e for e in embedded_hub.messages.history(message_id) if e["kind"] == "receiver_outcome"]) == 1

    # The same input dropped again (GFMIS crashed before archiving) gets the same answer.
    shutil.copy(drop / "archive" / name, drop / "outbound" / name)
    [repeat] = simulator(drop).process_once()
    assert [x.status for x in repeat.lines] == ["A", "R", "A"]
    adapter.close()


def test_a_file_with_a_wrong_trailer_total_is_rejected_whole(embedded_hub: Hub, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    message_id = deliver(embedded_hub, drop, batch(amount_total="16950.76"), precheck=False)
    [result] = simulator(drop).process_once()
    assert result.file_status == "R" and result.reason_code == "E104"
    assert {line.status for line in result.lines} == {"R"} and len(result.lines) == 3
    GfmisAdapter(GfmisSettings(path=drop)).poll(hub_sink(embedded_hub))
    meta = embedded_hub.messages.get_meta(message_id)
    assert meta.status == "rejected" and meta.last_error.startswith("file rejected: E104")


def test_adapter_refuses_wrong_control_totals_before_writing(tmp_path: Path) -> None:
    adapter = GfmisAdapter(GfmisSettings(path=tmp_path / "drop"))
    with pytest.raises(DeliveryError) as caught:
        adapter.send(outbound("TH/GOV/OPDC/finance", SERVICE, batch(record_count=2)))
    assert caught.value.permanent and "/trailer/record_count" in caught.value.reason
    assert os.listdir(tmp_path / "drop" / "outbound") == []


def test_bad_result_file_is_logged_and_the_others_still_apply(embedded_hub: Hub, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    drop = tmp_path / "drop"
    message_id = deliver(embedded_hub, drop, batch())
    simulator(drop).process_once()
    [good] = GfmisAdapter(GfmisSettings(path=drop)).pending_results()
    data = (drop / "results" / good).read_bytes()
    # A result claiming 4 lines in its trailer while it has 3: its control count is wrong.
    broken = data.replace(b"\r\nT000003", b"\r\nT000004")
    assert broken != data
    write_atomic(drop / "results", "GF_03008_X_" + "0" * 8 + "-0000-4000-8000-" + "0" * 12 + ".RES", broken)
    with caplog.at_level(logging.ERROR, logger="hub.adapters.gfmis.adapter"):
        report = GfmisAdapter(GfmisSettings(path=drop)).poll(hub_sink(embedded_hub)).detail
    assert [f["rule"] for f in report.failed] == ["control_record_count"]
    assert report.applied == [good]
    assert embedded_hub.messages.get_meta(message_id).status == "partly_rejected"
    assert any("control_record_count" in r.getMessage() or "trailer record_count" in r.getMessage()
               for r in caplog.records)
    assert os.listdir(drop / "results" / "failed")


def test_undecodable_and_misplaced_files_are_rejected_by_gfmis(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    sim = simulator(drop)
    doc = batch()
    data = bytearray(render_batch(Batch.model_validate(doc)))
    index = data.index("ค่าตอบแทน".encode("cp874"))
    data[index] = 0xFC  # not a windows-874 character
    write_atomic(drop / "outbound", "GF_03008_BAD1_11111111-1111-4111-8111-111111111111.TXT", bytes(data))
    late = copy.deepcopy(doc)
    late["header"].update(batch_id="LATE1", file_date="2568-10-01")  # FY 2569, header says 2568
    write_atomic(drop / "outbound", "GF_03008_LATE1_22222222-2222-4222-8222-222222222222.TXT",
                 render_batch(Batch.model_validate(late)))
    results = {r.source_file[9:13]: r for r in sim.process_once()}
    assert results["BAD1"].reason_code == "E102" and results["BAD1"].file_status == "R"
    assert results["LATE"].reason_code == "E106"


def test_no_half_written_file_is_ever_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "out"
    folder.mkdir()

    def power_cut(fd: int) -> None:
        raise OSError(5, "I/O error during fsync")

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(OSError):
        write_atomic(folder, "GF_A.TXT", b"x" * 100_000)
    assert os.listdir(folder) == []  # neither the final name nor the temporary file


def test_published_layout_json_matches_the_code() -> None:
    published = json.loads((STANDARDS / "th.gfmis.batch/1.0.0/layout.json").read_text(encoding="utf-8"))
    assert published == json.loads(json.dumps(layout_document()))
    assert (STANDARDS / "th.gfmis.batch/1.0.0/file-layout.md").is_file()


def test_result_parser_round_trips(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    adapter = GfmisAdapter(GfmisSettings(path=drop))
    adapter.send(outbound("TH/GOV/OPDC/finance", SERVICE, batch()))
    [result] = simulator(drop).process_once()
    [name] = adapter.pending_results()
    parsed = parse_result(name, (drop / "results" / name).read_bytes())
    assert parsed.lines == result.lines and parsed.accepted_total == result.accepted_total


def test_the_hubs_workers_collect_results_on_the_routes_interval(embedded_hub: Hub, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    embedded_hub.router.add(RouteIn(receiver=GFMIS, service=SERVICE, adapter="gfmis",
                                    settings={"path": str(drop), "poll_interval_seconds": 0.1}))
    result = embedded_hub.messages.accept(Envelope(sender="TH/GOV/OPDC/finance", receiver=GFMIS, service=SERVICE,
                                                   standard="th.gfmis.batch@1.0.0", payload=batch()))
    embedded_hub.start_workers()
    wait_for(lambda: embedded_hub.messages.get_meta(result.id).status == "delivered", what="batch delivered")
    simulator(drop).process_once()
    # no `hub adapters poll`: the inbound scheduler picks the result file up
    wait_for(lambda: embedded_hub.messages.get_meta(result.id).status == "partly_rejected", what="result collected")
    # the outcome is recorded before the file moves (a crash between the two only means it is read again)
    wait_for(lambda: os.listdir(drop / "results" / "processed"), what="result file moved to results/processed")
