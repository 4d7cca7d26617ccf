"""Layer 3 done-when: every route authenticates, deny by default, reads limited to one's own
messages, classification enforced, each refusal audited, tokens checked."""
from __future__ import annotations

import base64
import re
import time
import uuid
from datetime import timedelta

import jwt
import pytest
from fastapi.routing import iter_route_contexts

from hub.api.public import is_open
from hub.clock import utcnow
from hub.security.wiring import security_of
from tests.support.auth import bearer
from tests.support.waiting import wait_for

CGD, OCSC, FPO = "TH/GOV/CGD/saraban", "TH/GOV/OCSC/hr", "TH/GOV/FPO/finance"
SERVICE = "hr.attendance/v1"


def envelope(sender=CGD, receiver=OCSC, **overrides):
    return {"id": str(uuid.uuid4()), "sender": sender, "receiver": receiver, "service": SERVICE,
            "payload": {"citizen_id": "1101700203450", "date": "2026-11-23"}, **overrides}


def concrete(path: str) -> str:
    """A request path for a route template: every parameter gets a plausible value."""
    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[0]
        if name.endswith("_id") and "message" in name:
            return str(uuid.uuid4())
        if name == "route_id" or name == "right_id":
            return "1"
        return "TH/GOV/CGD" if name == "member_id" else "x"
    return re.sub(r"{([^}]+)}", value, path)


def protected_routes(app):
    for rc in iter_route_contexts(app.routes):
        methods = sorted((rc.methods or set()) - {"HEAD", "OPTIONS"})
        if not methods or rc.path in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"):
            continue
        if is_open(rc.endpoint):
            continue
        for method in methods:
            yield method, rc.path


def refusals(hub, kind_prefix="access.", decision="refused"):
    return [e for e in security_of(hub).audit.entries() if e["kind"].startswith(kind_prefix)
            and e["decision"] == decision]


@pytest.fixture
def agencies(embedded_hub, embedded_client, embedded_as_agency):
    # Receivers first: a route may only name a registered subsystem (issue 12).
    ocsc = embedded_as_agency(OCSC, clearance="001")
    fpo = embedded_as_agency(FPO, clearance="003")
    cgd = embedded_as_agency(CGD, clearance="003", rights=[(SERVICE, OCSC), (SERVICE, FPO)])
    embedded_client.post("/v1/routes", json={"receiver": OCSC, "service": "*", "adapter": "memory",
                                             "settings": {"mailbox": "hr"}}).raise_for_status()
    embedded_client.post("/v1/routes", json={"receiver": FPO, "service": "*", "adapter": "memory",
                                             "settings": {"mailbox": "fin"}}).raise_for_status()
    return cgd, ocsc, fpo


def test_every_protected_route_refuses_without_credentials(embedded_hub, anonymous_client):
    routes = list(protected_routes(anonymous_client.app))
    assert ("POST", "/v1/messages") in routes and ("GET", "/v1/agencies") in routes
    for method, path in routes:
        response = anonymous_client.request(method, concrete(path))
        assert response.status_code == 401, (method, path, response.status_code, response.text)
        assert response.json()["code"] == "unauthorized"
    # Anonymous refusals are audited once per source per interval, with a count (issue 12,
    # finding 6: tests/integration/test_audit_truth.py), not once per request.
    assert len(refusals(embedded_hub, "auth.")) >= 1


def test_every_route_refuses_expired_and_tampered_tokens(embedded_hub, anonymous_client):
    security = security_of(embedded_hub)
    security.credentials.create("expiring-admin", actor="test", roles=("admin",), with_secret=False)
    expired = security.tokens.issue("expiring-admin", ttl_seconds=-60).token
    good = security.tokens.issue("expiring-admin").token
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    forged_payload = base64.urlsafe_b64encode(
        jwt.api_jws.json.dumps({**claims, "sub": "test-admin"}).encode()).decode().rstrip("=")
    tampered = f"{header}.{forged_payload}.{signature}"
    wrong_key = jwt.encode({**claims, "exp": utcnow() + timedelta(minutes=5)},
                           "not-the-hub-key-but-long-enough-for-hs256", algorithm="HS256")
    for method, path in protected_routes(anonymous_client.app):
        for token, why in ((expired, "expired"), (tampered, "signature"), (wrong_key, "not valid")):
            response = anonymous_client.request(method, concrete(path), headers=bearer(token))
            assert response.status_code == 401, (method, path, why, response.text)
            assert why in response.json()["message"]
    assert anonymous_client.get("/v1/auth/whoami", headers=bearer(good)).status_code == 200


