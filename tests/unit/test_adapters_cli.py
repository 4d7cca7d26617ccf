"""`hub adapters list|check|poll` and `hub sim dpis|gfmis` through the real command line."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.cli import app
from hub.config import default_standards_dir

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_list_prints_every_adapter_with_its_settings_schema() -> None:
    catalogue = json.loads(run("adapters", "list", "--json"))
    by_name = {a["name"]: a for a in catalogue["adapters"]}
    assert {"http", "memory", "dpis", "gfmis"} <= set(by_name)
    assert by_name["dpis"]["settings"]["required"] == ["url"]
    assert "path" in by_name["gfmis"]["settings"]["properties"]
    table = run("adapters", "list")
    assert "dpis" in table and "gfmis" in table and "telework_as" in table


def test_sim_dpis_then_route_check_and_poll(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'dpis.sqlite3'}"
    assert "13 org units" in run("sim", "dpis", "--url", url, "--people", "10")
    data = str(tmp_path / "hub")
    settings = {"url": url, "capture": {"sender": "TH/GOV/OCSC/dpis", "receiver": "TH/GOV/OCSC/hr",
                                        "start_at": "beginning"}}
    for receiver in ("TH/GOV/OCSC/dpis", "TH/GOV/OCSC/hr", "TH/GOV/CGD/dpis"):  # a route names a registered one
        run("agencies", "register", receiver, "--data-dir", data)
    run("routes", "add", "TH/GOV/OCSC/dpis", "hr.attendance/v1", "dpis", "--settings", json.dumps(settings),
        "--data-dir", data)
    run("routes", "add", "TH/GOV/OCSC/hr", "hr.person.changed/v1", "memory", "--settings",
        '{"mailbox": "cli"}', "--data-dir", data)
    assert "ok" in run("adapters", "check", "1", "--data-dir", data)
    assert "23 published" in run("adapters", "poll", "1", "--data-dir", data)
    assert "0 published" in run("adapters", "poll", "1", "--data-dir", data)

    run("routes", "add", "TH/GOV/CGD/dpis", "hr.attendance/v1", "dpis", "--settings",
        json.dumps({"url": f"sqlite:///{tmp_path / 'missing' / 'x.sqlite3'}"}), "--data-dir", data)
    result = runner.invoke(app, ["adapters", "check", "3", "--data-dir", data])
    assert result.exit_code == 1 and "unhealthy" in result.output


def test_sim_gfmis_once_answers_waiting_files(tmp_path: Path) -> None:
    from hub.adapters.gfmis.batch import Batch, render_batch
    from hub.adapters.gfmis.dropfolder import LocalDropFolder

    doc = json.loads((default_standards_dir() / "th.gfmis.batch/1.0.0/examples/valid/g1-remittance.json").read_text())
    drop = LocalDropFolder(tmp_path / "drop")
    drop.write_atomic("outbound", "GF_03008_OPDC-2568-0002_33333333-3333-4333-8333-333333333333.TXT",
                      render_batch(Batch.model_validate(doc)))
    output = run("sim", "gfmis", "--drop", str(tmp_path / "drop"), "--once")
    assert ": A 1 accepted, 0 rejected" in output
