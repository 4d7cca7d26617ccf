"""Onboarding e-Saraban departments without Python: ``hub ecms departments`` and its admin API."""
from __future__ import annotations

import base64
import re

from typer.testing import CliRunner

from hub.cli.main import app
from tests.support.ecms import post_soap

POLL = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        "<CorrespondenceLetterInboundRequest/></s:Body></s:Envelope>")


def run(*args: str, data_dir) -> tuple[int, str]:  # noqa: ANN001
    result = CliRunner().invoke(app, [*args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def test_the_cli_adds_lists_renews_and_removes_departments(tmp_path):
    data = tmp_path / "data"
    assert run("ecms", "departments", "add", "0400", "0400", "กระทรวงการคลัง", data_dir=data)[0] == 0
    code, out = run("ecms", "departments", "add", "0401", "0400", "สำนักงานปลัดกระทรวงการคลัง",
                    "--party", "TH/GOV/0401/saraban", "--clearance", "002", data_dir=data)
    assert code == 0 and "0401" in out
    first = re.search(r"shown once\): (\S+)", out).group(1)
    code, out = run("ecms", "departments", "list", "--json", data_dir=data)
    assert code == 0 and '"party": "TH/GOV/0401/saraban"' in out and '"secret": true' in out
    code, out = run("ecms", "departments", "secret", "0401", data_dir=data)
    second = re.search(r"shown once\): (\S+)", out).group(1)
    assert code == 0 and second != first
    from hub.bootstrap import build_hub
    from tests.conftest import fast_settings

    hub = build_hub(fast_settings(data))
    try:
        assert hub.ecms.store.verify_secret("0401", second) is not None
        assert hub.ecms.store.verify_secret("0401", first) is None
        assert hub.router.find("TH/GOV/0401/saraban", "ecms.letter/v1") is not None
    finally:
        hub.close()
    # Bad input: one line per field, exit 2, nothing stored.
    code, out = run("ecms", "departments", "add", "0409", "0400", "x", "--clearance", "009",
                    "--party", "not a party", data_dir=data)
    assert code == 2 and "/clearance" in out and "/party" in out
    code, out = run("ecms", "departments", "add", "0501", "0500", "y", data_dir=data)
    assert code == 2 and "/ministry_code" in out and "0500 is not registered" in out
    code, out = run("ecms", "departments", "remove", "0400", data_dir=data)
    assert code == 2 and "still has departments 0401" in out
    assert run("ecms", "departments", "remove", "0401", data_dir=data)[0] == 0
    code, out = run("ecms", "departments", "remove", "0401", data_dir=data)
    assert code == 2 and "no e-CMS department 0401" in out


def test_the_admin_api_onboards_a_department_that_can_then_poll(client, hub):
    assert client.post("/v1/ecms/departments", json={"code": "0400", "ministry_code": "0400",
                                                     "name_th": "กระทรวงการคลัง"}).status_code == 201
    answer = client.post("/v1/ecms/departments", json={
        "code": "0402", "ministry_code": "0400", "name_th": "สำนักงานเศรษฐกิจการคลัง",
        "party": "TH/GOV/0402/saraban"})
    assert answer.status_code == 201, answer.text
    secret = answer.json()["secret"]
    assert secret and answer.json()["has_secret"] is True
    basic = "Basic " + base64.b64encode(f"0402:{secret}".encode()).decode()
    polled = client.post("/ecms-ws01/service2", content=POLL.encode(),
                         headers={"Content-Type": "text/xml", "Authorization": basic})
    assert polled.status_code == 200 and b"<CorrespondenceLetterInboundResponse/>" in polled.content
    listed = client.get("/v1/ecms/departments").json()
    assert [d["code"] for d in listed] == ["0400", "0402"] and all("secret" not in d or d["secret"] is None
                                                                   for d in listed)
    bad = client.post("/v1/ecms/departments", json={"code": "0403", "ministry_code": "0400", "name_th": "z",
                                                    "clearance": "007"})
    assert bad.status_code == 422 and "/clearance" in bad.text
    renewed = client.post("/v1/ecms/departments/0402/secret").json()["secret"]
    assert renewed != secret
    assert client.delete("/v1/ecms/departments/0402").status_code == 204
    assert client.delete("/v1/ecms/departments/0402").status_code == 404


def test_hub_sim_esaraban_prints_one_line_with_the_reason(tmp_path):
    from tests.support.hubproc import free_port

    node = f"http://127.0.0.1:{free_port()}/ecms-ws01/service2"
    result = CliRunner().invoke(app, ["sim", "esaraban", "poll", "--home", str(tmp_path / "a"), "--node", node,
                                      "--department", "0401", "--ministry", "0400", "--prefix", "กค 0401",
                                      "--secret", "x"])
    assert result.exit_code == 1
    assert "error: cannot use the e-CMS node at " + node in result.output
    assert "Traceback" not in result.output