def test_routes_management_and_admin_routes_refuse_an_agency_with_403(embedded_hub, agencies):
    cgd, _, _ = agencies
    admin_only = [("GET", "/v1/routes"), ("POST", "/v1/routes"), ("GET", "/v1/access-rights"),
                  ("POST", "/v1/clients"), ("GET", "/v1/audit/entries"), ("POST", "/v1/agencies"),
                  ("POST", "/v1/agencies/TH/GOV/CGD/subsystems/saraban/approve")]
    for method, path in admin_only:
        response = cgd.request(method, path, json={})
        assert response.status_code == 403, (method, path, response.text)
    logged = [e for e in refusals(embedded_hub) if e["actor"] == f"client:{CGD}"]
    assert len(logged) >= len(admin_only)


def test_every_protected_route_refuses_a_client_without_the_right(embedded_hub, agencies, embedded_as_agency):
    """A subsystem with no rights and clearance 001: never 2xx on a route that is not its own business."""
    nobody = embedded_as_agency("TH/GOV/TRD/assets")
    own_business = {("GET", "/v1/auth/whoami"), ("POST", "/v1/auth/logout"), ("GET", "/v1/agencies"),
                    ("GET", "/v1/agencies/{member_id:path}"), ("GET", "/v1/messages"),
                    ("GET", "/v1/agencies/{member_id:path}/subsystems/{code}"),
                    ("GET", "/v1/standards"), ("GET", "/v1/standards/{name}"), ("GET", "/v1/locations/provinces"),
                    # Layer 5 listings show only the caller's own events, subscriptions, applications.
                    ("GET", "/v1/events"), ("GET", "/v1/subscriptions"), ("GET", "/v1/applications"),
                    # Query services: only those the caller provides or holds a right to call.
                    ("GET", "/v1/query-services")}
    for method, path in protected_routes(nobody.app):
        if (method, path) in own_business or path.startswith("/v1/standards") or path.startswith("/v1/locations"):
            continue
        response = nobody.request(method, concrete(path), json={})
        # Never a success: refused (403), hidden (404), or a malformed request (422) refused
        # before any data is touched.
        assert response.status_code in (403, 404, 422), (method, path, response.status_code, response.text)


def test_submit_needs_a_right_and_to_act_for_the_sender(embedded_hub, agencies):
    cgd, ocsc, _ = agencies
    assert cgd.post("/v1/messages", json=envelope()).status_code == 202
    # no right to hr.attendance/v1 at CGD
    response = ocsc.post("/v1/messages", json=envelope(sender=OCSC, receiver=CGD))
    assert response.status_code == 403 and "holds no access right" in response.json()["message"]
    # OCSC may not send as CGD
    response = ocsc.post("/v1/messages", json=envelope())
    assert response.status_code == 403 and "do not act for sender" in response.json()["message"]
    reasons = [e["detail"] for e in refusals(embedded_hub) if e["kind"] == "access.submit"]
    assert any("holds no access right" in d for d in reasons) and any("do not act for" in d for d in reasons)
    assert [e for e in security_of(embedded_hub).audit.entries(kind="access.submit") if e["decision"] == "granted"]


def test_group_rights_apply_to_members_of_the_group(embedded_hub, embedded_client, agencies):
    _, ocsc, _ = agencies
    assert embedded_client.put(f"/v1/groups/hr-readers/members/{OCSC}").status_code == 204
    assert embedded_client.post("/v1/access-rights", json={"client": "group:hr-readers", "service": "*",
                                                           "provider": "TH/GOV/FPO"}).status_code == 201
    embedded_client.post("/v1/routes", json={"receiver": FPO, "service": "finance.savings/v1", "adapter": "memory",
                                             "settings": {"mailbox": "fin2"}})
    response = ocsc.post("/v1/messages", json=envelope(sender=OCSC, receiver=FPO, service="finance.savings/v1"))
    assert response.status_code == 202, response.text


def test_a_clearance_001_subsystem_never_receives_a_003_message(embedded_hub, agencies):
    cgd, _, fpo = agencies
    secret = envelope(classification="003")
    response = cgd.post("/v1/messages", json=secret)
    assert response.status_code == 403
    assert response.json()["errors"][0] == {"field": "/classification", "rule": "receiver_clearance",
                                            "message": f"at most 001 for {OCSC}"}
    # not stored at all, so never delivered
    assert embedded_hub.messages.get_meta(secret["id"], missing_ok=True) is None
    refused = [e for e in refusals(embedded_hub) if e["kind"] == "access.submit" and e["target"] == OCSC]
    assert refused and "003" in refused[-1]["detail"]
    # the same message to a 003-cleared receiver is accepted
    assert cgd.post("/v1/messages", json=envelope(receiver=FPO, classification="003")).status_code == 202


def test_the_clearance_check_also_guards_every_other_entry_point(embedded_hub, agencies):
    from hub.errors import Forbidden
    from hub.schemas.envelope import Envelope

    with pytest.raises(Forbidden):
        embedded_hub.messages.accept(Envelope.model_validate(envelope(classification="004")))


