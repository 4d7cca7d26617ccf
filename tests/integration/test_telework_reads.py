"""A read never changes state (COMMON rules; issue 14 "a refused call changes the live hub"):
nothing is created implicitly by a GET of /v1/telework — not the pilot, not a route, a
credential, an agency, a row or a file. The pilot lives only in the demo and in tests that
build it explicitly."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from hub.apps.telework import pilot
from hub.apps.telework.domain.actors import Actor
from hub.apps.telework.wiring import FINANCE_ROUTE, HR_ROUTE, connect_pilot
from hub.bootstrap import Hub
from tests.support.ecms import serving


def _tables(url_or_engine) -> dict[str, list]:  # noqa: ANN001
    engine = create_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        out = {}
        with engine.connect() as conn:
            for name in sorted(inspect(conn).get_table_names()):
                # Raw rows, no type processing: legacy DPIS columns hold bytes where numbers are declared.
                out[name] = sorted(repr(tuple(r)) for r in conn.exec_driver_sql(f'SELECT * FROM "{name}"'))
        return out
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


def snapshot(hub: Hub) -> dict:
    """Every row of the hub's database and of every SQLite file in the data folder, and the
    bytes of every other file there (SQLite files are compared by content: a checkpoint may
    rewrite their pages without changing a row)."""
    data = Path(hub.settings.data_dir)
    state: dict = {"hub": _tables(hub.engine)}
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        rel = str(path.relative_to(data))
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        if path.suffix in (".sqlite3", ".db", ".sqlite"):
            if path.resolve() != Path(hub.engine.url.database or "").resolve():
                state[rel] = _tables(f"sqlite:///{path}")
        else:
            state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def settled(hub: Hub, timeout: float = 30.0) -> dict:
    """A snapshot once the hub's background work (delivery, audit feed) has stopped changing it."""
    deadline = time.monotonic() + timeout
    before = snapshot(hub)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = snapshot(hub)
        if after == before:
            return after
        before = after
    raise AssertionError("the hub did not settle")


def telework_gets(client: TestClient) -> list[str]:
    """Every GET path of the telework API, as the served app publishes them."""
    paths = client.get("/openapi.json").json()["paths"]
    return sorted(p for p, ops in paths.items() if p.startswith("/v1/telework") and "get" in ops)


