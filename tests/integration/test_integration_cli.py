"""``hub integration subscribe|subscriptions|events|applications`` on a hub's database."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.bootstrap import build_hub
from hub.cli import app
from tests.conftest import fast_settings
from tests.support.auth import register_agency

EVENTS = "TH/GOV/HUB/events"


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["integration", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_subscribe_list_and_refusals(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with build_hub(fast_settings(data)) as hub:
        register_agency(hub, "TH/GOV/CGD/hrsync", clearance="002", rights=[("hr.person.changed/v1", EVENTS),
                                                                                ("telework.order.issued/v1", EVENTS)])
    queue = json.loads(run("subscribe", "TH/GOV/CGD/hrsync", "hr.person.changed/v1", "--queue", "cgd.hr",
                           "--match", '{"/organization/*/org_id": [1]}', "--field", "per_cardno",
                           "--json", "--data-dir", str(data)))
    assert queue["channel"] == {"type": "amqp", "queue": "cgd.hr"} and "secret" not in queue
    assert queue["filter"] == {"match": {"/organization/*/org_id": [1]}, "fields": ["per_cardno"]}
    listed = json.loads(run("subscriptions", "--json", "--data-dir", str(data)))
    assert [s["id"] for s in listed] == [queue["id"]]
    types = json.loads(run("events", "--types", "--json", "--data-dir", str(data)))
    assert {"hr.person.changed/v1", "telework.order.issued/v1", "telework.order.revoked/v1",
            "gfmis.batch.outcome/v1"} <= {t["event_type"] for t in types}
    assert json.loads(run("events", "--json", "--data-dir", str(data))) == []
    assert json.loads(run("applications", "--json", "--data-dir", str(data))) == []
    # Refusals exit 2 naming the problem: unknown filter field, no channel, a second subscription.
    bad = CliRunner().invoke(app, ["integration", "subscribe", "TH/GOV/CGD/hrsync", "telework.order.issued/v1",
                                   "--queue", "q", "--field", "salary", "--data-dir", str(data)])
    assert bad.exit_code == 2 and "/filter/fields/0" in bad.output
    no_right = CliRunner().invoke(app, ["integration", "subscribe", "TH/GOV/CGD/hrsync", "gfmis.batch.outcome/v1",
                                        "--queue", "q", "--data-dir", str(data)])
    assert no_right.exit_code == 2 and "no access right" in no_right.output
    none = CliRunner().invoke(app, ["integration", "subscribe", "TH/GOV/CGD/hrsync", "hr.person.changed/v1",
                                    "--data-dir", str(data)])
    assert none.exit_code == 2 and "exactly one" in none.output
    again = CliRunner().invoke(app, ["integration", "subscribe", "TH/GOV/CGD/hrsync", "hr.person.changed/v1",
                                     "--queue", "other", "--data-dir", str(data)])
    assert again.exit_code == 2 and "already" in again.output
