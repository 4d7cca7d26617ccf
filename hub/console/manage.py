"""Console pages that change the hub's set-up: routes and adapters, agencies and subsystems,
e-CMS departments. Each calls the service the API and CLI call (``Router``,
``AgencyRegistry``/``Security``, the e-CMS store), so the rules, validation and audit records
are theirs; a change is for admins only (refused on the server, audited with the person),
reading is for the roles that may read it.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from hub.console.health import check_route
from hub.console.kit import Kit
from hub.errors import HubError
from hub.registry.agencies import APPROVED, DISABLED, REJECTED
from hub.registry.schemas import MemberIn, SubsystemIn
from hub.schemas.principal import ADMIN, AUDITOR, OPERATOR
from hub.schemas.routes import RouteIn

READERS = (ADMIN, AUDITOR, OPERATOR)
ROUTE_FIELDS = ("receiver", "service", "adapter", "max_attempts", "max_age_seconds", "backoff_base_seconds",
                "backoff_max_seconds", "require_standard")


def _problem(exc: Exception) -> str:
    """A refusal as one line: the service's message, or each invalid field as a JSON Pointer."""
    if isinstance(exc, HubError):
        fields = "; ".join(f"{e.field}: {e.message} ({e.rule})" for e in exc.errors)
        return f"{exc.message}: {fields}" if fields else exc.message
    if isinstance(exc, ValidationError):
        return "; ".join(f"/{'/'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


def _route_in(hub: Any, form: Any) -> RouteIn:
    """The form as a route whose receiver is registered (issue 12; the hub's own wiring, which
    routes to receivers it registers itself, goes to ``Router`` directly)."""
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in ROUTE_FIELDS}
    values = {k: v for k, v in values.items() if v != ""}
    settings = str(form.get("settings", "")).strip() or "{}"
    try:
        values["settings"] = json.loads(settings)
    except json.JSONDecodeError as exc:
        raise ValueError(f"/settings: not valid JSON ({exc.msg} at column {exc.colno})") from exc
    route = RouteIn.model_validate(values)
    hub.security.registry.check_registered(route.receiver, pointer="/receiver", role="receiver")
    return route


