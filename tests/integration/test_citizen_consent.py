"""Consent by the citizen (issue 15): e-services as OAuth2 clients, authorization code + PKCE,
the consent page, the citizen's own consents and every refusal of the OAuth flow; on SQLite
and PostgreSQL (the ``hub``/``client`` fixtures)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hub.clock import utcnow
from hub.integration.consent_tables import citizen_consents, oauth_codes
from hub.integration.record_access import RecordRefused
from tests.support.auth import bearer
from tests.support.citizen_flow import (CITIZEN_ID, OTHER_CITIZEN, PASSWORD, PORTAL, PURPOSE, REDIRECT, add_citizen,
                                        authorize_query, browser, consent_form, consent_token, decide, exchange,
                                        pkce, register_portal, sign_in)


@pytest.fixture
def flow(hub, client):  # noqa: ANN001, ANN201
    keys = register_portal(hub)
    add_citizen(hub)
    web = browser(client.app)
    sign_in(web)
    api = TestClient(client.app, base_url="https://testserver")
    return keys, web, api


def whoami(api: TestClient, token: str):  # noqa: ANN201
    return api.get("/v1/auth/whoami", headers=bearer(token))


def entries(hub, kind: str) -> list[dict]:  # noqa: ANN001
    return hub.security.audit.entries(kind=kind)


def test_grant_gives_a_token_scoped_to_the_citizen_groups_and_purpose_and_revocation_ends_it(hub, flow) -> None:
    keys, web, api = flow
    verifier, challenge = pkce()
    page = web.get(authorize_query(challenge=challenge))
    # Thai first: the e-service, the purpose, each group asked and the duration
    assert page.status_code == 200 and '<html lang="th">' in page.text
    for words in ("พอร์ทัลบริการประชาชน", "ตรวจสอบสิทธิการปฏิบัติงานนอกสถานที่", "ข้อมูลบุคคล", "ตำแหน่งและระดับ",
                  "30 วัน", "Citizen services portal"):
        assert words in page.text, words
    assert "หนังสือราชการ" not in page.text  # letters were not asked for
    assert "script-src 'none'" in page.headers["content-security-policy"]
    redirect = decide(web, authorize_query(challenge=challenge), "grant")
    assert redirect["state"] == ["s-123"]
    answer = exchange(api, keys, redirect["code"][0], verifier)
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert token["token_type"] == "Bearer" and token["scope"] == "person position" and token["purpose"] == PURPOSE
    me = whoami(api, token["access_token"]).json()
    assert me["subject"] == f"eservice:{PORTAL}" and me["method"] == "citizen_oauth" and me["agent_id"] == CITIZEN_ID

    access = hub.integration.citizens.access
    principal = hub.security.authenticator.from_token(token["access_token"])
    basis = access.check(principal, CITIZEN_ID, ["person"], PURPOSE)
    assert (basis.kind, basis.reader, basis.reader_kind) == ("citizen_consent", PORTAL, "eservice")
    for citizen, groups, purpose, why in ((OTHER_CITIZEN, ["person"], PURPOSE, "another citizen"),
                                          (CITIZEN_ID, ["person", "letters"], PURPOSE, "beyond"),
                                          (CITIZEN_ID, ["person"], "marketing", "purpose")):
        with pytest.raises(RecordRefused) as refused:
            access.check(principal, citizen, groups, purpose)
        assert why in refused.value.reason and refused.value.message == RecordRefused("x").message

    # the citizen lists the consent (API, with their own session) and revokes it
    session = api.post("/v1/auth/login", json={"username": CITIZEN_ID, "password": PASSWORD}).json()["session_token"]
    mine = api.get("/v1/citizens/me/consents", headers=bearer(session)).json()
    assert [c["eservice"] for c in mine["eservices"]] == [PORTAL] and mine["eservices"][0]["valid"] is True
    assert mine["eservices"][0]["field_groups"] == ["person", "position"] and mine["agencies"] == []
    consent_id = mine["eservices"][0]["id"]
    assert api.delete(f"/v1/citizens/me/consents/{consent_id}", headers=bearer(session)).json()["valid"] is False
    with pytest.raises(RecordRefused) as refused:  # the next read: refused
        access.check(principal, CITIZEN_ID, ["person"], PURPOSE)
    assert "revoked" in refused.value.reason
    kinds = [e["kind"] for e in hub.security.audit.entries() if e["kind"].startswith("citizen.")]
    assert kinds == ["citizen.consent.granted", "citizen.token.issued", "citizen.consent.revoked"]
    assert all(CITIZEN_ID not in (e["target"] or "") + e["detail"] for e in hub.security.audit.entries()
               if e["kind"].startswith("citizen.consent"))


def test_the_citizen_refuses_and_the_e_service_gets_access_denied_and_nothing_is_stored(hub, flow) -> None:
    _, web, _ = flow
    _, challenge = pkce()
    redirect = decide(web, authorize_query(challenge=challenge), "refuse")
    assert redirect["error"] == ["access_denied"] and redirect["state"] == ["s-123"] and "code" not in redirect
    with hub.engine.connect() as conn:
        assert conn.execute(select(citizen_consents)).all() == []
    assert [e["decision"] for e in entries(hub, "citizen.consent.refused")] == ["refused"]


@pytest.mark.parametrize("query, why", [
    (lambda c: authorize_query(challenge=c, redirect="https://evil.example/steal"), "Redirect URI"),
    (lambda c: authorize_query(challenge=c, redirect=REDIRECT + "/../x"), "Redirect URI"),
    (lambda c: authorize_query("TH/GOV/NOPE/app", challenge=c), "client"),
])
def test_an_unregistered_client_or_redirect_uri_gets_the_hubs_error_page_never_a_redirect(flow, query, why) -> None:
    _, web, _ = flow
    _, challenge = pkce()
    page = web.get(query(challenge))
    assert page.status_code == 400 and "location" not in page.headers
    assert 'id="error"' in page.text and why.lower() in page.text.lower()
    assert "evil.example" not in page.headers.get("location", "")


@pytest.mark.parametrize("params, error", [
    ({"challenge": None, "method": None}, "invalid_request"),  # no PKCE at all
    ({"challenge": "x" * 43, "method": "plain"}, "invalid_request"),  # plain is not taken
    ({"scope": "person payroll"}, "invalid_scope"),  # a group the e-service may not ask
])
def test_pkce_is_required_s256_only_and_scope_is_limited_errors_go_to_the_validated_redirect(flow, params, error) -> None:
    _, web, _ = flow
    _, challenge = pkce()
    values = {"challenge": challenge, **params}
    answer = web.get(authorize_query(**values))
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(REDIRECT + "?error=" + error)


def test_a_pkce_mismatch_a_replayed_code_and_an_expired_code_are_refused(hub, flow) -> None:
    keys, web, api = flow
    # PKCE mismatch
    _, challenge = pkce()
    code = decide(web, authorize_query(challenge=challenge), "grant")["code"][0]
    wrong = exchange(api, keys, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant" and wrong.json()["code"] == "invalid_grant"
    # a missing verifier
    _, challenge = pkce()
    code = decide(web, authorize_query(challenge=challenge), "grant")["code"][0]
    assert exchange(api, keys, code, "").json()["error"] == "invalid_request"

    # replay: the second exchange fails and voids the token the first one got
    verifier, challenge = pkce()
    code = decide(web, authorize_query(challenge=challenge), "grant")["code"][0]
    first = exchange(api, keys, code, verifier)
    assert first.status_code == 200 and whoami(api, first.json()["access_token"]).status_code == 200
    again = exchange(api, keys, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert whoami(api, first.json()["access_token"]).status_code == 401
    assert [e["decision"] for e in entries(hub, "citizen.code.replayed")] == ["refused"]

    # expired
    verifier, challenge = pkce()
    code = decide(web, authorize_query(challenge=challenge), "grant")["code"][0]
    with hub.engine.begin() as conn:
        conn.execute(update(oauth_codes).where(oauth_codes.c.used_at.is_(None))
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    late = exchange(api, keys, code, verifier)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"

    # another e-service cannot exchange this e-service's code, and a wrong secret is invalid_client
    verifier, challenge = pkce()
    code = decide(web, authorize_query(challenge=challenge), "grant")["code"][0]
    other = register_portal(hub, client_id="TH/GOV/DGA/other", redirect="https://other.example/cb")
    assert exchange(api, other, code, verifier, redirect=REDIRECT).json()["error"] == "invalid_grant"
    keys.secret = "not the secret"
    assert exchange(api, keys, code, verifier).status_code == 401


def test_a_consent_form_without_its_csrf_token_is_refused_on_the_hubs_page(hub, flow) -> None:
    _, web, _ = flow
    _, challenge = pkce()
    form = consent_form(web, authorize_query(challenge=challenge))
    for bad in ({k: v for k, v in form.items() if k != "csrf"}, {**form, "csrf": "0" * 64}):
        answer = web.post("/citizen/authorize", data={**bad, "decision": "grant"})
        assert answer.status_code == 403 and "location" not in answer.headers
    with hub.engine.connect() as conn:
        assert conn.execute(select(citizen_consents)).all() == []


def test_not_signed_in_the_citizen_is_sent_to_sign_in_and_back(hub, client) -> None:
    register_portal(hub)
    add_citizen(hub)
    web = browser(client.app)
    _, challenge = pkce()
    query = authorize_query(challenge=challenge)
    answer = web.get(query)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/citizen/signin?next=")
    sign_in(web)
    assert web.get(query).status_code == 200
    cookie = next(c for c in web.cookies.jar if c.name == "hub_citizen")
    assert cookie.path == "/citizen" and cookie.secure and cookie.has_nonstandard_attr("HttpOnly")


def test_citizen_routes_are_for_citizens_only(hub, client) -> None:
    add_citizen(hub)
    assert client.get("/v1/citizens/me/consents").status_code == 403  # an admin is not a citizen
    hub.security.users.add("officer1", PASSWORD, roles=("auditor",), actor="tests")
    web = browser(client.app)
    page = web.get("/citizen/signin")
    from tests.support.citizen_flow import CSRF
    answer = web.post("/citizen/signin", data={"csrf": CSRF.search(page.text).group(1), "citizen_id": "officer1",
                                               "password": PASSWORD, "next": "/citizen/consents"})
    assert "failed=1" in answer.headers["location"]  # a staff account cannot sign in as a citizen
    # ... answered as a wrong password after the same password check: no session, a failed login
    from sqlalchemy import func, select

    from hub.security.tables import sessions
    with hub.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sessions)
                            .where(sessions.c.username == "officer1")).scalar_one() == 0
    assert hub.security.audit.entries(kind="auth.failed", target="officer1")
    assert not hub.security.audit.entries(kind="auth.login", target="officer1")


def test_a_citizen_account_is_named_by_a_valid_citizen_id(hub) -> None:
    from hub.errors import InputError

    with pytest.raises(InputError) as bad:
        hub.security.users.add("1101700203451", PASSWORD, roles=("citizen",), actor="tests")
    assert bad.value.errors[0].field == "/username" and bad.value.errors[0].rule == "check_digit"
    with pytest.raises(InputError):
        hub.security.users.add(CITIZEN_ID, PASSWORD, roles=("citizen", "admin"), actor="tests")


def test_registering_an_e_service_checks_each_field(client) -> None:
    answer = client.post("/v1/eservices", json={
        "client_id": "TH/GOV/NONE/app", "name_th": "", "name_en": "x", "purpose": "p", "purpose_th": "ท",
        "purpose_en": "p", "redirect_uris": ["http://portal.example/cb", "https://ok.example/cb#frag"],
        "field_groups": ["person", "salary"], "consent_days": 0})
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["errors"]}
    assert fields == {"/client_id", "/name_th", "/redirect_uris/0", "/redirect_uris/1", "/field_groups/1",
                      "/consent_days"}


def test_an_e_services_token_lives_no_longer_than_its_consent(hub, flow) -> None:
    keys, web, api = flow
    token = consent_token(web, api, keys)
    principal = hub.security.authenticator.from_token(token)
    with hub.engine.begin() as conn:
        conn.execute(update(citizen_consents).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(RecordRefused) as refused:
        hub.integration.citizens.access.check(principal, CITIZEN_ID, ["person"], PURPOSE)
    assert "expired" in refused.value.reason
