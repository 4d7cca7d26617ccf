"""``hub integration eservice-add|eservices|consents|reads`` on a hub's database (issue 15)."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.bootstrap import build_hub
from hub.cli import app
from hub.schemas.principal import ADMIN, Principal
from tests.conftest import fast_settings
from tests.support.auth import register_agency
from tests.support.citizen_flow import CITIZEN_ID, PORTAL, PURPOSE, REDIRECT


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["integration", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_register_an_e_service_list_consents_revoke_and_export_reads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with build_hub(fast_settings(data)) as hub:
        register_agency(hub, PORTAL)
    added = json.loads(run("eservice-add", PORTAL, "--name-th", "พอร์ทัล", "--name-en", "Portal", "--purpose", PURPOSE,
                           "--purpose-th", "สวัสดิการ", "--purpose-en", "Welfare", "--redirect-uri", REDIRECT,
                           "--group", "person", "--group", "telework", "--days", "7", "--json", "--data-dir", str(data)))
    assert added["field_groups"] == ["person", "telework"] and added["consent_days"] == 7
    assert [s["client_id"] for s in json.loads(run("eservices", "--json", "--data-dir", str(data)))] == [PORTAL]

    with build_hub(fast_settings(data)) as hub:
        citizens = hub.integration.citizens
        consent = citizens.eservices.grant(CITIZEN_ID, citizens.eservices.get(PORTAL), ["person"])
        # one record read of this citizen under that consent, as the record writes it
        hub.integration.records.read(Principal(subject=f"eservice:{PORTAL}", roles=frozenset({"client"}),
                                               method="citizen_oauth", client_id=PORTAL, agent_id=CITIZEN_ID,
                                               consent_id=consent.id), CITIZEN_ID, ["person"], PURPOSE)
        hub.integration.records.read(Principal(subject="cli", roles=frozenset({ADMIN}), clearance="004"),
                                     "3100600123450", ["person"], "other citizen")
    listed = json.loads(run("consents", CITIZEN_ID, "--json", "--data-dir", str(data)))
    assert [(c["id"], c["valid"]) for c in listed["eservices"]] == [(consent.id, True)]
    revoked = json.loads(run("consents", CITIZEN_ID, "--revoke", consent.id, "--json", "--data-dir", str(data)))
    assert revoked["eservices"][0]["valid"] is False
    reads = json.loads(run("reads", CITIZEN_ID, "--json", "--data-dir", str(data)))
    assert [(r["reader"], r["basis"], r["basis_id"]) for r in reads] == [(PORTAL, "citizen_consent", consent.id)]
    csv_lines = run("reads", CITIZEN_ID, "--csv", "--data-dir", str(data)).strip().splitlines()
    assert len(csv_lines) == 2 and csv_lines[0].startswith("at,reader,")
