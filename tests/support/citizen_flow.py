"""The citizen-consent flow for tests (issue 15): an e-service registered as an OAuth2 client,
a citizen's account, and the steps an e-service and a citizen's browser take, over a
``TestClient`` (the browser test drives real Chromium instead)."""
from __future__ import annotations

import base64
import html
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi.testclient import TestClient

from hub.bootstrap import Hub
from tests.support.auth import register_agency

PORTAL = "TH/GOV/DGA/portal"
REDIRECT = "https://portal.example/callback"
PURPOSE = "telework-benefits"
CITIZEN_ID = "1101700203450"
OTHER_CITIZEN = "3100600123450"
PASSWORD = "a long enough password"


@dataclass
class EServiceKeys:
    client_id: str
    secret: str

    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register_portal(hub: Hub, *, groups: tuple[str, ...] = ("person", "position", "org_unit", "telework", "letters"),
                    client_id: str = PORTAL, redirect: str = REDIRECT, days: int = 30) -> EServiceKeys:
    issued = register_agency(hub, client_id)
    hub.integration.citizens.eservices.register(
        client_id=client_id, name_th="พอร์ทัลบริการประชาชน", name_en="Citizen services portal", purpose=PURPOSE,
        purpose_th="ตรวจสอบสิทธิการปฏิบัติงานนอกสถานที่", purpose_en="Check telework entitlement",
        redirect_uris=[redirect], field_groups=list(groups), consent_days=days, actor="tests")
    return EServiceKeys(client_id, issued.client_secret)


def add_citizen(hub: Hub, citizen_id: str = CITIZEN_ID) -> None:
    hub.security.users.add(citizen_id, PASSWORD, roles=("citizen",), actor="tests")


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def authorize_query(client_id: str = PORTAL, *, scope: str = "person position", challenge: str | None = None,
                    redirect: str | None = REDIRECT, state: str = "s-123", method: str | None = "S256",
                    **extra: str) -> str:
    params = {"response_type": "code", "client_id": client_id, "scope": scope, "state": state, **extra}
    if redirect is not None:
        params["redirect_uri"] = redirect
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    return "/citizen/authorize?" + urlencode(params)


CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def browser(app) -> TestClient:  # noqa: ANN001
    """A cookie-keeping client at an https origin (Authlib refuses plain http off loopback)."""
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def sign_in(web: TestClient, citizen_id: str = CITIZEN_ID, password: str = PASSWORD) -> None:
    page = web.get("/citizen/signin")
    csrf = CSRF.search(page.text).group(1)
    answer = web.post("/citizen/signin", data={"csrf": csrf, "citizen_id": citizen_id, "password": password,
                                               "next": "/citizen/consents"})
    assert answer.status_code == 303 and "failed" not in answer.headers["location"], answer.headers


def consent_form(web: TestClient, query: str) -> dict[str, str]:
    page = web.get(query)
    assert page.status_code == 200, page.text
    return {k: html.unescape(v) for k, v in
            re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', page.text)}


def decide(web: TestClient, query: str, decision: str) -> dict[str, list[str]]:
    """The citizen answers the consent page; the redirect's query parameters."""
    form = consent_form(web, query)
    answer = web.post("/citizen/authorize", data={**form, "decision": decision})
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    return parse_qs(urlsplit(location).query)


def exchange(api: TestClient, keys: EServiceKeys, code: str, verifier: str, redirect: str = REDIRECT):  # noqa: ANN201
    return api.post("/v1/oauth/token", headers=keys.basic(),
                    data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                          "code_verifier": verifier})


def consent_token(web: TestClient, api: TestClient, keys: EServiceKeys, *, scope: str = "person position") -> str:
    """Grant through the pages and exchange the code: the e-service's access token."""
    verifier, challenge = pkce()
    code = decide(web, authorize_query(keys.client_id, scope=scope, challenge=challenge), "grant")["code"][0]
    answer = exchange(api, keys, code, verifier)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]