def test_another_agencys_message_is_404_exactly_like_a_missing_one(embedded_hub, embedded_client, agencies,
                                                                  embedded_as_agency):
    cgd, ocsc, fpo = agencies
    mine = envelope()
    assert cgd.post("/v1/messages", json=mine).status_code == 202
    missing = str(uuid.uuid4())
    for path in ("/v1/messages/{}", "/v1/messages/{}/payload"):
        theirs = fpo.get(path.format(mine["id"]))
        nothing = fpo.get(path.format(missing))
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.json()["message"].replace(mine["id"], "X") == nothing.json()["message"].replace(missing, "X")
        assert ocsc.get(path.format(mine["id"])).status_code == 200  # the receiver reads it
        assert cgd.get(path.format(mine["id"])).status_code == 200  # the sender reads it
    assert fpo.post(f"/v1/messages/{mine['id']}/replay").status_code == 404
    assert cgd.post(f"/v1/messages/{mine['id']}/replay").status_code == 403
    listed = fpo.get("/v1/messages").json()["items"]
    assert listed == []
    assert [m["id"] for m in ocsc.get("/v1/messages").json()["items"]] == [mine["id"]]
    assert fpo.get("/v1/messages", params={"sender": CGD}).json()["items"] == []
    reads = [e for e in refusals(embedded_hub) if e["kind"] in ("access.read", "access.read_payload")]
    assert {e["target"] for e in reads} >= {mine["id"], missing}


def test_listing_pages_through_own_messages_only(embedded_hub, agencies):
    cgd, ocsc, fpo = agencies
    to_hr = [cgd.post("/v1/messages", json=envelope()).json()["id"] for _ in range(5)]
    cgd.post("/v1/messages", json=envelope(receiver=FPO)).raise_for_status()
    seen, cursor = [], None
    while True:
        page = ocsc.get("/v1/messages", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == to_hr
    assert len(cgd.get("/v1/messages").json()["items"]) == 6


def test_reads_above_clearance_are_hidden_after_a_clearance_is_lowered(embedded_hub, embedded_client, agencies):
    cgd, _, fpo = agencies
    secret = envelope(receiver=FPO, classification="003")
    assert cgd.post("/v1/messages", json=secret).status_code == 202
    assert fpo.get(f"/v1/messages/{secret['id']}").status_code == 200
    lowered = embedded_client.put("/v1/agencies/TH/GOV/FPO/subsystems/finance/clearance", json={"clearance": "001"})
    assert lowered.status_code == 200, lowered.text
    assert fpo.get(f"/v1/messages/{secret['id']}").status_code == 404
    assert fpo.get("/v1/messages").json()["items"] == []


def test_oauth2_client_credentials_and_rotation_overlap(embedded_hub, embedded_client, anonymous_client):
    embedded_client.post("/v1/agencies/TH/GOV/BB/subsystems", json={"code": "budget"}).raise_for_status()
    approved = embedded_client.post("/v1/agencies/TH/GOV/BB/subsystems/budget/approve").json()
    creds = approved["credentials"]
    assert approved["subsystem"]["status"] == "approved" and creds["client_secret"].startswith("hubcs_")
    token = anonymous_client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                         "client_id": creds["client_id"],
                                                         "client_secret": creds["client_secret"]})
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "Bearer" and token.json()["expires_in"] == 600
    who = anonymous_client.get("/v1/auth/whoami", headers=bearer(token.json()["access_token"])).json()
    assert who["subsystems"] == ["TH/GOV/BB/budget"] and who["method"] == "jwt"
    # HTTP Basic at the token endpoint too
    basic = anonymous_client.post("/v1/auth/token", data={"grant_type": "client_credentials"},
                                  auth=(creds["client_id"], creds["client_secret"]))
    assert basic.status_code == 200
    wrong = anonymous_client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                         "client_id": creds["client_id"], "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    # rotation: old and new both work during the overlap; with no overlap the old one stops
    rotated = embedded_client.post(f"/v1/clients/{creds['client_id']}/rotate", json={"overlap_seconds": 3600}).json()
    for secret in (creds["client_secret"], rotated["client_secret"]):
        assert anonymous_client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                            "client_id": creds["client_id"],
                                                            "client_secret": secret}).status_code == 200
    again = embedded_client.post(f"/v1/clients/{creds['client_id']}/rotate", json={"overlap_seconds": 0}).json()
    for secret, status in ((rotated["client_secret"], 401), (again["client_secret"], 200)):
        assert anonymous_client.post("/v1/auth/token", data={"grant_type": "client_credentials",
                                                            "client_id": creds["client_id"],
                                                            "client_secret": secret}).status_code == status
    kinds = [e["kind"] for e in security_of(embedded_hub).audit.entries()]
    assert {"credential.created", "credential.rotated", "auth.token_issued", "auth.failed"} <= set(kinds)


