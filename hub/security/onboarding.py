"""Onboarding in one call: register a subsystem (and its member), approve it, grant rights.

The API and CLI walk agencies through the same steps one decision at a time; this is for
code that sets up a whole arrangement at once — the demo, the bench, tests.
"""
from __future__ import annotations

from collections.abc import Iterable

from hub.registry.schemas import MemberIn, SubsystemIn
from hub.schemas.envelope import party_member
from hub.security.credentials import IssuedSecret
from hub.security.wiring import Security


def onboard(security: Security, subsystem_id: str, *, actor: str, clearance: str = "001",
            rights: Iterable[tuple[str, str]] = (), member_name_th: str | None = None) -> IssuedSecret | None:
    """Returns the credentials issued now, or None if the subsystem was registered before.

    ``rights`` are (service, provider) pairs the subsystem may call. Idempotent.
    """
    member = party_member(subsystem_id)
    issued = None
    if security.registry.subsystem(subsystem_id, missing_ok=True) is None:
        if not any(m.id == member for m in security.registry.list_members()):
            security.registry.add_member(MemberIn(id=member, name_th=member_name_th or member), actor=actor)
        security.registry.request_subsystem(member, SubsystemIn(code=subsystem_id.split("/")[3], clearance=clearance),
                                            actor=actor)
        issued = security.approve_subsystem(subsystem_id, actor=actor, clearance=clearance)
    held = {(r["service"], r["provider"]) for r in security.access.rights(subsystem_id)}
    for service, provider in rights:
        if (service, provider) not in held:
            security.access.grant(subsystem_id, service, provider, actor=actor)
    security.authenticator.forget()
    return issued
