"""Credentials for tests: a hub admin, and agency subsystems with real tokens.

Tests of other layers use the fixtures in ``tests/conftest.py``:

* ``client`` / ``embedded_client`` act as a hub admin (a real JWT, clearance 004);
* ``anonymous_client`` has no credentials at all;
* ``as_agency`` / ``embedded_as_agency`` return a function
  ``(subsystem_id, clearance="001", rights=[(service, provider), ...]) -> TestClient`` that
  registers and approves the subsystem (its member too, if unknown), grants the rights and
  gives a client authenticated as that subsystem, on the same app.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.bootstrap import Hub
from hub.schemas.envelope import party_member
from hub.security.credentials import IssuedSecret
from hub.security.onboarding import onboard
from hub.security.wiring import security_of

ADMIN_CLIENT_ID = "test-admin"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_token(hub: Hub, client_id: str = ADMIN_CLIENT_ID, roles: tuple[str, ...] = ("admin",)) -> str:
    security = security_of(hub)
    if security.credentials.get(client_id) is None:
        security.credentials.create(client_id, actor="tests", roles=roles, clearance="004", with_secret=False)
    return security.client_token(client_id)


def register_agency(hub: Hub, subsystem_id: str, *, clearance: str = "001",
                    rights: Iterable[tuple[str, str]] = ()) -> IssuedSecret | None:
    """Register, approve and grant; returns the issued credentials (None if already registered)."""
    member = party_member(subsystem_id)
    return onboard(security_of(hub), subsystem_id, actor="tests", clearance=clearance, rights=rights,
                   member_name_th=f"หน่วยงานทดสอบ {member}")


def agency_token(hub: Hub, subsystem_id: str, **kwargs: object) -> str:
    register_agency(hub, subsystem_id, **kwargs)  # type: ignore[arg-type]
    return security_of(hub).client_token(subsystem_id)


def register_receiver(http: Any, receiver: str, *, url: str = "", headers: dict[str, str] | None = None) -> None:
    """Register and approve ``receiver`` through the admin API, as an agency is onboarded, so a
    route may name it (issue 12: routes to never-registered receivers are refused). ``http`` is
    a TestClient or the ``httpx`` module (with ``url`` the hub's address); 409 means already there."""
    member, code = party_member(receiver), receiver.rsplit("/", 1)[1]
    steps = ((f"{url}/v1/agencies", {"id": member, "name_th": f"หน่วยงานทดสอบ {member}"}),
             (f"{url}/v1/agencies/{member}/subsystems", {"code": code}),
             (f"{url}/v1/agencies/{member}/subsystems/{code}/approve", None))
    for path, body in steps:
        response = http.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201, 409), (path, response.status_code, response.text)
