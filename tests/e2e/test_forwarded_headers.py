"""A local caller cannot pose as the trusted TLS proxy by sending X-Forwarded-For.

The proxy's client-certificate header is believed only from HUB_TRUSTED_PROXIES, judged by
the TCP peer; ``hub serve`` must not let uvicorn rewrite that peer from forwarded headers.
"""
import json
from urllib.parse import quote

import httpx

from hub.bootstrap import build_hub
from hub.security.wiring import security_of
from tests.conftest import fast_settings
from tests.support.auth import register_agency
from tests.support.hubproc import HubProcess

PROXY = "10.9.9.9"


def test_forwarded_for_does_not_make_a_local_caller_the_trusted_proxy(tmp_path):
    settings = fast_settings(tmp_path / "data")
    hub = build_hub(settings)
    try:
        register_agency(hub, "TH/GOV/OCSC/hr")
        security = security_of(hub)
        security.hub_ca.init()
        _, cert_path = security.hub_ca.issue("TH/GOV/OCSC/hr", tmp_path)
    finally:
        hub.close()
    header = {"X-SSL-Client-Cert": quote(cert_path.read_text())}
    server = HubProcess(settings, tmp_path / "hub.log", env={"HUB_TRUSTED_PROXIES": json.dumps([PROXY])}).start()
    try:
        forged = httpx.get(f"{server.url}/v1/auth/whoami", headers={**header, "X-Forwarded-For": PROXY}, timeout=10)
        assert forged.status_code == 401, forged.text
        plain = httpx.get(f"{server.url}/v1/auth/whoami", headers=header, timeout=10)
        assert plain.status_code == 401
    finally:
        server.stop()