def register(console: FastAPI, kit: Kit) -> None:  # noqa: C901 - one function per page, registered here
    # -- routes and adapters -------------------------------------------------------------
    @console.get("/routes")
    async def routes_page(request: Request) -> HTMLResponse:
        principal, token = kit.signed_in(request, ADMIN)
        hub = kit.get_hub()
        q = request.query_params
        edit = next((r for r in hub.router.list() if str(r.id) == q.get("edit")), None)
        return kit.page(request, "routes.html", principal=principal, token=token, routes=hub.router.list(),
                        adapters=hub.adapters.names(), edit=edit, error=q.get("error"), done=q.get("done"),
                        check=q.get("check"), check_ok=q.get("ok"))

    @console.post("/routes")
    async def route_add(request: Request) -> Response:
        principal, token = kit.signed_in(request, ADMIN)
        form = await kit.checked_form(request, token)
        hub = kit.get_hub()
        try:
            route = hub.router.add(_route_in(hub, form))
        except (HubError, ValidationError, ValueError) as exc:
            return kit.back("/routes", error=_problem(exc))
        kit.audit("route.added", principal, target=str(route.id), receiver=route.receiver, service=route.service,
                  adapter=route.adapter)
        return kit.back("/routes", done=f"route {route.id}")

    @console.post("/routes/{route_id}")
    async def route_edit(request: Request, route_id: int) -> Response:
        principal, token = kit.signed_in(request, ADMIN)
        form = await kit.checked_form(request, token)
        try:
            hub = kit.get_hub()
            route = hub.router.update(route_id, _route_in(hub, form))
        except (HubError, ValidationError, ValueError) as exc:
            return kit.back("/routes", edit=route_id, error=_problem(exc))
        kit.audit("route.changed", principal, target=str(route.id), receiver=route.receiver, service=route.service,
                  adapter=route.adapter)
        return kit.back("/routes", done=f"route {route.id}")

    @console.post("/routes/{route_id}/remove")
    async def route_remove(request: Request, route_id: int) -> Response:
        principal, token = kit.signed_in(request, ADMIN)
        await kit.checked_form(request, token)
        try:
            kit.get_hub().router.remove(route_id)
        except HubError as exc:
            return kit.back("/routes", error=_problem(exc))
        kit.audit("route.removed", principal, target=str(route_id))
        return kit.back("/routes", done=f"route {route_id}")

    @console.post("/routes/{route_id}/check")
    async def route_check(request: Request, route_id: int) -> Response:
        principal, token = kit.signed_in(request, ADMIN)
        await kit.checked_form(request, token)
        hub = kit.get_hub()
        try:
            health = check_route(hub, hub.router.get(route_id))
        except HubError as exc:
            return kit.back("/routes", error=_problem(exc))
        kit.audit("route.checked", principal, target=str(route_id), ok=health.ok)
        return kit.back("/routes", check=f"route {route_id}: {health.detail}", ok="1" if health.ok else "0")

    # -- agencies and subsystems ---------------------------------------------------------
    @console.get("/agencies")
    async def agencies_page(request: Request) -> HTMLResponse:
        principal, token = kit.signed_in(request, *READERS)
        registry = kit.get_hub().security.registry
        q = request.query_params
        members = registry.list_members(pilot=True if q.get("pilot") else None)
        return kit.page(request, "agencies.html", principal=principal, token=token, members=members,
                        pilot=bool(q.get("pilot")), error=q.get("error"), done=q.get("done"))

    @console.post("/agencies")
    async def agency_add(request: Request) -> Response:
        principal, token = kit.signed_in(request, ADMIN)
        form = await kit.checked_form(request, token)
        values = {k: str(form.get(k, "")).strip() for k in ("id", "name_th", "name_en", "level", "parent_id")}
        values = {k: v for k, v in values.items() if v}
        try:
            member = kit.get_hub().security.registry.add_member(
                MemberIn.model_validate({**values, "pilot": form.get("pilot") == "on"}), actor=principal.subject)
        except (HubError, ValidationError) as exc:
            return kit.back("/agencies", error=_problem(exc))
        return kit.back(f"/agencies/{member.id}", done="registered")

    @console.get("/agencies/{member_id:path}")
    async def agency_page(request: Request, member_id: str) -> HTMLResponse:
        principal, token = kit.signed_in(request, *READERS)
        security = kit.get_hub().security
        try:
            member = security.registry.member(member_id)
        except HubError:
            return kit.page(request, "error.html", principal=principal, token=token, message_key="not_found",
                            status=404)
        q = request.query_params
        # Credentials and rights are the hub's security set-up: admins and auditors see them.
        staff = principal.is_admin or AUDITOR in principal.roles
        clients = {c.subsystem_id: c for c in security.credentials.list() if c.subsystem_id} if staff else {}
        rights = [r for r in security.access.rights() if r["client"].startswith(f"{member_id}/")
                  or r["provider"] == member_id or r["provider"].startswith(f"{member_id}/")] if staff else []
        return kit.page(request, "agency.html", principal=principal, token=token, member=member, clients=clients,
                        rights=rights, error=q.get("error"), done=q.get("done"), staff=staff,
                        may_request=principal.is_admin or principal.member == member_id)

    @console.post("/subsystems/request")
    async def subsystem_request(request: Request) -> Response:
        principal, token = kit.signed_in(request, ADMIN, OPERATOR)
        form = await kit.checked_form(request, token)
        member_id = str(form.get("member_id", ""))
        if not (principal.is_admin or principal.member == member_id):
            kit.audit("access.role", principal, decision="refused", target=member_id,
                      reason=f"only {member_id}'s operators or a hub admin may register its subsystems")
            return kit.page(request, "error.html", principal=principal, token=token, message_key="forbidden",
                            status=403)
        try:
            sub = kit.get_hub().security.registry.request_subsystem(member_id, SubsystemIn.model_validate(
                {"code": str(form.get("code", "")).strip(), "clearance": str(form.get("clearance", "001")),
                 "description": str(form.get("description", "")).strip() or None}), actor=principal.subject)
        except (HubError, ValidationError) as exc:
            return kit.back(f"/agencies/{member_id}", error=_problem(exc))
        return kit.back(f"/agencies/{member_id}", done=f"{sub.id} {sub.status}")

    @console.post("/subsystems/decide")
    async def subsystem_decide(request: Request) -> Response:
        """Approve (issuing credentials, shown once on the answer page), suspend or reject."""
        principal, token = kit.signed_in(request, ADMIN)
        form = await kit.checked_form(request, token)
        security = kit.get_hub().security
        subsystem_id, decision = str(form.get("subsystem_id", "")), str(form.get("decision", ""))
        reason = str(form.get("reason", "")).strip() or None
        member_id = subsystem_id.rsplit("/", 1)[0]
        try:
            if decision == "approve":
                issued = security.approve_subsystem(subsystem_id, actor=principal.subject)
                return _credentials_page(request, principal, token, member_id, subsystem_id, issued)
            if decision not in ("suspend", "reject"):
                return kit.back(f"/agencies/{member_id}", error=f"/decision: {decision!r} is not approve, "
                                                                f"suspend or reject")
            security.registry.decide(subsystem_id, DISABLED if decision == "suspend" else REJECTED,
                                     actor=principal.subject, reason=reason)  # audited there
            security.authenticator.forget()  # issued tokens are judged on the new status at once
        except HubError as exc:
            return kit.back(f"/agencies/{member_id}", error=_problem(exc))
        return kit.back(f"/agencies/{member_id}", done=f"{subsystem_id} {decision}")

    @console.post("/subsystems/rotate")
    async def subsystem_rotate(request: Request) -> Response:
        principal, token = kit.signed_in(request, ADMIN)
        form = await kit.checked_form(request, token)
        security = kit.get_hub().security
        subsystem_id = str(form.get("subsystem_id", ""))
        member_id = subsystem_id.rsplit("/", 1)[0]
        try:
            sub = security.registry.subsystem(subsystem_id)
            if sub.status != APPROVED:
                return kit.back(f"/agencies/{member_id}", error=f"{subsystem_id} is {sub.status}, not approved")
            client = security.credentials.for_subsystem(subsystem_id)
            if client is None:
                return kit.back(f"/agencies/{member_id}", error=f"{subsystem_id} has no client")
            issued = security.credentials.rotate(client.id, actor=principal.subject)  # audited there
        except HubError as exc:
            return kit.back(f"/agencies/{member_id}", error=_problem(exc))
        return _credentials_page(request, principal, token, member_id, subsystem_id, issued)

    def _credentials_page(request: Request, principal: Any, token: str, member_id: str, subsystem_id: str,
                          issued: Any) -> HTMLResponse:
        return kit.page(request, "credentials.html", principal=principal, token=token, member_id=member_id,
                        subsystem_id=subsystem_id, issued=issued.as_dict() if issued else None)

    # -- e-CMS departments ---------------------------------------------------------------
    @console.get("/departments")
    async def departments_page(request: Request) -> HTMLResponse:
        principal, token = kit.signed_in(request, ADMIN)
        hub = kit.get_hub()
        q = request.query_params
        if hub.ecms is None:
            return kit.page(request, "departments.html", principal=principal, token=token, departments=[],
                            has_secret={}, depth={}, configured=False, error=None, done=None)
        store = hub.ecms.store
        departments = store.departments()
        return kit.page(request, "departments.html", principal=principal, token=token, departments=departments,
                        has_secret={d.code: store.has_secret(d.code) for d in departments},
                        depth=store.queue_depths(), configured=True,
                        error=q.get("error"), done=q.get("done"))

    @console.post("/departments")
    async def department_add(request: Request) -> Response:
        principal, token = kit.signed_in(request, ADMIN)
        form = await kit.checked_form(request, token)
        hub = kit.get_hub()
        values = {k: str(form.get(k, "")).strip() for k in ("code", "ministry_code", "name_th", "name_en", "party",
                                                              "clearance")}
        if not (values["code"] and values["ministry_code"] and values["name_th"]):
            return kit.back("/departments", error="/code, /ministry_code and /name_th are required")
        try:
            department = hub.ecms.onboard(values["code"], values["ministry_code"], values["name_th"],
                                          name_en=values["name_en"] or None, party=values["party"] or None,
                                          clearance=values["clearance"] or "001")
        except (HubError, ValueError) as exc:
            return kit.back("/departments", error=_problem(exc))
        kit.audit("ecms.department_onboarded", principal, target=department.code, party=department.party)
        return kit.back("/departments", done=department.code)

    @console.post("/departments/{code}/secret")
    async def department_secret(request: Request, code: str) -> Response:
        principal, token = kit.signed_in(request, ADMIN)
        await kit.checked_form(request, token)
        store = kit.get_hub().ecms.store
        secret = secrets.token_urlsafe(24)
        try:
            store.set_secret(code, secret)
        except HubError as exc:
            return kit.back("/departments", error=_problem(exc))
        kit.audit("ecms.department_secret_renewed", principal, target=code)
        return kit.page(request, "credentials.html", principal=principal, token=token, member_id=None,
                        subsystem_id=code, issued={"client_id": code, "client_secret": secret})