def fill(path: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        path = path.replace("{" + key + "}", value).replace("{" + key + ":path}", value)
    return path


@pytest.fixture
def pilot_hub(embedded_hub: Hub) -> Iterator[tuple[Hub, str]]:
    with serving(embedded_hub) as node_url:
        systems = connect_pilot(embedded_hub, node_url=node_url)
        embedded_hub.telework.use(systems.app)
        s = systems.app.service
        s.register_agency(pilot.policy(), name="กรมบัญชีกลาง", hr_agency=pilot.MOF, finance_agency=pilot.MOF,
                          strategy_agency=pilot.OPDC, copy_to=[pilot.OPDC])
        case = s.record_agreement(
            pilot.CGD, person_id=pilot.ANALYST.citizen_id, supervisor_id=pilot.DIVISION_HEAD.citizen_id,
            work_category="academic-analysis", pattern={"kind": "occasional", "working_days": 5},
            period={"start": "2026-12-01", "end": "2026-12-11"}, targets=pilot.targets("2026-12-01", "2026-12-11"),
            reporting_channels=["e-office"], by=Actor.machine("client:test"))
        report = systems.app.reports.annual_evaluation(pilot.CGD, 2570, effectiveness_score=4.0,
                                                       satisfaction_respondents=3, satisfaction_score=4.2, lessons=[])
        try:
            yield embedded_hub, case.case_id, report["report_id"]
        finally:
            systems.close()


def test_no_get_of_the_telework_api_changes_the_database_or_the_data_folder(pilot_hub, embedded_as_agency) -> None:  # noqa: ANN001
    hub, case_id, report_id = pilot_hub
    unrelated = embedded_as_agency("TH/GOV/DOPA/registry")
    owner = embedded_as_agency(f"{pilot.CGD}/telework")
    values = {"case_id": case_id, "citizen_id": pilot.ANALYST.citizen_id, "member": pilot.CGD, "report_id": report_id}
    paths = telework_gets(owner)
    assert {"/v1/telework/cases", "/v1/telework/cases/{case_id}",
            "/v1/telework/eligibility/{citizen_id}"} <= set(paths)
    before = settled(hub)
    for path in paths:
        refused = unrelated.get(fill(path, values))
        assert refused.status_code in (403, 404), (path, refused.status_code, refused.text)
        assert owner.get(fill(path, values)).status_code == 200, path
    time.sleep(1.0)  # anything a read had set off in the background would show by now
    assert snapshot(hub) == before


def test_a_hub_without_telework_answers_a_clear_error_and_creates_nothing(embedded_hub: Hub,
                                                                          embedded_as_agency) -> None:  # noqa: ANN001
    client = embedded_as_agency(f"{pilot.CGD}/telework")
    values = {"case_id": "TW-000000000000", "citizen_id": pilot.ANALYST.citizen_id, "member": pilot.CGD,
              "report_id": "AE-000000000000"}
    before = settled(embedded_hub)
    for path in telework_gets(client):
        answer = client.get(fill(path, values))
        body = answer.json()
        if any(key in path for key in ("{case_id}", "{report_id}", "{citizen_id}")):
            # a named case, report or official cannot be found on a hub without telework: 404, as
            # for any unknown one (the caller's permission is checked before anything is looked up)
            assert answer.status_code == 404 and body["code"] == "not_found", (path, answer.text)
            continue
        assert answer.status_code == 503, (path, answer.text)
        assert body["code"] == "telework_not_configured" and "hub demo" in body["message"]
    assert snapshot(embedded_hub) == before
    assert embedded_hub.router.find(HR_ROUTE, "*") is None and embedded_hub.router.find(FINANCE_ROUTE, "*") is None
    assert embedded_hub.security.registry.subsystem(f"{pilot.CGD}/saraban", missing_ok=True) is None


def test_hub_telework_on_a_hub_without_telework_says_so_and_creates_no_pilot(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hub.cli.main import app

    result = CliRunner().invoke(app, ["telework", "cases", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "no telework is configured" in result.output and "hub demo" in result.output
    assert not list(tmp_path.glob("dpis-*")) and not (tmp_path / "esaraban").exists()


def test_a_non_pilot_agency_registers_its_telework_through_the_cli_with_no_pilot(tmp_path: Path) -> None:
    """Any agency can run telework (issue 14): the Department of Disease Control registers its
    policy and its days off; nothing of the pilot appears."""
    import json

    from typer.testing import CliRunner

    from hub.cli.main import app

    policy = {**pilot.policy(), "policy_id": "DDC-TW-2570", "agency": "TH/GOV/DDC",
              "title": "ประกาศกรมควบคุมโรค เรื่อง หลักเกณฑ์การปฏิบัติราชการนอกสถานที่",
              "work_list": [{"position": "นักวิชาการสาธารณสุข", "decision": "eligible",
                             "work_category": "academic-analysis"}]}
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy, ensure_ascii=False), encoding="utf-8")
    data = tmp_path / "data"
    runner = CliRunner()
    added = runner.invoke(app, ["telework", "agencies", "add", str(path), "--name", "กรมควบคุมโรค",
                                "--hr-agency", "TH/GOV/MOPH", "--finance-agency", "TH/GOV/MOPH",
                                "--strategy-agency", "TH/GOV/OPDC", "--holiday", "2026-11-16", "--data-dir", str(data)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["telework", "agencies", "list", "--data-dir", str(data)])
    assert listed.exit_code == 0 and "DDC-TW-2570" in listed.output and "2026-11-16" in listed.output
    cases = runner.invoke(app, ["telework", "cases", "--agency", "TH/GOV/DDC", "--data-dir", str(data)])
    assert cases.exit_code == 0, cases.output
    assert not list(data.glob("dpis-*")) and not (data / "esaraban").exists()
    bad = runner.invoke(app, ["telework", "agencies", "add", str(path), "--name", "x", "--hr-agency", "TH/GOV/MOPH",
                              "--finance-agency", "TH/GOV/MOPH", "--strategy-agency", "TH/GOV/OPDC",
                              "--holiday", "16/11/2569", "--data-dir", str(data)])
    assert bad.exit_code == 2 and "/declared_holidays/0" in bad.output


def test_only_a_hub_admin_registers_an_agency_over_the_api(embedded_hub: Hub, embedded_client: TestClient,
                                                           embedded_as_agency) -> None:  # noqa: ANN001
    body = {"policy": {**pilot.policy(), "policy_id": "DDC-TW-2570", "agency": "TH/GOV/DDC"}, "name": "กรมควบคุมโรค",
            "hr_agency": "TH/GOV/MOPH", "finance_agency": "TH/GOV/MOPH", "strategy_agency": "TH/GOV/OPDC"}
    assert embedded_as_agency("TH/GOV/DDC/telework").post("/v1/telework/agencies", json=body).status_code == 403
    made = embedded_client.post("/v1/telework/agencies", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["policy_id"] == "DDC-TW-2570"
    ddc = embedded_as_agency("TH/GOV/DDC/telework")
    assert ddc.get("/v1/telework/cases").json() == []  # telework is configured now, for this agency