def test_disabled_subsystem_cannot_authenticate(embedded_hub, embedded_client, agencies):
    _, ocsc, _ = agencies
    assert ocsc.get("/v1/auth/whoami").status_code == 200
    assert embedded_client.post("/v1/agencies/TH/GOV/OCSC/subsystems/hr/reject", json={}).json()["status"] == "disabled"
    assert ocsc.get("/v1/auth/whoami").status_code == 401


def test_gdx_token_exchange(embedded_hub, embedded_client, anonymous_client):
    embedded_client.post("/v1/agencies/TH/GOV/DOPA/subsystems", json={"code": "ecitizen"}).raise_for_status()
    creds = embedded_client.post("/v1/agencies/TH/GOV/DOPA/subsystems/ecitizen/approve").json()["credentials"]
    key = creds["client_id"]
    response = anonymous_client.get("/v1/auth/validate", headers={"Consumer-Key": key},
                                    params={"ConsumerSecret": creds["client_secret"], "AgentID": "1101700203450"})
    assert response.status_code == 200, response.text
    token = response.json()["Result"]
    who = anonymous_client.get("/v1/auth/whoami", headers={"Consumer-Key": key, "Token": token}).json()
    assert who["method"] == "gdx" and who["agent_id"] == "1101700203450"
    # the token is bound to its Consumer-Key, and is not an OAuth2 bearer token
    assert anonymous_client.get("/v1/auth/whoami", headers={"Consumer-Key": "TH/GOV/CGD/x", "Token": token}).status_code == 401
    assert anonymous_client.get("/v1/auth/whoami", headers=bearer(token)).status_code == 401
    bad_agent = anonymous_client.get("/v1/auth/validate", headers={"Consumer-Key": key},
                                     params={"ConsumerSecret": creds["client_secret"], "AgentID": "1101700203451"})
    assert bad_agent.status_code == 422 and bad_agent.json()["errors"][0]["field"] == "/query/AgentID"


def test_people_log_in_and_sessions_expire(embedded_hub, embedded_client, anonymous_client):
    created = embedded_client.post("/v1/users", json={"username": "somchai", "password": "correct horse battery",
                                                      "roles": ["agency-operator"], "member_id": "TH/GOV/OCSC"})
    assert created.status_code == 201, created.text
    assert anonymous_client.post("/v1/auth/login", json={"username": "somchai", "password": "wrong password!"}).status_code == 401
    login = anonymous_client.post("/v1/auth/login", json={"username": "somchai", "password": "correct horse battery"})
    session = login.json()["session_token"]
    who = anonymous_client.get("/v1/auth/whoami", headers=bearer(session)).json()
    assert who["roles"] == ["agency-operator"] and who["member"] == "TH/GOV/OCSC"
    # an operator may register a subsystem of its own member, not of another
    assert anonymous_client.post("/v1/agencies/TH/GOV/OCSC/subsystems", json={"code": "dpis"},
                                 headers=bearer(session)).status_code == 201
    assert anonymous_client.post("/v1/agencies/TH/GOV/CGD/subsystems", json={"code": "x"},
                                 headers=bearer(session)).status_code == 403
    assert anonymous_client.post("/v1/auth/logout", headers=bearer(session)).status_code == 204
    assert anonymous_client.get("/v1/auth/whoami", headers=bearer(session)).status_code == 401
    # expiry
    from sqlalchemy import update

    from hub.security.tables import sessions

    again = anonymous_client.post("/v1/auth/login", json={"username": "somchai",
                                                         "password": "correct horse battery"}).json()["session_token"]
    with embedded_hub.engine.begin() as conn:
        conn.execute(update(sessions).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = anonymous_client.get("/v1/auth/whoami", headers=bearer(again))
    assert response.status_code == 401 and "expired" in response.json()["message"]


def test_metrics_are_for_monitors_not_for_agencies(embedded_hub, embedded_client, anonymous_client, agencies):
    cgd, _, _ = agencies
    assert anonymous_client.get("/metrics").status_code == 401
    assert embedded_client.get("/metrics").status_code == 200
    assert anonymous_client.get("/healthz").status_code == 200
    assert anonymous_client.get("/readyz").status_code == 200


def test_delivery_still_works_end_to_end_for_an_agency(embedded_hub, agencies):
    cgd, ocsc, _ = agencies
    env = envelope()
    cgd.post("/v1/messages", json=env).raise_for_status()
    wait_for(lambda: ocsc.get(f"/v1/messages/{env['id']}").json()["status"] == "delivered", what="delivery")
    time.sleep(0)
