"""``hub integration services|query|record`` on a hub's database (issue 15)."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.bootstrap import build_hub
from hub.cli import app
from tests.conftest import fast_settings
from tests.support.auth import register_agency
from tests.support.query_provider import ProviderServer

CITIZEN = "1101700203450"
PROVIDER = "TH/GOV/OCSC/hrapi"


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["integration", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_publish_list_query_and_read_a_record(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with build_hub(fast_settings(data)) as hub:
        register_agency(hub, PROVIDER)
    with ProviderServer({"fields": {"first_name_th": "สมชาย", "level": "K2"},
                         "observed_at": "2026-11-01T00:00:00+00:00"}) as server:
        spec = {"provider": PROVIDER, "name": "record.person/v1", "system": "hr-api", "adapter": "http",
                "settings": {"url": server.url}, "timeout_seconds": 2}
        listed = json.loads(run("services", "--publish", json.dumps(spec), "--json", "--data-dir", str(data)))
        assert [(s["provider"], s["name"], s["adapter"]) for s in listed] == [(PROVIDER, "record.person/v1", "http")]
        assert "record.person/v1" in run("services", "--data-dir", str(data))
        answer = json.loads(run("query", PROVIDER, "record.person/v1", "--body", json.dumps({"citizen_id": CITIZEN}),
                                "--json", "--data-dir", str(data)))
        assert answer["answer"]["fields"]["first_name_th"] == "สมชาย" and len(answer["answer_sha256"]) == 64
        record = json.loads(run("record", CITIZEN, "--fields", "person,telework", "--purpose", "operator check",
                                "--json", "--data-dir", str(data)))
        # "level" is not a person field: a source answers only for the group it is asked
        assert set(record["fields"]) == {"first_name_th"} and record["basis"] == {"kind": "admin", "id": None}
        assert record["partial"] is True  # nobody publishes record.telework/v1 here
        table = run("record", CITIZEN, "--fields", "person,telework", "--data-dir", str(data))
        assert "สมชาย" in table and "no_source" in table
    bad = CliRunner().invoke(app, ["integration", "record", CITIZEN, "--fields", "salary", "--data-dir", str(data)])
    assert bad.exit_code == 2 and "/query/fields" in bad.output
    missing = CliRunner().invoke(app, ["integration", "query", PROVIDER, "nothing/v1", "--data-dir", str(data)])
    assert missing.exit_code == 2 and "no query service" in missing.output
