"""``hub.bootstrap.build_hub``: one Settings tree configures every layer, in code, whatever the
environment says; the standards folder it names is the one every part reads; the telework
application is the hub's own, built on first use."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.apps.telework import pilot
from hub.apps.telework.fakes import FakeAuditTrail, FakeCorrespondence
from hub.apps.telework.wiring import FINANCE_ROUTE, HR_ROUTE, TeleworkNotConfigured, app_for, build_on_hub
from hub.bootstrap import build_hub
from hub.config import EcmsSettings, SecuritySettings, default_standards_dir
from tests.conftest import fast_settings
from tests.integration.test_ecms_node import envelope, error_code


def test_build_hub_configures_security_and_ecms_in_code_whatever_the_environment(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HUB_TOKEN_TTL_SECONDS", "900")
    monkeypatch.setenv("HUB_TOKEN_ISSUER", "from-the-environment")
    monkeypatch.setenv("HUB_ECMS_MAX_REQUEST_BYTES", str(64 * 1024 * 1024))
    settings = fast_settings(tmp_path / "data", security=SecuritySettings(token_ttl_seconds=120),
                             ecms=EcmsSettings(max_request_bytes=4096))
    with build_hub(settings) as hub:
        issued = hub.security.tokens.issue("TH/GOV/OCSC/hr")
        claims = jwt.decode(issued.token, options={"verify_signature": False})
        assert issued.expires_in == 120 and claims["exp"] - claims["iat"] == 120
        assert claims["iss"] == "backoffice-hub"
        with TestClient(create_app(hub, embedded_worker=False)) as client:
            too_big = client.post("/ecms/service2", content=envelope("<TimeCheckRequest/>" + " " * 8192),
                                  headers={"Content-Type": "text/xml; charset=utf-8"})
        assert too_big.status_code == 200 and error_code(too_big) == "E014"
        assert "4096 bytes" in too_big.text


def test_every_part_reads_the_standards_folder_of_the_settings(tmp_path: Path):
    folder = tmp_path / "standards"
    shutil.copytree(default_standards_dir(), folder)
    wsdl = folder / "th.ecms.service" / "1.0.0" / "service.wsdl"
    wsdl.write_text(wsdl.read_text(encoding="utf-8").replace('name="EcmsService2"', 'name="EcmsService2Copy"'),
                    encoding="utf-8")
    catalogue = folder / "catalogue" / "backoffice-systems.json"
    data = json.loads(catalogue.read_text(encoding="utf-8"))
    data["agencies"]["TH/GOV/OCSC"]["name_th"] = "สำนักงาน ก.พ. (สำเนา)"
    catalogue.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    with build_hub(fast_settings(tmp_path / "data", standards_dir=folder)) as hub:
        assert hub.standards.standards_dir == folder  # published standards, the publishing catalogue
        assert hub.security.registry.member("TH/GOV/OCSC").name_th == "สำนักงาน ก.พ. (สำเนา)"  # agency seeding
        assert hub.ecms.node.standards_dir == folder  # th.ecms.letter checks
        with TestClient(create_app(hub, embedded_worker=False)) as client:
            served = client.get("/ecms/service2?wsdl")
        assert served.status_code == 200 and 'name="EcmsService2Copy"' in served.text
        telework = build_on_hub(hub, hr=pilot.fake_hr(),
                                correspondence=FakeCorrespondence(pilot.BOOK_PREFIXES, dt.date(2026, 10, 26)),
                                audit=FakeAuditTrail(), gfmis_agency_codes={})
        assert telework.service.documents.standards_dir == folder


def test_the_hub_connects_no_pilot_and_a_telework_application_can_be_handed_over(embedded_hub):
    # Neither building the hub nor asking for telework connects a pilot system: no routes, no
    # e-Saraban onboarded; with no agency registered there is no telework (issue 14).
    with pytest.raises(TeleworkNotConfigured):
        app_for(embedded_hub)
    assert embedded_hub.router.find(HR_ROUTE, "*") is None and embedded_hub.router.find(FINANCE_ROUTE, "*") is None
    handed = build_on_hub(embedded_hub, hr=pilot.fake_hr(),
                          correspondence=FakeCorrespondence(pilot.BOOK_PREFIXES, dt.date(2026, 10, 26)),
                          audit=FakeAuditTrail(), gfmis_agency_codes={})
    embedded_hub.telework.use(handed)
    assert app_for(embedded_hub) is handed and embedded_hub.router.find(HR_ROUTE, "*") is None
