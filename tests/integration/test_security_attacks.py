"""Regression tests for the attacks of issue 12: each probe that once got through is refused now.

Finding 1: a CA trusted for one agency cannot mint a hub admin or another agency's subsystem.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from hub.cli import app as cli
from hub.errors import NotFound
from hub.security import mtls
from hub.security.wiring import security_of
from tests.support.auth import register_agency

AGENCY = "TH/GOV/0402"


def _pem(cert) -> str:  # noqa: ANN001
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def proxied(embedded_hub, anonymous_client):
    """The test client's peer is the trusted TLS proxy, so X-SSL-Client-Cert counts."""
    security = security_of(embedded_hub)
    security.settings.trusted_proxies.append("testclient")
    yield anonymous_client
    security.settings.trusted_proxies.remove("testclient")


@pytest.fixture
def agency_ca(embedded_hub):
    security = security_of(embedded_hub)
    register_agency(embedded_hub, f"{AGENCY}/saraban")
    register_agency(embedded_hub, "TH/GOV/OCSC/hr")
    security.credentials.create("probe-admin", actor="tests", roles=("admin",), clearance="004", with_secret=False)
    key, ca = mtls.make_ca("Agency 0402 CA")
    security.certs.trust("agency-0402", _pem(ca), member_id=AGENCY, actor="tests")
    return key, ca


def _cert_header(key, ca, cn: str) -> dict[str, str]:  # noqa: ANN001
    return {"X-SSL-Client-Cert": quote(_pem(mtls.issue_client(key, ca, cn)[1]))}


def test_an_agency_ca_authenticates_its_own_subsystems(proxied, agency_ca):
    who = proxied.get("/v1/auth/whoami", headers=_cert_header(*agency_ca, f"{AGENCY}/saraban"))
    assert who.status_code == 200, who.text
    assert who.json()["method"] == "client_cert" and who.json()["member"] == AGENCY


@pytest.mark.parametrize("cn", ["probe-admin", "TH/GOV/OCSC/hr"], ids=["hub-admin", "other-agency"])
def test_an_agency_ca_cannot_mint_an_admin_or_another_agency(embedded_hub, proxied, agency_ca, cn):
    refused = proxied.get("/v1/auth/whoami", headers=_cert_header(*agency_ca, cn))
    assert refused.status_code == 401, refused.text
    assert "agency-0402" in refused.json()["message"]
    entries = security_of(embedded_hub).audit.entries(kind="auth.refused")
    assert any("agency-0402" in str(e["detail"]) for e in entries), entries
    # and no admin operation goes through with it
    assert proxied.get("/v1/agencies", headers=_cert_header(*agency_ca, cn)).status_code == 401


def test_the_hub_ca_still_names_staff_clients(embedded_hub, proxied, agency_ca, tmp_path):
    security = security_of(embedded_hub)
    security.hub_ca.init()
    _, cert_path = security.hub_ca.issue("probe-admin", tmp_path)
    who = proxied.get("/v1/auth/whoami", headers={"X-SSL-Client-Cert": quote(cert_path.read_text())})
    assert who.status_code == 200 and "admin" in who.json()["roles"]


def test_a_ca_without_a_member_authenticates_nobody(embedded_hub, proxied, agency_ca):
    from sqlalchemy import update

    from hub.security.tables import trusted_cas
    with embedded_hub.engine.begin() as conn:  # a row trusted before the binding existed
        conn.execute(update(trusted_cas).values(member_id=None))
    refused = proxied.get("/v1/auth/whoami", headers=_cert_header(*agency_ca, f"{AGENCY}/saraban"))
    assert refused.status_code == 401 and "--member" in refused.json()["message"]


def test_ca_trust_needs_a_known_member(embedded_hub, tmp_path):
    _, ca = mtls.make_ca("Agency CA")
    path = tmp_path / "ca.pem"
    path.write_text(_pem(ca))
    data = ["--data-dir", str(embedded_hub.settings.data_dir)]
    missing = CliRunner().invoke(cli, ["ca", "trust", "x", str(path), *data])
    assert missing.exit_code == 2 and "--member" in missing.output
    unknown = CliRunner().invoke(cli, ["ca", "trust", "x", str(path), "--member", "TH/GOV/NOPE", *data])
    assert unknown.exit_code == 2, unknown.output
    with pytest.raises(NotFound):
        security_of(embedded_hub).certs.trust("y", _pem(ca), member_id="TH/GOV/NOPE", actor="t")
    ok = CliRunner().invoke(cli, ["ca", "trust", "x", str(path), "--member", "TH/GOV/OCSC", *data])
    assert ok.exit_code == 0 and "TH/GOV/OCSC" in ok.output


# -- finding 9: the two 500s of the schema-driven probe are 422s naming the field ---------------
@pytest.mark.parametrize("depth", [201, 255, 1023])
def test_a_deeply_nested_payload_is_a_422_not_a_500(embedded_client, depth):
    body = ('{"sender":"TH/GOV/OCSC/hr","receiver":"TH/GOV/NESDC/plan","service":"x.y/v1","payload":'
            + "[" * depth + "]" * depth + "}")
    answer = embedded_client.post("/v1/messages", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "/payload" and answer.json()["errors"][0]["rule"] == "max_depth"


@pytest.mark.parametrize("path", ["/v1/access-rights/{}", "/v1/routes/{}"])
@pytest.mark.parametrize("value", [2**63, 2**70, 0])
def test_a_row_id_out_of_range_is_a_422_not_a_500(embedded_client, path, value):
    answer = embedded_client.delete(path.format(value))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"].startswith("/path/")
