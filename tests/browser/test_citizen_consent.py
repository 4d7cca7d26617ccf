"""The citizen's consent in a real browser (Playwright + Debian's Chromium), issue 15: an
e-service sends the citizen to the hub's consent page; the citizen signs in with their
citizen ID, reads (in Thai first) who asks, why, for which field groups and how long;
refuses once, grants once; the e-service exchanges the code (PKCE) and reads the record;
the citizen revokes the consent and the e-service's next read is refused; the citizen's
data tracker lists exactly the read that was made. An unregistered redirect URI stays on the
hub's error page. The portal's callback is a route of the test (no network); nothing else
outside the hub is asked for. A screenshot of each page goes to screenshots/."""
from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hub.bootstrap import Hub
from hub.demo.server import BackgroundServer
from tests.support.browser import browser_page, need_browser, screenshot
from tests.support.citizen_flow import (CITIZEN_ID, PASSWORD, PURPOSE, REDIRECT, add_citizen, authorize_query, pkce,
                                        register_portal)

pytestmark = pytest.mark.browser


@pytest.fixture
def hub_url(embedded_hub: Hub) -> Iterator[str]:
    need_browser()
    server = BackgroundServer(embedded_hub).start()
    try:
        yield server.url
    finally:
        server.stop()


def record(url: str, token: str) -> httpx.Response:
    return httpx.get(f"{url}/v1/citizens/{CITIZEN_ID}/record", params={"fields": "person,position",
                                                                        "purpose": PURPOSE},
                     headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_consent_refused_then_granted_then_revoked_in_a_browser(embedded_hub: Hub, hub_url: str) -> None:
    keys = register_portal(embedded_hub)
    add_citizen(embedded_hub)
    with browser_page(hub_url) as page:
        landed: list[str] = []

        def portal(route) -> None:  # noqa: ANN001 - the e-service's callback, answered by the test
            landed.append(route.request.url)
            route.fulfill(status=200, content_type="text/html", body="<h1>portal</h1>")
        page.route(re.compile(re.escape(REDIRECT) + r".*"), portal)

        # An unregistered redirect URI: the hub's error page, the browser stays on the hub.
        _, challenge = pkce()
        page.goto(hub_url + authorize_query(challenge=challenge, redirect="https://evil.example/steal"))
        assert page.url.startswith(hub_url) and page.is_visible("#error") and landed == []
        screenshot(page, "citizen-bad-redirect")

        # Refusal: the citizen signs in (sent there and back), reads the request, says no.
        _, challenge = pkce()
        page.goto(hub_url + authorize_query(challenge=challenge))
        assert "/citizen/signin" in page.url
        assert page.inner_text("h1") == "เข้าสู่ระบบด้วยเลขประจำตัวประชาชน"
        page.fill("#citizen_id", CITIZEN_ID)
        page.fill("#password", PASSWORD)
        page.click("#signin")
        page.wait_for_selector("#consent-title")
        assert page.inner_text("#eservice-name").startswith("พอร์ทัลบริการประชาชน")
        assert "ตรวจสอบสิทธิการปฏิบัติงานนอกสถานที่" in page.inner_text("#purpose")
        assert page.locator("#groups li").count() == 2
        assert re.search(r"30 วัน \(ถึง \d{1,2} \S+ 25\d\d", page.inner_text("#duration"))  # Buddhist Era
        screenshot(page, "citizen-consent")
        page.click("#refuse")
        page.wait_for_url(re.compile(re.escape(REDIRECT) + r".*"))
        refused = parse_qs(urlsplit(landed[-1]).query)
        assert refused["error"] == ["access_denied"] and "code" not in refused

        # Grant: in English this time.
        page.goto(f"{hub_url}/citizen/lang/en?next=/citizen/consents")
        assert page.inner_text("h1") == "My consents" and page.is_visible("#no-consents")
        verifier, challenge = pkce()
        page.goto(hub_url + authorize_query(challenge=challenge))
        assert page.inner_text("#consent-title") == "A request to use your data"
        page.click("#grant")
        page.wait_for_url(re.compile(re.escape(REDIRECT) + r".*"))
        granted = parse_qs(urlsplit(landed[-1]).query)
        assert granted["state"] == ["s-123"]
        answer = httpx.post(f"{hub_url}/v1/oauth/token", auth=(keys.client_id, keys.secret), timeout=30,
                            data={"grant_type": "authorization_code", "code": granted["code"][0],
                                  "redirect_uri": REDIRECT, "code_verifier": verifier})
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        assert record(hub_url, token).status_code == 200

        # The tracker shows exactly that read.
        page.goto(f"{hub_url}/citizen/reads")
        assert page.locator("tr.read").count() == 1
        assert "Citizen services portal" in page.inner_text("tr.read .reader")
        assert page.inner_text("tr.read .purpose") == PURPOSE
        screenshot(page, "citizen-reads")

        # Revocation: the next read is refused.
        page.goto(f"{hub_url}/citizen/consents")
        assert page.locator("#eservice-consents tbody tr").count() == 1
        screenshot(page, "citizen-consents")
        page.click("#eservice-consents .revoke")
        page.wait_for_selector("#revoked")
        assert page.inner_text("#eservice-consents .state") == "Revoked"
        refused_read = record(hub_url, token)
        assert refused_read.status_code == 403 and refused_read.json()["code"] == "record_refused"
        page.goto(f"{hub_url}/citizen/reads")
        assert page.locator("tr.read").count() == 1  # the refused attempt is not a read
        assert page.outside == []  # nothing asked of any host but the hub (and the test's portal)
